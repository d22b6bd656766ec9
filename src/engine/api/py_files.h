/* py_files.h: reading and writing profile files, as functions of the
 * _engine module. */
#ifndef PYRO_PY_FILES_H
#define PYRO_PY_FILES_H

#include "core/compat.h"

PyObject *pyro_py_load_stats(PyObject *module, PyObject *path);
PyObject *pyro_py_load_profile(PyObject *module, PyObject *path);
PyObject *pyro_py_read_profile(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_dump_stats(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_read_lines(PyObject *module, PyObject *path);
PyObject *pyro_py_read_lprof(PyObject *module, PyObject *path);
PyObject *pyro_py_merge_lines(PyObject *module, PyObject *profiles);
PyObject *pyro_py_write_lines(PyObject *module, PyObject *args);
PyObject *pyro_py_file_head(PyObject *module, PyObject *args);
PyObject *pyro_py_write_file(PyObject *module, PyObject *args);

#endif
