/* py_writers.h: the writers as functions of the _engine module: arguments
 * parsed and checked, views built, the text written to its file
 * atomically.  The formats themselves know nothing of Python arguments. */
#ifndef PYRO_PY_WRITERS_H
#define PYRO_PY_WRITERS_H

#include "core/compat.h"

PyObject *pyro_py_write_collapsed(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_speedscope(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_flamegraph(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_callgrind(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_dot(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_lines_diff(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_rekey(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_strip_dirs(PyObject *module, PyObject *stats);
PyObject *pyro_py_path_split(PyObject *module, PyObject *arg);
PyObject *pyro_py_keep_frames(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_group_frames(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_fold_imports(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_tree(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_dot(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_report(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_lines(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_lines_memory(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_lines_json(PyObject *module, PyObject *args);
PyObject *pyro_py_format_diff(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_merge_profiles(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_write_html(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
