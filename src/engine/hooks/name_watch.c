/* name_watch.c: an audit hook on "exec" that calls back before code naming
 * a watched global runs (see name_watch.h). */
#include "hooks/name_watch.h"
#include "hooks/audit.h"

static PyObject *watched_name;       /* str, or NULL: no watch */
static PyObject *watched_callback;
static int in_callback;              /* the callback imports and runs code too */

/* Code objects nest as deep as the source's functions and classes; past
 * this depth the name is taken as present (the callback checks exactly). */
#define MAX_NESTING 200

/* 1 if `name` is in the names of `code` or of code it defines, else 0. */
static int code_names(PyObject *code, PyObject *name, int depth)
{
    if (depth > MAX_NESTING)
        return 1;
    PyObject *names = PyObject_GetAttrString(code, "co_names");
    if (names == NULL) {
        PyErr_Clear();
        return 0;
    }
    int found = 0;
    if (PyTuple_Check(names))
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names) && !found; i++) {
            PyObject *n = PyTuple_GET_ITEM(names, i);
            found = PyUnicode_Check(n) && PyUnicode_Compare(n, name) == 0;
        }
    Py_DECREF(names);
    if (found)
        return 1;
    PyObject *consts = PyObject_GetAttrString(code, "co_consts");
    if (consts == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (PyTuple_Check(consts))
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts) && !found; i++) {
            PyObject *c = PyTuple_GET_ITEM(consts, i);
            if (PyCode_Check(c))
                found = code_names(c, name, depth + 1);
        }
    Py_DECREF(consts);
    return found;
}

/* Before exec() runs a code object (imports included). */
static void on_exec(const char *event, PyObject *args)
{
    (void)event;
    if (watched_name == NULL || in_callback)
        return;
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1)
        return;
    PyObject *code = PyTuple_GET_ITEM(args, 0);
    if (!PyCode_Check(code) || !code_names(code, watched_name, 0))
        return;
    PyObject *cb = Py_NewRef(watched_callback);
    in_callback = 1;
    PyObject *r = PyObject_CallOneArg(cb, code);
    in_callback = 0;
    Py_DECREF(cb);
    Py_XDECREF(r);
    PyErr_Clear();
}

PyObject *pyro_py_name_watch(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *name, *callback;
    if (!PyArg_ParseTuple(args, "UO:name_watch", &name, &callback))
        return NULL;
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "name_watch: callback must be callable");
        return NULL;
    }
    if (pyro_audit_subscribe("exec", on_exec) < 0)
        return NULL;
    Py_XSETREF(watched_name, Py_NewRef(name));
    Py_XSETREF(watched_callback, Py_NewRef(callback));
    Py_RETURN_NONE;
}

PyObject *pyro_py_name_unwatch(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    Py_CLEAR(watched_name);
    Py_CLEAR(watched_callback);
    Py_RETURN_NONE;
}
