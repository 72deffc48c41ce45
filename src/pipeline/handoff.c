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
 * latency only lets a few dozen events queue up in a ring that holds thousands. A consumer
 * idle for longer (a quiet link, a pipe with nothing in it) parks on a condition variable
 * instead, so that it costs nothing, and the next publication wakes it.
 *
 * The thread starts with the first event, not with handoff_new: a live capture gives up its
 * privileges after the pipeline is made (cli/capture.c), and capabilities dropped with
 * capset(2) are dropped for the calling thread only. */
#include "pipeline/handoff.h"

#include <assert.h>
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
/* The runtime's (GCC ships no header for it; clang's allocator_interface.h declares it so). */
size_t __sanitizer_get_allocated_size(const volatile void *p);
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
/* A lent store or text: the whole block malloc gave (each is one). */
#define POISON_BLOCK(p)                                                                            \
    do {                                                                                           \
        if (p)                                                                                     \
            ASAN_POISON_MEMORY_REGION(p, __sanitizer_get_allocated_size(p));                       \
    } while (0)
#define UNPOISON_BLOCK(p)                                                                          \
    do {                                                                                           \
        if (p)                                                                                     \
            ASAN_UNPOISON_MEMORY_REGION(p, __sanitizer_get_allocated_size(p));                     \
    } while (0)
#else
#define POISON(p, n)      ((void)(p), (void)(n))
#define UNPOISON(p, n)    ((void)(p), (void)(n))
#define POISON_BLOCK(p)   ((void)(p))
#define UNPOISON_BLOCK(p) ((void)(p))
#endif

#define MSG_ALIGN   16
#define PUBLISH_MSG 32 /* messages between two publications of head (and of tail) */
#define SPINS       256
#define NAP_NS      20000
#define NAPS_PARK   100 /* idle naps (some 5 ms) before the consumer parks */

enum { KIND_WRAP = 0x7fff };

struct msg {
    uint32_t kind, size; /* size: the whole message, header included */
    uint32_t lent;       /* a lookup whose evidence is lent (see handoff_lookup_lend) */
    uint32_t pad;
};
_Static_assert(sizeof(struct msg) == MSG_ALIGN, "the header keeps the copy aligned");

_Static_assert((HANDOFF_RING_BYTES & (HANDOFF_RING_BYTES - 1)) == 0 &&
                   HANDOFF_RING_BYTES % MSG_ALIGN == 0,
               "positions wrap with size_t only when the ring's size is a power of two");

/* A lent lookup's message: where it ends in the ring (the producer gives its evidence back
 * once tail has reached that) and the evidence lent with it. */
struct loan {
    size_t end;
    struct evidence_loan ev[3]; /* query, answer, error */
};
/* Reclaimed when this many are held: the consumer gives tail back every PUBLISH_MSG
 * messages, so a load of tail per lookup would mostly find nothing new. Fewer stay out of the
 * pool until the next lent lookup, a drain or the end (on a quiet live capture, up to 63
 * lookups' evidence: a few tens of KiB). */
#define LOANS_RECLAIM 64
/* More than the ring can hold: a lent lookup's message takes a header and a dns_lookup at
 * least. So the list is never full once what the consumer is done with is reclaimed (checked
 * anyway). */
#define LOANS_MAX 1024
_Static_assert(HANDOFF_RING_BYTES / (sizeof(struct msg) + sizeof(struct dns_lookup)) < LOANS_MAX,
               "the loans' list holds every lent lookup the ring can");

