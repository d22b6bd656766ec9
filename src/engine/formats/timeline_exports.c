/* timeline_exports.c: a timeline in other tools' formats: memory_profiler's
 * mprof .dat and valgrind massif's massif.out (see timeline_writers.h).
 *
 * mprof: "CMDLINE <command>", then "MEM <MiB> <Unix time>" per sample and
 * "FUNC <name> <MiB> <start> <MiB> <end> <depth>" per bracketed call, as
 * `mprof run` writes them and `mprof plot` reads them (fields split on
 * single spaces, so names carry none).
 *
 * massif: "desc:", "cmd:", "time_unit: ms", then snapshots, each with
 * time, mem_heap_B, mem_heap_extra_B, mem_stacks_B and heap_tree; at most
 * MAX_SNAPSHOTS of them (massif's own default), evenly chosen, the peak
 * always among them.  With the heap's breakdown (memory profiled too), the
 * peak's snapshot is "heap_tree=peak": massif's inverted tree, the
 * functions that allocated at the top and their callers under them,
 * paths under 1 % of the total summed into one "below massif's threshold"
 * line as massif writes it.  ms_print reads it; it strips '#' to the end
 * of a line as a comment, so names carry none. */
#include "formats/timeline_writers.h"
#include "core/text_out.h"

#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define MAX_SNAPSHOTS 100
#define MAX_DEPTH 30           /* massif's --depth */
#define MAX_INVERTED (1u << 20)
#define THRESHOLD 1.0          /* per cent, massif's --threshold */

/* `s` with the characters a line-based format cannot hold replaced: line
 * breaks and controls by a space, and each of `bad` by '_'. */
static void put_clean(pyro_text *t, const char *s, const char *bad)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        pyro_text_char(t, c < 0x20 || c == 0x7f ? ' ' : strchr(bad, c) != NULL ? '_' : (char)c);
    }
}

/* ---- mprof --------------------------------------------------------------- */

int pyro_timeline_mprof_write(PyObject *path, const pyro_timeline_view *v)
{
    int which = pyro_timeline_view_main(v);
    pyro_text t = PYRO_TEXT_INIT;
    pyro_text_str(&t, "CMDLINE ");
    put_clean(&t, v->cmd != NULL && v->cmd[0] ? v->cmd : "python", "");
    pyro_text_char(&t, '\n');
    for (size_t i = 0; i < v->npoints; i++) {
        uint64_t m = pyro_mem_value(&v->points[i], which);
        if (m != PYRO_MEM_UNKNOWN)
            pyro_text_printf(&t, "MEM %.6f %.4f\n", (double)m / MIB,
                             v->start_epoch + (double)v->points[i].t / 1e9);
    }
    for (size_t i = 0; i < v->nspans; i++) {
        const pyro_mem_span *s = &v->spans[i];
        uint64_t m0 = pyro_mem_value(&s->start, which), m1 = pyro_mem_value(&s->end, which);
        if (m0 == PYRO_MEM_UNKNOWN || m1 == PYRO_MEM_UNKNOWN)
            continue;
        pyro_text_str(&t, "FUNC ");
        put_clean(&t, v->names[s->name][0] ? v->names[s->name] : "?", " ");
        pyro_text_printf(&t, " %.4f %.4f %.4f %.4f %u\n", (double)m0 / MIB,
                         v->start_epoch + (double)s->start.t / 1e9, (double)m1 / MIB,
                         v->start_epoch + (double)s->end.t / 1e9, s->depth);
    }
    return pyro_text_write(&t, path);
}

/* ---- massif's inverted tree ------------------------------------------------ */

typedef struct {
    uint32_t name;
    uint32_t parent;           /* 0 for the top's children; the top is node 0 */
    uint64_t bytes;
} inode;

typedef struct {
    inode *nodes;
    size_t n, cap;
    uint32_t *slots;           /* hash of (parent, name) -> node + 1; 0 empty */
    size_t nslots;
} inverted;

static size_t slot_of(const inverted *iv, uint32_t parent, uint32_t name)
{
    uint64_t h = ((uint64_t)parent * 0x9E3779B97F4A7C15ull)
               ^ ((uint64_t)name * 0xC2B2AE3D27D4EB4Full);
    return (size_t)(h ^ (h >> 29)) & (iv->nslots - 1);
}

/* The child `name` of `parent`, made if new: its index, 0 when none can
 * be made (the tree is full: the caller stops going deeper), or -1 when
 * memory ran out. */
