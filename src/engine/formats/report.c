/* report.c: pstats' text reports from a pstats dict, in pyrometer's
 * columns or byte for byte.
 *
 * format_report() prints what Stats.sort_stats(*sort).print_stats(),
 * print_callers() or print_callees() print, including their quirks; in
 * pyrometer's columns (the default, report.h) only the numbers are laid
 * out otherwise, and a share of the total is added.
 * pstats spends microseconds of Python per line; here the sort is a
 * stable C merge sort with pstats' multi-key compare, and the text goes
 * into one UTF-8 buffer decoded to str at the end.  Comments name the
 * pstats method each part mirrors.
 *
 * This file holds the entry point and what every report needs: the
 * function keys as text, the entries loaded from the dict, the
 * restrictions and the stats table, in pstats' layout or in pyrometer's
 * columns (report.h).  The sort is in report_sort.c, the callers and
 * callees in report_calls.c, the notation of a column in
 * report_columns.c, the output buffer in text_buffer.h. */
#include "core/text_out.h"
#include "model/pstats_shape.h"
#include "formats/report.h"
#include "formats/report_internal.h"

/* ---- function keys ------------------------------------------------------ */

/* UTF-8 of a str: the cached one, or for lone surrogates (undecodable file
 * names) a surrogatepass copy; the output is decoded the same way, so they
 * come back unchanged.  Byte order is code point order either way. */
static int utf8_of(rctx *c, PyObject *s, utf8_span *out)
{
    out->s = PyUnicode_AsUTF8AndSize(s, &out->len);
    PyObject *b = NULL;
    if (out->s != NULL) {
        /* Control characters reach no terminal: spelt \xNN. */
        if (!pyro_utf8_has_controls(out->s, (size_t)out->len, 0))
            return 0;
        b = pyro_escape_controls_utf8(out->s, (size_t)out->len, 0);
        if (b == NULL)
            return -1;
    }
    else {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return -1;
        PyErr_Clear();
        PyObject *raw = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
        if (raw == NULL)
            return -1;
        b = pyro_escape_controls_utf8(PyBytes_AS_STRING(raw), (size_t)PyBytes_GET_SIZE(raw), 0);
        if (b == NULL && PyErr_Occurred()) {
            Py_DECREF(raw);
            return -1;
        }
        if (b == NULL)
            b = raw;
        else
            Py_DECREF(raw);
    }
    if (c->keep == NULL && (c->keep = PyList_New(0)) == NULL) {
        Py_DECREF(b);
        return -1;
    }
    int rc = PyList_Append(c->keep, b);
    Py_DECREF(b);
    if (rc < 0)
        return -1;
    out->s = PyBytes_AS_STRING(b);
    out->len = PyBytes_GET_SIZE(b);
    return 0;
}

/* A str to print for `o`: itself, or str(o) kept alive in c->keep. */
static PyObject *as_str(rctx *c, PyObject *o)
{
    if (PyUnicode_Check(o))
        return o;
    PyObject *s = PyObject_Str(o);
    if (s == NULL)
        return NULL;
    if (c->keep == NULL && (c->keep = PyList_New(0)) == NULL) {
        Py_DECREF(s);
        return NULL;
    }
    int rc = PyList_Append(c->keep, s);
    Py_DECREF(s);
    return rc < 0 ? NULL : s;
}

/* `key` has been checked (pyro_check_entry/call): (str, int, name).  The
 * name is a str but in the profile module's entry for its command, which
 * pstats prints with "%s" and which sorts here as that text. */
int pyro_report_key_of(rctx *c, PyObject *key, fkey *k)
{
    PyObject *file = PyTuple_GET_ITEM(key, 0), *name = as_str(c, PyTuple_GET_ITEM(key, 2));
    if (name == NULL || utf8_of(c, file, &k->file) < 0 || utf8_of(c, name, &k->name) < 0)
        return -1;
    k->ascii = k->file.len == PyUnicode_GET_LENGTH(file) && k->name.len == PyUnicode_GET_LENGTH(name);
    k->line = PyLong_AsLongLong(PyTuple_GET_ITEM(key, 1));
    k->builtin = k->line == 0 && k->file.len == 1 && k->file.s[0] == '~';
    return 0;
}

