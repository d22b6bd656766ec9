#!/usr/bin/env python3
"""Start-up: what profiling an empty script costs over running it.

For each Python version, the wall time of whole processes on an empty
script, each command run 15 times in a turning order (interleaved), the
minimum kept (start-up is fixed work: the scheduler only adds to it):

    python empty.py                      the floor
    python -m cProfile empty.py          the peer of `pyrometer run`
    pyrometer run empty.py               (python -m pyrometer run)
    kernprof -l empty.py                 the peer of `pyrometer run --lines`
    pyrometer run --lines empty.py

Targets (issue 16): pyrometer run <= cProfile + 5 ms, pyrometer run --lines
<= kernprof -l + 5 ms.  Also printed: pyrometer's own calibration time on
a first run in a fresh cache (what the cache saves), and `import pyrometer`.

    python3 bench/startup.py [--versions 3.12,3.13] [--runs 15] [--write]

The interpreters are the test environments tools/test_all.py makes
(.venvs/X.Y, which have line_profiler's kernprof); --write puts the table in
bench/RESULTS.md between <!-- startup:begin --> and <!-- startup:end -->.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
TARGET_MS = 5.0


def commands(py, empty):
    bindir = py.parent
    kernprof = bindir / "kernprof"
    cmds = {
        "python": [str(py), empty],
        "cProfile": [str(py), "-m", "cProfile", empty],
        "pyrometer run": [str(py), "-m", "pyrometer", "run", empty],
        "import pyrometer": [str(py), "-c", "import pyrometer"],
    }
    if kernprof.exists():
        cmds["kernprof -l"] = [str(py), str(kernprof), "-l", "-o", os.devnull, empty]
    cmds["pyrometer run --lines"] = [str(py), "-m", "pyrometer", "run", "--lines", empty]
    return cmds


def timed(cmd, env):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    t1 = time.perf_counter()
    if r.returncode != 0:
        raise RuntimeError("failed: " + " ".join(cmd))
    return (t1 - t0) * 1e3


def measure(py, runs, cache_dir):
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.py")
        Path(empty).write_text("")
        env = dict(os.environ, PYROMETER_CACHE_DIR=cache_dir)
        env.pop("PYTHONPATH", None)
        # As users run: with compiled modules (the first runs write them).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmds = commands(py, empty)
        # The first run of each fills the calibration cache; not counted.
        for cmd in cmds.values():
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                           cwd=tmp)
        times = {name: [] for name in cmds}
        names = list(cmds)
        for i in range(runs):
            order = names[i % len(names):] + names[:i % len(names)]
            for name in order:
                times[name].append(timed(cmds[name], env))
        # A cold cache: what calibrating costs a run that cannot reuse one.
        cold = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as fresh:
                cold.append(timed(cmds["pyrometer run"], dict(env, PYROMETER_CACHE_DIR=fresh)))
        return {name: min(v) for name, v in times.items()}, min(cold)


def table(results, runs):
    lines = ["## Start-up\n",
             "`python bench/startup.py --runs %d`, %s: wall time of a whole process on an "
             "empty script, ms, the minimum of %d interleaved runs (a warm calibration cache; "
             "'cold cache': `pyrometer run` when it must calibrate). Targets: `pyrometer run` "
             "≤ cProfile + %.0f ms, `pyrometer run --lines` ≤ `kernprof -l` + %.0f ms.\n"
             % (runs, datetime.date.today().isoformat(), runs, TARGET_MS, TARGET_MS),
             "| Python | python | import pyrometer | cProfile | pyrometer run | over cProfile "
             "| kernprof -l | pyrometer run --lines | over kernprof | cold cache |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for full, (t, cold) in results.items():
        over_c = t["pyrometer run"] - t["cProfile"]
        k = t.get("kernprof -l")
        over_k = t["pyrometer run --lines"] - k if k is not None else None

        def mark(v):
            if v is None:
                return "—"
            return "%+.1f %s" % (v, "✓" if v <= TARGET_MS else "✗")
        lines.append("| %s | %.1f | %.1f | %.1f | %.1f | %s | %s | %.1f | %s | %.1f |" % (
            full, t["python"], t["import pyrometer"], t["cProfile"], t["pyrometer run"],
            mark(over_c), "%.1f" % k if k is not None else "—", t["pyrometer run --lines"],
            mark(over_k), cold))
    return "\n".join(lines) + "\n"


def write_results(text):
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    block = "<!-- startup:begin -->\n" + text + "<!-- startup:end -->\n"
    if "<!-- startup:begin -->" in old:
        new = re.sub(r"<!-- startup:begin -->.*?<!-- startup:end -->\n", lambda m: block, old,
                     flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + block
    path.write_text(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", default=",".join(VERSIONS))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        for minor in args.versions.split(","):
            py = ROOT / ".venvs" / minor / "bin" / "python"
            if not py.exists():
                print("startup: no .venvs/%s (run tools/test_all.py first); skipped" % minor,
                      file=sys.stderr)
                continue
            full = subprocess.run([str(py), "-c", "import sys; print(sys.version.split()[0])"],
                                  capture_output=True, text=True).stdout.strip()
            print("measuring", full, flush=True)
            results[full] = measure(py, args.runs, os.path.join(cache, minor))
    text = table(results, args.runs)
    print(text)
    if args.write:
        write_results(text)


if __name__ == "__main__":
    main()
