/* entry.c: the storage of the correlator's open lookups (see struct lk in
 * correlate_internal.h): whole entries of one common size kept for reuse, compact entries for
 * lookups waiting past their timeout (moved back whole when a late answer or error comes), and
 * packed entries for answered lookups in their answer guard.
 * Moving an entry moves every reference to it (key ring and index, creation order, waiting
 * list, heap, compaction cursor). */
#include "correlate/correlate_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/zero.h"

/* The bytes of an entry before its query's evidence, and from its answer's on. */
#define LK_QUERY_OFF (offsetof(struct lk, l) + offsetof(struct dns_lookup, query))
#define LK_ANSWER_OFF (offsetof(struct lk, l) + offsetof(struct dns_lookup, answer))

/* An entry with room for a name of qlen bytes, zeroed but for l.query when query_set (the
 * caller fills it at once with evidence_from_packet_pooled, which zeroes it first, before
 * anything may free the entry). Zeroed in 64-byte pieces (util/zero.h): one memset of the
 * entry was a "rep stos" of 1,160 bytes, a quarter of them the query's evidence written again
 * at once. */
static struct lk *alloc_entry(struct correlator *c, size_t qlen, bool query_set)
{
    if (qlen < LK_NAME_INLINE) {
        struct lk *e = c->free_lk;
        if (e) {
            c->free_lk = e->kolder;
            c->n_free_lk--;
        } else if (!(e = malloc(sizeof *e + LK_NAME_INLINE))) {
            return NULL;
        }
        nt_zero_pieces(e, LK_QUERY_OFF);
        if (!query_set)
            nt_zero_pieces((char *)e + LK_QUERY_OFF, LK_ANSWER_OFF - LK_QUERY_OFF);
        nt_zero_pieces((char *)e + LK_ANSWER_OFF, sizeof *e - LK_ANSWER_OFF);
        e->qcap = LK_NAME_INLINE;
        return e;
    }
    struct lk *e = calloc(1, sizeof *e + qlen + 1);
    if (e)
        e->qcap = qlen + 1;
    return e;
}

/* A zeroed entry with room for a name of qlen bytes. */
struct lk *lk_alloc(struct correlator *c, size_t qlen)
{
    return alloc_entry(c, qlen, false);
}

struct lk *lk_alloc_query(struct correlator *c, size_t qlen)
{
    return alloc_entry(c, qlen, true);
}

/* Frees a compact or packed entry's block (back into the pool it came from). */
static void free_small(struct correlator *c, struct lk *e)
{
    evidence_pool_put(&c->evpool, e, e->pool_class);
}

/* Releases an entry's block (its evidence already freed or moved elsewhere). */
static void release_block(struct correlator *c, struct lk *e)
{
    if (e->compact || e->packed) {
        free_small(c, e);
        return;
    }
    if (e->qcap == LK_NAME_INLINE && c->n_free_lk < LK_FREE_MAX) {
        e->kolder = c->free_lk;
        c->free_lk = e;
        c->n_free_lk++;
        return;
    }
    free(e);
}

_Static_assert(sizeof(struct lk) == offsetof(struct lk, l) + sizeof(struct dns_lookup),
               "the name follows the lookup");
_Static_assert(LK_PACK_HEAD % sizeof(uint64_t) == 0 && sizeof(struct dns_lookup) % 8 == 0,
               "packed words are aligned");

/* The segments of a packed entry's tail (8-byte words from l.tcp on), cut where the layout
 * makes whole runs of words zero: the TCP connection (zero over UDP), and in each evidence its
 * packet facts, its answer records (zero but in an answer) and its ICMP message and quote (zero
 * but in an ICMP error); an evidence never set is zero throughout. A segment whose words are all
 * zero is left out. Each boundary is a word index, rounded down to a word: any cut is correct
 * (the segments only need to tile the tail), these make the usual ones zero. */
#define EV_W(ev, field)                                                                            \
    ((offsetof(struct dns_lookup, ev) + offsetof(struct evidence, field) - LK_TAIL_OFF) /          \
     sizeof(uint64_t))
