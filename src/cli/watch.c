/* watch.c: `nettriage watch`: runs the pipeline over one input until it ends or the user stops
 * it, with the incident tracker (detect/incident.h) on: an alert line on standard output as
 * each incident opens, goes on and closes, flushed at once; then the full report of what was
 * watched on standard error (or -o FILE).
 *
 * Signals: SIGINT and SIGTERM stop the watch. The handler makes standard input read as ended
 * (it puts /dev/null in its place; the read in progress is restarted on it and returns the end
 * of file), so the input ends cleanly after the data already read, then the report is written.
 * A regular file is read by its own descriptor and runs to its end (it ends by itself); a
 * second SIGINT or SIGTERM exits at once without a report.
 *
 * SIGUSR1: the open incidents as they stand and the tracker's counters on standard output, and
 * the report so far where the final report goes (standard error, or -o FILE, replaced), then
 * the watch goes on. The report is made between two packets (the next one read, or the live
 * source's next tick, at most LIVE_TICK_US apart even on a quiet link) by a copy of the process
 * (fork): the copy ends its input there (pipeline_cut_input), runs every rule's end and writes
 * the report, exactly as the final report is made when the input ends; the watch itself is
 * not touched, so its final report is the one it would have made without the snapshot. The
 * rules' ends (on_finish) consume their state and cannot run twice; running them in a copy
 * needs nothing of the rules (docs/architecture.md, "The report so far"). One copy at a time:
 * a SIGUSR1 while one is writing is served when it is done. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/capture.h"
#include "cli/cli.h"
#include "cli/ship.h"
#include "cli/ticket.h"
#include "source/live.h"
#include "pipeline/pipeline.h"
#include "report/alert.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "report/observer.h"
#include "report/redact.h"
#include "util/err.h"

struct watch_opts {
    bool ndjson;               /* --format ndjson (else text) */
    const char *report_format; /* md, json, ndjson, text, html */
    const char *output;        /* -o FILE for the report, else standard error */
    const char *input;
    /* -i IFACE (or --read-live FILE): the live source instead of INPUT, with its filter
     * (-f or the words after the options), -w/-C/-W and -Z as for report -i. */
    struct live_opts live;
    const char *filter, *user;
    char *filter_owned;
    FILE *out_f; /* -o opened before root is given up (live), else NULL */
    struct pipeline_config cfg;
    struct incident_config inc;
    /* --clickhouse: alerts to nettriage.alerts (spool SPOOL/alerts), lookups, ICMP errors,
     * findings and the summary to nettriage.events (SPOOL/events). */
    struct ship_config ship;
    struct cli_ticket ticket; /* --reported, --actions, --date, --timezone */
    /* --redact: the reports (at the end and on SIGUSR1) are redacted as report's are, with the
     * roles seen up to then (cfg.redact). The alert lines need nothing: they name a service (a
     * server, never a client by redact.h's rule) and count clients without naming them. */
    bool redact;
};

struct watch {
    struct watch_opts *o;
    struct pipeline *p;
    struct analysis *a;
    struct strbuf line;
    bool out_failed;
    struct ship *alerts, *events;
    struct strbuf ship_line;
    bool muted;     /* the copy writing the report so far: no alerts */
    pid_t snap_pid; /* that copy while it runs, else 0 */
};

/* Hands the line built in w->ship_line to a shipper. */
static void ship_to(struct watch *w, struct ship *s)
{
    ship_lines(s, strbuf_str(&w->ship_line), w->ship_line.len);
    strbuf_reset(&w->ship_line);
    ship_tick(s);
}

/* What streams out of the pipeline: the traffic model of an HTML report (--report-format
 * html), and the events shipped with --clickhouse; the copy writing the report so far (muted)
 * ships nothing, its parent does. */
static void sink_lookup(void *ctx, const struct dns_lookup *l)
{
    struct watch *w = ctx;
    if (w->a->traffic)
        analysis_traffic_lookup(w->a->traffic, l);
    if (w->events && !w->muted) {
        ndjson_lookup(&w->ship_line, l);
        ship_to(w, w->events);
    }
}

