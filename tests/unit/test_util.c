/* test_util.c: times, addresses (with interned host names), strbuf and error messages. */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "util/addr_set.h"
#include "util/err.h"
#include "util/ntime.h"
#include "util/strbuf.h"

static void test_time_format(void **state)
{
    (void)state;
    char b[NT_TIME_FMT_MAX];
    struct nt_time t = {1763756672, 192571000, NT_TIME_ABSOLUTE};
    nt_time_format(&t, b, sizeof b);
    assert_string_equal(b, "2025-11-21T20:24:32.192571Z");
    struct nt_time d = {13 * 3600 + 24 * 60 + 32, 192571999, NT_TIME_OF_DAY};
    nt_time_format(&d, b, sizeof b);
    assert_string_equal(b, "13:24:32.192571");
    d.sec += 86400;
    nt_time_format(&d, b, sizeof b);
    assert_string_equal(b, "+1d 13:24:32.192571");
    struct nt_time r = {12, 300000, NT_TIME_RELATIVE};
    nt_time_format(&r, b, sizeof b);
    assert_string_equal(b, "+12.000300s");
    struct nt_time none = {0};
    assert_int_equal(nt_time_format(&none, b, sizeof b), 0);
    assert_string_equal(b, "");
    /* Truncation keeps a NUL. */
    assert_int_equal(nt_time_format(&t, b, 5), 4);
    assert_string_equal(b, "2025");
}

static void test_time_arithmetic(void **state)
{
    (void)state;
    struct nt_time a = {100, 999999000, NT_TIME_ABSOLUTE}, b = {101, 1000, NT_TIME_ABSOLUTE};
    assert_int_equal(nt_time_diff_us(&a, &b), 2);
    assert_int_equal(nt_time_diff_us(&b, &a), -2);
    assert_int_equal(nt_time_cmp(&a, &b), -1);
    assert_int_equal(nt_time_cmp(&b, &b), 0);
    struct nt_time c = nt_time_add_us(a, 2);
    assert_int_equal(nt_time_cmp(&c, &b), 0);
    c = nt_time_add_us(b, -2);
    assert_int_equal(nt_time_cmp(&c, &a), 0);
    struct nt_time none = {0};
    assert_int_equal(nt_time_diff_us(&none, &b), 0);
    struct nt_time far = {INT64_MAX, 0, NT_TIME_ABSOLUTE}, neg = {INT64_MIN, 0, NT_TIME_ABSOLUTE};
    assert_true(nt_time_diff_us(&a, &far) == INT64_MAX);
    assert_true(nt_time_diff_us(&far, &a) == -INT64_MAX);
    assert_true(nt_time_diff_us(&neg, &far) == INT64_MAX);
    struct nt_time first = {0}, last = {0}, day = {50, 0, NT_TIME_OF_DAY};
    nt_time_widen(&first, &last, &none);
    assert_int_equal(first.kind, NT_TIME_NONE);
    nt_time_widen(&first, &last, &b);
    nt_time_widen(&first, &last, &a);
    nt_time_widen(&first, &last, &day); /* another clock: ignored */
    assert_int_equal(nt_time_cmp(&first, &a), 0);
    assert_int_equal(nt_time_cmp(&last, &b), 0);
    char s[32];
    nt_duration_format(20, s, sizeof s);
    assert_string_equal(s, "20 µs");
    nt_duration_format(4200, s, sizeof s);
    assert_string_equal(s, "4.2 ms");
    nt_duration_format(43835562, s, sizeof s);
    assert_string_equal(s, "43.8 s");
    nt_duration_format(240000000, s, sizeof s);
    assert_string_equal(s, "4 min 0 s");
    nt_duration_format(-1500, s, sizeof s);
    assert_string_equal(s, "-1.5 ms");
}

