#!/usr/bin/env python3
"""Benchmark pyrometer's deterministic function profiling against its peers.

For each CPython 3.9-3.15 found (under the pyenv root, in .pythons/ and as
python3.X on PATH) this keeps a virtual environment in bench/.venvs/X.Y with pyrometer
installed from this repository (editable) plus yappi, pyinstrument, docutils
and jinja2 from the package index, builds the no-op hook module of
bench/floor/ for it, then times every workload of bench/workloads/ in a
fresh interpreter per run under each mode:

    none          plain run
    floor         no-op C callbacks on exactly pyrometer's events
    clockfloor    the same, each also reading the time-stamp counter once per
                  timed event (shown as floor+clock): the least a timing
                  profiler on these hooks can cost
    cprofile      cProfile.Profile (builtins on)
    yappi         yappi, wall clock, builtins on
    pyinstrument  pyinstrument.Profiler() defaults (a sampler)
    pyrometer     pyrometer.Profiler(builtins=True, clock="wall", compensate=True)

Modes are interleaved within each repetition, in an order that turns by
one place each repetition, pyrometer next to the floors; every ratio is
paired: the median over repetitions of mode / none (or pyrometer / peer)
within the same repetition, so a slow spell of the shared machine mostly
hits both sides of a ratio.  The bias workload also checks
compensation: the share of calling() in calling() + inlined() measured
unprofiled vs the share each profiler reports.

    python3 bench/run.py                    # all versions found, prints tables
    python3 bench/run.py --python 3.12 --quick
    python3 bench/run.py --modes none,floor,pyrometer --workloads fib,bias
    python3 bench/run.py --write            # also writes bench/RESULTS.md

See bench/README.md for the targets.
"""
import argparse
import copy
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENVS = BENCH / ".venvs"
BUILD = BENCH / ".build"
DRIVER = BENCH / "_driver.py"
MARK = "@@PYROMETER-BENCH@@ "

VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
MODES = ["none", "floor", "clockfloor", "cprofile", "yappi", "pyinstrument", "pyrometer"]
RUN_ORDER = ["none", "floor", "pyrometer", "clockfloor", "cprofile", "yappi", "pyinstrument"]
MODE_TITLES = {"none": "none", "floor": "floor", "clockfloor": "floor+clock", "cprofile": "cProfile",
               "yappi": "yappi", "pyinstrument": "pyinstrument", "pyrometer": "pyrometer"}
WORKLOADS = ["fib", "julia", "bias", "objects", "logparse", "json_roundtrip",
             "template", "docutils_job"]
# julia makes only ~10k calls of long arithmetic: every profiler is ~1x there.
CALL_HEAVY = {"fib", "bias", "objects"}
SPLIT_MODES = ["cprofile", "yappi", "pyrometer"]   # profilers with cumulative times
PEERS = ["yappi", "pyinstrument"]                 # whose absence shows as n/a
EXTRAS = ["docutils", "jinja2"]                   # workload dependencies
FLOOR_TARGET = 1.1        # pyrometer <= 1.1 x floor, every workload
CPROFILE_TARGET = 0.7     # pyrometer <= 0.7 x cProfile, call-heavy workloads
SPLIT_TARGET_PP = 3.0     # compensation error, percentage points
# Compensation workloads: calling() against the same work inlined().  bias is
# the workload; the others are of the same kind: a method that calls
# a function, and built-in calls.
SPLIT_WORKLOADS = ["bias", "bias_method", "bias_builtin"]


