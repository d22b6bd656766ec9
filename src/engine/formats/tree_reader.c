/* tree_reader.c: the call tree after the stats in a .prof file.
 *
 * The second marshal object is pyrometer's tree when it is a dict whose
 * first key is "pyrometer" with the value "calltree"; anything else after
 * the stats (nothing, another tool's data) means no tree.  A marked tree is
 * decoded here, not by PyMarshal: the marshal subset a tree is made of
 * (dict, list, tuple, str, int, float, bool, refs), every size checked
 * against the bytes left before anything is allocated, no cycles.  Then it
 * is checked against the format (tree_view.c); a marked tree that fails
 * either way is a FormatError, one line naming the file. */
#include "tree_file.h"

#include <stdint.h>
#include <string.h>

#define M_FLAG_REF 0x80
#define MAX_DEPTH 8            /* a tree nests three deep (dict, list, label) */

typedef struct {
    const unsigned char *p, *end;
    PyObject **refs;           /* strong references */
    uint8_t *done;             /* refs[i] is complete: a ref to it is no cycle */
    size_t nrefs, cap;
    int depth;
    const char *why;           /* what is wrong, when decoding failed */
    int pyerr;                 /* failed on a Python error (memory) */
} treader;

static PyObject *fail(treader *r, const char *why)
{
    if (r->why == NULL && !r->pyerr)
        r->why = why;
    return NULL;
}

static PyObject *pyfail(treader *r)
{
    r->pyerr = 1;
    return NULL;
}

