/* dns_malformed.c: many malformed DNS messages to or from one DNS server (port 53). The decoder
 * names what is wrong with each message (decode/anomaly.h); the correlator hands on those on
 * port 53 that were captured whole (struct dns_malformed), so a snapshot length that cut
 * packets never makes one. One finding per server address.
 *
 * What the evidence can tell apart:
 * - bytes that are not DNS at all (the 12-byte header does not fit, or its counts promise more
 *   records than the message holds) in most messages: another protocol using port 53, which
 *   firewalls leave open (a VPN or a tunnel), rather than DNS;
 * - names built to break parsers (compression pointers that point forward, loop or leave the
 *   message, label types that do not exist, names over 255 bytes): crafted messages, a fuzzer
 *   or an exploit attempt against the server, the more likely the more of them there are;
 * - otherwise a broken DNS implementation or a device rewriting packets on the path.
 *
 * Thresholds: a finding needs MALFORMED_MIN messages; from MALFORMED_MANY messages sent to the
 * server, crafted messages are ranked medium and the finding carries ATT&CK T1499.004. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect/rule.h"
#include "detect/text.h"
#include "util/addr_set.h"

#define MALFORMED_MIN  10
#define MALFORMED_MANY 100
#define SOURCES_LISTED 8
#define KINDS_LISTED   6

struct mf_acc {
    uint64_t to_server, from_server;
    uint64_t not_dns; /* no DNS header, or counts past the message and no question read */
    uint64_t crafted; /* names built to break parsers */
    uint64_t kind[NT_ANOMALY_COUNT]; /* messages showing each anomaly */
    struct addr_set peers;           /* the other ends: clients, or where answers went */
    struct nt_addr listed[SOURCES_LISTED];
    size_t n_listed;
    struct nt_time first, last;
};

static void acc_free(void *p)
{
    struct mf_acc *a = p;
    addr_set_fini(&a->peers);
    free(a);
}

static bool is_crafted(uint8_t anomaly)
{
    return anomaly == ANOM_DNS_BAD_COMPRESSION_POINTER || anomaly == ANOM_DNS_COMPRESSION_LOOP ||
           anomaly == ANOM_DNS_BAD_LABEL_TYPE || anomaly == ANOM_DNS_NAME_TOO_LONG;
}

static void on_malformed(struct rule_ctx *rc, const struct dns_malformed *m)
{
    const struct evidence *ev = m->ev;
    const struct nt_addr *server = m->to_server ? &ev->dst : &ev->src;
    const struct nt_addr *peer = m->to_server ? &ev->src : &ev->dst;
    char key[NT_ADDR_FMT_MAX];
    nt_addr_format(server, key, sizeof key);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return;
    struct mf_acc *a = f->priv;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return;
        addr_set_init(&a->peers, (size_t)rule_bound(rc, "peers"));
        f->priv = a;
        f->priv_free = acc_free;
        f->transport = 17;
        f->port = 53;
        f->service = "DNS";
        f->has_server = true;
        f->server = *server;
        f->unit_one = "malformed message";
        f->unit_many = "malformed messages";
        f->sent_one = "message to the server";
        f->sent_many = "messages to the server";
        f->reply_one = "message from the server";
        f->reply_many = "messages from the server";
        f->window.window_set = true; /* not a failure of the service */
    }
    if (m->to_server) {
        a->to_server++;
        f->query_packets++;
    } else {
        a->from_server++;
        f->error_packets++;
    }
    f->lookups++;
    f->packets++;
    bool not_dns = false, crafted = false;
    for (uint8_t i = 0; i < m->n_anomalies; i++) {
        uint8_t k = m->anomalies[i];
        if (k < NT_ANOMALY_COUNT)
            a->kind[k]++;
        if (k == ANOM_DNS_TRUNCATED ||
            (k == ANOM_DNS_COUNTS_EXCEED_MESSAGE && !(ev->has_dns && ev->has_question)))
            not_dns = true;
        if (is_crafted(k))
            crafted = true;
    }
    a->not_dns += not_dns;
    a->crafted += crafted;
    if (addr_set_add(&a->peers, peer) && a->n_listed < SOURCES_LISTED)
        a->listed[a->n_listed++] = *peer;
    if (m->to_server)
        finding_add_client(f, peer);
    if (ev->has_question && ev->qname) {
        char name[DNS_NAME_TEXT_MAX + 32], tb[16];
        snprintf(name, sizeof name, "%s %s", ev->qname, dns_type_name(ev->qtype, tb, sizeof tb));
        finding_add_name(f, name);
    }
    finding_add_evidence(f, ev);
    finding_see_time(f, &ev->ts);
    nt_time_widen(&a->first, &a->last, &ev->ts);
}

