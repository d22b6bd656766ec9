/* timeline_plot.c: memory against time, drawn as SVG (see
 * timeline_writers.h).
 *
 * What mprof plot draws, without matplotlib: the RSS over time with the
 * calls of @profile functions bracketed at their start and end (a "[" at
 * the start, a "]" at the end, one colour per function), the peak marked
 * by dashed lines and labelled; the traced heap as a second curve when
 * memory was profiled too.  Ticks fall on 1, 2 or 5 times a power of ten,
 * in MiB (GiB past 10 GiB) and seconds (minutes past 5 minutes, hours
 * past 3 hours).  The HTML page holds the same SVG, a readout of the
 * curve under the mouse and a table of the calls. */
#include "formats/timeline_writers.h"
#include "core/text_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WIDTH 1000.0
#define LEFT 84.0
#define RIGHT 30.0
#define TOP 72.0
#define PLOT_H 380.0
#define MAX_LEGEND 12          /* functions named in the legend; the rest counted */

static const char *const palette[] = {"#17a2b8", "#b5a000", "#2ca02c", "#d62728", "#1f77b4"};
#define RSS_COLOUR "#222222"
#define HEAP_COLOUR "#8e44ad"
#define PEAK_COLOUR "#d62728"

typedef struct {
    double x0, x1, y0, y1;     /* the plot area, pixels (y0 at the top) */
    double tmax;               /* seconds at the right edge */
    double ymax;               /* bytes at the top edge */
    double tdiv;               /* seconds per time unit shown */
    const char *tname;
    double mdiv;               /* bytes per memory unit shown */
    const char *mname;
} frame;

static double px(const frame *f, int64_t t)
{
    return f->x0 + ((double)t / 1e9) / f->tmax * (f->x1 - f->x0);
}

static double py(const frame *f, uint64_t bytes)
{
    return f->y1 - (double)bytes / f->ymax * (f->y1 - f->y0);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about `want`
 * ticks over `range`. */
static double nice_step(double range, double want)
{
    double raw = range / want;
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

/* A tick's label with as many decimals as its step needs. */
static void tick_text(char *buf, size_t cap, double value, double step)
{
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 6)
        decimals = 6;
    snprintf(buf, cap, "%.*f", decimals, value);
}

/* A size as people read it: "12.3 MiB". */
static void size_text(char *buf, size_t cap, double bytes)
{
    static const char *const steps[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int s = 0;
    while (bytes >= 1024.0 && s < 5) {
        bytes /= 1024.0;
        s++;
    }
    snprintf(buf, cap, s == 0 ? "%.0f %s" : "%.1f %s", bytes, steps[s]);
}

/* A duration: "850 ms", "12.34 s", "3 min 20 s", "2 h 05 min". */
static void duration_text(char *buf, size_t cap, double s)
{
    if (s < 1.0)
        snprintf(buf, cap, "%.0f ms", s * 1e3);
    else if (s < 300.0)
        snprintf(buf, cap, "%.2f s", s);
    else if (s < 10800.0)
        snprintf(buf, cap, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60.0));
    else
        snprintf(buf, cap, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60.0, 60.0));
}

static int64_t last_time(const pyro_timeline_view *v)
{
    int64_t t = 0;
    if (v->npoints > 0)
        t = v->points[v->npoints - 1].t;
    for (size_t i = 0; i < v->nspans; i++)
        if (v->spans[i].end.t > t)
            t = v->spans[i].end.t;
    return t;
}

