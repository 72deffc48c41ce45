/* json.c: the report model as one pretty-printed JSON document (RFC 8259; docs/json-schema.md). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "report/analysis.h"
#include "report/jsonw.h"

#define SCHEMA_ID "nettriage.report/2"

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17;
}

static void dns_object(struct jsonw *w, const struct evidence *ev)
{
    char buf[32];
    unsigned opcode = (ev->dns_flags >> 11) & 0xfu;

    jsonw_kv_obj(w, "dns");
    jsonw_kv_u64(w, "id", ev->dns_id);
    jsonw_kv_bool(w, "qr", (ev->dns_flags & DNS_FLAG_QR) != 0);
    /* Nearly every message is a standard query; the opcode is shown only when it is not. */
    if (opcode != 0)
        jsonw_kv_u64(w, "opcode", opcode);
    jsonw_kv_str(w, "rcode", dns_rcode_name(ev->rcode, buf, sizeof buf));
    jsonw_dns_flags(w, "flags", ev->dns_flags, false);
    jsonw_key(w, "qname");
    jsonw_dns_name(w, ev->has_question ? ev->qname : NULL);
    jsonw_kv_str(w, "qtype", ev->has_question ? dns_type_name(ev->qtype, buf, sizeof buf) : NULL);
    jsonw_kv_u64(w, "length", ev->dns_len);
    jsonw_obj_end(w);
}

static void icmp_object(struct jsonw *w, const struct evidence *ev)
{
    static const struct jsonw_quote_keys quote_keys = {
        .object = "quoted", .protocol = "protocol", .src_port = "src_port", .dst_port = "dst_port"};

    jsonw_kv_obj(w, "icmp");
    jsonw_kv_u64(w, "type", ev->icmp_type);
    jsonw_kv_u64(w, "code", ev->icmp_code);
    jsonw_kv_str(w, "kind", icmp_kind_name((enum icmp_kind)ev->icmp_kind));
    jsonw_kv_str(w, "description",
                 icmp_code_description(ev->ip_version, ev->icmp_type, ev->icmp_code));
    jsonw_kv_u64(w, "length", ev->icmp_len);
    jsonw_quote(w, ev, &quote_keys);
    jsonw_obj_end(w);
}

static void evidence_object(struct jsonw *w, const struct evidence *ev)
{
    jsonw_obj_begin(w);
    jsonw_kv_u64(w, "input", ev->input);
    jsonw_kv_u64(w, "packet", ev->pkt);
    if (ev->from_text && ev->line_no > 0)
        jsonw_kv_u64(w, "line", ev->line_no);
    jsonw_kv_time(w, "time", &ev->ts);
    jsonw_kv_str(w, "role", evidence_role_id(ev->role));
    jsonw_kv_str(w, "text", ev->text);
    jsonw_kv_addr(w, "src", &ev->src);
    jsonw_kv_addr(w, "dst", &ev->dst);
    if (has_ports(ev->proto)) {
        jsonw_kv_u64(w, "src_port", ev->sport);
        jsonw_kv_u64(w, "dst_port", ev->dport);
    }
    if (ev->has_dns)
        dns_object(w, ev);
    if (ev->icmp_kind != ICMP_K_NONE)
        icmp_object(w, ev);
    jsonw_obj_end(w);
}

/* What looked like traffic and was not read, and the text ignored (docs/json-schema.md). */
static void unread_members(struct jsonw *w, const struct analysis_input *in)
{
    jsonw_kv_u64(w, "unread_traffic", in->unread);
    jsonw_kv_arr(w, "first_unread");
    for (size_t i = 0; i < in->n_first_unread && i < SOURCE_BAD_LINES_KEPT; i++)
        jsonw_u64(w, in->first_unread[i]);
    jsonw_arr_end(w);
    jsonw_kv_arr(w, "unread_samples");
    for (size_t i = 0; i < in->n_unread_samples && i < SOURCE_SAMPLES_KEPT; i++)
        jsonw_str(w, in->unread_sample[i]);
    jsonw_arr_end(w);
    jsonw_kv_u64(w, "ignored_lines", in->ignored_lines);
}