#define LK_W(field) ((offsetof(struct dns_lookup, field) - LK_TAIL_OFF) / sizeof(uint64_t))
#define LK_SEGS     10
/* The loops over the segments are unrolled, so that each segment's bounds are constants: its
 * OR and its copies are then a few vector instructions, not a loop and a call. */
#define LK_SEGS_UNROLLED _Pragma("GCC unroll 10")
/* Each evidence is three segments, from these. */
enum { SEG_QUERY = 1, SEG_ANSWER = 4, SEG_ERROR = 7 };
static const uint16_t seg_at[LK_SEGS + 1] = {
    0,
    [SEG_QUERY] = LK_W(query),
    EV_W(query, answers),
    EV_W(query, icmp_type) + 1, /* n_answers shares the word of icmp_type */
    [SEG_ANSWER] = LK_W(answer),
    EV_W(answer, answers),
    EV_W(answer, icmp_type) + 1,
    [SEG_ERROR] = LK_W(error),
    EV_W(error, answers),
    EV_W(error, icmp_type) + 1,
    LK_TAIL_WORDS,
};
_Static_assert(offsetof(struct evidence, n_answers) / 8 == offsetof(struct evidence, icmp_type) / 8,
               "n_answers and icmp_type share a word");
/* The boundaries go up: the segments tile the tail, none empty. */
#define SEG_ASC(a, b) _Static_assert((a) < (b), "segment boundaries in order")
SEG_ASC(LK_W(tcp), LK_W(query));
SEG_ASC(LK_W(query), EV_W(query, answers));
SEG_ASC(EV_W(query, answers), EV_W(query, icmp_type) + 1);
SEG_ASC(EV_W(query, icmp_type) + 1, LK_W(answer));
SEG_ASC(LK_W(answer), EV_W(answer, answers));
SEG_ASC(EV_W(answer, answers), EV_W(answer, icmp_type) + 1);
SEG_ASC(EV_W(answer, icmp_type) + 1, LK_W(error));
SEG_ASC(LK_W(error), EV_W(error, answers));
SEG_ASC(EV_W(error, answers), EV_W(error, icmp_type) + 1);
SEG_ASC(EV_W(error, icmp_type) + 1, LK_TAIL_WORDS);
_Static_assert(LK_W(tcp) == 0, "the tail starts at tcp");

/* Is segment k of tail (words) all zero? One OR over its words, which the compiler vectorises;
 * its first two words first, which settle an evidence's packet facts at once (its packet
 * number is the second word). */
static inline bool seg_zero(const char *tail, unsigned k)
{
    uint64_t acc = 0;
    unsigned i = seg_at[k];
    for (unsigned j = i + 2 < seg_at[k + 1] ? i + 2 : seg_at[k + 1]; i < j; i++) {
        uint64_t x;
        memcpy(&x, tail + i * sizeof x, sizeof x);
        acc |= x;
    }
    if (acc)
        return false;
    for (; i < seg_at[k + 1]; i++) {
        uint64_t x;
        memcpy(&x, tail + i * sizeof x, sizeof x);
        acc |= x;
    }
    return acc == 0;
}

static inline size_t seg_bytes(unsigned k)
{
    return (size_t)(seg_at[k + 1] - seg_at[k]) * sizeof(uint64_t);
}

void lk_unpack(const struct lk *e, struct dns_lookup *out)
{
    if (!e->packed) {
        *out = e->l;
        return;
    }
    memcpy(out, &e->l, LK_TAIL_OFF);
    const char *p = (const char *)e + LK_PACK_HEAD;
    uint64_t map;
    memcpy(&map, p, sizeof map);
    p += sizeof map;
    char *d = (char *)out + LK_TAIL_OFF;
    LK_SEGS_UNROLLED
    for (unsigned k = 0; k < LK_SEGS; k++) {
        char *at = d + seg_at[k] * sizeof(uint64_t);
        if (map >> k & 1) {
            memcpy(at, p, seg_bytes(k));
            p += seg_bytes(k);
        } else {
            nt_zero_pieces(at, seg_bytes(k)); /* stores: a constant size, unrolled */
        }
    }
}