def shown_args(argv):
    """The command line for RESULTS.md, without the --json file (a local path)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--json":
            skip = True
        elif not a.startswith("--json="):
            out.append(" " + a)
    return "".join(out)


def log(*args, sep=" "):
    print(*args, sep=sep, file=sys.stderr, flush=True)


# --------------------------------------------------------------- interpreters

def pyenv_root():
    exe = shutil.which("pyenv")
    if exe:
        out = subprocess.run([exe, "root"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    env = os.environ.get("PYENV_ROOT")
    return Path(env) if env else Path.home() / ".pyenv"


def interpreter_version(exe):
    try:
        out = subprocess.run(
            [str(exe), "-c", "import sys, sysconfig; print('%d.%d' % sys.version_info[:2],"
             " sys.version.split()[0], bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"],
            capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    minor, full, nogil = out.stdout.split()
    if nogil == "True":
        return None
    return minor, full


def find_interpreters(wanted):
    """{X.Y: (executable, full version)}; pyenv's newest patch release first."""
    found = {}
    versions_dir = pyenv_root() / "versions"
    if versions_dir.is_dir():
        dirs = [d for d in versions_dir.iterdir() if re.fullmatch(r"\d+\.\d+\.\d+", d.name)]
        dirs.sort(key=lambda d: [int(p) for p in d.name.split(".")], reverse=True)
        for d in dirs:
            minor = ".".join(d.name.split(".")[:2])
            exe = d / "bin" / "python"
            if minor in wanted and minor not in found and exe.exists():
                v = interpreter_version(exe)
                if v and v[0] == minor:
                    found[minor] = (exe, v[1])
    for minor in wanted:
        # 3.14 and 3.15 as tools/test_all.py installs them (tools/debian-python)
        local = ROOT / ".pythons" / minor / "bin" / ("python" + minor)
        if minor not in found and local.exists():
            v = interpreter_version(local)
            if v and v[0] == minor:
                found[minor] = (local, v[1])
        if minor not in found:
            exe = shutil.which("python" + minor)
            v = interpreter_version(exe) if exe else None
            if v and v[0] == minor:
                found[minor] = (Path(exe), v[1])
    return {m: found[m] for m in wanted if m in found}


# ---------------------------------------------------------------- environment

def venv_python(minor):
    return VENVS / minor / "bin" / "python"


def pip(py, *args, quiet=True):
    cmd = [str(py), "-m", "pip", "install"] + (["-q"] if quiet else []) + list(args)
    log("    $ pip install", " ".join(args))
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        log("      failed:", *tail, sep="\n        ")
    return out.returncode == 0


PROBE = r"""
import json, sys
from importlib import metadata
res = {}
for name in sys.argv[1:]:
    try:
        __import__(name)
        try:
            res[name] = metadata.version(name)
        except Exception:
            res[name] = "?"
    except Exception:
        res[name] = None
try:
    import pyrometer._engine as e
    res["_engine_file"] = e.__file__
except Exception:
    res["_engine_file"] = None
print(json.dumps(res))
"""


def probe(py, names):
    out = subprocess.run([str(py), "-c", PROBE] + names, capture_output=True, text=True)
    if out.returncode != 0:
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def engine_stale(engine_file):
    """True when a C source of the engine is newer than the built module."""
    if not engine_file or not os.path.exists(engine_file):
        return True
    built = os.path.getmtime(engine_file)
    sources = list((ROOT / "src" / "engine").glob("*/*.[ch]")) + [ROOT / "setup.py"]
    return any(p.exists() and p.stat().st_mtime > built for p in sources)


def snapshot(ref):
    """Export git REF of the repository to bench/.build/src-<sha>; (dir, sha)."""
    sha = subprocess.run(["git", "rev-parse", "--verify", ref + "^{commit}"], cwd=str(ROOT),
                         capture_output=True, text=True, check=True).stdout.strip()
    dest = BUILD / ("src-" + sha[:12])
    if not (dest / "setup.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "--format=tar", sha], cwd=str(ROOT),
                                 capture_output=True, check=True).stdout
        import io
        import tarfile
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(str(dest), filter="data")
            else:
                tar.extractall(str(dest))
    return dest, sha


