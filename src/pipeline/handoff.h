/* handoff.h: the correlator's events carried to the detector on a thread of its own.
 *
 * The detector is about a third of the engine's work and reads nothing but the events the
 * correlator hands it (a lookup's outcome, an ICMP error, a stray response, a malformed DNS
 * message, a TCP attempt's outcome). With a second core it runs beside the reading thread:
 * each event is deep-copied (its evidence's store and text, the lookup or attempt it points
 * to) into a ring of bytes that one thread writes and one reads, and the detector's thread
 * hands each copy to the callback in the order written. The callback thus sees the same
 * events in the same order as when called directly, so every result is the same; the copies
 * live in the ring only during the call, exactly as the correlator's objects do. One thing is
 * not copied: an address of family NT_AF_NAME (a host name tcpdump printed) points to its
 * text in the run's names table (util/addr.h), which the pipeline owns, never changes once
 * written and frees only after handoff_free. Closed lookups handed off by handoff_lookup_lend
 * are the other exception: their evidence is lent, not copied (below).
 *
 * Thread safety: one producer (the thread that called handoff_new and every handoff_* below)
 * and the detector's thread. Between handoff_drain and the next event the producer may read
 * or call what the callback touches (its writes are then visible); handoff_free ends the
 * thread. The thread starts with the first event (after a live capture gave up its
 * privileges, which capset(2) does per thread); a process must not fork while it runs and use
 * the handoff in the child, where the thread does not exist. */
#ifndef NT_PIPELINE_HANDOFF_H
#define NT_PIPELINE_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "correlate/correlate.h"

enum handoff_kind {
    HANDOFF_LOOKUP = 1, /* const struct dns_lookup * */
    HANDOFF_ICMP,       /* const struct icmp_event * */
    HANDOFF_STRAY,      /* const struct stray_response * */
    HANDOFF_MALFORMED,  /* const struct dns_malformed * */
    HANDOFF_TCP,        /* const struct tcp_attempt * */
};

/* Called on the detector's thread with each event (the object is valid only during the call). */
typedef void (*handoff_fn)(void *ctx, enum handoff_kind kind, const void *obj);

struct handoff;

/* The ring's size (its memory is touched as it turns: part of the peak). 1 MiB holds about 800
 * of the busy bench's lookups, some 2.5 ms of reading; 4 MiB and 512 KiB were measured too
 * (busy.pcap, interleaved): no difference in time beyond the noise, 4 MiB 2.6 MiB more at the
 * peak. An event larger than a quarter of it is not copied: the producer waits for the ring to
 * empty and calls fn itself. */
#define HANDOFF_RING_BYTES ((size_t)1 << 20)

/* A handoff whose thread starts with the first event (every signal blocked in it but the
 * faults, so that they reach the reading thread as before and a fault in a rule is still
 * reported). NULL when out of memory: the caller then calls the detector directly. When the
 * thread cannot be made, every event is delivered by the producer itself (handoff_stats). */
struct handoff *handoff_new(handoff_fn fn, void *ctx);

/* Copies the event into the ring (waiting while the ring is full) for fn on the detector's
 * thread. */
void handoff_lookup(struct handoff *h, const struct dns_lookup *l);
void handoff_icmp(struct handoff *h, const struct icmp_event *e);
void handoff_stray(struct handoff *h, const struct stray_response *r);
void handoff_malformed(struct handoff *h, const struct dns_malformed *m);
void handoff_tcp(struct handoff *h, const struct tcp_attempt *t);

/* Lending instead of copying (the busy bench's closed lookups, most of the events): a
 * lookup's query, answer and error evidence are not copied into the ring but lent, their
 * stores and text moved out of the lookup (evidence_lend) with the message. The producer
 * gives each loan back through give, on its own thread, once the detector's thread is done
 * with the message (its tail has passed it), at the latest in handoff_drain, handoff_free or
 * handoff_discard. Under AddressSanitizer a lent store is poisoned from the end of fn's call
 * until it is given back, as a message is. handoff_set_give_back: the function that takes a
 * loan back (correlate_give_back); before it is set, handoff_lookup_lend copies.
 * handoff_lookup_lend: handoff_lookup for a lookup the caller lets go of; true when its
 * evidence was lent (l's evidence then owns nothing), false when it was copied or delivered
 * in place (l unchanged). */
typedef void (*handoff_give_back_fn)(void *ctx, struct evidence_loan *loan);
void handoff_set_give_back(struct handoff *h, handoff_give_back_fn give, void *ctx);
bool handoff_lookup_lend(struct handoff *h, struct dns_lookup *l);

/* Returns once fn has returned for every event handed off so far. */
void handoff_drain(struct handoff *h);

/* Drains, ends the thread and frees h (NULL: nothing). */
void handoff_free(struct handoff *h);
/* The same without running fn on the events still in the ring (a run given up before its
 * end: nothing will read what they would write). */
void handoff_discard(struct handoff *h);

/* Events handed off through the ring, and those the producer delivered itself (too large for
 * the ring, or no thread). */
struct handoff_stats {
    unsigned long long events, direct;
};
void handoff_stats(const struct handoff *h, struct handoff_stats *st);

#endif
