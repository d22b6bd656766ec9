/* speed.h: how fast the CPU runs this thread right now, in clock ticks.
 *
 * The profiler's own cost per event is measured once (calibration) but the
 * machine does not keep one speed: frequency scaling, a busy neighbour or a
 * move to another core change it by up to 2x, and a cost in ticks measured
 * at one speed is wrong at the other.  Costs are therefore kept relative to
 * a speed probe, a fixed piece of work whose ticks are measured beside each
 * calibration run and again, briefly, every so often while the program
 * runs: cost now = cost per probe tick x the probe's ticks now. */
#ifndef PYRO_SPEED_H
#define PYRO_SPEED_H

#include "core/compat.h"
#include "core/clock.h"

/* Ticks of the clock in use that the probe's work takes: the fastest of a
 * few very short runs (the scheduler can make a run slower, never faster).
 * About 3 us at 3 GHz.  Never 0. */
int64_t pyro_speed_probe(void);

/* The calling thread's time on a CPU and time waiting for one (ready to
 * run, but the CPU was given to another process), in ns since it began:
 * 1, or 0 where the system does not tell (Linux's schedstat).  On a
 * machine busy with other work the scheduler takes the CPU from the thread
 * for whole time slices (a millisecond or more) now and then; cProfile
 * counts each slice in whatever function was running, a random error of
 * +-10 points in a share.  Waits are left out instead (tstate.h). */
int pyro_speed_sched(int64_t *run_ns, int64_t *wait_ns);

/* The gap between two events of a thread, in ticks of the clock in use,
 * beyond which the thread looks for a wait for a CPU (a quarter of a
 * millisecond: shorter than any time slice, long enough that reading the
 * scheduler's times costs under 1 %); INT64_MAX for clocks that count no
 * wait (CPU time, the test clock). */
int64_t pyro_speed_gap(void);

/* How often a thread probes the speed while profiled, in ticks of the
 * clock in use (every 15-25 ms); INT64_MAX when the clock counts no
 * time (the test clock). */
int64_t pyro_speed_interval(void);

#endif
