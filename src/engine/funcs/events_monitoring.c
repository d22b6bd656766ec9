/* events_monitoring.c: the event source on 3.12+, through sys.monitoring
 * with C (METH_FASTCALL) callbacks. */
#include "profiler.h"

#if PYRO_HAVE_MONITORING

/* The callbacks are small callable objects with their own vectorcall
 * entry: the interpreter calls straight into them, without the argument
 * and recursion checks a builtin function goes through. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    pyro_profiler *profiler;
} pyro_hook;

static void hook_dealloc(pyro_hook *h)
{
    Py_XDECREF((PyObject *)h->profiler);
    PyObject_Free(h);
}

static PyTypeObject pyro_HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.hook",
    .tp_basicsize = sizeof(pyro_hook),
    .tp_dealloc = (destructor)hook_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(pyro_hook, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static PyObject *hook_new(vectorcallfunc fn, pyro_profiler *p)
{
    if (!(pyro_HookType.tp_flags & Py_TPFLAGS_READY) && PyType_Ready(&pyro_HookType) < 0)
        return NULL;
    pyro_hook *h = PyObject_New(pyro_hook, &pyro_HookType);
    if (h == NULL)
        return NULL;
    h->vectorcall = fn;
    h->profiler = (pyro_profiler *)Py_NewRef((PyObject *)p);
    return (PyObject *)h;
}

/* Tool ids in order of preference: PROFILER first, the debugger's and
 * coverage's last. */
static const int tool_preference[] = {2, 3, 4, 5, 1, 0};

static PyObject *on_py_enter(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = (PyObject *)((pyro_hook *)hook)->profiler;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    (void)n;
    pyro_enter(&((pyro_profiler *)self)->st, PYRO_PY, args[0], args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = (PyObject *)((pyro_hook *)hook)->profiler;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    (void)n;
    pyro_leave(&((pyro_profiler *)self)->st, PYRO_PY, args[0]);
    Py_RETURN_NONE;
}

/* The PyMethodDef a CALL of a built-in runs, or NULL for anything else. */
static inline PyMethodDef *builtin_def(pyro_profiler *p, PyObject *callable,
                                       PyObject *arg0)
{
    /* Exact types first: most calls are of Python functions, and the
     * subclass check below walks the MRO. */
    PyTypeObject *type = Py_TYPE(callable);
    if (type == &PyFunction_Type || type == &PyMethod_Type)
        return NULL;
    if (type == &PyCFunction_Type || type == &PyCMethod_Type)
        return ((PyCFunctionObject *)callable)->m_ml;
    if (type == &PyMethodDescr_Type)
        return arg0 != p->missing ? ((PyMethodDescrObject *)callable)->d_method : NULL;
    if (PyCFunction_Check(callable))
        return ((PyCFunctionObject *)callable)->m_ml;
    return NULL;
}

static PyObject *on_call(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = (PyObject *)((pyro_hook *)hook)->profiler;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    pyro_profiler *p = (pyro_profiler *)self;
    if (n >= 4) {
        PyMethodDef *def = builtin_def(p, args[2], args[3]);
        if (def != NULL)
            pyro_enter(&p->st, PYRO_C, def, args[2], args[3]);
    }
    Py_RETURN_NONE;
}

static PyObject *on_c_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *self = (PyObject *)((pyro_hook *)hook)->profiler;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    (void)kwnames;
    pyro_profiler *p = (pyro_profiler *)self;
    if (n >= 4) {
        PyMethodDef *def = builtin_def(p, args[2], args[3]);
        if (def != NULL)
            pyro_leave(&p->st, PYRO_C, def);
    }
    Py_RETURN_NONE;
}

static const struct {
    const char *event;
    vectorcallfunc fn;
    int builtins_only;
} callback_table[] = {
    {"PY_START", on_py_enter, 0},
    {"PY_RESUME", on_py_enter, 0},
    {"PY_THROW", on_py_enter, 0},
    {"PY_RETURN", on_py_leave, 0},
    {"PY_YIELD", on_py_leave, 0},
    {"PY_UNWIND", on_py_leave, 0},
    {"CALL", on_call, 1},
    {"C_RETURN", on_c_leave, 1},
    {"C_RAISE", on_c_leave, 1},
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
        PyObject *cb = hook_new(callback_table[i].fn, p);
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
