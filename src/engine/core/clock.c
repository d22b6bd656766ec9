/* clock.c: clock selection and TSC calibration. */
#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"

#include <string.h>
#if PYRO_HAVE_TSC
#include <cpuid.h>
#endif

pyro_clock_kind pyro_clock_mode = PYRO_CLOCK_MONOTONIC;
int64_t pyro_test_ticks;
int64_t pyro_test_step = 1000;

/* A (tsc, monotonic ns) pair taken when the TSC was chosen. */
static int64_t anchor_tsc, anchor_ns;

/* Shortest interval for the TSC/ns ratio: with each pair read within a
 * microsecond, 2 ms give it to 5e-4, and a profile that short has no
 * time that precise anyway.  Longer profiles get the ratio over their
 * whole length. */
#define PYRO_CALIBRATION_NS 2000000
#define PYRO_PAIR_NS 1000

/* A (tsc, ns) pair read close together: the tsc between two ns reads that
 * are less than PYRO_PAIR_NS apart (a few tries; the scheduler may step
 * in between). */
static void read_pair(int64_t *tsc, int64_t *ns)
{
#if PYRO_HAVE_TSC
    for (int i = 0; i < 16; i++) {
        int64_t a = pyro_clock_ns(CLOCK_MONOTONIC);
        *tsc = (int64_t)__rdtsc();
        int64_t b = pyro_clock_ns(CLOCK_MONOTONIC);
        *ns = a + (b - a) / 2;
        if (b - a < PYRO_PAIR_NS)
            return;
    }
#else
    *tsc = 0;
    *ns = pyro_clock_ns(CLOCK_MONOTONIC);
#endif
}

static int tsc_is_invariant(void)
{
#if PYRO_HAVE_TSC
    unsigned int a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
        return 0;
    __get_cpuid(0x80000007, &a, &b, &c, &d);
    return (d >> 8) & 1;
#else
    return 0;
#endif
}

int pyro_clock_kind_of(const char *name)
{
    if (name == NULL || strcmp(name, "wall") == 0)
        return tsc_is_invariant() ? PYRO_CLOCK_TSC : PYRO_CLOCK_MONOTONIC;
    if (strcmp(name, "cpu") == 0)
        return PYRO_CLOCK_CPU;
    if (strcmp(name, "test") == 0)
        return PYRO_CLOCK_TEST;
    return -1;
}

void pyro_clock_use(pyro_clock_kind kind)
{
    if (kind == PYRO_CLOCK_TSC && anchor_ns == 0)
        read_pair(&anchor_tsc, &anchor_ns);
    pyro_clock_mode = kind;
}

const char *pyro_clock_name_of(pyro_clock_kind kind)
{
    switch (kind) {
    case PYRO_CLOCK_TSC: return "tsc";
    case PYRO_CLOCK_CPU: return "cpu";
    case PYRO_CLOCK_TEST: return "test";
    default: return "monotonic";
    }
}

double pyro_clock_seconds_per_tick_of(pyro_clock_kind kind)
{
    if (kind != PYRO_CLOCK_TSC)
        return 1e-9;
#if PYRO_HAVE_TSC
    int64_t ns, tsc;
    do
        read_pair(&tsc, &ns);
    while (ns - anchor_ns < PYRO_CALIBRATION_NS);
    return (double)(ns - anchor_ns) * 1e-9 / (double)(tsc - anchor_tsc);
#else
    return 1e-9;
#endif
}

double pyro_clock_ticks_per_ns(void)
{
    if (pyro_clock_mode == PYRO_CLOCK_TEST)
        return 0.0;
#if PYRO_HAVE_TSC
    if (pyro_clock_mode == PYRO_CLOCK_TSC) {
        int64_t ns, tsc;
        read_pair(&tsc, &ns);
        if (ns - anchor_ns < PYRO_CALIBRATION_NS / 20 || tsc <= anchor_tsc)
            return 0.0;
        return (double)(tsc - anchor_tsc) / (double)(ns - anchor_ns);
    }
#endif
    return 1.0;
}
