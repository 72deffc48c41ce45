/* ndjson.c: the analysis as newline-delimited JSON events with Elastic Common Schema names
 * (docs/json-schema.md, "NDJSON"): one compact object per line for every DNS lookup and ICMP
 * error as the correlator makes it final, then one per finding, then a summary line. Nested
 * objects ({"source":{"ip":..}}), members in a fixed order, every string through esc_json:
 * the same input gives the same bytes. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"
#include "report/escape.h"

#define ECS_VERSION "8.11.0"

/* Deep enough for line > nettriage > icmp > quote, with room. */
#define ND_DEPTH 8

/* A compact writer: no white space; the caller writes keys and values in order and the writer
 * supplies the commas. */
struct nw {
    struct strbuf *out;
    int depth;
    bool first[ND_DEPTH]; /* nothing written yet in the container at each depth */
    bool after_key;       /* the next value completes a member */
};

static void sep(struct nw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        strbuf_putc(w->out, ',');
    w->first[w->depth] = false;
}

/* Keys are literals of this file ("@timestamp", "source", ...), so they need no escaping. */
static void key(struct nw *w, const char *k)
{
    sep(w);
    strbuf_putc(w->out, '"');
    strbuf_puts(w->out, k);
    strbuf_append(w->out, "\":", 2);
    w->after_key = true;
}

static void open_c(struct nw *w, char c)
{
    sep(w);
    strbuf_putc(w->out, c);
    /* The depth is fixed by this file; past ND_DEPTH only the commas could go wrong. */
    if (w->depth + 1 < ND_DEPTH)
        w->depth++;
    w->first[w->depth] = true;
}

static void close_c(struct nw *w, char c)
{
    if (w->depth > 0)
        w->depth--;
    strbuf_putc(w->out, c);
}

static void obj_begin(struct nw *w)
{
    open_c(w, '{');
}

static void obj_end(struct nw *w)
{
    close_c(w, '}');
}

static void arr_begin(struct nw *w)
{
    open_c(w, '[');
}

static void arr_end(struct nw *w)
{
    close_c(w, ']');
}

static void obj_key(struct nw *w, const char *k)
{
    key(w, k);
    obj_begin(w);
}

static void val_null(struct nw *w)
{
    sep(w);
    strbuf_append(w->out, "null", 4);
}

static void val_bool(struct nw *w, bool v)
{
    sep(w);
    strbuf_puts(w->out, v ? "true" : "false");
}

static void val_u64(struct nw *w, uint64_t v)
{
    sep(w);
    strbuf_printf(w->out, "%" PRIu64, v);
}

static void val_i64(struct nw *w, int64_t v)
{
    sep(w);
    strbuf_printf(w->out, "%" PRId64, v);
}

static void val_strn(struct nw *w, const char *s, size_t n)
{
    sep(w);
    strbuf_putc(w->out, '"');
    esc_json(w->out, s, n);
    strbuf_putc(w->out, '"');
}

/* A string, or null for NULL: every string goes through esc_json whatever its origin. */
static void val_str(struct nw *w, const char *s)
{
    if (!s)
        val_null(w);
    else
        val_strn(w, s, strlen(s));
}

/* Microseconds as milliseconds with up to three decimals, trailing zeros trimmed ("12",
 * "0.441", "-1.5"), by integer arithmetic so neither the locale nor rounding can change it. */
static void val_ms(struct nw *w, int64_t us)
{
    char buf[40];
    uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    uint64_t frac = mag % 1000;
    int n = snprintf(buf, sizeof buf, "%s%" PRIu64, us < 0 ? "-" : "", mag / 1000);
    if (frac != 0 && n > 0) {
        int digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf + n, sizeof buf - (size_t)n, ".%0*" PRIu64, digits, frac);
    }
    sep(w);
    strbuf_puts(w->out, buf);
}

static void kv_str(struct nw *w, const char *k, const char *v)
{
    key(w, k);
    val_str(w, v);
}

static void kv_u64(struct nw *w, const char *k, uint64_t v)
{
    key(w, k);
    val_u64(w, v);
}

static void kv_bool(struct nw *w, const char *k, bool v)
{
    key(w, k);
    val_bool(w, v);
}

