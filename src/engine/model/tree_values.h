/* tree_values.h: the values of a reshaped call tree, written as its view
 * had them.
 *
 * The model's reshapings (folding imports, keeping or grouping frames)
 * build a new tree from a view: whatever metrics the view carried (time;
 * or time and memory; or samples), the new tree carries the same, version
 * 1's self and total for one metric of time, version 2's metrics else. */
#ifndef PYRO_TREE_VALUES_H
#define PYRO_TREE_VALUES_H

#include "core/compat.h"
#include "model/stack_view.h"

/* A new node's value of metric `metric`: its self value, or with total its
 * total. */
typedef double (*pyro_value_of)(const void *ctx, size_t node, size_t metric, int total);

/* Put into `tree` (a dict holding the marker, funcs, parent, func, calls)
 * the values of its `n` nodes for each of the view's metrics: 0, or -1 +
 * exception. */
int pyro_tree_put_values(PyObject *tree, const pyro_stack_view *v, size_t n, pyro_value_of get,
                         const void *ctx);

#endif
