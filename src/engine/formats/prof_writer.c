/* prof_writer.c: write a pstats dict as a .prof file (marshal), atomically,
 * with the call tree as a second marshal object when there is one
 * (docs/tree-format.md): pstats and the viewers read only the first. */
#include "core/atomic_file.h"
#include "model/pstats_shape.h"
#include "model/stack_view.h"
#include "formats/prof_file.h"

#include <errno.h>
#include <marshal.h>
#include <string.h>

/* "meta": how the profile was measured (clock, compensation, interpreter,
 * event source), at most 16 str -> str items of at most 200 characters. */
static int plain_meta(PyObject *meta)
{
    if (!PyDict_Check(meta) || PyDict_GET_SIZE(meta) > 16)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(meta, &pos, &k, &v))
        if (!PyUnicode_CheckExact(k) || !PyUnicode_CheckExact(v)
            || PyUnicode_GET_LENGTH(k) > 200 || PyUnicode_GET_LENGTH(v) > 200)
            return 0;
    return 1;
}

/* The tree as it is written: the marker first, so that a reader knows the
 * object for ours from its first key; then the keys in the spec's order. */
static PyObject *canonical_tree(PyObject *tree)
{
    static const char *keys[] = {"pyrometer", "version", "funcs", "parent", "func",
                                 "calls", "self", "total", "folded", "metrics", "meta", NULL};
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    for (int i = 0; keys[i] != NULL; i++) {
        PyObject *v = PyDict_GetItemString(tree, keys[i]);
        if (v != NULL && strcmp(keys[i], "meta") == 0 && !plain_meta(v))
            continue;   /* how it was measured: kept only as a few short strings */
        if (v != NULL && PyDict_SetItemString(out, keys[i], v) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

int pyro_write_prof_tree(const char *path, PyObject *stats, PyObject *tree, int sampled)
{
    if (!PyDict_Check(stats)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: stats must be a dict");
        return -1;
    }
    /* 3.15's pstats reads a sampled profile as one by its marker */
    PyObject *marked = sampled ? PyDict_Copy(stats) : Py_NewRef(stats);
    if (marked == NULL || (sampled && pyro_stats_mark(marked) < 0)) {
        Py_XDECREF(marked);
        return -1;
    }
    PyObject *data = PyMarshal_WriteObjectToString(marked, Py_MARSHAL_VERSION);
    Py_DECREF(marked);
    if (data == NULL)
        return -1;
    if (tree != NULL) {
        pyro_stack_view view;
        if (pyro_stack_view_of_arg(&view, tree) < 0) {
            Py_DECREF(data);
            return -1;
        }
        pyro_stack_view_release(&view);
        PyObject *canon = canonical_tree(tree);
        PyObject *second = canon ? PyMarshal_WriteObjectToString(canon, Py_MARSHAL_VERSION) : NULL;
        Py_XDECREF(canon);
        if (second == NULL) {
            Py_DECREF(data);
            return -1;
        }
        PyBytes_ConcatAndDel(&data, second);
        if (data == NULL)
            return -1;
    }
    int rc = pyro_write_atomic(path, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data));
    Py_DECREF(data);
    if (rc < 0) {
        PyErr_Format(PyExc_OSError, "pyrometer: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int pyro_write_prof(const char *path, PyObject *stats)
{
    return pyro_write_prof_tree(path, stats, NULL, 0);
}