struct handoff {
    /* Read by both, written by neither after handoff_new. */
    char *ring;
    size_t cap;
    handoff_fn fn;
    void *ctx;
    pthread_t thread;
    bool started, no_thread; /* the thread runs; it could not be made (all events direct) */
    /* The producer's own, on a line of their own: where it writes next, what it last saw of
     * tail, messages since head was published. */
    _Alignas(64) size_t wpos, tail_seen;
    unsigned unpublished;
    unsigned long long events, direct;
    /* The loans in the ring, oldest first (a circular list of LOANS_MAX), and who takes them
     * back. */
    struct loan *loans;
    unsigned loan_first, n_loans;
    handoff_give_back_fn give;
    void *give_ctx;
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    atomic_bool sleeping; /* the consumer is parked (or about to) on wake */
    atomic_bool closing, discard;
    pthread_mutex_t mu;
    pthread_cond_t wake;
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
    char *end; /* where the size pass said the copy ends (checked by commit) */
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

/* Only the counts: a plan is read only once the size pass has written it (asserted), and
 * zeroing the eight was 37 instructions an event. */
static void plans_init(struct plans *pl)
{
    pl->n = pl->at = 0;
}

static size_t ev_size(struct plans *pl, const struct evidence *e)
{
    if (!ev_owns(e))
        return 0;
    assert(pl->n < PLANS_MAX);
    return evidence_copy_plan(e, &pl->p[pl->n++]);
}

static void put_ev(struct wbuf *w, struct plans *pl, struct evidence *dst,
                   const struct evidence *src)
{
    if (ev_owns(src)) {
        assert(pl->at < pl->n);
        w->p += evidence_copy_into(dst, src, &pl->p[pl->at++], w->p);
    } else {
        *dst = *src;
        dst->answers = NULL; /* none (n_answers is 0): no pointer into the producer's memory */
    }
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

/* The store of head and the load of sleeping are sequentially consistent, as are the
 * consumer's store of sleeping and load of head: either it sees the new head before it
 * parks, or this sees it parked (or parking, under the mutex) and wakes it. */
static void publish(struct handoff *h)
{
    atomic_store(&h->head, h->wpos);
    h->unpublished = 0;
    if (atomic_load(&h->sleeping)) {
        pthread_mutex_lock(&h->mu);
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->mu);
    }
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

/* The write pass ended where the size pass said (w at the end of the copy) and used every
 * plan: checked in builds with assertions. */
static void commit(struct handoff *h, size_t size, const struct wbuf *w, const struct plans *pl)
{
    assert(w->p == w->end);
    assert(pl->at == pl->n);
    (void)w;
    (void)pl;
    h->wpos += size;
    h->events++;
    if (++h->unpublished >= PUBLISH_MSG)
        publish(h);
}

static void give_back(struct handoff *h, size_t done);

void handoff_drain(struct handoff *h)
{
    if (!h->started)
        return; /* nothing was handed off, or every event went direct */
    publish(h);
    unsigned spins = 0;
    while (atomic_load_explicit(&h->tail, memory_order_acquire) != h->wpos)
        nap(&spins);
    h->tail_seen = h->wpos;
    give_back(h, h->wpos);
}

static void *consume(void *arg);

/* The thread, at the first event (see the top of this file), every signal but the faults
 * blocked in it: they reach the reading thread as before, while a fault in a rule still runs
 * the handler a sanitizer installed (a blocked fault is fatal without it). */
static bool start(struct handoff *h)
{
    if (h->no_thread)
        return false;
    sigset_t all, old;
    sigfillset(&all);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, consume, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        h->no_thread = true;
        return false;
    }
    h->started = true;
    return true;
}

/* The message's header and the copy's place; NULL when the copy is too large for the ring,
 * or when there is no thread (the caller then delivers the event itself, the ring drained
 * first). */
static struct wbuf begin(struct handoff *h, size_t body, uint32_t kind, size_t *size)
{
    *size = (sizeof(struct msg) + body + MSG_ALIGN - 1) & ~(size_t)(MSG_ALIGN - 1);
    if (!h->started && !start(h))
        return (struct wbuf){NULL, NULL};
    if (*size > h->cap / 4) {
        handoff_drain(h);
        return (struct wbuf){NULL, NULL};
    }
    struct msg *m = (struct msg *)reserve(h, *size);
    m->kind = kind;
    m->size = (uint32_t)*size;
    m->lent = 0;
    return (struct wbuf){(char *)(m + 1), (char *)(m + 1) + body};
}

static void direct(struct handoff *h, enum handoff_kind kind, const void *obj)
{
    h->direct++;
    h->fn(h->ctx, kind, obj);
}

void handoff_lookup(struct handoff *h, const struct dns_lookup *l)
{
    size_t size;
    struct plans pl;
    plans_init(&pl);
    struct wbuf w = begin(h, lookup_size(&pl, l), HANDOFF_LOOKUP, &size);
    if (!w.p) {
        direct(h, HANDOFF_LOOKUP, l);
        return;
    }
    put_lookup(&w, &pl, l);
    commit(h, size, &w, &pl);
}

/* Gives back the loans of the messages before position done (tail, or wpos once drained). */
static void give_back(struct handoff *h, size_t done)
{
    while (h->n_loans) {
        struct loan *r = &h->loans[h->loan_first];
        if (r->end > done)
            break;
        for (int k = 0; k < 3; k++)
            if (r->ev[k].store || r->ev[k].text) {
                UNPOISON_BLOCK(r->ev[k].store);
                UNPOISON_BLOCK(r->ev[k].text);
                h->give(h->give_ctx, &r->ev[k]);
            }
        h->loan_first = (h->loan_first + 1) % LOANS_MAX;
        h->n_loans--;
    }
}

void handoff_set_give_back(struct handoff *h, handoff_give_back_fn give, void *ctx)
{
    if (!h->loans && !(h->loans = malloc(LOANS_MAX * sizeof *h->loans)))
        return; /* out of memory: lookups are copied, as before */
    h->give = give;
    h->give_ctx = ctx;
}

bool handoff_lookup_lend(struct handoff *h, struct dns_lookup *l)
{
    if (h->give && h->n_loans >= LOANS_RECLAIM) {
        h->tail_seen = atomic_load_explicit(&h->tail, memory_order_acquire);
        give_back(h, h->tail_seen);
    }
    if (!h->give || h->n_loans == LOANS_MAX) {
        handoff_lookup(h, l);
        return false;
    }
    size_t size;
    struct plans pl;
    plans_init(&pl);
    size_t body = up8(sizeof *l) + str_size(l->qname) + evp_size(&pl, l->tcp.close);
    struct wbuf w = begin(h, body, HANDOFF_LOOKUP, &size);
    if (!w.p) {
        direct(h, HANDOFF_LOOKUP, l);
        return false;
    }
    ((struct msg *)(void *)w.p - 1)->lent = 1;
    /* The lookup as it is, its three evidence pointing to the stores lent with it. */
    struct dns_lookup *d = take(&w, sizeof *d);
    memcpy(d, l, sizeof *d);
    d->qname = put_str(&w, l->qname);
    d->tcp.close = put_evp(&w, &pl, l->tcp.close);
    struct loan *r = &h->loans[(h->loan_first + h->n_loans++) % LOANS_MAX];
    r->end = h->wpos + size;
    evidence_lend(&l->query, &r->ev[0]);
    evidence_lend(&l->answer, &r->ev[1]);
    evidence_lend(&l->error, &r->ev[2]);
    commit(h, size, &w, &pl);
    return true;
}

/* The consumer, done with lent lookup d: its stores poisoned until given back. */
static void poison_lent(const struct dns_lookup *d)
{
    POISON_BLOCK(d->query.store);
    POISON_BLOCK(d->query.text);
    POISON_BLOCK(d->answer.store);
    POISON_BLOCK(d->answer.text);
    POISON_BLOCK(d->error.store);
    POISON_BLOCK(d->error.text);
}

void handoff_icmp(struct handoff *h, const struct icmp_event *e)
{
    size_t size;
    struct plans pl;
    plans_init(&pl);
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
    commit(h, size, &w, &pl);
}

void handoff_stray(struct handoff *h, const struct stray_response *r)
{
    size_t size;
    struct plans pl;
    plans_init(&pl);
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
    commit(h, size, &w, &pl);
}

void handoff_malformed(struct handoff *h, const struct dns_malformed *m)
{
    size_t size;
    struct plans pl;
    plans_init(&pl);
    size_t body = up8(sizeof *m) + evp_size(&pl, m->ev) + up8(m->n_anomalies);
    struct wbuf w = begin(h, body, HANDOFF_MALFORMED, &size);
    if (!w.p) {
        direct(h, HANDOFF_MALFORMED, m);
        return;
    }
    struct dns_malformed *d = take(&w, sizeof *d);
    *d = *m;
    d->ev = put_evp(&w, &pl, m->ev);
    d->anomalies = NULL;
    if (m->n_anomalies) {
        uint8_t *a = take(&w, m->n_anomalies);
        memcpy(a, m->anomalies, m->n_anomalies);
        d->anomalies = a;
    }
    commit(h, size, &w, &pl);
}

void handoff_tcp(struct handoff *h, const struct tcp_attempt *t)
{
    size_t size;
    struct plans pl;
    plans_init(&pl);
    struct wbuf w = begin(h, attempt_size(&pl, t), HANDOFF_TCP, &size);
    if (!w.p) {
        direct(h, HANDOFF_TCP, t);
        return;
    }
    put_attempt(&w, &pl, t);
    commit(h, size, &w, &pl);
}

/* Parks the consumer until head moves past tail or the ring closes. */
static void park(struct handoff *h, size_t tail)
{
    pthread_mutex_lock(&h->mu);
    atomic_store(&h->sleeping, true);
    while (atomic_load(&h->head) == tail && !atomic_load(&h->closing))
        pthread_cond_wait(&h->wake, &h->mu);
    atomic_store(&h->sleeping, false);
    pthread_mutex_unlock(&h->mu);
}

/* The detector's thread: every message in order, until closing with nothing left. What it
 * reads of h for each message is taken into locals once, off the producer's lines. */
static void *consume(void *arg)
{
    struct handoff *h = arg;
    char *const ring = h->ring;
    const size_t cap = h->cap;
    const handoff_fn fn = h->fn;
    void *const ctx = h->ctx;
    size_t tail = 0;
    unsigned spins = 0, naps = 0;
    for (;;) {
        size_t head = atomic_load_explicit(&h->head, memory_order_acquire);
        if (head == tail) {
            if (atomic_load_explicit(&h->closing, memory_order_acquire) &&
                atomic_load_explicit(&h->head, memory_order_acquire) == tail)
                break;
            if (spins < SPINS) {
                nap(&spins);
            } else if (++naps < NAPS_PARK) {
                nap(&spins);
            } else {
                park(h, tail);
                naps = 0;
            }
            continue;
        }
        spins = naps = 0;
        bool discard = atomic_load_explicit(&h->discard, memory_order_relaxed);
        unsigned done = 0;
        while (tail != head) {
            const struct msg *m = (const struct msg *)(ring + tail % cap);
            if (m->kind != KIND_WRAP && !discard)
                fn(ctx, (enum handoff_kind)m->kind, m + 1);
            if (m->kind != KIND_WRAP && m->lent)
                poison_lent((const struct dns_lookup *)(const void *)(m + 1));
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
    /* Its own lines for the producer's fields and each position: 64-aligned. */
    size_t size = (sizeof(struct handoff) + 63) & ~(size_t)63;
    struct handoff *h = aligned_alloc(64, size);
    if (!h)
        return NULL;
    memset(h, 0, size);
    h->cap = HANDOFF_RING_BYTES;
    h->fn = fn;
    h->ctx = ctx;
    atomic_init(&h->head, 0);
    atomic_init(&h->tail, 0);
    atomic_init(&h->sleeping, false);
    atomic_init(&h->closing, false);
    atomic_init(&h->discard, false);
    if (!(h->ring = aligned_alloc(64, h->cap))) {
        free(h);
        return NULL;
    }
    if (pthread_mutex_init(&h->mu, NULL) != 0) {
        free(h->ring);
        free(h);
        return NULL;
    }
    if (pthread_cond_init(&h->wake, NULL) != 0) {
        pthread_mutex_destroy(&h->mu);
        free(h->ring);
        free(h);
        return NULL;
    }
    POISON(h->ring, h->cap);
    return h;
}

static void finish(struct handoff *h)
{
    if (h->started) {
        publish(h);
        atomic_store(&h->closing, true);
        pthread_mutex_lock(&h->mu);
        pthread_cond_broadcast(&h->wake);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
        give_back(h, h->wpos);
    }
    free(h->loans);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->mu);
    UNPOISON(h->ring, h->cap);
    free(h->ring);
    free(h);
}

void handoff_free(struct handoff *h)
{
    if (h)
        finish(h);
}

void handoff_discard(struct handoff *h)
{
    if (!h)
        return;
    atomic_store(&h->discard, true);
    finish(h);
}

void handoff_stats(const struct handoff *h, struct handoff_stats *st)
{
    st->events = h->events;
    st->direct = h->direct;
}
