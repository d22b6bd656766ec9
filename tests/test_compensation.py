"""Overhead compensation on loops of bias.py's kind (Python, built-in and
built-in method calls per turn against the same work inlined).  The margin
is generous: the machines tests run on are shared, and a run whose
calibration met the machine in another state than the loops did is tried
again.  The tight target (3 points) is checked by the benchmark."""
import json

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
