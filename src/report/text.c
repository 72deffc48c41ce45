/* text.c: the report for a terminal (--format text). Summary first, then the findings with
 * their evidence, then the detail; prose wrapped to 80 columns. Reads only the analysis model.
 *
 * Escaping: every string from an input goes through esc_term once, as it is added to a
 * paragraph: control bytes (C0, DEL, C1), invalid UTF-8 and the Unicode bidirectional
 * controls become visible \xNN escapes, so no escape sequence from a packet, a file name or
 * --reported reaches the terminal; valid UTF-8 above 0x7f is printed as it is (checked, not
 * trusted). Colour (ANSI SGR) is written only by this file, and only when `color`.
 *
 * Wrapping counts one column per code point (wide characters count one); a token longer than
 * the line (a long name, an evidence line's field) overflows rather than being cut. Inside a
 * paragraph three bytes that escaped text never holds mark layout: P_NBSP a space that does
 * not break (inside a command, so it stays one piece to copy), P_ON / P_OFF emphasis. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"
#include "report/escape.h"

#define TW       80 /* columns */
#define TX_LIST  10 /* names, clients, servers listed */
#define TX_EV    8  /* evidence lines per finding */
#define TX_FULL  5  /* findings shown in full */
#define TX_SUMS  3  /* summaries in the summary */
#define TX_BRIEF 20

#define P_NBSP '\x01'
#define P_ON   '\x02'
#define P_OFF  '\x03'

struct tx {
    struct strbuf *o;
    bool color;
    struct strbuf p; /* the paragraph being built */
};

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void sgr(struct tx *t, const char *code)
{
    if (t->color) {
        strbuf_puts(t->o, "\x1b[");
        strbuf_puts(t->o, code);
        strbuf_putc(t->o, 'm');
    }
}

/* ---- Paragraph building ---- */

static void p_lit(struct tx *t, const char *s)
{
    strbuf_puts(&t->p, s);
}

static void p_raw(struct tx *t, const char *s)
{
    esc_term(&t->p, s, s ? strlen(s) : 0);
}

/* Untrusted text that must stay one piece (a name, a path): its spaces do not break. */
static void p_token(struct tx *t, const char *s)
{
    size_t from = t->p.len;
    esc_term(&t->p, s, s ? strlen(s) : 0);
    for (size_t i = from; i < t->p.len; i++)
        if (t->p.s[i] == ' ')
            t->p.s[i] = P_NBSP;
}

/* A model sentence: backtick pairs mark commands, kept in backticks, in one piece. */
static void p_text(struct tx *t, const char *s)
{
    while (s && *s) {
        const char *tick = strchr(s, '`');
        const char *close = tick ? strchr(tick + 1, '`') : NULL;
        if (!tick || !close) {
            esc_term(&t->p, s, strlen(s));
            return;
        }
        esc_term(&t->p, s, (size_t)(tick - s));
        strbuf_putc(&t->p, P_ON);
        strbuf_putc(&t->p, '`');
        size_t from = t->p.len;
        esc_term(&t->p, tick + 1, (size_t)(close - tick - 1));
        for (size_t i = from; i < t->p.len; i++)
            if (t->p.s[i] == ' ')
                t->p.s[i] = P_NBSP;
        strbuf_putc(&t->p, '`');
        strbuf_putc(&t->p, P_OFF);
        s = close + 1;
    }
}

static void p_printf(struct tx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void p_printf(struct tx *t, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    strbuf_puts(&t->p, b);
}

static void p_time(struct tx *t, const struct nt_time *ts)
{
    char b[NT_TIME_FMT_MAX];
    if (ts->kind == NT_TIME_NONE || nt_time_format(ts, b, sizeof b) == 0)
        p_lit(t, "unknown");
    else
        p_lit(t, b);
}

static void p_addr(struct tx *t, const struct nt_addr *a)
{
    char b[NT_ADDR_FMT_MAX];
    nt_addr_format(a, b, sizeof b);
    p_token(t, b); /* a host name from text is untrusted */
}

/* Columns a piece of paragraph text takes: one per code point, none for the marks. */
static size_t cols(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b == P_ON || b == P_OFF || (b & 0xc0) == 0x80)
            continue;
        c++;
    }
    return c;
}

