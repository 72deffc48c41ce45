/* tcp_no_response.c: TCP connection attempts that got no answer at all: the SYN (and its
 * retransmissions) met silence for longer than the timeout: no SYN-ACK, no reset, no ICMP
 * error.
 *
 * Short captures: an attempt cut off by the end of the capture before the timeout counts too
 * when the client had retransmitted its SYN at least TCP_RETRY_MIN_US (200 ms) after the first
 * (its own retransmission timer ran out with no answer: a "short observation"; the same SYN
 * seen twice at once on two interfaces is not a retry). The finding says how long the capture
 * watched and how many times the client retried; the confidence of every cause is capped (medium
 * with 2 or more retransmissions and 2 s watched, else low) and a finding made only of short
 * observations is of medium severity. An attempt with a single SYN right before the end stays cut
 * off, counted apart, never as a failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/one_sided.h"
#include "detect/rule.h"
#include "detect/rules/tcp_seen.h"
#include "detect/text.h"

struct silent_acc {
    struct tcp_acc_head head; /* first: the service name lives here */
    uint32_t min_syns, max_syns;
    uint64_t retried;                   /* attempts with more than one SYN */
    int64_t min_span_us, max_span_us;   /* first to last SYN, attempts with retries */
    int64_t min_gap_us, max_gap_us;     /* average gap between the SYNs of an attempt */
    struct nt_time first_syn, last_syn; /* first SYNs of the attempts */
    uint8_t ip_version;
    /* Short observations (see the top of the file). */
    uint64_t short_n;
    uint32_t short_min_retx, short_max_retx;
    struct nt_time short_first, short_last; /* their first SYNs */
    uint32_t short_min_input, short_max_input;
};

/* Every attempt, for the causes (was the host alive? did the port ever answer?) and the
 * attempts cut off by the end of the capture. */

static void on_attempt(struct rule_ctx *rc, const struct tcp_attempt *t)
{
    struct tcp_seen *seen = tcp_seen_of(rc);
    if (seen)
        tcp_seen_add(rc, seen, t);
    bool short_obs = tcp_retried_before_end(t);
    if (t->outcome != TCP_UNANSWERED && !short_obs)
        return;
    if (tcp_scan_known(rc, &t->client))
        return; /* a scanning source: tcp.scan reports its attempts */
    bool created;
    struct finding *f = tcp_seen_finding(rc, t, sizeof(struct silent_acc), &created);
    if (!f || !f->priv)
        return;
    struct silent_acc *a = f->priv;
    if (created) {
        a->min_syns = UINT32_MAX;
        a->min_span_us = a->min_gap_us = INT64_MAX;
        a->ip_version = t->syn.ip_version;
        a->short_min_retx = UINT32_MAX;
    }
    if (short_obs) {
        uint32_t retx = t->syns - 1;
        if (a->short_n == 0 || t->input < a->short_min_input)
            a->short_min_input = t->input;
        if (t->input > a->short_max_input)
            a->short_max_input = t->input;
        a->short_n++;
        if (retx < a->short_min_retx)
            a->short_min_retx = retx;
        if (retx > a->short_max_retx)
            a->short_max_retx = retx;
        nt_time_widen(&a->short_first, &a->short_last, &t->first_syn);
    }
    finding_add_client(f, &t->client);
    f->lookups++;
    f->query_packets += t->syns;
    f->packets = f->query_packets;
    if (t->syns < a->min_syns)
        a->min_syns = t->syns;
    if (t->syns > a->max_syns)
        a->max_syns = t->syns;
    if (t->syns > 1 && t->first_syn.kind != NT_TIME_NONE) {
        a->retried++;
        int64_t span = nt_time_diff_us(&t->first_syn, &t->last_syn);
        int64_t gap = span / (int64_t)(t->syns - 1);
        if (span < a->min_span_us)
            a->min_span_us = span;
        if (span > a->max_span_us)
            a->max_span_us = span;
        if (gap < a->min_gap_us)
            a->min_gap_us = gap;
        if (gap > a->max_gap_us)
            a->max_gap_us = gap;
    }
    finding_add_evidence(f, &t->syn);
    if (t->syns > 1)
        finding_add_evidence(f, &t->retry);
    finding_see_time(f, &t->first_syn);
    finding_see_time(f, &t->last_syn);
    nt_time_widen(&a->first_syn, &a->last_syn, &t->first_syn);
}

