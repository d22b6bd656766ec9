/* calltree.h: the call tree and the per-thread call stacks.
 *
 * Every distinct call path is a node holding its own counts and times;
 * pstats' per-function and caller->callee statistics are derived from the
 * nodes when exported.  The enter/leave paths are inline: they run on every
 * call and return of the profiled program. */
#ifndef PYRO_CALLTREE_H
#define PYRO_CALLTREE_H

#include "compat.h"
#include "clock.h"
#include "functable.h"

typedef struct pyro_node pyro_node;
struct pyro_node {
    const void *key;           /* code object or PyMethodDef, as the event names it */
    pyro_node *last_hit;       /* child found last time: loops call the same callee */
    pyro_node *first_child;
    pyro_node *next_sibling;
    pyro_node *parent;
    pyro_node *fold_to;        /* set on aliases: recursion folded onto this ancestor */
    pyro_func *func;
    uint32_t func_id;
    uint32_t depth;
    uint32_t active;           /* activations open on the stack (>1 only when folded) */
    uint8_t edge_recursive;    /* the caller->callee pair is already on the path */
    uint64_t calls;            /* on an alias: calls folded through it */
    uint64_t prim_calls;       /* calls while the function was not already running */
    uint64_t edge_prim_calls;  /* calls not recursive for the caller->callee pair */
    int64_t self_time;         /* ticks, children excluded */
    int64_t func_time;         /* ticks of outermost activations of the function */
    int64_t total_time;        /* ticks of outermost activations of this node */
};

typedef struct {
    pyro_node *node;
    int64_t start;
    int64_t child_time;
    uint8_t func_outer;
    uint8_t node_outer;
} pyro_frame;

typedef struct pyro_thread pyro_thread;
struct pyro_thread {
    pyro_thread *next;
    pyro_node root;            /* the path before the first profiled call */
    pyro_frame *stack;
    uint32_t depth, cap;
    uint32_t *active;          /* per function id: activations on this stack */
    uint32_t active_cap;
    int64_t overhead;          /* profiler cost so far, taken off the clock */
    int64_t last;              /* last reading of the compensated clock */
    unsigned long ident;
};

typedef struct pyro_chunk pyro_chunk;

/* Event kinds for the per-event cost tables. */
enum { PYRO_PY = 0, PYRO_C = 1 };

typedef struct pyro_state {
    pyro_functable funcs;
    pyro_chunk *chunks;        /* node arena */
    size_t node_count;
    pyro_thread *threads;
    uint64_t epoch;            /* which thread list the TLS cache points into */
    int64_t cost_enter[2];     /* ticks of profiler cost per event, by kind */
    int64_t cost_leave[2];
    uint32_t fold_depth;       /* recursion folds past this depth ... */
    size_t node_soft_cap;      /* ... or once the tree has this many nodes */
    const void *own_keys[2];   /* our own disable() and __exit__: never recorded */
    uint8_t nomemory;
    uint8_t stopped;           /* out of memory: no more events recorded */
} pyro_state;

extern PYRO_TLS uint64_t pyro_tls_epoch;
extern PYRO_TLS pyro_thread *pyro_tls_thread;

int pyro_state_init(pyro_state *st);
void pyro_state_clear(pyro_state *st);   /* drop all data, keep settings */

pyro_thread *pyro_thread_attach(pyro_state *st);
pyro_node *pyro_child_slow(pyro_state *st, pyro_thread *th, pyro_node *parent,
                           const void *key, PyObject *obj, PyObject *self_arg,
                           int builtin);
int pyro_grow_stack(pyro_state *st, pyro_thread *th, uint32_t func_id);
int pyro_unwind_to(pyro_thread *th, const void *key, int64_t now);
void pyro_out_of_memory(pyro_state *st);
/* Close every open frame of every thread, as cProfile does on disable. */
void pyro_flush_all(pyro_state *st);

/* Iterate over all nodes of the arena. */
typedef int (*pyro_node_visit)(pyro_node *node, void *arg);
int pyro_for_each_node(pyro_state *st, pyro_node_visit visit, void *arg);

static inline pyro_thread *pyro_thread_current(pyro_state *st)
{
    if (PYRO_LIKELY(pyro_tls_epoch == st->epoch))
        return pyro_tls_thread;
    return pyro_thread_attach(st);
}

/* The compensated clock: raw time less the profiler's own cost so far,
 * never going backwards. */
static inline int64_t pyro_now(pyro_thread *th)
{
    int64_t t = pyro_clock_now() - th->overhead;
    if (PYRO_UNLIKELY(t < th->last))
        t = th->last;
    th->last = t;
    return t;
}

static inline void pyro_enter(pyro_state *st, int kind, const void *key,
                              PyObject *obj, PyObject *self_arg)
{
    pyro_thread *th = pyro_thread_current(st);
    if (PYRO_UNLIKELY(th == NULL))
        return;
    int64_t now = pyro_now(th);
    th->overhead += st->cost_enter[kind];

    pyro_node *parent = th->depth ? th->stack[th->depth - 1].node : &th->root;
    pyro_node *child = parent->last_hit;
    if (PYRO_UNLIKELY(child == NULL || child->key != key)) {
        child = pyro_child_slow(st, th, parent, key, obj, self_arg, kind);
        if (child == NULL)
            return;
    }
    if (PYRO_UNLIKELY(child->fold_to != NULL)) {
        child->calls++;
        child = child->fold_to;
    }
    if (PYRO_UNLIKELY(th->depth == th->cap || child->func_id >= th->active_cap)) {
        if (pyro_grow_stack(st, th, child->func_id) < 0)
            return;
    }
    pyro_frame *fr = &th->stack[th->depth++];
    fr->node = child;
    fr->start = now;
    fr->child_time = 0;
    fr->func_outer = th->active[child->func_id]++ == 0;
    fr->node_outer = child->active++ == 0;
}

/* Close the top frame at `now`. */
static inline void pyro_pop(pyro_thread *th, int64_t now)
{
    pyro_frame *fr = &th->stack[--th->depth];
    pyro_node *n = fr->node;
    int64_t elapsed = now - fr->start;
    n->calls++;
    n->self_time += elapsed - fr->child_time;
    th->active[n->func_id]--;
    n->active--;
    if (fr->func_outer) {
        n->prim_calls++;
        n->func_time += elapsed;
    }
    if (fr->node_outer) {
        n->total_time += elapsed;
        n->edge_prim_calls += !n->edge_recursive;
    }
    if (th->depth)
        th->stack[th->depth - 1].child_time += elapsed;
}

static inline void pyro_leave(pyro_state *st, int kind, const void *key)
{
    pyro_thread *th = pyro_thread_current(st);
    if (PYRO_UNLIKELY(th == NULL))
        return;
    int64_t now = pyro_now(th);
    th->overhead += st->cost_leave[kind];
    if (PYRO_UNLIKELY(th->depth == 0))
        return;   /* a return from a call made before profiling began */
    if (PYRO_UNLIKELY(th->stack[th->depth - 1].node->key != key)) {
        if (!pyro_unwind_to(th, key, now))
            return;
    }
    pyro_pop(th, now);
}

#endif
