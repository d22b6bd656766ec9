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
 * too, until no selected one is left.
 *
 * The trace slot is shared with the program's own trace function (a
 * debugger, coverage): ours is set with the program's object, so
 * sys.gettrace() still gives the program what it set, and passes every
 * event on to the program's function; while other code runs, the slot holds
 * the program's function alone, as without us. */
#include "modes/line_mode.h"
#include "hooks/eval_frame.h"

#include <pthread.h>

#if !PYRO_HAVE_MONITORING

/* The evaluation function that was installed before ours (the
 * interpreter's own, unless another tool set one), and whether ours is. */
static _PyFrameEvalFunction prev_eval = NULL;
static int hook_installed = 0;
/* Changes at every start and stop, so that a frame that began under one
 * session leaves no trace in another. */
static uint64_t hook_session = 0;

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

/* ---- deep recursion ------------------------------------------------------
 * The hook adds C stack to every nested Python call (on 3.11, which
 * otherwise runs Python-to-Python calls without the C stack, all of it).
 * Past a nesting that the thread's stack can take for sure, the hook steps
 * aside until the call that went too deep returns: deeper frames run as
 * without a profiler and are not line-profiled (the notes say so). */
#if PYRO_INLINED_PY_CALLS
#define NESTING_CAP 3000       /* inlined calls cost plain Python no C stack */
#else
#define NESTING_CAP 250        /* each level costs C stack anyway: add little to it */
#endif
#define STACK_PER_LEVEL 640    /* bytes: more than hook + frame evaluation take */

static pyro_line_thread *stepped_aside;   /* the thread that went too deep */

/* How deep this thread may nest through the hook: a quarter of its stack. */
static uint32_t nesting_cap(void)
{
    size_t size = 8u << 20;
#ifdef __linux__
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t got;
        if (pthread_attr_getstack(&attr, &addr, &got) == 0 && got > 0)
            size = got;
        pthread_attr_destroy(&attr);
    }
#endif
    size_t cap = size / 4 / STACK_PER_LEVEL;
    return cap < NESTING_CAP ? (uint32_t)cap : NESTING_CAP;
}

/* What the program has put in this thread's trace slot since we last
 * looked, if anything: it is kept, and gets every event. */
static void adopt_theirs(pyro_line_thread *th, PyThreadState *ts)
{
    Py_tracefunc f = ts->c_tracefunc;
    if (f == on_trace)
        return;
    PyObject *o = ts->c_traceobj;
    th->their_trace = f;
    Py_XINCREF(o);
    Py_XSETREF(th->their_obj, o);
}

static void set_tracing(pyro_line_thread *th, int on)
{
    PyThreadState *ts = PyThreadState_Get();
    adopt_theirs(th, ts);
    th->tracing = (uint8_t)on;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    if (on)
        PyEval_SetTrace(on_trace, th->their_obj);
    else
        PyEval_SetTrace(th->their_trace, th->their_obj);
    PyErr_Clear();
    pyro_exc_restore(&exc);
}

/* Trace while the frame on top of the stack is selected (and take the slot
 * back if the program replaced our function in it meanwhile). */
static inline void follow_top(pyro_line_profiler *p, pyro_line_thread *th)
{
    (void)p;
    int want = th->depth > 0 && th->stack[th->depth - 1].rec != NULL;
    if (want != th->tracing || (want && PyThreadState_Get()->c_tracefunc != on_trace))
        set_tracing(th, want);
}

/* Events of a thread whose slot holds the program's trace function too. */
static inline int pass_on(pyro_line_thread *th, PyObject *obj, PyFrameObject *frame, int what,
                          PyObject *arg)
{
    if (PYRO_LIKELY(obj == NULL) || th == NULL || th->their_obj != obj || th->their_trace == NULL)
        return 0;
    return th->their_trace(obj, frame, what, arg);
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
        pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_LEAVE]);
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
    pyro_line_profiler *p = pyro_line_active;
    pyro_line_thread *th = p != NULL && p->tool_id == 0 ? pyro_line_thread_current(&p->ls) : NULL;
    if (PYRO_UNLIKELY(th == NULL)) {
        if (obj == NULL)
            PyEval_SetTrace(NULL, NULL);   /* a thread left over from a stop */
        return 0;
    }
    if (PYRO_LIKELY(what == PyTrace_LINE)) {
        pyro_line_event(&p->ls, th, (PyObject *)pyro_frame_code(frame), pyro_frame_traced_line(frame));
    }
    else if (what == PyTrace_RETURN && th->depth > 0 && th->depth <= th->seeded) {
        seeded_return(p, th, frame);   /* one that was running when profiling began */
    }
    return pass_on(th, obj, frame, what, arg);
}

