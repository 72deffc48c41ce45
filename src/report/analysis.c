/* analysis.c: the report model's own work: the appendix that explains evidence lines field by
 * field, the exit status, and freeing. Every explanation is built from the decoded values of
 * the line it explains. */
#include "report/analysis.h"
#include "report/evline.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap, ap2;
    va_start(ap, f);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, f, ap2);
    va_end(ap2);
    return s;
}

struct xl {
    struct explain_line *line;
    size_t cap;
    bool oom;
};

static void add_part(struct xl *x, const char *tok, size_t toklen, char *meaning)
{
    struct explain_line *l = x->line;
    if (!meaning) {
        x->oom = true;
        return;
    }
    if (l->n_parts == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 16;
        struct explain_part *np = realloc(l->parts, nc * sizeof *np);
        if (!np) {
            free(meaning);
            x->oom = true;
            return;
        }
        l->parts = np;
        x->cap = nc;
    }
    char *t = malloc(toklen + 1);
    if (!t) {
        free(meaning);
        x->oom = true;
        return;
    }
    memcpy(t, tok, toklen);
    t[toklen] = '\0';
    l->parts[l->n_parts].token = t;
    l->parts[l->n_parts].meaning = meaning;
    l->n_parts++;
}

static const char *proto_name(uint8_t p)
{
    return p == 6 ? "TCP" : p == 17 ? "UDP" : p == 1 ? "ICMP" : p == 58 ? "ICMPv6" : "IP";
}

/* Does tok start with the text form of addr, followed by end, '.', ':' or ','? Sets *port_part
 * to what follows the address ("52444" or "domain"), *port_len to its length. */
static bool token_is_addr(const char *tok, size_t len, const struct nt_addr *addr,
                          const char **port_part, size_t *port_len)
{
    char a[NT_ADDR_FMT_MAX];
    size_t al = nt_addr_format(addr, a, sizeof a);
    if (al == 0 || len < al || memcmp(tok, a, al) != 0)
        return false;
    size_t rest = len - al;
    const char *r = tok + al;
    if (rest && r[rest - 1] == ':')
        rest--;
    if (rest == 0) {
        *port_part = NULL;
        *port_len = 0;
        return true;
    }
    if (r[0] != '.')
        return false;
    *port_part = r + 1;
    *port_len = rest - 1;
    return true;
}

static char *addr_meaning(const struct evidence *ev, bool is_src, const char *port_part,
                          size_t port_len, const char *role)
{
    char a[NT_ADDR_FMT_MAX];
    nt_addr_format(is_src ? &ev->src : &ev->dst, a, sizeof a);
    uint16_t port = is_src ? ev->sport : ev->dport;
    const char *which = is_src ? "The source" : "The destination";
    if (!port_part)
        return fmt("%s: IP address %s (%s).", which, a, role);
    bool named = port_len && !isdigit((unsigned char)port_part[0]);
    const char *why = "";
    if (port == 53)
        why = ", the well-known DNS port";
    else if (port >= 1024)
        why = ", a temporary port the sender picked for this exchange";
    /* tcpdump prints port 0 as a number: a name read as 0 is one nettriage does not know. */
    if (named && port == 0)
        return fmt("%s: IP address %s (%s) and, after the last dot, a %s port that tcpdump "
                   "writes by its service name \"%.*s\" (from the capturing host's "
                   "/etc/services); nettriage does not know its number.",
                   which, a, role, proto_name(ev->proto), (int)port_len, port_part);
    if (named)
        return fmt("%s: IP address %s (%s) and, after the last dot, %s port %u, which tcpdump "
                   "writes by its service name \"%.*s\"%s.",
                   which, a, role, proto_name(ev->proto), port, (int)port_len, port_part, why);
    return fmt("%s: IP address %s (%s) and, after the last dot, %s port %u%s.", which, a, role,
               proto_name(ev->proto), port, why);
}

