/* addr_set.c: a bounded open-addressing set of addresses. The addresses are held in the slots
 * themselves (no item to point to), so this small set keeps its own probing, with the keyed
 * hash of util/htab.h: crafted addresses cannot pile onto one probe sequence. */
#include "util/addr_set.h"

#include <stdlib.h>

#include "util/htab.h"

void addr_set_init(struct addr_set *s, size_t max)
{
    s->slots = NULL;
    s->cap = s->n = 0;
    s->max = max;
    s->overflow = false;
}

static struct nt_addr *find_slot(struct nt_addr *slots, size_t cap, const struct nt_addr *a)
{
    struct htab_hasher h;
    htab_hasher_init(&h);
    htab_hasher_addr(&h, a);
    size_t i = (size_t)htab_hasher_end(&h) & (cap - 1);
    while (slots[i].family != NT_AF_NONE && !nt_addr_eq(&slots[i], a))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static bool grow(struct addr_set *s)
{
    size_t nc = s->cap ? s->cap * 2 : 4; /* most sets hold an address or two */
    struct nt_addr *ns = calloc(nc, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].family != NT_AF_NONE)
            *find_slot(ns, nc, &s->slots[i]) = s->slots[i];
    free(s->slots);
    s->slots = ns;
    s->cap = nc;
    return true;
}

bool addr_set_add(struct addr_set *s, const struct nt_addr *a)
{
    if (a->family == NT_AF_NONE)
        return false;
    /* Full and already overflowed: whether a is in the set or not, nothing changes and the
     * answer is false, so it is not looked up (a busy server's set is full after 1,024
     * clients, and then every lookup from another client would probe it). */
    if (s->n >= s->max && s->overflow)
        return false;
    if (s->cap) {
        struct nt_addr *slot = find_slot(s->slots, s->cap, a);
        if (slot->family != NT_AF_NONE)
            return false;
    }
    if (s->n >= s->max) {
        s->overflow = true;
        return false;
    }
    /* Keep the load under one half so probes stay short. */
    if ((s->n + 1) * 2 > s->cap && !grow(s)) {
        s->overflow = true;
        return false;
    }
    *find_slot(s->slots, s->cap, a) = *a;
    s->n++;
    return true;
}

void addr_set_fini(struct addr_set *s)
{
    free(s->slots);
    addr_set_init(s, s->max);
}
