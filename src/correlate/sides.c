/* sides.c: hosts the capture shows one direction of (see sides.h). */
#include "correlate/sides.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/htab.h"

#define RX_BITS (1u << 20) /* 128 KiB */
/* Sources found recently, by a cheap hash of the address: most packets skip the keyed hash and
 * the table (a resolver's capture alternates between a few addresses). Only a cache: every hit
 * is checked against the address. */
#define RECENT_SLOTS 1024
/* Destinations whose receive bits are set, likewise: a packet to one of them skips the filter's
 * hash (the bits it would set are set already, and bits are never cleared). */
#define RX_RECENT_SLOTS 1024

struct host {
    struct nt_addr addr;
    uint64_t h;
    uint64_t sent;
    uint64_t synack_unseen;
};

struct sides {
    struct htab tab;
    struct host *hosts; /* max_hosts, in order of first packet */
    uint32_t max_hosts;
    size_t n;
    uint64_t not_counted; /* packets from hosts past max_hosts (never judged) */
    struct host *recent[RECENT_SLOTS];
    struct nt_addr rx_recent[RX_RECENT_SLOTS]; /* family NT_AF_NONE: empty */
    uint64_t last_num;                         /* number of the last packet counted (0: none) */
    uint64_t *rx;                              /* RX_BITS bits */
};

struct sides *sides_new(uint32_t max_hosts)
{
    struct sides *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_hosts = max_hosts ? max_hosts : 1;
    htab_init(&s->tab);
    s->rx = calloc(RX_BITS / 64, sizeof *s->rx);
    s->hosts = malloc(s->max_hosts * sizeof *s->hosts);
    if (!s->rx || !s->hosts) {
        sides_free(s);
        return NULL;
    }
    return s;
}

void sides_free(struct sides *s)
{
    if (!s)
        return;
    htab_fini(&s->tab);
    free(s->hosts);
    free(s->rx);
    free(s);
}

/* A cheap hash of an address (not keyed: used only where a collision costs nothing but a
 * miss, never for the table). */
static uint32_t cheap_hash(const struct nt_addr *a)
{
    return nt_addr_hash(a, 0x9e3779b9u);
}

/* The slot of an address in the caches of recent sources and destinations (util/addr.h's mix:
 * only picks a slot; a collision, even a crafted one, costs a miss, never a wrong answer, since
 * every hit compares the address). */
#define SLOT_BITS 10
_Static_assert(RECENT_SLOTS == 1u << SLOT_BITS && RX_RECENT_SLOTS == 1u << SLOT_BITS,
               "slot_of picks one of 1 << SLOT_BITS slots");

static size_t slot_of(const struct nt_addr *a)
{
    return (size_t)(nt_addr_mix(a, 0) >> (64 - SLOT_BITS));
}

/* The two bits of an address in the receive filter, from its cheap hash. A crafted collision can
 * only make an address look received, which leaves its host unjudged. */
static void rx_bits(const struct nt_addr *a, uint32_t *b1, uint32_t *b2)
{
    uint32_t h = cheap_hash(a);
    uint64_t m = (uint64_t)h * 0x9e3779b97f4a7c15ull;
    *b1 = h & (RX_BITS - 1);
    *b2 = (uint32_t)(m >> 40) & (RX_BITS - 1);
}

static bool rx_seen(const struct sides *s, const struct nt_addr *a)
{
    uint32_t b1, b2;
    rx_bits(a, &b1, &b2);
    return (s->rx[b1 / 64] >> (b1 % 64) & 1) && (s->rx[b2 / 64] >> (b2 % 64) & 1);
}

/* The keyed hash of an address: its family and bytes (as htab_hasher_addr adds them); a 4-byte
 * address in one word. */
