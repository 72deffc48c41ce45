/* md.c: the Markdown incident report (the default format). Reads only the analysis model;
 * every string from an input is escaped with esc_md / esc_md_code. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"
#include "report/escape.h"

/* Writes a model sentence: plain text in which pairs of backticks mark commands (see
 * detect/text.h). Text outside is Markdown-escaped; commands become code spans. */
static void md_text(struct strbuf *o, const char *s)
{
    while (*s) {
        const char *tick = strchr(s, '`');
        const char *close = tick ? strchr(tick + 1, '`') : NULL;
        if (!tick || !close) {
            esc_md(o, s, strlen(s));
            return;
        }
        esc_md(o, s, (size_t)(tick - s));
        strbuf_putc(o, '`');
        esc_md_cmd(o, tick + 1, (size_t)(close - tick - 1));
        strbuf_putc(o, '`');
        s = close + 1;
    }
}

static void md_raw(struct strbuf *o, const char *s)
{
    esc_md(o, s, strlen(s));
}

static void md_code(struct strbuf *o, const char *s)
{
    strbuf_putc(o, '`');
    esc_md_code(o, s, strlen(s));
    strbuf_putc(o, '`');
}

static void md_time(struct strbuf *o, const struct nt_time *t)
{
    char b[NT_TIME_FMT_MAX];
    if (t->kind == NT_TIME_NONE || nt_time_format(t, b, sizeof b) == 0)
        strbuf_puts(o, "unknown");
    else
        strbuf_puts(o, b);
}

static void md_addr(struct strbuf *o, const struct nt_addr *a)
{
    char b[NT_ADDR_FMT_MAX];
    nt_addr_format(a, b, sizeof b);
    md_raw(o, b);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Report shape on busy captures: the findings shown in full (the largest, by impact), the
 * summaries in Part 1, the items of a list (clients, names, servers) and the evidence rows of a
 * finding. What is left out is counted ("and 110 more"); --format json carries everything. */
#define MD_DETAILED  5
#define MD_SUMMARIES 3
#define MD_LIST      10
#define MD_EVIDENCE  12
#define MD_BRIEF     20

static size_t md_detailed(const struct analysis *a)
{
    return a->n_findings < MD_DETAILED ? a->n_findings : MD_DETAILED;
}

/* ", and 3 more" after a capped list. */
static void md_more(struct strbuf *o, uint64_t more)
{
    if (more)
        strbuf_printf(o, " and %" PRIu64 " more", more);
}

/* "packet 12", or "packet 12 of input 2" when the report covers several inputs. */
static void md_packet_ref(struct strbuf *o, const struct analysis *a, const struct evidence *e)
{
    strbuf_printf(o, "packet %" PRIu64, e->pkt);
    if (a->n_inputs > 1)
        strbuf_printf(o, " of input %u", e->input + 1);
}

/* An input's decoder anomalies, as a table (nothing when it had none). */
static void render_anomalies(const struct analysis_input *in, struct strbuf *o)
{
    const struct anomaly_counts *c = &in->anomalies;
    if (!anomaly_counts_any(c))
        return;
    strbuf_puts(o, "Decoding anomalies in ");
    md_code(o, in->path ? in->path : "?");
    strbuf_printf(o, " (%" PRIu64 " %s; each anomaly is counted once per packet):\n\n", c->packets,
                  plural(c->packets, "packet", "packets"));
    strbuf_puts(o, "| Anomaly | Packets | Meaning |\n|---|---:|---|\n");
    for (size_t i = 0; i < NT_ANOMALY_COUNT; i++) {
        if (!c->n[i])
            continue;
        strbuf_puts(o, "| ");
        md_code(o, anomaly_id((enum nt_anomaly)i));
        strbuf_printf(o, " | %" PRIu64 " | ", c->n[i]);
        md_raw(o, anomaly_description((enum nt_anomaly)i));
        strbuf_puts(o, " |\n");
    }
    strbuf_putc(o, '\n');
    if (c->dropped)
        strbuf_printf(o, "%" PRIu64 " further %s not counted: %s already had %d others.\n\n",
                      c->dropped, plural(c->dropped, "anomaly was", "anomalies were"),
                      plural(c->dropped, "its packet", "their packets"), PKT_MAX_ANOMALIES);
}

/* The block at the very top when traffic was not read (analysis_unread): per input, how many
 * lines or frames, the first few numbers and, for text, what the first few looked like; and
 * that the verdict covers only what was read. Nothing when everything was read. */
static void render_unread(const struct analysis *a, struct strbuf *o)
{
    if (!analysis_unread(a))
        return;
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        if (!in->unread)
            continue;
        bool text = in->kind && strcmp(in->kind, "tcpdump text") == 0;
        strbuf_puts(o, "> **Not everything was read:** ");
        md_code(o, in->path ? in->path : "?");
        if (text)
            strbuf_printf(o, ": %" PRIu64 " %s that looked like traffic could not be read (%s ",
                          in->unread, plural(in->unread, "line", "lines"),
                          plural(in->unread, "line", "lines"));
        else
            strbuf_printf(o,
                          ": %" PRIu64 " %s that looked like IP traffic could not be decoded "
                          "(%s ",
                          in->unread, plural(in->unread, "frame", "frames"),
                          plural(in->unread, "packet", "packets"));
        for (size_t k = 0; k < in->n_first_unread; k++)
            strbuf_printf(o, "%s%" PRIu64, k ? ", " : "", in->first_unread[k]);
        strbuf_puts(o, in->unread > in->n_first_unread ? ", ...)" : ")");
        if (in->n_unread_samples) {
            strbuf_printf(o, "; %s like this:\n",
                          plural(in->n_unread_samples, "it looked", "they looked"));
            for (size_t k = 0; k < in->n_unread_samples; k++) {
                strbuf_puts(o, ">\n> - `");
                /* running text, not a table cell: '|' stays as it was printed */
                esc_md_cmd(o, in->unread_sample[k], strlen(in->unread_sample[k]));
                strbuf_putc(o, '`');
                strbuf_putc(o, '\n');
            }
            strbuf_puts(o, ">\n> ");
        } else {
            strbuf_puts(o, ". ");
        }
        strbuf_puts(o, "The verdict below covers only what was read");
        if (a->n_findings == 0)
            strbuf_puts(o, ": no problem was found in it, which is not a clean bill (exit "
                           "status 2)");
        strbuf_puts(o, ".\n\n");
    }
}

