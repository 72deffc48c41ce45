/* test_escape.c: each output medium's escaping against hostile text and malformed UTF-8. */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/escape.h"

typedef void (*esc_fn)(struct strbuf *, const char *, size_t);

struct medium {
    const char *name;
    esc_fn fn;
};

static const struct medium media[] = {
    {"json", esc_json}, {"md", esc_md},     {"md_code", esc_md_code},
    {"term", esc_term}, {"html", esc_html},
};
#define N_MEDIA (sizeof media / sizeof media[0])

/* Escapes n bytes of s and checks the result against want (a C string). */
static void check_n(esc_fn fn, const char *s, size_t n, const char *want)
{
    struct strbuf b;
    strbuf_init(&b);
    fn(&b, s, n);
    assert_false(b.oom);
    assert_string_equal(strbuf_str(&b), want);
    /* The output holds no NUL: its length is what strlen sees. */
    assert_int_equal(b.len, strlen(strbuf_str(&b)));
    strbuf_fini(&b);
}

static void check(esc_fn fn, const char *s, const char *want)
{
    check_n(fn, s, strlen(s), want);
}

/* Decodes one UTF-8 sequence strictly (the test's own decoder, written apart from escape.c's):
 * returns its length, or 0 if malformed. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
        *cp = s[0] & 0x1fu;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
        *cp = s[0] & 0x0fu;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
        *cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3fu);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static int hexdig(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* escape.c writes lower case only */
}

/* Properties every medium's output must have whatever the input: valid UTF-8 with no control
 * character, and nothing the medium could act on. Fails the test with the medium's name. */
static void check_safe(const struct medium *m, const char *out, size_t len)
{
    const unsigned char *s = (const unsigned char *)out;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, len - i, &cp);
        if (l == 0 || is_control(cp)) {
            fail_msg("%s: unsafe byte 0x%02x at %zu of \"%s\"", m->name, s[i], i, out);
        }
        if (m->fn == esc_json) {
            if (cp == '"')
                fail_msg("json: raw quote in \"%s\"", out);
            if (cp == 0x2028 || cp == 0x2029)
                fail_msg("json: raw line separator");
            if (cp == '\\') {
                /* Only the escapes esc_json writes. */
                if (i + 1 >= len)
                    fail_msg("json: trailing backslash");
                if (s[i + 1] == '"' || s[i + 1] == '\\') {
                    i += 2;
                    continue;
                }
                if (s[i + 1] != 'u' || i + 5 >= len || hexdig(s[i + 2]) < 0 ||
                    hexdig(s[i + 3]) < 0 || hexdig(s[i + 4]) < 0 || hexdig(s[i + 5]) < 0)
                    fail_msg("json: bad escape in \"%s\"", out);
                i += 6;
                continue;
            }
        } else if (m->fn == esc_md) {
            if (cp == '<' || cp == '>')
                fail_msg("md: raw angle bracket in \"%s\"", out);
            if (cp == '&' && strncmp(out + i, "&lt;", 4) != 0 && strncmp(out + i, "&gt;", 4) != 0 &&
                strncmp(out + i, "&amp;", 5) != 0)
                fail_msg("md: raw ampersand in \"%s\"", out);
            if (cp == '\\') {
                if (i + 1 >= len)
                    fail_msg("md: trailing backslash");
                if (s[i + 1] == 'x') {
                    if (i + 3 >= len || hexdig(s[i + 2]) < 0 || hexdig(s[i + 3]) < 0)
                        fail_msg("md: bad \\x in \"%s\"", out);
                    i += 4;
                } else {
                    if (!strchr("\\`*_[]|~$#+-=.)", s[i + 1]))
                        fail_msg("md: stray backslash in \"%s\"", out);
                    i += 2;
                }
                continue;
            }
            if (cp < 0x80 && strchr("`*_[]|~$", (int)cp) && cp != 0)
                fail_msg("md: unescaped '%c' in \"%s\"", (char)cp, out);
            if (i == 0 && (cp == '#' || cp == '=' ||
                           ((cp == '+' || cp == '-') &&
                            (len == 1 || out[1] == ' ' || out[1] == '\t' || out[1] == '-'))))
                fail_msg("md: unescaped '%c' at the start of \"%s\"", (char)cp, out);
        } else if (m->fn == esc_md_code) {
            if (cp == '`' || cp == '|')
                fail_msg("md_code: raw '%c' in \"%s\"", (char)cp, out);
        } else if (m->fn == esc_html) {
            if (cp == '<' || cp == '>' || cp == '"' || cp == '\'')
                fail_msg("html: raw '%c' in \"%s\"", (char)cp, out);
            if (cp == '&' && strncmp(out + i, "&lt;", 4) != 0 && strncmp(out + i, "&gt;", 4) != 0 &&
                strncmp(out + i, "&amp;", 5) != 0 && strncmp(out + i, "&quot;", 6) != 0 &&
                strncmp(out + i, "&#39;", 5) != 0)
                fail_msg("html: raw ampersand in \"%s\"", out);
        }
        i += l;
    }
}

