"""Command line: `pyrometer run ...`, `report FILE`, `convert`, `merge` and `diff`.

Each command has its own argparse parser and `--help`.  Bad input (unknown
option, missing script, unreadable or foreign profile) gets one line on
stderr and exit code 2; nothing is written then.  The work itself is done by
_tools (report, convert, merge, diff: also pyrometer's Python API) and
_runner (run).
"""
import argparse
import os
import sys

from . import _tools

EXIT_USAGE = 2


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and no usage block): the
    command line's rule for bad input."""

    def error(self, message):
        head = "unrecognized arguments: "
        if message.startswith(head) and message[len(head):].startswith("-"):
            option = message[len(head):].split()[0].split("=", 1)[0]
            message = f"unknown option '{option}' for {self.prog.split()[-1]}"
        raise UsageError(f"{message} (see '{self.prog} --help')")


def terminal_columns():
    """The terminal's width as shutil.get_terminal_size() finds it: $COLUMNS,
    then standard output's terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class Formatter(argparse.HelpFormatter):
    """Everything wrapped at the terminal's width: paragraphs as paragraphs,
    an indented line (a list entry) under its own indent; the examples are
    kept as written."""

    def __init__(self, prog):
        # the width given, as shutil would find it: argparse would import
        # shutil for it (3 ms of every run's start-up on 3.14+, where
        # formatters are made whenever an option is added)
        super().__init__(prog, max_help_position=30, width=terminal_columns() - 2)

    def _set_color(self, color, **kwargs):
        # argparse colours help from 3.14 on by importing _colorize (with
        # dataclasses and inspect: 11 ms) for every formatter, made also
        # when options are only added: start-up every run would pay.  Our
        # help is plain text.  3.15+ import it lazily, when colour is on.
        if isinstance(getattr(argparse.HelpFormatter, "_theme", None), property):
            super()._set_color(False, **kwargs)
        else:
            self._theme = _NoTheme()
            self._decolor = str


class _NoTheme:
    """argparse's colour theme with every colour empty."""

    def __getattr__(self, name):
        return ""

    def _fill_text(self, text, width, indent):
        import textwrap
        if text.startswith("examples:"):
            return text
        out = []
        for para in text.split("\n\n"):
            lines = para.splitlines()
            if lines and all(line.startswith("  ") for line in lines[1:]) and lines[0].endswith(":"):
                out.append(lines[0])
                lines = lines[1:]
            if lines and lines[0].startswith("  "):
                for line in lines:
                    out.append(textwrap.fill(line, width, initial_indent=indent,
                                             subsequent_indent=indent + " " * 15))
            else:
                out.append(textwrap.fill(" ".join(lines), width, initial_indent=indent,
                                         subsequent_indent=indent))
            out.append("")
        return "\n".join(out).rstrip("\n")


def fail(message):
    print(f"pyrometer: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def new_parser(command, usage, description, examples):
    return Parser(prog=f"pyrometer {command}", usage=usage, description=description,
                  epilog="examples:\n" + examples, formatter_class=Formatter,
                  allow_abbrev=False)


# ---- values -----------------------------------------------------------------

def limit_value(text):
    """--limit: a whole number of rows, or a fraction of them (pstats')."""
    try:
        n = int(text)
    except ValueError:
        try:
            n = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"takes a whole number of rows (or a fraction below 1), not '{text}'") from None
        if not 0 < n < 1:
            raise argparse.ArgumentTypeError(
                f"takes a whole number of rows (or a fraction below 1), not '{text}'")
    if n < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return n


def whole_limit_value(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a whole number, not '{text}'") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return n


def unit_value(text):
    try:
        unit = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes a number of seconds such as 1e-6, not '{text}'") from None
    if not unit > 0 or unit == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return unit


def interval_value(text):
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes a number of seconds such as 0.01, not '{text}'") from None
    if not 0.001 <= seconds <= 3600:
        raise argparse.ArgumentTypeError("takes from 0.001 to 3600 seconds")
    return seconds


def sort_value(text):
    try:
        return _tools.check_sort(text, sampled=False)
    except _tools.Error as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def format_value(text):
    try:
        return _tools.format_name(text)
    except _tools.Error as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def percent_value(upper=None):
    def parse(text):
        raw = text[:-1] if text.endswith("%") else text
        try:
            pct = float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"takes a percentage such as 10, not '{text}'") from None
        if not (pct >= 0) or pct == float("inf") or (upper is not None and pct > upper):
            raise argparse.ArgumentTypeError(
                "takes a percentage from 0" + (f" to {upper:g}" if upper else ""))
        return pct
    return parse


def screen_rows():
    """Rows a printed report shows by default: what fits the terminal under
    the header, or 40 when the output is not a terminal."""
    try:
        if sys.stdout.isatty():
            import shutil
            return max(10, shutil.get_terminal_size().lines - 12)
    except (AttributeError, ValueError, OSError):
        pass
    return 40


