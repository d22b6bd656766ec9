/* prof_writer.c: write a pstats dict as a .prof file (marshal), atomically. */
#include "prof_file.h"
#include "atomic_file.h"

#include <errno.h>
#include <marshal.h>

int pyro_write_prof(const char *path, PyObject *stats)
{
    if (!PyDict_Check(stats)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: stats must be a dict");
        return -1;
    }
    PyObject *data = PyMarshal_WriteObjectToString(stats, Py_MARSHAL_VERSION);
    if (data == NULL)
        return -1;
    int rc = pyro_write_atomic(path, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data));
    Py_DECREF(data);
    if (rc < 0) {
        PyErr_Format(PyExc_OSError, "pyrometer: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

PyObject *pyro_py_dump_stats(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj, *stats, *path_bytes = NULL;
    if (!PyArg_ParseTuple(args, "OO!:dump_stats", &path_obj, &PyDict_Type, &stats))
        return NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    int rc = pyro_write_prof(PyBytes_AS_STRING(path_bytes), stats);
    Py_DECREF(path_bytes);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}
