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

/* CPython 3.15's sampling profiler (profiling.sampling --pstats) marks its
 * dict with one more entry, ('__sampled__',): True, and counts samples
 * where pstats counts calls: cc the samples a function was running in,
 * nc those it was on the stack in.  Whether (key, value) is exactly that
 * marker; the checks above refuse it, so readers take it out first. */
int pyro_is_sampled_marker(PyObject *key, PyObject *value);

/* `stats` without the marker: a new reference, to a copy when the marker
 * was there (*sampled = 1), else to `stats` itself (*sampled = 0).  A
 * marker with another value stays, for the checks to name.  NULL +
 * exception on failure. */
PyObject *pyro_stats_unmark(PyObject *stats, int *sampled);

/* The stats of a sampled profile with its times swapped for the sample
 * counts (tt = cc, the samples a function ran in; ct = nc, those it was on
 * the stack in): what the graph writers draw in samples.  Entries that
 * are not (cc, nc, tt, ct, callers) stay as they are, for the checks to
 * name.  A new dict, or NULL + exception. */
PyObject *pyro_stats_sample_counts(PyObject *stats);

/* Put the marker in `stats` (last, where 3.15 puts it).  0, or -1 +
 * exception. */
int pyro_stats_mark(PyObject *stats);

#endif
