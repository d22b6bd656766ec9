#!/usr/bin/env python3
"""Benchmark pyrometer's line profiling against line_profiler and a floor.

For each CPython 3.9-3.13 found this uses the virtual environment of
bench/run.py (bench/.venvs/X.Y, created or updated the same way) plus
line_profiler from the package index, builds the no-op hook modules of
bench/floor/, then times every workload of bench/workloads/ with its hot
functions (the workload's LINE_TARGETS) line-profiled, in a fresh
interpreter per run, under each mode:

    none           plain run
    floor          no-op C hooks on exactly the events pyrometer's line mode
                   uses, for the same code objects (bench/floor/_floor_lines.c)
    clockfloor     the same, reading the time-stamp counter where pyrometer
                   reads its clock
    line_profiler  line_profiler.LineProfiler on the same functions
    pyrometer      pyrometer.LineProfiler on the same functions

Modes are interleaved within each repetition; the median per mode is kept
and slowdown = median(mode) / median(none) of the workload's main().

    python3 bench/run_lines.py                  # all versions found, prints tables
    python3 bench/run_lines.py --python 3.12 --quick
    python3 bench/run_lines.py --modes none,floor,pyrometer --workloads fib,bias
    python3 bench/run_lines.py --write          # also writes the line-mode section
                                                # of bench/RESULTS.md

See bench/README.md for the targets.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import run as bench
from run import BENCH, MARK, VENVS, VERSIONS, WORKLOADS, fmt_x, log, median, verdict

DRIVER = BENCH / "_driver_lines.py"
RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- lines:begin -->", "<!-- lines:end -->"

MODES = ["none", "floor", "clockfloor", "line_profiler", "pyrometer"]
DEFAULT_MODES = ["none", "floor", "clockfloor", "line_profiler", "pyrometer"]
MODE_TITLES = {"none": "none", "floor": "line floor", "clockfloor": "line floor+clock",
               "line_profiler": "line_profiler", "pyrometer": "pyrometer"}
PEER = "line_profiler"
LP_TARGET = 0.5           # pyrometer's slowdown <= 0.5 x line_profiler's, every workload
MEDIAN_TARGET = 1.5       # median of pyrometer's slowdowns over the suite <= 1.5x
STATE = "bench-lines-state.json"


# ---------------------------------------------------------------- environment

def ensure_lines_venv(minor, exe, reinstall=False, ref=None):
    """bench/run.py's environment plus line_profiler; (python, packages, floor dir)."""
    py, have, floor_dir = bench.ensure_venv(minor, exe, reinstall, ref)
    state_file = VENVS / minor / STATE
    state = {}
    if state_file.exists() and not reinstall:
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            state = {}
    found = bench.probe(py, [PEER]).get(PEER)
    if not found and not state.get("attempted"):
        bench.pip(py, PEER)
        state["attempted"] = True
        found = bench.probe(py, [PEER]).get(PEER)
    state_file.write_text(json.dumps(state, indent=1))
    have[PEER] = found
    return py, have, floor_dir


# ------------------------------------------------------------------ measuring

def run_driver(py, workload, mode, size, floor_dir, timeout=600):
    cmd = [str(py), str(DRIVER), "--workload", workload, "--mode", mode, "--size", str(size)]
    if floor_dir:
        cmd += ["--floor-dir", floor_dir]
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             cwd=str(BENCH), env=env)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %ds" % timeout}
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    err = (out.stderr.strip().splitlines() or ["exit %d" % out.returncode])[-1]
    return {"error": err}


