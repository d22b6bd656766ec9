"""Loops with a call per turn against the same work inlined, in the shape
of bench/workloads/bias.py: a Python function, built-in functions, and a
built-in type's methods.  Prints, as JSON, each pair's true share of the
calling loop (timed unprofiled) and the shares pyrometer reports with and
without compensation."""
import json
import sys
import time

import pyrometer

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000


def f(x):
    return x + 1


def py_calling(n):
    x = 0
    for _ in range(n):
        x = f(x)
    return x


def py_inlined(n):
    x = 0
    for _ in range(n):
        x = x + 1
    return x


def builtin_calling(n):
    s = 0
    for i in range(n):
        s += min(abs(i - 500), 300)
    return s


def builtin_inlined(n):
    s = 0
    for i in range(n):
        d = i - 500
        d = d if d >= 0 else -d
        s += d if d < 300 else 300
    return s


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


PAIRS = {"python": (py_calling, py_inlined),
         "builtin": (builtin_calling, builtin_inlined),
         "method": (method_calling, method_inlined)}


def median(v):
    return sorted(v)[len(v) // 2]


def true_share(calling, inlined, reps=5):
    tc, ti = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        calling(N)
        t1 = time.perf_counter()
        inlined(N)
        t2 = time.perf_counter()
        tc.append(t1 - t0)
        ti.append(t2 - t1)
    return 100 * median(tc) / (median(tc) + median(ti))


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
    return median(shares)


result = {}
for name, (calling, inlined) in PAIRS.items():
    true = true_share(calling, inlined)
    result[name] = {"true": true,
                    "compensated": profiled_share(calling, inlined, True),
                    "raw": profiled_share(calling, inlined, False)}
print(json.dumps(result))
