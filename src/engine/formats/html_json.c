/* html_json.c: JSON strings safe inside the page's <script> element (see
 * html_json.h). */
#include "formats/html_json.h"

static const char HEX[] = "0123456789abcdef";

static char *put_u_escape(char *p, Py_UCS4 c)
{
    *p++ = '\\';
    *p++ = 'u';
    *p++ = HEX[(c >> 12) & 15];
    *p++ = HEX[(c >> 8) & 15];
    *p++ = HEX[(c >> 4) & 15];
    *p++ = HEX[c & 15];
    return p;
}

/* A str as a JSON string safe inside <script>.  -1 + exception. */
int pyro_json_str(pyro_text *b, PyObject *s)
{
    if (pyro_unicode_ready(s) < 0)
        return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    char chunk[512], *p = chunk;
    *p++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p > chunk + sizeof chunk - 8) {   /* room for the longest escape */
            pyro_text_put(b, chunk, (size_t)(p - chunk));
            p = chunk;
        }
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                *p++ = '\\';
                *p++ = (char)c;
            } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                p = put_u_escape(p, c);
            } else {
                *p++ = (char)c;
            }
        } else if (c < 0x800) {
            *p++ = (char)(0xC0 | (c >> 6));
            *p++ = (char)(0x80 | (c & 0x3F));
        } else if (c >= 0xDC80 && c <= 0xDCFF) {
            /* a byte that was not UTF-8 (surrogateescape): shown as \xNN */
            *p++ = '\\';
            *p++ = '\\';
            *p++ = 'x';
            *p++ = HEX[(c >> 4) & 15];
            *p++ = HEX[c & 15];
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            *p++ = (char)0xEF;   /* any other lone surrogate: U+FFFD */
            *p++ = (char)0xBF;
            *p++ = (char)0xBD;
        } else if (c == 0x2028 || c == 0x2029) {
            p = put_u_escape(p, c);
        } else if (c < 0x10000) {
            *p++ = (char)(0xE0 | (c >> 12));
            *p++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (char)(0x80 | (c & 0x3F));
        } else {
            *p++ = (char)(0xF0 | (c >> 18));
            *p++ = (char)(0x80 | ((c >> 12) & 0x3F));
            *p++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *p++ = '"';
    pyro_text_put(b, chunk, (size_t)(p - chunk));
    return 0;
}

/* Any object as a JSON string: str() of what is not a str (the profile
 * module names its command entry with a code object). */
int pyro_json_any_str(pyro_text *b, PyObject *o)
{
    if (PyUnicode_Check(o))
        return pyro_json_str(b, o);
    PyObject *s = PyObject_Str(o);
    if (s == NULL)
        return -1;
    int rc = pyro_json_str(b, s);
    Py_DECREF(s);
    return rc;
}

/* A UTF-8 string as a JSON string (as pyro_json_str).  -1 + exception. */
int pyro_json_cstr(pyro_text *b, const char *s)
{
    PyObject *o = PyUnicode_FromString(s);
    int rc = o == NULL ? -1 : pyro_json_str(b, o);
    Py_XDECREF(o);
    return rc;
}

/* "key": — a key with its colon, after a comma unless it is the first. */
void pyro_json_key(pyro_text *b, const char *key, int first)
{
    if (!first)
        pyro_text_char(b, ',');
    pyro_text_char(b, '"');
    pyro_text_str(b, key);
    pyro_text_str(b, "\":");
}

/* {str: str} of a dict (None or NULL: {}).  -1 + exception. */
int pyro_json_meta(pyro_text *b, PyObject *meta)
{
    pyro_text_char(b, '{');
    if (meta != NULL && meta != Py_None) {
        if (!PyDict_Check(meta)) {
            PyErr_SetString(PyExc_TypeError, "pyrometer: meta must be a dict");
            return -1;
        }
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        int first = 1;
        while (PyDict_Next(meta, &pos, &k, &v)) {
            if (!first)
                pyro_text_char(b, ',');
            first = 0;
            if (pyro_json_any_str(b, k) < 0)
                return -1;
            pyro_text_char(b, ':');
            if (pyro_json_any_str(b, v) < 0)
                return -1;
        }
    }
    pyro_text_char(b, '}');
    return 0;
}

