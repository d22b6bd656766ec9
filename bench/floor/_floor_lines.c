/* _floor_lines.c: the "no-op C hook" floor for pyrometer's line mode.
 *
 * enable(codes) subscribes to exactly the events pyrometer's line engine
 * (src/engine/lines/) subscribes to when it line-profiles the given code
 * objects, the same way, with C callbacks that do nothing:
 *
 *  - 3.12+: sys.monitoring on the first free tool id of 2, 3, 4, 5, 1, 0,
 *    one vectorcall C callable per event (PY_START, PY_RESUME, PY_THROW,
 *    PY_RETURN, PY_YIELD, PY_UNWIND, LINE, JUMP); PY_UNWIND and PY_THROW
 *    global, PY_START, PY_RESUME, PY_RETURN, PY_YIELD, LINE and JUMP as
 *    local events of exactly the selected code objects
 *    (line_events_monitoring.c).  The callbacks return None, except that
 *    JUMP answers DISABLE where pyrometer's does (a forward jump, or a
 *    backward one to another line), so that both receive the same events;
 *    the jumps that stay on are remembered in a small cache, so that the
 *    decision is paid once per jump.
 *  - 3.9-3.11: an eval-frame hook (PEP 523) around every frame evaluation
 *    that keeps a stack of "is this frame selected" (the selection read
 *    from a code-object extra) and sets a no-op C trace function
 *    (PyEval_SetTrace) while a selected frame is on top, and removes it
 *    when control goes to other code (line_events_legacy.c).
 *
 * The time a workload takes under this module is the least any line
 * profiler built on these hooks can cost.
 *
 * enable(codes, clock=True) makes the callbacks also read the clock
 * pyrometer reads (the time-stamp counter) wherever pyrometer's do: at each
 * line, at a resume and at a return or yield of a selected frame (3.12+:
 * not at PY_START, which pyrometer does not time); the least a line
 * profiler that times every line can cost ("line floor+clock"). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
#define TICK() do { if (floor_with_clock) floor_clock_sink += FLOOR_CLOCK(); } while (0)
static PyObject *floor_codes = NULL;   /* tuple of the selected code objects */

#if FLOOR_HAVE_MONITORING

static const int tool_preference[] = {2, 3, 4, 5, 1, 0};
static int floor_tool_id = -1;
static int floor_last_tool_id = -1;   /* for backend() after disable() */

/* Callbacks are small callables with their own vectorcall entry, the kind
 * of object pyrometer registers (core/monitoring.c). */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
} floor_hook;

static PyTypeObject floor_HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_floor_lines.hook",
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

static PyObject *on_start(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    Py_RETURN_NONE;
}

static PyObject *on_resume(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    TICK();
    Py_RETURN_NONE;
}

static PyObject *on_leave(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    TICK();
    Py_RETURN_NONE;
}

static PyObject *on_line(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)args; (void)n; (void)kw;
    TICK();
    Py_RETURN_NONE;
}

static PyObject *monitoring_disable = NULL;   /* sys.monitoring.DISABLE */

/* Backward jumps that stay on their line, and so stay enabled. */
#define JUMP_SLOTS 256
static struct {
    PyObject *code;
    long from;
} jump_cache[JUMP_SLOTS];

