/* reasm.h: IPv4 (RFC 791) and IPv6 (RFC 8200 section 4.5) fragment reassembly, bounded in
 * datagrams, bytes and capture time.
 *
 * Fragments are held per datagram: IPv4 by (source, destination, identification, protocol),
 * IPv6 by (source, destination, identification). Policy:
 *  - overlaps: the first bytes received win (as BSD and older Linux stacks did); a fragment
 *    that repeats bytes already held unchanged is a duplicate, one that carries other bytes for
 *    them an overlap. Both are counted; neither changes what is held.
 *  - a fragment that is not the last must carry a multiple of 8 bytes; the datagram may not
 *    grow past 65535 bytes (the "ping of death"); a second last fragment that ends elsewhere,
 *    and a fragment past the known end, are dropped (first wins) and counted invalid.
 *  - a datagram still incomplete REASM_TIMEOUT_SEC seconds of capture time after its first
 *    fragment is dropped (timed out); when REASM_MAX_DATAGRAMS are open or REASM_MAX_BYTES are
 *    held, the oldest datagram is dropped (evicted). A fragment cut short by the snap length
 *    cannot be reassembled and is counted as uncaptured.
 * A complete datagram comes out as one IP packet: the first fragment's header (IPv4: with the
 * total length set and the fragment fields cleared; IPv6: the unfragmentable part with the
 * fragment header removed and the payload length set) followed by the reassembled payload. */
#ifndef NT_FLOW_REASM_H
#define NT_FLOW_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "util/ntime.h"

#define REASM_MAX_DATAGRAMS 256
#define REASM_MAX_BYTES     ((size_t)8 << 20)
#define REASM_TIMEOUT_SEC   30
/* The IPv6 unfragmentable part (header and extension headers before the fragment header). */
#define REASM_MAX_HEADER 512

struct reasm_stats {
    uint64_t fragments;      /* fragments offered */
    uint64_t reassembled;    /* datagrams completed */
    uint64_t timed_out;      /* datagrams dropped incomplete after the timeout */
    uint64_t evicted;        /* datagrams dropped incomplete to make room */
    uint64_t incomplete;     /* datagrams still incomplete at the end of the input */
    uint64_t lost_fragments; /* fragments of datagrams timed out, evicted or incomplete */
    uint64_t duplicates;     /* fragments repeating bytes already held */
    uint64_t overlaps;       /* fragments with other bytes for a range already held */
    uint64_t invalid;        /* fragments dropped: bad length, past 65535 or the known end */
    uint64_t uncaptured;     /* fragments cut short by the snap length */
};

struct reasm;

/* A new, empty table that keeps at most max_datagrams datagrams and max_bytes bytes (the
 * defaults are REASM_MAX_DATAGRAMS and REASM_MAX_BYTES); NULL when out of memory.
 * reasm_free(NULL) is a no-op. */
struct reasm *reasm_new(unsigned max_datagrams, size_t max_bytes);
void reasm_free(struct reasm *r);

/* Offers one fragment: ip holds len captured bytes from its IP header on (IPv4 with MF or an
 * offset, or IPv6 with a fragment header). Expires datagrams older than the timeout at ts
 * first. Returns 1 when the fragment completed a datagram, whose bytes are then in *out and
 * *out_len (owned by r, valid until the next reasm_add or reasm_free); 0 when the fragment was
 * held, or dropped and counted; -1 when out of memory (the fragment is dropped). */
int reasm_add(struct reasm *r, const struct nt_time *ts, const uint8_t *ip, size_t len,
              const uint8_t **out, size_t *out_len);

/* Drops (and counts) datagrams whose first fragment is older than the timeout at now. Cheap
 * when nothing is held; call it for every packet so that time passes without fragments. */
void reasm_expire(struct reasm *r, const struct nt_time *now);

/* Counts the datagrams still incomplete at the end of the input, and drops them. */
void reasm_finish(struct reasm *r);

const struct reasm_stats *reasm_stats(const struct reasm *r);

#endif
