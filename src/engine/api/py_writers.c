/* py_writers.c: the writers as functions of the _engine module (see
 * py_writers.h). */
#include "api/py_writers.h"
#include "formats/diff.h"
#include "formats/graph_writers.h"
#include "formats/html_writer.h"
#include "formats/lines_diff.h"
#include "formats/lines_file.h"
#include "formats/merge.h"
#include "formats/report.h"
#include "formats/stack_writers.h"
#include "formats/tree_report.h"
#include "model/callgraph.h"
#include "model/fold_imports.h"
#include "model/keep_frames.h"
#include "model/portable_path.h"
#include "model/relocate.h"
#include "model/pstats_shape.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The view of a tree dict, drawing the metric named `metric` (None: the
 * first).  0, or -1 + exception (nothing to release then). */
static int view_of(PyObject *tree, PyObject *metric, pyro_stack_view *v)
{
    if (pyro_stack_view_of_arg(v, tree) < 0)
        return -1;
    if (metric != NULL && metric != Py_None) {
        const char *name = PyUnicode_Check(metric) ? PyUnicode_AsUTF8(metric) : NULL;
        if (name == NULL || pyro_stack_view_select(v, name) < 0) {
            if (name == NULL && !PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "pyrometer: metric must be a str");
            pyro_stack_view_release(v);
            return -1;
        }
    }
    return 0;
}

/* `stats` without 3.15's sampled marker (a new reference), and what its
 * counts count (PYRO_KIND_*): samples when `sampled` is true or the marker
 * was there, their times sample counts when `unit` is "samples".  NULL +
 * exception on failure. */
static PyObject *plain_stats(PyObject *stats, PyObject *sampled, const char *unit, int *kind)
{
    int marked = 0, wanted = 0;
    if (sampled != NULL && sampled != Py_None && (wanted = PyObject_IsTrue(sampled)) < 0)
        return NULL;
    int counts = unit != NULL && strcmp(unit, "samples") == 0;
    if (unit != NULL && !counts && strcmp(unit, "seconds") != 0)
        return PyErr_Format(PyExc_ValueError,
                            "pyrometer: unit must be 'seconds' or 'samples', not '%.50s'", unit);
    PyObject *plain = pyro_stats_unmark(stats, &marked);
    if (plain == NULL)
        return NULL;
    *kind = counts ? PYRO_KIND_SAMPLE_COUNTS
          : marked || wanted ? PYRO_KIND_SAMPLED : PYRO_KIND_TRACED;
    return plain;
}

/* A str argument as UTF-8 (NULL stays NULL); a PyMem_Raw copy. */
static int utf8_arg(PyObject *o, char **out)
{
    *out = NULL;
    if (o == NULL || o == Py_None)
        return 0;
    return (*out = pyro_utf8_dup(o, NULL)) != NULL ? 0 : -1;
}

/* Write what `out` holds to `path` (str or bytes path), then free it. */
static PyObject *finish(pyro_text *out, int rc, PyObject *path)
{
    if (rc == 0 && pyro_text_write(out, path) == 0)
        Py_RETURN_NONE;
    pyro_text_free(out);
    return NULL;
}

PyObject *pyro_py_write_collapsed(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "tree", "metric", "full_paths", NULL};
    PyObject *path, *tree, *metric = NULL;
    int full_paths = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$Op:write_collapsed", kwlist,
                                     &path, &tree, &metric, &full_paths))
        return NULL;
    pyro_stack_view v;
    if (view_of(tree, metric, &v) < 0)
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    int rc = pyro_write_collapsed(&v, full_paths, &out);
    pyro_stack_view_release(&v);
    return finish(&out, rc, path);
}

