/* merge.h: adding profiles together (`pyrometer merge`) and comparing two
 * (`pyrometer diff`). */
#ifndef PYRO_MERGE_H
#define PYRO_MERGE_H

#include "core/compat.h"
#include "model/pstats_shape.h"

/* Add the pstats dict `src` into `acc` as pstats.Stats.add() does: cc, nc,
 * tt and ct summed, callers merged (tuples summed item by item, plain
 * counts added).  `acc` must own the callers dicts of its entries (an
 * empty dict to start with is fine: entries met for the first time get a
 * copy of theirs).  `src` must have been checked (pyro_check_stats).
 * 0, or -1 + exception (FormatError when a call is a count in one profile
 * and a tuple in the other, which pstats cannot add either). */
int pyro_stats_add(PyObject *acc, PyObject *src, PyObject *src_name);

/* Module-level wrappers. */
PyObject *pyro_py_merge_profiles(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_diff(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
