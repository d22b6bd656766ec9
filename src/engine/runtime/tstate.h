/* tstate.h: the per-thread state every mode shares.
 *
 * One lookup per event (a thread-local pointer) finds the thread's state;
 * each mode's own per-thread data (the function mode's call stack, the
 * line mode's frame stack) hangs off it, valid while its epoch matches the
 * table's.  The profiler's own cost on the thread is kept here, once for
 * all modes: each mode adds the cost of its events, and every mode's clock
 * leaves all of it out, so that two modes running together do not count
 * each other's hooks as the program's time.  Time the thread spent waiting
 * for a CPU that other processes held is left out the same way. */
#ifndef PYRO_TSTATE_H
#define PYRO_TSTATE_H

#include "core/compat.h"
#include "core/clock.h"

struct pyro_thread;
struct pyro_line_thread;

typedef struct pyro_tstate pyro_tstate;
struct pyro_tstate {
    int64_t overhead;                /* ticks the hooks of every mode cost so far, and
                                        the waits for a CPU left out */
    int64_t next_probe;              /* raw clock of this thread's next speed probe */
    int64_t last_raw;                /* raw clock at its last event */
    int64_t gap_ticks;               /* a longer gap between events may be a wait */
    int64_t wait_seen;               /* its scheduler wait (ns) when last read; -1: none */
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

/* Every thread probes the machine's speed every `interval` ticks of the
 * raw clock from now on, and looks for a wait for a CPU in any gap between
 * events longer than `gap` ticks (INT64_MAX: never, the test clock). */
void pyro_tstate_restart_probes(int64_t interval, int64_t gap);

/* Out of line, for an event after a long gap or when a speed probe is due:
 * leaves out of the thread's clock the time it waited for a CPU during the
 * gap, and probes the speed.  This work's time is the profiler's, not the
 * program's.  Returns the raw clock after it. */
int64_t pyro_tstate_slow(pyro_tstate *t, int64_t raw);

#define PYRO_HOT static inline __attribute__((always_inline))

/* This thread's state: one thread-local load. */
PYRO_HOT pyro_tstate *pyro_tstate_get(void)
{
    pyro_tstate *t = pyro_tls_tstate;
    return PYRO_LIKELY(t != NULL) ? t : pyro_tstate_attach();
}

/* The compensated clock: raw time less what the hooks of every mode cost
 * this thread so far.  Now and then (every 20 ms or so) the thread probes
 * the machine's speed first, so that the costs follow it.  A gap of more
 * than a quarter millisecond since the thread's last event may hide a
 * wait for a CPU (the scheduler gave it to another process for a time
 * slice): the wait is read then, and left out of the gap. */
PYRO_HOT int64_t pyro_tstate_now(pyro_tstate *t)
{
    int64_t raw = pyro_clock_now();
    if (PYRO_UNLIKELY(raw >= t->next_probe || raw - t->last_raw > t->gap_ticks))
        raw = pyro_tstate_slow(t, raw);
    t->last_raw = raw;
    return raw - t->overhead;
}

#endif