PyObject *pyro_py_write_speedscope(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "tree", "name", "unit", "exporter", "metric", NULL};
    PyObject *path, *tree, *name_obj = NULL, *exporter_obj = NULL, *metric = NULL;
    const char *unit = "seconds";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$UsUO:write_speedscope", kwlist,
                                     &path, &tree, &name_obj, &unit, &exporter_obj, &metric))
        return NULL;
    pyro_speedscope_opts o = {0};
    if (strcmp(unit, "microseconds") == 0)
        o.microseconds = 1;
    else if (strcmp(unit, "seconds") != 0) {
        PyErr_Format(PyExc_ValueError,
                     "pyrometer: unknown unit '%s' (choose seconds or microseconds)", unit);
        return NULL;
    }
    char *name = NULL, *exporter = NULL;
    if (utf8_arg(name_obj, &name) < 0 || utf8_arg(exporter_obj, &exporter) < 0) {
        PyMem_RawFree(name);
        return NULL;
    }
    o.name = name;
    o.exporter = exporter;
    PyObject *result = NULL;
    pyro_stack_view v;
    if (view_of(tree, metric, &v) == 0) {
        pyro_text out = PYRO_TEXT_INIT;
        int rc = pyro_write_speedscope(&v, &o, &out);
        pyro_stack_view_release(&v);
        result = finish(&out, rc, path);
    }
    PyMem_RawFree(name);
    PyMem_RawFree(exporter);
    return result;
}

PyObject *pyro_py_write_flamegraph(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "tree", "title", "subtitle", "width", "min_width", "metric",
                             NULL};
    PyObject *path, *tree, *title_obj = NULL, *subtitle_obj = NULL, *metric = NULL;
    pyro_flame_opts o = {.width = 1200, .min_width = 0.1};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$UUidO:write_flamegraph", kwlist,
                                     &path, &tree, &title_obj, &subtitle_obj,
                                     &o.width, &o.min_width, &metric))
        return NULL;
    if (o.width < 200 || o.width > 100000) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the width must be 200 to 100000 pixels");
        return NULL;
    }
    if (!(o.min_width >= 0) || !isfinite(o.min_width)) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the minimum width must be 0 or more pixels");
        return NULL;
    }
    char *title = NULL, *subtitle = NULL;
    if (utf8_arg(title_obj, &title) < 0 || utf8_arg(subtitle_obj, &subtitle) < 0) {
        PyMem_RawFree(title);
        return NULL;
    }
    o.title = title;
    o.subtitle = subtitle;
    PyObject *result = NULL;
    pyro_stack_view v;
    if (view_of(tree, metric, &v) == 0) {
        pyro_text out = PYRO_TEXT_INIT;
        int rc = pyro_write_flamegraph(&v, &o, &out);
        pyro_stack_view_release(&v);
        result = finish(&out, rc, path);
    }
    PyMem_RawFree(title);
    PyMem_RawFree(subtitle);
    return result;
}

/* The call graph a graph writer draws: from the tree's metric when a tree
 * is given with a metric (or without stats), else from the pstats dict,
 * in samples for a sampled profile.  0, or -1 + exception (nothing to
 * free then). */
static int graph_of(PyObject *stats, PyObject *tree, PyObject *metric, PyObject *sampled,
                    pyro_callgraph *g)
{
    if (tree != NULL && tree != Py_None
        && (stats == NULL || stats == Py_None || (metric != NULL && metric != Py_None))) {
        pyro_stack_view v;
        if (view_of(tree, metric, &v) < 0)
            return -1;
        int rc = pyro_callgraph_from_view(&v, g);
        pyro_stack_view_release(&v);
        if (rc < 0)
            pyro_callgraph_free(g);
        return rc;
    }
    if (stats == NULL || stats == Py_None) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: give stats or a tree");
        return -1;
    }
    int kind;
    PyObject *plain = plain_stats(stats, sampled, NULL, &kind);
    if (plain == NULL)
        return -1;
    if (kind != PYRO_KIND_TRACED)
        Py_SETREF(plain, pyro_stats_sample_counts(plain));
    int rc = plain != NULL ? pyro_callgraph_build(plain, g) : -1;
    Py_XDECREF(plain);
    if (rc < 0) {
        pyro_callgraph_free(g);
        return -1;
    }
    if (kind != PYRO_KIND_TRACED) {
        g->unit = PYRO_UNIT_SAMPLES;
        snprintf(g->metric, sizeof(g->metric), "samples");
    }
    return 0;
}