static char *flags_meaning(const struct evidence *ev, const char *tok, size_t len)
{
    struct strbuf b;
    strbuf_init(&b);
    bool response = ev->dns_flags & DNS_FLAG_QR;
    strbuf_printf(&b,
                  "The DNS message ID, %u: the client picks it for each query and the server's "
                  "answer must carry the same number, which is how the two are paired.",
                  ev->dns_id);
    for (size_t i = 0; i < len; i++) {
        switch (tok[i]) {
        case '+':
            strbuf_puts(&b, " \"+\" means recursion desired: the client asks the server to "
                            "resolve the name completely on its behalf.");
            break;
        case '*':
            strbuf_puts(&b, " \"*\" means the answer is authoritative: the server is in charge "
                            "of the name's zone.");
            break;
        case '-':
            if (response)
                strbuf_puts(&b, " \"-\" means the server does not offer recursion.");
            break;
        case '|':
            strbuf_puts(&b, " \"|\" means the answer was truncated: it did not fit and the "
                            "client should retry over TCP.");
            break;
        case '%':
            strbuf_puts(&b, " \"%\" means checking disabled: the client will validate DNSSEC "
                            "itself.");
            break;
        case '$':
            strbuf_puts(&b, " \"$\" means authenticated data: the server validated the answer "
                            "with DNSSEC.");
            break;
        default:
            break;
        }
    }
    return b.oom ? (strbuf_fini(&b), NULL) : strbuf_take(&b);
}

static char *icmp_message_meaning(const struct evidence *ev)
{
    const char *desc =
        icmp_code_description(ev->ip_version == 6 ? 6 : 4, ev->icmp_type, ev->icmp_code);
    char src[NT_ADDR_FMT_MAX], qdst[NT_ADDR_FMT_MAX];
    nt_addr_format(&ev->src, src, sizeof src);
    nt_addr_format(&ev->q_dst, qdst, sizeof qdst);
    const char *what = "";
    switch ((enum icmp_kind)ev->icmp_kind) {
    case ICMP_K_PORT_UNREACH:
        what = " A host's network stack sends this when a datagram arrives for a port that no "
               "program has open, or when a firewall rejects it with this message.";
        break;
    case ICMP_K_ADMIN_PROHIBITED:
        what = " A filter (a firewall or an access list) refused to deliver the datagram.";
        break;
    case ICMP_K_HOST_UNREACH:
    case ICMP_K_NET_UNREACH:
        what = " A router could not deliver the datagram towards its destination.";
        break;
    default:
        break;
    }
    if (ev->q_dst.family && ev->q_dport)
        return fmt("The ICMP message: %s (type %u, code %u). It is about a %s datagram that was "
                   "sent to %s port %u; %s sent this error back to the datagram's sender.%s",
                   desc, ev->icmp_type, ev->icmp_code, proto_name(ev->q_proto ? ev->q_proto : 17),
                   qdst, ev->q_dport, src, what);
    return fmt("The ICMP message: %s (type %u, code %u), sent by %s.%s", desc, ev->icmp_type,
               ev->icmp_code, src, what);
}

static bool is_date(const char *t, size_t n)
{
    return n == 10 && isdigit((unsigned char)t[0]) && t[4] == '-' && t[7] == '-';
}

/* A timestamp token: a time of day or ISO time (with ':'), or epoch seconds (digits, one '.').
 * An address with its port ("198.51.100.15.40000") has several dots and no ':'. */
static bool is_time(const char *t, size_t n)
{
    if (n == 0 || !isdigit((unsigned char)t[0]))
        return false;
    size_t dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)t[i]) && t[i] != ':' && t[i] != '.' && t[i] != '-' &&
            t[i] != 'T' && t[i] != 'Z' && t[i] != '+')
            return false;
        dots += t[i] == '.';
    }
    return memchr(t, ':', n) || dots == 1;
}

/* Splits the line at spaces and explains each field it recognises from the decoded values of
 * the evidence. */
/* The ICMP message's length judged against the datagram it quotes: at most its own 8-byte
 * header plus that whole datagram (quoted_size bytes, 0 when the input does not show it). */
