/* source.c: opens an input, recognises its kind from its first bytes, and dispatches to the
 * pcap/pcapng backend (nettriage's own reader for a regular file, libpcap otherwise) or the
 * tcpdump-text backend. */
#include "source/source_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "source/pcapfile.h"
#include "util/err.h"

#define SNIFF_MAX 4096

/* The environment variable NETTRIAGE_READER=libpcap makes every pcap and pcapng input go
 * through libpcap, as standard input, pipes and gzip-compressed files always do; otherwise a
 * regular file is read by nettriage's own reader (pcapfile.c). For tests (the oracle that
 * compares both readers) and for measuring; any other value is the default. */
#define READER_ENV "NETTRIAGE_READER"

/* Set by source_live_request_stop (a signal handler): standard input and live sources stop. */
static volatile sig_atomic_t stop_requested;

void source_live_request_stop(void)
{
    stop_requested = 1;
}

bool source_live_stop_requested(void)
{
    return stop_requested != 0;
}

void source_stop_reset(void)
{
    stop_requested = 0;
}

static bool force_libpcap(void)
{
    const char *v = getenv(READER_ENV);
    return v && strcmp(v, "libpcap") == 0;
}

struct source *source_alloc(const struct source_ops *ops, enum source_kind kind, void *impl)
{
    struct source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ops = ops;
    s->kind = kind;
    s->impl = impl;
    s->stats.linktype = -1;
    s->bytes_total = -1;
    return s;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int source_sniff(const uint8_t *head, size_t n, const char **why)
{
    *why = NULL;
    if (n == 0) {
        *why = "empty file";
        return 0;
    }
    if (n >= 4) {
        uint32_t m = be32(head);
        if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1)
            return SOURCE_PCAP;
        if (m == 0x0a0d0d0a)
            return SOURCE_PCAPNG;
    }
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
        *why = "gzip-compressed data (decompress it first, e.g. with gunzip)";
        return 0;
    }
    /* Text: no NUL byte and few control bytes in the first block. A text file that holds no
     * tcpdump record is rejected later by the text reader, which reads it whole (bounded). */
    size_t ctrl = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = head[i];
        if (b == 0) {
            *why = "binary data (not a pcap, pcapng or tcpdump text capture)";
            return 0;
        }
        if (b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f')
            ctrl++;
    }
    if (ctrl * 20 > n) {
        *why = "binary data (not a pcap, pcapng or tcpdump text capture)";
        return 0;
    }
    return SOURCE_TEXT;
}

/* Text that is not tcpdump's but is often pasted as if it were, named so the user knows what
 * to give instead: Zeek logs (TSV with its "#separator" header, or JSON lines with Zeek's
 * field names) and tshark's default one-line summary ("    1 0.000000 192.0.2.1 → 192.0.2.2
 * DNS 74 Standard query 0x1234 A example.com"), whose columns carry no ports, DNS ids or ICMP
 * quotes, so its lookups cannot be followed. Looks at the first line that is not blank. NULL
 * when the text is none of these. */
static bool tshark_line(const char *p, size_t ll)
{
    size_t j = 0;
    while (j < ll && p[j] == ' ')
        j++;
    size_t d = j;
    while (j < ll && p[j] >= '0' && p[j] <= '9')
        j++;
    if (j == d || j >= ll || p[j] != ' ')
        return false;
    while (j < ll && p[j] == ' ')
        j++;
    d = j;
    while (j < ll && ((p[j] >= '0' && p[j] <= '9') || p[j] == '.'))
        j++;
    /* seconds since the first packet, with a fraction or (-t r with a coarse format) without */
    if (j == d || j >= ll || p[j] != ' ')
        return false;
    for (; j < ll && j < 200; j++) {
        if (ll - j >= 3 && memcmp(p + j, " > ", 3) == 0)
            return false; /* tcpdump's "src > dst" came first (-v's "cksum 0x1 -> 0x2" later) */
        if (ll - j >= 5 && memcmp(p + j, " \xe2\x86\x92 ", 5) == 0)
            return true;
        if (ll - j >= 4 && memcmp(p + j, " -> ", 4) == 0)
            return true;
    }
    return false;
}

