"""Compensation workload: built-in calls per loop turn against the same work inlined.

calling(n) calls the built-ins abs() and min() each turn; inlined(n)
computes the same values with expressions.  Unprofiled,
time(calling) / (time(calling) + time(inlined)) is the true share of
calling, which a compensating profiler should report (built-ins are
profiled, as cProfile does).

    python bias_builtin.py [n]
"""
import time

from bias import run_script, timed_split

DEFAULT_SIZE = 2_000_000
QUICK_SIZE = 1_000_000
CALL_HEAVY = True
LINE_TARGETS = ["calling"]


def calling(n):
    s = 0
    for i in range(n):
        s += min(abs(i - 500), 300)
    return s


def inlined(n):
    s = 0
    for i in range(n):
        d = i - 500
        d = d if d >= 0 else -d
        s += d if d < 300 else 300
    return s


def main(size=DEFAULT_SIZE):
    return calling(size) - inlined(size)


def true_split(size=DEFAULT_SIZE, reps=5, clock=time.perf_counter):
    return timed_split(calling, inlined, size, reps, clock)


if __name__ == "__main__":
    run_script(main, calling, inlined, DEFAULT_SIZE)
