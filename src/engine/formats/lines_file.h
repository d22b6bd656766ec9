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
PyObject *pyro_py_write_lines(PyObject *module, PyObject *args);
PyObject *pyro_py_read_lines(PyObject *module, PyObject *path);
PyObject *pyro_py_format_lines(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
