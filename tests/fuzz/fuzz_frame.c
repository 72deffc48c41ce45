/* fuzz_frame.c: libFuzzer target: link type selector byte + frame -> decode and format. */
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int dlts[] = {
        NT_DLT_EN10MB,   NT_DLT_LINUX_SLL,  NT_DLT_LINUX_SLL2, NT_DLT_RAW,  NT_DLT_RAW_ALT,
        NT_LINKTYPE_RAW, NT_DLT_IPV4,       NT_DLT_IPV6,       NT_DLT_NULL, NT_DLT_LOOP,
        NT_DLT_PPP,      NT_DLT_PPP_SERIAL, NT_DLT_PPP_ETHER};
    static struct packet pkt;
    if (size < 1)
        return 0;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    packet_reset(&pkt);
    pkt.caplen = (uint32_t)(size - 1);
    /* Bit 7 of the selector pretends the capture was cut by a snap length. */
    pkt.wirelen = pkt.caplen + ((data[0] & 0x80) ? 100 : 0);
    decode_packet(&pkt, dlt, data + 1, size - 1);
    char line[1024];
    size_t n = packet_format_line(&pkt, line, sizeof line);
    if (n != strlen(line))
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
            __builtin_trap();
    char tiny[8];
    packet_format_line(&pkt, tiny, sizeof tiny);
    return 0;
}