/* Code points in UTF-8 text (a surrogatepass surrogate is one too). */
static Py_ssize_t utf8_width(const utf8_span *s)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < s->len; i++)
        n += ((unsigned char)s->s[i] & 0xC0) != 0x80;
    return n;
}

/* len(func_std_string(key)), in code points as str.ljust counts. */
static Py_ssize_t std_width(PyObject *key, const fkey *k)
{
    PyObject *name_obj = PyTuple_GET_ITEM(key, 2);
    Py_ssize_t name = PyUnicode_Check(name_obj) ? PyUnicode_GetLength(name_obj)
                                                : utf8_width(&k->name);
    if (k->builtin)
        return name;
    return PyUnicode_GetLength(PyTuple_GET_ITEM(key, 0)) + ll_width(k->line) + name + 3;
}

/* pstats' func_std_string(): "file:line(name)", or for a C function its
 * name, with <...> spelt {...}. */
void pyro_report_ob_std(outbuf *o, const fkey *k)
{
    if (k->builtin) {
        const char *s = k->name.s;
        Py_ssize_t n = k->name.len;
        if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
            ob_char(o, '{');
            ob_put(o, s + 1, (size_t)n - 2);
            ob_char(o, '}');
        } else {
            ob_put(o, s, (size_t)n);
        }
        return;
    }
    ob_put(o, k->file.s, (size_t)k->file.len);
    ob_char(o, ':');
    ob_ll(o, k->line);
    ob_char(o, '(');
    ob_put(o, k->name.s, (size_t)k->name.len);
    ob_char(o, ')');
}

int pyro_report_not_pstats(PyObject *reason)
{
    PyErr_Format(PyExc_ValueError, "pyrometer: stats is not a pstats dict (%U)", reason);
    Py_DECREF(reason);
    return -1;
}

/* ---- restrictions: Stats.eval_print_amount() ------------------------------ */

/* "%r" % obj; *failed set (with the exception) if repr() fails. */
static void ob_repr(outbuf *o, PyObject *obj, int *failed)
{
    PyObject *r = PyObject_Repr(obj);
    Py_ssize_t n;
    const char *s = r != NULL ? PyUnicode_AsUTF8AndSize(r, &n) : NULL;
    if (s == NULL) {
        *failed = 1;
    } else {
        ob_put(o, s, (size_t)n);
    }
    Py_XDECREF(r);
}

static PyObject *std_str(const fkey *k)
{
    outbuf t = {0};
    pyro_report_ob_std(&t, k);
    PyObject *s = t.failed ? PyErr_NoMemory()
                           : PyUnicode_DecodeUTF8(t.buf ? t.buf : "", (Py_ssize_t)t.len, "surrogatepass");
    PyMem_RawFree(t.buf);
    return s;
}

/* Apply one restriction to list[0:*count]; message lines go to msg. */
static int restrict_list(PyObject *sel, entry **list, Py_ssize_t *count, outbuf *msg)
{
    Py_ssize_t before = *count, after = before;
    int failed = 0;
    if (PyUnicode_Check(sel)) {
        PyObject *re = PyImport_ImportModule("re");
        if (re == NULL)
            return -1;
        PyObject *re_error = PyObject_GetAttrString(re, "error");
        if (re_error == NULL) {
            Py_DECREF(re);
            return -1;
        }
        PyObject *rex = PyObject_CallMethod(re, "compile", "O", sel);
        Py_DECREF(re);
        if (rex == NULL) {
            int bad_pattern = PyErr_ExceptionMatches(re_error);
            Py_DECREF(re_error);
            if (!bad_pattern)
                return -1;
            PyErr_Clear();
            ob_str(msg, "   <Invalid regular expression ");
            ob_repr(msg, sel, &failed);
            ob_str(msg, ">\n");
            return failed ? -1 : 0;
        }
        Py_DECREF(re_error);
        PyObject *search = PyObject_GetAttrString(rex, "search");
        Py_DECREF(rex);
        if (search == NULL)
            return -1;
        after = 0;
        for (Py_ssize_t i = 0; i < before; i++) {
            PyObject *s = std_str(&list[i]->k);
            PyObject *m = s != NULL ? PyObject_CallFunctionObjArgs(search, s, NULL) : NULL;
            Py_XDECREF(s);
            if (m == NULL) {
                Py_DECREF(search);
                return -1;
            }
            if (m != Py_None)
                list[after++] = list[i];
            Py_DECREF(m);
        }
        Py_DECREF(search);
    } else if (PyFloat_Check(sel)) {
        double f = PyFloat_AS_DOUBLE(sel);
        if (0.0 <= f && f < 1.0)
            after = (Py_ssize_t)((double)before * f + .5);
    } else if (PyLong_Check(sel)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(sel, &overflow);
        if (overflow == 0 && 0 <= v && v < before)
            after = (Py_ssize_t)v;
    } else {
        PyErr_Format(PyExc_TypeError,
                     "pyrometer: limit must be an int, a float, a regex str or a tuple of "
                     "them, not %.100s", Py_TYPE(sel)->tp_name);
        return -1;
    }
    if (after != before) {
        ob_str(msg, "   List reduced from ");
        ob_ll(msg, before);
        ob_str(msg, " to ");
        ob_ll(msg, after);
        ob_str(msg, " due to restriction <");
        ob_repr(msg, sel, &failed);
        ob_str(msg, ">\n");
    }
    *count = after;
    return failed ? -1 : 0;
}

