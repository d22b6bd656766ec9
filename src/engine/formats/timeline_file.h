/* timeline_file.h: saved timelines (.mem, docs/timeline-format.md).
 *
 * A magic line, then chunks: a four-letter tag, a 32-bit length and that
 * many bytes, little-endian numbers throughout.  HEAD comes first, END
 * last, a tag this reader does not know is skipped (a later version may
 * add chunks).  Every length is checked against the bytes left and the
 * size of what the chunk holds before anything is allocated; every value
 * against the view's bounds (model/timeline_view.h). */
#ifndef PYRO_TIMELINE_FILE_H
#define PYRO_TIMELINE_FILE_H

#include "core/compat.h"
#include "model/timeline_view.h"

#define PYRO_TIMELINE_MAGIC "pyrometer-timeline\n"
#define PYRO_TIMELINE_VERSION 1

/* Write `v` to `path` (str, bytes or path-like) atomically: 0, or -1 +
 * OSError or MemoryError. */
int pyro_timeline_file_write(PyObject *path, const pyro_timeline_view *v);

/* Read a saved timeline into `v` (cleared first): 0, or -1 + OSError (the
 * file cannot be read), FormatError (it is no timeline, or a damaged one,
 * in one line naming it) or MemoryError; `v` is then empty. */
int pyro_timeline_file_read(PyObject *path, pyro_timeline_view *v);

/* Whether `data` (len bytes: a file's first ones) starts a timeline. */
int pyro_timeline_file_is(const char *data, size_t len);

#endif
