/* test_nx_name.c: detect/nx_name.h, the one-pass scan of a name for dns.nxdomain_surge, against
 * the byte-wise definition it replaced (a label walk that records every label, then the parent
 * copied label by label and FNV-1a over its text): on names of every length, case and shape, the
 * same verdict, the same labels and parent, and the same FNV value. */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/nx_name.h"
#include "util/dnstext.h"

#define MAX_LABELS 128

/* ---- The reference: the rule's former code, byte by byte -------------------------------- */

static bool ref_spans(const char *name, size_t start[], size_t len[], size_t max, size_t *n_out)
{
    size_t n = 0, at = 0;
    bool open = false;
    for (size_t i = 0;; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.' || c == '\0') {
            if (open) {
                if (n >= max || i - at > 63)
                    return false;
                start[n] = at;
                len[n] = i - at;
                n++;
                open = false;
            }
            if (c == '\0')
                break;
            continue;
        }
        if (!nt_label_plain[c])
            return false;
        if (!open) {
            at = i;
            open = true;
        }
    }
    *n_out = n;
    return true;
}

static uint64_t ref_fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 1099511628211ull;
    return h;
}

struct ref {
    bool plain;
    size_t n, pl, start0, len0, startp, lenp;
    char parent[1024];
    uint64_t fnv;
};

static void ref_keys(const char *name, uint64_t seed, struct ref *r)
{
    size_t start[MAX_LABELS], len[MAX_LABELS], n, o = 0;
    memset(r, 0, sizeof *r);
    r->plain = ref_spans(name, start, len, MAX_LABELS, &n);
    if (!r->plain || n == 0)
        return;
    size_t pl = n >= 3 && len[n - 1] == 2 && len[n - 2] <= 3 ? 3 : n >= 2 ? 2 : n;
    for (size_t i = n - pl; i < n; i++) {
        for (size_t j = 0; j < len[i]; j++)
            r->parent[o++] = (char)tolower((unsigned char)name[start[i] + j]);
        r->parent[o++] = '.';
    }
    r->parent[o] = '\0';
    r->n = n;
    r->pl = pl;
    r->start0 = start[0];
    r->len0 = len[0];
    r->startp = start[n - pl];
    r->lenp = len[n - pl];
    /* The rule hashed the parent with case folding on the way (fnv64). */
    r->fnv = ref_fnv(r->parent, seed);
}

/* ---- The comparison ---------------------------------------------------------------------- */

/* Names check() found plain with labels, and not plain: the random test must see both. */
static size_t n_plain, n_not_plain;

static void check_at(const char *name, uint64_t seed);

/* Each name is checked alone in a heap block of its size: a read past its NUL shows under ASan
 * (the scan reads words). */
static void check(const char *text, uint64_t seed)
{
    size_t n = strlen(text) + 1;
    char *name = malloc(n);
    assert_non_null(name);
    memcpy(name, text, n);
    check_at(name, seed);
    free(name);
}

static void check_at(const char *name, uint64_t seed)
{
    struct ref r;
    ref_keys(name, seed, &r);
    struct nx_name o;
    bool plain = nx_name_scan(name, MAX_LABELS, &o);
    if (plain != r.plain)
        fail_msg("\"%s\": plain %d, reference %d", name, plain, r.plain);
    if (!plain) {
        n_not_plain++;
        return;
    }
    assert_int_equal(o.n, r.n);
    if (!r.n)
        return;
    n_plain++;
    assert_int_equal(o.pl, r.pl);
    assert_int_equal(o.start0, r.start0);
    assert_int_equal(o.len0, r.len0);
    assert_int_equal(o.startp, r.startp);
    assert_int_equal(o.lenp, r.lenp);
    char parent[3 * 64 + 1];
    memset(parent, 'x', sizeof parent);
    size_t plen = nx_name_parent(name, &o, parent);
    assert_string_equal(parent, r.parent);
    assert_int_equal(plen, strlen(r.parent));
    uint64_t h = nx_name_fnv(name, &o, seed);
    if (h != r.fnv)
        fail_msg("\"%s\": FNV %016llx, reference %016llx", name, (unsigned long long)h,
                 (unsigned long long)r.fnv);
}