static void run_safe(const char *in, size_t n)
{
    for (size_t k = 0; k < N_MEDIA; k++) {
        struct strbuf b;
        strbuf_init(&b);
        media[k].fn(&b, in, n);
        check_safe(&media[k], strbuf_str(&b), b.len);
        strbuf_fini(&b);
    }
}

/* Decodes esc_json output back to bytes (the escapes it writes only: \" \\ \u00XX \u20XX),
 * returning a malloc'd buffer and its length. */
static char *json_unescape(const char *s, size_t n, size_t *out_len)
{
    char *o = malloc(n * 3 + 1);
    size_t w = 0;
    assert_non_null(o);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            o[w++] = s[i];
            continue;
        }
        if (s[i + 1] == '"' || s[i + 1] == '\\') {
            o[w++] = s[++i];
            continue;
        }
        assert_int_equal(s[i + 1], 'u');
        uint32_t cp = 0;
        for (int k = 2; k < 6; k++)
            cp = cp << 4 | (uint32_t)hexdig((unsigned char)s[i + (size_t)k]);
        if (cp < 0x80) {
            o[w++] = (char)cp;
        } else if (cp < 0x800) {
            o[w++] = (char)(0xc0 | cp >> 6);
            o[w++] = (char)(0x80 | (cp & 0x3f));
        } else {
            o[w++] = (char)(0xe0 | cp >> 12);
            o[w++] = (char)(0x80 | (cp >> 6 & 0x3f));
            o[w++] = (char)(0x80 | (cp & 0x3f));
        }
        i += 5;
    }
    *out_len = w;
    return o;
}

/* Valid UTF-8 comes back unchanged after JSON escaping and decoding. */
static void check_json_roundtrip(const char *in, size_t n)
{
    struct strbuf b;
    size_t got_len;
    strbuf_init(&b);
    esc_json(&b, in, n);
    char *got = json_unescape(strbuf_str(&b), b.len, &got_len);
    assert_int_equal(got_len, n);
    assert_memory_equal(got, in, n);
    free(got);
    strbuf_fini(&b);
}

/* Strings every test below runs through every medium. */
#define HOSTILE_SCRIPT "<script>alert(1)</script>"
#define HOSTILE_PUNCT  "`*_[]()!#+-."

