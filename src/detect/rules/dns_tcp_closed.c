/* dns_tcp_closed.c: DNS lookups over TCP whose connection the server closed (FIN or RST) after
 * the query without answering it (dns_lookup.tcp.server_close, correlate/dnsconn.h), grouped
 * per server and port. The server is reachable and its port open: it accepted the connection,
 * and the query's bytes reached it when it acknowledged them; what failed is the answer over
 * TCP, not the path. dns.no_response leaves these lookups to this rule. A lookup cut off by the
 * end of the capture counts too: no answer can come on a closed connection. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "detect/dns_finding.h"
#include "detect/rule.h"
#include "detect/text.h"

#define QTYPE_IXFR 251
#define QTYPE_AXFR 252
/* A close this long after the query: the server waited for something (its upstream) and gave up,
 * rather than refusing at once. */
#define SLOW_CLOSE_US 2000000

struct tc_acc {
    uint64_t fin, rst;         /* lookups by how the server closed */
    uint64_t synack, acked;    /* lookups whose SYN-ACK, and whose query's acknowledgement, the
                                  capture holds */
    uint64_t client_fin_first; /* lookups whose client had closed its side first */
    uint64_t zone_transfer;    /* AXFR or IXFR */
    uint64_t slow;             /* closed SLOW_CLOSE_US or more after the query */
    int64_t min_after, max_after;
};

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->transport != 6 || !l->tcp.server_close ||
        (l->outcome != LOOKUP_UNANSWERED && l->outcome != LOOKUP_CAPTURE_ENDED))
        return;
    bool created;
    struct finding *f = dns_server_finding(rc, l, sizeof(struct tc_acc), &created);
    if (!f || !f->priv)
        return;
    struct tc_acc *a = f->priv;
    if (created) {
        f->reply_one = "connection close";
        f->reply_many = "connection closes";
        a->min_after = INT64_MAX;
        a->max_after = INT64_MIN;
    }
    dns_finding_count(f, l, l->tcp.close ? 1 : 0);
    if (l->tcp.server_close == TCP_CLOSE_RST)
        a->rst++;
    else
        a->fin++;
    a->synack += l->tcp.synack_seen;
    a->acked += l->tcp.query_acked;
    a->client_fin_first += l->tcp.client_fin_first;
    if (l->has_question && (l->qtype == QTYPE_AXFR || l->qtype == QTYPE_IXFR))
        a->zone_transfer++;
    int64_t after = l->tcp.close_after_us;
    if (after < a->min_after)
        a->min_after = after;
    if (after > a->max_after)
        a->max_after = after;
    if (after >= SLOW_CLOSE_US)
        a->slow++;
    finding_add_evidence(f, &l->query);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    if (l->tcp.close) {
        finding_add_evidence(f, l->tcp.close);
        finding_see_time(f, &l->tcp.close->ts);
    }
}

/* "a FIN", "a RST", or "a FIN (2) or a RST (1)". */
static void close_words(const struct tc_acc *a, char *buf, size_t n)
{
    if (!a->rst)
        snprintf(buf, n, "a FIN (an orderly close)");
    else if (!a->fin)
        snprintf(buf, n, "a RST (an abort)");
    else
        snprintf(buf, n, "a FIN (%" PRIu64 " %s) or a RST (%" PRIu64 " %s)", a->fin,
                 a->fin == 1 ? "lookup" : "lookups", a->rst, a->rst == 1 ? "lookup" : "lookups");
}

/* "after 30.0 ms" or "30.0 ms to 2.1 s after". */
static void delay_words(const struct tc_acc *a, char *buf, size_t n)
{
    char d1[32], d2[32];
    nt_duration_format(a->min_after, d1, sizeof d1);
    nt_duration_format(a->max_after, d2, sizeof d2);
    if (strcmp(d1, d2) == 0)
        snprintf(buf, n, "%s after the query", d1);
    else
        snprintf(buf, n, "%s to %s after the query", d1, d2);
}

/* Which of the finding's lookups a sentence is about: nothing when it has one lookup, " (all N
 * lookups)" or " (K of the N lookups)". */
