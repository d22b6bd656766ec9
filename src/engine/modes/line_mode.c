/* line_mode.c: the LineProfiler type: selection, enable/disable, data. */
#include "modes/line_mode.h"
#include "runtime/session.h"
#include "runtime/calibration_store.h"
#include "runtime/calibrate.h"

#include <math.h>

pyro_line_profiler *pyro_line_active;
Py_ssize_t pyro_line_extra_index = -1;

/* Owner ids and pattern generations are drawn from one counter, so that
 * neither is ever reused within the process. */
static uint64_t next_id = 1;

/* Calibration is done once per process and clock. */
static struct {
    uint8_t valid;
    double cost[PYRO_LINE_COST_N];   /* probe units */
    double floor;
    double slowdown;
} calibration_cache[PYRO_CLOCK_KINDS];

/* ---- records ------------------------------------------------------------ */

static int set_extra(PyObject *code, void *value)
{
    if (pyro_code_set_extra(code, pyro_line_extra_index, value) < 0) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

static void *get_extra(PyObject *code)
{
    void *extra = NULL;
    if (pyro_code_get_extra(code, pyro_line_extra_index, &extra) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return extra;
}

int pyro_line_select(pyro_line_profiler *p, PyObject *code, PyObject *name)
{
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: add_code() takes a code object");
        return -1;
    }
    int has = PyDict_Contains(p->by_code, code);
    if (has != 0)
        return has < 0 ? -1 : 0;
    if (p->nrecs == p->caprecs) {
        Py_ssize_t cap = p->caprecs ? p->caprecs * 2 : 16;
        pyro_code_lines **recs = PyMem_RawRealloc(p->recs, (size_t)cap * sizeof(*recs));
        if (recs == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->recs = recs;
        p->caprecs = cap;
    }
    pyro_code_lines *rec = PyMem_RawCalloc(1, sizeof(*rec));
    PyObject *index = PyLong_FromSsize_t(p->nrecs);
    if (rec == NULL || index == NULL || PyDict_SetItem(p->by_code, code, index) < 0) {
        PyMem_RawFree(rec);
        Py_XDECREF(index);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return -1;
    }
    Py_DECREF(index);
    rec->code = Py_NewRef(code);
    if (name == NULL || !PyUnicode_Check(name))
        name = ((PyCodeObject *)code)->co_name;
    rec->name = Py_NewRef(name);
    rec->owner = p->id;
    rec->first_line = ((PyCodeObject *)code)->co_firstlineno;
    rec->start_offset = pyro_code_start_offset((PyCodeObject *)code);
    p->recs[p->nrecs++] = rec;
    set_extra(code, rec);
    if (p->enabled && pyro_line_events_watch(p, code) < 0)
        return -1;
    return 0;
}

/* Code that patterns never select: module bodies and comprehensions (on
 * 3.12+ the latter are part of their function anyway). */
static int selectable_by_pattern(PyObject *code)
{
    static const char *const skipped[] = {"<module>", "<listcomp>", "<dictcomp>",
                                          "<setcomp>", "<genexpr>"};
    PyObject *name = ((PyCodeObject *)code)->co_name;
    for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
        if (PyUnicode_CompareWithASCIIString(name, skipped[i]) == 0)
            return 0;
    return 1;
}

static PyObject *module_name_of(PyFrameObject *frame, PyObject *globals)
{
    if (frame != NULL)
        globals = pyro_frame_globals(frame);
    else if (globals != NULL)
        Py_INCREF(globals);
    else
        return NULL;
    PyObject *name = globals && PyDict_Check(globals)
        ? PyDict_GetItemString(globals, "__name__") : NULL;
    Py_XINCREF(name);
    Py_XDECREF(globals);
    return name;
}

/* The name a `__main__` module was found under (`pkg.__main__` for
 * `python -m pkg`, `mod` for `python -m mod`), from its __spec__, or NULL:
 * patterns naming the package select its code too. */
static PyObject *main_spec_name(PyFrameObject *frame, PyObject *globals)
{
    if (frame != NULL)
        globals = pyro_frame_globals(frame);
    else if (globals != NULL)
        Py_INCREF(globals);
    else
        return NULL;
    PyObject *name = NULL;
    PyObject *spec = PyDict_Check(globals) ? PyDict_GetItemString(globals, "__spec__") : NULL;
    if (spec != NULL && spec != Py_None) {
        name = PyObject_GetAttrString(spec, "name");
        if (name == NULL || !PyUnicode_Check(name)) {
            PyErr_Clear();
            Py_CLEAR(name);
        }
    }
    Py_DECREF(globals);
    return name;
}

pyro_code_lines *pyro_line_record_of(pyro_line_profiler *p, PyObject *code, PyFrameObject *frame,
                                     PyObject *globals)
{
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    pyro_code_lines *rec = NULL;
    PyObject *index = PyDict_GetItemWithError(p->by_code, code);
    if (index != NULL) {
        rec = p->recs[PyLong_AsSsize_t(index)];
        set_extra(code, rec);
        goto done;
    }
    PyErr_Clear();
    if (p->patterns != NULL && selectable_by_pattern(code)) {
        PyObject *module = module_name_of(frame, globals);
        PyObject *qualname = pyro_line_qualname(code, frame);
        PyObject *filename = ((PyCodeObject *)code)->co_filename;
        int hit = qualname != NULL && pyro_line_patterns_match(p, module, qualname, filename);
        if (!hit && qualname != NULL && module != NULL && PyUnicode_Check(module)
            && PyUnicode_CompareWithASCIIString(module, "__main__") == 0) {
            PyObject *spec_name = main_spec_name(frame, globals);
            hit = spec_name != NULL && pyro_line_patterns_match(p, spec_name, qualname, filename);
            Py_XDECREF(spec_name);
        }
        if (hit && pyro_line_select(p, code, qualname) == 0)
            rec = p->recs[p->nrecs - 1];
        Py_XDECREF(module);
        Py_XDECREF(qualname);
        PyErr_Clear();
        if (hit)
            goto done;
    }
    set_extra(code, (void *)(uintptr_t)((p->pattern_gen << 1) | 1));
done:
    pyro_exc_restore(&exc);
    return rec;
}

static void release_records(pyro_line_profiler *p)
{
    for (Py_ssize_t i = 0; i < p->nrecs; i++) {
        pyro_code_lines *rec = p->recs[i];
        if (get_extra(rec->code) == rec)
            set_extra(rec->code, NULL);
        Py_DECREF(rec->code);
        Py_DECREF(rec->name);
        PyMem_RawFree(rec->counts);
        PyMem_RawFree(rec->mem);
        PyMem_RawFree(rec->resume);
        PyMem_RawFree(rec->unit_line);
        PyMem_RawFree(rec->line_start);
        PyMem_RawFree(rec);
    }
    PyMem_RawFree(p->recs);
    p->recs = NULL;
    p->nrecs = p->caprecs = 0;
}

/* ---- the type ------------------------------------------------------------ */

static PyObject *lp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    if (pyro_line_extra_index < 0) {
        /* Records are owned by their profiler, which holds the code alive
         * and clears the slot first: the code never frees it. */
        pyro_line_extra_index = pyro_code_extra_index(NULL);
        if (pyro_line_extra_index < 0)
            return NULL;
    }
    pyro_line_profiler *self = (pyro_line_profiler *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    pyro_line_state_init(&self->ls);
    self->id = next_id++;
    self->pattern_gen = next_id++;
    self->compensate = 1;
    self->tool_id = -1;
    self->slowdown = 1.0;
    snprintf(self->clock, sizeof(self->clock), "wall");
    self->by_code = PyDict_New();
    self->matched = PySet_New(NULL);
    if (self->by_code == NULL || self->matched == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int lp_init(pyro_line_profiler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"clock", "compensate", "memory", NULL};
    int compensate = 1, memory = 0;
    const char *clock = "wall";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sp$p:LineProfiler", kwlist, &clock,
                                     &compensate, &memory))
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
    self->compensate = (uint8_t)compensate;
    self->memory = (uint8_t)memory;
    snprintf(self->clock, sizeof(self->clock), "%s", clock);
    return 0;
}

/* The session stops us: another mode met a failure. */
static void stop_for_session(PyObject *owner, unsigned failure)
{
    pyro_line_state_stop(&((pyro_line_profiler *)owner)->ls, failure & PYRO_FAIL_NOMEMORY);
}

static void stop_hooks(pyro_line_profiler *self)
{
    if (self->memory)
        pyro_line_memory_stop(self);
    pyro_line_events_stop(self);
    pyro_line_flush_all(&self->ls);
    self->enabled = 0;
    if (pyro_line_active == self)
        pyro_line_active = NULL;
    pyro_session_leave(PYRO_MODE_LINES, (PyObject *)self);
}

static void lp_dealloc(pyro_line_profiler *self)
{
    if (self->enabled)
        stop_hooks(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    pyro_line_state_clear(&self->ls);
    release_records(self);
    Py_CLEAR(self->by_code);
    Py_CLEAR(self->patterns);
    Py_CLEAR(self->matched);
    Py_CLEAR(self->disable);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The table's costs in ticks at the speed the probe shows now. */
static void scale_costs(pyro_line_profiler *self, int64_t probe)
{
    for (int k = 0; k < PYRO_LINE_COST_N; k++)
        self->ls.cost[k] = self->compensate
            ? (int64_t)llround(self->measured[k] * (double)probe) : 0;
}

/* The session saw the machine change speed. */
static void rescale_for_session(PyObject *owner, int64_t probe)
{
    scale_costs((pyro_line_profiler *)owner, probe);
}

/* A calibration kept by an earlier process, if it still fits; else a new
 * one, kept for the next.  Stored: the costs, the slowdown, the floor. */
static int calibrate_or_load(pyro_line_profiler *self, int clock)
{
    char name[64];
    double v[PYRO_LINE_COST_N + 2];
    snprintf(name, sizeof(name), "lines-%s", pyro_clock_name_of((pyro_clock_kind)clock));
    if (pyro_calibration_load(name, v, PYRO_LINE_COST_N + 2) && v[PYRO_LINE_COST_N] >= 1.0) {
        memcpy(self->measured, v, sizeof(self->measured));
        self->slowdown = v[PYRO_LINE_COST_N];
        self->measured_floor = v[PYRO_LINE_COST_N + 1];
        int fits = pyro_line_calibration_fits(self);
        if (fits < 0)
            return -1;
        if (fits)
            return 0;
    }
    if (pyro_line_calibrate(self) < 0)
        return -1;
    memcpy(v, self->measured, sizeof(self->measured));
    v[PYRO_LINE_COST_N] = self->slowdown;
    v[PYRO_LINE_COST_N + 1] = self->measured_floor;
    pyro_calibration_save(name, v, PYRO_LINE_COST_N + 2);
    return 0;
}

static int apply_calibration(pyro_line_profiler *self)
{
    int clock = (int)pyro_clock_mode;
    if (!self->compensate && !calibration_cache[clock].valid) {
        /* Nothing to take off: no calibration. */
        memset(self->measured, 0, sizeof(self->measured));
        self->slowdown = 1.0;
        self->measured_floor = 0;
        self->calibrated = 1;
        scale_costs(self, 0);
        return 0;
    }
    if (!calibration_cache[clock].valid) {
        if (clock == PYRO_CLOCK_TEST) {
            /* The test clock counts reads, not time: nothing to measure. */
            memset(self->measured, 0, sizeof(self->measured));
            self->slowdown = 1.0;
            self->measured_floor = 0;
        }
        else {
            /* No speed probe inside the timed loops. */
            int64_t held = pyro_calibration_hold_probes();
            int rc = calibrate_or_load(self, clock);
            pyro_calibration_release_probes(held);
            if (rc < 0)
                return -1;
        }
        calibration_cache[clock].valid = 1;
        memcpy(calibration_cache[clock].cost, self->measured, sizeof(self->measured));
        calibration_cache[clock].slowdown = self->slowdown;
        calibration_cache[clock].floor = self->measured_floor;
    }
    memcpy(self->measured, calibration_cache[clock].cost, sizeof(self->measured));
    self->slowdown = calibration_cache[clock].slowdown;
    self->measured_floor = calibration_cache[clock].floor;
    self->calibrated = 1;
    scale_costs(self, clock == PYRO_CLOCK_TEST ? 0 : pyro_session_speed());
    return 0;
}

static PyObject *lp_enable(pyro_line_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled)
        Py_RETURN_NONE;
    if (pyro_session_join(PYRO_MODE_LINES, (PyObject *)self, self->clock, stop_for_session,
                          rescale_for_session) < 0)
        return NULL;
    self->clock_kind = pyro_clock_mode;
    if (apply_calibration(self) < 0) {
        pyro_session_leave(PYRO_MODE_LINES, (PyObject *)self);
        return NULL;
    }
    /* Another profiler may have taken the slots of our code meanwhile. */
    for (Py_ssize_t i = 0; i < self->nrecs; i++)
        set_extra(self->recs[i]->code, self->recs[i]);
    self->enabled = 1;
    pyro_line_active = self;
    if (pyro_line_events_start(self) < 0
        || (self->memory && pyro_line_memory_start(self) < 0)) {
        if (self->tool_id >= 0)
            pyro_line_events_stop(self);
        self->enabled = 0;
        pyro_line_active = NULL;
        pyro_session_leave(PYRO_MODE_LINES, (PyObject *)self);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *lp_disable(pyro_line_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled)
        stop_hooks(self);
    Py_RETURN_NONE;
}

static PyObject *lp_enter(pyro_line_profiler *self, PyObject *unused)
{
    if (lp_enable(self, unused) == NULL)
        return NULL;
    Py_DECREF(Py_None);
    return Py_NewRef((PyObject *)self);
}

static PyObject *lp_exit(pyro_line_profiler *self, PyObject *args)
{
    (void)args;
    if (self->enabled)
        stop_hooks(self);
    Py_RETURN_FALSE;
}

static PyObject *lp_add_code(pyro_line_profiler *self, PyObject *args)
{
    PyObject *code, *name = NULL;
    if (!PyArg_ParseTuple(args, "O|O:add_code", &code, &name))
        return NULL;
    if (pyro_line_select(self, code, name) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *lp_add_pattern(pyro_line_profiler *self, PyObject *pattern)
{
    if (!PyUnicode_Check(pattern) || PyUnicode_GET_LENGTH(pattern) == 0) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: a pattern must be a non-empty str");
        return NULL;
    }
    if (self->patterns == NULL && (self->patterns = PyList_New(0)) == NULL)
        return NULL;
    if (PyList_Append(self->patterns, pattern) < 0)
        return NULL;
    /* Code judged before must be judged again. */
    self->pattern_gen = next_id++;
    if (self->enabled) {
        pyro_line_events_stop(self);
        if (pyro_line_events_start(self) < 0) {
            stop_hooks(self);
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *lp_unmatched(pyro_line_profiler *self, PyObject *unused)
{
    (void)unused;
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out != NULL && self->patterns && i < PyList_GET_SIZE(self->patterns); i++) {
        PyObject *pat = PyList_GET_ITEM(self->patterns, i);
        int in = PySet_Contains(self->matched, pat);
        if (in < 0 || (in == 0 && PyList_Append(out, pat) < 0))
            Py_CLEAR(out);
    }
    return out;
}

static PyObject *lp_clear(pyro_line_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: disable the profiler before clear()");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->nrecs; i++) {
        memset(self->recs[i]->counts, 0,
               (size_t)self->recs[i]->nlines * sizeof(pyro_line_count));
        PyMem_RawFree(self->recs[i]->mem);
        self->recs[i]->mem = NULL;
    }
    self->mem_peak = self->rss_start = 0;
    pyro_line_state_clear(&self->ls);
    self->ls.nomemory = 0;
    self->ls.stopped = 0;
    Py_RETURN_NONE;
}

/* [(code, name, [(line, hits, time_ns), ...]), ...] for every selected code. */
static PyObject *lp_raw(pyro_line_profiler *self, PyObject *unused)
{
    (void)unused;
    if (self->enabled) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: disable the profiler before reading its statistics");
        return NULL;
    }
    double sec_per_tick = self->calibrated ? pyro_clock_seconds_per_tick_of(self->clock_kind) : 1e-9;
    if (self->compensate && self->slowdown > 1.0)
        sec_per_tick /= self->slowdown;
    /* A line that ran keeps at least half a trivial line's own time per
     * hit: the compensation may take more off a short line than it cost
     * (each run of a line is held at 0, never below, so the sum can be 0). */
    double floor_ns = self->compensate && self->calibrated && self->clock_kind != PYRO_CLOCK_TEST
        ? self->measured_floor * (double)pyro_session_speed() * sec_per_tick * 1e9 : 0.0;
    self->floored = 0;
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out != NULL && i < self->nrecs; i++) {
        pyro_code_lines *rec = self->recs[i];
        PyObject *lines = PyList_New(0);
        for (int j = 0; lines != NULL && j < rec->nlines; j++) {
            pyro_line_count *c = &rec->counts[j];
            if (c->hits == 0 && c->time == 0 && (rec->mem == NULL || rec->mem[j].alloc_count == 0))
                continue;
            long long ns = llround((double)c->time * sec_per_tick * 1e9);
            long long least = llround((double)c->hits * floor_ns);
            if (c->hits > 0 && ns < least) {
                ns = least;
                self->floored++;
            }
            PyObject *t;
            if (self->memory) {
                /* with memory: allocated bytes, net bytes, blocks */
                pyro_line_mem m = rec->mem != NULL ? rec->mem[j] : (pyro_line_mem){0, 0, 0, 0, 0};
                t = Py_BuildValue("(iKLKKKKK)", rec->first_line + j, (unsigned long long)c->hits,
                                  ns < 0 ? 0LL : ns, (unsigned long long)m.alloc_bytes,
                                  (unsigned long long)(m.alloc_bytes - m.freed_bytes),
                                  (unsigned long long)m.alloc_count, (unsigned long long)m.usage,
                                  (unsigned long long)m.at_peak);
            } else
                t = Py_BuildValue("(iKL)", rec->first_line + j, (unsigned long long)c->hits,
                                  ns < 0 ? 0LL : ns);
            if (t == NULL || PyList_Append(lines, t) < 0)
                Py_CLEAR(lines);
            Py_XDECREF(t);
        }
        PyObject *item = lines ? Py_BuildValue("(OON)", rec->code, rec->name, lines) : NULL;
        if (item == NULL || PyList_Append(out, item) < 0)
            Py_CLEAR(out);
        Py_XDECREF(item);
    }
    return out;
}

static PyObject *lp_info(pyro_line_profiler *self, PyObject *unused)
{
    (void)unused;
    /* Costs in probe units, shown in ns at the speed the session saw last. */
    double ns = self->calibrated && self->clock_kind != PYRO_CLOCK_TEST
        ? pyro_clock_seconds_per_tick_of(self->clock_kind) * 1e9 * (double)pyro_session_speed()
        : 0.0;
    return Py_BuildValue(
        "{s:s,s:O,s:O,s:n,s:d,s:s,s:K,s:K,s:d,s:O,s:O,s:K,s:K,s:{s:d,s:d,s:d,s:d,s:d}}",
        "clock", self->calibrated ? pyro_clock_name_of(self->clock_kind) : self->clock,
        "compensate", self->compensate ? Py_True : Py_False,
        "out_of_memory", self->ls.nomemory ? Py_True : Py_False,
        "functions", self->nrecs,
        "slowdown", self->slowdown,
        "event_source", PYRO_HAVE_MONITORING ? "sys.monitoring" : "eval-frame hook+SetTrace",
        "deep_calls", (unsigned long long)self->deep_calls,
        "floored", (unsigned long long)self->floored,
        "waited_s", pyro_session_waited_seconds(),
        "memory", self->memory ? Py_True : Py_False,
        "memory_failed", self->memory_failed ? Py_True : Py_False,
        "memory_peak_bytes", (unsigned long long)self->mem_peak,
        "memory_rss_start_bytes", (unsigned long long)self->rss_start,
        "overhead_ns",
        "line", self->measured[PYRO_LINE_COST_LINE] * ns,
        "enter", self->measured[PYRO_LINE_COST_ENTER] * ns,
        "leave", self->measured[PYRO_LINE_COST_LEAVE] * ns,
        "other_call", self->measured[PYRO_LINE_COST_CALL] * ns,
        "builtin_call", self->measured[PYRO_LINE_COST_CCALL] * ns);
}

static PyObject *lp_get_enabled(pyro_line_profiler *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->enabled);
}

static PyMethodDef lp_methods[] = {
    {"enable", (PyCFunction)lp_enable, METH_NOARGS, "Start line profiling."},
    {"disable", (PyCFunction)lp_disable, METH_NOARGS, "Stop line profiling."},
    {"__enter__", (PyCFunction)lp_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)lp_exit, METH_VARARGS, NULL},
    {"add_code", (PyCFunction)lp_add_code, METH_VARARGS,
     "add_code(code, name=None): line-profile this code object."},
    {"add_pattern", (PyCFunction)lp_add_pattern, METH_O,
     "add_pattern(str): line-profile every function the pattern matches."},
    {"unmatched_patterns", (PyCFunction)lp_unmatched, METH_NOARGS,
     "The patterns that have selected nothing so far."},
    {"clear", (PyCFunction)lp_clear, METH_NOARGS, "Zero the counters, keep the selection."},
    {"_raw", (PyCFunction)lp_raw, METH_NOARGS,
     "[(code, name, [(line, hits, time_ns), ...]), ...]"},
    {"info", (PyCFunction)lp_info, METH_NOARGS, "Clock, cost per event, state."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef lp_getset[] = {
    {"enabled", (getter)lp_get_enabled, NULL, "Whether the hooks are installed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pyro_LineProfilerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.LineProfiler",
    .tp_basicsize = sizeof(pyro_line_profiler),
    .tp_dealloc = (destructor)lp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "LineProfiler(clock='wall', compensate=True): per-line hits and time.",
    .tp_weaklistoffset = offsetof(pyro_line_profiler, weakreflist),
    .tp_methods = lp_methods,
    .tp_getset = lp_getset,
    .tp_init = (initproc)lp_init,
    .tp_new = lp_new,
};
