/* tree_report.c: the call tree on a terminal, the user's code first (see
 * tree_report.h).
 *
 *     1.234 s 100.0%  <module>  app.py:1
 *     └─ 1.100 s  89.1%  main  app.py:10
 *        ├─ 0.800 s  64.8%  load  <stdlib>/json/__init__.py:274
 *        │  │  [4 library frames: json.decoder, re]
 *        │  └─ 0.500 s  40.5%  object_hook  app.py:5
 *        └─ ...
 *
 * A library frame (the standard library, site-packages, frozen modules,
 * built-ins) called by the user's code is shown: it is where the program
 * went into the library.  The library frames under it are hidden, their
 * count and modules said on one line, and the user's frames the library
 * called back are shown under it: what pyinstrument prints.  Paths under
 * below min_share of the total are left out, and at most max_lines lines
 * are written. */
#include "formats/tree_report.h"
#include "core/text_out.h"
#include "model/portable_path.h"

#include <string.h>

typedef struct {
    char *name;        /* shown name (escaped, UTF-8) */
    char *where;       /* shown file:line, or NULL for built-ins */
    char *module;      /* what a hidden frame is summed up as */
    int library;
} frame_info;

/* Where the file sits: its shown form (a new PyMem_Raw string), whether it
 * is library code, and the module a hidden frame is counted as. */
static int classify(const char *file, const char *root, char **shown, char **module)
{
    const char *rest, *label;
    int library = pyro_path_split(file, &label, &rest);
    size_t root_len = root != NULL ? strlen(root) : 0;
    char buf[64];
    const char *mod_from = NULL;
    if (library)
        mod_from = *label != '\0' ? rest : file + 8;   /* <frozen importlib._bootstrap> */
    else if (root_len > 0 && strncmp(file, root, root_len) == 0 && file[root_len] == '/')
        rest = file + root_len + 1;
    size_t n = strlen(label) + strlen(rest) + 1;
    *shown = PyMem_RawMalloc(n);
    if (*shown == NULL)
        return -1;
    snprintf(*shown, n, "%s%s", label, rest);
    /* The module of a library file: its path without .py, dots for slashes,
     * cut at its package's first two names (json.decoder, flask.app). */
    *module = NULL;
    if (library) {
        size_t k = 0;
        int dots = 0;
        for (const char *c = mod_from; *c && *c != '>' && k + 1 < sizeof(buf); c++) {
            if (*c == '/') {
                if (++dots == 2)
                    break;
                buf[k++] = '.';
            } else {
                buf[k++] = *c;
            }
        }
        buf[k] = '\0';
        size_t len = strlen(buf);
        if (len > 3 && strcmp(buf + len - 3, ".py") == 0)
            buf[len - 3] = '\0';
        len = strlen(buf);
        if (len > 9 && strcmp(buf + len - 9, ".__init__") == 0)
            buf[len - 9] = '\0';
        *module = PyMem_RawMalloc(strlen(buf) + 1);
        if (*module == NULL)
            return -1;
        strcpy(*module, buf);
    }
    return library;
}

static void free_frames(frame_info *fi, size_t n)
{
    if (fi == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        PyMem_RawFree(fi[i].name);
        PyMem_RawFree(fi[i].where);
        PyMem_RawFree(fi[i].module);
    }
    PyMem_RawFree(fi);
}

static char *escaped_utf8(PyObject *s)
{
    PyObject *clean = pyro_escape_controls(s, 0);
    if (clean == NULL)
        return NULL;
    char *r = pyro_utf8_dup(clean, NULL);
    Py_DECREF(clean);
    return r;
}

