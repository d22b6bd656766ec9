/* lines_merge.h: line profiles added up (`pyrometer merge` of .lines and
 * line_profiler's .lprof files), as line_profiler adds LineStats. */
#ifndef PYRO_LINES_MERGE_H
#define PYRO_LINES_MERGE_H

#include "core/compat.h"

/* One line profile (docs/line-format.md) of the sequence `profiles`:
 * functions matched by (file, first line, name), each line's hits and
 * values added, in the finest scale of the inputs (a coarser one's values
 * converted, rounded); the source of the first that has one; the meta
 * data the inputs agree on, and every note.  The profiles must measure
 * the same metrics.  A new dict, or NULL + ValueError (one line). */
PyObject *pyro_lines_merge(PyObject *profiles);

#endif
