"""The commands as functions: report, convert, merge and diff.

`pyrometer report|convert|merge|diff` call these, and so can a notebook or a
script (pyrometer.report(...), pyrometer.convert(...)...).  Bad input raises
Error, whose message is the one line the command line prints.
"""
import os
import sys

from . import _api, _convert, _engine, _lines, _timeline


class Error(ValueError):
    """Bad input for a command (a file that is not a profile, an unknown
    format, an output that would replace an input): one line, and nothing
    written."""


# Output formats by file name: what `-o NAME` writes when -f is not given.
# A .svg is a flame graph (the call graph drawn by Graphviz is -f svg).
EXTENSIONS = {
    ".prof": "prof", ".pstats": "prof", ".pstat": "prof",
    ".callgrind": "callgrind",
    ".dot": "dot", ".gv": "dot",
    ".png": "png",
    ".svg": "flamegraph",
    ".collapsed": "collapsed", ".folded": "collapsed",
    ".json": "speedscope",
    ".html": "html", ".htm": "html",
    ".dat": "mprof",
}

# Other names users give formats.
ALIASES = {"flame": "flamegraph", "pstats": "prof", "kcachegrind": "callgrind",
           "folded": "collapsed", "callgraph": "svg"}


def format_name(name):
    """The registered name of a format as the user spells it, or Error."""
    name = ALIASES.get(name, name)
    if name not in _convert.FORMATS:
        raise Error(f"unknown format '{name}' (choose from {', '.join(_convert.FORMATS)}; "
                    f"'flame' for flamegraph)")
    return name


def format_of(out):
    """The format a file name asks for, or None when it does not say
    (callgrind's own `callgrind.out.NAME` counts)."""
    base = os.path.basename(os.fspath(out)).lower()
    if base.startswith("callgrind.out"):
        return "callgrind"
    if base.startswith("massif.out"):
        return "massif"
    _, ext = os.path.splitext(base)
    return EXTENSIONS.get(ext)


def _fspath(value, what):
    try:
        return os.fspath(value)
    except TypeError:
        raise Error(f"{what} must be a file name, not {type(value).__name__}") from None


def _reason(exc):
    if exc.strerror:
        return exc.strerror
    text = str(exc)
    if text.startswith("pyrometer: cannot ") and ": " in text[len("pyrometer: "):]:
        return text.rsplit(": ", 1)[1]
    return text


def _clean(exc):
    return str(exc).replace("pyrometer: ", "", 1)


