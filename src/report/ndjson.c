/* ndjson.c: the analysis as newline-delimited JSON events with Elastic Common Schema names
 * (docs/json-schema.md, "NDJSON"): one compact object per line for every DNS lookup and ICMP
 * error as the correlator makes it final, then one per finding, then a summary line. Nested
 * objects ({"source":{"ip":..}}), members in a fixed order, written by the compact JSON writer
 * (jsonw.h, every string through esc_json): the same input gives the same bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/alert.h"
#include "report/analysis.h"
#include "report/jsonw.h"
#include "util/dnstext.h"
#include "report/observer.h"

#define ECS_VERSION "8.11.0"

/* ["v"]: ECS categorisation fields are arrays. */
static void kv_str1(struct jsonw *w, const char *k, const char *v)
{
    jsonw_kv_arr(w, k);
    jsonw_str(w, v);
    jsonw_arr_end(w);
}

/* Writes k: the time in ISO 8601 UTC ("2026-11-21T13:24:32.192571Z") when its date is known;
 * nothing otherwise (a time of day or a relative time is not a date: ECS date fields would
 * reject it, so it stays in nettriage.time only). */
static void kv_date(struct jsonw *w, const char *k, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    if (t->kind != NT_TIME_ABSOLUTE)
        return;
    size_t n = nt_time_format(t, buf, sizeof buf);
    /* A year outside 0000-9999 (or one gmtime could not convert) is not ISO 8601's basic
     * form: only "YYYY-MM-DDTHH:MM:SS.UUUUUUZ" is written. */
    if (buf[4] != '-' || !((n == 27 && buf[26] == 'Z') ||
                           (n == 32 && (buf[26] == '+' || buf[26] == '-') && buf[29] == ':')))
        return;
    jsonw_kv_str(w, k, buf);
}

/* ECS endpoint ({"address":..,"ip":..,"port":..}): the address as read always; "ip" only for
 * an IP address (tcpdump text without -n shows host names, which an ip field would reject). */
static void endpoint(struct jsonw *w, const char *k, const struct nt_addr *a, bool has_port,
                     uint16_t port)
{
    char buf[NT_ADDR_FMT_MAX];
    if (a->family == NT_AF_NONE && !has_port)
        return;
    jsonw_kv_obj(w, k);
    if (a->family != NT_AF_NONE) {
        nt_addr_format(a, buf, sizeof buf);
        jsonw_kv_str(w, "address", buf);
        if (a->family == NT_AF_INET || a->family == NT_AF_INET6)
            jsonw_kv_str(w, "ip", buf);
    }
    if (has_port)
        jsonw_kv_u64(w, "port", port);
    jsonw_obj_end(w);
}

static const char *ip_type(const struct nt_addr *a)
{
    if (a->family == NT_AF_INET)
        return "ipv4";
    if (a->family == NT_AF_INET6)
        return "ipv6";
    return NULL;
}

static void ecs_object(struct jsonw *w)
{
    jsonw_kv_obj(w, "ecs");
    jsonw_kv_str(w, "version", ECS_VERSION);
    jsonw_obj_end(w);
}

/* ECS related.ip (every IP address of the event, once, in the order first met) and
 * related.hosts (the DNS names of the event, and host names tcpdump text showed in place of
 * addresses), for "every event involving this address or name" searches. */
#define RELATED_MAX_IP    (FINDING_MAX_CLIENTS + 2 * DNS_MAX_KEPT_RR + 8)
#define RELATED_MAX_HOSTS (FINDING_MAX_NAMES + DNS_MAX_KEPT_RR + 8)
struct related {
    struct nt_addr ip[RELATED_MAX_IP]; /* NT_AF_INET, NT_AF_INET6 */
    size_t n_ip;
    const char *host[RELATED_MAX_HOSTS]; /* names in presentation form, or interned host names */
    size_t host_len[RELATED_MAX_HOSTS];
    size_t n_host;
};

static void related_host(struct related *r, const char *s, size_t n)
{
    for (size_t i = 0; i < r->n_host; i++)
        if (r->host_len[i] == n && memcmp(r->host[i], s, n) == 0)
            return;
    if (r->n_host < RELATED_MAX_HOSTS) {
        r->host[r->n_host] = s;
        r->host_len[r->n_host++] = n;
    }
}

