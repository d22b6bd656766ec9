/* py_heap.c: the bindings of heap censuses and their growth (see
 * py_heap.h). */
#include "api/py_heap.h"

#include "formats/growth_report.h"
#include "hooks/gc_walk.h"
#include "model/type_growth.h"
#include "tables/type_census.h"

/* Not tracked by the collector and holding no object: a census kept for
 * the next comparison is not counted by it. */
typedef struct {
    PyObject_HEAD
    pyro_heap_snapshot snap;
    int shortnames;
} census_object;

static void census_dealloc(PyObject *self)
{
    pyro_heap_snapshot_release(&((census_object *)self)->snap);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *census_repr(PyObject *self)
{
    census_object *c = (census_object *)self;
    return PyUnicode_FromFormat("<HeapCensus: %zd objects of %zu types, %zd bytes%s>",
                                c->snap.objects, c->snap.n, c->snap.bytes,
                                c->snap.partial ? ", partial" : "");
}

static Py_ssize_t census_len(PyObject *self)
{
    return (Py_ssize_t)((census_object *)self)->snap.n;
}

/* {name: (objects, bytes)}. */
static PyObject *census_counts(PyObject *self, PyObject *unused)
{
    (void)unused;
    census_object *c = (census_object *)self;
    PyObject *d = PyDict_New();
    for (size_t i = 0; d != NULL && i < c->snap.n; i++) {
        const pyro_type_total *t = &c->snap.types[i];
        PyObject *v = Py_BuildValue("(nn)", t->count, t->bytes);
        PyObject *k = PyUnicode_DecodeUTF8(t->name, (Py_ssize_t)strlen(t->name), "replace");
        if (v == NULL || k == NULL || PyDict_SetItem(d, k, v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    return d;
}

static PyObject *census_get(PyObject *self, void *which)
{
    census_object *c = (census_object *)self;
    switch ((int)(intptr_t)which) {
    case 0:
        return PyLong_FromSsize_t(c->snap.objects);
    case 1:
        return PyLong_FromSsize_t(c->snap.bytes);
    case 2:
        return PyBool_FromLong(c->snap.partial);
    default:
        return PyBool_FromLong(c->shortnames);
    }
}

static PyMethodDef census_methods[] = {
    {"counts", census_counts, METH_NOARGS, "counts() -> {type name: (objects, bytes)}."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef census_getset[] = {
    {"objects", census_get, NULL, "Objects counted.", (void *)0},
    {"bytes", census_get, NULL, "Their shallow bytes.", (void *)1},
    {"partial", census_get, NULL, "Memory ran out while counting.", (void *)2},
    {"shortnames", census_get, NULL, "Types named by __name__ alone.", (void *)3},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods census_as_sequence = {
    .sq_length = census_len,
};

PyTypeObject pyro_HeapCensusType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.HeapCensus",
    .tp_basicsize = sizeof(census_object),
    .tp_dealloc = census_dealloc,
    .tp_repr = census_repr,
    .tp_as_sequence = &census_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The collector's objects and their shallow bytes per type name, at one moment\n"
              "(heap_census()); len() is the number of type names.",
    .tp_methods = census_methods,
    .tp_getset = census_getset,
};

static void count_one(PyObject *obj, void *arg)
{
    pyro_type_census_add(arg, obj);
}

PyObject *pyro_py_heap_census(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"shortnames", NULL};
    int shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p:heap_census", kwlist, &shortnames))
        return NULL;
    /* Made before the walk, so that it is not in it. */
    census_object *c = PyObject_New(census_object, &pyro_HeapCensusType);
    if (c == NULL)
        return NULL;
    memset(&c->snap, 0, sizeof c->snap);
    c->shortnames = shortnames;
    pyro_type_census table;
    if (pyro_type_census_init(&table) < 0) {
        Py_DECREF(c);
        return NULL;
    }
    int failed = pyro_gc_walk(count_one, &table) < 0
                 || pyro_heap_snapshot_init(&c->snap, &table, shortnames) < 0;
    pyro_type_census_release(&table);
    if (failed) {
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
}

/* The rows from (later, earlier=None, limit=None): 0, or -1 + exception. */
static int growth_rows(PyObject *args, PyObject *kwargs, const char *fmt,
                       pyro_type_growth **rows, size_t *n)
{
    static char *kwlist[] = {"later", "earlier", "limit", NULL};
    PyObject *later, *earlier = Py_None, *limit = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, &pyro_HeapCensusType, &later,
                                     &earlier, &limit))
        return -1;
    if (earlier != Py_None && !PyObject_TypeCheck(earlier, &pyro_HeapCensusType)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: earlier is a HeapCensus or None");
        return -1;
    }
    Py_ssize_t most = PY_SSIZE_T_MAX;
    if (limit != Py_None) {
        most = PyNumber_AsSsize_t(limit, PyExc_OverflowError);
        if (most == -1 && PyErr_Occurred())
            return -1;
        if (most < 0) {
            PyErr_SetString(PyExc_ValueError, "pyrometer: limit is a number of rows, 0 or more");
            return -1;
        }
    }
    census_object *a = (census_object *)later;
    census_object *b = earlier == Py_None ? NULL : (census_object *)earlier;
    if (b != NULL && b->shortnames != a->shortnames) {
        PyErr_SetString(PyExc_ValueError,
                        "pyrometer: the two censuses name types differently (shortnames)");
        return -1;
    }
    if (pyro_type_growth_rows(b ? &b->snap : NULL, &a->snap, rows, n) < 0)
        return -1;
    if ((size_t)most < *n)
        *n = (size_t)most;
    return 0;
}

PyObject *pyro_py_heap_growth(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    pyro_type_growth *rows;
    size_t n;
    if (growth_rows(args, kwargs, "O!|OO:heap_growth", &rows, &n) < 0)
        return NULL;
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        const pyro_type_growth *r = &rows[i];
        PyObject *name = PyUnicode_DecodeUTF8(r->name, (Py_ssize_t)strlen(r->name), "replace");
        PyObject *row = name == NULL ? NULL : Py_BuildValue("(Nnnnn)", name, r->count, r->growth,
                                                            r->bytes, r->bytes_growth);
        if (row == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, row);
    }
    PyMem_RawFree(rows);
    return list;
}

PyObject *pyro_py_format_growth(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    pyro_type_growth *rows;
    size_t n;
    if (growth_rows(args, kwargs, "O!|OO:format_growth", &rows, &n) < 0)
        return NULL;
    PyObject *text = pyro_growth_report(rows, n);
    PyMem_RawFree(rows);
    return text;
}

PyObject *pyro_py_shallow_size(PyObject *module, PyObject *obj)
{
    (void)module;
    return PyLong_FromSsize_t(pyro_shallow_size(obj));
}
