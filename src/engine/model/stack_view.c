/* stack_view.c: check a call-tree dict against docs/tree-format.md and
 * unpack it into C arrays for the writers (see stack_view.h). */
#include "model/stack_view.h"
#include "model/portable_path.h"
#include "core/text_out.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int bad(PyObject **reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    return *reason != NULL ? 1 : -1;
}

/* The list under `name`, or NULL with *rc set (1 + reason, or -1). */
static PyObject *list_of(PyObject *tree, const char *name, PyObject **reason, int *rc)
{
    PyObject *v = PyDict_GetItemString(tree, name);   /* borrowed, no error */
    if (v == NULL) {
        *rc = bad(reason, "it has no '%s'", name);
        return NULL;
    }
    if (!PyList_Check(v)) {
        *rc = bad(reason, "its '%s' is a %s, not a list", name, Py_TYPE(v)->tp_name);
        return NULL;
    }
    return v;
}

static int check_label(PyObject *label)
{
    if (!PyTuple_Check(label) || PyTuple_GET_SIZE(label) != 3)
        return 0;
    PyObject *line = PyTuple_GET_ITEM(label, 1);
    return PyUnicode_Check(PyTuple_GET_ITEM(label, 0)) && PyLong_CheckExact(line)
        && PyUnicode_Check(PyTuple_GET_ITEM(label, 2));
}

