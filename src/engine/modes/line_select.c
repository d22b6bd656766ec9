/* line_select.c: which code a --lines-of pattern selects, and the names it
 * is matched against.  Runs once per code object, never on the hot path.
 *
 * A pattern without wildcards selects a function when it is its qualified
 * name with the module (`pkg.mod.Class.method`) or a dotted tail of it
 * (`Class.method`, `method`), its module or a package above it
 * (`pkg.mod`, `pkg`), or its file or a tail of its path (`mod.py`,
 * `pkg/mod.py`).  A pattern with `*`, `?` or `[` is matched with fnmatch
 * against the qualified name with and without the module, the module and
 * the file. */
#include "modes/line_mode.h"

#include <fnmatch.h>
#include <string.h>

static int dotted_tail(const char *full, const char *pat, char sep)
{
    size_t nf = strlen(full), np = strlen(pat);
    if (np == 0 || np > nf)
        return 0;
    if (strcmp(full + nf - np, pat) != 0)
        return 0;
    return np == nf || full[nf - np - 1] == sep;
}

static int dotted_head(const char *module, const char *pat)
{
    size_t n = strlen(pat);
    return n > 0 && strncmp(module, pat, n) == 0 && (module[n] == '\0' || module[n] == '.');
}

static int match_one(const char *pat, const char *module, const char *qual,
                     const char *full, const char *file)
{
    if (strpbrk(pat, "*?[") != NULL)
        return fnmatch(pat, full, 0) == 0 || fnmatch(pat, qual, 0) == 0
            || fnmatch(pat, module, 0) == 0 || fnmatch(pat, file, 0) == 0;
    return dotted_tail(full, pat, '.') || dotted_head(module, pat)
        || dotted_tail(file, pat, '/');
}

/* UTF-8 bytes of a str, surrogates escaped (odd file names); NULL if `s`
 * is not a str. */
static PyObject *utf8_of(PyObject *s)
{
    if (s == NULL || !PyUnicode_Check(s))
        return NULL;
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
    if (b == NULL)
        PyErr_Clear();
    return b;
}

int pyro_line_patterns_match(pyro_line_profiler *p, PyObject *module, PyObject *qualname,
                             PyObject *filename)
{
    if (p->patterns == NULL || PyList_GET_SIZE(p->patterns) == 0)
        return 0;
    PyObject *bm = utf8_of(module), *bq = utf8_of(qualname), *bf = utf8_of(filename);
    PyObject *bfull = NULL;
    int found = 0;
    if (bq == NULL)
        goto done;
    const char *m = bm ? PyBytes_AS_STRING(bm) : "";
    const char *q = PyBytes_AS_STRING(bq);
    const char *f = bf ? PyBytes_AS_STRING(bf) : "";
    bfull = *m ? PyBytes_FromFormat("%s.%s", m, q) : Py_NewRef(bq);
    if (bfull == NULL) {
        PyErr_Clear();
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(p->patterns); i++) {
        PyObject *pat = PyList_GET_ITEM(p->patterns, i);
        PyObject *bp = utf8_of(pat);
        if (bp == NULL)
            continue;
        if (match_one(PyBytes_AS_STRING(bp), m, q, PyBytes_AS_STRING(bfull), f)) {
            found = 1;
            if (PySet_Add(p->matched, pat) < 0)
                PyErr_Clear();
        }
        Py_DECREF(bp);
    }
done:
    Py_XDECREF(bm);
    Py_XDECREF(bq);
    Py_XDECREF(bf);
    Py_XDECREF(bfull);
    return found;
}

/* ---- qualified names where code objects have none (3.9, 3.10) ---------- */

/* Whether `v` (a class attribute, maybe wrapped) runs `code`; returns the
 * function's __qualname__ if so (new reference). */
