/* fold_imports.h: a call tree with the import system's frames folded into
 * one `<import module>` node per module the program imported, and one
 * `<import system>` node for finding, loading and compiling: what reports
 * show by default, so that the program's own code is what the eye meets. */
#ifndef PYRO_FOLD_IMPORTS_H
#define PYRO_FOLD_IMPORTS_H

#include "core/compat.h"
#include "model/stack_view.h"

/* The folded tree of `v` (time or any metric: self and total of its
 * selected one) as a new tree dict (docs/tree-format.md, version 1), and in
 * *imports how many imports (outermost `_find_and_load` paths) were
 * folded.  NULL + exception. */
PyObject *pyro_fold_imports(const pyro_stack_view *v, size_t *imports);

#endif
