/* pcapfile.c: classic pcap and pcapng read straight from a regular file (see pcapfile.h).
 *
 * The file is read with pread into one buffer of PF_CHUNK bytes (grown only for a record larger
 * than that); each record is parsed and delivered where it lies, and a record cut by the end of
 * the buffer is moved to its start before the next read. Every length comes from the file and
 * is checked before use.
 *
 * What libpcap 1.10 does, and this reader therefore does too (sf-pcap.c, sf-pcapng.c):
 * - classic pcap: the seconds and the fraction are 32-bit numbers, signed in a file of the
 *   host's byte order and unsigned in one of the other (libpcap's byte swap makes them so), and
 *   the fraction may exceed a second either way; versions before 2.3 (and 543.0) store the two
 *   lengths the other way round, 2.3 may; a snap length of 0 or above INT_MAX means the link
 *   type's maximum; a record longer than the link type's maximum is an error, one longer than
 *   the snap length is cut to it.
 * - pcapng: the first section header is checked only for its byte-order magic, a length of 28
 *   bytes to 1 MiB and version 1.0 or 1.2; the blocks before the first interface description are
 *   skipped (a packet there is an error); every later block must have a sane length (a multiple
 *   of 4, at most 16 MiB or more for link types with larger packets) and the same length in its
 *   trailer; interface options are checked strictly (if_tsresol one byte, if_tsoffset eight, at
 *   most one of each, the list well-formed); a packet larger than its interface's snap length is
 *   an error; a simple packet block takes the first interface, no time stamp (so the
 *   interface's offset) and min(length, snap length) bytes.
 * Where libpcap gives up and nettriage's pcapng fallback takes over (interfaces that differ in
 * link type or snap length), this reader simply goes on, each record with its own interface's
 * link type and snap length. It also reads a later section of the other byte order, which
 * libpcap misreads as a corrupt block. */
#include "source/pcapfile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/cursor.h"
#include "source/source.h"
#include "util/err.h"

/* The read buffer; a record larger than this grows it (up to the limits below). 128 KiB stays
 * in the core's L2 cache between the pread that fills it and the decoder that reads it: on
 * busy.pcap (394 MB) the whole run took 3-5% less CPU than with 1 MiB (64 KiB and 256 KiB
 * measured the same as 128 KiB), while a bare read() walk takes the same time with either. */
#define PF_CHUNK ((size_t)1 << 17)
/* libpcap's limits: MAXIMUM_SNAPLEN and the first section header's maximum (the others are in
 * pcapfile.h). */
#define PF_MAX_SNAPLEN ((uint32_t)262144)
#define PF_SHB_MAX     ((uint32_t)1 << 20)

/* DLT values (Linux) that matter here. */
#define DLT_LINUX_SLL_         113
#define DLT_PFLOG_             117
#define DLT_USB_LINUX_         189
#define DLT_USB_LINUX_MMAPPED_ 220
#define DLT_DBUS_              231
#define DLT_NFLOG_             239
#define DLT_USBPCAP_           249
#define DLT_LINUX_SLL2_        276
#define DLT_EBHSCR_            279

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 1u
#define BT_PB  2u
#define BT_SPB 3u
#define BT_EPB 6u

struct pf_if {
    int linktype;      /* DLT */
    uint32_t snapshot; /* adjusted snap length */
    struct pf_tsres res;
    /* The second of the last packet's time (decimal microsecond and nanosecond resolutions
     * only; sec_ticks 0: none yet): a timestamp t with t - sec_t0 < sec_ticks lies in it, at
     * sec_abs s and (t - sec_t0) * ns_tick ns, which is what pf_ng_time computes, without its
     * division. */
    uint64_t sec_t0, sec_ticks;
    int64_t sec_abs;
    uint32_t ns_tick;
};