def ensure_venv(minor, exe, reinstall=False, ref=None):
    """Create/update bench/.venvs/X.Y; return (python, package versions, floor dir).

    pyrometer is installed editable from the work tree (rebuilt when an engine
    source is newer than the built module), or with `ref` from a snapshot of
    that git commit (not editable).
    """
    vdir = VENVS / minor
    py = venv_python(minor)
    state_file = vdir / "bench-state.json"
    if not py.exists():
        log("  creating", vdir.relative_to(ROOT))
        subprocess.run([str(exe), "-m", "venv", str(vdir)], check=True)
        reinstall = True
    state = {}
    if state_file.exists():
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            state = {}
    attempted = set() if reinstall else set(state.get("attempted", []))

    have = probe(py, ["setuptools", "pyrometer"] + PEERS + EXTRAS)
    if not have.get("setuptools") and "setuptools" not in attempted:
        pip(py, "setuptools>=64", "wheel")
        attempted.add("setuptools")
    note = None
    if ref:
        src, sha = snapshot(ref)
        source = "git " + sha[:12]
        if reinstall or not have.get("pyrometer") or state.get("pyrometer_source") != source:
            log("  installing pyrometer from %s (%s)" % (ref, sha[:12]))
            ok = pip(py, "--force-reinstall", "--no-deps", str(src))
            state["pyrometer_source"] = source if ok else None
    else:
        source = "work tree (editable)"
        if (reinstall or not have.get("pyrometer") or engine_stale(have.get("_engine_file"))
                or state.get("pyrometer_source") != source):
            log("  installing pyrometer (editable) from the work tree")
            ok = pip(py, "-e", str(ROOT))
            if ok:
                state["pyrometer_source"] = source
            elif have.get("pyrometer"):
                note = ("the work tree did not build; the pyrometer installed before (%s) "
                        "was measured" % state.get("pyrometer_source"))
                log("  " + note)
    for name in PEERS + EXTRAS:
        if not have.get(name) and name not in attempted:
            pip(py, name)
            attempted.add(name)
    state["attempted"] = sorted(attempted)
    state_file.write_text(json.dumps(state, indent=1))
    have = probe(py, ["pyrometer"] + PEERS + EXTRAS)

    floor_dir = None
    out = subprocess.run([str(py), str(BENCH / "floor" / "build.py"), str(BUILD / minor)],
                         capture_output=True, text=True)
    if out.returncode == 0:
        floor_dir = out.stdout.strip().splitlines()[-1]
        warnings = [l for l in (out.stderr + out.stdout).splitlines() if "warning:" in l]
        if warnings:
            log("  floor build warnings:", *warnings, sep="\n    ")
    else:
        log("  floor build failed:", out.stderr.strip()[-2000:])
    have["_source"] = state.get("pyrometer_source")
    have["_note"] = note
    return py, have, floor_dir


# ------------------------------------------------------------------ measuring

def run_driver(py, workload, mode, size, floor_dir, split=False, timeout=600):
    cmd = [str(py), str(DRIVER), "--workload", workload, "--mode", mode, "--size", str(size)]
    if floor_dir:
        cmd += ["--floor-dir", floor_dir]
    if split:
        cmd.append("--split")
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


def median(xs):
    return statistics.median(xs) if xs else None


def run_order(modes, rep):
    """The modes of one repetition: pyrometer right after the floors it
    is compared with, the whole order turned by one place a repetition so
    that no mode always runs first or last."""
    order = [m for m in RUN_ORDER if m in modes]
    k = rep % len(order) if order else 0
    return order[k:] + order[:k]


def measure_version(minor, py, floor_dir, args):
    """Times per (workload, mode); returns a dict for the report."""
    size = "quick" if args.quick else "bench"
    rows = {}
    for w in args.workloads:
        wsize = args.sizes.get(w, size)
        row = {"times": {m: [] for m in args.modes}, "total": {m: [] for m in args.modes},
               "cpu": {m: [] for m in args.modes},
               "status": {}, "checks": {}, "size": None, "variant": None, "info": None}
        rows[w] = row
        for rep in range(args.reps):
            parts = []
            for m in run_order(args.modes, rep):
                if m in row["status"]:       # unavailable, skipped or failed: once is enough
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
                row["times"][m].append(r["main"])
                row["total"][m].append(r["start"] + r["main"] + r["finish"])
                if "cpu_main" in r:
                    row["cpu"][m].append(r["cpu_main"])
                row["checks"].setdefault(m, set()).add(r["check"])
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
    return rows


