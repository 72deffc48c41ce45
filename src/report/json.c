/* json.c: the report model as one pretty-printed JSON document (RFC 8259; docs/json-schema.md). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report/analysis.h"
#include "report/escape.h"

#define SCHEMA_ID "nettriage.report/1"

/* Deep enough for root > findings > finding > evidence > object > icmp > quoted, with room. */
#define MAX_DEPTH 16

/* A streaming writer that lays out like JSON.stringify(v, null, 2): each member or element on
 * its own line, empty containers as {} and [], ": " after keys. Callers write keys and values in
 * document order; the writer supplies commas, newlines and indentation. */
struct jw {
    struct strbuf *out;
    int depth;
    bool empty[MAX_DEPTH]; /* nothing written yet in the container at each depth */
    bool after_key;        /* the next value completes a member */
};

static void newline_indent(struct jw *w, int depth)
{
    strbuf_putc(w->out, '\n');
    for (int i = 0; i < depth; i++)
        strbuf_append(w->out, "  ", 2);
}

/* Separates a new element or member from the previous one in the current container. */
static void next_item(struct jw *w)
{
    if (w->depth == 0)
        return;
    if (!w->empty[w->depth])
        strbuf_putc(w->out, ',');
    w->empty[w->depth] = false;
    newline_indent(w, w->depth);
}

static void pre_value(struct jw *w)
{
    if (w->after_key)
        w->after_key = false;
    else
        next_item(w);
}

/* Keys are literals of this file, so they need no escaping. */
static void key(struct jw *w, const char *k)
{
    next_item(w);
    strbuf_putc(w->out, '"');
    strbuf_puts(w->out, k);
    strbuf_append(w->out, "\": ", 3);
    w->after_key = true;
}

static void open_c(struct jw *w, char c)
{
    pre_value(w);
    strbuf_putc(w->out, c);
    /* Past MAX_DEPTH the layout would go wrong, not memory: the depth is fixed by this file. */
    if (w->depth + 1 < MAX_DEPTH)
        w->depth++;
    w->empty[w->depth] = true;
}

static void close_c(struct jw *w, char c)
{
    if (!w->empty[w->depth])
        newline_indent(w, w->depth - 1);
    if (w->depth > 0)
        w->depth--;
    strbuf_putc(w->out, c);
}

static void obj_begin(struct jw *w)
{
    open_c(w, '{');
}

static void obj_end(struct jw *w)
{
    close_c(w, '}');
}

static void arr_begin(struct jw *w)
{
    open_c(w, '[');
}

static void arr_end(struct jw *w)
{
    close_c(w, ']');
}

static void val_null(struct jw *w)
{
    pre_value(w);
    strbuf_append(w->out, "null", 4);
}

static void val_bool(struct jw *w, bool v)
{
    pre_value(w);
    strbuf_puts(w->out, v ? "true" : "false");
}

static void val_u64(struct jw *w, uint64_t v)
{
    pre_value(w);
    strbuf_printf(w->out, "%" PRIu64, v);
}

/* A string, or null for NULL: every string goes through esc_json whatever its origin. */
static void val_str(struct jw *w, const char *s)
{
    if (!s) {
        val_null(w);
        return;
    }
    pre_value(w);
    strbuf_putc(w->out, '"');
    esc_json(w->out, s, strlen(s));
    strbuf_putc(w->out, '"');
}

/* Microseconds as seconds with up to six decimals, trailing zeros trimmed ("2", "0.25",
 * "-1.000001"), using integer arithmetic so neither the locale nor rounding can change it. */
static void val_seconds(struct jw *w, int64_t us)
{
    char buf[40];
    uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    uint64_t frac = mag % 1000000;
    int n = snprintf(buf, sizeof buf, "%s%" PRIu64, us < 0 ? "-" : "", mag / 1000000);
    if (frac != 0 && n > 0) {
        int digits = 6;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf + n, sizeof buf - (size_t)n, ".%0*" PRIu64, digits, frac);
    }
    pre_value(w);
    strbuf_puts(w->out, buf);
}

/* A timestamp as nt_time_format writes it, or null when there is none. */
static void val_time(struct jw *w, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    if (t->kind == NT_TIME_NONE) {
        val_null(w);
        return;
    }
    nt_time_format(t, buf, sizeof buf);
    val_str(w, buf);
}

