/* tcpdns.c: DNS over TCP reassembly (RFC 7766, RFC 1035 section 4.2.2); policy in tcpdns.h. */
#include "flow/tcpdns.h"

#include <stdlib.h>
#include <string.h>

#include "decode/cursor.h"
#include "decode/decode.h"
#include "decode/ports.h"
#include "util/htab.h"

#define NONE (-1)
/* IPv4's minimum maximum segment size (RFC 9293 section 3.7.1), rounded down. */
#define TCPDNS_MIN_SPLIT 512

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

struct flow {
    struct nt_addr src, dst;
    uint16_t sport, dport;
    uint64_t hash; /* of the 5-tuple, in the table */
    bool used;
    bool synced;       /* next_seq is known and buf holds the current message's bytes so far */
    uint32_t next_seq; /* sequence number of the next byte expected */
    uint8_t *buf;      /* the current message's bytes from its length prefix on */
    uint32_t len, cap;
    int32_t next_free;    /* free slots */
    int32_t older, newer; /* recency list */
};

/* An extra message waiting for tcpdns_next: len bytes at off in the pending buffer. */
struct extra {
    uint32_t off, len;
};

struct tcpdns {
    struct flow *flows; /* max_flows slots */
    int32_t max_flows;
    size_t max_bytes;
    struct htab tab;   /* open flows by 5-tuple */
    int32_t free_head; /* free slots chained through next_free */
    int32_t oldest, newest;
    uint32_t open;
    size_t held; /* bytes of flow buffers allocated */
    /* Extra messages of the last segment, and a copy of its packet to carry them. */
    struct packet *base;
    uint8_t *pend;
    uint32_t pend_len, pend_cap;
    struct extra extras[TCPDNS_MAX_EXTRA];
    uint32_t n_extra, next_extra;
    struct tcpdns_stats st;
};

struct tcpdns *tcpdns_new(uint32_t max_flows, size_t max_bytes)
{
    struct tcpdns *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (max_flows < 1)
        max_flows = 1;
    if (max_flows > INT32_MAX / 2)
        max_flows = INT32_MAX / 2;
    t->max_flows = (int32_t)max_flows;
    t->max_bytes = max_bytes;
    t->flows = calloc(max_flows, sizeof *t->flows);
    if (!t->flows) {
        free(t);
        return NULL;
    }
    for (int32_t i = 0; i < t->max_flows; i++)
        t->flows[i].next_free = i + 1 < t->max_flows ? i + 1 : NONE;
    /* Room for every flow at once: inserting a flow never allocates. */
    if (htab_reserve(&t->tab, max_flows) < 0) {
        free(t->flows);
        free(t);
        return NULL;
    }
    t->free_head = 0;
    t->oldest = t->newest = NONE;
    return t;
}

static void drop_buffer(struct tcpdns *t, struct flow *f)
{
    t->held -= f->cap;
    free(f->buf);
    f->buf = NULL;
    f->len = f->cap = 0;
}

static void unlink_recent(struct tcpdns *t, int32_t i)
{
    struct flow *f = &t->flows[i];
    if (f->older != NONE)
        t->flows[f->older].newer = f->newer;
    else
        t->oldest = f->newer;
    if (f->newer != NONE)
        t->flows[f->newer].older = f->older;
    else
        t->newest = f->older;
    f->older = f->newer = NONE;
}

static void push_newest(struct tcpdns *t, int32_t i)
{
    struct flow *f = &t->flows[i];
    f->older = t->newest;
    f->newer = NONE;
    if (t->newest != NONE)
        t->flows[t->newest].newer = i;
    else
        t->oldest = i;
    t->newest = i;
}

static void remove_flow(struct tcpdns *t, int32_t i)
{
    struct flow *f = &t->flows[i];
    htab_remove(&t->tab, f->hash, f);
    unlink_recent(t, i);
    drop_buffer(t, f);
    f->used = false;
    f->next_free = t->free_head;
    t->free_head = i;
    t->open--;
}

static uint64_t key_hash(const struct packet *pkt)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_addr(&s, &pkt->src);
    htab_hasher_addr(&s, &pkt->dst);
    htab_hasher_u16(&s, pkt->sport);
    htab_hasher_u16(&s, pkt->dport);
    return htab_hasher_end(&s);
}

