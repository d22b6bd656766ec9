/* pickle_machine.c: a pickled line_profiler LineStats read without
 * unpickling it (see pickle_machine.h).
 *
 * pickle.load runs what a file names: a .lprof from elsewhere could call
 * os.system.  This machine interprets only the opcodes LineStats' pickle
 * is made of (protocols 2 to 5), builds only None, bools, ints of 64 bits,
 * floats, str, tuples, lists and dicts, and accepts one class, LineStats,
 * by its name: its instance is no object, only the dict of its attributes.
 * Every length is checked against the bytes left before anything is made;
 * the stack, the marks and the nesting are bounded; memo slots are filled
 * in order.  A list or dict (or the instance) is never fetched back from
 * the memo, so each has one owner while it grows and nothing it holds can
 * hold it: no cycles. */
#include "formats/pickle_machine.h"
#include "core/errors.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Far beyond any line_profiler file (a pickle batches 1 000 items per
 * MARK, and LineStats nests three marks and four containers deep), and
 * small enough that what is pending stays small. */
#define MAX_STACK ((size_t)1 << 16)
#define MAX_MARKS 32
#define MAX_DEPTH 16
#define MAX_GLOBAL_NAME 256

/* What a value on the stack or in the memo is. */
enum { V_VALUE, V_LIST, V_DICT, V_CLASS, V_OBJECT };

typedef struct {
    PyObject *obj;             /* strong; for the class, Py_None */
    uint8_t kind;
    uint8_t depth;             /* containers down to its deepest value, itself included */
    uint8_t hashable;          /* may be a dict key: scalars and tuples of them */
} slot;

typedef struct {
    const char *path;
    const unsigned char *start, *p, *end;
    size_t op_at;              /* where the opcode being run starts */
    slot *stack;
    size_t n, cap;
    size_t marks[MAX_MARKS];   /* stack heights at each open MARK */
    size_t nmarks;
    slot *memo;
    size_t nmemo, memo_cap;
} machine;

/* ---- messages ----------------------------------------------------------- */

static int refuse(machine *m, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *why = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (why != NULL) {
        PyErr_Format(pyro_FormatError, "pyrometer: %s is not a line_profiler file (%U)",
                     m->path, why);
        Py_DECREF(why);
    }
    return -1;
}

static int damaged(machine *m, const char *what)
{
    return refuse(m, "it is damaged at byte %zu: %s", m->op_at, what);
}

/* ---- the stack ---------------------------------------------------------- */

static int push(machine *m, PyObject *obj, int kind, int depth, int hashable)
{
    if (obj == NULL)
        return -1;
    if (m->n == m->cap) {
        if (m->cap >= MAX_STACK) {
            Py_DECREF(obj);
            return refuse(m, "more than %zu values wait on its stack; a line_profiler file "
                          "keeps a few thousand", MAX_STACK);
        }
        size_t cap = m->cap ? m->cap * 2 : 64;
        slot *s = PyMem_Realloc(m->stack, cap * sizeof(*s));
        if (s == NULL) {
            Py_DECREF(obj);
            PyErr_NoMemory();
            return -1;
        }
        m->stack = s;
        m->cap = cap;
    }
    m->stack[m->n++] = (slot){obj, (uint8_t)kind, (uint8_t)depth, (uint8_t)hashable};
    return 0;
}

/* The values above the innermost MARK are all an opcode may take. */
static size_t fence(const machine *m)
{
    return m->nmarks ? m->marks[m->nmarks - 1] : 0;
}

/* The top value, now the caller's. */
static int pop(machine *m, slot *out)
{
    if (m->n <= fence(m))
        return damaged(m, "an opcode takes a value that is not there");
    *out = m->stack[--m->n];
    return 0;
}

/* Close the innermost MARK: where its values start, into *from. */
static int pop_mark(machine *m, size_t *from)
{
    if (m->nmarks == 0)
        return damaged(m, "an opcode needs a MARK that is not there");
    *from = m->marks[--m->nmarks];
    return 0;
}