static frame_info *frames_of(const pyro_stack_view *v, const char *root)
{
    frame_info *fi = PyMem_RawCalloc(v->nfuncs + 1, sizeof(*fi));
    if (fi == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (size_t f = 0; f < v->nfuncs; f++) {
        PyObject *label = PyList_GET_ITEM(v->funcs, (Py_ssize_t)f);
        PyObject *file = PyTuple_GET_ITEM(label, 0);
        long long line = PyLong_AsLongLong(PyTuple_GET_ITEM(label, 1));
        if (line == -1 && PyErr_Occurred())
            goto fail;
        if (PyUnicode_CompareWithASCIIString(file, "~") == 0) {
            PyObject *name = pyro_frame_name(label);   /* {built-in method ...} */
            fi[f].name = name != NULL ? escaped_utf8(name) : NULL;
            Py_XDECREF(name);
            if (fi[f].name == NULL)
                goto fail;
            fi[f].library = 1;
            fi[f].module = PyMem_RawMalloc(9);
            if (fi[f].module == NULL)
                goto nomem;
            strcpy(fi[f].module, "builtins");
            continue;
        }
        fi[f].name = escaped_utf8(PyTuple_GET_ITEM(label, 2));
        char *file8 = escaped_utf8(file);
        if (fi[f].name == NULL || file8 == NULL) {
            PyMem_RawFree(file8);
            goto fail;
        }
        char *shown = NULL;
        int lib = classify(file8, root, &shown, &fi[f].module);
        PyMem_RawFree(file8);
        if (lib < 0) {
            PyMem_RawFree(shown);
            goto nomem;
        }
        fi[f].library = lib;
        size_t n = strlen(shown) + 24;
        fi[f].where = PyMem_RawMalloc(n);
        if (fi[f].where == NULL) {
            PyMem_RawFree(shown);
            goto nomem;
        }
        snprintf(fi[f].where, n, "%s:%lld", shown, line);
        PyMem_RawFree(shown);
    }
    return fi;
nomem:
    PyErr_NoMemory();
fail:
    free_frames(fi, v->nfuncs);
    return NULL;
}

/* Children lists: kids[first[i] .. first[i + 1]) are node i's (roots under
 * the virtual node n). */
typedef struct {
    size_t *first, *kids;
} child_lists;

static int children_of(const pyro_stack_view *v, child_lists *c)
{
    c->first = PyMem_RawCalloc(v->n + 2, sizeof(size_t));
    c->kids = PyMem_RawMalloc((v->n + 1) * sizeof(size_t));
    size_t *fill = PyMem_RawMalloc((v->n + 2) * sizeof(size_t));
    if (c->first == NULL || c->kids == NULL || fill == NULL) {
        PyMem_RawFree(fill);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < v->n; i++) {
        size_t p = v->parent[i] < 0 ? v->n : (size_t)v->parent[i];
        c->first[p + 1]++;
    }
    for (size_t i = 0; i <= v->n; i++)
        c->first[i + 1] += c->first[i];
    memcpy(fill, c->first, (v->n + 2) * sizeof(size_t));
    for (size_t i = 0; i < v->n; i++) {
        size_t p = v->parent[i] < 0 ? v->n : (size_t)v->parent[i];
        c->kids[fill[p]++] = i;
    }
    PyMem_RawFree(fill);
    return 0;
}

typedef struct {
    const pyro_stack_view *v;
    const frame_info *fi;
    child_lists c;
    const pyro_tree_report_opts *o;
    double total, unit_scale;
    const char *unit_name;
    pyro_text *out;
    size_t lines, left_out;
    char prefix[512];        /* the tree's guide lines for the current depth */
    size_t prefix_len;
    /* the user nodes under a shown library frame: gathered per level */
    size_t *gather;
    size_t gathered;
    size_t hidden;
    char mods[160];
} tree_ctx;

/* Largest total first.  A shell sort: qsort has no context argument
 * everywhere, and one node may have many children. */
static void sort_nodes(size_t *ids, size_t n, const pyro_stack_view *v)
{
    size_t gap = 1;
    while (gap < n / 3)
        gap = gap * 3 + 1;
    for (; gap > 0; gap /= 3)
        for (size_t i = gap; i < n; i++)
            for (size_t j = i; j >= gap && v->total[ids[j - gap]] < v->total[ids[j]];
                 j -= gap) {
                size_t x = ids[j];
                ids[j] = ids[j - gap];
                ids[j - gap] = x;
            }
}

static void add_module(tree_ctx *t, const char *m)
{
    if (m == NULL || *m == '\0')
        return;
    size_t len = strlen(t->mods);
    /* already named? (whole names between ", ") */
    const char *at = t->mods;
    while ((at = strstr(at, m)) != NULL) {
        size_t ml = strlen(m);
        int starts = at == t->mods || (at >= t->mods + 2 && at[-1] == ' ');
        int ends = at[ml] == '\0' || at[ml] == ',';
        if (starts && ends)
            return;
        at += ml;
    }
    if (len + strlen(m) + 8 >= sizeof(t->mods)) {
        if (len + 5 < sizeof(t->mods) && strcmp(t->mods + len - 3, "...") != 0)
            strcat(t->mods, ", ...");
        return;
    }
    if (len > 0)
        strcat(t->mods, ", ");
    strcat(t->mods, m);
}

static int push(size_t **arr, size_t *n, size_t *cap, size_t x)
{
    if (*n == *cap) {
        size_t ncap = *cap * 2 + 16;
        size_t *g = PyMem_RawRealloc(*arr, ncap * sizeof(size_t));
        if (g == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        *arr = g;
        *cap = ncap;
    }
    (*arr)[(*n)++] = x;
    return 0;
}

/* The user frames reached from library node `i` through library frames
 * only, into t->gather; the library frames passed are counted.  A walk
 * with its own stack: a file may hold a chain of any depth. */
static int gather_under(tree_ctx *t, size_t i)
{
    size_t *todo = NULL, ntodo = 0, captodo = 0, cap = 0;
    if (push(&todo, &ntodo, &captodo, i) < 0)
        return -1;
    while (ntodo > 0) {
        size_t at = todo[--ntodo];
        for (size_t k = t->c.first[at]; k < t->c.first[at + 1]; k++) {
            size_t ch = t->c.kids[k];
            const frame_info *f = &t->fi[t->v->func[ch]];
            int rc;
            if (!f->library) {
                rc = push(&t->gather, &t->gathered, &cap, ch);
            } else {
                t->hidden++;
                add_module(t, f->module);
                rc = push(&todo, &ntodo, &captodo, ch);
            }
            if (rc < 0) {
                PyMem_RawFree(todo);
                return -1;
            }
        }
    }
    PyMem_RawFree(todo);
    return 0;
}

static void put_time(tree_ctx *t, double value)
{
    if (t->v->unit == PYRO_UNIT_SECONDS || t->v->unit == PYRO_UNIT_BYTES)
        pyro_text_printf(t->out, "%.3f %s", value * t->unit_scale, t->unit_name);
    else   /* counts: whole numbers */
        pyro_text_printf(t->out, "%.0f%s%s", value, t->unit_name[0] ? " " : "", t->unit_name);
}

static int show(tree_ctx *t, size_t i, int last, int depth);

/* The children to show under node `i`: its own, or for a library frame the
 * user frames under its hidden library frames. */
static int show_children(tree_ctx *t, size_t i, int depth)
{
    const frame_info *f = &t->fi[t->v->func[i]];
    size_t *ids;
    size_t n;
    size_t hidden = 0;
    char mods[sizeof(t->mods)];
    mods[0] = '\0';
    if (f->library) {
        t->gather = NULL;
        t->gathered = 0;
        t->hidden = 0;
        t->mods[0] = '\0';
        if (gather_under(t, i) < 0) {
            PyMem_RawFree(t->gather);
            return -1;
        }
        ids = t->gather;
        n = t->gathered;
        hidden = t->hidden;
        memcpy(mods, t->mods, sizeof(mods));
        t->gather = NULL;
    } else {
        n = t->c.first[i + 1] - t->c.first[i];
        ids = PyMem_RawMalloc((n + 1) * sizeof(size_t));
        if (ids == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(ids, &t->c.kids[t->c.first[i]], n * sizeof(size_t));
    }
    sort_nodes(ids, n, t->v);
    size_t shown_n = 0;
    for (size_t k = 0; k < n; k++)
        if (t->v->total[ids[k]] >= t->o->min_share * t->total)
            shown_n++;
        else
            t->left_out++;
    int rc = 0;
    if (hidden > 0 && t->lines < t->o->max_lines) {
        pyro_text_put(t->out, t->prefix, t->prefix_len);
        pyro_text_str(t->out, shown_n > 0 ? "│  " : "   ");
        pyro_text_printf(t->out, "[%zu library frame%s: %s]\n", hidden, hidden == 1 ? "" : "s",
                         mods);
        t->lines++;
    }
    size_t done = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        if (t->v->total[ids[k]] < t->o->min_share * t->total)
            continue;
        done++;
        rc = show(t, ids[k], done == shown_n, depth);
    }
    PyMem_RawFree(ids);
    return rc;
}

static int show(tree_ctx *t, size_t i, int last, int depth)
{
    if (t->lines >= t->o->max_lines) {
        t->left_out++;
        return 0;
    }
    const frame_info *f = &t->fi[t->v->func[i]];
    pyro_text_put(t->out, t->prefix, t->prefix_len);
    if (depth > 0)
        pyro_text_str(t->out, last ? "└─ " : "├─ ");
    put_time(t, t->v->total[i]);
    pyro_text_printf(t->out, " %5.1f%%  %s", t->total > 0 ? 100.0 * t->v->total[i] / t->total
                                                          : 0.0, f->name);
    if (f->where != NULL) {
        pyro_text_str(t->out, "  ");
        pyro_text_str(t->out, f->where);
    }
    pyro_text_char(t->out, '\n');
    t->lines++;
    size_t saved = t->prefix_len;
    if (depth > 0) {
        const char *guide = last ? "   " : "│  ";
        size_t gl = strlen(guide);
        if (t->prefix_len + gl < sizeof(t->prefix)) {
            memcpy(t->prefix + t->prefix_len, guide, gl);
            t->prefix_len += gl;
        }
    }
    int rc = depth < 200 ? show_children(t, i, depth + 1) : 0;
    t->prefix_len = saved;
    return rc;
}

int pyro_format_tree(const pyro_stack_view *v, const pyro_tree_report_opts *o, pyro_text *out)
{
    tree_ctx t = {.v = v, .o = o, .out = out};
    t.fi = frames_of(v, o->root);
    if (t.fi == NULL)
        return -1;
    int rc = -1;
    if (children_of(v, &t.c) < 0)
        goto done;
    for (size_t k = t.c.first[v->n]; k < t.c.first[v->n + 1]; k++)
        t.total += v->total[t.c.kids[k]];
    if (v->unit == PYRO_UNIT_SECONDS) {
        t.unit_scale = t.total >= 1.0 ? 1.0 : t.total >= 1e-3 ? 1e3 : 1e6;
        t.unit_name = t.total >= 1.0 ? "s" : t.total >= 1e-3 ? "ms" : "us";
    } else if (v->unit == PYRO_UNIT_BYTES) {
        /* One scale for the whole tree, from its total: the column reads
         * in one notation. */
        static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int k = 0;
        double scale = 1.0;
        while (k < 4 && t.total * scale >= 1024.0) {
            scale /= 1024.0;
            k++;
        }
        t.unit_scale = scale;
        t.unit_name = names[k];
    } else {
        t.unit_scale = 1.0;
        t.unit_name = v->unit == PYRO_UNIT_COUNT ? "" : pyro_unit_name(v->unit);
    }
    if (v->unit == PYRO_UNIT_SECONDS)
        pyro_text_str(out, "Call tree: ");
    else
        pyro_text_printf(out, "Call tree, %s: ", v->metric->name);
    put_time(&t, t.total);
    pyro_text_printf(out, " in all; library frames under the user's code are folded, paths "
                          "under %.3g%% of the total left out\n\n", 100.0 * o->min_share);
    size_t nroots = t.c.first[v->n + 1] - t.c.first[v->n];
    size_t *roots = PyMem_RawMalloc((nroots + 1) * sizeof(size_t));
    if (roots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(roots, &t.c.kids[t.c.first[v->n]], nroots * sizeof(size_t));
    sort_nodes(roots, nroots, v);
    rc = 0;
    for (size_t k = 0; k < nroots && rc == 0; k++) {
        if (v->total[roots[k]] < o->min_share * t.total) {
            t.left_out++;
            continue;
        }
        t.prefix_len = 0;
        rc = show(&t, roots[k], 1, 0);
    }
    PyMem_RawFree(roots);
    if (rc == 0 && t.left_out > 0)
        pyro_text_printf(out, "\n%zu call path%s left out (under %.3g%% of the total, or past "
                              "%zu lines)\n", t.left_out, t.left_out == 1 ? "" : "s",
                         100.0 * o->min_share, o->max_lines);
done:
    PyMem_RawFree(t.c.first);
    PyMem_RawFree(t.c.kids);
    free_frames((frame_info *)t.fi, v->nfuncs);
    return rc;
}