/* The frame: axes' ranges and units from what is drawn. */
static void frame_of(frame *f, const pyro_timeline_view *v, const pyro_mem_point *a, size_t na,
                     const pyro_mem_point *b, size_t nb, int which_a)
{
    double top = 0.0;
    for (size_t i = 0; i < na; i++)
        top = fmax(top, (double)pyro_mem_value(&a[i], which_a));
    for (size_t i = 0; i < nb; i++)
        top = fmax(top, (double)b[i].heap);
    if (top <= 0.0)
        top = 1024.0 * 1024.0;
    f->mdiv = top >= 10.0 * 1024 * 1024 * 1024 ? 1024.0 * 1024 * 1024 : 1024.0 * 1024;
    f->mname = f->mdiv > 1024.0 * 1024 ? "GiB" : "MiB";
    double step = nice_step(top * 1.08 / f->mdiv, 6.0);
    f->ymax = ceil(top * 1.08 / f->mdiv / step) * step * f->mdiv;
    double seconds = (double)last_time(v) / 1e9;
    if (seconds <= 0.0)
        seconds = 1.0;
    f->tdiv = seconds > 10800.0 ? 3600.0 : seconds > 300.0 ? 60.0 : 1.0;
    f->tname = f->tdiv == 3600.0 ? "h" : f->tdiv == 60.0 ? "min" : "s";
    f->tmax = seconds;
    f->x0 = LEFT;
    f->x1 = WIDTH - RIGHT;
    f->y0 = TOP;
    f->y1 = TOP + PLOT_H;
}

static void axes(pyro_text *t, const frame *f)
{
    char buf[64];
    pyro_text_str(t, "<g class=\"axes\" font-size=\"12\" fill=\"#444\">\n");
    double ystep = nice_step(f->ymax / f->mdiv, 6.0);
    for (double y = 0.0; y <= f->ymax / f->mdiv + ystep * 1e-6; y += ystep) {
        double yy = py(f, (uint64_t)(y * f->mdiv));
        pyro_text_printf(t, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                         "stroke=\"#e4e4e4\"/>\n", f->x0, yy, f->x1, yy);
        tick_text(buf, sizeof buf, y, ystep);
        pyro_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                         f->x0 - 8, yy + 4, buf);
    }
    double span = f->tmax / f->tdiv;
    double xstep = nice_step(span, 8.0);
    for (double x = 0.0; x <= span + xstep * 1e-6; x += xstep) {
        double xx = f->x0 + x / span * (f->x1 - f->x0);
        pyro_text_printf(t, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                         "stroke=\"#e4e4e4\"/>\n", xx, f->y0, xx, f->y1);
        tick_text(buf, sizeof buf, x, xstep);
        pyro_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                         xx, f->y1 + 18, buf);
    }
    pyro_text_printf(t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                     "fill=\"none\" stroke=\"#888\"/>\n", f->x0, f->y0, f->x1 - f->x0,
                     f->y1 - f->y0);
    pyro_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"13\">"
                     "time (%s)</text>\n", (f->x0 + f->x1) / 2, f->y1 + 40, f->tname);
    pyro_text_printf(t, "<text transform=\"translate(%.2f %.2f) rotate(-90)\" "
                     "text-anchor=\"middle\" font-size=\"13\">memory used (%s)</text>\n",
                     f->x0 - 56, (f->y0 + f->y1) / 2, f->mname);
    pyro_text_str(t, "</g>\n");
}

static void curve(pyro_text *t, const frame *f, const pyro_mem_point *p, size_t n, int which,
                  const char *colour, const char *id)
{
    if (n == 0)
        return;
    pyro_text_printf(t, "<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                     "stroke-linejoin=\"round\" points=\"", id, colour);
    for (size_t i = 0; i < n; i++)
        pyro_text_printf(t, "%s%.2f,%.2f", i ? " " : "", px(f, p[i].t),
                         py(f, pyro_mem_value(&p[i], which)));
    pyro_text_str(t, "\"/>\n");
}

/* mprof's brackets: "[" at a call's start, "]" at its end, at the curve's
 * value there. */