static void emit_piece(struct tx *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == P_NBSP)
            strbuf_putc(t->o, ' ');
        else if (s[i] == P_ON)
            sgr(t, "1");
        else if (s[i] == P_OFF)
            sgr(t, "22");
        else
            strbuf_putc(t->o, s[i]);
    }
}

/* Writes the paragraph wrapped at TW columns: the first line after `first` columns already
 * written on it, the others indented by `indent`; then a newline. Empties the paragraph. */
static void p_flush(struct tx *t, size_t first, size_t indent)
{
    const char *s = strbuf_str(&t->p);
    size_t n = t->p.len, col = first, i = 0;
    bool line_empty = true;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        if (j == i)
            break;
        size_t w = cols(s + i, j - i);
        if (!line_empty && col + 1 + w > TW) {
            strbuf_putc(t->o, '\n');
            for (size_t k = 0; k < indent; k++)
                strbuf_putc(t->o, ' ');
            col = indent;
            line_empty = true;
        }
        if (!line_empty) {
            strbuf_putc(t->o, ' ');
            col++;
        }
        emit_piece(t, s + i, j - i);
        col += w;
        line_empty = false;
        i = j;
    }
    strbuf_putc(t->o, '\n');
    strbuf_reset(&t->p);
}

/* "  - " then the paragraph, continuation lines under its text. */
static void p_item(struct tx *t, size_t indent, const char *mark)
{
    for (size_t k = 0; k < indent; k++)
        strbuf_putc(t->o, ' ');
    strbuf_puts(t->o, mark);
    strbuf_putc(t->o, ' ');
    p_flush(t, indent + strlen(mark) + 1, indent + strlen(mark) + 1);
}

static void heading(struct tx *t, const char *title)
{
    size_t n = strlen(title);
    const char *o = strbuf_str(t->o);
    if (!(t->o->len >= 2 && o[t->o->len - 1] == '\n' && o[t->o->len - 2] == '\n'))
        strbuf_putc(t->o, '\n');
    sgr(t, "1");
    strbuf_puts(t->o, title);
    sgr(t, "0");
    strbuf_putc(t->o, ' ');
    for (size_t i = n + 1; i < TW; i++)
        strbuf_puts(t->o, "\xe2\x94\x80"); /* U+2500, a rule to the right margin */
    strbuf_puts(t->o, "\n\n");
}

static void subheading(struct tx *t, const char *title)
{
    sgr(t, "1");
    strbuf_puts(t->o, title);
    sgr(t, "0");
    strbuf_putc(t->o, '\n');
}

/* ---- Findings ---- */

