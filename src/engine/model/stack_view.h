/* stack_view.h: a weighted call tree, what every stack writer reads.
 *
 * Nodes (call paths, parents first) with their function and calls, and
 * metric columns: each a name, a unit and per node a self and a total
 * value (time in seconds for a function profile; bytes, allocations or
 * samples for the modes to come).  Built from a call-tree dict
 * (docs/tree-format.md): version 1 has one metric, "time" in seconds;
 * version 2 a list of them.  Writers draw the selected metric and label
 * its values by its unit. */
#ifndef PYRO_STACK_VIEW_H
#define PYRO_STACK_VIEW_H

#include "core/compat.h"
#include "model/units.h"

#include <stdint.h>

#define PYRO_MAX_METRICS 8

typedef struct {
    char name[32];
    pyro_unit unit;
    double *self;              /* per node, finite, >= 0 */
    double *total;
} pyro_metric;

/* `funcs` is borrowed from the dict, which must outlive the view. */
typedef struct {
    size_t n;                  /* nodes */
    size_t nfuncs;
    int64_t *parent;           /* -1 or an index below the node's own */
    uint32_t *func;            /* index into funcs */
    uint64_t *calls;
    PyObject *funcs;           /* list of (file, line, name) */
    int folded;
    size_t nmetrics;
    pyro_metric metrics[PYRO_MAX_METRICS];
    /* The metric the writers draw (the first until one is selected). */
    const pyro_metric *metric;
    double *self, *total;
    pyro_unit unit;
} pyro_stack_view;

/* Check `tree` against the format and fill `v`.  0 if it is a tree; 1 and
 * *reason (a new str, one line) if not; -1 + exception on failure.  Only
 * after 0 does `v` need pyro_stack_view_release. */
int pyro_stack_view_init(pyro_stack_view *v, PyObject *tree, PyObject **reason);
void pyro_stack_view_release(pyro_stack_view *v);

/* The same check for an argument: 0, or -1 + ValueError/TypeError. */
int pyro_stack_view_of_arg(pyro_stack_view *v, PyObject *tree);

/* Draw the metric called `name` (NULL: keep the first): 0, or -1 +
 * ValueError naming the metrics there are. */
int pyro_stack_view_select(pyro_stack_view *v, const char *name);

/* Depth of every node (a root is 0): a new PyMem_Raw array, or NULL +
 * MemoryError. */
uint32_t *pyro_stack_depths(const pyro_stack_view *v);

/* The functions on the path to node `i`, root first, into path[0..depth]:
 * `path` has room for depth + 1 items. */
void pyro_stack_path(const pyro_stack_view *v, size_t i, uint32_t depth, uint32_t *path);

/* How pyro_stack_frame_names spells the names: SANITIZE replaces ';'
 * with ',' and line breaks with spaces (collapsed stacks); SHORT_PATHS
 * names files as the displays do (model/portable_path: `<stdlib>/...`,
 * `<site-packages>/...`, the program's below the folder its files share). */
#define PYRO_NAMES_SANITIZE 1
#define PYRO_NAMES_SHORT_PATHS 2

/* The frame names of all functions (pyro_frame_name) as UTF-8, each a
 * PyMem_Raw string, spelt as `how` (PYRO_NAMES_* flags) says.  NULL +
 * exception on failure. */
char **pyro_stack_frame_names(const pyro_stack_view *v, int how);
void pyro_stack_free_names(const pyro_stack_view *v, char **names);

/* Frame names, as the writers show them: `name (file:line)`, a built-in
 * as pstats prints it (`{built-in method builtins.len}`).  A new str. */
PyObject *pyro_frame_name(PyObject *label);

#endif
