/* lprof_reader.h: line_profiler's saved statistics (`kernprof -l` writes
 * script.py.lprof) read as a line profile.
 *
 * Such a file is a pickled `line_profiler.LineStats`: an object whose
 * `timings` are {(file, first line, name): [(line, hits, time), ...]} and
 * whose `unit` is the seconds a time counts.  It is read here by a pickle
 * machine of its own that knows only the opcodes such a file is made of
 * and the one class it names: nothing the file names is ever imported or
 * called, and anything else is refused with one line. */
#ifndef PYRO_LPROF_READER_H
#define PYRO_LPROF_READER_H

#include "core/compat.h"

/* Pickle protocols line_profiler writes (HIGHEST_PROTOCOL of Python 2.7 to
 * 3.14): the first byte 0x80 (PROTO), the second one of these. */
#define PYRO_LPROF_MIN_PROTOCOL 2
#define PYRO_LPROF_MAX_PROTOCOL 5

/* Whether data[0:len) starts as such a pickle. */
int pyro_lprof_sniff(const char *data, size_t len);

/* The line profile (docs/line-format.md, version 1, no "version" key) of
 * the .lprof file at `path` (str, bytes or os.PathLike): functions as
 * line_profiler keyed them, timings in line order (a line listed twice
 * added up), times in the file's unit, "source" None.  A new dict, or
 * NULL + OSError / FormatError (one line naming the file). */
PyObject *pyro_lprof_read(PyObject *path);

#endif
