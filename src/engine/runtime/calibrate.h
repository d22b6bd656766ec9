/* calibrate.h: what every mode's calibration needs: its loops compiled
 * once, each timed by one call, and robust statistics of repetitions.
 *
 * A mode measures what its hooks cost per event by running loops of known
 * shape without and with its hooks (the modes' calibrate files hold the
 * loops and the arithmetic); the harness here is the same for all of them. */
#ifndef PYRO_CALIBRATE_H
#define PYRO_CALIBRATE_H

#include "core/compat.h"

/* The namespace of `source` (the loops), compiled and run once per
 * process: *cache holds it.  Borrowed, or NULL + exception. */
PyObject *pyro_calibration_namespace(PyObject **cache, const char *source, const char *filename);

/* A function of that namespace by name (borrowed), or NULL. */
PyObject *pyro_calibration_get(PyObject *ns, const char *name);

/* Clock ticks one call of loop(n) takes: >= 0, or -1 + exception. */
int64_t pyro_calibration_time(PyObject *loop, PyObject *n);

/* The middle value of v[0..n) (v is reordered), and the smallest. */
int64_t pyro_median_i64(int64_t *v, int n);
int64_t pyro_min_i64(const int64_t *v, int n);
double pyro_median_d(double *v, int n);   /* v is reordered */
double pyro_min_d(const double *v, int n);

/* A thread's speed probes held off while loops are timed (each repetition
 * takes its own probe beside it): the value to give back to release. */
int64_t pyro_calibration_hold_probes(void);
void pyro_calibration_release_probes(int64_t held);

#endif
