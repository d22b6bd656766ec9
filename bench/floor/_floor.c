/* _floor.c: the "no-op C hook" floor for pyrometer's benchmarks.
 *
 * enable()/disable() subscribe to exactly the events pyrometer's engine
 * subscribes to when it records built-ins, the same way, with C callbacks
 * that do nothing:
 *
 *  - 3.12+: sys.monitoring, one vectorcall C callable per event
 *    (PY_START, PY_RESUME, PY_THROW, PY_RETURN, PY_YIELD, PY_UNWIND, CALL,
 *    C_RETURN, C_RAISE) given to register_callback, on the first free tool
 *    id of 2, 3, 4, 5, 1, 0 (see src/engine/events_monitoring.c);
 *  - 3.9-3.11: PyEval_SetProfile with a C function that returns 0, plus a
 *    threading.setprofile() trampoline that installs it in new threads
 *    (see src/engine/events_legacy.c).
 *
 * The time a workload takes under this module is the least any profiler
 * built on these hooks can cost: the interpreter's own cost of delivering
 * the events.
 *
 * enable(clock=True) makes every callback also read the clock pyrometer
 * reads (the time-stamp counter) once per event and keep the sum: the least
 * a profiler that times every call can cost ("floor+clock"). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

#define FLOOR_HAVE_MONITORING (PY_VERSION_HEX >= 0x030C0000)

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define FLOOR_CLOCK() ((unsigned long long)__rdtsc())
#else
#include <time.h>
static inline unsigned long long floor_clock_read(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_nsec;
}
#define FLOOR_CLOCK() floor_clock_read()
#endif

static int floor_enabled = 0;
static int floor_with_clock = 0;
static unsigned long long floor_clock_sink = 0;   /* keeps the reads alive */

#if FLOOR_HAVE_MONITORING

static const int tool_preference[] = {2, 3, 4, 5, 1, 0};
static int floor_tool_id = -1;
static int floor_last_tool_id = -1;   /* for backend() after disable() */

/* Separate (identical) callbacks per event kind, as pyrometer has, called
 * through the same kind of object: a small callable with its own
 * vectorcall entry, so the floor's dispatch is pyrometer's dispatch. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
} floor_hook;

static PyTypeObject floor_HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_floor.hook",
    .tp_basicsize = sizeof(floor_hook),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(floor_hook, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static PyObject *hook_new(vectorcallfunc fn)
{
    if (!(floor_HookType.tp_flags & Py_TPFLAGS_READY) && PyType_Ready(&floor_HookType) < 0)
        return NULL;
    floor_hook *h = PyObject_New(floor_hook, &floor_HookType);
    if (h != NULL)
        h->vectorcall = fn;
    return (PyObject *)h;
}

static PyObject *on_py_enter(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    Py_RETURN_NONE;
}

static PyObject *on_py_leave(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    Py_RETURN_NONE;
}

static PyObject *on_call(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    Py_RETURN_NONE;
}

static PyObject *on_c_leave(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    Py_RETURN_NONE;
}

static PyObject *on_py_enter_clock(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    floor_clock_sink += FLOOR_CLOCK();
    Py_RETURN_NONE;
}

static PyObject *on_py_leave_clock(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    floor_clock_sink += FLOOR_CLOCK();
    Py_RETURN_NONE;
}

/* CALL fires for Python callees too; pyrometer times only built-ins there,
 * so the clock variant reads the clock only when the callable is one. */
static PyObject *on_call_clock(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)kw;
    if (PyVectorcall_NARGS(n) >= 3
        && (PyCFunction_Check(args[2]) || Py_TYPE(args[2]) == &PyMethodDescr_Type))
        floor_clock_sink += FLOOR_CLOCK();
    Py_RETURN_NONE;
}

static PyObject *on_c_leave_clock(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)kw;
    if (PyVectorcall_NARGS(n) >= 3
        && (PyCFunction_Check(args[2]) || Py_TYPE(args[2]) == &PyMethodDescr_Type))
        floor_clock_sink += FLOOR_CLOCK();
    Py_RETURN_NONE;
}

static const struct {
    const char *event;
    vectorcallfunc fn;
    vectorcallfunc fn_clock;
} callback_table[] = {
    {"PY_START", on_py_enter, on_py_enter_clock},
    {"PY_RESUME", on_py_enter, on_py_enter_clock},
    {"PY_THROW", on_py_enter, on_py_enter_clock},
    {"PY_RETURN", on_py_leave, on_py_leave_clock},
    {"PY_YIELD", on_py_leave, on_py_leave_clock},
    {"PY_UNWIND", on_py_leave, on_py_leave_clock},
    {"CALL", on_call, on_call_clock},
    {"C_RETURN", on_c_leave, on_c_leave_clock},
    {"C_RAISE", on_c_leave, on_c_leave_clock},
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
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", id, "pyrometer-floor");
        if (r != NULL) {
            Py_DECREF(r);
            return id;
        }
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
    }
    PyErr_SetString(PyExc_RuntimeError, "floor: every sys.monitoring tool id is in use");
    return -1;
}

