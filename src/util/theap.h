/* theap.h: a binary min-heap of deadlines, intrusive (the node lives inside the caller's entry),
 * so that state expires in time order whatever the order it was created in. Ties are broken by
 * `tie` (e.g. creation order), so the order of expiry is deterministic. */
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

struct theap {
    struct theap_node **v;
    size_t n, cap;
};

void theap_init(struct theap *h);
void theap_fini(struct theap *h);
/* Adds node (its at and tie set). Returns false when out of memory (node not added). */
bool theap_push(struct theap *h, struct theap_node *node);
/* Moves node to its place after its deadline changed. */
void theap_update(struct theap *h, struct theap_node *node);
/* Takes node out (a no-op when it is not in the heap). */
void theap_remove(struct theap *h, struct theap_node *node);
/* The earliest deadline, or NULL when empty. */
static inline struct theap_node *theap_top(const struct theap *h)
{
    return h->n ? h->v[0] : NULL;
}

#endif
