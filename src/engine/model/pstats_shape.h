/* pstats_shape.h: what a pstats dict is: {(file, line, name): (cc, nc,
 * tt, ct, {caller: (nc, cc, tt, ct) or nc})}, with counts that are exact
 * ints of 64 bits and times that are ints or floats. */
#ifndef PYRO_PSTATS_SHAPE_H
#define PYRO_PSTATS_SHAPE_H

#include "core/compat.h"

/* Whether `stats` has pstats' shape.  0 if so; 1 and *reason (a new str,
 * one line) if not; -1 + exception on failure. */
int pyro_check_stats(PyObject *stats, PyObject **reason);

/* The same for one entry, its callers dict's items only if `callers_too`;
 * and for one item (ckey: cvalue) of the callers of `key`, its key not
 * looked at if `ckey_checked` (when it is one of the stats' own keys). */
int pyro_check_entry(PyObject *key, PyObject *value, int callers_too, PyObject **reason);
int pyro_check_call(PyObject *key, PyObject *ckey, PyObject *cvalue, int ckey_checked,
                    PyObject **reason);

#endif
