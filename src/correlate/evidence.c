/* evidence.c: owned copies of the packet facts that findings cite. */
#include "correlate/evidence.h"

#include <stdlib.h>
#include <string.h>

#include "util/zero.h"

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static const struct {
    const char *id, *label;
} roles[] = {
    [EV_QUERY] = {"query", "query"},
    [EV_RETRANSMISSION] = {"retransmission", "retransmission"},
    [EV_ANSWER] = {"answer", "answer"},
    [EV_ICMP_ERROR] = {"icmp_error", "ICMP error"},
    [EV_SYN] = {"syn", "connection attempt (SYN)"},
    [EV_SYN_RETRY] = {"syn_retransmission", "SYN retransmission"},
    [EV_SYNACK] = {"syn_ack", "SYN-ACK"},
    [EV_RESET] = {"reset", "reset (RST)"},
    [EV_PACKET] = {"packet", "packet"},
};

const char *evidence_role_id(uint8_t role)
{
    return role < sizeof roles / sizeof roles[0] ? roles[role].id : NULL;
}

const char *evidence_role_label(uint8_t role)
{
    const char *l = role < sizeof roles / sizeof roles[0] ? roles[role].label : NULL;
    return l ? l : "packet";
}

/* Copies at most max bytes of s; a longer line is cut on a UTF-8 character boundary and marked
 * with "...". */
static char *dup_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return dup_n(s, n);
    size_t k = max - 3;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    char *d = malloc(k + 4);
    if (d) {
        memcpy(d, s, k);
        memcpy(d + k, "...", 4);
    }
    return d;
}

/* Places strings and bytes one after the other in an evidence's store. */
struct bump {
    char *p;
};

/* Inline, so that a constant n (an address's 4 or 16 bytes) makes a fixed-size copy. */
static inline char *bump_str(struct bump *b, const char *s, size_t n)
{
    char *d = b->p;
    memcpy(d, s, n);
    d[n] = '\0';
    b->p += n + 1;
    return d;
}

size_t evidence_store_size(const struct evidence *ev, size_t n_ans, const uint8_t *frame,
                           const char *name, size_t name_len, size_t tail)
{
    /* An empty frame takes a byte too, so that it has a place. */
    return n_ans * sizeof(struct evidence_rr) + tail + (name ? name_len + 1 : 0) +
           (frame ? ev->frame_len + (ev->frame_len == 0) : 0);
}

char *evidence_store_put(struct evidence *ev, void *block, size_t n_ans, const uint8_t *frame,
                         const char *name, size_t name_len, size_t tail)
{
    char *t = (char *)block + n_ans * sizeof(struct evidence_rr), *p = t + tail;
    ev->store = block;
    if (n_ans)
        ev->answers = block;
    if (name) {
        ev->qname = p;
        memcpy(p, name, name_len);
        p[name_len] = '\0';
        p += name_len + 1;
    }
    if (frame) {
        ev->frame = (uint8_t *)p;
        memcpy(p, frame, ev->frame_len);
    }
    return t;
}

void *evidence_pool_get(struct evidence_pool *pool, size_t size, uint8_t *cls)
{
    *cls = 0;
    size_t k = (size + EVIDENCE_POOL_STEP - 1) / EVIDENCE_POOL_STEP;
    if (!pool || k > EVIDENCE_POOL_CLASSES)
        return malloc(size);
    void *b = pool->free[k];
    if (b) {
        memcpy(&pool->free[k], b, sizeof(void *));
        pool->n_free[k]--;
    } else if (!(b = malloc(k * EVIDENCE_POOL_STEP))) {
        return NULL;
    }
    *cls = (uint8_t)k;
    return b;
}

void evidence_pool_put(struct evidence_pool *pool, void *block, uint8_t cls)
{
    if (block && cls && cls <= EVIDENCE_POOL_CLASSES && pool->n_free[cls] < EVIDENCE_POOL_KEEP) {
        memcpy(block, &pool->free[cls], sizeof(void *));
        pool->free[cls] = block;
        pool->n_free[cls]++;
        return;
    }
    free(block);
}

void evidence_release(struct evidence *ev, struct evidence_pool *pool)
{
    if (pool && ev->store && ev->store_class) {
        evidence_pool_put(pool, ev->store, ev->store_class);
        ev->store = NULL;
    }
    evidence_fini(ev);
}

void evidence_lend(struct evidence *ev, struct evidence_loan *loan)
{
    loan->store = ev->store;
    loan->text = ev->text;
    loan->store_class = ev->store_class;
    ev->store = NULL;
    ev->text = NULL;
    ev->store_class = 0;
}