/* ---- format_report ---------------------------------------------------------- */

enum { MODE_STATS, MODE_CALLERS, MODE_CALLEES };

/* Stable storage for the keys of callers that have no entry. */
typedef struct fkey_chunk {
    struct fkey_chunk *next;
    size_t used;
    fkey keys[256];
} fkey_chunk;

fkey *pyro_report_other_key(report *r)
{
    if (r->others == NULL || r->others->used == 256) {
        fkey_chunk *c = PyMem_RawMalloc(sizeof(*c));
        if (c == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        c->next = r->others;
        c->used = 0;
        r->others = c;
    }
    return &r->others->keys[r->others->used++];
}

static int all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* Where the report goes, now that all the text it holds is known: straight
 * into a str if it is all ASCII.  `hint`: about the bytes it will take. */
int pyro_report_start_output(report *r, size_t hint)
{
    if (r->ascii && all_ascii(r->msg.buf ? r->msg.buf : "", r->msg.len))
        return pyro_outbuf_start_str(&r->out, hint + r->msg.len + 256);
    ob_room(&r->out, hint);
    return 0;
}

static int load_entries(report *r)
{
    r->n = PyDict_Size(r->c.stats);
    r->entries = PyMem_RawCalloc((size_t)r->n + 1, sizeof(*r->entries));
    r->list = PyMem_RawMalloc(((size_t)r->n + 1) * sizeof(*r->list));
    if (r->entries == NULL || r->list == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    /* Stats.get_top_level_stats(): totals in dict order (float sums
     * depend on it), and the widest name. */
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(r->c.stats, &pos, &key, &value)) {
        if (i == r->n) {   /* str() of an odd name changed the dict */
            PyErr_SetString(PyExc_RuntimeError, "pyrometer: stats changed size during the report");
            return -1;
        }
        entry *e = &r->entries[i];
        PyObject *reason;
        int bad = pyro_check_entry(key, value, 0, &reason);
        if (bad != 0)
            return bad > 0 ? pyro_report_not_pstats(reason) : -1;
        e->key = Py_NewRef(key);
        e->value = Py_NewRef(value);
        r->loaded = i + 1;
        if (pyro_report_key_of(&r->c, key, &e->k) < 0)
            return -1;
        r->ascii &= e->k.ascii;
        e->cc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 0));
        e->nc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 1));
        e->tt = num(PyTuple_GET_ITEM(value, 2));
        e->ct = num(PyTuple_GET_ITEM(value, 3));
        e->callers = PyTuple_GET_ITEM(value, 4);
        e->width = std_width(key, &e->k);
        /* Copies of the names, made while they are in the cache: the sort
         * and the printing then read one dense block, not two strs per
         * function scattered over the heap. */
        e->arena_off = r->arena.len;
        ob_put(&r->arena, e->k.file.s, (size_t)e->k.file.len);
        ob_put(&r->arena, e->k.name.s, (size_t)e->k.name.len);
        size_t before_std = r->arena.len;
        pyro_report_ob_std(&r->arena, &e->k);
        e->std.len = (Py_ssize_t)(r->arena.len - before_std);
        r->total_calls += (unsigned long long)e->nc;
        r->prim_calls += (unsigned long long)e->cc;
        r->total_tt += e->tt;
        if (e->width > r->max_name_len)
            r->max_name_len = e->width;
        r->list[i] = e;
        i++;
    }
    r->n = r->count = i;
    if (r->arena.failed) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < r->n; i++) {
        entry *e = &r->entries[i];
        const char *base = r->arena.buf + e->arena_off;
        e->k.file.s = base;
        e->k.name.s = base + e->k.file.len;
        e->std.s = base + e->k.file.len + e->k.name.len;
    }
    return 0;
}