def measure_split(minor, py, args, workload):
    modes = [m for m in SPLIT_MODES if m in args.modes]
    size = args.sizes.get(workload, "quick" if args.quick else "bench")
    res = {"truth": [], **{m: [] for m in modes}}
    status = {}
    for rep in range(args.split_reps):
        parts = []
        for m in ["none"] + modes:
            if m in status:
                continue
            r = run_driver(py, workload, m, size, None, split=True, timeout=args.timeout)
            if "split" not in r:
                status[m] = "n/a" if "unavailable" in r else "error: %s" % r.get("error")
                continue
            res["truth" if m == "none" else m].append(r["split"])
            parts.append("%s %.1f%%" % (m, 100 * r["split"]))
        log("  [%s] %s compensation rep %d/%d: %s"
            % (minor, workload, rep + 1, args.split_reps, ", ".join(parts)))
    return {"splits": res, "status": status, "modes": modes}


# ------------------------------------------------------------------ reporting

def fmt_x(x):
    return "—" if x is None else "%.2f×" % x


def paired(xs, ys):
    """Median of xs[i] / ys[i] over the repetitions both have (a mode that
    failed stops being run, so the lists agree on the repetitions they share)."""
    rs = [x / y for x, y in zip(xs, ys) if y]
    return median(rs)


def paired_ratio(row, key, a, b):
    xs, ys = row[key].get(a, []), row[key].get(b, [])
    return paired(xs, ys) if xs and ys else None


def slowdowns(row, key):
    return {m: paired_ratio(row, key, m, "none") for m in row[key] if m != "none"}


def cell(row, mode, slow):
    st = row["status"].get(mode)
    if st:
        return st
    return fmt_x(slow.get(mode))


def verdict(value, limit):
    if value is None:
        return "—"
    return "pass" if value <= limit else "**FAIL**"