/* The block at the top when the capture holds one direction only of some host's traffic
 * (analysis_summary.one_sided): what is missing from the capture is no evidence that it was
 * missing from the network. Nothing otherwise. */
static void render_one_sided(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    if (!s->one_sided_hosts)
        return;
    strbuf_puts(o, "> **One direction only:** the capture holds no packet addressed to ");
    uint8_t shown = s->n_one_sided_kept < MD_LIST ? s->n_one_sided_kept : MD_LIST;
    for (uint8_t i = 0; i < shown; i++) {
        const struct one_sided_host *h = &s->one_sided[i];
        if (i)
            strbuf_puts(o, ", ");
        md_addr(o, &h->host);
        strbuf_printf(o,
                      " (%" PRIu64 " %s from it; %" PRIu64 " TCP %s on after the SYN without a "
                      "SYN-ACK in the capture)",
                      h->sent, plural(h->sent, "packet", "packets"), h->synack_unseen,
                      plural(h->synack_unseen, "connection went", "connections went"));
    }
    md_more(o, s->one_sided_hosts - shown);
    strbuf_printf(o,
                  ". A client goes on after its SYN only once it received the SYN-ACK, so packets "
                  "did reach %s without being captured (a tap or mirror of one direction, "
                  "asymmetric routing, a capture filter). Answers missing from the capture are "
                  "no evidence that none were sent: read the findings about %s with that in "
                  "mind.\n\n",
                  plural(s->one_sided_hosts, "this host", "these hosts"),
                  plural(s->one_sided_hosts, "it", "them"));
}

static void render_scope(const struct analysis *a, struct strbuf *o)
{
    strbuf_printf(o, "Generated by nettriage %s from %zu %s.\n\n", a->version, a->n_inputs,
                  plural(a->n_inputs, "input", "inputs"));
    strbuf_puts(o, "| Input | Kind | Packets | First packet | Last packet |\n");
    strbuf_puts(o, "|---|---|---:|---|---|\n");
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        strbuf_puts(o, "| ");
        md_code(o, in->path ? in->path : "?");
        strbuf_puts(o, " | ");
        md_raw(o, in->kind ? in->kind : "unreadable");
        if (in->linktype) {
            strbuf_puts(o, ", ");
            md_raw(o, in->linktype);
        }
        if (in->gzip)
            strbuf_puts(o, ", gzip-compressed");
        strbuf_printf(o, " | %" PRIu64 " | ", in->packets);
        if (in->has_time)
            md_time(o, &in->first_ts);
        strbuf_puts(o, " | ");
        if (in->has_time)
            md_time(o, &in->last_ts);
        strbuf_puts(o, " |\n");
    }
    strbuf_putc(o, '\n');
    if (a->has_time) {
        char d[32];
        nt_duration_format(nt_time_diff_us(&a->first_ts, &a->last_ts), d, sizeof d);
        strbuf_puts(o, "Time span: ");
        md_time(o, &a->first_ts);
        strbuf_puts(o, " to ");
        md_time(o, &a->last_ts);
        strbuf_printf(o, " (%s)", d);
        if (a->first_ts.kind == NT_TIME_OF_DAY)
            strbuf_puts(o, "; the input gives times of day without a date");
        strbuf_puts(o, ".\n\n");
    }
    char note[512];
    if (analysis_date_note(a, note, sizeof note))
        strbuf_printf(o, "%s\n\n", note);
    if (analysis_redact_note(a))
        strbuf_printf(o, "%s\n\n", analysis_redact_note(a));
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        if (in->error) {
            strbuf_puts(o, "> **Warning:** ");
            md_code(o, in->path);
            strbuf_puts(o, ": ");
            md_raw(o, in->error);
            strbuf_printf(o, ". The report covers the %" PRIu64 " %s read before that.\n\n",
                          in->packets, plural(in->packets, "packet", "packets"));
        }
        if (in->bad_lines) {
            strbuf_puts(o, "> **Note:** ");
            md_code(o, in->path);
            strbuf_printf(o,
                          ": %" PRIu64 " of %" PRIu64 " %s could not be read as tcpdump "
                          "output and %s skipped (first at line ",
                          in->bad_lines, in->lines, plural(in->lines, "line", "lines"),
                          plural(in->bad_lines, "was", "were"));
            for (size_t k = 0; k < in->n_first_bad_lines; k++)
                strbuf_printf(o, "%s%" PRIu64, k ? ", " : "", in->first_bad_lines[k]);
            strbuf_puts(o, ").\n\n");
        }
        if (in->unsupported_link)
            strbuf_printf(o,
                          "> **Note:** %" PRIu64 " frames had a link type nettriage does not "
                          "decode.\n\n",
                          in->unsupported_link);
        uint64_t lost = in->frag.timed_out + in->frag.evicted + in->frag.incomplete;
        if (in->frag.fragments) {
            /* Every way a fragment can fail to become part of a datagram is said, so that the
             * counts add up (fragments cut by the snapshot length, invalid ones, datagrams
             * left incomplete). */
            strbuf_printf(o, "> **Note:** %" PRIu64 " IP %s seen: %" PRIu64 " %s reassembled",
                          in->frag.fragments, plural(in->frag.fragments, "fragment", "fragments"),
                          in->frag.reassembled,
                          plural(in->frag.reassembled, "datagram was", "datagrams were"));
            if (lost)
                strbuf_printf(o, "; %" PRIu64 " %s incomplete (%" PRIu64 " %s)", lost,
                              plural(lost, "datagram stayed", "datagrams stayed"),
                              in->frag.lost_fragments,
                              plural(in->frag.lost_fragments, "fragment", "fragments"));
            if (in->frag.uncaptured)
                strbuf_printf(o, "; %" PRIu64 " %s cut short by the capture's snapshot length",
                              in->frag.uncaptured,
                              plural(in->frag.uncaptured, "fragment was", "fragments were"));
            if (in->frag.invalid)
                strbuf_printf(o, "; %" PRIu64 " %s invalid (bad length or offset)",
                              in->frag.invalid,
                              plural(in->frag.invalid, "fragment was", "fragments were"));
            if (lost || in->frag.uncaptured || in->frag.invalid)
                strbuf_puts(o, ". What those fragments carried was not analysed");
            strbuf_puts(o, ".\n\n");
        }
        render_anomalies(in, o);
    }
}

