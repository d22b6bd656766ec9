/* diff.h: two function profiles compared function by function. */
#ifndef PYRO_DIFF_H
#define PYRO_DIFF_H

#include "core/compat.h"

typedef struct {
    PyObject *sort;            /* "tottime", "cumtime" or "calls"; NULL: tottime */
    Py_ssize_t limit;          /* rows shown, -1: all */
    int check;                 /* judge regressions against fail_above */
    double fail_above;         /* percent */
    double min_share;          /* percent of the total a function needs to be judged */
    PyObject *old_name, *new_name;   /* str, or NULL: "old", "new" */
    int kind;                  /* PYRO_KIND_* (report.h) of both: samples are
                                  named so, and counted without time */
    PyObject *old_runs, *new_runs;   /* NULL, or lists of each side's runs (checked
                                        stats dicts): old and new are then their
                                        sums, shown as means, and a change within
                                        the runs' spread is no change */
} pyro_diff_opts;

/* (text, failed): the comparison table, and whether the total, or a
 * function holding at least min_share of it on either side, grew by more
 * than fail_above percent.  A new tuple, or NULL + exception. */
PyObject *pyro_diff_text(PyObject *old, PyObject *new, const pyro_diff_opts *o);

#endif
