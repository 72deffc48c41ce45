/* evidence.h: a compact, owned copy of the facts of one packet that a finding cites (its line,
 * addresses, DNS header and question, ICMP message and quote), outliving the packet. */
#ifndef NT_CORRELATE_EVIDENCE_H
#define NT_CORRELATE_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

enum evidence_role {
    EV_QUERY = 1,
    EV_RETRANSMISSION,
    EV_ANSWER,
    EV_ICMP_ERROR,
    EV_SYN,       /* the first SYN of a TCP connection attempt */
    EV_SYN_RETRY, /* a retransmitted SYN */
    EV_SYNACK,    /* the SYN-ACK completing the handshake */
    EV_RESET,     /* a RST answering a SYN */
    EV_PACKET,    /* any other packet a finding cites */
};

/* One answer-section record of a DNS response kept by the evidence (presentation form, but
 * for an address kept as bytes: read the data through evidence_rr_data). */
struct evidence_rr {
    char *name; /* in the evidence's store */
    uint16_t type, rclass;
    uint32_t ttl;
    char *data;       /* in the evidence's store; as struct dns_rr.rdata, or addr_len bytes */
    uint8_t addr_len; /* as struct dns_rr.addr_len: 4 or 16 when data is an address's bytes */
};

/* The record's data as text (NULL when it has none): data, or the address's text written into
 * buf (DNS_RR_ADDR_TEXT_MAX bytes). */
static inline const char *evidence_rr_data(const struct evidence_rr *a, char *buf)
{
    return a->data ? dns_rr_data_text(a->data, a->addr_len, buf) : NULL;
}

struct evidence {
    uint32_t input;   /* index of the input it came from */
    uint64_t pkt;     /* packet (record) number within that input */
    uint64_t line_no; /* text inputs: first line of the record; 0 otherwise */
    /* The packet number of the first packet of the exchange this one belongs to (a lookup's
     * first query, an attempt's first SYN); pkt when none. A finding that can cite only so
     * many packets keeps those of the earliest exchanges, whole, whatever order they closed
     * in. */
    uint64_t order_pkt;
    struct nt_time ts;
    uint8_t role; /* enum evidence_role */
    /* The record as read (tcpdump text), or for a captured packet its tcpdump -nn line; owned.
     * For captured packets it is NULL until report prints it from the frame below
     * (report/evline.c), so no line is formatted for the many packets never printed. */
    char *text;
    bool from_text; /* text came from tcpdump text, not from captured bytes */
    /* The store (below) came from an evidence_pool, in this size class (0: from malloc).
     * Either way free() may release it. */
    uint8_t store_class;
    /* One owned block holding frame, qname and answers (with their strings), so that keeping a
     * packet's facts costs one allocation; NULL when none of them is set. Laid out by
     * evidence_store_put alone (below). */
    void *store;
    /* Captured packets: a copy of the bytes the packet was decoded from (at most
     * EVIDENCE_FRAME_MAX), their length on the wire and link type; NULL when text was set at
     * once instead (packets whose view the flow stage changed, or longer frames). */
    uint8_t *frame; /* in store */
    uint32_t frame_len, frame_wirelen;
    int frame_linktype;

    uint8_t ip_version;
    struct nt_addr src, dst;
    uint8_t ttl; /* TTL or hop limit (0 when unknown, as in tcpdump text without -v) */
    uint8_t proto;
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint32_t tcp_seq;

    bool has_dns;
    uint16_t dns_id, dns_flags, rcode;
    uint16_t qdcount, ancount, nscount, arcount;
    bool has_opt;
    bool has_question;
    char *qname; /* in store, presentation form; NULL without a question */
    uint16_t qtype, qclass;
    uint32_t dns_len;
    /* Role EV_ANSWER only: the answer-section records the decoder kept (at most
     * DNS_MAX_KEPT_RR), for exports such as ECS dns.answers. */
    struct evidence_rr *answers; /* in store */
    uint8_t n_answers;

    uint8_t icmp_type, icmp_code, icmp_kind;
    uint32_t icmp_len;
    uint32_t icmp_mtu; /* next-hop MTU of frag needed / packet too big (0 when not given) */
    bool quote_present, quote_has_ports, quote_has_dns;
    struct nt_addr q_src, q_dst;
    uint8_t q_proto;
    uint16_t q_sport, q_dport, q_dns_id;
    uint32_t q_total_len; /* the quoted IP header's total length (IPv6: 40 + payload); 0 unknown */
};

/* The role's stable id ("query", "retransmission", "answer", "icmp_error"; NULL if unknown)
 * and its label for people ("query", ..., "ICMP error"). */
const char *evidence_role_id(uint8_t role);
const char *evidence_role_label(uint8_t role);

/* The largest frame evidence keeps for printing later; a longer packet's line is made at once. */
#define EVIDENCE_FRAME_MAX 4096
/* The longest evidence line kept. */
#define EVIDENCE_LINE_MAX 2048