/* The segments of each evidence of the tail (seg_at): an evidence whose segments were all
 * left out was all zero, so it owns nothing to release (an answered lookup's ICMP error,
 * usually). */
#define SEGS_QUERY  (7u << SEG_QUERY)
#define SEGS_ANSWER (7u << SEG_ANSWER)
#define SEGS_ERROR  (7u << SEG_ERROR)
_Static_assert(SEG_ANSWER == SEG_QUERY + 3 && SEG_ERROR == SEG_ANSWER + 3 &&
                   LK_SEGS == SEG_ERROR + 3,
               "three segments an evidence, in the masks above");
_Static_assert(LK_ANSWER_OFF - LK_QUERY_OFF == sizeof(struct evidence),
               "the query's evidence and the answer's touch: the zeroing skips no byte");

void lk_free_unpacked(struct correlator *c, struct lk *e, struct dns_lookup *out)
{
    uint64_t map;
    memcpy(&map, (const char *)e + LK_PACK_HEAD, sizeof map);
    if (map & SEGS_QUERY)
        evidence_release(&out->query, &c->evpool);
    if (map & SEGS_ANSWER)
        evidence_release(&out->answer, &c->evpool);
    if (map & SEGS_ERROR)
        evidence_release(&out->error, &c->evpool);
    free_small(c, e);
}

void lk_free(struct correlator *c, struct lk *e)
{
    if (e->packed || e->compact) {
        struct dns_lookup l;
        if (e->packed) {
            lk_unpack(e, &l);
            lk_free_unpacked(c, e, &l);
        } else {
            lk_compact_get(e, &l, NULL); /* its text is all it owns */
            lk_free_compact(c, e, &l);
        }
        return;
    }
    evidence_release(&e->l.query, &c->evpool);
    evidence_release(&e->l.answer, &c->evpool);
    evidence_release(&e->l.error, &c->evpool);
    release_block(c, e);
}

/* Entry `to` now holds what `from` held (at least its head up to l copied): every reference to
 * `from` (its key's ring and the index, the creation order, the waiting list, the heap, the
 * compaction cursor) is moved to `to`. */
static void relocate(struct correlator *c, struct lk *from, struct lk *to)
{
    if (from->kolder == from) {
        to->kolder = to->knewer = to;
    } else {
        to->kolder->knewer = to;
        to->knewer->kolder = to;
    }
    if (from->anchor)
        htab_replace(&c->index, from->h, from, to);
    if (to->older)
        to->older->newer = to;
    else
        c->oldest = to;
    if (to->newer)
        to->newer->older = to;
    else
        c->newest = to;
    if (lk_outcome(from) == LOOKUP_PENDING) {
        if (to->pprev)
            to->pprev->pnext = to;
        else
            c->pending = to;
        if (to->pnext)
            to->pnext->pprev = to;
    }
    theap_move(&c->due, &from->due, &to->due);
    if (c->compact_next == from)
        c->compact_next = to;
}

/* Compact entries (see struct lk): the bytes of struct dns_lookup from first_tx to answer (the
 * rest: times, counts, the TCP connection, the query's evidence) are kept as 8-byte words, a
 * map of the words not zero and, for each, a map of its bytes not zero and those bytes. Before
 * that, each field the lookup predicts is XORed with its prediction (rest_predict), which makes
 * most of the query's evidence zero: its addresses, ports, DNS id, flags and question are the
 * lookup's, its time the first transmission's. */
#define LK_REST_OFF   offsetof(struct dns_lookup, first_tx)
#define LK_REST_END   offsetof(struct dns_lookup, answer)
#define LK_REST_WORDS ((LK_REST_END - LK_REST_OFF) / sizeof(uint64_t))
_Static_assert(LK_REST_OFF % 8 == 0 && LK_REST_END % 8 == 0 && LK_REST_WORDS <= 64,
               "the rest of a compact entry is at most 64 aligned words");
_Static_assert(LK_COMPACT_FIX == offsetof(struct lk, l) + LK_REST_OFF, "the rest follows the fix");