static const char *foreign_text(const uint8_t *head, size_t n)
{
    size_t i = 0;
    if (n >= 3 && head[0] == 0xef && head[1] == 0xbb && head[2] == 0xbf)
        i = 3;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    const char *p = (const char *)head + i;
    size_t len = n - i;
    const char *nl = memchr(p, '\n', len);
    size_t ll = nl ? (size_t)(nl - p) : len;
    if (ll >= 11 && memcmp(p, "#separator ", 11) == 0)
        return "a Zeek log (tab-separated, e.g. dns.log), not a capture: nettriage reads pcap, "
               "pcapng or tcpdump's text; give it the capture Zeek read";
    if (ll && p[0] == '{') {
        bool zeek = false;
        static const char *const keys[] = {"\"id.orig_h\"", "\"uid\"", "\"rcode_name\"",
                                           "\"qtype_name\""};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            size_t kl = strlen(keys[k]);
            for (size_t j = 0; j + kl <= ll && !zeek; j++)
                zeek = memcmp(p + j, keys[k], kl) == 0;
        }
        if (zeek)
            return "a Zeek log in JSON (e.g. dns.log), not a capture: nettriage reads pcap, "
                   "pcapng or tcpdump's text; give it the capture Zeek read";
        return "JSON, not a capture: nettriage reads pcap, pcapng or tcpdump's text";
    }
    /* tshark, on any of the first 16 lines (a prompt or a heading may come first): a packet
     * number, seconds with a fraction, the source, an arrow, the destination */
    for (int line = 0; line < 16 && len; line++) {
        nl = memchr(p, '\n', len);
        ll = nl ? (size_t)(nl - p) : len;
        if (tshark_line(p, ll))
            return "tshark's one-line summary, not tcpdump's text (its columns carry no ports, "
                   "DNS ids or ICMP quotes): give nettriage the capture file, or tcpdump's "
                   "output (tcpdump -nn -r FILE)";
        if (!nl)
            break;
        len -= ll + 1;
        p = nl + 1;
    }
    return NULL;
}

/* A FILE that first returns the bytes we peeked at to recognise the input, then the rest of the
 * underlying stream: standard input cannot be rewound, and libpcap must see the file from its
 * first byte. When the underlying stream can seek (a regular file, or the gzip layer over one),
 * so can this one: the pcapng fallback reader rereads a file from its start. */
struct replay {
    FILE *under;
    bool own_under; /* close under with this stream (not standard input) */
    /* Standard input is read with read(2) on its descriptor, never through its FILE: what a
     * read returns is handed on at once (a pipe from tcpdump -U, a quiet link), where fread
     * would wait until its whole block is filled. */
    int fd;
    bool fd_eof;
    long base; /* under's position when the peek began */
    uint8_t head[SNIFF_MAX];
    size_t n, off;
    int64_t pos; /* bytes delivered so far = this stream's position */
    uint64_t at; /* where the reading is in the underlying input: base + max(pos, n) */
};

/* Updates at after pos moved (the peeked head was read from the input at once). */
static void replay_mark(struct replay *r)
{
    int64_t p = r->pos > (int64_t)r->n ? r->pos : (int64_t)r->n;
    r->at = (uint64_t)(r->base + p);
}

/* Reads what the underlying stream has, up to size bytes: from standard input what one read(2)
 * returns (0 at its end, and after a stop request; a read interrupted by a signal is tried
 * again unless a stop was requested), from any other stream what fread gives. Returns the
 * count, or -1 on a read error. */
