/* fuzz_pipeline.c: libFuzzer target for the state kept across packets: a sequence of frames, with
 * times that may go backwards, goes through the whole engine as `nettriage report` runs it
 * (src/cli/report.c, src/pipeline/): each input written as a pcap file and read by
 * pipeline_read (source -> decode -> flow, with IP fragment and DNS over TCP reassembly ->
 * correlate -> detect -> report model), then the Markdown, JSON and NDJSON renderers.
 *
 * Input format (tests/fuzz/make-pipeline-seeds writes it from real captures):
 *   byte 0      link type of every input: LINK_TYPES[byte % n]
 *   byte 1      bits 0-1: --timeout (TIMEOUTS_US); bit 2: at most 3 open lookups and TCP
 *               attempts (--max-lookups 3 --max-tcp 3, so eviction runs); bit 3: nanosecond
 *               pcap
 *   then frames, each:
 *     2 bytes   big-endian: 0xffff starts the next input (at most MAX_INPUTS); otherwise bits
 *               0-14 are the frame's length and bit 15 marks it cut by a snap length (the wire
 *               length is 100 bytes more)
 *     1 byte    time step from the previous frame, signed (step_us): 0 same time, 1..31
 *               milliseconds, 32..63 tenths of seconds, 64..111 seconds, 112..127 minutes;
 *               negative steps go back
 *     n bytes   the frame
 *   A frame cut short by the end of the data is kept as far as it goes.
 *
 * Checks, besides memory safety: every lookup and ICMP error is streamed exactly once (as the
 * summary counts them), a lookup never with a pending outcome; outcomes add up to at most the
 * lookups and attempts; the JSON report and every NDJSON line are valid JSON; no output holds
 * invalid UTF-8 or a control character (other than the newlines between lines); Markdown
 * renders the same twice. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "report/analysis.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS 4
#define MAX_FRAMES 4096
#define START_SEC  1700000000

/* LINKTYPE_* values as written in a pcap header. */
static const uint32_t LINK_TYPES[] = {1, 101, 113, 276, 0, 108, 228, 229, 9, 50, 51};
static const int64_t TIMEOUTS_US[] = {5000000, 1000000, 200000, 30000000};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_pipeline: check failed: %s (line %d)\n", #cond, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int64_t step_us(int8_t code)
{
    int v = code < 0 ? -(int)code : code;
    int64_t us;
    if (v > 127)
        v = 127;
    if (v < 32)
        us = (int64_t)v * 1000;
    else if (v < 64)
        us = (int64_t)(v - 31) * 100000;
    else if (v < 112)
        us = (int64_t)(v - 63) * 1000000;
    else
        us = (int64_t)(v - 111) * 60000000;
    return code < 0 ? -us : us;
}

/* ---------------------------------------------------------------------------------------- */
/* Output checks */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), with its code point; 0 when none. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf)
        len = 2, *cp = b & 0x1fu;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3, *cp = b & 0x0fu, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4, *cp = b & 0x07u, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3fu);
    }
    return len;
}

/* Valid UTF-8 without C0 (but '\n'), DEL or C1 characters: what every renderer promises. */
static void check_text(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_len(s + i, n - i, &cp);
        CHECK(len > 0);
        CHECK(cp == '\n' || (cp >= 0x20 && (cp < 0x7f || cp > 0x9f)));
        i += len;
    }
}

/* A strict JSON (RFC 8259) reader that only says whether the text is one value. */
struct js {
    const char *p, *e;
    int depth;
};

static void js_ws(struct js *j)
{
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static bool js_lit(struct js *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->e - j->p) < n || memcmp(j->p, lit, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool js_digits(struct js *j)
{
    const char *s = j->p;
    while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

static bool js_number(struct js *j)
{
    if (j->p < j->e && *j->p == '-')
        j->p++;
    if (j->p < j->e && *j->p == '0')
        j->p++;
    else if (!js_digits(j))
        return false;
    if (j->p < j->e && *j->p == '.') {
        j->p++;
        if (!js_digits(j))
            return false;
    }
    if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!js_digits(j))
            return false;
    }
    return true;
}

static bool js_string(struct js *j)
{
    if (!js_lit(j, "\""))
        return false;
    while (j->p < j->e) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (j->p >= j->e)
            return false;
        c = (unsigned char)*j->p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++, j->p++) {
                if (j->p >= j->e || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
                    return false;
            }
        } else if (!strchr("\"\\/bfnrt", c) || !c) {
            return false;
        }
    }
    return false;
}