FORMAT_LIST = "prof, html, flamegraph (flame), speedscope, callgrind, collapsed, dot, svg, png"
BY_NAME = ("the format follows the name: .prof .pstats, .html, .svg (flame graph), .json "
           "(speedscope), .callgrind or callgrind.out.*, .collapsed, .dot, .png")


def add_selection(group):
    group.add_argument("--only", metavar="PATTERN", action="append", default=[],
                       help="show only these functions: a file (app.py, pkg/util.py), a "
                            "module or package (myapp, json), a function (parse, "
                            "myapp.views.index); wildcards *, ?; repeatable")
    group.add_argument("--hide", metavar="PATTERN", action="append", default=[],
                       help="hide these functions (the same patterns), their time given to "
                            "the caller shown above them; repeatable")
    group.add_argument("--only-mine", action="store_true",
                       help="show only the program's own files (its folder and below, no "
                            "standard library nor site-packages)")


def add_full_paths(group):
    group.add_argument("--full-paths", action="store_true",
                       help="print files by their whole path (by default <stdlib>/..., "
                            "<site-packages>/..., and the program's relative to its folder); "
                            "collapsed stacks written with -o too")


def selection(ns):
    return {"only": ns.only, "hide": ns.hide, "only_mine": ns.only_mine}


def add_grouping(group):
    group.add_argument("--by", choices=("function", "file", "module", "package"),
                       default=None,
                       help="count time by file, module or package rather than by function "
                            "(a group's functions calling each other are one frame)")


def add_report_options(parser, sort_type=sort_value):
    group = parser.add_argument_group("the printed report")
    group.add_argument("-s", "--sort", metavar="KEY", type=sort_type, default=None,
                       help="order of the rows: cumulative (default), tottime, calls, name, "
                            "file, line, ... as pstats spells them; several, comma-separated")
    group.add_argument("-l", "--limit", metavar="N", type=limit_value, default=None,
                       help="print the first N functions, or that fraction of them (0.1); "
                            "0 prints them all; by default what fits the terminal (for run, "
                            "the call tree and then the top functions)")
    group.add_argument("--match", metavar="REGEX", action="append", default=[],
                       help="only the rows whose 'file:line(function)' the regular expression "
                            "finds, as pstats' print_stats('REGEX') (repeatable: each narrows "
                            "the last, then --limit)")
    group.add_argument("--tree", action="store_true",
                       help="print the call tree instead: the user's own frames, the library "
                            "frames under them folded into one line")
    group.add_argument("--show-imports", action="store_true",
                       help="show the import system's frames (by default each import is one "
                            "<import module> row, its time kept)")
    add_selection(group)
    add_grouping(group)
    add_full_paths(group)
    group.add_argument("--strip-dirs", action="store_true",
                       help="name files without their folders, as pstats' strip_dirs(): "
                            "functions that become one are added up")
    group.add_argument("--callers", nargs="?", const=True, default=False, metavar="PATTERN",
                       help="also print who called each function; with a PATTERN (a regular "
                            "expression over file:line(function)), only who called the "
                            "functions it matches, as pstats' print_callers(PATTERN)")
    group.add_argument("--callees", nargs="?", const=True, default=False, metavar="PATTERN",
                       help="also print what each function called; with a PATTERN, only what "
                            "the functions it matches called (print_callees(PATTERN))")
    colors = group.add_mutually_exclusive_group()
    colors.add_argument("--color", dest="color", action="store_const", const=True,
                        default=None,
                        help="colour the hot rows even when the output is no terminal (by "
                             "default only on a terminal, and not when NO_COLOR is set): "
                             "functions (lines) holding 10 %% of the own time or more in bold "
                             "red, 2 %% in yellow")
    colors.add_argument("--no-color", dest="color", action="store_const", const=False,
                        help="no colour, even on a terminal")
    return group


# ---- run --------------------------------------------------------------------

RUN_EXAMPLES = """\
  pyrometer run app.py --port 8000          print the functions that took the most time
  pyrometer run --tree app.py               the call tree, library frames folded
  pyrometer run -o app.prof app.py          save for pstats, snakeviz, pyprof2calltree
  pyrometer run -o app.html -m mypackage    an HTML report to open in a browser
  pyrometer run -o flame.svg script.py      a flame graph
  pyrometer run --lines script.py           line by line, for functions marked @profile
  pyrometer run --lines-of mymodule.parse script.py
  pyrometer run --timeline -o run.mem script.py     memory over time, as mprof run
  pyrometer run --timeline --memory -o run.mem script.py   and the heap's call paths
"""


