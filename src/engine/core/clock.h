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

#if defined(__GNUC__)
#define PYRO_UNLIKELY_CLOCK(x) __builtin_expect(!!(x), 0)
#else
#define PYRO_UNLIKELY_CLOCK(x) (x)
#endif
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
    PYRO_CLOCK_TEST = 3,      /* tests: every read is one step (1 µs) later */
    PYRO_CLOCK_KINDS = 4,
} pyro_clock_kind;

/* The clock the hooks read.  Only the session sets it (runtime/session.c):
 * modes running together share one clock. */
extern pyro_clock_kind pyro_clock_mode;

/* The test clock: a counter that each read moves on by one step, so that
 * a program's events give the same times on every run and every machine:
 * exact golden call trees, reports and line tables. */
extern int64_t pyro_test_ticks;
extern int64_t pyro_test_step;   /* ns per read; 1000 unless a test sets it */

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
    if (PYRO_UNLIKELY_CLOCK(pyro_clock_mode == PYRO_CLOCK_TEST))
        return pyro_test_ticks += pyro_test_step;
    return pyro_clock_ns(CLOCK_MONOTONIC);
}

/* The clock a name asks for: "wall" (the TSC if invariant, else
 * monotonic), "cpu" or "test"; -1 for an unknown name. */
int pyro_clock_kind_of(const char *name);

/* Make `kind` the clock the hooks read (the session's business). */
void pyro_clock_use(pyro_clock_kind kind);

/* Name of a clock ("tsc", "monotonic", "cpu", "test"). */
const char *pyro_clock_name_of(pyro_clock_kind kind);

/* Seconds per tick of a clock.  For the TSC this is measured against
 * CLOCK_MONOTONIC over the time since it was first used, so a long profile
 * calibrates itself; a short one waits until the interval is long enough
 * for a precise ratio. */
double pyro_clock_seconds_per_tick_of(pyro_clock_kind kind);

/* Ticks of the clock in use per ns, as far as known now without waiting
 * (the TSC's ratio needs 0.1 ms since it was chosen); 0 if not yet known,
 * or for the test clock. */
double pyro_clock_ticks_per_ns(void);

/* The same for the clock in use. */
#define pyro_clock_name() pyro_clock_name_of(pyro_clock_mode)
#define pyro_clock_seconds_per_tick() pyro_clock_seconds_per_tick_of(pyro_clock_mode)

#endif
