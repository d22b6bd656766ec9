/* session.h: which profiling modes are on in this process, and the rules
 * for running them together.
 *
 * One session per process: each mode (function, line; memory and sampling
 * to come) joins it when a profiler of that mode is enabled and leaves it
 * when that profiler is disabled.  The rules live here, in one table,
 * rather than in each mode looking at the others. */
#ifndef PYRO_SESSION_H
#define PYRO_SESSION_H

#include "core/compat.h"
#include "core/clock.h"

typedef enum { PYRO_MODE_FUNCTION, PYRO_MODE_LINES, PYRO_MODE_N } pyro_mode;

/* `owner` (a profiler object) takes mode `m` on the clock named `clock`
 * ("wall", "cpu", "test"): 0, or -1 + ValueError naming the rule that
 * refuses it (the mode is taken, it cannot run beside a mode that is on,
 * or that one measures another clock).  The first mode to join chooses the
 * clock every mode then reads (core/clock.h's pyro_clock_mode). */
int pyro_session_join(pyro_mode m, PyObject *owner, const char *clock);

/* `owner` gives mode `m` back (nothing if it does not hold it). */
void pyro_session_leave(pyro_mode m, PyObject *owner);

/* The profiler holding mode `m`, borrowed, or NULL. */
PyObject *pyro_session_owner(pyro_mode m);

#endif
