/* html.c: the report as one self-contained HTML file (--format html). Inline CSS and an inline
 * SVG timeline; no script, no external resource of any kind (a Content-Security-Policy that
 * allows none says so to the browser as well), so it opens offline and can be mailed or
 * attached to a ticket. Reads only the analysis model (the timeline, lookup and ICMP tables and
 * answer times come from a->traffic).
 *
 * Escaping: every string from an input is written through esc_html once, at the moment it is
 * written, in text and in double-quoted attribute values alike (& < > " ' as entities, control
 * bytes, bidirectional controls and invalid UTF-8 as visible \xNN). Everything else written
 * here is literal markup. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "report/html_internal.h"

#define H_DETAILED 5   /* findings in full, as in Markdown */
#define H_OVERVIEW 200 /* rows of the findings overview */
#define H_LIST     10  /* names and clients per finding */
#define H_EVIDENCE 12  /* evidence rows per finding */
#define H_NAME_MAX 80  /* bytes of a query name shown in a table cell (the whole in its title) */

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Untrusted text, escaped. */
static void h(struct strbuf *o, const char *s)
{
    if (s)
        esc_html(o, s, strlen(s));
}

/* A model sentence: backtick pairs mark commands, written as <code>. */
static void h_text(struct strbuf *o, const char *s)
{
    while (s && *s) {
        const char *tick = strchr(s, '`');
        const char *close = tick ? strchr(tick + 1, '`') : NULL;
        if (!tick || !close) {
            h(o, s);
            return;
        }
        esc_html(o, s, (size_t)(tick - s));
        strbuf_puts(o, "<code>");
        esc_html(o, tick + 1, (size_t)(close - tick - 1));
        strbuf_puts(o, "</code>");
        s = close + 1;
    }
}

void html_time(struct strbuf *o, const struct nt_time *t)
{
    char b[NT_TIME_FMT_MAX];
    if (t->kind == NT_TIME_NONE || nt_time_format(t, b, sizeof b) == 0)
        strbuf_puts(o, "unknown");
    else
        h(o, b);
}

void html_addr(struct strbuf *o, const struct nt_addr *a)
{
    char b[NT_ADDR_FMT_MAX];
    nt_addr_format(a, b, sizeof b);
    h(o, b);
}

void html_dur(struct strbuf *o, int64_t us)
{
    char b[32];
    nt_duration_format(us, b, sizeof b);
    h(o, b);
}

static void h_pkt(struct strbuf *o, const struct analysis *a, uint32_t input, uint64_t pkt)
{
    if (a->n_inputs > 1)
        strbuf_printf(o, "%u:%" PRIu64, input + 1, pkt);
    else
        strbuf_printf(o, "%" PRIu64, pkt);
}

/* A long name cut (at a character boundary) for a table cell, whole in the title attribute. */
static void h_name_cell(struct strbuf *o, const char *name)
{
    if (!name) {
        strbuf_puts(o, "<td class=\"muted\">(not shown)</td>");
        return;
    }
    size_t n = strlen(name);
    if (n <= H_NAME_MAX) {
        strbuf_puts(o, "<td class=\"name\">");
        h(o, name);
        strbuf_puts(o, "</td>");
        return;
    }
    size_t cut = H_NAME_MAX;
    while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80)
        cut--;
    strbuf_puts(o, "<td class=\"name\" title=\"");
    h(o, name);
    strbuf_puts(o, "\">");
    esc_html(o, name, cut);
    strbuf_puts(o, "&#8230;</td>");
}

void html_label(struct strbuf *o, const struct finding *f)
{
    h(o, f->title);
    if (f->has_server) {
        strbuf_puts(o, ": ");
        html_addr(o, &f->server);
        strbuf_printf(o, " %s/%u", f->transport ? finding_transport_name(f) : "?", f->port);
    }
}

static const char *unit(const struct finding *f, uint64_t n)
{
    return plural(n, f->unit_one ? f->unit_one : "lookup", f->unit_many ? f->unit_many : "lookups");
}

static void badge(struct strbuf *o, uint8_t sev)
{
    const char *s = severity_name((enum severity)sev);
    strbuf_printf(o, "<span class=\"badge sev-%s\">%s</span>", s, s);
}

static size_t n_detailed(const struct analysis *a)
{
    return a->n_findings < H_DETAILED ? a->n_findings : H_DETAILED;
}

static const char css[] =
    ":root{--fg:#1b1f24;--muted:#5b6570;--bg:#fff;--line:#d5dae0;--head:#f3f5f7;"
    "--crit:#7a0019;--high:#c62828;--med:#b26a00;--low:#1f6fa8;--info:#5b6570}\n"
    "*{box-sizing:border-box}\n"
    "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);"
    "background:var(--bg);max-width:72rem;margin:0 auto;padding:1rem 1.5rem}\n"
    "h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.3rem;border-bottom:2px solid var(--line);"
    "padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.1rem;margin-top:1.5rem}"
    "h4{font-size:1rem;margin:.2rem 0}\n"
    "code,.mono,td.line{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "font-size:.88em}\n"
    "code{background:var(--head);padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}\n"
    ".meta,.muted,.note{color:var(--muted)}\n"
    "nav.toc{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.9rem;margin:.5rem 0 1rem}\n"
    "nav.toc a{color:var(--low)}\n"
    ".notice{border-left:4px solid var(--med);background:#fff8e6;padding:.4rem .8rem;"
    "margin:.6rem 0}\n"
    ".scroll{overflow-x:auto;margin:.5rem 0}\n"
    "table{border-collapse:collapse;font-size:.9rem;min-width:50%}\n"
    "th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
    "th{background:var(--head)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.name,td.line{overflow-wrap:anywhere;word-break:break-all}\n"
    "tr.fail td{background:#fff3f3}\n"
    ".badge{display:inline-block;min-width:4.5em;text-align:center;border-radius:3px;"
    "padding:0 .35em;font-size:.8rem;font-weight:600;color:#fff;text-transform:uppercase}\n"
    ".sev-critical{background:var(--crit)}.sev-high{background:var(--high)}"
    ".sev-medium{background:var(--med)}.sev-low{background:var(--low)}"
    ".sev-info{background:var(--info)}\n"
    "article.finding{border:1px solid var(--line);border-left-width:6px;border-radius:4px;"
    "padding:.5rem 1rem;margin:1rem 0}\n"
    "article.sev-critical{border-left-color:var(--crit)}article.sev-high{border-left-color:"
    "var(--high)}article.sev-medium{border-left-color:var(--med)}article.sev-low{"
    "border-left-color:var(--low)}article.sev-info{border-left-color:var(--info)}\n"
    "article.finding{background:none}\n"
    "svg.timeline{width:100%;height:auto;max-height:22rem;border:1px solid var(--line)}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#333}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;font-size:.85rem}\n"
    ".sw{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin-right:.3em}\n"
    "@media (max-width:640px){body{padding:.5rem;font-size:14px}th,td{padding:.15rem .3rem;"
    "font-size:.8rem}h1{font-size:1.3rem}article.finding{padding:.4rem .5rem}}\n"
    "@media print{body{max-width:none;padding:0;font-size:10pt}nav.toc{display:none}"
    "h2{break-after:avoid}article.finding,tr,svg{break-inside:avoid}"
    ".scroll{overflow:visible}a{color:inherit;text-decoration:none}"
    ".badge,.sw,.sev-critical,.sev-high,.sev-medium,.sev-low,.sev-info,tr.fail td{"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* ---- Top ---- */