static bool js_value(struct js *j)
{
    js_ws(j);
    if (j->p >= j->e)
        return false;
    char c = *j->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (++j->depth > 64)
            return false;
        j->p++;
        js_ws(j);
        if (j->p < j->e && *j->p == close) {
            j->p++;
            j->depth--;
            return true;
        }
        for (;;) {
            if (c == '{') {
                js_ws(j);
                if (!js_string(j))
                    return false;
                js_ws(j);
                if (!js_lit(j, ":"))
                    return false;
            }
            if (!js_value(j))
                return false;
            js_ws(j);
            if (j->p < j->e && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->e && *j->p == close) {
                j->p++;
                j->depth--;
                return true;
            }
            return false;
        }
    }
    if (c == '"')
        return js_string(j);
    if (js_lit(j, "true") || js_lit(j, "false") || js_lit(j, "null"))
        return true;
    return js_number(j);
}

/* The text is exactly one JSON value (with white space around it). */
static void check_json(const char *s, size_t n)
{
    struct js j = {s, s + n, 0};
    CHECK(js_value(&j));
    js_ws(&j);
    CHECK(j.p == j.e);
}

/* ---------------------------------------------------------------------------------------- */
/* The pipeline, as `nettriage report` runs it (src/cli/report.c) */

struct run {
    struct strbuf nd; /* NDJSON lines of lookups and ICMP errors, checked and emptied per line */
    bool oom;
    uint64_t lookups, icmp_errors; /* callbacks seen */
};

/* Checks the NDJSON lines in r->nd and empties it. */
static void nd_flush(struct run *r)
{
    if (r->nd.oom) {
        r->oom = true;
    } else if (r->nd.len) {
        const char *s = strbuf_str(&r->nd), *e = s + r->nd.len;
        CHECK(e[-1] == '\n');
        check_text(s, r->nd.len);
        while (s < e) {
            const char *nl = memchr(s, '\n', (size_t)(e - s));
            check_json(s, (size_t)(nl - s));
            s = nl + 1;
        }
    }
    strbuf_reset(&r->nd);
}

static void on_lookup(void *ctx, const struct dns_lookup *l)
{
    struct run *r = ctx;
    CHECK(l->outcome != LOOKUP_PENDING);
    /* A lookup made from an ICMP error's quote has no query packet and at least that error (an
     * answer may still follow, as after any path error). */
    if (l->from_quote)
        CHECK(l->transmissions == 0 && l->n_errors >= 1 && l->query.role == 0 &&
              (l->outcome == LOOKUP_ICMP_ERROR || l->outcome == LOOKUP_ANSWERED));
    else
        CHECK(l->transmissions >= 1 && !l->id_unknown);
    r->lookups++;
    ndjson_lookup(&r->nd, l);
    nd_flush(r);
}

static void on_icmp(void *ctx, const struct icmp_event *e)
{
    struct run *r = ctx;
    r->icmp_errors++;
    ndjson_icmp_error(&r->nd, e);
    nd_flush(r);
}

static void put32(struct strbuf *b, uint32_t v)
{
    char c[4] = {(char)(v & 0xff), (char)(v >> 8 & 0xff), (char)(v >> 16 & 0xff), (char)(v >> 24)};
    strbuf_append(b, c, 4);
}

/* The inputs are read from a file, as the CLI reads them (source_open recognises the kind);
 * a memory file, rewritten for each input, that /proc/self/fd/N names. */
static int input_fd = -1;
static char input_path[64];