/* "38 with a label type that does not exist (dns.bad_label_type), ..." for the most frequent
 * kinds, most frequent first. */
static void kinds_text(const struct mf_acc *a, char *buf, size_t n)
{
    bool used[NT_ANOMALY_COUNT] = {0};
    size_t o = 0;
    buf[0] = '\0';
    for (int listed = 0; listed < KINDS_LISTED; listed++) {
        int best = -1;
        for (int k = 0; k < NT_ANOMALY_COUNT; k++)
            if (a->kind[k] && !used[k] && (best < 0 || a->kind[k] > a->kind[best]))
                best = k;
        if (best < 0)
            break;
        used[best] = true;
        int w = snprintf(buf + o, n - o, "%s%" PRIu64 " %s", listed ? ", " : "", a->kind[best],
                         anomaly_id((enum nt_anomaly)best));
        if (w < 0 || (size_t)w >= n - o)
            break;
        o += (size_t)w;
    }
}

static void explain(struct rule_ctx *rc, struct finding *f)
{
    struct mf_acc *a = f->priv;
    uint64_t total = a->to_server + a->from_server;
    char server[NT_ADDR_FMT_MAX], server_cmd[NT_ADDR_FMT_MAX * 2 + 8], peers[512], kinds[512];
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX];
    text_addr(&f->server, server, sizeof server);
    text_shell_word(server, server_cmd, sizeof server_cmd);
    uint64_t n_peers = a->peers.n + (a->peers.overflow ? 1 : 0);
    text_addr_list(a->listed, a->n_listed, a->peers.n > a->n_listed ? a->peers.n - a->n_listed : 0,
                   peers, sizeof peers);
    text_time(&a->first, t1, sizeof t1);
    text_time(&a->last, t2, sizeof t2);
    kinds_text(a, kinds, sizeof kinds);
    unsigned n_kinds = 0;
    for (int k = 0; k < NT_ANOMALY_COUNT; k++)
        n_kinds += a->kind[k] != 0;

    if (a->to_server && a->from_server)
        finding_set_summary(f,
                            "%" PRIu64 " malformed DNS messages were sent to the DNS server %s "
                            "(UDP port 53) and %" PRIu64 " came from it, exchanged with %s%" PRIu64
                            " %s (%s), between %s and %s.",
                            a->to_server, server, a->from_server,
                            a->peers.overflow ? "more than " : "", n_peers,
                            n_peers == 1 ? "host" : "hosts", peers, t1, t2);
    else if (a->to_server)
        finding_set_summary(f,
                            "%" PRIu64 " malformed DNS messages were sent to the DNS server %s "
                            "(UDP port 53) from %s%" PRIu64 " %s (%s), between %s and %s.",
                            a->to_server, server, a->peers.overflow ? "more than " : "", n_peers,
                            n_peers == 1 ? "source" : "sources", peers, t1, t2);
    else
        finding_set_summary(f,
                            "%" PRIu64 " malformed DNS messages came from UDP port 53 of %s, "
                            "sent to %s%" PRIu64 " %s (%s), between %s and %s.",
                            a->from_server, server, a->peers.overflow ? "more than " : "", n_peers,
                            n_peers == 1 ? "host" : "hosts", peers, t1, t2);
    finding_add_fact(f, "What the decoder found wrong (messages showing each): %s.", kinds);
    finding_add_fact(f,
                     "%" PRIu64 " of the %" PRIu64 " messages do not read as DNS at all (shorter "
                     "than the 12-byte header, or counting more records than they hold with no "
                     "readable question); %" PRIu64
                     " carry names built to break parsers (compression pointers that "
                     "loop or point outside the message, label types that do not exist, names "
                     "over 255 bytes).",
                     a->not_dns, total, a->crafted);
    finding_add_fact(f, "Every message was captured to its full length on the wire: no snapshot "
                        "length cut them short.");
    const struct server_stats *ss = rule_server_stats(rc, &f->server, 53, 17);
    if (ss && ss->lookups)
        finding_add_fact(f, "The capture also shows %" PRIu64 " DNS lookups to %s.", ss->lookups,
                         server);

    bool mostly_not_dns = a->not_dns * 2 > total;
    bool many_crafted = a->crafted && a->to_server >= MALFORMED_MANY;
    /* Random damage (bit errors) shows many kinds from many hosts; one faulty implementation
     * repeats one or two kinds from the same few. */
    bool scattered = n_kinds >= 4 && n_peers >= 3;
    if (many_crafted) {
        f->attack = ATTACK_T1499_004;
    }
    if (a->to_server)
        finding_add_cause(f, many_crafted ? CONF_MEDIUM : CONF_LOW,
                          "Messages crafted to crash or hang the DNS server: a fuzzer, a "
                          "vulnerability scanner or an exploit attempt.",
                          "%" PRIu64 " messages to the server carry names built to break parsers; "
                          "crafted traffic usually comes in the hundreds from few sources.",
                          a->crafted);
    finding_add_cause(f, mostly_not_dns ? CONF_MEDIUM : CONF_LOW,
                      "Not DNS at all: another protocol using UDP port 53 because firewalls "
                      "leave it open (a VPN, a tunnel, a game or a peer-to-peer client).",
                      "%" PRIu64 " of %" PRIu64 " messages do not read as DNS at all.", a->not_dns,
                      total);
    finding_add_cause(f, scattered && !mostly_not_dns && !many_crafted ? CONF_MEDIUM : CONF_LOW,
                      "Packets damaged after they were sent: bit errors on a faulty link, "
                      "network card or tap, or a damaged capture file.",
                      "%u kinds of damage from %" PRIu64 " hosts; random damage is varied and "
                      "spread over many hosts, and the UDP checksum (which nettriage does not "
                      "check) would show it: `tcpdump -vv` prints \"bad udp cksum\".",
                      n_kinds, n_peers);
    finding_add_cause(f, !scattered && !mostly_not_dns && !many_crafted ? CONF_MEDIUM : CONF_LOW,
                      "A broken DNS implementation, or a device on the path (NAT, DNS proxy, "
                      "load balancer) that rewrites DNS messages wrongly.",
                      "%u kinds of damage from %" PRIu64 " hosts; a faulty implementation "
                      "repeats the same damage from the same hosts.",
                      n_kinds, n_peers);
    finding_rank_causes(f);

    finding_add_step(f, "Open the cited packets in Wireshark (Analyze > Expert Information lists "
                        "them as malformed) and see what the bytes are.");
    if (a->to_server)
        finding_add_step(f,
                         "On %s, check the DNS server's logs for FORMERR answers, crashes or "
                         "restarts at these times, and that its software is up to date.",
                         server);
    finding_add_step(f,
                     "Find who owns %s; if they should not send this to %s, block them at the "
                     "edge (`tcpdump -ni any 'udp port 53 and host %s'` to watch).",
                     peers, server, server_cmd);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL) {
        const struct mf_acc *a = f->priv;
        if (!a || a->to_server + a->from_server < MALFORMED_MIN) {
            rule_withdraw(rc, f, &it);
            continue;
        }
        explain(rc, f);
    }
}

static const struct rule_bound_def bounds[] = {
    {"peers", 1024, 16, 1048576, "distinct peers of malformed messages counted exactly per server"},
    {NULL, 0, 0, 0, NULL},
};

const struct rule rule_dns_malformed = {
    .id = "dns.malformed",
    .severity = SEV_MEDIUM,
    .title = "Malformed DNS messages",
    .on_dns_malformed = on_malformed,
    .on_finish = on_finish,
    .bounds = bounds,
};