static void related_addr(struct related *r, const struct nt_addr *a)
{
    if (a->family == NT_AF_NAME) {
        const char *name = nt_addr_name(a);
        if (name)
            related_host(r, name, strlen(name));
        return;
    }
    if (a->family != NT_AF_INET && a->family != NT_AF_INET6)
        return;
    for (size_t i = 0; i < r->n_ip; i++)
        if (nt_addr_eq(&r->ip[i], a))
            return;
    if (r->n_ip < RELATED_MAX_IP)
        r->ip[r->n_ip++] = *a;
}

/* A DNS name without the root's trailing dot, as dns.question.name; not the root itself. */
static void related_name(struct related *r, const char *name)
{
    if (!name || strcmp(name, ".") == 0)
        return;
    related_host(r, name, nt_dns_name_len_nodot(name, strlen(name)));
}

/* The address in A/AAAA record data ("198.51.100.7"): false when the data is no IP address. */
static bool rr_ip(const struct evidence_rr *rr, struct nt_addr *a)
{
    char buf[DNS_RR_ADDR_TEXT_MAX];
    const char *data = evidence_rr_data(rr, buf);
    return (rr->type == DNS_TYPE_A || rr->type == DNS_TYPE_AAAA) && data &&
           nt_addr_parse(a, data, strlen(data));
}

static void related_object(struct jsonw *w, const struct related *r)
{
    char buf[NT_ADDR_FMT_MAX];
    if (r->n_ip == 0 && r->n_host == 0)
        return;
    jsonw_kv_obj(w, "related");
    if (r->n_ip > 0) {
        jsonw_kv_arr(w, "ip");
        for (size_t i = 0; i < r->n_ip; i++) {
            nt_addr_format(&r->ip[i], buf, sizeof buf);
            jsonw_str(w, buf);
        }
        jsonw_arr_end(w);
    }
    if (r->n_host > 0) {
        jsonw_kv_arr(w, "hosts");
        for (size_t i = 0; i < r->n_host; i++)
            jsonw_strn(w, r->host[i], r->host_len[i]);
        jsonw_arr_end(w);
    }
    jsonw_obj_end(w);
}

/* Packetbeat's icmp fields (ECS has no icmp field set): an ICMP error answers the datagram it
 * quotes, so it is the response ("icmp.response"); the request was UDP or TCP, not ICMP, and
 * is described by nettriage.icmp.quote. */
