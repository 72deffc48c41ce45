/* correlate_internal.h: the correlator's state, shared by correlate.c (lookups, answers, ICMP
 * errors) and clock.c (the clock correlation runs on). Not for use outside src/correlate/. */
#ifndef NT_CORRELATE_CORRELATE_INTERNAL_H
#define NT_CORRELATE_CORRELATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "correlate/dnsconn.h"
#include "correlate/evidence.h"
#include "correlate/sides.h"
#include "correlate/tcp_track.h"
#include "util/htab.h"
#include "util/theap.h"

/* A forward jump of the capture clock larger than this is taken only when the next packet
 * confirms it: one stray timestamp must not close every open lookup as unanswered. */
#define CLOCK_JUMP_US 3600000000LL

/* The open lookups of one key (client, server, server port, transport, DNS id) form a ring
 * (kolder, knewer); its oldest lookup, the anchor, is the correlator's index item under the key's
 * hash (h), and a walk goes from the anchor's kolder, the newest, back to the anchor.
 *
 * Compact entries: a lookup still without an outcome a timeout after its first query has
 * likely gone unanswered, and may wait the whole late window (2 minutes) for a late answer or
 * error. It is then moved into one block (entry.c): the entry as it is up to l.first_tx
 * (LK_COMPACT_FIX: the links, the heap node, the clocks, the key and the question: all that a
 * packet's walk or match reads), its name, then the rest of struct dns_lookup up to l.answer
 * (times, counts, the query's evidence) with each field the lookup predicts (the query's
 * addresses, ports, id, question, time, packet number) XORed with its prediction and its zero
 * bytes left out, then its query's frame the same way (what the lookup predicts of its
 * Ethernet, IP, UDP and DNS headers and question XORed out), and the query's name only when it
 * is not the lookup's own. On the busy profile that is about 350 bytes a silent lookup instead
 * of about 830 (the entry up to l.answer and the evidence store as they were).
 * Only l's fields before first_tx may be read in place: lk_outcome gives a compact entry's
 * outcome (it waits, LOOKUP_PENDING), and foreign_answers and id_unknown are zero (lookups with
 * them stay whole). lk_full moves it back into a whole entry (a late answer or ICMP error, a
 * retransmission), close_lookup hands on the lookup decoded whole (lk_compact_get). The
 * deadlines, the heap and eviction do not change: compaction is storage only.
 *
 * Packed entries: an answered lookup stays open only for the answer guard (1 s), but on a busy
 * resolver that is tens of thousands of lookups, most of each entry its three struct evidence
 * (query, answer, error: mostly zero bytes). Once answered it is moved into a block holding
 * the entry up to l.tcp as it is (everything a packet's walk or match reads, and
 * extra_responses, client_rejects and foreign_rejects, the counts the guard can still change),
 * then the rest of struct dns_lookup (tcp and the evidence) as a bitmap of its segments that
 * are not all zero (entry.c cuts it where the layout leaves whole runs of words zero: the TCP
 * connection over UDP, an evidence's answer records and ICMP quote) and those segments, then
 * the name: about half the size. lk_unpack gives the whole dns_lookup back, byte for byte; lk_full
 * moves a packed entry back into a whole one, and close_lookup hands on the unpacked copy. Storage
 * only, like compaction. */
struct lk {
    /* First, so that a step along a key's ring reads one cache line of an entry, not two. */
    struct lk *kolder, *knewer;
    uint64_t h;
    bool anchor;
    bool compact;             /* a compact entry (see above): l read only before first_tx */
    bool packed;              /* a packed entry (see above) */
    uint8_t pool_class;       /* a compact or packed block from c->evpool, in this class */
    uint16_t qlen;            /* strlen(l.qname), 0 without a question: kept, not measured */
    struct lk *older, *newer; /* creation order */
    struct lk *pnext, *pprev; /* the lookups still without an outcome, newest first */
    struct theap_node due;    /* deadline in the correlator's heap (clock microseconds) */
    int64_t first_vt, last_vt, outcome_vt; /* on the correlator's clock */
    size_t qcap;                           /* bytes of qname (whole entries) */
    struct dns_lookup l;                   /* last but the name: see compact entries */
    char qname[];                          /* l.qname points here: one allocation per lookup */
};

/* A compact entry's bytes kept as they are; its name follows at this offset. */
#define LK_COMPACT_FIX (offsetof(struct lk, l) + offsetof(struct dns_lookup, first_tx))

/* Packed entries: the bytes of the entry kept as they are, and the 8-byte words of its
 * dns_lookup packed after them by segments (LK_TAIL_WORDS, from l.tcp to the end). */
