/* explain.c: `nettriage explain [options] INPUT`: every packet or tcpdump line of INPUT
 * followed by a plain-language reading of its fields and of how it relates to the others
 * (report/explain.h does the work; this file parses options and runs the pipeline). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/capture.h"
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "report/escape.h"
#include "report/jsonw.h"
#include "report/explain.h"
#include "util/err.h"

void cli_help_explain(FILE *out)
{
    fputs("usage: nettriage explain [options] INPUT\n"
          "       nettriage explain [options] -r FILE\n"
          "\n"
          "Writes every packet (pcap, pcapng) or tcpdump line (text) of INPUT, or of\n"
          "standard input for -, followed by a plain-language reading of each field: the\n"
          "time, who talks to whom on which port and service, the DNS id and flags, the\n"
          "question, the length, the answer or the error and what its ICMP type and code\n"
          "mean, and how the packet relates to the others (\"retransmission 1 of the query\n"
          "on line 1\", \"the ICMP error answering the query on line 3, 3.9 s later\"), with\n"
          "each query's outcome. What a line does not show (a TTL without -v, a time with\n"
          "-t) is said to be not shown. Text input is cited by line (a wrapped record by\n"
          "its first line), captures by packet number. Lines that look like traffic but\n"
          "were not understood are shown too.\n"
          "\n"
          "options:\n"
          "  --only-problems   only the evidence of failures: the queries and TCP attempts\n"
          "                    that failed (ICMP error, error rcode, RST, no answer) and\n"
          "                    their retransmissions, the ICMP errors, the answers with an\n"
          "                    error rcode, the RSTs; says how many packets were left out\n"
          "  --max-packets N   write the first N packets only (the rest are still read, for\n"
          "                    the outcomes of those written, and counted)\n"
          "  --hold N          packets held while a query waits for its outcome, at most\n"
          "                    (default 10000, about 2 KB each); past it the oldest query\n"
          "                    is written with its outcome marked not yet known\n"
          "  -r FILE           read FILE (the INPUT, as with tcpdump)\n"
          "      --timeout S   seconds of silence after which a query is unanswered\n"
          "                    (default 5)\n"
          "  --format FORMAT   text (default), or json: one JSON object per line for each\n"
          "                    packet (its line, facts, relation, readings, outcome) and a\n"
          "                    last one with the counts (\"summary\")\n"
          "  -h, --help        this help\n"
          "\n"
          "Packets keep their order. A query is written once its outcome is known: at its\n"
          "answer; after an ICMP error, when the timeout and 1 s have passed (an answer may\n"
          "still come); after silence, when the correlator stops waiting for a late answer\n"
          "(120 s). The packets after it wait with it.\n"
          "\n"
          "exit status: 0 no packet is evidence of a failure, 1 some are, 2 usage or input\n"
          "             error\n",
          out);
}

static void x_packet(void *ctx, const struct packet *pkt, const struct pkt_relation *rel)
{
    explainer_packet(ctx, pkt, rel);
}

static void x_lookup(void *ctx, const struct dns_lookup *l)
{
    explainer_lookup(ctx, l);
}

static void x_attempt(void *ctx, const struct tcp_attempt *t)
{
    explainer_tcp_attempt(ctx, t);
}

static void x_unread(void *ctx, uint32_t input, uint64_t line_no, const char *line, size_t len)
{
    (void)input;
    explainer_unread(ctx, line_no, line, len);
}

static void plural(FILE *f, uint64_t n, const char *one, const char *many)
{
    fprintf(f, "%" PRIu64 " %s", n, n == 1 ? one : many);
}

/* The closing lines: what was read, written, left out and why. */
static void summary(FILE *f, const struct explain_counts *n, const struct analysis_input *in,
                    const struct explain_config *cfg)
{
    fputs("In all: ", f);
    plural(f, n->packets, "packet", "packets");
    fputs(" read, ", f);
    plural(f, n->shown, "shown", "shown");
    fputs("; ", f);
    plural(f, n->problems, "packet is", "packets are");
    fputs(" evidence of a failure.\n", f);
    if (cfg->only_problems) {
        fputs("Left out (--only-problems): ", f);
        plural(f, n->left_out, "packet", "packets");
        fputs(" that are no evidence of a failure.\n", f);
    }
    if (n->past_max) {
        fprintf(f, "Not shown (--max-packets %" PRIu64 "): ", cfg->max_packets);
        plural(f, n->past_max, "packet", "packets");
        fputs(", read for the outcomes only.\n", f);
    }
    if (n->outcome_unknown) {
        plural(f, n->outcome_unknown, "query was", "queries were");
        fprintf(f, " written before their outcome was known (--hold %" PRIu64 ").\n",
                cfg->max_pending);
    }
    if (in && in->lines) {
        fprintf(f, "Lines: %" PRIu64 " read, %" PRIu64 " not understood%s,\n", in->lines,
                n->not_understood, n->not_understood ? " (shown above)" : "");
        fprintf(f, "       %" PRIu64 " ignored as not traffic (prose, banners, prompts).\n",
                in->ignored_lines);
    }
}

