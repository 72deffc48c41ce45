/* correlate.h: state across packets. Groups DNS queries and their retransmissions into lookups,
 * gives each its outcome (answer, ICMP error, silence), and ties every ICMP error to the query it
 * quotes. State is bounded and expires; an expired lookup becomes an outcome, never a silent
 * drop. */
#ifndef NT_CORRELATE_CORRELATE_H
#define NT_CORRELATE_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/evidence.h"
#include "decode/packet.h"

enum lookup_outcome {
    LOOKUP_PENDING = 0,
    LOOKUP_ANSWERED,      /* a response with any rcode */
    LOOKUP_ICMP_ERROR,    /* an ICMP error quoting one of its queries, before any answer */
    LOOKUP_UNANSWERED,    /* silence for longer than the timeout */
    LOOKUP_CAPTURE_ENDED, /* the capture ended before the timeout passed */
};

/* Who sent an ICMP error, judged from the addresses it quotes. */
enum icmp_sender {
    ICMP_SENDER_UNKNOWN = 0,
    ICMP_SENDER_SERVER, /* the destination of the quoted datagram itself */
    ICMP_SENDER_PATH,   /* another host: a router or firewall on the path */
    ICMP_SENDER_CLIENT, /* the client, about a response sent to it */
};

/* How the server ended a DNS-over-TCP connection before answering (dns_tcp_conn). */
enum tcp_close_kind {
    TCP_CLOSE_NONE = 0,
    TCP_CLOSE_FIN, /* an orderly close */
    TCP_CLOSE_RST, /* an abort */
};

/* What the capture shows of the TCP connection a lookup over TCP went on, after the handshake
 * (correlate/dnsconn.h). All zero for UDP, and when none of the connection's segments was
 * followed. */
struct dns_tcp_conn {
    bool seen;              /* the connection was followed (from the client's SYN or data) */
    bool synack_seen;       /* the server's SYN-ACK is in the capture */
    bool query_acked;       /* the server had acknowledged every byte the client sent (the query)
                               when it closed, or by the end when it did not close */
    uint8_t server_close;   /* enum tcp_close_kind: the server's FIN or RST after the query */
    bool client_fin_first;  /* the client had sent its own FIN before the server closed */
    uint8_t closed_conns;   /* connections of the lookup (its kept client ports) the server
                               closed after the query */
    int64_t close_after_us; /* from the client's last data segment (the query) to the close */
    /* The server's FIN or RST (role EV_PACKET, order_pkt the lookup's first query); owned by
     * the correlator, valid only during the on_lookup callback (NULL when none). */
    const struct evidence *close;
};

#define LOOKUP_PORTS_KEPT        8
#define CORRELATE_STEPS_KEPT     8
#define CORRELATE_ONE_SIDED_KEPT 32
/* Open lookups of one key (client, server, server port, transport, DNS id) at most: past it the
 * oldest of the key is closed early (key_evicted). A packet walks only the lookups of its own
 * key, so this bounds what a flood reusing one key costs each packet. */
#define CORRELATE_KEY_MAX 1024
/* A packet stamped this much earlier than the one before it is a clock step, not reordering. */
#define CORRELATE_STEP_BACK_US 1000000

struct dns_lookup {
    uint64_t seq; /* order of creation, from 1 */
    uint32_t input;
    struct nt_addr client, server;
    uint16_t server_port;
    uint16_t client_ports[LOOKUP_PORTS_KEPT]; /* distinct source ports used, first few */
    uint8_t n_client_ports;
    bool client_ports_overflow;
    uint8_t transport; /* 17 UDP or 6 TCP */
    uint16_t id;
    uint16_t query_flags; /* the query's header flags word; opcode in bits 11-14 */
    bool has_question;
    char *qname; /* owned by the correlator; NULL when no question was seen */
    uint16_t qtype, qclass;

    struct nt_time first_tx, last_tx;
    uint32_t transmissions; /* query packets, including the first */
    /* TTL (hop limit) of the first query packet and the lowest of its transmissions (0 when
     * the input does not show it): the same query seen again with a lower TTL at the same
     * point came back around a routing loop. */
    uint8_t first_ttl, min_ttl;
    /* The latest transmission: its packet number and, for text input, its first line (those of
     * the first query until a retransmission; 0 when the query is not in the capture). */
    uint64_t last_pkt, last_line;

