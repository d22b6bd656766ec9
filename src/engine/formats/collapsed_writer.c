/* collapsed_writer.c: the call tree as collapsed stacks, the text that
 * flamegraph.pl, Pyroscope and speedscope import: one line per call path,
 *
 *     main (app.py:10);loads (<stdlib>/json/__init__.py:299);{built-in method ...} 1234
 *
 * root first, frames as pyrometer names them (pyro_frame_name, with ';'
 * and line breaks replaced), then the path's self value in whole units
 * (microseconds for time; bytes, counts for other metrics).
 *
 * Files are named short by default (<stdlib>/..., <site-packages>/..., the
 * program's below the folder its files share): a web application's stacks
 * are 60 frames deep, and whole paths were a third of its file (the Flask
 * example's: 21 MB, 14.6 MB short).  Paths whose frames read the same (two
 * functions shortened to one name) are one line, their values added: the
 * viewers key on the text, and one path on two lines confuses some.
 * The values are rounded along the running sum, so that the lines add up
 * to the total self value rounded once (each line is off by less than a
 * unit); paths that come to 0 are left out. */
#include "formats/stack_writers.h"

#include <math.h>
#include <string.h>

/* Paths by their text: a node per distinct (parent path, frame name). */
typedef struct {
    uint32_t *parent;          /* path index + 1 of the parent, 0 at a root */
    uint32_t *name;            /* the first function spelt this way */
    uint32_t *depth;
    double *self;
    size_t n;
    uint32_t *slots;           /* path index + 1, 0: empty; a power of two */
    size_t mask;
} path_set;

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b + 0x632BE59BD9B4E019ULL + (a << 6) + (a >> 2));
    return h ^ (h >> 31);
}

/* The path `parent` (index + 1, 0: none) followed by frame `name`: its
 * index, added if new. */
static uint32_t path_of(path_set *p, uint32_t parent, uint32_t name)
{
    size_t j = (size_t)mix(parent, name) & p->mask;
    while (p->slots[j] != 0) {
        uint32_t k = p->slots[j] - 1;
        if (p->parent[k] == parent && p->name[k] == name)
            return k;
        j = (j + 1) & p->mask;
    }
    uint32_t k = (uint32_t)p->n++;
    p->slots[j] = k + 1;
    p->parent[k] = parent;
    p->name[k] = name;
    p->depth[k] = parent ? p->depth[parent - 1] + 1 : 0;
    p->self[k] = 0.0;
    return k;
}

/* Each function's name as the first function spelt the same: one table of
 * the names' hashes.  0, or -1 + MemoryError. */
static int same_names(char **names, size_t nfuncs, uint32_t *first)
{
    size_t cap = 16;
    while (cap < nfuncs * 2)
        cap *= 2;
    uint32_t *slots = PyMem_RawCalloc(cap, sizeof(*slots));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t f = 0; f < nfuncs; f++) {
        uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
        for (const char *c = names[f]; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        size_t j = (size_t)h & (cap - 1);
        while (slots[j] != 0 && strcmp(names[slots[j] - 1], names[f]) != 0)
            j = (j + 1) & (cap - 1);
        if (slots[j] == 0)
            slots[j] = (uint32_t)f + 1;
        first[f] = slots[j] - 1;
    }
    PyMem_RawFree(slots);
    return 0;
}

static void path_set_free(path_set *p)
{
    PyMem_RawFree(p->parent);
    PyMem_RawFree(p->name);
    PyMem_RawFree(p->depth);
    PyMem_RawFree(p->self);
    PyMem_RawFree(p->slots);
}

/* The tree's nodes as paths of frame texts, their self values added. */
static int build_paths(const pyro_stack_view *v, const uint32_t *first, path_set *p)
{
    size_t cap = 16, n = v->n + 1;
    while (cap < n * 2)
        cap *= 2;
    memset(p, 0, sizeof(*p));
    p->parent = PyMem_RawMalloc(n * sizeof(*p->parent));
    p->name = PyMem_RawMalloc(n * sizeof(*p->name));
    p->depth = PyMem_RawMalloc(n * sizeof(*p->depth));
    p->self = PyMem_RawMalloc(n * sizeof(*p->self));
    p->slots = PyMem_RawCalloc(cap, sizeof(*p->slots));
    uint32_t *at = PyMem_RawMalloc(n * sizeof(*at));   /* node -> path */
    if (!p->parent || !p->name || !p->depth || !p->self || !p->slots || !at) {
        PyMem_RawFree(at);
        PyErr_NoMemory();
        return -1;
    }
    p->mask = cap - 1;
    for (size_t i = 0; i < v->n; i++) {   /* parents come before their children */
        uint32_t parent = v->parent[i] < 0 ? 0 : at[v->parent[i]] + 1;
        at[i] = path_of(p, parent, first[v->func[i]]);
        p->self[at[i]] += v->self[i];
    }
    PyMem_RawFree(at);
    return 0;
}

int pyro_write_collapsed(const pyro_stack_view *v, int full_paths, pyro_text *out)
{
    int rc = -1;
    path_set p = {0};
    char **names = pyro_stack_frame_names(
        v, PYRO_NAMES_SANITIZE | (full_paths ? 0 : PYRO_NAMES_SHORT_PATHS));
    size_t *name_len = PyMem_RawMalloc((v->nfuncs + 1) * sizeof(*name_len));
    uint32_t *first = PyMem_RawMalloc((v->nfuncs + 1) * sizeof(*first));
    uint32_t *stack = PyMem_RawMalloc((v->n + 1) * sizeof(*stack));
    if (names == NULL || name_len == NULL || first == NULL || stack == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (size_t f = 0; f < v->nfuncs; f++)
        name_len[f] = strlen(names[f]);
    if (same_names(names, v->nfuncs, first) < 0 || build_paths(v, first, &p) < 0)
        goto done;
    double scale = pyro_unit_scale(v->unit, 1e6);
    double running = 0.0;      /* whole units so far, exactly */
    long long written = 0;     /* what the lines so far add up to */
    for (size_t k = 0; k < p.n; k++) {
        running += p.self[k] * scale;
        long long value = llround(running) - written;
        if (value <= 0)
            continue;
        written += value;
        uint32_t d = p.depth[k];
        for (uint32_t at = (uint32_t)k + 1; at != 0; at = p.parent[at - 1])
            stack[d--] = p.name[at - 1];
        for (d = 0; d <= p.depth[k]; d++) {
            if (d > 0)
                pyro_text_char(out, ';');
            pyro_text_put(out, names[stack[d]], name_len[stack[d]]);
        }
        pyro_text_char(out, ' ');
        pyro_text_ll(out, value);
        pyro_text_char(out, '\n');
    }
    rc = 0;
done:
    path_set_free(&p);
    pyro_stack_free_names(v, names);
    PyMem_RawFree(name_len);
    PyMem_RawFree(first);
    PyMem_RawFree(stack);
    return rc;
}