static const char *sev_upper(uint8_t s)
{
    static const char *const names[] = {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
    return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static const char *sev_colour(uint8_t s)
{
    switch (s) {
    case SEV_CRITICAL:
        return "1;97;41";
    case SEV_HIGH:
        return "1;30;101";
    case SEV_MEDIUM:
        return "30;43";
    case SEV_LOW:
        return "30;46";
    default:
        return "30;47";
    }
}

/* The badge: " HIGH " in colour, or "[HIGH]" without; returns the columns it took. */
static size_t badge(struct tx *t, uint8_t sev)
{
    const char *name = sev_upper(sev);
    if (t->color) {
        sgr(t, sev_colour(sev));
        strbuf_printf(t->o, " %s ", name);
        sgr(t, "0");
    } else {
        strbuf_printf(t->o, "[%s]", name);
    }
    return strlen(name) + 2;
}

static void p_label(struct tx *t, const struct finding *f)
{
    p_raw(t, f->title);
    if (f->has_server) {
        p_lit(t, ": ");
        p_addr(t, &f->server);
        p_printf(t, " %s/%u", f->transport ? finding_transport_name(f) : "?", f->port);
    }
}

static const char *unit(const struct finding *f, uint64_t n)
{
    return plural(n, f->unit_one ? f->unit_one : "lookup", f->unit_many ? f->unit_many : "lookups");
}

static size_t n_full(const struct analysis *a)
{
    return a->n_findings < TX_FULL ? a->n_findings : TX_FULL;
}

static void render_finding(struct tx *t, const struct analysis *a, size_t i)
{
    const struct finding *f = a->findings[i];
    size_t c = badge(t, f->severity);
    strbuf_putc(t->o, ' ');
    sgr(t, "1");
    p_printf(t, "%zu. ", i + 1);
    p_label(t, f);
    p_flush(t, c + 1, 4);
    sgr(t, "0");
    p_printf(t, "Rule %s, severity %s.", f->id, severity_name((enum severity)f->severity));
    if (attack_technique_id(f->attack)) {
        p_lit(t, " MITRE ATT&CK ");
        p_raw(t, attack_technique_id(f->attack));
        p_lit(t, " (");
        p_raw(t, attack_technique_name(f->attack));
        p_lit(t, ").");
    }
    p_printf(t, " %" PRIu64 " %s, %" PRIu64 " %s (%" PRIu64 " %s, %" PRIu64 " %s).", f->lookups,
             unit(f, f->lookups), f->packets, plural(f->packets, "packet", "packets"),
             f->query_packets,
             plural(f->query_packets, f->sent_one ? f->sent_one : "query",
                    f->sent_many ? f->sent_many : "queries"),
             f->error_packets,
             plural(f->error_packets, f->reply_one ? f->reply_one : "error",
                    f->reply_many ? f->reply_many : "errors"));
    strbuf_puts(t->o, "    ");
    p_flush(t, 4, 4);
    for (size_t k = 0; k < f->n_facts; k++) {
        p_text(t, f->facts[k]);
        p_item(t, 4, "-");
    }
    if (f->n_names) {
        p_lit(t, "Query names: ");
        size_t nn = f->n_names < TX_LIST ? f->n_names : TX_LIST;
        for (size_t k = 0; k < nn; k++) {
            if (k)
                p_lit(t, ", ");
            p_token(t, f->names[k]);
        }
        uint64_t more = f->names_dropped + (f->n_names - nn);
        if (more)
            p_printf(t, " and %" PRIu64 " more", more);
        p_item(t, 4, "-");
    }
    if (f->n_clients) {
        p_lit(t, "Clients: ");
        size_t nc = f->n_clients < TX_LIST ? f->n_clients : TX_LIST;
        for (size_t k = 0; k < nc; k++) {
            if (k)
                p_lit(t, ", ");
            p_addr(t, &f->clients[k]);
        }
        uint64_t more = f->clients_dropped + (f->n_clients - nc);
        if (more)
            p_printf(t, " and %" PRIu64 " more", more);
        p_item(t, 4, "-");
    }
    if (f->n_evidence) {
        strbuf_puts(t->o, "    Evidence:\n");
        size_t n_ev = f->n_evidence < TX_EV ? f->n_evidence : TX_EV;
        for (size_t k = 0; k < n_ev; k++) {
            const struct evidence *e = &f->evidence[k];
            if (a->n_inputs > 1)
                p_printf(t, "%u:%" PRIu64, e->input + 1, e->pkt);
            else
                p_printf(t, "%" PRIu64, e->pkt);
            p_lit(t, " ");
            p_time(t, &e->ts);
            p_printf(t, " %s:", evidence_role_label(e->role));
            strbuf_puts(t->o, "      ");
            sgr(t, "2");
            p_flush(t, 6, 6);
            sgr(t, "0");
            /* The line as printed, wrapped at its spaces under itself. */
            p_raw(t, e->text ? e->text : "");
            strbuf_puts(t->o, "        ");
            p_flush(t, 8, 10);
        }
        uint64_t more = f->evidence_dropped + (f->n_evidence - n_ev);
        if (more) {
            p_printf(t, "%" PRIu64 " more evidence %s not shown (--format json lists them).", more,
                     plural(more, "line is", "lines are"));
            strbuf_puts(t->o, "      ");
            p_flush(t, 6, 6);
        }
    }
    strbuf_putc(t->o, '\n');
}

static void render_findings(struct tx *t, const struct analysis *a)
{
    heading(t, "FINDINGS");
    if (a->findings_omitted) {
        p_printf(t,
                 "%" PRIu64 " further %s not listed: a rule stops at 1000 findings (one per "
                 "server, port or router).",
                 a->findings_omitted, plural(a->findings_omitted, "finding was", "findings were"));
        p_flush(t, 0, 0);
        strbuf_putc(t->o, '\n');
    }
    for (size_t i = 0; i < n_full(a); i++)
        render_finding(t, a, i);
    if (a->n_findings > n_full(a)) {
        size_t rest = a->n_findings - n_full(a);
        size_t end = n_full(a) + (rest < TX_BRIEF ? rest : TX_BRIEF);
        p_printf(t, "%zu more %s, in short:", rest, plural(rest, "finding", "findings"));
        p_flush(t, 0, 0);
        for (size_t i = n_full(a); i < end; i++) {
            const struct finding *f = a->findings[i];
            size_t c = badge(t, f->severity);
            strbuf_putc(t->o, ' ');
            p_printf(t, "%zu. ", i + 1);
            p_label(t, f);
            p_printf(t, " (%s): %" PRIu64 " %s, %" PRIu64 " %s.", f->id, f->lookups,
                     unit(f, f->lookups), (uint64_t)f->n_clients + f->clients_dropped,
                     plural(f->n_clients + f->clients_dropped, "client", "clients"));
            p_flush(t, c + 1, 4);
        }
        if (a->n_findings > end) {
            p_printf(t, "%zu more %s not listed here (--format json lists every one).",
                     a->n_findings - end,
                     plural(a->n_findings - end, "finding is", "findings are"));
            p_flush(t, 0, 0);
        }
    }
}

/* ---- Top and summary ---- */

static void render_notices(struct tx *t, const struct analysis *a)
{
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        bool text = in->kind && strcmp(in->kind, "tcpdump text") == 0;
        if (in->unread) {
            sgr(t, "1;33");
            strbuf_puts(t->o, "! ");
            sgr(t, "0");
            p_lit(t, "Not everything was read: ");
            p_token(t, in->path ? in->path : "?");
            p_printf(
                t, ": %" PRIu64 " %s that looked like traffic could not be read (%s ", in->unread,
                text ? plural(in->unread, "line", "lines") : plural(in->unread, "frame", "frames"),
                text ? plural(in->unread, "line", "lines")
                     : plural(in->unread, "packet", "packets"));
            for (size_t k = 0; k < in->n_first_unread; k++)
                p_printf(t, "%s%" PRIu64, k ? ", " : "", in->first_unread[k]);
            p_lit(t, in->unread > in->n_first_unread ? ", ...)." : ").");
            p_lit(t, " The verdict covers only what was read.");
            p_flush(t, 2, 2);
            for (size_t k = 0; k < in->n_unread_samples; k++) {
                p_raw(t, in->unread_sample[k]);
                p_item(t, 2, "|");
            }
        }
        if (in->error) {
            sgr(t, "1;33");
            strbuf_puts(t->o, "! ");
            sgr(t, "0");
            p_lit(t, "Warning: ");
            p_token(t, in->path ? in->path : "?");
            p_lit(t, ": ");
            p_raw(t, in->error);
            p_printf(t, ". The report covers the %" PRIu64 " %s read before that.", in->packets,
                     plural(in->packets, "packet", "packets"));
            p_flush(t, 2, 2);
        }
    }
    const struct analysis_summary *s = &a->summary;
    if (s->one_sided_hosts) {
        sgr(t, "1;33");
        strbuf_puts(t->o, "! ");
        sgr(t, "0");
        p_lit(t, "One direction only: the capture holds no packet addressed to ");
        uint8_t shown = s->n_one_sided_kept < TX_LIST ? s->n_one_sided_kept : TX_LIST;
        for (uint8_t i = 0; i < shown; i++) {
            if (i)
                p_lit(t, ", ");
            p_addr(t, &s->one_sided[i].host);
        }
        if (s->one_sided_hosts > shown)
            p_printf(t, " and %" PRIu64 " more", s->one_sided_hosts - shown);
        p_lit(t, ", yet packets reached it uncaptured: answers missing from the capture are no "
                 "evidence that none were sent.");
        p_flush(t, 2, 2);
    }
}

static void render_summary(struct tx *t, const struct analysis *a)
{
    const struct analysis_summary *s = &a->summary;
    heading(t, "SUMMARY");
    if (a->n_findings == 0) {
        p_printf(t,
                 "No problem was found%s. %" PRIu64 " %s: %" PRIu64 " DNS %s, %" PRIu64
                 " answered, %" PRIu64 " ICMP %s, %" PRIu64 " unanswered.",
                 analysis_unread(a) ? " in what was read" : "", s->packets,
                 plural(s->packets, "packet", "packets"), s->dns_lookups,
                 plural(s->dns_lookups, "lookup", "lookups"), s->answered, s->icmp_errors,
                 plural(s->icmp_errors, "error", "errors"), s->unanswered);
        if (a->icmp_not_taken)
            p_printf(t,
                     " But %" PRIu64 " ICMP %s about other traffic %s listed under DETAIL: read "
                     "them before concluding that the network is healthy.",
                     a->icmp_not_taken, plural(a->icmp_not_taken, "error", "errors"),
                     plural(a->icmp_not_taken, "is", "are"));
        p_flush(t, 0, 0);
        return;
    }
    size_t n_sum = a->n_findings < TX_SUMS ? a->n_findings : TX_SUMS;
    for (size_t i = 0; i < n_sum; i++) {
        const struct finding *f = a->findings[i];
        if (!f->summary)
            continue;
        p_text(t, f->summary);
        p_flush(t, 0, 0);
        strbuf_putc(t->o, '\n');
    }
    if (a->n_findings > n_sum) {
        p_printf(t, "%zu more %s, smaller (see FINDINGS).", a->n_findings - n_sum,
                 plural(a->n_findings - n_sum, "finding", "findings"));
        p_flush(t, 0, 0);
        strbuf_putc(t->o, '\n');
    }
    /* Each service with its worst severity, in rank order. */
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
        for (size_t k = i; k < a->n_findings; k++) {
            const struct finding *g = a->findings[k];
            if (g->port == f->port && g->transport == f->transport && g->service == f->service &&
                g->severity > worst)
                worst = g->severity;
        }
        size_t c = badge(t, worst);
        strbuf_putc(t->o, ' ');
        p_lit(t, "Affected: ");
        p_raw(t, f->service);
        p_printf(t, " (%s port %u)", finding_transport_name(f), f->port);
        size_t shown = 0;
        uint64_t more = 0;
        for (size_t k = i; k < a->n_findings; k++) {
            const struct finding *g = a->findings[k];
            if (g->port != f->port || g->transport != f->transport || g->service != f->service ||
                !g->has_server)
                continue;
            bool dup = false; /* each server once */
            for (size_t m = i; m < k && !dup; m++) {
                const struct finding *x = a->findings[m];
                dup = x->has_server && x->port == f->port && x->transport == f->transport &&
                      x->service == f->service && nt_addr_eq(&x->server, &g->server);
            }
            if (dup)
                continue;
            if (shown == TX_LIST) {
                more++;
                continue;
            }
            p_lit(t, shown++ ? ", " : " on ");
            p_addr(t, &g->server);
        }
        if (more)
            p_printf(t, " and %" PRIu64 " more", more);
        p_flush(t, c + 1, 4);
    }
}