static void kv_ms(struct nw *w, const char *k, int64_t us)
{
    key(w, k);
    val_ms(w, us);
}

/* ["v"]: ECS categorisation fields are arrays. */
static void kv_str1(struct nw *w, const char *k, const char *v)
{
    key(w, k);
    arr_begin(w);
    val_str(w, v);
    arr_end(w);
}

/* A time as the JSON report writes it (ISO 8601 UTC, a time of day, or "+S.UUUUUUs"), or null
 * when there is none. */
static void kv_time(struct nw *w, const char *k, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    key(w, k);
    if (t->kind == NT_TIME_NONE) {
        val_null(w);
        return;
    }
    nt_time_format(t, buf, sizeof buf);
    val_str(w, buf);
}

/* Writes k: the time in ISO 8601 UTC ("2026-11-21T13:24:32.192571Z") when its date is known;
 * nothing otherwise (a time of day or a relative time is not a date: ECS date fields would
 * reject it, so it stays in nettriage.time only). */
static void kv_date(struct nw *w, const char *k, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    if (t->kind != NT_TIME_ABSOLUTE)
        return;
    size_t n = nt_time_format(t, buf, sizeof buf);
    /* A year outside 0000-9999 (or one gmtime could not convert) is not ISO 8601's basic
     * form: only "YYYY-MM-DDTHH:MM:SS.UUUUUUZ" is written. */
    if (n != 27 || buf[4] != '-' || buf[26] != 'Z')
        return;
    kv_str(w, k, buf);
}

/* ECS endpoint ({"address":..,"ip":..,"port":..}): the address as read always; "ip" only for
 * an IP address (tcpdump text without -n shows host names, which an ip field would reject). */
static void endpoint(struct nw *w, const char *k, const struct nt_addr *a, bool has_port,
                     uint16_t port)
{
    char buf[NT_ADDR_FMT_MAX];
    if (a->family == NT_AF_NONE && !has_port)
        return;
    obj_key(w, k);
    if (a->family != NT_AF_NONE) {
        nt_addr_format(a, buf, sizeof buf);
        kv_str(w, "address", buf);
        if (a->family == NT_AF_INET || a->family == NT_AF_INET6)
            kv_str(w, "ip", buf);
    }
    if (has_port)
        kv_u64(w, "port", port);
    obj_end(w);
}

static const char *ip_type(const struct nt_addr *a)
{
    if (a->family == NT_AF_INET)
        return "ipv4";
    if (a->family == NT_AF_INET6)
        return "ipv6";
    return NULL;
}

static void ecs_object(struct nw *w)
{
    obj_key(w, "ecs");
    kv_str(w, "version", ECS_VERSION);
    obj_end(w);
}

/* The question name as ECS and Zeek write it: without the trailing dot of the root, except for
 * the root itself ("."). A final '.' that is escaped ("\.", part of a label) stays. */
static void val_qname(struct nw *w, const char *name)
{
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.') {
        size_t bs = 0;
        while (bs < n - 1 && name[n - 2 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            n--;
    }
    val_strn(w, name, n);
}

/* ECS dns.header_flags: the flag names set in a DNS header flags word. */
static void header_flags(struct nw *w, uint16_t flags)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {
        {DNS_FLAG_AA, "AA"}, {DNS_FLAG_TC, "TC"}, {DNS_FLAG_RD, "RD"},
        {DNS_FLAG_RA, "RA"}, {DNS_FLAG_AD, "AD"}, {DNS_FLAG_CD, "CD"},
    };
    key(w, "header_flags");
    arr_begin(w);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit)
            val_str(w, names[i].name);
    arr_end(w);
}

/* "success" for an answer other than SERVFAIL, REFUSED, NOTIMP and FORMERR (the detector's
 * notion of a working service, docs/architecture.md "Incident windows"), "failure" for those,
 * an ICMP error or silence past the timeout, "unknown" when the capture ended first. */
static const char *lookup_event_outcome(const struct dns_lookup *l)
{
    switch (l->outcome) {
    case LOOKUP_ANSWERED:
        switch (l->rcode) {
        case DNS_RCODE_SERVFAIL:
        case DNS_RCODE_REFUSED:
        case DNS_RCODE_NOTIMP:
        case DNS_RCODE_FORMERR:
            return "failure";
        default:
            return "success";
        }
    case LOOKUP_ICMP_ERROR:
    case LOOKUP_UNANSWERED:
        return "failure";
    default:
        return "unknown";
    }
}

