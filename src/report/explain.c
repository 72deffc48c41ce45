/* explain.c: `nettriage explain` (see explain.h). The readings of a line's fields are the
 * report appendix's (analysis_explain_fields), built from the decoded values of the packet; the
 * readings of what the line does not show, of a response's rcode and records, and of how the
 * packet relates to others come from the facts the correlator kept (struct pkt_relation, the
 * final struct dns_lookup), never from matching packets again here. Everything written that
 * came from the input goes through esc_term. */
#include "report/explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/evidence.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "report/evline.h"
#include "report/jsonw.h"
#include "source/source.h"
#include "util/htab.h"
#include "util/strbuf.h"

enum { XI_PACKET = 1, XI_UNREAD };

/* The key of a TCP attempt among the lookups' seqs (struct xlk.seq). */
#define ATTEMPT_KEY (UINT64_C(1) << 63)

/* A lookup some held packet waits for. */
struct xlk {
    uint64_t seq;
    uint32_t items; /* held packets that wait for it */
    bool final, failed;
    char *outcome; /* the outcome sentence, once final */
};

struct xitem {
    uint8_t kind;
    bool problem;  /* evidence of a failure, known from the packet itself */
    bool is_query; /* its reading ends with the lookup's outcome */
    uint64_t line_no;
    struct xlk *lk;   /* the lookup it waits for, NULL when none */
    char *head;       /* "line 3  <the line>" (escaped) */
    char *body;       /* the readings, wrapped and escaped (JSON: NULL, all in head) */
    char *lk_outcome; /* emit's copy of the lookup's outcome */
};

struct explainer {
    struct explain_config cfg;
    FILE *out;
    struct explain_counts n;
    struct xitem *q; /* held items, oldest at q[h] */
    size_t h, len, cap;
    struct htab lks; /* struct xlk by seq */
    struct packet *scratch;
    bool text_input, kind_known;
    /* --only-problems: held packets that will be left out (their lookup was answered), dropped
     * from the queue in one pass when they are many (compact) and not counted against
     * max_pending */
    size_t dead;
    bool oom;
};

/* A formatted heap string (NULL when out of memory). */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

void explain_duration(int64_t us, char *buf, size_t n)
{
    if (us < 0)
        us = 0;
    if (us < 100)
        snprintf(buf, n, "less than 0.1 ms");
    else if (us < 1000000)
        snprintf(buf, n, "%.1f ms", (double)us / 1000.0);
    else if (us < 60000000)
        snprintf(buf, n, "%.1f s", (double)us / 1e6);
    else
        snprintf(buf, n, "%" PRId64 " min %" PRId64 " s", us / 60000000,
                 (us % 60000000 + 500000) / 1000000);
}

/* "line 3" (text input: the record's first line) or "packet 3". */
static void where(char *buf, size_t n, bool text_input, uint64_t line, uint64_t pkt)
{
    if (text_input && line)
        snprintf(buf, n, "line %" PRIu64, line);
    else
        snprintf(buf, n, "packet %" PRIu64, pkt);
}

/* Appends a reading: token (may be NULL for a reading of the whole line) = meaning (taken). */
static bool push(struct explain_line *l, const char *token, char *meaning)
{
    if (!meaning)
        return false;
    struct explain_part *np = realloc(l->parts, (l->n_parts + 1) * sizeof *np);
    char *t = token ? strdup(token) : NULL;
    if (!np || (token && !t)) {
        if (np)
            l->parts = np;
        free(t);
        free(meaning);
        return false;
    }
    l->parts = np;
    l->parts[l->n_parts].token = t;
    l->parts[l->n_parts].meaning = meaning;
    l->n_parts++;
    return true;
}

static const char *rcode_meaning(uint16_t rcode)
{
    switch (rcode) {
    case 0:
        return "no error: the server answered the question (tcpdump prints no word for it)";
    case 1:
        return "format error (FormErr): the server could not read the query";
    case 2:
        return "server failure (ServFail): the server could not get an answer, often because "
               "the servers it asks in turn failed or DNSSEC validation failed";
    case 3:
        return "the name does not exist (NXDomain), as the server knows it";
    case 4:
        return "not implemented (NotImp): the server does not support this kind of query";
    case 5:
        return "refused (Refused): the server will not answer this client or this question, "
               "by its policy";
    default:
        return "an error code other than the common ones";
    }
}

