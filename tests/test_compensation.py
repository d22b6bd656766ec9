"""Overhead compensation on loops of bias.py's kind (Python, built-in and
built-in method calls per turn against the same work inlined).  The margin
is generous: the machines tests run on are shared, and a run whose
calibration met the machine in another state than the loops did is tried
again.  The tight target (3 points) is checked by the benchmark."""
import json
import os

from conftest import PROGRAMS, run_python

MARGIN = 12.0      # percentage points from the true share
ATTEMPTS = 4


def test_compensation_brings_shares_near_the_truth():
    misses = {}
    pending = {"python", "builtin", "method"}
    for _ in range(ATTEMPTS):
        r = run_python([str(PROGRAMS / "compensation.py"), "150000"])
        assert r.returncode == 0, r.stderr
        result = json.loads(r.stdout)
        for name in sorted(pending):
            s = result[name]
            err = abs(s["compensated"] - s["true"])
            if err <= MARGIN:
                pending.discard(name)
            else:
                misses.setdefault(name, []).append(s)
        if not pending:
            break
    assert not pending, {name: misses[name] for name in pending}


def test_uncompensated_shares_show_the_profilers_cost():
    # Without compensation the calling loop carries the hooks' cost, so its
    # share is inflated: the switch really turns compensation off.
    r = run_python([str(PROGRAMS / "compensation.py"), "100000"])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)["python"]
    assert s["raw"] > s["true"]


NESTED = r'''
import json, pyrometer

def tiny(x):
    return x

def middle(n):
    s = 0
    for i in range(n):
        s += tiny(i)
    return s

def outer():
    return sum(middle(50) for _ in range(2000))

p = pyrometer.Profiler()
p.enable()
outer()
p.disable()
t = p.get_tree()
print(json.dumps({"parent": t["parent"], "calls": t["calls"], "self": t["self"],
                  "total": t["total"], "floored": p.info()["floored"]}))
'''


def test_no_node_gets_zero_time_or_more_than_its_caller():
    # Compensation takes the hooks' cost off every call; on tiny functions
    # it can overshoot.  A node that ran never shows 0 (or less), and no
    # callee's total exceeds the total of the caller that contains it.
    r = run_python(["-c", NESTED])
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    for i, parent in enumerate(t["parent"]):
        if t["calls"][i]:
            assert t["self"][i] > 0, (i, t["self"][i])
        if parent >= 0:
            assert t["total"][i] <= t["total"][parent] * (1 + 1e-9), i


LINES = r'''
import json, pyrometer
def tiny(n):
    x = 0
    for i in range(n):
        x = i
    return x
lp = pyrometer.LineProfiler(tiny)
lp.enable()
tiny(20000)
lp.disable()
print(json.dumps({"rows": [t for _, _, ts in lp._raw() for t in ts],
                  "floored": lp.info()["floored"]}))
'''


def test_lines_that_ran_never_show_zero_time():
    # Each run of a line is held at 0 when the compensation overshoots; a
    # line that ran keeps at least the least time a line takes.
    r = run_python(["-c", LINES])
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert rows and all(time > 0 for line, hits, time in rows if hits > 0), rows


def test_no_compensation_means_no_calibration(tmp_path):
    code = ("import pyrometer; p = pyrometer.Profiler(compensate=False); p.enable(); "
            "p.disable(); print(p.info()['calibration_attempts'])")
    env = dict(os.environ, PYROMETER_CACHE_DIR=str(tmp_path / "cache"))
    r = run_python(["-c", code], env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())
