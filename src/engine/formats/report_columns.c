/* report_columns.c: how a column of the text report writes its numbers.
 *
 * pstats writes every time as "%8.3f": a call of 40 us reads 0.000, and a
 * column mixes exact and vanished values.  Here a column keeps one
 * notation, seconds in fixed point as pstats' (a script that reads
 * seconds still reads them; a unit in the header would change the
 * numbers under it), with the fewest decimals, from pstats' 3 up to 9,
 * at which every non-zero value in it shows three significant digits or
 * all of its digits (pyro_col_shows).  Nine decimals are a nanosecond,
 * the clocks' resolution: only a time under half of one prints as zeros.
 * The width is that of the widest value, so the columns stay aligned from
 * 1e-9 to 1e4 seconds and beyond. */
#include "formats/report_internal.h"

void pyro_col_init(num_col *c, int min_decimals, int max_decimals)
{
    c->decimals = min_decimals;
    c->max_decimals = max_decimals;
    c->any = 0;
    c->hi = c->lo = 0.0;
    c->width = 0;
}

void pyro_col_widen(num_col *c, double v)
{
    while (c->decimals < c->max_decimals && !pyro_col_shows(v, c->decimals))
        c->decimals++;
}

/* Characters of v at the column's decimals, as ob_fixed() writes it. */
static Py_ssize_t fixed_width(double v, int decimals)
{
    int n = snprintf(NULL, 0, "%.*f", decimals, v);
    return n > 0 ? n : 0;
}

void pyro_col_finish(num_col *c, Py_ssize_t min_width, const char *title)
{
    Py_ssize_t w = min_width, t = (Py_ssize_t)strlen(title);
    if (t > w)
        w = t;
    if (c->any) {
        /* the longest text is the largest value's or the most negative's */
        Py_ssize_t hi = fixed_width(c->hi, c->decimals), lo = fixed_width(c->lo, c->decimals);
        if (hi > w)
            w = hi;
        if (lo > w)
            w = lo;
    }
    c->width = w;
}

void pyro_col_title(outbuf *o, const num_col *c, const char *title)
{
    ob_char(o, ' ');
    ob_spaces(o, c->width - (Py_ssize_t)strlen(title));
    ob_str(o, title);
}
