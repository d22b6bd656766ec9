/* linetable.h: per-line counters and the per-thread line stacks.
 *
 * Each selected code object has a record (reached through a code-object
 * extra, no hashing) with one counter pair per line, indexed by the line's
 * offset from the code's first line.  Each thread keeps a stack of the
 * frames it is running: for a selected frame, the line running and when it
 * started.  A line's time runs from its own line event to the next event
 * of the same frame (next line, return, yield), so time in calls made from
 * a line counts for that line.  The event handlers are inline: they run on
 * every line of the selected code. */
#ifndef PYRO_LINETABLE_H
#define PYRO_LINETABLE_H

#include "core/compat.h"
#include "core/clock.h"
#include "runtime/tstate.h"

typedef struct {
    uint64_t hits;
    int64_t time;              /* ticks, compensated; never negative */
} pyro_line_count;

/* An instruction offset (bytes) where a generator or coroutine resumes or
 * a loop jumps back, and its line; offset -1 marks a free slot. */
typedef struct {
    int offset;
    int line;
} pyro_resume_slot;

#define PYRO_RESUME_SLOTS 64   /* a power of two */

/* What a line allocated while memory was profiled (modes/line_memory.c),
 * callees that are not selected included. */
typedef struct {
    uint64_t alloc_bytes, alloc_count;
    uint64_t freed_bytes;      /* of the blocks it allocated */
    uint64_t usage;            /* the most bytes alive (of those allocated while
                                  profiling) when it allocated */
    uint64_t at_peak;          /* its bytes alive at the last peak snapshot */
} pyro_line_mem;

typedef struct pyro_code_lines {
    PyObject *code;            /* strong reference: the record outlives no code */
    PyObject *name;            /* qualified name, for the report */
    uint64_t owner;            /* id of the line profiler that made it */
    int first_line;            /* counts[i] belongs to line first_line + i */
    int start_offset;          /* 3.11: where a fresh frame starts (resume check) */
    int nlines;
    pyro_line_count *counts;
    pyro_line_mem *mem;        /* nlines of them, or NULL: memory not profiled */
    int32_t *unit_line;        /* 3.12-3.13, long code only: the line of each unit
                                  (-1 none); see line_events_monitoring.c */
    uint8_t *line_start;       /* ... per code unit: the interpreter's mark of a
                                  line start */
    int nunits;                /* 3.12-3.13: units in the tables; -1 looked at */
    pyro_resume_slot *resume;  /* lines of resumption points and backward jumps,
                                  made at the first: the interpreter's own
                                  look-up walks the whole line table */
} pyro_code_lines;

/* A frame on a thread's stack.  On 3.9-3.11 every frame is pushed (rec is
 * NULL for code that is not selected) so that a return knows whether the
 * frame returned to needs line events; on 3.12+ only selected frames are. */
typedef struct {
    pyro_code_lines *rec;
    int line;                  /* index of the line running, -1 before the first */
    int64_t start;             /* compensated clock when it started */
    uint8_t resumed;           /* 3.12-3.13 long code: a generator just resumed */
} pyro_line_frame;

typedef struct pyro_line_thread pyro_line_thread;
struct pyro_line_thread {
    pyro_line_frame *stack;
    uint32_t depth, cap;
    uint8_t tracing;           /* 3.9-3.11: our trace function is set here */
    uint32_t seeded;           /* 3.9-3.11: the frames at the bottom of the stack
                                  that were running when profiling began */
    void **seed_frames;        /* 3.9-3.11: their frame objects, compared by
                                  identity only */
    uint8_t watching;          /* 3.9-3.11: a profile function watches them */
    PyThreadState *ts;         /* 3.9-3.11: the thread, compared by address only */
    uint32_t nested;           /* 3.9-3.11: frames evaluated through our hook, nested */
    uint32_t max_nested;       /* 3.9-3.11: past this the hook steps aside; 0 unknown */
    Py_tracefunc their_trace;  /* 3.9-3.11: the program's own trace function on */
    PyObject *their_obj;       /* this thread (a debugger, coverage), strong */
    pyro_tstate *t;            /* the thread's shared state (its overhead) */
    pyro_line_thread *next;
};

/* Costs per event, in ticks, subtracted from the clock (compensation). */
enum {
    PYRO_LINE_COST_LINE = 0,       /* a line event */
    PYRO_LINE_COST_ENTER,          /* start or resume of a selected frame */
    PYRO_LINE_COST_LEAVE,          /* return or yield of a selected frame */
    PYRO_LINE_COST_CALL,           /* 3.9-3.11: call + return of other code */
    PYRO_LINE_COST_CCALL,          /* 3.9-3.11: call + return of a built-in (0 since
                                  the eval-frame hook: built-ins send no event) */
    PYRO_LINE_COST_N
};

