/* relocate.h: one program's functions under another folder.  The same
 * program profiled from two checkouts, virtualenvs or machines names its
 * files by other paths; merging the two must add its functions up, not
 * list each twice.  A function of the new profile that the accumulated one
 * lacks takes the accumulated one's key when exactly one function there
 * has its portable path (model/portable_path.h), line and name.  The
 * renaming itself (rekey) serves reports too: short paths, pstats'
 * strip_dirs(). */
#ifndef PYRO_RELOCATE_H
#define PYRO_RELOCATE_H

#include "core/compat.h"

/* {src key: acc key} for the functions of stats dict `src` found in stats
 * dict `acc` under another folder (empty when none).  NULL + exception. */
PyObject *pyro_relocation(PyObject *acc, PyObject *src);

/* `stats` with its keys, and its callers' keys, renamed by `map`: a new
 * dict (a new reference to `stats` itself when the map is empty).  Keys
 * renamed to one are added up as pstats adds them (model/pstats_add.h). */
PyObject *pyro_rekey_stats(PyObject *stats, PyObject *map);

/* pstats' Stats.strip_dirs(): every file named without its folders, the
 * functions (and the callers of one) that become one added up.  Unlike
 * pstats, two callers of one function that become one add up too (pstats
 * keeps the last): a new dict, or NULL + exception. */
PyObject *pyro_strip_dirs(PyObject *stats);

/* A tree dict (docs/tree-format.md) with its funcs renamed by `map`: a
 * shallow copy, or a new reference to `tree` when nothing is renamed.  The
 * map must not name two of its funcs alike (the format has no duplicates). */
PyObject *pyro_rekey_tree(PyObject *tree, PyObject *map);

#endif
