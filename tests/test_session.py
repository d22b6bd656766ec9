"""One session for every mode: the clock belongs to it, and modes running
together leave each other's cost out of their times."""
import os
import sys

import pytest

from conftest import run_python

CLOCKS = r'''
import json, time, pyrometer

def sleeper():
    time.sleep(0.2)

def spin():
    t = time.process_time()
    while time.process_time() - t < 0.05:
        pass

p = pyrometer.Profiler(clock="wall", builtins=False)
p.enable()
sleeper()
refused = None
lp = pyrometer.LineProfiler(spin, clock="cpu")
try:
    lp.enable()
except ValueError as exc:
    refused = str(exc)
sleeper(); spin()
lp.disable()
sleeper()
p.disable()
cum = {k[2]: v[3] for k, v in p.get_stats().items() if k[2] == "sleeper"}
print(json.dumps({"refused": refused, "sleeper": cum["sleeper"], "clock": p.info()["clock"]}))
'''


def test_each_profiler_keeps_its_clock():
    import json
    r = run_python(["-c", CLOCKS])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["refused"] is not None
    if sys.version_info >= (3, 12):
        assert out["refused"] == ("pyrometer: the function profiler that is on measures wall "
                                  "time: a line profiler on cpu time cannot run beside it "
                                  "(give both one clock)")
    # three 0.2 s sleeps, all on the wall clock
    assert 0.55 < out["sleeper"] < 0.9, out
    assert out["clock"] in ("tsc", "monotonic")


TOGETHER = r'''
import json, statistics, pyrometer

def f(x):
    return x

def calling(n):
    for i in range(n):
        f(i)

def inlined(n):
    for i in range(n):
        x = i
        x += 1
        x += 2
        x += 3

def share(with_lines):
    p = pyrometer.Profiler(builtins=False)
    lp = pyrometer.LineProfiler(inlined) if with_lines else None
    p.enable()
    if lp: lp.enable()
    calling(N); inlined(N)
    if lp: lp.disable()
    p.disable()
    cum = {k[2]: v[3] for k, v in p.get_stats().items()}
    return 100 * cum["inlined"] / (cum["inlined"] + cum["calling"])

N = 200000
calling(N); inlined(N)
off = [share(False) for _ in range(5)]
on = [share(True) for _ in range(5)]
print(json.dumps({"off": statistics.median(off), "on": statistics.median(on)}))
'''


@pytest.mark.skipif(sys.version_info < (3, 12), reason="before 3.12 the two modes exclude each other")
def test_modes_together_leave_each_others_cost_out():
    """Line events in inlined() cost several times what its lines do; with
    that cost left in, its share of the function profile would jump."""
    import json
    import tempfile
    for attempt in range(3):
        # each attempt calibrates afresh (see test_compensation.py)
        with tempfile.TemporaryDirectory() as cache:
            r = run_python(["-c", TOGETHER], env=dict(os.environ, PYROMETER_CACHE_DIR=cache))
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        if abs(out["on"] - out["off"]) <= 10:
            break
    assert abs(out["on"] - out["off"]) <= 10, out


FAILURE = r'''
import json, pyrometer, pyrometer._api

def leaf(i):
    return i * 2

def other(i):
    return abs(i) + len(str(i))

def work():
    total = 0
    for i in range(200):
        total += leaf(i) + other(-i)
    return total

expected = work()
lp = pyrometer.LineProfiler(work)
p = pyrometer.Profiler(_node_limit=3)
lp.enable()
p.enable()
result = work()
p.disable()
lines_after_failure = lp.get_stats()
work()
lp.disable()
again = lp.get_stats()
print(json.dumps({
    "result": result == expected,
    "function": p.info()["out_of_memory"],
    "line": lp.info()["out_of_memory"],
    # the same hits and times (the clock's scale may be refined meanwhile)
    "frozen": all(h1 == h2 and abs(t1 - t2) <= 1e-3 * t1 + 2
                  for f1, f2 in zip(lines_after_failure["functions"], again["functions"])
                  for (_, h1, t1), (_, h2, t2) in zip(f1["timings"], f2["timings"])),
    "note": lp.get_stats()["meta"].get("note", ""),
}))
'''


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="before 3.12 the two modes do not run together")
def test_a_failure_in_one_mode_stops_every_mode():
    """Memory running out in the function profiler's table stops the line
    profiler too, and both say so: a profile of part of the run must not
    read as the whole run."""
    import json
    r = run_python(["-c", FAILURE])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["result"] is True
    assert out["function"] is True and out["line"] is True, out
    assert out["frozen"], out
    assert "memory ran out" in out["note"], out
