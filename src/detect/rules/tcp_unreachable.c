/* tcp_unreachable.c: TCP connection attempts answered by an ICMP host, network or other
 * destination unreachable (not port unreachable or administratively prohibited, which
 * tcp.refused takes): a router, or the client's own stack, could not deliver the SYN. IPv6
 * "no route to destination" (1/0) and "address unreachable" (1/3) are the common ones. Before
 * this rule such attempts were counted as refused by ICMP in the summary but made no finding. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/rules/tcp_seen.h"
#include "detect/text.h"

#define SENDERS_KEPT 8

struct unreach_acc {
    struct tcp_acc_head head; /* first: the service name lives here */
    uint64_t host, net, other;
    uint64_t from_client; /* errors sent by the client's own host (its stack found no route) */
    struct nt_time first_reply, last_reply;
    uint8_t ip_version, icmp_type, icmp_code; /* of the first error */
    struct nt_addr senders[SENDERS_KEPT];
    size_t n_senders;
};

static bool is_unreach(uint8_t kind)
{
    return kind == ICMP_K_HOST_UNREACH || kind == ICMP_K_NET_UNREACH ||
           kind == ICMP_K_UNREACH_OTHER || kind == ICMP_K_PROTO_UNREACH;
}

static void on_attempt(struct rule_ctx *rc, const struct tcp_attempt *t)
{
    struct tcp_seen *seen = tcp_seen_of(rc);
    if (seen)
        tcp_seen_add(rc, seen, t);
    if (t->outcome != TCP_ICMP_ERROR || !is_unreach(t->icmp_kind))
        return;
    bool created;
    struct finding *f = tcp_seen_finding(rc, t, sizeof(struct unreach_acc), &created);
    if (!f || !f->priv)
        return;
    struct unreach_acc *a = f->priv;
    if (created) {
        f->reply_one = "ICMP unreachable";
        f->reply_many = "ICMP unreachables";
        a->ip_version = t->reply.ip_version ? t->reply.ip_version : t->syn.ip_version;
        a->icmp_type = t->reply.icmp_type;
        a->icmp_code = t->reply.icmp_code;
    }
    finding_add_client(f, &t->client);
    f->lookups++;
    f->query_packets += t->syns;
    f->error_packets++;
    f->packets = f->query_packets + f->error_packets;
    if (t->icmp_kind == ICMP_K_HOST_UNREACH)
        a->host++;
    else if (t->icmp_kind == ICMP_K_NET_UNREACH)
        a->net++;
    else
        a->other++;
    if (nt_addr_eq(&t->reply.src, &t->client))
        a->from_client++;
    bool known = false;
    for (size_t i = 0; i < a->n_senders; i++)
        known |= nt_addr_eq(&a->senders[i], &t->reply.src);
    if (!known && a->n_senders < SENDERS_KEPT)
        a->senders[a->n_senders++] = t->reply.src;
    finding_add_evidence(f, &t->syn);
    if (t->syns > 1)
        finding_add_evidence(f, &t->retry);
    finding_add_evidence(f, &t->reply);
    finding_see_time(f, &t->first_syn);
    finding_see_time(f, &t->reply.ts);
    nt_time_widen(&a->first_reply, &a->last_reply, &t->reply.ts);
}

