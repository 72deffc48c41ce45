/* escape.c: escaping of untrusted text for JSON, Markdown, terminals and HTML (RFC 3629 UTF-8). */
#include "report/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum medium { M_JSON, M_MD, M_MD_CODE, M_MD_CMD, M_TERM, M_HTML };

/* Length of the well-formed UTF-8 sequence at s (1 to 4), with its code point in *cp, or 0 when
 * s[0] does not start one. Follows RFC 3629 (table 3-7 of Unicode): overlong forms, surrogates
 * (ED A0..BF), code points past U+10FFFF and sequences cut short by the end are all rejected, so
 * every byte passed through is part of valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf) {
        len = 2;
        *cp = b & 0x1fu;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        *cp = b & 0x0fu;
        if (b == 0xe0)
            lo = 0xa0; /* below is overlong */
        else if (b == 0xed)
            hi = 0x9f; /* above are the UTF-16 surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        *cp = b & 0x07u;
        if (b == 0xf0)
            lo = 0x90; /* below is overlong */
        else if (b == 0xf4)
            hi = 0x8f; /* above is past U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = s[i];
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xbf))
            return 0;
        *cp = (*cp << 6) | (c & 0x3fu);
    }
    return len;
}

/* C0, DEL and C1: the code points a terminal may act on rather than print. */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* The Unicode bidirectional formatting characters (LRM, RLM, ALM, the embeddings and overrides
 * U+202A..202E, the isolates U+2066..2069): printed raw they reorder the text around them on a
 * terminal or in a browser, so a name could show as something else ("Trojan Source"). */
static bool is_bidi(uint32_t cp)
{
    return cp == 0x200e || cp == 0x200f || cp == 0x061c || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* The punctuation that CommonMark, GFM ('|', '~') and math extensions ('$') give a meaning to
 * anywhere in a line, written with a backslash. '<', '>' and '&' become entities instead,
 * which also keeps raw HTML out of renderers that pass it through. Characters that only mean
 * something at the start of a line ('#', '+', '-', '=', "1." / "1)") are escaped by esc_md
 * there and nowhere else: escaping every '.' would make the raw report, which analysts read
 * and paste as plain text, hard to read ("example\.com"). Links and images need '[', so '!',
 * '(' and ')' are safe once brackets are escaped. */
static bool md_special(uint32_t cp)
{
    return cp < 0x80 && cp != 0 && strchr("\\`*_[]|~$", (int)cp) != NULL;
}

/* Longest replacement: a 4-byte sequence written as four "\xNN". */
#define REPL_MAX 17

/* Writes each byte of s[0..n) as "\xNN" into buf; returns the length. */
static size_t bytes_hex(char *buf, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        buf[w++] = '\\';
        buf[w++] = 'x';
        buf[w++] = hex[s[i] >> 4];
        buf[w++] = hex[s[i] & 0xf];
    }
    return w;
}

static size_t put_lit(char *buf, const char *lit)
{
    size_t n = strlen(lit);
    memcpy(buf, lit, n);
    return n;
}

/* Puts the replacement for one well-formed character (bytes seq[0..len), code point cp) in buf,
 * returning its length, or 0 when the character is written as it is. */
