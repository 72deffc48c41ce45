/* test_jsonw.c: the JSON writer shared by the JSON report and the NDJSON stream: both layouts
 * byte for byte, separators in every nesting, escaping of values and keys, numbers, nulls. */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "report/jsonw.h"

/* The same calls in a layout: nested objects and arrays, empty ones, every kind of value. */
static void write_sample(struct jsonw *w)
{
    static const struct nt_time none;
    struct nt_addr addr, no_addr;
    const uint8_t b[4] = {198, 51, 100, 2};
    nt_addr_set_v4(&addr, b);
    memset(&no_addr, 0, sizeof no_addr);
    struct nt_time t = {.sec = 1795267472, .nsec = 192571000, .kind = NT_TIME_ABSOLUTE};
    char *names[] = {"a", NULL};

    jsonw_obj_begin(w);
    jsonw_kv_str(w, "s", "x");
    jsonw_kv_obj(w, "empty_obj");
    jsonw_obj_end(w);
    jsonw_kv_arr(w, "empty_arr");
    jsonw_arr_end(w);
    jsonw_kv_arr(w, "list");
    jsonw_u64(w, 1);
    jsonw_i64(w, -2);
    jsonw_bool(w, true);
    jsonw_null(w);
    jsonw_obj_begin(w);
    jsonw_kv_bool(w, "f", false);
    jsonw_obj_end(w);
    jsonw_arr_begin(w);
    jsonw_arr_end(w);
    jsonw_arr_end(w);
    jsonw_kv_time(w, "t", &t);
    jsonw_kv_time(w, "no_t", &none);
    jsonw_kv_addr(w, "a", &addr);
    jsonw_kv_addr(w, "no_a", &no_addr);
    jsonw_kv_str(w, "no_s", NULL);
    jsonw_kv_str_array(w, "names", names, 2);
    jsonw_kv_decimal(w, "d", 1500, 3);
    jsonw_kv_u64(w, "last", UINT64_MAX);
    jsonw_obj_end(w);
}

static const char want_pretty[] = "{\n"
                                  "  \"s\": \"x\",\n"
                                  "  \"empty_obj\": {},\n"
                                  "  \"empty_arr\": [],\n"
                                  "  \"list\": [\n"
                                  "    1,\n"
                                  "    -2,\n"
                                  "    true,\n"
                                  "    null,\n"
                                  "    {\n"
                                  "      \"f\": false\n"
                                  "    },\n"
                                  "    []\n"
                                  "  ],\n"
                                  "  \"t\": \"2026-11-21T13:24:32.192571Z\",\n"
                                  "  \"no_t\": null,\n"
                                  "  \"a\": \"198.51.100.2\",\n"
                                  "  \"no_a\": null,\n"
                                  "  \"no_s\": null,\n"
                                  "  \"names\": [\n"
                                  "    \"a\",\n"
                                  "    null\n"
                                  "  ],\n"
                                  "  \"d\": 1.5,\n"
                                  "  \"last\": 18446744073709551615\n"
                                  "}";

static const char want_compact[] =
    "{\"s\":\"x\",\"empty_obj\":{},\"empty_arr\":[],\"list\":[1,-2,true,null,{\"f\":false},[]],"
    "\"t\":\"2026-11-21T13:24:32.192571Z\",\"no_t\":null,\"a\":\"198.51.100.2\",\"no_a\":null,"
    "\"no_s\":null,\"names\":[\"a\",null],\"d\":1.5,\"last\":18446744073709551615}";

static void test_layouts(void **state)
{
    (void)state;
    struct strbuf b;
    struct jsonw w;

    strbuf_init(&b);
    jsonw_init(&w, &b, JSONW_PRETTY);
    write_sample(&w);
    assert_string_equal(strbuf_str(&b), want_pretty);
    assert_int_equal(w.depth, 0);
    assert_false(w.too_deep);
    jcheck_fini(json_check(b.s, b.len));

    /* A second document appended to what the buffer holds starts afresh. */
    strbuf_reset(&b);
    strbuf_puts(&b, "prefix ");
    jsonw_init(&w, &b, JSONW_COMPACT);
    write_sample(&w);
    assert_memory_equal(b.s, "prefix ", 7);
    assert_string_equal(strbuf_str(&b) + 7, want_compact);
    jcheck_fini(json_check(b.s + 7, b.len - 7));
    strbuf_fini(&b);
}

/* Values and keys alike are escaped: quotes, backslashes, control bytes, DEL and C1, U+2028,
 * invalid UTF-8, an embedded NUL (jsonw_strn), and markup, which JSON leaves as it is. */
