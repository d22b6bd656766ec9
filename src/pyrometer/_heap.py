"""Heap growth by type: `pyrometer.show_growth()` and `HeapTracker`.

The engine (C) counts the collector's objects per type and compares two
counts (api/py_heap.h); this layer keeps the last count and prints.
"""
import sys
from collections import namedtuple

from . import _engine

TypeGrowth = namedtuple("TypeGrowth", "name count growth bytes bytes_growth")
TypeGrowth.__doc__ = """A type whose objects or bytes grew: its objects now and
the new ones, its shallow bytes now and the new ones."""


class HeapTracker:
    """Objects and bytes per type, since the tracker last looked.

        tracker = pyrometer.HeapTracker()
        tracker.print_diff()            # the first look: every object there is
        work()
        tracker.print_diff()            # what work() left behind

    Each look counts the objects the garbage collector tracks (what
    gc.get_objects() returns: not ints, strs, floats, nor the tuples and
    dicts it has stopped tracking) per type name, in C, and their shallow
    bytes (the type's C __sizeof__, else its basic size plus its items';
    sys.getsizeof less the collector's header).  Types are named by
    __name__, or module.__qualname__ with shortnames=False; types of one
    name count as one.  A look does not collect garbage unless
    collect=True (objgraph's show_growth() always collects first): without
    it, cycles that are garbage already may still count.
    """

    def __init__(self, shortnames=True):
        self.shortnames = bool(shortnames)
        self._last = None

    def _look(self, collect):
        if collect:
            import gc
            gc.collect()
        census = _engine.heap_census(shortnames=self.shortnames)
        earlier, self._last = self._last, census
        return census, earlier

    def diff(self, limit=None, collect=False):
        """[TypeGrowth(name, count, growth, bytes, bytes_growth)] of the types
        whose objects or bytes grew since the last look (the first look: all
        of them), the most new objects first; at most `limit` rows."""
        census, earlier = self._look(collect)
        return [TypeGrowth(*row) for row in _engine.heap_growth(census, earlier, limit)]

    def print_diff(self, limit=10, stream=None, collect=False):
        """Print diff() as objgraph's show_growth() does, with the bytes'
        growth in a last column, to `stream` (default sys.stdout):

            Point                          60000    +60000     +2.3 MiB
        """
        census, earlier = self._look(collect)
        text = _engine.format_growth(census, earlier, limit)
        (stream if stream is not None else sys.stdout).write(text)


_tracker = None


def show_growth(limit=10, stream=None, collect=False):
    """The types whose objects grew since the last call (the first call:
    every object there is), the `limit` largest growths, printed as
    objgraph's show_growth() prints them with a column of bytes (see
    HeapTracker): `type name   objects now   +new objects   +new bytes`.
    No garbage collection is forced unless collect=True."""
    global _tracker
    if _tracker is None:
        _tracker = HeapTracker()
    _tracker.print_diff(limit=limit, stream=stream, collect=collect)
