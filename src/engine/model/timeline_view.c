/* timeline_view.c: memory over time as the writers read it (see
 * timeline_view.h). */
#include "model/timeline_view.h"
#include "model/stack_view.h"
#include "tables/timeline.h"

#include <math.h>
#include <string.h>

static const pyro_mem_point no_point = {-1, PYRO_MEM_UNKNOWN, PYRO_MEM_UNKNOWN};

void pyro_timeline_view_clear(pyro_timeline_view *v)
{
    memset(v, 0, sizeof(*v));
    v->peak_rss = v->peak_heap = no_point;
}

void pyro_timeline_view_release(pyro_timeline_view *v)
{
    for (size_t i = 0; i < v->nnames; i++)
        PyMem_RawFree(v->names[i]);
    PyMem_RawFree(v->names);
    PyMem_RawFree(v->cmd);
    PyMem_RawFree(v->points);
    PyMem_RawFree(v->spans);
    PyMem_RawFree(v->nodes);
    pyro_timeline_view_clear(v);
}

int64_t pyro_timeline_view_add_name(pyro_timeline_view *v, const char *s, size_t n)
{
    if (n == (size_t)-1)
        n = strlen(s);
    if (v->nnames >= PYRO_MEM_MAX_NAMES) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: a timeline names too many functions");
        return -1;
    }
    if (n > PYRO_MEM_MAX_NAME) {
        n = PYRO_MEM_MAX_NAME;   /* a name that long is cut, not refused, */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;                 /* between two characters */
    }
    /* grow by powers of two: the count is a power of two when full */
    if ((v->nnames & (v->nnames - 1)) == 0) {
        size_t cap = v->nnames ? v->nnames * 2 : 8;
        char **grown = PyMem_RawRealloc(v->names, cap * sizeof(*grown));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        v->names = grown;
    }
    char *copy = PyMem_RawMalloc(n + 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    v->names[v->nnames] = copy;
    return (int64_t)v->nnames++;
}

/* The table's values clipped to the view's bounds (a value past them is
 * no measurement anyone made). */
static pyro_mem_point point_of(pyro_tl_sample s)
{
    pyro_mem_point p = {s.t < 0 ? -1 : s.t > PYRO_MEM_TMAX ? PYRO_MEM_TMAX : s.t,
                        s.rss == PYRO_TL_UNKNOWN ? PYRO_MEM_UNKNOWN
                        : s.rss > PYRO_MEM_MAX ? PYRO_MEM_MAX : s.rss,
                        s.heap == PYRO_TL_UNKNOWN ? PYRO_MEM_UNKNOWN
                        : s.heap > PYRO_MEM_MAX ? PYRO_MEM_MAX : s.heap};
    return p;
}

int pyro_timeline_view_of_table(pyro_timeline_view *v, const struct pyro_timeline *tl,
                                PyObject *names)
{
    Py_ssize_t nnames = PyList_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < nnames; i++) {
        /* a lone surrogate in a name becomes '?': the file holds UTF-8 */
        PyObject *b = PyUnicode_AsEncodedString(PyList_GET_ITEM(names, i), "utf-8", "replace");
        if (b == NULL)
            return -1;
        int64_t at = pyro_timeline_view_add_name(v, PyBytes_AS_STRING(b),
                                                 (size_t)PyBytes_GET_SIZE(b));
        Py_DECREF(b);
        if (at < 0)
            return -1;
    }
    v->points = PyMem_RawMalloc((tl->nsamples ? tl->nsamples : 1) * sizeof(*v->points));
    v->spans = PyMem_RawMalloc((tl->nbrackets ? tl->nbrackets : 1) * sizeof(*v->spans));
    if (v->points == NULL || v->spans == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int64_t last = 0;
    for (size_t i = 0; i < tl->nsamples; i++) {
        pyro_mem_point p = point_of(tl->samples[i]);
        if (p.t < last)
            p.t = last;   /* the clock is monotonic: never, but a view is in order */
        last = p.t;
        v->points[v->npoints++] = p;
    }
    v->peak_rss = point_of(tl->peak_rss);
    v->peak_heap = point_of(tl->peak_heap);
    for (size_t i = 0; i < tl->nbrackets; i++) {
        const pyro_tl_bracket *b = &tl->brackets[i];
        if ((Py_ssize_t)b->name >= nnames)
            continue;
        pyro_mem_span s = {b->name, b->depth,
                           b->flags & PYRO_TL_UNFINISHED ? PYRO_MEM_SPAN_UNFINISHED : 0,
                           point_of(b->start), point_of(b->end)};
        if (s.start.t < 0 || s.end.t < s.start.t)
            continue;
        v->spans[v->nspans++] = s;
    }
    v->dropped_spans = tl->dropped_brackets;
    v->halvings = tl->halvings;
    return 0;
}