struct pf_reader {
    FILE *f;
    int fd;
    uint8_t *buf;
    size_t cap;      /* bytes allocated at buf */
    size_t pos, end; /* unparsed bytes: buf[pos..end) */
    uint64_t at;     /* file offset of buf[end] (the next pread) */
    bool eof;        /* pread returned 0 */
    bool ng;         /* pcapng */
    bool be;         /* the file (classic) or the current section (pcapng) is big-endian */
    int err;         /* sticky error code once pf_next failed */
    char error[SOURCE_ERROR_MAX];
    /* classic pcap */
    int linktype;      /* DLT; pcapng: the first interface's */
    uint32_t snapshot; /* pcapng: the first interface's */
    uint32_t maxcap;   /* largest record accepted */
    bool nano;
    bool swapped;            /* the file's byte order is not the host's */
    uint8_t lengths_swapped; /* 0 no, 1 yes, 2 when caplen > len (version 2.3) */
    /* pcapng */
    uint32_t max_block;
    bool first_be; /* byte order of the first section */
    bool mixed;
    struct pf_if *ifs;
    uint32_t n_if, cap_if;
};

static uint16_t ld16(const uint8_t *p, bool be)
{
    if (be)
        return (uint16_t)(p[0] << 8 | p[1]);
    return (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t ld32(const uint8_t *p, bool be)
{
    if (be)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static bool host_be(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 0;
}

int pf_linktype_to_dlt(uint32_t linktype)
{
    /* libpcap's linktype_to_dlt() with the DLT values of <pcap/dlt.h> on Linux: the values
     * from 104 up (LINKTYPE_MATCHING_MIN) are the same DLT except ATM_CLIP; below it only the
     * BSD/OS and ATM numbers differ. */
    switch (linktype) {
    case 100: /* LINKTYPE_ATM_RFC1483 */
        return 11;
    case 101: /* LINKTYPE_RAW */
        return 12;
    case 102: /* LINKTYPE_SLIP_BSDOS */
        return 15;
    case 103: /* LINKTYPE_PPP_BSDOS */
        return 16;
    case 106: /* LINKTYPE_ATM_CLIP */
        return 19;
    default:
        return linktype > INT_MAX ? INT_MAX : (int)linktype;
    }
}

static uint32_t max_snaplen_for_dlt(int dlt)
{
    switch (dlt) {
    case DLT_DBUS_:
        return 128u << 20;
    case DLT_EBHSCR_:
        return 8u << 20;
    case DLT_USBPCAP_:
        return 1u << 20;
    default:
        return PF_MAX_SNAPLEN;
    }
}

uint32_t pf_adjust_snapshot(int dlt, uint32_t snaplen)
{
    return snaplen == 0 || snaplen > INT_MAX ? max_snaplen_for_dlt(dlt) : snaplen;
}

uint32_t pf_max_block_for_dlt(int dlt)
{
    /* libpcap's MAX_BLOCKSIZE_FOR_SNAPLEN: an enhanced packet block with a packet of the link
     * type's largest size and 128 KiB of options. */
    uint64_t mb = (uint64_t)8 + 20 + max_snaplen_for_dlt(dlt) + 131072 + 4;
    return mb > PF_BLOCK_MAX ? (uint32_t)mb : PF_BLOCK_MAX;
}

/* Link types whose bytes libpcap rewrites after reading: pseudo-headers it swaps into host
 * byte order when the file's differs, and Linux USB lengths it corrects. Left to libpcap so that
 * both readers deliver the same bytes; none of them is a link type nettriage decodes (Linux
 * cooked captures only have CAN frames rewritten, and only in files of the other byte order). */
static bool rewritten_by_libpcap(int dlt, bool swapped)
{
    if (dlt == DLT_USB_LINUX_MMAPPED_)
        return true;
    if (!swapped)
        return false;
    return dlt == DLT_PFLOG_ || dlt == DLT_LINUX_SLL_ || dlt == DLT_LINUX_SLL2_ ||
           dlt == DLT_USB_LINUX_ || dlt == DLT_NFLOG_;
}

/* ---- time ---- */

bool pf_tsresol_valid(uint8_t tsresol)
{
    return (tsresol & 0x80) ? (tsresol & 0x7f) <= 63 : tsresol <= 19;
}

static const uint64_t pow10_u64[20] = {1u,
                                       10u,
                                       100u,
                                       1000u,
                                       10000u,
                                       100000u,
                                       1000000u,
                                       10000000u,
                                       100000000u,
                                       1000000000u,
                                       10000000000u,
                                       100000000000u,
                                       1000000000000u,
                                       10000000000000u,
                                       100000000000000u,
                                       1000000000000000u,
                                       10000000000000000u,
                                       100000000000000000u,
                                       1000000000000000000u,
                                       10000000000000000000u};

/* s (unsigned seconds) + off, exactly; false beyond PF_MAX_ABS_SEC. */
static bool add_offset(uint64_t s, int64_t off, int64_t *out)
{
    const uint64_t lim = (uint64_t)PF_MAX_ABS_SEC;
    if (off >= 0) {
        uint64_t sum = s + (uint64_t)off;
        if (sum < s || sum > lim)
            return false;
        *out = (int64_t)sum;
        return true;
    }
    uint64_t neg = (uint64_t)(-(off + 1)) + 1; /* |off|, without negating INT64_MIN */
    if (s >= neg) {
        if (s - neg > lim)
            return false;
        *out = (int64_t)(s - neg);
        return true;
    }
    if (neg - s > lim)
        return false;
    *out = -(int64_t)(neg - s);
    return true;
}

bool pf_ng_time(const struct pf_tsres *res, uint64_t t, struct nt_time *out)
{
    unsigned v = res->tsresol & 0x7f;
    uint64_t sec, nsec;
    if (res->tsresol & 0x80) {
        if (v > 63)
            return false;
        sec = t >> v;
        uint64_t frac = t & ((UINT64_C(1) << v) - 1);
        /* As libpcap computes it: exact up to 2^-34; for finer resolutions (which no capture
         * tool writes) the product wraps in 64 bits as it does in libpcap, so that both readers
         * still agree. The result stays below 10^9 either way. */
        nsec = (frac * 1000000000u) >> v;
    } else if (v == 6) { /* the default and the usual: constant divisors */
        sec = t / 1000000u;
        nsec = t % 1000000u * 1000u;
    } else if (v == 9) {
        sec = t / 1000000000u;
        nsec = t % 1000000000u;
    } else {
        if (v > 19)
            return false;
        sec = t / pow10_u64[v];
        uint64_t frac = t % pow10_u64[v];
        nsec = v <= 9 ? frac * pow10_u64[9 - v] : frac / pow10_u64[v - 9];
    }
    int64_t s;
    if (!add_offset(sec, res->tsoffset, &s))
        return false;
    out->kind = NT_TIME_ABSOLUTE;
    out->sec = s;
    out->nsec = (uint32_t)nsec;
    return true;
}

bool pf_time_norm(int64_t sec, int64_t frac_ns, struct nt_time *out)
{
    int64_t q = frac_ns / 1000000000, r = frac_ns % 1000000000;
    if (r < 0) {
        r += 1000000000;
        q--;
    }
    int64_t s;
    if (__builtin_add_overflow(sec, q, &s) || s > PF_MAX_ABS_SEC || s < -PF_MAX_ABS_SEC)
        return false;
    out->kind = NT_TIME_ABSOLUTE;
    out->sec = s;
    out->nsec = (uint32_t)r;
    return true;
}

/* ---- the buffer ---- */

static int fail(struct pf_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct pf_reader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->err = code;
    return code;
}

/* Makes at least n unparsed bytes available at buf + pos. Returns 1, 0 when the file ends
 * first (end - pos says how many there are), or a negative NT_ERR_* (r->error set). Callers
 * bound n by the format's limits; the buffer grows only as the file's bytes arrive, so a
 * record claiming more than the file holds costs no more memory than the file's size. */
static int fill(struct pf_reader *r, size_t n)
{
    if (r->end - r->pos >= n)
        return 1;
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    while (r->end < n && !r->eof) {
        if (r->end == r->cap) {
            size_t ncap = r->cap * 2;
            uint8_t *nb = realloc(r->buf, ncap);
            if (!nb)
                return fail(r, NT_ERR_NOMEM, "%s", nt_strerror(NT_ERR_NOMEM));
            r->buf = nb;
            r->cap = ncap;
        }
        ssize_t got = pread(r->fd, r->buf + r->end, r->cap - r->end, (off_t)r->at);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return fail(r, NT_ERR_IO, "read error: %s", strerror(errno));
        }
        if (got == 0) {
            r->eof = true;
            break;
        }
        r->end += (size_t)got;
        r->at += (uint64_t)got;
    }
    return r->end >= n ? 1 : 0;
}

/* ---- classic pcap ---- */

static int open_classic(struct pf_reader *r, char *err)
{
    int rc = fill(r, 24);
    if (rc < 0) {
        snprintf(err, SOURCE_ERROR_MAX, "%s", r->error);
        return rc;
    }
    if (rc == 0) {
        snprintf(err, SOURCE_ERROR_MAX, "pcap: truncated file header (%zu of 24 bytes)",
                 r->end - r->pos);
        return NT_ERR_TRUNCATED;
    }
    const uint8_t *h = r->buf;
    uint32_t magic = ld32(h, true);
    r->be = magic == 0xa1b2c3d4 || magic == 0xa1b23c4d;
    r->nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
    uint16_t major = ld16(h + 4, r->be), minor = ld16(h + 6, r->be);
    uint32_t snaplen = ld32(h + 16, r->be), lt = ld32(h + 20, r->be);
    if (major < 2) {
        snprintf(err, SOURCE_ERROR_MAX, "pcap: archaic file format (version %u.%u)", major, minor);
        return NT_ERR_CORRUPT;
    }
    if (!((major == 2 && minor <= 4) || (major == 543 && minor == 0))) {
        snprintf(err, SOURCE_ERROR_MAX, "pcap: unsupported file version %u.%u", major, minor);
        return NT_ERR_CORRUPT;
    }
    r->lengths_swapped = major == 543 || minor < 3 ? 1 : minor == 3 ? 2 : 0;
    r->linktype = pf_linktype_to_dlt(lt & 0x03ffffffu);
    r->snapshot = pf_adjust_snapshot(r->linktype, snaplen);
    r->maxcap = max_snaplen_for_dlt(r->linktype);
    r->swapped = r->be != host_be();
    if (rewritten_by_libpcap(r->linktype, r->swapped))
        return PF_DECLINED;
    r->pos = 24;
    return NT_OK;
}

static int next_classic(struct pf_reader *r, struct pf_record *rec)
{
    if (r->end - r->pos < 16) {
        int rc = fill(r, 16);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (r->end == r->pos)
                return 0;
            return fail(r, NT_ERR_TRUNCATED, "pcap: truncated record header (%zu of 16 bytes)",
                        r->end - r->pos);
        }
    }
    const uint8_t *h = r->buf + r->pos;
    bool be = r->be;
    uint32_t caplen = ld32(h + 8, be), len = ld32(h + 12, be);
    if (r->lengths_swapped == 1 || (r->lengths_swapped == 2 && caplen > len)) {
        uint32_t t = caplen;
        caplen = len;
        len = t;
    }
    if (caplen > r->maxcap)
        return fail(r, NT_ERR_CORRUPT,
                    "pcap: record of %u captured bytes, more than the maximum of %u", caplen,
                    r->maxcap);
    size_t need = 16 + (size_t)caplen;
    if (r->end - r->pos < need) {
        int rc = fill(r, need);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return fail(r, NT_ERR_TRUNCATED,
                        "pcap: truncated record (%u captured bytes declared, %zu present)", caplen,
                        r->end - r->pos - 16);
        h = r->buf + r->pos;
    }
    /* libpcap reads seconds and fraction as signed 32-bit numbers from a file in the host's
     * byte order, and as unsigned ones from a file it byte-swaps; so does this reader. */
    uint32_t rs = ld32(h, be), rf = ld32(h + 4, be);
    int64_t sec = r->swapped ? (int64_t)rs : (int64_t)(rs ^ 0x80000000u) - 0x80000000;
    int64_t frac = r->swapped ? (int64_t)rf : (int64_t)(rf ^ 0x80000000u) - 0x80000000;
    if ((uint64_t)frac < (r->nano ? 1000000000u : 1000000u)) { /* the usual: a proper fraction */
        rec->ts.kind = NT_TIME_ABSOLUTE;
        rec->ts.sec = sec; /* 32 bits: within PF_MAX_ABS_SEC */
        rec->ts.nsec = (uint32_t)(r->nano ? frac : frac * 1000);
    } else {
        pf_time_norm(sec, r->nano ? frac : frac * 1000, &rec->ts); /* always in range */
    }
    rec->data = h + 16;
    rec->caplen = caplen > r->snapshot ? r->snapshot : caplen;
    rec->wirelen = len;
    rec->linktype = r->linktype;
    r->pos += need;
    return 1;
}

/* ---- pcapng ---- */

/* Reads the next whole block into buf + pos (its header, body and trailer). Returns 1 with
 * *type, *blen set, 0 at the end of the file, or a negative NT_ERR_*. With new_order, a section
 * header switches r->be to its byte order before its length is read. */
static int ng_block_slow(struct pf_reader *r, uint32_t *type, uint32_t *blen, bool new_order);

/* The usual case first, without a call: a block other than a section header, whole in the
 * buffer and sound; anything else takes the full path below, which checks it again. */
static inline int ng_block(struct pf_reader *r, uint32_t *type, uint32_t *blen, bool new_order)
{
    size_t have = r->end - r->pos;
    if (have >= 12) {
        const uint8_t *b = r->buf + r->pos;
        uint32_t t = ld32(b, r->be), len = ld32(b + 4, r->be);
        if (t != BT_SHB && len >= 12 && len % 4 == 0 && len <= r->max_block && len <= have &&
            ld32(b + len - 4, r->be) == len) {
            *type = t;
            *blen = len;
            return 1;
        }
    }
    return ng_block_slow(r, type, blen, new_order);
}

static int ng_block_slow(struct pf_reader *r, uint32_t *type, uint32_t *blen, bool new_order)
{
    int rc = fill(r, 8);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        if (r->end == r->pos)
            return 0;
        return fail(r, NT_ERR_TRUNCATED, "pcapng: truncated block header (%zu of 8 bytes)",
                    r->end - r->pos);
    }
    const uint8_t *b = r->buf + r->pos;
    uint32_t t = ld32(b, r->be);
    if (t == BT_SHB && new_order) {
        rc = fill(r, 12);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return fail(r, NT_ERR_TRUNCATED, "pcapng: truncated section header");
        b = r->buf + r->pos;
        uint32_t m = ld32(b + 8, true);
        if (m == 0x1a2b3c4d)
            r->be = true;
        else if (m == 0x4d3c2b1a)
            r->be = false;
        else {
            /* libpcap reads a later section header whole, its length in the current section's
             * byte order, before it looks at the magic: a block cut short is reported as cut
             * first (its oracle agreement; found by fuzz_reader). */
            uint32_t cur = ld32(b + 4, r->be);
            if (cur >= 12 && cur % 4 == 0 && cur <= r->max_block) {
                rc = fill(r, cur);
                if (rc < 0)
                    return rc;
                if (rc == 0)
                    return fail(r, NT_ERR_TRUNCATED,
                                "pcapng: truncated block (%u bytes declared, %zu present)", cur,
                                r->end - r->pos);
            }
            return fail(r, NT_ERR_CORRUPT, "pcapng: section header with a bad byte-order magic");
        }
        if (r->be != r->first_be)
            r->mixed = true;
    }
    uint32_t len = ld32(b + 4, r->be);
    if (len < 12)
        return fail(r, NT_ERR_CORRUPT, "pcapng: block length %u below 12", len);
    if (len % 4 != 0)
        return fail(r, NT_ERR_CORRUPT, "pcapng: block length %u not a multiple of 4", len);
    if (len > r->max_block)
        return fail(r, NT_ERR_CORRUPT, "pcapng: block length %u above the maximum of %u", len,
                    r->max_block);
    rc = fill(r, len);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fail(r, NT_ERR_TRUNCATED, "pcapng: truncated block (%u bytes declared, %zu present)",
                    len, r->end - r->pos);
    b = r->buf + r->pos;
    if (ld32(b + len - 4, r->be) != len)
        return fail(r, NT_ERR_CORRUPT, "pcapng: block length %u and its trailer (%u) disagree", len,
                    ld32(b + len - 4, r->be));
    *type = t;
    *blen = len;
    return 1;
}

