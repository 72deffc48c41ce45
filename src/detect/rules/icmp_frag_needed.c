/* icmp_frag_needed.c: ICMP "fragmentation needed and DF set" (ICMP type 3 code 4, RFC 792 and
 * RFC 1191) and ICMPv6 "packet too big" (type 2, RFC 4443, RFC 8201): a router could not
 * forward a datagram because it is larger than the next link's MTU and may not be fragmented
 * (IPv4 with DF, every IPv6 datagram). It quotes the MTU the sender must fit into. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/icmp_path.h"
#include "detect/text.h"

/* Below these an MTU is suspicious: Linux ignores next-hop MTUs under min_pmtu (552) for IPv4,
 * and IPv6 links must carry 1280 bytes. */
#define V4_MIN_PMTU 552
#define V6_MIN_MTU  1280

struct fn_acc {
    struct icmp_path_head h; /* first: router, destination, times (icmp_path.h) */
    uint64_t dns, tcp, other;
    uint32_t mtu_min, mtu_max; /* next-hop MTUs quoted (0 when none was given) */
    uint64_t no_mtu;           /* errors without an MTU (pre-RFC 1191 routers) */
    uint32_t size_min, size_max;
    uint64_t sized;     /* datagrams whose size is known */
    uint64_t size_fits; /* of those, no larger than the MTU quoted (bogus error) */
    uint64_t last_lookup_seq, last_attempt_seq;
    uint64_t dns_lookups; /* of f->lookups, DNS lookups (the rest: TCP attempts) */
    /* Errors the sending host made itself (sent by the datagram's own source, or to itself, or
     * over loopback): its own route or interface MTU, no router on a path. */
    uint64_t local;
};

/* Size of the IP datagram a lookup's query was, from its DNS length: the IP and UDP headers
 * without options (0 when unknown or not UDP). */
static uint32_t query_size(const struct dns_lookup *l)
{
    if (l->transport != 17 || !l->query.dns_len)
        return 0;
    return l->query.dns_len + 8 + (l->query.ip_version == 6 ? 40u : 20u);
}

static void on_icmp(struct rule_ctx *rc, const struct icmp_event *e)
{
    const struct evidence *ev = e->ev;
    if (e->kind != ICMP_K_FRAG_NEEDED)
        return;
    struct finding *f = icmp_path_finding(rc, e, sizeof(struct fn_acc));
    if (!f || !f->priv)
        return;
    struct fn_acc *a = f->priv;
    if (ev->icmp_mtu) {
        if (!a->mtu_min || ev->icmp_mtu < a->mtu_min)
            a->mtu_min = ev->icmp_mtu;
        if (ev->icmp_mtu > a->mtu_max)
            a->mtu_max = ev->icmp_mtu;
    } else {
        a->no_mtu++;
    }
    const struct dns_lookup *l = e->lookup;
    const struct tcp_attempt *t = e->attempt;
    uint32_t size = 0;
    if (l) {
        a->dns++;
        if (l->seq != a->last_lookup_seq && l->n_errors <= 1) {
            a->last_lookup_seq = l->seq;
            f->lookups++;
            a->dns_lookups++;
            f->query_packets += l->transmissions;
            finding_add_client(f, &l->client);
            char name[DNS_NAME_TEXT_MAX + 32];
            text_query_name(l, name, sizeof name);
            finding_add_name(f, name);
            finding_add_evidence(f, e->quotes_response ? &l->answer : &l->query);
            finding_see_time(f, &l->first_tx);
            if (!e->quotes_response)
                size = query_size(l);
        }
    } else if (t) {
        a->tcp++;
        if (t->seq != a->last_attempt_seq) {
            a->last_attempt_seq = t->seq;
            f->lookups++;
            f->query_packets += t->syns;
            finding_add_client(f, &t->client);
            finding_add_evidence(f, &t->syn);
            finding_see_time(f, &t->first_syn);
        }
    } else {
        a->other++;
        finding_add_client(f, ev->q_src.family != NT_AF_NONE ? &ev->q_src : &ev->dst);
    }
    /* Otherwise the size the quoted IP header gives (any protocol). */
    if (!size && ev->q_total_len)
        size = ev->q_total_len;
    if (size) {
        if (!a->sized || size < a->size_min)
            a->size_min = size;
        if (size > a->size_max)
            a->size_max = size;
        a->sized++;
        if (ev->icmp_mtu && size <= ev->icmp_mtu)
            a->size_fits++;
    }
    const struct nt_addr *sender = ev->q_src.family != NT_AF_NONE ? &ev->q_src
                                   : l                            ? &l->client
                                   : t                            ? &t->client
                                                                  : NULL;
    if (nt_addr_eq(&ev->src, &ev->dst) || (sender && nt_addr_eq(&ev->src, sender)) ||
        text_addr_loopback(&ev->src))
        a->local++;
    finding_add_evidence(f, ev);
    f->packets = f->query_packets + f->error_packets;
}

