/* dns_answer_other_address.c: DNS answers that come back from another address than the one
 * queried. A client's socket (connected, or a stub resolver checking the source) does not take
 * them: its kernel answers with ICMP port unreachable, and the lookup fails although a server
 * answered. Seen behind NAT that rewrites the query but not the answer (Docker, Kubernetes,
 * hairpin port forwarding) and with multi-homed servers that answer from another address. The
 * correlator ties such an answer to the waiting lookup of the same client port, DNS id and
 * question (struct stray_response.queried). One finding per queried server and answering
 * address. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect/rule.h"
#include "detect/text.h"

struct ao_acc {
    struct nt_addr from; /* the address the answers came from */
    uint64_t answers;    /* answers from it to lookups sent to the server */
    uint64_t rejects;    /* the clients' ICMP errors about those answers */
    uint64_t last_seq;   /* the last lookup counted (lookups are counted once) */
    struct nt_time first, last;
};

static struct finding *get(struct rule_ctx *rc, const struct dns_lookup *l,
                           const struct nt_addr *from)
{
    char key[2 * NT_ADDR_FMT_MAX + 16], a[NT_ADDR_FMT_MAX], b[NT_ADDR_FMT_MAX];
    nt_addr_format(&l->server, a, sizeof a);
    nt_addr_format(from, b, sizeof b);
    snprintf(key, sizeof key, "%s|%u|%u|%s", a, l->transport, l->server_port, b);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return NULL;
    if (!f->priv) {
        struct ao_acc *acc = calloc(1, sizeof *acc);
        if (!acc)
            return NULL;
        f->priv = acc;
        f->priv_free = free;
        acc->from = *from;
        f->transport = l->transport == 6 ? 6 : 17;
        f->port = l->server_port;
        f->service = "DNS";
        f->has_server = true;
        f->server = l->server;
        f->unit_one = "lookup";
        f->unit_many = "lookups";
        f->reply_one = "answer from the other address";
        f->reply_many = "answers from the other address";
        /* The service answered, from the wrong address: no incident window of its own. */
        f->window.window_set = true;
    }
    return f;
}

static void on_stray(struct rule_ctx *rc, const struct stray_response *r)
{
    const struct dns_lookup *l = r->queried;
    if (!l)
        return;
    struct finding *f = get(rc, l, &r->ev->src);
    if (!f || !f->priv)
        return;
    struct ao_acc *a = f->priv;
    a->answers++;
    f->error_packets++;
    if (l->seq != a->last_seq) {
        a->last_seq = l->seq;
        f->lookups++;
        f->query_packets += l->transmissions;
        finding_add_client(f, &l->client);
        char name[DNS_NAME_TEXT_MAX + 32];
        text_query_name(l, name, sizeof name);
        finding_add_name(f, name);
        finding_add_evidence(f, &l->query);
        finding_see_time(f, &l->first_tx);
    }
    f->packets = f->query_packets + f->error_packets + a->rejects;
    finding_add_evidence(f, r->ev);
    finding_see_time(f, &r->ev->ts);
    nt_time_widen(&a->first, &a->last, &r->ev->ts);
}

static void on_icmp(struct rule_ctx *rc, const struct icmp_event *e)
{
    if (!e->foreign_answer || !e->lookup)
        return;
    struct finding *f = get(rc, e->lookup, &e->lookup->foreign_from);
    if (!f || !f->priv)
        return;
    rule_take_icmp(rc);
    struct ao_acc *a = f->priv;
    a->rejects++;
    f->packets = f->query_packets + f->error_packets + a->rejects;
    finding_add_evidence(f, e->ev);
    finding_see_time(f, &e->ev->ts);
}

