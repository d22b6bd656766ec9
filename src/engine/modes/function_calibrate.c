/* function_calibrate.c: measure what the profiler itself costs per event, so that
 * the cost can be taken off the clock (overhead compensation).
 *
 * A loop calls a trivial Python function (and, with built-ins, abs() and
 * a dict's get()) n times, alternately without and with the hooks.  The
 * difference per call is the whole cost of one call's events.  Of that
 * cost, the part that falls between the enter and the leave clock reads is
 * what the profiler measured for the trivial function itself: it is
 * charged at enter, the rest at leave.  The loops have the shape of
 * ordinary code (a global function, one argument, the result kept); the
 * median of several repetitions, each an off run next to an on run, the
 * kinds taking turns within each, resists a machine busy with other work.
 *
 * Some interpreters (3.11) run every instruction slower while a profile
 * hook is set, calls or not.  That slowdown is measured on a loop without
 * calls; it is taken out of the per-call cost, and all times are divided
 * by it on export, so that reported times are those of the program running
 * without the profiler.  Built-ins' own C code is not slowed: its time is
 * stretched by the slowdown as it is recorded (pyro_leave).
 *
 * Every repetition starts with a speed probe (runtime/speed.h) and its
 * times are divided by the probe's: the costs come out in probe units,
 * the same whether the machine ran fast or slow then, and a repetition
 * whose cost strays from the others' median is an outlier (counted; when
 * too many stray, the whole calibration runs again). */
#include "modes/function_mode.h"
#include "runtime/calibrate.h"
#include "runtime/speed.h"

#include <math.h>

#define CAL_CALLS 5000
#define CAL_REPS 11
#define CAL_ATTEMPTS 3
#define OUTLIER_SHARE 0.25    /* from the median cost, either way */

static const char cal_source[] =
    "def _pyro_empty(x):\n"
    "    return x\n"
    "def _pyro_loop_py(n):\n"
    "    s = 0\n"
    "    for _ in range(n):\n"
    "        s = _pyro_empty(s)\n"
    "def _pyro_loop_c(n):\n"
    "    x = 1\n"
    "    for _ in range(n):\n"
    "        s = abs(x)\n"
    "def _pyro_loop_flat(n):\n"
    "    s = 0\n"
    "    for _ in range(n):\n"
    "        s = s + 1\n"
    "def _pyro_loop_none(n):\n"
    "    x = 1\n"
    "    for _ in range(n):\n"
    "        s = abs; s = x\n"
    "def _pyro_loop_method(n):\n"
    "    d = {}\n"
    "    for x in range(n):\n"
    "        s = d.get(x)\n"
    "def _pyro_loop_method_none(n):\n"
    "    d = {}\n"
    "    for x in range(n):\n"
    "        s = d; s = x\n"
    "_pyro_method = dict.get\n";

static PyObject *cal_namespace;   /* compiled once per process */

static PyObject *get(const char *name)
{
    return pyro_calibration_get(cal_namespace, name);   /* borrowed */
}

/* Ticks for one call of loop(n), with or without the hooks. */
static int64_t time_loop(pyro_profiler *p, PyObject *loop, PyObject *n, int hooked)
{
    if (hooked && pyro_events_start(p) < 0)
        return -1;
    int64_t ticks = pyro_calibration_time(loop, n);
    if (hooked) {
        pyro_events_stop(p);
        pyro_flush_all(&p->st);
    }
    return ticks;
}

typedef struct {
    const void *key;
    int64_t self_time;
    uint64_t calls;
} find_arg;

static int find_node(pyro_node *node, void *arg)
{
    find_arg *fa = arg;
    if (node->key == fa->key && node->fold_to == NULL) {
        fa->self_time += node->self_time;
        fa->calls += node->calls;
        if (node->dyn != NULL) {
            fa->self_time += node->dyn->self_time;
            fa->calls += node->dyn->calls;
        }
    }
    return 0;
}

/* One kind of call being calibrated: its loop, what the hooks record for
 * the called function, and for built-ins a loop that loads what the call
 * would use without calling (and without making anything, such as a tuple,
 * that would cost as much as a small call), to time the built-in's own work. */
