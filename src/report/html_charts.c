/* html_charts.c: the HTML report's charts (see html.c): the SVG timeline of queries, answers,
 * ICMP errors and unanswered lookups with the incident windows shaded, and the answer-time
 * percentiles per server, from a->traffic. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/escape.h"
#include "report/html_internal.h"

/* ---- Timeline ---- */

#define SVG_W   960
#define SVG_L   56 /* left margin (axis labels) */
#define SVG_R   12
#define PANEL_H 90
#define TOP_Y   22
#define BOT_Y   (TOP_Y + PANEL_H + 18)
#define AXIS_Y  (BOT_Y + PANEL_H)
#define SVG_H   (AXIS_Y + 34)

static const char *const ev_one[TE_COUNT] = {"query", "answer", "ICMP error", "unanswered lookup"};
static const char *const ev_name[TE_COUNT] = {"queries", "answers", "ICMP errors",
                                              "unanswered lookups"};
static const char *const ev_colour[TE_COUNT] = {"#8a96a3", "#2e7d32", "#c62828", "#ef8f00"};

static void time_of_us(const struct traffic_timeline *tl, int64_t us, struct nt_time *t)
{
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        sec--;
    }
    t->sec = sec;
    t->nsec = (uint32_t)(rem * 1000);
    t->kind = tl->clock;
}

static int64_t time_us(const struct nt_time *t)
{
    return t->sec * 1000000 + (int64_t)(t->nsec / 1000);
}

/* x of time us on the timeline (clamped to the plot). */
static double x_of(const struct traffic_timeline *tl, int64_t us)
{
    double span = (double)tl->width_us * (double)tl->used;
    double f = span > 0 ? (double)(us - tl->origin_us) / span : 0;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return SVG_L + f * (SVG_W - SVG_L - SVG_R);
}

static void bar(struct strbuf *o, const struct traffic_timeline *tl, uint32_t bin, int k, int slot,
                int slots, int y0, uint64_t max)
{
    uint64_t v = tl->n[bin][k];
    if (!v)
        return;
    double bw = (double)(SVG_W - SVG_L - SVG_R) / tl->used;
    double w = bw / slots;
    double hgt = (double)PANEL_H * (double)v / (double)max;
    if (hgt < 1)
        hgt = 1;
    struct nt_time from, to;
    time_of_us(tl, tl->origin_us + (int64_t)bin * tl->width_us, &from);
    time_of_us(tl, tl->origin_us + (int64_t)(bin + 1) * tl->width_us, &to);
    strbuf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\">",
                  SVG_L + bin * bw + slot * w, y0 + PANEL_H - hgt, w > 1.5 ? w - 0.3 : w, hgt,
                  ev_colour[k]);
    strbuf_printf(o, "<title>%" PRIu64 " %s, ", v, v == 1 ? ev_one[k] : ev_name[k]);
    html_time(o, &from);
    strbuf_puts(o, " to ");
    html_time(o, &to);
    strbuf_puts(o, "</title></rect>");
}