static void icmp_object(struct jsonw *w, uint8_t ip_version, uint8_t type, uint8_t code)
{
    jsonw_kv_obj(w, "icmp");
    jsonw_kv_u64(w, "version", ip_version == 6 ? 6 : 4);
    jsonw_kv_obj(w, "response");
    jsonw_kv_u64(w, "type", type);
    jsonw_kv_u64(w, "code", code);
    jsonw_kv_str(w, "message", icmp_code_description(ip_version, type, code));
    jsonw_obj_end(w);
    jsonw_obj_end(w);
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
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    char buf[32];
    bool answered = l->outcome == LOOKUP_ANSWERED;
    bool icmp = l->outcome == LOOKUP_ICMP_ERROR;
    const struct nt_time *end = answered ? &l->answer.ts : icmp ? &l->error.ts : NULL;

    jsonw_obj_begin(&w);
    kv_date(&w, "@timestamp", &l->first_tx);
    ecs_object(&w);

    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "event");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "protocol");
    jsonw_kv_str(&w, "outcome", lookup_event_outcome(l));
    jsonw_kv_str(&w, "dataset", "nettriage.dns");
    kv_date(&w, "start", &l->first_tx);
    if (end)
        kv_date(&w, "end", end);
    if ((answered || icmp) && !l->from_quote) {
        /* ECS event.duration is in nanoseconds; elapsed_us is far below 2^63 / 1000. */
        jsonw_key(&w, "duration");
        jsonw_i64(&w, l->elapsed_us * 1000);
    }
    jsonw_obj_end(&w);

    endpoint(&w, "source", &l->client, l->n_client_ports > 0, l->client_ports[0]);
    endpoint(&w, "destination", &l->server, true, l->server_port);

    jsonw_kv_obj(&w, "network");
    const char *t = ip_type(&l->server);
    if (t)
        jsonw_kv_str(&w, "type", t);
    jsonw_kv_str(&w, "transport", transport_name(l->transport));
    jsonw_kv_str(&w, "protocol", "dns");
    jsonw_obj_end(&w);

    jsonw_kv_obj(&w, "dns");
    if (!l->id_unknown || answered)
        jsonw_kv_u64(&w, "id", l->id);
    jsonw_kv_str(&w, "type", answered ? "answer" : "query");
    if (l->has_question && l->qname) {
        jsonw_kv_obj(&w, "question");
        jsonw_key(&w, "name");
        jsonw_dns_name(&w, l->qname);
        jsonw_kv_str(&w, "type", dns_type_name(l->qtype, buf, sizeof buf));
        jsonw_kv_str(&w, "class", dns_class_name(l->qclass, buf, sizeof buf));
        jsonw_obj_end(&w);
    }
    if (answered)
        jsonw_kv_str(&w, "response_code", dns_rcode_name(l->rcode, buf, sizeof buf));
    /* ECS dns.header_flags */
    if (answered || !l->id_unknown)
        jsonw_dns_flags(&w, "header_flags", answered ? l->answer.dns_flags : l->query_flags, true);
    if (answered) {
        /* ECS dns.answers: the records the decoder kept (at most DNS_MAX_KEPT_RR; the
         * count of all is nettriage.answer_count), and dns.resolved_ip from A/AAAA. */
        jsonw_kv_arr(&w, "answers");
        for (uint8_t i = 0; i < l->answer.n_answers; i++) {
            const struct evidence_rr *a = &l->answer.answers[i];
            jsonw_obj_begin(&w);
            jsonw_key(&w, "name");
            jsonw_dns_name(&w, a->name);
            jsonw_kv_str(&w, "type", dns_type_name(a->type, buf, sizeof buf));
            jsonw_kv_str(&w, "class", dns_class_name(a->rclass, buf, sizeof buf));
            jsonw_kv_u64(&w, "ttl", a->ttl);
            char data[DNS_RR_ADDR_TEXT_MAX];
            jsonw_kv_str(&w, "data", evidence_rr_data(a, data));
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
        /* Only data that is an IP address: an ECS ip field rejects anything else. */
        jsonw_kv_arr(&w, "resolved_ip");
        for (uint8_t i = 0; i < l->answer.n_answers; i++) {
            struct nt_addr ip;
            char data[DNS_RR_ADDR_TEXT_MAX];
            if (rr_ip(&l->answer.answers[i], &ip))
                jsonw_str(&w, evidence_rr_data(&l->answer.answers[i], data));
        }
        jsonw_arr_end(&w);
    }
    jsonw_obj_end(&w);

    if (icmp)
        icmp_object(&w, l->error.ip_version, l->error.icmp_type, l->error.icmp_code);

    struct related rel;
    rel.n_ip = rel.n_host = 0;
    /* The question name first: the fleet store (docs/clickhouse.sql), which reads one level of
     * nesting only, takes it as related.hosts[1]. */
    if (l->has_question)
        related_name(&rel, l->qname);
    related_addr(&rel, &l->client);
    related_addr(&rel, &l->server);
    if (l->n_errors > 0)
        related_addr(&rel, &l->error.src);
    if (answered) {
        for (uint8_t i = 0; i < l->answer.n_answers; i++) {
            struct nt_addr ip;
            related_name(&rel, l->answer.answers[i].name);
            if (rr_ip(&l->answer.answers[i], &ip))
                related_addr(&rel, &ip);
        }
    }
    related_object(&w, &rel);

    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_u64(&w, "lookup", l->seq);
    jsonw_kv_time(&w, "time", &l->first_tx);
    jsonw_kv_u64(&w, "input", l->input);
    jsonw_kv_str(&w, "outcome", lookup_outcome_name((enum lookup_outcome)l->outcome));
    jsonw_kv_u64(&w, "transmissions", l->transmissions);
    jsonw_kv_u64(&w, "retransmissions", l->transmissions > 0 ? l->transmissions - 1 : 0);
    if (answered)
        jsonw_kv_decimal(&w, "rtt_ms", l->rtt_us, 3);
    if ((answered || icmp) && !l->from_quote)
        jsonw_kv_decimal(&w, "elapsed_ms", l->elapsed_us, 3);
    jsonw_kv_bool(&w, "late", l->late);
    jsonw_kv_bool(&w, "query_in_capture", !l->from_quote);
    if (!l->from_quote)
        jsonw_kv_u64(&w, "query_packet", l->query.pkt);
    if (answered)
        jsonw_kv_u64(&w, "answer_packet", l->answer.pkt);
    if (l->n_errors > 0)
        jsonw_kv_u64(&w, "error_packet", l->error.pkt);
    jsonw_kv_arr(&w, "client_ports");
    size_t np = l->n_client_ports < LOOKUP_PORTS_KEPT ? l->n_client_ports : LOOKUP_PORTS_KEPT;
    for (size_t i = 0; i < np; i++)
        jsonw_u64(&w, l->client_ports[i]);
    jsonw_arr_end(&w);
    jsonw_kv_bool(&w, "client_ports_omitted", l->client_ports_overflow);
    if (answered) {
        jsonw_kv_u64(&w, "answer_count", l->answer.ancount);
        jsonw_kv_u64(&w, "duplicate_responses", l->extra_responses);
    }
    jsonw_kv_u64(&w, "icmp_errors", l->n_errors);
    if (l->n_errors > 0) {
        jsonw_kv_str(&w, "icmp_kind", icmp_kind_name((enum icmp_kind)l->icmp_kind));
        jsonw_kv_str(&w, "icmp_sender", icmp_sender_name((enum icmp_sender)l->icmp_sender));
        if (!l->from_quote)
            jsonw_kv_bool(&w, "matched_by_id", l->matched_by_id);
    }
    jsonw_kv_u64(&w, "client_rejects", l->client_rejects);
    jsonw_obj_end(&w);

    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}