static bool same_flow(const void *item, const void *key)
{
    const struct flow *f = item;
    const struct packet *pkt = key;
    return f->sport == pkt->sport && f->dport == pkt->dport && nt_addr_eq(&f->src, &pkt->src) &&
           nt_addr_eq(&f->dst, &pkt->dst);
}

static int32_t find_flow(struct tcpdns *t, const struct packet *pkt, uint64_t h)
{
    const struct flow *f = htab_get(&t->tab, h, same_flow, pkt);
    return f ? (int32_t)(f - t->flows) : NONE;
}

/* A new flow for pkt; NONE when out of memory. */
static int32_t new_flow(struct tcpdns *t, const struct packet *pkt, uint64_t h)
{
    if (t->free_head == NONE) {
        t->st.evicted++;
        remove_flow(t, t->oldest);
    }
    int32_t i = t->free_head;
    struct flow *f = &t->flows[i];
    if (htab_insert(&t->tab, h, f) < 0)
        return NONE;
    t->free_head = f->next_free;
    memset(f, 0, sizeof *f);
    f->used = true;
    f->src = pkt->src;
    f->dst = pkt->dst;
    f->sport = pkt->sport;
    f->dport = pkt->dport;
    f->hash = h;
    f->next_free = NONE;
    push_newest(t, i);
    t->open++;
    return i;
}

/* Where the TCP payload of pkt starts in the bytes it was decoded from: at the offset decode
 * recorded, for segments whose IP header follows the link header (not tunnelled packets, nor
 * those behind MPLS labels). *cut tells whether the capture holds less than the payload. */
static bool locate_payload(const struct packet *pkt, struct cursor *payload, bool *cut)
{
    if (pkt->n_tunnels || !pkt->data || pkt->net_off != pkt->l2_len ||
        pkt->payload_off > pkt->data_len)
        return false;
    struct cursor c = cur_make(pkt->data + pkt->payload_off, pkt->data_len - pkt->payload_off);
    size_t n = pkt->l4_payload_len;
    *cut = n > cur_left(&c);
    *payload = cur_sub(&c, *cut ? cur_left(&c) : n);
    return true;
}

/* A segment that could start a message: a length that can hold a header; then either the
 * prefix alone (clients often send it in a segment of its own), or the whole message, or a
 * segment of at least TCPDNS_MIN_SPLIT bytes (senders split a message only at the segment
 * size, and no TCP segment size is below it); and, as far as the segment shows, a known opcode
 * (query, inverse query, status, notify, update, DSO) and at most one question. A short segment
 * holding less than its "message" is the middle of a stream whose start was lost. */
static bool plausible_start(const uint8_t *p, size_t n)
{
    struct cursor c = cur_make(p, n);
    uint16_t len = cur_be16(&c);
    if (c.short_read || len < 12)
        return false;
    if (n == 2)
        return true;
    if (n < 2 + (size_t)len && n < TCPDNS_MIN_SPLIT)
        return false;
    cur_skip(&c, 2);
    uint8_t b = cur_u8(&c);
    if (c.short_read)
        return false;
    unsigned op = (unsigned)(b >> 3) & 0x0f;
    if (op == 3 || op > 6)
        return false;
    cur_skip(&c, 1);
    uint16_t qd = cur_be16(&c);
    return !c.short_read && qd <= 1;
}

static void strip_dns(struct packet *pkt)
{
    pkt->layers &= ~(uint32_t)PKT_L_DNS;
    dns_msg_reset(&pkt->dns);
}

/* Parses one message (without its length prefix) into pkt. */
static void parse_into(struct packet *pkt, const uint8_t *msg, size_t len)
{
    dns_msg_reset(&pkt->dns);
    pkt->layers &= ~(uint32_t)PKT_L_DNS;
    struct cursor c = cur_make(msg, len);
    if (dns_parse_message(&c, &pkt->dns, pkt))
        pkt->layers |= PKT_L_DNS;
}

/* The delivery state of one segment. */
struct seg {
    struct packet *pkt;
    bool first_done;  /* a message was put on pkt */
    bool keep_decode; /* decode's parse is the segment's first message */
    int oom;
};