static bool write_input(const struct strbuf *pcap)
{
    if (input_fd < 0) {
        input_fd = memfd_create("fuzz_pipeline", 0);
        if (input_fd < 0)
            return false;
        snprintf(input_path, sizeof input_path, "/proc/self/fd/%d", input_fd);
    }
    if (ftruncate(input_fd, 0) != 0)
        return false;
    return pwrite(input_fd, pcap->s, pcap->len, 0) == (ssize_t)pcap->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t linktype = LINK_TYPES[data[0] % (sizeof LINK_TYPES / sizeof LINK_TYPES[0])];
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    cfg.timeout_us = TIMEOUTS_US[data[1] & 3];
    if (data[1] & 4)
        cfg.limits.max_lookups = cfg.limits.max_tcp_attempts = 3;
    bool nano = data[1] & 8;

    /* The frames, as one pcap per input. */
    struct strbuf pcaps[MAX_INPUTS];
    size_t n_inputs = 1, frames = 0;
    int64_t t_us = (int64_t)START_SEC * 1000000;
    for (size_t i = 0; i < MAX_INPUTS; i++)
        strbuf_init(&pcaps[i]);
    for (size_t i = 0, pos = 2; i < MAX_INPUTS && (i == 0 || (pos < size && frames < MAX_FRAMES));
         i++) {
        struct strbuf *b = &pcaps[i];
        n_inputs = i + 1;
        put32(b, nano ? 0xa1b23c4d : 0xa1b2c3d4);
        put32(b, 4u << 16 | 2u); /* version 2.4 */
        put32(b, 0);
        put32(b, 0);
        put32(b, 65535); /* snap length: frames are shorter */
        put32(b, linktype);
        while (pos + 3 <= size && frames < MAX_FRAMES) {
            unsigned hdr = (unsigned)data[pos] << 8 | data[pos + 1];
            int8_t step = (int8_t)data[pos + 2];
            pos += 3;
            if (hdr == 0xffff)
                break;
            size_t len = hdr & 0x7fff;
            if (len > size - pos)
                len = size - pos;
            t_us += step_us(step);
            if (t_us < 0)
                t_us = 0;
            put32(b, (uint32_t)(t_us / 1000000));
            put32(b, (uint32_t)(t_us % 1000000 * (nano ? 1000 : 1)));
            put32(b, (uint32_t)len);
            put32(b, (uint32_t)len + ((hdr & 0x8000) ? 100 : 0));
            strbuf_append(b, (const char *)data + pos, len);
            pos += len;
            frames++;
        }
    }

    struct analysis a = {0};
    struct run run = {0};
    strbuf_init(&run.nd);
    struct pipeline_sink sink = {.ctx = &run, .on_lookup = on_lookup, .on_icmp_error = on_icmp};
    struct pipeline *pl = pipeline_new(&cfg, &sink, &a, n_inputs);
    bool ok = pl != NULL;
    for (size_t i = 0; i < n_inputs; i++)
        ok = ok && !pcaps[i].oom;
    if (!ok)
        goto done;
    a.version = "fuzz";
    a.reported = strdup("fuzzed frames");

    bool input_error = false;
    uint64_t packets = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        if (!write_input(&pcaps[i]))
            goto done;
        if (!pipeline_read(pl, input_path, (uint32_t)i))
            input_error = true;
        packets += a.inputs[i].packets;
    }
    /* Nothing was read at all: the CLI stops at the errors. */
    if (packets == 0 && input_error)
        goto done;
    if (!pipeline_finish(pl) || run.oom)
        goto done;

    /* Every input was closed: everything the correlator counted has been handed on, once. */
    const struct analysis_summary *sm = &a.summary;
    CHECK(run.lookups == sm->dns_lookups + sm->lookups_from_quotes);
    CHECK(run.icmp_errors == sm->icmp_errors);
    CHECK(sm->icmp_matched <= sm->icmp_errors);
    CHECK(sm->answered + sm->unanswered + sm->capture_ended <= sm->dns_lookups);
    CHECK(sm->tcp_established + sm->tcp_reset + sm->tcp_icmp + sm->tcp_unanswered +
              sm->tcp_capture_ended <=
          sm->tcp_attempts);
    CHECK(sm->packets == packets);

    /* Markdown twice: rendering only reads the model, so the second is the same. */
    struct strbuf md, md2, js;
    strbuf_init(&md);
    strbuf_init(&md2);
    strbuf_init(&js);
    report_render_md(&a, &md);
    report_render_md(&a, &md2);
    report_render_json(&a, &js);
    if (!md.oom && !md2.oom) {
        CHECK(md.len > 0);
        check_text(strbuf_str(&md), md.len);
        CHECK(md.len == md2.len && memcmp(strbuf_str(&md), strbuf_str(&md2), md.len) == 0);
    }
    if (!js.oom) {
        check_text(strbuf_str(&js), js.len);
        check_json(strbuf_str(&js), js.len);
    }
    strbuf_fini(&md);
    strbuf_fini(&md2);
    strbuf_fini(&js);
    report_render_ndjson(&a, &run.nd);
    nd_flush(&run);
    CHECK(analysis_exit_status(&a) == (a.n_findings > 0));
done:
    /* The model borrows the findings from the pipeline's detector: free it first. */
    analysis_fini(&a);
    pipeline_free(pl);
    strbuf_fini(&run.nd);
    for (size_t i = 0; i < MAX_INPUTS; i++)
        strbuf_fini(&pcaps[i]);
    return 0;
}