void html_render_timeline(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<section id=\"timeline\">\n<h2>Timeline</h2>\n");
    const struct analysis_traffic *t = a->traffic;
    if (!t) {
        strbuf_puts(o, "<p>Not collected for this report.</p>\n</section>\n");
        return;
    }
    const struct traffic_timeline *tl = &t->timeline;
    if (!tl->any || tl->used == 0) {
        strbuf_puts(o, "<p>No DNS lookup or ICMP error with a time: nothing to place on a "
                       "timeline.</p>\n</section>\n");
        return;
    }
    uint64_t max_top = 1, max_bot = 1;
    for (uint32_t i = 0; i < tl->used; i++) {
        for (int k = TE_QUERY; k <= TE_ANSWER; k++)
            if (tl->n[i][k] > max_top)
                max_top = tl->n[i][k];
        for (int k = TE_ICMP; k <= TE_UNANSWERED; k++)
            if (tl->n[i][k] > max_bot)
                max_bot = tl->n[i][k];
    }
    strbuf_printf(o,
                  "<svg class=\"timeline\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/"
                  "svg\" role=\"img\" aria-labelledby=\"tl-title\">\n<title id=\"tl-title\">"
                  "Queries, answers, ICMP errors and unanswered lookups over time</title>\n",
                  SVG_W, SVG_H);
    /* Incident windows behind the bars: the failures' span shaded, the window from the last
     * success before to the first success after outlined. */
    size_t nw = 0;
    for (size_t i = 0; i < a->n_findings && nw < H_WINDOWS; i++) {
        const struct finding *f = a->findings[i];
        if (f->first_seen.kind != tl->clock || f->last_seen.kind != tl->clock)
            continue;
        nw++;
        double x0 = x_of(tl, time_us(&f->first_seen)), x1 = x_of(tl, time_us(&f->last_seen));
        if (x1 - x0 < 2)
            x1 = x0 + 2;
        const struct incident_window *w = &f->window;
        if (w->has_ok_before || w->has_ok_after) {
            double wx0 = w->has_ok_before && w->ok_before.kind == tl->clock
                             ? x_of(tl, time_us(&w->ok_before))
                             : x0;
            double wx1 = w->has_ok_after && w->ok_after.kind == tl->clock
                             ? x_of(tl, time_us(&w->ok_after))
                             : x1;
            strbuf_printf(o,
                          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"none\" "
                          "stroke=\"#c62828\" stroke-dasharray=\"4 3\" stroke-opacity=\"0.6\"/>",
                          wx0, TOP_Y - 4, wx1 - wx0 > 1 ? wx1 - wx0 : 1, AXIS_Y - TOP_Y + 4);
        }
        strbuf_printf(o,
                      "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#c62828\" "
                      "fill-opacity=\"0.12\"><title>Finding %zu: ",
                      x0, TOP_Y - 4, x1 - x0, AXIS_Y - TOP_Y + 4, i + 1);
        html_label(o, f);
        strbuf_puts(o, ", failures from ");
        html_time(o, &f->first_seen);
        strbuf_puts(o, " to ");
        html_time(o, &f->last_seen);
        strbuf_printf(o, "</title></rect><text x=\"%.1f\" y=\"%d\">%zu</text>\n", x0 + 2, TOP_Y - 8,
                      i + 1);
    }
    /* Panels: traffic above (queries, answers), failures below (errors, unanswered). */
    strbuf_printf(o,
                  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
                  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n",
                  SVG_L, TOP_Y + PANEL_H, SVG_W - SVG_R, TOP_Y + PANEL_H, SVG_L, AXIS_Y,
                  SVG_W - SVG_R, AXIS_Y);
    strbuf_printf(o,
                  "<text x=\"4\" y=\"%d\">%" PRIu64 "</text><text x=\"4\" y=\"%d\">0</text>"
                  "<text x=\"4\" y=\"%d\">%" PRIu64 "</text><text x=\"4\" y=\"%d\">0</text>\n",
                  TOP_Y + 10, max_top, TOP_Y + PANEL_H, BOT_Y + 10, max_bot, AXIS_Y);
    for (uint32_t i = 0; i < tl->used; i++) {
        bar(o, tl, i, TE_QUERY, 0, 2, TOP_Y, max_top);
        bar(o, tl, i, TE_ANSWER, 1, 2, TOP_Y, max_top);
        bar(o, tl, i, TE_ICMP, 0, 2, BOT_Y, max_bot);
        bar(o, tl, i, TE_UNANSWERED, 1, 2, BOT_Y, max_bot);
    }
    strbuf_putc(o, '\n');
    /* Time axis: five labels. */
    for (int k = 0; k <= 4; k++) {
        int64_t us = tl->origin_us + (int64_t)((double)tl->width_us * tl->used * k / 4);
        struct nt_time ts;
        time_of_us(tl, us, &ts);
        double x = x_of(tl, us);
        strbuf_printf(o,
                      "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">",
                      x, AXIS_Y, x, AXIS_Y + 4, x, AXIS_Y + 16,
                      k == 0   ? "start"
                      : k == 4 ? "end"
                               : "middle");
        html_time(o, &ts);
        strbuf_puts(o, "</text>");
    }
    strbuf_puts(o, "\n</svg>\n<div class=\"legend\">");
    for (int k = 0; k < TE_COUNT; k++)
        strbuf_printf(
            o, "<span><span class=\"sw\" style=\"background:%s\"></span>%" PRIu64 " %s</span>",
            ev_colour[k], tl->total[k], tl->total[k] == 1 ? ev_one[k] : ev_name[k]);
    strbuf_puts(o, "<span><span class=\"sw\" style=\"background:#f3d3d3\"></span>a finding's "
                   "failures (dashed: from the last success before to the first after)</span>"
                   "</div>\n");
    strbuf_printf(o, "<p class=\"note\">%u bins of ", tl->used);
    html_dur(o, tl->width_us);
    strbuf_printf(o,
                  " each; the upper panel's scale is %" PRIu64 " per bin, the lower panel's "
                  "%" PRIu64 ". Lookups are placed at their first query (an unanswered one "
                  "too), answers and ICMP errors at their own packets.",
                  max_top, max_bot);
    if (tl->off_clock || tl->no_time)
        strbuf_printf(o,
                      " %" PRIu64 " events without a usable time, or on another clock than "
                      "the first input's, are not placed.",
                      tl->off_clock + tl->no_time);
    if (a->summary.clock_steps)
        strbuf_puts(o, " The capture's clock stepped (merged captures): the time axis follows "
                       "the packets' own stamps.");
    strbuf_puts(o, "</p>\n</section>\n");
}

