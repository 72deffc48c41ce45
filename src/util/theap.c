/* theap.c: deadlines in a binary min-heap and in sorted lanes (see theap.h). */
#include "util/theap.h"

#include <stdlib.h>

void theap_init(struct theap *h)
{
    h->v = NULL;
    h->n = h->cap = h->n_all = 0;
    for (unsigned i = 0; i < THEAP_LANES; i++)
        h->lane[i].head = h->lane[i].tail = NULL;
}

void theap_fini(struct theap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i].node->idx = THEAP_NONE;
    for (unsigned i = 0; i < THEAP_LANES; i++)
        for (struct theap_node *x = h->lane[i].head; x; x = x->lnext)
            x->idx = THEAP_NONE;
    free(h->v);
    theap_init(h);
}

static bool less(int64_t a_at, uint64_t a_tie, int64_t b_at, uint64_t b_tie)
{
    return a_at < b_at || (a_at == b_at && a_tie < b_tie);
}

static bool node_less(const struct theap_node *a, const struct theap_node *b)
{
    return less(a->at, a->tie, b->at, b->tie);
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

/* Room in the heap's array for every node (see struct theap). */
static bool reserve(struct theap *h)
{
    if (h->n_all < h->cap)
        return true;
    size_t cap = h->cap ? h->cap * 2 : 256;
    struct theap_ent *v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return false;
    h->v = v;
    h->cap = cap;
    return true;
}

static void heap_add(struct theap *h, struct theap_node *node)
{
    size_t i = h->n++;
    place(h, i, (struct theap_ent){node->at, node->tie, node});
    sift_up(h, i);
}

/* Puts node (in neither store, counted in n_all) into lane ln at its place, or into the heap
 * when that place is too far from the tail. */
static void lane_add(struct theap *h, struct theap_node *node, unsigned ln)
{
    if (ln >= THEAP_LANES) {
        heap_add(h, node);
        return;
    }
    struct theap_lane *L = &h->lane[ln];
    struct theap_node *p = L->tail;
    unsigned walk = 0;
    while (p && node_less(node, p)) {
        if (++walk > THEAP_LANE_WALK) {
            heap_add(h, node);
            return;
        }
        p = p->lprev;
    }
    node->lane = (uint8_t)ln;
    node->idx = THEAP_IN_LANE;
    node->lprev = p;
    node->lnext = p ? p->lnext : L->head;
    if (node->lnext)
        node->lnext->lprev = node;
    else
        L->tail = node;
    if (p)
        p->lnext = node;
    else
        L->head = node;
}

static void lane_unlink(struct theap *h, struct theap_node *node)
{
    struct theap_lane *L = &h->lane[node->lane];
    if (node->lprev)
        node->lprev->lnext = node->lnext;
    else
        L->head = node->lnext;
    if (node->lnext)
        node->lnext->lprev = node->lprev;
    else
        L->tail = node->lprev;
    node->lprev = node->lnext = NULL;
}

/* Takes node out of the heap's array (node in it). */
static void heap_take(struct theap *h, struct theap_node *node)
{
    size_t i = node->idx;
    struct theap_ent last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    if (i > 0 && ent_less(&h->v[i], &h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

/* Is node in h (its heap or one of its lanes)? */
static bool held(const struct theap *h, const struct theap_node *node)
{
    if (node->idx == THEAP_IN_LANE)
        return node->lane < THEAP_LANES;
    return node->idx < h->n && h->v[node->idx].node == node;
}

bool theap_push(struct theap *h, struct theap_node *node)
{
    return theap_push_lane(h, node, THEAP_NO_LANE);
}

bool theap_push_lane(struct theap *h, struct theap_node *node, unsigned lane)
{
    if (!reserve(h))
        return false;
    h->n_all++;
    lane_add(h, node, lane);
    return true;
}

void theap_update(struct theap *h, struct theap_node *node)
{
    size_t i = node->idx;
    if (i == THEAP_IN_LANE) {
        unsigned ln = node->lane;
        lane_unlink(h, node);
        lane_add(h, node, ln);
        return;
    }
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

/* Takes a node the heap holds out of its lane or its heap slot (its idx is left stale). */
static void detach(struct theap *h, struct theap_node *node)
{
    if (node->idx == THEAP_IN_LANE)
        lane_unlink(h, node);
    else
        heap_take(h, node);
}

void theap_set_lane(struct theap *h, struct theap_node *node, unsigned lane)
{
    if (!held(h, node))
        return;
    detach(h, node);
    lane_add(h, node, lane);
}

void theap_move(struct theap *h, const struct theap_node *from, struct theap_node *to)
{
    size_t i = to->idx;
    if (i == THEAP_IN_LANE) {
        if (to->lane >= THEAP_LANES)
            return;
        struct theap_lane *L = &h->lane[to->lane];
        if ((to->lprev ? to->lprev->lnext : L->head) != from)
            return;
        if (to->lprev)
            to->lprev->lnext = to;
        else
            L->head = to;
        if (to->lnext)
            to->lnext->lprev = to;
        else
            L->tail = to;
        return;
    }
    if (i != THEAP_NONE && i < h->n && h->v[i].node == from)
        h->v[i].node = to;
}

void theap_remove(struct theap *h, struct theap_node *node)
{
    if (!held(h, node))
        return;
    detach(h, node);
    node->idx = THEAP_NONE;
    h->n_all--;
}

struct theap_node *theap_top(struct theap *h)
{
    struct theap_node *best = NULL;
    while (h->n) {
        struct theap_ent *e = &h->v[0];
        struct theap_node *node = e->node;
        if (e->at == node->at && e->tie == node->tie) {
            best = node;
            break;
        }
        /* A deadline that moved later: give the top its real key and sift it down. */
        e->at = node->at;
        e->tie = node->tie;
        sift_down(h, 0);
    }
    for (unsigned i = 0; i < THEAP_LANES; i++) {
        struct theap_node *x = h->lane[i].head;
        if (x && (!best || node_less(x, best)))
            best = x;
    }
    return best;
}
