/* dns_unsolicited.c: DNS answers that answer no query in the capture, per host they were sent
 * to. Many from many sources is the shape of a DNS reflection (amplification) attack on that
 * host; a few from resolvers it uses are answers to queries the capture missed; a few from
 * unknown hosts can be forged answers guessing an id, or a capture that sees only the return
 * path. The finding says which the evidence supports.
 *
 * Thresholds:
 * - a finding needs UNSOLICITED_MIN answers;
 * - fewer than REFLECT_MIN answers that all came within the timeout after the capture's first
 *   packet make none: their queries were most likely sent before the capture began;
 * - reflection is ranked first (high) from REFLECT_MIN answers and REFLECT_SOURCES distinct
 *   sources, medium from REFLECT_MIN answers alone. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect/rule.h"
#include "detect/text.h"
#include "util/addr_set.h"

#define UNSOLICITED_MIN 10
#define REFLECT_MIN     100
#define REFLECT_SOURCES 10
#define SOURCES_LISTED  8

struct us_acc {
    uint64_t answers;
    uint64_t servfail, refused, nxdomain, noerror, other_rcode;
    uint64_t large;      /* DNS messages over 512 bytes */
    uint64_t bytes;      /* DNS message bytes of the counted answers */
    uint64_t from_known; /* answers from an address the capture shows queried by someone */
    /* answers from a service whose figures the detector did not keep (--bound detect.services):
     * whether it was queried is unknown */
    uint64_t from_not_kept;
    struct addr_set sources;
    struct nt_addr listed[SOURCES_LISTED];
    size_t n_listed;
    struct nt_time first, last;
};

static void acc_free(void *p)
{
    struct us_acc *a = p;
    addr_set_fini(&a->sources);
    free(a);
}

static void on_stray(struct rule_ctx *rc, const struct stray_response *r)
{
    if (r->queried)
        return; /* dns.answer_other_address */
    const struct evidence *ev = r->ev;
    char key[NT_ADDR_FMT_MAX];
    nt_addr_format(&ev->dst, key, sizeof key);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return;
    struct us_acc *a = f->priv;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return;
        addr_set_init(&a->sources, (size_t)rule_bound(rc, "sources"));
        f->priv = a;
        f->priv_free = acc_free;
        f->transport = ev->proto == 6 ? 6 : 17;
        f->port = ev->sport; /* the DNS servers' port the answers came from */
        f->service = "DNS";
        finding_add_client(f, &ev->dst);
        f->unit_one = "answer";
        f->unit_many = "answers";
        f->reply_one = "answer";
        f->reply_many = "answers";
        f->window.window_set = true; /* no service of the victim failed */
    }
    a->answers++;
    f->lookups++;
    f->error_packets++;
    f->packets++;
    switch (ev->rcode) {
    case 0:
        a->noerror++;
        break;
    case 2:
        a->servfail++;
        break;
    case 3:
        a->nxdomain++;
        break;
    case 5:
        a->refused++;
        break;
    default:
        a->other_rcode++;
        break;
    }
    if (ev->dns_len > 512)
        a->large++;
    a->bytes += ev->dns_len;
    if (addr_set_add(&a->sources, &ev->src) && a->n_listed < SOURCES_LISTED)
        a->listed[a->n_listed++] = ev->src;
    const struct server_stats *ss = rule_server_stats(rc, &ev->src, ev->sport, ev->proto);
    if (ss && ss->lookups)
        a->from_known++;
    else if (!ss && !rule_service_kept(rc, &ev->src, ev->sport, ev->proto))
        a->from_not_kept++;
    if (ev->has_question && ev->qname) {
        char name[DNS_NAME_TEXT_MAX + 32], tb[16];
        snprintf(name, sizeof name, "%s %s", ev->qname, dns_type_name(ev->qtype, tb, sizeof tb));
        finding_add_name(f, name);
    }
    finding_add_evidence(f, ev);
    finding_see_time(f, &ev->ts);
    nt_time_widen(&a->first, &a->last, &ev->ts);
}

