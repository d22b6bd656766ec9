/* monitoring.c: sys.monitoring helpers shared by the event sources. */
#include "hooks/monitoring.h"

#include <stddef.h>

#if PYRO_HAVE_MONITORING

static void hook_dealloc(pyro_callback *h)
{
    Py_XDECREF(h->owner);
    PyObject_Free(h);
}

static PyTypeObject pyro_CallbackType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.callback",
    .tp_basicsize = sizeof(pyro_callback),
    .tp_dealloc = (destructor)hook_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(pyro_callback, vectorcall),
    .tp_call = PyVectorcall_Call,
};

PyObject *pyro_callback_new(vectorcallfunc fn, PyObject *owner)
{
    if (!(pyro_CallbackType.tp_flags & Py_TPFLAGS_READY) && PyType_Ready(&pyro_CallbackType) < 0)
        return NULL;
    pyro_callback *h = PyObject_New(pyro_callback, &pyro_CallbackType);
    if (h == NULL)
        return NULL;
    h->vectorcall = fn;
    h->owner = Py_NewRef(owner);
    return (PyObject *)h;
}

PyObject *pyro_monitoring(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (sys == NULL)
        return NULL;
    PyObject *mon = PyObject_GetAttrString(sys, "monitoring");
    Py_DECREF(sys);
    return mon;
}

/* Tool ids in order of preference: the ones CPython names for no tool
 * first, so that the program's own cProfile (PROFILER_ID), coverage
 * (COVERAGE_ID) or debugger (DEBUGGER_ID) still finds its id free; those
 * only when every other one is taken. */
static const int tool_preference[] = {3, 4, 5, 2, 1, 0};

int pyro_claim_tool(PyObject *mon)
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

long pyro_event_bit(PyObject *mon, const char *name)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (events == NULL)
        return -1;
    PyObject *ev = PyObject_GetAttrString(events, name);
    Py_DECREF(events);
    if (ev == NULL)
        return -1;
    long bit = PyLong_AsLong(ev);
    Py_DECREF(ev);
    return bit;
}

int pyro_register(PyObject *mon, int id, const char *name, vectorcallfunc fn, PyObject *owner)
{
    long bit = pyro_event_bit(mon, name);
    if (bit < 0)
        return -1;
    PyObject *cb = fn ? pyro_callback_new(fn, owner) : Py_NewRef(Py_None);
    if (cb == NULL)
        return -1;
    PyObject *r = PyObject_CallMethod(mon, "register_callback", "ilO", id, bit, cb);
    Py_DECREF(cb);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

int pyro_monitoring_subscribe(PyObject *mon, PyObject *owner, const pyro_monitoring_callback *table,
                              size_t n, long *mask)
{
    int id = pyro_claim_tool(mon);
    if (id < 0)
        return -1;
    *mask = 0;
    for (size_t i = 0; i < n; i++) {
        long bit = pyro_event_bit(mon, table[i].event);
        if (bit < 0 || pyro_register(mon, id, table[i].event, table[i].fn, owner) < 0) {
            pyro_monitoring_unsubscribe(mon, id, table, n);
            return -1;
        }
        *mask |= bit;
    }
    return id;
}

void pyro_monitoring_unsubscribe(PyObject *mon, int id, const pyro_monitoring_callback *table,
                                 size_t n)
{
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    for (size_t i = 0; i < n; i++)
        if (pyro_register(mon, id, table[i].event, NULL, NULL) < 0)
            PyErr_Clear();
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", id, 0);
    Py_XDECREF(r);
    PyErr_Clear();
    r = PyObject_CallMethod(mon, "free_tool_id", "i", id);
    Py_XDECREF(r);
    PyErr_Clear();
    pyro_exc_restore(&exc);
}

#endif /* PYRO_HAVE_MONITORING */
