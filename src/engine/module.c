/* module.c: the pyrometer._engine extension module. */
#include "profiler.h"
#include "prof_file.h"

static PyObject *py_clock_name(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyUnicode_FromString(pyro_clock_name());
}

static PyMethodDef module_methods[] = {
    {"dump_stats", pyro_py_dump_stats, METH_VARARGS,
     "dump_stats(path, stats): write a pstats dict as a .prof file, atomically."},
    {"clock_name", py_clock_name, METH_NOARGS, "The clock in use."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef engine_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyrometer._engine",
    .m_doc = "Pyrometer's profiling engine.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__engine(void)
{
    if (PyType_Ready(&pyro_ProfilerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&engine_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&pyro_ProfilerType);
    if (PyModule_AddObject(m, "Profiler", (PyObject *)&pyro_ProfilerType) < 0) {
        Py_DECREF(&pyro_ProfilerType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "EVENT_SOURCE",
                                   PYRO_HAVE_MONITORING ? "sys.monitoring" : "PyEval_SetProfile") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
