/* fuzz_icmp.c: libFuzzer target for ICMP/ICMPv6 messages and their quotes (RFC 792/4443). */
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct packet pkt;
    if (size < 1)
        return 0;
    uint8_t v = (data[0] & 1) ? 6 : 4;
    packet_reset(&pkt);
    pkt.caplen = pkt.wirelen = (uint32_t)size;
    pkt.ip_version = v;
    pkt.proto = v == 6 ? 58 : 1;
    pkt.layers = PKT_L_IP;
    /* Sometimes claim more or fewer bytes than are present, as a lying IP header would. */
    pkt.ip_payload_len =
        (data[0] & 2) ? (uint32_t)(size - 1) + (data[0] >> 2) : (uint32_t)(size - 1);
    struct cursor c = cur_make(data + 1, size - 1);
    decode_icmp(&pkt, &c, v);
    if (pkt.quote.has_question && strlen(pkt.quote.q.name.text) != pkt.quote.q.name.len)
        __builtin_trap();
    char line[1024];
    size_t n = packet_format_line(&pkt, line, sizeof line);
    if (n != strlen(line))
        __builtin_trap();
    return 0;
}