static void sink_icmp(void *ctx, const struct icmp_event *e)
{
    struct watch *w = ctx;
    if (w->a->traffic)
        analysis_traffic_icmp(w->a->traffic, e);
    if (w->events && !w->muted) {
        ndjson_icmp_error(&w->ship_line, e);
        ship_to(w, w->events);
    }
}

static void sink_tcp(void *ctx, const struct tcp_attempt *t)
{
    struct watch *w = ctx;
    if (w->events && !w->muted) {
        ndjson_tcp_attempt(&w->ship_line, t);
        ship_to(w, w->events);
    }
}

/* Opens SPOOL/NAME for one table; NULL with a message on failure. */
static struct ship *open_shipper(const struct watch_opts *o, const char *table, const char *sub)
{
    struct ship_config c = o->ship;
    size_t n = strlen(o->ship.spool_dir) + strlen(sub) + 2;
    char *dir = malloc(n);
    if (!dir)
        return NULL;
    snprintf(dir, n, "%s/%s", o->ship.spool_dir, sub);
    if (mkdir(o->ship.spool_dir, 0700) != 0 && errno != EEXIST) {
        cli_error("--spool", "%s: %s", o->ship.spool_dir, strerror(errno));
        free(dir);
        return NULL;
    }
    c.table = table;
    c.spool_dir = dir;
    struct ship *s = ship_open(&c);
    free(dir); /* ship_open keeps its own copy */
    return s;
}

/* Closes a shipper and says what it shipped; false when an event was not delivered. */
static bool close_shipper(struct ship **s, const struct watch_opts *o, const char *sub)
{
    if (!*s)
        return true;
    struct ship_stats st;
    bool ok = ship_close(*s, &st);
    *s = NULL;
    if (!o->ship.quiet || !ok) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", o->ship.spool_dir, sub);
        ship_report(&st, dir);
    }
    return ok;
}

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t state_requested;
static int devnull_fd = -1;

static void on_stop_signal(int sig)
{
    if (stop_requested) {
        /* A second signal: no report, exit now. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
    source_live_request_stop(); /* a live source ends at its next poll (async-signal-safe) */
    if (devnull_fd >= 0)
        dup2(devnull_fd, STDIN_FILENO);
}

static void on_state_signal(int sig)
{
    (void)sig;
    state_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: a read of standard input interrupted by the stop is restarted, on /dev/null
     * by then, and sees the end of the input instead of an error. */
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_state_signal;
    sigaction(SIGUSR1, &sa, NULL);
}

static void restore_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
}

/* Writes the line built in w->line to standard output at once. */
static void emit(struct watch *w)
{
    if (w->line.oom) {
        if (!w->out_failed)
            fputs("nettriage: out of memory writing an alert\n", stderr);
        w->out_failed = true;
    } else if (!w->out_failed && w->line.len > 0) {
        if (fwrite(strbuf_str(&w->line), 1, w->line.len, stdout) != w->line.len ||
            fflush(stdout) != 0) {
            fprintf(stderr, "nettriage: standard output: %s\n", nt_strerror(NT_ERR_WRITE));
            w->out_failed = true;
        }
    }
    strbuf_reset(&w->line);
}

static void on_incident(void *ctx, const struct incident_event *ev)
{
    struct watch *w = ctx;
    if (w->muted)
        return;
    if (w->o->ndjson)
        alert_ndjson(&w->line, ev);
    else
        alert_text(&w->line, ev);
    emit(w);
    if (w->alerts) {
        alert_ndjson(&w->ship_line, ev);
        ship_to(w, w->alerts);
    }
}

static void write_stats(struct watch *w)
{
    struct incident_tracker *t = pipeline_incidents(w->p);
    if (w->o->ndjson)
        alert_stats_ndjson(&w->line, incident_stats(t));
    else
        alert_stats_text(&w->line, incident_stats(t));
    emit(w);
}

