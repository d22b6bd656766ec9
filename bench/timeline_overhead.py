#!/usr/bin/env python3
"""Memory over time: what `pyrometer run --timeline` costs, beside
memory_profiler's `mprof run` at the same interval.

Whole processes on one workload, each command run --runs times in a
turning order (interleaved), the median kept:

    python workload.py SIZE                              the floor
    pyrometer run --timeline workload.py SIZE            RSS from a C thread of the process
    pyrometer run --timeline --memory workload.py SIZE   and every allocation traced
    mprof run workload.py SIZE                           RSS polled by a second process

Wall time and CPU time (user + system of the command and its children:
mprof's sampler is a process of its own) are both reported, over the
floor's.

    python3 bench/timeline_overhead.py [--mprof PATH] [--runs 5] [--write]

mprof comes from a virtual environment of its own (pip install
memory_profiler); without it that row is left out.  --write puts the table
in bench/RESULTS.md between <!-- timeline:begin --> and <!-- timeline:end -->.
"""
import argparse
import datetime
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands(py, mprof, workload, size, interval, out):
    run = [py, "-m", "pyrometer", "run", "--timeline", "--timeline-interval", str(interval)]
    cmds = {
        "python": [py, workload, size],
        "pyrometer run --timeline": [*run, "-o", os.path.join(out, "t.mem"), workload, size],
        "pyrometer run --timeline --memory": [*run, "--memory", "-o",
                                              os.path.join(out, "m.mem"), workload, size],
    }
    if mprof:
        cmds["mprof run"] = [mprof, "run", "--interval", str(interval), "-o",
                             os.path.join(out, "m.dat"), workload, size]
    return cmds


def timed(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError("failed: " + " ".join(cmd))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(cmds, runs, env):
    names = list(cmds)
    got = {n: ([], []) for n in names}
    for i in range(runs):
        for n in names[i % len(names):] + names[:i % len(names)]:
            wall, cpu = timed(cmds[n], env)
            got[n][0].append(wall)
            got[n][1].append(cpu)
    return {n: (statistics.median(w), statistics.median(c)) for n, (w, c) in got.items()}


def table(results, version, args):
    base_wall, base_cpu = results["python"]
    lines = [f"`python bench/timeline_overhead.py --runs {args.runs}`, "
             f"{datetime.date.today().isoformat()}, Python {version}: workload "
             f"`{Path(args.workload).name} {args.size}`, a sample every {args.interval * 1e3:g} "
             f"ms for both tools; whole processes, median of {args.runs} interleaved runs; CPU "
             f"is user + system of the command and its children (mprof samples from a process "
             f"of its own).", "",
             "| command | wall (s) | over python | CPU (s) | over python |",
             "|---|---:|---:|---:|---:|"]
    for name, (wall, cpu) in results.items():
        lines.append(f"| {name} | {wall:.3f} | {wall / base_wall:.2f}× | {cpu:.3f} | "
                     f"{cpu / base_cpu:.2f}× |")
    lines += ["", "The timeline's own cost is the RSS read (a 256-byte read of /proc/self/statm, "
                  "a few µs) every interval on a thread that needs no GIL, plus pyrometer's "
                  "start-up; mprof's is a second Python process polling with psutil. With "
                  "`--memory` every allocation is traced (the memory profiler's cost, not the "
                  "timeline's)."]
    return "\n".join(lines) + "\n"


def write_results(text):
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text()
    block = f"<!-- timeline:begin -->\n## Memory over time\n\n{text}<!-- timeline:end -->"
    if "<!-- timeline:begin -->" in old:
        new = re.sub(r"<!-- timeline:begin -->.*?<!-- timeline:end -->", lambda m: block, old,
                     flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--mprof", default=shutil.which("mprof"))
    p.add_argument("--workload", default=str(ROOT / "bench" / "workloads" / "objects.py"))
    p.add_argument("--size", default="1000000")
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--write", action="store_true")
    args = p.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    version = subprocess.run([args.python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="pyrometer-bench-") as out:
        cmds = commands(args.python, args.mprof, args.workload, args.size, args.interval, out)
        results = measure(cmds, args.runs, env)
    text = table(results, version, args)
    print(text)
    if args.write:
        write_results(text)


if __name__ == "__main__":
    main()