PyObject *pyro_py_write_callgrind(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "stats", "creator", "tree", "metric", "sampled", NULL};
    PyObject *path, *stats = Py_None, *tree = NULL, *metric = NULL, *sampled = NULL;
    const char *creator = "pyrometer";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Os$OOO:write_callgrind", kwlist, &path,
                                     &stats, &creator, &tree, &metric, &sampled))
        return NULL;
    if (strchr(creator, '\n') != NULL) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: creator must be one line");
        return NULL;
    }
    pyro_callgraph g;
    if (graph_of(stats, tree, metric, sampled, &g) < 0)
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    int rc = pyro_write_callgrind(&g, creator, &out);
    pyro_callgraph_free(&g);
    return finish(&out, rc, path);
}

/* The dot text of a graph into `out`; 0 or -1. */
static int dot_of(PyObject *stats, PyObject *tree, PyObject *metric, PyObject *sampled,
                  double node, double edge, pyro_text *out)
{
    pyro_callgraph g;
    if (graph_of(stats, tree, metric, sampled, &g) < 0)
        return -1;
    int rc = pyro_write_dot(&g, node, edge, out);
    pyro_callgraph_free(&g);
    return rc;
}

PyObject *pyro_py_write_dot(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "stats", "node_threshold", "edge_threshold", "tree",
                             "metric", "sampled", NULL};
    PyObject *path, *stats = Py_None, *tree = NULL, *metric = NULL, *sampled = NULL;
    double node = 0.5, edge = 0.1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Odd$OOO:write_dot", kwlist, &path, &stats,
                                     &node, &edge, &tree, &metric, &sampled))
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    int rc = dot_of(stats, tree, metric, sampled, node, edge, &out);
    return finish(&out, rc, path);
}

PyObject *pyro_py_format_dot(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"stats", "node_threshold", "edge_threshold", "tree", "metric",
                             "sampled", NULL};
    PyObject *stats = Py_None, *tree = NULL, *metric = NULL, *sampled = NULL;
    double node = 0.5, edge = 0.1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Odd$OOO:format_dot", kwlist, &stats, &node,
                                     &edge, &tree, &metric, &sampled))
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    PyObject *result = NULL;
    if (dot_of(stats, tree, metric, sampled, node, edge, &out) == 0) {
        if (out.failed)
            PyErr_NoMemory();
        else
            result = PyBytes_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len);
    }
    pyro_text_free(&out);
    return result;
}

PyObject *pyro_py_format_lines_diff(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"old", "new", "old_name", "new_name", NULL};
    PyObject *old, *new, *old_name = NULL, *new_name = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$UU:format_lines_diff", kwlist, &old,
                                     &new, &old_name, &new_name))
        return NULL;
    pyro_line_view a, b;
    if (pyro_line_view_of_arg(&a, old) < 0)
        return NULL;
    PyObject *result = NULL;
    if (pyro_line_view_of_arg(&b, new) == 0) {
        PyObject *on = old_name ? Py_NewRef(old_name) : PyUnicode_FromString("old");
        PyObject *nn = new_name ? Py_NewRef(new_name) : PyUnicode_FromString("new");
        if (on != NULL && nn != NULL)
            result = pyro_lines_diff(&a, &b, on, nn);
        Py_XDECREF(on);
        Py_XDECREF(nn);
        pyro_line_view_release(&b);
    }
    pyro_line_view_release(&a);
    return result;
}

