/* py_heap.h: heap growth by type, as functions of the _engine module:
 * heap_census() walks the collector's objects into a HeapCensus (a
 * snapshot by type name that holds no Python object), heap_growth() and
 * format_growth() compare two. */
#ifndef PYRO_PY_HEAP_H
#define PYRO_PY_HEAP_H

#include "core/compat.h"

extern PyTypeObject pyro_HeapCensusType;

PyObject *pyro_py_heap_census(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_heap_growth(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_growth(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_shallow_size(PyObject *module, PyObject *obj);

#endif
