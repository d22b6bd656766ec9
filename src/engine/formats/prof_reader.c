/* prof_reader.c: read a .prof file (pstats' marshal format) into a dict.
 *
 * The result is what marshal.load would give, reached faster and safely:
 * marshal_reader.c decodes it and checks each entry's shape as it goes (a
 * code object, which the profile module puts in one key, becomes a str).
 * Only the first marshal object is the stats: pyrometer appends its call
 * tree as a second one (tree_reader.c reads it), which pstats ignores.
 *
 * CPython 3.15's sampling profiler marks its stats with ('__sampled__',):
 * True; the reader takes the marker out and says it was there.  A file
 * that is no marshal dict may be collapsed stacks (collapsed_reader.c):
 * its stats are then made from its tree, as 3.15's sampler makes them.
 *
 * Every failure is one line: OSError (of the errno's subclass) when the
 * file cannot be read, FormatError when it is not a profile. */
#include "formats/marshal_reader.h"
#include "core/errors.h"
#include "core/file_read.h"
#include "model/callgraph.h"
#include "model/pstats_shape.h"
#include "formats/collapsed_reader.h"
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

/* The whole file, or NULL + OSError / MemoryError. */
static char *read_all(const char *path, size_t *len)
{
    char *data = NULL;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_read_file(path, &data, len);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        pyro_raise_read_error(path, err);
        return NULL;
    }
    return data;
}

/* Whether the data is a marshal dict, as every .prof is. */
static int marshal_dict(const char *data, size_t len)
{
    return len > 0 && ((unsigned char)data[0] & 0x7f) == '{';
}

/* The stats of a .prof's data: where they end (*end) and whether 3.15's
 * sampled marker was among them (*sampled; it is left out). */
static PyObject *parse_stats(const char *path, const char *data, size_t len, size_t *end,
                             int *sampled)
{
    *sampled = 0;
    if (len == 0)
        return not_a_profile(path, "it is empty");
    /* A profile is a marshal dict: anything else is said at once. */
    if (!marshal_dict(data, len)) {
        const char *what = pyro_marshal_type_name((unsigned char)data[0] & 0x7f);
        if (what != NULL)
            return not_a_profile(path, "its marshal data is a %s, not a dict", what);
        return not_a_profile(path, "it is not marshal data");
    }
    int gc_was_enabled = gc_pause();
    pyro_marshal_result r;
    PyObject *stats = pyro_marshal_read(data, len, &pyro_marshal_pstats, &r);
    gc_resume(gc_was_enabled);
    if (r.status == PYRO_MARSHAL_INVALID) {
        not_a_profile(path, "%U", r.reason);
        Py_CLEAR(r.reason);
        return NULL;
    }
    if (r.status == PYRO_MARSHAL_CORRUPT) {
        if (r.foreign != NULL)
            return not_a_profile(path, "its marshal data holds a %s, which no profile has",
                                 r.foreign);
        return not_a_profile(path, "%s", r.why);
    }
    /* NULL: MemoryError; else checked entry by entry as it was read */
    *end = r.end;
    *sampled = stats != NULL && r.sampled;
    return stats;
}

PyObject *pyro_load_stats(const char *path)
{
    size_t len = 0, end = 0;
    int sampled;
    char *data = read_all(path, &len);
    if (data == NULL)
        return NULL;
    PyObject *stats = parse_stats(path, data, len, &end, &sampled);
    PyMem_RawFree(data);
    /* as marshal.load gives it: 3.15's pstats wants to see the marker */
    if (stats != NULL && sampled && pyro_stats_mark(stats) < 0)
        Py_CLEAR(stats);
    return stats;
}

/* Whether a tree's first metric counts samples: a .prof made from stacks
 * of samples, whose stats' times are sample counts too. */
