/* pipeline.h: the analysis engine as a library. One pipeline runs
 *
 *     source -> decode -> flow -> correlate -> detect
 *
 * over one or more inputs and hands the format-neutral model (struct analysis) to report. The
 * CLI parses options and calls it; tests (and later live capture and explain) use it directly.
 * Each stage knows only the one before it: the pipeline is the only place that joins them.
 *
 * The source hands on decoded packets (the capture source calls decode; the text reader parses
 * into the same struct packet). Flow (src/flow/: IP defragmentation, DNS-over-TCP reassembly)
 * runs here, per input, on the bytes and layer offsets decode recorded; its counts go to the
 * input's fragment figures. */
#ifndef NT_PIPELINE_PIPELINE_H
#define NT_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "decode/packet.h"
#include "detect/incident.h"
#include "report/analysis.h"

/* Every bound the engine keeps state under; each is an option of `nettriage report`, and what
 * a bound evicts or drops is counted in the summary of every output format. */
struct pipeline_limits {
    uint32_t max_lookups;      /* DNS lookups open at once (--max-lookups) */
    uint32_t max_tcp_attempts; /* TCP connection attempts open at once (--max-tcp) */
    int64_t answer_guard_us;   /* how long an answered lookup waits for duplicates */
    /* The stages' other bounds (--bound STAGE.NAME=N, pipeline_stage_bounds) */
    uint64_t lookups_per_key, dns_tcp_connections, hosts_seen;
    uint64_t frag_datagrams, frag_bytes, tcp_dns_flows, tcp_dns_bytes;
    /* the detector's (detect_set_limits) */
    uint64_t rcode_keys, server_clients, clients_bytes, history_bytes, detect_services;
};

/* One rule's bound set by the run (--bound RULE.NAME=N; see struct rule_bound_def). */
struct pipeline_bound {
    const char *rule, *name; /* "dns.no_response", "recent" */
    uint64_t value;
};

struct pipeline_config {
    int64_t timeout_us; /* --timeout */
    struct pipeline_limits limits;
    /* Rules' bounds other than their defaults (checked by the caller with detect_find_bound;
     * pipeline_new fails on one that does not exist or is out of range). */
    const struct pipeline_bound *bounds;
    size_t n_bounds;
    /* `nettriage watch`: when not NULL, the pipeline runs an incident tracker
     * (detect/incident.h) on the final outcomes of lookups and connection attempts and hands
     * its events to the sink's on_incident; open incidents close at pipeline_finish. */
    const struct incident_config *incidents;
    /* --date: times of day without a date (tcpdump text printed without one) are taken as
     * that date's wall-clock times in date_zone (the days after it past each midnight), so they
     * become dated times; the input records that its dates came from the option. */
    bool date_set;
    int date_y, date_m, date_d;
    struct nt_zone date_zone;
    /* --redact: every packet's roles (who asked, who served) are noted there (report/redact.h);
     * NULL without it. */
    struct redact *redact;
    /* A live capture from an interface: while no packet comes, the clock moves on by the time
     * waited since the last one (source_set_idle, pipeline_idle), so timeouts expire and
     * incidents close on a quiet link too. Files and standard input never move it (their time
     * is their packets'). Off by default: a report's lookups still open when the capture ends
     * are then "cut off by the end" as in the file -w writes (`watch` turns it on). */
    bool idle_clock;
    /* Threads the engine may use (--threads): 2 runs the detector on a thread of its own, fed
     * by a copy of each event the correlator makes (pipeline/handoff.h), so that it works
     * beside the reading, decoding and correlating; the results are the same bytes. 0 or 1:
     * one thread. Ignored with incidents or a sink's on_read (their state is read between
     * packets, and watch's SIGUSR1 forks between packets: a forked child must not use a
     * threaded pipeline). */
    unsigned threads;
};

/* A bound of the flow stage or the correlator settable by name (--bound flow.tcp_dns_flows=N):
 * same shape as a rule's (struct rule_bound_def), the value in struct pipeline_limits. */
struct pipeline_stage_bound {
    const char *name; /* "flow.tcp_dns_flows" */
    uint64_t def, min, max;
    const char *what;
};
/* The list (ended by a NULL name). */
extern const struct pipeline_stage_bound pipeline_stage_bounds[];
/* Sets stage bound `name` in cfg; 0, -1 when there is none, -2 out of range. */
int pipeline_set_stage_bound(struct pipeline_config *cfg, const char *name, uint64_t value);

/* Defaults: timeout 5 s, 1,000,000 open lookups and attempts, 1 s answer guard. */
void pipeline_config_default(struct pipeline_config *cfg);

/* What streams out while the pipeline runs (NDJSON, watch's alerts): each callback may be
 * NULL. The objects passed are valid only during the call. */
