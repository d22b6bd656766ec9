/* timeline_mode.c: the Timeline object (see timeline_mode.h). */
#include "modes/timeline_mode.h"
#include "core/clock.h"
#include "core/rss.h"
#include "runtime/session.h"

#include <math.h>
#include <string.h>

#define NS 1000000000LL
/* Past this the interval stops doubling (a sample every 12 days). */
#define MAX_INTERVAL (NS * 3600 * 24 * 12)

/* The timeline running now (borrowed: it holds a reference to itself while
 * it runs), so that a fork can leave its samples whole. */
static pyro_timeline_mode *running_one;
static int atfork_added;

static int64_t monotonic_ns(void)
{
    return pyro_clock_ns(CLOCK_MONOTONIC);
}

/* The RSS and the traced heap now, `self`'s time: any thread, no GIL. */
static pyro_tl_sample sample_now(const pyro_timeline_mode *self)
{
    pyro_tl_sample s = {monotonic_ns() - self->t0, PYRO_TL_UNKNOWN, PYRO_TL_UNKNOWN};
    uint64_t v;
    if (pyro_rss_now(&v))
        s.rss = v;
    if (pyro_session_heap_live(&v))
        s.heap = v;
    if (s.t < 0)
        s.t = 0;
    return s;
}

/* The timer's thread, every interval. */
static int64_t tick(void *ctx)
{
    pyro_timeline_mode *self = ctx;
    pyro_tl_sample s = sample_now(self);
    pthread_mutex_lock(&self->lock);
    if (pyro_timeline_add(&self->tl, s) == 1 && self->interval <= MAX_INTERVAL / 2)
        self->interval *= 2;
    int64_t next = self->interval;
    pthread_mutex_unlock(&self->lock);
    return next;
}

/* ---- fork: the samples stay whole, the child has no sampler -------------- */

static void before_fork(void)
{
    if (running_one != NULL)
        pthread_mutex_lock(&running_one->lock);
}

static void after_fork_in_parent(void)
{
    if (running_one != NULL)
        pthread_mutex_unlock(&running_one->lock);
}

static void after_fork_in_child(void)
{
    pyro_timeline_mode *self = running_one;
    if (self == NULL)
        return;
    /* Only the forking thread came along: the lock it took is fresh again,
     * the sampler is gone, and the child's timeline has stopped (its
     * reference to itself stays: freeing needs the GIL, which a handler
     * of fork() may not assume). */
    pthread_mutex_init(&self->lock, NULL);
    pyro_timer_forget(self->timer);
    self->timer = NULL;
    self->running = 0;
    running_one = NULL;
}

/* os.fork() counts the process's threads, and from 3.12 warns the program
 * that forks among threads (a DeprecationWarning on its stderr).  So the
 * sampler is stopped just before Python forks and started again in the
 * parent: the warning sees the program's threads only, and the child has
 * no sampler to lose.  (A fork from C with the sampler running is made
 * safe by the handlers above.) */
static int paused;

static PyObject *tm_before_fork(PyObject *unused, PyObject *unused2)
{
    (void)unused;
    (void)unused2;
    pyro_timeline_mode *self = running_one;
    if (self != NULL && self->timer != NULL) {
        pyro_timer *timer = self->timer;
        self->timer = NULL;
        Py_BEGIN_ALLOW_THREADS
        pyro_timer_stop(timer);
        Py_END_ALLOW_THREADS
        paused = 1;
    }
    Py_RETURN_NONE;
}

static PyObject *tm_after_fork_in_parent(PyObject *unused, PyObject *unused2)
{
    (void)unused;
    (void)unused2;
    pyro_timeline_mode *self = running_one;
    if (paused && self != NULL && self->timer == NULL) {
        pthread_mutex_lock(&self->lock);
        int64_t interval = self->interval;
        pthread_mutex_unlock(&self->lock);
        self->timer = pyro_timer_start(interval, tick, self);
        if (self->timer == NULL)
            PyErr_Clear();   /* no more samples; the program is not told */
    }
    paused = 0;
    Py_RETURN_NONE;
}

