/* testutil.c: small helpers shared by the unit tests. */
#include "testutil.h"

#include "detect/finding.h"
#include "util/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            if (!*p)
                break;
            continue;
        }
        int v = hexval((unsigned char)*p);
        if (v < 0) {
            assert_true(*p == ' ' || *p == '\n' || *p == '\t' || *p == ':');
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

uint8_t *tu_read_file(const char *relpath, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", NT_SOURCE_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)sz, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* ---- The strict JSON checker (testutil.h) ---- */

static bool jfail(struct jcheck *c, const char *why)
{
    if (!c->err)
        c->err = why;
    return false;
}

static void skip_ws(struct jcheck *c)
{
    while (c->i < c->n &&
           (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static int json_hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool hex4(struct jcheck *c, uint32_t *v)
{
    *v = 0;
    if (c->n - c->i < 4)
        return jfail(c, "short \\u escape");
    for (int k = 0; k < 4; k++) {
        int h = json_hexval(c->s[c->i++]);
        if (h < 0)
            return jfail(c, "bad hex in \\u escape");
        *v = *v << 4 | (uint32_t)h;
    }
    return true;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Checks one strictly well-formed UTF-8 sequence at c->i and copies it to o. */
static bool utf8_char(struct jcheck *c, char *o, size_t *w)
{
    const unsigned char *p = c->s + c->i;
    size_t left = c->n - c->i, len;
    uint32_t cp, min;
    if (p[0] < 0x80) {
        len = 1;
        cp = p[0];
        min = 0;
    } else if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = p[0] & 0x1fu;
        min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = p[0] & 0x0fu;
        min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = p[0] & 0x07u;
        min = 0x10000;
    } else {
        return jfail(c, "invalid UTF-8 lead byte");
    }
    if (left < len)
        return jfail(c, "truncated UTF-8");
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return jfail(c, "bad UTF-8 continuation");
        cp = cp << 6 | (p[k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return jfail(c, "overlong, surrogate or out-of-range UTF-8");
    memcpy(o + *w, p, len);
    *w += len;
    c->i += len;
    return true;
}

static bool parse_string(struct jcheck *c)
{
    char *o = malloc(c->n * 2 + 4);
    size_t w = 0;
    assert_non_null(o);
    c->i++; /* opening quote */
    for (;;) {
        if (c->i >= c->n) {
            free(o);
            return jfail(c, "unterminated string");
        }
        unsigned char ch = c->s[c->i];
        if (ch == '"') {
            c->i++;
            break;
        }
        if (ch < 0x20) {
            free(o);
            return jfail(c, "raw control byte in string");
        }
        if (ch != '\\') {
            if (!utf8_char(c, o, &w)) {
                free(o);
                return false;
            }
            continue;
        }
        c->i++;
        if (c->i >= c->n) {
            free(o);
            return jfail(c, "escape at end");
        }
        ch = c->s[c->i++];
        const char *simple = strchr("\"\\/bfnrt", ch);
        if (simple && ch) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            o[w++] = map[simple - "\"\\/bfnrt"];
            continue;
        }
        if (ch != 'u') {
            free(o);
            return jfail(c, "unknown escape");
        }
        uint32_t cp;
        if (!hex4(c, &cp)) {
            free(o);
            return false;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            free(o);
            return jfail(c, "lone low surrogate");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (c->n - c->i < 2 || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u') {
                free(o);
                return jfail(c, "lone high surrogate");
            }
            c->i += 2;
            if (!hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                free(o);
                return jfail(c, "bad surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        w += put_utf8(o + w, cp);
    }
    o[w] = '\0';
    assert_true(c->n_strings < MAX_STRINGS);
    c->strings[c->n_strings] = o;
    c->lens[c->n_strings++] = w;
    return true;
}

static bool parse_number(struct jcheck *c)
{
    size_t start = c->i;
    if (c->s[c->i] == '-')
        c->i++;
    if (c->i >= c->n)
        return jfail(c, "bad number");
    if (c->s[c->i] == '0') {
        c->i++;
    } else if (c->s[c->i] >= '1' && c->s[c->i] <= '9') {
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
    } else {
        return jfail(c, "bad number");
    }
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        size_t d = c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
        if (c->i == d)
            return jfail(c, "no digits after '.'");
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        size_t d = c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
        if (c->i == d)
            return jfail(c, "no exponent digits");
    }
    return c->i > start;
}

static bool parse_value(struct jcheck *c);

static bool parse_object(struct jcheck *c)
{
    size_t keys[64], n_keys = 0; /* indexes into c->strings, to find duplicate keys */
    c->i++;
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == '}') {
        c->i++;
        return true;
    }
    for (;;) {
        skip_ws(c);
        if (c->i >= c->n || c->s[c->i] != '"')
            return jfail(c, "expected key");
        if (!parse_string(c))
            return false;
        size_t k = c->n_strings - 1;
        for (size_t j = 0; j < n_keys; j++)
            if (c->lens[keys[j]] == c->lens[k] &&
                memcmp(c->strings[keys[j]], c->strings[k], c->lens[k]) == 0)
                return jfail(c, "duplicate key");
        if (n_keys == sizeof keys / sizeof keys[0])
            return jfail(c, "too many keys for the checker");
        keys[n_keys++] = k;
        skip_ws(c);
        if (c->i >= c->n || c->s[c->i] != ':')
            return jfail(c, "expected ':'");
        c->i++;
        if (!parse_value(c))
            return false;
        skip_ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->i < c->n && c->s[c->i] == '}') {
            c->i++;
            return true;
        }
        return jfail(c, "expected ',' or '}'");
    }
}

static bool parse_array(struct jcheck *c)
{
    c->i++;
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == ']') {
        c->i++;
        return true;
    }
    for (;;) {
        if (!parse_value(c))
            return false;
        skip_ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->i < c->n && c->s[c->i] == ']') {
            c->i++;
            return true;
        }
        return jfail(c, "expected ',' or ']'");
    }
}

static bool literal(struct jcheck *c, const char *lit)
{
    size_t l = strlen(lit);
    if (c->n - c->i < l || memcmp(c->s + c->i, lit, l) != 0)
        return jfail(c, "bad literal");
    c->i += l;
    return true;
}

static bool parse_value(struct jcheck *c)
{
    bool ok;
    skip_ws(c);
    if (c->i >= c->n)
        return jfail(c, "expected value");
    if (++c->depth > 64)
        return jfail(c, "too deep");
    switch (c->s[c->i]) {
    case '{':
        ok = parse_object(c);
        break;
    case '[':
        ok = parse_array(c);
        break;
    case '"':
        ok = parse_string(c);
        break;
    case 't':
        ok = literal(c, "true");
        break;
    case 'f':
        ok = literal(c, "false");
        break;
    case 'n':
        ok = literal(c, "null");
        break;
    default:
        ok = parse_number(c) || jfail(c, "unexpected character");
        break;
    }
    c->depth--;
    return ok;
}

void jcheck_fini(struct jcheck *c)
{
    for (size_t k = 0; k < c->n_strings; k++)
        free(c->strings[k]);
    free(c);
}

/* Parses a whole document (one value, optional whitespace around it). Fails the test, with the
 * offset and reason, when it is not valid. The caller frees with jcheck_fini. */
struct jcheck *json_check(const char *doc, size_t n)
{
    struct jcheck *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->s = (const unsigned char *)doc;
    c->n = n;
    bool ok = parse_value(c);
    skip_ws(c);
    if (ok && c->i != c->n)
        ok = jfail(c, "trailing data");
    if (!ok)
        fail_msg("invalid JSON at offset %zu: %s\n%.*s", c->i, c->err, (int)n, doc);
    return c;
}

/* True if some decoded string value equals s (n bytes). */
bool has_string(const struct jcheck *c, const char *s, size_t n)
{
    for (size_t k = 0; k < c->n_strings; k++)
        if (c->lens[k] == n && memcmp(c->strings[k], s, n) == 0)
            return true;
    return false;
}

bool json_valid(const char *doc, size_t n)
{
    struct jcheck *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->s = (const unsigned char *)doc;
    c->n = n;
    bool ok = parse_value(c);
    skip_ws(c);
    if (ok && c->i != c->n)
        ok = false;
    jcheck_fini(c);
    return ok;
}

struct nt_names *tu_names(void)
{
    static struct nt_names *t;
    if (!t)
        t = nt_names_new();
    assert_non_null(t);
    return t;
}

void tu_shuffle(int *v, int n, unsigned *seed)
{
    for (int k = n - 1; k > 0; k--) {
        *seed = *seed * 1103515245u + 12345u;
        int j = (int)((*seed >> 16) % (unsigned)(k + 1)), x = v[k];
        v[k] = v[j];
        v[j] = x;
    }
}

bool tu_has_fact(const struct finding *f, const char *words)
{
    for (size_t i = 0; i < f->n_facts; i++)
        if (strstr(f->facts[i], words))
            return true;
    return false;
}

bool tu_has_reason(const struct finding *f, const char *words)
{
    for (size_t i = 0; i < f->n_causes; i++)
        if (f->causes[i].reason && strstr(f->causes[i].reason, words))
            return true;
    return false;
}
