"""Run one workload once under one mode; print the timings as JSON.

Used by bench/run.py, one fresh interpreter per run:

    python _driver.py --workload fib --mode pyrometer [--size bench|quick|N]
                      [--floor-dir DIR] [--split]

Interpreter start-up, imports and the workload's prepare() are not timed.
Timed: `start` (enable the profiler), `main` (the workload's main() alone)
and `finish` (disable the profiler and collect its statistics in memory,
without printing them), with perf_counter; `cpu_main` is main() again in
process CPU time (process_time), less disturbed by other processes.  With --split (bias workload only) it reports the
share of calling() in calling() + inlined() instead: measured unprofiled
(mode none) or as the profiler reports it.
"""
import argparse
import gc
import hashlib
import importlib
import json
import os
import sys
import time

MARK = "@@PYROMETER-BENCH@@ "
HERE = os.path.dirname(os.path.abspath(__file__))


def emit(**fields):
    sys.stdout.write("\n" + MARK + json.dumps(fields) + "\n")
    sys.stdout.flush()


def stats_getter(prof):
    get = getattr(prof, "get_stats", None)
    return get if callable(get) else prof.stats


def make_mode(mode, floor_dir):
    """(start, stop, extra): stop() disables and returns the statistics."""
    if mode == "none":
        return (lambda: None), (lambda: None), {}
    if mode in ("floor", "clockfloor"):
        if not floor_dir:
            raise ImportError("the floor module was not built")
        sys.path.insert(0, floor_dir)
        import _floor

        def stop():
            _floor.disable()
        clock = mode == "clockfloor"
        return (lambda: _floor.enable(clock)), stop, {"backend": None, "_floor": _floor}
    if mode == "cprofile":
        import cProfile
        prof = cProfile.Profile()

        def stop():
            prof.disable()
            prof.create_stats()
            return prof.stats
        return prof.enable, stop, {}
    if mode == "yappi":
        import yappi
        yappi.set_clock_type("wall")

        def start():
            yappi.start(builtins=True)

        def stop():
            yappi.stop()
            return yappi.get_func_stats()
        return start, stop, {"version": getattr(yappi, "__version__", None)}
    if mode == "pyinstrument":
        import pyinstrument
        prof = pyinstrument.Profiler()

        def stop():
            return prof.stop()
        return prof.start, stop, {"version": getattr(pyinstrument, "__version__", None)}
    if mode == "pyrometer":
        import pyrometer
        prof = pyrometer.Profiler(builtins=True, clock="wall", compensate=True)
        get = stats_getter(prof)

        def stop():
            prof.disable()
            return get()
        return prof.enable, stop, {"prof": prof}
    raise SystemExit("unknown mode %r" % mode)


def resolve_size(mod, size):
    if size in (None, "", "bench", "default"):
        return getattr(mod, "BENCH_SIZE", mod.DEFAULT_SIZE)
    if size == "quick":
        return getattr(mod, "QUICK_SIZE", mod.DEFAULT_SIZE)
    return int(size)


def check_of(value):
    return hashlib.sha1(repr(value).encode()).hexdigest()[:12]


def cumulative_split(mode, stats, filename):
    """Cumulative times of calling() and inlined() from a profiler's stats."""
    want = {"calling": None, "inlined": None}
    if mode == "yappi":
        for s in stats:
            if s.name in want and os.path.basename(s.module) == filename:
                want[s.name] = s.ttot
    else:  # pstats layout: {(file, line, name): (cc, nc, tt, ct, callers)}
        for (file, _line, name), row in stats.items():
            if name in want and os.path.basename(file) == filename:
                want[name] = row[3]
    if None in want.values():
        raise RuntimeError("calling/inlined missing from the %s statistics" % mode)
    return want["calling"], want["inlined"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--size", default="bench")
    ap.add_argument("--floor-dir")
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--split-reps", type=int, default=3)
    args = ap.parse_args()

    sys.path.insert(0, os.path.join(HERE, "workloads"))
    mod = importlib.import_module(args.workload)
    base = {"workload": args.workload, "mode": args.mode,
            "python": sys.version.split()[0]}
    if getattr(mod, "SKIP", None):
        emit(skip=mod.SKIP, **base)
        return
    size = resolve_size(mod, args.size)
    base.update(size=size, variant=getattr(mod, "VARIANT", None))
    if hasattr(mod, "prepare"):
        mod.prepare(size)

    if args.split and args.mode == "none":
        calling, inlined = mod.true_split(size, reps=args.split_reps)
        emit(calling=calling, inlined=inlined, split=calling / (calling + inlined), **base)
        return

    try:
        start, stop, extra = make_mode(args.mode, args.floor_dir)
    except ImportError as e:
        emit(unavailable=str(e), **base)
        return

    gc.collect()
    t0 = time.perf_counter()
    start()
    c1 = time.process_time()
    t1 = time.perf_counter()
    result = mod.main(size)
    t2 = time.perf_counter()
    c2 = time.process_time()
    stats = stop()
    t3 = time.perf_counter()

    out = dict(base, start=t1 - t0, main=t2 - t1, finish=t3 - t2, cpu_main=c2 - c1,
               check=check_of(result))
    if "version" in extra:
        out["peer_version"] = extra["version"]
    if "_floor" in extra:
        out["backend"] = extra["_floor"].backend()
    if "prof" in extra:
        try:
            info = extra["prof"].info()
            out["info"] = {k: v for k, v in info.items()
                           if isinstance(v, (int, float, str, bool, dict))}
        except Exception as e:  # report, never fail the timing
            out["info"] = {"error": repr(e)}
    if args.split:
        calling, inlined = cumulative_split(args.mode, stats, os.path.basename(mod.__file__))
        out.update(calling=calling, inlined=inlined, split=calling / (calling + inlined))
    emit(**out)


if __name__ == "__main__":
    main()
