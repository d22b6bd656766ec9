/* text_buffer.h: the output buffer of pstats' text report (report.c and
 * its parts): UTF-8 text, or the characters of an ASCII str written in
 * place, and the number formatting pstats' columns need.
 *
 * The helpers every line calls are static inline here, so that each part
 * of the report formats as fast as one file did; what runs once a report
 * (starting, growing, finishing) lives once, in text_buffer.c. */
#ifndef PYRO_TEXT_BUFFER_H
#define PYRO_TEXT_BUFFER_H

#include "core/compat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* UTF-8 text in a growing buffer; or, for a report known to be ASCII, the
 * characters of the str to return, written in place: the text is tens of
 * megabytes for a big profile, and a second copy of it costs as much in
 * page faults as the formatting. */
typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
    PyObject *str;             /* the ASCII str being written, or NULL */
} outbuf;

/* Grows `o` to hold n more bytes; 0 once memory has run out (`failed`). */
int pyro_outbuf_grow(outbuf *o, size_t n);

/* Room for n more bytes: the check inline, the growing out of line. */
static inline int ob_room(outbuf *o, size_t n)
{
    return PYRO_LIKELY(o->len + n <= o->cap) || pyro_outbuf_grow(o, n);
}

/* Start `o` as an ASCII str with room for `hint` characters. */
int pyro_outbuf_start_str(outbuf *o, size_t hint);

/* The text as a str; `o` is left empty.  NULL + exception on failure. */
PyObject *pyro_outbuf_finish(outbuf *o);

void pyro_outbuf_free(outbuf *o);

static inline void ob_put(outbuf *o, const char *s, size_t n)
{
    if (ob_room(o, n)) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
    }
}

static inline void ob_str(outbuf *o, const char *s)
{
    ob_put(o, s, strlen(s));
}

static inline void ob_char(outbuf *o, char c)
{
    if (ob_room(o, 1))
        o->buf[o->len++] = c;
}

static inline void ob_spaces(outbuf *o, Py_ssize_t n)
{
    if (n > 0 && ob_room(o, (size_t)n)) {
        memset(o->buf + o->len, ' ', (size_t)n);
        o->len += (size_t)n;
    }
}

/* Decimal digits of v into the end of buf[24]; returns the start. */
static inline char *fmt_ll(char *end, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

/* Numbers are built right-aligned against the middle of a 64-byte buffer
 * of spaces, then stored 32 bytes at once, padding included: fixed-size
 * copies the compiler inlines, where two libc calls per number (spaces,
 * digits) cost more than the bytes.  Only `total` of them count. */
enum { NUM_END = 32 };
typedef struct {
    char b[64];
} numbuf;

static inline char *num_end(numbuf *t)
{
    memset(t->b, ' ', sizeof t->b);
    return t->b + NUM_END;
}

/* The text p .. num_end(t), right-justified in `width`. */
static inline void ob_num(outbuf *o, numbuf *t, const char *p, size_t width)
{
    const char *e = t->b + NUM_END;
    size_t n = (size_t)(e - p), total = n > width ? n : width;
    if (!ob_room(o, NUM_END))
        return;
    memcpy(o->buf + o->len, e - total, NUM_END);
    o->len += total;
}

static inline void ob_ll(outbuf *o, long long v)
{
    numbuf t;
    char *e = num_end(&t);
    ob_num(o, &t, fmt_ll(e, v), 0);
}

static inline Py_ssize_t ll_width(long long v)
{
    char tmp[24];
    return tmp + sizeof tmp - fmt_ll(tmp + sizeof tmp, v);
}

/* 10**d for the decimals a report prints, d from 0 to 9. */
static inline double pow10_of(int d)
{
    static const double p[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    return p[d];
}

/* "%*.*f" % (width, decimals, x) as Python formats it, decimals 0 to 9:
 * correctly rounded, "nan" unsigned. */
static inline void ob_fixed(outbuf *o, double x, int decimals, Py_ssize_t width)
{
    /* Fast path: round x*10**decimals to an integer.  The product is off
     * from the exact one by at most half an ulp (< 2**-13 below 1e12), so
     * away from a half the integer is the one exact decimal rounding
     * gives; near a half, let printf decide.  Rounding is symmetric: the
     * digits of |x|, then the sign.  (NaN fails the first test.) */
    double y = fabs(x) * pow10_of(decimals);
    if (y < 1e12 && width <= 16) {
        unsigned long long m = (unsigned long long)(y + 0.5);
        if (fabs(y - (double)m) < 0.499) {
            numbuf t;
            char *p = num_end(&t);
            for (int i = 0; i < decimals; i++) {
                *--p = (char)('0' + m % 10);
                m /= 10;
            }
            if (decimals > 0)
                *--p = '.';
            do {
                *--p = (char)('0' + m % 10);
                m /= 10;
            } while (m);
            if (signbit(x))
                *--p = '-';   /* Python keeps the sign of -0.0001: "-0.000" */
            ob_num(o, &t, p, (size_t)width);
            return;
        }
    }
    char tmp[400];
    const char *s;
    size_t n;
    if (isnan(x)) {
        s = "nan";
        n = 3;
    } else if (isinf(x)) {
        s = x < 0 ? "-inf" : "inf";
        n = strlen(s);
    } else {
        int k = snprintf(tmp, sizeof tmp, "%.*f", decimals, x);
        s = tmp;
        n = k > 0 ? (size_t)k : 0;
    }
    if ((size_t)width > n)
        ob_spaces(o, (Py_ssize_t)((size_t)width - n));
    ob_put(o, s, n);
}

/* "%*.3f" % x: pstats' precision. */
static inline void ob_fixed3(outbuf *o, double x, int width)
{
    ob_fixed(o, x, 3, width);
}

/* pstats' f8() */
static inline void ob_f8(outbuf *o, double x)
{
    ob_fixed3(o, x, 8);
}

#endif
