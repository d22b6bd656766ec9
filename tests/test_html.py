"""`pyrometer convert IN -f html -o OUT.html`: the self-contained HTML report.

Pages are made from a profiled program (subprocess), a cProfile file, a line
profile and hand-built call trees, then opened in headless Chromium (skipped
when it is not installed).  The page records its errors in <html
data-errors>, sets <body data-ready> when rendered and, opened with
#selftest, clicks through the table, the icicle view and the panel itself
and reports in <body data-selftest>; the tests read those from the DOM.
"""
import html.parser
import json
import marshal
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib

import pytest

from conftest import PROGRAMS, run_python
from pyrometer import _convert, _engine, _lines

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

DATA_RE = re.compile(r'<script type="application/json" id="pyro-data">(.*?)</script>', re.S)


def page_data(path):
    """The JSON object the writer spliced into the page."""
    text = open(path, encoding="utf-8", errors="surrogateescape").read()
    m = DATA_RE.search(text)
    assert m, "no data block"
    return json.loads(m.group(1)), m.group(1)


def chromium(tmp_path, url, *args, size=(1400, 900), scrollbars=False):
    profile_dir = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={profile_dir}",
           f"--window-size={size[0]},{size[1]}", *args, url]
    if not scrollbars:
        cmd.insert(1, "--hide-scrollbars")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


class Dom(html.parser.HTMLParser):
    """The attributes of <html>, <body> and <canvas>, and the text and titles
    of the rendered table rows, from Chromium's --dump-dom."""

    def __init__(self, text):
        super().__init__()
        self.tags = {}
        self.rows = []          # [[cell text]] of visible tr.r rows of the function table
        self.cell_titles = []   # [[cell title]] of the same rows
        self.ids = {}           # id -> text
        self.scripts = 0
        self._row = self._cell = self._id = None
        self._table = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("html", "body", "canvas") and tag not in self.tags:
            self.tags[tag] = a
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self._table = a.get("id") or a.get("class")
        if tag == "tr" and "r" in (a.get("class") or "").split() and "hidden" not in a:
            self._row = []
            self.rows.append((self._table, self._row))
            self.cell_titles.append((self._table, []))
        if tag == "td" and self._row is not None:
            self._cell = []
            self.cell_titles[-1][1].append(a.get("title"))
        if a.get("id"):
            self._id = a["id"]
            self.ids[self._id] = ""

    def handle_endtag(self, tag):
        self._id = None          # the text of an id'd element ends at its first end tag
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        if tag == "tr":
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._id is not None:
            self.ids[self._id] += data

    def table(self, name):
        return [cells for t, cells in self.rows if t == name]

    def titles(self, name):
        return [titles for t, titles in self.cell_titles if t == name]


def std_label(key):
    """pstats' func_std_string."""
    if key[:2] == ("~", 0):
        name = key[2]
        return "{%s}" % name[1:-1] if name.startswith("<") and name.endswith(">") else name
    return "%s:%d(%s)" % key


def open_page(tmp_path, page, selftest=True, size=(1400, 900), scrollbars=False):
    url = "file://" + str(page) + ("#selftest" if selftest else "")
    dom = Dom(chromium(tmp_path, url, "--dump-dom", size=size, scrollbars=scrollbars))
    html_attrs, body = dom.tags["html"], dom.tags["body"]
    assert html_attrs.get("data-errors") == "[]", html_attrs.get("data-errors")
    assert float(body["data-ready"]) > 0
    if selftest:
        assert body.get("data-selftest") == "ok", body.get("data-selftest")
    return dom


def convert(src, out, fmt="html"):
    return run_python(["-m", "pyrometer", "convert", str(src), "-f", fmt, "-o", str(out)])


# ---- inputs ---------------------------------------------------------------