static void render_head(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'\" />\n");
    strbuf_puts(o, "<meta name=\"generator\" content=\"nettriage ");
    h(o, a->version);
    strbuf_puts(o, "\" />\n<title>Incident report: ");
    if (a->n_findings)
        h(o, a->findings[0]->title);
    else
        strbuf_puts(o, "no problem found");
    strbuf_puts(o, "</title>\n<style>\n");
    strbuf_puts(o, css);
    strbuf_puts(o, "</style>\n</head>\n<body>\n<header>\n<h1>Incident report: ");
    if (a->n_findings)
        h(o, a->findings[0]->title);
    else if (analysis_unread(a))
        strbuf_puts(o, "no problem found in what was read (part of the input was not read)");
    else
        strbuf_puts(o, "no problem found");
    strbuf_puts(o, "</h1>\n<p class=\"meta\">Generated by nettriage ");
    h(o, a->version);
    strbuf_printf(o, " from %zu %s", a->n_inputs, plural(a->n_inputs, "input", "inputs"));
    if (a->has_time) {
        strbuf_puts(o, "; ");
        html_time(o, &a->first_ts);
        strbuf_puts(o, " to ");
        html_time(o, &a->last_ts);
        strbuf_puts(o, " (");
        html_dur(o, nt_time_diff_us(&a->first_ts, &a->last_ts));
        strbuf_puts(o, ")");
        if (a->first_ts.kind == NT_TIME_OF_DAY)
            strbuf_puts(o, "; times of day without a date");
    }
    strbuf_puts(o, ".</p>\n");
    char note[512];
    if (analysis_date_note(a, note, sizeof note)) {
        strbuf_puts(o, "<p class=\"meta\">");
        h(o, note);
        strbuf_puts(o, "</p>\n");
    }
    if (analysis_redact_note(a)) {
        strbuf_puts(o, "<p class=\"meta\">");
        h(o, analysis_redact_note(a));
        strbuf_puts(o, "</p>\n");
    }
    strbuf_puts(o, "</header>\n");
    strbuf_puts(o, "<nav class=\"toc\"><a href=\"#scope\">Inputs</a>"
                   "<a href=\"#summary\">Summary</a><a href=\"#overview\">Findings overview</a>"
                   "<a href=\"#timeline\">Timeline</a><a href=\"#servers\">Answer times</a>"
                   "<a href=\"#analysis\">Analysis</a><a href=\"#lookups\">Lookups</a>"
                   "<a href=\"#icmp\">ICMP errors</a><a href=\"#counts\">Traffic summary</a>"
                   "</nav>\n");
}

static void render_notices(const struct analysis *a, struct strbuf *o)
{
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        bool text = in->kind && strcmp(in->kind, "tcpdump text") == 0;
        if (!in->unread)
            continue;
        strbuf_puts(o, "<div class=\"notice\"><strong>Not everything was read:</strong> <code>");
        h(o, in->path ? in->path : "?");
        strbuf_printf(
            o, "</code>: %" PRIu64 " %s that looked like traffic could not be read (%s ",
            in->unread,
            text ? plural(in->unread, "line", "lines") : plural(in->unread, "frame", "frames"),
            text ? plural(in->unread, "line", "lines") : plural(in->unread, "packet", "packets"));
        for (size_t k = 0; k < in->n_first_unread; k++)
            strbuf_printf(o, "%s%" PRIu64, k ? ", " : "", in->first_unread[k]);
        strbuf_puts(o, in->unread > in->n_first_unread ? ", &#8230;)" : ")");
        if (in->n_unread_samples) {
            strbuf_puts(o, "; what it looked like:<ul>");
            for (size_t k = 0; k < in->n_unread_samples; k++) {
                strbuf_puts(o, "<li><code>");
                h(o, in->unread_sample[k]);
                strbuf_puts(o, "</code></li>");
            }
            strbuf_puts(o, "</ul>");
        } else {
            strbuf_puts(o, ". ");
        }
        strbuf_puts(o, "The verdict below covers only what was read");
        if (a->n_findings == 0)
            strbuf_puts(o, ": no problem was found in it, which is not a clean bill (exit "
                           "status 2)");
        strbuf_puts(o, ".</div>\n");
    }
    const struct analysis_summary *s = &a->summary;
    if (s->one_sided_hosts) {
        strbuf_puts(o, "<div class=\"notice\"><strong>One direction only:</strong> the capture "
                       "holds no packet addressed to ");
        uint8_t shown = s->n_one_sided_kept < H_LIST ? s->n_one_sided_kept : H_LIST;
        for (uint8_t i = 0; i < shown; i++) {
            const struct one_sided_host *hst = &s->one_sided[i];
            if (i)
                strbuf_puts(o, ", ");
            html_addr(o, &hst->host);
            strbuf_printf(o,
                          " (%" PRIu64 " %s from it; %" PRIu64 " TCP %s on without a "
                          "captured SYN-ACK)",
                          hst->sent, plural(hst->sent, "packet", "packets"), hst->synack_unseen,
                          plural(hst->synack_unseen, "connection went", "connections went"));
        }
        if (s->one_sided_hosts > shown)
            strbuf_printf(o, " and %" PRIu64 " more", s->one_sided_hosts - shown);
        strbuf_puts(o, ". Packets did reach it without being captured: answers missing from the "
                       "capture are no evidence that none were sent.</div>\n");
    }
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        if (in->error) {
            strbuf_puts(o, "<div class=\"notice\"><strong>Warning:</strong> <code>");
            h(o, in->path);
            strbuf_puts(o, "</code>: ");
            h(o, in->error);
            strbuf_printf(o, ". The report covers the %" PRIu64 " %s read before that.</div>\n",
                          in->packets, plural(in->packets, "packet", "packets"));
        }
        if (in->bad_lines) {
            strbuf_puts(o, "<div class=\"notice\"><strong>Note:</strong> <code>");
            h(o, in->path);
            strbuf_printf(o,
                          "</code>: %" PRIu64 " of %" PRIu64 " %s could not be read as tcpdump "
                          "output and %s skipped (first at line ",
                          in->bad_lines, in->lines, plural(in->lines, "line", "lines"),
                          plural(in->bad_lines, "was", "were"));
            for (size_t k = 0; k < in->n_first_bad_lines; k++)
                strbuf_printf(o, "%s%" PRIu64, k ? ", " : "", in->first_bad_lines[k]);
            strbuf_puts(o, ").</div>\n");
        }
    }
}