static const char *transport_name(uint8_t proto)
{
    return proto == 6 ? "tcp" : proto == 17 ? "udp" : NULL;
}

void ndjson_lookup(struct strbuf *out, const struct dns_lookup *l)
{
    struct nw w = {.out = out, .first = {true}};
    char buf[32];
    bool answered = l->outcome == LOOKUP_ANSWERED;
    bool icmp = l->outcome == LOOKUP_ICMP_ERROR;
    const struct nt_time *end = answered ? &l->answer.ts : icmp ? &l->error.ts : NULL;

    obj_begin(&w);
    kv_date(&w, "@timestamp", &l->first_tx);
    ecs_object(&w);

    obj_key(&w, "event");
    kv_str(&w, "kind", "event");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "protocol");
    kv_str(&w, "outcome", lookup_event_outcome(l));
    kv_str(&w, "dataset", "nettriage.dns");
    kv_date(&w, "start", &l->first_tx);
    if (end)
        kv_date(&w, "end", end);
    if (answered || icmp) {
        /* ECS event.duration is in nanoseconds; elapsed_us is far below 2^63 / 1000. */
        key(&w, "duration");
        val_i64(&w, l->elapsed_us * 1000);
    }
    obj_end(&w);

    endpoint(&w, "source", &l->client, l->n_client_ports > 0, l->client_ports[0]);
    endpoint(&w, "destination", &l->server, true, l->server_port);

    obj_key(&w, "network");
    const char *t = ip_type(&l->server);
    if (t)
        kv_str(&w, "type", t);
    kv_str(&w, "transport", transport_name(l->transport));
    kv_str(&w, "protocol", "dns");
    obj_end(&w);

    obj_key(&w, "dns");
    kv_u64(&w, "id", l->id);
    kv_str(&w, "type", answered ? "answer" : "query");
    if (l->has_question && l->qname) {
        obj_key(&w, "question");
        key(&w, "name");
        val_qname(&w, l->qname);
        kv_str(&w, "type", dns_type_name(l->qtype, buf, sizeof buf));
        kv_str(&w, "class", dns_class_name(l->qclass, buf, sizeof buf));
        obj_end(&w);
    }
    if (answered)
        kv_str(&w, "response_code", dns_rcode_name(l->rcode, buf, sizeof buf));
    header_flags(&w, answered ? l->answer.dns_flags : l->query_flags);
    if (answered) {
        /* ECS dns.answers: the records the decoder kept (at most DNS_MAX_KEPT_RR; the
         * count of all is nettriage.answer_count), and dns.resolved_ip from A/AAAA. */
        key(&w, "answers");
        arr_begin(&w);
        for (uint8_t i = 0; i < l->answer.n_answers; i++) {
            const struct evidence_rr *a = &l->answer.answers[i];
            obj_begin(&w);
            key(&w, "name");
            val_qname(&w, a->name);
            kv_str(&w, "type", dns_type_name(a->type, buf, sizeof buf));
            kv_str(&w, "class", dns_class_name(a->rclass, buf, sizeof buf));
            kv_u64(&w, "ttl", a->ttl);
            kv_str(&w, "data", a->data);
            obj_end(&w);
        }
        arr_end(&w);
        key(&w, "resolved_ip");
        arr_begin(&w);
        for (uint8_t i = 0; i < l->answer.n_answers; i++)
            if (l->answer.answers[i].type == DNS_TYPE_A ||
                l->answer.answers[i].type == DNS_TYPE_AAAA)
                val_str(&w, l->answer.answers[i].data);
        arr_end(&w);
    }
    obj_end(&w);

    if (icmp) {
        obj_key(&w, "icmp");
        kv_u64(&w, "type", l->error.icmp_type);
        kv_u64(&w, "code", l->error.icmp_code);
        obj_end(&w);
    }

    obj_key(&w, "nettriage");
    kv_u64(&w, "lookup", l->seq);
    kv_time(&w, "time", &l->first_tx);
    kv_u64(&w, "input", l->input);
    kv_str(&w, "outcome", lookup_outcome_name((enum lookup_outcome)l->outcome));
    kv_u64(&w, "transmissions", l->transmissions);
    kv_u64(&w, "retransmissions", l->transmissions > 0 ? l->transmissions - 1 : 0);
    if (answered)
        kv_ms(&w, "rtt_ms", l->rtt_us);
    if (answered || icmp)
        kv_ms(&w, "elapsed_ms", l->elapsed_us);
    kv_bool(&w, "late", l->late);
    kv_u64(&w, "query_packet", l->query.pkt);
    if (answered)
        kv_u64(&w, "answer_packet", l->answer.pkt);
    if (l->n_errors > 0)
        kv_u64(&w, "error_packet", l->error.pkt);
    key(&w, "client_ports");
    arr_begin(&w);
    size_t np = l->n_client_ports < LOOKUP_PORTS_KEPT ? l->n_client_ports : LOOKUP_PORTS_KEPT;
    for (size_t i = 0; i < np; i++)
        val_u64(&w, l->client_ports[i]);
    arr_end(&w);
    kv_bool(&w, "client_ports_omitted", l->client_ports_overflow);
    if (answered) {
        kv_u64(&w, "answer_count", l->answer.ancount);
        kv_u64(&w, "duplicate_responses", l->extra_responses);
    }
    kv_u64(&w, "icmp_errors", l->n_errors);
    if (l->n_errors > 0) {
        kv_str(&w, "icmp_kind", icmp_kind_name((enum icmp_kind)l->icmp_kind));
        kv_str(&w, "icmp_sender", icmp_sender_name((enum icmp_sender)l->icmp_sender));
        kv_bool(&w, "matched_by_id", l->matched_by_id);
    }
    kv_u64(&w, "client_rejects", l->client_rejects);
    obj_end(&w);

    obj_end(&w);
    strbuf_putc(out, '\n');
}

