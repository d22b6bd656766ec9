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
#include "formats/marshal_reader.h"
#include "core/errors.h"
#include "core/file_read.h"
#include "formats/prof_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
