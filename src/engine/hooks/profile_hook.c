/* profile_hook.c: share each thread's profile slot with the program's own
 * tools, 3.9-3.11 (see profile_hook.h). */
#include "hooks/profile_hook.h"
#include "hooks/audit.h"
#include "core/clock.h"

#if !PYRO_HAVE_MONITORING

static Py_tracefunc hook_fn;           /* the mode's function; NULL when off */
static pyro_resync_fn resync_fn;
static int setting;                    /* our own changes are not the program's */
static int pending_scheduled;
static int64_t pending_since;          /* clock ticks when a late take-back was asked for */
static pyro_profile_hook_stats stats;

/* The program's own profile function on a thread whose slot we share. */
typedef struct {
    PyThreadState *ts;
    Py_tracefunc func;
    PyObject *obj;                     /* strong: its address identifies it */
} shared_slot;

static shared_slot *shares;
static size_t nshares, capshares;

/* Threads whose slot the main thread is to take back (their trace slot
 * was busy); compared by address with the live threads, never followed. */
#define MAX_DISPLACED 64
static PyThreadState *displaced[MAX_DISPLACED];
static int ndisplaced;
static PyObject *trampoline;

static shared_slot *share_of(PyThreadState *ts)
{
    for (size_t i = 0; i < nshares; i++)
        if (shares[i].ts == ts)
            return &shares[i];
    return NULL;
}

static void share_drop(PyThreadState *ts)
{
    shared_slot *s = share_of(ts);
    if (s == NULL)
        return;
    PyObject *obj = s->obj;
    *s = shares[--nshares];
    Py_XDECREF(obj);
}

/* 0, or -1 when memory ran out (the slot is then given to the program). */
static int share_set(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
    shared_slot *s = share_of(ts);
    if (s == NULL) {
        if (nshares == capshares) {
            size_t cap = capshares ? capshares * 2 : 8;
            shared_slot *n = PyMem_RawRealloc(shares, cap * sizeof(*n));
            if (n == NULL)
                return -1;
            shares = n;
            capshares = cap;
        }
        s = &shares[nshares++];
        s->ts = ts;
        s->obj = NULL;
    }
    s->func = func;
    Py_XINCREF(obj);
    Py_XSETREF(s->obj, obj);
    return 0;
}

static void set_profile(PyThreadState *ts, Py_tracefunc fn, PyObject *obj)
{
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    setting++;
    if (_PyEval_SetProfile(ts, fn, obj) < 0)
        PyErr_Clear();
    setting--;
    pyro_exc_restore(&exc);
}

static void set_trace(PyThreadState *ts, Py_tracefunc fn, PyObject *obj)
{
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    setting++;
    if (_PyEval_SetTrace(ts, fn, obj) < 0)
        PyErr_Clear();
    setting--;
    pyro_exc_restore(&exc);
}

int pyro_profile_pass_on_slow(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    shared_slot *s = share_of(PyThreadState_Get());
    if (s == NULL || s->obj != obj)
        return 0;
    Py_tracefunc func = s->func;
    return func(obj, frame, what, arg);
}

/* Make `ts`'s slot ours again, keeping what the program put there. */
static void take_back(PyThreadState *ts)
{
    Py_tracefunc f = ts->c_profilefunc;
    PyObject *o = ts->c_profileobj;
    if (hook_fn == NULL || f == hook_fn)
        return;
    /* threading's bootstrap installs our own trampoline through
     * sys.setprofile: that is no tool of the program's. */
    if (f == NULL || (o != NULL && o == trampoline)) {
        share_drop(ts);
        set_profile(ts, hook_fn, NULL);
    }
    else if (share_set(ts, f, o) == 0) {
        set_profile(ts, hook_fn, o);
    }
}

/* The one-shot trace function: runs at the thread's next event after the
 * program changed its profile slot. */
static int kick(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)arg;
    PyThreadState *ts = PyThreadState_Get();
    set_trace(ts, NULL, NULL);
    if (hook_fn == NULL)
        return 0;
    int was_ours = ts->c_profilefunc == hook_fn;
    take_back(ts);
    stats.shared++;
    if (was_ours || resync_fn == NULL)
        return 0;
    /* A call event comes to the trace function before the profile
     * function: that frame is not running yet, its caller is. */
    if (what == PyTrace_CALL) {
        PyFrameObject *back = PyFrame_GetBack(frame);
        resync_fn(back);
        Py_XDECREF(back);
    }
    else {
        resync_fn(frame);
    }
    return 0;
}

