/* function_mode.c: the Profiler type: settings, enable/disable, statistics. */
#include "modes/function_mode.h"
#include "model/calltree_export.h"
#include "hooks/profile_hook.h"
#include "runtime/session.h"
#include "runtime/calibration_store.h"

#include <math.h>

pyro_profiler *pyro_active;

static void set_own_keys(pyro_state *st);

/* Calibration is done once per process for each clock and event set. */
static struct {
    uint8_t valid;
    double enter[PYRO_KINDS], leave[PYRO_KINDS], floor[PYRO_KINDS];   /* probe units */
    double slowdown;
    uint16_t rejected, attempts;
} calibration_cache[PYRO_CLOCK_KINDS][2];

static int profiler_init(pyro_profiler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"builtins", "clock", "compensate", "fold_depth",
                             "max_nodes", "_node_limit", "memory", "_block_limit", NULL};
    int builtins = 1, compensate = 1, memory = 0;
    const char *clock = "wall";
    unsigned int fold_depth = 64;
    Py_ssize_t max_nodes = 2000000, node_limit = 0, block_limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|psp$Innpn:Profiler", kwlist,
                                     &builtins, &clock, &compensate,
                                     &fold_depth, &max_nodes, &node_limit, &memory,
                                     &block_limit))
        return -1;
    if (strcmp(clock, "wall") != 0 && strcmp(clock, "cpu") != 0 && strcmp(clock, "test") != 0) {
        PyErr_Format(PyExc_ValueError,
                     "pyrometer: unknown clock '%s' (choose 'wall' or 'cpu')", clock);
        return -1;
    }
    if (self->enabled) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: cannot re-initialise an enabled profiler");
        return -1;
    }
    self->builtins = (uint8_t)builtins;
    self->memory = (uint8_t)memory;
    self->blocks.limit = block_limit < 0 ? 0 : (size_t)block_limit;
    self->compensate = (uint8_t)compensate;
    snprintf(self->clock, sizeof(self->clock), "%s", clock);
    self->st.fold_depth = fold_depth < 2 ? 2 : fold_depth;
    self->st.node_soft_cap = max_nodes < 1 ? 1 : (size_t)max_nodes;
    self->st.node_limit = node_limit < 0 ? 0 : (size_t)node_limit;
    return 0;
}

