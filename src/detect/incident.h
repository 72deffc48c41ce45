/* incident.h: the incident tracker of `nettriage watch`. Per service (server address, port,
 * transport) it follows the final outcomes of DNS lookups and TCP connection attempts as the
 * correlator makes them final, in packet time, and says when the service starts failing
 * (incident opened), how it goes on (update, at most every interval) and when it stops failing
 * (closed: it answered again, or nothing more failed for the quiet time).
 *
 * The rule (docs/architecture.md, "Incident tracker"):
 *   - A success is a DNS answer other than SERVFAIL, REFUSED, NOTIMP and FORMERR, or a completed
 *     TCP handshake (the detector's notion, "Incident windows"). A failure is a lookup or
 *     attempt whose outcome names a rule of the catalogue: SERVFAIL dns.servfail, REFUSED
 *     dns.refused, an ICMP error dns.port_unreachable / dns.admin_prohibited /
 *     dns.host_unreachable / icmp.time_exceeded, silence past the timeout dns.no_response; TCP
 *     reset tcp.refused, ICMP error tcp.unreachable, silence tcp.no_response. Anything else
 *     (NOTIMP, FORMERR, a capture that ended first, other opcodes) is neither.
 *   - Each failure and success has its time in the capture (the answer, the error, the last
 *     query or SYN of a silent one). Outcomes reach the tracker late and out of time order
 *     (answers after the answer guard, ICMP errors after the timeout, silence after the late
 *     window), so the tracker keeps the seconds in which each service answered (the most
 *     recent OK_SECONDS, first and last success of each) to judge "no success between".
 *   - The failures with no success between them make the service's run (a failure older than
 *     the run with a success in between is stale). An incident opens when the run holds
 *     min_failures failed lookups or attempts (default 3): a lost packet among answers is
 *     never three failures in a row, and one lookup retransmitted forever is one lookup. It
 *     carries the rule id of the most frequent failure of the run (the first on a tie).
 *   - A run whose service already answered again when it opens (a silent outage shorter than
 *     the late window) opens all the same ("retro") and closes, recovered at the first
 *     answer after it, once the late window has passed since then: every lookup sent before
 *     the recovery is final by then and counted.
 *   - Failures up to the end of a closed incident are stale.
 *   - Update: at most every interval, and only when more failures came since the last alert.
 *   - Closed, recovered: a success later than the incident's first failure. Closed, quiet: no
 *     failure reached the tracker for quiet_close (the end is then the last failure). A run
 *     that never opened is forgotten after quiet_close as well.
 *   - Bounded: at most max_services services; past that the least recently seen one without an
 *     open incident is forgotten (counted), else the least recently seen at all (its incident
 *     closes with reason evicted). A service without a run is forgotten once idle for
 *     max(quiet_close, INCIDENT_IDLE_MIN_US), so memory stays flat however long the watch.
 *
 * The tracker makes no text: it hands typed events to a callback, and report/alert.c and
 * report/ndjson.c write them. */
#ifndef NT_DETECT_INCIDENT_H
#define NT_DETECT_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "util/addr.h"
#include "util/ntime.h"

/* Clients counted per incident at most (distinct addresses; past it, clients_overflow). */
#define INCIDENT_CLIENTS_KEPT 64
/* An idle service is forgotten after max(quiet_close, this): long enough that a silent
 * lookup's failure (final after the correlator's late window, 120 s) still meets the success
 * that makes it stale. */
#define INCIDENT_IDLE_MIN_US (600 * 1000000LL)

/* The rules a failure can name (incident_rule_ids). */
#define INCIDENT_N_RULES 10

struct incident_config {
    uint32_t min_failures;  /* failures in a row (by packet time) that open an incident */
    int64_t interval_us;    /* updates at most this often */
    int64_t quiet_close_us; /* closed after this long without a failure */
    uint32_t max_services;  /* services followed at once */
};

