/* dns_rr.c: the questions and resource records of a DNS message as print-domain.c writes
 * them: names and text into the decoder's presentation form, classes, types, and each record's
 * data (MX, SRV, SOA reordered as dig prints them), section by section. */
#include <stdio.h>

#include "source/text/text_internal.h"
#include "util/dnstext.h"

/* ---------------------------------------------------------------------------------------- */
/* DNS names and text into the decoder's presentation form */

static void text_put(char *out, size_t cap, size_t *n, char c)
{
    if (*n + 1 < cap)
        out[(*n)++] = c;
}

/* Appends one name octet in presentation form (nt_label_byte, util/dnstext.h). */
static void name_put_octet(char *out, size_t cap, size_t *n, uint8_t b)
{
    char tmp[4];
    char *e = nt_label_byte(tmp, b);
    size_t k = (size_t)(e - tmp);
    /* An octet whose escape does not fit whole (with room for the NUL and, after an escape,
     * one more byte) is left out, never cut. */
    if (*n + k + (k > 1) < cap) {
        memcpy(out + *n, tmp, k);
        *n += k;
    }
}

/* Converts a name as tcpdump printed it (labels joined by '.', bytes outside printable ASCII as
 * "M-x" and "^x") into presentation form. Stops at 255 octets. Returns false for an empty
 * token. */
static bool name_from_text(const char *s, size_t len, struct dns_name *out)
{
    size_t n = 0, octets = 0;
    const size_t cap = sizeof out->text;
    out->text[0] = '\0';
    out->len = 0;
    if (len == 0)
        return false;
    if (len == 1 && s[0] == '.') {
        out->text[0] = '.';
        out->text[1] = '\0';
        out->len = 1;
        return true;
    }
    for (size_t i = 0; i < len && octets < 255; i++) {
        uint8_t b = (uint8_t)s[i];
        if (nt_label_plain[b] && b != 'M') {
            /* a letter, digit, '-' or '_' is written as it is (name_put_octet, shortly) */
            if (n + 1 < cap)
                out->text[n++] = (char)b;
            octets++;
            continue;
        }
        if (b == '.') {
            /* consecutive dots cannot be label separators; keep them as data */
            if (i + 1 < len && s[i + 1] == '.')
                name_put_octet(out->text, cap, &n, b);
            else
                text_put(out->text, cap, &n, '.');
            octets++;
            continue;
        }
        bool hi = false;
        /* "M-" marks a byte with the high bit set; only decoded where a label could not spell
         * it ("SM-G950F" stays as written). */
        if (b == 'M' && i + 2 < len && s[i + 1] == '-' &&
            (i == 0 || !(is_alpha(s[i - 1]) || is_digit(s[i - 1])))) {
            hi = true;
            i += 2;
            b = (uint8_t)s[i];
        }
        if (b == '^' && i + 1 < len &&
            (((uint8_t)s[i + 1] >= '@' && (uint8_t)s[i + 1] <= '_') || s[i + 1] == '?')) {
            i++;
            b = (uint8_t)((uint8_t)s[i] ^ 0x40);
        }
        if (hi)
            b |= 0x80;
        name_put_octet(out->text, cap, &n, b);
        octets++;
    }
    out->text[n] = '\0';
    out->len = (uint16_t)n;
    return true;
}

/* Copies printed text (rdata) keeping printable ASCII only, cut with "..." to fit. */
static void copy_safe(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)s[i];
        if (n + 1 >= cap) {
            if (cap >= 4)
                memcpy(out + cap - 4, "...", 3), n = cap - 1;
            break;
        }
        if (b >= 0x20 && b < 0x7f) {
            out[n++] = (char)b;
        } else if (n + 5 < cap) {
            out[n++] = '\\';
            out[n++] = (char)('0' + b / 100);
            out[n++] = (char)('0' + b / 10 % 10);
            out[n++] = (char)('0' + b % 10);
        } else {
            if (cap >= 4)
                memcpy(out + cap - 4, "...", 3), n = cap - 1;
            break;
        }
    }
    out[n] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Questions and resource records */

/* "A", "AAAA", "Type65", "TYPE65" */
static int type_from_text(const char *s, size_t n)
{
    if (n > 4 && (memcmp(s, "Type", 4) == 0 || memcmp(s, "TYPE", 4) == 0)) {
        struct sc t = {s + 4, s + n};
        uint16_t v;
        if (sc_u16(&t, &v) && t.p == t.e)
            return v;
        return -1;
    }
    if (n == 0 || n > 16)
        return -1;
    return dns_type_from_name(s, n);
}

