/* handoff.c: the ring between the reading thread and the detector's (see handoff.h).
 *
 * The ring: HANDOFF_RING_BYTES of memory and two positions that only grow, head (bytes the
 * producer has published) and tail (bytes the consumer is done with); a position's place in
 * the ring is the position modulo its size. Each event is one message, contiguous: a header
 * (its kind and size, both multiples of 16) and the copy. A message that does not fit before
 * the ring's end is written at its start, after a wrap message over the rest.
 *
 * The producer publishes head every few messages (each store of a shared position moves a
 * cache line between the cores), and at once when it has to wait or drain. The consumer
 * gives back tail every few messages too. A side that finds nothing to do spins briefly, then
 * sleeps in short naps: the consumer is the faster side, so it naps often, and a nap's
 * latency only lets a few dozen events queue up in a ring that holds thousands. */
#include "pipeline/handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Under AddressSanitizer a message is poisoned once the consumer is done with it, until the
 * producer reserves its bytes again: a rule that kept a pointer into an event past its call
 * (which the correlator's objects never allowed either) is caught at once. */
#if defined(__SANITIZE_ADDRESS__)
#define HANDOFF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HANDOFF_ASAN 1
#endif
#endif
#ifdef HANDOFF_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MSG_ALIGN   16
#define PUBLISH_MSG 32 /* messages between two publications of head (and of tail) */
#define SPINS       256
#define NAP_NS      20000

enum { KIND_WRAP = 0x7fff };

struct msg {
    uint32_t kind, size; /* size: the whole message, header included */
    uint64_t pad;
};
_Static_assert(sizeof(struct msg) == MSG_ALIGN, "the header keeps the copy aligned");

struct handoff {
    char *ring;
    size_t cap;
    handoff_fn fn;
    void *ctx;
    pthread_t thread;
    /* The producer's own: where it writes next, what it last saw of tail, messages since
     * head was published. */
    size_t wpos, tail_seen;
    unsigned unpublished;
    unsigned long long events, direct;
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    atomic_bool closing;
};

static size_t up8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void nap(unsigned *spins)
{
    if (*spins < SPINS) {
        (*spins)++;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        return;
    }
    struct timespec ts = {0, NAP_NS};
    nanosleep(&ts, NULL);
}

/* ---- the copies: a size pass, then a write pass that lays them out in the same order ---- */

struct wbuf {
    char *p;
};

static void *take(struct wbuf *w, size_t n)
{
    void *r = w->p;
    w->p += up8(n);
    return r;
}

static size_t str_size(const char *s)
{
    return s ? up8(strlen(s) + 1) : 0;
}

static char *put_str(struct wbuf *w, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = take(w, n);
    memcpy(d, s, n);
    return d;
}

/* An evidence held by value: its store and text (an evidence never set has neither). The size
 * pass keeps each evidence's plan (struct plans), which the write pass uses in the same order. */
static bool ev_owns(const struct evidence *e)
{
    return e->store || e->text || e->frame || e->qname || e->n_answers;
}

#define PLANS_MAX 8 /* an ICMP error: its own, its lookup's four, its attempt's three */
struct plans {
    struct evidence_copy_plan p[PLANS_MAX];
    unsigned n, at;
};

static size_t ev_size(struct plans *pl, const struct evidence *e)
{
    return ev_owns(e) ? evidence_copy_plan(e, &pl->p[pl->n++]) : 0;
}

static void put_ev(struct wbuf *w, struct plans *pl, struct evidence *dst,
                   const struct evidence *src)
{
    if (ev_owns(src))
        w->p += evidence_copy_into(dst, src, &pl->p[pl->at++], w->p);
    else
        *dst = *src;
}

/* An evidence held by pointer: the struct too. */
static size_t evp_size(struct plans *pl, const struct evidence *e)
{
    return e ? up8(sizeof *e) + ev_size(pl, e) : 0;
}

static const struct evidence *put_evp(struct wbuf *w, struct plans *pl,
                                      const struct evidence *src)
{
    if (!src)
        return NULL;
    struct evidence *d = take(w, sizeof *d);
    put_ev(w, pl, d, src);
    return d;
}

static size_t lookup_size(struct plans *pl, const struct dns_lookup *l)
{
    if (!l)
        return 0;
    size_t n = up8(sizeof *l) + str_size(l->qname) + ev_size(pl, &l->query);
    n += ev_size(pl, &l->answer);
    n += ev_size(pl, &l->error);
    return n + evp_size(pl, l->tcp.close);
}

static const struct dns_lookup *put_lookup(struct wbuf *w, struct plans *pl,
                                           const struct dns_lookup *l)
{
    if (!l)
        return NULL;
    struct dns_lookup *d = take(w, sizeof *d);
    memcpy(d, l, offsetof(struct dns_lookup, query));
    d->qname = put_str(w, l->qname);
    put_ev(w, pl, &d->query, &l->query);
    put_ev(w, pl, &d->answer, &l->answer);
    put_ev(w, pl, &d->error, &l->error);
    d->tcp.close = put_evp(w, pl, l->tcp.close);
    return d;
}
_Static_assert(offsetof(struct dns_lookup, query) + sizeof(struct evidence) ==
                       offsetof(struct dns_lookup, answer) &&
                   offsetof(struct dns_lookup, answer) + sizeof(struct evidence) ==
                       offsetof(struct dns_lookup, error) &&
                   offsetof(struct dns_lookup, error) + sizeof(struct evidence) ==
                       sizeof(struct dns_lookup),
               "a lookup ends with its three evidences, copied one by one");

static size_t attempt_size(struct plans *pl, const struct tcp_attempt *t)
{
    if (!t)
        return 0;
    size_t n = up8(sizeof *t) + ev_size(pl, &t->syn);
    n += ev_size(pl, &t->retry);
    return n + ev_size(pl, &t->reply);
}

static const struct tcp_attempt *put_attempt(struct wbuf *w, struct plans *pl,
                                             const struct tcp_attempt *t)
{
    if (!t)
        return NULL;
    struct tcp_attempt *d = take(w, sizeof *d);
    *d = *t;
    put_ev(w, pl, &d->syn, &t->syn);
    put_ev(w, pl, &d->retry, &t->retry);
    put_ev(w, pl, &d->reply, &t->reply);
    return d;
}

/* ---- the ring ---- */

static void publish(struct handoff *h)
{
    atomic_store_explicit(&h->head, h->wpos, memory_order_release);
    h->unpublished = 0;
}

/* Room for a message of size bytes: where to write it (after a wrap message when it does not
 * fit before the ring's end). Waits while the ring is too full. */
static char *reserve(struct handoff *h, size_t size)
{
    size_t off = h->wpos % h->cap;
    size_t skip = h->cap - off < size ? h->cap - off : 0;
    unsigned spins = 0;
    while (h->wpos + skip + size - h->tail_seen > h->cap) {
        h->tail_seen = atomic_load_explicit(&h->tail, memory_order_acquire);
        if (h->wpos + skip + size - h->tail_seen <= h->cap)
            break;
        if (h->unpublished)
            publish(h);
        nap(&spins);
    }
    if (skip) {
        struct msg *m = (struct msg *)(h->ring + off);
        UNPOISON(m, sizeof *m);
        m->kind = KIND_WRAP;
        m->size = (uint32_t)skip;
        h->wpos += skip;
    }
    char *at = h->ring + h->wpos % h->cap;
    UNPOISON(at, size);
    return at;
}

static void commit(struct handoff *h, size_t size)
{
    h->wpos += size;
    h->events++;
    if (++h->unpublished >= PUBLISH_MSG)
        publish(h);
}

void handoff_drain(struct handoff *h)
{
    publish(h);
    unsigned spins = 0;
    while (atomic_load_explicit(&h->tail, memory_order_acquire) != h->wpos)
        nap(&spins);
    h->tail_seen = h->wpos;
}

/* The message's header and the copy's place; NULL when the copy is too large for the ring
 * (the caller then delivers the event itself, the ring drained first). */
static struct wbuf begin(struct handoff *h, size_t body, uint32_t kind, size_t *size)
{
    *size = (sizeof(struct msg) + body + MSG_ALIGN - 1) & ~(size_t)(MSG_ALIGN - 1);
    if (*size > h->cap / 4) {
        handoff_drain(h);
        return (struct wbuf){NULL};
    }
    struct msg *m = (struct msg *)reserve(h, *size);
    m->kind = kind;
    m->size = (uint32_t)*size;
    return (struct wbuf){(char *)(m + 1)};
}

static void direct(struct handoff *h, enum handoff_kind kind, const void *obj)
{
    h->direct++;
    h->fn(h->ctx, kind, obj);
}

void handoff_lookup(struct handoff *h, const struct dns_lookup *l)
{
    size_t size;
    struct plans pl = {.n = 0};
    struct wbuf w = begin(h, lookup_size(&pl, l), HANDOFF_LOOKUP, &size);
    if (!w.p) {
        direct(h, HANDOFF_LOOKUP, l);
        return;
    }
    put_lookup(&w, &pl, l);
    commit(h, size);
}

void handoff_icmp(struct handoff *h, const struct icmp_event *e)
{
    size_t size;
    struct plans pl = {.n = 0};
    size_t body = up8(sizeof *e) + evp_size(&pl, e->ev);
    body += lookup_size(&pl, e->lookup);
    body += attempt_size(&pl, e->attempt);
    struct wbuf w = begin(h, body, HANDOFF_ICMP, &size);
    if (!w.p) {
        direct(h, HANDOFF_ICMP, e);
        return;
    }
    struct icmp_event *d = take(&w, sizeof *d);
    *d = *e;
    d->ev = put_evp(&w, &pl, e->ev);
    d->lookup = put_lookup(&w, &pl, e->lookup);
    d->attempt = put_attempt(&w, &pl, e->attempt);
    commit(h, size);
}

void handoff_stray(struct handoff *h, const struct stray_response *r)
{
    size_t size;
    struct plans pl = {.n = 0};
    size_t body = up8(sizeof *r) + evp_size(&pl, r->ev);
    body += lookup_size(&pl, r->queried);
    struct wbuf w = begin(h, body, HANDOFF_STRAY, &size);
    if (!w.p) {
        direct(h, HANDOFF_STRAY, r);
        return;
    }
    struct stray_response *d = take(&w, sizeof *d);
    *d = *r;
    d->ev = put_evp(&w, &pl, r->ev);
    d->queried = put_lookup(&w, &pl, r->queried);
    commit(h, size);
}

void handoff_malformed(struct handoff *h, const struct dns_malformed *m)
{
    size_t size;
    struct plans pl = {.n = 0};
    size_t body = up8(sizeof *m) + evp_size(&pl, m->ev) + up8(m->n_anomalies);
    struct wbuf w = begin(h, body, HANDOFF_MALFORMED, &size);
    if (!w.p) {
        direct(h, HANDOFF_MALFORMED, m);
        return;
    }
    struct dns_malformed *d = take(&w, sizeof *d);
    *d = *m;
    d->ev = put_evp(&w, &pl, m->ev);
    if (m->n_anomalies) {
        uint8_t *a = take(&w, m->n_anomalies);
        memcpy(a, m->anomalies, m->n_anomalies);
        d->anomalies = a;
    }
    commit(h, size);
}

void handoff_tcp(struct handoff *h, const struct tcp_attempt *t)
{
    size_t size;
    struct plans pl = {.n = 0};
    struct wbuf w = begin(h, attempt_size(&pl, t), HANDOFF_TCP, &size);
    if (!w.p) {
        direct(h, HANDOFF_TCP, t);
        return;
    }
    put_attempt(&w, &pl, t);
    commit(h, size);
}

/* The detector's thread: every message in order, until closing with nothing left. */
static void *consume(void *arg)
{
    struct handoff *h = arg;
    size_t tail = 0;
    unsigned spins = 0;
    for (;;) {
        size_t head = atomic_load_explicit(&h->head, memory_order_acquire);
        if (head == tail) {
            if (atomic_load_explicit(&h->closing, memory_order_acquire) &&
                atomic_load_explicit(&h->head, memory_order_acquire) == tail)
                break;
            nap(&spins);
            continue;
        }
        spins = 0;
        unsigned done = 0;
        while (tail != head) {
            const struct msg *m = (const struct msg *)(h->ring + tail % h->cap);
            if (m->kind != KIND_WRAP)
                h->fn(h->ctx, (enum handoff_kind)m->kind, m + 1);
            uint32_t size = m->kind == KIND_WRAP ? (uint32_t)sizeof *m : m->size;
            tail += m->size;
            POISON(m, size);
            if (++done % PUBLISH_MSG == 0)
                atomic_store_explicit(&h->tail, tail, memory_order_release);
        }
        atomic_store_explicit(&h->tail, tail, memory_order_release);
    }
    return NULL;
}

struct handoff *handoff_new(handoff_fn fn, void *ctx)
{
    struct handoff *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cap = HANDOFF_RING_BYTES;
    h->fn = fn;
    h->ctx = ctx;
    atomic_init(&h->head, 0);
    atomic_init(&h->tail, 0);
    atomic_init(&h->closing, false);
    if (!(h->ring = aligned_alloc(64, h->cap))) {
        free(h);
        return NULL;
    }
    POISON(h->ring, h->cap);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, consume, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        UNPOISON(h->ring, h->cap);
        free(h->ring);
        free(h);
        return NULL;
    }
    return h;
}

void handoff_free(struct handoff *h)
{
    if (!h)
        return;
    publish(h);
    atomic_store_explicit(&h->closing, true, memory_order_release);
    pthread_join(h->thread, NULL);
    UNPOISON(h->ring, h->cap);
    free(h->ring);
    free(h);
}

void handoff_stats(const struct handoff *h, struct handoff_stats *st)
{
    st->events = h->events;
    st->direct = h->direct;
}
