/* test_observer.c: the sensor and content-derived event id of NDJSON events (observer.h): the
 * id is the hash of the line with the id zeroed, the same bytes give the same id, another
 * sensor or another byte another id; names with control characters or too long are refused. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "report/jsonw.h"
#include "report/observer.h"

/* One event line, as ndjson.c writes one: the id inside "event", the observer at the end. */
static void event_line(struct strbuf *b, const char *value)
{
    struct jsonw w;
    jsonw_init(&w, b, JSONW_COMPACT);
    jsonw_obj_begin(&w);
    jsonw_kv_obj(&w, "event");
    ndjson_event_id(&w);
    jsonw_kv_str(&w, "dataset", "nettriage.dns");
    jsonw_obj_end(&w);
    jsonw_kv_str(&w, "v", value);
    ndjson_observer_end(&w);
    jsonw_obj_end(&w);
    strbuf_putc(b, '\n');
}

/* The id of the last line in b, copied into id. */
static void last_id(const struct strbuf *b, char id[OBSERVER_ID_LEN + 1])
{
    const char *s = strbuf_str(b);
    const char *line = s + b->len - 1;
    while (line > s && line[-1] != '\n')
        line--;
    const char *p = strstr(line, "\"id\":\"");
    assert_non_null(p);
    memcpy(id, p + 6, OBSERVER_ID_LEN);
    id[OBSERVER_ID_LEN] = '\0';
}

static void test_id_is_hash_of_line(void **state)
{
    (void)state;
    setenv("NETTRIAGE_HOSTNAME", "host-a", 1);
    assert_true(observer_set_name("sensor-1"));
    struct strbuf b;
    strbuf_init(&b);
    event_line(&b, "x");
    assert_string_equal(observer_name(), "sensor-1");
    assert_string_equal(observer_hostname(), "host-a");
    const char *s = strbuf_str(&b);
    assert_non_null(strstr(s, ",\"observer\":{\"name\":\"sensor-1\",\"hostname\":\"host-a\"}}\n"));
    char id[OBSERVER_ID_LEN + 1], want[OBSERVER_ID_LEN + 1];
    last_id(&b, id);
    for (size_t i = 0; i < OBSERVER_ID_LEN; i++)
        assert_true((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'));
    /* Zero the id again: the hash of the line up to the closing brace is the id. */
    char *copy = strdup(s);
    char *at = strstr(copy, id);
    memset(at, '0', OBSERVER_ID_LEN);
    observer_hash_hex(copy, b.len - 2, want);
    assert_string_equal(id, want);
    free(copy);
    strbuf_fini(&b);
}

static void test_same_content_same_id(void **state)
{
    (void)state;
    setenv("NETTRIAGE_HOSTNAME", "host-a", 1);
    assert_true(observer_set_name("sensor-1"));
    struct strbuf b;
    strbuf_init(&b);
    char first[OBSERVER_ID_LEN + 1], again[OBSERVER_ID_LEN + 1], other[OBSERVER_ID_LEN + 1],
        second_line[OBSERVER_ID_LEN + 1], other_sensor[OBSERVER_ID_LEN + 1];
    event_line(&b, "x");
    last_id(&b, first);
    /* A second line in the same buffer: only its own bytes count. */
    event_line(&b, "x");
    last_id(&b, second_line);
    assert_string_equal(first, second_line);
    strbuf_reset(&b);
    event_line(&b, "x");
    last_id(&b, again);
    assert_string_equal(first, again);
    strbuf_reset(&b);
    event_line(&b, "y");
    last_id(&b, other);
    assert_string_not_equal(first, other);
    assert_true(observer_set_name("sensor-2"));
    strbuf_reset(&b);
    event_line(&b, "x");
    last_id(&b, other_sensor);
    assert_string_not_equal(first, other_sensor);
    strbuf_fini(&b);
}

static void test_names(void **state)
{
    (void)state;
    setenv("NETTRIAGE_HOSTNAME", "host-b", 1);
    assert_false(observer_set_name("bad\nname"));
    char longname[OBSERVER_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(observer_set_name(longname));
    longname[OBSERVER_NAME_MAX] = '\0';
    assert_true(observer_set_name(longname));
    assert_string_equal(observer_name(), longname);
    /* No name: the host name. */
    assert_true(observer_set_name(NULL));
    assert_string_equal(observer_name(), "host-b");
    assert_true(observer_set_name("s\xc3\xa9nsor"));
    assert_string_equal(observer_name(), "s\xc3\xa9nsor");
}

static void test_hash_differs(void **state)
{
    (void)state;
    char a[OBSERVER_ID_LEN + 1], b[OBSERVER_ID_LEN + 1], c[OBSERVER_ID_LEN + 1];
    observer_hash_hex("abc", 3, a);
    observer_hash_hex("abd", 3, b);
    observer_hash_hex("", 0, c);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(c), OBSERVER_ID_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_is_hash_of_line),
        cmocka_unit_test(test_same_content_same_id),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hash_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
