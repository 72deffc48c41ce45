/* htab.c: SipHash (written from the paper's specification) under a per-run key, and the Robin
 * Hood table; design and figures in htab.h. */
#include "util/htab.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- SipHash ---- */

static inline uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

struct sip {
    uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static inline void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
    s->v0 = k0 ^ 0x736f6d6570736575ull; /* "somepseu" */
    s->v1 = k1 ^ 0x646f72616e646f6dull; /* "dorandom" */
    s->v2 = k0 ^ 0x6c7967656e657261ull; /* "lygenera" */
    s->v3 = k1 ^ 0x7465646279746573ull; /* "tedbytes" */
}

static inline void sip_compress(struct sip *s, uint64_t m, int c)
{
    s->v3 ^= m;
    for (int i = 0; i < c; i++)
        sip_round(s);
    s->v0 ^= m;
}

/* The last word holds the remaining bytes (little-endian) and the length mod 256 on top. */
static inline uint64_t sip_final(struct sip *s, uint64_t tail, uint64_t len, int c, int d)
{
    sip_compress(s, tail | (len & 0xff) << 56, c);
    s->v2 ^= 0xff;
    for (int i = 0; i < d; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline uint64_t siphash(uint64_t k0, uint64_t k1, const void *data, size_t n, int c, int d)
{
    const uint8_t *p = data;
    struct sip s;
    sip_init(&s, k0, k1);
    size_t words = n / 8;
    for (size_t i = 0; i < words; i++)
        sip_compress(&s, htab_load_le64(p + 8 * i), c);
    return sip_final(&s, htab_load_le_upto8(p + 8 * words, n % 8), n, c, d);
}

uint64_t htab_siphash13(uint64_t k0, uint64_t k1, const void *p, size_t n)
{
    return siphash(k0, k1, p, n, 1, 3);
}

uint64_t htab_siphash24(uint64_t k0, uint64_t k1, const void *p, size_t n)
{
    return siphash(k0, k1, p, n, 2, 4);
}

/* ---- The run's key ---- */

static uint64_t run_k0, run_k1;
static bool key_given; /* htab_seed_set was called */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Set (release) once the key is in place: every hash reads it instead of calling pthread_once. */
static atomic_bool key_ready;
static void key_init_once(void);

static inline void key_ensure(void)
{
    if (!atomic_load_explicit(&key_ready, memory_order_acquire))
        pthread_once(&key_once, key_init_once);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool read_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    if (got == n)
        return true;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return got == n;
}

static void key_init(void)
{
    if (key_given)
        return;
    uint64_t x;
    const char *env = getenv("NT_HASH_SEED");
    if (env && *env) {
        /* A number is taken as it is; any other text through a fixed-key hash, so every value
         * names one key. */
        char *end;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 0);
        x = errno == 0 && *end == '\0'
                ? (uint64_t)v
                : htab_siphash24(0x6e65747472696167ull, 0x6573656564000000ull, env, strlen(env));
    } else {
        uint64_t r[2];
        if (read_random(r, sizeof r)) {
            run_k0 = r[0];
            run_k1 = r[1];
            return;
        }
        /* No entropy source at all (no getrandom, no /dev/urandom): the clock and the process
         * make a key an attacker would still have to guess. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32 ^
            (uint64_t)(uintptr_t)&x;
    }
    run_k0 = splitmix64(&x);
    run_k1 = splitmix64(&x);
}

static void key_init_once(void)
{
    key_init();
    atomic_store_explicit(&key_ready, true, memory_order_release);
}

void htab_seed_set(uint64_t k0, uint64_t k1)
{
    key_given = true;
    pthread_once(&key_once, key_init_once);
    run_k0 = k0;
    run_k1 = k1;
}

uint64_t htab_hash(const void *p, size_t n)
{
    key_ensure();
    return siphash(run_k0, run_k1, p, n, 1, 3);
}

uint64_t htab_hash_words(const uint64_t *w, size_t n)
{
    key_ensure();
    struct sip s;
    sip_init(&s, run_k0, run_k1);
    size_t words = n / 8;
    for (size_t i = 0; i < words; i++)
        sip_compress(&s, w[i], 1);
    return sip_final(&s, n % 8 ? w[words] : 0, n, 1, 3);
}

void htab_hasher_init(struct htab_hasher *s)
{
    key_ensure();
    struct sip v;
    sip_init(&v, run_k0, run_k1);
    s->v0 = v.v0;
    s->v1 = v.v1;
    s->v2 = v.v2;
    s->v3 = v.v3;
    s->tail = 0;
    s->len = 0;
}

void htab_hasher_add(struct htab_hasher *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    unsigned have = (unsigned)(s->len % 8);
    s->len += n;
    if (have + n < 8) {
        /* Still within the pending word. */
        s->tail |= htab_load_le_upto8(p, n) << (8 * have);
        return;
    }
    struct sip v = {s->v0, s->v1, s->v2, s->v3};
    if (have) {
        /* Complete the pending word first. */
        size_t take = 8 - have;
        sip_compress(&v, s->tail | htab_load_le_upto8(p, take) << (8 * have), 1);
        p += take;
        n -= take;
    }
    for (; n >= 8; p += 8, n -= 8)
        sip_compress(&v, htab_load_le64(p), 1);
    s->tail = htab_load_le_upto8(p, n);
    s->v0 = v.v0;
    s->v1 = v.v1;
    s->v2 = v.v2;
    s->v3 = v.v3;
}

uint64_t htab_hasher_end(const struct htab_hasher *s)
{
    struct sip v = {s->v0, s->v1, s->v2, s->v3};
    return sip_final(&v, s->tail, s->len, 1, 3);
}

/* Adds the n (1 to 8) bytes held little-endian in v (its other bytes 0), without a loop: at most
 * one compression. */
static inline void hasher_word(struct htab_hasher *s, uint64_t v, unsigned n)
{
    unsigned have = (unsigned)(s->len % 8);
    s->len += n;
    if (have + n < 8) {
        s->tail |= v << (8 * have);
        return;
    }
    struct sip w = {s->v0, s->v1, s->v2, s->v3};
    sip_compress(&w, have ? s->tail | v << (8 * have) : v, 1);
    unsigned used = 8 - have; /* bytes of v in that word */
    s->tail = used < n ? v >> (8 * used) : 0;
    s->v0 = w.v0;
    s->v1 = w.v1;
    s->v2 = w.v2;
    s->v3 = w.v3;
}

void htab_hasher_addr(struct htab_hasher *s, const struct nt_addr *a)
{
    /* The family, then the bytes nt_addr_eq compares (the same stream as htab_hasher_add of
     * them, in whole words). */
    if (a->family == NT_AF_INET || a->family == NT_AF_NAME) {
        hasher_word(s, a->family | htab_load_le32(a->a) << 8, 5);
    } else if (a->family == NT_AF_INET6) {
        hasher_word(s, a->family | htab_load_le64(a->a) << 8, 8); /* bytes 0-6 */
        hasher_word(s, htab_load_le64(a->a + 7), 8);              /* bytes 7-14 */
        hasher_word(s, a->a[15], 1);
    } else {
        hasher_word(s, a->family, 1);
    }
}

void htab_hasher_str(struct htab_hasher *s, const char *str)
{
    size_t n = str ? strlen(str) : 0;
    hasher_word(s, (uint64_t)n, 8); /* as htab_hasher_u64 */
    htab_hasher_add(s, str, n);
}

void htab_hasher_name(struct htab_hasher *s, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    hasher_word(s, (uint64_t)n, 8); /* as htab_hasher_u64 */
    const uint8_t *p = (const uint8_t *)name;
    size_t at = 0;
    for (; n - at >= 8; at += 8)
        hasher_word(s, htab_fold_word(htab_load_le64(p + at)), 8);
    if (at < n)
        hasher_word(s, htab_fold_word(htab_load_le_upto8(p + at, n - at)), (unsigned)(n - at));
}

/* ---- The table ---- */

#define MIN_SLOTS 8

void htab_init(struct htab *t)
{
    t->slots = NULL;
    t->mask = 0;
    t->n = 0;
    t->min_slots = 0;
}

void htab_fini(struct htab *t)
{
    free(t->slots);
    htab_init(t);
}

static inline size_t dist(const struct htab *t, size_t pos, uint64_t h)
{
    return htab_dist_(t, pos, h);
}

/* Places (h, item) by Robin Hood: an entry further from its home takes the slot of one nearer
 * to its own; among equal distances the newcomer goes after. */
static void place(struct htab_slot *slots, size_t mask, uint64_t h, void *item)
{
    size_t pos = (size_t)h & mask, d = 0;
    for (;;) {
        struct htab_slot *s = &slots[pos];
        if (!s->item) {
            s->h = h;
            s->item = item;
            return;
        }
        size_t sd = (pos - (size_t)s->h) & mask;
        if (sd < d) {
            struct htab_slot tmp = *s;
            s->h = h;
            s->item = item;
            h = tmp.h;
            item = tmp.item;
            d = sd;
        }
        pos = (pos + 1) & mask;
        d++;
    }
}

static int resize(struct htab *t, size_t cap)
{
    struct htab_slot *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    if (t->slots)
        for (size_t i = 0; i <= t->mask; i++)
            if (t->slots[i].item)
                place(ns, cap - 1, t->slots[i].h, t->slots[i].item);
    free(t->slots);
    t->slots = ns;
    t->mask = cap - 1;
    return 0;
}

/* The capacity that holds n items within the maximum load. */
static size_t cap_for(size_t n)
{
    size_t cap = MIN_SLOTS;
    while (n > cap / HTAB_LOAD_DEN * HTAB_LOAD_NUM) {
        if (cap > SIZE_MAX / 2 / sizeof(struct htab_slot))
            return 0;
        cap *= 2;
    }
    return cap;
}

int htab_reserve(struct htab *t, size_t n)
{
    size_t cap = cap_for(n);
    if (!cap)
        return -1;
    if (cap > t->min_slots)
        t->min_slots = cap;
    if (t->slots && cap <= t->mask + 1)
        return 0;
    return resize(t, cap);
}

int htab_insert(struct htab *t, uint64_t h, void *item)
{
    if (!item)
        return -1;
    size_t cap = t->slots ? t->mask + 1 : 0;
    if (t->n + 1 > cap / HTAB_LOAD_DEN * HTAB_LOAD_NUM) {
        size_t want = cap_for(t->n + 1);
        if (!want || resize(t, want) < 0)
            return -1;
    } else if (cap > MIN_SLOTS && cap > t->min_slots && t->n < cap / 8) {
        /* Mostly emptied: give memory back, down to half full (best effort). */
        size_t want = cap_for(2 * (t->n + 1));
        if (want < t->min_slots)
            want = t->min_slots;
        if (want && want < cap)
            (void)resize(t, want);
    }
    place(t->slots, t->mask, h, item);
    t->n++;
    return 0;
}

/* Empties slot pos and shifts the entries after it back by one, up to an empty slot or an
 * entry at its home. */
static void remove_at(struct htab *t, size_t pos)
{
    for (;;) {
        size_t next = (pos + 1) & t->mask;
        struct htab_slot *s = &t->slots[next];
        if (!s->item || dist(t, next, s->h) == 0)
            break;
        t->slots[pos] = *s;
        pos = next;
    }
    t->slots[pos].item = NULL;
    t->slots[pos].h = 0;
    t->n--;
}

bool htab_remove(struct htab *t, uint64_t h, const void *item)
{
    if (!t->n)
        return false;
    /* The entries of h lie between its home slot and the first slot holding an entry nearer
     * its own home than h's would be (or an empty one). */
    for (size_t pos = (size_t)h & t->mask, d = 0; d <= t->mask; pos = (pos + 1) & t->mask, d++) {
        const struct htab_slot *s = &t->slots[pos];
        if (!s->item || dist(t, pos, s->h) < d)
            return false;
        if (s->item == item && s->h == h) {
            remove_at(t, pos);
            return true;
        }
    }
    return false;
}

bool htab_replace(struct htab *t, uint64_t h, const void *item, void *by)
{
    if (!t->n || !by)
        return false;
    for (size_t pos = (size_t)h & t->mask, d = 0; d <= t->mask; pos = (pos + 1) & t->mask, d++) {
        struct htab_slot *s = &t->slots[pos];
        if (!s->item || dist(t, pos, s->h) < d)
            return false;
        if (s->item == item && s->h == h) {
            s->item = by;
            return true;
        }
    }
    return false;
}

void htab_iter_remove(struct htab *t, struct htab_iter *it)
{
    if (it->removed || !t->n || !t->slots[it->pos].item)
        return;
    remove_at(t, it->pos);
    it->removed = true;
}

void *htab_first(const struct htab *t, struct htab_iter *it)
{
    it->removed = false;
    it->left = 0;
    if (!t->n)
        return NULL;
    /* Start just after an empty slot (the load keeps one): entries shift back only within a
     * run of full slots, so a removal never moves an entry already visited past the one being
     * visited. */
    size_t s0 = 0;
    while (t->slots[s0].item)
        s0++;
    it->pos = s0;
    it->left = t->mask;
    return htab_next(t, it);
}

void *htab_next(const struct htab *t, struct htab_iter *it)
{
    for (;;) {
        if (it->removed) {
            it->removed = false;
        } else {
            if (it->left == 0)
                return NULL;
            it->pos = (it->pos + 1) & t->mask;
            it->left--;
        }
        if (t->slots[it->pos].item)
            return t->slots[it->pos].item;
    }
}

void *htab_get(const struct htab *t, uint64_t h, htab_eq_fn eq, const void *key)
{
    struct htab_iter it;
    for (void *p = htab_find(t, h, &it); p; p = htab_find_next(t, &it))
        if (eq(p, key))
            return p;
    return NULL;
}

void *htab_take(struct htab *t, uint64_t h, htab_eq_fn eq, const void *key)
{
    struct htab_iter it;
    for (void *p = htab_find(t, h, &it); p; p = htab_find_next(t, &it)) {
        if (eq(p, key)) {
            htab_iter_remove(t, &it);
            return p;
        }
    }
    return NULL;
}

bool htab_mark_new(struct htab *t, uint64_t h, size_t kept)
{
    static char mark; /* every marked hash's item: only the hash is looked up */
    struct htab_iter it;
    if (htab_find(t, h, &it))
        return false;
    if (htab_count(t) < kept)
        (void)htab_insert(t, h, &mark);
    return true;
}