static void drop(machine *m, size_t from)
{
    while (m->n > from) {
        m->n--;                /* apart: Py_CLEAR reads its argument twice before 3.12 */
        Py_CLEAR(m->stack[m->n].obj);
    }
}

/* Whether `s` may go inside a tuple, list or dict: data only. */
static int storable(machine *m, const slot *s)
{
    if (s->kind == V_CLASS || s->kind == V_OBJECT)
        return refuse(m, "it puts the LineStats class or object inside a container, which "
                      "line_profiler never does");
    return 0;
}

static int deeper(machine *m, int depth)
{
    if (depth > MAX_DEPTH)
        return refuse(m, "its values nest more than %d deep; a line_profiler file's nest 4 deep",
                      MAX_DEPTH);
    return 0;
}

/* ---- opcodes' arguments ------------------------------------------------- */

static int take(machine *m, size_t k, const unsigned char **out)
{
    if ((size_t)(m->end - m->p) < k)
        return refuse(m, "it is cut short: it ends in the opcode at byte %zu", m->op_at);
    *out = m->p;
    m->p += k;
    return 0;
}

static uint64_t le(const unsigned char *b, size_t k)
{
    uint64_t v = 0;
    for (size_t i = k; i-- > 0;)
        v = (v << 8) | b[i];
    return v;
}

/* A length read from the file: at most the bytes left after it. */
static int take_sized(machine *m, size_t len_bytes, const unsigned char **out, size_t *len)
{
    const unsigned char *b = NULL;
    if (take(m, len_bytes, &b) < 0)
        return -1;
    uint64_t n = le(b, len_bytes);
    if (n > (uint64_t)(m->end - m->p))
        return damaged(m, "a string claims more bytes than the file has left");
    *len = (size_t)n;
    return take(m, *len, out);
}

/* ---- values ------------------------------------------------------------- */

static int push_int(machine *m, long long v)
{
    return push(m, PyLong_FromLongLong(v), V_VALUE, 0, 1);
}

/* LONG1: a little-endian two's complement of at most 8 bytes. */
static int push_long1(machine *m)
{
    const unsigned char *b = NULL;
    if (take(m, 1, &b) < 0)
        return -1;
    size_t k = b[0];
    if (k > 8)
        return refuse(m, "it holds a number wider than 64 bits, which no timing is");
    if (take(m, k, &b) < 0)
        return -1;
    uint64_t v = le(b, k);
    if (k > 0 && k < 8 && (b[k - 1] & 0x80))
        v |= ~(uint64_t)0 << (8 * k);
    return push_int(m, (long long)v);
}

static int push_float(machine *m)
{
    const unsigned char *b = NULL;
    if (take(m, 8, &b) < 0)
        return -1;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = (bits << 8) | b[i];   /* big-endian, as pickle writes it */
    double d;
    memcpy(&d, &bits, sizeof d);
    return push(m, PyFloat_FromDouble(d), V_VALUE, 0, 1);
}

static int push_text(machine *m, size_t len_bytes, const char *errors)
{
    const unsigned char *s = NULL;
    size_t n = 0;
    if (take_sized(m, len_bytes, &s, &n) < 0)
        return -1;
    PyObject *o = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, errors);
    if (o == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        return damaged(m, "a string is not UTF-8");
    }
    return push(m, o, V_VALUE, 0, 1);
}

/* TUPLE*: the values from stack[from] up become one tuple. */
static int make_tuple(machine *m, size_t from)
{
    size_t k = m->n - from;
    int depth = 1, hashable = 1;
    for (size_t i = from; i < m->n; i++) {
        if (storable(m, &m->stack[i]) < 0)
            return -1;
        if (m->stack[i].depth + 1 > depth)
            depth = m->stack[i].depth + 1;
        hashable &= m->stack[i].hashable;
    }
    if (deeper(m, depth) < 0)
        return -1;
    PyObject *t = PyTuple_New((Py_ssize_t)k);
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < k; i++)
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, m->stack[from + i].obj);
    m->n = from;
    return push(m, t, V_VALUE, depth, hashable);
}

