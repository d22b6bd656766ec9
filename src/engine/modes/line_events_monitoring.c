/* line_events_monitoring.c: line events on 3.12+, through sys.monitoring.
 *
 * LINE, PY_START, PY_RESUME, PY_RETURN and PY_YIELD are turned on only for
 * the selected code objects (local events): the rest of the program pays
 * nothing.  PY_UNWIND and PY_THROW can only be global; they come with
 * exceptions and are cheap to ignore.  With patterns, PY_START is global too
 * until each code object has been judged once: code that is not selected
 * answers DISABLE and is never seen again.
 *
 * JUMP is local too: sys.settrace reports a line event for a backward jump
 * that stays on its line (a comprehension or a one-line loop going round),
 * which LINE does not; counting those keeps hits equal to CPython's own
 * line events.  Every other jump answers DISABLE once and is gone.
 *
 * 3.12 and 3.13 number the lines of long functions slowly for tools
 * (PYRO_SLOW_FAR_LINES): a LINE event on a line far from where its offset
 * alone would put it walks the line table from its start, so a function of
 * n lines costs n^2.  Code
 * with such lines gets INSTRUCTION events instead of LINE: the interpreter
 * marks its line starts when LINE is first turned on (that is read once),
 * each instruction that starts no line answers DISABLE at its first run,
 * and the line of the others comes from a table of ours.  A line start
 * counts as the interpreter would count it: unless the frame is still on
 * that line (it came from the same line), or a generator has just resumed. */
#include "modes/line_mode.h"
#include "hooks/monitoring.h"

#if PYRO_HAVE_MONITORING

#define LP(hook) ((pyro_line_profiler *)PYRO_CALLBACK_OWNER(hook))

static inline pyro_code_lines *record(pyro_line_profiler *p, PyObject *code)
{
    pyro_code_lines *rec = pyro_line_record_cached(p, code);
    if (PYRO_UNLIKELY(rec == PYRO_LINE_UNKNOWN))
        rec = pyro_line_record_of(p, code, PyEval_GetFrame(), NULL);
    return rec;
}


static PyObject *on_start(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kw)
{
    (void)nargsf;
    (void)kw;
    pyro_line_profiler *p = LP(hook);
    pyro_code_lines *rec = record(p, args[0]);
    if (rec == NULL)
        return Py_NewRef(p->disable);   /* never selected: stop asking */
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_LIKELY(th != NULL)) {
        pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_ENTER]);
        pyro_line_push(&p->ls, th, rec, -1, 0);
    }
    Py_RETURN_NONE;
}

/* A generator or coroutine goes on where it stopped: the line it stands on
 * runs again from now (the time it was suspended is not counted). */
static PyObject *on_resume(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kw)
{
    (void)nargsf;
    (void)kw;
    pyro_line_profiler *p = LP(hook);
    pyro_code_lines *rec = record(p, args[0]);
    pyro_line_thread *th = rec ? pyro_line_thread_current(&p->ls) : NULL;
    if (th != NULL) {
        int64_t now = pyro_line_now(th);
        pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_ENTER]);
        if (pyro_line_push(&p->ls, th, rec, pyro_line_at_offset(rec, (int)pyro_small_int(args[1])),
                           now) == 0)
            th->stack[th->depth - 1].resumed = 1;
    }
    Py_RETURN_NONE;
}

static PyObject *on_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kw)
{
    (void)nargsf;
    (void)kw;
    pyro_line_profiler *p = LP(hook);
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_UNLIKELY(th == NULL || th->depth == 0))
        Py_RETURN_NONE;
    pyro_line_frame *fr = &th->stack[th->depth - 1];
    /* Not ours (an exception unwinding other code), or a frame that began
     * before profiling did. */
    if (fr->rec == NULL || fr->rec->code != args[0])
        Py_RETURN_NONE;
    int64_t now = pyro_line_now(th);
    pyro_line_charge(th, p->ls.cost[PYRO_LINE_COST_LEAVE]);
    pyro_line_pop(th, now);
    Py_RETURN_NONE;
}

