/* calltree.c: the slow paths of the call tree: node creation, recursion
 * folding, thread attachment, stack growth, unwinding. */
#include "tables/calltree.h"
#include "runtime/session.h"

#include <pythread.h>

static uint64_t next_epoch = 1;

#define NODES_PER_CHUNK 1024

struct pyro_chunk {
    pyro_chunk *next;
    size_t used;
    pyro_node nodes[NODES_PER_CHUNK];
};

int pyro_state_init(pyro_state *st)
{
    memset(st, 0, sizeof(*st));
    st->fold_depth = 64;
    st->node_soft_cap = 2000000;
    st->epoch = next_epoch++;
    return pyro_functable_init(&st->funcs);
}

void pyro_state_clear(pyro_state *st)
{
    pyro_chunk *c = st->chunks;
    while (c != NULL) {
        pyro_chunk *next = c->next;
        for (size_t i = 0; i < c->used; i++) {
            PyMem_RawFree(c->nodes[i].dyn);
            PyMem_RawFree(c->nodes[i].mem);
        }
        PyMem_RawFree(c);
        c = next;
    }
    st->chunks = NULL;
    st->node_count = 0;
    st->floored = 0;
    PyMem_RawFree(st->children.slots);
    memset(&st->children, 0, sizeof(st->children));
    pyro_thread *th = st->threads;
    while (th != NULL) {
        pyro_thread *next = th->next;
        PyMem_RawFree(th->stack);
        PyMem_RawFree(th->active);
        PyMem_RawFree(th);
        th = next;
    }
    st->threads = NULL;
    st->epoch = next_epoch++;
    st->nomemory = 0;
    st->stopped = 0;
    st->has_memory = 0;
    pyro_functable_release(&st->funcs);
}

void pyro_state_stop(pyro_state *st, int nomemory)
{
    st->nomemory |= (uint8_t)(nomemory != 0);
    st->stopped = 1;
    st->epoch = next_epoch++;   /* every thread misses its cache ... */
}

void pyro_out_of_memory(pyro_state *st)
{
    pyro_state_stop(st, 1);
    pyro_session_fail(PYRO_FAIL_NOMEMORY);   /* and every other mode stops */
}

pyro_thread *pyro_thread_attach(pyro_state *st, pyro_tstate *t)
{
    if (st->stopped || t == &pyro_tstate_none)   /* ... and finds no state: */
        return NULL;                               /* events are dropped */
    pyro_thread *th = PyMem_RawCalloc(1, sizeof(*th));
    if (th == NULL) {
        pyro_out_of_memory(st);
        return NULL;
    }
    th->ident = PyThread_get_thread_ident();
    th->cap = 128;
    th->stack = PyMem_RawMalloc(th->cap * sizeof(*th->stack));
    if (th->stack == NULL) {
        PyMem_RawFree(th);
        pyro_out_of_memory(st);
        return NULL;
    }
    memset(&th->stack[0], 0, sizeof(th->stack[0]));
    th->stack[0].node = &th->root;
    th->depth = 1;
    th->t = t;
    th->next = st->threads;
    st->threads = th;
    t->calls = th;
    t->calls_epoch = st->epoch;
    return th;
}

static pyro_node *node_alloc(pyro_state *st)
{
    if (st->node_limit && st->node_count >= st->node_limit)
        return NULL;
    pyro_chunk *c = st->chunks;
    if (c == NULL || c->used == NODES_PER_CHUNK) {
        c = PyMem_RawMalloc(sizeof(*c));
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->next = st->chunks;
        st->chunks = c;
    }
    pyro_node *n = &c->nodes[c->used++];
    memset(n, 0, sizeof(*n));
    st->node_count++;
    return n;
}

int pyro_for_each_node(pyro_state *st, pyro_node_visit visit, void *arg)
{
    for (pyro_chunk *c = st->chunks; c != NULL; c = c->next)
        for (size_t i = 0; i < c->used; i++)
            if (visit(&c->nodes[i], arg) < 0)
                return -1;
    return 0;
}

