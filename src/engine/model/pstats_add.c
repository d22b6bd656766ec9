/* pstats_add.c: pstats' arithmetic for adding statistics (see
 * pstats_add.h): every sum as pstats computes it, `new + old`, which for
 * ints and IEEE floats is `old + new`, so results are pstats' to the bit. */
#include "model/pstats_add.h"
#include "core/errors.h"

static int cannot_add(PyObject *name, PyObject *caller, PyObject *callee)
{
    if (name == NULL)
        PyErr_Format(pyro_FormatError,
                     "pyrometer: cannot add the call %.200R -> %.200R: it is a plain call "
                     "count (the profile module's) in one place and (nc, cc, tt, ct) "
                     "(cProfile's) in the other", caller, callee);
    else
        PyErr_Format(pyro_FormatError,
                     "pyrometer: cannot add %U: the call %.200R -> %.200R is a plain call "
                     "count (the profile module's) in one profile and (nc, cc, tt, ct) "
                     "(cProfile's) in the other", name, caller, callee);
    return -1;
}

/* pstats' add_callers(), one call: a call known to both becomes `new +
 * old` item by item, a new one is taken as is. */
int pyro_stats_add_call(PyObject *acc, PyObject *ckey, PyObject *cval, PyObject *callee,
                        PyObject *name)
{
    PyObject *old = PyDict_GetItemWithError(acc, ckey);   /* borrowed */
    if (old == NULL)
        return PyErr_Occurred() ? -1 : PyDict_SetItem(acc, ckey, cval);
    PyObject *sum;
    if (PyTuple_Check(cval) && PyTuple_Check(old)) {
        /* tuple(i + j for i, j in zip(caller, new_callers[func])) */
        Py_ssize_t n = PyTuple_GET_SIZE(cval);
        if (PyTuple_GET_SIZE(old) < n)
            n = PyTuple_GET_SIZE(old);
        if ((sum = PyTuple_New(n)) == NULL)
            return -1;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyNumber_Add(PyTuple_GET_ITEM(cval, i), PyTuple_GET_ITEM(old, i));
            if (item == NULL) {
                Py_DECREF(sum);
                return -1;
            }
            PyTuple_SET_ITEM(sum, i, item);
        }
    } else if (!PyTuple_Check(cval) && !PyTuple_Check(old)) {
        /* new_callers[func] += caller */
        if ((sum = PyNumber_Add(old, cval)) == NULL)
            return -1;
    } else {
        return cannot_add(name, ckey, callee);
    }
    int rc = PyDict_SetItem(acc, ckey, sum);
    Py_DECREF(sum);
    return rc;
}

int pyro_stats_add_entry(PyObject *acc, PyObject *key, PyObject *val, PyObject *name)
{
    PyObject *old = PyDict_GetItemWithError(acc, key);    /* borrowed */
    if (old == NULL && PyErr_Occurred())
        return -1;
    PyObject *callers = PyTuple_GET_ITEM(val, 4), *entry;
    if (old == NULL) {
        /* (0, 0, 0, 0, {}) + stat: the same numbers, callers copied so
         * that later additions leave the source alone */
        PyObject *copy = PyDict_Copy(callers);
        if (copy == NULL)
            return -1;
        entry = PyTuple_Pack(5, PyTuple_GET_ITEM(val, 0), PyTuple_GET_ITEM(val, 1),
                             PyTuple_GET_ITEM(val, 2), PyTuple_GET_ITEM(val, 3), copy);
        Py_DECREF(copy);
        if (entry == NULL)
            return -1;
    } else {
        /* add_func_stats(old, stat): (cc + t_cc, ..., add_callers()) */
        PyObject *acc_callers = PyTuple_GET_ITEM(old, 4);
        Py_ssize_t pos = 0;
        PyObject *ckey, *cval;
        while (PyDict_Next(callers, &pos, &ckey, &cval))
            if (pyro_stats_add_call(acc_callers, ckey, cval, key, name) < 0)
                return -1;
        if ((entry = PyTuple_New(5)) == NULL)
            return -1;
        for (Py_ssize_t i = 0; i < 4; i++) {
            PyObject *sum = PyNumber_Add(PyTuple_GET_ITEM(val, i), PyTuple_GET_ITEM(old, i));
            if (sum == NULL) {
                Py_DECREF(entry);
                return -1;
            }
            PyTuple_SET_ITEM(entry, i, sum);
        }
        PyTuple_SET_ITEM(entry, 4, Py_NewRef(acc_callers));
    }
    int rc = PyDict_SetItem(acc, key, entry);
    Py_DECREF(entry);
    return rc;
}

int pyro_stats_add(PyObject *acc, PyObject *src, PyObject *name)
{
    Py_ssize_t pos = 0;
    PyObject *key, *val;
    while (PyDict_Next(src, &pos, &key, &val))
        if (pyro_stats_add_entry(acc, key, val, name) < 0)
            return -1;
    return 0;
}
