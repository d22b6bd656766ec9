/* clock.h: the engine's time source.
 *
 * Times are kept in raw ticks on the hot path and turned into seconds only
 * when statistics are exported.  The default clock is the CPU's invariant
 * time-stamp counter when there is one (a few ns per read, no syscall),
 * else CLOCK_MONOTONIC; "cpu" is the calling thread's CPU time. */
#ifndef PYRO_CLOCK_H
#define PYRO_CLOCK_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PYRO_HAVE_TSC 1
#else
#define PYRO_HAVE_TSC 0
#endif

typedef enum {
    PYRO_CLOCK_TSC = 0,       /* invariant TSC, calibrated to ns */
    PYRO_CLOCK_MONOTONIC = 1, /* CLOCK_MONOTONIC, ns */
    PYRO_CLOCK_CPU = 2,       /* CLOCK_THREAD_CPUTIME_ID, ns */
} pyro_clock_kind;

extern pyro_clock_kind pyro_clock_mode;

static inline int64_t pyro_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t pyro_clock_now(void)
{
#if PYRO_HAVE_TSC
    if (pyro_clock_mode == PYRO_CLOCK_TSC)
        return (int64_t)__rdtsc();
#endif
    if (pyro_clock_mode == PYRO_CLOCK_CPU)
        return pyro_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    return pyro_clock_ns(CLOCK_MONOTONIC);
}

/* Choose the clock: "wall" (TSC if invariant, else monotonic) or "cpu".
 * Returns -1 for an unknown name. */
int pyro_clock_select(const char *name);

/* Name of the clock in use ("tsc", "monotonic", "cpu"). */
const char *pyro_clock_name(void);

/* Seconds per tick of the current clock.  For the TSC this is measured
 * against CLOCK_MONOTONIC over the time since the clock was selected, so a
 * long profile calibrates itself; a short one waits until the interval is
 * long enough for a precise ratio. */
double pyro_clock_seconds_per_tick(void);

#endif