static PyObject *tm_after_fork_in_child(PyObject *unused, PyObject *unused2)
{
    (void)unused;
    (void)unused2;
    paused = 0;   /* the child's timeline stopped at the fork (after_fork_in_child) */
    Py_RETURN_NONE;
}

/* ---- the type -------------------------------------------------------------- */

static PyObject *tm_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    pyro_timeline_mode *self = (pyro_timeline_mode *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->names = PyList_New(0);
    self->name_index = PyDict_New();
    if (self->names == NULL || self->name_index == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->base_interval = self->interval = NS / 100;
    self->max_samples = self->max_brackets = 8192;
    pyro_timeline_init(&self->tl, self->max_samples, self->max_brackets);
    return (PyObject *)self;
}

static int tm_init(pyro_timeline_mode *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"interval", "max_samples", "max_calls", NULL};
    double interval = 0.01;
    Py_ssize_t max_samples = 8192, max_calls = 8192;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|dnn:Timeline", kwlist, &interval,
                                     &max_samples, &max_calls))
        return -1;
    if (!(interval >= 0.001 && interval <= 3600.0)) {
        PyErr_SetString(PyExc_ValueError,
                        "pyrometer: a timeline's interval is from 0.001 to 3600 seconds");
        return -1;
    }
    if (max_samples < 16 || max_samples > (1 << 24) || max_calls < 16 || max_calls > (1 << 24)) {
        PyErr_SetString(PyExc_ValueError,
                        "pyrometer: a timeline keeps from 16 to 16777216 samples and calls");
        return -1;
    }
    if (self->running) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the timeline is running");
        return -1;
    }
    self->base_interval = self->interval = (int64_t)llround(interval * 1e9);
    self->max_samples = (size_t)max_samples;
    self->max_brackets = (size_t)max_calls;
    pyro_timeline_release(&self->tl);
    pyro_timeline_init(&self->tl, self->max_samples, self->max_brackets);
    return 0;
}

static void tm_dealloc(pyro_timeline_mode *self)
{
    /* A running timeline holds itself: it is stopped before it dies. */
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    pyro_timeline_release(&self->tl);
    pthread_mutex_destroy(&self->lock);
    Py_XDECREF(self->names);
    Py_XDECREF(self->name_index);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *tm_start(pyro_timeline_mode *self, PyObject *unused)
{
    (void)unused;
    if (self->running)
        Py_RETURN_NONE;
    if (running_one != NULL) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: another timeline is running");
        return NULL;
    }
    if (!atfork_added) {
        if (pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child) != 0) {
            PyErr_SetString(PyExc_OSError, "pyrometer: cannot watch forks for the timeline");
            return NULL;
        }
        atfork_added = 1;
    }
    /* A new run: the last one's data goes. */
    pyro_timeline_release(&self->tl);
    pyro_timeline_init(&self->tl, self->max_samples, self->max_brackets);
    PyObject *names = PyList_New(0), *index = PyDict_New();
    if (names == NULL || index == NULL) {
        Py_XDECREF(names);
        Py_XDECREF(index);
        return NULL;
    }
    Py_SETREF(self->names, names);
    Py_SETREF(self->name_index, index);
    self->interval = self->base_interval;
    self->start_epoch = (double)pyro_clock_ns(CLOCK_REALTIME) / 1e9;
    self->t0 = monotonic_ns();
    if (pyro_timeline_add(&self->tl, sample_now(self)) < 0)
        return PyErr_NoMemory();
    self->timer = pyro_timer_start(self->interval, tick, self);
    if (self->timer == NULL)
        return NULL;
    Py_INCREF(self);   /* the sampler's: until stop() */
    self->running = 1;
    self->started = 1;
    running_one = self;
    Py_RETURN_NONE;
}