static void queue_extra(struct tcpdns *t, struct seg *s, const uint8_t *msg, uint32_t len)
{
    if (t->n_extra >= TCPDNS_MAX_EXTRA) {
        t->st.dropped++;
        return;
    }
    if (t->pend_len + len > t->pend_cap) {
        uint32_t ncap = t->pend_cap ? t->pend_cap : 4096;
        while (ncap < t->pend_len + len)
            ncap *= 2;
        uint8_t *nb = realloc(t->pend, ncap);
        if (!nb) {
            s->oom = -1;
            t->st.dropped++;
            return;
        }
        t->pend = nb;
        t->pend_cap = ncap;
    }
    memcpy(t->pend + t->pend_len, msg, len);
    t->extras[t->n_extra].off = t->pend_len;
    t->extras[t->n_extra].len = len;
    t->n_extra++;
    t->pend_len += len;
    t->st.extra++;
}

/* One complete message of len bytes (after the prefix); whole tells whether one segment held
 * it from its prefix on. */
static void deliver(struct tcpdns *t, struct seg *s, const uint8_t *msg, uint32_t len, bool whole)
{
    if (len < 12) {
        t->st.bad_length++;
        return;
    }
    t->st.messages++;
    if (!whole)
        t->st.reassembled++;
    if (s->first_done) {
        queue_extra(t, s, msg, len);
        return;
    }
    s->first_done = true;
    if (!s->keep_decode)
        parse_into(s->pkt, msg, len);
}

/* Makes room for need bytes in f's buffer, evicting other flows past max_bytes. */
static bool reserve(struct tcpdns *t, int32_t fi, uint32_t need)
{
    struct flow *f = &t->flows[fi];
    if (need <= f->cap)
        return true;
    uint32_t ncap = f->cap ? f->cap : 512;
    while (ncap < need)
        ncap *= 2;
    if (ncap > TCPDNS_MSG_MAX)
        ncap = TCPDNS_MSG_MAX;
    while (t->held - f->cap + ncap > t->max_bytes && t->oldest != NONE && t->oldest != fi) {
        t->st.evicted++;
        remove_flow(t, t->oldest);
    }
    uint8_t *nb = realloc(f->buf, ncap);
    if (!nb)
        return false;
    t->held = t->held - f->cap + ncap;
    f->buf = nb;
    f->cap = ncap;
    return true;
}

/* Appends in-order payload p (n bytes) to flow fi, delivering each message it completes. */
static void consume(struct tcpdns *t, int32_t fi, struct seg *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        struct flow *f = &t->flows[fi];
        if (f->len == 0 && n >= 2) {
            uint32_t mlen = (uint32_t)p[0] << 8 | p[1];
            if (n >= 2 + (size_t)mlen) {
                /* The whole message is in this segment: no copy. */
                deliver(t, s, p + 2, mlen, true);
                s->keep_decode = false;
                p += 2 + mlen;
                n -= 2 + (size_t)mlen;
                continue;
            }
        }
        s->keep_decode = false;
        /* The prefix first, then the rest of the message, through the buffer. */
        uint32_t want = 2;
        if (f->len >= 2)
            want = 2 + ((uint32_t)f->buf[0] << 8 | f->buf[1]);
        uint32_t take = want - f->len;
        if (take > n)
            take = (uint32_t)n;
        if (!reserve(t, fi, f->len + take)) {
            s->oom = -1;
            f->synced = false;
            f->len = 0;
            return;
        }
        f = &t->flows[fi];
        memcpy(f->buf + f->len, p, take);
        f->len += take;
        p += take;
        n -= take;
        if (f->len >= 2 && f->len == 2 + ((uint32_t)f->buf[0] << 8 | f->buf[1])) {
            deliver(t, s, f->buf + 2, f->len - 2, false);
            f->len = 0;
        }
    }
}