static void brackets(pyro_text *t, const frame *f, const pyro_timeline_view *v, int which)
{
    double h = (f->x1 - f->x0) / 60.0, dy = (f->y1 - f->y0) / 20.0;
    char a[32], b[32], d[32];
    for (size_t i = 0; i < v->nspans; i++) {
        const pyro_mem_span *s = &v->spans[i];
        uint64_t m0 = pyro_mem_value(&s->start, which), m1 = pyro_mem_value(&s->end, which);
        if (m0 == PYRO_MEM_UNKNOWN || m1 == PYRO_MEM_UNKNOWN)
            continue;
        double x0 = px(f, s->start.t), y0 = py(f, m0), x1 = px(f, s->end.t), y1 = py(f, m1);
        pyro_text_printf(t, "<g class=\"call\" stroke=\"%s\" stroke-width=\"2\" fill=\"none\">"
                         "<title>", palette[s->name % 5]);
        const char *name = v->names[s->name];
        pyro_text_xml(t, name, strlen(name));
        duration_text(d, sizeof d, (double)(s->end.t - s->start.t) / 1e9);
        size_text(a, sizeof a, (double)m0);
        size_text(b, sizeof b, (double)m1);
        pyro_text_printf(t, ": %s, %s to %s%s</title>", d, a, b,
                         (s->flags & PYRO_MEM_SPAN_UNFINISHED) ? " (still running at the end)"
                                                               : "");
        pyro_text_printf(t, "<path d=\"M%.2f %.2fH%.2fV%.2fH%.2f\"/>", x0 + h, y0 - dy, x0,
                         y0 + dy, x0 + h);
        pyro_text_printf(t, "<path d=\"M%.2f %.2fH%.2fV%.2fH%.2f\"/></g>\n", x1 - h, y1 - dy,
                         x1, y1 + dy, x1 - h);
    }
}

static void peak_mark(pyro_text *t, const frame *f, const pyro_mem_point *p, int which,
                      const char *colour, const char *what, int dashed_lines)
{
    double x = px(f, p->t), y = py(f, pyro_mem_value(p, which));
    char size[32], when[32];
    size_text(size, sizeof size, (double)pyro_mem_value(p, which));
    duration_text(when, sizeof when, (double)p->t / 1e9);
    pyro_text_printf(t, "<g class=\"peak\" data-bytes=\"%llu\" data-seconds=\"%.6f\">\n",
                     (unsigned long long)pyro_mem_value(p, which), (double)p->t / 1e9);
    if (dashed_lines) {
        pyro_text_printf(t, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                         "stroke-dasharray=\"6 4\"/>\n", f->x0, y, f->x1, y, colour);
        pyro_text_printf(t, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                         "stroke-dasharray=\"6 4\"/>\n", x, f->y0, x, f->y1, colour);
    }
    pyro_text_printf(t, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>\n", x, y, colour);
    int left = x > f->x0 + 0.62 * (f->x1 - f->x0);
    pyro_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" fill=\"%s\" font-size=\"13\" "
                     "font-weight=\"bold\" text-anchor=\"%s\">%s %s at %s</text>\n</g>\n",
                     left ? x - 8 : x + 8, y < f->y0 + 20 ? y + 18 : y - 8, colour,
                     left ? "end" : "start", what, size, when);
}

/* Per function: calls, time in them, the longest call, the most memory a
 * call added while it ran. */
typedef struct {
    uint64_t calls;
    double seconds, longest, rise;
} per_function;

/* The most curve `which` rose above a call's start while it ran: from its
 * start to the highest sample before its end (or its end). */
static double rise_in(const pyro_timeline_view *v, const pyro_mem_span *s, int which)
{
    uint64_t m0 = pyro_mem_value(&s->start, which), top = pyro_mem_value(&s->end, which);
    if (m0 == PYRO_MEM_UNKNOWN || top == PYRO_MEM_UNKNOWN)
        return 0.0;
    size_t lo = 0, hi = v->npoints;   /* the first sample at or after the start */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->points[mid].t < s->start.t)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < v->npoints && v->points[i].t <= s->end.t; i++) {
        uint64_t x = pyro_mem_value(&v->points[i], which);
        if (x != PYRO_MEM_UNKNOWN && x > top)
            top = x;
    }
    return top > m0 ? (double)(top - m0) : 0.0;
}

static per_function *per_functions(const pyro_timeline_view *v, int which)
{
    per_function *pf = PyMem_RawCalloc(v->nnames ? v->nnames : 1, sizeof(*pf));
    if (pf == NULL)
        return NULL;
    for (size_t i = 0; i < v->nspans; i++) {
        const pyro_mem_span *s = &v->spans[i];
        per_function *x = &pf[s->name];
        double d = (double)(s->end.t - s->start.t) / 1e9;
        x->calls++;
        x->seconds += d;
        x->longest = fmax(x->longest, d);
        x->rise = fmax(x->rise, rise_in(v, s, which));
    }
    return pf;
}