typedef struct {
    int kind;
    const char *loop_name, *load_name;
    PyObject *loop, *load;
    const void *key;
    int64_t off[CAL_REPS], on[CAL_REPS], inner[CAL_REPS], loaded[CAL_REPS];
    uint64_t seen_calls;
    int64_t seen_self;
    int rejected;               /* repetitions whose cost strayed */
} cal_kind;

/* The probe's ticks at the start of each repetition. */
static double probe_ticks[CAL_REPS];

/* Per-repetition values in probe units: ticks / the repetition's probe. */
static void in_units(const int64_t *ticks, double *out)
{
    for (int rep = 0; rep < CAL_REPS; rep++)
        out[rep] = (double)ticks[rep] / probe_ticks[rep];
}

/* One repetition of one kind: an off run next to an on run, and the time
 * the hooks recorded inside the called function. */
static int run_kind(pyro_profiler *p, cal_kind *k, PyObject *n, int rep)
{
    k->off[rep] = time_loop(p, k->loop, n, 0);
    k->on[rep] = time_loop(p, k->loop, n, 1);
    k->loaded[rep] = k->load != NULL ? time_loop(p, k->load, n, 0) : 0;
    if (k->off[rep] < 0 || k->on[rep] < 0 || k->loaded[rep] < 0)
        return -1;
    if (k->key == NULL)
        return 0;
    /* The tree is kept from one repetition to the next, as it is while a
     * program runs: rebuilt each time, its memory would sit elsewhere and
     * cost otherwise. */
    find_arg fa = {k->key, 0, 0};
    pyro_for_each_node(&p->st, find_node, &fa);
    uint64_t calls = fa.calls - k->seen_calls;
    k->inner[rep] = calls ? (fa.self_time - k->seen_self) / (int64_t)calls : 0;
    k->seen_calls = fa.calls;
    k->seen_self = fa.self_time;
    return 0;
}

/* How much slower code without calls runs with the hooks on (>= 1). */
static double slowdown_of(cal_kind *flat)
{
    int64_t ratio[CAL_REPS];   /* per mille, each on run against its neighbouring off run */
    for (int rep = 0; rep < CAL_REPS; rep++)
        ratio[rep] = flat->off[rep] > 0 ? flat->on[rep] * 1000 / flat->off[rep] : 1000;
    int64_t r = pyro_median_i64(ratio, CAL_REPS);
    /* Below a few per cent it is noise, not a slower interpreter. */
    return r < 1050 ? 1.0 : (double)r / 1000.0;
}

/* A kind's cost per event from its repetitions, in probe units.  The
 * called function's own work without the profiler (a built-in's: its loop
 * less the loading loop, fastest runs, as the work is fixed) is kept out of
 * the enter cost; a built-in's body is C, which the interpreter's slowdown
 * does not touch. */
static void cost_of(pyro_profiler *p, cal_kind *k, double slowdown)
{
    double off[CAL_REPS], on[CAL_REPS], inner[CAL_REPS], loaded[CAL_REPS];
    in_units(k->off, off);
    in_units(k->on, on);
    in_units(k->inner, inner);
    in_units(k->loaded, loaded);
    double body = k->load != NULL ? (pyro_min_d(off, CAL_REPS) - pyro_min_d(loaded, CAL_REPS)) / CAL_CALLS : 0;
    if (body < 0)
        body = 0;
    double body_slowdown = k->kind == PYRO_PY ? slowdown : 1.0;
    /* Each repetition's on and off runs are next to each other in time, so
     * their difference sees the machine in one state; the median of those
     * differences is the cost at the machine's usual state. */
    double diff[CAL_REPS], sorted[CAL_REPS];
    double body_total = body * CAL_CALLS;
    for (int rep = 0; rep < CAL_REPS; rep++)
        sorted[rep] = diff[rep] = on[rep] - (off[rep] - body_total) * slowdown
                                  - body_total * body_slowdown;
    double mid = pyro_median_d(sorted, CAL_REPS);
    for (int rep = 0; rep < CAL_REPS; rep++)
        sorted[rep] = on[rep] - off[rep] * slowdown;
    p->measured_check[k->kind] = pyro_median_d(sorted, CAL_REPS) / CAL_CALLS;
    k->rejected = 0;
    for (int rep = 0; rep < CAL_REPS; rep++)
        if (fabs(diff[rep] - mid) > OUTLIER_SHARE * fabs(mid))
            k->rejected++;
    double per_call = mid / CAL_CALLS;
    double in = pyro_median_d(inner, CAL_REPS) - body * body_slowdown;
    if (per_call < 0)
        per_call = 0;
    if (in < 0)
        in = 0;
    if (in > per_call)
        in = per_call;
    p->measured_enter[k->kind] = in;
    p->measured_leave[k->kind] = per_call - in;
}