void ndjson_icmp_error(struct strbuf *out, const struct icmp_event *e)
{
    static const struct jsonw_quote_keys quote_keys = {
        .object = "quote", .protocol = "proto", .src_port = "sport", .dst_port = "dport"};
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    const struct evidence *ev = e->ev;

    jsonw_obj_begin(&w);
    kv_date(&w, "@timestamp", &ev->ts);
    ecs_object(&w);

    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "event");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    jsonw_kv_str(&w, "outcome", "failure");
    jsonw_kv_str(&w, "dataset", "nettriage.icmp");
    jsonw_obj_end(&w);

    endpoint(&w, "source", &ev->src, false, 0);
    endpoint(&w, "destination", &ev->dst, false, 0);

    jsonw_kv_obj(&w, "network");
    const char *t = ip_type(&ev->src);
    if (t)
        jsonw_kv_str(&w, "type", t);
    jsonw_kv_str(&w, "transport", ev->ip_version == 6 ? "ipv6-icmp" : "icmp");
    jsonw_obj_end(&w);

    icmp_object(&w, ev->ip_version, ev->icmp_type, ev->icmp_code);

    struct related rel;
    rel.n_ip = rel.n_host = 0;
    related_addr(&rel, &ev->src);
    related_addr(&rel, &ev->dst);
    related_addr(&rel, &ev->q_src);
    related_addr(&rel, &ev->q_dst);
    related_object(&w, &rel);

    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_time(&w, "time", &ev->ts);
    jsonw_kv_u64(&w, "input", ev->input);
    jsonw_kv_u64(&w, "packet", ev->pkt);
    if (ev->from_text && ev->line_no > 0)
        jsonw_kv_u64(&w, "line", ev->line_no);
    jsonw_kv_obj(&w, "icmp");
    jsonw_kv_str(&w, "kind", icmp_kind_name((enum icmp_kind)e->kind));
    jsonw_kv_str(&w, "description",
                 icmp_code_description(ev->ip_version, ev->icmp_type, ev->icmp_code));
    jsonw_kv_str(&w, "sender", icmp_sender_name((enum icmp_sender)e->sender));
    jsonw_kv_bool(&w, "about_dns", e->about_dns);
    jsonw_kv_bool(&w, "quotes_response", e->quotes_response);
    jsonw_kv_bool(&w, "matched", e->lookup != NULL || e->attempt != NULL);
    if (e->lookup)
        jsonw_kv_u64(&w, "lookup", e->lookup->seq);
    if (e->attempt)
        jsonw_kv_u64(&w, "tcp_attempt", e->attempt->seq);
    if (ev->icmp_mtu)
        jsonw_kv_u64(&w, "mtu", ev->icmp_mtu);
    jsonw_quote(&w, ev, &quote_keys);
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);

    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
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
static void threat_object(struct jsonw *w, const char *id, const char *name)
{
    const char *dot = strchr(id, '.');
    const char *colon = name ? strstr(name, ": ") : NULL;
    size_t id_len = dot ? (size_t)(dot - id) : strlen(id);
    size_t name_len = name ? (colon ? (size_t)(colon - name) : strlen(name)) : 0;

    jsonw_kv_obj(w, "threat");
    jsonw_kv_str(w, "framework", "MITRE ATT&CK");
    jsonw_kv_obj(w, "technique");
    jsonw_kv_arr(w, "id");
    jsonw_strn(w, id, id_len);
    jsonw_arr_end(w);
    if (name) {
        jsonw_kv_arr(w, "name");
        jsonw_strn(w, name, name_len);
        jsonw_arr_end(w);
    }
    if (dot) {
        jsonw_kv_obj(w, "subtechnique");
        kv_str1(w, "id", id);
        if (name)
            kv_str1(w, "name", colon ? colon + 2 : name);
        jsonw_obj_end(w);
    }
    jsonw_obj_end(w);
    jsonw_obj_end(w);
}