/* Defaults: 3 failures, 60 s interval, 300 s quiet close, 10,000 services. */
void incident_config_default(struct incident_config *cfg);

enum incident_action {
    INCIDENT_OPENED = 1,
    INCIDENT_UPDATE,
    INCIDENT_CLOSED,
    INCIDENT_STATE, /* incident_report_state: an open incident as it stands */
};

enum incident_close {
    INCIDENT_CLOSE_NONE = 0,
    INCIDENT_CLOSE_RECOVERED, /* the service answered again */
    INCIDENT_CLOSE_QUIET,     /* no failure for quiet_close */
    INCIDENT_CLOSE_ENDED,     /* the input ended (or the watch was stopped) while it failed */
    INCIDENT_CLOSE_EVICTED,   /* forgotten to keep max_services */
};

struct incident_event {
    uint8_t action;       /* enum incident_action */
    uint8_t close_reason; /* enum incident_close (INCIDENT_CLOSED only) */
    uint64_t incident;    /* its number, from 1 */
    struct nt_addr server;
    uint16_t port;
    uint8_t transport;  /* 17 or 6 */
    bool dns;           /* its failures were DNS lookups (else TCP connection attempts) */
    const char *rule;   /* the catalogue's rule id, e.g. "dns.port_unreachable" */
    struct nt_time now; /* packet time at which the tracker said it */
    struct nt_time first_failure, last_failure;
    /* INCIDENT_CLOSED: when it ended (recovered: the first success; quiet, ended, evicted: the
     * last failure, so the duration is a lower bound) and end minus first_failure. */
    struct nt_time end;
    int64_t duration_us;
    uint64_t failures;                  /* failed lookups or attempts so far */
    uint64_t by_rule[INCIDENT_N_RULES]; /* failures per rule, indexed like incident_rule_ids */
    uint64_t clients;                   /* distinct clients hit (at most INCIDENT_CLIENTS_KEPT) */
    bool clients_overflow;
};

/* The rule ids the tracker names, in the order of incident_event.by_rule. */
extern const char *const incident_rule_ids[INCIDENT_N_RULES];

/* What the tracker counted over its life. */
struct incident_stats {
    uint64_t opened, updates, closed;
    uint64_t failures, successes, stale; /* outcomes fed (stale: see above) */
    uint64_t services_expired;           /* idle services forgotten */
    uint64_t services_evicted;           /* forgotten because max_services was reached */
    uint64_t incidents_evicted;          /* ... of which had an open incident */
    uint32_t services, services_peak, open;
    struct nt_time now; /* the tracker's packet clock (NT_TIME_NONE before any time) */
};

typedef void (*incident_fn)(void *ctx, const struct incident_event *ev);

struct incident_tracker;

/* NULL when out of memory. late_window_us: the correlator's late window (a silent lookup is
 * final that long after its last query). fn receives every event (valid during the call). */
struct incident_tracker *incident_new(const struct incident_config *cfg, int64_t late_window_us,
                                      incident_fn fn, void *ctx);
/* A lookup or attempt with its final outcome (the correlator's on_lookup / on_tcp_attempt). */
void incident_lookup(struct incident_tracker *t, const struct dns_lookup *l);
void incident_tcp_attempt(struct incident_tracker *t, const struct tcp_attempt *a);
/* The packet clock moved to ts (every packet, after correlation): updates, quiet closes and
 * expiry happen here. A time of another kind than the first one seen, or earlier than the
 * clock, is ignored. */
void incident_tick(struct incident_tracker *t, const struct nt_time *ts);
/* The input ended: every open incident closes (INCIDENT_CLOSE_ENDED). */
void incident_end(struct incident_tracker *t);
/* Hands every open incident to fn as INCIDENT_STATE, oldest first; changes nothing. */
void incident_report_state(struct incident_tracker *t);
const struct incident_stats *incident_stats(const struct incident_tracker *t);
void incident_free(struct incident_tracker *t);

#endif
