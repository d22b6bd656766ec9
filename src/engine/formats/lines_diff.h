/* lines_diff.h: two line profiles compared line by line, as the seeds do
 * by hand ("5.3 s -> 1.5 s" per line): `pyrometer diff OLD.lines NEW.lines`. */
#ifndef PYRO_LINES_DIFF_H
#define PYRO_LINES_DIFF_H

#include "core/compat.h"
#include "model/line_view.h"

/* The comparison as text: per function (matched by name and file name),
 * its lines (matched by their text) with hits and time on both sides and
 * the change.  `old_name`, `new_name`: str for the header.  A new str, or
 * NULL + exception. */
PyObject *pyro_lines_diff(const pyro_line_view *a, const pyro_line_view *b, PyObject *old_name,
                          PyObject *new_name);

#endif