    uint8_t outcome; /* enum lookup_outcome */
    bool late;       /* the answer or error came after the timeout had passed */

    /* LOOKUP_ANSWERED (the first response is `answer`, below) */
    int64_t rtt_us;     /* answer time minus the latest transmission before it */
    int64_t elapsed_us; /* answer or error time minus the first transmission */
    uint16_t rcode;
    uint32_t extra_responses; /* responses after the first */

    /* ICMP errors quoting its queries (the first is `error`, below) */
    uint32_t n_errors;
    uint8_t icmp_kind;       /* enum icmp_kind of the first error */
    uint8_t icmp_sender;     /* enum icmp_sender of the first error */
    bool matched_by_id;      /* the quote held the DNS id (else addresses and ports only) */
    uint32_t client_rejects; /* ICMP errors from the client about responses to it */
    /* Responses from another address than the server queried (same client port, id and
     * question) while the lookup waited, the first one's source, and the client's ICMP errors
     * about them (not in client_rejects). */
    uint32_t foreign_answers, foreign_rejects;
    struct nt_addr foreign_from;

    /* The query is not in the capture (a capture filtered to ICMP, or a capture point that saw
     * only the errors): the lookup was made from the copy of the query an ICMP error quotes.
     * Then `query` is empty, the transmission times and TTLs are unknown (NT_TIME_NONE, 0),
     * transmissions is 0, and the DNS id, flags and question are known only when the quote
     * showed them (else id_unknown; has_question false). */
    bool from_quote;
    bool id_unknown; /* the id and flags were not shown (never for a captured query) */

    /* Transport TCP: the connection after its handshake (see struct dns_tcp_conn). */
    struct dns_tcp_conn tcp;

    /* From tcp on, the correlator keeps an answered lookup in its answer guard packed (the
     * fields above stay readable, correlate_internal.h). */
    struct evidence query; /* the first query packet */
    /* Last, so that the correlator can keep a lookup silent past its timeout without them
     * (about half its size) while it waits for a late answer (correlate_internal.h). */
    struct evidence answer; /* LOOKUP_ANSWERED: the first response (role EV_ANSWER) */
    struct evidence error;  /* the first ICMP error quoting its queries */
};

enum tcp_outcome {
    TCP_PENDING = 0,
    TCP_ESTABLISHED,   /* SYN-ACK from the server */
    TCP_RESET,         /* RST from the server (or on its behalf) answering the SYN */
    TCP_ICMP_ERROR,    /* an ICMP error quoting the SYN */
    TCP_UNANSWERED,    /* no answer for longer than the timeout after the last SYN */
    TCP_CAPTURE_ENDED, /* the capture ended before the timeout passed */
};

/* A TCP connection attempt: a SYN, its retransmissions (same 4-tuple, same initial sequence
 * number), and what answered it. Only the handshake is followed, not the connection. */
struct tcp_attempt {
    uint64_t seq; /* order of creation, from 1 */
    uint32_t input;
    struct nt_addr client, server;
    uint16_t client_port, server_port;
    uint32_t isn;
    struct nt_time first_syn, last_syn;
    uint32_t syns;         /* SYN packets, the first included */
    uint8_t first_ttl;     /* TTL of the first SYN (0 when unknown) */
    struct evidence syn;   /* the first SYN (role EV_SYN) */
    struct evidence retry; /* the last retransmitted SYN (role EV_SYN_RETRY), when syns > 1 */
    uint8_t outcome;       /* enum tcp_outcome */
    bool late;             /* the answer came after the timeout had passed */
    struct evidence reply; /* SYN-ACK, RST or ICMP error */
    int64_t rtt_us;        /* reply time minus the last SYN before it */
    int64_t elapsed_us;    /* reply time minus the first SYN */
    uint8_t icmp_kind;     /* TCP_ICMP_ERROR: enum icmp_kind */
    uint8_t icmp_sender;   /* TCP_ICMP_ERROR: enum icmp_sender */
    /* TCP_ESTABLISHED without the server's SYN-ACK in the capture: the client acknowledged it
     * (an ACK or data on the same connection after its SYN, reply holds that packet), so the
     * handshake completed on a path or direction the capture did not see. */
    bool synack_unseen;
};

/* An ICMP error, matched or not. lookup is the lookup it was tied to, valid only during the
 * callback (NULL when it quotes traffic not seen in the capture). */
