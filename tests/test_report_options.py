"""The report's options that pstats has: --strip-dirs (strip_dirs()),
--callers/--callees PATTERN (print_callers(PATTERN)), checked against
pstats' own numbers and text; and the report on a terminal: hot rows in
colour, names too long for the screen shortened from the left."""
import io
import os
import pstats
import re
import sys
import textwrap

import pytest

from conftest import run_python

import pyrometer
from pyrometer import _engine, _tools

# Same-named files in several packages (every __init__.py, two decoder.py):
# stripping their folders makes one function of several.
PROGRAM = """\
import json, email.mime.text, xml.dom.minidom, http.client, logging.handlers
import json.decoder, email.message

def leaf(i):
    return sum(range(i))

def mid(n):
    return [leaf(i) for i in range(n)]

def top():
    for _ in range(20):
        mid(150)
        json.dumps(list(range(300)))
        json.loads("[1, 2, 3]")

top()
"""


def pyrometer_cli(*args, **kw):
    kw.setdefault("timeout", 120)
    return run_python(["-m", "pyrometer", *map(str, args)], **kw)


@pytest.fixture(scope="module")
def cprofile_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("options")
    prog = folder / "prog.py"
    prog.write_text(PROGRAM)
    out = folder / "c.prof"
    r = run_python(["-m", "cProfile", "-o", str(out), str(prog)])
    assert r.returncode == 0, r.stderr
    return out


def pstats_text(path, call, *args, strip=False, sort="cumulative"):
    out = io.StringIO()
    st = pstats.Stats(str(path), stream=out)
    if strip:
        st.strip_dirs()
    getattr(st.sort_stats(sort), call)(*args)
    return out.getvalue()


# ---- --strip-dirs -------------------------------------------------------------

def test_strip_dirs_adds_up_as_pstats_does(cprofile_file):
    ours = _engine.strip_dirs(_engine.load_stats(str(cprofile_file)))
    theirs = pstats.Stats(str(cprofile_file)).strip_dirs().stats
    assert list(ours) == list(theirs)          # the same functions, in the same order
    assert {k: v[:4] for k, v in ours.items()} == {k: v[:4] for k, v in theirs.items()}
    merged = [k for k in theirs if k[0] == "__init__.py" and k[2] == "<module>"]
    assert any(ours[k][1] > 1 for k in merged)   # several packages' __init__ made one
    # the whole table, byte for byte as pstats prints it
    text = _engine.format_report(ours, sort=("tottime",), layout="pstats", limit=0.5)
    theirs = pstats_text(cprofile_file, "print_stats", 0.5, strip=True, sort="tottime")
    assert text == theirs.split("\n", 2)[2]     # after the line naming the file


def test_strip_dirs_adds_callers_that_become_one():
    stats = {("/a/x.py", 1, "f"): (2, 2, 0.5, 0.5, {("/p/u.py", 3, "g"): (1, 1, 0.2, 0.2),
                                                    ("/q/u.py", 3, "g"): (1, 1, 0.3, 0.3)}),
             ("/b/x.py", 1, "f"): (1, 1, 0.25, 0.25, {("/p/u.py", 3, "g"): (1, 1, 0.25, 0.25)}),
             ("/p/u.py", 3, "g"): (1, 1, 0.1, 0.6, {}), ("/q/u.py", 3, "g"): (1, 1, 0.1, 0.6, {})}
    ours = _engine.strip_dirs(stats)
    assert list(ours) == [("x.py", 1, "f"), ("u.py", 3, "g")]
    assert ours[("x.py", 1, "f")] == (3, 3, 0.75, 0.75, {("u.py", 3, "g"): (3, 3, 0.75, 0.75)})
    assert ours[("u.py", 3, "g")] == (2, 2, 0.2, 1.2, {})
    with pytest.raises(ValueError, match="not a pstats dict"):
        _engine.strip_dirs({("a.py", 1, "f"): (1, 1)})