static void explain(struct rule_ctx *rc, struct finding *f)
{
    (void)rc;
    const struct ao_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], from[NT_ADDR_FMT_MAX], from_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    char clients[512], names[512], t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX];
    text_addr(&f->server, srv, sizeof srv);
    text_addr(&a->from, from, sizeof from);
    text_shell_word(from, from_cmd, sizeof from_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    text_time(&a->first, t1, sizeof t1);
    text_time(&a->last, t2, sizeof t2);
    const char *P = f->transport == 6 ? "TCP" : "UDP";
    uint64_t n_cl = f->n_clients + f->clients_dropped;

    finding_set_summary(
        f,
        "DNS answers came from another address than the one queried. %" PRIu64 " %s (%s) "
        "from %" PRIu64 " %s (%s) %s sent to %s %s port %u, but the %s came back from %s. "
        "%s",
        f->lookups, f->lookups == 1 ? "lookup" : "lookups", names, n_cl,
        n_cl == 1 ? "client" : "clients", clients, f->lookups == 1 ? "was" : "were", srv, P,
        f->port, a->answers == 1 ? "answer" : "answers", from,
        a->rejects ? (a->answers == 1 ? "The client rejected it with ICMP port unreachable, so "
                                        "the lookup failed although a server answered."
                                      : "The clients rejected them with ICMP port unreachable, "
                                        "so the lookups failed although a server answered.")
                   : "A client that checks where its answer comes from (a connected socket, "
                     "most stub resolvers) does not take such an answer.");
    finding_add_fact(f,
                     "%" PRIu64 " %s from %s matched the waiting %s by client port, DNS id "
                     "and question, between %s and %s; none came from %s itself.",
                     a->answers, a->answers == 1 ? "answer" : "answers", from,
                     f->lookups == 1 ? "lookup" : "lookups", t1, t2, srv);
    if (a->rejects)
        finding_add_fact(f,
                         "The clients answered %" PRIu64 " of them with ICMP port unreachable "
                         "quoting the answer from %s: their sockets expected %s.",
                         a->rejects, from, srv);
    else
        finding_add_fact(f, "No ICMP error from the clients about these answers is in the "
                            "capture.");

    finding_add_cause(f, a->rejects ? CONF_HIGH : CONF_MEDIUM,
                      "Address translation (NAT) rewrites the queries' destination but not the "
                      "answers' source back: Docker or Kubernetes port mapping, a DNAT rule "
                      "whose replies bypass connection tracking, or hairpin forwarding.",
                      "The answers carry the queries' client port, id and question, so they "
                      "answer these lookups; only the source address %s differs from the "
                      "address %s the clients asked.",
                      from, srv);
    finding_add_cause(f, CONF_MEDIUM,
                      "The DNS server has several addresses and answers from another one than "
                      "it was asked on.",
                      "A server listening on a wildcard address picks the answer's source from "
                      "its routing table unless it binds each address (BIND's listen-on, "
                      "unbound's interface-automatic: yes or interface:, dnsmasq's "
                      "--bind-interfaces).");
    finding_add_cause(f, CONF_LOW, "A third party forged the answers (spoofing).",
                      "A forged answer must guess the client port and DNS id; these matched, "
                      "which a host on the path or a NAT device gets right, so this is the less "
                      "likely reading unless %s is unknown on the network.",
                      from);
    finding_rank_causes(f);

    finding_add_step(f,
                     "On the host or router between the clients and %s, list the NAT rules and "
                     "the tracked DNS flows: `nft list ruleset`, `iptables -t nat -S` and "
                     "`conntrack -L -p %s --dport %u`.",
                     srv, finding_transport_name(f), f->port);
    finding_add_step(f, "On the DNS server, make it answer from the address it was asked on (bind "
                        "each address: BIND `listen-on`, unbound `interface-automatic: yes`, "
                        "dnsmasq `--bind-interfaces`).");
    const char *qname = text_first_query_name(f);
    if (qname) {
        char qcmd[DNS_NAME_TEXT_MAX * 3];
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f, "Ask %s directly and compare: `dig @%s %s`.", from, from_cmd, qcmd);
    }
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain(rc, f);
}

const struct rule rule_dns_answer_other_address = {
    .id = "dns.answer_other_address",
    .severity = SEV_HIGH,
    .title = "DNS answers from another address than the one queried",
    .on_stray_response = on_stray,
    .on_icmp_error = on_icmp,
    .on_finish = on_finish,
};
