"""`pyrometer convert IN -f FORMAT -o OUT`: the registry of output formats.

Each format is a writer in the C engine; this module only names them, tells
which options each takes, and loads the input.  A format registers itself
with `register()`; `FORMATS` is what `convert` offers.
"""
import os
import time

from . import _api, _engine


class ConvertError(Exception):
    """Bad input for a conversion: one line for the user, exit code 2."""


class Format:
    def __init__(self, name, write, needs_tree, options, help):
        self.name = name
        self.write = write            # write(profile, out_path, options)
        self.needs_tree = needs_tree  # needs the call tree (not in cProfile files)
        self.options = options        # {"--option": (key, parse, default, help)}
        self.help = help


FORMATS = {}


def register(name, needs_tree=False, options=None, help=""):
    """Decorator: make `write(profile, out_path, options)` the writer of `name`."""
    def deco(write):
        FORMATS[name] = Format(name, write, needs_tree, dict(options or {}), help)
        return write
    return deco


class LoadedProfile:
    """A profile read from a file: the pstats dict and, for pyrometer's own
    files and collapsed stacks, the call tree (docs/tree-format.md); tree is
    None for cProfile's.  `sampled`: its counts are samples (CPython 3.15's
    profiling.sampling, collapsed stacks); `unit`: what its tottime and
    cumtime hold, "seconds", or "samples" when no time is known (collapsed
    stacks); `format`: "prof" or "collapsed"."""

    def __init__(self, path, stats, tree, sampled=False, unit="seconds", format="prof",
                 meta=None):
        self.path = path
        self.stats = stats
        self.tree = tree
        self.sampled = sampled
        self.unit = unit
        self.format = format
        # how it was measured (clock, compensation...), when the file says
        self.meta = meta if meta is not None else (
            tree.get("meta") if isinstance(tree, dict) and isinstance(tree.get("meta"), dict)
            else None)

    # the call tree's metric the tree formats and graphs draw (None: the
    # first, time); a memory profile has allocated, allocations, net, peak
    metric = None

    def like(self, stats, tree):
        """The same profile shown otherwise (imports folded, frames hidden)."""
        shown = LoadedProfile(self.path, stats, tree, self.sampled, self.unit, self.format,
                              self.meta)
        shown.metric = self.metric
        return shown

    def graph_args(self):
        """What the graph writers take to draw the chosen metric: its tree
        and name when one is chosen, else nothing (the pstats times)."""
        return {"tree": self.tree, "metric": self.metric} if self.metric else {}

    @property
    def kind(self):
        """What its counts count, in words: for messages."""
        if not self.sampled:
            return "a traced profile (calls)"
        if self.unit == "samples":
            return "sampled stacks without time (sample counts only)"
        return "a sampled profile (with times)"


def load(path, need_tree=True):
    """Read a function profile: ours, cProfile's, 3.15's profiling.sampling
    --pstats, or collapsed stacks. OSError or FormatError (without
    `need_tree`, not for a damaged call tree, which is then left out)."""
    path = os.fspath(path)
    got = _engine.read_profile(path, tree=need_tree)
    return LoadedProfile(path, got["stats"], got["tree"], got["sampled"], got["unit"],
                         got["format"])


def check_tree(profile, fmt):
    if profile.tree is None:
        hint = ("write collapsed stacks with 'python -m profiling.sampling run --collapsed' "
                "for the stacks" if profile.sampled else
                "profile with 'pyrometer run -o FILE.prof' to get the tree")
        raise ConvertError(
            f"'{profile.path}' has no call tree (a pstats file keeps only "
            f"per-function totals and caller->callee edges), so the {fmt} format, which "
            f"is built from call paths, cannot be rebuilt from it; {hint}, or use -f "
            f"callgrind, dot, svg, png, html or prof")


def _write_prof(profile, out, options):
    if profile.tree is not None:
        _engine.dump_stats(out, profile.stats, profile.tree, sampled=profile.sampled)
    else:
        _engine.dump_stats(out, profile.stats, sampled=profile.sampled)


register("prof", help="pstats .prof (with the call tree when the input has one; a sampled "
                      "profile keeps 3.15's sampled marker)")(_write_prof)


# ---- call graphs: callgrind, dot, svg, png ---------------------------------

def _percent(text):
    value = float(text)
    if not 0.0 <= value <= 100.0:   # also refuses nan
        raise ValueError(f"{text!r} is not a percentage from 0 to 100")
    return value


GRAPH_OPTIONS = {
    "--node-threshold": ("node_threshold", _percent, 0.5,
                         "leave out functions under this % of the total time"),
    "--edge-threshold": ("edge_threshold", _percent, 0.1,
                         "leave out calls under this % of the total time"),
}


def _write_callgrind(profile, out, options):
    from . import __version__
    _engine.write_callgrind(out, profile.stats, f"pyrometer {__version__}",
                            sampled=profile.sampled, **profile.graph_args())


def _write_dot(profile, out, options):
    _engine.write_dot(out, profile.stats, options["node_threshold"], options["edge_threshold"],
                      sampled=profile.sampled, **profile.graph_args())