/* Whether anything of the quoted datagram is known (as in json.c: tcpdump text without -v shows
 * part of it, and the evidence keeps no per-field flags, so a field counts when it was set). */
static bool quote_known(const struct evidence *ev)
{
    return ev->quote_present || ev->q_src.family != NT_AF_NONE || ev->q_dst.family != NT_AF_NONE ||
           ev->q_proto != 0 || ev->q_sport != 0 || ev->q_dport != 0 || ev->quote_has_dns;
}

static void kv_addr(struct nw *w, const char *k, const struct nt_addr *a)
{
    char buf[NT_ADDR_FMT_MAX];
    key(w, k);
    if (a->family == NT_AF_NONE) {
        val_null(w);
        return;
    }
    nt_addr_format(a, buf, sizeof buf);
    val_str(w, buf);
}

void ndjson_icmp_error(struct strbuf *out, const struct icmp_event *e)
{
    struct nw w = {.out = out, .first = {true}};
    const struct evidence *ev = e->ev;

    obj_begin(&w);
    kv_date(&w, "@timestamp", &ev->ts);
    ecs_object(&w);

    obj_key(&w, "event");
    kv_str(&w, "kind", "event");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    kv_str(&w, "outcome", "failure");
    kv_str(&w, "dataset", "nettriage.icmp");
    obj_end(&w);

    endpoint(&w, "source", &ev->src, false, 0);
    endpoint(&w, "destination", &ev->dst, false, 0);

    obj_key(&w, "network");
    const char *t = ip_type(&ev->src);
    if (t)
        kv_str(&w, "type", t);
    kv_str(&w, "transport", ev->ip_version == 6 ? "ipv6-icmp" : "icmp");
    obj_end(&w);

    obj_key(&w, "icmp");
    kv_u64(&w, "type", ev->icmp_type);
    kv_u64(&w, "code", ev->icmp_code);
    obj_end(&w);

    obj_key(&w, "nettriage");
    kv_time(&w, "time", &ev->ts);
    kv_u64(&w, "input", ev->input);
    kv_u64(&w, "packet", ev->pkt);
    if (ev->from_text && ev->line_no > 0)
        kv_u64(&w, "line", ev->line_no);
    obj_key(&w, "icmp");
    kv_str(&w, "kind", icmp_kind_name((enum icmp_kind)e->kind));
    kv_str(&w, "description", icmp_code_description(ev->ip_version, ev->icmp_type, ev->icmp_code));
    kv_str(&w, "sender", icmp_sender_name((enum icmp_sender)e->sender));
    kv_bool(&w, "about_dns", e->about_dns);
    kv_bool(&w, "quotes_response", e->quotes_response);
    kv_bool(&w, "matched", e->lookup != NULL || e->attempt != NULL);
    if (e->lookup)
        kv_u64(&w, "lookup", e->lookup->seq);
    if (e->attempt)
        kv_u64(&w, "tcp_attempt", e->attempt->seq);
    if (ev->icmp_mtu)
        kv_u64(&w, "mtu", ev->icmp_mtu);
    if (quote_known(ev)) {
        obj_key(&w, "quote");
        kv_addr(&w, "src", &ev->q_src);
        kv_addr(&w, "dst", &ev->q_dst);
        key(&w, "proto");
        if (ev->quote_present || ev->q_proto != 0) {
            const char *tn = transport_name(ev->q_proto);
            if (tn)
                val_str(&w, tn);
            else
                val_u64(&w, ev->q_proto);
        } else {
            val_null(&w);
        }
        if (ev->quote_has_ports || ev->q_sport != 0)
            kv_u64(&w, "sport", ev->q_sport);
        if (ev->quote_has_ports || ev->q_dport != 0)
            kv_u64(&w, "dport", ev->q_dport);
        if (ev->quote_has_dns)
            kv_u64(&w, "dns_id", ev->q_dns_id);
        obj_end(&w);
    }
    obj_end(&w);
    obj_end(&w);

    obj_end(&w);
    strbuf_putc(out, '\n');
}