/* A line of a frame that was running when profiling began: push it, then
 * count the line.  Out of line, to keep on_line's hot path short. */
static __attribute__((noinline)) void line_of_older_frame(pyro_line_profiler *p,
                                                          pyro_line_thread *th,
                                                          PyObject *code, int line)
{
    pyro_code_lines *rec = record(p, code);
    if (rec != NULL && pyro_line_push(&p->ls, th, rec, -1, 0) == 0) {
        pyro_line_charge(th, -(p->ls.cost[PYRO_LINE_COST_LINE]));   /* counted once */
        pyro_line_event(&p->ls, th, code, line);
    }
}

static PyObject *on_line(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kw)
{
    (void)nargsf;
    (void)kw;
    pyro_line_profiler *p = LP(hook);
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_LIKELY(th != NULL)) {
        int line = (int)pyro_small_int(args[1]);
        if (PYRO_UNLIKELY(pyro_line_event(&p->ls, th, args[0], line)))
            line_of_older_frame(p, th, args[0], line);
    }
    Py_RETURN_NONE;
}

#if PYRO_SLOW_FAR_LINES
static PyObject *on_instruction(PyObject *hook, PyObject *const *args, size_t nargsf,
                                PyObject *kw)
{
    (void)nargsf;
    (void)kw;
    pyro_line_profiler *p = LP(hook);
    pyro_code_lines *rec = record(p, args[0]);
    int offset = (int)pyro_small_int(args[1]);
    if (rec == NULL || rec->unit_line == NULL || offset < 0 || offset / 2 >= rec->nunits
        || !rec->line_start[offset / 2])
        return Py_NewRef(p->disable);    /* no line starts here: never again */
    int line = rec->unit_line[offset / 2];
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_UNLIKELY(th == NULL))
        Py_RETURN_NONE;
    pyro_line_frame *fr = th->depth > 0 ? &th->stack[th->depth - 1] : NULL;
    if (fr != NULL && fr->rec == rec) {
        if (fr->line == line - rec->first_line && !fr->resumed)
            Py_RETURN_NONE;              /* still on that line: no line event */
        fr->resumed = 0;
    }
    if (PYRO_UNLIKELY(pyro_line_event(&p->ls, th, args[0], line)))
        line_of_older_frame(p, th, args[0], line);
    Py_RETURN_NONE;
}

static int set_local(PyObject *mon, int id, PyObject *code, long mask);

/* Long code on 3.12 and 3.13, once: whether any line is far, and then the line of
 * every code unit and the interpreter's own marks of line starts (made when
 * LINE was turned on for the code, just before).  0 (no tables when nothing
 * is far or memory is short: LINE stays, slow but right), or -1 with an
 * exception. */
static int build_far_tables(pyro_code_lines *rec)
{
    PyCodeObject *code = (PyCodeObject *)rec->code;
    Py_ssize_t nunits = Py_SIZE(code);
    rec->nunits = -1;                    /* looked at */
    if (nunits <= 0 || nunits > INT32_MAX / 2 || code->_co_monitoring == NULL
        || code->_co_monitoring->lines == NULL)
        return 0;
    int32_t *unit_line = PyMem_RawMalloc((size_t)nunits * sizeof(int32_t));
    if (unit_line == NULL)
        return 0;
    for (Py_ssize_t u = 0; u < nunits; u++)
        unit_line[u] = -1;
    PyObject *it = PyObject_CallMethod(rec->code, "co_lines", NULL);
    PyObject *entry;
    int first = code->co_firstlineno, far = 0;
    while (it != NULL && (entry = PyIter_Next(it)) != NULL) {
        long start = 0, end = 0, line = -1;
        PyObject *l = NULL;
        if (PyArg_ParseTuple(entry, "llO", &start, &end, &l) && l != Py_None)
            line = PyLong_AsLong(l);
        Py_DECREF(entry);
        if (PyErr_Occurred())
            break;
        for (long u = start / 2; line >= 0 && u < end / 2 && u < nunits; u++) {
            unit_line[u] = (int32_t)line;
            long delta = line - first - (u >> PYRO_LINE_DELTA_SHIFT);
            far |= delta >= 120 || delta <= -120;
        }
    }
    Py_XDECREF(it);
    uint8_t *line_start = far && !PyErr_Occurred() ? PyMem_RawMalloc((size_t)nunits) : NULL;
    if (line_start == NULL) {
        PyMem_RawFree(unit_line);
        return PyErr_Occurred() ? -1 : 0;
    }
    for (Py_ssize_t u = 0; u < nunits; u++)
        line_start[u] = code->_co_monitoring->lines[u].original_opcode != 0 && unit_line[u] >= 0;
    rec->unit_line = unit_line;
    rec->line_start = line_start;
    rec->nunits = (int)nunits;
    return 0;
}

