/* line_file.c: a line profile saved to a file and read back.
 *
 * The file is PYRO_LINES_MAGIC followed by one marshal object: the dict of
 * LineProfiler.get_stats(), sources included, so that a report or an HTML
 * page made later, elsewhere, shows the code as it was profiled.  Written
 * atomically; read back only when it has the shape get_stats() gives. */
#include "line_file.h"
#include "atomic_file.h"
#include "prof_file.h"

#include <errno.h>
#include <marshal.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the shape ----------------------------------------------------------- */

static int why(PyObject **reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    return *reason != NULL ? 1 : -1;
}

static int is_int(PyObject *o)
{
    return PyLong_Check(o) && !PyBool_Check(o);
}

static int check_function(PyObject *fn, Py_ssize_t i, PyObject **reason)
{
    if (!PyDict_Check(fn))
        return why(reason, "function %zd is not a dict", i);
    PyObject *file = PyDict_GetItemString(fn, "file"), *line = PyDict_GetItemString(fn, "line"),
             *name = PyDict_GetItemString(fn, "name"), *tm = PyDict_GetItemString(fn, "timings"),
             *src = PyDict_GetItemString(fn, "source");
    if (file == NULL || !PyUnicode_Check(file) || name == NULL || !PyUnicode_Check(name))
        return why(reason, "function %zd has no file or name str", i);
    if (line == NULL || !is_int(line))
        return why(reason, "function %zd has no line number", i);
    if (tm == NULL || !(PyList_Check(tm) || PyTuple_Check(tm)))
        return why(reason, "function %zd has no list of timings", i);
    for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(tm); j++) {
        PyObject *row = PySequence_Fast_GET_ITEM(tm, j);
        if (!(PyTuple_Check(row) || PyList_Check(row)) || PySequence_Fast_GET_SIZE(row) != 3
            || !is_int(PySequence_Fast_GET_ITEM(row, 0)) || !is_int(PySequence_Fast_GET_ITEM(row, 1))
            || !(is_int(PySequence_Fast_GET_ITEM(row, 2))
                 || PyFloat_Check(PySequence_Fast_GET_ITEM(row, 2))))
            return why(reason, "function %zd has a timing that is not (line, hits, time)", i);
    }
    if (src != NULL && src != Py_None) {
        if (!PyList_Check(src))
            return why(reason, "function %zd has a source that is not a list", i);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(src); j++)
            if (!PyUnicode_Check(PyList_GET_ITEM(src, j)))
                return why(reason, "function %zd has a source line that is not a str", i);
    }
    return 0;
}

int pyro_check_line_stats(PyObject *stats, PyObject **reason)
{
    *reason = NULL;
    if (!PyDict_Check(stats))
        return why(reason, "it is a %s, not a dict", Py_TYPE(stats)->tp_name);
    PyObject *unit = PyDict_GetItemString(stats, "unit");
    if (unit == NULL || !(PyFloat_Check(unit) || is_int(unit)))
        return why(reason, "it has no time unit");
    double u = PyFloat_AsDouble(unit);
    if (u == -1.0 && PyErr_Occurred())
        return -1;
    if (!(u > 0) || !isfinite(u))
        return why(reason, "its time unit is not a positive number");
    PyObject *meta = PyDict_GetItemString(stats, "meta");
    if (meta != NULL && meta != Py_None) {
        if (!PyDict_Check(meta))
            return why(reason, "its meta is not a dict");
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(meta, &pos, &k, &v))
            if (!PyUnicode_Check(k) || !PyUnicode_Check(v))
                return why(reason, "its meta is not a dict of str");
    }
    PyObject *fl = PyDict_GetItemString(stats, "functions");
    if (fl == NULL || !PyList_Check(fl))
        return why(reason, "it has no list of functions");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(fl); i++) {
        int rc = check_function(PyList_GET_ITEM(fl, i), i, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- writer and reader --------------------------------------------------- */

PyObject *pyro_py_write_lines(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj, *stats, *path_bytes = NULL, *reason = NULL;
    if (!PyArg_ParseTuple(args, "OO:write_lines", &path_obj, &stats))
        return NULL;
    int bad = pyro_check_line_stats(stats, &reason);
    if (bad != 0) {
        if (bad > 0)
            PyErr_Format(PyExc_ValueError, "pyrometer: not line statistics: %U", reason);
        Py_XDECREF(reason);
        return NULL;
    }
    PyObject *data = PyMarshal_WriteObjectToString(stats, Py_MARSHAL_VERSION);
    if (data == NULL)
        return NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes)) {
        Py_DECREF(data);
        return NULL;
    }
    size_t mlen = strlen(PYRO_LINES_MAGIC), dlen = (size_t)PyBytes_GET_SIZE(data);
    char *buf = PyMem_RawMalloc(mlen + dlen);
    PyObject *result = NULL;
    if (buf == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(buf, PYRO_LINES_MAGIC, mlen);
    memcpy(buf + mlen, PyBytes_AS_STRING(data), dlen);
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_write_atomic(PyBytes_AS_STRING(path_bytes), buf, mlen + dlen) < 0 ? errno : 0;
    Py_END_ALLOW_THREADS
    if (err) {
        errno = err;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path_obj);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_RawFree(buf);
    Py_DECREF(data);
    Py_DECREF(path_bytes);
    return result;
}

PyObject *pyro_py_read_lines(PyObject *module, PyObject *path_obj)
{
    (void)module;
    PyObject *path_bytes = NULL, *stats = NULL, *reason = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    char *data = NULL;
    size_t len = 0;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_read_file(PyBytes_AS_STRING(path_bytes), &data, &len);
    Py_END_ALLOW_THREADS
    if (err) {
        pyro_raise_read_error(PyBytes_AS_STRING(path_bytes), err);
        goto done;
    }
    size_t mlen = strlen(PYRO_LINES_MAGIC);
    if (len < mlen || memcmp(data, PYRO_LINES_MAGIC, mlen) != 0) {
        PyErr_Format(pyro_FormatError, "pyrometer: %S is not a pyrometer line profile", path_obj);
        goto done;
    }
    stats = PyMarshal_ReadObjectFromString(data + mlen, (Py_ssize_t)(len - mlen));
    if (stats == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError))
            goto done;
        PyErr_Clear();
        PyErr_Format(pyro_FormatError, "pyrometer: %S is not a line profile: its data is damaged "
                     "(a truncated file?)", path_obj);
        goto done;
    }
    int bad = pyro_check_line_stats(stats, &reason);
    if (bad != 0) {
        if (bad > 0)
            PyErr_Format(pyro_FormatError, "pyrometer: %S is not a line profile: %U", path_obj,
                         reason);
        Py_XDECREF(reason);
        Py_CLEAR(stats);
    }
done:
    PyMem_RawFree(data);
    Py_DECREF(path_bytes);
    return stats;
}
