/* ship.c: NDJSON events to ClickHouse over HTTP, through a bounded spool on disk (ship.h). */
#include "cli/ship.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/chttp.h"
#include "cli/cli.h"
#include "report/observer.h"
#include "util/strbuf.h"

#define BATCH_BYTES   (8u << 20)
#define BATCH_LINES   50000u
#define BATCH_AGE_S   1.0
#define BACKOFF_MIN_S 0.5
#define BACKOFF_MAX_S 10.0
#define SUFFIX        ".ndjson"

struct ship {
    struct ship_config cfg;
    struct chttp *http;
    char *insert_query; /* INSERT INTO <table> FORMAT JSONEachRow */
    int lock_fd;
    struct strbuf batch;
    uint64_t batch_lines;
    double batch_start; /* monotonic time of its first line */
    /* Spooled batches, oldest first (file names in the spool directory). */
    char **queue;
    size_t n_queue, cap_queue, head;
    uint64_t spool_bytes;
    double next_try, backoff;
    bool failing; /* the last send failed (said once per streak) */
    struct ship_stats st;
    char *spool_copy;
};

void ship_config_default(struct ship_config *cfg, const char *table)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->table = table;
    cfg->spool_dir = SHIP_DEFAULT_SPOOL;
    cfg->spool_max = SHIP_DEFAULT_SPOOL_MAX;
    cfg->wait_s = SHIP_DEFAULT_WAIT_S;
}

bool ship_set_option(struct ship_config *cfg, const char *cmd, enum ship_option which,
                     const char *arg)
{
    switch (which) {
    case SHIP_OPT_URL:
        cfg->url = arg;
        return true;
    case SHIP_OPT_SPOOL:
        if (!*arg) {
            cli_usage_error(cmd, "--spool needs a directory");
            return false;
        }
        cfg->spool_dir = arg;
        cfg->spool_set = true;
        return true;
    case SHIP_OPT_SPOOL_MAX: {
        double mb;
        if (!cli_parse_seconds(arg, 1, 1048576, &mb)) {
            cli_usage_error(cmd, "--spool-max wants megabytes from 1 to 1048576, not '%s'", arg);
            return false;
        }
        cfg->spool_max = (uint64_t)(mb * 1048576.0);
        cfg->spool_max_set = true;
        return true;
    }
    case SHIP_OPT_WAIT: {
        double w;
        if (!cli_parse_seconds(arg, 0, 86400, &w)) {
            cli_usage_error(cmd, "--clickhouse-wait wants seconds from 0 to 86400, not '%s'", arg);
            return false;
        }
        cfg->wait_s = w;
        cfg->wait_set = true;
        return true;
    }
    }
    return false;
}

const char *ship_orphan_option(const struct ship_config *cfg)
{
    if (cfg->url)
        return NULL;
    return cfg->spool_set       ? "--spool"
           : cfg->spool_max_set ? "--spool-max"
           : cfg->wait_set      ? "--clickhouse-wait"
                                : NULL;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *spool_path(const struct ship *s, const char *name)
{
    size_t n = strlen(s->cfg.spool_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", s->cfg.spool_dir, name);
    return p;
}

static bool queue_push(struct ship *s, const char *name)
{
    if (s->n_queue == s->cap_queue) {
        size_t cap = s->cap_queue ? 2 * s->cap_queue : 64;
        char **q = realloc(s->queue, cap * sizeof *q);
        if (!q)
            return false;
        s->queue = q;
        s->cap_queue = cap;
    }
    if (!(s->queue[s->n_queue] = strdup(name)))
        return false;
    s->n_queue++;
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A batch file's name: 20 digits of microseconds, '-', the 32-digit content hash, SUFFIX. */
static bool batch_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n != 20 + 1 + OBSERVER_ID_LEN + strlen(SUFFIX) || name[20] != '-')
        return false;
    for (size_t i = 0; i < 20; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    return strcmp(name + n - strlen(SUFFIX), SUFFIX) == 0;
}

/* The batches an earlier run left, oldest first, and their bytes. */
static bool scan_spool(struct ship *s)
{
    DIR *d = opendir(s->cfg.spool_dir);
    if (!d)
        return false;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!batch_name_ok(e->d_name))
            continue;
        char *p = spool_path(s, e->d_name);
        struct stat sb;
        if (p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
            s->spool_bytes += (uint64_t)sb.st_size;
            if (!queue_push(s, e->d_name)) {
                free(p);
                closedir(d);
                return false;
            }
        }
        free(p);
    }
    closedir(d);
    qsort(s->queue, s->n_queue, sizeof *s->queue, cmp_names);
    return true;
}

