/* function_mode.h: the Profiler object that owns a call tree and its hooks. */
#ifndef PYRO_FUNCTION_MODE_H
#define PYRO_FUNCTION_MODE_H

#include "tables/calltree.h"
#include "tables/memtable.h"

typedef struct {
    PyObject_HEAD
    pyro_state st;
    uint8_t enabled;
    uint8_t builtins;       /* record built-in (C) functions */
    uint8_t compensate;     /* subtract the measured cost per event */
    uint8_t calibrated;
    int tool_id;            /* sys.monitoring tool, 3.12+; -1 when none */
    PyObject *missing;      /* sys.monitoring.MISSING, 3.12+ */
    char clock[16];         /* "wall", "cpu" or "test", as asked */
    pyro_clock_kind clock_kind;   /* the clock of the data, once enabled */
    /* Calibration results: cost per event in probe units (ticks of the
     * clock per tick of the speed probe, runtime/speed.h), which do not
     * change with the machine's speed; the tables' costs in ticks are
     * these times the probe's ticks now. */
    double measured_enter[PYRO_KINDS];
    double measured_leave[PYRO_KINDS];
    double measured_floor[PYRO_KINDS];   /* half a call's own time unprofiled */
    /* What the store's quick check measures per kind (hooked less unhooked
     * loop time per call, the slowdown taken out), for a stored calibration
     * to be checked like for like, built-in calls included. */
    double measured_check[PYRO_KINDS];
    double slowdown;            /* how much slower code runs with hooks on */
    uint16_t cal_rejected;      /* calibration repetitions rejected as outliers */
    uint16_t cal_attempts;      /* calibrations run (more than one: noisy machine) */
    uint8_t cal_calm;           /* a quarter astray at most: worth keeping */
    double data_seconds_per_tick;            /* seconds per tick of the data, 0 until read */
    /* Memory (function_memory.c): every allocation of the MEM and OBJ
     * domains charged to the call path running it. */
    uint8_t memory;             /* asked for */
    uint8_t memory_failed;      /* the block table could not grow: memory stopped */
    pyro_memtable blocks;       /* blocks allocated while profiling, alive */
    uint64_t mem_live, mem_peak;              /* bytes of those blocks, now and at most */
    uint64_t mem_snapshot;                    /* mem_live at the last peak snapshot */
    uint64_t mem_unattributed, mem_unattributed_count;   /* outside any profiled call */
    PyObject *weakreflist;
} pyro_profiler;

extern PyTypeObject pyro_ProfilerType;

/* The one profiler whose hooks are installed, or NULL. */
extern pyro_profiler *pyro_active;

/* Event sources: one implementation per interpreter family. */
int pyro_events_start(pyro_profiler *p);
void pyro_events_stop(pyro_profiler *p);

/* Start and stop charging allocations to call paths (function_memory.c):
 * 0, or -1 + exception. */
int pyro_memory_start(pyro_profiler *p);
void pyro_memory_stop(pyro_profiler *p);

/* Measure the profiler's cost per event (function_calibrate.c). */
int pyro_calibrate(pyro_profiler *p);

/* Whether the calibration in p (loaded from the store) fits this process:
 * 1, 0, or -1 + exception (function_calibrate.c). */
int pyro_calibration_fits(pyro_profiler *p);

/* Seconds per tick of the recorded data (compensated times scaled back to
 * the interpreter's speed without hooks): measured at the first read after
 * profiling, then the same for every export until the data changes, so
 * that the stats and the call tree of one file agree. */
double pyro_data_seconds_per_tick(pyro_profiler *p);


#endif
