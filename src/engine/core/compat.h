/* compat.h: the one place where CPython version differences live.
 *
 * Everything else in the engine calls these helpers and never tests
 * PY_VERSION_HEX itself. */
#ifndef PYRO_COMPAT_H
#define PYRO_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#include <opcode.h>   /* RESUME */
#endif

/* 3.12+ subscribes through sys.monitoring; older versions use the
 * PyEval_SetProfile hook. */
#if PY_VERSION_HEX >= 0x030C0000
#define PYRO_HAVE_MONITORING 1
#else
#define PYRO_HAVE_MONITORING 0
#endif

/* 3.12+ visits the collector's objects in place
 * (PyUnstable_GC_VisitObjects); older versions list them (gc.get_objects). */
#if PY_VERSION_HEX >= 0x030C0000
#define PYRO_HAVE_GC_VISIT 1
#else
#define PYRO_HAVE_GC_VISIT 0
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

/* 3.12 and 3.13 number a LINE event's line for sys.monitoring tools from
 * the line table, walking it from the start, whenever the line is far from
 * where the offset alone would put it (they keep an 8-bit delta): in long
 * functions every line event costs the length of the function.  (3.13
 * spares sys.settrace that by numbering lazily.)  The interpreter's marks
 * of line starts are public there (_co_monitoring->lines). */
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
#define PYRO_SLOW_FAR_LINES 1
#define PYRO_LINE_DELTA_SHIFT 4
#else
#define PYRO_SLOW_FAR_LINES 0
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

/* Whether an exception was there to save. */
static inline int pyro_exc_is_set(const pyro_saved_exc *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    return s->exc != NULL;
#else
    return s->type != NULL;
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


/* d[k] = v, k's hash known: 3.13 hides the call that takes it. */
#if PY_VERSION_HEX < 0x030D0000
#define pyro_dict_set_hashed(d, k, v, h) _PyDict_SetItem_KnownHash((d), (k), (v), (h))
#else
#define pyro_dict_set_hashed(d, k, v, h) ((void)(h), PyDict_SetItem((d), (k), (v)))
#endif

/* A str's characters ready to read (before 3.12 a legacy str may need
 * them built first).  -1 + exception. */
static inline int pyro_unicode_ready(PyObject *s)
{
#if PY_VERSION_HEX < 0x030C0000
    return PyUnicode_READY(s);
#else
    (void)s;
    return 0;
#endif
}

/* 3.11+ run a Python-to-Python call without a new C frame of the
 * interpreter, so plain Python recursion costs the C stack nothing. */
#if PY_VERSION_HEX >= 0x030B0000
#define PYRO_INLINED_PY_CALLS 1
#else
#define PYRO_INLINED_PY_CALLS 0
#endif

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
static inline PyObject *Py_XNewRef(PyObject *o) { Py_XINCREF(o); return o; }
#endif

/* ---- frames and code for the line profiler ----------------------------- */
/* New reference to the globals of a frame. */
static inline PyObject *pyro_frame_globals(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetGlobals(frame);
#else
    return Py_NewRef(frame->f_globals);
#endif
}

/* New reference to the code's qualified name, or NULL (no exception) where
 * code objects do not carry one (before 3.11). */
static inline PyObject *pyro_code_qualname(PyCodeObject *code)
{
#if PY_VERSION_HEX >= 0x030B0000
    return Py_NewRef(code->co_qualname);
#else
    (void)code;
    return NULL;
#endif
}

/* Borrowed first local variable (the first argument) of a frame that has
 * just started, or NULL.  Only needed where code has no qualified name. */
static inline PyObject *pyro_frame_first_local(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    (void)frame;
    return NULL;
#else
    return frame->f_code->co_nlocals > 0 ? frame->f_localsplus[0] : NULL;
#endif
}

/* Whether a frame at its call event is resuming (a generator or coroutine
 * after a yield or await) rather than starting.  `start` is what
 * pyro_code_start_offset() returned for its code. */
static inline int pyro_frame_resuming(PyFrameObject *frame, int start)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetLasti(frame) > start;
#else
    (void)start;
    return frame->f_lasti >= 0;
#endif
}

/* Byte offset of the instruction a frame ran last, for a cached look-up of
 * its line when it resumes (3.9, 3.10: PyFrame_GetLineNumber would walk the
 * line table); -1 on 3.11, where the interpreter has set the frame's line
 * for the event already and PyFrame_GetLineNumber just reads it. */
static inline int pyro_frame_resume_offset(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    (void)frame;
    return -1;
#elif PY_VERSION_HEX >= 0x030A0000
    return frame->f_lasti * (int)sizeof(_Py_CODEUNIT);
#else
    return frame->f_lasti;
#endif
}

/* 3.11: offset in bytes of the RESUME a frame starts at (code may come
 * before it: cells, RETURN_GENERATOR); a later one is a resumption.  -1 if
 * unknown.  Other versions do not need it. */
static inline int pyro_code_start_offset(PyCodeObject *code)
{
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    PyObject *bytes = PyCode_GetCode(code);
    if (bytes == NULL) {
        PyErr_Clear();
        return -1;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
    Py_ssize_t n = PyBytes_GET_SIZE(bytes);
    int found = -1;
    for (Py_ssize_t i = 0; i + 1 < n; i += 2)
        if (b[i] == RESUME) {
            found = (int)i;
            break;
        }
    Py_DECREF(bytes);
    return found;
#else
    (void)code;
    return -1;
#endif
}


/* The value of an int the interpreter passed to a sys.monitoring callback
 * (a line number or an instruction offset: small and exact), or -1.  3.12+
 * reads a compact int inline instead of calling PyLong_AsLong. */
static inline long pyro_small_int(PyObject *v)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PYRO_LIKELY(PyLong_CheckExact(v) && PyUnstable_Long_IsCompact((PyLongObject *)v)))
        return (long)PyUnstable_Long_CompactValue((PyLongObject *)v);
#endif
    long n = PyLong_AsLong(v);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return n;
}

/* The line number of a frame inside a line event of its trace function
 * (the interpreter has just set it; before 3.11, reading it through
 * PyFrame_GetLineNumber would compute it again). */
static inline int pyro_frame_traced_line(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetLineNumber(frame);
#else
    return frame->f_lineno;
#endif
}

#endif /* PYRO_COMPAT_H */
