/* fleet.c: `nettriage fleet`: the incident report of many sensors, built from the fleet store
 * in ClickHouse (docs/clickhouse.sql) for a time range instead of from packets. The queries go
 * over ClickHouse's HTTP interface (chttp.c) and answer in TabSeparated, parsed here into the
 * fleet model (report/fleet.h), which report/fleet.c renders. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/chttp.h"
#include "cli/cli.h"
#include "report/fleet.h"

#define MAX_ROWS 100000 /* rows taken from one answer at most */

/* One TabSeparated answer split into rows of fields, unescaped in place. */
struct tsv {
    char *text;
    char ***rows;
    size_t *n_fields;
    size_t n_rows;
};

static void tsv_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '\\' || !r[1]) {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case 't':
            *w++ = '\t';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case '0':
            *w++ = '\0';
            break; /* a NUL ends the C string: the name is cut there */
        default:
            *w++ = *r;
            break; /* \\ \' and the rest */
        }
    }
    *w = '\0';
}

static bool tsv_parse(struct tsv *t, char *text)
{
    memset(t, 0, sizeof *t);
    t->text = text;
    size_t cap = 0;
    char *line = text;
    while (line && *line && t->n_rows < MAX_ROWS) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (t->n_rows == cap) {
            cap = cap ? 2 * cap : 64;
            char ***rows = realloc(t->rows, cap * sizeof *rows);
            size_t *nf = realloc(t->n_fields, cap * sizeof *nf);
            if (rows)
                t->rows = rows;
            if (nf)
                t->n_fields = nf;
            if (!rows || !nf)
                return false;
        }
        size_t n = 1;
        for (char *p = line; *p; p++)
            n += *p == '\t';
        char **f = malloc(n * sizeof *f);
        if (!f)
            return false;
        size_t i = 0;
        for (char *p = line;; i++) {
            char *tab = strchr(p, '\t');
            f[i] = p;
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        for (size_t k = 0; k < n; k++)
            tsv_unescape(f[k]);
        t->rows[t->n_rows] = f;
        t->n_fields[t->n_rows] = n;
        t->n_rows++;
        line = nl ? nl + 1 : NULL;
    }
    return true;
}

static void tsv_fini(struct tsv *t)
{
    for (size_t i = 0; i < t->n_rows; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t->n_fields);
    free(t->text);
}

static uint64_t u64(const char *s)
{
    return strtoull(s, NULL, 10);
}

static int64_t ms_to_us(const char *s)
{
    double v = strtod(s, NULL);
    return isfinite(v) ? (int64_t)llround(v * 1000.0) : 0;
}

/* Parses a time: "2026-11-21T22:49:30Z", "2026-11-21 22:49:30", with optional fraction,
 * "2026-11-21" (midnight), all UTC; or seconds since 1970. */
static bool parse_time(const char *s, uint64_t *us)
{
    char *end;
    if (*s >= '0' && *s <= '9' && !strchr(s, '-')) {
        errno = 0;
        double v = strtod(s, &end);
        if (errno || *end || !(v >= 0 && v < 253402300800.0))
            return false;
        *us = (uint64_t)llround(v * 1e6);
        return true;
    }
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return false;
    const char *p = s + n;
    uint64_t frac = 0;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3)
            return false;
        p += 1 + m;
        if (*p == '.') {
            uint64_t scale = 100000;
            for (p++; *p >= '0' && *p <= '9'; p++) {
                frac += (uint64_t)(*p - '0') * scale;
                scale /= 10;
            }
        }
        if (*p == 'Z')
            p++;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t < 0)
        return false;
    *us = (uint64_t)t * 1000000u + frac;
    return true;
}

struct fleet_ctx {
    struct chttp *http;
    const char *db;
    uint64_t from_us, to_us;
};

/* Runs a query (TabSeparated answer); false with a message on standard error. */
static bool query(struct fleet_ctx *c, const char *sql, struct tsv *out)
{
    memset(out, 0, sizeof *out);
    struct chttp_result r;
    if (!chttp_post(c->http, sql, CHTTP_SELECT, NULL, 0, &r)) {
        cli_error("fleet", "%s", r.error);
        chttp_result_fini(&r);
        return false;
    }
    char *text = strbuf_take(&r.body);
    chttp_result_fini(&r);
    if (!text)
        text = strdup("");
    if (!text) {
        fputs("nettriage: out of memory\n", stderr);
        return false;
    }
    if (!tsv_parse(out, text)) {
        fputs("nettriage: out of memory\n", stderr);
        tsv_fini(out); /* frees text too */
        return false;
    }
    return true;
}

