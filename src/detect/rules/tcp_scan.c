/* tcp_scan.c: one source whose TCP connection attempts failed on many ports or many hosts: a
 * port scan (many ports of a host) or a sweep (one port across many hosts), reported once per
 * scanning source instead of one tcp.no_response or tcp.refused finding per target (a scan
 * used to make 85 to 112 findings and a 4,500-line report).
 *
 * Failed attempts: answered by a reset, by an ICMP error, or left unanswered (after the
 * timeout, or cut off by the end of the capture after the client had retransmitted its SYN:
 * see tcp_no_response.c). A target is a server address and port.
 *
 * Thresholds: a source is scanning once its failed attempts reached SCAN_MIN_PORTS (10)
 * distinct ports, on any hosts, or SCAN_MIN_HOSTS (10) distinct hosts, on any ports. Ten
 * ports refused or silent are more than any ordinary client meets (a browser or mail client
 * uses one or two ports per service), and ten hosts failing at once from one source is the
 * shape of a sweep, or of the source's own path being cut, which the finding's causes name.
 *
 * Once a source crosses the threshold, tcp.no_response and tcp.refused make no new per-target
 * finding for its attempts, and at the end withdraw the findings they had made before it
 * crossed whose only client is a scanning source (a target that real clients failed to reach
 * as well keeps its finding). Lists in the finding are capped (SCAN_LIST_PORTS ports and
 * SCAN_LIST_HOSTS hosts named, the rest counted).
 *
 * Bounds (options: --bound tcp.scan.NAME=N): `sources` sources with failed attempts are
 * followed (the rest counted in "sources_ignored"); per source `targets` distinct targets and
 * `hosts` distinct hosts are kept (attempts to
 * further targets counted in "targets_not_kept", and the host count marked as a lower bound);
 * every source's failed ports are exact.
 *
 * Memory per source: a source is mostly a host met once or twice (the internet's background of
 * scanners reaching an exposed host: tens of thousands of sources a day, each trying a port or
 * three), so what it keeps grows with what it did. Its failed ports: the first inline, then a
 * sorted list, then past PORT_LIST_MAX a bitmap of all 65,536 (8 KiB, what the list then
 * costs). Its SYNs kept before the threshold: an array grown as they come (at most
 * SCAN_EV_KEPT). Before, each source had the bitmap from its second port and room for all 8
 * SYNs: 65,536 sources of 3 refused SYNs each took 773 MiB. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/rules/tcp_seen.h"
#include "detect/text.h"
#include "util/addr_set.h"
#include "util/htab.h"

#define SCAN_MIN_PORTS  10
#define SCAN_MIN_HOSTS  10
#define SCAN_LIST_PORTS 24
#define SCAN_LIST_HOSTS 10
#define SCAN_EV_KEPT    8 /* SYNs kept before the source crosses the threshold */
#define PORT_LIST_MAX   4096 /* failed ports listed before the bitmap (8 KiB either way) */

static const struct rule_bound_def bounds[] = {
    {"sources", 65536, 1, 16777216, "sources with failed attempts followed"},
    {"targets", 4096, 16, 1048576, "distinct targets (host and port) kept per source"},
    {"hosts", 4096, 16, 1048576, "distinct hosts counted exactly per source"},
    {NULL, 0, 0, 0, NULL},
};

struct target {
    struct nt_addr server;
    uint16_t port;
    uint8_t how; /* bits: 1 reset, 2 ICMP, 4 silent */
};

struct source {
    struct nt_addr src;
    uint64_t failed, resets, icmp, silent, syns, established;
    uint64_t targets_not_kept;
    struct htab targets; /* struct target by server and port */
    struct addr_set hosts;
    /* Failed ports: n_ports distinct; the first in first_port; from the second, all of them in
     * port_list (sorted, port_cap long) until PORT_LIST_MAX, then in the bitmap ports. */
    uint16_t first_port;
    uint32_t n_ports, port_cap;
    uint16_t *port_list;
    uint8_t *ports;
    struct nt_time first, last; /* first SYNs of the failed attempts */
    struct evidence *ev;        /* SYNs kept before the threshold (n_ev of cap_ev) */
    size_t n_ev, cap_ev;
    struct finding *f; /* raised once the source crossed the threshold */
    bool not_raised;   /* crossed it, but the detector refused the finding (its cap) */
};

