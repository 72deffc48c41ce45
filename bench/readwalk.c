/* readwalk.c: the floor for reading a capture: large read() calls and a walk over the record
 * headers, counting packets. */
/*
 * bench/run times this beside nettriage on the same file: no tool that looks at every packet
 * can be faster than reading the bytes and finding where each packet starts. It reads classic
 * pcap (either byte order, micro- or nanosecond magic) and pcapng (enhanced, simple and
 * obsolete packet blocks counted; any section byte order), from a file or from standard input
 * (-), with read() into one 1 MiB buffer; only record and block headers are looked at.
 *
 *   readwalk FILE      prints "packets=N read=B" (B: bytes read, the whole file)
 *
 * Exit status 0, or 2 when the file cannot be read or is not a well-formed pcap or pcapng.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE (1u << 20)
/* Larger records mean a corrupt or hostile header, not a packet. */
#define RECORD_MAX (256u << 20)

enum state {
    ST_MAGIC,   /* the first four bytes */
    ST_FILEHDR, /* the rest of the pcap file header */
    ST_RECORD,  /* a pcap record header */
    ST_BLOCK,   /* a pcapng block's type, length and first body word */
};

static uint32_t get32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    if (swap)
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return v;
}

static int fail(const char *name, const char *what)
{
    fprintf(stderr, "readwalk: %s: %s\n", name, what);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: readwalk FILE|-\n");
        return argc == 2 ? 0 : 2;
    }
    const char *name = argv[1];
    int fd = strcmp(name, "-") ? open(name, O_RDONLY) : 0;
    if (fd < 0) {
        fprintf(stderr, "readwalk: %s: %s\n", name, strerror(errno));
        return 2;
    }
    static uint8_t buf[BUF_SIZE];
    uint8_t hdr[24];
    size_t need = 4, have = 0; /* header bytes wanted and collected */
    uint64_t skip = 0;         /* body bytes still to pass over */
    enum state st = ST_MAGIC;
    bool swap = false;
    uint64_t packets = 0, total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, BUF_SIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "readwalk: %s: %s\n", name, strerror(errno));
            return 2;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        size_t i = 0, end = (size_t)n;
        while (i < end) {
            if (skip) {
                size_t k = skip < end - i ? (size_t)skip : end - i;
                skip -= k;
                i += k;
                continue;
            }
            size_t k = need - have < end - i ? need - have : end - i;
            memcpy(hdr + have, buf + i, k);
            have += k;
            i += k;
            if (have < need)
                break;
            have = 0;
            switch (st) {
            case ST_MAGIC: {
                uint32_t m;
                memcpy(&m, hdr, 4);
                if (m == 0xa1b2c3d4u || m == 0xa1b23c4du) {
                    swap = false;
                } else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u) {
                    swap = true;
                } else if (m == 0x0a0d0d0au) {
                    /* The section header's type reads the same in either order. */
                    st = ST_BLOCK;
                    need = 12;
                    have = 4;
                    break;
                } else {
                    return fail(name, "neither pcap nor pcapng");
                }
                st = ST_FILEHDR;
                need = 24;
                have = 4;
                break;
            }
            case ST_FILEHDR:
                st = ST_RECORD;
                need = 16;
                break;
            case ST_RECORD: {
                uint32_t caplen = get32(hdr + 8, swap);
                if (caplen > RECORD_MAX)
                    return fail(name, "record longer than 256 MiB");
                packets++;
                skip = caplen;
                break;
            }
            case ST_BLOCK: {
                uint32_t type = get32(hdr, false);
                if (type == 0x0a0d0d0au) {
                    uint32_t bom;
                    memcpy(&bom, hdr + 8, 4);
                    if (bom == 0x1a2b3c4du)
                        swap = false;
                    else if (bom == 0x4d3c2b1au)
                        swap = true;
                    else
                        return fail(name, "pcapng section with a bad byte-order magic");
                } else {
                    type = get32(hdr, swap);
                }
                uint32_t len = get32(hdr + 4, swap);
                if (len < 12 || len % 4 || len > RECORD_MAX)
                    return fail(name, "pcapng block with a bad length");
                /* Enhanced (6), simple (3) and obsolete (2) packet blocks. */
                if (type == 6 || type == 3 || type == 2)
                    packets++;
                skip = len - 12;
                break;
            }
            }
        }
    }
    if (fd != 0)
        close(fd);
    if (have || skip)
        return fail(name, "truncated");
    if (st == ST_MAGIC || st == ST_FILEHDR)
        return fail(name, "no capture header");
    printf("packets=%llu read=%llu\n", (unsigned long long)packets, (unsigned long long)total);
    return 0;
}