def run_parser():
    p = new_parser("run", "pyrometer run [options] (script | -m module | -c code) [args]",
                   "Run a Python program under the profiler, then print its profile or save "
                   "it.\nEverything after the script, -m module or -c code goes to the "
                   "program.", RUN_EXAMPLES)
    out = p.add_argument_group("output")
    out.add_argument("-o", "--outfile", metavar="FILE",
                     help=f"save the profile instead of printing it; {BY_NAME}; any other "
                          "name: pstats; '-' writes it to standard output")
    out.add_argument("-f", "--format", metavar="FORMAT", type=format_value,
                     help=f"the format of -o FILE whatever its name: {FORMAT_LIST}")
    out.add_argument("--open", action="store_true",
                     help="open the result: html and svg in the web browser, callgrind in "
                          "KCachegrind or QCachegrind")
    out.add_argument("--metric", metavar="NAME",
                     help="what the call-tree formats of -o draw: time (default), or with "
                          "--memory allocated, allocations, net or peak")
    add_report_options(p)
    lines = p.add_argument_group("line profiling")
    lines.add_argument("--lines", action="store_true",
                       help="profile line by line the functions decorated with @profile (a "
                            "builtin, as with kernprof)")
    lines.add_argument("--lines-of", metavar="PATTERN", action="append", default=[],
                       help="line-profile every function whose qualified name, module or "
                            "file matches PATTERN (repeatable; implies --lines)")
    lines.add_argument("--unit", metavar="SECONDS", type=unit_value,
                       help="time unit of the line report (default: one that shows every "
                            "line's time per hit)")
    lines.add_argument("--show-zero", action="store_true",
                       help="also list functions that never ran")
    how = p.add_argument_group("measurement")
    how.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                     help="wall time (default) or each thread's CPU time")
    how.add_argument("--no-builtins", action="store_true",
                     help="do not record built-in (C) functions")
    how.add_argument("--no-compensate", action="store_true",
                     help="do not take the profiler's own measured cost off the times")
    how.add_argument("--memory", action="store_true",
                     help="also charge every allocation (Python's MEM and OBJ allocators) to "
                          "the call path making it: bytes and blocks allocated, and net bytes "
                          "still alive at the end")
    how.add_argument("--follow-fork", action="store_true",
                     help="also profile forked children (os.fork, multiprocessing's fork "
                          "start method): each writes FILE.<pid> next to -o FILE")
    over_time = p.add_argument_group("memory over time")
    over_time.add_argument("--timeline", action="store_true",
                           help="sample the process's RSS (and with --memory the bytes alive "
                                "of the traced blocks) from a thread of ours, @profile calls "
                                "bracketed, as mprof run does; alone it profiles nothing else "
                                "and -o FILE is the timeline (.mem; .svg or .html a plot, .dat "
                                "mprof's, massif.out.* massif's); with --memory or --lines it "
                                "goes to -o FILE.mem, else next to the profile as NAME.mem, "
                                "else to timeline-<date>.mem; draw it with 'pyrometer plot'")
    over_time.add_argument("--timeline-interval", metavar="SECONDS", type=interval_value,
                           help="seconds between samples (default 0.01); a long run keeps at "
                                "most 8192 samples, doubling the interval as it needs")
    return p


def split_run_args(parser, args):
    """pyrometer's options, the target and the program's arguments: the
    target is the first argument that is not an option nor an option's value
    (-m X, -c X, or a script), and everything after it is the program's."""
    # an option whose value is optional (--callers[=PATTERN]) takes it only
    # attached: the word after it is the script
    takes_value = {opt: action.nargs not in (0, "?")
                   for opt, action in parser._option_string_actions.items()}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            if i + 1 >= len(args):
                raise UsageError("run needs a script after --")
            return args[:i], ("script", args[i + 1]), args[i + 2:]
        if a in ("-m", "-c"):
            if i + 1 >= len(args):
                raise UsageError(f"option {a} needs a value")
            return args[:i], ("module" if a == "-m" else "code", args[i + 1]), args[i + 2:]
        if a[:2] in ("-m", "-c") and len(a) > 2:   # -mjson.tool, as python takes it
            return args[:i], ("module" if a[1] == "m" else "code", a[2:]), args[i + 1:]
        if a.startswith("-") and a != "-":
            name = a.split("=", 1)[0] if a.startswith("--") else a[:2]
            if name not in takes_value:
                return args[:i + 1], None, []   # argparse names the unknown option
            attached = "=" in a if a.startswith("--") else len(a) > 2
            i += 2 if takes_value[name] and not attached else 1
            continue
        return args[:i], ("script", a), args[i + 1:]
    return args, None, []


