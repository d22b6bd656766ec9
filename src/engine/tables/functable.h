/* functable.h: one entry per profiled function.
 *
 * A Python function is known by its code object, a built-in by its
 * PyMethodDef.  The entry of a code object is found through the code
 * object's extra slot, so no hashing is needed even when a new call-tree
 * node is made; built-ins go through a small pointer-keyed table. */
#ifndef PYRO_FUNCTABLE_H
#define PYRO_FUNCTABLE_H

#include "core/compat.h"
#include <stdint.h>

typedef struct pyro_func {
    const void *key;    /* PyCodeObject* or PyMethodDef*: the node key */
    PyObject *code;     /* strong reference keeps `key` unique, or NULL */
    PyObject *label;    /* pstats key: (filename, firstlineno, name) */
    uint32_t id;        /* index in the table, dense from 0 */
    uint8_t builtin;
    uint8_t own;        /* pyrometer's own Python code: never reported */
} pyro_func;

typedef struct {
    pyro_func **items;  /* by id */
    uint32_t count, cap;
    pyro_func **builtin_slots; /* open addressing on PyMethodDef* */
    size_t builtin_cap, builtin_count;
    uint64_t session;   /* tells this table's code extras from stale ones */
} pyro_functable;

int pyro_functable_init(pyro_functable *t);
void pyro_functable_release(pyro_functable *t);

/* Entry of a Python code object; NULL only when memory ran out. */
pyro_func *pyro_func_of_code(pyro_functable *t, PyCodeObject *code);

/* Entry of a built-in: `callable` is the PyCFunction (or method
 * descriptor, bound to `self_arg` for naming as cProfile does). */
pyro_func *pyro_func_of_builtin(pyro_functable *t, PyMethodDef *def,
                                PyObject *callable, PyObject *self_arg);

/* Files under this prefix are pyrometer's own (its runner, its signal
 * handler); calls into them are left out of the statistics. */
int pyro_functable_set_own_prefix(PyObject *prefix);

/* cProfile's name of a built-in function object, as a new string. */
PyObject *pyro_builtin_name(PyObject *cfunc);

#endif
