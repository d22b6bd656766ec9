/* module.c: the pyrometer._engine extension module. */
#include "profiler.h"
#include "prof_file.h"
#include "lineprofiler.h"
#include "lines_file.h"

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
    {"load_stats", pyro_py_load_stats, METH_O,
     "load_stats(path) -> dict: read a .prof file (cProfile's, profile's or ours) as\n"
     "marshal.load would; OSError if unreadable, FormatError if not a profile."},
    {"format_report", (PyCFunction)(void (*)(void))pyro_py_format_report,
     METH_VARARGS | METH_KEYWORDS,
     "format_report(stats, *, sort=('cumulative',), limit=None, files=(), mode='stats') -> str:\n"
     "the text of pstats.Stats(...).sort_stats(*sort).print_stats(limit) (mode 'stats'),\n"
     "print_callers(limit) ('callers') or print_callees(limit) ('callees'), byte for byte.\n"
     "limit: None, an int, a float fraction, a regex str or a tuple of them; files: the\n"
     "header lines print_stats() starts with."},
    {"write_lines", pyro_py_write_lines, METH_VARARGS,
     "write_lines(path, stats): save LineProfiler.get_stats() atomically."},
    {"read_lines", pyro_py_read_lines, METH_O,
     "read_lines(path) -> dict: a saved line profile; OSError if unreadable,\n"
     "FormatError if not a line profile or damaged."},
    {"format_lines", (PyCFunction)(void (*)(void))pyro_py_format_lines,
     METH_VARARGS | METH_KEYWORDS,
     "format_lines(stats, unit=1e-06, show_zero=False) -> str: the report in\n"
     "line_profiler's layout."},
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
    if (PyType_Ready(&pyro_ProfilerType) < 0 || PyType_Ready(&pyro_LineProfilerType) < 0)
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
    Py_INCREF(&pyro_LineProfilerType);
    if (PyModule_AddObject(m, "LineProfiler", (PyObject *)&pyro_LineProfilerType) < 0) {
        Py_DECREF(&pyro_LineProfilerType);
        Py_DECREF(m);
        return NULL;
    }
    pyro_FormatError = PyErr_NewExceptionWithDoc(
        "pyrometer._engine.FormatError", "A file that is not a profile.", PyExc_ValueError, NULL);
    if (pyro_FormatError == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(pyro_FormatError);
    if (PyModule_AddObject(m, "FormatError", pyro_FormatError) < 0) {
        Py_DECREF(pyro_FormatError);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "EVENT_SOURCE",
                                   PYRO_HAVE_MONITORING ? "sys.monitoring" : "PyEval_SetProfile") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddObject(m, "LINES_MAGIC", PyBytes_FromString(PYRO_LINES_MAGIC)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