/* The loops by name, and the functions they call as the hooks name them. */
static int find_loops(cal_kind *kinds, int count)
{
    PyObject *empty = get("_pyro_empty");
    /* abs(), not len(): the interpreter has an instruction of its own for
     * len() that never calls it, so its call would look dearer under the
     * hooks than other built-ins' calls do. */
    PyObject *builtin = PyDict_GetItemString(PyEval_GetBuiltins(), "abs");
    PyObject *method = get("_pyro_method");
    if (empty == NULL || !PyFunction_Check(empty)
        || builtin == NULL || !PyCFunction_Check(builtin)
        || method == NULL || !Py_IS_TYPE(method, &PyMethodDescr_Type))
        return -1;
    const void *keys[PYRO_KINDS] = {
        [PYRO_PY] = PyFunction_GetCode(empty),
        [PYRO_C] = ((PyCFunctionObject *)builtin)->m_ml,
        [PYRO_C_METHOD] = ((PyMethodDescrObject *)method)->d_method,
    };
    for (int i = 0; i < count; i++) {
        cal_kind *k = &kinds[i];
        k->loop = get(k->loop_name);
        k->load = k->load_name != NULL ? get(k->load_name) : NULL;
        if (k->loop == NULL || (k->load_name != NULL && k->load == NULL))
            return -1;
        k->key = k->kind >= 0 ? keys[k->kind] : NULL;
    }
    return 0;
}

/* What the hooks charge, set aside while calibration loops run: they
 * measure the hooks' whole cost, and no speed probe may fall inside them. */
typedef struct {
    int64_t enter[PYRO_KINDS], leave[PYRO_KINDS];
    int64_t stretch;
    int64_t probes;
} held_costs;

static void hold_costs(pyro_profiler *p, held_costs *h)
{
    memcpy(h->enter, p->st.cost_enter, sizeof(h->enter));
    memcpy(h->leave, p->st.cost_leave, sizeof(h->leave));
    memset(p->st.cost_enter, 0, sizeof(h->enter));
    memset(p->st.cost_leave, 0, sizeof(h->leave));
    h->stretch = p->st.builtin_stretch;
    p->st.builtin_stretch = 0;
    h->probes = pyro_calibration_hold_probes();
}

static void release_costs(pyro_profiler *p, const held_costs *h)
{
    memcpy(p->st.cost_enter, h->enter, sizeof(h->enter));
    memcpy(p->st.cost_leave, h->leave, sizeof(h->leave));
    p->st.builtin_stretch = h->stretch;
    pyro_calibration_release_probes(h->probes);
}

/* One calibration: every repetition of every kind, then the costs.  The
 * number of repetitions rejected as outliers, or -1 + exception. */