/* APPEND(S) and SETITEM(S): the values from stack[from] up go into the
 * container just below them. */
static int fill(machine *m, size_t from, int kind)
{
    if (from == 0 || from - 1 < fence(m))
        return damaged(m, "it adds items to a container that is not there");
    slot *c = &m->stack[from - 1];
    if (c->kind != kind)
        return refuse(m, "it adds items to what is not a %s", kind == V_LIST ? "list" : "dict");
    if (kind == V_DICT && (m->n - from) % 2 != 0)
        return damaged(m, "a dict's items do not come in pairs");
    int depth = c->depth;
    for (size_t i = from; i < m->n; i++) {
        const slot *s = &m->stack[i];
        if (storable(m, s) < 0)
            return -1;
        if (kind == V_DICT && (i - from) % 2 == 0 && !s->hashable)
            return refuse(m, "a dict key is a list or dict");
        if (s->depth + 1 > depth)
            depth = s->depth + 1;
    }
    if (deeper(m, depth) < 0)
        return -1;
    for (size_t i = from; i < m->n; i += kind == V_DICT ? 2 : 1) {
        int rc = kind == V_LIST ? PyList_Append(c->obj, m->stack[i].obj)
                                : PyDict_SetItem(c->obj, m->stack[i].obj, m->stack[i + 1].obj);
        if (rc < 0)
            return -1;
    }
    c->depth = (uint8_t)depth;
    drop(m, from);
    return 0;
}

/* ---- the memo ----------------------------------------------------------- */