/* What a compact entry keeps of its query's evidence store: its frame and its name, all that a
 * store without answer records holds (evidence_store_put makes it again from them). */
enum {
    CQ_STORE = 1,      /* the query's evidence had a store */
    CQ_FRAME = 2,      /* ... holding a frame */
    CQ_QNAME = 4,      /* ... and a name */
    CQ_QNAME_SAME = 8, /* the name is the lookup's own: not kept twice */
};

static void xor_bytes(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++)
        d[i] ^= s[i];
}

/* XORs the rest's predicted fields with their predictions. The predictions read only fields it
 * does not change, so applying it twice gives the bytes back. */
static void rest_predict(struct dns_lookup *t)
{
    struct evidence *q = &t->query;
    xor_bytes(&t->last_tx, &t->first_tx, sizeof t->last_tx);
    t->min_ttl ^= t->first_ttl;
    q->input ^= t->input;
    q->pkt ^= t->last_pkt;
    q->line_no ^= t->last_line;
    xor_bytes(&q->ts, &t->first_tx, sizeof q->ts);
    q->role ^= EV_QUERY;
    q->frame_wirelen ^= q->frame_len;
    q->ip_version ^= (uint8_t)(t->client.family == NT_AF_INET6 ? 6 : 4);
    xor_bytes(&q->src, &t->client, sizeof q->src);
    xor_bytes(&q->dst, &t->server, sizeof q->dst);
    q->ttl ^= t->first_ttl;
    q->proto ^= t->transport;
    q->sport ^= t->client_ports[0];
    q->dport ^= t->server_port;
    q->has_dns = !q->has_dns;
    q->dns_id ^= t->id;
    q->dns_flags ^= t->query_flags;
    q->qdcount ^= (uint16_t)t->has_question;
    q->has_question = q->has_question != t->has_question;
    q->qtype ^= t->qtype;
    q->qclass ^= t->qclass;
    /* Ethernet, IPv4 and UDP headers without options before the DNS message. */
    q->dns_len ^= q->frame_len > 42 ? q->frame_len - 42 : 0;
}

/* Bytes src[0..n) into out, zero bytes left out: a map of its 8-byte words not all zero
 * ((words + 7) / 8 bytes), then for each such word a map of its bytes not zero and those
 * bytes. Returns the bytes written, at most ZS_MAX(n). */
#define ZS_MAX(n) (((n) + 63) / 64 + ((n) + 7) / 8 * 9)
static size_t zs_put(const unsigned char *src, size_t n, unsigned char *out)
{
    size_t words = (n + 7) / 8, nmap = (words + 7) / 8;
    unsigned char *p = out + nmap;
    memset(out, 0, nmap);
    for (size_t w = 0; w < words; w++) {
        const unsigned char *b = src + w * 8;
        unsigned len = n - w * 8 < 8 ? (unsigned)(n - w * 8) : 8;
        if (len == 8) {
            uint64_t x;
            memcpy(&x, b, sizeof x);
            if (!x)
                continue;
        }
        unsigned char m = 0, *mp = p++;
        for (unsigned i = 0; i < len; i++)
            if (b[i]) {
                m |= (unsigned char)(1u << i);
                *p++ = b[i];
            }
        if (m) {
            out[w / 8] |= (unsigned char)(1u << (w % 8));
            *mp = m;
        } else {
            p--; /* a last short word all zero */
        }
    }
    return (size_t)(p - out);
}

/* zs_put's bytes from in into dst[0..n); returns where they end. */
static const unsigned char *zs_get(const unsigned char *in, size_t n, unsigned char *dst)
{
    size_t words = (n + 7) / 8, nmap = (words + 7) / 8;
    const unsigned char *map = in;
    in += nmap;
    memset(dst, 0, n);
    for (size_t j = 0; j < nmap; j++)
        for (unsigned bits = map[j]; bits; bits &= bits - 1) {
            unsigned char *b = dst + (j * 8 + (unsigned)__builtin_ctz(bits)) * 8;
            for (unsigned m = *in++; m; m &= m - 1)
                b[__builtin_ctz(m)] = *in++;
        }
    return in;
}