void ndjson_finding(struct strbuf *out, const struct finding *f)
{
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    char proto[16];
    size_t n;

    jsonw_obj_begin(&w);
    kv_date(&w, "@timestamp", &f->first_seen);
    ecs_object(&w);
    jsonw_kv_str(&w, "message", f->summary);

    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "alert");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    jsonw_kv_str(&w, "dataset", "nettriage.finding");
    jsonw_kv_u64(&w, "severity", f->severity);
    kv_date(&w, "start", &f->first_seen);
    kv_date(&w, "end", &f->last_seen);
    jsonw_obj_end(&w);

    jsonw_kv_obj(&w, "rule");
    jsonw_kv_str(&w, "id", f->id);
    jsonw_kv_str(&w, "name", f->title);
    jsonw_kv_str(&w, "ruleset", "nettriage");
    jsonw_obj_end(&w);

    if (attack_technique_id(f->attack))
        threat_object(&w, attack_technique_id(f->attack), attack_technique_name(f->attack));

    if (f->has_server)
        endpoint(&w, "destination", &f->server, f->port != 0, f->port);
    bool has_proto = service_protocol(f->service, proto, sizeof proto);
    if (f->transport || has_proto) {
        jsonw_kv_obj(&w, "network");
        if (f->has_server && ip_type(&f->server))
            jsonw_kv_str(&w, "type", ip_type(&f->server));
        if (f->transport)
            jsonw_kv_str(&w, "transport", finding_transport_name(f));
        if (has_proto)
            jsonw_kv_str(&w, "protocol", proto);
        jsonw_obj_end(&w);
    }

    struct related rel;
    rel.n_ip = rel.n_host = 0;
    if (f->has_server)
        related_addr(&rel, &f->server);
    n = f->n_clients < FINDING_MAX_CLIENTS ? f->n_clients : FINDING_MAX_CLIENTS;
    for (size_t i = 0; i < n; i++)
        related_addr(&rel, &f->clients[i]);
    n = f->n_names < FINDING_MAX_NAMES ? f->n_names : FINDING_MAX_NAMES;
    for (size_t i = 0; i < n; i++) {
        /* "www.example.com. A": the name before the type; not "(no question)" and the like
         * (a name in presentation form never starts with a raw '('). */
        const char *qn = f->names[i], *sp = qn ? strrchr(qn, ' ') : NULL;
        if (sp && sp > qn && qn[0] != '(' && !(sp - qn == 1 && qn[0] == '.'))
            related_host(&rel, qn, nt_dns_name_len_nodot(qn, (size_t)(sp - qn)));
    }
    related_object(&w, &rel);

    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_time(&w, "time", &f->first_seen);
    jsonw_kv_time(&w, "last_time", &f->last_seen);
    jsonw_kv_str(&w, "severity", severity_name((enum severity)f->severity));
    jsonw_kv_str(&w, "service", f->service);
    jsonw_finding_counts(&w, f);
    jsonw_clients_and_names(&w, f);
    jsonw_window(&w, f);

    jsonw_kv_str_array(&w, "facts", f->facts,
                       f->n_facts < FINDING_MAX_FACTS ? f->n_facts : FINDING_MAX_FACTS);
    jsonw_causes(&w, f);
    jsonw_kv_str_array(&w, "next_steps", f->next_steps,
                       f->n_next_steps < FINDING_MAX_STEPS ? f->n_next_steps : FINDING_MAX_STEPS);
    jsonw_kv_arr(&w, "evidence");
    n = f->n_evidence < FINDING_MAX_EVIDENCE ? f->n_evidence : FINDING_MAX_EVIDENCE;
    for (size_t i = 0; i < n; i++) {
        const struct evidence *ev = &f->evidence[i];
        jsonw_obj_begin(&w);
        jsonw_kv_u64(&w, "input", ev->input);
        jsonw_kv_u64(&w, "packet", ev->pkt);
        jsonw_kv_str(&w, "role", evidence_role_id(ev->role));
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_kv_u64(&w, "evidence_omitted", f->evidence_dropped);
    jsonw_obj_end(&w);

    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}