def rows(text):
    """{name: (ncalls, tottime, cumtime)} of a stats table (pyrometer's
    columns or pstats')."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\s+(\d+(?:/\d+)?)\s+([\d.]+)\s+(\S+)\s+([\d.]+)\s+\S+(?:\s+[\d.]+)? (\S.*)$",
                     line)
        if m:
            out[m.group(5)] = (m.group(1), float(m.group(2)), float(m.group(4)))
    return out


def test_report_strip_dirs_on_the_command_line(cprofile_file):
    r = pyrometer_cli("report", cprofile_file, "--strip-dirs", "-l", "0")
    assert r.returncode == 0, r.stderr
    ours = rows(r.stdout)
    theirs = rows(pstats_text(cprofile_file, "print_stats", strip=True))
    assert ours.keys() == theirs.keys() and len(ours) > 100
    for name, (calls, tt, ct) in ours.items():
        assert calls == theirs[name][0], name
        assert tt == pytest.approx(theirs[name][1], abs=6e-4)
        assert ct == pytest.approx(theirs[name][2], abs=6e-4)
    assert not any("/" in name for name in ours)
    text = pyrometer.report(cprofile_file, strip_dirs=True, limit=5)
    assert "__init__.py:" in text or "prog.py:" in text
    for bad in (["--strip-dirs", "--full-paths"], ["--strip-dirs", "--tree"]):
        r = pyrometer_cli("report", cprofile_file, *bad)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr


def test_run_strip_dirs_and_line_profiles(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("import json\ndef f():\n    return json.dumps([1] * 100)\nfor _ in range(50):\n"
                    "    f()\n")
    r = pyrometer_cli("run", "--strip-dirs", "--sort", "tottime", prog)
    assert r.returncode == 0, r.stderr
    assert "encoder.py:" in r.stdout and "<stdlib>/" not in r.stdout
    r = pyrometer_cli("run", "--lines", "--strip-dirs", prog)
    assert r.returncode == 2 and "--strip-dirs does not apply to a line profile" in r.stderr
    lines = tmp_path / "x.lines"
    _engine.write_lines(str(lines), {"unit": 1e-9, "meta": {}, "functions": []})
    r = pyrometer_cli("report", lines, "--strip-dirs")
    assert r.returncode == 2 and "for function profiles" in r.stderr


# ---- --callers / --callees PATTERN ----------------------------------------------

def same_text(ours, theirs):
    """pstats' text with pyrometer's notation of the numbers: the same words
    and names line by line, each number within pstats' rounding."""
    a, b = ours.strip().splitlines(), theirs.strip().splitlines()
    assert len(a) == len(b), (ours, theirs)
    for x, y in zip(a, b):
        xs, ys = x.split(), y.split()
        assert len(xs) == len(ys), (x, y)
        for u, v in zip(xs, ys):
            if re.fullmatch(r"\d+\.\d+", v):
                assert float(u) == pytest.approx(float(v), abs=6e-4), (x, y)
            else:
                assert u == v, (x, y)


@pytest.mark.parametrize("call, option, pattern", [
    ("print_callers", "--callers", r"leaf|decoder\.py"),
    ("print_callees", "--callees", "top"),
    ("print_callers", "--callers", r"\(loads\)"),
])
def test_callers_and_callees_of_the_functions_a_pattern_matches(cprofile_file, call, option,
                                                                 pattern):
    r = pyrometer_cli("report", cprofile_file, option, pattern, "--full-paths")
    assert r.returncode == 0, r.stderr
    theirs = pstats_text(cprofile_file, call, pattern)
    assert "due to restriction" in theirs
    same_text(r.stdout, theirs)
    # the same from Python, and after the table's own restriction
    text = _tools.report(cprofile_file, **{option[2:]: pattern}, limit=1, full_paths=True)
    same_text(text, pstats_text(cprofile_file, call, pattern, 1))
    assert "function calls" not in text         # the sections alone, as pstats prints them


