/* line_events_legacy.c: line events on 3.9-3.11.
 *
 * An eval-frame hook (PEP 523) runs around every frame the interpreter
 * evaluates, in every thread: at its start, and at each resume of a
 * generator or coroutine, until it returns, yields or raises.  It keeps a
 * stack of the frames and sets a C trace function (PyEval_SetTrace) while
 * a frame of selected code runs, and takes it away while other code runs:
 * the rest of the program pays one C call per Python call, and no trace or
 * profile events.  (A profile function would see every call of a built-in
 * too, and on 3.11 it sends all code through the interpreter's slower
 * tracing dispatch.)  Frames that were running when profiling began are
 * put at the bottom of the stack and leave it at their return event: the
 * trace function sees those of selected code; only when a selected one
 * waits below one that is not does a profile function watch their returns
 * too, until no selected one is left. */
#include "lineprofiler.h"
#include "compat_eval.h"

#if !PYRO_HAVE_MONITORING

/* The evaluation function that was installed before ours (the
 * interpreter's own, unless another tool set one), and whether ours is. */
static _PyFrameEvalFunction prev_eval = NULL;
static int hook_installed = 0;
/* Changes at every start and stop, so that a frame that began under one
 * session leaves no trace in another. */
static uint64_t hook_session = 0;

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

static void set_tracing(pyro_line_profiler *p, pyro_line_thread *th, int on)
{
    th->tracing = (uint8_t)on;
    if (on)
        PyEval_SetTrace(on_trace, (PyObject *)p);
    else
        PyEval_SetTrace(NULL, NULL);
}

/* Trace while the frame on top of the stack is selected. */
static inline void follow_top(pyro_line_profiler *p, pyro_line_thread *th)
{
    int want = th->depth > 0 && th->stack[th->depth - 1].rec != NULL;
    if (want != th->tracing)
        set_tracing(p, th, want);
}

/* Whether a selected frame that was running when profiling began waits
 * below one that is not: nothing but a profile function would tell when
 * the one above returns. */
static int seeded_needs_watch(pyro_line_thread *th)
{
    int selected_below = 0;
    for (uint32_t i = 0; i < th->seeded && i < th->depth; i++) {
        if (th->stack[i].rec != NULL)
            selected_below = 1;
        else if (selected_below)
            return 1;
    }
    return 0;
}

static int seed_watch(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

/* `frame` returns: if it is the innermost of those running when profiling
 * began, it leaves the stack. */
static void seeded_return(pyro_line_profiler *p, pyro_line_thread *th, PyFrameObject *frame)
{
    if (th->depth == 0 || th->depth > th->seeded || th->seed_frames == NULL
        || th->seed_frames[th->depth - 1] != (void *)frame)
        return;
    if (th->stack[th->depth - 1].rec != NULL) {
        int64_t now = pyro_line_now(th);
        th->overhead += p->ls.cost[PYRO_LCOST_LEAVE];
        pyro_line_pop(th, now);
    }
    else {
        th->depth--;
    }
    th->seeded = th->depth;
    follow_top(p, th);
}

static int seed_watch(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    pyro_line_profiler *p = (pyro_line_profiler *)obj;
    if (what != PyTrace_RETURN)
        return 0;
    pyro_line_thread *th = p->enabled ? pyro_line_thread_current(&p->ls) : NULL;
    if (th != NULL)
        seeded_return(p, th, frame);
    if (th == NULL || !seeded_needs_watch(th)) {
        if (th != NULL)
            th->watching = 0;
        PyEval_SetProfile(NULL, NULL);
    }
    return 0;
}

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    pyro_line_profiler *p = (pyro_line_profiler *)obj;
    if (PYRO_UNLIKELY(!p->enabled)) {
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_UNLIKELY(th == NULL))
        return 0;
    if (PYRO_LIKELY(what == PyTrace_LINE)) {
        pyro_line_event(&p->ls, th, (PyObject *)pyro_frame_code(frame), pyro_frame_traced_line(frame));
    }
    else if (what == PyTrace_RETURN && th->depth > 0 && th->depth <= th->seeded) {
        seeded_return(p, th, frame);   /* one that was running when profiling began */
    }
    return 0;
}

static inline pyro_code_lines *record(pyro_line_profiler *p, pyro_eval_frame *f)
{
    PyObject *code = pyro_eval_code(f);
    pyro_code_lines *rec = pyro_line_record_cached(p, code);
    if (PYRO_UNLIKELY(rec == PYRO_LINE_UNKNOWN))
        rec = pyro_line_record_of(p, code, pyro_eval_frame_object(f), pyro_eval_globals(f));
    return rec;
}