/* "at T" or "between T1 and T2". */
static void when(const struct nt_time *t1, const struct nt_time *t2, char *buf, size_t n)
{
    char a[NT_TIME_FMT_MAX], b[NT_TIME_FMT_MAX];
    text_time(t1, a, sizeof a);
    text_time(t2, b, sizeof b);
    if (strcmp(a, b) == 0)
        snprintf(buf, n, "at %s", a);
    else
        snprintf(buf, n, "between %s and %s", a, b);
}

/* "1 s" or "1 s to 3 s". */
static void range(int64_t lo, int64_t hi, char *buf, size_t n)
{
    char d1[32], d2[32];
    nt_duration_format(lo, d1, sizeof d1);
    nt_duration_format(hi, d2, sizeof d2);
    if (strcmp(d1, d2) == 0)
        snprintf(buf, n, "%s", d1);
    else
        snprintf(buf, n, "%s to %s", d1, d2);
}

static void explain_finding(struct rule_ctx *rc, struct finding *f,
                            const struct tcp_seen_host_row *rows, size_t n_rows)
{
    const struct tcp_seen *seen = tcp_seen_of(rc);
    const struct silent_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    char what[64];
    if (tcp_seen_service(f->port))
        snprintf(what, sizeof what, "%s (TCP port %u)", f->service, f->port);
    else
        snprintf(what, sizeof what, "TCP port %u", f->port);
    char to[32];
    nt_duration_format(rule_timeout_us(rc), to, sizeof to);
    const struct tcp_seen_entry *e = seen ? tcp_seen_get(seen, &f->server, f->port) : NULL;
    uint64_t ok = e ? e->established : 0;
    struct tcp_seen_host host;
    if (rows)
        tcp_seen_hosts_find(rows, n_rows, &f->server, &host);
    else if (seen)
        tcp_seen_host(seen, &f->server, &host);
    else
        memset(&host, 0, sizeof host);
    uint64_t dns_answered = 0;
    for (uint8_t tr = 6; tr <= 17; tr = (uint8_t)(tr + 11)) {
        const struct server_stats *ss = rule_server_stats(rc, &f->server, 53, tr);
        if (ss)
            dns_answered += ss->answered;
    }
    bool alive = host.established + host.resets + dns_answered > 0;
    /* Its DNS figures not kept (--bound detect.services): whether it answered DNS is unknown. */
    bool dns_unknown =
        !rule_service_kept(rc, &f->server, 53, 6) || !rule_service_kept(rc, &f->server, 53, 17);
    /* Services past --bound tcp.no_response.services: the host's other ports may be among them. */
    bool tcp_partial = tcp_seen_partial(seen);
    uint64_t retrans = f->query_packets - f->lookups;
    char span[2 * NT_TIME_FMT_MAX + 16], t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX];

    bool only_short = a->short_n == f->lookups;
    if (only_short && f->severity > SEV_MEDIUM)
        f->severity = SEV_MEDIUM;
    /* The capture holds one direction of every client's traffic (detect/one_sided.h): the
     * SYN-ACKs may be missing from the capture rather than from the network. */
    uint64_t os_sent, os_unseen;
    bool one_sided = finding_clients_one_sided(rc, f, &os_sent, &os_unseen);
    if (one_sided)
        f->severity = SEV_LOW;
    char observed[160] = "", within[64];
    enum confidence short_cap = CONF_HIGH;
    if (a->short_n) {
        const struct correlate_stats *cs = rule_stats(rc);
        int64_t obs_min = -1, obs_max = -1;
        if (seen && cs && a->short_min_input == seen->max_input &&
            a->short_max_input == seen->max_input && a->short_first.kind != NT_TIME_NONE &&
            cs->last_ts.kind == a->short_first.kind) {
            obs_min = nt_time_diff_us(&a->short_last, &cs->last_ts);
            obs_max = nt_time_diff_us(&a->short_first, &cs->last_ts);
        }
        char o1[32], o2[32];
        if (obs_min >= 0) {
            nt_duration_format(obs_min, o1, sizeof o1);
            nt_duration_format(obs_max, o2, sizeof o2);
            if (strcmp(o1, o2) == 0)
                snprintf(observed, sizeof observed, "observed %s after the first SYN", o1);
            else
                snprintf(observed, sizeof observed, "observed %s to %s after the first SYN", o1,
                         o2);
        } else {
            snprintf(observed, sizeof observed, "observed for an unknown time");
        }
        short_cap = a->short_min_retx >= 2 && obs_min >= 2000000 ? CONF_MEDIUM : CONF_LOW;
    }
    if (only_short)
        snprintf(within, sizeof within, "before the capture ended");
    else
        snprintf(within, sizeof within, "for longer than the %s timeout", to);
    finding_set_summary(
        f,
        "Connections to %s on %s got no answer. %" PRIu64 " connection %s from %" PRIu64
        " %s (%s) sent %" PRIu64 " SYN %s (%" PRIu64 " %s) and heard nothing back: no SYN-ACK, "
        "no reset, no ICMP error, %s. Something drops the SYNs (a "
        "firewall with a drop rule) or nothing is there to answer (the host is down or absent); "
        "%s.%s",
        what, srv, f->lookups, f->lookups == 1 ? "attempt" : "attempts", n_clients,
        n_clients == 1 ? "client" : "clients", clients, f->query_packets,
        f->query_packets == 1 ? "packet" : "packets", retrans,
        retrans == 1 ? "retransmission" : "retransmissions", within,
        alive ? "the host answered other traffic in the capture, which points to a filter"
              : "the capture alone cannot tell which",
        !one_sided       ? ""
        : n_clients == 1 ? " But the capture holds only one direction of the client's traffic "
                           "(no packet addressed to it, while its other connections went on "
                           "after their SYN-ACKs): the answers may be missing from the capture "
                           "rather than from the network."
                         : " But the capture holds only one direction of these clients' traffic "
                           "(no packet addressed to them, while their other connections went on "
                           "after their SYN-ACKs): the answers may be missing from the capture "
                           "rather than from the network.");

    if (one_sided)
        finding_add_fact(f,
                         "One direction only: the capture holds no packet addressed to %s (it "
                         "holds %" PRIu64 " from %s), and %" PRIu64 " other TCP %s of %s went on "
                         "after the SYN with ACKs or data, which a client sends only after "
                         "receiving the SYN-ACK: answers to these SYNs may be missing from the "
                         "capture rather than from the network.",
                         clients, os_sent, n_clients == 1 ? "it" : "them", os_unseen,
                         os_unseen == 1 ? "connection" : "connections",
                         n_clients == 1 ? "it" : "them");
    when(&a->first_syn, &a->last_syn, span, sizeof span);
    finding_add_fact(f,
                     "%" PRIu64 " SYN %s (%" PRIu64 " connection %s, %" PRIu64 " %s) went from %s "
                     "to %s TCP port %u, the %s starting %s; none was answered.",
                     f->query_packets, f->query_packets == 1 ? "packet" : "packets", f->lookups,
                     f->lookups == 1 ? "attempt" : "attempts", retrans,
                     retrans == 1 ? "retransmission" : "retransmissions", clients, srv, f->port,
                     f->lookups == 1 ? "attempt" : "attempts", span);
    if (a->short_n) {
        char retries[48];
        if (a->short_min_retx == a->short_max_retx)
            snprintf(retries, sizeof retries, "%u %s", a->short_max_retx,
                     a->short_max_retx == 1 ? "time" : "times");
        else
            snprintf(retries, sizeof retries, "%u to %u times", a->short_min_retx,
                     a->short_max_retx);
        finding_add_fact(f,
                         "Short observation: %" PRIu64 " of these %s had no answer yet when the "
                         "capture ended, less than the %s timeout after %s last SYN (%s); the "
                         "client had retransmitted %s SYN %s. A client retransmits only when its "
                         "own timer ran out with no answer, so %s counted as unanswered; an "
                         "attempt with a single SYN right before the end is not.",
                         a->short_n, f->lookups == 1 ? "attempt" : "attempts", to,
                         a->short_n == 1 ? "its" : "their", observed,
                         a->short_n == 1 ? "its" : "their", retries,
                         a->short_n == 1 ? "it is" : "they are");
    }
    if (a->retried) {
        char syns[48], spans[96], gaps[96];
        if (a->min_syns == a->max_syns)
            snprintf(syns, sizeof syns, "%u", a->min_syns);
        else
            snprintf(syns, sizeof syns, "%u to %u", a->min_syns, a->max_syns);
        range(a->min_span_us, a->max_span_us, spans, sizeof spans);
        range(a->min_gap_us, a->max_gap_us, gaps, sizeof gaps);
        char who[64];
        if (a->retried == f->lookups)
            snprintf(who, sizeof who, "%s", f->lookups == 1 ? "The attempt" : "Every attempt");
        else
            snprintf(who, sizeof who, "%" PRIu64 " of the %" PRIu64 " attempts", a->retried,
                     f->lookups);
        finding_add_fact(f,
                         "%s retransmitted %s SYN: %s SYNs per "
                         "attempt, the last %s after the first, one every %s on average: the "
                         "client's own backoff while it waited for an answer (Linux retransmits "
                         "at fixed 1 s intervals for the first tries, then doubles; other systems "
                         "double from the start). Only the first and last SYN of each attempt "
                         "are kept, so the individual gaps are not measured.",
                         who, a->retried == 1 ? "its" : "their", syns, spans, gaps);
    } else {
        finding_add_fact(f, "No attempt retransmitted its SYN: the clients gave up after one "
                            "SYN, or their retransmissions were not captured.");
    }
    if (e && e->cut) {
        when(&e->first_cut, &e->last_cut, span, sizeof span);
        finding_add_fact(f,
                         "%" PRIu64 " further %s to the same port (%" PRIu64 " SYN %s, starting "
                         "%s) had no answer yet when the capture ended, less than %s after "
                         "%s last SYN; %s not counted as %s.",
                         e->cut, e->cut == 1 ? "attempt" : "attempts", e->cut_syns,
                         e->cut_syns == 1 ? "packet" : "packets", span, to,
                         e->cut == 1 ? "its" : "their", e->cut == 1 ? "it is" : "they are",
                         e->cut == 1 ? "a failure" : "failures");
    }
    if (ok) {
        text_time(&e->first_ok, t1, sizeof t1);
        text_time(&e->last_ok, t2, sizeof t2);
        finding_add_fact(f,
                         "The same server completed %" PRIu64 " TCP %s on port %u in the capture "
                         "(first at %s, last at %s).",
                         ok, ok == 1 ? "handshake" : "handshakes", f->port, t1, t2);
    }
    if (alive) {
        /* Sums over what was kept are lower bounds past a bound, and said so. */
        char dns[96] = "";
        if (!dns_unknown)
            snprintf(dns, sizeof dns, ", and %" PRIu64 " DNS %s", dns_answered,
                     dns_answered == 1 ? "lookup" : "lookups");
        else if (dns_answered)
            snprintf(dns, sizeof dns, ", and at least %" PRIu64 " DNS %s", dns_answered,
                     dns_answered == 1 ? "lookup" : "lookups");
        finding_add_fact(f,
                         "%s is up: in the capture it answered %s%" PRIu64 " connection %s with a "
                         "SYN-ACK and %" PRIu64 " with a reset on %zu TCP %s%s%s.",
                         srv, tcp_partial ? "at least " : "", host.established,
                         host.established == 1 ? "attempt" : "attempts", host.resets,
                         host.ports_answered, host.ports_answered == 1 ? "port" : "ports",
                         tcp_partial ? " (among the ports nettriage kept)" : "", dns);
    } else if (tcp_partial)
        finding_add_fact(f,
                         "%s sent no SYN-ACK or reset on the TCP ports nettriage kept%s; its "
                         "other ports are not known (more than %zu services were seen, --bound "
                         "tcp.no_response.services).",
                         srv, dns_unknown ? "" : ", and no DNS answer", seen->max);
    else if (dns_unknown)
        finding_add_fact(f,
                         "%s sent no SYN-ACK or reset on any TCP port in the capture; whether it "
                         "answered DNS is not known (nettriage did not keep its DNS figures: "
                         "more than its bound of services were seen, --bound detect.services).",
                         srv);
    else
        finding_add_fact(f,
                         "%s sent nothing the capture shows: no SYN-ACK or reset on any TCP "
                         "port, no DNS answer.",
                         srv);

    finding_add_cause(
        f, alive ? CONF_HIGH : CONF_MEDIUM,
        "A firewall silently drops the SYNs to the port (a drop rule on the server or on the "
        "path).",
        alive ? "A drop rule (iptables `-j DROP`, nftables `drop`, a cloud security group) "
                "discards the SYN without a word, which is what the %" PRIu64
                " %s met; %s answered "
                "other traffic in the capture, so the host is up and something filters this "
                "port."
        : dns_unknown || tcp_partial
            ? "A drop rule (iptables `-j DROP`, nftables `drop`, a cloud security group) "
              "discards the SYN without a word, which is what the %" PRIu64 " %s met; nettriage "
              "kept no other answer from %s, so a host that is down cannot be ruled out."
            : "A drop rule (iptables `-j DROP`, nftables `drop`, a cloud security group) "
              "discards the SYN without a word, which is what the %" PRIu64 " %s met; the capture "
              "shows nothing else from %s, so a host that is down cannot be ruled out.",
        f->query_packets, f->query_packets == 1 ? "SYN" : "SYNs", srv);
    finding_add_cause(
        f, alive ? CONF_LOW : CONF_MEDIUM,
        "The server is down or absent (powered off, a wrong or moved address), or its answers "
        "have no route back.",
        alive ? "%s answered other traffic in the capture, so it was up at the time; only a "
                "route that loses its answers to this port would fit."
              : "An absent host sends nothing, exactly like a dropping filter. On the same link, "
                "ARP (IPv4) or neighbour solicitations (IPv6) for %s left without reply would "
                "show it absent: this rule does not read them, look for them in the capture.",
        srv);
    if (ok)
        finding_add_cause(f, CONF_MEDIUM,
                          "The service or a filter changed during the capture: the same port "
                          "accepted connections at other times.",
                          "%s completed %" PRIu64 " %s on TCP port %u in the capture, "
                          "while %" PRIu64 " other %s met silence.",
                          srv, ok, ok == 1 ? "handshake" : "handshakes", f->port, f->lookups,
                          f->lookups == 1 ? "attempt" : "attempts");
    finding_add_cause(
        f, CONF_LOW,
        "The service is overloaded: its listen queue is full and the kernel drops "
        "new SYNs.",
        "A full accept queue makes Linux drop SYNs silently; the capture shows %" PRIu64
        " %s from %" PRIu64 " %s, which says little about the load on %s.",
        f->lookups, f->lookups == 1 ? "attempt" : "attempts", n_clients,
        n_clients == 1 ? "client" : "clients", srv);
    if (only_short)
        finding_cap_causes(f, short_cap);
    if (one_sided) {
        finding_cap_causes(f, CONF_LOW);
        finding_add_cause(f, CONF_MEDIUM,
                          "The capture holds one direction only (a tap or mirror port of one "
                          "direction, asymmetric routing past the capture point, or a capture "
                          "filter): the SYN-ACKs may have reached the client without being "
                          "captured.",
                          "No packet addressed to %s is in the capture, yet %" PRIu64 " of %s "
                          "other TCP connections went on after the SYN as only a client that "
                          "received the SYN-ACK does.",
                          clients, os_unseen, n_clients == 1 ? "its" : "their");
    }
    finding_rank_causes(f);

    finding_add_step(f,
                     "Try the port from another network and from the server itself: `nc -vz -w "
                     "5 %s %u`. Connected on the server but silent from elsewhere points to a "
                     "filter on the path or on the server's input.",
                     srv_cmd, f->port);
    finding_add_step(f,
                     "Check that the host is there: `ping -c 3 %s` and, from a host on the same "
                     "link, `ip neigh show %s` (FAILED or INCOMPLETE: nothing answers ARP or "
                     "neighbour discovery for that address).",
                     srv_cmd, srv_cmd);
    finding_add_step(f,
                     "In the capture, look for address resolution of %s left without reply: "
                     "`tcpdump -nn -r CAPTURE 'arp or (icmp6 and ip6[40] >= 135 and ip6[40] <= "
                     "136)'`.",
                     srv);
    finding_add_step(f,
                     "On %s, list the rules that could drop TCP port %u: `nft list ruleset` and "
                     "`iptables -S` / `ip6tables -S` (look for drop on tcp dport %u), and check "
                     "the listener and its queue: `ss -ltn 'sport = :%u'`, `nstat -az "
                     "TcpExtListenDrops TcpExtListenOverflows`.",
                     srv, f->port, f->port, f->port);
    finding_add_step(f,
                     "Find where the SYNs stop: `traceroute -T -p %u %s` from an affected client.",
                     f->port, srv_cmd);
}

static void on_finish(struct rule_ctx *rc)
{
    /* Per-host sums once, not one pass over the whole table per finding (a port scan makes
     * one finding per port). */
    tcp_scan_withdraw(rc);
    const struct tcp_seen *seen = tcp_seen_of(rc);
    struct tcp_seen_host_row *rows = NULL;
    size_t n_rows = seen ? tcp_seen_hosts(seen, &rows) : 0;
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f, rows, n_rows);
    free(rows);
}

static const struct rule_bound_def seen_bounds[] = {TCP_SEEN_BOUND, {NULL, 0, 0, 0, NULL}};

const struct rule rule_tcp_no_response = {
    .id = "tcp.no_response",
    .severity = SEV_HIGH,
    .title = "TCP connections unanswered",
    .on_tcp_attempt = on_attempt,
    .on_finish = on_finish,
    .free_state = tcp_seen_free_state,
    .bounds = seen_bounds,
};
