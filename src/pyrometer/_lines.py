"""Line profiling: LineProfiler, the `lines` decorator, saved line profiles.

The engine (C) counts hits and time per line of the selected code objects;
this layer chooses the code (functions, methods, classes, modules,
patterns), adds each function's source to the statistics and prints them in
line_profiler's layout.
"""
import os
import sys
import types

from . import _engine

UNIT = 1e-9   # seconds per unit of the times in get_stats()
# The value columns of a line profile with memory (docs/line-format.md).
MEMORY_METRICS = [{"name": "time", "unit": "seconds", "scale": UNIT},
                  {"name": "allocated", "unit": "bytes", "scale": 1.0},
                  {"name": "net", "unit": "bytes", "scale": 1.0},
                  {"name": "allocations", "unit": "count", "scale": 1.0},
                  {"name": "usage", "unit": "bytes", "scale": 1.0},
                  {"name": "peak", "unit": "bytes", "scale": 1.0}]


def _codes_of(obj):
    """[(code, qualified name)] of the functions `obj` stands for."""
    if isinstance(obj, (staticmethod, classmethod)):
        return _codes_of(obj.__func__)
    if isinstance(obj, property):
        return [c for f in (obj.fget, obj.fset, obj.fdel) if f is not None for c in _codes_of(f)]
    if isinstance(obj, types.MethodType):
        return _codes_of(obj.__func__)
    if isinstance(obj, types.FunctionType):
        return [(obj.__code__, obj.__qualname__)]
    if isinstance(obj, types.CodeType):
        return [(obj, getattr(obj, "co_qualname", obj.co_name))]
    if isinstance(obj, type):
        found = []
        for value in vars(obj).values():
            if isinstance(value, (types.FunctionType, staticmethod, classmethod, property)):
                found += _codes_of(value)
        return found
    if isinstance(obj, types.ModuleType):
        found = []
        for value in vars(obj).values():
            if getattr(value, "__module__", None) == obj.__name__ and (
                    isinstance(value, (types.FunctionType, type))):
                found += _codes_of(value)
        return found
    raise TypeError(f"pyrometer: cannot line-profile {obj!r} (not a function, method, "
                    "class or module)")


def _source_block(filename, first_line):
    """The lines of the function starting at `first_line`, as line_profiler
    shows them (its block, found by inspect), or None if the file is gone."""
    import linecache   # only when a report needs it: start-up stays short
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    if not lines or first_line < 1 or first_line > len(lines):
        return None
    return _block(lines, first_line)


class LineProfiler(_engine.LineProfiler):
    """Per-line hits and time of selected functions (all threads).

    LineProfiler(*functions, clock="wall", compensate=True, memory=False)

    Select code with the constructor, add_function() (functions, methods,
    properties, classes, modules), add_pattern() or by using the profiler
    as a decorator; then enable()/disable() or a with-block, and
    print_report(), dump(path) or get_stats().

    memory=True also charges every allocation (Python's MEM and OBJ
    allocators) to the line running in the innermost selected function:
    what functions that are not selected allocate counts on the line that
    called them.  Each line then has its bytes allocated, its net bytes
    (allocated and still alive when profiling stopped) and its blocks.
    """

    def __init__(self, *functions, clock="wall", compensate=True, memory=False):
        super().__init__(clock=clock, compensate=compensate, memory=memory)
        self._by_count = 0
        for f in functions:
            self.add_function(f)

    def add_function(self, func):
        """Line-profile `func` (or every function of a class or module)."""
        for code, name in _codes_of(func):
            self.add_code(code, name)
        return func

    def __call__(self, func):
        """As a decorator: select the function, return it unchanged."""
        return self.add_function(func)

    # line_profiler's names, for code written for it
    def enable_by_count(self):
        if self._by_count == 0:
            self.enable()
        self._by_count += 1

    def disable_by_count(self):
        if self._by_count > 0:
            self._by_count -= 1
            if self._by_count == 0:
                self.disable()

    def get_stats(self):
        """{"unit", "meta", "functions": [{"file", "line", "name", "timings",
        "source"}]}: times in `unit` seconds."""
        was_on = self.enabled
        self.disable()
        try:
            raw = self._raw()
        finally:
            if was_on:
                self.enable()
        functions = [{"file": code.co_filename, "line": code.co_firstlineno, "name": name,
                      "timings": [tuple(t) for t in timings],
                      "source": _source_block(code.co_filename, code.co_firstlineno)}
                     for code, name, timings in raw]
        info = self.info()
        meta = {"python": sys.version.split()[0], "clock": info["clock"],
                "compensated": "yes" if info["compensate"] else "no",
                "event_source": info["event_source"]}
        notes = []
        if info["out_of_memory"]:
            notes.append("memory ran out: profiling stopped early, the counts are partial")
        if info.get("deep_calls"):
            notes.append(f"recursion went deeper than the line hook can follow on the C "
                         f"stack {info['deep_calls']} time(s): below that depth, calls were "
                         "not told apart from the frame that made them")
        if info.get("floored"):
            notes.append(f"{info['floored']} line(s) kept the least time a line takes (half a "
                         "trivial line's cost per hit): taking the profiler's cost off would "
                         "have left less")
        if info.get("waited_s", 0) >= 0.05:
            notes.append(f"the machine was busy: {info['waited_s']:.3g} s the program waited "
                         "for a CPU that other processes held were left out of its times")
        if notes:
            meta["note"] = "; ".join(notes)
        if info.get("memory"):
            # version 2 (docs/line-format.md): time, then the memory columns
            if info.get("memory_failed"):
                notes.append("memory ran out for the table of blocks: allocations after that "
                             "were not recorded")
                meta["note"] = "; ".join(notes)
            if info.get("memory_rss_start_bytes"):
                meta["rss_start"] = str(info["memory_rss_start_bytes"])
            return {"version": 2, "unit": UNIT, "meta": meta, "functions": functions,
                    "metrics": MEMORY_METRICS}
        return {"unit": UNIT, "meta": meta, "functions": functions}

    def report(self, unit=None, show_zero=False, metric=None, color=False):
        """The report in line_profiler's layout, as a string; times in `unit`
        seconds (None: the largest of 1e-6 ... 1e-9 s in which every line
        that ran reads at least 1.0 per hit, never 0.0); `color`: hot lines
        in colour, for a terminal.  With memory=True: memory_profiler's
        layout (Mem usage, Increment, Occurrences) with the exact Allocated
        and Blocks beside; metric="time" gives the times instead."""
        return format_report(self.get_stats(), unit=unit, show_zero=show_zero, metric=metric,
                             color=color)

    def print_report(self, stream=None, unit=None, show_zero=False, metric=None):
        out = stream if stream is not None else sys.stdout
        out.write(self.report(unit=unit, show_zero=show_zero, metric=metric))

    def print_stats(self, stream=None, output_unit=None, stripzeros=False):
        self.print_report(stream=stream, unit=output_unit, show_zero=not stripzeros)

    def dump(self, path):
        """Save the statistics (with the sources) atomically."""
        write(path, self.get_stats())

    dump_stats = dump


