/* py_writers.c: the writers as functions of the _engine module (see
 * py_writers.h). */
#include "api/py_writers.h"
#include "formats/graph_writers.h"
#include "formats/stack_writers.h"

#include <math.h>

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
    static char *kwlist[] = {"path", "tree", "metric", NULL};
    PyObject *path, *tree, *metric = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$O:write_collapsed", kwlist,
                                     &path, &tree, &metric))
        return NULL;
    pyro_stack_view v;
    if (view_of(tree, metric, &v) < 0)
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    int rc = pyro_write_collapsed(&v, &out);
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
 * is given with a metric (or without stats), else from the pstats dict.
 * 0, or -1 + exception (nothing to free then). */
static int graph_of(PyObject *stats, PyObject *tree, PyObject *metric, pyro_callgraph *g)
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
    if (pyro_callgraph_build(stats, g) < 0) {
        pyro_callgraph_free(g);
        return -1;
    }
    return 0;
}

PyObject *pyro_py_write_callgrind(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "stats", "creator", "tree", "metric", NULL};
    PyObject *path, *stats = Py_None, *tree = NULL, *metric = NULL;
    const char *creator = "pyrometer";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Os$OO:write_callgrind", kwlist, &path,
                                     &stats, &creator, &tree, &metric))
        return NULL;
    if (strchr(creator, '\n') != NULL) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: creator must be one line");
        return NULL;
    }
    pyro_callgraph g;
    if (graph_of(stats, tree, metric, &g) < 0)
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    int rc = pyro_write_callgrind(&g, creator, &out);
    pyro_callgraph_free(&g);
    return finish(&out, rc, path);
}

/* The dot text of a graph into `out`; 0 or -1. */
static int dot_of(PyObject *stats, PyObject *tree, PyObject *metric, double node, double edge,
                  pyro_text *out)
{
    pyro_callgraph g;
    if (graph_of(stats, tree, metric, &g) < 0)
        return -1;
    int rc = pyro_write_dot(&g, node, edge, out);
    pyro_callgraph_free(&g);
    return rc;
}

PyObject *pyro_py_write_dot(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "stats", "node_threshold", "edge_threshold", "tree",
                             "metric", NULL};
    PyObject *path, *stats = Py_None, *tree = NULL, *metric = NULL;
    double node = 0.5, edge = 0.1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Odd$OO:write_dot", kwlist, &path, &stats,
                                     &node, &edge, &tree, &metric))
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    int rc = dot_of(stats, tree, metric, node, edge, &out);
    return finish(&out, rc, path);
}

PyObject *pyro_py_format_dot(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"stats", "node_threshold", "edge_threshold", "tree", "metric", NULL};
    PyObject *stats = Py_None, *tree = NULL, *metric = NULL;
    double node = 0.5, edge = 0.1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Odd$OO:format_dot", kwlist, &stats, &node,
                                     &edge, &tree, &metric))
        return NULL;
    pyro_text out = PYRO_TEXT_INIT;
    PyObject *result = NULL;
    if (dot_of(stats, tree, metric, node, edge, &out) == 0) {
        if (out.failed)
            PyErr_NoMemory();
        else
            result = PyBytes_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len);
    }
    pyro_text_free(&out);
    return result;
}

PyObject *pyro_py_write_file(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "Oy*:write_file", &path_obj, &data))
        return NULL;
    pyro_text t = {0};
    int ok = pyro_text_room(&t, (size_t)data.len + 1);
    if (ok) {
        memcpy(t.data, data.buf, (size_t)data.len);
        t.len = (size_t)data.len;
    }
    PyBuffer_Release(&data);
    if (pyro_text_write(&t, path_obj) < 0)
        return NULL;
    Py_RETURN_NONE;
}

