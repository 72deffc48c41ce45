/* test_handoff.c: the ring that carries the correlator's events to the detector's thread
 * (src/pipeline/handoff.c). Each event arrives once, in the order handed off, as a deep copy
 * (nothing in it points at the producer's memory, which is overwritten right after); the ring
 * turns many times under a slow consumer; an event too large for it is delivered by the
 * producer, still in order. A lent lookup's evidence is read where it is and given back once,
 * on the producer's thread, after its lookup was consumed. */
#include "testutil.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/handoff.h"

/* The checks made on the detector's thread: cmocka's asserts may not fail there (they jump
 * back into the test's own thread), so the first failing line is kept and asserted after the
 * drain. */
static int fail_line;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c) && !fail_line)                                                                    \
            fail_line = __LINE__;                                                                  \
    } while (0)

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* ---- a lookup, an attempt and their evidence, every pointer into memory of the test ---- */

struct src_mem {
    uint8_t frame[3][96];
    char qname[3][64];
    char text[3][64];
    char rr_name[3][2][32];
    char rr_data[3][2][32];
    struct evidence_rr rr[3][2];
    char lookup_qname[64];
    struct evidence close;
    uint8_t close_frame[40];
    uint8_t anomalies[3];
};

/* Evidence number k (0..2) of object tag: a frame, a name, a line and two answer records,
 * their bytes derived from tag and k. */
static void fill_ev(struct evidence *ev, struct src_mem *m, unsigned tag, int k)
{
    memset(ev, 0, sizeof *ev);
    ev->role = (uint8_t)(EV_QUERY + k);
    ev->pkt = tag * 10u + (unsigned)k;
    ev->frame_len = 60 + (uint32_t)k;
    ev->frame_wirelen = ev->frame_len;
    for (uint32_t i = 0; i < ev->frame_len; i++)
        m->frame[k][i] = (uint8_t)(tag + i + (unsigned)k);
    ev->frame = m->frame[k];
    ev->store = m->frame[k]; /* set whenever frame, name or answers are (evidence.h) */
    snprintf(m->qname[k], sizeof m->qname[k], "q%u-%d.example.", tag, k);
    ev->qname = m->qname[k];
    ev->has_question = true;
    snprintf(m->text[k], sizeof m->text[k], "line of %u/%d", tag, k);
    ev->text = m->text[k];
    for (int j = 0; j < 2; j++) {
        snprintf(m->rr_name[k][j], sizeof m->rr_name[k][j], "rr%u-%d-%d.", tag, k, j);
        snprintf(m->rr_data[k][j], sizeof m->rr_data[k][j], "data-%u-%d-%d", tag, k, j);
        m->rr[k][j] = (struct evidence_rr){.name = m->rr_name[k][j],
                                           .type = 16,
                                           .rclass = 1,
                                           .ttl = tag,
                                           .data = m->rr_data[k][j]};
    }
    ev->answers = m->rr[k];
    ev->n_answers = 2;
}

/* The same evidence as the copy must show it (the original being gone by then). */
static void check_ev(const struct evidence *ev, unsigned tag, int k, const struct src_mem *m)
{
    CHECK((ev->role) == (EV_QUERY + k));
    CHECK((ev->pkt) == (tag * 10u + (unsigned)k));
    CHECK(ev->frame_len == 60 + (uint32_t)k);
    CHECK((ev->frame) != NULL);
    CHECK((const void *)(ev->frame) != (const void *)(m->frame[k]));
    for (uint32_t i = 0; i < ev->frame_len; i++)
        CHECK((ev->frame[i]) == ((uint8_t)(tag + i + (unsigned)k)));
    char want[64];
    snprintf(want, sizeof want, "q%u-%d.example.", tag, k);
    CHECK((const void *)(ev->qname) != (const void *)(m->qname[k]));
    CHECK(streq(ev->qname, want));
    snprintf(want, sizeof want, "line of %u/%d", tag, k);
    CHECK((const void *)(ev->text) != (const void *)(m->text[k]));
    CHECK(streq(ev->text, want));
    CHECK((ev->n_answers) == (2));
    CHECK((const void *)(ev->answers) != (const void *)(m->rr[k]));
    for (int j = 0; j < 2; j++) {
        snprintf(want, sizeof want, "rr%u-%d-%d.", tag, k, j);
        CHECK(streq(ev->answers[j].name, want));
        snprintf(want, sizeof want, "data-%u-%d-%d", tag, k, j);
        CHECK(streq(ev->answers[j].data, want));
        CHECK((ev->answers[j].ttl) == (tag));
    }
}

