/* py_timeline.h: memory over time, as functions of the _engine module:
 * saving a Timeline (modes/timeline_mode.h) with the heap's breakdown of
 * a memory profile beside it, reading a saved one, and writing it as a
 * plot (SVG, HTML), mprof's .dat or massif's massif.out. */
#ifndef PYRO_PY_TIMELINE_H
#define PYRO_PY_TIMELINE_H

#include "core/compat.h"

/* write_timeline(path, timeline, *, format='mem', cmd='', tree=None,
 * metric='net', tree_kind='net', title=None) */
PyObject *pyro_py_write_timeline(PyObject *module, PyObject *args, PyObject *kwargs);
/* read_timeline(path) -> dict */
PyObject *pyro_py_read_timeline(PyObject *module, PyObject *path);
/* convert_timeline(path, out, format, *, title=None) */
PyObject *pyro_py_convert_timeline(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
