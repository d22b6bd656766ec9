"""Pyrometer: a profiler for Python programs with an engine in C.

    import pyrometer

    with pyrometer.Profiler() as prof:
        work()
    prof.print_report(sort="cumulative", limit=20)
    prof.dump("work.prof")          # opens in pstats, SnakeViz, gprof2dot...

    @pyrometer.profile("work.prof")  # one time-stamped file per call
    def handler(request): ...

    lp = pyrometer.LineProfiler(hot_function)   # line by line
    with lp:
        work()
    lp.print_report()

    # the commands, as functions
    print(pyrometer.report("work.prof", sort="tottime", limit=10))
    pyrometer.convert("work.prof", "callgrind", "callgrind.out.work")
    pyrometer.merge(["a.prof", "b.prof"], "both.prof")
    print(pyrometer.diff("before.prof", "after.prof"))

    # memory
    @pyrometer.rss                   # RSS before, after and at the peak of each call
    def load_data(): ...
    pyrometer.show_growth()          # objects and bytes per type since the last call
    with pyrometer.Timeline() as tl: # the RSS over time, sampled by a C thread
        work()
    tl.write("work.svg")             # or .mem (pyrometer plot), .dat (mprof), massif.out.x
"""
from ._api import Profiler, load, profile, run
from ._heap import HeapTracker, show_growth
from ._lines import LineProfiler, lines
from ._rss import rss
from ._timeline import Timeline


def report(src, sort="cumulative", limit=None, callers=False, callees=False, unit=None,
           show_zero=False, tree=False, root=None, strip_dirs=False, color=False, width=None):
    """The report of a profile file, as text (what `pyrometer report` prints):
    pstats' table for a function profile, line_profiler's for a line
    profile (pyrometer's or line_profiler's .lprof).  limit: rows, or a
    fraction of them (None: all).  callers/callees: True to follow the table
    with every listed function's callers (callees); a regular expression
    ("parse") for pstats' print_callers(PATTERN) alone.  strip_dirs: files
    without their folders, as pstats' strip_dirs().  color: hot rows in
    ANSI colour; width: names shortened from the left to fit that many
    columns.  tree=True: the call tree, the user's frames shown and library
    frames folded (files under `root`, default the current folder, shown
    relative to it)."""
    from ._tools import report
    return report(src, sort=sort, limit=limit, callers=callers, callees=callees, unit=unit,
                  show_zero=show_zero, tree=tree, root=root, strip_dirs=strip_dirs,
                  color=color, width=width)


def convert(src, format=None, out=None, **options):
    """Write the profile file `src` in `format` ("prof", "html", "flamegraph",
    "speedscope", "callgrind", "collapsed", "dot", "svg", "png"; None: from
    `out`'s extension) to `out` ("-": standard output), with the format's
    options (node_threshold=, edge_threshold=, title=, width=, min_width=,
    unit=).  Returns `out`; pyrometer.Error for bad input."""
    from ._tools import convert
    return convert(src, format, out, **options)


def merge(inputs, out):
    """Add up function profiles (files, glob patterns or folders) into
    `out`, or line profiles (pyrometer's .lines, line_profiler's .lprof)
    into a .lines file.  Returns the list of files merged."""
    from ._tools import merge
    return merge(inputs, out)


def diff(old, new, sort="tottime", limit=None, fail_above=None, min_share=1.0):
    """Compare two function profiles: the text `pyrometer diff` prints, a str
    with `.regressed` (True when fail_above % was passed)."""
    from ._tools import diff
    return diff(old, new, sort=sort, limit=limit, fail_above=fail_above, min_share=min_share)


def __getattr__(name):
    if name == "Error":   # without importing the commands at start-up
        from ._tools import Error
        return Error
    raise AttributeError(f"module 'pyrometer' has no attribute '{name}'")


__all__ = ["Error", "HeapTracker", "LineProfiler", "Profiler", "Timeline", "convert", "diff",
           "lines", "load", "merge", "profile", "report", "rss", "run", "show_growth"]
__version__ = "0.1.0"
