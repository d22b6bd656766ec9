"""Command line: `pyrometer run ...`, `report FILE`, `convert`, `merge` and `diff`.

Bad input (unknown option, missing script, unreadable or foreign profile)
gets one line on stderr and exit code 2; nothing is written then.
"""
import os
import sys
import time

from . import _api, _convert, _engine, _lines, _runner

USAGE = """\
usage: pyrometer run [options] (script.py | -m module | -c code) [args...]
       pyrometer report FILE [--sort KEY] [--limit N] [--callers] [--callees]
       pyrometer report LINEFILE [--unit U] [--show-zero]
       pyrometer convert FILE -f FORMAT -o OUT [format options]
       pyrometer merge FILE... -o OUT
       pyrometer diff OLD NEW [--sort KEY] [--limit N] [--fail-above PCT] [--min-share PCT]

run options:
  -o, --outfile FILE   save the profile (pstats .prof format; with --lines, a line
                       profile) instead of printing it
  --lines              line profiling: functions decorated with @profile (a builtin,
                       as with kernprof) are profiled line by line
  --lines-of PATTERN   line-profile every function whose qualified name, module or
                       file matches PATTERN (repeatable; implies --lines)
  --unit U             line report: time unit in seconds (default 1e-06)
  --show-zero          line report: also functions that never ran
  -s, --sort KEY       sort the printed report (cumulative, tottime, calls, name,
                       file, line, ... as pstats spells them; comma-separated)
  -l, --limit N        print only the first N functions
  --callers            also print who called each function
  --callees            also print what each function called
  --no-builtins        do not record built-in (C) functions
  --clock {wall,cpu}   wall time (default) or per-thread CPU time
  --no-compensate      do not subtract the profiler's own measured cost
  --follow-fork        also profile forked children (os.fork, multiprocessing's fork
                       start method): each writes its own file next to -o FILE,
                       FILE.<pid>; without it children are not profiled

report, convert, merge and diff also read CPython 3.15's sampling profiler's files
  (python -m profiling.sampling run --pstats or --collapsed) and other collapsed stacks
  ('a;b;c 12' lines); a sampled profile sorts by samples, nsamples or psamples too

merge: add up function profiles (ours or cProfile's) as pstats' Stats.add() does, and
  their call trees path by path (dropped, with a note, if an input has none); a FILE
  may be a glob pattern such as 'runs/*.prof' (expanded here too, in sorted order)
  -o, --outfile OUT    the merged profile, written only if every input was read

diff: compare two function profiles function by function (calls, tottime, cumtime)
  -s, --sort KEY       order by the absolute change of tottime (default), cumtime or calls
  -l, --limit N        print only the first N functions
  --fail-above PCT     exit 1 if the total time, or the tottime of a function holding at
                       least --min-share of the total, grew by more than PCT percent
  --min-share PCT      share of the total time (old or new) a function needs to be
                       checked by --fail-above (default 1)
"""

SORT_KEYS = {"calls", "cumulative", "cumtime", "file", "filename", "module", "ncalls",
             "pcalls", "line", "name", "nfl", "stdname", "time", "tottime"}
# a sampled profile's, as 3.15's SampledStats has them (the call words stay synonyms)
SAMPLED_SORT_KEYS = SORT_KEYS | {"samples", "nsamples", "psamples"}


class UsageError(Exception):
    pass


def os_reason(exc):
    """Why an OSError happened, without the file's name (the message has it)."""
    if exc.strerror:
        return exc.strerror
    text = str(exc)
    if text.startswith("pyrometer: cannot ") and ": " in text[len("pyrometer: "):]:
        return text.rsplit(": ", 1)[1]
    return text


