/* test_source.c: recognising an input's kind from its content, and the pcap reader's handling
 * of good, empty, truncated and foreign files. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/source.h"
#include "util/err.h"

static void test_sniff(void **state)
{
    (void)state;
    const char *why;
    static const uint8_t le[] = {0xd4, 0xc3, 0xb2, 0xa1}, be[] = {0xa1, 0xb2, 0xc3, 0xd4},
                         ns[] = {0x4d, 0x3c, 0xb2, 0xa1}, ng[] = {0x0a, 0x0d, 0x0d, 0x0a},
                         gz[] = {0x1f, 0x8b, 0x08, 0x00}, png[] = {0x89, 'P', 'N', 'G', 0, 0};
    assert_int_equal(source_sniff(le, 4, &why), SOURCE_PCAP);
    assert_int_equal(source_sniff(be, 4, &why), SOURCE_PCAP);
    assert_int_equal(source_sniff(ns, 4, &why), SOURCE_PCAP);
    assert_int_equal(source_sniff(ng, 4, &why), SOURCE_PCAPNG);
    assert_int_equal(source_sniff(gz, 4, &why), 0);
    assert_non_null(strstr(why, "gzip"));
    assert_int_equal(source_sniff(png, sizeof png, &why), 0);
    assert_non_null(strstr(why, "binary"));
    assert_int_equal(source_sniff((const uint8_t *)"", 0, &why), 0);
    assert_string_equal(why, "empty file");
    const char *txt = "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A?\n";
    assert_int_equal(source_sniff((const uint8_t *)txt, strlen(txt), &why), SOURCE_TEXT);
}

static char *write_tmp(const uint8_t *data, size_t n)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/nt-test-source-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    return path;
}

static int count_packets(const char *path, uint64_t *n, char *err)
{
    struct source *s;
    int rc = source_open(path, &s, err);
    if (rc < 0)
        return rc;
    struct packet *pkt = calloc(1, sizeof *pkt);
    assert_non_null(pkt);
    while ((rc = source_next(s, pkt)) == 1)
        ;
    *n = source_stats(s)->packets;
    if (rc < 0)
        snprintf(err, SOURCE_ERROR_MAX, "%s", source_error(s));
    source_close(s);
    free(pkt);
    return rc;
}

static void test_pcap_good_truncated_empty(void **state)
{
    (void)state;
    size_t len;
    uint8_t *pcap = tu_read_file("examples/port-unreachable.pcap", &len);
    char err[SOURCE_ERROR_MAX];
    uint64_t n = 0;
    char *p = write_tmp(pcap, len);
    assert_int_equal(count_packets(p, &n, err), 0);
    assert_int_equal(n, 12);
    unlink(p);
    /* Cut in the middle of the last record: the packets before it stand. */
    p = write_tmp(pcap, len - 10);
    assert_int_equal(count_packets(p, &n, err), NT_ERR_TRUNCATED);
    assert_int_equal(n, 11);
    assert_non_null(strstr(err, "truncated"));
    unlink(p);
    /* Only the global header: a valid capture with nothing in it. */
    p = write_tmp(pcap, 24);
    assert_int_equal(count_packets(p, &n, err), NT_ERR_NO_PACKETS);
    unlink(p);
    /* Cut inside the global header. */
    p = write_tmp(pcap, 10);
    assert_true(count_packets(p, &n, err) < 0);
    unlink(p);
    p = write_tmp((const uint8_t *)"", 0);
    assert_int_equal(count_packets(p, &n, err), NT_ERR_EMPTY);
    assert_string_equal(err, "empty file");
    unlink(p);
    assert_int_equal(count_packets("/nonexistent/nt.pcap", &n, err), NT_ERR_IO);
    assert_int_equal(count_packets("/tmp", &n, err), NT_ERR_IS_DIR);
    free(pcap);
}

static void test_text_kind(void **state)
{
    (void)state;
    char err[SOURCE_ERROR_MAX];
    uint64_t n = 0;
    char path[512];
    snprintf(path, sizeof path, "%s/examples/pasted-log.txt", NT_SOURCE_DIR);
    struct source *s;
    assert_int_equal(source_open(path, &s, err), 0);
    assert_int_equal(source_kind(s), SOURCE_TEXT);
    assert_string_equal(source_kind_name(source_kind(s)), "tcpdump text");
    source_close(s);
    assert_int_equal(count_packets(path, &n, err), 0);
    assert_int_equal(n, 6);
    const char *junk = "hello\nthis is not tcpdump\n";
    char *p = write_tmp((const uint8_t *)junk, strlen(junk));
    assert_int_equal(count_packets(p, &n, err), NT_ERR_NO_RECORDS);
    assert_int_equal(n, 0);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_pcap_good_truncated_empty),
        cmocka_unit_test(test_text_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