static PyObject *eval_hook(PyThreadState *ts, pyro_eval_frame *f, int throwflag)
{
    pyro_line_profiler *p = pyro_line_active;
    pyro_line_thread *th = p != NULL && p->tool_id == 0 ? pyro_line_thread_current(&p->ls) : NULL;
    if (PYRO_UNLIKELY(th == NULL))
        return prev_eval(ts, f, throwflag);
    uint64_t session = hook_session;
    uint32_t depth = th->depth;
    pyro_code_lines *rec = record(p, f);
    if (rec == NULL) {
        th->overhead += p->ls.cost[PYRO_LCOST_CALL];
        pyro_line_push(&p->ls, th, NULL, -1, 0);
    }
    else {
        int64_t now = pyro_line_now(th);
        th->overhead += p->ls.cost[PYRO_LCOST_ENTER];
        /* A generator resuming goes on with the line it stopped at. */
        int offset = pyro_eval_last_offset(f);
        int line = offset > rec->start_offset ? pyro_line_at_offset(rec, offset) : -1;
        pyro_line_push(&p->ls, th, rec, line, now);
    }
    follow_top(p, th);
    PyObject *result = prev_eval(ts, f, throwflag);
    /* Unless profiling stopped (or stopped and started again) meanwhile:
     * the frame returned, yielded or raised; its caller goes on. */
    if (PYRO_LIKELY(session == hook_session && th->depth > depth)) {
        pyro_saved_exc exc;
        int raised = result == NULL;
        if (raised)
            pyro_exc_save(&exc);
        if (th->stack[depth].rec != NULL) {
            int64_t now = pyro_line_now(th);
            th->overhead += p->ls.cost[PYRO_LCOST_LEAVE];
            th->depth = depth + 1;
            pyro_line_pop(th, now);
        }
        else {
            th->depth = depth;
        }
        follow_top(p, th);
        if (raised)
            pyro_exc_restore(&exc);
    }
    return result;
}

/* The frames running when profiling starts, outermost first, so that
 * selected ones are timed and their return events find them. */
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
    Py_ssize_t n = PyList_GET_SIZE(frames);
    PyMem_RawFree(th->seed_frames);
    th->seed_frames = n > 0 ? PyMem_RawMalloc((size_t)n * sizeof(void *)) : NULL;
    th->seeded = 0;
    int64_t now = pyro_line_now(th);
    for (Py_ssize_t i = n - 1; th->seed_frames != NULL && i >= 0 && th->depth == (uint32_t)(n - 1 - i); i--) {
        PyFrameObject *frame = (PyFrameObject *)PyList_GET_ITEM(frames, i);
        PyObject *code = (PyObject *)pyro_frame_code(frame);
        pyro_code_lines *rec = pyro_line_record_cached(p, code);
        if (rec == PYRO_LINE_UNKNOWN)
            rec = pyro_line_record_of(p, code, frame, NULL);
        if (pyro_line_push(&p->ls, th, rec, rec ? PyFrame_GetLineNumber(frame) : -1, now) < 0)
            break;
        th->seed_frames[th->depth - 1] = frame;   /* alive while it runs */
    }
    th->seeded = th->depth;
    Py_DECREF(frames);
    /* Never in place of another tool's profile function. */
    if (seeded_needs_watch(th) && PyThreadState_Get()->c_profilefunc == NULL) {
        th->watching = 1;
        PyEval_SetProfile(seed_watch, (PyObject *)p);
    }
    return 0;
}

int pyro_line_events_start(pyro_line_profiler *p)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyFrameEvalFunction current = _PyInterpreterState_GetEvalFrameFunc(interp);
    if (!hook_installed) {
        if (current != (_PyFrameEvalFunction)eval_hook)
            prev_eval = current;
        else if (prev_eval == NULL)
            prev_eval = pyro_eval_default;
    }
    if (seed_stack(p) < 0)
        return -1;
    hook_session++;
    p->tool_id = 0;
    if (current != (_PyFrameEvalFunction)eval_hook)
        _PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)eval_hook);
    hook_installed = 1;
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (th != NULL)
        follow_top(p, th);
    return 0;
}

void pyro_line_events_stop(pyro_line_profiler *p)
{
    if (p->tool_id < 0)
        return;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    hook_session++;
    PyInterpreterState *interp = PyInterpreterState_Get();
    /* Another tool may have put its own hook on top of ours since: then
     * ours stays, and passes every frame through. */
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == (_PyFrameEvalFunction)eval_hook) {
        _PyInterpreterState_SetEvalFrameFunc(interp, prev_eval);
        hook_installed = 0;
    }
    pyro_line_thread *th = p->ls.nomemory ? NULL : pyro_line_thread_current(&p->ls);
    if (th == NULL || th->tracing)
        PyEval_SetTrace(NULL, NULL);
    if (th != NULL && th->watching) {
        th->watching = 0;
        PyEval_SetProfile(NULL, NULL);   /* the watch of the seeded frames */
    }
    /* Other threads drop their trace function at their next event. */
    for (pyro_line_thread *t = p->ls.threads; t != NULL; t = t->next) {
        t->tracing = 0;
        t->seeded = 0;
    }
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
