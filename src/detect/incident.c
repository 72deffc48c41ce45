/* incident.c: the incident tracker of `nettriage watch` (see incident.h for the rule). */
#include "detect/incident.h"

#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "util/addr_set.h"
#include "util/htab.h"

const char *const incident_rule_ids[INCIDENT_N_RULES] = {
    "dns.port_unreachable", "dns.admin_prohibited", "dns.host_unreachable", "dns.no_response",
    "dns.servfail",         "dns.refused",          "tcp.refused",          "tcp.unreachable",
    "tcp.no_response",      "icmp.time_exceeded",
};

enum {
    R_DNS_PORT,
    R_DNS_ADMIN,
    R_DNS_HOST,
    R_DNS_SILENT,
    R_DNS_SERVFAIL,
    R_DNS_REFUSED,
    R_TCP_REFUSED,
    R_TCP_UNREACH,
    R_TCP_SILENT,
    R_TIME_EXCEEDED,
    R_NONE = -1,
};

/* How often (packet time) the open incidents are looked at for updates and quiet closes. */
#define CHECK_EVERY_US 100000
/* Services looked at from the least recently seen for one without an open incident to evict. */
#define EVICT_SCAN 32
/* Seconds with a success remembered per service: more than the late window (120 s) holds. */
#define OK_SECONDS 256

/* One second (of packet time) in which the service answered: its first and last success. */
struct ok_second {
    int64_t sec;
    uint32_t first_us, last_us; /* within the second */
};

struct svc {
    struct nt_addr server;
    uint16_t port;
    uint8_t transport;
    uint64_t hash;
    struct svc *prev, *next;   /* least recently seen first */
    struct svc *oprev, *onext; /* open incidents, oldest first */
    int64_t seen_us;           /* tracker clock when last fed */
    bool has_ok;
    int64_t ok_us; /* latest success (packet time) */
    /* The seconds with a success, most recent OK_SECONDS, sorted: to tell whether the service
     * answered between two failures that became final late. ok_floor: seconds up to it are
     * no longer known (INT64_MIN while nothing was dropped). */
    struct ok_second *ok;
    uint32_t n_ok, cap_ok;
    int64_t ok_floor;
    /* Failures up to this time belong to an incident already closed (its recovery, or its
     * last failure when it closed otherwise). */
    bool has_closed;
    int64_t closed_end_us;
    /* The run: failures later than the latest success. */
    uint64_t failures;
    uint64_t by_rule[INCIDENT_N_RULES];
    struct nt_time first_fail, last_fail;
    int64_t first_fail_us;
    int64_t fail_seen_us; /* tracker clock when its last failure was fed */
    bool dns;             /* a DNS lookup failed in the run */
    struct addr_set clients;
    bool clients_init;
    /* The incident, when the run opened one. */
    bool open;
    uint64_t incident;
    int rule;
    int64_t alert_us;        /* tracker clock at the last alert */
    uint64_t alert_failures; /* failures at the last alert */
    /* Opened on failures that became final after the service had answered again (silence is
     * final only after the late window): recovered at recovered_us, closed once every lookup
     * sent before that is final. */
    bool retro;
    int64_t recovered_us;
};

struct incident_tracker {
    struct incident_config cfg;
    int64_t late_us;
    int64_t idle_us;
    incident_fn fn;
    void *ctx;
    struct htab index;
    struct svc *lru_head, *lru_tail;
    struct svc *open_head, *open_tail;
    bool has_clock;
    uint8_t kind; /* enum nt_time_kind of the clock */
    int64_t now_us;
    struct nt_time now;
    int64_t next_check_us;
    uint64_t next_incident;
    struct incident_stats st;
};

void incident_config_default(struct incident_config *cfg)
{
    cfg->min_failures = 3;
    cfg->interval_us = 60 * 1000000LL;
    cfg->quiet_close_us = 300 * 1000000LL;
    cfg->max_services = 10000;
}

static int64_t time_us(const struct nt_time *t)
{
    return t->sec * 1000000 + (int64_t)(t->nsec / 1000);
}

struct svc_key {
    const struct nt_addr *server;
    uint16_t port;
    uint8_t transport;
};

