/* htab_bench.c: the measurement behind util/htab's design. Compares, on the same items and
 * keys, a chained table with intrusive nodes, linear probing, and Robin Hood (util/htab.c),
 * at 1k, 100k, 180k and 1M entries: insert, find that hits, find that misses, and steady churn
 * (remove one item, insert another), in ns per operation, and the table's memory per entry.
 *
 *   cmake --build build --target htab_bench && build/htab_bench [RUNS]
 *
 * Robin Hood at another maximum load, built by hand against util/htab.c:
 *
 *   cc -O2 -D_GNU_SOURCE -Isrc -DHTAB_LOAD_NUM=7 -DHTAB_LOAD_DEN=8 bench/htab_bench.c \
 *      src/util/htab.c -lpthread -o /tmp/htab_bench_78
 *
 * and one design at one size for callgrind's instruction and cache-miss counts per phase:
 * `valgrind --tool=callgrind --cache-sim=yes --LL=8388608,16,64 htab_bench --one DESIGN SIZE`.
 *
 * Every variant hashes the item's 16-byte key with htab_hash (SipHash-1-3) in every operation,
 * as callers do, and compares keys inline after a hash match. Items are 64 bytes, each
 * malloc'd, in random order of address (as entries made over a capture are). Each figure is
 * the best of RUNS runs (3), in CPU time of the thread (the machine is shared), the designs
 * taking turns within each run; sizes below 1M repeat their operations to about 1M per run.
 * Not a test: nothing here is checked against a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/htab.h"

struct cnode {
    struct cnode *next;
    uint64_t h;
};

struct key {
    uint64_t k[2];
};

struct item {
    struct key key;
    uint64_t payload[4];
    struct cnode node; /* the chained table's link (unused by the others) */
};

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline uint64_t hash_key(const struct key *k)
{
    return htab_hash(k->k, sizeof k->k);
}

static inline uint64_t key_hash(const struct item *it)
{
    return hash_key(&it->key);
}

static inline bool same_key(const struct item *a, const struct key *k)
{
    return a->key.k[0] == k->k[0] && a->key.k[1] == k->k[1];
}

/* ---- chained, intrusive, load <= 1 ---- */

struct ctab {
    struct cnode **b;
    size_t mask, n;
};

static void c_init(struct ctab *t)
{
    t->mask = 15;
    t->n = 0;
    t->b = calloc(t->mask + 1, sizeof *t->b);
}

static void c_insert(struct ctab *t, struct item *it)
{
    if (t->n + 1 > t->mask + 1) {
        size_t nc = (t->mask + 1) * 2;
        struct cnode **nb = calloc(nc, sizeof *nb);
        for (size_t i = 0; i <= t->mask; i++) {
            for (struct cnode *x = t->b[i], *next; x; x = next) {
                next = x->next;
                x->next = nb[x->h & (nc - 1)];
                nb[x->h & (nc - 1)] = x;
            }
        }
        free(t->b);
        t->b = nb;
        t->mask = nc - 1;
    }
    uint64_t h = key_hash(it);
    it->node.h = h;
    it->node.next = t->b[h & t->mask];
    t->b[h & t->mask] = &it->node;
    t->n++;
}

#define NODE_ITEM(x) ((struct item *)((char *)(x)-offsetof(struct item, node)))

static struct item *c_find(const struct ctab *t, const struct key *key)
{
    uint64_t h = hash_key(key);
    for (struct cnode *x = t->b[h & t->mask]; x; x = x->next)
        if (x->h == h && same_key(NODE_ITEM(x), key))
            return NODE_ITEM(x);
    return NULL;
}

static void c_remove(struct ctab *t, struct item *it)
{
    uint64_t h = key_hash(it);
    for (struct cnode **pp = &t->b[h & t->mask]; *pp; pp = &(*pp)->next) {
        if (*pp == &it->node) {
            *pp = it->node.next;
            t->n--;
            return;
        }
    }
}

static size_t c_bytes(const struct ctab *t)
{
    return (t->mask + 1) * sizeof *t->b + t->n * sizeof(struct cnode);
}

static void c_free(struct ctab *t)
{
    free(t->b);
}

/* ---- linear probing, load <= 1/2, deletion by shifting back (Knuth's algorithm R) ---- */