/* Opens the live source (root is given up after the interface, the -w file and the -o file
 * are open, as for report -i) and reads it through the pipeline. */
static bool watch_read_live(struct pipeline *p, struct analysis *a, struct watch_opts *o,
                            const char *label)
{
    const struct capture_open co = {
        .label = label, .verb = "watching", .user = o->user, .output = o->output};
    struct source *src = capture_open_live(&o->live, &co, &o->out_f);
    if (!src)
        return false;
    bool ok = pipeline_read_source(p, src, label, 0);
    if (!ok) {
        const char *why = a->inputs[0].error ? a->inputs[0].error : nt_strerror(NT_ERR_NOMEM);
        cli_error(NULL, "%s", why);
    }
    source_close(src);
    return ok;
}

static bool watch_read_input(struct pipeline *p, struct analysis *a, const char *input)
{
    if (pipeline_read(p, input, 0))
        return true;
    const struct analysis_input *in = &a->inputs[0];
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "nettriage: ");
    esc_term(&b, input, strlen(input));
    strbuf_puts(&b, ": ");
    const char *why = in->error ? in->error : nt_strerror(NT_ERR_NOMEM);
    esc_term(&b, why, strlen(why));
    if (in->packets > 0)
        strbuf_printf(&b, " (the report covers the %llu packets read before it)",
                      (unsigned long long)in->packets);
    strbuf_putc(&b, '\n');
    fputs(strbuf_str(&b), stderr);
    strbuf_fini(&b);
    return false;
}

/* Writes all of buf at offset 0 of fd and cuts the file there: the report in the -o file
 * opened before root was given up, replacing the one written before (the report so far). The
 * descriptor's offset, shared with a copy of the process, does not move. */
static bool replace_contents(int fd, const char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return ftruncate(fd, (off_t)len) == 0;
}

/* Renders the report in --report-format and writes it to -o FILE (replacing what it held) or
 * standard error. */
static bool write_report(struct watch_opts *o, struct analysis *a)
{
    struct strbuf out;
    strbuf_init(&out);
    if (strcmp(o->report_format, "json") == 0) {
        report_render_json(a, &out);
    } else if (strcmp(o->report_format, "ndjson") == 0) {
        report_render_ndjson(a, &out);
    } else if (strcmp(o->report_format, "text") == 0) {
        report_render_text(a, &out, false);
    } else if (strcmp(o->report_format, "html") == 0) {
        analysis_traffic_finish(a->traffic);
        report_render_html(a, &out);
    } else {
        report_render_md(a, &out);
    }
    if (o->redact && !redact_apply(o->cfg.redact, &out,
                                   strcmp(o->report_format, "json") == 0 ||
                                       strcmp(o->report_format, "ndjson") == 0))
        out.oom = true;
    if (out.oom || (a->traffic && a->traffic->oom)) {
        strbuf_fini(&out);
        fputs("nettriage: out of memory\n", stderr);
        return false;
    }
    bool ok;
    if (o->out_f) {
        ok = replace_contents(fileno(o->out_f), strbuf_str(&out), out.len);
    } else if (o->output) {
        FILE *f = fopen(o->output, "w");
        if (!f) {
            cli_error(o->output, "%s", strerror(errno));
            strbuf_fini(&out);
            return false;
        }
        size_t n = fwrite(strbuf_str(&out), 1, out.len, f);
        ok = fclose(f) == 0 && n == out.len;
    } else {
        ok = fwrite(strbuf_str(&out), 1, out.len, stderr) == out.len && fflush(stderr) == 0;
    }
    strbuf_fini(&out);
    if (!ok)
        cli_error(o->output ? o->output : "standard error", "%s", nt_strerror(NT_ERR_WRITE));
    return ok;
}

/* The copy of the process made on SIGUSR1: ends the input here, runs the rules' end and writes
 * the report so far, then exits (never returns). _exit: the copy flushes none of the watch's
 * buffers (the -w file's among them). */
