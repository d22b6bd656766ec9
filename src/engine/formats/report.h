/* report.h: pstats' text report (print_stats, print_callers,
 * print_callees), byte for byte. */
#ifndef PYRO_REPORT_H
#define PYRO_REPORT_H

#include "core/compat.h"

enum { PYRO_REPORT_STATS, PYRO_REPORT_CALLERS, PYRO_REPORT_CALLEES };

/* The text of pstats.Stats(...).sort_stats(*sort).print_stats(limit)
 * (PYRO_REPORT_STATS), print_callers(limit) or print_callees(limit) for a
 * pstats dict.  sort: a tuple of keys (NULL: "cumulative"); limit: None,
 * an int, a float fraction, a regex str or a tuple of them; files: the
 * header lines print_stats() starts with (NULL: none).  A new str, or NULL
 * + exception. */
PyObject *pyro_report_text(PyObject *stats, PyObject *sort, PyObject *limit, PyObject *files,
                           int mode);

#endif