def version_tables(minor, full, data, args):
    rows, modes = data["rows"], [m for m in args.modes if m != "none"]
    lines = []
    have = data["packages"]
    peers = ", ".join("%s %s" % (n, have.get(n) or "n/a") for n in PEERS + EXTRAS)
    lines.append("### Python %s\n" % full)
    lines.append("pyrometer from %s. Packages: %s. Sizes: %s; %d repetitions, paired ratios.\n"
                 % (have.get("_source"), peers, "quick" if args.quick else "bench", args.reps))
    if have.get("_note"):
        lines.append("Note: %s.\n" % have["_note"])
    info = next((r["info"] for r in rows.values() if r.get("info")), None)
    if info and isinstance(info.get("overhead_ns"), dict):
        oh = ", ".join("%s %.0f" % (k, v) for k, v in info["overhead_ns"].items())
        lines.append("pyrometer clock %s; calibrated cost per event (ns): %s.\n"
                     % (info.get("clock"), oh))
    show_floor = "pyrometer" in modes and "floor" in modes
    show_clock = "pyrometer" in modes and "clockfloor" in modes
    show_cp = "pyrometer" in modes and "cprofile" in modes

    def header(with_targets):
        h = ["workload", "size", "none (s)"] + [MODE_TITLES[m] for m in modes]
        if show_floor:
            h.append("pyrometer/floor")
        if show_clock:
            h.append("pyrometer/floor+clock")
        if show_cp:
            h.append("pyrometer/cProfile")
        if with_targets:
            if show_floor:
                h.append("≤%.1f×floor" % FLOOR_TARGET)
            if show_cp:
                h.append("≤%.1f×cProfile" % CPROFILE_TARGET)
        return ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)]

    summaries = {}
    tables = [
        ("times", "Wall-time slowdown of the workload's main() (profiler already on; "
         "the targets apply here)", True),
        ("total", "End to end, wall time: enable + main() + disable + collect stats", False),
        ("cpu", "Cross-check in process CPU time (process_time) of main(): less "
         "disturbed by other processes on a shared machine", True),
    ]
    for key, title, with_targets in tables:
        if not any(row.get(key, {}).get("none") for row in rows.values()):
            continue
        summary = summaries[key] = {"floor": [0, 0], "cprofile": [0, 0]}
        lines.append("**%s**\n" % title)
        lines += header(with_targets)
        for w, row in rows.items():
            name = w + (" ★" if w in CALL_HEAVY else "")
            if "skip" in row:
                lines.append("| %s | — | skipped: %s |" % (name, row["skip"]))
                continue
            base = row[key].get("none", [])
            if base:
                b = median(base)
                spread = (max(base) - min(base)) / 2 / b * 100 if b else 0
                none_cell = "%.3f ±%.0f%%" % (b, spread)
            else:
                none_cell = row["status"].get("none", "—")
            slow = slowdowns(row, key)
            cells = [name, str(row["size"]), none_cell] + [cell(row, m, slow) for m in modes]
            pf = paired_ratio(row, key, "pyrometer", "floor")
            pc = paired_ratio(row, key, "pyrometer", "cprofile")
            if show_floor:
                cells.append("%.3f" % pf if pf is not None else "—")
            if show_clock:
                pk = paired_ratio(row, key, "pyrometer", "clockfloor")
                cells.append("%.3f" % pk if pk is not None else "—")
            if show_cp:
                cells.append("%.3f" % pc if pc is not None else "—")
            if with_targets:
                if show_floor:
                    v = verdict(pf, FLOOR_TARGET)
                    cells.append(v)
                    if pf is not None:
                        summary["floor"][0] += v == "pass"
                        summary["floor"][1] += 1
                if show_cp:
                    if w in CALL_HEAVY:
                        v = verdict(pc, CPROFILE_TARGET)
                        if pc is not None:
                            summary["cprofile"][0] += v == "pass"
                            summary["cprofile"][1] += 1
                    else:
                        v = "(not call-heavy)"
                    cells.append(v)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        if key == "times":
            lines.append("★ call-heavy workload. none (s): median seconds unprofiled, ± half "
                         "the range of the repetitions. Other columns: median over the "
                         "repetitions of mode / none, each pair from one repetition; the "
                         "pyrometer/... columns likewise pair pyrometer with that mode.\n")
    bad = [w for w, r in rows.items() if not r.get("consistent", True)]
    if bad:
        lines.append("Warning: results differed between modes for: %s.\n" % ", ".join(bad))
    errors = ["%s/%s: %s" % (w, m, e) for w, r in rows.items()
              for m, e in r.get("errors", {}).items()]
    if errors:
        lines.append("Errors: " + "; ".join(errors) + "\n")

    splits = data.get("split") or {}
    split_line = None
    if splits:
        some = next(iter(splits.values()))
        lines.append("**Compensation**: share of calling() in calling() + inlined() "
                     "(cumulative times), median of %d runs each; error in percentage "
                     "points against the true share, timed unprofiled with perf_counter. "
                     "bias.py is the issue's workload; bias_method.py (a method that calls "
                     "a function) and bias_builtin.py (built-in calls) are of the same kind.\n"
                     % args.split_reps)
        lines.append("| workload | true share | %s | target ≤%.0f points |" % (
            " | ".join(MODE_TITLES[m] for m in some["modes"]), SPLIT_TARGET_PP))
        lines.append("|---|---|%s---|" % ("---|" * len(some["modes"])))
        errs = []
        for w, sp in splits.items():
            truth = median(sp["splits"]["truth"])
            cells, target = [], ""
            for m in sp["modes"]:
                v = median(sp["splits"][m])
                if v is None:
                    cells.append(sp["status"].get(m, "n/a"))
                    continue
                if truth is None:
                    cells.append("%.1f%%" % (100 * v))
                    continue
                err = 100 * (v - truth)
                cells.append("%.1f%% (%+.1f)" % (100 * v, err))
                if m == "pyrometer":
                    target = verdict(abs(err), SPLIT_TARGET_PP)
                    errs.append((w, err, target))
            lines.append("| %s | %s | %s | %s |" % (
                w, sp["status"].get("none", "error") if truth is None else "%.1f%%" % (100 * truth),
                " | ".join(cells), target))
        lines.append("")
        if errs:
            split_line = "compensation error " + ", ".join(
                "%s %+.1f points (%s)" % (w, e, t.strip("*").lower()) for w, e, t in errs)
    parts = []
    for key in ("times", "cpu"):
        summary = summaries.get(key)
        if not summary:
            continue
        sub = []
        if summary["floor"][1]:
            sub.append("≤%.1f×floor on %d/%d workloads" % (FLOOR_TARGET, *summary["floor"]))
        if summary["cprofile"][1]:
            sub.append("≤%.1f×cProfile on %d/%d call-heavy workloads"
                       % (CPROFILE_TARGET, *summary["cprofile"]))
        if sub and key == "times":
            parts += sub
        elif sub:
            parts.append("in CPU time, " + " and ".join(sub))
    if split_line:
        parts.append(split_line)
    if parts:
        lines.append("Summary for %s: pyrometer meets %s.\n" % (minor, "; ".join(parts)))
    return "\n".join(lines)


