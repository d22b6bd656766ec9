/* html_writer.c: a profile as a self-contained HTML page.
 *
 * The page's code is the template (pyrometer/_html/report.html); what
 * varies is one JSON object spliced in at HTML_DATA_MARKER.  The JSON is
 * columnar, so that 100 000 functions parse in a few tens of milliseconds
 * and become typed arrays in the page:
 *
 *   function profile
 *     {"kind": "funcs", "unit": 1e-9, "meta": {str: str}, "n": N,
 *      "files": [file names], "short": [each file as the page shows it:
 *                         <stdlib>/..., <site-packages>/..., the program's
 *                         below the folder its files share],
 *      "ff": [file index], "fl": [line], "fn": [name],
 *                         one per function: the N with an entry of their
 *                         own first, then callers or tree functions without
 *      "cc", "nc", "tt", "ct": [primitive calls, calls, tottime, cumtime]
 *                         of the N functions, times as integers of `unit`,
 *      "ncal": [number of callers of each of the N],
 *      "ca", "enc", "ecc", "ett", "ect": [caller, nc, cc, tt, ct] of every
 *                         caller->callee edge, callee by callee,
 *      "tree": null or {"folded": bool, "pd": [node - parent, 0 at a root],
 *                       "func", "calls", "self", "total": [per node]}}
 *
 *   line profile
 *     {"kind": "lines", "unit": seconds, "meta": {...}, "info": {...},
 *      "functions": [{"file", "line", "name", "t": [line, hits, time, ...],
 *                     "src": [lines] or null}]}
 *
 * Strings are escaped so that nothing in them can end the block
 * (formats/html_json). */
#include "formats/html_writer.h"
#include "formats/html_json.h"
#include "model/line_view.h"
#include "core/text_out.h"
#include "core/errors.h"
#include "model/pstats_shape.h"
#include "model/stack_view.h"
#include "model/callgraph.h"
#include "model/portable_path.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- JSON text, in the writers' text buffer ------------------------------ */

typedef pyro_text jbuf;

#define jb_put pyro_text_put
#define jb_lit pyro_text_str
#define jb_ch pyro_text_char
#define jb_ll pyro_text_ll
#define jb_str pyro_json_str
#define jb_any_str pyro_json_any_str
#define jb_cstr pyro_json_cstr
#define jb_key pyro_json_key
#define jb_meta pyro_json_meta

/* A number JSON can hold: not-finite values (damaged input) become 0. */
static void jb_dbl(jbuf *b, double x)
{
    pyro_text_double(b, isfinite(x) ? x : 0.0);
}

/* What a value in the page is multiplied by to be an integer: 1e9 for
 * seconds (nanoseconds; the page's `unit` is then 1e-9), 1 for bytes and
 * counts.  Set for each page, under the GIL. */
static double value_scale = 1e9;

/* A value as an integer number of the page's `unit`. */
static void jb_ns(jbuf *b, double seconds)
{
    double v = seconds * value_scale;
    if (isfinite(v) && fabs(v) < 9e15)
        jb_ll(b, llround(v));
    else
        jb_dbl(b, v);
}

/* ---- function profiles --------------------------------------------------- */

/* The functions by index, found by key.  Keys are looked up by identity
 * first (the .prof reader gives a caller the very tuple of the function's
 * own key), by value in `ids` only when that fails. */
typedef struct {
    PyObject *ids;             /* {key: index} */
    PyObject *keys;            /* [key] by index */
    Py_ssize_t n;              /* functions with an entry: the first n keys */
    PyObject **slot_key;       /* open addressing by pointer; NULL: empty */
    Py_ssize_t *slot_id;
    size_t mask, used;
} funcs;

static size_t ptr_slot(const funcs *f, PyObject *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 29) & f->mask;
}

