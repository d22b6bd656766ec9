/* collapsed_reader.c: collapsed stacks into a call tree (see
 * collapsed_reader.h).
 *
 * The text is hostile until read: each line is checked before anything is
 * made of it, counts are parsed by hand within a bound, and the tables
 * grow only with what the lines name (a node per new frame of a path, at
 * most PYRO_COLLAPSED_MAX_NODES).  Two open-addressing tables do the work,
 * so that a line costs its length: frame texts (spans of the file's bytes)
 * to functions, and (parent node, function) pairs to nodes. */
#include "formats/collapsed_reader.h"
#include "core/errors.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *s;             /* in the file's data; NULL: an empty slot */
    size_t len;
    uint64_t hash;
    uint32_t func;
} text_slot;

typedef struct {
    const char *path;
    size_t lineno;
    int first;                 /* reading the first line that is not blank */
    /* frame texts -> functions */
    text_slot *texts;
    size_t ntexts, text_cap;   /* a power of two, kept at most half full */
    PyObject *funcs;           /* [(file, line, name)] */
    PyObject *func_ids;        /* {(file, line, name): index} */
    PyObject *tilde;           /* "~", the file of functions named by text alone */
    /* nodes: parents before children */
    int64_t *parent;
    uint32_t *func;
    uint64_t *self;            /* samples that ended at the node */
    size_t n, cap;
    size_t *slots;             /* node index + 1, 0: empty; nslots = 2 * cap */
    long long samples;
} reader;

/* ---- messages ----------------------------------------------------------- */

/* The line is wrong in the way `why` says (a predicate: "has an empty
 * frame").  On the first line, the data is no collapsed stacks: 1 and
 * *why_out; further on, -1 + FormatError. */
static int bad_line(reader *r, const char *why, PyObject **why_out)
{
    if (r->first) {
        *why_out = PyUnicode_FromFormat("its first line %s", why);
        return *why_out != NULL ? 1 : -1;
    }
    PyErr_Format(pyro_FormatError,
                 "pyrometer: %s is not a profile file (line %zu of its collapsed stacks %s)",
                 r->path, r->lineno, why);
    return -1;
}

/* ---- frames ------------------------------------------------------------- */

static uint64_t hash_of(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Text of the file as a str: UTF-8 (lone surrogates too, as 3.15 writes
 * undecodable names); other bytes spelt \xNN. */
static PyObject *text_str(const char *s, size_t n)
{
    PyObject *o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "surrogatepass");
    if (o == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "backslashreplace");
    }
    return o;
}

/* s[0:n) as a line number: 1 to 18 digits. */
static int line_of(const char *s, size_t n, long long *line)
{
    if (n == 0 || n > 18)
        return 0;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *line = v;
    return 1;
}

static const char *last_of(const char *s, size_t n, char c)
{
    while (n > 0)
        if (s[--n] == c)
            return s + n;
    return NULL;
}

/* The first " (" of s[0:n). */
static const char *first_paren(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == ' ' && s[i + 1] == '(')
            return s + i;
    return NULL;
}

static PyObject *key3(PyObject *file, long long line, PyObject *name)
{
    PyObject *key = file != NULL && name != NULL ? Py_BuildValue("(OLO)", file, line, name) : NULL;
    Py_XDECREF(file);
    Py_XDECREF(name);
    return key;
}

