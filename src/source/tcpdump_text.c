/* tcpdump_text.c: reads the text tcpdump prints (default, -n/-nn, -t..-ttttt, -v/-vv, -e, -#)
 * back into decoded packets, including text wrapped and pasted into tickets. */
#include "source/source_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* A record (continuation lines joined) and a single line are both capped, so that a huge line of
 * junk costs a bounded buffer and a scan, never memory. */
#define TEXT_RECORD_MAX (64 * 1024)
#define TEXT_LINE_MAX   (64 * 1024)
#define TEXT_IO_CHUNK   (64 * 1024)
/* ICMP quotes are followed this deep (an error quoting an error quoting ...). */
#define TEXT_MAX_DEPTH 2

/* ---------------------------------------------------------------------------------------- */
/* Scanning helpers: a cursor over [p, e), never past e. */

struct sc {
    const char *p, *e;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_val(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static size_t sc_left(const struct sc *s)
{
    return (size_t)(s->e - s->p);
}

static void sc_ws(struct sc *s)
{
    while (s->p < s->e && is_space(*s->p))
        s->p++;
}

static bool starts(const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0;
}

static bool sc_lit(struct sc *s, const char *lit)
{
    size_t n = strlen(lit);
    if (sc_left(s) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* Parses up to max_digits decimal digits into *v; false when there is no digit or the number
 * does not fit. */
static bool sc_uint(struct sc *s, uint64_t *v, int max_digits)
{
    const char *p = s->p;
    uint64_t x = 0;
    int n = 0;
    while (p < s->e && is_digit(*p) && n < max_digits) {
        x = x * 10 + (uint64_t)(*p - '0');
        p++;
        n++;
    }
    if (n == 0 || (p < s->e && is_digit(*p)))
        return false;
    *v = x;
    s->p = p;
    return true;
}

static bool sc_u32(struct sc *s, uint32_t *v)
{
    uint64_t x;
    if (!sc_uint(s, &x, 10) || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

static bool sc_u16(struct sc *s, uint16_t *v)
{
    uint64_t x;
    if (!sc_uint(s, &x, 5) || x > UINT16_MAX)
        return false;
    *v = (uint16_t)x;
    return true;
}

static bool sc_hex(struct sc *s, uint32_t *v)
{
    uint32_t x = 0;
    int n = 0;
    while (s->p < s->e && is_hex(*s->p) && n < 8) {
        x = x << 4 | (uint32_t)hex_val(*s->p);
        s->p++;
        n++;
    }
    *v = x;
    return n > 0;
}

/* The first occurrence of lit in [p, e), or NULL. */
static const char *find(const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    if (n == 0 || (size_t)(e - p) < n)
        return NULL;
    const char *last = e - n;
    while (p <= last) {
        const char *q = memchr(p, lit[0], (size_t)(last - p) + 1);
        if (!q)
            return NULL;
        if (memcmp(q, lit, n) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* A space-delimited token at s (not consumed). */
static size_t tok_len(const struct sc *s)
{
    const char *p = s->p;
    while (p < s->e && !is_space(*p))
        p++;
    return (size_t)(p - s->p);
}

/* From an opening '(' at p, the position just past its matching ')' (or e). */
static const char *paren_end(const char *p, const char *e)
{
    int depth = 0;
    for (; p < e; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0)
            return p + 1;
    }
    return e;
}

/* Reads "<lit><uint>" somewhere in [p, e). */
static bool find_uint(const char *p, const char *e, const char *lit, uint64_t *v)
{
    const char *q = find(p, e, lit);
    if (!q)
        return false;
    struct sc t = {q + strlen(lit), e};
    return sc_uint(&t, v, 10);
}

/* ---------------------------------------------------------------------------------------- */
/* Service names tcpdump prints for ports without -nn (from /etc/services, both transports). */

struct service {
    const char *name;
    uint16_t port;
};

static const struct service services[] = {
    {"domain", 53},
    {"http", 80},
    {"https", 443},
    {"ntp", 123},
    {"bootps", 67},
    {"bootpc", 68},
    {"ssh", 22},
    {"telnet", 23},
    {"smtp", 25},
    {"ftp", 21},
    {"ftp-data", 20},
    {"tftp", 69},
    {"pop3", 110},
    {"pop3s", 995},
    {"imap2", 143},
    {"imap", 143},
    {"imaps", 993},
    {"snmp", 161},
    {"snmp-trap", 162},
    {"syslog", 514},
    {"shell", 514},
    {"ldap", 389},
    {"ldaps", 636},
    {"kerberos", 88},
    {"netbios-ns", 137},
    {"netbios-dgm", 138},
    {"netbios-ssn", 139},
    {"microsoft-ds", 445},
    {"mdns", 5353},
    {"llmnr", 5355},
    {"submission", 587},
    {"submissions", 465},
    {"domain-s", 853},
    {"isakmp", 500},
    {"ipsec-nat-t", 4500},
    {"sunrpc", 111},
    {"nfs", 2049},
    {"mysql", 3306},
    {"postgresql", 5432},
    {"ms-sql-s", 1433},
    {"ms-sql-m", 1434},
    {"ms-wbt-server", 3389},
    {"http-alt", 8080},
    {"webcache", 8080},
    {"openvpn", 1194},
    {"bgp", 179},
    {"route", 520},
    {"router", 520},
    {"radius", 1812},
    {"radius-acct", 1813},
    {"ipp", 631},
    {"sip", 5060},
    {"sip-tls", 5061},
    {"xmpp-client", 5222},
    {"xmpp-server", 5269},
    {"rsync", 873},
    {"socks", 1080},
    {"x11", 6000},
    {"ircd", 6667},
    {"time", 37},
    {"whois", 43},
    {"finger", 79},
    {"auth", 113},
    {"nntp", 119},
    {"epmap", 135},
    {"login", 513},
    {"who", 513},
    {"exec", 512},
    {"biff", 512},
    {"printer", 515},
    {"talk", 517},
    {"ntalk", 518},
    {"dhcpv6-client", 546},
    {"dhcpv6-server", 547},
    {"rtsp", 554},
    {"ldp", 646},
    {"kpasswd", 464},
    {"ptp-event", 319},
    {"ptp-general", 320},
    {"xdmcp", 177},
    {"echo", 7},
    {"discard", 9},
    {"daytime", 13},
    {"chargen", 19},
    {"gopher", 70},
    {"svrloc", 427},
    {"redis", 6379},
    {"git", 9418},
    {"hkp", 11371},
    {"amqp", 5672},
    {"nut", 3493},
    {"iscsi-target", 3260},
    {"tacacs", 49},
    {"l2f", 1701},
    {"l2tp", 1701},
    {"pptp", 1723},
    {"afs3-callback", 7001},
    {"afs3-fileserver", 7000},
    {"afs3-prserver", 7002},
    {"afs3-vlserver", 7003},
    {"afs3-kaserver", 7004},
    {"afs3-volser", 7005},
    {"afs3-bos", 7007},
    {"rip", 520},
    {"ripng", 521},
    {"hsrp", 1985},
    {"vxlan", 4789},
    {"geneve", 6081},
    {"ntske", 4460},
    {"snmptrap", 162},
};

static bool service_port(const char *s, size_t n, uint16_t *port)
{
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        if (strlen(services[i].name) == n && memcmp(services[i].name, s, n) == 0) {
            *port = services[i].port;
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------------------------------- */
/* Timestamps */

struct tsval {
    int mode;    /* TEXT_TS_* */
    int64_t sec; /* seconds (of day, since epoch, or relative) */
    uint32_t nsec;
    bool leading_space; /* -ttt/-ttttt print one space before the time */
};

/* Fraction of 1..10 digits into nanoseconds (tcpdump prints 6, or 9 with --nano; an invalid
 * stamp may print more). */
static bool parse_frac(struct sc *s, uint32_t *nsec)
{
    uint64_t v = 0;
    int n = 0;
    while (s->p < s->e && is_digit(*s->p) && n < 10) {
        v = v * 10 + (uint64_t)(*s->p - '0');
        s->p++;
        n++;
    }
    if (n == 0)
        return false;
    for (int i = n; i < 9; i++)
        v *= 10;
    while (n > 9) {
        v /= 10;
        n--;
    }
    *nsec = v >= 1000000000u ? 999999999u : (uint32_t)v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* HH:MM:SS.frac (hours may exceed two digits for long relative times). */
static bool parse_hms(struct sc *s, int64_t *sec, uint32_t *nsec)
{
    uint64_t h, m, x;
    struct sc t = *s;
    if (!sc_uint(&t, &h, 6) || !sc_lit(&t, ":") || sc_left(&t) < 2 || !is_digit(t.p[0]) ||
        !is_digit(t.p[1]) || !sc_uint(&t, &m, 2) || !sc_lit(&t, ":") || !sc_uint(&t, &x, 2) ||
        m > 59 || x > 60)
        return false;
    if (!sc_lit(&t, ".") || !parse_frac(&t, nsec))
        return false;
    *sec = (int64_t)(h * 3600 + m * 60 + x);
    *s = t;
    return true;
}

/* A record starts (after an optional -# number column) with a timestamp in one of tcpdump's
 * styles, or, with -t, directly with the protocol. Fills v and moves s past the stamp and the
 * space after it. expect is the style already detected (TEXT_TS_UNKNOWN to detect). */
static bool parse_stamp(struct sc *s, int expect, struct tsval *v)
{
    struct sc t = *s;
    memset(v, 0, sizeof *v);
    if (t.p < t.e && *t.p == ' ') {
        v->leading_space = true;
        t.p++;
    }
    /* -tttt: date and time */
    if (sc_left(&t) >= 11 && is_digit(t.p[0]) && is_digit(t.p[1]) && is_digit(t.p[2]) &&
        is_digit(t.p[3]) && t.p[4] == '-') {
        uint64_t y, mo, d;
        if (!sc_uint(&t, &y, 4) || !sc_lit(&t, "-") || !sc_uint(&t, &mo, 2) || !sc_lit(&t, "-") ||
            !sc_uint(&t, &d, 2) || !sc_lit(&t, " ") || mo < 1 || mo > 12 || d < 1 || d > 31)
            return false;
        int64_t tod;
        if (!parse_hms(&t, &tod, &v->nsec) || tod >= 86400 + 1)
            return false;
        if (expect != TEXT_TS_UNKNOWN && expect != TEXT_TS_DATE)
            return false;
        v->mode = TEXT_TS_DATE;
        v->sec = days_from_civil((int64_t)y, (unsigned)mo, (unsigned)d) * 86400 + tod;
        goto done;
    }
    if (sc_left(&t) >= 4 && is_digit(t.p[0])) {
        struct sc h = t;
        int64_t sec;
        uint32_t nsec;
        if (parse_hms(&h, &sec, &nsec)) {
            bool relative = v->leading_space || (sec == 0 && nsec == 0);
            int mode;
            if (expect == TEXT_TS_UNKNOWN)
                mode = relative ? TEXT_TS_SINCE_FIRST : TEXT_TS_DEFAULT;
            else if (expect == TEXT_TS_DEFAULT || expect == TEXT_TS_DELTA ||
                     expect == TEXT_TS_SINCE_FIRST)
                mode = expect;
            else
                return false;
            v->mode = mode;
            v->sec = sec;
            v->nsec = nsec;
            t = h;
            goto done;
        }
        /* -tt: seconds since the epoch */
        uint64_t x;
        struct sc q = t;
        if (sc_uint(&q, &x, 12) && sc_lit(&q, ".") && parse_frac(&q, &v->nsec)) {
            if (expect != TEXT_TS_UNKNOWN && expect != TEXT_TS_EPOCH)
                return false;
            v->mode = TEXT_TS_EPOCH;
            v->sec = (int64_t)x;
            t = q;
            goto done;
        }
    }
    return false;
done:
    if (t.p < t.e && !is_space(*t.p))
        return false;
    sc_ws(&t);
    /* tcpdump flags impossible sub-second values */
    if (sc_lit(&t, "(invalid us)") || sc_lit(&t, "(invalid ns)"))
        sc_ws(&t);
    *s = t;
    return true;
}

/* Beginnings of records printed with -t (no timestamp). */
static bool is_mac(const char *p, const char *e)
{
    if (e - p < 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? p[i] != ':' : !is_hex(p[i]))
            return false;
    }
    return e - p == 17 || p[17] == ' ' || p[17] == ',';
}

static bool looks_like_protocol(const char *p, const char *e)
{
    return starts(p, e, "IP ") || starts(p, e, "IP6 ") || starts(p, e, "ARP, ") ||
           starts(p, e, "RARP, ") ||
           (is_mac(p, e) && (starts(p + 17, e, " > ") || starts(p + 17, e, " (oui")));
}

/* Skips tcpdump -#'s packet-number column ("    1  ") when something record-like follows. */
static void skip_number_column(struct sc *s)
{
    struct sc t = *s;
    uint64_t n;
    sc_ws(&t);
    if (!sc_uint(&t, &n, 12) || sc_left(&t) < 2 || t.p[0] != ' ' || t.p[1] != ' ')
        return;
    t.p += 2;
    /* tcpdump 5's --lengths: "caplen 98 len 98 " */
    struct sc l = t;
    if (sc_lit(&l, "caplen ") && sc_uint(&l, &n, 10) && sc_lit(&l, " len ") &&
        sc_uint(&l, &n, 10) && sc_lit(&l, " "))
        t = l;
    *s = t;
}

/* Where the record's stamp begins, after leading white space and the number column. Up to 3
 * leading blanks are allowed (the -ttt space); deeper indentation is a -v continuation. */
static bool record_start(const char *p, const char *e, int mode, struct sc *out, struct tsval *v)
{
    struct sc s = {p, e};
    const char *q = p;
    while (q < e && q - p < 4 && *q == ' ')
        q++;
    if (q < e && (*q == '\t' || (q - p >= 4 && *q == ' ')))
        return false;
    struct sc num = s;
    skip_number_column(&num);
    if (num.p != s.p) {
        /* a stamp or protocol must follow the number column, or it was not one */
        struct sc t = num;
        if (parse_stamp(&t, mode, v) ||
            ((mode == TEXT_TS_UNKNOWN || mode == TEXT_TS_NONE) && looks_like_protocol(t.p, t.e))) {
            s = num;
        }
    } else {
        s.p = q;
        if (q - p > 1)
            return false;
        if (q - p == 1)
            s.p = p; /* parse_stamp sees the -ttt space */
    }
    if (mode != TEXT_TS_NONE && parse_stamp(&s, mode, v)) {
        *out = s;
        return true;
    }
    sc_ws(&s);
    if ((mode == TEXT_TS_UNKNOWN || mode == TEXT_TS_NONE) && looks_like_protocol(s.p, s.e)) {
        memset(v, 0, sizeof *v);
        v->mode = TEXT_TS_NONE;
        *out = s;
        return true;
    }
    return false;
}

/* Turns the stamp into the packet's time, advancing the state (day wraps, relative modes). */
static void apply_stamp(struct text_state *st, const struct tsval *v, struct nt_time *ts)
{
    int mode = st->ts_mode ? st->ts_mode : v->mode;
    bool first = st->ts_mode == TEXT_TS_UNKNOWN;
    memset(ts, 0, sizeof *ts);
    switch (mode) {
    case TEXT_TS_DEFAULT: {
        int64_t sec = v->sec + st->day_offset;
        /* Going back more than 12 hours means midnight passed between the two packets. */
        if (!first && (st->last.sec - sec) > 12 * 3600) {
            st->day_offset += 86400;
            sec += 86400;
        }
        ts->kind = NT_TIME_OF_DAY;
        ts->sec = sec;
        ts->nsec = v->nsec;
        break;
    }
    case TEXT_TS_EPOCH:
    case TEXT_TS_DATE:
        ts->kind = NT_TIME_ABSOLUTE;
        ts->sec = v->sec;
        ts->nsec = v->nsec;
        break;
    case TEXT_TS_SINCE_FIRST:
    case TEXT_TS_DELTA: {
        ts->kind = NT_TIME_RELATIVE;
        /* -ttt and -ttttt look alike; a value smaller than the previous one can only be a
         * delta, so the mode switches to -ttt from there on. */
        if (mode == TEXT_TS_SINCE_FIRST && !first &&
            (v->sec < st->last.sec || (v->sec == st->last.sec && v->nsec < st->last.nsec)))
            mode = TEXT_TS_DELTA;
        if (mode == TEXT_TS_DELTA && !first) {
            *ts = st->last;
            ts->sec += v->sec;
            ts->nsec += v->nsec;
            if (ts->nsec >= 1000000000u) {
                ts->nsec -= 1000000000u;
                ts->sec++;
            }
            ts->kind = NT_TIME_RELATIVE;
        } else {
            ts->sec = v->sec;
            ts->nsec = v->nsec;
        }
        break;
    }
    default:
        ts->kind = NT_TIME_NONE;
        break;
    }
    st->ts_mode = mode;
    st->last = *ts;
}

/* ---------------------------------------------------------------------------------------- */
/* DNS names and text into the decoder's presentation form */

static void text_put(char *out, size_t cap, size_t *n, char c)
{
    if (*n + 1 < cap)
        out[(*n)++] = c;
}

/* Appends one name octet in presentation form. */
static void name_put_octet(char *out, size_t cap, size_t *n, uint8_t b)
{
    if (is_alpha((char)b) || is_digit((char)b) || b == '-' || b == '_') {
        text_put(out, cap, n, (char)b);
    } else if (b > 0x20 && b < 0x7f) {
        if (*n + 3 < cap) {
            out[(*n)++] = '\\';
            out[(*n)++] = (char)b;
        }
    } else if (*n + 5 < cap) {
        out[(*n)++] = '\\';
        out[(*n)++] = (char)('0' + b / 100);
        out[(*n)++] = (char)('0' + b / 10 % 10);
        out[(*n)++] = (char)('0' + b % 10);
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
/* DNS, as print-domain.c writes it */

static const char *const dns_ops[16] = {
    "",    "inv_q",   "stat",    "op3",      "notify",  "update",   "op6",      "op7",
    "op8", "updateA", "updateD", "updateDA", "updateM", "updateMA", "zoneInit", "zoneRef",
};

static const char *const dns_rcodes[] = {
    "",        "FormErr", "ServFail", "NXDomain", "NotImp", "Refused", "YXDomain", "YXRRSet",
    "NXRRSet", "NotAuth", "NotZone",  "Resp11",   "Resp12", "Resp13",  "Resp14",   "NoChange",
    "BadVers", "Resp17",  "Resp18",   "Resp19",   "Resp20", "Resp21",  "Resp22",   "BadCookie",
};

/* A word at s (up to a space or flag character). */
static size_t word_len(const struct sc *s)
{
    const char *p = s->p;
    while (p < s->e && (is_alpha(*p) || is_digit(*p) || *p == '_'))
        p++;
    return (size_t)(p - s->p);
}

static int match_word(const char *const *tab, int n, const char *w, size_t len)
{
    for (int i = 1; i < n; i++) {
        if (strlen(tab[i]) == len && memcmp(tab[i], w, len) == 0)
            return i;
    }
    return -1;
}

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
static int parse_questions(struct sc *s, struct dns_msg *m)
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
static void parse_sections(struct sc *s, struct dns_msg *m, uint8_t section)
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

/* Parses DNS text at s: "35084+ [1au] A? name. (24)" or "35084*- q: A? name. 1/0/0 A 1.2.3.4
 * (40)". Fills m and returns true when at least the id and the query/response shape were read.
 * quoted: inside an ICMP quote, where only the header and question matter. */
static bool parse_dns(struct sc *s, struct dns_msg *m)
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
        parse_questions(&w, m);
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
            parse_sections(&t, m, DNS_SEC_ANSWER);
        }
    }
    if (!response) {
        int nq = parse_questions(&t, m);
        if (nq > 0 || qd == 0)
            shape = true;
        if (!has_an && opcode == 1)
            an = 1; /* IQUERY prints [Na] only when not 1 */
        /* -vv prints the other sections of a query too */
        parse_sections(&t, m, DNS_SEC_ANSWER);
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

/* ---------------------------------------------------------------------------------------- */
/* Addresses and ports */

struct endpoint {
    struct nt_addr addr;
    bool has_port;
    bool port_unknown; /* a service name we do not know: port 0 */
    uint16_t port;
};

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
    }
    return true;
}

static bool port_from_text(const char *s, size_t n, uint16_t *port)
{
    if (all_digits(s, n)) {
        struct sc t = {s, s + n};
        return sc_u16(&t, port);
    }
    return service_port(s, n, port);
}

/* Host names tcpdump printed for addresses: letters, digits, '.', '-' and '_' only, so that
 * what is interned as an address is plain text. */
/* A host name as tcpdump prints a resolved address: any printable ASCII. A PTR record can hold
 * '`', '|' or '<' (attackers write them), and refusing such a name would make the record's
 * packet vanish from every count; the name is interned as read and escaped by the renderers. */
static bool is_host_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

/* How parse_endpoint treats a last label that could be a port. */
#define EP_AUTO   0 /* a port when numeric structure or a known service says so */
#define EP_WANT   1 /* the transport has ports: the last label is one, even if unknown */
#define EP_NOPORT 2 /* an address alone (the quoted destination in ICMP messages) */

/* Parses "addr", "addr.port" or "host.name.port". */
static bool parse_endpoint(const char *s, size_t n, int mode, struct endpoint *ep)
{
    bool want_port = mode == EP_WANT;
    memset(ep, 0, sizeof *ep);
    if (n == 0 || n > 300)
        return false;
    size_t dots = 0, colons = 0, last_dot = 0;
    bool digits_dots = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            dots++;
            last_dot = i;
        } else if (s[i] == ':') {
            colons++;
        } else if (!is_digit(s[i])) {
            digits_dots = false;
        }
    }
    if (colons >= 2) {
        /* IPv6: the port follows the last dot; "::ffff:1.2.3.4" has three dots of its own */
        if (mode != EP_NOPORT && (dots == 1 || dots == 4)) {
            if (!nt_addr_parse(&ep->addr, s, last_dot))
                return false;
            const char *ps = s + last_dot + 1;
            size_t pn = n - last_dot - 1;
            ep->has_port = true;
            if (!port_from_text(ps, pn, &ep->port))
                ep->port_unknown = true;
            return true;
        }
        return nt_addr_parse(&ep->addr, s, n);
    }
    if (digits_dots && (dots == 3 || mode == EP_NOPORT))
        return nt_addr_parse(&ep->addr, s, n);
    if (dots >= 1 && mode != EP_NOPORT) {
        const char *ps = s + last_dot + 1;
        size_t pn = n - last_dot - 1;
        uint16_t port;
        bool known = port_from_text(ps, pn, &port);
        struct nt_addr a;
        bool numeric = nt_addr_parse(&a, s, last_dot);
        if (numeric || known || want_port) {
            if (numeric)
                ep->addr = a;
            else if (!is_host_name(s, last_dot) || !nt_addr_set_name(&ep->addr, s, last_dot))
                return false;
            ep->has_port = true;
            ep->port = known ? port : 0;
            ep->port_unknown = !known;
            return true;
        }
    }
    /* a host name tcpdump resolved */
    if (!is_host_name(s, n))
        return false;
    return nt_addr_set_name(&ep->addr, s, n);
}

/* ---------------------------------------------------------------------------------------- */
/* The network part of a record */

struct netctx {
    struct text_state *st;
    int depth;
};

static void parse_network(struct netctx *cx, struct sc *s, struct packet *pkt, int version);

/* "(tos 0x0, ttl 64, id 25369, offset 0, flags [none], proto UDP (17), length 90)" */
static void parse_ipv4_header(const char *p, const char *e, struct packet *pkt)
{
    uint64_t v;
    if (find_uint(p, e, "ttl ", &v) && v <= 255)
        pkt->ttl = (uint8_t)v;
    if (find_uint(p, e, " id ", &v) && v <= UINT16_MAX)
        pkt->ip_id = (uint16_t)v;
    if (find_uint(p, e, "offset ", &v) && v <= UINT16_MAX) {
        pkt->frag_offset = (uint16_t)v;
        if (v)
            pkt->fragment = true;
    }
    const char *f = find(p, e, "flags [");
    if (f) {
        const char *fe = find(f, e, "]");
        if (fe && find(f, fe, "+")) {
            pkt->more_fragments = true;
            pkt->fragment = true;
        }
    }
    const char *pr = find(p, e, "proto ");
    if (pr) {
        const char *op = find(pr, e, " (");
        if (op) {
            struct sc t = {op + 2, e};
            uint64_t x;
            if (sc_uint(&t, &x, 3) && x <= 255)
                pkt->proto = (uint8_t)x;
        }
    }
    if (find_uint(p, e, "length ", &v) && v <= UINT32_MAX)
        pkt->ip_len = (uint32_t)v;
    if (find(p, e, "options ("))
        pkt->ip_options = true;
}

/* "(flowlabel 0x..., hlim 64, next-header UDP (17) payload length: 68)" */
static void parse_ipv6_header(const char *p, const char *e, struct packet *pkt)
{
    uint64_t v;
    if (find_uint(p, e, "hlim ", &v) && v <= 255)
        pkt->ttl = (uint8_t)v;
    const char *nh = find(p, e, "next-header ");
    if (nh) {
        const char *op = find(nh, e, " (");
        if (op) {
            struct sc t = {op + 2, e};
            uint64_t x;
            if (sc_uint(&t, &x, 3) && x <= 255)
                pkt->proto = (uint8_t)x;
        }
    }
    if (find_uint(p, e, "payload length: ", &v) && v <= UINT32_MAX - 40)
        pkt->ip_len = (uint32_t)v + 40;
}

/* ICMP messages as print-icmp.c writes them. The address in most is the quoted datagram's
 * destination. */
struct icmp_form {
    const char *prefix; /* before the address ("" when it starts with it) */
    const char *suffix; /* after the address */
    uint8_t code;       /* of type 3, destination unreachable */
};

static const struct icmp_form icmp_unreach_forms[] = {
    {"host ", " unreachable - admin prohibited filter", 13},
    {"host ", " unreachable - host precedence violation", 14},
    {"host ", " unreachable - precedence cutoff", 15},
    {"net ", " unreachable - admin prohibited", 9},
    {"host ", " unreachable - admin prohibited", 10},
    {"net ", " unreachable - tos prohibited", 11},
    {"host ", " unreachable - tos prohibited", 12},
    {"net ", " unreachable - unknown", 6},
    {"host ", " unreachable - unknown", 7},
    {"", " unreachable - source route failed", 5},
    {"", " unreachable - source host isolated", 8},
    {"", " unreachable - need to frag", 4},
    {"net ", " unreachable", 0},
    {"host ", " unreachable", 1},
};

/* Reads an address token ending at a space; fills the quote's destination. */
static bool quote_dst(const char *p, const char *e, struct packet *pkt, uint8_t version)
{
    struct endpoint ep;
    if (!parse_endpoint(p, (size_t)(e - p), EP_NOPORT, &ep))
        return false;
    pkt->quote.dst = ep.addr;
    pkt->quote.known |= QUOTE_K_DST;
    if (ep.addr.family == NT_AF_INET6)
        pkt->quote.ip_version = 6;
    else if (ep.addr.family == NT_AF_INET)
        pkt->quote.ip_version = 4;
    else
        pkt->quote.ip_version = version;
    return true;
}

/* "<addr> udp port <p> unreachable" and relatives. Returns true when matched. */
static bool icmp_port_unreach(struct sc *s, struct packet *pkt, uint8_t version, bool v6)
{
    struct sc t = *s;
    size_t n = tok_len(&t);
    if (!n)
        return false;
    const char *a = t.p, *ae = t.p + n;
    t.p += n;
    uint8_t proto;
    uint16_t port = 0;
    bool port_ok = true;
    if (sc_lit(&t, " udp port "))
        proto = 17;
    else if (sc_lit(&t, " tcp port "))
        proto = 6;
    else if (sc_lit(&t, " protocol ")) {
        uint64_t pv;
        if (!sc_uint(&t, &pv, 3) || pv > 255)
            return false;
        proto = (uint8_t)pv;
        if (sc_lit(&t, " port ")) {
            if (!sc_u16(&t, &port))
                return false;
            if (!v6 && !sc_lit(&t, " unreachable"))
                return false;
            sc_lit(&t, " unreachable");
            goto matched;
        }
        if (v6 || !sc_lit(&t, " unreachable"))
            return false;
        /* protocol unreachable */
        if (!quote_dst(a, ae, pkt, version))
            return false;
        pkt->quote.proto = proto;
        pkt->quote.known |= QUOTE_K_PROTO;
        pkt->icmp_type = 3;
        pkt->icmp_code = 2;
        *s = t;
        return true;
    } else
        return false;
    {
        size_t pn = tok_len(&t);
        /* the port may be followed by ',' (ICMP6) */
        while (pn && (t.p[pn - 1] == ',' || t.p[pn - 1] == ':'))
            pn--;
        if (!pn)
            return false;
        port_ok = port_from_text(t.p, pn, &port);
        t.p += pn;
    }
    if (!v6 && !sc_lit(&t, " unreachable"))
        return false;
matched:
    if (!quote_dst(a, ae, pkt, version))
        return false;
    pkt->quote.proto = proto;
    pkt->quote.dport = port;
    pkt->quote.known |= QUOTE_K_PROTO;
    if (port_ok)
        pkt->quote.known |= QUOTE_K_DPORT;
    else
        packet_add_anomaly(pkt, "text.unknown_service_name");
    pkt->icmp_type = v6 ? 1 : 3;
    pkt->icmp_code = v6 ? 4 : 3;
    *s = t;
    return true;
}

/* Copies what a parsed quoted datagram shows into pkt->quote. */
static void quote_from_packet(struct packet *pkt, const struct packet *q)
{
    struct icmp_quote *qt = &pkt->quote;
    if (!(q->layers & PKT_L_IP))
        return;
    qt->present = true;
    qt->ip_version = q->ip_version;
    qt->src = q->src;
    qt->dst = q->dst;
    qt->proto = q->proto;
    qt->ip_id = q->ip_id;
    qt->ip_total_len = q->ip_len;
    qt->known |= QUOTE_K_SRC | QUOTE_K_DST;
    if (q->proto)
        qt->known |= QUOTE_K_PROTO;
    if (q->layers & (PKT_L_UDP | PKT_L_TCP)) {
        qt->has_ports = true;
        qt->sport = q->sport;
        qt->dport = q->dport;
        qt->known |= QUOTE_K_SPORT | QUOTE_K_DPORT;
    }
    if (q->layers & PKT_L_DNS) {
        qt->has_dns = true;
        qt->dns_id = q->dns.id;
        qt->dns_flags = q->dns.flags;
        qt->known |= QUOTE_K_DNS_ID;
        if (q->dns.has_question) {
            qt->has_question = true;
            qt->q = q->dns.q;
            qt->known |= QUOTE_K_QUESTION;
        }
    }
}

/* With -v an ICMP error is followed by the quoted datagram: "IP (tos ...) a.p > b.q: ...", or
 * with -e just "(tos ...) a.p > b.q: ...". */
static void parse_icmp_quote(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    int version = 4;
    sc_ws(&t);
    /* a checksum note may come first */
    if (starts(t.p, t.e, "(wrong icmp cksum")) {
        t.p = paren_end(t.p, t.e);
        sc_ws(&t);
    }
    if (sc_lit(&t, "IP6 "))
        version = 6;
    else
        sc_lit(&t, "IP ");
    if (t.p >= t.e || *t.p != '(' || cx->depth >= TEXT_MAX_DEPTH)
        return;
    if (starts(t.p, t.e, "(hlim") || starts(t.p, t.e, "(flowlabel") || starts(t.p, t.e, "(class"))
        version = 6;
    /* On the stack: a record is parsed without allocating. */
    struct packet inner;
    packet_reset(&inner);
    struct netctx sub = {cx->st, cx->depth + 1};
    parse_network(&sub, &t, &inner, version);
    quote_from_packet(pkt, &inner);
    s->p = t.p;
}

static void finish_icmp(struct packet *pkt, uint8_t version)
{
    pkt->layers |= PKT_L_ICMP;
    pkt->icmp_kind = (uint8_t)icmp_classify(version, pkt->icmp_type, pkt->icmp_code);
    pkt->icmp_is_error = icmp_kind_is_error((enum icmp_kind)pkt->icmp_kind);
    if (pkt->quote.known && !pkt->quote.ip_version)
        pkt->quote.ip_version = version;
}

/* Reads ", length N" or " length N" (pasted text often lost the comma). */
static void icmp_length(struct sc *s, struct packet *pkt)
{
    const char *l = find(s->p, s->e, "length ");
    if (!l || (l - s->p) > 64)
        return;
    struct sc t = {l + 7, s->e};
    uint32_t v;
    if (sc_u32(&t, &v)) {
        pkt->icmp_len = v;
        s->p = t.p;
    }
}

/* ", id N, seq N" of echo messages, kept as the decoder keeps the 4 bytes after the checksum. */
static void parse_echo_ids(struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    uint16_t id, seq;
    if (sc_lit(&t, ", id ") && sc_u16(&t, &id) && sc_lit(&t, ", seq ") && sc_u16(&t, &seq)) {
        pkt->icmp_rest = (uint32_t)id << 16 | seq;
        *s = t;
    }
}

/* ICMP (IPv4): s is just past "ICMP ". */
static void parse_icmp4(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    bool ok = false;
    uint64_t v;
    pkt->proto = 1;
    if (sc_lit(&t, "echo request")) {
        pkt->icmp_type = 8;
        parse_echo_ids(&t, pkt);
        ok = true;
    } else if (sc_lit(&t, "echo reply")) {
        pkt->icmp_type = 0;
        parse_echo_ids(&t, pkt);
        ok = true;
    } else if (sc_lit(&t, "time exceeded in-transit")) {
        pkt->icmp_type = 11;
        ok = true;
    } else if (sc_lit(&t, "ip reassembly time exceeded")) {
        pkt->icmp_type = 11;
        pkt->icmp_code = 1;
        ok = true;
    } else if (sc_lit(&t, "time exceeded-#")) {
        pkt->icmp_type = 11;
        if (sc_uint(&t, &v, 3) && v <= 255)
            pkt->icmp_code = (uint8_t)v;
        ok = true;
    } else if (sc_lit(&t, "parameter problem - octet ")) {
        pkt->icmp_type = 12;
        ok = true;
    } else if (sc_lit(&t, "parameter problem - code ")) {
        pkt->icmp_type = 12;
        if (sc_uint(&t, &v, 3) && v <= 255)
            pkt->icmp_code = (uint8_t)v;
        ok = true;
    } else if (sc_lit(&t, "source quench")) {
        pkt->icmp_type = 4;
        ok = true;
    } else if (sc_lit(&t, "router solicitation")) {
        pkt->icmp_type = 10;
        ok = true;
    } else if (sc_lit(&t, "router advertisement")) {
        pkt->icmp_type = 9;
        ok = true;
    } else if (sc_lit(&t, "time stamp query") || sc_lit(&t, "time stamp request")) {
        pkt->icmp_type = 13;
        ok = true;
    } else if (sc_lit(&t, "time stamp reply")) {
        pkt->icmp_type = 14;
        ok = true;
    } else if (sc_lit(&t, "information request")) {
        pkt->icmp_type = 15;
        ok = true;
    } else if (sc_lit(&t, "information reply")) {
        pkt->icmp_type = 16;
        ok = true;
    } else if (sc_lit(&t, "address mask request")) {
        pkt->icmp_type = 17;
        ok = true;
    } else if (sc_lit(&t, "address mask is")) {
        pkt->icmp_type = 18;
        ok = true;
    } else if (sc_lit(&t, "type-#")) {
        if (sc_uint(&t, &v, 3) && v <= 255) {
            pkt->icmp_type = (uint8_t)v;
            ok = true;
        }
    } else if (sc_lit(&t, "redirect")) {
        /* "redirect A to net G", "redirect-tos A to host G", "redirect-#N A to net G" */
        pkt->icmp_type = 5;
        bool tos = sc_lit(&t, "-tos");
        if (sc_lit(&t, "-#")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
        }
        sc_ws(&t);
        size_t n = tok_len(&t);
        if (n && quote_dst(t.p, t.p + n, pkt, 4))
            t.p += n;
        if (sc_lit(&t, " to host "))
            pkt->icmp_code = tos ? 3 : 1;
        else if (sc_lit(&t, " to net ") || sc_lit(&t, " to "))
            pkt->icmp_code = (uint8_t)(pkt->icmp_code ? pkt->icmp_code : (tos ? 2 : 0));
        n = tok_len(&t);
        while (n && t.p[n - 1] == ',')
            n--;
        struct endpoint gw;
        if (n && parse_endpoint(t.p, n, EP_NOPORT, &gw)) {
            pkt->icmp_addr = gw.addr;
            t.p += n;
        }
        ok = true;
    } else if (sc_lit(&t, "#")) {
        /* "#N A unreachable": destination unreachable, code N */
        if (sc_uint(&t, &v, 3) && v <= 255 && sc_lit(&t, " ")) {
            size_t n = tok_len(&t);
            if (n && quote_dst(t.p, t.p + n, pkt, 4)) {
                pkt->icmp_type = 3;
                pkt->icmp_code = (uint8_t)v;
                t.p += n;
                ok = true;
            }
        }
    }
    if (!ok && icmp_port_unreach(&t, pkt, 4, false))
        ok = true;
    if (!ok) {
        for (size_t i = 0; i < sizeof icmp_unreach_forms / sizeof icmp_unreach_forms[0]; i++) {
            const struct icmp_form *f = &icmp_unreach_forms[i];
            struct sc u = t;
            if (!sc_lit(&u, f->prefix))
                continue;
            size_t n = tok_len(&u);
            if (!n)
                continue;
            const char *a = u.p;
            u.p += n;
            if (!sc_lit(&u, f->suffix))
                continue;
            /* the longer forms come first; a bare " unreachable" must end there */
            if (u.p < u.e && *u.p != ',' && *u.p != ' ')
                continue;
            if (f->code == 4 && sc_lit(&u, " (mtu ")) {
                uint32_t mtu;
                if (sc_u32(&u, &mtu))
                    pkt->icmp_mtu = mtu;
                sc_lit(&u, ")");
            }
            if (!quote_dst(a, a + n, pkt, 4))
                continue;
            pkt->icmp_type = 3;
            pkt->icmp_code = f->code;
            t = u;
            ok = true;
            break;
        }
    }
    if (!ok)
        return;
    finish_icmp(pkt, 4);
    icmp_length(&t, pkt);
    if (pkt->icmp_is_error)
        parse_icmp_quote(cx, &t, pkt);
    *s = t;
}

/* ICMPv6: s is just past "ICMP6, ". */
static void parse_icmp6(struct sc *s, struct packet *pkt)
{
    static const struct {
        const char *name;
        uint8_t type;
    } types[] = {
        {"destination unreachable", 1},
        {"packet too big", 2},
        {"time exceeded in-transit", 3},
        {"parameter problem", 4},
        {"echo request", 128},
        {"echo reply", 129},
        {"multicast listener query", 130},
        {"multicast listener report v2", 143},
        {"multicast listener report", 131},
        {"multicast listener done", 132},
        {"router solicitation", 133},
        {"router advertisement", 134},
        {"neighbor solicitation", 135},
        {"neighbor advertisement", 136},
        {"redirect", 137},
        {"router renumbering", 138},
        {"inverse neighbor solicitation", 141},
        {"inverse neighbor advertisement", 142},
        {"ha discovery request", 144},
        {"ha discovery reply", 145},
        {"mobile router solicitation", 146},
        {"mobile router advertisement", 147},
        {"who-are-you request", 139},
        {"who-are-you reply", 140},
        {"node information query", 139},
        {"node information reply", 140},
        {"mtrace message", 201},
        {"mtrace response", 200},
        {"RPL", 155},
    };
    struct sc t = *s;
    bool ok = false;
    uint64_t v;
    pkt->proto = 58;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (sc_lit(&t, types[i].name)) {
            pkt->icmp_type = types[i].type;
            ok = true;
            break;
        }
    }
    if (!ok && sc_lit(&t, "unknown icmp6 type (")) {
        if (sc_uint(&t, &v, 3) && v <= 255) {
            pkt->icmp_type = (uint8_t)v;
            ok = true;
        }
    }
    if (!ok)
        return;
    /* -v prints ", length N" right after the type for some messages */
    struct sc l = t;
    if (sc_lit(&l, ", length ")) {
        uint32_t x;
        if (sc_u32(&l, &x)) {
            pkt->icmp_len = x;
            t = l;
        }
    }
    switch (pkt->icmp_type) {
    case 1: {
        static const struct {
            const char *name;
            uint8_t code;
        } codes[] = {{"unreachable route", 0}, {"unreachable prohibited", 1},
                     {"beyond scope", 2},      {"unreachable address", 3},
                     {"unreachable port", 4},  {"source address failed policy", 5},
                     {"reject route", 6},      {"source routing header error", 7}};
        if (!sc_lit(&t, ","))
            break;
        sc_ws(&t);
        bool got = false;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            if (sc_lit(&t, codes[i].name)) {
                pkt->icmp_code = codes[i].code;
                got = true;
                break;
            }
        }
        if (!got && sc_lit(&t, "unknown unreach code (")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
            sc_lit(&t, ")");
            got = true;
        }
        if (!got)
            break;
        if (pkt->icmp_code == 4) {
            sc_lit(&t, ",");
            sc_ws(&t);
            icmp_port_unreach(&t, pkt, 6, true);
            pkt->icmp_type = 1;
            pkt->icmp_code = 4;
        } else {
            sc_ws(&t);
            size_t n = tok_len(&t);
            while (n && t.p[n - 1] == ',')
                n--;
            if (n && quote_dst(t.p, t.p + n, pkt, 6))
                t.p += n;
            if (pkt->icmp_code == 2 && sc_lit(&t, ", source address ")) {
                size_t m = tok_len(&t);
                while (m && t.p[m - 1] == ',')
                    m--;
                struct endpoint ep;
                if (m && parse_endpoint(t.p, m, EP_NOPORT, &ep)) {
                    pkt->quote.src = ep.addr;
                    pkt->quote.known |= QUOTE_K_SRC;
                    t.p += m;
                }
            }
        }
        break;
    }
    case 128:
    case 129:
        parse_echo_ids(&t, pkt);
        break;
    case 137: {
        /* "redirect, DST to TARGET" */
        sc_lit(&t, ",");
        sc_ws(&t);
        size_t n = tok_len(&t);
        if (n && quote_dst(t.p, t.p + n, pkt, 6)) {
            t.p += n;
            struct endpoint ep;
            if (sc_lit(&t, " to ") && (n = tok_len(&t)) > 0) {
                while (n && t.p[n - 1] == ',')
                    n--;
                if (parse_endpoint(t.p, n, EP_NOPORT, &ep))
                    pkt->icmp_addr = ep.addr;
            }
        }
        break;
    }
    case 135:
    case 136: {
        /* ND: ", who has X" / ", tgt is X" */
        const char *w = find(t.p, t.e, ", who has ");
        const char *g = find(t.p, t.e, ", tgt is ");
        const char *a = w ? w + 10 : g ? g + 9 : NULL;
        if (a && a - t.p < 64) {
            struct sc u = {a, t.e};
            size_t n = tok_len(&u);
            while (n && u.p[n - 1] == ',')
                n--;
            struct endpoint ep;
            if (n && parse_endpoint(u.p, n, EP_NOPORT, &ep))
                pkt->icmp_addr = ep.addr;
        }
        break;
    }
    case 2:
        if (sc_lit(&t, ", mtu ")) {
            uint32_t mtu;
            if (sc_u32(&t, &mtu))
                pkt->icmp_mtu = mtu;
        }
        break;
    case 3:
        if (sc_lit(&t, " for ")) {
            size_t n = tok_len(&t);
            while (n && t.p[n - 1] == ',')
                n--;
            if (n && quote_dst(t.p, t.p + n, pkt, 6))
                t.p += n;
        } else if (sc_lit(&t, " (reassembly)")) {
            pkt->icmp_code = 1;
        } else if (sc_lit(&t, ", unknown code (")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
        }
        break;
    case 4:
        if (sc_lit(&t, ", erroneous"))
            pkt->icmp_code = 0;
        else if (sc_lit(&t, ", next header"))
            pkt->icmp_code = 1;
        else if (sc_lit(&t, ", option"))
            pkt->icmp_code = 2;
        else if (sc_lit(&t, ", incomplete header chain"))
            pkt->icmp_code = 3;
        else if (sc_lit(&t, ", code-#")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
        }
        break;
    default:
        break;
    }
    finish_icmp(pkt, 6);
    if (!pkt->icmp_len)
        icmp_length(&t, pkt);
    if (!pkt->icmp_len && pkt->proto == 58 && pkt->ip_len >= 40)
        pkt->icmp_len = pkt->ip_len - 40;
    *s = t;
}

/* "Flags [S.], cksum 0x.. (correct), seq 1:59, ack 1, win 64240, options [...], length 58" */
static void parse_tcp(struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    pkt->layers |= PKT_L_TCP;
    pkt->proto = 6;
    while (t.p < t.e && *t.p != ']') {
        const char *l = *t.p ? strchr(TCP_FLAG_LETTERS, *t.p) : NULL;
        if (l)
            pkt->tcp_flags |= (uint8_t)(1u << (l - TCP_FLAG_LETTERS));
        t.p++;
    }
    sc_lit(&t, "]");
    /* fields up to "length N" ("options [...]" may hold anything but no "length ") */
    const char *opt = find(t.p, t.e, "options [");
    const char *len = find(t.p, t.e, ", length ");
    if (opt && len && opt < len) {
        const char *oe = find(opt, t.e, "]");
        if (oe)
            len = find(oe, t.e, ", length ");
    }
    const char *fe = len ? len : t.e;
    uint64_t v;
    if (find_uint(t.p, fe, ", seq ", &v) && v <= UINT32_MAX)
        pkt->tcp_seq = (uint32_t)v;
    if (find_uint(t.p, fe, ", ack ", &v) && v <= UINT32_MAX)
        pkt->tcp_ack = (uint32_t)v;
    if (find_uint(t.p, fe, ", win ", &v) && v <= UINT16_MAX)
        pkt->tcp_win = (uint16_t)v;
    if (!len) {
        *s = t;
        return;
    }
    struct sc l = {len + 9, t.e};
    uint32_t plen = 0;
    if (sc_u32(&l, &plen))
        pkt->l4_payload_len = plen;
    /* 4.99 prints the DNS message after "length N ", newer versions after "length N: " */
    sc_lit(&l, ":");
    sc_ws(&l);
    if (plen && l.p < l.e && is_digit(*l.p)) {
        struct sc d = l;
        if (parse_dns(&d, &pkt->dns)) {
            pkt->layers |= PKT_L_DNS;
            l = d;
        }
    }
    *s = l;
}

/* Skips the checksum notes tcpdump -v prints before a payload. */
static void skip_cksum_notes(struct sc *s)
{
    for (;;) {
        sc_ws(s);
        if (starts(s->p, s->e, "[udp sum ok]") || starts(s->p, s->e, "[bad udp cksum") ||
            starts(s->p, s->e, "[icmp6 sum ok]") || starts(s->p, s->e, "[bad icmp6 cksum") ||
            starts(s->p, s->e, "[no cksum]") || starts(s->p, s->e, "[udp sum")) {
            const char *b = find(s->p, s->e, "]");
            if (!b)
                return;
            s->p = b + 1;
            continue;
        }
        return;
    }
}

/* After "src > dst: ". Decides the transport from what is printed. */
static void parse_payload(struct netctx *cx, struct sc *s, struct packet *pkt, int version,
                          bool ports)
{
    skip_cksum_notes(s);
    if (version == 4 && sc_lit(s, "ICMP ")) {
        parse_icmp4(cx, s, pkt);
        return;
    }
    if (version == 6) {
        const char *ic = find(s->p, s->e, "ICMP6, ");
        /* ICMP6 after extension headers ("HBH ", "frag (...) ") and checksum notes */
        if (ic && (ic - s->p) < 512 && !ports) {
            s->p = ic + 7;
            parse_icmp6(s, pkt);
            return;
        }
    }
    /* GRE whose payload parse_tunnel did not follow (ERSPAN, NHRP, keepalives, ...) */
    if (starts(s->p, s->e, "GREv")) {
        pkt->proto = 47;
        return;
    }
    if (starts(s->p, s->e, "Flags [")) {
        s->p += 7;
        parse_tcp(s, pkt);
        return;
    }
    if (sc_lit(s, "tcp ")) { /* -q */
        pkt->layers |= PKT_L_TCP;
        pkt->proto = 6;
        uint32_t v;
        if (sc_u32(s, &v))
            pkt->l4_payload_len = v;
        return;
    }
    if (sc_lit(s, "UDP, length ") || sc_lit(s, "UDP, bad length ")) {
        pkt->layers |= PKT_L_UDP;
        pkt->proto = 17;
        uint32_t v;
        if (sc_u32(s, &v))
            pkt->l4_payload_len = v;
        return;
    }
    if (starts(s->p, s->e, "DCCP ")) {
        pkt->proto = 33;
        return;
    }
    if (starts(s->p, s->e, "sctp") || starts(s->p, s->e, "SCTP")) {
        pkt->proto = 132;
        return;
    }
    if (!ports)
        return;
    /* A transport with ports that is not TCP is UDP (TCP always prints "Flags"), unless the
     * -v header said otherwise. */
    if (pkt->proto == 6) {
        pkt->layers |= PKT_L_TCP;
    } else if (pkt->proto == 0 || pkt->proto == 17) {
        pkt->layers |= PKT_L_UDP;
        pkt->proto = 17;
    } else {
        return;
    }
    if (s->p < s->e && is_digit(*s->p)) {
        struct sc d = *s;
        if (parse_dns(&d, &pkt->dns)) {
            pkt->layers |= PKT_L_DNS;
            if (pkt->layers & PKT_L_UDP)
                pkt->l4_payload_len = pkt->dns.length;
            *s = d;
        }
    }
}

/* Where the packet a tunnel carries starts, after the tunnel header ending at p, and its IP
 * version: "IP ..." or "IP6 ..." after ": " (or, with -v, after the line break, now a space);
 * with -e, after the inner Ethernet header ("00:11:.. > 00:22:.., ethertype IPv4 (0x0800),
 * length 98: 2.2.2.2.4789 > ..."), or right away when the tunnel header named the protocol
 * (hint 4 or 6: GRE's "proto IPv4 (0x0800)"). NULL when something else follows. */
static const char *tunnel_inner(const char *p, const char *e, int hint, int *version)
{
    struct sc t = {p, e};
    sc_lit(&t, ":");
    sc_ws(&t);
    if (is_mac(t.p, t.e)) {
        const char *et = find(t.p, t.e - t.p > 96 ? t.p + 96 : t.e, ", ethertype IPv");
        if (!et || (et[15] != '4' && et[15] != '6'))
            return NULL;
        hint = et[15] == '4' ? 4 : 6;
        const char *c = find(et, t.e - et > 64 ? et + 64 : t.e, ": ");
        if (!c)
            return NULL;
        t.p = c + 2;
    }
    /* PPP inside PPTP's GRE with -e: "IP (0x0021), length 103: " */
    if (starts(t.p, t.e, "IP (0x0021), length ") || starts(t.p, t.e, "IPv6 (0x0057), length ")) {
        hint = t.p[2] == 'v' ? 6 : 4;
        const char *c = find(t.p, t.e - t.p > 40 ? t.p + 40 : t.e, ": ");
        if (!c)
            return NULL;
        t.p = c + 2;
    }
    if (sc_lit(&t, "IP6 ")) {
        *version = 6;
        return t.p;
    }
    if (sc_lit(&t, "IP ")) {
        *version = 4;
        return t.p;
    }
    /* with -e the inner header starts with its address, or with -v its "(tos ..." */
    if (hint && t.p < t.e && (is_hex(*t.p) || *t.p == ':' || *t.p == '(')) {
        *version = hint;
        return t.p;
    }
    return NULL;
}

/* Reads a tunnel header tcpdump printed after "src > dst: " (s), and the packet it carries,
 * which the record then describes, as the pcap decoder does (the outer packet goes to
 * pkt->tunnels). Forms (tcpdump 4.99, with and without -v):
 *   IP in IP   "IP6 a > b: IP c > d: ..."
 *   GRE        "GREv0, [Flags [..], ][key=0x.., ][seq N, ]length N: IP ..."
 *              "GREv1, [Flags [..], ]call N, seq N, ack N, length N: IP ..." (PPTP)
 *   VXLAN      "VXLAN, flags [I] (0x08), vni N<line break>IP ..."
 *   Geneve     "Geneve, Flags [none], vni 0x1092[, options [..]]: IP ..."
 * Returns false when s holds none of them (or the carried packet is not IP), leaving pkt as
 * it was. */
static bool parse_tunnel(struct netctx *cx, struct sc *s, struct packet *pkt, int version,
                         const struct endpoint *src, const struct endpoint *dst, bool ports)
{
    struct pkt_tunnel tun;
    memset(&tun, 0, sizeof tun);
    const char *inner = NULL;
    int iv = 0;
    uint32_t gre_len = 0;
    bool have_len = false;
    uint64_t v;
    struct endpoint ie;
    size_t in1 = tok_len(s);
    if (!ports && (starts(s->p, s->e, "IP ") || starts(s->p, s->e, "IP6 "))) {
        tun.kind = PKT_TUN_IPIP;
        iv = s->p[2] == '6' ? 6 : 4;
        inner = s->p + (iv == 6 ? 4 : 3);
        pkt->proto = iv == 6 ? 41 : 4;
    } else if (!ports && (starts(s->p, s->e, "(tos ") || starts(s->p, s->e, "(hlim ") ||
                          starts(s->p, s->e, "(class ") || starts(s->p, s->e, "(flowlabel "))) {
        /* -e -v: the inner header's fields, without "IP " */
        tun.kind = PKT_TUN_IPIP;
        iv = s->p[1] == 't' ? 4 : 6;
        inner = s->p;
        pkt->proto = iv == 6 ? 41 : 4;
    } else if (!ports && in1 && starts(s->p + in1, s->e, " > ") &&
               parse_endpoint(s->p, in1, EP_AUTO, &ie) &&
               (ie.addr.family == NT_AF_INET || ie.addr.family == NT_AF_INET6)) {
        /* -e prints IP in IP without the inner "IP " */
        tun.kind = PKT_TUN_IPIP;
        iv = ie.addr.family == NT_AF_INET6 ? 6 : 4;
        inner = s->p;
        pkt->proto = iv == 6 ? 41 : 4;
    } else if (!ports && starts(s->p, s->e, "GREv") && s->e - s->p > 4 && is_digit(s->p[4])) {
        tun.kind = PKT_TUN_GRE;
        pkt->proto = 47;
        const char *he = s->e - s->p > 400 ? s->p + 400 : s->e;
        const char *lp = find(s->p, he, ", length ");
        if (!lp)
            return false;
        struct sc l = {lp + 9, s->e};
        uint32_t len;
        if (!sc_u32(&l, &len))
            return false;
        gre_len = len;
        have_len = true;
        unsigned ver = (unsigned)(s->p[4] - '0');
        tun.flags = (uint16_t)(ver & 7);
        if (find_uint(s->p, lp, "call ", &v) && v <= UINT16_MAX) {
            tun.has_key = true;
            tun.key = (uint32_t)v;
        }
        const char *k = find(s->p, lp, "key=0x");
        if (k) {
            struct sc kh = {k + 6, lp};
            uint32_t key;
            if (sc_hex(&kh, &key)) {
                tun.has_key = true;
                tun.key = key;
            }
        }
        if (find_uint(s->p, lp, ", seq ", &v) && v <= UINT32_MAX) {
            tun.has_seq = true;
            tun.seq = (uint32_t)v;
        }
        if (find_uint(s->p, lp, ", ack ", &v) && v <= UINT32_MAX) {
            tun.has_ack = true;
            tun.ack = (uint32_t)v;
        }
        int hint = find(s->p, lp, "proto IPv4 (0x0800)")   ? 4
                   : find(s->p, lp, "proto IPv6 (0x86dd)") ? 6
                                                           : 0;
        inner = tunnel_inner(l.p, s->e, hint, &iv);
    } else if (ports && sc_lit(s, "VXLAN, ")) {
        tun.kind = PKT_TUN_VXLAN;
        struct sc f = *s;
        uint32_t flags;
        if (sc_lit(&f, "flags [") && find(f.p, f.e, "(0x")) {
            f.p = find(f.p, f.e, "(0x") + 3;
            if (sc_hex(&f, &flags))
                tun.flags = (uint16_t)(flags & 0xff);
        }
        const char *vn = find(s->p, s->e - s->p > 64 ? s->p + 64 : s->e, "vni ");
        if (!vn)
            return false;
        struct sc n = {vn + 4, s->e};
        uint32_t vni;
        if (sc_u32(&n, &vni))
            tun.vni = vni;
        inner = tunnel_inner(n.p, s->e, 0, &iv);
    } else if (ports && sc_lit(s, "Geneve, ")) {
        tun.kind = PKT_TUN_GENEVE;
        struct sc f = *s;
        if (sc_lit(&f, "Flags [")) {
            const char *b = find(f.p, f.e, "]");
            if (b && b - f.p < 8) {
                for (const char *q = f.p; q < b; q++)
                    tun.flags |= *q == 'O' ? 0x80 : *q == 'C' ? 0x40 : 0;
                f.p = b + 1;
            }
        }
        const char *vn = find(f.p, f.e - f.p > 32 ? f.p + 32 : f.e, "vni 0x");
        if (!vn)
            return false;
        f.p = vn + 6;
        uint32_t vni;
        if (sc_hex(&f, &vni))
            tun.vni = vni;
        const char *hw = f.e - f.p > 64 ? f.p + 64 : f.e;
        int hint = find(f.p, hw, ", proto IPv4 (0x0800)")   ? 4
                   : find(f.p, hw, ", proto IPv6 (0x86dd)") ? 6
                                                            : 0;
        /* ", rsvd 0x..", ", proto .. (0x..)" (-e), ", options [..]" */
        for (int i = 0; i < 4 && sc_lit(&f, ", "); i++) {
            const char *b = find(
                f.p, f.e - f.p > 512 ? f.p + 512 : f.e,
                starts(f.p, f.e, "options [") ? "]" : (starts(f.p, f.e, "proto ") ? ")" : ":"));
            if (!b)
                return false;
            if (starts(f.p, f.e, "options [")) {
                struct sc o = {f.p + 9, b};
                uint64_t ob;
                if (sc_uint(&o, &ob, 4) && ob <= 252)
                    tun.opt_len = (uint8_t)ob;
            }
            f.p = *b == ':' ? b : b + 1;
        }
        inner = tunnel_inner(f.p, s->e, hint, &iv);
    } else {
        return false;
    }
    if (!inner)
        return false;
    if (tun.kind == PKT_TUN_VXLAN || tun.kind == PKT_TUN_GENEVE) {
        pkt->proto = 17;
        pkt->layers |= PKT_L_UDP;
        pkt->sport = src->port;
        pkt->dport = dst->port;
    }
    (void)version;
    struct pkt_outer_save save;
    if (!packet_tunnel_enter(pkt, &tun, &save))
        return false;
    if (have_len)
        pkt->tunnels[pkt->n_tunnels - 1].ip_payload_len = gre_len;
    struct sc in = {inner, s->e};
    parse_network(cx, &in, pkt, iv);
    if (!packet_tunnel_leave(pkt, &save))
        return false;
    *s = in;
    return true;
}

/* "IP [(-v header)] src > dst: payload" (s just past "IP "/"IP6 ", or past the -e link part). */
static void parse_network(struct netctx *cx, struct sc *s, struct packet *pkt, int version)
{
    sc_ws(s);
    /* notes 4.99 prints before the header */
    if (sc_lit(s, "truncated-ip - ")) {
        const char *b = find(s->p, s->e, "missing!");
        if (b && b - s->p < 32) {
            s->p = b + 8;
            sc_ws(s);
        }
    }
    while (s->p < s->e && *s->p == '[') {
        const char *b = find(s->p, s->e, "] ");
        if (!b || b - s->p > 128)
            break;
        s->p = b + 2;
        if (sc_lit(s, "(invalid) "))
            continue;
    }
    if (s->p < s->e && *s->p == '(') {
        const char *he = paren_end(s->p, s->e);
        if (version == 4)
            parse_ipv4_header(s->p, he, pkt);
        else
            parse_ipv6_header(s->p, he, pkt);
        s->p = he;
        sc_ws(s);
    }
    /* src > dst: */
    size_t n1 = tok_len(s);
    const char *a1 = s->p;
    if (!n1)
        return;
    struct sc t = {s->p + n1, s->e};
    if (!sc_lit(&t, " > "))
        return;
    size_t n2 = tok_len(&t);
    const char *a2 = t.p;
    if (n2 < 2 || a2[n2 - 1] != ':')
        return;
    n2--;
    t.p += n2 + 1;
    sc_ws(&t);
    struct endpoint src, dst;
    if (!parse_endpoint(a1, n1, EP_AUTO, &src) || !parse_endpoint(a2, n2, EP_AUTO, &dst))
        return;
    /* -Q or mixed families cannot be one IP packet */
    if (src.addr.family != dst.addr.family && src.addr.family != NT_AF_NAME &&
        dst.addr.family != NT_AF_NAME)
        return;
    if (version == 4 && (src.addr.family == NT_AF_INET6 || dst.addr.family == NT_AF_INET6))
        return;
    pkt->ip_version = (uint8_t)version;
    pkt->src = src.addr;
    pkt->dst = dst.addr;
    pkt->layers |= PKT_L_IP;
    bool ports = src.has_port && dst.has_port;
    /* IPv6 extension headers print before the transport, which then shows bare ports:
     * "HBH 41851 > 43913: Flags ...", "frag (0|1432) 53 > 51851: ..." */
    bool ext = false;
    for (int i = 0; version == 6 && !ports && i < 4; i++) {
        if (starts(t.p, t.e, "frag (")) {
            const char *fe = paren_end(t.p + 5, t.e);
            pkt->fragment = true;
            struct sc f = {t.p + 6, fe};
            const char *colon = find(f.p, f.e, ":");
            if (colon)
                f.p = colon + 1;
            uint64_t off;
            if (sc_uint(&f, &off, 6) && off <= UINT16_MAX)
                pkt->frag_offset = (uint16_t)off;
            t.p = fe;
        } else if (sc_lit(&t, "HBH") || sc_lit(&t, "DSTOPT")) {
            sc_ws(&t);
            while (t.p < t.e && *t.p == '(') {
                t.p = paren_end(t.p, t.e);
                sc_ws(&t);
            }
        } else {
            break;
        }
        ext = true;
        sc_ws(&t);
    }
    if (ext) {
        struct sc pp = t;
        uint16_t sp, dp;
        if (sc_u16(&pp, &sp) && sc_lit(&pp, " > ") && sc_u16(&pp, &dp) && sc_lit(&pp, ": ")) {
            src.has_port = dst.has_port = true;
            src.port = sp;
            dst.port = dp;
            ports = true;
            t = pp;
        }
    }
    {
        struct sc tt = t;
        skip_cksum_notes(&tt);
        if (parse_tunnel(cx, &tt, pkt, version, &src, &dst, ports)) {
            *s = tt;
            return;
        }
    }
    parse_payload(cx, &t, pkt, version, ports);
    if ((pkt->layers & (PKT_L_UDP | PKT_L_TCP)) && !ports) {
        /* host names with a service name we do not know: the last label was the port */
        struct endpoint s2, d2;
        if (parse_endpoint(a1, n1, EP_WANT, &s2) && parse_endpoint(a2, n2, EP_WANT, &d2) &&
            s2.has_port && d2.has_port) {
            src = s2;
            dst = d2;
            pkt->src = src.addr;
            pkt->dst = dst.addr;
            ports = true;
        }
    }
    if (ports && (pkt->layers & (PKT_L_UDP | PKT_L_TCP))) {
        pkt->sport = src.port;
        pkt->dport = dst.port;
        if (src.port_unknown || dst.port_unknown)
            packet_add_anomaly(pkt, "text.unknown_service_name");
    }
    *s = t;
}

/* "Request who-has T tell S", "Reply S is-at MAC" (optionally after "Ethernet (len 6), IPv4
 * (len 4), "): the sender and target protocol addresses go to src and dst, as the decoder
 * puts them. */
static void parse_arp(struct sc *s, struct packet *pkt)
{
    struct endpoint a, b;
    const char *q = find(s->p, s->e, "Request who-has ");
    const char *r = find(s->p, s->e, "Reply ");
    pkt->layers |= PKT_L_ARP;
    if (q && (!r || q < r)) {
        struct sc t = {q + 16, s->e};
        size_t n = tok_len(&t);
        if (!n || !parse_endpoint(t.p, n, EP_NOPORT, &b))
            return;
        t.p += n;
        pkt->arp_op = 1;
        pkt->dst = b.addr;
        const char *tl = find(t.p, t.e, " tell ");
        if (!tl || tl - t.p > 64)
            return;
        t.p = tl + 6;
        n = tok_len(&t);
        while (n && t.p[n - 1] == ',')
            n--;
        if (n && parse_endpoint(t.p, n, EP_NOPORT, &a))
            pkt->src = a.addr;
    } else if (r) {
        struct sc t = {r + 6, s->e};
        size_t n = tok_len(&t);
        if (!n || !parse_endpoint(t.p, n, EP_NOPORT, &a))
            return;
        pkt->arp_op = 2;
        pkt->src = a.addr;
        t.p += n;
        if (sc_lit(&t, " is-at ") && is_mac(t.p, t.e)) {
            for (int i = 0; i < 6; i++)
                pkt->arp_sha[i] = (uint8_t)(hex_val(t.p[3 * i]) << 4 | hex_val(t.p[3 * i + 1]));
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Link layer (-e) */

static void parse_link(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    uint32_t ethertype = 0;
    for (int hops = 0; hops < 4; hops++) {
        const char *et = find(t.p, t.e, "ethertype ");
        if (!et || et - t.p > 256)
            return;
        t.p = et + 10;
        const char *hx = find(t.p, t.e, " (0x");
        if (!hx || hx - t.p > 64)
            return;
        t.p = hx + 4;
        if (!sc_hex(&t, &ethertype) || !sc_lit(&t, ")"))
            return;
        if (sc_lit(&t, ", length ")) {
            uint32_t len;
            if (sc_u32(&t, &len) && hops == 0)
                pkt->caplen = pkt->wirelen = len;
            sc_lit(&t, ":");
        } else {
            sc_lit(&t, ",");
        }
        sc_ws(&t);
        if (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100) {
            uint16_t vid;
            if (sc_lit(&t, "vlan ") && sc_u16(&t, &vid) && pkt->n_vlan < 2)
                pkt->vlan[pkt->n_vlan++] = vid;
            continue;
        }
        break;
    }
    switch (ethertype) {
    case 0x0800:
        sc_lit(&t, "IP ");
        parse_network(cx, &t, pkt, 4);
        break;
    case 0x86dd:
        sc_lit(&t, "IP6 ");
        parse_network(cx, &t, pkt, 6);
        break;
    case 0x0806:
    case 0x8035:
        parse_arp(&t, pkt);
        break;
    default:
        break;
    }
    *s = t;
}

/* ---------------------------------------------------------------------------------------- */

bool text_parse_record(struct text_state *st, const char *rec, size_t len, struct packet *pkt)
{
    struct sc s = {rec, rec + len};
    struct tsval v;
    struct sc body;
    if (!record_start(s.p, s.e, st->ts_mode, &body, &v))
        return false;
    apply_stamp(st, &v, &pkt->ts);
    pkt->linktype = -1;
    pkt->line = rec;
    pkt->line_len = len;
    struct netctx cx = {st, 0};
    s = body;
    if (sc_lit(&s, "IP6 ")) {
        parse_network(&cx, &s, pkt, 6);
    } else if (sc_lit(&s, "IP ")) {
        parse_network(&cx, &s, pkt, 4);
    } else if (sc_lit(&s, "ip: ")) { /* 4.99 -e on raw IP links */
        parse_network(&cx, &s, pkt, 4);
    } else if (starts(s.p, s.e, "ARP, ") || starts(s.p, s.e, "RARP, ")) {
        parse_arp(&s, pkt);
    } else {
        parse_link(&cx, &s, pkt);
        if (!pkt->layers) {
            /* interface and direction columns (PKTAP, "-i any"): "lo    In  IP ..." */
            struct sc f = s;
            const char *ip = find(f.p, f.e - f.p > 48 ? f.p + 48 : f.e, "  IP");
            if (ip) {
                f.p = ip + 2;
                if (sc_lit(&f, "IP6 "))
                    parse_network(&cx, &f, pkt, 6);
                else if (sc_lit(&f, "IP "))
                    parse_network(&cx, &f, pkt, 4);
            }
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* The reader: lines to records */

struct text_src {
    FILE *f;
    char *io;
    size_t io_pos, io_len;
    bool io_eof, io_err;
    char *line; /* current line (NUL-terminated), TEXT_LINE_MAX bytes at most */
    size_t line_len;
    bool line_over;    /* the line was longer than TEXT_LINE_MAX: discarded */
    bool line_pending; /* line was read but belongs to the next record */
    bool line_eof_partial;
    uint64_t line_no;
    char *rec;
    size_t rec_len;
    uint64_t rec_line_no, rec_lines;
    bool rec_open;
    bool after_blank; /* blank lines followed the open record */
    int first_mode;   /* timestamp style of the first record's line, before it is parsed */
    struct text_state st;
    uint64_t nrec;
    bool saw_header;
    bool reported; /* NT_ERR_NO_RECORDS was returned once */
};

static bool fill(struct text_src *t)
{
    if (t->io_eof)
        return false;
    t->io_len = fread(t->io, 1, TEXT_IO_CHUNK, t->f);
    t->io_pos = 0;
    if (t->io_len == 0) {
        t->io_eof = true;
        if (ferror(t->f))
            t->io_err = true;
        return false;
    }
    return true;
}

/* Reads one line into t->line (without "\n" or "\r\n"). Returns false at the end. */
static bool read_line(struct text_src *t)
{
    bool any = false;
    t->line_len = 0;
    t->line_over = false;
    for (;;) {
        if (t->io_pos >= t->io_len && !fill(t))
            break;
        any = true;
        const char *p = t->io + t->io_pos;
        size_t n = t->io_len - t->io_pos;
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!t->line_over) {
            size_t room = TEXT_LINE_MAX - t->line_len;
            if (take > room) {
                t->line_over = true;
            } else {
                memcpy(t->line + t->line_len, p, take);
                t->line_len += take;
            }
        }
        t->io_pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return false;
    if (t->line_len && t->line[t->line_len - 1] == '\r')
        t->line_len--;
    t->line[t->line_len] = '\0';
    t->line_no++;
    return true;
}

static void bad_line(struct source *s, uint64_t line_no)
{
    if (s->stats.bad_lines < SOURCE_BAD_LINES_KEPT)
        s->stats.first_bad_lines[s->stats.bad_lines] = line_no;
    s->stats.bad_lines++;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_space(p[i]))
            return false;
    }
    return true;
}

/* Control bytes (other than tab) mean binary junk, not text. */
static bool is_binary(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)p[i];
        if ((b < 0x20 && b != '\t' && b != '\f') || b == 0x7f)
            return true;
    }
    return false;
}

/* tcpdump's own messages around the records. */
static bool is_tcpdump_chatter(const char *p, size_t n)
{
    const char *e = p + n;
    while (p < e && is_space(*p))
        p++;
    if (starts(p, e, "reading from file ") || starts(p, e, "listening on ") ||
        starts(p, e, "tcpdump: ") || starts(p, e, "dropped privs to "))
        return true;
    struct sc s = {p, e};
    uint64_t v;
    if (sc_uint(&s, &v, 20)) {
        if (sc_lit(&s, " packets captured") || sc_lit(&s, " packet captured") ||
            sc_lit(&s, " packets received by filter") || sc_lit(&s, " packet received by filter") ||
            sc_lit(&s, " packets dropped by kernel") || sc_lit(&s, " packet dropped by kernel") ||
            sc_lit(&s, " packets dropped by interface"))
            return true;
    }
    return false;
}

/* Closes the open record: parses it into pkt. Returns 1 for a packet, 0 when it was not a
 * record we could read (its lines are counted as bad). */
static int finish_record(struct source *s, struct text_src *t, struct packet *pkt)
{
    t->rec_open = false;
    t->rec[t->rec_len] = '\0';
    packet_reset(pkt);
    if (!text_parse_record(&t->st, t->rec, t->rec_len, pkt)) {
        for (uint64_t i = 0; i < t->rec_lines; i++)
            bad_line(s, t->rec_line_no + i);
        return 0;
    }
    pkt->num = ++t->nrec;
    pkt->line_no = t->rec_line_no;
    pkt->linktype = -1;
    return 1;
}

static int text_next(struct source *s, struct packet *pkt)
{
    struct text_src *t = s->impl;
    for (;;) {
        if (!t->line_pending) {
            if (!read_line(t)) {
                if (t->io_err) {
                    snprintf(s->error, sizeof s->error, "read error after line %llu",
                             (unsigned long long)t->line_no);
                    return NT_ERR_IO;
                }
                if (t->rec_open && finish_record(s, t, pkt))
                    return 1;
                if (t->nrec == 0 && !t->reported && (s->stats.bad_lines > 0 || !t->saw_header)) {
                    if (s->stats.bad_lines)
                        snprintf(s->error, sizeof s->error,
                                 "no tcpdump lines found (first unreadable line: %llu)",
                                 (unsigned long long)s->stats.first_bad_lines[0]);
                    else
                        snprintf(s->error, sizeof s->error, "no tcpdump lines found (empty input)");
                    t->reported = true;
                    return NT_ERR_NO_RECORDS;
                }
                return 0;
            }
            s->stats.lines++;
        }
        t->line_pending = false;
        const char *p = t->line;
        size_t n = t->line_len;
        if (t->line_over || is_binary(p, n)) {
            bad_line(s, t->line_no);
            if (t->rec_open && finish_record(s, t, pkt))
                return 1;
            continue;
        }
        if (is_blank(p, n)) {
            /* A blank line ends a pasted record, except that -v output may continue it with
             * indented lines (an HTTP body's empty line, say): decided by the next line. */
            t->after_blank = t->rec_open;
            continue;
        }
        if (is_tcpdump_chatter(p, n)) {
            t->saw_header = true;
            if (t->rec_open && finish_record(s, t, pkt))
                return 1;
            continue;
        }
        struct sc body;
        struct tsval v;
        /* The first record fixes the style: with timestamps, a later "IP ..." line without
         * one is a continuation (tunnelled packets under -v), not a -t record. */
        int mode = t->st.ts_mode ? t->st.ts_mode : t->first_mode;
        if (record_start(p, p + n, mode, &body, &v)) {
            if (!t->first_mode)
                t->first_mode = v.mode;
            t->after_blank = false;
            if (t->rec_open) {
                t->line_pending = true;
                if (finish_record(s, t, pkt))
                    return 1;
                t->line_pending = false;
            }
            memcpy(t->rec, p, n);
            t->rec_len = n;
            t->rec_open = true;
            t->rec_line_no = t->line_no;
            t->rec_lines = 1;
            continue;
        }
        if (t->rec_open && t->after_blank && !is_space(*p)) {
            /* text after a blank line that is neither a record nor indented: not ours */
            t->line_pending = true;
            if (finish_record(s, t, pkt))
                return 1;
            t->line_pending = false;
        }
        t->after_blank = false;
        if (!t->rec_open) {
            bad_line(s, t->line_no);
            continue;
        }
        /* a continuation: -v's indented lines, or a line wrapped by a document */
        while (n && is_space(*p)) {
            p++;
            n--;
        }
        while (n && is_space(p[n - 1]))
            n--;
        if (t->rec_len + 1 + n > TEXT_RECORD_MAX) {
            bad_line(s, t->line_no);
            continue;
        }
        t->rec[t->rec_len++] = ' ';
        memcpy(t->rec + t->rec_len, p, n);
        t->rec_len += n;
        t->rec_lines++;
    }
}

static void text_close(struct source *s)
{
    struct text_src *t = s->impl;
    if (!t)
        return;
    if (t->f)
        fclose(t->f);
    free(t->io);
    free(t->line);
    free(t->rec);
    free(t);
    s->impl = NULL;
}

static const struct source_ops text_ops = {.next = text_next, .close = text_close};

int source_text_open(FILE *f, struct source **out, char *err)
{
    struct text_src *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        goto fail;
    t->io = malloc(TEXT_IO_CHUNK);
    t->line = malloc(TEXT_LINE_MAX + 1);
    t->rec = malloc(TEXT_RECORD_MAX + 1);
    if (!t->io || !t->line || !t->rec)
        goto fail;
    struct source *s = source_alloc(&text_ops, SOURCE_TEXT, t);
    if (!s)
        goto fail;
    t->f = f;
    s->stats.linktype = -1;
    *out = s;
    return 0;
fail:
    if (t) {
        free(t->io);
        free(t->line);
        free(t->rec);
        free(t);
    }
    if (f)
        fclose(f);
    if (err)
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
    return NT_ERR_NOMEM;
}