/* ECS network.protocol from the finding's service: its first word in lower case ("DNS over
 * TCP" -> "dns", "HTTPS" -> "https"); NULL when that word is not plain letters and digits. */
static bool service_protocol(const char *service, char *buf, size_t n)
{
    size_t i = 0;
    if (!service)
        return false;
    for (; service[i] && service[i] != ' '; i++) {
        char c = service[i];
        if (i + 1 >= n ||
            !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
        buf[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    buf[i] = '\0';
    return i > 0;
}

/* ECS threat: an id "T1499.002" is a sub-technique of T1499; its name "Endpoint Denial of
 * Service: Service Exhaustion Flood" is ATT&CK's "technique: sub-technique". */
static void threat_object(struct nw *w, const char *id, const char *name)
{
    const char *dot = strchr(id, '.');
    const char *colon = name ? strstr(name, ": ") : NULL;
    size_t id_len = dot ? (size_t)(dot - id) : strlen(id);
    size_t name_len = name ? (colon ? (size_t)(colon - name) : strlen(name)) : 0;

    obj_key(w, "threat");
    kv_str(w, "framework", "MITRE ATT&CK");
    obj_key(w, "technique");
    key(w, "id");
    arr_begin(w);
    val_strn(w, id, id_len);
    arr_end(w);
    if (name) {
        key(w, "name");
        arr_begin(w);
        val_strn(w, name, name_len);
        arr_end(w);
    }
    if (dot) {
        obj_key(w, "subtechnique");
        kv_str1(w, "id", id);
        if (name)
            kv_str1(w, "name", colon ? colon + 2 : name);
        obj_end(w);
    }
    obj_end(w);
    obj_end(w);
}

static void kv_str_array(struct nw *w, const char *k, char *const *v, size_t n)
{
    key(w, k);
    arr_begin(w);
    for (size_t i = 0; i < n; i++)
        val_str(w, v[i]);
    arr_end(w);
}

void ndjson_finding(struct strbuf *out, const struct finding *f)
{
    struct nw w = {.out = out, .first = {true}};
    char proto[16];
    size_t n;

    obj_begin(&w);
    kv_date(&w, "@timestamp", &f->first_seen);
    ecs_object(&w);
    kv_str(&w, "message", f->summary);

    obj_key(&w, "event");
    kv_str(&w, "kind", "alert");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    kv_str(&w, "dataset", "nettriage.finding");
    kv_u64(&w, "severity", f->severity);
    kv_date(&w, "start", &f->first_seen);
    kv_date(&w, "end", &f->last_seen);
    obj_end(&w);

    obj_key(&w, "rule");
    kv_str(&w, "id", f->id);
    kv_str(&w, "name", f->title);
    kv_str(&w, "ruleset", "nettriage");
    obj_end(&w);

    if (f->attack_id)
        threat_object(&w, f->attack_id, f->attack_name);

    if (f->has_server)
        endpoint(&w, "destination", &f->server, f->port != 0, f->port);
    bool has_proto = service_protocol(f->service, proto, sizeof proto);
    if (f->protocol || has_proto) {
        obj_key(&w, "network");
        if (f->has_server && ip_type(&f->server))
            kv_str(&w, "type", ip_type(&f->server));
        if (f->protocol)
            kv_str(&w, "transport", f->protocol);
        if (has_proto)
            kv_str(&w, "protocol", proto);
        obj_end(&w);
    }

    obj_key(&w, "nettriage");
    kv_time(&w, "time", &f->first_seen);
    kv_time(&w, "last_time", &f->last_seen);
    kv_str(&w, "severity", severity_name((enum severity)f->severity));
    kv_str(&w, "service", f->service);
    kv_u64(&w, "lookups", f->lookups);
    kv_u64(&w, "packets", f->packets);
    kv_u64(&w, "query_packets", f->query_packets);
    kv_u64(&w, "error_packets", f->error_packets);
    kv_u64(&w, "late_errors", f->late);
    /* Counts are clamped to the arrays' sizes so a corrupt count cannot read past them. */
    key(&w, "clients");
    arr_begin(&w);
    n = f->n_clients < FINDING_MAX_CLIENTS ? f->n_clients : FINDING_MAX_CLIENTS;
    for (size_t i = 0; i < n; i++) {
        char buf[NT_ADDR_FMT_MAX];
        nt_addr_format(&f->clients[i], buf, sizeof buf);
        val_str(&w, buf);
    }
    arr_end(&w);
    kv_u64(&w, "clients_omitted", f->clients_dropped);
    kv_str_array(&w, "query_names", f->names,
                 f->n_names < FINDING_MAX_NAMES ? f->n_names : FINDING_MAX_NAMES);
    kv_u64(&w, "query_names_omitted", f->names_dropped);

    const struct incident_window *win = &f->window;
    static const struct nt_time none;
    obj_key(&w, "window");
    kv_time(&w, "last_success_before", win->has_ok_before ? &win->ok_before : &none);
    kv_time(&w, "first_failure", &f->first_seen);
    kv_time(&w, "last_failure", &f->last_seen);
    kv_time(&w, "first_success_after", win->has_ok_after ? &win->ok_after : &none);
    kv_u64(&w, "successes_during", win->ok_during);
    kv_u64(&w, "successes_total", win->ok_total);
    obj_end(&w);

    kv_str_array(&w, "facts", f->facts,
                 f->n_facts < FINDING_MAX_FACTS ? f->n_facts : FINDING_MAX_FACTS);
    key(&w, "causes");
    arr_begin(&w);
    n = f->n_causes < FINDING_MAX_CAUSES ? f->n_causes : FINDING_MAX_CAUSES;
    for (size_t i = 0; i < n; i++) {
        const struct cause *c = &f->causes[i];
        obj_begin(&w);
        kv_u64(&w, "rank", i + 1);
        kv_str(&w, "text", c->text);
        kv_str(&w, "confidence", confidence_name((enum confidence)c->confidence));
        kv_str(&w, "reason", c->reason);
        obj_end(&w);
    }
    arr_end(&w);
    kv_str_array(&w, "next_steps", f->next_steps,
                 f->n_next_steps < FINDING_MAX_STEPS ? f->n_next_steps : FINDING_MAX_STEPS);
    key(&w, "evidence");
    arr_begin(&w);
    n = f->n_evidence < FINDING_MAX_EVIDENCE ? f->n_evidence : FINDING_MAX_EVIDENCE;
    for (size_t i = 0; i < n; i++) {
        const struct evidence *ev = &f->evidence[i];
        obj_begin(&w);
        kv_u64(&w, "input", ev->input);
        kv_u64(&w, "packet", ev->pkt);
        kv_str(&w, "role", evidence_role_id(ev->role));
        obj_end(&w);
    }
    arr_end(&w);
    kv_u64(&w, "evidence_omitted", f->evidence_dropped);
    obj_end(&w);

    obj_end(&w);
    strbuf_putc(out, '\n');
}

void ndjson_summary(struct strbuf *out, const struct analysis *a)
{
    struct nw w = {.out = out, .first = {true}};
    const struct analysis_summary *s = &a->summary;
    static const struct nt_time none;

    obj_begin(&w);
    if (a->has_time)
        kv_date(&w, "@timestamp", &a->last_ts);
    ecs_object(&w);

    obj_key(&w, "event");
    kv_str(&w, "kind", "metric");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    kv_str(&w, "dataset", "nettriage.summary");
    if (a->has_time) {
        kv_date(&w, "start", &a->first_ts);
        kv_date(&w, "end", &a->last_ts);
    }
    obj_end(&w);

    obj_key(&w, "nettriage");
    kv_str(&w, "version", a->version);
    kv_str(&w, "reported", a->reported);
    kv_ms(&w, "timeout_ms", a->timeout_us);
    kv_time(&w, "time", a->has_time ? &a->first_ts : &none);
    kv_time(&w, "last_time", a->has_time ? &a->last_ts : &none);
    key(&w, "inputs");
    arr_begin(&w);
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        obj_begin(&w);
        kv_u64(&w, "input", i);
        kv_str(&w, "path", in->path);
        kv_str(&w, "kind", in->kind);
        kv_str(&w, "linktype", in->linktype);
        kv_u64(&w, "packets", in->packets);
        kv_u64(&w, "unreadable_lines", in->bad_lines);
        kv_u64(&w, "unsupported_link_frames", in->unsupported_link);
        kv_str(&w, "error", in->error);
        obj_end(&w);
    }
    arr_end(&w);
    obj_key(&w, "summary");
    kv_u64(&w, "packets", s->packets);
    kv_u64(&w, "dns_queries", s->dns_queries);
    kv_u64(&w, "dns_responses", s->dns_responses);
    kv_u64(&w, "dns_lookups", s->dns_lookups);
    kv_u64(&w, "answered", s->answered);
    kv_u64(&w, "icmp_errors", s->icmp_errors);
    kv_u64(&w, "icmp_errors_matched", s->icmp_matched);
    kv_u64(&w, "unanswered", s->unanswered);
    kv_u64(&w, "capture_ended", s->capture_ended);
    kv_u64(&w, "unsolicited_responses", s->unsolicited_responses);
    kv_u64(&w, "unmatched_dns_icmp_errors", a->unmatched_icmp);
    kv_u64(&w, "tcp_attempts", s->tcp_attempts);
    kv_u64(&w, "tcp_syn_packets", s->tcp_syn_packets);
    kv_u64(&w, "tcp_established", s->tcp_established);
    kv_u64(&w, "tcp_reset", s->tcp_reset);
    kv_u64(&w, "tcp_icmp_errors", s->tcp_icmp);
    kv_u64(&w, "tcp_unanswered", s->tcp_unanswered);
    kv_u64(&w, "tcp_capture_ended", s->tcp_capture_ended);
    kv_u64(&w, "mdns_messages", s->mdns_messages);
    kv_u64(&w, "llmnr_messages", s->llmnr_messages);
    kv_u64(&w, "nbns_packets", s->nbns_packets);
    kv_u64(&w, "findings", a->n_findings);
    kv_u64(&w, "findings_omitted", a->findings_omitted);
    kv_u64(&w, "lookups_evicted", s->lookups_evicted);
    kv_u64(&w, "tcp_evicted", s->tcp_evicted);
    kv_u64(&w, "lookups_open_peak", s->lookups_open_peak);
    kv_u64(&w, "clock_steps", s->clock_steps);
    kv_u64(&w, "max_lookups", a->limits.max_lookups);
    kv_u64(&w, "max_tcp_attempts", a->limits.max_tcp_attempts);
    kv_u64(&w, "answer_guard_us", (uint64_t)a->limits.answer_guard_us);
    obj_end(&w);
    obj_end(&w);

    obj_end(&w);
    strbuf_putc(out, '\n');
}

void report_render_ndjson(const struct analysis *a, struct strbuf *out)
{
    for (size_t i = 0; i < a->n_findings; i++)
        ndjson_finding(out, a->findings[i]);
    ndjson_summary(out, a);
}
