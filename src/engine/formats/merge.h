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
/* Profiles added up: `profiles` a sequence of (stats, tree or None),
 * `names` (or None) what errors call them.  (stats, tree or None): the
 * stats as pstats' Stats(first).add(second)... computes them, the trees
 * path by path if every profile has one.  NULL + exception. */
PyObject *pyro_merge_profiles(PyObject *profiles, PyObject *names);

#endif
