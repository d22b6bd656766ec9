/* line_file.h: saved line profiles (docs/line-format.md): writer, reader
 * and the check of their shape. */
#ifndef PYRO_LINE_FILE_H
#define PYRO_LINE_FILE_H

#include "compat.h"

/* The first bytes of every line profile file. */
#define PYRO_LINES_MAGIC "pyrometer-lines 1\n"

/* Whether `stats` has the shape LineProfiler.get_stats() gives:
 * {"unit": seconds > 0, "meta": {str: str} (optional), "functions":
 * [{"file": str, "line": int, "name": str, "timings": [(line, hits, time)],
 * "source": [str] or None}]}.  0 if so; 1 and *reason (a new str, one
 * line) if not; -1 + exception on failure. */
int pyro_check_line_stats(PyObject *stats, PyObject **reason);

/* Module-level wrappers: write_lines(path, stats), read_lines(path). */
PyObject *pyro_py_write_lines(PyObject *module, PyObject *args);
PyObject *pyro_py_read_lines(PyObject *module, PyObject *path);

#endif