static void render_summary(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    strbuf_puts(o, "## Part 1: Summary of the problem found in the DNS and ICMP traffic\n\n");
    if (a->n_findings == 0) {
        strbuf_printf(o,
                      "No problem was found%s. The capture holds %" PRIu64 " %s: %" PRIu64
                      " DNS %s (%" PRIu64 " %s), %" PRIu64 " answered, %" PRIu64
                      " ICMP %s, %" PRIu64 " unanswered.\n\n",
                      analysis_unread(a) ? " in what was read" : "", s->packets,
                      plural(s->packets, "packet", "packets"), s->dns_queries,
                      plural(s->dns_queries, "query", "queries"), s->dns_lookups,
                      plural(s->dns_lookups, "lookup", "lookups"), s->answered, s->icmp_errors,
                      plural(s->icmp_errors, "error", "errors"), s->unanswered);
        if (a->icmp_not_taken)
            strbuf_printf(o,
                          "No DNS lookup or TCP connection failed, but %" PRIu64 " ICMP %s "
                          "about other traffic %s listed under \"ICMP errors not part of any "
                          "finding\" below: read them before concluding that the network is "
                          "healthy.\n\n",
                          a->icmp_not_taken, plural(a->icmp_not_taken, "error", "errors"),
                          plural(a->icmp_not_taken, "is", "are"));
        return;
    }
    if (a->n_findings > 1)
        strbuf_printf(o,
                      "%zu problems were found; the largest first (by the lookups or connection "
                      "attempts each affected):\n\n",
                      a->n_findings);
    size_t n_sum = a->n_findings < MD_SUMMARIES ? a->n_findings : MD_SUMMARIES;
    for (size_t i = 0; i < n_sum; i++) {
        const struct finding *f = a->findings[i];
        if (f->summary) {
            md_text(o, f->summary);
            strbuf_puts(o, "\n\n");
        }
    }
    if (a->n_findings > n_sum) {
        /* The smaller findings, counted by kind (each title once, in rank order). */
        strbuf_printf(o, "%zu more %s, smaller: ", a->n_findings - n_sum,
                      plural(a->n_findings - n_sum, "finding", "findings"));
        size_t kinds = 0;
        for (size_t i = n_sum; i < a->n_findings; i++) {
            const struct finding *f = a->findings[i];
            bool seen = false;
            for (size_t k = n_sum; k < i && !seen; k++)
                seen = strcmp(a->findings[k]->id, f->id) == 0;
            if (seen)
                continue;
            size_t n = 0;
            uint64_t lk = 0;
            for (size_t k = i; k < a->n_findings; k++)
                if (strcmp(a->findings[k]->id, f->id) == 0) {
                    n++;
                    lk += a->findings[k]->lookups;
                }
            strbuf_puts(o, kinds++ ? "; " : "");
            md_raw(o, f->title);
            strbuf_printf(o, " (%zu %s, %" PRIu64 " %s)", n, plural(n, "finding", "findings"), lk,
                          plural(lk, f->unit_one ? f->unit_one : "lookup",
                                 f->unit_many ? f->unit_many : "lookups"));
        }
        strbuf_puts(o, ".\n\n");
    }
    /* Which protocol and port, in one line an analyst can paste into the ticket: each
     * distinct service, transport and port with the servers it failed on. */
    for (size_t i = 0; i < a->n_findings; i++) {
        const struct finding *f = a->findings[i];
        if (!f->service || !f->transport)
            continue; /* not about one service (e.g. ICMP about any traffic) */
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) {
            const struct finding *g = a->findings[k];
            seen = g->port == f->port && g->transport == f->transport && g->service == f->service;
        }
        if (seen)
            continue;
        strbuf_printf(o, "Affected protocol: **%s** (%s port %u)", f->service ? f->service : "?",
                      f->transport ? finding_transport_name(f) : "?", f->port);
        size_t shown = 0;
        uint64_t more = 0;
        uint8_t worst = 0;
        for (size_t k = i; k < a->n_findings; k++) {
            const struct finding *g = a->findings[k];
            if (g->port != f->port || g->transport != f->transport || g->service != f->service)
                continue;
            if (g->severity > worst)
                worst = g->severity;
            if (!g->has_server)
                continue;
            /* Each server once, however many findings name it. */
            bool dup = false;
            for (size_t m = i; m < k && !dup; m++) {
                const struct finding *h = a->findings[m];
                dup = h->has_server && h->port == f->port && h->transport == f->transport &&
                      h->service == f->service && nt_addr_eq(&h->server, &g->server);
            }
            if (dup)
                continue;
            if (shown == MD_LIST) {
                more++;
                continue;
            }
            strbuf_puts(o, shown++ ? ", " : " on ");
            md_addr(o, &g->server);
        }
        md_more(o, more);
        strbuf_printf(o, ". Severity: %s.\n\n", severity_name((enum severity)worst));
    }
}