static char *icmp_length_meaning(const struct evidence *ev, uint32_t quoted_size)
{
    if (!quoted_size)
        return fmt("The ICMP message is %u bytes long: its own 8-byte header, then as much of the "
                   "datagram it reports on as its sender included (the input does not show how "
                   "long that datagram was, so this length cannot be checked against it).",
                   ev->icmp_len);
    if (ev->icmp_len > quoted_size + 8)
        return fmt("The ICMP message is %u bytes long, more than its 8-byte header plus the whole "
                   "%u-byte datagram it reports on (%u bytes): the length does not fit that "
                   "datagram, so the message carries bytes other than its quote (padding, or a "
                   "quote of another datagram), and its match to that datagram is in doubt.",
                   ev->icmp_len, quoted_size, quoted_size + 8);
    if (ev->icmp_len < 8 + 28)
        return fmt("The ICMP message is %u bytes long: too short to quote the %u-byte datagram's "
                   "IP header and first 8 bytes, as RFC 792 requires.",
                   ev->icmp_len, quoted_size);
    if (ev->icmp_len == quoted_size + 8)
        return fmt("The ICMP message is %u bytes long: its own 8-byte header, then the whole "
                   "%u-byte datagram it reports on, quoted so the sender can tell which of its "
                   "packets failed.",
                   ev->icmp_len, quoted_size);
    return fmt("The ICMP message is %u bytes long: its own 8-byte header, then the first %u bytes "
               "of the %u-byte datagram it reports on, quoted so the sender can tell which of its "
               "packets failed.",
               ev->icmp_len, ev->icmp_len - 8, quoted_size);
}

/* Tunnels as tcpdump prints them: the outer packet ("IP a.p > b.q: "), the tunnel header, then
 * the packet inside, which is the one the evidence describes. */
static const struct {
    const char *word;
    const char *meaning;
} tunnel_words[] = {
    {"VXLAN-GPE,", "The tunnel header: VXLAN-GPE (UDP port 4790), which carries the packet that "
                   "follows between the two tunnel endpoints before it; vni is the virtual "
                   "network's number, and the flags are the header's I (network number valid), "
                   "P (next protocol given), B (broadcast, unknown unicast or multicast) and O "
                   "(operations and maintenance) bits. The analysis is about the packet inside."},
    {"VXLAN,", "The tunnel header: VXLAN (UDP port 4789), which carries an Ethernet frame, here "
               "the packet that follows, between the two tunnel endpoints before it; vni is the "
               "virtual network's number and flag I says it is valid. The analysis is about the "
               "packet inside."},
    {"Geneve,", "The tunnel header: Geneve (UDP port 6081), which carries the packet that follows "
                "between the two tunnel endpoints before it; vni is the virtual network's number. "
                "The analysis is about the packet inside."},
    {"GREv0,", "The tunnel header: GRE (IP protocol 47), which carries the packet that follows "
               "between the two tunnel endpoints before it. The analysis is about the packet "
               "inside."},
    {"GREv1,", "The tunnel header: GRE version 1, PPTP's (a VPN), which carries the packet that "
               "follows between the two tunnel endpoints before it. The analysis is about the "
               "packet inside."},
    {"GTPv1-U,", "The tunnel header: GTP-U (UDP port 2152), which carries a mobile subscriber's "
                 "packet, the one that follows, through the mobile network's core; teid is the "
                 "tunnel's number. The analysis is about the packet inside."},
};

/* The tunnel word the token is (its reading), or NULL. */
static const char *tunnel_word(const char *tok, size_t len)
{
    for (size_t i = 0; i < sizeof tunnel_words / sizeof tunnel_words[0]; i++)
        if (strlen(tunnel_words[i].word) == len && memcmp(tok, tunnel_words[i].word, len) == 0)
            return tunnel_words[i].meaning;
    return NULL;
}

/* The first "IP" or "IP6" token of s[from..end) after a space (where a packet's header starts):
 * its position, or 0 when there is none. */