/* Does the line hold tok as a whole word? */
static bool has_word(const char *line, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = line; p && (p = strstr(p, tok)) != NULL; p++)
        if ((p == line || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* Readings of a DNS response: its rcode, its record counts and the answers kept. */
static bool response_parts(struct explain_line *l, const struct evidence *ev)
{
    char rb[16], tb[16];
    const char *rname = dns_rcode_name(ev->rcode, rb, sizeof rb);
    const char *shown = NULL;
    static const char *const words[] = {"", "FormErr", "ServFail", "NXDomain", "NotImp", "Refused"};
    if (ev->rcode < 6 && ev->rcode && l->text && has_word(l->text, words[ev->rcode]))
        shown = words[ev->rcode];
    if (!push(l, shown,
              fmt("The response code is %s (%u): %s.", rname, ev->rcode, rcode_meaning(ev->rcode))))
        return false;
    char counts[48];
    snprintf(counts, sizeof counts, "%u/%u/%u", ev->ancount, ev->nscount, ev->arcount);
    if (!push(l, l->text && has_word(l->text, counts) ? counts : NULL,
              fmt("The response carries %u answer record%s, %u authority record%s and %u "
                  "additional record%s%s.",
                  ev->ancount, ev->ancount == 1 ? "" : "s", ev->nscount,
                  ev->nscount == 1 ? "" : "s", ev->arcount, ev->arcount == 1 ? "" : "s",
                  ev->ancount == 0 && ev->rcode == 0
                      ? ": no answer to the question, though the name exists (NODATA)"
                      : "")))
        return false;
    for (uint8_t i = 0; i < ev->n_answers; i++) {
        const struct evidence_rr *r = &ev->answers[i];
        char data[DNS_RR_ADDR_TEXT_MAX];
        const char *text = evidence_rr_data(r, data);
        if (!push(l, NULL,
                  fmt("Answer record %u: %s %s %s, which the client may keep for %u s (its "
                      "TTL).",
                      i + 1u, r->name ? r->name : "?", dns_type_name(r->type, tb, sizeof tb),
                      text ? text : "", r->ttl)))
            return false;
    }
    return true;
}

/* Readings of what the line does not show, and of the IP TTL. */
static bool missing_parts(struct explain_line *l, const struct evidence *ev)
{
    if (ev->ts.kind == NT_TIME_NONE &&
        !push(l, NULL,
              fmt("Time: not shown in this line (tcpdump -t prints none), so no delay to or from "
                  "this packet can be measured.")))
        return false;
    if (ev->ip_version) {
        if (ev->ttl)
            return push(l, NULL,
                        fmt("TTL %u: how many more routers the packet could cross before being "
                            "dropped; senders start at 64, 128 or 255, so it hints at the "
                            "sender's system and distance.",
                            ev->ttl));
        if (!push(l, NULL,
                  fmt("TTL: not shown in this line (tcpdump prints it only with -v), so "
                      "nothing is known of it.")))
            return false;
    }
    if (ev->role == EV_ICMP_ERROR && !ev->quote_has_dns && ev->q_dport == 53 &&
        !push(l, NULL,
              fmt("The DNS id and question of the quoted query: not shown in this line (tcpdump "
                  "prints the quoted datagram in full only with -v), so the error is tied to its "
                  "query by addresses, protocol and port only.")))
        return false;
    return true;
}

static const char *sender_role(uint8_t s)
{
    switch (s) {
    case ICMP_SENDER_SERVER:
        return "the DNS server itself, reporting the error";
    case ICMP_SENDER_PATH:
        return "a host on the path, a router or firewall, reporting the error";
    case ICMP_SENDER_CLIENT:
        return "the client, rejecting the server's answer";
    default:
        return "the host reporting the error";
    }
}

static char *relation_sentence(const struct pkt_relation *r, bool text_input)
{
    char first[40], last[40], d1[32], d2[32];
    where(first, sizeof first, text_input, r->first_line, r->first_pkt);
    where(last, sizeof last, text_input, r->last_line, r->last_pkt);
    explain_duration(r->since_first_us, d1, sizeof d1);
    explain_duration(r->since_last_us, d2, sizeof d2);
    bool t = r->has_time;
    const char *late = r->late ? ", after the timeout had passed (late)" : "";
    switch ((enum pkt_relation_kind)r->kind) {
    case REL_QUERY:
        return fmt("Relation: the first query of a new lookup; the packets that repeat, answer "
                   "or refuse it refer back to this %s.",
                   text_input ? "line" : "packet");
    case REL_RETRANSMISSION:
        if (!t)
            return fmt("Relation: retransmission %u of the query on %s (the same question "
                       "with the same id, sent again while no answer or error had come).",
                       r->transmission - 1, first);
        return fmt("Relation: retransmission %u of the query on %s, %s after the previous "
                   "transmission and %s after the first, sent again because no answer or error "
                   "had come.",
                   r->transmission - 1, first, d2, d1);
    case REL_ANSWER:
        if (!t)
            return fmt("Relation: the answer to the query on %s%s.", first, late);
        if (r->last_pkt != r->first_pkt)
            return fmt("Relation: the answer to the query on %s, %s after its latest "
                       "transmission (on %s), %s after the first%s.",
                       first, d2, last, d1, late);
        return fmt("Relation: the answer to the query on %s, %s later%s.", first, d2, late);
    case REL_DUP_ANSWER:
        return fmt("Relation: another answer to the query on %s, which was already answered "
                   "(a duplicate).",
                   first);
    case REL_STRAY_ANSWER:
        return fmt("Relation: a response that answers no query in this input: its query was "
                   "not captured, or nobody asked (unsolicited).");
    case REL_ICMP_QUERY:
        if (!t)
            return fmt("Relation: the ICMP error answering the query on %s (error %u of that "
                       "lookup%s).",
                       first, r->error_no,
                       r->last_pkt != r->first_pkt ? ", which was repeated" : "");
        if (r->last_pkt != r->first_pkt)
            return fmt("Relation: the ICMP error answering the query on %s, %s after its "
                       "latest transmission (on %s) and %s after the first (error %u of that "
                       "lookup)%s.",
                       first, d2, last, d1, r->error_no, late);
        return fmt("Relation: the ICMP error answering the query on %s, %s later (error %u of "
                   "that lookup)%s.",
                   first, d2, r->error_no, late);
    case REL_ICMP_NO_QUERY:
        return fmt("Relation: an ICMP error about a DNS query that is not in this input: the "
                   "query is known only from the copy the error quotes, and that lookup failed.");
    case REL_ICMP_RESPONSE:
        return fmt("Relation: an ICMP error about the answer to the query on %s: the answer "
                   "was sent back but not taken.",
                   first);
    case REL_ICMP_TCP:
        return fmt("Relation: the ICMP error answering the TCP connection attempt (SYN) on %s.",
                   first);
    case REL_ICMP_UNMATCHED:
        return fmt("Relation: an ICMP error that answers no DNS lookup or TCP connection attempt "
                   "in this input (nettriage follows only those: the datagram it quotes may be "
                   "among the other packets).");
    case REL_LOCAL_NAME:
        return fmt("Relation: a local name protocol (mDNS or LLMNR), which hosts on the link "
                   "answer among themselves; it is no lookup to a DNS server.");
    case REL_SYN:
        return fmt("Relation: the first SYN of a TCP connection attempt: the client asks to open "
                   "a connection; the SYN-ACK, RST or ICMP error that answers it refers back to "
                   "this %s.",
                   text_input ? "line" : "packet");
    case REL_SYN_RETRY:
        if (!t)
            return fmt("Relation: SYN retransmission %u of the connection attempt on %s (the "
                       "same SYN again: no answer had come).",
                       r->transmission - 1, first);
        return fmt("Relation: SYN retransmission %u of the connection attempt on %s, %s after "
                   "the previous SYN and %s after the first (the same SYN again: no answer had "
                   "come).",
                   r->transmission - 1, first, d2, d1);
    case REL_SYNACK:
        if (!t)
            return fmt("Relation: the server's SYN-ACK accepting the connection attempt on %s%s.",
                       first, late);
        return fmt("Relation: the server's SYN-ACK accepting the connection attempt on %s, %s "
                   "after its latest SYN%s.",
                   first, d2, late);
    case REL_RST:
        if (!t)
            return fmt("Relation: the RST refusing the connection attempt on %s: nothing listens "
                       "on that port, or a firewall rejects it%s.",
                       first, late);
        return fmt("Relation: the RST refusing the connection attempt on %s, %s after its latest "
                   "SYN: nothing listens on that port, or a firewall rejects it%s.",
                   first, d2, late);
    case REL_ACK_NO_SYNACK:
        return fmt("Relation: the client goes on after its SYN on %s, so it got a SYN-ACK that "
                   "this capture does not hold (one direction captured, or another path).",
                   first);
    case REL_NONE:
    default:
        return NULL;
    }
}

/* The evidence role that matches a relation (what the appendix calls the packet). */
static uint8_t role_of(const struct pkt_relation *r, const struct packet *pkt)
{
    switch ((enum pkt_relation_kind)r->kind) {
    case REL_QUERY:
        return EV_QUERY;
    case REL_RETRANSMISSION:
        return EV_RETRANSMISSION;
    case REL_ANSWER:
    case REL_DUP_ANSWER:
    case REL_STRAY_ANSWER:
        return EV_ANSWER;
    default:
        return (pkt->layers & PKT_L_ICMP) && pkt->icmp_is_error ? EV_ICMP_ERROR : EV_PACKET;
    }
}

static bool build_readings(struct explain_line *l, const struct evidence *ev,
                           const struct pkt_relation *r, bool text_input)
{
    const char *client = "the client", *server = "the DNS server";
    if (ev->role == EV_ICMP_ERROR) {
        client = r->sender == ICMP_SENDER_CLIENT ? "the DNS server that sent the answer"
                                                 : "the host that sent the datagram";
        server = sender_role(r->sender);
        /* Tied to nothing followed and not about port 53: no DNS server is involved. */
        if (r->kind == REL_ICMP_UNMATCHED && r->sender == ICMP_SENDER_SERVER && ev->q_dport != 53 &&
            ev->q_sport != 53)
            server = "the host the quoted datagram was sent to, reporting the error";
    } else if (ev->role == EV_PACKET) {
        client = server = ev->has_dns ? "a DNS host" : "a host";
    }
    /* The quoted datagram's size: its quoted IP header's total length when the line shows it
     * (-v), else that of the query the error answers. */
    uint32_t quoted = ev->q_total_len ? ev->q_total_len : r->query_ip_len;
    if (!analysis_explain_fields(l, ev, client, server, quoted))
        return false;
    if (ev->has_dns && (ev->dns_flags & DNS_FLAG_QR) && ev->role == EV_ANSWER &&
        !response_parts(l, ev))
        return false;
    if (!missing_parts(l, ev))
        return false;
    char *rel = relation_sentence(r, text_input);
    if (rel && !push(l, NULL, rel))
        return false;
    return true;
}

/* The outcome of an answered lookup: its first answer makes it final. */
static char *answered_outcome(uint32_t transmissions, const char *w, bool timed, int64_t elapsed_us,
                              uint16_t rcode)
{
    char d[32], tx[64] = "", kb[16];
    explain_duration(elapsed_us, d, sizeof d);
    if (transmissions > 1)
        snprintf(tx, sizeof tx, " (sent %u times in all)", transmissions);
    if (rcode)
        return fmt("Outcome: this lookup%s failed: the answer on %s%s%s says %s.", tx, w,
                   timed ? ", " : "", timed ? d : "", dns_rcode_name(rcode, kb, sizeof kb));
    return fmt("Outcome: this lookup%s was answered on %s%s%s%s.", tx, w, timed ? ", " : "",
               timed ? d : "", timed ? " after the first query" : "");
}

/* The sentence on a lookup's final outcome (unescaped), NULL on out of memory. */
static char *explain_outcome(const struct dns_lookup *l, bool text_input, int64_t timeout_us)
{
    char w[40], d[32], to[32];
    explain_duration(l->elapsed_us, d, sizeof d);
    explain_duration(timeout_us, to, sizeof to);
    bool timed = l->first_tx.kind != NT_TIME_NONE;
    uint32_t retx = l->transmissions ? l->transmissions - 1 : 0;
    char tx[64] = "";
    if (retx)
        snprintf(tx, sizeof tx, " (sent %u time%s in all)", l->transmissions,
                 l->transmissions == 1 ? "" : "s");
    switch ((enum lookup_outcome)l->outcome) {
    case LOOKUP_ANSWERED:
        where(w, sizeof w, text_input, l->answer.line_no, l->answer.pkt);
        return answered_outcome(l->transmissions, w, timed, l->elapsed_us, l->rcode);
    case LOOKUP_ICMP_ERROR: {
        where(w, sizeof w, text_input, l->error.line_no, l->error.pkt);
        char more[48] = "";
        if (l->n_errors > 1)
            snprintf(more, sizeof more, " (the first of %u errors)", l->n_errors);
        if (timed)
            return fmt("Outcome: this lookup%s failed: the ICMP error on %s%s (%s), %s after the "
                       "first query, refused it.",
                       tx, w, more, icmp_kind_name(l->icmp_kind), d);
        return fmt("Outcome: this lookup%s failed: the ICMP error on %s%s (%s) refused it.", tx, w,
                   more, icmp_kind_name(l->icmp_kind));
    }
    case LOOKUP_UNANSWERED:
        return fmt("Outcome: this lookup%s failed: no answer and no error came within the "
                   "timeout (%s) after its last transmission: unanswered.",
                   tx, to);
    case LOOKUP_CAPTURE_ENDED:
        return fmt("Outcome: the input ended less than the timeout (%s) after this lookup's "
                   "last transmission%s, before any answer: not counted as a failure.",
                   to, tx);
    default:
        return fmt("Outcome: not known.");
    }
}

/* ---- Writing ---- */

/* Columns of a UTF-8 string (one per code point). */
static size_t cols(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((uint8_t)s[i] & 0xc0) != 0x80;
    return c;
}

/* A unit after a number ("3.9 s", "23.0 ms"): kept on the number's line. */
static bool is_unit(const char *w, size_t n)
{
    while (n && (w[n - 1] == ',' || w[n - 1] == '.' || w[n - 1] == ')' || w[n - 1] == ';'))
        n--;
    return (n == 1 && w[0] == 's') || (n == 2 && memcmp(w, "ms", 2) == 0) ||
           (n == 3 && memcmp(w, "min", 3) == 0);
}

/* Appends text (already escaped) wrapped to EXPLAIN_WIDTH: the first line after `first`
 * columns already used, the others indented by `indent`. A word longer than a line
 * overflows. */
static void wrap(struct strbuf *o, const char *s, size_t first, size_t indent)
{
    size_t col = first;
    bool line_start = true;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && *e != ' ')
            e++;
        size_t w = cols(s, (size_t)(e - s));
        /* A number and its unit stay on one line: the unit's room counts with the number. */
        const char *u = e;
        while (*u == ' ')
            u++;
        const char *ue = u;
        while (*ue && *ue != ' ')
            ue++;
        size_t need =
            w + (ue > u && is_unit(u, (size_t)(ue - u)) ? 1 + cols(u, (size_t)(ue - u)) : 0);
        if (!line_start && col + 1 + need > EXPLAIN_WIDTH && !is_unit(s, (size_t)(e - s))) {
            strbuf_putc(o, '\n');
            for (size_t i = 0; i < indent; i++)
                strbuf_putc(o, ' ');
            col = indent;
            line_start = true;
        }
        if (!line_start) {
            strbuf_putc(o, ' ');
            col++;
        }
        strbuf_append(o, s, (size_t)(e - s));
        col += w;
        line_start = false;
        s = e;
    }
    strbuf_putc(o, '\n');
}

