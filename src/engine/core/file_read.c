/* file_read.c: whole input files, regular ones only (see file_read.h). */
#include "core/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int pyro_read_head(const char *path, char *buf, size_t want, size_t *got)
{
    int err = 0;
    ssize_t n = 0;
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
            n = read(fd, buf, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            err = errno ? errno : EIO;
    }
    if (fd >= 0)
        close(fd);
    *got = n > 0 ? (size_t)n : 0;
    return err;
}

PyObject *pyro_read_path(PyObject *path_obj, char **data, size_t *len)
{
    PyObject *path_bytes = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    const char *path = PyBytes_AS_STRING(path_bytes);
    int err;
    *data = NULL;
    *len = 0;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_read_file(path, data, len);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        pyro_raise_read_error(path, err);
        Py_DECREF(path_bytes);
        return NULL;
    }
    return path_bytes;
}