/* A link type whose MTU this is, when it is a well-known one. */
static const char *mtu_hint(uint32_t mtu)
{
    switch (mtu) {
    case 1492:
        return "PPPoE (1500 - 8)";
    case 1480:
        return "IP-in-IP or 6in4 (1500 - 20)";
    case 1476:
        return "GRE (1500 - 24)";
    case 1420:
        return "WireGuard's default";
    case 1400:
        return "many VPN and cloud tunnels";
    case 1280:
        return "IPv6's minimum, common on tunnels";
    default:
        return NULL;
    }
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    struct fn_acc *a = f->priv;
    bool v6 = a->h.ip_version == 6;
    char router[NT_ADDR_FMT_MAX], dst[NT_ADDR_FMT_MAX] = "an unknown destination";
    char dst_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_addr(&a->h.router, router, sizeof router);
    if (a->h.has_dst)
        text_addr(&a->h.dst, dst, sizeof dst);
    text_shell_word(a->h.has_dst ? dst : "DESTINATION", dst_cmd, sizeof dst_cmd);
    char clients[512], names[512], what[96] = "";
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    if (f->transport && f->port && !a->h.mixed_ports)
        snprintf(what, sizeof what, " (%s port %u%s)", f->transport == 6 ? "TCP" : "UDP", f->port,
                 f->service ? ", DNS" : "");
    const char *msg = v6 ? "ICMPv6 packet too big (type 2)"
                         : "ICMP fragmentation needed and DF set (type 3, code 4)";
    char mtu[64] = "no MTU (an old router that predates RFC 1191)";
    if (a->mtu_min && a->mtu_min == a->mtu_max)
        snprintf(mtu, sizeof mtu, "a next-hop MTU of %u bytes", a->mtu_min);
    else if (a->mtu_min)
        snprintf(mtu, sizeof mtu, "next-hop MTUs of %u to %u bytes", a->mtu_min, a->mtu_max);
    char size[128] = "";
    if (a->sized && a->size_min == a->size_max)
        snprintf(size, sizeof size, " The datagram that did not fit was %u bytes.", a->size_min);
    else if (a->sized)
        snprintf(size, sizeof size, " The datagrams that did not fit were %u to %u bytes.",
                 a->size_min, a->size_max);
    uint64_t n_err = f->error_packets;
    bool local = a->local && a->local == n_err;
    if (local)
        finding_set_summary(f,
                            "Datagrams to %s%s were larger than the sending host's own route or "
                            "interface allows. The host %s sent %" PRIu64 " %s %s to itself, "
                            "quoting %s: the error was made on the host, not by a router on a "
                            "path.%s",
                            dst, what, router, n_err, msg, n_err == 1 ? "message" : "messages", mtu,
                            size);
    else
        finding_set_summary(
            f,
            "Datagrams to %s%s were too large for a link on the path. The router %s "
            "sent %" PRIu64 " %s %s, quoting %s: it could not forward them %s.%s "
            "The sender must send smaller datagrams to %s; where such errors are "
            "filtered, large datagrams vanish without a trace.",
            dst, what, router, n_err, msg, n_err == 1 ? "message" : "messages", mtu,
            v6 ? "(IPv6 routers never fragment)"
               : "without fragmenting them, and the sender forbade that (DF set)",
            size, dst);

    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], when[2 * NT_TIME_FMT_MAX + 16];
    text_time(&a->h.first_error, t1, sizeof t1);
    text_time(&a->h.last_error, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);
    finding_add_fact(f,
                     "%" PRIu64 " %s from %s %s, about traffic from %s to %s: "
                     "%" PRIu64 " DNS, %" PRIu64 " TCP, %" PRIu64 " other.",
                     n_err, n_err == 1 ? "error" : "errors", router, when, clients, dst, a->dns,
                     a->tcp, a->other);
    if (a->mtu_min)
        finding_add_fact(f, "The errors quote %s%s.", mtu, a->no_mtu ? "; some quote none" : "");
    if (a->sized)
        finding_add_fact(f,
                         "%" PRIu64 " of the datagrams have a known size: %u to %u bytes "
                         "(IP headers included).",
                         a->sized, a->size_min, a->size_max);
    else
        finding_add_fact(f, "The size of the datagrams that did not fit is not known from this "
                            "input (only part of each is quoted).");
    if (f->n_names)
        finding_add_fact(f, "DNS lookups affected: %" PRIu64 " (%s).", a->dns_lookups, names);
    const struct server_stats *ss =
        a->h.has_dst && f->transport
            ? rule_server_stats(rc, &a->h.dst, f->port, f->transport == 6 ? 6 : 17)
            : NULL;
    bool answered_after =
        ss && ss->answered && nt_time_cmp(&ss->last_answer, &a->h.first_error) > 0;
    if (answered_after) {
        text_time(&ss->last_answer, t1, sizeof t1);
        finding_add_fact(f,
                         "%s answered %" PRIu64 " of its %" PRIu64 " DNS lookups in the capture, "
                         "the last at %s, after the first error (senders that adapted, with "
                         "smaller datagrams, fragmentation or TCP, would explain it).",
                         dst, ss->answered, ss->lookups, t1);
    }

    /* Causes. */
    const char *hint = a->mtu_min ? mtu_hint(a->mtu_min) : NULL;
    char hint_text[128] = "";
    if (hint)
        snprintf(hint_text, sizeof hint_text, " %u is the MTU of %s.", a->mtu_min, hint);
    bool bogus = a->sized && a->size_fits == a->sized;
    bool tiny = a->mtu_min && a->mtu_min < (v6 ? V6_MIN_MTU : V4_MIN_PMTU);
    if (local)
        finding_add_cause(f, bogus ? CONF_LOW : CONF_HIGH,
                          "The sending host's own MTU toward the destination is smaller than "
                          "the datagrams: an interface MTU, or a route with an mtu setting, on "
                          "the host itself.",
                          "The error came from %s, the host that sent the datagrams, which "
                          "reports %s.%s",
                          router, mtu,
                          a->sized && a->size_fits == 0 ? " The datagrams were larger than that."
                                                        : "");
    else
        finding_add_cause(f,
                          bogus  ? CONF_LOW
                          : tiny ? CONF_MEDIUM
                                 : CONF_HIGH,
                          "The path MTU is lower than the sender assumed: a tunnel, VPN, PPPoE or "
                          "other encapsulating link on the path carries less than the sender's own "
                          "link.",
                          "%s reports %s.%s%s", router, mtu, hint_text,
                          a->sized && a->size_fits == 0 ? " The datagrams were larger than that."
                                                        : "");
    if (!local) /* no firewall lies between a host and itself */
        finding_add_cause(
            f, CONF_MEDIUM,
            "Black-hole risk: wherever these ICMP messages are filtered (a firewall "
            "dropping all ICMP), senders keep sending datagrams that vanish, so large "
            "DNS answers or TCP transfers stall after the handshake.",
            "Path MTU discovery depends on this message reaching the sender; here "
            "%" PRIu64 " did reach the capture point%s.",
            n_err, answered_after ? ", and later lookups to the same server were answered" : "");
    if (f->service)
        finding_add_cause(f, CONF_MEDIUM,
                          "DNS messages larger than the path allows: large EDNS buffer sizes, "
                          "padding or DNSSEC make queries or answers exceed the path MTU.",
                          "The quoted datagrams are DNS%s; an EDNS buffer size of 1232 bytes "
                          "(DNS Flag Day 2020) keeps UDP answers within any path.",
                          a->sized ? ", and their size is known" : "");
    if (bogus || tiny)
        finding_add_cause(f, CONF_MEDIUM,
                          "A forged or misbehaving error: the MTU quoted is implausible.", "%s",
                          bogus ? "The datagrams were no larger than the MTU quoted."
                                : "The MTU quoted is below what the protocol allows for a "
                                  "link; such errors are used to force tiny fragments.");
    finding_rank_causes(f);

    finding_add_step(f,
                     "Measure the path MTU from an affected client: `tracepath -n %s` (shows "
                     "the hop where the MTU drops) or `ping -M do -s %u %s` (%s).",
                     dst_cmd, a->mtu_min > (v6 ? 48u : 28u) ? a->mtu_min - (v6 ? 48u : 28u) : 1372u,
                     dst_cmd, v6 ? "ping -6 sends IPv6" : "the largest payload that should fit");
    if (local)
        finding_add_step(f,
                         "On the host %s itself, check the MTU toward %s: `ip route get %s` "
                         "(an mtu on the route) and `ip link show` (the interface's mtu).",
                         router, dst, dst_cmd);
    else
        finding_add_step(
            f,
            "On the router %s, check the MTU of the link toward %s: `ip route get %s` "
            "and `ip link show` (mtu), and whether a tunnel or VPN carries that route.",
            router, dst, dst_cmd);
    if (!local)
        finding_add_step(
            f,
            "Make sure ICMP %s is allowed through every firewall between the router "
            "and the senders (`nft list ruleset`, `iptables -S`), or clamp TCP MSS on "
            "the tunnel (`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN "
            "-j TCPMSS --clamp-mss-to-pmtu`).",
            v6 ? "type 2 (packet too big)" : "type 3 code 4 (fragmentation needed)");
    if (f->service)
        finding_add_step(f, "For DNS, limit the EDNS UDP size to 1232 bytes on the clients and "
                            "servers (`edns-buffer-size: 1232` in unbound, `edns-udp-size 1232;` "
                            "in BIND, `dig +bufsize=1232` to test).");
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_icmp_frag_needed = {
    .id = "icmp.frag_needed",
    .severity = SEV_MEDIUM,
    .title = "Datagrams too large for the path (fragmentation needed / packet too big)",
    .on_icmp_error = on_icmp,
    .on_finish = on_finish,
};
