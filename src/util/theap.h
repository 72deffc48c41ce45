/* theap.h: a binary min-heap of deadlines, intrusive (the node lives inside the caller's entry),
 * so that state expires in time order whatever the order it was created in. Ties are broken by
 * `tie` (e.g. creation order), so the order of expiry is deterministic.
 *
 * The heap's array holds each node's key beside its pointer, so sifting compares without
 * reading the nodes (on a busy capture they are hundreds of thousands of cache misses). A
 * deadline that moves later is not sifted at once: the array keeps the earlier key, which
 * still orders the heap correctly as a lower bound, and theap_top sifts such an entry down
 * when it reaches the top. So theap_top always returns the node with the smallest (at, tie),
 * exactly as if every update had been sifted. */
#ifndef NT_UTIL_THEAP_H
#define NT_UTIL_THEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THEAP_NONE SIZE_MAX

struct theap_node {
    int64_t at;   /* deadline */
    uint64_t tie; /* second key: smaller first */
    size_t idx;   /* position in the heap, THEAP_NONE when not in it */
};

/* One place in the heap: the key it is ordered by (never later than the node's own) and the
 * node. */
struct theap_ent {
    int64_t at;
    uint64_t tie;
    struct theap_node *node;
};

struct theap {
    struct theap_ent *v;
    size_t n, cap;
};

void theap_init(struct theap *h);
void theap_fini(struct theap *h);
/* Adds node (its at and tie set). Returns false when out of memory (node not added). */
bool theap_push(struct theap *h, struct theap_node *node);
/* Moves node to its place after its deadline (at) changed; tie must not change. */
void theap_update(struct theap *h, struct theap_node *node);
/* Takes node out (a no-op when it is not in the heap). */
void theap_remove(struct theap *h, struct theap_node *node);
/* The node's entry moved in memory (its bytes copied from `from` to `to`): the heap points at
 * `to` from now on. */
void theap_move(struct theap *h, const struct theap_node *from, struct theap_node *to);
/* The node with the earliest deadline (ties by tie), or NULL when empty. */
struct theap_node *theap_top(struct theap *h);

#endif