static int ptr_grow(funcs *f)
{
    size_t cap = f->mask ? (f->mask + 1) * 2 : 1 << 12;
    PyObject **keys = PyMem_RawCalloc(cap, sizeof(PyObject *));
    Py_ssize_t *ids = PyMem_RawMalloc(cap * sizeof(Py_ssize_t));
    if (keys == NULL || ids == NULL) {
        PyMem_RawFree(keys);
        PyMem_RawFree(ids);
        PyErr_NoMemory();
        return -1;
    }
    PyObject **old_keys = f->slot_key;
    Py_ssize_t *old_ids = f->slot_id;
    size_t old_cap = f->mask ? f->mask + 1 : 0;
    f->slot_key = keys;
    f->slot_id = ids;
    f->mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (old_keys[i] == NULL)
            continue;
        size_t j = ptr_slot(f, old_keys[i]);
        while (keys[j] != NULL)
            j = (j + 1) & f->mask;
        keys[j] = old_keys[i];
        ids[j] = old_ids[i];
    }
    PyMem_RawFree(old_keys);
    PyMem_RawFree(old_ids);
    return 0;
}

/* Remember that the object `key` (borrowed: the input keeps it alive) is
 * function `id`.  -1 + MemoryError. */
static int ptr_put(funcs *f, PyObject *key, Py_ssize_t id)
{
    if ((f->used + 1) * 2 > (f->mask ? f->mask + 1 : 0) && ptr_grow(f) < 0)
        return -1;
    size_t j = ptr_slot(f, key);
    while (f->slot_key[j] != NULL) {
        if (f->slot_key[j] == key)
            return 0;
        j = (j + 1) & f->mask;
    }
    f->slot_key[j] = key;
    f->slot_id[j] = id;
    f->used++;
    return 0;
}

static Py_ssize_t ptr_get(const funcs *f, PyObject *key)
{
    if (f->mask == 0)
        return -1;
    size_t j = ptr_slot(f, key);
    while (f->slot_key[j] != NULL) {
        if (f->slot_key[j] == key)
            return f->slot_id[j];
        j = (j + 1) & f->mask;
    }
    return -1;
}

static void funcs_free(funcs *f)
{
    Py_XDECREF(f->ids);
    Py_XDECREF(f->keys);
    PyMem_RawFree(f->slot_key);
    PyMem_RawFree(f->slot_id);
}

/* The index of `key`, added to the functions if new; *known set when the
 * key was met before (so it has been checked).  -1 + exception. */
static Py_ssize_t func_id(funcs *f, PyObject *key, int *known)
{
    Py_ssize_t id = ptr_get(f, key);
    if (id >= 0) {
        *known = 1;
        return id;
    }
    PyObject *found = PyDict_GetItemWithError(f->ids, key);
    if (found != NULL) {
        *known = 1;
        id = PyLong_AsSsize_t(found);
        return ptr_put(f, key, id) < 0 ? -1 : id;
    }
    if (PyErr_Occurred())
        return -1;
    *known = 0;
    id = PyList_GET_SIZE(f->keys);
    PyObject *v = PyLong_FromSsize_t(id);
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItem(f->ids, key, v);
    Py_DECREF(v);
    if (rc < 0 || PyList_Append(f->keys, key) < 0 || ptr_put(f, key, id) < 0)
        return -1;
    return id;
}

/* The index among the functions of each function of the tree.  0, or -1 +
 * exception. */
static int tree_ids(funcs *f, const pyro_stack_view *t, Py_ssize_t **fid)
{
    *fid = PyMem_RawMalloc(sizeof(Py_ssize_t) * (t->nfuncs > 0 ? t->nfuncs : 1));
    if (*fid == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < t->nfuncs; i++) {
        int known;
        if (((*fid)[i] = func_id(f, PyList_GET_ITEM(t->funcs, (Py_ssize_t)i), &known)) < 0)
            return -1;
    }
    return 0;
}

static void tree_json(jbuf *b, const pyro_stack_view *t, const Py_ssize_t *fid)
{
    jb_lit(b, "{\"folded\":");
    jb_lit(b, t->folded ? "true" : "false");
    jb_lit(b, ",\"pd\":[");
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, t->parent[i] < 0 ? 0 : (long long)i - (long long)t->parent[i]);
    }
    jb_lit(b, "],\"func\":[");
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, (long long)fid[t->func[i]]);
    }
    jb_lit(b, "],\"calls\":[");
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, t->calls[i] > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)t->calls[i]);
    }
    jb_lit(b, "],\"self\":[");
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ns(b, t->self[i]);
    }
    jb_lit(b, "],\"total\":[");
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ns(b, t->total[i]);
    }
    jb_lit(b, "]}");
}

