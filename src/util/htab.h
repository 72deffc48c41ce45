/* htab.h: the one hash table of nettriage, and the keyed hash every table uses.
 *
 * HASHING. htab_hash() is SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012; 1 compression and 3 finalization rounds, the variant Rust and Python use for their
 * tables) under a 128-bit key drawn once per run from getrandom(). Without the key an attacker
 * who writes the packets cannot predict which keys collide, so crafted collisions cost him
 * what random ones do. NT_HASH_SEED=<number or any string> in the environment, or
 * htab_seed_set() before the first hash, fixes the key (tests, reproducing a run).
 *
 * NO OUTPUT MAY DEPEND ON THE SEED: not a count, not a choice between entries, not an order.
 * The order of htab_first/htab_next, and of several items under one hash, changes with the
 * seed; anything that reaches a report is sorted, or kept in an array in arrival order with
 * the table only as its index. The golden tests run under two seeds to hold this.
 *
 * TABLE. A Robin Hood open-addressing table of (64-bit hash, item pointer) slots. The caller
 * owns the items and computes the hash; the table never reads an item, so it holds any mix of
 * items and several items may share a hash or a key (find iterates over all of them, the
 * caller compares keys). Inserts grow it by doubling past a load of 3/4; removal shifts the
 * following slots back (no tombstones) and never resizes, so removing the current item while
 * iterating is allowed (htab_iter_remove); an insert shrinks a table that fell below 1/8 full.
 * Nothing is ever cut off: a lookup finds every item in the table, however many share its
 * hash; the seed, not a chain limit, is the defence against crafted collisions.
 *
 * WHY THIS DESIGN. Measured with bench/htab_bench.c (target htab_bench): 64-byte items, each
 * malloc'd; every operation hashes a 16-byte key with htab_hash (about 150 instructions, 14 ns;
 * SipHash-2-4 would cost 19 ns); "churn" is one removal and one insertion; memory is the
 * table's own bytes per entry (the chained table's 16-byte node inside each item counted).
 * ns per operation, best of 5 runs in thread CPU time on a 2-core VM shared with other builds
 * (Robin Hood at 7/8 from a second run of the same binary built with HTAB_LOAD 7/8):
 *
 *   entries  design               insert   hit  miss  churn  bytes/entry
 *   1k       chained (load <= 1)     19     19    16     41     24.2
 *            linear (<= 1/2)         24     18    19     49     32.8
 *            Robin Hood (<= 3/4)     33     21    20     56     32.8
 *            Robin Hood (<= 7/8)     42     20    21     60     32.8
 *   100k     chained                247    207   156    703     26.5
 *            linear                 511    183    72    779     41.9
 *            Robin Hood 3/4         575    194    84    801     41.9
 *            Robin Hood 7/8         301    179    57   1078     21.0
 *   180k     chained                263    213   175    801     27.7
 *            linear                 588    229   101    955     46.6
 *            Robin Hood 3/4         327    181    58   1080     23.3
 *            Robin Hood 7/8         401    214    75   1227     23.3
 *   1M       chained                470    437   342   1401     24.4
 *            linear                 602    345   149   1602     33.6
 *            Robin Hood 3/4         726    312   123   1487     33.6
 *
 * The timings wander by 10-20 % between runs on that machine, so callgrind's exact counts
 * were taken too (instructions / misses of a simulated 8 MiB last-level cache, per op):
 *
 *   180k     chained          insert 244/2.84  hit 193/2.31  miss 185/0.94  churn 389/5.16
 *            linear                  319/3.25      196/1.96      190/0.83        432/4.48
 *            Robin Hood 3/4          330/1.91      231/1.72      218/0.58        618/3.66
 *   100k     Robin Hood 7/8 (76 % full)  387/1.48  240/1.49      230/0.40        750/2.41
 *
 * Small tables (1k) live in the cache and chaining, with the fewest instructions, is fastest
 * there by a few ns. Past the caches open addressing wins every lookup, most of all misses (a
 * miss reads no item: 58 ns against 175 at 180k, 123 against 342 at 1M), and callgrind shows
 * it taking fewer cache misses on every operation; it needs no node in the items and makes
 * removal while iterating simple. Chaining keeps the cheapest churn (no shifting: 801 against
 * 1080 ns at 180k). Robin Hood against linear probing: at the same load Robin Hood spends some
 * 10 % more instructions, but it stops a miss early and keeps probes short when fuller, so it
 * can fill to 3/4 where linear probing must double at 1/2 (23.3 against 46.6 bytes per entry
 * at 180k, with faster lookups). Filling to 7/8 saves memory only between 3/4 and 7/8 full
 * and makes churn dearer there (at 100k, 76 % full: 750 instructions against 487 for the 3/4
 * table, which has doubled), so the maximum load is 3/4. nettriage's tables are looked up for
 * every packet and changed once per lookup or flow.
 */
#ifndef NT_UTIL_HTAB_H
#define NT_UTIL_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

/* ---- Keyed hashing ------------------------------------------------------------------------ */

/* The hash of n bytes at p under the run's key. */
uint64_t htab_hash(const void *p, size_t n);

