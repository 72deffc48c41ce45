/* test_format.c: packet_format_line against the lines tcpdump -nn 4.99.3 prints. */
#include "testutil.h"

#include <pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

/* `tcpdump -nn -r samples/kernel-port-unreachable.pcap`, timestamps removed. */
static const char *const kernel_lines[] = {
    "IP6 fe80::c05b:a3ff:fe13:ae20 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group "
    "record(s), length 28",
    "IP6 fe80::c05b:a3ff:fe13:ae20 > ff02::2: ICMP6, router solicitation, length 16",
    "IP6 fe80::c05b:a3ff:fe13:ae20 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group "
    "record(s), length 28",
    "IP6 fe80::f4fb:9bff:feab:d7c4 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group "
    "record(s), length 28",
    "IP6 fe80::f4fb:9bff:feab:d7c4 > ff02::2: ICMP6, router solicitation, length 16",
    "IP6 fe80::f4fb:9bff:feab:d7c4 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group "
    "record(s), length 28",
    "ARP, Request who-has 198.51.100.2 tell 198.51.100.15, length 28",
    "ARP, Reply 198.51.100.2 is-at c2:5b:a3:13:ae:20, length 28",
    "IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+ [1au] A? yummyrecipesforme.com. (62)",
    "IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 unreachable, length 98",
    "IP 198.51.100.15.43941 > 198.51.100.2.53: 18839+ [1au] A? yummyrecipesforme.com. (62)",
    "IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 unreachable, length 98",
    "IP 198.51.100.15.39970 > 198.51.100.2.53: 59839+ [1au] A? yummyrecipesforme.com. (62)",
    "IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 unreachable, length 98",
};

/* `tcpdump -nn -r samples/firewall-admin-prohibited.pcap` */
static const char *const firewall_lines[] = {
    "IP 198.51.100.15.45178 > 198.51.100.2.53: 57227+ [1au] A? yummyrecipesforme.com. (62)",
    "IP 198.51.100.2 > 198.51.100.15: ICMP host 198.51.100.2 unreachable - admin prohibited "
    "filter, length 98",
    "IP 198.51.100.15.34780 > 198.51.100.2.53: 57227+ [1au] A? yummyrecipesforme.com. (62)",
    "IP 198.51.100.2 > 198.51.100.15: ICMP host 198.51.100.2 unreachable - admin prohibited "
    "filter, length 98",
};

static struct packet pkt;

static void check_capture(const char *name, const char *const *want, size_t n_want)
{
    const char *dir = getenv("NT_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/samples/%s", dir && *dir ? dir : NT_SOURCE_DIR "/../shared",
             name);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        printf("SKIP: cannot open %s (%s): the shared samples are absent\n", path, err);
        skip();
    }
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t i = 0;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        assert_true(i < n_want);
        packet_reset(&pkt);
        pkt.num = i + 1;
        pkt.caplen = h->caplen;
        pkt.wirelen = h->len;
        decode_packet(&pkt, dlt, d, h->caplen);
        char line[512];
        size_t len = packet_format_line(&pkt, line, sizeof line);
        assert_int_equal(len, strlen(line));
        assert_string_equal(line, want[i]);
        i++;
    }
    pcap_close(pc);
    assert_int_equal(i, n_want);
}

static void test_kernel_port_unreachable(void **state)
{
    (void)state;
    check_capture("kernel-port-unreachable.pcap", kernel_lines,
                  sizeof kernel_lines / sizeof kernel_lines[0]);
}

static void test_firewall_admin_prohibited(void **state)
{
    (void)state;
    check_capture("firewall-admin-prohibited.pcap", firewall_lines,
                  sizeof firewall_lines / sizeof firewall_lines[0]);
}

/* Raw IPv4 UDP from 198.51.100.2.53 to 198.51.100.15.53424 carrying the DNS message in hex. */
static void decode_dns(const char *dns_hex)
{
    static uint8_t f[1600];
    size_t n = tu_hex("4500 0000 0000 0000 4011 0000 c633 6402 c633 640f 0035 d0b0 0000 0000", f,
                      sizeof f);
    n += tu_hex(dns_hex, f + n, sizeof f - n);
    f[2] = (uint8_t)(n >> 8);
    f[3] = (uint8_t)n;
    f[24] = (uint8_t)((n - 20) >> 8);
    f[25] = (uint8_t)(n - 20);
    packet_reset(&pkt);
    pkt.caplen = pkt.wirelen = (uint32_t)n;
    decode_packet(&pkt, NT_DLT_RAW, f, n);
}

