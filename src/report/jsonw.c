/* jsonw.c: the JSON writer shared by the JSON report and the NDJSON stream (RFC 8259), and the
 * members of the report model both write alike. */
#include "report/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "correlate/evidence.h"
#include "decode/anomaly.h"
#include "detect/finding.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "util/dnstext.h"

void jsonw_init(struct jsonw *w, struct strbuf *out, enum jsonw_layout layout)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = layout == JSONW_PRETTY;
    w->empty[0] = true;
}

static void newline_indent(struct jsonw *w, int depth)
{
    strbuf_putc(w->out, '\n');
    for (int i = 0; i < depth; i++)
        strbuf_append(w->out, "  ", 2);
}

/* Separates a new member or element from the previous one in the current container. The
 * document itself is one value: nothing goes before it. */
static void next_item(struct jsonw *w)
{
    if (w->depth == 0)
        return;
    if (!w->empty[w->depth])
        strbuf_putc(w->out, ',');
    w->empty[w->depth] = false;
    if (w->pretty)
        newline_indent(w, w->depth);
}

static void pre_value(struct jsonw *w)
{
    if (w->after_key)
        w->after_key = false;
    else
        next_item(w);
}

static void put_string(struct jsonw *w, const char *s, size_t n)
{
    strbuf_putc(w->out, '"');
    esc_json(w->out, s, n);
    strbuf_putc(w->out, '"');
}

void jsonw_key(struct jsonw *w, const char *k)
{
    next_item(w);
    put_string(w, k, strlen(k));
    if (w->pretty)
        strbuf_append(w->out, ": ", 2);
    else
        strbuf_putc(w->out, ':');
    w->after_key = true;
}

static void open_c(struct jsonw *w, char c)
{
    pre_value(w);
    strbuf_putc(w->out, c);
    if (w->depth + 1 < JSONW_MAX_DEPTH)
        w->depth++;
    else
        w->too_deep = true;
    w->empty[w->depth] = true;
}

static void close_c(struct jsonw *w, char c)
{
    if (w->pretty && !w->empty[w->depth])
        newline_indent(w, w->depth - 1);
    if (w->depth > 0)
        w->depth--;
    strbuf_putc(w->out, c);
}

void jsonw_obj_begin(struct jsonw *w)
{
    open_c(w, '{');
}

void jsonw_obj_end(struct jsonw *w)
{
    close_c(w, '}');
}

void jsonw_arr_begin(struct jsonw *w)
{
    open_c(w, '[');
}

void jsonw_arr_end(struct jsonw *w)
{
    close_c(w, ']');
}

void jsonw_null(struct jsonw *w)
{
    pre_value(w);
    strbuf_append(w->out, "null", 4);
}

void jsonw_bool(struct jsonw *w, bool v)
{
    pre_value(w);
    strbuf_puts(w->out, v ? "true" : "false");
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
    pre_value(w);
    strbuf_printf(w->out, "%" PRIu64, v);
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
    pre_value(w);
    strbuf_printf(w->out, "%" PRId64, v);
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
    if (!s) {
        jsonw_null(w);
        return;
    }
    pre_value(w);
    put_string(w, s, n);
}

void jsonw_str(struct jsonw *w, const char *s)
{
    jsonw_strn(w, s, s ? strlen(s) : 0);
}

void jsonw_dns_name(struct jsonw *w, const char *name)
{
    jsonw_strn(w, name, name ? nt_dns_name_len_nodot(name, strlen(name)) : 0);
}

void jsonw_query_name(struct jsonw *w, const char *qn)
{
    const char *sp = qn ? strrchr(qn, ' ') : NULL;
    if (!sp) {
        jsonw_dns_name(w, qn);
        return;
    }
    /* A name in presentation form holds no raw space (it is \032): the last space is the one
     * before the type. "(no question) A" has no trailing dot to take. */
    size_t n = (size_t)(sp - qn);
    pre_value(w);
    strbuf_putc(w->out, '"');
    esc_json(w->out, qn, nt_dns_name_len_nodot(qn, n));
    esc_json(w->out, sp, strlen(sp));
    strbuf_putc(w->out, '"');
}