/* "  69.5%": a share of the samples, as 3.15's sampler prints it. */
static void ob_share(outbuf *o, long long part, unsigned long long whole)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%7.1f%%", whole > 0 ? 100.0 * (double)part / (double)whole : 0.0);
    ob_str(o, buf);
}

/* The columns before a name in the table of samples. */
#define SAMPLE_COUNTS_PREFIX 38

/* The stats table of samples with no time: direct and cumulative samples
 * and their shares of all samples (each sample ran one function, so the
 * direct ones add up to all). */
static int print_sample_counts(report *r)
{
    outbuf *o = &r->out;
    ob_str(o, "     self    self%    cumul   cumul%  filename:lineno(function)\n");
    for (Py_ssize_t i = 0; i < r->count; i++) {
        const entry *e = r->list[i];
        const char *color = pyro_report_row_color(r, e);
        if (color != NULL)
            ob_str(o, color);
        ob_spaces(o, 9 - ll_width(e->cc));
        ob_ll(o, e->cc);
        ob_char(o, ' ');
        ob_share(o, e->cc, r->prim_calls);
        ob_spaces(o, 9 - ll_width(e->nc));
        ob_ll(o, e->nc);
        ob_char(o, ' ');
        ob_share(o, e->nc, r->prim_calls);
        ob_str(o, "  ");
        pyro_report_end_row(r, e, SAMPLE_COUNTS_PREFIX, color);
    }
    ob_str(o, "\n\n");
    return 0;
}

/* The width of "nc/cc", or of "nc" when they are equal. */
static Py_ssize_t count_width(const entry *e)
{
    return ll_width(e->nc) + (e->nc != e->cc ? 1 + ll_width(e->cc) : 0);
}

/* Stats.print_line() per function: pstats' table, byte for byte. */
static void print_pstats_table(report *r)
{
    outbuf *o = &r->out;
    /* SampledStats.print_title() for samples; the lines are pstats' */
    ob_str(o, r->kind == PYRO_KIND_TRACED
                  ? "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n"
                  : " nsamples  tottime persample cumtime persample filename:lineno(function)\n");
    for (Py_ssize_t i = 0; i < r->count; i++) {
        const entry *e = r->list[i];
        ob_spaces(o, 9 - count_width(e));
        ob_ll(o, e->nc);
        if (e->nc != e->cc) {
            ob_char(o, '/');
            ob_ll(o, e->cc);
        }
        ob_char(o, ' ');
        ob_f8(o, e->tt);
        ob_char(o, ' ');
        if (e->nc == 0)
            ob_spaces(o, 8);
        else
            ob_f8(o, e->tt / (double)e->nc);
        ob_char(o, ' ');
        ob_f8(o, e->ct);
        ob_char(o, ' ');
        if (e->cc == 0)
            ob_spaces(o, 8);
        else
            ob_f8(o, e->ct / (double)e->cc);
        ob_char(o, ' ');
        ob_put(o, e->std.s, (size_t)e->std.len);
        ob_char(o, '\n');
    }
}

/* ---- the stats table in columns ------------------------------------------ */

enum { C_TT, C_TT_PER, C_CT, C_CT_PER, C_SHARE, NCOLS };

/* The table's columns, planned over the listed functions before a line is
 * written. */
typedef struct {
    Py_ssize_t count_width;
    num_col col[NCOLS];
    double whole;              /* what the shares are of (0: none shown) */
    Py_ssize_t prefix;         /* the columns before the name */
} columns;