PyObject *pyro_py_rekey(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"stats", "tree", "map", NULL};
    PyObject *stats, *tree, *map;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OO!:rekey", kwlist, &PyDict_Type, &stats,
                                     &tree, &PyDict_Type, &map))
        return NULL;
    PyObject *s = pyro_rekey_stats(stats, map);
    PyObject *t = s != NULL && tree != Py_None ? pyro_rekey_tree(tree, map)
                : s != NULL ? Py_NewRef(Py_None) : NULL;
    PyObject *result = t != NULL ? PyTuple_Pack(2, s, t) : NULL;
    Py_XDECREF(s);
    Py_XDECREF(t);
    return result;
}

PyObject *pyro_py_strip_dirs(PyObject *module, PyObject *stats)
{
    (void)module;
    PyObject *reason = NULL;
    int bad = pyro_check_stats(stats, &reason);
    if (bad > 0) {
        PyErr_Format(PyExc_ValueError, "pyrometer: stats is not a pstats dict (%U)", reason);
        Py_DECREF(reason);
    }
    return bad == 0 ? pyro_strip_dirs(stats) : NULL;
}

PyObject *pyro_py_path_split(PyObject *module, PyObject *arg)
{
    (void)module;
    const char *f = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (f == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "pyrometer: path_split takes a str");
        return NULL;
    }
    const char *label, *rest;
    int library = pyro_path_split(f, &label, &rest);
    return Py_BuildValue("(ssO)", label, rest, library ? Py_True : Py_False);
}

/* (stats, tree, n) of a new tree dict: the stats rebuilt from it. */
static PyObject *with_stats(PyObject *tree, size_t n)
{
    PyObject *stats = NULL, *result = NULL;
    pyro_stack_view v;
    if (pyro_stack_view_of_arg(&v, tree) == 0) {
        pyro_callgraph g = {0};
        if (pyro_callgraph_from_view(&v, &g) == 0)
            stats = pyro_callgraph_as_stats(&g);
        pyro_callgraph_free(&g);
        pyro_stack_view_release(&v);
    }
    if (stats != NULL)
        result = Py_BuildValue("(OOn)", stats, tree, (Py_ssize_t)n);
    Py_XDECREF(stats);
    return result;
}

PyObject *pyro_py_keep_frames(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"tree", "keep", NULL};
    PyObject *tree, *keep_arg;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:keep_frames", kwlist, &tree, &keep_arg))
        return NULL;
    pyro_stack_view v;
    if (pyro_stack_view_of_arg(&v, tree) < 0)
        return NULL;
    PyObject *result = NULL, *kept = NULL;
    PyObject *keep = PySequence_Fast(keep_arg, "pyrometer: keep must be a sequence of bools");
    char *flags = PyMem_RawCalloc(v.nfuncs + 1, 1);
    if (keep == NULL || flags == NULL) {
        if (flags == NULL && !PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    if ((size_t)PySequence_Fast_GET_SIZE(keep) != v.nfuncs) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: keep must have one flag per function");
        goto done;
    }
    for (size_t f = 0; f < v.nfuncs; f++) {
        int t = PyObject_IsTrue(PySequence_Fast_GET_ITEM(keep, (Py_ssize_t)f));
        if (t < 0)
            goto done;
        flags[f] = (char)t;
    }
    size_t hidden = 0;
    kept = pyro_keep_frames(&v, flags, &hidden);
    if (kept != NULL)
        result = with_stats(kept, hidden);
done:
    Py_XDECREF(kept);
    Py_XDECREF(keep);
    PyMem_RawFree(flags);
    pyro_stack_view_release(&v);
    return result;
}

