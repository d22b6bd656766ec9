"""The formats built from the call tree: collapsed stacks, speedscope's JSON
and the SVG flame graph, written by `pyrometer convert` (C writers)."""
import json
import math
import marshal
import os
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from conftest import run_python
from pyrometer import _engine

PROGRAM = '''
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def down(n):
    return 0 if n == 0 else 1 + down(n - 1)

class Box:
    def __init__(self, items):
        self.items = list(items)

    def total(self):
        return sum(len(str(i)) for i in self.items)

def main():
    fib(18)
    down(200)
    Box(range(300)).total()
    sorted(range(100), key=lambda x: -x)

main()
'''

SVG = "{http://www.w3.org/2000/svg}"


def pyrometer(*args):
    return run_python(["-m", "pyrometer", *args])


@pytest.fixture(scope="module")
def prof(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flame")
    script = folder / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM))
    out = folder / "prog.prof"
    r = pyrometer("run", "-o", str(out), str(script))
    assert r.returncode == 0, r.stderr
    stats, tree = _engine.load_profile(str(out))
    assert tree is not None
    return out, stats, tree


def convert(src, fmt, out, *options):
    r = pyrometer("convert", str(src), "-f", fmt, "-o", str(out), *options)
    assert r.returncode == 0, r.stderr
    return out


def frame_name(label):
    file, line, name = label
    if (file, line) == ("~", 0):
        return "{" + name[1:-1] + "}" if name.startswith("<") and name.endswith(">") else name
    return f"{name} ({file}:{line})"


def short_files(funcs):
    """{file: the name collapsed stacks give it}: <stdlib>/..., <site-packages>/...,
    the program's below the folder its files share."""
    def library(file):
        label, rest, lib = _engine.path_split(file)
        return label + rest if lib and label else None
    own = [f for f, _l, _n in funcs if f.startswith("/") and library(f) is None]
    root = os.path.commonpath([os.path.dirname(f) for f in own]) if own else ""
    return {f: library(f) or (f[len(root) + 1:] if root not in ("", "/") and f.startswith(root + "/")
                              else f) for f, _l, _n in funcs}


def paths(tree, full_paths=False):
    """{node: (frame name, ...) root first}, as collapsed stacks name them."""
    shown = short_files(tree["funcs"])
    out = {}
    for i, p in enumerate(tree["parent"]):
        file, line, name = tree["funcs"][tree["func"][i]]
        label = (file if full_paths else shown[file], line, name)
        name = frame_name(label).replace(";", ",").replace("\n", " ")
        out[i] = (out[p] if p >= 0 else ()) + (name,)
    return out


def total_self_us(tree):
    return math.fsum(tree["self"]) * 1e6


# ---- collapsed --------------------------------------------------------------

def parse_collapsed(text):
    lines = text.splitlines()
    assert text.endswith("\n") and all(lines)
    out = {}
    for line in lines:
        m = re.fullmatch(r"(.+) (\d+)", line)
        assert m, line
        frames = tuple(m.group(1).split(";"))
        assert all(frames), line
        assert frames not in out, "one line per path"
        out[frames] = int(m.group(2))
    return out


def test_collapsed(prof, tmp_path):
    src, stats, tree = prof
    lines = parse_collapsed(convert(src, "collapsed", tmp_path / "out.txt").read_text())
    assert all(v > 0 for v in lines.values())
    # the values add up to the total self time in microseconds, rounded once
    assert abs(sum(lines.values()) - total_self_us(tree)) <= 1
    # every line is a path of the tree, its value that path's self time
    by_path = {p: tree["self"][i] * 1e6 for i, p in paths(tree).items()}
    for frames, value in lines.items():
        assert frames in by_path, frames
        assert abs(value - by_path[frames]) < 1.0 + 1e-6
    # paths with a microsecond or more of self time all have their line
    for frames, us in by_path.items():
        if us >= 1.5:
            assert frames in lines
    names = {f for frames in lines for f in frames}
    assert any(n.startswith("fib (") and n.endswith(":2)") for n in names), names
    assert "{built-in method builtins.len}" in names or "{built-in method builtins.sorted}" in names
    assert any(n.startswith("Box.total (") for n in names) or any(n.startswith("total (") for n in names)
    assert "main (prog.py:15)" in names                      # the program's files below its folder


