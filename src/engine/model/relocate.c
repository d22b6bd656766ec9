/* relocate.c: see relocate.h: functions renamed, and added up where two
 * become one. */
#include "model/relocate.h"
#include "model/portable_path.h"
#include "model/pstats_add.h"

/* The keys of `a` that `b` lacks, as a list (borrowed items). */
static PyObject *missing_from(PyObject *a, PyObject *b)
{
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(a, &pos, &key, &value)) {
        int has = PyDict_Contains(b, key);
        if (has < 0 || (has == 0 && PyList_Append(out, key) < 0)) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* The folder the absolute, non-library files of `keys` share. */
static int root_of(PyObject *keys, char **root)
{
    *root = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 3)
            continue;
        if (pyro_path_widen_root(root, PyTuple_GET_ITEM(key, 0)) < 0)
            return -1;
    }
    return 0;
}

/* (portable file, line, name) of a key, or NULL with no error when the key
 * is not a function's (pstats keys are 3-tuples). */
static PyObject *portable_key(PyObject *key, const char *root)
{
    if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 3)
        return NULL;
    PyObject *file = pyro_path_portable(PyTuple_GET_ITEM(key, 0), root);
    if (file == NULL)
        return NULL;
    PyObject *r = PyTuple_Pack(3, file, PyTuple_GET_ITEM(key, 1), PyTuple_GET_ITEM(key, 2));
    Py_DECREF(file);
    return r;
}

/* {portable key: key}, None for a portable key several keys share. */
static PyObject *by_portable(PyObject *keys, const char *root)
{
    PyObject *map = PyDict_New();
    if (map == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        PyObject *p = portable_key(key, root);
        if (p == NULL) {
            if (PyErr_Occurred())
                goto fail;
            continue;
        }
        int has = PyDict_Contains(map, p);
        int rc = has < 0 ? -1 : PyDict_SetItem(map, p, has ? Py_None : key);
        Py_DECREF(p);
        if (rc < 0)
            goto fail;
    }
    return map;
fail:
    Py_DECREF(map);
    return NULL;
}

PyObject *pyro_relocation(PyObject *acc, PyObject *src)
{
    PyObject *result = NULL, *only_src = NULL, *only_acc = NULL, *acc_map = NULL,
             *src_map = NULL;
    char *src_root = NULL, *acc_root = NULL;
    if ((result = PyDict_New()) == NULL || (only_src = missing_from(src, acc)) == NULL
        || (only_acc = missing_from(acc, src)) == NULL)
        goto fail;
    if (PyList_GET_SIZE(only_src) == 0 || PyList_GET_SIZE(only_acc) == 0)
        goto done;
    if (root_of(only_src, &src_root) < 0 || root_of(only_acc, &acc_root) < 0)
        goto fail;
    if ((acc_map = by_portable(only_acc, acc_root)) == NULL
        || (src_map = by_portable(only_src, src_root)) == NULL)
        goto fail;
    Py_ssize_t pos = 0;
    PyObject *p, *skey;
    while (PyDict_Next(src_map, &pos, &p, &skey)) {
        if (skey == Py_None)
            continue;
        PyObject *akey = PyDict_GetItemWithError(acc_map, p);
        if (akey == NULL) {
            if (PyErr_Occurred())
                goto fail;
            continue;
        }
        if (akey != Py_None && PyDict_SetItem(result, skey, akey) < 0)
            goto fail;
    }
done:
    Py_XDECREF(only_src);
    Py_XDECREF(only_acc);
    Py_XDECREF(acc_map);
    Py_XDECREF(src_map);
    PyMem_RawFree(src_root);
    PyMem_RawFree(acc_root);
    return result;
fail:
    Py_CLEAR(result);
    goto done;
}

static PyObject *renamed(PyObject *map, PyObject *key)
{
    PyObject *to = PyDict_GetItemWithError(map, key);
    if (to == NULL && PyErr_Occurred())
        return NULL;
    return Py_NewRef(to != NULL ? to : key);
}

/* A dict with its keys renamed: a stats dict (`callee` NULL), its callers'
 * keys renamed too, or the callers dict of `callee`.  Keys renamed to one
 * are added up as pstats adds them (pstats_add.h). */