void ndjson_summary(struct strbuf *out, const struct analysis *a)
{
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    const struct analysis_summary *s = &a->summary;
    static const struct nt_time none;

    jsonw_obj_begin(&w);
    if (a->has_time)
        kv_date(&w, "@timestamp", &a->last_ts);
    ecs_object(&w);

    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "metric");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    jsonw_kv_str(&w, "dataset", "nettriage.summary");
    if (a->has_time) {
        kv_date(&w, "start", &a->first_ts);
        kv_date(&w, "end", &a->last_ts);
    }
    jsonw_obj_end(&w);

    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_str(&w, "version", a->version);
    jsonw_kv_str(&w, "reported", a->reported);
    jsonw_kv_str(&w, "actions", a->actions);
    jsonw_kv_bool(&w, "redacted", a->redacted);
    jsonw_kv_decimal(&w, "timeout_ms", a->timeout_us, 3);
    jsonw_kv_time(&w, "time", a->has_time ? &a->first_ts : &none);
    jsonw_kv_time(&w, "last_time", a->has_time ? &a->last_ts : &none);
    jsonw_kv_arr(&w, "inputs");
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        jsonw_obj_begin(&w);
        jsonw_kv_u64(&w, "input", i);
        jsonw_kv_str(&w, "path", in->path);
        jsonw_kv_str(&w, "kind", in->kind);
        jsonw_kv_str(&w, "linktype", in->linktype);
        jsonw_kv_u64(&w, "packets", in->packets);
        jsonw_kv_str(&w, "date_from", analysis_date_from(in));
        jsonw_kv_u64(&w, "unreadable_lines", in->bad_lines);
        jsonw_kv_u64(&w, "unsupported_link_frames", in->unsupported_link);
        jsonw_kv_u64(&w, "unread_traffic", in->unread);
        jsonw_kv_u64(&w, "ignored_lines", in->ignored_lines);
        jsonw_anomalies(&w, &in->anomalies);
        jsonw_kv_str(&w, "error", in->error);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_kv_obj(&w, "summary");
    jsonw_kv_u64(&w, "unread_traffic", analysis_unread(a));
    jsonw_kv_bool(&w, "verdict_covers_all", analysis_unread(a) == 0);
    jsonw_dns_counts(&w, s);
    jsonw_kv_u64(&w, "unmatched_dns_icmp_errors", a->unmatched_icmp);
    jsonw_kv_u64(&w, "icmp_errors_not_taken", a->icmp_not_taken);
    jsonw_other_counts(&w, a);
    jsonw_one_sided(&w, s);
    jsonw_capture_drops(&w, s);
    jsonw_limits(&w, &a->limits);
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);

    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}

