/* lines_file.c: saved line profiles: the magic line, then one marshal dict
 * (docs/line-format.md).  Written atomically; read back with every part
 * checked, so a damaged file is refused with one clear line. */
#include "formats/lines_file.h"
#include "formats/marshal_reader.h"
#include "model/line_view.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/file_read.h"

#include <errno.h>
#include <marshal.h>
#include <stdio.h>

#define MAGIC_LEN (sizeof(PYRO_LINES_MAGIC) - 1)

/* ---- writing ------------------------------------------------------------- */

int pyro_lines_write(PyObject *path_obj, PyObject *stats)
{
    PyObject *path_bytes = NULL;
    pyro_line_view view;
    if (pyro_line_view_of_arg(&view, stats) < 0)
        return -1;
    int file_version = view.version;   /* 2 only when it lists its metrics */
    pyro_line_view_release(&view);
    PyObject *body = PyDict_Copy(stats);
    PyObject *version = PyLong_FromLong(file_version);
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
    char *data;
    size_t len;
    PyObject *path_bytes = pyro_read_path(path_obj, &data, &len);
    if (path_bytes == NULL)
        return NULL;
    const char *path = PyBytes_AS_STRING(path_bytes);
    PyObject *stats = NULL;
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
    if (overflow != 0 || v < 1 || v > PYRO_LINES_VERSION) {
        /* The version as the file has it (an int of up to 64 bits: the
         * decoder refuses bigger ones). */
        PyErr_Format(pyro_FormatError,
                     "pyrometer: %s is a line profile of format version %S, which this "
                     "pyrometer does not read (it reads versions 1 to %d)", path, version,
                     PYRO_LINES_VERSION);
        Py_CLEAR(stats);
        goto done;
    }
    PyObject *reason = NULL;
    pyro_line_view view;
    int shape = pyro_line_view_init(&view, stats, &reason);
    if (shape == 0) {
        pyro_line_view_release(&view);
        if (view.version != v) {
            shape = 1;
            reason = PyUnicode_FromString(v == 1 ? "version 1 lists no metrics"
                                                 : "version 2 lists its metrics");
            if (reason == NULL)
                shape = -1;
        }
    }
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
