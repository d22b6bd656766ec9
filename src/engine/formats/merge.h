/* merge.h: adding profiles together (`pyrometer merge`) and comparing two
 * (`pyrometer diff`). */
#ifndef PYRO_MERGE_H
#define PYRO_MERGE_H

#include "core/compat.h"
#include "model/pstats_add.h"
#include "model/pstats_shape.h"

/* Module-level wrappers. */
/* Profiles added up: `profiles` a sequence of (stats, tree or None),
 * `names` (or None) what errors call them.  (stats, tree or None): the
 * stats as pstats' Stats(first).add(second)... computes them, the trees
 * path by path if every profile has one.  NULL + exception. */
PyObject *pyro_merge_profiles(PyObject *profiles, PyObject *names);

#endif