def test_collapsed_full_paths(prof, tmp_path):
    src, _stats, tree = prof
    out = tmp_path / "full.txt"
    r = pyrometer("convert", str(src), "-o", str(out), "-f", "collapsed", "--full-paths")
    assert r.returncode == 0, r.stderr
    lines = parse_collapsed(out.read_text())
    by_path = {p: tree["self"][i] * 1e6 for i, p in paths(tree, full_paths=True).items()}
    assert set(lines) <= set(by_path)
    assert any(f.endswith(f"{os.sep}prog.py:15)") and f.startswith("main (/") for p in lines for f in p)


def test_collapsed_paths_that_read_the_same_are_one_line(tmp_path):
    # one module in two virtualenvs: both read <site-packages>/m.py, so the
    # paths main;f and main;f are one line with both values
    funcs = [("/app/main.py", 1, "main"), ("/venv1/lib/python3.12/site-packages/m.py", 5, "f"),
             ("/venv2/lib/python3.12/site-packages/m.py", 5, "f"), ("/app/util.py", 3, "g")]
    parent, func, self_ = [-1, 0, 0, 1, 2], [0, 1, 2, 3, 3], [0.001, 0.002, 0.003, 0.004, 0.005]
    total = list(self_)
    for i in range(len(parent) - 1, 0, -1):
        total[parent[i]] += total[i]
    tree = {"pyrometer": "calltree", "version": 1, "funcs": funcs, "parent": parent, "func": func,
            "calls": [1] * 5, "self": self_, "total": total, "folded": False}
    out = tmp_path / "same.txt"
    _engine.write_collapsed(str(out), tree)
    assert out.read_text() == ("main (main.py:1) 1000\n"
                               "main (main.py:1);f (<site-packages>/m.py:5) 5000\n"
                               "main (main.py:1);f (<site-packages>/m.py:5);g (util.py:3) 9000\n")
    _engine.write_collapsed(str(out), tree, full_paths=True)
    assert len(parse_collapsed(out.read_text())) == 5


def test_collapsed_stacks_read_back_as_written(prof, tmp_path):
    src, _stats, tree = prof
    first, again = tmp_path / "first.txt", tmp_path / "again.txt"
    convert(src, "collapsed", first)
    back = _engine.read_profile(str(first))
    assert back["format"] == "collapsed"
    _engine.write_collapsed(str(again), back["tree"])
    assert again.read_text() == first.read_text()


def synthetic(names, selfs=None, parent=None):
    """A small tree whose functions have the given names, all in one chain."""
    n = len(names)
    selfs = selfs or [0.001] * n
    parent = parent if parent is not None else [i - 1 for i in range(n)]
    funcs = [("weird.py", i + 1, name) for i, name in enumerate(names)]
    total = list(selfs)
    for i in range(n - 1, -1, -1):
        if parent[i] >= 0:
            total[parent[i]] += total[i]
    stats = {f: (1, 1, s, s, {}) for f, s in zip(funcs, selfs)}
    tree = {"pyrometer": "calltree", "version": 1, "funcs": funcs, "parent": parent,
            "func": list(range(n)), "calls": [1] * n, "self": selfs, "total": total,
            "folded": False}
    return stats, tree


def test_collapsed_frame_names_have_no_separators(tmp_path):
    stats, tree = synthetic(["a;b", "line\nbreak", "cr\rhere", "<&\"'>", "ünï"])
    src = tmp_path / "weird.prof"
    _engine.dump_stats(str(src), stats, tree)
    out = convert(src, "collapsed", tmp_path / "weird.txt")
    lines = parse_collapsed(out.read_text(encoding="utf-8"))
    assert len(lines) == 5
    deepest = max(lines, key=len)
    assert deepest[0] == "a,b (weird.py:1)" and deepest[1] == "line break (weird.py:2)"
    assert deepest[2] == "cr here (weird.py:3)" and deepest[4] == "ünï (weird.py:5)"
    assert all(v == 1000 for v in lines.values())


def test_collapsed_rounding_keeps_the_sum(tmp_path):
    # a thousand paths of 0.4 us each: each alone would round to 0
    n = 1000
    stats, tree = synthetic([f"f{i}" for i in range(n)], [0.4e-6] * n, [-1] * n)
    src = tmp_path / "tiny.prof"
    _engine.dump_stats(str(src), stats, tree)
    lines = parse_collapsed(convert(src, "collapsed", tmp_path / "tiny.txt").read_text())
    assert sum(lines.values()) == round(n * 0.4)
    assert all(v == 1 for v in lines.values())


# ---- speedscope ---------------------------------------------------------------

UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_speedscope(doc):
    """The required fields and types of speedscope's file-format schema
    (src/lib/file-format-spec.ts), for a file of sampled profiles."""
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert isinstance(frames, list) and frames
    for f in frames:
        assert set(f) <= {"name", "file", "line", "col"}
        assert isinstance(f["name"], str)
        if "file" in f:
            assert isinstance(f["file"], str)
        for k in ("line", "col"):
            if k in f:
                assert is_number(f[k])
    assert isinstance(doc["profiles"], list) and doc["profiles"]
    for k, kind in (("name", str), ("exporter", str)):
        if k in doc:
            assert isinstance(doc[k], kind)
    if "activeProfileIndex" in doc:
        assert is_number(doc["activeProfileIndex"])
        assert 0 <= doc["activeProfileIndex"] < len(doc["profiles"])
    for p in doc["profiles"]:
        assert p["type"] == "sampled"
        assert isinstance(p["name"], str) and p["unit"] in UNITS
        assert is_number(p["startValue"]) and is_number(p["endValue"])
        assert p["endValue"] >= p["startValue"]
        assert isinstance(p["samples"], list) and isinstance(p["weights"], list)
        assert len(p["samples"]) == len(p["weights"])
        for stack in p["samples"]:
            assert isinstance(stack, list) and stack
            assert all(isinstance(i, int) and 0 <= i < len(frames) for i in stack)
        assert all(is_number(w) and w >= 0 for w in p["weights"])


@pytest.mark.parametrize("unit,scale", [("seconds", 1.0), ("microseconds", 1e6)])
def test_speedscope(prof, tmp_path, unit, scale):
    src, stats, tree = prof
    options = [] if unit == "seconds" else ["--unit", unit]
    doc = json.loads(convert(src, "speedscope", tmp_path / "out.json", *options).read_text())
    check_speedscope(doc)
    assert doc["exporter"].startswith("pyrometer@") and doc["name"] == src.name
    p = doc["profiles"][0]
    assert p["unit"] == unit and p["startValue"] == 0
    total = math.fsum(tree["self"]) * scale
    assert math.isclose(math.fsum(p["weights"]), total, rel_tol=1e-9)
    assert math.isclose(p["endValue"], total, rel_tol=1e-9)
    frames = doc["shared"]["frames"]
    assert len(frames) == len(tree["funcs"])
    for f, label in zip(frames, tree["funcs"]):
        if label[0] == "~":
            assert f == {"name": frame_name(label)}
        else:
            assert (f["name"], f["file"], f["line"]) == (label[2], label[0], label[1])
    # every sample is a path of the tree, weighted by its self time
    want = Counter()
    for i in range(len(tree["parent"])):
        if tree["self"][i] > 0:
            stack, at = [], i
            while at >= 0:
                stack.append(tree["func"][at])
                at = tree["parent"][at]
            want[tuple(reversed(stack))] += 1
    assert Counter(tuple(s) for s in p["samples"]) == want


def test_speedscope_escapes_names(tmp_path):
    stats, tree = synthetic(['quo"te', "back\\slash", "tab\tnl\n", "\x01ctl"])
    src = tmp_path / "weird.prof"
    _engine.dump_stats(str(src), stats, tree)
    doc = json.loads(convert(src, "speedscope", tmp_path / "weird.json").read_text())
    check_speedscope(doc)
    assert [f["name"] for f in doc["shared"]["frames"]] == ['quo"te', "back\\slash",
                                                             "tab\tnl\n", "\x01ctl"]


# ---- flame graph ---------------------------------------------------------------

def frames_of(svg):
    root = ET.parse(str(svg)).getroot()
    assert root.tag == SVG + "svg"
    group = [g for g in root.iter(SVG + "g") if g.get("id") == "frames"]
    assert len(group) == 1
    return root, list(group[0])