static void test_escaping(void **state)
{
    (void)state;
    static const char hostile[] = "\"}\\\x1b[2J\x7f\xc2\x9b\xe2\x80\xa8\xff<script>";
    static const char want[] = "{\"\\\"}\\\\\\u001b[2J\\u007f\\u009b\\u2028\\u00ff<script>\":"
                               "\"\\\"}\\\\\\u001b[2J\\u007f\\u009b\\u2028\\u00ff<script>\","
                               "\"nul\":\"a\\u0000b\",\"cut\":\"ab\"}";
    struct strbuf b;
    struct jsonw w;

    strbuf_init(&b);
    jsonw_init(&w, &b, JSONW_COMPACT);
    jsonw_obj_begin(&w);
    jsonw_kv_str(&w, hostile, hostile);
    jsonw_key(&w, "nul");
    jsonw_strn(&w, "a\0b", 3);
    jsonw_key(&w, "cut");
    jsonw_strn(&w, "abc", 2);
    jsonw_obj_end(&w);
    assert_string_equal(strbuf_str(&b), want);
    struct jcheck *c = json_check(b.s, b.len);
    /* The valid text comes back whole, as key and as value; the invalid byte as U+00FF. */
    const char back[] = "\"}\\\x1b[2J\x7f\xc2\x9b\xe2\x80\xa8\xc3\xbf<script>";
    assert_true(has_string(c, back, strlen(back)));
    assert_true(has_string(c, "a\0b", 3));
    jcheck_fini(c);
    strbuf_fini(&b);
}

static void decimal_is(int64_t v, unsigned places, const char *want)
{
    struct strbuf b;
    struct jsonw w;
    strbuf_init(&b);
    jsonw_init(&w, &b, JSONW_COMPACT);
    jsonw_decimal(&w, v, places);
    if (strcmp(strbuf_str(&b), want) != 0)
        fail_msg("jsonw_decimal(%lld, %u) wrote %s, want %s", (long long)v, places, strbuf_str(&b),
                 want);
    assert_true(json_valid(b.s, b.len));
    strbuf_fini(&b);
}

static void test_decimal(void **state)
{
    (void)state;
    decimal_is(0, 6, "0");
    decimal_is(2000000, 6, "2");
    decimal_is(250000, 6, "0.25");
    decimal_is(1, 6, "0.000001");
    decimal_is(-1000001, 6, "-1.000001");
    decimal_is(-500000, 6, "-0.5");
    decimal_is(441, 3, "0.441");
    decimal_is(1000441, 3, "1000.441");
    decimal_is(-1500, 3, "-1.5");
    decimal_is(42, 0, "42");
    decimal_is(INT64_MIN, 6, "-9223372036854.775808");
    decimal_is(INT64_MAX, 3, "9223372036854775.807");
    /* More places than nanoseconds are cut to 9. */
    decimal_is(1500000000, 12, "1.5");
}

static void test_protocol_and_flags(void **state)
{
    (void)state;
    struct strbuf b;
    struct jsonw w;
    strbuf_init(&b);
    jsonw_init(&w, &b, JSONW_COMPACT);
    jsonw_arr_begin(&w);
    jsonw_protocol(&w, 17);
    jsonw_protocol(&w, 6);
    jsonw_protocol(&w, 47);
    jsonw_arr_end(&w);
    assert_string_equal(strbuf_str(&b), "[\"udp\",\"tcp\",47]");

    strbuf_reset(&b);
    jsonw_init(&w, &b, JSONW_COMPACT);
    jsonw_obj_begin(&w);
    jsonw_dns_flags(&w, "l", DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_CD, false);
    jsonw_dns_flags(&w, "u", DNS_FLAG_TC | DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_AD, true);
    jsonw_dns_flags(&w, "none", DNS_FLAG_QR, true);
    jsonw_obj_end(&w);
    assert_string_equal(strbuf_str(&b),
                        "{\"l\":[\"aa\",\"cd\"],\"u\":[\"TC\",\"RD\",\"RA\",\"AD\"],\"none\":[]}");
    strbuf_fini(&b);
}

/* Nesting as deep as the writer tracks is laid out exactly; one more level sets too_deep. */
static void test_depth(void **state)
{
    (void)state;
    struct strbuf b;
    struct jsonw w;
    strbuf_init(&b);
    jsonw_init(&w, &b, JSONW_PRETTY);
    for (int i = 0; i < JSONW_MAX_DEPTH - 1; i++) {
        jsonw_arr_begin(&w);
        jsonw_u64(&w, (uint64_t)i);
    }
    for (int i = 0; i < JSONW_MAX_DEPTH - 1; i++)
        jsonw_arr_end(&w);
    assert_false(w.too_deep);
    assert_int_equal(w.depth, 0);
    jcheck_fini(json_check(b.s, b.len));
    /* The innermost array sits at depth 15: its element is indented 30 spaces. */
    assert_non_null(strstr(b.s, "\n                              14\n"));

    strbuf_reset(&b);
    jsonw_init(&w, &b, JSONW_COMPACT);
    for (int i = 0; i < JSONW_MAX_DEPTH; i++)
        jsonw_arr_begin(&w);
    assert_true(w.too_deep);
    strbuf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_decimal), cmocka_unit_test(test_protocol_and_flags),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
