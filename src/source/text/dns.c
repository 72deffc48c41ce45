/* dns.c: a DNS message as print-domain.c writes it: the id, opcode and rcode words, the flag
 * characters, the bracketed header details ([1au], [b2&3=0x..]), the "q:" questions and
 * "an/ns/ar" counts of responses, and the message length, for queries and responses in the
 * default, -v and -vv forms. */
#include "source/text/text_internal.h"

static const char *const dns_ops[16] = {
    "",    "inv_q",   "stat",    "op3",      "notify",  "update",   "op6",      "op7",
    "op8", "updateA", "updateD", "updateDA", "updateM", "updateMA", "zoneInit", "zoneRef",
};

static const char *const dns_rcodes[] = {
    "",        "FormErr", "ServFail", "NXDomain", "NotImp", "Refused", "YXDomain", "YXRRSet",
    "NXRRSet", "NotAuth", "NotZone",  "Resp11",   "Resp12", "Resp13",  "Resp14",   "NoChange",
    "BadVers", "Resp17",  "Resp18",   "Resp19",   "Resp20", "Resp21",  "Resp22",   "BadCookie",
};

static int match_word(const char *const *tab, int n, const char *w, size_t len)
{
    for (int i = 1; i < n; i++) {
        if (strlen(tab[i]) == len && memcmp(tab[i], w, len) == 0)
            return i;
    }
    return -1;
}

/* The extent of a DNS message's text: up to the final " (N)" (length) at the top level, or to
 * a truncation mark. Returns the length found via *len, 0 when none. */
static const char *dns_text_end(const char *p, const char *e, uint32_t *len, bool *trunc)
{
    bool quote = false;
    int bracket = 0;
    *len = 0;
    *trunc = false;
    for (const char *q = p; q < e; q++) {
        char c = *q;
        if (quote) {
            if (c == '\\' && q + 1 < e)
                q++;
            else if (c == '"')
                quote = false;
            continue;
        }
        if (c == '"') {
            quote = true;
        } else if (c == '[') {
            if (starts(q, e, "[|domain]") || starts(q, e, "[|"))
                return (*trunc = true, q);
            bracket++;
        } else if (c == ']') {
            if (bracket > 0)
                bracket--;
        } else if (c == '(' && bracket == 0 && q > p && q[-1] == ' ' && q + 1 < e &&
                   is_digit(q[1])) {
            struct sc t = {q + 1, e};
            uint32_t v;
            if (sc_u32(&t, &v) && sc_lit(&t, ")") && (t.p == e || is_space(*t.p))) {
                *len = v;
                return q - 1;
            }
        }
    }
    return e;
}

/* Parses DNS text at s: "35084+ [1au] A? name. (24)" or "35084*- q: A? name. 1/0/0 A 1.2.3.4
 * (40)". Fills m and returns true when at least the id and the query/response shape were read.
 * quoted: inside an ICMP quote, where only the header and question matter. */