static void fill_lookup(struct dns_lookup *l, struct src_mem *m, unsigned tag)
{
    memset(l, 0, sizeof *l);
    l->seq = tag;
    l->id = (uint16_t)tag;
    snprintf(m->lookup_qname, sizeof m->lookup_qname, "lookup%u.example.", tag);
    l->qname = m->lookup_qname;
    fill_ev(&l->query, m, tag, 0);
    fill_ev(&l->answer, m, tag, 1);
    fill_ev(&l->error, m, tag, 2);
    memset(&m->close, 0, sizeof m->close);
    m->close.role = EV_PACKET;
    m->close.frame_len = sizeof m->close_frame;
    memset(m->close_frame, 0x5a, sizeof m->close_frame);
    m->close.frame = m->close_frame;
    m->close.store = m->close_frame;
    l->tcp.close = &m->close;
}

static void check_lookup(const struct dns_lookup *l, unsigned tag, const struct src_mem *m)
{
    CHECK((l->seq) == (tag));
    CHECK((l->id) == ((uint16_t)tag));
    char want[64];
    snprintf(want, sizeof want, "lookup%u.example.", tag);
    CHECK((const void *)(l->qname) != (const void *)(m->lookup_qname));
    CHECK(streq(l->qname, want));
    check_ev(&l->query, tag, 0, m);
    check_ev(&l->answer, tag, 1, m);
    check_ev(&l->error, tag, 2, m);
    CHECK((l->tcp.close) != NULL);
    CHECK((const void *)(l->tcp.close) != (const void *)(&m->close));
    CHECK((const void *)(l->tcp.close->frame) != (const void *)(m->close_frame));
    CHECK((l->tcp.close->frame_len) == (sizeof m->close_frame));
    for (size_t i = 0; i < sizeof m->close_frame; i++)
        CHECK((l->tcp.close->frame[i]) == (0x5a));
}

static void fill_attempt(struct tcp_attempt *t, struct src_mem *m, unsigned tag)
{
    memset(t, 0, sizeof *t);
    t->seq = tag;
    fill_ev(&t->syn, m, tag, 0);
    fill_ev(&t->retry, m, tag, 1);
    fill_ev(&t->reply, m, tag, 2);
}

static void check_attempt(const struct tcp_attempt *t, unsigned tag, const struct src_mem *m)
{
    CHECK((t->seq) == (tag));
    check_ev(&t->syn, tag, 0, m);
    check_ev(&t->retry, tag, 1, m);
    check_ev(&t->reply, tag, 2, m);
}

/* ---- one event of each kind ---- */

struct seen {
    struct src_mem *m; /* the producer's memory, for pointer comparisons only */
    int n;
    enum handoff_kind kinds[8];
};