struct icmp_event {
    const struct evidence *ev;
    uint8_t kind;         /* enum icmp_kind */
    uint8_t sender;       /* enum icmp_sender */
    bool about_dns;       /* the quoted datagram was DNS (port 53 or a quoted DNS header) */
    bool quotes_response; /* the quoted datagram was a response (server to client) */
    bool foreign_answer;  /* ... from another address than the lookup's server (see
                             dns_lookup.foreign_answers) */
    const struct dns_lookup *lookup;
    /* The TCP connection attempt it quotes, when not a DNS lookup (valid during the callback). */
    const struct tcp_attempt *attempt;
};

/* A DNS response that answers no lookup in the capture (counted in unsolicited_responses). */
struct stray_response {
    const struct evidence *ev; /* the response (role EV_ANSWER) */
    /* A lookup still waiting, from the same client and port with the same DNS id (and question,
     * when the response shows one), sent to another server address: the answer came back from
     * an address other than the one queried (NAT, a multi-homed server). NULL otherwise. */
    const struct dns_lookup *queried;
};

/* A DNS message over UDP to or from port 53, captured whole, in which the decoder found the
 * DNS layer malformed (DNS anomalies other than bytes after the last record). Messages cut by
 * the capture's snapshot length, and first fragments, are not reported: what is missing there
 * was never captured, so it proves nothing about the message. */
struct dns_malformed {
    const struct evidence *ev; /* the packet (role EV_PACKET); has_dns is false when even the
                                  12-byte header did not fit */
    bool to_server;            /* sent to port 53 (else sent from it) */
    uint8_t n_anomalies;
    const uint8_t *anomalies; /* enum nt_anomaly, DNS layer only, in the order found */
};

/* What the correlator made of the packet it was given last (correlate_relation): how it
 * relates to the packets before it, as facts for `nettriage explain`. Packets the correlator
 * does not follow (no DNS, no ICMP error) have kind REL_NONE. */
enum pkt_relation_kind {
    REL_NONE = 0,
    REL_QUERY,          /* the first query of a new lookup */
    REL_RETRANSMISSION, /* a repeat of a lookup's query (transmission > 1) */
    REL_ANSWER,         /* the first response to a lookup */
    REL_DUP_ANSWER,     /* a response to a lookup already answered */
    REL_STRAY_ANSWER,   /* a response that answers no lookup in the capture */
    REL_ICMP_QUERY,     /* an ICMP error quoting a lookup's query */
    REL_ICMP_NO_QUERY,  /* ... quoting a DNS query that is not in the capture (from_quote) */
    REL_ICMP_RESPONSE,  /* an ICMP error quoting a response to a lookup */
    REL_ICMP_TCP,       /* an ICMP error quoting a TCP connection attempt */
    REL_ICMP_UNMATCHED, /* an ICMP error tied to no lookup or TCP attempt followed */
    REL_LOCAL_NAME,     /* mDNS or LLMNR, not a lookup to a server */
    /* TCP connection attempts (first_* is the attempt's first SYN, transmission its SYNs) */
    REL_SYN,           /* the first SYN of an attempt */
    REL_SYN_RETRY,     /* the same SYN again (same 4-tuple and initial sequence number) */
    REL_SYNACK,        /* the server's SYN-ACK answering it */
    REL_RST,           /* the server's RST answering it (refused) */
    REL_ACK_NO_SYNACK, /* the client's ACK after its SYN, the SYN-ACK not captured */
};
struct pkt_relation {
    uint8_t kind;         /* enum pkt_relation_kind */
    uint64_t lookup_seq;  /* the lookup's seq (dns_lookup.seq); 0 when none */
    uint64_t attempt_seq; /* the TCP attempt's seq (tcp_attempt.seq); 0 when none */
    /* The lookup's first query: its packet number and, for text input, its first line (both 0
     * when the query is not in the capture). */
    uint64_t first_pkt, first_line;
    /* The lookup's latest transmission before this packet (as dns_lookup.last_pkt). */
    uint64_t last_pkt, last_line;
    uint32_t transmission;  /* REL_QUERY 1, REL_RETRANSMISSION 2, 3, ... */
    uint32_t transmissions; /* the lookup's query packets so far */
    /* The size of the IP datagram of the lookup's first query over UDP (IP and UDP headers
     * without options plus the DNS message): what an ICMP error quoting it quotes from. 0 when
     * unknown. */
    uint32_t query_ip_len;
    uint32_t error_no;      /* ICMP errors: this is the lookup's error number error_no */
    bool has_time;          /* the delays below are measured (both packets carry a time) */
    int64_t since_first_us; /* from the lookup's first query */
    int64_t since_last_us;  /* from the query transmission before this packet */
    bool late;              /* an answer or error after the timeout had passed */
    uint8_t sender;         /* ICMP: enum icmp_sender */
    uint16_t rcode;         /* answers: the response's rcode */
};