/* "DNS server unreachable on its port: 198.51.100.2 udp/53" */
static void md_finding_label(struct strbuf *o, const struct finding *f)
{
    md_raw(o, f->title);
    if (f->has_server) {
        strbuf_puts(o, ": ");
        md_addr(o, &f->server);
        strbuf_printf(o, " %s/%u", f->transport ? finding_transport_name(f) : "?", f->port);
    }
}

/* "- LABEL: TIME (packet N)\n" */
static void md_when_line(struct strbuf *o, const struct analysis *a, const char *label,
                         const struct evidence *e)
{
    strbuf_printf(o, "- %s: ", label);
    md_time(o, &e->ts);
    strbuf_puts(o, " (");
    md_packet_ref(o, a, e);
    strbuf_puts(o, ")\n");
}

static void render_when(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "### When the incident occurred\n\n");
    for (size_t i = 0; i < md_detailed(a); i++) {
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
            strbuf_printf(o, "Finding %zu, ", i + 1);
            md_finding_label(o, f);
            strbuf_puts(o, ":\n\n");
        }
        if (w->has_ok_before && w->ok_before_bound) {
            strbuf_puts(o, "- Successes before the failures: from ");
            md_time(o, &w->ok_before);
            strbuf_printf(o,
                          " until the first failure, in the same %" PRId64 " s (at this rate "
                          "the service's history keeps counts, not each success's time)\n",
                          w->bound_width_s);
        } else if (w->has_ok_before) {
            strbuf_puts(o, "- Last success before the failures: ");
            md_time(o, &w->ok_before);
            strbuf_puts(o, " (the service worked until then)\n");
        }
        if (fq)
            md_when_line(o, a, "First failing query", fq);
        else if (f->n_evidence)
            md_when_line(o, a, "First failure", &f->evidence[0]);
        if (fe)
            md_when_line(o, a, "First error", fe);
        if (le && le != fe && f->evidence_dropped == 0)
            md_when_line(o, a, "Last error", le);
        if (f->first_seen.kind != NT_TIME_NONE) {
            strbuf_puts(o, "- Failures seen from ");
            md_time(o, &f->first_seen);
            strbuf_puts(o, " to ");
            md_time(o, &f->last_seen);
            char d[32];
            nt_duration_format(nt_time_diff_us(&f->first_seen, &f->last_seen), d, sizeof d);
            strbuf_printf(o, " (%s).\n", d);
        } else {
            strbuf_puts(o, "- The input carries no timestamps, so the failures cannot be placed "
                           "in time.\n");
        }
        if (w->ok_during_max > w->ok_during)
            strbuf_printf(o,
                          "- Between %" PRIu64 " and %" PRIu64 " successes of the same service "
                          "fell between the first and the last failure%s (the history keeps "
                          "counts per %" PRId64 " s at this rate).\n",
                          w->ok_during, w->ok_during_max,
                          w->ok_during ? ": the fault was intermittent, not a full outage" : "",
                          w->bound_width_s);
        else if (w->ok_during)
            strbuf_printf(o,
                          "- %" PRIu64 " %s of the same service fell between the first and the "
                          "last failure: the fault was intermittent, not a full outage.\n",
                          w->ok_during, plural(w->ok_during, "success", "successes"));
        if (w->has_ok_after && w->ok_after_bound) {
            strbuf_puts(o, "- First success after the failures: no later than ");
            md_time(o, &w->ok_after);
            strbuf_printf(o,
                          ", in the same %" PRId64 " s as the last failure (the service "
                          "recovered)\n",
                          w->bound_width_s);
        } else if (w->has_ok_after) {
            strbuf_puts(o, "- First success after the failures: ");
            md_time(o, &w->ok_after);
            strbuf_puts(o, " (the service recovered)\n");
        } else if (w->ok_total && f->first_seen.kind != NT_TIME_NONE) {
            strbuf_puts(o, "- No success after the last failure: the service had not recovered "
                           "when the capture ended.\n");
        }
        strbuf_putc(o, '\n');
    }
}

static void render_how(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "### How the incident came to light\n\n");
    if (a->reported) {
        strbuf_puts(o, "Reported: ");
        md_raw(o, a->reported);
        strbuf_puts(o, ".\n\n");
    } else {
        strbuf_puts(o, "Found in the capture by nettriage (no report was given with "
                       "`--reported`).\n\n");
    }
}

