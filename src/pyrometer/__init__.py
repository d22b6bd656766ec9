"""Pyrometer: a profiler for Python programs with an engine in C.

    import pyrometer

    with pyrometer.Profiler() as prof:
        work()
    prof.print_report(sort="cumulative", limit=20)
    prof.dump("work.prof")          # opens in pstats, SnakeViz, gprof2dot...

    @pyrometer.profile("work.prof")  # one time-stamped file per call
    def handler(request): ...
"""
from ._api import Profiler, load, profile, run

__all__ = ["Profiler", "load", "profile", "run"]
__version__ = "0.1.0"