typedef struct {
    pyro_line_thread *threads;
    uint64_t epoch;            /* which threads' pyro_tstate.lines are ours */
    int64_t cost[PYRO_LINE_COST_N];
    uint8_t stopped;           /* a failure: no more events recorded */
    uint8_t nomemory;          /* memory ran out (here or in another mode) */
} pyro_line_state;

void pyro_line_state_init(pyro_line_state *ls);
void pyro_line_state_clear(pyro_line_state *ls);   /* threads only */
pyro_line_thread *pyro_line_thread_attach(pyro_line_state *ls, pyro_tstate *t);
int pyro_line_push_slow(pyro_line_state *ls, pyro_line_thread *th);
void pyro_line_grow(pyro_line_state *ls, pyro_code_lines *rec, int index);
/* Charge every open line of every thread up to now and empty the stacks. */
void pyro_line_flush_all(pyro_line_state *ls);
/* A table that cannot grow stops recording and tells the session, which
 * stops the other modes. */
void pyro_line_out_of_memory(pyro_line_state *ls);
/* Stop recording (the session stops us for another mode's failure). */
void pyro_line_state_stop(pyro_line_state *ls, int nomemory);
/* The line of the instruction at `offset` (bytes) of the record's code,
 * -1 if none; cached per offset. */
int pyro_line_at_offset(pyro_code_lines *rec, int offset);

#define PYRO_LINE_HOT static inline __attribute__((always_inline))

PYRO_LINE_HOT pyro_line_thread *pyro_line_thread_current(pyro_line_state *ls)
{
    pyro_tstate *t = pyro_tstate_get();
    if (PYRO_LIKELY(t->lines_epoch == ls->epoch))
        return t->lines;
    return pyro_line_thread_attach(ls, t);
}

/* The compensated clock of a thread: what every mode's hooks cost it left
 * out. */
PYRO_LINE_HOT int64_t pyro_line_now(pyro_line_thread *th)
{
    return pyro_tstate_now(th->t);
}

/* Charge the cost of one event to the thread. */
PYRO_LINE_HOT void pyro_line_charge(pyro_line_thread *th, int64_t cost)
{
    th->t->overhead += cost;
}

/* Close the line running in `fr` at `now`. */
PYRO_LINE_HOT void pyro_line_close(pyro_line_frame *fr, int64_t now)
{
    if (fr->line >= 0) {
        int64_t d = now - fr->start;
        if (d > 0)
            fr->rec->counts[fr->line].time += d;
    }
}

/* Push a frame (rec may be NULL); `line` is the line it stands on, -1 at
 * its start.  Returns 0, or -1 when memory ran out. */
PYRO_LINE_HOT int pyro_line_push(pyro_line_state *ls, pyro_line_thread *th,
                                 pyro_code_lines *rec, int line, int64_t now)
{
    if (PYRO_UNLIKELY(th->depth == th->cap) && pyro_line_push_slow(ls, th) < 0)
        return -1;
    pyro_line_frame *fr = &th->stack[th->depth++];
    fr->rec = rec;
    fr->line = -1;
    fr->start = now;
    fr->resumed = 0;
    if (rec != NULL && line >= 0) {
        int i = line - rec->first_line;
        if (i >= 0) {
            if (PYRO_UNLIKELY(i >= rec->nlines))
                pyro_line_grow(ls, rec, i);
            if (i < rec->nlines)
                fr->line = i;
        }
    }
    return 0;
}

/* A line event of `code` at `line`, in the frame on top of the stack.
 * Returns 0, or 1 when the top is not a frame of `code` (the caller then
 * pushes one: a frame that started before profiling did). */
PYRO_LINE_HOT int pyro_line_event(pyro_line_state *ls, pyro_line_thread *th,
                                  PyObject *code, int line)
{
    int64_t now = pyro_line_now(th);
    pyro_line_charge(th, ls->cost[PYRO_LINE_COST_LINE]);
    if (PYRO_UNLIKELY(th->depth == 0))
        return 1;
    pyro_line_frame *fr = &th->stack[th->depth - 1];
    pyro_code_lines *rec = fr->rec;
    if (PYRO_UNLIKELY(rec == NULL || rec->code != code))
        return 1;
    pyro_line_close(fr, now);
    int i = line - rec->first_line;
    if (PYRO_UNLIKELY((unsigned)i >= (unsigned)rec->nlines)) {
        if (i < 0) {
            fr->line = -1;
            return 0;
        }
        pyro_line_grow(ls, rec, i);
        if (i >= rec->nlines) {
            fr->line = -1;
            return 0;
        }
    }
    rec->counts[i].hits++;
    fr->line = i;
    fr->start = now;
    return 0;
}

/* The frame on top returns or yields: its line ends now. */
PYRO_LINE_HOT void pyro_line_pop(pyro_line_thread *th, int64_t now)
{
    pyro_line_frame *fr = &th->stack[--th->depth];
    if (fr->rec != NULL)
        pyro_line_close(fr, now);
}

#endif
