/* profile_hook.h: the profile slot of each thread, 3.9-3.11.
 *
 * Before sys.monitoring a thread has one profile function (PyEval_SetProfile,
 * sys.setprofile, cProfile).  A mode installs its C function in it, on the
 * enabling thread and on threads started later (a threading.setprofile()
 * trampoline), and shares the slot with the program's own tools:
 *
 * - its function is installed with no object, so sys.getprofile() gives the
 *   program what it would give unprofiled (None, or its own tool's object);
 * - when the program installs a profile function of its own (sys.setprofile,
 *   cProfile's enable()), an audit hook sees it coming and sets a one-shot
 *   trace function ("kick") on that thread; at the next event the kick takes
 *   the slot back, keeps the other tool's function and object, and the
 *   mode's function passes every event on to it (so both see every call);
 *   when the program removes its tool, the slot comes back the same way;
 * - if the thread's trace slot is taken too (a debugger, coverage), the slot
 *   is taken back by a pending call on the main thread, later: the calls in
 *   between are missing, and the notes say how many times and how long.
 *
 * Nothing here exists on 3.12+, where tools have ids of their own. */
#ifndef PYRO_PROFILE_HOOK_H
#define PYRO_PROFILE_HOOK_H

#include "core/compat.h"

#if !PYRO_HAVE_MONITORING

/* What a mode gives: its profile function, and how to bring its stacks in
 * line when the slot comes back (`running` is the frame executing on the
 * current thread then, or NULL if unknown). */
typedef void (*pyro_resync_fn)(PyFrameObject *running);

/* Install `fn` on this thread and on threads started from now on. */
int pyro_profile_hook_start(Py_tracefunc fn, pyro_resync_fn resync);
/* Give every thread's slot back to what the program put there, or empty. */
void pyro_profile_hook_stop(void);

/* How the program's own profile functions fared (for the notes). */
typedef struct {
    uint64_t shared;           /* times the slot was taken back at once */
    uint64_t late;             /* times it was taken back by the main thread */
    double late_seconds;       /* the longest of those waits */
} pyro_profile_hook_stats;
void pyro_profile_hook_get_stats(pyro_profile_hook_stats *out);

int pyro_profile_pass_on_slow(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

/* The end of the mode's profile function: events of a thread whose slot
 * is shared go on to the program's tool. */
static inline int pyro_profile_pass_on(PyObject *obj, PyFrameObject *frame, int what,
                                       PyObject *arg)
{
    if (PYRO_LIKELY(obj == NULL))
        return 0;
    return pyro_profile_pass_on_slow(obj, frame, what, arg);
}

#endif
#endif
