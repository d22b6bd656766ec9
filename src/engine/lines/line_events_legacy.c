/* line_events_legacy.c: line events on 3.9-3.11.
 *
 * A C profile function (PyEval_SetProfile) sees every call and return and
 * keeps a stack of frames.  When control enters a frame of selected code it
 * sets a C trace function (PyEval_SetTrace) to get that frame's line
 * events, and takes it away when control goes to other code, by a call or
 * a return: the rest of the program pays the profile hook only, not line
 * tracing.  A trampoline given to threading.setprofile() installs the hook
 * in each thread started while profiling. */
#include "lineprofiler.h"

#if !PYRO_HAVE_MONITORING

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

static void set_tracing(pyro_line_profiler *p, pyro_line_thread *th, int on)
{
    th->tracing = (uint8_t)on;
    if (on)
        PyEval_SetTrace(on_trace, (PyObject *)p);
    else
        PyEval_SetTrace(NULL, NULL);
}

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    if (what != PyTrace_LINE)
        return 0;
    pyro_line_profiler *p = (pyro_line_profiler *)obj;
    if (PYRO_UNLIKELY(!p->enabled)) {
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_LIKELY(th != NULL))
        pyro_line_event(&p->ls, th, (PyObject *)pyro_frame_code(frame), pyro_frame_traced_line(frame));
    return 0;
}

static inline pyro_code_lines *record(pyro_line_profiler *p, PyObject *code, PyFrameObject *frame)
{
    pyro_code_lines *rec = pyro_line_record_cached(p, code);
    if (PYRO_UNLIKELY(rec == PYRO_LINE_UNKNOWN))
        rec = pyro_line_record_of(p, code, frame);
    return rec;
}

/* Push a frame that starts or resumes. */
static void enter_frame(pyro_line_profiler *p, pyro_line_thread *th, PyFrameObject *frame)
{
    pyro_code_lines *rec = record(p, (PyObject *)pyro_frame_code(frame), frame);
    if (rec == NULL) {
        th->overhead += p->ls.cost[PYRO_LCOST_CALL];
        pyro_line_push(&p->ls, th, NULL, -1, 0);
    }
    else {
        int64_t now = pyro_line_now(th);
        th->overhead += p->ls.cost[PYRO_LCOST_ENTER];
        /* A generator resuming goes on with the line it stopped at. */
        int line = -1;
        if (pyro_frame_resuming(frame, rec->start_offset)) {
            int offset = pyro_frame_resume_offset(frame);
            line = offset >= 0 ? pyro_line_at_offset(rec, offset) : PyFrame_GetLineNumber(frame);
        }
        pyro_line_push(&p->ls, th, rec, line, now);
    }
}

static int on_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    pyro_line_profiler *p = (pyro_line_profiler *)obj;
    if (PYRO_UNLIKELY(!p->enabled)) {
        /* A thread still carrying the hooks after disable(). */
        PyEval_SetProfile(NULL, NULL);
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_UNLIKELY(th == NULL))
        return 0;
    switch (what) {
    case PyTrace_CALL:
        enter_frame(p, th, frame);
        break;
    case PyTrace_RETURN:
        if (th->depth > 0) {
            if (th->stack[th->depth - 1].rec != NULL) {
                int64_t now = pyro_line_now(th);
                th->overhead += p->ls.cost[PYRO_LCOST_LEAVE];
                pyro_line_pop(th, now);
            }
            else {
                th->depth--;
            }
        }
        break;
    case PyTrace_C_CALL:
        th->overhead += p->ls.cost[PYRO_LCOST_CCALL];
        return 0;
    default:
        return 0;
    }
    int want = th->depth > 0 && th->stack[th->depth - 1].rec != NULL;
    if (want != th->tracing)
        set_tracing(p, th, want);
    return 0;
}

/* The frames running when profiling starts, outermost first, so that
 * their returns find their places on the stack. */
static int seed_stack(pyro_line_profiler *p)
{
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (th == NULL)
        return 0;
    PyObject *frames = PyList_New(0);
    if (frames == NULL)
        return -1;
    PyFrameObject *f = PyEval_GetFrame();
    Py_XINCREF(f);
    while (f != NULL) {
        if (PyList_Append(frames, (PyObject *)f) < 0) {
            Py_DECREF(f);
            Py_DECREF(frames);
            return -1;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    int64_t now = pyro_line_now(th);
    for (Py_ssize_t i = PyList_GET_SIZE(frames) - 1; i >= 0; i--) {
        PyFrameObject *frame = (PyFrameObject *)PyList_GET_ITEM(frames, i);
        pyro_code_lines *rec = record(p, (PyObject *)pyro_frame_code(frame), frame);
        if (pyro_line_push(&p->ls, th, rec, rec ? PyFrame_GetLineNumber(frame) : -1, now) < 0)
            break;
    }
    Py_DECREF(frames);
    return 0;
}

/* threading.setprofile() target: runs once in each new thread, swaps in
 * the C hook and records the event it was called for. */
static PyObject *thread_trampoline(PyObject *self, PyObject *args)
{
    PyObject *frame, *event, *arg;
    pyro_line_profiler *p = (pyro_line_profiler *)self;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    if (!p->enabled) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(on_profile, self);
    if (PyFrame_Check(frame) && PyUnicode_Check(event)
        && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        on_profile(self, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

static PyMethodDef trampoline_def = {"_line_thread_hook", thread_trampoline, METH_VARARGS, NULL};

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

int pyro_line_events_start(pyro_line_profiler *p)
{
    PyObject *hook = PyCFunction_New(&trampoline_def, (PyObject *)p);
    if (hook == NULL)
        return -1;
    int rc = set_thread_hook(hook);
    Py_DECREF(hook);
    if (rc < 0 || seed_stack(p) < 0)
        return -1;
    PyEval_SetProfile(on_profile, (PyObject *)p);
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (th != NULL && th->depth > 0 && th->stack[th->depth - 1].rec != NULL)
        set_tracing(p, th, 1);
    p->tool_id = 0;
    return 0;
}

void pyro_line_events_stop(pyro_line_profiler *p)
{
    if (p->tool_id < 0)
        return;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyEval_SetProfile(NULL, NULL);
    pyro_line_thread *th = p->ls.nomemory ? NULL : pyro_line_thread_current(&p->ls);
    if (th == NULL || th->tracing)
        PyEval_SetTrace(NULL, NULL);
    /* Other threads drop their hooks at their next event. */
    for (pyro_line_thread *t = p->ls.threads; t != NULL; t = t->next)
        t->tracing = 0;
    if (set_thread_hook(Py_None) < 0)
        PyErr_Clear();
    pyro_exc_restore(&exc);
    p->tool_id = -1;
}

int pyro_line_events_watch(pyro_line_profiler *p, PyObject *code)
{
    (void)p;
    (void)code;
    return 0;
}

#endif /* !PYRO_HAVE_MONITORING */
