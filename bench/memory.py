#!/usr/bin/env python3
"""Memory profiling's cost against tracemalloc, memray and memory_profiler.

Each workload's main() runs in a fresh interpreter per mode (see
bench/_driver_memory.py), the modes interleaved within each repetition;
the median per mode over the repetitions is kept and slowdown =
median(mode) / median(none).  The workloads: the seeds' log parsing
(logparse) and Julia set (julia), an object-building one (objects) and an
allocation mix (json_roundtrip).  memray and memory_profiler come from the
package index (pip install memray memory_profiler psutil); a mode whose
package is missing is left out.

    python3 bench/memory.py [--python PY] [--reps 5] [--size quick] [--write]

Targets (the memory issue): pyrometer_lines and pyrometer_calls no slower
than tracemalloc1 on every workload, at most 1.5x on the allocation-heavy
ones.
"""
import argparse
import datetime
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORKLOADS = ["logparse", "julia", "objects", "json_roundtrip"]
MARK = "@@PYROMETER-BENCH@@ "
MODES = ["none", "tracemalloc1", "tracemalloc25", "pyrometer_lines", "pyrometer_calls",
         "memray", "memray_python", "memory_profiler"]


NOTES = """\
pyrometer_lines counts every block per line of the workload's LINE_TARGETS
(the line events of those functions are most of its cost: julia's hot
function is a loop of short lines); pyrometer_calls counts every block per
call path and times every call beside it.  Both are below tracemalloc1
(every block, one frame, no lines) on every workload; the 1.5x target on
allocation-heavy workloads holds for logparse only (1.3x lines), objects and
json_roundtrip are 1.7-2.4x.  memray does not trace Python's allocators by
default (memray_python does)."""


def run(py, workload, mode, size):
    out = subprocess.run([py, str(ROOT / "_driver_memory.py"), "--workload", workload,
                          "--mode", mode, "--size", size], capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    marked = [l for l in out.stdout.splitlines() if l.startswith(MARK)]
    return json.loads(marked[-1][len(MARK):])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--size", default="quick")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    workloads, modes = args.workloads.split(","), args.modes.split(",")
    times = {(w, m): [] for w in workloads for m in modes}
    version, peers, missing = None, {}, set()
    for _ in range(args.reps):
        for w in workloads:
            for m in modes:
                if m in missing:
                    continue
                r = run(args.python, w, m, args.size)
                if "unavailable" in r or "error" in r:
                    missing.add(m)
                    print(f"# {m}: {r.get('unavailable') or r.get('error')}", file=sys.stderr)
                    continue
                times[(w, m)].append(r["main"])
                version = r["python"]
                if r.get("peer_version") and not m.startswith("pyrometer"):
                    peers[m] = r["peer_version"]
    shown = [m for m in modes if m != "none" and m not in missing]
    lines = [f"Python {version}, {datetime.date.today()}, {args.reps} repetitions, size "
             f"{args.size}; slowdown of main() (median / median unprofiled)", "",
             "| workload | " + " | ".join(shown) + " |",
             "|---|" + "---:|" * len(shown)]
    for w in workloads:
        base = statistics.median(times[(w, "none")])
        cells = [f"{statistics.median(times[(w, m)]) / base:.2f}x" if times[(w, m)] else "-"
                 for m in shown]
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    if peers:
        lines += ["", "Peers: " + ", ".join(f"{m} {v}" for m, v in sorted(peers.items()))]
    lines += ["", NOTES]
    text = "\n".join(lines)
    print(text)
    if args.write:
        results = ROOT / "RESULTS.md"
        body = results.read_text()
        head = "## Memory profiling (bench/memory.py)"
        start = body.find(head)
        section = f"{head}\n\n{text}\n"
        if start >= 0:
            end = body.find("\n## ", start + len(head))
            body = body[:start] + section + (body[end:] if end >= 0 else "")
        else:
            body = body.rstrip("\n") + "\n\n" + section
        results.write_text(body)


if __name__ == "__main__":
    main()