def test_flamegraph(prof, tmp_path):
    src, stats, tree = prof
    svg = convert(src, "flamegraph", tmp_path / "out.svg", "--min-width", "0")
    root, frames = frames_of(svg)
    scripts = list(root.iter(SVG + "script"))
    assert len(scripts) == 1
    code = scripts[0].text
    for fn in ("function init", "function zoom", "function resetZoom", "function back",
               "function search", "keydown"):
        assert fn in code
    text = svg.read_text()
    assert "<image" not in text and "href" not in text and "@import" not in text
    assert re.findall(r"https?://[^\s\"']+", text) == ["http://www.w3.org/2000/svg"]
    # one frame per path, and "all"
    assert len(frames) == len(tree["parent"]) + 1
    width = float(root.get("width"))
    inner = width - 20
    whole = sum(t for t, p in zip(tree["total"], tree["parent"]) if p < 0)
    parents = [int(g.get("data-p")) for g in frames]
    assert parents[0] == -1 and all(0 <= p < i for i, p in enumerate(parents) if i > 0)
    for g in frames:
        assert [c.tag for c in g] == [SVG + "title", SVG + "rect", SVG + "text"]
        title = g[0].text.split("\n")
        assert len(title) == 5
        assert title[2].startswith("calls: ") and title[3].startswith("total: ")
        assert title[4].startswith("self: ") and "%)" in title[3]
        rect = g[1]
        assert float(rect.get("width")) >= 0 and rect.get("fill").startswith("rgb(")
        # a child lies within its parent
    rects = [(float(g[1].get("x")), float(g[1].get("width"))) for g in frames]
    for i, p in enumerate(parents):
        if p >= 0:
            (x, w), (px, pw) = rects[i], rects[p]
            assert px - 0.02 <= x and x + w <= px + pw + 0.05
    assert rects[0] == (10.0, inner)
    # widths are total times
    titles = {}
    for g in frames[1:]:
        lines = g[0].text.split("\n")
        titles.setdefault(lines[0], []).append(float(g[1].get("width")))
    fib_widths = titles["fib"]
    fib_total = max(t for t, f in zip(tree["total"], tree["func"]) if tree["funcs"][f][2] == "fib")
    assert max(fib_widths) == pytest.approx(fib_total / whole * inner, abs=0.02)
    assert "down" in titles and "{built-in method builtins.sorted}" in titles


def test_flamegraph_leaves_out_narrow_paths(prof, tmp_path):
    src, stats, tree = prof
    _, all_frames = frames_of(convert(src, "flamegraph", tmp_path / "a.svg", "--min-width", "0"))
    _, default = frames_of(convert(src, "flamegraph", tmp_path / "b.svg"))
    _, wide = frames_of(convert(src, "flamegraph", tmp_path / "c.svg", "--min-width", "50"))
    _, none = frames_of(convert(src, "flamegraph", tmp_path / "d.svg", "--min-width", "5000"))
    assert len(all_frames) >= len(default) >= len(wide) > len(none) == 1
    for g in wide[1:]:
        assert float(g[1].get("width")) >= 50 - 0.01


def test_flamegraph_options_and_escaping(tmp_path):
    stats, tree = synthetic(["<lambda>", "a&b", 'q"uote', "\x01ctl"])
    src = tmp_path / "weird.prof"
    _engine.dump_stats(str(src), stats, tree)
    svg = convert(src, "flamegraph", tmp_path / "weird.svg", "--title", "Mine <&>",
                  "--width", "800")
    root, frames = frames_of(svg)
    assert root.get("width") == "800"
    title = [t for t in root.iter(SVG + "text") if t.get("id") == "title"][0]
    assert title.text == "Mine <&>"
    names = [g[0].text.split("\n")[0] for g in frames]
    assert names == ["all", "<lambda>", "a&b", 'q"uote', "\ufffdctl"]
    assert frames[1][0].text.split("\n")[1] == "weird.py:1"