/* Class tokens printed before '?' or a record's type. */
static bool class_from_text(struct sc *s, uint16_t *cls)
{
    static const struct {
        const char *name;
        uint16_t v;
    } cl[] = {{"CHAOS", 3}, {"CH", 3}, {"HS", 4}, {"ANY", 255}, {"IN", 1}};
    if (sc_lit(s, "(Class ")) {
        uint16_t v = 0;
        sc_u16(s, &v);
        sc_lit(s, ")");
        *cls = v;
        return true;
    }
    size_t n = word_len(s);
    /* a class is a whole word: followed by a space or the question's '?' */
    if (s->p + n < s->e && s->p[n] != ' ' && s->p[n] != '?')
        return false;
    for (size_t i = 0; i < sizeof cl / sizeof cl[0]; i++) {
        if (strlen(cl[i].name) == n && memcmp(cl[i].name, s->p, n) == 0) {
            s->p += n;
            *cls = cl[i].v;
            return true;
        }
    }
    return false;
}

/* The end of one resource record's text: a top-level ',' or a section mark. */
static const char *rr_end(const char *p, const char *e)
{
    bool quote = false;
    int bracket = 0;
    for (const char *q = p; q < e; q++) {
        char c = *q;
        if (quote) {
            if (c == '\\' && q + 1 < e)
                q++;
            else if (c == '"')
                quote = false;
            continue;
        }
        if (c == '"')
            quote = true;
        else if (c == '[')
            bracket++;
        else if (c == ']' && bracket > 0)
            bracket--;
        else if (bracket == 0 && c == ',')
            return q;
        else if (bracket == 0 && c == ' ' && (starts(q, e, " ns:") || starts(q, e, " ar:")))
            return q;
    }
    return e;
}

static void trim(const char **p, const char **e)
{
    while (*p < *e && is_space(**p))
        (*p)++;
    while (*e > *p && is_space((*e)[-1]))
        (*e)--;
}

