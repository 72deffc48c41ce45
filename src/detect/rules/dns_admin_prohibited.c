/* dns_admin_prohibited.c: DNS queries rejected by a filter: ICMP destination unreachable codes
 * 9, 10, 13 (RFC 1122, RFC 1812) or ICMPv6 type 1 code 1 (RFC 4443). */
#include <inttypes.h>
#include <stdio.h>

#include "detect/dns_icmp.h"
#include "detect/text.h"

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->outcome == LOOKUP_ICMP_ERROR && l->icmp_kind == ICMP_K_ADMIN_PROHIBITED)
        dns_icmp_add(rc, l);
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct dns_icmp_acc *a = f->priv;
    struct dns_icmp_words w;
    dns_icmp_words(rc, f, &w);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    const char *where = a->senders_from_path
                            ? (a->senders_from_server ? "by the server itself and by a host on "
                                                        "the path"
                                                      : "by a host on the path, not by the server")
                            : "by the server itself";
    finding_set_summary(f,
                        "DNS over %s port %u was blocked by a filter. %" PRIu64 " %s to the DNS "
                        "server %s (%s) from %" PRIu64 " %s (%s) %s refused with %s, sent %s "
                        "(%s). A firewall rule or access list forbids these queries, so the "
                        "names could not be resolved through this server.",
                        w.PROTO, f->port, f->lookups, f->lookups == 1 ? "lookup" : "lookups", w.srv,
                        w.names, n_clients, n_clients == 1 ? "client" : "clients", w.clients,
                        f->lookups == 1 ? "was" : "were each", w.icmp, where, w.senders);
    dns_icmp_add_facts(rc, f, &w);
    char all_errors[48];
    text_all(f->error_packets, "error", "errors", all_errors, sizeof all_errors);
    finding_add_cause(f, CONF_HIGH,
                      a->senders_from_path ? "A firewall or router access list on the path "
                                             "rejects DNS to the server."
                                           : "A firewall on the server rejects DNS queries.",
                      "\"Communication administratively prohibited\" is sent only by a filter: "
                      "%s, or a router's access list. %s came from %s%s.",
                      a->ip_version == 6
                          ? "nftables `reject with icmpv6 admin-prohibited`, ip6tables "
                            "`--reject-with icmp6-adm-prohibited`"
                          : "nftables `reject with icmp admin-prohibited`, iptables "
                            "`--reject-with icmp-admin-prohibited`",
                      all_errors, w.senders, w.delays);
    if (w.answered)
        finding_add_cause(f, CONF_MEDIUM,
                          "The filter applies only to some clients, names or times (a recent "
                          "rule change or a rate limit).",
                          "The same server answered %" PRIu64 " of its %" PRIu64
                          " lookups in the capture, so DNS itself works.",
                          w.answered, w.all_lookups);
    finding_rank_causes(f);
    finding_add_step(f,
                     "On %s, find the rule that rejects %s port %u: `nft list ruleset` (look for "
                     "reject with admin-prohibited) and `iptables -S` / `ip6tables -S` (look for "
                     "icmp-admin-prohibited or icmp6-adm-prohibited).",
                     w.senders, w.PROTO, f->port);
    finding_add_step(f,
                     "Check whether that rule was meant to block these clients (%s): compare it "
                     "with the firewall policy and its change history.",
                     w.clients);
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(
            f, "After changing the rule, query again from an affected client: `dig @%s %s`.",
            w.srv_cmd, qcmd);
    }
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_admin_prohibited = {
    .id = "dns.admin_prohibited",
    .severity = SEV_HIGH,
    .title = "DNS blocked by a filter",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
