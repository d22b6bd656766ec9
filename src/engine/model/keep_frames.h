/* keep_frames.h: a call tree with the frames of some functions taken out
 * (`--only`, `--hide`, `--only-mine`): a hidden frame's own time goes to
 * the nearest frame kept above it, and its callees move up under that
 * frame (meeting the same function there, they become one node); hidden
 * frames at the top give their time to one `<other frames>` root.  The
 * total stays what it was. */
#ifndef PYRO_KEEP_FRAMES_H
#define PYRO_KEEP_FRAMES_H

#include "core/compat.h"
#include "model/stack_view.h"

/* The tree of `v` with the nodes of the functions f where !keep[f] taken
 * out, as a new tree dict (version 1); *hidden counts the nodes taken out.
 * NULL + exception. */
PyObject *pyro_keep_frames(const pyro_stack_view *v, const char *keep, size_t *hidden);

/* The general form: each function f becomes labels[label_of[f]] (a
 * pstats key), or is taken out when label_of[f] < 0; with merge_same, a
 * frame with the label of the frame above is one frame with it (`--by
 * module`: a module's functions calling each other are one frame).  Calls
 * of a merged frame are not counted again: a group's calls are its entries
 * from outside. */
PyObject *pyro_reshape_tree(const pyro_stack_view *v, const Py_ssize_t *label_of,
                            PyObject *labels, int merge_same, size_t *hidden);

#endif
