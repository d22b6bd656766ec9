/* line_memory.c: memory charged to lines.
 *
 * With memory=True the line profiler also hooks the MEM and OBJ allocators
 * (hooks/allocator.h).  Each allocation is charged to the line running in
 * the innermost selected frame of the allocating thread, so that what
 * functions that are not selected allocate counts on the line that called
 * them, as memory_profiler counts a line's increment.  A selected function
 * called from a selected line has its own lines: its blocks count there,
 * not twice.  Allocations before a selected frame's first line count on
 * its first line (the def).  The block table keeps each block's line, so
 * a free, however much later, counts against the line that allocated it:
 * a line's net bytes are what it allocated and was still alive when
 * profiling stopped, and its bytes at the peak what was alive of it when
 * the blocks alive were at their most (within 1 %). */
#include "modes/line_mode.h"
#include "hooks/allocator.h"
#include "runtime/session.h"
#include "core/rss.h"

/* 3.9-3.11 push every frame: past this many unselected frames above the
 * innermost selected one, an allocation is not charged (a deep recursion
 * of other code under a selected line). */
#define MAX_WALK 256

/* A new peak, past the last snapshot by 1 % (massif's rule): every line's
 * bytes alive are kept as its bytes at the peak. */
static void maybe_snapshot(pyro_line_profiler *p, int now)
{
    if (!now && !pyro_mem_past_snapshot(p->mem_live, p->mem_snapshot))
        return;
    for (Py_ssize_t i = 0; i < p->nrecs; i++) {
        pyro_code_lines *rec = p->recs[i];
        if (rec->mem != NULL)
            for (int j = 0; j < rec->nlines; j++)
                rec->mem[j].at_peak = rec->mem[j].alloc_bytes - rec->mem[j].freed_bytes;
    }
    p->mem_snapshot = p->mem_live;
}

static void on_alloc(void *ctx, void *ptr, size_t size)
{
    pyro_line_profiler *p = ctx;
    if (p->memory_failed || p->ls.stopped)
        return;
    pyro_tstate *t = pyro_tls_tstate;
    if (t == NULL || t->lines == NULL || t->lines_epoch != p->ls.epoch)
        return;
    int64_t start = pyro_clock_now();
    pyro_line_thread *th = t->lines;
    pyro_line_frame *fr = NULL;
    for (uint32_t d = th->depth, walked = 0; d > 0 && walked < MAX_WALK; d--, walked++)
        if (th->stack[d - 1].rec != NULL) {
            fr = &th->stack[d - 1];
            break;
        }
    if (fr != NULL && fr->rec->nlines > 0) {
        pyro_code_lines *rec = fr->rec;
        int line = fr->line >= 0 ? fr->line : 0;
        pyro_mem_block old;
        if (rec->mem == NULL
            && (rec->mem = PyMem_RawCalloc((size_t)rec->nlines, sizeof(*rec->mem))) == NULL)
            p->memory_failed = 1;
        else if (pyro_memtable_put(&p->blocks, ptr, size, rec, (uint32_t)line, &old) < 0)
            p->memory_failed = 1;
        else {
            if (old.ptr != 0) {   /* freed unseen: count it freed now */
                ((pyro_code_lines *)old.site)->mem[old.index].freed_bytes += old.size;
                p->mem_live -= old.size;
            }
            rec->mem[line].alloc_bytes += size;
            rec->mem[line].alloc_count++;
            p->mem_live += size;
            if (p->mem_live > p->mem_peak) {
                p->mem_peak = p->mem_live;
                maybe_snapshot(p, 0);
            }
            if (p->mem_live > rec->mem[line].usage)
                rec->mem[line].usage = p->mem_live;
            pyro_session_heap_set(p->mem_live);
        }
    }
    t->overhead += pyro_clock_now() - start;
}

static void on_free(void *ctx, void *ptr)
{
    pyro_line_profiler *p = ctx;
    if (p->blocks.used == 0)
        return;
    pyro_mem_block b;
    if (!pyro_memtable_take(&p->blocks, ptr, &b))
        return;
    ((pyro_code_lines *)b.site)->mem[b.index].freed_bytes += b.size;
    p->mem_live -= b.size;
    pyro_session_heap_set(p->mem_live);
}

int pyro_line_memory_start(pyro_line_profiler *p)
{
    p->memory_failed = 0;
    p->mem_live = 0;
    p->mem_snapshot = 0;
    uint64_t rss = 0;
    if (p->rss_start == 0 && pyro_rss_now(&rss))
        p->rss_start = rss;   /* the first enable's: Mem usage starts there */
    pyro_alloc_sink sink = {on_alloc, on_free, p};
    if (pyro_allocator_start(&sink) < 0)
        return -1;
    pyro_session_heap_begin();   /* the timeline reads the bytes alive there */
    return 0;
}

void pyro_line_memory_stop(pyro_line_profiler *p)
{
    pyro_allocator_stop();
    pyro_session_heap_end();
    if (p->mem_live == p->mem_peak)   /* the peak is now */
        maybe_snapshot(p, 1);
    pyro_memtable_release(&p->blocks);
}
