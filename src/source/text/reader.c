/* reader.c: the tcpdump text source: reads lines (bounded), joins a record's continuation
 * lines (-v's indented lines, lines wrapped by a document), counts the lines that are no
 * record, and hands each record to text_parse_record. source_text_open is declared in
 * source/source.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source_impl.h"
#include "source/text/text_internal.h"
#include "util/err.h"

/* A record (continuation lines joined) and a single line are both capped, so that a huge line of
 * junk costs a bounded buffer and a scan, never memory. */
#define TEXT_RECORD_MAX (64 * 1024)
#define TEXT_LINE_MAX   (64 * 1024)
#define TEXT_IO_CHUNK   (64 * 1024)

struct text_src {
    FILE *f;
    char *io;
    size_t io_pos, io_len;
    bool io_eof, io_err;
    char *line; /* current line (NUL-terminated), TEXT_LINE_MAX bytes at most */
    size_t line_len;
    bool line_over;    /* the line was longer than TEXT_LINE_MAX: discarded */
    bool line_pending; /* line was read but belongs to the next record */
    bool line_eof_partial;
    uint64_t line_no;
    char *rec;
    size_t rec_len;
    uint64_t rec_line_no, rec_lines;
    bool rec_open;
    bool after_blank; /* blank lines followed the open record */
    int first_mode;   /* timestamp style of the first record's line, before it is parsed */
    struct text_state st;
    uint64_t nrec;
    bool saw_header;
    bool reported; /* NT_ERR_NO_RECORDS was returned once */
};

static bool fill(struct text_src *t)
{
    if (t->io_eof)
        return false;
    t->io_len = fread(t->io, 1, TEXT_IO_CHUNK, t->f);
    t->io_pos = 0;
    if (t->io_len == 0) {
        t->io_eof = true;
        if (ferror(t->f))
            t->io_err = true;
        return false;
    }
    return true;
}

/* Reads one line into t->line (without "\n" or "\r\n"). Returns false at the end. */
static bool read_line(struct text_src *t)
{
    bool any = false;
    t->line_len = 0;
    t->line_over = false;
    for (;;) {
        if (t->io_pos >= t->io_len && !fill(t))
            break;
        any = true;
        const char *p = t->io + t->io_pos;
        size_t n = t->io_len - t->io_pos;
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!t->line_over) {
            size_t room = TEXT_LINE_MAX - t->line_len;
            if (take > room) {
                t->line_over = true;
            } else {
                memcpy(t->line + t->line_len, p, take);
                t->line_len += take;
            }
        }
        t->io_pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return false;
    if (t->line_len && t->line[t->line_len - 1] == '\r')
        t->line_len--;
    t->line[t->line_len] = '\0';
    t->line_no++;
    return true;
}

static void bad_line(struct source *s, uint64_t line_no)
{
    if (s->stats.bad_lines < SOURCE_BAD_LINES_KEPT)
        s->stats.first_bad_lines[s->stats.bad_lines] = line_no;
    s->stats.bad_lines++;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_space(p[i]))
            return false;
    }
    return true;
}

/* Control bytes (other than tab) mean binary junk, not text. */
static bool is_binary(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)p[i];
        if ((b < 0x20 && b != '\t' && b != '\f') || b == 0x7f)
            return true;
    }
    return false;
}

/* tcpdump's own messages around the records. */
static bool is_tcpdump_chatter(const char *p, size_t n)
{
    const char *e = p + n;
    while (p < e && is_space(*p))
        p++;
    if (starts(p, e, "reading from file ") || starts(p, e, "listening on ") ||
        starts(p, e, "tcpdump: ") || starts(p, e, "dropped privs to "))
        return true;
    struct sc s = {p, e};
    uint64_t v;
    if (sc_uint(&s, &v, 20)) {
        if (sc_lit(&s, " packets captured") || sc_lit(&s, " packet captured") ||
            sc_lit(&s, " packets received by filter") || sc_lit(&s, " packet received by filter") ||
            sc_lit(&s, " packets dropped by kernel") || sc_lit(&s, " packet dropped by kernel") ||
            sc_lit(&s, " packets dropped by interface"))
            return true;
    }
    return false;
}

/* Closes the open record: parses it into pkt. Returns 1 for a packet, 0 when it was not a
 * record we could read (its lines are counted as bad). */
static int finish_record(struct source *s, struct text_src *t, struct packet *pkt)
{
    t->rec_open = false;
    t->rec[t->rec_len] = '\0';
    packet_reset(pkt);
    if (!text_parse_record(&t->st, t->rec, t->rec_len, pkt)) {
        for (uint64_t i = 0; i < t->rec_lines; i++)
            bad_line(s, t->rec_line_no + i);
        return 0;
    }
    pkt->num = ++t->nrec;
    pkt->line_no = t->rec_line_no;
    pkt->linktype = -1;
    return 1;
}