static void render_scope(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<section id=\"scope\">\n<h2>Inputs</h2>\n<div class=\"scroll\"><table>\n"
                   "<tr><th>Input</th><th>Kind</th><th class=\"num\">Packets</th>"
                   "<th>First packet</th><th>Last packet</th><th>Notes</th></tr>\n");
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        strbuf_puts(o, "<tr><td class=\"name\"><code>");
        h(o, in->path ? in->path : "?");
        strbuf_puts(o, "</code></td><td>");
        h(o, in->kind ? in->kind : "unreadable");
        if (in->linktype) {
            strbuf_puts(o, ", ");
            h(o, in->linktype);
        }
        if (in->gzip)
            strbuf_puts(o, ", gzip-compressed");
        strbuf_printf(o, "</td><td class=\"num\">%" PRIu64 "</td><td>", in->packets);
        if (in->has_time)
            html_time(o, &in->first_ts);
        strbuf_puts(o, "</td><td>");
        if (in->has_time)
            html_time(o, &in->last_ts);
        strbuf_puts(o, "</td><td>");
        const char *sep = "";
        if (in->frag.fragments) {
            strbuf_printf(o, "%" PRIu64 " IP %s, %" PRIu64 " %s reassembled", in->frag.fragments,
                          plural(in->frag.fragments, "fragment", "fragments"), in->frag.reassembled,
                          plural(in->frag.reassembled, "datagram", "datagrams"));
            sep = "; ";
        }
        if (in->unsupported_link) {
            strbuf_printf(o, "%s%" PRIu64 " frames of a link type not decoded", sep,
                          in->unsupported_link);
            sep = "; ";
        }
        if (anomaly_counts_any(&in->anomalies)) {
            strbuf_printf(o, "%sdecoding anomalies in %" PRIu64 " %s:", sep, in->anomalies.packets,
                          plural(in->anomalies.packets, "packet", "packets"));
            for (size_t k = 0; k < NT_ANOMALY_COUNT; k++)
                if (in->anomalies.n[k]) {
                    strbuf_puts(o, " <code>");
                    h(o, anomaly_id((enum nt_anomaly)k));
                    strbuf_printf(o, "</code> %" PRIu64, in->anomalies.n[k]);
                }
        }
        strbuf_puts(o, "</td></tr>\n");
    }
    strbuf_puts(o, "</table></div>\n</section>\n");
}

static void render_summary(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    strbuf_puts(o, "<section id=\"summary\">\n<h2>Part 1: Summary of the problem found in the DNS "
                   "and ICMP traffic</h2>\n");
    if (a->n_findings == 0) {
        strbuf_printf(o,
                      "<p>No problem was found%s. The capture holds %" PRIu64 " %s: %" PRIu64
                      " DNS %s (%" PRIu64 " %s), %" PRIu64 " answered, %" PRIu64
                      " ICMP %s, %" PRIu64 " unanswered.</p>\n",
                      analysis_unread(a) ? " in what was read" : "", s->packets,
                      plural(s->packets, "packet", "packets"), s->dns_queries,
                      plural(s->dns_queries, "query", "queries"), s->dns_lookups,
                      plural(s->dns_lookups, "lookup", "lookups"), s->answered, s->icmp_errors,
                      plural(s->icmp_errors, "error", "errors"), s->unanswered);
        if (a->icmp_not_taken)
            strbuf_printf(o,
                          "<p>No DNS lookup or TCP connection failed, but %" PRIu64 " ICMP %s "
                          "about other traffic %s listed under <a href=\"#not-taken\">ICMP "
                          "errors not part of any finding</a>: read them before concluding that "
                          "the network is healthy.</p>\n",
                          a->icmp_not_taken, plural(a->icmp_not_taken, "error", "errors"),
                          plural(a->icmp_not_taken, "is", "are"));
        strbuf_puts(o, "</section>\n");
        return;
    }
    if (a->n_findings > 1)
        strbuf_printf(o,
                      "<p>%zu problems were found; the largest first (by the lookups or "
                      "connection attempts each affected):</p>\n",
                      a->n_findings);
    size_t n_sum = a->n_findings < 3 ? a->n_findings : 3;
    for (size_t i = 0; i < n_sum; i++) {
        if (!a->findings[i]->summary)
            continue;
        strbuf_puts(o, "<p>");
        h_text(o, a->findings[i]->summary);
        strbuf_puts(o, "</p>\n");
    }
    if (a->n_findings > n_sum)
        strbuf_printf(o, "<p>%zu more %s, smaller: see the overview below.</p>\n",
                      a->n_findings - n_sum, plural(a->n_findings - n_sum, "finding", "findings"));
    strbuf_puts(o, "<ul>\n");
    for (size_t i = 0; i < a->n_findings; i++) {
        const struct finding *f = a->findings[i];
        if (!f->service || !f->transport)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) {
            const struct finding *g = a->findings[k];
            seen = g->port == f->port && g->transport == f->transport && g->service == f->service;
        }
        if (seen)
            continue;
        uint8_t worst = 0;
        size_t shown = 0;
        uint64_t more = 0;
        strbuf_puts(o, "<li>Affected protocol: <strong>");
        h(o, f->service);
        strbuf_printf(o, "</strong> (%s port %u)", finding_transport_name(f), f->port);
        for (size_t k = i; k < a->n_findings; k++) {
            const struct finding *g = a->findings[k];
            if (g->port != f->port || g->transport != f->transport || g->service != f->service)
                continue;
            if (g->severity > worst)
                worst = g->severity;
            if (!g->has_server)
                continue;
            bool dup = false;
            for (size_t m = i; m < k && !dup; m++) {
                const struct finding *x = a->findings[m];
                dup = x->has_server && x->port == f->port && x->transport == f->transport &&
                      x->service == f->service && nt_addr_eq(&x->server, &g->server);
            }
            if (dup)
                continue;
            if (shown == H_LIST) {
                more++;
                continue;
            }
            strbuf_puts(o, shown++ ? ", " : " on ");
            html_addr(o, &g->server);
        }
        if (more)
            strbuf_printf(o, " and %" PRIu64 " more", more);
        strbuf_puts(o, ". Severity: ");
        badge(o, worst);
        strbuf_puts(o, "</li>\n");
    }
    strbuf_puts(o, "</ul>\n</section>\n");
}