/* An address, or null when none was recorded. Host names read from text may hold any byte. */
static void val_addr(struct jw *w, const struct nt_addr *x)
{
    char buf[NT_ADDR_FMT_MAX];
    if (x->family == NT_AF_NONE) {
        val_null(w);
        return;
    }
    nt_addr_format(x, buf, sizeof buf);
    val_str(w, buf);
}

static void kv_str(struct jw *w, const char *k, const char *v)
{
    key(w, k);
    val_str(w, v);
}

static void kv_u64(struct jw *w, const char *k, uint64_t v)
{
    key(w, k);
    val_u64(w, v);
}

static void kv_bool(struct jw *w, const char *k, bool v)
{
    key(w, k);
    val_bool(w, v);
}

static void kv_time(struct jw *w, const char *k, const struct nt_time *t)
{
    key(w, k);
    val_time(w, t);
}

static void kv_addr(struct jw *w, const char *k, const struct nt_addr *x)
{
    key(w, k);
    val_addr(w, x);
}

static void kv_str_array(struct jw *w, const char *k, char *const *v, size_t n)
{
    key(w, k);
    arr_begin(w);
    for (size_t i = 0; i < n; i++)
        val_str(w, v[i]);
    arr_end(w);
}

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17;
}

static void protocol_value(struct jw *w, uint8_t proto)
{
    if (proto == 17)
        val_str(w, "udp");
    else if (proto == 6)
        val_str(w, "tcp");
    else
        val_u64(w, proto);
}

static void dns_object(struct jw *w, const struct evidence *ev)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } flags[] = {
        {DNS_FLAG_AA, "aa"}, {DNS_FLAG_TC, "tc"}, {DNS_FLAG_RD, "rd"},
        {DNS_FLAG_RA, "ra"}, {DNS_FLAG_AD, "ad"}, {DNS_FLAG_CD, "cd"},
    };
    char buf[32];
    unsigned opcode = (ev->dns_flags >> 11) & 0xfu;

    key(w, "dns");
    obj_begin(w);
    kv_u64(w, "id", ev->dns_id);
    key(w, "qr");
    val_bool(w, (ev->dns_flags & DNS_FLAG_QR) != 0);
    /* Nearly every message is a standard query; the opcode is shown only when it is not. */
    if (opcode != 0)
        kv_u64(w, "opcode", opcode);
    kv_str(w, "rcode", dns_rcode_name(ev->rcode, buf, sizeof buf));
    key(w, "flags");
    arr_begin(w);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (ev->dns_flags & flags[i].bit)
            val_str(w, flags[i].name);
    arr_end(w);
    kv_str(w, "qname", ev->has_question ? ev->qname : NULL);
    kv_str(w, "qtype", ev->has_question ? dns_type_name(ev->qtype, buf, sizeof buf) : NULL);
    kv_u64(w, "length", ev->dns_len);
    obj_end(w);
}

/* Whether anything of the quoted datagram is known. A pcap quote is read whole or not at all
 * (quote_present), but tcpdump text without -v shows only part of it (the quoted destination,
 * protocol and destination port of a port unreachable), leaving quote_present false; the
 * evidence keeps no per-field flags, so a field counts as known when it was set. */
static bool quote_known(const struct evidence *ev)
{
    return ev->quote_present || ev->q_src.family != NT_AF_NONE || ev->q_dst.family != NT_AF_NONE ||
           ev->q_proto != 0 || ev->q_sport != 0 || ev->q_dport != 0 || ev->quote_has_dns;
}

static void icmp_object(struct jw *w, const struct evidence *ev)
{
    key(w, "icmp");
    obj_begin(w);
    kv_u64(w, "type", ev->icmp_type);
    kv_u64(w, "code", ev->icmp_code);
    kv_str(w, "kind", icmp_kind_name((enum icmp_kind)ev->icmp_kind));
    kv_str(w, "description", icmp_code_description(ev->ip_version, ev->icmp_type, ev->icmp_code));
    kv_u64(w, "length", ev->icmp_len);
    if (quote_known(ev)) {
        key(w, "quoted");
        obj_begin(w);
        kv_addr(w, "src", &ev->q_src);
        kv_addr(w, "dst", &ev->q_dst);
        key(w, "protocol");
        if (ev->quote_present || ev->q_proto != 0)
            protocol_value(w, ev->q_proto);
        else
            val_null(w);
        if (ev->quote_has_ports || ev->q_sport != 0)
            kv_u64(w, "src_port", ev->q_sport);
        if (ev->quote_has_ports || ev->q_dport != 0)
            kv_u64(w, "dst_port", ev->q_dport);
        if (ev->quote_has_dns)
            kv_u64(w, "dns_id", ev->q_dns_id);
        obj_end(w);
    }
    obj_end(w);
}