static ssize_t under_read(struct replay *r, void *buf, size_t size)
{
    if (r->fd < 0) {
        size_t got = fread(buf, 1, size, r->under);
        return got == 0 && ferror(r->under) ? -1 : (ssize_t)got;
    }
    /* Once it ended it is not read again: a terminal would wait for another Ctrl-D. */
    if (r->fd_eof)
        return 0;
    for (;;) {
        if (stop_requested)
            return 0;
        ssize_t n = read(r->fd, buf, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            r->fd_eof = true;
        return n;
    }
}

/* Whether the stream has ended for good (its end was read). */
static bool under_ended(const struct replay *r)
{
    return r->fd < 0 ? feof(r->under) != 0 : r->fd_eof;
}

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
    struct replay *r = cookie;
    if (r->off < r->n) {
        size_t k = r->n - r->off;
        if (k > size)
            k = size;
        memcpy(buf, r->head + r->off, k);
        r->off += k;
        r->pos += (int64_t)k;
        replay_mark(r);
        return (ssize_t)k;
    }
    /* Once the underlying stream ended, it is not read again: glibc's fread reads a terminal
     * again even after it returned end-of-file, so each further call would wait for another
     * Ctrl-D (three were needed to end a pasted log). */
    if (under_ended(r))
        return 0;
    /* Standard input stopped by Ctrl-C (the signal interrupted the read): its end. */
    ssize_t got = under_read(r, buf, size);
    if (got < 0)
        return r->fd >= 0 && stop_requested ? 0 : -1;
    r->pos += (int64_t)got;
    replay_mark(r);
    return got;
}

static int replay_seek(void *cookie, off64_t *offset, int whence)
{
    struct replay *r = cookie;
    int64_t to;
    if (whence == SEEK_SET)
        to = *offset;
    else if (whence == SEEK_CUR)
        to = r->pos + *offset;
    else
        return -1;
    if (to < 0)
        return -1;
    if (to == r->pos) {
        *offset = to;
        return 0;
    }
    /* The peeked head is always replayed from memory; only the rest needs the underlying
     * stream to move, and a pipe refuses. */
    int64_t under_to = to < (int64_t)r->n ? (int64_t)r->n : to;
    if (fseeko(r->under, (off_t)(r->base + under_to), SEEK_SET) != 0)
        return -1;
    r->off = to < (int64_t)r->n ? (size_t)to : r->n;
    r->pos = to;
    replay_mark(r);
    *offset = to;
    return 0;
}

static int replay_close(void *cookie)
{
    struct replay *r = cookie;
    int rc = r->own_under ? fclose(r->under) : 0;
    free(r);
    return rc;
}

/* Peeks up to SNIFF_MAX bytes of f into a new replay (which owns f when own is true). Returns
 * NULL with *code and err set on failure; f is closed then if owned. */
static struct replay *replay_new(FILE *f, bool own, int *code, char *err)
{
    struct replay *r = calloc(1, sizeof *r);
    if (!r) {
        if (own)
            fclose(f);
        *code = NT_ERR_NOMEM;
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NULL;
    }
    r->under = f;
    r->own_under = own;
    r->fd = f == stdin ? fileno(f) : -1;
    r->base = ftell(f);
    if (r->base < 0)
        r->base = 0;
    bool failed = false;
    int e = 0;
    while (r->n < SNIFF_MAX && !under_ended(r)) {
        ssize_t got = under_read(r, r->head + r->n, SNIFF_MAX - r->n);
        if (got < 0) {
            e = errno;
            failed = true;
            break;
        }
        if (got == 0)
            break;
        r->n += (size_t)got;
        /* A pipe: a capture's magic number is enough to know it; the rest comes as it is
         * read (a quiet link must not hold the first packets back until a block is full). */
        const char *why;
        int kind = r->fd >= 0 && r->n >= 4 ? source_sniff(r->head, r->n, &why) : 0;
        if (kind == SOURCE_PCAP || kind == SOURCE_PCAPNG)
            break;
    }
    /* A read error after some bytes is left for the backend to meet where it happens (the
     * packets before it stand); only an input that yields nothing fails here. */
    if (failed && (r->n > 0 || (r->fd >= 0 && stop_requested))) {
        failed = false;
        clearerr(f);
    }
    replay_mark(r);
    if (failed) {
        replay_close(r);
        *code = NT_ERR_IO;
        snprintf(err, SOURCE_ERROR_MAX, "%s", strerror(e ? e : EIO));
        return NULL;
    }
    return r;
}

