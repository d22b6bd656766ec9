"""Run a program under the profiler exactly as Python would run it.

The program gets the `__main__` module, sys.argv and sys.path[0] that
`python script.py`, `python -m module` and `python -c code` give it; its
output and exit status are unchanged.  The profile is written (or printed)
also when the program raises, calls sys.exit, is interrupted with Ctrl-C or
is sent SIGTERM.  Forked children do not inherit the runner's signal
handling or its profile: they are not profiled, or with follow_fork each
writes its own file next to the parent's (`out.prof.<pid>`).
"""
import builtins
import os
import signal
import sys
import threading
import types

from . import _api, _convert, _engine, _lines, _timeline, _tools


class TargetError(Exception):
    pass


# The exit status of a run whose program succeeded but whose profile could
# not be saved (BSD's EX_IOERR); a program that failed keeps its own status.
EXIT_SAVE_FAILED = 74


def _new_main_module():
    """A fresh `__main__` as the interpreter makes it at start-up: its
    module attributes, `__annotations__` where the version adds it, and the
    builtins module (not its dict) as `__builtins__`."""
    main = types.ModuleType("__main__")
    if "__annotations__" in vars(sys.modules["__main__"]):
        main.__annotations__ = {}
    main.__builtins__ = builtins
    return main


class Target:
    """What to run: a script (file, folder or zip with __main__.py), a
    module (-m) or code (-c).  Scripts and code are compiled before
    profiling starts (a syntax error is bad input); a module is found and
    imported with the profiler on, as `python -m cProfile -m` does, so the
    import of its package is in the profile."""

    def __init__(self, kind, name, args):
        self.kind = kind
        self.name = name
        self.args = list(args)
        self.code = None
        self.path0 = None

    @classmethod
    def resolve(cls, kind, name, args):
        target = cls(kind, name, args)
        if kind == "script":
            target._compile_script()
        elif kind == "code":
            target._compile_code()
        else:
            target.path0 = os.getcwd()
        return target

    def _compile_script(self):
        path = self.name
        if os.path.isdir(path) or (os.path.isfile(path) and _is_zip(path)):
            # `python folder` or `python app.zip`: the folder is sys.path[0]
            # and its __main__ module runs, as runpy does for Python.
            self.kind = "main-module"
            self.path0 = os.path.abspath(path)
            return
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError as exc:
            raise TargetError(f"cannot open script '{path}': {exc.strerror or exc}") from None
        self.filename = os.path.abspath(path)   # as Python gives __file__ and tracebacks
        try:
            self.code = compile(source, self.filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            # Python itself reports a syntax error with a traceback and exit 1;
            # the program never ran, so this is bad input for us.
            raise TargetError(f"cannot compile '{path}': {exc}") from None
        self.path0 = os.path.dirname(os.path.realpath(path))

    def _compile_code(self):
        try:
            self.code = compile(self.name, "<string>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise TargetError(f"cannot compile -c code: {exc}") from None
        # So that reports can show the lines of functions defined there.
        lines = self.name.splitlines(True)
        import linecache
        linecache.cache["<string>"] = (len(self.name), None, lines, "<string>")
        self.path0 = ""

    def prepare(self):
        """Install the program's `__main__`, sys.argv and sys.path[0]."""
        main = _new_main_module()
        sys.modules["__main__"] = main
        sys.path[0] = self.path0
        if self.kind == "script":
            from importlib.machinery import SourceFileLoader
            main.__file__ = self.filename
            if sys.version_info < (3, 15):   # 3.15 no longer sets it for a script
                main.__cached__ = None
            main.__loader__ = SourceFileLoader("__main__", self.filename)
            sys.argv[:] = [self.name, *self.args]
        elif self.kind == "code":
            from importlib.machinery import BuiltinImporter
            main.__loader__ = BuiltinImporter
            sys.argv[:] = ["-c", *self.args]
        elif self.kind == "main-module":
            sys.argv[:] = [self.name, *self.args]
        else:
            sys.argv[:] = [self.name, *self.args]   # runpy puts the file there
        return main

def _is_zip(path):
    # A zip archive ends with its directory's end record, at most 64 KiB of
    # comment from the end: without one, no need to import zipfile (it
    # would add a tenth to a short run's start-up).
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 65557))
            if b"PK\x05\x06" not in f.read():
                return False
        import zipfile
        return zipfile.is_zipfile(path)
    except OSError:
        return False


