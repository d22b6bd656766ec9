"""Line profiling: exact hits against CPython's own line events, the seed's
Julia-set counts, line_profiler's report layout, saved files, bad input."""
import io
import json
import marshal
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyrometer import _engine, _lines

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAM = HERE / "programs" / "lines_prog.py"
JULIA = ROOT / "examples" / "julia.py"

# Runs lines_prog's main() with line counting on the selected code objects,
# either through a sys.settrace reference (CPython's own line events, on
# every thread) or through pyrometer, and prints {"qualname:line": hits}.
DRIVER = r'''
import json, runpy, sys, threading, types
which, prog = sys.argv[1], sys.argv[2]
ns = runpy.run_path(prog, run_name="lines_prog")

def resolve(name):
    obj = ns
    for part in name.split("."):
        obj = obj[part] if isinstance(obj, dict) else vars(obj)[part]
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        obj = obj.fget
    return obj.__code__

def with_nested(code, prefix):
    found = [(code, prefix)]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            found += with_nested(c, prefix + "." + c.co_name)
    return found

codes = {}
for name in ns["SELECTED"]:
    for code, label in with_nested(resolve(name), name):
        codes[code] = label

hits = {}
if which == "reference":
    def tracer(frame, event, arg):
        if frame.f_code not in codes:
            return None
        def local(frame, event, arg):
            if event == "line":
                key = "%s:%d" % (codes[frame.f_code], frame.f_lineno)
                hits[key] = hits.get(key, 0) + 1
            return local
        return local(frame, event, arg)
    threading.settrace(tracer)
    sys.settrace(tracer)
    ns["main"]()
    sys.settrace(None)
    threading.settrace(None)
else:
    import pyrometer
    prof = pyrometer.LineProfiler()
    for code, label in codes.items():
        prof.add_code(code, label)
    with prof:
        ns["main"]()
    for f in prof.get_stats()["functions"]:
        for line, n, t in f["timings"]:
            assert t >= 0, (f["name"], line, t)
            if n:
                hits["%s:%d" % (f["name"], line)] = n
print(json.dumps(hits, sort_keys=True))
'''


def run(args, **kw):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=300, **kw)


def counted(which):
    r = run(["-c", DRIVER, which, PROGRAM])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_hits_equal_cpython_line_events():
    ref = counted("reference")
    ours = counted("pyrometer")
    assert ref, "the reference saw no line events"
    # every construct of the program is in the comparison
    for name in ("loops", "comprehensions", "counter", "exceptions", "with_blocks",
                 "recursive", "nested.inner", "threaded.work", "Shapes.grow", "Shapes.area"):
        assert any(k.startswith(name + ":") for k in ref), name
    assert ours == ref


def test_hits_stable_across_runs():
    assert counted("pyrometer") == counted("pyrometer")


def julia_hits(tmp_path):
    out = tmp_path / "julia.lines"
    r = run(["-m", "pyrometer", "run", "--lines-of", "calc_point_val", "-o", out, JULIA])
    assert r.returncode == 0, r.stderr
    stats = _lines.load(out)
    (fn,) = stats["functions"]
    return fn, {line: hits for line, hits, _ in fn["timings"]}


def test_julia_seed_counts(tmp_path):
    """The article's Hits column (seed 004): calc_point_val over 100x100 points."""
    fn, hits = julia_hits(tmp_path)
    src = fn["source"]
    line_of = {text.strip(): fn["line"] + i for i, text in enumerate(src)}
    expect = {
        "no_iter = 0": 10000,
        "val = ((x_val ** 2 + y_val ** 2) ** (1/2))": 2279663,
        "if val < thresh:": 2279663,
        "no_iter += 1": 2278634,
        "val = val + ((x_center ** 2 + y_center ** 2) ** (1/2))": 2278634,
        "if no_iter >= max_iters:": 2278634,
        "return no_iter": 10000,
    }
    for text, n in expect.items():
        assert hits[line_of[text]] == n, text
    breaks = [hits.get(fn["line"] + i) for i, text in enumerate(src) if text.strip() == "break"]
    # 3.9's compiler threads the jump of `else: break` past the break, so
    # CPython reports no line event there (the settrace test covers that
    # hits follow CPython's events on every version).
    assert breaks == ([1029, 8971] if sys.version_info >= (3, 10) else [None, 8971])
    # `while True:` has the line events the running version reports: once per
    # loop entry before 3.8-style jump elimination, once per iteration after.
    assert hits.get(line_of["while True:"]) in (None, 10000, 2279663)


