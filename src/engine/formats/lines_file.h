/* lines_file.h: saved line profiles (docs/line-format.md) and their report
 * in line_profiler's layout. */
#ifndef PYRO_LINES_FILE_H
#define PYRO_LINES_FILE_H

#include "core/compat.h"
#include "core/text_out.h"

/* The bytes every line-profile file starts with. */
#define PYRO_LINES_MAGIC "pyrometer-lines\n"
/* The newest version this reader reads: 1 (one time metric) or 2 (a
 * list of metrics); a profile is written as the oldest that holds it. */
#define PYRO_LINES_VERSION 2

/* Module-level functions. */
/* Save line statistics (LineProfiler.get_stats()) to `path` (str or
 * bytes) atomically: 0, or -1 + exception. */
int pyro_lines_write(PyObject *path, PyObject *stats);

/* A saved line profile: a new dict, or NULL + OSError / FormatError. */
PyObject *pyro_lines_read(PyObject *path);

/* The report in line_profiler's layout, times in `out_unit` seconds (0:
 * a unit chosen so that no line that ran reads 0.0 per hit, said in the
 * header); `show_zero`: also functions that never ran; `color`: rows in
 * colour by their share of every function's time (formats/terminal_style.h).
 * A new str, or NULL + exception. */
PyObject *pyro_lines_text(PyObject *stats, double out_unit, int show_zero, int color);

/* A line profile with memory in memory_profiler's layout, with the exact
 * columns beside it (lines_memory_report.c); `rss_start` the RSS in bytes
 * when profiling began (0: unknown).  A str, or NULL + ValueError when the
 * profile holds no memory. */
PyObject *pyro_lines_memory_text(PyObject *stats, double rss_start);

/* A line profile as JSON, one entry per line with each metric (lines_json.c):
 * 0, or -1 + exception. */
int pyro_lines_json(PyObject *stats, pyro_text *out);

#endif
