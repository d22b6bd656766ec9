"""The command line as a new user meets it: help on every command, output
formats that follow the file's name, a printed report that fits a screen,
a summary after -o, a program that closes stdout; and the commands as
Python functions (pyrometer.report, convert, merge, diff)."""
import json
import marshal
import os
import pstats
import subprocess
import sys
import textwrap

import pytest

from conftest import run_python

COMMANDS = ["run", "report", "convert", "merge", "diff"]


def pyrometer(*args, env=None, **kw):
    return run_python(["-m", "pyrometer", *map(str, args)], env=env, **kw)


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


MANY = """
import sys
for i in range(120):
    exec(f"def f{i}(): return {i}")
total = sum(globals()[f"f{i}"]() for i in range(120))
"""


def test_bare_pyrometer_shows_the_commands():
    r = pyrometer()
    assert r.returncode == 0
    for command in COMMANDS:
        assert f"\n  {command} " in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_its_help(command):
    env = dict(os.environ, COLUMNS="70")
    for spelling in (("--help",), ("-h",)):
        r = pyrometer(command, *spelling, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"usage: pyrometer {command}")
        assert "examples:" in r.stdout
        options = [line.split()[0] for line in r.stdout.splitlines()
                   if line.startswith("  -")]
        assert len(options) == len(set(options)), options   # each said once
        # option help wraps at the terminal's width
        body = r.stdout.split("examples:")[0]
        assert max(len(line) for line in body.splitlines()) <= 70
    assert pyrometer("help", command).stdout == pyrometer(command, "--help").stdout


def test_run_help_groups_its_options():
    out = pyrometer("run", "--help").stdout
    for group in ("output:", "the printed report:", "line profiling:", "measurement:"):
        assert "\n" + group in out


def test_run_help_after_the_script_goes_to_the_program(tmp_path):
    script = write(tmp_path, "p.py", "import sys; print(sys.argv[1:])\n")
    r = pyrometer("run", "-o", tmp_path / "p.prof", script, "--help", "-o", "x")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['--help', '-o', 'x']\n"


@pytest.mark.parametrize("name, check", [
    ("out.html", lambda b: b.startswith(b"<!DOCTYPE html>")),
    ("flame.svg", lambda b: b"<svg" in b[:200]),
    ("out.json", lambda b: json.loads(b)["$schema"].startswith("https://www.speedscope.app")),
    ("out.callgrind", lambda b: b.startswith(b"# callgrind format")),
    ("callgrind.out.prog", lambda b: b.startswith(b"# callgrind format")),
    ("out.collapsed", lambda b: b.count(b";") > 0),
    ("out.dot", lambda b: b.startswith(b"digraph")),
    ("out.prof", lambda b: b[:1] in (b"{", b"\xfb")),   # pstats: marshal's dict
    ("out.data", lambda b: b[:1] in (b"{", b"\xfb")),   # any other name: pstats
])
def test_run_writes_the_format_its_output_is_named_for(tmp_path, name, check):
    script = write(tmp_path, "prog.py", "def f(): return 1\nfor _ in range(3): f()\n")
    out = tmp_path / name
    r = pyrometer("run", "-o", out, script)
    assert r.returncode == 0, r.stderr
    assert check(out.read_bytes()), out.read_bytes()[:200]
    assert r.stderr.strip().splitlines()[-1].startswith(f"pyrometer: profile written to {out}")


def test_run_format_option_wins_over_the_name(tmp_path):
    script = write(tmp_path, "prog.py", "def f(): return 1\nf()\n")
    out = tmp_path / "graph.out"
    r = pyrometer("run", "-f", "flame", "-o", out, script)
    assert r.returncode == 0, r.stderr
    assert b"<svg" in out.read_bytes()[:200]
    assert "(flamegraph)" in r.stderr
    r = pyrometer("run", "-f", "nope", "-o", out, script)
    assert r.returncode == 2 and "unknown format 'nope'" in r.stderr


def test_run_to_standard_output(tmp_path):
    script = write(tmp_path, "prog.py", "def f(): return 1\nf()\n")
    r = subprocess.run([sys.executable, "-m", "pyrometer", "run", "-o", "-", str(script)],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    stats = marshal.loads(r.stdout)
    assert any(k[2] == "f" for k in stats if isinstance(k, tuple))


def test_line_profile_as_html(tmp_path):
    script = write(tmp_path, "prog.py", "def f():\n    return 1\nf()\n")
    out = tmp_path / "lines.html"
    r = pyrometer("run", "--lines-of", "f", "-o", out, script)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"<!DOCTYPE html>")
    r = pyrometer("run", "--lines-of", "f", "-o", tmp_path / "x.svg", script)
    assert r.returncode == 2 and "line profile" in r.stderr