static PyObject *profiler_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    pyro_profiler *self = (pyro_profiler *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (pyro_state_init(&self->st) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->builtins = 1;
    self->compensate = 1;
    self->tool_id = -1;
    self->slowdown = 1.0;
    snprintf(self->clock, sizeof(self->clock), "wall");
    return (PyObject *)self;
}

double pyro_data_seconds_per_tick(pyro_profiler *p)
{
    if (p->data_seconds_per_tick == 0.0) {
        double sec_per_tick = pyro_clock_seconds_per_tick_of(p->clock_kind);
        /* The interpreter's slowdown under our hooks is taken off only
         * where the built-ins' own C time is seen, and stretched back
         * (pyro_leave): without built-ins, a sleep or a C call inside a
         * function would shrink with the Python code around it. */
        if (p->compensate && p->builtins && p->slowdown > 1.0)
            sec_per_tick /= p->slowdown;
        p->data_seconds_per_tick = sec_per_tick;
    }
    return p->data_seconds_per_tick;
}

/* The session stops us: another mode met a failure. */
static void stop_for_session(PyObject *owner, unsigned failure)
{
    pyro_state_stop(&((pyro_profiler *)owner)->st, failure & PYRO_FAIL_NOMEMORY);
}

static void stop_hooks(pyro_profiler *self)
{
    if (self->memory)
        pyro_memory_stop(self);
    pyro_events_stop(self);
    pyro_flush_all(&self->st);
    self->enabled = 0;
    if (pyro_active == self)
        pyro_active = NULL;
    pyro_session_leave(PYRO_MODE_FUNCTION, (PyObject *)self);
}

static void profiler_dealloc(pyro_profiler *self)
{
    if (self->enabled)
        stop_hooks(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    pyro_state_clear(&self->st);
    Py_CLEAR(self->missing);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The tables' costs in ticks at the speed the probe shows now. */
static void scale_costs(pyro_profiler *self, int64_t probe)
{
    for (int k = 0; k < PYRO_KINDS; k++) {
        self->st.cost_enter[k] = self->compensate
            ? (int64_t)llround(self->measured_enter[k] * (double)probe) : 0;
        self->st.cost_leave[k] = self->compensate
            ? (int64_t)llround(self->measured_leave[k] * (double)probe) : 0;
    }
    /* Without compensation nothing is taken off: nothing to hold up. */
    double builtin = self->measured_floor[PYRO_C] < self->measured_floor[PYRO_C_METHOD]
        ? self->measured_floor[PYRO_C] : self->measured_floor[PYRO_C_METHOD];
    self->st.floor_py = self->compensate
        ? (int64_t)llround(self->measured_floor[PYRO_PY] * (double)probe) : 0;
    self->st.floor_builtin = self->compensate && self->builtins
        ? (int64_t)llround(builtin * (double)probe) : 0;
}

/* The session saw the machine change speed. */
static void rescale_for_session(PyObject *owner, int64_t probe)
{
    scale_costs((pyro_profiler *)owner, probe);
}

/* A calibration of nothing: no cost, no floor, no slowdown. */
static void no_costs(pyro_profiler *self)
{
    memset(self->measured_enter, 0, sizeof(self->measured_enter));
    memset(self->measured_leave, 0, sizeof(self->measured_leave));
    memset(self->measured_floor, 0, sizeof(self->measured_floor));
    self->slowdown = 1.0;
    self->cal_rejected = 0;
    self->cal_attempts = 0;
}

/* What the store keeps of a calibration: enter, leave and floor costs per
 * kind, the quick check's values per kind, and the slowdown. */
#define STORED (4 * PYRO_KINDS + 1)

static void stored_name(char *name, size_t size, int clock, int builtins)
{
    snprintf(name, size, "function-%s-%d", pyro_clock_name_of((pyro_clock_kind)clock), builtins);
}

/* A calibration kept by an earlier process, if it still fits; else a new
 * one, kept for the next. */
static int calibrate_or_load(pyro_profiler *self, int clock, int builtins)
{
    char name[64];
    double v[STORED];
    stored_name(name, sizeof(name), clock, builtins);
    if (pyro_calibration_load(name, v, STORED) && v[STORED - 1] >= 1.0) {
        memcpy(self->measured_enter, v, sizeof(self->measured_enter));
        memcpy(self->measured_leave, v + PYRO_KINDS, sizeof(self->measured_leave));
        memcpy(self->measured_floor, v + 2 * PYRO_KINDS, sizeof(self->measured_floor));
        memcpy(self->measured_check, v + 3 * PYRO_KINDS, sizeof(self->measured_check));
        self->slowdown = v[STORED - 1];
        self->cal_rejected = 0;
        self->cal_attempts = 0;   /* none run: the stored one fits */
        int fits = pyro_calibration_fits(self);
        if (fits < 0)
            return -1;
        if (fits)
            return 0;
    }
    if (pyro_calibrate(self) < 0)
        return -1;
    memcpy(v, self->measured_enter, sizeof(self->measured_enter));
    memcpy(v + PYRO_KINDS, self->measured_leave, sizeof(self->measured_leave));
    memcpy(v + 2 * PYRO_KINDS, self->measured_floor, sizeof(self->measured_floor));
    memcpy(v + 3 * PYRO_KINDS, self->measured_check, sizeof(self->measured_check));
    v[STORED - 1] = self->slowdown;
    /* Only a calm calibration is worth keeping: later processes only check it. */
    if (self->cal_calm)
        pyro_calibration_save(name, v, STORED);
    return 0;
}

static int apply_calibration(pyro_profiler *self)
{
    int clock = (int)pyro_clock_mode, b = self->builtins;
    if (!self->compensate && !calibration_cache[clock][b].valid) {
        /* Nothing to take off: no calibration (its 20-60 ms are start-up
         * a --no-compensate run should not pay). */
        no_costs(self);
        self->calibrated = 1;
        scale_costs(self, 0);
        self->st.builtin_stretch = 0;
        return 0;
    }
    if (!calibration_cache[clock][b].valid) {
        if (clock == PYRO_CLOCK_TEST)
            no_costs(self);   /* the test clock counts reads, not time */
        else if (calibrate_or_load(self, clock, b) < 0)
            return -1;
        calibration_cache[clock][b].valid = 1;
        calibration_cache[clock][b].slowdown = self->slowdown;
        calibration_cache[clock][b].rejected = self->cal_rejected;
        calibration_cache[clock][b].attempts = self->cal_attempts;
        memcpy(calibration_cache[clock][b].enter, self->measured_enter, sizeof(self->measured_enter));
        memcpy(calibration_cache[clock][b].leave, self->measured_leave, sizeof(self->measured_leave));
        memcpy(calibration_cache[clock][b].floor, self->measured_floor, sizeof(self->measured_floor));
    }
    memcpy(self->measured_enter, calibration_cache[clock][b].enter, sizeof(self->measured_enter));
    memcpy(self->measured_leave, calibration_cache[clock][b].leave, sizeof(self->measured_leave));
    memcpy(self->measured_floor, calibration_cache[clock][b].floor, sizeof(self->measured_floor));
    self->slowdown = calibration_cache[clock][b].slowdown;
    self->cal_rejected = calibration_cache[clock][b].rejected;
    self->cal_attempts = calibration_cache[clock][b].attempts;
    self->calibrated = 1;
    scale_costs(self, clock == PYRO_CLOCK_TEST ? 0 : pyro_session_speed());
    self->st.builtin_stretch = self->compensate && self->slowdown > 1.0
        ? (int64_t)((self->slowdown - 1.0) * 65536.0) : 0;
    return 0;
}

static PyObject *profiler_enable(pyro_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled)
        Py_RETURN_NONE;
    if (pyro_session_join(PYRO_MODE_FUNCTION, (PyObject *)self, self->clock, stop_for_session,
                          rescale_for_session) < 0)
        return NULL;
    self->clock_kind = pyro_clock_mode;
    set_own_keys(&self->st);
    self->data_seconds_per_tick = 0.0;   /* the data will change */
    pyro_active = self;
    self->enabled = 1;
    /* Calibration runs its loops through real hooks with empty data. */
    int has_data = self->st.node_count > 0;
    if (!has_data && apply_calibration(self) < 0)
        goto fail;
    if (has_data && !self->calibrated) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: profiler state is inconsistent");
        goto fail;
    }
    if (pyro_events_start(self) < 0)
        goto fail;
    if (self->memory && pyro_memory_start(self) < 0) {
        pyro_events_stop(self);
        goto fail;
    }
    if (self->memory)
        self->st.has_memory = 1;
    Py_RETURN_NONE;
fail:
    self->enabled = 0;
    pyro_active = NULL;
    pyro_session_leave(PYRO_MODE_FUNCTION, (PyObject *)self);
    return NULL;
}

static PyObject *profiler_disable(pyro_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled)
        stop_hooks(self);
    Py_RETURN_NONE;
}