/* The first time a code object is watched: LINE on (which makes the
 * interpreter mark its line starts), then the tables if it is long. */
static int check_far(PyObject *mon, int id, pyro_code_lines *rec, long mask)
{
    if (rec->unit_line != NULL || rec->nunits < 0)
        return 0;
    if (set_local(mon, id, rec->code, mask) < 0)
        return -1;
    return build_far_tables(rec);
}
#endif

static PyObject *on_jump(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kw)
{
    (void)nargsf;
    (void)kw;
    pyro_line_profiler *p = LP(hook);
    long from = pyro_small_int(args[1]), to = pyro_small_int(args[2]);
    if (from < 0 || to < 0)
        Py_RETURN_NONE;
    if (to > from)
        return Py_NewRef(p->disable);   /* forward: never a line event */
    /* A jump that stays enabled comes back every time round its loop: its
     * lines come from the record's offset cache, not the line table. */
    pyro_code_lines *rec = record(p, args[0]);
    int to_line, from_line;
    if (rec != NULL) {
        to_line = pyro_line_at_offset(rec, (int)to);
        from_line = pyro_line_at_offset(rec, (int)from);
    }
    else {
        to_line = PyCode_Addr2Line((PyCodeObject *)args[0], (int)to);
        from_line = PyCode_Addr2Line((PyCodeObject *)args[0], (int)from);
    }
    if (to_line < 0 || to_line != from_line)
        return Py_NewRef(p->disable);   /* LINE reports it at the target */
    pyro_line_thread *th = pyro_line_thread_current(&p->ls);
    if (PYRO_LIKELY(th != NULL))
        pyro_line_event(&p->ls, th, args[0], to_line);
    Py_RETURN_NONE;
}

static const pyro_monitoring_callback callbacks[] = {
    {"PY_START", on_start},
    {"PY_RESUME", on_resume},
    {"PY_THROW", on_resume},
    {"PY_RETURN", on_leave},
    {"PY_YIELD", on_leave},
    {"PY_UNWIND", on_leave},
    {"LINE", on_line},
    {"JUMP", on_jump},
#if PYRO_SLOW_FAR_LINES
    {"INSTRUCTION", on_instruction},
#endif
};
#define N_CALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))

static long local_mask(PyObject *mon)
{
    static const char *const local[] = {"PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "LINE",
                                        "JUMP"};
    long mask = 0;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        long bit = pyro_event_bit(mon, local[i]);
        if (bit < 0)
            return -1;
        mask |= bit;
    }
    return mask;
}

/* The local events of a selected code object: INSTRUCTION instead of LINE
 * where 3.12 and 3.13 number lines slowly. */
static long code_mask(PyObject *mon, pyro_code_lines *rec, long mask)
{
#if PYRO_SLOW_FAR_LINES
    if (rec->unit_line != NULL) {
        long ins = pyro_event_bit(mon, "INSTRUCTION"), line = pyro_event_bit(mon, "LINE");
        return ins < 0 || line < 0 ? -1 : (mask & ~line) | ins;
    }
#else
    (void)mon;
    (void)rec;
#endif
    return mask;
}