/* The same counts as one JSON object, the last line of --format json. */
static void summary_json(FILE *f, const struct explain_counts *n, const struct analysis_input *in,
                         const struct explain_config *cfg)
{
    struct strbuf b;
    strbuf_init(&b);
    struct jsonw w;
    jsonw_init(&w, &b, JSONW_COMPACT);
    jsonw_obj_begin(&w);
    jsonw_kv_obj(&w, "summary");
    jsonw_kv_u64(&w, "packets", n->packets);
    jsonw_kv_u64(&w, "shown", n->shown);
    jsonw_kv_u64(&w, "problems", n->problems);
    jsonw_kv_bool(&w, "only_problems", cfg->only_problems);
    jsonw_kv_u64(&w, "left_out", n->left_out);
    jsonw_kv_u64(&w, "past_max_packets", n->past_max);
    jsonw_kv_u64(&w, "outcome_unknown", n->outcome_unknown);
    jsonw_kv_u64(&w, "hold", cfg->max_pending);
    jsonw_kv_u64(&w, "not_understood", n->not_understood);
    if (in && in->lines) {
        jsonw_kv_u64(&w, "lines", in->lines);
        jsonw_kv_u64(&w, "ignored_lines", in->ignored_lines);
    }
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(&b, '\n');
    fputs(strbuf_str(&b), f);
    strbuf_fini(&b);
}

int cmd_explain(int argc, char **argv)
{
    struct explain_config xc = {.max_pending = EXPLAIN_PENDING_DEFAULT};
    struct pipeline_config pc;
    pipeline_config_default(&pc);
    static const struct option longs[] = {
        {"only-problems", no_argument, NULL, 'P'},
        {"max-packets", required_argument, NULL, 'M'},
        {"hold", required_argument, NULL, 'H'},
        {"timeout", required_argument, NULL, 'T'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    const char *read_file = NULL; /* -r FILE, the INPUT */
    /* The short options are tcpdump's; --timeout is long only (tcpdump's -t drops the time). */
    while ((c = getopt_long(argc, argv, ":hr:", longs, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (read_file)
                return cli_usage_error("explain", "explain reads one INPUT: give -r once");
            read_file = optarg;
            break;
        case 'P':
            xc.only_problems = true;
            break;
        case 'M':
            if (!cli_parse_uint(optarg, 1, UINT64_MAX, &xc.max_packets))
                return cli_usage_error(
                    "explain", "--max-packets wants a count of at least 1, not '%s'", optarg);
            break;
        case 'H':
            if (!cli_parse_uint(optarg, 1, 10000000, &xc.max_pending))
                return cli_usage_error("explain",
                                       "--hold wants a count from 1 to 10000000, not '%s'", optarg);
            break;
        case 'T':
            if (!cli_parse_us(optarg, 0.000001, 86400, &pc.timeout_us))
                return cli_usage_error(
                    "explain", "--timeout wants seconds from 0.000001 to 86400, not '%s'", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0) {
                xc.json = true;
            } else if (strcmp(optarg, "text") != 0) {
                return cli_usage_error("explain", "unknown --format '%s' (text or json)", optarg);
            }
            break;
        case 'h':
            cli_help_explain(stdout);
            return EXIT_CLEAN;
        default:
            return cli_bad_option("explain", c, longs, argv);
        }
    }
    if (argc - optind + (read_file != NULL) != 1)
        return cli_usage_error("explain", "explain reads one INPUT (a file, or - for standard "
                                          "input)");
    const char *path = read_file ? read_file : argv[optind];
    xc.timeout_us = pc.timeout_us;
    int status = EXIT_ERROR;
    struct analysis a = {0};
    struct explainer *x = explainer_new(&xc, stdout);
    struct pipeline_sink sink = {.ctx = x,
                                 .on_lookup = x_lookup,
                                 .on_tcp_attempt = x_attempt,
                                 .on_relation = x_packet,
                                 .on_unread = x_unread};
    struct pipeline *pl = x ? pipeline_new(&pc, &sink, &a, 1) : NULL;
    if (!pl) {
        cli_error(NULL, "out of memory");
        goto done;
    }
    if (strcmp(path, "-") == 0) {
        capture_catch_stop_signals();
        if (isatty(STDIN_FILENO))
            fputs("nettriage: paste tcpdump's output, then press Ctrl-D at the start of a line "
                  "to end it (Ctrl-C also ends it)\n",
                  stderr);
    }
    bool read_ok = pipeline_read(pl, path, 0);
    explainer_finish(x);
    const struct explain_counts *n = explainer_counts(x);
    /* An input that could not be opened, or held nothing: the error is the whole answer. */
    if (read_ok || a.inputs[0].packets || n->not_understood)
        (xc.json ? summary_json : summary)(stdout, n, &a.inputs[0], &xc);
    fflush(stdout);
    if (explainer_oom(x)) {
        cli_error(NULL, "out of memory");
        goto done;
    }
    if (!read_ok) {
        const char *why = a.inputs[0].error ? a.inputs[0].error : nt_strerror(NT_ERR_NOMEM);
        cli_error(path, "%s", why);
        goto done;
    }
    status = n->problems ? EXIT_FINDINGS : EXIT_CLEAN;
done:
    pipeline_free(pl);
    analysis_fini(&a);
    explainer_free(x);
    return status;
}