/* ---- Detail ---- */

static void render_when(struct tx *t, const struct analysis *a)
{
    subheading(t, "When");
    for (size_t i = 0; i < n_full(a); i++) {
        const struct finding *f = a->findings[i];
        const struct incident_window *w = &f->window;
        p_printf(t, "%zu. ", i + 1);
        p_label(t, f);
        p_lit(t, ":");
        if (w->has_ok_before) {
            p_lit(t, w->ok_before_bound ? " successes until the first failure from "
                                        : " last success ");
            p_time(t, &w->ok_before);
            p_lit(t, ";");
        }
        if (f->first_seen.kind != NT_TIME_NONE) {
            char d[32];
            nt_duration_format(nt_time_diff_us(&f->first_seen, &f->last_seen), d, sizeof d);
            p_lit(t, " failures from ");
            p_time(t, &f->first_seen);
            p_lit(t, " to ");
            p_time(t, &f->last_seen);
            p_printf(t, " (%s)", d);
        } else {
            p_lit(t, " no timestamps in the input");
        }
        if (w->ok_during_max > w->ok_during)
            p_printf(t, "; %" PRIu64 " to %" PRIu64 " successes in between", w->ok_during,
                     w->ok_during_max);
        else if (w->ok_during)
            p_printf(t, "; %" PRIu64 " %s in between (intermittent)", w->ok_during,
                     plural(w->ok_during, "success", "successes"));
        if (w->has_ok_after) {
            p_lit(t, w->ok_after_bound ? "; recovered no later than " : "; first success after ");
            p_time(t, &w->ok_after);
        } else if (w->ok_total && f->first_seen.kind != NT_TIME_NONE) {
            p_lit(t, "; not recovered when the capture ended");
        }
        p_lit(t, ".");
        p_item(t, 2, "-");
    }
    strbuf_putc(t->o, '\n');
}