/* The range condition on a table: rows from FROM to TO (with the day for the partitions). */
static void range(struct strbuf *q, const struct fleet_ctx *c, const char *start, const char *end)
{
    strbuf_printf(q, "%s < %" PRIu64 " AND %s >= %" PRIu64, start, c->to_us, end, c->from_us);
    if (c->from_us)
        strbuf_printf(q, " AND day >= toDate(%" PRIu64 ")", c->from_us / 1000000u);
    if (c->to_us != UINT64_MAX)
        strbuf_printf(q, " AND day <= toDate(%" PRIu64 ")", c->to_us / 1000000u);
}

static bool run_query(struct fleet_ctx *c, struct strbuf *q, struct tsv *t)
{
    strbuf_puts(q, " FORMAT TabSeparated");
    bool ok = !q->oom && query(c, strbuf_str(q), t);
    strbuf_fini(q);
    return ok;
}

static bool want_fields(const struct tsv *t, size_t n)
{
    for (size_t i = 0; i < t->n_rows; i++)
        if (t->n_fields[i] != n) {
            cli_error("fleet",
                      "the store answered %zu fields where %zu were expected (is the schema "
                      "docs/clickhouse.sql?)",
                      t->n_fields[i], n);
            return false;
        }
    return true;
}

static char *dup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("nettriage: out of memory\n", stderr);
        exit(EXIT_ERROR);
    }
    return d;
}

static void *alloc_n(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("nettriage: out of memory\n", stderr);
        exit(EXIT_ERROR);
    }
    return p;
}

static bool load_findings(struct fleet_ctx *c, struct fleet_report *r)
{
    struct strbuf q;
    struct tsv t, per;
    strbuf_init(&q);
    strbuf_printf(&q,
                  "SELECT rule_id, server, port, transport, min(ts_us) AS onset, max(last_us), "
                  "argMin(sensor, ts_us), argMin(title, ts_us), argMin(severity, ts_us), "
                  "max(severity_n) AS sev, argMin(service, ts_us), argMin(summary, ts_us), "
                  "sum(lookups), length(groupUniqArrayArray(clients)) FROM %s.findings FINAL "
                  "WHERE ",
                  c->db);
    range(&q, c, "ts_us", "last_us");
    strbuf_puts(&q, " GROUP BY rule_id, server, port, transport "
                    "ORDER BY sev DESC, onset, rule_id, server, port LIMIT 1000");
    if (!run_query(c, &q, &t))
        return false;
    if (!want_fields(&t, 14)) {
        tsv_fini(&t);
        return false;
    }
    strbuf_init(&q);
    strbuf_printf(&q,
                  "SELECT rule_id, server, port, transport, sensor, min(ts_us) AS onset, "
                  "max(last_us), sum(lookups) FROM %s.findings FINAL WHERE ",
                  c->db);
    range(&q, c, "ts_us", "last_us");
    strbuf_puts(&q, " GROUP BY rule_id, server, port, transport, sensor "
                    "ORDER BY rule_id, server, port, transport, onset, sensor");
    if (!run_query(c, &q, &per)) {
        tsv_fini(&t);
        return false;
    }
    if (!want_fields(&per, 8)) {
        tsv_fini(&t);
        tsv_fini(&per);
        return false;
    }
    r->findings = alloc_n(t.n_rows, sizeof *r->findings);
    for (size_t i = 0; i < t.n_rows; i++) {
        char **f = t.rows[i];
        struct fleet_finding *x = &r->findings[r->n_findings++];
        x->rule_id = dup(f[0]);
        x->server = dup(f[1]);
        x->port = u64(f[2]);
        x->transport = dup(f[3]);
        x->onset_us = u64(f[4]);
        x->last_us = u64(f[5]);
        x->onset_sensor = dup(f[6]);
        x->title = dup(f[7]);
        x->severity = dup(f[8]);
        x->severity_n = u64(f[9]);
        x->service = dup(f[10]);
        x->summary = dup(f[11]);
        x->lookups = u64(f[12]);
        x->clients = u64(f[13]);
        size_t n = 0;
        for (size_t j = 0; j < per.n_rows; j++) {
            char **p = per.rows[j];
            n += strcmp(p[0], f[0]) == 0 && strcmp(p[1], f[1]) == 0 && strcmp(p[2], f[2]) == 0 &&
                 strcmp(p[3], f[3]) == 0;
        }
        x->seen = alloc_n(n, sizeof *x->seen);
        for (size_t j = 0; j < per.n_rows; j++) {
            char **p = per.rows[j];
            if (strcmp(p[0], f[0]) || strcmp(p[1], f[1]) || strcmp(p[2], f[2]) ||
                strcmp(p[3], f[3]))
                continue;
            struct fleet_seen *s = &x->seen[x->n_seen++];
            s->sensor = dup(p[4]);
            s->onset_us = u64(p[5]);
            s->last_us = u64(p[6]);
            s->lookups = u64(p[7]);
        }
    }
    tsv_fini(&t);
    tsv_fini(&per);
    return true;
}

