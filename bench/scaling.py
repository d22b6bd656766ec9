#!/usr/bin/env python3
"""Cost that must grow with the size of the program, not with its square.

For each CPython found (bench/run.py's environments), in a fresh interpreter
per run, interleaved, median of the repetitions:

- function mode: a module body that calls N distinct functions once each
  (every call path is seen for the first time), for N = 12 500, 25 000 and
  50 000: seconds of that loop unprofiled, under cProfile and under
  pyrometer;
- line mode: one function of N lines run once, for the same N: unprofiled,
  under a sys.settrace reference and under pyrometer's line profiler.

A cost that is linear in N doubles from one size to the next: the `x2`
column gives the growth of pyrometer's time per doubling (about 2 when
linear, 4 for a square).

    python3 bench/scaling.py                # all versions found, prints the tables
    python3 bench/scaling.py --python 3.12 --reps 5
    python3 bench/scaling.py --write        # also writes its section of RESULTS.md
"""
import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

import run as bench
from run import BENCH, VERSIONS, log, median

RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- scaling:begin -->", "<!-- scaling:end -->"
SIZES = [12500, 25000, 50000]

DRIVER = r'''
import json, sys, time
kind, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "functions":
    src = "\n".join("def f%d():\n    return %d" % (i, i) for i in range(n))
    src += "\ndef run():\n" + "".join("    f%d()\n" % i for i in range(n))
    target = "run"
else:
    src = "def run():\n" + "".join("    x = %d\n" % i for i in range(n)) + "    return x\n"
    target = "run"
ns = {}
exec(compile(src, "generated.py", "exec"), ns)
run = ns[target]
if mode == "none":
    t = time.perf_counter(); run(); elapsed = time.perf_counter() - t
elif mode == "cprofile":
    import cProfile
    p = cProfile.Profile()
    p.enable(); t = time.perf_counter(); run(); elapsed = time.perf_counter() - t; p.disable()
elif mode == "settrace":
    def tr(frame, event, arg):
        return tr if frame.f_code is run.__code__ else None
    sys.settrace(tr); t = time.perf_counter(); run(); elapsed = time.perf_counter() - t
    sys.settrace(None)
elif kind == "functions":
    import pyrometer
    p = pyrometer.Profiler()
    p.enable(); t = time.perf_counter(); run(); elapsed = time.perf_counter() - t; p.disable()
    assert len(p.get_stats()) >= n
else:
    import pyrometer
    p = pyrometer.LineProfiler(run)
    p.enable(); t = time.perf_counter(); run(); elapsed = time.perf_counter() - t; p.disable()
print(json.dumps(elapsed))
'''

KINDS = {"functions": ["none", "cprofile", "pyrometer"],
         "lines": ["none", "settrace", "pyrometer"]}


def measure(py, kind, mode, n):
    r = subprocess.run([str(py), "-c", DRIVER, kind, mode, str(n)], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        log("    %s %s %d failed: %s" % (kind, mode, n, r.stderr.strip()[-300:]))
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_version(py, reps):
    out = {}
    for kind, modes in KINDS.items():
        times = {(m, n): [] for m in modes for n in SIZES}
        for rep in range(reps):
            for n in SIZES:
                for m in modes[rep % len(modes):] + modes[:rep % len(modes)]:
                    t = measure(py, kind, m, n)
                    if t is not None:
                        times[(m, n)].append(t)
        out[kind] = {"%s %d" % k: median(v) for k, v in times.items()}
    return out


def fmt(t):
    return "n/a" if t is None else ("%.3f" % t if t < 10 else "%.1f" % t)


def table(results):
    lines = []
    for kind, modes in KINDS.items():
        what = ("N distinct functions called once (first sight of every call path)"
                if kind == "functions" else "one function of N lines, run once")
        lines.append("**%s**: %s; seconds, median.\n" % ("Function mode" if kind == "functions"
                                                        else "Line mode", what))
        head = ["Python"] + ["%s N=%d" % (m, n) for m in modes for n in SIZES] + ["x2, x2"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for v, res in results.items():
            r = res[kind]
            cells = [v] + [fmt(r.get("%s %d" % (m, n))) for m in modes for n in SIZES]
            ours = [r.get("pyrometer %d" % n) for n in SIZES]
            growth = ["%.1f" % (b / a) if a and b else "n/a" for a, b in zip(ours, ours[1:])]
            cells.append(", ".join(growth))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_section(text):
    section = BEGIN + "\n" + text.rstrip("\n") + "\n" + END
    old = RESULTS.read_text() if RESULTS.exists() else ""
    b, e = old.find(BEGIN), old.find(END)
    if b >= 0 and e > b:
        new = old[:b] + section + old[e + len(END):]
    else:
        new = old + ("\n" if old.endswith("\n") else "\n\n") + section + "\n"
    RESULTS.write_text(new)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", action="append", default=[], help="X.Y to run (repeatable)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="write the section of RESULTS.md")
    args = ap.parse_args(argv)
    wanted = [v for arg in args.python for v in arg.split(",")] or VERSIONS
    results = {}
    for minor, (exe, full) in bench.find_interpreters(wanted).items():
        log("Python %s" % full)
        py, _have, _floor = bench.ensure_venv(minor, exe)
        results[full] = run_version(py, args.reps)
    text = ("## Scaling: first sight of many functions, long functions\n\n"
            "- Date: %s; %d repetitions, interleaved; `python3 bench/scaling.py%s`\n"
            "- Target: linear growth (`x2` about 2 from one size to the next; a cost "
            "that grows with the square shows 4).\n"
            "- 3.9 numbers every traced line by walking the function's line table "
            "(`sys.settrace` is as quadratic there as pyrometer: the interpreter's cost, "
            "paid by any line tracer); 3.12 and 3.13 do the same for `sys.monitoring` tools, "
            "which pyrometer avoids there with INSTRUCTION events.\n\n" % (
                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                args.reps, "".join(" " + a for a in (argv if argv is not None else sys.argv[1:])
                                   if a != "--write")))
    text += table(results)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