static void xor8(unsigned char *f, size_t fb, size_t at, unsigned v)
{
    if (at < fb)
        f[at] ^= (unsigned char)v;
}

static void xor16(unsigned char *f, size_t fb, size_t at, unsigned v)
{
    xor8(f, fb, at, v >> 8);
    xor8(f, fb, at + 1, v);
}

static void xor_n(unsigned char *f, size_t fb, size_t at, const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xor8(f, fb, at + i, v[i]);
}

/* XORs a query's frame f (fb bytes) with what the lookup t (decoded whole) predicts of it, as
 * rest_predict: an Ethernet frame of a UDP query over IPv4 without options or over IPv6
 * without extension headers (ethertype, IP header but its id, checksum and flow label, UDP
 * ports and length, DNS header, the question from the lookup's name, an OPT record's type). A
 * frame laid out otherwise only keeps more of its bytes. */
static void frame_predict(const struct dns_lookup *t, unsigned char *f, size_t fb)
{
    const struct evidence *q = &t->query;
    if (q->frame_linktype != 1 || t->transport != 17 || t->client.family != t->server.family)
        return;
    size_t udp;
    uint32_t flen = q->frame_len;
    if (q->ip_version == 4 && t->client.family == NT_AF_INET) {
        xor16(f, fb, 12, 0x0800);
        xor8(f, fb, 14, 0x45);
        xor16(f, fb, 16, flen - 14);
        xor8(f, fb, 20, 0x40); /* don't fragment */
        xor8(f, fb, 22, q->ttl);
        xor8(f, fb, 23, 17);
        xor_n(f, fb, 26, t->client.a, 4);
        xor_n(f, fb, 30, t->server.a, 4);
        udp = 34;
    } else if (q->ip_version == 6 && t->client.family == NT_AF_INET6) {
        xor16(f, fb, 12, 0x86dd);
        xor8(f, fb, 14, 0x60);
        xor16(f, fb, 18, flen - 54);
        xor8(f, fb, 20, 17);
        xor8(f, fb, 21, q->ttl);
        xor_n(f, fb, 22, t->client.a, 16);
        xor_n(f, fb, 38, t->server.a, 16);
        udp = 54;
    } else {
        return;
    }
    xor16(f, fb, udp, q->sport);
    xor16(f, fb, udp + 2, q->dport);
    xor16(f, fb, udp + 4, flen - (uint32_t)udp);
    if (!q->has_dns)
        return;
    size_t at = udp + 8;
    xor16(f, fb, at, q->dns_id);
    xor16(f, fb, at + 2, q->dns_flags);
    xor16(f, fb, at + 4, q->qdcount);
    xor16(f, fb, at + 6, q->ancount);
    xor16(f, fb, at + 8, q->nscount);
    xor16(f, fb, at + 10, q->arcount);
    at += 12;
    if (!q->has_question || !t->qname)
        return;
    /* The name in wire form: each label's length, then its bytes. */
    for (const char *n = t->qname; *n && at < fb;) {
        const char *dot = strchr(n, '.');
        size_t len = dot ? (size_t)(dot - n) : strlen(n);
        xor8(f, fb, at++, (unsigned)len);
        for (size_t i = 0; i < len; i++)
            xor8(f, fb, at++, (unsigned char)n[i]);
        n += len + (dot ? 1 : 0);
    }
    at++; /* the root's zero */
    xor16(f, fb, at, q->qtype);
    xor16(f, fb, at + 2, q->qclass);
    if (q->has_opt)
        xor16(f, fb, at + 5, 41); /* after the root name of the OPT record */
}

/* Moves a lookup still without an answer or error into a compact block (see struct lk). Out of
 * memory, or for a lookup with facts its layout does not keep in place (an answer from another
 * address, an unknown id), it stays whole, which is only larger. */
