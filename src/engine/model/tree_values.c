/* tree_values.c: the values of a reshaped call tree (see tree_values.h). */
#include "model/tree_values.h"

/* A list of one value per node, or NULL + exception. */
static PyObject *column(size_t n, size_t m, int total, pyro_value_of get, const void *ctx)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t j = 0; list != NULL && j < n; j++) {
        PyObject *x = PyFloat_FromDouble(get(ctx, j, m, total));
        if (x == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)j, x);
    }
    return list;
}

int pyro_tree_put_values(PyObject *tree, const pyro_stack_view *v, size_t n, pyro_value_of get,
                         const void *ctx)
{
    if (v->nmetrics == 1 && v->metrics[0].unit == PYRO_UNIT_SECONDS
        && strcmp(v->metrics[0].name, "time") == 0) {
        PyObject *self = column(n, 0, 0, get, ctx), *total = column(n, 0, 1, get, ctx);
        int rc = self != NULL && total != NULL && PyDict_SetItemString(tree, "self", self) == 0
                 && PyDict_SetItemString(tree, "total", total) == 0 ? 0 : -1;
        Py_XDECREF(self);
        Py_XDECREF(total);
        return rc;
    }
    PyObject *metrics = PyList_New(0), *version = PyLong_FromLong(2);
    int rc = metrics != NULL && version != NULL ? 0 : -1;
    for (size_t m = 0; rc == 0 && m < v->nmetrics; m++) {
        PyObject *self = column(n, m, 0, get, ctx), *total = column(n, m, 1, get, ctx);
        PyObject *d = self != NULL && total != NULL
            ? Py_BuildValue("{s:s,s:s,s:O,s:O}", "name", v->metrics[m].name, "unit",
                            pyro_unit_name(v->metrics[m].unit), "self", self, "total", total)
            : NULL;
        rc = d != NULL && PyList_Append(metrics, d) == 0 ? 0 : -1;
        Py_XDECREF(d);
        Py_XDECREF(self);
        Py_XDECREF(total);
    }
    /* "version" is already there, after the marker: the keys keep the
     * format's order. */
    if (rc == 0)
        rc = PyDict_SetItemString(tree, "version", version) == 0
             && PyDict_SetItemString(tree, "metrics", metrics) == 0 ? 0 : -1;
    Py_XDECREF(metrics);
    Py_XDECREF(version);
    return rc;
}
