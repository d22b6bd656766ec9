/* gc_walk.h: every object the garbage collector tracks, one by one.
 *
 * 3.12+: PyUnstable_GC_VisitObjects walks the collector's lists in place
 * (no list of the whole heap is built; collection waits meanwhile).
 * Before 3.12: gc.get_objects(), a list of strong references, walked in
 * C.  Objects the collector does not track (ints, strs, floats, and the
 * tuples and dicts it has untracked because they hold only such) are not
 * seen, as gc.get_objects() does not see them.  The visit must not run
 * Python code nor create or free objects the collector tracks. */
#ifndef PYRO_GC_WALK_H
#define PYRO_GC_WALK_H

#include "core/compat.h"

typedef void (*pyro_gc_visit)(PyObject *obj, void *arg);

/* Call visit(obj, arg) for each tracked object: 0, or -1 + exception. */
int pyro_gc_walk(pyro_gc_visit visit, void *arg);

#endif
