/* analysis.h: the format-neutral report model that every renderer reads. Renderers never look
 * at packets; every string here that came off the wire is raw and is escaped by the renderer
 * for its medium. */
#ifndef NT_REPORT_ANALYSIS_H
#define NT_REPORT_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "decode/anomaly.h"
#include "detect/finding.h"
#include "detect/rule.h"
#include "flow/reasm.h"
#include "source/source.h"
#include "util/strbuf.h"

struct analysis_input {
    char *path;           /* as given on the command line ("-" for standard input) */
    const char *kind;     /* "pcap", "pcapng", "tcpdump text"; NULL if it could not be opened */
    const char *linktype; /* "Ethernet", ...; NULL for text */
    uint64_t packets;
    bool has_time;
    struct nt_time first_ts, last_ts;
    uint64_t lines, bad_lines;
    uint64_t first_bad_lines[SOURCE_BAD_LINES_KEPT];
    size_t n_first_bad_lines;
    uint64_t unsupported_link;
    bool gzip;            /* decompressed on the fly */
    bool pcapng_fallback; /* read by nettriage's own pcapng reader (libpcap refused it) */
    struct reasm_stats frag;
    uint64_t frag_unlocated;
    struct anomaly_counts anomalies; /* decoder anomalies of its packets */
    /* What looked like traffic but was not read (source_stats.unread): lines of text, or
     * frames of a capture; the first few line or packet numbers, and for text the start of
     * the first few lines. ignored_lines: text that was not traffic (prose, banners). */
    uint64_t unread;
    uint64_t first_unread[SOURCE_BAD_LINES_KEPT];
    size_t n_first_unread;
    char unread_sample[SOURCE_SAMPLES_KEPT][SOURCE_SAMPLE_MAX];
    size_t n_unread_samples;
    uint64_t ignored_lines;
    /* A live capture: the kernel's counts when it ended (source_stats.has_capture_stats). */
    bool has_capture_stats;
    uint64_t cap_received, cap_dropped, cap_if_dropped;
    char *error; /* why reading stopped early (partial results), or NULL */
};

struct analysis_summary {
    uint64_t packets;
    uint64_t dns_queries, dns_responses, dns_lookups;
    uint64_t lookups_from_quotes; /* see correlate_stats */
    uint64_t answered, icmp_errors, icmp_matched, unanswered, capture_ended;
    uint64_t unsolicited_responses;
    /* TCP connection attempts (SYNs) and their outcomes */
    uint64_t tcp_attempts, tcp_syn_packets;
    uint64_t tcp_established, tcp_reset, tcp_icmp, tcp_unanswered, tcp_capture_ended;
    uint64_t mdns_messages, llmnr_messages, nbns_packets; /* recognised, not lookups */
    /* What the engine's bounds cost (struct analysis_limits): open lookups and TCP attempts
     * closed early because the table was full, and the most lookups open at once. */
    uint64_t lookups_evicted, tcp_evicted, lookups_open_peak;
    /* Lookups closed early because CORRELATE_KEY_MAX of one key (client, server, port,
     * transport, DNS id) were open (correlate_stats.key_evicted). */
    uint64_t lookups_key_evicted;
    /* Where the capture clock stepped (merged or concatenated captures): the count and the
     * first few (correlate_stats.clock_steps_kept). */
    uint64_t clock_steps;
    uint8_t n_clock_steps_kept;
    struct clock_step clock_steps_kept[CORRELATE_STEPS_KEPT];
    /* Hosts the capture holds one direction of (correlate_stats.one_sided): the count and the
     * first few, most packets sent first. */
    uint64_t one_sided_hosts;
    uint8_t n_one_sided_kept;
    struct one_sided_host one_sided[CORRELATE_ONE_SIDED_KEPT];
    /* Live captures: the kernel's counts (pcap_stats) summed over the live inputs, so the
     * reader knows whether the capture was complete: packets that passed the filter, dropped
     * for lack of buffer space, dropped by the interface or its driver. */
    bool has_capture_stats;
    uint64_t cap_received, cap_dropped, cap_if_dropped;
};

/* The bounds the run used (pipeline_limits), for the report. */
struct analysis_limits {
    uint32_t max_lookups, max_tcp_attempts;
    int64_t answer_guard_us;
    uint32_t lookups_per_key; /* open lookups of one key (Markdown's note; not in JSON) */
};