static PyObject *tm_stop(pyro_timeline_mode *self, PyObject *unused)
{
    (void)unused;
    if (!self->running)
        Py_RETURN_NONE;
    pyro_timer *timer = self->timer;
    self->timer = NULL;
    Py_BEGIN_ALLOW_THREADS
    pyro_timer_stop(timer);
    Py_END_ALLOW_THREADS
    pyro_tl_sample last = sample_now(self);
    if (pyro_timeline_add(&self->tl, last) == 1 && self->interval <= MAX_INTERVAL / 2)
        self->interval *= 2;   /* the samples kept are that far apart now */
    pyro_timeline_close_all(&self->tl, last);
    self->running = 0;
    if (running_one == self)
        running_one = NULL;
    Py_DECREF(self);
    Py_RETURN_NONE;
}

uint64_t pyro_timeline_mode_enter(PyObject *obj, PyObject *name)
{
    pyro_timeline_mode *self = (pyro_timeline_mode *)obj;
    if (!self->running)
        return 0;
    PyObject *known = PyDict_GetItemWithError(self->name_index, name);
    long index;
    if (known != NULL)
        index = PyLong_AsLong(known);
    else {
        if (PyErr_Occurred() || PyList_GET_SIZE(self->names) >= PYRO_MEM_MAX_NAMES)
            goto refuse;
        index = (long)PyList_GET_SIZE(self->names);
        PyObject *i = PyLong_FromLong(index);
        if (i == NULL || PyDict_SetItem(self->name_index, name, i) < 0
            || PyList_Append(self->names, name) < 0) {
            Py_XDECREF(i);
            goto refuse;
        }
        Py_DECREF(i);
    }
    pyro_tl_sample now = sample_now(self);
    pthread_mutex_lock(&self->lock);   /* the peaks are the sampler's too */
    uint64_t token = pyro_timeline_enter(&self->tl, (uint32_t)index, now);
    pthread_mutex_unlock(&self->lock);
    return token;
refuse:
    PyErr_Clear();   /* the call goes on unbracketed */
    return 0;
}

void pyro_timeline_mode_exit(PyObject *obj, uint64_t token)
{
    pyro_timeline_mode *self = (pyro_timeline_mode *)obj;
    if (!self->running || token == 0)
        return;
    pyro_tl_sample now = sample_now(self);
    pthread_mutex_lock(&self->lock);
    pyro_timeline_exit(&self->tl, token, now);   /* out of memory: the bracket is lost */
    pthread_mutex_unlock(&self->lock);
}

/* enter(name) -> token: a call of `name` begins; 0 when it is not kept. */
static PyObject *tm_enter(pyro_timeline_mode *self, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: a timeline's call is named by a str");
        return NULL;
    }
    uint64_t token = pyro_timeline_mode_enter((PyObject *)self, name);
    return PyLong_FromUnsignedLongLong((unsigned long long)token);
}

static PyObject *tm_exit(pyro_timeline_mode *self, PyObject *token)
{
    unsigned long long tok = PyLong_AsUnsignedLongLong(token);
    if (tok == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    pyro_timeline_mode_exit((PyObject *)self, tok);
    Py_RETURN_NONE;
}

int pyro_timeline_mode_view(PyObject *obj, pyro_timeline_view *v)
{
    if (!PyObject_TypeCheck(obj, &pyro_TimelineType)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: not a Timeline");
        return -1;
    }
    pyro_timeline_mode *self = (pyro_timeline_mode *)obj;
    pyro_timeline_view_clear(v);
    pthread_mutex_lock(&self->lock);
    int rc = pyro_timeline_view_of_table(v, &self->tl, self->names);
    v->interval = self->interval;
    pthread_mutex_unlock(&self->lock);
    v->start_epoch = self->start_epoch;
    v->base_interval = self->base_interval;
    if (rc < 0)
        pyro_timeline_view_release(v);
    return rc;
}

static PyObject *tm_data(pyro_timeline_mode *self, PyObject *unused)
{
    (void)unused;
    pyro_timeline_view v;
    if (pyro_timeline_mode_view((PyObject *)self, &v) < 0)
        return NULL;
    PyObject *d = pyro_timeline_view_as_dict(&v);
    pyro_timeline_view_release(&v);
    return d;
}

static PyObject *tm_samples(pyro_timeline_mode *self, PyObject *unused)
{
    PyObject *d = tm_data(self, unused);
    if (d == NULL)
        return NULL;
    PyObject *samples = Py_XNewRef(PyDict_GetItemString(d, "samples"));
    Py_DECREF(d);
    return samples;
}

static PyObject *get_running(pyro_timeline_mode *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->running);
}