struct correlate_config {
    int64_t timeout_us;     /* silence longer than this makes a lookup unanswered */
    int64_t late_window_us; /* how long after its last query a lookup still takes a late answer or
                               error */
    int64_t retransmit_window_us; /* a repeat of the same query within this gap of the previous
                                     transmission, with no outcome yet, is a retransmission */
    uint32_t max_open;            /* bound on open lookups; the one due first is closed early past
                                     it (counted in evicted) */
    int64_t answer_guard_us;      /* how long an answered lookup stays to catch duplicate answers
                                     and the client's ICMP errors about the answer */
    uint32_t max_tcp_open;        /* bound on open TCP connection attempts (tcp_evicted) */
    uint32_t max_per_key;         /* open lookups of one key (CORRELATE_KEY_MAX; key_evicted) */
    uint32_t max_dns_conns;       /* DNS-over-TCP connections followed (DNSCONN_MAX) */
    uint32_t max_hosts_seen;      /* hosts counted for one-sidedness (SIDES_MAX_HOSTS) */
    /* Keep each packet's relation for correlate_relation (default true). Only explain reads
     * it: false spares every packet its clearing and every DNS packet its relation (about 75
     * instructions a DNS packet), and correlate_relation then returns NULL. */
    bool relations;
};

/* Defaults: timeout 5 s, late window max(120 s, timeout), retransmit window 2 x timeout,
 * 1,000,000 open lookups, answer guard 1 s. */
void correlate_config_default(struct correlate_config *cfg, int64_t timeout_us);

struct correlate_stats {
    uint64_t packets;
    uint64_t dns_queries; /* query packets, retransmissions included */
    uint64_t dns_responses;
    uint64_t dns_lookups;
    uint64_t lookups_from_quotes; /* lookups known only from the query an ICMP error quotes
                                     (not in dns_lookups) */
    uint64_t answered;
    uint64_t icmp_errors;  /* ICMP error packets of any kind */
    uint64_t icmp_matched; /* tied to a lookup */
    uint64_t unanswered;
    uint64_t capture_ended;
    uint64_t unsolicited_responses; /* responses that match no query seen */
    uint64_t dns_malformed;         /* struct dns_malformed messages */
    uint64_t evicted;               /* lookups closed early because max_open was reached */
    uint64_t tcp_attempts;          /* TCP connection attempts (first SYNs) */
    uint64_t tcp_syn_packets;       /* SYN packets, retransmissions included */
    uint64_t tcp_established, tcp_reset, tcp_icmp, tcp_unanswered, tcp_capture_ended;
    uint64_t tcp_evicted;
    /* Lookups closed early because CORRELATE_KEY_MAX lookups of one key (client, server, server
     * port, transport, DNS id) were open: the oldest of the key goes. */
    uint64_t key_evicted;
    /* Local name protocols, recognised and never taken for DNS lookups to a server: mDNS (5353)
     * and LLMNR (5355) messages, NetBIOS name service (UDP 137) packets. */
    uint64_t mdns_messages, llmnr_messages, nbns_packets;
    struct nt_time first_ts, last_ts; /* of all packets with a time */
    /* Clock steps: a packet stamped more than CORRELATE_STEP_BACK_US before the packet before it
     * (merged or concatenated captures), or a jump ahead of more than an hour confirmed by the
     * next packet. Correlation goes on along a clock that never runs backwards (see
     * correlate.c); the first few steps are kept for the report. */
    uint64_t clock_steps;
    uint8_t n_clock_steps_kept;
    struct clock_step {
        uint32_t input;
        uint64_t pkt;            /* number of the packet after the step */
        struct nt_time from, to; /* stamp of the packet before the step, and of this one */
    } clock_steps_kept[CORRELATE_STEPS_KEPT];
    uint64_t open_peak; /* most lookups open at once */
    /* lookups made compact while they waited past their timeout (storage only; see
     * correlate_internal.h) */
    uint64_t lookups_compacted;
    /* The other bounds of the correlator (--bound correlate.*): DNS-over-TCP connections
     * forgotten to make room, and packets of hosts past the bound of hosts counted for
     * one-sidedness (those hosts are never judged one-sided). */
    uint64_t dns_conns_forgotten, hosts_seen_not_counted;
    /* Hosts the capture holds one direction of (correlate/sides.h): no packet addressed to the
     * host, yet at least one of its TCP connections went on after its SYN without the SYN-ACK in
     * the capture (synack_unseen), which proves packets reached it uncaptured. Judged over every
     * input read so far, at each correlate_finish; the first few kept, most packets sent
     * first. */
    uint64_t one_sided_hosts;
    uint8_t n_one_sided_kept;
    struct one_sided_host {
        struct nt_addr host;
        uint64_t sent;          /* packets from it in the capture */
        uint64_t synack_unseen; /* its TCP connections established without a captured SYN-ACK */
    } one_sided[CORRELATE_ONE_SIDED_KEPT];
};