static void render_overview(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<section id=\"overview\">\n<h2>Findings overview</h2>\n");
    if (a->n_findings == 0) {
        strbuf_puts(o, "<p>No finding.</p>\n</section>\n");
        return;
    }
    strbuf_puts(o, "<div class=\"scroll\"><table>\n<tr><th class=\"num\">#</th><th>Severity</th>"
                   "<th>Rule</th><th>Title</th><th>Service</th><th class=\"num\">Affected</th>"
                   "<th class=\"num\">Packets</th><th class=\"num\">Clients</th>"
                   "<th>First failure</th><th>Last failure</th></tr>\n");
    size_t n = a->n_findings < H_OVERVIEW ? a->n_findings : H_OVERVIEW;
    for (size_t i = 0; i < n; i++) {
        const struct finding *f = a->findings[i];
        strbuf_printf(o, "<tr><td class=\"num\">");
        if (i < n_detailed(a))
            strbuf_printf(o, "<a href=\"#finding-%zu\">%zu</a>", i + 1, i + 1);
        else
            strbuf_printf(o, "%zu", i + 1);
        strbuf_puts(o, "</td><td>");
        badge(o, f->severity);
        strbuf_puts(o, "</td><td><code>");
        h(o, f->id);
        strbuf_puts(o, "</code></td><td>");
        h(o, f->title);
        strbuf_puts(o, "</td><td>");
        if (f->service) {
            h(o, f->service);
            if (f->transport)
                strbuf_printf(o, " %s/%u", finding_transport_name(f), f->port);
        }
        if (f->has_server) {
            strbuf_puts(o, " on ");
            html_addr(o, &f->server);
        }
        strbuf_printf(o,
                      "</td><td class=\"num\">%" PRIu64 " %s</td><td class=\"num\">%" PRIu64
                      "</td><td class=\"num\">%" PRIu64 "</td><td>",
                      f->lookups, unit(f, f->lookups), f->packets,
                      (uint64_t)f->n_clients + f->clients_dropped);
        html_time(o, &f->first_seen);
        strbuf_puts(o, "</td><td>");
        html_time(o, &f->last_seen);
        strbuf_puts(o, "</td></tr>\n");
    }
    strbuf_puts(o, "</table></div>\n");
    if (a->n_findings > n)
        strbuf_printf(o,
                      "<p class=\"note\">%zu more findings not shown (--format json lists "
                      "every one).</p>\n",
                      a->n_findings - n);
    if (a->findings_omitted)
        strbuf_printf(o,
                      "<p class=\"note\">%" PRIu64 " further %s not made: a rule stops at 1000 "
                      "findings.</p>\n",
                      a->findings_omitted,
                      plural(a->findings_omitted, "finding was", "findings were"));
    strbuf_puts(o, "</section>\n");
}

/* ---- Part 2 ---- */

static void when_item(struct strbuf *o, const struct analysis *a, const char *label,
                      const struct evidence *e)
{
    strbuf_printf(o, "<li>%s: ", label);
    html_time(o, &e->ts);
    strbuf_puts(o, " (packet ");
    h_pkt(o, a, e->input, e->pkt);
    strbuf_puts(o, ")</li>\n");
}

