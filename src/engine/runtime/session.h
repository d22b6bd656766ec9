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

/* Failures are sticky: the first one stops every mode that is on (a
 * profile missing part of the run must not go on as if whole), and each
 * profiler reports it once, as a note, when its data is read. */
enum {
    PYRO_FAIL_NOMEMORY = 1,   /* a table could not grow */
    PYRO_FAIL_WRITE = 2,      /* a file written while profiling could not be */
};

/* How the session stops a mode's owner when a failure happens: sets the
 * owner's tables to drop events from now on.  Called with the GIL, from
 * inside a hook: it must not call back into Python or raise. */
typedef void (*pyro_mode_stop)(PyObject *owner, unsigned failure);

/* How the session tells a mode's owner that the machine's speed changed:
 * `probe` is the speed probe's ticks now (runtime/speed.h); the owner
 * rescales its cost per event (kept in probe units) to it.  Same rules as
 * a stop: GIL held, inside a hook, never raises. */
typedef void (*pyro_mode_rescale)(PyObject *owner, int64_t probe);

/* `owner` (a profiler object) takes mode `m` on the clock named `clock`
 * ("wall", "cpu", "test"): 0, or -1 + ValueError naming the rule that
 * refuses it (the mode is taken, it cannot run beside a mode that is on,
 * or that one measures another clock).  The first mode to join chooses the
 * clock every mode then reads (core/clock.h's pyro_clock_mode). */
int pyro_session_join(pyro_mode m, PyObject *owner, const char *clock, pyro_mode_stop stop,
                      pyro_mode_rescale rescale);

/* `owner` gives mode `m` back (nothing if it does not hold it). */
void pyro_session_leave(pyro_mode m, PyObject *owner);

/* The profiler holding mode `m`, borrowed, or NULL. */
PyObject *pyro_session_owner(pyro_mode m);

/* A hook or table met `failure` (PYRO_FAIL_*): every mode that is on stops
 * recording.  Never raises.  The flags last until the session is empty and
 * a mode joins again. */
void pyro_session_fail(unsigned failure);

/* The failures met since the session began (PYRO_FAIL_* bits). */
unsigned pyro_session_failures(void);

/* The machine's speed as the session last saw it: the speed probe's ticks
 * (the median of the last few probes, of any thread); measured now if no
 * probe was taken since the session began. */
int64_t pyro_session_speed(void);

/* A thread's periodic probe (tstate.h): probe, and when the speed (the
 * probes' median) has moved by more than a few per cent, rescale every
 * mode that is on. */
void pyro_session_speed_sample(void);

/* Ticks a thread waited for a CPU, left out of its clock (tstate.c); the
 * session's total in seconds, for the report's notes. */
void pyro_session_add_waited(int64_t ticks);
double pyro_session_waited_seconds(void);

/* How many times the modes were rescaled since the session began. */
unsigned pyro_session_speed_changes(void);

/* ---- the traced heap, for the timeline's sampler ---------------------
 * The memory mode that is on (at most one: the allocator hooks take one
 * sink) publishes here the bytes alive of the blocks it traced, after
 * every change, so that a thread of ours can read them without the GIL
 * and without knowing which mode counts them.  Relaxed atomics: a reader
 * sees a value some allocation left, never a torn one. */

/* A memory mode began (live bytes 0) or ended tracing. */
void pyro_session_heap_begin(void);
void pyro_session_heap_end(void);

/* The memory mode's bytes alive now; called under the GIL by the mode. */
void pyro_session_heap_set(uint64_t live);

/* Any thread, no GIL: 1 and the bytes alive, or 0 when no memory mode is
 * tracing. */
int pyro_session_heap_live(uint64_t *bytes);

#endif