/* The main thread, later: every thread's slot, as far as it can be seen. */
static int take_back_all(void *unused)
{
    (void)unused;
    pending_scheduled = 0;
    if (hook_fn == NULL)
        return 0;
    double waited = (double)(pyro_clock_now() - pending_since) * pyro_clock_seconds_per_tick();
    PyThreadState *me = PyThreadState_Get();
    int any = 0;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts != NULL;
         ts = PyThreadState_Next(ts))
        for (int i = 0; i < ndisplaced; i++)
            if (displaced[i] == ts && ts->c_profilefunc != hook_fn) {
                take_back(ts);
                any = 1;
                break;
            }
    ndisplaced = 0;
    if (any) {
        stats.late++;
        if (waited > stats.late_seconds)
            stats.late_seconds = waited;
    }
    return 0;
}

static void schedule_take_back(PyThreadState *ts)
{
    int known = 0;
    for (int i = 0; i < ndisplaced; i++)
        known |= displaced[i] == ts;
    if (!known && ndisplaced < MAX_DISPLACED)
        displaced[ndisplaced++] = ts;
    if (pending_scheduled)
        return;
    pending_since = pyro_clock_now();
    if (Py_AddPendingCall(take_back_all, NULL) == 0)
        pending_scheduled = 1;
}

/* Audit "sys.setprofile": the program is about to change this thread's
 * profile slot (sys.setprofile, cProfile's enable() or disable()). */
static void on_setprofile(const char *event, PyObject *args)
{
    (void)event;
    (void)args;
    if (hook_fn == NULL || setting)
        return;
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_tracefunc == kick)
        return;
    if (ts->c_tracefunc == NULL)
        set_trace(ts, kick, NULL);
    else
        schedule_take_back(ts);
}

/* Audit "sys.settrace": a kick waiting on this thread is about to be
 * replaced; the main thread will take the slot back instead. */
static void on_settrace(const char *event, PyObject *args)
{
    (void)event;
    (void)args;
    if (hook_fn == NULL || setting)
        return;
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_tracefunc == kick)
        schedule_take_back(ts);
}

/* threading.setprofile() target: runs once in each new thread. */
static PyObject *thread_trampoline(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *frame, *event, *arg;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    PyThreadState *ts = PyThreadState_Get();
    set_profile(ts, hook_fn, NULL);
    if (hook_fn != NULL && PyFrame_Check(frame) && PyUnicode_Check(event)
        && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        hook_fn(NULL, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

static PyMethodDef trampoline_def = {"_thread_hook", thread_trampoline, METH_VARARGS, NULL};

static int set_thread_hook(PyObject *hook)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL)
        return -1;
    int rc = 0;
    if (hook == Py_None) {
        /* Only if the program has not put its own there since. */
        PyObject *now = PyObject_GetAttrString(threading, "_profile_hook");
        if (now == NULL)
            PyErr_Clear();
        if (now != trampoline) {
            Py_XDECREF(now);
            Py_DECREF(threading);
            return 0;
        }
        Py_DECREF(now);
    }
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", hook);
    if (r == NULL)
        rc = -1;
    Py_XDECREF(r);
    Py_DECREF(threading);
    return rc;
}

int pyro_profile_hook_start(Py_tracefunc fn, pyro_resync_fn resync)
{
    if (pyro_audit_subscribe("sys.setprofile", on_setprofile) < 0
        || pyro_audit_subscribe("sys.settrace", on_settrace) < 0)
        return -1;
    if (trampoline == NULL && (trampoline = PyCFunction_New(&trampoline_def, NULL)) == NULL)
        return -1;
    if (set_thread_hook(trampoline) < 0)
        return -1;
    hook_fn = fn;
    resync_fn = resync;
    take_back(PyThreadState_Get());
    return 0;
}

void pyro_profile_hook_stop(void)
{
    Py_tracefunc fn = hook_fn;
    if (fn == NULL)
        return;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    hook_fn = NULL;
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc == kick)
            set_trace(ts, NULL, NULL);
        if (ts->c_profilefunc == fn) {
            shared_slot *s = share_of(ts);
            set_profile(ts, s != NULL ? s->func : NULL, s != NULL ? s->obj : NULL);
        }
    }
    while (nshares > 0)
        share_drop(shares[nshares - 1].ts);
    ndisplaced = 0;
    if (set_thread_hook(Py_None) < 0)
        PyErr_Clear();
    pyro_exc_restore(&exc);
}

void pyro_profile_hook_get_stats(pyro_profile_hook_stats *out)
{
    *out = stats;
}

#endif /* !PYRO_HAVE_MONITORING */
