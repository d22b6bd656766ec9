"""Overhead compensation on loops of bias.py's kind (Python, built-in and
built-in method calls per turn against the same work inlined).  The margin
is generous: the machines tests run on are shared, and a run whose
calibration met the machine in another state than the loops did is tried
again.  The tight target (3 points) is checked by the benchmark."""
import json
import os
import tempfile

from conftest import PROGRAMS, run_python

MARGIN = 12.0      # percentage points from the true share
ATTEMPTS = 4


def test_compensation_brings_shares_near_the_truth():
    misses = {}
    pending = {"python", "builtin", "method"}
    for _ in range(ATTEMPTS):
        # each attempt calibrates afresh: this checks the compensation, not
        # a calibration another test left in the store (whose quick check
        # covers Python calls only; see docs/compensation.md)
        with tempfile.TemporaryDirectory() as cache:
            r = run_python([str(PROGRAMS / "compensation.py"), "150000"],
                           env=dict(os.environ, PYROMETER_CACHE_DIR=cache))
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


BUSY = r'''
import json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import bias, pyrometer, pyrometer._api
cpu = min(os.sched_getaffinity(0))
os.sched_setaffinity(0, {cpu})
hog = subprocess.Popen([sys.executable, "-c",
                        "import os; os.sched_setaffinity(0, {%d})\nwhile True: pass" % cpu])
try:
    time.sleep(0.05)
    n = 300_000
    c, i = bias.timed_split(bias.calling, bias.inlined, n, 3, clock=time.thread_time)
    p = pyrometer.Profiler()
    p.enable()
    bias.calling(n)
    bias.inlined(n)
    p.disable()
finally:
    hog.kill()
cum = {k[2]: v[3] for k, v in p.get_stats().items()}
print(json.dumps({"true": 100 * c / (c + i),
                  "share": 100 * cum["calling"] / (cum["calling"] + cum["inlined"]),
                  "waited": p.info()["waited_s"],
                  "notes": pyrometer._api.notes_for(p)}))
'''


def test_waits_for_a_cpu_are_left_out():
    # A CPU-bound process on the same CPU takes it for whole time slices;
    # the wall clock would count each in whatever phase was running.  The
    # waits are read from the scheduler and left out, so the share stays
    # near the share of CPU time, and the notes say how much was left out.
    if not os.path.exists("/proc/thread-self/schedstat") or not hasattr(os, "sched_setaffinity"):
        import pytest
        pytest.skip("the scheduler does not tell a thread's waits here")
    misses = []
    for _ in range(ATTEMPTS):
        r = run_python(["-c", BUSY, str(PROGRAMS.parent.parent / "bench" / "workloads")])
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        assert s["waited"] > 0.01, s
        if abs(s["share"] - s["true"]) <= MARGIN:
            return
        misses.append(s)
    raise AssertionError(misses)