static int calibrate_once(pyro_profiler *p, cal_kind *kinds, int count, PyObject *n)
{
    for (int i = 0; i < count; i++) {
        kinds[i].seen_calls = 0;
        kinds[i].seen_self = 0;
    }
    pyro_state_clear(&p->st);
    /* The kinds take turns within each repetition: a machine whose speed
     * changes from one moment to the next then shows every kind the same
     * mix of speeds, and their costs agree with each other. */
    int rc = 0;
    for (int rep = 0; rc == 0 && rep < CAL_REPS; rep++) {
        probe_ticks[rep] = (double)pyro_speed_probe();
        for (int i = 0; rc == 0 && i < count; i++)
            rc = run_kind(p, &kinds[i], n, rep);
    }
    if (rc == 0 && p->st.nomemory) {
        PyErr_NoMemory();   /* the session has stopped the other modes too */
        rc = -1;
    }
    pyro_state_clear(&p->st);
    if (rc < 0)
        return -1;
    double slowdown = slowdown_of(&kinds[0]);
    p->slowdown = slowdown;
    /* The least own time a call can have, for the export's floor
     * (pyro_settle): half of what an empty call costs unprofiled (the
     * caller's side of the call is the other half), or half a built-in's
     * own work. */
    double units[CAL_REPS];
    in_units(kinds[0].off, units);
    /* What the loop does besides the call: a loop that loads the callable
     * and its argument without calling (the built-ins' loading loop; `s + 1`
     * allocates on some versions, as dear as a call). */
    double flat = pyro_min_d(units, CAL_REPS);
    if (count > 2) {
        in_units(kinds[2].loaded, units);
        flat = pyro_min_d(units, CAL_REPS);
    }
    for (int i = 1; i < count; i++) {
        in_units(kinds[i].off, units);
        double off = pyro_min_d(units, CAL_REPS), base = flat;
        if (kinds[i].load != NULL) {
            in_units(kinds[i].loaded, units);
            base = pyro_min_d(units, CAL_REPS);
        }
        double floor = (off - base) / CAL_CALLS / 2;
        p->measured_floor[kinds[i].kind] = floor > 0 ? floor : 0;
    }
    int rejected = 0;
    for (int i = 1; i < count; i++) {
        cost_of(p, &kinds[i], slowdown);
        rejected += kinds[i].rejected;
    }
    return rejected;
}

int pyro_calibrate(pyro_profiler *p)
{
    if (pyro_calibration_namespace(&cal_namespace, cal_source, "<pyrometer-calibration>") == NULL)
        return -1;
    /* The loop without calls first: it gives the interpreter's slowdown,
     * which the others need (-1: not a kind of call).  The built-ins' kinds
     * last: without built-ins they are left out. */
    cal_kind kinds[] = {
        {.kind = -1, .loop_name = "_pyro_loop_flat"},
        {.kind = PYRO_PY, .loop_name = "_pyro_loop_py"},
        {.kind = PYRO_C, .loop_name = "_pyro_loop_c", .load_name = "_pyro_loop_none"},
        {.kind = PYRO_C_METHOD, .loop_name = "_pyro_loop_method",
         .load_name = "_pyro_loop_method_none"},
    };
    int all = (int)(sizeof(kinds) / sizeof(kinds[0]));
    int count = p->builtins ? all : 2;
    if (find_loops(kinds, all) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: calibration code is broken");
        return -1;
    }
    PyObject *n = PyLong_FromLong(CAL_CALLS);
    if (n == NULL)
        return -1;
    /* Warm up: let the adaptive interpreter specialise the loops. */
    for (int i = 0; i < count; i++) {
        PyObject *loops[] = {kinds[i].loop, kinds[i].load};
        for (int j = 0; j < 2 && loops[j] != NULL; j++) {
            PyObject *r = PyObject_CallOneArg(loops[j], n);
            if (r == NULL) {
                Py_DECREF(n);
                return -1;
            }
            Py_DECREF(r);
        }
    }

    held_costs held;
    hold_costs(p, &held);
    size_t saved_limit = p->st.node_limit;   /* a test's pretend limit is for the program */
    p->st.node_limit = 0;

    /* Too many strays: the machine was busy; try again and keep the
     * calmest attempt. */
    double best_enter[PYRO_KINDS] = {0}, best_leave[PYRO_KINDS] = {0}, best_slowdown = 1.0;
    double best_floor[PYRO_KINDS] = {0}, best_check[PYRO_KINDS] = {0};
    int best = -1, attempts = 0, rc = 0;
    while (attempts < CAL_ATTEMPTS) {
        attempts++;
        rc = calibrate_once(p, kinds, count, n);
        if (rc < 0)
            break;
        if (best < 0 || rc < best) {
            best = rc;
            memcpy(best_enter, p->measured_enter, sizeof(best_enter));
            memcpy(best_leave, p->measured_leave, sizeof(best_leave));
            memcpy(best_floor, p->measured_floor, sizeof(best_floor));
            memcpy(best_check, p->measured_check, sizeof(best_check));
            best_slowdown = p->slowdown;
        }
        if (rc * 4 <= CAL_REPS * (count - 1))
            break;   /* at most a quarter strayed */
    }
    Py_DECREF(n);
    p->st.node_limit = saved_limit;
    if (rc >= 0) {
        memcpy(p->measured_enter, best_enter, sizeof(best_enter));
        memcpy(p->measured_leave, best_leave, sizeof(best_leave));
        memcpy(p->measured_floor, best_floor, sizeof(best_floor));
        memcpy(p->measured_check, best_check, sizeof(best_check));
        p->slowdown = best_slowdown;
        p->cal_rejected = (uint16_t)best;
        p->cal_attempts = (uint16_t)attempts;
        /* Worth keeping once at most a quarter of its repetitions strayed:
         * the next process checks every kind against it before use, so a
         * busy machine (where a calmer one is rare) need not calibrate in
         * every process. */
        p->cal_calm = best * 4 <= CAL_REPS * (count - 1);
    }
    release_costs(p, &held);
    if (rc >= 0)
        p->calibrated = 1;
    return rc < 0 ? -1 : 0;
}