/* Reads "user:password" from the first line of a file only its owner may read. */
static bool read_credentials_file(const char *path, char **user, char **password)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        cli_error("--clickhouse", "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        cli_error("--clickhouse", "%s is readable by others than its owner (chmod 600 it): refused",
                  path);
        close(fd);
        return false;
    }
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        cli_error("--clickhouse", "%s: empty or unreadable", path);
        return false;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *colon = strchr(buf, ':');
    if (!colon || colon == buf) {
        cli_error("--clickhouse", "%s: the first line must be user:password", path);
        return false;
    }
    *colon = '\0';
    *user = strdup(buf);
    *password = strdup(colon + 1);
    memset(buf, 0, sizeof buf);
    return *user && *password;
}

bool ship_credentials(char **user, char **password)
{
    *user = *password = NULL;
    const char *file = getenv("NETTRIAGE_CLICKHOUSE_CREDENTIALS");
    if (file && *file)
        return read_credentials_file(file, user, password);
    const char *u = getenv("NETTRIAGE_CLICKHOUSE_USER");
    const char *p = getenv("NETTRIAGE_CLICKHOUSE_PASSWORD");
    if (u && *u) {
        *user = strdup(u);
        *password = strdup(p ? p : "");
        return *user && *password;
    }
    return true; /* ClickHouse's default user */
}

struct ship *ship_open(const struct ship_config *cfg)
{
    struct ship *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->lock_fd = -1;
    if (!(s->spool_copy = strdup(cfg->spool_dir))) {
        free(s);
        return NULL;
    }
    s->cfg.spool_dir = s->spool_copy;
    s->backoff = BACKOFF_MIN_S;
    strbuf_init(&s->batch);
    char *user = NULL, *password = NULL;
    if (!ship_credentials(&user, &password))
        goto fail;
    s->http = chttp_open(cfg->url, user, password);
    if (password)
        memset(password, 0, strlen(password));
    free(user);
    free(password);
    if (!s->http)
        goto fail;
    size_t qn = strlen(cfg->table) + 64;
    if (!(s->insert_query = malloc(qn)))
        goto fail;
    snprintf(s->insert_query, qn, "INSERT INTO %s FORMAT JSONEachRow", cfg->table);

    if (mkdir(cfg->spool_dir, 0700) != 0 && errno != EEXIST) {
        cli_error("--spool", "%s: %s", cfg->spool_dir, strerror(errno));
        goto fail;
    }
    char *lock = spool_path(s, ".lock");
    if (!lock)
        goto fail;
    s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(lock);
    if (s->lock_fd < 0) {
        cli_error("--spool", "%s: %s", cfg->spool_dir, strerror(errno));
        goto fail;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        cli_error("--spool", "%s is in use by another nettriage (one spool per process)",
                  cfg->spool_dir);
        goto fail;
    }
    if (!scan_spool(s)) {
        cli_error("--spool", "%s: cannot be read", cfg->spool_dir);
        goto fail;
    }
    return s;
fail:
    ship_close(s, NULL);
    return NULL;
}

/* Writes the batch into the spool (then renamed into place) and queues it; an overflow when
 * the spool would pass its bound. */