bool lk_compact(struct correlator *c, struct lk *e)
{
    const struct dns_lookup *l = &e->l;
    const struct evidence *qe = &l->query;
    if (e->compact || e->packed || l->outcome != LOOKUP_PENDING || l->answer.role ||
        l->error.role || l->foreign_answers || l->id_unknown || l->from_quote || qe->answers ||
        qe->n_answers)
        return false;
    /* Without answer records, the store holds the frame and the name only. */
    uint8_t flags = 0;
    size_t fb = qe->frame ? qe->frame_len : 0, qb = qe->qname ? strlen(qe->qname) + 1 : 0;
    if (qe->store) {
        flags |= CQ_STORE;
        if (qe->frame)
            flags |= CQ_FRAME;
        if (qe->qname) {
            flags |= CQ_QNAME;
            if (l->qname && strcmp(l->qname, qe->qname) == 0)
                flags |= CQ_QNAME_SAME;
        }
    } else if (qe->frame || qe->qname) {
        return false;
    }
    if (fb > EVIDENCE_FRAME_MAX ||
        evidence_store_size(qe, 0, qe->frame, qe->qname, qb ? qb - 1 : 0, 0) > LK_STORE_MAX)
        return false;
    size_t qn = (flags & CQ_QNAME_SAME) ? 0 : qb;
    struct dns_lookup t;
    memcpy(&t, l, LK_REST_END);
    t.query.store = NULL;
    t.query.frame = NULL;
    t.query.qname = NULL;
    t.query.store_class = 0;
    unsigned char frame[EVIDENCE_FRAME_MAX];
    if (fb) {
        memcpy(frame, qe->frame, fb);
        frame_predict(&t, frame, fb);
    }
    t.query.order_pkt ^= t.query.pkt;
    rest_predict(&t);
    unsigned char buf[ZS_MAX(LK_REST_END - LK_REST_OFF) + ZS_MAX(EVIDENCE_FRAME_MAX)];
    size_t rn = zs_put((const unsigned char *)&t + LK_REST_OFF, LK_REST_END - LK_REST_OFF, buf);
    size_t fn = zs_put(frame, fb, buf + rn);
    size_t qlen = e->qlen;
    uint8_t cls;
    struct lk *k = evidence_pool_get(&c->evpool, LK_COMPACT_FIX + qlen + 2 + rn + qn + fn, &cls);
    if (!k)
        return false;
    memcpy(k, e, LK_COMPACT_FIX);
    k->pool_class = cls;
    k->compact = true;
    k->qcap = qlen + 1;
    /* The name, the flags, the rest, the query's name when not the lookup's, the frame. */
    char *p = (char *)k + LK_COMPACT_FIX;
    memcpy(p, l->qname ? l->qname : "", qlen + 1);
    if (k->l.qname)
        k->l.qname = p;
    p += qlen + 1;
    *p++ = (char)flags;
    memcpy(p, buf, rn);
    p += rn;
    if (qn)
        memcpy(p, qe->qname, qn);
    memcpy(p + qn, buf + rn, fn);
    /* The store's bytes are in the block now; its text (tcpdump input) goes with the rest. */
    evidence_pool_put(&c->evpool, qe->store, qe->store_class);
    relocate(c, e, k);
    release_block(c, e);
    return true;
}

void lk_compact_get(const struct lk *e, struct dns_lookup *out, char *store)
{
    memcpy(out, &e->l, LK_REST_OFF);
    const unsigned char *p = (const unsigned char *)e + LK_COMPACT_FIX + e->qcap;
    uint8_t flags = *p++;
    p = zs_get(p, LK_REST_END - LK_REST_OFF, (unsigned char *)out + LK_REST_OFF);
    rest_predict(out);
    out->query.order_pkt ^= out->query.pkt;
    memset((char *)out + LK_REST_END, 0, sizeof *out - LK_REST_END);
    if (!(flags & CQ_STORE) || !store)
        return;
    struct evidence *q = &out->query;
    const char *name = NULL;
    if (flags & CQ_QNAME) {
        if (flags & CQ_QNAME_SAME) {
            name = out->qname;
        } else {
            name = (const char *)p;
            p += strlen(name) + 1;
        }
    }
    unsigned char frame[EVIDENCE_FRAME_MAX];
    if (flags & CQ_FRAME) {
        zs_get(p, q->frame_len, frame);
        frame_predict(out, frame, q->frame_len);
    }
    evidence_store_put(q, store, 0, (flags & CQ_FRAME) ? frame : NULL, name,
                       name ? strlen(name) : 0, 0);
}

