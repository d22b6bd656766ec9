/* py_rss.h: the resident set size, as functions and a type of the _engine
 * module: rss_now(), rss_process_peak(), and RSSBlock, the RSS before,
 * after and at the peak of a block of code (runtime/rss_blocks.h). */
#ifndef PYRO_PY_RSS_H
#define PYRO_PY_RSS_H

#include "core/compat.h"

extern PyTypeObject pyro_RSSBlockType;

PyObject *pyro_py_rss_now(PyObject *module, PyObject *unused);
PyObject *pyro_py_rss_process_peak(PyObject *module, PyObject *unused);

#endif