static FILE *replay_file(struct replay *r)
{
    cookie_io_functions_t io = {.read = replay_read, .seek = replay_seek, .close = replay_close};
    return fopencookie(r, "rb", io);
}

/* gzip (RFC 1952) decompressed on the fly with zlib's inflate, as a FILE the backends read like
 * any other. It reads the compressed bytes through a replay stream (the bytes peeked to
 * recognise gzip are not lost), accepts several concatenated members as gzip(1) does, ignores
 * trailing bytes that do not start another member (gzip warns and does the same), and stops
 * with an error when the data is damaged, cut short, or expands like a decompression bomb. The
 * layer's struct outlives its FILE (the source frees it) so that its error can still be read
 * after the backend closed the stream. */
#define GZ_IN_CHUNK 65536
/* Real captures compress 2 to 20 times (a flood of near-identical queries perhaps 50); zlib's
 * ceiling is about 1032. Past GZ_BOMB_FLOOR bytes of output a ratio above GZ_BOMB_RATIO stops the
 * stream: no capture worth reading looks like that, and the check bounds the work a small
 * hostile file can cause. */
#define GZ_BOMB_FLOOR ((uint64_t)64 << 20)
#define GZ_BOMB_RATIO 200
/* And in any case no more than this much decompressed data is read. */
#define GZ_MAX_OUT ((uint64_t)64 << 30)

struct gz_layer {
    FILE *under; /* the compressed bytes (owned; a replay stream) */
    z_stream z;
    bool z_ready;   /* inflateInit2 succeeded */
    bool in_member; /* inside a gzip member (EOF here means the data was cut short) */
    bool done;      /* the last member ended */
    uint64_t in_total, out_total;
    char err[160];
    uint8_t in[GZ_IN_CHUNK];
};

static bool gz_fill(struct gz_layer *g)
{
    size_t got = fread(g->in, 1, sizeof g->in, g->under);
    if (got == 0) {
        if (ferror(g->under))
            snprintf(g->err, sizeof g->err, "read error in the gzip-compressed data");
        return false;
    }
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)got;
    g->in_total += got;
    return true;
}

static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
    struct gz_layer *g = cookie;
    if (g->err[0]) {
        errno = EIO;
        return -1;
    }
    if (g->done || size == 0)
        return 0;
    if (size > (1u << 30))
        size = 1u << 30;
    g->z.next_out = (Bytef *)buf;
    g->z.avail_out = (uInt)size;
    while (g->z.avail_out == size) {
        if (g->z.avail_in == 0 && !gz_fill(g)) {
            if (g->err[0])
                break;
            if (g->in_member)
                snprintf(g->err, sizeof g->err,
                         "gzip-compressed data is truncated (the compressed stream ends early)");
            else
                g->done = true;
            break;
        }
        if (!g->in_member) {
            if (g->z.next_in[0] != 0x1f) {
                g->done = true; /* trailing bytes after the last member */
                break;
            }
            g->in_member = true;
        }
        int zr = inflate(&g->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            g->in_member = false;
            inflateReset(&g->z);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            snprintf(g->err, sizeof g->err, "gzip-compressed data is corrupt (%s)",
                     g->z.msg ? g->z.msg : "inflate failed");
            break;
        }
    }
    size_t produced = size - g->z.avail_out;
    g->out_total += produced;
    uint64_t used = g->in_total - g->z.avail_in; /* compressed bytes consumed so far */
    if (!g->err[0] && ((g->out_total > GZ_BOMB_FLOOR && g->out_total / GZ_BOMB_RATIO > used) ||
                       g->out_total > GZ_MAX_OUT))
        snprintf(g->err, sizeof g->err,
                 "gzip-compressed data expands %llu MiB from %llu KiB (a decompression bomb?); "
                 "read stopped there",
                 (unsigned long long)(g->out_total >> 20), (unsigned long long)(used >> 10));
    if (produced == 0 && g->err[0]) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)produced;
}

