/* prof_file.h: the .prof file (pstats' marshal format): writer and reader. */
#ifndef PYRO_PROF_FILE_H
#define PYRO_PROF_FILE_H

#include "compat.h"

/* Write `stats` (a pstats dict) to `path` atomically. 0 or -1 + exception. */
int pyro_write_prof(const char *path, PyObject *stats);

/* Module-level wrappers. */
PyObject *pyro_py_dump_stats(PyObject *module, PyObject *args);

#endif