static void seal(struct ship *s)
{
    if (s->batch.len == 0)
        return;
    uint64_t lines = s->batch_lines;
    size_t len = s->batch.len;
    s->batch_lines = 0;
    if (s->batch.oom || s->spool_bytes + len > s->cfg.spool_max) {
        s->st.overflow_lines += lines;
        s->st.overflow_batches++;
        strbuf_reset(&s->batch);
        return;
    }
    char hash[OBSERVER_ID_LEN + 1], name[20 + 1 + OBSERVER_ID_LEN + sizeof SUFFIX];
    observer_hash_hex(s->batch.s, len, hash);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t us = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
    /* Names sort in the order batches were made, also after a clock step back. */
    if (s->n_queue > s->head) {
        uint64_t last = strtoull(s->queue[s->n_queue - 1], NULL, 10);
        if (us <= last)
            us = last + 1;
    }
    snprintf(name, sizeof name, "%020" PRIu64 "-%s" SUFFIX, us, hash);
    char *path = spool_path(s, name);
    char *tmp = spool_path(s, ".partial");
    bool ok = path && tmp;
    if (ok) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ok = fd >= 0;
        if (ok) {
            ok = write(fd, s->batch.s, len) == (ssize_t)len && fdatasync(fd) == 0;
            ok = close(fd) == 0 && ok;
        }
        ok = ok && rename(tmp, path) == 0 && queue_push(s, name);
        if (!ok) {
            cli_error("--spool", "%s: %s: batch of %" PRIu64 " events lost", s->cfg.spool_dir,
                      strerror(errno), lines);
            unlink(tmp);
            s->st.overflow_lines += lines;
            s->st.overflow_batches++;
        }
    }
    if (ok)
        s->spool_bytes += len;
    free(path);
    free(tmp);
    strbuf_reset(&s->batch);
}

/* Sends the oldest spooled batch; true when the server took it (HTTP 200). */
static bool send_one(struct ship *s)
{
    const char *name = s->queue[s->head];
    char *path = spool_path(s, name);
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        /* Gone (removed by hand): nothing to send. */
        free(path);
        free(s->queue[s->head]);
        s->head++;
        return true;
    }
    struct strbuf body;
    strbuf_init(&body);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&body, buf, n);
    bool read_ok = !ferror(f) && !body.oom;
    fclose(f);
    if (!read_ok) {
        strbuf_fini(&body);
        free(path);
        return false;
    }
    struct chttp_result r;
    bool ok =
        chttp_post(s->http, s->insert_query, CHTTP_INSERT, body.s ? body.s : "", body.len, &r);
    if (ok) {
        uint64_t lines = 0;
        for (size_t i = 0; i < body.len; i++)
            lines += body.s[i] == '\n';
        unlink(path);
        s->spool_bytes -= s->spool_bytes >= body.len ? body.len : s->spool_bytes;
        s->st.batches_sent++;
        s->st.lines_sent += lines;
        free(s->queue[s->head]);
        s->head++;
        if (s->failing && !s->cfg.quiet)
            fputs("nettriage: --clickhouse: the server answers again; sending the spool\n", stderr);
        s->failing = false;
    } else if (chttp_data_error(r.ch_code)) {
        /* The server read the batch and refused its data: it would refuse it again. Kept
         * aside in SPOOL/rejected for a look, counted, and the queue goes on. */
        char *dir = spool_path(s, "rejected");
        size_t tn = (dir ? strlen(dir) : 0) + strlen(name) + 2;
        char *to = dir ? malloc(tn) : NULL;
        if (to) {
            snprintf(to, tn, "%s/%s", dir, name);
            if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                to[0] = '\0';
        }
        uint64_t lines = 0;
        for (size_t i = 0; i < body.len; i++)
            lines += body.s[i] == '\n';
        if (to && to[0] && rename(path, to) == 0) {
            s->spool_bytes -= s->spool_bytes >= body.len ? body.len : s->spool_bytes;
            s->st.rejected_lines += lines;
            s->st.rejected_batches++;
            cli_error("--clickhouse", "%s; the batch (%" PRIu64 " events) is kept in %s", r.error,
                      lines, dir);
            free(s->queue[s->head]);
            s->head++;
            ok = true; /* the queue goes on */
        } else {
            s->st.failures++;
        }
        free(dir);
        free(to);
    } else {
        s->st.failures++;
        if (!s->failing && !s->cfg.quiet)
            cli_error("--clickhouse", "%s; batches kept in %s and retried", r.error,
                      s->cfg.spool_dir);
        s->failing = true;
    }
    chttp_result_fini(&r);
    strbuf_fini(&body);
    free(path);
    return ok;
}

