/* events_legacy.c: the event source on 3.9-3.11, through PyEval_SetProfile.
 *
 * The hook is per thread: it is set on the enabling thread, and a
 * trampoline given to threading.setprofile() sets it on each thread
 * started while profiling. */
#include "profiler.h"

#if !PYRO_HAVE_MONITORING

/* A built-in's cost kind: for a method called on an object the interpreter
 * makes a bound method just for the hook, which a function call does not
 * pay for. */
static inline int c_kind(PyObject *cfunc)
{
    PyObject *bound = ((PyCFunctionObject *)cfunc)->m_self;
    return bound == NULL || PyModule_CheckExact(bound) ? PYRO_C : PYRO_C_METHOD;
}

static int on_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    pyro_profiler *p = (pyro_profiler *)obj;
    if (PYRO_UNLIKELY(!p->enabled)) {
        /* A thread still carrying the hook after disable(). */
        PyEval_SetProfile(NULL, NULL);
        return 0;
    }
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = pyro_frame_code(frame);
        pyro_enter(&p->st, PYRO_PY, code, (PyObject *)code, NULL);
        break;
    }
    case PyTrace_RETURN:
        pyro_leave(&p->st, PYRO_PY, pyro_frame_code(frame));
        break;
    case PyTrace_C_CALL:
        if (p->builtins && PyCFunction_Check(arg))
            pyro_enter(&p->st, c_kind(arg), ((PyCFunctionObject *)arg)->m_ml, arg, NULL);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (p->builtins && PyCFunction_Check(arg))
            pyro_leave(&p->st, c_kind(arg), ((PyCFunctionObject *)arg)->m_ml);
        break;
    }
    return 0;
}

/* threading.setprofile() target: runs once in each new thread, swaps in
 * the C hook and records the event it was called for. */
static PyObject *thread_trampoline(PyObject *self, PyObject *args)
{
    PyObject *frame, *event, *arg;
    pyro_profiler *p = (pyro_profiler *)self;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    if (!p->enabled) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(on_event, self);
    if (PyFrame_Check(frame) && PyUnicode_Check(event)
        && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        on_event(self, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
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

int pyro_events_start(pyro_profiler *p)
{
    PyObject *hook = PyCFunction_New(&trampoline_def, (PyObject *)p);
    if (hook == NULL)
        return -1;
    int rc = set_thread_hook(hook);
    Py_DECREF(hook);
    if (rc < 0)
        return -1;
    PyEval_SetProfile(on_event, (PyObject *)p);
    return 0;
}

void pyro_events_stop(pyro_profiler *p)
{
    (void)p;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyEval_SetProfile(NULL, NULL);
    if (set_thread_hook(Py_None) < 0)
        PyErr_Clear();
    pyro_exc_restore(&exc);
}

#endif /* !PYRO_HAVE_MONITORING */
