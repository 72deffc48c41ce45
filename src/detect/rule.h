/* rule.h: the detection rule interface. A rule is one small file under rules/ that subscribes
 * to typed hooks, reads correlated state only, and raises findings through rule_raise(). */
#ifndef NT_DETECT_RULE_H
#define NT_DETECT_RULE_H

#include "correlate/correlate.h"
#include "detect/finding.h"
#include "util/addr_set.h"
#include "util/htab.h"

struct rule_ctx;

#define DNS_OPCODE_OF(flags) ((unsigned)((flags) >> 11) & 0xfu)
#define DNS_OPCODE_QUERY     0
#define DNS_OPCODE_NOTIFY    4
#define DNS_OPCODE_UPDATE    5

/* A bound a rule keeps its state under: how many servers, sources, names... it follows. What it
 * leaves out past the bound is counted (rule_count_limit). Each bound is an option of
 * `nettriage report` (--bound RULE.NAME=N; --bounds lists them with their defaults), read by
 * the rule with rule_bound() when it makes its state. */
struct rule_bound_def {
    const char *name; /* e.g. "tcp_kept"; NULL ends a rule's list */
    uint64_t def, min, max;
    const char *what; /* one line for --bounds */
};

struct rule {
    const char *id;
    uint8_t severity; /* enum severity */
    const char *title;
    /* The MITRE ATT&CK technique the finding can be a sign of (enum nt_attack, detect/attack.h;
     * ATTACK_NONE when none fits); copied into each finding, which may override it. */
    uint8_t attack;
    /* DNS lookups with opcode QUERY; with all_opcodes, also NOTIFY and UPDATE exchanges (the
     * opcode is in query_flags, DNS_OPCODE_OF), which the correlator follows as lookups. The
     * detector's server statistics and incident windows count QUERY lookups only. */
    void (*on_dns_lookup)(struct rule_ctx *rc, const struct dns_lookup *l);
    bool all_opcodes;
    /* Optional: called with every lookup on_dns_lookup gets, before any rule's on_dns_lookup
     * for it, to ask for the memory on_dns_lookup will read (__builtin_prefetch) while the
     * other rules run. It may keep what it computed for that call of on_dns_lookup, and must
     * change nothing else. */
    void (*prefetch_dns_lookup)(struct rule_ctx *rc, const struct dns_lookup *l);
    void (*on_icmp_error)(struct rule_ctx *rc, const struct icmp_event *e);
    /* A DNS response that answers no lookup in the capture. */
    void (*on_stray_response)(struct rule_ctx *rc, const struct stray_response *r);
    /* A malformed DNS message to or from port 53 (decoder anomalies feeding a rule). */
    void (*on_dns_malformed)(struct rule_ctx *rc, const struct dns_malformed *m);
    /* A TCP connection attempt with its final outcome. */
    void (*on_tcp_attempt)(struct rule_ctx *rc, const struct tcp_attempt *t);
    /* Called once after every input was read: build summaries, causes and next steps. */
    void (*on_finish)(struct rule_ctx *rc);
    /* Frees the rule's state (rule_state) when the detector is freed; NULL when it keeps none. */
    void (*free_state)(void *state);
    /* Its bounds (ended by a NULL name), or NULL. */
    const struct rule_bound_def *bounds;
};

/* Returns the finding of the calling rule with this key, creating it on first use. One finding
 * per (rule, key). NULL on out of memory, or when the rule already has
 * DETECT_MAX_FINDINGS_PER_RULE findings (the key is then counted in detect_findings_omitted,
 * once however often it is asked for again, for the first 1,048,576 such keys): rules must
 * handle NULL. */
#define DETECT_MAX_FINDINGS_PER_RULE 1000
struct finding *rule_raise(struct rule_ctx *rc, const char *key);
/* Iterates over the calling rule's findings (for on_finish): start with *iter = 0; returns NULL
 * after the last. */
struct finding *rule_next_finding(struct rule_ctx *rc, size_t *iter);
/* The calling rule's private state in this detector, for what a rule remembers across findings
 * (tables over the whole capture): *rule_state(rc) is NULL until the rule stores a pointer
 * there, and free_state releases it with the detector. Rules keep no static state, so two
 * detectors never share any. */
void **rule_state(struct rule_ctx *rc);
/* A state several rules share, named (a static string): *slot is NULL until one of them stores
 * a pointer, and the detector frees it with free_fn when it is freed (after every rule's own
 * state). NULL when the detector holds DETECT_SHARED_STATES already. Rules sharing one must add
 * each event to it once (rule_tcp_attempt_seq tells the first of them). */
#define DETECT_SHARED_STATES 4
void **rule_shared_state(struct rule_ctx *rc, const char *name, void (*free_fn)(void *));
/* The budget the detector's success histories share (detect/history.h): a rule keeping a
 * history per key puts it there with history_pool_join. */
