/* pcapfile.h: nettriage's own reader for classic pcap and pcapng files (regular files only),
 * used instead of libpcap where it can be: records are parsed in place in a large read buffer,
 * with no per-packet copy or allocation. It delivers what libpcap 1.10 delivers for the same
 * file (same records, link types in libpcap's DLT numbering, timestamps to the nanosecond,
 * lengths, bytes, and the same kind of error at the same packet), except where libpcap refuses
 * a pcapng whose interfaces differ: then each record carries its own interface's link type, as
 * the pcapng fallback in pcap.c does. It declines up front the few files whose bytes libpcap
 * rewrites (pseudo-headers swapped into host byte order, Linux USB lengths), which libpcap then
 * reads. tests/conformance/reader_oracle.c compares both readers on every capture we have. */
#ifndef NT_SOURCE_PCAPFILE_H
#define NT_SOURCE_PCAPFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/ntime.h"

struct source;

/* pf_open's answer when the file is not one for this reader (not a pcap or pcapng magic, or a
 * case it leaves to libpcap); the caller then reads it as before. */
#define PF_DECLINED 1

/* Times of a record are bounded to this many seconds either side of the epoch, so that adding
 * any int64 count of microseconds to them cannot overflow; a pcapng if_tsoffset or timestamp
 * beyond it is an error ("timestamp out of range"), never undefined arithmetic. */
#define PF_MAX_ABS_SEC ((int64_t)1 << 62)

/* One record as the file holds it. data points into the reader's buffer and stays valid until
 * the next pf_next or pf_close. */
struct pf_record {
    const uint8_t *data;
    uint32_t caplen;  /* bytes at data */
    uint32_t wirelen; /* length on the wire, as the file says (may be below caplen) */
    int linktype;     /* DLT (libpcap's numbering) of the record's interface */
    struct nt_time ts;
};

struct pf_reader;

/* Reads the file header of f (a regular file, read with pread from offset 0; f's position is
 * left alone) and, for pcapng, the blocks up to the first interface description, as libpcap's
 * open does. Returns NT_OK with *out set (the reader then owns f and closes it), PF_DECLINED
 * (f untouched, still the caller's), or a negative NT_ERR_* with a one-line reason in err
 * (SOURCE_ERROR_MAX bytes; f is still the caller's). */
int pf_open(FILE *f, struct pf_reader **out, char *err);
/* The next record: 1, 0 at the end, or a negative NT_ERR_* with pf_error() saying why (the
 * records before it stand; further calls return the same error). */
int pf_next(struct pf_reader *r, struct pf_record *rec);
const char *pf_error(const struct pf_reader *r);
bool pf_is_pcapng(const struct pf_reader *r);
/* DLT of the file (classic) or of its first interface (pcapng). */
int pf_linktype(const struct pf_reader *r);
/* pcapng: an interface was seen that libpcap 1.10 refuses (a link type or snap length other
 * than the first interface's), or a section of the other byte order. */
bool pf_mixed(const struct pf_reader *r);
/* The file offset the reader has read up to (its next pread), kept as the reader goes. */
const uint64_t *pf_position(const struct pf_reader *r);
void pf_close(struct pf_reader *r);

/* libpcap's limits: blocks of at most 16 MiB (more for the link types below), interfaces per
 * section (libpcap has none but memory). */
#define PF_BLOCK_MAX      ((uint32_t)16 << 20)
#define PF_MAX_INTERFACES 65536

/* libpcap's mapping of a LINKTYPE_ value in a file to its DLT_ value, as on Linux. */
int pf_linktype_to_dlt(uint32_t linktype);
/* libpcap's snap length for a file's (or interface's) snaplen: 0 or above INT_MAX means the
 * link type's maximum. */
uint32_t pf_adjust_snapshot(int dlt, uint32_t snaplen);
/* libpcap's largest pcapng block once the first interface has this link type. */
uint32_t pf_max_block_for_dlt(int dlt);

/* A pcapng interface's time stamp resolution (if_tsresol: bit 7 clear 10^-n, set 2^-n) and
 * offset (if_tsoffset, seconds). */
struct pf_tsres {
    uint8_t tsresol;
    int64_t tsoffset;
};
/* Whether if_tsresol is one we can read (10^-0..10^-19, 2^-0..2^-63). */
bool pf_tsresol_valid(uint8_t tsresol);
/* Converts a pcapng timestamp (units of the interface's resolution) plus the interface's offset
 * to an absolute time; false when the sum is beyond PF_MAX_ABS_SEC (computed exactly, without
 * overflow; out is then unset). The fraction is truncated to nanoseconds as libpcap does. */
bool pf_ng_time(const struct pf_tsres *res, uint64_t t, struct nt_time *out);
/* A classic pcap (or libpcap-delivered) time: sec and a signed fraction in nanoseconds that may
 * exceed a second either way, normalised so that 0 <= nsec < 10^9. False beyond
 * PF_MAX_ABS_SEC. */
bool pf_time_norm(int64_t sec, int64_t frac_ns, struct nt_time *out);

/* The source backend over this reader (pcap.c): NT_OK, PF_DECLINED (f still the caller's), or a
 * negative NT_ERR_* (f still the caller's). */
int source_pcapfile_open(FILE *f, struct source **out, char *err);
/* Whether a pcap/pcapng source reads through this reader rather than libpcap. */
bool source_pcap_native(const struct source *s);
/* For tests: fn is called with every record a pcap/pcapng source reads (either reader), before
 * it is decoded. Does nothing on a text source. */
typedef void (*source_tap_fn)(void *arg, const struct pf_record *rec);
void source_pcap_set_tap(struct source *s, source_tap_fn fn, void *arg);

#endif
