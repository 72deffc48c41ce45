/* tcp_track.h: TCP connection attempts for the correlator (internal to src/correlate/). A SYN
 * opens an attempt keyed by the 4-tuple; a SYN with the same initial sequence number is a
 * retransmission; a SYN-ACK or a RST from the server side, or an ICMP error quoting the SYN,
 * answers it. An attempt is handed to the callback as soon as its outcome is final, or, still
 * unanswered, when the late window has passed or the input ends. Entries stay in the table until
 * the late window passes, so a SYN retransmitted after the answer is not a new attempt. */
#ifndef NT_CORRELATE_TCP_TRACK_H
#define NT_CORRELATE_TCP_TRACK_H

#include "correlate/correlate.h"

struct tcp_tracker;

/* cfg, cb and st belong to the correlator and outlive the tracker. */
struct tcp_tracker *tcp_tracker_new(const struct correlate_config *cfg,
                                    const struct correlate_callbacks *cb,
                                    struct correlate_stats *st);
void tcp_tracker_free(struct tcp_tracker *t);

/* Where the tracker notes how the current segment relates to an attempt (the correlator's
 * struct pkt_relation, which it clears for each packet); NULL: nowhere. */
void tcp_track_relation(struct tcp_tracker *t, struct pkt_relation *rel);

/* A TCP segment (PKT_L_TCP). Returns NT_OK or NT_ERR_NOMEM. */
int tcp_track_packet(struct tcp_tracker *t, const struct packet *pkt, uint32_t input);

/* What part of an ICMP quote is known (see correlate.c's quote view). */
struct tcp_quote_known {
    bool src, dst, proto, sport, dport;
};
/* Ties an ICMP error to the attempt whose SYN it quotes: the newest attempt still waiting, else
 * the newest matching one. Gives a waiting attempt the outcome TCP_ICMP_ERROR (the caller reports
 * it with tcp_track_settle after its own callback). Returns NULL when none matches. */
struct tcp_attempt *tcp_track_icmp(struct tcp_tracker *t, const struct packet *pkt,
                                   const struct tcp_quote_known *k, const struct evidence *ev,
                                   enum icmp_sender *sender, int *err);
/* Hands a just-answered attempt to the callback (once). */
void tcp_track_settle(struct tcp_tracker *t, struct tcp_attempt *a);

/* The correlator's clock (microseconds, never backwards) at the packet about to be fed: the
 * tracker times answers and deadlines on it. */
void tcp_track_clock(struct tcp_tracker *t, int64_t now);
/* Closes the attempts whose deadline has passed, earliest first. */
void tcp_track_expire(struct tcp_tracker *t);
/* The tracker's deadlines, for a caller's inline test of whether tcp_track_expire has anything
 * to do (theap_may_have_before with the clock given to tcp_track_clock): on most packets it has
 * not, and the call was 28 instructions a packet. */
struct theap;
const struct theap *tcp_track_due(const struct tcp_tracker *t);
/* End of an input: every attempt becomes final (unanswered when the silence after its last SYN
 * passed the timeout by `clock`, else cut off by the end of the capture) and is dropped. */
void tcp_track_finish(struct tcp_tracker *t, bool has_time);

#endif
