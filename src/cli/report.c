/* report.c: `nettriage report`: reads every capture through the pipeline (source -> decode ->
 * correlate -> detect) and renders the report. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "correlate/correlate.h"
#include "decode/decode.h"
#include "detect/rule.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "source/source.h"
#include "util/err.h"

struct report_opts {
    const char *format;
    const char *output;
    const char *reported;
    int64_t timeout_us;
};

/* --format ndjson streams its lines as the analysis runs (a line per lookup and ICMP error as
 * each becomes final) instead of building the whole report in memory: the output is opened at
 * the first line, so a run that reads nothing creates no file, as with the other formats. */
struct ndjson_sink {
    const char *path; /* -o FILE, or NULL for standard output */
    FILE *f;
    struct strbuf line;
    bool failed; /* the output could not be opened or written; reported once */
};

/* Glue between the correlator and the detector, and the unmatched ICMP errors for the report. */
struct run {
    struct detector *det;
    struct analysis *a;
    struct ndjson_sink *nd; /* NULL unless --format ndjson */
    bool oom;
};

static void report_error(const char *path, const char *what);

static bool sink_open(struct ndjson_sink *s)
{
    if (s->f || s->failed)
        return s->f != NULL;
    if (!s->path) {
        s->f = stdout;
        return true;
    }
    if (!(s->f = fopen(s->path, "w"))) {
        report_error(s->path, strerror(errno));
        s->failed = true;
    }
    return s->f != NULL;
}

/* Writes the lines accumulated in s->line and empties it. */
static void sink_flush(struct run *r)
{
    struct ndjson_sink *s = r->nd;
    if (s->line.oom) {
        r->oom = true;
        strbuf_reset(&s->line);
        return;
    }
    if (s->line.len > 0 && sink_open(s) &&
        fwrite(strbuf_str(&s->line), 1, s->line.len, s->f) != s->line.len) {
        report_error(s->path ? s->path : "standard output", nt_strerror(NT_ERR_WRITE));
        s->failed = true;
        if (s->f != stdout)
            fclose(s->f);
        s->f = NULL;
    }
    strbuf_reset(&s->line);
}

/* Closes the output; false when it (or an earlier write) failed. */
static bool sink_close(struct ndjson_sink *s)
{
    bool ok = !s->failed;
    if (s->f) {
        int rc = s->f == stdout ? fflush(s->f) : fclose(s->f);
        if (rc != 0 && ok) {
            report_error(s->path ? s->path : "standard output", nt_strerror(NT_ERR_WRITE));
            ok = false;
        }
        s->f = NULL;
    }
    strbuf_fini(&s->line);
    return ok;
}

static void on_lookup(void *ctx, const struct dns_lookup *l)
{
    struct run *r = ctx;
    detect_lookup(r->det, l);
    if (r->nd) {
        ndjson_lookup(&r->nd->line, l);
        sink_flush(r);
    }
}

static void on_icmp(void *ctx, const struct icmp_event *e)
{
    struct run *r = ctx;
    detect_icmp_error(r->det, e);
    if (r->nd) {
        ndjson_icmp_error(&r->nd->line, e);
        sink_flush(r);
    }
    /* Errors about DNS that match no lookup: traffic the capture did not see. */
    if (!e->lookup && e->about_dns) {
        struct analysis *a = r->a;
        a->unmatched_icmp++;
        if (a->n_unmatched_examples <
                sizeof a->unmatched_examples / sizeof a->unmatched_examples[0] &&
            !evidence_copy(&a->unmatched_examples[a->n_unmatched_examples++], e->ev))
            r->oom = true;
    }
}

static void on_tcp(void *ctx, const struct tcp_attempt *t)
{
    struct run *r = ctx;
    detect_tcp_attempt(r->det, t);
}

/* Prints one line naming the file and the problem, with terminal escaping (a file name may
 * hold anything). */
static void report_error(const char *path, const char *what)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "nettriage: ");
    esc_term(&b, path, strlen(path));
    strbuf_puts(&b, ": ");
    esc_term(&b, what, strlen(what));
    strbuf_putc(&b, '\n');
    fputs(strbuf_str(&b), stderr);
    strbuf_fini(&b);
}

static bool parse_timeout(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0.000001 || v > 86400)
        return false;
    *out = (int64_t)(v * 1e6 + 0.5);
    return true;
}

/* Reads one input through the pipeline. Returns true when it was read to its end without
 * error. */
