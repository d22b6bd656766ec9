/* name_watch.c: an audit hook on "exec" that calls back before code naming
 * a watched global runs (see name_watch.h). */
#include "name_watch.h"

static PyObject *watched_name;       /* str, or NULL: no watch */
static PyObject *watched_callback;
static int hook_added;
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

/* Never fails: a hook that returned -1 would make exec() raise in the
 * program. */
static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    if (watched_name == NULL || in_callback || event[0] != 'e' || strcmp(event, "exec") != 0)
        return 0;
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1)
        return 0;
    PyObject *code = PyTuple_GET_ITEM(args, 0);
    if (!PyCode_Check(code))
        return 0;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    if (code_names(code, watched_name, 0)) {
        PyObject *cb = Py_NewRef(watched_callback);
        in_callback = 1;
        PyObject *r = PyObject_CallOneArg(cb, code);
        in_callback = 0;
        Py_DECREF(cb);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    pyro_exc_restore(&exc);
    return 0;
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
    /* Audit hooks cannot be removed: add ours once, and let it idle. */
    if (!hook_added) {
        if (PySys_AddAuditHook(audit_hook, NULL) < 0)
            return NULL;
        hook_added = 1;
    }
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
