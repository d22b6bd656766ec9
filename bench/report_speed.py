#!/usr/bin/env python3
"""Time pyrometer's .prof reader and report printer against pstats.

Generates a synthetic profile of 100 000 functions (about three callers
each, built-ins among them, some recursion) in a temporary directory, shaped
as cProfile writes it, then times, interleaved over the repetitions:

    pstats     pstats.Stats(path, stream=StringIO()).sort_stats("cumulative")
               .print_stats()  (or .print_callers() / .print_callees())
    pyrometer  _engine.load_stats(path), then _engine.format_report(...)

Both read the file from disk every time; only that work is timed. The first
repetition also checks that the two texts are identical. Prints a markdown
table of the medians.

    python bench/report_speed.py                 # with pyrometer installed
    python bench/report_speed.py --functions 20000 --reps 3
"""
import argparse
import gc
import io
import marshal
import os
import pstats
import random
import statistics
import sys
import tempfile
import time

from pyrometer import _engine

MODES = {"stats": "print_stats", "callers": "print_callers", "callees": "print_callees"}


def synthetic_stats(n, callers_per_function=3, seed=20260101):
    """A pstats dict of n functions, as cProfile would produce it."""
    rnd = random.Random(seed)
    files = [f"/srv/app/lib/python3/site-packages/pkg{i % 97}/sub{i % 13}/module_{i}.py"
             for i in range(max(1, n // 40))]
    keys = []
    for i in range(n):
        if i % 12 == 0:
            keys.append(("~", 0, f"<built-in method pkg{i % 31}.native_{i}>"))
        elif i % 12 == 1:
            keys.append(("~", 0, f"<method 'op_{i}' of 'Type{i % 53}' objects>"))
        else:
            keys.append((rnd.choice(files), rnd.randint(1, 4000), f"function_{i}"))
    stats = {}
    for i, key in enumerate(keys):
        callers = {}
        for _ in range(rnd.randint(1, 2 * callers_per_function - 1)):
            c = keys[rnd.randrange(n)]
            nc = rnd.choice((1, 1, 2, 3, 10, 100, 1000, rnd.randint(1, 10**6)))
            cc = nc if rnd.random() < 0.9 else max(1, nc // 4)
            tt = rnd.random() * 1e-3 * nc ** 0.5
            ct = tt + rnd.random() * 1e-2
            # cProfile's label() makes a new tuple for every caller key
            callers[(c[0], c[1], c[2])] = (nc, cc, tt, ct)
        nc = sum(v[0] for v in callers.values())
        cc = sum(v[1] for v in callers.values())
        tt = sum(v[2] for v in callers.values())
        ct = sum(v[3] for v in callers.values())
        stats[key] = (cc, nc, tt, ct, callers)
    return stats


def run_pstats(path, mode):
    out = io.StringIO()
    st = pstats.Stats(path, stream=out).sort_stats("cumulative")
    getattr(st, MODES[mode])()
    return out.getvalue(), st.files


def run_ours(path, mode, files):
    # pstats' layout, so that the text can be checked against pstats'; the
    # default layout's columns cost one more pass over the printed rows
    stats = _engine.load_stats(path)
    return _engine.format_report(stats, sort=("cumulative",), files=files, mode=mode,
                                 layout="pstats")


def timed(fn, *args):
    gc.collect()
    t = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", type=int, default=100_000)
    ap.add_argument("--callers", type=int, default=3, help="mean callers per function")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--modes", default="stats,callers,callees")
    args = ap.parse_args()
    modes = args.modes.split(",")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "synthetic.prof")
        stats = synthetic_stats(args.functions, args.callers)
        with open(path, "wb") as f:
            marshal.dump(stats, f)
        ncallers = sum(len(v[4]) for v in stats.values())
        del stats
        size = os.path.getsize(path)

        times = {m: {"pstats": [], "pyrometer": []} for m in modes}
        for rep in range(args.reps):
            for mode in modes:
                tp, (expected, files) = timed(run_pstats, path, mode)
                to, got = timed(run_ours, path, mode, files)
                if rep == 0 and got != expected:
                    sys.exit(f"report_speed: {mode}: pyrometer's text differs from pstats'")
                times[mode]["pstats"].append(tp)
                times[mode]["pyrometer"].append(to)
                del expected, got

    print(f"Python {sys.version.split()[0]}: {args.functions} functions, {ncallers} caller "
          f"entries, {size / 1e6:.1f} MB file; median of {args.reps}, sort 'cumulative'\n")
    print("| report | pstats (s) | pyrometer (s) | speed-up |")
    print("|---|---:|---:|---:|")
    for mode in modes:
        p = statistics.median(times[mode]["pstats"])
        o = statistics.median(times[mode]["pyrometer"])
        print(f"| {MODES[mode]}() | {p:.3f} | {o:.3f} | {p / o:.1f}x |")


if __name__ == "__main__":
    main()