void pyro_settle(pyro_state *st)
{
    if (st->floor_py <= 0 && st->floor_builtin <= 0)
        return;
    for (pyro_chunk *c = st->chunks; c != NULL; c = c->next)
        for (size_t i = 0; i < c->used; i++) {
            pyro_node *n = &c->nodes[i];
            if (n->fold_to != NULL || n->func == NULL || n->calls == 0)
                continue;
            int64_t floor = (int64_t)n->calls * (n->func->builtin ? st->floor_builtin
                                                                  : st->floor_py);
            int64_t delta = floor - n->self_time;
            if (delta <= 0)
                continue;
            n->self_time += delta;
            n->total_time += delta;
            for (pyro_node *a = n->parent; a != NULL && a->func != NULL; a = a->parent)
                a->total_time += delta;
            st->floored++;
        }
}

/* ---- the child index ---------------------------------------------------- */

static inline size_t child_hash(const pyro_node *parent, const void *key)
{
    uint64_t h = (uint64_t)(uintptr_t)parent * 0x9E3779B97F4A7C15ull
                 ^ (uint64_t)(uintptr_t)key * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

static pyro_node *child_lookup(pyro_child_index *ix, const pyro_node *parent, const void *key)
{
    if (ix->cap == 0)
        return NULL;
    size_t mask = ix->cap - 1;
    for (size_t i = child_hash(parent, key) & mask;; i = (i + 1) & mask) {
        pyro_node *n = ix->slots[i];
        if (n == NULL)
            return NULL;
        if (n->parent == parent && n->key == key)
            return n;
    }
}

static void child_put(pyro_child_index *ix, pyro_node *n)
{
    size_t mask = ix->cap - 1;
    size_t i = child_hash(n->parent, n->key) & mask;
    while (ix->slots[i] != NULL)
        i = (i + 1) & mask;
    ix->slots[i] = n;
    ix->used++;
}

/* 0, or -1 when memory ran out. */
static int child_index_add(pyro_child_index *ix, pyro_node *n)
{
    if ((ix->used + 1) * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 1024;
        pyro_node **slots = PyMem_RawCalloc(cap, sizeof(*slots));
        if (slots == NULL)
            return -1;
        pyro_child_index bigger = {slots, cap, 0};
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i] != NULL)
                child_put(&bigger, ix->slots[i]);
        PyMem_RawFree(ix->slots);
        *ix = bigger;
    }
    child_put(ix, n);
    return 0;
}

/* The nearest ancestor of `parent` (itself included) that was called as
 * caller->f with the same caller function as `parent`: the pair
 * (parent's function -> f) is then already on the path. */
static pyro_node *recursive_edge(pyro_node *parent, pyro_func *f)
{
    pyro_func *caller = parent->func;
    if (caller == NULL)
        return NULL;
    for (pyro_node *a = parent; a->func != NULL; a = a->parent)
        if (a->func == f && a->parent->func == caller)
            return a;
    return NULL;
}

static int on_path(pyro_node *parent, pyro_func *f)
{
    for (pyro_node *a = parent; a->func != NULL; a = a->parent)
        if (a->func == f)
            return 1;
    return 0;
}