def measure_version(minor, py, floor_dir, args):
    """Times per (workload, mode), modes interleaved within each repetition."""
    size = "quick" if args.quick else "bench"
    rows = {}
    for w in args.workloads:
        wsize = args.sizes.get(w, size)
        row = {"times": {m: [] for m in args.modes}, "total": {m: [] for m in args.modes},
               "cpu": {m: [] for m in args.modes}, "status": {}, "checks": {}, "hits": {},
               "size": None, "variant": None, "functions": None, "info": None}
        rows[w] = row
        for rep in range(args.reps):
            parts = []
            for m in args.modes:
                if m in row["status"]:       # unavailable or failed: once is enough
                    continue
                r = run_driver(py, w, m, wsize, floor_dir, timeout=args.timeout)
                if "skip" in r:
                    row["skip"] = r["skip"]
                    break
                if "unavailable" in r:
                    row["status"][m] = "n/a"
                    parts.append("%s n/a" % m)
                    continue
                if "error" in r:
                    row["status"][m] = "error"
                    row.setdefault("errors", {})[m] = r["error"]
                    parts.append("%s ERROR" % m)
                    log("    %s/%s failed: %s" % (w, m, r["error"]))
                    continue
                row["size"], row["variant"] = r.get("size"), r.get("variant")
                row["functions"] = r.get("functions")
                row["times"][m].append(r["main"])
                row["total"][m].append(r["start"] + r["main"] + r["finish"])
                row["cpu"][m].append(r["cpu_main"])
                row["checks"].setdefault(m, set()).add(r["check"])
                if "hits" in r:
                    row["hits"].setdefault(m, []).append(r["hits"])
                if m == "pyrometer" and r.get("info"):
                    row["info"] = r["info"]
                parts.append("%s %.3f" % (m, r["main"]))
            if "skip" in row:
                log("  [%s] %s: skipped (%s)" % (minor, w, row["skip"]))
                break
            log("  [%s] %s rep %d/%d: %s" % (minor, w, rep + 1, args.reps, ", ".join(parts)))
        checks = set()
        for s in row["checks"].values():
            checks |= s
        row["consistent"] = len(checks) <= 1
        row["checks"] = {}
        if not row["consistent"]:
            log("  [%s] %s: results DIFFER between modes" % (minor, w))
        row["hits_note"] = compare_hits(row.pop("hits"))
        if row["hits_note"]:
            log("  [%s] %s: %s" % (minor, w, row["hits_note"]))
    return rows


def compare_hits(hits):
    """None when every run of every profiler counted the same hits per
    function; else a note that says where they differ."""
    seen = {}
    for m, runs in hits.items():
        for h in runs:
            seen.setdefault(json.dumps(h, sort_keys=True), []).append(m)
    if len(seen) <= 1:
        return None
    parts = []
    for key, modes in seen.items():
        total = sum(json.loads(key).values())
        parts.append("%s: %d" % ("/".join(sorted(set(modes))), total))
    return "total hits differ (" + "; ".join(parts) + ")"


# ------------------------------------------------------------------ reporting

def slowdowns(row, key):
    base = median(row[key].get("none", []))
    return {m: (median(xs) / base if xs and base else None)
            for m, xs in row[key].items() if m != "none"}


def ratio(slow, a, b):
    if slow.get(a) is None or slow.get(b) is None:
        return None
    return slow[a] / slow[b]