static void test_addresses(void **state)
{
    (void)state;
    struct nt_addr a, b, c;
    char s[NT_ADDR_FMT_MAX];
    assert_true(nt_addr_parse(&a, "198.51.100.2", 12));
    assert_true(nt_addr_parse(&b, "2001:db8::2", 11));
    assert_false(nt_addr_parse(&c, "198.51.100.256", 14));
    assert_false(nt_addr_parse(&c, "", 0));
    assert_false(nt_addr_parse(&c, "2001:db8::zz", 12));
    nt_addr_format(&a, s, sizeof s);
    assert_string_equal(s, "198.51.100.2");
    nt_addr_format(&b, s, sizeof s);
    assert_string_equal(s, "2001:db8::2");
    assert_false(nt_addr_eq(&a, &b));
    assert_true(nt_addr_cmp(&a, &b) < 0);
    assert_true(nt_addr_parse(&c, "198.51.100.2 trailing", 12));
    assert_true(nt_addr_eq(&a, &c));
    assert_int_equal(nt_addr_hash(&a, 1), nt_addr_hash(&c, 1));
}

/* nt_addr_hash is FNV-1a over the family byte and the compared address bytes: Bloom filters and
 * sketches whose answers reach the report are built on its values, so they must not change.
 * Checked against a byte loop and fixed values for every family. */
