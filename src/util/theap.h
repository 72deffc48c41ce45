/* theap.h: deadlines in time order, intrusive (the node lives inside the caller's entry), so
 * that state expires in time order whatever the order it was created in. Ties are broken by
 * `tie` (e.g. creation order), so the order of expiry is deterministic.
 *
 * Two stores, one order. The binary min-heap takes any deadline. Its array holds each node's
 * key beside its pointer, so sifting compares without reading the nodes (on a busy capture they
 * are hundreds of thousands of cache misses). A deadline that moves later is not sifted at
 * once: the array keeps the earlier key, which still orders the heap correctly as a lower
 * bound, and theap_top sifts such an entry down when it reaches the top.
 *
 * Lanes (THEAP_LANES) are for deadlines that are "now plus a fixed duration" (a timeout, a
 * guard): they come nearly in time order, so each lane is a list kept sorted by (at, tie),
 * where a node is put by a short walk back from the tail and removed from anywhere at no cost,
 * with no sifting at all. A node whose place is more than THEAP_LANE_WALK nodes from the tail
 * (clock steps, deadlines made out of order) goes to the heap instead, so no input can make
 * the lanes quadratic. theap_top compares the heap's top with the head of each lane: it always
 * returns the node with the smallest (at, tie), exactly as one heap would. */
#ifndef NT_UTIL_THEAP_H
#define NT_UTIL_THEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THEAP_NONE      SIZE_MAX
#define THEAP_IN_LANE   (SIZE_MAX - 1) /* idx of a node in a lane */
#define THEAP_LANES     3
#define THEAP_NO_LANE   255u /* theap_push_lane: the heap */
#define THEAP_LANE_WALK 32   /* longest walk back from a lane's tail */

struct theap_node {
    int64_t at;   /* deadline */
    uint64_t tie; /* second key: smaller first */
    size_t idx;   /* position in the heap, THEAP_IN_LANE, THEAP_NONE when in neither */
    struct theap_node *lprev, *lnext; /* in a lane: its neighbours (earlier, later) */
    uint8_t lane;                     /* in a lane: which */
};

/* One place in the heap: the key it is ordered by (never later than the node's own) and the
 * node. */
struct theap_ent {
    int64_t at;
    uint64_t tie;
    struct theap_node *node;
};

struct theap_lane {
    struct theap_node *head, *tail; /* earliest, latest */
};

struct theap {
    struct theap_ent *v;
    size_t n, cap; /* nodes in the heap; cap is kept at least n_all, so a node can always move
                      from a lane into the heap without allocating */
    size_t n_all;  /* nodes in the heap and the lanes */
    struct theap_lane lane[THEAP_LANES];
};

void theap_init(struct theap *h);
void theap_fini(struct theap *h);
/* Adds node (its at and tie set) to the heap. Returns false when out of memory (node not
 * added). */
bool theap_push(struct theap *h, struct theap_node *node);
/* Adds node to lane `lane` (< THEAP_LANES; THEAP_NO_LANE: the heap). False out of memory. */
bool theap_push_lane(struct theap *h, struct theap_node *node, unsigned lane);
/* Moves node to its place after its deadline (at) changed; tie must not change. */
void theap_update(struct theap *h, struct theap_node *node);
/* Moves node (in h) to lane `lane` (or THEAP_NO_LANE) at its place by its current (at, tie),
 * which may have changed; never allocates. */
void theap_set_lane(struct theap *h, struct theap_node *node, unsigned lane);
/* Takes node out (a no-op when it is not in h). */
void theap_remove(struct theap *h, struct theap_node *node);
/* The node's entry moved in memory (its bytes copied from `from` to `to`): h points at `to`
 * from now on. */
void theap_move(struct theap *h, const struct theap_node *from, struct theap_node *to);
/* The node with the earliest deadline (ties by tie), or NULL when empty. */
struct theap_node *theap_top(struct theap *h);
/* False when no node's deadline is before `before`, read from the keys alone (the heap's top
 * key is never later than any node's deadline in the heap; a lane's head is its earliest), with
 * no call and no sifting: the usual answer of an expiry loop's test on a packet that closes
 * nothing. True when theap_top may return such a node (it decides). */
static inline bool theap_may_have_before(const struct theap *h, int64_t before)
{
    if (h->n && h->v[0].at < before)
        return true;
    for (unsigned i = 0; i < THEAP_LANES; i++)
        if (h->lane[i].head && h->lane[i].head->at < before)
            return true;
    return false;
}

#endif