/* Legend rows under the plot: the curves, then the functions. */
static double legend(pyro_text *t, const frame *f, const pyro_timeline_view *v, int which,
                     int with_heap, const per_function *pf)
{
    double y = f->y1 + 66;
    double x = f->x0;
    pyro_text_str(t, "<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n");
    pyro_text_printf(t, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                     "stroke-width=\"2\"/><text x=\"%.2f\" y=\"%.2f\">%s</text>\n", x, y - 4,
                     x + 24, y - 4, which == PYRO_MEM_HEAP ? HEAP_COLOUR : RSS_COLOUR, x + 30, y,
                     which == PYRO_MEM_HEAP ? "traced heap: bytes alive of Python's allocations"
                                            : "RSS: resident memory of the process");
    if (with_heap) {
        y += 18;
        pyro_text_printf(t, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                         "stroke-width=\"2\"/><text x=\"%.2f\" y=\"%.2f\">traced heap: bytes "
                         "alive of the blocks Python's allocators gave while profiling</text>\n",
                         x, y - 4, x + 24, y - 4, HEAP_COLOUR, x + 30, y);
    }
    size_t shown = 0, more = 0;
    for (size_t n = 0; n < v->nnames; n++) {
        if (pf[n].calls == 0)
            continue;
        if (shown == MAX_LEGEND) {
            more++;
            continue;
        }
        shown++;
        y += 18;
        char d[32], l[32];
        duration_text(d, sizeof d, pf[n].seconds);
        duration_text(l, sizeof l, pf[n].longest);
        pyro_text_printf(t, "<path d=\"M%.2f %.2fH%.2fV%.2fH%.2f\" stroke=\"%s\" "
                         "stroke-width=\"2\" fill=\"none\"/><text x=\"%.2f\" y=\"%.2f\">", x + 16,
                         y - 10, x + 8, y + 2, x + 16, palette[n % 5], x + 30, y);
        pyro_text_xml(t, v->names[n], strlen(v->names[n]));
        pyro_text_printf(t, ": %llu call%s, %s in all, longest %s</text>\n",
                         (unsigned long long)pf[n].calls, pf[n].calls == 1 ? "" : "s", d, l);
    }
    if (more > 0) {
        y += 18;
        pyro_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\">and %zu more function%s</text>\n",
                         x + 30, y, more, more == 1 ? "" : "s");
    }
    pyro_text_str(t, "</g>\n");
    return y + 16;
}

/* "started 2026-12-07 22:31:05, 12.34 s, a sample every 10 ms" */
static void summary(pyro_text *t, const pyro_timeline_view *v)
{
    time_t start = (time_t)v->start_epoch;
    struct tm tm;
    char when[64] = "";
    if (localtime_r(&start, &tm) != NULL)
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    char d[32], a[32], b[32];
    duration_text(d, sizeof d, (double)last_time(v) / 1e9);
    duration_text(a, sizeof a, (double)v->base_interval / 1e9);
    duration_text(b, sizeof b, (double)v->interval / 1e9);
    pyro_text_printf(t, "started %s, %s, a sample every %s", when, d, a);
    if (v->interval != v->base_interval)
        pyro_text_printf(t, " (every %s at the end: a long run keeps fewer)", b);
}

