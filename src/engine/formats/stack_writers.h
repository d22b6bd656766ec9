/* stack_writers.h: the writers of call stacks: collapsed stacks,
 * speedscope, the flame graph. */
#ifndef PYRO_STACK_WRITERS_H
#define PYRO_STACK_WRITERS_H

#include "core/compat.h"

/* Module-level wrappers. */
PyObject *pyro_py_write_collapsed(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_speedscope(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_flamegraph(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
