/* atomic_file.h: write a whole file or nothing.
 *
 * The data goes to a temporary file beside the target, is flushed to disk
 * and renamed over the target, so a reader never sees half a profile and an
 * existing file survives a failed write.  The temporary file has 64 random
 * bits in its name and is created only where nothing, not even a link, is:
 * a link planted there cannot redirect the write.  A replaced file keeps its
 * permissions.  An existing device, pipe or terminal (or a link to one,
 * such as /dev/stdout) is written to directly, never replaced by a regular
 * file; a link to anything else is replaced, and what it points to left
 * alone. */
#ifndef PYRO_ATOMIC_FILE_H
#define PYRO_ATOMIC_FILE_H

#include <stddef.h>

/* Returns 0, or -1 with errno set and nothing left behind. */
int pyro_write_atomic(const char *path, const void *data, size_t len);

#endif