def test_a_bare_option_beside_a_pattern_takes_it(cprofile_file):
    r = pyrometer_cli("report", cprofile_file, "--callers", "mid", "--callees", "--full-paths")
    assert r.returncode == 0, r.stderr
    same_text(r.stdout, pstats_text(cprofile_file, "print_callers", "mid")
              + pstats_text(cprofile_file, "print_callees", "mid"))


def test_pattern_errors_and_the_file_after_a_bare_option(cprofile_file, tmp_path):
    r = pyrometer_cli("report", cprofile_file, "--callers", "(")
    assert r.returncode == 2 and "is none: missing )" in r.stderr, r.stderr
    r = pyrometer_cli("report", cprofile_file, "--callees", "no_such_function")
    assert r.returncode == 0
    assert r.stdout.startswith("pyrometer: no function matches 'no_such_function'")
    r = pyrometer_cli("report", "--callers", cprofile_file, "-l", "3")
    assert r.returncode == 0, r.stderr
    assert "function calls" in r.stdout and "was called by..." in r.stdout
    r = pyrometer_cli("report", "--callers", "mid")
    assert r.returncode == 2 and "report needs a FILE" in r.stderr
    prog = tmp_path / "p.py"
    prog.write_text("def mid():\n    return 1\nfor _ in range(3):\n    mid()\n")
    r = pyrometer_cli("run", "--callers=mid", prog)        # the pattern attached: run's rule
    assert r.returncode == 0, r.stderr
    assert "restriction <'mid'>" in r.stdout and "was called by..." in r.stdout
    r = pyrometer_cli("run", "--callers", prog)           # bare: the next word is the script
    assert r.returncode == 0, r.stderr
    assert "function calls" in r.stdout and "was called by..." in r.stdout


# ---- on a terminal -----------------------------------------------------------------

LONG = "/srv/deploy/releases/2026-12-07/venv/lib/python3.12/site-packages/flask/app.py"


@pytest.fixture
def shares_file(tmp_path):
    """Functions holding 80 %, 5 % and 0.5 % of the own time (the rest in
    one more), one with a long file name."""
    stats = {(LONG, 1478, "wsgi_app"): (1, 1, 0.8, 1.0, {}),
             ("/srv/app/views.py", 10, "index"): (2, 2, 0.05, 0.2, {}),
             ("/srv/app/util.py", 3, "tiny"): (5, 5, 0.005, 0.005, {}),
             ("/srv/app/rest.py", 1, "rest"): (1, 1, 0.145, 0.145, {})}
    path = tmp_path / "shares.prof"
    _engine.dump_stats(str(path), stats)
    return path


def table_lines(text):
    return [line for line in text.splitlines() if re.search(r"\(\w+\)", line)]


def test_hot_rows_in_colour(shares_file):
    text = _tools.report(shares_file, color=True, full_paths=True)
    by_name = {re.search(r"\((\w+)\)", line).group(1): line for line in table_lines(text)}
    assert by_name["wsgi_app"].startswith("\x1b[1;31m") and by_name["wsgi_app"].endswith("\x1b[0m")
    assert by_name["rest"].startswith("\x1b[1;31m")
    assert by_name["index"].startswith("\x1b[33m")
    assert "\x1b" not in by_name["tiny"]
    assert "\x1b" not in _tools.report(shares_file, full_paths=True)


def test_long_names_are_shortened_from_the_left(shares_file):
    whole = _tools.report(shares_file, full_paths=True)
    text = _tools.report(shares_file, full_paths=True, width=100)
    assert len(max(whole.splitlines(), key=len)) > 100
    for line in table_lines(text):
        assert len(line) <= 100, line
    (flask,) = [line for line in table_lines(text) if "wsgi_app" in line]
    name = flask.split(" ")[-1]
    assert name.startswith("…/") and name.endswith("/flask/app.py:1478(wsgi_app)")
    assert LONG.endswith(name[1:].split(":")[0])
    # short names stay whole, and a screen too narrow for any is left alone
    assert "/srv/app/views.py:10(index)" in text
    assert _tools.report(shares_file, full_paths=True, width=40) == whole