def has_memory(stats):
    """Whether a line profile counts memory (LineProfiler(memory=True))."""
    metrics = stats.get("metrics") if isinstance(stats, dict) else None
    return isinstance(metrics, list) and any(
        isinstance(m, dict) and m.get("name") == "net" for m in metrics)


def format_report(stats, unit=None, show_zero=False, metric=None, color=False):
    """The report of a line profile: memory_profiler's layout for one that
    counts memory (unless metric="time"), line_profiler's for time."""
    if has_memory(stats) and metric != "time":
        try:
            rss = float(stats.get("meta", {}).get("rss_start", 0))
        except (TypeError, ValueError):
            rss = 0.0     # a damaged file's: the report still prints
        text = _engine.format_lines_memory(stats, rss_start=rss)
    else:
        text = _engine.format_lines(stats, unit=unit, show_zero=show_zero, color=color)
    note = stats.get("meta", {}).get("note")
    return text + (f"pyrometer: {note}\n" if note else "")


def write(path, stats):
    _engine.write_lines(path, stats)


def load(path):
    """A line profile: pyrometer's .lines, or line_profiler's .lprof with
    the sources of its functions read from their files where they are."""
    if kind_of(path) != "lprof":
        return _engine.read_lines(path)
    stats = _engine.read_lprof(path)
    beside = os.path.dirname(os.path.abspath(os.fspath(path)))
    for fn in stats["functions"]:
        fn["source"] = _lprof_source(fn["file"], fn["line"], beside)
    return stats


# Source files read for a .lprof: a name from a file of unknown origin may
# be a FIFO or /dev/zero, which linecache would wait on or read forever.
MAX_SOURCE_BYTES = 16 << 20


def _read_source(filename):
    import stat
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(filename, flags)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    import io
    import tokenize
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        text = data.decode("utf-8", "replace")
    return io.StringIO(text, newline=None).readlines()   # lines as linecache splits them


def _lprof_source(filename, first_line, beside):
    """The function's lines as line_profiler shows them, from `filename` as
    it is named (relative: to the current folder, where kernprof ran), else
    beside the .lprof; None if neither is there."""
    candidates = [filename]
    if not os.path.isabs(filename):
        candidates.append(os.path.join(beside, filename))
    for name in candidates:
        lines = _read_source(name)
        if lines and 1 <= first_line <= len(lines):
            return _block(lines, first_line)
    return None


def _block(lines, first_line):
    import inspect
    try:
        block = inspect.getblock(lines[first_line - 1:])
    except Exception:   # tokenize errors on odd sources: show what we have
        block = lines[first_line - 1:first_line]
    return [line.rstrip("\n").rstrip("\r") for line in block]


def kind_of(path):
    """"lines" (pyrometer's), "lprof" (line_profiler's: a pickle, told by
    its first bytes, or a file named so) or None; OSError if unreadable."""
    magic = _engine.LINES_MAGIC
    head = _engine.file_head(os.fspath(path), len(magic))
    if head == magic:
        return "lines"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "lprof"
    if os.fspath(path).endswith(".lprof"):
        return "lprof"
    return None


def is_line_file(path):
    """Whether `path` is a line profile, ours or line_profiler's (OSError if
    unreadable)."""
    return kind_of(path) is not None


# ---- the process-wide profiler behind @pyrometer.lines and `profile` -------

_default = None
_report_at_exit = False


def default_profiler():
    global _default
    if _default is None:
        _default = LineProfiler()
    return _default


def _print_at_exit():
    prof = _default
    if prof is not None and _report_at_exit:
        prof.disable()
        sys.stdout.flush()
        prof.print_report(stream=sys.stderr)


def lines(func):
    """Decorator: line-profile this function.  Outside `pyrometer run
    --lines`, profiling starts at the first decorated function and the
    report is printed on stderr when the program ends."""
    global _report_at_exit
    prof = default_profiler()
    prof.add_function(func)
    if not prof.enabled and not _report_at_exit and not getattr(prof, "_owned_by_runner", False):
        _report_at_exit = True
        import atexit
        atexit.register(_print_at_exit)
        prof.enable()
    return func


def identity_profile(func):
    """The `profile` builtin when not line profiling: leaves code alone."""
    return func