void evidence_loan_end(struct evidence_loan *loan, struct evidence_pool *pool)
{
    if (pool)
        evidence_pool_put(pool, loan->store, loan->store_class); /* class 0 (or too many): free */
    else
        free(loan->store);
    if (loan->text)
        free(loan->text);
    *loan = (struct evidence_loan){0};
}

void evidence_pool_fini(struct evidence_pool *pool)
{
    for (unsigned k = 1; k <= EVIDENCE_POOL_CLASSES; k++) {
        while (pool->free[k]) {
            void *b = pool->free[k];
            memcpy(&pool->free[k], b, sizeof(void *));
            free(b);
        }
        pool->n_free[k] = 0;
    }
}

bool evidence_from_packet(struct evidence *ev, const struct packet *pkt, uint32_t input,
                          enum evidence_role role)
{
    return evidence_from_packet_pooled(ev, pkt, input, role, NULL);
}

bool evidence_from_packet_pooled(struct evidence *ev, const struct packet *pkt, uint32_t input,
                                 enum evidence_role role, struct evidence_pool *pool)
{
    nt_zero_pieces(ev, sizeof *ev); /* no "rep stos" (util/zero.h) */
    ev->input = input;
    ev->pkt = pkt->num;
    ev->order_pkt = pkt->num;
    ev->line_no = pkt->line_no;
    ev->ts = pkt->ts;
    ev->role = (uint8_t)role;
    const uint8_t *frame = NULL; /* the frame the store keeps */
    if (pkt->line) {
        ev->text = dup_cut(pkt->line, pkt->line_len, EVIDENCE_LINE_MAX);
        ev->from_text = true;
        if (!ev->text)
            return false;
    } else if (pkt->frame && pkt->frame_len <= EVIDENCE_FRAME_MAX) {
        /* Facts now, text later: report prints the line from these bytes if it is cited. */
        frame = pkt->frame;
        ev->frame_len = pkt->frame_len;
        ev->frame_wirelen = pkt->wirelen;
        ev->frame_linktype = pkt->frame_linktype;
    } else {
        char buf[EVIDENCE_LINE_MAX];
        size_t n = packet_format_line(pkt, buf, sizeof buf);
        ev->text = dup_n(buf, n);
        if (!ev->text)
            return false;
    }
    ev->ip_version = pkt->ip_version;
    ev->src = pkt->src;
    ev->dst = pkt->dst;
    ev->ttl = pkt->ttl;
    ev->proto = pkt->proto;
    ev->sport = pkt->sport;
    ev->dport = pkt->dport;
    if (pkt->layers & PKT_L_TCP) {
        ev->tcp_flags = pkt->tcp_flags;
        ev->tcp_seq = pkt->tcp_seq;
    }
    if (pkt->layers & PKT_L_DNS) {
        const struct dns_msg *m = &pkt->dns;
        ev->has_dns = true;
        ev->dns_id = m->id;
        ev->dns_flags = m->flags;
        ev->rcode = m->rcode;
        ev->qdcount = m->qdcount;
        ev->ancount = m->ancount;
        ev->nscount = m->nscount;
        ev->arcount = m->arcount;
        ev->has_opt = m->has_opt;
        ev->dns_len = m->length;
        if (m->has_question) {
            ev->has_question = true;
            ev->qtype = m->q.qtype;
            ev->qclass = m->q.qclass;
        }
    }
    /* The frame, the question's name and the answer records (role EV_ANSWER: those the decoder
     * kept, for exports such as ECS dns.answers) in one block. */
    const struct dns_msg *m = &pkt->dns;
    bool dns = (pkt->layers & PKT_L_DNS) != 0;
    /* The answer records' data lengths, measured once for the size and the copies. An owner
     * name that is the question's (the decoder read it as a pointer to it) shares the
     * question's copy. */
    bool has_q = dns && m->has_question;
    uint16_t data_len[DNS_MAX_KEPT_RR];
    size_t n_ans = 0, tail = 0;
    for (uint8_t i = 0; dns && role == EV_ANSWER && i < m->n_rr && i < DNS_MAX_KEPT_RR; i++)
        if (m->rr[i].section == DNS_SEC_ANSWER) {
            const struct dns_rr *rr = &m->rr[i];
            data_len[i] =
                rr->addr_len ? rr->addr_len : (uint16_t)strnlen(rr->rdata, sizeof rr->rdata);
            tail += (size_t)data_len[i] + 1;
            if (!(has_q && rr->owner_is_question))
                tail += (size_t)rr->name.len + 1;
            n_ans++;
        }
    const char *name = has_q ? m->q.name.text : NULL;
    size_t size = evidence_store_size(ev, n_ans, frame, name, m->q.name.len, tail);
    if (size) {
        if (!(ev->store = evidence_pool_get(pool, size, &ev->store_class)))
            return false;
        struct bump b = {
            evidence_store_put(ev, ev->store, n_ans, frame, name, m->q.name.len, tail)};
        if (n_ans) {
            for (uint8_t i = 0; i < m->n_rr && i < DNS_MAX_KEPT_RR; i++) {
                const struct dns_rr *rr = &m->rr[i];
                if (rr->section != DNS_SEC_ANSWER)
                    continue;
                struct evidence_rr *a = &ev->answers[ev->n_answers++];
                a->name = rr->owner_is_question && ev->qname
                              ? ev->qname
                              : bump_str(&b, rr->name.text, rr->name.len);
                /* an address's bytes copied at their fixed size, without a call */
                if (rr->addr_len == 4)
                    a->data = bump_str(&b, (const char *)rr->addr, 4);
                else if (rr->addr_len == 16)
                    a->data = bump_str(&b, (const char *)rr->addr, 16);
                else
                    a->data = bump_str(&b, rr->addr_len ? (const char *)rr->addr : rr->rdata,
                                       data_len[i]);
                a->addr_len = rr->addr_len;
                a->type = rr->type;
                a->rclass = rr->rclass;
                a->ttl = rr->ttl;
            }
        }
    }
    if (pkt->layers & PKT_L_ICMP) {
        const struct icmp_quote *q = &pkt->quote;
        ev->icmp_type = pkt->icmp_type;
        ev->icmp_code = pkt->icmp_code;
        ev->icmp_kind = pkt->icmp_kind;
        ev->icmp_len = pkt->icmp_len;
        ev->icmp_mtu = pkt->icmp_mtu;
        ev->quote_present = q->present;
        ev->quote_has_ports = q->has_ports;
        ev->quote_has_dns = q->has_dns;
        ev->q_src = q->src;
        ev->q_dst = q->dst;
        ev->q_proto = q->proto;
        ev->q_sport = q->sport;
        ev->q_dport = q->dport;
        ev->q_dns_id = q->dns_id;
        ev->q_total_len = q->ip_total_len;
    }
    return true;
}