static int svg(pyro_text *t, const pyro_timeline_view *v, const char *title, int inline_svg)
{
    int which = pyro_timeline_view_main(v);
    int with_heap = which == PYRO_MEM_RSS && pyro_timeline_view_has(v, PYRO_MEM_HEAP);
    size_t na = 0, nb = 0;
    pyro_mem_point *a = pyro_timeline_view_curve(v, which, &na);
    pyro_mem_point *b = with_heap ? pyro_timeline_view_curve(v, PYRO_MEM_HEAP, &nb) : NULL;
    per_function *pf = per_functions(v, which);
    if (a == NULL || (with_heap && b == NULL) || pf == NULL) {
        PyMem_RawFree(a);
        PyMem_RawFree(b);
        PyMem_RawFree(pf);
        PyErr_NoMemory();
        return -1;
    }
    frame f;
    frame_of(&f, v, a, na, b, nb, which);
    size_t functions = 0;
    for (size_t n = 0; n < v->nnames; n++)
        functions += pf[n].calls > 0;
    double height = f.y1 + 66 + 18.0 * (with_heap + (functions > MAX_LEGEND ? MAX_LEGEND + 1
                                                                          : functions)) + 16;
    double skip = inline_svg ? TOP - 16 : 0.0;   /* the page says the title */
    pyro_text_printf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\" viewBox=\"0 %.0f %.0f %.0f\" font-family=\"sans-serif\" "
                     "id=\"timeline\" data-x0=\"%.2f\" data-x1=\"%.2f\" data-y0=\"%.2f\" "
                     "data-y1=\"%.2f\" data-seconds=\"%.9g\" data-ymax=\"%.9g\" "
                     "data-unit=\"%s\">\n", WIDTH, height - skip, skip, WIDTH, height - skip,
                     f.x0, f.x1, f.y0, f.y1, f.tmax, f.ymax / f.mdiv, f.mname);
    pyro_text_printf(t, "<rect y=\"%.0f\" width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                     skip);
    if (!inline_svg) {
        pyro_text_str(t, "<text x=\"84\" y=\"30\" font-size=\"18\" font-weight=\"bold\">");
        pyro_text_xml(t, title, strlen(title));
        pyro_text_str(t, "</text>\n<text x=\"84\" y=\"50\" font-size=\"12\" fill=\"#555\">");
        summary(t, v);
        pyro_text_str(t, "</text>\n");
    }
    axes(t, &f);
    if (na == 0)
        pyro_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#888\">"
                         "no memory was measured</text>\n", (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2);
    curve(t, &f, b, nb, PYRO_MEM_HEAP, HEAP_COLOUR, "heap");
    curve(t, &f, a, na, which, which == PYRO_MEM_HEAP ? HEAP_COLOUR : RSS_COLOUR, "main");
    brackets(t, &f, v, which);
    pyro_mem_point peak;
    if (with_heap && pyro_timeline_view_peak(v, PYRO_MEM_HEAP, &peak))
        peak_mark(t, &f, &peak, PYRO_MEM_HEAP, HEAP_COLOUR, "heap peak", 0);
    if (pyro_timeline_view_peak(v, which, &peak))
        peak_mark(t, &f, &peak, which, PEAK_COLOUR, "peak", 1);
    legend(t, &f, v, which, with_heap, pf);
    pyro_text_str(t, "</svg>\n");
    PyMem_RawFree(a);
    PyMem_RawFree(b);
    PyMem_RawFree(pf);
    return 0;
}

/* ---- the HTML page --------------------------------------------------------- */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"generator\" content=\"pyrometer\">\n<title>";

static const char page_style[] =
    "</title>\n<style>\n"
    "body{font-family:sans-serif;margin:16px 24px;color:#222}\n"
    "h1{font-size:20px;margin:0 0 4px}\n"
    ".sub{color:#555;font-size:13px;margin:0 0 12px}\n"
    "#readout{font-size:13px;min-height:18px;color:#333}\n"
    "table{border-collapse:collapse;font-size:13px;margin-top:8px}\n"
    "th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "</style>\n</head>\n<body>\n<h1>";

/* The readout: the curve's value under the mouse, from the polyline's own
 * points (no data is duplicated in the page). */
static const char page_script[] =
    "<script>\n"
    "(function(){\n"
    "var svg=document.getElementById('timeline'),line=document.getElementById('main');\n"
    "var out=document.getElementById('readout');if(!svg||!line)return;\n"
    "var pts=line.getAttribute('points').trim().split(' ').map(function(p){\n"
    "  var xy=p.split(',');return [+xy[0],+xy[1]];});\n"
    "var d=svg.dataset,x0=+d.x0,x1=+d.x1,y0=+d.y0,y1=+d.y1;\n"
    "var cur=document.createElementNS('http://www.w3.org/2000/svg','line');\n"
    "cur.setAttribute('stroke','#999');cur.setAttribute('visibility','hidden');\n"
    "svg.appendChild(cur);\n"
    "svg.addEventListener('mousemove',function(e){\n"
    "  var r=svg.getBoundingClientRect(),x=(e.clientX-r.left)*svg.viewBox.baseVal.width/r.width;\n"
    "  if(x<x0||x>x1){cur.setAttribute('visibility','hidden');out.textContent='';return;}\n"
    "  var lo=0,hi=pts.length-1;while(lo<hi){var m=(lo+hi)>>1;if(pts[m][0]<x)lo=m+1;else hi=m;}\n"
    "  if(lo>0&&Math.abs(pts[lo-1][0]-x)<Math.abs(pts[lo][0]-x))lo--;\n"
    "  var p=pts[lo],t=(p[0]-x0)/(x1-x0)*(+d.seconds),v=(y1-p[1])/(y1-y0)*(+d.ymax);\n"
    "  cur.setAttribute('x1',p[0]);cur.setAttribute('x2',p[0]);\n"
    "  cur.setAttribute('y1',y0);cur.setAttribute('y2',y1);\n"
    "  cur.setAttribute('visibility','visible');\n"
    "  out.textContent='at '+t.toFixed(3)+' s: '+v.toFixed(1)+' '+d.unit;});\n"
    "})();\n</script>\n";