def same_file(a, b):
    """Whether two paths name one existing file (through links, too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output(out, inputs=()):
    """Error if `out` cannot be written or would replace an input."""
    if out == "-":
        return
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise Error(f"cannot write '{out}': no such directory '{folder}'")
    if os.path.isdir(out):
        raise Error(f"cannot write '{out}': it is a directory")
    for src in inputs:
        if same_file(src, out):
            if len(inputs) == 1:
                raise Error(f"the output '{out}' is the input itself: it would be replaced")
            raise Error(f"the output '{out}' is one of the inputs ('{src}'): it would be "
                        f"replaced")


def not_a_timeline(path, command):
    """Error if `path` is a memory timeline, which `command` does not take."""
    if _timeline.is_timeline_file(path):
        raise Error(f"'{path}' is a memory timeline: {command} takes profiles; draw it with "
                    f"'pyrometer plot {path}' or convert it (-o x.dat for mprof, -o "
                    f"massif.out.x for massif)")


def load_function_profile(path, command):
    """The function profile in `path` (_convert.LoadedProfile), or Error."""
    try:
        not_a_timeline(path, command)
        if _lines.is_line_file(path):
            raise Error(f"'{path}' is a line profile; {command} takes function profiles (.prof)")
        return _convert.load(path)
    except OSError as exc:
        raise Error(f"cannot read '{path}': {_reason(exc)}") from None
    except _api.FormatError as exc:
        raise Error(_clean(exc)) from None


def check_same_kind(profiles, command, verb):
    """Samples and calls (or samples with and without time) do not add up
    nor compare: Error naming the first two that differ."""
    first = profiles[0]
    for p in profiles[1:]:
        if (p.sampled, p.unit) != (first.sampled, first.unit):
            raise Error(f"cannot {command} '{first.path}' and '{p.path}': the first is "
                        f"{first.kind}, the second {p.kind}, and the two do not {verb}")


def restrictions(match, limit, total):
    """pstats' restrictions in order: each regex of `match` (as
    print_stats('parse') takes one: searched in 'file:line(function)'),
    then the limit.  Returns (what the report takes, the rows left or None
    when a regex leaves an unknown number: the report says how many)."""
    restriction, rows = limit_rows(limit, total)
    if not match:
        return restriction, rows
    import re
    for m in match:
        try:
            re.compile(m)
        except re.error as exc:
            raise Error(f"--match '{m}' is not a regular expression ({exc})") from None
    return tuple(match) + (() if restriction is None else (restriction,)), None


def limit_rows(limit, total):
    """pstats' restriction: a whole number of rows, or a fraction of them
    (0 < limit < 1); None or 0: every row.  Returns (the restriction to
    pass on, the rows it leaves)."""
    if limit is None or limit == 0:
        return None, total
    if isinstance(limit, float) and 0 < limit < 1:
        return limit, int(total * limit + 0.5)   # as pstats counts a fraction
    if limit < 0 or limit != int(limit):
        raise Error(f"limit takes a whole number of rows or a fraction below 1, not {limit!r}")
    return int(limit), min(int(limit), total)


def left_out_note(shown, total):
    if shown >= total:
        return ""
    return (f"pyrometer: {total - shown} more function{'s' if total - shown > 1 else ''} not "
            f"shown (--limit 0 shows all)\n")


def fold_imports(profile):
    """The profile as reports show it by default: the import system's
    frames folded into one `<import module>` node per imported module and
    `<import system>` (their time kept), the stats rebuilt from that tree.
    Returns (profile, imports folded); the profile itself when it has no
    tree, is sampled, or imported nothing while profiled."""
    if profile.tree is None or profile.sampled or profile.unit != "seconds":
        return profile, 0
    stats, tree, folded = _engine.fold_imports(profile.tree)
    if folded == 0:
        return profile, 0
    return profile.like(stats, tree), folded


class Frames:
    """Which functions a report shows: --only, --hide, --only-mine.  A
    pattern names a file (`app.py`, `pkg/util.py`, `<stdlib>/json/*`), a
    module or package (`json`, `flask` for flask.app too, `myapp.views.*`)
    or a function (`parse`, `myapp.views.index`); `*`, `?` and `[...]` make
    it a wildcard pattern.  `mine`: files under `root` (the program's
    folder), no standard library nor site-packages."""

    def __init__(self, only=(), hide=(), only_mine=False, root=None):
        self.only = [p for p in only if p]
        self.hide = [p for p in hide if p]
        self.only_mine = only_mine
        self.root = os.path.abspath(root) if root else os.getcwd()

    def __bool__(self):
        return bool(self.only or self.hide or self.only_mine)

    def describe(self):
        parts = []
        if self.only_mine:
            parts.append(f"showing only the program's own files (under {self.root})")
        if self.only:
            parts.append(("and " if parts else "showing only ") + ", ".join(self.only))
        if self.hide:
            parts.append("hiding " + ", ".join(self.hide))
        return "; ".join(parts)

    def _names(self, key):
        """What a pattern may name for this function: files, modules, the
        function, module.function."""
        file, _line, name = key
        if file == "~":
            return [name], False, False
        label, rest, library = _engine.path_split(file)
        files = [file, label + rest]
        mine = False
        if not library and not file.startswith("<") and file.startswith(self.root + os.sep):
            rest = file[len(self.root) + 1:]
            files.append(rest)
            mine = True
        module = rest[:-3] if rest.endswith(".py") else rest
        if module.endswith("/__init__"):
            module = module[:-len("/__init__")]
        module = module.replace("/", ".").lstrip(".")
        names = files + [module, name, f"{module}.{name}"]
        return names, mine, library

    def _matches(self, pattern, names):
        import fnmatch
        wild = has_magic(pattern)
        for n in names:
            if wild:
                if fnmatch.fnmatchcase(n, pattern):
                    return True
            elif n == pattern or n.endswith("/" + pattern) or n.startswith(pattern + "."):
                return True
        return False

    def keeps(self, key):
        names, mine, _library = self._names(key)
        shown = True
        if self.only_mine or self.only:
            shown = (self.only_mine and mine) or any(self._matches(p, names) for p in self.only)
        return shown and not any(self._matches(p, names) for p in self.hide)


def select_frames(profile, frames):
    """The profile with only the frames `frames` keeps: from the tree (the
    hidden frames' time goes to the kept frame above) or, without a tree,
    the rows of the kept functions.  Returns (profile, note)."""
    if not frames:
        return profile, ""
    if profile.tree is not None:
        keep = [frames.keeps(tuple(k)) for k in profile.tree["funcs"]]
        stats, tree, hidden = _engine.keep_frames(profile.tree, keep)
        shown = profile.like(stats, tree)
        how = "their time given to the frame above"
    else:
        stats = {k: v for k, v in profile.stats.items() if frames.keeps(k)}
        hidden = len(profile.stats) - len(stats)
        shown = profile.like(stats, None)
        how = "their rows left out"
    return shown, (f"pyrometer: {frames.describe()}: {hidden} frame"
                   f"{'s' if hidden != 1 else ''} hidden, {how}\n")


def recorded_root(profile):
    """The program's folder as `pyrometer run` recorded it in the profile
    (docs/tree-format.md's meta "root"), when it is a folder here: files
    under it are the program's own (--only-mine, short paths); else None
    (the current folder)."""
    meta = profile.meta if isinstance(profile.meta, dict) else {}
    root = meta.get("root")
    return root if isinstance(root, str) and os.path.isabs(root) and os.path.isdir(root) else None


def short_paths(profile, root=None):
    """The profile with its files named as reports show them: the standard
    library as `<stdlib>/json/__init__.py`, installed packages as
    `<site-packages>/flask/app.py`, the program's files relative to `root`
    (default: the current folder); a name two files would share stays
    whole."""
    root = os.path.abspath(root) if root else os.getcwd()
    wanted = {}
    for key in profile.stats:
        if not (isinstance(key, tuple) and len(key) == 3 and isinstance(key[0], str)):
            continue
        file = key[0]
        if file == "~" or file.startswith("<"):
            continue
        label, rest, library = _engine.path_split(file)
        if library and label:
            short = label + rest
        elif file.startswith(root + os.sep):
            short = file[len(root) + 1:]
        else:
            continue
        wanted[key] = (short, key[1], key[2])
    taken = {}
    for old, new in wanted.items():
        taken.setdefault(new, []).append(old)
    mapping = {old: new for old, new in wanted.items()
               if len(taken[new]) == 1 and new not in profile.stats}
    if not mapping:
        return profile
    stats, tree = _engine.rekey(profile.stats, profile.tree, mapping)
    return profile.like(stats, tree)


def strip_dirs(profile):
    """The profile as pstats' strip_dirs() makes it: files named without
    their folders, functions that become one added up (callers too).  The
    call tree, which needs the folders to tell library code apart, goes."""
    return profile.like(_engine.strip_dirs(profile.stats), None)


def names_shown(profile, root=None, full_paths=False, strip=False):
    """The profile with its files named as the table shows them: short
    paths (short_paths), whole ones, or without folders (strip_dirs)."""
    if strip:
        if full_paths:
            raise Error("--strip-dirs and --full-paths do not go together (the one drops the "
                        "folders the other shows)")
        return strip_dirs(profile)
    return profile if full_paths else short_paths(profile, root)


def check_patterns(callers, callees):
    """The callers/callees options: False, True, or a regular expression
    (Error if it is none)."""
    import re
    for name, value in (("callers", callers), ("callees", callees)):
        if isinstance(value, str):
            try:
                re.compile(value)
            except re.error as exc:
                raise Error(f"--{name} takes a regular expression over file:line(function), "
                            f"and '{value}' is none: {exc}") from None
        elif value not in (True, False, None):
            raise Error(f"{name} takes True, False or a regular expression, not {value!r}")
    return next((p for p in (callers, callees) if isinstance(p, str)), None)


def no_match_note(text, pattern):
    if text or pattern is None:
        return ""
    return (f"pyrometer: no function matches '{pattern}' (a regular expression over "
            f"file:line(function), as the report names them)\n")


def terminal_style(stream, color=None):
    """(colour, width) of a report written to `stream`: colour on a
    terminal (not TERM=dumb) unless NO_COLOR is set, anywhere when
    FORCE_COLOR is; `color` True or False (--color, --no-color) decides
    over both.  Width: the terminal's columns, or 0 (not a terminal: names
    are never shortened)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    if color is None:
        if os.environ.get("NO_COLOR"):
            color = False
        elif os.environ.get("FORCE_COLOR"):
            color = True
        else:
            color = tty and os.environ.get("TERM") != "dumb"
    width = 0
    if tty:
        import shutil
        width = shutil.get_terminal_size().columns
    return bool(color), width


GROUPINGS = ("function", "file", "module", "package")


def _group_key(key, by, root):
    """What a function is counted as when grouped by file, module or
    package: a pstats key that reads well in a report."""
    file, _line, name = key
    if file == "~" or (file.startswith("<") and not file.startswith("<frozen")):
        return ("~", 0, "<built-in>") if by != "file" else (file, 0, "<file>")
    label, rest, library = _engine.path_split(file)
    if library and file.startswith("<frozen"):
        rest = file[len("<frozen "):].rstrip(">").replace(".", "/") + ".py"
        label = "<stdlib>/"
    elif not library and file.startswith(root + os.sep):
        rest = file[len(root) + 1:]
    module = rest[:-3] if rest.endswith(".py") else rest
    if module.endswith("/__init__"):
        module = module[:-len("/__init__")]
    module = module.strip("/").replace("/", ".")
    if by == "file":
        return (label + rest, 0, "<file>")
    if by == "module":
        return (label + rest, 0, module)
    return ("<package>", 0, module.split(".")[0] or module)


def group_frames(profile, by, root=None):
    """The profile by file, module or package: each function counted as its
    group, a group's frames calling each other one frame (their time kept).
    Returns (profile, note)."""
    if by in (None, "function"):
        return profile, ""
    if by not in GROUPINGS:
        raise Error(f"cannot group by '{by}' (choose {', '.join(GROUPINGS)})")
    root = os.path.abspath(root) if root else os.getcwd()
    if profile.tree is None:
        raise Error(f"'{profile.path}' has no call tree (a cProfile or pstats file keeps only "
                    f"per-function totals): grouping by {by} needs one")
    groups, index, group_of = [], {}, []
    for key in profile.tree["funcs"]:
        g = _group_key(tuple(key), by, root)
        if g not in index:
            index[g] = len(groups)
            groups.append(g)
        group_of.append(index[g])
    stats, tree, _n = _engine.group_frames(profile.tree, group_of, groups)
    return profile.like(stats, tree), (f"pyrometer: functions grouped by {by}: a group's "
                                       f"functions calling each other count as one call\n")


def imports_note(folded):
    if not folded:
        return ""
    return (f"pyrometer: {folded} import{'s' if folded > 1 else ''} folded into <import module> "
            f"rows, their time kept (--show-imports shows the import system's frames)\n")


def tree_text(tree, root=None, limit=None, min_share=0.01):
    """The call tree for a terminal (the user's frames shown, library frames
    under them folded); `limit` lines (None or 0: up to 100 000)."""
    lines = 100000 if not limit else max(1, int(limit)) if limit >= 1 else 60
    return _engine.format_tree(tree, root=None if root is None else os.fspath(root),
                               min_share=min_share, max_lines=lines)


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0


def memory_text(tree, info, root=None, limit=None):
    """The memory part of a printed run report (run --memory): the totals,
    then the call trees of bytes allocated, of bytes alive at the peak and
    of net bytes (allocated and still alive when profiling stopped)."""
    metrics = tree.get("metrics") if isinstance(tree, dict) else None
    named = {m.get("name"): m for m in metrics} if isinstance(metrics, list) else {}
    if "allocated" not in named:
        return ""
    roots = [i for i, p in enumerate(tree["parent"]) if p < 0]
    total = {name: sum(named[name]["total"][i] for i in roots) if name in named else 0
             for name in ("allocated", "allocations", "net", "peak")}
    text = (f"\nMemory: {_size(total['allocated'])} allocated in {total['allocations']:,.0f} "
            f"blocks; {_size(total['net'])} of it still alive at the end (net); "
            f"peak of the blocks alive {_size(info.get('memory_peak_bytes', 0))}\n")
    if info.get("memory_failed"):
        text += ("pyrometer: note: memory ran out for the table of blocks: allocations after "
                 "that were not recorded\n")
    half = max(8, (limit or 40) // 3)
    for name in ("allocated", "peak", "net"):
        if total[name] > 0:
            text += "\n" + _engine.format_tree(
                tree, root=None if root is None else os.fspath(root), min_share=0.01,
                max_lines=half, metric=name)
    return text


def report(src, sort="cumulative", limit=None, callers=False, callees=False, unit=None,
           show_zero=False, header=None, tree=False, root=None, show_imports=False,
           only=(), hide=(), only_mine=False, full_paths=False, by=None, strip_dirs=False,
           color=False, width=None, match=()):
    """The report of a profile file as text: pstats' table for a function
    profile (ours, cProfile's, 3.15's sampled), line_profiler's for a line
    profile (ours, or line_profiler's .lprof).  `limit`: rows (or a fraction
    of them; None or 0: all).  callers/callees: True, after the table, for
    every function listed; a regular expression, pstats'
    print_callers(PATTERN) alone.  strip_dirs: files without their folders,
    as pstats' strip_dirs().  color: hot rows in colour (ANSI escapes);
    width: names shortened from the left to fit that many columns.
    tree=True: the call tree instead, the user's frames first (files under
    `root`, default the current folder, shown relative to it)."""
    path = _fspath(src, "the profile")
    try:
        not_a_timeline(path, "report")
    except OSError:
        pass   # said below, as for any profile
    pattern = check_patterns(callers, callees)
    if tree:
        if callers or callees or unit is not None or show_zero or strip_dirs:
            raise Error("the call tree takes no callers, callees, unit, show_zero or "
                        "strip_dirs")
        try:
            if _lines.is_line_file(path):
                raise Error(f"'{path}' is a line profile: it has no call tree")
            profile = _convert.load(path)
            root = root if root is not None else recorded_root(profile)
        except OSError as exc:
            raise Error(f"cannot read '{path}': {_reason(exc)}") from None
        except _api.FormatError as exc:
            raise Error(_clean(exc)) from None
        if profile.tree is None:
            raise Error(f"'{path}' has no call tree (a cProfile or pstats file keeps only "
                        f"per-function totals): profile with 'pyrometer run -o FILE.prof' to "
                        f"get one")
        folded = 0
        if not show_imports:
            profile, folded = fold_imports(profile)
        profile, selected = select_frames(profile, Frames(only, hide, only_mine, root))
        profile, grouped = group_frames(profile, by, root)
        return (tree_text(profile.tree, os.getcwd() if root is None else root, limit)
                + selected + grouped + imports_note(folded))
    try:
        if _lines.is_line_file(path):
            if callers or callees or strip_dirs:
                raise Error(f"'{path}' is a line profile: callers, callees and strip_dirs are "
                            f"for function profiles")
            stats = _lines.load(path)
            kw = {"unit": unit} if unit is not None else {}
            return _lines.format_report(stats, show_zero=show_zero, color=color, **kw)
        if unit is not None or show_zero:
            raise Error(f"'{path}' is a function profile: unit and show_zero are for line "
                        f"profiles")
        # the tree folds the imports; a damaged one is left out, the stats kept
        profile = _convert.load(path, need_tree=False)
        root = root if root is not None else recorded_root(profile)
    except OSError as exc:
        raise Error(f"cannot read '{path}': {_reason(exc)}") from None
    except _api.FormatError as exc:
        raise Error(_clean(exc)) from None
    folded = 0
    if not show_imports:
        profile, folded = fold_imports(profile)
    profile, selected = select_frames(profile, Frames(only, hide, only_mine, root))
    profile, grouped = group_frames(profile, by, root)
    selected += grouped
    profile = names_shown(profile, root, full_paths, strip_dirs)
    if header is None:
        import time
        header = [time.ctime(os.stat(path).st_mtime) + "    " + path]
        header += _api.header_lines(profile.meta)
    sort = check_sort(sort, profile.sampled)
    restriction, shown = restrictions(match, limit, len(profile.stats))
    try:
        text = _api.format_report(profile.stats, sort=sort, limit=restriction, callers=callers,
                                  callees=callees, files=header, sampled=profile.sampled,
                                  unit=profile.unit, color=color, width=width or 0)
    except ValueError as exc:   # an ambiguous sort key
        raise Error(_clean(exc)) from None
    if pattern is not None:   # the functions the pattern names, whatever the screen holds
        return text + no_match_note(text, pattern) + selected + imports_note(folded)
    left_out = left_out_note(shown, len(profile.stats)) if shown is not None else ""
    return text + left_out + selected + imports_note(folded)


SORT_KEYS = {"calls", "cumulative", "cumtime", "file", "filename", "module", "ncalls",
             "pcalls", "line", "name", "nfl", "stdname", "time", "tottime"}
# a sampled profile's, as 3.15's SampledStats has them (the call words stay synonyms)
SAMPLED_SORT_KEYS = SORT_KEYS | {"samples", "nsamples", "psamples"}


def check_sort(value, sampled=False):
    """The sort keys (pstats' words, or a unique prefix of one), or Error."""
    keys = _api.sort_keys(value)
    known = SAMPLED_SORT_KEYS if sampled else SORT_KEYS
    for k in keys:
        matches = [s for s in known if s.startswith(k)]
        if k not in known and len(matches) != 1:
            what = "a sampled profile's " if sampled else ""
            hint = (" (samples, nsamples and psamples are for sampled profiles)"
                    if not sampled and k in SAMPLED_SORT_KEYS else "")
            raise Error(f"unknown {what}sort key '{k}' (choose from "
                        f"{', '.join(sorted(known))}){hint}")
    return keys


def _options_for(fmt, options):
    """The writer's options: defaults, then the given ones checked."""
    got = {}
    by_key = {key: (opt, parse) for opt, (key, parse, _d, _t) in fmt.options.items()}
    for opt, (key, _parse, default, _text) in fmt.options.items():
        got[key] = default
    for key, value in options.items():
        if key not in by_key:
            known = ", ".join(sorted(by_key)) or "none"
            raise Error(f"option {key} does not apply to the {fmt.name} format "
                        f"(its options: {known})")
        opt, parse = by_key[key]
        if isinstance(value, str):
            try:
                value = parse(value)
            except ValueError as exc:
                raise Error(f"bad value for {opt}: {exc}") from None
        got[key] = value
    return got


def _to_stdout(write):
    """Run write(path) into a private temporary file, then copy it to
    standard output (-o -)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="pyrometer-") as folder:
        path = os.path.join(folder, "out")
        write(path)
        with open(path, "rb") as f:
            data = f.read()
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(data.decode("utf-8", "replace"))
    else:
        out.write(data)
        out.flush()


def with_metric(profile, metric):
    """The profile drawing its call tree's metric `metric` in the tree
    formats and graphs (a memory profile has time, allocated, allocations,
    net and peak); its pstats times stay what the tables show."""
    tree = profile.tree
    metrics = tree.get("metrics") if isinstance(tree, dict) else None
    names = ([m.get("name") for m in metrics if isinstance(m, dict)]
             if isinstance(metrics, list) else ["time"])
    if metric not in names:
        raise Error(f"the profile has no metric '{metric}' (it has {', '.join(map(str, names))})")
    shown = profile.like(profile.stats, tree)
    shown.metric = None if metric == names[0] else metric
    return shown


def write_profile(profile, fmt_name, out, options=None, show_imports=False, frames=None,
                  metric=None, full_paths=False, by=None, strip=False):
    """Write a loaded (or just profiled) function profile in a format: a
    display (every format but prof) with the imports folded unless
    show_imports, drawing the tree's `metric` (None: its first); collapsed
    stacks name files short unless full_paths; grouped by file, module or
    package with `by`; files without folders with `strip` (pstats'
    strip_dirs(): per-function formats only, the call tree is dropped).
    Returns the number of imports folded."""
    fmt = _convert.FORMATS[fmt_name]
    opts = _options_for(fmt, options or {})
    opts["full_paths"] = bool(full_paths)
    if metric is not None and fmt_name != "prof":
        profile = with_metric(profile, metric)
    folded = 0
    if fmt_name != "prof" and not show_imports:
        profile, folded = fold_imports(profile)
    if frames:
        profile, _note = select_frames(profile, frames)
    if by:
        profile, _note = group_frames(profile, by, frames.root if frames else None)
    if strip:
        if fmt.needs_tree:
            raise Error(f"--strip-dirs merges functions the call tree tells apart: the "
                        f"{fmt_name} format draws the tree (use -f prof, callgrind, dot, or "
                        f"-f svg or png for the call graph)")
        profile = strip_dirs(profile)
    try:
        if fmt.needs_tree:
            _convert.check_tree(profile, fmt_name)
        if out == "-":
            _to_stdout(lambda path: fmt.write(profile, path, opts))
        else:
            fmt.write(profile, os.fspath(out), opts)
    except _convert.ConvertError as exc:
        raise Error(str(exc)) from None
    return folded


def convert(src, format=None, out=None, show_imports=False, only=(), hide=(), only_mine=False,
            root=None, metric=None, full_paths=False, by=None, strip_dirs=False, **options):
    """Convert a profile file: format as `pyrometer convert -f` names it
    (inferred from `out`'s extension when None), options as the format's
    (`node_threshold=1.0`, `title="..."`); `metric` the call tree's metric
    the tree formats draw (a memory profile's "allocated", "allocations" or
    "net"; None: time); full_paths: collapsed stacks name files by their
    whole path.  `out` "-" writes to standard output.  Returns `out`."""
    path = _fspath(src, "the profile")
    if out is None:
        raise Error("convert needs an output file")
    out = out if out == "-" else _fspath(out, "the output")
    if format is None:
        format = format_of(out) if out != "-" else None
        if format is None:
            raise Error(f"cannot tell the format from the name '{out}': give it (choose from "
                        f"{', '.join(_convert.FORMATS)})")
    fmt_name = format_name(format)
    check_output(out, [path])
    try:
        if _timeline.is_timeline_file(path):
            return convert_timeline(path, fmt_name, out, options)
        if fmt_name in TIMELINE_ONLY:
            raise Error(f"the {fmt_name} format holds memory over time: convert a timeline "
                        f"('pyrometer run --timeline -o run.mem'), not the profile '{path}'")
        if _lines.is_line_file(path):
            # a .json name (speedscope's for function profiles) gives a line
            # profile's own JSON: one entry per line with each metric
            if fmt_name not in ("html", "speedscope"):
                raise Error(f"'{path}' is a line profile: it converts to html or, named "
                            f".json, to JSON (the {fmt_name} format holds function profiles)")
            _options_for(_convert.FORMATS["html"], options)
            stats = _lines.load(path)
            if fmt_name == "html":
                def write(p):
                    _convert.write_lines_html(path, stats, p)
            else:
                def write(p):
                    _engine.write_lines_json(p, stats)
            if out == "-":
                _to_stdout(write)
            else:
                write(out)
            return out
        profile = _convert.load(path)
        root = root if root is not None else recorded_root(profile)
    except OSError as exc:
        raise Error(f"cannot read '{path}': {_reason(exc)}") from None
    except _api.FormatError as exc:
        raise Error(_clean(exc)) from None
    try:
        write_profile(profile, fmt_name, out, options, show_imports,
                      Frames(only, hide, only_mine, root), metric, full_paths, by, strip_dirs)
    except OSError as exc:
        raise Error(f"cannot write '{out}': {_reason(exc)}") from None
    except _api.FormatError as exc:
        raise Error(_clean(exc)) from None
    return out


# The formats only a memory timeline is written as; and what a timeline
# becomes under the names that mean a profile's formats elsewhere.
TIMELINE_ONLY = ("mprof", "massif")
TIMELINE_AS = {"mprof": "mprof", "massif": "massif", "flamegraph": "svg", "svg": "svg",
               "html": "html", "mem": "mem"}


def convert_timeline(path, fmt_name, out, options=None):
    """A saved timeline written as mprof's .dat, massif's massif.out, or
    its plot (.svg, .html).  Returns `out`."""
    fmt = TIMELINE_AS.get(fmt_name)
    if fmt is None:
        raise Error(f"'{path}' is a memory timeline: it converts to mprof (.dat), massif "
                    f"(massif.out.NAME), svg or html (a plot), not {fmt_name}")
    title = None
    for key, value in (options or {}).items():
        if key != "title" or fmt not in ("svg", "html"):
            raise Error(f"option {key} does not apply to a timeline's {fmt}")
        title = value
    try:
        if out == "-":
            _to_stdout(lambda p: _engine.convert_timeline(path, p, fmt, title=title))
        else:
            _engine.convert_timeline(path, out, fmt, title=title)
    except OSError as exc:
        if exc.filename == path or not os.path.exists(path):
            raise Error(f"cannot read '{path}': {_reason(exc)}") from None
        raise Error(f"cannot write '{out}': {_reason(exc)}") from None
    except _api.FormatError as exc:
        raise Error(_clean(exc)) from None
    return out


def plot(src, out, format="svg", title=None):
    """Draw the timeline in `src` (pyrometer run --timeline, Timeline.dump)
    to `out` as "svg" or "html".  Returns `out`; Error for bad input."""
    path = _fspath(src, "the timeline")
    out = _fspath(out, "the output")
    if format not in ("svg", "html"):
        raise Error(f"a plot is svg or html, not {format}")
    check_output(out, [path])
    try:
        if not _timeline.is_timeline_file(path):
            raise Error(f"'{path}' is not a memory timeline (pyrometer run --timeline -o "
                        f"run.mem writes one)")
    except OSError as exc:
        raise Error(f"cannot read '{path}': {_reason(exc)}") from None
    return convert_timeline(path, format, out, {"title": title} if title is not None else {})


def has_magic(pattern):
    return any(c in pattern for c in "*?[")


def expand_inputs(args, out=None, note=None):
    """Input names with glob patterns expanded (sorted, `**` recursive), and
    folders replaced by the profiles in them: a shell that left a pattern
    quoted gets the same files.  A name that exists is taken as it is; a
    pattern matching nothing is an error.  The output is left out of what a
    pattern or folder gives (a second `merge *.prof -o all.prof` would add
    the first result in), with a note."""
    paths = []
    for arg in args:
        arg = _fspath(arg, "an input")
        if os.path.isdir(arg):
            matches = sorted(os.path.join(arg, n) for n in os.listdir(arg)
                             if not n.startswith(".")
                             and os.path.isfile(os.path.join(arg, n)))
            what = "folder"
        elif not has_magic(arg) or os.path.exists(arg):
            paths.append(arg)
            continue
        else:
            import glob   # only for commands that expand patterns
            matches = sorted(glob.glob(arg, recursive=True))
            what = "pattern"
        if out is not None and out != "-" and os.path.exists(out):
            kept = [m for m in matches if not same_file(m, out)]
            if len(kept) < len(matches) and note is not None:
                note(f"pyrometer: note: the output '{out}' is in the {what} '{arg}' and is "
                     f"left out")
            matches = kept
        if not matches:
            raise Error(f"no file matches '{arg}'" if what == "pattern"
                        else f"the folder '{arg}' holds no file")
        paths.extend(matches)
    return paths


def merge(inputs, out, note=None):
    """Add up function profiles (ours or cProfile's, as pstats' Stats.add()
    does, and their call trees path by path) into `out`, or line profiles
    (ours or line_profiler's .lprof, line by line) into a line file.
    `inputs`: files, glob patterns or folders.  `note(text)` hears what the result lacks
    (default: printed on stderr).  Returns the list of files merged."""
    if note is None:
        def note(text):
            print(text, file=sys.stderr)
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out = _fspath(out, "the output")
    notes = []   # said once the merge is done: bad input gets one line
    paths = expand_inputs(list(inputs), out, notes.append)
    if not paths:
        raise Error("merge needs at least one profile file")
    check_output(out, paths)
    if _line_files(paths):
        _merge_lines(paths, out)
        for text in notes:
            note(text)
        return paths
    profiles = [load_function_profile(p, "merge") for p in paths]
    check_same_kind(profiles, "merge", "add up")
    try:
        stats, tree = _engine.merge_profiles([(p.stats, p.tree) for p in profiles], paths)
    except _api.FormatError as exc:
        raise Error(_clean(exc)) from None
    sampled = profiles[0].sampled   # kept: 3.15's pstats still reads it as sampled
    try:
        if tree is not None:
            _engine.dump_stats(out, stats, tree, sampled=sampled)
        else:
            _engine.dump_stats(out, stats, sampled=sampled)
    except OSError as exc:
        raise Error(f"cannot write '{out}': {_reason(exc)}") from None
    for text in notes:
        note(text)
    treeless = [p.path for p in profiles if p.tree is None]
    if treeless and len(treeless) < len(profiles):
        which = f"'{treeless[0]}'" + (f" and {len(treeless) - 1} more" if len(treeless) > 1 else "")
        note(f"pyrometer: note: call tree dropped: {which} "
             f"{'has' if len(treeless) == 1 else 'have'} none (a cProfile/pstats file keeps "
             f"only per-function statistics), so '{out}' holds the merged statistics without one")
    return paths


def _line_files(paths):
    """Whether the files are line profiles (Error if only some are)."""
    kinds = []
    for p in paths:
        try:
            kinds.append(_lines.is_line_file(p))
        except OSError as exc:
            raise Error(f"cannot read '{p}': {_reason(exc)}") from None
    if any(kinds) and not all(kinds):
        line, function = paths[kinds.index(True)], paths[kinds.index(False)]
        raise Error(f"cannot merge '{line}', a line profile, with '{function}': line and "
                    f"function profiles do not add up")
    return all(kinds)


def _merge_lines(paths, out):
    """Line profiles (pyrometer's, line_profiler's .lprof) added up into a
    .lines file, as line_profiler adds its LineStats."""
    if out.endswith(".lprof") or format_of(out) is not None:
        what = "line_profiler's" if out.endswith(".lprof") else format_of(out)
        raise Error(f"merged line profiles are written as pyrometer's line file, not as "
                    f"{what}: name the output .lines, not '{out}'")
    loaded = []
    for p in paths:
        try:
            loaded.append(_lines.load(p))
        except OSError as exc:
            raise Error(f"cannot read '{p}': {_reason(exc)}") from None
        except _api.FormatError as exc:
            raise Error(_clean(exc)) from None
    try:
        merged = _engine.merge_lines(loaded)
    except ValueError as exc:
        raise Error(f"cannot merge these line profiles: {_clean(exc)}") from None
    try:
        _lines.write(out, merged)
    except OSError as exc:
        raise Error(f"cannot write '{out}': {_reason(exc)}") from None


def merge_groups(inputs, out_dir, group_by, note=None):
    """Merge profiles per group: the group of a file is what `group_by` (a
    regular expression) matches in its name, its first group if it has one
    (`r"(.*)-\\d{8}T"` groups pyrometer.profile's time-stamped files by
    name).  One `<group>.prof` per group in `out_dir` (`<group>.lines` for
    line profiles).  Returns {file written: [files merged into it]}."""
    import re
    if note is None:
        def note(text):
            print(text, file=sys.stderr)
    try:
        pattern = re.compile(group_by)
    except re.error as exc:
        raise Error(f"--group-by is not a regular expression: {exc}") from None
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out_dir = _fspath(out_dir, "the output folder")
    if not os.path.isdir(out_dir):
        raise Error(f"'{out_dir}' is not a folder (with --group-by, -o names the folder the "
                    f"merged profiles go to)")
    groups, unmatched = {}, []
    for path in expand_inputs(list(inputs)):
        m = pattern.search(os.path.basename(path))
        if m is None:
            unmatched.append(path)
            continue
        key = m.group(1) if pattern.groups else m.group(0)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in key).strip(".") or "_"
        groups.setdefault(safe, []).append(path)
    if not groups:
        raise Error(f"no file name matches '{group_by}'")
    written = {}
    for key, paths in sorted(groups.items()):
        # a group of line profiles makes a line profile
        ext = ".lines" if _line_files(paths) else ".prof"
        written[os.path.join(out_dir, key + ext)] = merge(paths, os.path.join(out_dir, key + ext),
                                                          note)
    if unmatched:
        note(f"pyrometer: note: {len(unmatched)} file{'s' if len(unmatched) > 1 else ''} "
             f"matched no group and {'were' if len(unmatched) > 1 else 'was'} left out "
             f"('{unmatched[0]}'...)")
    return written


DIFF_SORT_KEYS = {"tottime": "tottime", "time": "tottime", "cumtime": "cumtime",
                  "cumulative": "cumtime", "calls": "calls", "ncalls": "calls",
                  "samples": "calls", "nsamples": "calls"}


def _whole_limit(limit):
    if limit is None or limit == 0:
        return None
    if limit < 0 or limit != int(limit):
        raise Error(f"limit takes a whole number of rows, not {limit!r}")
    return int(limit)


def _lines_diff(sides, lines):
    """Two line profiles, line by line."""
    if not (len(sides[0]) == len(sides[1]) == 1 and lines[0][0] and lines[1][0]):
        raise Error("a line profile compares with one other line profile (one run a side)")
    import time
    loaded = []
    for paths in sides:
        try:
            loaded.append(_lines.load(paths[0]))
        except OSError as exc:
            raise Error(f"cannot read '{paths[0]}': {_reason(exc)}") from None
        except _api.FormatError as exc:
            raise Error(_clean(exc)) from None
    names = [time.ctime(os.stat(p[0]).st_mtime) + "    " + p[0] for p in sides]
    try:
        text = _engine.format_lines_diff(loaded[0], loaded[1], old_name=names[0],
                                         new_name=names[1])
    except ValueError as exc:
        raise Error(_clean(exc)) from None
    return DiffReport(text)


class DiffReport(str):
    """The diff's text; `.regressed`: whether fail_above was passed."""
    regressed = False


def _side(spec, what):
    """One side of a diff: a file, a folder or glob pattern of runs, or a
    list of them.  Returns (name shown, [paths])."""
    items = [spec] if isinstance(spec, (str, os.PathLike)) else list(spec)
    paths = expand_inputs([_fspath(x, what) for x in items])
    if not paths:
        raise Error(f"{what} names no file")
    return paths


def diff(old, new, sort="tottime", limit=None, fail_above=None, min_share=1.0):
    """Compare two function profiles function by function (calls, tottime,
    cumtime).  Each side is a file, or several runs (a folder, a glob
    pattern, a list): they are averaged, and a change within the spread of
    the runs counts as none.  Returns the text (a str with `.regressed`:
    True when the total, or a function holding min_share % of it, grew by
    more than fail_above % and beyond the runs' spread)."""
    sides = [_side(old, "the old profile"), _side(new, "the new profile")]
    lines = []
    for paths in sides:
        try:
            lines.append([_lines.is_line_file(p) for p in paths])
        except OSError as exc:
            raise Error(f"cannot read '{paths[0]}': {_reason(exc)}") from None
    if any(any(side) for side in lines):
        return _lines_diff(sides, lines)
    if sort not in DIFF_SORT_KEYS:
        raise Error(f"unknown diff sort key '{sort}' (choose tottime, cumtime or calls; "
                    f"samples for sampled profiles)")
    loaded = [[load_function_profile(p, "diff") for p in paths] for paths in sides]
    check_same_kind(loaded[0] + loaded[1], "diff", "compare")
    import time
    names, stats, runs = [], [], {}
    for paths, profiles in zip(sides, loaded):
        if len(paths) == 1:
            names.append(time.ctime(os.stat(paths[0]).st_mtime) + "    " + paths[0])
            stats.append(profiles[0].stats)
        else:
            names.append(f"{len(paths)} runs: {paths[0]} ... {paths[-1]}")
            try:
                summed, _tree = _engine.merge_profiles([(p.stats, None) for p in profiles], paths)
            except _api.FormatError as exc:
                raise Error(_clean(exc)) from None
            stats.append(summed)
    if any(len(paths) > 1 for paths in sides):
        runs = {"old_runs": [p.stats for p in loaded[0]], "new_runs": [p.stats for p in loaded[1]]}
    a = loaded[0][0]
    text, failed = _engine.format_diff(stats[0], stats[1], old_name=names[0], new_name=names[1],
                                       sampled=a.sampled, unit=a.unit,
                                       sort=DIFF_SORT_KEYS[sort],
                                       limit=_whole_limit(limit),
                                       fail_above=fail_above, min_share=min_share, **runs)
    result = DiffReport(text)
    result.regressed = bool(failed)
    return result


VIEWERS = {"callgrind": ("kcachegrind", "qcachegrind")}


def open_viewer(path, fmt):
    """Open a written file in its viewer, as pyprof2calltree -k does: html
    and svg in the browser, callgrind in KCachegrind or QCachegrind.
    Returns what was done, in words; Error when no viewer is there."""
    import shutil
    import subprocess
    if fmt in ("html", "flamegraph", "svg", "png"):
        import pathlib
        import webbrowser
        url = pathlib.Path(os.path.abspath(path)).as_uri()
        if not webbrowser.open(url):
            raise Error(f"no web browser found to open {url} (set BROWSER)")
        return f"opened {path} in the web browser"
    for tool in VIEWERS.get(fmt, ()):
        exe = shutil.which(tool)
        if exe is not None:
            subprocess.Popen([exe, os.path.abspath(path)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
            return f"opened {path} in {tool}"
    if fmt == "callgrind":
        raise Error("neither kcachegrind nor qcachegrind is installed to open the callgrind file")
    if fmt == "speedscope":
        raise Error(f"open https://www.speedscope.app and drop {path} on it (it cannot be "
                    f"opened from here)")
    raise Error(f"no viewer for {fmt} files: write html (-o FILE.html) to open it in a browser")