# ---- the `profile` builtin, for programs that use it ----------------------

LOADS = {"LOAD_NAME", "LOAD_GLOBAL", "LOAD_FROM_DICT_OR_GLOBALS"}
STORES = {"STORE_NAME", "STORE_GLOBAL"}


def _reads_global(code, name):
    """(loads, stores): whether `code`, or code it defines, reads the global
    (or builtin) `name`, and whether it assigns it."""
    import dis
    loads = stores = False
    todo = [code]
    while todo:
        c = todo.pop()
        for ins in dis.get_instructions(c):
            if ins.argval == name:
                loads = loads or ins.opname in LOADS
                stores = stores or ins.opname in STORES
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return loads, stores


def _decorates_with(code, name):
    """Whether the source of `code` uses the bare name as a decorator
    (`@profile`), or None if the source cannot be read."""
    import ast
    import linecache
    source = "".join(linecache.getlines(code.co_filename))
    if not source:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        for d in getattr(node, "decorator_list", ()):
            if isinstance(d, ast.Name) and d.id == name:
                return True
    return False


class ProfileBuiltin:
    """Defines `profile` in builtins just before the first code that needs
    it runs, instead of for every program as kernprof does: a builtin that
    is always there changes what programs do (pyflakes stops reporting
    `undefined name 'profile'`; `try: profile / except NameError:` takes
    the other branch).

    - With `--lines` (kernprof's convention) any code that reads the name
      gets the line profiler: `@profile` selects functions, and fallbacks
      written for kernprof find it as they would under `kernprof -l`.
    - Otherwise only code that decorates with a bare `@profile` and does not
      define the name itself gets it (the line profiler with `--lines-of`,
      else a `profile` that leaves functions alone), so that such scripts
      still run; code that merely looks the name up sees what Python shows.
    """

    def __init__(self, value, any_reader):
        self.value = value
        self.any_reader = any_reader
        self.active = False

    def start(self):
        if hasattr(builtins, "profile"):
            return
        self.active = True
        _engine.name_watch("profile", self.check)

    def check(self, code):
        if not self.active:
            return
        try:
            loads, stores = _reads_global(code, "profile")
            if not loads:
                return
            if not self.any_reader:
                if stores:
                    return
                decorates = _decorates_with(code, "profile")
                if decorates is False:
                    return
        except Exception:   # an odd code object: leave the program alone
            return
        self.stop()
        if not hasattr(builtins, "profile"):
            builtins.profile = self.value

    def stop(self):
        if self.active:
            self.active = False
            _engine.name_unwatch()


# ---- the run ---------------------------------------------------------------