struct history_pool;
struct history_pool *rule_history_pool(const struct rule_ctx *rc);
/* In on_tcp_attempt: the attempt's place among those dispatched (1 for the first), the same for
 * every rule it is dispatched to. */
uint64_t rule_tcp_attempt_seq(const struct rule_ctx *rc);
/* The value in force of one of the calling rule's bounds (its default unless the run set it);
 * name must be one of its rule_bound_def names (else 0). Read it when the state is made. */
uint64_t rule_bound(const struct rule_ctx *rc, const char *name);
/* What a rule leaves out because of one of its limits (servers past its table's bound, keys past
 * a cap) is counted here, never dropped silently: adds n to the calling rule's counter `name`
 * (a static string such as "servers_ignored"). detect_limits lists the counters for the
 * report. */
void rule_count_limit(struct rule_ctx *rc, const char *name, uint64_t n);
/* Withdraws one of the calling rule's findings (freed; its key may be raised again), for a rule
 * whose failures another rule reports together (tcp.no_response and tcp.refused leave a
 * scanning source's attempts to tcp.scan). During a rule_next_finding loop pass the loop's
 * iterator, which is moved back so the loop goes on with the next finding. */
void rule_withdraw(struct rule_ctx *rc, struct finding *f, size_t *iter);
/* Another rule's finding with this key (NULL when that rule raised none, or has no such id).
 * Rules run their on_finish in the order of their file names, so a rule may read in on_finish
 * only the findings of rules whose files sort before its own (dns.no_response reads dns.flood's);
 * the finding may still be incomplete in on_dns_lookup. */
const struct finding *rule_other_finding(const struct rule_ctx *rc, const char *rule_id,
                                         const char *key);
/* The keyed hash (util/htab.h) of a lookup's service: htab_hasher_addr of the server, then
 * htab_hasher_u16 of its port and htab_hasher_u8 of the transport; as a value, or as the
 * hasher's state to add a key's further fields to. The detector computes it once per lookup
 * for itself and every rule (any other lookup is hashed on the spot, to the same value). */
uint64_t rule_service_hash(const struct rule_ctx *rc, const struct dns_lookup *l);
/* The rule's slot for the service of the lookup being dispatched (l), for an item of its state
 * that lives as long as the state (a per-server item): NULL at first; what the rule puts there
 * it finds again at its next lookups of the service, while the detector's memo of recent
 * services keeps the service (the slot is emptied when the memo's place goes to another one).
 * NULL (no slot) for any other lookup. */
void **rule_service_memo(const struct rule_ctx *rc, const struct dns_lookup *l);
void rule_service_hasher(const struct rule_ctx *rc, const struct dns_lookup *l,
                         struct htab_hasher *out);
/* The keyed hash of a lookup's question name, case-folded (htab_hasher_name of qname, NULL as
 * ""), for the rules' keys to add instead of the name's bytes: the detector computes it once
 * per lookup, at the first asking, for every table that keys on the name. */
uint64_t rule_qname_hash(const struct rule_ctx *rc, const struct dns_lookup *l);
/* The whole capture's statistics, for rates and baselines. */
const struct correlate_stats *rule_stats(const struct rule_ctx *rc);
/* The configured timeout. */
int64_t rule_timeout_us(const struct rule_ctx *rc);
/* In on_icmp_error: the error being handled became part of this rule's finding. An error that no
 * rule takes and that is tied to no lookup or connection attempt is counted and listed by the
 * report (never dropped silently). */
void rule_take_icmp(struct rule_ctx *rc);

/* What the detector measured about every DNS server seen (all lookups, failed or not), so rules
 * can say whether a server ever answered and how busy it was. */
/* The default of --bound detect.server_clients (distinct clients counted per server). */
#define SERVER_CLIENTS_KEPT 1024
struct server_stats {
    struct nt_addr server;
    uint16_t port;
    uint8_t transport;
    uint64_t lookups, answered, icmp_errors, unanswered, capture_ended;
    uint64_t query_packets;
    struct nt_time first_query, last_query;   /* first transmissions of its lookups */
    struct nt_time first_answer, last_answer; /* of answered lookups */
    struct addr_set clients;                  /* distinct clients, up to detect.server_clients */
    size_t n_clients;                         /* clients.n */
    bool clients_overflow;                    /* more clients than were kept */
};

/* The statistics of one server (NULL if it was never queried, or if the detector did not keep
 * them: rule_service_kept). */
const struct server_stats *rule_server_stats(const struct rule_ctx *rc,
                                             const struct nt_addr *server, uint16_t port,
                                             uint8_t transport);
/* The default of --bound detect.services: services (server, port, transport) whose figures the
 * detector keeps, its server_stats and its successes over time (the incident window). */
