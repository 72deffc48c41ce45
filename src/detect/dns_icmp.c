/* dns_icmp.c: shared accumulation and key findings for DNS lookups refused by ICMP errors. */
#include "detect/dns_icmp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dns_finding.h"
#include "detect/text.h"

struct finding *dns_icmp_add(struct rule_ctx *rc, const struct dns_lookup *l)
{
    bool created;
    struct finding *f = dns_server_finding(rc, l, sizeof(struct dns_icmp_acc), &created);
    if (!f || !f->priv)
        return NULL;
    struct dns_icmp_acc *a = f->priv;
    if (created) {
        a->ip_version = l->error.ip_version ? l->error.ip_version : l->query.ip_version;
        a->icmp_type = l->error.icmp_type;
        a->icmp_code = l->error.icmp_code;
        a->min_delay_us = INT64_MAX;
    }
    dns_finding_count(f, l, l->n_errors);
    if (l->from_quote) {
        a->from_quote++;
        a->from_quote_errors += l->n_errors;
    } else if (l->matched_by_id)
        a->by_id++;
    if (l->error.quote_present)
        a->with_quote++;
    if (l->icmp_sender == ICMP_SENDER_SERVER)
        a->senders_from_server = true;
    else
        a->senders_from_path = true;
    bool known = false;
    for (size_t i = 0; i < a->n_senders; i++)
        known |= nt_addr_eq(&a->senders[i], &l->error.src);
    if (!known && a->n_senders < DNS_ICMP_SENDERS_KEPT)
        a->senders[a->n_senders++] = l->error.src;
    finding_add_evidence(f, &l->query);
    finding_add_evidence(f, &l->error);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    finding_see_time(f, &l->error.ts);
    nt_time_widen(&a->first_query, &a->last_query, &l->first_tx);
    nt_time_widen(&a->first_error, &a->last_error, &l->error.ts);
    if (l->first_tx.kind != NT_TIME_NONE && l->error.ts.kind != NT_TIME_NONE) {
        /* Delay from the transmission the error answers: the latest one before it. */
        int64_t d = nt_time_diff_us(&l->last_tx, &l->error.ts);
        if (d < 0)
            d = nt_time_diff_us(&l->first_tx, &l->error.ts);
        if (d < a->min_delay_us)
            a->min_delay_us = d;
        if (d > a->max_delay_us)
            a->max_delay_us = d;
        a->n_delay++;
    }
    return f;
}

void dns_icmp_words(struct rule_ctx *rc, const struct finding *f, struct dns_icmp_words *w)
{
    const struct dns_icmp_acc *a = f->priv;
    memset(w, 0, sizeof *w);
    text_addr(&f->server, w->srv, sizeof w->srv);
    text_shell_word(w->srv, w->srv_cmd, sizeof w->srv_cmd);
    w->proto = finding_transport_name(f);
    w->PROTO = f->transport == 6 ? "TCP" : "UDP";
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, w->clients, sizeof w->clients);
    text_name_list(f->names, f->n_names, f->names_dropped, w->names, sizeof w->names);
    text_addr_list(a->senders, a->n_senders, 0, w->senders, sizeof w->senders);
    uint8_t v = a->ip_version == 6 ? 6 : 4;
    snprintf(w->icmp, sizeof w->icmp, "%s type %u, code %u: %s", v == 6 ? "ICMPv6" : "ICMP",
             a->icmp_type, a->icmp_code, icmp_code_description(v, a->icmp_type, a->icmp_code));
    if (a->n_delay) {
        char d1[32], d2[32];
        nt_duration_format(a->min_delay_us, d1, sizeof d1);
        nt_duration_format(a->max_delay_us, d2, sizeof d2);
        if (a->min_delay_us == a->max_delay_us)
            snprintf(w->delays, sizeof w->delays, ", %s after the query", d1);
        else
            snprintf(w->delays, sizeof w->delays, ", %s to %s after the queries", d1, d2);
    }
    w->ss = rule_server_stats(rc, &f->server, f->port, f->transport == 6 ? 6 : 17);
    w->kept = rule_service_kept(rc, &f->server, f->port, f->transport == 6 ? 6 : 17);
    w->answered = w->ss ? w->ss->answered : 0;
    w->all_lookups = w->ss ? w->ss->lookups : f->lookups;
}