static int counts_samples(PyObject *tree)
{
    PyObject *metrics = PyDict_GetItemString(tree, "metrics");   /* borrowed */
    if (metrics == NULL || !PyList_Check(metrics) || PyList_GET_SIZE(metrics) == 0
        || !PyDict_Check(PyList_GET_ITEM(metrics, 0)))
        return 0;
    PyObject *unit = PyDict_GetItemString(PyList_GET_ITEM(metrics, 0), "unit");
    return unit != NULL && PyUnicode_Check(unit)
        && PyUnicode_CompareWithASCIIString(unit, "samples") == 0;
}

/* The stats of collapsed stacks' tree, in 3.15's sampled shape. */
static PyObject *sampled_stats_of(PyObject *tree)
{
    pyro_stack_view v;
    if (pyro_stack_view_of_arg(&v, tree) < 0)
        return NULL;
    pyro_callgraph g;
    PyObject *stats = NULL;
    if (pyro_callgraph_from_view(&v, &g) == 0)
        stats = pyro_callgraph_as_sampled(&g);
    pyro_callgraph_free(&g);
    pyro_stack_view_release(&v);
    return stats;
}

/* Whether the first line has no NUL byte: text, not marshal data. */
static int text_line(const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    return memchr(data, '\0', nl != NULL ? (size_t)(nl - data) : len) == NULL;
}

/* Data that is not a marshal dict: collapsed stacks, or nothing known.
 * With `say`, data that is no stacks at all is a FormatError; without, it
 * is NULL with no exception. */
static PyObject *load_collapsed(const char *path, const char *data, size_t len, PyObject **tree,
                                int say)
{
    /* binary data is said as marshal data */
    if (!text_line(data, len)) {
        size_t end;
        int sampled;
        return parse_stats(path, data, len, &end, &sampled);
    }
    PyObject *why = NULL;
    int rc = pyro_collapsed_read(path, data, len, tree, &why);
    if (rc > 0) {
        if (say)
            not_a_profile(path, "it is neither pstats' marshal data nor collapsed stacks: %U",
                          why);
        Py_DECREF(why);
        return NULL;
    }
    if (rc < 0)
        return NULL;
    PyObject *stats = sampled_stats_of(*tree);
    if (stats == NULL)
        Py_CLEAR(*tree);
    return stats;
}

PyObject *pyro_load_profile(const char *path, PyObject **tree, pyro_profile_info *info,
                            int need_tree)
{
    pyro_profile_info none;
    if (info == NULL)
        info = &none;
    memset(info, 0, sizeof(*info));
    info->format = "prof";
    *tree = NULL;
    size_t len = 0, end = 0;
    char *data = read_all(path, &len);
    if (data == NULL)
        return NULL;
    PyObject *stats;
    if (len > 0 && !marshal_dict(data, len)) {
        stats = load_collapsed(path, data, len, tree, 1);
        if (*tree != NULL) {
            info->format = "collapsed";
            info->sampled = info->counts = 1;
        }
    } else {
        stats = parse_stats(path, data, len, &end, &info->sampled);
        if (stats == NULL && len > 0 && data[0] == '{'
            && PyErr_ExceptionMatches(pyro_FormatError) && text_line(data, len)) {
            /* stacks whose root is a built-in, {built-in method ...}, start
             * as a marshal dict does: read as stacks, unless they are none */
            pyro_saved_exc not_marshal, mine;
            pyro_exc_save(&not_marshal);
            stats = load_collapsed(path, data, len, tree, 0);
            if (*tree != NULL) {
                info->format = "collapsed";
                info->sampled = info->counts = 1;
            }
            pyro_exc_save(&mine);   /* none when they were stacks */
            pyro_exc_restore(&not_marshal);
            if (stats != NULL || pyro_exc_is_set(&mine)) {
                PyErr_Clear();
                pyro_exc_restore(&mine);
            }
            goto done;
        }
        if (stats != NULL && pyro_read_tree(path, data + end, len - end, tree) < 0) {
            if (need_tree || !PyErr_ExceptionMatches(pyro_FormatError))
                Py_CLEAR(stats);
            else
                PyErr_Clear();   /* the stats are what was asked for */
        }
        info->counts = info->sampled && *tree != NULL && counts_samples(*tree);
    }
done:
    PyMem_RawFree(data);
    return stats;
}
