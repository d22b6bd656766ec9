/* function_events_monitoring.c: the event source on 3.12+, through sys.monitoring
 * with C (METH_FASTCALL) callbacks. */
#include "modes/function_mode.h"
#include "hooks/monitoring.h"

#if PYRO_HAVE_MONITORING

static PyObject *on_py_enter(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = PYRO_CALLBACK_OWNER(hook);
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    (void)n;
    pyro_enter(&((pyro_profiler *)self)->st, PYRO_PY, args[0], args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = PYRO_CALLBACK_OWNER(hook);
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    (void)n;
    pyro_leave(&((pyro_profiler *)self)->st, PYRO_PY, args[0]);
    Py_RETURN_NONE;
}

/* The PyMethodDef a CALL of a built-in runs, or NULL for anything else;
 * *kind tells a built-in type's method called on an object (which the
 * interpreter calls through its generic path while the CALL event is on)
 * from a function. */
static inline PyMethodDef *builtin_def(pyro_profiler *p, PyObject *callable,
                                       PyObject *arg0, int *kind)
{
    /* Exact types first: most calls are of Python functions, and the
     * subclass check below walks the MRO. */
    PyTypeObject *type = Py_TYPE(callable);
    *kind = PYRO_C;
    if (type == &PyFunction_Type || type == &PyMethod_Type)
        return NULL;
    if (type == &PyCFunction_Type || type == &PyCMethod_Type)
        return ((PyCFunctionObject *)callable)->m_ml;
    if (type == &PyMethodDescr_Type) {
        *kind = PYRO_C_METHOD;
        return arg0 != p->missing ? ((PyMethodDescrObject *)callable)->d_method : NULL;
    }
    if (PyCFunction_Check(callable))
        return ((PyCFunctionObject *)callable)->m_ml;
    return NULL;
}

static PyObject *on_call(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = PYRO_CALLBACK_OWNER(hook);
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    pyro_profiler *p = (pyro_profiler *)self;
    if (n >= 4) {
        int kind;
        PyMethodDef *def = builtin_def(p, args[2], args[3], &kind);
        if (def != NULL)
            pyro_enter(&p->st, kind, def, args[2], args[3]);
    }
    Py_RETURN_NONE;
}

static PyObject *on_c_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = PYRO_CALLBACK_OWNER(hook);
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    pyro_profiler *p = (pyro_profiler *)self;
    if (n >= 4) {
        int kind;
        PyMethodDef *def = builtin_def(p, args[2], args[3], &kind);
        if (def != NULL)
            pyro_leave(&p->st, kind, def);
    }
    Py_RETURN_NONE;
}

/* The events of Python functions, then those of built-ins (left out
 * without built-ins). */
static const pyro_monitoring_callback callbacks[] = {
    {"PY_START", on_py_enter},
    {"PY_RESUME", on_py_enter},
    {"PY_THROW", on_py_enter},
    {"PY_RETURN", on_py_leave},
    {"PY_YIELD", on_py_leave},
    {"PY_UNWIND", on_py_leave},
    {"CALL", on_call},
    {"C_RETURN", on_c_leave},
    {"C_RAISE", on_c_leave},
};
#define N_CALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))
#define N_PYTHON_CALLBACKS 6

int pyro_events_start(pyro_profiler *p)
{
    PyObject *mon = pyro_monitoring();
    if (mon == NULL)
        return -1;
    if (p->missing == NULL && (p->missing = PyObject_GetAttrString(mon, "MISSING")) == NULL) {
        Py_DECREF(mon);
        return -1;
    }
    long mask;
    size_t n = p->builtins ? N_CALLBACKS : N_PYTHON_CALLBACKS;
    int id = pyro_monitoring_subscribe(mon, (PyObject *)p, callbacks, n, &mask);
    PyObject *r = id >= 0 ? PyObject_CallMethod(mon, "set_events", "il", id, mask) : NULL;
    if (r == NULL) {
        if (id >= 0)
            pyro_monitoring_unsubscribe(mon, id, callbacks, N_CALLBACKS);
        Py_DECREF(mon);
        return -1;
    }
    Py_DECREF(r);
    Py_DECREF(mon);
    p->tool_id = id;
    return 0;
}

void pyro_events_stop(pyro_profiler *p)
{
    if (p->tool_id < 0)
        return;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyObject *mon = pyro_monitoring();
    if (mon != NULL) {
        pyro_monitoring_unsubscribe(mon, p->tool_id, callbacks, N_CALLBACKS);
        Py_DECREF(mon);
    }
    PyErr_Clear();
    pyro_exc_restore(&exc);
    p->tool_id = -1;
}

#endif /* PYRO_HAVE_MONITORING */