def _renderer(kind):
    """The writer of -f svg / -f png: the dot text, drawn by Graphviz's dot."""
    def write(profile, out, options):
        import shutil
        import subprocess
        dot = shutil.which("dot")
        if dot is None:
            raise ConvertError(
                f"-f {kind} needs Graphviz, which is not installed ('dot' is not on PATH): "
                f"install it (apt-get install graphviz, dnf install graphviz, brew install "
                f"graphviz, or https://graphviz.org/download/), or use -f dot to write the "
                f"graph without it")
        text = _engine.format_dot(profile.stats, options["node_threshold"],
                                  options["edge_threshold"], sampled=profile.sampled,
                                  **profile.graph_args())
        try:
            done = subprocess.run([dot, f"-T{kind}"], input=text, capture_output=True)
        except OSError as exc:
            raise ConvertError(f"cannot run Graphviz's dot ({dot}): {exc.strerror or exc}") from None
        if done.returncode != 0 or not done.stdout:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ConvertError(f"Graphviz's dot failed to draw the {kind} (exit code "
                               f"{done.returncode}){': ' + why[-1] if why else ''}")
        # written the way every format is: temp file beside OUT, then rename
        _engine.write_file(out, done.stdout)
    return write


register("callgrind", help="Callgrind profile for KCachegrind/QCachegrind (time in ns)")(
    _write_callgrind)
register("dot", options=GRAPH_OPTIONS, help="Graphviz call graph, as gprof2dot draws it")(
    _write_dot)
register("svg", options=GRAPH_OPTIONS, help="the call graph drawn as SVG (needs Graphviz)")(
    _renderer("svg"))
register("png", options=GRAPH_OPTIONS, help="the call graph drawn as PNG (needs Graphviz)")(
    _renderer("png"))

# ---- formats built from the call tree (C writers in src/engine/formats/) ----

def _tree_writer(name):
    def deco(write):
        def checked(profile, out, options):
            check_tree(profile, name)
            write(profile, out, options)
        return checked
    return deco


@register("collapsed", needs_tree=True,
          help="collapsed stacks for flamegraph.pl, Pyroscope, speedscope: one "
               "'frame;frame;frame value' line per call path, root first, frames "
               "'name (file:line)' with files named <stdlib>/..., <site-packages>/... and "
               "below the program's folder (--full-paths: whole), value = the path's self "
               "time in whole microseconds (paths under 0.5 us left out), or its samples "
               "for sampled stacks")
@_tree_writer("collapsed")
def _write_collapsed(profile, out, options):
    _engine.write_collapsed(out, profile.tree, full_paths=options.get("full_paths", False),
                            metric=profile.metric)


def _speedscope_unit(value):
    if value not in ("seconds", "microseconds"):
        raise ValueError(f"choose seconds or microseconds, not '{value}'")
    return value


@register("speedscope", needs_tree=True,
          options={"--unit": ("unit", _speedscope_unit, "seconds",
                              "weights in seconds or microseconds")},
          help="speedscope's JSON file format (one sampled profile: a stack per call "
               "path, weighted by its self time); open it at speedscope.app")
@_tree_writer("speedscope")
def _write_speedscope(profile, out, options):
    from . import __version__
    _engine.write_speedscope(out, profile.tree, name=os.path.basename(profile.path),
                             unit=options["unit"], exporter=f"pyrometer@{__version__}",
                             metric=profile.metric)


def _pixels(kind, low, high):
    def parse(value):
        x = kind(value)
        if not low <= x <= high:
            raise ValueError(f"{value} is not in {low}..{high}")
        return x
    return parse


@register("flamegraph", needs_tree=True,
          options={"--title": ("title", str, "Flame graph", "the title at the top"),
                   "--width": ("width", _pixels(int, 200, 100000), 1200, "width in pixels"),
                   "--min-width": ("min_width", _pixels(float, 0.0, 1e6), 0.1,
                                   "leave out paths narrower than this many pixels")},
          help="interactive SVG flame graph (self-contained: hover for details, click "
               "to zoom, Search or Ctrl-F to highlight); width = total time")
@_tree_writer("flamegraph")
def _write_flamegraph(profile, out, options):
    _engine.write_flamegraph(out, profile.tree, title=options["title"],
                             subtitle=os.path.basename(profile.path), width=options["width"],
                             min_width=options["min_width"], metric=profile.metric)


# ---- the HTML report: the page is package data, the writer is C -----------

HTML_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_html", "report.html")


def _html_template():
    with open(HTML_TEMPLATE, encoding="utf-8") as f:
        return f.read()


def _html_meta(path):
    """What the page's summary says about the input file."""
    meta = {"file": os.path.abspath(path)}
    try:
        meta["profiled"] = time.ctime(os.stat(path).st_mtime)
    except OSError:
        pass
    return meta


def _write_html(profile, out, options):
    meta = _html_meta(profile.path)
    meta.update(profile.meta or {})
    _engine.write_html(out, _html_template(), stats=profile.stats, tree=profile.tree,
                       meta=meta, sampled=profile.sampled, metric=profile.metric)


register("html", help="a self-contained HTML page: sortable function table, icicle view of the "
                      "call tree, callers/callees; for line profiles, source with per-line heat")(
    _write_html)


def write_lines_html(path, stats, out):
    """The HTML page of a line profile (a dict as _lines.load gives)."""
    _engine.write_html(out, _html_template(), lines=stats, meta=_html_meta(path))


# ---- memory timelines: written from a .mem file (_tools.convert_timeline) ----

def _timeline_only(name):
    def write(profile, out, options):
        raise ConvertError(f"the {name} format holds memory over time: convert a timeline "
                           f"('pyrometer run --timeline -o run.mem'), not a profile")
    return write


register("mprof", help="memory_profiler's mprof .dat (from a timeline: pyrometer run "
                       "--timeline): CMDLINE, MEM and FUNC lines, for mprof plot")(
    _timeline_only("mprof"))
register("massif", help="valgrind massif's massif.out (from a timeline), for ms_print and "
                        "massif-visualizer: snapshots in ms, the peak's call paths with "
                        "--memory")(_timeline_only("massif"))