def cmd_run(args):
    parser = run_parser()
    own, target, prog_args = split_run_args(parser, args)
    ns = parser.parse_args(own)
    if target is None:
        raise UsageError("run needs a script, -m module or -c code (see 'pyrometer run --help')")
    lines = ns.lines or bool(ns.lines_of)
    for pattern in ns.lines_of:
        if not pattern.strip():
            raise UsageError("--lines-of needs a non-empty pattern")
    given = {opt for opt, on in (("--sort", ns.sort is not None),
                                 ("--limit", ns.limit is not None),
                                 ("--callers", ns.callers), ("--callees", ns.callees),
                                 ("--tree", ns.tree), ("--strip-dirs", ns.strip_dirs),
                                 ("--match", bool(ns.match)),
                                 ("--no-builtins", ns.no_builtins)) if on}
    if lines and given:
        raise UsageError(f"option {sorted(given)[0]} does not apply to a line profile")
    if not lines and (ns.unit is not None or ns.show_zero):
        raise UsageError(f"option {'--unit' if ns.unit is not None else '--show-zero'} "
                         f"does not apply to a function profile")
    if ns.metric is not None and not ns.memory and ns.metric != "time":
        raise UsageError(f"--metric {ns.metric} needs --memory (a time profile has one metric, "
                         f"time)")
    timeline = timeline_options(ns, lines)
    if timeline is not None and timeline["only"]:
        return run_timeline_only(ns, target, prog_args, timeline)
    if ns.open and (ns.outfile is None or ns.outfile == "-"):
        raise UsageError("--open needs -o FILE")
    if ns.follow_fork and ns.outfile is None:
        raise UsageError("--follow-fork needs -o FILE (each child writes FILE.<pid>)")
    fmt = ns.format
    if ns.outfile is None:
        if fmt is not None:
            raise UsageError("-f FORMAT needs -o FILE (or -o - for standard output)")
    else:
        fmt = fmt or _tools.format_of(ns.outfile)
        if lines:
            if fmt not in (None, "html"):
                raise UsageError(f"a line profile is saved as a line file or as html, not as "
                                 f"{fmt} ('{ns.outfile}')")
        else:
            fmt = fmt or "prof"
    if ns.tree and (ns.strip_dirs or ns.callers or ns.callees):
        raise UsageError("--tree takes no --strip-dirs, --callers or --callees (they are for "
                         "the table)")
    _tools.check_patterns(ns.callers, ns.callees)
    opts = {"sort": ns.sort or ("cumulative",), "limit": ns.limit, "callers": ns.callers,
            "callees": ns.callees, "tree": ns.tree, "show_imports": ns.show_imports,
            "strip_dirs": ns.strip_dirs, "color": ns.color,
            **selection(ns), "full_paths": ns.full_paths, "open": ns.open, "by": ns.by,
            # nothing asked of the table: the call tree and the top rows
            "overview": not (ns.tree or ns.sort or ns.limit is not None or ns.callers
                             or ns.callees),
            "outfile": ns.outfile, "format": fmt,
            "builtins": not ns.no_builtins, "clock": ns.clock,
            "compensate": not ns.no_compensate, "lines": lines, "patterns": ns.lines_of,
            "kernprof": ns.lines, "unit": ns.unit, "show_zero": ns.show_zero,
            "follow_fork": ns.follow_fork, "default_limit": screen_rows(),
            "memory": ns.memory, "metric": ns.metric, "match": ns.match}
    kind, name = target
    # the program's own files are shown relative to its folder
    opts["root"] = (os.path.dirname(os.path.abspath(name)) if kind == "script"
                    else os.getcwd())
    if ns.outfile is not None and ns.outfile != "-":
        # Resolved now: the program may change the working directory.
        opts["outfile_shown"] = ns.outfile
        opts["outfile"] = os.path.abspath(ns.outfile)
        shown = ns.outfile
        folder = os.path.dirname(opts["outfile"])
        if not os.path.isdir(folder):
            return fail(f"cannot write '{shown}': no such directory '{folder}'")
        if os.path.isdir(opts["outfile"]):
            return fail(f"cannot write '{shown}': it is a directory")
        if not os.access(folder, os.W_OK):
            return fail(f"cannot write '{shown}': directory is not writable")
        if kind == "script" and _tools.same_file(name, opts["outfile"]):
            return fail(f"-o '{shown}' is the script itself: it would be replaced by the profile")
    elif ns.outfile == "-":
        opts["outfile_shown"] = "standard output"
    if timeline is not None:
        if timeline["path"] is not None:   # -o NAME.mem: the profile is printed
            opts["outfile"] = None
            opts["format"] = None
        else:
            timeline["path"] = (os.path.splitext(ns.outfile)[0] + ".mem"
                                if ns.outfile not in (None, "-") else default_timeline_name())
        problem = check_timeline_path(timeline, target)
        if problem:
            return fail(problem)
        opts["timeline"] = timeline
    from . import _runner
    try:
        resolved = _runner.Target.resolve(kind, name, prog_args)
    except _runner.TargetError as exc:
        return fail(str(exc))
    return _runner.run(resolved, opts)