static void render_when(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<h3>When the incident occurred</h3>\n");
    for (size_t i = 0; i < n_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        const struct incident_window *w = &f->window;
        const struct evidence *fq = NULL, *fe = NULL, *le = NULL;
        for (size_t k = 0; k < f->n_evidence; k++) {
            const struct evidence *e = &f->evidence[k];
            if (!fq && e->role == EV_QUERY)
                fq = e;
            if (e->role == EV_ICMP_ERROR) {
                if (!fe)
                    fe = e;
                le = e;
            }
        }
        if (a->n_findings > 1) {
            strbuf_printf(o, "<p>Finding %zu, ", i + 1);
            html_label(o, f);
            strbuf_puts(o, ":</p>\n");
        }
        strbuf_puts(o, "<ul>\n");
        if (w->has_ok_before) {
            strbuf_puts(o, w->ok_before_bound ? "<li>Successes before the failures: from "
                                              : "<li>Last success before the failures: ");
            html_time(o, &w->ok_before);
            if (w->ok_before_bound)
                strbuf_printf(o, " until the first failure, in the same %" PRId64 " s</li>\n",
                              w->bound_width_s);
            else
                strbuf_puts(o, " (the service worked until then)</li>\n");
        }
        if (fq)
            when_item(o, a, "First failing query", fq);
        else if (f->n_evidence)
            when_item(o, a, "First failure", &f->evidence[0]);
        if (fe)
            when_item(o, a, "First error", fe);
        if (le && le != fe && f->evidence_dropped == 0)
            when_item(o, a, "Last error", le);
        if (f->first_seen.kind != NT_TIME_NONE) {
            strbuf_puts(o, "<li>Failures seen from ");
            html_time(o, &f->first_seen);
            strbuf_puts(o, " to ");
            html_time(o, &f->last_seen);
            strbuf_puts(o, " (");
            html_dur(o, nt_time_diff_us(&f->first_seen, &f->last_seen));
            strbuf_puts(o, ").</li>\n");
        } else {
            strbuf_puts(o, "<li>The input carries no timestamps, so the failures cannot be "
                           "placed in time.</li>\n");
        }
        if (w->ok_during_max > w->ok_during)
            strbuf_printf(o,
                          "<li>Between %" PRIu64 " and %" PRIu64 " successes of the same service "
                          "fell between the first and the last failure.</li>\n",
                          w->ok_during, w->ok_during_max);
        else if (w->ok_during)
            strbuf_printf(o,
                          "<li>%" PRIu64 " %s of the same service fell between the first and the "
                          "last failure: the fault was intermittent, not a full outage.</li>\n",
                          w->ok_during, plural(w->ok_during, "success", "successes"));
        if (w->has_ok_after) {
            strbuf_puts(o, w->ok_after_bound ? "<li>First success after the failures: no later "
                                               "than "
                                             : "<li>First success after the failures: ");
            html_time(o, &w->ok_after);
            strbuf_puts(o, " (the service recovered)</li>\n");
        } else if (w->ok_total && f->first_seen.kind != NT_TIME_NONE) {
            strbuf_puts(o, "<li>No success after the last failure: the service had not "
                           "recovered when the capture ended.</li>\n");
        }
        strbuf_puts(o, "</ul>\n");
    }
}

static void render_done(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    strbuf_puts(o, "<h3>How the incident came to light</h3>\n<p>");
    if (a->reported) {
        strbuf_puts(o, "Reported: ");
        h(o, a->reported);
        strbuf_puts(o, ".");
    } else {
        strbuf_puts(o, "Found in the capture by nettriage (no report was given with "
                       "<code>--reported</code>).");
    }
    strbuf_puts(o, "</p>\n<h3>What was done</h3>\n<ul>\n");
    if (a->actions) {
        strbuf_puts(o, "<li>By the team (as given with <code>--actions</code>): ");
        h(o, a->actions);
        strbuf_puts(o, "</li>\n");
    }
    strbuf_printf(o,
                  "<li>nettriage decoded %" PRIu64 " %s and grouped %" PRIu64
                  " DNS %s into %" PRIu64 " %s (a query and its retransmissions).</li>\n",
                  s->packets, plural(s->packets, "packet", "packets"), s->dns_queries,
                  plural(s->dns_queries, "query", "queries"), s->dns_lookups,
                  plural(s->dns_lookups, "lookup", "lookups"));
    strbuf_printf(o, "<li>%" PRIu64 " of %" PRIu64 " ICMP %s matched to a query.</li>\n",
                  s->icmp_matched, s->icmp_errors, plural(s->icmp_errors, "error", "errors"));
    strbuf_printf(o,
                  "<li>Outcomes: %" PRIu64 " answered, %" PRIu64 " refused by an ICMP error, "
                  "%" PRIu64 " unanswered after the ",
                  s->answered, s->dns_lookups - s->answered - s->unanswered - s->capture_ended,
                  s->unanswered);
    html_dur(o, a->timeout_us);
    strbuf_printf(o, " timeout, %" PRIu64 " cut off by the end of the capture.</li>\n",
                  s->capture_ended);
    if (s->lookups_from_quotes)
        strbuf_printf(o,
                      "<li>%" PRIu64 " further %s known only from the copy of the query an ICMP "
                      "error quotes.</li>\n",
                      s->lookups_from_quotes, plural(s->lookups_from_quotes, "lookup", "lookups"));
    if (s->tcp_attempts)
        strbuf_printf(o,
                      "<li>TCP: %" PRIu64 " connection %s: %" PRIu64 " established, %" PRIu64
                      " reset, %" PRIu64 " refused by an ICMP error, %" PRIu64 " unanswered, "
                      "%" PRIu64 " cut off by the end of the capture.</li>\n",
                      s->tcp_attempts, plural(s->tcp_attempts, "attempt", "attempts"),
                      s->tcp_established, s->tcp_reset, s->tcp_icmp, s->tcp_unanswered,
                      s->tcp_capture_ended);
    if (s->lookups_evicted || s->lookups_key_evicted || s->tcp_evicted)
        strbuf_printf(o,
                      "<li><strong>Bound reached:</strong> %" PRIu64 " DNS lookups and %" PRIu64
                      " TCP attempts closed early (<code>--max-lookups</code>, "
                      "<code>--max-tcp</code>, or one DNS id reused past %d open lookups).</li>\n",
                      s->lookups_evicted + s->lookups_key_evicted, s->tcp_evicted,
                      a->limits.lookups_per_key ? (int)a->limits.lookups_per_key
                                                : CORRELATE_KEY_MAX);
    for (size_t i = 0; i < a->n_rule_limits; i++) {
        const struct detect_limit *l = &a->rule_limits[i];
        strbuf_puts(o, "<li><strong>Bound reached:</strong> rule <code>");
        h(o, l->rule);
        strbuf_printf(o, "</code> left out %" PRIu64 " (", l->count);
        h(o, l->name);
        strbuf_puts(o, "); its finding covers only what it kept.</li>\n");
    }
    for (size_t i = 0; i < a->n_stage_limits; i++) {
        const struct detect_limit *l = &a->stage_limits[i];
        strbuf_puts(o, "<li><strong>Bound reached:</strong> the ");
        h(o, l->rule);
        strbuf_printf(o, " stage left out %" PRIu64 " (", l->count);
        h(o, l->name);
        strbuf_puts(o, "; <code>--bounds</code> lists its bounds); what it left out is not in "
                       "the report.</li>\n");
    }
    if (s->clock_steps)
        strbuf_printf(o,
                      "<li>The capture's clock stepped %" PRIu64 " %s (merged or concatenated "
                      "captures).</li>\n",
                      s->clock_steps, plural(s->clock_steps, "time", "times"));
    strbuf_puts(o, "</ul>\n");
}