static void render_done(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    char to[32];
    nt_duration_format(a->timeout_us, to, sizeof to);
    strbuf_puts(o, "### What was done\n\n");
    if (a->actions) {
        strbuf_puts(o, "- By the team (as given with `--actions`): ");
        md_raw(o, a->actions);
        strbuf_puts(o, "\n");
    }
    strbuf_printf(o, "- The traffic was captured: %" PRIu64 " %s in %zu %s (", s->packets,
                  plural(s->packets, "packet", "packets"), a->n_inputs,
                  plural(a->n_inputs, "input", "inputs"));
    for (size_t i = 0; i < a->n_inputs; i++) {
        if (i)
            strbuf_puts(o, ", ");
        md_raw(o, a->inputs[i].kind ? a->inputs[i].kind : "unreadable");
    }
    strbuf_puts(o, ").\n");
    /* What was read: every line of a text input, or some skipped. */
    uint64_t bad = 0;
    for (size_t i = 0; i < a->n_inputs; i++)
        bad += a->inputs[i].bad_lines;
    strbuf_printf(o, "- nettriage decoded the %" PRIu64 " %s it read", s->packets,
                  plural(s->packets, "packet", "packets"));
    if (bad)
        strbuf_printf(o, " (%" PRIu64 " %s of text could not be read and %s skipped)", bad,
                      plural(bad, "line", "lines"), plural(bad, "was", "were"));
    strbuf_printf(
        o, ", grouped %" PRIu64 " DNS %s into %" PRIu64 " %s (a query and its retransmissions)",
        s->dns_queries, plural(s->dns_queries, "query", "queries"), s->dns_lookups,
        plural(s->dns_lookups, "lookup", "lookups"));
    if (s->icmp_errors == 0) {
        strbuf_puts(o, "; the input holds no ICMP error.\n");
    } else {
        /* How the errors could be matched depends on what the input shows of each quote. */
        uint64_t with_id = 0, without_id = 0;
        for (size_t i = 0; i < a->n_findings; i++)
            for (size_t k = 0; k < a->findings[i]->n_evidence; k++) {
                const struct evidence *e = &a->findings[i]->evidence[k];
                if (e->role != EV_ICMP_ERROR)
                    continue;
                if (e->quote_has_dns)
                    with_id++;
                else
                    without_id++;
            }
        for (size_t i = 0; i < a->n_unmatched_examples; i++) {
            if (a->unmatched_examples[i].quote_has_dns)
                with_id++;
            else
                without_id++;
        }
        strbuf_printf(o, ", and matched %" PRIu64 " of %" PRIu64 " ICMP %s to a query",
                      s->icmp_matched, s->icmp_errors, plural(s->icmp_errors, "error", "errors"));
        if (without_id == 0 && with_id)
            strbuf_puts(o, " by the addresses, ports and DNS id each one quotes.\n");
        else if (with_id == 0 && without_id)
            strbuf_puts(o, " by what the input shows of the datagram each one is about (its "
                           "destination, protocol and port where printed; no DNS id is "
                           "shown).\n");
        else if (with_id)
            strbuf_puts(o, " by what each one quotes: the DNS id where the input shows it, else "
                           "the addresses, protocol and ports.\n");
        else
            strbuf_puts(o, " by the addresses, protocol and ports the input shows.\n");
    }
    strbuf_printf(o,
                  "- Outcomes: %" PRIu64 " answered, %" PRIu64 " refused by an ICMP error, "
                  "%" PRIu64 " unanswered after the %s timeout, %" PRIu64
                  " cut off by the end of the capture.\n",
                  s->answered, s->dns_lookups - s->answered - s->unanswered - s->capture_ended,
                  s->unanswered, to, s->capture_ended);
    if (s->lookups_from_quotes)
        strbuf_printf(o,
                      "- %" PRIu64 " further %s refused by an ICMP error %s not in the input: "
                      "%s known only from the copy of the query that the error quotes.\n",
                      s->lookups_from_quotes, plural(s->lookups_from_quotes, "lookup", "lookups"),
                      plural(s->lookups_from_quotes, "whose query is", "whose queries are"),
                      plural(s->lookups_from_quotes, "it is", "they are"));
    if (s->tcp_attempts)
        strbuf_printf(o,
                      "- TCP: %" PRIu64 " connection %s (%" PRIu64 " SYN %s): %" PRIu64
                      " established, %" PRIu64 " reset, %" PRIu64 " refused by an ICMP error, "
                      "%" PRIu64 " unanswered after the %s timeout, %" PRIu64
                      " cut off by the end of the capture.\n",
                      s->tcp_attempts, plural(s->tcp_attempts, "attempt", "attempts"),
                      s->tcp_syn_packets, plural(s->tcp_syn_packets, "packet", "packets"),
                      s->tcp_established, s->tcp_reset, s->tcp_icmp, s->tcp_unanswered, to,
                      s->tcp_capture_ended);
    if (s->mdns_messages || s->llmnr_messages || s->nbns_packets)
        strbuf_printf(o,
                      "- Local name protocols, recognised and not counted as DNS lookups: %" PRIu64
                      " mDNS and %" PRIu64 " LLMNR %s, %" PRIu64 " NetBIOS name service %s.\n",
                      s->mdns_messages, s->llmnr_messages,
                      plural(s->llmnr_messages, "message", "messages"), s->nbns_packets,
                      plural(s->nbns_packets, "packet", "packets"));
    if (s->has_capture_stats)
        strbuf_printf(o,
                      "- **Live capture:** the kernel passed %" PRIu64 " %s through the filter, "
                      "dropped %" PRIu64 " for lack of buffer space and the interface dropped "
                      "%" PRIu64 "%s\n",
                      s->cap_received, plural(s->cap_received, "packet", "packets"), s->cap_dropped,
                      s->cap_if_dropped,
                      s->cap_dropped || s->cap_if_dropped
                          ? ": the capture is not complete, and the counts above miss what was "
                            "dropped."
                          : ": the capture is complete.");
    if (s->lookups_evicted)
        strbuf_printf(o,
                      "- **Bound reached:** %" PRIu64 " DNS %s closed early because %" PRIu32
                      " were open at once (`--max-lookups`); each was judged on what had been "
                      "seen of it by then.\n",
                      s->lookups_evicted, plural(s->lookups_evicted, "lookup was", "lookups were"),
                      a->limits.max_lookups);
    if (s->lookups_key_evicted)
        strbuf_printf(
            o,
            "- **Bound reached:** %" PRIu64 " DNS %s closed early because %d "
            "lookups with the same client, server, port and DNS id were open at once "
            "(a flood reusing one id); each was judged on what had been seen of it by "
            "then.\n",
            s->lookups_key_evicted, plural(s->lookups_key_evicted, "lookup was", "lookups were"),
            a->limits.lookups_per_key ? (int)a->limits.lookups_per_key : CORRELATE_KEY_MAX);
    if (s->tcp_evicted)
        strbuf_printf(o,
                      "- **Bound reached:** %" PRIu64 " TCP connection %s closed early because "
                      "%" PRIu32 " were open at once (`--max-tcp`).\n",
                      s->tcp_evicted, plural(s->tcp_evicted, "attempt was", "attempts were"),
                      a->limits.max_tcp_attempts);
    for (size_t i = 0; i < a->n_rule_limits; i++) {
        const struct detect_limit *l = &a->rule_limits[i];
        strbuf_puts(o, "- **Bound reached:** rule `");
        md_raw(o, l->rule);
        strbuf_puts(o, "` left out ");
        strbuf_printf(o, "%" PRIu64 " (", l->count);
        md_raw(o, l->name);
        strbuf_puts(o, "); its finding covers only what it kept.\n");
    }
    for (size_t i = 0; i < a->n_stage_limits; i++) {
        const struct detect_limit *l = &a->stage_limits[i];
        strbuf_puts(o, "- **Bound reached:** the ");
        md_raw(o, l->rule);
        strbuf_printf(o, " stage left out %" PRIu64 " (", l->count);
        md_raw(o, l->name);
        strbuf_puts(o, "; `--bounds` lists its bounds); what it left out is not in the report.\n");
    }
    if (s->clock_steps) {
        const struct clock_step *cs = &s->clock_steps_kept[0];
        strbuf_printf(o,
                      "- The capture's clock stepped %" PRIu64
                      " %s (back by more than 1 s, or ahead "
                      "by more than an hour: merged or concatenated captures); nettriage followed "
                      "the packets' order across %s. The first: packet ",
                      s->clock_steps, plural(s->clock_steps, "time", "times"),
                      plural(s->clock_steps, "it", "them"));
        if (a->n_inputs > 1)
            strbuf_printf(o, "%u:", cs->input + 1);
        strbuf_printf(o, "%" PRIu64 " is stamped ", cs->pkt);
        md_time(o, &cs->to);
        strbuf_puts(o, ", after a packet stamped ");
        md_time(o, &cs->from);
        strbuf_puts(o, ".\n");
    }
    strbuf_putc(o, '\n');
}