static void test_tables(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int want = c == 0 ? NX_END : c == '.' ? NX_DOT : nt_label_plain[c] ? NX_PLAIN : NX_BAD;
        assert_int_equal(nx_name_class[c], want);
        assert_int_equal(nx_name_lower[c], tolower(c));
    }
}

static void test_named_cases(void **state)
{
    (void)state;
    static const char *names[] = {"",
                                  ".",
                                  "..",
                                  "com",
                                  "com.",
                                  "Example.COM.",
                                  "www.example.com",
                                  "WWW.Example.Com.",
                                  "a.b.co.uk",
                                  "a.b.co.uk.",
                                  "x.co.uk",
                                  "co.uk",
                                  "a.bc.de",
                                  "a.abcd.de",
                                  "a.abc.d",
                                  "a..b...c.",
                                  ".lead.ing",
                                  "a.b.c.d.e.f.g.h",
                                  "under_score.ex-ample.NET",
                                  "bad\\.escape.com",
                                  "sp ace.com",
                                  "star*.com",
                                  "x\\065.com",
                                  "caf\xc3\xa9.fr",
                                  "pipe|.com",
                                  "a.b.c.\x7f"};
    const uint64_t seeds[] = {14695981039346656037ull, 0, 0x9e3779b97f4a7c15ull};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        for (size_t s = 0; s < 3; s++)
            check(names[i], seeds[s]);
}

/* Labels of 63 bytes pass, of 64 do not; 128 labels pass, 129 do not. */
static void test_bounds(void **state)
{
    (void)state;
    char name[1024];
    for (size_t ln = 60; ln <= 66; ln++) {
        for (size_t where = 0; where < 3; where++) {
            size_t o = 0;
            for (size_t lab = 0; lab < 3; lab++) {
                size_t n = lab == where ? ln : 3;
                for (size_t j = 0; j < n; j++)
                    name[o++] = (char)('a' + (j + lab) % 26);
                name[o++] = '.';
            }
            name[o] = '\0';
            check(name, 1);
        }
    }
    for (size_t labels = 125; labels <= 131; labels++) {
        size_t o = 0;
        for (size_t i = 0; i < labels; i++) {
            name[o++] = (char)('A' + i % 26);
            name[o++] = '.';
        }
        name[o] = '\0';
        check(name, 2);
        name[o - 1] = '\0'; /* without the final dot */
        check(name, 3);
    }
}

/* Random names: every length up to 300 bytes, mixed case, dots in runs, now and then a byte no
 * plain name has. */
static void test_random_names(void **state)
{
    (void)state;
    static const char plain_bytes[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    uint64_t x = 0x243f6a8885a308d3ull;
    char name[400];
    n_plain = n_not_plain = 0;
    for (int round = 0; round < 200000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = (size_t)(x % 301);
        uint64_t y = x * 0x9e3779b97f4a7c15ull;
        unsigned dot_every = 1 + (unsigned)(y >> 60); /* 1..16 */
        bool spoil = (y >> 20) % 8 == 0;              /* one byte no plain name has */
        bool long_label = (y >> 24) % 16 == 0;        /* no dots for a while */
        for (size_t i = 0; i < len; i++) {
            y ^= y << 13;
            y ^= y >> 7;
            y ^= y << 17;
            bool dot = (y >> 32) % dot_every == 0 && !(long_label && i < 80);
            name[i] = dot ? '.' : plain_bytes[(y >> 40) % (sizeof plain_bytes - 1)];
        }
        if (spoil && len) {
            static const char bad[] = " \\*|`/:@\x80\xff\x01";
            name[(y >> 8) % len] = bad[(y >> 50) % (sizeof bad - 1)];
        }
        name[len] = '\0';
        check(name, x);
    }
    assert_true(n_plain > 100000 && n_not_plain > 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_named_cases),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_random_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
