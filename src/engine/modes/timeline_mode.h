/* timeline_mode.h: the Timeline object: memory over time, sampled by a
 * thread of ours, with the calls of marked functions as brackets.
 *
 * Every `interval` the timer's thread (hooks/timer.h) reads the RSS
 * (core/rss.h) and, while a memory mode traces allocations, the bytes it
 * holds alive (runtime/session.h), without the GIL, into the table
 * (tables/timeline.h), doubling its interval whenever the table halves
 * its samples.  enter()/exit() bracket a call of a marked function, each
 * end read at once on the calling thread.  One timeline runs at a time;
 * it joins no session (it reads no profiler's clock: its times are
 * CLOCK_MONOTONIC's, its dates CLOCK_REALTIME's). */
#ifndef PYRO_TIMELINE_MODE_H
#define PYRO_TIMELINE_MODE_H

#include "core/compat.h"
#include "hooks/timer.h"
#include "model/timeline_view.h"
#include "tables/timeline.h"

#include <pthread.h>

typedef struct {
    PyObject_HEAD
    pyro_timeline tl;          /* samples under `lock`; brackets under the GIL */
    pthread_mutex_t lock;
    pyro_timer *timer;         /* NULL when not running */
    int64_t base_interval;     /* ns asked for */
    int64_t interval;          /* ns now (doubled at each halving); under `lock` */
    int64_t t0;                /* CLOCK_MONOTONIC at the start, ns */
    double start_epoch;        /* Unix time at the start */
    size_t max_samples, max_brackets;
    PyObject *names;           /* list of str: the brackets' functions */
    PyObject *name_index;      /* {str: int} */
    uint8_t running;
    uint8_t started;           /* has run: its data is the last run's */
    PyObject *weakreflist;
} pyro_timeline_mode;

extern PyTypeObject pyro_TimelineType;

/* A call of `name` (a str) begins: its token, or 0 when it is not kept
 * (not running, too deep, out of memory).  Never raises; GIL held. */
uint64_t pyro_timeline_mode_enter(PyObject *timeline, PyObject *name);

/* The call of `token` ends.  Never raises and leaves the thread's
 * exception alone (the call may have raised); GIL held. */
void pyro_timeline_mode_exit(PyObject *timeline, uint64_t token);

/* TimelineBracket(timeline, func, name) (timeline_bracket.c): a callable
 * that brackets each call of `func` in `timeline`, invisible to the
 * function profiler (it records C calls of built-ins only) and never
 * pyrometer's own code, so what `func` does is profiled as usual. */
extern PyTypeObject pyro_TimelineBracketType;

/* The samples, peaks and brackets of a Timeline (running or not) as a
 * view: 0, or -1 + exception (TypeError if `obj` is no Timeline). */
int pyro_timeline_mode_view(PyObject *obj, pyro_timeline_view *v);

#endif