# ---- run --timeline ------------------------------------------------------------

# Options that only a profile takes: refused with --timeline alone.
PROFILE_ONLY = (("--sort", "sort", None), ("--limit", "limit", None), ("--tree", "tree", False),
                ("--callers", "callers", False), ("--callees", "callees", False),
                ("--show-imports", "show_imports", False), ("--only", "only", []),
                ("--hide", "hide", []), ("--only-mine", "only_mine", False),
                ("--by", "by", None), ("--full-paths", "full_paths", False),
                ("--metric", "metric", None), ("-f", "format", None), ("--open", "open", False),
                ("--clock", "clock", "wall"), ("--no-builtins", "no_builtins", False),
                ("--no-compensate", "no_compensate", False),
                ("--follow-fork", "follow_fork", False), ("--match", "match", []))


def timeline_options(ns, lines):
    """What --timeline asks: None without it, else {"only": no profile
    beside it, "path": its file when -o names it, "interval"}."""
    if not ns.timeline:
        if ns.timeline_interval is not None:
            raise UsageError("--timeline-interval needs --timeline")
        return None
    only = not (lines or ns.memory)
    if only:
        for opt, dest, default in PROFILE_ONLY:
            if getattr(ns, dest) != default:
                raise UsageError(f"option {opt} does not apply to --timeline alone (add "
                                 f"--memory or --lines for a profile beside it)")
    path = None
    if ns.outfile == "-":
        if only:
            raise UsageError("--timeline writes a file: give -o FILE, not standard output")
    elif ns.outfile is not None and (only or ns.outfile.lower().endswith(".mem")):
        path = ns.outfile
        for opt, on in (("--follow-fork", ns.follow_fork), ("--open", ns.open),
                        ("-f", ns.format is not None)):
            if on and not only:
                raise UsageError(f"-o {ns.outfile} names the timeline (the profile is printed): "
                                 f"{opt} needs the profile saved, -o PROFILE (the timeline then "
                                 f"goes next to it as NAME.mem)")
    return {"only": only, "path": path, "interval": ns.timeline_interval or 0.01}


def default_timeline_name():
    import time
    return time.strftime("timeline-%Y%m%d%H%M%S.mem")


def check_timeline_path(timeline, target):
    """Resolve the timeline's file (the program may change the working
    directory); a problem with it in one line, or None."""
    shown = timeline["path"]
    path = os.path.abspath(shown)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        return f"cannot write '{shown}': no such directory '{folder}'"
    if os.path.isdir(path):
        return f"cannot write '{shown}': it is a directory"
    if not os.access(folder, os.W_OK):
        return f"cannot write '{shown}': directory is not writable"
    kind, name = target
    if kind == "script" and _tools.same_file(name, path):
        return f"'{shown}' is the script itself: it would be replaced by the timeline"
    from . import _timeline
    timeline.update(shown=shown, path=path, format=_timeline.format_of(path))
    return None


def run_timeline_only(ns, target, prog_args, timeline):
    """run --timeline without a profile: the RSS over time, as mprof run."""
    if timeline["path"] is None:
        timeline["path"] = default_timeline_name()
    problem = check_timeline_path(timeline, target)
    if problem:
        return fail(problem)
    kind, name = target
    opts = {"timeline": timeline, "timeline_only": True, "outfile": None, "lines": False,
            "clock": "wall", "compensate": True, "builtins": True, "memory": False,
            "root": (os.path.dirname(os.path.abspath(name)) if kind == "script"
                     else os.getcwd())}
    from . import _runner
    try:
        resolved = _runner.Target.resolve(kind, name, prog_args)
    except _runner.TargetError as exc:
        return fail(str(exc))
    return _runner.run(resolved, opts)


# ---- report -----------------------------------------------------------------

REPORT_EXAMPLES = """\
  pyrometer report app.prof                      the top functions by cumulative time
  pyrometer report app.prof -s tottime -l 20     the 20 with the most time of their own
  pyrometer report app.prof --callers -l 5       and who called them
  pyrometer report app.prof --callers 'parse'    who called the functions matching 'parse'
  pyrometer report app.prof --strip-dirs         files without folders (pstats' strip_dirs)
  pyrometer report app.prof --tree               the call tree, the program's own code first
  pyrometer report app.prof --by package         which packages take the time
  pyrometer report lines.lprof --unit 1e-3       a line profile, in milliseconds
"""


