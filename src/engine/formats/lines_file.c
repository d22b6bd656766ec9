/* lines_file.c: saved line profiles: the magic line, then one marshal dict
 * (docs/line-format.md).  Written atomically; read back with every part
 * checked, so a damaged file is refused with one clear line. */
#include "formats/lines_file.h"
#include "formats/marshal_reader.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/file_read.h"

#include <errno.h>
#include <marshal.h>
#include <stdio.h>

#define MAGIC_LEN (sizeof(PYRO_LINES_MAGIC) - 1)

/* ---- shape check --------------------------------------------------------- */

static int bad(PyObject **reason, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    *reason = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    return *reason == NULL ? -1 : 1;
}

static int is_count(PyObject *o)
{
    if (!PyLong_Check(o) || PyBool_Check(o))
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return overflow == 0 && v >= 0;
}

static int check_function(PyObject *f, Py_ssize_t i, PyObject **reason)
{
    if (!PyDict_Check(f))
        return bad(reason, "function %zd is not a dict", i);
    PyObject *file = PyDict_GetItemString(f, "file");
    PyObject *line = PyDict_GetItemString(f, "line");
    PyObject *name = PyDict_GetItemString(f, "name");
    PyObject *timings = PyDict_GetItemString(f, "timings");
    PyObject *source = PyDict_GetItemString(f, "source");
    if (file == NULL || !PyUnicode_Check(file) || name == NULL || !PyUnicode_Check(name))
        return bad(reason, "function %zd has no file or name", i);
    if (line == NULL || !is_count(line))
        return bad(reason, "function %zd has no first line number", i);
    if (timings == NULL || !PyList_Check(timings))
        return bad(reason, "function %zd has no list of timings", i);
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(timings); j++) {
        PyObject *t = PyList_GET_ITEM(timings, j);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3 || !is_count(PyTuple_GET_ITEM(t, 0))
            || !is_count(PyTuple_GET_ITEM(t, 1)) || !is_count(PyTuple_GET_ITEM(t, 2)))
            return bad(reason, "function %zd: timing %zd is not (line, hits, time)", i, j);
    }
    if (source != NULL && source != Py_None) {
        if (!PyList_Check(source))
            return bad(reason, "function %zd: source is not a list of lines", i);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(source); j++)
            if (!PyUnicode_Check(PyList_GET_ITEM(source, j)))
                return bad(reason, "function %zd: source line %zd is not text", i, j);
    }
    return 0;
}

