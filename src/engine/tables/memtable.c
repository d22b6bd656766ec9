/* memtable.c: the blocks allocated while memory is profiled (see
 * memtable.h).  Linear probing, at most half full; a block taken out
 * shifts the ones after it back, so there are no tombstones and a lookup
 * stops at the first free slot. */
#include "tables/memtable.h"

static inline size_t slot_of(uintptr_t ptr, size_t cap)
{
    /* Blocks are 16-byte aligned: the low bits say nothing. */
    uint64_t h = (uint64_t)(ptr >> 4) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (cap - 1);
}

static int grow(pyro_memtable *m)
{
    size_t cap = m->cap ? m->cap * 2 : 4096;
    if (cap < m->cap || cap > SIZE_MAX / sizeof(pyro_mem_block))
        return -1;
    pyro_mem_block *slots = PyMem_RawCalloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].ptr == 0)
            continue;
        size_t j = slot_of(m->slots[i].ptr, cap);
        while (slots[j].ptr != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    PyMem_RawFree(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int pyro_memtable_put(pyro_memtable *m, void *ptr, size_t size, void *site, uint32_t index,
                      pyro_mem_block *old)
{
    old->ptr = 0;
    if (m->limit && m->used >= m->limit)
        return -1;
    if ((m->used + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    uintptr_t key = (uintptr_t)ptr;
    size_t j = slot_of(key, m->cap);
    while (m->slots[j].ptr != 0) {
        if (m->slots[j].ptr == key) {
            *old = m->slots[j];
            m->slots[j].size = size;
            m->slots[j].site = site;
            m->slots[j].index = index;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j] = (pyro_mem_block){key, size, site, index};
    m->used++;
    return 0;
}

int pyro_memtable_take(pyro_memtable *m, void *ptr, pyro_mem_block *out)
{
    if (m->used == 0)
        return 0;
    uintptr_t key = (uintptr_t)ptr;
    size_t mask = m->cap - 1, j = slot_of(key, m->cap);
    while (m->slots[j].ptr != key) {
        if (m->slots[j].ptr == 0)
            return 0;
        j = (j + 1) & mask;
    }
    *out = m->slots[j];
    m->used--;
    /* Shift back the blocks after j that probed past it. */
    size_t hole = j;
    for (size_t k = (j + 1) & mask; m->slots[k].ptr != 0; k = (k + 1) & mask) {
        size_t home = slot_of(m->slots[k].ptr, m->cap);
        /* k's block may move to the hole if its home is not in (hole, k]. */
        int between = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
        if (!between) {
            m->slots[hole] = m->slots[k];
            hole = k;
        }
    }
    m->slots[hole].ptr = 0;
    return 1;
}

void pyro_memtable_release(pyro_memtable *m)
{
    PyMem_RawFree(m->slots);
    m->slots = NULL;
    m->cap = m->used = 0;   /* the limit stays */
}