void jsonw_decimal(struct jsonw *w, int64_t v, unsigned places)
{
    char buf[48];
    uint64_t scale = 1;
    if (places > 9)
        places = 9;
    for (unsigned i = 0; i < places; i++)
        scale *= 10;
    /* The magnitude in unsigned arithmetic, so INT64_MIN has one too. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t frac = mag % scale;
    int n = snprintf(buf, sizeof buf, "%s%" PRIu64, v < 0 ? "-" : "", mag / scale);
    if (frac != 0 && n > 0) {
        int digits = (int)places;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf + n, sizeof buf - (size_t)n, ".%0*" PRIu64, digits, frac);
    }
    pre_value(w);
    strbuf_puts(w->out, buf);
}

void jsonw_time(struct jsonw *w, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    if (t->kind == NT_TIME_NONE) {
        jsonw_null(w);
        return;
    }
    nt_time_format(t, buf, sizeof buf);
    jsonw_str(w, buf);
}

void jsonw_addr(struct jsonw *w, const struct nt_addr *a)
{
    char buf[NT_ADDR_FMT_MAX];
    if (a->family == NT_AF_NONE) {
        jsonw_null(w);
        return;
    }
    nt_addr_format(a, buf, sizeof buf);
    jsonw_str(w, buf);
}

void jsonw_protocol(struct jsonw *w, uint8_t proto)
{
    if (proto == 17)
        jsonw_str(w, "udp");
    else if (proto == 6)
        jsonw_str(w, "tcp");
    else
        jsonw_u64(w, proto);
}

void jsonw_kv_obj(struct jsonw *w, const char *k)
{
    jsonw_key(w, k);
    jsonw_obj_begin(w);
}

void jsonw_kv_arr(struct jsonw *w, const char *k)
{
    jsonw_key(w, k);
    jsonw_arr_begin(w);
}

void jsonw_kv_null(struct jsonw *w, const char *k)
{
    jsonw_key(w, k);
    jsonw_null(w);
}

void jsonw_kv_str(struct jsonw *w, const char *k, const char *v)
{
    jsonw_key(w, k);
    jsonw_str(w, v);
}

void jsonw_kv_u64(struct jsonw *w, const char *k, uint64_t v)
{
    jsonw_key(w, k);
    jsonw_u64(w, v);
}

void jsonw_kv_bool(struct jsonw *w, const char *k, bool v)
{
    jsonw_key(w, k);
    jsonw_bool(w, v);
}

void jsonw_kv_decimal(struct jsonw *w, const char *k, int64_t v, unsigned places)
{
    jsonw_key(w, k);
    jsonw_decimal(w, v, places);
}

void jsonw_kv_time(struct jsonw *w, const char *k, const struct nt_time *t)
{
    jsonw_key(w, k);
    jsonw_time(w, t);
}

void jsonw_kv_addr(struct jsonw *w, const char *k, const struct nt_addr *a)
{
    jsonw_key(w, k);
    jsonw_addr(w, a);
}

void jsonw_kv_str_array(struct jsonw *w, const char *k, char *const *v, size_t n)
{
    jsonw_kv_arr(w, k);
    for (size_t i = 0; i < n; i++)
        jsonw_str(w, v[i]);
    jsonw_arr_end(w);
}

/* ---- Members of the report model ---- */

/* Whether anything of the quoted datagram is known. A pcap quote is read whole or not at all
 * (quote_present), but tcpdump text without -v shows only part of it (the quoted destination,
 * protocol and destination port of a port unreachable), leaving quote_present false; the
 * evidence keeps no per-field flags, so a field counts as known when it was set. */
static bool quote_known(const struct evidence *ev)
{
    return ev->quote_present || ev->q_src.family != NT_AF_NONE || ev->q_dst.family != NT_AF_NONE ||
           ev->q_proto != 0 || ev->q_sport != 0 || ev->q_dport != 0 || ev->quote_has_dns;
}

void jsonw_quote(struct jsonw *w, const struct evidence *ev, const struct jsonw_quote_keys *k)
{
    if (!quote_known(ev))
        return;
    jsonw_kv_obj(w, k->object);
    jsonw_kv_addr(w, "src", &ev->q_src);
    jsonw_kv_addr(w, "dst", &ev->q_dst);
    jsonw_key(w, k->protocol);
    if (ev->quote_present || ev->q_proto != 0)
        jsonw_protocol(w, ev->q_proto);
    else
        jsonw_null(w);
    if (ev->quote_has_ports || ev->q_sport != 0)
        jsonw_kv_u64(w, k->src_port, ev->q_sport);
    if (ev->quote_has_ports || ev->q_dport != 0)
        jsonw_kv_u64(w, k->dst_port, ev->q_dport);
    if (ev->quote_has_dns)
        jsonw_kv_u64(w, "dns_id", ev->q_dns_id);
    jsonw_obj_end(w);
}

void jsonw_dns_flags(struct jsonw *w, const char *k, uint16_t flags, bool upper)
{
    static const struct {
        uint16_t bit;
        const char *lower, *upper;
    } names[] = {
        {DNS_FLAG_AA, "aa", "AA"}, {DNS_FLAG_TC, "tc", "TC"}, {DNS_FLAG_RD, "rd", "RD"},
        {DNS_FLAG_RA, "ra", "RA"}, {DNS_FLAG_AD, "ad", "AD"}, {DNS_FLAG_CD, "cd", "CD"},
    };
    jsonw_kv_arr(w, k);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit)
            jsonw_str(w, upper ? names[i].upper : names[i].lower);
    jsonw_arr_end(w);
}

