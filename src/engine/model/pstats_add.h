/* pstats_add.h: pstats' arithmetic for adding statistics: Stats.add()
 * (profiles merged) and strip_dirs() (functions that become one). */
#ifndef PYRO_PSTATS_ADD_H
#define PYRO_PSTATS_ADD_H

#include "core/compat.h"

/* Add the pstats dict `src` into `acc` as pstats.Stats.add() does: cc, nc,
 * tt and ct summed, callers merged (tuples summed item by item, plain
 * counts added).  `acc` must own the callers dicts of its entries (an
 * empty dict to start with is fine: entries met for the first time get a
 * copy of theirs).  `src` must have been checked (pyro_check_stats).
 * 0, or -1 + exception (FormatError when a call is a count in one profile
 * and a tuple in the other, which pstats cannot add either); `src_name`
 * (a str, or NULL) is what that message calls the profile. */
int pyro_stats_add(PyObject *acc, PyObject *src, PyObject *src_name);

/* The same for one entry (key: (cc, nc, tt, ct, callers)). */
int pyro_stats_add_entry(PyObject *acc, PyObject *key, PyObject *value, PyObject *src_name);

/* One call (ckey: cvalue) added into the callers dict `acc` of `callee`,
 * as pstats' add_callers() adds it. */
int pyro_stats_add_call(PyObject *acc, PyObject *ckey, PyObject *cvalue, PyObject *callee,
                        PyObject *src_name);

#endif