/* One reading: "  - TOKEN = meaning", wrapped, continuation lines indented by 4. */
static void reading(struct strbuf *o, const char *token, const char *meaning)
{
    struct strbuf e;
    strbuf_init(&e);
    if (token) {
        esc_term(&e, token, strlen(token));
        strbuf_puts(&e, " = ");
    }
    esc_term(&e, meaning, strlen(meaning));
    strbuf_puts(o, "  - ");
    wrap(o, strbuf_str(&e), 4, 4);
    o->oom |= e.oom;
    strbuf_fini(&e);
}

static uint64_t seq_hash(uint64_t seq)
{
    return htab_hash(&seq, sizeof seq);
}

static struct xlk *lk_find(struct explainer *x, uint64_t seq)
{
    struct htab_iter it;
    for (struct xlk *k = htab_find(&x->lks, seq_hash(seq), &it); k;
         k = htab_find_next(&x->lks, &it))
        if (k->seq == seq)
            return k;
    return NULL;
}

static void lk_release(struct explainer *x, struct xlk *k)
{
    /* Once no held packet waits for it, it goes (a lookup that becomes final later finds no
     * entry and is ignored), so the table never holds more than max_pending entries. */
    if (--k->items == 0) {
        htab_remove(&x->lks, seq_hash(k->seq), k);
        free(k->outcome);
        free(k);
    }
}