static size_t next_ip_token(const char *s, size_t from, size_t end)
{
    for (size_t k = from; k + 3 < end; k++)
        if (s[k] == ' ' && (memcmp(s + k + 1, "IP ", 3) == 0 ||
                            (k + 4 < end && memcmp(s + k + 1, "IP6 ", 4) == 0)))
            return k + 1;
    return 0;
}

/* Where the packet inside the last tunnel of line s starts: the "IP" or "IP6" token after the
 * last tunnel word; 0 when the line shows no tunnel. */
static size_t tunnel_inner_start(const char *s, size_t n)
{
    size_t i = 0, after = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t st = i;
        while (i < n && s[i] != ' ')
            i++;
        if (i > st && tunnel_word(s + st, i - st))
            after = i;
    }
    return after ? next_ip_token(s, after, n) : 0;
}

/* A token of the outer packets before the packet inside a tunnel. */
static void explain_outer_token(struct xl *x, const char *s, size_t *i, size_t inner,
                                const char *tok, size_t len, bool *src_done)
{
    const char *tw = tunnel_word(tok, len);
    if (tw) {
        /* The header up to the packet inside, as one part ("VXLAN-GPE, flags [IP], vni 100:") */
        size_t next = next_ip_token(s, *i + 1, inner);
        size_t e = next ? next - 1 : inner;
        while (e > (size_t)(tok - s) && s[e - 1] == ' ')
            e--;
        add_part(x, tok, e - (size_t)(tok - s), fmt("%s", tw));
        *i = e;
        *src_done = false; /* a nested tunnel's outer packet follows */
        return;
    }
    if ((len == 2 && memcmp(tok, "IP", 2) == 0) || (len == 3 && memcmp(tok, "IP6", 3) == 0)) {
        add_part(
            x, tok, len,
            fmt("The outer packet, %s, which carries the tunnel.", len == 2 ? "IPv4" : "IPv6"));
        return;
    }
    if (len == 1 && tok[0] == '>') {
        add_part(x, tok, len,
                 fmt("The outer packet went from the left endpoint to the right one."));
        return;
    }
    struct nt_addr a;
    size_t al = len && tok[len - 1] == ':' ? len - 1 : len;
    /* "192.0.2.1.4790" (UDP tunnels) or "192.0.2.1" (GRE): the address, then its port */
    size_t cut = al;
    if (!nt_addr_parse(&a, tok, al)) {
        const char *dot = NULL;
        for (size_t k = 0; k < al; k++)
            if (tok[k] == '.')
                dot = tok + k;
        if (!dot || !nt_addr_parse(&a, tok, (size_t)(dot - tok)))
            return;
        cut = (size_t)(dot - tok);
    }
    if (a.family != NT_AF_INET && a.family != NT_AF_INET6)
        return;
    add_part(x, tok, len,
             fmt("A tunnel endpoint, the %s of the outer packet: IP address %.*s%s%.*s.",
                 *src_done ? "destination" : "source", (int)cut, tok, cut < al ? ", UDP port " : "",
                 cut < al ? (int)(al - cut - 1) : 0, cut < al ? tok + cut + 1 : ""));
    *src_done = true;
}