static uint32_t fnv_ref(const uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void test_addr_hash_is_fnv1a(void **state)
{
    (void)state;
    struct nt_addr v4, v6, none;
    assert_true(nt_addr_parse(&v4, "198.51.100.2", 12));
    assert_true(nt_addr_parse(&v6, "2001:db8::2", 11));
    memset(&none, 0, sizeof none);
    none.a[0] = 7; /* not compared, not hashed */
    uint8_t b[17];
    for (uint32_t seed = 0; seed < 3; seed++) {
        b[0] = NT_AF_INET;
        memcpy(b + 1, v4.a, 4);
        assert_int_equal(nt_addr_hash(&v4, seed), fnv_ref(b, 5, seed));
        b[0] = NT_AF_INET6;
        memcpy(b + 1, v6.a, 16);
        assert_int_equal(nt_addr_hash(&v6, seed), fnv_ref(b, 17, seed));
        b[0] = NT_AF_NONE;
        assert_int_equal(nt_addr_hash(&none, seed), fnv_ref(b, 1, seed));
    }
    /* The values themselves (FNV-1a 32-bit, offset basis 2166136261 xor seed). */
    assert_int_equal(nt_addr_hash(&v4, 0x9e3779b9u),
                     fnv_ref((const uint8_t[]){4, 198, 51, 100, 2}, 5, 0x9e3779b9u));
    assert_int_equal(fnv_ref((const uint8_t[]){'a'}, 1, 0), 0xe40c292cu);
}

/* nt_addr_format writes addresses itself (no sprintf): it must give inet_ntop's text for every
 * shape of address (zero runs of every length and place, IPv4-mapped and -compatible forms,
 * words with and without leading zeros). */
static void test_addr_format_matches_inet_ntop(void **state)
{
    (void)state;
    static const uint16_t words[] = {0, 1, 0xffff, 0x0db8, 0x1000, 0xa0b};
    const size_t nw = sizeof words / sizeof words[0];
    char got[NT_ADDR_FMT_MAX], want[INET6_ADDRSTRLEN];
    uint8_t b[16];
    struct nt_addr x;
    size_t total = 1;
    for (int i = 0; i < 8; i++)
        total *= nw;
    for (size_t k = 0; k < total; k++) {
        size_t v = k;
        for (int i = 0; i < 8; i++, v /= nw) {
            b[2 * i] = (uint8_t)(words[v % nw] >> 8);
            b[2 * i + 1] = (uint8_t)words[v % nw];
        }
        nt_addr_set_v6(&x, b);
        size_t n = nt_addr_format(&x, got, sizeof got);
        assert_non_null(inet_ntop(AF_INET6, b, want, sizeof want));
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
    }
    uint32_t r = 12345;
    for (int k = 0; k < 200000; k++) {
        for (int i = 0; i < 16; i++) {
            r = r * 1103515245u + 12345u;
            b[i] = (uint8_t)(r >> 16);
        }
        nt_addr_set_v4(&x, b);
        nt_addr_format(&x, got, sizeof got);
        assert_non_null(inet_ntop(AF_INET, b, want, sizeof want));
        assert_string_equal(got, want);
        b[k % 16] = 0;
        b[(k / 16) % 16] = 0;
        nt_addr_set_v6(&x, b);
        nt_addr_format(&x, got, sizeof got);
        assert_non_null(inet_ntop(AF_INET6, b, want, sizeof want));
        assert_string_equal(got, want);
        /* the decoder's entry points for A and AAAA records give the same text */
        char direct[INET6_ADDRSTRLEN];
        assert_int_equal(nt_addr_format_v6(b, direct), strlen(want));
        assert_string_equal(direct, want);
        assert_non_null(inet_ntop(AF_INET, b, want, sizeof want));
        assert_int_equal(nt_addr_format_v4(b, direct), strlen(want));
        assert_string_equal(direct, want);
    }
    /* The longest texts stay inside the smallest buffers the entry points take (the writers
     * store whole words: the bytes after the buffer are left alone). */
    struct {
        char buf[INET6_ADDRSTRLEN];
        char guard[16];
    } g;
    memset(&g, 0x5a, sizeof g);
    memset(b, 0xff, 16);
    assert_int_equal(nt_addr_format_v6(b, g.buf), 39);
    assert_string_equal(g.buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    for (size_t i = 0; i < sizeof g.guard; i++)
        assert_int_equal(g.guard[i], 0x5a);
    struct {
        char buf[INET_ADDRSTRLEN];
        char guard[16];
    } g4;
    memset(&g4, 0x5a, sizeof g4);
    assert_int_equal(nt_addr_format_v4(b, g4.buf), 15);
    assert_string_equal(g4.buf, "255.255.255.255");
    for (size_t i = 0; i < sizeof g4.guard; i++)
        assert_int_equal(g4.guard[i], 0x5a);
    nt_addr_set_v4(&x, b);
    memset(&g4, 0x5a, sizeof g4);
    assert_int_equal(nt_addr_format(&x, g4.buf, sizeof g4.buf), 15);
    for (size_t i = 0; i < sizeof g4.guard; i++)
        assert_int_equal(g4.guard[i], 0x5a);
    /* Too small a buffer gives the empty string, as before. */
    nt_addr_set_v4(&x, b);
    assert_int_equal(nt_addr_format(&x, got, 8), 0);
    assert_string_equal(got, "");
}

/* nt_addr_parse reads plain dotted quads itself: it must accept exactly what inet_pton accepts,
 * with the same bytes (numbers past 255, leading zeros, missing or extra parts, stray
 * characters). */
static void test_addr_parse_matches_inet_pton(void **state)
{
    (void)state;
    static const char *const fixed[] = {"0.0.0.0",    "255.255.255.255", "1.2.3.4",  "01.2.3.4",
                                        "1.2.3.04",   "256.1.1.1",       "1.2.3",    "1.2.3.4.5",
                                        "1..2.3",     "1.2.3.4 ",        " 1.2.3.4", "1.2.3.a",
                                        "1234.1.1.1", "1.2.3.4.",        ".1.2.3.4", "00.0.0.0"};
    uint32_t r = 777;
    char buf[64];
    for (size_t k = 0; k < 100000 + sizeof fixed / sizeof fixed[0]; k++) {
        const char *txt = buf;
        if (k < sizeof fixed / sizeof fixed[0]) {
            txt = fixed[k];
        } else {
            size_t n = 0;
            for (int part = 0; part < 4; part++) {
                r = r * 1103515245u + 12345u;
                unsigned v = (r >> 8) % 300, zeros = (r >> 20) % 8 == 0 ? 1 : 0;
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s%u", part ? "." : "",
                                      zeros ? "0" : "", v);
            }
        }
        struct nt_addr x;
        uint8_t want[4];
        bool ok = nt_addr_parse(&x, txt, strlen(txt));
        bool exp = inet_pton(AF_INET, txt, want) == 1;
        assert_int_equal(ok, exp);
        if (ok) {
            assert_int_equal(x.family, NT_AF_INET);
            assert_memory_equal(x.a, want, 4);
        }
    }
}

static void test_interned_names(void **state)
{
    (void)state;
    struct nt_addr x, y, z;
    char s[NT_ADDR_FMT_MAX];
    assert_true(nt_addr_set_name(tu_names(), &x, "dns.example.net", 15));
    assert_true(nt_addr_set_name(tu_names(), &y, "dns.example.net", 15));
    assert_true(nt_addr_set_name(tu_names(), &z, "dns.example.ne", 14));
    assert_true(nt_addr_eq(&x, &y));
    assert_false(nt_addr_eq(&x, &z));
    nt_addr_format(&x, s, sizeof s);
    assert_string_equal(s, "dns.example.net");
    assert_true(nt_addr_cmp(&z, &x) < 0);
    /* Many distinct names stay distinct and are found again. */
    for (int i = 0; i < 5000; i++) {
        char n[32];
        int l = snprintf(n, sizeof n, "host%d.example", i);
        assert_true(nt_addr_set_name(tu_names(), &x, n, (size_t)l));
        assert_true(nt_addr_set_name(tu_names(), &y, n, (size_t)l));
        assert_true(nt_addr_eq(&x, &y));
        nt_addr_format(&x, s, sizeof s);
        assert_string_equal(s, n);
    }
}

static void test_addr_set(void **state)
{
    (void)state;
    struct addr_set set;
    addr_set_init(&set, 1000);
    struct nt_addr a;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 1500; i++) {
            uint8_t b[4] = {10, (uint8_t)(i >> 8), (uint8_t)i, 1};
            nt_addr_set_v4(&a, b);
            bool added = addr_set_add(&set, &a);
            assert_int_equal(added, round == 0 && i < 1000);
        }
    assert_int_equal(set.n, 1000);
    assert_true(set.overflow);
    struct nt_addr none = {0};
    assert_false(addr_set_add(&set, &none));
    addr_set_fini(&set);
    assert_int_equal(set.n, 0);
}