static bool read_input(const char *path, uint32_t idx, struct correlator *cor, struct packet *pkt,
                       struct analysis_input *in)
{
    char err[SOURCE_ERROR_MAX];
    struct source *src = NULL;
    int rc = source_open(path, &src, err);
    if (rc < 0) {
        report_error(path, err[0] ? err : nt_strerror(rc));
        in->error = strdup(err[0] ? err : nt_strerror(rc));
        return false;
    }
    in->kind = source_kind_name(source_kind(src));
    bool ok = true;
    while ((rc = source_next(src, pkt)) == 1) {
        if (pkt->ts.kind != NT_TIME_NONE) {
            if (!in->has_time || nt_time_cmp(&pkt->ts, &in->first_ts) < 0)
                in->first_ts = pkt->ts;
            if (!in->has_time || nt_time_cmp(&pkt->ts, &in->last_ts) > 0)
                in->last_ts = pkt->ts;
            in->has_time = true;
        }
        if (correlate_packet(cor, pkt, idx) < 0) {
            rc = NT_ERR_NOMEM;
            snprintf(err, sizeof err, "%s", nt_strerror(NT_ERR_NOMEM));
            break;
        }
    }
    correlate_finish(cor);
    const struct source_stats *st = source_stats(src);
    in->packets = st->packets;
    in->lines = st->lines;
    in->bad_lines = st->bad_lines;
    in->unsupported_link = st->unsupported_link;
    in->gzip = st->gzip;
    in->pcapng_fallback = st->pcapng_fallback;
    in->frag = st->frag;
    in->frag_unlocated = st->frag_unlocated;
    for (size_t i = 0; i < SOURCE_BAD_LINES_KEPT && i < st->bad_lines; i++)
        in->first_bad_lines[in->n_first_bad_lines++] = st->first_bad_lines[i];
    if (source_kind(src) != SOURCE_TEXT)
        in->linktype = decode_linktype_name(st->linktype);
    if (rc < 0) {
        const char *why = source_error(src)[0] ? source_error(src) : err;
        if (!why[0])
            why = nt_strerror(rc);
        if (st->packets > 0) {
            char msg[SOURCE_ERROR_MAX + 96];
            snprintf(msg, sizeof msg, "%s (the report covers the %llu packets read before it)", why,
                     (unsigned long long)st->packets);
            report_error(path, msg);
        } else {
            report_error(path, why);
        }
        in->error = strdup(why);
        ok = false;
    }
    source_close(src);
    return ok;
}

