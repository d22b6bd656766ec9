/* portable_path.h: where a profiled file lives, said the same way on every
 * machine: the standard library as `<stdlib>/json/__init__.py`, installed
 * packages as `<site-packages>/flask/app.py`, whatever the interpreter's
 * or the virtualenv's folder.  Reports show files so, and diff and merge
 * match functions across checkouts, virtualenvs and machines by it. */
#ifndef PYRO_PORTABLE_PATH_H
#define PYRO_PORTABLE_PATH_H

/* Split `file` (UTF-8) into a label and the rest: "<stdlib>/" or
 * "<site-packages>/" and the path below that folder, or "" and `file`.
 * Returns 1 for library code (those two, and `<frozen ...>` modules), else
 * 0. */
int pyro_path_split(const char *file, const char **label, const char **rest);

#include "core/compat.h"

/* Fold a file name (a str; anything else, or a name that is not UTF-8,
 * is passed over) into the folder the program's files share: *root (a
 * PyMem_Raw string, NULL before the first file) is cut down to the common
 * prefix, at a '/', of every absolute file given that is not library code.
 * 0, or -1 + MemoryError. */
int pyro_path_widen_root(char **root, PyObject *file);

/* The portable form of a file name (str): its library form, or
 * `<root>/...` below `root`, else the name itself.  A new reference, or
 * NULL + exception. */
PyObject *pyro_path_portable(PyObject *file, const char *root);

/* A file name as the displays name it (collapsed stacks, the HTML page):
 * its library form, the rest of it below `root` (`views.py`, `pkg/a.py`),
 * else the name itself.  A new reference, or NULL + exception. */
PyObject *pyro_path_shown(PyObject *file, const char *root);

#endif
