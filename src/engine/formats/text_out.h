/* text_out.h: a growing text buffer for the writers of text formats, with
 * the escapes of JSON and XML, written to a file atomically at the end. */
#ifndef PYRO_TEXT_OUT_H
#define PYRO_TEXT_OUT_H

#include "compat.h"

#include <stddef.h>

typedef struct {
    char *data;
    size_t len, cap;
    int failed;                /* out of memory: later puts do nothing */
} pyro_text;

#define PYRO_TEXT_INIT {NULL, 0, 0, 0}

void pyro_text_put(pyro_text *t, const char *s, size_t n);
void pyro_text_str(pyro_text *t, const char *s);
void pyro_text_char(pyro_text *t, char c);
void pyro_text_printf(pyro_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pyro_text_ll(pyro_text *t, long long v);
/* A finite double as JSON and SVG read it: the shortest text that reads
 * back to the same value. */
void pyro_text_double(pyro_text *t, double x);
/* `s` as the inside of a JSON string. */
void pyro_text_json(pyro_text *t, const char *s, size_t n);
/* `s` as XML text or attribute value (quotes escaped too); characters XML
 * forbids become U+FFFD. */
void pyro_text_xml(pyro_text *t, const char *s, size_t n);
void pyro_text_free(pyro_text *t);

/* Write the buffer to `path` atomically and free it.  0, or -1 + MemoryError
 * or OSError (naming the file). */
int pyro_text_finish(pyro_text *t, const char *path);

/* UTF-8 of a str in a PyMem_Raw buffer (NUL-terminated; what UTF-8 cannot
 * hold becomes '?'), or NULL + exception. */
char *pyro_utf8_dup(PyObject *str, size_t *len);

#endif