typedef struct {
    Py_ssize_t caller;
    long long nc, cc;
    double tt, ct;
} edge;

/* Every caller->callee edge, callee by callee (in entry order), with the
 * number of callers of each entry in ncal; each call checked as it is
 * read.  -1 + exception (FormatError for a call of the wrong shape). */
static int collect_edges(PyObject *stats, funcs *f, edge **out, Py_ssize_t *count, Py_ssize_t *ncal)
{
    Py_ssize_t total = 0, pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value))
        total += PyDict_GET_SIZE(PyTuple_GET_ITEM(value, 4));
    edge *e = PyMem_RawMalloc(sizeof(edge) * (size_t)(total > 0 ? total : 1));
    if (e == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t k = 0;
    pos = 0;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        PyObject *callers = PyTuple_GET_ITEM(value, 4), *ck, *cv, *reason = NULL;
        Py_ssize_t cpos = 0;
        ncal[i] = PyDict_GET_SIZE(callers);
        while (PyDict_Next(callers, &cpos, &ck, &cv)) {
            int known = 0;
            Py_ssize_t id = ptr_get(f, ck);
            if (id >= 0)
                known = 1;
            int bad = pyro_check_call(key, ck, cv, known, &reason);
            if (bad != 0) {
                if (bad > 0)
                    PyErr_Format(pyro_FormatError, "pyrometer: not a pstats dict: %U", reason);
                Py_XDECREF(reason);
                goto fail;
            }
            if (id < 0 && (id = func_id(f, ck, &known)) < 0)
                goto fail;
            if (k >= total) {
                PyErr_SetString(PyExc_RuntimeError, "pyrometer: stats changed while written");
                goto fail;
            }
            e[k].caller = id;
            if (PyTuple_Check(cv)) {
                e[k].nc = PyLong_AsLongLong(PyTuple_GET_ITEM(cv, 0));
                e[k].cc = PyLong_AsLongLong(PyTuple_GET_ITEM(cv, 1));
                e[k].tt = PyFloat_AsDouble(PyTuple_GET_ITEM(cv, 2));
                e[k].ct = PyFloat_AsDouble(PyTuple_GET_ITEM(cv, 3));
            } else {   /* the profile module: a call count only */
                e[k].nc = e[k].cc = PyLong_AsLongLong(cv);
                e[k].tt = e[k].ct = 0.0;
            }
            k++;
        }
        i++;
    }
    *out = e;
    *count = k;
    return 0;
fail:
    PyMem_RawFree(e);
    return -1;
}

/* The index in `files` of each function's file name, each name once. */
static int file_index(funcs *f, PyObject *files, Py_ssize_t *ff)
{
    PyObject *ids = PyDict_New();
    if (ids == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(f->keys); i++) {
        PyObject *file = PyTuple_GET_ITEM(PyList_GET_ITEM(f->keys, i), 0);
        PyObject *found = PyDict_GetItemWithError(ids, file);
        if (found != NULL) {
            ff[i] = PyLong_AsSsize_t(found);
            continue;
        }
        if (PyErr_Occurred())
            goto fail;
        ff[i] = PyList_GET_SIZE(files);
        PyObject *v = PyLong_FromSsize_t(ff[i]);
        if (v == NULL)
            goto fail;
        int err = PyDict_SetItem(ids, file, v) < 0 || PyList_Append(files, file) < 0;
        Py_DECREF(v);
        if (err)
            goto fail;
    }
    Py_DECREF(ids);
    return 0;
fail:
    Py_DECREF(ids);
    return -1;
}

/* [the short form of each file] (model/portable_path).  -1 + exception. */
static int short_files(jbuf *b, PyObject *files)
{
    char *root = NULL;
    int rc = -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(files); i++)
        if (pyro_path_widen_root(&root, PyList_GET_ITEM(files, i)) < 0)
            goto done;
    jb_ch(b, '[');
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(files); i++) {
        PyObject *shown = pyro_path_shown(PyList_GET_ITEM(files, i), root);
        if (i)
            jb_ch(b, ',');
        if (shown == NULL || jb_any_str(b, shown) < 0) {
            Py_XDECREF(shown);
            goto done;
        }
        Py_DECREF(shown);
    }
    jb_ch(b, ']');
    rc = 0;