static void item_free(struct xitem *it)
{
    free(it->head);
    free(it->body);
    free(it->lk_outcome);
    memset(it, 0, sizeof *it);
}

/* A held packet --only-problems will leave out: one of an answered lookup's queries. */
static bool is_dead(const struct explainer *x, const struct xitem *it)
{
    return x->cfg.only_problems && it->kind == XI_PACKET && it->lk && it->lk->final &&
           !it->lk->failed && !it->problem;
}

/* Writes (or leaves out) the oldest held item. */
static void emit(struct explainer *x)
{
    struct xitem *it = &x->q[x->h];
    if (is_dead(x, it))
        x->dead--;
    bool problem = it->problem, unknown = false;
    struct strbuf o;
    strbuf_init(&o);
    if (it->lk) {
        if (it->lk->final) {
            problem |= it->lk->failed;
            if (it->is_query && it->lk->outcome) {
                reading(&o, NULL, it->lk->outcome);
                it->lk_outcome = strdup(it->lk->outcome);
                x->oom |= !it->lk_outcome;
            }
        } else {
            x->n.outcome_unknown++;
            unknown = true;
            char m[200];
            snprintf(m, sizeof m,
                     "Outcome: not known yet when this was written (explain holds at most %" PRIu64
                     " packets while a query waits for its outcome: --hold).",
                     x->cfg.max_pending);
            reading(&o, NULL, m);
        }
        lk_release(x, it->lk);
    }
    if (it->kind == XI_PACKET && problem)
        x->n.problems++;
    /* --only-problems shows a query whose outcome is not known rather than leave out what may
     * be evidence. */
    if (it->kind == XI_PACKET && x->cfg.only_problems && !problem && !unknown) {
        x->n.left_out++;
    } else {
        if (it->kind == XI_PACKET)
            x->n.shown++;
        fputs(it->head, x->out);
        if (x->cfg.json) {
            /* The object's last members: the outcome (a query's), whether it is evidence. */
            struct strbuf j;
            strbuf_init(&j);
            struct jsonw w;
            if (it->lk && it->is_query) {
                strbuf_puts(&j, ",\"outcome\":");
                jsonw_init(&w, &j, JSONW_COMPACT);
                if (unknown)
                    jsonw_null(&w);
                else
                    jsonw_str(&w, it->lk_outcome ? it->lk_outcome : "");
            }
            if (it->kind == XI_PACKET)
                strbuf_printf(&j, ",\"outcome_known\":%s,\"problem\":%s",
                              unknown ? "false" : "true", problem ? "true" : "false");
            strbuf_puts(&j, "}\n");
            fputs(strbuf_str(&j), x->out);
            x->oom |= j.oom;
            strbuf_fini(&j);
        } else {
            fputs(it->body, x->out);
            fputs(strbuf_str(&o), x->out);
            fputc('\n', x->out);
        }
    }
    x->oom |= o.oom;
    strbuf_fini(&o);
    item_free(it);
    x->h++;
    x->len--;
    if (x->len == 0)
        x->h = 0;
}

