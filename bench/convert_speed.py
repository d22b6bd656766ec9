#!/usr/bin/env python3
"""Time `pyrometer convert` against the converters people use today.

Makes the synthetic profile of bench/report_speed.py (100 000 functions,
about three callers each, built-ins among them, some recursion) in a
temporary directory, then times, interleaved over the repetitions, each
pair of commands run as a user runs them (a new process each, wall time):

    dot        pyrometer convert X -f dot -o Y    vs  gprof2dot -f pstats X -o Y
    callgrind  pyrometer convert X -f callgrind -o Y  vs  pyprof2calltree -i X -o Y

The peers run with default options (gprof2dot's thresholds are ours).  The
first repetition checks that both dot graphs have the same numbers of nodes
and edges.  Prints a markdown table of the medians and the ratios.

    python bench/convert_speed.py                 # with pyrometer[test] installed
    python bench/convert_speed.py --functions 20000 --reps 3
"""
import argparse
import marshal
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_speed import synthetic_stats  # noqa: E402

TARGET = 0.2   # pyrometer's time as a share of the peer's


def commands(src, tmp):
    py = sys.executable
    return {
        "dot": (
            ("gprof2dot", [py, "-m", "gprof2dot", "-f", "pstats", src, "-o",
                           os.path.join(tmp, "peer.dot")]),
            ("pyrometer", [py, "-m", "pyrometer", "convert", src, "-f", "dot", "-o",
                           os.path.join(tmp, "ours.dot")]),
        ),
        "callgrind": (
            ("pyprof2calltree", [py, "-m", "pyprof2calltree", "-i", src, "-o",
                                 os.path.join(tmp, "peer.callgrind")]),
            ("pyrometer", [py, "-m", "pyrometer", "convert", src, "-f", "callgrind", "-o",
                           os.path.join(tmp, "ours.callgrind")]),
        ),
    }


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"convert_speed: {' '.join(cmd[:4])}... failed:\n{r.stderr}")
    return elapsed


def graph_size(path):
    text = open(path, encoding="utf-8").read()
    edges = len(re.findall(r"^\t\S+ -> \S+ \[", text, re.M))
    nodes = len(re.findall(r"^\t\d+ \[", text, re.M))
    return nodes, edges


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", type=int, default=100_000)
    ap.add_argument("--callers", type=int, default=3, help="mean callers per function")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "synthetic.prof")
        stats = synthetic_stats(args.functions, args.callers)
        with open(src, "wb") as f:
            marshal.dump(stats, f)
        ncallers = sum(len(v[4]) for v in stats.values())
        del stats
        size = os.path.getsize(src)

        jobs = commands(src, tmp)
        times = {job: {name: [] for name, _ in pair} for job, pair in jobs.items()}
        for rep in range(args.reps):
            for job, pair in jobs.items():
                # alternate who goes first, so neither always gets a warm cache
                for name, cmd in (pair if rep % 2 == 0 else pair[::-1]):
                    times[job][name].append(timed(cmd))
            if rep == 0:
                peer, ours = graph_size(os.path.join(tmp, "peer.dot")), graph_size(
                    os.path.join(tmp, "ours.dot"))
                if peer != ours:
                    print(f"warning: gprof2dot drew {peer[0]} nodes and {peer[1]} edges, "
                          f"pyrometer {ours[0]} and {ours[1]}", file=sys.stderr)

    print(f"Python {sys.version.split()[0]}: {args.functions} functions, {ncallers} caller "
          f"entries, {size / 1e6:.1f} MB .prof; wall time of the whole command, median of "
          f"{args.reps}\n")
    print("| output | peer | peer (s) | pyrometer (s) | pyrometer / peer | target |")
    print("|---|---|---:|---:|---:|---:|")
    for job, pair in jobs.items():
        (peer, _), (ours, _) = pair
        p = statistics.median(times[job][peer])
        o = statistics.median(times[job][ours])
        verdict = "met" if o / p <= TARGET else "missed"
        print(f"| {job} | {peer} | {p:.2f} | {o:.2f} | {o / p:.3f} | <= {TARGET} ({verdict}) |")


if __name__ == "__main__":
    main()
