/* dot_writer.c: a pstats dict as a Graphviz call graph, drawn the way
 * gprof2dot draws one, so its users find what they know:
 *
 * - a box per function: its name, file:line (the file's base name; the
 *   whole path is the tooltip), total % (cumtime), self % (tottime, in
 *   parentheses) and calls; an arrow per caller->callee with the callee's
 *   % of the total time under that caller and the number of calls;
 * - the total time is gprof2dot's: the largest of the tottimes' sum and
 *   every cumtime (the root's cumtime when the profile has a root); self %
 *   is of the tottimes' sum, as there;
 * - functions whose total % is under the node threshold are left out, and
 *   so are calls under the edge threshold and calls from or to a function
 *   left out;
 * - colour by total %, from cold blue through sky, green and amber to hot red
 *   (this file's own map); arrows get thicker with their %.
 *
 * The call counts are the calls made (pstats' ncalls); gprof2dot shows a
 * recursive call's primitive count instead. */
#include "formats/graph_writers.h"

#include <math.h>

#define MAX_NAME 1000          /* bytes of a name in a label; dot's strings
                                * stop at 16K, and a longer box helps no one */
#define FONT "Helvetica"

/* ---- colours ---------------------------------------------------------------- */

static const struct {
    double at;
    unsigned char rgb[3];
} HEAT[] = {
    {0.00, {0x2c, 0x4b, 0xa0}},   /* deep blue */
    {0.25, {0x2a, 0x9f, 0xd6}},   /* sky */
    {0.45, {0x3f, 0xb6, 0x8b}},   /* sea green */
    {0.62, {0xe6, 0xc2, 0x29}},   /* amber */
    {0.80, {0xf0, 0x7a, 0x24}},   /* orange */
    {1.00, {0xd7, 0x19, 0x1c}},   /* red */
};

static void heat(double w, unsigned char out[3])
{
    if (!(w > 0.0))
        w = 0.0;
    if (w > 1.0)
        w = 1.0;
    size_t k = 1;
    while (k < sizeof HEAT / sizeof HEAT[0] - 1 && w > HEAT[k].at)
        k++;
    double span = HEAT[k].at - HEAT[k - 1].at, x = (w - HEAT[k - 1].at) / span;
    for (int c = 0; c < 3; c++) {
        double v = HEAT[k - 1].rgb[c] + x * (HEAT[k].rgb[c] - HEAT[k - 1].rgb[c]);
        out[c] = (unsigned char)(v + 0.5);
    }
}

static void put_color(pyro_text *t, const unsigned char c[3])
{
    pyro_text_printf(t, "\"#%02x%02x%02x\"", c[0], c[1], c[2]);
}

/* Black text on light boxes, white on dark ones. */
static int is_light(const unsigned char c[3])
{
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] > 140.0;
}

/* ---- text ----------------------------------------------------------------- */

/* The bytes of `s` inside a dot string: quote and backslash escaped (a
 * backslash would start one of dot's label escapes), control characters
 * as '?', and past `max` bytes cut at a character and ended with "...". */
static void put_escaped(pyro_text *t, const char *s, Py_ssize_t n, Py_ssize_t max)
{
    int cut = 0;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = 1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            pyro_text_char(t, '\\');
            pyro_text_char(t, (char)c);
        } else {
            pyro_text_char(t, c < 0x20 ? '?' : (char)c);
        }
    }
    if (cut)
        pyro_text_str(t, "\xe2\x80\xa6");   /* U+2026 */
}

static void put_name(pyro_text *t, const pyro_cg_func *f)
{
    put_escaped(t, f->name.s, f->name.len, MAX_NAME);
}

static const char *base_name(const pyro_utf8_span *file, Py_ssize_t *len)
{
    Py_ssize_t i = file->len;
    while (i > 0 && file->s[i - 1] != '/' && file->s[i - 1] != '\\')
        i--;
    *len = file->len - i;
    return file->s + i;
}

/* NaN or infinite times (a damaged file) count as 0. */
static double percent(double part, double whole)
{
    return whole > 0.0 && isfinite(whole) && isfinite(part) ? 100.0 * part / whole : 0.0;
}

static double weight(double pct)
{
    return pct <= 0.0 ? 0.0 : pct >= 100.0 ? 1.0 : pct / 100.0;
}

/* ---- the graph ------------------------------------------------------------ */