static void share(uint64_t k, uint64_t all, char *buf, size_t n)
{
    if (all == 1)
        buf[0] = 0;
    else if (k == all)
        snprintf(buf, n, " (all %" PRIu64 " lookups)", all);
    else
        snprintf(buf, n, " (%" PRIu64 " of the %" PRIu64 " lookups)", k, all);
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct tc_acc *a = f->priv;
    const struct server_stats *ss = rule_server_stats(rc, &f->server, f->port, 6);
    const struct server_stats *us = rule_server_stats(rc, &f->server, f->port, 17);
    uint64_t tcp_ok = ss ? ss->answered : 0, tcp_all = ss ? ss->lookups : f->lookups;
    uint64_t udp_ok = us ? us->answered : 0;
    /* Not kept (--bound detect.services): its lookups over TCP are unknown beyond this
     * finding (the detector's fact says so), so nothing is said of them. */
    bool kept = rule_service_kept(rc, &f->server, f->port, 6);
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], names[512];
    char how[96], when[128], s1[64], s2[64], s3[64] = "";
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    close_words(a, how, sizeof how);
    delay_words(a, when, sizeof when);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    uint64_t n = f->lookups;
    bool all_acked = a->acked == n, all_synack = a->synack == n;

    f->severity = tcp_ok ? SEV_MEDIUM : SEV_HIGH;

    /* What the connection showed, in the words the facts allow. */
    char accepted[256];
    snprintf(accepted, sizeof accepted, "%s%s",
             all_synack ? "The server accepted the connection (its SYN-ACK is in the capture)"
                        : "The connection was open (the client's query went on it)",
             all_acked  ? ", acknowledged the query"
             : a->acked ? ", acknowledged the query on some of them"
                        : "");
    finding_set_summary(
        f,
        "DNS over TCP port %u: the server closed the connection without answering. %" PRIu64
        " %s to the DNS server %s (%s) from %" PRIu64 " %s (%s) got no answer. %s and closed "
        "the connection with %s %s, with no answer on it. The server is reachable and its TCP "
        "port %u open; it did not answer over TCP, which a filter or a lossy path does not "
        "explain.",
        f->port, n, n == 1 ? "lookup" : "lookups", srv, names, n_clients,
        n_clients == 1 ? "client" : "clients", clients, accepted, how, when, f->port);

    finding_add_fact(f,
                     "%" PRIu64 " DNS %s (%" PRIu64 " %s) went from %s to %s TCP port %u; the "
                     "server closed the connection with %s %s, and no answer came on it before "
                     "the close (none can come after it).",
                     f->query_packets, f->query_packets == 1 ? "query" : "queries", n,
                     n == 1 ? "lookup" : "lookups", clients, srv, f->port, how, when);
    share(a->synack, n, s1, sizeof s1);
    share(a->acked, n, s2, sizeof s2);
    if (a->synack)
        finding_add_fact(f, "The handshake completed: the server's SYN-ACK is in the capture%s.",
                         s1);
    else
        finding_add_fact(f, "The handshake is not in the capture (it began before it), but the "
                            "client's query went on an open connection.");
    if (a->acked)
        finding_add_fact(f,
                         "The server acknowledged every byte of the query before it closed%s: the "
                         "query reached the server host's TCP stack.",
                         s2);
    if (a->acked < n)
        finding_add_fact(f,
                         "For %" PRIu64 " %s the capture shows no acknowledgement of the whole "
                         "query before the close.",
                         n - a->acked, n - a->acked == 1 ? "lookup" : "lookups");
    if (a->client_fin_first) {
        share(a->client_fin_first, n, s3, sizeof s3);
        finding_add_fact(f,
                         "The client had already closed its sending side (FIN) after the query, "
                         "before the server closed%s.",
                         s3);
    }
    if (tcp_ok)
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups over "
                         "TCP port %u in the capture.",
                         tcp_ok, tcp_all, f->port);
    else if (kept)
        finding_add_fact(f,
                         "The server answered none of its %" PRIu64 " %s over TCP port %u in the "
                         "capture.",
                         tcp_all, tcp_all == 1 ? "lookup" : "lookups", f->port);
    if (udp_ok)
        finding_add_fact(f,
                         "It answered %" PRIu64 " of its %" PRIu64 " lookups over UDP port %u, so "
                         "its DNS service runs; only TCP fails.",
                         udp_ok, us->lookups, f->port);

    /* Causes. None is a path problem: the connection was made and closed by the server's side. */
    static const char tell[] =
        "`ss -tlpn 'sport = :%u'` on %s shows which process holds TCP port %u: the resolver "
        "itself, or a proxy or load balancer in front of it.";
    char tell_f[256 + NT_ADDR_FMT_MAX];
    snprintf(tell_f, sizeof tell_f, tell, f->port, srv, f->port);
    bool zone = a->zone_transfer > 0;
    finding_add_cause(f,
                      !tcp_ok && !zone ? CONF_HIGH
                      : !tcp_ok        ? CONF_MEDIUM
                                       : CONF_LOW,
                      "DNS over TCP is not served behind this port: the port is open (a listener, "
                      "a proxy or a load balancer accepts the connection) but nothing there "
                      "answers DNS over TCP, so the connection is closed unanswered.",
                      "The server completed %s and %s, then closed the connection without an "
                      "answer%s. %s",
                      a->synack ? "the handshake" : "the connection",
                      a->acked ? "took the query" : "received the query",
                      tcp_ok  ? ", although it answered other lookups over TCP"
                      : !kept ? ""
                              : " and answered no lookup over TCP in the capture",
                      tell_f);
    if (zone)
        finding_add_cause(f, a->zone_transfer == n ? CONF_HIGH : CONF_MEDIUM,
                          "The server refuses zone transfers (AXFR or IXFR) to this client and "
                          "closes the connection instead of answering.",
                          "%" PRIu64 " of the %" PRIu64 " lookups asked for a zone transfer; "
                          "servers commonly drop a transfer the client is not allowed "
                          "(allow-transfer, an access list) by closing the connection.",
                          a->zone_transfer, n);
    finding_add_cause(f, a->rst ? CONF_MEDIUM : CONF_LOW,
                      "The DNS process, or a firewall, intrusion prevention system or load "
                      "balancer in front of it, rejects the query and aborts or closes the "
                      "connection: a query too large or of an unsupported type or class, a "
                      "malformed message, or a policy on TCP queries.",
                      "%s. A middlebox that inspects DNS over TCP closes a connection whose "
                      "query it refuses; the server's own logs, or a capture on the server "
                      "itself, show whether the query reached the resolver process.",
                      a->rst ? "A RST after the query is an abort: the application or a "
                               "middlebox reset the connection instead of answering"
                             : "A FIN right after the query is an orderly close by whatever "
                               "accepted the connection");
    if (a->client_fin_first)
        finding_add_cause(f, a->client_fin_first == n ? CONF_MEDIUM : CONF_LOW,
                          "The client closed its sending side (FIN) right after its query, and "
                          "the server, or a proxy in front of it, takes that half-close as the "
                          "end of the session and closes without answering.",
                          "The client's FIN came before the server's close%s. Clients should "
                          "keep the connection open until the answers arrive; the same query "
                          "with `dig +tcp` (which waits) tells it from the other causes.",
                          s3);
    finding_add_cause(f, a->slow ? CONF_MEDIUM : CONF_LOW,
                      "The server gave up on the query (its upstream did not answer in time, or "
                      "an idle or query timeout for TCP connections ran out) and closed the "
                      "connection instead of answering SERVFAIL.",
                      "The close came %s%s.", when,
                      a->slow ? ", long enough for the server to have waited on something"
                              : "; a close that quick is a refusal more than a timeout");
    finding_rank_causes(f);

    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3] = "example.com";
    if (qname)
        text_shell_query(qname, qcmd, sizeof qcmd);
    finding_add_step(f,
                     "Query the server over TCP and over UDP and compare: `dig @%s %s +tcp` and "
                     "`dig @%s %s +notcp`. An answer over UDP with \"connection reset\" or "
                     "\"end of file\" over TCP confirms that only TCP fails.",
                     srv_cmd, qcmd, srv_cmd, qcmd);
    finding_add_step(f,
                     "On %s, see which process accepts TCP port %u: `ss -tlpn 'sport = :%u'`; "
                     "if it is a proxy or load balancer, check that it forwards DNS over TCP to "
                     "the resolver.",
                     srv, f->port, f->port);
    finding_add_step(f, "Check the resolver's TCP settings and logs around the close (BIND: "
                        "tcp-clients, tcp-idle-timeout, allow-query, allow-transfer; Unbound: "
                        "do-tcp, incoming-num-tcp, tcp-idle-timeout; dnsmasq and systemd-resolved "
                        "serve TCP too): a refused client or query is logged there.");
    finding_add_step(f,
                     "Capture on the server while a client queries: `tcpdump -ni any tcp port "
                     "%u and host %s` shows whether the resolver process, a proxy or something "
                     "else sends the %s.",
                     f->port, srv_cmd, a->rst && !a->fin ? "RST" : "FIN");
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_tcp_closed = {
    .id = "dns.tcp_closed",
    .severity = SEV_HIGH,
    .title = "DNS server closed the TCP connection without answering",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