static const char *const count_title[2] = {"nsamples", "ncalls"};
static const char *const col_title[2][NCOLS] = {
    {"tottime", "persample", "cumtime", "persample", "%"},
    {"tottime", "percall", "cumtime", "percall", "%"},
};

/* "%": the function's cumulative time as a share of the total time (the
 * header's: every function's own time added up); for samples, the share
 * of all samples that had the function on the stack. */
static double share_of(const report *r, const entry *e, double whole)
{
    return 100.0 * (r->kind == PYRO_KIND_TRACED ? e->ct : (double)e->nc) / whole;
}

/* The decimals and width of every column; the bytes a line takes. */
static size_t plan_columns(const report *r, columns *t)
{
    int traced = r->kind == PYRO_KIND_TRACED;
    for (int c = 0; c < C_SHARE; c++)
        pyro_col_init(&t->col[c], 3, 9);
    pyro_col_init(&t->col[C_SHARE], 1, 1);
    t->whole = traced ? r->total_tt : (double)r->prim_calls;
    if (!(t->whole > 0.0))
        t->whole = 0.0;
    t->count_width = 9;
    for (Py_ssize_t i = 0; i < r->count; i++) {
        const entry *e = r->list[i];
        Py_ssize_t w = count_width(e);
        if (w > t->count_width)
            t->count_width = w;
        pyro_col_add(&t->col[C_TT], e->tt);
        if (e->nc != 0)
            pyro_col_add(&t->col[C_TT_PER], e->tt / (double)e->nc);
        pyro_col_add(&t->col[C_CT], e->ct);
        if (e->cc != 0)
            pyro_col_add(&t->col[C_CT_PER], e->ct / (double)e->cc);
        if (t->whole > 0.0)
            pyro_col_add(&t->col[C_SHARE], share_of(r, e, t->whole));
    }
    size_t line = (size_t)t->count_width + 2;
    t->prefix = t->count_width + 1;
    for (int c = 0; c < NCOLS; c++) {
        pyro_col_finish(&t->col[c], c == C_SHARE ? 6 : 8, col_title[traced][c]);
        line += (size_t)t->col[c].width + 1;
        t->prefix += t->col[c].width + 1;
    }
    return line;
}

/* pstats' table in pyrometer's columns (report.h): the same words, each
 * column of times in one notation (report_columns.c), then the share. */
static void print_columns(report *r, const columns *t)
{
    outbuf *o = &r->out;
    int traced = r->kind == PYRO_KIND_TRACED;
    ob_spaces(o, t->count_width - (Py_ssize_t)strlen(count_title[traced]));
    ob_str(o, count_title[traced]);
    for (int c = 0; c < NCOLS; c++)
        pyro_col_title(o, &t->col[c], col_title[traced][c]);
    ob_str(o, " filename:lineno(function)\n");
    for (Py_ssize_t i = 0; i < r->count; i++) {
        const entry *e = r->list[i];
        const char *color = pyro_report_row_color(r, e);
        if (color != NULL)
            ob_str(o, color);
        ob_spaces(o, t->count_width - count_width(e));
        ob_ll(o, e->nc);
        if (e->nc != e->cc) {
            ob_char(o, '/');
            ob_ll(o, e->cc);
        }
        ob_char(o, ' ');
        pyro_col_put(o, &t->col[C_TT], e->tt);
        ob_char(o, ' ');
        if (e->nc == 0)
            ob_spaces(o, t->col[C_TT_PER].width);
        else
            pyro_col_put(o, &t->col[C_TT_PER], e->tt / (double)e->nc);
        ob_char(o, ' ');
        pyro_col_put(o, &t->col[C_CT], e->ct);
        ob_char(o, ' ');
        if (e->cc == 0)
            ob_spaces(o, t->col[C_CT_PER].width);
        else
            pyro_col_put(o, &t->col[C_CT_PER], e->ct / (double)e->cc);
        ob_char(o, ' ');
        if (t->whole > 0.0)
            pyro_col_put(o, &t->col[C_SHARE], share_of(r, e, t->whole));
        else
            ob_spaces(o, t->col[C_SHARE].width);
        ob_char(o, ' ');
        pyro_report_end_row(r, e, t->prefix, color);
    }
}