static void explain(struct rule_ctx *rc, struct finding *f)
{
    const struct tcp_seen *seen = tcp_seen_of(rc);
    const struct unreach_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], senders[512];
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], icmp[160], what[64];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_addr_list(a->senders, a->n_senders, 0, senders, sizeof senders);
    text_time(&a->first_reply, t1, sizeof t1);
    text_time(&a->last_reply, t2, sizeof t2);
    uint8_t v = a->ip_version == 6 ? 6 : 4;
    snprintf(icmp, sizeof icmp, "%s type %u, code %u: %s", v == 6 ? "ICMPv6" : "ICMP", a->icmp_type,
             a->icmp_code, icmp_code_description(v, a->icmp_type, a->icmp_code));
    if (tcp_seen_service(f->port))
        snprintf(what, sizeof what, "%s (TCP port %u)", f->service, f->port);
    else
        snprintf(what, sizeof what, "TCP port %u", f->port);
    uint64_t n_cl = f->n_clients + f->clients_dropped;
    uint64_t errors = a->host + a->net + a->other;

    finding_set_summary(f,
                        "Connections to %s on %s could not be delivered. %" PRIu64
                        " connection %s from %" PRIu64 " %s (%s) %s answered by \"%s\" from %s: "
                        "the SYNs did not reach the server.",
                        what, srv, f->lookups, f->lookups == 1 ? "attempt" : "attempts", n_cl,
                        n_cl == 1 ? "client" : "clients", clients, f->lookups == 1 ? "was" : "were",
                        icmp, senders);
    finding_add_fact(f,
                     "%" PRIu64 " SYN %s, %" PRIu64 " ICMP %s (%" PRIu64 " host, %" PRIu64
                     " network, %" PRIu64 " other unreachable) from %s, %s%s%s%s.",
                     f->query_packets, f->query_packets == 1 ? "packet" : "packets", errors,
                     errors == 1 ? "error" : "errors", a->host, a->net, a->other, senders,
                     strcmp(t1, t2) == 0 ? "at " : "between ", t1,
                     strcmp(t1, t2) == 0 ? "" : " and ", strcmp(t1, t2) == 0 ? "" : t2);
    uint64_t ok = 0, resets = 0;
    if (seen) {
        struct tcp_seen_host h;
        tcp_seen_host(seen, &f->server, &h);
        ok = h.established;
        resets = h.resets;
    }
    if (ok || resets)
        finding_add_fact(f,
                         "The same host completed %s%" PRIu64 " %s and sent %" PRIu64 " %s in the "
                         "capture%s: it was reachable at other times.",
                         tcp_seen_partial(seen) ? "at least " : "", ok,
                         ok == 1 ? "handshake" : "handshakes", resets,
                         resets == 1 ? "reset" : "resets",
                         tcp_seen_partial(seen) ? " (among the TCP services nettriage kept)" : "");
    else if (tcp_seen_partial(seen))
        finding_add_fact(f,
                         "No packet from %s itself is among the TCP services nettriage kept "
                         "(more than %zu services were seen, --bound tcp.unreachable.services).",
                         srv, seen->max);
    else
        finding_add_fact(f, "No packet from %s itself is in the capture.", srv);

    if (a->from_client)
        finding_add_cause(f, CONF_HIGH,
                          "The client has no route to the server: its own network stack refused "
                          "to send the SYN.",
                          "%" PRIu64 " of the errors came from the client's own address: a host "
                          "answers itself this way when its routing table has no route, or its "
                          "neighbour discovery (ARP, NDP) for the next hop failed.",
                          a->from_client);
    finding_add_cause(f, a->net ? CONF_HIGH : CONF_MEDIUM,
                      "A router on the path has no route to the server's network.",
                      "%s sent network or no-route unreachable %" PRIu64 " times; a missing or "
                      "withdrawn route, or a wrong default gateway, gives exactly this.",
                      senders, a->net);
    finding_add_cause(f, a->host ? CONF_HIGH : CONF_MEDIUM,
                      "The server is down or absent on its link: the last router could not "
                      "resolve its address (ARP or neighbour discovery got no answer).",
                      "Host (address) unreachable comes from the last router when the "
                      "destination does not answer on its own segment; it was sent %" PRIu64
                      " times.",
                      a->host);
    finding_add_cause(f, CONF_LOW,
                      "A firewall rejects the traffic with host or network unreachable instead "
                      "of admin prohibited.",
                      "Some filters (iptables --reject-with icmp-host-unreachable or "
                      "icmp-net-unreachable) use these codes; the capture cannot tell them from "
                      "a real routing failure.");
    finding_rank_causes(f);

    finding_add_step(f, "On the client, check the route to %s: `ip route get %s`.", srv, srv_cmd);
    finding_add_step(f,
                     "On the router that sent the errors (%s), check its route and neighbour "
                     "entry for %s: `ip route get %s` and `ip neigh show %s`.",
                     senders, srv, srv_cmd, srv_cmd);
    finding_add_step(f,
                     "Check that %s is up on its own link (its console, or a ping from its "
                     "segment).",
                     srv);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain(rc, f);
}

static const struct rule_bound_def seen_bounds[] = {TCP_SEEN_BOUND, {NULL, 0, 0, 0, NULL}};

const struct rule rule_tcp_unreachable = {
    .id = "tcp.unreachable",
    .severity = SEV_HIGH,
    .title = "TCP connections could not reach the server (ICMP unreachable)",
    .on_tcp_attempt = on_attempt,
    .on_finish = on_finish,
    .free_state = tcp_seen_free_state,
    .bounds = seen_bounds,
};
