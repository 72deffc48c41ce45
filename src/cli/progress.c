/* progress.c: see progress.h. */
#include "cli/progress.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "pipeline/pipeline.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void progress_init(struct progress *p, FILE *tty, struct pipeline *pl, uint32_t n_inputs)
{
    memset(p, 0, sizeof *p);
    p->tty = tty;
    p->pl = pl;
    p->n_inputs = n_inputs;
    if (tty)
        p->input_start_ns = now_ns();
}

void progress_live_tick(void *ctx, const struct source_stats *st)
{
    struct progress *cp = ctx;
    if (!cp->tty)
        return;
    struct pipeline_progress pr;
    pipeline_progress(cp->pl, &pr);
    uint64_t failures = pr.icmp_errors + pr.unanswered + pr.tcp_failed;
    uint64_t dropped = st->has_capture_stats ? st->cap_dropped + st->cap_if_dropped : 0;
    uint64_t now[5] = {st->packets, pr.dns_lookups, pr.answered, pr.tcp_attempts + failures,
                       dropped};
    if (cp->shown && memcmp(now, cp->last, sizeof now) == 0)
        return;
    memcpy(cp->last, now, sizeof now);
    /* \r and erase to the end of the line: one line, rewritten. */
    fprintf(cp->tty,
            "\r\033[K%" PRIu64 " packets, %" PRIu64 " DNS lookups (%" PRIu64 " answered), %" PRIu64
            " TCP attempts, %" PRIu64 " failures so far; Ctrl-C ends",
            st->packets, pr.dns_lookups, pr.answered, pr.tcp_attempts, failures);
    if (dropped)
        fprintf(cp->tty, " [kernel dropped %" PRIu64 "]", dropped);
    fflush(cp->tty);
    cp->shown = true;
}

/* A line being made, cut at its size. */
struct line {
    char b[192];
    size_t n;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
    if (l->n + 1 >= sizeof l->b)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->b + l->n, sizeof l->b - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < sizeof l->b - l->n ? (size_t)k : sizeof l->b - l->n - 1;
}

/* "1,204,117" */
static void add_count(struct line *l, uint64_t v)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%" PRIu64, v);
    for (int i = 0; i < n; i++)
        add(l, "%s%c", i > 0 && (n - i) % 3 == 0 ? "," : "", d[i]);
}

/* "7 s", "3 min 20 s", "1 h 05 min" */
static void add_duration(struct line *l, double s)
{
    uint64_t t = s < 0 ? 0 : (uint64_t)(s + 0.5);
    if (t < 60)
        add(l, "%" PRIu64 " s", t);
    else if (t < 3600)
        add(l, "%" PRIu64 " min %02" PRIu64 " s", t / 60, t % 60);
    else
        add(l, "%" PRIu64 " h %02" PRIu64 " min", t / 3600, t / 60 % 60);
}

/* The unit a size is shown in: KiB below 1 MiB, MiB below 1 GiB, else GiB. */
static void size_unit(uint64_t v, double *div, const char **unit)
{
    if (v < ((uint64_t)1 << 20)) {
        *div = 1024.0;
        *unit = "KiB";
    } else if (v < ((uint64_t)1 << 30)) {
        *div = 1048576.0;
        *unit = "MiB";
    } else {
        *div = 1073741824.0;
        *unit = "GiB";
    }
}

/* Writes the line over the one shown: a carriage return, the text cut to the terminal's width
 * (a line that wrapped could not be rewritten in place), and spaces over what is left of the
 * longer line before. No escape sequence: any terminal, and NO_COLOR's, shows it alike. */
static void draw(struct progress *p, struct line *l)
{
    struct winsize ws;
    size_t width = 80;
    if (ioctl(fileno(p->tty), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        width = ws.ws_col;
    if (l->n > width - 1)
        l->n = width - 1;
    fputc('\r', p->tty);
    fwrite(l->b, 1, l->n, p->tty);
    for (size_t i = l->n; i < p->drawn; i++)
        fputc(' ', p->tty);
    fflush(p->tty);
    p->drawn = l->n;
    p->shown = true;
}

void progress_read_tick(void *ctx, const struct pipeline_read_progress *rp)
{
    struct progress *p = ctx;
    if (!p->tty)
        return;
    int64_t now = now_ns();
    if (rp->input != p->input) { /* an input that could not be opened gave no final line */
        p->input = rp->input;
        p->input_start_ns = now;
    }
    int64_t elapsed = now - p->input_start_ns;
    if (!rp->done && (elapsed < PROGRESS_INTERVAL_NS ||
                      (p->shown && now - p->last_draw_ns < PROGRESS_INTERVAL_NS)))
        return;
    double secs = (double)elapsed / 1e9;
    struct line l = {.n = 0};
    if (p->n_inputs > 1)
        add(&l, "[%" PRIu32 "/%" PRIu32 "] ", rp->input + 1, p->n_inputs);
    add(&l, "%s ", rp->done ? "read" : "reading");
    uint64_t total = rp->total >= 0 ? (uint64_t)rp->total : 0;
    /* The reader reads ahead: what it read may pass what stat said of a file still growing. */
    uint64_t bytes = rp->total >= 0 && rp->bytes > total ? total : rp->bytes;
    double div;
    const char *unit;
    size_unit(rp->total >= 0 ? total : bytes, &div, &unit);
    if (rp->total >= 0)
        add(&l, "%.1f of %.1f %s (%u%%): ", (double)bytes / div, (double)total / div, unit,
            total ? (unsigned)(bytes * 100 / total) : 100);
    else
        add(&l, "%.1f %s: ", (double)bytes / div, unit);
    add_count(&l, rp->packets);
    add(&l, " packets");
    if (secs > 0.001) {
        add(&l, ", ");
        add_count(&l, (uint64_t)((double)rp->packets / secs));
        add(&l, "/s");
    }
    if (rp->done) {
        add(&l, ", in %.1f s", secs);
    } else if (rp->total >= 0 && bytes > 0 && secs > 0.001) {
        double left = (double)(total - bytes) / ((double)bytes / secs);
        if (left < 1) {
            add(&l, ", under a second left");
        } else {
            add(&l, ", about ");
            add_duration(&l, left);
            add(&l, " left");
        }
    }
    draw(p, &l);
    p->last_draw_ns = now;
    if (rp->done) { /* the next input starts now */
        p->input = rp->input + 1;
        p->input_start_ns = now;
    }
}

void progress_end(struct progress *p)
{
    if (p->tty && p->shown) {
        fputc('\n', p->tty);
        fflush(p->tty);
    }
    p->shown = false;
}

void progress_erase(struct progress *p)
{
    if (p->tty && p->shown) {
        fputc('\r', p->tty);
        for (size_t i = 0; i < p->drawn; i++)
            fputc(' ', p->tty);
        fputc('\r', p->tty);
        fflush(p->tty);
    }
    p->shown = false;
    p->drawn = 0;
}