static PyObject *get_interval(pyro_timeline_mode *self, void *closure)
{
    (void)closure;
    pthread_mutex_lock(&self->lock);
    int64_t ns = self->interval;
    pthread_mutex_unlock(&self->lock);
    return PyFloat_FromDouble((double)ns / 1e9);
}

static PyObject *get_base_interval(pyro_timeline_mode *self, void *closure)
{
    (void)closure;
    return PyFloat_FromDouble((double)self->base_interval / 1e9);
}

static PyObject *get_start(pyro_timeline_mode *self, void *closure)
{
    (void)closure;
    if (!self->started)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(self->start_epoch);
}

static PyMethodDef tm_methods[] = {
    {"start", (PyCFunction)tm_start, METH_NOARGS,
     "start(): take a first sample and sample every interval from a thread of ours (a\n"
     "new run: the last run's data goes).  ValueError if another timeline is running."},
    {"stop", (PyCFunction)tm_stop, METH_NOARGS,
     "stop(): stop the sampler, take a last sample, end the calls still open."},
    {"enter", (PyCFunction)tm_enter, METH_O,
     "enter(name) -> token: a call of `name` begins (its RSS and heap read now); 0 when\n"
     "it is not kept."},
    {"exit", (PyCFunction)tm_exit, METH_O, "exit(token): the call of `token` ends."},
    {"samples", (PyCFunction)tm_samples, METH_NOARGS,
     "samples() -> [(seconds, rss, heap)]: bytes, None where not measured."},
    {"data", (PyCFunction)tm_data, METH_NOARGS,
     "data() -> dict: everything a saved timeline holds (docs/timeline-format.md)."},
    {"_before_fork", tm_before_fork, METH_NOARGS | METH_STATIC,
     "os.register_at_fork's before: the running timeline's sampler stops."},
    {"_after_fork_in_parent", tm_after_fork_in_parent, METH_NOARGS | METH_STATIC,
     "os.register_at_fork's after_in_parent: the sampler starts again."},
    {"_after_fork_in_child", tm_after_fork_in_child, METH_NOARGS | METH_STATIC,
     "os.register_at_fork's after_in_child: the child samples nothing."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tm_getset[] = {
    {"running", (getter)get_running, NULL, "whether it samples now", NULL},
    {"interval", (getter)get_interval, NULL,
     "seconds between samples now (doubled at each halving of a long run's samples)", NULL},
    {"base_interval", (getter)get_base_interval, NULL, "seconds between samples asked for",
     NULL},
    {"start_time", (getter)get_start, NULL, "Unix time of the start, or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pyro_TimelineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.Timeline",
    .tp_basicsize = sizeof(pyro_timeline_mode),
    .tp_dealloc = (destructor)tm_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Timeline(interval=0.01, max_samples=8192, max_calls=8192): the RSS and the\n"
              "traced heap over time, sampled by a C thread, and the calls of marked functions.",
    .tp_weaklistoffset = offsetof(pyro_timeline_mode, weakreflist),
    .tp_methods = tm_methods,
    .tp_getset = tm_getset,
    .tp_init = (initproc)tm_init,
    .tp_new = tm_new,
};