def version_tables(minor, full, data, args):
    """Markdown for one Python version; also fills data["summary"]."""
    rows, modes = data["rows"], [m for m in args.modes if m != "none"]
    have = data["packages"]
    lines = ["#### Python %s\n" % full]
    lines.append("pyrometer from %s; line_profiler %s. Sizes: %s; %d repetitions, median "
                 "per mode.\n" % (have.get("_source"), have.get(PEER) or "n/a",
                                  "quick" if args.quick else "bench", args.reps))
    if have.get("_note"):
        lines.append("Note: %s.\n" % have["_note"])
    info = next((r["info"] for r in rows.values() if r.get("info")), None)
    if info and isinstance(info.get("overhead_ns"), dict):
        oh = ", ".join("%s %.0f" % (k, v) for k, v in info["overhead_ns"].items())
        lines.append("pyrometer: %s, clock %s; calibrated cost per event (ns): %s; traced "
                     "code runs %.2f× slower.\n"
                     % (info.get("event_source"), info.get("clock"), oh,
                        info.get("slowdown") or 1.0))
    show_lp = "pyrometer" in modes and PEER in modes
    show_floor = "pyrometer" in modes and "floor" in modes
    show_cf = "pyrometer" in modes and "clockfloor" in modes
    summary = data["summary"] = {}
    tables = [("times", "Wall-time slowdown of main() with the hot functions line-profiled "
               "(the targets apply here)"),
              ("cpu", "Cross-check in process CPU time (process_time) of main()")]
    for key, title in tables:
        if not any(row.get(key, {}).get("none") for row in rows.values()):
            continue
        h = ["workload", "size", "none (s)"] + [MODE_TITLES[m] for m in modes]
        if show_lp:
            h.append("pyrometer/line_profiler")
        if show_floor:
            h.append("pyrometer/floor")
        if show_cf:
            h.append("pyrometer/floor+clock")
        if show_lp:
            h.append("≤%.1f×line_profiler" % LP_TARGET)
        lines.append("**%s**\n" % title)
        lines += ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)]
        passed = counted = 0
        ours = []
        for w, row in rows.items():
            if "skip" in row:
                lines.append("| %s | — | skipped: %s |" % (w, row["skip"]))
                continue
            base = row[key].get("none", [])
            if base:
                b = median(base)
                spread = (max(base) - min(base)) / 2 / b * 100 if b else 0
                none_cell = "%.3f ±%.0f%%" % (b, spread)
            else:
                none_cell = row["status"].get("none", "—")
            slow = slowdowns(row, key)
            cells = [w, str(row["size"]), none_cell]
            cells += [row["status"].get(m) or fmt_x(slow.get(m)) for m in modes]
            pl, pf = ratio(slow, "pyrometer", PEER), ratio(slow, "pyrometer", "floor")
            pc = ratio(slow, "pyrometer", "clockfloor")
            if show_lp:
                cells.append("%.3f" % pl if pl is not None else "—")
            if show_floor:
                cells.append("%.3f" % pf if pf is not None else "—")
            if show_cf:
                cells.append("%.3f" % pc if pc is not None else "—")
            if show_lp:
                v = verdict(pl, LP_TARGET)
                cells.append(v)
                if pl is not None:
                    counted += 1
                    passed += v == "pass"
            if slow.get("pyrometer") is not None:
                ours.append(slow["pyrometer"])
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        med = median(ours)
        summary[key] = {"lp": (passed, counted), "median": med,
                        "slow": {w: slowdowns(r, key) for w, r in rows.items() if "skip" not in r}}
        if key == "times":
            lines.append("none (s): median seconds unprofiled, ± half the range of the "
                         "repetitions. Other columns: median(mode) / median(none).\n")
    funcs = ["%s: %s" % (w, ", ".join(r["functions"])) for w, r in rows.items()
             if r.get("functions")]
    if funcs:
        lines.append("Line-profiled: " + "; ".join(funcs) + ".\n")
    variants = ["%s ran %s" % (w, r["variant"]) for w, r in rows.items() if r.get("variant")]
    if variants:
        lines.append("Variants: " + "; ".join(variants) + ".\n")
    bad = [w for w, r in rows.items() if not r.get("consistent", True)]
    if bad:
        lines.append("Warning: main()'s result differed between modes for: %s.\n"
                     % ", ".join(bad))
    notes = ["%s: %s" % (w, r["hits_note"]) for w, r in rows.items() if r.get("hits_note")]
    if notes:
        why = ""
        if tuple(int(x) for x in full.split(".")[:2]) >= (3, 12):
            why = (" On 3.12+ pyrometer also counts, as sys.settrace does, a line event for "
                   "each backward jump that stays on its line (a comprehension or a one-line "
                   "loop going round), which line_profiler's LINE events do not: its counts "
                   "are the lower ones.")
        lines.append("Hits: " + "; ".join(notes) + "." + why + "\n")
    elif any("pyrometer" in r["times"] and PEER in r["times"] for r in rows.values()):
        lines.append("Hits: pyrometer and line_profiler counted the same hits per function "
                     "in every run.\n")
    errors = ["%s/%s: %s" % (w, m, e) for w, r in rows.items()
              for m, e in r.get("errors", {}).items()]
    if errors:
        lines.append("Errors: " + "; ".join(errors) + "\n")
    parts = []
    for key, what in (("times", ""), ("cpu", "in CPU time, ")):
        s = summary.get(key)
        if not s:
            continue
        sub = []
        if s["lp"][1]:
            sub.append("≤%.1f×line_profiler on %d/%d workloads" % (LP_TARGET, *s["lp"]))
        if s["median"] is not None:
            sub.append("median slowdown %.2f× (target ≤%.1f×: %s)"
                       % (s["median"], MEDIAN_TARGET,
                          verdict(s["median"], MEDIAN_TARGET).strip("*").lower()))
        if sub:
            parts.append(what + " and ".join(sub))
    if parts:
        lines.append("Summary for %s: pyrometer meets %s.\n" % (minor, "; ".join(parts)))
    return "\n".join(lines)