static void evidence_object(struct jw *w, const struct evidence *ev)
{
    obj_begin(w);
    kv_u64(w, "input", ev->input);
    kv_u64(w, "packet", ev->pkt);
    if (ev->from_text && ev->line_no > 0)
        kv_u64(w, "line", ev->line_no);
    kv_time(w, "time", &ev->ts);
    kv_str(w, "role", evidence_role_id(ev->role));
    kv_str(w, "text", ev->text);
    kv_addr(w, "src", &ev->src);
    kv_addr(w, "dst", &ev->dst);
    if (has_ports(ev->proto)) {
        kv_u64(w, "src_port", ev->sport);
        kv_u64(w, "dst_port", ev->dport);
    }
    if (ev->has_dns)
        dns_object(w, ev);
    if (ev->icmp_kind != ICMP_K_NONE)
        icmp_object(w, ev);
    obj_end(w);
}

static void input_object(struct jw *w, const struct analysis_input *in)
{
    bool text = in->kind && strcmp(in->kind, "tcpdump text") == 0;

    obj_begin(w);
    kv_str(w, "path", in->path);
    kv_str(w, "kind", in->kind);
    kv_str(w, "linktype", in->linktype);
    kv_u64(w, "packets", in->packets);
    if (in->has_time) {
        kv_time(w, "first_packet", &in->first_ts);
        kv_time(w, "last_packet", &in->last_ts);
    } else {
        key(w, "first_packet");
        val_null(w);
        key(w, "last_packet");
        val_null(w);
    }
    if (text)
        kv_u64(w, "lines", in->lines);
    kv_u64(w, "unreadable_lines", in->bad_lines);
    key(w, "first_unreadable_lines");
    arr_begin(w);
    size_t n = in->n_first_bad_lines < SOURCE_BAD_LINES_KEPT ? in->n_first_bad_lines
                                                             : SOURCE_BAD_LINES_KEPT;
    for (size_t i = 0; i < n; i++)
        val_u64(w, in->first_bad_lines[i]);
    arr_end(w);
    kv_u64(w, "unsupported_link_frames", in->unsupported_link);
    kv_bool(w, "gzip", in->gzip);
    kv_bool(w, "pcapng_fallback", in->pcapng_fallback);
    key(w, "fragments");
    obj_begin(w);
    kv_u64(w, "fragments", in->frag.fragments);
    kv_u64(w, "reassembled", in->frag.reassembled);
    kv_u64(w, "timed_out", in->frag.timed_out);
    kv_u64(w, "evicted", in->frag.evicted);
    kv_u64(w, "incomplete", in->frag.incomplete);
    kv_u64(w, "lost_fragments", in->frag.lost_fragments);
    kv_u64(w, "duplicates", in->frag.duplicates);
    kv_u64(w, "overlaps", in->frag.overlaps);
    kv_u64(w, "invalid", in->frag.invalid);
    kv_u64(w, "uncaptured", in->frag.uncaptured);
    kv_u64(w, "unlocated", in->frag_unlocated);
    obj_end(w);
    kv_str(w, "error", in->error);
    obj_end(w);
}