/* Seeking restarts the decompression from the start of the compressed stream (which must
 * itself seek) and reads forward to the offset: slow, and used only by the pcapng fallback,
 * which rereads a file once. */
static int gz_seek(void *cookie, off64_t *offset, int whence)
{
    struct gz_layer *g = cookie;
    int64_t to;
    if (whence == SEEK_SET)
        to = *offset;
    else if (whence == SEEK_CUR)
        to = (int64_t)g->out_total + *offset;
    else
        return -1;
    if (to < 0 || g->err[0])
        return -1;
    if (to != (int64_t)g->out_total) {
        if (fseeko(g->under, 0, SEEK_SET) != 0)
            return -1;
        inflateReset(&g->z);
        g->z.avail_in = 0;
        g->in_member = g->done = false;
        g->in_total = g->out_total = 0;
        char scratch[8192];
        while ((int64_t)g->out_total < to) {
            int64_t want = to - (int64_t)g->out_total;
            ssize_t got =
                gz_read(g, scratch, want < (int64_t)sizeof scratch ? (size_t)want : sizeof scratch);
            if (got <= 0)
                return -1;
        }
    }
    *offset = to;
    return 0;
}

static int gz_close(void *cookie)
{
    struct gz_layer *g = cookie;
    if (g->z_ready)
        inflateEnd(&g->z);
    g->z_ready = false;
    int rc = g->under ? fclose(g->under) : 0;
    g->under = NULL;
    return rc;
}

/* The error code for what went wrong in the gzip layer. */
static int gz_code(const struct gz_layer *g)
{
    return strstr(g->err, "truncated") ? NT_ERR_TRUNCATED : NT_ERR_CORRUPT;
}

/* UTF-16 text with a byte-order mark (what Windows PowerShell's ">" and Notepad's "Unicode"
 * write), decoded to UTF-8 on the fly as a FILE the text reader reads like any other. Memory
 * is constant (one input block and at most 3 bytes of a character waiting); a lone surrogate
 * becomes U+FFFD, so hostile input is never more than valid text. The layer frees itself when
 * its FILE is closed. */
#define U16_IN_CHUNK 16384

struct u16_layer {
    FILE *under; /* the UTF-16 bytes, the mark first (owned; a replay stream) */
    bool be;     /* big-endian (FE FF) */
    bool started;
    bool eof;
    uint8_t in[U16_IN_CHUNK];
    size_t in_pos, in_len;
    uint8_t pend[4];
    size_t pend_pos, pend_len;
};

/* The next 16-bit unit, or -1 at the end (an odd last byte is dropped). */
static int32_t u16_unit(struct u16_layer *u)
{
    if (u->in_len - u->in_pos < 2) {
        size_t keep = u->in_len - u->in_pos;
        if (keep)
            u->in[0] = u->in[u->in_pos];
        u->in_pos = 0;
        u->in_len = keep;
        if (!u->eof) {
            size_t got = fread(u->in + keep, 1, sizeof u->in - keep, u->under);
            if (got == 0)
                u->eof = true;
            u->in_len += got;
        }
        if (u->in_len < 2)
            return -1;
    }
    const uint8_t *b = u->in + u->in_pos;
    u->in_pos += 2;
    return u->be ? (int32_t)(b[0] << 8 | b[1]) : (int32_t)(b[1] << 8 | b[0]);
}

static size_t utf8_put(uint32_t c, uint8_t *o)
{
    if (c < 0x80) {
        o[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (uint8_t)(0xc0 | c >> 6);
        o[1] = (uint8_t)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xe0 | c >> 12);
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | c >> 18);
    o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (c & 0x3f));
    return 4;
}