static uint64_t addr_hash(const struct nt_addr *a)
{
    if (nt_addr_len(a) == 4) {
        uint64_t w = a->family | (uint64_t)a->a[0] << 8 | (uint64_t)a->a[1] << 16 |
                     (uint64_t)a->a[2] << 24 | (uint64_t)a->a[3] << 32;
        return htab_hash_words(&w, 5);
    }
    struct htab_hasher hs;
    htab_hasher_init(&hs);
    htab_hasher_addr(&hs, a);
    return htab_hasher_end(&hs);
}

static struct host *find(const struct sides *s, const struct nt_addr *a, uint64_t h)
{
    struct htab_iter it;
    for (struct host *x = htab_find(&s->tab, h, &it); x; x = htab_find_next(&s->tab, &it))
        if (nt_addr_eq(&x->addr, a))
            return x;
    return NULL;
}

int sides_packet(struct sides *s, const struct packet *pkt)
{
    /* The extra DNS messages of one TCP segment come as copies of its packet: counted once. */
    if (!(pkt->layers & PKT_L_IP) || (pkt->num && pkt->num == s->last_num))
        return NT_OK;
    s->last_num = pkt->num;
    struct nt_addr *seen = &s->rx_recent[slot_of(&pkt->dst)];
    if (seen->family == NT_AF_NONE || !nt_addr_eq(seen, &pkt->dst)) {
        uint32_t b1, b2;
        rx_bits(&pkt->dst, &b1, &b2);
        s->rx[b1 / 64] |= (uint64_t)1 << (b1 % 64);
        s->rx[b2 / 64] |= (uint64_t)1 << (b2 % 64);
        *seen = pkt->dst;
    }
    struct host **slot = &s->recent[slot_of(&pkt->src)];
    if (*slot && nt_addr_eq(&(*slot)->addr, &pkt->src)) {
        (*slot)->sent++;
        return NT_OK;
    }
    uint64_t h = addr_hash(&pkt->src);
    struct host *x = find(s, &pkt->src, h);
    if (!x) {
        if (s->n >= s->max_hosts) {
            s->not_counted++; /* not judged */
            return NT_OK;
        }
        x = &s->hosts[s->n];
        memset(x, 0, sizeof *x);
        x->addr = pkt->src;
        x->h = h;
        if (htab_insert(&s->tab, h, x) < 0)
            return NT_ERR_NOMEM;
        s->n++;
    }
    x->sent++;
    *slot = x;
    return NT_OK;
}

void sides_synack_unseen(struct sides *s, const struct nt_addr *client)
{
    struct host *x = find(s, client, addr_hash(client));
    if (x)
        x->synack_unseen++;
}

/* Before: more packets sent, then the lower address. */
static bool before(const struct host *x, const struct one_sided_host *y)
{
    if (x->sent != y->sent)
        return x->sent > y->sent;
    return nt_addr_cmp(&x->addr, &y->host) < 0;
}

void sides_judge(const struct sides *s, struct correlate_stats *st)
{
    st->hosts_seen_not_counted = s->not_counted;
    st->one_sided_hosts = 0;
    st->n_one_sided_kept = 0;
    /* In order of first packet, so the result does not depend on the hash seed. */
    for (size_t i = 0; i < s->n; i++) {
        const struct host *x = &s->hosts[i];
        if (!x->synack_unseen || rx_seen(s, &x->addr))
            continue;
        st->one_sided_hosts++;
        /* Insertion into the kept few, in order. */
        size_t n = st->n_one_sided_kept, pos = n;
        while (pos > 0 && before(x, &st->one_sided[pos - 1]))
            pos--;
        if (pos >= CORRELATE_ONE_SIDED_KEPT)
            continue;
        if (n == CORRELATE_ONE_SIDED_KEPT)
            n--;
        memmove(&st->one_sided[pos + 1], &st->one_sided[pos], (n - pos) * sizeof st->one_sided[0]);
        st->one_sided[pos].host = x->addr;
        st->one_sided[pos].sent = x->sent;
        st->one_sided[pos].synack_unseen = x->synack_unseen;
        st->n_one_sided_kept = (uint8_t)(n + 1);
    }
}