/* Drops the dead items (see struct explainer.dead), keeping the others in order. */
static void compact(struct explainer *x)
{
    size_t w = x->h;
    for (size_t i = x->h; i < x->h + x->len; i++) {
        struct xitem *it = &x->q[i];
        if (is_dead(x, it)) {
            x->n.left_out++;
            lk_release(x, it->lk);
            item_free(it);
        } else {
            x->q[w++] = *it;
        }
    }
    x->len = w - x->h;
    x->dead = 0;
}

/* Writes the held items whose readings are settled, in order; all: every one (the input
 * ended). */
static void flush(struct explainer *x, bool all)
{
    if (x->dead >= 64 && x->dead > x->len / 2)
        compact(x);
    while (x->len) {
        const struct xitem *it = &x->q[x->h];
        /* A line not understood waits for the packet after it: the record before it may be
         * handed on after it (its end is known only at the next line). */
        if (!all && it->kind == XI_UNREAD && x->len == 1)
            break;
        if (!all && it->lk && !it->lk->final && x->len - x->dead <= x->cfg.max_pending)
            break;
        emit(x);
    }
    fflush(x->out);
}

/* Room for one more item at position pos (from the oldest); returns it zeroed. */
static struct xitem *hold(struct explainer *x, size_t pos)
{
    if (x->h + x->len == x->cap) {
        if (x->h > 0) {
            memmove(x->q, x->q + x->h, x->len * sizeof *x->q);
            x->h = 0;
        } else {
            size_t nc = x->cap ? x->cap * 2 : 64;
            struct xitem *nq = realloc(x->q, nc * sizeof *nq);
            if (!nq)
                return NULL;
            x->q = nq;
            x->cap = nc;
        }
    }
    struct xitem *base = x->q + x->h;
    memmove(base + pos + 1, base + pos, (x->len - pos) * sizeof *base);
    x->len++;
    memset(&base[pos], 0, sizeof base[pos]);
    return &base[pos];
}

/* An answered lookup is final at its first answer (the correlator hands it on only after the
 * answer guard): the queries waiting for it need not wait longer. */
static void settle_answer(struct explainer *x, const struct packet *pkt,
                          const struct pkt_relation *rel)
{
    struct xlk *k = rel->kind == REL_ANSWER ? lk_find(x, rel->lookup_seq) : NULL;
    if (!k || k->final)
        return;
    char w[40];
    where(w, sizeof w, x->text_input, pkt->line_no, pkt->num);
    k->final = true;
    k->failed = rel->rcode != 0;
    if (x->cfg.only_problems && !k->failed)
        x->dead += k->items;
    k->outcome =
        answered_outcome(rel->transmissions, w, rel->has_time, rel->since_first_us, rel->rcode);
    if (!k->outcome)
        x->oom = true;
}

struct explainer *explainer_new(const struct explain_config *cfg, FILE *out)
{
    struct explainer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->cfg = *cfg;
    if (!x->cfg.max_pending)
        x->cfg.max_pending = EXPLAIN_PENDING_DEFAULT;
    x->out = out;
    htab_init(&x->lks);
    x->scratch = malloc(sizeof *x->scratch);
    if (!x->scratch) {
        free(x);
        return NULL;
    }
    return x;
}