def report_parser():
    p = new_parser("report", "pyrometer report FILE [options]",
                   "Print a saved profile: pstats' table for a function profile (pyrometer's, "
                   "cProfile's, or CPython 3.15's sampling profiler's --pstats and collapsed "
                   "stacks), line_profiler's for a line profile (pyrometer's, or "
                   "line_profiler's own .lprof from kernprof -l).", REPORT_EXAMPLES)
    # optional here only so that `--callers FILE` reads as --callers and FILE
    p.add_argument("file", metavar="FILE", nargs="?", help="the profile")
    # a sampled profile has more sort words: they are checked with the file
    add_report_options(p, sort_type=str)
    group = p.add_argument_group("line profiles")
    group.add_argument("--unit", metavar="SECONDS", type=unit_value,
                       help="time unit (default: one that shows every line's time per hit)")
    group.add_argument("--show-zero", action="store_true",
                       help="also list functions that never ran")
    return p


def file_after_pattern(ns):
    """`report --callers app.prof`: the word taken as the pattern is the
    file when no other file is given."""
    if ns.file is not None:
        return
    for name in ("callers", "callees"):
        value = getattr(ns, name)
        if isinstance(value, str) and os.path.exists(value):
            ns.file = value
            setattr(ns, name, True)
            return
    raise UsageError("report needs a FILE (see 'pyrometer report --help')")


def cmd_report(args):
    ns = report_parser().parse_args(args)
    file_after_pattern(ns)
    pattern = _tools.check_patterns(ns.callers, ns.callees)
    # the functions a pattern names are all shown unless --limit says otherwise
    limit = ns.limit if ns.limit is not None else None if pattern else screen_rows()
    if ns.tree and ns.sort is not None:
        raise UsageError("--tree and --sort do not go together (the tree is ordered by time)")
    color, width = _tools.terminal_style(sys.stdout, ns.color)
    text = _tools.report(ns.file, sort=ns.sort or "cumulative", limit=limit,
                         callers=ns.callers, callees=ns.callees, unit=ns.unit,
                         show_zero=ns.show_zero, tree=ns.tree, show_imports=ns.show_imports,
                         full_paths=ns.full_paths, by=ns.by, strip_dirs=ns.strip_dirs,
                         color=color, width=width, match=ns.match, **selection(ns))
    sys.stdout.write(text)
    return 0


# ---- convert ----------------------------------------------------------------

CONVERT_EXAMPLES = """\
  pyrometer convert app.prof -o app.html                 an HTML report (format from the name)
  pyrometer convert app.prof -o callgrind.out.app        for KCachegrind / QCachegrind
  pyrometer convert app.prof -f flame -o app.svg --title "my app"
  pyrometer convert app.prof -f dot -o - | dot -Tpdf > app.pdf
  pyrometer convert app.prof -o app.json                 for speedscope.app
"""


def convert_parser():
    from . import _convert
    formats = "\n".join(f"  {f.name:<12} {f.help}" for f in _convert.FORMATS.values())
    p = new_parser("convert", "pyrometer convert FILE -o OUT [-f FORMAT] [format options]",
                   "Write a profile (pyrometer's, cProfile's, 3.15's sampled, collapsed "
                   "stacks; a line profile as html) in another format.\n\nformats:\n" + formats,
                   CONVERT_EXAMPLES)
    p.add_argument("file", metavar="FILE", help="the profile")
    p.add_argument("-o", "--outfile", metavar="OUT", required=True,
                   help=f"where to write it ('-': standard output); {BY_NAME}")
    p.add_argument("-f", "--format", metavar="FORMAT", type=format_value,
                   help="the format, whatever OUT's name")
    p.add_argument("--open", action="store_true",
                   help="open the result: html and svg in the web browser, callgrind in "
                        "KCachegrind or QCachegrind (as pyprof2calltree -k)")
    p.add_argument("--show-imports", action="store_true",
                   help="keep the import system's frames (by default each import is one "
                        "<import module> node, its time kept; prof keeps everything)")
    p.add_argument("--metric", metavar="NAME",
                   help="what the call-tree formats draw: time (default), or for a memory "
                        "profile allocated, allocations, net or peak")
    p.add_argument("--by", choices=("function", "file", "module", "package"),
                   help="one node per file, module or package instead of per function")
    p.add_argument("--strip-dirs", action="store_true",
                   help="name files without their folders, as pstats' strip_dirs(), functions "
                        "that become one added up (prof, callgrind, dot, svg, png)")
    add_selection(p.add_argument_group("what is shown"))
    p.add_argument("--full-paths", action="store_true",
                   help="collapsed: name files by their whole path (by default <stdlib>/..., "
                        "<site-packages>/..., and the program's below its folder)")
    group = p.add_argument_group("format options")
    seen = {}
    for f in _convert.FORMATS.values():
        for opt, (key, _parse, default, text) in f.options.items():
            seen.setdefault(opt, [key, default, text, []])[3].append(f.name)
    for opt, (key, default, text, names) in seen.items():
        group.add_argument(opt, dest="opt_" + key, metavar="VALUE",
                           help=f"{', '.join(names)}: {text} (default {default})".replace(
                               "%", "%%"))
    return p


