"""A profile written under one Python reads under every other: a .prof from
this Python opens in the other versions' pstats (3.9's included), and one
written there opens here, in pstats and in pyrometer.

The other interpreters are the test environments tools/test_all.py makes
(.venvs/X.Y of this checkout); versions not set up yet are skipped, so each
pair is checked by the later of its two runs."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
HERE = "%d.%d" % sys.version_info[:2]

PROGRAM = '''
def leaf(i):
    return i + 1

def walk(n):
    return sum(leaf(i) for i in range(n))

def main():
    for _ in range(3):
        walk(50)
    sorted([3, 1, 2])

main()
'''

READ = '''
import json, pstats, sys
s = pstats.Stats(sys.argv[1])
print(json.dumps({"total": s.total_calls, "prim": s.prim_calls,
                  "funcs": sorted("%s:%s" % (k[2], v[1]) for k, v in s.stats.items()
                                  if k[0].endswith("prog.py"))}))
'''


def others():
    found = []
    for py in sorted((ROOT / ".venvs").glob("3.*/bin/python")):
        minor = py.parent.parent.name
        if minor != HERE:
            found.append(pytest.param(py, id=minor))
    return found


def read_with(python, path):
    r = subprocess.run([str(python), "-c", READ, str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("other", others() or [pytest.param(None, id="none")])
def test_profiles_cross_versions(other, tmp_path):
    if other is None:
        pytest.skip("no other Python's test environment is set up yet")
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    mine = tmp_path / "here.prof"
    r = run_python(["-m", "pyrometer", "run", "-o", str(mine), str(prog)])
    assert r.returncode == 0, r.stderr
    expected = read_with(sys.executable, mine)
    assert "leaf:150" in expected["funcs"]
    assert read_with(other, mine) == expected            # theirs reads ours

    has_engine = subprocess.run([str(other), "-c", "import pyrometer._engine"],
                                capture_output=True, timeout=120).returncode == 0
    if not has_engine:
        pytest.skip("pyrometer is not built for %s yet" % other.parent.parent.name)
    theirs = tmp_path / "there.prof"
    r = subprocess.run([str(other), "-m", "pyrometer", "run", "-o", str(theirs), str(prog)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = read_with(sys.executable, theirs)               # ours reads theirs
    assert got == read_with(other, theirs)
    assert "leaf:150" in got["funcs"]
    r = run_python(["-m", "pyrometer", "report", str(theirs)])
    assert r.returncode == 0 and "leaf" in r.stdout, r.stderr
