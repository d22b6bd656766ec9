"""--match REGEX: pstats' regex restriction (print_stats('parse')), in
report and run, each narrowing the last, then --limit; the same rows and
"List reduced" lines as pstats prints."""
import pstats
import io
import re

from conftest import run_python

PROGRAM = '''
import json, re
def parse_one(s):
    return json.loads(s)
def parse_all(n):
    return [parse_one('{"a": %d}' % i) for i in range(n)]
def render(items):
    return ",".join(str(x) for x in items)
render(parse_all(2000))
'''


def rows_of(text):
    body = text.split("filename:lineno(function)", 1)[1]
    return [l.split()[-1] for l in body.strip().splitlines() if l.strip() and
            not l.startswith("pyrometer:")]


def test_match_is_pstats_restriction(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    out = tmp_path / "p.prof"
    r = run_python(["-m", "pyrometer", "run", "-o", str(out), str(prog)])
    assert r.returncode == 0, r.stderr
    r = run_python(["-m", "pyrometer", "report", str(out), "--match", "parse", "--full-paths",
                    "--show-imports", "-s", "cumulative", "--no-color"])
    assert r.returncode == 0, r.stderr
    ours = rows_of(r.stdout)
    buf = io.StringIO()
    pstats.Stats(str(out), stream=buf).sort_stats("cumulative").print_stats("parse")
    theirs = rows_of(buf.getvalue())
    assert ours == theirs and ours
    assert re.search(r"List reduced from \d+ to %d due to restriction <'parse'>" % len(ours),
                     r.stdout)
    # each narrows the last, then the limit
    r = run_python(["-m", "pyrometer", "report", str(out), "--match", "parse", "--match", "one",
                    "-l", "5", "--no-color"])
    assert r.returncode == 0 and rows_of(r.stdout) and all("parse_one" in x for x in rows_of(r.stdout))
    # in run, and a bad regex is one line, exit 2
    r = run_python(["-m", "pyrometer", "run", "--match", "render", str(prog)])
    assert r.returncode == 0 and "(render)" in r.stdout and "(parse_all)" not in r.stdout.split(
        "filename:lineno(function)")[1]
    r = run_python(["-m", "pyrometer", "report", str(out), "--match", "("])
    assert r.returncode == 2 and "is not a regular expression" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_convert_groups_and_strips_dirs(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    out = tmp_path / "p.prof"
    r = run_python(["-m", "pyrometer", "run", "-o", str(out), str(prog)])
    assert r.returncode == 0, r.stderr
    svg = tmp_path / "by.svg"
    r = run_python(["-m", "pyrometer", "convert", str(out), "--by", "package", "-o", str(svg)])
    assert r.returncode == 0, r.stderr
    assert "json" in svg.read_text()
    stripped = tmp_path / "s.prof"
    r = run_python(["-m", "pyrometer", "convert", str(out), "--strip-dirs", "-o", str(stripped)])
    assert r.returncode == 0, r.stderr
    ours = pstats.Stats(str(stripped))
    theirs = pstats.Stats(str(out)).strip_dirs()
    assert set(ours.stats) == set(theirs.stats)
    assert ours.total_calls == theirs.total_calls
    r = run_python(["-m", "pyrometer", "convert", str(out), "--strip-dirs", "-o",
                    str(tmp_path / "s.svg")])
    assert r.returncode == 2 and "call tree" in r.stderr