int pyro_check_lines(PyObject *stats, PyObject **reason)
{
    *reason = NULL;
    if (!PyDict_Check(stats))
        return bad(reason, "its data is not a dict");
    PyObject *unit = PyDict_GetItemString(stats, "unit");
    if (unit == NULL || !(PyFloat_Check(unit) || PyLong_Check(unit)))
        return bad(reason, "it has no time unit");
    double u = PyFloat_AsDouble(unit);
    if (u == -1.0 && PyErr_Occurred())
        return -1;
    if (!(u > 0.0) || u == Py_HUGE_VAL)
        return bad(reason, "its time unit is not a positive number");
    PyObject *meta = PyDict_GetItemString(stats, "meta");
    if (meta != NULL && !PyDict_Check(meta))
        return bad(reason, "its meta data is not a dict");
    PyObject *functions = PyDict_GetItemString(stats, "functions");
    if (functions == NULL || !PyList_Check(functions))
        return bad(reason, "it has no list of functions");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(functions); i++) {
        int rc = check_function(PyList_GET_ITEM(functions, i), i, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------- */

int pyro_lines_write(PyObject *path_obj, PyObject *stats)
{
    PyObject *path_bytes = NULL, *reason = NULL;
    int rc = pyro_check_lines(stats, &reason);
    if (rc != 0) {
        if (rc > 0)
            PyErr_Format(PyExc_ValueError, "pyrometer: not line statistics: %U", reason);
        Py_XDECREF(reason);
        return -1;
    }
    PyObject *body = PyDict_Copy(stats);
    PyObject *version = PyLong_FromLong(PYRO_LINES_VERSION);
    if (body == NULL || version == NULL || PyDict_SetItemString(body, "version", version) < 0) {
        Py_XDECREF(body);
        Py_XDECREF(version);
        return -1;
    }
    Py_DECREF(version);
    PyObject *data = PyMarshal_WriteObjectToString(body, Py_MARSHAL_VERSION);
    Py_DECREF(body);
    if (data == NULL)
        return -1;
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    char *buf = PyMem_RawMalloc(MAGIC_LEN + (size_t)n);
    if (buf == NULL) {
        Py_DECREF(data);
        PyErr_NoMemory();
        return -1;
    }
    memcpy(buf, PYRO_LINES_MAGIC, MAGIC_LEN);
    memcpy(buf + MAGIC_LEN, PyBytes_AS_STRING(data), (size_t)n);
    Py_DECREF(data);
    if (!PyUnicode_FSConverter(path_obj, &path_bytes)) {
        PyMem_RawFree(buf);
        return -1;
    }
    const char *path = PyBytes_AS_STRING(path_bytes);
    int err = 0;
    Py_BEGIN_ALLOW_THREADS
    if (pyro_write_atomic(path, buf, MAGIC_LEN + (size_t)n) < 0)
        err = errno;
    Py_END_ALLOW_THREADS
    PyMem_RawFree(buf);
    if (err != 0) {
        PyErr_Format(PyExc_OSError, "pyrometer: cannot write %s: %s", path, strerror(err));
        Py_DECREF(path_bytes);
        return -1;
    }
    Py_DECREF(path_bytes);
    return 0;
}

/* ---- reading ------------------------------------------------------------- */

static void not_lines(const char *path, const char *why)
{
    PyErr_Format(pyro_FormatError, "pyrometer: %s is not a line profile (%s)", path, why);
}

PyObject *pyro_lines_read(PyObject *path_obj)
{
    PyObject *path_bytes = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    const char *path = PyBytes_AS_STRING(path_bytes);
    char *data = NULL;
    size_t len = 0;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_read_file(path, &data, &len);
    Py_END_ALLOW_THREADS
    PyObject *stats = NULL;
    if (err != 0) {
        pyro_raise_read_error(path, err);
        goto done;
    }
    if (len < MAGIC_LEN || memcmp(data, PYRO_LINES_MAGIC, MAGIC_LEN) != 0) {
        not_lines(path, "it does not start as one");
        goto done;
    }
    pyro_marshal_result res;
    stats = pyro_marshal_read(data + MAGIC_LEN, len - MAGIC_LEN, &pyro_marshal_data, &res);
    if (stats == NULL) {
        if (res.status != PYRO_MARSHAL_PYERR) {
            char why[160];
            snprintf(why, sizeof(why), "it is damaged: %s",
                     res.foreign != NULL ? "it holds a type no line profile has"
                     : res.why != NULL ? res.why : "truncated or corrupt");
            not_lines(path, why);
        }
        goto done;
    }
    PyObject *version = PyDict_Check(stats) ? PyDict_GetItemString(stats, "version") : NULL;
    if (version == NULL || !PyLong_CheckExact(version)) {
        Py_CLEAR(stats);
        not_lines(path, "it is damaged: no format version");
        goto done;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(version, &overflow);
    if (overflow != 0 || v != PYRO_LINES_VERSION) {
        /* The version as the file has it (an int of up to 64 bits: the
         * decoder refuses bigger ones). */
        PyErr_Format(pyro_FormatError,
                     "pyrometer: %s is a line profile of format version %S, which this "
                     "pyrometer does not read (it reads version %d)", path, version,
                     PYRO_LINES_VERSION);
        Py_CLEAR(stats);
        goto done;
    }
    PyObject *reason = NULL;
    int shape = pyro_check_lines(stats, &reason);
    if (shape != 0) {
        Py_CLEAR(stats);
        if (shape > 0) {
            PyObject *r = PyUnicode_FromFormat("it is damaged: %U", reason);
            if (r != NULL) {
                PyErr_Format(pyro_FormatError, "pyrometer: %s is not a line profile (%U)", path, r);
                Py_DECREF(r);
            }
        }
        Py_XDECREF(reason);
        goto done;
    }
    PyDict_DelItemString(stats, "version");
done:
    PyMem_RawFree(data);
    Py_DECREF(path_bytes);
    return stats;
}
