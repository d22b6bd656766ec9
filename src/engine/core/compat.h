/* compat.h: the one place where CPython version differences live.
 *
 * Everything else in the engine calls these helpers and never tests
 * PY_VERSION_HEX itself. */
#ifndef PYRO_COMPAT_H
#define PYRO_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

/* 3.12+ subscribes through sys.monitoring; older versions use the
 * PyEval_SetProfile hook. */
#if PY_VERSION_HEX >= 0x030C0000
#define PYRO_HAVE_MONITORING 1
#else
#define PYRO_HAVE_MONITORING 0
#endif

#if defined(__GNUC__)
#define PYRO_LIKELY(x) __builtin_expect(!!(x), 1)
#define PYRO_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PYRO_TLS __thread __attribute__((tls_model("initial-exec")))
#else
#define PYRO_LIKELY(x) (x)
#define PYRO_UNLIKELY(x) (x)
#define PYRO_TLS _Thread_local
#endif

/* ---- code-object extras ---------------------------------------------- */
#if PY_VERSION_HEX >= 0x030C0000
#define pyro_code_extra_index(freefn) PyUnstable_Eval_RequestCodeExtraIndex(freefn)
#define pyro_code_get_extra(code, idx, out) PyUnstable_Code_GetExtra((code), (idx), (out))
#define pyro_code_set_extra(code, idx, val) PyUnstable_Code_SetExtra((code), (idx), (val))
#else
#define pyro_code_extra_index(freefn) _PyEval_RequestCodeExtraIndex(freefn)
#define pyro_code_get_extra(code, idx, out) _PyCode_GetExtra((code), (idx), (out))
#define pyro_code_set_extra(code, idx, val) _PyCode_SetExtra((code), (idx), (val))
#endif

/* ---- the profiled program's in-flight exception ------------------------ */
typedef struct {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc;
#else
    PyObject *type, *value, *tb;
#endif
} pyro_saved_exc;

static inline void pyro_exc_save(pyro_saved_exc *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    s->exc = PyErr_GetRaisedException();
#else
    PyErr_Fetch(&s->type, &s->value, &s->tb);
#endif
}

static inline void pyro_exc_restore(pyro_saved_exc *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(s->exc);
#else
    PyErr_Restore(s->type, s->value, s->tb);
#endif
}

/* ---- frames (legacy hook only) ----------------------------------------- */
/* Borrowed code object of a frame. 3.9/3.10 expose f_code; 3.11 hides the
 * frame layout, so take a new reference and drop it at once: the frame
 * keeps the code alive while its event is being handled. */
static inline PyCodeObject *pyro_frame_code(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyCodeObject *code = PyFrame_GetCode(frame);
    Py_DECREF(code);
    return code;
#else
    return frame->f_code;
#endif
}

/* New reference to a type's own dict (3.12 keeps the dicts of static
 * built-in types out of tp_dict). */
static inline PyObject *pyro_type_dict(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyType_GetDict(type);
#else
    Py_XINCREF(type->tp_dict);
    return type->tp_dict;
#endif
}

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
static inline PyObject *Py_XNewRef(PyObject *o) { Py_XINCREF(o); return o; }
#endif

#endif /* PYRO_COMPAT_H */