/* Parses an interface description block's body (after the block header, without the trailer)
 * into a new interface of the current section. */
static int ng_idb(struct pf_reader *r, const uint8_t *body, size_t n, bool first)
{
    if (n < 8)
        return fail(r, NT_ERR_CORRUPT, "pcapng: interface description block too short");
    bool be = r->be;
    uint16_t lt = ld16(body, be);
    uint32_t snaplen = ld32(body + 4, be);
    struct pf_if ifc = {.res = {.tsresol = 6}};
    ifc.linktype = pf_linktype_to_dlt(lt);
    ifc.snapshot = pf_adjust_snapshot(ifc.linktype, snaplen);
    if (first) {
        r->linktype = ifc.linktype;
        r->snapshot = ifc.snapshot;
        r->max_block = pf_max_block_for_dlt(ifc.linktype);
    } else if (r->linktype != (int)lt || r->snapshot != pf_adjust_snapshot(r->linktype, snaplen)) {
        /* What libpcap refuses, before it reads the options. It compares the first interface's
         * DLT with this one's LINKTYPE value, so two LINKTYPE_RAW interfaces differ to it. */
        r->mixed = true;
    }
    /* Options, as strictly as libpcap reads them. */
    struct cursor c = cur_make(body + 8, n - 8);
    bool saw_res = false, saw_off = false;
    while (cur_left(&c) > 0) {
        if (cur_left(&c) < 4)
            return fail(r, NT_ERR_CORRUPT, "pcapng: interface options cut short");
        uint16_t code = ld16(c.p + c.off, be), olen = ld16(c.p + c.off + 2, be);
        c.off += 4;
        size_t padded = ((size_t)olen + 3) / 4 * 4;
        if (cur_left(&c) < padded)
            return fail(r, NT_ERR_CORRUPT, "pcapng: interface option %u cut short", code);
        const uint8_t *v = c.p + c.off;
        c.off += padded;
        if (code == 0) {
            if (olen != 0)
                return fail(r, NT_ERR_CORRUPT, "pcapng: end-of-options with length %u", olen);
            break;
        }
        if (code == 9) {
            if (olen != 1 || saw_res)
                return fail(r, NT_ERR_CORRUPT, "pcapng: bad or repeated if_tsresol option");
            saw_res = true;
            ifc.res.tsresol = v[0];
            if (!pf_tsresol_valid(v[0]))
                return fail(r, NT_ERR_CORRUPT, "pcapng: unsupported time resolution %s%u",
                            (v[0] & 0x80) ? "2^-" : "10^-", v[0] & 0x7f);
        } else if (code == 14) {
            if (olen != 8 || saw_off)
                return fail(r, NT_ERR_CORRUPT, "pcapng: bad or repeated if_tsoffset option");
            saw_off = true;
            uint64_t hi = ld32(v, be), lo = ld32(v + 4, be);
            uint64_t u = be ? hi << 32 | lo : lo << 32 | hi;
            /* Two's complement, without an implementation-defined conversion. */
            ifc.res.tsoffset = u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
        }
    }
    if (r->n_if == r->cap_if) {
        if (r->n_if >= PF_MAX_INTERFACES)
            return fail(r, NT_ERR_CORRUPT, "pcapng: more than %d interfaces in one section",
                        PF_MAX_INTERFACES);
        uint32_t ncap = r->cap_if ? r->cap_if * 2 : 4;
        struct pf_if *ni = realloc(r->ifs, ncap * sizeof *ni);
        if (!ni)
            return fail(r, NT_ERR_NOMEM, "%s", nt_strerror(NT_ERR_NOMEM));
        r->ifs = ni;
        r->cap_if = ncap;
    }
    r->ifs[r->n_if++] = ifc;
    return NT_OK;
}