/* One evidence line explained field by field for the appendix. */
struct explain_part {
    char *token;   /* the text of the field as it appears in the line */
    char *meaning; /* plain-language explanation, built from the decoded values */
};
struct explain_line {
    char *heading; /* "A DNS query", "The ICMP error answering it" */
    char *text;    /* the line as shown in the evidence, with its timestamp */
    struct explain_part *parts;
    size_t n_parts;
};

struct analysis {
    const char *version;
    char *reported; /* --reported TEXT, or NULL */
    int64_t timeout_us;
    struct analysis_limits limits;
    /* What the rules' own bounds left out (detect_limits: rule id, counter, count), borrowed
     * from the pipeline's detector. */
    const struct detect_limit *rule_limits;
    size_t n_rule_limits;
    /* What the stages' own bounds (--bound flow.* and correlate.*) left out, only those that
     * did ("rule" is the stage: "flow", "correlate"). */
    struct detect_limit stage_limits[4];
    size_t n_stage_limits;
    struct analysis_input *inputs;
    size_t n_inputs;
    bool has_time;
    struct nt_time first_ts, last_ts;
    struct analysis_summary summary;
    struct finding *const *findings; /* borrowed from the detector; ranked by impact */
    struct finding **ranked;         /* owned array behind findings once ranked, or NULL */
    size_t n_findings;
    uint64_t findings_omitted; /* not made: a rule reached its cap (detect_findings_omitted) */
    /* ICMP errors about DNS that match no query in the capture, the first few kept. */
    uint64_t unmatched_icmp;
    struct evidence unmatched_examples[4];
    size_t n_unmatched_examples;
    /* ICMP errors of any kind tied to no lookup or connection attempt and taken by no rule into
     * a finding (detect_icmp_error), the first few kept. */
    uint64_t icmp_not_taken;
    struct evidence not_taken_examples[8];
    size_t n_not_taken_examples;
    struct explain_line *explain;
    size_t n_explain;
};

/* Orders the findings by impact: the lookups (or attempts) they affected, then their clients,
 * then severity, then time, rule and key, so that the largest problem leads the report, its
 * title and its summary. The detector's own order (severity first) is kept in the detector. Run
 * by analysis_build_explain; false on out of memory. */
bool analysis_rank_findings(struct analysis *a);
/* Builds the appendix of explained lines from the findings' evidence (first query, first
 * error, and one line of each other kind), after ranking the findings (analysis_rank_findings).
 * Returns false on out of memory. */
bool analysis_build_explain(struct analysis *a);
void analysis_fini(struct analysis *a);

/* Renderers: append the whole report to out. Deterministic for the same analysis. */
void report_render_md(const struct analysis *a, struct strbuf *out);
void report_render_json(const struct analysis *a, struct strbuf *out);

/* NDJSON events with Elastic Common Schema names (docs/json-schema.md, "NDJSON"). Each call
 * appends exactly one line: a compact JSON object and '\n'. The stream is written as the
 * analysis runs: a line per DNS lookup (ndjson_lookup, from the correlator's on_lookup, when
 * its outcome is final) and per ICMP error (ndjson_icmp_error, from on_icmp_error), then
 * report_render_ndjson: a line per finding in rank order and the summary line. */
struct dns_lookup;
struct icmp_event;
void ndjson_lookup(struct strbuf *out, const struct dns_lookup *l);
void ndjson_icmp_error(struct strbuf *out, const struct icmp_event *e);
void ndjson_finding(struct strbuf *out, const struct finding *f);
void ndjson_summary(struct strbuf *out, const struct analysis *a);
void report_render_ndjson(const struct analysis *a, struct strbuf *out);

/* Exit status the analysis implies: 1 when there is at least one finding, else 0. */
int analysis_exit_status(const struct analysis *a);
/* Copies what the source counted as unread traffic and ignored text into the input. */
void analysis_input_unread(struct analysis_input *in, const struct source_stats *st);
/* Traffic that was not read, over all inputs (lines of text and frames): when it is not 0 the
 * verdict covers only what was read, and "no problem" is not a clean bill (exit status 2). */
uint64_t analysis_unread(const struct analysis *a);

#endif
