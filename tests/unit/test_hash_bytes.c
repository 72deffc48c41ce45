/* test_hash_bytes.c: detect/hash_bytes.h writes a key's fields as the bytes the incremental
 * hasher is given field by field, so that one htab_hash (or htab_hasher_add) call gives the hash
 * the field-by-field calls give: for addresses of every family, with and without a hasher state
 * already part-way through a word. */
#include "testutil.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_hash_as_field_by_field),
        cmocka_unit_test(test_equal_addresses_equal_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