static void explain_tokens(struct xl *x, const struct evidence *ev, const char *client_role,
                           const char *server_role, uint32_t quoted_size)
{
    const char *s = x->line->text;
    size_t n = strlen(s), i = 0;
    bool seen_src = false, seen_dst = false, seen_time = false, seen_id = false, in_icmp = false;
    bool after_question = false; /* the previous token was the question ("A?") */
    size_t inner = tunnel_inner_start(s, n);
    bool outer_src = false;
    size_t n_tok = 0;
    char tb[16];
    while (i < n && !x->oom) {
        while (i < n && s[i] == ' ')
            i++;
        size_t st = i;
        while (i < n && s[i] != ' ')
            i++;
        const char *tok = s + st;
        size_t len = i - st;
        if (len == 0)
            break;
        const char *pp;
        size_t pl;
        /* Only the first token can be the timestamp, and only if the line has one. */
        bool timed = ev->ts.kind != NT_TIME_NONE && n_tok++ == 0;
        bool name_due = after_question;
        after_question = false;
        if (st < inner && !(ev->ts.kind != NT_TIME_NONE && n_tok == 1)) {
            explain_outer_token(x, s, &i, inner, tok, len, &outer_src);
            continue;
        }
        if (!seen_time && timed && is_date(tok, len)) {
            /* tcpdump -tttt: the date, then the time as the next token. */
            size_t j = i + 1;
            while (j < n && s[j] != ' ')
                j++;
            i = j;
            len = i - st;
            add_part(x, tok, len,
                     fmt("The date and time the packet was captured, by the capturing host's "
                         "clock."));
            seen_time = true;
        } else if (!seen_time && timed && is_time(tok, len)) {
            if (ev->ts.kind == NT_TIME_ABSOLUTE && memchr(tok, 'T', len) && tok[len - 1] == 'Z')
                add_part(x, tok, len,
                         fmt("The date and time the packet was captured, in UTC, to the "
                             "microsecond."));
            else if (ev->ts.kind == NT_TIME_ABSOLUTE && memchr(tok, 'T', len) && len > 6)
                add_part(x, tok, len,
                         fmt("The date and time the packet was captured, to the microsecond, "
                             "as a wall-clock time %.6s hours from UTC (--timezone).",
                             tok + len - 6));
            else
                add_part(
                    x, tok, len,
                    fmt("The time the packet was captured: hours, minutes and seconds to the "
                        "microsecond, by the capturing host's clock. The line gives no date."));
            seen_time = true;
        } else if (in_icmp && ((len == 2 && memcmp(tok, "IP", 2) == 0) ||
                               (len == 3 && memcmp(tok, "IP6", 3) == 0))) {
            add_part(x, tok, len,
                     fmt("The datagram the ICMP error quotes starts here: its %s header, then "
                         "its addresses and ports, as tcpdump -v prints them.",
                         len == 2 ? "IPv4" : "IPv6"));
        } else if (len == 2 && memcmp(tok, "IP", 2) == 0) {
            add_part(x, tok, len, fmt("The packet is IPv4 (tcpdump writes IP6 for IPv6)."));
        } else if (len == 3 && memcmp(tok, "IP6", 3) == 0) {
            add_part(x, tok, len, fmt("The packet is IPv6."));
        } else if (!seen_src && token_is_addr(tok, len, &ev->src, &pp, &pl)) {
            bool from_client = ev->role == EV_QUERY || ev->role == EV_RETRANSMISSION;
            add_part(x, tok, len,
                     addr_meaning(ev, true, pp, pl, from_client ? client_role : server_role));
            seen_src = true;
        } else if (seen_src && !seen_dst && len == 1 && tok[0] == '>') {
            add_part(x, tok, len,
                     fmt("The direction: the packet went from the address on the left to the one "
                         "on the right."));
        } else if (seen_src && !seen_dst && token_is_addr(tok, len, &ev->dst, &pp, &pl)) {
            bool to_server = ev->role == EV_QUERY || ev->role == EV_RETRANSMISSION;
            add_part(x, tok, len,
                     addr_meaning(ev, false, pp, pl, to_server ? server_role : client_role));
            seen_dst = true;
        } else if (seen_dst && ev->has_dns && !seen_id && isdigit((unsigned char)tok[0]) &&
                   strtoul(tok, NULL, 10) == ev->dns_id) {
            add_part(x, tok, len, flags_meaning(ev, tok, len));
            seen_id = true;
        } else if (seen_id && len > 3 && tok[0] == '[' && tok[len - 1] == ']' &&
                   memcmp(tok + len - 3, "au]", 3) == 0) {
            add_part(x, tok, len,
                     fmt("The query carries %u additional record%s; here the EDNS OPT record, by "
                         "which the client says it accepts answers larger than 512 bytes.",
                         ev->arcount, ev->arcount == 1 ? "" : "s"));
        } else if (seen_id && ev->has_question && len >= 2 && tok[len - 1] == '?') {
            add_part(x, tok, len,
                     fmt("The question: \"%s?\" asks for the name's %s records%s.",
                         dns_type_name(ev->qtype, tb, sizeof tb),
                         dns_type_name(ev->qtype, tb, sizeof tb),
                         ev->qtype == 1    ? " (its IPv4 addresses)"
                         : ev->qtype == 28 ? " (its IPv6 addresses)"
                                           : ""));
            after_question = true;
        } else if (seen_id && ev->qname && len == strlen(ev->qname) &&
                   memcmp(tok, ev->qname, len) == 0) {
            add_part(x, tok, len,
                     fmt("The name being looked up. The final dot is the root of the DNS tree: "
                         "the name is complete, not relative to a search domain."));
        } else if (name_due && ev->qname && tok[0] != '[') { /* not "[|domain]" (cut) */
            /* tcpdump prints a name's bytes as they are (M-x and ^x beyond printable ASCII);
             * the report writes them in presentation form, so the two differ. */
            add_part(x, tok, len,
                     fmt("The name being looked up, as tcpdump prints it. Its bytes are not all "
                         "letters, digits, '-' and '_': the report writes it %s, with each "
                         "other byte behind a backslash or as \\DDD (its decimal value), "
                         "so that no byte of it is taken for markup or a command.",
                         ev->qname));
        } else if (seen_id && len > 2 && tok[0] == '(' && tok[len - 1] == ')' &&
                   isdigit((unsigned char)tok[1])) {
            add_part(x, tok, len,
                     fmt("The DNS message is %.*s bytes long, not counting the UDP and IP "
                         "headers.",
                         (int)(len - 2), tok + 1));
        } else if (seen_dst && ev->icmp_kind && !in_icmp &&
                   ((len == 4 && memcmp(tok, "ICMP", 4) == 0) ||
                    (len == 6 && memcmp(tok, "ICMP6,", 6) == 0))) {
            add_part(x, tok, len,
                     fmt("ICMP, the Internet Control Message Protocol, which hosts and routers use "
                         "to report errors back to the sender of a packet."));
            in_icmp = true;
            /* The message runs up to the first "length N" after it: with -v, the quoted
             * datagram's IP header follows, with a "length" of its own. */
            while (i < n && s[i] == ' ')
                i++;
            size_t ms = i, me = n;
            const char *lp = NULL;
            for (size_t k = ms; k + 7 <= n && !lp; k++)
                if (memcmp(s + k, "length ", 7) == 0 && (k == ms || s[k - 1] == ' '))
                    lp = s + k;
            if (lp) {
                me = (size_t)(lp - s);
                while (me > ms && (s[me - 1] == ' ' || s[me - 1] == ','))
                    me--;
            }
            if (me > ms)
                add_part(x, s + ms, me - ms, icmp_message_meaning(ev));
            if (lp) {
                size_t le = (size_t)(lp - s) + 7;
                while (le < n && s[le] != ' ')
                    le++;
                add_part(x, lp, le - (size_t)(lp - s),
                         ev->role == EV_ICMP_ERROR
                             ? icmp_length_meaning(ev, quoted_size)
                             : fmt("The ICMP message is %u bytes long.", ev->icmp_len));
                i = le;
            } else {
                i = me;
            }
        }
    }
}