static _Noreturn void snapshot_child(struct watch *w)
{
    restore_signals();
    w->muted = true;
    pipeline_cut_input(w->p);
    if (!pipeline_finish(w->p)) {
        fputs("nettriage: out of memory making the report so far\n", stderr);
        _exit(1);
    }
    unsigned long long n = (unsigned long long)w->a->inputs[0].packets;
    if (!w->o->output)
        fprintf(stderr, "nettriage: the report so far (%llu packets read):\n", n);
    if (!write_report(w->o, w->a))
        _exit(1);
    /* Said once the file is whole, for whoever waits for it. */
    if (w->o->output)
        cli_error(NULL, "the report so far (%llu packets read) written to %s", n, w->o->output);
    _exit(0);
}

/* Waits for the copy writing the report so far (block: wait until it is done). */
static void snapshot_reap(struct watch *w, bool block)
{
    if (w->snap_pid <= 0)
        return;
    int st;
    pid_t r;
    do
        r = waitpid(w->snap_pid, &st, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == w->snap_pid || r < 0)
        w->snap_pid = 0;
}

/* Between two packets: serves a SIGUSR1 (see the top of this file). */
static void serve_state_request(struct watch *w)
{
    snapshot_reap(w, false);
    if (!state_requested || w->snap_pid > 0 || stop_requested)
        return;
    state_requested = 0;
    incident_report_state(pipeline_incidents(w->p));
    write_stats(w);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0)
        snapshot_child(w);
    if (pid < 0)
        fprintf(stderr, "nettriage: cannot make the report so far: %s\n", strerror(errno));
    else
        w->snap_pid = pid;
}

static void on_read(void *ctx)
{
    struct watch *w = ctx;
    if (w->alerts && !w->muted) { /* a batch older than a second goes now */
        ship_tick(w->alerts);
        ship_tick(w->events);
    }
    serve_state_request(ctx);
}

static void on_live_tick(void *ctx, const struct source_stats *st)
{
    (void)st;
    serve_state_request(ctx);
}

