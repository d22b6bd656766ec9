/* file_read.h: read an input file whole, as a hostile file is read.
 *
 * Only regular files are read (a FIFO would block, /dev/zero never ends),
 * and none over PYRO_MAX_INPUT; every failure becomes one line naming the
 * file (docs/file-safety.md). */
#ifndef PYRO_FILE_READ_H
#define PYRO_FILE_READ_H

#include "core/compat.h"

#include <stdint.h>

/* Beyond the errno values: not a regular file; bigger than any profile. */
#define PYRO_ENOTREG (-2)
#define PYRO_ETOOBIG (-3)
#define PYRO_MAX_INPUT ((uint64_t)1 << 30)

/* Read all of `path` into a PyMem_Raw buffer (*data, freed with
 * PyMem_RawFree).  0, or an errno value or PYRO_ENOTREG / PYRO_ETOOBIG.
 * Needs no GIL. */
int pyro_read_file(const char *path, char **data, size_t *len);

/* The first `want` bytes of `path` into buf (*got of them: fewer if the
 * file is shorter), with the same checks.  0, or an error as above. */
int pyro_read_head(const char *path, char *buf, size_t want, size_t *got);

/* The OSError (of errno's subclass: FileNotFoundError...) or MemoryError
 * for a pyro_read_file failure, one line naming `path`. */
void pyro_raise_read_error(const char *path, int err);

/* Read all of the file a path object names (str, bytes or os.PathLike),
 * with the GIL released while reading: the path as bytes (a new reference,
 * for messages), *data (freed with PyMem_RawFree) and *len; or NULL with
 * the exception set (pyro_raise_read_error's) and nothing to free. */
PyObject *pyro_read_path(PyObject *path_obj, char **data, size_t *len);

#endif
