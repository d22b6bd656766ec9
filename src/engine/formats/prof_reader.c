/* prof_reader.c: read a .prof file (pstats' marshal format) into a dict.
 *
 * The result is what marshal.load would give, reached faster and safely:
 * marshal_reader.c decodes it and checks each entry's shape as it goes (a
 * code object, which the profile module puts in one key, becomes a str).
 * Only the first marshal object is the stats: pyrometer appends its call
 * tree as a second one (tree_reader.c reads it), which pstats ignores.
 *
 * Every failure is one line: OSError (of the errno's subclass) when the
 * file cannot be read, FormatError when it is not a profile. */
#include "prof_file.h"
#include "marshal_reader.h"
#include "tree_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

PyObject *pyro_FormatError = NULL;

/* ---- reading the file ------------------------------------------------- */

int pyro_read_file(const char *path, char **data, size_t *len)
{
    /* Non-blocking, so that a FIFO given as input cannot hang us at the
     * open; only regular files are read (not /dev/zero, not a pipe). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno ? errno : EIO;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return err;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return EISDIR;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return PYRO_ENOTREG;
    }
    if ((uint64_t)st.st_size > PYRO_MAX_INPUT) {
        close(fd);
        return PYRO_ETOOBIG;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;   /* +1: the read that meets EOF fits */
    char *buf = PyMem_RawMalloc(cap);
    if (buf == NULL) {
        close(fd);
        return ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            /* The file grew while it was read: up to the cap. */
            if (cap > PYRO_MAX_INPUT) {
                PyMem_RawFree(buf);
                close(fd);
                return PYRO_ETOOBIG;
            }
            char *bigger = PyMem_RawRealloc(buf, cap * 2);
            if (bigger == NULL) {
                PyMem_RawFree(buf);
                close(fd);
                return ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int err = errno ? errno : EIO;
            PyMem_RawFree(buf);
            close(fd);
            return err;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

/* The first `n` bytes of `path` (fewer if it is shorter), with the checks
 * pyro_read_file makes: how a command tells a line profile from a .prof. */
PyObject *pyro_py_file_head(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj, *path_bytes = NULL;
    Py_ssize_t want;
    if (!PyArg_ParseTuple(args, "On:file_head", &path_obj, &want))
        return NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    const char *path = PyBytes_AS_STRING(path_bytes);
    int err = 0;
    char buf[64];
    ssize_t got = 0;
    if (want < 0 || want > (Py_ssize_t)sizeof(buf))
        want = (Py_ssize_t)sizeof(buf);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        err = errno ? errno : EIO;
    else if (fstat(fd, &st) < 0)
        err = errno;
    else if (S_ISDIR(st.st_mode))
        err = EISDIR;
    else if (!S_ISREG(st.st_mode))
        err = PYRO_ENOTREG;
    else {
        do
            got = read(fd, buf, (size_t)want);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            err = errno ? errno : EIO;
    }
    if (fd >= 0)
        close(fd);
    PyObject *r = NULL;
    if (err != 0)
        pyro_raise_read_error(path, err);
    else
        r = PyBytes_FromStringAndSize(buf, got);
    Py_DECREF(path_bytes);
    return r;
}

/* OSError of the subclass Python would pick for `err` (so callers can catch
 * FileNotFoundError), with our one-line message and .errno set. */
void pyro_raise_read_error(const char *path, int err)
{
    if (err == ENOMEM) {
        PyErr_NoMemory();
        return;
    }
    const char *reason = err == PYRO_ENOTREG ? "not a regular file (a pipe, device or socket)"
                       : err == PYRO_ETOOBIG ? "larger than any profile (over 1 GiB)"
                       : strerror(err);
    PyObject *type = PyExc_OSError;
    if (err == ENOENT)
        type = PyExc_FileNotFoundError;
    else if (err == EACCES || err == EPERM)
        type = PyExc_PermissionError;
    else if (err == EISDIR)
        type = PyExc_IsADirectoryError;
    else if (err == ENOTDIR)
        type = PyExc_NotADirectoryError;
    PyObject *msg = PyUnicode_FromFormat("pyrometer: cannot read %s: %s", path, reason);
    if (msg == NULL)
        return;
    /* One argument, so str(exc) is just the message; errno set after. */
    PyObject *exc = PyObject_CallFunctionObjArgs(type, msg, NULL);
    Py_DECREF(msg);
    if (exc == NULL)
        return;
    PyObject *code = err > 0 ? PyLong_FromLong(err) : Py_NewRef(Py_None);
    if (code == NULL || PyObject_SetAttrString(exc, "errno", code) < 0)
        PyErr_Clear();   /* the message alone is still right */
    Py_XDECREF(code);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
}

/* ---- the shape of a pstats dict ---------------------------------------- */

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

/* Why `k` is not a (filename, lineno, funcname) key, or NULL if it is. */
static const char *key_problem(PyObject *k)
{
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

/* ---- load_stats ---------------------------------------------------------- */

/* The cyclic GC is paused while the dict is built: the data is acyclic, and
 * collections triggered by a million new tuples would cost as much as the
 * parse.  Goes through the gc module, the same on every version. */
static int gc_pause(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL) {
        PyErr_Clear();
        return 0;
    }
    int was_enabled = 0;
    PyObject *r = PyObject_CallMethod(gc, "isenabled", NULL);
    if (r != NULL && PyObject_IsTrue(r) == 1) {
        PyObject *d = PyObject_CallMethod(gc, "disable", NULL);
        was_enabled = d != NULL;
        Py_XDECREF(d);
    }
    Py_XDECREF(r);
    PyErr_Clear();
    Py_DECREF(gc);
    return was_enabled;
}

static void gc_resume(int was_enabled)
{
    if (!was_enabled)
        return;
    pyro_saved_exc saved;
    pyro_exc_save(&saved);
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *r = gc != NULL ? PyObject_CallMethod(gc, "enable", NULL) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(gc);
    PyErr_Clear();
    pyro_exc_restore(&saved);
}

static PyObject *not_a_profile(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (reason == NULL)
        return NULL;
    PyErr_Format(pyro_FormatError, "pyrometer: %s is not a profile file (%U)", path, reason);
    Py_DECREF(reason);
    return NULL;
}

/* The stats of `path`; with `rest`, also the file's data: *rest a PyMem_Raw
 * buffer of *rest_len bytes, which the caller frees, where the first
 * object ends at *rest_at. */
static PyObject *load_first(const char *path, char **rest, size_t *rest_len, size_t *rest_at)
{
    char *data = NULL;
    size_t len = 0;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_read_file(path, &data, &len);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        pyro_raise_read_error(path, err);
        return NULL;
    }
    PyObject *stats = NULL;
    size_t end = len;
    if (len == 0) {
        not_a_profile(path, "it is empty");
        goto done;
    }
    /* A profile is a marshal dict: anything else is said at once. */
    int first = (unsigned char)data[0] & 0x7f;
    if (first != '{') {
        const char *what = pyro_marshal_type_name(first);
        if (what != NULL)
            not_a_profile(path, "its marshal data is a %s, not a dict", what);
        else
            not_a_profile(path, "it is not marshal data");
        goto done;
    }

    int gc_was_enabled = gc_pause();
    pyro_marshal_result r;
    stats = pyro_marshal_read(data, len, &pyro_marshal_pstats, &r);
    end = r.end;
    gc_resume(gc_was_enabled);

    if (r.status == PYRO_MARSHAL_INVALID) {
        not_a_profile(path, "%U", r.reason);
        Py_CLEAR(r.reason);
        goto done;
    }
    if (r.status == PYRO_MARSHAL_CORRUPT) {
        if (r.foreign != NULL)
            not_a_profile(path, "its marshal data holds a %s, which no profile has", r.foreign);
        else
            not_a_profile(path, "%s", r.why);
        goto done;
    }
    if (stats == NULL)
        goto done;   /* MemoryError */
    /* checked entry by entry as it was read */
done:
    if (stats != NULL && rest != NULL) {
        *rest = data;
        *rest_at = end;
        *rest_len = len;
        return stats;
    }
    PyMem_RawFree(data);
    return stats;
}

PyObject *pyro_load_stats(const char *path)
{
    return load_first(path, NULL, NULL, NULL);
}

PyObject *pyro_load_profile(const char *path, PyObject **tree)
{
    char *data = NULL;
    size_t len = 0, at = 0;
    *tree = NULL;
    PyObject *stats = load_first(path, &data, &len, &at);
    if (stats == NULL)
        return NULL;
    int rc = pyro_read_tree(path, data + at, len - at, tree);
    PyMem_RawFree(data);
    if (rc < 0)
        Py_CLEAR(stats);
    return stats;
}

PyObject *pyro_py_load_profile(PyObject *module, PyObject *path_obj)
{
    (void)module;
    PyObject *path_bytes = NULL, *tree = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    PyObject *stats = pyro_load_profile(PyBytes_AS_STRING(path_bytes), &tree);
    Py_DECREF(path_bytes);
    if (stats == NULL)
        return NULL;
    return Py_BuildValue("(NN)", stats, tree != NULL ? tree : Py_NewRef(Py_None));
}

PyObject *pyro_py_load_stats(PyObject *module, PyObject *path_obj)
{
    (void)module;
    PyObject *path_bytes = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    PyObject *stats = pyro_load_stats(PyBytes_AS_STRING(path_bytes));
    Py_DECREF(path_bytes);
    return stats;
}
