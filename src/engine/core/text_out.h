/* text_out.h: a growing text buffer for the writers of text formats, with
 * the escapes of JSON and XML, written to a file atomically at the end. */
#ifndef PYRO_TEXT_OUT_H
#define PYRO_TEXT_OUT_H

#include "core/compat.h"

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
void pyro_text_ull(pyro_text *t, unsigned long long v);
/* Make room for `n` more bytes up front (a size hint); 0 if memory ran out. */
int pyro_text_room(pyro_text *t, size_t n);
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
/* The same for a path object (str or bytes). */
int pyro_text_write(pyro_text *t, PyObject *path);

/* Text reports go to terminals: control characters (C0, DEL, C1) in names
 * and source lines from a file could move the cursor, retitle the window
 * or hide text.  These spell them \xNN; tabs stay when `keep_tabs` (source
 * lines).  The str version returns a new reference (`s` itself when
 * nothing needs escaping); the UTF-8 version returns NULL (no exception)
 * when nothing does, else new bytes, or NULL + MemoryError. */
PyObject *pyro_escape_controls(PyObject *s, int keep_tabs);
int pyro_utf8_has_controls(const char *s, size_t n, int keep_tabs);
PyObject *pyro_escape_controls_utf8(const char *s, size_t n, int keep_tabs);

/* UTF-8 of a str in a PyMem_Raw buffer (NUL-terminated; what UTF-8 cannot
 * hold becomes '?'), or NULL + exception. */
char *pyro_utf8_dup(PyObject *str, size_t *len);

#endif