static PyObject *profiler_enter(pyro_profiler *self, PyObject *unused)
{
    if (profiler_enable(self, unused) == NULL)
        return NULL;
    Py_DECREF(Py_None);
    return Py_NewRef((PyObject *)self);
}

static PyObject *profiler_exit(pyro_profiler *self, PyObject *args)
{
    (void)args;
    if (self->enabled)
        stop_hooks(self);
    Py_RETURN_FALSE;
}

static PyObject *profiler_clear(pyro_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: disable the profiler before clear()");
        return NULL;
    }
    pyro_state_clear(&self->st);
    self->data_seconds_per_tick = 0.0;
    self->mem_peak = self->mem_unattributed = self->mem_unattributed_count = 0;
    Py_RETURN_NONE;
}

static PyObject *profiler_stats(pyro_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: disable the profiler before reading its statistics");
        return NULL;
    }
    pyro_settle(&self->st);
    return pyro_export_pstats(&self->st, pyro_data_seconds_per_tick(self));
}

static PyObject *profiler_tree(pyro_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: disable the profiler before reading its call tree");
        return NULL;
    }
    pyro_settle(&self->st);
    return pyro_export_tree(&self->st, pyro_data_seconds_per_tick(self));
}

static int count_folded(pyro_node *n, void *arg)
{
    if (n->fold_to != NULL)
        *(uint64_t *)arg += n->calls;
    return 0;
}

