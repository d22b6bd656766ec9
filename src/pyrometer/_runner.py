"""Run a program under the profiler exactly as Python would run it.

The program sees the same sys.argv, __name__ == "__main__" and sys.path[0];
its output and exit status are unchanged.  The profile is written (or
printed) also when the program raises, calls sys.exit, is interrupted with
Ctrl-C or is sent SIGTERM.
"""
import builtins
import linecache
import os
import signal
import sys
import threading
import traceback
import types

from . import _api, _lines


class TargetError(Exception):
    pass


class Target:
    def __init__(self, kind, name, code, argv, path0, main_globals):
        self.kind = kind
        self.name = name
        self.code = code
        self.argv = argv
        self.path0 = path0
        self.main_globals = main_globals

    @classmethod
    def resolve(cls, kind, name, args):
        if kind == "script":
            return cls._script(name, args)
        if kind == "module":
            return cls._module(name, args)
        return cls._code(name, args)

    @classmethod
    def _script(cls, path, args):
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError as exc:
            raise TargetError(f"cannot open script '{path}': {exc.strerror or exc}") from None
        try:
            code = compile(source, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            # Python itself reports a syntax error with a traceback and exit 1;
            # the program never ran, so this is bad input for us.
            raise TargetError(f"cannot compile '{path}': {exc}") from None
        g = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__,
             "__doc__": None, "__package__": None, "__spec__": None,
             "__loader__": None, "__cached__": None}
        path0 = os.path.dirname(os.path.realpath(path))
        return cls("script", path, code, [path, *args], path0, g)

    @classmethod
    def _module(cls, modname, args):
        import runpy
        sys.path.insert(0, os.getcwd())
        try:
            mod_name, spec, code = runpy._get_module_details(modname)
        except BaseException as exc:  # runpy raises its own ImportError subclass
            raise TargetError(f"cannot run module '{modname}': {exc}") from None
        finally:
            del sys.path[0]
        g = {"__name__": "__main__", "__file__": spec.origin, "__builtins__": __builtins__,
             "__doc__": None, "__package__": spec.parent, "__spec__": spec,
             "__loader__": spec.loader, "__cached__": spec.cached}
        return cls("module", mod_name, code, [spec.origin, *args], os.getcwd(), g)

    @classmethod
    def _code(cls, source, args):
        try:
            code = compile(source, "<string>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise TargetError(f"cannot compile -c code: {exc}") from None
        g = {"__name__": "__main__", "__builtins__": __builtins__, "__doc__": None,
             "__package__": None, "__spec__": None, "__loader__": None}
        # So that reports can show the lines of functions defined there.
        lines = source.splitlines(True)
        linecache.cache["<string>"] = (len(source), None, lines, "<string>")
        return cls("code", "-c", code, ["-c", *args], "", g)


class Session:
    """One profiled run: the profiler, where its result goes, and finishing
    it exactly once whichever way the program ends."""

    def __init__(self, opts):
        self.opts = opts
        self.lines = opts.get("lines", False)
        self.failed_patterns = []
        if self.lines:
            self.profiler = _lines.LineProfiler(clock=opts["clock"], compensate=opts["compensate"])
            self.profiler._owned_by_runner = True
            for pattern in opts.get("patterns", ()):
                self.profiler.add_pattern(pattern)
            _lines._default = self.profiler
            # As kernprof does: @profile marks the functions to profile.
            builtins.profile = self.profiler
        else:
            self.profiler = _api.Profiler(builtins=opts["builtins"], clock=opts["clock"],
                                          compensate=opts["compensate"])
            builtins.profile = _lines.identity_profile
        self.finished = False

    def finish(self):
        if self.finished:
            return True
        self.finished = True
        prof = self.profiler
        prof.disable()
        if self.lines:
            return self._finish_lines(prof)
        out = self.opts["outfile"]
        try:
            if out is None:
                sys.stdout.flush()
                prof.print_report(sort=self.opts["sort"], limit=self.opts["limit"],
                                  callers=self.opts["callers"], callees=self.opts["callees"])
                sys.stdout.flush()
            else:
                prof.dump(out)
                for note in _api.notes_for(prof):
                    print(note, file=sys.stderr)
                print(f"pyrometer: profile written to {out}", file=sys.stderr)
        except (OSError, ValueError) as exc:
            print(f"pyrometer: error: could not save the profile: {exc}", file=sys.stderr)
            return False
        return True

    def _finish_lines(self, prof):
        self.failed_patterns = prof.unmatched_patterns()
        if self.failed_patterns:
            for pattern in self.failed_patterns:
                print(f"pyrometer: error: --lines-of '{pattern}' matched no function that ran; "
                      "nothing written", file=sys.stderr)
            return False
        out = self.opts["outfile"]
        unit = self.opts.get("unit") or 1e-6
        try:
            if out is None:
                sys.stdout.flush()
                prof.print_report(unit=unit, show_zero=self.opts.get("show_zero", False))
                sys.stdout.flush()
            else:
                prof.dump(out)
                print(f"pyrometer: line profile written to {out}", file=sys.stderr)
        except (OSError, ValueError) as exc:
            print(f"pyrometer: error: could not save the profile: {exc}", file=sys.stderr)
            return False
        return True


def join_threads():
    """Wait for non-daemon threads, as the interpreter does at exit, so their
    work is in the profile."""
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon and t is not threading.main_thread():
            t.join()


def print_exception(exc):
    """Print the program's traceback without our own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("pyrometer"):
        tb = tb.tb_next
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)


def run(target, opts):
    session = Session(opts)

    def on_sigterm(signum, frame):
        # Write the profile, then die of SIGTERM as the program would have.
        session.finish()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, on_sigterm)

    main_module = types.ModuleType("__main__")
    main_module.__dict__.update(target.main_globals)
    sys.modules["__main__"] = main_module
    sys.argv[:] = target.argv
    sys.path[0] = target.path0

    interrupted = None
    exit_code = 0
    session.profiler.enable()
    try:
        exec(target.code, main_module.__dict__)
    except SystemExit as exc:
        join_threads()
        session.finish()
        if session.failed_patterns and exc.code in (0, None):
            raise SystemExit(2) from None
        raise exc.with_traceback(None)
    except KeyboardInterrupt as exc:
        interrupted = exc
    except BaseException as exc:
        join_threads()
        session.finish()
        print_exception(exc)
        exit_code = 1
    else:
        join_threads()

    session.finish()
    if session.failed_patterns and exit_code == 0:
        exit_code = 2   # bad input: the pattern names nothing
    if interrupted is not None:
        print_exception(interrupted)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return exit_code
