/* py_tests.h: the tables driven directly, for the tests: no hooks, no
 * interpreter events, a script of calls and returns on the test clock. */
#ifndef PYRO_PY_TESTS_H
#define PYRO_PY_TESTS_H

#include "core/compat.h"

PyObject *pyro_py_calltree_run(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