static int memo_put(machine *m, uint64_t index)
{
    if (m->n <= fence(m))
        return damaged(m, "it memoizes a value that is not there");
    if (index > m->nmemo)
        return damaged(m, "memo slots are filled out of order");
    if (index == m->nmemo) {
        if (m->nmemo == m->memo_cap) {
            size_t cap = m->memo_cap ? m->memo_cap * 2 : 64;
            slot *s = PyMem_Realloc(m->memo, cap * sizeof(*s));
            if (s == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            m->memo = s;
            m->memo_cap = cap;
        }
        m->nmemo++;
    } else {
        Py_CLEAR(m->memo[index].obj);
    }
    m->memo[index] = m->stack[m->n - 1];
    Py_INCREF(m->memo[index].obj);
    return 0;
}

static int memo_get(machine *m, uint64_t index)
{
    if (index >= m->nmemo)
        return damaged(m, "it fetches a memo slot that holds nothing");
    const slot *s = &m->memo[index];
    if (s->kind == V_LIST || s->kind == V_DICT || s->kind == V_OBJECT)
        return refuse(m, "it refers back to a list, dict or object, which a line_profiler "
                      "file never does");
    return push(m, Py_NewRef(s->obj), s->kind, s->depth, s->hashable);
}

/* ---- the one class, and its instance ------------------------------------ */

static const char *const line_stats_modules[] = {
    "line_profiler.line_profiler",    /* line_profiler 4 and 5 */
    "line_profiler._line_profiler",   /* 3 */
    "line_profiler", "_line_profiler",   /* 1 and 2 */
};

static int push_class(machine *m, PyObject *module, PyObject *name)
{
    const char *mod = PyUnicode_Check(module) ? PyUnicode_AsUTF8(module) : NULL;
    const char *cls = mod != NULL && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    PyErr_Clear();
    if (cls != NULL && strcmp(cls, "LineStats") == 0)
        for (size_t i = 0; i < sizeof line_stats_modules / sizeof *line_stats_modules; i++)
            if (strcmp(mod, line_stats_modules[i]) == 0)
                return push(m, Py_NewRef(Py_None), V_CLASS, 0, 0);
    PyObject *mshort = PyUnicode_Check(module) ? PyUnicode_Substring(module, 0, 60) : NULL;
    PyObject *nshort = PyUnicode_Check(name) ? PyUnicode_Substring(name, 0, 60) : NULL;
    if (mshort != NULL && nshort != NULL)
        refuse(m, "it names %R from %R, not line_profiler's LineStats, and pyrometer loads "
               "nothing a pickle names", nshort, mshort);
    else if (!PyErr_Occurred())
        refuse(m, "it names a class by what is not text");
    Py_XDECREF(mshort);
    Py_XDECREF(nshort);
    return -1;
}

/* GLOBAL: "module\nname\n" in the opcode itself (protocols 2 and 3). */
static int global_line(machine *m, PyObject **out)
{
    size_t left = (size_t)(m->end - m->p);
    const unsigned char *nl = memchr(m->p, '\n', left < MAX_GLOBAL_NAME ? left : MAX_GLOBAL_NAME);
    if (nl == NULL)
        return damaged(m, "a GLOBAL's name does not end");
    *out = PyUnicode_DecodeUTF8((const char *)m->p, (Py_ssize_t)(nl - m->p), "backslashreplace");
    m->p = nl + 1;
    return *out != NULL ? 0 : -1;
}

static int op_global(machine *m)
{
    PyObject *module = NULL, *name = NULL;
    int rc = -1;
    if (global_line(m, &module) == 0 && global_line(m, &name) == 0)
        rc = push_class(m, module, name);
    Py_XDECREF(module);
    Py_XDECREF(name);
    return rc;
}

static int op_stack_global(machine *m)
{
    slot name, module = {0};
    if (pop(m, &name) < 0)
        return -1;
    int rc = pop(m, &module) < 0 ? -1 : push_class(m, module.obj, name.obj);
    Py_XDECREF(module.obj);
    Py_DECREF(name.obj);
    return rc;
}

/* NEWOBJ, NEWOBJ_EX and REDUCE: LineStats(), or LineStats(timings, unit);
 * the instance is the dict of its attributes. */
static int new_object(machine *m, const slot *cls, const slot *args)
{
    if (cls->kind != V_CLASS)
        return refuse(m, "it calls what is not the LineStats class");
    if (args->kind != V_VALUE || !PyTuple_Check(args->obj))
        return damaged(m, "an object's arguments are not a tuple");
    Py_ssize_t n = PyTuple_GET_SIZE(args->obj);
    if (n != 0 && n != 2)
        return refuse(m, "it makes a LineStats of %zd arguments (timings and unit, or none)", n);
    PyObject *state = PyDict_New();
    if (state == NULL)
        return -1;
    if (n == 2 && (PyDict_SetItemString(state, "timings", PyTuple_GET_ITEM(args->obj, 0)) < 0
                   || PyDict_SetItemString(state, "unit", PyTuple_GET_ITEM(args->obj, 1)) < 0)) {
        Py_DECREF(state);
        return -1;
    }
    return push(m, state, V_OBJECT, args->depth + 1, 0);
}

static int op_new(machine *m, int with_kwargs)
{
    slot kwargs = {0}, args = {0}, cls = {0};
    int rc = -1;
    if (with_kwargs && pop(m, &kwargs) < 0)
        goto done;
    if (pop(m, &args) < 0 || pop(m, &cls) < 0)
        goto done;
    if (with_kwargs && (kwargs.kind != V_DICT || PyDict_GET_SIZE(kwargs.obj) != 0)) {
        refuse(m, "it makes a LineStats with keyword arguments");
        goto done;
    }
    rc = new_object(m, &cls, &args);
done:
    Py_XDECREF(kwargs.obj);
    Py_XDECREF(args.obj);
    Py_XDECREF(cls.obj);
    return rc;
}

/* Attributes from one dict of a state into the instance. */
static int set_attributes(machine *m, PyObject *instance, PyObject *attrs)
{
    if (attrs == Py_None)
        return 0;
    if (!PyDict_Check(attrs))
        return refuse(m, "its LineStats' attributes are not a dict");
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(attrs, &pos, &k, &v)) {
        if (!PyUnicode_Check(k))
            return refuse(m, "its LineStats has an attribute whose name is not text");
        if (PyDict_SetItem(instance, k, v) < 0)
            return -1;
    }
    return 0;
}