/* The pstats key a frame's text names. */
static PyObject *key_of(reader *r, const char *s, size_t n)
{
    long long line;
    /* name (file:line): pyrometer's and py-spy's frames */
    if (n >= 6 && s[n - 1] == ')') {
        const char *colon = last_of(s, n - 1, ':');
        const char *open = colon != NULL ? first_paren(s, (size_t)(colon - s)) : NULL;
        if (open != NULL && open > s && colon > open + 2
            && line_of(colon + 1, (size_t)(s + n - 1 - (colon + 1)), &line))
            return key3(text_str(open + 2, (size_t)(colon - open - 2)), line,
                        text_str(s, (size_t)(open - s)));
    }
    /* file:function:line: 3.15's frames */
    const char *colon = last_of(s, n, ':');
    if (colon != NULL && line_of(colon + 1, (size_t)(s + n - colon - 1), &line)) {
        const char *mid = last_of(s, (size_t)(colon - s), ':');
        if (mid != NULL && mid > s && colon > mid + 1)
            return key3(text_str(s, (size_t)(mid - s)), line,
                        text_str(mid + 1, (size_t)(colon - mid - 1)));
    }
    /* {text}: a built-in as pstats prints <text>; any other text as itself */
    PyObject *name;
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        PyObject *inner = text_str(s + 1, n - 2);
        name = inner != NULL ? PyUnicode_FromFormat("<%U>", inner) : NULL;
        Py_XDECREF(inner);
    } else {
        name = text_str(s, n);
    }
    return key3(Py_NewRef(r->tilde), 0, name);
}

static int grow_texts(reader *r)
{
    size_t cap = r->text_cap ? r->text_cap * 2 : 1024;
    text_slot *t = PyMem_RawCalloc(cap, sizeof(*t));
    if (t == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < r->text_cap; i++) {
        if (r->texts[i].s == NULL)
            continue;
        size_t j = (size_t)r->texts[i].hash & (cap - 1);
        while (t[j].s != NULL)
            j = (j + 1) & (cap - 1);
        t[j] = r->texts[i];
    }
    PyMem_RawFree(r->texts);
    r->texts = t;
    r->text_cap = cap;
    return 0;
}

/* The function of the frame s[0:n): 0 and *func, or -1 + exception. */
static int func_of(reader *r, const char *s, size_t n, uint32_t *func)
{
    if (2 * (r->ntexts + 1) > r->text_cap && grow_texts(r) < 0)
        return -1;
    uint64_t h = hash_of(s, n);
    size_t j = (size_t)h & (r->text_cap - 1);
    for (; r->texts[j].s != NULL; j = (j + 1) & (r->text_cap - 1)) {
        const text_slot *t = &r->texts[j];
        if (t->hash == h && t->len == n && memcmp(t->s, s, n) == 0) {
            *func = t->func;
            return 0;
        }
    }
    /* a new text: its key, which another text may name already */
    PyObject *key = key_of(r, s, n);
    if (key == NULL)
        return -1;
    PyObject *known = PyDict_GetItemWithError(r->func_ids, key);   /* borrowed */
    Py_ssize_t id = known != NULL ? PyLong_AsSsize_t(known) : PyList_GET_SIZE(r->funcs);
    if (known == NULL) {
        PyObject *idx = PyErr_Occurred() ? NULL : PyLong_FromSsize_t(id);
        int failed = idx == NULL || PyDict_SetItem(r->func_ids, key, idx) < 0
            || PyList_Append(r->funcs, key) < 0;
        Py_XDECREF(idx);
        if (failed) {
            Py_DECREF(key);
            return -1;
        }
    }
    Py_DECREF(key);
    r->texts[j] = (text_slot){.s = s, .len = n, .hash = h, .func = (uint32_t)id};
    r->ntexts++;
    *func = (uint32_t)id;
    return 0;
}

/* ---- nodes -------------------------------------------------------------- */

static size_t *node_slot(reader *r, int64_t parent, uint32_t func)
{
    /* splitmix64's finish: every bit of parent and func reaches the low
     * bits the mask keeps */
    uint64_t key = (uint64_t)(parent + 1) << 32 ^ func;
    key = (key ^ (key >> 30)) * 0xBF58476D1CE4E5B9ULL;
    key = (key ^ (key >> 27)) * 0x94D049BB133111EBULL;
    key ^= key >> 31;
    size_t mask = 2 * r->cap - 1, j = (size_t)key & mask;
    while (r->slots[j] != 0) {
        size_t k = r->slots[j] - 1;
        if (r->parent[k] == parent && r->func[k] == func)
            break;
        j = (j + 1) & mask;
    }
    return &r->slots[j];
}