static void render_evidence(const struct analysis *a, const struct finding *f, struct strbuf *o)
{
    strbuf_puts(o, "<div class=\"scroll\"><table>\n<tr><th class=\"num\">Packet</th><th>Time</th>"
                   "<th>Kind</th><th>Line</th></tr>\n");
    size_t n = f->n_evidence < H_EVIDENCE ? f->n_evidence : H_EVIDENCE;
    for (size_t k = 0; k < n; k++) {
        const struct evidence *e = &f->evidence[k];
        strbuf_puts(o, "<tr><td class=\"num\">");
        h_pkt(o, a, e->input, e->pkt);
        strbuf_puts(o, "</td><td>");
        html_time(o, &e->ts);
        strbuf_printf(o, "</td><td>%s</td><td class=\"line\">", evidence_role_label(e->role));
        h(o, e->text ? e->text : "");
        strbuf_puts(o, "</td></tr>\n");
    }
    strbuf_puts(o, "</table></div>\n");
    uint64_t more = f->evidence_dropped + (f->n_evidence - n);
    if (more)
        strbuf_printf(o, "<p class=\"note\">%" PRIu64 " more evidence %s not shown.</p>\n", more,
                      plural(more, "line is", "lines are"));
}

static void render_findings(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<h3 id=\"findings\">Key findings</h3>\n");
    for (size_t i = 0; i < n_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        strbuf_printf(o, "<article class=\"finding sev-%s\" id=\"finding-%zu\">\n<h4>%zu. ",
                      severity_name((enum severity)f->severity), i + 1, i + 1);
        html_label(o, f);
        strbuf_puts(o, "</h4>\n<p>");
        badge(o, f->severity);
        strbuf_puts(o, " Rule <code>");
        h(o, f->id);
        strbuf_puts(o, "</code>. ");
        if (attack_technique_id(f->attack)) {
            strbuf_puts(o, "MITRE ATT&amp;CK: ");
            h(o, attack_technique_id(f->attack));
            strbuf_puts(o, " (");
            h(o, attack_technique_name(f->attack));
            strbuf_puts(o, "). ");
        }
        strbuf_printf(o, "%" PRIu64 " %s, %" PRIu64 " %s (%" PRIu64 " %s, %" PRIu64 " %s).</p>\n",
                      f->lookups, unit(f, f->lookups), f->packets,
                      plural(f->packets, "packet", "packets"), f->query_packets,
                      plural(f->query_packets, f->sent_one ? f->sent_one : "query",
                             f->sent_many ? f->sent_many : "queries"),
                      f->error_packets,
                      plural(f->error_packets, f->reply_one ? f->reply_one : "error",
                             f->reply_many ? f->reply_many : "errors"));
        strbuf_puts(o, "<ul>\n");
        for (size_t k = 0; k < f->n_facts; k++) {
            strbuf_puts(o, "<li>");
            h_text(o, f->facts[k]);
            strbuf_puts(o, "</li>\n");
        }
        if (f->n_names) {
            strbuf_puts(o, "<li>Query names: ");
            size_t nn = f->n_names < H_LIST ? f->n_names : H_LIST;
            for (size_t k = 0; k < nn; k++) {
                strbuf_puts(o, k ? ", <code>" : "<code>");
                h(o, f->names[k]);
                strbuf_puts(o, "</code>");
            }
            uint64_t more = f->names_dropped + (f->n_names - nn);
            if (more)
                strbuf_printf(o, " and %" PRIu64 " more", more);
            strbuf_puts(o, "</li>\n");
        }
        if (f->n_clients) {
            strbuf_puts(o, "<li>Clients: ");
            size_t nc = f->n_clients < H_LIST ? f->n_clients : H_LIST;
            for (size_t k = 0; k < nc; k++) {
                if (k)
                    strbuf_puts(o, ", ");
                html_addr(o, &f->clients[k]);
            }
            uint64_t more = f->clients_dropped + (f->n_clients - nc);
            if (more)
                strbuf_printf(o, " and %" PRIu64 " more", more);
            strbuf_puts(o, "</li>\n");
        }
        strbuf_puts(o, "</ul>\n");
        render_evidence(a, f, o);
        strbuf_puts(o, "</article>\n");
    }
    if (a->n_findings > n_detailed(a))
        strbuf_printf(o, "<p>%zu smaller %s in the <a href=\"#overview\">overview</a> above.</p>\n",
                      a->n_findings - n_detailed(a),
                      plural(a->n_findings - n_detailed(a), "finding is", "findings are"));
}

static void render_causes(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<h3>Likely causes</h3>\n");
    for (size_t i = 0; i < n_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        if (a->n_findings > 1) {
            strbuf_printf(o, "<p>For finding %zu, ", i + 1);
            html_label(o, f);
            strbuf_puts(o, ", most likely first:</p>\n");
        } else {
            strbuf_puts(o, "<p>Most likely first:</p>\n");
        }
        strbuf_puts(o, "<ol>\n");
        for (size_t k = 0; k < f->n_causes; k++) {
            const struct cause *c = &f->causes[k];
            strbuf_puts(o, "<li><strong>");
            h_text(o, c->text);
            strbuf_printf(o, "</strong> (confidence: %s) ",
                          confidence_name((enum confidence)c->confidence));
            h_text(o, c->reason);
            strbuf_puts(o, "</li>\n");
        }
        strbuf_puts(o, "</ol>\n");
    }
}

static void render_steps(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<h3>Next steps</h3>\n<ol>\n");
    for (size_t i = 0; i < n_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        for (size_t k = 0; k < f->n_next_steps; k++) {
            bool dup = false;
            for (size_t j = 0; j <= i && !dup; j++) {
                const struct finding *g = a->findings[j];
                for (size_t m = 0; m < (j == i ? k : g->n_next_steps) && !dup; m++)
                    dup = strcmp(g->next_steps[m], f->next_steps[k]) == 0;
            }
            if (dup)
                continue;
            strbuf_puts(o, "<li>");
            h_text(o, f->next_steps[k]);
            strbuf_puts(o, "</li>\n");
        }
    }
    strbuf_puts(o, "</ol>\n");
}

