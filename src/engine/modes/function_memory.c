/* function_memory.c: memory charged to the call tree.
 *
 * With memory=True the function profiler also hooks the MEM and OBJ
 * allocators (hooks/allocator.h).  Each allocation is charged to the node
 * on top of the allocating thread's stack, the call path running (a
 * built-in's allocations to the built-in, as cProfile would time them),
 * and held in the block table with that node, so that its free, however
 * much later, counts against the node that made it: a node's net bytes
 * are what it allocated and was still alive when profiling stopped, and
 * its bytes at the peak what was alive of it when the blocks alive were
 * at their most (within 1 %).
 * Allocations outside any profiled call (before the first call of a
 * thread) are only counted.  The time this takes is the profiler's, left
 * out of the thread's clock as the hooks' own cost is. */
#include "modes/function_mode.h"
#include "hooks/allocator.h"
#include "runtime/session.h"

static void give_up(pyro_profiler *p)
{
    /* The table cannot grow: no more memory is recorded, the rest of the
     * profile goes on, and the notes say so. */
    p->memory_failed = 1;
}

static int snapshot_node(pyro_node *n, void *arg)
{
    (void)arg;
    if (n->mem != NULL)
        n->mem->at_peak = n->mem->alloc_bytes - n->mem->freed_bytes;
    return 0;
}

/* A new peak: when the bytes alive pass the last snapshot's by more than
 * 1 % (massif's rule), every node's bytes alive are kept as its bytes at
 * the peak.  Snapshots come at most every 1 % of growth, so their number
 * grows with the logarithm of the peak, and the last one is within 1 % of
 * the true peak. */
static void maybe_snapshot(pyro_profiler *p)
{
    if (!pyro_mem_past_snapshot(p->mem_live, p->mem_snapshot))
        return;
    pyro_for_each_node(&p->st, snapshot_node, NULL);
    p->mem_snapshot = p->mem_live;
}

static void on_alloc(void *ctx, void *ptr, size_t size)
{
    pyro_profiler *p = ctx;
    if (p->memory_failed || p->st.stopped)
        return;
    int64_t start = pyro_clock_now();
    pyro_tstate *t = pyro_tls_tstate;
    pyro_node *node = NULL;
    if (t != NULL && t->calls != NULL && t->calls_epoch == p->st.epoch) {
        pyro_thread *th = t->calls;
        node = th->stack[th->depth - 1].node;
        if (node == &th->root)
            node = NULL;
        else if (node->fold_to != NULL)
            node = node->fold_to;
    }
    if (node == NULL) {
        p->mem_unattributed += size;
        p->mem_unattributed_count++;
    }
    else if (!node->hidden) {   /* pyrometer's own calls allocate for it */
        if (node->mem == NULL && (node->mem = PyMem_RawCalloc(1, sizeof(*node->mem))) == NULL) {
            give_up(p);
            goto done;
        }
        pyro_mem_block old;
        if (pyro_memtable_put(&p->blocks, ptr, size, node, 0, &old) < 0) {
            give_up(p);
            goto done;
        }
        if (old.ptr != 0) {   /* freed unseen: count it freed now */
            pyro_node_mem *m = ((pyro_node *)old.site)->mem;
            m->freed_bytes += old.size;
            m->freed_count++;
            p->mem_live -= old.size;
        }
        node->mem->alloc_bytes += size;
        node->mem->alloc_count++;
        p->st.has_memory = 1;
        p->mem_live += size;
        if (p->mem_live > p->mem_peak) {
            p->mem_peak = p->mem_live;
            maybe_snapshot(p);
        }
        pyro_session_heap_set(p->mem_live);
    }
done:
    if (t != NULL)
        t->overhead += pyro_clock_now() - start;
}

static void on_free(void *ctx, void *ptr)
{
    pyro_profiler *p = ctx;
    if (p->blocks.used == 0)
        return;
    pyro_mem_block b;
    if (!pyro_memtable_take(&p->blocks, ptr, &b))
        return;
    pyro_node_mem *m = ((pyro_node *)b.site)->mem;
    m->freed_bytes += b.size;
    m->freed_count++;
    p->mem_live -= b.size;
    pyro_session_heap_set(p->mem_live);
}

int pyro_memory_start(pyro_profiler *p)
{
    p->memory_failed = 0;
    p->mem_live = 0;
    p->mem_snapshot = 0;
    pyro_alloc_sink sink = {on_alloc, on_free, p};
    if (pyro_allocator_start(&sink) < 0)
        return -1;
    pyro_session_heap_begin();   /* the timeline reads the bytes alive there */
    return 0;
}

void pyro_memory_stop(pyro_profiler *p)
{
    pyro_allocator_stop();
    pyro_session_heap_end();
    if (p->mem_live >= p->mem_snapshot && p->mem_live == p->mem_peak)
        pyro_for_each_node(&p->st, snapshot_node, NULL);   /* the peak is now */
    /* What is still alive stays counted as net; later frees are not ours. */
    pyro_memtable_release(&p->blocks);
}
