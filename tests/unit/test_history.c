/* test_history.c: a service's success history (detect/history.h) against a brute-force model
 * that keeps every time: where the history says its answer is exact it equals the model's;
 * where it gives bounds, the model's answer lies within them; memory stays at most
 * HISTORY_BUCKETS_MAX buckets however long the run; out-of-order times (clock steps) and
 * clocks of different kinds are handled. */
#include "testutil.h"

#include <stdlib.h>

#include "detect/history.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct nt_time at(int64_t usec, uint8_t kind)
{
    struct nt_time t = {.sec = usec / 1000000, .nsec = (uint32_t)(usec % 1000000) * 1000,
                        .kind = kind};
    return t;
}

/* The model: every success, answering the same questions exactly. */
struct model {
    struct nt_time *t;
    size_t n;
};

static void model_check(const struct model *m, const struct history *h, const struct nt_time *f,
                        const struct nt_time *l)
{
    bool has_before = false, has_after = false;
    struct nt_time before = {0}, after = {0};
    uint64_t during = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct nt_time *t = &m->t[i];
        if (t->kind != f->kind)
            continue;
        if (nt_time_cmp(t, f) < 0 && (!has_before || nt_time_cmp(t, &before) > 0)) {
            has_before = true;
            before = *t;
        }
        if (nt_time_cmp(t, l) > 0 && (!has_after || nt_time_cmp(t, &after) < 0)) {
            has_after = true;
            after = *t;
        }
        if (nt_time_cmp(t, f) >= 0 && nt_time_cmp(t, l) <= 0)
            during++;
    }
    struct history_window w;
    history_window(h, f, l, &w);
    assert_int_equal(w.total, m->n);
    assert_int_equal(w.has_before, has_before);
    if (has_before) {
        if (w.before_exact) {
            assert_int_equal(nt_time_cmp(&w.before, &before), 0);
        } else {
            /* A real success no later than the last one before the failure, in its bucket. */
            assert_true(nt_time_cmp(&w.before, &before) <= 0);
            assert_true(before.sec - w.before.sec < w.width);
            assert_true(w.width > 0);
        }
    }
    assert_int_equal(w.has_after, has_after);
    if (has_after) {
        if (w.after_exact) {
            assert_int_equal(nt_time_cmp(&w.after, &after), 0);
        } else {
            assert_true(nt_time_cmp(&w.after, &after) >= 0);
            assert_true(w.after.sec - after.sec < w.width);
        }
    }
    assert_true(w.during_min <= during);
    assert_true(during <= w.during_max);
    if (w.width == 0) {
        assert_true(w.before_exact && w.after_exact);
        assert_int_equal(w.during_min, w.during_max);
    }
}

static void run(int n, int64_t span_us, bool shuffled, bool two_kinds, size_t *max_buckets,
                bool *any_bound)
{
    struct history h;
    history_init(&h);
    struct model m = {calloc((size_t)n, sizeof(struct nt_time)), 0};
    assert_non_null(m.t);
    int64_t base = 1700000000LL * 1000000;
    for (int i = 0; i < n; i++) {
        int64_t off = shuffled ? (int64_t)(rnd() % (uint64_t)span_us)
                               : (int64_t)i * span_us / n + (int64_t)(rnd() % 1000);
        uint8_t kind = two_kinds && (rnd() & 1) ? NT_TIME_OF_DAY : NT_TIME_ABSOLUTE;
        struct nt_time t = at(kind == NT_TIME_OF_DAY ? off : base + off, kind);
        assert_true(history_add(&h, &t));
        m.t[m.n++] = t;
        if (h.n > *max_buckets)
            *max_buckets = h.n;
    }
    for (int q = 0; q < 300; q++) {
        int64_t a = (int64_t)(rnd() % (uint64_t)span_us), b = (int64_t)(rnd() % (uint64_t)span_us);
        if (a > b) {
            int64_t x = a;
            a = b;
            b = x;
        }
        uint8_t kind = two_kinds && (q & 1) ? NT_TIME_OF_DAY : NT_TIME_ABSOLUTE;
        struct nt_time f = at(kind == NT_TIME_OF_DAY ? a : base + a, kind);
        struct nt_time l = at(kind == NT_TIME_OF_DAY ? b : base + b, kind);
        if (q % 5 == 0) { /* failures exactly at a success's time */
            const struct nt_time *s = &m.t[rnd() % m.n];
            if (s->kind == kind)
                f = l = *s;
        }
        model_check(&m, &h, &f, &l);
        struct history_window w;
        history_window(&h, &f, &l, &w);
        if (w.width)
            *any_bound = true;
    }
    free(m.t);
    history_fini(&h);
}

