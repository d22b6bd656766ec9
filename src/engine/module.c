/* module.c: the pyrometer._engine extension module: the profiler types of
 * the modes, and the functions of api/ (files, writers, memory) and hooks/. */
#include "api/py_files.h"
#include "api/py_heap.h"
#include "api/py_rss.h"
#include "api/py_tests.h"
#include "api/py_timeline.h"
#include "api/py_writers.h"
#include "core/clock.h"
#include "core/errors.h"
#include "formats/html_writer.h"
#include "formats/lines_file.h"
#include "formats/timeline_file.h"
#include "hooks/name_watch.h"
#include "hooks/term_signal.h"
#include "modes/function_mode.h"
#include "modes/line_mode.h"
#include "modes/timeline_mode.h"
#include "runtime/speed.h"

static PyObject *py_clock_name(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyUnicode_FromString(pyro_clock_name());
}

/* Tests: the test clock starts again at `start` ns and moves `step` ns at
 * every read. */
static PyObject *py_test_clock(PyObject *m, PyObject *args)
{
    (void)m;
    long long step = 1000, start = 0;
    if (!PyArg_ParseTuple(args, "|LL:_test_clock", &step, &start))
        return NULL;
    if (step <= 0) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the test clock's step must be positive");
        return NULL;
    }
    pyro_test_step = step;
    pyro_test_ticks = start;
    Py_RETURN_NONE;
}

/* The speed probe's ticks now, on the clock in use (runtime/speed.h). */
static PyObject *py_speed_probe(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyLong_FromLongLong(pyro_speed_probe());
}

