/* calltree_export.h: the function mode's call tree (tables/calltree) as
 * the dicts the files and writers read: pstats' statistics, and the call
 * tree of docs/tree-format.md. */
#ifndef PYRO_CALLTREE_EXPORT_H
#define PYRO_CALLTREE_EXPORT_H

#include "core/compat.h"
#include "tables/calltree.h"

/* The tree as a pstats dict: {(file, line, name): (cc, nc, tt, ct,
 * {caller: (nc, cc, tt, ct)})}, times in seconds (ticks times
 * `sec_per_tick`).  A new dict, or NULL + exception. */
PyObject *pyro_export_pstats(pyro_state *st, double sec_per_tick);

/* The tree as the dict of docs/tree-format.md (version 1). */
PyObject *pyro_export_tree(pyro_state *st, double sec_per_tick);

#endif