/* The bytes of a kept record's data: an address's, or the text's. */
static size_t rr_data_len(const struct evidence_rr *a)
{
    return a->addr_len ? a->addr_len : strlen(a->data);
}

/* ev no longer points at a text or a store, nor into one (after they were freed, or in a
 * copy that is to get its own). */
static void forget_owned(struct evidence *ev)
{
    ev->text = NULL;
    ev->store = NULL;
    ev->store_class = 0;
    ev->qname = NULL;
    ev->frame = NULL;
    ev->answers = NULL;
    ev->n_answers = 0;
}

/* What a deep copy of an evidence made part by part takes: its store's parts and size, and
 * its text's bytes (with the '\0'; 0 without text). */
struct copy_plan {
    size_t n_ans, tail, qlen, store, text;
};

static void copy_plan(const struct evidence *src, struct copy_plan *pl)
{
    pl->n_ans = src->n_answers;
    pl->tail = 0;
    for (size_t i = 0; i < pl->n_ans; i++)
        pl->tail += strlen(src->answers[i].name) + 1 + rr_data_len(&src->answers[i]) + 1;
    pl->qlen = src->qname ? strlen(src->qname) : 0;
    pl->store = evidence_store_size(src, pl->n_ans, src->frame, src->qname, pl->qlen, pl->tail);
    pl->text = src->text ? strlen(src->text) + 1 : 0;
}

/* *dst = *src with its own store (plan's size, NULL when 0) and text (likewise), both filled. */
static void copy_fill(struct evidence *dst, const struct evidence *src,
                      const struct copy_plan *pl, void *store, char *text)
{
    *dst = *src;
    forget_owned(dst);
    dst->text = text;
    if (text)
        memcpy(text, src->text, pl->text);
    if (!store)
        return;
    struct bump b = {
        evidence_store_put(dst, store, pl->n_ans, src->frame, src->qname, pl->qlen, pl->tail)};
    for (size_t i = 0; i < pl->n_ans; i++) {
        const struct evidence_rr *a = &src->answers[i];
        struct evidence_rr *c = &dst->answers[dst->n_answers++];
        *c = *a;
        c->name = bump_str(&b, a->name, strlen(a->name));
        c->data = bump_str(&b, a->data, rr_data_len(a));
    }
}

