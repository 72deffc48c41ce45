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
    /* Its times of day were dated with --date (the input printed none): analysis.date. */
    bool dated_by_option;
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
/* Explains the fields of a packet's line from the decoded values of its evidence, appending
 * to l->parts: the appendix's explanations, and `nettriage explain`'s. l->text is the line
 * shown; when NULL it is set from ev (its text, with the time in front for a captured
 * packet). The source and destination are called client_role or server_role by the
 * evidence's role (a query's source is the client; an answer's or an ICMP error's source is
 * the server). quoted_size: the size of the datagram an ICMP error quotes, 0 when unknown.
 * Returns false on out of memory. */
struct evidence;
bool analysis_explain_fields(struct explain_line *l, const struct evidence *ev,
                             const char *client_role, const char *server_role,
                             uint32_t quoted_size);
void analysis_explain_line_fini(struct explain_line *l);

/* Traffic over time and per server, for the HTML report (analysis_traffic_*): filled from the
 * facts of every final lookup and every ICMP error while the pipeline runs, bounded whatever the
 * capture's size (bins, capped samples and rows; what is left out is counted). */
#define TRAFFIC_BINS    200 /* timeline bins at most; their width grows as needed */
#define TRAFFIC_SERVERS 64  /* servers with their own answer times; the rest are counted */
/* Answer times kept per server (a fixed-seed reservoir past it). */
#define TRAFFIC_SAMPLES       65536
#define TRAFFIC_FAILING_ROWS  100 /* failing lookups listed, the earliest (input, packet) */
#define TRAFFIC_ANSWERED_ROWS 20  /* answered lookups listed as a sample, the earliest */
#define TRAFFIC_ICMP_ROWS     100 /* ICMP errors listed, the first */

enum traffic_event {
    TE_QUERY = 0,  /* a lookup's first query (by the query packet's time) */
    TE_ANSWER,     /* its first answer */
    TE_ICMP,       /* an ICMP error packet, about DNS or not */
    TE_UNANSWERED, /* a lookup that got no answer nor error within the timeout (at its query) */
    TE_COUNT
};

/* Counts per kind of event in bins of width_us microseconds from origin_us (the packets' own
 * stamps, in microseconds since the epoch or, for times of day, since midnight). Only times of
 * the clock kind of the first event are binned; the others are counted in off_clock. */
struct traffic_timeline {
    bool any;
    uint8_t clock; /* enum nt_time_kind of the binned times */
    int64_t origin_us, width_us;
    uint32_t used;                          /* bins from origin holding an event: [0, used) */
    uint64_t n[TRAFFIC_BINS + 4][TE_COUNT]; /* room to realign the origin when widening */
    uint64_t total[TE_COUNT];
    uint64_t off_clock; /* on another clock than the first event's, or a damaged stamp */
    uint64_t no_time;
};

/* Answer times (query to answer: dns_lookup.rtt_us) of one server, port and transport. */
struct traffic_server {
    struct nt_addr server;
    uint16_t port;
    uint8_t transport;
    uint64_t lookups, answered, icmp_errors, unanswered;
    uint64_t samples_seen; /* answer times offered; n_samples of them kept */
    int64_t *samples;
    uint32_t n_samples;
    uint64_t rng; /* the reservoir's fixed-seed generator */
};

/* One lookup as the HTML table shows it (facts only; qname owned). */
struct traffic_lookup {
    uint32_t input;
    uint64_t pkt; /* the first query packet, or the error's when the query is not in the input */
    struct nt_time ts;
    struct nt_addr client, server;
    uint16_t server_port, id, qtype, rcode;
    uint8_t transport, outcome; /* enum lookup_outcome */
    bool id_unknown, from_quote, late;
    char *qname; /* NULL when no question was seen */
    uint32_t transmissions;
    int64_t rtt_us;
    uint8_t icmp_type, icmp_code, ip_version;
};

/* One ICMP error packet as the HTML table shows it. */
struct traffic_icmp {
    uint32_t input;
    uint64_t pkt;
    struct nt_time ts;
    struct nt_addr src, dst;
    uint8_t ip_version, type, code, sender; /* enum icmp_sender */
    bool about_dns;
    uint8_t tied; /* 1 tied to a DNS lookup, 2 to a TCP connection attempt, 0 to nothing */
    bool quote_present, quote_has_ports;
    struct nt_addr q_dst;
    uint8_t q_proto;
    uint16_t q_dport;
};

struct analysis_traffic {
    struct traffic_timeline timeline;
    struct traffic_server servers[TRAFFIC_SERVERS];
    size_t n_servers;
    uint64_t other_server_lookups; /* lookups to servers past TRAFFIC_SERVERS */
    struct traffic_lookup failing[TRAFFIC_FAILING_ROWS];
    size_t n_failing;
    uint64_t failing_total;
    struct traffic_lookup answered[TRAFFIC_ANSWERED_ROWS];
    size_t n_answered;
    uint64_t answered_total;
    struct traffic_icmp icmp[TRAFFIC_ICMP_ROWS];
    size_t n_icmp;
    uint64_t icmp_total;
    bool oom;
};

