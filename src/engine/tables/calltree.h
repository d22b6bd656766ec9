/* calltree.h: the call tree and the per-thread call stacks.
 *
 * Every distinct call path is a node holding its own counts and times;
 * pstats' per-function and caller->callee statistics are derived from the
 * nodes when exported.  The enter/leave paths are inline: they run on every
 * call and return of the profiled program. */
#ifndef PYRO_CALLTREE_H
#define PYRO_CALLTREE_H

#include "core/compat.h"
#include "core/clock.h"
#include "runtime/tstate.h"
#include "tables/functable.h"

typedef struct pyro_node pyro_node;

/* Counters of activations made in folded mode (see pyro_thread.fold_base),
 * where the stack is no longer the node's path and recursion has to be
 * judged per activation.  Allocated only for nodes that need them. */
typedef struct {
    uint64_t calls;
    uint64_t prim_calls;       /* the function was not already running */
    uint64_t edge_prim_calls;  /* outermost activation of the node, pair not recursive */
    int64_t self_time;
    int64_t func_time;         /* outermost activations of the function */
    int64_t edge_time;         /* what edge_prim_calls took */
    int64_t total_time;        /* outermost activations of the node */
} pyro_folded_counts;

/* What a node allocated while memory was profiled (modes/function_memory.c):
 * made at its first allocation.  Net bytes are allocated less freed. */
typedef struct {
    uint64_t alloc_bytes, alloc_count;
    uint64_t freed_bytes, freed_count;   /* of the blocks it allocated */
    uint64_t at_peak;          /* its bytes alive at the last peak snapshot */
} pyro_node_mem;

struct pyro_node {
    const void *key;           /* code object or PyMethodDef, as the event names it */
    pyro_node *last_hit;       /* child found last time: loops call the same callee */
    pyro_node *succ;           /* the sibling entered after this one last time:
                                * a loop body calling a, b, c finds each in one step */
    pyro_node *first_child;
    pyro_node *next_sibling;
    pyro_node *parent;
    pyro_node *fold_to;        /* set on aliases: recursion folded onto this ancestor */
    pyro_func *func;
    pyro_folded_counts *dyn;
    pyro_node_mem *mem;        /* NULL: allocated nothing (or memory is not profiled) */
    uint32_t func_id;
    uint32_t depth;
    uint32_t active;           /* folded mode: activations open on the stack */
    uint32_t nchildren;        /* past PYRO_CHILD_SCAN, found through the child index */
    uint8_t func_recursive;    /* the function is already on the path above */
    uint8_t edge_recursive;    /* so is the caller->callee pair */
    uint8_t hidden;            /* under a call into pyrometer's own code */
    /* Activations in normal mode, where the stack is this node's path, so
     * the two flags above tell primitive calls and cumulative time. */
    uint64_t calls;            /* on an alias: calls folded through it */
    int64_t self_time;         /* ticks, children excluded */
    int64_t total_time;        /* ticks, children included */
};

typedef struct {
    pyro_node *node;
    int64_t start;
    int64_t child_time;
    uint8_t func_outer;        /* folded mode only */
    uint8_t node_outer;
} pyro_frame;

typedef struct pyro_thread pyro_thread;
struct pyro_thread {
    pyro_frame *stack;         /* stack[0] stands for the root */
    uint32_t depth, cap;       /* depth >= 1 */
    uint32_t fold_base;        /* 0, or the depth where folded mode began */
    pyro_tstate *t;            /* the thread's shared state (its overhead) */
    uint32_t *active;          /* folded mode: activations per function id */
    uint32_t active_cap;
    pyro_thread *next;
    pyro_node root;            /* the path before the first profiled call */
    unsigned long ident;
};

typedef struct pyro_chunk pyro_chunk;

/* A parent with more children than this finds them through a hash of
 * (parent, key) rather than by walking its list: a module that calls 50 000
 * functions would otherwise cost the square of that to first see them. */
#define PYRO_CHILD_SCAN 16

typedef struct {
    pyro_node **slots;         /* open addressing; NULL is free */
    size_t cap, used;          /* cap a power of two, or 0 */
} pyro_child_index;

/* Event kinds for the per-event cost tables: a Python function, a built-in
 * function, a built-in type's method called on an object (the interpreter
 * pays for the method's binding while hooks are on: a temporary bound
 * method on 3.9-3.11, the generic call path instead of a specialised one
 * on 3.11+). */
enum { PYRO_PY = 0, PYRO_C = 1, PYRO_C_METHOD = 2, PYRO_KINDS = 3 };

typedef struct pyro_state {
    pyro_functable funcs;
    pyro_chunk *chunks;        /* node arena */
    pyro_child_index children; /* (parent, key) -> child, for parents with many */
    size_t node_count;
    pyro_thread *threads;
    uint64_t epoch;            /* which threads' pyro_tstate.calls are ours */
    int64_t cost_enter[PYRO_KINDS];   /* ticks of profiler cost per event, by kind */
    int64_t cost_leave[PYRO_KINDS];
    int64_t builtin_stretch;         /* (slowdown - 1) * 2^16: see pyro_leave */
    int64_t floor_py, floor_builtin; /* ticks: a call's least own time (pyro_settle) */
    uint64_t floored;                /* nodes pyro_settle raised to their floor */
    uint32_t fold_depth;       /* recursion folds past this depth ... */
    size_t node_soft_cap;      /* ... or once the tree has this many nodes */
    size_t node_limit;         /* tests: act as if memory ran out past this */
    const void *own_keys[2];   /* our own disable() and __exit__: never recorded */
    uint8_t nomemory;          /* memory ran out (here or in another mode) */
    uint8_t stopped;           /* a failure: no more events recorded */
    uint8_t has_memory;        /* nodes carry memory: the tree exports its metrics */
} pyro_state;

