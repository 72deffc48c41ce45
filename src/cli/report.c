/* report.c: `nettriage report`: reads every capture through the pipeline (source -> decode ->
 * correlate -> detect) and renders the report. */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/capture.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/ship.h"
#include "cli/ticket.h"
#include "detect/rule.h"
#include "pipeline/pipeline.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "report/redact.h"
#include "report/observer.h"
#include "source/live.h"
#include "source/source.h"
#include "util/cpus.h"
#include "util/err.h"

#define BOUNDS_SET_MAX 64
#define READS_MAX      64

struct report_opts {
    const char *format;
    const char *output;
    struct cli_ticket ticket;     /* --reported, --actions, --date, --timezone */
    bool redact;                  /* --redact */
    const char *reads[READS_MAX]; /* -r FILE, in order */
    size_t n_reads;
    const char *color; /* --color always|never|auto (text format) */
    struct pipeline_config cfg;
    struct pipeline_bound bounds[BOUNDS_SET_MAX]; /* --bound, in cfg.bounds */
    char bound_rule[BOUNDS_SET_MAX][64], bound_name[BOUNDS_SET_MAX][64];
    bool quiet;
    /* Live capture (-i) and its replay (--read-live); live.set says one was asked for. */
    struct live_opts live;
    const char *filter;      /* -f EXPR */
    const char *user;        /* -Z USER */
    struct ship_config ship; /* --clickhouse URL and its spool */
    bool speed_set, count_set, duration_set;
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

/* What the NDJSON output needs while the pipeline runs. */
struct run {
    struct ndjson_sink *nd;           /* NULL unless --format ndjson */
    struct analysis_traffic *traffic; /* NULL unless --format html */
    /* --redact: the NDJSON lines are held until the end, when who is a client is known. */
    struct redact *redact;
    bool oom;
    /* --clickhouse: every event also goes to the shipper, through the callbacks below, which
     * then call the format's own (inner). */
    struct ship *ship;
    struct strbuf ship_line;
    struct pipeline_sink inner;
};

static bool sink_open(struct ndjson_sink *s)
{
    if (s->f || s->failed)
        return s->f != NULL;
    if (!s->path) {
        s->f = stdout;
        return true;
    }
    if (!(s->f = fopen(s->path, "w"))) {
        cli_error(s->path, "%s", strerror(errno));
        s->failed = true;
    }
    return s->f != NULL;
}

/* Writes the lines accumulated in s->line and empties it. */
static void sink_flush(struct run *r)
{
    struct ndjson_sink *s = r->nd;
    if (r->redact)
        return; /* held: written by the last flush, once rewritten */
    if (s->line.oom) {
        r->oom = true;
        strbuf_reset(&s->line);
        return;
    }
    if (s->line.len > 0 && sink_open(s) &&
        fwrite(strbuf_str(&s->line), 1, s->line.len, s->f) != s->line.len) {
        cli_error(s->path ? s->path : "standard output", "%s", nt_strerror(NT_ERR_WRITE));
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
            cli_error(s->path ? s->path : "standard output", "%s", nt_strerror(NT_ERR_WRITE));
            ok = false;
        }
        s->f = NULL;
    }
    strbuf_fini(&s->line);
    return ok;
}

static void nd_lookup(void *ctx, const struct dns_lookup *l)
{
    struct run *r = ctx;
    ndjson_lookup(&r->nd->line, l);
    sink_flush(r);
}

static void nd_icmp(void *ctx, const struct icmp_event *e)
{
    struct run *r = ctx;
    ndjson_icmp_error(&r->nd->line, e);
    sink_flush(r);
}

static void ship_flush(struct run *r)
{
    if (r->ship_line.oom)
        r->oom = true;
    else
        ship_lines(r->ship, strbuf_str(&r->ship_line), r->ship_line.len);
    strbuf_reset(&r->ship_line);
    ship_tick(r->ship);
}

static void sh_lookup(void *ctx, const struct dns_lookup *l)
{
    struct run *r = ctx;
    if (r->inner.on_lookup)
        r->inner.on_lookup(ctx, l);
    ndjson_lookup(&r->ship_line, l);
    ship_flush(r);
}

