/* rcode_table.h: what the rules about DNS error answers (dns.servfail, dns.refused) need to know
 * about the lookups a server answered: per service (server, port, transport), per (service,
 * client) and per (service, question), how many lookups got a usable answer and how many got
 * each tracked error rcode.
 *
 * The detector keeps one table for every rule (rule_rcode_table) and notes each QUERY lookup
 * once; it used to be one table per rule with the same keys, hashed and counted twice. Each
 * rule reads its view (enum rcode_view): the keys of the lookups that rule used to count (a
 * usable answer, or the view's own rcode), in the order that rule would have made them, with
 * the view's own bound (RCODE_VIEW_MAX_ENTRIES keys; past it the lookups of new keys are only
 * counted in the view's `dropped`). A key is in a view from the first lookup that concerns the
 * view while the view has room; the counts of usable answers are shared, which is exact: every
 * usable answer concerns every view, so a key is in each view that has it from its first usable
 * answer on. Entries are never removed; the hash table is only their index. */
#ifndef NT_DETECT_RCODE_TABLE_H
#define NT_DETECT_RCODE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "util/htab.h"

/* The default bound of each view (--bound detect.rcode_keys=N). */
#define RCODE_VIEW_MAX_ENTRIES 65536

/* The error rcodes tracked, one view each. */
enum rcode_view { RCODE_VIEW_SERVFAIL, RCODE_VIEW_REFUSED, RCODE_VIEWS };

enum rcode_kind { RCODE_KEY_SERVER = 1, RCODE_KEY_CLIENT, RCODE_KEY_NAME };

/* A question's name up to this many bytes (with its NUL) is kept in its entry. */
#define RCODE_NAME_INLINE 23

/* The fields a lookup compares and counts come first, so that a lookup reads one or two cache
 * lines of its entry (and no other memory for a short name); what only on_finish reads last. */
struct rcode_entry {
    uint8_t kind; /* enum rcode_kind */
    uint8_t transport;
    uint16_t port;
    uint8_t views; /* bit v set: the entry is in view v */
    /* RCODE_KEY_NAME: the question (qname NULL without one) */
    bool has_question;
    uint16_t qtype;
    struct nt_addr server;
    union {
        struct nt_addr client;                /* RCODE_KEY_CLIENT */
        char qname_inline[RCODE_NAME_INLINE]; /* RCODE_KEY_NAME: a short name, qname points here */
    };
    char *qname; /* RCODE_KEY_NAME: qname_inline, or a longer name in the table's name blocks */
    uint64_t ok; /* lookups with a usable answer (not SERVFAIL/REFUSED/NOTIMP/FORMERR) */
    int64_t ok_min_rtt_us; /* fastest usable answer (-1 when none) */
    struct nt_time first_ok, last_ok;
    uint64_t ok_aa; /* of those, with AA set: the server's own data, no upstream needed */
    uint64_t ok_ad; /* of those, with AD set: the server validated DNSSEC */
    uint64_t bad[RCODE_VIEWS]; /* lookups answered with the view's rcode */
    /* RCODE_KEY_CLIENT and RCODE_KEY_NAME: the entry of their service, when it existed as they
     * were made (a lookup notes its service's key first); NULL otherwise */
    const struct rcode_entry *service;
};

struct rcode_view_state {
    struct rcode_entry **entries; /* in the view's creation order */
    size_t n, cap;
    uint64_t dropped; /* lookups of keys not kept because the view was full */
};

struct rcode_table {
    struct htab index;
    struct rcode_view_state views[RCODE_VIEWS];
    void **blocks; /* every slab and name block, freed with the table */
    size_t n_blocks, cap_blocks;
    struct rcode_entry *slab; /* the current slab, slab_used of its entries used */
    size_t slab_used;
    char *names; /* the current name block, names_used of its bytes used */
    size_t names_used, names_size;
    size_t view_max; /* keys each view keeps; 0: RCODE_VIEW_MAX_ENTRIES */
};

/* An empty table (a zeroed one is empty too). */
void rcode_table_init(struct rcode_table *t);
void rcode_table_free(struct rcode_table *t);

