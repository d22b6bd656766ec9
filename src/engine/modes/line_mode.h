/* line_mode.h: the LineProfiler object: which code is selected, the
 * per-line records, the event source and its calibration. */
#ifndef PYRO_LINE_MODE_H
#define PYRO_LINE_MODE_H

#include "tables/linetable.h"
#include "tables/memtable.h"

typedef struct {
    PyObject_HEAD
    pyro_line_state ls;
    uint64_t id;               /* owner id of this profiler's records */
    uint64_t pattern_gen;      /* changes whenever the patterns do */
    pyro_code_lines **recs;    /* the records, in the order code was selected */
    Py_ssize_t nrecs, caprecs;
    PyObject *by_code;         /* {code: index into recs}, off the hot path */
    PyObject *patterns;        /* list of str */
    PyObject *matched;         /* set of the patterns that selected something */
    uint8_t enabled;
    uint8_t compensate;
    uint8_t calibrated;
    char clock[16];            /* "wall", "cpu" or "test", as asked */
    pyro_clock_kind clock_kind;   /* the clock of the data, once enabled */
    int tool_id;               /* sys.monitoring tool (3.12+), 0 while the hooks
                                  are set (3.9-3.11); -1 when none */
    PyObject *disable;         /* sys.monitoring.DISABLE, 3.12+ */
    double measured[PYRO_LINE_COST_N];    /* calibration results, probe units
                                           * (runtime/speed.h) */
    double slowdown;           /* how much slower traced code runs (>= 1) */
    double measured_floor;     /* half a trivial line's own time unprofiled, probe units */
    uint64_t floored;          /* lines the last export held at that floor */
    uint64_t deep_calls;       /* 3.9-3.11: calls too deep for the C stack with our
                                  hook, run (with what they called) without it */
    /* Memory (line_memory.c): each allocation charged to the line running
     * in the innermost selected frame of its thread. */
    uint8_t memory;            /* asked for */
    uint8_t memory_failed;     /* the block table could not grow: memory stopped */
    pyro_memtable blocks;      /* blocks allocated while profiling, alive */
    uint64_t mem_live, mem_peak;
    uint64_t mem_snapshot;     /* mem_live at the last peak snapshot */
    uint64_t rss_start;        /* the RSS at the first enable with memory, 0 unknown */
    PyObject *weakreflist;
} pyro_line_profiler;

extern PyTypeObject pyro_LineProfilerType;

/* Start and stop charging allocations to lines (line_memory.c): 0, or
 * -1 + exception. */
int pyro_line_memory_start(pyro_line_profiler *p);
void pyro_line_memory_stop(pyro_line_profiler *p);

/* The one line profiler whose hooks are installed, or NULL. */
extern pyro_line_profiler *pyro_line_active;

/* The record of `code` if this profiler selects it, else NULL.  Looks the
 * code up through its extra; on a miss, through the profiler's own table
 * and then its patterns (`frame`, else `globals`, gives the module; both
 * may be NULL).  Never raises. */
pyro_code_lines *pyro_line_record_of(pyro_line_profiler *p, PyObject *code, PyFrameObject *frame,
                                     PyObject *globals);

/* The same as far as the code extra alone tells: the record, NULL when the
 * code is known not to be selected, or PYRO_LINE_UNKNOWN. */
#define PYRO_LINE_UNKNOWN ((pyro_code_lines *)1)
static inline pyro_code_lines *pyro_line_record_cached(pyro_line_profiler *p, PyObject *code);

/* Select `code` (3.12+: also turn its local events on). -1 + exception. */
int pyro_line_select(pyro_line_profiler *p, PyObject *code, PyObject *name);

/* Whether a pattern selects the code with this module name, qualified
 * name and file name (line_select.c).  Records which pattern matched. */
int pyro_line_patterns_match(pyro_line_profiler *p, PyObject *module, PyObject *qualname,
                             PyObject *filename);
/* Qualified name of the code run by `frame` (best effort before 3.11). */
PyObject *pyro_line_qualname(PyObject *code, PyFrameObject *frame);

/* Event sources: one implementation per interpreter family. */
int pyro_line_events_start(pyro_line_profiler *p);
void pyro_line_events_stop(pyro_line_profiler *p);
/* 3.12+: turn a selected code's local events on (no-op on 3.9-3.11). */
int pyro_line_events_watch(pyro_line_profiler *p, PyObject *code);

/* Measure the cost per event (line_calibrate.c). */
int pyro_line_calibrate(pyro_line_profiler *p);

/* Whether the calibration in p (loaded from the store) fits this process:
 * 1, 0, or -1 + exception (line_calibrate.c). */
int pyro_line_calibration_fits(pyro_line_profiler *p);

/* The code-extra index of line records. */
extern Py_ssize_t pyro_line_extra_index;

static inline pyro_code_lines *pyro_line_record_cached(pyro_line_profiler *p, PyObject *code)
{
    void *extra = NULL;
    if (pyro_code_get_extra(code, pyro_line_extra_index, &extra) < 0) {
        PyErr_Clear();
        return PYRO_LINE_UNKNOWN;
    }
    if (extra == NULL)
        return p->patterns == NULL ? NULL : PYRO_LINE_UNKNOWN;
    uintptr_t v = (uintptr_t)extra;
    if (v & 1)   /* "not selected" as of a pattern generation */
        return (v >> 1) == p->pattern_gen ? NULL : PYRO_LINE_UNKNOWN;
    pyro_code_lines *rec = extra;
    return rec->owner == p->id ? rec : PYRO_LINE_UNKNOWN;
}

#endif
