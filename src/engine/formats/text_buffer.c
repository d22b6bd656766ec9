/* text_buffer.c: the parts of the report's output buffer (text_buffer.h)
 * that run once a report or once a doubling: kept out of line, and out
 * of the header, so that they exist once and the inline helpers stay
 * small. */
#include "formats/text_buffer.h"

/* Out of line, even where the linker could inline it: ob_room() is the
 * check every write makes, and it stays a compare and a branch. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
int pyro_outbuf_grow(outbuf *o, size_t n)
{
    if (o->failed)
        return 0;
    size_t cap = o->cap ? o->cap : 1 << 16;
    while (cap < o->len + n)
        cap *= 2;
    if (o->str != NULL) {
        if (PyUnicode_Resize(&o->str, (Py_ssize_t)cap) < 0) {
            PyErr_Clear();   /* reported as MemoryError at the end */
            o->failed = 1;
            return 0;
        }
        o->buf = PyUnicode_DATA(o->str);
    } else {
        char *b = PyMem_RawRealloc(o->buf, cap);
        if (b == NULL) {
            o->failed = 1;
            return 0;
        }
        o->buf = b;
    }
    o->cap = cap;
    return 1;
}

int pyro_outbuf_start_str(outbuf *o, size_t hint)
{
    o->str = PyUnicode_New((Py_ssize_t)(hint > 0 ? hint : 1), 127);
    if (o->str == NULL)
        return -1;
    o->buf = PyUnicode_DATA(o->str);
    o->cap = (size_t)PyUnicode_GET_LENGTH(o->str);
    o->len = 0;
    return 0;
}

PyObject *pyro_outbuf_finish(outbuf *o)
{
    PyObject *s;
    if (o->failed) {
        s = PyErr_NoMemory();
    } else if (o->str != NULL) {
        if (PyUnicode_Resize(&o->str, (Py_ssize_t)o->len) < 0)
            return NULL;
        s = o->str;
        o->str = NULL;
        o->buf = NULL;
        return s;
    } else {
        s = PyUnicode_DecodeUTF8(o->buf ? o->buf : "", (Py_ssize_t)o->len, "surrogatepass");
    }
    return s;
}

void pyro_outbuf_free(outbuf *o)
{
    if (o->str != NULL)
        Py_CLEAR(o->str);
    else
        PyMem_RawFree(o->buf);
    o->buf = NULL;
}
