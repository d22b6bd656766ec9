/* line_calibrate.c: measure what line profiling costs per event, so that
 * the cost can be taken off the clock (overhead compensation).
 *
 * Loops of known shape run alternately without and with the hooks, with a
 * scratch profiler that selects them.  Two loops with the same line events
 * but more work per line tell apart the cost per line event from how much
 * slower traced code itself runs (3.9-3.11 check for a new line at every
 * instruction); loops that call other code, selected code and a built-in
 * give the cost of those events.  Other work on the machine only adds
 * time, so the fastest repetition is kept for each loop.  Each repetition
 * is divided by a speed probe taken beside it (runtime/speed.h): the costs
 * are in probe units, whatever the machine's speed was then. */
#include "modes/line_mode.h"
#include "runtime/calibrate.h"
#include "runtime/speed.h"

#define CAL_N 10000
#define CAL_REPS 9

static const char cal_source[] =
    "def _pl_flat(n):\n"
    "    for i in range(n):\n"
    "        x = i\n"
    "def _pl_wide(n):\n"
    "    for i in range(n):\n"
    "        x = i + i + i + i + i + i + i + i + i + i + i + i + i + i + i + i\n"
    "def _pl_other(x):\n"
    "    return x\n"
    "def _pl_calls(n):\n"
    "    for i in range(n):\n"
    "        _pl_other(i)\n"
    "def _pl_sel(x):\n"
    "    return x\n"
    "def _pl_calls_sel(n):\n"
    "    for i in range(n):\n"
    "        _pl_sel(i)\n"
    "def _pl_builtin(n):\n"
    "    t = ()\n"
    "    for i in range(n):\n"
    "        len(t)\n";

enum { L_FLAT, L_WIDE, L_CALLS, L_CALLS_SEL, L_BUILTIN, L_N };
static const char *const loop_names[L_N] = {"_pl_flat", "_pl_wide", "_pl_calls",
                                            "_pl_calls_sel", "_pl_builtin"};
static const char *const selected_names[] = {"_pl_flat", "_pl_wide", "_pl_calls", "_pl_sel",
                                             "_pl_calls_sel", "_pl_builtin"};

static PyObject *cal_namespace;   /* compiled once per process */

static uint64_t total_hits(pyro_line_profiler *s)
{
    uint64_t n = 0;
    for (Py_ssize_t i = 0; i < s->nrecs; i++) {
        pyro_code_lines *rec = s->recs[i];
        for (int j = 0; j < rec->nlines; j++) {
            n += rec->counts[j].hits;
            rec->counts[j].hits = 0;
            rec->counts[j].time = 0;
        }
    }
    return n;
}

/* Ticks for one call of loop(n), with or without the scratch profiler's
 * hooks; *events gets the line events it recorded. */
static int64_t time_loop(pyro_line_profiler *s, PyObject *loop, PyObject *n, int hooked,
                         uint64_t *events)
{
    if (hooked) {
        s->enabled = 1;
        pyro_line_active = s;
        if (pyro_line_events_start(s) < 0) {
            s->enabled = 0;
            pyro_line_active = NULL;
            return -1;
        }
    }
    int64_t ticks = pyro_calibration_time(loop, n);
    if (hooked) {
        pyro_line_events_stop(s);
        pyro_line_flush_all(&s->ls);
        s->enabled = 0;
        pyro_line_active = NULL;
        *events = total_hits(s);
    }
    return ticks;
}

static double clamp(double x, double lo)
{
    return x < lo ? lo : x;
}

/* Time the first `loops` loops (CAL_REPS repetitions of `calls` turns,
 * the fastest in probe units) with a scratch profiler that selects them:
 * off[], on[] and the line events recorded per run, events[]. */
