/* test_theap.c: the deadline heap and its lanes against a brute-force model: whatever mix of
 * pushes (to the heap or a lane), deadlines moved earlier or later (the heap defers the later
 * ones), moves between lanes, removals and pops, the top is always the node with the smallest
 * (at, tie), and every node comes out exactly once. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "util/theap.h"

#define N 600

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The live node with the smallest (at, tie), by looking at all of them. */
static struct theap_node *model_min(struct theap_node *nodes, const bool *live)
{
    struct theap_node *best = NULL;
    for (int i = 0; i < N; i++) {
        if (!live[i])
            continue;
        struct theap_node *x = &nodes[i];
        if (!best || x->at < best->at || (x->at == best->at && x->tie < best->tie))
            best = x;
    }
    return best;
}

/* A lane, or the heap (THEAP_NO_LANE), at random. */
static unsigned any_lane(void)
{
    unsigned l = (unsigned)(rnd() % (THEAP_LANES + 1));
    return l == THEAP_LANES ? THEAP_NO_LANE : l;
}

/* lanes: 0 the heap only (theap_push), 1 lanes too. Deadlines are "now plus one of a few
 * durations" with a clock that mostly moves forward (lanes hold them in order) but sometimes
 * jumps back (a lane's walk gives up and the heap takes them), or random (round % 3 == 2). */
static void run_against_model(int lanes)
{
    for (int round = 0; round < 21; round++) {
        static struct theap_node nodes[N];
        bool live[N] = {false};
        struct theap h;
        theap_init(&h);
        size_t n_live = 0;
        uint64_t seq = 0;
        int64_t now = 0;
        /* Few distinct deadlines, so ties (broken by tie) are common. */
        int64_t span = round % 2 ? 50 : 1000000;
        static const int64_t dur[3] = {0, 7, 40};
        for (int step = 0; step < 20000; step++) {
            int i = (int)(rnd() % N);
            unsigned op = (unsigned)(rnd() % 11);
            now += (int64_t)(rnd() % 3);
            if (rnd() % 500 == 0)
                now -= (int64_t)(rnd() % 200);
            if (!live[i]) {
                unsigned ln = lanes ? any_lane() : THEAP_NO_LANE;
                if (round % 3 == 2)
                    nodes[i].at = (int64_t)(rnd() % (uint64_t)span);
                else
                    nodes[i].at = now + dur[ln < 3 ? ln : rnd() % 3];
                /* Unique ties, a quarter of them a little out of creation order. */
                nodes[i].tie = ++seq * 4096;
                if (rnd() % 4 == 0 && seq > 2)
                    nodes[i].tie = (seq - rnd() % 3) * 4096 + 1 + seq % 4000;
                assert_true(lanes ? theap_push_lane(&h, &nodes[i], ln) : theap_push(&h, &nodes[i]));
                live[i] = true;
                n_live++;
            } else if (op < 4) {
                nodes[i].at += (int64_t)(rnd() % (uint64_t)span); /* later: deferred */
                theap_update(&h, &nodes[i]);
            } else if (op < 7) {
                nodes[i].at -= (int64_t)(rnd() % (uint64_t)span); /* earlier: sifted now */
                theap_update(&h, &nodes[i]);
            } else if (op < 8) {
                theap_remove(&h, &nodes[i]);
                assert_true(nodes[i].idx == THEAP_NONE);
                theap_remove(&h, &nodes[i]); /* a second removal is a no-op */
                live[i] = false;
                n_live--;
            } else if (op < 9) {
                if (lanes) {
                    nodes[i].at = now + dur[rnd() % 3];
                    theap_set_lane(&h, &nodes[i], any_lane());
                }
            } else {
                /* The quick test never says "nothing before" while something is (the heap's
                 * deferred keys included), and says it for an empty heap. */
                const struct theap_node *m = model_min(nodes, live);
                for (int64_t d = -1; d <= 1; d++) {
                    int64_t before = (m ? m->at : now) + d;
                    if (!m)
                        assert_false(theap_may_have_before(&h, before));
                    else if (m->at < before)
                        assert_true(theap_may_have_before(&h, before));
                }
                struct theap_node *t = theap_top(&h);
                assert_ptr_equal(t, model_min(nodes, live));
                if (op == 10 && t) {
                    theap_remove(&h, t);
                    live[t - nodes] = false;
                    n_live--;
                }
            }
            assert_int_equal(h.n_all, n_live);
            if (!lanes)
                assert_int_equal(h.n, n_live);
        }
        /* Draining gives every live node once, in (at, tie) order. */
        struct theap_node *t, *prev = NULL;
        while ((t = theap_top(&h)) != NULL) {
            assert_ptr_equal(t, model_min(nodes, live));
            if (prev)
                assert_true(prev->at < t->at || (prev->at == t->at && prev->tie < t->tie));
            theap_remove(&h, t);
            live[t - nodes] = false;
            n_live--;
            prev = t;
        }
        assert_int_equal(n_live, 0);
        assert_int_equal(h.n_all, 0);
        theap_fini(&h);
    }
}