struct analysis {
    const char *version;
    char *reported; /* --reported TEXT, or NULL */
    char *actions;  /* --actions TEXT: what the team did, or NULL */
    /* --date YYYY-MM-DD as given ("" without it), and the zone its times of day were read in
     * (the --timezone zone): said wherever an input's dates came from it. */
    char date[11];
    struct nt_zone date_zone;
    bool redacted; /* --redact: client addresses are written as pseudonyms (report/redact.h) */
    int64_t timeout_us;
    struct analysis_limits limits;
    /* What the rules' own bounds left out (detect_limits: rule id, counter, count), borrowed
     * from the pipeline's detector. */
    const struct detect_limit *rule_limits;
    size_t n_rule_limits;
    /* What the stages' own bounds (--bound flow.*, correlate.* and detect.services) left out,
     * only those that did ("rule" is the stage: "flow", "correlate", "detect"). */
    struct detect_limit stage_limits[8];
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
    /* Traffic over time and per server (HTML), or NULL when the renderer does not need it:
     * owned, filled by analysis_traffic_lookup and analysis_traffic_icmp. */
    struct analysis_traffic *traffic;
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

/* Starts collecting a->traffic (before the pipeline runs); false when out of memory. */
bool analysis_traffic_start(struct analysis *a);
/* Adds one final lookup or one ICMP error (the pipeline sink's callbacks). A lookup's failure
 * is its outcome: an ICMP error, no answer, or an answer with SERVFAIL, REFUSED, NOTIMP or
 * FORMERR. Out of memory is remembered in traffic->oom. */
void analysis_traffic_lookup(struct analysis_traffic *t, const struct dns_lookup *l);
void analysis_traffic_icmp(struct analysis_traffic *t, const struct icmp_event *e);
/* Sorts what was kept for output (rows by input and packet, servers by address and port, each
 * server's samples): run once after the pipeline finished. */
void analysis_traffic_finish(struct analysis_traffic *t);
void analysis_traffic_free(struct analysis_traffic *t); /* by analysis_fini */
/* The answer time at percentile p (1..100) of a server's kept samples, nearest rank, after
 * analysis_traffic_finish; -1 when it has none. */
int64_t traffic_percentile(const struct traffic_server *s, unsigned p);
/* A lookup outcome that is a failure (traffic_lookup rows): see analysis_traffic_lookup. */
bool traffic_lookup_failed(uint8_t outcome, uint16_t rcode);

/* Renderers: append the whole report to out. Deterministic for the same analysis. */
void report_render_md(const struct analysis *a, struct strbuf *out);
void report_render_json(const struct analysis *a, struct strbuf *out);
/* Terminal text (text.c): 80 columns, with ANSI colour and severity badges when color. */
void report_render_text(const struct analysis *a, struct strbuf *out, bool color);
/* One self-contained HTML file (html.c); its timeline, lookup and ICMP tables and answer-time
 * percentiles need a->traffic (without it they say they were not collected). */
void report_render_html(const struct analysis *a, struct strbuf *out);

/* NDJSON events with Elastic Common Schema names (docs/json-schema.md, "NDJSON"). Each call
 * appends exactly one line: a compact JSON object and '\n'. The stream is written as the
 * analysis runs: a line per DNS lookup (ndjson_lookup, from the correlator's on_lookup, when
 * its outcome is final) and per ICMP error (ndjson_icmp_error, from on_icmp_error), then
 * report_render_ndjson: a line per finding in rank order and the summary line. */
struct dns_lookup;
struct icmp_event;
void ndjson_lookup(struct strbuf *out, const struct dns_lookup *l);
void ndjson_icmp_error(struct strbuf *out, const struct icmp_event *e);
/* A TCP connection attempt when final (event.dataset "nettriage.tcp"). */
void ndjson_tcp_attempt(struct strbuf *out, const struct tcp_attempt *t);
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
/* Where the dates of times of day came from, when --date gave them (plain ASCII, no markup:
 * every format writes it as it is): "The times of day of input 1 carry no date: they are
 * dated 2026-11-21 as given with --date, read as UTC+01:00 wall-clock times." Writes "" and
 * returns false when no input was dated by --date. */
bool analysis_date_note(const struct analysis *a, char *buf, size_t n);
/* "input": the input's own dates; "--date": its times of day dated by the option; NULL: its
 * times carry no date (or it has none). */
const char *analysis_date_from(const struct analysis_input *in);
/* With --redact, what the pseudonyms stand for (plain ASCII, no markup); NULL without it. */
const char *analysis_redact_note(const struct analysis *a);

#endif
