/* icmp_time_exceeded.c: ICMP time exceeded in transit (ICMP type 11 code 0, RFC 792; ICMPv6
 * type 3 code 0, RFC 4443): a router dropped a datagram whose TTL (hop limit) ran out. Either
 * the datagram went round a routing loop, or its sender gave it too small a TTL. The TTL the
 * datagram had when the capture saw it, and whether the same datagram passed the capture point
 * again with a lower TTL, tell them apart. Fragment reassembly time exceeded (code 1) is a
 * different fault (fragments lost on the way) and is not reported here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/icmp_path.h"
#include "detect/text.h"

/* A datagram that still had this TTL where it was captured needed that many more hops: no real
 * path is that long (Internet paths stay under 30 hops), so it went round a loop. */
#define LOOP_TTL 32
/* A TTL at or below this was set small on purpose (or by mistake). */
#define SHORT_TTL 16
/* Traceroute's default UDP destination ports (33434 + hops). */
#define TRACEROUTE_PORT_LO 33434
#define TRACEROUTE_PORT_HI 33534

struct te_acc {
    struct icmp_path_head h;  /* first: router, destination, times (icmp_path.h) */
    uint64_t dns, tcp, other; /* errors by what they quote */
    uint64_t ttl_known;       /* affected lookups/attempts whose TTL is known */
    uint8_t ttl_min, ttl_max; /* that TTL, as seen at the capture point */
    uint64_t ttl_bits[4];     /* distinct TTLs seen (a sweep is a traceroute) */
    uint64_t looped;          /* lookups seen again at the capture point with a lower TTL */
    uint32_t max_copies;      /* most copies of one lookup's query seen */
    uint8_t loop_first, loop_min;
    uint64_t quotes_response; /* errors about responses sent to the client */
    uint64_t last_lookup_seq, last_attempt_seq;
    uint64_t dns_lookups; /* of f->lookups, DNS lookups (the rest: TCP attempts) */
    /* Why a TTL is unknown: the lookup or attempt is in a tcpdump text printed without -v (no
     * TTLs), or the error shows no datagram it is about (tcpdump prints the quote of a time
     * exceeded only with -v), or it quotes one that is not in the capture. */
    uint64_t ttl_not_printed, no_quote, not_captured;
    /* Lookups and attempts this router's errors answered (the first PROBES_KEPT), to find a
     * query that drew time exceeded from several routers: copies sent with growing TTLs, as a
     * traceroute sends them. */
    uint64_t probe_seq[16];
    uint8_t n_probe_seq;
    uint64_t routers_same_query; /* other routers that answered one of those queries */
};

#define PROBES_KEPT 16

static void note_probe(struct te_acc *a, uint64_t seq)
{
    for (uint8_t i = 0; i < a->n_probe_seq; i++)
        if (a->probe_seq[i] == seq)
            return;
    if (a->n_probe_seq < PROBES_KEPT)
        a->probe_seq[a->n_probe_seq++] = seq;
}

static bool traceroute_like(const struct evidence *ev)
{
    if (ev->q_proto == 1 || ev->q_proto == 58)
        return true;
    return ev->q_proto == 17 && ev->quote_has_ports && ev->q_dport >= TRACEROUTE_PORT_LO &&
           ev->q_dport <= TRACEROUTE_PORT_HI;
}

static void note_ttl(struct te_acc *a, uint8_t ttl, bool from_text)
{
    if (!ttl) {
        a->ttl_not_printed += from_text;
        return;
    }
    if (!a->ttl_known || ttl < a->ttl_min)
        a->ttl_min = ttl;
    if (!a->ttl_known || ttl > a->ttl_max)
        a->ttl_max = ttl;
    a->ttl_known++;
    a->ttl_bits[ttl / 64] |= (uint64_t)1 << (ttl % 64);
}

static unsigned distinct_ttls(const struct te_acc *a)
{
    unsigned n = 0;
    for (int i = 0; i < 4; i++)
        n += (unsigned)__builtin_popcountll(a->ttl_bits[i]);
    return n;
}