static void render_evidence(const struct finding *f, size_t n_inputs, struct strbuf *o)
{
    /* Several inputs: the packet column reads "input:packet". */
    strbuf_puts(o, n_inputs > 1 ? "| Input:packet | Time | Kind | Line |\n|---:|---|---|---|\n"
                                : "| Packet | Time | Kind | Line |\n|---:|---|---|---|\n");
    size_t n_ev = f->n_evidence < MD_EVIDENCE ? f->n_evidence : MD_EVIDENCE;
    for (size_t k = 0; k < n_ev; k++) {
        const struct evidence *e = &f->evidence[k];
        if (n_inputs > 1)
            strbuf_printf(o, "| %u:%" PRIu64 " | ", e->input + 1, e->pkt);
        else
            strbuf_printf(o, "| %" PRIu64 " | ", e->pkt);
        md_time(o, &e->ts);
        strbuf_printf(o, " | %s | ", evidence_role_label(e->role));
        md_code(o, e->text ? e->text : "");
        strbuf_puts(o, " |\n");
    }
    uint64_t ev_more = f->evidence_dropped + (f->n_evidence - n_ev);
    if (ev_more)
        strbuf_printf(o, "\n%" PRIu64 " more evidence %s not listed.\n", ev_more,
                      plural(ev_more, "line is", "lines are"));
    strbuf_putc(o, '\n');
}

