/* type_census.c: the per-type table of a heap census (see type_census.h). */
#include "tables/type_census.h"

#include <stdint.h>
#include <string.h>

#define FIRST_SLOTS 512

int pyro_type_census_init(pyro_type_census *c)
{
    memset(c, 0, sizeof *c);
    c->slots = PyMem_RawCalloc(FIRST_SLOTS, sizeof(pyro_type_tally));
    if (c->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->mask = FIRST_SLOTS - 1;
    return 0;
}

void pyro_type_census_release(pyro_type_census *c)
{
    PyMem_RawFree(c->slots);
    memset(c, 0, sizeof *c);
}

static size_t slot_of(const pyro_type_census *c, const PyTypeObject *type)
{
    /* Types are aligned: the low bits say nothing; a multiply spreads the rest. */
    uint64_t h = ((uint64_t)(uintptr_t)type >> 4) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & c->mask;
}

/* Twice the slots; 0 if memory ran out (the table stays as it was). */
static int grow(pyro_type_census *c)
{
    size_t n = (c->mask + 1) * 2;
    pyro_type_tally *old = c->slots, *slots = PyMem_RawCalloc(n, sizeof(pyro_type_tally));
    if (slots == NULL)
        return 0;
    size_t old_n = c->mask + 1;
    c->slots = slots;
    c->mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].type == NULL)
            continue;
        size_t j = slot_of(c, old[i].type);
        while (slots[j].type != NULL)
            j = (j + 1) & c->mask;
        slots[j] = old[i];
    }
    PyMem_RawFree(old);
    c->last = NULL;
    return 1;
}

/* The C function behind `type`'s __sizeof__, if it is one other than
 * object's (whose answer the formula gives without a call).  The MRO is
 * read from the types' own dicts: no attribute lookup that could run code. */
static PyCFunction c_sizeof_of(PyTypeObject *type)
{
    static PyObject *name;
    if (name == NULL && (name = PyUnicode_InternFromString("__sizeof__")) == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *mro = type->tp_mro;
    if (mro == NULL || !PyTuple_Check(mro))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *base = PyTuple_GET_ITEM(mro, i);
        if (!PyType_Check(base))
            continue;
        PyObject *dict = pyro_type_dict((PyTypeObject *)base);
        if (dict == NULL)
            continue;
        PyObject *found = PyDict_Check(dict) ? PyDict_GetItemWithError(dict, name) : NULL;
        Py_DECREF(dict);
        if (found == NULL) {
            PyErr_Clear();
            continue;
        }
        if (base == (PyObject *)&PyBaseObject_Type || !Py_IS_TYPE(found, &PyMethodDescr_Type))
            return NULL;
        PyMethodDef *def = ((PyMethodDescrObject *)found)->d_method;
        int kinds = METH_VARARGS | METH_KEYWORDS | METH_NOARGS | METH_O | METH_CLASS
                    | METH_STATIC | METH_FASTCALL | METH_METHOD;
        return def != NULL && (def->ml_flags & kinds) == METH_NOARGS ? def->ml_meth : NULL;
    }
    return NULL;
}

static Py_ssize_t formula_size(PyObject *obj)
{
    PyTypeObject *type = Py_TYPE(obj);
    Py_ssize_t size = type->tp_basicsize;
    if (type->tp_itemsize != 0) {
        /* Var-sized: ob_size items (negative for the ints of old versions). */
        Py_ssize_t n = Py_SIZE(obj), item = type->tp_itemsize;
        if (n < 0)
            n = n == PY_SSIZE_T_MIN ? PY_SSIZE_T_MAX : -n;
        if (item < 0)
            item = -item;
        if (n > (PY_SSIZE_T_MAX - size) / item)
            return PY_SSIZE_T_MAX;
        size += n * item;
    }
    return size;
}

static Py_ssize_t size_with(PyObject *obj, PyCFunction sizeof_c)
{
    if (sizeof_c != NULL) {
        PyObject *r = sizeof_c(obj, NULL);
        Py_ssize_t n = -1;
        if (r != NULL) {
            if (PyLong_Check(r))
                n = PyLong_AsSsize_t(r);
            Py_DECREF(r);
        }
        if (n >= 0)
            return n;
        PyErr_Clear();
    }
    return formula_size(obj);
}

Py_ssize_t pyro_shallow_size(PyObject *obj)
{
    return size_with(obj, c_sizeof_of(Py_TYPE(obj)));
}

static pyro_type_tally *tally_of(pyro_type_census *c, PyTypeObject *type)
{
    if (c->used * 2 >= c->mask + 1 && !grow(c))
        return NULL;
    size_t i = slot_of(c, type);
    while (c->slots[i].type != NULL && c->slots[i].type != type)
        i = (i + 1) & c->mask;
    pyro_type_tally *t = &c->slots[i];
    if (t->type == NULL) {
        t->type = type;
        t->sizeof_c = c_sizeof_of(type);
        c->used++;
    }
    return t;
}

void pyro_type_census_add(pyro_type_census *c, PyObject *obj)
{
    PyTypeObject *type = Py_TYPE(obj);
    pyro_type_tally *t = c->last;
    if (t == NULL || t->type != type) {
        t = tally_of(c, type);
        if (t == NULL) {
            c->failed = 1;
            return;
        }
        c->last = t;
    }
    t->count++;
    Py_ssize_t size = size_with(obj, t->sizeof_c);
    t->bytes = size > PY_SSIZE_T_MAX - t->bytes ? PY_SSIZE_T_MAX : t->bytes + size;
}