static void on_icmp(struct rule_ctx *rc, const struct icmp_event *e)
{
    const struct evidence *ev = e->ev;
    if (e->kind != ICMP_K_TIME_EXCEEDED || ev->icmp_code != 0)
        return;
    /* A probe with a deliberately small TTL (traceroute, mtr) that is not part of any lookup or
     * connection attempt in the capture is not a fault. */
    if (!e->lookup && !e->attempt && ev->quote_present && traceroute_like(ev))
        return;
    struct finding *f = icmp_path_finding(rc, e, sizeof(struct te_acc));
    if (!f || !f->priv)
        return;
    struct te_acc *a = f->priv;
    if (e->quotes_response)
        a->quotes_response++;
    const struct dns_lookup *l = e->lookup;
    const struct tcp_attempt *t = e->attempt;
    if (l) {
        a->dns++;
        note_probe(a, l->seq * 2);
        if (l->seq != a->last_lookup_seq && l->n_errors <= 1) {
            /* The lookup's first error: count it and its query once. */
            a->last_lookup_seq = l->seq;
            f->lookups++;
            a->dns_lookups++;
            f->query_packets += l->transmissions;
            finding_add_client(f, &l->client);
            char name[DNS_NAME_TEXT_MAX + 32];
            text_query_name(l, name, sizeof name);
            finding_add_name(f, name);
            finding_add_evidence(f, &l->query);
            finding_see_time(f, &l->first_tx);
            if (!e->quotes_response) {
                note_ttl(a, l->first_ttl ? l->first_ttl : l->query.ttl, l->query.from_text);
                if (l->first_ttl && l->min_ttl && l->min_ttl < l->first_ttl) {
                    if (!a->looped || l->first_ttl - l->min_ttl > a->loop_first - a->loop_min) {
                        a->loop_first = l->first_ttl;
                        a->loop_min = l->min_ttl;
                    }
                    a->looped++;
                    if (l->transmissions > a->max_copies)
                        a->max_copies = l->transmissions;
                }
            }
        }
    } else if (t) {
        a->tcp++;
        note_probe(a, t->seq * 2 + 1);
        if (t->seq != a->last_attempt_seq) {
            a->last_attempt_seq = t->seq;
            f->lookups++;
            f->query_packets += t->syns;
            finding_add_client(f, &t->client);
            finding_add_evidence(f, &t->syn);
            finding_see_time(f, &t->first_syn);
            note_ttl(a, t->first_ttl ? t->first_ttl : t->syn.ttl, t->syn.from_text);
        }
    } else {
        a->other++;
        if (ev->q_dst.family == NT_AF_NONE)
            a->no_quote++;
        else
            a->not_captured++;
        if (ev->q_src.family != NT_AF_NONE)
            finding_add_client(f, &ev->q_src);
        else
            finding_add_client(f, &ev->dst);
    }
    finding_add_evidence(f, ev);
    f->packets = f->query_packets + f->error_packets;
}