static int grow_nodes(reader *r)
{
    size_t cap = r->cap ? r->cap * 2 : 1024;
    int64_t *parent = PyMem_RawRealloc(r->parent, cap * sizeof(*parent));
    if (parent != NULL)
        r->parent = parent;
    uint32_t *func = PyMem_RawRealloc(r->func, cap * sizeof(*func));
    if (func != NULL)
        r->func = func;
    uint64_t *self = PyMem_RawRealloc(r->self, cap * sizeof(*self));
    if (self != NULL)
        r->self = self;
    size_t *slots = PyMem_RawCalloc(2 * cap, sizeof(*slots));
    if (parent == NULL || func == NULL || self == NULL || slots == NULL) {
        PyMem_RawFree(slots);
        PyErr_NoMemory();
        return -1;
    }
    PyMem_RawFree(r->slots);
    r->slots = slots;
    r->cap = cap;
    for (size_t i = 0; i < r->n; i++)
        *node_slot(r, r->parent[i], r->func[i]) = i + 1;
    return 0;
}

/* The node of `func` under `parent`: 0 and *node, 1 + *why_out or -1 +
 * exception (too many). */
static int node_of(reader *r, int64_t parent, uint32_t func, int64_t *node, PyObject **why_out)
{
    if (r->n == r->cap) {
        if (r->n >= PYRO_COLLAPSED_MAX_NODES) {
            char why[96];
            snprintf(why, sizeof why, "makes more than %zu distinct call paths",
                     (size_t)PYRO_COLLAPSED_MAX_NODES);
            return bad_line(r, why, why_out);
        }
        if (grow_nodes(r) < 0)
            return -1;
    }
    size_t *slot = node_slot(r, parent, func);
    if (*slot == 0) {
        size_t k = r->n++;
        r->parent[k] = parent;
        r->func[k] = func;
        r->self[k] = 0;
        *slot = k + 1;
    }
    *node = (int64_t)(*slot - 1);
    return 0;
}

/* ---- lines -------------------------------------------------------------- */

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The thread frame 3.15 puts first: "tid:" and digits. */
static int thread_frame(const char *s, size_t n)
{
    long long tid;
    return n > 4 && memcmp(s, "tid:", 4) == 0 && line_of(s + 4, n - 4, &tid);
}

