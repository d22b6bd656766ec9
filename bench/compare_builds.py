"""Compare the work tree's engine with a committed one, paired run by run.

    python bench/compare_builds.py --ref GIT_REF [--python 3.12 ...] [--reps 9]
                                   [--workloads fib,objects,bias] [--write]

For each Python, the work tree (installed editable in bench/.venvs/X.Y, as
bench/run.py does) and GIT_REF (built from a snapshot into
bench/.build/ref-<sha>-X.Y and put first on the path) profile the same
workloads in fresh processes, one after the other in a turning order; each
pair gives one ratio, work tree / ref, of the profiled main() time (function
mode through bench/_driver.py, line mode through bench/_driver_lines.py).
The median of the pairs is what a change costs; a machine switching speed
between processes moves both runs of a pair less than it moves two separate
series.  --write puts the table in bench/RESULTS.md between the
`builds:begin` and `builds:end` marks.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the benchmark's interpreters and venvs)

DRIVERS = {"function": bench.BENCH / "_driver.py", "line": bench.BENCH / "_driver_lines.py"}
DEFAULT_WORKLOADS = ["fib", "objects", "bias", "template"]


def build_ref(py, minor, ref):
    """Install pyrometer as committed at `ref` into its own folder."""
    src, sha = bench.snapshot(ref)
    target = bench.BUILD / ("ref-%s-%s" % (sha[:12], minor))
    if not (target / "pyrometer").is_dir():
        bench.log("  building %s (%s) for %s" % (ref, sha[:12], minor))
        out = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps",
                              "--target", str(target), str(src)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit("cannot build %s: %s" % (ref, out.stderr[-2000:]))
    return target, sha


def run_once(py, mode, workload, size, ref_dir):
    cmd = [str(py), str(DRIVERS[mode]), "--workload", workload, "--mode", "pyrometer",
           "--size", str(size)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    if ref_dir is not None:
        env["PYTHONPATH"] = str(ref_dir)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(bench.BENCH), env=env,
                         timeout=600)
    for line in out.stdout.splitlines():
        if line.startswith(bench.MARK):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError("%s %s failed: %s" % (mode, workload, out.stderr[-1500:]))


def which_engine(py, ref_dir):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if ref_dir is not None:
        env["PYTHONPATH"] = str(ref_dir)
    return subprocess.run([str(py), "-c", "import pyrometer._engine as e; print(e.__file__)"],
                          capture_output=True, text=True, env=env).stdout.strip()


def compare(py, minor, ref_dir, workloads, reps, size):
    rows = []
    for mode in ("function", "line"):
        for w in workloads:
            ratios = []
            for rep in range(reps):
                order = [None, ref_dir] if rep % 2 == 0 else [ref_dir, None]
                t = {}
                for which in order:
                    t[which is None] = run_once(py, mode, w, size, which)["main"]
                ratios.append(t[True] / t[False])
            med = statistics.median(ratios)
            rows.append((mode, w, med, min(ratios), max(ratios)))
            bench.log("  %s %-8s %s: median %.3f (%.3f-%.3f)" % (minor, mode, w, med,
                                                                 min(ratios), max(ratios)))
    return rows


def table(results, ref, sha, reps, size, shown):
    lines = ["<!-- builds:begin -->",
             "## Against an earlier engine (paired)",
             "",
             "`python bench/compare_builds.py%s`, %s: "
             "profiled main() time of the work tree over %s (%s), each ratio the median "
             "of %d pairs of fresh processes run back to back in a turning order (below 1: "
             "the work tree is faster)." % (shown, datetime.date.today().isoformat(),
                                            ref, sha[:12], reps),
             ""]
    for minor, full, rows in results:
        lines += ["### Python %s" % full, "",
                  "| mode | workload | median | range |", "|---|---|---:|---|"]
        for mode, w, med, lo, hi in rows:
            lines.append("| %s | %s | %.3f | %.3f-%.3f |" % (mode, w, med, lo, hi))
        lines.append("")
    lines.append("<!-- builds:end -->")
    return "\n".join(lines)


def write_results(text):
    path = bench.BENCH / "RESULTS.md"
    old = path.read_text()
    begin, end = "<!-- builds:begin -->", "<!-- builds:end -->"
    if begin in old and end in old:
        new = old[:old.index(begin)] + text + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", required=True, help="the git commit to compare with")
    ap.add_argument("--python", action="append", default=[], help="X.Y (default: all)")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--size", default="quick", help="bench, quick or a number")
    ap.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    wanted = args.python or bench.VERSIONS
    results, sha = [], None
    for minor, (exe, full) in bench.find_interpreters(wanted).items():
        py, _, _ = bench.ensure_venv(minor, exe)
        ref_dir, sha = build_ref(py, minor, args.ref)
        mine, theirs = which_engine(py, None), which_engine(py, ref_dir)
        if mine == theirs or str(ref_dir) not in theirs:
            raise SystemExit("the two engines are not told apart: %s / %s" % (mine, theirs))
        results.append((minor, full, compare(py, minor, ref_dir, args.workloads.split(","),
                                             args.reps, args.size)))
    text = table(results, args.ref, sha, args.reps, args.size,
                 bench.shown_args(sys.argv[1:] if argv is None else argv))
    print(text)
    if args.write:
        write_results(text)


if __name__ == "__main__":
    main()