/* Few successes a second: every answer exact. */
static void test_sparse_is_exact(void **state)
{
    (void)state;
    size_t maxb = 0;
    bool bound = false;
    run(2000, 2000LL * 1000000, false, false, &maxb, &bound);
    assert_false(bound);
    run(500, 600LL * 1000000, true, true, &maxb, &bound);
    assert_false(bound);
}

/* A service that worked once (a DNS scan's thousands of resolvers, each answering once) costs
 * one bucket and one slot, not room for four of each; its answers are exact. */
static void test_one_success_is_small(void **state)
{
    (void)state;
    struct history h;
    history_init(&h);
    struct nt_time t = at(1700000000LL * 1000000 + 250000, NT_TIME_ABSOLUTE);
    assert_true(history_add(&h, &t));
    assert_int_equal(h.n, 1);
    assert_int_equal(h.cap, 1);
    assert_int_equal(h.n_slot, 1);
    assert_int_equal(h.cap_slot, 1);
    struct nt_time f = at(1700000000LL * 1000000 + 900000, NT_TIME_ABSOLUTE);
    struct history_window w;
    history_window(&h, &f, &f, &w);
    assert_true(w.has_before && w.before_exact);
    assert_int_equal(nt_time_cmp(&w.before, &t), 0);
    assert_false(w.has_after);
    assert_int_equal(w.total, 1);
    /* It grows as successes come: a second one, in another second, takes a second bucket. */
    struct nt_time t2 = at(1700000002LL * 1000000, NT_TIME_ABSOLUTE);
    assert_true(history_add(&h, &t2));
    assert_int_equal(h.n, 2);
    assert_int_equal(h.cap, 2);
    history_fini(&h);
}

/* Thousands a second for a long time: bounds that hold, and flat memory. */
static void test_busy_is_bounded_and_flat(void **state)
{
    (void)state;
    size_t maxb = 0;
    bool bound = false;
    run(200000, 20000LL * 1000000, false, false, &maxb, &bound);
    assert_true(bound);
    assert_true(maxb <= HISTORY_BUCKETS_MAX);
    maxb = 0;
    run(100000, 50LL * 1000000, true, true, &maxb, &bound); /* out of order, two clocks */
    assert_true(maxb <= HISTORY_BUCKETS_MAX);
}

/* per_second successes each second of [from, to) (seconds after 1700000000), evenly spread. */
static void add_seconds(struct history *h, int64_t from, int64_t to, int per_second)
{
    for (int64_t s = from; s < to; s++)
        for (int k = 0; k < per_second; k++) {
            struct nt_time t = at((1700000000LL + s) * 1000000 + k * (1000000 / per_second),
                                  NT_TIME_ABSOLUTE);
            assert_true(history_add(h, &t));
        }
}

/* The buckets that hold a slot. */
static size_t slots_held(const struct history *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += h->b[i].slot != 0;
    return n;
}

/* The exact times live in slots beside the buckets: a busy service (more than HISTORY_EXACT a
 * second) holds a slot or two however long it runs; a quiet one, a slot per bucket, at most
 * HISTORY_BUCKETS_MAX. Either way its answers are the model's (run above). */
static void test_exact_slots_follow_the_buckets(void **state)
{
    (void)state;
    struct history h;
    history_init(&h);
    add_seconds(&h, 0, 20000, 20);
    assert_true(h.n <= HISTORY_BUCKETS_MAX);
    assert_true(h.n_slot <= 2);
    for (size_t i = 0; i < h.n; i++)
        assert_true(h.b[i].slot == 0 && h.b[i].n_exact == 0);
    history_fini(&h);

    /* Quiet for 4,000 s (a slot a bucket), then busy: the coarsenings of the busy part merge the
     * quiet buckets and cut the table down to the slots still held. */
    history_init(&h);
    add_seconds(&h, 0, 4000, 1);
    assert_true(h.n_slot >= 4000);
    add_seconds(&h, 4000, 20000, 20);
    assert_true(h.cap_slot <= slots_held(&h) + 8);
    history_fini(&h);

    history_init(&h);
    for (int64_t s = 0; s < 6 * HISTORY_BUCKETS_MAX; s += 3) {
        struct nt_time t = at((1700000000LL + s) * 1000000, NT_TIME_ABSOLUTE);
        assert_true(history_add(&h, &t));
    }
    /* A success every 3 s: the width doubles to 8 s, each bucket holding two or three
     * successes, each exact. */
    assert_int_equal(h.width, 8);
    assert_true(h.n_slot <= HISTORY_BUCKETS_MAX);
    for (size_t i = 0; i < h.n; i++)
        assert_true(h.b[i].n_exact == h.b[i].count);
    size_t with_slot = slots_held(&h);
    assert_int_equal(with_slot, h.n);
    /* Every slot is held or free (none lost), and no more are kept than buckets hold plus
     * those freed since the last coarsening, which cut the table to the slots held. */
    size_t free_slots = 0;
    for (uint32_t f = h.free_slot; f; f = (uint32_t)h.slot[f - 1].t[0].sec)
        free_slots++;
    assert_int_equal(with_slot + free_slots, h.n_slot);
    assert_true(h.n_slot <= h.n + 1);
    struct nt_time f = at((1700000000LL + 301) * 1000000, NT_TIME_ABSOLUTE);
    struct history_window w;
    history_window(&h, &f, &f, &w);
    assert_true(w.has_before && w.before_exact && w.before.sec == 1700000000LL + 300);
    assert_true(w.has_after && w.after_exact && w.after.sec == 1700000000LL + 303);
    assert_int_equal(w.width, 0);
    history_fini(&h);
}