struct state {
    struct htab index;   /* struct source by address */
    struct source **all; /* in the order of their first failure */
    size_t n, cap;
    size_t max_sources, max_targets, max_hosts; /* the bounds */
};

static uint64_t addr_hash(const struct nt_addr *a)
{
    struct htab_hasher h;
    htab_hasher_init(&h);
    htab_hasher_addr(&h, a);
    return htab_hasher_end(&h);
}

static bool source_eq(const void *item, const void *key)
{
    return nt_addr_eq(&((const struct source *)item)->src, key);
}

static uint64_t target_hash(const struct nt_addr *a, uint16_t port)
{
    struct htab_hasher h;
    htab_hasher_init(&h);
    htab_hasher_addr(&h, a);
    htab_hasher_u16(&h, port);
    return htab_hasher_end(&h);
}

struct target_key {
    const struct nt_addr *server;
    uint16_t port;
};

static bool target_eq(const void *item, const void *key)
{
    const struct target *t = item;
    const struct target_key *k = key;
    return t->port == k->port && nt_addr_eq(&t->server, k->server);
}

/* Lets go of the SYNs kept before the threshold. */
static void drop_syns(struct source *s)
{
    for (size_t i = 0; i < s->n_ev; i++)
        evidence_fini(&s->ev[i]);
    free(s->ev);
    s->ev = NULL;
    s->n_ev = s->cap_ev = 0;
}

static void source_free(struct source *s)
{
    struct htab_iter it;
    for (struct target *t = htab_first(&s->targets, &it); t; t = htab_next(&s->targets, &it))
        free(t);
    htab_fini(&s->targets);
    addr_set_fini(&s->hosts);
    free(s->ports);
    free(s->port_list);
    drop_syns(s);
    free(s);
}

static void state_free(void *p)
{
    struct state *st = p;
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        source_free(st->all[i]);
    free(st->all);
    htab_fini(&st->index);
    free(st);
}

static struct state *state_get(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot && (*slot = calloc(1, sizeof(struct state))) != NULL) {
        struct state *st = *slot;
        st->max_sources = (size_t)rule_bound(rc, "sources");
        st->max_targets = (size_t)rule_bound(rc, "targets");
        st->max_hosts = (size_t)rule_bound(rc, "hosts");
    }
    return *slot;
}

static struct source *source_get(struct rule_ctx *rc, struct state *st, const struct nt_addr *a,
                                 bool create)
{
    uint64_t h = addr_hash(a);
    struct source *s = htab_get(&st->index, h, source_eq, a);
    if (s || !create)
        return s;
    if (st->n >= st->max_sources) {
        rule_count_limit(rc, "sources_ignored", 1);
        return NULL;
    }
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 16;
        struct source **na = realloc(st->all, nc * sizeof *na);
        if (!na)
            return NULL;
        st->all = na;
        st->cap = nc;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->src = *a;
    addr_set_init(&s->hosts, st->max_hosts);
    if (htab_insert(&st->index, h, s) < 0) {
        addr_set_fini(&s->hosts);
        free(s);
        return NULL;
    }
    st->all[st->n++] = s;
    return s;
}