done:
    PyMem_RawFree(root);
    return rc;
}

/* "name":[v0,v1,...] of item `item` of each entry (counts or times). */
static void entry_column(jbuf *b, PyObject *stats, const char *name, int item, int is_time)
{
    jb_key(b, name, 0);
    jb_ch(b, '[');
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        if (i++)
            jb_ch(b, ',');
        PyObject *v = PyTuple_GET_ITEM(value, item);
        if (is_time)
            jb_ns(b, PyFloat_AsDouble(v));
        else
            jb_ll(b, PyLong_AsLongLong(v));
    }
    jb_ch(b, ']');
}

static int funcs_json(jbuf *b, PyObject *stats, PyObject *tree, PyObject *meta,
                      const char *metric, pyro_unit unit)
{
    if (!PyDict_Check(stats)) {
        PyErr_SetString(pyro_FormatError, "pyrometer: not a pstats dict: the stats are not a dict");
        return -1;
    }
    int rc = -1;
    funcs f = {PyDict_New(), PyList_New(0), 0, NULL, NULL, 0, 0};
    PyObject *files = PyList_New(0);
    Py_ssize_t *ncal = NULL, *fid = NULL, *ff = NULL, nedges = 0;
    edge *edges = NULL;
    pyro_stack_view t;
    int have_view = 0;
    if (f.ids == NULL || f.keys == NULL || files == NULL)
        goto done;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        PyObject *reason = NULL;
        int bad = pyro_check_entry(key, value, 0, &reason), known;
        if (bad != 0) {
            if (bad > 0)
                PyErr_Format(pyro_FormatError, "pyrometer: not a pstats dict: %U", reason);
            Py_XDECREF(reason);
            goto done;
        }
        if (func_id(&f, key, &known) < 0)
            goto done;
    }
    f.n = PyList_GET_SIZE(f.keys);
    ncal = PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(f.n > 0 ? f.n : 1));
    if (ncal == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (collect_edges(stats, &f, &edges, &nedges, ncal) < 0)
        goto done;
    if (tree != NULL) {
        PyObject *reason = NULL;
        int bad = pyro_stack_view_init(&t, tree, &reason);
        if (bad != 0) {
            if (bad > 0)
                PyErr_Format(pyro_FormatError, "pyrometer: the call tree is damaged: %U", reason);
            Py_XDECREF(reason);
            goto done;
        }
        have_view = 1;
        if (pyro_stack_view_select(&t, metric) < 0)
            goto done;
        if (tree_ids(&f, &t, &fid) < 0)
            goto done;
    }
    Py_ssize_t nall = PyList_GET_SIZE(f.keys);
    ff = PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(nall > 0 ? nall : 1));
    if (ff == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (file_index(&f, files, ff) < 0)
        goto done;

    value_scale = unit == PYRO_UNIT_SECONDS ? 1e9 : 1.0;
    jb_lit(b, unit == PYRO_UNIT_SECONDS ? "{\"kind\":\"funcs\",\"unit\":1e-9"
                                        : "{\"kind\":\"funcs\",\"unit\":1");
    jb_lit(b, ",\"metric\":{\"name\":");
    PyObject *mname = PyUnicode_FromString(metric != NULL ? metric : "time");
    if (mname == NULL || jb_str(b, mname) < 0) {
        Py_XDECREF(mname);
        goto done;
    }
    Py_DECREF(mname);
    jb_lit(b, ",\"unit\":\"");
    jb_lit(b, pyro_unit_name(unit));
    jb_lit(b, "\"},\"meta\":");
    if (jb_meta(b, meta) < 0)
        goto done;
    jb_key(b, "n", 0);
    jb_ll(b, (long long)f.n);
    jb_key(b, "files", 0);
    jb_ch(b, '[');
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(files); i++) {
        if (i)
            jb_ch(b, ',');
        if (jb_str(b, PyList_GET_ITEM(files, i)) < 0)
            goto done;
    }
    jb_lit(b, "],\"short\":");
    if (short_files(b, files) < 0)
        goto done;
    jb_lit(b, ",\"ff\":[");
    for (Py_ssize_t i = 0; i < nall; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, (long long)ff[i]);
    }
    jb_lit(b, "],\"fl\":[");
    for (Py_ssize_t i = 0; i < nall; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, PyLong_AsLongLong(PyTuple_GET_ITEM(PyList_GET_ITEM(f.keys, i), 1)));
    }
    jb_lit(b, "],\"fn\":[");
    for (Py_ssize_t i = 0; i < nall; i++) {
        if (i)
            jb_ch(b, ',');
        if (jb_any_str(b, PyTuple_GET_ITEM(PyList_GET_ITEM(f.keys, i), 2)) < 0)
            goto done;
    }
    jb_ch(b, ']');
    entry_column(b, stats, "cc", 0, 0);
    entry_column(b, stats, "nc", 1, 0);
    entry_column(b, stats, "tt", 2, 1);
    entry_column(b, stats, "ct", 3, 1);
    jb_lit(b, ",\"ncal\":[");
    for (Py_ssize_t i = 0; i < f.n; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, (long long)ncal[i]);
    }
    jb_lit(b, "],\"ca\":[");
    for (Py_ssize_t i = 0; i < nedges; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, (long long)edges[i].caller);
    }
    jb_lit(b, "],\"enc\":[");
    for (Py_ssize_t i = 0; i < nedges; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, edges[i].nc);
    }
    jb_lit(b, "],\"ecc\":[");
    for (Py_ssize_t i = 0; i < nedges; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ll(b, edges[i].cc);
    }
    jb_lit(b, "],\"ett\":[");
    for (Py_ssize_t i = 0; i < nedges; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ns(b, edges[i].tt);
    }
    jb_lit(b, "],\"ect\":[");
    for (Py_ssize_t i = 0; i < nedges; i++) {
        if (i)
            jb_ch(b, ',');
        jb_ns(b, edges[i].ct);
    }
    jb_lit(b, "],\"tree\":");
    if (tree != NULL)
        tree_json(b, &t, fid);
    else
        jb_lit(b, "null");
    jb_ch(b, '}');
    rc = PyErr_Occurred() ? -1 : 0;