int cmd_watch(int argc, char **argv)
{
    struct watch_opts o = {.report_format = "md"};
    pipeline_config_default(&o.cfg);
    incident_config_default(&o.inc);
    ship_config_default(&o.ship, "nettriage.alerts");
    enum {
        OPT_REPORT_FORMAT = 256,
        OPT_INTERVAL,
        OPT_QUIET_CLOSE,
        OPT_MIN_FAILURES,
        OPT_MAX_SERVICES,
        OPT_MAX_LOOKUPS,
        OPT_MAX_TCP,
        OPT_ANSWER_GUARD,
        OPT_FORMAT,
        OPT_READ_LIVE,
        OPT_SPEED,
        OPT_TIMEOUT,
        OPT_SENSOR,
        OPT_CLICKHOUSE,
        OPT_SPOOL,
        OPT_SPOOL_MAX,
        OPT_CLICKHOUSE_WAIT,
        OPT_TICKET, /* CLI_TICKET_OPTIONS values from here (cli/ticket.h) */
        OPT_TICKET_END = OPT_TICKET + CLI_TICKET_OPTIONS - 1,
        OPT_REDACT,
    };
    /* --format is long-only, as for report, where -f is a capture filter. */
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"report-format", required_argument, NULL, OPT_REPORT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"quiet-close", required_argument, NULL, OPT_QUIET_CLOSE},
        {"min-failures", required_argument, NULL, OPT_MIN_FAILURES},
        {"max-services", required_argument, NULL, OPT_MAX_SERVICES},
        {"max-lookups", required_argument, NULL, OPT_MAX_LOOKUPS},
        {"max-tcp", required_argument, NULL, OPT_MAX_TCP},
        {"answer-guard", required_argument, NULL, OPT_ANSWER_GUARD},
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"write", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'Z'},
        {"read-live", required_argument, NULL, OPT_READ_LIVE},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"sensor", required_argument, NULL, OPT_SENSOR},
        {"clickhouse", required_argument, NULL, OPT_CLICKHOUSE},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
        {"clickhouse-wait", required_argument, NULL, OPT_CLICKHOUSE_WAIT},
        {"reported", required_argument, NULL, OPT_TICKET + 0},
        {"actions", required_argument, NULL, OPT_TICKET + 1},
        {"date", required_argument, NULL, OPT_TICKET + 2},
        {"timezone", required_argument, NULL, OPT_TICKET + 3},
        {"redact", no_argument, NULL, OPT_REDACT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    opterr = 0;
    o.live.speed = 1;
    const char *read_file = NULL; /* -r FILE, the INPUT */
    /* The short options are tcpdump's (-f: tshark's capture filter); --timeout is long only. */
    while ((ch = getopt_long(argc, argv, ":o:r:nhi:f:w:C:W:Z:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (read_file)
                return cli_usage_error("watch", "watch follows one INPUT: give -r once");
            read_file = optarg;
            break;
        case 'n':
            break; /* names are never resolved */
        case 'i':
            o.live.iface = optarg;
            break;
        case 'f':
            o.filter = optarg;
            break;
        case 'w':
            o.live.write = optarg;
            break;
        case 'C':
        case 'W': {
            uint32_t v;
            if (!cli_parse_count(optarg, 1000000, &v)) {
                cli_usage_error("watch", "-%c wants a count from 1 to 1000000, not '%s'", ch,
                                optarg);
                return EXIT_ERROR;
            }
            if (ch == 'C')
                o.live.rotate_bytes = (uint64_t)v * 1000000;
            else
                o.live.rotate_files = v;
            break;
        }
        case 'Z':
            o.user = optarg;
            break;
        case OPT_READ_LIVE:
            o.live.read_file = optarg;
            break;
        case OPT_TICKET + 0:
        case OPT_TICKET + 1:
        case OPT_TICKET + 2:
        case OPT_TICKET + 3:
            if (!cli_ticket_option("watch", ch - OPT_TICKET, optarg, &o.ticket, &o.cfg))
                return EXIT_ERROR;
            break;
        case OPT_REDACT:
            o.redact = true;
            break;
        case OPT_SPEED: {
            double v;
            if (!cli_parse_seconds(optarg, 0, 1000000, &v)) {
                cli_usage_error("watch",
                                "--speed wants a factor from 0 (no pauses) to 1000000, not "
                                "'%s'",
                                optarg);
                return EXIT_ERROR;
            }
            o.live.speed = v;
            break;
        }
        case OPT_CLICKHOUSE:
        case OPT_SPOOL:
        case OPT_SPOOL_MAX:
        case OPT_CLICKHOUSE_WAIT:
            if (!ship_set_option(&o.ship, "watch", (enum ship_option)(ch - OPT_CLICKHOUSE), optarg))
                return EXIT_ERROR;
            break;
        case OPT_SENSOR:
            if (!observer_set_name(optarg)) {
                cli_usage_error("watch",
                                "--sensor wants a name of at most %d bytes without control "
                                "characters",
                                OBSERVER_NAME_MAX);
                return EXIT_ERROR;
            }
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "ndjson") != 0 && strcmp(optarg, "text") != 0) {
                cli_usage_error("watch", "unknown --format '%s' (text or ndjson)", optarg);
                return EXIT_ERROR;
            }
            o.ndjson = strcmp(optarg, "ndjson") == 0;
            break;
        case OPT_REPORT_FORMAT:
            if (strcmp(optarg, "md") != 0 && strcmp(optarg, "json") != 0 &&
                strcmp(optarg, "ndjson") != 0 && strcmp(optarg, "text") != 0 &&
                strcmp(optarg, "html") != 0) {
                cli_usage_error("watch",
                                "unknown --report-format '%s' (md, json, ndjson, text or html)",
                                optarg);
                return EXIT_ERROR;
            }
            o.report_format = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case OPT_TIMEOUT:
        case OPT_ANSWER_GUARD:
            if (!cli_parse_us(optarg, 0.000001, 86400,
                              ch == OPT_TIMEOUT ? &o.cfg.timeout_us
                                                : &o.cfg.limits.answer_guard_us)) {
                cli_usage_error("watch", "--%s wants seconds from 0.000001 to 86400, not '%s'",
                                ch == OPT_TIMEOUT ? "timeout" : "answer-guard", optarg);
                return EXIT_ERROR;
            }
            break;
        case OPT_INTERVAL:
        case OPT_QUIET_CLOSE:
            if (!cli_parse_us(optarg, 0.1, 86400.0 * 365,
                              ch == OPT_INTERVAL ? &o.inc.interval_us : &o.inc.quiet_close_us)) {
                cli_usage_error("watch",
                                "--%s wants seconds from 0.1 to 31536000 (a year), not '%s'",
                                ch == OPT_INTERVAL ? "interval" : "quiet-close", optarg);
                return EXIT_ERROR;
            }
            break;
        case OPT_MIN_FAILURES:
            if (!cli_parse_count(optarg, 1000000, &o.inc.min_failures)) {
                cli_usage_error("watch", "--min-failures wants a count from 1 to 1000000, not '%s'",
                                optarg);
                return EXIT_ERROR;
            }
            break;
        case OPT_MAX_SERVICES:
        case OPT_MAX_LOOKUPS:
        case OPT_MAX_TCP: {
            uint32_t *dst = ch == OPT_MAX_SERVICES  ? &o.inc.max_services
                            : ch == OPT_MAX_LOOKUPS ? &o.cfg.limits.max_lookups
                                                    : &o.cfg.limits.max_tcp_attempts;
            if (!cli_parse_count(optarg, 100000000, dst)) {
                cli_usage_error("watch", "--%s wants a count from 1 to 100000000, not '%s'",
                                ch == OPT_MAX_SERVICES  ? "max-services"
                                : ch == OPT_MAX_LOOKUPS ? "max-lookups"
                                                        : "max-tcp",
                                optarg);
                return EXIT_ERROR;
            }
            break;
        }
        case 'h':
            cli_help_watch(stdout);
            return EXIT_CLEAN;
        default:
            return cli_bad_option("watch", ch, longopts, argv);
        }
    }
    bool live = o.live.iface || o.live.read_file;
    if (read_file && live)
        return cli_usage_error("watch", "-r reads a file; -i and --read-live capture: give one");
    if (read_file && optind < argc)
        return cli_usage_error("watch",
                               "'%s' after -r FILE: watch follows one INPUT and takes no "
                               "filter expression for a file",
                               argv[optind]);
    if (o.live.iface && o.live.read_file) {
        cli_usage_error("watch", "-i and --read-live cannot be used together");
        return EXIT_ERROR;
    }
    if (live) {
        /* The words after the options are the capture filter, as for tcpdump. */
        if (o.filter && optind < argc) {
            cli_usage_error("watch", "a filter with -f and words after the options; give one");
            return EXIT_ERROR;
        }
        o.filter = capture_filter_words(o.filter, argc, argv, optind, &o.filter_owned);
        if (!o.filter && optind < argc) {
            fputs("nettriage: out of memory\n", stderr);
            return EXIT_ERROR;
        }
        o.live.filter = o.filter ? o.filter : o.live.iface ? capture_default_filter : NULL;
        o.input = o.live.iface ? o.live.iface : o.live.read_file;
    } else {
        if (o.filter || o.live.write || o.user) {
            cli_usage_error("watch", "-f, -w and -Z are options of -i IFACE or --read-live");
            return EXIT_ERROR;
        }
        if (!read_file && optind != argc - 1) {
            cli_usage_error("watch",
                            "watch needs one INPUT (a capture file, or - for standard input), "
                            "or -i IFACE");
            return EXIT_ERROR;
        }
        o.input = read_file ? read_file : argv[optind];
    }
    o.cfg.incidents = &o.inc;
    if (o.ship.url && o.redact)
        return cli_usage_error("watch",
                               "--redact and --clickhouse cannot be used together yet (the "
                               "events are shipped as they come; redaction needs the whole "
                               "capture)");
    if (ship_orphan_option(&o.ship)) {
        cli_usage_error("watch", "%s is an option of --clickhouse URL",
                        ship_orphan_option(&o.ship));
        return EXIT_ERROR;
    }
    /* -i: on a quiet link the clock moves on with the wall clock, so incidents close. */
    o.cfg.idle_clock = true;

    int status = EXIT_ERROR;
    struct analysis a = {0};
    struct watch w = {.o = &o, .a = &a};
    strbuf_init(&w.line);
    strbuf_init(&w.ship_line);
    struct pipeline_sink sink = {.ctx = &w, .on_incident = on_incident, .on_read = on_read};
    if (o.ship.url) {
        if (!(w.alerts = open_shipper(&o, "nettriage.alerts", "alerts")) ||
            !(w.events = open_shipper(&o, "nettriage.events", "events")))
            goto done;
        sink.on_lookup = sink_lookup;
        sink.on_icmp_error = sink_icmp;
        sink.on_tcp_attempt = sink_tcp;
    }
    bool traffic_oom = false;
    if (strcmp(o.report_format, "html") == 0) {
        traffic_oom = !analysis_traffic_start(&a);
        sink.on_lookup = sink_lookup;
        sink.on_icmp_error = sink_icmp;
    }
    /* A SIGUSR1 on a quiet link is served at the live source's next tick. */
    o.live.tick = on_live_tick;
    o.live.tick_ctx = &w;
    cli_ticket_config(&o.ticket, &o.cfg); /* --date's times of day are read in the zone */
    if (o.redact && !(o.cfg.redact = redact_new())) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    w.p = pipeline_new(&o.cfg, &sink, &a, 1);
    /* Dated times, alert lines' included, are written in the --timezone zone from here on. */
    if (!w.p || traffic_oom || !cli_ticket_analysis(&o.ticket, &a)) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    a.version = NT_VERSION;
    a.redacted = o.redact;

    stop_requested = 0;
    state_requested = 0;
    devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    install_signals();
    bool read_ok =
        live ? watch_read_live(w.p, &a, &o, o.input) : watch_read_input(w.p, &a, o.input);
    snapshot_reap(&w, true); /* a report so far being written comes before the final one */
    if (stop_requested)
        fputs("nettriage: watch stopped; writing the report of what was watched\n", stderr);
    /* Closes the open incidents (reason input-ended), then runs the rules' end. */
    bool finished = pipeline_finish(w.p);
    write_stats(&w);
    if (!finished) {
        fputs("nettriage: out of memory\n", stderr);
        goto done;
    }
    if (a.inputs[0].packets == 0 && !read_ok)
        goto done;
    bool shipped = true;
    if (w.events) {
        report_render_ndjson(&a, &w.ship_line);
        ship_to(&w, w.events);
        shipped = close_shipper(&w.alerts, &o, "alerts");
        shipped = close_shipper(&w.events, &o, "events") && shipped;
    }
    if (!write_report(&o, &a))
        goto done;

    /* A record cut by the stop is not an input error of the user's. */
    /* Exit status 2 also when an event did not reach the server (left spooled or lost). */
    status = (!read_ok && !stop_requested) || w.out_failed || !shipped ? EXIT_ERROR
                                                                       : analysis_exit_status(&a);
done:
    /* The handlers stay until the report is written: a signal now is a second one only if a
     * first one stopped the watch (and then exits at once). */
    restore_signals();
    if (devnull_fd >= 0)
        close(devnull_fd);
    devnull_fd = -1;
    if (o.out_f) /* opened before a live capture */
        fclose(o.out_f);
    free(o.filter_owned);
    close_shipper(&w.alerts, &o, "alerts");
    close_shipper(&w.events, &o, "events");
    strbuf_fini(&w.ship_line);
    strbuf_fini(&w.line);
    analysis_fini(&a);
    pipeline_free(w.p);
    redact_free(o.cfg.redact);
    return status;
}