class Session:
    """One profiled run: the profiler, where its result goes, and finishing
    it exactly once whichever way the program ends."""

    def __init__(self, opts):
        self.opts = opts
        self.lines = opts.get("lines", False)
        self.outfile = opts["outfile"]
        self.follow_fork = opts.get("follow_fork", False)
        self.failed_patterns = []
        self.save_failed = False
        self.in_child = False
        self.forks = 0
        self.pid = os.getpid()
        # --timeline: the RSS over time beside the profile, or alone
        self.timeline_opts = opts.get("timeline")
        self.timeline = (_timeline.Timeline(interval=self.timeline_opts["interval"])
                         if self.timeline_opts is not None else None)
        self.command_line = "pyrometer " + " ".join(map(_quote, sys.argv[1:]))
        if opts.get("timeline_only"):
            # as mprof run: nothing profiled, @profile brackets calls
            self.profiler = None
            self.profile_builtin = ProfileBuiltin(_timeline.BracketingProfile(self.timeline),
                                                  any_reader=False)
        elif self.lines:
            self.profiler = _lines.LineProfiler(clock=opts["clock"], compensate=opts["compensate"],
                                                memory=opts.get("memory", False))
            self.profiler._owned_by_runner = True
            for pattern in opts.get("patterns", ()):
                self.profiler.add_pattern(pattern)
            _lines._default = self.profiler
            # As kernprof does: @profile marks the functions to profile
            # (and brackets their calls in the timeline).
            value = (self.profiler if self.timeline is None
                     else _timeline.BracketingProfile(self.timeline, self.profiler))
            self.profile_builtin = ProfileBuiltin(value, any_reader=opts.get("kernprof", True))
        else:
            self.profiler = _api.Profiler(builtins=opts["builtins"], clock=opts["clock"],
                                          compensate=opts["compensate"],
                                          memory=opts.get("memory", False))
            value = (_lines.identity_profile if self.timeline is None
                     else _timeline.BracketingProfile(self.timeline))
            self.profile_builtin = ProfileBuiltin(value, any_reader=False)
            self.profiler._program_root = opts.get("root")
        self.finished = False
        self.finish_lock = threading.RLock()
        self.sigterm_handler = None
        self.sigterm_previous = None

    # -- finishing -----------------------------------------------------------

    def finish(self):
        # A followed child can be finished by its main thread (at exit) and
        # by our SIGTERM thread at once: the second waits for the first.
        with self.finish_lock:
            if self.finished:
                return True
            self.finished = True
            return self._finish()

    def _finish(self):
        self.profile_builtin.stop()
        if self.timeline is not None:
            self.timeline.stop()   # before the memory profiler stops tracing
        prof = self.profiler
        if prof is not None:
            prof.disable()
        if self.in_child:
            try:
                return self._finish_child(prof)
            finally:
                # Only now: a second SIGTERM while the file is written must
                # not end the process half-way.
                _engine.term_unwatch()
        saved = self._save_timeline(prof) if self.timeline is not None else True
        if prof is None:
            return saved
        if self.lines:
            return self._finish_lines(prof) and saved
        return self._finish_profile(prof) and saved

    def _save_timeline(self, prof):
        """The timeline, to its file in its format; the memory profile's
        call tree gives massif's peak snapshot its call paths."""
        tl, where = self.timeline, self.timeline_opts
        tree = None
        if prof is not None and not self.lines and self.opts.get("memory"):
            try:
                tree = prof.get_tree()
            except (ValueError, MemoryError):
                tree = None
        names = [m.get("name") for m in tree.get("metrics", ())] if tree else []
        # massif's peak snapshot: the bytes each path held at the traced
        # heap's peak, or (a tree without them) those left alive at the end
        metric, kind = ("peak", "peak") if "peak" in names else ("net", "net")
        try:
            tl.write(where["path"], where["format"], cmd=self.command_line,
                     tree=tree if "net" in names else None, metric=metric, tree_kind=kind)
        except (OSError, ValueError) as exc:
            return self._save_failed(exc, what="timeline", where=where["shown"])
        how = "" if where["format"] == "mem" else f" ({where['format']})"
        hint = (f"; draw it with: pyrometer plot {_quote(where['shown'])}"
                if where["format"] == "mem" else "")
        print(f"pyrometer: timeline written to {where['shown']}{how}: "
              f"{timeline_summary(tl.data())}{hint}", file=sys.stderr)
        return True

    def _finish_profile(self, prof):
        out = self.outfile
        fmt = self.opts.get("format") or "prof"
        try:
            if out is None:
                limit = self.opts["limit"]
                if limit is None:
                    limit = self.opts.get("default_limit")
                shown = self.opts.get("show_imports")
                profile = _convert.LoadedProfile("profile", prof.get_stats(), prof.get_tree(),
                                                 meta=_api.measured_by(prof))
                folded = 0
                if not shown:
                    profile, folded = _tools.fold_imports(profile)
                profile, selected = _tools.select_frames(profile, self.frames())
                profile, grouped = _tools.group_frames(profile, self.opts.get("by"),
                                                       self.opts.get("root"))
                selected += grouped
                notes = "".join(n + "\n" for n in _api.notes_for(prof)) + selected
                color, width = _tools.terminal_style(sys.stdout, self.opts.get("color"))
                if self.opts.get("tree"):
                    text = _tools.tree_text(profile.tree, self.opts.get("root"), limit)
                    self._print(text + notes + _tools.imports_note(folded))
                    return True
                overview = ""
                if self.opts.get("overview") and profile.tree is not None:
                    # nothing asked of the table: the tree, then the top rows
                    half = max(8, limit // 2)
                    overview = _tools.tree_text(profile.tree, self.opts.get("root"), half) + "\n"
                    limit = max(8, limit - half)
                profile = _tools.names_shown(profile, self.opts.get("root"),
                                             self.opts.get("full_paths"),
                                             self.opts.get("strip_dirs"))
                stats = profile.stats
                pattern = _tools.check_patterns(self.opts["callers"], self.opts["callees"])
                if pattern is not None:   # what it matches, unless --limit says otherwise
                    limit = self.opts["limit"]
                restriction, rows = _tools.restrictions(self.opts.get("match", ()), limit,
                                                        len(stats))
                text = _api.format_report(stats, sort=self.opts["sort"], limit=restriction,
                                          callers=self.opts["callers"],
                                          callees=self.opts["callees"], notes=(),
                                          files=_api.header_lines(profile.meta),
                                          color=color, width=width)
                left_out = (_tools.no_match_note(text, pattern) if pattern is not None
                            else _tools.left_out_note(rows, len(stats)) if rows is not None
                            else "")
                memory = _tools.memory_text(profile.tree, prof.info(), self.opts.get("root"),
                                            limit) if self.opts.get("memory") else ""
                self._print(overview + text + notes + left_out + _tools.imports_note(folded)
                            + memory)
            else:
                if fmt == "prof" and out != "-":
                    prof.dump(out)
                else:
                    profile = _convert.LoadedProfile(self.opts.get("outfile_shown") or "profile",
                                                     prof.get_stats(), prof.get_tree(),
                                                     meta=_api.measured_by(prof))
                    _tools.write_profile(profile, fmt, out,
                                         show_imports=self.opts.get("show_imports"),
                                         frames=self.frames(), metric=self.opts.get("metric"),
                                         full_paths=self.opts.get("full_paths"))
                for note in _api.notes_for(prof):
                    print(note, file=sys.stderr)
                print(f"pyrometer: profile written to {self.opts['outfile_shown']}"
                      f"{'' if fmt == 'prof' else ' (' + fmt + ')'}: {summary(prof)}",
                      file=sys.stderr)
                self._note_children()
                if self.opts.get("open"):
                    try:
                        print(f"pyrometer: {_tools.open_viewer(out, fmt)}", file=sys.stderr)
                    except _tools.Error as exc:
                        print(f"pyrometer: note: {exc}", file=sys.stderr)
        except (OSError, ValueError) as exc:
            return self._save_failed(exc)
        return True

    def frames(self):
        return _tools.Frames(self.opts.get("only", ()), self.opts.get("hide", ()),
                             self.opts.get("only_mine", False), self.opts.get("root"))

    def _print(self, text):
        """The report on standard output; on standard error, with a note,
        when the program closed standard output or it cannot be written."""
        try:
            sys.stdout.flush()
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        except (OSError, ValueError, AttributeError) as exc:
            why = ("the program closed standard output"
                   if isinstance(exc, ValueError) or sys.stdout is None
                   else f"standard output cannot be written ({_tools._reason(exc)})")
        # ValueError: closed by the program; OSError: a pipe that was closed
        sys.stderr.write(f"pyrometer: note: {why}: the report follows here\n")
        sys.stderr.write(text)
        sys.stderr.flush()

    def _save_failed(self, exc, what="profile", where=None):
        """The profile (or timeline) is lost: say so, and make the exit
        status say so (EXIT_SAVE_FAILED when the program itself succeeded)."""
        self.save_failed = True
        reason = str(exc)
        if reason.startswith("pyrometer: "):
            reason = reason[len("pyrometer: "):]
        where = where or self.opts.get("outfile_shown") or "standard output"
        print(f"pyrometer: error: the {what} could not be saved to {where}: {reason}",
              file=sys.stderr)
        return False

    def _finish_lines(self, prof):
        unmatched = prof.unmatched_patterns()
        if unmatched and self.follow_fork and self.forks:
            # It may have run in the children, which write their own files.
            for pattern in unmatched:
                print(f"pyrometer: note: --lines-of '{pattern}' matched no function that ran "
                      "in this process", file=sys.stderr)
        elif unmatched:
            self.failed_patterns = unmatched
            hint = (" (it may have run in a forked child process: add --follow-fork)"
                    if self.forks else "")
            for pattern in unmatched:
                print(f"pyrometer: error: --lines-of '{pattern}' matched no function that ran"
                      f"{hint}; nothing written", file=sys.stderr)
            return False
        out = self.outfile
        fmt = self.opts.get("format")
        kw = {"show_zero": self.opts.get("show_zero", False)}
        if self.opts.get("unit"):
            kw["unit"] = self.opts["unit"]
        try:
            if out is None:
                kw["color"] = _tools.terminal_style(sys.stdout, self.opts.get("color"))[0]
                self._print(prof.report(**kw))
            elif fmt == "html":
                if out == "-":
                    _tools._to_stdout(lambda path: self._lines_html(prof, path))
                else:
                    self._lines_html(prof, out)
                print(f"pyrometer: line profile written to {self.opts['outfile_shown']} (html)",
                      file=sys.stderr)
            else:
                if out == "-":
                    _tools._to_stdout(prof.dump)
                else:
                    prof.dump(out)
                print(f"pyrometer: line profile written to {self.opts['outfile_shown']}",
                      file=sys.stderr)
                self._note_children()
        except (OSError, ValueError) as exc:
            return self._save_failed(exc)
        return True

    def _lines_html(self, prof, path):
        _convert.write_lines_html(self.opts.get("outfile_shown") or "profile",
                                  prof.get_stats(), path)

    def _finish_child(self, prof):
        """A followed child: its own file, silently (a pool has many)."""
        try:
            prof.dump(self.outfile)
        except (OSError, ValueError) as exc:
            os.write(2, f"pyrometer: error: could not save the profile of process "
                        f"{os.getpid()}: {exc}\n".encode(errors="replace"))
            return False
        return True

    def _note_children(self):
        if not self.follow_fork:
            return
        folder, base = os.path.split(self.outfile)
        import re
        pattern = re.compile(re.escape(base) + r"\.\d+\Z")
        try:
            found = [n for n in os.listdir(folder or ".") if pattern.match(n)
                     and os.stat(os.path.join(folder, n)).st_mtime >= self.started]
        except OSError:
            found = []
        if found:
            shown = self.opts["outfile_shown"]
            how = ("pyrometer report reads each" if self.lines else
                   f"add them up with: pyrometer merge '{shown}*' -o all.prof")
            print(f"pyrometer: {len(found)} child process profile{'s' if len(found) > 1 else ''} "
                  f"written next to it ({shown}.<pid>); {how}", file=sys.stderr)

    # -- signals and forks ---------------------------------------------------

    def watch_sigterm(self):
        def on_sigterm(signum, frame):
            # Write the profile, then die of SIGTERM as the program would have.
            self.finish()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_DFL, None):
            self.sigterm_handler, self.sigterm_previous = on_sigterm, previous
            signal.signal(signal.SIGTERM, on_sigterm)

    def after_fork_in_child(self):
        """Runs in every child forked while the program runs (os.fork,
        multiprocessing's fork start method)."""
        if self.finished or os.getpid() == self.pid:
            return
        # The child does not inherit our SIGTERM handler: a pool worker that
        # is terminated while it waits on a semaphore would never die.
        if self.sigterm_handler is not None:
            try:
                if signal.getsignal(signal.SIGTERM) is self.sigterm_handler:
                    signal.signal(signal.SIGTERM, self.sigterm_previous or signal.SIG_DFL)
            except (ValueError, OSError):
                pass
            self.sigterm_handler = None
        self.pid = os.getpid()
        # The timeline is the parent's: its sampler did not come along.
        self.timeline = None
        if not self.follow_fork or self.profiler is None:
            # Not profiled: nothing recorded, nothing written, no report.
            self.finished = True
            if self.profiler is not None:
                self.profiler.disable()
                self.profiler.clear()
            return
        # Followed: the child's own profile from the fork on, in its own file.
        self.in_child = True
        self.profiler.disable()
        self.profiler.clear()
        self.outfile = f"{self.outfile}.{self.pid}"
        self.finish_lock = threading.RLock()   # a lock held at the fork stays held
        _engine.term_watch(self.finish)
        real_exit = os._exit

        def _exit(status):
            self.finish()
            real_exit(status)

        _exit.__wrapped__ = real_exit
        os._exit = _exit   # multiprocessing's workers end through os._exit
        self.profiler.enable()