static bool load_servers(struct fleet_ctx *c, struct fleet_report *r)
{
    struct strbuf q;
    struct tsv t;
    strbuf_init(&q);
    strbuf_printf(&q,
                  "SELECT server, server_port, transport, uniqExactIf(sensor, failed = 1) AS s, "
                  "minIf(ts_us, failed = 1) AS since, maxIf(ts_us, failed = 1), "
                  "countIf(failed = 1) AS f, count(), uniqExactIf(client, failed = 1) "
                  "FROM %s.lookups FINAL WHERE ",
                  c->db);
    range(&q, c, "ts_us", "ts_us");
    strbuf_puts(&q, " GROUP BY server, server_port, transport HAVING f > 0 "
                    "ORDER BY s DESC, since, server LIMIT 100");
    if (!run_query(c, &q, &t))
        return false;
    bool ok = want_fields(&t, 9);
    r->servers = alloc_n(t.n_rows, sizeof *r->servers);
    for (size_t i = 0; ok && i < t.n_rows; i++) {
        char **f = t.rows[i];
        struct fleet_server *s = &r->servers[r->n_servers++];
        s->server = dup(f[0]);
        s->port = u64(f[1]);
        s->transport = dup(f[2]);
        s->sensors = u64(f[3]);
        s->since_us = u64(f[4]);
        s->last_us = u64(f[5]);
        s->failures = u64(f[6]);
        s->lookups = u64(f[7]);
        s->clients = u64(f[8]);
    }
    tsv_fini(&t);
    return ok;
}

static bool load_rtts(struct fleet_ctx *c, struct fleet_report *r)
{
    struct strbuf q;
    struct tsv t;
    strbuf_init(&q);
    strbuf_printf(&q,
                  "SELECT sensor, server, count(), quantile(0.5)(rtt_ms), quantile(0.9)(rtt_ms), "
                  "quantile(0.99)(rtt_ms) FROM %s.lookups FINAL WHERE outcome = 'answered' AND ",
                  c->db);
    range(&q, c, "ts_us", "ts_us");
    strbuf_puts(&q, " GROUP BY sensor, server ORDER BY sensor, server LIMIT 1000");
    if (!run_query(c, &q, &t))
        return false;
    bool ok = want_fields(&t, 6);
    r->rtts = alloc_n(t.n_rows, sizeof *r->rtts);
    for (size_t i = 0; ok && i < t.n_rows; i++) {
        char **f = t.rows[i];
        struct fleet_rtt *x = &r->rtts[r->n_rtts++];
        x->sensor = dup(f[0]);
        x->server = dup(f[1]);
        x->answers = u64(f[2]);
        x->p50_us = ms_to_us(f[3]);
        x->p90_us = ms_to_us(f[4]);
        x->p99_us = ms_to_us(f[5]);
    }
    tsv_fini(&t);
    return ok;
}

static bool load_names(struct fleet_ctx *c, struct fleet_report *r)
{
    struct strbuf q;
    struct tsv t;
    strbuf_init(&q);
    strbuf_printf(&q,
                  "SELECT qname, count() AS f, uniqExact(sensor), uniqExact(client) FROM "
                  "%s.lookups FINAL WHERE failed = 1 AND qname != '' AND ",
                  c->db);
    range(&q, c, "ts_us", "ts_us");
    strbuf_puts(&q, " GROUP BY qname ORDER BY f DESC, qname LIMIT 20");
    if (!run_query(c, &q, &t))
        return false;
    bool ok = want_fields(&t, 4);
    r->names = alloc_n(t.n_rows, sizeof *r->names);
    for (size_t i = 0; ok && i < t.n_rows; i++) {
        char **f = t.rows[i];
        struct fleet_name *x = &r->names[r->n_names++];
        x->name = dup(f[0]);
        x->failures = u64(f[1]);
        x->sensors = u64(f[2]);
        x->clients = u64(f[3]);
    }
    tsv_fini(&t);
    return ok;
}

static bool load_sensors(struct fleet_ctx *c, struct fleet_report *r)
{
    struct strbuf q;
    struct tsv t;
    strbuf_init(&q);
    strbuf_printf(&q,
                  "SELECT sensor, min(ts_us), max(ts_us), count(), countIf(failed = 1) FROM "
                  "%s.lookups FINAL WHERE ",
                  c->db);
    range(&q, c, "ts_us", "ts_us");
    strbuf_puts(&q, " GROUP BY sensor ORDER BY sensor LIMIT 10000");
    if (!run_query(c, &q, &t))
        return false;
    bool ok = want_fields(&t, 5);
    r->sensors = alloc_n(t.n_rows, sizeof *r->sensors);
    for (size_t i = 0; ok && i < t.n_rows; i++) {
        char **f = t.rows[i];
        struct fleet_sensor *x = &r->sensors[r->n_sensors++];
        x->sensor = dup(f[0]);
        x->first_us = u64(f[1]);
        x->last_us = u64(f[2]);
        x->lookups = u64(f[3]);
        x->failures = u64(f[4]);
    }
    tsv_fini(&t);
    return ok;
}