static void render_causes(struct tx *t, const struct analysis *a)
{
    subheading(t, "Likely causes, most likely first");
    for (size_t i = 0; i < n_full(a); i++) {
        const struct finding *f = a->findings[i];
        if (a->n_findings > 1) {
            p_printf(t, "For %zu. ", i + 1);
            p_label(t, f);
            p_lit(t, ":");
            strbuf_puts(t->o, "  ");
            p_flush(t, 2, 2);
        }
        for (size_t k = 0; k < f->n_causes; k++) {
            const struct cause *c = &f->causes[k];
            char mark[16];
            snprintf(mark, sizeof mark, "%zu.", k + 1);
            strbuf_putc(&t->p, P_ON);
            p_text(t, c->text);
            strbuf_putc(&t->p, P_OFF);
            p_printf(t, " (confidence: %s) ", confidence_name((enum confidence)c->confidence));
            p_text(t, c->reason);
            p_item(t, 4, mark);
        }
    }
    strbuf_putc(t->o, '\n');
}

static void render_steps(struct tx *t, const struct analysis *a)
{
    subheading(t, "Next steps");
    size_t n = 0;
    for (size_t i = 0; i < n_full(a); i++) {
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
            char mark[16];
            snprintf(mark, sizeof mark, "%zu.", ++n);
            p_text(t, f->next_steps[k]);
            p_item(t, 2, mark);
        }
    }
    strbuf_putc(t->o, '\n');
}

