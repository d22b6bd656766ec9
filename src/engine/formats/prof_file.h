/* prof_file.h: the .prof file (pstats' marshal format, then pyrometer's
 * call tree): writer and reader. */
#ifndef PYRO_PROF_FILE_H
#define PYRO_PROF_FILE_H

#include "core/compat.h"

/* Write `stats` (a pstats dict) to `path` atomically. 0 or -1 + exception. */
int pyro_write_prof(const char *path, PyObject *stats);

/* Read the profile in `path` as marshal.load would (first object only):
 * a new dict, or NULL + OSError / FormatError / MemoryError. */
PyObject *pyro_load_stats(const char *path);

/* Write `stats` then `tree` (NULL: none) as two marshal objects, the tree
 * with its marker first; atomically.  0 or -1 + exception. */
int pyro_write_prof_tree(const char *path, PyObject *stats, PyObject *tree);

/* What follows the stats in a file: `data` (`len` bytes) after the first
 * object.  0 with *tree a new tree dict, or NULL if there is none (no data,
 * or data that is not pyrometer's marked tree); -1 + FormatError naming
 * `path` when the marked tree is corrupt or malformed. */
int pyro_read_tree(const char *path, const char *data, size_t len, PyObject **tree);

/* Read a profile: its stats (a new dict, as pyro_load_stats) and *tree as
 * pyro_read_tree gives it.  NULL + exception on failure. */
PyObject *pyro_load_profile(const char *path, PyObject **tree);


#endif
