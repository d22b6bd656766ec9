from ._engine import Profiler