static void input_object(struct jsonw *w, const struct analysis_input *in)
{
    bool text = in->kind && strcmp(in->kind, "tcpdump text") == 0;

    jsonw_obj_begin(w);
    jsonw_kv_str(w, "path", in->path);
    jsonw_kv_str(w, "kind", in->kind);
    jsonw_kv_str(w, "linktype", in->linktype);
    jsonw_kv_u64(w, "packets", in->packets);
    jsonw_kv_str(w, "date_from", analysis_date_from(in));
    if (in->has_time) {
        jsonw_kv_time(w, "first_packet", &in->first_ts);
        jsonw_kv_time(w, "last_packet", &in->last_ts);
    } else {
        jsonw_kv_null(w, "first_packet");
        jsonw_kv_null(w, "last_packet");
    }
    if (text)
        jsonw_kv_u64(w, "lines", in->lines);
    jsonw_kv_u64(w, "unreadable_lines", in->bad_lines);
    jsonw_kv_arr(w, "first_unreadable_lines");
    size_t n = in->n_first_bad_lines < SOURCE_BAD_LINES_KEPT ? in->n_first_bad_lines
                                                             : SOURCE_BAD_LINES_KEPT;
    for (size_t i = 0; i < n; i++)
        jsonw_u64(w, in->first_bad_lines[i]);
    jsonw_arr_end(w);
    jsonw_kv_u64(w, "unsupported_link_frames", in->unsupported_link);
    unread_members(w, in);
    jsonw_kv_bool(w, "gzip", in->gzip);
    jsonw_kv_bool(w, "pcapng_fallback", in->pcapng_fallback);
    jsonw_kv_obj(w, "fragments");
    jsonw_kv_u64(w, "fragments", in->frag.fragments);
    jsonw_kv_u64(w, "reassembled", in->frag.reassembled);
    jsonw_kv_u64(w, "timed_out", in->frag.timed_out);
    jsonw_kv_u64(w, "evicted", in->frag.evicted);
    jsonw_kv_u64(w, "incomplete", in->frag.incomplete);
    jsonw_kv_u64(w, "lost_fragments", in->frag.lost_fragments);
    jsonw_kv_u64(w, "duplicates", in->frag.duplicates);
    jsonw_kv_u64(w, "overlaps", in->frag.overlaps);
    jsonw_kv_u64(w, "invalid", in->frag.invalid);
    jsonw_kv_u64(w, "uncaptured", in->frag.uncaptured);
    jsonw_kv_u64(w, "unlocated", in->frag_unlocated);
    jsonw_obj_end(w);
    jsonw_anomalies(w, &in->anomalies);
    jsonw_kv_str(w, "error", in->error);
    jsonw_obj_end(w);
}

