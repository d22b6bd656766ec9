/* report_terminal.c: the stats table on a terminal (report.h's style):
 * rows coloured by their function's own share, names shortened from the
 * left to fit the screen (formats/terminal_style.h). */
#include "formats/report_internal.h"
#include "formats/terminal_style.h"

/* The escape a row starts with: its function's own share of the time (of
 * the samples), or NULL. */
const char *pyro_report_row_color(const report *r, const entry *e)
{
    if (!r->style.color)
        return NULL;
    if (r->kind == PYRO_KIND_TRACED)
        return pyro_heat_color(r->total_tt > 0.0 ? e->tt / r->total_tt : 0.0);
    return pyro_heat_color(r->prim_calls > 0 ? (double)e->cc / (double)r->prim_calls : 0.0);
}

/* Bytes of a row's name left out to fit the screen after `prefix` columns. */
static size_t name_cut(const report *r, const entry *e, Py_ssize_t prefix)
{
    if (r->style.width <= 0)
        return 0;
    return pyro_fit_left(e->std.s, (size_t)e->std.len, e->k.builtin ? 0 : (size_t)e->k.file.len,
                         r->style.width - prefix);
}

/* A name that is shortened gets "…": the text is then no longer ASCII. */
void pyro_report_check_fit(report *r, Py_ssize_t prefix)
{
    for (Py_ssize_t i = 0; r->ascii && i < r->count; i++)
        if (name_cut(r, r->list[i], prefix) > 0)
            r->ascii = 0;
}

/* The end of a row: its name (shortened from the left if it must be), the
 * colour reset, the line's end. */
void pyro_report_end_row(report *r, const entry *e, Py_ssize_t prefix, const char *color)
{
    outbuf *o = &r->out;
    size_t cut = name_cut(r, e, prefix);
    if (cut > 0)
        ob_str(o, PYRO_ELLIPSIS);
    ob_put(o, e->std.s + cut, (size_t)e->std.len - cut);
    if (color != NULL)
        ob_str(o, PYRO_COLOR_RESET);
    ob_char(o, '\n');
}