STARTED_INSIDE = r'''
import json, pyrometer

def helper(prof):
    prof.enable()

def outer(prof, n):
    helper(prof)
    total = 0
    for i in range(n):
        total += i
    return total

prof = pyrometer.LineProfiler(outer)
outer(prof, 10)
prof.disable()
(f,) = prof.get_stats()["functions"]
print(json.dumps({line - f["line"]: n for line, n, t in f["timings"] if n}))
'''


def test_started_inside_a_selected_function():
    """Profiling begins in a helper (not selected) of a selected function:
    the lines that function runs after the helper returns are counted."""
    r = run(["-c", STARTED_INSIDE])
    assert r.returncode == 0, r.stderr
    hits = {int(k): v for k, v in json.loads(r.stdout).items()}
    assert hits.get(2) == 1 and hits.get(4) == 10 and hits.get(5) == 1, hits


def test_report_layout_matches_line_profiler(tmp_path):
    """Byte for byte what line_profiler prints for the same numbers."""
    line_profiler = pytest.importorskip("line_profiler")
    src = ["def f(x):", "    s = 0", "    for i in range(x):", "        s += i", "",
           "    return s"]
    path = tmp_path / "f.py"
    path.write_text("\n" * 9 + "\n".join(src) + "\n")
    timings = [(11, 3, 1500), (12, 40000, 123456789), (13, 39999, 987654321012), (15, 3, 10)]
    stats = {"unit": 1e-9, "meta": {}, "functions": [
        {"file": str(path), "line": 10, "name": "f", "timings": timings, "source": src}]}
    show = getattr(line_profiler, "show_text", None) or line_profiler.line_profiler.show_text
    for unit in (1e-6, 1e-3, 1e-9):
        buf = io.StringIO()
        show({(str(path), 10, "f"): timings}, 1e-9, output_unit=unit, stream=buf)
        assert _engine.format_lines(stats, unit=unit) == buf.getvalue()


def test_report_golden():
    stats = {"unit": 1e-9, "meta": {}, "functions": [{
        "file": "jset.py", "line": 42, "name": "calc_point_val",
        "timings": [(43, 10000, 5700000), (44, 2279663, 1954604000)],
        "source": ["def calc_point_val(x):", "    no_iter = 0", "    while True:"]}]}
    text = _engine.format_lines(stats, unit=1e-6)
    assert text == textwrap.dedent("""\
        Timer unit: 1e-06 s

        Total time: 1.9603 s
        File: jset.py
        Function: calc_point_val at line 42

        Line #      Hits         Time  Per Hit   % Time  Line Contents
        ==============================================================
            42                                           def calc_point_val(x):
            43     10000       5700.0      0.6      0.3      no_iter = 0
            44   2279663    1954604.0      0.9     99.7      while True:

        """)
    assert _engine.format_lines(stats, unit=1e-3).splitlines()[0] == "Timer unit: 0.001 s"
    # no unit given: 0.57 us per hit reads 0.6 in microseconds, 5.7 in 1e-7 s
    assert _engine.format_lines(stats) == textwrap.dedent("""\
        Timer unit: 1e-07 s

        Total time: 1.9603 s
        File: jset.py
        Function: calc_point_val at line 42

        Line #      Hits         Time  Per Hit   % Time  Line Contents
        ==============================================================
            42                                           def calc_point_val(x):
            43     10000      57000.0      5.7      0.3      no_iter = 0
            44   2279663   19546040.0      8.6     99.7      while True:

        """)


def per_hit(text):
    """{line: (hits, time, per hit)} of a line report's rows that ran."""
    rows = {}
    for line in text.splitlines():
        cells = line.split()
        if len(cells) >= 5 and line[:6].strip().isdigit() and cells[1].isdigit():
            rows[int(cells[0])] = (int(cells[1]), cells[2], cells[3])
    return rows


def line_stats(timings, scale=1e-9):
    src = ["def f():"] + [f"    x{i} = {i}" for i in range(len(timings))]
    return {"unit": scale, "meta": {}, "functions": [
        {"file": "u.py", "line": 1, "name": "f", "timings": timings, "source": src}]}


@pytest.mark.parametrize("ns_per_hit, unit", [
    (2000, "1e-06"), (1000, "1e-06"), (999, "1e-07"), (570, "1e-07"), (50, "1e-08"),
    (12, "1e-08"), (9, "1e-09"), (5, "1e-09")])