struct ltab {
    struct htab_slot *s;
    size_t mask, n;
};

static void l_place(struct htab_slot *s, size_t mask, uint64_t h, void *p)
{
    size_t i = h & mask;
    while (s[i].item)
        i = (i + 1) & mask;
    s[i].h = h;
    s[i].item = p;
}

static void l_init(struct ltab *t)
{
    t->mask = 15;
    t->n = 0;
    t->s = calloc(t->mask + 1, sizeof *t->s);
}

static void l_insert(struct ltab *t, struct item *it)
{
    if ((t->n + 1) * 2 > t->mask + 1) {
        size_t nc = (t->mask + 1) * 2;
        struct htab_slot *ns = calloc(nc, sizeof *ns);
        for (size_t i = 0; i <= t->mask; i++)
            if (t->s[i].item)
                l_place(ns, nc - 1, t->s[i].h, t->s[i].item);
        free(t->s);
        t->s = ns;
        t->mask = nc - 1;
    }
    l_place(t->s, t->mask, key_hash(it), it);
    t->n++;
}

static struct item *l_find(const struct ltab *t, const struct key *key)
{
    uint64_t h = hash_key(key);
    for (size_t i = h & t->mask; t->s[i].item; i = (i + 1) & t->mask)
        if (t->s[i].h == h && same_key(t->s[i].item, key))
            return t->s[i].item;
    return NULL;
}

static void l_remove(struct ltab *t, struct item *it)
{
    uint64_t h = key_hash(it);
    size_t i = h & t->mask;
    while (t->s[i].item != it)
        i = (i + 1) & t->mask;
    for (size_t j = i;;) {
        t->s[i].item = NULL;
        for (;;) {
            j = (j + 1) & t->mask;
            if (!t->s[j].item) {
                t->n--;
                return;
            }
            size_t home = t->s[j].h & t->mask;
            /* Move j back into the hole i unless its home lies cyclically in (i, j]. */
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        t->s[i] = t->s[j];
        i = j;
    }
}

static size_t l_bytes(const struct ltab *t)
{
    return (t->mask + 1) * sizeof *t->s;
}

static void l_free(struct ltab *t)
{
    free(t->s);
}

/* ---- Robin Hood: util/htab ---- */

static void r_insert(struct htab *t, struct item *it)
{
    if (htab_insert(t, key_hash(it), it) < 0)
        abort();
}

static struct item *r_find(const struct htab *t, const struct key *key)
{
    struct htab_iter i;
    for (struct item *p = htab_find(t, hash_key(key), &i); p; p = htab_find_next(t, &i))
        if (same_key(p, key))
            return p;
    return NULL;
}

static bool eq_cb(const void *item, const void *key)
{
    return same_key(item, key);
}

static struct item *r_get(const struct htab *t, const struct key *key)
{
    return htab_get(t, hash_key(key), eq_cb, key);
}

static void r_remove(struct htab *t, struct item *it)
{
    if (!htab_remove(t, key_hash(it), it))
        abort();
}

/* ---- the runs ---- */

enum design { CHAINED, LINEAR, ROBIN, ROBIN_CB, N_DESIGNS };
#define STR_(x) #x
#define STR(x)  STR_(x)
#define RH_LOAD STR(HTAB_LOAD_NUM) "/" STR(HTAB_LOAD_DEN)
static const char *design_name[] = {"chained (load<=1)", "linear (load<=1/2)",
                                    "Robin Hood (<=" RH_LOAD ")", "RH " RH_LOAD ", htab_get"};

struct result {
    double insert, hit, miss, churn, bytes;
};

struct table {
    struct ctab c;
    struct ltab l;
    struct htab r;
};

static void t_init(struct table *t, enum design d)
{
    if (d == CHAINED)
        c_init(&t->c);
    else if (d == LINEAR)
        l_init(&t->l);
    else
        htab_init(&t->r);
}

static void t_insert(struct table *t, enum design d, struct item *it)
{
    if (d == CHAINED)
        c_insert(&t->c, it);
    else if (d == LINEAR)
        l_insert(&t->l, it);
    else
        r_insert(&t->r, it);
}

static struct item *t_find(struct table *t, enum design d, const struct key *key)
{
    switch (d) {
    case CHAINED:
        return c_find(&t->c, key);
    case LINEAR:
        return l_find(&t->l, key);
    case ROBIN:
        return r_find(&t->r, key);
    default:
        return r_get(&t->r, key);
    }
}

static void t_remove(struct table *t, enum design d, struct item *it)
{
    if (d == CHAINED)
        c_remove(&t->c, it);
    else if (d == LINEAR)
        l_remove(&t->l, it);
    else
        r_remove(&t->r, it);
}

static size_t t_bytes(struct table *t, enum design d)
{
    return d == CHAINED ? c_bytes(&t->c) : d == LINEAR ? l_bytes(&t->l) : htab_bytes(&t->r);
}

static void t_free(struct table *t, enum design d)
{
    if (d == CHAINED)
        c_free(&t->c);
    else if (d == LINEAR)
        l_free(&t->l);
    else
        htab_fini(&t->r);
}

static volatile uintptr_t sink;
static struct key *keys; /* the keys looked up, in lookup order */

/* One run at n entries: items[0..n) go in, items[n..2n) are the misses; order is a random
 * permutation of [0, n) for the lookups, which look for copies of the keys (as a packet's key
 * is looked up), not the items themselves. */
/* The phases, each its own function so that callgrind can attribute their cost. */
static __attribute__((noinline)) void phase_insert(struct table *t, enum design d, size_t n,
                                                   struct item **items)
{
    for (size_t i = 0; i < n; i++)
        t_insert(t, d, items[i]);
}

static __attribute__((noinline)) uintptr_t phase_find(struct table *t, enum design d, size_t n)
{
    uintptr_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (uintptr_t)t_find(t, d, &keys[i]);
    return acc;
}

/* Distinct bodies (the write), so that the compiler does not fold the two into one. */
static volatile int phase_now;

static __attribute__((noinline)) uintptr_t phase_hit(struct table *t, enum design d, size_t n)
{
    phase_now = 1;
    return phase_find(t, d, n);
}

static __attribute__((noinline)) uintptr_t phase_miss(struct table *t, enum design d, size_t n)
{
    phase_now = 2;
    return phase_find(t, d, n);
}

/* Swaps item order[i] out for its miss partner (and back on the next pass). */
static __attribute__((noinline)) void phase_churn(struct table *t, enum design d, size_t n,
                                                  struct item **items, const size_t *order)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = order[i];
        t_remove(t, d, items[k]);
        struct item *tmp = items[k];
        items[k] = items[n + k];
        items[n + k] = tmp;
        t_insert(t, d, items[k]);
    }
}

