/* pstats_shape.c: check a dict against pstats' shape (see pstats_shape.h). */
#include "model/pstats_shape.h"

#include <stdarg.h>

static int fits_ll(PyObject *o)
{
    int overflow;
    PyLong_AsLongLongAndOverflow(o, &overflow);
    return overflow == 0;
}

/* Counts are exact ints (pstats prints them with str(), which a bool
 * would spell "True"); times are ints or floats. */
static int is_count(PyObject *o)
{
    return PyLong_CheckExact(o) && fits_ll(o);
}

static int is_time(PyObject *o)
{
    return PyFloat_Check(o) || (PyLong_CheckExact(o) && fits_ll(o));
}

/* The marker's key, ('__sampled__',). */
static int is_marker_key(PyObject *k)
{
    return PyTuple_Check(k) && PyTuple_GET_SIZE(k) == 1 && PyUnicode_Check(PyTuple_GET_ITEM(k, 0))
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(k, 0), "__sampled__") == 0;
}

int pyro_is_sampled_marker(PyObject *key, PyObject *value)
{
    return value == Py_True && is_marker_key(key);
}

/* Why `k` is not a (filename, lineno, funcname) key, or NULL if it is. */
static const char *key_problem(PyObject *k)
{
    if (is_marker_key(k))
        return "marks a sampled profile only with the value True";
    if (!PyTuple_Check(k) || PyTuple_GET_SIZE(k) != 3)
        return "is not a (filename, lineno, funcname) tuple";
    if (!PyUnicode_Check(PyTuple_GET_ITEM(k, 0)))
        return "has a file name that is not a str";
    PyObject *line = PyTuple_GET_ITEM(k, 1);
    if (!PyLong_Check(line) || !fits_ll(line))
        return "has a line number that is not an int";
    /* The profile module's ('profile', 0, name) entry for the profiled
     * command takes the command as given: often a code object. */
    if (!PyUnicode_Check(PyTuple_GET_ITEM(k, 2))
        && !(PyLong_AsLongLong(line) == 0
             && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(k, 0), "profile") == 0))
        return "has a function name that is not a str";
    return NULL;
}

static int invalid(PyObject **reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    return *reason != NULL ? 1 : -1;
}

int pyro_check_call(PyObject *key, PyObject *ckey, PyObject *cvalue, int ckey_checked,
                    PyObject **reason)
{
    *reason = NULL;
    const char *why = ckey_checked ? NULL : key_problem(ckey);
    if (why != NULL)
        return invalid(reason, "a caller of %.200R %s", key, why);
    if (is_count(cvalue))
        return 0;   /* the pure-Python profile module: a call count */
    if (!PyTuple_Check(cvalue) || PyTuple_GET_SIZE(cvalue) != 4
        || !is_count(PyTuple_GET_ITEM(cvalue, 0)) || !is_count(PyTuple_GET_ITEM(cvalue, 1))
        || !is_time(PyTuple_GET_ITEM(cvalue, 2)) || !is_time(PyTuple_GET_ITEM(cvalue, 3)))
        return invalid(reason, "the call %.200R -> %.200R has stats that are not (nc, cc, tt, ct)",
                       ckey, key);
    return 0;
}

int pyro_check_entry(PyObject *key, PyObject *value, int callers_too, PyObject **reason)
{
    *reason = NULL;
    const char *why = key_problem(key);
    if (why != NULL)
        return invalid(reason, "the key %.200R %s", key, why);
    if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 5)
        return invalid(reason, "the entry of %.200R is not a (cc, nc, tt, ct, callers) tuple", key);
    if (!is_count(PyTuple_GET_ITEM(value, 0)) || !is_count(PyTuple_GET_ITEM(value, 1)))
        return invalid(reason, "the entry of %.200R has call counts that are not ints", key);
    if (!is_time(PyTuple_GET_ITEM(value, 2)) || !is_time(PyTuple_GET_ITEM(value, 3)))
        return invalid(reason, "the entry of %.200R has times that are not numbers", key);
    PyObject *callers = PyTuple_GET_ITEM(value, 4);
    if (!PyDict_Check(callers))
        return invalid(reason, "the entry of %.200R has callers that are not a dict", key);
    if (!callers_too)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *ckey, *cvalue;
    while (PyDict_Next(callers, &pos, &ckey, &cvalue)) {
        int rc = pyro_check_call(key, ckey, cvalue, 0, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pyro_check_stats(PyObject *stats, PyObject **reason)
{
    *reason = NULL;
    if (!PyDict_Check(stats))
        return invalid(reason, "it is a %s, not a dict", Py_TYPE(stats)->tp_name);
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        int rc = pyro_check_entry(key, value, 1, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ('__sampled__',). */
static PyObject *marker_key(void)
{
    return Py_BuildValue("(s)", "__sampled__");
}

PyObject *pyro_stats_unmark(PyObject *stats, int *sampled)
{
    *sampled = 0;
    if (!PyDict_Check(stats))
        return Py_NewRef(stats);
    PyObject *key = marker_key();
    if (key == NULL)
        return NULL;
    PyObject *value = PyDict_GetItemWithError(stats, key);   /* borrowed */
    if (value != Py_True) {
        Py_DECREF(key);
        return PyErr_Occurred() ? NULL : Py_NewRef(stats);
    }
    PyObject *copy = PyDict_Copy(stats);
    if (copy != NULL && PyDict_DelItem(copy, key) < 0)
        Py_CLEAR(copy);
    Py_DECREF(key);
    *sampled = copy != NULL;
    return copy;
}

int pyro_stats_mark(PyObject *stats)
{
    PyObject *key = marker_key();
    int rc = key != NULL ? PyDict_SetItem(stats, key, Py_True) : -1;
    Py_XDECREF(key);
    return rc;
}

PyObject *pyro_stats_sample_counts(PyObject *stats)
{
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        PyObject *v;
        if (PyTuple_Check(value) && PyTuple_GET_SIZE(value) == 5
            && is_count(PyTuple_GET_ITEM(value, 0)) && is_count(PyTuple_GET_ITEM(value, 1))) {
            PyObject *cc = PyTuple_GET_ITEM(value, 0), *nc = PyTuple_GET_ITEM(value, 1);
            v = Py_BuildValue("(OOddO)", cc, nc, (double)PyLong_AsLongLong(cc),
                              (double)PyLong_AsLongLong(nc), PyTuple_GET_ITEM(value, 4));
        } else {
            v = Py_NewRef(value);
        }
        if (v == NULL || PyDict_SetItem(out, key, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(v);
    }
    return out;
}