def test_line_unit_is_chosen_so_no_line_that_ran_reads_zero(ns_per_hit, unit):
    # the quickest line that ran decides: it reads at least 1.0 per hit
    stats = line_stats([(2, 100, 100 * ns_per_hit), (3, 1, 5_000_000), (4, 0, 0)])
    text = _engine.format_lines(stats)
    assert text.splitlines()[0] == f"Timer unit: {unit} s"
    rows = per_hit(text)
    assert float(rows[2][2]) >= 1.0 and float(rows[3][2]) > 0
    assert text == _engine.format_lines(stats, unit=float(unit))


@pytest.mark.parametrize("seed", range(5))
def test_per_hit_is_never_zero_for_a_line_that_ran(seed):
    rnd = random.Random(seed)
    timings = []
    for line in range(2, 40):
        hits = rnd.choice([1, 3, 100, 10**5, 10**7])
        timings.append((line, hits, max(1, int(hits * 10 ** rnd.uniform(0, 4)))))
    for scale in (1e-9, 1e-6):
        text = _engine.format_lines(line_stats(timings, scale))
        assert all(float(r[2]) > 0 for r in per_hit(text).values()), text


def test_sub_nanosecond_lines_read_in_nanoseconds():
    # 3 ns over 10 hits: 1e-9 is the finest unit there is
    text = _engine.format_lines(line_stats([(2, 10, 3), (3, 1, 1000)]))
    assert text.splitlines()[0] == "Timer unit: 1e-09 s"
    assert per_hit(text)[2] == (10, "3.0", "0.3")


def test_a_line_that_took_no_time_does_not_choose():
    text = _engine.format_lines(line_stats([(2, 10, 0), (3, 1, 5000)]))
    assert text.splitlines()[0] == "Timer unit: 1e-06 s"
    assert per_hit(text)[2] == (10, "0.0", "0.0")


def test_an_explicit_unit_is_kept():
    stats = line_stats([(2, 100, 5000), (3, 1, 5_000_000)])     # 50 ns per hit
    for unit, head in ((1e-6, "1e-06"), (1e-3, "0.001"), (1e-9, "1e-09")):
        text = _engine.format_lines(stats, unit=unit)
        assert text.splitlines()[0] == f"Timer unit: {head} s"
        assert _lines.format_report(stats, unit=unit) == text
    assert per_hit(_engine.format_lines(stats, unit=1e-6))[2] == (100, "5.0", "0.1")
    assert per_hit(_engine.format_lines(stats, unit=1e-3))[2] == (100, "0.0", "0.0")
    assert _lines.format_report(stats).startswith("Timer unit: 1e-08 s\n")
    assert _engine.format_lines(stats, unit=None) == _engine.format_lines(stats)
    for bad in (0, -1e-6, float("nan")):
        with pytest.raises(ValueError, match="unit must be a positive number"):
            _engine.format_lines(stats, unit=bad)
    with pytest.raises(TypeError):
        _engine.format_lines(stats, unit="1e-6")


def test_zero_hit_functions_skipped_unless_asked():
    stats = {"unit": 1e-9, "meta": {}, "functions": [
        {"file": "a.py", "line": 1, "name": "never", "timings": [], "source": ["def never():"]}]}
    assert "never" not in _engine.format_lines(stats)
    assert "Function: never at line 1" in _engine.format_lines(stats, show_zero=True)


def test_save_and_report_round_trip(tmp_path):
    out = tmp_path / "j.lines"
    printed = run(["-m", "pyrometer", "run", "--lines-of", "calc_point_val", JULIA])
    assert printed.returncode == 0, printed.stderr
    saved = run(["-m", "pyrometer", "run", "--lines-of", "calc_point_val", "-o", out, JULIA])
    assert saved.returncode == 0, saved.stderr
    assert saved.stderr.strip() == f"pyrometer: line profile written to {out}"
    with open(out, "rb") as f:
        assert f.read(16) == b"pyrometer-lines\n"
        data = marshal.load(f)
    assert data["version"] == 1 and data["functions"][0]["name"] == "calc_point_val"
    report = run(["-m", "pyrometer", "report", out])
    assert report.returncode == 0, report.stderr
    hits = lambda text: [l.split()[:2] for l in text.splitlines() if l[:6].strip().isdigit()
                         and len(l.split()) > 2 and l.split()[1].isdigit()]
    assert hits(report.stdout) == hits(printed.stdout) != []
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in report.stdout
    assert report.stdout.splitlines()[0] in {f"Timer unit: 1e-0{n} s" for n in (6, 7, 8, 9)}
    assert all(float(r[2]) > 0 for r in per_hit(report.stdout).values() if float(r[1]) > 0)
    unit = run(["-m", "pyrometer", "report", "--unit", "1e-3", out])
    assert unit.stdout.startswith("Timer unit: 0.001 s\n")
    unit = run(["-m", "pyrometer", "report", "--unit", "1e-6", out])
    assert unit.stdout.startswith("Timer unit: 1e-06 s\n")