static void render_findings(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "### Key findings\n\n");
    if (a->findings_omitted)
        strbuf_printf(o,
                      "> **Note:** %" PRIu64 " further %s not listed: a rule stops at 1000 "
                      "findings (one per server, port or router), as hostile traffic such as a "
                      "scan of every port would otherwise make one per target.\n\n",
                      a->findings_omitted,
                      plural(a->findings_omitted, "finding was", "findings were"));
    for (size_t i = 0; i < md_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        strbuf_printf(o, "#### %zu. ", i + 1);
        md_finding_label(o, f);
        strbuf_puts(o, "\n\n");
        strbuf_printf(o, "Rule `%s`, severity %s. ", f->id,
                      severity_name((enum severity)f->severity));
        if (attack_technique_id(f->attack)) {
            strbuf_puts(o, "MITRE ATT&CK: ");
            md_raw(o, attack_technique_id(f->attack));
            strbuf_puts(o, " (");
            md_raw(o, attack_technique_name(f->attack));
            strbuf_puts(o, "). ");
        }
        strbuf_printf(o, "%" PRIu64 " %s, %" PRIu64 " %s (%" PRIu64 " %s, %" PRIu64 " %s).\n\n",
                      f->lookups,
                      plural(f->lookups, f->unit_one ? f->unit_one : "lookup",
                             f->unit_many ? f->unit_many : "lookups"),
                      f->packets, plural(f->packets, "packet", "packets"), f->query_packets,
                      plural(f->query_packets, f->sent_one ? f->sent_one : "query",
                             f->sent_many ? f->sent_many : "queries"),
                      f->error_packets,
                      plural(f->error_packets, f->reply_one ? f->reply_one : "error",
                             f->reply_many ? f->reply_many : "errors"));
        for (size_t k = 0; k < f->n_facts; k++) {
            strbuf_puts(o, "- ");
            md_text(o, f->facts[k]);
            strbuf_putc(o, '\n');
        }
        if (f->n_names) {
            strbuf_puts(o, "- Query names: ");
            size_t nn = f->n_names < MD_LIST ? f->n_names : MD_LIST;
            for (size_t k = 0; k < nn; k++) {
                if (k)
                    strbuf_puts(o, ", ");
                md_code(o, f->names[k]);
            }
            md_more(o, f->names_dropped + (f->n_names - nn));
            strbuf_putc(o, '\n');
        }
        if (f->n_clients) {
            strbuf_puts(o, "- Clients: ");
            size_t nc = f->n_clients < MD_LIST ? f->n_clients : MD_LIST;
            for (size_t k = 0; k < nc; k++) {
                if (k)
                    strbuf_puts(o, ", ");
                md_addr(o, &f->clients[k]);
            }
            md_more(o, f->clients_dropped + (f->n_clients - nc));
            strbuf_putc(o, '\n');
        }
        strbuf_puts(o, "\nEvidence:\n\n");
        render_evidence(f, a->n_inputs, o);
    }
    if (a->n_findings > md_detailed(a)) {
        /* The smaller findings, one line each, the first MD_BRIEF of them. */
        size_t rest = a->n_findings - md_detailed(a);
        strbuf_printf(o, "#### %zu more %s, in short\n\n", rest,
                      plural(rest, "finding", "findings"));
        size_t end = md_detailed(a) + (rest < MD_BRIEF ? rest : MD_BRIEF);
        for (size_t i = md_detailed(a); i < end; i++) {
            const struct finding *f = a->findings[i];
            strbuf_printf(o, "%zu. ", i + 1);
            md_finding_label(o, f);
            strbuf_printf(o, " (rule `%s`, severity %s): %" PRIu64 " %s, %" PRIu64 " %s.\n", f->id,
                          severity_name((enum severity)f->severity), f->lookups,
                          plural(f->lookups, f->unit_one ? f->unit_one : "lookup",
                                 f->unit_many ? f->unit_many : "lookups"),
                          (uint64_t)f->n_clients + f->clients_dropped,
                          plural(f->n_clients + f->clients_dropped, "client", "clients"));
        }
        if (a->n_findings > end)
            strbuf_printf(o, "\n%zu more %s not listed here (`--format json` lists every one).\n",
                          a->n_findings - end,
                          plural(a->n_findings - end, "finding is", "findings are"));
        strbuf_putc(o, '\n');
    }
}

static void render_causes(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "### Likely causes\n\n");
    for (size_t i = 0; i < md_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        if (a->n_findings > 1) {
            strbuf_printf(o, "For finding %zu, ", i + 1);
            md_finding_label(o, f);
            strbuf_puts(o, ", most likely first:\n\n");
        } else {
            strbuf_puts(o, "Most likely first:\n\n");
        }
        for (size_t k = 0; k < f->n_causes; k++) {
            const struct cause *c = &f->causes[k];
            strbuf_printf(o, "%zu. **", k + 1);
            md_text(o, c->text);
            strbuf_printf(o, "** (confidence: %s) ",
                          confidence_name((enum confidence)c->confidence));
            md_text(o, c->reason);
            strbuf_putc(o, '\n');
        }
        strbuf_putc(o, '\n');
    }
}

static void render_steps(const struct analysis *a, struct strbuf *o)
{
    strbuf_puts(o, "### Next steps\n\n");
    size_t n = 0;
    for (size_t i = 0; i < md_detailed(a); i++) {
        const struct finding *f = a->findings[i];
        for (size_t k = 0; k < f->n_next_steps; k++) {
            bool dup = false; /* the same step for several findings is listed once */
            for (size_t j = 0; j <= i && !dup; j++) {
                const struct finding *g = a->findings[j];
                for (size_t m = 0; m < (j == i ? k : g->n_next_steps) && !dup; m++)
                    dup = strcmp(g->next_steps[m], f->next_steps[k]) == 0;
            }
            if (dup)
                continue;
            strbuf_printf(o, "%zu. ", ++n);
            md_text(o, f->next_steps[k]);
            strbuf_putc(o, '\n');
        }
    }
    strbuf_putc(o, '\n');
}