static const char *const relation_ids[] = {
    [REL_NONE] = "none",
    [REL_QUERY] = "query",
    [REL_RETRANSMISSION] = "retransmission",
    [REL_ANSWER] = "answer",
    [REL_DUP_ANSWER] = "duplicate_answer",
    [REL_STRAY_ANSWER] = "stray_answer",
    [REL_ICMP_QUERY] = "icmp_error_for_query",
    [REL_ICMP_NO_QUERY] = "icmp_error_query_not_captured",
    [REL_ICMP_RESPONSE] = "icmp_error_for_response",
    [REL_ICMP_TCP] = "icmp_error_for_tcp",
    [REL_ICMP_UNMATCHED] = "icmp_error_unmatched",
    [REL_LOCAL_NAME] = "local_name",
    [REL_SYN] = "tcp_syn",
    [REL_SYN_RETRY] = "tcp_syn_retransmission",
    [REL_SYNACK] = "tcp_synack",
    [REL_RST] = "tcp_reset",
    [REL_ACK_NO_SYNACK] = "tcp_ack_synack_not_captured",
};

/* JSON: the packet's object up to its readings, left open (emit closes it). */
static char *json_head(const struct explainer *x, const struct packet *pkt,
                       const struct evidence *ev, const struct pkt_relation *r,
                       const struct explain_line *l)
{
    struct strbuf b;
    strbuf_init(&b);
    struct jsonw w;
    jsonw_init(&w, &b, JSONW_COMPACT);
    jsonw_obj_begin(&w);
    if (x->text_input && pkt->line_no)
        jsonw_kv_u64(&w, "line", pkt->line_no);
    else
        jsonw_kv_u64(&w, "packet", pkt->num);
    jsonw_kv_str(&w, "text", l->text);
    if (ev->ts.kind != NT_TIME_NONE)
        jsonw_kv_time(&w, "time", &ev->ts);
    if (ev->ip_version) {
        jsonw_kv_addr(&w, "src", &ev->src);
        jsonw_kv_addr(&w, "dst", &ev->dst);
        if (ev->sport || ev->dport) {
            jsonw_kv_u64(&w, "sport", ev->sport);
            jsonw_kv_u64(&w, "dport", ev->dport);
        }
        jsonw_key(&w, "protocol");
        jsonw_protocol(&w, ev->proto);
        if (ev->ttl)
            jsonw_kv_u64(&w, "ttl", ev->ttl);
    }
    if (ev->has_dns) {
        char tb[16];
        jsonw_kv_obj(&w, "dns");
        jsonw_kv_u64(&w, "id", ev->dns_id);
        jsonw_kv_bool(&w, "response", ev->dns_flags & DNS_FLAG_QR);
        if (ev->dns_flags & DNS_FLAG_QR)
            jsonw_kv_str(&w, "rcode", dns_rcode_name(ev->rcode, tb, sizeof tb));
        if (ev->has_question) {
            jsonw_kv_str(&w, "qname", ev->qname);
            jsonw_kv_str(&w, "qtype", dns_type_name(ev->qtype, tb, sizeof tb));
        }
        jsonw_obj_end(&w);
    }
    if (ev->role == EV_ICMP_ERROR || (pkt->layers & PKT_L_ICMP)) {
        jsonw_kv_obj(&w, "icmp");
        jsonw_kv_u64(&w, "type", ev->icmp_type);
        jsonw_kv_u64(&w, "code", ev->icmp_code);
        jsonw_obj_end(&w);
    }
    jsonw_kv_obj(&w, "relation");
    jsonw_kv_str(&w, "kind",
                 r->kind < sizeof relation_ids / sizeof relation_ids[0] ? relation_ids[r->kind]
                                                                        : "none");
    if (r->lookup_seq)
        jsonw_kv_u64(&w, "lookup", r->lookup_seq);
    /* the lookup's (or TCP attempt's) first packet and its latest query */
    if (r->first_pkt)
        jsonw_kv_u64(&w, x->text_input ? "first_line" : "first_packet",
                     x->text_input ? r->first_line : r->first_pkt);
    if (r->last_pkt)
        jsonw_kv_u64(&w, x->text_input ? "latest_line" : "latest_packet",
                     x->text_input ? r->last_line : r->last_pkt);
    if (r->lookup_seq || r->kind >= REL_SYN) {
        if (r->transmission)
            jsonw_kv_u64(&w, "transmission", r->transmission);
        if (r->error_no)
            jsonw_kv_u64(&w, "error", r->error_no);
        if (r->has_time && r->kind != REL_QUERY) {
            jsonw_kv_decimal(&w, "since_first_s", r->since_first_us, 6);
            jsonw_kv_decimal(&w, "since_latest_s", r->since_last_us, 6);
        }
        jsonw_kv_bool(&w, "late", r->late);
    }
    if (r->kind >= REL_ICMP_QUERY && r->kind <= REL_ICMP_UNMATCHED)
        jsonw_kv_str(&w, "sender", icmp_sender_name((enum icmp_sender)r->sender));
    jsonw_obj_end(&w);
    jsonw_kv_arr(&w, "readings");
    for (size_t i = 0; i < l->n_parts; i++) {
        jsonw_obj_begin(&w);
        if (l->parts[i].token)
            jsonw_kv_str(&w, "field", l->parts[i].token);
        else
            jsonw_kv_null(&w, "field");
        jsonw_kv_str(&w, "meaning", l->parts[i].meaning);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    return b.oom ? (strbuf_fini(&b), NULL) : strbuf_take(&b);
}

static char *head_line(const char *label, const char *line)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, label);
    strbuf_puts(&b, "  ");
    esc_term(&b, line, strlen(line));
    strbuf_putc(&b, '\n');
    return b.oom ? (strbuf_fini(&b), NULL) : strbuf_take(&b);
}

