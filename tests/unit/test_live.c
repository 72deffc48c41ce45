/* test_live.c: the live source without an interface (source/live.h): --read-live's pacing and
 * stop conditions, -w writing and its rotation (tcpdump's file names), and that an opened
 * source run through pipeline_read_source gives the model pipeline_read gives for the file. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "source/live.h"
#include "util/err.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A classic pcap (microseconds, Ethernet) of n DNS queries (192.0.2.10 -> 192.0.2.53:53), one
 * every gap seconds, written to a new temporary file whose name is returned (malloc'd). */
static char *make_capture(int n, double gap)
{
    char tmpl[] = "/tmp/nt-live-test-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    uint32_t hdr[6] = {0xa1b2c3d4, 2 | 4u << 16, 0, 0, 65535, 1};
    assert_int_equal(fwrite(hdr, 4, 6, f), 6);
    for (int i = 0; i < n; i++) {
        uint8_t fr[128];
        size_t k = 0;
        static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00};
        memcpy(fr, eth, 14);
        k = 14;
        static const uint8_t q[] = {0,   0,   0x01, 0,   0,   1,   0,   0,   0,   0,   0,
                                    0,   3,   'w',  'w', 'w', 7,   'e', 'x', 'a', 'm', 'p',
                                    'l', 'e', 3,    'c', 'o', 'm', 0,   0,   1,   0,   1};
        size_t udp_len = 8 + sizeof q, ip_len = 20 + udp_len;
        uint8_t ip[20] = {0x45,
                          0,
                          (uint8_t)(ip_len >> 8),
                          (uint8_t)ip_len,
                          0,
                          1,
                          0,
                          0,
                          64,
                          17,
                          0,
                          0,
                          192,
                          0,
                          2,
                          10,
                          192,
                          0,
                          2,
                          53};
        uint32_t sum = 0;
        for (int j = 0; j < 20; j += 2)
            sum += (uint32_t)(ip[j] << 8 | ip[j + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        ip[10] = (uint8_t)(~sum >> 8);
        ip[11] = (uint8_t)~sum;
        memcpy(fr + k, ip, 20);
        k += 20;
        uint16_t sport = (uint16_t)(40000 + i);
        uint8_t udp[8] = {(uint8_t)(sport >> 8),   (uint8_t)sport,   0, 53,
                          (uint8_t)(udp_len >> 8), (uint8_t)udp_len, 0, 0};
        memcpy(fr + k, udp, 8);
        k += 8;
        memcpy(fr + k, q, sizeof q);
        fr[k] = (uint8_t)(i >> 8); /* DNS id */
        fr[k + 1] = (uint8_t)i;
        k += sizeof q;
        double t = 1700000000.0 + gap * i;
        uint32_t rec[4] = {(uint32_t)t, (uint32_t)((t - (uint32_t)t) * 1e6 + 0.5), (uint32_t)k,
                           (uint32_t)k};
        assert_int_equal(fwrite(rec, 4, 4, f), 4);
        assert_int_equal(fwrite(fr, 1, k, f), k);
    }
    assert_int_equal(fclose(f), 0);
    return strdup(tmpl);
}

/* Reads the source to its end; returns the packets and the seconds it took. */
static uint64_t drain(struct source *s, double *secs)
{
    struct packet *pkt = calloc(1, sizeof *pkt);
    assert_non_null(pkt);
    double t0 = now_s();
    int rc;
    uint64_t n = 0;
    while ((rc = source_next(s, pkt)) == 1)
        n++;
    assert_int_equal(rc, 0);
    *secs = now_s() - t0;
    free(pkt);
    return n;
}

static void test_savefile_names(void **state)
{
    (void)state;
    char b[64];
    /* Without -W: base, base1, base2 ... (tcpdump's -C naming) */
    assert_true(live_savefile_name(b, sizeof b, "cap.pcap", 0, 0));
    assert_string_equal(b, "cap.pcap");
    assert_true(live_savefile_name(b, sizeof b, "cap.pcap", 1, 0));
    assert_string_equal(b, "cap.pcap1");
    assert_true(live_savefile_name(b, sizeof b, "cap.pcap", 12, 0));
    assert_string_equal(b, "cap.pcap12");
    /* With -W N: always numbered, padded to the width of N-1; -W 1 keeps the name */
    assert_true(live_savefile_name(b, sizeof b, "c", 0, 1));
    assert_string_equal(b, "c");
    assert_true(live_savefile_name(b, sizeof b, "c", 0, 3));
    assert_string_equal(b, "c0");
    assert_true(live_savefile_name(b, sizeof b, "c", 2, 3));
    assert_string_equal(b, "c2");
    assert_true(live_savefile_name(b, sizeof b, "c", 9, 10));
    assert_string_equal(b, "c9");
    assert_true(live_savefile_name(b, sizeof b, "c", 0, 11));
    assert_string_equal(b, "c00");
    assert_true(live_savefile_name(b, sizeof b, "c", 10, 11));
    assert_string_equal(b, "c10");
    assert_true(live_savefile_name(b, sizeof b, "c", 7, 101));
    assert_string_equal(b, "c007");
    /* Too long for the buffer: refused, not cut */
    assert_false(live_savefile_name(b, 4, "cap", 1, 0));
}

/* At --speed 10 three packets one second apart take 0.2 s; at 0, no pause. */
static void test_read_live_pacing(void **state)
{
    (void)state;
    char *path = make_capture(3, 1.0);
    char err[SOURCE_ERROR_MAX];
    struct source *s;
    struct live_opts o = {.read_file = path, .speed = 10};
    assert_int_equal(source_open_live(&o, &s, err), NT_OK);
    double secs;
    assert_int_equal(drain(s, &secs), 3);
    assert_true(secs >= 0.19);
    assert_true(secs < 1.5);                          /* generous: a loaded machine */
    assert_false(source_stats(s)->has_capture_stats); /* a replay has no kernel counts */
    assert_int_equal(source_kind(s), SOURCE_PCAP);
    source_close(s);

    o.speed = 0;
    assert_int_equal(source_open_live(&o, &s, err), NT_OK);
    assert_int_equal(drain(s, &secs), 3);
    assert_true(secs < 0.15);
    source_close(s);
    unlink(path);
    free(path);
}

/* -c, --duration and a stop request end a replay early; the stop is prompt even inside a
 * long pause between packets. */
static void test_read_live_stops(void **state)
{
    (void)state;
    char *path = make_capture(5, 10.0);
    char err[SOURCE_ERROR_MAX];
    struct source *s;
    double secs;
    struct live_opts o = {.read_file = path, .speed = 0, .max_packets = 2};
    assert_int_equal(source_open_live(&o, &s, err), NT_OK);
    assert_int_equal(drain(s, &secs), 2);
    source_close(s);

    /* At the recorded pace the second packet is due after 10 s: --duration 0.3 stops first. */
    struct live_opts d = {.read_file = path, .speed = 1, .duration_us = 300000};
    assert_int_equal(source_open_live(&d, &s, err), NT_OK);
    assert_int_equal(drain(s, &secs), 1);
    assert_true(secs >= 0.29 && secs < 1.5);
    source_close(s);

    /* A stop request (what SIGINT's handler makes): the next call ends the source. */
    struct live_opts r = {.read_file = path, .speed = 1};
    assert_int_equal(source_open_live(&r, &s, err), NT_OK);
    struct packet *pkt = calloc(1, sizeof *pkt);
    assert_int_equal(source_next(s, pkt), 1);
    source_live_request_stop();
    assert_int_equal(source_next(s, pkt), 0);
    source_stop_reset();
    free(pkt);
    source_close(s);
    unlink(path);
    free(path);
}

/* Errors are said, not crashed on: a missing file, a bad filter, no input at all. */
static void test_open_errors(void **state)
{
    (void)state;
    char err[SOURCE_ERROR_MAX];
    struct source *s;
    struct live_opts none = {0};
    assert_true(source_open_live(&none, &s, err) < 0);
    struct live_opts missing = {.read_file = "/nonexistent/x.pcap"};
    assert_true(source_open_live(&missing, &s, err) < 0);
    assert_true(strlen(err) > 0);
    char *path = make_capture(1, 1.0);
    struct live_opts bad = {.read_file = path, .filter = "udp port and and"};
    assert_int_equal(source_open_live(&bad, &s, err), NT_ERR_USAGE);
    assert_non_null(strstr(err, "bad filter expression"));
    /* A good filter applies: no packet of this capture is TCP */
    struct live_opts tcp = {.read_file = path, .speed = 0, .filter = "tcp"};
    assert_int_equal(source_open_live(&tcp, &s, err), NT_OK);
    double secs;
    assert_int_equal(drain(s, &secs), 0);
    source_close(s);
    unlink(path);
    free(path);
}

/* -w writes what is read; -C rotates to base1, base2 ... and the files hold every packet. */
static void test_write_and_rotate(void **state)
{
    (void)state;
    char *path = make_capture(10, 0.001);
    char base[256], name[300];
    snprintf(base, sizeof base, "%s.out", path);
    char err[SOURCE_ERROR_MAX];
    struct source *s;
    double secs;
    /* Each record is 16 + 75 bytes after a 24-byte header (24, 115, 206, 297): past 250
     * bytes a new file, so three packets per file (the size is looked at before each write,
     * as tcpdump does), and the tenth alone in the fourth. */
    struct live_opts o = {.read_file = path, .speed = 0, .write = base, .rotate_bytes = 250};
    assert_int_equal(source_open_live(&o, &s, err), NT_OK);
    assert_int_equal(drain(s, &secs), 10);
    source_close(s);
    uint64_t total = 0;
    int files = 0;
    for (uint32_t i = 0; i < 10; i++) {
        assert_true(live_savefile_name(name, sizeof name, base, i, 0));
        if (access(name, F_OK) != 0)
            break;
        struct source *r;
        assert_int_equal(source_open(name, &r, err), NT_OK);
        struct packet *pkt = calloc(1, sizeof *pkt);
        uint64_t n = 0;
        while (source_next(r, pkt) == 1)
            n++;
        free(pkt);
        source_close(r);
        assert_int_equal(n, 3 + (i == 3 ? -2 : 0));
        total += n;
        files++;
        unlink(name);
    }
    assert_int_equal(files, 4);
    assert_int_equal(total, 10);

    /* -W 2: two files, base0 and base1, overwritten in turn */
    struct live_opts w = {
        .read_file = path, .speed = 0, .write = base, .rotate_bytes = 250, .rotate_files = 2};
    assert_int_equal(source_open_live(&w, &s, err), NT_OK);
    assert_int_equal(drain(s, &secs), 10);
    source_close(s);
    assert_true(live_savefile_name(name, sizeof name, base, 0, 2));
    assert_int_equal(access(name, F_OK), 0);
    unlink(name);
    assert_true(live_savefile_name(name, sizeof name, base, 1, 2));
    assert_int_equal(access(name, F_OK), 0);
    unlink(name);
    assert_true(live_savefile_name(name, sizeof name, base, 2, 2));
    assert_string_equal(name + strlen(base), "2");
    assert_int_not_equal(access(name, F_OK), 0); /* never a third */
    assert_int_not_equal(access(base, F_OK), 0); /* nor the bare name */
    unlink(path);
    free(path);
}

/* The example incident through a live source and pipeline_read_source gives the model
 * pipeline_read gives for the file; the -w copy, read as a file, gives it again. */
static void test_read_source_same_as_file(void **state)
{
    (void)state;
    const char *example = NT_SOURCE_DIR "/examples/port-unreachable.pcap";
    char copy[] = "/tmp/nt-live-copy-XXXXXX";
    int fd = mkstemp(copy);
    assert_true(fd >= 0);
    close(fd);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct analysis a1 = {0}, a2 = {0}, a3 = {0};
    struct pipeline *p1 = pipeline_new(&cfg, NULL, &a1, 1);
    assert_true(pipeline_read(p1, example, 0));
    assert_true(pipeline_finish(p1));

    struct pipeline *p2 = pipeline_new(&cfg, NULL, &a2, 1);
    char err[SOURCE_ERROR_MAX];
    struct source *s;
    struct live_opts o = {.read_file = example, .speed = 0, .write = copy};
    assert_int_equal(source_open_live(&o, &s, err), NT_OK);
    assert_true(pipeline_read_source(p2, s, "replay", 0));
    source_close(s);
    assert_true(pipeline_finish(p2));

    struct pipeline *p3 = pipeline_new(&cfg, NULL, &a3, 1);
    assert_true(pipeline_read(p3, copy, 0));
    assert_true(pipeline_finish(p3));

    const struct analysis *as[2] = {&a2, &a3};
    for (int k = 0; k < 2; k++) {
        const struct analysis *b = as[k];
        assert_int_equal(b->summary.packets, a1.summary.packets);
        assert_int_equal(b->summary.dns_lookups, a1.summary.dns_lookups);
        assert_int_equal(b->summary.icmp_errors, a1.summary.icmp_errors);
        assert_int_equal(b->summary.icmp_matched, a1.summary.icmp_matched);
        assert_int_equal(b->n_findings, a1.n_findings);
        for (size_t i = 0; i < a1.n_findings; i++)
            assert_string_equal(b->findings[i]->id, a1.findings[i]->id);
    }
    assert_true(a1.n_findings > 0);
    assert_string_equal(a2.inputs[0].path, "replay");
    assert_string_equal(a2.inputs[0].kind, "pcap");
    analysis_fini(&a1);
    analysis_fini(&a2);
    analysis_fini(&a3);
    pipeline_free(p1);
    pipeline_free(p2);
    pipeline_free(p3);
    unlink(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_savefile_names),   cmocka_unit_test(test_read_live_pacing),
        cmocka_unit_test(test_read_live_stops),  cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_write_and_rotate), cmocka_unit_test(test_read_source_same_as_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
