#!/usr/bin/env python3
"""Time the HTML report of a 100 000-function profile: conversion and page load.

Builds the synthetic profile of report_speed.py (100 000 functions, about
three callers each, built-ins among them) twice: as cProfile writes it (no
call tree: the page estimates its icicle view from the caller->callee
edges) and as pyrometer writes it, with a synthetic call tree of 300 000
nodes appended (docs/tree-format.md).  Then, median of --reps runs:

    convert   `pyrometer convert IN -f html -o OUT.html` in a fresh process:
              reading the profile and writing the page (the tree variant is
              converted in-process from the dicts while the engine cannot
              read tree trailers yet);
    ready     <body data-ready> in headless Chromium: performance.now() when
              the summary, the table, the icicle view and the callers/callees
              panel are rendered, counted from the start of navigation, so
              reading and parsing the HTML are in it;
    chromium  the wall time of the whole headless Chromium run (start,
              load, DOM dump, exit) and the same for a blank page;
    squares   the tree variant opened on its square map (`page.html#squares`):
              the ready time with the squarified layout drawn instead of
              the icicle view.

Prints a markdown table.

    python bench/html_speed.py                 # with pyrometer installed
    python bench/html_speed.py --functions 20000 --reps 3
"""
import argparse
import marshal
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_speed import synthetic_stats  # noqa: E402

from pyrometer import _convert, _engine  # noqa: E402


def synthetic_tree(stats, nodes, seed=20260102):
    """A call tree over the functions of `stats`: deep paths, a few roots."""
    rnd = random.Random(seed)
    keys = list(stats)
    parent, func = [-1], [0]
    for i in range(1, nodes):
        parent.append(-1 if rnd.random() < 0.001 else max(0, i - 1 - int(rnd.expovariate(1 / 30))))
        func.append(rnd.randrange(len(keys)))
    self_ = [rnd.random() * 1e-3 for _ in range(nodes)]
    total = self_[:]
    for i in range(nodes - 1, 0, -1):
        if parent[i] >= 0:
            total[parent[i]] += total[i]
    return {"pyrometer": "calltree", "version": 1, "funcs": keys, "parent": parent, "func": func,
            "calls": [rnd.randint(1, 100) for _ in range(nodes)], "self": self_, "total": total,
            "folded": False}


def chromium_exe():
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)


def open_in_chromium(exe, page, profile_dir, view=""):
    """(wall seconds, data-ready ms or None, data-phases) of one headless load."""
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={profile_dir}", "--window-size=1400,900",
           "--dump-dom", "file://" + page + view]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t
    body = re.search(r"<body[^>]*>", r.stdout)
    body = body.group(0) if body else ""
    ready = re.search(r'data-ready="([\d.]+)"', body)
    phases = re.search(r'data-phases="([^"]*)"', body)
    errors = re.search(r'<html[^>]*data-errors="([^"]*)"', r.stdout)
    if errors and errors.group(1) not in ("[]", ""):
        sys.exit(f"html_speed: the page reported errors: {errors.group(1)}")
    return wall, float(ready.group(1)) if ready else None, phases.group(1) if phases else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", type=int, default=100_000)
    ap.add_argument("--nodes", type=int, default=300_000, help="call tree nodes")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    exe = chromium_exe()

    with tempfile.TemporaryDirectory() as tmp:
        stats = synthetic_stats(args.functions)
        tree = synthetic_tree(stats, args.nodes)
        cprof = os.path.join(tmp, "cprofile.prof")
        with open(cprof, "wb") as f:
            marshal.dump(stats, f)
        ours = os.path.join(tmp, "pyrometer.prof")
        with open(ours, "wb") as f:
            marshal.dump(stats, f)
            marshal.dump(tree, f)
        reads_trees = hasattr(_engine, "load_profile")

        rows = []
        for label, src, with_tree in (("cProfile file (no tree)", cprof, False),
                                      (f"with call tree ({args.nodes:,} nodes)", ours, True)):
            out = os.path.join(tmp, os.path.basename(src) + ".html")
            times = []
            for _ in range(args.reps):
                if with_tree and not reads_trees:
                    t = time.perf_counter()
                    _convert.FORMATS["html"].write(_convert.LoadedProfile(src, stats, tree), out, {})
                    times.append(time.perf_counter() - t)
                else:
                    t = time.perf_counter()
                    r = subprocess.run([sys.executable, "-m", "pyrometer", "convert", src, "-f",
                                        "html", "-o", out], capture_output=True, text=True)
                    times.append(time.perf_counter() - t)
                    if r.returncode != 0:
                        sys.exit(f"html_speed: convert failed: {r.stderr.strip()}")
            size = os.path.getsize(out)
            loads = []
            if exe:
                for k in range(args.reps):
                    loads.append(open_in_chromium(exe, out, os.path.join(tmp, f"chromium-{k}")))
            rows.append((label, statistics.median(times), size, loads,
                         with_tree and not reads_trees))
            if with_tree and exe:
                squares = [open_in_chromium(exe, out, os.path.join(tmp, f"chromium-sq-{k}"),
                                            "#squares") for k in range(args.reps)]
                rows.append(("same, opened on the square map", None, None, squares, False))

        blank = os.path.join(tmp, "blank.html")
        with open(blank, "w") as f:
            f.write("<!DOCTYPE html><title>blank</title><body data-ready=0></body>")
        blank_wall = (statistics.median(open_in_chromium(exe, blank, os.path.join(tmp, "cb"))[0]
                                        for _ in range(args.reps)) if exe else None)

    print(f"Python {sys.version.split()[0]}: {args.functions:,} functions, "
          f"{sum(len(v[4]) for v in stats.values()):,} caller entries; median of {args.reps}")
    if not exe:
        print("(Chromium not found: page load not measured)")
    print()
    print("| input | convert (s) | HTML (MB) | ready in Chromium (s) | Chromium run, wall (s) |")
    print("|---|---:|---:|---:|---:|")
    for label, conv, size, loads, in_process in rows:
        ready = [x[1] for x in loads if x[1] is not None]
        ready_s = f"{statistics.median(ready) / 1000:.2f}" if ready else "–"
        wall_s = f"{statistics.median(x[0] for x in loads):.2f}" if loads else "–"
        note = " (in-process)" if in_process else ""
        conv_s = "" if conv is None else f"{conv:.2f}{note}"
        size_s = "" if size is None else f"{size / 1e6:.1f}"
        print(f"| {label} | {conv_s} | {size_s} | {ready_s} | {wall_s} |")
    if blank_wall is not None:
        print(f"| blank page, for reference | | | | {blank_wall:.2f} |")
    for label, _c, _s, loads, _p in rows:
        if loads:
            print(f"\n{label}: {loads[len(loads) // 2][2]}")


if __name__ == "__main__":
    main()
