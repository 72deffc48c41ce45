/* dns_icmp.h: what the rules about DNS lookups refused by an ICMP error share: one finding per
 * server, the measures taken per failing lookup, and the key-finding sentences. */
#ifndef NT_DETECT_DNS_ICMP_H
#define NT_DETECT_DNS_ICMP_H

#include "detect/rule.h"

#define DNS_ICMP_SENDERS_KEPT 8

/* Measured per finding while its lookups arrive (finding->priv). */
struct dns_icmp_acc {
    struct nt_time first_query, last_query, first_error, last_error;
    int64_t min_delay_us, max_delay_us; /* from the transmission each error answers */
    uint64_t n_delay;
    uint64_t by_id;      /* errors matched through the quoted DNS id */
    uint64_t with_quote; /* errors whose quoted datagram was read (pcap or tcpdump -v) */
    uint64_t from_quote; /* lookups whose query is not in the capture, known from the quote */
    uint64_t from_quote_errors; /* their errors: each refused one query datagram */
    uint8_t ip_version;
    uint8_t icmp_type, icmp_code;                  /* of the first error */
    struct nt_addr senders[DNS_ICMP_SENDERS_KEPT]; /* hosts that sent the errors */
    size_t n_senders;
    bool senders_from_server; /* at least one error came from the server itself */
    bool senders_from_path;   /* at least one came from another host */
};

/* Adds a failing lookup to the calling rule's finding for its server (created on first use).
 * Returns the finding, or NULL on out of memory. */
struct finding *dns_icmp_add(struct rule_ctx *rc, const struct dns_lookup *l);

/* Values the rules put into sentences. Values inside commands (between backticks) must be
 * the *_cmd forms or go through text_shell_word / text_shell_query. */
struct dns_icmp_words {
    char srv[NT_ADDR_FMT_MAX];
    char srv_cmd[NT_ADDR_FMT_MAX * 2 + 8]; /* the server as one shell word, for commands */
    char clients[512];
    char names[512];
    char senders[512];
    char icmp[160];    /* "ICMP type 3, code 3: destination unreachable, port unreachable" */
    char delays[160];  /* ", 20 µs to 27 µs after the queries" or "" */
    const char *proto; /* "udp" */
    const char *PROTO; /* "UDP" */
    uint64_t answered, all_lookups; /* of the same server, from the detector's statistics */
    const struct server_stats *ss;
    /* The detector kept the server's figures (rule_service_kept): when false, ss is NULL and
     * answered and all_lookups are this finding's own (0 answered, its lookups), not the
     * server's, and no sentence may state them as the server's. */
    bool kept;
};
void dns_icmp_words(struct rule_ctx *rc, const struct finding *f, struct dns_icmp_words *w);

/* The key findings every such rule states: queries and their span, errors with their delays
 * and senders, how they were matched, late errors, and whether the server answered others. */
void dns_icmp_add_facts(struct rule_ctx *rc, struct finding *f, const struct dns_icmp_words *w);

#endif