PyObject *pyro_py_group_frames(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"tree", "group_of", "groups", NULL};
    PyObject *tree, *group_arg, *groups;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!:group_frames", kwlist, &tree,
                                     &group_arg, &PyList_Type, &groups))
        return NULL;
    pyro_stack_view v;
    if (pyro_stack_view_of_arg(&v, tree) < 0)
        return NULL;
    PyObject *result = NULL, *grouped = NULL;
    PyObject *seq = PySequence_Fast(group_arg, "pyrometer: group_of must be a sequence of ints");
    Py_ssize_t *label_of = PyMem_RawMalloc((v.nfuncs + 1) * sizeof(*label_of));
    if (seq == NULL || label_of == NULL) {
        if (label_of == NULL && !PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    if ((size_t)PySequence_Fast_GET_SIZE(seq) != v.nfuncs) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: group_of needs one group per function");
        goto done;
    }
    for (size_t f = 0; f < v.nfuncs; f++) {
        Py_ssize_t g = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)f));
        if (g == -1 && PyErr_Occurred())
            goto done;
        if (g < -1 || g >= PyList_GET_SIZE(groups)) {
            PyErr_SetString(PyExc_ValueError, "pyrometer: a group index is out of range");
            goto done;
        }
        PyObject *key = g >= 0 ? PyList_GET_ITEM(groups, g) : NULL;
        if (key != NULL && !(PyTuple_Check(key) && PyTuple_GET_SIZE(key) == 3)) {
            PyErr_SetString(PyExc_ValueError, "pyrometer: groups must be (file, line, name)");
            goto done;
        }
        label_of[f] = g;
    }
    size_t hidden = 0;
    grouped = pyro_reshape_tree(&v, label_of, groups, 1, &hidden);
    if (grouped != NULL)
        result = with_stats(grouped, hidden);
done:
    Py_XDECREF(grouped);
    Py_XDECREF(seq);
    PyMem_RawFree(label_of);
    pyro_stack_view_release(&v);
    return result;
}

PyObject *pyro_py_fold_imports(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"tree", NULL};
    PyObject *tree;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:fold_imports", kwlist, &tree))
        return NULL;
    pyro_stack_view v;
    if (pyro_stack_view_of_arg(&v, tree) < 0)
        return NULL;
    size_t imports = 0;
    PyObject *folded = pyro_fold_imports(&v, &imports);
    pyro_stack_view_release(&v);
    if (folded == NULL)
        return NULL;
    PyObject *result = with_stats(folded, imports);
    Py_DECREF(folded);
    return result;
}

PyObject *pyro_py_format_tree(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"tree", "root", "min_share", "max_lines", "metric", NULL};
    PyObject *tree, *root_obj = NULL, *metric = NULL;
    pyro_tree_report_opts o = {.min_share = 0.01, .max_lines = 60};
    Py_ssize_t max_lines = 60;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OdnO:format_tree", kwlist, &tree,
                                     &root_obj, &o.min_share, &max_lines, &metric))
        return NULL;
    if (!(o.min_share >= 0.0 && o.min_share <= 1.0) || max_lines < 1) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: min_share must be 0 to 1 and max_lines "
                                          "at least 1");
        return NULL;
    }
    o.max_lines = (size_t)max_lines;
    char *root = NULL;
    if (utf8_arg(root_obj, &root) < 0)
        return NULL;
    o.root = root;
    PyObject *result = NULL;
    pyro_stack_view v;
    if (view_of(tree, metric, &v) == 0) {
        pyro_text out = PYRO_TEXT_INIT;
        if (pyro_format_tree(&v, &o, &out) == 0) {
            if (out.failed)
                PyErr_NoMemory();
            else
                result = PyUnicode_DecodeUTF8(out.data ? out.data : "", (Py_ssize_t)out.len,
                                              "replace");
        }
        pyro_text_free(&out);
        pyro_stack_view_release(&v);
    }
    PyMem_RawFree(root);
    return result;
}