static void run(enum design d, size_t n, struct item **items, const size_t *order, struct result *r)
{
    size_t reps = n >= 1000000 ? 1 : 1000000 / n;
    double t_ins = 0, t_hit = 0, t_miss = 0, t_churn = 0;
    size_t bytes = 0;
    for (size_t rep = 0; rep < reps; rep++) {
        struct table t;
        t_init(&t, d);
        double a = now_ns();
        phase_insert(&t, d, n, items);
        double b = now_ns();
        bytes = t_bytes(&t, d);
        uintptr_t acc = 0;
        for (size_t i = 0; i < n; i++)
            keys[i] = items[order[i]]->key;
        double b2 = now_ns();
        acc += phase_hit(&t, d, n);
        double c = now_ns();
        for (size_t i = 0; i < n; i++)
            keys[i] = items[n + order[i]]->key;
        double c2 = now_ns();
        acc += phase_miss(&t, d, n);
        double e = now_ns();
        phase_churn(&t, d, n, items, order);
        double f = now_ns();
        sink = acc;
        t_free(&t, d);
        t_ins += b - a;
        t_hit += c - b2;
        t_miss += e - c2;
        t_churn += f - e;
    }
    double ops = (double)n * (double)reps;
    r->insert = t_ins / ops;
    r->hit = t_hit / ops;
    r->miss = t_miss / ops;
    r->churn = t_churn / ops;
    r->bytes = (double)bytes / (double)n;
}