static void calls_table(pyro_text *t, const pyro_timeline_view *v, const per_function *pf)
{
    pyro_text_str(t, "<table>\n<tr><th>function</th><th>calls</th><th>time in all</th>"
                     "<th>longest call</th><th>most added during a call</th></tr>\n");
    for (size_t n = 0; n < v->nnames; n++) {
        if (pf[n].calls == 0)
            continue;
        char d[32], l[32], r[32];
        duration_text(d, sizeof d, pf[n].seconds);
        duration_text(l, sizeof l, pf[n].longest);
        size_text(r, sizeof r, pf[n].rise);
        pyro_text_printf(t, "<tr><td style=\"border-left:4px solid %s\">", palette[n % 5]);
        pyro_text_xml(t, v->names[n], strlen(v->names[n]));
        pyro_text_printf(t, "</td><td>%llu</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                         (unsigned long long)pf[n].calls, d, l, r);
    }
    pyro_text_str(t, "</table>\n");
}

static int page(pyro_text *t, const pyro_timeline_view *v, const char *title)
{
    per_function *pf = per_functions(v, pyro_timeline_view_main(v));
    if (pf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    pyro_text_str(t, page_head);
    pyro_text_xml(t, title, strlen(title));
    pyro_text_str(t, page_style);
    pyro_text_xml(t, title, strlen(title));
    pyro_text_str(t, "</h1>\n<p class=\"sub\">");
    summary(t, v);
    pyro_text_str(t, "</p>\n");
    int rc = svg(t, v, title, 1);
    if (rc == 0) {
        pyro_text_str(t, "<p id=\"readout\"></p>\n");
        size_t calls = 0;
        for (size_t n = 0; n < v->nnames; n++)
            calls += pf[n].calls;
        if (calls > 0) {
            pyro_text_str(t, "<h2 style=\"font-size:16px\">Calls of the marked functions</h2>\n");
            calls_table(t, v, pf);
        }
        pyro_text_str(t, page_script);
        pyro_text_str(t, "</body>\n</html>\n");
    }
    PyMem_RawFree(pf);
    return rc;
}

int pyro_timeline_plot_write(PyObject *path, const pyro_timeline_view *v, const char *title,
                             int html)
{
    pyro_text t = PYRO_TEXT_INIT;
    pyro_text tt = PYRO_TEXT_INIT;
    if (title == NULL) {
        pyro_text_str(&tt, "Memory over time");
        if (v->cmd != NULL && v->cmd[0] != '\0') {
            pyro_text_str(&tt, ": ");
            size_t n = strlen(v->cmd);
            if (n > 200) {
                n = 200;   /* a long command line is cut, between two characters */
                while (n > 0 && ((unsigned char)v->cmd[n] & 0xC0) == 0x80)
                    n--;
            }
            pyro_text_put(&tt, v->cmd, n);
        }
        pyro_text_char(&tt, '\0');
        if (tt.failed) {
            pyro_text_free(&tt);
            PyErr_NoMemory();
            return -1;
        }
        title = tt.data;
    }
    if (!html)
        pyro_text_str(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    int rc = html ? page(&t, v, title) : svg(&t, v, title, 0);
    pyro_text_free(&tt);
    if (rc < 0) {
        pyro_text_free(&t);
        return -1;
    }
    return pyro_text_write(&t, path);
}
