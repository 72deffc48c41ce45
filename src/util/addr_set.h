/* addr_set.h: a bounded set of distinct addresses (open addressing), for counting clients. */
#ifndef NT_UTIL_ADDR_SET_H
#define NT_UTIL_ADDR_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "util/addr.h"

struct addr_set {
    struct nt_addr *slots; /* family NT_AF_NONE marks an empty slot */
    size_t cap;            /* power of two, or 0 */
    size_t n;              /* distinct addresses held */
    size_t max;            /* past this many, new addresses are only counted as overflow */
    bool overflow;         /* at least one address was not kept */
};

/* An empty set that keeps at most max addresses. */
void addr_set_init(struct addr_set *s, size_t max);
/* Adds a; returns true when it was not in the set (and was kept). Out of memory or a full set
 * sets overflow. */
bool addr_set_add(struct addr_set *s, const struct nt_addr *a);
void addr_set_fini(struct addr_set *s);

#endif