/* ---- Answer times ---- */

void html_render_servers(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<section id=\"servers\">\n<h2>Answer times per server</h2>\n");
    const struct analysis_traffic *t = a->traffic;
    if (!t || t->n_servers == 0) {
        strbuf_puts(o, t ? "<p>No DNS lookup in the capture.</p>\n</section>\n"
                         : "<p>Not collected for this report.</p>\n</section>\n");
        return;
    }
    strbuf_puts(o, "<div class=\"scroll\"><table>\n<tr><th>Server</th><th>Port</th>"
                   "<th class=\"num\">Lookups</th><th class=\"num\">Answered</th>"
                   "<th class=\"num\">ICMP errors</th><th class=\"num\">Unanswered</th>"
                   "<th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p99</th>"
                   "<th class=\"num\">Max</th></tr>\n");
    bool sampled = false;
    for (size_t i = 0; i < t->n_servers; i++) {
        const struct traffic_server *s = &t->servers[i];
        bool fail = s->icmp_errors || s->unanswered;
        strbuf_puts(o, fail ? "<tr class=\"fail\"><td>" : "<tr><td>");
        html_addr(o, &s->server);
        strbuf_printf(o,
                      "</td><td>%s/%u</td><td class=\"num\">%" PRIu64
                      "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64
                      "</td><td class=\"num\">%" PRIu64 "</td>",
                      s->transport == 6 ? "tcp" : "udp", s->port, s->lookups, s->answered,
                      s->icmp_errors, s->unanswered);
        static const unsigned pct[] = {50, 90, 99, 100};
        for (size_t k = 0; k < 4; k++) {
            int64_t v = traffic_percentile(s, pct[k]);
            strbuf_puts(o, "<td class=\"num\">");
            if (v < 0)
                strbuf_puts(o, "&#8211;");
            else
                html_dur(o, v);
            strbuf_puts(o, "</td>");
        }
        strbuf_puts(o, "</tr>\n");
        if (s->samples_seen > s->n_samples)
            sampled = true;
    }
    strbuf_puts(o, "</table></div>\n<p class=\"note\">Answer time: from the query (its latest "
                   "transmission before the answer) to the first answer, whatever its rcode; "
                   "percentiles by nearest rank.");
    if (sampled)
        strbuf_printf(o,
                      " Servers with more than %d answers: percentiles of a uniform sample "
                      "of %d of them.",
                      TRAFFIC_SAMPLES, TRAFFIC_SAMPLES);
    if (t->other_server_lookups)
        strbuf_printf(o, " %" PRIu64 " lookups to servers past the first %d are not listed.",
                      t->other_server_lookups, TRAFFIC_SERVERS);
    strbuf_puts(o, "</p>\n</section>\n");
}