static void explain_finding(struct finding *f)
{
    struct te_acc *a = f->priv;
    char router[NT_ADDR_FMT_MAX];
    char dst[NT_ADDR_FMT_MAX] = "an unknown destination", dst_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_addr(&a->h.router, router, sizeof router);
    if (a->h.has_dst)
        text_addr(&a->h.dst, dst, sizeof dst);
    text_shell_word(a->h.has_dst ? dst : "DESTINATION", dst_cmd, sizeof dst_cmd);
    char clients[512], names[512], what[160] = "";
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    const char *v = a->h.ip_version == 6 ? "ICMPv6 type 3 code 0" : "ICMP type 11 code 0";
    const char *ttl_word = a->h.ip_version == 6 ? "hop limit" : "TTL";
    if (f->transport && f->port && !a->h.mixed_ports)
        snprintf(what, sizeof what, " (%s port %u%s)", f->transport == 6 ? "TCP" : "UDP", f->port,
                 f->service ? ", DNS" : "");
    uint64_t n_err = f->error_packets;

    /* Judge: a loop seen at the capture point, a TTL too large to run out on a real path, a
     * small TTL set by the sender, or nothing known. */
    bool seen_loop = a->looped > 0;
    bool big = a->ttl_known && a->ttl_min >= LOOP_TTL;
    bool small = a->ttl_known && a->ttl_max <= SHORT_TTL;
    /* Growing TTLs: several small TTLs here, or the same query answered by other routers too
     * (each copy ran out one hop further), with no copy seen coming back round. */
    bool probe = !seen_loop && a->routers_same_query > 0 && (!a->ttl_known || !big);
    bool sweep = (a->ttl_known && distinct_ttls(a) >= 3 && a->ttl_max < LOOP_TTL) || probe;
    /* Why the TTL is unknown, from what this input lacked. */
    char why_unknown[320];
    size_t wo = 0;
    why_unknown[0] = '\0';
    if (a->ttl_not_printed)
        wo += (size_t)snprintf(why_unknown + wo, sizeof why_unknown - wo,
                               "%s%" PRIu64 " of the queries %s in tcpdump text printed without "
                               "-v, which shows no %s",
                               wo ? "; " : "", a->ttl_not_printed,
                               a->ttl_not_printed == 1 ? "is" : "are", ttl_word);
    if (a->no_quote && wo < sizeof why_unknown)
        wo += (size_t)snprintf(why_unknown + wo, sizeof why_unknown - wo,
                               "%s%" PRIu64 " of the errors %s not show the datagram %s about "
                               "(tcpdump prints it only with -v), so %s cannot be tied to a "
                               "query",
                               wo ? "; " : "", a->no_quote, a->no_quote == 1 ? "does" : "do",
                               a->no_quote == 1 ? "it is" : "they are",
                               a->no_quote == 1 ? "it" : "they");
    if (a->not_captured && wo < sizeof why_unknown)
        snprintf(why_unknown + wo, sizeof why_unknown - wo,
                 "%s%" PRIu64 " of the errors quote%s a datagram that is not in the capture",
                 wo ? "; " : "", a->not_captured, a->not_captured == 1 ? "s" : "");
    if (!why_unknown[0])
        snprintf(why_unknown, sizeof why_unknown, "the input does not show it");
    char ttls[96] = "";
    if (a->ttl_known) {
        if (a->ttl_min == a->ttl_max)
            snprintf(ttls, sizeof ttls, "%u", a->ttl_min);
        else
            snprintf(ttls, sizeof ttls, "%u to %u", a->ttl_min, a->ttl_max);
    }
    char judgement[512];
    if (seen_loop)
        snprintf(judgement, sizeof judgement,
                 "The same datagram passed the capture point %u times, its %s falling from %u to "
                 "%u: it went round a routing loop until the %s ran out.",
                 a->max_copies, ttl_word, a->loop_first, a->loop_min, ttl_word);
    else if (probe)
        snprintf(judgement, sizeof judgement,
                 "The same %s also drew time exceeded from %" PRIu64 " other %s: its copies "
                 "were sent with growing %ss, each running out one hop further, as a traceroute "
                 "sends its probes.",
                 f->lookups == 1 ? "query" : "queries", a->routers_same_query,
                 a->routers_same_query == 1 ? "router" : "routers", ttl_word);
    else if (sweep)
        snprintf(judgement, sizeof judgement,
                 "The datagrams left with %u different small %ss (%s): a traceroute-style probe "
                 "that expects these errors.",
                 distinct_ttls(a), ttl_word, ttls);
    else if (big)
        snprintf(judgement, sizeof judgement,
                 "The datagram still had a %s of %s where it was captured; no real path is that "
                 "long, so it most likely went round a routing loop past the capture point.",
                 ttl_word, ttls);
    else if (small)
        snprintf(judgement, sizeof judgement,
                 "The datagram was captured with a %s of only %s: it ran out after that many "
                 "hops, so the sender's %s is too small for the path.",
                 ttl_word, ttls, ttl_word);
    else if (a->ttl_known)
        snprintf(judgement, sizeof judgement,
                 "The datagram was captured with a %s of %s, which fits both a short %s and a "
                 "loop.",
                 ttl_word, ttls, ttl_word);
    else
        snprintf(judgement, sizeof judgement,
                 "The %s the datagram had is not known: %s. A routing loop cannot be told from "
                 "a %s that was too small.",
                 ttl_word, why_unknown, ttl_word);
    if (seen_loop || (big && !sweep))
        f->severity = SEV_HIGH;
    else if (sweep)
        f->severity = SEV_LOW;

    finding_set_summary(f,
                        "Traffic to %s%s was dropped on the way: the router %s sent %" PRIu64
                        " ICMP time exceeded %s (%s) because the %s of %s ran out. %s",
                        dst, what, router, n_err, n_err == 1 ? "message" : "messages", v, ttl_word,
                        a->quotes_response == n_err ? "responses to the client"
                                                    : "the "
                                                      "datagrams",
                        judgement);

    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], when[2 * NT_TIME_FMT_MAX + 16];
    text_time(&a->h.first_error, t1, sizeof t1);
    text_time(&a->h.last_error, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);
    finding_add_fact(f,
                     "%" PRIu64 " time exceeded %s from %s %s, about traffic from "
                     "%s to %s: %" PRIu64 " DNS, %" PRIu64 " TCP connection %s, %" PRIu64 " other.",
                     n_err, n_err == 1 ? "message" : "messages", router, when, clients, dst, a->dns,
                     a->tcp, a->tcp == 1 ? "attempt" : "attempts", a->other);
    if (f->n_names)
        finding_add_fact(f, "DNS lookups affected: %" PRIu64 " (%s).", a->dns_lookups, names);
    if (a->ttl_known)
        finding_add_fact(f,
                         "%s of the datagrams when the capture first saw them: %s (%" PRIu64
                         " of the lookups or attempts).",
                         a->h.ip_version == 6 ? "Hop limit" : "TTL", ttls, a->ttl_known);
    else
        finding_add_fact(f, "The %s the datagrams had is unknown: %s.", ttl_word, why_unknown);
    if (seen_loop)
        finding_add_fact(f,
                         "%" PRIu64 " %s seen again at the capture point with a lower %s (up to "
                         "%u copies, %s %u down to %u): it crossed this link again and again.",
                         a->looped, a->looped == 1 ? "query was" : "queries were", ttl_word,
                         a->max_copies, ttl_word, a->loop_first, a->loop_min);
    else if (a->ttl_known)
        finding_add_fact(f,
                         "No datagram was seen twice at the capture point with a lower %s, so the "
                         "loop, if any, lies beyond it.",
                         ttl_word);

    if (probe)
        finding_add_cause(f, CONF_HIGH,
                          "A traceroute or similar path probe: time exceeded is its expected "
                          "answer, not a fault.",
                          "The same %s drew time exceeded from this router and %" PRIu64
                          " other %s, and no copy was seen coming back with a lower %s.",
                          f->lookups == 1 ? "query" : "queries", a->routers_same_query,
                          a->routers_same_query == 1 ? "router" : "routers", ttl_word);
    else if (sweep)
        finding_add_cause(f, CONF_HIGH,
                          "A traceroute or similar path probe: time exceeded is its expected "
                          "answer, not a fault.",
                          "The datagrams carried %u distinct small %ss (%s).", distinct_ttls(a),
                          ttl_word, ttls);
    finding_add_cause(
        f,
        seen_loop || (big && !sweep) ? CONF_HIGH
        : small || sweep             ? CONF_LOW
                                     : CONF_MEDIUM,
        "A routing loop: two or more routers send traffic for this destination to each other "
        "(a static route pointing back, a default route on both sides, routing-protocol "
        "convergence).",
        "%s",
        seen_loop ? "The same query was captured again with a lower TTL, which only a loop through "
                    "the capture point does."
        : big     ? "The datagram had enough TTL left for any real path when it was captured."
        : small   ? "The TTL was small enough to run out on a loop-free path; a loop cannot be "
                    "excluded without a traceroute."
                  : "The capture cannot separate a loop from a short TTL; a traceroute to the "
                    "destination (hops repeating) or a capture at the sender with -v (the TTL) "
                    "can.");
    finding_add_cause(
        f,
        small && !sweep             ? CONF_HIGH
        : seen_loop || big || sweep ? CONF_LOW
                                    : CONF_MEDIUM,
        "The sender sets too small a TTL for the path (a host's default TTL, an application's "
        "TTL option, or a VPN or tunnel that lowers it).",
        "%s",
        a->ttl_known ? (small ? "The TTL seen is small enough to run out before the destination."
                        : big ? "The TTL seen is large enough for any real path."
                              : "The TTL seen could run out on a long path; the capture cannot "
                                "say whether it is what the sender set.")
                     : "The TTL the datagram left with is unknown.");
    finding_rank_causes(f);

    finding_add_step(f,
                     "Trace the path from an affected client: `traceroute -n %s` (or `mtr -n "
                     "%s`); hops that repeat (A, B, A, B) show the loop and the routers in it.",
                     dst_cmd, dst_cmd);
    finding_add_step(f,
                     "On the router %s and on its next hop toward %s, compare the routes: `ip "
                     "route get %s` (each must point away from the other).",
                     router, dst, dst_cmd);
    finding_add_step(f,
                     "Check the TTL the sender uses: `sysctl net.ipv4.ip_default_ttl "
                     "net.ipv6.conf.all.hop_limit` on the client, and capture there with "
                     "`tcpdump -nn -v host %s` (the ttl or hlim field).",
                     dst_cmd);
    finding_add_step(f,
                     "Look at routing changes just before %s on %s and its neighbours (routing "
                     "protocol logs, `ip monitor route`).",
                     t1, router);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    /* Other routers that answered a query this router's errors answered too. */
    while ((f = rule_next_finding(rc, &it)) != NULL) {
        struct te_acc *a = f->priv;
        size_t it2 = 0;
        struct finding *g;
        while (a && (g = rule_next_finding(rc, &it2)) != NULL) {
            const struct te_acc *b = g->priv;
            if (g == f || !b || !a->n_probe_seq || !b->n_probe_seq ||
                nt_addr_eq(&a->h.router, &b->h.router) || a->h.has_dst != b->h.has_dst ||
                (a->h.has_dst && !nt_addr_eq(&a->h.dst, &b->h.dst)))
                continue;
            bool shared = false;
            for (uint8_t i = 0; i < a->n_probe_seq && !shared; i++)
                for (uint8_t k = 0; k < b->n_probe_seq && !shared; k++)
                    shared = a->probe_seq[i] == b->probe_seq[k];
            a->routers_same_query += shared;
        }
    }
    it = 0;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(f);
}

const struct rule rule_icmp_time_exceeded = {
    .id = "icmp.time_exceeded",
    .severity = SEV_MEDIUM,
    .title = "Time to live exceeded on the way: a routing loop or too small a TTL",
    .on_icmp_error = on_icmp,
    .on_finish = on_finish,
};
