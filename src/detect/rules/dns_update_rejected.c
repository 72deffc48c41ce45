/* dns_update_rejected.c: DNS dynamic updates (opcode UPDATE, RFC 2136: a Windows or Samba
 * member registering its A/AAAA/PTR records, a DHCP server registering its leases, nsupdate)
 * and zone change notifications (opcode NOTIFY, RFC 1996: a primary telling its secondaries
 * to transfer) that the server rejected or left unanswered. Every other rule sees QUERY
 * lookups only; this one sees the UPDATE and NOTIFY exchanges (rule.all_opcodes).
 *
 * Rejected: an answer with rcode REFUSED (policy: the zone does not accept this update or
 * notify from this client), NOTIMP (the server does not implement the opcode), NOTAUTH (not
 * authoritative for the zone: not its primary, or the signature was not accepted), NOTZONE,
 * SERVFAIL or FORMERR. The prerequisite answers of an update (YXDOMAIN, YXRRSET, NXRRSET,
 * NXDOMAIN) are not rejections: Windows and Samba clients send updates with prerequisites on
 * purpose and go on from the answer. An ICMP error quoting the message (port or host
 * unreachable, administratively prohibited) counts as a rejection too: the ICMP rules see QUERY
 * lookups only. Unanswered: no answer and no ICMP error before the timeout.
 *
 * One finding per server, transport, port and opcode (key "ADDR|TRANSPORT|PORT|OPCODE"): a
 * failed registration leaves hosts without records in the zone (names that do not resolve,
 * or stale addresses), a refused NOTIFY leaves a secondary serving an old copy of the zone. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/text.h"

#define RC_KEPT 16 /* rcodes counted one by one (0..15) */

struct upd_acc {
    unsigned opcode;
    uint64_t by_rcode[RC_KEPT];
    uint64_t unanswered;
    uint64_t icmp;            /* rejected by an ICMP error quoting the message */
    uint64_t with_additional; /* queries with additional records (where TSIG/GSS-TSIG travel) */
    uint64_t header_seen;     /* queries whose header the input carried */
    struct nt_time first, last;
};

static bool rejection(uint16_t rcode)
{
    switch (rcode) {
    case DNS_RCODE_REFUSED:
    case DNS_RCODE_NOTIMP:
    case DNS_RCODE_SERVFAIL:
    case DNS_RCODE_FORMERR:
    case 9:  /* NOTAUTH */
    case 10: /* NOTZONE */
        return true;
    default:
        return false;
    }
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    unsigned op = DNS_OPCODE_OF(l->query_flags);
    if (op != DNS_OPCODE_UPDATE && op != DNS_OPCODE_NOTIFY)
        return;
    bool rejected = l->outcome == LOOKUP_ANSWERED && rejection(l->rcode);
    bool silent = l->outcome == LOOKUP_UNANSWERED;
    bool icmp = l->outcome == LOOKUP_ICMP_ERROR;
    if (!rejected && !silent && !icmp)
        return;
    char key[NT_ADDR_FMT_MAX + 40], addr[NT_ADDR_FMT_MAX];
    nt_addr_format(&l->server, addr, sizeof addr);
    snprintf(key, sizeof key, "%s|%u|%u|%u", addr, l->transport, l->server_port, op);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return;
    if (!f->priv) {
        f->priv = calloc(1, sizeof(struct upd_acc));
        if (!f->priv)
            return;
        f->priv_free = free;
        f->transport = l->transport == 6 ? 6 : 17;
        f->port = l->server_port;
        f->service = "DNS";
        f->has_server = true;
        f->server = l->server;
        if (op == DNS_OPCODE_UPDATE) {
            f->unit_one = "update";
            f->unit_many = "updates";
        } else {
            f->unit_one = "notify";
            f->unit_many = "notifies";
            f->severity = SEV_MEDIUM;
        }
        ((struct upd_acc *)f->priv)->opcode = op;
    }
    struct upd_acc *a = f->priv;
    finding_add_client(f, &l->client);
    char name[DNS_NAME_TEXT_MAX + 32];
    text_query_name(l, name, sizeof name);
    finding_add_name(f, name);
    f->lookups++;
    f->query_packets += l->transmissions;
    if (rejected) {
        a->by_rcode[l->rcode < RC_KEPT ? l->rcode : 0]++;
        f->error_packets++;
    } else if (icmp) {
        a->icmp++;
        f->error_packets += l->n_errors ? l->n_errors : 1;
    } else {
        a->unanswered++;
    }
    f->packets = f->query_packets + f->error_packets;
    if (l->query.has_dns) {
        a->header_seen++;
        a->with_additional += l->query.arcount > 0;
    }
    finding_add_evidence(f, &l->query);
    if (rejected)
        finding_add_evidence(f, &l->answer);
    else if (icmp)
        finding_add_evidence(f, &l->error);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    nt_time_widen(&a->first, &a->last, &l->first_tx);
}