static void test_json(void **state)
{
    (void)state;
    check(esc_json, HOSTILE_SCRIPT, HOSTILE_SCRIPT);
    check(esc_json, "a|b", "a|b");
    check(esc_json, "\n# heading", "\\u000a# heading");
    check(esc_json, "\x1b[31mred\x1b[0m", "\\u001b[31mred\\u001b[0m");
    check(esc_json, "\t\r\b\f", "\\u0009\\u000d\\u0008\\u000c");
    check_n(esc_json, "a\0b", 3, "a\\u0000b");
    check(esc_json, "say \"hi\" \\o/", "say \\\"hi\\\" \\\\o/");
    check(esc_json, HOSTILE_PUNCT, HOSTILE_PUNCT);
    check(esc_json, "\x7f", "\\u007f");
    /* C1 CSI encoded in UTF-8 is valid but a terminal may act on it. */
    check(esc_json,
          "\xc2\x9b"
          "31m",
          "\\u009b31m");
    check(esc_json,
          "a\xe2\x80\xa8"
          "b\xe2\x80\xa9",
          "a\\u2028b\\u2029");
    /* Valid UTF-8 passes through: é, €, an emoji, and the edges of the valid ranges. */
    check(esc_json, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check(
        esc_json,
        "\xc2\xa0\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
        "\xc2\xa0\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
    /* Invalid bytes become \u00XX of their value, one by one. */
    check(esc_json, "\xc0\xaf", "\\u00c0\\u00af");            /* overlong '/' */
    check(esc_json, "\xe0\x80\xaf", "\\u00e0\\u0080\\u00af"); /* 3-byte overlong */
    check(esc_json, "\xf0\x80\x80\xaf", "\\u00f0\\u0080\\u0080\\u00af");
    check(esc_json, "\xc1\xbf", "\\u00c1\\u00bf");
    check(esc_json, "a\x80z", "a\\u0080z");                              /* lone continuation */
    check(esc_json, "\xed\xa0\x80", "\\u00ed\\u00a0\\u0080");            /* UTF-16 surrogate D800 */
    check(esc_json, "\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf");            /* DFFF */
    check(esc_json, "\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080"); /* past U+10FFFF */
    check(esc_json, "\xf5\xff\xfe", "\\u00f5\\u00ff\\u00fe");
    check(esc_json, "ab\xe2\x82", "ab\\u00e2\\u0082"); /* truncated at the end */
    check(esc_json, "\xf0\x9f\x98", "\\u00f0\\u009f\\u0098");
    check(esc_json, "\xc3", "\\u00c3");
    check(esc_json, "\xe2\x82z\xc3\xa9", "\\u00e2\\u0082z\xc3\xa9"); /* resynchronises */
    check(esc_json, "", "");
}

static void test_md(void **state)
{
    (void)state;
    check(esc_md, HOSTILE_SCRIPT, "&lt;script&gt;alert(1)&lt;/script&gt;");
    check(esc_md, "a|b", "a\\|b");
    check(esc_md, "\n# heading", " # heading");
    check(esc_md, "x\n\n- item\n1. two", "x  - item 1. two");
    check(esc_md, "- item", "\\- item");
    check(esc_md, "12. two", "12\\. two");
    check(esc_md, "3) three", "3\\) three");
    check(esc_md, "=== x", "\\=== x");
    check(esc_md, "+ x", "\\+ x");
    check(esc_md, "---", "\\---");
    check(esc_md, "-x", "-x");
    check(esc_md, "198.51.100.2", "198.51.100.2");
    check(esc_md, "7.", "7\\.");
    check(esc_md, "\x1b[31m", "\\x1b\\[31m");
    check_n(esc_md, "a\0b", 3, "a\\x00b");
    check(esc_md, HOSTILE_PUNCT, "\\`\\*\\_\\[\\]()!#+-.");
    check(esc_md, "![x](javascript:alert(1))", "!\\[x\\](javascript:alert(1))");
    check(esc_md, "a\\b ~~s~~ {x} ===", "a\\\\b \\~\\~s\\~\\~ {x} ===");
    check(esc_md, "&amp; <b>", "&amp;amp; &lt;b&gt;");
    check(esc_md, "\r\n\t\x7f", "\\x0d \\x09\\x7f");
    check(esc_md, "\xc2\x9b", "\\xc2\\x9b");
    check(esc_md, "\xc0\xaf \xed\xa0\x80 \x80 \xe2\x82",
          "\\xc0\\xaf \\xed\\xa0\\x80 \\x80 \\xe2\\x82");
    check(esc_md, "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
    check(esc_md, "example.com", "example.com");
}

static void test_md_code(void **state)
{
    (void)state;
    check(esc_md_code, HOSTILE_SCRIPT, HOSTILE_SCRIPT);
    check(esc_md_code, "a|b", "a\\x7cb");
    check(esc_md_code, "\n# heading", "\\x0a# heading");
    check(esc_md_code, "\x1b[31m", "\\x1b[31m");
    check_n(esc_md_code, "a\0b", 3, "a\\x00b");
    check(esc_md_code, "``", "\\x60\\x60");
    check(esc_md_code, "a` <b> `c", "a\\x60 <b> \\x60c");
    check(esc_md_code, "*_[]()!#+-.", "*_[]()!#+-.");
    check(esc_md_code, "\xc2\x9b\x7f", "\\xc2\\x9b\\x7f");
    check(esc_md_code, "\xc0\xaf\xed\xa0\x80\x80\xf0\x9f\x98",
          "\\xc0\\xaf\\xed\\xa0\\x80\\x80\\xf0\\x9f\\x98");
    check(esc_md_code, "caf\xc3\xa9", "caf\xc3\xa9");
}

static void test_term(void **state)
{
    (void)state;
    check(esc_term, HOSTILE_SCRIPT, HOSTILE_SCRIPT);
    check(esc_term, "a|b", "a|b");
    check(esc_term, "\n# heading", "\\x0a# heading");
    check(esc_term, "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
    check(esc_term, "\x1b]0;title\x07", "\\x1b]0;title\\x07");
    check_n(esc_term, "a\0b", 3, "a\\x00b");
    check(esc_term, HOSTILE_PUNCT, HOSTILE_PUNCT);
    check(esc_term,
          "\x7f\xc2\x9b"
          "2J\xc2\x80\xc2\x9f\xc2\xa0",
          "\\x7f\\xc2\\x9b2J\\xc2\\x80\\xc2\\x9f\xc2\xa0");
    check(esc_term,
          "\x9b"
          "2J",
          "\\x9b2J"); /* a raw C1 byte is invalid UTF-8 */
    check(esc_term, "\xc0\xaf\xed\xa0\x80\xe2\x82", "\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82");
    check(esc_term, "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

static void test_html(void **state)
{
    (void)state;
    check(esc_html, HOSTILE_SCRIPT, "&lt;script&gt;alert(1)&lt;/script&gt;");
    check(esc_html, "\" onmouseover='x' &", "&quot; onmouseover=&#39;x&#39; &amp;");
    check(esc_html, "a|b", "a|b");
    check(esc_html, "\n# heading", "\\x0a# heading");
    check(esc_html, "\x1b[31m", "\\x1b[31m");
    check_n(esc_html, "a\0b", 3, "a\\x00b");
    check(esc_html, HOSTILE_PUNCT, HOSTILE_PUNCT);
    check(esc_html, "\xc2\x9b\xc0\xaf\xed\xa0\x80\xf0\x9f",
          "\\xc2\\x9b\\xc0\\xaf\\xed\\xa0\\x80\\xf0\\x9f");
    check(esc_html, "caf\xc3\xa9", "caf\xc3\xa9");
}

/* Escaping appends and leaves the buffer alone for empty input (also with a NULL pointer). */
static void test_append_and_empty(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_MEDIA; k++) {
        struct strbuf b;
        strbuf_init(&b);
        media[k].fn(&b, NULL, 0);
        media[k].fn(&b, "", 0);
        assert_int_equal(b.len, 0);
        strbuf_puts(&b, "pre:");
        media[k].fn(&b, "abc", 3);
        media[k].fn(&b, "abcdef", 2); /* only n bytes are read */
        assert_string_equal(strbuf_str(&b), "pre:abcab");
        strbuf_fini(&b);
    }
}

/* Every one- and two-byte input through every medium yields safe output. */
static void test_exhaustive_short(void **state)
{
    (void)state;
    char in[2];
    for (unsigned x = 0; x < 256; x++) {
        in[0] = (char)x;
        run_safe(in, 1);
        for (unsigned y = 0; y < 256; y++) {
            in[1] = (char)y;
            run_safe(in, 2);
        }
    }
}

/* Random strings biased towards lead, continuation and special bytes (fixed seed, so the run
 * is reproducible): safe output everywhere, and JSON round-trips whatever is valid UTF-8. */
static void test_random(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {
        'a',  '<',  '>',  '&',  '"',  '\'', '\\', '`',  '|',  '*',  '\n', '\r', 0,    0x1b, 0x7f,
        0x80, 0x9b, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
    };
    uint32_t seed = 12345;
    char in[16];
    for (int iter = 0; iter < 200000; iter++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % sizeof in;
        bool valid = true;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (char)alphabet[(seed >> 16) % sizeof alphabet];
        }
        run_safe(in, n);
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t l = utf8_decode((const unsigned char *)in + i, n - i, &cp);
            if (l == 0) {
                valid = false;
                break;
            }
            i += l;
        }
        if (valid)
            check_json_roundtrip(in, n);
    }
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    static const char *const cases[] = {
        HOSTILE_SCRIPT,     "\n# heading", "\x1b[31m",
        HOSTILE_PUNCT,      "\"\\\"\\",    "caf\xc3\xa9 \xe2\x80\xa8 \xf4\x8f\xbf\xbf",
        "\xc2\x80\xc2\x9f",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_json_roundtrip(cases[i], strlen(cases[i]));
    check_json_roundtrip("a\0b\0", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),           cmocka_unit_test(test_md),
        cmocka_unit_test(test_md_code),        cmocka_unit_test(test_term),
        cmocka_unit_test(test_html),           cmocka_unit_test(test_append_and_empty),
        cmocka_unit_test(test_json_roundtrip), cmocka_unit_test(test_exhaustive_short),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