void jsonw_clients_and_names(struct jsonw *w, const struct finding *f)
{
    /* Counts are clamped to the arrays' sizes so a corrupt count cannot read past them. */
    size_t n = f->n_clients < FINDING_MAX_CLIENTS ? f->n_clients : FINDING_MAX_CLIENTS;
    jsonw_kv_arr(w, "clients");
    for (size_t i = 0; i < n; i++)
        jsonw_addr(w, &f->clients[i]);
    jsonw_arr_end(w);
    jsonw_kv_u64(w, "clients_omitted", f->clients_dropped);
    if (f->clients_dropped_bound) /* past FINDING_DROPPED_EXACT: an upper bound */
        jsonw_kv_bool(w, "clients_omitted_exact", false);
    size_t nn = f->n_names < FINDING_MAX_NAMES ? f->n_names : FINDING_MAX_NAMES;
    jsonw_kv_arr(w, "query_names");
    for (size_t i = 0; i < nn; i++)
        jsonw_query_name(w, f->names[i]);
    jsonw_arr_end(w);
    jsonw_kv_u64(w, "query_names_omitted", f->names_dropped);
    if (f->names_dropped_bound) /* past FINDING_DROPPED_EXACT: an upper bound */
        jsonw_kv_bool(w, "query_names_omitted_exact", false);
}

void jsonw_finding_counts(struct jsonw *w, const struct finding *f)
{
    jsonw_kv_u64(w, "lookups", f->lookups);
    jsonw_kv_u64(w, "packets", f->packets);
    jsonw_kv_u64(w, "query_packets", f->query_packets);
    jsonw_kv_u64(w, "error_packets", f->error_packets);
    jsonw_kv_u64(w, "late_errors", f->late);
}