static ssize_t u16_read(void *cookie, char *buf, size_t size)
{
    struct u16_layer *u = cookie;
    size_t n = 0;
    while (n < size) {
        if (u->pend_pos < u->pend_len) {
            buf[n++] = (char)u->pend[u->pend_pos++];
            continue;
        }
        int32_t c = u16_unit(u);
        if (c < 0)
            break;
        if (!u->started) {
            u->started = true;
            if (c == 0xfeff)
                continue; /* the byte-order mark */
        }
        uint32_t cp = (uint32_t)c;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int32_t lo = u16_unit(u);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            } else {
                cp = 0xfffd;
                if (lo >= 0)
                    u->in_pos -= 2; /* just read (after a refill too): read it again alone */
            }
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            cp = 0xfffd;
        }
        u->pend_len = utf8_put(cp, u->pend);
        u->pend_pos = 0;
    }
    if (n == 0 && ferror(u->under)) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)n;
}

static int u16_close(void *cookie)
{
    struct u16_layer *u = cookie;
    int rc = fclose(u->under);
    free(u);
    return rc;
}

/* Wraps the replay r (UTF-16 with a mark) in a decoding layer and peeks again. NULL on failure
 * with *code and err set (r is closed then). */
static struct replay *utf16_wrap(struct replay *r, int *code, char *err)
{
    struct u16_layer *u = calloc(1, sizeof *u);
    FILE *rf = u ? replay_file(r) : NULL;
    if (!rf) {
        free(u);
        replay_close(r);
        *code = NT_ERR_NOMEM;
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NULL;
    }
    u->under = rf;
    u->be = r->head[0] == 0xfe;
    cookie_io_functions_t io = {.read = u16_read, .close = u16_close};
    FILE *uf = fopencookie(u, "rb", io);
    if (!uf) {
        u16_close(u);
        *code = NT_ERR_NOMEM;
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NULL;
    }
    return replay_new(uf, true, code, err);
}