static void test_strbuf_and_errors(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b);
    assert_string_equal(strbuf_str(&b), "");
    strbuf_puts(&b, "a");
    strbuf_putc(&b, 'b');
    strbuf_printf(&b, "%d-%s", 42, "x");
    char big[600];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    strbuf_printf(&b, "%s", big);
    assert_int_equal(b.len, 6 + 599);
    assert_memory_equal(strbuf_str(&b), "ab42-x", 6);
    char *s = strbuf_take(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), 605);
    free(s);
    assert_int_equal(b.len, 0);
    strbuf_fini(&b);
    assert_string_equal(nt_strerror(NT_ERR_EMPTY), "empty file");
    assert_string_equal(nt_strerror(NT_OK), "success");
    assert_string_equal(nt_strerror(-999), "unknown error");
}

/* nt_addr_mix picks cache slots: equal addresses mix equal whatever lies past the bytes
 * nt_addr_eq compares, the salt and the family count, and addresses that differ only in their
 * last byte (IPv6 ::1 to ::64, IPv4 x.y.z.1 to .64) spread over the top bits' values about as
 * random ones would (64 keys in 64 slots: about 40 distinct by chance). */
static void test_addr_mix(void **state)
{
    (void)state;
    struct nt_addr a, b;
    uint8_t v4[4] = {192, 0, 2, 7};
    nt_addr_set_v4(&a, v4);
    b = a;
    memset(b.a + 4, 0xa5, 12); /* not compared */
    assert_true(nt_addr_eq(&a, &b));
    assert_true(nt_addr_mix(&a, 0) == nt_addr_mix(&b, 0));
    assert_true(nt_addr_mix(&a, 53) == nt_addr_mix(&b, 53));
    assert_true(nt_addr_mix(&a, 0) != nt_addr_mix(&a, (uint64_t)53 << 32));
    struct nt_addr n = {0}; /* NT_AF_NONE: family 0, the same bytes */
    memcpy(n.a, v4, 4);
    assert_true(nt_addr_mix(&a, 0) != nt_addr_mix(&n, 0));
    for (int fam = 4; fam <= 6; fam += 2) {
        bool seen[64] = {false};
        int distinct = 0;
        for (int i = 1; i <= 64; i++) {
            char text[64];
            if (fam == 6)
                snprintf(text, sizeof text, "2001:db8:53::%x", i);
            else
                snprintf(text, sizeof text, "203.0.113.%d", i);
            assert_true(nt_addr_parse(&a, text, strlen(text)));
            size_t slot = (size_t)(nt_addr_mix(&a, 0) >> 58);
            distinct += !seen[slot];
            seen[slot] = true;
        }
        assert_true(distinct >= 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_arithmetic),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_interned_names),
        cmocka_unit_test(test_strbuf_and_errors),
        cmocka_unit_test(test_addr_set),
        cmocka_unit_test(test_addr_hash_is_fnv1a),
        cmocka_unit_test(test_addr_mix),
        cmocka_unit_test(test_addr_format_matches_inet_ntop),
        cmocka_unit_test(test_addr_parse_matches_inet_pton),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