static void summary_object(struct jw *w, const struct analysis *a)
{
    const struct analysis_summary *s = &a->summary;

    key(w, "summary");
    obj_begin(w);
    kv_u64(w, "packets", s->packets);
    kv_u64(w, "dns_queries", s->dns_queries);
    kv_u64(w, "dns_responses", s->dns_responses);
    kv_u64(w, "dns_lookups", s->dns_lookups);
    kv_u64(w, "answered", s->answered);
    kv_u64(w, "icmp_errors", s->icmp_errors);
    kv_u64(w, "icmp_errors_matched", s->icmp_matched);
    kv_u64(w, "unanswered", s->unanswered);
    kv_u64(w, "capture_ended", s->capture_ended);
    kv_u64(w, "unsolicited_responses", s->unsolicited_responses);
    kv_u64(w, "tcp_attempts", s->tcp_attempts);
    kv_u64(w, "tcp_syn_packets", s->tcp_syn_packets);
    kv_u64(w, "tcp_established", s->tcp_established);
    kv_u64(w, "tcp_reset", s->tcp_reset);
    kv_u64(w, "tcp_icmp_errors", s->tcp_icmp);
    kv_u64(w, "tcp_unanswered", s->tcp_unanswered);
    kv_u64(w, "tcp_capture_ended", s->tcp_capture_ended);
    kv_u64(w, "mdns_messages", s->mdns_messages);
    kv_u64(w, "llmnr_messages", s->llmnr_messages);
    kv_u64(w, "nbns_packets", s->nbns_packets);
    kv_u64(w, "findings", a->n_findings);
    kv_u64(w, "findings_omitted", a->findings_omitted);
    kv_u64(w, "lookups_evicted", s->lookups_evicted);
    kv_u64(w, "tcp_evicted", s->tcp_evicted);
    kv_u64(w, "lookups_open_peak", s->lookups_open_peak);
    kv_u64(w, "clock_steps", s->clock_steps);
    key(w, "clock_steps_first");
    arr_begin(w);
    for (uint8_t i = 0; i < s->n_clock_steps_kept; i++) {
        const struct clock_step *cs = &s->clock_steps_kept[i];
        obj_begin(w);
        kv_u64(w, "input", cs->input);
        kv_u64(w, "packet", cs->pkt);
        kv_time(w, "from", &cs->from);
        kv_time(w, "to", &cs->to);
        obj_end(w);
    }
    arr_end(w);
    key(w, "limits");
    obj_begin(w);
    kv_u64(w, "max_lookups", a->limits.max_lookups);
    kv_u64(w, "max_tcp_attempts", a->limits.max_tcp_attempts);
    kv_u64(w, "answer_guard_us", (uint64_t)a->limits.answer_guard_us);
    obj_end(w);
    obj_end(w);
}

static void finding_object(struct jw *w, const struct finding *f)
{
    size_t n;

    obj_begin(w);
    kv_str(w, "id", f->id);
    kv_str(w, "severity", severity_name((enum severity)f->severity));
    key(w, "attack");
    if (f->attack_id) {
        obj_begin(w);
        kv_str(w, "id", f->attack_id);
        kv_str(w, "name", f->attack_name);
        obj_end(w);
    } else {
        val_null(w);
    }
    kv_str(w, "title", f->title);
    kv_str(w, "protocol", f->protocol);
    kv_u64(w, "port", f->port);
    kv_str(w, "service", f->service);
    key(w, "server");
    if (f->has_server)
        val_addr(w, &f->server);
    else
        val_null(w);

    /* Counts are clamped to the arrays' sizes so a corrupt count cannot read past them. */
    key(w, "clients");
    arr_begin(w);
    n = f->n_clients < FINDING_MAX_CLIENTS ? f->n_clients : FINDING_MAX_CLIENTS;
    for (size_t i = 0; i < n; i++)
        val_addr(w, &f->clients[i]);
    arr_end(w);
    kv_u64(w, "clients_omitted", f->clients_dropped);
    kv_str_array(w, "query_names", f->names,
                 f->n_names < FINDING_MAX_NAMES ? f->n_names : FINDING_MAX_NAMES);
    kv_u64(w, "query_names_omitted", f->names_dropped);

    kv_time(w, "first_seen", &f->first_seen);
    kv_time(w, "last_seen", &f->last_seen);
    kv_u64(w, "lookups", f->lookups);
    kv_u64(w, "packets", f->packets);
    kv_u64(w, "query_packets", f->query_packets);
    kv_u64(w, "error_packets", f->error_packets);
    kv_u64(w, "late_errors", f->late);

    /* The incident window (see finding.h): null times when the capture does not show them. */
    const struct incident_window *win = &f->window;
    static const struct nt_time none;
    key(w, "window");
    obj_begin(w);
    kv_time(w, "last_success_before", win->has_ok_before ? &win->ok_before : &none);
    kv_time(w, "first_failure", &f->first_seen);
    kv_time(w, "last_failure", &f->last_seen);
    kv_time(w, "first_success_after", win->has_ok_after ? &win->ok_after : &none);
    kv_u64(w, "successes_during", win->ok_during);
    kv_u64(w, "successes_total", win->ok_total);
    obj_end(w);

    kv_str(w, "summary", f->summary);
    kv_str_array(w, "facts", f->facts,
                 f->n_facts < FINDING_MAX_FACTS ? f->n_facts : FINDING_MAX_FACTS);

    key(w, "evidence");
    arr_begin(w);
    n = f->n_evidence < FINDING_MAX_EVIDENCE ? f->n_evidence : FINDING_MAX_EVIDENCE;
    for (size_t i = 0; i < n; i++)
        evidence_object(w, &f->evidence[i]);
    arr_end(w);
    kv_u64(w, "evidence_omitted", f->evidence_dropped);

    key(w, "causes");
    arr_begin(w);
    n = f->n_causes < FINDING_MAX_CAUSES ? f->n_causes : FINDING_MAX_CAUSES;
    for (size_t i = 0; i < n; i++) {
        const struct cause *c = &f->causes[i];
        obj_begin(w);
        kv_u64(w, "rank", i + 1);
        kv_str(w, "text", c->text);
        kv_str(w, "confidence", confidence_name((enum confidence)c->confidence));
        kv_str(w, "reason", c->reason);
        obj_end(w);
    }
    arr_end(w);
    kv_str_array(w, "next_steps", f->next_steps,
                 f->n_next_steps < FINDING_MAX_STEPS ? f->n_next_steps : FINDING_MAX_STEPS);
    obj_end(w);
}