/* Parses one printed record: [name] [class] [(Cache flush)] [[ttl]] TYPE [rdata]. */
static void parse_rr(const char *p, const char *e, uint8_t section, struct dns_msg *m)
{
    trim(&p, &e);
    struct sc s = {p, e};
    struct dns_rr rr;
    bool have_name = false;
    int type = -1;
    memset(&rr, 0, sizeof rr);
    rr.section = section;
    rr.rclass = 1;
    while (s.p < s.e) {
        sc_ws(&s);
        size_t n = tok_len(&s);
        if (n == 0)
            break;
        if (n > 1 && s.p[n - 1] == '.' && !have_name && type < 0) {
            have_name = name_from_text(s.p, n, &rr.name);
            s.p += n;
            continue;
        }
        if (n == 1 && s.p[0] == '.' && !have_name) {
            have_name = name_from_text(s.p, n, &rr.name);
            s.p += n;
            continue;
        }
        if (class_from_text(&s, &rr.rclass))
            continue;
        if (sc_lit(&s, "(Cache flush)"))
            continue;
        if (s.p[0] == '[') {
            s.p += n;
            continue;
        }
        type = type_from_text(s.p, n);
        s.p += n;
        break;
    }
    if (type < 0)
        return;
    rr.type = (uint16_t)type;
    m->n_rr_seen++;
    sc_ws(&s);
    const char *rd = s.p, *rde = s.e;
    trim(&rd, &rde);
    if (type == DNS_TYPE_OPT) {
        uint64_t v;
        m->has_opt = true;
        if (find_uint(rd, rde, "UDPsize=", &v) && v <= UINT16_MAX)
            m->edns_udp_size = (uint16_t)v;
        struct sc t = {rd, rde};
        while (t.p < t.e) {
            sc_ws(&t);
            size_t n = tok_len(&t);
            if (n == 2 && memcmp(t.p, "DO", 2) == 0)
                m->edns_do = true;
            if (n == 0)
                break;
            t.p += n;
        }
        return;
    }
    if (m->n_rr >= DNS_MAX_KEPT_RR)
        return;
    struct dns_name nm;
    switch (type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
    case 39: /* DNAME */
        if (name_from_text(rd, (size_t)(rde - rd), &nm))
            copy_safe(rr.rdata, sizeof rr.rdata, nm.text, nm.len);
        break;
    case DNS_TYPE_MX: {
        /* tcpdump: "exchange. pref"; presentation: "pref exchange." */
        struct sc t = {rd, rde};
        size_t n = tok_len(&t);
        struct sc pr = {t.p + n, rde};
        uint16_t pref;
        sc_ws(&pr);
        if (n && sc_u16(&pr, &pref) && name_from_text(rd, n, &nm)) {
            char tmp[DNS_NAME_TEXT_MAX + 8];
            int w = snprintf(tmp, sizeof tmp, "%u %s", (unsigned)pref, nm.text);
            if (w > 0)
                copy_safe(rr.rdata, sizeof rr.rdata, tmp, strlen(tmp));
        }
        break;
    }
    case DNS_TYPE_SRV: {
        /* tcpdump: "target.:port prio weight"; presentation: "prio weight port target." */
        const char *colon = NULL;
        for (const char *q = rd; q < rde && !is_space(*q); q++) {
            if (*q == ':')
                colon = q;
        }
        if (colon) {
            struct sc t = {colon + 1, rde};
            uint16_t port, prio, weight;
            if (sc_u16(&t, &port) && (sc_ws(&t), sc_u16(&t, &prio)) &&
                (sc_ws(&t), sc_u16(&t, &weight)) && name_from_text(rd, (size_t)(colon - rd), &nm)) {
                char tmp[DNS_NAME_TEXT_MAX + 24];
                int w = snprintf(tmp, sizeof tmp, "%u %u %u %s", (unsigned)prio, (unsigned)weight,
                                 (unsigned)port, nm.text);
                if (w > 0)
                    copy_safe(rr.rdata, sizeof rr.rdata, tmp, strlen(tmp));
            }
        }
        break;
    }
    case DNS_TYPE_SOA: {
        /* "mname. rname. serial refresh retry expire minimum" (printed with -v only) */
        struct sc t = {rd, rde};
        size_t n1 = tok_len(&t);
        if (!n1)
            break;
        struct dns_name rn;
        const char *r2 = rd + n1;
        struct sc u = {r2, rde};
        sc_ws(&u);
        size_t n2 = tok_len(&u);
        if (!n2 || !name_from_text(rd, n1, &nm) || !name_from_text(u.p, n2, &rn))
            break;
        char tmp[2 * DNS_NAME_TEXT_MAX + 64];
        const char *rest = u.p + n2;
        int w = snprintf(tmp, sizeof tmp, "%s %s%.*s", nm.text, rn.text,
                         (int)((rde - rest) > 60 ? 60 : (rde - rest)), rest);
        if (w > 0)
            copy_safe(rr.rdata, sizeof rr.rdata, tmp, strlen(tmp));
        break;
    }
    default:
        /* A, AAAA, TXT and others: as printed (addresses, quoted strings); types tcpdump does
         * not print the data of stay empty. */
        copy_safe(rr.rdata, sizeof rr.rdata, rd, (size_t)(rde - rd));
        break;
    }
    if (!have_name)
        rr.name.text[0] = '\0';
    m->rr[m->n_rr++] = rr;
}

/* Parses the questions at s ("A? name." repeated, each optionally with class, "(QU)"/"(QM)"),
 * stopping at the first thing that is not a question. Returns how many were read. */
int text_dns_questions(struct sc *s, struct dns_msg *m)
{
    int count = 0;
    for (;;) {
        struct sc t = *s;
        sc_ws(&t);
        size_t n = word_len(&t);
        int type = type_from_text(t.p, n);
        if (n == 0 || type < 0)
            break;
        t.p += n;
        uint16_t cls = 1;
        if (sc_lit(&t, " ")) {
            if (!class_from_text(&t, &cls))
                t.p--;
        }
        if (!sc_lit(&t, " (QU)"))
            sc_lit(&t, " (QM)");
        if (!sc_lit(&t, "? "))
            break;
        size_t nl = tok_len(&t);
        if (count == 0) {
            m->q.qtype = (uint16_t)type;
            m->q.qclass = cls;
            m->has_question = name_from_text(t.p, nl, &m->q.name);
        }
        t.p += nl;
        *s = t;
        count++;
    }
    return count;
}

/* Parses the RR lists of one message section by section. */
void text_dns_sections(struct sc *s, struct dns_msg *m, uint8_t section)
{
    while (s->p < s->e) {
        sc_ws(s);
        if (sc_lit(s, "ns:")) {
            section = DNS_SEC_AUTHORITY;
            continue;
        }
        if (sc_lit(s, "ar:")) {
            section = DNS_SEC_ADDITIONAL;
            continue;
        }
        if (s->p >= s->e)
            break;
        const char *end = rr_end(s->p, s->e);
        parse_rr(s->p, end, section, m);
        s->p = end;
        sc_lit(s, ",");
    }
}