/* A stored calibration (runtime/calibration_store.h) still fits this
 * process: short runs of each kind's loop (Python calls, and built-in
 * calls when they are recorded), five repetitions of 1 000 calls each
 * beside a probe, the kinds taking turns, give per call what the
 * calibration's own loops gave (measured_check) within CHECK_SHARE.  A
 * built-in's cost can be wrong while a Python call's is right, so each
 * kind is checked.  1 if so, 0 if not, -1 + exception. */
#define CHECK_CALLS 1000
#define CHECK_REPS 5
#define CHECK_SHARE 0.3

int pyro_calibration_fits(pyro_profiler *p)
{
    if (pyro_calibration_namespace(&cal_namespace, cal_source, "<pyrometer-calibration>") == NULL)
        return -1;
    static const struct { int kind; const char *loop; } checked[] = {
        {PYRO_PY, "_pyro_loop_py"},
        {PYRO_C, "_pyro_loop_c"},
        {PYRO_C_METHOD, "_pyro_loop_method"},
    };
    int count = p->builtins ? 3 : 1;
    PyObject *loops[3];
    for (int i = 0; i < count; i++)
        if ((loops[i] = get(checked[i].loop)) == NULL)
            return -1;
    PyObject *n = PyLong_FromLong(CHECK_CALLS);
    if (n == NULL)
        return -1;
    for (int i = 0; i < count; i++) {
        PyObject *r = PyObject_CallOneArg(loops[i], n);   /* warm up */
        if (r == NULL) {
            Py_DECREF(n);
            return -1;
        }
        Py_DECREF(r);
    }
    held_costs held;
    hold_costs(p, &held);
    double diff[3][CHECK_REPS];
    int rc = 1;
    for (int rep = 0; rep < CHECK_REPS && rc > 0; rep++) {
        double probe = (double)pyro_speed_probe();
        for (int i = 0; i < count && rc > 0; i++) {
            int64_t off = time_loop(p, loops[i], n, 0);
            int64_t on = time_loop(p, loops[i], n, 1);
            if (off < 0 || on < 0)
                rc = -1;
            else
                diff[i][rep] = ((double)on - (double)off * p->slowdown) / probe / CHECK_CALLS;
        }
    }
    Py_DECREF(n);
    pyro_state_clear(&p->st);
    release_costs(p, &held);
    if (rc < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        double measured = pyro_median_d(diff[i], CHECK_REPS);
        double stored = p->measured_check[checked[i].kind];
        if (!(stored > 0 && fabs(measured - stored) <= CHECK_SHARE * stored))
            return 0;
    }
    return 1;
}
