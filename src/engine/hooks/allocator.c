/* allocator.c: the memory allocators' hooks (see allocator.h). */
#include "hooks/allocator.h"

/* One hooked domain: what it replaced, and the allocator pyrometer put in. */
typedef struct {
    PyMemAllocatorDomain domain;
    PyMemAllocatorEx prev;
    PyMemAllocatorEx ours;
    int installed;
} hooked_domain;

static hooked_domain domains[2] = {{.domain = PYMEM_DOMAIN_MEM}, {.domain = PYMEM_DOMAIN_OBJ}};
static pyro_alloc_sink sink;
static int telling;                /* a sink is set: tell it */
static PYRO_TLS int in_sink;       /* this thread is inside the sink */

static inline void told_alloc(void *ptr, size_t size)
{
    if (ptr != NULL && telling && !in_sink) {
        in_sink = 1;
        sink.on_alloc(sink.ctx, ptr, size);
        in_sink = 0;
    }
}

static inline void told_free(void *ptr)
{
    if (ptr != NULL && telling && !in_sink) {
        in_sink = 1;
        sink.on_free(sink.ctx, ptr);
        in_sink = 0;
    }
}

static void *hook_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *prev = ctx;
    void *ptr = prev->malloc(prev->ctx, size);
    told_alloc(ptr, size);
    return ptr;
}

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *prev = ctx;
    void *ptr = prev->calloc(prev->ctx, nelem, elsize);
    told_alloc(ptr, nelem * elsize);   /* the allocator checked the product */
    return ptr;
}

static void *hook_realloc(void *ctx, void *old, size_t size)
{
    PyMemAllocatorEx *prev = ctx;
    /* The old block is told freed only once the new one exists: a failed
     * realloc leaves the old block as it was. */
    void *ptr = prev->realloc(prev->ctx, old, size);
    if (ptr != NULL) {
        told_free(old);
        told_alloc(ptr, size);
    }
    return ptr;
}

static void hook_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *prev = ctx;
    told_free(ptr);
    prev->free(prev->ctx, ptr);
}

int pyro_allocator_start(const pyro_alloc_sink *s)
{
    if (telling) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: memory is already being profiled");
        return -1;
    }
    sink = *s;
    for (int i = 0; i < 2; i++) {
        hooked_domain *d = &domains[i];
        if (d->installed)
            continue;   /* left in place by an earlier stop: passes through */
        PyMem_GetAllocator(d->domain, &d->prev);
        d->ours = (PyMemAllocatorEx){&d->prev, hook_malloc, hook_calloc, hook_realloc, hook_free};
        PyMem_SetAllocator(d->domain, &d->ours);
        d->installed = 1;
    }
    telling = 1;
    return 0;
}

void pyro_allocator_stop(void)
{
    telling = 0;
    for (int i = 0; i < 2; i++) {
        hooked_domain *d = &domains[i];
        if (!d->installed)
            continue;
        PyMemAllocatorEx now;
        PyMem_GetAllocator(d->domain, &now);
        if (now.malloc == hook_malloc && now.ctx == &d->prev) {
            PyMem_SetAllocator(d->domain, &d->prev);
            d->installed = 0;
        }
    }
}

int pyro_allocator_active(void)
{
    return telling;
}