bool evidence_copy(struct evidence *dst, const struct evidence *src)
{
    struct copy_plan pl;
    copy_plan(src, &pl);
    char *text = pl.text ? malloc(pl.text) : NULL;
    void *store = pl.store ? malloc(pl.store) : NULL;
    if ((pl.text && !text) || (pl.store && !store)) {
        free(text);
        free(store);
        *dst = *src;
        forget_owned(dst);
        return false;
    }
    copy_fill(dst, src, &pl, store, text);
    return true;
}

/* The bytes of src's store as evidence_store_put laid it out (records, their strings, the
 * name, the frame: the last part present ends it), when every pointer into it is where that
 * layout puts it; 0 otherwise (no store, or one laid out some other way), and then the copy
 * is made part by part. */
static size_t store_bytes(const struct evidence *src)
{
    const char *st = src->store;
    if (!st)
        return 0;
    size_t n;
    if (src->frame)
        n = (size_t)((const char *)src->frame - st) + src->frame_len + (src->frame_len == 0);
    else if (src->qname)
        n = (size_t)(src->qname - st) + strlen(src->qname) + 1;
    else if (src->n_answers) {
        const struct evidence_rr *a = &src->answers[src->n_answers - 1];
        n = (size_t)(a->data - st) + rr_data_len(a) + 1;
    } else
        return 0;
    /* Every pointer inside [st, st + n): pointer comparisons across blocks are not defined in
     * C, so as addresses. */
    uintptr_t lo = (uintptr_t)st, hi = lo + n;
#define IN_STORE(ptr) ((uintptr_t)(ptr) >= lo && (uintptr_t)(ptr) < hi)
    if ((src->frame && !IN_STORE(src->frame)) || (src->qname && !IN_STORE(src->qname)))
        return 0;
    if (src->n_answers) {
        if ((const void *)src->answers != (const void *)st)
            return 0;
        for (size_t i = 0; i < src->n_answers; i++)
            if (!IN_STORE(src->answers[i].name) || !IN_STORE(src->answers[i].data))
                return 0;
    }
#undef IN_STORE
    return n;
}

static size_t up8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

size_t evidence_copy_plan(const struct evidence *src, struct evidence_copy_plan *plan)
{
    plan->whole = store_bytes(src);
    plan->text = src->text ? strlen(src->text) + 1 : 0;
    plan->parts = !plan->whole && (src->store || src->frame || src->qname || src->n_answers);
    size_t store = plan->whole;
    if (plan->parts) {
        struct copy_plan pl;
        copy_plan(src, &pl);
        store = pl.store;
    }
    plan->bytes = up8(store) + up8(plan->text);
    return plan->bytes;
}

/* The store first (its records want 8-byte alignment), then the text. The usual store is
 * copied whole and its pointers moved by the distance; any other part by part. */
size_t evidence_copy_into(struct evidence *dst, const struct evidence *src,
                          const struct evidence_copy_plan *plan, void *buf)
{
    char *b = buf;
    if (plan->parts) {
        struct copy_plan pl;
        copy_plan(src, &pl);
        copy_fill(dst, src, &pl, pl.store ? b : NULL, pl.text ? b + up8(pl.store) : NULL);
        return plan->bytes;
    }
    *dst = *src;
    dst->store_class = 0;
    if (!src->n_answers)
        dst->answers = NULL;
    size_t at = 0, n = plan->whole;
    if (n) {
        memcpy(b, src->store, n);
        const char *from = src->store;
        dst->store = b;
        if (src->frame)
            dst->frame = (uint8_t *)b + ((const char *)src->frame - from);
        if (src->qname)
            dst->qname = b + (src->qname - from);
        if (src->n_answers) {
            dst->answers = (struct evidence_rr *)b;
            for (size_t i = 0; i < src->n_answers; i++) {
                dst->answers[i].name = b + (src->answers[i].name - from);
                dst->answers[i].data = b + (src->answers[i].data - from);
            }
        }
        at = up8(n);
    }
    if (plan->text)
        dst->text = memcpy(b + at, src->text, plan->text);
    return plan->bytes;
}

void evidence_fini(struct evidence *ev)
{
    /* Most evidence has no text (captured packets) and many no store: the tests spare a call
     * to free(NULL) each, a million times on the busy bench. */
    if (ev->text)
        free(ev->text);
    if (ev->store)
        free(ev->store);
    forget_owned(ev);
}