def cmd_convert(args):
    ns = convert_parser().parse_args(args)
    options = {k[len("opt_"):]: v for k, v in vars(ns).items()
               if k.startswith("opt_") and v is not None}
    fmt = ns.format or (_tools.format_of(ns.outfile) if ns.outfile != "-" else None)
    if fmt is None:
        raise UsageError(f"cannot tell the format from the name '{ns.outfile}': give -f FORMAT "
                         f"({FORMAT_LIST})")
    from . import _convert
    for key in options:
        if key not in {k for k, *_ in _convert.FORMATS[fmt].options.values()}:
            opt = "--" + key.replace("_", "-")
            raise UsageError(f"option {opt} does not apply to the {fmt} format")
    _tools.convert(ns.file, fmt, ns.outfile, show_imports=ns.show_imports, **selection(ns),
                   metric=ns.metric, full_paths=ns.full_paths, by=ns.by,
                   strip_dirs=ns.strip_dirs, **options)
    if ns.outfile != "-":
        from . import _lines
        try:
            shown = "json" if fmt == "speedscope" and _lines.is_line_file(ns.file) else fmt
        except OSError:
            shown = fmt
        print(f"pyrometer: {shown} written to {ns.outfile}", file=sys.stderr)
    if ns.open:
        if ns.outfile == "-":
            raise UsageError("--open needs -o FILE, not standard output")
        print(f"pyrometer: {_tools.open_viewer(ns.outfile, fmt)}", file=sys.stderr)
    return 0


# ---- merge ------------------------------------------------------------------

MERGE_EXAMPLES = """\
  pyrometer merge run1.prof run2.prof -o both.prof
  pyrometer merge 'runs/*.prof' -o all.prof        a pattern (expanded here too)
  pyrometer merge profiles/ -o all.prof            every profile in a folder
  pyrometer merge requests/ --group-by '^([A-Z]+[.][^.]+)' -o by-url/
                                                   one merged profile per URL
  pyrometer merge run1.lprof run2.lprof -o both.lines   line profiles, line by line
"""


def merge_parser():
    p = new_parser("merge", "pyrometer merge FILE... -o OUT",
                   "Add up function profiles (pyrometer's or cProfile's) as pstats' Stats.add() "
                   "does, and their call trees path by path (dropped, with a note, if an input "
                   "has none); or line profiles (pyrometer's, line_profiler's .lprof) line by "
                   "line into a line file.", MERGE_EXAMPLES)
    p.add_argument("files", metavar="FILE", nargs="+",
                   help="profiles, glob patterns such as 'runs/*.prof' (sorted) or folders")
    p.add_argument("-o", "--outfile", metavar="OUT", required=True,
                   help="the merged profile, written only if every input was read (with "
                        "--group-by: the folder the merged profiles go to)")
    p.add_argument("--group-by", metavar="REGEX",
                   help="one merged profile per group: the part of each file's name the "
                        "regular expression matches (its first group if it has one), as "
                        "OUT/<group>.prof (.lines for line profiles)")
    return p


def cmd_merge(args):
    ns = merge_parser().parse_args(args)
    if ns.group_by is not None:
        written = _tools.merge_groups(ns.files, ns.outfile, ns.group_by)
        for out, paths in written.items():
            print(f"pyrometer: {len(paths)} profiles merged into {out}", file=sys.stderr)
        return 0
    paths = _tools.merge(ns.files, ns.outfile)
    print(f"pyrometer: {len(paths)} profiles merged into {ns.outfile}", file=sys.stderr)
    return 0


# ---- diff -------------------------------------------------------------------

DIFF_EXAMPLES = """\
  pyrometer diff before.prof after.prof                    what changed most, function by function
  pyrometer diff before.prof after.prof --fail-above 10    exit 1 on a slowdown over 10 %
  pyrometer diff 'before/*.prof' after/ --fail-above 5     runs averaged, noise told apart
"""


def diff_parser():
    p = new_parser("diff", "pyrometer diff OLD NEW [options]",
                   "Compare two function profiles function by function (calls, tottime, "
                   "cumtime). Given several runs a side, diff averages them and counts a "
                   "change within the spread of the runs as none, also for --fail-above.",
                   DIFF_EXAMPLES)
    p.add_argument("old", metavar="OLD", help="the profile before, or several runs: a folder "
                                              "or a quoted pattern ('before/*.prof')")
    p.add_argument("new", metavar="NEW", help="the profile after (or its runs)")
    p.add_argument("-s", "--sort", metavar="KEY", default="tottime",
                   choices=sorted(_tools.DIFF_SORT_KEYS),
                   help="order by the absolute change of tottime (default), cumtime or calls")
    p.add_argument("-l", "--limit", metavar="N", type=whole_limit_value,
                   help="print only the first N functions (0: all)")
    p.add_argument("--fail-above", metavar="PCT", type=percent_value(),
                   help="exit 1 if the total time, or the tottime of a function holding at "
                        "least --min-share of the total, grew by more than PCT percent")
    p.add_argument("--min-share", metavar="PCT", type=percent_value(100), default=1.0,
                   help="share of the total time (old or new) a function needs to be checked "
                        "by --fail-above (default 1)")
    return p


