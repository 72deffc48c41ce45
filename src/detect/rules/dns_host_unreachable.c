/* dns_host_unreachable.c: DNS queries answered by ICMP host or network unreachable (ICMP type 3
 * codes 0, 1, 6, 7, 8, 11, 12, RFC 792 and RFC 1122; ICMPv6 type 1 codes 0 and 3, RFC 4443):
 * a router could not deliver them to the server. The delay from query to error tells a router
 * whose routing table refuses the destination (the error comes at once) from one that has a
 * route but got no answer to its ARP or neighbour solicitations for the server (about 3 s). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dns_icmp.h"
#include "detect/text.h"

/* An error within this delay of the query came from the routing table (or a neighbour entry
 * already known to have failed), not from address resolution in progress. */
#define FAST_US 500000
/* Linux (and most routers) send up to 3 solicitations 1 s apart (mcast_solicit 3, retrans_time
 * 1 s) before they give up on a neighbour; the errors come about 3 s after the first packet
 * that waited for it. */
#define RESOLVE_MIN_US 2000000
#define RESOLVE_MAX_US 4500000

/* Accumulated per finding: the shared measures first (dns_icmp.c reads f->priv as that),
 * then this rule's own. */
struct hu_acc {
    struct dns_icmp_acc acc;
    uint64_t host, net;      /* lookups by kind of their first error */
    uint64_t fast, resolve;  /* lookups by the delay from their first query to the error */
    uint64_t other, no_time; /* delays in neither range; lookups without times */
    int64_t min_elapsed, max_elapsed;
};

