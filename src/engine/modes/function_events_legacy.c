/* function_events_legacy.c: the event source on 3.9-3.11, through the profile slot
 * of each thread (hooks/profile_hook.c shares it with the program's own
 * profile functions). */
#include "modes/function_mode.h"
#include "hooks/profile_hook.h"

#if !PYRO_HAVE_MONITORING

/* A built-in's cost kind: for a method called on an object the interpreter
 * makes a bound method just for the hook, which a function call does not
 * pay for. */
static inline int c_kind(PyObject *cfunc)
{
    PyObject *bound = ((PyCFunctionObject *)cfunc)->m_self;
    return bound == NULL || PyModule_CheckExact(bound) ? PYRO_C : PYRO_C_METHOD;
}

/* `obj` is NULL, or the object of a profile function of the program's that
 * shares this thread's slot. */
static int on_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    pyro_profiler *p = pyro_active;
    if (PYRO_UNLIKELY(p == NULL || !p->enabled))
        return pyro_profile_pass_on(obj, frame, what, arg);
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
    return pyro_profile_pass_on(obj, frame, what, arg);
}

/* The slot came back after the program's tool held it: calls that ended
 * meanwhile end now. */
static void resync(PyFrameObject *running)
{
    pyro_profiler *p = pyro_active;
    if (p != NULL && p->enabled && running != NULL)
        pyro_resync(&p->st, pyro_frame_code(running));
}

int pyro_events_start(pyro_profiler *p)
{
    (void)p;
    return pyro_profile_hook_start(on_event, resync);
}

void pyro_events_stop(pyro_profiler *p)
{
    (void)p;
    pyro_profile_hook_stop();
}

#endif /* !PYRO_HAVE_MONITORING */
