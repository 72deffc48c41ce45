/* test_dns_ldns_oracle.c: dns_parse_message against ldns on every DNS message we can read. */
#include "testutil.h"

#include <ldns/ldns.h>
#include <pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/decode.h"

static const char *shared_dir(void)
{
    const char *d = getenv("NT_SHARED_DIR");
    /* ../shared beside the checkout, as CI has it; NT_SHARED_DIR overrides. */
    return d && *d ? d : NT_SOURCE_DIR "/../shared";
}

static unsigned n_files, n_messages, n_compared, n_agreed, n_both_reject, n_ldns_only_reject,
    n_disagree, n_stricter;

/* Turns a presentation-form name or string into its raw bytes ("\\." -> '.', "\\065" -> 'A'),
 * so that two printers that escape different characters can be compared. */
static size_t unescape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++) {
        if (*s == '\\' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' &&
            s[3] <= '9') {
            out[n++] = (char)((s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
            s += 3;
        } else if (*s == '\\' && s[1]) {
            out[n++] = *++s;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return n;
}

static bool same_text(const char *ours, const char *theirs)
{
    if (strcmp(ours, theirs) == 0)
        return true;
    static char a[4096], b[4096];
    size_t na = unescape(ours, a, sizeof a), nb = unescape(theirs, b, sizeof b);
    return na == nb && memcmp(a, b, na) == 0;
}

static bool report(const char *where, const char *what, const char *ours, const char *theirs)
{
    if (n_disagree < 40)
        printf("DISAGREE %s: %s: ours \"%s\" ldns \"%s\"\n", where, what, ours, theirs);
    return false;
}

static bool known_type(uint16_t t)
{
    return t == 1 || t == 2 || t == 5 || t == 6 || t == 12 || t == 15 || t == 16 || t == 28 ||
           t == 33;
}

/* Compares one message; returns true when every compared field agrees. */
static bool compare(const uint8_t *b, size_t n, const char *where)
{
    static struct dns_msg msg;
    static struct packet scratch;
    packet_reset(&scratch);
    struct cursor c = cur_make(b, n);
    bool hdr = dns_parse_message_all_text(&c, &msg, &scratch);
    ldns_pkt *lp = NULL;
    ldns_status st = ldns_wire2pkt(&lp, b, n);
    n_messages++;
    if (st != LDNS_STATUS_OK) {
        if (!hdr || !msg.complete)
            n_both_reject++;
        else
            n_ldns_only_reject++; /* ldns also checks RDATA formats of types we do not parse */
        return true;
    }
    n_compared++;
    bool ok = true;
    char t1[64], t2[64];
    if (!hdr || !msg.complete) {
        ldns_pkt_free(lp);
        /* ldns follows forward compression pointers; we reject them on purpose (only
         * strictly backward pointers guarantee termination). */
        if (packet_has_anomaly(&scratch, ANOM_DNS_BAD_COMPRESSION_POINTER)) {
            n_stricter++;
            printf("note: %s: forward pointer rejected by us, accepted by ldns\n", where);
            return true;
        }
        return report(where, "complete", "no", "yes");
    }
#define CMP_NUM(what, x, y)                                                                        \
    do {                                                                                           \
        if ((unsigned long)(x) != (unsigned long)(y)) {                                            \
            snprintf(t1, sizeof t1, "%lu", (unsigned long)(x));                                    \
            snprintf(t2, sizeof t2, "%lu", (unsigned long)(y));                                    \
            ok = report(where, what, t1, t2);                                                      \
        }                                                                                          \
    } while (0)
    CMP_NUM("id", msg.id, ldns_pkt_id(lp));
    CMP_NUM("opcode", msg.opcode, ldns_pkt_get_opcode(lp));
    CMP_NUM("qdcount", msg.qdcount, ldns_pkt_qdcount(lp));
    CMP_NUM("ancount", msg.ancount, ldns_pkt_ancount(lp));
    CMP_NUM("nscount", msg.nscount, ldns_pkt_nscount(lp));
    /* ldns moves the OPT and TSIG records out of the additional section. */
    unsigned tsig = 0;
    for (unsigned k = 0; k < msg.n_rr; k++)
        tsig += msg.rr[k].type == 250 && msg.rr[k].section == DNS_SEC_ADDITIONAL;
    if (!packet_has_anomaly(&scratch, ANOM_DNS_MULTIPLE_OPT))
        CMP_NUM("arcount", msg.arcount, ldns_pkt_arcount(lp) + (msg.has_opt ? 1 : 0) + tsig);
    CMP_NUM("has_opt", msg.has_opt, ldns_pkt_edns(lp) ? 1 : 0);
    unsigned rcode = ldns_pkt_get_rcode(lp);
    if (msg.has_opt) {
        rcode |= (unsigned)ldns_pkt_edns_extended_rcode(lp) << 4;
        CMP_NUM("edns udp size", msg.edns_udp_size, ldns_pkt_edns_udp_size(lp));
        CMP_NUM("edns version", msg.edns_version, ldns_pkt_edns_version(lp));
        CMP_NUM("edns do", msg.edns_do, ldns_pkt_edns_do(lp) ? 1 : 0);
    }
    CMP_NUM("rcode", msg.rcode, rcode);

    ldns_rr_list *qs = ldns_pkt_question(lp);
    if (msg.qdcount > 0 && qs && ldns_rr_list_rr_count(qs) > 0) {
        ldns_rr *q = ldns_rr_list_rr(qs, 0);
        char *owner = ldns_rdf2str(ldns_rr_owner(q));
        if (!same_text(msg.q.name.text, owner))
            ok = report(where, "qname", msg.q.name.text, owner);
        free(owner);
        CMP_NUM("qtype", msg.q.qtype, ldns_rr_get_type(q));
    }

    /* Our kept records are the answer, authority and additional records in order, without
     * OPT; ldns's three lists hold the same. */
    ldns_rr_list *lists[3] = {ldns_pkt_answer(lp), ldns_pkt_authority(lp), ldns_pkt_additional(lp)};
    size_t li = 0, ri = 0;
    for (unsigned k = 0; k < msg.n_rr; k++) {
        if (msg.rr[k].type == 250 && msg.rr[k].section == DNS_SEC_ADDITIONAL)
            continue;
        while (li < 3 && (!lists[li] || ri >= ldns_rr_list_rr_count(lists[li]))) {
            li++;
            ri = 0;
        }
        if (li == 3) {
            ok = report(where, "record count", "more", "fewer");
            break;
        }
        const struct dns_rr *our = &msg.rr[k];
        ldns_rr *rr = ldns_rr_list_rr(lists[li], ri++);
        char *owner = ldns_rdf2str(ldns_rr_owner(rr));
        if (!same_text(our->name.text, owner))
            ok = report(where, "owner", our->name.text, owner);
        free(owner);
        CMP_NUM("type", our->type, ldns_rr_get_type(rr));
        CMP_NUM("ttl", our->ttl, ldns_rr_ttl(rr));
        CMP_NUM("section", our->section, li + 1);
        if (!known_type(our->type))
            continue;
        char addr[DNS_RR_ADDR_TEXT_MAX];
        const char *rdata = dns_rr_data(our, addr);
        size_t len = strlen(rdata);
        if (len >= 3 && strcmp(rdata + len - 3, "...") == 0)
            continue; /* cut to fit: compared no further */
        static char text[65536];
        size_t tl = 0;
        text[0] = '\0';
        for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
            char *s = ldns_rdf2str(ldns_rr_rdf(rr, i));
            if (!s)
                continue;
            tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s%s", i ? " " : "", s);
            if (tl >= sizeof text)
                tl = sizeof text - 1;
            free(s);
        }
        /* Empty RDATA (dynamic update deletions): ldns prints nothing, we print RFC 3597's
         * "\# 0". */
        if (our->rdlength == 0 && strcmp(rdata, "\\# 0") == 0 && text[0] == '\0')
            continue;
        if (!same_text(rdata, text))
            ok = report(where, "rdata", rdata, text);
    }
    ldns_pkt_free(lp);
    if (ok)
        n_agreed++;
    else
        n_disagree++;
    return ok;
#undef CMP_NUM
}

/* Where the DNS message starts in the frame, from what decode found. */
static bool locate_dns(const struct packet *p, size_t caplen, size_t *off, size_t *len)
{
    if (!(p->layers & PKT_L_DNS) || packet_has_anomaly(p, ANOM_IPV4_BAD_TOTAL_LENGTH) ||
        p->ip_len < p->ip_payload_len)
        return false;
    size_t o = (size_t)p->l2_len + (p->ip_len - p->ip_payload_len);
    if (p->layers & PKT_L_UDP)
        o += 8;
    else
        o += 20 + (size_t)p->tcp_opts_len + 2;
    if (o > caplen)
        return false;
    *off = o;
    *len = p->dns.length < caplen - o ? p->dns.length : caplen - o;
    return true;
}

static void run_capture(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc)
        return;
    int dlt = pcap_datalink(pc);
    if (!decode_linktype_supported(dlt)) {
        pcap_close(pc);
        return;
    }
    n_files++;
    static struct packet pkt;
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long num = 0;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        num++;
        packet_reset(&pkt);
        pkt.caplen = h->caplen;
        pkt.wirelen = h->len;
        decode_packet(&pkt, dlt, d, h->caplen);
        size_t off, len;
        if (!locate_dns(&pkt, h->caplen, &off, &len))
            continue;
        if (pkt.fragment)
            continue; /* a first fragment holds part of a message only */
        char where[1200];
        snprintf(where, sizeof where, "%s #%lu", path, num);
        compare(d + off, len, where);
    }
    pcap_close(pc);
}

