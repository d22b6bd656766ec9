/* flamegraph_writer.c: the call tree as an interactive flame graph, one
 * self-contained SVG file (no network, its ECMAScript inside).
 *
 * One rectangle per call path, roots at the bottom on an "all" frame, the
 * width of a path its total (time, bytes: the view's selected metric),
 * children side by side in the order of their names (scaled down to fit
 * their parent where folded recursion or the overhead compensation makes
 * them add up to more).  Paths narrower than `min_width` pixels are left
 * out with the paths above them.  Each frame's <title> holds its name,
 * file:line, calls, total and self value in the metric's unit with their
 * share of the whole: a browser shows it on hover, and the
 * script shows it at the bottom.  A click zooms into a frame (Back, Reset
 * Zoom, Escape); Search or Ctrl-F highlights the frames whose name or file
 * matches a regular expression and shows the share they cover. */
#include "formats/stack_writers.h"

#include <math.h>
#include <stdlib.h>

#define FRAME_H 16             /* px per level */
#define TOP 56                 /* title, subtitle, buttons */
#define BOTTOM 34              /* details line */
#define MARGIN 10

typedef struct {
    const char *name;
    uint32_t index;
} kid;

static int cmp_kid(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void put_share(pyro_text *t, double part, double whole)
{
    pyro_text_printf(t, " (%.2f%%)", whole > 0 ? 100.0 * part / whole : 0.0);
}

/* Warm colours: red to yellow, the same for every frame of one function. */
static void put_colour(pyro_text *t, const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    unsigned a = h & 0xff, b = (h >> 8) & 0xff, c = (h >> 16) & 0xff;
    pyro_text_printf(t, "rgb(%u,%u,%u)", 205 + a * 50 / 255, 70 + b * 150 / 255, 20 + c * 45 / 255);
}

/* The label of a frame `w` px wide: as much of `name` as fits. */
static void put_label(pyro_text *t, const char *name, double w)
{
    long fit = (long)floor((w - 6.0) / 7.2);
    if (fit < 3)
        return;
    size_t len = strlen(name);
    if ((long)len <= fit) {
        pyro_text_xml(t, name, len);
        return;
    }
    /* cut at fit-2 characters, not inside a UTF-8 sequence */
    size_t cut = 0;
    long chars = 0;
    while (cut < len && chars < fit - 2) {
        cut++;
        while (cut < len && ((unsigned char)name[cut] & 0xc0) == 0x80)
            cut++;
        chars++;
    }
    pyro_text_xml(t, name, cut);
    pyro_text_str(t, "..");
}

static const char SCRIPT[] =
    "var shown = [], details, matched, unzoomBtn, backBtn, searchBtn;\n"
    "var zoomHistory = [], zoomed = 0, searching = null;\n"
    "function init(evt) {\n"
    "  details = document.getElementById('details');\n"
    "  matched = document.getElementById('matched');\n"
    "  unzoomBtn = document.getElementById('unzoom');\n"
    "  backBtn = document.getElementById('back');\n"
    "  searchBtn = document.getElementById('search');\n"
    "  var gs = document.getElementById('frames').getElementsByTagName('g');\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i], info = g.getElementsByTagName('title')[0].textContent;\n"
    "    var lines = info.split('\\n');\n"
    "    var f = {g: g, rect: g.getElementsByTagName('rect')[0],\n"
    "             text: g.getElementsByTagName('text')[0],\n"
    "             p: +g.getAttribute('data-p'), x: +g.getAttribute('data-x'),\n"
    "             w: +g.getAttribute('data-w'), name: lines[0],\n"
    "             loc: lines[1], info: lines.join('   ')};\n"
    "    f.fill = f.rect.getAttribute('fill');\n"
    "    shown.push(f);\n"
    "    g.onmouseover = (function (f) { return function () { details.textContent = f.info; }; })(f);\n"
    "    g.onmouseout = function () { details.textContent = ' '; };\n"
    "    g.onclick = (function (i) { return function () { zoom(i, true); }; })(i);\n"
    "  }\n"
    "  unzoomBtn.onclick = resetZoom;\n"
    "  backBtn.onclick = back;\n"
    "  searchBtn.onclick = function () { if (searching !== null) clearSearch(); else search(); };\n"
    "  window.addEventListener('keydown', function (e) {\n"
    "    if ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.keyCode === 70)) {\n"
    "      e.preventDefault();\n"
    "      search();\n"
    "    } else if (e.key === 'Escape' || e.keyCode === 27) {\n"
    "      resetZoom();\n"
    "    }\n"
    "  }, false);\n"
    "}\n"
    "function label(f, w) {\n"
    "  var fit = Math.floor((w - 6) / 7.2);\n"
    "  if (fit < 3) return '';\n"
    "  return f.name.length <= fit ? f.name : f.name.substring(0, fit - 2) + '..';\n"
    "}\n"
    "function place(f, x, w, faded) {\n"
    "  var px = LEFT + x * WIDTH, pw = w * WIDTH;\n"
    "  f.g.style.display = '';\n"
    "  f.g.setAttribute('opacity', faded ? '0.5' : '1');\n"
    "  f.rect.setAttribute('x', px.toFixed(2));\n"
    "  f.rect.setAttribute('width', pw.toFixed(2));\n"
    "  f.text.setAttribute('x', (px + 3).toFixed(2));\n"
    "  f.text.textContent = label(f, pw);\n"
    "}\n"
    "function zoom(i, remember) {\n"
    "  if (remember && i !== zoomed) zoomHistory.push(zoomed);\n"
    "  zoomed = i;\n"
    "  var z = shown[i], inside = [], above = {};\n"
    "  for (var a = z.p; a >= 0; a = shown[a].p) above[a] = true;\n"
    "  for (var k = 0; k < shown.length; k++) {\n"
    "    var f = shown[k];\n"
    "    inside[k] = k === i || (f.p >= 0 && inside[f.p]);\n"
    "    if (inside[k]) place(f, (f.x - z.x) / z.w, f.w / z.w, false);\n"
    "    else if (above[k]) place(f, 0, 1, true);\n"
    "    else f.g.style.display = 'none';\n"
    "  }\n"
    "  unzoomBtn.style.display = i === 0 ? 'none' : '';\n"
    "  backBtn.style.display = zoomHistory.length ? '' : 'none';\n"
    "}\n"
    "function resetZoom() { zoomHistory = []; zoom(0, false); }\n"
    "function back() { if (zoomHistory.length) zoom(zoomHistory.pop(), false); }\n"
    "function search() {\n"
    "  var term = prompt('Search for (a regular expression)', searching || '');\n"
    "  if (term === null) return;\n"
    "  if (term === '') { clearSearch(); return; }\n"
    "  var re;\n"
    "  try { re = new RegExp(term); } catch (e) { alert('Not a regular expression: ' + term); return; }\n"
    "  searching = term;\n"
    "  var covered = [], share = 0;\n"
    "  for (var k = 0; k < shown.length; k++) {\n"
    "    var f = shown[k], hit = k > 0 && (re.test(f.name) || re.test(f.loc));\n"
    "    var under = f.p >= 0 && covered[f.p];\n"
    "    covered[k] = hit || under;\n"
    "    if (hit && !under) share += f.w;\n"
    "    f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);\n"
    "  }\n"
    "  matched.textContent = 'Matched: ' + (100 * share).toFixed(2) + '% (' + term + ')';\n"
    "  searchBtn.textContent = 'Reset Search';\n"
    "}\n"
    "function clearSearch() {\n"
    "  searching = null;\n"
    "  for (var k = 0; k < shown.length; k++) shown[k].rect.setAttribute('fill', shown[k].fill);\n"
    "  matched.textContent = ' ';\n"
    "  searchBtn.textContent = 'Search';\n"
    "}\n";

static const char STYLE[] =
    "text { font-family: Verdana, 'DejaVu Sans', sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
    "#title { font-size: 17px; text-anchor: middle; }\n"
    "#subtitle { text-anchor: middle; fill: rgb(90,90,90); }\n"
    "#matched { text-anchor: end; }\n"
    ".btn { cursor: pointer; fill: rgb(40,40,160); text-decoration: underline; }\n"
    "#frames g { cursor: pointer; }\n"
    "#frames g:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
    "#frames text { pointer-events: none; }\n";

typedef struct {
    const pyro_stack_view *v;
    pyro_text *out;
    char **names;              /* frame names, as in the other formats */
    char **labels;             /* the short names the rectangles show */
    double total;              /* the whole: all roots' total time */
    double inner;              /* px for the whole */
    int height;
} svg_ctx;

/* One frame: node `i` (-1: "all") at out index, depth row, x and w as
 * shares of the whole. */
static void put_frame(svg_ctx *c, long i, long parent_out, uint32_t row,
                      double x, double w, uint64_t calls, double total, double self)
{
    pyro_text *o = c->out;
    const pyro_stack_view *v = c->v;
    double px = MARGIN + x * c->inner, pw = w * c->inner;
    double py = c->height - BOTTOM - (double)(row + 1) * FRAME_H;
    const char *label = i < 0 ? "all" : c->labels[v->func[i]];
    pyro_text_printf(o, "<g data-p=\"%ld\" data-x=\"", parent_out);
    pyro_text_double(o, x);
    pyro_text_str(o, "\" data-w=\"");
    pyro_text_double(o, w);
    pyro_text_str(o, "\"><title>");
    pyro_text_xml(o, label, strlen(label));
    pyro_text_char(o, '\n');
    if (i < 0)
        pyro_text_str(o, "(the whole profile)");
    else {
        const char *full = c->names[v->func[i]];
        if (strcmp(full, label) == 0)
            pyro_text_str(o, "(built-in)");
        else {
            /* full is "label (file:line)": the part in the parentheses */
            size_t ll = strlen(label), fl = strlen(full);
            if (fl > ll + 3)
                pyro_text_xml(o, full + ll + 2, fl - ll - 3);
        }
    }
    /* a path of samples was seen, not called: its total says how often */
    if (v->unit != PYRO_UNIT_SAMPLES)
        pyro_text_printf(o, "\ncalls: %llu", (unsigned long long)calls);
    pyro_text_str(o, "\ntotal: ");
    pyro_unit_text(o, v->unit, total);
    put_share(o, total, c->total);
    pyro_text_str(o, "\nself: ");
    pyro_unit_text(o, v->unit, self);
    put_share(o, self, c->total);
    pyro_text_printf(o, "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
                     "rx=\"2\" ry=\"2\" fill=\"", px, py, pw, FRAME_H - 1);
    if (i < 0)
        pyro_text_str(o, "rgb(225,110,40)");
    else
        put_colour(o, label);
    pyro_text_printf(o, "\"/><text x=\"%.2f\" y=\"%.1f\">", px + 3, py + FRAME_H - 4.5);
    put_label(o, label, pw);
    pyro_text_str(o, "</text></g>\n");
}

/* The short name of each function: its own name, or a built-in's as
 * pstats prints it. */
static char **short_names(const pyro_stack_view *v, char **names)
{
    char **labels = PyMem_RawCalloc(v->nfuncs + 1, sizeof(*labels));
    if (labels == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (size_t f = 0; f < v->nfuncs; f++) {
        PyObject *lab = PyList_GET_ITEM(v->funcs, (Py_ssize_t)f);
        long long line = PyLong_AsLongLong(PyTuple_GET_ITEM(lab, 1));
        if (line == -1 && PyErr_Occurred())
            goto fail;
        int builtin = line == 0
            && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(lab, 0), "~") == 0;
        if (builtin) {
            size_t n = strlen(names[f]);
            labels[f] = PyMem_RawMalloc(n + 1);
            if (labels[f] == NULL) {
                PyErr_NoMemory();
                goto fail;
            }
            memcpy(labels[f], names[f], n + 1);
        } else if ((labels[f] = pyro_utf8_dup(PyTuple_GET_ITEM(lab, 2), NULL)) == NULL)
            goto fail;
    }
    return labels;
fail:
    pyro_stack_free_names(v, labels);
    return NULL;
}

int pyro_write_flamegraph(const pyro_stack_view *v, const pyro_flame_opts *o, pyro_text *out)
{
    int rc = -1;
    size_t n = v->n;
    int width = o->width;
    double min_width = o->min_width;
    char **names = NULL, **labels = NULL;
    uint32_t *depth = NULL, *start = NULL;
    kid *kids = NULL;
    double *x = NULL, *w = NULL;
    long *out_index = NULL;
    if ((depth = pyro_stack_depths(v)) == NULL
        || (names = pyro_stack_frame_names(v, 0)) == NULL
        || (labels = short_names(v, names)) == NULL)
        goto done;
    start = PyMem_RawCalloc(n + 2, sizeof(*start));
    kids = PyMem_RawMalloc((n + 1) * sizeof(*kids));
    x = PyMem_RawMalloc((n + 1) * sizeof(*x));
    w = PyMem_RawMalloc((n + 1) * sizeof(*w));
    out_index = PyMem_RawMalloc((n + 1) * sizeof(*out_index));
    if (!start || !kids || !x || !w || !out_index) {
        PyErr_NoMemory();
        goto done;
    }

    /* Children grouped by parent (slot 0 for the roots, p + 1 for node p),
     * each group in the order of the labels. */
    for (size_t i = 0; i < n; i++)
        start[v->parent[i] + 2]++;
    for (size_t p = 1; p < n + 2; p++)
        start[p] += start[p - 1];
    for (size_t i = 0; i < n; i++) {
        uint32_t at = start[v->parent[i] + 1]++;
        kids[at].name = labels[v->func[i]];
        kids[at].index = (uint32_t)i;
    }
    for (size_t p = n + 1; p > 0; p--)   /* the fills moved every start one group on */
        start[p] = start[p - 1];
    start[0] = 0;
    for (size_t p = 0; p < n + 1; p++)
        if (start[p + 1] - start[p] > 1)
            qsort(kids + start[p], start[p + 1] - start[p], sizeof(*kids), cmp_kid);

    /* Layout in seconds, parents first: a group takes its parent's place
     * from the left, scaled down if it adds up to more. */
    double whole = 0.0;
    for (size_t i = 0; i < n; i++)
        if (v->parent[i] < 0)
            whole += v->total[i];
    for (size_t p = 0; p < n + 1; p++) {
        double px = p == 0 ? 0.0 : x[p - 1], pw = p == 0 ? whole : w[p - 1];
        double sum = 0.0;
        for (uint32_t k = start[p]; k < start[p + 1]; k++)
            sum += v->total[kids[k].index];
        double scale = sum > pw && sum > 0 ? pw / sum : 1.0;
        double cursor = px;
        for (uint32_t k = start[p]; k < start[p + 1]; k++) {
            uint32_t i = kids[k].index;
            x[i] = cursor;
            w[i] = v->total[i] * scale;
            cursor += w[i];
        }
    }

    svg_ctx c = {.v = v, .out = out, .names = names, .labels = labels, .total = whole,
                 .inner = (double)(width - 2 * MARGIN)};
    /* Paths wide enough to draw, each under a drawn parent. */
    long kept = 1;
    uint32_t rows = 1;
    for (size_t i = 0; i < n; i++) {
        int64_t p = v->parent[i];
        int ok = whole > 0 && w[i] / whole * c.inner >= min_width
            && (p < 0 || out_index[p] >= 0);
        out_index[i] = ok ? kept++ : -1;
        if (ok && depth[i] + 2 > rows)
            rows = depth[i] + 2;
    }
    c.height = TOP + (int)rows * FRAME_H + BOTTOM;

    pyro_text_str(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n");
    pyro_text_printf(out, "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                     "xmlns=\"http://www.w3.org/2000/svg\" onload=\"init(evt)\">\n",
                     width, c.height, width, c.height);
    pyro_text_str(out, "<defs><linearGradient id=\"background\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
                  "<stop stop-color=\"rgb(250,245,235)\" offset=\"5%\"/>"
                  "<stop stop-color=\"rgb(245,225,190)\" offset=\"95%\"/></linearGradient></defs>\n");
    pyro_text_str(out, "<style type=\"text/css\">\n");
    pyro_text_str(out, STYLE);
    pyro_text_str(out, "</style>\n<script type=\"text/ecmascript\"><![CDATA[\n");
    pyro_text_printf(out, "var LEFT = %d, WIDTH = %d;\n", MARGIN, width - 2 * MARGIN);
    pyro_text_str(out, SCRIPT);
    pyro_text_str(out, "]]></script>\n");
    pyro_text_str(out, "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"url(#background)\"/>\n");
    pyro_text_printf(out, "<text id=\"title\" x=\"%d\" y=\"22\">", width / 2);
    const char *t = o->title != NULL ? o->title : "Flame graph";
    pyro_text_xml(out, t, strlen(t));
    pyro_text_printf(out, "</text>\n<text id=\"subtitle\" x=\"%d\" y=\"40\">", width / 2);
    if (o->subtitle != NULL) {
        pyro_text_xml(out, o->subtitle, strlen(o->subtitle));
        pyro_text_str(out, ": ");
    }
    pyro_unit_text(out, v->unit, whole);
    pyro_text_str(out, " in all");
    if (v->folded)
        pyro_text_str(out, "; deep recursion was folded");
    if (kept < (long)n + 1)
        pyro_text_printf(out, "; %ld paths narrower than %g px left out",
                         (long)n + 1 - kept, min_width);
    pyro_text_str(out, "</text>\n");
    pyro_text_printf(out, "<text id=\"unzoom\" class=\"btn\" x=\"%d\" y=\"22\" style=\"display:none\">"
                     "Reset Zoom</text>\n", MARGIN);
    pyro_text_printf(out, "<text id=\"back\" class=\"btn\" x=\"%d\" y=\"40\" style=\"display:none\">"
                     "Back</text>\n", MARGIN);
    pyro_text_printf(out, "<text id=\"search\" class=\"btn\" x=\"%d\" y=\"22\">Search</text>\n",
                     width - MARGIN - 90);
    pyro_text_printf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", MARGIN,
                     c.height - 12);
    pyro_text_printf(out, "<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n", width - MARGIN,
                     c.height - 12);
    pyro_text_str(out, "<g id=\"frames\">\n");
    uint64_t root_calls = 0;
    for (size_t i = 0; i < n; i++)
        if (v->parent[i] < 0)
            root_calls += v->calls[i];
    put_frame(&c, -1, -1, 0, 0.0, 1.0, root_calls, whole, 0.0);
    for (size_t i = 0; i < n; i++) {
        if (out_index[i] < 0)
            continue;
        int64_t p = v->parent[i];
        put_frame(&c, (long)i, p < 0 ? 0 : out_index[p], depth[i] + 1, x[i] / whole,
                  w[i] / whole, v->calls[i], v->total[i], v->self[i]);
    }
    pyro_text_str(out, "</g>\n</svg>\n");
    rc = 0;
done:
    pyro_stack_free_names(v, names);
    pyro_stack_free_names(v, labels);
    PyMem_RawFree(depth);
    PyMem_RawFree(start);
    PyMem_RawFree(kids);
    PyMem_RawFree(x);
    PyMem_RawFree(w);
    PyMem_RawFree(out_index);
    return rc;
}
