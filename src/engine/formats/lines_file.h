/* lines_file.h: saved line profiles (docs/line-format.md) and their report
 * in line_profiler's layout. */
#ifndef PYRO_LINES_FILE_H
#define PYRO_LINES_FILE_H

#include "core/compat.h"

/* The bytes every line-profile file starts with. */
#define PYRO_LINES_MAGIC "pyrometer-lines\n"
#define PYRO_LINES_VERSION 1

/* Whether `stats` has the shape LineProfiler.get_stats() gives.  0 if so;
 * 1 and *reason (a new str, one line) if not; -1 + exception on failure. */
int pyro_check_lines(PyObject *stats, PyObject **reason);

/* Module-level functions. */
/* Save line statistics (LineProfiler.get_stats()) to `path` (str or
 * bytes) atomically: 0, or -1 + exception. */
int pyro_lines_write(PyObject *path, PyObject *stats);

/* A saved line profile: a new dict, or NULL + OSError / FormatError. */
PyObject *pyro_lines_read(PyObject *path);

/* The report in line_profiler's layout, times in `out_unit` seconds;
 * `show_zero`: also functions that never ran.  A new str, or NULL +
 * exception. */
PyObject *pyro_lines_text(PyObject *stats, double out_unit, int show_zero);

#endif
