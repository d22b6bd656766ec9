/* tree_view.h: a call tree dict (docs/tree-format.md), checked and unpacked
 * into C arrays for the writers. */
#ifndef PYRO_TREE_VIEW_H
#define PYRO_TREE_VIEW_H

#include "core/compat.h"

#include <stdint.h>

/* A tree dict checked and unpacked into C arrays.  `funcs` is borrowed
 * from the dict, which must outlive the view. */
typedef struct {
    size_t n;                  /* nodes */
    size_t nfuncs;
    int64_t *parent;           /* -1 or an index below the node's own */
    uint32_t *func;            /* index into funcs */
    uint64_t *calls;
    double *self_time;         /* seconds, finite, >= 0 */
    double *total_time;
    PyObject *funcs;           /* list of (file, line, name) */
    int folded;
} pyro_tree_view;

/* Check `tree` against the format and fill `v`.  0 if it is a tree; 1 and
 * *reason (a new str, one line) if not; -1 + exception on failure.  Only
 * after 0 does `v` need pyro_tree_view_release. */
int pyro_tree_view_init(pyro_tree_view *v, PyObject *tree, PyObject **reason);
void pyro_tree_view_release(pyro_tree_view *v);

/* The same check for an argument: 0, or -1 + ValueError/TypeError. */
int pyro_tree_view_of_arg(pyro_tree_view *v, PyObject *tree);

/* Depth of every node (a root is 0): a new PyMem_Raw array, or NULL +
 * MemoryError. */
uint32_t *pyro_tree_depths(const pyro_tree_view *v);

/* The functions on the path to node `i`, root first, into path[0..depth]:
 * `path` has room for depth + 1 items. */
void pyro_tree_path(const pyro_tree_view *v, size_t i, uint32_t depth, uint32_t *path);

/* The frame names of all functions (pyro_frame_name) as UTF-8, each a
 * PyMem_Raw string; `sanitize` replaces ';' with ',' and line breaks with
 * spaces (collapsed stacks).  NULL + exception on failure. */
char **pyro_tree_frame_names(const pyro_tree_view *v, int sanitize);
void pyro_tree_free_names(const pyro_tree_view *v, char **names);

/* Frame names, as the writers show them: `name (file:line)`, a built-in
 * as pstats prints it (`{built-in method builtins.len}`).  A new str. */
PyObject *pyro_frame_name(PyObject *label);

#endif
