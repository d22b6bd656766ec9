/* memtable.h: the blocks allocated while memory is profiled, by address.
 *
 * Net bytes need a block's size and the call path that allocated it when
 * the block is freed: an open-addressing table keyed by the block's
 * address holds both.  Frees of blocks it does not hold (allocated before
 * profiling began) are ignored.  Its own memory comes from the RAW domain,
 * which the allocator hooks leave alone, so using it never re-enters them. */
#ifndef PYRO_MEMTABLE_H
#define PYRO_MEMTABLE_H

#include "core/compat.h"

typedef struct {
    uintptr_t ptr;             /* 0: a free slot */
    size_t size;
    void *site;                /* who allocated it (a call-tree node, a line record) */
    uint32_t index;            /* and where in it (a line record's line) */
} pyro_mem_block;

typedef struct {
    pyro_mem_block *slots;
    size_t cap, used;          /* cap a power of two, or 0 */
    size_t limit;              /* tests: act as if memory ran out past this many; 0 none */
} pyro_memtable;

/* Hold a new block.  A block already held at that address (its free went
 * unseen) is replaced and given back in *old (old->ptr != 0).  0, or -1
 * when the table could not grow (nothing changed). */
int pyro_memtable_put(pyro_memtable *m, void *ptr, size_t size, void *site, uint32_t index,
                      pyro_mem_block *old);

/* Take the block at `ptr` out: 1 and *out, or 0 when not held. */
int pyro_memtable_take(pyro_memtable *m, void *ptr, pyro_mem_block *out);

void pyro_memtable_release(pyro_memtable *m);

/* Whether the bytes alive have passed the last peak snapshot's by more
 * than 1 % (and a page): then every site's bytes alive are kept as its
 * bytes at the peak (massif's rule), so snapshots grow with the logarithm
 * of the peak and the last is within 1 % of it. */
static inline int pyro_mem_past_snapshot(uint64_t live, uint64_t snapshot)
{
    return live > snapshot + snapshot / 100 + 4096;
}

#endif
