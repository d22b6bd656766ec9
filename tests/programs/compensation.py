"""Loops with a call per turn against the same work inlined: the
benchmark's bias.py (a Python function) and bias_builtin.py (built-in
functions), and a loop of built-in types' methods.  Prints, as JSON, each
pair's true share of the calling loop (timed unprofiled) and the shares
pyrometer reports with and without compensation; main() runs the pairs
once, small, for the tests that profile every program here.

    python compensation.py [n]
"""
import json
import os
import statistics
import sys

import pyrometer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "workloads"))
import bias            # noqa: E402  (the benchmark's own compensation workloads)
import bias_builtin    # noqa: E402

N = 200_000


def method_calling(n):
    d = {}
    out = []
    for i in range(n):
        out.append(d.get(i, i))
    return len(out)


def method_inlined(n):
    d = {}
    out = [None] * n
    for i in range(n):
        out[i] = d[i] if i in d else i
    return len(out)


PAIRS = {"python": (bias.calling, bias.inlined),
         "builtin": (bias_builtin.calling, bias_builtin.inlined),
         "method": (method_calling, method_inlined)}


def true_share(calling, inlined, reps=5):
    tc, ti = bias.timed_split(calling, inlined, N, reps)
    return 100 * tc / (tc + ti)


def profiled_share(calling, inlined, compensate, reps=3):
    shares = []
    for _ in range(reps):
        p = pyrometer.Profiler(compensate=compensate)
        p.enable()
        calling(N)
        inlined(N)
        p.disable()
        cum = {k[2]: v[3] for k, v in p.get_stats().items()}
        shares.append(100 * cum[calling.__name__]
                      / (cum[calling.__name__] + cum[inlined.__name__]))
    return statistics.median(shares)


def measure():
    result = {}
    for name, (calling, inlined) in PAIRS.items():
        result[name] = {"true": true_share(calling, inlined),
                        "compensated": profiled_share(calling, inlined, True),
                        "raw": profiled_share(calling, inlined, False)}
    return result


def main(n=2000):
    """The pairs once each, small (what the other program tests profile)."""
    return [f(n) for pair in PAIRS.values() for f in pair]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        N = int(sys.argv[1])
    print(json.dumps(measure()))
