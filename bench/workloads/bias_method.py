"""Compensation workload: a method call per loop turn against the same work inlined.

calling(n) calls a bound method and, through it, a small function (two
nested calls per turn); inlined(n) does their work in the loop body.
Unprofiled, time(calling) / (time(calling) + time(inlined)) is the true
share of calling, which a compensating profiler should report.

    python bias_method.py [n]
"""
import time

from bias import run_script, timed_split

DEFAULT_SIZE = 2_000_000
QUICK_SIZE = 1_000_000
CALL_HEAVY = True
LINE_TARGETS = ["calling", "Counter.step", "scale"]


def scale(v):
    return v * 3


class Counter:
    def __init__(self):
        self.total = 0

    def step(self, x):
        self.total += scale(x)
        return x + 1


def calling(n):
    c = Counter()
    x = 0
    for _ in range(n):
        x = c.step(x)
    return c.total


def inlined(n):
    c = Counter()
    x = 0
    for _ in range(n):
        c.total += x * 3
        x = x + 1
    return c.total


def main(size=DEFAULT_SIZE):
    return calling(size) - inlined(size)


def true_split(size=DEFAULT_SIZE, reps=5, clock=time.perf_counter):
    return timed_split(calling, inlined, size, reps, clock)


if __name__ == "__main__":
    run_script(main, calling, inlined, DEFAULT_SIZE)