def test_decorator_profile_builtin(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""\
        @profile
        def work(n):
            s = 0
            for i in range(n):
                s += i
            return s

        print(work(10))
        """))
    on = run(["-m", "pyrometer", "run", "--lines", script])
    assert on.returncode == 0, on.stderr
    assert on.stdout.startswith("45\n")
    assert "Function: work at line 1" in on.stdout
    assert [l.split()[:2] for l in on.stdout.splitlines() if l.strip().startswith("5 ")] \
        == [["5", "10"]]
    off = run(["-m", "pyrometer", "run", script])      # profile() leaves it alone
    assert off.returncode == 0 and off.stdout.startswith("45\n")


def one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("pyrometer: error:"), \
        (r.returncode, r.stderr)
    return lines[0]


def test_unknown_pattern_is_an_error(tmp_path):
    out = tmp_path / "x.lines"
    out.write_bytes(b"keep me")
    r = run(["-m", "pyrometer", "run", "--lines-of", "no_such_function", "-o", out, JULIA])
    assert "no_such_function" in one_error_line(r)
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "version", "shape"])
def test_damaged_line_file(tmp_path, damage):
    good = tmp_path / "good.lines"
    stats = {"unit": 1e-9, "meta": {}, "functions": [
        {"file": "a.py", "line": 1, "name": "f", "timings": [(1, 2, 3)], "source": ["def f():"]}]}
    _engine.write_lines(str(good), stats)
    data = good.read_bytes()
    bad = tmp_path / "bad.lines"
    if damage == "truncate":
        bad.write_bytes(data[:len(data) // 2])
    elif damage == "garbage":
        bad.write_bytes(data[:16] + os.urandom(64))
    elif damage == "version":
        bad.write_bytes(data[:16] + marshal.dumps(dict(stats, version=99)))
    else:
        bad.write_bytes(data[:16] + marshal.dumps({"version": 1, "unit": 1e-9,
                                                   "functions": [{"file": "a.py"}]}))
    r = run(["-m", "pyrometer", "report", bad])
    line = one_error_line(r)
    assert "line profile" in line
    assert str(bad) in line
    with pytest.raises(_engine.FormatError):
        _lines.load(bad)


def test_write_is_atomic_on_bad_stats(tmp_path):
    out = tmp_path / "x.lines"
    out.write_bytes(b"keep me")
    with pytest.raises(ValueError):
        _engine.write_lines(str(out), {"unit": 1e-9, "functions": [{"file": 1}]})
    assert out.read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == ["x.lines"]


def long_program(blocks):
    """A program whose functions are long enough that 3.12 numbers their
    lines slowly (pyrometer then counts them from INSTRUCTION events):
    loops, branches, a generator, exceptions, comprehensions, blocks times."""
    body = []
    for i in range(blocks):
        body += [
            f"    total += {i}",
            f"    for k in range(3):",
            f"        if (k + {i}) % 2:",
            f"            total += k",
            f"        else:",
            f"            total -= 1",
            f"    while total > {1000 + i}:",
            f"        total -= 7",
            f"    try:",
            f"        if {i} % 5 == 0:",
            f"            raise ValueError({i})",
            f"    except ValueError:",
            f"        total += 2",
            f"    total += sum([j for j in range(2)]); total += 1",
            f"    total += len(list(gen({i} % 3)))",
        ]
    gen = ["def gen(n):"] + [f"    yield {i}" if i % 2 else f"    if n > {i % 4}:\n        yield -1"
                             for i in range(120)]
    return "\n".join(gen + ["", "def long_one():", "    total = 0"] + body
                     + ["    return total", "", "SELECTED = ['long_one', 'gen']", "",
                        "def main():", "    for _ in range(3):", "        long_one()", ""])


def test_hits_in_long_functions_equal_cpython_line_events(tmp_path):
    prog = tmp_path / "long_prog.py"
    prog.write_text(long_program(60))
    results = {}
    for which in ("reference", "pyrometer"):
        r = run(["-c", DRIVER, which, prog])
        assert r.returncode == 0, r.stderr
        results[which] = json.loads(r.stdout)
    assert len(results["reference"]) > 700
    assert results["pyrometer"] == results["reference"]