def overview(results, args):
    """One table across versions: pyrometer's and line_profiler's slowdowns."""
    versions = [full for full, d in results.items() if d.get("summary", {}).get("times")]
    if not versions:
        return ""
    h = ["workload"] + ["%s pyrometer / line_profiler (ratio)" % v for v in versions]
    lines = ["**Overview: wall-time slowdown of main(), pyrometer / line_profiler "
             "(pyrometer ÷ line_profiler; target ≤%.1f)**\n" % LP_TARGET,
             "| " + " | ".join(h) + " |", "|" + "---|" * len(h)]
    for w in args.workloads:
        cells = [w]
        for v in versions:
            slow = results[v]["summary"]["times"]["slow"].get(w)
            if not slow:
                cells.append("—")
                continue
            p, l = slow.get("pyrometer"), slow.get(PEER)
            r = ratio(slow, "pyrometer", PEER)
            cells.append("%s / %s (%s%s)" % (fmt_x(p), fmt_x(l),
                                             "%.2f" % r if r is not None else "—",
                                             "" if r is None or r <= LP_TARGET else " **FAIL**"))
        lines.append("| " + " | ".join(cells) + " |")
    med = ["median"]
    for v in versions:
        m = results[v]["summary"]["times"]["median"]
        med.append("%s %s" % (fmt_x(m), "" if m is None or m <= MEDIAN_TARGET else "**FAIL**"))
    lines.append("| " + " | ".join(med) + " |")
    lines.append("")
    return "\n".join(lines)


def write_section(text):
    """Replace the line-mode section of RESULTS.md (append it if absent),
    leaving everything else as it is."""
    section = BEGIN + "\n" + text.rstrip("\n") + "\n" + END
    old = RESULTS.read_text() if RESULTS.exists() else ""
    b, e = old.find(BEGIN), old.find(END)
    if b >= 0 and e > b:
        new = old[:b] + section + old[e + len(END):]
    else:
        sep = "" if not old else ("\n" if old.endswith("\n") else "\n\n")
        new = old + sep + section + "\n"
    RESULTS.write_text(new)


# ----------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", action="append", default=[],
                    help="X.Y to run (repeat or comma-separate); default: all of %s found"
                    % ", ".join(VERSIONS))
    ap.add_argument("--quick", nargs="?", const="all", default="", metavar="X.Y,...",
                    help="smaller sizes and 3 repetitions; for all versions, or only "
                    "for those listed (e.g. --quick=3.9,3.10)")
    ap.add_argument("--reps", type=int, help="repetitions per mode (odd; default 5, quick 3)")
    ap.add_argument("--modes", help="comma-separated subset of: " + ",".join(MODES))
    ap.add_argument("--workloads", help="comma-separated subset of: " + ",".join(WORKLOADS))
    ap.add_argument("--size", action="append", default=[], metavar="WORKLOAD=N",
                    help="override a workload's size")
    ap.add_argument("--reinstall", action="store_true",
                    help="reinstall pyrometer and retry failed package installs")
    ap.add_argument("--ref", metavar="GIT_REF",
                    help="benchmark pyrometer as committed at GIT_REF (a snapshot, not "
                    "editable) instead of the work tree")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per run")
    ap.add_argument("--write", action="store_true",
                    help="replace the line-mode section of bench/RESULTS.md")
    ap.add_argument("--json", metavar="PATH", help="also save the raw timings as JSON")
    args = ap.parse_args(argv)

    def split_list(values, allowed, what):
        items = [x.strip() for v in values for x in v.split(",") if x.strip()]
        bad = [x for x in items if x not in allowed]
        if bad:
            ap.error("unknown %s: %s (choose from %s)" % (what, ", ".join(bad), ", ".join(allowed)))
        return items

    args.python = split_list(args.python, VERSIONS, "Python version") or VERSIONS
    modes = split_list([args.modes], MODES, "mode") if args.modes else DEFAULT_MODES
    args.modes = ["none"] + [m for m in MODES if m in modes and m != "none"]
    args.workloads = (split_list([args.workloads], WORKLOADS, "workload")
                      if args.workloads else WORKLOADS)
    args.sizes = {}
    for s in args.size:
        name, _, n = s.partition("=")
        if name not in WORKLOADS or not n.isdigit():
            ap.error("--size wants WORKLOAD=N, got %r" % s)
        args.sizes[name] = int(n)
    args.quick_for = (set(args.python) if args.quick == "all"
                      else set(split_list([args.quick], VERSIONS, "Python version")))
    args.split_reps = None     # for bench.settings_for
    return args