void cli_help_fleet(FILE *out)
{
    fputs("usage: nettriage fleet --clickhouse URL [--from TIME] [--to TIME]\n"
          "                       [--format md|json|html] [-o FILE] [--database NAME]\n"
          "The incident report of many sensors from the fleet store (docs/clickhouse.md).\n"
          "TIME: 2026-11-21T22:49:30Z, '2026-11-21 22:49:30', 2026-11-21 (UTC) or seconds\n"
          "since 1970. Credentials: $NETTRIAGE_CLICKHOUSE_USER and _PASSWORD, or a file\n"
          "named by $NETTRIAGE_CLICKHOUSE_CREDENTIALS (never on the command line).\n",
          out);
}

int cmd_fleet(int argc, char **argv)
{
    const char *url = NULL, *format = "md", *output = NULL, *db = "nettriage";
    struct fleet_ctx c = {.from_us = 0, .to_us = UINT64_MAX};
    enum { OPT_CLICKHOUSE = 256, OPT_FROM, OPT_TO, OPT_FORMAT, OPT_DATABASE };
    static const struct option longopts[] = {
        {"clickhouse", required_argument, NULL, OPT_CLICKHOUSE},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"database", required_argument, NULL, OPT_DATABASE},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_CLICKHOUSE:
            url = optarg;
            break;
        case OPT_FROM:
        case OPT_TO:
            if (!parse_time(optarg, ch == OPT_FROM ? &c.from_us : &c.to_us)) {
                return cli_usage_error("fleet", "%s wants a time (2026-11-21T22:49:30Z), not '%s'",
                                       ch == OPT_FROM ? "--from" : "--to", optarg);
            }
            break;
        case OPT_FORMAT:
            format = optarg;
            break;
        case OPT_DATABASE:
            db = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            cli_help_fleet(stdout);
            return EXIT_CLEAN;
        default:
            return cli_bad_option("fleet", ch, longopts, argv);
        }
    }
    if (optind < argc) {
        return cli_usage_error("fleet", "unexpected '%s' (the report is made from the store)",
                               argv[optind]);
    }
    if (!url) {
        return cli_usage_error("fleet", "fleet needs --clickhouse URL (the fleet store's HTTP "
                                        "interface)");
    }
    if (strcmp(format, "md") != 0 && strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
        return cli_usage_error("fleet", "unknown --format '%s' (md, json or html)", format);
    }
    if (!*db || strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                    strlen(db)) {
        return cli_usage_error("fleet", "--database wants letters, digits and _ only, not '%s'",
                               db);
    }
    if (c.from_us >= c.to_us) {
        cli_usage_error("fleet", "--from must come before --to");
        return EXIT_ERROR;
    }
    char *user = NULL, *password = NULL;
    if (!ship_credentials(&user, &password))
        return EXIT_ERROR;
    c.http = chttp_open(url, user, password);
    if (password)
        memset(password, 0, strlen(password));
    free(user);
    free(password);
    if (!c.http)
        return EXIT_ERROR;
    c.db = db;

    struct fleet_report r = {.version = NT_VERSION, .from_us = c.from_us, .to_us = c.to_us};
    r.store = dup(url);
    int status = EXIT_ERROR;
    if (!load_findings(&c, &r) || !load_servers(&c, &r) || !load_rtts(&c, &r) ||
        !load_names(&c, &r) || !load_sensors(&c, &r))
        goto done;

    struct strbuf out;
    strbuf_init(&out);
    if (strcmp(format, "json") == 0)
        fleet_render_json(&r, &out);
    else if (strcmp(format, "html") == 0)
        fleet_render_html(&r, &out);
    else
        fleet_render_md(&r, &out);
    FILE *f = output ? fopen(output, "w") : stdout;
    if (!f) {
        cli_error(output, "%s", strerror(errno));
        strbuf_fini(&out);
        goto done;
    }
    bool ok = !out.oom && fwrite(strbuf_str(&out), 1, out.len, f) == out.len;
    ok = (f == stdout ? fflush(f) : fclose(f)) == 0 && ok;
    strbuf_fini(&out);
    if (!ok) {
        cli_error(output ? output : "standard output", "write error");
        goto done;
    }
    status = r.n_findings > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
done:
    fleet_report_fini(&r);
    chttp_close(c.http);
    return status;
}
