"""Memory over time: `pyrometer.Timeline`, the brackets of `@profile`
calls, and the files a timeline is written as.

The engine (C) samples the RSS and the traced heap from a thread of its
own, keeps the brackets and writes every file (modes/timeline_mode.h,
formats/timeline_*.c); this layer wraps functions so that their calls are
bracketed, names them as mprof does, and tells formats by file names.
"""
import functools
import os

from . import _engine


def format_of(path):
    """The timeline format a file name asks for: .svg, .html/.htm, .dat
    (mprof's), massif.out.* (massif's); anything else is a saved timeline."""
    base = os.path.basename(os.fspath(path)).lower()
    if base.startswith("massif.out"):
        return "massif"
    ext = os.path.splitext(base)[1]
    return {".svg": "svg", ".html": "html", ".htm": "html", ".dat": "mprof"}.get(ext, "mem")


def is_timeline_file(path):
    """Whether `path` starts like a saved timeline (OSError if unreadable)."""
    magic = _engine.TIMELINE_MAGIC
    return _engine.file_head(os.fspath(path), len(magic)) == magic


def call_name(func):
    """A function as mprof names it: module.qualified_name (no spaces: its
    .dat splits on them)."""
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or "?"
    return f"{module}.{name}".replace(" ", "_")


# The sampler thread stops while Python forks: os.fork() would otherwise
# count it and, from 3.12, warn the program about forking among threads.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_engine.Timeline._before_fork,
                        after_in_parent=_engine.Timeline._after_fork_in_parent,
                        after_in_child=_engine.Timeline._after_fork_in_child)

# Generators and coroutines are bracketed from their first step to their
# end by wrappers written in Python; compiled under a name outside this
# package, so that the profilers do not take them (and all they call) for
# pyrometer's own code, which they leave out.
_WRAPPERS = """
def generator_bracket(func, name, enter, leave):
    def bracket(*args, **kwargs):
        token = enter(name)
        try:
            return (yield from func(*args, **kwargs))
        finally:
            leave(token)
    return bracket

def coroutine_bracket(func, name, enter, leave):
    async def bracket(*args, **kwargs):
        token = enter(name)
        try:
            return await func(*args, **kwargs)
        finally:
            leave(token)
    return bracket
"""
_wrappers = {}


def _wrapper(kind):
    """The wrapper maker `kind`, compiled at its first use (not at import:
    every run would pay for it)."""
    if not _wrappers:
        exec(compile(_WRAPPERS, "<pyrometer timeline>", "exec"), _wrappers)
    return _wrappers[kind]


def bracketed(timeline, func, name=None):
    """`func` wrapped so that each call is a bracket of `timeline`: its start
    and end (RSS and traced heap read at each), as mprof brackets @profile
    functions.  A plain function's wrapper is C (_engine.TimelineBracket):
    no frame of its own, nothing raised of its own.  Generators and
    coroutines are bracketed from their first step to their end."""
    name = name or call_name(func)
    import inspect   # here: importing it costs start-up every run pays
    if inspect.iscoroutinefunction(func):
        wrapper = _wrapper("coroutine_bracket")(func, name, timeline.enter, timeline.exit)
    elif inspect.isgeneratorfunction(func):
        wrapper = _wrapper("generator_bracket")(func, name, timeline.enter, timeline.exit)
    else:
        wrapper = _engine.TimelineBracket(timeline, func, name)
    return functools.update_wrapper(wrapper, func)


class Timeline(_engine.Timeline):
    """The RSS (and, while a memory profiler runs, the bytes alive of the
    blocks it traced) sampled every `interval` seconds by a C thread, and
    the calls of the functions given to `bracket()` (or decorated with
    @profile under `pyrometer run --timeline`) as brackets:

        with pyrometer.Timeline(interval=0.01) as tl:
            work()
        tl.dump("work.mem")            # pyrometer plot work.mem -o work.svg
        tl.write("work.svg")           # or straight to a plot, mprof's .dat...

    A long run keeps at most `max_samples` samples: when full, every other
    one goes and the interval doubles; the peak is kept apart.  One
    timeline runs at a time."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def bracket(self, func=None, *, name=None):
        """Decorator: bracket every call of `func` (named module.qualname,
        or `name`) in this timeline."""
        if func is None:
            return lambda f: bracketed(self, f, name)
        return bracketed(self, func, name)

    def write(self, path, format=None, *, cmd=None, tree=None, metric="net", tree_kind="net",
              title=None):
        """Write the timeline (running or stopped) to `path`, atomically, in
        `format`: "mem" (the saved timeline), "svg", "html", "mprof" or
        "massif"; None: from the name (format_of).  `tree`: a memory
        profile's call tree, whose `metric` breaks the heap down by call
        path in massif's peak snapshot."""
        path = os.fspath(path)
        _engine.write_timeline(path, self, format=format or format_of(path),
                               cmd=cmd if cmd is not None else _command_line(),
                               tree=tree, metric=metric, tree_kind=tree_kind, title=title)

    def dump(self, path, **kwargs):
        """Save the timeline (docs/timeline-format.md) for `pyrometer plot`
        and `pyrometer convert`."""
        self.write(path, "mem", **kwargs)


def _command_line():
    import sys
    return " ".join(["python", *sys.argv]) if sys.argv and sys.argv[0] else "python"


class BracketingProfile:
    """The `profile` builtin of `run --timeline`: each decorated function's
    calls are bracketed in the timeline; with `--lines` the function is
    also given to the line profiler, whose other names (enable_by_count,
    print_stats...) it passes on, so code written for kernprof still runs."""

    def __init__(self, timeline, line_profiler=None):
        self._timeline = timeline
        self._lines = line_profiler

    def __call__(self, func):
        if self._lines is not None:
            func = self._lines(func)
        import inspect
        if not (inspect.isfunction(func) or inspect.ismethod(func)):
            return func   # a class, a property...: left as it is
        return bracketed(self._timeline, func)

    def __getattr__(self, name):
        if self._lines is None:
            raise AttributeError(f"'profile' has no attribute '{name}'")
        return getattr(self._lines, name)
