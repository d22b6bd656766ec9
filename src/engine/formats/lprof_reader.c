/* lprof_reader.c: line_profiler's .lprof as a line profile (see
 * lprof_reader.h): the pickle read by formats/pickle_machine.c, then its
 * LineStats' timings checked and turned into the line-profile dict. */
#include "formats/lprof_reader.h"
#include "formats/pickle_machine.h"
#include "model/line_view.h"
#include "core/errors.h"
#include "core/file_read.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int refuse(const char *path, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *why = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (why != NULL) {
        PyErr_Format(pyro_FormatError, "pyrometer: %s is not a line_profiler file (%U)",
                     path, why);
        Py_DECREF(why);
    }
    return -1;
}

/* ---- the line profile ---------------------------------------------------- */

typedef struct {
    long long line, hits, time;
} row;

static int by_line(const void *a, const void *b)
{
    long long x = ((const row *)a)->line, y = ((const row *)b)->line;
    return (x > y) - (x < y);
}

/* A whole number from 0 to 2**63 - 1 (a float time is rounded). */
static int count_of(PyObject *o, int allow_float, long long *out)
{
    if (allow_float && PyFloat_Check(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        if (!(d >= 0.0 && d < 9.2e18))
            return 0;
        *out = llround(d);
        return 1;
    }
    if (!PyLong_Check(o) || PyBool_Check(o))
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return overflow == 0 && v >= 0;
}

/* [(line, hits, time)] of one function, in line order, a line listed twice
 * added up. */
static PyObject *timings_of(const char *path, PyObject *name, PyObject *entries)
{
    if (!PyList_Check(entries) && !PyTuple_Check(entries)) {
        refuse(path, "the timings of %R are not a list", name);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(entries);
    row *rows = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(*rows));
    if (rows == NULL)
        return PyErr_NoMemory();
    PyObject *out = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(entries, i);
        int ok = (PyTuple_Check(t) || PyList_Check(t)) && PySequence_Fast_GET_SIZE(t) == 3
            && count_of(PySequence_Fast_GET_ITEM(t, 0), 0, &rows[i].line)
            && count_of(PySequence_Fast_GET_ITEM(t, 1), 0, &rows[i].hits)
            && count_of(PySequence_Fast_GET_ITEM(t, 2), 1, &rows[i].time);
        if (!ok) {
            refuse(path, "timing %zd of %R is not (line, hits, time) in whole numbers from 0",
                   i, name);
            goto done;
        }
    }
    qsort(rows, (size_t)n, sizeof(*rows), by_line);
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (kept > 0 && rows[kept - 1].line == rows[i].line) {
            row *r = &rows[kept - 1];
            if (r->hits > LLONG_MAX - rows[i].hits || r->time > LLONG_MAX - rows[i].time) {
                refuse(path, "the counts of line %lld of %R overflow", r->line, name);
                goto done;
            }
            r->hits += rows[i].hits;
            r->time += rows[i].time;
        } else {
            rows[kept++] = rows[i];
        }
    }
    out = PyList_New(kept);
    for (Py_ssize_t i = 0; out != NULL && i < kept; i++) {
        PyObject *t = Py_BuildValue("(LLL)", rows[i].line, rows[i].hits, rows[i].time);
        if (t == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, t);
    }
done:
    PyMem_Free(rows);
    return out;
}

/* {"file", "line", "name", "timings", "source": None} of one timings item. */
static PyObject *function_of(const char *path, PyObject *key, PyObject *entries)
{
    long long first;
    if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 3
        || !PyUnicode_Check(PyTuple_GET_ITEM(key, 0)) || !PyUnicode_Check(PyTuple_GET_ITEM(key, 2))
        || !count_of(PyTuple_GET_ITEM(key, 1), 0, &first)) {
        refuse(path, "a function is not named (file, first line, name)");
        return NULL;
    }
    PyObject *name = PyTuple_GET_ITEM(key, 2);
    PyObject *timings = timings_of(path, name, entries);
    if (timings == NULL)
        return NULL;
    return Py_BuildValue("{s:O,s:L,s:O,s:N,s:O}", "file", PyTuple_GET_ITEM(key, 0), "line", first,
                         "name", name, "timings", timings, "source", Py_None);
}

static PyObject *line_profile(const char *path, PyObject *attrs)
{
    PyObject *timings = PyDict_GetItemString(attrs, "timings");
    PyObject *unit = PyDict_GetItemString(attrs, "unit");
    if (timings == NULL || !PyDict_Check(timings))
        return refuse(path, "its LineStats has no dict of timings"), NULL;
    double u = unit != NULL && (PyFloat_Check(unit) || PyLong_Check(unit)) && !PyBool_Check(unit)
                   ? PyFloat_AsDouble(unit) : -1.0;
    if (u == -1.0 && PyErr_Occurred())
        PyErr_Clear();
    if (!(u > 0.0) || !isfinite(u))
        return refuse(path, "its LineStats' unit is not a positive number of seconds"), NULL;
    PyObject *functions = PyList_New(0);
    if (functions == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *entries;
    while (PyDict_Next(timings, &pos, &key, &entries)) {
        PyObject *f = function_of(path, key, entries);
        if (f == NULL || PyList_Append(functions, f) < 0) {
            Py_XDECREF(f);
            Py_DECREF(functions);
            return NULL;
        }
        Py_DECREF(f);
    }
    PyObject *stats = Py_BuildValue("{s:d,s:{s:s},s:N}", "unit", u, "meta", "profiler",
                                    "line_profiler", "functions", functions);
    /* the file format's own checks, as every line profile passes them */
    pyro_line_view view;
    PyObject *reason = NULL;
    int shape = stats != NULL ? pyro_line_view_init(&view, stats, &reason) : -1;
    if (shape == 0)
        pyro_line_view_release(&view);
    else if (shape > 0) {
        refuse(path, "%U", reason);
        Py_DECREF(reason);
    }
    if (shape != 0)
        Py_CLEAR(stats);
    return stats;
}

int pyro_lprof_sniff(const char *data, size_t len)
{
    return len >= 2 && (unsigned char)data[0] == 0x80 && data[1] >= PYRO_LPROF_MIN_PROTOCOL
        && data[1] <= PYRO_LPROF_MAX_PROTOCOL;
}

PyObject *pyro_lprof_read(PyObject *path_obj)
{
    char *data;
    size_t len;
    PyObject *path_bytes = pyro_read_path(path_obj, &data, &len);
    if (path_bytes == NULL)
        return NULL;
    const char *path = PyBytes_AS_STRING(path_bytes);
    PyObject *stats = NULL;
    if (len == 0)
        refuse(path, "it is empty");
    else if ((unsigned char)data[0] == 0x80 && len >= 2 && !pyro_lprof_sniff(data, len))
        refuse(path, "it is a pickle of protocol %d, which line_profiler does not write",
               (int)(unsigned char)data[1]);
    else if (!pyro_lprof_sniff(data, len))
        refuse(path, "it is no pickle");
    else {
        PyObject *attrs = pyro_pickle_line_stats(path, data, len);
        if (attrs != NULL) {
            stats = line_profile(path, attrs);
            Py_DECREF(attrs);
        }
    }
    PyMem_RawFree(data);
    Py_DECREF(path_bytes);
    return stats;
}
