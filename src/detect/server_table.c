/* server_table.c: see server_table.h. */
#include "detect/server_table.h"

#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"

/* A server seen: its item, or NULL when it is past the bound. */
struct server_id {
    struct server_key key;
    void *item;
};

void server_table_init(struct server_table *t, size_t item_size, size_t max,
                       const char *servers_counter, const char *uses_counter)
{
    memset(t, 0, sizeof *t);
    htab_init(&t->index);
    htab_init(&t->ignored);
    t->item_size = item_size < sizeof(struct server_key) ? sizeof(struct server_key) : item_size;
    t->max = max;
    t->servers_counter = servers_counter;
    t->uses_counter = uses_counter;
}

static uint64_t key_hash(const struct server_key *k)
{
    struct htab_hasher h;
    htab_hasher_init(&h);
    htab_hasher_addr(&h, &k->server);
    htab_hasher_u16(&h, k->port);
    htab_hasher_u8(&h, k->transport);
    return htab_hasher_end(&h);
}

static bool key_eq(const void *item, const void *key)
{
    const struct server_id *id = item;
    const struct server_key *k = key;
    return id->key.port == k->port && id->key.transport == k->transport &&
           nt_addr_eq(&id->key.server, &k->server);
}

/* Makes the item of a new server within the bound; NULL out of memory. */
static void *item_new(struct server_table *t, const struct server_key *k)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        void **ni = realloc(t->items, nc * sizeof *ni);
        if (!ni)
            return NULL;
        t->items = ni;
        t->cap = nc;
    }
    struct server_key *item = calloc(1, t->item_size);
    if (!item)
        return NULL;
    *item = *k;
    t->items[t->n++] = item;
    return item;
}

void *server_table_get(struct rule_ctx *rc, struct server_table *t, const struct nt_addr *server,
                       uint16_t port, uint8_t transport)
{
    struct server_key k;
    memset(&k, 0, sizeof k);
    k.server = *server;
    k.port = port;
    k.transport = transport;
    return server_table_get_h(rc, t, server, port, transport, key_hash(&k));
}

void *server_table_get_h(struct rule_ctx *rc, struct server_table *t, const struct nt_addr *server,
                         uint16_t port, uint8_t transport, uint64_t h)
{
    struct server_key *cached = t->cache[h & (SERVER_TABLE_CACHE - 1)];
    if (cached && cached->port == port && cached->transport == transport &&
        nt_addr_eq(&cached->server, server))
        return cached;
    struct server_key k;
    memset(&k, 0, sizeof k);
    k.server = *server;
    k.port = port;
    k.transport = transport;
    struct server_id *id = htab_get(&t->index, h, key_eq, &k);
    if (!id && t->n >= t->max) {
        /* Past the bound: only the key's hash is remembered, to count the server once. */
        if (htab_mark_new(&t->ignored, h, SERVER_TABLE_IGNORED_KEPT)) { /* once a server */
            t->servers_ignored++;
            if (rc)
                rule_count_limit(rc, t->servers_counter, 1);
        }
        t->uses_ignored++;
        if (rc)
            rule_count_limit(rc, t->uses_counter, 1);
        return NULL;
    }
    if (!id) {
        id = calloc(1, sizeof *id);
        if (!id)
            return NULL;
        id->key = k;
        if (htab_insert(&t->index, h, id) < 0) {
            free(id);
            return NULL;
        }
    }
    if (!id->item && t->n < t->max)
        id->item = item_new(t, &k); /* NULL out of memory: tried again at the next use */
    else if (!id->item) {
        /* Within the bound but out of memory until the table filled: ignored from now on. */
        t->uses_ignored++;
        if (rc)
            rule_count_limit(rc, t->uses_counter, 1);
    }
    if (id->item) /* only measured servers: the uses of the others are counted above */
        t->cache[h & (SERVER_TABLE_CACHE - 1)] = id->item;
    return id->item;
}

void server_table_fini(struct server_table *t, void (*item_free)(void *item))
{
    for (size_t i = 0; i < t->n; i++) {
        if (item_free)
            item_free(t->items[i]);
        free(t->items[i]);
    }
    free(t->items);
    struct htab_iter it;
    for (struct server_id *id = htab_first(&t->index, &it); id; id = htab_next(&t->index, &it))
        free(id);
    htab_fini(&t->index);
    htab_fini(&t->ignored);
    t->items = NULL;
    t->n = t->cap = 0;
    memset(t->cache, 0, sizeof t->cache);
}