def main(argv=None):
    args = parse_args(argv)
    argv_used = argv if argv is not None else sys.argv[1:]
    # as written into RESULTS.md: where the raw timings went is not its business
    shown = []
    for a in argv_used:
        if shown and shown[-1] == "--json":
            a = "FILE"
        elif a.startswith("--json="):
            a = "--json=FILE"
        shown.append(a)
    started = time.time()
    note = bench.machine_note()
    found = bench.find_interpreters(args.python)
    missing = [v for v in args.python if v not in found]
    if missing:
        log("not found: Python %s" % ", ".join(missing))
    if not found:
        log("no interpreter to benchmark")
        return 1
    sections, results = [], {}
    raw = {"machine": note, "argv": argv_used, "versions": {}}
    quick_used = set()
    for minor, (exe, full) in found.items():
        log("== Python %s (%s)" % (full, exe))
        t = time.time()
        try:
            py, have, floor_dir = ensure_lines_venv(minor, exe, args.reinstall, args.ref)
        except subprocess.CalledProcessError as e:
            log("  environment failed: %s" % e)
            continue
        if not have.get("pyrometer"):
            log("  pyrometer is not importable in %s; skipping" % VENVS.joinpath(minor))
            continue
        vargs = bench.settings_for(args, minor)
        if vargs.quick:
            quick_used.add(minor)
        data = {"packages": have, "rows": measure_version(minor, py, floor_dir, vargs)}
        text = version_tables(minor, full, data, vargs)
        results[full] = data
        raw["versions"][full] = data
        if args.json:
            Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
        print(text, flush=True)
        sections.append(text)
        log("  (%s took %.0f s)" % (minor, time.time() - t))
    if not sections:
        return 1
    over = overview(results, args)
    if len(results) > 1:
        print(over, flush=True)
    if args.write:
        head = [
            "## Line mode\n",
            "Written by `python3 bench/run_lines.py%s` on %s (UTC), in %.0f minutes.\n" % (
                "".join(" " + a for a in shown),
                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                (time.time() - started) / 60),
            "- Python: %s" % ", ".join(results),
            "- Machine: %s. Shared and noisy: modes are interleaved and medians kept; "
            "read differences under ~5%% as noise." % note,
            "- Each workload runs with its hot functions line-profiled (the workload's "
            "`LINE_TARGETS`, listed under each table). Targets: pyrometer's slowdown ≤ "
            "%.1f × line_profiler's on every workload; the median of pyrometer's slowdowns "
            "over the suite ≤ %.1f×. See bench/README.md, \"Line mode\".\n"
            % (LP_TARGET, MEDIAN_TARGET),
        ]
        write_section("\n".join(head) + "\n" + over + "\n" + "\n".join(sections))
        log("wrote the line-mode section of bench/RESULTS.md")
    log("done in %.1f minutes" % ((time.time() - started) / 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())
