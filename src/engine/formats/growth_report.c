/* growth_report.c: objgraph's show_growth() table with bytes (see
 * growth_report.h). */
#include "formats/growth_report.h"

#include "core/text_out.h"
#include "model/units.h"

#include <string.h>

/* Characters, not bytes, of UTF-8 text: columns line up for any name. */
static size_t width_of(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xC0) != 0x80;
    return w;
}

typedef struct {
    PyObject *escaped;             /* bytes, or NULL when the name needs none */
    const char *text;
    size_t len, width;
} shown_name;

static void release(shown_name *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        Py_XDECREF(names[i].escaped);
    PyMem_RawFree(names);
}

PyObject *pyro_growth_report(const pyro_type_growth *rows, size_t n)
{
    if (n == 0)
        return PyUnicode_FromString("");
    shown_name *names = PyMem_RawCalloc(n, sizeof(shown_name));
    if (names == NULL)
        return PyErr_NoMemory();
    size_t widest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(rows[i].name);
        names[i].escaped = pyro_escape_controls_utf8(rows[i].name, len, 0);
        if (names[i].escaped == NULL && PyErr_Occurred()) {
            release(names, n);
            return NULL;
        }
        names[i].text = names[i].escaped ? PyBytes_AS_STRING(names[i].escaped) : rows[i].name;
        names[i].len = names[i].escaped ? (size_t)PyBytes_GET_SIZE(names[i].escaped) : len;
        names[i].width = width_of(names[i].text, names[i].len);
        if (names[i].width > widest)
            widest = names[i].width;
    }
    pyro_text t = PYRO_TEXT_INIT;
    pyro_text bytes = PYRO_TEXT_INIT;
    for (size_t i = 0; i < n; i++) {
        pyro_text_put(&t, names[i].text, names[i].len);
        for (size_t w = names[i].width; w < widest; w++)
            pyro_text_char(&t, ' ');
        bytes.len = 0;
        if (rows[i].bytes_growth >= 0)
            pyro_text_char(&bytes, '+');
        pyro_unit_text(&bytes, PYRO_UNIT_BYTES, (double)rows[i].bytes_growth);
        pyro_text_printf(&t, "%9zd %+9zd %12.*s\n", rows[i].count, rows[i].growth,
                         (int)bytes.len, bytes.data ? bytes.data : "");
    }
    release(names, n);
    PyObject *text = NULL;
    if (t.failed || bytes.failed)
        PyErr_NoMemory();
    else
        text = PyUnicode_DecodeUTF8(t.data, (Py_ssize_t)t.len, "replace");
    pyro_text_free(&t);
    pyro_text_free(&bytes);
    return text;
}