int source_open(const char *path, struct source **out, char *err)
{
    FILE *f;
    *out = NULL;
    err[0] = '\0';
    int64_t total = -1; /* the size of a regular file, for the progress line */
    if (strcmp(path, "-") == 0) {
        f = stdin;
        struct stat st; /* standard input redirected from a file has a size too */
        if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
            total = (int64_t)st.st_size;
    } else {
        f = fopen(path, "rb");
        if (!f) {
            snprintf(err, SOURCE_ERROR_MAX, "%s", strerror(errno));
            return NT_ERR_IO;
        }
        struct stat st;
        bool stat_ok = fstat(fileno(f), &st) == 0;
        if (stat_ok && S_ISDIR(st.st_mode)) {
            fclose(f);
            snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_IS_DIR));
            return NT_ERR_IS_DIR;
        }
        /* A regular file holding pcap or pcapng (not compressed) is read by nettriage's own
         * reader, which reads it with pread and leaves f's position alone; it declines anything
         * else (text, gzip, and the few captures it leaves to libpcap), which goes on below. */
        if (stat_ok && S_ISREG(st.st_mode))
            total = (int64_t)st.st_size;
        if (stat_ok && S_ISREG(st.st_mode) && !force_libpcap()) {
            int rc = source_pcapfile_open(f, out, err);
            if (rc == NT_OK) {
                (*out)->bytes_total = total;
                return NT_OK;
            }
            if (rc < 0) {
                fclose(f);
                return rc;
            }
        }
    }
    int code = NT_OK;
    struct replay *r = replay_new(f, f != stdin, &code, err);
    if (!r)
        return code;
    /* The stream over the input as stored (under gzip or UTF-16 decoding): its position is
     * how far the reading got, for the progress line. It lives as long as the source. */
    const uint64_t *raw_at = &r->at;
    struct gz_layer *gz = NULL;
    if (r->n >= 2 && r->head[0] == 0x1f && r->head[1] == 0x8b) {
        /* Compressed: decompress on the fly and recognise what is inside. */
        gz = calloc(1, sizeof *gz);
        FILE *cf = gz ? replay_file(r) : NULL;
        if (!cf) {
            replay_close(r);
            free(gz);
            snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
            return NT_ERR_NOMEM;
        }
        gz->under = cf;
        if (inflateInit2(&gz->z, 15 + 16) != Z_OK) {
            gz_close(gz);
            free(gz);
            snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
            return NT_ERR_NOMEM;
        }
        gz->z_ready = true;
        cookie_io_functions_t gio = {.read = gz_read, .seek = gz_seek, .close = gz_close};
        FILE *gf = fopencookie(gz, "rb", gio);
        if (!gf) {
            gz_close(gz);
            free(gz);
            snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
            return NT_ERR_NOMEM;
        }
        r = replay_new(gf, true, &code, err);
        if (!r) {
            if (gz->err[0]) {
                snprintf(err, SOURCE_ERROR_MAX, "%s", gz->err);
                code = gz_code(gz);
            }
            free(gz);
            return code;
        }
    }
    if (r->n >= 4 && ((r->head[0] == 0xff && r->head[1] == 0xfe && r->head[2] != 0) ||
                      (r->head[0] == 0xfe && r->head[1] == 0xff && r->head[2] == 0))) {
        /* UTF-16 text with its mark (FF FE 00 00 would be UTF-32, not read) */
        r = utf16_wrap(r, &code, err);
        if (!r) {
            free(gz);
            return code;
        }
    }
    const char *why;
    int kind = source_sniff(r->head, r->n, &why);
    if (kind == 0) {
        code = r->n == 0 ? NT_ERR_EMPTY : NT_ERR_NOT_CAPTURE;
        bool nested = gz && r->n >= 2 && r->head[0] == 0x1f && r->head[1] == 0x8b;
        replay_close(r);
        if (gz && gz->err[0])
            snprintf(err, SOURCE_ERROR_MAX, "%s", gz->err);
        else if (nested)
            snprintf(err, SOURCE_ERROR_MAX,
                     "gzip-compressed data inside gzip-compressed data (only one layer is read)");
        else
            snprintf(err, SOURCE_ERROR_MAX, "%s%s", why, gz ? " (after gzip decompression)" : "");
        free(gz);
        return code;
    }
    const char *foreign = kind == SOURCE_TEXT ? foreign_text(r->head, r->n) : NULL;
    if (foreign) {
        replay_close(r);
        free(gz);
        snprintf(err, SOURCE_ERROR_MAX, "%s", foreign);
        return NT_ERR_NOT_CAPTURE;
    }
    FILE *rf = replay_file(r);
    if (!rf) {
        replay_close(r);
        free(gz);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    int rc = kind == SOURCE_TEXT ? source_text_open(rf, out, err) : source_pcap_open(rf, out, err);
    if (rc != NT_OK) {
        if (gz && gz->err[0]) {
            snprintf(err, SOURCE_ERROR_MAX, "%s", gz->err);
            rc = gz_code(gz);
        }
        free(gz);
        return rc;
    }
    if (kind != SOURCE_TEXT)
        (*out)->kind = (enum source_kind)kind;
    (*out)->gz = gz;
    (*out)->stats.gzip = gz != NULL;
    (*out)->bytes_at = raw_at;
    (*out)->bytes_total = total;
    (*out)->from_stdin = f == stdin;
    return NT_OK;
}