bool text_parse_dns(struct sc *s, struct dns_msg *m)
{
    struct sc t = *s;
    uint16_t id;
    uint32_t dlen;
    bool trunc;
    bool response = false, shape = false;
    uint16_t flags = 0;
    int opcode = 0, rcode = 0;
    if (!sc_u16(&t, &id))
        return false;
    const char *end = dns_text_end(t.p, t.e, &dlen, &trunc);
    t.e = end;
    /* opcode and rcode words, then flag characters */
    for (;;) {
        struct sc w = t;
        bool sp = sc_lit(&w, " ");
        size_t n = word_len(&w);
        int i;
        if (n && (i = match_word(dns_ops, 16, w.p, n)) > 0 && sp) {
            opcode = i;
            t.p = w.p + n;
            continue;
        }
        if (n && (i = match_word(dns_rcodes, (int)(sizeof dns_rcodes / sizeof dns_rcodes[0]), w.p,
                                 n)) > 0) {
            rcode = i;
            response = true;
            t.p = w.p + n;
            continue;
        }
        if (n > 4 && memcmp(w.p, "Resp", 4) == 0) {
            struct sc r = {w.p + 4, w.p + n};
            uint16_t v;
            if (sc_u16(&r, &v) && r.p == r.e && v <= 4095) {
                rcode = v;
                response = true;
                t.p = w.p + n;
                continue;
            }
        }
        break;
    }
    bool rd = false, cd = false, ad = false, aa = false, ra_clear = false, tc = false;
    while (t.p < t.e && *t.p && strchr("+%$*-|", *t.p)) {
        switch (*t.p) {
        case '+':
            rd = true;
            break;
        case '%':
            cd = true;
            break;
        case '$':
            ad = true;
            break;
        case '*':
            aa = true;
            response = true;
            break;
        case '-':
            ra_clear = true;
            response = true;
            break;
        case '|':
            tc = true;
            response = true;
            break;
        }
        t.p++;
    }
    if (t.p < t.e && !is_space(*t.p))
        return false;
    /* bracketed header details */
    bool have_b2 = false;
    uint32_t b2 = 0;
    bool has_an = false;
    uint16_t qd = 1, an = 0, ns = 0, ar = 0;
    for (;;) {
        struct sc w = t;
        while (w.p < w.e && *w.p == ',')
            w.p++;
        sc_ws(&w);
        if (sc_lit(&w, "[b2&3=0x")) {
            if (sc_hex(&w, &b2) && sc_lit(&w, "]")) {
                have_b2 = true;
                t = w;
                continue;
            }
            return false;
        }
        if (sc_lit(&w, "[")) {
            uint16_t v;
            if (!sc_u16(&w, &v))
                break;
            if (sc_lit(&w, "au]"))
                ar = v;
            else if (sc_lit(&w, "a]"))
                an = v, has_an = true;
            else if (sc_lit(&w, "q]"))
                qd = v;
            else if (sc_lit(&w, "n]"))
                ns = v;
            else
                break;
            t = w;
            continue;
        }
        break;
    }
    while (t.p < t.e && *t.p == ',')
        t.p++;
    memset(m, 0, offsetof(struct dns_msg, q));
    m->n_rr = 0;
    m->n_rr_seen = 0;
    m->has_opt = false;
    m->edns_do = false;
    m->edns_udp_size = 0;
    m->edns_version = 0;
    m->has_question = false;
    m->id = id;
    /* A response shows "q:" questions (-vv) and always its "an/ns/ar" counts. */
    struct sc w = t;
    sc_ws(&w);
    if (starts(w.p, w.e, "q:")) {
        response = true;
        w.p += 2;
        text_dns_questions(&w, m);
        t = w;
    }
    {
        struct sc c = t;
        uint16_t a, b, d;
        sc_ws(&c);
        if (sc_u16(&c, &a) && sc_lit(&c, "/") && sc_u16(&c, &b) && sc_lit(&c, "/") &&
            sc_u16(&c, &d) && (c.p == c.e || is_space(*c.p) || *c.p == '[')) {
            response = true;
            shape = true;
            an = a;
            ns = b;
            ar = d;
            t = c;
            text_dns_sections(&t, m, DNS_SEC_ANSWER);
        }
    }
    if (!response) {
        int nq = text_dns_questions(&t, m);
        if (nq > 0 || qd == 0)
            shape = true;
        if (!has_an && opcode == 1)
            an = 1; /* IQUERY prints [Na] only when not 1 */
        /* -vv prints the other sections of a query too */
        text_dns_sections(&t, m, DNS_SEC_ANSWER);
    }
    if (!shape && !response)
        return false;
    if (response) {
        flags = DNS_FLAG_QR;
        if (aa)
            flags |= DNS_FLAG_AA;
        if (tc)
            flags |= DNS_FLAG_TC;
        if (!ra_clear)
            flags |= DNS_FLAG_RA;
        if (ad)
            flags |= DNS_FLAG_AD;
        if (cd)
            flags |= DNS_FLAG_CD;
    } else {
        if (rd)
            flags |= DNS_FLAG_RD;
        if (cd)
            flags |= DNS_FLAG_CD;
        if (ad)
            flags |= DNS_FLAG_AD;
    }
    flags |= (uint16_t)((opcode & 0xf) << 11);
    flags |= (uint16_t)(rcode & 0xf);
    if (have_b2)
        flags = (uint16_t)b2;
    m->flags = flags;
    m->opcode = (uint8_t)((flags >> 11) & 0xf);
    m->rcode = (uint16_t)(have_b2 ? (b2 & 0xf) : (uint32_t)rcode);
    m->qdcount = qd;
    m->ancount = an;
    m->nscount = ns;
    m->arcount = ar;
    m->length = dlen;
    m->complete = !trunc && dlen > 0;
    s->p = end;
    return true;
}