/* Fills ev from pkt (copying what it keeps). Returns false on out of memory (ev is then empty
 * but safe to evidence_fini). */
bool evidence_from_packet(struct evidence *ev, const struct packet *pkt, uint32_t input,
                          enum evidence_role role);

/* Stores of the evidence one owner keeps many of and releases all the time (the correlator's
 * lookups): blocks of a few sizes kept for reuse once released, which spares malloc and free
 * most of their work. Each block is its own malloc block, so evidence_fini still frees one. */
#define EVIDENCE_POOL_STEP    32
#define EVIDENCE_POOL_CLASSES 48   /* blocks of 32, 64, ... 1536 bytes; larger ones malloc */
#define EVIDENCE_POOL_KEEP    1024 /* blocks kept per size at most */
struct evidence_pool {
    void *free[EVIDENCE_POOL_CLASSES + 1];
    uint32_t n_free[EVIDENCE_POOL_CLASSES + 1];
};
/* evidence_from_packet with the store from pool (NULL: malloc). */
bool evidence_from_packet_pooled(struct evidence *ev, const struct packet *pkt, uint32_t input,
                                 enum evidence_role role, struct evidence_pool *pool);
/* evidence_fini, giving a pooled store back to pool for reuse. */
void evidence_release(struct evidence *ev, struct evidence_pool *pool);
/* The pool's blocks for other uses: a block of at least size bytes (NULL out of memory), *cls
 * set to its size class (0: from malloc); and a block given back (free()d when cls is 0 or
 * the pool keeps enough of its size). */
void *evidence_pool_get(struct evidence_pool *pool, size_t size, uint8_t *cls);
void evidence_pool_put(struct evidence_pool *pool, void *block, uint8_t cls);
/* Frees the blocks pool keeps. */
void evidence_pool_fini(struct evidence_pool *pool);
/* The one layout of an evidence's store: n_ans answer records (struct evidence_rr), tail bytes
 * (their strings), the name (its bytes and a '\0'), then the frame (ev->frame_len bytes; an
 * empty frame still takes one, never read). A store without answer records thus holds only
 * its name and frame, and put again from them it is the same store (entry.c's compact entries
 * keep no more). evidence_store_size: its bytes (frame and name NULL when there is none;
 * name_len without the '\0'); evidence_store_put: lays it out in block (that many bytes, apart
 * from frame and name), copying the name and the frame, and sets ev's store and, for what it
 * holds, answers, qname and frame (the others stay as they were: NULL); returns where the tail
 * starts, for the caller to write the records and their strings. */
size_t evidence_store_size(const struct evidence *ev, size_t n_ans, const uint8_t *frame,
                           const char *name, size_t name_len, size_t tail);
char *evidence_store_put(struct evidence *ev, void *block, size_t n_ans, const uint8_t *frame,
                         const char *name, size_t name_len, size_t tail);
/* What an evidence owns (its store, from a pool's size class or malloc, and its text), moved
 * out of it to be kept elsewhere for a while: the pipeline lends a closed lookup's evidence to
 * the detector's thread instead of copying it (pipeline/handoff.h). evidence_lend: moves ev's
 * store and text into *loan; ev then owns nothing (releasing it frees nothing) but its
 * pointers into the store stay as they were, valid while the loan is kept. evidence_loan_end:
 * the store back to pool (as evidence_release gives it), the text freed; *loan then holds
 * nothing. */
struct evidence_loan {
    void *store;
    char *text;
    uint8_t store_class;
};
void evidence_lend(struct evidence *ev, struct evidence_loan *loan);
void evidence_loan_end(struct evidence_loan *loan, struct evidence_pool *pool);
/* Deep copy. Returns false on out of memory. */
bool evidence_copy(struct evidence *dst, const struct evidence *src);
/* A deep copy into memory the caller owns (the pipeline's hand-off to the detector's thread):
 * evidence_copy_plan measures it (and returns its bytes, a multiple of 8), evidence_copy_into
 * then writes dst's store and text into buf (that many bytes, 8-aligned) and returns them. src
 * must not change between the two. dst owns nothing: never evidence_fini it; it lives as long
 * as buf. A store laid out by evidence_store_put is copied whole, its pointers moved. */
struct evidence_copy_plan {
    size_t bytes;
    size_t whole; /* the store's bytes when copied whole, else 0 */
    size_t text;  /* the text's bytes with its '\0' (0: none) */
    bool parts;   /* a store of some other layout: copied part by part */
};
size_t evidence_copy_plan(const struct evidence *src, struct evidence_copy_plan *plan);
size_t evidence_copy_into(struct evidence *dst, const struct evidence *src,
                          const struct evidence_copy_plan *plan, void *buf);
void evidence_fini(struct evidence *ev);

#endif