/* BUILD: a dict of attributes, or (dict or None, dict of slots). */
static int op_build(machine *m)
{
    slot state;
    if (pop(m, &state) < 0)
        return -1;
    int rc = -1;
    if (m->n <= fence(m) || m->stack[m->n - 1].kind != V_OBJECT) {
        refuse(m, "it sets the attributes of what is not a LineStats object");
        goto done;
    }
    slot *instance = &m->stack[m->n - 1];
    if (deeper(m, state.depth + 1) < 0)
        goto done;
    if (state.kind == V_DICT)
        rc = set_attributes(m, instance->obj, state.obj);
    else if (state.kind == V_VALUE && PyTuple_Check(state.obj) && PyTuple_GET_SIZE(state.obj) == 2)
        rc = set_attributes(m, instance->obj, PyTuple_GET_ITEM(state.obj, 0)) < 0
            ? -1 : set_attributes(m, instance->obj, PyTuple_GET_ITEM(state.obj, 1));
    else
        rc = refuse(m, "its LineStats' state is not a dict of attributes");
    if (rc == 0 && state.depth + 1 > instance->depth)
        instance->depth = (uint8_t)(state.depth + 1);
done:
    Py_DECREF(state.obj);
    return rc;
}

/* ---- the machine -------------------------------------------------------- */