def cmd_diff(args):
    ns = diff_parser().parse_args(args)
    text = _tools.diff(ns.old, ns.new, sort=ns.sort, limit=ns.limit,
                       fail_above=ns.fail_above, min_share=ns.min_share)
    sys.stdout.write(text)
    return 1 if text.regressed else 0


# ---- plot -------------------------------------------------------------------

PLOT_EXAMPLES = """\
  pyrometer plot run.mem                      memory against time: run.svg
  pyrometer plot run.mem -o run.html          a page: the plot, a readout, the calls
  pyrometer plot run.mem -o mem.svg --title "nightly import"
"""


def plot_parser():
    p = new_parser("plot", "pyrometer plot FILE [-o OUT] [--title TITLE]",
                   "Draw a timeline (pyrometer run --timeline) as mprof plot draws it: memory "
                   "against time, the calls of @profile functions bracketed, the peak marked; "
                   "with --memory, the traced heap beside the RSS. An SVG, or an HTML page "
                   "holding it.", PLOT_EXAMPLES)
    p.add_argument("file", metavar="FILE", help="the timeline (.mem)")
    p.add_argument("-o", "--outfile", metavar="OUT",
                   help="where to write it: .svg, or .html for a page (default: FILE's name "
                        "with .svg)")
    p.add_argument("-f", "--format", choices=("svg", "html"),
                   help="the format, whatever OUT's name")
    p.add_argument("--title", help="the title (default: the command that ran)")
    return p


def cmd_plot(args):
    ns = plot_parser().parse_args(args)
    out = ns.outfile or os.path.splitext(ns.file)[0] + ".svg"
    fmt = ns.format
    if fmt is None:
        from . import _timeline
        fmt = _timeline.format_of(out)
        if fmt not in ("svg", "html"):
            raise UsageError(f"a plot is .svg or .html, not '{out}' (or give -f svg|html)")
    _tools.plot(ns.file, out, fmt, title=ns.title)
    print(f"pyrometer: {fmt} written to {out}", file=sys.stderr)
    return 0


# ---- pyrometer --------------------------------------------------------------

COMMANDS = {
    "run": (cmd_run, run_parser, "run a program under the profiler; print or save its profile"),
    "report": (cmd_report, report_parser, "print a saved profile (function or line)"),
    "convert": (cmd_convert, convert_parser, "write a profile in another format (html, "
                                             "flame graph, callgrind, speedscope, ...)"),
    "merge": (cmd_merge, merge_parser, "add up profiles"),
    "diff": (cmd_diff, diff_parser, "compare two profiles"),
    "plot": (cmd_plot, plot_parser, "draw a memory timeline: memory against time (svg, html)"),
}

OVERVIEW = """\
usage: pyrometer COMMAND [options]    (pyrometer COMMAND --help for each)

A profiler for Python programs: functions, lines, and the files every viewer reads.

commands:
{commands}

examples:
  pyrometer run script.py                 profile a script, print the top functions
  pyrometer run -o out.html -m package    profile a module, save an HTML report
  pyrometer run --lines script.py         line by line (@profile, as with kernprof)
  pyrometer report out.prof -s tottime    print a saved profile
  pyrometer convert out.prof -o out.svg   a flame graph of it
  pyrometer run --timeline -o run.mem script.py; pyrometer plot run.mem

options:
  -h, --help       this help
  -V, --version    pyrometer's version
"""


def overview():
    commands = "\n".join(f"  {name:<9} {summary}" for name, (_c, _p, summary) in COMMANDS.items())
    return OVERVIEW.format(commands=commands)


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(overview())
        return 0
    if args[0] in ("-V", "--version"):
        from . import __version__
        print(f"pyrometer {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command == "help":
        if not rest:
            sys.stdout.write(overview())
            return 0
        if rest[0] not in COMMANDS:
            return fail(f"unknown command '{rest[0]}' (choose {', '.join(COMMANDS)})")
        COMMANDS[rest[0]][1]().print_help()
        return 0
    if command not in COMMANDS:
        return fail(f"unknown command '{command}' (choose {', '.join(COMMANDS)}; "
                    f"see 'pyrometer --help')")
    try:
        return COMMANDS[command][0](rest)
    except UsageError as exc:
        return fail(str(exc))
    except _tools.Error as exc:
        return fail(str(exc))