static int open_ng(struct pf_reader *r, char *err)
{
    int rc = fill(r, 12);
    if (rc < 0) {
        snprintf(err, SOURCE_ERROR_MAX, "%s", r->error);
        return rc;
    }
    const uint8_t *b = r->buf;
    uint32_t m = rc ? ld32(b + 8, true) : 0;
    if (m == 0x1a2b3c4d)
        r->be = true;
    else if (m == 0x4d3c2b1a)
        r->be = false;
    else {
        /* libpcap does not take it for pcapng then ("unknown file format"). */
        snprintf(err, SOURCE_ERROR_MAX, "pcapng: no byte-order magic in the section header");
        return NT_ERR_CORRUPT;
    }
    r->first_be = r->be;
    uint32_t len = ld32(b + 4, r->be);
    if (len < 28 || len > PF_SHB_MAX) {
        snprintf(err, SOURCE_ERROR_MAX, "pcapng: section header length %u not within 28..%u", len,
                 PF_SHB_MAX);
        return NT_ERR_CORRUPT;
    }
    /* libpcap reads the first section header without checking its trailer or alignment. */
    rc = fill(r, len);
    if (rc <= 0) {
        snprintf(err, SOURCE_ERROR_MAX, "%s",
                 rc < 0 ? r->error : "pcapng: truncated section header");
        return rc < 0 ? rc : NT_ERR_TRUNCATED;
    }
    b = r->buf;
    uint16_t major = ld16(b + 12, r->be), minor = ld16(b + 14, r->be);
    if (major != 1 || (minor != 0 && minor != 2)) {
        snprintf(err, SOURCE_ERROR_MAX, "pcapng: unsupported version %u.%u", major, minor);
        return NT_ERR_CORRUPT;
    }
    r->pos = len;
    r->max_block = PF_BLOCK_MAX;
    /* Skip to the first interface description, as libpcap's open does: the blocks before it
     * are read in the first section's byte order, section headers too. */
    for (;;) {
        uint32_t type = 0, blen = 0; /* set when ng_block returns 1 (GCC cannot tell) */
        rc = ng_block(r, &type, &blen, false);
        if (rc == 0) {
            snprintf(err, SOURCE_ERROR_MAX, "pcapng: no interface description block");
            return NT_ERR_CORRUPT;
        }
        if (rc < 0) {
            snprintf(err, SOURCE_ERROR_MAX, "%s", r->error);
            return rc;
        }
        if (type == BT_IDB) {
            rc = ng_idb(r, r->buf + r->pos + 8, blen - 12, true);
            if (rc < 0) {
                snprintf(err, SOURCE_ERROR_MAX, "%s", r->error);
                return rc;
            }
            r->pos += blen;
            break;
        }
        if (type == BT_EPB || type == BT_SPB || type == BT_PB) {
            snprintf(err, SOURCE_ERROR_MAX,
                     "pcapng: a packet block before any interface description block");
            return NT_ERR_CORRUPT;
        }
        r->pos += blen;
    }
    if (rewritten_by_libpcap(r->linktype, r->be != host_be()))
        return PF_DECLINED;
    return NT_OK;
}