int pyro_state_init(pyro_state *st);
void pyro_state_clear(pyro_state *st);   /* drop all data, keep settings */

pyro_thread *pyro_thread_attach(pyro_state *st, pyro_tstate *t);
pyro_node *pyro_child_slow(pyro_state *st, pyro_thread *th, pyro_node *parent,
                           const void *key, PyObject *obj, PyObject *self_arg,
                           int kind);
void pyro_enter_slow(pyro_state *st, pyro_thread *th, pyro_node *child, int64_t now);
void pyro_leave_slow(pyro_thread *th, const void *key, int64_t now);
/* A table that cannot grow stops recording and tells the session, which
 * stops the other modes. */
void pyro_out_of_memory(pyro_state *st);
/* Stop recording (the session stops us for another mode's failure). */
void pyro_state_stop(pyro_state *st, int nomemory);
/* The current thread runs the function whose key is `running`: frames
 * above its last one on the stack ended unseen (a hook was away); they
 * end now.  Nothing happens if it is not on the stack. */
void pyro_resync(pyro_state *st, const void *running);
/* Close every open frame of every thread, as cProfile does on disable. */
void pyro_flush_all(pyro_state *st);

/* Before an export: a node whose calls ran is never left with less own
 * time than its calls times the least a call of its kind takes (the
 * floors; 0 turns this off).  Compensation can overshoot on tiny
 * functions, and a time of 0, or below 0 so that a callee would seem to
 * take longer than its caller, is never true.  What is added to a node's
 * own time is added to its total and its ancestors' totals, so that each
 * caller still contains its callees.  Idempotent; counts the nodes raised
 * in st->floored. */
void pyro_settle(pyro_state *st);

/* Iterate over all nodes of the arena. */
typedef int (*pyro_node_visit)(pyro_node *node, void *arg);
int pyro_for_each_node(pyro_state *st, pyro_node_visit visit, void *arg);

/* This thread's stack in the tree of `st`, made at its first event. */
PYRO_HOT pyro_thread *pyro_thread_of(pyro_state *st, pyro_tstate *t)
{
    if (PYRO_LIKELY(t->calls_epoch == st->epoch))
        return t->calls;
    return pyro_thread_attach(st, t);
}

PYRO_HOT pyro_thread *pyro_thread_current(pyro_state *st)
{
    return pyro_thread_of(st, pyro_tstate_get());
}

/* The compensated clock of a thread (any thread: flush reads others'). */
PYRO_HOT int64_t pyro_now(pyro_thread *th)
{
    return pyro_tstate_now(th->t);
}

PYRO_HOT void pyro_enter(pyro_state *st, int kind, const void *key,
                         PyObject *obj, PyObject *self_arg)
{
    pyro_tstate *t = pyro_tstate_get();
    pyro_thread *th = pyro_thread_of(st, t);
    if (PYRO_UNLIKELY(th == NULL))
        return;
    int64_t now = pyro_tstate_now(t);
    t->overhead += st->cost_enter[kind];

    pyro_node *parent = th->stack[th->depth - 1].node;
    pyro_node *child = parent->last_hit;
    if (PYRO_UNLIKELY(child == NULL || child->key != key)) {
        pyro_node *next = child != NULL ? child->succ : NULL;
        if (next != NULL && next->key == key) {
            parent->last_hit = next;
            child = next;
        } else {
            child = pyro_child_slow(st, th, parent, key, obj, self_arg, kind);
            if (child == NULL)
                return;
        }
    }
    if (PYRO_UNLIKELY(child->fold_to != NULL || th->fold_base || th->depth == th->cap)) {
        pyro_enter_slow(st, th, child, now);
        return;
    }
    pyro_frame *fr = &th->stack[th->depth++];
    fr->node = child;
    fr->start = now;
    fr->child_time = 0;
}

PYRO_HOT void pyro_leave(pyro_state *st, int kind, const void *key)
{
    pyro_tstate *t = pyro_tstate_get();
    pyro_thread *th = pyro_thread_of(st, t);
    if (PYRO_UNLIKELY(th == NULL))
        return;
    int64_t now = pyro_tstate_now(t);
    t->overhead += st->cost_leave[kind];
    if (PYRO_UNLIKELY(th->depth <= 1))
        return;   /* a return from a call made before profiling began */
    pyro_frame *fr = &th->stack[th->depth - 1];
    pyro_node *n = fr->node;
    if (PYRO_UNLIKELY(n->key != key || th->fold_base)) {
        pyro_leave_slow(th, key, now);
        return;
    }
    th->depth--;
    int64_t elapsed = now - fr->start;
    if (kind != PYRO_PY && PYRO_UNLIKELY(st->builtin_stretch != 0)) {
        /* While the hooks slow the interpreter down (3.11) and times are
         * divided by that slowdown on export, a built-in's own C code still
         * runs at full speed: its time is stretched by the slowdown here,
         * so that the division gives it back unchanged.  Every enclosing
         * frame sees the stretched time, as the clock moves with it. */
        int64_t extra = ((elapsed - fr->child_time) * st->builtin_stretch) >> 16;
        t->overhead -= extra;
        elapsed += extra;
    }
    n->calls++;
    n->self_time += elapsed - fr->child_time;
    n->total_time += elapsed;
    fr[-1].child_time += elapsed;
}

#endif