static PyObject *profiler_info(pyro_profiler *self, PyObject *unused)
{
    (void)unused;
    uint64_t folded = 0;
    pyro_for_each_node(&self->st, count_folded, &folded);
    double sec_per_tick = self->calibrated ? pyro_clock_seconds_per_tick_of(self->clock_kind) : 0.0;
    /* Before 3.12: how the program's own profile functions shared the
     * slot (always at once on 3.12+, where tools have ids of their own). */
    unsigned long long shared = 0, late = 0;
    double late_seconds = 0.0;
#if !PYRO_HAVE_MONITORING
    pyro_profile_hook_stats hs;
    pyro_profile_hook_get_stats(&hs);
    shared = hs.shared;
    late = hs.late;
    late_seconds = hs.late_seconds;
#endif
    /* The costs in ns at the speed the session saw last. */
    double probe_ns = self->calibrated && pyro_clock_mode != PYRO_CLOCK_TEST
        ? (double)pyro_session_speed() * sec_per_tick * 1e9 : 0.0;
    double unit_ns = probe_ns;
    return Py_BuildValue(
        "{s:s,s:O,s:O,s:O,s:K,s:K,s:I,s:d,s:K,s:K,s:d,s:d,s:I,s:I,s:I,"
        "s:K,s:d,s:O,s:O,s:K,s:K,s:{s:d,s:d,s:d,s:d,s:d,s:d}}",
        "clock", self->calibrated ? pyro_clock_name_of(self->clock_kind) : self->clock,
        "builtins", self->builtins ? Py_True : Py_False,
        "compensate", self->compensate ? Py_True : Py_False,
        "out_of_memory", self->st.nomemory ? Py_True : Py_False,
        "folded_calls", (unsigned long long)folded,
        "nodes", (unsigned long long)self->st.node_count,
        "functions", (unsigned int)self->st.funcs.count,
        "slowdown", self->slowdown,
        "hook_shared", shared,
        "hook_taken_back_late", late,
        "hook_late_seconds", late_seconds,
        "speed_probe_ns", probe_ns,
        "speed_changes", pyro_session_speed_changes(),
        "calibration_rejected", (unsigned int)self->cal_rejected,
        "calibration_attempts", (unsigned int)self->cal_attempts,
        "floored", (unsigned long long)self->st.floored,
        "waited_s", pyro_session_waited_seconds(),
        "memory", self->memory ? Py_True : Py_False,
        "memory_failed", self->memory_failed ? Py_True : Py_False,
        "memory_peak_bytes", (unsigned long long)self->mem_peak,
        "memory_unattributed_bytes", (unsigned long long)self->mem_unattributed,
        "overhead_ns",
        "python_enter", self->measured_enter[PYRO_PY] * unit_ns,
        "python_leave", self->measured_leave[PYRO_PY] * unit_ns,
        "builtin_enter", self->measured_enter[PYRO_C] * unit_ns,
        "builtin_leave", self->measured_leave[PYRO_C] * unit_ns,
        "method_enter", self->measured_enter[PYRO_C_METHOD] * unit_ns,
        "method_leave", self->measured_leave[PYRO_C_METHOD] * unit_ns);
}

static PyObject *profiler_set_own_prefix(PyObject *unused, PyObject *prefix)
{
    (void)unused;
    if (pyro_functable_set_own_prefix(prefix) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *profiler_get_enabled(pyro_profiler *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->enabled);
}

static PyMethodDef profiler_methods[] = {
    {"enable", (PyCFunction)profiler_enable, METH_NOARGS,
     "Start profiling (all threads)."},
    {"disable", (PyCFunction)profiler_disable, METH_NOARGS,
     "Stop profiling; open calls are closed at the current time."},
    {"__enter__", (PyCFunction)profiler_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)profiler_exit, METH_VARARGS, NULL},
    {"clear", (PyCFunction)profiler_clear, METH_NOARGS, "Drop all recorded data."},
    {"get_stats", (PyCFunction)profiler_stats, METH_NOARGS,
     "The statistics as a pstats dict: {(file, line, name): (cc, nc, tt, ct, callers)}."},
    {"get_tree", (PyCFunction)profiler_tree, METH_NOARGS,
     "The call tree as a dict (docs/tree-format.md): funcs, and per node (parents\n"
     "first) parent, func, calls, self and total seconds; folded."},
    {"info", (PyCFunction)profiler_info, METH_NOARGS,
     "Clock, measured overhead per event, folded calls, out-of-memory flag."},
    {"_set_own_prefix", (PyCFunction)profiler_set_own_prefix, METH_O | METH_STATIC,
     "Files under this path prefix are pyrometer's own and left out of reports."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef profiler_getset[] = {
    {"enabled", (getter)profiler_get_enabled, NULL, "Whether the hooks are installed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pyro_ProfilerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.Profiler",
    .tp_basicsize = sizeof(pyro_profiler),
    .tp_dealloc = (destructor)profiler_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Deterministic function profiler recording the call tree.",
    .tp_weaklistoffset = offsetof(pyro_profiler, weakreflist),
    .tp_methods = profiler_methods,
    .tp_getset = profiler_getset,
    .tp_init = (initproc)profiler_init,
    .tp_new = profiler_new,
};

/* Our own methods appear as the last call before disable: never record. */
static void set_own_keys(pyro_state *st)
{
    st->own_keys[0] = &profiler_methods[1];   /* disable */
    st->own_keys[1] = &profiler_methods[3];   /* __exit__ */
}