static int next_ng(struct pf_reader *r, struct pf_record *rec)
{
    for (;;) {
        uint32_t type = 0, blen = 0; /* set when ng_block returns 1 (GCC cannot tell) */
        int rc = ng_block(r, &type, &blen, true);
        if (rc <= 0)
            return rc;
        const uint8_t *body = r->buf + r->pos + 8;
        size_t n = blen - 12;
        bool be = r->be;
        uint32_t if_id = 0, caplen, len;
        uint64_t t = 0;
        size_t fixed;
        switch (type) {
        case BT_EPB:
        case BT_PB:
            if (n < 20)
                return fail(r, NT_ERR_CORRUPT, "pcapng: packet block too short");
            if_id = type == BT_EPB ? ld32(body, be) : ld16(body, be);
            t = (uint64_t)ld32(body + 4, be) << 32 | ld32(body + 8, be);
            caplen = ld32(body + 12, be);
            len = ld32(body + 16, be);
            fixed = 20;
            break;
        case BT_SPB:
            if (n < 4)
                return fail(r, NT_ERR_CORRUPT, "pcapng: simple packet block too short");
            len = ld32(body, be);
            caplen = len;
            if (r->n_if > 0 && caplen > r->ifs[0].snapshot)
                caplen = r->ifs[0].snapshot;
            fixed = 4;
            break;
        case BT_IDB:
            rc = ng_idb(r, body, n, false);
            if (rc < 0)
                return rc;
            r->pos += blen;
            continue;
        case BT_SHB:
            if (n < 16)
                return fail(r, NT_ERR_CORRUPT, "pcapng: section header too short");
            if (ld16(body + 4, be) != 1)
                return fail(r, NT_ERR_CORRUPT, "pcapng: unsupported major version %u",
                            ld16(body + 4, be));
            r->n_if = 0; /* interfaces are numbered per section */
            r->pos += blen;
            continue;
        default:
            r->pos += blen; /* statistics, name resolution, custom blocks: nothing we use */
            continue;
        }
        if (if_id >= r->n_if)
            return fail(r, NT_ERR_CORRUPT, "pcapng: packet for undeclared interface %u", if_id);
        struct pf_if *ifc = &r->ifs[if_id];
        if (caplen > ifc->snapshot)
            return fail(r, NT_ERR_CORRUPT,
                        "pcapng: packet of %u captured bytes, more than the snap length %u", caplen,
                        ifc->snapshot);
        if (t - ifc->sec_t0 < ifc->sec_ticks) {
            rec->ts.kind = NT_TIME_ABSOLUTE;
            rec->ts.sec = ifc->sec_abs;
            rec->ts.nsec = (uint32_t)(t - ifc->sec_t0) * ifc->ns_tick;
        } else if (!pf_ng_time(&ifc->res, t, &rec->ts)) {
            return fail(r, NT_ERR_CORRUPT,
                        "pcapng: timestamp out of range (interface %u, if_tsoffset %lld s)", if_id,
                        (long long)ifc->res.tsoffset);
        } else if (ifc->res.tsresol == 6 || ifc->res.tsresol == 9) {
            /* The second t lies in starts at a multiple of sec_ticks units (tsoffset is whole
             * seconds), and pf_ng_time placed it at rec->ts.sec. */
            ifc->sec_ticks = ifc->res.tsresol == 6 ? 1000000u : 1000000000u;
            ifc->ns_tick = ifc->res.tsresol == 6 ? 1000u : 1u;
            ifc->sec_t0 = t - t % ifc->sec_ticks;
            ifc->sec_abs = rec->ts.sec;
        }
        if (caplen > n - fixed)
            return fail(r, NT_ERR_CORRUPT, "pcapng: packet block too short for its %u bytes",
                        caplen);
        rec->data = body + fixed;
        rec->caplen = caplen;
        rec->wirelen = len;
        rec->linktype = ifc->linktype;
        r->pos += blen;
        return 1;
    }
}

