/* type_census.h: objects and their bytes per type, counted in one pass.
 *
 * An open-addressing table keyed by the type's address (a census meets a
 * few hundred types and a million objects): each object adds one to its
 * type's count, with no Python code run and nothing allocated per object.
 * The types are borrowed, valid while the objects counted are alive: the
 * census is read at once (model/type_growth keeps names, not types).
 *
 * Bytes are shallow, as sys.getsizeof counts them less the GC's header:
 * the type's own __sizeof__ when it is a C function (dict, list, set, str,
 * int, bytes, deque, an extension's arrays: the storage they own), called
 * directly; else tp_basicsize + tp_itemsize x |ob_size|, which is what
 * object.__sizeof__ says.  A __sizeof__ written in Python is not run: a
 * census runs none of the program's code.  Owned storage that no C
 * __sizeof__ reports (an instance's attribute values, say) is not
 * counted. */
#ifndef PYRO_TYPE_CENSUS_H
#define PYRO_TYPE_CENSUS_H

#include "core/compat.h"

typedef struct {
    PyTypeObject *type;            /* NULL: a free slot */
    PyCFunction sizeof_c;          /* the type's C __sizeof__, or NULL */
    Py_ssize_t count;
    Py_ssize_t bytes;
} pyro_type_tally;

typedef struct pyro_type_census {
    pyro_type_tally *slots;
    size_t mask, used;
    pyro_type_tally *last;         /* the last type met: a run of one type skips the hash */
    int failed;                    /* memory ran out: the census is partial */
} pyro_type_census;

/* 0, or -1 + MemoryError. */
int pyro_type_census_init(pyro_type_census *c);
void pyro_type_census_release(pyro_type_census *c);

/* Count `obj` (a live object, borrowed). */
void pyro_type_census_add(pyro_type_census *c, PyObject *obj);

/* One object's shallow size, as the census counts it. */
Py_ssize_t pyro_shallow_size(PyObject *obj);

#endif
