/* calibration_store.h: calibrations kept between processes.
 *
 * Calibrating costs a process tens of milliseconds, longer than the rest of
 * a short run's start-up.  The costs are in probe units (runtime/speed.h),
 * so they hold on this machine whatever its speed later: a mode stores
 * them once per machine, interpreter and engine build, and the next
 * process loads them and only checks them with a quick probe.
 *
 * The folder is $PYROMETER_CACHE_DIR (empty: keep nothing), else
 * $XDG_CACHE_HOME/pyrometer, else ~/.cache/pyrometer; it is used only if it
 * is a real folder (not a link) of the user's that no one else may write
 * to, and each file is read as a hostile file is (regular, small, every
 * number checked).  Nothing here ever fails the profiler: a file missing,
 * stale or odd means calibrating again. */
#ifndef PYRO_CALIBRATION_STORE_H
#define PYRO_CALIBRATION_STORE_H

#include "core/compat.h"

#define PYRO_STORE_MAX_VALUES 32

/* The `n` values stored under `name` (e.g. "function-tsc-1") for this
 * machine, interpreter and build: 1 when found and sane (each finite and
 * within [0, 1e6]), else 0.  No exception. */
int pyro_calibration_load(const char *name, double *values, int n);

/* Keep them for the next process (atomically; failures are ignored). */
void pyro_calibration_save(const char *name, const double *values, int n);

#endif