static size_t replace(char *buf, enum medium m, const unsigned char *seq, size_t len, uint32_t cp)
{
    switch (m) {
    case M_JSON:
        if (cp == '"' || cp == '\\') {
            buf[0] = '\\';
            buf[1] = (char)cp;
            return 2;
        }
        /* DEL and C1 are legal in JSON strings but escaped so a JSON report printed on a
         * terminal carries no control sequence; U+2028/2029 because JavaScript before ES2019
         * does not allow them raw in string literals. */
        if (is_control(cp) || cp == 0x2028 || cp == 0x2029) {
            snprintf(buf, REPL_MAX, "\\u%04x", (unsigned)cp);
            return 6;
        }
        return 0;
    case M_MD:
        if (cp == '\n')
            return put_lit(buf, " ");
        if (is_control(cp))
            return bytes_hex(buf, seq, len);
        if (cp == '<')
            return put_lit(buf, "&lt;");
        if (cp == '>')
            return put_lit(buf, "&gt;");
        if (cp == '&')
            return put_lit(buf, "&amp;");
        if (md_special(cp)) {
            buf[0] = '\\';
            buf[1] = (char)cp;
            return 2;
        }
        return 0;
    case M_MD_CODE:
        /* A backtick could close the span; a '|' splits a GFM table cell even inside a code
         * span (and a backslash before it would show outside tables), so both are written as
         * their byte value like control bytes. */
        if (is_control(cp) || cp == '`' || cp == '|')
            return bytes_hex(buf, seq, len);
        return 0;
    case M_MD_CMD:
        /* A command in running text (a list item, never a table cell): '|' stays, so a
         * pipeline reads as one. */
        if (is_control(cp) || cp == '`')
            return bytes_hex(buf, seq, len);
        return 0;
    case M_TERM:
        if (is_control(cp) || is_bidi(cp))
            return bytes_hex(buf, seq, len);
        return 0;
    case M_HTML:
        if (is_control(cp) || is_bidi(cp))
            return bytes_hex(buf, seq, len);
        switch (cp) {
        case '&':
            return put_lit(buf, "&amp;");
        case '<':
            return put_lit(buf, "&lt;");
        case '>':
            return put_lit(buf, "&gt;");
        case '"':
            return put_lit(buf, "&quot;");
        case '\'':
            return put_lit(buf, "&#39;");
        default:
            return 0;
        }
    }
    return 0;
}

/* Copies runs of characters that need nothing in one append and replaces the rest. */
static void escape(struct strbuf *out, const char *str, size_t n, enum medium m)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    char buf[REPL_MAX];

    if (!s)
        return;
    while (i < n) {
        uint32_t cp = 0;
        size_t len = utf8_seq(s + i, n - i, &cp), w;
        if (len == 0) {
            /* Not UTF-8: the byte's value, in the medium's own notation. */
            len = 1;
            if (m == M_JSON)
                w = (size_t)snprintf(buf, sizeof buf, "\\u%04x", s[i]);
            else
                w = bytes_hex(buf, s + i, 1);
        } else {
            w = replace(buf, m, s + i, len, cp);
        }
        if (w == 0) {
            i += len;
            continue;
        }
        if (i > run)
            strbuf_append(out, str + run, i - run);
        strbuf_append(out, buf, w);
        i += len;
        run = i;
    }
    if (n > run)
        strbuf_append(out, str + run, n - run);
}

void esc_json(struct strbuf *out, const char *s, size_t n)
{
    escape(out, s, n, M_JSON);
}

/* True when s[i] ends a line-start marker: a space, a tab, a newline (written as a space) or
 * the end of the text. */
static bool marker_end(const char *s, size_t n, size_t i)
{
    return i >= n || s[i] == ' ' || s[i] == '\t' || s[i] == '\n'; /* a newline becomes a space */
}

void esc_md(struct strbuf *out, const char *s, size_t n)
{
    /* The text may be placed at the start of a line, where a heading, list item, thematic
     * break or setext underline could begin; newlines inside it become spaces, so only its
     * start needs this. CommonMark needs a space (or the end) after a list marker, so
     * "198.51.100.2" stays as it is while "1. x" becomes "1\. x". */
    size_t i = 0;
    if (n > 0 && (s[0] == '#' || s[0] == '=' ||
                  ((s[0] == '+' || s[0] == '-') && (marker_end(s, n, 1) || s[1] == '-')))) {
        strbuf_putc(out, '\\');
        strbuf_putc(out, s[0]);
        i = 1;
    } else {
        size_t d = 0;
        while (d < n && d < 10 && s[d] >= '0' && s[d] <= '9')
            d++;
        if (d > 0 && d < n && (s[d] == '.' || s[d] == ')') && marker_end(s, n, d + 1)) {
            strbuf_append(out, s, d);
            strbuf_putc(out, '\\');
            strbuf_putc(out, s[d]);
            i = d + 1;
        }
    }
    escape(out, s + i, n - i, M_MD);
}

void esc_md_code(struct strbuf *out, const char *s, size_t n)
{
    escape(out, s, n, M_MD_CODE);
}

void esc_md_cmd(struct strbuf *out, const char *s, size_t n)
{
    escape(out, s, n, M_MD_CMD);
}

void esc_term(struct strbuf *out, const char *s, size_t n)
{
    escape(out, s, n, M_TERM);
}

void esc_html(struct strbuf *out, const char *s, size_t n)
{
    escape(out, s, n, M_HTML);
}
