/* fuzz_reader.c: libFuzzer target: the bytes as a capture file, read to the end through
 * source_open three ways: as a regular file (nettriage's own pcap/pcapng reader, pcapfile.c),
 * the same file through libpcap (NETTRIAGE_READER=libpcap, with the pcapng fallback in pcap.c),
 * and gzip-compressed (libpcap behind the gzip layer). The first two must agree on every record
 * (time, lengths, link type, bytes), the number of packets and how the file ends, except where
 * they are known to differ on purpose (pcapfile.h): a later section in the other byte order,
 * and a pcapng time beyond the reader's bound that libpcap's unsigned arithmetic wraps. Each
 * packet read then goes through the flow stage (IP fragment and DNS over TCP reassembly), as
 * the pipeline runs it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "decode/packet.h"
#include "flow/flow.h"
#include "source/pcapfile.h"
#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
    int open_rc, rc;
    uint64_t packets, records, hash;
    bool native, fallback;
    char err[SOURCE_ERROR_MAX];
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static void tap(void *arg, const struct pf_record *r)
{
    struct result *res = arg;
    int64_t sec = r->ts.sec;
    uint32_t v[4] = {r->ts.nsec, r->caplen, r->wirelen,
                     (uint32_t)pf_linktype_to_dlt((uint32_t)r->linktype)};
    res->hash = mix(res->hash, &sec, sizeof sec);
    res->hash = mix(res->hash, v, sizeof v);
    res->hash = mix(res->hash, r->data, r->caplen);
    res->records++;
}

static void read_all(const char *path, bool libpcap, struct result *res)
{
    memset(res, 0, sizeof *res);
    res->hash = 0xcbf29ce484222325u;
    if (libpcap)
        setenv("NETTRIAGE_READER", "libpcap", 1);
    struct source *s;
    res->open_rc = source_open(path, &s, res->err);
    unsetenv("NETTRIAGE_READER");
    if (res->open_rc < 0)
        return;
    res->native = source_pcap_native(s);
    source_pcap_set_tap(s, tap, res);
    static struct packet pkt;
    char line[512];
    struct flow *fl = flow_new();
    while ((res->rc = source_next(s, &pkt)) == 1) {
        if (fl)
            flow_packet(fl, &pkt);
        do
            packet_format_line(&pkt, line, sizeof line);
        while (fl && flow_next(fl, &pkt));
    }
    if (fl && res->rc == 0)
        flow_finish(fl);
    flow_free(fl);
    res->packets = source_stats(s)->packets;
    res->fallback = source_stats(s)->pcapng_fallback;
    if (res->rc < 0)
        snprintf(res->err, sizeof res->err, "%s", source_error(s));
    source_close(s);
}

/* A file holding the bytes; memfd when the system has it (a regular file, so the native
 * reader's pread path runs), else a temporary file. Returns its path. */
static int make_file(const uint8_t *data, size_t size, char *path, size_t n, bool *tmp)
{
    int fd = memfd_create("fuzz_reader", 0);
    *tmp = fd < 0;
    if (fd < 0) {
        snprintf(path, n, "/tmp/fuzz_reader-XXXXXX");
        fd = mkstemp(path);
        if (fd < 0)
            return -1;
    } else {
        snprintf(path, n, "/proc/self/fd/%d", fd);
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return fd;
}

static void drop_file(int fd, const char *path, bool tmp)
{
    if (tmp)
        unlink(path);
    close(fd);
}

static void gzip_path(const uint8_t *data, size_t size)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    size_t cap = deflateBound(&z, (uLong)size) + 64;
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (zr == Z_STREAM_END) {
        char path[64];
        bool tmp;
        int fd = make_file(out, n, path, sizeof path, &tmp);
        if (fd >= 0) {
            struct result r;
            read_all(path, false, &r);
            if (r.open_rc == 0 && r.native)
                __builtin_trap(); /* gzip is libpcap's */
            drop_file(fd, path, tmp);
        }
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char path[64];
    bool tmp;
    int fd = make_file(data, size, path, sizeof path, &tmp);
    if (fd < 0)
        return 0;
    static struct result a, b;
    read_all(path, false, &a);
    read_all(path, true, &b);
    drop_file(fd, path, tmp);
    bool known = (a.fallback && !b.fallback) ||                          /* byte order change */
                 (a.rc < 0 && strstr(a.err, "timestamp out of range") && /* libpcap wraps */
                  b.records > a.records);
    if (!known && (a.open_rc != b.open_rc || a.rc != b.rc || a.packets != b.packets ||
                   a.records != b.records || a.hash != b.hash || a.fallback != b.fallback)) {
        fprintf(stderr,
                "fuzz_reader: readers differ: native open %d end %d records %llu (%s); "
                "libpcap open %d end %d records %llu (%s)\n",
                a.open_rc, a.rc, (unsigned long long)a.records, a.err, b.open_rc, b.rc,
                (unsigned long long)b.records, b.err);
        __builtin_trap();
    }
    gzip_path(data, size);
    return 0;
}