/* Stats.print_stats(): the header, then Stats.print_line() per function. */
static int print_stats(report *r, PyObject *files)
{
    outbuf *o = &r->out;
    Py_ssize_t nfiles = PySequence_Fast_GET_SIZE(files);
    size_t need = 256;
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        PyObject *line = PySequence_Fast_GET_ITEM(files, i);
        utf8_span s;
        if (!PyUnicode_Check(line)) {
            PyErr_Format(PyExc_TypeError, "pyrometer: files must hold str, not %.100s",
                         Py_TYPE(line)->tp_name);
            return -1;
        }
        if (utf8_of(&r->c, line, &s) < 0)
            return -1;
        r->ascii &= s.len == PyUnicode_GET_LENGTH(line);
        need += (size_t)s.len + 1;
    }
    columns t;
    size_t line = r->layout == PYRO_LAYOUT_PSTATS || r->kind == PYRO_KIND_SAMPLE_COUNTS
                      ? 48 : plan_columns(r, &t);
    for (Py_ssize_t i = 0; i < r->count; i++)
        need += (size_t)r->list[i]->std.len + line + (r->style.color ? 12 : 0);
    if (r->style.width > 0 && r->layout != PYRO_LAYOUT_PSTATS)
        pyro_report_check_fit(r, r->kind == PYRO_KIND_SAMPLE_COUNTS ? SAMPLE_COUNTS_PREFIX : t.prefix);
    if (pyro_report_start_output(r, need) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        utf8_span s;
        if (utf8_of(&r->c, PySequence_Fast_GET_ITEM(files, i), &s) < 0)
            return -1;
        ob_put(o, s.s, (size_t)s.len);
        ob_char(o, '\n');
    }
    if (nfiles > 0)
        ob_char(o, '\n');
    /* top_level: functions called by old jprofile data's root.  pstats
     * keeps them in a set, in no order anyone can rely on: dict order. */
    PyObject *jkey = Py_BuildValue("(sis)", "jprofile", 0, "profiler");
    if (jkey == NULL)
        return -1;
    Py_hash_t jhash = PyObject_Hash(jkey);   /* once, not once a function */
    if (jhash == -1) {
        Py_DECREF(jkey);
        return -1;
    }
    for (Py_ssize_t i = 0; i < r->n; i++) {
        PyObject *callers = r->entries[i].callers;
        int has = PyDict_GET_SIZE(callers) > 0
            && _PyDict_GetItem_KnownHash(callers, jkey, jhash) != NULL;
        if (!has && PyErr_Occurred()) {
            Py_DECREF(jkey);
            return -1;
        }
        if (has) {
            ob_spaces(o, 9);
            ob_put(o, r->entries[i].k.name.s, (size_t)r->entries[i].k.name.len);
            ob_char(o, '\n');
        }
    }
    Py_DECREF(jkey);
    ob_spaces(o, 9);
    if (r->kind != PYRO_KIND_TRACED) {
        /* pstats would add up the samples each function was on the stack
         * in, which counts nothing; every sample ran one function */
        ob_ll(o, (long long)r->prim_calls);
        ob_str(o, r->prim_calls == 1 ? " sample" : " samples");
    } else {
        ob_ll(o, (long long)r->total_calls);
        ob_str(o, " function calls ");
        if (r->total_calls != r->prim_calls) {
            ob_char(o, '(');
            ob_ll(o, (long long)r->prim_calls);
            ob_str(o, " primitive calls) ");
        }
    }
    if (r->kind != PYRO_KIND_SAMPLE_COUNTS) {
        ob_str(o, r->kind == PYRO_KIND_TRACED ? "in " : " in ");
        if (r->layout == PYRO_LAYOUT_PSTATS) {
            ob_fixed3(o, r->total_tt, 0);
        } else {
            num_col total;   /* as a column of one, never all zeros */
            pyro_col_init(&total, 3, 9);
            pyro_col_add(&total, r->total_tt);
            ob_fixed(o, r->total_tt, total.decimals, 0);
        }
        ob_str(o, " seconds");
    }
    ob_str(o, "\n\n");
    if (r->count == 0)
        return 0;
    ob_put(o, r->msg.buf, r->msg.len);
    ob_char(o, '\n');
    if (r->kind == PYRO_KIND_SAMPLE_COUNTS)
        return print_sample_counts(r);
    if (r->layout == PYRO_LAYOUT_PSTATS)
        print_pstats_table(r);
    else
        print_columns(r, &t);
    ob_str(o, "\n\n");
    return 0;
}