def test_summary_after_saving(tmp_path):
    script = write(tmp_path, "prog.py", "def f(): return 1\nfor _ in range(5): f()\n")
    out = tmp_path / "p.prof"
    r = pyrometer("run", "-o", out, script)
    line = r.stderr.strip().splitlines()[-1]
    calls = pstats.Stats(str(out)).total_calls
    assert f"{len(pstats.Stats(str(out)).stats)} functions, {calls} calls" in line
    assert line.endswith(" profiled")


def test_printed_report_fits_a_screen(tmp_path):
    script = write(tmp_path, "many.py", MANY)
    r = pyrometer("run", script)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if "<string>:1(f" in line]
    assert 0 < len(rows) < 60
    assert "more functions not shown (--limit 0 shows all)" in r.stdout
    r = pyrometer("run", "--limit", "0", script)
    rows = [line for line in r.stdout.splitlines() if "<string>:1(f" in line]
    assert len(rows) == 120 and "not shown" not in r.stdout
    r = pyrometer("run", "--limit", "0.5", script)
    assert r.returncode == 0 and "List reduced from" in r.stdout


def test_report_of_a_file_fits_a_screen_too(tmp_path):
    script = write(tmp_path, "many.py", MANY)
    out = tmp_path / "many.prof"
    assert pyrometer("run", "-o", out, script).returncode == 0
    r = pyrometer("report", out)
    assert "more functions not shown" in r.stdout
    assert "not shown" not in pyrometer("report", out, "-l", "0").stdout


def test_program_that_closes_stdout_still_gets_its_report(tmp_path):
    r = run_python(["-m", "pyrometer", "run", "-m", "json.tool"], input='{"a": 1}')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"a": 1}
    assert "closed standard output" in r.stderr
    assert "function calls" in r.stderr


def test_unknown_options_are_one_line(tmp_path):
    for args in (["report", "x.prof", "--bogus"], ["convert", "x.prof", "-o", "y.html", "--bogus"],
                 ["merge", "x.prof", "-o", "y.prof", "--bogus"], ["diff", "a", "b", "--bogus"]):
        r = pyrometer(*args, cwd=tmp_path)
        assert r.returncode == 2
        [line] = r.stderr.strip().splitlines()
        assert line.startswith("pyrometer: error: unknown option '--bogus'"), line


def test_convert_infers_the_format(tmp_path):
    script = write(tmp_path, "prog.py", "def f(): return 1\nf()\n")
    src = tmp_path / "p.prof"
    assert pyrometer("run", "-o", src, script).returncode == 0
    r = pyrometer("convert", src, "-o", tmp_path / "p.html")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.html").read_bytes().startswith(b"<!DOCTYPE html>")
    r = pyrometer("convert", src, "-o", tmp_path / "p.unknown")
    assert r.returncode == 2 and "cannot tell the format" in r.stderr
    r = pyrometer("convert", src, "-f", "dot", "-o", "-")
    assert r.returncode == 0 and r.stdout.startswith("digraph")


API = r'''
import json, sys, pyrometer
src, folder = sys.argv[1], sys.argv[2]
out = {}
out["report"] = pyrometer.report(src, sort="tottime", limit=3)
out["lines"] = len(pyrometer.report(src, limit=0).splitlines())
out["convert"] = pyrometer.convert(src, "callgrind", folder + "/cg.out")
pyrometer.convert(src, out=folder + "/p.svg", title="api")
out["svg"] = open(folder + "/p.svg").read(200)
out["merged"] = pyrometer.merge([src, src], folder + "/both.prof")
d = pyrometer.diff(src, folder + "/both.prof", fail_above=10)
out["diff"], out["regressed"] = str(d), d.regressed
try:
    pyrometer.convert(src, "nope", folder + "/x")
except pyrometer.Error as exc:
    out["error"] = str(exc)
print(json.dumps(out))
'''


def test_python_api_for_every_command(tmp_path):
    script = write(tmp_path, "prog.py", "def f(): return 1\nfor _ in range(4): f()\n")
    src = tmp_path / "p.prof"
    assert pyrometer("run", "-o", src, script).returncode == 0
    r = run_python(["-c", API, str(src), str(tmp_path)])
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert "Ordered by: internal time" in got["report"]
    assert got["convert"] == str(tmp_path / "cg.out")
    assert (tmp_path / "cg.out").read_text().startswith("# callgrind format")
    assert "<svg" in got["svg"]
    assert got["merged"] == [str(src), str(src)]
    assert got["regressed"] is True and "f" in got["diff"]
    assert got["error"].startswith("unknown format 'nope'")
    assert pstats.Stats(str(tmp_path / "both.prof")).total_calls == \
        2 * pstats.Stats(str(src)).total_calls