def test_flamegraph_script_runs(prof, tmp_path):
    """The embedded script in a real browser: zoom, back, search, details."""
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                    "google-chrome"))), None)
    if chromium is None:
        pytest.skip("no Chromium to run the flame graph's script")
    src, stats, tree = prof
    svg = convert(src, "flamegraph", tmp_path / "out.svg")
    probe = r"""<script type="text/ecmascript"><![CDATA[
window.addEventListener('load', function () {
  var out = {};
  try {
    var gs = document.getElementById('frames').getElementsByTagName('g');
    var target = -1;
    for (var i = 0; i < gs.length; i++)
      if (gs[i].getElementsByTagName('title')[0].textContent.split('\n')[0] === 'fib') { target = i; break; }
    gs[target].dispatchEvent(new MouseEvent('click', {bubbles: true}));
    var shownNow = 0;
    for (var i = 0; i < gs.length; i++) if (gs[i].style.display !== 'none') shownNow++;
    out.zoomed = zoomed === target;
    out.shown = shownNow;
    out.total = gs.length;
    out.width = +gs[target].getElementsByTagName('rect')[0].getAttribute('width');
    out.unzoom = unzoomBtn.style.display;
    back();
    out.back = zoomed;
    window.prompt = function () { return '^down$'; };
    search();
    out.matched = matched.textContent;
    var pink = 0;
    for (var i = 0; i < gs.length; i++)
      if (gs[i].getElementsByTagName('rect')[0].getAttribute('fill') === 'rgb(230,0,230)') pink++;
    out.pink = pink;
    gs[target].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
    out.details = details.textContent;
  } catch (e) { out.error = String(e); }
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});
]]></script>
</svg>"""
    probed = tmp_path / "probe.svg"
    probed.write_text(svg.read_text().replace("</svg>", probe))
    try:
        r = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox",
                            "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Chromium did not run: {exc}")
    m = re.search(r'data-probe="([^"]*)"', r.stdout)
    if m is None:
        pytest.skip("Chromium gave no DOM: " + r.stderr[-300:])
    import html
    out = json.loads(html.unescape(m.group(1)))
    assert "error" not in out, out
    assert out["zoomed"] and out["unzoom"] == "" and out["back"] == 0
    assert out["width"] == pytest.approx(1180, abs=0.01)
    assert 1 < out["shown"] < out["total"]
    downs = sum(1 for f in tree["func"] if tree["funcs"][f][2] == "down")
    assert 0 < out["pink"] <= downs
    assert out["matched"].startswith("Matched: ") and "%" in out["matched"]
    assert out["details"].startswith("fib ") and "calls: " in out["details"]


# ---- what the writers refuse ----------------------------------------------------

@pytest.mark.parametrize("fmt", ["collapsed", "speedscope", "flamegraph"])
def test_cprofile_input_is_refused(tmp_path, fmt):
    import cProfile
    p = cProfile.Profile()
    p.enable()
    sorted(range(10))
    p.disable()
    src = tmp_path / "c.prof"
    p.dump_stats(str(src))
    out = tmp_path / f"out.{fmt}"
    r = pyrometer("convert", str(src), "-f", fmt, "-o", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no call tree" in lines[0], r.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("*pyrometer-tmp*"))


@pytest.mark.parametrize("fmt", ["collapsed", "speedscope", "flamegraph"])
def test_corrupt_tree_is_refused_and_nothing_overwritten(tmp_path, fmt):
    stats, tree = synthetic(["f", "g"])
    tree["parent"] = [1, -1]   # a parent after its child
    src = tmp_path / "bad.prof"
    src.write_bytes(marshal.dumps(stats) + marshal.dumps(tree))
    out = tmp_path / "out"
    out.write_text("old")
    r = pyrometer("convert", str(src), "-f", fmt, "-o", str(out))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "call tree" in r.stderr
    assert out.read_text() == "old"


@pytest.mark.parametrize("fmt,option,value", [
    ("speedscope", "--unit", "hours"),
    ("flamegraph", "--width", "10"),
    ("flamegraph", "--width", "wide"),
    ("flamegraph", "--min-width", "-1"),
    ("collapsed", "--width", "100"),
])
def test_bad_options_are_refused(prof, tmp_path, fmt, option, value):
    src = prof[0]
    out = tmp_path / "out"
    r = pyrometer("convert", str(src), "-f", fmt, "-o", str(out), option, value)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()


@pytest.mark.parametrize("write", ["write_collapsed", "write_speedscope", "write_flamegraph"])
def test_writers_refuse_malformed_trees(tmp_path, write):
    stats, tree = synthetic(["f", "g"])
    tree["func"] = [0, 5]
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="func"):
        getattr(_engine, write)(str(out), tree)
    assert not out.exists()
    with pytest.raises(ValueError):
        getattr(_engine, write)(str(out), {"not": "a tree"})


def test_empty_tree(tmp_path):
    stats, tree = synthetic([])
    for write, name in (("write_collapsed", "e.txt"), ("write_speedscope", "e.json"),
                        ("write_flamegraph", "e.svg")):
        getattr(_engine, write)(str(tmp_path / name), tree)
    assert (tmp_path / "e.txt").read_text() == ""
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc["profiles"][0]["samples"] == [] and doc["profiles"][0]["endValue"] == 0
    _, frames = frames_of(tmp_path / "e.svg")
    assert len(frames) == 1


def test_help_lists_the_formats():
    r = pyrometer("convert", "--help")
    for fmt in ("collapsed", "speedscope", "flamegraph", "--min-width", "--unit"):
        assert fmt in r.stdout
