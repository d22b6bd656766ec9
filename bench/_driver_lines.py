"""Run one workload once with its hot functions line-profiled; print JSON.

Used by bench/run_lines.py, one fresh interpreter per run:

    python _driver_lines.py --workload fib --mode pyrometer [--size bench|quick|N]
                            [--floor-dir DIR]

The functions come from the workload's LINE_TARGETS: "name.path" in the
workload module, or "module:name.path" elsewhere (a property stands for its
getter and setter, a static or class method for its function).  They are
resolved after the workload's prepare().  Modes:

    none           plain run
    floor          bench/floor/_floor_lines.c: no-op C hooks on the events
                   pyrometer's line mode uses, for the same code objects
    clockfloor     the same hooks reading the time-stamp counter where
                   pyrometer reads its clock
    line_profiler  line_profiler.LineProfiler(*functions), enable_by_count()
                   / disable_by_count() around main(), get_stats()
    pyrometer      pyrometer.LineProfiler(*functions), enable() / disable()
                   around main(), get_stats()

Interpreter start-up, imports, prepare() and the choice of functions are not
timed.  Timed as in bench/_driver.py: `start` (enable), `main` (the
workload's main() alone), `finish` (disable and collect the statistics in
memory, without printing them), and `cpu_main` (main() in process CPU time).
The profilers also report their hits per function, which bench/run_lines.py
compares.
"""
import argparse
import gc
import importlib
import os
import sys
import time
import types

from _driver import check_of, emit, resolve_size

HERE = os.path.dirname(os.path.abspath(__file__))


def resolve_target(mod, spec):
    """[function] that `spec` names (see the module docstring)."""
    modname, sep, path = spec.partition(":")
    if not sep:
        owner, path = mod, modname
    else:
        owner = importlib.import_module(modname)
    obj = owner
    for part in path.split("."):
        # Class attributes as stored: a property or staticmethod, not what
        # attribute access makes of it.
        obj = vars(obj)[part] if isinstance(obj, type) and part in vars(obj) else getattr(obj, part)
    return functions_of(obj, spec)


def functions_of(obj, spec):
    if isinstance(obj, (staticmethod, classmethod)):
        return functions_of(obj.__func__, spec)
    if isinstance(obj, property):
        return [f for f in (obj.fget, obj.fset, obj.fdel) if f is not None]
    if isinstance(obj, types.MethodType):
        return functions_of(obj.__func__, spec)
    if isinstance(obj, types.FunctionType):
        return [obj]
    raise SystemExit("line target %r is a %s, not a function" % (spec, type(obj).__name__))


def line_targets(mod):
    funcs = []
    for spec in getattr(mod, "LINE_TARGETS", ()):
        for f in resolve_target(mod, spec):
            if all(f.__code__ is not g.__code__ for g in funcs):
                funcs.append(f)
    if not funcs:
        raise SystemExit("workload %s has no LINE_TARGETS" % mod.__name__)
    return funcs


def make_mode(mode, funcs, floor_dir):
    """(start, stop, extra): stop() disables and returns {label: hits}."""
    if mode == "none":
        return (lambda: None), (lambda: None), {}
    if mode in ("floor", "clockfloor"):
        if not floor_dir:
            raise ImportError("the floor module was not built")
        sys.path.insert(0, floor_dir)
        import _floor_lines
        codes = [f.__code__ for f in funcs]
        clock = mode == "clockfloor"

        def start():
            _floor_lines.enable(codes, clock)

        def stop():
            _floor_lines.disable()
        return start, stop, {"_floor": _floor_lines}
    if mode == "line_profiler":
        import line_profiler
        prof = line_profiler.LineProfiler(*funcs)

        def stop():
            prof.disable_by_count()
            stats = prof.get_stats()
            hits = {}
            for (file, line, name), timings in stats.timings.items():
                key = "%s:%d" % (os.path.basename(file), line)
                hits[key] = hits.get(key, 0) + sum(t[1] for t in timings)
            return hits
        return prof.enable_by_count, stop, {"version": getattr(line_profiler, "__version__", None)}
    if mode == "pyrometer":
        import pyrometer
        prof = pyrometer.LineProfiler(*funcs)

        def stop():
            prof.disable()
            stats = prof.get_stats()
            hits = {}
            for f in stats["functions"]:
                key = "%s:%d" % (os.path.basename(f["file"]), f["line"])
                hits[key] = hits.get(key, 0) + sum(t[1] for t in f["timings"])
            return hits
        return prof.enable, stop, {"prof": prof}
    raise SystemExit("unknown mode %r" % mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--size", default="bench")
    ap.add_argument("--floor-dir")
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
    funcs = line_targets(mod)
    base["functions"] = [getattr(f, "__qualname__", f.__name__) for f in funcs]

    try:
        start, stop, extra = make_mode(args.mode, funcs, args.floor_dir)
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
    hits = stop()
    t3 = time.perf_counter()

    out = dict(base, start=t1 - t0, main=t2 - t1, finish=t3 - t2, cpu_main=c2 - c1,
               check=check_of(result))
    if hits is not None:
        out["hits"] = hits
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
    emit(**out)


if __name__ == "__main__":
    main()