static inline pyro_code_lines *record(pyro_line_profiler *p, pyro_eval_frame *f)
{
    PyObject *code = pyro_eval_code(f);
    pyro_code_lines *rec = pyro_line_record_cached(p, code);
    if (PYRO_UNLIKELY(rec == PYRO_LINE_UNKNOWN))
        rec = pyro_line_record_of(p, code, pyro_eval_frame_object(f), pyro_eval_globals(f));
    return rec;
}

static PyObject *eval_hook(PyThreadState *ts, pyro_eval_frame *f, int throwflag);

/* The frame would nest too deep: it and what it calls run without us. */
static PyObject *step_aside(pyro_line_profiler *p, pyro_line_thread *th, PyThreadState *ts, pyro_eval_frame *f,
                            int throwflag)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    int mine = stepped_aside == NULL
        && _PyInterpreterState_GetEvalFrameFunc(interp) == (_PyFrameEvalFunction)eval_hook;
    uint64_t session = hook_session;
    if (mine) {
        stepped_aside = th;
        p->deep_calls++;
        _PyInterpreterState_SetEvalFrameFunc(interp, prev_eval);
    }
    PyObject *result = prev_eval(ts, f, throwflag);
    if (mine && stepped_aside == th) {
        stepped_aside = NULL;
        if (session == hook_session && hook_installed)
            _PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)eval_hook);
    }
    return result;
}

static PyObject *eval_hook(PyThreadState *ts, pyro_eval_frame *f, int throwflag)
{
    pyro_line_profiler *p = pyro_line_active;
    pyro_line_thread *th = p != NULL && p->tool_id == 0 ? pyro_line_thread_current(&p->ls) : NULL;
    if (PYRO_UNLIKELY(th == NULL))
        return prev_eval(ts, f, throwflag);
    if (PYRO_UNLIKELY(th->nested >= th->max_nested)) {
        if (th->max_nested == 0 && (th->max_nested = nesting_cap()) > th->nested)
            return eval_hook(ts, f, throwflag);
        return step_aside(p, th, ts, f, throwflag);
    }
    uint64_t session = hook_session;
    uint32_t depth = th->depth;
    pyro_code_lines *rec = record(p, f);
    if (rec == NULL) {
        pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_CALL]);
        pyro_line_push(&p->ls, th, NULL, -1, 0);
    }
    else {
        int64_t now = pyro_line_now(th);
        pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_ENTER]);
        /* A generator resuming goes on with the line it stopped at. */
        int offset = pyro_eval_last_offset(f);
        int line = offset > rec->start_offset ? pyro_line_at_offset(rec, offset) : -1;
        pyro_line_push(&p->ls, th, rec, line, now);
    }
    follow_top(p, th);
    th->nested++;
    PyObject *result = prev_eval(ts, f, throwflag);
    /* `th` is gone if profiling stopped (and maybe started again) meanwhile. */
    if (PYRO_LIKELY(session == hook_session))
        th->nested--;
    /* Unless profiling stopped (or stopped and started again) meanwhile:
     * the frame returned, yielded or raised; its caller goes on. */
    if (PYRO_LIKELY(session == hook_session && th->depth > depth)) {
        pyro_saved_exc exc;
        int raised = result == NULL;
        if (raised)
            pyro_exc_save(&exc);
        if (th->stack[depth].rec != NULL) {
            int64_t now = pyro_line_now(th);
            pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_LEAVE]);
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
    else if (stepped_aside != NULL) {
        hook_installed = 0;     /* stepped aside for deep recursion: stays off */
        stepped_aside = NULL;
    }
    pyro_line_thread *th = p->ls.stopped ? NULL : pyro_line_thread_current(&p->ls);
    if (th != NULL && th->watching) {
        th->watching = 0;
        PyEval_SetProfile(NULL, NULL);   /* the watch of the seeded frames */
    }
    /* Every thread's trace slot goes back to what the program put there. */
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc != on_trace)
            continue;
        pyro_line_thread *t = p->ls.threads;
        while (t != NULL && t->ts != ts)
            t = t->next;
        if (_PyEval_SetTrace(ts, t != NULL ? t->their_trace : NULL,
                             t != NULL ? t->their_obj : NULL) < 0)
            PyErr_Clear();
    }
    for (pyro_line_thread *t = p->ls.threads; t != NULL; t = t->next) {
        t->tracing = 0;
        t->seeded = 0;
        t->their_trace = NULL;
        Py_CLEAR(t->their_obj);
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