static PyObject *on_jump(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)
{
    (void)self; (void)n; (void)kw;
    long from = PyLong_AsLong(args[1]), to = PyLong_AsLong(args[2]);
    if (from < 0 || to < 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    size_t slot = ((size_t)(uintptr_t)args[0] / sizeof(void *) + (size_t)from) % JUMP_SLOTS;
    if (jump_cache[slot].code == args[0] && jump_cache[slot].from == from) {
        TICK();
        Py_RETURN_NONE;
    }
    if (to > from)
        return Py_NewRef(monitoring_disable);
    int to_line = PyCode_Addr2Line((PyCodeObject *)args[0], (int)to);
    if (to_line < 0 || to_line != PyCode_Addr2Line((PyCodeObject *)args[0], (int)from))
        return Py_NewRef(monitoring_disable);
    jump_cache[slot].code = args[0];   /* compared, never dereferenced */
    jump_cache[slot].from = from;
    TICK();
    Py_RETURN_NONE;
}

static const struct {
    const char *event;
    vectorcallfunc fn;
} callback_table[] = {
    {"PY_START", on_start},
    {"PY_RESUME", on_resume},
    {"PY_THROW", on_resume},
    {"PY_RETURN", on_leave},
    {"PY_YIELD", on_leave},
    {"PY_UNWIND", on_leave},
    {"LINE", on_line},
    {"JUMP", on_jump},
};

#define N_CALLBACKS (sizeof(callback_table) / sizeof(callback_table[0]))

static const char *const global_events[] = {"PY_UNWIND", "PY_THROW"};
static const char *const local_events[] = {"PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD",
                                           "LINE", "JUMP"};

static PyObject *monitoring(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (sys == NULL)
        return NULL;
    PyObject *mon = PyObject_GetAttrString(sys, "monitoring");
    Py_DECREF(sys);
    return mon;
}

static long event_bits(PyObject *mon, const char *const *names, size_t n)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (events == NULL)
        return -1;
    long mask = 0;
    for (size_t i = 0; i < n; i++) {
        PyObject *ev = PyObject_GetAttrString(events, names[i]);
        long bit = ev ? PyLong_AsLong(ev) : -1;
        Py_XDECREF(ev);
        if (bit < 0) {
            Py_DECREF(events);
            return -1;
        }
        mask |= bit;
    }
    Py_DECREF(events);
    return mask;
}

static int claim_tool(PyObject *mon)
{
    for (size_t i = 0; i < sizeof(tool_preference) / sizeof(int); i++) {
        int id = tool_preference[i];
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", id, "pyrometer-floor-lines");
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

static int set_local_all(PyObject *mon, int id, long mask)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(floor_codes); i++) {
        PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOl", id,
                                          PyTuple_GET_ITEM(floor_codes, i), mask);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    return 0;
}

static void release_tool(PyObject *mon, int id)
{
    if (set_local_all(mon, id, 0) < 0)   /* local events outlive the tool id */
        PyErr_Clear();
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
    if (monitoring_disable == NULL
        && (monitoring_disable = PyObject_GetAttrString(mon, "DISABLE")) == NULL) {
        Py_DECREF(mon);
        return -1;
    }
    memset(jump_cache, 0, sizeof(jump_cache));
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
        PyObject *cb = hook_new(callback_table[i].fn);
        PyObject *r = cb ? PyObject_CallMethod(mon, "register_callback", "iOO", id, ev, cb) : NULL;
        Py_DECREF(ev);
        Py_XDECREF(cb);
        if (r == NULL)
            goto fail_tool;
        Py_DECREF(r);
    }
    long global = event_bits(mon, global_events, sizeof(global_events) / sizeof(char *));
    long local = event_bits(mon, local_events, sizeof(local_events) / sizeof(char *));
    if (global < 0 || local < 0)
        goto fail_tool;
    PyObject *r = PyObject_CallMethod(mon, "set_events", "il", id, global);
    if (r == NULL)
        goto fail_tool;
    Py_DECREF(r);
    if (set_local_all(mon, id, local) < 0)
        goto fail_tool;
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

#else /* 3.9 - 3.11: an eval-frame hook + PyEval_SetTrace on selected frames */

#if PY_VERSION_HEX >= 0x030B0000
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
typedef struct _PyInterpreterFrame eval_frame;
#else
typedef PyFrameObject eval_frame;
#endif

/* The selection, as pyrometer keeps it: a code-object extra. */
static Py_ssize_t extra_index = -1;
#define SELECTED ((void *)(uintptr_t)1)

static _PyFrameEvalFunction prev_eval = NULL;
static uint64_t session = 0;

/* Per thread: one byte per frame on the stack, 1 when it is selected. */
typedef struct {
    uint8_t *sel;
    uint32_t depth, cap;
    uint8_t tracing;
} floor_thread;

static _Thread_local floor_thread thread_state;

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj; (void)frame; (void)arg;
    if (!floor_enabled) {
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    if (what == PyTrace_LINE)
        TICK();
    return 0;
}

static inline int selected(PyObject *code)
{
    void *extra = NULL;
    if (_PyCode_GetExtra(code, extra_index, &extra) < 0) {
        PyErr_Clear();
        return 0;
    }
    return extra == SELECTED;
}

static inline void follow_top(floor_thread *th, PyObject *obj)
{
    int want = th->depth > 0 && th->sel[th->depth - 1];
    if (want != th->tracing) {
        th->tracing = (uint8_t)want;
        if (want)
            PyEval_SetTrace(on_trace, obj);
        else
            PyEval_SetTrace(NULL, NULL);
    }
}