static void summary_object(struct jsonw *w, const struct analysis *a)
{
    const struct analysis_summary *s = &a->summary;

    jsonw_kv_obj(w, "summary");
    jsonw_kv_u64(w, "unread_traffic", analysis_unread(a));
    jsonw_kv_bool(w, "verdict_covers_all", analysis_unread(a) == 0);
    jsonw_dns_counts(w, s);
    jsonw_other_counts(w, a);
    jsonw_kv_arr(w, "clock_steps_first");
    for (uint8_t i = 0; i < s->n_clock_steps_kept; i++) {
        const struct clock_step *cs = &s->clock_steps_kept[i];
        jsonw_obj_begin(w);
        jsonw_kv_u64(w, "input", cs->input);
        jsonw_kv_u64(w, "packet", cs->pkt);
        jsonw_kv_time(w, "from", &cs->from);
        jsonw_kv_time(w, "to", &cs->to);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_one_sided(w, s);
    jsonw_capture_drops(w, s);
    jsonw_kv_obj(w, "limits");
    jsonw_limits(w, &a->limits);
    jsonw_obj_end(w);
    jsonw_obj_end(w);
}

static void finding_object(struct jsonw *w, const struct finding *f)
{
    size_t n;

    jsonw_obj_begin(w);
    jsonw_kv_str(w, "id", f->id);
    jsonw_kv_str(w, "severity", severity_name((enum severity)f->severity));
    jsonw_key(w, "attack");
    if (attack_technique_id(f->attack)) {
        jsonw_obj_begin(w);
        jsonw_kv_str(w, "id", attack_technique_id(f->attack));
        jsonw_kv_str(w, "name", attack_technique_name(f->attack));
        jsonw_obj_end(w);
    } else {
        jsonw_null(w);
    }
    jsonw_kv_str(w, "title", f->title);
    jsonw_kv_str(w, "protocol", finding_transport_name(f));
    jsonw_kv_u64(w, "port", f->port);
    jsonw_kv_str(w, "service", f->service);
    jsonw_key(w, "server");
    if (f->has_server)
        jsonw_addr(w, &f->server);
    else
        jsonw_null(w);

    jsonw_clients_and_names(w, f);

    jsonw_kv_time(w, "first_seen", &f->first_seen);
    jsonw_kv_time(w, "last_seen", &f->last_seen);
    jsonw_finding_counts(w, f);

    /* The incident window (see finding.h): null times when the capture does not show them. */
    jsonw_window(w, f);

    jsonw_kv_str(w, "summary", f->summary);
    jsonw_kv_str_array(w, "facts", f->facts,
                       f->n_facts < FINDING_MAX_FACTS ? f->n_facts : FINDING_MAX_FACTS);

    jsonw_kv_arr(w, "evidence");
    n = f->n_evidence < FINDING_MAX_EVIDENCE ? f->n_evidence : FINDING_MAX_EVIDENCE;
    for (size_t i = 0; i < n; i++)
        evidence_object(w, &f->evidence[i]);
    jsonw_arr_end(w);
    jsonw_kv_u64(w, "evidence_omitted", f->evidence_dropped);

    jsonw_causes(w, f);
    jsonw_kv_str_array(w, "next_steps", f->next_steps,
                       f->n_next_steps < FINDING_MAX_STEPS ? f->n_next_steps : FINDING_MAX_STEPS);
    jsonw_obj_end(w);
}

static void explain_object(struct jsonw *w, const struct explain_line *e)
{
    jsonw_obj_begin(w);
    jsonw_kv_str(w, "heading", e->heading);
    jsonw_kv_str(w, "text", e->text);
    jsonw_kv_arr(w, "fields");
    for (size_t i = 0; i < e->n_parts; i++) {
        jsonw_obj_begin(w);
        jsonw_kv_str(w, "token", e->parts[i].token);
        jsonw_kv_str(w, "meaning", e->parts[i].meaning);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

void report_render_json(const struct analysis *a, struct strbuf *out)
{
    struct jsonw w;
    size_t n;

    jsonw_init(&w, out, JSONW_PRETTY);
    jsonw_obj_begin(&w);
    jsonw_kv_str(&w, "schema", SCHEMA_ID);
    jsonw_kv_obj(&w, "generator");
    jsonw_kv_str(&w, "name", "nettriage");
    jsonw_kv_str(&w, "version", a->version);
    jsonw_obj_end(&w);
    jsonw_kv_str(&w, "reported", a->reported);
    jsonw_kv_str(&w, "actions", a->actions);
    jsonw_kv_bool(&w, "redacted", a->redacted);
    jsonw_kv_decimal(&w, "timeout_s", a->timeout_us, 6);

    jsonw_kv_arr(&w, "inputs");
    for (size_t i = 0; i < a->n_inputs; i++)
        input_object(&w, &a->inputs[i]);
    jsonw_arr_end(&w);

    jsonw_key(&w, "time_span");
    if (a->has_time) {
        jsonw_obj_begin(&w);
        jsonw_kv_time(&w, "start", &a->first_ts);
        jsonw_kv_time(&w, "end", &a->last_ts);
        jsonw_kv_decimal(&w, "duration_s", nt_time_diff_us(&a->first_ts, &a->last_ts), 6);
        jsonw_obj_end(&w);
    } else {
        jsonw_null(&w);
    }

    summary_object(&w, a);

    jsonw_kv_arr(&w, "findings");
    for (size_t i = 0; i < a->n_findings; i++)
        finding_object(&w, a->findings[i]);
    jsonw_arr_end(&w);

    jsonw_kv_obj(&w, "unmatched_icmp_errors");
    jsonw_kv_u64(&w, "count", a->unmatched_icmp);
    jsonw_kv_arr(&w, "examples");
    n = sizeof a->unmatched_examples / sizeof a->unmatched_examples[0];
    if (a->n_unmatched_examples < n)
        n = a->n_unmatched_examples;
    for (size_t i = 0; i < n; i++)
        evidence_object(&w, &a->unmatched_examples[i]);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);

    jsonw_kv_obj(&w, "icmp_errors_not_taken");
    jsonw_kv_u64(&w, "count", a->icmp_not_taken);
    jsonw_kv_arr(&w, "examples");
    for (size_t i = 0; i < a->n_not_taken_examples; i++)
        evidence_object(&w, &a->not_taken_examples[i]);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);

    jsonw_kv_arr(&w, "explanations");
    for (size_t i = 0; i < a->n_explain; i++)
        explain_object(&w, &a->explain[i]);
    jsonw_arr_end(&w);

    jsonw_obj_end(&w);
    strbuf_putc(out, '\n');
}