done:
    if (have_view)
        pyro_stack_view_release(&t);
    funcs_free(&f);
    Py_XDECREF(files);
    PyMem_RawFree(ncal);
    PyMem_RawFree(fid);
    PyMem_RawFree(ff);
    PyMem_RawFree(edges);
    return rc;
}

/* ---- line profiles ------------------------------------------------------- */

/* The view's first metric is the one drawn; "unit" is its scale (what one
 * integer value is worth in the metric's unit). */
static int lines_json(jbuf *b, PyObject *lines, PyObject *meta)
{
    PyObject *reason = NULL;
    pyro_line_view v;
    int bad = pyro_line_view_init(&v, lines, &reason);
    if (bad != 0) {
        if (bad > 0)
            PyErr_Format(pyro_FormatError, "pyrometer: not a line profile: %U", reason);
        Py_XDECREF(reason);
        return -1;
    }
    int rc = -1;
    const pyro_line_metric *m = &v.metrics[0];
    jb_lit(b, "{\"kind\":\"lines\",\"unit\":");
    jb_dbl(b, m->scale);
    jb_lit(b, ",\"metric\":{\"name\":");
    if (jb_cstr(b, m->name) < 0)
        goto done;
    jb_lit(b, ",\"unit\":");
    jb_cstr(b, pyro_unit_name(m->unit));
    jb_lit(b, "},\"meta\":");
    if (jb_meta(b, meta) < 0)
        goto done;
    jb_lit(b, ",\"info\":");
    if (jb_meta(b, v.meta) < 0)
        goto done;
    jb_lit(b, ",\"functions\":[");
    for (size_t i = 0; i < v.nfuncs; i++) {
        const pyro_line_function *fn = &v.funcs[i];
        if (i)
            jb_ch(b, ',');
        jb_lit(b, "{\"file\":");
        if (jb_str(b, fn->file) < 0)
            goto done;
        jb_lit(b, ",\"line\":");
        jb_ll(b, fn->first_line);
        jb_lit(b, ",\"name\":");
        if (jb_str(b, fn->name) < 0)
            goto done;
        jb_lit(b, ",\"t\":[");
        for (size_t j = 0; j < fn->nrows; j++) {
            const pyro_line_row *row = &v.rows[fn->first_row + j];
            if (j)
                jb_ch(b, ',');
            jb_ll(b, row->line);
            jb_ch(b, ',');
            jb_ll(b, row->hits);
            jb_ch(b, ',');
            jb_ll(b, row->value[0]);
        }
        jb_lit(b, "],\"src\":");
        if (fn->source == NULL) {
            jb_lit(b, "null");
        } else {
            jb_ch(b, '[');
            for (Py_ssize_t j = 0; j < PyList_GET_SIZE(fn->source); j++) {
                if (j)
                    jb_ch(b, ',');
                if (jb_str(b, PyList_GET_ITEM(fn->source, j)) < 0)
                    goto done;
            }
            jb_ch(b, ']');
        }
        jb_ch(b, '}');
    }
    jb_lit(b, "]}");
    rc = PyErr_Occurred() ? -1 : 0;
done:
    pyro_line_view_release(&v);
    return rc;
}