static void line_is(const char *want)
{
    char line[1024];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, want);
}

static void test_responses(void **state)
{
    (void)state;
    /* NOERROR, AA, one A answer, one OPT additional (like the example). */
    decode_dns("446a 8580 0001 0001 0000 0001"
               "1179 756d 6d79 7265 6369 7065 7366 6f72 6d65 0363 6f6d 00 0001 0001"
               "c00c 0001 0001 0000 003c 0004 c633 6407"
               "00 0029 04d0 0000 0000 0000");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: 17514* 1/0/1 A 198.51.100.7 (66)");
    /* NXDOMAIN with RA, no answers, an SOA in authority (not printed without -v). */
    decode_dns("446a 8183 0001 0000 0001 0000"
               "0178 0765 7861 6d70 6c65 00 0001 0001"
               "c00e 0006 0001 0000 0e10 0016 c00e c00e 0000 0001 0000 0002 0000 0003 0000 0004"
               "0000 0005");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: 17514 NXDomain 0/1/0 (63)");
    /* SERVFAIL without RA, REFUSED, then CNAME + AAAA + MX + TXT + SRV answers (checked against
     * the real tcpdump 4.99.3 on the same bytes). */
    decode_dns("0001 8002 0001 0000 0000 0000 0000 0100 01");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: 1 ServFail- 0/0/0 (17)");
    decode_dns("0001 8185 0001 0000 0000 0000 0000 0100 01");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: 1 Refused 0/0/0 (17)");
    decode_dns("0002 8180 0001 0005 0000 0000 0161 00 00ff 0001"
               "c00c 0005 0001 0000 0001 0004 0162 c00c"
               "c00c 001c 0001 0000 0001 0010 20010db8000000000000000000000001"
               "c00c 000f 0001 0000 0001 0004 000a c00c"
               "c00c 0010 0001 0000 0001 0006 0568 656c 6c6f"
               "c00c 0021 0001 0000 0001 0008 0001 0002 0035 c00c");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: 2 5/0/0 CNAME b.a., AAAA 2001:db8::1, MX a. "
            "10, TXT \"hello\", SRV a.:53 1 2 (117)");
    /* A query with CD, a non-IN class, and a header that is too short. */
    decode_dns("0003 0110 0001 0000 0000 0000 0000 0100 03");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: 3+% A CHAOS? . (17)");
    decode_dns("0003 01");
    line_is("IP 198.51.100.2.53 > 198.51.100.15.53424: domain [length 3 < 12] (invalid)");
}

static void test_hostile_names_are_escaped(void **state)
{
    (void)state;
    /* A query for "<script>|\n\0\x1b." : the line holds only printable ASCII. */
    decode_dns("0004 0100 0001 0000 0000 0000 0e 3c73 6372 6970 743e 7c0a 001b 2e5c 00 0001 0001");
    char line[1024];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.2.53 > 198.51.100.15.53424: 4+ A? "
                              "\\<script\\>\\124\\010\\000\\027\\.\\\\. (32)");
    for (const char *p = line; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_small_buffers(void **state)
{
    (void)state;
    decode_dns("0004 0100 0001 0000 0000 0000 0161 00 0001 0001");
    char full[256], small[16];
    size_t n = packet_format_line(&pkt, full, sizeof full);
    for (size_t cap = 1; cap < sizeof small; cap++) {
        memset(small, 'x', sizeof small);
        size_t k = packet_format_line(&pkt, small, cap);
        assert_int_equal(k, cap - 1 < n ? cap - 1 : n);
        assert_int_equal(small[k], '\0');
        assert_memory_equal(small, full, k);
    }
    assert_int_equal(packet_format_line(&pkt, small, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_port_unreachable),
        cmocka_unit_test(test_firewall_admin_prohibited),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_hostile_names_are_escaped),
        cmocka_unit_test(test_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