def machine_note():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    note = "%s, %d CPUs (nproc), %s" % (cpu, os.cpu_count() or 0, platform.system())
    try:
        note += ", load average %.2f at start" % os.getloadavg()[0]
    except OSError:
        pass
    return note


# ----------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", action="append", default=[],
                    help="X.Y to run (repeat or comma-separate); default: all of %s found"
                    % ", ".join(VERSIONS))
    ap.add_argument("--quick", nargs="?", const="all", default="",
                    metavar="X.Y,...",
                    help="smaller sizes and 3 repetitions; for all versions, or only "
                    "for those listed (e.g. --quick=3.9,3.10)")
    ap.add_argument("--reps", type=int, help="repetitions per mode (odd; default 5, quick 3)")
    ap.add_argument("--split-reps", type=int,
                    help="runs per source in the compensation check (default = reps)")
    ap.add_argument("--modes", help="comma-separated subset of: " + ",".join(MODES))
    ap.add_argument("--workloads", help="comma-separated subset of: " + ",".join(WORKLOADS))
    ap.add_argument("--size", action="append", default=[], metavar="WORKLOAD=N",
                    help="override a workload's size")
    ap.add_argument("--no-split", action="store_true", help="skip the compensation check")
    ap.add_argument("--reinstall", action="store_true",
                    help="reinstall pyrometer and retry failed peer installs")
    ap.add_argument("--ref", metavar="GIT_REF",
                    help="benchmark pyrometer as committed at GIT_REF (a snapshot, not "
                    "editable) instead of the work tree")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per run")
    ap.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    ap.add_argument("--section", metavar="NAME",
                    help="with --write: put these versions' tables in RESULTS.md between "
                         "<!-- NAME:begin --> and <!-- NAME:end -->, keeping the rest")
    ap.add_argument("--json", metavar="PATH", help="also save the raw timings as JSON")
    args = ap.parse_args(argv)

    def split_list(values, allowed, what):
        items = [x.strip() for v in values for x in v.split(",") if x.strip()]
        bad = [x for x in items if x not in allowed]
        if bad:
            ap.error("unknown %s: %s (choose from %s)" % (what, ", ".join(bad), ", ".join(allowed)))
        return items

    args.python = split_list(args.python, VERSIONS, "Python version") or VERSIONS
    modes = split_list([args.modes], MODES, "mode") if args.modes else MODES
    args.modes = ["none"] + [m for m in MODES if m in modes and m != "none"]
    args.workloads = (split_list([args.workloads], WORKLOADS, "workload")
                      if args.workloads else WORKLOADS)
    args.sizes = {}
    for s in args.size:
        name, _, n = s.partition("=")
        if name not in WORKLOADS or not n.isdigit():
            ap.error("--size wants WORKLOAD=N, got %r" % s)
        args.sizes[name] = int(n)
    if args.quick == "all":
        args.quick_for = set(args.python)
    else:
        args.quick_for = set(split_list([args.quick], VERSIONS, "Python version"))
    return args