bool analysis_explain_fields(struct explain_line *l, const struct evidence *ev,
                             const char *client_role, const char *server_role, uint32_t quoted_size)
{
    if (!l->text) {
        if (!ev->text)
            return true;
        if (ev->from_text) {
            l->text = strdup(ev->text);
        } else {
            char t[NT_TIME_FMT_MAX];
            nt_time_format(&ev->ts, t, sizeof t);
            l->text = ev->ts.kind != NT_TIME_NONE ? fmt("%s %s", t, ev->text) : strdup(ev->text);
        }
        if (!l->text)
            return false;
    }
    struct xl x = {l, l->n_parts, false};
    explain_tokens(&x, ev, client_role, server_role, quoted_size);
    return !x.oom;
}

void analysis_explain_line_fini(struct explain_line *l)
{
    free(l->heading);
    free(l->text);
    for (size_t k = 0; k < l->n_parts; k++) {
        free(l->parts[k].token);
        free(l->parts[k].meaning);
    }
    free(l->parts);
    memset(l, 0, sizeof *l);
}

static bool explain_one(struct analysis *a, const struct evidence *ev, const char *heading,
                        const char *client_role, const char *server_role, uint32_t quoted_size)
{
    struct explain_line *nl = realloc(a->explain, (a->n_explain + 1) * sizeof *nl);
    if (!nl)
        return false;
    a->explain = nl;
    struct explain_line *l = &a->explain[a->n_explain++];
    memset(l, 0, sizeof *l);
    l->heading = strdup(heading);
    if (!l->heading)
        return false;
    return analysis_explain_fields(l, ev, client_role, server_role, quoted_size);
}

