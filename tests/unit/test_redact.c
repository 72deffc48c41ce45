/* test_redact.c: --redact: who counts as a client, and where its text forms are found and
 * replaced (and where they must not be: other addresses that start or end like it). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "report/redact.h"
#include "util/addr.h"
#include "util/strbuf.h"

static struct packet *dns(const char *src, const char *dst, bool answer)
{
    static struct packet p;
    memset(&p, 0, sizeof p);
    p.layers = PKT_L_IP | PKT_L_UDP | PKT_L_DNS;
    assert_true(nt_addr_parse(&p.src, src, strlen(src)));
    assert_true(nt_addr_parse(&p.dst, dst, strlen(dst)));
    p.dns.flags = answer ? DNS_FLAG_QR : 0;
    return &p;
}

static char *apply(struct redact *r, const char *in, bool json)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, in);
    assert_true(redact_apply(r, &b, json));
    return strbuf_take(&b);
}

static void check(struct redact *r, const char *in, const char *want)
{
    char *got = apply(r, in, false);
    assert_string_equal(got, want);
    free(got);
}

static void test_roles_and_forms(void **state)
{
    (void)state;
    struct redact *r = redact_new();
    assert_non_null(r);
    /* 198.51.100.15 and 2001:db8::15 ask 198.51.100.2; 10.0.0.53 asks upstream but also serves
     * 198.51.100.16 (a forwarder: visible); 198.51.100.16 asks first, so it is client-1. */
    assert_true(redact_observe(r, dns("198.51.100.16", "10.0.0.53", false)));
    assert_true(redact_observe(r, dns("198.51.100.15", "198.51.100.2", false)));
    assert_true(redact_observe(r, dns("198.51.100.2", "198.51.100.15", true)));
    assert_true(redact_observe(r, dns("10.0.0.53", "192.0.2.1", false)));
    assert_true(redact_observe(r, dns("2001:db8::15", "2001:db8::2", false)));
    check(r, "IP 198.51.100.15.40895 > 198.51.100.2.53: 1+ A? x. (20)",
          "IP client-2.40895 > 198.51.100.2.53: 1+ A? x. (20)");
    check(r, "IP 198.51.100.2 > 198.51.100.15: ICMP", "IP 198.51.100.2 > client-2: ICMP");
    assert_int_equal(redact_clients(r), 3);
    /* Not these: longer numbers, another address ending like it, the forwarder. */
    check(r, "198.51.100.150 1198.51.100.15 10.198.51.100.15 10.0.0.53",
          "198.51.100.150 1198.51.100.15 10.198.51.100.15 10.0.0.53");
    /* Reverse names and a name with the address in it. */
    check(r, "PTR? 15.100.51.198.in-addr.arpa. A? app.198.51.100.16.nip.io.",
          "PTR? client-2.in-addr.arpa. A? app.client-1.nip.io.");
    /* IPv6: any case, zeros written out, tcpdump's trailing colon and ".port". */
    check(r, "2001:DB8::15.53 > 2001:db8:0:0:0:0:0:15: x 2001:db8::150 2001:db8::1",
          "client-3.53 > client-3: x 2001:db8::150 2001:db8::1");
    /* MAC addresses, but not an IPv6 address made of pairs. */
    check(r, "02:42:ac:11:00:02 > 02:42:AC:11:00:03, fe80:aa:bb:cc:dd:ee:ff:1",
          "xx:xx:xx:xx:xx:xx > xx:xx:xx:xx:xx:xx, fe80:aa:bb:cc:dd:ee:ff:1");
    /* JSON: a client's "ip" member goes, its "address" keeps the pseudonym. */
    char *j =
        apply(r, "{\"source\":{\"address\":\"198.51.100.15\",\"ip\":\"198.51.100.15\",\"port\":1}}",
              true);
    assert_string_equal(j, "{\"source\":{\"address\":\"client-2\",\"port\":1}}");
    free(j);
    redact_free(r);
}

static void test_icmp_quote(void **state)
{
    (void)state;
    struct redact *r = redact_new();
    static struct packet p;
    memset(&p, 0, sizeof p);
    /* An ICMP error (text without -v: only the quoted destination) goes back to the client. */
    p.layers = PKT_L_IP | PKT_L_ICMP;
    p.icmp_is_error = true;
    assert_true(nt_addr_parse(&p.src, "198.51.100.2", 12));
    assert_true(nt_addr_parse(&p.dst, "198.51.100.15", 13));
    p.quote.known = QUOTE_K_DST;
    p.quote.dst = p.src;
    assert_true(redact_observe(r, &p));
    check(r, "198.51.100.2 > 198.51.100.15", "198.51.100.2 > client-1");
    redact_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_and_forms),
        cmocka_unit_test(test_icmp_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