/* An exact int in [lo, hi], else 0 (no exception left). */
static int int_in(PyObject *o, long long lo, long long hi, long long *out)
{
    if (!PyLong_CheckExact(o))
        return 0;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    if (x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

static int count_of(PyObject *o, uint64_t *out)
{
    if (!PyLong_CheckExact(o))
        return 0;
    unsigned long long x = PyLong_AsUnsignedLongLong(o);
    if (x == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = x;
    return 1;
}

static int value_of(PyObject *o, double *out)
{
    double x;
    if (PyFloat_Check(o))
        x = PyFloat_AS_DOUBLE(o);
    else if (PyLong_CheckExact(o)) {
        x = PyLong_AsDouble(o);
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
    } else
        return 0;
    if (!isfinite(x) || x < 0)
        return 0;
    *out = x;
    return 1;
}

void pyro_stack_view_release(pyro_stack_view *v)
{
    PyMem_RawFree(v->parent);
    PyMem_RawFree(v->func);
    PyMem_RawFree(v->calls);
    for (size_t k = 0; k < v->nmetrics; k++) {
        PyMem_RawFree(v->metrics[k].self);
        PyMem_RawFree(v->metrics[k].total);
    }
    memset(v, 0, sizeof(*v));
}

/* A metric's self and total lists into `m` (n values each): 0, 1 +
 * reason, or -1. */
static int fill_metric(pyro_metric *m, PyObject *self, PyObject *total, Py_ssize_t n,
                       PyObject **reason)
{
    PyObject *lists[2] = {self, total};
    const char *what[2] = {"self", "total"};
    double **out[2] = {&m->self, &m->total};
    for (int k = 0; k < 2; k++) {
        if (!PyList_Check(lists[k]))
            return bad(reason, "its %s '%s' is not a list", m->name, what[k]);
        if (PyList_GET_SIZE(lists[k]) != n)
            return bad(reason, "its 'parent' has %zd items but its %s '%s' has %zd",
                       n, m->name, what[k], PyList_GET_SIZE(lists[k]));
        *out[k] = PyMem_RawMalloc(((size_t)n + 1) * sizeof(double));
        if (*out[k] == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            if (!value_of(PyList_GET_ITEM(lists[k], i), &(*out[k])[i])) {
                if (m->unit == PYRO_UNIT_SECONDS)
                    return bad(reason, "%s[%zd] is %.50R, not a time in seconds", what[k], i,
                               PyList_GET_ITEM(lists[k], i));
                return bad(reason, "%s %s[%zd] is %.50R, not a number of %s", m->name, what[k],
                           i, PyList_GET_ITEM(lists[k], i), pyro_unit_name(m->unit));
            }
    }
    return 0;
}

/* Version 2's metrics: [{"name": str, "unit": str, "self": [...],
 * "total": [...]}, ...]. */
static int fill_metrics(pyro_stack_view *v, PyObject *metrics, Py_ssize_t n, PyObject **reason)
{
    if (!PyList_Check(metrics) || PyList_GET_SIZE(metrics) == 0)
        return bad(reason, "its 'metrics' is not a list of at least one metric");
    if (PyList_GET_SIZE(metrics) > PYRO_MAX_METRICS)
        return bad(reason, "it has more than %d metrics", PYRO_MAX_METRICS);
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(metrics); k++) {
        PyObject *d = PyList_GET_ITEM(metrics, k);
        PyObject *name = PyDict_Check(d) ? PyDict_GetItemString(d, "name") : NULL;
        PyObject *unit = PyDict_Check(d) ? PyDict_GetItemString(d, "unit") : NULL;
        const char *nm = name != NULL && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        const char *un = unit != NULL && PyUnicode_Check(unit) ? PyUnicode_AsUTF8(unit) : NULL;
        if (nm == NULL || un == NULL || strlen(nm) == 0 || strlen(nm) >= sizeof(v->metrics[0].name)) {
            PyErr_Clear();
            return bad(reason, "metrics[%zd] has no name and unit", k);
        }
        int u = pyro_unit_of(un);
        if (u < 0)
            return bad(reason, "metrics[%zd] has the unknown unit '%s'", k, un);
        pyro_metric *m = &v->metrics[v->nmetrics++];
        snprintf(m->name, sizeof(m->name), "%s", nm);
        m->unit = (pyro_unit)u;
        PyObject *self = PyDict_GetItemString(d, "self"), *total = PyDict_GetItemString(d, "total");
        if (self == NULL || total == NULL)
            return bad(reason, "metrics[%zd] has no 'self' or no 'total'", k);
        int rc = fill_metric(m, self, total, n, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pyro_stack_view_init(pyro_stack_view *v, PyObject *tree, PyObject **reason)
{
    memset(v, 0, sizeof(*v));
    *reason = NULL;
    if (!PyDict_Check(tree))
        return bad(reason, "it is a %s, not a dict", Py_TYPE(tree)->tp_name);
    PyObject *marker = PyDict_GetItemString(tree, "pyrometer");
    if (marker == NULL || !PyUnicode_Check(marker)
        || PyUnicode_CompareWithASCIIString(marker, "calltree") != 0)
        return bad(reason, "it lacks the marker 'pyrometer': 'calltree'");
    PyObject *version = PyDict_GetItemString(tree, "version");
    long long ver;
    if (version == NULL || !int_in(version, 0, LLONG_MAX, &ver))
        return bad(reason, "its 'version' is missing or not an int");
    if (ver != 1 && ver != 2)
        return bad(reason, "it is version %lld; this pyrometer reads versions 1 and 2", ver);
    PyObject *folded = PyDict_GetItemString(tree, "folded");
    if (folded == NULL || !PyBool_Check(folded))
        return bad(reason, "its 'folded' is missing or not a bool");

    static const char *names[] = {"parent", "func", "calls"};
    PyObject *lists[3];
    int rc = 0;
    PyObject *funcs = list_of(tree, "funcs", reason, &rc);
    if (funcs == NULL)
        return rc;
    for (int k = 0; k < 3; k++)
        if ((lists[k] = list_of(tree, names[k], reason, &rc)) == NULL)
            return rc;
    Py_ssize_t n = PyList_GET_SIZE(lists[0]);
    for (int k = 1; k < 3; k++)
        if (PyList_GET_SIZE(lists[k]) != n)
            return bad(reason, "its 'parent' has %zd items but its '%s' has %zd",
                       n, names[k], PyList_GET_SIZE(lists[k]));
    Py_ssize_t nfuncs = PyList_GET_SIZE(funcs);
    for (Py_ssize_t i = 0; i < nfuncs; i++)
        if (!check_label(PyList_GET_ITEM(funcs, i)))
            return bad(reason, "funcs[%zd] is not a (file, line, name) tuple", i);

    size_t m = (size_t)n + 1;
    v->parent = PyMem_RawMalloc(m * sizeof(*v->parent));
    v->func = PyMem_RawMalloc(m * sizeof(*v->func));
    v->calls = PyMem_RawMalloc(m * sizeof(*v->calls));
    if (!v->parent || !v->func || !v->calls) {
        pyro_stack_view_release(v);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long long x;
        if (!int_in(PyList_GET_ITEM(lists[0], i), -1, (long long)i - 1, &x)) {
            rc = bad(reason, "parent[%zd] is %.50R: a parent is -1 or a node before its child",
                     i, PyList_GET_ITEM(lists[0], i));
            goto fail;
        }
        v->parent[i] = x;
        if (!int_in(PyList_GET_ITEM(lists[1], i), 0, (long long)nfuncs - 1, &x)) {
            rc = bad(reason, "func[%zd] is %.50R, not an index of its %zd funcs",
                     i, PyList_GET_ITEM(lists[1], i), nfuncs);
            goto fail;
        }
        v->func[i] = (uint32_t)x;
        if (!count_of(PyList_GET_ITEM(lists[2], i), &v->calls[i])) {
            rc = bad(reason, "calls[%zd] is %.50R, not a count", i, PyList_GET_ITEM(lists[2], i));
            goto fail;
        }
    }
    if (ver == 1) {
        /* One metric: time in seconds, under "self" and "total". */
        PyObject *self = list_of(tree, "self", reason, &rc);
        PyObject *total = self != NULL ? list_of(tree, "total", reason, &rc) : NULL;
        if (total == NULL)
            goto fail;
        pyro_metric *t = &v->metrics[v->nmetrics++];
        snprintf(t->name, sizeof(t->name), "time");
        t->unit = PYRO_UNIT_SECONDS;
        if ((rc = fill_metric(t, self, total, n, reason)) != 0)
            goto fail;
    }
    else {
        PyObject *metrics = PyDict_GetItemString(tree, "metrics");
        if (metrics == NULL) {
            rc = bad(reason, "it has no 'metrics'");
            goto fail;
        }
        if ((rc = fill_metrics(v, metrics, n, reason)) != 0)
            goto fail;
    }
    v->n = (size_t)n;
    v->nfuncs = (size_t)nfuncs;
    v->funcs = funcs;
    v->folded = folded == Py_True;
    pyro_stack_view_select(v, NULL);
    return 0;
fail:
    pyro_stack_view_release(v);
    return rc;
}

int pyro_stack_view_select(pyro_stack_view *v, const char *name)
{
    size_t k = 0;
    if (name != NULL) {
        while (k < v->nmetrics && strcmp(v->metrics[k].name, name) != 0)
            k++;
        if (k == v->nmetrics) {
            char known[PYRO_MAX_METRICS * 34] = "";
            for (size_t j = 0; j < v->nmetrics; j++) {
                if (j > 0)
                    strcat(known, ", ");
                strcat(known, v->metrics[j].name);
            }
            PyErr_Format(PyExc_ValueError, "pyrometer: the profile has no metric '%s' (it has %s)",
                         name, known);
            return -1;
        }
    }
    v->metric = &v->metrics[k];
    v->self = v->metric->self;
    v->total = v->metric->total;
    v->unit = v->metric->unit;
    return 0;
}

int pyro_stack_view_of_arg(pyro_stack_view *v, PyObject *tree)
{
    PyObject *reason = NULL;
    int rc = pyro_stack_view_init(v, tree, &reason);
    if (rc > 0) {
        PyErr_Format(PyExc_ValueError, "pyrometer: not a call tree (%U)", reason);
        Py_DECREF(reason);
    }
    return rc == 0 ? 0 : -1;
}

/* pyro_frame_name, the file named `file` (a str). */
static PyObject *frame_name_in(PyObject *label, PyObject *file)
{
    PyObject *name = PyTuple_GET_ITEM(label, 2);
    long long line = PyLong_AsLongLong(PyTuple_GET_ITEM(label, 1));
    if (line == -1 && PyErr_Occurred())
        return NULL;
    if (line == 0 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(label, 0), "~") == 0) {
        /* pstats' func_std_string: <built-in method x> reads {built-in method x} */
        Py_ssize_t len = PyUnicode_GET_LENGTH(name);
        if (len >= 2 && PyUnicode_READ_CHAR(name, 0) == '<'
            && PyUnicode_READ_CHAR(name, len - 1) == '>') {
            PyObject *inner = PyUnicode_Substring(name, 1, len - 1);
            if (inner == NULL)
                return NULL;
            PyObject *r = PyUnicode_FromFormat("{%U}", inner);
            Py_DECREF(inner);
            return r;
        }
        return Py_NewRef(name);
    }
    return PyUnicode_FromFormat("%U (%U:%lld)", name, file, line);
}

PyObject *pyro_frame_name(PyObject *label)
{
    return frame_name_in(label, PyTuple_GET_ITEM(label, 0));
}

uint32_t *pyro_stack_depths(const pyro_stack_view *v)
{
    uint32_t *depth = PyMem_RawMalloc((v->n + 1) * sizeof(*depth));
    if (depth == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (size_t i = 0; i < v->n; i++)
        depth[i] = v->parent[i] < 0 ? 0 : depth[v->parent[i]] + 1;
    return depth;
}

void pyro_stack_path(const pyro_stack_view *v, size_t i, uint32_t depth, uint32_t *path)
{
    int64_t at = (int64_t)i;
    for (int64_t d = depth; d >= 0 && at >= 0; d--) {
        path[d] = v->func[at];
        at = v->parent[at];
    }
}

char **pyro_stack_frame_names(const pyro_stack_view *v, int how)
{
    char **names = PyMem_RawCalloc(v->nfuncs + 1, sizeof(*names));
    char *root = NULL;         /* the folder the program's files share */
    if (names == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (size_t f = 0; (how & PYRO_NAMES_SHORT_PATHS) && f < v->nfuncs; f++) {
        PyObject *label = PyList_GET_ITEM(v->funcs, (Py_ssize_t)f);
        if (pyro_path_widen_root(&root, PyTuple_GET_ITEM(label, 0)) < 0)
            goto fail;
    }
    for (size_t f = 0; f < v->nfuncs; f++) {
        PyObject *label = PyList_GET_ITEM(v->funcs, (Py_ssize_t)f);
        PyObject *file = PyTuple_GET_ITEM(label, 0);
        file = how & PYRO_NAMES_SHORT_PATHS ? pyro_path_shown(file, root) : Py_NewRef(file);
        PyObject *name = file != NULL ? frame_name_in(label, file) : NULL;
        names[f] = name != NULL ? pyro_utf8_dup(name, NULL) : NULL;
        Py_XDECREF(name);
        Py_XDECREF(file);
        if (names[f] == NULL)
            goto fail;
        for (char *c = names[f]; (how & PYRO_NAMES_SANITIZE) && *c; c++) {
            if (*c == ';')
                *c = ',';
            else if (*c == '\n' || *c == '\r')
                *c = ' ';
        }
    }
    PyMem_RawFree(root);
    return names;
fail:
    PyMem_RawFree(root);
    pyro_stack_free_names(v, names);
    return NULL;
}

void pyro_stack_free_names(const pyro_stack_view *v, char **names)
{
    if (names == NULL)
        return;
    for (size_t f = 0; f < v->nfuncs; f++)
        PyMem_RawFree(names[f]);
    PyMem_RawFree(names);
}
