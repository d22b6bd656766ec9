/* pickle_machine.h: the one reader of pickle data, which unpickles
 * nothing: it knows the opcodes of a pickled line_profiler LineStats and
 * that class by name, builds plain data, and never imports or calls what a
 * file names (docs/file-safety.md). */
#ifndef PYRO_PICKLE_MACHINE_H
#define PYRO_PICKLE_MACHINE_H

#include "core/compat.h"

/* The attributes of the LineStats pickled in data[0:len) (which starts
 * with PROTO): a new dict of str to None, bools, ints, floats, str, tuples,
 * lists and dicts, or NULL + FormatError "pyrometer: PATH is not a
 * line_profiler file (why)" (or MemoryError). */
PyObject *pyro_pickle_line_stats(const char *path, const char *data, size_t len);

#endif
