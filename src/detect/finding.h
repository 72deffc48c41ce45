/* finding.h: what a rule raises: a problem, its evidence, its likely causes and next steps. */
#ifndef NT_DETECT_FINDING_H
#define NT_DETECT_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/evidence.h"
#include "detect/attack.h"
#include "util/addr.h"
#include "util/ntime.h"

enum severity { SEV_INFO = 0, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };
enum confidence { CONF_LOW = 1, CONF_MEDIUM, CONF_HIGH };

#define FINDING_MAX_CLIENTS  256
/* Distinct clients (names) past the list counted exactly: a set of 8-byte hashes, 64 KiB at
 * most (a finding or shadow holds two: dns.slow's 1,024 shadows at most 128 MiB together, which
 * only 4,096 distinct clients and names each past their lists would reach). */
#define FINDING_DROPPED_EXACT 4096
/* Such a set (internal to finding.c; NULL until the list is full). */
struct finding_seen {
    uint64_t *h;
    uint32_t n, cap;
};
#define FINDING_MAX_NAMES    256
#define FINDING_MAX_EVIDENCE 64
#define FINDING_MAX_CAUSES   8
#define FINDING_MAX_STEPS    12
#define FINDING_MAX_FACTS    16

struct cause {
    char *text;         /* the cause, one sentence */
    uint8_t confidence; /* enum confidence */
    char *reason;       /* why this confidence, from the evidence, with figures */
};

/* Every string below is plain text (no markup) built from measured facts; renderers escape it
 * for their medium. All owned by the finding. */
struct finding {
    const char *id;    /* stable rule id, e.g. "dns.port_unreachable" */
    const char *title; /* static */
    uint8_t severity;  /* enum severity */
    uint8_t attack;    /* enum nt_attack (detect/attack.h): the MITRE ATT&CK technique, or none */
    char *key;         /* de-duplication key within the rule (e.g. the server and port) */

    uint8_t transport; /* IP protocol number: 17 UDP, 6 TCP; 0 when none */
    uint16_t port;
    const char *service; /* "DNS" (static) */
    bool has_server;
    struct nt_addr server;

    /* The three lists below are owned arrays grown as they fill (NULL while empty), up to
     * FINDING_MAX_CLIENTS, FINDING_MAX_NAMES and FINDING_MAX_EVIDENCE: most findings, and the
     * shadow findings rules keep per key, hold a few entries, and arrays of the full sizes made
     * a finding 23 KiB. Writers go through the functions below (finding_reserve for tests). */
    struct nt_addr *clients;
    size_t n_clients, cap_clients;
    /* Distinct clients past the list: counted once each through the keyed hashes of those seen
     * (clients_seen, made when the list is full, at most FINDING_DROPPED_EXACT of them);
     * past that a client not remembered counts at each of its lookups, and
     * clients_dropped_bound says the count is an upper bound. Until the sixteenth session every
     * lookup of a client past the list counted, and "from N clients" overstated N (the busy
     * profile: 1,977 clients for 642). */
    uint64_t clients_dropped;
    struct finding_seen clients_seen;
    bool clients_dropped_bound;
    char **names; /* distinct query names with their types, "example.com. A" */
    size_t n_names, cap_names;
    uint64_t names_dropped; /* distinct names past the list, as clients_dropped */
    struct finding_seen names_seen;
    bool names_dropped_bound;

    /* Words for the counts below when they are not DNS lookups, queries and errors (static; NULL
     * means "lookup"/"lookups", "query"/"queries", "error"/"errors"), e.g. "connection
     * attempt", "SYN", "answer". */
    const char *unit_one, *unit_many, *sent_one, *sent_many, *reply_one, *reply_many;

    struct nt_time first_seen, last_seen; /* first and last packet of the evidence */
    uint64_t lookups;                     /* lookups affected */
    uint64_t packets;                     /* packets affected (queries + errors) */
    uint64_t query_packets;
    uint64_t error_packets;
    uint64_t late; /* lookups whose error came after the timeout */