static void sh_icmp(void *ctx, const struct icmp_event *e)
{
    struct run *r = ctx;
    if (r->inner.on_icmp_error)
        r->inner.on_icmp_error(ctx, e);
    ndjson_icmp_error(&r->ship_line, e);
    ship_flush(r);
}

static void sh_tcp(void *ctx, const struct tcp_attempt *t)
{
    struct run *r = ctx;
    if (r->inner.on_tcp_attempt)
        r->inner.on_tcp_attempt(ctx, t);
    ndjson_tcp_attempt(&r->ship_line, t);
    ship_flush(r);
}

/* Every packet: a batch older than a second is sealed and sent even when no event comes. */
static void sh_packet(void *ctx, const struct packet *pkt)
{
    (void)pkt;
    ship_tick(((struct run *)ctx)->ship);
}

/* Ships the findings and the summary, then the spool; says what was shipped. False when an
 * event could not be delivered (left spooled or overflowed). */
static bool ship_end(struct run *r, const struct analysis *a, const char *spool, bool quiet)
{
    report_render_ndjson(a, &r->ship_line);
    ship_flush(r);
    struct ship_stats st;
    bool ok = ship_close(r->ship, &st);
    r->ship = NULL;
    if (!quiet || !ok)
        ship_report(&st, spool);
    return ok;
}

static void nd_tcp(void *ctx, const struct tcp_attempt *t)
{
    struct run *r = ctx;
    ndjson_tcp_attempt(&r->nd->line, t);
    sink_flush(r);
}

static void tr_lookup(void *ctx, const struct dns_lookup *l)
{
    analysis_traffic_lookup(((struct run *)ctx)->traffic, l);
}

static void tr_icmp(void *ctx, const struct icmp_event *e)
{
    analysis_traffic_icmp(((struct run *)ctx)->traffic, e);
}

/* --color for --format text: always, never, or auto (colour only when the report goes to a
 * terminal, NO_COLOR is not set, whatever its value, and TERM is not "dumb"). */
static bool want_color(const char *mode, const char *output)
{
    if (strcmp(mode, "always") == 0)
        return true;
    if (strcmp(mode, "never") == 0 || output || getenv("NO_COLOR"))
        return false;
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
}

/* Parses --bound RULE.NAME=N into o->bounds (a later one for the same bound replaces it). Says
 * what is wrong and returns false on an unknown bound or a value out of its range. */