@pytest.fixture(scope="module")
def our_prof(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "objects.prof"
    code = f"import runpy; runpy.run_path({str(PROGRAMS / 'objects.py')!r})['main']()"
    r = run_python(["-m", "pyrometer", "run", "-o", str(path), "-c", code])
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture(scope="module")
def cprofile_prof(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    path = d / "recursion.cprofile.prof"
    prog = d / "prog.py"
    prog.write_text(f"import runpy\nrunpy.run_path({str(PROGRAMS / 'recursion.py')!r})['main']()\n")
    r = run_python(["-m", "cProfile", "-o", str(path), str(prog)])
    assert r.returncode == 0, r.stderr
    return path


LINE_PROGRAM = '''
    import json

    @profile
    def crunch(n):
        total = 0
        for i in range(n):
            total += i * i          # the hot line
        text = json.dumps([total])
        return len(text)

    @profile
    def never_called():
        return 1

    for _ in range(3):
        crunch(20000)
'''


@pytest.fixture(scope="module")
def line_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    prog = d / "lineprog.py"
    prog.write_text(textwrap.dedent(LINE_PROGRAM))
    out = d / "lineprog.lines"
    r = run_python(["-m", "pyrometer", "run", "--lines", "-o", str(out), str(prog)])
    assert r.returncode == 0, r.stderr
    assert _lines.is_line_file(out)
    return out


def small_tree_profile():
    """A pstats dict and, by hand, its call tree (docs/tree-format.md):
    main -> a -> c, main -> b -> c, c -> <built-in len>."""
    main, a, b, c = (("app.py", 1, "main"), ("app.py", 10, "a"), ("app.py", 20, "b"),
                     ("app.py", 30, "c"))
    ln = ("~", 0, "<built-in method builtins.len>")
    stats = {
        main: (1, 1, 0.1, 1.0, {}),
        a: (1, 1, 0.2, 0.5, {main: (1, 1, 0.2, 0.5)}),
        b: (2, 2, 0.1, 0.4, {main: (2, 2, 0.1, 0.4)}),
        c: (5, 5, 0.55, 0.6, {a: (3, 3, 0.29, 0.3), b: (2, 2, 0.26, 0.3)}),
        ln: (5, 5, 0.05, 0.05, {c: (5, 5, 0.05, 0.05)}),
    }
    funcs = [main, a, b, c, ln]
    #            0     1  2  3  4  5  6
    parent = [-1, 0, 0, 1, 2, 3, 4]
    func = [0, 1, 2, 3, 3, 4, 4]
    calls = [1, 1, 2, 3, 2, 3, 2]
    self_ = [0.1, 0.2, 0.1, 0.27, 0.28, 0.03, 0.02]
    total = [1.0, 0.5, 0.4, 0.3, 0.3, 0.03, 0.02]
    tree = {"pyrometer": "calltree", "version": 1, "funcs": funcs, "parent": parent,
            "func": func, "calls": calls, "self": self_, "total": total, "folded": False}
    return stats, tree


def template():
    return _convert._html_template()


# ---- the writer's output ----------------------------------------------------

def test_template_is_installed_with_one_marker():
    text = template()
    assert text.count("@PYROMETER_DATA@") == 1
    # self-contained: no network, no external script, style or font
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text)
    assert "@import" not in text and "url(" not in text
    assert "default-src 'none'" in text


def test_data_block_of_a_real_program(our_prof, tmp_path):
    out = tmp_path / "objects.html"
    # by default the page folds the imports; with --show-imports it holds
    # the file's statistics exactly
    r = convert(our_prof, out)
    assert r.returncode == 0, r.stderr
    folded, _raw = page_data(out)
    r = run_python(["-m", "pyrometer", "convert", str(our_prof), "-o", str(out), "--show-imports"])
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == f"pyrometer: html written to {out}"
    data, _raw = page_data(out)
    stats = _convert.load(our_prof).stats
    assert data["kind"] == "funcs" and data["n"] == len(stats)
    names = set(data["fn"][:data["n"]])
    assert {k[2] for k in stats} == names
    i = data["fn"].index("shifted")
    key = next(k for k in stats if k[2] == "shifted")
    assert data["nc"][i] == stats[key][1] and data["cc"][i] == stats[key][0]
    assert abs(data["tt"][i] * data["unit"] - stats[key][2]) < 1e-8
    assert sum(data["ncal"]) == len(data["ca"]) == sum(len(v[4]) for v in stats.values())
    assert data["meta"]["file"] == str(our_prof)
    if any(k[2] == "_find_and_load" for k in stats):
        assert folded["n"] < data["n"]
        assert any(name.startswith("<import") for name in folded["fn"])
        assert "_find_and_load" not in folded["fn"]


def test_tree_json_maps_nodes_to_functions(tmp_path):
    stats, tree = small_tree_profile()
    out = tmp_path / "tree.html"
    _engine.write_html(str(out), template(), stats=stats, tree=tree, meta={"file": "t.prof"})
    data, _ = page_data(out)
    t = data["tree"]
    assert t["folded"] is False
    parents = [i - d if d else -1 for i, d in enumerate(t["pd"])]
    assert parents == tree["parent"]
    keys = [(data["files"][data["ff"][f]], data["fl"][f], data["fn"][f]) for f in t["func"]]
    assert keys == [tree["funcs"][f] for f in tree["func"]]
    assert t["total"] == [round(x * 1e9) for x in tree["total"]]


def test_tree_functions_missing_from_stats_are_named(tmp_path):
    stats, tree = small_tree_profile()
    extra = ("gone.py", 5, "only_in_tree")
    tree["funcs"].append(extra)
    tree["func"][-1] = len(tree["funcs"]) - 1
    out = tmp_path / "extra.html"
    _engine.write_html(str(out), template(), stats=stats, tree=tree)
    data, _ = page_data(out)
    assert data["n"] == len(stats) and data["fn"][len(stats):] == ["only_in_tree"]


@pytest.mark.parametrize("damage, message", [
    (lambda t: t.update(parent=[-1, 5, 0, 1, 2, 3, 4]), "a parent is -1 or a node before"),
    (lambda t: t.update(func=[0, 1, 2, 3, 3, 4, 99]), "not an index of its 5 funcs"),
    (lambda t: t.update(calls=[1, 1]), "has 7 items but its 'calls' has 2"),
    (lambda t: t.pop("total"), "it has no 'total'"),
    (lambda t: t.update(self=["x"] * 7), "not a time in seconds"),
])
def test_damaged_tree_is_refused(tmp_path, damage, message):
    stats, tree = small_tree_profile()
    damage(tree)
    out = tmp_path / "bad.html"
    with pytest.raises(_engine.FormatError, match=message):
        _engine.write_html(str(out), template(), stats=stats, tree=tree)
    assert not out.exists()


HOSTILE = [
    "</script><script>document.title='pwned'</script>",
    "<!--", "<script>", "a&amp;b", "quote\"back\\slash", "line\u2028sep\u2029",
    "<img src=x onerror=\"document.title='pwned'\">", "\x00\x1f ctrl", "snow\u2603man \U0001F600",
    "</SCRIPT >", "lone \ud800 surrogate",
]


def hostile_stats():
    stats = {}
    prev = None
    for i, name in enumerate(HOSTILE):
        key = (f"/tmp/</script>{i}\udcff.py", i + 1, name)
        callers = {prev: (1, 1, 0.001, 0.002)} if prev else {}
        stats[key] = (1, 1, 0.001 * (i + 1), 0.002 * (i + 1), callers)
        prev = key
    return stats


def test_hostile_names_are_escaped(tmp_path):
    out = tmp_path / "hostile.html"
    _engine.write_html(str(out), template(), stats=hostile_stats(),
                       meta={"file": "</script><b>x</b>"})
    data, raw = page_data(out)
    # nothing in the block can end it or open a comment or a tag
    assert "<" not in raw and ">" not in raw and "&" not in raw
    assert "\u2028" not in raw and "\u2029" not in raw
    assert data["fn"] == HOSTILE[:-1] + ["lone \ufffd surrogate"]
    assert data["files"][0] == "/tmp/</script>0\\xff.py"    # the byte that was not UTF-8
    assert data["meta"]["file"] == "</script><b>x</b>"


@needs_chromium
def test_hostile_names_in_the_browser(tmp_path):
    out = tmp_path / "hostile.html"
    _engine.write_html(str(out), template(), stats=hostile_stats(), meta={"file": "</script>x"})
    dom = open_page(tmp_path, out)
    assert dom.scripts == 3                       # the page's own three, no injected one
    shown = [cells[5] for cells in dom.table("ftable")]
    labels = [titles[5] for titles in dom.titles("ftable")]
    assert len(labels) == len(HOSTILE)
    for name in HOSTILE[:7] + HOSTILE[8:-1]:     # shown as text, as they are, the name first
        assert any(label.endswith(f"({name})") for label in labels), name
        assert any(text.startswith(name + " ") for text in shown), name
    assert dom.ids["heading"] == "</script>x"


# ---- in the browser -----------------------------------------------------------

@needs_chromium
def test_real_program_in_the_browser(our_prof, tmp_path):
    out = tmp_path / "objects.html"
    assert convert(our_prof, out).returncode == 0
    tree = page_data(out)[0]["tree"]
    # the page's tree is the file's, its imports folded
    shown, folded, _n = _engine.fold_imports(_engine.load_profile(str(our_prof))[1])
    assert tree is not None and len(tree["func"]) == len(folded["func"])
    dom = open_page(tmp_path, out)
    assert dom.tags["body"]["data-kind"] == "funcs"
    assert "estimated" not in dom.ids["fl-note"]                  # the real call tree
    rows = dom.table("ftable")
    assert len(rows) >= 5
    # the table is sorted by cumtime, of the functions the page shows (imports folded)
    top = max(shown, key=lambda k: shown[k][3])
    labels = [titles[5] for titles in dom.titles("ftable")]      # the whole name on hover
    assert std_label(top) in labels, (std_label(top), labels[:8])
    assert all(len(cells) == 6 for cells in rows)
    assert int(dom.tags["canvas"]["data-drawn"]) >= 3          # the icicle view is drawn
    assert dom.ids.get("rel-title")                              # callers/callees of the selection
    assert dom.table("rel")                                      # with rows


@needs_chromium
def test_cprofile_file_in_the_browser(cprofile_prof, tmp_path):
    out = tmp_path / "cprofile.html"
    r = convert(cprofile_prof, out)
    assert r.returncode == 0, r.stderr
    assert page_data(out)[0]["tree"] is None
    dom = open_page(tmp_path, out)
    assert "estimated from caller" in dom.ids["fl-note"]
    assert int(dom.tags["canvas"]["data-drawn"]) >= 3
    assert any("recursion.py" in cells[5] for cells in dom.table("ftable"))


@needs_chromium
def test_call_tree_in_the_browser(tmp_path):
    stats, tree = small_tree_profile()
    out = tmp_path / "tree.html"
    _engine.write_html(str(out), template(), stats=stats, tree=tree, meta={"file": "t.prof"})
    dom = open_page(tmp_path, out)
    assert "click to zoom" in dom.ids["fl-note"] and "estimated" not in dom.ids["fl-note"]
    # all, main, a, b, c, c, len, len: every node is wide enough to draw
    assert int(dom.tags["canvas"]["data-drawn"]) == 8
    assert len(dom.table("ftable")) == 5


@needs_chromium
def test_line_profile_in_the_browser(line_file, tmp_path):
    out = tmp_path / "lines.html"
    r = convert(line_file, out)
    assert r.returncode == 0, r.stderr
    data, _ = page_data(out)
    assert data["kind"] == "lines"
    assert {f["name"] for f in data["functions"]} >= {"crunch"}
    dom = open_page(tmp_path, out)
    assert dom.tags["body"]["data-kind"] == "lines"
    rows = [cells for t, cells in dom.rows if t == "src"]
    start = next(i for i, cells in enumerate(rows) if cells[-1].startswith("def crunch"))
    crunch = rows[start - 1:start + 6]          # from "@profile" to "return len(text)"
    assert crunch[-1][-1].strip() == "return len(text)"
    hot = [cells for cells in crunch if "the hot line" in cells[-1]]
    assert hot and int(hot[0][1].replace(",", "")) == 60000    # hits of the loop body
    assert float(hot[0][4]) > 5                                  # a share of the time
    assert abs(sum(float(c[4]) for c in crunch if c[4]) - 100) < 1   # % Time adds up


@needs_chromium
def test_virtualised_table_with_many_functions(tmp_path):
    stats = {}
    for i in range(20000):
        key = (f"/src/mod{i % 50}.py", i, f"f{i}")
        stats[key] = (i % 7 + 1, i % 7 + 1, i * 1e-6, i * 2e-6, {})
    out = tmp_path / "many.html"
    _engine.write_html(str(out), template(), stats=stats, meta={})
    dom = open_page(tmp_path, out)
    rows = dom.table("ftable")
    assert 10 < len(rows) < 120                  # only what is visible is rendered
    # sorted by cumtime; the name first, then the file below the program's folder
    assert rows[0][5] == "f19999 mod49.py:19999"
    assert dom.titles("ftable")[0][5] == "/src/mod49.py:19999(f19999)"


def png_size_and_colours(path):
    """(width, height, distinct pixel values) of a PNG, read with zlib: a
    blank page has a handful, a drawn report hundreds.  The count is of the
    filtered rows (no unfiltering in pure Python within a test's time), which
    is enough to tell a drawn page from an empty one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    pixels = zlib.decompress(idat)
    channels = {2: 3, 6: 4}[colour_type]
    assert depth == 8 and len(pixels) == h * (1 + w * channels)    # every row there
    return w, h, len(set(pixels[i:i + 3] for i in range(0, min(len(pixels), 4_000_000), 3)))


@pytest.fixture(scope="module")
def our_page(our_prof, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "objects.html"
    assert convert(our_prof, out).returncode == 0
    return out


@needs_chromium
@pytest.mark.parametrize("size", [(1024, 768), (1280, 800)])
def test_layout_self_test_at_window_size(our_page, tmp_path, size):
    # the self-test checks names shown first and whole, the callers/callees
    # panel within its width, shares in the zoom, search and the square map;
    # scroll bars shown, as a person's browser has them
    dom = open_page(tmp_path, our_page, size=size, scrollbars=True)
    assert dom.tags["body"]["data-selftest"] == "ok"


@needs_chromium
@pytest.mark.parametrize("size, view", [((1024, 768), ""), ((1280, 800), "#squares")])
def test_screenshot(our_page, tmp_path, size, view):
    shot = tmp_path / "shot.png"
    chromium(tmp_path, "file://" + str(our_page) + view, f"--screenshot={shot}", size=size)
    assert shot.stat().st_size > 20_000
    w, h, colours = png_size_and_colours(shot)
    assert (w, h) == size
    assert colours > 50          # text, the table and the call tree, not a blank page


def test_short_file_names_in_the_page(tmp_path):
    files = ["/usr/lib/python3.12/json/__init__.py", "/home/u/app/main.py",
             "/home/u/app/pkg/util.py", "/v/lib/python3.12/site-packages/flask/app.py", "~"]
    stats = {(f, 1 if f != "~" else 0, f"f{i}"): (1, 1, 0.1, 0.1, {}) for i, f in enumerate(files)}
    out = tmp_path / "short.html"
    _engine.write_html(str(out), template(), stats=stats)
    data, _ = page_data(out)
    shown = dict(zip(data["files"], data["short"]))
    assert shown == {files[0]: "<stdlib>/json/__init__.py", files[1]: "main.py",
                     files[2]: "pkg/util.py", files[3]: "<site-packages>/flask/app.py", "~": "~"}


# ---- bad input ------------------------------------------------------------------

def one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("pyrometer: error:"), r.stderr
    return lines[0]


def test_bad_inputs_exit_2_and_leave_the_output(tmp_path, line_file):
    out = tmp_path / "keep.html"
    out.write_text("keep")
    text = tmp_path / "notes.txt"
    text.write_text("not a profile\n")
    truncated = tmp_path / "cut.lines"
    truncated.write_bytes(_engine.LINES_MAGIC + b"{\x00\x00")
    wrong_shape = tmp_path / "shape.lines"
    wrong_shape.write_bytes(_engine.LINES_MAGIC + marshal.dumps({"unit": 1e-9, "functions": [1]}))
    cases = {
        tmp_path / "missing.prof": "cannot read",
        text: "is not a profile",
        truncated: "damaged",
        wrong_shape: "is not a line profile",
    }
    for src, message in cases.items():
        line = one_error_line(convert(src, out))
        assert message in line, line
        assert out.read_text() == "keep"
    line = one_error_line(convert(line_file, out, fmt="prof"))
    assert "is a line profile: it converts to html" in line
    line = one_error_line(convert(line_file, tmp_path / "no" / "such" / "dir.html"))
    assert "no such directory" in line
    assert out.read_text() == "keep"
    assert not [p for p in os.listdir(tmp_path) if "pyrometer-tmp" in p]


def test_write_html_refuses_what_is_not_a_profile(tmp_path):
    out = tmp_path / "x.html"
    with pytest.raises(_engine.FormatError, match="not a pstats dict"):
        _engine.write_html(str(out), template(), stats={("a", 1, "f"): (1, 1, 0.1)})
    with pytest.raises(_engine.FormatError, match="not a line profile"):
        _engine.write_html(str(out), template(), lines={"unit": 0, "functions": []})
    with pytest.raises(ValueError, match="data marker"):
        _engine.write_html(str(out), "<html></html>", stats={})
    with pytest.raises(TypeError):
        _engine.write_html(str(out), template())
    with pytest.raises(OSError) as info:
        _engine.write_html(str(tmp_path / "none" / "x.html"), template(), stats={})
    assert info.value.filename == str(tmp_path / "none" / "x.html")
    assert not out.exists()


def test_line_files_round_trip(tmp_path):
    stats = {"unit": 1e-9, "meta": {"clock": "tsc"},
             "functions": [{"file": "a.py", "line": 3, "name": "f",
                            "timings": [(3, 1, 10), (4, 100, 12345)], "source": ["def f():", "  x"]},
                           {"file": "b.py", "line": 1, "name": "g", "timings": [], "source": None}]}
    path = tmp_path / "r.lines"
    _lines.write(path, stats)
    assert _lines.is_line_file(path)
    assert _lines.load(path) == stats
    with pytest.raises(ValueError):
        _lines.write(path, {"unit": 1e-9, "functions": [{"file": "a.py"}]})
    assert _lines.load(path) == stats            # the failed write left the file alone
