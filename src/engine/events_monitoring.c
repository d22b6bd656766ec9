/* events_monitoring.c: the event source on 3.12+, through sys.monitoring
 * with C (METH_FASTCALL) callbacks. */
#include "profiler.h"

#if PYRO_HAVE_MONITORING

/* Tool ids in order of preference: PROFILER first, the debugger's and
 * coverage's last. */
static const int tool_preference[] = {2, 3, 4, 5, 1, 0};

static PyObject *on_py_enter(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)n;
    pyro_enter(&((pyro_profiler *)self)->st, PYRO_PY, args[0], args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_leave(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)n;
    pyro_leave(&((pyro_profiler *)self)->st, PYRO_PY, args[0]);
    Py_RETURN_NONE;
}

/* The PyMethodDef a CALL of a built-in runs, or NULL for anything else. */
static inline PyMethodDef *builtin_def(pyro_profiler *p, PyObject *callable,
                                       PyObject *arg0)
{
    if (PyCFunction_Check(callable))
        return ((PyCFunctionObject *)callable)->m_ml;
    if (Py_IS_TYPE(callable, &PyMethodDescr_Type) && arg0 != p->missing)
        return ((PyMethodDescrObject *)callable)->d_method;
    return NULL;
}

static PyObject *on_call(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    pyro_profiler *p = (pyro_profiler *)self;
    if (n >= 4) {
        PyMethodDef *def = builtin_def(p, args[2], args[3]);
        if (def != NULL)
            pyro_enter(&p->st, PYRO_C, def, args[2], args[3]);
    }
    Py_RETURN_NONE;
}

static PyObject *on_c_leave(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    pyro_profiler *p = (pyro_profiler *)self;
    if (n >= 4) {
        PyMethodDef *def = builtin_def(p, args[2], args[3]);
        if (def != NULL)
            pyro_leave(&p->st, PYRO_C, def);
    }
    Py_RETURN_NONE;
}

static PyMethodDef cb_py_enter = {"_py_enter", (PyCFunction)(void (*)(void))on_py_enter, METH_FASTCALL, NULL};
static PyMethodDef cb_py_leave = {"_py_leave", (PyCFunction)(void (*)(void))on_py_leave, METH_FASTCALL, NULL};
static PyMethodDef cb_call = {"_call", (PyCFunction)(void (*)(void))on_call, METH_FASTCALL, NULL};
static PyMethodDef cb_c_leave = {"_c_leave", (PyCFunction)(void (*)(void))on_c_leave, METH_FASTCALL, NULL};

static const struct {
    const char *event;
    PyMethodDef *def;
    int builtins_only;
} callback_table[] = {
    {"PY_START", &cb_py_enter, 0},
    {"PY_RESUME", &cb_py_enter, 0},
    {"PY_THROW", &cb_py_enter, 0},
    {"PY_RETURN", &cb_py_leave, 0},
    {"PY_YIELD", &cb_py_leave, 0},
    {"PY_UNWIND", &cb_py_leave, 0},
    {"CALL", &cb_call, 1},
    {"C_RETURN", &cb_c_leave, 1},
    {"C_RAISE", &cb_c_leave, 1},
};

#define N_CALLBACKS (sizeof(callback_table) / sizeof(callback_table[0]))

static PyObject *monitoring(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (sys == NULL)
        return NULL;
    PyObject *mon = PyObject_GetAttrString(sys, "monitoring");
    Py_DECREF(sys);
    return mon;
}

static int claim_tool(PyObject *mon)
{
    for (size_t i = 0; i < sizeof(tool_preference) / sizeof(int); i++) {
        int id = tool_preference[i];
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", id, "pyrometer");
        if (r != NULL) {
            Py_DECREF(r);
            return id;
        }
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
    }
    PyErr_SetString(PyExc_RuntimeError,
                    "pyrometer: every sys.monitoring tool id is in use by "
                    "other tools; stop one of them (a debugger, coverage or "
                    "another profiler) and try again");
    return -1;
}

static void release_tool(PyObject *mon, int id)
{
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyObject *events = PyObject_GetAttrString(mon, "events");
    for (size_t i = 0; events != NULL && i < N_CALLBACKS; i++) {
        PyObject *ev = PyObject_GetAttrString(events, callback_table[i].event);
        if (ev == NULL)
            break;
        PyObject *r = PyObject_CallMethod(mon, "register_callback", "iOO", id, ev, Py_None);
        Py_DECREF(ev);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    Py_XDECREF(events);
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", id, 0);
    Py_XDECREF(r);
    r = PyObject_CallMethod(mon, "free_tool_id", "i", id);
    Py_XDECREF(r);
    PyErr_Clear();
    pyro_exc_restore(&exc);
}

int pyro_events_start(pyro_profiler *p)
{
    PyObject *mon = monitoring();
    if (mon == NULL)
        return -1;
    PyObject *events = NULL;
    long mask = 0;
    int id = claim_tool(mon);
    if (id < 0)
        goto fail;
    if (p->missing == NULL) {
        p->missing = PyObject_GetAttrString(mon, "MISSING");
        if (p->missing == NULL)
            goto fail_tool;
    }
    events = PyObject_GetAttrString(mon, "events");
    if (events == NULL)
        goto fail_tool;
    for (size_t i = 0; i < N_CALLBACKS; i++) {
        if (callback_table[i].builtins_only && !p->builtins)
            continue;
        PyObject *ev = PyObject_GetAttrString(events, callback_table[i].event);
        if (ev == NULL)
            goto fail_tool;
        mask |= PyLong_AsLong(ev);
        PyObject *cb = PyCFunction_New(callback_table[i].def, (PyObject *)p);
        PyObject *r = cb ? PyObject_CallMethod(mon, "register_callback", "iOO", id, ev, cb) : NULL;
        Py_DECREF(ev);
        Py_XDECREF(cb);
        if (r == NULL)
            goto fail_tool;
        Py_DECREF(r);
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "il", id, mask);
    if (r == NULL)
        goto fail_tool;
    Py_DECREF(r);
    Py_DECREF(events);
    Py_DECREF(mon);
    p->tool_id = id;
    return 0;

fail_tool:
    release_tool(mon, id);
fail:
    Py_XDECREF(events);
    Py_DECREF(mon);
    return -1;
}

void pyro_events_stop(pyro_profiler *p)
{
    if (p->tool_id < 0)
        return;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyObject *mon = monitoring();
    if (mon != NULL) {
        release_tool(mon, p->tool_id);
        Py_DECREF(mon);
    }
    PyErr_Clear();
    pyro_exc_restore(&exc);
    p->tool_id = -1;
}

#endif /* PYRO_HAVE_MONITORING */