static PyMethodDef module_methods[] = {
    {"write_timeline", (PyCFunction)(void (*)(void))pyro_py_write_timeline,
     METH_VARARGS | METH_KEYWORDS,
     "write_timeline(path, timeline, *, format='mem', cmd='', tree=None, metric='net',\n"
     "tree_kind='net', title=None): a Timeline written atomically as 'mem' (the saved\n"
     "timeline, docs/timeline-format.md), 'svg', 'html', 'mprof' or 'massif'; with a memory\n"
     "profile's call tree, its metric `metric` (bytes) as the heap's breakdown by call path\n"
     "('net': left alive at the end; 'peak': held at the heap's peak)."},
    {"read_timeline", pyro_py_read_timeline, METH_O,
     "read_timeline(path) -> dict: a saved timeline; OSError if unreadable, FormatError if\n"
     "it is not one or damaged."},
    {"convert_timeline", (PyCFunction)(void (*)(void))pyro_py_convert_timeline,
     METH_VARARGS | METH_KEYWORDS,
     "convert_timeline(path, out, format, *, title=None): a saved timeline written as\n"
     "'svg' or 'html' (memory against time), 'mprof' (memory_profiler's .dat), 'massif'\n"
     "(valgrind massif's massif.out) or 'mem' again, atomically."},
    {"_speed_probe", py_speed_probe, METH_NOARGS,
     "_speed_probe() -> ticks of the clock in use that the speed probe's work takes now."},
    {"_calltree_run", (PyCFunction)(void (*)(void))pyro_py_calltree_run,
     METH_VARARGS | METH_KEYWORDS,
     "_calltree_run(script, fold_depth=64, node_limit=0, cost=0, floor=0) -> (stats, tree, info):\n"
     "tests:\n"
     "the call-tree table driven by [(\"call\"|\"return\"|\"resync\", code), ...] on the\n"
     "test clock, with no hooks."},
    {"_test_clock", py_test_clock, METH_VARARGS,
     "_test_clock(step=1000, start=0): tests: the 'test' clock starts again at `start` ns\n"
     "and moves `step` ns at every read."},
    {"dump_stats", (PyCFunction)(void (*)(void))pyro_py_dump_stats, METH_VARARGS | METH_KEYWORDS,
     "dump_stats(path, stats, tree=None, *, sampled=False): write a pstats dict as a .prof\n"
     "file, and the call tree (docs/tree-format.md) after it when given, atomically; a\n"
     "sampled profile (or stats that carry the marker) gets 3.15's ('__sampled__',): True."},
    {"load_profile", pyro_py_load_profile, METH_O,
     "load_profile(path) -> (stats, tree or None): the stats as load_stats reads them (without\n"
     "3.15's sampled marker) and pyrometer's call tree when the file has one; collapsed\n"
     "stacks too (read_profile tells which); FormatError if it is corrupt."},
    {"read_profile", (PyCFunction)(void (*)(void))pyro_py_read_profile,
     METH_VARARGS | METH_KEYWORDS,
     "read_profile(path, *, tree=True) -> {'stats', 'tree', 'sampled', 'unit', 'format'}:\n"
     "with tree=False a damaged call tree in a .prof is left out, not an error.  A .prof file\n"
     "(ours, cProfile's, or 3.15's profiling.sampling --pstats, whose marker is taken out:\n"
     "sampled True) or collapsed stacks (format 'collapsed', sampled, unit 'samples': the\n"
     "stats' times are sample counts); OSError if unreadable, FormatError if not a profile."},
    {"write_collapsed", (PyCFunction)(void (*)(void))pyro_py_write_collapsed,
     METH_VARARGS | METH_KEYWORDS,
     "write_collapsed(path, tree, *, metric=None, full_paths=False): collapsed stacks, one\n"
     "'frame;frame;frame value' line per call path, root first, value = the path's self time\n"
     "in whole microseconds; files named <stdlib>/..., <site-packages>/... and below the\n"
     "program's folder unless full_paths, paths that read the same on one line."},
    {"write_speedscope", (PyCFunction)(void (*)(void))pyro_py_write_speedscope,
     METH_VARARGS | METH_KEYWORDS,
     "write_speedscope(path, tree, *, name='profile', unit='seconds', exporter='pyrometer'):\n"
     "speedscope's JSON file format, one sampled profile weighted by self time."},
    {"write_flamegraph", (PyCFunction)(void (*)(void))pyro_py_write_flamegraph,
     METH_VARARGS | METH_KEYWORDS,
     "write_flamegraph(path, tree, *, title='Flame graph', subtitle=None, width=1200,\n"
     "min_width=0.1): an interactive, self-contained SVG flame graph."},
    {"clock_name", py_clock_name, METH_NOARGS, "The clock in use."},
    {"load_stats", pyro_py_load_stats, METH_O,
     "load_stats(path) -> dict: read a .prof file (cProfile's, profile's, 3.15's sampler's\n"
     "with its marker, or ours) as marshal.load would; OSError if unreadable, FormatError\n"
     "if not a profile."},
    {"format_report", (PyCFunction)(void (*)(void))pyro_py_format_report,
     METH_VARARGS | METH_KEYWORDS,
     "format_report(stats, *, sort=('cumulative',), limit=None, files=(), mode='stats',\n"
     "layout='columns', color=False, width=0) -> str: the text of pstats.Stats(...).sort_stats(*sort)\n"
     ".print_stats(limit) (mode 'stats'), print_callers(limit) ('callers') or\n"
     "print_callees(limit) ('callees').  layout 'columns': each column of times in one\n"
     "fixed-point notation that shows its smallest value, columns as wide as their\n"
     "widest cell, and a '%' column (cumtime's share of the total); 'pstats': pstats'\n"
     "text, byte for byte.  limit: None, an int, a float fraction, a regex str or a tuple\n"
     "of them; files: the header lines print_stats() starts with.  sampled=None (True:\n"
     "samples, in 3.15's SampledStats' words; None: as 3.15's ('__sampled__',) marker in\n"
     "stats says), unit='seconds' ('samples': no time known, a table of samples and\n"
     "shares).  In columns, color=True: rows of 10 % of the own time (or samples) and more\n"
     "in bold red, of 2 % in yellow; width=N: names of the table shortened from the left\n"
     "to fit N columns (0: never)."},
    {"write_lines", pyro_py_write_lines, METH_VARARGS,
     "write_lines(path, stats): save LineProfiler.get_stats() atomically."},
    {"read_lines", pyro_py_read_lines, METH_O,
     "read_lines(path) -> dict: a saved line profile; OSError if unreadable,\n"
     "FormatError if not a line profile or damaged."},
    {"merge_lines", pyro_py_merge_lines, METH_O,
     "merge_lines(profiles) -> dict: line profiles added up: functions by (file, first\n"
     "line, name), each line's hits and values summed in the finest unit of the inputs;\n"
     "ValueError if they measure different things."},
    {"read_lprof", pyro_py_read_lprof, METH_O,
     "read_lprof(path) -> dict: line_profiler's .lprof (a pickled LineStats, read without\n"
     "unpickling) as a line profile whose sources are None; OSError if unreadable,\n"
     "FormatError if it is anything else."},
    {"format_lines", (PyCFunction)(void (*)(void))pyro_py_format_lines,
     METH_VARARGS | METH_KEYWORDS,
     "format_lines(stats, unit=None, show_zero=False, color=False) -> str: the report in\n"
     "line_profiler's layout, times in `unit` seconds (None: the largest of 1e-6 ... 1e-9\n"
     "in which every line that ran reads at least 1.0 per hit); color: lines of 10 % of\n"
     "all the time and more in bold red, of 2 % in yellow."},
    {"write_lines_json", pyro_py_write_lines_json, METH_VARARGS,
     "write_lines_json(path, stats): a line profile as JSON, one entry per line with each of\n"
     "its metrics (time in seconds, allocated_bytes, net_bytes...), atomically."},
    {"format_lines_memory", (PyCFunction)(void (*)(void))pyro_py_format_lines_memory,
     METH_VARARGS | METH_KEYWORDS,
     "format_lines_memory(stats, *, rss_start=0.0) -> str: a line profile with memory in\n"
     "memory_profiler's layout (Mem usage, Increment, Occurrences) with the exact Allocated\n"
     "and Blocks beside; rss_start: the RSS in bytes when profiling began."},
    {"write_callgrind", (PyCFunction)(void (*)(void))pyro_py_write_callgrind,
     METH_VARARGS | METH_KEYWORDS,
     "write_callgrind(path, stats, creator='pyrometer', *, tree=None, metric=None, sampled=None):\n"
     "write a pstats dict in the Callgrind format (KCachegrind, QCachegrind, callgrind_annotate),\n"
     "costs in ns (a sampled profile's in samples), atomically."},
    {"write_dot", (PyCFunction)(void (*)(void))pyro_py_write_dot, METH_VARARGS | METH_KEYWORDS,
     "write_dot(path, stats, node_threshold=0.5, edge_threshold=0.1): write the call graph of\n"
     "a pstats dict as Graphviz dot, atomically; functions and calls under the thresholds\n"
     "(in % of the total time) left out."},
    {"format_lines_diff", (PyCFunction)(void (*)(void))pyro_py_format_lines_diff,
     METH_VARARGS | METH_KEYWORDS,
     "format_lines_diff(old, new, *, old_name='old', new_name='new') -> str: two line\n"
     "profiles compared line by line (functions by name and file name, lines by text)."},
    {"rekey", (PyCFunction)(void (*)(void))pyro_py_rekey, METH_VARARGS | METH_KEYWORDS,
     "rekey(stats, tree, map) -> (stats, tree): the profile with its function keys (and\n"
     "callers', and the tree's funcs) renamed by `map`, {old key: new key}; stats whose\n"
     "keys become one are added up as pstats adds them (the tree's funcs must not)."},
    {"strip_dirs", pyro_py_strip_dirs, METH_O,
     "strip_dirs(stats) -> dict: pstats' Stats.strip_dirs(): files without their folders,\n"
     "the functions (and callers) that become one added up."},
    {"path_split", (PyCFunction)pyro_py_path_split, METH_O,
     "path_split(file) -> (label, rest, library): '<stdlib>/' or '<site-packages>/' and the\n"
     "path below that folder (or '' and the file), and whether it is library code."},
    {"keep_frames", (PyCFunction)(void (*)(void))pyro_py_keep_frames,
     METH_VARARGS | METH_KEYWORDS,
     "keep_frames(tree, keep) -> (stats, tree, hidden): the profile with the frames of the\n"
     "functions whose flag in `keep` (one per tree['funcs']) is false taken out, their\n"
     "time given to the nearest kept frame above; the stats rebuilt from that tree."},
    {"group_frames", (PyCFunction)(void (*)(void))pyro_py_group_frames,
     METH_VARARGS | METH_KEYWORDS,
     "group_frames(tree, group_of, groups) -> (stats, tree, merged): each function i\n"
     "becomes groups[group_of[i]] (a pstats key; -1: taken out), frames of one group\n"
     "calling each other one frame; the stats rebuilt from that tree."},
    {"fold_imports", (PyCFunction)(void (*)(void))pyro_py_fold_imports,
     METH_VARARGS | METH_KEYWORDS,
     "fold_imports(tree) -> (stats, tree, imports): the profile with the import system's\n"
     "frames folded into one '<import module>' node per imported module and an\n"
     "'<import system>' node; the stats rebuilt from the folded tree."},
    {"format_tree", (PyCFunction)(void (*)(void))pyro_py_format_tree,
     METH_VARARGS | METH_KEYWORDS,
     "format_tree(tree, *, root=None, min_share=0.01, max_lines=60, metric=None) -> str: the\n"
     "call tree for a terminal, the user's frames shown and the library frames under them\n"
     "folded (files under `root` shown relative to it)."},
    {"format_dot", (PyCFunction)(void (*)(void))pyro_py_format_dot, METH_VARARGS | METH_KEYWORDS,
     "format_dot(stats, node_threshold=0.5, edge_threshold=0.1, *, tree=None, metric=None,\n"
     "sampled=None) -> bytes: the text write_dot writes (a sampled profile in samples)."},
    {"write_file", pyro_py_write_file, METH_VARARGS,
     "write_file(path, data): write bytes to path atomically (temp file + rename)."},
    {"merge_profiles", (PyCFunction)(void (*)(void))pyro_py_merge_profiles,
     METH_VARARGS | METH_KEYWORDS,
     "merge_profiles(profiles, names=None) -> (stats, tree or None): add up profiles given\n"
     "as (stats, tree or None) pairs.  The stats as pstats' Stats(first).add(second)...\n"
     "computes them; the call trees path by path, if every profile has one (else None).\n"
     "names label the profiles in errors; FormatError for a damaged profile."},
    {"format_diff", (PyCFunction)(void (*)(void))pyro_py_format_diff,
     METH_VARARGS | METH_KEYWORDS,
     "format_diff(old, new, *, sort='tottime', limit=None, fail_above=None, min_share=1.0,\n"
     "            old_name='old', new_name='new') -> (text, failed): the per-function\n"
     "comparison of two pstats dicts as a table, sorted by the absolute change of\n"
     "tottime, cumtime or calls.  With fail_above (percent), failed tells whether the\n"
     "total tottime, or that of a function holding at least min_share percent of the\n"
     "total on either side, grew by more than that.  sampled and unit as format_report's\n"
     "(both profiles the same kind)."},
    {"write_html", (PyCFunction)(void (*)(void))pyro_py_write_html, METH_VARARGS | METH_KEYWORDS,
     "write_html(path, template, *, stats=None, tree=None, lines=None, meta=None):\n"
     "the HTML report of a function profile (pstats dict + call tree or None) or of\n"
     "a line profile, spliced into `template` at its data marker, atomically; meta:\n"
     "{str: str} for the summary; sampled=None: a sampled profile's table in samples."},
    {"file_head", pyro_py_file_head, METH_VARARGS,
     "file_head(path, n) -> bytes: the first n bytes (at most 64) of a regular file;\n"
     "OSError, one line, for anything else (a FIFO, a device, a folder)."},
    {"name_watch", pyro_py_name_watch, METH_VARARGS,
     "name_watch(name, callback): call callback(code) before exec() runs code whose\n"
     "names (or those of the code it defines) include `name`, until name_unwatch()."},
    {"name_unwatch", pyro_py_name_unwatch, METH_NOARGS, "name_unwatch(): stop name_watch."},
    {"term_watch", pyro_py_term_watch, METH_VARARGS,
     "term_watch(callback, grace=10.0) -> bool: on SIGTERM, call callback() from a thread\n"
     "of ours with the GIL, then die of SIGTERM; only if SIGTERM has its default action."},
    {"term_unwatch", pyro_py_term_unwatch, METH_NOARGS,
     "term_unwatch(): give SIGTERM its default action back."},
    {"rss_now", pyro_py_rss_now, METH_NOARGS,
     "rss_now() -> the process's resident set size in bytes, or None where the system\n"
     "does not tell (Linux: /proc/self/statm)."},
    {"rss_process_peak", pyro_py_rss_process_peak, METH_NOARGS,
     "rss_process_peak() -> the process's peak RSS since it began, in bytes, or None\n"
     "(getrusage, and the marks RSSBlock read before it reset the kernel's)."},
    {"heap_census", (PyCFunction)(void (*)(void))pyro_py_heap_census,
     METH_VARARGS | METH_KEYWORDS,
     "heap_census(shortnames=True) -> HeapCensus: the objects the collector tracks and their\n"
     "shallow bytes, per type name (__name__, or module.__qualname__), counted in C."},
    {"heap_growth", (PyCFunction)(void (*)(void))pyro_py_heap_growth,
     METH_VARARGS | METH_KEYWORDS,
     "heap_growth(later, earlier=None, limit=None) -> [(name, objects, growth, bytes,\n"
     "bytes_growth)]: the types whose objects or bytes grew since `earlier` (None: all),\n"
     "the most new objects first."},
    {"format_growth", (PyCFunction)(void (*)(void))pyro_py_format_growth,
     METH_VARARGS | METH_KEYWORDS,
     "format_growth(later, earlier=None, limit=None) -> str: heap_growth's rows in\n"
     "objgraph's show_growth() layout, with the bytes' growth."},
    {"shallow_size", pyro_py_shallow_size, METH_O,
     "shallow_size(obj) -> bytes as heap_census counts them: a C __sizeof__, else\n"
     "tp_basicsize + tp_itemsize x |ob_size| (sys.getsizeof less the GC header)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef engine_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyrometer._engine",
    .m_doc = "Pyrometer's profiling engine.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__engine(void)
{
    if (PyType_Ready(&pyro_ProfilerType) < 0 || PyType_Ready(&pyro_LineProfilerType) < 0
        || PyType_Ready(&pyro_RSSBlockType) < 0 || PyType_Ready(&pyro_HeapCensusType) < 0
        || PyType_Ready(&pyro_TimelineType) < 0 || PyType_Ready(&pyro_TimelineBracketType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&engine_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&pyro_ProfilerType);
    if (PyModule_AddObject(m, "Profiler", (PyObject *)&pyro_ProfilerType) < 0) {
        Py_DECREF(&pyro_ProfilerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&pyro_LineProfilerType);
    if (PyModule_AddObject(m, "LineProfiler", (PyObject *)&pyro_LineProfilerType) < 0) {
        Py_DECREF(&pyro_LineProfilerType);
        Py_DECREF(m);
        return NULL;
    }
    PyTypeObject *memory_types[] = {&pyro_RSSBlockType, &pyro_HeapCensusType,
                                    &pyro_TimelineType, &pyro_TimelineBracketType};
    for (size_t i = 0; i < sizeof memory_types / sizeof memory_types[0]; i++) {
        const char *dot = strrchr(memory_types[i]->tp_name, '.');
        Py_INCREF(memory_types[i]);
        if (PyModule_AddObject(m, dot + 1, (PyObject *)memory_types[i]) < 0) {
            Py_DECREF(memory_types[i]);
            Py_DECREF(m);
            return NULL;
        }
    }
    pyro_FormatError = PyErr_NewExceptionWithDoc(
        "pyrometer._engine.FormatError", "A file that is not a profile.", PyExc_ValueError, NULL);
    if (pyro_FormatError == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(pyro_FormatError);
    if (PyModule_AddObject(m, "FormatError", pyro_FormatError) < 0) {
        Py_DECREF(pyro_FormatError);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "EVENT_SOURCE",
                                   PYRO_HAVE_MONITORING ? "sys.monitoring" : "PyEval_SetProfile") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    PyObject *magic = PyBytes_FromString(PYRO_LINES_MAGIC);
    if (magic == NULL || PyModule_AddObject(m, "LINES_MAGIC", magic) < 0) {
        Py_XDECREF(magic);
        Py_DECREF(m);
        return NULL;
    }
    magic = PyBytes_FromString(PYRO_TIMELINE_MAGIC);
    if (magic == NULL || PyModule_AddObject(m, "TIMELINE_MAGIC", magic) < 0) {
        Py_XDECREF(magic);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