int pyro_timeline_view_set_tree(pyro_timeline_view *v, PyObject *tree, const char *metric,
                                int kind)
{
    pyro_stack_view sv;
    if (pyro_stack_view_of_arg(&sv, tree) < 0)
        return -1;
    int rc = -1;
    char **names = NULL;
    int64_t *index = NULL, *name_of = NULL;
    if (pyro_stack_view_select(&sv, metric) < 0)
        goto done;
    if (sv.unit != PYRO_UNIT_BYTES) {
        PyErr_Format(PyExc_ValueError, "pyrometer: the tree's metric '%s' is not in bytes",
                     metric);
        goto done;
    }
    names = pyro_stack_frame_names(&sv, PYRO_NAMES_SHORT_PATHS);
    index = PyMem_RawMalloc((sv.n ? sv.n : 1) * sizeof(*index));
    /* One name per function, added when a kept node first needs it. */
    name_of = PyMem_RawMalloc((sv.nfuncs ? sv.nfuncs : 1) * sizeof(*name_of));
    PyMem_RawFree(v->nodes);
    v->nnodes = 0;
    v->nodes = PyMem_RawMalloc((sv.n ? sv.n : 1) * sizeof(*v->nodes));
    if (names == NULL || index == NULL || name_of == NULL || v->nodes == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (size_t f = 0; f < sv.nfuncs; f++)
        name_of[f] = -1;
    /* Only paths that hold bytes: a parent's total is at least its child's,
     * so the nodes kept keep their parents. */
    for (size_t i = 0; i < sv.n && v->nnodes < PYRO_MEM_MAX_NODES; i++) {
        index[i] = -1;
        double total = sv.total[i], self = sv.self[i];
        if (!(total >= 0.5) || (sv.parent[i] >= 0 && index[sv.parent[i]] < 0))
            continue;
        uint32_t f = sv.func[i];
        if (name_of[f] < 0
            && (name_of[f] = pyro_timeline_view_add_name(v, names[f], (size_t)-1)) < 0)
            goto done;
        double b = self > 0 ? floor(self + 0.5) : 0.0;
        pyro_mem_node *nd = &v->nodes[v->nnodes];
        nd->parent = sv.parent[i] >= 0 ? (int32_t)index[sv.parent[i]] : -1;
        nd->name = (uint32_t)name_of[f];
        nd->bytes = b >= (double)PYRO_MEM_MAX ? PYRO_MEM_MAX : (uint64_t)b;
        index[i] = (int64_t)v->nnodes++;
    }
    v->tree_kind = kind;
    rc = 0;
done:
    if (names != NULL)
        pyro_stack_free_names(&sv, names);
    PyMem_RawFree(index);
    PyMem_RawFree(name_of);
    pyro_stack_view_release(&sv);
    return rc;
}

static int value_ok(uint64_t x)
{
    return x == PYRO_MEM_UNKNOWN || x <= PYRO_MEM_MAX;
}

static int point_ok(const pyro_mem_point *p)
{
    return p->t >= 0 && p->t <= PYRO_MEM_TMAX && value_ok(p->rss) && value_ok(p->heap);
}

const char *pyro_timeline_view_check(const pyro_timeline_view *v)
{
    if (!isfinite(v->start_epoch) || v->start_epoch < 0 || v->start_epoch > 1e11)
        return "its start time is not a date";
    if (v->interval <= 0 || v->interval > PYRO_MEM_TMAX || v->base_interval <= 0
        || v->base_interval > v->interval || v->halvings > 62)
        return "its sampling interval is out of range";
    if (v->npoints > PYRO_MEM_MAX_POINTS || v->nspans > PYRO_MEM_MAX_SPANS
        || v->nnodes > PYRO_MEM_MAX_NODES || v->nnames > PYRO_MEM_MAX_NAMES)
        return "it holds more items than a timeline keeps";
    for (size_t i = 0; i < v->npoints; i++) {
        if (!point_ok(&v->points[i]))
            return "a sample is out of range";
        if (i > 0 && v->points[i].t < v->points[i - 1].t)
            return "its samples are out of time order";
    }
    const pyro_mem_point *peaks[2] = {&v->peak_rss, &v->peak_heap};
    for (int k = 0; k < 2; k++)
        if (peaks[k]->t != -1 && !point_ok(peaks[k]))
            return "a peak is out of range";
    for (size_t i = 0; i < v->nspans; i++) {
        const pyro_mem_span *s = &v->spans[i];
        if (s->name >= v->nnames || s->depth == 0 || s->depth > 65536
            || (s->flags & ~PYRO_MEM_SPAN_UNFINISHED) != 0)
            return "a function call names no function, or is nested out of range";
        if (!point_ok(&s->start) || !point_ok(&s->end) || s->end.t < s->start.t)
            return "a function call's times or values are out of range";
    }
    if (v->tree_kind < PYRO_MEM_TREE_NONE || v->tree_kind > PYRO_MEM_TREE_PEAK
        || (v->tree_kind == PYRO_MEM_TREE_NONE && v->nnodes > 0))
        return "its heap tree is of an unknown kind";
    for (size_t i = 0; i < v->nnodes; i++) {
        const pyro_mem_node *n = &v->nodes[i];
        if (n->parent < -1 || (n->parent >= 0 && (size_t)n->parent >= i))
            return "a heap tree node's parent does not come before it";
        if (n->name >= v->nnames || n->bytes > PYRO_MEM_MAX)
            return "a heap tree node names nothing, or holds too many bytes";
    }
    return NULL;
}

int pyro_timeline_view_has(const pyro_timeline_view *v, int which)
{
    for (size_t i = 0; i < v->npoints; i++)
        if (pyro_mem_value(&v->points[i], which) != PYRO_MEM_UNKNOWN)
            return 1;
    return 0;
}

int pyro_timeline_view_main(const pyro_timeline_view *v)
{
    return !pyro_timeline_view_has(v, PYRO_MEM_RSS) && pyro_timeline_view_has(v, PYRO_MEM_HEAP)
           ? PYRO_MEM_HEAP : PYRO_MEM_RSS;
}

static int by_time(const void *a, const void *b)
{
    const pyro_mem_point *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

pyro_mem_point *pyro_timeline_view_curve(const pyro_timeline_view *v, int which, size_t *n)
{
    size_t cap = v->npoints + 2 * v->nspans + 1;
    pyro_mem_point *c = PyMem_RawMalloc(cap * sizeof(*c));
    *n = 0;
    if (c == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < v->npoints; i++)
        c[k++] = v->points[i];
    for (size_t i = 0; i < v->nspans; i++) {
        c[k++] = v->spans[i].start;
        c[k++] = v->spans[i].end;
    }
    /* The peaks survive the halving of the samples: they are points too. */
    const pyro_mem_point *peak = which == PYRO_MEM_HEAP ? &v->peak_heap : &v->peak_rss;
    if (peak->t >= 0)
        c[k++] = *peak;
    qsort(c, k, sizeof(*c), by_time);
    size_t out = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t val = pyro_mem_value(&c[i], which);
        if (val == PYRO_MEM_UNKNOWN)
            continue;
        if (out > 0 && c[out - 1].t == c[i].t && pyro_mem_value(&c[out - 1], which) == val)
            continue;   /* the same point twice */
        c[out++] = c[i];
    }
    *n = out;
    return c;
}

/* `p` as the peak of curve `which` if it is higher than the one found. */
static void higher(const pyro_mem_point *p, int which, pyro_mem_point *peak, int *found)
{
    uint64_t x = pyro_mem_value(p, which);
    if (p->t >= 0 && x != PYRO_MEM_UNKNOWN && (!*found || x > pyro_mem_value(peak, which))) {
        *peak = *p;
        *found = 1;
    }
}

int pyro_timeline_view_peak(const pyro_timeline_view *v, int which, pyro_mem_point *peak)
{
    int found = 0;
    higher(which == PYRO_MEM_HEAP ? &v->peak_heap : &v->peak_rss, which, peak, &found);
    for (size_t i = 0; i < v->npoints; i++)
        higher(&v->points[i], which, peak, &found);
    for (size_t i = 0; i < v->nspans; i++) {
        higher(&v->spans[i].start, which, peak, &found);
        higher(&v->spans[i].end, which, peak, &found);
    }
    return found;
}

/* ---- the Python view ------------------------------------------------------ */

static PyObject *bytes_or_none(uint64_t x)
{
    if (x == PYRO_MEM_UNKNOWN)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong((unsigned long long)x);
}

static PyObject *point_tuple(const pyro_mem_point *p)
{
    if (p->t < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(dNN)", (double)p->t / 1e9, bytes_or_none(p->rss),
                         bytes_or_none(p->heap));
}

static PyObject *list_of(size_t n, PyObject *(*item)(const pyro_timeline_view *, size_t),
                         const pyro_timeline_view *v)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        PyObject *x = item(v, i);
        if (x == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, x);
    }
    return list;
}

