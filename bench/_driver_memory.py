"""Run one workload once under a memory profiler; print JSON.

Used by bench/memory.py, one fresh interpreter per run:

    python _driver_memory.py --workload logparse --mode pyrometer_lines [--size bench|quick|N]

Modes (the line-by-line ones select the workload's LINE_TARGETS):

    none               plain run
    tracemalloc1       tracemalloc.start(1): every block, one frame
    tracemalloc25      tracemalloc.start(25)
    pyrometer_calls    pyrometer.Profiler(memory=True): every block per call path
                       (and the time profile with it)
    pyrometer_lines    pyrometer.LineProfiler(*functions, memory=True): every
                       block per line of the selected functions
    memray             memray.Tracker (its default: native allocations not
                       traced, Python allocators' blocks aggregated per stack)
    memray_python      memray.Tracker(trace_python_allocators=True)
    memory_profiler    memory_profiler.LineProfiler on the same functions (RSS
                       read at every line of them)

Timed: main() alone (start and finish apart), as in bench/_driver_lines.py.
"""
import argparse
import gc
import importlib
import os
import sys
import tempfile
import time

from _driver import check_of, emit, resolve_size
from _driver_lines import line_targets

HERE = os.path.dirname(os.path.abspath(__file__))


def make_mode(mode, funcs):
    """(start, stop, version)."""
    if mode == "none":
        return (lambda: None), (lambda: None), None
    if mode.startswith("tracemalloc"):
        import tracemalloc
        frames = int(mode[len("tracemalloc"):])

        def stop():
            tracemalloc.take_snapshot()
            tracemalloc.stop()
        return (lambda: tracemalloc.start(frames)), stop, None
    if mode == "pyrometer_calls":
        import pyrometer
        prof = pyrometer.Profiler(memory=True)

        def stop():
            prof.disable()
            prof.get_tree()
        return prof.enable, stop, pyrometer.__version__
    if mode == "pyrometer_lines":
        import pyrometer
        prof = pyrometer.LineProfiler(*funcs, memory=True)

        def stop():
            prof.disable()
            prof.get_stats()
        return prof.enable, stop, pyrometer.__version__
    if mode.startswith("memray"):
        import memray
        out = os.path.join(tempfile.mkdtemp(), "memray.bin")
        tracker = memray.Tracker(out, trace_python_allocators=mode == "memray_python")
        return tracker.__enter__, (lambda: tracker.__exit__(None, None, None)), memray.__version__
    if mode == "memory_profiler":
        import memory_profiler
        prof = memory_profiler.LineProfiler(backend="psutil")
        for f in funcs:
            prof.add_function(f)   # its trace function reads the RSS on their lines
        return prof.enable_by_count, prof.disable_by_count, memory_profiler.__version__
    raise SystemExit("unknown mode %r" % mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--size", default="bench")
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(HERE, "workloads"))
    mod = importlib.import_module(args.workload)
    base = {"workload": args.workload, "mode": args.mode, "python": sys.version.split()[0]}
    size = resolve_size(mod, args.size)
    base["size"] = size
    if hasattr(mod, "prepare"):
        mod.prepare(size)
    funcs = line_targets(mod)
    try:
        start, stop, version = make_mode(args.mode, funcs)
    except ImportError as e:
        emit(unavailable=str(e), **base)
        return
    gc.collect()
    start()
    t1 = time.perf_counter()
    result = mod.main(size)
    t2 = time.perf_counter()
    stop()
    emit(main=t2 - t1, check=check_of(result), peer_version=version, **base)


if __name__ == "__main__":
    main()
