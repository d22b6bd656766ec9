/* calltree.c: the slow paths of the call tree: node creation, recursion
 * folding, thread attachment, stack growth, unwinding. */
#include "calltree.h"

#include <pythread.h>

PYRO_TLS uint64_t pyro_tls_epoch;
PYRO_TLS pyro_thread *pyro_tls_thread;

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
        PyMem_RawFree(c);
        c = next;
    }
    st->chunks = NULL;
    st->node_count = 0;
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
    pyro_functable_release(&st->funcs);
}

void pyro_out_of_memory(pyro_state *st)
{
    st->nomemory = 1;
    st->stopped = 1;
    st->epoch = next_epoch++;   /* every thread misses its cache ... */
}

pyro_thread *pyro_thread_attach(pyro_state *st)
{
    if (st->stopped)            /* ... and finds no state: events are dropped */
        return NULL;
    pyro_thread *th = PyMem_RawCalloc(1, sizeof(*th));
    if (th == NULL) {
        pyro_out_of_memory(st);
        return NULL;
    }
    th->ident = PyThread_get_thread_ident();
    th->root.depth = 0;
    th->last = pyro_clock_now();
    th->next = st->threads;
    st->threads = th;
    pyro_tls_thread = th;
    pyro_tls_epoch = st->epoch;
    return th;
}

static pyro_node *node_alloc(pyro_state *st)
{
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

pyro_node *pyro_child_slow(pyro_state *st, pyro_thread *th, pyro_node *parent,
                           const void *key, PyObject *obj, PyObject *self_arg,
                           int builtin)
{
    (void)th;
    for (pyro_node *c = parent->first_child; c != NULL; c = c->next_sibling) {
        if (c->key == key) {
            parent->last_hit = c;
            return c;
        }
    }

    pyro_func *f = builtin
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
    pyro_node *again = recursive_edge(parent, f);
    if (again != NULL) {
        n->edge_recursive = 1;
        /* Bound the tree: deep or plentiful recursion reuses the node
         * where the same caller->callee pair first appeared. */
        if (n->depth > st->fold_depth || st->node_count > st->node_soft_cap)
            n->fold_to = again;
    }
    n->next_sibling = parent->first_child;
    parent->first_child = n;
    parent->last_hit = n;
    return n;
}

int pyro_grow_stack(pyro_state *st, pyro_thread *th, uint32_t func_id)
{
    if (th->depth == th->cap) {
        uint32_t cap = th->cap ? th->cap * 2 : 128;
        pyro_frame *s = PyMem_RawRealloc(th->stack, cap * sizeof(*s));
        if (s == NULL)
            goto oom;
        th->stack = s;
        th->cap = cap;
    }
    if (func_id >= th->active_cap) {
        uint32_t cap = th->active_cap ? th->active_cap : 256;
        while (cap <= func_id)
            cap *= 2;
        uint32_t *a = PyMem_RawRealloc(th->active, cap * sizeof(*a));
        if (a == NULL)
            goto oom;
        memset(a + th->active_cap, 0, (cap - th->active_cap) * sizeof(*a));
        th->active = a;
        th->active_cap = cap;
    }
    return 0;
oom:
    pyro_out_of_memory(st);
    return -1;
}

/* A return that does not match the top frame: some events were not seen
 * (profiling began or a hook was swapped mid-call).  If the function is
 * further down the stack, close the frames above it; otherwise ignore the
 * event.  Returns 1 when the matching frame is now on top. */
int pyro_unwind_to(pyro_thread *th, const void *key, int64_t now)
{
    uint32_t i = th->depth;
    while (i > 0 && th->stack[i - 1].node->key != key)
        i--;
    if (i == 0)
        return 0;
    while (th->depth > i)
        pyro_pop(th, now);
    return 1;
}

void pyro_flush_all(pyro_state *st)
{
    pyro_thread *me = st->stopped ? NULL : pyro_thread_current(st);
    for (pyro_thread *th = st->threads; th != NULL; th = th->next) {
        if (th->depth == 0)
            continue;
        int64_t now = th == me ? pyro_now(th) : th->last;
        /* Our own disable() call is not part of the program. */
        const void *top = th == me ? th->stack[th->depth - 1].node->key : NULL;
        if (top != NULL && (top == st->own_keys[0] || top == st->own_keys[1])) {
            pyro_frame *fr = &th->stack[--th->depth];
            th->active[fr->node->func_id]--;
            fr->node->active--;
        }
        while (th->depth > 0)
            pyro_pop(th, now);
    }
}