static void explain(struct rule_ctx *rc, struct finding *f)
{
    const struct upd_acc *a = f->priv;
    bool update = a->opcode == DNS_OPCODE_UPDATE;
    const char *what = update ? "dynamic update" : "NOTIFY";
    const char *whats = update ? "dynamic updates" : "NOTIFY messages";
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], zones[512];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, zones, sizeof zones);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    const char *PROTO = f->transport == 6 ? "TCP" : "UDP";
    uint64_t refused = a->by_rcode[DNS_RCODE_REFUSED], notimp = a->by_rcode[DNS_RCODE_NOTIMP];
    uint64_t notauth = a->by_rcode[9] + a->by_rcode[10];
    uint64_t other = a->by_rcode[DNS_RCODE_SERVFAIL] + a->by_rcode[DNS_RCODE_FORMERR];

    char answers[256] = "";
    size_t len = 0;
    for (unsigned r = 0; r < RC_KEPT; r++) {
        if (!a->by_rcode[r] || len >= sizeof answers)
            continue;
        char rb[16];
        const char *rn = dns_rcode_name((uint16_t)r, rb, sizeof rb);
        int w = snprintf(answers + len, sizeof answers - len, "%s%" PRIu64 " %s", len ? ", " : "",
                         a->by_rcode[r], rn);
        if (w > 0)
            len += (size_t)w;
    }
    if (a->icmp && len < sizeof answers) {
        int w = snprintf(answers + len, sizeof answers - len,
                         "%s%" PRIu64 " refused by an ICMP "
                         "error",
                         len ? ", " : "", a->icmp);
        if (w > 0)
            len += (size_t)w;
    }
    if (a->unanswered && len < sizeof answers)
        snprintf(answers + len, sizeof answers - len, "%s%" PRIu64 " unanswered", len ? ", " : "",
                 a->unanswered);
    char to[32];
    nt_duration_format(rule_timeout_us(rc), to, sizeof to);

    finding_set_summary(
        f,
        "The DNS server %s rejected %s: %" PRIu64 " %s from %" PRIu64 " %s (%s) for %s over %s "
        "port %u failed (%s). %s",
        srv, whats, f->lookups, f->lookups == 1 ? what : whats, n_clients,
        update ? (n_clients == 1 ? "client" : "clients")
               : (n_clients == 1 ? "sending server" : "sending servers"),
        clients, zones, PROTO, f->port, answers,
        update ? "A rejected registration leaves the hosts' records missing or stale in the "
                 "zone: their names stop resolving, or resolve to old addresses."
               : "A rejected NOTIFY leaves the secondary serving its old copy of the zone "
                 "until its own refresh timer runs out.");
    finding_add_fact(f,
                     "Answers: %s (of %" PRIu64 " %s; no answer within %s counts as "
                     "unanswered).",
                     answers, f->lookups, f->lookups == 1 ? what : whats, to);
    if (a->header_seen)
        finding_add_fact(f,
                         "%" PRIu64 " of the %" PRIu64 " %s whose header the capture shows "
                         "carried additional records, where a TSIG or GSS-TSIG signature "
                         "travels; the capture does not check the signatures.",
                         a->with_additional, a->header_seen, a->header_seen == 1 ? what : whats);

    if (update) {
        finding_add_cause(
            f, refused ? CONF_HIGH : CONF_LOW,
            "The zone does not accept updates from these clients: its update policy leaves them "
            "out (BIND `allow-update` / `update-policy`), or it accepts only secure updates "
            "(an Active Directory-integrated zone set to \"Secure only\", Samba's default) and "
            "these were unsigned or signed by an account not allowed to change the records.",
            "%" PRIu64 " of the %" PRIu64 " updates were answered REFUSED, the policy answer.",
            refused, f->lookups);
        finding_add_cause(
            f, notimp ? CONF_HIGH : CONF_LOW,
            "The server does not implement dynamic update (a forwarder or caching resolver "
            "such as dnsmasq or unbound, or a server without the zone): the clients send their "
            "updates to the wrong server, usually because it is their configured resolver.",
            "%" PRIu64 " of the %" PRIu64 " updates were answered NOTIMP. Clients send updates "
            "to the primary named in the zone's SOA (MNAME); `dig SOA ZONE` shows it.",
            notimp, f->lookups);
        finding_add_cause(f, notauth ? CONF_HIGH : CONF_LOW,
                          "The server is not authoritative (not the primary) for the zone, or "
                          "did not accept the update's signature (NOTAUTH).",
                          "%" PRIu64 " of the %" PRIu64 " updates were answered NOTAUTH or "
                          "NOTZONE.",
                          notauth, f->lookups);
    } else {
        finding_add_cause(
            f, refused || notauth ? CONF_HIGH : CONF_LOW,
            "The receiving server does not take NOTIFY from this primary for the zone: it is not "
            "a secondary for it, or this primary is not among its `masters` / `primaries` or "
            "`allow-notify` (a primary's address changed, or the secondary was rebuilt).",
            "%" PRIu64 " of the %" PRIu64 " NOTIFY messages were answered REFUSED, NOTAUTH or "
            "NOTZONE.",
            refused + notauth, f->lookups);
        finding_add_cause(f, notimp ? CONF_HIGH : CONF_LOW,
                          "The receiving server does not implement NOTIFY: the primary's "
                          "`also-notify` or NS list names a server that is not a secondary.",
                          "%" PRIu64 " of the %" PRIu64 " NOTIFY messages were answered NOTIMP.",
                          notimp, f->lookups);
    }
    if (other)
        finding_add_cause(f, CONF_MEDIUM,
                          "The server failed to process the message (SERVFAIL: its zone "
                          "storage or directory backend failed; FORMERR: it could not parse "
                          "it).",
                          "%" PRIu64 " of the %" PRIu64 " were answered SERVFAIL or FORMERR.",
                          other, f->lookups);
    if (a->icmp)
        finding_add_cause(f, a->icmp == f->lookups ? CONF_HIGH : CONF_MEDIUM,
                          "The messages do not reach the DNS service: nothing listens on the "
                          "port, or a filter or router rejects them (see the ICMP errors "
                          "cited).",
                          "%" PRIu64 " of the %" PRIu64 " drew an ICMP error quoting them.",
                          a->icmp, f->lookups);
    if (a->unanswered)
        finding_add_cause(f, a->unanswered == f->lookups ? CONF_MEDIUM : CONF_LOW,
                          "A firewall drops the messages, or the server ignores them (some "
                          "servers drop updates for zones they do not serve).",
                          "%" PRIu64 " of the %" PRIu64 " got no answer and no ICMP error within "
                          "%s.",
                          a->unanswered, f->lookups, to);
    finding_rank_causes(f);

    const char *zone = text_first_query_name(f);
    char zcmd[DNS_NAME_TEXT_MAX * 3] = "ZONE";
    if (zone)
        text_shell_query(zone, zcmd, sizeof zcmd);
    finding_add_step(f,
                     "Find the zone's primary: `dig SOA %s +short` (the first name is the MNAME "
                     "the updates must reach) and compare it with %s.",
                     zcmd, srv);
    if (update) {
        finding_add_step(f,
                         "On %s, read the zone's update policy: BIND `named-checkconf -p` "
                         "(allow-update, update-policy); Windows `Get-DnsServerZone -Name ZONE | "
                         "Format-List DynamicUpdate` or `dnscmd /zoneinfo ZONE`; Samba "
                         "`samba-tool dns zoneinfo SERVER ZONE`.",
                         srv);
        finding_add_step(f, "On an affected client, retry and read the reason: Windows "
                            "`ipconfig /registerdns` then the System log (DNS Client Events "
                            "8019, 8020); Samba members `samba_dnsupdate --verbose`; elsewhere "
                            "`nsupdate -d` (add `-g` for GSS-TSIG).");
    } else {
        finding_add_step(f,
                         "On %s, check that it is a secondary for the zone and lists this primary "
                         "(`masters` / `primaries`, `allow-notify`), and its logs for the "
                         "refused notify.",
                         srv);
    }
    finding_add_step(f,
                     "Capture on %s while a client retries: `tcpdump -ni any port %u and host %s` "
                     "shows whether the messages arrive and what it answers.",
                     srv, f->port, srv_cmd);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain(rc, f);
}

const struct rule rule_dns_update_rejected = {
    .id = "dns.update_rejected",
    .severity = SEV_HIGH,
    .title = "DNS dynamic updates or NOTIFY rejected",
    .on_dns_lookup = on_lookup,
    .all_opcodes = true,
    .on_finish = on_finish,
};
