/* eval_frame.h: the frames an eval-frame hook (PEP 523) is given, 3.9-3.11.
 *
 * The line engine's event source before 3.12 runs around the interpreter's
 * frame evaluation (_PyInterpreterState_SetEvalFrameFunc).  3.9 and 3.10
 * hand it a PyFrameObject; 3.11 an interpreter frame whose layout is only
 * in CPython's internal headers, which this header alone includes (and
 * only on 3.11).  Nothing here is used on 3.12+. */
#ifndef PYRO_EVAL_FRAME_H
#define PYRO_EVAL_FRAME_H

#include "core/compat.h"

#if !PYRO_HAVE_MONITORING

#if PY_VERSION_HEX >= 0x030B0000
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#define PYRO_UNDEF_BUILD_CORE
#endif
#include <internal/pycore_frame.h>
#ifdef PYRO_UNDEF_BUILD_CORE
#undef Py_BUILD_CORE
#undef PYRO_UNDEF_BUILD_CORE
#endif
typedef struct _PyInterpreterFrame pyro_eval_frame;
#else
typedef PyFrameObject pyro_eval_frame;
#endif

/* The interpreter's own evaluation of a frame. */
#define pyro_eval_default _PyEval_EvalFrameDefault

/* Borrowed code object and globals of a frame about to be evaluated. */
static inline PyObject *pyro_eval_code(pyro_eval_frame *f)
{
    return (PyObject *)f->f_code;
}

static inline PyObject *pyro_eval_globals(pyro_eval_frame *f)
{
    return f->f_globals;
}

/* The frame object, where the hook is given one (3.9, 3.10), else NULL. */
static inline PyFrameObject *pyro_eval_frame_object(pyro_eval_frame *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    (void)f;
    return NULL;
#else
    return f;
#endif
}

/* Byte offset of the instruction the frame ran last: -1 or less for a
 * frame that has not started, the yield it stopped at for a generator or
 * coroutine that resumes. */
static inline int pyro_eval_last_offset(pyro_eval_frame *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    return _PyInterpreterFrame_LASTI(f) * (int)sizeof(_Py_CODEUNIT);
#elif PY_VERSION_HEX >= 0x030A0000
    return f->f_lasti < 0 ? -1 : f->f_lasti * (int)sizeof(_Py_CODEUNIT);
#else
    return f->f_lasti;
#endif
}

#endif /* !PYRO_HAVE_MONITORING */
#endif