static void example_list(const struct analysis *a, const struct evidence *ev, size_t n,
                         struct strbuf *o)
{
    strbuf_puts(o, "<ul>\n");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(o, "<li>packet ");
        h_pkt(o, a, ev[i].input, ev[i].pkt);
        strbuf_puts(o, ", ");
        html_time(o, &ev[i].ts);
        strbuf_puts(o, ": <code>");
        h(o, ev[i].text ? ev[i].text : "");
        strbuf_puts(o, "</code></li>\n");
    }
    strbuf_puts(o, "</ul>\n");
}

static void render_other_icmp(const struct analysis *a, struct strbuf *o)
{
    if (a->unmatched_icmp) {
        strbuf_printf(o,
                      "<h3>ICMP errors about DNS traffic not in the capture</h3>\n<p>%" PRIu64
                      " ICMP %s about DNS %s no query in the capture, so %s could not be tied to "
                      "a lookup:</p>\n",
                      a->unmatched_icmp, plural(a->unmatched_icmp, "error", "errors"),
                      plural(a->unmatched_icmp, "matches", "match"),
                      plural(a->unmatched_icmp, "it", "they"));
        example_list(a, a->unmatched_examples, a->n_unmatched_examples, o);
    }
    if (a->icmp_not_taken) {
        strbuf_printf(o,
                      "<h3 id=\"not-taken\">ICMP errors not part of any finding</h3>\n<p>%" PRIu64
                      " ICMP %s %s tied to no DNS lookup or TCP connection attempt, and no rule "
                      "took %s as evidence of a fault%s:</p>\n",
                      a->icmp_not_taken, plural(a->icmp_not_taken, "error", "errors"),
                      plural(a->icmp_not_taken, "is", "are"),
                      plural(a->icmp_not_taken, "it", "them"),
                      a->icmp_not_taken > a->n_not_taken_examples ? "; the first ones" : "");
        example_list(a, a->not_taken_examples, a->n_not_taken_examples, o);
    }
}

/* ---- Lookups and ICMP errors ---- */

static void outcome_cell(struct strbuf *o, const struct traffic_lookup *r)
{
    char b[32];
    switch (r->outcome) {
    case LOOKUP_ANSWERED:
        strbuf_puts(o, "answered ");
        h(o, dns_rcode_name(r->rcode, b, sizeof b));
        break;
    case LOOKUP_ICMP_ERROR:
        strbuf_puts(o, "ICMP error: ");
        h(o, icmp_code_description(r->ip_version, r->icmp_type, r->icmp_code));
        break;
    case LOOKUP_UNANSWERED:
        strbuf_puts(o, "unanswered");
        break;
    default:
        strbuf_puts(o, "cut off by the end of the capture");
    }
    if (r->late)
        strbuf_puts(o, " (late)");
}

static void lookup_table(const struct analysis *a, const struct traffic_lookup *rows, size_t n,
                         bool fail, struct strbuf *o)
{
    strbuf_puts(o, "<div class=\"scroll\"><table>\n<tr><th class=\"num\">Packet</th><th>Time</th>"
                   "<th>Client</th><th>Server</th><th>Name</th><th>Type</th><th class=\"num\">"
                   "Id</th><th>Outcome</th><th class=\"num\">Answer time</th>"
                   "<th class=\"num\">Sent</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const struct traffic_lookup *r = &rows[i];
        char b[32];
        strbuf_puts(o, fail ? "<tr class=\"fail\"><td class=\"num\">" : "<tr><td class=\"num\">");
        h_pkt(o, a, r->input, r->pkt);
        strbuf_puts(o, "</td><td>");
        html_time(o, &r->ts);
        strbuf_puts(o, "</td><td>");
        html_addr(o, &r->client);
        strbuf_puts(o, "</td><td>");
        html_addr(o, &r->server);
        strbuf_printf(o, " %s/%u</td>", r->transport == 6 ? "tcp" : "udp", r->server_port);
        h_name_cell(o, r->qname);
        strbuf_puts(o, "<td>");
        if (r->qname)
            h(o, dns_type_name(r->qtype, b, sizeof b));
        strbuf_puts(o, "</td><td class=\"num\">");
        if (!r->id_unknown)
            strbuf_printf(o, "%u", r->id);
        strbuf_puts(o, "</td><td>");
        outcome_cell(o, r);
        strbuf_puts(o, "</td><td class=\"num\">");
        if (r->outcome == LOOKUP_ANSWERED)
            html_dur(o, r->rtt_us);
        strbuf_printf(o, "</td><td class=\"num\">%" PRIu32 "</td></tr>\n", r->transmissions);
    }
    strbuf_puts(o, "</table></div>\n");
}

static void render_lookups(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<section id=\"lookups\">\n<h2>DNS lookups</h2>\n");
    const struct analysis_traffic *t = a->traffic;
    if (!t) {
        strbuf_puts(o, "<p>Not collected for this report.</p>\n</section>\n");
        return;
    }
    strbuf_printf(o,
                  "<h3>Failing lookups</h3>\n<p>%" PRIu64 " %s failed (an ICMP error, no answer, "
                  "or SERVFAIL, REFUSED, NOTIMP or FORMERR)",
                  t->failing_total, plural(t->failing_total, "lookup", "lookups"));
    if (t->failing_total > t->n_failing)
        strbuf_printf(o,
                      "; the %zu earliest are listed, %" PRIu64 " more not shown "
                      "(<code>--format ndjson</code> lists every lookup)",
                      t->n_failing, t->failing_total - t->n_failing);
    strbuf_puts(o, ".</p>\n");
    if (t->n_failing)
        lookup_table(a, t->failing, t->n_failing, true, o);
    strbuf_printf(o, "<h3>Answered lookups, a sample</h3>\n<p>%" PRIu64 " %s answered",
                  t->answered_total, plural(t->answered_total, "lookup was", "lookups were"));
    if (t->answered_total > t->n_answered)
        strbuf_printf(o, "; the %zu earliest are listed as a sample, %" PRIu64 " more not shown",
                      t->n_answered, t->answered_total - t->n_answered);
    strbuf_puts(o, ".</p>\n");
    if (t->n_answered)
        lookup_table(a, t->answered, t->n_answered, false, o);
    strbuf_puts(o, "</section>\n");
}