/* Marks a finding whose priv was widened to struct hu_acc. */
static void hu_free(void *p)
{
    free(p);
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->outcome != LOOKUP_ICMP_ERROR ||
        (l->icmp_kind != ICMP_K_HOST_UNREACH && l->icmp_kind != ICMP_K_NET_UNREACH))
        return;
    struct finding *f = dns_icmp_add(rc, l);
    if (!f)
        return;
    struct hu_acc *h;
    if (f->priv_free != hu_free) {
        /* Workaround: dns_icmp_add allocates a bare struct dns_icmp_acc on the finding's
         * first lookup; widen it to this rule's accumulator, which starts with it. */
        h = calloc(1, sizeof *h);
        if (!h)
            return;
        memcpy(&h->acc, f->priv, sizeof h->acc);
        free(f->priv);
        f->priv = h;
        f->priv_free = hu_free;
        h->min_elapsed = INT64_MAX;
    }
    h = f->priv;
    if (l->icmp_kind == ICMP_K_HOST_UNREACH)
        h->host++;
    else
        h->net++;
    if (l->first_tx.kind == NT_TIME_NONE || l->error.ts.kind == NT_TIME_NONE) {
        h->no_time++;
        return;
    }
    /* From the first transmission: a router queues every packet for an unresolved neighbour
     * and answers all of them when it gives up, so a retransmission's own delay is shorter. */
    int64_t d = nt_time_diff_us(&l->first_tx, &l->error.ts);
    if (d < h->min_elapsed)
        h->min_elapsed = d;
    if (d > h->max_elapsed)
        h->max_elapsed = d;
    if (d >= 0 && d < FAST_US)
        h->fast++;
    else if (d >= RESOLVE_MIN_US && d <= RESOLVE_MAX_US)
        h->resolve++;
    else
        h->other++;
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    struct hu_acc bare = {.min_elapsed = INT64_MAX};
    const struct hu_acc *h = f->priv;
    if (f->priv_free != hu_free) {
        /* Out of memory when widening: the shared measures only. */
        memcpy(&bare.acc, f->priv, sizeof bare.acc);
        h = &bare;
    }
    const struct dns_icmp_acc *a = &h->acc;
    struct dns_icmp_words w;
    dns_icmp_words(rc, f, &w);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    const char *what = h->net == 0    ? "host unreachable"
                       : h->host == 0 ? "network unreachable"
                                      : "host or network unreachable";
    char router_cmd[NT_ADDR_FMT_MAX * 2 + 8] = "ROUTER";
    char router[NT_ADDR_FMT_MAX];
    if (a->n_senders) {
        text_addr(&a->senders[0], router, sizeof router);
        text_shell_word(router, router_cmd, sizeof router_cmd);
    }
    char d1[32] = "", d2[32] = "", span[80] = "";
    if (h->max_elapsed >= 0 && h->min_elapsed != INT64_MAX) {
        nt_duration_format(h->min_elapsed, d1, sizeof d1);
        nt_duration_format(h->max_elapsed, d2, sizeof d2);
        if (h->min_elapsed == h->max_elapsed)
            snprintf(span, sizeof span, "%s", d1);
        else
            snprintf(span, sizeof span, "%s to %s", d1, d2);
    }
    uint64_t timed = h->fast + h->resolve + h->other;
    bool all_fast = timed && h->fast == f->lookups;
    bool all_resolve = timed && h->resolve == f->lookups;
    bool from_path_only = a->senders_from_path && !a->senders_from_server;

    char timing[640];
    if (all_resolve)
        snprintf(timing, sizeof timing,
                 "The errors came %s after the first query of each lookup: about the 3 s a router "
                 "spends asking for the server's link-layer address (ARP, or IPv6 neighbour "
                 "discovery) before it gives up. So the router has a route to the server's "
                 "network, but nothing answered for %s on that link: the server host is down, "
                 "disconnected, or not at that address.",
                 span, w.srv);
    else if (all_fast)
        snprintf(timing, sizeof timing,
                 "The errors came at once (%s after the first query of each lookup), without the "
                 "seconds a failing ARP or neighbour discovery takes: the router's routing table "
                 "itself refused the destination (no route to it, or an unreachable route), or "
                 "the router had already given up on the server's address.",
                 span);
    else if (timed)
        snprintf(timing, sizeof timing,
                 "The delays from query to error (%s) mix immediate errors (%" PRIu64
                 ") and errors after about 3 s (%" PRIu64 ", failed address resolution) with "
                 "%" PRIu64 " of neither kind, so the capture alone cannot say whether the "
                 "router lacks a route or cannot reach the server on its own link; the router's "
                 "routing table and neighbour cache tell them apart.",
                 span, h->fast, h->resolve, h->other);
    else
        snprintf(timing, sizeof timing,
                 "The input carries no times, so the delay that tells a missing route (an "
                 "immediate error) from a server that does not answer on the router's link "
                 "(about 3 s) is unknown; the router's routing table and neighbour cache tell "
                 "them apart.");

    if (from_path_only)
        finding_set_summary(
            f,
            "DNS server %s could not be reached. %" PRIu64 " %s to it over %s port %u (%s) "
            "from %" PRIu64 " %s (%s) %s answered by ICMP %s (%s) sent by the router %s on the "
            "path, not by the server: a router could not deliver the queries. %s",
            w.srv, f->lookups, f->lookups == 1 ? "lookup" : "lookups", w.PROTO, f->port, w.names,
            n_clients, n_clients == 1 ? "client" : "clients", w.clients,
            f->lookups == 1 ? "was" : "were each", what, w.icmp, w.senders, timing);
    else
        finding_set_summary(
            f,
            "DNS server %s answered with ICMP %s. %" PRIu64 " %s to it over %s port %u (%s) "
            "from %" PRIu64 " %s (%s) %s refused with %s, sent by %s%s. A host does not report "
            "itself unreachable on its own: a firewall rule that rejects with this code is the "
            "usual source.",
            w.srv, what, f->lookups, f->lookups == 1 ? "lookup" : "lookups", w.PROTO, f->port,
            w.names, n_clients, n_clients == 1 ? "client" : "clients", w.clients,
            f->lookups == 1 ? "was" : "were each", w.icmp, w.senders,
            a->senders_from_path ? " (the server itself and a router on the path)"
                                 : " (the server itself)");
    dns_icmp_add_facts(rc, f, &w);
    finding_add_fact(f,
                     "%" PRIu64 " %s failed with host unreachable and %" PRIu64 " with network "
                     "unreachable; %s.",
                     h->host, h->host == 1 ? "lookup" : "lookups", h->net,
                     from_path_only ? "every error came from a router on the path"
                                    : "at least one came from the server's own address");
    if (timed)
        finding_add_fact(f,
                         "From the first query of each lookup to its error: %s (%" PRIu64
                         " within 0.5 s, %" PRIu64 " between 2 s and 4.5 s, %" PRIu64 " other%s).",
                         span, h->fast, h->resolve, h->other,
                         h->no_time ? ", some without times" : "");

    char all_errors[48];
    text_all(f->error_packets, "error", "errors", all_errors, sizeof all_errors);
    if (a->senders_from_server)
        finding_add_cause(f, CONF_HIGH,
                          "A firewall on the server rejects DNS with host or network unreachable.",
                          "%s came from %s itself, so the server host is up and its network "
                          "stack answered; a host reports itself unreachable only through a "
                          "reject rule (iptables `--reject-with icmp-host-unreachable` or "
                          "`icmp-net-unreachable`, nftables `reject with %s`).",
                          all_errors, w.srv,
                          a->ip_version == 6 ? "icmpv6 addr-unreachable" : "icmp host-unreachable");
    if (from_path_only || a->senders_from_path) {
        finding_add_cause(f,
                          all_resolve ? CONF_HIGH
                          : all_fast  ? CONF_LOW
                                      : CONF_MEDIUM,
                          "The server host is down, disconnected, or not at this address: the "
                          "router on its network gets no answer to ARP or neighbour discovery.",
                          "%s %s came from %s after %s%s.", all_errors, what, w.senders,
                          span[0] ? span : "an unknown delay",
                          all_resolve ? ", the time address resolution takes to fail"
                          : all_fast  ? "; a failing address resolution takes seconds, so this "
                                        "fits only a router that had already marked the address "
                                        "as failed"
                                      : "");
        finding_add_cause(f,
                          all_fast      ? CONF_HIGH
                          : all_resolve ? CONF_LOW
                                        : CONF_MEDIUM,
                          "Routing trouble: the router has no route to the server's network (a "
                          "withdrawn or missing route, a tunnel or VPN that is down) or an "
                          "explicit unreachable route for it.",
                          "%s %s came from %s after %s%s.", all_errors, what, w.senders,
                          span[0] ? span : "an unknown delay",
                          all_fast      ? ", at once, as a routing-table refusal does"
                          : all_resolve ? "; a router without a route answers at once, not after "
                                          "seconds"
                                        : "");
        finding_add_cause(f, CONF_LOW,
                          "A filter on the router rejects the queries with this code instead of "
                          "admin prohibited.",
                          "iptables `--reject-with icmp-host-unreachable` or `icmp-net-"
                          "unreachable` on a router sends the same message; only the router's "
                          "rule set can exclude it.");
    }
    if (w.answered)
        finding_add_cause(f, CONF_MEDIUM,
                          "The route to the server, or the server itself, went away during the "
                          "capture.",
                          "The same server answered %" PRIu64 " of its %" PRIu64
                          " lookups in the capture, so it was reachable at other times.",
                          w.answered, w.all_lookups);
    finding_rank_causes(f);

    if (a->senders_from_path) {
        finding_add_step(f,
                         "On the router %s, ask how it reaches the server and whether it knows "
                         "the server's link-layer address: `ip route get %s` and `ip neigh show "
                         "%s` (on other routers: show ip route, show arp / show ipv6 neighbors).",
                         w.senders, w.srv_cmd, w.srv_cmd);
        finding_add_step(f,
                         "From an affected client, follow the path and see where it stops: "
                         "`traceroute -n %s` and `ping -c 3 %s`.",
                         w.srv_cmd, w.srv_cmd);
        finding_add_step(f,
                         "Check that the server host is up, has the address %s and is connected "
                         "to the router's link; from the router, `%s %s%s` (or `ip neigh` "
                         "after a ping) shows whether it answers address resolution.",
                         w.srv, a->ip_version == 6 ? "ndisc6 -r 3" : "arping -c 3", w.srv_cmd,
                         a->ip_version == 6 ? " IFACE" : "");
        finding_add_step(f,
                         "If the router has no route: check the routing protocol, static routes "
                         "and any tunnel or VPN toward the server's network on %s (`ip route "
                         "show table all`, `ip -%c route show type unreachable`).",
                         router_cmd, a->ip_version == 6 ? '6' : '4');
    }
    if (a->senders_from_server)
        finding_add_step(f,
                         "On %s, find the reject rule: `nft list ruleset` and `iptables -S` / "
                         "`ip6tables -S` (look for host-unreachable or net-unreachable).",
                         w.srv_cmd);
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f, "After the fix, query again from an affected client: `dig @%s %s`.",
                         w.srv_cmd, qcmd);
    }
    finding_add_step(f,
                     "Until the server is reachable, give the affected clients (%s) a second DNS "
                     "server on another network so their lookups can fail over.",
                     w.clients);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_host_unreachable = {
    .id = "dns.host_unreachable",
    .severity = SEV_HIGH,
    .title = "DNS server unreachable: a router could not deliver the queries",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