def settings_for(args, minor):
    """args with quick, reps and split_reps resolved for one Python version."""
    a = copy.copy(args)
    a.quick = minor in args.quick_for
    if a.reps is None:
        a.reps = 3 if a.quick else 5
    if a.split_reps is None:
        a.split_reps = a.reps
    return a


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    note = machine_note()
    found = find_interpreters(args.python)
    missing = [v for v in args.python if v not in found]
    if missing:
        log("not found: Python %s" % ", ".join(missing))
    if not found:
        log("no interpreter to benchmark")
        return 1
    sections = []
    versions = []
    raw = {"machine": note, "argv": argv if argv is not None else sys.argv[1:], "versions": {}}
    for minor, (exe, full) in found.items():
        log("== Python %s (%s)" % (full, exe))
        t = time.time()
        try:
            py, have, floor_dir = ensure_venv(minor, exe, args.reinstall, args.ref)
        except subprocess.CalledProcessError as e:
            log("  environment failed: %s" % e)
            continue
        if not have.get("pyrometer"):
            log("  pyrometer is not importable in %s; skipping" % VENVS.joinpath(minor))
            continue
        vargs = settings_for(args, minor)
        data = {"packages": have, "rows": measure_version(minor, py, floor_dir, vargs)}
        if not vargs.no_split and "bias" in vargs.workloads:
            data["split"] = {w: measure_split(minor, py, vargs, w) for w in SPLIT_WORKLOADS}
        text = version_tables(minor, full, data, vargs)
        raw["versions"][full] = data
        if args.json:
            Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
        print(text, flush=True)
        sections.append(text)
        versions.append(full)
        log("  (%s took %.0f s)" % (minor, time.time() - t))
    if args.write and sections and args.section:
        results = BENCH / "RESULTS.md"
        old = results.read_text() if results.exists() else ""
        begin, end = "<!-- %s:begin -->" % args.section, "<!-- %s:end -->" % args.section
        block = "%s\n## More versions\n\n`python3 bench/run.py%s`, %s (UTC).\n\n%s\n%s\n" % (
            begin, shown_args(argv if argv is not None else sys.argv[1:]),
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "\n".join(sections), end)
        if begin in old:
            new = re.sub(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", lambda m: block,
                         old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + block
        results.write_text(new)
        log("wrote bench/RESULTS.md (section %s)" % args.section)
    elif args.write and sections:
        head = [
            "# Benchmark results: deterministic function profiling\n",
            "Written by `python3 bench/run.py%s` on %s (UTC), in %.0f minutes.\n" % (
                shown_args(argv if argv is not None else sys.argv[1:]),
                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                (time.time() - started) / 60),
            "- Python: %s" % ", ".join(versions),
            "- Machine: %s. Shared and noisy: modes are interleaved and every ratio is the "
            "median of pairs from one repetition; read differences under ~5%% as noise." % note,
            "- Targets: pyrometer ≤ %.1f × floor on every workload; ≤ %.1f × cProfile on "
            "call-heavy workloads (★); compensation error on bias.py and the workloads of its kind ≤ %.0f points. "
            "See bench/README.md for what each mode is.\n"
            % (FLOOR_TARGET, CPROFILE_TARGET, SPLIT_TARGET_PP),
        ]
        text = "\n".join(head) + "\n" + "\n".join(sections)
        # Sections written by the other runners (bench/run_lines.py's line
        # mode, the output benchmarks) sit between <!-- NAME:begin --> and
        # <!-- NAME:end --> markers: keep them.
        results = BENCH / "RESULTS.md"
        old = results.read_text() if results.exists() else ""
        for m in re.finditer(r"<!-- ([a-z0-9-]+):begin -->.*?<!-- \1:end -->", old, re.S):
            text = text.rstrip("\n") + "\n\n" + m.group(0) + "\n"
        results.write_text(text)
        log("wrote bench/RESULTS.md")
    log("done in %.1f minutes" % ((time.time() - started) / 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())