/* A list of example packets: "- packet N, TIME: `LINE`", then a blank line. */
static void md_example_list(const struct analysis *a, const struct evidence *ev, size_t n,
                            struct strbuf *o)
{
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(o, "- ");
        md_packet_ref(o, a, &ev[i]);
        strbuf_puts(o, ", ");
        md_time(o, &ev[i].ts);
        strbuf_puts(o, ": ");
        md_code(o, ev[i].text ? ev[i].text : "");
        strbuf_putc(o, '\n');
    }
    strbuf_putc(o, '\n');
}

static void render_unmatched(const struct analysis *a, struct strbuf *o)
{
    if (!a->unmatched_icmp)
        return;
    strbuf_printf(o,
                  "### ICMP errors about DNS traffic not in the capture\n\n"
                  "%" PRIu64 " ICMP %s about DNS %s no query in the capture (it was sent before "
                  "the capture began, or on a path the capture did not see), so %s could not "
                  "be tied to a lookup:\n\n",
                  a->unmatched_icmp, plural(a->unmatched_icmp, "error", "errors"),
                  plural(a->unmatched_icmp, "matches", "match"),
                  plural(a->unmatched_icmp, "it", "they"));
    md_example_list(a, a->unmatched_examples, a->n_unmatched_examples, o);
}

/* Every ICMP error the findings do not account for is counted and shown, never dropped. */
static void render_not_taken(const struct analysis *a, struct strbuf *o)
{
    if (!a->icmp_not_taken)
        return;
    strbuf_printf(o,
                  "### ICMP errors not part of any finding\n\n"
                  "%" PRIu64 " ICMP %s %s tied to no DNS lookup or TCP connection attempt in the "
                  "capture, and no rule took %s as evidence of a fault (for example traceroute's "
                  "probes, or errors about traffic the capture did not see)%s:\n\n",
                  a->icmp_not_taken, plural(a->icmp_not_taken, "error", "errors"),
                  plural(a->icmp_not_taken, "is", "are"), plural(a->icmp_not_taken, "it", "them"),
                  a->icmp_not_taken > a->n_not_taken_examples ? "; the first ones" : "");
    md_example_list(a, a->not_taken_examples, a->n_not_taken_examples, o);
}

static void render_appendix(const struct analysis *a, struct strbuf *o)
{
    if (a->n_explain == 0)
        return;
    strbuf_puts(o, "## Appendix: the evidence explained\n\n");
    for (size_t i = 0; i < a->n_explain; i++) {
        const struct explain_line *l = &a->explain[i];
        strbuf_puts(o, "### ");
        md_raw(o, l->heading);
        strbuf_puts(o, "\n\n");
        md_code(o, l->text);
        strbuf_puts(o, "\n\n| Field | Meaning |\n|---|---|\n");
        for (size_t k = 0; k < l->n_parts; k++) {
            strbuf_puts(o, "| ");
            md_code(o, l->parts[k].token);
            strbuf_puts(o, " | ");
            md_raw(o, l->parts[k].meaning);
            strbuf_puts(o, " |\n");
        }
        strbuf_putc(o, '\n');
    }
}

static void render_counts(const struct analysis *a, struct strbuf *o)
{
    const struct analysis_summary *s = &a->summary;
    strbuf_puts(o, "## Traffic summary\n\n| Measure | Count |\n|---|---:|\n");
    strbuf_printf(o, "| Packets | %" PRIu64 " |\n", s->packets);
    strbuf_printf(o, "| DNS queries (packets) | %" PRIu64 " |\n", s->dns_queries);
    strbuf_printf(o, "| DNS responses (packets) | %" PRIu64 " |\n", s->dns_responses);
    strbuf_printf(o, "| DNS lookups | %" PRIu64 " |\n", s->dns_lookups);
    if (s->lookups_from_quotes)
        strbuf_printf(o, "| DNS lookups known only from ICMP quotes | %" PRIu64 " |\n",
                      s->lookups_from_quotes);
    strbuf_printf(o, "| Answered | %" PRIu64 " |\n", s->answered);
    strbuf_printf(o, "| ICMP errors | %" PRIu64 " |\n", s->icmp_errors);
    strbuf_printf(o, "| ICMP errors matched to a query | %" PRIu64 " |\n", s->icmp_matched);
    strbuf_printf(o, "| Unanswered (timeout) | %" PRIu64 " |\n", s->unanswered);
    strbuf_printf(o, "| Cut off by the end of the capture | %" PRIu64 " |\n", s->capture_ended);
    strbuf_printf(o, "| Responses without a query | %" PRIu64 " |\n", s->unsolicited_responses);
    strbuf_putc(o, '\n');
}

void report_render_md(const struct analysis *a, struct strbuf *o)
{
    if (a->n_findings) {
        strbuf_puts(o, "# Incident report: ");
        md_raw(o, a->findings[0]->title);
        strbuf_puts(o, "\n\n");
    } else if (analysis_unread(a)) {
        /* The verdict covers only what was read (the block below says what was not). */
        strbuf_puts(o, "# Incident report: no problem found in what was read (part of the input "
                       "was not read)\n\n");
    } else {
        strbuf_puts(o, "# Incident report: no problem found\n\n");
    }
    render_unread(a, o);
    render_one_sided(a, o);
    render_scope(a, o);
    render_summary(a, o);
    strbuf_puts(o, "## Part 2: Analysis of the data and the likely cause\n\n");
    if (a->n_findings)
        render_when(a, o);
    render_how(a, o);
    render_done(a, o);
    if (a->n_findings) {
        render_findings(a, o);
        render_causes(a, o);
        render_steps(a, o);
    }
    render_unmatched(a, o);
    render_not_taken(a, o);
    render_appendix(a, o);
    render_counts(a, o);
}