static PyObject *point_item(const pyro_timeline_view *v, size_t i)
{
    return point_tuple(&v->points[i]);
}

/* A name as a str: what is not UTF-8 (a hostile file's) becomes U+FFFD. */
static PyObject *name_str(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *span_item(const pyro_timeline_view *v, size_t i)
{
    const pyro_mem_span *s = &v->spans[i];
    return Py_BuildValue("{s:N,s:I,s:N,s:N,s:O}", "name", name_str(v->names[s->name]),
                         "depth", s->depth,
                         "start", point_tuple(&s->start), "end", point_tuple(&s->end),
                         "unfinished", (s->flags & PYRO_MEM_SPAN_UNFINISHED) ? Py_True : Py_False);
}

static PyObject *node_item(const pyro_timeline_view *v, size_t i)
{
    const pyro_mem_node *n = &v->nodes[i];
    return Py_BuildValue("(iNK)", n->parent, name_str(v->names[n->name]),
                         (unsigned long long)n->bytes);
}

PyObject *pyro_timeline_view_as_dict(const pyro_timeline_view *v)
{
    static const char *const kinds[] = {NULL, "net", "peak"};
    PyObject *tree_kind = v->tree_kind ? PyUnicode_FromString(kinds[v->tree_kind])
                                       : Py_NewRef(Py_None);
    return Py_BuildValue("{s:d,s:d,s:d,s:I,s:K,s:N,s:N,s:N,s:N,s:N,s:N,s:N}",
                         "start", v->start_epoch,
                         "interval", (double)v->interval / 1e9,
                         "base_interval", (double)v->base_interval / 1e9,
                         "halvings", v->halvings,
                         "dropped_calls", (unsigned long long)v->dropped_spans,
                         "cmd", name_str(v->cmd != NULL ? v->cmd : ""),
                         "samples", list_of(v->npoints, point_item, v),
                         "peak_rss", point_tuple(&v->peak_rss),
                         "peak_heap", point_tuple(&v->peak_heap),
                         "calls", list_of(v->nspans, span_item, v),
                         "tree_kind", tree_kind,
                         "tree", list_of(v->nnodes, node_item, v));
}
