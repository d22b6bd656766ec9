/* allocator.h: the memory allocators' hooks (PEP 445).
 *
 * The MEM and OBJ domains' allocators are replaced by ones that call the
 * allocators they replace, then tell a sink what was allocated and freed.
 * Both domains are called with the GIL held (default builds), so the sink
 * runs under it.  A hook never fails an allocation the allocator it
 * wraps would not fail, and reports nothing for one that failed.  The
 * sink must not allocate through Python's allocators: a thread already
 * inside the sink passes straight through (a guard per thread). */
#ifndef PYRO_ALLOCATOR_H
#define PYRO_ALLOCATOR_H

#include "core/compat.h"

typedef struct {
    /* A block of `size` bytes at `ptr` was allocated. */
    void (*on_alloc)(void *ctx, void *ptr, size_t size);
    /* The block at `ptr` (not NULL) is about to be freed. */
    void (*on_free)(void *ctx, void *ptr);
    void *ctx;
} pyro_alloc_sink;

/* Start telling `sink` (copied) of every allocation: 0, or -1 + exception
 * (hooks already installed by pyrometer). */
int pyro_allocator_start(const pyro_alloc_sink *sink);

/* Stop: the allocators pyrometer replaced are put back when nothing has
 * replaced pyrometer's since (tracemalloc started after it, say); else the
 * hooks stay and pass every call straight through. */
void pyro_allocator_stop(void);

/* Whether the hooks tell a sink now. */
int pyro_allocator_active(void);

#endif