static void bench_hash(void)
{
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rnd();
    size_t lens[] = {8, 16, 40};
    printf("hash cost, ns per call (best of 3, 4M calls):\n");
    for (size_t li = 0; li < 3; li++) {
        double best13 = 1e18, best24 = 1e18;
        for (int run_i = 0; run_i < 3; run_i++) {
            uint64_t acc = 0;
            double a = now_ns();
            for (uint32_t i = 0; i < 4000000; i++) {
                buf[0] = (uint8_t)i;
                acc += htab_hash(buf, lens[li]);
            }
            double b = now_ns();
            for (uint32_t i = 0; i < 4000000; i++) {
                buf[0] = (uint8_t)i;
                acc += htab_siphash24(1, 2, buf, lens[li]);
            }
            double c = now_ns();
            sink = (uintptr_t)acc;
            if ((b - a) / 4e6 < best13)
                best13 = (b - a) / 4e6;
            if ((c - b) / 4e6 < best24)
                best24 = (c - b) / 4e6;
        }
        printf("  %2zu bytes: SipHash-1-3 (htab_hash) %.1f, SipHash-2-4 %.1f\n", lens[li], best13,
               best24);
    }
}

int main(int argc, char **argv)
{
    /* htab_bench [RUNS]: everything; htab_bench --one DESIGN SIZE: one run of one design (0-3)
     * at one size, for callgrind (instructions and simulated cache misses per phase). */
    int runs = argc > 1 ? atoi(argv[1]) : 3, only = -1;
    size_t only_size = 0;
    if (argc == 4 && strcmp(argv[1], "--one") == 0) {
        only = atoi(argv[2]);
        only_size = (size_t)strtoull(argv[3], NULL, 10);
        runs = 1;
        if (only < 0 || only >= N_DESIGNS || only_size < 1)
            return 2;
    }
    if (runs < 1)
        runs = 1;
    htab_seed_set(rnd(), rnd());
    if (only < 0)
        bench_hash();
    /* 180k: Robin Hood at 3/4 is then 69 % full, where linear probing at 1/2 has doubled. */
    size_t sizes[] = {1000, 100000, 180000, 1000000};
    if (only >= 0)
        sizes[0] = only_size;
    printf("\n%-8s %-22s %7s %6s %6s %14s %12s\n", "entries", "design", "insert", "hit", "miss",
           "remove+insert", "bytes/entry");
    for (size_t si = 0; si < (only >= 0 ? 1u : 4u); si++) {
        size_t n = sizes[si];
        struct item **items = malloc(2 * n * sizeof *items);
        size_t *order = malloc(n * sizeof *order);
        keys = malloc(n * sizeof *keys);
        if (!items || !order || !keys)
            return 1;
        for (size_t i = 0; i < 2 * n; i++) {
            items[i] = calloc(1, sizeof **items);
            if (!items[i])
                return 1;
            items[i]->key.k[0] = rnd();
            items[i]->key.k[1] = rnd();
        }
        /* Shuffle the items so that insertion order is not address order. */
        for (size_t i = 2 * n - 1; i > 0; i--) {
            size_t j = rnd() % (i + 1);
            struct item *tmp = items[i];
            items[i] = items[j];
            items[j] = tmp;
        }
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rnd() % (i + 1);
            size_t tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        /* The designs take turns within each run, so that a change in the machine's load
         * falls on all of them. */
        struct result best[N_DESIGNS];
        for (int d = 0; d < N_DESIGNS; d++)
            best[d] = (struct result){1e18, 1e18, 1e18, 1e18, 0};
        for (int k = 0; k < runs; k++) {
            for (int d = 0; d < N_DESIGNS; d++) {
                if (only >= 0 && d != only)
                    continue;
                struct result r;
                run((enum design)d, n, items, order, &r);
                struct result *b = &best[d];
                if (r.insert < b->insert)
                    b->insert = r.insert;
                if (r.hit < b->hit)
                    b->hit = r.hit;
                if (r.miss < b->miss)
                    b->miss = r.miss;
                if (r.churn < b->churn)
                    b->churn = r.churn;
                b->bytes = r.bytes;
            }
        }
        for (int d = 0; d < N_DESIGNS; d++)
            if (only < 0 || d == only)
                printf("%-8zu %-22s %7.0f %6.0f %6.0f %14.0f %12.1f\n", n, design_name[d],
                       best[d].insert, best[d].hit, best[d].miss, best[d].churn, best[d].bytes);
        fflush(stdout);
        for (size_t i = 0; i < 2 * n; i++)
            free(items[i]);
        free(items);
        free(order);
        free(keys);
    }
    return 0;
}
