"""The Python API: Profiler, the profile decorator, run() and load()."""
import functools
import os
import sys
import threading

from . import _engine

FormatError = getattr(_engine, "FormatError", ValueError)

# Our runner, signal handler and decorator frames are not the program's.
_engine.Profiler._set_own_prefix(os.path.dirname(os.path.abspath(__file__)) + os.sep)


class Profiler(_engine.Profiler):
    """Deterministic function profiler (all threads), pstats-compatible.

    Profiler(builtins=True, clock="wall", compensate=True)

    - builtins: record built-in (C) functions such as len() or list.append.
    - clock: "wall" (the CPU's time-stamp counter, else CLOCK_MONOTONIC) or
      "cpu" (per-thread CPU time).
    - compensate: subtract the profiler's own measured cost per event.

    Use enable()/disable() or a with-block, then print_report(), dump(path)
    (the pstats data, then the call tree), pstats.Stats(profiler) or
    get_tree() (the call tree as a dict, docs/tree-format.md).
    """

    def create_stats(self):
        """Freeze the statistics into self.stats (what pstats.Stats reads)."""
        self.disable()
        self.stats = self.get_stats()

    def report(self, sort="cumulative", limit=None, callers=False, callees=False):
        """The report as pstats prints it, as a string.  callers/callees:
        True for every function listed, or a regular expression (pstats'
        print_callers("parse"))."""
        self.disable()
        return format_report(self.get_stats(), sort=sort, limit=limit,
                             callers=callers, callees=callees, notes=notes_for(self))

    def print_report(self, sort="cumulative", limit=None, callers=False,
                     callees=False, file=None):
        """Print the report to `file` (default sys.stdout)."""
        out = file if file is not None else sys.stdout
        out.write(self.report(sort=sort, limit=limit, callers=callers, callees=callees))

    # pstats-style name, for code written for cProfile
    def print_stats(self, sort="cumulative"):
        self.print_report(sort=sort)

    def dump(self, path):
        """Write the statistics (pstats format) then the call tree to a .prof
        file, atomically."""
        self.disable()
        tree = self.get_tree()
        tree["meta"] = measured_by(self)
        _engine.dump_stats(os.fspath(path), self.get_stats(), tree)

    def dump_stats(self, path):
        self.dump(path)


def measured_by(profiler):
    """How a profile was measured, as its file records it (docs/tree-format.md)
    and reports head it: clock, compensation, interpreter, event source."""
    info = profiler.info()
    clock = info["clock"]
    meta = {"clock": f"{clock} ({'wall' if clock in ('tsc', 'monotonic') else clock})",
            "python": f"{sys.implementation.name} {sys.version.split()[0]}",
            "events": "sys.monitoring" if sys.version_info >= (3, 12) else "sys.setprofile"}
    if info["compensate"]:
        cost = info.get("overhead_ns", {})
        meta["compensation"] = (f"on: {cost.get('python_enter', 0) + cost.get('python_leave', 0):.0f}"
                                f" ns per Python call, {cost.get('builtin_enter', 0) + cost.get('builtin_leave', 0):.0f}"
                                f" ns per built-in call taken off")
    else:
        meta["compensation"] = "off"
    root = getattr(profiler, "_program_root", None)
    if root and len(root) <= 200:   # the file's meta holds short values only
        meta["root"] = root      # the program's folder: its own files are under it
    return meta


def header_lines(meta):
    """The report's lines on how it was measured."""
    if not meta:
        return []
    return [f"Measured: clock {meta.get('clock', '?')}; compensation {meta.get('compensation', '?')}",
            f"          {meta.get('python', '?')}, events from {meta.get('events', '?')}"]


def notes_for(profiler):
    """Lines that tell the reader where the numbers are incomplete."""
    info = profiler.info()
    notes = []
    if info["out_of_memory"]:
        notes.append("pyrometer: memory ran out while profiling; "
                     "profiling stopped early and these statistics are partial")
    if info.get("memory_failed"):
        notes.append("pyrometer: memory ran out for the table of allocated blocks; memory "
                     "profiling stopped there (the time profile goes on): the bytes are partial")
    if info.get("hook_taken_back_late"):
        notes.append(f"pyrometer: the program replaced the profile hook "
                     f"{info['hook_taken_back_late']} time(s) while a debugger or coverage "
                     "held the trace hook; calls made before pyrometer took it back (within "
                     f"{info['hook_late_seconds'] * 1e6:.0f} microseconds each time) are missing")
    if info["folded_calls"]:
        notes.append(f"pyrometer: {info['folded_calls']} recursive calls were folded "
                     "onto their ancestors in the call tree (function statistics are exact)")
    if info.get("floored"):
        n = info["floored"]
        notes.append(f"pyrometer: {n} call path{'s' if n > 1 else ''} kept the least own "
                     "time a call takes (half an empty call's cost per call): taking the "
                     "profiler's cost off would have left less")
    if info.get("waited_s", 0) >= 0.05 and info["waited_s"] >= 0.05 * sum(
            v[2] for v in profiler.get_stats().values()):
        notes.append(f"pyrometer: the machine was busy: {info['waited_s']:.3g} s the program "
                     "waited for a CPU that other processes held were left out of its times")
    if info.get("calibration_attempts", 0) > 1:
        notes.append(f"pyrometer: the machine was busy while the profiler measured its own "
                     f"cost: {info['calibration_attempts']} calibrations were run, "
                     f"{info['calibration_rejected']} repetitions of the one kept were "
                     "outliers and left out")
    return notes