static void test_random_against_model(void **state)
{
    (void)state;
    run_against_model(0);
}

static void test_lanes_against_model(void **state)
{
    (void)state;
    run_against_model(1);
}

/* A node moved in memory (theap_move) is found at its new place, in a lane and in the heap. */
static void test_move(void **state)
{
    (void)state;
    struct theap h;
    theap_init(&h);
    struct theap_node a = {10, 1, THEAP_NONE, NULL, NULL, 0},
                      b = {20, 2, THEAP_NONE, NULL, NULL, 0},
                      c = {30, 3, THEAP_NONE, NULL, NULL, 0}, d = {5, 4, THEAP_NONE, NULL, NULL, 0};
    assert_true(theap_push_lane(&h, &a, 0));
    assert_true(theap_push_lane(&h, &b, 0));
    assert_true(theap_push_lane(&h, &c, 0));
    assert_true(theap_push(&h, &d));
    /* Each moved as an entry is: its bytes copied, the old place overwritten. */
    struct theap_node a2 = a;
    memset(&a, 0xff, sizeof a);
    theap_move(&h, &a, &a2);
    struct theap_node b2 = b;
    memset(&b, 0xff, sizeof b);
    theap_move(&h, &b, &b2);
    struct theap_node d2 = d;
    memset(&d, 0xff, sizeof d);
    theap_move(&h, &d, &d2);
    assert_ptr_equal(theap_top(&h), &d2);
    theap_remove(&h, &d2);
    assert_ptr_equal(theap_top(&h), &a2);
    theap_remove(&h, &b2);
    theap_remove(&h, &a2);
    assert_ptr_equal(theap_top(&h), &c);
    theap_remove(&h, &c);
    assert_null(theap_top(&h));
    assert_int_equal(h.n_all, 0);
    theap_fini(&h);
}

/* Deadlines far out of order in one lane: a lane's walk back is bounded, the rest goes to the
 * heap, and the order stays exact. */
/* theap_may_have_before answers from the keys: false when every deadline is at or after the
 * bound, in the heap and in the lanes alike. */
static void test_may_have_before(void **state)
{
    (void)state;
    struct theap h;
    theap_init(&h);
    struct theap_node a = {.at = 20, .tie = 1}, b = {.at = 30, .tie = 2};
    assert_false(theap_may_have_before(&h, INT64_MAX));
    assert_true(theap_push(&h, &a));
    assert_true(theap_push_lane(&h, &b, 1));
    assert_false(theap_may_have_before(&h, 20));
    assert_true(theap_may_have_before(&h, 21));
    theap_remove(&h, &a);
    assert_false(theap_may_have_before(&h, 30));
    assert_true(theap_may_have_before(&h, 31));
    theap_remove(&h, &b);
    assert_false(theap_may_have_before(&h, INT64_MAX));
    theap_fini(&h);
}

static void test_lane_walk_bounded(void **state)
{
    (void)state;
    enum { M = 200 };
    static struct theap_node nodes[M];
    struct theap h;
    theap_init(&h);
    for (int i = 0; i < M; i++) {
        nodes[i] = (struct theap_node){M - i, (uint64_t)i, THEAP_NONE, NULL, NULL, 0};
        assert_true(theap_push_lane(&h, &nodes[i], 1));
    }
    assert_true(h.n > 0); /* some went to the heap */
    assert_true(h.n < M); /* the first ones stayed in the lane */
    for (int i = M - 1; i >= 0; i--) {
        assert_ptr_equal(theap_top(&h), &nodes[i]);
        theap_remove(&h, &nodes[i]);
    }
    assert_null(theap_top(&h));
    theap_fini(&h);
}

static void test_empty_and_fini(void **state)
{
    (void)state;
    struct theap h;
    theap_init(&h);
    assert_null(theap_top(&h));
    struct theap_node a = {.at = 5, .tie = 1, .idx = THEAP_NONE},
                      b = {.at = 5, .tie = 0, .idx = THEAP_NONE};
    assert_true(theap_push(&h, &a));
    assert_true(theap_push(&h, &b));
    assert_ptr_equal(theap_top(&h), &b); /* equal deadlines: the smaller tie first */
    b.at = 6;
    theap_update(&h, &b);
    assert_ptr_equal(theap_top(&h), &a);
    theap_fini(&h);
    assert_true(a.idx == THEAP_NONE && b.idx == THEAP_NONE);
    assert_null(theap_top(&h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_model), cmocka_unit_test(test_empty_and_fini),
        cmocka_unit_test(test_lanes_against_model),  cmocka_unit_test(test_move),
        cmocka_unit_test(test_may_have_before),      cmocka_unit_test(test_lane_walk_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
