/* stamp.c: where a tcpdump record begins and its timestamp, in every style (-t .. -ttttt,
 * --nano, after -#'s number column), and the packet time it gives (day wraps, relative
 * modes). */
#include "source/text/text_internal.h"

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

static bool looks_like_protocol(const char *p, const char *e);

/* HH:MM:SS.frac (hours may exceed two digits for long relative times). */
static bool parse_hms(struct sc *s, int64_t *sec, uint32_t *nsec)
{
    uint64_t h, m, x;
    struct sc t = *s;
    const char *p = t.p;
    if (sc_left(&t) >= 9 && is_digit(p[0]) && is_digit(p[1]) && p[2] == ':' && is_digit(p[3]) &&
        is_digit(p[4]) && p[5] == ':' && is_digit(p[6]) && is_digit(p[7]) && !is_digit(p[8])) {
        /* "HH:MM:SS", what tcpdump prints: read as the general path below reads it */
        h = (uint64_t)(p[0] - '0') * 10 + (uint64_t)(p[1] - '0');
        m = (uint64_t)(p[3] - '0') * 10 + (uint64_t)(p[4] - '0');
        x = (uint64_t)(p[6] - '0') * 10 + (uint64_t)(p[7] - '0');
        if (m > 59 || x > 60)
            return false;
        t.p += 8;
    } else if (!sc_uint(&t, &h, 6) || !sc_lit(&t, ":") || sc_left(&t) < 2 || !is_digit(t.p[0]) ||
               !is_digit(t.p[1]) || !sc_uint(&t, &m, 2) || !sc_lit(&t, ":") ||
               !sc_uint(&t, &x, 2) || m > 59 || x > 60)
        return false;
    if (!sc_lit(&t, ".")) {
        /* whole seconds: a paste that lost the fraction ("14:18:28 IP ..."), taken only when
         * a protocol follows, so that a sentence beginning with a time stays prose */
        struct sc r = t;
        if (r.p >= r.e || *r.p != ' ')
            return false;
        sc_ws(&r);
        if (!looks_like_protocol(r.p, r.e))
            return false;
        *nsec = 0;
    } else if (!parse_frac(&t, nsec)) {
        return false;
    }
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
static bool looks_like_protocol(const char *p, const char *e)
{
    return starts(p, e, "IP ") || starts(p, e, "IP6 ") || starts(p, e, "ARP, ") ||
           starts(p, e, "RARP, ") ||
           (text_is_mac(p, e) && (starts(p + 17, e, " > ") || starts(p + 17, e, " (oui")));
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
bool text_record_start(const char *p, const char *e, int mode, struct sc *out, struct tsval *v)
{
    struct sc s = {p, e};
    const char *q = p;
    while (q < e && q - p < 4 && *q == ' ')
        q++;
    bool deep = q < e && (*q == '\t' || (q - p >= 4 && *q == ' '));
    if (deep || q - p >= 4) {
        /* Deeper indentation is a -v continuation, unless a timestamp of the style already
         * seen (or, before the first record, of any style) begins it: a paste indented as a
         * whole (a Markdown code block, a quote). Four spaces and a number may also be -#'s
         * column, below. */
        const char *r = q;
        while (r < e && is_space(*r) && r - p < 64)
            r++;
        struct sc t = {r, e};
        if (mode != TEXT_TS_NONE && r < e && is_digit(*r) && parse_stamp(&t, mode, v)) {
            *out = t;
            return true;
        }
        if (deep)
            return false;
    }
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
void text_apply_stamp(struct text_state *st, const struct tsval *v, struct nt_time *ts)
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