pyro_node *pyro_child_slow(pyro_state *st, pyro_thread *th, pyro_node *parent,
                           const void *key, PyObject *obj, PyObject *self_arg,
                           int kind)
{
    (void)th;
    pyro_node *prev = parent->last_hit;
    pyro_node *found = NULL;
    if (parent->nchildren > PYRO_CHILD_SCAN) {
        found = child_lookup(&st->children, parent, key);
    }
    else {
        for (pyro_node *c = parent->first_child; c != NULL; c = c->next_sibling)
            if (c->key == key) {
                found = c;
                break;
            }
    }
    if (found != NULL) {
        if (prev != NULL)
            prev->succ = found;
        parent->last_hit = found;
        return found;
    }

    pyro_func *f = kind != PYRO_PY
        ? pyro_func_of_builtin(&st->funcs, (PyMethodDef *)key, obj, self_arg)
        : pyro_func_of_code(&st->funcs, (PyCodeObject *)obj);
    pyro_node *n = f ? node_alloc(st) : NULL;
    if (n == NULL) {
        pyro_out_of_memory(st);
        return NULL;
    }
    n->key = key;
    n->func = f;
    n->func_id = f->id;
    n->parent = parent;
    n->depth = parent->depth + 1;
    n->func_recursive = (uint8_t)on_path(parent, f);
    n->hidden = parent->hidden || f->own;
    pyro_node *again = n->func_recursive ? recursive_edge(parent, f) : NULL;
    if (again != NULL) {
        n->edge_recursive = 1;
        /* Bound the tree: deep or plentiful recursion reuses the node
         * where the same caller->callee pair first appeared. */
        if (n->depth > st->fold_depth || st->node_count > st->node_soft_cap)
            n->fold_to = again;
    }
    n->next_sibling = parent->first_child;
    parent->first_child = n;
    if (++parent->nchildren > PYRO_CHILD_SCAN) {
        /* Index the children: all of them when the list grows past the
         * scan, the new one after that. */
        pyro_node *c = parent->nchildren == PYRO_CHILD_SCAN + 1 ? n : NULL;
        int failed = 0;
        for (pyro_node *x = c; x != NULL && !failed; x = x->next_sibling)
            failed = child_index_add(&st->children, x) < 0;
        if (c == NULL)
            failed = child_index_add(&st->children, n) < 0;
        if (failed) {
            parent->nchildren = 0;   /* back to the list, which still has them all */
            pyro_out_of_memory(st);
        }
    }
    if (prev != NULL)
        prev->succ = n;
    parent->last_hit = n;
    return n;
}

/* ---- folded mode --------------------------------------------------------
 * Once an alias sends a call back to an ancestor node, the stack stops
 * being the path of the node on top, and the flags set on nodes at creation
 * no longer tell recursion.  From then until the stack unwinds to where it
 * began, activations are counted one by one: every frame on the stack is
 * counted per function and per node, and pops go to the node's pyro_folded_counts. */

static int grow_active(pyro_thread *th, uint32_t func_id)
{
    if (func_id < th->active_cap)
        return 0;
    uint32_t cap = th->active_cap ? th->active_cap : 256;
    while (cap <= func_id)
        cap *= 2;
    uint32_t *a = PyMem_RawRealloc(th->active, cap * sizeof(*a));
    if (a == NULL)
        return -1;
    memset(a + th->active_cap, 0, (cap - th->active_cap) * sizeof(*a));
    th->active = a;
    th->active_cap = cap;
    return 0;
}

static int count_in(pyro_thread *th, pyro_frame *fr)
{
    pyro_node *n = fr->node;
    if (grow_active(th, n->func_id) < 0)
        return -1;
    fr->func_outer = th->active[n->func_id]++ == 0;
    fr->node_outer = n->active++ == 0;
    return 0;
}

static int begin_folded(pyro_thread *th)
{
    for (uint32_t i = 1; i < th->depth; i++)
        if (count_in(th, &th->stack[i]) < 0) {
            while (--i >= 1) {
                th->active[th->stack[i].node->func_id]--;
                th->stack[i].node->active--;
            }
            return -1;
        }
    th->fold_base = th->depth;
    return 0;
}

static void end_folded(pyro_thread *th)
{
    for (uint32_t i = 1; i < th->depth; i++) {
        th->active[th->stack[i].node->func_id]--;
        th->stack[i].node->active--;
    }
    th->fold_base = 0;
}

