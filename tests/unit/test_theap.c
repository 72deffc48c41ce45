/* test_theap.c: the deadline heap against a brute-force model: whatever mix of pushes, deadlines
 * moved earlier or later (the heap defers the later ones), removals and pops, the top is always
 * the node with the smallest (at, tie), and every node comes out exactly once. */
#include "testutil.h"

#include <stdlib.h>

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

static void test_random_against_model(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        static struct theap_node nodes[N];
        bool live[N] = {false};
        struct theap h;
        theap_init(&h);
        size_t n_live = 0;
        uint64_t seq = 0;
        /* Few distinct deadlines, so ties (broken by tie) are common. */
        int64_t span = round % 2 ? 50 : 1000000;
        for (int step = 0; step < 20000; step++) {
            int i = (int)(rnd() % N);
            unsigned op = (unsigned)(rnd() % 10);
            if (!live[i]) {
                nodes[i].at = (int64_t)(rnd() % (uint64_t)span);
                nodes[i].tie = ++seq;
                assert_true(theap_push(&h, &nodes[i]));
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
            } else {
                struct theap_node *t = theap_top(&h);
                assert_ptr_equal(t, model_min(nodes, live));
                if (op == 9 && t) {
                    theap_remove(&h, t);
                    live[t - nodes] = false;
                    n_live--;
                }
            }
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
        theap_fini(&h);
    }
}

static void test_empty_and_fini(void **state)
{
    (void)state;
    struct theap h;
    theap_init(&h);
    assert_null(theap_top(&h));
    struct theap_node a = {5, 1, THEAP_NONE}, b = {5, 0, THEAP_NONE};
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
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_empty_and_fini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