void explainer_packet(struct explainer *x, const struct packet *pkt, const struct pkt_relation *rel)
{
    x->n.packets++;
    if (!x->kind_known) {
        x->text_input = pkt->line != NULL;
        x->kind_known = true;
    }
    if (x->cfg.max_packets && x->n.packets > x->cfg.max_packets) {
        x->n.past_max++;
        return;
    }
    struct evidence ev;
    if (!evidence_from_packet(&ev, pkt, 0, role_of(rel, pkt)) || !evline_fill(&ev, x->scratch)) {
        evidence_fini(&ev);
        x->oom = true;
        return;
    }
    char label[48];
    where(label, sizeof label, x->text_input, pkt->line_no, pkt->num);
    struct explain_line l = {0};
    bool ok = build_readings(&l, &ev, rel, x->text_input);
    if (ok && rel->kind == REL_NONE)
        ok = push(&l, NULL,
                  fmt("Relation: none; nettriage relates DNS queries and answers, TCP handshakes "
                      "(SYN, SYN-ACK, RST) and ICMP errors, and this packet is %s.",
                      (pkt->layers & PKT_L_ARP)    ? "ARP, which maps an IPv4 address to a "
                                                     "hardware address on the local link"
                      : (pkt->layers & PKT_L_ICMP) ? "an ICMP message that reports no error"
                      : (pkt->layers & PKT_L_TCP)
                          ? "a TCP segment after the handshake, or of a connection whose SYN is "
                            "not in this input"
                      : (pkt->layers & PKT_L_UDP) && (pkt->sport == 53 || pkt->dport == 53)
                          ? "a datagram to or from the DNS port whose DNS message this line "
                            "does not show"
                      : (pkt->layers & PKT_L_UDP) ? "a UDP datagram that is not DNS"
                      : (pkt->layers & PKT_L_IP)  ? "an IP packet of another protocol"
                                                  : "none of them"));
    if (ok && !pkt->line && source_frame_unread(pkt))
        ok = push(&l, NULL,
                  fmt("Not understood: this frame's IP, transport or DNS header is cut short or "
                      "is not what its link header says, so only the fields above were read."));
    struct strbuf body;
    strbuf_init(&body);
    char *head = NULL;
    if (x->cfg.json) {
        if (ok && l.text)
            head = json_head(x, pkt, &ev, rel, &l);
    } else {
        for (size_t i = 0; ok && i < l.n_parts; i++)
            reading(&body, l.parts[i].token, l.parts[i].meaning);
        head = ok && l.text ? head_line(label, l.text) : NULL;
    }
    analysis_explain_line_fini(&l);
    evidence_fini(&ev);
    /* Its place: before the lines not understood that were met after it was read. */
    size_t pos = x->len;
    while (pos > 0 && x->q[x->h + pos - 1].kind == XI_UNREAD &&
           x->q[x->h + pos - 1].line_no > pkt->line_no && x->text_input)
        pos--;
    bool problem = rel->kind == REL_ICMP_QUERY || rel->kind == REL_ICMP_NO_QUERY ||
                   ((rel->kind == REL_ANSWER || rel->kind == REL_DUP_ANSWER) && rel->rcode) ||
                   rel->kind == REL_ICMP_TCP || rel->kind == REL_ICMP_UNMATCHED ||
                   rel->kind == REL_ICMP_RESPONSE || rel->kind == REL_RST;
    bool tcp = rel->kind == REL_SYN || rel->kind == REL_SYN_RETRY;
    bool waits = rel->kind == REL_QUERY || rel->kind == REL_RETRANSMISSION || tcp;
    /* lookups and TCP attempts number themselves apart: one table, two key spaces */
    uint64_t key = tcp ? rel->attempt_seq | ATTEMPT_KEY : rel->lookup_seq;
    if (x->cfg.only_problems && !problem && !waits && head && !body.oom) {
        /* Left out now: holding it would only take room from the queries that wait. */
        x->n.left_out++;
        free(head);
        strbuf_fini(&body);
        settle_answer(x, pkt, rel);
        flush(x, false);
        return;
    }
    struct xitem *it = head && !body.oom ? hold(x, pos) : NULL;
    if (!it) {
        free(head);
        strbuf_fini(&body);
        x->oom = true;
        return;
    }
    it->kind = XI_PACKET;
    it->line_no = pkt->line_no;
    it->head = head;
    it->body = x->cfg.json ? (strbuf_fini(&body), strdup("")) : strbuf_take(&body);
    it->problem = problem;
    if (waits) {
        it->is_query = rel->kind == REL_QUERY || rel->kind == REL_SYN;
        struct xlk *k = lk_find(x, key);
        if (!k) {
            k = calloc(1, sizeof *k);
            if (!k || htab_insert(&x->lks, seq_hash(key), k) != 0) {
                free(k);
                x->oom = true;
                return;
            }
            k->seq = key;
        }
        k->items++;
        it->lk = k;
    }
    if (!it->body)
        x->oom = true;
    settle_answer(x, pkt, rel);
    flush(x, false);
}