static void render_examples(struct tx *t, const struct analysis *a, const struct evidence *ev,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a->n_inputs > 1)
            p_printf(t, "%u:%" PRIu64 ": ", ev[i].input + 1, ev[i].pkt);
        else
            p_printf(t, "%" PRIu64 ": ", ev[i].pkt);
        p_raw(t, ev[i].text ? ev[i].text : "");
        p_item(t, 2, "-");
    }
}

static void render_done(struct tx *t, const struct analysis *a)
{
    const struct analysis_summary *s = &a->summary;
    char to[32];
    nt_duration_format(a->timeout_us, to, sizeof to);
    subheading(t, "How it came to light");
    if (a->reported) {
        p_lit(t, "Reported: ");
        p_raw(t, a->reported);
        p_lit(t, ".");
    } else {
        p_lit(t, "Found in the capture by nettriage (no --reported text was given).");
    }
    p_flush(t, 0, 0);
    strbuf_putc(t->o, '\n');
    subheading(t, "What was done");
    if (a->actions) {
        p_lit(t, "By the team (as given with --actions): ");
        p_raw(t, a->actions);
        p_item(t, 2, "-");
    }
    p_printf(t,
             "%" PRIu64 " %s decoded; %" PRIu64 " DNS %s grouped into %" PRIu64 " %s: %" PRIu64
             " answered, %" PRIu64 " refused by an ICMP error, %" PRIu64
             " unanswered after the %s timeout, %" PRIu64 " cut off by the end of the capture.",
             s->packets, plural(s->packets, "packet", "packets"), s->dns_queries,
             plural(s->dns_queries, "query", "queries"), s->dns_lookups,
             plural(s->dns_lookups, "lookup", "lookups"), s->answered,
             s->dns_lookups - s->answered - s->unanswered - s->capture_ended, s->unanswered, to,
             s->capture_ended);
    p_item(t, 2, "-");
    p_printf(t, "%" PRIu64 " of %" PRIu64 " ICMP %s matched to a query.", s->icmp_matched,
             s->icmp_errors, plural(s->icmp_errors, "error", "errors"));
    p_item(t, 2, "-");
    if (s->lookups_from_quotes) {
        p_printf(t, "%" PRIu64 " further %s known only from the query an ICMP error quotes.",
                 s->lookups_from_quotes, plural(s->lookups_from_quotes, "lookup", "lookups"));
        p_item(t, 2, "-");
    }
    if (s->tcp_attempts) {
        p_printf(t,
                 "TCP: %" PRIu64 " connection %s: %" PRIu64 " established, %" PRIu64
                 " reset, %" PRIu64 " refused by an ICMP error, %" PRIu64 " unanswered, %" PRIu64
                 " cut off by the end of the capture.",
                 s->tcp_attempts, plural(s->tcp_attempts, "attempt", "attempts"),
                 s->tcp_established, s->tcp_reset, s->tcp_icmp, s->tcp_unanswered,
                 s->tcp_capture_ended);
        p_item(t, 2, "-");
    }
    if (s->lookups_evicted || s->lookups_key_evicted || s->tcp_evicted) {
        p_printf(t,
                 "Bound reached: %" PRIu64 " DNS lookups and %" PRIu64
                 " TCP attempts closed early (--max-lookups, --max-tcp, or one DNS id reused "
                 "past %d open lookups).",
                 s->lookups_evicted + s->lookups_key_evicted, s->tcp_evicted,
                 a->limits.lookups_per_key ? (int)a->limits.lookups_per_key : CORRELATE_KEY_MAX);
        p_item(t, 2, "-");
    }
    for (size_t i = 0; i < a->n_rule_limits; i++) {
        const struct detect_limit *l = &a->rule_limits[i];
        p_lit(t, "Bound reached: rule ");
        p_raw(t, l->rule);
        p_printf(t, " left out %" PRIu64 " (", l->count);
        p_raw(t, l->name);
        p_lit(t, "); its finding covers only what it kept.");
        p_item(t, 2, "-");
    }
    for (size_t i = 0; i < a->n_stage_limits; i++) {
        const struct detect_limit *l = &a->stage_limits[i];
        p_lit(t, "Bound reached: the ");
        p_raw(t, l->rule);
        p_printf(t, " stage left out %" PRIu64 " (", l->count);
        p_raw(t, l->name);
        p_lit(t, "; --bounds lists its bounds); what it left out is not in the report.");
        p_item(t, 2, "-");
    }
    if (s->clock_steps) {
        p_printf(t, "The capture's clock stepped %" PRIu64 " %s (merged or concatenated captures).",
                 s->clock_steps, plural(s->clock_steps, "time", "times"));
        p_item(t, 2, "-");
    }
    strbuf_putc(t->o, '\n');
}