#define DETECT_SERVICES_KEPT 65536
/* Whether the detector kept the figures of this service: true when it did, or when the service
 * was never seen; false when the service came past --bound detect.services. Its server_stats and
 * its incident window are then unknown, not zero: a rule must not state them ("answered none",
 * "never worked"), and the detector adds a fact saying so to the findings of that service. */
bool rule_service_kept(const struct rule_ctx *rc, const struct nt_addr *server, uint16_t port,
                       uint8_t transport);

/* Usable and error answers per service, (service, client) and (service, question), noted once
 * per QUERY lookup for the rules on DNS error answers (detect/rcode_table.h). */
struct rcode_table;
const struct rcode_table *rule_rcode_table(const struct rule_ctx *rc);

struct detector;
struct detector *detect_new(int64_t timeout_us);
/* The definition of bound `name` of rule `rule_id` (NULL when there is none; *rule_out, when
 * given, is the rule). */
const struct rule_bound_def *detect_find_bound(const char *rule_id, const char *name,
                                               const struct rule **rule_out);
/* Sets a bound for this detector's rules; call before the first lookup. Returns 0, -1 when the
 * rule or bound does not exist, -2 when value is outside [min, max]. */
int detect_set_bound(struct detector *d, const char *rule_id, const char *name, uint64_t value);
/* The detector's own bounds (--bound detect.rcode_keys, detect.server_clients,
 * detect.services, detect.history_bytes, detect.server_clients_bytes): keys each view of the
 * shared rcode table keeps, distinct clients counted per server, services whose figures are
 * kept, the bytes of the success histories and of the servers' client sets. Call before the
 * first lookup; 0 keeps a default (RCODE_VIEW_MAX_ENTRIES, SERVER_CLIENTS_KEPT,
 * DETECT_SERVICES_KEPT, DETECT_HISTORY_BYTES, DETECT_SERVER_CLIENTS_BYTES). */
void detect_set_limits(struct detector *d, uint64_t rcode_keys, uint64_t server_clients,
                       uint64_t services, uint64_t history_bytes, uint64_t clients_bytes);
/* The default of --bound detect.server_clients_bytes: the bytes every server's set of distinct
 * clients holds together (detect.server_clients bounds each, detect.services their number: their
 * product, 65,536 servers of 1,024 clients, would be about 2 GiB). Past it a set that would grow
 * stays as it is and counts further clients as its overflow ("at least"). */
#define DETECT_SERVER_CLIENTS_BYTES ((uint64_t)16 << 20)
/* How many servers' client sets that budget froze (0: never reached). */
uint64_t detect_client_sets_frozen(const struct detector *d);
/* The default of --bound detect.history_bytes: the bytes the success histories of the services
 * and dns.slow's fast-answer histories hold together (detect/history.h, struct history_pool). */
#define DETECT_HISTORY_BYTES ((uint64_t)32 << 20)
/* How many times that budget doubled the histories' width (0: never reached). */
uint64_t detect_history_doublings(const struct detector *d);
/* What --bound detect.services left out: distinct services not kept (each once up to 1,048,576
 * of them; past that every event of one not remembered counts), and their events (DNS lookups,
 * successes) not counted. */
void detect_services_not_kept(const struct detector *d, uint64_t *services, uint64_t *events);
void detect_lookup(struct detector *d, const struct dns_lookup *l);
/* Returns whether the error is accounted for: tied to a lookup or connection attempt (whose
 * outcome the rules judge), or taken by a rule into a finding (rule_take_icmp). */
bool detect_icmp_error(struct detector *d, const struct icmp_event *e);
void detect_tcp_attempt(struct detector *d, const struct tcp_attempt *t);
void detect_stray_response(struct detector *d, const struct stray_response *r);
void detect_dns_malformed(struct detector *d, const struct dns_malformed *m);
/* Runs every rule's on_finish with the final statistics. */
void detect_finish(struct detector *d, const struct correlate_stats *stats);
/* The findings, ordered by severity (highest first) then first_seen. Owned by d. */
size_t detect_findings(const struct detector *d, struct finding *const **out);
/* Findings not made because a rule reached DETECT_MAX_FINDINGS_PER_RULE. */
uint64_t detect_findings_omitted(const struct detector *d);
/* One rule's counter of what it left out because of a limit (rule_count_limit). */
struct detect_limit {
    const char *rule; /* rule id, e.g. "dns.flood" */
    const char *name; /* counter, e.g. "servers_ignored" */
    uint64_t count;
};
/* Every counter a rule added to, ordered by rule id then name (counters never added to are
 * absent). The array is owned by d, valid until the next detector call. */
size_t detect_limits(const struct detector *d, const struct detect_limit **out);
void detect_free(struct detector *d);

/* The registry (rules.c). */
extern const struct rule *const detect_rules[];
extern const size_t detect_n_rules;

#endif
