/* name_watch.h: tell when code that reads a global name is about to run.
 *
 * The runner defines the `profile` builtin (kernprof's convention) only for
 * programs that use it: a builtin that appears in every program changes
 * what some of them do (pyflakes stops reporting `undefined name
 * 'profile'`).  An audit hook sees every code object before exec() runs it,
 * imported modules included, and calls back for those whose names (or
 * those of the code they define) include the watched one. */
#ifndef PYRO_NAME_WATCH_H
#define PYRO_NAME_WATCH_H

#include "core/compat.h"

/* name_watch(name, callback): callback(code) before code naming `name`
 * runs, until name_unwatch().  One watch at a time; a new one replaces it. */
PyObject *pyro_py_name_watch(PyObject *module, PyObject *args);
PyObject *pyro_py_name_unwatch(PyObject *module, PyObject *unused);

#endif
