/* tcp_refused.c: TCP connection attempts refused: the SYN answered by a reset (RST) from the
 * server, or by an ICMP port unreachable / administratively prohibited quoting it (a filter's
 * rejection: a host's own stack answers a closed TCP port with a reset, never with ICMP). The
 * attempts of a source that tcp.scan found scanning are left to it (tcp_scan.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/rules/tcp_seen.h"
#include "detect/text.h"

#define SENDERS_KEPT 8

struct refused_acc {
    struct tcp_acc_head head; /* first: the service name lives here */
    uint64_t resets, icmp_port, icmp_admin;
    uint64_t retried; /* attempts with more than one SYN */
    struct nt_time first_syn, last_syn, first_reply, last_reply;
    int64_t min_rtt_us, max_rtt_us;
    uint64_t n_rtt;
    uint8_t ip_version;
    uint8_t icmp_type, icmp_code;         /* of the first ICMP refusal */
    struct nt_addr senders[SENDERS_KEPT]; /* hosts that sent the ICMP refusals */
    size_t n_senders;
    bool icmp_from_path;
};

/* Every attempt, for the causes (did the same service accept other connections?). */

static void on_attempt(struct rule_ctx *rc, const struct tcp_attempt *t)
{
    struct tcp_seen *seen = tcp_seen_of(rc);
    if (seen)
        tcp_seen_add(rc, seen, t);
    bool icmp = t->outcome == TCP_ICMP_ERROR &&
                (t->icmp_kind == ICMP_K_PORT_UNREACH || t->icmp_kind == ICMP_K_ADMIN_PROHIBITED);
    if (t->outcome != TCP_RESET && !icmp)
        return;
    if (tcp_scan_known(rc, &t->client))
        return; /* a scanning source: tcp.scan reports its attempts */
    bool created;
    struct finding *f = tcp_seen_finding(rc, t, sizeof(struct refused_acc), &created);
    if (!f || !f->priv)
        return;
    struct refused_acc *a = f->priv;
    if (created) {
        f->reply_one = "refusal";
        f->reply_many = "refusals";
        a->min_rtt_us = INT64_MAX;
        a->ip_version = t->syn.ip_version;
    }
    finding_add_client(f, &t->client);
    f->lookups++;
    f->query_packets += t->syns;
    f->error_packets++;
    f->packets = f->query_packets + f->error_packets;
    if (t->late)
        f->late++;
    if (t->syns > 1)
        a->retried++;
    if (t->outcome == TCP_RESET) {
        a->resets++;
    } else {
        if (a->icmp_port + a->icmp_admin == 0) {
            a->icmp_type = t->reply.icmp_type;
            a->icmp_code = t->reply.icmp_code;
        }
        if (t->icmp_kind == ICMP_K_PORT_UNREACH)
            a->icmp_port++;
        else
            a->icmp_admin++;
        if (t->icmp_sender != ICMP_SENDER_SERVER)
            a->icmp_from_path = true;
        bool known = false;
        for (size_t i = 0; i < a->n_senders; i++)
            known |= nt_addr_eq(&a->senders[i], &t->reply.src);
        if (!known && a->n_senders < SENDERS_KEPT)
            a->senders[a->n_senders++] = t->reply.src;
    }
    finding_add_evidence(f, &t->syn);
    if (t->syns > 1)
        finding_add_evidence(f, &t->retry);
    finding_add_evidence(f, &t->reply);
    finding_see_time(f, &t->first_syn);
    finding_see_time(f, &t->last_syn);
    finding_see_time(f, &t->reply.ts);
    nt_time_widen(&a->first_syn, &a->last_syn, &t->first_syn);
    nt_time_widen(&a->first_reply, &a->last_reply, &t->reply.ts);
    if (t->first_syn.kind != NT_TIME_NONE && t->reply.ts.kind != NT_TIME_NONE) {
        if (t->rtt_us < a->min_rtt_us)
            a->min_rtt_us = t->rtt_us;
        if (t->rtt_us > a->max_rtt_us)
            a->max_rtt_us = t->rtt_us;
        a->n_rtt++;
    }
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

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct tcp_seen *seen = tcp_seen_of(rc);
    const struct refused_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], senders[512];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_addr_list(a->senders, a->n_senders, 0, senders, sizeof senders);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    char what[64];
    if (tcp_seen_service(f->port))
        snprintf(what, sizeof what, "%s (TCP port %u)", f->service, f->port);
    else
        snprintf(what, sizeof what, "TCP port %u", f->port);
    uint64_t icmp = a->icmp_port + a->icmp_admin;
    char delays[128] = "";
    if (a->n_rtt) {
        char d1[32], d2[32];
        nt_duration_format(a->min_rtt_us, d1, sizeof d1);
        nt_duration_format(a->max_rtt_us, d2, sizeof d2);
        if (a->min_rtt_us == a->max_rtt_us)
            snprintf(delays, sizeof delays, ", %s after the SYN", d1);
        else
            snprintf(delays, sizeof delays, ", %s to %s after the SYN", d1, d2);
    }
    uint8_t v = a->ip_version == 6 ? 6 : 4;
    char icmp_desc[160] = "";
    if (icmp)
        snprintf(icmp_desc, sizeof icmp_desc, "%s type %u, code %u: %s", v == 6 ? "ICMPv6" : "ICMP",
                 a->icmp_type, a->icmp_code, icmp_code_description(v, a->icmp_type, a->icmp_code));
    const struct tcp_seen_entry *e = seen ? tcp_seen_get(seen, &f->server, f->port) : NULL;
    uint64_t ok = e ? e->established : 0;
    /* The service's other outcomes were not kept (past --bound tcp.refused.services): whether
     * other connections to it completed is unknown, and nothing may say none did. */
    bool unknown = !e && tcp_seen_partial(seen);
    /* DNS over TCP: did the same server answer DNS over UDP? */
    const struct server_stats *ss =
        f->port == 53 ? rule_server_stats(rc, &f->server, 53, 17) : NULL;
    uint64_t udp_ok = ss ? ss->answered : 0;
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], span[2 * NT_TIME_FMT_MAX + 16];

    /* Summary. */
    char how[1536];
    if (a->resets && icmp)
        snprintf(how, sizeof how,
                 "%" PRIu64 " %s answered by a TCP reset from the server and %" PRIu64
                 " by an ICMP error (%s) from %s",
                 a->resets, a->resets == 1 ? "was" : "were", icmp, icmp_desc, senders);
    else if (a->resets)
        snprintf(how, sizeof how, "%s answered by a TCP reset (RST) from %s itself%s",
                 f->lookups == 1 ? "it was" : "each was", srv, delays);
    else
        snprintf(how, sizeof how, "%s answered by an ICMP error from %s (%s)%s",
                 f->lookups == 1 ? "it was" : "each was", senders, icmp_desc, delays);
    const char *meaning =
        a->resets && !icmp
            ? "The server host is up, since it answered, but nothing accepted the connection on "
              "that port: no program listens there, or a firewall rejects the port with a reset"
        : !a->resets
            ? "A firewall rejected the connection: a host's own TCP stack answers a closed port "
              "with a reset, never with this ICMP error, which is what iptables' REJECT sends by "
              "default and what nftables sends with reject"
            : "Nothing accepted the connection: no program listens on that port, or a firewall "
              "rejects it (the ICMP errors can only come from a filter)";
    finding_set_summary(f,
                        "Connections to %s on %s were refused. %" PRIu64
                        " connection %s from %" PRIu64 " %s (%s) got no connection: %s. %s.",
                        what, srv, f->lookups, f->lookups == 1 ? "attempt" : "attempts", n_clients,
                        n_clients == 1 ? "client" : "clients", clients, how, meaning);

    /* Key findings. */
    uint64_t retrans = f->query_packets - f->lookups;
    when(&a->first_syn, &a->last_syn, span, sizeof span);
    finding_add_fact(f,
                     "%" PRIu64 " SYN %s (%" PRIu64 " connection %s, %" PRIu64 " %s) went from %s "
                     "to %s TCP port %u %s.",
                     f->query_packets, f->query_packets == 1 ? "packet" : "packets", f->lookups,
                     f->lookups == 1 ? "attempt" : "attempts", retrans,
                     retrans == 1 ? "retransmission" : "retransmissions", clients, srv, f->port,
                     span);
    when(&a->first_reply, &a->last_reply, span, sizeof span);
    if (a->resets)
        finding_add_fact(f,
                         "%" PRIu64 " %s answered by a reset (RST) from %s %s%s; no SYN-ACK came "
                         "back for %s.",
                         a->resets, a->resets == 1 ? "attempt was" : "attempts were", srv, span,
                         icmp ? "" : delays, a->resets == 1 ? "it" : "them");
    if (icmp)
        finding_add_fact(f,
                         "%" PRIu64 " %s answered by %s from %s %s%s (%" PRIu64
                         " port unreachable, %" PRIu64 " administratively prohibited).",
                         icmp, icmp == 1 ? "attempt was" : "attempts were", icmp_desc, senders,
                         span, a->resets ? "" : delays, a->icmp_port, a->icmp_admin);
    if (a->retried)
        finding_add_fact(f,
                         "%" PRIu64 " of the attempts sent their SYN more than once before the "
                         "refusal came.",
                         a->retried);
    if (f->late) {
        char to[32];
        nt_duration_format(rule_timeout_us(rc), to, sizeof to);
        finding_add_fact(f, "%" PRIu64 " %s came more than %s after the last SYN.", f->late,
                         f->late == 1 ? "refusal" : "refusals", to);
    }
    if (ok) {
        text_time(&e->first_ok, t1, sizeof t1);
        text_time(&e->last_ok, t2, sizeof t2);
        finding_add_fact(f,
                         "The same server completed %" PRIu64 " TCP %s on port %u in the capture "
                         "(first at %s, last at %s).",
                         ok, ok == 1 ? "handshake" : "handshakes", f->port, t1, t2);
    } else if (unknown) {
        finding_add_fact(f,
                         "nettriage did not keep the other TCP outcomes of %s port %u: more than "
                         "%zu services were seen (--bound tcp.refused.services), so whether "
                         "other connections to it completed is not known.",
                         srv, f->port, seen->max);
    } else {
        finding_add_fact(f, "%s completed no TCP handshake on port %u in the capture.", srv,
                         f->port);
    }

    if (udp_ok)
        finding_add_fact(f, "The same server answered %" PRIu64 " DNS %s over UDP port 53.", udp_ok,
                         udp_ok == 1 ? "lookup" : "lookups");

    /* Causes. */
    char all[48];
    if (a->resets) {
        text_all(a->resets, "reset", "resets", all, sizeof all);
        const char *fw_text = ok ? "A firewall rule rejects the port with a reset for some "
                                   "clients or times (a rule that is scoped or was added during "
                                   "the capture)."
                                 : "A firewall on the server rejects the port with a reset.";
        const char *fw_reason = "iptables `-j REJECT --reject-with tcp-reset` and nftables "
                                "`reject with tcp reset` send the same reset a closed port sends, "
                                "so the capture cannot tell them apart; `ss -ltn` on the server "
                                "(is anything listening?) and its firewall rules can.";
        if (udp_ok && !ok) {
            /* The DNS service runs (it answers over UDP): TCP alone is refused. */
            finding_add_cause(f, CONF_MEDIUM,
                              "A firewall allows DNS over UDP but rejects TCP port 53 with a "
                              "reset, a common misconfiguration.",
                              "%s answered %" PRIu64 " DNS %s over UDP port 53 in the capture, so "
                              "the DNS service runs, while every TCP connection was reset. %s",
                              srv, udp_ok, udp_ok == 1 ? "lookup" : "lookups", fw_reason);
            finding_add_cause(f, CONF_MEDIUM,
                              "The DNS server does not listen on TCP (it is configured for UDP "
                              "only, or its TCP listener failed).",
                              "A host's TCP stack resets a SYN to a port no program listens on; "
                              "%s came from %s itself%s while UDP queries were answered.",
                              all, srv, delays);
        } else {
            if (ok)
                finding_add_cause(f, CONF_MEDIUM,
                                  "The service on the port stopped or restarted during the "
                                  "capture: it accepted some connections and refused others.",
                                  "%s completed %" PRIu64 " %s on TCP port %u in the "
                                  "capture and answered %" PRIu64 " other %s with a reset; a "
                                  "program that listens only part of the time was restarted, "
                                  "crashed, or reached a limit.",
                                  srv, ok, ok == 1 ? "handshake" : "handshakes", f->port, a->resets,
                                  a->resets == 1 ? "attempt" : "attempts");
            else if (unknown)
                finding_add_cause(f, CONF_MEDIUM,
                                  "Nothing listens on the port: the service is stopped, crashed, "
                                  "or bound to another address or port.",
                                  "A host's TCP stack answers a SYN to a port no program listens "
                                  "on with a reset. %s came from %s itself%s; whether other "
                                  "connections to TCP port %u on it completed is not known here.",
                                  all, srv, delays, f->port);
            else
                finding_add_cause(f, CONF_HIGH,
                                  "Nothing listens on the port: the service is stopped, crashed, "
                                  "or bound to another address or port.",
                                  "A host's TCP stack answers a SYN to a port no program listens "
                                  "on with a reset. %s came from %s itself%s, and no connection to "
                                  "TCP port %u on it completed in the capture.",
                                  all, srv, delays, f->port);
            finding_add_cause(f, CONF_MEDIUM, fw_text, "%s", fw_reason);
        }
        finding_add_cause(f, CONF_LOW,
                          "A load balancer or proxy in front of the address has no working "
                          "backend and resets new connections.",
                          "Such a device answers with the server's address, so the capture "
                          "cannot tell it from the server%s%s.",
                          delays[0] ? "; the resets came" : "", delays[0] ? delays + 1 : "");
    }
    if (icmp) {
        text_all(icmp, "ICMP error", "ICMP errors", all, sizeof all);
        finding_add_cause(
            f, CONF_HIGH,
            a->icmp_from_path ? "A firewall or router access list on the path rejects the port."
                              : "A firewall on the server rejects the port.",
            "A closed TCP port is answered with a reset, so %s (%s) can only come "
            "from a filter: iptables `-j REJECT` (port unreachable by default, "
            "`--reject-with icmp-admin-prohibited`), nftables `reject` or a "
            "router's access list. %s came from %s%s.",
            icmp == 1 ? "this ICMP error" : "these ICMP errors", icmp_desc, all, senders, delays);
    }
    finding_rank_causes(f);

    /* Next steps. */
    finding_add_step(f,
                     "On %s, check what listens on TCP port %u: `ss -ltnp 'sport = :%u'`, and the "
                     "status of the service meant to serve it (`systemctl status <service>`).",
                     srv, f->port, f->port);
    finding_add_step(f,
                     "On %s%s%s, list the firewall rules for TCP port %u: `nft list ruleset` and "
                     "`iptables -S` / `ip6tables -S` (look for reject on tcp dport %u%s).",
                     srv, icmp && a->icmp_from_path ? " and on " : "",
                     icmp && a->icmp_from_path ? senders : "", f->port, f->port,
                     a->resets ? ", with tcp reset" : "");
    finding_add_step(f,
                     "Try the port from the server itself and from another network: `nc -vz %s "
                     "%u`. Connected on the server but refused from elsewhere points to a "
                     "firewall; refused everywhere points to the service.",
                     srv_cmd, f->port);
    if (a->first_syn.kind != NT_TIME_NONE) {
        text_time(&a->first_syn, t1, sizeof t1);
        finding_add_step(f,
                         "Read the service's logs from before %s (`journalctl -u <service> "
                         "--since ...`) for a stop, a crash, or a failure to bind port %u.",
                         t1, f->port);
    }
}

static void on_finish(struct rule_ctx *rc)
{
    tcp_scan_withdraw(rc);
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

static const struct rule_bound_def seen_bounds[] = {TCP_SEEN_BOUND, {NULL, 0, 0, 0, NULL}};

const struct rule rule_tcp_refused = {
    .id = "tcp.refused",
    .severity = SEV_HIGH,
    .title = "TCP connections refused",
    .on_tcp_attempt = on_attempt,
    .on_finish = on_finish,
    .free_state = tcp_seen_free_state,
    .bounds = seen_bounds,
};
