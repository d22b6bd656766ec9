"""The compensation workload: the same loop with and without a call.

calling(n) calls f() n times; inlined(n) does f's work in the loop body.
Run unprofiled, time(calling) / (time(calling) + time(inlined)) is the true
share of calling; a profiler that compensates for its own cost reports about
the same share.

    python bias.py [n]
"""
import sys
import time

DEFAULT_SIZE = 4_000_000
QUICK_SIZE = 2_000_000
CALL_HEAVY = True
# Line mode (bench/run_lines.py): the functions line-profiled.
LINE_TARGETS = ["calling", "f"]


def f(x):
    return x + 1


def calling(n):
    x = 0
    for _ in range(n):
        x = f(x)
    return x


def inlined(n):
    x = 0
    for _ in range(n):
        x = x + 1
    return x


def main(size=DEFAULT_SIZE):
    return calling(size) + inlined(size)


def timed_split(calling, inlined, size, reps, clock=time.perf_counter):
    """Unprofiled times of calling() and inlined() (median of reps each).

    On a machine busy with other processes the wall clock counts whole time
    slices the scheduler gave away in one phase or the other (a share moves
    by +-10 points from run to run); clock=time.thread_time counts only
    the thread's own CPU time."""
    tc, ti = [], []
    for _ in range(reps):
        t0 = clock()
        calling(size)
        t1 = clock()
        inlined(size)
        t2 = clock()
        tc.append(t1 - t0)
        ti.append(t2 - t1)
    tc.sort()
    ti.sort()
    return tc[len(tc) // 2], ti[len(ti) // 2]


def true_split(size=DEFAULT_SIZE, reps=5, clock=time.perf_counter):
    return timed_split(calling, inlined, size, reps, clock)


def run_script(main, calling, inlined, default_size):
    """`python WORKLOAD.py [n]` for the compensation workloads."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else default_size
    print(main(n))
    c, i = timed_split(calling, inlined, n, reps=3)
    print("calling %.3fs  inlined %.3fs  split %.1f%%" % (c, i, 100 * c / (c + i)))


if __name__ == "__main__":
    run_script(main, calling, inlined, DEFAULT_SIZE)
