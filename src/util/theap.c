/* theap.c: binary min-heap of intrusive deadline nodes (see theap.h). */
#include "util/theap.h"

#include <stdlib.h>

void theap_init(struct theap *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
}

void theap_fini(struct theap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i].node->idx = THEAP_NONE;
    free(h->v);
    theap_init(h);
}

static bool less(int64_t a_at, uint64_t a_tie, int64_t b_at, uint64_t b_tie)
{
    return a_at < b_at || (a_at == b_at && a_tie < b_tie);
}

static bool ent_less(const struct theap_ent *a, const struct theap_ent *b)
{
    return less(a->at, a->tie, b->at, b->tie);
}

static void place(struct theap *h, size_t i, struct theap_ent x)
{
    h->v[i] = x;
    x.node->idx = i;
}

static void sift_up(struct theap *h, size_t i)
{
    struct theap_ent x = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ent_less(&x, &h->v[p]))
            break;
        place(h, i, h->v[p]);
        i = p;
    }
    place(h, i, x);
}

static void sift_down(struct theap *h, size_t i)
{
    struct theap_ent x = h->v[i];
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= h->n)
            break;
        size_t m = l + 1 < h->n && ent_less(&h->v[l + 1], &h->v[l]) ? l + 1 : l;
        if (!ent_less(&h->v[m], &x))
            break;
        place(h, i, h->v[m]);
        i = m;
    }
    place(h, i, x);
}

bool theap_push(struct theap *h, struct theap_node *node)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct theap_ent *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    place(h, i, (struct theap_ent){node->at, node->tie, node});
    sift_up(h, i);
    return true;
}

void theap_update(struct theap *h, struct theap_node *node)
{
    size_t i = node->idx;
    if (i == THEAP_NONE || i >= h->n)
        return;
    struct theap_ent *e = &h->v[i];
    /* Later than the key the heap holds: leave it (theap_top sifts it when it comes up). */
    if (!less(node->at, node->tie, e->at, e->tie))
        return;
    e->at = node->at;
    e->tie = node->tie;
    sift_up(h, i);
}

void theap_move(struct theap *h, const struct theap_node *from, struct theap_node *to)
{
    size_t i = to->idx;
    if (i != THEAP_NONE && i < h->n && h->v[i].node == from)
        h->v[i].node = to;
}

void theap_remove(struct theap *h, struct theap_node *node)
{
    size_t i = node->idx;
    if (i == THEAP_NONE || i >= h->n)
        return;
    node->idx = THEAP_NONE;
    struct theap_ent last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    if (i > 0 && ent_less(&h->v[i], &h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

struct theap_node *theap_top(struct theap *h)
{
    while (h->n) {
        struct theap_ent *e = &h->v[0];
        struct theap_node *node = e->node;
        if (e->at == node->at && e->tie == node->tie)
            return node;
        /* A deadline that moved later: give the top its real key and sift it down. */
        e->at = node->at;
        e->tie = node->tie;
        sift_down(h, 0);
    }
    return NULL;
}