/* Counts an answered lookup in every view it concerns: a usable answer in all of them, an error
 * rcode in its own view; other outcomes and rcodes are ignored. `service` is the hasher state
 * after the lookup's service (rule_service_hasher), `qname_hash` the keyed hash of its question
 * name (rule_qname_hash; any hash under which equal names are equal does). */
void rcode_table_note(struct rcode_table *t, const struct dns_lookup *l,
                      const struct htab_hasher *service, uint64_t qname_hash);

/* rcode_table_note in steps, so that the memory a lookup's keys touch (a busy resolver's table
 * is far larger than the caches) is fetched while other work runs: rcode_table_prepare finds
 * what the lookup concerns and hashes its keys, and asks for their index slots;
 * rcode_table_prefetch_entries, later, asks for the entries those slots lead to;
 * rcode_table_note_prepared counts the lookup, as rcode_table_note would, with the same
 * arguments. Nothing reads or changes the table in between but these (what
 * rcode_table_prefetch_entries saw in the index is still true when the lookup is counted). */
struct rcode_note {
    unsigned want;             /* the views the lookup concerns (0: nothing to note) */
    uint64_t h_client, h_name; /* the keyed hashes of its (service, client) and question keys */
    /* What rcode_table_prefetch_entries saw of each key's hash in the index (enum
     * rcode_near; RCODE_NEAR_UNKNOWN until it ran), and the item it saw under that hash: the
     * entry to compare first, so that most lookups find their entries without probing again. */
    uint8_t near_client, near_name;
    const struct rcode_entry *e_client, *e_name;
    /* The caller's memo of the lookup's service entry (NULL: none, the entry is looked up): set
     * after rcode_table_prepare; *service_memo is this service's entry or NULL, and
     * rcode_table_note_prepared keeps the entry there once found. The detector keeps one per
     * service it has seen recently. */
    const struct rcode_entry **service_memo;
};
/* What the index held near a hash's home slot: nothing known (look it up), no item under the
 * hash (the key is not there), or an item under the hash (the key's entry, unless another key
 * shares the hash). */
enum rcode_near { RCODE_NEAR_UNKNOWN, RCODE_NEAR_ABSENT, RCODE_NEAR_ITEM };
void rcode_table_prepare(const struct rcode_table *t, const struct dns_lookup *l,
                         const struct htab_hasher *service, uint64_t qname_hash,
                         struct rcode_note *n);
void rcode_table_prefetch_entries(const struct rcode_table *t, struct rcode_note *n);
void rcode_table_note_prepared(struct rcode_table *t, const struct dns_lookup *l,
                               const struct htab_hasher *service, uint64_t qname_hash,
                               const struct rcode_note *n);

static inline bool rcode_usable(uint16_t rcode)
{
    return rcode != DNS_RCODE_SERVFAIL && rcode != DNS_RCODE_REFUSED && rcode != DNS_RCODE_NOTIMP &&
           rcode != DNS_RCODE_FORMERR;
}

/* The entries of view v, in its creation order: n of them, the i-th at entries[i]. */
static inline size_t rcode_view_count(const struct rcode_table *t, enum rcode_view v)
{
    return t->views[v].n;
}

static inline const struct rcode_entry *rcode_view_at(const struct rcode_table *t,
                                                      enum rcode_view v, size_t i)
{
    return t->views[v].entries[i];
}

static inline uint64_t rcode_view_dropped(const struct rcode_table *t, enum rcode_view v)
{
    return t->views[v].dropped;
}

/* The entry of a service in view v (NULL when the view has none). */
const struct rcode_entry *rcode_view_server(const struct rcode_table *t, enum rcode_view v,
                                            const struct nt_addr *server, uint16_t port,
                                            uint8_t transport);
/* The entry of e's service in view v (NULL when the view has none): e itself for a service's
 * entry; as rcode_view_server, without hashing. */
const struct rcode_entry *rcode_view_service_of(const struct rcode_table *t, enum rcode_view v,
                                                const struct rcode_entry *e);

#endif