/* Stats.get_print_list(): the restrictions, the message, and the width of
 * the name column (over the printed names only when some were left out). */
static int print_list(report *r, PyObject *limit, const sort_spec *spec, Py_ssize_t *width)
{
    if (spec->random) {
        ob_str(&r->msg, "   Random listing order was used\n");
    } else {
        ob_str(&r->msg, "   Ordered by: ");
        ob_put(&r->msg, r->title.buf, r->title.len);
        ob_char(&r->msg, '\n');
    }
    if (limit != Py_None) {
        if (PyTuple_Check(limit)) {
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(limit); i++)
                if (restrict_list(PyTuple_GET_ITEM(limit, i), r->list, &r->count, &r->msg) < 0)
                    return -1;
        } else if (restrict_list(limit, r->list, &r->count, &r->msg) < 0) {
            return -1;
        }
    }
    *width = r->max_name_len;
    if (r->count < r->n) {
        *width = 0;
        for (Py_ssize_t i = 0; i < r->count; i++)
            if (r->list[i]->width > *width)
                *width = r->list[i]->width;
    }
    return 0;
}

PyObject *pyro_report_text(PyObject *stats, PyObject *sort, PyObject *limit, PyObject *files_arg,
                           int mode, int kind, int layout, const pyro_report_style *style)
{
    if (!PyDict_Check(stats))
        return PyErr_Format(PyExc_TypeError, "pyrometer: stats must be a dict, not %.100s",
                            Py_TYPE(stats)->tp_name);
    /* The entries are checked as they are read, callers only where used:
     * a second pass over the whole dict would cost as much as the report.
     * The entries are then held, as pstats holds its own copy. */
    report r = {.c = {.stats = stats}, .ascii = 1, .kind = kind, .layout = layout};
    if (style != NULL && layout == PYRO_LAYOUT_COLUMNS)
        r.style = *style;
    sort_spec spec;
    PyObject *files = NULL, *result = NULL;
    Py_ssize_t width;
    if (files_arg == NULL)
        files = PyTuple_New(0);
    else
        files = PySequence_Fast(files_arg, "pyrometer: files must be a sequence of str");
    if (files == NULL)
        goto done;
    if (sort == NULL) {
        PyObject *dflt = PyUnicode_FromString("cumulative");
        if (dflt == NULL)
            goto done;
        int rc = pyro_report_parse_sort(dflt, &spec, &r.title, kind);
        Py_DECREF(dflt);
        if (rc < 0)
            goto done;
    } else if (pyro_report_parse_sort(sort, &spec, &r.title, kind) < 0) {
        goto done;
    }
    if (load_entries(&r) < 0 || pyro_report_sort_entries(&r, &spec) < 0
        || print_list(&r, limit, &spec, &width) < 0)
        goto done;
    int rc = 0;
    if (mode == MODE_STATS)
        rc = print_stats(&r, files);
    else if (r.count == 0)
        rc = 0;   /* print_callers()/print_callees() print nothing at all */
    else if (mode == MODE_CALLERS)
        rc = pyro_report_print_callers(&r, width + 2);
    else
        rc = pyro_report_print_callees(&r, width + 2);
    if (rc < 0)
        goto done;
    if (r.msg.failed || r.title.failed || r.arena.failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = pyro_outbuf_finish(&r.out);
done:
    Py_XDECREF(files);
    Py_XDECREF(r.c.keep);
    for (Py_ssize_t i = 0; i < r.loaded; i++) {
        Py_DECREF(r.entries[i].key);
        Py_DECREF(r.entries[i].value);
    }
    PyMem_RawFree(r.entries);
    PyMem_RawFree(r.list);
    pyro_outbuf_free(&r.out);
    while (r.others != NULL) {
        fkey_chunk *next = r.others->next;
        PyMem_RawFree(r.others);
        r.others = next;
    }
    PyMem_RawFree(r.msg.buf);
    PyMem_RawFree(r.title.buf);
    PyMem_RawFree(r.arena.buf);
    return result;
}