void report_render_ndjson(const struct analysis *a, struct strbuf *out)
{
    for (size_t i = 0; i < a->n_findings; i++)
        ndjson_finding(out, a->findings[i]);
    ndjson_summary(out, a);
}

/* The catalogue's title of a rule id (NULL when no registered rule has it). */
static const char *rule_title(const char *id)
{
    for (size_t i = 0; id && i < detect_n_rules; i++)
        if (strcmp(detect_rules[i]->id, id) == 0)
            return detect_rules[i]->title;
    return NULL;
}

void alert_ndjson(struct strbuf *out, const struct incident_event *ev)
{
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    bool closed = ev->action == INCIDENT_CLOSED;
    struct strbuf msg;
    strbuf_init(&msg);
    alert_text(&msg, ev);
    size_t mlen = msg.len;
    if (mlen && strbuf_str(&msg)[mlen - 1] == '\n')
        mlen--;

    jsonw_obj_begin(&w);
    kv_date(&w, "@timestamp", &ev->now);
    ecs_object(&w);
    jsonw_key(&w, "message");
    jsonw_strn(&w, strbuf_str(&msg), mlen);
    strbuf_fini(&msg);

    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "alert");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", ev->action == INCIDENT_OPENED ? "start" : closed ? "end" : "info");
    jsonw_kv_str(&w, "action", alert_action_name((enum incident_action)ev->action));
    jsonw_kv_str(&w, "dataset", "nettriage.incident");
    kv_date(&w, "start", &ev->first_failure);
    if (closed) {
        kv_date(&w, "end", &ev->end);
        jsonw_key(&w, "duration");
        jsonw_i64(&w, ev->duration_us * 1000);
        jsonw_kv_str(&w, "reason", alert_close_reason_name((enum incident_close)ev->close_reason));
    }
    jsonw_obj_end(&w);

    jsonw_kv_obj(&w, "rule");
    jsonw_kv_str(&w, "id", ev->rule);
    jsonw_kv_str(&w, "name", rule_title(ev->rule));
    jsonw_kv_str(&w, "ruleset", "nettriage");
    jsonw_obj_end(&w);

    endpoint(&w, "destination", &ev->server, true, ev->port);
    jsonw_kv_obj(&w, "network");
    if (ip_type(&ev->server))
        jsonw_kv_str(&w, "type", ip_type(&ev->server));
    jsonw_kv_str(&w, "transport", transport_name(ev->transport));
    if (ev->dns)
        jsonw_kv_str(&w, "protocol", "dns");
    jsonw_obj_end(&w);

    struct related rel;
    rel.n_ip = rel.n_host = 0;
    related_addr(&rel, &ev->server);
    related_object(&w, &rel);

    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_u64(&w, "incident", ev->incident);
    jsonw_kv_time(&w, "time", &ev->now);
    jsonw_kv_str(&w, "service", ev->dns ? "DNS" : "TCP");
    jsonw_kv_time(&w, "first_failure", &ev->first_failure);
    jsonw_kv_time(&w, "last_failure", &ev->last_failure);
    jsonw_kv_u64(&w, "failures", ev->failures);
    jsonw_kv_obj(&w, "failures_by_rule");
    for (size_t i = 0; i < INCIDENT_N_RULES; i++)
        if (ev->by_rule[i])
            jsonw_kv_u64(&w, incident_rule_ids[i], ev->by_rule[i]);
    jsonw_obj_end(&w);
    jsonw_kv_u64(&w, "clients", ev->clients);
    jsonw_kv_bool(&w, "clients_omitted", ev->clients_overflow);
    if (closed) {
        jsonw_kv_str(&w, "close_reason",
                     alert_close_reason_name((enum incident_close)ev->close_reason));
        jsonw_kv_time(&w, "end", &ev->end);
        jsonw_kv_decimal(&w, "duration_ms", ev->duration_us, 3);
    }
    jsonw_obj_end(&w);

    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}