static void put_node(pyro_text *t, size_t id, const pyro_cg_func *f, double total, double self,
                     pyro_unit unit)
{
    unsigned char fill[3];
    heat(weight(total), fill);
    pyro_text_char(t, '\t');
    pyro_text_ull(t, id);
    pyro_text_str(t, " [label=\"");
    put_name(t, f);
    if (!f->builtin) {
        Py_ssize_t blen;
        const char *base = base_name(&f->file, &blen);
        pyro_text_str(t, "\\n");
        put_escaped(t, base, blen, MAX_NAME);
        pyro_text_char(t, ':');
        pyro_text_ll(t, f->line);
    }
    pyro_text_printf(t, "\\n%.2f%%\\n(%.2f%%)", total, self);
    /* samples are not calls: their shares say it all */
    if (unit != PYRO_UNIT_SAMPLES) {
        pyro_text_str(t, "\\n");
        pyro_text_ll(t, f->nc);
        pyro_text_str(t, "\xc3\x97");   /* U+00D7 */
    }
    pyro_text_str(t, "\", tooltip=\"");
    if (f->builtin) {
        pyro_text_str(t, "built-in");
    } else {
        put_escaped(t, f->file.s, f->file.len, 4 * MAX_NAME);
        pyro_text_char(t, ':');
        pyro_text_ll(t, f->line);
    }
    pyro_text_str(t, "\", fillcolor=");
    put_color(t, fill);
    pyro_text_str(t, ", color=");
    put_color(t, fill);
    pyro_text_str(t, is_light(fill) ? ", fontcolor=\"#000000\"];\n" : ", fontcolor=\"#ffffff\"];\n");
}

static void put_edge(pyro_text *t, const pyro_callgraph *g, const pyro_cg_call *c, double pct)
{
    unsigned char color[3];
    double w = weight(pct);
    heat(w, color);
    pyro_text_char(t, '\t');
    pyro_text_ull(t, c->caller + 1);
    pyro_text_str(t, " -> ");
    pyro_text_ull(t, c->callee + 1);
    pyro_text_printf(t, " [label=\"%.2f%%", pct);
    if (g->unit != PYRO_UNIT_SAMPLES) {
        pyro_text_str(t, "\\n");
        pyro_text_ll(t, c->nc);
        pyro_text_str(t, "\xc3\x97");
    }
    pyro_text_str(t, "\", tooltip=\"");
    put_name(t, &g->funcs[c->caller]);
    pyro_text_str(t, " -> ");
    put_name(t, &g->funcs[c->callee]);
    pyro_text_str(t, "\", color=");
    put_color(t, color);
    pyro_text_str(t, ", fontcolor=");
    put_color(t, color);
    pyro_text_printf(t, ", penwidth=%.2f, arrowsize=%.2f];\n", 0.5 + 3.5 * w, 0.4 + 0.6 * w);
}

int pyro_write_dot(const pyro_callgraph *g, double node_threshold, double edge_threshold,
                   pyro_text *t)
{
    if (isnan(node_threshold) || isnan(edge_threshold)) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: a threshold is not a number");
        return -1;
    }
    unsigned char *shown = NULL;
    int rc = -1;
    shown = PyMem_RawCalloc(g->nfuncs + 1, 1);
    if (shown == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    double total = g->total_tt > g->max_ct ? g->total_tt : g->max_ct;

    pyro_text_str(t, "digraph \"call graph\" {\n\tgraph [fontname=\"" FONT "\", fontsize=10, "
                     "ranksep=0.25, nodesep=0.125, tooltip=\" \", labelloc=b, labeljust=l, "
                     "label=\"");
    if (g->unit != PYRO_UNIT_SECONDS) {
        /* "Total allocated 3.5 MiB", but "Total 163 samples" */
        if (strcmp(g->metric, pyro_unit_name(g->unit)) != 0)
            pyro_text_printf(t, "Total %s ", g->metric);
        else
            pyro_text_str(t, "Total ");
        pyro_unit_text(t, g->unit, total);
    }
    else {
        pyro_text_str(t, "Total time ");
        if (total >= 1.0 || total <= 0.0)
            pyro_text_printf(t, "%.3f s", total);
        else if (total >= 1e-3)
            pyro_text_printf(t, "%.3f ms", total * 1e3);
        else
            pyro_text_printf(t, "%.3f \xc2\xb5s", total * 1e6);   /* U+00B5 */
    }
    pyro_text_printf(t, ". Hidden: functions under %g%% of it, calls under %g%%.", node_threshold,
                  edge_threshold);
    pyro_text_str(t, "\"];\n\tnode [fontname=\"" FONT "\", fontsize=10, shape=box, "
                     "style=\"filled,rounded\", width=0, height=0];\n"
                     "\tedge [fontname=\"" FONT "\", fontsize=9];\n");
    for (size_t i = 0; i < g->nfuncs; i++) {
        const pyro_cg_func *f = &g->funcs[i];
        double pct = percent(f->ct, total);
        if (pct < node_threshold)
            continue;
        shown[i] = 1;
        put_node(t, i + 1, f, pct, percent(f->tt, g->total_tt), g->unit);
    }
    for (size_t k = 0; k < g->ncalls; k++) {
        const pyro_cg_call *c = &g->calls[k];
        if (!shown[c->caller] || !shown[c->callee])
            continue;
        double pct = percent(c->ct, total);
        if (pct < edge_threshold)
            continue;
        put_edge(t, g, c, pct);
    }
    pyro_text_str(t, "}\n");
    rc = 0;
done:
    PyMem_RawFree(shown);
    return rc;
}