/* Where port is in the sorted list, or would go. */
static size_t list_pos(const struct source *s, uint16_t port)
{
    size_t lo = 0, hi = s->n_ports;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->port_list[mid] < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool port_seen(const struct source *s, uint16_t port)
{
    if (!s->n_ports)
        return false;
    if (s->ports)
        return (s->ports[port >> 3] >> (port & 7)) & 1;
    if (s->port_list) {
        size_t i = list_pos(s, port);
        return i < s->n_ports && s->port_list[i] == port;
    }
    return s->first_port == port;
}

/* The list holding every port so far, with room for one more; false out of memory. */
static bool list_room(struct source *s)
{
    if (!s->port_list) {
        if (!(s->port_list = malloc(4 * sizeof *s->port_list)))
            return false;
        s->port_cap = 4;
        s->port_list[0] = s->first_port; /* n_ports is 1 */
    }
    if (s->n_ports < s->port_cap)
        return true;
    uint32_t nc = s->port_cap * 2 < PORT_LIST_MAX ? s->port_cap * 2 : PORT_LIST_MAX;
    uint16_t *nl = realloc(s->port_list, nc * sizeof *nl);
    if (!nl)
        return false;
    s->port_list = nl;
    s->port_cap = nc;
    return true;
}

/* The bitmap made from the list, which it replaces; false out of memory. */
static bool to_bitmap(struct source *s)
{
    s->ports = calloc(65536 / 8, 1);
    if (!s->ports)
        return false;
    for (uint32_t i = 0; i < s->n_ports; i++)
        s->ports[s->port_list[i] >> 3] |= (uint8_t)(1u << (s->port_list[i] & 7));
    free(s->port_list);
    s->port_list = NULL;
    s->port_cap = 0;
    return true;
}

static void port_add(struct source *s, uint16_t port)
{
    if (port_seen(s, port))
        return;
    if (s->n_ports == 0) {
        s->first_port = port;
        s->n_ports = 1;
        return;
    }
    if (!s->ports && s->n_ports < PORT_LIST_MAX) {
        if (!list_room(s))
            return; /* out of memory: the count stays a lower bound */
        size_t i = list_pos(s, port);
        memmove(&s->port_list[i + 1], &s->port_list[i], (s->n_ports - i) * sizeof port);
        s->port_list[i] = port;
        s->n_ports++;
        return;
    }
    if (!s->ports && !to_bitmap(s))
        return;
    s->ports[port >> 3] |= (uint8_t)(1u << (port & 7));
    s->n_ports++;
}

/* Keeps a copy of the SYN ev while the source is below the threshold (at most SCAN_EV_KEPT). */
static void keep_syn(struct source *s, const struct evidence *ev)
{
    if (s->n_ev == SCAN_EV_KEPT)
        return;
    if (s->n_ev == s->cap_ev) {
        size_t nc = s->cap_ev + 1; /* one at a time: most sources send one or two */
        struct evidence *ne = realloc(s->ev, nc * sizeof *ne);
        if (!ne)
            return;
        s->ev = ne;
        s->cap_ev = nc;
    }
    if (evidence_copy(&s->ev[s->n_ev], ev))
        s->n_ev++;
}

static uint64_t n_hosts(const struct source *s)
{
    return s->hosts.n;
}

static void raise_finding(struct rule_ctx *rc, struct source *s)
{
    char key[NT_ADDR_FMT_MAX];
    nt_addr_format(&s->src, key, sizeof key); /* as tcp_scan_known (tcp_seen.h) looks it up */
    struct finding *f = rule_raise(rc, key);
    if (!f) {
        /* Past the detector's cap (or out of memory): the source is counted once among the
         * findings omitted, not again at each of its later attempts, and its SYNs, which no
         * finding will cite, are let go. */
        s->not_raised = true;
        drop_syns(s);
        return;
    }
    s->f = f;
    f->transport = 6;
    f->unit_one = "connection attempt";
    f->unit_many = "connection attempts";
    f->sent_one = "SYN";
    f->sent_many = "SYNs";
    f->reply_one = "refusal";
    f->reply_many = "refusals";
    finding_add_client(f, &s->src);
    for (size_t i = 0; i < s->n_ev; i++) {
        finding_add_evidence(f, &s->ev[i]);
        finding_see_time(f, &s->ev[i].ts);
    }
    drop_syns(s); /* no more are kept: the finding has copies */
}

static void on_attempt(struct rule_ctx *rc, const struct tcp_attempt *t)
{
    bool failed = t->outcome == TCP_RESET || t->outcome == TCP_ICMP_ERROR ||
                  t->outcome == TCP_UNANSWERED || tcp_retried_before_end(t);
    struct state *st = state_get(rc);
    if (!st)
        return;
    struct source *s = source_get(rc, st, &t->client, failed);
    if (!s)
        return;
    if (!failed) {
        if (t->outcome == TCP_ESTABLISHED)
            s->established++;
        return;
    }
    s->failed++;
    s->syns += t->syns;
    uint8_t how = t->outcome == TCP_RESET ? 1 : t->outcome == TCP_ICMP_ERROR ? 2 : 4;
    if (how == 1)
        s->resets++;
    else if (how == 2)
        s->icmp++;
    else
        s->silent++;
    nt_time_widen(&s->first, &s->last, &t->first_syn);
    port_add(s, t->server_port);
    addr_set_add(&s->hosts, &t->server);

    struct target_key k = {&t->server, t->server_port};
    uint64_t h = target_hash(&t->server, t->server_port);
    struct target *tg = htab_get(&s->targets, h, target_eq, &k);
    if (!tg && htab_count(&s->targets) < st->max_targets) {
        tg = calloc(1, sizeof *tg);
        if (tg) {
            tg->server = t->server;
            tg->port = t->server_port;
            if (htab_insert(&s->targets, h, tg) < 0) {
                free(tg);
                tg = NULL;
            }
        }
    } else if (!tg) {
        s->targets_not_kept++;
        rule_count_limit(rc, "targets_not_kept", 1);
    }
    if (tg)
        tg->how |= how;

    if (s->f) {
        struct finding *f = s->f;
        finding_add_evidence(f, &t->syn);
        if (t->outcome == TCP_RESET || t->outcome == TCP_ICMP_ERROR)
            finding_add_evidence(f, &t->reply);
        finding_see_time(f, &t->first_syn);
        finding_see_time(f, &t->last_syn);
    } else if (!s->not_raised) {
        keep_syn(s, &t->syn);
        if (s->n_ports >= SCAN_MIN_PORTS || n_hosts(s) >= SCAN_MIN_HOSTS) {
            raise_finding(rc, s);
            if (s->f) {
                finding_see_time(s->f, &s->first);
                finding_see_time(s->f, &t->last_syn);
            }
        }
    }
}

static int target_order(const void *a, const void *b)
{
    const struct target *x = *(const struct target *const *)a;
    const struct target *y = *(const struct target *const *)b;
    int c = nt_addr_cmp(&x->server, &y->server);
    return c ? c : (x->port > y->port) - (x->port < y->port);
}

/* Appends to buf (capacity n) as far as it fits. */
static void cat(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t n, const char *fmt, ...)
{
    size_t l = strlen(buf);
    if (l + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + l, n - l, fmt, ap);
    va_end(ap);
}

static void explain(struct rule_ctx *rc, struct source *s, struct finding *f)
{
    (void)rc;
    /* Targets sorted by host and port; hosts with their number of failed ports. */
    size_t nt = htab_count(&s->targets);
    struct target **ts = nt ? calloc(nt, sizeof *ts) : NULL;
    size_t k = 0;
    if (ts) {
        struct htab_iter it;
        for (struct target *t = htab_first(&s->targets, &it); t; t = htab_next(&s->targets, &it))
            ts[k++] = t;
        qsort(ts, k, sizeof *ts, target_order);
    }
    char src[NT_ADDR_FMT_MAX], src_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_addr(&s->src, src, sizeof src);
    text_shell_word(src, src_cmd, sizeof src_cmd);
    uint64_t hosts = n_hosts(s);
    bool hosts_more = s->hosts.overflow || s->targets_not_kept;
    /* The busiest host: the most failed ports on one host. */
    size_t best_i = 0, best_n = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j < k && nt_addr_eq(&ts[j]->server, &ts[i]->server))
            j++;
        if (j - i > best_n) {
            best_n = j - i;
            best_i = i;
        }
        i = j;
    }
    bool vertical = best_n >= SCAN_MIN_PORTS;
    bool sweep = hosts >= SCAN_MIN_HOSTS;
    if (hosts == 1 && k) {
        f->has_server = true;
        f->server = ts[0]->server;
    }
    if (s->n_ports == 1)
        f->port = s->first_port;
    f->lookups = s->failed;
    f->query_packets = s->syns;
    f->error_packets = s->resets + s->icmp;
    f->packets = f->query_packets + f->error_packets;

    /* Port list, ascending, capped. */
    char ports[400] = "";
    uint32_t listed = 0;
    if (s->ports) {
        for (uint32_t p = 0; p < 65536 && listed < SCAN_LIST_PORTS; p++)
            if ((s->ports[p >> 3] >> (p & 7)) & 1)
                cat(ports, sizeof ports, "%s%u", listed++ ? ", " : "", p);
    } else if (s->port_list) {
        for (; listed < s->n_ports && listed < SCAN_LIST_PORTS; listed++)
            cat(ports, sizeof ports, "%s%u", listed ? ", " : "", s->port_list[listed]);
    } else if (s->n_ports) {
        cat(ports, sizeof ports, "%u", s->first_port);
        listed = 1;
    }
    if (s->n_ports > listed)
        cat(ports, sizeof ports, " and %u more", s->n_ports - listed);
    /* Host list, capped. */
    char hostlist[800] = "";
    size_t hl = 0;
    for (size_t i = 0; i < k && hl < SCAN_LIST_HOSTS;) {
        size_t j = i;
        while (j < k && nt_addr_eq(&ts[j]->server, &ts[i]->server))
            j++;
        char a[NT_ADDR_FMT_MAX];
        text_addr(&ts[i]->server, a, sizeof a);
        cat(hostlist, sizeof hostlist, "%s%s (%zu %s)", hl++ ? ", " : "", a, j - i,
            j - i == 1 ? "port" : "ports");
        i = j;
    }
    if (hosts > hl)
        cat(hostlist, sizeof hostlist, " and %" PRIu64 "%s more", hosts - hl,
            hosts_more ? "+" : "");

    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], span[32];
    text_time(&s->first, t1, sizeof t1);
    text_time(&s->last, t2, sizeof t2);
    int64_t span_us = nt_time_diff_us(&s->first, &s->last);
    nt_duration_format(span_us, span, sizeof span);
    const char *shape = vertical && sweep ? "a port scan across many hosts"
                        : vertical        ? "a port scan of one host"
                        : sweep           ? "a sweep of many hosts"
                                          : "a scan of many ports across hosts";

    finding_set_summary(
        f,
        "%s's TCP connection attempts failed on %u %s across %" PRIu64 "%s %s: %" PRIu64
        " failed %s (%" PRIu64 " refused by a reset, %" PRIu64 " by an ICMP error, %" PRIu64
        " unanswered) between %s and %s, the shape of %s. Reported once for the source instead "
        "of once per target; tcp.no_response and tcp.refused leave these attempts out.",
        src, s->n_ports, s->n_ports == 1 ? "port" : "ports", hosts, hosts_more ? "+" : "",
        hosts == 1 ? "host" : "hosts", s->failed, s->failed == 1 ? "attempt" : "attempts",
        s->resets, s->icmp, s->silent, t1, t2, shape);

    finding_add_fact(f, "Ports that failed (%u): %s.", s->n_ports, ports);
    finding_add_fact(f, "Hosts that failed (%" PRIu64 "%s), with their failed ports: %s.", hosts,
                     hosts_more ? "+" : "", hostlist);
    if (best_n > 1) {
        char bh[NT_ADDR_FMT_MAX];
        text_addr(&ts[best_i]->server, bh, sizeof bh);
        finding_add_fact(f, "Most failed ports on one host: %zu on %s.", best_n, bh);
    }
    finding_add_fact(f,
                     "%" PRIu64 " SYN %s over %s; %" PRIu64 " of the source's attempts to "
                     "these or other targets completed a handshake.",
                     s->syns, s->syns == 1 ? "packet" : "packets", span, s->established);
    if (s->targets_not_kept)
        finding_add_fact(f,
                         "%" PRIu64 " failed attempts went to targets past the %zu kept; the "
                         "host count is a lower bound.",
                         s->targets_not_kept, state_get(rc)->max_targets);

    double rate = span_us >= 1000000 ? (double)s->failed / ((double)span_us / 1e6) : 0;
    bool fast = span_us < 1000000 || rate >= 5.0;
    char rate_w[64] = "";
    if (span_us >= 1000000)
        snprintf(rate_w, sizeof rate_w, " (%.1f per second)", rate);
    /* High for many ports of one host, a fast pace, or a wide sweep (5 x the host threshold). */
    bool wide = hosts >= 5 * SCAN_MIN_HOSTS;
    finding_add_cause(f, vertical || fast || wide ? CONF_HIGH : CONF_MEDIUM,
                      "A port scan or network sweep from this source: a scanner (nmap, masscan, "
                      "a vulnerability scanner) run on purpose, or a compromised host mapping "
                      "services (ATT&CK T1046).",
                      "%" PRIu64 " attempts to %u %s on %" PRIu64 "%s %s within %s%s, most of "
                      "them refused or unanswered, is what probing looks like; ordinary clients "
                      "use a few known ports.",
                      s->failed, s->n_ports, s->n_ports == 1 ? "port" : "ports", hosts,
                      hosts_more ? "+" : "", hosts == 1 ? "host" : "hosts", span, rate_w);
    if (s->silent == s->failed && sweep)
        finding_add_cause(f, CONF_MEDIUM,
                          "The source's own outbound path is filtered or broken, so every "
                          "destination looks silent.",
                          "Every one of the %" PRIu64 " attempts went unanswered, on %" PRIu64
                          " hosts; a sweep of live hosts usually draws some resets. A capture "
                          "on the source's uplink, or its firewall's counters, tell them apart.",
                          s->failed, hosts);
    finding_add_cause(f, CONF_LOW,
                      "A misconfigured client or application trying many addresses or ports "
                      "(a stale service list, discovery, a retry loop over a server pool).",
                      "The capture cannot see the program behind the SYNs; on %s, `ss -tnp` "
                      "while it runs names it.",
                      src);
    finding_rank_causes(f);

    finding_add_step(f,
                     "Find out whether %s is an authorised scanner (a vulnerability or "
                     "inventory scanner); if not, treat it as a possibly compromised host.",
                     src);
    finding_add_step(f,
                     "On %s, name the process that opens the connections: `ss -tnp state "
                     "syn-sent` while it runs.",
                     src);
    finding_add_step(f,
                     "List the source's attempts in the capture: `tcpdump -nn -r CAPTURE 'src "
                     "host %s and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'`.",
                     src_cmd);
    finding_add_step(f, "If it is not authorised, block the source at the nearest filter and "
                        "check the targets' logs for connections it completed.");
    free(ts);
}

static void on_finish(struct rule_ctx *rc)
{
    struct state *st = *rule_state(rc);
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        if (st->all[i]->f)
            explain(rc, st->all[i], st->all[i]->f);
}

const struct rule rule_tcp_scan = {
    .id = "tcp.scan",
    .severity = SEV_MEDIUM,
    .title = "Port scan or sweep from one source",
    .attack = ATTACK_T1046,
    .on_tcp_attempt = on_attempt,
    .on_finish = on_finish,
    .free_state = state_free,
    .bounds = bounds,
};
