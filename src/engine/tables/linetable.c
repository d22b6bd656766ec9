/* linetable.c: the slow paths of the line tables: threads, growth, flush. */
#include "tables/linetable.h"
#include "runtime/session.h"

/* Epochs are never reused, so a thread's cache from an earlier state (or
 * an earlier profiler) can never look valid. */
static uint64_t next_epoch = 1;

void pyro_line_state_init(pyro_line_state *ls)
{
    memset(ls, 0, sizeof(*ls));
    ls->epoch = next_epoch++;
}

void pyro_line_state_clear(pyro_line_state *ls)
{
    pyro_line_thread *th = ls->threads;
    while (th != NULL) {
        pyro_line_thread *next = th->next;
        PyMem_RawFree(th->stack);
        PyMem_RawFree(th->seed_frames);
        Py_XDECREF(th->their_obj);
        PyMem_RawFree(th);
        th = next;
    }
    ls->threads = NULL;
    ls->epoch = next_epoch++;
}

void pyro_line_state_stop(pyro_line_state *ls, int nomemory)
{
    ls->nomemory |= (uint8_t)(nomemory != 0);
    ls->stopped = 1;
    ls->epoch = next_epoch++;   /* every thread misses its cache ... */
}

void pyro_line_out_of_memory(pyro_line_state *ls)
{
    pyro_line_state_stop(ls, 1);
    pyro_session_fail(PYRO_FAIL_NOMEMORY);   /* and every other mode stops */
}

pyro_line_thread *pyro_line_thread_attach(pyro_line_state *ls, pyro_tstate *t)
{
    if (ls->stopped || t == &pyro_tstate_none)   /* ... and finds no state: */
        return NULL;                                /* events are dropped */
    pyro_line_thread *th = PyMem_RawCalloc(1, sizeof(*th));
    if (th == NULL) {
        pyro_line_out_of_memory(ls);
        return NULL;
    }
    th->cap = 64;
    th->stack = PyMem_RawMalloc(th->cap * sizeof(*th->stack));
    if (th->stack == NULL) {
        PyMem_RawFree(th);
        pyro_line_out_of_memory(ls);
        return NULL;
    }
    th->ts = PyThreadState_Get();
    th->t = t;
    th->next = ls->threads;
    ls->threads = th;
    t->lines = th;
    t->lines_epoch = ls->epoch;
    return th;
}

int pyro_line_push_slow(pyro_line_state *ls, pyro_line_thread *th)
{
    uint32_t cap = th->cap * 2;
    pyro_line_frame *stack = PyMem_RawRealloc(th->stack, cap * sizeof(*stack));
    if (stack == NULL) {
        pyro_line_out_of_memory(ls);
        return -1;
    }
    th->stack = stack;
    th->cap = cap;
    return 0;
}

void pyro_line_grow(pyro_line_state *ls, pyro_code_lines *rec, int index)
{
    int n = rec->nlines ? rec->nlines : 16;
    while (n <= index)
        n *= 2;
    pyro_line_count *c = PyMem_RawRealloc(rec->counts, (size_t)n * sizeof(*c));
    if (c == NULL) {
        pyro_line_out_of_memory(ls);
        return;
    }
    memset(c + rec->nlines, 0, (size_t)(n - rec->nlines) * sizeof(*c));
    rec->counts = c;
    if (rec->mem != NULL) {
        pyro_line_mem *m = PyMem_RawRealloc(rec->mem, (size_t)n * sizeof(*m));
        if (m == NULL) {
            pyro_line_out_of_memory(ls);
            return;
        }
        memset(m + rec->nlines, 0, (size_t)(n - rec->nlines) * sizeof(*m));
        rec->mem = m;
    }
    rec->nlines = n;
}

void pyro_line_flush_all(pyro_line_state *ls)
{
    pyro_line_thread *me = ls->stopped ? NULL : pyro_line_thread_current(ls);
    for (pyro_line_thread *th = ls->threads; th != NULL; th = th->next) {
        /* Another thread's CPU clock cannot be read from here: its open
         * lines end where they started. */
        int readable = th == me || pyro_clock_mode != PYRO_CLOCK_CPU;
        int64_t now = readable ? pyro_line_now(th) : 0;
        while (th->depth > 0) {
            pyro_line_frame *fr = &th->stack[th->depth - 1];
            pyro_line_pop(th, readable ? now : fr->start);
        }
    }
}

int pyro_line_at_offset(pyro_code_lines *rec, int offset)
{
    if (offset < 0)
        return -1;
    if (rec->unit_line != NULL)
        return offset / 2 < rec->nunits ? rec->unit_line[offset / 2] : -1;
    if (rec->resume == NULL) {
        rec->resume = PyMem_RawMalloc(PYRO_RESUME_SLOTS * sizeof(*rec->resume));
        if (rec->resume == NULL)   /* no cache: ask the interpreter each time */
            return PyCode_Addr2Line((PyCodeObject *)rec->code, offset);
        for (int i = 0; i < PYRO_RESUME_SLOTS; i++)
            rec->resume[i].offset = -1;
    }
    /* Instructions are two bytes: consecutive ones take consecutive slots. */
    pyro_resume_slot *slot = &rec->resume[(offset >> 1) & (PYRO_RESUME_SLOTS - 1)];
    if (slot->offset != offset) {
        slot->line = PyCode_Addr2Line((PyCodeObject *)rec->code, offset);
        slot->offset = offset;
    }
    return slot->line;
}
