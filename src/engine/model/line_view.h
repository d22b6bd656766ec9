/* line_view.h: a line profile as every line writer reads it.
 *
 * Functions, each with its source lines and rows: a line number, its hits
 * and one value per metric column (time in a line profile; bytes or
 * allocations for the modes to come).  Values stay the integers the table
 * counted, with each metric's scale (seconds or bytes per integer), so a
 * report prints exactly what the engine measured.  Built from the dict
 * LineProfiler.get_stats() gives and .lines files hold
 * (docs/line-format.md): version 1 has one metric, "time" in `unit`
 * seconds; version 2 lists its metrics. */
#ifndef PYRO_LINE_VIEW_H
#define PYRO_LINE_VIEW_H

#include "core/compat.h"
#include "model/units.h"

#include <stdint.h>

#define PYRO_MAX_LINE_METRICS 8

typedef struct {
    char name[32];
    pyro_unit unit;
    double scale;              /* unit per integer value */
} pyro_line_metric;

typedef struct {
    long long line;
    long long hits;
    long long value[PYRO_MAX_LINE_METRICS];
} pyro_line_row;

/* The objects are borrowed from the dict, which must outlive the view. */
typedef struct {
    PyObject *file, *name;
    PyObject *source;          /* list of str, or NULL when not available */
    long long first_line;
    size_t first_row, nrows;   /* its rows in the view's, in the dict's order */
} pyro_line_function;

typedef struct {
    int version;               /* 1: one time metric from "unit"; 2: "metrics" */
    size_t nmetrics;
    pyro_line_metric metrics[PYRO_MAX_LINE_METRICS];
    size_t nfuncs, nrows;
    pyro_line_function *funcs;
    pyro_line_row *rows;
    PyObject *meta;            /* dict or NULL */
} pyro_line_view;

/* Check `stats` against the format and fill `v`.  0 if it is a line
 * profile; 1 and *reason (a new str, one line) if not; -1 + exception on
 * failure.  Only after 0 does `v` need pyro_line_view_release. */
int pyro_line_view_init(pyro_line_view *v, PyObject *stats, PyObject **reason);
void pyro_line_view_release(pyro_line_view *v);

/* The same for an argument: 0, or -1 + ValueError naming what is wrong. */
int pyro_line_view_of_arg(pyro_line_view *v, PyObject *stats);

#endif