static void on_each(void *ctx, enum handoff_kind kind, const void *obj)
{
    struct seen *s = ctx;
    if (s->n == 8) {
        CHECK(!"more events than handed off");
        return;
    }
    s->kinds[s->n++] = kind;
    switch (kind) {
    case HANDOFF_LOOKUP:
        check_lookup(obj, (unsigned)((const struct dns_lookup *)obj)->seq, s->m);
        break;
    case HANDOFF_ICMP: {
        const struct icmp_event *e = obj;
        CHECK((e->kind) == (7));
        CHECK(e->about_dns);
        check_ev(e->ev, 2, 2, s->m);
        check_lookup(e->lookup, 2, s->m);
        check_attempt(e->attempt, 2, s->m);
        break;
    }
    case HANDOFF_STRAY: {
        const struct stray_response *r = obj;
        check_ev(r->ev, 3, 1, s->m);
        CHECK((r->queried) == NULL);
        break;
    }
    case HANDOFF_MALFORMED: {
        const struct dns_malformed *d = obj;
        check_ev(d->ev, 4, 0, s->m);
        CHECK(d->to_server);
        CHECK((d->n_anomalies) == (3));
        CHECK((const void *)(d->anomalies) != (const void *)(s->m->anomalies));
        CHECK((d->anomalies[0]) == (11));
        CHECK((d->anomalies[2]) == (13));
        break;
    }
    case HANDOFF_TCP:
        check_attempt(obj, 5, s->m);
        break;
    }
}

/* Each kind's copy is whole and independent: the producer's memory is wiped (and the event
 * rebuilt with another tag) right after each hand-off, before the thread reads it (the ring
 * publishes its first 32 messages only at the drain). */
static void test_each_kind_copied_whole(void **state)
{
    (void)state;
    struct src_mem *m = calloc(1, sizeof *m);
    assert_non_null(m);
    struct seen s = {.m = m};
    struct handoff *h = handoff_new(on_each, &s);
    assert_non_null(h);
    struct dns_lookup l;
    struct tcp_attempt t;
    struct evidence ev;

    fill_lookup(&l, m, 1);
    handoff_lookup(h, &l);
    memset(m, 0xee, sizeof *m);

    fill_lookup(&l, m, 2);
    fill_attempt(&t, m, 2);
    struct evidence icmp_ev;
    fill_ev(&icmp_ev, m, 2, 2);
    struct icmp_event ie = {
        .ev = &icmp_ev, .kind = 7, .about_dns = true, .lookup = &l, .attempt = &t};
    handoff_icmp(h, &ie);
    memset(m, 0xee, sizeof *m);

    fill_ev(&ev, m, 3, 1);
    struct stray_response sr = {.ev = &ev};
    handoff_stray(h, &sr);
    memset(m, 0xee, sizeof *m);

    fill_ev(&ev, m, 4, 0);
    m->anomalies[0] = 11;
    m->anomalies[1] = 12;
    m->anomalies[2] = 13;
    struct dns_malformed dm = {.ev = &ev, .to_server = true, .n_anomalies = 3,
                               .anomalies = m->anomalies};
    handoff_malformed(h, &dm);
    memset(m, 0xee, sizeof *m);

    fill_attempt(&t, m, 5);
    handoff_tcp(h, &t);
    memset(m, 0xee, sizeof *m);

    /* Evidence laid out as the correlator's is (one store, evidence_store_put's layout): the
     * ring copies each store whole and moves its pointers. */
    fill_lookup(&l, m, 6);
    struct evidence *evs[4] = {&l.query, &l.answer, &l.error, &m->close};
    struct evidence owned[4];
    for (int k = 0; k < 4; k++) {
        assert_true(evidence_copy(&owned[k], evs[k]));
        *evs[k] = owned[k];
    }
    l.tcp.close = &owned[3];
    handoff_lookup(h, &l);
    for (int k = 0; k < 4; k++) {
        memset(owned[k].store, 0xee, malloc_usable_size(owned[k].store));
        if (owned[k].text)
            memset(owned[k].text, 0, strlen(owned[k].text));
    }
    memset(m, 0xee, sizeof *m);

    handoff_drain(h);
    for (int k = 0; k < 4; k++)
        evidence_fini(&owned[k]);
    assert_int_equal(fail_line, 0);
    assert_int_equal(s.n, 6);
    const enum handoff_kind want[6] = {HANDOFF_LOOKUP, HANDOFF_ICMP,      HANDOFF_STRAY,
                                       HANDOFF_MALFORMED, HANDOFF_TCP, HANDOFF_LOOKUP};
    for (int i = 0; i < 6; i++)
        assert_int_equal(s.kinds[i], want[i]);
    struct handoff_stats st;
    handoff_stats(h, &st);
    assert_int_equal(st.events, 6);
    assert_int_equal(st.direct, 0);
    handoff_free(h);
    free(m);
}

