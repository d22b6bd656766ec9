import atexit
import marshal
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

# The programs the tests run keep their calibrations in a folder of this
# test session (runtime/calibration_store.h), not in the user's cache.
if "PYROMETER_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="pyrometer-test-cache-")
    os.environ["PYROMETER_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"

# Runs a program's main() under pyrometer or cProfile in a fresh process and
# marshals the pstats dict back: a crash is a failing test, not a dead run.
DRIVER = r'''
import marshal, runpy, sys
import cProfile, pstats, pyrometer   # both, so both runs import the same modules
which, prog, out = sys.argv[1], sys.argv[2], sys.argv[3]
ns = runpy.run_path(prog, run_name="profiled")
main = ns["main"]
if which == "cprofile":
    import cProfile
    prof = cProfile.Profile()
    prof.enable(); main(); prof.disable()
    prof.create_stats()
    stats = prof.stats
else:
    import pyrometer
    kw = eval(which[len("pyrometer"):] or "{}")
    prof = pyrometer.Profiler(**kw)
    prof.enable(); main(); prof.disable()
    stats = prof.get_stats()
    stats[("<info>", 0, "info")] = prof.info()
with open(out, "wb") as f:
    marshal.dump(stats, f)
'''


def run_python(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run([sys.executable, *args], **kw)


@pytest.fixture
def profile_program(tmp_path):
    """profile_program(source_or_path, which="pyrometer") -> pstats dict."""
    def run(source, which="pyrometer"):
        if isinstance(source, Path):
            prog = source
        else:
            prog = tmp_path / "prog.py"
            prog.write_text(textwrap.dedent(source))
        driver = tmp_path / "driver.py"
        driver.write_text(DRIVER)
        out = tmp_path / f"{which[:9]}.marshal"
        r = run_python([str(driver), which, str(prog), str(out)])
        assert r.returncode == 0, r.stderr
        with open(out, "rb") as f:
            return marshal.load(f)
    return run


OURS_OR_CPROFILE_ONLY = ("disable' of '_lsprof.Profiler", "of 'pyrometer._engine.Profiler'")


def stable(key):
    """cProfile names some built-ins with an address; pyrometer does not."""
    return (key[0], key[1], re.sub(r" at 0x[0-9a-fA-F]+", "", key[2]))


def counts(stats, builtins=True):
    """{label: (nc, cc)} without the profilers' own entries."""
    out = {}
    for key, value in stats.items():
        if key[0] == "<info>" or any(s in key[2] for s in OURS_OR_CPROFILE_ONLY):
            continue
        if key[0] == "~" and not builtins:
            continue
        out[stable(key)] = (value[1], value[0])
    return out


def edges(stats, builtins=True):
    """{(caller, callee): (nc, cc)} without the profilers' own entries."""
    out = {}
    for key, value in stats.items():
        if key[0] == "<info>" or any(s in key[2] for s in OURS_OR_CPROFILE_ONLY):
            continue
        if key[0] == "~" and not builtins:
            continue
        for caller, cv in value[4].items():
            if caller[0] == "~" and not builtins:
                continue
            if isinstance(cv, tuple):
                out[(stable(caller), stable(key))] = (cv[0], cv[1])
    return out


# ---- line_profiler's .lprof files, made without line_profiler --------------

class FakeLineStats:
    """Pickled under line_profiler's name for its LineStats (the test never
    imports a module of that name: the pickler below writes the name)."""

    def __init__(self, timings, unit, **more):
        self.timings = timings
        self.unit = unit
        self.__dict__.update(more)


class FakeLineStatsByArgs(FakeLineStats):
    """Pickled as LineStats(timings, unit): a REDUCE of the class."""

    def __reduce__(self):
        return (type(self), (self.timings, self.unit))


def lprof_bytes(timings, unit=1e-9, protocol=None, module="line_profiler.line_profiler",
                by_args=False, **more):
    """A .lprof as line_profiler writes it (pickle protocol 2 to 5), with the
    class named `module`.LineStats."""
    import io
    import pickle

    class Writer(pickle._Pickler):
        def save_global(self, obj, name=None):
            if obj not in (FakeLineStats, FakeLineStatsByArgs):
                return super().save_global(obj, name)
            if self.proto >= 4:
                self.save(module)
                self.save("LineStats")
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f"{module}\nLineStats\n".encode())
            self.memoize(obj)

    out = io.BytesIO()
    cls = FakeLineStatsByArgs if by_args else FakeLineStats
    Writer(out, protocol=pickle.HIGHEST_PROTOCOL if protocol is None else protocol).dump(
        cls(timings, unit, **more))
    return out.getvalue()
