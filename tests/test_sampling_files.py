"""Files of CPython 3.15's sampling profiler (`python -m profiling.sampling
run --pstats|--collapsed -o OUT`): its pstats dict with the ('__sampled__',)
marker and collapsed stacks, read by report, convert, merge and diff.

The first part crafts the files here (marshal.dumps, text) and runs on every
Python, hostile files included; the second runs the real 3.15 sampler (the
test environment .venvs/3.15 of this checkout, or this interpreter when it
is 3.15) on a small CPU-bound program."""
import json
import marshal
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_python
from pyrometer import _api, _convert, _engine

import test_html

ROOT = Path(__file__).resolve().parent.parent
MARKER = ("__sampled__",)


def pyrometer(*args, **kw):
    kw.setdefault("timeout", 120)
    return run_python(["-m", "pyrometer", *map(str, args)], **kw)


def one_error(r):
    """The run failed as bad input does: exit 2, one line on stderr."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, (r.returncode, r.stderr)
    assert lines[0].startswith("pyrometer: error: "), r.stderr
    return lines[0]


# ---- a sampled pstats dict, as 3.15's PstatsCollector shapes it ----------------
#
# cc: samples the function was running in; nc: samples it was on the stack
# in; tt, ct: those times the interval; callers: {caller: samples}.

INTERVAL = 0.001
MAIN, WORK, LEAF = ("/app/prog.py", 10, "main"), ("/app/prog.py", 4, "work"), ("/app/prog.py", 2, "leaf")


def sampled_stats(scale=1):
    raw = {MAIN: (2, 10, {}), WORK: (3, 8, {MAIN: 8}), LEAF: (5, 5, {WORK: 5})}
    return {k: (d * scale, c * scale, d * scale * INTERVAL, c * scale * INTERVAL,
                {ck: cv * scale for ck, cv in callers.items()})
            for k, (d, c, callers) in raw.items()}


def write_sampled(path, stats=None):
    data = dict(stats if stats is not None else sampled_stats())
    data[MARKER] = True
    path.write_bytes(marshal.dumps(data))
    return path


def write_traced(path):
    stats = {MAIN: (1, 1, 0.002, 0.010, {}), WORK: (4, 4, 0.003, 0.008, {MAIN: (4, 4, 0.003, 0.008)}),
             LEAF: (40, 40, 0.005, 0.005, {WORK: (40, 40, 0.005, 0.005)})}
    path.write_bytes(marshal.dumps(stats))
    return path


def test_the_marker_is_taken_out_and_remembered(tmp_path):
    path = write_sampled(tmp_path / "s.pstats")
    got = _engine.read_profile(str(path))
    assert got["sampled"] is True and got["unit"] == "seconds" and got["format"] == "prof"
    assert got["stats"] == sampled_stats() and got["tree"] is None
    assert _engine.load_profile(str(path)) == (sampled_stats(), None)
    # load_stats is marshal.load: the marker stays, for 3.15's pstats
    assert _engine.load_stats(str(path)) == marshal.loads(path.read_bytes())
    loaded = _api.load(path)
    assert isinstance(loaded, _api.SampledStats) and loaded.sampled and loaded.unit == "seconds"
    assert dict(loaded) == sampled_stats()
    assert _convert.load(path).sampled and not _convert.load(write_traced(tmp_path / "t")).sampled
    assert type(_api.load(tmp_path / "t")) is dict


@pytest.mark.parametrize("key, value", [
    (MARKER, False), (MARKER, 1), (MARKER, (1, 1, 0.0, 0.0, {})), (MARKER, None),
    (("__sampled__", 0), True), ("__sampled__", True), (("__SAMPLED__",), True),
    (("__sampled__", 0, "x"), True),
])
def test_anything_else_than_the_marker_is_refused(tmp_path, key, value):
    data = dict(sampled_stats())
    data[key] = value
    path = tmp_path / "odd.pstats"
    path.write_bytes(marshal.dumps(data))
    with pytest.raises(_engine.FormatError, match="is not a profile file"):
        _engine.read_profile(str(path))
    line = one_error(pyrometer("report", path))
    assert "__sampled__" in line or "__SAMPLED__" in line


def test_report_speaks_samples(tmp_path):
    path = write_sampled(tmp_path / "s.pstats")
    r = pyrometer("report", path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "         10 samples in 0.010 seconds" in lines
    # each column as wide as its title; a sample's share of all samples
    assert (" nsamples  tottime persample  cumtime persample      % filename:lineno(function)"
            in lines)
    assert "function calls" not in r.stdout and "ncalls" not in r.stdout
    assert "   Ordered by: cumulative time" in lines
    row = next(line for line in lines if line.endswith("(work)"))
    assert row.split()[:6] == ["8/3", "0.003", "0.000375", "0.008", "0.00267", "80.0"], row


@pytest.mark.parametrize("key, title, first", [
    ("samples", "sample count", "main"), ("nsamples", "sample count", "main"),
    ("psamples", "primitive call count", "leaf"), ("tottime", "internal time", "leaf"),
    ("calls", "sample count", "main"), ("name", "function name", "leaf"),
])
def test_report_sorts_by_sample_words(tmp_path, key, title, first):
    r = pyrometer("report", write_sampled(tmp_path / "s.pstats"), "--sort", key)
    assert r.returncode == 0, r.stderr
    assert f"   Ordered by: {title}" in r.stdout
    table = r.stdout.split("filename:lineno(function)\n", 1)[1]
    assert table.splitlines()[0].endswith(f"({first})"), table


def test_sample_sort_keys_are_for_sampled_profiles(tmp_path):
    line = one_error(pyrometer("report", write_traced(tmp_path / "t.prof"), "--sort", "samples"))
    assert "for sampled profiles" in line
    one_error(pyrometer("run", "--sort", "nsamples", "-c", "pass"))


def test_callers_subheading_in_sample_words():
    stats = {MAIN: (1, 2, 0.001, 0.002, {}), WORK: (1, 1, 0.001, 0.001, {MAIN: (1, 1, 0.001, 0.001)})}
    text = _engine.format_report(stats, mode="callers", sampled=True)
    assert "  nsamples  tottime  cumtime\n" in text     # over the counts, as ncalls
    assert ("    nsamples  tottime  cumtime\n"          # 3.15's own
            in _engine.format_report(stats, mode="callers", sampled=True, layout="pstats"))
    marked = dict(stats)
    marked[MARKER] = True          # the marker says it as well
    assert _engine.format_report(marked, mode="callers") == text
    assert "    ncalls  tottime  cumtime\n" in _engine.format_report(stats, mode="callers")


def test_convert_to_prof_keeps_the_marker(tmp_path):
    out = tmp_path / "out.prof"
    r = pyrometer("convert", write_sampled(tmp_path / "s.pstats"), "-f", "prof", "-o", out)
    assert r.returncode == 0, r.stderr
    data = marshal.loads(out.read_bytes())
    assert data.pop(MARKER) is True and data == sampled_stats()
    assert list(marshal.loads(out.read_bytes()))[-1] == MARKER     # last, as 3.15 writes it


def test_graph_writers_count_samples(tmp_path):
    src = write_sampled(tmp_path / "s.pstats")
    out = tmp_path / "s.callgrind"
    assert pyrometer("convert", src, "-f", "callgrind", "-o", out).returncode == 0
    text = out.read_text()
    assert "events: samples\n" in text and "summary: 10\n" in text
    dot = tmp_path / "s.dot"
    assert pyrometer("convert", src, "-f", "dot", "-o", dot).returncode == 0
    text = dot.read_text()
    assert "Total 10 samples." in text and "Total time" not in text and "\u00d7" not in text
    html = tmp_path / "s.html"
    assert pyrometer("convert", src, "-f", "html", "-o", html).returncode == 0
    data, _ = test_html.page_data(html)
    assert data["metric"] == {"name": "samples", "unit": "samples"} and data["unit"] == 1
    assert sorted(data["tt"]) == [2, 3, 5] and sorted(data["ct"]) == [5, 8, 10]


def test_stack_formats_need_stacks(tmp_path):
    line = one_error(pyrometer("convert", write_sampled(tmp_path / "s.pstats"), "-f", "flamegraph",
                               "-o", tmp_path / "x.svg"))
    assert "--collapsed" in line and not (tmp_path / "x.svg").exists()


def test_merge_sampled_keeps_the_marker(tmp_path):
    a, b = write_sampled(tmp_path / "a.pstats"), write_sampled(tmp_path / "b.pstats", sampled_stats(2))
    out = tmp_path / "all.prof"
    r = pyrometer("merge", a, b, "-o", out)
    assert r.returncode == 0, r.stderr
    data = marshal.loads(out.read_bytes())
    assert data.pop(MARKER) is True and data == sampled_stats(3)
    r = pyrometer("report", out)
    assert "         30 samples in 0.030 seconds" in r.stdout, r.stdout


def test_merge_and_diff_refuse_to_mix_samples_and_calls(tmp_path):
    s, t = write_sampled(tmp_path / "s.pstats"), write_traced(tmp_path / "t.prof")
    out = tmp_path / "out.prof"
    out.write_bytes(b"keep")
    line = one_error(pyrometer("merge", s, t, "-o", out))
    assert "a sampled profile" in line and "a traced profile" in line
    assert out.read_bytes() == b"keep"
    line = one_error(pyrometer("diff", t, s))
    assert "cannot diff" in line and "a sampled profile" in line
    stacks = tmp_path / "s.collapsed"
    stacks.write_text("main;work 3\n")
    line = one_error(pyrometer("merge", s, stacks, "-o", out))
    assert "sample counts only" in line and out.read_bytes() == b"keep"
    one_error(pyrometer("diff", stacks, t))


def test_diff_of_sampled_profiles(tmp_path):
    a, b = write_sampled(tmp_path / "a.pstats"), write_sampled(tmp_path / "b.pstats", sampled_stats(2))
    r = pyrometer("diff", a, b, "--sort", "samples")
    assert r.returncode == 0, r.stderr
    assert "Samples: 10 -> 20 (+10)" in r.stdout and "Function calls" not in r.stdout
    assert "nsamples" in r.stdout and "absolute change of samples" in r.stdout


# ---- collapsed stacks ------------------------------------------------------------

STACKS_315 = """\
tid:7;<frozen runpy>:_run_code:87;prog.py:main:13;prog.py:work:4;prog.py:leaf:2 30
tid:7;<frozen runpy>:_run_code:87;prog.py:main:13;prog.py:work:5 12
tid:7;<frozen runpy>:_run_code:87;prog.py:main:14 3
tid:9;<frozen runpy>:_run_code:87;prog.py:main:13;prog.py:work:4;prog.py:leaf:2 5
tid:7;<frozen runpy>:_run_code:87;prog.py:main:13;<GC> 2
"""
TOTAL_315 = 52


def write_text(path, text):
    path.write_text(text)
    return path


def test_read_315_collapsed_stacks(tmp_path):
    got = _engine.read_profile(str(write_text(tmp_path / "s.collapsed", STACKS_315)))
    assert got["format"] == "collapsed" and got["sampled"] and got["unit"] == "samples"
    stats = got["stats"]
    # the line is where the frame was: 3.15's pstats keys say the same
    leaf, work4, main13 = ("prog.py", 2, "leaf"), ("prog.py", 4, "work"), ("prog.py", 13, "main")
    assert stats[leaf][:4] == (35, 35, 35.0, 35.0) and stats[leaf][4] == {work4: 35}
    assert stats[work4][:2] == (0, 35) and stats[("prog.py", 5, "work")][:2] == (12, 12)
    assert stats[main13][:2] == (0, 49) and stats[("~", 0, "<GC>")][:2] == (2, 2)
    assert stats[("<frozen runpy>", 87, "_run_code")][:2] == (0, TOTAL_315)
    assert sum(v[0] for v in stats.values()) == TOTAL_315
    assert not any(k[2].startswith("tid") for k in stats)   # threads add up
    tree = got["tree"]
    assert tree["version"] == 2 and tree["metrics"][0]["name"] == "samples"
    assert sum(tree["metrics"][0]["self"]) == TOTAL_315
    assert set(tree["funcs"]) == set(stats)


def test_read_generic_and_own_collapsed_stacks(tmp_path):
    text = ("main;foo;bar 10\nmain;foo 5\r\n\n  main;baz 1  \n"
            "main (app.py:1);{built-in method builtins.len} 4\nmain;foo;bar 2\n")
    stats = _engine.read_profile(str(write_text(tmp_path / "g.folded", text)))["stats"]
    assert stats[("~", 0, "bar")][:2] == (12, 12)
    assert stats[("~", 0, "main")][:2] == (0, 18)
    assert stats[("app.py", 1, "main")][:2] == (0, 4)
    assert stats[("~", 0, "<built-in method builtins.len>")][:2] == (4, 4)
    # recursion: cumulative counts each sample once
    stats = _engine.read_profile(str(write_text(tmp_path / "r.folded", "f;g;f;g 3\nf 1\n")))["stats"]
    assert stats[("~", 0, "f")][:2] == (1, 4) and stats[("~", 0, "g")][:2] == (3, 3)


def test_our_collapsed_stacks_read_back(tmp_path):
    prog = write_text(tmp_path / "prog.py", textwrap.dedent("""\
        def leaf(n):
            return sum(i * i for i in range(n))

        def main():
            for _ in range(30):
                leaf(20000)
            len([1, 2])

        main()
        """))
    prof, folded = tmp_path / "p.prof", tmp_path / "p.folded"
    r = pyrometer("run", "-o", prof, prog)
    assert r.returncode == 0, r.stderr
    assert pyrometer("convert", prof, "-f", "collapsed", "-o", folded).returncode == 0
    back = _engine.read_profile(str(folded))
    tree = _engine.load_profile(str(prof))[1]
    written = sum(int(line.rsplit(" ", 1)[1]) for line in folded.read_text().splitlines())
    assert sum(v[0] for v in back["stats"].values()) == written
    # the same functions, their files named short (prog.py below its folder)
    shown = {(f if f.startswith(("~", "<")) else os.path.basename(f), line, name)
             for f, line, name in tree["funcs"]}
    assert set(back["tree"]["funcs"]) <= shown, set(back["tree"]["funcs"]) - shown
    assert any(k[2] == "leaf" and k[0] == "prog.py" for k in back["stats"])
    r = pyrometer("convert", prof, "-f", "collapsed", "-o", folded, "--full-paths")
    assert r.returncode == 0, r.stderr
    assert set(_engine.read_profile(str(folded))["tree"]["funcs"]) <= set(tree["funcs"])


def test_report_of_collapsed_stacks(tmp_path):
    path = write_text(tmp_path / "s.collapsed", STACKS_315)
    r = pyrometer("report", path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert f"         {TOTAL_315} samples" in lines and "seconds" not in r.stdout
    assert "     self    self%    cumul   cumul%  filename:lineno(function)" in lines
    assert "   Ordered by: cumulative samples" in lines
    rows = {line.split("  ")[-1]: line.split()[:4] for line in lines if "%  " in line}
    assert rows["prog.py:2(leaf)"] == ["35", "67.3%", "35", "67.3%"]
    assert rows["<frozen runpy>:87(_run_code)"] == ["0", "0.0%", "52", "100.0%"]
    assert rows["{GC}"] == ["2", "3.8%", "2", "3.8%"]
    r = pyrometer("report", path, "--sort", "tottime", "--limit", "1", "--callers")
    assert "Ordered by: direct samples" in r.stdout and "prog.py:2(leaf)" in r.stdout
    assert "prog.py:4(work)(35)" in r.stdout


def test_convert_collapsed_stacks_to_every_format(tmp_path):
    src = write_text(tmp_path / "s.collapsed", STACKS_315)
    out = {f: tmp_path / f"out.{f}" for f in
           ("collapsed", "speedscope", "flamegraph", "callgrind", "dot", "html", "prof")}
    for fmt, path in out.items():
        r = pyrometer("convert", src, "-f", fmt, "-o", path)
        assert r.returncode == 0, (fmt, r.stderr)
    lines = out["collapsed"].read_text().splitlines()
    assert sum(int(line.rsplit(" ", 1)[1]) for line in lines) == TOTAL_315
    assert "main (prog.py:13);work (prog.py:4);leaf (prog.py:2) 35" in "\n".join(lines)
    prof = json.loads(out["speedscope"].read_text())["profiles"][0]
    assert prof["unit"] == "none" and prof["endValue"] == TOTAL_315
    svg = out["flamegraph"].read_text()
    assert f"{TOTAL_315} samples in all" in svg and "calls:" not in svg.split("<script")[0]
    assert f"summary: {TOTAL_315}\n" in out["callgrind"].read_text()
    assert f"Total {TOTAL_315} samples" in out["dot"].read_text()
    data, _ = test_html.page_data(out["html"])
    assert data["metric"] == {"name": "samples", "unit": "samples"}
    # the .prof: 3.15's marker, and the stacks, which read back as they were
    stats = marshal.loads(out["prof"].read_bytes())
    assert stats.pop(MARKER) is True
    back = _engine.read_profile(str(out["prof"]))
    assert back["sampled"] and back["unit"] == "samples" and back["stats"] == stats
    assert back["stats"] == _engine.read_profile(str(src))["stats"]
    ours = pyrometer("report", src).stdout.split("\n", 1)[1]
    assert pyrometer("report", out["prof"]).stdout.split("\n", 1)[1] == ours


def test_html_page_of_samples(tmp_path):
    out = tmp_path / "s.html"
    r = pyrometer("convert", write_text(tmp_path / "s.collapsed", STACKS_315), "-f", "html",
                  "-o", out)
    assert r.returncode == 0, r.stderr
    if test_html.CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    dom = test_html.open_page(tmp_path, out, selftest=False)
    rows = dom.table("ftable")
    assert rows and any("leaf prog.py:2" in cells for cells in rows)      # the name first
    shown = " ".join(" ".join(cells) for cells in rows) + " " + " ".join(dom.ids.values())
    assert not re.search(r"\d (s|ms|µs|ns)\b|tottime|cumtime|ncalls", shown), shown
    assert f"{TOTAL_315} samples" in shown


def test_merge_and_diff_collapsed_stacks(tmp_path):
    a = write_text(tmp_path / "a.collapsed", STACKS_315)
    b = write_text(tmp_path / "b.collapsed", "main;work 7\nmain;other 1\n")
    out = tmp_path / "all.prof"
    r = pyrometer("merge", a, b, a, "-o", out)
    assert r.returncode == 0, r.stderr
    got = _engine.read_profile(str(out))
    assert got["sampled"] and got["unit"] == "samples"
    assert sum(v[0] for v in got["stats"].values()) == 2 * TOTAL_315 + 8
    assert sum(got["tree"]["metrics"][0]["self"]) == 2 * TOTAL_315 + 8
    assert got["stats"][("prog.py", 2, "leaf")][:2] == (70, 70)
    r = pyrometer("diff", a, out, "--limit", "3")
    assert r.returncode == 0, r.stderr
    assert f"Samples: {TOTAL_315} -> {2 * TOTAL_315 + 8} (+{TOTAL_315 + 8})" in r.stdout
    assert "self samples" in r.stdout and "Total time" not in r.stdout
    assert re.search(r"\+35 +\+100\.0% .* more +prog\.py:2\(leaf\)", r.stdout), r.stdout
    r = pyrometer("diff", a, out, "--fail-above", "50")
    assert r.returncode == 1 and "total samples +115.4% (52 -> 112): more" in r.stdout, r.stdout


HOSTILE = [
    ("bad_count", b"main;f 12x\n", "does not end with a sample count"),
    ("negative", b"main;f -3\n", "negative sample count"),
    ("fraction", b"main;f 1.5\n", "not a whole number"),
    ("huge", b"main;f 99999999999999999999999\n", "over 999999999999999"),
    ("no_stack", b"   12\n", "no stack before"),
    ("empty_frame", b"main;;f 3\n", "empty frame"),
    ("trailing_semicolon", b"main;f; 3\n", "empty frame"),
    ("later_line", b"main;f 3\nmain;g\n", "line 2 of its collapsed stacks"),
    ("blank", b"\n \n\t\n", "only blank lines"),
    ("zero", b"main;f 0\n", "no samples"),
    ("nul", b"main;f 3\nmain\x00g 4\n", "NUL byte"),
    ("garbage", bytes(range(1, 256)) * 8, "neither pstats' marshal data nor collapsed stacks"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a profile file"),
    ("sum_too_big", b"main 999999999999999\n" * 10, "over 2**53"),
    ("too_many_paths", b";".join([b"f"] * 2200000) + b" 1\n", "distinct call paths"),
]


@pytest.mark.parametrize("name, data, why", [pytest.param(*h, id=h[0]) for h in HOSTILE])
def test_hostile_collapsed_stacks(tmp_path, name, data, why):
    path = tmp_path / f"{name}.collapsed"
    path.write_bytes(data)
    with pytest.raises(_engine.FormatError) as e:
        _engine.read_profile(str(path))
    assert why in str(e.value) and "\n" not in str(e.value)
    out = tmp_path / "out.svg"
    out.write_bytes(b"keep")
    for args in (("report", path), ("convert", path, "-f", "flamegraph", "-o", out),
                 ("merge", path, "-o", out), ("diff", path, path)):
        line = one_error(pyrometer(*args))
        assert why in line, line
    assert out.read_bytes() == b"keep"


def test_odd_but_readable_collapsed_stacks(tmp_path):
    long_name = "x" * 3_000_000
    text = (f"main;{long_name} 2\n"                       # a long frame
            + ";".join(["f", "g"] * 50_000) + " 3\n"        # a deep stack
            + "main;caf\xe9 (m\xfcnchen.py:3) 1\n")          # not ASCII
    path = tmp_path / "odd.collapsed"
    path.write_bytes(text.encode() + b"main;\xff\xfe 4\n")   # not UTF-8
    got = _engine.read_profile(str(path))
    assert sum(v[0] for v in got["stats"].values()) == 10
    assert got["stats"][("~", 0, long_name)][:2] == (2, 2)
    assert got["stats"][("m\xfcnchen.py", 3, "caf\xe9")][:2] == (1, 1)
    assert got["stats"][("~", 0, "\\xff\\xfe")][:2] == (4, 4)
    assert max(got["stats"][("~", 0, "f")][:2]) == 3     # recursion counted once
    r = pyrometer("report", path, "--limit", "3")
    assert r.returncode == 0 and "10 samples" in r.stdout, r.stderr
    r = pyrometer("convert", path, "-f", "flamegraph", "-o", tmp_path / "odd.svg")
    assert r.returncode == 0, r.stderr


def test_not_a_file_is_refused(tmp_path):
    line = one_error(pyrometer("report", tmp_path))
    assert "cannot read" in line
    fifo = tmp_path / "fifo.collapsed"
    os.mkfifo(fifo)
    line = one_error(pyrometer("convert", fifo, "-f", "collapsed", "-o", tmp_path / "x"))
    assert "cannot read" in line


# ---- the real sampler of CPython 3.15 ----------------------------------------------

PROGRAM = '''
def leaf(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def middle(n):
    return sum(leaf(n) for _ in range(20))

def main():
    t = 0
    for _ in range(150):
        t += middle(3000)
    return t

main()
'''

PSTATS_315 = '''
import pstats, sys
s = pstats.Stats(sys.argv[1])
print(type(s).__name__)
s.sort_stats(*sys.argv[2:]).print_stats()
'''


def python_315():
    if sys.version_info[:2] == (3, 15):
        return Path(sys.executable)
    venv = ROOT / ".venvs" / "3.15" / "bin" / "python"
    return venv if venv.exists() else None


@pytest.fixture(scope="module")
def sampler(tmp_path_factory):
    """run(kind) -> the file 3.15's sampler wrote for PROGRAM (--pstats or
    --collapsed); skipped when there is no 3.15 or it may not sample."""
    python = python_315()
    if python is None:
        pytest.skip("no CPython 3.15 here (.venvs/3.15 of this checkout, or run on 3.15)")
    folder = tmp_path_factory.mktemp("sampler")
    prog = folder / "prog.py"
    prog.write_text(PROGRAM)
    made = {}

    def run(kind, n=0):
        if (kind, n) not in made:
            out = folder / f"run{n}.{kind}"
            r = subprocess.run([str(python), "-m", "profiling.sampling", "run", f"--{kind}",
                                "-o", str(out), str(prog)], capture_output=True, text=True,
                               timeout=300, cwd=folder)
            if r.returncode != 0 or not out.exists():
                pytest.skip(f"3.15's sampler could not run here (it needs ptrace rights): "
                            f"{(r.stderr.strip().splitlines() or ['no output'])[-1]}")
            made[kind, n] = out
        return made[kind, n]

    run.python = python
    return run


def test_real_pstats_report_as_315_prints_it(sampler):
    path = sampler("pstats")
    raw = marshal.loads(path.read_bytes())
    assert raw.pop(MARKER) is True
    total = sum(v[0] for v in raw.values())
    r = pyrometer("report", path, "--full-paths")   # the paths as pstats prints them
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^ +{total} samples in [0-9.]+ seconds$", r.stdout, re.M), r.stdout
    for name in ("(leaf)", "(middle)", "(main)"):
        assert name in r.stdout
    theirs = subprocess.run([str(sampler.python), "-c", PSTATS_315, str(path), "cumulative"],
                            capture_output=True, text=True, timeout=120)
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout.startswith("SampledStats\n")
    # in pstats' layout, the same text, but for the line pstats gets wrong
    # (it adds up the samples each function was on the stack in, "function
    # calls"); the header line naming the file is pstats'
    their = theirs.stdout.splitlines()[1:]
    text = _engine.format_report(_api.load(path), files=their[:1], sampled=True, layout="pstats")
    mine = [line for line in text.splitlines() if "samples in" not in line]
    assert mine == [line for line in their if "function calls" not in line]
    # in the report's columns, the same rows in the same order, and shares
    def rows(report, at=None):
        head, table = report.split("filename:lineno(function)\n", 1)
        at = at or len(head.splitlines()[-1])      # where the names start
        return [(row.split()[0], row[at:]) for row in table.strip("\n").splitlines()]
    assert rows(r.stdout) == rows(text, at=46)     # pstats: 9 + 4 * 9 + 1
    head, table = r.stdout.split("filename:lineno(function)\n", 1)
    at = len(head.splitlines()[-1])
    shares = [float(row[at - 7:at]) for row in table.strip("\n").splitlines()]
    assert shares == sorted(shares, reverse=True) and 50 < shares[0] <= 100, shares


def test_real_pstats_convert_merge_diff(sampler, tmp_path):
    a, b = sampler("pstats"), sampler("pstats", 1)
    prof = tmp_path / "a.prof"
    assert pyrometer("convert", a, "-f", "prof", "-o", prof).returncode == 0
    theirs = subprocess.run([str(sampler.python), "-c", PSTATS_315, str(prof), "tottime"],
                            capture_output=True, text=True, timeout=120)
    assert theirs.stdout.startswith("SampledStats\n") and "(leaf)" in theirs.stdout
    for fmt in ("callgrind", "dot", "html"):
        r = pyrometer("convert", a, "-f", fmt, "-o", tmp_path / f"a.{fmt}")
        assert r.returncode == 0, (fmt, r.stderr)
    assert "events: samples" in (tmp_path / "a.callgrind").read_text()
    out = tmp_path / "ab.prof"
    assert pyrometer("merge", a, b, "-o", out).returncode == 0
    counts = [sum(v[0] for k, v in marshal.loads(p.read_bytes()).items() if k != MARKER)
              for p in (a, b, out)]
    assert counts[2] == counts[0] + counts[1] and MARKER in marshal.loads(out.read_bytes())
    r = pyrometer("diff", a, b)
    assert r.returncode == 0 and f"Samples: {counts[0]} -> {counts[1]}" in r.stdout, r.stdout


def test_real_collapsed_report_convert_merge_diff(sampler, tmp_path):
    a, b = sampler("collapsed"), sampler("collapsed", 1)
    lines = a.read_text().splitlines()
    assert lines and lines[0].startswith("tid:")
    total = sum(int(line.rsplit(" ", 1)[1]) for line in lines)
    r = pyrometer("report", a)
    assert r.returncode == 0, r.stderr
    assert f"         {total} samples" in r.stdout.splitlines()
    for name in ("(leaf)", "(middle)", "(main)"):
        assert name in r.stdout
    for fmt in ("collapsed", "speedscope", "flamegraph", "callgrind", "dot", "html", "prof"):
        r = pyrometer("convert", a, "-f", fmt, "-o", tmp_path / f"a.{fmt}")
        assert r.returncode == 0, (fmt, r.stderr)
    again = (tmp_path / "a.collapsed").read_text().splitlines()
    assert sum(int(line.rsplit(" ", 1)[1]) for line in again) == total
    assert f"summary: {total}\n" in (tmp_path / "a.callgrind").read_text()
    theirs = subprocess.run([str(sampler.python), "-c", PSTATS_315, str(tmp_path / "a.prof")],
                            capture_output=True, text=True, timeout=120)
    assert theirs.stdout.startswith("SampledStats\n") and "(leaf)" in theirs.stdout
    out = tmp_path / "ab.prof"
    assert pyrometer("merge", a, b, "-o", out).returncode == 0
    total_b = sum(int(line.rsplit(" ", 1)[1]) for line in b.read_text().splitlines())
    merged = _engine.read_profile(str(out))
    assert sum(v[0] for v in merged["stats"].values()) == total + total_b
    r = pyrometer("diff", a, b)
    assert r.returncode == 0 and f"Samples: {total} -> {total_b}" in r.stdout, r.stdout
    one_error(pyrometer("diff", a, sampler("pstats")))        # counts against times
