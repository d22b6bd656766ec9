/* line_view.c: a line-profile dict checked and turned into a view (see
 * line_view.h); the checks are the file format's (docs/line-format.md),
 * so a damaged file is refused with one line saying what is wrong. */
#include "model/line_view.h"

#include <string.h>

static int bad(PyObject **reason, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    *reason = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    return *reason == NULL ? -1 : 1;
}

/* A non-negative int that fits in 64 bits, into *out. */
static int count_of(PyObject *o, long long *out)
{
    if (!PyLong_Check(o) || PyBool_Check(o))
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (overflow != 0 || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* A positive finite number of `what` per integer. */
static int scale_of(PyObject *o, double *out)
{
    if (o == NULL || !(PyFloat_Check(o) || PyLong_Check(o)) || PyBool_Check(o))
        return 0;
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (!(d > 0.0) || d == Py_HUGE_VAL)
        return 0;
    *out = d;
    return 1;
}

static int read_metrics(pyro_line_view *v, PyObject *stats, PyObject **reason)
{
    PyObject *metrics = PyDict_GetItemString(stats, "metrics");
    if (metrics == NULL) {
        /* Version 1: time, in `unit` seconds. */
        v->version = 1;
        v->nmetrics = 1;
        strcpy(v->metrics[0].name, "time");
        v->metrics[0].unit = PYRO_UNIT_SECONDS;
        PyObject *unit = PyDict_GetItemString(stats, "unit");
        if (unit == NULL || !(PyFloat_Check(unit) || PyLong_Check(unit)))
            return bad(reason, "it has no time unit");
        if (!scale_of(unit, &v->metrics[0].scale))
            return bad(reason, "its time unit is not a positive number");
        return 0;
    }
    v->version = 2;
    if (!PyList_Check(metrics) || PyList_GET_SIZE(metrics) < 1
        || PyList_GET_SIZE(metrics) > PYRO_MAX_LINE_METRICS)
        return bad(reason, "its metrics are not a list of 1 to %d", PYRO_MAX_LINE_METRICS);
    v->nmetrics = (size_t)PyList_GET_SIZE(metrics);
    for (size_t k = 0; k < v->nmetrics; k++) {
        PyObject *m = PyList_GET_ITEM(metrics, (Py_ssize_t)k);
        PyObject *name = PyDict_Check(m) ? PyDict_GetItemString(m, "name") : NULL;
        PyObject *unit = PyDict_Check(m) ? PyDict_GetItemString(m, "unit") : NULL;
        const char *n = name != NULL && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        const char *u = unit != NULL && PyUnicode_Check(unit) ? PyUnicode_AsUTF8(unit) : NULL;
        if (n == NULL || u == NULL) {
            PyErr_Clear();
            return bad(reason, "metric %zu has no name or unit", k);
        }
        if (strlen(n) == 0 || strlen(n) >= sizeof(v->metrics[k].name))
            return bad(reason, "metric %zu has a name of %zu bytes (1 to %zu)", k, strlen(n),
                       sizeof(v->metrics[k].name) - 1);
        for (const char *c = n; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return bad(reason, "metric %zu has a control character in its name", k);
        int un = pyro_unit_of(u);
        if (un < 0)
            return bad(reason, "metric %zu has an unknown unit", k);
        if (!scale_of(PyDict_GetItemString(m, "scale"), &v->metrics[k].scale))
            return bad(reason, "metric %zu has no positive scale", k);
        strcpy(v->metrics[k].name, n);
        v->metrics[k].unit = (pyro_unit)un;
    }
    return 0;
}

static int check_function(pyro_line_view *v, PyObject *f, Py_ssize_t i, size_t *rows,
                          PyObject **reason)
{
    if (!PyDict_Check(f))
        return bad(reason, "function %zd is not a dict", i);
    PyObject *file = PyDict_GetItemString(f, "file");
    PyObject *line = PyDict_GetItemString(f, "line");
    PyObject *name = PyDict_GetItemString(f, "name");
    PyObject *timings = PyDict_GetItemString(f, "timings");
    PyObject *source = PyDict_GetItemString(f, "source");
    long long ignored;
    if (file == NULL || !PyUnicode_Check(file) || name == NULL || !PyUnicode_Check(name))
        return bad(reason, "function %zd has no file or name", i);
    if (line == NULL || !count_of(line, &ignored))
        return bad(reason, "function %zd has no first line number", i);
    if (timings == NULL || !PyList_Check(timings))
        return bad(reason, "function %zd has no list of timings", i);
    Py_ssize_t width = 2 + (Py_ssize_t)v->nmetrics;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(timings); j++) {
        PyObject *t = PyList_GET_ITEM(timings, j);
        int ok = PyTuple_Check(t) && PyTuple_GET_SIZE(t) == width;
        for (Py_ssize_t k = 0; ok && k < width; k++)
            ok = count_of(PyTuple_GET_ITEM(t, k), &ignored);
        if (!ok)
            return v->version == 1
                ? bad(reason, "function %zd: timing %zd is not (line, hits, time)", i, j)
                : bad(reason, "function %zd: timing %zd is not (line, hits, and %zu values)",
                      i, j, v->nmetrics);
    }
    if (source != NULL && source != Py_None) {
        if (!PyList_Check(source))
            return bad(reason, "function %zd: source is not a list of lines", i);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(source); j++)
            if (!PyUnicode_Check(PyList_GET_ITEM(source, j)))
                return bad(reason, "function %zd: source line %zd is not text", i, j);
    }
    *rows += (size_t)PyList_GET_SIZE(timings);
    return 0;
}

int pyro_line_view_init(pyro_line_view *v, PyObject *stats, PyObject **reason)
{
    memset(v, 0, sizeof(*v));
    *reason = NULL;
    if (!PyDict_Check(stats))
        return bad(reason, "its data is not a dict");
    int rc = read_metrics(v, stats, reason);
    if (rc != 0)
        return rc;
    PyObject *meta = PyDict_GetItemString(stats, "meta");
    if (meta != NULL && !PyDict_Check(meta))
        return bad(reason, "its meta data is not a dict");
    v->meta = meta;
    PyObject *functions = PyDict_GetItemString(stats, "functions");
    if (functions == NULL || !PyList_Check(functions))
        return bad(reason, "it has no list of functions");
    size_t nrows = 0;
    Py_ssize_t nf = PyList_GET_SIZE(functions);
    for (Py_ssize_t i = 0; i < nf; i++) {
        rc = check_function(v, PyList_GET_ITEM(functions, i), i, &nrows, reason);
        if (rc != 0)
            return rc;
    }
    /* Checked: now the view, which cannot fail but for memory. */
    v->funcs = PyMem_RawCalloc(nf ? (size_t)nf : 1, sizeof(*v->funcs));
    v->rows = PyMem_RawCalloc(nrows ? nrows : 1, sizeof(*v->rows));
    if (v->funcs == NULL || v->rows == NULL) {
        PyMem_RawFree(v->funcs);
        PyMem_RawFree(v->rows);
        PyErr_NoMemory();
        return -1;
    }
    v->nfuncs = (size_t)nf;
    size_t r = 0;
    for (Py_ssize_t i = 0; i < nf; i++) {
        PyObject *f = PyList_GET_ITEM(functions, i);
        pyro_line_function *fn = &v->funcs[i];
        PyObject *source = PyDict_GetItemString(f, "source");
        PyObject *timings = PyDict_GetItemString(f, "timings");
        fn->file = PyDict_GetItemString(f, "file");
        fn->name = PyDict_GetItemString(f, "name");
        fn->source = source == Py_None ? NULL : source;
        count_of(PyDict_GetItemString(f, "line"), &fn->first_line);
        fn->first_row = r;
        fn->nrows = (size_t)PyList_GET_SIZE(timings);
        for (size_t j = 0; j < fn->nrows; j++, r++) {
            PyObject *t = PyList_GET_ITEM(timings, (Py_ssize_t)j);
            count_of(PyTuple_GET_ITEM(t, 0), &v->rows[r].line);
            count_of(PyTuple_GET_ITEM(t, 1), &v->rows[r].hits);
            for (size_t k = 0; k < v->nmetrics; k++)
                count_of(PyTuple_GET_ITEM(t, 2 + (Py_ssize_t)k), &v->rows[r].value[k]);
        }
    }
    v->nrows = r;
    return 0;
}

void pyro_line_view_release(pyro_line_view *v)
{
    PyMem_RawFree(v->funcs);
    PyMem_RawFree(v->rows);
    v->funcs = NULL;
    v->rows = NULL;
}

int pyro_line_view_of_arg(pyro_line_view *v, PyObject *stats)
{
    PyObject *reason = NULL;
    int rc = pyro_line_view_init(v, stats, &reason);
    if (rc > 0) {
        PyErr_Format(PyExc_ValueError, "pyrometer: not line statistics: %U", reason);
        Py_DECREF(reason);
        return -1;
    }
    return rc;
}
