/* report.h: pstats' text report (print_stats, print_callers,
 * print_callees), in pyrometer's columns or byte for byte. */
#ifndef PYRO_REPORT_H
#define PYRO_REPORT_H

#include "core/compat.h"

enum { PYRO_REPORT_STATS, PYRO_REPORT_CALLERS, PYRO_REPORT_CALLEES };

/* What a pstats dict counts.  TRACED: calls, as cProfile does.  SAMPLED:
 * samples, with times (3.15's profiling.sampling --pstats): the report
 * speaks 3.15's SampledStats' words (nsamples, persample, the sort keys
 * samples, nsamples, psamples).  SAMPLE_COUNTS: samples with no time
 * known (collapsed stacks), tottime and cumtime holding the direct and
 * cumulative counts: the stats table is samples and shares. */
enum { PYRO_KIND_TRACED, PYRO_KIND_SAMPLED, PYRO_KIND_SAMPLE_COUNTS };

/* How the numbers are laid out.  COLUMNS: each column of times in one
 * fixed-point notation with the decimals its smallest value needs, every
 * column as wide as its widest cell, and a "%" column (a function's share
 * of the total, after cumtime's percall).  PSTATS: pstats' own text, "%8.3f"
 * in every column, byte for byte. */
enum { PYRO_LAYOUT_COLUMNS, PYRO_LAYOUT_PSTATS };

/* How the report meets a terminal (formats/terminal_style.h): `color`, its
 * hot rows coloured by their share of the profile's own time; `width`, the
 * terminal's columns, names in the stats table too long for it shortened
 * from the left (0: never).  Only pyrometer's columns are styled. */
typedef struct {
    int color;
    Py_ssize_t width;
} pyro_report_style;

/* The text of pstats.Stats(...).sort_stats(*sort).print_stats(limit)
 * (PYRO_REPORT_STATS), print_callers(limit) or print_callees(limit) for a
 * pstats dict of `kind`.  sort: a tuple of keys (NULL: "cumulative");
 * limit: None, an int, a float fraction, a regex str or a tuple of them;
 * files: the header lines print_stats() starts with (NULL: none); layout:
 * PYRO_LAYOUT_*; style: NULL for plain text.  A new str, or NULL +
 * exception. */
PyObject *pyro_report_text(PyObject *stats, PyObject *sort, PyObject *limit, PyObject *files,
                           int mode, int kind, int layout, const pyro_report_style *style);

#endif