PyObject *pyro_py_format_report(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"stats", "sort", "limit", "files", "mode", "sampled", "unit",
                             "layout", "color", "width", NULL};
    PyObject *stats, *sort = NULL, *limit = Py_None, *files = NULL, *sampled = NULL;
    const char *mode_name = "stats", *unit = NULL, *layout_name = "columns";
    pyro_report_style style = {0, 0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OOOsOzspn:format_report", kwlist,
                                     &stats, &sort, &limit, &files, &mode_name, &sampled, &unit,
                                     &layout_name, &style.color, &style.width))
        return NULL;
    int layout;
    if (strcmp(layout_name, "columns") == 0)
        layout = PYRO_LAYOUT_COLUMNS;
    else if (strcmp(layout_name, "pstats") == 0)
        layout = PYRO_LAYOUT_PSTATS;
    else
        return PyErr_Format(PyExc_ValueError,
                            "pyrometer: layout must be 'columns' or 'pstats', not '%.50s'",
                            layout_name);
    int mode;
    if (strcmp(mode_name, "stats") == 0)
        mode = PYRO_REPORT_STATS;
    else if (strcmp(mode_name, "callers") == 0)
        mode = PYRO_REPORT_CALLERS;
    else if (strcmp(mode_name, "callees") == 0)
        mode = PYRO_REPORT_CALLEES;
    else
        return PyErr_Format(PyExc_ValueError,
                            "pyrometer: mode must be 'stats', 'callers' or 'callees', not '%.50s'",
                            mode_name);
    int kind;
    PyObject *plain = plain_stats(stats, sampled, unit, &kind);
    if (plain == NULL)
        return NULL;
    PyObject *text = pyro_report_text(plain, sort, limit, files, mode, kind, layout, &style);
    Py_DECREF(plain);
    return text;
}

PyObject *pyro_py_format_lines(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"stats", "unit", "show_zero", "color", NULL};
    PyObject *stats, *unit_arg = Py_None;
    int show_zero = 0, color = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Opp:format_lines", kwlist,
                                     &stats, &unit_arg, &show_zero, &color))
        return NULL;
    double unit = 0.0;         /* None: the report chooses */
    if (unit_arg != Py_None) {
        unit = PyFloat_AsDouble(unit_arg);
        if (unit == -1.0 && PyErr_Occurred())
            return NULL;
        if (!(unit > 0.0))
            return PyErr_Format(PyExc_ValueError, "pyrometer: the unit must be a positive number");
    }
    return pyro_lines_text(stats, unit, show_zero, color);
}

PyObject *pyro_py_format_lines_memory(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"stats", "rss_start", NULL};
    PyObject *stats;
    double rss_start = 0.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$d:format_lines_memory", kwlist, &stats,
                                     &rss_start))
        return NULL;
    if (!(rss_start >= 0.0 && rss_start < 1e18))
        rss_start = 0.0;
    return pyro_lines_memory_text(stats, rss_start);
}

PyObject *pyro_py_write_lines_json(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path, *stats;
    if (!PyArg_ParseTuple(args, "OO:write_lines_json", &path, &stats))
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    return finish(&out, pyro_lines_json(stats, &out), path);
}