static void render_icmp(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "<section id=\"icmp\">\n<h2>ICMP errors</h2>\n");
    const struct analysis_traffic *t = a->traffic;
    if (!t) {
        strbuf_puts(o, "<p>Not collected for this report.</p>\n</section>\n");
        return;
    }
    strbuf_printf(o, "<p>%" PRIu64 " ICMP %s", t->icmp_total,
                  plural(t->icmp_total, "error", "errors"));
    if (t->icmp_total > t->n_icmp)
        strbuf_printf(o, "; the first %zu are listed, %" PRIu64 " more not shown", t->n_icmp,
                      t->icmp_total - t->n_icmp);
    strbuf_puts(o, ".</p>\n");
    if (!t->n_icmp) {
        strbuf_puts(o, "</section>\n");
        return;
    }
    strbuf_puts(o, "<div class=\"scroll\"><table>\n<tr><th class=\"num\">Packet</th><th>Time</th>"
                   "<th>From</th><th>To</th><th>Type, code</th><th>About</th><th>Sent by</th>"
                   "<th>Tied to</th></tr>\n");
    for (size_t i = 0; i < t->n_icmp; i++) {
        const struct traffic_icmp *r = &t->icmp[i];
        strbuf_puts(o, "<tr><td class=\"num\">");
        h_pkt(o, a, r->input, r->pkt);
        strbuf_puts(o, "</td><td>");
        html_time(o, &r->ts);
        strbuf_puts(o, "</td><td>");
        html_addr(o, &r->src);
        strbuf_puts(o, "</td><td>");
        html_addr(o, &r->dst);
        strbuf_printf(o, "</td><td>%u, %u: ", r->type, r->code);
        h(o, icmp_code_description(r->ip_version, r->type, r->code));
        strbuf_puts(o, "</td><td>");
        if (r->quote_present) {
            html_addr(o, &r->q_dst);
            if (r->quote_has_ports)
                strbuf_printf(o, " %s/%u",
                              r->q_proto == 6    ? "tcp"
                              : r->q_proto == 17 ? "udp"
                                                 : "ip",
                              r->q_dport);
            if (r->about_dns)
                strbuf_puts(o, " (DNS)");
        } else {
            strbuf_puts(o, "<span class=\"muted\">not shown</span>");
        }
        strbuf_puts(o, "</td><td>");
        h(o, icmp_sender_name((enum icmp_sender)r->sender));
        strbuf_printf(o, "</td><td>%s</td></tr>\n",
                      r->tied == 1   ? "a DNS lookup"
                      : r->tied == 2 ? "a TCP connection attempt"
                                     : "nothing in the capture");
    }
    strbuf_puts(o, "</table></div>\n</section>\n");
}

static void render_appendix(const struct analysis *a, struct strbuf *o)
{
    if (!a->n_explain)
        return;
    strbuf_puts(o, "<section id=\"appendix\">\n<h2>Appendix: the evidence explained</h2>\n");
    for (size_t i = 0; i < a->n_explain; i++) {
        const struct explain_line *l = &a->explain[i];
        strbuf_puts(o, "<h3>");
        h(o, l->heading);
        strbuf_puts(o, "</h3>\n<p><code>");
        h(o, l->text);
        strbuf_puts(o, "</code></p>\n<div class=\"scroll\"><table>\n<tr><th>Field</th>"
                       "<th>Meaning</th></tr>\n");
        for (size_t k = 0; k < l->n_parts; k++) {
            strbuf_puts(o, "<tr><td><code>");
            h(o, l->parts[k].token);
            strbuf_puts(o, "</code></td><td>");
            h(o, l->parts[k].meaning);
            strbuf_puts(o, "</td></tr>\n");
        }
        strbuf_puts(o, "</table></div>\n");
    }
    strbuf_puts(o, "</section>\n");
}

static void count_row(struct strbuf *o, const char *what, uint64_t n)
{
    strbuf_printf(o, "<tr><td>%s</td><td class=\"num\">%" PRIu64 "</td></tr>\n", what, n);
}

static void render_counts(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    strbuf_puts(o, "<section id=\"counts\">\n<h2>Traffic summary</h2>\n<div class=\"scroll\">"
                   "<table>\n<tr><th>Measure</th><th class=\"num\">Count</th></tr>\n");
    count_row(o, "Packets", s->packets);
    count_row(o, "DNS queries (packets)", s->dns_queries);
    count_row(o, "DNS responses (packets)", s->dns_responses);
    count_row(o, "DNS lookups", s->dns_lookups);
    if (s->lookups_from_quotes)
        count_row(o, "DNS lookups known only from ICMP quotes", s->lookups_from_quotes);
    count_row(o, "Answered", s->answered);
    count_row(o, "ICMP errors", s->icmp_errors);
    count_row(o, "ICMP errors matched to a query", s->icmp_matched);
    count_row(o, "Unanswered (timeout)", s->unanswered);
    count_row(o, "Cut off by the end of the capture", s->capture_ended);
    count_row(o, "Responses without a query", s->unsolicited_responses);
    if (s->tcp_attempts)
        count_row(o, "TCP connection attempts", s->tcp_attempts);
    strbuf_puts(o, "</table></div>\n</section>\n");
}

void report_render_html(const struct analysis *a, struct strbuf *o)
{
    render_head(a, o);
    strbuf_puts(o, "<main>\n");
    render_notices(a, o);
    render_scope(a, o);
    render_summary(a, o);
    render_overview(a, o);
    html_render_timeline(a, o);
    html_render_servers(a, o);
    strbuf_puts(o, "<section id=\"analysis\">\n<h2>Part 2: Analysis of the data and the likely "
                   "cause</h2>\n");
    if (a->n_findings)
        render_when(a, o);
    render_done(a, o);
    if (a->n_findings) {
        render_findings(a, o);
        render_causes(a, o);
        render_steps(a, o);
    }
    render_other_icmp(a, o);
    strbuf_puts(o, "</section>\n");
    render_lookups(a, o);
    render_icmp(a, o);
    render_appendix(a, o);
    render_counts(a, o);
    strbuf_puts(o, "</main>\n</body>\n</html>\n");
}