void dns_icmp_add_facts(struct rule_ctx *rc, struct finding *f, const struct dns_icmp_words *w)
{
    const struct dns_icmp_acc *a = f->priv;
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], when[2 * NT_TIME_FMT_MAX + 16];
    text_time(&a->first_query, t1, sizeof t1);
    text_time(&a->last_query, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);
    uint64_t captured = f->lookups - a->from_quote; /* lookups whose queries are captured */
    uint64_t retrans = f->query_packets > captured ? f->query_packets - captured : 0;
    if (captured)
        finding_add_fact(f,
                         "%" PRIu64 " DNS %s (%" PRIu64 " %s, %" PRIu64 " %s) went from %s to %s "
                         "%s port %u %s.",
                         f->query_packets, f->query_packets == 1 ? "query" : "queries", captured,
                         captured == 1 ? "lookup" : "lookups", retrans,
                         retrans == 1 ? "retransmission" : "retransmissions", w->clients, w->srv,
                         w->PROTO, f->port, when);
    if (a->from_quote) {
        /* Each error refused one datagram; without the quoted id and port, how many lookups
         * (a query and its retransmissions) they were is not known. */
        uint64_t nq = a->from_quote_errors;
        bool one = nq == 1;
        char how[192];
        if (a->with_quote)
            snprintf(how, sizeof how, "from the copy of the query that the ICMP %s",
                     one ? "error quotes" : "errors quote");
        else
            snprintf(how, sizeof how,
                     "from the ICMP %s, which name%s the destination, protocol and port of the "
                     "datagram refused (tcpdump prints the quoted query itself with -v)",
                     one ? "error" : "errors", one ? "s" : "");
        finding_add_fact(f,
                         "%s%" PRIu64 " %s to %s %s port %u %s not in the input; %s known only "
                         "%s. The capture saw only the errors (a filter such as `icmp`, or a "
                         "capture point on the errors' path); when %s sent is unknown.",
                         captured ? "Further, " : "", nq, one ? "query" : "queries", w->srv,
                         w->PROTO, f->port, one ? "is" : "are", one ? "it is" : "they are", how,
                         one ? "it was" : "they were");
    }
    text_time(&a->first_error, t1, sizeof t1);
    text_time(&a->last_error, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);
    finding_add_fact(f, "%" PRIu64 " ICMP %s (%s) came back from %s %s%s.", f->error_packets,
                     f->error_packets == 1 ? "error" : "errors", w->icmp, w->senders, when,
                     w->delays);
    if (a->from_quote == f->lookups)
        ; /* each lookup was made from its error's quote: nothing was matched */
    else if (a->by_id == captured)
        finding_add_fact(f, "Each error quotes the query it answers; it was matched to that query "
                            "by the quoted addresses, ports and DNS id.");
    else if (a->with_quote == 0)
        finding_add_fact(f,
                         "The input does not show the datagrams the errors quote (tcpdump prints "
                         "them with -v), so each error was matched to the latest open query by "
                         "addresses, protocol and destination port.");
    else
        finding_add_fact(f,
                         "%" PRIu64 " of the %" PRIu64 " errors quote the DNS id of their query; "
                         "the others were matched by addresses, protocol and ports.",
                         a->by_id, captured);
    if (f->late) {
        char to[32];
        nt_duration_format(rule_timeout_us(rc), to, sizeof to);
        finding_add_fact(f,
                         "%" PRIu64 " of the errors came after the %s timeout; they still answer "
                         "their queries, which were not retransmitted in between.",
                         f->late, to);
    }
    if (!w->kept) {
        /* Unknown: the detector says so in a fact of its own (detect_finish). */
    } else if (w->answered) {
        text_time(&w->ss->last_answer, t1, sizeof t1);
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups on %s "
                         "port %u in the capture (last answer at %s).",
                         w->answered, w->all_lookups, w->PROTO, f->port, t1);
    } else {
        if (w->all_lookups == 1)
            finding_add_fact(f,
                             "The one lookup to %s on %s port %u got no DNS answer in the "
                             "capture.",
                             w->srv, w->PROTO, f->port);
        else
            finding_add_fact(f,
                             "None of the %" PRIu64 " lookups to %s on %s port %u got a DNS "
                             "answer in the capture.",
                             w->all_lookups, w->srv, w->PROTO, f->port);
    }
}