static bool is_capture_name(const char *p)
{
    const char *dot = strrchr(p, '.');
    return dot &&
           (strcmp(dot, ".pcap") == 0 || strcmp(dot, ".pcapng") == 0 || strcmp(dot, ".cap") == 0);
}

static void test_ldns_agrees(void **state)
{
    (void)state;
    char path[10000];
    struct stat st;
    snprintf(path, sizeof path, "%s/samples", shared_dir());
    if (stat(path, &st) != 0) {
        printf("SKIP: %s is absent; the ldns oracle needs the shared samples and corpora\n",
               shared_dir());
        skip();
    }
    const char *samples[] = {"kernel-port-unreachable.pcap", "firewall-admin-prohibited.pcap"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/samples/%s", shared_dir(), samples[i]);
        run_capture(path);
    }
    unsigned sample_msgs = n_messages;
    assert_true(sample_msgs >= 5); /* the five queries of the two samples */

    /* Every capture the corpus manifest lists in a DNS category. */
    snprintf(path, sizeof path, "%s/corpora/manifest.tsv", shared_dir());
    FILE *f = fopen(path, "r");
    if (f) {
        char line[8192];
        while (fgets(line, sizeof line, f)) {
            char *tab = strchr(line, '\t');
            if (!tab)
                continue;
            *tab = '\0';
            char *cats = strrchr(tab + 1, '\t');
            if (!cats || !strstr(cats, "DNS") || !is_capture_name(line))
                continue;
            snprintf(path, sizeof path, "%s/corpora/%s", shared_dir(), line);
            run_capture(path);
        }
        fclose(f);
    } else {
        printf("note: %s missing; only the samples were compared\n", path);
    }
    printf("ldns oracle: %u captures, %u DNS messages; %u compared with ldns, %u agreed, %u "
           "disagreed; %u rejected by both, %u rejected by ldns only; %u forward pointers rejected "
           "by us only\n",
           n_files, n_messages, n_compared, n_agreed, n_disagree, n_both_reject, n_ldns_only_reject,
           n_stricter);
    assert_int_equal(n_disagree, 0);
    assert_true(n_compared > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ldns_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