def test_line_reports_in_colour(tmp_path):
    path = tmp_path / "l.lines"
    _engine.write_lines(str(path), {"unit": 1e-9, "meta": {}, "functions": [
        {"file": "a.py", "line": 1, "name": "f", "timings": [(2, 1, 900), (3, 1, 50), (4, 1, 1)],
         "source": ["def f():", "    hot()", "    warm()", "    cold()"]}]})
    text = pyrometer.report(path, color=True)
    hot, warm, cold = [line for line in text.splitlines() if re.search(r"  (hot|warm|cold)\(", line)]
    assert hot.startswith("\x1b[1;31m") and hot.endswith("hot()\x1b[0m")
    assert warm.startswith("\x1b[33m") and "\x1b" not in cold
    assert "\x1b" not in pyrometer.report(path)


def run_in_terminal(args, env, columns=100):
    """Run pyrometer with a pseudo-terminal as its standard output: (status,
    output)."""
    import fcntl
    import pty
    import select
    import struct
    import subprocess
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "pyrometer", *map(str, args)], stdin=slave,
                            stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:   # the other side closed
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    proc.stderr.close()
    os.close(master)
    return proc.returncode, out.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="needs a pty")
def test_colour_on_a_terminal_only_unless_told(shares_file):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR",
                                                           "COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    args = ["report", shares_file, "--full-paths"]
    status, out = run_in_terminal(args, env)
    assert status == 0 and "\x1b[1;31m" in out
    # fitted to the 100 columns
    assert re.search(r"…/[\w/-]*/flask/app\.py:1478\(wsgi_app\)", out) and LONG not in out
    assert max(len(re.sub(r"\x1b\[[\d;]*m", "", line)) for line in table_lines(out)) <= 100
    for extra, more_env in (([], {"NO_COLOR": "1"}), (["--no-color"], {}),
                            (["--no-color"], {"FORCE_COLOR": "1"}), ([], {"TERM": "dumb"})):
        status, out = run_in_terminal(args + extra, dict(env, **more_env))
        assert status == 0 and "\x1b" not in out, (extra, more_env)
    # into a pipe: plain and whole, unless forced
    r = pyrometer_cli(*args, env=env)
    assert "\x1b" not in r.stdout and LONG in r.stdout
    for extra, more_env in ((["--color"], {}), ([], {"FORCE_COLOR": "1"}),
                            (["--color"], {"NO_COLOR": "1"})):
        r = pyrometer_cli(*args, *extra, env=dict(env, **more_env))
        assert "\x1b[1;31m" in r.stdout and LONG in r.stdout, (extra, more_env)


def test_names_fitted_whatever_their_characters():
    """Names with other scripts, and with control characters the report
    spells \\xNN, are cut between characters, never inside one."""
    name = "/été/中文/" * 6 + "\x1bmod.py"
    stats = {(name, 7, "fü" * 3): (1, 1, 0.5, 0.5, {}),
             ("~", 0, "<built-in method len>"): (1, 1, 0.1, 0.1, {})}
    for width in range(60, 140, 3):
        text = _engine.format_report(stats, width=width, color=True)
        prefix = text.split("filename:lineno")[0].rsplit("\n", 1)[1].__len__()
        (row,) = [re.sub(r"\x1b\[[\d;]*m", "", line) for line in text.splitlines()
                  if "(füfüfü)" in line]
        whole = name.replace("\x1b", "\\x1b") + ":7(füfüfü)"
        if prefix + len(whole) <= width or width - prefix < 16:
            assert row.endswith(" " + whole), (width, row)   # fits, or too narrow to cut
        else:
            assert len(row) <= width and row[prefix] == "…", (width, row)
            assert whole.endswith(row[prefix + 1:]), (width, row)