static void explain(struct rule_ctx *rc, struct finding *f)
{
    (void)rc;
    struct us_acc *a = f->priv;
    char victim[NT_ADDR_FMT_MAX], victim_cmd[NT_ADDR_FMT_MAX * 2 + 8], srcs[512];
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX];
    text_addr(finding_first_client(f), victim, sizeof victim);
    text_shell_word(victim, victim_cmd, sizeof victim_cmd);
    uint64_t n_src = a->sources.n + (a->sources.overflow ? 1 : 0);
    text_addr_list(a->listed, a->n_listed,
                   a->sources.n > a->n_listed ? a->sources.n - a->n_listed : 0, srcs, sizeof srcs);
    text_time(&a->first, t1, sizeof t1);
    text_time(&a->last, t2, sizeof t2);
    bool many = a->answers >= REFLECT_MIN;
    bool spread = a->sources.n >= REFLECT_SOURCES;

    finding_set_summary(f,
                        "%" PRIu64 " DNS answers reached %s that answer no query in the capture, "
                        "from %s%" PRIu64 " %s (%s), between %s and %s.%s",
                        a->answers, victim, a->sources.overflow ? "more than " : "", n_src,
                        n_src == 1 ? "source" : "sources", srcs, t1, t2,
                        many ? " That many answers nobody asked for is the shape of a DNS "
                               "reflection attack on this host."
                             : "");
    finding_add_fact(f,
                     "Their response codes: %" PRIu64 " NOERROR, %" PRIu64 " NXDOMAIN, %" PRIu64
                     " SERVFAIL, %" PRIu64 " REFUSED, %" PRIu64 " other; %" PRIu64
                     " %s over 512 bytes (%" PRIu64 " DNS bytes in all).",
                     a->noerror, a->nxdomain, a->servfail, a->refused, a->other_rcode, a->large,
                     a->large == 1 ? "answer is" : "answers are", a->bytes);
    if (a->from_known)
        finding_add_fact(f,
                         "%" PRIu64 " of them came from addresses that the capture shows being "
                         "queried as DNS servers.",
                         a->from_known);
    else if (!a->from_not_kept)
        finding_add_fact(f, "None came from an address the capture shows being queried as a DNS "
                            "server.");
    if (a->from_not_kept)
        finding_add_fact(f,
                         "%" PRIu64
                         " came from addresses and ports whose DNS figures nettriage did "
                         "not keep (more than its bound of services were seen, --bound "
                         "detect.services): whether those were queried as DNS servers is not "
                         "known.",
                         a->from_not_kept);

    if (many) {
        f->attack = ATTACK_T1498_002;
        f->severity = SEV_HIGH;
    }
    finding_add_cause(f,
                      many && spread ? CONF_HIGH
                      : many         ? CONF_MEDIUM
                                     : CONF_LOW,
                      "A DNS reflection (amplification) attack: queries with the address of "
                      "this host forged as their source are sent to many DNS servers, whose "
                      "answers flood it.",
                      "%" PRIu64 " answers from %" PRIu64 " %s answer no query this host sent in "
                      "the capture; reflection needs many, from many servers, often large.",
                      a->answers, n_src, n_src == 1 ? "source" : "sources");
    finding_add_cause(f, a->from_known ? CONF_MEDIUM : CONF_LOW,
                      "Answers to queries the capture missed: packets the capture dropped, or "
                      "queries that left by another interface or path than the one captured.",
                      "%" PRIu64 " of the answers came from addresses queried as DNS servers "
                      "elsewhere in the capture.",
                      a->from_known);
    finding_add_cause(f, !many && !a->from_known ? CONF_MEDIUM : CONF_LOW,
                      "The capture sees only the return path (asymmetric routing, or a capture "
                      "filter that keeps the answers only).",
                      "The answers arrive but none of the queries they answer is in the "
                      "capture.");
    finding_add_cause(f, CONF_LOW,
                      "Forged answers guessing a DNS id (a cache-poisoning attempt against a "
                      "resolver at this address).",
                      "Forged answers answer no real query; they come in bursts with varying "
                      "ids to one port. The capture alone cannot tell them from the causes "
                      "above without the queries.");
    finding_rank_causes(f);

    finding_add_step(f,
                     "On %s, check whether it sent these queries: its resolver's logs, and a "
                     "capture of both directions on the same interface (`tcpdump -ni any "
                     "'host %s and port 53'`).",
                     victim, victim_cmd);
    if (many)
        finding_add_step(f,
                         "If it did not, treat it as a reflection attack: ask the upstream "
                         "network to filter DNS answers to %s (UDP source port 53) and list "
                         "the reflecting servers (%s) for abuse reports.",
                         victim, srcs);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL) {
        const struct us_acc *a = f->priv;
        const struct correlate_stats *cs = rule_stats(rc);
        bool all_at_start = cs && cs->first_ts.kind != NT_TIME_NONE && a &&
                            a->last.kind != NT_TIME_NONE &&
                            nt_time_diff_us(&cs->first_ts, &a->last) <= rule_timeout_us(rc);
        if (!a || a->answers < UNSOLICITED_MIN || (all_at_start && a->answers < REFLECT_MIN)) {
            rule_withdraw(rc, f, &it);
            continue;
        }
        explain(rc, f);
    }
}

static const struct rule_bound_def bounds[] = {
    {"sources", 1024, 16, 1048576,
     "distinct sources of unsolicited answers counted exactly per target"},
    {NULL, 0, 0, 0, NULL},
};

const struct rule rule_dns_unsolicited = {
    .id = "dns.unsolicited",
    .severity = SEV_MEDIUM,
    .title = "DNS answers nobody asked for",
    .on_stray_response = on_stray,
    .on_finish = on_finish,
    .bounds = bounds,
};