def _quote(arg):
    import shlex
    return shlex.quote(arg)


def _mib(n):
    return f"{n / 1048576:.1f} MiB"


def timeline_summary(data):
    """'812 samples over 8.12 s, peak 70.2 MiB at 1.23 s': the line after
    a timeline is written."""
    samples = data["samples"]
    seconds = samples[-1][0] if samples else 0.0
    text = f"{len(samples)} sample{'s' if len(samples) != 1 else ''} over {seconds:.2f} s"
    for key, what in (("peak_rss", "peak"), ("peak_heap", "traced heap's peak")):
        peak = data[key]
        value = None if peak is None else peak[1 if key == "peak_rss" else 2]
        if value is not None:
            text += f", {what} {_mib(value)} at {peak[0]:.2f} s"
    return text


def summary(prof):
    """'12 functions, 3 456 calls, 0.12 s profiled': the line after -o."""
    stats = prof.get_stats()
    calls = sum(v[0] for v in stats.values())
    seconds = sum(v[2] for v in stats.values())
    if seconds >= 1:
        took = f"{seconds:.2f} s"
    elif seconds >= 1e-3:
        took = f"{seconds * 1e3:.1f} ms"
    else:
        took = f"{seconds * 1e6:.1f} µs"
    return (f"{len(stats)} function{'s' if len(stats) != 1 else ''}, {calls} "
            f"call{'s' if calls != 1 else ''}, {took} profiled")


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


