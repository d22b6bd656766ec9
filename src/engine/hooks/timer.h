/* timer.h: a thread of ours that calls a C function at a fixed interval.
 *
 * The event source of the timeline (and of the sampling modes to come):
 * one POSIX thread per timer, which takes no signal (they stay the
 * program's), never takes the GIL nor runs Python code, and wakes on a
 * monotonic deadline so that the interval does not drift with the time
 * the function takes.  A tick that comes late (the machine was busy) is
 * not made up for: the next one is an interval after it.  Stopping wakes
 * the thread at once and waits for it to end. */
#ifndef PYRO_TIMER_H
#define PYRO_TIMER_H

#include "core/compat.h"

#include <stdint.h>

typedef struct pyro_timer pyro_timer;

/* Called on the timer's thread, without the GIL: the interval in ns until
 * the next call (the same one, or another: the timeline doubles it). */
typedef int64_t (*pyro_timer_tick)(void *ctx);

/* Call `tick(ctx)` every `interval_ns` from now: the timer, or NULL with
 * an OSError or MemoryError set.  Needs the GIL (for the exception). */
pyro_timer *pyro_timer_start(int64_t interval_ns, pyro_timer_tick tick, void *ctx);

/* Stop the thread and wait until it has ended (a tick under way
 * finishes first), then free the timer.  Needs no GIL; NULL does
 * nothing. */
void pyro_timer_stop(pyro_timer *t);

/* In a child after fork(): the thread did not come along, so nothing is
 * woken nor waited for; the timer's memory is let go. */
void pyro_timer_forget(pyro_timer *t);

#endif