void pyro_enter_slow(pyro_state *st, pyro_thread *th, pyro_node *child, int64_t now)
{
    if (th->depth == th->cap) {
        uint32_t cap = th->cap * 2;
        pyro_frame *s = PyMem_RawRealloc(th->stack, cap * sizeof(*s));
        if (s == NULL)
            goto oom;
        th->stack = s;
        th->cap = cap;
    }
    if (child->fold_to != NULL) {
        if (!th->fold_base && begin_folded(th) < 0)
            goto oom;
        child->calls++;
        child = child->fold_to;
    }
    pyro_frame *fr = &th->stack[th->depth];
    fr->node = child;
    fr->start = now;
    fr->child_time = 0;
    if (th->fold_base) {
        if (child->dyn == NULL && (child->dyn = PyMem_RawCalloc(1, sizeof(pyro_folded_counts))) == NULL)
            goto oom;
        if (count_in(th, fr) < 0)
            goto oom;
    }
    th->depth++;
    return;
oom:
    pyro_out_of_memory(st);
}

/* Close the top frame at `now`, in whichever mode it was opened. */
static void pop(pyro_thread *th, int64_t now)
{
    pyro_frame *fr = &th->stack[--th->depth];
    pyro_node *n = fr->node;
    int64_t elapsed = now - fr->start;
    if (th->fold_base && th->depth >= th->fold_base) {
        pyro_folded_counts *d = n->dyn;
        th->active[n->func_id]--;
        n->active--;
        d->calls++;
        d->self_time += elapsed - fr->child_time;
        if (fr->func_outer) {
            d->prim_calls++;
            d->func_time += elapsed;
        }
        if (fr->node_outer) {
            d->total_time += elapsed;
            if (!n->edge_recursive) {
                d->edge_prim_calls++;
                d->edge_time += elapsed;
            }
        }
        if (th->depth == th->fold_base)
            end_folded(th);
    }
    else {
        n->calls++;
        n->self_time += elapsed - fr->child_time;
        n->total_time += elapsed;
    }
    fr[-1].child_time += elapsed;
}

/* Forget the top frame without recording it. */
static void discard(pyro_thread *th)
{
    pyro_frame *fr = &th->stack[--th->depth];
    if (th->fold_base && th->depth >= th->fold_base) {
        th->active[fr->node->func_id]--;
        fr->node->active--;
        if (th->depth == th->fold_base)
            end_folded(th);
    }
}

/* A return in folded mode, or one that does not match the top frame: some
 * events were not seen (profiling began or a hook was swapped mid-call).
 * If the function is further down the stack, close the frames above it;
 * otherwise ignore the event. */
void pyro_leave_slow(pyro_thread *th, const void *key, int64_t now)
{
    uint32_t i = th->depth;
    while (i > 1 && th->stack[i - 1].node->key != key)
        i--;
    if (i <= 1)
        return;
    while (th->depth >= i)
        pop(th, now);
}

void pyro_resync(pyro_state *st, const void *running)
{
    pyro_thread *th = pyro_thread_current(st);
    if (th == NULL)
        return;
    uint32_t i = th->depth;
    while (i > 1 && th->stack[i - 1].node->key != running)
        i--;
    if (i <= 1 || i == th->depth)
        return;
    int64_t now = pyro_now(th);
    while (th->depth > i)
        pop(th, now);
}

void pyro_flush_all(pyro_state *st)
{
    pyro_thread *me = st->stopped ? NULL : pyro_thread_current(st);
    for (pyro_thread *th = st->threads; th != NULL; th = th->next) {
        if (th->depth <= 1)
            continue;
        int64_t now;
        if (th == me || pyro_clock_mode != PYRO_CLOCK_CPU)
            now = pyro_now(th);
        else   /* another thread's CPU clock cannot be read from here */
            now = th->stack[th->depth - 1].start;
        /* Our own disable() call is not part of the program. */
        const void *top = th == me ? th->stack[th->depth - 1].node->key : NULL;
        if (top != NULL && (top == st->own_keys[0] || top == st->own_keys[1]))
            discard(th);
        while (th->depth > 1)
            pop(th, now);
    }
}