int cmd_report(int argc, char **argv)
{
    struct report_opts o = {.format = "md", .timeout_us = 5000000};
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"reported", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "f:o:r:t:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            o.format = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case 'r':
            o.reported = optarg;
            break;
        case 't':
            if (!parse_timeout(optarg, &o.timeout_us)) {
                fprintf(stderr,
                        "nettriage: --timeout wants seconds from 0.000001 to 86400, not '%s'\n",
                        optarg);
                return EXIT_ERROR;
            }
            break;
        case 'h':
            cli_usage(stdout);
            return EXIT_CLEAN;
        case 'V':
            printf("nettriage %s\n", NT_VERSION);
            return EXIT_CLEAN;
        default:
            cli_usage(stderr);
            return EXIT_ERROR;
        }
    }
    if (strcmp(o.format, "md") != 0 && strcmp(o.format, "json") != 0 &&
        strcmp(o.format, "ndjson") != 0) {
        fprintf(stderr, "nettriage: unknown --format '%s' (md, json or ndjson)\n", o.format);
        return EXIT_ERROR;
    }
    if (optind >= argc) {
        fputs("nettriage: report needs at least one CAPTURE (a file, or - for standard input)\n",
              stderr);
        cli_usage(stderr);
        return EXIT_ERROR;
    }

    int status = EXIT_ERROR;
    size_t n_inputs = (size_t)(argc - optind);
    struct analysis a = {0};
    struct packet *pkt = calloc(1, sizeof *pkt);
    struct detector *det = detect_new(o.timeout_us);
    struct ndjson_sink nd = {.path = o.output};
    strbuf_init(&nd.line);
    struct run run = {.det = det, .a = &a, .nd = strcmp(o.format, "ndjson") == 0 ? &nd : NULL};
    struct correlate_config cfg;
    correlate_config_default(&cfg, o.timeout_us);
    struct correlate_callbacks cb = {
        .ctx = &run, .on_lookup = on_lookup, .on_icmp_error = on_icmp, .on_tcp_attempt = on_tcp};
    struct correlator *cor = correlate_new(&cfg, &cb);
    a.inputs = calloc(n_inputs, sizeof *a.inputs);
    if (!pkt || !det || !cor || !a.inputs) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    a.version = NT_VERSION;
    a.reported = o.reported ? strdup(o.reported) : NULL;
    a.timeout_us = o.timeout_us;
    a.n_inputs = n_inputs;

    bool input_error = false;
    uint64_t packets = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        struct analysis_input *in = &a.inputs[i];
        in->path = strdup(argv[optind + (int)i]);
        if (!read_input(argv[optind + (int)i], (uint32_t)i, cor, pkt, in))
            input_error = true;
        packets += in->packets;
        /* The overall span only joins inputs whose times are of the same kind. */
        if (in->has_time && (!a.has_time || in->first_ts.kind == a.first_ts.kind)) {
            if (!a.has_time || nt_time_cmp(&in->first_ts, &a.first_ts) < 0)
                a.first_ts = in->first_ts;
            if (!a.has_time || nt_time_cmp(&in->last_ts, &a.last_ts) > 0)
                a.last_ts = in->last_ts;
            a.has_time = true;
        }
    }
    /* Nothing was read at all: the errors above are the whole answer. */
    if (packets == 0 && input_error)
        goto done;

    const struct correlate_stats *cs = correlate_stats(cor);
    detect_finish(det, cs);
    a.n_findings = detect_findings(det, &a.findings);
    a.findings_omitted = detect_findings_omitted(det);
    /* Records read: the extra DNS messages one TCP segment completes (source/tcpdns.h) reach
     * the correlator as packets of their own but are not packets of the input. */
    a.summary.packets = packets;
    a.summary.dns_queries = cs->dns_queries;
    a.summary.dns_responses = cs->dns_responses;
    a.summary.dns_lookups = cs->dns_lookups;
    a.summary.answered = cs->answered;
    a.summary.icmp_errors = cs->icmp_errors;
    a.summary.icmp_matched = cs->icmp_matched;
    a.summary.unanswered = cs->unanswered;
    a.summary.capture_ended = cs->capture_ended;
    a.summary.unsolicited_responses = cs->unsolicited_responses;
    a.summary.tcp_attempts = cs->tcp_attempts;
    a.summary.tcp_syn_packets = cs->tcp_syn_packets;
    a.summary.tcp_established = cs->tcp_established;
    a.summary.tcp_reset = cs->tcp_reset;
    a.summary.tcp_icmp = cs->tcp_icmp;
    a.summary.tcp_unanswered = cs->tcp_unanswered;
    a.summary.tcp_capture_ended = cs->tcp_capture_ended;
    a.summary.mdns_messages = cs->mdns_messages;
    a.summary.llmnr_messages = cs->llmnr_messages;
    a.summary.nbns_packets = cs->nbns_packets;
    if (!analysis_build_explain(&a) || run.oom) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }

    if (run.nd) {
        report_render_ndjson(&a, &nd.line);
        sink_flush(&run);
        if (run.oom) {
            fputs("nettriage: out of memory\n", stderr);
            goto done;
        }
        sink_open(&nd); /* an empty stream still creates the -o file */
        if (sink_close(&nd))
            status = input_error ? EXIT_ERROR : analysis_exit_status(&a);
        goto done;
    }

    struct strbuf out;
    strbuf_init(&out);
    if (strcmp(o.format, "json") == 0)
        report_render_json(&a, &out);
    else
        report_render_md(&a, &out);
    if (out.oom) {
        strbuf_fini(&out);
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    FILE *f = stdout;
    if (o.output && !(f = fopen(o.output, "w"))) {
        report_error(o.output, strerror(errno));
        strbuf_fini(&out);
        goto done;
    }
    size_t len = out.len;
    size_t w = fwrite(strbuf_str(&out), 1, len, f);
    int close_rc = f == stdout ? fflush(f) : fclose(f);
    strbuf_fini(&out);
    if (w != len || close_rc != 0) {
        report_error(o.output ? o.output : "standard output", nt_strerror(NT_ERR_WRITE));
        goto done;
    }
    status = input_error ? EXIT_ERROR : analysis_exit_status(&a);
done:
    /* Closes the ndjson output when the run stopped early (a no-op after sink_close). */
    sink_close(&nd);
    correlate_free(cor);
    analysis_fini(&a);
    detect_free(det);
    free(pkt);
    return status;
}
