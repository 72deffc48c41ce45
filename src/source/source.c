/* source.c: opens an input, recognises its kind from its first bytes, and dispatches to the
 * pcap/pcapng (libpcap) or tcpdump-text backend. */
#include "source/source_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"

#define SNIFF_MAX 4096

struct source *source_alloc(const struct source_ops *ops, enum source_kind kind, void *impl)
{
    struct source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ops = ops;
    s->kind = kind;
    s->impl = impl;
    s->stats.linktype = -1;
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

/* A FILE that first returns the bytes we peeked at to recognise the input, then the rest of the
 * underlying stream: standard input cannot be rewound, and libpcap must see the file from its
 * first byte. */
struct replay {
    FILE *under;
    uint8_t head[SNIFF_MAX];
    size_t n, off;
};

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
    struct replay *r = cookie;
    if (r->off < r->n) {
        size_t k = r->n - r->off;
        if (k > size)
            k = size;
        memcpy(buf, r->head + r->off, k);
        r->off += k;
        return (ssize_t)k;
    }
    size_t got = fread(buf, 1, size, r->under);
    if (got == 0 && ferror(r->under))
        return -1;
    return (ssize_t)got;
}

static int replay_close(void *cookie)
{
    struct replay *r = cookie;
    int rc = r->under == stdin ? 0 : fclose(r->under);
    free(r);
    return rc;
}

int source_open(const char *path, struct source **out, char *err)
{
    FILE *f;
    *out = NULL;
    err[0] = '\0';
    if (strcmp(path, "-") == 0) {
        f = stdin;
    } else {
        f = fopen(path, "rb");
        if (!f) {
            snprintf(err, SOURCE_ERROR_MAX, "%s", strerror(errno));
            return NT_ERR_IO;
        }
        struct stat st;
        if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
            fclose(f);
            snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_IS_DIR));
            return NT_ERR_IS_DIR;
        }
    }
    struct replay *r = calloc(1, sizeof *r);
    if (!r) {
        if (f != stdin)
            fclose(f);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    r->under = f;
    while (r->n < SNIFF_MAX) {
        size_t got = fread(r->head + r->n, 1, SNIFF_MAX - r->n, f);
        if (got == 0)
            break;
        r->n += got;
    }
    if (ferror(f)) {
        int e = errno;
        replay_close(r);
        snprintf(err, SOURCE_ERROR_MAX, "%s", strerror(e ? e : EIO));
        return NT_ERR_IO;
    }
    const char *why;
    int kind = source_sniff(r->head, r->n, &why);
    if (kind == 0) {
        int code = r->n == 0 ? NT_ERR_EMPTY : NT_ERR_NOT_CAPTURE;
        replay_close(r);
        snprintf(err, SOURCE_ERROR_MAX, "%s", why);
        return code;
    }
    cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
    FILE *rf = fopencookie(r, "rb", io);
    if (!rf) {
        replay_close(r);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    if (kind == SOURCE_TEXT)
        return source_text_open(rf, out, err);
    int rc = source_pcap_open(rf, out, err);
    if (rc == NT_OK)
        (*out)->kind = (enum source_kind)kind;
    return rc;
}

int source_next(struct source *s, struct packet *pkt)
{
    int rc = s->ops->next(s, pkt);
    if (rc == 1)
        s->stats.packets++;
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
    }
    return "unknown";
}

const struct source_stats *source_stats(const struct source *s)
{
    return &s->stats;
}

const char *source_error(const struct source *s)
{
    return s->error;
}

void source_close(struct source *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->close)
        s->ops->close(s);
    free(s);
}