static PyObject *qualname_if_runs(PyObject *v, PyObject *code)
{
    static const char *const wrappers[] = {"__func__", "fget", "fset", "fdel"};
    if (PyFunction_Check(v))
        return PyFunction_GET_CODE(v) == code
            ? PyObject_GetAttrString(v, "__qualname__") : NULL;
    for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++) {
        PyObject *inner = PyObject_GetAttrString(v, wrappers[i]);
        if (inner == NULL) {
            PyErr_Clear();
            continue;
        }
        PyObject *q = PyFunction_Check(inner) && PyFunction_GET_CODE(inner) == code
            ? PyObject_GetAttrString(inner, "__qualname__") : NULL;
        Py_DECREF(inner);
        if (q != NULL)
            return q;
    }
    return NULL;
}

/* A method: look for the function along the MRO of the first argument
 * (`self`) or of the class it is (`cls`). */
static PyObject *method_qualname(PyObject *code, PyFrameObject *frame)
{
    PyObject *first = pyro_frame_first_local(frame);
    if (first == NULL)
        return NULL;
    PyObject *varnames = PyObject_GetAttrString(code, "co_varnames");
    PyObject *name = PyObject_GetAttrString(code, "co_name");
    PyObject *result = NULL;
    if (varnames == NULL || name == NULL || !PyTuple_Check(varnames) || PyTuple_GET_SIZE(varnames) == 0)
        goto done;
    PyObject *arg0 = PyTuple_GET_ITEM(varnames, 0);
    PyTypeObject *type;
    if (PyUnicode_CompareWithASCIIString(arg0, "self") == 0)
        type = Py_TYPE(first);
    else if (PyUnicode_CompareWithASCIIString(arg0, "cls") == 0 && PyType_Check(first))
        type = (PyTypeObject *)first;
    else
        goto done;
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro != NULL && result == NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *dict = PyObject_GetAttrString(PyTuple_GET_ITEM(mro, i), "__dict__");
        PyObject *v = dict ? PyObject_GetItem(dict, name) : NULL;
        if (v != NULL)
            result = qualname_if_runs(v, code);
        Py_XDECREF(v);
        Py_XDECREF(dict);
        PyErr_Clear();
    }
done:
    Py_XDECREF(varnames);
    Py_XDECREF(name);
    PyErr_Clear();
    return result;
}

/* A static method, or a method called without a `self`: the classes of
 * the module, one level deep. */
static PyObject *class_member_qualname(PyObject *code, PyObject *globals, PyObject *name)
{
    PyObject *key, *value, *result = NULL;
    Py_ssize_t pos = 0;
    while (result == NULL && PyDict_Next(globals, &pos, &key, &value)) {
        if (!PyType_Check(value))
            continue;
        PyObject *dict = PyObject_GetAttrString(value, "__dict__");
        PyObject *v = dict ? PyObject_GetItem(dict, name) : NULL;
        if (v != NULL)
            result = qualname_if_runs(v, code);
        Py_XDECREF(v);
        Py_XDECREF(dict);
        PyErr_Clear();
    }
    return result;
}

PyObject *pyro_line_qualname(PyObject *code, PyFrameObject *frame)
{
    PyObject *q = pyro_code_qualname((PyCodeObject *)code);
    if (q != NULL)
        return q;
    if (frame != NULL) {
        /* A module-level function: the module's global of that name. */
        PyObject *globals = pyro_frame_globals(frame);
        PyObject *name = PyObject_GetAttrString(code, "co_name");
        PyObject *f = globals && name && PyDict_Check(globals)
            ? PyDict_GetItemWithError(globals, name) : NULL;
        q = f ? qualname_if_runs(f, code) : NULL;
        PyErr_Clear();
        if (q == NULL)
            q = method_qualname(code, frame);
        if (q == NULL && globals && name && PyDict_Check(globals))
            q = class_member_qualname(code, globals, name);
        Py_XDECREF(globals);
        Py_XDECREF(name);
        PyErr_Clear();
        if (q != NULL)
            return q;
    }
    /* Nested functions: their own name. */
    q = PyObject_GetAttrString(code, "co_name");
    if (q == NULL)
        PyErr_Clear();
    return q;
}