static int set_local(PyObject *mon, int id, PyObject *code, long mask)
{
    PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOl", id, code, mask);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

int pyro_line_events_watch(pyro_line_profiler *p, PyObject *code)
{
    if (p->tool_id < 0)
        return 0;
    PyObject *mon = pyro_monitoring();
    if (mon == NULL)
        return -1;
    long mask = local_mask(mon);
    pyro_code_lines *rec = pyro_line_record_cached(p, code);
#if PYRO_SLOW_FAR_LINES
    if (mask >= 0 && rec != NULL && rec != PYRO_LINE_UNKNOWN
        && check_far(mon, p->tool_id, rec, mask) < 0)
        mask = -1;
#endif
    if (mask >= 0 && rec != NULL && rec != PYRO_LINE_UNKNOWN)
        mask = code_mask(mon, rec, mask);
    int rc = mask < 0 ? -1 : set_local(mon, p->tool_id, code, mask);
    if (rc == 0 && p->patterns != NULL) {
        /* Its PY_START may have answered DISABLE before it was selected. */
        PyObject *r = PyObject_CallMethod(mon, "restart_events", NULL);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    Py_DECREF(mon);
    return rc;
}

int pyro_line_events_start(pyro_line_profiler *p)
{
    PyObject *mon = pyro_monitoring();
    if (mon == NULL)
        return -1;
    if (p->disable == NULL && (p->disable = PyObject_GetAttrString(mon, "DISABLE")) == NULL) {
        Py_DECREF(mon);
        return -1;
    }
    long registered;
    int id = pyro_monitoring_subscribe(mon, (PyObject *)p, callbacks, N_CALLBACKS, &registered);
    if (id < 0) {
        Py_DECREF(mon);
        return -1;
    }
    long unwind = pyro_event_bit(mon, "PY_UNWIND"), thr = pyro_event_bit(mon, "PY_THROW");
    long start = pyro_event_bit(mon, "PY_START"), mask = local_mask(mon);
    if (unwind < 0 || thr < 0 || start < 0 || mask < 0)
        goto fail;
    long global = unwind | thr;
    if (p->patterns != NULL)
        global |= start;
    PyObject *r = PyObject_CallMethod(mon, "set_events", "il", id, global);
    if (r == NULL)
        goto fail;
    Py_DECREF(r);
    for (Py_ssize_t i = 0; i < p->nrecs; i++) {
#if PYRO_SLOW_FAR_LINES
        if (check_far(mon, id, p->recs[i], mask) < 0)
            goto fail;
#endif
        long m = code_mask(mon, p->recs[i], mask);
        if (m < 0 || set_local(mon, id, p->recs[i]->code, m) < 0)
            goto fail;
    }
    if (p->patterns != NULL) {
        /* Code that answered DISABLE to an earlier session is asked again. */
        r = PyObject_CallMethod(mon, "restart_events", NULL);
        if (r == NULL)
            goto fail;
        Py_DECREF(r);
    }
    p->tool_id = id;
    Py_DECREF(mon);
    return 0;
fail:
    for (Py_ssize_t i = 0; i < p->nrecs; i++)
        if (set_local(mon, id, p->recs[i]->code, 0) < 0)
            PyErr_Clear();
    pyro_monitoring_unsubscribe(mon, id, callbacks, N_CALLBACKS);
    Py_DECREF(mon);
    return -1;
}

void pyro_line_events_stop(pyro_line_profiler *p)
{
    if (p->tool_id < 0)
        return;
    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyObject *mon = pyro_monitoring();
    if (mon != NULL) {
        /* Local events outlive the tool id on 3.12 and 3.13: clear them. */
        for (Py_ssize_t i = 0; i < p->nrecs; i++)
            if (set_local(mon, p->tool_id, p->recs[i]->code, 0) < 0)
                PyErr_Clear();
        pyro_monitoring_unsubscribe(mon, p->tool_id, callbacks, N_CALLBACKS);
        Py_DECREF(mon);
    }
    PyErr_Clear();
    pyro_exc_restore(&exc);
    p->tool_id = -1;
}

#endif /* PYRO_HAVE_MONITORING */