static void send_due(struct ship *s)
{
    double now = mono_now();
    while (s->head < s->n_queue && now >= s->next_try) {
        if (send_one(s)) {
            s->backoff = BACKOFF_MIN_S;
            continue;
        }
        s->next_try = mono_now() + s->backoff;
        s->backoff = s->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : s->backoff * 2;
        break;
    }
    /* Compact the queue once its head is far in. */
    if (s->head > 0 && s->head == s->n_queue) {
        s->head = s->n_queue = 0;
    } else if (s->head > 1024 && s->head * 2 > s->n_queue) {
        memmove(s->queue, s->queue + s->head, (s->n_queue - s->head) * sizeof *s->queue);
        s->n_queue -= s->head;
        s->head = 0;
    }
}

void ship_line(struct ship *s, const char *line, size_t n)
{
    if (n == 0)
        return;
    if (s->batch.len == 0)
        s->batch_start = mono_now();
    strbuf_append(&s->batch, line, n);
    if (line[n - 1] != '\n')
        strbuf_putc(&s->batch, '\n');
    s->batch_lines++;
    s->st.lines++;
    /* A batch is at most a quarter of the spool's bound, so a small spool still holds some. */
    uint64_t max_bytes = s->cfg.spool_max / 4 < BATCH_BYTES ? s->cfg.spool_max / 4 : BATCH_BYTES;
    if (s->batch.len >= max_bytes || s->batch_lines >= BATCH_LINES) {
        seal(s);
        send_due(s);
    }
}

void ship_lines(struct ship *s, const char *buf, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t len = nl ? (size_t)(nl - buf) + 1 : n;
        ship_line(s, buf, len);
        buf += len;
        n -= len;
    }
}

void ship_tick(struct ship *s)
{
    if (s->batch.len > 0 && mono_now() - s->batch_start >= BATCH_AGE_S)
        seal(s);
    send_due(s);
}

bool ship_close(struct ship *s, struct ship_stats *st)
{
    if (!s)
        return false;
    bool all = true;
    if (s->http) {
        seal(s);
        double deadline = mono_now() + s->cfg.wait_s;
        for (;;) {
            send_due(s);
            if (s->head >= s->n_queue)
                break;
            double now = mono_now();
            if (now >= deadline)
                break;
            double pause = s->next_try - now;
            if (pause > deadline - now)
                pause = deadline - now;
            if (pause > 0) {
                struct timespec ts = {(time_t)pause, (long)((pause - (double)(time_t)pause) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        s->st.left_batches = s->n_queue - s->head;
        all = s->st.left_batches == 0 && s->st.overflow_lines == 0 && s->st.rejected_lines == 0;
    }
    if (st)
        *st = s->st;
    for (size_t i = s->head; i < s->n_queue; i++)
        free(s->queue[i]);
    free(s->queue);
    strbuf_fini(&s->batch);
    chttp_close(s->http);
    free(s->insert_query);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->spool_copy);
    free(s);
    return all;
}

void ship_report(const struct ship_stats *st, const char *spool_dir)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_printf(
        &b, "%" PRIu64 " events in %" PRIu64 " batches sent (%" PRIu64 " failed sends retried)",
        st->lines_sent, st->batches_sent, st->failures);
    if (st->left_batches)
        strbuf_printf(&b, "; %" PRIu64 " batches left in %s, sent by the next run",
                      st->left_batches, spool_dir);
    if (st->rejected_lines)
        strbuf_printf(&b,
                      "; %" PRIu64 " events in %" PRIu64
                      " batches refused by the server, kept in %s/rejected",
                      st->rejected_lines, st->rejected_batches, spool_dir);
    if (st->overflow_lines)
        strbuf_printf(
            &b, "; %" PRIu64 " events in %" PRIu64 " batches overflowed the spool and are lost",
            st->overflow_lines, st->overflow_batches);
    cli_error("--clickhouse", "%s", b.oom ? "out of memory" : strbuf_str(&b));
    strbuf_fini(&b);
}
