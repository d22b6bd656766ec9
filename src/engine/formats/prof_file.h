/* prof_file.h: the .prof file (pstats' marshal format, then pyrometer's
 * call tree): writer and reader. */
#ifndef PYRO_PROF_FILE_H
#define PYRO_PROF_FILE_H

#include "core/compat.h"

/* Write `stats` (a pstats dict) to `path` atomically. 0 or -1 + exception. */
int pyro_write_prof(const char *path, PyObject *stats);

/* Read the profile in `path` as marshal.load would (first object only,
 * 3.15's sampled marker kept): a new dict, or NULL + OSError /
 * FormatError / MemoryError. */
PyObject *pyro_load_stats(const char *path);

/* Write `stats` then `tree` (NULL: none) as two marshal objects, the tree
 * with its marker first; with `sampled`, the stats carry 3.15's sampled
 * marker.  Atomically.  0 or -1 + exception. */
int pyro_write_prof_tree(const char *path, PyObject *stats, PyObject *tree, int sampled);

/* What follows the stats in a file: `data` (`len` bytes) after the first
 * object.  0 with *tree a new tree dict, or NULL if there is none (no data,
 * or data that is not pyrometer's marked tree); -1 + FormatError naming
 * `path` when the marked tree is corrupt or malformed. */
int pyro_read_tree(const char *path, const char *data, size_t len, PyObject **tree);

/* What a profile file holds beside its stats. */
typedef struct {
    int sampled;               /* samples, not calls: 3.15's marker was in the
                                  stats (and is taken out), or stacks of samples */
    int counts;                /* the stats' times are sample counts, no time
                                  being known: collapsed stacks, or a .prof
                                  written from them (its tree counts samples) */
    const char *format;        /* "prof" or "collapsed" */
} pyro_profile_info;

/* Read a profile, a .prof or collapsed stacks (collapsed_reader.h): its
 * stats (a new dict, without the sampled marker), *tree as pyro_read_tree
 * gives it (for stacks, the tree read from them), and `info` (NULL: not
 * wanted).  Without `need_tree`, a .prof's damaged tree is no error, only
 * no tree.  NULL + exception on failure. */
PyObject *pyro_load_profile(const char *path, PyObject **tree, pyro_profile_info *info,
                            int need_tree);


#endif
