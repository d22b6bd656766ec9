/* speed.c: the speed probe (see speed.h). */
#include "runtime/speed.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define PROBE_STEPS 256
#define PROBE_RUNS 5

/* The probe's work: what hooks do, in small: loads that hit the first-level
 * cache and depend on each other, with arithmetic and a branch on each. */
static uint32_t chase[64];
volatile uint64_t probe_sink;   /* keeps the work from being optimised away */
static int chase_ready;

static void chase_init(void)
{
    /* One cycle through all 64 slots, in a scattered order. */
    uint32_t order[64];
    for (uint32_t i = 0; i < 64; i++)
        order[i] = (i * 37u + 11u) & 63u;
    for (uint32_t i = 0; i < 64; i++)
        chase[order[i]] = order[(i + 1) & 63u];
    chase_ready = 1;
}

static __attribute__((noinline)) uint64_t probe_work(uint32_t start)
{
    volatile uint32_t *c = chase;
    uint32_t at = start & 63u;
    uint64_t acc = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < PROBE_STEPS; i++) {
        at = c[at];
        acc = (acc ^ at) * 0xff51afd7ed558ccdULL;
        if (acc & 1)
            acc += at;
    }
    return acc;
}

int64_t pyro_speed_probe(void)
{
    if (!chase_ready)
        chase_init();
    int64_t best = INT64_MAX;
    for (int run = 0; run < PROBE_RUNS; run++) {
        int64_t t0 = pyro_clock_now();
        probe_sink = probe_work((uint32_t)run);
        int64_t ticks = pyro_clock_now() - t0;
        if (ticks < best)
            best = ticks;
    }
    return best > 0 ? best : 1;
}

int64_t pyro_speed_interval(void)
{
    /* Roughly: the exact tick rate of the TSC is known only later, and
     * needs none here (50 M ticks: 15-25 ms at 2-3.5 GHz). */
    switch (pyro_clock_mode) {
    case PYRO_CLOCK_TEST: return INT64_MAX;
    case PYRO_CLOCK_TSC: return 50000000;
    default: return 20000000;   /* ns */
    }
}

int64_t pyro_speed_gap(void)
{
    const double gap_ns = 250000.0;
    switch (pyro_clock_mode) {
    case PYRO_CLOCK_TEST:
    case PYRO_CLOCK_CPU:
        return INT64_MAX;
    case PYRO_CLOCK_TSC: {
        double per_ns = pyro_clock_ticks_per_ns();
        return (int64_t)(gap_ns * (per_ns > 0.0 ? per_ns : 3.0));
    }
    default:
        return (int64_t)gap_ns;
    }
}

int pyro_speed_sched(int64_t *run_ns, int64_t *wait_ns)
{
#ifdef __linux__
    static int missing;
    if (missing)
        return 0;
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        missing = 1;
        return 0;
    }
    char buf[96];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    long long run, wait;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (sscanf(buf, "%lld %lld", &run, &wait) != 2 || run < 0 || wait < 0)
        return 0;
    *run_ns = run;
    *wait_ns = wait;
    return 1;
#else
    (void)run_ns;
    (void)wait_ns;
    return 0;
#endif
}