def same_file(a, b):
    """Whether two paths name one existing file (through links, too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def fail(message):
    print(f"pyrometer: error: {message}", file=sys.stderr)
    return 2


def check_sort(value, sampled=False):
    keys = _api.sort_keys(value)
    known = SAMPLED_SORT_KEYS if sampled else SORT_KEYS
    for k in keys:
        matches = [s for s in known if s.startswith(k)]
        if k not in known and len(matches) != 1:
            what = "a sampled profile's " if sampled else ""
            hint = (" (samples, nsamples and psamples are for sampled profiles)"
                    if not sampled and k in SAMPLED_SORT_KEYS else "")
            raise UsageError(f"unknown {what}sort key '{k}' (choose from "
                             f"{', '.join(sorted(known))}){hint}")
    return keys


def check_limit(value):
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--limit takes a whole number, not '{value}'") from None
    if n < 0:
        raise UsageError("--limit must not be negative")
    return n


def check_unit(value):
    try:
        unit = float(value)
    except ValueError:
        raise UsageError(f"--unit takes a number of seconds such as 1e-6, not '{value}'") from None
    if not unit > 0 or unit == float("inf"):
        raise UsageError("--unit must be a positive number of seconds")
    return unit


FUNCTION_ONLY = {"-s", "--sort", "-l", "--limit", "--callers", "--callees", "--no-builtins"}
LINES_ONLY = {"--unit", "--show-zero"}


def check_mode(opts, lines):
    """Options that do not apply to the kind of profile at hand are errors."""
    wrong = (opts["set"] & FUNCTION_ONLY) if lines else (opts["set"] & LINES_ONLY)
    if wrong:
        what = "line" if lines else "function"
        raise UsageError(f"option {sorted(wrong)[0]} does not apply to a {what} profile")


def take_value(args, i, opt):
    if "=" in args[i] and args[i].startswith("--"):
        return args[i].split("=", 1)[1], i + 1
    if i + 1 >= len(args):
        raise UsageError(f"option {opt} needs a value")
    return args[i + 1], i + 2


def parse_report_options(args, allow_target):
    """Shared options of `run` and `report`. Returns (opts, rest)."""
    opts = {"sort": ("cumulative",), "limit": None, "callers": False, "callees": False,
            "outfile": None, "builtins": True, "clock": "wall", "compensate": True,
            "target": None, "kind": None, "files": [], "lines": False, "patterns": [],
            "unit": None, "show_zero": False, "follow_fork": False, "kernprof": False, "set": set()}
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0] if a.startswith("--") else a
        opts["set"].add(name)
        if name in ("-s", "--sort"):
            v, i = take_value(args, i, name)
            # a report checks them once it knows whether the file is sampled
            opts["sort"] = check_sort(v) if allow_target else _api.sort_keys(v)
        elif name in ("-l", "--limit"):
            v, i = take_value(args, i, name)
            opts["limit"] = check_limit(v)
        elif name == "--callers":
            opts["callers"], i = True, i + 1
        elif name == "--callees":
            opts["callees"], i = True, i + 1
        elif allow_target and name in ("-o", "--outfile"):
            v, i = take_value(args, i, name)
            opts["outfile"] = v
        elif allow_target and name == "--lines":
            opts["lines"] = opts["kernprof"] = True
            i += 1
        elif allow_target and name == "--lines-of":
            v, i = take_value(args, i, name)
            if not v.strip():
                raise UsageError("--lines-of needs a non-empty pattern")
            opts["lines"] = True
            opts["patterns"].append(v)
        elif name == "--unit":
            v, i = take_value(args, i, name)
            opts["unit"] = check_unit(v)
        elif name == "--show-zero":
            opts["show_zero"], i = True, i + 1
        elif allow_target and name == "--no-builtins":
            opts["builtins"], i = False, i + 1
        elif allow_target and name == "--follow-fork":
            opts["follow_fork"], i = True, i + 1
        elif allow_target and name == "--no-compensate":
            opts["compensate"], i = False, i + 1
        elif allow_target and name == "--clock":
            v, i = take_value(args, i, name)
            if v not in ("wall", "cpu"):
                raise UsageError(f"unknown clock '{v}' (choose wall or cpu)")
            opts["clock"] = v
        elif allow_target and a in ("-m", "-c"):
            if i + 1 >= len(args):
                raise UsageError(f"option {a} needs a value")
            opts["kind"] = "module" if a == "-m" else "code"
            opts["target"] = args[i + 1]
            return opts, args[i + 2:]
        elif a == "--":
            rest = args[i + 1:]
            break
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option '{a}' (see pyrometer --help)")
        elif allow_target:
            opts["kind"], opts["target"] = "script", a
            return opts, args[i + 1:]
        else:
            opts["files"].append(a)
            i += 1
    else:
        rest = []
    if allow_target and rest:
        opts["kind"], opts["target"] = "script", rest[0]
        return opts, rest[1:]
    if not allow_target:
        opts["files"].extend(rest)
    return opts, []


def cmd_report(args):
    opts, _ = parse_report_options(args, allow_target=False)
    if len(opts["files"]) != 1:
        raise UsageError("report takes exactly one profile file")
    path = opts["files"][0]
    try:
        if _lines.is_line_file(path):
            check_mode(opts, lines=True)
            stats = _lines.load(path)
            sys.stdout.write(_lines.format_report(stats, unit=opts["unit"] or 1e-6,
                                                  show_zero=opts["show_zero"]))
            return 0
        check_mode(opts, lines=False)
        profile = _convert.load(path, need_tree=False)   # the stats are what it prints
    except OSError as exc:
        return fail(f"cannot read '{path}': {os_reason(exc)}")
    except _api.FormatError as exc:
        return fail(str(exc).replace("pyrometer: ", "", 1))
    sort = check_sort(opts["sort"], sampled=profile.sampled)
    header = [time.ctime(os.stat(path).st_mtime) + "    " + path]
    try:
        text = _api.format_report(profile.stats, sort=sort, limit=opts["limit"],
                                  callers=opts["callers"], callees=opts["callees"],
                                  files=header, sampled=profile.sampled, unit=profile.unit)
    except ValueError as exc:   # an ambiguous sort key
        return fail(str(exc).replace("pyrometer: ", "", 1))
    sys.stdout.write(text)
    return 0


def cmd_run(args):
    opts, prog_args = parse_report_options(args, allow_target=True)
    if opts["target"] is None:
        raise UsageError("run needs a script, -m module or -c code")
    check_mode(opts, lines=opts["lines"])
    if opts["follow_fork"] and opts["outfile"] is None:
        raise UsageError("--follow-fork needs -o FILE (each child writes FILE.<pid>)")
    if opts["outfile"] is not None:
        # Resolved now: the program may change the working directory.
        opts["outfile_shown"] = opts["outfile"]
        opts["outfile"] = os.path.abspath(opts["outfile"])
        shown = opts["outfile_shown"]
        folder = os.path.dirname(opts["outfile"])
        if not os.path.isdir(folder):
            return fail(f"cannot write '{shown}': no such directory '{folder}'")
        if os.path.isdir(opts["outfile"]):
            return fail(f"cannot write '{shown}': it is a directory")
        if not os.access(folder, os.W_OK):
            return fail(f"cannot write '{shown}': directory is not writable")
        if opts["kind"] == "script" and same_file(opts["target"], opts["outfile"]):
            return fail(f"-o '{shown}' is the script itself: it would be replaced by the profile")
    try:
        target = _runner.Target.resolve(opts["kind"], opts["target"], prog_args)
    except _runner.TargetError as exc:
        return fail(str(exc))
    return _runner.run(target, opts)


def convert_usage():
    lines = ["convert formats:"]
    for f in _convert.FORMATS.values():
        lines.append(f"  {f.name:<12} {f.help}")
        for opt, (_key, _parse, default, text) in f.options.items():
            lines.append(f"      {opt} (default {default}): {text}")
    return "\n".join(lines) + "\n"


def cmd_convert(args):
    src = fmt_name = out = None
    raw = {}
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if name in ("-f", "--format"):
            fmt_name, i = take_value(args, i, name)
        elif name in ("-o", "--outfile"):
            out, i = take_value(args, i, name)
        elif a.startswith("-") and a != "-":
            v, i = take_value(args, i, name)
            raw[name] = v
        elif src is None:
            src, i = a, i + 1
        else:
            raise UsageError("convert takes exactly one input file")
    if src is None:
        raise UsageError("convert needs an input file")
    if fmt_name is None:
        raise UsageError(f"convert needs -f FORMAT (choose from {', '.join(_convert.FORMATS)})")
    fmt = _convert.FORMATS.get(fmt_name)
    if fmt is None:
        raise UsageError(f"unknown format '{fmt_name}' (choose from {', '.join(_convert.FORMATS)})")
    if out is None:
        raise UsageError("convert needs -o OUT")
    options = {}
    for opt, (key, parse, default, _text) in fmt.options.items():
        options[key] = default
    for opt, value in raw.items():
        if opt not in fmt.options:
            raise UsageError(f"option {opt} does not apply to the {fmt_name} format")
        key, parse, _default, _text = fmt.options[opt]
        try:
            options[key] = parse(value)
        except ValueError as exc:
            raise UsageError(f"bad value for {opt}: {exc}") from None
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        return fail(f"cannot write '{out}': no such directory '{folder}'")
    if same_file(src, out):
        return fail(f"-o '{out}' is the input itself: it would be replaced")
    try:
        if _lines.is_line_file(src):
            if fmt_name != "html":
                return fail(f"'{src}' is a line profile: only -f html converts it "
                            f"(the {fmt_name} format holds function profiles)")
            _convert.write_lines_html(src, _lines.load(src), out)
        else:
            profile = _convert.load(src)
            if fmt.needs_tree:
                _convert.check_tree(profile, fmt_name)
            fmt.write(profile, out, options)
    except OSError as exc:
        return fail(f"cannot read '{src}': {os_reason(exc)}" if exc.filename in (None, src)
                    else f"cannot write '{out}': {os_reason(exc)}")
    except _api.FormatError as exc:
        return fail(str(exc).replace("pyrometer: ", "", 1))
    except _convert.ConvertError as exc:
        return fail(str(exc))
    print(f"pyrometer: {fmt_name} written to {out}", file=sys.stderr)
    return 0


def has_magic(pattern):
    return any(c in pattern for c in "*?[")


def expand_inputs(args, out=None):
    """Input names with glob patterns expanded (sorted, `**` recursive): a
    shell that left a pattern quoted gets the same files.  A name that exists
    is taken as it is; a pattern matching nothing is an error.  The output
    file is left out of what a pattern matches (a second `merge *.prof -o
    all.prof` would add the first result in), with a note."""
    paths = []
    for arg in args:
        if not has_magic(arg) or os.path.exists(arg):
            paths.append(arg)
            continue
        import glob   # only for commands that expand patterns
        matches = sorted(glob.glob(arg, recursive=True))
        if out is not None and os.path.exists(out):
            kept = [m for m in matches if not os.path.samefile(m, out)]
            if len(kept) < len(matches):
                print(f"pyrometer: note: the output '{out}' matches '{arg}' and is left out",
                      file=sys.stderr)
            matches = kept
        if not matches:
            raise UsageError(f"no file matches '{arg}'")
        paths.extend(matches)
    return paths


class ProfileInputError(Exception):
    """An input of merge or diff that cannot be used: one line, exit code 2."""


def load_function_profile(path, command):
    """The function profile in `path` (_convert.LoadedProfile: .stats, .tree),
    or ProfileInputError saying why not."""
    try:
        if _lines.is_line_file(path):
            raise ProfileInputError(f"'{path}' is a line profile; {command} takes function "
                                    f"profiles (.prof)")
        return _convert.load(path)
    except OSError as exc:
        raise ProfileInputError(f"cannot read '{path}': {os_reason(exc)}") from None
    except _api.FormatError as exc:
        raise ProfileInputError(str(exc).replace("pyrometer: ", "", 1)) from None


def check_same_kind(profiles, command, verb):
    """Samples and calls (or samples with and without time) do not add up
    nor compare: ProfileInputError naming the first two that differ."""
    first = profiles[0]
    for p in profiles[1:]:
        if (p.sampled, p.unit) != (first.sampled, first.unit):
            raise ProfileInputError(
                f"cannot {command} '{first.path}' and '{p.path}': the first is {first.kind}, "
                f"the second {p.kind}, and the two do not {verb}")


def cmd_merge(args):
    inputs, out = [], None
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if name in ("-o", "--outfile"):
            out, i = take_value(args, i, name)
        elif a == "--":
            inputs.extend(args[i + 1:])
            break
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option '{a}' for merge (see pyrometer --help)")
        else:
            inputs.append(a)
            i += 1
    if out is None:
        raise UsageError("merge needs -o OUT")
    if not inputs:
        raise UsageError("merge needs at least one profile file")
    paths = expand_inputs(inputs, out)
    for p in paths:
        if same_file(p, out):
            return fail(f"-o '{out}' is one of the inputs ('{p}'): it would be replaced")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        return fail(f"cannot write '{out}': no such directory '{folder}'")
    try:
        profiles = [load_function_profile(p, "merge") for p in paths]
        check_same_kind(profiles, "merge", "add up")
    except ProfileInputError as exc:
        return fail(str(exc))
    try:
        stats, tree = _engine.merge_profiles([(p.stats, p.tree) for p in profiles], paths)
    except _api.FormatError as exc:
        return fail(str(exc).replace("pyrometer: ", "", 1))
    sampled = profiles[0].sampled   # kept: 3.15's pstats still reads it as sampled
    try:
        if tree is not None:
            _engine.dump_stats(out, stats, tree, sampled=sampled)
        else:
            _engine.dump_stats(out, stats, sampled=sampled)
    except OSError as exc:
        return fail(f"cannot write '{out}': {os_reason(exc)}")
    treeless = [p.path for p in profiles if p.tree is None]
    if treeless and len(treeless) < len(profiles):
        which = f"'{treeless[0]}'" + (f" and {len(treeless) - 1} more" if len(treeless) > 1 else "")
        print(f"pyrometer: note: call tree dropped: {which} "
              f"{'has' if len(treeless) == 1 else 'have'} none (a cProfile/pstats file keeps only "
              f"per-function statistics), so '{out}' holds the merged statistics without one",
              file=sys.stderr)
    print(f"pyrometer: {len(paths)} profiles merged into {out}", file=sys.stderr)
    return 0


DIFF_SORT_KEYS = {"tottime": "tottime", "time": "tottime", "cumtime": "cumtime",
                  "cumulative": "cumtime", "calls": "calls", "ncalls": "calls",
                  "samples": "calls", "nsamples": "calls"}


def check_percent(value, opt, upper=None):
    text = value[:-1] if value.endswith("%") else value
    try:
        pct = float(text)
    except ValueError:
        raise UsageError(f"{opt} takes a percentage such as 10, not '{value}'") from None
    if not (pct >= 0) or pct == float("inf") or (upper is not None and pct > upper):
        raise UsageError(f"{opt} takes a percentage from 0" + (f" to {upper:g}" if upper else ""))
    return pct


def cmd_diff(args):
    files = []
    opts = {"sort": "tottime", "limit": None, "fail_above": None, "min_share": 1.0}
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if name in ("-s", "--sort"):
            v, i = take_value(args, i, name)
            if v not in DIFF_SORT_KEYS:
                raise UsageError(f"unknown diff sort key '{v}' (choose tottime, cumtime or calls; "
                                 f"samples for sampled profiles)")
            opts["sort"] = DIFF_SORT_KEYS[v]
        elif name in ("-l", "--limit"):
            v, i = take_value(args, i, name)
            opts["limit"] = check_limit(v)
        elif name == "--fail-above":
            v, i = take_value(args, i, name)
            opts["fail_above"] = check_percent(v, name)
        elif name == "--min-share":
            v, i = take_value(args, i, name)
            opts["min_share"] = check_percent(v, name, upper=100)
        elif a == "--":
            files.extend(args[i + 1:])
            break
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option '{a}' for diff (see pyrometer --help)")
        else:
            files.append(a)
            i += 1
    if len(files) != 2:
        raise UsageError("diff takes two profile files: OLD NEW")
    try:
        old, new = (load_function_profile(p, "diff") for p in files)
        check_same_kind([old, new], "diff", "compare")
    except ProfileInputError as exc:
        return fail(str(exc))
    names = [time.ctime(os.stat(p).st_mtime) + "    " + p for p in files]
    text, failed = _engine.format_diff(old.stats, new.stats, old_name=names[0],
                                       new_name=names[1], sampled=old.sampled, unit=old.unit,
                                       **opts)
    sys.stdout.write(text)
    return 1 if failed else 0


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE + "\n" + convert_usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from . import __version__
        print(f"pyrometer {__version__}")
        return 0
    command, rest = args[0], args[1:]
    try:
        if command == "run":
            return cmd_run(rest)
        if command == "report":
            return cmd_report(rest)
        if command == "convert":
            return cmd_convert(rest)
        if command == "merge":
            return cmd_merge(rest)
        if command == "diff":
            return cmd_diff(rest)
        raise UsageError(f"unknown command '{command}' (choose run, report, convert, merge or diff)")
    except UsageError as exc:
        return fail(str(exc))