/* The same hash of n bytes given as little-endian words (w[0] holds bytes 0-7, ...; the bytes
 * of the last word past n must be zero), for keys a caller packs into registers: no buffer,
 * no byte loads. */
uint64_t htab_hash_words(const uint64_t *w, size_t n);

/* Fixes the run's key (before the first hash: tables already filled would not find their
 * items). Tests and reproductions only; NT_HASH_SEED does the same from the environment. */
void htab_seed_set(uint64_t k0, uint64_t k1);

/* SipHash-1-3 and SipHash-2-4 under an explicit key (k0, k1: the key's bytes 0-7 and 8-15 read
 * little-endian, as in the paper), for tests against the reference vectors. */
uint64_t htab_siphash13(uint64_t k0, uint64_t k1, const void *p, size_t n);
uint64_t htab_siphash24(uint64_t k0, uint64_t k1, const void *p, size_t n);

/* Bytes as little-endian words, and ASCII case folding a word at a time: what the hasher below
 * reads names with, shared with the callers that write a key as words themselves
 * (detect/hash_bytes.h), so that both give the same value. */
static inline uint64_t htab_load_le32(const void *q)
{
    const uint8_t *p = q;
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

static inline uint64_t htab_load_le64(const void *p)
{
    return htab_load_le32(p) | htab_load_le32((const uint8_t *)p + 4) << 32;
}

/* The n (0 to 8) bytes at p, little-endian, the others 0, without a loop: two overlapping 4-byte
 * loads, or for 1 to 3 bytes the first, middle and last byte (an overlap puts the same byte in
 * the same place). No byte past p + n is read. */
static inline uint64_t htab_load_le_upto8(const void *q, size_t n)
{
    const uint8_t *p = q;
    if (n >= 4)
        return htab_load_le32(p) | htab_load_le32(p + n - 4) << (8 * (n - 4));
    if (n == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* The 8 bytes of w with ASCII upper-case letters turned to lower case, all at once (each byte on
 * its own: no carry crosses from one byte to the next): a byte is one when it is below 0x80, at
 * least 'A' and not above 'Z'; its bit 0x20 is then set. */
static inline uint64_t htab_fold_word(uint64_t w)
{
    const uint64_t high = 0x8080808080808080ull;
    uint64_t low7 = w & ~high;
    uint64_t from_a = low7 + 0x3f3f3f3f3f3f3f3full; /* bit 7 set when the byte >= 'A' */
    uint64_t past_z = low7 + 0x2525252525252525ull; /* bit 7 set when the byte > 'Z' */
    return w | (from_a & ~past_z & ~w & high) >> 2;
}

/* An incremental hash of several fields: the same value as htab_hash over the concatenation
 * of every byte added. Variable-length fields must carry their length (htab_hasher_str does),
 * or "ab"+"c" and "a"+"bc" would collide under every key. */
struct htab_hasher {
    uint64_t v0, v1, v2, v3;
    uint64_t tail; /* bytes not yet compressed, little-endian */
    uint64_t len;  /* bytes added */
};
void htab_hasher_init(struct htab_hasher *s);
void htab_hasher_add(struct htab_hasher *s, const void *p, size_t n);
uint64_t htab_hasher_end(const struct htab_hasher *s);

/* Small integers: while they fit in the pending word they are only shifted in (no call). */
static inline void htab_hasher_small_(struct htab_hasher *s, uint64_t v, unsigned n)
{
    unsigned have = (unsigned)(s->len % 8);
    if (have + n < 8) {
        s->tail |= v << (8 * have);
        s->len += n;
        return;
    }
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    htab_hasher_add(s, b, n);
}
static inline void htab_hasher_u8(struct htab_hasher *s, uint8_t v)
{
    htab_hasher_small_(s, v, 1);
}
static inline void htab_hasher_u16(struct htab_hasher *s, uint16_t v)
{
    htab_hasher_small_(s, v, 2);
}
static inline void htab_hasher_u32(struct htab_hasher *s, uint32_t v)
{
    htab_hasher_small_(s, v, 4);
}
static inline void htab_hasher_u64(struct htab_hasher *s, uint64_t v)
{
    htab_hasher_u32(s, (uint32_t)v);
    htab_hasher_u32(s, (uint32_t)(v >> 32));
}
/* A NUL-terminated string (NULL hashes as ""), preceded by its length. */
void htab_hasher_str(struct htab_hasher *s, const char *str);
/* The same with ASCII letters folded to lower case, for DNS names ("WWW.Example." hashes as
 * "www.example."). */
void htab_hasher_name(struct htab_hasher *s, const char *name);
/* An address: its family and the bytes nt_addr_eq compares (equal addresses hash equal). */
void htab_hasher_addr(struct htab_hasher *s, const struct nt_addr *a);

/* ---- The table ---------------------------------------------------------------------------- */

/* The maximum load, HTAB_LOAD_NUM / HTAB_LOAD_DEN (the bench builds other values by hand). */
#ifndef HTAB_LOAD_NUM
#define HTAB_LOAD_NUM 3
#define HTAB_LOAD_DEN 4
#endif

struct htab_slot {
    uint64_t h;
    void *item; /* NULL: empty */
};

struct htab {
    struct htab_slot *slots;
    size_t mask;      /* capacity - 1 (capacity a power of two), 0 while slots is NULL */
    size_t n;         /* items held */
    size_t min_slots; /* htab_reserve's capacity: the table never shrinks below it */
};

/* Where a find or a walk stands. */
struct htab_iter {
    size_t pos;   /* slot of the item last returned */
    size_t dist;  /* find: its distance from the hash's home slot */
    size_t left;  /* walk: slots not yet visited */
    uint64_t h;   /* find: the hash looked for */
    bool removed; /* the item at pos was removed: look at pos again */
};

/* clang-format off */
#define HTAB_INIT {NULL, 0, 0, 0}
/* clang-format on */

void htab_init(struct htab *t);
/* Frees the slots (not the items); the table is empty and usable again. */
void htab_fini(struct htab *t);

/* Adds item (not NULL) under hash h; items already there under h stay. Returns 0, or -1 out of
 * memory (the table is unchanged). May resize: iterators become invalid. */
int htab_insert(struct htab *t, uint64_t h, void *item);
/* The table as a set of keyed hashes, to count keys once (refused findings, services and
 * servers past a bound): whether h was not marked yet. It is marked then while the table holds
 * fewer than kept; past that a hash not marked stays so and counts again at each call. A
 * collision of two keys' 64-bit hashes (about n^2 / 2^65) counts them as one. Out of memory, h
 * stays unmarked. */
bool htab_mark_new(struct htab *t, uint64_t h, size_t kept);
/* Makes room for n items in all: inserts up to n items never resize (nor allocate), and the
 * table never shrinks below that. 0, or -1 out of memory. */
int htab_reserve(struct htab *t, size_t n);

/* The items under hash h: the first (NULL when none), then the next until NULL. Every item
 * inserted under h is returned once, whatever else shares the hash. (Inline: the lookup is the
 * hot path of every caller.) */
static inline void *htab_find(const struct htab *t, uint64_t h, struct htab_iter *it);
static inline void *htab_find_next(const struct htab *t, struct htab_iter *it);

/* Removes item (inserted under h); false when it is not there. Never resizes. */
bool htab_remove(struct htab *t, uint64_t h, const void *item);
/* Puts item `by` (not NULL) in the place of item (inserted under h), under the same hash; false
 * when item is not there. Never resizes nor fails otherwise: for a table whose item stands for
 * a group of the caller's, when the group's representative changes. */
bool htab_replace(struct htab *t, uint64_t h, const void *item, void *by);
/* Removes the item the iterator returned last (htab_find/_next or htab_first/_next); the
 * iteration then goes on with the following items as if nothing had moved. */
void htab_iter_remove(struct htab *t, struct htab_iter *it);

/* Every item, once each, in an order that depends on the seed (sort before output). Items may
 * be removed on the way with htab_iter_remove, none inserted. */
void *htab_first(const struct htab *t, struct htab_iter *it);
void *htab_next(const struct htab *t, struct htab_iter *it);

static inline size_t htab_count(const struct htab *t)
{
    return t->n;
}
/* Bytes the table itself holds (its slots; the items are the caller's). */
static inline size_t htab_bytes(const struct htab *t)
{
    return t->slots ? (t->mask + 1) * sizeof(struct htab_slot) : 0;
}

/* Distance of slot pos from the home slot of hash h (internal). */
static inline size_t htab_dist_(const struct htab *t, size_t pos, uint64_t h)
{
    return (pos - (size_t)h) & t->mask;
}

static inline void *htab_find_next(const struct htab *t, struct htab_iter *it)
{
    if (!t->n)
        return NULL;
    if (it->removed) {
        it->removed = false;
    } else {
        it->pos = (it->pos + 1) & t->mask;
        it->dist++;
    }
    for (;;) {
        const struct htab_slot *s = &t->slots[it->pos];
        /* Past an empty slot, or an entry nearer its home than h would be here, no entry of
         * h can follow. */
        if (!s->item || htab_dist_(t, it->pos, s->h) < it->dist || it->dist > t->mask)
            return NULL;
        if (s->h == it->h)
            return s->item;
        it->pos = (it->pos + 1) & t->mask;
        it->dist++;
    }
}

static inline void *htab_find(const struct htab *t, uint64_t h, struct htab_iter *it)
{
    it->h = h;
    it->pos = (size_t)h & t->mask;
    it->dist = 0;
    it->removed = true; /* look at the home slot itself first */
    if (!t->n)
        return NULL;
    return htab_find_next(t, it);
}

/* ---- Unique keys ---------------------------------------------------------------------------
 * For maps where one item per key is wanted (per-server tables): the caller hashes the key and
 * gives an equality test between an item and the key. */
typedef bool (*htab_eq_fn)(const void *item, const void *key);

/* The item under h that eq matches to key, or NULL. */
void *htab_get(const struct htab *t, uint64_t h, htab_eq_fn eq, const void *key);
/* Removes and returns that item (NULL when absent). */
void *htab_take(struct htab *t, uint64_t h, htab_eq_fn eq, const void *key);

#endif