void jsonw_anomalies(struct jsonw *w, const struct anomaly_counts *c)
{
    if (!anomaly_counts_any(c))
        return;
    jsonw_kv_arr(w, "anomalies");
    for (size_t i = 0; i < NT_ANOMALY_COUNT; i++) {
        if (!c->n[i])
            continue;
        jsonw_obj_begin(w);
        jsonw_kv_str(w, "id", anomaly_id((enum nt_anomaly)i));
        jsonw_kv_u64(w, "count", c->n[i]);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_kv_u64(w, "packets_with_anomalies", c->packets);
    jsonw_kv_u64(w, "anomalies_omitted", c->dropped);
}

void jsonw_window(struct jsonw *w, const struct finding *f)
{
    static const struct nt_time none;
    const struct incident_window *win = &f->window;
    jsonw_kv_obj(w, "window");
    jsonw_kv_time(w, "last_success_before", win->has_ok_before ? &win->ok_before : &none);
    jsonw_kv_time(w, "first_failure", &f->first_seen);
    jsonw_kv_time(w, "last_failure", &f->last_seen);
    jsonw_kv_time(w, "first_success_after", win->has_ok_after ? &win->ok_after : &none);
    if (win->successes_unknown) { /* not kept (--bound detect.services): unknown, not 0 */
        jsonw_key(w, "successes_during");
        jsonw_null(w);
        jsonw_key(w, "successes_total");
        jsonw_null(w);
    } else {
        jsonw_kv_u64(w, "successes_during", win->ok_during);
        jsonw_kv_u64(w, "successes_total", win->ok_total);
    }
    /* Present only when the service's history summarised the times around the failures
     * (docs/json-schema.md): the values above are then bounds. */
    if (win->ok_before_bound)
        jsonw_kv_bool(w, "last_success_before_exact", false);
    if (win->ok_after_bound)
        jsonw_kv_bool(w, "first_success_after_exact", false);
    if (win->ok_during_max > win->ok_during)
        jsonw_kv_u64(w, "successes_during_max", win->ok_during_max);
    if (win->bound_width_s)
        jsonw_kv_u64(w, "history_bucket_seconds", (uint64_t)win->bound_width_s);
    jsonw_obj_end(w);
}

void jsonw_causes(struct jsonw *w, const struct finding *f)
{
    /* Clamped to the array's size so a corrupt count cannot read past it. */
    size_t n = f->n_causes < FINDING_MAX_CAUSES ? f->n_causes : FINDING_MAX_CAUSES;
    jsonw_kv_arr(w, "causes");
    for (size_t i = 0; i < n; i++) {
        const struct cause *c = &f->causes[i];
        jsonw_obj_begin(w);
        jsonw_kv_u64(w, "rank", i + 1);
        jsonw_kv_str(w, "text", c->text);
        jsonw_kv_str(w, "confidence", confidence_name((enum confidence)c->confidence));
        jsonw_kv_str(w, "reason", c->reason);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

void jsonw_dns_counts(struct jsonw *w, const struct analysis_summary *s)
{
    jsonw_kv_u64(w, "packets", s->packets);
    jsonw_kv_u64(w, "dns_queries", s->dns_queries);
    jsonw_kv_u64(w, "dns_responses", s->dns_responses);
    jsonw_kv_u64(w, "dns_lookups", s->dns_lookups);
    jsonw_kv_u64(w, "lookups_from_quotes", s->lookups_from_quotes);
    jsonw_kv_u64(w, "answered", s->answered);
    jsonw_kv_u64(w, "icmp_errors", s->icmp_errors);
    jsonw_kv_u64(w, "icmp_errors_matched", s->icmp_matched);
    jsonw_kv_u64(w, "unanswered", s->unanswered);
    jsonw_kv_u64(w, "capture_ended", s->capture_ended);
    jsonw_kv_u64(w, "unsolicited_responses", s->unsolicited_responses);
}

void jsonw_other_counts(struct jsonw *w, const struct analysis *a)
{
    const struct analysis_summary *s = &a->summary;
    jsonw_kv_u64(w, "tcp_attempts", s->tcp_attempts);
    jsonw_kv_u64(w, "tcp_syn_packets", s->tcp_syn_packets);
    jsonw_kv_u64(w, "tcp_established", s->tcp_established);
    jsonw_kv_u64(w, "tcp_reset", s->tcp_reset);
    jsonw_kv_u64(w, "tcp_icmp_errors", s->tcp_icmp);
    jsonw_kv_u64(w, "tcp_unanswered", s->tcp_unanswered);
    jsonw_kv_u64(w, "tcp_capture_ended", s->tcp_capture_ended);
    jsonw_kv_u64(w, "mdns_messages", s->mdns_messages);
    jsonw_kv_u64(w, "llmnr_messages", s->llmnr_messages);
    jsonw_kv_u64(w, "nbns_packets", s->nbns_packets);
    jsonw_kv_u64(w, "findings", a->n_findings);
    jsonw_kv_u64(w, "findings_omitted", a->findings_omitted);
    jsonw_kv_u64(w, "lookups_evicted", s->lookups_evicted);
    if (s->lookups_key_evicted) /* only when the bound was reached (added within /1) */
        jsonw_kv_u64(w, "lookups_key_evicted", s->lookups_key_evicted);
    jsonw_kv_u64(w, "tcp_evicted", s->tcp_evicted);
    jsonw_kv_u64(w, "lookups_open_peak", s->lookups_open_peak);
    jsonw_kv_u64(w, "clock_steps", s->clock_steps);
    jsonw_key(w, "rule_limits");
    jsonw_arr_begin(w);
    for (size_t i = 0; i < a->n_rule_limits; i++) {
        jsonw_obj_begin(w);
        jsonw_kv_str(w, "rule", a->rule_limits[i].rule);
        jsonw_kv_str(w, "counter", a->rule_limits[i].name);
        jsonw_kv_u64(w, "count", a->rule_limits[i].count);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    if (a->n_stage_limits) { /* only when a stage's bound left something out (added within /1) */
        jsonw_key(w, "stage_limits");
        jsonw_arr_begin(w);
        for (size_t i = 0; i < a->n_stage_limits; i++) {
            jsonw_obj_begin(w);
            jsonw_kv_str(w, "stage", a->stage_limits[i].rule);
            jsonw_kv_str(w, "counter", a->stage_limits[i].name);
            jsonw_kv_u64(w, "count", a->stage_limits[i].count);
            jsonw_obj_end(w);
        }
        jsonw_arr_end(w);
    }
}

void jsonw_limits(struct jsonw *w, const struct analysis_limits *l)
{
    jsonw_kv_u64(w, "max_lookups", l->max_lookups);
    jsonw_kv_u64(w, "max_tcp_attempts", l->max_tcp_attempts);
    jsonw_kv_u64(w, "answer_guard_us", (uint64_t)l->answer_guard_us);
}

void jsonw_capture_drops(struct jsonw *w, const struct analysis_summary *s)
{
    /* Only for live captures (docs/json-schema.md). */
    if (!s->has_capture_stats)
        return;
    jsonw_kv_obj(w, "capture_drops");
    jsonw_kv_u64(w, "received", s->cap_received);
    jsonw_kv_u64(w, "dropped", s->cap_dropped);
    jsonw_kv_u64(w, "if_dropped", s->cap_if_dropped);
    jsonw_obj_end(w);
}

void jsonw_one_sided(struct jsonw *w, const struct analysis_summary *s)
{
    /* Only when there are some (docs/json-schema.md). */
    if (!s->one_sided_hosts)
        return;
    jsonw_kv_u64(w, "one_sided_hosts", s->one_sided_hosts);
    jsonw_kv_arr(w, "one_sided_first");
    for (uint8_t i = 0; i < s->n_one_sided_kept; i++) {
        const struct one_sided_host *h = &s->one_sided[i];
        jsonw_obj_begin(w);
        jsonw_kv_addr(w, "host", &h->host);
        jsonw_kv_u64(w, "packets_sent", h->sent);
        jsonw_kv_u64(w, "tcp_synack_unseen", h->synack_unseen);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}