def sort_keys(sort):
    if isinstance(sort, str):
        return tuple(s.strip() for s in sort.split(",") if s.strip())
    return tuple(sort)


class SampledStats(dict):
    """The pstats dict of a sampled profile, as load() gives it: CPython
    3.15's `profiling.sampling --pstats` (its ('__sampled__',) marker taken
    out) or collapsed stacks.  Its counts are samples: cc those a function
    was running in, nc those it was on the stack in.  `unit` is what its
    tottime and cumtime hold: "seconds", or "samples" when the file knew no
    time (collapsed stacks: they are the counts again)."""

    sampled = True

    def __init__(self, stats, unit="seconds"):
        super().__init__(stats)
        self.unit = unit


def format_report(stats, sort="cumulative", limit=None, callers=False,
                  callees=False, files=(), notes=(), sampled=None, unit=None, color=False,
                  width=0):
    """pstats' print_stats (and print_callers/print_callees) layout; for a
    sampled profile (SampledStats, `sampled`, or stats that carry 3.15's
    marker) in the words of 3.15's SampledStats, and with no time known
    (unit "samples") a table of samples and shares.  callers/callees True:
    the callers (callees) of every function listed, after the table; a str:
    pstats' print_callers(PATTERN) (print_callees) alone, for the functions
    whose file:line(name) the regular expression matches (a True beside a
    pattern takes that pattern), `limit` then applied to them.  color: hot
    rows in colour; width: the table's names shortened from the left to
    fit that many columns (0: never)."""
    keys = sort_keys(sort)
    if sampled is None:
        sampled = getattr(stats, "sampled", None)
    if unit is None:
        unit = getattr(stats, "unit", "seconds")
    kind = {"sampled": sampled, "unit": unit}
    pattern = next((p for p in (callers, callees) if isinstance(p, str)), None)
    parts = []
    if pattern is None:
        parts.append(_engine.format_report(stats, sort=keys, limit=limit, files=tuple(files),
                                           mode="stats", color=bool(color),
                                           width=int(width or 0), **kind))
    for mode, wanted in (("callers", callers), ("callees", callees)):
        if not wanted:
            continue
        restriction = limit
        if pattern is not None:
            which = wanted if isinstance(wanted, str) else pattern
            restriction = (which,) if limit is None else (which, limit)
        parts.append(_engine.format_report(stats, sort=keys, limit=restriction, mode=mode,
                                           **kind))
    text = "".join(parts)
    if notes:
        text += "".join(n + "\n" for n in notes)
    return text


def load(path):
    """Read a profile as a pstats dict: a .prof file (ours, cProfile's, or
    3.15's profiling.sampling --pstats) or collapsed stacks.  A sampled one
    comes as a SampledStats (`.sampled` True, `.unit`), without 3.15's
    marker; the others as a plain dict."""
    got = _engine.read_profile(os.fspath(path), tree=False)
    if got["sampled"]:
        return SampledStats(got["stats"], got["unit"])
    return got["stats"]


def run(statement, filename=None, sort="cumulative", globals=None, locals=None):
    """Like cProfile.run: profile `statement`, print or save the result."""
    if globals is None:
        import __main__
        globals = __main__.__dict__
    if locals is None:
        locals = globals
    prof = Profiler()
    prof.enable()
    try:
        exec(statement, globals, locals)
    finally:
        prof.disable()
        if filename is not None:
            prof.dump(filename)
        else:
            prof.print_report(sort=sort)
    return prof


_counts_lock = threading.Lock()


def _random():
    import random   # imported at the first sampled call, not at start-up
    return random.random()


def profile(name=None, *, probability=1.0, limit=None, directory=None,
            builtins=True):
    """Decorator: profile each call and save it to a time-stamped .prof file.

        @pyrometer.profile("locations_download.prof")
        def location_export(request, domain): ...

    Files go to `directory`, else $PYROMETER_DIR, else the system temp folder,
    named like locations_download-20261122T101112.123456.prof.  In production,
    `probability` (0..1) profiles only a share of the calls and `limit` caps
    the number of profiles this process writes.  A call made while another
    profiler runs is not profiled again.
    """
    if callable(name) and not isinstance(name, str):
        return profile()(name)

    def decorate(func):
        base = name or f"{func.__module__}.{func.__qualname__}.prof"
        stem, ext = os.path.splitext(base)
        ext = ext or ".prof"
        state = {"written": 0}

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if probability < 1.0 and _random() >= probability:
                return func(*args, **kwargs)
            with _counts_lock:
                if limit is not None and state["written"] >= limit:
                    return func(*args, **kwargs)
                state["written"] += 1
            prof = Profiler(builtins=builtins)
            try:
                prof.enable()
            except ValueError:          # another profiler is running
                return func(*args, **kwargs)
            try:
                return func(*args, **kwargs)
            finally:
                prof.disable()
                if directory or os.environ.get("PYROMETER_DIR"):
                    folder = directory or os.environ.get("PYROMETER_DIR")
                else:
                    import tempfile   # only when needed: start-up stays short
                    folder = tempfile.gettempdir()
                from datetime import datetime
                stamp = datetime.now().strftime("%Y%m%dT%H%M%S.%f")
                path = os.path.join(folder, f"{stem}-{stamp}{ext}")
                try:
                    os.makedirs(folder, exist_ok=True)
                    prof.dump(path)
                except OSError as exc:
                    print(f"pyrometer: could not save profile of {func.__qualname__}: {exc}",
                          file=sys.stderr)

        return wrapper

    return decorate