static int measure(int loops, int reps, long calls, double *off, double *on, double *events)
{
    if (pyro_calibration_namespace(&cal_namespace, cal_source,
                                   "<pyrometer-line-calibration>") == NULL)
        return -1;
    PyObject *scratch = PyObject_CallNoArgs((PyObject *)&pyro_LineProfilerType);
    PyObject *n = PyLong_FromLong(calls);
    if (scratch == NULL || n == NULL)
        goto fail;
    pyro_line_profiler *s = (pyro_line_profiler *)scratch;
    for (size_t i = 0; i < sizeof(selected_names) / sizeof(selected_names[0]); i++) {
        PyObject *f = pyro_calibration_get(cal_namespace, selected_names[i]);
        if (f == NULL || pyro_line_select(s, PyFunction_GET_CODE(f), NULL) < 0)
            goto fail;
    }
    for (int l = 0; l < loops; l++) {
        PyObject *loop = pyro_calibration_get(cal_namespace, loop_names[l]);
        if (loop == NULL)
            goto fail;
        /* Warm up: let the adaptive interpreter specialise the loop. */
        uint64_t ev = 0;
        if (time_loop(s, loop, n, 0, &ev) < 0)
            goto fail;
        double best_off = 1e300, best_on = 1e300;
        for (int rep = 0; rep < reps; rep++) {
            double probe = (double)pyro_speed_probe();
            int64_t a = time_loop(s, loop, n, 0, &ev);
            int64_t b = time_loop(s, loop, n, 1, &ev);
            if (a < 0 || b < 0)
                goto fail;
            best_off = a / probe < best_off ? a / probe : best_off;
            best_on = b / probe < best_on ? b / probe : best_on;
        }
        off[l] = best_off;
        on[l] = best_on;
        events[l] = (double)ev;
    }
    Py_DECREF(n);
    Py_DECREF(scratch);
    return 0;
fail:
    Py_XDECREF(n);
    Py_XDECREF(scratch);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: line calibration failed");
    return -1;
}

int pyro_line_calibrate(pyro_line_profiler *p)
{
    double off[L_N], on[L_N], events[L_N];
    if (measure(L_N, CAL_REPS, CAL_N, off, on, events) < 0)
        return -1;
    /* on = slowdown * off + events * line + calls * (cost of the call) */
    double extra_work = off[L_WIDE] - off[L_FLAT];
    double slowdown = extra_work > 0 ? (on[L_WIDE] - on[L_FLAT]) / extra_work : 1.0;
    slowdown = slowdown < 1.02 ? 1.0 : slowdown;   /* below that, noise */
    double line = events[L_FLAT] > 0
        ? clamp((on[L_FLAT] - slowdown * off[L_FLAT]) / events[L_FLAT], 0) : 0;
    double per_call[L_N] = {0};
    for (int l = L_CALLS; l < L_N; l++)
        per_call[l] = clamp((on[l] - slowdown * off[l] - events[l] * line) / CAL_N, 0);
    p->slowdown = slowdown;
    p->measured[PYRO_LINE_COST_LINE] = line;
    p->measured[PYRO_LINE_COST_ENTER] = per_call[L_CALLS_SEL] / 2;
    p->measured[PYRO_LINE_COST_LEAVE] = per_call[L_CALLS_SEL] / 2;
    p->measured[PYRO_LINE_COST_CALL] = per_call[L_CALLS];
    p->measured[PYRO_LINE_COST_CCALL] = per_call[L_BUILTIN];
    /* The least own time a line that ran can have, for the export's floor:
     * half of what a trivial line takes unprofiled. */
    p->measured_floor = events[L_FLAT] > 0 ? off[L_FLAT] / events[L_FLAT] / 2 : 0;
    return 0;
}

/* A stored calibration still fits this process: the plain loop and the
 * loop calling unselected code, briefly, give a cost per line and per call
 * within 25 % of the stored ones (a call's cost can be wrong while a
 * line's is right).  1, 0, -1. */
int pyro_line_calibration_fits(pyro_line_profiler *p)
{
    double off[L_CALLS + 1], on[L_CALLS + 1], events[L_CALLS + 1];
    long calls = CAL_N / 5;
    if (measure(L_CALLS + 1, 3, calls, off, on, events) < 0)
        return -1;
    if (events[L_FLAT] <= 0)
        return 0;
    double line = (on[L_FLAT] - p->slowdown * off[L_FLAT]) / events[L_FLAT];
    double call = (on[L_CALLS] - p->slowdown * off[L_CALLS] - events[L_CALLS] * line) / calls;
    double stored_line = p->measured[PYRO_LINE_COST_LINE];
    double stored_call = p->measured[PYRO_LINE_COST_CALL];
    /* A call's cost is checked where it is large enough to measure (the
     * legacy hooks); under sys.monitoring unselected code costs little. */
    int call_fits = stored_call < stored_line || (call > 0.75 * stored_call && call < 1.25 * stored_call);
    return stored_line > 0 && line > 0.75 * stored_line && line < 1.25 * stored_line && call_fits;
}