void lk_free_compact(struct correlator *c, struct lk *e, struct dns_lookup *out)
{
    free(out->query.text);
    out->query.text = NULL;
    free_small(c, e);
}

void lk_pack(struct correlator *c, struct lk *e)
{
    if (e->compact || e->packed)
        return;
    const char *tail = (const char *)&e->l + LK_TAIL_OFF;
    /* Which segments are not all zero, then only those copied. */
    uint64_t map = 0;
    size_t n = 0;
    LK_SEGS_UNROLLED
    for (unsigned k = 0; k < LK_SEGS; k++)
        if (!seg_zero(tail, k)) {
            map |= (uint64_t)1 << k;
            n += seg_bytes(k);
        }
    size_t qlen = e->qlen;
    size_t at = LK_PACK_HEAD + sizeof map + n;
    uint8_t cls;
    struct lk *k = evidence_pool_get(&c->evpool, at + qlen + 1, &cls);
    if (!k)
        return;
    memcpy(k, e, LK_PACK_HEAD);
    k->pool_class = cls;
    char *d = (char *)k + LK_PACK_HEAD;
    memcpy(d, &map, sizeof map);
    d += sizeof map;
    LK_SEGS_UNROLLED
    for (unsigned j = 0; j < LK_SEGS; j++)
        if (map >> j & 1) {
            memcpy(d, tail + seg_at[j] * sizeof(uint64_t), seg_bytes(j));
            d += seg_bytes(j);
        }
    char *name = (char *)k + at;
    memcpy(name, e->l.qname ? e->l.qname : "", qlen + 1);
    k->packed = true;
    k->qcap = qlen + 1;
    if (k->l.qname)
        k->l.qname = name;
    relocate(c, e, k);
    release_block(c, e);
}

/* The whole entry of lookup e, moving a compact or packed one back into a whole block; NULL out
 * of memory (e is then unchanged). */
struct lk *lk_full_move(struct correlator *c, struct lk *e)
{
    if (!e->packed && !e->compact)
        return e;
    size_t qlen = e->qlen;
    struct lk *w = lk_alloc(c, qlen);
    if (!w)
        return NULL;
    size_t qcap = w->qcap;
    if (e->packed) {
        memcpy(w, e, offsetof(struct lk, l));
        lk_unpack(e, &w->l);
        w->packed = false;
    } else {
        char store[LK_STORE_MAX];
        lk_compact_get(e, &w->l, store);
        /* The query's evidence gets a store of its own again, made from its frame and name. */
        struct evidence *q = &w->l.query;
        if (q->store) {
            size_t nlen = q->qname ? strlen(q->qname) : 0;
            uint8_t cls;
            char *st = evidence_pool_get(
                &c->evpool, evidence_store_size(q, 0, q->frame, q->qname, nlen, 0), &cls);
            if (!st) {
                release_block(c, w);
                return NULL;
            }
            evidence_store_put(q, st, 0, q->frame, q->qname, nlen, 0);
            q->store_class = cls;
        }
        memcpy(w, e, offsetof(struct lk, l));
        w->compact = false;
    }
    w->pool_class = 0;
    w->qcap = qcap;
    if (e->l.qname) {
        memcpy(w->qname, e->l.qname, qlen + 1);
        w->l.qname = w->qname;
    }
    relocate(c, e, w);
    free_small(c, e);
    return w;
}

/* Makes compact the lookups without an outcome a timeout after their first query, oldest
 * first (creation order is the order of first_vt on the clock). */
void lk_compact_due(struct correlator *c)
{
    struct lk *e;
    while ((e = c->compact_next) != NULL && span(c->vclock, e->first_vt) >= c->cfg.timeout_us) {
        c->compact_next = e->newer;
        if (lk_compact(c, e))
            c->st.lookups_compacted++;
    }
}