/* ---- the page ------------------------------------------------------------ */

int pyro_write_html(const pyro_html_page *page, pyro_text *out)
{
    char metric_name[32];
    PyObject *stats = page->stats, *tree = page->tree, *lines = page->lines, *meta = page->meta;
    const char *metric = page->metric;
    const char *tpl = page->template;
    Py_ssize_t tlen = (Py_ssize_t)page->template_len;
    if ((stats == Py_None && tree == Py_None) == (lines == Py_None)) {
        PyErr_SetString(PyExc_TypeError,
                        "pyrometer: write_html takes stats (or a tree) or lines, one of them");
        return -1;
    }
    const char *mark = strstr(tpl, HTML_DATA_MARKER);
    size_t mlen = strlen(HTML_DATA_MARKER);
    if (mark == NULL || strstr(mark + mlen, HTML_DATA_MARKER) != NULL) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the HTML template needs its data marker once");
        return -1;
    }
    /* A profile of another metric than time (or a tree alone): its
     * function table comes from the tree's call graph, in that metric. */
    PyObject *own_stats = NULL;
    pyro_unit unit = page->stats_unit;
    if (lines == Py_None && tree != Py_None) {
        pyro_stack_view v;
        PyObject *reason = NULL;
        int bad = pyro_stack_view_init(&v, tree, &reason);
        if (bad != 0) {
            if (bad > 0)
                PyErr_Format(pyro_FormatError, "pyrometer: the call tree is damaged: %U", reason);
            Py_XDECREF(reason);
            return -1;
        }
        if (pyro_stack_view_select(&v, metric) < 0) {
            pyro_stack_view_release(&v);
            return -1;
        }
        unit = v.unit;
        metric = v.metric->name[0] ? v.metric->name : NULL;
        if (stats == Py_None || unit != PYRO_UNIT_SECONDS) {
            pyro_callgraph g;
            if (pyro_callgraph_from_view(&v, &g) == 0)
                own_stats = pyro_callgraph_as_stats(&g);
            pyro_callgraph_free(&g);
            if (own_stats == NULL) {
                pyro_stack_view_release(&v);
                return -1;
            }
            stats = own_stats;
        }
        metric = metric != NULL ? strcpy(metric_name, metric) : NULL;
        pyro_stack_view_release(&v);
    }
    jbuf *b = out;
    jb_put(b, tpl, (size_t)(mark - tpl));
    int rc = stats != Py_None
        ? funcs_json(b, stats, tree == Py_None ? NULL : tree, meta, metric, unit)
        : lines_json(b, lines, meta);
    Py_XDECREF(own_stats);
    jb_put(b, mark + mlen, (size_t)(tlen - (mark + mlen - tpl)));
    return rc;
}