static bool svc_eq(const void *item, const void *key)
{
    const struct svc *s = item;
    const struct svc_key *k = key;
    return s->port == k->port && s->transport == k->transport && nt_addr_eq(&s->server, k->server);
}

static uint64_t svc_hash(const struct nt_addr *a, uint16_t port, uint8_t transport)
{
    struct htab_hasher h;
    htab_hasher_init(&h);
    htab_hasher_addr(&h, a);
    htab_hasher_u16(&h, port);
    htab_hasher_u8(&h, transport);
    return htab_hasher_end(&h);
}

struct incident_tracker *incident_new(const struct incident_config *cfg, int64_t late_window_us,
                                      incident_fn fn, void *ctx)
{
    struct incident_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.min_failures < 1)
        t->cfg.min_failures = 1;
    if (t->cfg.max_services < 1)
        t->cfg.max_services = 1;
    t->late_us = late_window_us;
    t->idle_us =
        cfg->quiet_close_us > INCIDENT_IDLE_MIN_US ? cfg->quiet_close_us : INCIDENT_IDLE_MIN_US;
    t->fn = fn;
    t->ctx = ctx;
    return t;
}

static void lru_unlink(struct incident_tracker *t, struct svc *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t->lru_head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        t->lru_tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_append(struct incident_tracker *t, struct svc *s)
{
    s->prev = t->lru_tail;
    s->next = NULL;
    if (t->lru_tail)
        t->lru_tail->next = s;
    else
        t->lru_head = s;
    t->lru_tail = s;
}

static void open_unlink(struct incident_tracker *t, struct svc *s)
{
    if (s->oprev)
        s->oprev->onext = s->onext;
    else
        t->open_head = s->onext;
    if (s->onext)
        s->onext->oprev = s->oprev;
    else
        t->open_tail = s->oprev;
    s->oprev = s->onext = NULL;
}

static void open_append(struct incident_tracker *t, struct svc *s)
{
    s->oprev = t->open_tail;
    s->onext = NULL;
    if (t->open_tail)
        t->open_tail->onext = s;
    else
        t->open_head = s;
    t->open_tail = s;
}

static void run_reset(struct svc *s)
{
    s->failures = 0;
    memset(s->by_rule, 0, sizeof s->by_rule);
    memset(&s->first_fail, 0, sizeof s->first_fail);
    memset(&s->last_fail, 0, sizeof s->last_fail);
    s->first_fail_us = 0;
    s->dns = false;
    if (s->clients_init)
        addr_set_fini(&s->clients);
    s->clients_init = false;
}

static void fill_event(const struct incident_tracker *t, const struct svc *s,
                       enum incident_action action, struct incident_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->action = (uint8_t)action;
    ev->incident = s->incident;
    ev->server = s->server;
    ev->port = s->port;
    ev->transport = s->transport;
    ev->dns = s->dns;
    ev->rule = s->rule >= 0 ? incident_rule_ids[s->rule] : NULL;
    ev->now = t->now;
    ev->first_failure = s->first_fail;
    ev->last_failure = s->last_fail;
    ev->failures = s->failures;
    memcpy(ev->by_rule, s->by_rule, sizeof ev->by_rule);
    ev->clients = s->clients_init ? s->clients.n : 0;
    ev->clients_overflow = s->clients_init && s->clients.overflow;
}

/* Closes s's incident: end is when it ended (recovered: the first success; otherwise the last
 * failure). The run is forgotten. */
static void close_incident(struct incident_tracker *t, struct svc *s, enum incident_close why,
                           const struct nt_time *end)
{
    struct incident_event ev;
    fill_event(t, s, INCIDENT_CLOSED, &ev);
    ev.close_reason = (uint8_t)why;
    ev.end = *end;
    ev.duration_us = nt_time_diff_us(&s->first_fail, end);
    if (ev.duration_us < 0)
        ev.duration_us = 0;
    s->open = false;
    s->retro = false;
    s->has_closed = true;
    s->closed_end_us = time_us(end);
    open_unlink(t, s);
    t->st.open--;
    t->st.closed++;
    if (t->fn)
        t->fn(t->ctx, &ev);
    run_reset(s);
}

static void svc_free(struct incident_tracker *t, struct svc *s)
{
    htab_remove(&t->index, s->hash, s);
    lru_unlink(t, s);
    run_reset(s);
    free(s->ok);
    free(s);
    t->st.services--;
}

/* Forgets one service to make room: the least recently seen without an open incident among
 * the first EVICT_SCAN, else the least recently seen (its incident closes). */
static void evict_one(struct incident_tracker *t)
{
    struct svc *s = t->lru_head;
    for (int i = 0; s && i < EVICT_SCAN; i++, s = s->next)
        if (!s->open)
            break;
    if (!s || s->open) {
        s = t->lru_head;
        if (!s)
            return;
        if (s->open) {
            t->st.incidents_evicted++;
            struct nt_time end = s->last_fail;
            close_incident(t, s, INCIDENT_CLOSE_EVICTED, &end);
        }
    }
    t->st.services_evicted++;
    svc_free(t, s);
}

static struct svc *svc_get(struct incident_tracker *t, const struct nt_addr *server, uint16_t port,
                           uint8_t transport)
{
    uint64_t h = svc_hash(server, port, transport);
    struct svc_key k = {server, port, transport};
    struct svc *s = htab_get(&t->index, h, svc_eq, &k);
    if (s) {
        lru_unlink(t, s);
        lru_append(t, s);
        s->seen_us = t->now_us;
        return s;
    }
    while (t->st.services >= t->cfg.max_services && t->lru_head)
        evict_one(t);
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->server = *server;
    s->port = port;
    s->transport = transport;
    s->hash = h;
    s->rule = R_NONE;
    s->ok_floor = INT64_MIN;
    s->seen_us = t->now_us;
    if (htab_insert(&t->index, h, s) < 0) {
        free(s);
        return NULL;
    }
    lru_append(t, s);
    t->st.services++;
    if (t->st.services > t->st.services_peak)
        t->st.services_peak = t->st.services;
    return s;
}

/* The clock follows the events too: an outcome becomes final while its packet is correlated,
 * before that packet's tick. Returns false for a time the clock cannot take (none, or another
 * kind than the clock's). */
static bool clock_take(struct incident_tracker *t, const struct nt_time *ts)
{
    if (ts->kind == NT_TIME_NONE)
        return false;
    if (!t->has_clock) {
        t->has_clock = true;
        t->kind = ts->kind;
        t->now = t->st.now = *ts;
        t->now_us = time_us(ts);
        t->next_check_us = t->now_us + CHECK_EVERY_US;
        return true;
    }
    if (ts->kind != t->kind)
        return false;
    int64_t us = time_us(ts);
    if (us > t->now_us) {
        t->now_us = us;
        t->now = t->st.now = *ts;
    }
    return true;
}

static int64_t floor_sec(int64_t us)
{
    return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}

/* Records a success at us in the service's seconds. */
static void ok_add(struct svc *s, int64_t us)
{
    int64_t sec = floor_sec(us);
    uint32_t in = (uint32_t)(us - sec * 1000000);
    if (sec <= s->ok_floor)
        return;
    uint32_t i = s->n_ok;
    while (i > 0 && s->ok[i - 1].sec > sec)
        i--;
    if (i > 0 && s->ok[i - 1].sec == sec) {
        struct ok_second *o = &s->ok[i - 1];
        if (in < o->first_us)
            o->first_us = in;
        if (in > o->last_us)
            o->last_us = in;
        return;
    }
    if (s->n_ok == OK_SECONDS) {
        /* Full: the oldest second is forgotten (what it knew is now unknown). */
        if (i == 0) {
            s->ok_floor = sec;
            return;
        }
        s->ok_floor = s->ok[0].sec;
        memmove(&s->ok[0], &s->ok[1], (s->n_ok - 1) * sizeof s->ok[0]);
        s->n_ok--;
        i--;
    }
    if (s->n_ok == s->cap_ok) {
        uint32_t nc = s->cap_ok ? s->cap_ok * 2 : 4;
        if (nc > OK_SECONDS)
            nc = OK_SECONDS;
        struct ok_second *n = realloc(s->ok, nc * sizeof *n);
        if (!n) {
            /* Out of memory: forget the past rather than invent it. */
            s->ok_floor = sec;
            s->n_ok = 0;
            return;
        }
        s->ok = n;
        s->cap_ok = nc;
    }
    memmove(&s->ok[i + 1], &s->ok[i], (s->n_ok - i) * sizeof s->ok[0]);
    s->ok[i] = (struct ok_second){sec, in, in};
    s->n_ok++;
}

/* Whether the service answered strictly between a and b (a < b); true when that part of the
 * past is no longer known (the conservative answer: it keeps failures apart). */
static bool ok_between(const struct svc *s, int64_t a, int64_t b)
{
    if (s->n_ok == 0 && s->ok_floor == INT64_MIN)
        return false;
    int64_t sa = floor_sec(a), sb = floor_sec(b);
    if (sa <= s->ok_floor)
        return true;
    for (uint32_t i = 0; i < s->n_ok; i++) {
        const struct ok_second *o = &s->ok[i];
        if (o->sec < sa)
            continue;
        if (o->sec > sb)
            break;
        int64_t first = o->sec * 1000000 + o->first_us, last = o->sec * 1000000 + o->last_us;
        if (o->sec == sa && o->sec == sb) {
            /* Both in this second: none between when its successes all came before a or all
             * after b; otherwise one did (or, first before a and last after b, may have). */
            if (last <= a || first >= b)
                continue;
            return true;
        }
        if (o->sec == sa) {
            if (last > a) /* a success after a in a's second */
                return true;
            continue;
        }
        if (o->sec == sb) {
            if (first < b) /* a success before b in b's second */
                return true;
            continue;
        }
        return true; /* a second strictly between */
    }
    return false;
}

/* The earliest success known after us (an upper bound within its second when successes of
 * that second came on both sides of us), or INT64_MAX. */
static int64_t ok_after(const struct svc *s, int64_t us)
{
    int64_t sec = floor_sec(us);
    for (uint32_t i = 0; i < s->n_ok; i++) {
        const struct ok_second *o = &s->ok[i];
        int64_t first = o->sec * 1000000 + o->first_us, last = o->sec * 1000000 + o->last_us;
        if (o->sec < sec || last <= us)
            continue;
        return first > us ? first : last;
    }
    return s->has_ok && s->ok_us > us ? s->ok_us : INT64_MAX;
}

static struct nt_time time_of(const struct incident_tracker *t, int64_t us)
{
    int64_t sec = floor_sec(us);
    struct nt_time r = {.sec = sec, .nsec = (uint32_t)(us - sec * 1000000) * 1000, .kind = t->kind};
    return r;
}

static void success(struct incident_tracker *t, const struct nt_addr *server, uint16_t port,
                    uint8_t transport, const struct nt_time *at)
{
    if (!clock_take(t, at))
        return;
    t->st.successes++;
    struct svc *s = svc_get(t, server, port, transport);
    if (!s)
        return;
    int64_t us = time_us(at);
    ok_add(s, us);
    if (!s->has_ok || us > s->ok_us) {
        s->has_ok = true;
        s->ok_us = us;
    }
    if (s->failures == 0 || us <= s->first_fail_us)
        return;
    if (s->open && !s->retro) {
        close_incident(t, s, INCIDENT_CLOSE_RECOVERED, at);
        return;
    }
    int64_t last = time_us(&s->last_fail);
    if (s->open) {
        /* Retro: an earlier success after the last failure moves the recovery back. */
        if (us > last && us < s->recovered_us)
            s->recovered_us = us;
        return;
    }
    /* A success inside the run splits it: what came before is over. A success after it leaves
     * the run for the failures still to become final (silence is final late). */
    if (us < last)
        run_reset(s);
}

static int most_frequent(const struct svc *s)
{
    int best = R_NONE;
    for (int i = 0; i < INCIDENT_N_RULES; i++)
        if (s->by_rule[i] && (best == R_NONE || s->by_rule[i] > s->by_rule[best]))
            best = i;
    return best;
}

static void failure(struct incident_tracker *t, const struct nt_addr *server, uint16_t port,
                    uint8_t transport, const struct nt_addr *client, const struct nt_time *at,
                    int rule, bool dns)
{
    if (!clock_take(t, at))
        return;
    t->st.failures++;
    struct svc *s = svc_get(t, server, port, transport);
    if (!s)
        return;
    int64_t us = time_us(at);
    if (s->has_closed && us <= s->closed_end_us) {
        t->st.stale++;
        return;
    }
    /* A run that went quiet without opening is forgotten. */
    if (s->failures && !s->open && t->now_us - s->fail_seen_us >= t->cfg.quiet_close_us)
        run_reset(s);
    if (s->failures) {
        int64_t first = s->first_fail_us, last = time_us(&s->last_fail);
        if (us < first && ok_between(s, us, first)) {
            /* Older than the run, with an answer in between. */
            t->st.stale++;
            return;
        }
        if (us > last && ok_between(s, last, us)) {
            /* The service answered since the run: it is over. */
            if (s->open) {
                int64_t r = s->retro ? s->recovered_us : ok_after(s, last);
                struct nt_time end = time_of(t, r == INT64_MAX ? last : r);
                close_incident(t, s, INCIDENT_CLOSE_RECOVERED, &end);
            } else {
                run_reset(s);
            }
        }
    }
    if (!s->failures || us < s->first_fail_us) {
        s->first_fail = *at;
        s->first_fail_us = us;
    }
    if (!s->failures || nt_time_cmp(at, &s->last_fail) > 0)
        s->last_fail = *at;
    s->failures++;
    s->by_rule[rule]++;
    s->dns = s->dns || dns;
    s->fail_seen_us = t->now_us;
    if (!s->clients_init) {
        addr_set_init(&s->clients, INCIDENT_CLIENTS_KEPT);
        s->clients_init = true;
    }
    if (client->family != NT_AF_NONE)
        addr_set_add(&s->clients, client);
    if (s->open || s->failures < t->cfg.min_failures)
        return;
    s->open = true;
    s->incident = ++t->next_incident;
    s->rule = most_frequent(s);
    s->alert_us = t->now_us;
    s->alert_failures = s->failures;
    int64_t last = time_us(&s->last_fail);
    s->retro = s->has_ok && s->ok_us > last;
    s->recovered_us = s->retro ? ok_after(s, last) : 0;
    open_append(t, s);
    t->st.open++;
    t->st.opened++;
    struct incident_event ev;
    fill_event(t, s, INCIDENT_OPENED, &ev);
    if (t->fn)
        t->fn(t->ctx, &ev);
}

static int dns_icmp_rule(uint8_t kind)
{
    switch (kind) {
    case ICMP_K_PORT_UNREACH:
    case ICMP_K_PROTO_UNREACH:
        return R_DNS_PORT;
    case ICMP_K_ADMIN_PROHIBITED:
        return R_DNS_ADMIN;
    case ICMP_K_HOST_UNREACH:
    case ICMP_K_NET_UNREACH:
    case ICMP_K_UNREACH_OTHER:
        return R_DNS_HOST;
    case ICMP_K_TIME_EXCEEDED:
        return R_TIME_EXCEEDED;
    default:
        return R_NONE;
    }
}

void incident_lookup(struct incident_tracker *t, const struct dns_lookup *l)
{
    if (((l->query_flags >> 11) & 0xfu) != 0) /* QUERY only, as the detector's statistics */
        return;
    int rule = R_NONE;
    const struct nt_time *at = NULL;
    switch (l->outcome) {
    case LOOKUP_ANSWERED:
        if (l->rcode == DNS_RCODE_SERVFAIL)
            rule = R_DNS_SERVFAIL;
        else if (l->rcode == DNS_RCODE_REFUSED)
            rule = R_DNS_REFUSED;
        else if (l->rcode == DNS_RCODE_NOTIMP || l->rcode == DNS_RCODE_FORMERR)
            return;
        at = &l->answer.ts;
        break;
    case LOOKUP_ICMP_ERROR:
        rule = dns_icmp_rule(l->icmp_kind);
        if (rule == R_NONE)
            return;
        at = &l->error.ts;
        break;
    case LOOKUP_UNANSWERED:
        rule = R_DNS_SILENT;
        at = &l->last_tx;
        break;
    default:
        return;
    }
    if (rule == R_NONE)
        success(t, &l->server, l->server_port, l->transport, at);
    else
        failure(t, &l->server, l->server_port, l->transport, &l->client, at, rule, true);
}

void incident_tcp_attempt(struct incident_tracker *t, const struct tcp_attempt *a)
{
    switch (a->outcome) {
    case TCP_ESTABLISHED:
        success(t, &a->server, a->server_port, 6, &a->reply.ts);
        return;
    case TCP_RESET:
        failure(t, &a->server, a->server_port, 6, &a->client, &a->reply.ts, R_TCP_REFUSED, false);
        return;
    case TCP_ICMP_ERROR: {
        int r = dns_icmp_rule(a->icmp_kind);
        if (r == R_NONE)
            return;
        failure(t, &a->server, a->server_port, 6, &a->client, &a->reply.ts,
                r == R_TIME_EXCEEDED ? R_TIME_EXCEEDED : R_TCP_UNREACH, false);
        return;
    }
    case TCP_UNANSWERED:
        failure(t, &a->server, a->server_port, 6, &a->client, &a->last_syn, R_TCP_SILENT, false);
        return;
    default:
        return;
    }
}

void incident_tick(struct incident_tracker *t, const struct nt_time *ts)
{
    if (!clock_take(t, ts) || t->now_us < t->next_check_us)
        return;
    t->next_check_us = t->now_us + CHECK_EVERY_US;
    for (struct svc *s = t->open_head, *next; s; s = next) {
        next = s->onext;
        if (s->retro && t->now_us - s->recovered_us > t->late_us) {
            /* Every lookup sent before the recovery is final by now. */
            struct nt_time end = time_of(t, s->recovered_us);
            close_incident(t, s, INCIDENT_CLOSE_RECOVERED, &end);
            continue;
        }
        if (!s->retro && t->now_us - s->fail_seen_us >= t->cfg.quiet_close_us) {
            struct nt_time end = s->last_fail;
            close_incident(t, s, INCIDENT_CLOSE_QUIET, &end);
            continue;
        }
        if (t->now_us - s->alert_us >= t->cfg.interval_us && s->failures > s->alert_failures) {
            s->alert_us = t->now_us;
            s->alert_failures = s->failures;
            t->st.updates++;
            struct incident_event ev;
            fill_event(t, s, INCIDENT_UPDATE, &ev);
            if (t->fn)
                t->fn(t->ctx, &ev);
        }
    }
    /* Services idle for idle_us are forgotten (an open incident was closed as quiet above:
     * idle_us is at least quiet_close). */
    while (t->lru_head && t->now_us - t->lru_head->seen_us >= t->idle_us) {
        struct svc *s = t->lru_head;
        if (s->open) {
            struct nt_time end = s->last_fail;
            close_incident(t, s, INCIDENT_CLOSE_QUIET, &end);
        }
        t->st.services_expired++;
        svc_free(t, s);
    }
}

void incident_end(struct incident_tracker *t)
{
    while (t->open_head) {
        struct svc *s = t->open_head;
        if (s->retro) {
            /* Already known to have recovered. */
            struct nt_time end = time_of(t, s->recovered_us);
            close_incident(t, s, INCIDENT_CLOSE_RECOVERED, &end);
            continue;
        }
        struct nt_time end = s->last_fail;
        close_incident(t, s, INCIDENT_CLOSE_ENDED, &end);
    }
}

void incident_report_state(struct incident_tracker *t)
{
    for (struct svc *s = t->open_head; s; s = s->onext) {
        struct incident_event ev;
        fill_event(t, s, INCIDENT_STATE, &ev);
        if (t->fn)
            t->fn(t->ctx, &ev);
    }
}

const struct incident_stats *incident_stats(const struct incident_tracker *t)
{
    return &t->st;
}

void incident_free(struct incident_tracker *t)
{
    if (!t)
        return;
    while (t->lru_head) {
        struct svc *s = t->lru_head;
        lru_unlink(t, s);
        run_reset(s);
        free(s->ok);
        free(s);
    }
    htab_fini(&t->index);
    free(t);
}