/* One opcode: 0, 1 at STOP with *result the LineStats' attributes, or -1. */
static int step(machine *m, PyObject **result)
{
    const unsigned char *b = NULL;
    size_t from = 0;
    slot s;
    m->op_at = (size_t)(m->p - m->start);
    unsigned char op = *m->p++;
    switch (op) {
    case 0x80:   /* PROTO */
        if (take(m, 1, &b) < 0)
            return -1;
        return m->op_at == 0 ? 0 : damaged(m, "a second PROTO opcode");
    case 0x95:   /* FRAME: the pickler's buffering; the bytes are read as they come */
        if (take(m, 8, &b) < 0)
            return -1;
        return le(b, 8) <= (uint64_t)(m->end - m->p)
            ? 0 : refuse(m, "it is cut short: the frame at byte %zu runs past its end", m->op_at);
    case '.':    /* STOP */
        if (m->n == 0 || m->n <= fence(m) || m->stack[m->n - 1].kind != V_OBJECT)
            return refuse(m, "the pickle holds no LineStats object");
        *result = Py_NewRef(m->stack[m->n - 1].obj);
        return 1;
    case '(':    /* MARK */
        if (m->nmarks == MAX_MARKS)
            return refuse(m, "more than %d MARKs are open; a line_profiler file opens 3",
                          MAX_MARKS);
        m->marks[m->nmarks++] = m->n;
        return 0;
    case '0':    /* POP */
        if (m->nmarks > 0 && fence(m) == m->n) {
            m->nmarks--;
            return 0;
        }
        if (pop(m, &s) < 0)
            return -1;
        Py_DECREF(s.obj);
        return 0;
    case '1':    /* POP_MARK */
        if (pop_mark(m, &from) < 0)
            return -1;
        drop(m, from);
        return 0;
    case 'N':
        return push(m, Py_NewRef(Py_None), V_VALUE, 0, 1);
    case 0x88:   /* NEWTRUE */
        return push(m, Py_NewRef(Py_True), V_VALUE, 0, 1);
    case 0x89:   /* NEWFALSE */
        return push(m, Py_NewRef(Py_False), V_VALUE, 0, 1);
    case 'K':    /* BININT1 */
        return take(m, 1, &b) < 0 ? -1 : push_int(m, b[0]);
    case 'M':    /* BININT2 */
        return take(m, 2, &b) < 0 ? -1 : push_int(m, (long long)le(b, 2));
    case 'J':    /* BININT: signed */
        return take(m, 4, &b) < 0 ? -1 : push_int(m, (int32_t)(uint32_t)le(b, 4));
    case 0x8a:   /* LONG1 */
        return push_long1(m);
    case 'G':    /* BINFLOAT */
        return push_float(m);
    case 0x8c:   /* SHORT_BINUNICODE */
        return push_text(m, 1, "surrogatepass");
    case 'X':    /* BINUNICODE */
        return push_text(m, 4, "surrogatepass");
    case 0x8d:   /* BINUNICODE8 */
        return push_text(m, 8, "surrogatepass");
    case 'U':    /* SHORT_BINSTRING: a Python 2 str */
        return push_text(m, 1, "surrogateescape");
    case 'T':    /* BINSTRING */
        return push_text(m, 4, "surrogateescape");
    case ')':    /* EMPTY_TUPLE */
        return push(m, PyTuple_New(0), V_VALUE, 1, 1);
    case ']':    /* EMPTY_LIST */
        return push(m, PyList_New(0), V_LIST, 1, 0);
    case '}':    /* EMPTY_DICT */
        return push(m, PyDict_New(), V_DICT, 1, 0);
    case 0x85:   /* TUPLE1 */
    case 0x86:   /* TUPLE2 */
    case 0x87:   /* TUPLE3 */
        if (m->n < fence(m) + (size_t)(op - 0x84))
            return damaged(m, "a tuple's items are not there");
        return make_tuple(m, m->n - (size_t)(op - 0x84));
    case 't':    /* TUPLE */
        return pop_mark(m, &from) < 0 ? -1 : make_tuple(m, from);
    case 'a':    /* APPEND */
        return m->n <= fence(m) ? damaged(m, "an APPEND has no item") : fill(m, m->n - 1, V_LIST);
    case 'e':    /* APPENDS */
        return pop_mark(m, &from) < 0 ? -1 : fill(m, from, V_LIST);
    case 's':    /* SETITEM */
        return m->n < fence(m) + 2 ? damaged(m, "a SETITEM has no item")
                                   : fill(m, m->n - 2, V_DICT);
    case 'u':    /* SETITEMS */
        return pop_mark(m, &from) < 0 ? -1 : fill(m, from, V_DICT);
    case 0x94:   /* MEMOIZE */
        return memo_put(m, m->nmemo);
    case 'q':    /* BINPUT */
        return take(m, 1, &b) < 0 ? -1 : memo_put(m, b[0]);
    case 'r':    /* LONG_BINPUT */
        return take(m, 4, &b) < 0 ? -1 : memo_put(m, le(b, 4));
    case 'h':    /* BINGET */
        return take(m, 1, &b) < 0 ? -1 : memo_get(m, b[0]);
    case 'j':    /* LONG_BINGET */
        return take(m, 4, &b) < 0 ? -1 : memo_get(m, le(b, 4));
    case 'c':    /* GLOBAL */
        return op_global(m);
    case 0x93:   /* STACK_GLOBAL */
        return op_stack_global(m);
    case 0x81:   /* NEWOBJ */
    case 'R':    /* REDUCE: the class called with its arguments */
        return op_new(m, 0);
    case 0x92:   /* NEWOBJ_EX */
        return op_new(m, 1);
    case 'b':    /* BUILD */
        return op_build(m);
    default: {
        char what[96];
        snprintf(what, sizeof what, "opcode 0x%02x at byte %zu is none a line_profiler file "
                 "holds", op, m->op_at);
        return refuse(m, "%s", what);
    }
    }
}

PyObject *pyro_pickle_line_stats(const char *path, const char *data, size_t len)
{
    machine m = {.path = path, .start = (const unsigned char *)data};
    m.p = m.start;
    m.end = m.start + len;
    PyObject *result = NULL;
    int rc = 0;
    while (rc == 0 && m.p < m.end)
        rc = step(&m, &result);
    if (rc == 0)
        refuse(&m, "it is cut short: it ends before the pickle's STOP");
    drop(&m, 0);
    for (size_t i = 0; i < m.nmemo; i++)
        Py_XDECREF(m.memo[i].obj);
    PyMem_Free(m.stack);
    PyMem_Free(m.memo);
    return rc > 0 ? result : NULL;
}
