/* test_cursor.c: the bounds-checked cursor: short reads are sticky, sub-cursors clamp. */
#include "testutil.h"

#include "decode/cursor.h"

static void test_reads_in_bounds(void **state)
{
    (void)state;
    const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
    struct cursor c = cur_make(b, sizeof b);
    assert_int_equal(cur_u8(&c), 0x01);
    assert_int_equal(cur_be16(&c), 0x0203);
    assert_int_equal(cur_be32(&c), 0x04050607);
    assert_int_equal(cur_le16(&c), 0x0908);
    assert_int_equal(cur_left(&c), 2);
    assert_false(c.short_read);
    assert_int_equal(cur_le16(&c), 0x0b0a);
    assert_int_equal(cur_left(&c), 0);
    assert_false(c.short_read);
}

static void test_short_reads_are_sticky(void **state)
{
    (void)state;
    const uint8_t b[] = {0xff, 0xee, 0xdd};
    struct cursor c = cur_make(b, sizeof b);
    assert_int_equal(cur_be32(&c), 0);
    assert_true(c.short_read);
    assert_int_equal(cur_left(&c), 0);
    /* Later reads stay zero and the flag stays set, even for sizes that would have fit. */
    assert_int_equal(cur_u8(&c), 0);
    assert_true(c.short_read);

    c = cur_make(b, sizeof b);
    assert_int_equal(cur_le32(&c), 0);
    assert_true(c.short_read);
    c = cur_make(b, sizeof b);
    cur_skip(&c, 2);
    assert_int_equal(cur_be16(&c), 0);
    assert_true(c.short_read);
    c = cur_make(b, 1);
    assert_int_equal(cur_le16(&c), 0);
    assert_true(c.short_read);
    c = cur_make(NULL, 0);
    assert_int_equal(cur_u8(&c), 0);
    assert_true(c.short_read);
}

static void test_bytes_and_skip(void **state)
{
    (void)state;
    const uint8_t b[] = {1, 2, 3, 4};
    uint8_t out[8];
    struct cursor c = cur_make(b, sizeof b);
    cur_bytes(&c, out, 3);
    assert_memory_equal(out, b, 3);
    memset(out, 0xaa, sizeof out);
    cur_bytes(&c, out, 2); /* one byte left: zero-filled and flagged */
    assert_true(c.short_read);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    c = cur_make(b, sizeof b);
    cur_skip(&c, 4);
    assert_false(c.short_read);
    cur_skip(&c, 1);
    assert_true(c.short_read);
    assert_false(cur_has(&c, 1));
    /* A huge skip must not wrap the offset. */
    c = cur_make(b, sizeof b);
    cur_skip(&c, SIZE_MAX);
    assert_true(c.short_read);
    assert_int_equal(cur_left(&c), 0);
}

static void test_sub_clamps(void **state)
{
    (void)state;
    const uint8_t b[] = {1, 2, 3, 4, 5, 6};
    struct cursor c = cur_make(b, sizeof b);
    cur_skip(&c, 1);
    struct cursor s = cur_sub(&c, 2);
    assert_int_equal(s.len, 2);
    assert_false(s.short_read);
    assert_int_equal(cur_be16(&s), 0x0203);
    assert_int_equal(cur_u8(&s), 0); /* cannot read past its end into the parent's bytes */
    assert_true(s.short_read);
    assert_false(c.short_read);
    assert_int_equal(cur_u8(&c), 4);

    struct cursor big = cur_sub(&c, 100); /* more than is left: clamped, flagged on the child */
    assert_int_equal(big.len, 2);
    assert_true(big.short_read);
    assert_false(c.short_read);
    assert_int_equal(cur_left(&c), 0);

    c = cur_make(b, sizeof b);
    cur_skip(&c, 4);
    struct cursor r = cur_rest(&c);
    assert_int_equal(r.len, 2);
    assert_false(r.short_read);
    assert_int_equal(cur_left(&c), 0);
    assert_int_equal(cur_be16(&r), 0x0506);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_in_bounds),
        cmocka_unit_test(test_short_reads_are_sticky),
        cmocka_unit_test(test_bytes_and_skip),
        cmocka_unit_test(test_sub_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
