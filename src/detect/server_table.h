/* server_table.h: a bounded table of per-server items for rules that measure each DNS server
 * (dns.flood, dns.slow): found by the binary key (address, port, transport) through the seeded
 * hash table (util/htab.h), kept in the order of their first use (what rules iterate, so no
 * output depends on the hash seed).
 *
 * At most `max` servers are measured. A server past the bound is remembered only by its keyed
 * hash (so that it is counted once; up to SERVER_TABLE_IGNORED_KEPT of them, past that each use
 * of one not remembered counts as a server again) and never silently ignored: each such server
 * adds 1 to the rule's limit counter `servers_counter`, and each use of one (a lookup, an
 * answer) 1 to `uses_counter` (rule_count_limit; the table's own counters hold the same
 * numbers). */
#ifndef NT_DETECT_SERVER_TABLE_H
#define NT_DETECT_SERVER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "detect/rule.h"
#include "util/addr.h"
#include "util/htab.h"

/* The head of every item: the server it measures. Items are zeroed when made, then get this. */
struct server_key {
    struct nt_addr server;
    uint16_t port;
    uint8_t transport;
};

/* Servers past the bound remembered by their keyed hash: 1,048,576 (a table of about 32 MiB).
 * Two servers of the same 64-bit hash (about n^2 / 2^65) would count as one. */
#define SERVER_TABLE_IGNORED_KEPT 1048576

/* Slots of a table's cache of recent items (a power of two). */
#define SERVER_TABLE_CACHE 16

struct server_table {
    struct htab index;   /* struct server_id (internal) by key: the servers within the bound */
    struct htab ignored; /* the keyed hashes of servers past it (a mark, no item) */
    void **items;       /* measured servers, in the order of their first use */
    size_t n, cap, max; /* items held, allocated, at most */
    size_t item_size;   /* bytes of an item, its struct server_key first */
    const char *servers_counter, *uses_counter; /* rule_count_limit names (static strings) */
    uint64_t servers_ignored, uses_ignored;     /* past max: distinct servers, their uses */
    /* Recent measured servers' items by their key's hash: most lookups go to a few servers,
     * found then without the index (a cache: any slot may be overwritten; items live until
     * server_table_fini). */
    void *cache[SERVER_TABLE_CACHE];
};

/* An empty table of items of item_size bytes (at least sizeof(struct server_key)), at most max
 * of them. */
void server_table_init(struct server_table *t, size_t item_size, size_t max,
                       const char *servers_counter, const char *uses_counter);

/* The item of this server, made (zeroed, its key set) on first use. NULL when the server is past
 * the bound (counted, through rc when rc is not NULL) or out of memory (tried again at its next
 * use). */
void *server_table_get(struct rule_ctx *rc, struct server_table *t, const struct nt_addr *server,
                       uint16_t port, uint8_t transport);
/* The same with the key's hash given: h must be the keyed hash of htab_hasher_addr(server),
 * htab_hasher_u16(port), htab_hasher_u8(transport), which is rule_service_hash of a lookup. */
void *server_table_get_h(struct rule_ctx *rc, struct server_table *t, const struct nt_addr *server,
                         uint16_t port, uint8_t transport, uint64_t h);
/* The item of the service of l, the lookup rc's rule is given (on_dns_lookup): from the rule's
 * slot in the detector's memo of that service (rule_service_memo) when it holds it, else from
 * the table by rule_service_hash, and then kept in the slot. A server past the bound has no
 * item, so each of its lookups is counted here as server_table_get_h counts it. For a rule with
 * one server table (the slot is the rule's). */
static inline void *server_table_of_lookup(struct rule_ctx *rc, struct server_table *t,
                                           const struct dns_lookup *l)
{
    void **memo = rule_service_memo(rc, l);
    if (memo && *memo)
        return *memo;
    void *item = server_table_get_h(rc, t, &l->server, l->server_port, l->transport,
                                    rule_service_hash(rc, l));
    if (memo)
        *memo = item;
    return item;
}

static inline size_t server_table_count(const struct server_table *t)
{
    return t->n;
}
/* The i-th item made (i < server_table_count). */
static inline void *server_table_at(const struct server_table *t, size_t i)
{
    return t->items[i];
}

/* Frees every item (item_free, when not NULL, first releases what an item owns; the item itself
 * is freed here) and the index; the table is empty and can be initialised again. */
void server_table_fini(struct server_table *t, void (*item_free)(void *item));

#endif
