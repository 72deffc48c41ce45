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
    if (dns_parse_message(&c, &msg, &pkt)) {
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
    uint16_t id, flags;
    struct dns_question q;
    bool hq;
    c = cur_make(data, size);
    dns_parse_header_question(&c, &id, &flags, &q, &hq);
    return 0;
}
