/* explain.h: `nettriage explain`, every packet or tcpdump line of one input followed by a
 * plain-language reading of each of its fields and of how it relates to the packets before it.
 *
 * The explainer is fed by the pipeline's sink: each packet with the correlator's relation
 * (explainer_packet, sink.on_relation), each final lookup (explainer_lookup, sink.on_lookup) and
 * each text line not understood (explainer_unread, sink.on_unread). It writes the packets in
 * input order as soon as what it says about them is settled: a query once its lookup is final
 * (its outcome is part of its reading, and decides whether --only-problems keeps it), any other
 * packet at once. At most max_pending packets wait for their lookup's outcome; past that the
 * oldest is written with its outcome marked as not yet known (counted). So memory is bounded by
 * max_pending whatever the input's size, and the output streams. */
#ifndef NT_REPORT_EXPLAIN_H
#define NT_REPORT_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate/correlate.h"
#include "decode/packet.h"

#define EXPLAIN_PENDING_DEFAULT 10000
#define EXPLAIN_WIDTH           80

struct explain_config {
    bool only_problems;   /* keep only the evidence of failures */
    bool json;            /* one JSON object per line for each packet (else text) */
    uint64_t max_pending; /* packets held waiting for an outcome (EXPLAIN_PENDING_DEFAULT) */
    uint64_t max_packets; /* stop writing after this many packets (0: no limit); counted */
    int64_t timeout_us;   /* the correlator's timeout, for the readings */
};

/* What an explainer wrote and left out (explainer_counts). */
struct explain_counts {
    uint64_t packets;         /* packets read */
    uint64_t shown;           /* packets written */
    uint64_t left_out;        /* --only-problems: packets that are no failure's evidence */
    uint64_t past_max;        /* packets past --max-packets, not written */
    uint64_t not_understood;  /* text lines not understood (all written) */
    uint64_t problems;        /* packets that are evidence of a failure */
    uint64_t outcome_unknown; /* written before their lookup's outcome was known */
};

struct explainer;

/* A new explainer writing to out. NULL when out of memory. */
struct explainer *explainer_new(const struct explain_config *cfg, FILE *out);
void explainer_packet(struct explainer *x, const struct packet *pkt,
                      const struct pkt_relation *rel);
void explainer_lookup(struct explainer *x, const struct dns_lookup *l);
/* A TCP connection attempt with its final outcome (sink.on_tcp_attempt): its SYNs wait for it. */
void explainer_tcp_attempt(struct explainer *x, const struct tcp_attempt *a);
void explainer_unread(struct explainer *x, uint64_t line_no, const char *line, size_t len);
/* Writes what is still held (call after the pipeline ended the input: every lookup is then
 * final). */
void explainer_finish(struct explainer *x);
const struct explain_counts *explainer_counts(const struct explainer *x);
bool explainer_oom(const struct explainer *x);
void explainer_free(struct explainer *x);

/* A duration for people: "0.4 ms", "23.0 ms", "3.9 s", "2 min 3 s". */
void explain_duration(int64_t us, char *buf, size_t n);

#endif
