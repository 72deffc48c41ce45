/* ndjson_tcp.c: one NDJSON event per TCP connection attempt (event.dataset "nettriage.tcp",
 * docs/json-schema.md), the handshake's outcome with Elastic Common Schema names, for the fleet
 * store's tcp_attempts table (docs/clickhouse.sql). */
#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "report/analysis.h"
#include "report/jsonw.h"
#include "report/observer.h"

static void kv_date(struct jsonw *w, const char *k, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    if (t->kind != NT_TIME_ABSOLUTE || nt_time_format(t, buf, sizeof buf) != 27 || buf[26] != 'Z')
        return;
    jsonw_kv_str(w, k, buf);
}

static void endpoint(struct jsonw *w, const char *k, const struct nt_addr *a, uint16_t port)
{
    char buf[NT_ADDR_FMT_MAX];
    jsonw_kv_obj(w, k);
    if (a->family != NT_AF_NONE) {
        nt_addr_format(a, buf, sizeof buf);
        jsonw_kv_str(w, "address", buf);
        if (a->family == NT_AF_INET || a->family == NT_AF_INET6)
            jsonw_kv_str(w, "ip", buf);
    }
    jsonw_kv_u64(w, "port", port);
    jsonw_obj_end(w);
}

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
    jsonw_kv_obj(&w, "ecs");
    jsonw_kv_str(&w, "version", "8.11.0");
    jsonw_obj_end(&w);
    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "kind", "event");
    jsonw_kv_arr(&w, "category");
    jsonw_str(&w, "network");
    jsonw_arr_end(&w);
    jsonw_kv_arr(&w, "type");
    jsonw_str(&w, "connection");
    jsonw_arr_end(&w);
    jsonw_kv_str(&w, "outcome", outcome);
    jsonw_kv_str(&w, "dataset", "nettriage.tcp");
    kv_date(&w, "start", &t->first_syn);
    if (answered) {
        kv_date(&w, "end", &t->reply.ts);
        jsonw_key(&w, "duration");
        jsonw_i64(&w, t->elapsed_us * 1000);
    }
    jsonw_obj_end(&w);
    endpoint(&w, "source", &t->client, t->client_port);
    endpoint(&w, "destination", &t->server, t->server_port);
    jsonw_kv_obj(&w, "network");
    if (t->server.family == NT_AF_INET || t->server.family == NT_AF_INET6)
        jsonw_kv_str(&w, "type", t->server.family == NT_AF_INET ? "ipv4" : "ipv6");
    jsonw_kv_str(&w, "transport", "tcp");
    jsonw_obj_end(&w);
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
