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
        h->v[i]->idx = THEAP_NONE;
    free(h->v);
    theap_init(h);
}

static bool less(const struct theap_node *a, const struct theap_node *b)
{
    return a->at < b->at || (a->at == b->at && a->tie < b->tie);
}

static void place(struct theap *h, size_t i, struct theap_node *x)
{
    h->v[i] = x;
    x->idx = i;
}

static void sift_up(struct theap *h, size_t i)
{
    struct theap_node *x = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(x, h->v[p]))
            break;
        place(h, i, h->v[p]);
        i = p;
    }
    place(h, i, x);
}

static void sift_down(struct theap *h, size_t i)
{
    struct theap_node *x = h->v[i];
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= h->n)
            break;
        size_t m = l + 1 < h->n && less(h->v[l + 1], h->v[l]) ? l + 1 : l;
        if (!less(h->v[m], x))
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
        struct theap_node **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    place(h, h->n++, node);
    sift_up(h, node->idx);
    return true;
}

void theap_update(struct theap *h, struct theap_node *node)
{
    size_t i = node->idx;
    if (i == THEAP_NONE || i >= h->n)
        return;
    if (i > 0 && less(node, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

void theap_remove(struct theap *h, struct theap_node *node)
{
    size_t i = node->idx;
    if (i == THEAP_NONE || i >= h->n)
        return;
    node->idx = THEAP_NONE;
    struct theap_node *last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    theap_update(h, last);
}