static int text_next(struct source *s, struct packet *pkt)
{
    struct text_src *t = s->impl;
    for (;;) {
        if (!t->line_pending) {
            if (!read_line(t)) {
                if (t->io_err) {
                    snprintf(s->error, sizeof s->error, "read error after line %llu",
                             (unsigned long long)t->line_no);
                    return NT_ERR_IO;
                }
                if (t->rec_open && finish_record(s, t, pkt))
                    return 1;
                if (t->nrec == 0 && !t->reported && (s->stats.bad_lines > 0 || !t->saw_header)) {
                    if (s->stats.bad_lines)
                        snprintf(s->error, sizeof s->error,
                                 "no tcpdump lines found (first unreadable line: %llu)",
                                 (unsigned long long)s->stats.first_bad_lines[0]);
                    else
                        snprintf(s->error, sizeof s->error, "no tcpdump lines found (empty input)");
                    t->reported = true;
                    return NT_ERR_NO_RECORDS;
                }
                return 0;
            }
            s->stats.lines++;
        }
        t->line_pending = false;
        const char *p = t->line;
        size_t n = t->line_len;
        if (t->line_over || is_binary(p, n)) {
            bad_line(s, t->line_no);
            if (t->rec_open && finish_record(s, t, pkt))
                return 1;
            continue;
        }
        if (is_blank(p, n)) {
            /* A blank line ends a pasted record, except that -v output may continue it with
             * indented lines (an HTTP body's empty line, say): decided by the next line. */
            t->after_blank = t->rec_open;
            continue;
        }
        if (is_tcpdump_chatter(p, n)) {
            t->saw_header = true;
            if (t->rec_open && finish_record(s, t, pkt))
                return 1;
            continue;
        }
        struct sc body;
        struct tsval v;
        /* The first record fixes the style: with timestamps, a later "IP ..." line without
         * one is a continuation (tunnelled packets under -v), not a -t record. */
        int mode = t->st.ts_mode ? t->st.ts_mode : t->first_mode;
        if (text_record_start(p, p + n, mode, &body, &v)) {
            if (!t->first_mode)
                t->first_mode = v.mode;
            t->after_blank = false;
            if (t->rec_open) {
                t->line_pending = true;
                if (finish_record(s, t, pkt))
                    return 1;
                t->line_pending = false;
            }
            memcpy(t->rec, p, n);
            t->rec_len = n;
            t->rec_open = true;
            t->rec_line_no = t->line_no;
            t->rec_lines = 1;
            continue;
        }
        if (t->rec_open && t->after_blank && !is_space(*p)) {
            /* text after a blank line that is neither a record nor indented: not ours */
            t->line_pending = true;
            if (finish_record(s, t, pkt))
                return 1;
            t->line_pending = false;
        }
        t->after_blank = false;
        if (!t->rec_open) {
            bad_line(s, t->line_no);
            continue;
        }
        /* a continuation: -v's indented lines, or a line wrapped by a document */
        while (n && is_space(*p)) {
            p++;
            n--;
        }
        while (n && is_space(p[n - 1]))
            n--;
        if (t->rec_len + 1 + n > TEXT_RECORD_MAX) {
            bad_line(s, t->line_no);
            continue;
        }
        t->rec[t->rec_len++] = ' ';
        memcpy(t->rec + t->rec_len, p, n);
        t->rec_len += n;
        t->rec_lines++;
    }
}

static void text_close(struct source *s)
{
    struct text_src *t = s->impl;
    if (!t)
        return;
    if (t->f)
        fclose(t->f);
    free(t->io);
    free(t->line);
    free(t->rec);
    free(t);
    s->impl = NULL;
}

static const struct source_ops text_ops = {.next = text_next, .close = text_close};

int source_text_open(FILE *f, struct source **out, char *err)
{
    struct text_src *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        goto fail;
    t->io = malloc(TEXT_IO_CHUNK);
    t->line = malloc(TEXT_LINE_MAX + 1);
    t->rec = malloc(TEXT_RECORD_MAX + 1);
    if (!t->io || !t->line || !t->rec)
        goto fail;
    struct source *s = source_alloc(&text_ops, SOURCE_TEXT, t);
    if (!s)
        goto fail;
    t->f = f;
    s->stats.linktype = -1;
    *out = s;
    return 0;
fail:
    if (t) {
        free(t->io);
        free(t->line);
        free(t->rec);
        free(t);
    }
    if (f)
        fclose(f);
    if (err)
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
    return NT_ERR_NOMEM;
}