static void release_tool(PyObject *mon, int id)
{
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
}

static int events_start(PyObject *module)
{
    (void)module;
    PyObject *mon = monitoring();
    if (mon == NULL)
        return -1;
    PyObject *events = NULL;
    long mask = 0;
    int id = claim_tool(mon);
    if (id < 0)
        goto fail;
    events = PyObject_GetAttrString(mon, "events");
    if (events == NULL)
        goto fail_tool;
    for (size_t i = 0; i < N_CALLBACKS; i++) {
        PyObject *ev = PyObject_GetAttrString(events, callback_table[i].event);
        if (ev == NULL)
            goto fail_tool;
        mask |= PyLong_AsLong(ev);
        PyObject *cb = hook_new(floor_with_clock ? callback_table[i].fn_clock
                                                 : callback_table[i].fn);
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
    floor_tool_id = id;
    floor_last_tool_id = id;
    return 0;

fail_tool:
    {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        release_tool(mon, id);
        PyErr_Restore(et, ev, tb);
    }
fail:
    Py_XDECREF(events);
    Py_DECREF(mon);
    return -1;
}

static void events_stop(void)
{
    if (floor_tool_id < 0)
        return;
    PyObject *mon = monitoring();
    if (mon != NULL) {
        release_tool(mon, floor_tool_id);
        Py_DECREF(mon);
    }
    PyErr_Clear();
    floor_tool_id = -1;
}

#else /* 3.9 - 3.11: PyEval_SetProfile */

static int on_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj; (void)frame; (void)what; (void)arg;
    return 0;
}

/* The events pyrometer times: Python calls and returns, built-ins' too. */
static int on_event_clock(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj; (void)frame;
    if (what <= PyTrace_RETURN || PyCFunction_Check(arg))
        floor_clock_sink += FLOOR_CLOCK();
    return 0;
}

#define FLOOR_HOOK (floor_with_clock ? on_event_clock : on_event)

static PyObject *thread_trampoline(PyObject *self, PyObject *args)
{
    (void)args;
    if (floor_enabled)
        PyEval_SetProfile(FLOOR_HOOK, self);
    else
        PyEval_SetProfile(NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef trampoline_def = {"_thread_hook", thread_trampoline, METH_VARARGS, NULL};

static int set_thread_hook(PyObject *hook)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL)
        return -1;
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", hook);
    Py_DECREF(threading);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int events_start(PyObject *module)
{
    PyObject *hook = PyCFunction_New(&trampoline_def, module);
    if (hook == NULL)
        return -1;
    int rc = set_thread_hook(hook);
    Py_DECREF(hook);
    if (rc < 0)
        return -1;
    PyEval_SetProfile(FLOOR_HOOK, module);
    return 0;
}

static void events_stop(void)
{
    PyEval_SetProfile(NULL, NULL);
    if (set_thread_hook(Py_None) < 0)
        PyErr_Clear();
}

#endif

static PyObject *floor_enable(PyObject *module, PyObject *args)
{
    int clock = 0;
    if (!PyArg_ParseTuple(args, "|p:enable", &clock))
        return NULL;
    if (floor_enabled)
        Py_RETURN_NONE;
    floor_with_clock = clock;
    floor_enabled = 1;
    if (events_start(module) < 0) {
        floor_enabled = 0;
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *floor_disable(PyObject *module, PyObject *unused)
{
    (void)module; (void)unused;
    if (!floor_enabled)
        Py_RETURN_NONE;
    floor_enabled = 0;
    events_stop();
    Py_RETURN_NONE;
}

static PyObject *floor_backend(PyObject *module, PyObject *unused)
{
    (void)module; (void)unused;
#if FLOOR_HAVE_MONITORING
    return PyUnicode_FromFormat("sys.monitoring (tool id %d)", floor_last_tool_id);
#else
    return PyUnicode_FromString("PyEval_SetProfile");
#endif
}

static PyMethodDef floor_methods[] = {
    {"enable", floor_enable, METH_VARARGS,
     "enable(clock=False): subscribe no-op C callbacks to pyrometer's events; with\n"
     "clock, each also reads the time-stamp counter once per timed event."},
    {"disable", floor_disable, METH_NOARGS, "Unsubscribe them."},
    {"backend", floor_backend, METH_NOARGS, "Which event source is used."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef floor_module = {
    PyModuleDef_HEAD_INIT, "_floor",
    "No-op C profiling hooks: the floor pyrometer is measured against.",
    -1, floor_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__floor(void)
{
    return PyModule_Create(&floor_module);
}