static int have(treader *r, size_t n)
{
    if ((size_t)(r->end - r->p) >= n)
        return 1;
    fail(r, "it is cut short");
    return 0;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reserve a ref slot for an object being made (marshal numbers an object
 * before its contents).  Index, or -1. */
static Py_ssize_t reserve(treader *r)
{
    if (r->nrefs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        PyObject **refs = PyMem_RawRealloc(r->refs, cap * sizeof(*refs));
        if (refs != NULL)
            r->refs = refs;
        uint8_t *done = refs != NULL ? PyMem_RawRealloc(r->done, cap) : NULL;
        if (done == NULL) {
            r->pyerr = 1;
            return -1;
        }
        r->done = done;
        r->cap = cap;
    }
    r->refs[r->nrefs] = NULL;
    r->done[r->nrefs] = 0;
    return (Py_ssize_t)r->nrefs++;
}

static void set_ref(treader *r, Py_ssize_t i, PyObject *v)
{
    r->refs[i] = Py_NewRef(v);
    r->done[i] = 1;
}

/* A size of a container or str: it cannot exceed the bytes left, each
 * item taking one at least. */
static int read_size(treader *r, Py_ssize_t *n)
{
    if (!have(r, 4))
        return -1;
    int32_t x = (int32_t)le32(r->p);
    r->p += 4;
    if (x < 0 || (size_t)x > (size_t)(r->end - r->p)) {
        fail(r, "a size runs past the end of the data");
        return -1;
    }
    *n = x;
    return 0;
}

/* marshal's long: a signed count of 15-bit digits, least significant
 * first.  Tree numbers are counts and indexes: up to five digits. */
static PyObject *read_long(treader *r)
{
    if (!have(r, 4))
        return NULL;
    int32_t nd = (int32_t)le32(r->p);
    r->p += 4;
    int neg = nd < 0;
    uint32_t count = neg ? (uint32_t)0 - (uint32_t)nd : (uint32_t)nd;
    if (count > 5)
        return fail(r, "it holds an integer too large for a tree");
    if (!have(r, (size_t)count * 2))
        return NULL;
    uint64_t lo = 0, hi = 0;   /* digits 0-3 in lo (60 bits), digit 4 in hi */
    for (uint32_t i = 0; i < count; i++) {
        unsigned d = (unsigned)r->p[2 * i] | (unsigned)r->p[2 * i + 1] << 8;
        if (d >= 1u << 15)
            return fail(r, "it holds a corrupt integer");
        if (i < 4)
            lo |= (uint64_t)d << (15 * i);
        else
            hi = d;
    }
    r->p += (size_t)count * 2;
    if (hi == 0) {
        PyObject *v = PyLong_FromUnsignedLongLong((unsigned long long)lo);
        if (v != NULL && neg)
            Py_SETREF(v, PyNumber_Negative(v));
        return v != NULL ? v : pyfail(r);
    }
    PyObject *h = PyLong_FromUnsignedLongLong((unsigned long long)hi);
    PyObject *shift = PyLong_FromLong(60);
    PyObject *l = PyLong_FromUnsignedLongLong((unsigned long long)lo);
    PyObject *hs = h && shift ? PyNumber_Lshift(h, shift) : NULL;
    PyObject *v = hs && l ? PyNumber_Or(hs, l) : NULL;
    Py_XDECREF(h);
    Py_XDECREF(shift);
    Py_XDECREF(l);
    Py_XDECREF(hs);
    if (v != NULL && neg)
        Py_SETREF(v, PyNumber_Negative(v));
    return v != NULL ? v : pyfail(r);
}

static PyObject *read_object(treader *r);

static PyObject *read_sequence(treader *r, Py_ssize_t n, int is_list, int flag)
{
    PyObject *v = is_list ? PyList_New(n) : PyTuple_New(n);
    if (v == NULL)
        return pyfail(r);
    Py_ssize_t ref = flag ? reserve(r) : -1;
    if (flag && ref < 0) {
        Py_DECREF(v);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = read_object(r);
        if (item == NULL) {
            Py_DECREF(v);
            return NULL;
        }
        if (is_list)
            PyList_SET_ITEM(v, i, item);
        else
            PyTuple_SET_ITEM(v, i, item);
    }
    if (ref >= 0)
        set_ref(r, ref, v);
    return v;
}

static PyObject *read_dict_items(treader *r, PyObject *d)
{
    for (;;) {
        if (!have(r, 1))
            return NULL;
        if (*r->p == '0') {
            r->p++;
            return d;
        }
        PyObject *key = read_object(r);
        if (key == NULL)
            return NULL;
        if (!PyUnicode_Check(key)) {
            Py_DECREF(key);
            return fail(r, "a key of its dict is not a str");
        }
        PyObject *value = read_object(r);
        if (value == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        int rc = PyDict_SetItem(d, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (rc < 0)
            return pyfail(r);
    }
}

static PyObject *read_str(treader *r, int code)
{
    Py_ssize_t n;
    if (code == 'z' || code == 'Z') {
        if (!have(r, 1))
            return NULL;
        n = *r->p++;
    } else if (read_size(r, &n) < 0)
        return NULL;
    if (!have(r, (size_t)n))
        return NULL;
    PyObject *v;
    if (code == 'u' || code == 't') {
        v = PyUnicode_DecodeUTF8((const char *)r->p, n, "surrogatepass");
        if (v == NULL) {
            PyErr_Clear();
            return fail(r, "it holds a str that is not UTF-8");
        }
    } else {
        for (Py_ssize_t i = 0; i < n; i++)
            if (r->p[i] >= 0x80)
                return fail(r, "it holds an ASCII str that is not ASCII");
        v = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, r->p, n);
        if (v == NULL)
            return pyfail(r);
    }
    r->p += n;
    return v;
}

static PyObject *read_object(treader *r)
{
    if (!have(r, 1))
        return NULL;
    int code = *r->p++;
    int flag = code & M_FLAG_REF;
    code &= ~M_FLAG_REF;
    if (++r->depth > MAX_DEPTH) {
        r->depth--;
        return fail(r, "it nests deeper than a tree does");
    }
    PyObject *v = NULL;
    Py_ssize_t n;
    switch (code) {
    case 'N':
        v = Py_NewRef(Py_None);
        break;
    case 'T':
        v = Py_NewRef(Py_True);
        break;
    case 'F':
        v = Py_NewRef(Py_False);
        break;
    case 'i':
        if (have(r, 4)) {
            v = PyLong_FromLong((long)(int32_t)le32(r->p));
            r->p += 4;
            if (v == NULL)
                pyfail(r);
        }
        break;
    case 'l':
        v = read_long(r);
        break;
    case 'g':
        if (have(r, 8)) {
            uint64_t bits = (uint64_t)le32(r->p) | (uint64_t)le32(r->p + 4) << 32;
            double x;
            memcpy(&x, &bits, sizeof x);
            r->p += 8;
            if ((v = PyFloat_FromDouble(x)) == NULL)
                pyfail(r);
        }
        break;
    case 'u': case 't': case 'a': case 'A': case 'z': case 'Z':
        v = read_str(r, code);
        break;
    case ')':
        if (have(r, 1)) {
            n = *r->p++;
            v = read_sequence(r, n, 0, flag);
        }
        r->depth--;
        return v;   /* containers number themselves */
    case '(':
    case '[':
        if (read_size(r, &n) == 0)
            v = read_sequence(r, n, code == '[', flag);
        r->depth--;
        return v;
    case '{': {
        PyObject *d = PyDict_New();
        if (d == NULL) {
            pyfail(r);
            break;
        }
        Py_ssize_t ref = flag ? reserve(r) : -1;
        if ((flag && ref < 0) || read_dict_items(r, d) == NULL) {
            Py_DECREF(d);
            break;
        }
        if (ref >= 0)
            set_ref(r, ref, d);
        r->depth--;
        return d;
    }
    case 'r': {
        if (!have(r, 4))
            break;
        uint32_t i = le32(r->p);
        r->p += 4;
        if (i >= r->nrefs || !r->done[i])
            fail(r, "it holds an invalid reference");
        else
            v = Py_NewRef(r->refs[i]);
        flag = 0;
        break;
    }
    default:
        fail(r, "it holds a type no tree has");
        break;
    }
    r->depth--;
    if (v != NULL && flag && code != 'N' && code != 'T' && code != 'F') {
        Py_ssize_t ref = reserve(r);
        if (ref < 0) {
            Py_DECREF(v);
            return NULL;
        }
        set_ref(r, ref, v);
    }
    return v;
}

static void release(treader *r)
{
    for (size_t i = 0; i < r->nrefs; i++)
        Py_XDECREF(r->refs[i]);
    PyMem_RawFree(r->refs);
    PyMem_RawFree(r->done);
}

static int corrupt(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (reason != NULL) {
        PyErr_Format(pyro_FormatError, "pyrometer: %s has a corrupt call tree (%U)", path, reason);
        Py_DECREF(reason);
    }
    return -1;
}

/* Whether `o` is the str `s`. */
static int is_str(PyObject *o, const char *s)
{
    return o != NULL && PyUnicode_Check(o) && PyUnicode_CompareWithASCIIString(o, s) == 0;
}

int pyro_read_tree(const char *path, const char *data, size_t len, PyObject **tree)
{
    *tree = NULL;
    const unsigned char *p = (const unsigned char *)data;
    if (len == 0 || (p[0] & ~M_FLAG_REF) != '{')
        return 0;
    treader r = {.p = p + 1, .end = p + len};
    PyObject *d = PyDict_New();
    if (d == NULL)
        return -1;
    Py_ssize_t ref = (p[0] & M_FLAG_REF) ? reserve(&r) : -1;
    int rc = 0;
    /* The marker: the first key and its value.  Data that does not start
     * so is some other tool's: no tree, whatever it holds. */
    PyObject *key = NULL, *value = NULL;
    if (!r.pyerr && r.p < r.end && *r.p != '0')
        key = read_object(&r);
    if (key != NULL && is_str(key, "pyrometer"))
        value = read_object(&r);
    if (r.pyerr) {
        rc = -1;
        goto done;
    }
    if (!is_str(value, "calltree"))
        goto done;   /* not ours */
    if (PyDict_SetItem(d, key, value) < 0) {
        rc = -1;
        goto done;
    }
    if (read_dict_items(&r, d) == NULL) {
        rc = r.pyerr ? -1 : corrupt(path, "%s", r.why ? r.why : "its marshal data is corrupt");
        goto done;
    }
    if (ref >= 0)
        set_ref(&r, ref, d);
    PyObject *reason = NULL;
    pyro_tree_view view;
    int bad = pyro_tree_view_init(&view, d, &reason);
    if (bad == 0) {
        pyro_tree_view_release(&view);
        *tree = Py_NewRef(d);
    } else if (bad > 0) {
        rc = corrupt(path, "%U", reason);
        Py_DECREF(reason);
    } else
        rc = -1;
done:
    if (rc < 0 && r.pyerr && !PyErr_Occurred())
        PyErr_NoMemory();
    Py_XDECREF(key);
    Py_XDECREF(value);
    Py_DECREF(d);
    release(&r);
    return rc;
}
