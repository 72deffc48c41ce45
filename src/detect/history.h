/* history.h: one service's successes over time (DNS answers, completed TCP handshakes), in
 * bounded memory, for the incident windows: when the service last worked before a failure,
 * when it worked again after, and how often it worked in between.
 *
 * The history is a sorted run of buckets of `width` seconds (1 s to start with). Each bucket
 * keeps its count and its earliest and latest success, and the exact time of every success
 * while it holds at most HISTORY_EXACT; past that it summarises. When HISTORY_BUCKETS_MAX
 * buckets are in use, the width doubles and neighbours merge, so memory stays flat however
 * long the capture or the watch: at most HISTORY_BUCKETS_MAX buckets per service.
 *
 * The exact times are not in the bucket but in a slot of a table beside the buckets, taken by
 * a bucket's first success and given back once it holds more than HISTORY_EXACT or merges
 * into a neighbour; each coarsening cuts the table down to the slots still held. A busy
 * service's buckets (every one past HISTORY_EXACT within its second) are 56 bytes instead of
 * 184 with the times inline, and its table holds a slot or two (about 230 KiB at the bound
 * instead of 740); a quiet service's buckets keep their slots and cost what they did. Storage
 * only: every answer is the same as with the times inline. (Out of memory for a slot, a bucket
 * keeps its count, earliest and latest only: its answers are then bounds, said so as above.)
 *
 * Answers are therefore exact when the successes around the asked times were few (at most
 * HISTORY_EXACT in their bucket), which is every small capture; otherwise they are bounds,
 * said so in the result (struct history_window), never a guessed figure. */
#ifndef NT_DETECT_HISTORY_H
#define NT_DETECT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ntime.h"

#define HISTORY_EXACT       8
#define HISTORY_BUCKETS_MAX 4096

struct history_bucket {
    int64_t start; /* first second covered: [start, start + width) */
    uint64_t count;
    struct nt_time min, max;
    uint32_t slot;   /* 1 + the index of its exact times in the history's slots; 0: none */
    uint8_t kind;    /* enum nt_time_kind: clocks of different kinds never share a bucket */
    uint8_t n_exact; /* == count while count <= HISTORY_EXACT (it then has a slot), else 0 */
};

/* HISTORY_EXACT times, sorted; a free slot holds the next free one's number in t[0].sec. */
struct history_slot {
    struct nt_time t[HISTORY_EXACT];
};

struct history_pool;

struct history {
    struct history_bucket *b; /* sorted by (kind, start) */
    size_t n, cap;
    int64_t width; /* seconds per bucket, a power of two */
    uint64_t total;
    struct history_slot *slot; /* the buckets' exact times (at most one slot a bucket) */
    uint32_t n_slot, cap_slot;
    uint32_t free_slot; /* 1 + the first free slot; 0: none */
    /* The pool whose budget it shares (NULL: none), the bytes it holds as counted there, and
     * its place in the pool's list. */
    struct history_pool *pool;
    size_t pool_bytes;
    size_t pool_idx;
};

/* A budget of bytes shared by many histories (the detector's services and dns.slow's servers):
 * their buckets and slots together. Each history is bounded on its own (HISTORY_BUCKETS_MAX
 * buckets), but a long watch of many services would hold that much for each: 10,000 services
 * answered every second for an hour, about 2.3 GB. When the histories of a pool hold more than
 * max_bytes, the pool doubles the width every one of them has at least (min_width; new ones start
 * at it), coarsens them all and cuts their tables to what they hold, until they fit; it stops
 * when a doubling gives nothing back (more histories than the budget holds at a bucket each,
 * about 184 bytes: the detector's services are bounded too) or at HISTORY_POOL_WIDTH_MAX.
 * Answers from coarser buckets are bounds, said so as above (struct history_window.width), never
 * a guess. The histories must not move while they are in a pool. */
#define HISTORY_POOL_WIDTH_MAX ((int64_t)1 << 32)
struct history_pool {
    size_t bytes, max_bytes;
    int64_t min_width;        /* seconds, a power of two; 1 until the budget is reached */
    uint64_t doublings;       /* times min_width doubled */
    struct history **members; /* the histories in the pool */
    size_t n, cap;
    uint64_t not_joined; /* histories left out of the pool for lack of memory */
    size_t stuck_bytes;  /* a doubling gave nothing back at these bytes (0: not stuck) */
};
void history_pool_init(struct history_pool *p, size_t max_bytes);
/* Call after every history of the pool was finished (history_fini). */
void history_pool_fini(struct history_pool *p);
/* Puts h (empty or not) in pool p: its bytes count there, and it starts at the pool's width. Out
 * of memory h stays out of the pool (counted in not_joined): bounded on its own only. */
void history_pool_join(struct history_pool *p, struct history *h);

/* Zeroed memory is an empty history as well (history_init is then optional). */
void history_init(struct history *h);
/* Frees what h holds and takes it out of its pool. */
void history_fini(struct history *h);
/* Records a success at t (ignored when t has no time). Returns false only when out of memory
 * (the success is then counted in total but not placed). */
bool history_add(struct history *h, const struct nt_time *t);

/* The successes around a failure window [first, last] (both of first's clock kind). */
struct history_window {
    bool has_before;   /* a success before first */
    bool before_exact; /* before is the last one; else a bound: successes came from before
                        * until the failure, within the same bucket */
    struct nt_time before;
    bool has_after;   /* a success after last */
    bool after_exact; /* after is the first one; else a bound: a success came after last and
                       * no later than after */
    struct nt_time after;
    uint64_t during_min, during_max; /* successes in [first, last]; equal when exact */
    uint64_t total;                  /* every success recorded, all kinds */
    int64_t width;                   /* the bucket width in seconds when anything is a bound */
};
void history_window(const struct history *h, const struct nt_time *first,
                    const struct nt_time *last, struct history_window *out);

/* history_window for [first, last], written into a finding's incident window (every member
 * but window_set). */
struct incident_window;
void history_fill_window(const struct history *h, const struct nt_time *first,
                         const struct nt_time *last, struct incident_window *w);

#endif
