/* tstate.h: the per-thread state every mode shares.
 *
 * One lookup per event (a thread-local pointer) finds the thread's state;
 * each mode's own per-thread data (the function mode's call stack, the
 * line mode's frame stack) hangs off it, valid while its epoch matches the
 * table's.  The profiler's own cost on the thread is kept here, once for
 * all modes: each mode adds the cost of its events, and every mode's clock
 * leaves all of it out, so that two modes running together do not count
 * each other's hooks as the program's time. */
#ifndef PYRO_TSTATE_H
#define PYRO_TSTATE_H

#include "core/compat.h"
#include "core/clock.h"

struct pyro_thread;
struct pyro_line_thread;

typedef struct pyro_tstate pyro_tstate;
struct pyro_tstate {
    int64_t overhead;                /* ticks the hooks of every mode cost so far */
    struct pyro_thread *calls;       /* the function mode's stack on this thread */
    uint64_t calls_epoch;            /* ... valid while equal to its table's epoch */
    struct pyro_line_thread *lines;  /* the line mode's */
    uint64_t lines_epoch;
    pyro_tstate *next;               /* every thread's, for as long as the process runs */
};

extern PYRO_TLS pyro_tstate *pyro_tls_tstate;

/* The state of a thread for which memory ran out: no table's epoch is 0,
 * so every mode drops its events there. */
extern pyro_tstate pyro_tstate_none;

pyro_tstate *pyro_tstate_attach(void);

#define PYRO_HOT static inline __attribute__((always_inline))

/* This thread's state: one thread-local load. */
PYRO_HOT pyro_tstate *pyro_tstate_get(void)
{
    pyro_tstate *t = pyro_tls_tstate;
    return PYRO_LIKELY(t != NULL) ? t : pyro_tstate_attach();
}

/* The compensated clock: raw time less what the hooks of every mode cost
 * this thread so far. */
PYRO_HOT int64_t pyro_tstate_now(pyro_tstate *t)
{
    return pyro_clock_now() - t->overhead;
}

#endif