/* The size of the IP datagram an ICMP error quotes: its quoted IP header's total length when
 * the input shows it, else that of the query it answers (the latest query of the finding
 * before it to the quoted destination and port, with the DNS id when quoted): IP and UDP
 * headers without options plus the DNS message. 0 when unknown. */
static uint32_t quoted_datagram_size(const struct finding *f, const struct evidence *e)
{
    if (e->q_total_len)
        return e->q_total_len;
    const struct evidence *best = NULL;
    for (size_t k = 0; k < f->n_evidence; k++) {
        const struct evidence *q = &f->evidence[k];
        if ((q->role != EV_QUERY && q->role != EV_RETRANSMISSION) || q->input != e->input ||
            q->pkt > e->pkt || q->proto != 17 || !q->dns_len)
            continue;
        if (e->q_dst.family != NT_AF_NONE && !nt_addr_eq(&q->dst, &e->q_dst))
            continue;
        if (e->q_dport && q->dport != e->q_dport)
            continue;
        if (e->quote_has_dns && q->dns_id != e->q_dns_id)
            continue;
        best = q;
    }
    if (!best)
        return 0;
    return best->dns_len + 8 + (best->ip_version == 6 ? 40u : 20u);
}

static int impact_order(const void *pa, const void *pb)
{
    const struct finding *x = *(struct finding *const *)pa, *y = *(struct finding *const *)pb;
    if (x->lookups != y->lookups)
        return x->lookups > y->lookups ? -1 : 1;
    uint64_t cx = x->n_clients + x->clients_dropped, cy = y->n_clients + y->clients_dropped;
    if (cx != cy)
        return cx > cy ? -1 : 1;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int c = nt_time_cmp(&x->first_seen, &y->first_seen);
    if (c)
        return c;
    c = strcmp(x->id, y->id);
    return c ? c : strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

bool analysis_rank_findings(struct analysis *a)
{
    if (a->n_findings < 2 || a->ranked)
        return true;
    struct finding **r = malloc(a->n_findings * sizeof *r);
    if (!r)
        return false;
    memcpy(r, a->findings, a->n_findings * sizeof *r);
    qsort(r, a->n_findings, sizeof *r, impact_order);
    a->ranked = r;
    a->findings = r;
    return true;
}

bool analysis_build_explain(struct analysis *a)
{
    if (!analysis_rank_findings(a))
        return false;
    /* Captured packets' lines are made now, for the evidence the report prints only. */
    if (!evline_fill_analysis(a))
        return false;
    /* The first query and the first error of the first finding: the two kinds of line an
     * analyst meets in this incident. */
    for (size_t i = 0; i < a->n_findings; i++) {
        const struct finding *f = a->findings[i];
        const struct evidence *q = NULL, *e = NULL;
        for (size_t k = 0; k < f->n_evidence; k++) {
            if (!q && f->evidence[k].role == EV_QUERY)
                q = &f->evidence[k];
            if (!e && f->evidence[k].role == EV_ICMP_ERROR)
                e = &f->evidence[k];
        }
        if (q && !explain_one(a, q, "A DNS query", "the client", "the DNS server", 0))
            return false;
        if (e && !explain_one(a, e, "The ICMP error that answers it", "the client",
                              "the DNS server", quoted_datagram_size(f, e)))
            return false;
        if (q || e)
            break;
    }
    return true;
}

int analysis_exit_status(const struct analysis *a)
{
    return a->n_findings > 0 ? 1 : 0;
}

void analysis_input_unread(struct analysis_input *in, const struct source_stats *st)
{
    in->unread = st->unread;
    in->ignored_lines = st->ignored_lines;
    in->n_first_unread = 0;
    for (size_t i = 0; i < SOURCE_BAD_LINES_KEPT && i < st->unread; i++)
        in->first_unread[in->n_first_unread++] = st->first_unread[i];
    in->n_unread_samples = 0;
    for (size_t i = 0; i < SOURCE_SAMPLES_KEPT && i < st->unread; i++) {
        if (!st->unread_sample[i][0])
            continue;
        memcpy(in->unread_sample[in->n_unread_samples++], st->unread_sample[i], SOURCE_SAMPLE_MAX);
    }
}

bool analysis_date_note(const struct analysis *a, char *buf, size_t n)
{
    size_t dated = 0, w = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->n_inputs; i++)
        dated += a->inputs[i].dated_by_option;
    if (!dated || n < 64)
        return false;
    if (a->n_inputs == 1) {
        w = (size_t)snprintf(buf, n, "The input's times of day carry no date");
    } else {
        w = (size_t)snprintf(buf, n, "The times of day of input%s", dated > 1 ? "s" : "");
        for (size_t i = 0, k = 0; i < a->n_inputs && w < n; i++) {
            if (!a->inputs[i].dated_by_option)
                continue;
            w += (size_t)snprintf(buf + w, n - w, "%s%zu",
                                  k == 0           ? " "
                                  : k + 1 == dated ? " and "
                                                   : ", ",
                                  i + 1);
            k++;
        }
        if (w < n)
            w += (size_t)snprintf(buf + w, n - w, " carry no date");
    }
    char zone[32];
    if (a->date_zone.kind == NT_ZONE_LOCAL)
        snprintf(zone, sizeof zone, "the local time of this machine");
    else
        nt_zone_offset_format(a->date_zone.kind == NT_ZONE_FIXED ? a->date_zone.offset_s : 0, zone,
                              sizeof zone);
    if (w < n)
        snprintf(buf + w, n - w,
                 ": they are dated %s (the days after it past each midnight), as given with "
                 "--date, and read as %s wall-clock times.",
                 a->date, zone);
    return true;
}