static int64_t child(inverted *iv, uint32_t parent, uint32_t name)
{
    size_t s = slot_of(iv, parent, name);
    while (iv->slots[s] != 0) {
        const inode *x = &iv->nodes[iv->slots[s] - 1];
        if (x->parent == parent && x->name == name)
            return iv->slots[s] - 1;
        s = (s + 1) & (iv->nslots - 1);
    }
    if (iv->n >= MAX_INVERTED)
        return 0;
    if (iv->n == iv->cap) {
        size_t cap = iv->cap * 2;
        inode *grown = PyMem_RawRealloc(iv->nodes, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        iv->nodes = grown;
        iv->cap = cap;
    }
    if ((iv->n + 1) * 2 > iv->nslots) {   /* keep the table half empty */
        size_t nslots = iv->nslots * 2;
        uint32_t *slots = PyMem_RawCalloc(nslots, sizeof(*slots));
        if (slots == NULL)
            return -1;
        PyMem_RawFree(iv->slots);
        iv->slots = slots;
        iv->nslots = nslots;
        for (size_t i = 1; i < iv->n; i++) {
            size_t k = slot_of(iv, iv->nodes[i].parent, iv->nodes[i].name);
            while (iv->slots[k] != 0)
                k = (k + 1) & (iv->nslots - 1);
            iv->slots[k] = (uint32_t)i + 1;
        }
        s = slot_of(iv, parent, name);
        while (iv->slots[s] != 0)
            s = (s + 1) & (iv->nslots - 1);
    }
    inode x = {name, parent, 0};
    iv->nodes[iv->n] = x;
    iv->slots[s] = (uint32_t)iv->n + 1;
    return (int64_t)iv->n++;
}

/* Each path that holds bytes, read from the allocating function up to the
 * root (at most MAX_DEPTH frames), added into the inverted tree. */
static int invert(inverted *iv, const pyro_timeline_view *v)
{
    iv->cap = 1024;
    iv->nslots = 2048;
    iv->nodes = PyMem_RawMalloc(iv->cap * sizeof(*iv->nodes));
    iv->slots = PyMem_RawCalloc(iv->nslots, sizeof(*iv->slots));
    if (iv->nodes == NULL || iv->slots == NULL)
        return -1;
    inode top = {UINT32_MAX, UINT32_MAX, 0};
    iv->nodes[0] = top;
    iv->n = 1;
    for (size_t i = 0; i < v->nnodes; i++) {
        uint64_t b = v->nodes[i].bytes;
        if (b == 0)
            continue;
        iv->nodes[0].bytes += b;
        uint32_t at = 0;
        int64_t cur = (int64_t)i;
        for (int depth = 0; cur >= 0 && depth < MAX_DEPTH; depth++) {
            int64_t c = child(iv, at, v->nodes[cur].name);
            if (c < 0)
                return -1;
            if (c == 0)
                break;
            iv->nodes[c].bytes += b;
            at = (uint32_t)c;
            cur = v->nodes[cur].parent;
        }
    }
    return 0;
}

typedef struct {
    const inverted *iv;
    const pyro_timeline_view *v;
    uint32_t *first, *next;    /* children lists, by bytes, largest first */
    uint64_t total;
} tree_out;

typedef struct {
    uint64_t bytes;
    uint32_t node;
} by_size;

static int smaller_first(const void *a, const void *b)
{
    const by_size *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? -1 : 1;
    return (x->node < y->node) - (x->node > y->node);   /* ties: the first made first */
}

/* Children lists, largest first: 0, or -1 (memory). */
static int children_lists(tree_out *o)
{
    const inverted *iv = o->iv;
    by_size *order = PyMem_RawMalloc(iv->n * sizeof(*order));
    o->first = PyMem_RawMalloc(iv->n * sizeof(*o->first));
    o->next = PyMem_RawMalloc(iv->n * sizeof(*o->next));
    if (order == NULL || o->first == NULL || o->next == NULL) {
        PyMem_RawFree(order);
        return -1;
    }
    for (size_t i = 0; i < iv->n; i++) {
        order[i].bytes = iv->nodes[i].bytes;
        order[i].node = (uint32_t)i;
        o->first[i] = o->next[i] = UINT32_MAX;
    }
    qsort(order + 1, iv->n - 1, sizeof(*order), smaller_first);
    /* Pushed smallest first, every list reads largest first. */
    for (size_t k = 1; k < iv->n; k++) {
        uint32_t i = order[k].node;
        uint32_t p = iv->nodes[i].parent;
        o->next[i] = o->first[p];
        o->first[p] = i;
    }
    PyMem_RawFree(order);
    return 0;
}

static int significant(const tree_out *o, uint64_t bytes)
{
    return o->total > 0 && (double)bytes * 100.0 >= THRESHOLD * (double)o->total;
}

static void write_node(pyro_text *t, const tree_out *o, uint32_t i, int depth)
{
    const inode *x = &o->iv->nodes[i];
    size_t kept = 0, small = 0;
    uint64_t small_bytes = 0;
    for (uint32_t c = o->first[i]; c != UINT32_MAX; c = o->next[c]) {
        if (significant(o, o->iv->nodes[c].bytes))
            kept++;
        else {
            small++;
            small_bytes += o->iv->nodes[c].bytes;
        }
    }
    for (int d = 0; d < depth; d++)
        pyro_text_char(t, ' ');
    pyro_text_printf(t, "n%zu: %llu ", kept + (small > 0), (unsigned long long)x->bytes);
    if (i == 0)
        pyro_text_str(t, "(heap allocation functions) Python's allocators, traced by pyrometer");
    else
        put_clean(t, o->v->names[x->name], "#");
    pyro_text_char(t, '\n');
    for (uint32_t c = o->first[i]; c != UINT32_MAX; c = o->next[c])
        if (significant(o, o->iv->nodes[c].bytes))
            write_node(t, o, c, depth + 1);
    if (small > 0) {
        for (int d = 0; d <= depth; d++)
            pyro_text_char(t, ' ');
        pyro_text_printf(t, "n0: %llu in %zu place%s, %sbelow massif's threshold (%.2f%%)\n",
                         (unsigned long long)small_bytes, small, small == 1 ? "" : "s",
                         small == 1 ? "" : "all ", THRESHOLD);
    }
}

/* ---- massif ------------------------------------------------------------------ */

static void snapshot_head(pyro_text *t, size_t k, int64_t tns, uint64_t heap, uint64_t extra)
{
    pyro_text_printf(t, "#-----------\nsnapshot=%zu\n#-----------\ntime=%lld\n"
                     "mem_heap_B=%llu\nmem_heap_extra_B=%llu\nmem_stacks_B=0\n", k,
                     (long long)((tns + 500000) / 1000000), (unsigned long long)heap,
                     (unsigned long long)extra);
}

int pyro_timeline_massif_write(PyObject *path, const pyro_timeline_view *v)
{
    int traced = pyro_timeline_view_has(v, PYRO_MEM_HEAP);
    int which = traced ? PYRO_MEM_HEAP : pyro_timeline_view_main(v);
    size_t n = 0;
    pyro_mem_point *c = pyro_timeline_view_curve(v, which, &n);
    inverted iv = {0};
    tree_out o = {&iv, v, NULL, NULL, 0};
    int rc = -1;
    int detailed = v->tree_kind != PYRO_MEM_TREE_NONE && v->nnodes > 0;
    if (c == NULL || (detailed && (invert(&iv, v) < 0 || children_lists(&o) < 0))) {
        PyErr_NoMemory();
        goto done;
    }
    o.total = detailed ? iv.nodes[0].bytes : 0;
    size_t peak = 0;
    for (size_t i = 1; i < n; i++)
        if (pyro_mem_value(&c[i], which) > pyro_mem_value(&c[peak], which))
            peak = i;
    pyro_text t = PYRO_TEXT_INIT;
    pyro_text_str(&t, traced
                  ? "desc: pyrometer timeline: mem_heap_B is the bytes alive of the blocks "
                    "Python's allocators gave while profiling, mem_heap_extra_B the rest of "
                    "the RSS\n"
                  : "desc: pyrometer timeline: mem_heap_B is the RSS of the process (no "
                    "allocation was traced: run with --memory for the heap)\n");
    if (detailed)
        pyro_text_str(&t, v->tree_kind == PYRO_MEM_TREE_PEAK
                      ? "desc: the peak's tree: the bytes each call path held at the heap's "
                        "peak\n"
                      : "desc: the peak's tree: the bytes each call path allocated and left "
                        "alive at the end (net), the best breakdown known\n");
    pyro_text_str(&t, "cmd: ");
    put_clean(&t, v->cmd != NULL && v->cmd[0] ? v->cmd : "python", "#");
    pyro_text_str(&t, "\ntime_unit: ms\n");
    /* MAX_SNAPSHOTS evenly chosen by index; the peak replaces the one
     * nearest to it, which keeps them in time order. */
    size_t want = n < MAX_SNAPSHOTS ? n : MAX_SNAPSHOTS;
    size_t chosen[MAX_SNAPSHOTS];
    for (size_t s = 0; s < want; s++)
        chosen[s] = want < 2 ? 0 : s * (n - 1) / (want - 1);
    for (size_t s = 0; s + 1 < want; s++)
        if (chosen[s] < peak && peak < chosen[s + 1]) {
            /* the first and the last stay */
            if (s > 0 && (peak - chosen[s] <= chosen[s + 1] - peak || s + 2 == want))
                chosen[s] = peak;
            else
                chosen[s + 1] = peak;
            break;
        }
    for (size_t s = 0; s < want; s++) {
        const pyro_mem_point *p = &c[chosen[s]];
        int is_peak = chosen[s] == peak;
        uint64_t heap = pyro_mem_value(p, which);
        if (is_peak && detailed && heap < o.total)
            heap = o.total;   /* ms_print wants every node within the snapshot's total */
        uint64_t extra = traced && p->rss != PYRO_MEM_UNKNOWN && p->rss > heap ? p->rss - heap : 0;
        snapshot_head(&t, s, p->t, heap, extra);
        if (is_peak && detailed) {
            pyro_text_str(&t, "heap_tree=peak\n");
            write_node(&t, &o, 0, 0);
        }
        else
            pyro_text_str(&t, "heap_tree=empty\n");
    }
    if (n == 0) {
        snapshot_head(&t, 0, 0, 0, 0);
        pyro_text_str(&t, "heap_tree=empty\n");
    }
    rc = pyro_text_write(&t, path);
done:
    PyMem_RawFree(c);
    PyMem_RawFree(iv.nodes);
    PyMem_RawFree(iv.slots);
    PyMem_RawFree(o.first);
    PyMem_RawFree(o.next);
    return rc;
}