struct correlate_callbacks {
    void *ctx;
    /* Called once per lookup when its outcome is final: an answered lookup once the answer guard
     * has passed, one with an ICMP error once the timeout and the guard have, a silent one after
     * the late window, and every open one at correlate_finish. Lookups are closed in the order
     * of those deadlines (ties in creation order), at correlate_finish in creation order. The
     * lookup is freed after the call. */
    void (*on_lookup)(void *ctx, const struct dns_lookup *l);
    /* Optional: called instead of on_lookup, when set, for a lookup whose evidence lives in the
     * correlator's own blocks (every lookup but a silent one kept compact, whose evidence is
     * decoded for the call). As on_lookup, but the callee may move the store and text out of
     * l's query, answer and error evidence (evidence_lend) and keep them past the call; it
     * gives each back with correlate_give_back, on the correlator's thread and before
     * correlate_free. What it leaves in l is freed after the call, as with on_lookup. */
    void (*on_lookup_lend)(void *ctx, struct dns_lookup *l);
    /* Called for every ICMP error packet, after it was matched. */
    void (*on_icmp_error)(void *ctx, const struct icmp_event *e);
    /* Called for every DNS response that answers no lookup (valid during the call). */
    void (*on_stray_response)(void *ctx, const struct stray_response *r);
    /* Called for every malformed DNS message (valid during the call); also counted in
     * correlate_stats.dns_malformed. */
    void (*on_dns_malformed)(void *ctx, const struct dns_malformed *m);
    /* Called once per TCP connection attempt when its outcome is final (at once for an answer,
     * after the late window or at correlate_finish otherwise). Freed after the call. */
    void (*on_tcp_attempt)(void *ctx, const struct tcp_attempt *t);
};

struct correlator;

struct correlator *correlate_new(const struct correlate_config *cfg,
                                 const struct correlate_callbacks *cb);
/* Feeds one packet from input number `input`. Returns NT_OK or NT_ERR_NOMEM. */
int correlate_packet(struct correlator *c, const struct packet *pkt, uint32_t input);
/* No packet came, and the time is now ts (a live capture on a quiet link: the last packet's stamp
 * plus the time waited since): the clock moves on as a packet stamped ts would move it, and what
 * is due by then becomes final (timeouts, the answer guard, the late window), without a packet
 * counted or a stamp widening the capture's span. Ignored when ts is not later than the clock,
 * is an hour or more ahead (a jump waits for packets), or before the first stamp. */
void correlate_idle(struct correlator *c, const struct nt_time *ts);
/* Closes every open lookup (end of an input): each becomes final. */
void correlate_finish(struct correlator *c);
const struct correlate_stats *correlate_stats(const struct correlator *c);
/* How the packet last given to correlate_packet relates to the others (valid until the next
 * call); NULL without correlate_config.relations. */
const struct pkt_relation *correlate_relation(const struct correlator *c);
/* Gives back evidence lent by on_lookup_lend (its store to the correlator's pool). */
void correlate_give_back(struct correlator *c, struct evidence_loan *loan);
void correlate_free(struct correlator *c);

const char *lookup_outcome_name(enum lookup_outcome o); /* "answered", "icmp_error", ... */
const char *icmp_sender_name(enum icmp_sender s);       /* "server", "path", "client", ... */
const char *tcp_outcome_name(enum tcp_outcome o);       /* "established", "reset", ... */

#endif