struct pipeline_sink {
    void *ctx;
    void (*on_lookup)(void *ctx, const struct dns_lookup *l);
    void (*on_icmp_error)(void *ctx, const struct icmp_event *e);
    /* A TCP connection attempt with its final outcome. */
    void (*on_tcp_attempt)(void *ctx, const struct tcp_attempt *t);
    /* An event of the incident tracker (only with pipeline_config.incidents). */
    void (*on_incident)(void *ctx, const struct incident_event *ev);
    /* After each packet went through correlate (and the tracker's clock): where a caller that
     * runs until stopped looks at its signals. */
    void (*on_packet)(void *ctx, const struct packet *pkt);
    /* `nettriage explain`: after each packet went through correlate, the packet with what the
     * correlator made of it (how it relates to the packets before it: correlate_relation). */
    void (*on_relation)(void *ctx, const struct packet *pkt, const struct pkt_relation *rel);
    /* Text inputs: each line that looked like traffic and was not understood, as it is met
     * (source_set_unread_hook), with the input's index. */
    void (*on_unread)(void *ctx, uint32_t input, uint64_t line_no, const char *line, size_t len);
    /* After each packet read from the input being read went through every stage (the flow
     * stage's extra messages too): a point between packets, where pipeline_cut_input may be
     * called (in a copy of the process). */
    void (*on_read)(void *ctx);
};

struct pipeline;

/* A new pipeline; a is the model it fills (the caller owns it and renders it). NULL when out of
 * memory. */
struct pipeline *pipeline_new(const struct pipeline_config *cfg, const struct pipeline_sink *sink,
                              struct analysis *a, size_t n_inputs);

/* Reads input number idx (path, or "-" for standard input) to its end through every stage and
 * fills a->inputs[idx]. Returns true when it was read whole; false when it could not be opened
 * or was damaged, with a one-line reason (without the file name) in a->inputs[idx].error and
 * the packets read before the damage still analysed. */
bool pipeline_read(struct pipeline *p, const char *path, uint32_t idx);

/* The same for a source already opened (a live capture, source/live.h, or any other): runs it
 * through flow -> correlate -> detect to its end exactly as pipeline_read runs a file, and
 * fills a->inputs[idx] (path: label, when it has none yet). The caller keeps the source and
 * closes it afterwards. Returns as pipeline_read. */
struct source;
bool pipeline_read_source(struct pipeline *p, struct source *s, const char *label, uint32_t idx);

/* What the correlator counted so far (the live progress line): lookups made, answered, ICMP
 * errors, lookups given up as unanswered, TCP attempts and those refused, unreachable or
 * unanswered. Lookups become answered or unanswered as they close, so these lag the traffic
 * by the timeout. */
struct pipeline_progress {
    uint64_t dns_lookups, answered, icmp_errors, unanswered;
    uint64_t tcp_attempts, tcp_failed;
};
void pipeline_progress(const struct pipeline *p, struct pipeline_progress *pr);

/* How far the reading of an input got (report's progress line on a terminal): handed to the
 * function set with pipeline_set_read_progress every PIPELINE_PROGRESS_PACKETS packets the
 * source delivers (a counter, so the reading costs no clock call per packet; the function
 * decides whether to show anything), and once at the end of each input with done set. */
#define PIPELINE_PROGRESS_PACKETS 256
struct pipeline_read_progress {
    uint32_t input;   /* index of the input */
    uint64_t packets; /* packets (records) read from it so far */
    uint64_t bytes;   /* bytes of it read so far (source_bytes_read) */
    int64_t total;    /* its size, -1 when unknown (a pipe, a terminal, a live capture) */
    bool done;        /* its end */
};
typedef void (*pipeline_read_progress_fn)(void *ctx, const struct pipeline_read_progress *rp);
/* fn may be NULL (none, the default). */
void pipeline_set_read_progress(struct pipeline *p, pipeline_read_progress_fn fn, void *ctx);

/* Feeds one packet of input idx to correlate, as the flow stage hands it on (live capture,
 * tests; pipeline_read runs flow itself); pipeline_end_input closes that input (every open
 * lookup and attempt becomes final). Return NT_OK or NT_ERR_NOMEM. */
int pipeline_packet(struct pipeline *p, const struct packet *pkt, uint32_t idx);
void pipeline_end_input(struct pipeline *p);

/* Ends the input being read by pipeline_read or pipeline_read_source now, exactly as it ends
 * when its source ends cleanly (datagrams and messages still incomplete counted, every open
 * lookup and attempt final, the input's figures from its source's counts so far), so that
 * pipeline_finish then makes the report of the packets read so far: the report `nettriage
 * report` makes of those packets. The reading cannot go on afterwards: this is for a copy of
 * the process (fork) that writes the report so far while the original reads on (watch's
 * SIGUSR1). Call it only between packets: from the sink's on_read, or from a live source's
 * tick (source/live.h), which runs inside source_next. Does nothing when no input is being
 * read. */
void pipeline_cut_input(struct pipeline *p);

/* No packet came, and the time is now `now` in the packets' clock: the correlator's clock moves
 * on (correlate_idle: timeouts, the answer guard and the late window expire what is due), then
 * the incident tracker's (updates, quiet closes). Between packets only. */
void pipeline_idle(struct pipeline *p, const struct nt_time *now);

/* The threads the run uses: 2 when the detector runs on a thread of its own
 * (pipeline_config.threads), else 1. */
unsigned pipeline_threads(const struct pipeline *p);

/* The incident tracker (NULL unless pipeline_config.incidents was given): for its statistics
 * and incident_report_state. */
struct incident_tracker *pipeline_incidents(struct pipeline *p);

/* After the last input: closes the tracker's open incidents, runs the rules' end, fills the
 * summary, the findings and the explained lines of the model. Returns false when out of memory (at
 * any point of the run). */
bool pipeline_finish(struct pipeline *p);

void pipeline_free(struct pipeline *p);

#endif
