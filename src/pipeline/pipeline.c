/* pipeline.c: source -> decode -> flow -> correlate -> detect over the inputs, filling the
 * report model (see pipeline.h). */
#include "pipeline/pipeline.h"
#include "report/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "correlate/dnsconn.h"
#include "correlate/sides.h"
#include "detect/rcode_table.h"
#include "detect/rule.h"
#include "flow/flow.h"
#include "pipeline/handoff.h"
#include "source/source.h"
#include "util/err.h"
#include "util/hugemem.h"

struct pipeline {
    struct pipeline_config cfg;
    struct pipeline_sink sink;
    struct analysis *a;
    size_t n_inputs;
    struct detector *det;
    /* pipeline_config.threads 2: the detector's events go through it to a thread of its own
     * (pipeline/handoff.h); NULL: the detector is called directly. */
    struct handoff *ho;
    struct correlator *cor;
    struct flow *flow;  /* of the input being read */
    struct source *src; /* the input being read (pipeline_read_source), else NULL */
    uint32_t src_idx;
    /* What the flow stage's bounds left out, over every input: DNS-over-TCP streams evicted
     * and messages past the most one segment may complete. */
    uint64_t tcp_dns_evicted, tcp_dns_dropped;
    struct packet *pkt; /* reused for every packet */
    /* Host names read from text inputs (tcpdump printed them instead of addresses), interned
     * for this run: every address, finding and model the run makes may point into it, so it
     * lives as long as the pipeline (whose detector the model borrows its findings from). */
    struct nt_names *names;
    struct incident_tracker *inc; /* watch only */
    uint32_t unread_input;        /* the input whose unread lines go to sink.on_unread */
    bool oom;
    bool det_oom; /* out of memory on the detector's side (its thread when ho is set) */
    unsigned threads; /* 2 when the detector got a thread of its own */
    pipeline_read_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

const struct pipeline_stage_bound pipeline_stage_bounds[] = {
    {"correlate.lookups_per_key", CORRELATE_KEY_MAX, 2, 1048576,
     "open lookups of one client, server, port and DNS id (a flood reusing one id)"},
    {"correlate.dns_tcp_connections", DNSCONN_MAX, 16, 16777216,
     "DNS-over-TCP connections followed after their handshake"},
    {"correlate.hosts_seen", SIDES_MAX_HOSTS, 16, 16777216,
     "hosts whose packets are counted to tell one-direction captures"},
    {"flow.frag_datagrams", REASM_MAX_DATAGRAMS, 1, 1048576, "IP datagrams in reassembly at once"},
    {"flow.frag_bytes", REASM_MAX_BYTES, 65536, (uint64_t)1 << 32,
     "bytes held by IP datagrams in reassembly"},
    {"flow.tcp_dns_flows", TCPDNS_MAX_FLOWS, 1, 1048576,
     "DNS-over-TCP streams reassembled at once"},
    {"flow.tcp_dns_bytes", TCPDNS_MAX_BYTES, 65536, (uint64_t)1 << 32,
     "bytes buffered by DNS-over-TCP streams"},
    {"detect.rcode_keys", RCODE_VIEW_MAX_ENTRIES, 16, 16777216,
     "services, clients and questions whose SERVFAIL or REFUSED answers are counted (each)"},
    {"detect.server_clients", SERVER_CLIENTS_KEPT, 1, 16777216,
     "distinct clients counted exactly per DNS server (past it \"at least\")"},
    {"detect.server_clients_bytes", DETECT_SERVER_CLIENTS_BYTES, 4096, (uint64_t)1 << 40,
     "bytes of every DNS server's set of distinct clients together (past it a set stops "
     "growing and counts \"at least\")"},
    {"detect.history_bytes", DETECT_HISTORY_BYTES, 65536, (uint64_t)1 << 40,
     "bytes of the services' success histories together (past it their times are kept in "
     "wider buckets)"},
    {"detect.services", DETECT_SERVICES_KEPT, 16, 16777216,
     "services (server, port, transport) whose lookups, answers, clients and successes over time "
     "the detector keeps for the rules' sentences and the incident windows"},
    {NULL, 0, 0, 0, NULL},
};

/* Where each stage bound's value lives (same order as pipeline_stage_bounds). */
static uint64_t *stage_bound_slot(struct pipeline_limits *l, size_t i)
{
    uint64_t *slots[] = {&l->lookups_per_key, &l->dns_tcp_connections, &l->hosts_seen,
                         &l->frag_datagrams,  &l->frag_bytes,          &l->tcp_dns_flows,
                         &l->tcp_dns_bytes,   &l->rcode_keys,          &l->server_clients,
                         &l->clients_bytes,   &l->history_bytes,       &l->detect_services};
    return i < sizeof slots / sizeof *slots ? slots[i] : NULL;
}

int pipeline_set_stage_bound(struct pipeline_config *cfg, const char *name, uint64_t value)
{
    for (size_t i = 0; pipeline_stage_bounds[i].name; i++) {
        const struct pipeline_stage_bound *b = &pipeline_stage_bounds[i];
        if (strcmp(b->name, name) != 0)
            continue;
        if (value < b->min || value > b->max)
            return -2;
        *stage_bound_slot(&cfg->limits, i) = value;
        return 0;
    }
    return -1;
}

void pipeline_config_default(struct pipeline_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->timeout_us = 5000000;
    cfg->limits.max_lookups = 1000000;
    cfg->limits.max_tcp_attempts = 1000000;
    cfg->limits.answer_guard_us = 1000000;
    for (size_t i = 0; pipeline_stage_bounds[i].name; i++)
        *stage_bound_slot(&cfg->limits, i) = pipeline_stage_bounds[i].def;
}

/* The detector's side of each event: on the detector's thread when there is one (the
 * handoff's callback, det_event), else straight from the correlator's callbacks below. It
 * writes only the detector and the model's ICMP figures, which nothing reads before
 * pipeline_finish. */
static void det_icmp(struct pipeline *p, const struct icmp_event *e)
{
    bool taken = detect_icmp_error(p->det, e);
    struct analysis *a = p->a;
    if (!taken) {
        a->icmp_not_taken++;
        if (a->n_not_taken_examples <
                sizeof a->not_taken_examples / sizeof a->not_taken_examples[0] &&
            !evidence_copy(&a->not_taken_examples[a->n_not_taken_examples++], e->ev))
            p->det_oom = true;
    }
    /* Errors about DNS that match no lookup: traffic the capture did not see. */
    if (!e->lookup && e->about_dns) {
        a->unmatched_icmp++;
        if (a->n_unmatched_examples <
                sizeof a->unmatched_examples / sizeof a->unmatched_examples[0] &&
            !evidence_copy(&a->unmatched_examples[a->n_unmatched_examples++], e->ev))
            p->det_oom = true;
    }
}

static void det_event(void *ctx, enum handoff_kind kind, const void *obj)
{
    struct pipeline *p = ctx;
    switch (kind) {
    case HANDOFF_LOOKUP:
        detect_lookup(p->det, obj);
        break;
    case HANDOFF_ICMP:
        det_icmp(p, obj);
        break;
    case HANDOFF_STRAY:
        detect_stray_response(p->det, obj);
        break;
    case HANDOFF_MALFORMED:
        detect_dns_malformed(p->det, obj);
        break;
    case HANDOFF_TCP:
        detect_tcp_attempt(p->det, obj);
        break;
    }
}

/* The lookup's readers on this thread: watch's incident tracker and the caller's sink. */
static void lookup_readers(struct pipeline *p, const struct dns_lookup *l)
{
    if (p->inc)
        incident_lookup(p->inc, l);
    if (p->sink.on_lookup)
        p->sink.on_lookup(p->sink.ctx, l);
}

static void on_lookup(void *ctx, const struct dns_lookup *l)
{
    struct pipeline *p = ctx;
    if (p->ho)
        handoff_lookup(p->ho, l);
    else
        detect_lookup(p->det, l);
    lookup_readers(p, l);
}

/* The same for a lookup whose evidence the correlator lets go of: with the detector on its
 * own thread, the evidence is lent to it rather than copied (handoff_lookup_lend), so the
 * readers on this thread see the lookup first. */
static void on_lookup_lend(void *ctx, struct dns_lookup *l)
{
    struct pipeline *p = ctx;
    if (!p->ho) {
        on_lookup(ctx, l);
        return;
    }
    lookup_readers(p, l);
    handoff_lookup_lend(p->ho, l);
}

static void give_back(void *ctx, struct evidence_loan *loan)
{
    struct pipeline *p = ctx;
    correlate_give_back(p->cor, loan);
}

static void on_icmp(void *ctx, const struct icmp_event *e)
{
    struct pipeline *p = ctx;
    if (p->ho)
        handoff_icmp(p->ho, e);
    else
        det_icmp(p, e);
    if (p->sink.on_icmp_error)
        p->sink.on_icmp_error(p->sink.ctx, e);
}

static void on_stray(void *ctx, const struct stray_response *r)
{
    struct pipeline *p = ctx;
    if (p->ho)
        handoff_stray(p->ho, r);
    else
        detect_stray_response(p->det, r);
}

static void on_malformed(void *ctx, const struct dns_malformed *m)
{
    struct pipeline *p = ctx;
    if (p->ho)
        handoff_malformed(p->ho, m);
    else
        detect_dns_malformed(p->det, m);
}

static void on_tcp(void *ctx, const struct tcp_attempt *t)
{
    struct pipeline *p = ctx;
    if (p->ho)
        handoff_tcp(p->ho, t);
    else
        detect_tcp_attempt(p->det, t);
    if (p->inc)
        incident_tcp_attempt(p->inc, t);
    if (p->sink.on_tcp_attempt)
        p->sink.on_tcp_attempt(p->sink.ctx, t);
}

static void on_incident(void *ctx, const struct incident_event *ev)
{
    struct pipeline *p = ctx;
    if (p->sink.on_incident)
        p->sink.on_incident(p->sink.ctx, ev);
}

struct pipeline *pipeline_new(const struct pipeline_config *cfg, const struct pipeline_sink *sink,
                              struct analysis *a, size_t n_inputs)
{
    nt_hugemem_init();
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = *cfg;
    if (sink)
        p->sink = *sink;
    p->a = a;
    p->n_inputs = n_inputs;
    struct correlate_config cc;
    correlate_config_default(&cc, cfg->timeout_us);
    cc.max_open = cfg->limits.max_lookups;
    cc.max_tcp_open = cfg->limits.max_tcp_attempts;
    cc.answer_guard_us = cfg->limits.answer_guard_us;
    cc.max_per_key = (uint32_t)cfg->limits.lookups_per_key;
    cc.max_dns_conns = (uint32_t)cfg->limits.dns_tcp_connections;
    cc.max_hosts_seen = (uint32_t)cfg->limits.hosts_seen;
    /* Each packet's relation to the ones before it is for explain's sink alone. */
    cc.relations = sink && sink->on_relation;
    struct correlate_callbacks cb = {.ctx = p,
                                     .on_lookup = on_lookup,
                                     .on_lookup_lend = on_lookup_lend,
                                     .on_icmp_error = on_icmp,
                                     .on_tcp_attempt = on_tcp,
                                     .on_stray_response = on_stray,
                                     .on_dns_malformed = on_malformed};
    p->pkt = calloc(1, sizeof *p->pkt);
    p->names = nt_names_new();
    p->det = detect_new(cfg->timeout_us);
    if (p->det)
        detect_set_limits(p->det, cfg->limits.rcode_keys, cfg->limits.server_clients,
                          cfg->limits.detect_services, cfg->limits.history_bytes,
                          cfg->limits.clients_bytes);
    for (size_t i = 0; p->det && i < cfg->n_bounds; i++)
        if (detect_set_bound(p->det, cfg->bounds[i].rule, cfg->bounds[i].name,
                             cfg->bounds[i].value) != 0) {
            detect_free(p->det);
            p->det = NULL;
        }
    p->cor = correlate_new(&cc, &cb);
    if (cfg->incidents)
        p->inc = incident_new(cfg->incidents, cc.late_window_us, on_incident, p);
    if (!a->inputs && n_inputs)
        a->inputs = calloc(n_inputs, sizeof *a->inputs);
    if (!p->pkt || !p->names || !p->det || !p->cor || (cfg->incidents && !p->inc) ||
        (n_inputs && !a->inputs)) {
        pipeline_free(p);
        return NULL;
    }
    /* The detector on a thread of its own, unless something reads its state while packets
     * still come (watch's incident tracker and its forked snapshots between packets). A
     * thread that cannot be made leaves it on this one. */
    if (cfg->threads > 1 && !cfg->incidents && !p->sink.on_read)
        p->ho = handoff_new(det_event, p);
    if (p->ho)
        handoff_set_give_back(p->ho, give_back, p);
    p->threads = p->ho ? 2 : 1;
    a->n_inputs = n_inputs;
    a->timeout_us = cfg->timeout_us;
    a->limits.max_lookups = cfg->limits.max_lookups;
    a->limits.max_tcp_attempts = cfg->limits.max_tcp_attempts;
    a->limits.lookups_per_key = cc.max_per_key;
    a->limits.answer_guard_us = cfg->limits.answer_guard_us;
    nt_hugemem_follow(); /* what the stages' first tables took */
    return p;
}

int pipeline_packet(struct pipeline *p, const struct packet *pkt, uint32_t idx)
{
    if (idx < p->n_inputs)
        anomaly_counts_add(&p->a->inputs[idx].anomalies, pkt);
    if (idx < p->n_inputs && pkt->ts.kind != NT_TIME_NONE) {
        struct analysis_input *in = &p->a->inputs[idx];
        if (!in->has_time || nt_time_cmp(&pkt->ts, &in->first_ts) < 0)
            in->first_ts = pkt->ts;
        if (!in->has_time || nt_time_cmp(&pkt->ts, &in->last_ts) > 0)
            in->last_ts = pkt->ts;
        in->has_time = true;
    }
    if (p->cfg.redact && !redact_observe(p->cfg.redact, pkt))
        p->oom = true;
    int rc = correlate_packet(p->cor, pkt, idx);
    if (rc < 0)
        p->oom = true;
    if (p->inc)
        incident_tick(p->inc, &pkt->ts);
    if (p->sink.on_relation)
        p->sink.on_relation(p->sink.ctx, pkt, correlate_relation(p->cor));
    if (p->sink.on_packet)
        p->sink.on_packet(p->sink.ctx, pkt);
    return rc;
}

void pipeline_end_input(struct pipeline *p)
{
    correlate_finish(p->cor);
}

static bool end_source(struct pipeline *p, struct source *src, uint32_t idx, int rc,
                       const char *err);

bool pipeline_read(struct pipeline *p, const char *path, uint32_t idx)
{
    struct analysis_input *in = &p->a->inputs[idx];
    char err[SOURCE_ERROR_MAX];
    err[0] = '\0';
    if (!in->path)
        in->path = strdup(path);
    struct source *src = NULL;
    int rc = source_open(path, &src, err);
    if (rc < 0) {
        in->error = strdup(err[0] ? err : nt_strerror(rc));
        return false;
    }
    bool ok = pipeline_read_source(p, src, path, idx);
    source_close(src);
    return ok;
}

static void unread_line(void *ctx, uint64_t line_no, const char *line, size_t len)
{
    struct pipeline *p = ctx;
    p->sink.on_unread(p->sink.ctx, p->unread_input, line_no, line, len);
}

void pipeline_idle(struct pipeline *p, const struct nt_time *now)
{
    correlate_idle(p->cor, now);
    if (p->inc)
        incident_tick(p->inc, now);
}

static void idle_cb(void *ctx, const struct nt_time *now)
{
    pipeline_idle(ctx, now);
}

bool pipeline_read_source(struct pipeline *p, struct source *src, const char *label, uint32_t idx)
{
    struct analysis_input *in = &p->a->inputs[idx];
    char err[SOURCE_ERROR_MAX];
    err[0] = '\0';
    if (!in->path && label)
        in->path = strdup(label);
    source_set_names(src, p->names);
    if (p->sink.on_unread) {
        p->unread_input = idx;
        source_set_unread_hook(src, unread_line, p);
    }
    in->kind = source_kind_name(source_kind(src));
    const struct flow_bounds fb = {
        (uint32_t)p->cfg.limits.frag_datagrams, (size_t)p->cfg.limits.frag_bytes,
        (uint32_t)p->cfg.limits.tcp_dns_flows, (size_t)p->cfg.limits.tcp_dns_bytes};
    p->flow = flow_new_bounded(&fb);
    if (!p->flow) {
        in->error = strdup(nt_strerror(NT_ERR_NOMEM));
        p->oom = true;
        return false;
    }
    p->src = src;
    p->src_idx = idx;
    if (p->cfg.idle_clock)
        source_set_idle(src, idle_cb, p);
    int rc;
    struct pipeline_read_progress rp = {.input = idx, .total = source_bytes_total(src)};
    uint32_t until_progress = PIPELINE_PROGRESS_PACKETS, until_hugemem = 1;
    while ((rc = source_next(src, p->pkt)) == 1) {
        /* Every NT_HUGEMEM_PACKETS packets: a call and sbrk per packet were 0.8% of the
         * instructions on busy200k.pcap, and the heap grows by 16 MiB steps once followed. */
        if (--until_hugemem == 0) {
            until_hugemem = NT_HUGEMEM_PACKETS;
            nt_hugemem_follow();
        }
        if (p->progress && --until_progress == 0) {
            until_progress = PIPELINE_PROGRESS_PACKETS;
            rp.packets = source_stats(src)->packets;
            rp.bytes = source_bytes_read(src);
            p->progress(p->progress_ctx, &rp);
        }
        if (p->cfg.date_set && p->pkt->ts.kind == NT_TIME_OF_DAY) {
            int64_t sec;
            if (nt_zone_to_unix(&p->cfg.date_zone, p->cfg.date_y, p->cfg.date_m, p->cfg.date_d,
                                p->pkt->ts.sec, &sec)) {
                p->pkt->ts.sec = sec;
                p->pkt->ts.kind = NT_TIME_ABSOLUTE;
                in->dated_by_option = true;
            }
        }
        /* Each packet the flow stage hands on: the one read, then the extra DNS messages its
         * segment completed (same number and time, not packets of the input). */
        flow_packet(p->flow, p->pkt);
        bool more = true;
        while (more && (rc = pipeline_packet(p, p->pkt, idx)) >= 0)
            more = flow_next(p->flow, p->pkt);
        if (rc < 0) {
            rc = NT_ERR_NOMEM;
            snprintf(err, sizeof err, "%s", nt_strerror(NT_ERR_NOMEM));
            break;
        }
        if (p->sink.on_read)
            p->sink.on_read(p->sink.ctx);
    }
    p->src = NULL;
    return end_source(p, src, idx, rc, err);
}

void pipeline_cut_input(struct pipeline *p)
{
    if (!p->src)
        return;
    struct source *src = p->src;
    p->src = NULL;
    end_source(p, src, p->src_idx, 0, "");
}

/* The end of input idx read from src: rc the last source_next (0 a clean end), err the reason
 * of an error of the pipeline's own. Fills the input's figures; returns whether it was read
 * without error. */
static bool end_source(struct pipeline *p, struct source *src, uint32_t idx, int rc,
                       const char *err)
{
    struct analysis_input *in = &p->a->inputs[idx];
    /* Datagrams and messages still incomplete count as such when the input ended cleanly; a
     * damaged input leaves them uncounted, as the reader stopped inside the capture. */
    if (rc == 0)
        flow_finish(p->flow);
    pipeline_end_input(p);
    if (p->progress) {
        struct pipeline_read_progress rp = {.input = idx,
                                            .total = source_bytes_total(src),
                                            .packets = source_stats(src)->packets,
                                            .bytes = source_bytes_read(src),
                                            .done = true};
        p->progress(p->progress_ctx, &rp);
    }
    const struct flow_stats *fs = flow_stats(p->flow);
    in->frag = fs->frag;
    p->tcp_dns_evicted += fs->tcpdns.evicted;
    p->tcp_dns_dropped += fs->tcpdns.dropped;
    in->frag_unlocated = fs->frag_unlocated;
    flow_free(p->flow);
    p->flow = NULL;
    const struct source_stats *st = source_stats(src);
    in->packets = st->packets;
    in->lines = st->lines;
    in->bad_lines = st->bad_lines;
    analysis_input_unread(in, st);
    in->unsupported_link = st->unsupported_link;
    in->gzip = st->gzip;
    in->pcapng_fallback = st->pcapng_fallback;
    in->has_capture_stats = st->has_capture_stats;
    in->cap_received = st->cap_received;
    in->cap_dropped = st->cap_dropped;
    in->cap_if_dropped = st->cap_if_dropped;
    for (size_t i = 0; i < SOURCE_BAD_LINES_KEPT && i < st->bad_lines; i++)
        in->first_bad_lines[in->n_first_bad_lines++] = st->first_bad_lines[i];
    if (source_kind(src) != SOURCE_TEXT)
        in->linktype = decode_linktype_name(st->linktype);
    bool ok = true;
    if (rc < 0) {
        const char *why = source_error(src)[0] ? source_error(src) : err;
        if (!why[0])
            why = nt_strerror(rc);
        in->error = strdup(why);
        ok = false;
    }
    return ok;
}

void pipeline_set_read_progress(struct pipeline *p, pipeline_read_progress_fn fn, void *ctx)
{
    p->progress = fn;
    p->progress_ctx = ctx;
}

unsigned pipeline_threads(const struct pipeline *p)
{
    return p->threads;
}

struct incident_tracker *pipeline_incidents(struct pipeline *p)
{
    return p->inc;
}

void pipeline_progress(const struct pipeline *p, struct pipeline_progress *pr)
{
    const struct correlate_stats *cs = correlate_stats(p->cor);
    memset(pr, 0, sizeof *pr);
    pr->dns_lookups = cs->dns_lookups;
    pr->answered = cs->answered;
    pr->icmp_errors = cs->icmp_errors;
    pr->unanswered = cs->unanswered;
    pr->tcp_attempts = cs->tcp_attempts;
    pr->tcp_failed = cs->tcp_reset + cs->tcp_icmp + cs->tcp_unanswered;
}

bool pipeline_finish(struct pipeline *p)
{
    struct analysis *a = p->a;
    if (p->inc)
        incident_end(p->inc);
    uint64_t packets = 0;
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        packets += in->packets;
        if (in->has_capture_stats) {
            a->summary.has_capture_stats = true;
            a->summary.cap_received += in->cap_received;
            a->summary.cap_dropped += in->cap_dropped;
            a->summary.cap_if_dropped += in->cap_if_dropped;
        }
        /* The overall span only joins inputs whose times are of the same kind. */
        if (in->has_time && (!a->has_time || in->first_ts.kind == a->first_ts.kind)) {
            if (!a->has_time || nt_time_cmp(&in->first_ts, &a->first_ts) < 0)
                a->first_ts = in->first_ts;
            if (!a->has_time || nt_time_cmp(&in->last_ts, &a->last_ts) > 0)
                a->last_ts = in->last_ts;
            a->has_time = true;
        }
    }
    /* Every event the detector's thread still has, then it ends: the rules' end and everything
     * below read what it wrote. */
    handoff_free(p->ho);
    p->ho = NULL;
    if (p->det_oom)
        p->oom = true;
    const struct correlate_stats *cs = correlate_stats(p->cor);
    detect_finish(p->det, cs);
    a->n_findings = detect_findings(p->det, &a->findings);
    a->findings_omitted = detect_findings_omitted(p->det);
    a->n_rule_limits = detect_limits(p->det, &a->rule_limits);
    /* The stages' bounds that left something out, in a fixed order. */
    uint64_t svc_not_kept, svc_events;
    detect_services_not_kept(p->det, &svc_not_kept, &svc_events);
    const struct detect_limit stage[] = {
        {"correlate", "dns_tcp_connections_forgotten", cs->dns_conns_forgotten},
        {"correlate", "hosts_seen_packets_not_counted", cs->hosts_seen_not_counted},
        {"flow", "tcp_dns_streams_evicted", p->tcp_dns_evicted},
        {"flow", "tcp_dns_messages_dropped", p->tcp_dns_dropped},
        {"detect", "services_not_kept", svc_not_kept},
        {"detect", "service_events_not_counted", svc_events},
        {"detect", "history_width_doublings", detect_history_doublings(p->det)},
        {"detect", "server_client_sets_frozen", detect_client_sets_frozen(p->det)},
    };
    a->n_stage_limits = 0;
    for (size_t i = 0; i < sizeof stage / sizeof *stage; i++)
        if (stage[i].count)
            a->stage_limits[a->n_stage_limits++] = stage[i];
    /* Records read: the extra DNS messages one TCP segment completes (flow/flow.h) reach the
     * correlator as packets of their own but are not packets of the input. */
    struct analysis_summary *s = &a->summary;
    s->packets = packets;
    s->dns_queries = cs->dns_queries;
    s->dns_responses = cs->dns_responses;
    s->dns_lookups = cs->dns_lookups;
    s->lookups_from_quotes = cs->lookups_from_quotes;
    s->answered = cs->answered;
    s->icmp_errors = cs->icmp_errors;
    s->icmp_matched = cs->icmp_matched;
    s->unanswered = cs->unanswered;
    s->capture_ended = cs->capture_ended;
    s->unsolicited_responses = cs->unsolicited_responses;
    s->tcp_attempts = cs->tcp_attempts;
    s->tcp_syn_packets = cs->tcp_syn_packets;
    s->tcp_established = cs->tcp_established;
    s->tcp_reset = cs->tcp_reset;
    s->tcp_icmp = cs->tcp_icmp;
    s->tcp_unanswered = cs->tcp_unanswered;
    s->tcp_capture_ended = cs->tcp_capture_ended;
    s->mdns_messages = cs->mdns_messages;
    s->llmnr_messages = cs->llmnr_messages;
    s->nbns_packets = cs->nbns_packets;
    s->lookups_evicted = cs->evicted;
    s->lookups_key_evicted = cs->key_evicted;
    s->tcp_evicted = cs->tcp_evicted;
    s->lookups_open_peak = cs->open_peak;
    s->clock_steps = cs->clock_steps;
    s->n_clock_steps_kept = cs->n_clock_steps_kept;
    memcpy(s->clock_steps_kept, cs->clock_steps_kept, sizeof s->clock_steps_kept);
    s->one_sided_hosts = cs->one_sided_hosts;
    s->n_one_sided_kept = cs->n_one_sided_kept;
    memcpy(s->one_sided, cs->one_sided, sizeof s->one_sided);
    if (!analysis_build_explain(a))
        p->oom = true;
    return !p->oom;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    handoff_discard(p->ho); /* a run given up before pipeline_finish */
    flow_free(p->flow);
    correlate_free(p->cor);
    incident_free(p->inc);
    detect_free(p->det);
    free(p->pkt);
    nt_names_free(p->names);
    free(p);
}