void explainer_lookup(struct explainer *x, const struct dns_lookup *l)
{
    struct xlk *k = lk_find(x, l->seq);
    if (!k || k->final)
        return;
    k->final = true;
    k->failed = l->outcome == LOOKUP_ICMP_ERROR || l->outcome == LOOKUP_UNANSWERED ||
                (l->outcome == LOOKUP_ANSWERED && l->rcode);
    if (x->cfg.only_problems && !k->failed)
        x->dead += k->items;
    k->outcome = explain_outcome(l, x->text_input, x->cfg.timeout_us);
    if (!k->outcome)
        x->oom = true;
    flush(x, false);
}

/* The sentence on a TCP connection attempt's final outcome. */
static char *attempt_outcome(const struct tcp_attempt *a, bool text_input, int64_t timeout_us)
{
    char w[40], d[32], to[32], tx[64] = "";
    where(w, sizeof w, text_input, a->reply.line_no, a->reply.pkt);
    explain_duration(a->elapsed_us, d, sizeof d);
    explain_duration(timeout_us, to, sizeof to);
    bool timed = a->first_syn.kind != NT_TIME_NONE && a->reply.ts.kind != NT_TIME_NONE;
    if (a->syns > 1)
        snprintf(tx, sizeof tx, " (its SYN sent %u times)", a->syns);
    switch ((enum tcp_outcome)a->outcome) {
    case TCP_ESTABLISHED:
        if (a->synack_unseen)
            return fmt("Outcome: this attempt%s was established: the client's ACK on %s shows it "
                       "got the SYN-ACK, which this capture does not hold.",
                       tx, w);
        return fmt("Outcome: this attempt%s was accepted by the SYN-ACK on %s%s%s%s.", tx, w,
                   timed ? ", " : "", timed ? d : "", timed ? " after the first SYN" : "");
    case TCP_RESET:
        return fmt("Outcome: this attempt%s failed: refused by the RST on %s%s%s%s.", tx, w,
                   timed ? ", " : "", timed ? d : "", timed ? " after the first SYN" : "");
    case TCP_ICMP_ERROR:
        return fmt("Outcome: this attempt%s failed: the ICMP error on %s (%s) refused it.", tx, w,
                   icmp_kind_name(a->icmp_kind));
    case TCP_UNANSWERED:
        return fmt("Outcome: this attempt%s failed: no SYN-ACK, RST or ICMP error came within "
                   "the timeout (%s) after its last SYN: unanswered (a filter dropping it, or "
                   "a host that is down).",
                   tx, to);
    case TCP_CAPTURE_ENDED:
        return fmt("Outcome: the input ended less than the timeout (%s) after this attempt's "
                   "last SYN%s, before any answer: not counted as a failure.",
                   to, tx);
    default:
        return fmt("Outcome: not known.");
    }
}

void explainer_tcp_attempt(struct explainer *x, const struct tcp_attempt *a)
{
    struct xlk *k = lk_find(x, a->seq | ATTEMPT_KEY);
    if (!k || k->final)
        return;
    k->final = true;
    k->failed =
        a->outcome == TCP_RESET || a->outcome == TCP_ICMP_ERROR || a->outcome == TCP_UNANSWERED;
    if (x->cfg.only_problems && !k->failed)
        x->dead += k->items;
    k->outcome = attempt_outcome(a, x->text_input, x->cfg.timeout_us);
    if (!k->outcome)
        x->oom = true;
    flush(x, false);
}

void explainer_unread(struct explainer *x, uint64_t line_no, const char *line, size_t len)
{
    x->n.not_understood++;
    x->text_input = true;
    x->kind_known = true;
    char label[48];
    snprintf(label, sizeof label, "line %" PRIu64, line_no);
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, label);
    strbuf_puts(&b, "  ");
    esc_term(&b, line, len);
    strbuf_putc(&b, '\n');
    struct strbuf body;
    strbuf_init(&body);
    static const char not_understood[] =
        "Not understood: this looks like traffic, but nettriage could not read it as a tcpdump "
        "line, so nothing in it was used.";
    reading(&body, NULL, not_understood);
    if (x->cfg.json) {
        strbuf_reset(&b);
        struct jsonw w;
        jsonw_init(&w, &b, JSONW_COMPACT);
        jsonw_obj_begin(&w);
        jsonw_kv_u64(&w, "line", line_no);
        jsonw_key(&w, "text");
        jsonw_strn(&w, line, len);
        jsonw_kv_bool(&w, "not_understood", true);
        jsonw_kv_arr(&w, "readings");
        jsonw_obj_begin(&w);
        jsonw_kv_null(&w, "field");
        jsonw_kv_str(&w, "meaning", not_understood);
        jsonw_obj_end(&w);
        jsonw_arr_end(&w);
        /* closed by emit */
    }
    struct xitem *it = !b.oom && !body.oom ? hold(x, x->len) : NULL;
    if (!it) {
        strbuf_fini(&b);
        strbuf_fini(&body);
        x->oom = true;
        return;
    }
    it->kind = XI_UNREAD;
    it->line_no = line_no;
    it->head = strbuf_take(&b);
    it->body = strbuf_take(&body);
    flush(x, false);
}

void explainer_finish(struct explainer *x)
{
    flush(x, true);
}

const struct explain_counts *explainer_counts(const struct explainer *x)
{
    return &x->n;
}

bool explainer_oom(const struct explainer *x)
{
    return x->oom;
}

void explainer_free(struct explainer *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->len; i++) {
        struct xitem *it = &x->q[x->h + i];
        if (it->lk)
            lk_release(x, it->lk);
        item_free(it);
    }
    free(x->q);
    struct htab_iter it;
    for (struct xlk *k = htab_first(&x->lks, &it); k; k = htab_next(&x->lks, &it)) {
        free(k->outcome);
        free(k);
    }
    htab_fini(&x->lks);
    free(x->scratch);
    free(x);
}
