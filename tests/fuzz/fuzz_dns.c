/* fuzz_dns.c: libFuzzer target for the DNS message parser (RFC 1035). */
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct packet pkt;
    static struct dns_msg msg;
    packet_reset(&pkt);
    struct cursor c = cur_make(data, size);
    bool ok = dns_parse_message(&c, &msg, &pkt);
    if (ok) {
        /* Every name and RDATA text must be terminated and printable. */
        size_t n = strlen(msg.q.name.text);
        if (n != msg.q.name.len || n >= sizeof msg.q.name.text)
            __builtin_trap();
        for (unsigned i = 0; i < msg.n_rr; i++) {
            if (strlen(msg.rr[i].name.text) != msg.rr[i].name.len ||
                strlen(msg.rr[i].rdata) >= sizeof msg.rr[i].rdata)
                __builtin_trap();
            for (const char *p = msg.rr[i].name.text; *p; p++)
                if (*p <= 0x20 || *p >= 0x7f)
                    __builtin_trap();
        }
    }
    /* With every record's data as text: the same message, records and anomalies; only the
     * data of authority and additional records may differ (text here, none above). */
    static struct packet pkt2;
    static struct dns_msg msg2;
    packet_reset(&pkt2);
    c = cur_make(data, size);
    if (dns_parse_message_all_text(&c, &msg2, &pkt2) != ok || msg.n_rr != msg2.n_rr ||
        msg.n_rr_seen != msg2.n_rr_seen || msg.complete != msg2.complete ||
        msg.rcode != msg2.rcode || strcmp(msg.q.name.text, msg2.q.name.text) != 0 ||
        pkt.n_anomalies != pkt2.n_anomalies ||
        memcmp(pkt.anomalies, pkt2.anomalies, pkt.n_anomalies) != 0)
        __builtin_trap();
    for (unsigned i = 0; i < msg.n_rr; i++) {
        const struct dns_rr *a = &msg.rr[i], *b = &msg2.rr[i];
        if (a->section != b->section || a->type != b->type || a->rdlength != b->rdlength ||
            a->addr_len != b->addr_len || memcmp(a->addr, b->addr, a->addr_len) != 0 ||
            strcmp(a->name.text, b->name.text) != 0 ||
            (a->section == DNS_SEC_ANSWER && strcmp(a->rdata, b->rdata) != 0))
            __builtin_trap();
    }
    uint16_t id, flags;
    struct dns_question q;
    bool hq;
    c = cur_make(data, size);
    dns_parse_header_question(&c, &id, &flags, &q, &hq);
    return 0;
}
