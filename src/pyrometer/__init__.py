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
"""
from ._api import Profiler, load, profile, run
from ._lines import LineProfiler, lines

__all__ = ["LineProfiler", "Profiler", "lines", "load", "profile", "run"]
__version__ = "0.1.0"
