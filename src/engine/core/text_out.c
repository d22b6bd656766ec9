/* text_out.c: the text buffer of the writers. */
#include "core/text_out.h"
#include "core/atomic_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int room(pyro_text *t, size_t n)
{
    if (t->failed)
        return 0;
    if (t->cap - t->len >= n)
        return 1;
    size_t cap = t->cap ? t->cap : 1 << 16;
    while (cap - t->len < n) {
        if (cap > ((size_t)-1) / 2) {
            t->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    char *data = PyMem_RawRealloc(t->data, cap);
    if (data == NULL) {
        t->failed = 1;
        return 0;
    }
    t->data = data;
    t->cap = cap;
    return 1;
}

void pyro_text_put(pyro_text *t, const char *s, size_t n)
{
    if (n > 0 && room(t, n)) {
        memcpy(t->data + t->len, s, n);
        t->len += n;
    }
}

void pyro_text_str(pyro_text *t, const char *s)
{
    pyro_text_put(t, s, strlen(s));
}

void pyro_text_char(pyro_text *t, char c)
{
    if (room(t, 1))
        t->data[t->len++] = c;
}

void pyro_text_printf(pyro_text *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    if ((size_t)n < sizeof buf) {
        pyro_text_put(t, buf, (size_t)n);
        return;
    }
    if (!room(t, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void pyro_text_ll(pyro_text *t, long long v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    pyro_text_put(t, p, (size_t)(buf + sizeof buf - p));
}

void pyro_text_double(pyro_text *t, double x)
{
    if (x == 0.0) {   /* also -0.0 */
        pyro_text_char(t, '0');
        return;
    }
    char *s = PyOS_double_to_string(x, 'r', 0, 0, NULL);
    if (s == NULL) {
        PyErr_Clear();
        t->failed = 1;
        return;
    }
    pyro_text_str(t, s);
    PyMem_Free(s);
}

void pyro_text_json(pyro_text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        pyro_text_put(t, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': pyro_text_put(t, "\\\"", 2); break;
        case '\\': pyro_text_put(t, "\\\\", 2); break;
        case '\n': pyro_text_put(t, "\\n", 2); break;
        case '\t': pyro_text_put(t, "\\t", 2); break;
        case '\r': pyro_text_put(t, "\\r", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            pyro_text_put(t, u, 6);
        }
        }
    }
    pyro_text_put(t, s + start, n - start);
}

void pyro_text_xml(pyro_text *t, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                rep = "\xef\xbf\xbd";   /* XML 1.0 has no such characters */
            else if (c == 0xef && i + 2 < n && (unsigned char)s[i + 1] == 0xbf
                     && ((unsigned char)s[i + 2] == 0xbe || (unsigned char)s[i + 2] == 0xbf)) {
                /* U+FFFE and U+FFFF are not XML characters either */
                pyro_text_put(t, s + start, i - start);
                pyro_text_str(t, "\xef\xbf\xbd");
                i += 2;
                start = i + 1;
                continue;
            }
        }
        if (rep == NULL)
            continue;
        pyro_text_put(t, s + start, i - start);
        pyro_text_str(t, rep);
        start = i + 1;
    }
    pyro_text_put(t, s + start, n - start);
}

void pyro_text_free(pyro_text *t)
{
    PyMem_RawFree(t->data);
    t->data = NULL;
    t->len = t->cap = 0;
}

int pyro_text_finish(pyro_text *t, const char *path)
{
    if (t->failed) {
        pyro_text_free(t);
        PyErr_NoMemory();
        return -1;
    }
    int rc = pyro_write_atomic(path, t->data != NULL ? t->data : "", t->len);
    int err = errno;
    pyro_text_free(t);
    if (rc < 0) {
        PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iss", err, strerror(err), path);
        if (exc != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            Py_DECREF(exc);
        }
        return -1;
    }
    return 0;
}

char *pyro_utf8_dup(PyObject *str, size_t *len)
{
    PyObject *b = PyUnicode_AsEncodedString(str, "utf-8", "replace");
    if (b == NULL)
        return NULL;
    size_t n = (size_t)PyBytes_GET_SIZE(b);
    char *s = PyMem_RawMalloc(n + 1);
    if (s == NULL) {
        Py_DECREF(b);
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(s, PyBytes_AS_STRING(b), n + 1);
    Py_DECREF(b);
    if (len != NULL)
        *len = n;
    return s;
}

int pyro_text_room(pyro_text *t, size_t n)
{
    return room(t, n);
}

void pyro_text_ull(pyro_text *t, unsigned long long v)
{
    char digits[24];
    char *p = digits + sizeof digits;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    pyro_text_put(t, p, (size_t)(digits + sizeof digits - p));
}

int pyro_text_write(pyro_text *t, PyObject *path_obj)
{
    PyObject *path_bytes = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes)) {
        pyro_text_free(t);
        return -1;
    }
    int rc = pyro_text_finish(t, PyBytes_AS_STRING(path_bytes));
    Py_DECREF(path_bytes);
    return rc;
}

/* ---- control characters for terminals ------------------------------------ */

static int is_control(Py_UCS4 c, int keep_tabs)
{
    if (c == '\t')
        return !keep_tabs;
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

PyObject *pyro_escape_controls(PyObject *s, int keep_tabs)
{
    if (!PyUnicode_Check(s))
        return Py_NewRef(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), bad = 0;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        bad += is_control(PyUnicode_READ(kind, data, i), keep_tabs);
    if (bad == 0)
        return Py_NewRef(s);
    Py_UCS4 max = PyUnicode_MAX_CHAR_VALUE(s);
    PyObject *out = PyUnicode_New(n + 3 * bad, max < 0x7f ? 0x7f : max);
    if (out == NULL)
        return NULL;
    int okind = PyUnicode_KIND(out);
    void *odata = PyUnicode_DATA(out);
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (is_control(c, keep_tabs)) {
            static const char hex[] = "0123456789abcdef";
            PyUnicode_WRITE(okind, odata, j++, '\\');
            PyUnicode_WRITE(okind, odata, j++, 'x');
            PyUnicode_WRITE(okind, odata, j++, (Py_UCS4)hex[(c >> 4) & 15]);
            PyUnicode_WRITE(okind, odata, j++, (Py_UCS4)hex[c & 15]);
        }
        else {
            PyUnicode_WRITE(okind, odata, j++, c);
        }
    }
    return out;
}

/* C1 controls are U+0080-U+009F: 0xC2 0x80-0x9F in UTF-8. */
int pyro_utf8_has_controls(const char *s, size_t n, int keep_tabs)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if ((c < 0x20 && !(c == '\t' && keep_tabs)) || c == 0x7f
            || (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
            return 1;
    }
    return 0;
}

PyObject *pyro_escape_controls_utf8(const char *s, size_t n, int keep_tabs)
{
    if (!pyro_utf8_has_controls(s, n, keep_tabs))
        return NULL;
    pyro_text t = PYRO_TEXT_INIT;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
            pyro_text_printf(&t, "\\x%02x", p[++i]);
        }
        else if ((c < 0x20 && !(c == '\t' && keep_tabs)) || c == 0x7f) {
            pyro_text_printf(&t, "\\x%02x", c);
        }
        else {
            pyro_text_char(&t, (char)c);
        }
    }
    PyObject *b = t.failed ? NULL : PyBytes_FromStringAndSize(t.data ? t.data : "", (Py_ssize_t)t.len);
    if (t.failed)
        PyErr_NoMemory();
    pyro_text_free(&t);
    return b;
}