static bool parse_bound(struct report_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *dot = NULL;
    for (const char *c = arg; eq && c < eq; c++)
        if (*c == '.')
            dot = c;
    if (!eq || !dot || dot == arg || dot + 1 == eq || (size_t)(dot - arg) >= 64 ||
        (size_t)(eq - dot - 1) >= 64) {
        cli_usage_error("report",
                        "--bound wants RULE.NAME=N (e.g. dns.no_response.recent=131072), not "
                        "'%s'; --bounds lists them",
                        arg);
        return false;
    }
    char rule[64], name[64];
    /* The stages' own bounds first (correlate.*, flow.*, detect.*). */
    char full[160];
    snprintf(full, sizeof full, "%.*s", (int)(eq - arg), arg);
    for (const struct pipeline_stage_bound *b = pipeline_stage_bounds; b->name; b++) {
        if (strcmp(b->name, full) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(eq + 1, &end, 10);
        if (errno || end == eq + 1 || *end || eq[1] == '-' ||
            pipeline_set_stage_bound(&o->cfg, full, v) != 0) {
            cli_usage_error("report", "--bound %s wants a count from %llu to %llu, not '%s'", full,
                            (unsigned long long)b->min, (unsigned long long)b->max, eq + 1);
            return false;
        }
        return true;
    }
    snprintf(rule, sizeof rule, "%.*s", (int)(dot - arg), arg);
    snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
    const struct rule_bound_def *def = detect_find_bound(rule, name, NULL);
    if (!def) {
        cli_usage_error("report", "--bound: no bound '%s.%s' (--bounds lists them)", rule, name);
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (errno || end == eq + 1 || *end || eq[1] == '-' || v < def->min || v > def->max) {
        cli_usage_error("report", "--bound %s.%s wants a count from %llu to %llu, not '%s'", rule,
                        name, (unsigned long long)def->min, (unsigned long long)def->max, eq + 1);
        return false;
    }
    size_t i = 0;
    while (i < o->cfg.n_bounds &&
           !(strcmp(o->bound_rule[i], rule) == 0 && strcmp(o->bound_name[i], name) == 0))
        i++;
    if (i == BOUNDS_SET_MAX) {
        cli_usage_error("report", "--bound: at most %d bounds can be set", BOUNDS_SET_MAX);
        return false;
    }
    memcpy(o->bound_rule[i], rule, sizeof rule);
    memcpy(o->bound_name[i], name, sizeof name);
    o->bounds[i] = (struct pipeline_bound){o->bound_rule[i], o->bound_name[i], v};
    if (i == o->cfg.n_bounds)
        o->cfg.n_bounds++;
    o->cfg.bounds = o->bounds;
    return true;
}

/* --bounds: every rule's bounds with their defaults and ranges. */
static void list_bounds(void)
{
    printf(
        "Bounds of the engine's state, set with --bound NAME=N (besides --max-lookups, --max-tcp\n"
        "and --answer-guard). What a bound leaves out is counted in every output (the stages'\n"
        "in the summary, the rules' under rule_limits).\n\n");
    for (const struct pipeline_stage_bound *b = pipeline_stage_bounds; b->name; b++)
        printf("  %-36s default %llu (%llu to %llu)\n      %s\n", b->name,
               (unsigned long long)b->def, (unsigned long long)b->min, (unsigned long long)b->max,
               b->what);
    for (size_t i = 0; i < detect_n_rules; i++) {
        const struct rule *r = detect_rules[i];
        for (const struct rule_bound_def *b = r->bounds; b && b->name; b++) {
            char full[128];
            snprintf(full, sizeof full, "%s.%s", r->id, b->name);
            printf("  %-36s default %llu (%llu to %llu)\n      %s\n", full,
                   (unsigned long long)b->def, (unsigned long long)b->min,
                   (unsigned long long)b->max, b->what);
        }
    }
}

/* Reads one input through the pipeline and says on standard error why it stopped early, if it
 * did. Returns true when it was read to its end without error. */
static void say_input_error(const struct analysis *a, const char *path, uint32_t idx)
{
    const struct analysis_input *in = &a->inputs[idx];
    const char *why = in->error ? in->error : nt_strerror(NT_ERR_NOMEM);
    if (in->packets > 0) {
        char msg[SOURCE_ERROR_MAX + 96];
        snprintf(msg, sizeof msg, "%s (the report covers the %llu packets read before it)", why,
                 (unsigned long long)in->packets);
        cli_error(path, "%s", msg);
    } else {
        cli_error(path, "%s", why);
    }
}

static bool read_input(struct pipeline *p, const struct analysis *a, const char *path, uint32_t idx,
                       struct progress *pg)
{
    if (pipeline_read(p, path, idx))
        return true;
    progress_erase(pg);
    say_input_error(a, path, idx);
    return false;
}

/* The exit status: 1 for findings, 0 for none; but "no problem" is given only when everything
 * that looked like traffic was read. When lines or frames that looked like traffic were not
 * read and nothing was found in the rest, the status is 2 (the partial report is written). */
static int verdict_status(const struct analysis *a)
{
    int st = analysis_exit_status(a);
    if (st != EXIT_CLEAN || analysis_unread(a) == 0)
        return st;
    for (size_t i = 0; i < a->n_inputs; i++) {
        const struct analysis_input *in = &a->inputs[i];
        if (!in->unread)
            continue;
        bool text = in->kind && strcmp(in->kind, "tcpdump text") == 0;
        cli_error(in->path ? in->path : "?",
                  "%" PRIu64 " %s that looked like traffic %s not read; no problem was found in "
                  "the rest, which is not a clean bill (see the top of the report)",
                  in->unread,
                  text ? (in->unread == 1 ? "line" : "lines")
                       : (in->unread == 1 ? "frame" : "frames"),
                  in->unread == 1 ? "was" : "were");
    }
    return EXIT_ERROR;
}

/* The options that only a live capture or its replay takes. */
static const char *live_only_option(const struct report_opts *o)
{
    if (o->filter)
        return "-f";
    if (o->count_set)
        return "-c";
    if (o->duration_set)
        return "--duration";
    if (o->live.write)
        return "-w";
    if (o->live.rotate_bytes)
        return "-C";
    if (o->live.rotate_files)
        return "-W";
    if (o->user)
        return "-Z";
    if (o->speed_set)
        return "--speed";
    return NULL;
}

int cmd_report(int argc, char **argv)
{
    struct report_opts o = {.format = "md", .color = "auto"};
    o.live.speed = 1;
    ship_config_default(&o.ship, "nettriage.events");
    pipeline_config_default(&o.cfg);
    /* The rules on a second thread where the process may use a second processor
     * (--threads): its CPU affinity (taskset, a cpuset), else the processors online, capped
     * by its cgroups' CPU quota (util/cpus.h): two threads sharing one processor's time
     * would only take turns. */
    o.cfg.threads = nt_usable_cpus() > 1 ? 2 : 1;
    enum {
        OPT_MAX_LOOKUPS = 256,
        OPT_MAX_TCP,
        OPT_ANSWER_GUARD,
        OPT_FORMAT,
        OPT_DURATION,
        OPT_READ_LIVE,
        OPT_SPEED,
        OPT_SENSOR,
        OPT_CLICKHOUSE,
        OPT_SPOOL,
        OPT_SPOOL_MAX,
        OPT_CLICKHOUSE_WAIT,
        OPT_BOUND,
        OPT_BOUNDS,
        OPT_COLOR,
        OPT_TICKET, /* CLI_TICKET_OPTIONS values from here (cli/ticket.h) */
        OPT_TICKET_END = OPT_TICKET + CLI_TICKET_OPTIONS - 1,
        OPT_REDACT,
        OPT_TIMEOUT,
        OPT_THREADS,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"reported", required_argument, NULL, OPT_TICKET + 0},
        {"actions", required_argument, NULL, OPT_TICKET + 1},
        {"date", required_argument, NULL, OPT_TICKET + 2},
        {"timezone", required_argument, NULL, OPT_TICKET + 3},
        {"redact", no_argument, NULL, OPT_REDACT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-lookups", required_argument, NULL, OPT_MAX_LOOKUPS},
        {"max-tcp", required_argument, NULL, OPT_MAX_TCP},
        {"answer-guard", required_argument, NULL, OPT_ANSWER_GUARD},
        {"bound", required_argument, NULL, OPT_BOUND},
        {"bounds", no_argument, NULL, OPT_BOUNDS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"color", required_argument, NULL, OPT_COLOR},
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"write", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'Z'},
        {"read-live", required_argument, NULL, OPT_READ_LIVE},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"sensor", required_argument, NULL, OPT_SENSOR},
        {"clickhouse", required_argument, NULL, OPT_CLICKHOUSE},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
        {"clickhouse-wait", required_argument, NULL, OPT_CLICKHOUSE_WAIT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    opterr = 0;
    uint64_t u;
    double d;
    /* Short options as tcpdump has them (-r -i -w -c -C -W -Z -n -q, -h) and -f as tshark's
     * capture filter; everything else is long only (tcpdump's -t, -V and -o mean other things
     * or nothing). */
    while ((ch = getopt_long(argc, argv, ":o:r:i:f:c:w:C:W:Z:nqh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (o.n_reads == READS_MAX)
                return cli_usage_error("report",
                                       "at most %d files can be given with -r (give "
                                       "more as arguments)",
                                       READS_MAX);
            o.reads[o.n_reads++] = optarg;
            break;
        case 'n':
            break; /* names are never resolved */
        case OPT_CLICKHOUSE:
        case OPT_SPOOL:
        case OPT_SPOOL_MAX:
        case OPT_CLICKHOUSE_WAIT:
            if (!ship_set_option(&o.ship, "report", (enum ship_option)(ch - OPT_CLICKHOUSE),
                                 optarg))
                return EXIT_ERROR;
            break;
        case OPT_SENSOR:
            if (!observer_set_name(optarg)) {
                cli_usage_error("report",
                                "--sensor wants a name of at most %d bytes without control "
                                "characters",
                                OBSERVER_NAME_MAX);
                return EXIT_ERROR;
            }
            break;
        case OPT_FORMAT:
            o.format = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case OPT_TICKET + 0:
        case OPT_TICKET + 1:
        case OPT_TICKET + 2:
        case OPT_TICKET + 3:
            if (!cli_ticket_option("report", ch - OPT_TICKET, optarg, &o.ticket, &o.cfg))
                return EXIT_ERROR;
            break;
        case OPT_REDACT:
            o.redact = true;
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_us(optarg, 0.000001, 86400, &o.cfg.timeout_us)) {
                cli_usage_error("report",
                                "--timeout wants seconds from 0.000001 to 86400, not '%s'", optarg);
                return EXIT_ERROR;
            }
            break;
        case OPT_MAX_LOOKUPS:
        case OPT_MAX_TCP:
            if (!cli_parse_count(optarg, 100000000,
                                 ch == OPT_MAX_LOOKUPS ? &o.cfg.limits.max_lookups
                                                       : &o.cfg.limits.max_tcp_attempts)) {
                cli_usage_error("report", "--%s wants a count from 1 to 100000000, not '%s'",
                                ch == OPT_MAX_LOOKUPS ? "max-lookups" : "max-tcp", optarg);
                return EXIT_ERROR;
            }
            break;
        case OPT_THREADS:
            if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
                cli_usage_error("report", "--threads wants 1 or 2, not '%s'", optarg);
                return EXIT_ERROR;
            }
            o.cfg.threads = (unsigned)(optarg[0] - '0');
            break;
        case OPT_ANSWER_GUARD:
            if (!cli_parse_us(optarg, 0.000001, 86400, &o.cfg.limits.answer_guard_us)) {
                cli_usage_error("report",
                                "--answer-guard wants seconds from 0.000001 to 86400, not "
                                "'%s'",
                                optarg);
                return EXIT_ERROR;
            }
            break;
        case OPT_BOUND:
            if (!parse_bound(&o, optarg))
                return EXIT_ERROR;
            break;
        case OPT_BOUNDS:
            list_bounds();
            return EXIT_CLEAN;
        case OPT_COLOR:
            if (strcmp(optarg, "always") != 0 && strcmp(optarg, "never") != 0 &&
                strcmp(optarg, "auto") != 0) {
                cli_usage_error("report", "--color wants always, never or auto, not '%s'", optarg);
                return EXIT_ERROR;
            }
            o.color = optarg;
            break;
        case 'i':
            o.live.iface = optarg;
            break;
        case 'f':
            o.filter = optarg;
            break;
        case 'c':
            if (!cli_parse_uint(optarg, 1, UINT64_C(1000000000000), &o.live.max_packets)) {
                cli_usage_error("report", "-c wants a count of packets from 1, not '%s'", optarg);
                return EXIT_ERROR;
            }
            o.count_set = true;
            break;
        case OPT_DURATION:
            if (!cli_parse_seconds(optarg, 0.001, 31622400, &d)) {
                cli_usage_error("report",
                                "--duration wants seconds from 0.001 to 31622400 (a year), "
                                "not '%s'",
                                optarg);
                return EXIT_ERROR;
            }
            o.live.duration_us = (int64_t)(d * 1e6 + 0.5);
            o.duration_set = true;
            break;
        case 'w':
            o.live.write = optarg;
            break;
        case 'C':
            if (!cli_parse_uint(optarg, 1, 1000000, &u)) {
                cli_usage_error("report",
                                "-C wants a size in millions of bytes from 1 to 1000000, not "
                                "'%s'",
                                optarg);
                return EXIT_ERROR;
            }
            o.live.rotate_bytes = u * 1000000;
            break;
        case 'W':
            if (!cli_parse_uint(optarg, 1, 1000000, &u)) {
                cli_usage_error("report",
                                "-W wants a number of files from 1 to 1000000, not "
                                "'%s'",
                                optarg);
                return EXIT_ERROR;
            }
            o.live.rotate_files = (uint32_t)u;
            break;
        case 'Z':
            o.user = optarg;
            break;
        case OPT_READ_LIVE:
            o.live.read_file = optarg;
            break;
        case OPT_SPEED:
            if (!cli_parse_seconds(optarg, 0, 1000000, &o.live.speed)) {
                cli_usage_error("report",
                                "--speed wants a factor from 0 (no pauses) to 1000000, not "
                                "'%s'",
                                optarg);
                return EXIT_ERROR;
            }
            o.speed_set = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            cli_help_report(stdout);
            return EXIT_CLEAN;
        case OPT_VERSION:
            printf("nettriage %s\n", NT_VERSION);
            return EXIT_CLEAN;
        default:
            return cli_bad_option("report", ch, longopts, argv);
        }
    }
    if (strcmp(o.format, "md") != 0 && strcmp(o.format, "json") != 0 &&
        strcmp(o.format, "ndjson") != 0 && strcmp(o.format, "text") != 0 &&
        strcmp(o.format, "html") != 0) {
        cli_usage_error("report", "unknown --format '%s' (md, json, ndjson, text or html)",
                        o.format);
        return EXIT_ERROR;
    }
    if (o.ship.url && o.redact) {
        fputs("nettriage: --redact and --clickhouse cannot be used together yet (the events "
              "are shipped as they come; redaction needs the whole capture)\n",
              stderr);
        return EXIT_ERROR;
    }
    if (ship_orphan_option(&o.ship)) {
        cli_usage_error("report", "%s is an option of --clickhouse URL",
                        ship_orphan_option(&o.ship));
        return EXIT_ERROR;
    }
    bool live = o.live.iface || o.live.read_file;
    if (o.live.iface && o.live.read_file) {
        cli_usage_error("report", "-i and --read-live cannot be used together");
        return EXIT_ERROR;
    }
    if (!live && live_only_option(&o)) {
        cli_usage_error("report",
                        "%s is an option of a live capture (-i IFACE or --read-live "
                        "FILE)",
                        live_only_option(&o));
        return EXIT_ERROR;
    }
    if (o.speed_set && !o.live.read_file) {
        cli_usage_error("report",
                        "--speed paces --read-live; a live capture comes at its own pace");
        return EXIT_ERROR;
    }
    if ((o.live.rotate_bytes || o.live.rotate_files) && !o.live.write) {
        cli_usage_error("report", "-C and -W rotate the files -w writes; give -w FILE");
        return EXIT_ERROR;
    }
    if (o.live.rotate_files && !o.live.rotate_bytes) {
        cli_usage_error("report", "-W counts the files -C rotates; give -C MB too");
        return EXIT_ERROR;
    }
    if (live && o.filter && optind < argc) {
        cli_usage_error("report",
                        "give the filter either with -f or as words after the options, not "
                        "both");
        return EXIT_ERROR;
    }
    if (o.n_reads > 0 && live) {
        cli_usage_error("report", "-r reads a file; -i and --read-live capture: give one");
        return EXIT_ERROR;
    }
    if (o.n_reads > 0 && optind < argc) {
        /* tcpdump -r FILE EXPRESSION filters; a report reads whole captures. */
        cli_usage_error("report",
                        "'%s' after -r FILE: a report reads whole captures, it takes no filter "
                        "expression (filter with tcpdump -r FILE -w - EXPRESSION | nettriage -r -)",
                        argv[optind]);
        return EXIT_ERROR;
    }
    if (!live && optind >= argc && o.n_reads == 0) {
        cli_usage_error("report", "give at least one CAPTURE (a file, or - for standard "
                                  "input), -r FILE, or -i IFACE to capture");
        return EXIT_ERROR;
    }
    /* The captures to read: the -r files, else the arguments. */
    const char *const *paths = o.n_reads > 0 ? o.reads : (const char *const *)argv + optind;

    int status = EXIT_ERROR;
    char *filter_owned = NULL;
    size_t n_inputs = live ? 1 : o.n_reads > 0 ? o.n_reads : (size_t)(argc - optind);
    struct analysis a = {0};
    struct ndjson_sink nd = {.path = o.output};
    strbuf_init(&nd.line);
    struct run run = {.nd = strcmp(o.format, "ndjson") == 0 ? &nd : NULL};
    struct pipeline_sink sink = {.ctx = &run};
    struct progress progress = {0};
    struct source *live_src = NULL;
    FILE *out_f = NULL; /* -o opened before root was given up (live) */
    if (run.nd) {
        sink.on_lookup = nd_lookup;
        sink.on_icmp_error = nd_icmp;
        sink.on_tcp_attempt = nd_tcp;
    } else if (strcmp(o.format, "html") == 0) {
        run.oom = !analysis_traffic_start(&a); /* said after the run, as for NDJSON */
        run.traffic = a.traffic;
        sink.on_lookup = tr_lookup;
        sink.on_icmp_error = tr_icmp;
    }
    strbuf_init(&run.ship_line);
    if (o.ship.url) {
        o.ship.quiet = o.quiet;
        if (!(run.ship = ship_open(&o.ship))) {
            strbuf_fini(&nd.line);
            strbuf_fini(&run.ship_line);
            return EXIT_ERROR;
        }
        run.inner = sink;
        sink.on_lookup = sh_lookup;
        sink.on_icmp_error = sh_icmp;
        sink.on_tcp_attempt = sh_tcp;
        sink.on_packet = sh_packet;
    }
    cli_ticket_config(&o.ticket, &o.cfg); /* --date's times of day are read in the zone */
    if (o.redact)
        run.redact = o.cfg.redact = redact_new(); /* out of memory: no pipeline, said below */
    struct pipeline *pl =
        o.redact && !o.cfg.redact ? NULL : pipeline_new(&o.cfg, &sink, &a, n_inputs);
    if (!pl) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    a.version = NT_VERSION;
    /* Dated times are written in the --timezone zone from here on. */
    bool ticket_ok = cli_ticket_analysis(&o.ticket, &a);
    a.redacted = o.redact;
    if (!ticket_ok) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }

    bool input_error = false;
    uint64_t packets = 0;
    if (live) {
        o.live.filter = capture_filter_words(o.filter, argc, argv, optind, &filter_owned);
        if (!o.live.filter && optind < argc) {
            fputs("nettriage: out of memory\n", stderr);
            goto done;
        }
        /* The default filter on an interface; a replay reads the whole file, as a report of
         * the file would. */
        if (!o.live.filter && o.live.iface)
            o.live.filter = capture_default_filter;
        const char *label = o.live.iface ? o.live.iface : o.live.read_file;
        capture_catch_stop_signals();
        if (!o.quiet && isatty(STDERR_FILENO)) {
            progress_init(&progress, stderr, pl, 1);
            o.live.tick = progress_live_tick;
            o.live.tick_ctx = &progress;
        }
        const struct capture_open co = {
            .label = label, .user = o.user, .output = o.output, .quiet = o.quiet};
        if (!(live_src = capture_open_live(&o.live, &co, &out_f)))
            goto done;
        if (run.nd)
            nd.f = out_f;
        if (!pipeline_read_source(pl, live_src, label, 0)) {
            progress_end(&progress);
            say_input_error(&a, label, 0);
            input_error = true;
        }
        progress_end(&progress);
        packets = a.inputs[0].packets;
        source_close(live_src);
        live_src = NULL;
    } else {
        /* How far the reading got, on a terminal; not while NDJSON lines go to the same
         * terminal, nor while a log is pasted into it (below). */
        if (!o.quiet && isatty(STDERR_FILENO) && !(run.nd && !o.output && isatty(STDOUT_FILENO)))
            progress_init(&progress, stderr, pl, (uint32_t)n_inputs);
        for (size_t i = 0; i < n_inputs; i++) {
            const char *path = paths[i];
            bool pasted = strcmp(path, "-") == 0 && isatty(STDIN_FILENO);
            pipeline_set_read_progress(pl, progress.tty && !pasted ? progress_read_tick : NULL,
                                       &progress);
            if (strcmp(path, "-") == 0) {
                /* Ctrl-C ends the reading of standard input and the report is still written
                 * (`tcpdump -l ... | nettriage report -`). */
                capture_catch_stop_signals();
                if (!o.quiet && isatty(STDIN_FILENO))
                    fputs("nettriage: paste tcpdump's output, then press Ctrl-D at the start of "
                          "a line to end it (Ctrl-C also ends it)\n",
                          stderr);
            }
            if (!read_input(pl, &a, path, (uint32_t)i, &progress))
                input_error = true;
            packets += a.inputs[i].packets;
        }
        progress_erase(&progress);
    }
    /* Nothing was read at all: the errors above are the whole answer. */
    if (packets == 0 && input_error)
        goto done;

    if (!pipeline_finish(pl) || run.oom || (a.traffic && a.traffic->oom)) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    bool shipped = !run.ship || ship_end(&run, &a, o.ship.spool_dir, o.quiet);
    if (!shipped)
        input_error = true; /* exit status 2: not every event reached the server */

    if (run.nd) {
        report_render_ndjson(&a, &nd.line);
        if (run.redact && !redact_apply(run.redact, &nd.line, true))
            run.oom = true;
        run.redact = NULL; /* the held lines go out now */
        sink_flush(&run);
        if (run.oom) {
            fputs("nettriage: out of memory\n", stderr);
            goto done;
        }
        sink_open(&nd); /* an empty stream still creates the -o file */
        out_f = NULL;   /* closed by sink_close */
        if (sink_close(&nd))
            status = input_error ? EXIT_ERROR : verdict_status(&a);
        goto done;
    }

    struct strbuf out;
    strbuf_init(&out);
    if (strcmp(o.format, "json") == 0) {
        report_render_json(&a, &out);
    } else if (strcmp(o.format, "text") == 0) {
        report_render_text(&a, &out, want_color(o.color, o.output));
    } else if (strcmp(o.format, "html") == 0) {
        analysis_traffic_finish(a.traffic);
        report_render_html(&a, &out);
    } else
        report_render_md(&a, &out);
    if (o.redact && !redact_apply(o.cfg.redact, &out, strcmp(o.format, "json") == 0))
        out.oom = true;
    if (out.oom) {
        strbuf_fini(&out);
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    FILE *f = stdout;
    if (out_f) {
        f = out_f;
        out_f = NULL;
    } else if (o.output && !(f = fopen(o.output, "w"))) {
        cli_error(o.output, "%s", strerror(errno));
        strbuf_fini(&out);
        goto done;
    }
    size_t len = out.len;
    size_t w = fwrite(strbuf_str(&out), 1, len, f);
    int close_rc = f == stdout ? fflush(f) : fclose(f);
    strbuf_fini(&out);
    if (w != len || close_rc != 0) {
        cli_error(o.output ? o.output : "standard output", "%s", nt_strerror(NT_ERR_WRITE));
        goto done;
    }
    status = input_error ? EXIT_ERROR : verdict_status(&a);
done:
    source_close(live_src);
    if (run.nd && nd.f == out_f)
        out_f = NULL; /* the sink owns it */
    if (out_f)
        fclose(out_f);
    /* Closes the ndjson output when the run stopped early (a no-op after sink_close). */
    sink_close(&nd);
    if (run.ship) {
        struct ship_stats st;
        ship_close(run.ship, &st);
        ship_report(&st, o.ship.spool_dir);
    }
    strbuf_fini(&run.ship_line);
    /* The model borrows the findings from the pipeline's detector: free it first. */
    analysis_fini(&a);
    pipeline_free(pl);
    free(filter_owned);
    redact_free(o.cfg.redact);
    return status;
}