#define LK_TAIL_OFF   offsetof(struct dns_lookup, tcp)
#define LK_PACK_HEAD  (offsetof(struct lk, l) + LK_TAIL_OFF)
#define LK_TAIL_WORDS ((sizeof(struct dns_lookup) - LK_TAIL_OFF) / sizeof(uint64_t))

/* Entries whose name fits LK_NAME_INLINE bytes all have one size, and closed ones are kept for
 * reuse (at most LK_FREE_MAX), which spares malloc and free a large block per lookup. */
#define LK_NAME_INLINE 128
#define LK_FREE_MAX    512
/* Which (client, server) pairs sent a query in the capture, as a Bloom filter (two bits per
 * pair): an ICMP error quoting a query of a pair that did is about a lookup already closed
 * (or evicted), not a query the capture missed, so no lookup is made from its quote. A false
 * "seen" only keeps the old, cautious reading (the error is listed as unmatched). */
#define QSEEN_BITS (1u << 19) /* 64 KiB */

struct correlator {
    struct correlate_config cfg;
    uint64_t *qseen; /* QSEEN_BITS bits */
    struct correlate_callbacks cb;
    struct correlate_stats st;
    struct htab index; /* the anchor of each key's ring by the hash of the key (lk_hash) */
    size_t open;
    struct lk *oldest, *newest;
    /* The oldest open lookup not yet considered for compaction (creation order is the order of
     * first_vt: the clock never runs backwards). */
    struct lk *compact_next;
    struct lk *pending; /* newest lookup without an outcome */
    struct theap due;   /* every open lookup by deadline */
    struct tcp_tracker *tcp;
    const struct theap *tcp_due; /* the tracker's deadlines (tcp_track_due) */
    struct dnsconn_table *conns;       /* DNS-over-TCP connections after the handshake */
    struct sides *sides;               /* hosts seen in one direction only */
    struct correlate_callbacks tcp_cb; /* the tracker's: notes one-sided attempts, then cb */
    struct evidence_pool evpool;       /* the stores of the lookups' query and answer evidence */
    struct lk *free_lk; /* closed entries of the common size, for reuse (linked by kolder) */
    size_t n_free_lk;
    uint64_t seq;
    bool input_has_time; /* the current input has shown a timestamp */
    /* The monotonic clock (microseconds) correlation runs on: stamp + offset, never backwards
     * (see the top of this file). now is the current packet's place on it. */
    bool have_vclock, vjump_held;
    int64_t vclock, offset, now;
    struct nt_time prev_ts; /* stamp of the previous timed packet of this input */
    uint32_t input;
    struct pkt_relation rel; /* the current packet's (correlate_relation) */
};

static inline int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static inline int64_t sat_sub(int64_t a, int64_t b)
{
    if (b == INT64_MIN)
        return a >= 0 ? INT64_MAX : a - INT64_MIN;
    return sat_add(a, -b);
}

/* Time from `from` to `to` on the clock, never negative (a packet held by an unconfirmed jump
 * ahead keeps its own time). */
static inline int64_t span(int64_t to, int64_t from)
{
    int64_t d = sat_sub(to, from);
    return d > 0 ? d : 0;
}

/* The outcome of open lookup e (a compact entry has none yet). */
static inline uint8_t lk_outcome(const struct lk *e)
{
    return e->compact ? (uint8_t)LOOKUP_PENDING : e->l.outcome;
}

/* When an open lookup is due to close: a silent one after the late window since its last
 * query, an answered one after the answer guard, one with an ICMP error once both its timeout
 * and the guard have passed. */
static inline int64_t lk_deadline(const struct correlator *c, const struct lk *e)
{
    switch (lk_outcome(e)) {
    case LOOKUP_ANSWERED:
        return sat_add(e->outcome_vt, c->cfg.answer_guard_us);
    case LOOKUP_ICMP_ERROR: {
        int64_t a = sat_add(e->last_vt, c->cfg.timeout_us);
        int64_t b = sat_add(e->outcome_vt, c->cfg.answer_guard_us);
        return a > b ? a : b;
    }
    default:
        return sat_add(e->last_vt, c->cfg.late_window_us);
    }
}

/* Entries (entry.c). lk_alloc: a zeroed whole entry with room for a name of qlen bytes (NULL
 * out of memory); lk_free: frees its evidence and releases it; lk_full: the whole entry of e,
 * moving a compact one back (NULL out of memory, e unchanged); lk_compact_due: makes compact
 * the lookups without an outcome a timeout after their first query, oldest first. */