/* ---- many events through a slow consumer ---- */

struct order {
    uint64_t next;
    uint64_t big_at; /* the seq of the event too large for the ring (0: none) */
    bool big_seen;
};

/* Name of lookup seq: a length from 1 to 250 that varies, so that messages of many sizes wrap
 * at many places. */
static void seq_name(uint64_t seq, char *buf)
{
    size_t n = 1 + (size_t)(seq * 7919 % 250);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (seq + i) % 26);
    buf[n] = '\0';
}

static void on_ordered(void *ctx, enum handoff_kind kind, const void *obj)
{
    struct order *o = ctx;
    CHECK((kind) == (HANDOFF_LOOKUP));
    const struct dns_lookup *l = obj;
    CHECK((l->seq) == (o->next));
    char want[256];
    seq_name(l->seq, want);
    CHECK(streq(l->qname, want));
    if (l->seq == o->big_at) {
        CHECK((l->answer.n_answers) == (4));
        for (int j = 0; j < 4; j++)
            CHECK((strlen(l->answer.answers[j].data)) == (400000));
        o->big_seen = true;
    }
    o->next++;
    /* Now and then the consumer is slow, so that the producer finds the ring full. */
    if (l->seq % 4096 == 0) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

/* 120,000 lookups of every name length (about 200 MB through a 1 MiB ring: it turns hundreds of
 * times), the consumer pausing now and then: each arrives once, in order, intact. */
static void test_ring_turns_in_order(void **state)
{
    (void)state;
    struct order o = {.next = 1};
    struct handoff *h = handoff_new(on_ordered, &o);
    assert_non_null(h);
    struct src_mem *m = calloc(1, sizeof *m);
    assert_non_null(m);
    char name[256];
    struct dns_lookup l;
    uint64_t total = 120000;
    for (uint64_t seq = 1; seq <= total; seq++) {
        fill_lookup(&l, m, (unsigned)seq);
        seq_name(seq, name);
        l.qname = name;
        handoff_lookup(h, &l);
    }
    handoff_drain(h);
    assert_int_equal(fail_line, 0);
    assert_int_equal(o.next, total + 1);
    handoff_free(h);
    free(m);
}

/* A lookup larger than a quarter of the ring (four 400,000-byte answer records) is delivered by
 * the producer itself once the ring is empty: still exactly in its place in the order. */
static void test_too_large_delivered_in_place(void **state)
{
    (void)state;
    struct order o = {.next = 1, .big_at = 3};
    struct handoff *h = handoff_new(on_ordered, &o);
    assert_non_null(h);
    char *data[4];
    struct evidence_rr rr[4];
    for (int j = 0; j < 4; j++) {
        data[j] = malloc(400001);
        assert_non_null(data[j]);
        memset(data[j], 'x', 400000);
        data[j][400000] = '\0';
        rr[j] = (struct evidence_rr){.name = "big.example.", .type = 16, .rclass = 1,
                                     .data = data[j]};
    }
    char name[256];
    for (uint64_t seq = 1; seq <= 5; seq++) {
        struct dns_lookup l;
        memset(&l, 0, sizeof l);
        l.seq = seq;
        seq_name(seq, name);
        l.qname = name;
        if (seq == 3) {
            l.answer.answers = rr;
            l.answer.n_answers = 4;
            l.answer.store = rr; /* any non-NULL store: the evidence is copied */
        }
        handoff_lookup(h, &l);
    }
    handoff_drain(h);
    assert_int_equal(fail_line, 0);
    assert_int_equal(o.next, 6);
    assert_true(o.big_seen);
    struct handoff_stats st;
    handoff_stats(h, &st);
    assert_int_equal(st.events, 4);
    assert_int_equal(st.direct, 1);
    handoff_free(h);
    for (int j = 0; j < 4; j++)
        free(data[j]);
}

/* ---- the store copied whole, in each of its layouts ---- */

struct layouts {
    int n;
};

/* Evidence k of the lookup in test_every_store_layout: k 0 a name only, 1 answer records
 * only (no name, no frame), 2 an empty frame (frame_len 0), 3 a frame and records. */
static void check_layout(const struct evidence *e, int k)
{
    switch (k) {
    case 0:
        CHECK(streq(e->qname, "only.a.name."));
        CHECK(e->frame == NULL && e->n_answers == 0 && e->answers == NULL);
        break;
    case 1:
        CHECK(e->qname == NULL && e->frame == NULL);
        CHECK(e->n_answers == 2);
        if (e->n_answers == 2) {
            CHECK(streq(e->answers[0].name, "r0.example."));
            CHECK(streq(e->answers[0].data, "first"));
            CHECK(streq(e->answers[1].name, "r1.example."));
            CHECK(streq(e->answers[1].data, "second record"));
        }
        break;
    case 2:
        CHECK(e->frame != NULL && e->frame_len == 0);
        CHECK(streq(e->qname, "empty.frame."));
        break;
    case 3:
        CHECK(e->frame != NULL && e->frame_len == 5);
        if (e->frame)
            CHECK(memcmp(e->frame, "\1\2\3\4\5", 5) == 0);
        CHECK(e->n_answers == 1);
        if (e->n_answers == 1) {
            CHECK(streq(e->answers[0].name, "with.frame."));
            CHECK(streq(e->answers[0].data, "x"));
        }
        break;
    }
}

static void on_layout(void *ctx, enum handoff_kind kind, const void *obj)
{
    struct layouts *t = ctx;
    CHECK(kind == HANDOFF_LOOKUP);
    const struct dns_lookup *l = obj;
    CHECK(l->seq == (uint64_t)t->n + 1);
    const struct evidence *evs[3] = {&l->query, &l->answer, &l->error};
    for (int k = 0; k < 3; k++)
        check_layout(evs[k], (t->n * 3 + k) % 4);
    t->n++;
}

/* One store laid out by evidence_store_put (as the correlator's are): records, their strings,
 * the name, the frame, each part there or not. */
static void put_store(struct evidence *e, int k)
{
    memset(e, 0, sizeof *e);
    e->role = EV_ANSWER;
    static const uint8_t five[5] = {1, 2, 3, 4, 5};
    static const char *names[2] = {"r0.example.", "r1.example."};
    static const char *datas[2] = {"first", "second record"};
    size_t n_ans = k == 1 ? 2 : k == 3 ? 1 : 0, tail = 0;
    const char *name = k == 0 ? "only.a.name." : k == 2 ? "empty.frame." : NULL;
    const uint8_t *frame = k == 2 ? five : k == 3 ? five : NULL;
    e->frame_len = k == 3 ? 5 : 0;
    for (size_t i = 0; i < n_ans; i++)
        tail += k == 1 ? strlen(names[i]) + 1 + strlen(datas[i]) + 1 : 11 + 1 + 2;
    size_t size = evidence_store_size(e, n_ans, frame, name, name ? strlen(name) : 0, tail);
    void *block = malloc(size);
    assert_non_null(block);
    char *t = evidence_store_put(e, block, n_ans, frame, name, name ? strlen(name) : 0, tail);
    for (size_t i = 0; i < n_ans; i++) {
        const char *rn = k == 1 ? names[i] : "with.frame.", *rd = k == 1 ? datas[i] : "x";
        struct evidence_rr *a = &e->answers[e->n_answers++];
        *a = (struct evidence_rr){.type = 16, .rclass = 1}; /* text data: addr_len 0 */
        a->name = t;
        t = stpcpy(t, rn) + 1;
        a->data = t;
        t = stpcpy(t, rd) + 1;
    }
}

/* Every layout of a store is copied right (its parts where the copy's pointers say, after the
 * original is wiped and freed): a name only, records only, an empty frame, frame and records;
 * 8,000 lookups, so that the ring turns and each copy lands on the bytes of older ones (a
 * copy one byte short is then seen). */
static void test_every_store_layout(void **state)
{
    (void)state;
    fail_line = 0;
    struct layouts t = {0};
    struct handoff *h = handoff_new(on_layout, &t);
    assert_non_null(h);
    for (int n = 0; n < 8000; n++) {
        struct dns_lookup l;
        memset(&l, 0, sizeof l);
        l.seq = (uint64_t)n + 1;
        struct evidence *evs[3] = {&l.query, &l.answer, &l.error};
        for (int k = 0; k < 3; k++)
            put_store(evs[k], (n * 3 + k) % 4);
        handoff_lookup(h, &l);
        for (int k = 0; k < 3; k++) {
            memset(evs[k]->store, 0xee, malloc_usable_size(evs[k]->store));
            evidence_fini(evs[k]);
        }
    }
    handoff_drain(h);
    assert_int_equal(fail_line, 0);
    assert_int_equal(t.n, 8000);
    handoff_free(h);
}

/* ---- an idle consumer parks, and wakes for the next event ---- */

static void on_count(void *ctx, enum handoff_kind kind, const void *obj)
{
    (void)kind;
    (void)obj;
    (*(int *)ctx)++;
}

static double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* After its event the consumer spins, naps and then parks: over 400 ms of nothing the process
 * uses a few milliseconds of CPU (napping every 20 us all along took about a tenth of a core);
 * the next event wakes it. */
static void test_idle_consumer_parks(void **state)
{
    (void)state;
    int n = 0;
    struct handoff *h = handoff_new(on_count, &n);
    assert_non_null(h);
    struct dns_lookup l;
    memset(&l, 0, sizeof l);
    handoff_lookup(h, &l);
    handoff_drain(h);
    assert_int_equal(n, 1);
    struct timespec settle = {0, 50000000};
    nanosleep(&settle, NULL); /* its naps before it parks */
    double before = process_cpu_s();
    struct timespec idle = {0, 400000000};
    nanosleep(&idle, NULL);
    double used = process_cpu_s() - before;
    if (used > 0.015)
        fail_msg("an idle consumer used %.1f ms of CPU in 400 ms", used * 1e3);
    handoff_lookup(h, &l);
    handoff_drain(h);
    assert_int_equal(n, 2);
    handoff_free(h);
}

/* ---- lent evidence ---- */

#define LEND_N 20000

struct lending {
    struct src_mem *m;
    uint64_t next;                /* the consumer's: the seq it expects next */
    bool consumed[LEND_N + 1];    /* the consumer's, read by the producer after a give-back */
    uint8_t given[LEND_N + 1][3]; /* the producer's: loans given back, by evidence */
    pthread_t producer;
    int wrong_thread, early, unknown;
    unsigned long gives;
};

static void on_lent(void *ctx, enum handoff_kind kind, const void *obj)
{
    struct lending *s = ctx;
    CHECK(kind == HANDOFF_LOOKUP);
    const struct dns_lookup *l = obj;
    CHECK(l->seq == s->next);
    char want[64];
    snprintf(want, sizeof want, "lookup%u.example.", (unsigned)l->seq);
    CHECK(streq(l->qname, want));
    /* the evidence as it was, read from the stores lent with the lookup */
    check_ev(&l->query, (unsigned)l->seq, 0, s->m);
    check_ev(&l->answer, (unsigned)l->seq, 1, s->m);
    CHECK(l->error.store == NULL && l->error.text == NULL); /* none: nothing lent */
    CHECK(l->tcp.close && l->tcp.close->frame_len == sizeof s->m->close_frame);
    if (l->seq <= LEND_N)
        s->consumed[l->seq] = true;
    s->next++;
    if (l->seq % 2048 == 0) {
        struct timespec ts = {0, 2000000}; /* now and then slow: the ring fills */
        nanosleep(&ts, NULL);
    }
}

/* A loan back: on the producer's thread, only once its lookup was consumed, once each. Its
 * lookup and evidence are read from its text ("line of seq/k"). */
static void on_give_back(void *ctx, struct evidence_loan *loan)
{
    struct lending *s = ctx;
    if (!pthread_equal(pthread_self(), s->producer))
        s->wrong_thread++;
    unsigned seq;
    int k;
    if (!loan->text || sscanf(loan->text, "line of %u/%d", &seq, &k) != 2 || seq == 0 ||
        seq > LEND_N || k < 0 || k > 2 || !loan->store) {
        s->unknown++;
    } else {
        if (!s->consumed[seq])
            s->early++;
        s->given[seq][k]++;
    }
    s->gives++;
    /* Its blocks are the producer's again: writable (a pool writes its list into them), which
     * AddressSanitizer reports if they were still poisoned. */
    if (loan->store)
        memset(loan->store, 0, 8);
    if (loan->text)
        loan->text[0] = '\0';
    evidence_loan_end(loan, NULL);
}

/* Lookup seq with owned query and answer evidence (malloc'd store and text, as the
 * correlator's), no error evidence. */
static void lend_lookup(struct dns_lookup *l, struct src_mem *m, uint64_t seq,
                        struct evidence owned[2])
{
    fill_lookup(l, m, (unsigned)seq);
    assert_true(evidence_copy(&owned[0], &l->query));
    assert_true(evidence_copy(&owned[1], &l->answer));
    l->query = owned[0];
    l->answer = owned[1];
    memset(&l->error, 0, sizeof l->error);
}

/* 20,000 lookups lent, the consumer now and then slow: each arrives whole, its evidence read
 * from the lent stores, and each loan comes back exactly once, on the producer's thread, after
 * its lookup was consumed; the lookup handed off owns nothing once lent. Those still in the
 * ring at handoff_free come back then. Under AddressSanitizer the stores are poisoned between
 * the consumer's call and their return, which any use in between would report. */
static void test_lent_evidence_given_back(void **state)
{
    (void)state;
    struct lending *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->m = calloc(1, sizeof *s->m);
    assert_non_null(s->m);
    s->next = 1;
    s->producer = pthread_self();
    struct handoff *h = handoff_new(on_lent, s);
    assert_non_null(h);
    struct dns_lookup l;
    struct evidence owned[2];
    /* before a give-back function is set, a lookup is copied, not lent */
    lend_lookup(&l, s->m, 1, owned);
    assert_false(handoff_lookup_lend(h, &l));
    assert_ptr_equal(l.query.store, owned[0].store);
    evidence_fini(&owned[0]);
    evidence_fini(&owned[1]);
    handoff_set_give_back(h, on_give_back, s);
    uint64_t half = LEND_N / 2;
    for (uint64_t seq = 2; seq <= LEND_N; seq++) {
        lend_lookup(&l, s->m, seq, owned);
        assert_true(handoff_lookup_lend(h, &l));
        assert_null(l.query.store);
        assert_null(l.query.text);
        assert_null(l.answer.store);
        assert_null(l.answer.text);
        if (seq == half) {
            handoff_drain(h); /* every loan so far back */
            assert_int_equal(s->gives, 2 * (half - 1));
        }
    }
    handoff_free(h); /* the rest back */
    assert_int_equal(fail_line, 0);
    assert_int_equal(s->next, LEND_N + 1);
    assert_int_equal(s->wrong_thread, 0);
    assert_int_equal(s->early, 0);
    assert_int_equal(s->unknown, 0);
    assert_int_equal(s->gives, 2 * (LEND_N - 1));
    for (uint64_t seq = 2; seq <= LEND_N; seq++) {
        assert_int_equal(s->given[seq][0], 1);
        assert_int_equal(s->given[seq][1], 1);
        assert_int_equal(s->given[seq][2], 0);
    }
    free(s->m);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_copied_whole),
        cmocka_unit_test(test_ring_turns_in_order),
        cmocka_unit_test(test_too_large_delivered_in_place),
        cmocka_unit_test(test_every_store_layout),
        cmocka_unit_test(test_idle_consumer_parks),
        cmocka_unit_test(test_lent_evidence_given_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