PyObject *pyro_py_format_diff(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"old", "new", "sort", "limit", "fail_above", "min_share",
                             "old_name", "new_name", "sampled", "unit", "old_runs", "new_runs",
                             NULL};
    PyObject *old, *new, *limit_arg = Py_None, *fail_arg = Py_None, *sampled = NULL;
    PyObject *old_runs = Py_None, *new_runs = Py_None;
    const char *unit = NULL;
    pyro_diff_opts o = {.limit = -1, .min_share = 1.0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$OOOdUUOzOO:format_diff", kwlist, &old,
                                     &new, &o.sort, &limit_arg, &fail_arg, &o.min_share,
                                     &o.old_name, &o.new_name, &sampled, &unit, &old_runs,
                                     &new_runs))
        return NULL;
    if (limit_arg != Py_None) {
        o.limit = PyLong_AsSsize_t(limit_arg);
        if (o.limit == -1 && PyErr_Occurred())
            return NULL;
        if (o.limit < 0)
            return PyErr_Format(PyExc_ValueError, "pyrometer: limit must not be negative");
    }
    o.check = fail_arg != Py_None;
    o.fail_above = o.check ? PyFloat_AsDouble(fail_arg) : 0.0;
    if (o.fail_above == -1.0 && PyErr_Occurred())
        return NULL;
    if (o.check && !(o.fail_above >= 0.0))
        return PyErr_Format(PyExc_ValueError, "pyrometer: fail_above must be a percentage >= 0");
    if (!(o.min_share >= 0.0 && o.min_share <= 100.0))
        return PyErr_Format(PyExc_ValueError, "pyrometer: min_share must be 0 to 100 percent");
    int old_kind, new_kind;
    PyObject *old_plain = plain_stats(old, sampled, unit, &old_kind);
    PyObject *new_plain = old_plain != NULL ? plain_stats(new, sampled, unit, &new_kind) : NULL;
    PyObject *result = NULL;
    if (new_plain != NULL && old_kind != new_kind)
        PyErr_SetString(PyExc_ValueError,
                        "pyrometer: one profile counts samples, the other calls: they do not "
                        "compare");
    else if (new_plain != NULL) {
        o.kind = old_kind;
        PyObject *runs[2] = {NULL, NULL}, *given[2] = {old_runs, new_runs};
        int ok = 1;
        for (int side = 0; side < 2 && ok; side++) {
            if (given[side] == Py_None)
                continue;
            PyObject *seq = PySequence_Fast(given[side], "pyrometer: runs must be a list");
            ok = seq != NULL && (runs[side] = PyList_New(0)) != NULL;
            for (Py_ssize_t i = 0; ok && i < PySequence_Fast_GET_SIZE(seq); i++) {
                int kind;
                PyObject *p = plain_stats(PySequence_Fast_GET_ITEM(seq, i), sampled, unit, &kind);
                ok = p != NULL && PyList_Append(runs[side], p) == 0;
                Py_XDECREF(p);
            }
            Py_XDECREF(seq);
        }
        if (ok) {
            o.old_runs = runs[0];
            o.new_runs = runs[1];
            result = pyro_diff_text(old_plain, new_plain, &o);
        }
        Py_XDECREF(runs[0]);
        Py_XDECREF(runs[1]);
    }
    Py_XDECREF(old_plain);
    Py_XDECREF(new_plain);
    return result;
}

PyObject *pyro_py_merge_profiles(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"profiles", "names", NULL};
    PyObject *profiles, *names = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:merge_profiles", kwlist,
                                     &profiles, &names))
        return NULL;
    return pyro_merge_profiles(profiles, names);
}

PyObject *pyro_py_write_html(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "template", "stats", "tree", "lines", "meta", "metric",
                             "sampled", NULL};
    PyObject *path, *template, *metric = Py_None, *sampled = NULL;
    pyro_html_page page = {.stats = Py_None, .tree = Py_None, .lines = Py_None,
                           .meta = Py_None};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OU|$OOOOOO:write_html", kwlist, &path,
                                     &template, &page.stats, &page.tree, &page.lines,
                                     &page.meta, &metric, &sampled))
        return NULL;
    if (metric != Py_None && (page.metric = PyUnicode_AsUTF8(metric)) == NULL)
        return NULL;
    Py_ssize_t tlen;
    if ((page.template = PyUnicode_AsUTF8AndSize(template, &tlen)) == NULL)
        return NULL;
    page.template_len = (size_t)tlen;
    PyObject *plain = NULL;
    if (page.stats != Py_None) {
        int kind;
        if ((plain = plain_stats(page.stats, sampled, NULL, &kind)) == NULL)
            return NULL;
        /* a sampled profile without its stacks: its table in samples */
        if (kind != PYRO_KIND_TRACED && page.tree == Py_None) {
            Py_SETREF(plain, pyro_stats_sample_counts(plain));
            if (plain == NULL)
                return NULL;
            page.stats_unit = PYRO_UNIT_SAMPLES;
            page.metric = "samples";
        }
        page.stats = plain;
    }
    pyro_text out = PYRO_TEXT_INIT;
    int rc = pyro_write_html(&page, &out);
    Py_XDECREF(plain);
    return finish(&out, rc, path);
}