int tcpdns_add(struct tcpdns *t, struct packet *pkt)
{
    t->n_extra = t->next_extra = 0;
    t->pend_len = 0;
    if (!(pkt->layers & PKT_L_TCP) || pkt->fragment)
        return 0;
    if (!nt_port_dns_tcp(pkt->sport) && !nt_port_dns_tcp(pkt->dport))
        return 0;
    struct cursor pc;
    bool cut = false;
    if (!locate_payload(pkt, &pc, &cut))
        return 0;
    const uint8_t *p = pc.p + pc.off;
    size_t n = cur_left(&pc);
    uint8_t flags = pkt->tcp_flags;
    uint32_t seq = pkt->tcp_seq;
    uint64_t h = key_hash(pkt);
    int32_t fi = find_flow(t, pkt, h);
    struct seg s = {.pkt = pkt};

    if (flags & TCP_SYN) {
        if (fi == NONE && (fi = new_flow(t, pkt, h)) == NONE)
            return -1;
        struct flow *f = &t->flows[fi];
        f->len = 0;
        f->synced = true;
        f->next_seq = seq + 1;
        seq++;
    }
    if (n > 0)
        t->st.segments++;
    if (n > 0 && cut) {
        /* Bytes of the message are missing: like a gap, with nothing to resynchronise on. */
        t->st.uncaptured++;
        if (fi != NONE) {
            t->flows[fi].len = 0;
            t->flows[fi].synced = false;
        }
        n = 0;
    }
    if (n > 0 && (fi == NONE || !t->flows[fi].synced)) {
        if (!plausible_start(p, n))
            goto fin; /* not in step with the stream: decode's view stands */
        if (fi == NONE && (fi = new_flow(t, pkt, h)) == NONE)
            return -1;
        t->flows[fi].synced = true;
        t->flows[fi].len = 0;
        t->flows[fi].next_seq = seq;
    }
    if (n > 0) {
        struct flow *f = &t->flows[fi];
        unlink_recent(t, fi);
        push_newest(t, fi);
        int32_t d = (int32_t)(seq - f->next_seq);
        if (d > 0) {
            t->st.gaps++;
            if (f->len)
                t->st.incomplete++;
            f->len = 0;
            if (!plausible_start(p, n)) {
                f->synced = false;
                goto fin;
            }
            f->next_seq = seq;
        } else if (d < 0) {
            size_t old = f->next_seq - seq;
            if (pkt->layers & PKT_L_DNS)
                strip_dns(pkt); /* read when these bytes first came */
            if (old >= n) {
                t->st.retransmitted++;
                goto fin;
            }
            p += old;
            n -= old;
        }
        s.keep_decode = f->len == 0 && d >= 0 && (pkt->layers & PKT_L_DNS);
        if ((pkt->layers & PKT_L_DNS) && f->len != 0) {
            /* The segment continues a message: what decode read as a length is not one. */
            t->st.decode_removed++;
            strip_dns(pkt);
        }
        f->next_seq += (uint32_t)n;
        consume(t, fi, &s, p, n);
    }
fin:
    if (fi != NONE && (flags & (TCP_FIN | TCP_RST))) {
        if (t->flows[fi].len)
            t->st.incomplete++;
        remove_flow(t, fi);
    }
    if (t->n_extra > 0) {
        if (!t->base) {
            t->base = malloc(sizeof *t->base);
            if (!t->base) {
                t->st.dropped += t->n_extra;
                t->n_extra = 0;
                return -1;
            }
        }
        memcpy(t->base, pkt, sizeof *pkt);
        t->base->tcp_flags &= (uint8_t) ~(TCP_SYN | TCP_FIN | TCP_RST);
    }
    return s.oom;
}

bool tcpdns_next(struct tcpdns *t, struct packet *pkt)
{
    if (!t || t->next_extra >= t->n_extra)
        return false;
    const struct extra *e = &t->extras[t->next_extra++];
    memcpy(pkt, t->base, sizeof *pkt);
    pkt->n_anomalies = 0;
    pkt->n_anomalies_dropped = 0;
    parse_into(pkt, t->pend + e->off, e->len);
    return true;
}

void tcpdns_finish(struct tcpdns *t)
{
    if (!t)
        return;
    while (t->oldest != NONE) {
        if (t->flows[t->oldest].len)
            t->st.incomplete++;
        remove_flow(t, t->oldest);
    }
}

const struct tcpdns_stats *tcpdns_stats(const struct tcpdns *t)
{
    return &t->st;
}

void tcpdns_free(struct tcpdns *t)
{
    if (!t)
        return;
    for (int32_t i = 0; t->flows && i < t->max_flows; i++)
        free(t->flows[i].buf);
    free(t->flows);
    htab_fini(&t->tab);
    free(t->base);
    free(t->pend);
    free(t);
}