/* ---- the reader ---- */

static bool pcap_magic(uint32_t m)
{
    return m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1;
}

int pf_open(FILE *f, struct pf_reader **out, char *err)
{
    *out = NULL;
    /* The magic first, so that text and compressed files cost one small read here. A file
     * that cannot be read is left to the stream path, which says why. */
    int fd = fileno(f);
    uint8_t m[4];
    size_t have = 0;
    while (have < 4) {
        ssize_t got = pread(fd, m + have, 4 - have, (off_t)have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return PF_DECLINED;
        have += (size_t)got;
    }
    uint32_t magic = ld32(m, true);
    if (!pcap_magic(magic) && magic != BT_SHB)
        return PF_DECLINED;
    struct pf_reader *r = calloc(1, sizeof *r);
    uint8_t *buf = malloc(PF_CHUNK);
    if (!r || !buf) {
        free(r);
        free(buf);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    r->f = f;
    r->fd = fd;
    r->buf = buf;
    r->cap = PF_CHUNK;
    int rc;
    if (magic == BT_SHB) {
        r->ng = true;
        rc = open_ng(r, err);
    } else {
        rc = open_classic(r, err);
    }
    if (rc != NT_OK) {
        r->f = NULL; /* still the caller's */
        pf_close(r);
        return rc;
    }
    *out = r;
    return NT_OK;
}

int pf_next(struct pf_reader *r, struct pf_record *rec)
{
    if (r->err)
        return r->err;
    return r->ng ? next_ng(r, rec) : next_classic(r, rec);
}

const char *pf_error(const struct pf_reader *r)
{
    return r->error;
}

bool pf_is_pcapng(const struct pf_reader *r)
{
    return r->ng;
}

int pf_linktype(const struct pf_reader *r)
{
    return r->linktype;
}

bool pf_mixed(const struct pf_reader *r)
{
    return r->mixed;
}

const uint64_t *pf_position(const struct pf_reader *r)
{
    return &r->at;
}

void pf_close(struct pf_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r->buf);
    free(r->ifs);
    free(r);
}