const char *analysis_redact_note(const struct analysis *a)
{
    if (!a->redacted)
        return NULL;
    return "Client addresses are hidden (--redact): each client, an address that started a DNS "
           "lookup or a TCP connection and served none, is written client-1, client-2, ... in "
           "the order it first did, the same in every format; servers, resolvers and the hosts "
           "that sent ICMP errors are shown, and MAC addresses are hidden.";
}

const char *analysis_date_from(const struct analysis_input *in)
{
    if (!in->has_time)
        return NULL;
    if (in->dated_by_option)
        return "--date";
    return in->first_ts.kind == NT_TIME_ABSOLUTE ? "input" : NULL;
}

uint64_t analysis_unread(const struct analysis *a)
{
    uint64_t n = 0;
    for (size_t i = 0; i < a->n_inputs; i++)
        n += a->inputs[i].unread;
    return n;
}

void analysis_fini(struct analysis *a)
{
    for (size_t i = 0; i < a->n_inputs; i++) {
        free(a->inputs[i].path);
        free(a->inputs[i].error);
    }
    free(a->inputs);
    free(a->reported);
    free(a->actions);
    for (size_t i = 0; i < a->n_unmatched_examples; i++)
        evidence_fini(&a->unmatched_examples[i]);
    for (size_t i = 0; i < a->n_not_taken_examples; i++)
        evidence_fini(&a->not_taken_examples[i]);
    for (size_t i = 0; i < a->n_explain; i++)
        analysis_explain_line_fini(&a->explain[i]);
    free(a->explain);
    free(a->ranked);
    analysis_traffic_free(a->traffic);
    memset(a, 0, sizeof *a);
}