static PyObject *floor_module_obj = NULL;   /* the trace function's object */

static PyObject *eval_hook(PyThreadState *ts, eval_frame *f, int throwflag)
{
    floor_thread *th = &thread_state;
    if (!floor_enabled)
        return prev_eval(ts, f, throwflag);
    if (th->depth == th->cap) {
        uint32_t cap = th->cap ? th->cap * 2 : 64;
        uint8_t *sel = PyMem_RawRealloc(th->sel, cap);
        if (sel == NULL)
            return prev_eval(ts, f, throwflag);
        th->sel = sel;
        th->cap = cap;
    }
    uint64_t s = session;
    uint32_t depth = th->depth;
    int sel = selected((PyObject *)f->f_code);
    th->sel[th->depth++] = (uint8_t)sel;
    if (sel)
        TICK();
    follow_top(th, floor_module_obj);
    PyObject *result = prev_eval(ts, f, throwflag);
    if (s == session && th->depth > depth) {
        PyObject *et = NULL, *ev = NULL, *tb = NULL;
        if (result == NULL)
            PyErr_Fetch(&et, &ev, &tb);
        if (th->sel[depth])
            TICK();
        th->depth = depth;
        follow_top(th, floor_module_obj);
        if (result == NULL)
            PyErr_Restore(et, ev, tb);
    }
    return result;
}

static int set_selection(void *value)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(floor_codes); i++)
        if (_PyCode_SetExtra(PyTuple_GET_ITEM(floor_codes, i), extra_index, value) < 0)
            return -1;
    return 0;
}

static int events_start(PyObject *module)
{
    if (extra_index < 0 && (extra_index = _PyEval_RequestCodeExtraIndex(NULL)) < 0)
        return -1;
    if (set_selection(SELECTED) < 0)
        return -1;
    floor_module_obj = module;
    floor_thread *th = &thread_state;
    th->depth = 0;
    th->tracing = 0;
    session++;
    PyInterpreterState *interp = PyInterpreterState_Get();
    prev_eval = _PyInterpreterState_GetEvalFrameFunc(interp);
    _PyInterpreterState_SetEvalFrameFunc(interp, eval_hook);
    return 0;
}

static void events_stop(void)
{
    session++;
    PyInterpreterState *interp = PyInterpreterState_Get();
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == eval_hook)
        _PyInterpreterState_SetEvalFrameFunc(interp, prev_eval);
    PyEval_SetTrace(NULL, NULL);
    thread_state.tracing = 0;
    thread_state.depth = 0;
    if (set_selection(NULL) < 0)
        PyErr_Clear();
}

#endif

static PyObject *floor_enable(PyObject *module, PyObject *args)
{
    PyObject *codes;
    int clock = 0;
    if (!PyArg_ParseTuple(args, "O|p:enable", &codes, &clock))
        return NULL;
    if (floor_enabled)
        Py_RETURN_NONE;
    floor_with_clock = clock;
    PyObject *tuple = PySequence_Tuple(codes);
    if (tuple == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++)
        if (!PyCode_Check(PyTuple_GET_ITEM(tuple, i))) {
            Py_DECREF(tuple);
            PyErr_SetString(PyExc_TypeError, "floor: enable() takes code objects");
            return NULL;
        }
    Py_XSETREF(floor_codes, tuple);
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
    (void)floor_clock_sink;
#if FLOOR_HAVE_MONITORING
    return PyUnicode_FromFormat("sys.monitoring local events (tool id %d)", floor_last_tool_id);
#else
    return PyUnicode_FromString("eval-frame hook + PyEval_SetTrace on selected frames");
#endif
}

static PyMethodDef floor_methods[] = {
    {"enable", floor_enable, METH_VARARGS,
     "enable(codes, clock=False): no-op C hooks on pyrometer's line-mode events for these "
     "code objects (reading the clock where pyrometer does, with clock)."},
    {"disable", floor_disable, METH_NOARGS, "Unsubscribe them."},
    {"backend", floor_backend, METH_NOARGS, "Which event source is used."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef floor_module = {
    PyModuleDef_HEAD_INIT, "_floor_lines",
    "No-op C line-profiling hooks: the floor pyrometer's line mode is measured against.",
    -1, floor_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__floor_lines(void)
{
    return PyModule_Create(&floor_module);
}