void alert_stats_ndjson(struct strbuf *out, const struct incident_stats *st)
{
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    jsonw_obj_begin(&w);
    kv_date(&w, "@timestamp", &st->now);
    ecs_object(&w);
    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "metric");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "info");
    jsonw_kv_str(&w, "dataset", "nettriage.watch");
    jsonw_obj_end(&w);
    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_time(&w, "time", &st->now);
    jsonw_kv_obj(&w, "watch");
    jsonw_kv_u64(&w, "incidents_opened", st->opened);
    jsonw_kv_u64(&w, "incidents_closed", st->closed);
    jsonw_kv_u64(&w, "incidents_open", st->open);
    jsonw_kv_u64(&w, "updates", st->updates);
    jsonw_kv_u64(&w, "services", st->services);
    jsonw_kv_u64(&w, "services_peak", st->services_peak);
    jsonw_kv_u64(&w, "services_expired", st->services_expired);
    jsonw_kv_u64(&w, "services_evicted", st->services_evicted);
    jsonw_kv_u64(&w, "incidents_evicted", st->incidents_evicted);
    jsonw_kv_u64(&w, "failures", st->failures);
    jsonw_kv_u64(&w, "successes", st->successes);
    jsonw_kv_u64(&w, "stale_failures", st->stale);
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);
    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}

/* A TCP connection attempt when final (event.dataset "nettriage.tcp"), with the helpers every
 * event uses. */
void ndjson_tcp_attempt(struct strbuf *out, const struct tcp_attempt *t)
{
    struct jsonw w;
    jsonw_init(&w, out, JSONW_COMPACT);
    bool answered =
        t->outcome == TCP_ESTABLISHED || t->outcome == TCP_RESET || t->outcome == TCP_ICMP_ERROR;
    const char *outcome = t->outcome == TCP_ESTABLISHED     ? "success"
                          : t->outcome == TCP_CAPTURE_ENDED ? "unknown"
                                                            : "failure";
    jsonw_obj_begin(&w);
    kv_date(&w, "@timestamp", &t->first_syn);
    ecs_object(&w);
    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "event");
    kv_str1(&w, "category", "network");
    kv_str1(&w, "type", "connection");
    jsonw_kv_str(&w, "outcome", outcome);
    jsonw_kv_str(&w, "dataset", "nettriage.tcp");
    kv_date(&w, "start", &t->first_syn);
    if (answered) {
        kv_date(&w, "end", &t->reply.ts);
        jsonw_key(&w, "duration");
        jsonw_i64(&w, t->elapsed_us * 1000);
    }
    jsonw_obj_end(&w);
    endpoint(&w, "source", &t->client, true, t->client_port);
    endpoint(&w, "destination", &t->server, true, t->server_port);
    jsonw_kv_obj(&w, "network");
    if (ip_type(&t->server))
        jsonw_kv_str(&w, "type", ip_type(&t->server));
    jsonw_kv_str(&w, "transport", "tcp");
    jsonw_obj_end(&w);
    if (t->outcome == TCP_ICMP_ERROR)
        icmp_object(&w, t->reply.ip_version, t->reply.icmp_type, t->reply.icmp_code);

    /* The client, the server and whoever answered for the server (a router's ICMP error, a
     * firewall's RST from another address), as a lookup's event lists them. */
    struct related rel;
    rel.n_ip = rel.n_host = 0;
    related_addr(&rel, &t->client);
    related_addr(&rel, &t->server);
    if (answered)
        related_addr(&rel, &t->reply.src);
    related_object(&w, &rel);

    jsonw_kv_obj(&w, "nettriage");
    jsonw_kv_u64(&w, "tcp_attempt", t->seq);
    jsonw_kv_time(&w, "time", &t->first_syn);
    jsonw_kv_u64(&w, "input", t->input);
    jsonw_kv_str(&w, "outcome", tcp_outcome_name((enum tcp_outcome)t->outcome));
    jsonw_kv_u64(&w, "syns", t->syns);
    if (answered) {
        jsonw_kv_decimal(&w, "rtt_ms", t->rtt_us, 3);
        jsonw_kv_decimal(&w, "elapsed_ms", t->elapsed_us, 3);
    }
    jsonw_kv_bool(&w, "late", t->late);
    jsonw_kv_u64(&w, "syn_packet", t->syn.pkt);
    if (answered)
        jsonw_kv_u64(&w, "reply_packet", t->reply.pkt);
    jsonw_obj_end(&w);
    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}