LOGS = """
import json, re
PAT = re.compile(r"GET (\\S+)")

def make_lines(n):
    return [json.dumps({"req": f"GET /p/{i % 13}", "n": i}) for i in range(n)]

def parse(lines):
    return [PAT.match(json.loads(line)["req"]).group(1) for line in lines]

def main():
    return len(set(parse(make_lines(20000))))

main()
"""


def tree_lines(text):
    return [line for line in text.splitlines() if "%" in line and "  " in line]


def test_call_tree_shows_the_users_code_first(tmp_path):
    script = write(tmp_path, "logs.py", LOGS)
    r = pyrometer("run", "--tree", script, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert len(text.splitlines()) <= 60
    # the user's functions, relative to the program's folder, and where
    # they went into the library
    for frame in ("main  logs.py:", "parse  logs.py:", "make_lines  logs.py:",
                  "loads  <stdlib>/json/__init__.py:", "dumps  <stdlib>/json/__init__.py:"):
        assert frame in text, text
    assert "library frames: json." in text
    # json's own decoder frames are folded, never shown as rows
    assert "decode  <stdlib>/json/decoder.py" not in text
    # the hot function leads: main is the first frame of the program
    rows = tree_lines(text)
    assert "main  logs.py" in next(r for r in rows if "logs.py" in r and "<module>" not in r)


def test_report_tree_of_a_saved_profile(tmp_path):
    script = write(tmp_path, "logs.py", LOGS)
    out = tmp_path / "logs.prof"
    assert pyrometer("run", "-o", out, script).returncode == 0
    r = pyrometer("report", out, "--tree", "--limit", "8", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "main  logs.py:" in r.stdout
    assert len(tree_lines(r.stdout)) <= 8
    assert "left out" in r.stdout
    # cProfile's files have no tree: one line, exit 2
    import cProfile
    cp = tmp_path / "cp.prof"
    cProfile.run("sum(range(10))", str(cp))
    r = pyrometer("report", cp, "--tree")
    assert r.returncode == 2 and "no call tree" in r.stderr
    r = run_python(["-c", "import pyrometer, sys; print(pyrometer.report(sys.argv[1], tree=True, "
                          "root=sys.argv[2]))", str(out), str(tmp_path)])
    assert r.returncode == 0 and "parse  logs.py:" in r.stdout, r.stderr


def test_call_tree_of_any_depth():
    # a hostile file may hold a chain of a million frames: library frames
    # are walked without recursion, and the lines shown stop at max_lines
    code = r'''
import sys
from pyrometer import _engine
n = 300000
funcs = [("/usr/lib/python3.12/lib.py", 1, "deep"), ("app.py", 1, "mine")]
tree = {"pyrometer": "calltree", "version": 1, "funcs": funcs,
        "parent": [-1] + list(range(n - 1)), "func": [1] + [0] * (n - 2) + [1],
        "calls": [1] * n, "self": [0.0] * (n - 1) + [1.0], "total": [1.0] * n, "folded": False}
text = _engine.format_tree(tree, max_lines=20)
assert "[299997 library frames: lib]" in text, text
assert "mine  app.py:1" in text
chain = dict(tree, func=[1] * n)
text = _engine.format_tree(chain, max_lines=20)
assert len([l for l in text.splitlines() if "mine" in l]) == 20
print("ok")
'''
    r = run_python(["-c", code])
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr


def test_imports_are_folded_into_one_row_per_module(tmp_path):
    (tmp_path / "heavy.py").write_text(
        "import json, decimal\nTABLE = [json.dumps(list(range(i))) for i in range(300)]\n")
    script = write(tmp_path, "app.py", """
        import heavy

        def work():
            return sum(len(x) for x in heavy.TABLE)

        work()
    """)
    out = tmp_path / "app.prof"
    assert pyrometer("run", "-o", out, script, cwd=tmp_path).returncode == 0
    r = pyrometer("report", out, "-l", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "(<import heavy>)" in r.stdout
    assert "_find_and_load" not in r.stdout and "_bootstrap_external" not in r.stdout
    assert "folded into <import module> rows" in r.stdout
    shown = pyrometer("report", out, "-l", "0", "--show-imports").stdout
    assert "_find_and_load" in shown and "<import heavy>" not in shown
    # the time is kept: the root's cumulative time is the same either way
    code = r'''
import sys, json
from pyrometer import _engine
stats, tree = _engine.load_profile(sys.argv[1])
fstats, ftree, n = _engine.fold_imports(tree)
roots = lambda t: sum(x for x, p in zip(t["total"], t["parent"]) if p < 0)
heavy = [v for k, v in fstats.items() if k[2] == "<import heavy>"]
body = [v for k, v in stats.items() if k[2] == "<module>" and k[0].endswith("heavy.py")]
print(json.dumps([n, roots(tree), roots(ftree), heavy[0][3], body[0][3],
                  sorted({k[2] for k in fstats if k[2].startswith("<import")})]))
'''
    r = run_python(["-c", code, str(out)])
    assert r.returncode == 0, r.stderr
    n, total, ftotal, heavy, body, names = json.loads(r.stdout)
    assert n >= 1 and abs(total - ftotal) <= 1e-9 * total
    assert abs(heavy - body) <= 1e-9 * body     # the import's time is its body's
    assert "<import heavy>" in names and "<import system>" in names
    # the tree and the printed run report fold too
    r = pyrometer("run", "--tree", script, cwd=tmp_path)
    assert "<import heavy>" in r.stdout and "_find_and_load" not in r.stdout
    r = pyrometer("run", script, cwd=tmp_path)
    assert "<import heavy>" in r.stdout
    r = pyrometer("run", "--show-imports", "-l", "0", script, cwd=tmp_path)
    assert "<import heavy>" not in r.stdout and "_find_and_load" in r.stdout


def test_only_hide_and_only_mine(tmp_path):
    script = write(tmp_path, "logs.py", LOGS)
    out = tmp_path / "logs.prof"
    assert pyrometer("run", "-o", out, script, cwd=tmp_path).returncode == 0

    def rows(*args):
        r = pyrometer("report", out, "-l", "0", *args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stdout, [line.split()[-1] for line in r.stdout.splitlines()
                          if line[:1] == " " and line.split()[-1].endswith(")")
                          and line.split()[0][0].isdigit()]

    text, names = rows("--only-mine")
    assert names and all("logs.py" in n or n == "{other frames}" for n in names), names
    assert "showing only the program's own files" in text
    # the time of hidden frames stays with the frames shown above them
    code = r'''
import sys, json
from pyrometer import _tools, _convert
p = _convert.load(sys.argv[1])
full = max(v[3] for v in p.stats.values())
mine, note = _tools.select_frames(p, _tools.Frames(only_mine=True, root=sys.argv[2]))
t = mine.tree
print(json.dumps([full, sum(x for x, q in zip(t["total"], t["parent"]) if q < 0), note]))
'''
    r = run_python(["-c", code, str(out), str(tmp_path)])
    full, mine, note = json.loads(r.stdout)
    assert abs(full - mine) <= 1e-9 * full and "frames hidden" in note
    text, names = rows("--hide", "json")
    assert not any("json/" in n for n in names) and any("(parse)" in n for n in names)
    text, names = rows("--only", "parse", "--only", "logs.main")
    assert sorted(n.split("(")[-1] for n in names if "logs.py" in n) == ["main)", "parse)"]
    # a cProfile file has no tree: the rows are filtered
    import cProfile
    cp = tmp_path / "cp.prof"
    r = run_python(["-m", "cProfile", "-o", str(cp), str(script)], cwd=tmp_path)
    assert r.returncode == 0
    r = pyrometer("report", cp, "-l", "0", "--only", "json", cwd=tmp_path)
    assert r.returncode == 0 and "rows left out" in r.stdout
    table = [line for line in r.stdout.splitlines()
             if line.endswith(")") and line[:1] == " " and line.split()[0][0].isdigit()]
    assert table and all("json" in line for line in table), table


def test_open_shows_the_result_in_its_viewer(tmp_path):
    # webbrowser runs $BROWSER with the page's URL: a script that notes it
    opened = tmp_path / "opened.txt"
    browser = write(tmp_path, "browser.sh", f"#!/bin/sh\necho \"$1\" >> {opened}\n")
    browser.chmod(0o755)
    env = dict(os.environ, BROWSER=str(browser))
    script = write(tmp_path, "prog.py", "def f(): return 1\nf()\n")
    r = pyrometer("run", "--open", "-o", tmp_path / "p.html", script, env=env)
    assert r.returncode == 0, r.stderr
    assert "opened" in r.stderr
    src = tmp_path / "p.prof"
    assert pyrometer("run", "-o", src, script).returncode == 0
    r = pyrometer("convert", src, "-o", tmp_path / "f.svg", "--open", env=env)
    assert r.returncode == 0, r.stderr
    import time
    for _ in range(50):
        if opened.exists() and len(opened.read_text().splitlines()) == 2:
            break
        time.sleep(0.1)
    urls = opened.read_text().split()
    assert urls == [(tmp_path / "p.html").as_uri(), (tmp_path / "f.svg").as_uri()]
    r = pyrometer("run", "--open", script)
    assert r.returncode == 2 and "--open needs -o FILE" in r.stderr


def test_reports_say_how_the_profile_was_measured(tmp_path):
    script = write(tmp_path, "prog.py", "def f(): return 1\nf()\n")
    out = tmp_path / "p.prof"
    assert pyrometer("run", "-o", out, script).returncode == 0
    r = pyrometer("report", out)
    assert "Measured: clock tsc (wall)" in r.stdout or "Measured: clock monotonic (wall)" in r.stdout
    assert "compensation on:" in r.stdout and "events from sys." in r.stdout
    assert f"cpython {sys.version.split()[0]}" in r.stdout
    r = pyrometer("run", "--no-compensate", "--clock", "cpu", "-l", "3", script)
    assert "Measured: clock cpu (cpu); compensation off" in r.stdout
    html = tmp_path / "p.html"
    assert pyrometer("convert", out, "-o", html).returncode == 0
    page = html.read_text()
    assert "tsc (wall)" in page or "monotonic (wall)" in page   # the page's summary shows it


def test_diff_of_two_line_profiles_line_by_line(tmp_path):
    old = write(tmp_path, "v1.py", """
        def slow(n):
            out = []
            for i in range(n):
                out.append(sum(range(i % 50)))
            return out

        slow(20000)
    """)
    new = write(tmp_path, "v2.py", """
        # an edit above moves every line down
        def slow(n):
            out = []
            for i in range(n):
                out.append((i % 50) * (i % 50 - 1) // 2)
            return out

        slow(20000)
    """)
    for script, out in ((old, "old.lines"), (new, "new.lines")):
        r = pyrometer("run", "--lines-of", "slow", "-o", tmp_path / out, script)
        assert r.returncode == 0, r.stderr
    r = pyrometer("diff", tmp_path / "old.lines", tmp_path / "new.lines")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "Function: slow (" in text and "(gone)" not in text and "(new function)" not in text
    rows = {line.split(None, 6)[-1]: line for line in text.splitlines()
            if line.startswith("  ") and line.strip()[:1].isdigit()}
    # the loop line moved from 4 to 5 and is matched by its text
    loop = rows["for i in range(n):"]
    assert loop.split()[:3] == ["5", "20001", "20001"], loop
    assert "gone" in rows["out.append(sum(range(i % 50)))"]
    assert " new " in rows["out.append((i % 50) * (i % 50 - 1) // 2)"]
    # a line profile compares with a line profile only
    fn = tmp_path / "f.prof"
    assert pyrometer("run", "-o", fn, old).returncode == 0
    r = pyrometer("diff", tmp_path / "old.lines", fn)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_grouping_by_file_module_and_package(tmp_path):
    script = write(tmp_path, "logs.py", LOGS)
    out = tmp_path / "logs.prof"
    assert pyrometer("run", "-o", out, script, cwd=tmp_path).returncode == 0
    r = pyrometer("report", out, "--by", "package", "-l", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "<package>:0(json)" in r.stdout and "<package>:0(logs)" in r.stdout
    assert "(loads)" not in r.stdout and "grouped by package" in r.stdout
    code = r'''
import sys, json
from pyrometer import _tools, _convert
p = _convert.load(sys.argv[1])
roots = lambda t: sum(x for x, q in zip(t["total"], t["parent"]) if q < 0)
out = {}
for by in ("file", "module", "package"):
    g, _note = _tools.group_frames(p, by, sys.argv[2])
    out[by] = [roots(p.tree), roots(g.tree), sorted(k[2] for k in g.stats)]
print(json.dumps(out))
'''
    r = run_python(["-c", code, str(out), str(tmp_path)])
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    for by, (before, after, names) in got.items():
        assert abs(before - after) <= 1e-9 * before, by   # the time is kept
    assert "json.decoder" in got["module"][2] and "json" in got["package"][2]
    r = pyrometer("report", out, "--by", "module", "--tree", cwd=tmp_path)
    assert r.returncode == 0 and "json.decoder" in r.stdout