static void explain_object(struct jw *w, const struct explain_line *e)
{
    obj_begin(w);
    kv_str(w, "heading", e->heading);
    kv_str(w, "text", e->text);
    key(w, "fields");
    arr_begin(w);
    for (size_t i = 0; i < e->n_parts; i++) {
        obj_begin(w);
        kv_str(w, "token", e->parts[i].token);
        kv_str(w, "meaning", e->parts[i].meaning);
        obj_end(w);
    }
    arr_end(w);
    obj_end(w);
}

void report_render_json(const struct analysis *a, struct strbuf *out)
{
    struct jw w = {.out = out, .depth = 0, .after_key = false};
    size_t n;

    obj_begin(&w);
    kv_str(&w, "schema", SCHEMA_ID);
    key(&w, "generator");
    obj_begin(&w);
    kv_str(&w, "name", "nettriage");
    kv_str(&w, "version", a->version);
    obj_end(&w);
    kv_str(&w, "reported", a->reported);
    key(&w, "timeout_s");
    val_seconds(&w, a->timeout_us);

    key(&w, "inputs");
    arr_begin(&w);
    for (size_t i = 0; i < a->n_inputs; i++)
        input_object(&w, &a->inputs[i]);
    arr_end(&w);

    key(&w, "time_span");
    if (a->has_time) {
        obj_begin(&w);
        kv_time(&w, "start", &a->first_ts);
        kv_time(&w, "end", &a->last_ts);
        key(&w, "duration_s");
        val_seconds(&w, nt_time_diff_us(&a->first_ts, &a->last_ts));
        obj_end(&w);
    } else {
        val_null(&w);
    }

    summary_object(&w, a);

    key(&w, "findings");
    arr_begin(&w);
    for (size_t i = 0; i < a->n_findings; i++)
        finding_object(&w, a->findings[i]);
    arr_end(&w);

    key(&w, "unmatched_icmp_errors");
    obj_begin(&w);
    kv_u64(&w, "count", a->unmatched_icmp);
    key(&w, "examples");
    arr_begin(&w);
    n = sizeof a->unmatched_examples / sizeof a->unmatched_examples[0];
    if (a->n_unmatched_examples < n)
        n = a->n_unmatched_examples;
    for (size_t i = 0; i < n; i++)
        evidence_object(&w, &a->unmatched_examples[i]);
    arr_end(&w);
    obj_end(&w);

    key(&w, "explanations");
    arr_begin(&w);
    for (size_t i = 0; i < a->n_explain; i++)
        explain_object(&w, &a->explain[i]);
    arr_end(&w);

    obj_end(&w);
    strbuf_putc(out, '\n');
}