static void render_inputs(struct tx *t, const struct analysis *a)
{
    subheading(t, "Inputs");
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        p_token(t, in->path ? in->path : "?");
        p_lit(t, ": ");
        p_raw(t, in->kind ? in->kind : "unreadable");
        if (in->linktype) {
            p_lit(t, ", ");
            p_raw(t, in->linktype);
        }
        if (in->gzip)
            p_lit(t, ", gzip-compressed");
        p_printf(t, ", %" PRIu64 " %s", in->packets, plural(in->packets, "packet", "packets"));
        if (in->has_time) {
            p_lit(t, ", ");
            p_time(t, &in->first_ts);
            p_lit(t, " to ");
            p_time(t, &in->last_ts);
        }
        if (in->bad_lines)
            p_printf(t, "; %" PRIu64 " %s could not be read", in->bad_lines,
                     plural(in->bad_lines, "line", "lines"));
        if (in->frag.fragments)
            p_printf(t, "; %" PRIu64 " IP %s, %" PRIu64 " %s reassembled", in->frag.fragments,
                     plural(in->frag.fragments, "fragment", "fragments"), in->frag.reassembled,
                     plural(in->frag.reassembled, "datagram", "datagrams"));
        if (anomaly_counts_any(&in->anomalies))
            p_printf(t, "; decoding anomalies in %" PRIu64 " %s (--format md lists them)",
                     in->anomalies.packets, plural(in->anomalies.packets, "packet", "packets"));
        p_lit(t, ".");
        p_item(t, 2, "-");
    }
    strbuf_putc(t->o, '\n');
}