/* A week of one success a second stays within HISTORY_BUCKETS_MAX buckets. */
/* A pool of 64 histories under a budget of 64 KiB: each gets a success every second, at a
 * random offset, for 2,000 s (about 1.3 MiB held without the pool). The pool's bytes stay
 * within its budget after every add (each history's own bytes summed), it doubled its width,
 * every history is at least that wide, and every window still holds the model's answer (exact
 * where it says so, else within its bounds). Histories that leave the pool take their bytes
 * with them. */
#define POOLED 64
static void test_pool_keeps_its_budget(void **state)
{
    (void)state;
    static struct history h[POOLED];
    static struct model m[POOLED];
    struct history_pool p;
    history_pool_init(&p, 65536);
    for (int k = 0; k < POOLED; k++) {
        history_init(&h[k]);
        history_pool_join(&p, &h[k]);
        m[k].t = calloc(2000, sizeof *m[k].t);
        assert_non_null(m[k].t);
        m[k].n = 0;
    }
    for (int64_t s = 0; s < 2000; s++)
        for (int k = 0; k < POOLED; k++) {
            struct nt_time t =
                at((1000 + s) * 1000000 + (int64_t)(rnd() % 1000000), NT_TIME_ABSOLUTE);
            assert_true(history_add(&h[k], &t));
            m[k].t[m[k].n++] = t;
            if (p.min_width < HISTORY_POOL_WIDTH_MAX)
                assert_true(p.bytes <= p.max_bytes);
        }
    size_t sum = 0;
    for (int k = 0; k < POOLED; k++) {
        sum +=
            h[k].cap * sizeof(struct history_bucket) + h[k].cap_slot * sizeof(struct history_slot);
        assert_true(h[k].width >= p.min_width);
    }
    assert_int_equal(sum, p.bytes);
    assert_true(p.doublings > 0);
    assert_true(p.min_width > 1);
    assert_true(p.min_width <= 1024); /* the budget fits at 512 s: no needless doubling */
    for (int k = 0; k < POOLED; k++)
        for (int q = 0; q < 20; q++) {
            int64_t a = 1000 + (int64_t)(rnd() % 2000), b = a + (int64_t)(rnd() % 60);
            struct nt_time f = at(a * 1000000 + 500000, NT_TIME_ABSOLUTE);
            struct nt_time l = at(b * 1000000 + 700000, NT_TIME_ABSOLUTE);
            model_check(&m[k], &h[k], &f, &l);
        }
    for (int k = 0; k < POOLED; k++) {
        history_fini(&h[k]);
        free(m[k].t);
    }
    assert_int_equal(p.n, 0);
    assert_int_equal(p.bytes, 0);
    history_pool_fini(&p);
}

static void test_week_stays_flat(void **state)
{
    (void)state;
    struct history h;
    history_init(&h);
    for (int64_t s = 0; s < 7 * 86400; s++) {
        struct nt_time t = at((1700000000LL + s) * 1000000, NT_TIME_ABSOLUTE);
        assert_true(history_add(&h, &t));
        assert_true(h.n <= HISTORY_BUCKETS_MAX);
    }
    assert_true(h.width >= 128);
    struct nt_time f = at((1700000000LL + 3600) * 1000000 + 500000, NT_TIME_ABSOLUTE);
    struct history_window w;
    history_window(&h, &f, &f, &w);
    assert_int_equal(w.total, 7 * 86400);
    assert_true(w.has_before && w.has_after);
    assert_int_equal(w.during_min, 0);
    history_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_is_exact),
        cmocka_unit_test(test_one_success_is_small),
        cmocka_unit_test(test_busy_is_bounded_and_flat),
        cmocka_unit_test(test_exact_slots_follow_the_buckets),
        cmocka_unit_test(test_week_stays_flat),
        cmocka_unit_test(test_pool_keeps_its_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