static PyObject *rekey_dict(PyObject *d, PyObject *map, PyObject *callee)
{
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(d, &pos, &key, &value)) {
        PyObject *k = renamed(map, key);
        if (k == NULL)
            goto fail;
        int rc;
        if (callee != NULL) {
            rc = pyro_stats_add_call(out, k, value, callee, NULL);
        } else if (PyTuple_Check(value) && PyTuple_GET_SIZE(value) == 5
                   && PyDict_Check(PyTuple_GET_ITEM(value, 4))) {
            PyObject *callers = rekey_dict(PyTuple_GET_ITEM(value, 4), map, k), *v = NULL;
            if (callers != NULL) {
                v = PyTuple_Pack(5, PyTuple_GET_ITEM(value, 0), PyTuple_GET_ITEM(value, 1),
                                 PyTuple_GET_ITEM(value, 2), PyTuple_GET_ITEM(value, 3),
                                 callers);
                Py_DECREF(callers);
            }
            rc = v != NULL ? pyro_stats_add_entry(out, k, v, NULL) : -1;
            Py_XDECREF(v);
        } else {
            rc = PyDict_SetItem(out, k, value);   /* the shape's checks say what is wrong */
        }
        Py_DECREF(k);
        if (rc < 0)
            goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

PyObject *pyro_rekey_stats(PyObject *stats, PyObject *map)
{
    if (PyDict_GET_SIZE(map) == 0)
        return Py_NewRef(stats);
    return rekey_dict(stats, map, NULL);
}

/* pstats' func_strip_path(): (basename of file, line, name), or NULL with
 * no error when nothing changes. */
static PyObject *stripped(PyObject *key)
{
    if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 3
        || !PyUnicode_Check(PyTuple_GET_ITEM(key, 0)))
        return NULL;
    PyObject *file = PyTuple_GET_ITEM(key, 0);
    Py_ssize_t n = PyUnicode_GET_LENGTH(file);
    Py_ssize_t slash = PyUnicode_FindChar(file, '/', 0, n, -1);
    if (slash < 0)
        return NULL;   /* -1: no folder; -2: an error, set */
    PyObject *base = PyUnicode_Substring(file, slash + 1, n);
    if (base == NULL)
        return NULL;
    PyObject *r = PyTuple_Pack(3, base, PyTuple_GET_ITEM(key, 1), PyTuple_GET_ITEM(key, 2));
    Py_DECREF(base);
    return r;
}

static int map_stripped(PyObject *map, PyObject *key)
{
    if (PyDict_Contains(map, key))
        return 0;
    PyObject *to = stripped(key);
    if (to == NULL)
        return PyErr_Occurred() ? -1 : 0;
    int rc = PyDict_SetItem(map, key, to);
    Py_DECREF(to);
    return rc;
}

PyObject *pyro_strip_dirs(PyObject *stats)
{
    PyObject *map = PyDict_New();
    if (map == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        int rc = map_stripped(map, key);
        if (rc == 0 && PyTuple_Check(value) && PyTuple_GET_SIZE(value) == 5
            && PyDict_Check(PyTuple_GET_ITEM(value, 4))) {
            Py_ssize_t cpos = 0;
            PyObject *ckey, *cvalue;
            while (rc == 0 && PyDict_Next(PyTuple_GET_ITEM(value, 4), &cpos, &ckey, &cvalue))
                rc = map_stripped(map, ckey);
        }
        if (rc < 0) {
            Py_DECREF(map);
            return NULL;
        }
    }
    PyObject *out = PyDict_GET_SIZE(map) == 0 ? PyDict_Copy(stats) : rekey_dict(stats, map, NULL);
    Py_DECREF(map);
    return out;
}

PyObject *pyro_rekey_tree(PyObject *tree, PyObject *map)
{
    if (PyDict_GET_SIZE(map) == 0 || !PyDict_Check(tree))
        return Py_NewRef(tree);
    PyObject *funcs = PyDict_GetItemString(tree, "funcs");   /* borrowed */
    if (funcs == NULL || !PyList_Check(funcs))
        return Py_NewRef(tree);   /* the tree's own check says what is wrong */
    PyObject *copy = PyDict_Copy(tree), *names = PyList_New(PyList_GET_SIZE(funcs));
    if (copy == NULL || names == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(funcs); i++) {
        PyObject *k = renamed(map, PyList_GET_ITEM(funcs, i));
        if (k == NULL)
            goto fail;
        PyList_SET_ITEM(names, i, k);
    }
    if (PyDict_SetItemString(copy, "funcs", names) < 0)
        goto fail;
    Py_DECREF(names);
    return copy;
fail:
    Py_XDECREF(copy);
    Py_XDECREF(names);
    return NULL;
}