_session = None


# SIGTERM is blocked across a fork: a child terminated before it has
# dropped our handler (a pool worker not yet scheduled when the pool ends)
# would otherwise take the signal in Python's handler, which the fork then
# clears or our reset ignores, and the worker would never die.  Unblocked,
# the pending signal meets the child's own disposition.
_mask_before_fork = None


def _before_fork():
    global _mask_before_fork
    if _session is not None and hasattr(signal, "pthread_sigmask"):
        try:
            _mask_before_fork = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        except (OSError, ValueError):
            _mask_before_fork = None


def _restore_mask():
    global _mask_before_fork
    if _mask_before_fork is not None:
        mask, _mask_before_fork = _mask_before_fork, None
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        except (OSError, ValueError):
            pass


def _after_fork_in_child():
    try:
        if _session is not None:
            _session.after_fork_in_child()
    finally:
        _restore_mask()


def _after_fork_in_parent():
    _restore_mask()
    if _session is not None:
        _session.forks += 1


def run(target, opts):
    global _session
    import time
    session = Session(opts)
    session.started = time.time()
    session.watch_sigterm()
    if _session is None and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child,
                            after_in_parent=_after_fork_in_parent)
    _session = session

    main_module = target.prepare()
    session.profile_builtin.start()
    interrupted = None
    exit_code = 0
    runpy = None if target.code is not None else __import__("runpy")
    if session.timeline is not None:
        session.timeline.start()   # first: a call after enable() would be profiled
    if session.profiler is not None:
        session.profiler.enable()
    # The program runs straight from this frame: calls made from pyrometer's
    # own functions are left out of the profile, and this one was running
    # when profiling began.
    try:
        if runpy is None:
            exec(target.code, main_module.__dict__)
        else:
            # As `python -m` does it, with the import of the module's package
            # in the profile.
            if target.kind == "main-module":
                mod_name, spec, code = runpy._get_main_module_details(runpy._Error)
            else:
                mod_name, spec, code = runpy._get_module_details(target.name, runpy._Error)
                sys.argv[0] = spec.origin
            runpy._run_code(code, main_module.__dict__, None, "__main__", spec)
    except getattr(runpy, "_Error", ()) as exc:
        # -m named no module: bad input, nothing written.
        session.finished = True
        session.profile_builtin.stop()
        if session.timeline is not None:
            session.timeline.stop()
        if session.profiler is not None:
            session.profiler.disable()
        print(f"pyrometer: error: cannot run module '{target.name}': {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        join_threads()
        session.finish()
        if session.failed_patterns and exc.code in (0, None):
            raise SystemExit(2) from None
        if session.save_failed and exc.code in (0, None):
            raise SystemExit(EXIT_SAVE_FAILED) from None
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
    if session.save_failed and exit_code == 0:
        exit_code = EXIT_SAVE_FAILED
    if interrupted is not None:
        print_exception(interrupted)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return exit_code