bool source_frame_unread(const struct packet *pkt)
{
    /* A header cut short counts when the capture cut it (snap length): the packet on the wire
     * was longer, and what it carried was lost. A packet that was short on the wire (a hostile
     * or broken sender) was read whole: its anomaly is the finding, not a gap. A link header
     * that names IP over bytes that are not IP counts always. */
    bool cut = pkt->caplen < pkt->wirelen;
    for (uint8_t i = 0; i < pkt->n_anomalies && i < PKT_MAX_ANOMALIES; i++) {
        switch ((enum nt_anomaly)pkt->anomalies[i]) {
        case ANOM_LINK_UNKNOWN_IP_VERSION:
        case ANOM_LINK_IP_VERSION_MISMATCH:
        case ANOM_IPV4_BAD_VERSION:
        case ANOM_IPV6_BAD_VERSION:
            return true;
        case ANOM_TUNNEL_TRUNCATED:
        case ANOM_GRE_TRUNCATED:
        case ANOM_VXLAN_TRUNCATED:
        case ANOM_GENEVE_TRUNCATED:
        case ANOM_IPV4_TRUNCATED:
        case ANOM_IPV6_TRUNCATED:
        case ANOM_IPV6_EXT_HEADER_TRUNCATED:
        case ANOM_ICMP_TRUNCATED:
        case ANOM_ICMP6_TRUNCATED:
        case ANOM_UDP_TRUNCATED:
        case ANOM_TCP_TRUNCATED:
        case ANOM_DNS_TRUNCATED:
        case ANOM_DNS_QUESTION_TRUNCATED:
            if (cut)
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

int source_next(struct source *s, struct packet *pkt)
{
    /* Standard input stopped by Ctrl-C ends where it was (its reads return end-of-file, so
     * the records already read are still handed on): a record or packet cut by the stop is
     * not damage. */
    int rc = s->ops->next(s, pkt);
    if (rc < 0 && s->from_stdin && stop_requested) {
        s->error[0] = '\0';
        s->stats.truncated = false;
        return 0;
    }
    if (rc == 1) {
        s->stats.packets++;
        /* only a packet with an anomaly can be one (most have none: no call) */
        if (s->kind != SOURCE_TEXT && pkt->n_anomalies && source_frame_unread(pkt)) {
            if (s->stats.unread < SOURCE_BAD_LINES_KEPT)
                s->stats.first_unread[s->stats.unread] = pkt->num;
            s->stats.unread++;
        }
    } else if (rc < 0 && s->gz && s->gz->err[0]) {
        /* The backend saw only a failed read; the gzip layer knows what went wrong. */
        snprintf(s->error, sizeof s->error, "%s after packet %llu", s->gz->err,
                 (unsigned long long)s->stats.packets);
        rc = gz_code(s->gz);
    }
    return rc;
}

enum source_kind source_kind(const struct source *s)
{
    return s->kind;
}

const char *source_kind_name(enum source_kind k)
{
    switch (k) {
    case SOURCE_PCAP:
        return "pcap";
    case SOURCE_PCAPNG:
        return "pcapng";
    case SOURCE_TEXT:
        return "tcpdump text";
    case SOURCE_LIVE:
        return "live capture";
    }
    return "unknown";
}

const struct source_stats *source_stats(const struct source *s)
{
    return &s->stats;
}

uint64_t source_bytes_read(const struct source *s)
{
    return s->bytes_at ? *s->bytes_at : 0;
}

int64_t source_bytes_total(const struct source *s)
{
    return s->bytes_total;
}

const char *source_error(const struct source *s)
{
    return s->error;
}

void source_set_idle(struct source *s, source_idle_fn fn, void *ctx)
{
    s->idle = fn;
    s->idle_ctx = ctx;
}

void source_set_names(struct source *s, struct nt_names *names)
{
    if (s && s->kind == SOURCE_TEXT && names)
        source_text_set_names(s, names);
}

void source_set_unread_hook(struct source *s,
                            void (*fn)(void *ctx, uint64_t line_no, const char *line, size_t len),
                            void *ctx)
{
    if (!s)
        return;
    s->on_unread = fn;
    s->unread_ctx = ctx;
}

void source_close(struct source *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->close)
        s->ops->close(s);
    free(s->gz);
    free(s);
}