struct lk *lk_alloc(struct correlator *c, size_t qlen);
/* lk_alloc_query: the same but for l.query, left as it was: the caller's next step on it must
 * be evidence_from_packet_pooled (which zeroes it first), before anything frees the entry. */
struct lk *lk_alloc_query(struct correlator *c, size_t qlen);
void lk_free(struct correlator *c, struct lk *e);
struct lk *lk_full_move(struct correlator *c, struct lk *e);
/* lk_full: e itself when whole (tested here, inline: an answer's lookup usually is), else
 * lk_full_move's whole entry. */
static inline struct lk *lk_full(struct correlator *c, struct lk *e)
{
    return e->packed || e->compact ? lk_full_move(c, e) : e;
}
/* Matching without a DNS id (tcpdump text without the quoted packet, or a quote cut after the
 * UDP header) scans the lookups still waiting for an outcome, newest first; this bounds the
 * scan. */
#define SCAN_LIMIT 4096

/* The key of a lookup: what a query, its retransmissions (from any source port) and its answers
 * share. Hashed under the run's key (util/htab), so packets cannot be crafted to collide. The
 * client port is not in it: a retransmission may come from a new one. */
struct lk_key {
    const struct nt_addr *client, *server;
    uint16_t server_port, id;
    uint8_t transport;
};

/* The lookup table's pieces that on_query and on_response (correlate.c) and the ICMP matching
 * (icmp.c) share; each is described where it is defined, in correlate.c. */
uint64_t lk_hash(const struct lk_key *k);
struct lk *key_find(const struct correlator *c, uint64_t h, const struct lk_key *k);
struct lk *key_newest(const struct lk *anchor);
struct lk *key_next(const struct lk *anchor, const struct lk *e);
unsigned lk_due_lane(const struct lk *e);
void lk_set_outcome(struct correlator *c, struct lk *e, enum lookup_outcome o);
void lk_add_port(struct dns_lookup *l, uint16_t port);
bool lk_has_port(const struct dns_lookup *l, uint16_t port);
bool is_dns_port(uint16_t p);
bool qseen_has(const struct correlator *c, const struct nt_addr *client,
               const struct nt_addr *server);
bool lk_link(struct correlator *c, struct lk *e, struct lk *anchor, uint64_t h);
struct lk *lk_make_room(struct correlator *c, uint64_t h, const struct lk_key *k, struct lk *anchor,
                        size_t n);
bool lk_is_late(const struct correlator *c, const struct lk *e);
void lk_relate(struct correlator *c, const struct lk *e, const struct packet *pkt,
               enum pkt_relation_kind kind);
/* An ICMP error: matched to the lookup or TCP attempt it quotes, or a lookup made from its
 * quote, and handed on (icmp.c). */
int correlate_icmp_error(struct correlator *c, const struct packet *pkt, uint32_t input);

void lk_compact_due(struct correlator *c);
/* lk_compact: moves lookup e (whole, waiting) into a compact entry; false when it stays whole
 * (not eligible, or out of memory, which is only larger). lk_compact_get: the whole dns_lookup
 * of compact entry e into *out, without answer and error, its name pointing into e and its
 * query's evidence store written into store (LK_STORE_MAX bytes; not owned: valid while e and
 * store are; NULL: the evidence without its store, which is enough to free it);
 * lk_free_compact: frees compact entry e whose lookup is in *out (from lk_compact_get). */
#define LK_STORE_MAX (EVIDENCE_FRAME_MAX + DNS_NAME_TEXT_MAX + 1)
bool lk_compact(struct correlator *c, struct lk *e);
void lk_compact_get(const struct lk *e, struct dns_lookup *out, char *store);
void lk_free_compact(struct correlator *c, struct lk *e, struct dns_lookup *out);
/* lk_pack: moves answered lookup e into a packed entry (out of memory it stays whole, which is
 * only larger); lk_unpack: the whole dns_lookup of e (packed or not) into *out, its qname
 * pointing into e; lk_free_unpacked: frees packed entry e whose evidence is in *out (from
 * lk_unpack). */
void lk_pack(struct correlator *c, struct lk *e);
void lk_unpack(const struct lk *e, struct dns_lookup *out);
void lk_free_unpacked(struct correlator *c, struct lk *e, struct dns_lookup *out);

/* Places a timed packet on the correlator's clock (c->now) and moves the clock (clock.c). */
void correlate_advance_clock(struct correlator *c, const struct packet *pkt, uint32_t input);
/* correlate_idle's move of the clock to t: true when it moved (forward, by less than a jump). */
bool correlate_idle_clock(struct correlator *c, const struct nt_time *t);

#endif
