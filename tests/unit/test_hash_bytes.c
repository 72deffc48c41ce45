/* test_hash_bytes.c: detect/hash_bytes.h writes a key's fields as the bytes the incremental
 * hasher is given field by field, so that one htab_hash (or htab_hasher_add) call gives the hash
 * the field-by-field calls give: for addresses of every family, with and without a hasher state
 * already part-way through a word. */
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "detect/hash_bytes.h"
#include "util/htab.h"

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void random_addr(uint64_t *x, struct nt_addr *a)
{
    static const uint8_t families[] = {NT_AF_INET, NT_AF_INET6, NT_AF_NAME, NT_AF_NONE};
    memset(a, 0, sizeof *a);
    a->family = families[next(x) % 4];
    for (int i = 0; i < 16; i++)
        a->a[i] = (uint8_t)next(x);
}

static void test_same_hash_as_field_by_field(void **state)
{
    (void)state;
    htab_seed_set(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        struct nt_addr a, b;
        random_addr(&x, &a);
        random_addr(&x, &b);
        uint16_t u16 = (uint16_t)next(&x);
        uint8_t u8 = (uint8_t)next(&x);
        uint64_t u64 = next(&x);
        /* A prefix of 0 to 9 bytes first: the fields start anywhere in a word. */
        size_t pre = (size_t)(next(&x) % 10);
        uint8_t prefix[9];
        for (size_t i = 0; i < pre; i++)
            prefix[i] = (uint8_t)next(&x);

        struct htab_hasher s;
        htab_hasher_init(&s);
        htab_hasher_add(&s, prefix, pre);
        htab_hasher_addr(&s, &a);
        htab_hasher_u8(&s, u8);
        htab_hasher_u16(&s, u16);
        htab_hasher_u64(&s, u64);
        htab_hasher_addr(&s, &b);
        uint64_t want = htab_hasher_end(&s);

        uint8_t buf[9 + 2 * HB_ADDR_MAX + 11];
        memcpy(buf, prefix, pre);
        size_t n = pre;
        n += hb_addr(buf + n, &a);
        n += hb_u8(buf + n, u8);
        n += hb_u16(buf + n, u16);
        n += hb_u64(buf + n, u64);
        n += hb_addr(buf + n, &b);
        assert_int_equal(htab_hash(buf, n), want);

        /* The same through a hasher state holding the prefix (rcode_table's hash_from). */
        struct htab_hasher t;
        htab_hasher_init(&t);
        htab_hasher_add(&t, prefix, pre);
        htab_hasher_add(&t, buf + pre, n - pre);
        assert_int_equal(htab_hasher_end(&t), want);
        /* The very state, too (the detector keeps a service's state to add more fields). */
        assert_int_equal(t.v0, s.v0);
        assert_int_equal(t.v1, s.v1);
        assert_int_equal(t.v2, s.v2);
        assert_int_equal(t.v3, s.v3);
        assert_int_equal(t.tail, s.tail);
        assert_int_equal(t.len, s.len);
    }
}

/* Equal addresses write equal bytes: the bytes past an IPv4 address or a name's 4 do not count,
 * nor any for NT_AF_NONE. */
static void test_equal_addresses_equal_bytes(void **state)
{
    (void)state;
    struct nt_addr a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0xff, sizeof b);
    uint8_t x[HB_ADDR_MAX], y[HB_ADDR_MAX];
    const uint8_t families[] = {NT_AF_INET, NT_AF_NAME, NT_AF_NONE};
    for (size_t i = 0; i < sizeof families; i++) {
        a.family = b.family = families[i];
        memset(a.a, 7, 4);
        memset(b.a, 7, 4);
        assert_true(nt_addr_eq(&a, &b));
        size_t n = hb_addr(x, &a);
        assert_int_equal(hb_addr(y, &b), n);
        assert_memory_equal(x, y, n);
    }
    a.family = b.family = NT_AF_INET6;
    memset(a.a, 3, 16);
    memset(b.a, 3, 16);
    assert_int_equal(hb_addr(x, &a), 17);
    hb_addr(y, &b);
    assert_memory_equal(x, y, 17);
}

/* hb_name_words then htab_hash_words gives htab_hasher_name's value (the detector's question hash):
 * names of every length to 300 bytes, of every byte (upper case folded, bytes from 0x80 left). */
static void test_name_as_hasher_name(void **state)
{
    (void)state;
    htab_seed_set(0x1111111111111111ull, 0x2222222222222222ull);
    uint64_t x = 0x243f6a8885a308d3ull;
    char name[301];
    uint64_t w[1 + 38];
    for (int round = 0; round < 30000; round++) {
        size_t n = (size_t)(next(&x) % 301);
        bool letters = next(&x) % 2;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next(&x);
            char c = letters ? (char)("aZ.-_0Q"[r % 7]) : (char)(1 + r % 255);
            name[i] = c;
        }
        name[n] = '\0';
        n = strlen(name);
        struct htab_hasher s;
        htab_hasher_init(&s);
        htab_hasher_name(&s, name);
        uint64_t want = htab_hasher_end(&s);
        memset(w, 0xa5, sizeof w);
        /* The name alone in memory: a read past its n bytes is caught under ASan. */
        char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, name, n);
        size_t len = hb_name_words(w, copy, n);
        free(copy);
        assert_int_equal(len, 8 + n);
        assert_int_equal(htab_hash_words(w, len), want);
    }
    /* Case does not count; other bytes do. */
    uint64_t a[4], b[4];
    size_t na = hb_name_words(a, "WwW.ExAmPlE.cOm.", 16);
    size_t nb = hb_name_words(b, "www.example.com.", 16);
    assert_int_equal(htab_hash_words(a, na), htab_hash_words(b, nb));
    na = hb_name_words(a, "www.example.con.", 16);
    assert_int_not_equal(htab_hash_words(a, na), htab_hash_words(b, nb));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_hash_as_field_by_field),
        cmocka_unit_test(test_equal_addresses_equal_bytes),
        cmocka_unit_test(test_name_as_hasher_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