    /* The incident window around the failures [first_seen, last_seen], from the same service's
     * successes (DNS answers other than SERVFAIL/REFUSED/NOTIMP/FORMERR from the server, TCP
     * handshakes completed with server:port): the last success before the first failure (when
     * the service stopped), the first success after the last failure (when it recovered), and
     * how many successes fell in between (an intermittent fault rather than an outage). Filled
     * by the detector after on_finish for findings with a server, unless the rule set
     * window_set itself. */
    struct incident_window {
        bool window_set;
        /* The service's successes were not kept (--bound detect.services): the times below are
         * unset and the counts 0 because they are unknown, not because there were none. */
        bool successes_unknown;
        bool has_ok_before, has_ok_after;
        struct nt_time ok_before, ok_after;
        uint64_t ok_during;
        uint64_t ok_total; /* successes of that service in the whole capture */
        /* When the service's history summarised the successes around the failures (more than
         * a few per bucket of bound_width_s seconds, detect/history.h): ok_before is then the
         * earliest success of the bucket holding the first failure (others followed it up to
         * the failure), ok_after the latest of the bucket holding the last failure (the first
         * after the failure came no later), and ok_during..ok_during_max the successes that
         * may lie in between. Exact otherwise (ok_during_max == ok_during, bound_width_s 0). */
        bool ok_before_bound, ok_after_bound;
        uint64_t ok_during_max;
        int64_t bound_width_s;
    } window;

    struct evidence *evidence; /* in capture order */
    size_t n_evidence, cap_evidence;
    uint64_t evidence_dropped;

    char *summary;                  /* Part 1: a few sentences on what failed */
    char *facts[FINDING_MAX_FACTS]; /* key findings, one sentence each */
    size_t n_facts;
    struct cause causes[FINDING_MAX_CAUSES]; /* ranked, most likely first */
    size_t n_causes;
    char *next_steps[FINDING_MAX_STEPS];
    size_t n_next_steps;

    /* Rule-private accumulators (freed with the finding). */
    void *priv;
    void (*priv_free)(void *priv);

    /* What finding.c keeps to add to the lists above without scanning them: an index of the
     * client and name lists once they are long (owned, NULL before; dropped when finding_settle
     * reorders them), and the position + 1 of the evidence a full list would drop first (0: not
     * known). */
    struct finding_index *index;
    size_t ev_worst;
};

const char *severity_name(enum severity s);     /* "info", "low", "medium", "high", "critical" */
const char *confidence_name(enum confidence c); /* "low", "medium", "high" */

/* Adds to the distinct sets (no-ops past the caps, which count what was dropped). */
void finding_add_client(struct finding *f, const struct nt_addr *a);
/* Puts the client and name lists in a fixed order (addresses, then names, sorted), so that no
 * output depends on the order in which lookups became final. Called by detect_finish. */
void finding_settle(struct finding *f);
void finding_add_name(struct finding *f, const char *name);
/* Copies ev into the evidence list, kept in capture order; false on out of memory. */
bool finding_add_evidence(struct finding *f, const struct evidence *ev);
/* Widens the [first_seen, last_seen] window to include t. */
void finding_see_time(struct finding *f, const struct nt_time *t);
/* Appends a formatted sentence: facts, next steps, causes. */
void finding_add_fact(struct finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void finding_add_step(struct finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void finding_add_cause(struct finding *f, enum confidence conf, const char *text,
                       const char *reason_fmt, ...) __attribute__((format(printf, 4, 5)));
void finding_set_summary(struct finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* In place: a count of exactly 1 followed by a plural noun ("1 queries", "1 distinct names",
 * "the 1 lookups were") takes the singular and its verb agrees. Every sentence added through
 * the functions above passes through it. */
void finding_singularise(char *s);
/* Lowers every cause whose confidence is above most to most. */
void finding_cap_causes(struct finding *f, enum confidence most);
/* Sorts causes by confidence, highest first, keeping the order given among equals. */
void finding_rank_causes(struct finding *f);
void finding_free(struct finding *f);

/* "udp", "tcp" for a finding's transport; NULL when it has none. */
static inline const char *finding_transport_name(const struct finding *f)
{
    return f->transport == 6 ? "tcp" : f->transport == 17 ? "udp" : NULL;
}
/* Releases what f owns and makes it all zero again, as calloc would, for a rule that reuses one
 * finding for its next key; the three lists' arrays are kept for it while still of their first
 * size, empty (their counts zero; what they held before is not cleared, and nothing reads a
 * list past its count). */
void finding_reset(struct finding *f);
/* The first client, or an address of no family when the list is empty (a finding whose first
 * client could not be stored, out of memory). */
static inline const struct nt_addr *finding_first_client(const struct finding *f)
{
    static const struct nt_addr none;
    return f->n_clients ? &f->clients[0] : &none;
}
/* Room for at least n_clients, n_names and n_evidence entries in the lists (each at most its
 * FINDING_MAX_*), for code that fills them itself (tests); false out of memory. */
bool finding_reserve(struct finding *f, size_t n_clients, size_t n_names, size_t n_evidence);
/* Moves everything src gathered (a rule's shadow finding) into dst, a finding fresh from
 * rule_raise whose id, title, ATT&CK technique, severity and key stay; frees src. */
void finding_adopt(struct finding *dst, struct finding *src);

#endif