/* One line, s[0:n) with no line break: 0, 1 + *why_out, or -1. */
static int read_line(reader *r, const char *s, size_t n, PyObject **why_out)
{
    while (n > 0 && blank(s[n - 1]))
        n--;
    while (n > 0 && blank(s[0])) {
        s++;
        n--;
    }
    if (n == 0)
        return 0;
    if (memchr(s, '\0', n) != NULL)
        return bad_line(r, "holds a NUL byte: binary data", why_out);
    size_t d = n;
    while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9')
        d--;
    if (d == n)
        return bad_line(r, "does not end with a sample count", why_out);
    if (d == 0)
        return bad_line(r, "has no stack before its sample count", why_out);
    if (s[d - 1] == '.')
        return bad_line(r, "has a sample count that is not a whole number", why_out);
    if (s[d - 1] == '-')
        return bad_line(r, "has a negative sample count", why_out);
    if (!blank(s[d - 1]))
        return bad_line(r, "does not end with a sample count after a space", why_out);
    long long count = 0;
    for (size_t i = d; i < n; i++) {
        count = count * 10 + (s[i] - '0');
        if (count > PYRO_COLLAPSED_MAX_COUNT)
            return bad_line(r, "has a sample count over 999999999999999", why_out);
    }
    size_t end = d;
    while (end > 0 && blank(s[end - 1]))
        end--;
    /* the frames, root first */
    const char *p = s, *stop = s + end;
    int64_t node = -1;
    for (int k = 0;; k++) {
        const char *semi = memchr(p, ';', (size_t)(stop - p));
        const char *fend = semi != NULL ? semi : stop;
        if (fend == p)
            return bad_line(r, "has an empty frame", why_out);
        if (k == 0 && semi != NULL && thread_frame(p, (size_t)(fend - p))) {
            p = semi + 1;
            continue;
        }
        if (count > 0) {
            uint32_t func;
            if (func_of(r, p, (size_t)(fend - p), &func) < 0)
                return -1;
            int rc = node_of(r, node, func, &node, why_out);
            if (rc != 0)
                return rc;
        }
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    if (count > PYRO_COLLAPSED_MAX_TOTAL - r->samples)
        return bad_line(r, "brings the samples over 2**53 in all", why_out);
    r->samples += count;
    if (node >= 0)
        r->self[node] += (uint64_t)count;
    return 0;
}

/* ---- the tree ------------------------------------------------------------ */

static PyObject *tree_of(reader *r)
{
    uint64_t *total = PyMem_RawCalloc(r->n + 1, sizeof(*total));
    PyObject *lists[5] = {NULL}, *tree = NULL, *metric = NULL;
    if (total == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    /* children come after their parents: a node's total is whole when its
     * turn comes, going backwards */
    for (size_t i = r->n; i-- > 0;) {
        total[i] += r->self[i];
        if (r->parent[i] >= 0)
            total[r->parent[i]] += total[i];
    }
    Py_ssize_t n = (Py_ssize_t)r->n;
    for (int f = 0; f < 5; f++)
        if ((lists[f] = PyList_New(n)) == NULL)
            goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v[5] = {
            PyLong_FromLongLong(r->parent[i]), PyLong_FromUnsignedLong(r->func[i]),
            PyLong_FromUnsignedLongLong(total[i]), PyLong_FromUnsignedLongLong(r->self[i]),
            PyLong_FromUnsignedLongLong(total[i]),
        };
        int failed = 0;
        for (int f = 0; f < 5; f++) {
            if (v[f] == NULL)
                failed = 1;
            else
                PyList_SET_ITEM(lists[f], i, v[f]);
        }
        if (failed)
            goto done;
    }
    metric = Py_BuildValue("{s:s,s:s,s:O,s:O}", "name", "samples", "unit", "samples",
                           "self", lists[3], "total", lists[4]);
    if (metric == NULL)
        goto done;
    tree = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O,s:O,s:[O]}", "pyrometer", "calltree",
                         "version", 2, "funcs", r->funcs, "parent", lists[0], "func", lists[1],
                         "calls", lists[2], "folded", Py_False, "metrics", metric);
done:
    for (int f = 0; f < 5; f++)
        Py_XDECREF(lists[f]);
    Py_XDECREF(metric);
    PyMem_RawFree(total);
    return tree;
}

int pyro_collapsed_read(const char *path, const char *data, size_t len, PyObject **tree,
                        PyObject **why)
{
    *tree = NULL;
    *why = NULL;
    reader r = {.path = path, .first = 1};
    int rc = -1;
    r.funcs = PyList_New(0);
    r.func_ids = PyDict_New();
    r.tilde = PyUnicode_FromString("~");
    if (r.funcs == NULL || r.func_ids == NULL || r.tilde == NULL)
        goto done;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl != NULL ? nl : end;
        r.lineno++;
        /* the first line that says something tells what the data is */
        int says = 0;
        for (const char *c = p; c < stop && !says; c++)
            says = !blank(*c);
        rc = read_line(&r, p, (size_t)(stop - p), why);
        if (rc != 0)
            goto done;
        r.first &= !says;
        p = stop + (nl != NULL);
    }
    if (r.first) {
        *why = PyUnicode_FromString("it holds only blank lines");
        rc = *why != NULL ? 1 : -1;
        goto done;
    }
    if (r.samples == 0) {
        PyErr_Format(pyro_FormatError,
                     "pyrometer: %s is not a profile file (its collapsed stacks hold no samples)",
                     path);
        rc = -1;
        goto done;
    }
    *tree = tree_of(&r);
    rc = *tree != NULL ? 0 : -1;
done:
    Py_XDECREF(r.funcs);
    Py_XDECREF(r.func_ids);
    Py_XDECREF(r.tilde);
    PyMem_RawFree(r.texts);
    PyMem_RawFree(r.parent);
    PyMem_RawFree(r.func);
    PyMem_RawFree(r.self);
    PyMem_RawFree(r.slots);
    return rc;
}