static void render_detail(struct tx *t, const struct analysis *a)
{
    heading(t, "DETAIL");
    if (a->n_findings) {
        render_when(t, a);
        render_causes(t, a);
        render_steps(t, a);
    }
    render_done(t, a);
    if (a->unmatched_icmp) {
        p_printf(t, "ICMP errors about DNS traffic not in the capture: %" PRIu64,
                 a->unmatched_icmp);
        p_flush(t, 0, 0);
        render_examples(t, a, a->unmatched_examples, a->n_unmatched_examples);
        strbuf_putc(t->o, '\n');
    }
    if (a->icmp_not_taken) {
        p_printf(t, "ICMP errors not part of any finding: %" PRIu64 "%s", a->icmp_not_taken,
                 a->icmp_not_taken > a->n_not_taken_examples ? " (the first ones)" : "");
        p_flush(t, 0, 0);
        render_examples(t, a, a->not_taken_examples, a->n_not_taken_examples);
        strbuf_putc(t->o, '\n');
    }
    render_inputs(t, a);
    if (a->n_explain) {
        subheading(t, "The evidence explained");
        for (size_t i = 0; i < a->n_explain; i++) {
            const struct explain_line *l = &a->explain[i];
            p_raw(t, l->heading);
            p_lit(t, ":");
            p_flush(t, 0, 0);
            p_raw(t, l->text);
            strbuf_puts(t->o, "  ");
            p_flush(t, 2, 4);
            for (size_t k = 0; k < l->n_parts; k++) {
                p_token(t, l->parts[k].token);
                p_lit(t, " = ");
                p_raw(t, l->parts[k].meaning);
                p_item(t, 4, "-");
            }
        }
        strbuf_putc(t->o, '\n');
    }
}

void report_render_text(const struct analysis *a, struct strbuf *o, bool color)
{
    struct tx t = {.o = o, .color = color};
    strbuf_init(&t.p);
    sgr(&t, "1");
    if (a->n_findings) {
        strbuf_puts(o, "INCIDENT REPORT: ");
        p_raw(&t, a->findings[0]->title);
        p_flush(&t, 17, 2);
    } else {
        strbuf_puts(o, analysis_unread(a) ? "INCIDENT REPORT: no problem found in what was read\n"
                                          : "INCIDENT REPORT: no problem found\n");
    }
    sgr(&t, "0");
    p_printf(&t, "nettriage %s, %zu %s", a->version, a->n_inputs,
             plural(a->n_inputs, "input", "inputs"));
    if (a->has_time) {
        char d[32];
        nt_duration_format(nt_time_diff_us(&a->first_ts, &a->last_ts), d, sizeof d);
        p_lit(&t, ", ");
        p_time(&t, &a->first_ts);
        p_lit(&t, " to ");
        p_time(&t, &a->last_ts);
        p_printf(&t, " (%s)", d);
    }
    p_lit(&t, ".");
    char note[512];
    if (analysis_date_note(a, note, sizeof note)) {
        p_lit(&t, " ");
        p_lit(&t, note);
    }
    if (analysis_redact_note(a)) {
        p_lit(&t, " ");
        p_lit(&t, analysis_redact_note(a));
    }
    p_flush(&t, 0, 0);
    render_notices(&t, a);
    render_summary(&t, a);
    if (a->n_findings)
        render_findings(&t, a);
    render_detail(&t, a);
    const struct analysis_summary *s = &a->summary;
    subheading(&t, "Traffic");
    p_printf(&t,
             "%" PRIu64 " packets; DNS: %" PRIu64 " queries, %" PRIu64 " responses, %" PRIu64
             " lookups, %" PRIu64 " answered, %" PRIu64 " unanswered, %" PRIu64
             " cut off; ICMP errors: %" PRIu64 " (%" PRIu64 " matched); responses without a "
             "query: %" PRIu64 ".",
             s->packets, s->dns_queries, s->dns_responses, s->dns_lookups, s->answered,
             s->unanswered, s->capture_ended, s->icmp_errors, s->icmp_matched,
             s->unsolicited_responses);
    p_flush(&t, 0, 0);
    if (t.p.oom)
        o->oom = true;
    strbuf_fini(&t.p);
}
