/* jsonw.h: the JSON writer of the JSON report (json.c, pretty) and the NDJSON stream (ndjson.c,
 * compact), and the members of the report model both write alike.
 *
 * The caller writes keys and values in document order; the writer supplies the separators.
 * JSONW_PRETTY lays out like JSON.stringify(v, null, 2): each member or element on its own line
 * indented by two spaces per level, empty containers as {} and [], ": " after keys.
 * JSONW_COMPACT writes no white space at all (one NDJSON line). Every string, keys included,
 * goes through esc_json (escape.h), so any bytes make valid UTF-8 JSON. The same calls give the
 * same bytes. */
#ifndef NT_REPORT_JSONW_H
#define NT_REPORT_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/ntime.h"
#include "util/strbuf.h"

/* Nesting the writer tracks; the report nests at most 7 deep. The depth is fixed by the callers'
 * code, not by the input: past it brackets still balance but separators and indentation go
 * wrong, and jsonw.too_deep is set (the unit tests check it stays false). */
#define JSONW_MAX_DEPTH 16

enum jsonw_layout { JSONW_PRETTY, JSONW_COMPACT };

struct jsonw {
    struct strbuf *out;
    bool pretty;
    bool after_key;              /* the next value completes a member */
    bool too_deep;               /* a container was opened past JSONW_MAX_DEPTH */
    int depth;                   /* open containers (at most JSONW_MAX_DEPTH - 1) */
    bool empty[JSONW_MAX_DEPTH]; /* nothing written yet in the container at each depth */
};

/* Starts a document appended to out (which may hold text already). */
void jsonw_init(struct jsonw *w, struct strbuf *out, enum jsonw_layout layout);

void jsonw_key(struct jsonw *w, const char *k);
void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);

void jsonw_null(struct jsonw *w);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
/* A string of n bytes (any bytes: escaped), or null for NULL. */
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
/* A NUL-terminated string, or null for NULL. */
void jsonw_str(struct jsonw *w, const char *s);
/* A DNS name in presentation form as both reports write it: without the root's trailing dot
 * ("www.example.com"; the root stays "."; nt_dns_name_len_nodot), or null for NULL. */
void jsonw_dns_name(struct jsonw *w, const char *name);
/* A finding's query name with its type ("www.example.com. A", finding.names) the same way:
 * "www.example.com A". */
void jsonw_query_name(struct jsonw *w, const char *qn);
/* v / 10^places as a decimal number with the trailing zeros of its fraction trimmed ("2",
 * "0.25", "-1.000001"), by integer arithmetic so neither the locale nor rounding can change
 * it. places is 0 to 9: 6 writes microseconds as seconds, 3 as milliseconds. */
void jsonw_decimal(struct jsonw *w, int64_t v, unsigned places);
/* A time as nt_time_format writes it, or null when there is none (NT_TIME_NONE). */
void jsonw_time(struct jsonw *w, const struct nt_time *t);
/* An address as nt_addr_format writes it, or null when there is none (NT_AF_NONE). */
void jsonw_addr(struct jsonw *w, const struct nt_addr *a);
/* An IP protocol number: "udp" for 17, "tcp" for 6, else the number. */
void jsonw_protocol(struct jsonw *w, uint8_t proto);

/* A key and its value. */
void jsonw_kv_obj(struct jsonw *w, const char *k); /* "k": { (close with jsonw_obj_end) */
void jsonw_kv_arr(struct jsonw *w, const char *k); /* "k": [ (close with jsonw_arr_end) */
void jsonw_kv_null(struct jsonw *w, const char *k);
void jsonw_kv_str(struct jsonw *w, const char *k, const char *v);
void jsonw_kv_u64(struct jsonw *w, const char *k, uint64_t v);
void jsonw_kv_bool(struct jsonw *w, const char *k, bool v);
void jsonw_kv_decimal(struct jsonw *w, const char *k, int64_t v, unsigned places);
void jsonw_kv_time(struct jsonw *w, const char *k, const struct nt_time *t);
void jsonw_kv_addr(struct jsonw *w, const char *k, const struct nt_addr *a);
/* "k": [v[0], ..., v[n-1]], each a string or null. */
void jsonw_kv_str_array(struct jsonw *w, const char *k, char *const *v, size_t n);

/* ---- Members of the report model that the JSON report and the NDJSON stream write alike ---- */

struct evidence;
struct finding;
struct analysis;
struct analysis_summary;
struct analysis_limits;
struct anomaly_counts;

/* Key names of the quoted datagram's object, which the two formats name differently. */
struct jsonw_quote_keys {
    const char *object, *protocol, *src_port, *dst_port;
};
/* k.object: {"src", "dst", k.protocol, k.src_port, k.dst_port, "dns_id"} of the datagram an
 * ICMP error quotes, with what the input showed of it; nothing when it showed none of it. */
void jsonw_quote(struct jsonw *w, const struct evidence *ev, const struct jsonw_quote_keys *k);
/* "k": [the names of the DNS header flags set in flags, AA TC RD RA AD CD in that order], in
 * lower case ("aa") or upper case ("AA"). */
void jsonw_dns_flags(struct jsonw *w, const char *k, uint16_t flags, bool upper);
/* The finding's "clients", "clients_omitted", "query_names" and "query_names_omitted". */
void jsonw_clients_and_names(struct jsonw *w, const struct finding *f);
/* The finding's "lookups", "packets", "query_packets", "error_packets" and "late_errors". */
void jsonw_finding_counts(struct jsonw *w, const struct finding *f);
/* An input's decoder anomalies, only when it had any (so an input without them reads as before
 * they were counted): "anomalies": [{"id", "count"} of each anomaly seen, in the order of enum
 * nt_anomaly], "packets_with_anomalies" and "anomalies_omitted" (not recorded: their packet had
 * PKT_MAX_ANOMALIES others). */
void jsonw_anomalies(struct jsonw *w, const struct anomaly_counts *c);
/* "window": the finding's incident window (detect/finding.h), null times when not shown. */
void jsonw_window(struct jsonw *w, const struct finding *f);
/* "causes": the finding's ranked causes. */
void jsonw_causes(struct jsonw *w, const struct finding *f);
/* The summary's DNS counts, "packets" to "unsolicited_responses". */
void jsonw_dns_counts(struct jsonw *w, const struct analysis_summary *s);
/* The summary's TCP and local-name counts, the finding counts and what the engine's bounds
 * cost, "tcp_attempts" to "clock_steps". */
void jsonw_other_counts(struct jsonw *w, const struct analysis *a);
/* One-directional hosts (summary.one_sided_hosts and one_sided_first), only when there are some;
 * in the JSON and NDJSON summaries. */
void jsonw_one_sided(struct jsonw *w, const struct analysis_summary *s);
/* "capture_drops": {received, dropped, if_dropped}, the kernel's counts of a live capture
 * (pcap_stats); nothing when no input was live. */
void jsonw_capture_drops(struct jsonw *w, const struct analysis_summary *s);
/* The bounds the run used: "max_lookups", "max_tcp_attempts", "answer_guard_us". */
void jsonw_limits(struct jsonw *w, const struct analysis_limits *l);

#endif
