/* dnstext.h: the one presentation form of DNS names (decode/packet.h): how each label byte is
 * written, and the name as the JSON and NDJSON reports write it. */
#ifndef NT_UTIL_DNSTEXT_H
#define NT_UTIL_DNSTEXT_H

#include <stddef.h>
#include <stdint.h>

/* 1 for letters, digits, '-' and '_' (a label's byte written as it is), 0 for every other byte
 * (written behind a backslash, or as \DDD). */
extern const uint8_t nt_label_plain[256];

/* Writes one label byte in presentation form at d and returns the end (at most 4 characters,
 * no NUL): letters, digits, '-' and '_' as they are; the other printable ASCII characters
 * behind a backslash ("\.", "\*", "\<"), except '|' and '`', written "\124" and "\096" as the
 * bytes outside printable ASCII are (\DDD): a Markdown table or a shell gives the characters a
 * meaning even behind a backslash, and the same name must read the same in every output. The
 * decoder, the tcpdump text reader and the rules that rebuild names all write through it. */
static inline char *nt_label_byte(char *d, uint8_t c)
{
    if (nt_label_plain[c]) {
        *d++ = (char)c;
    } else if (c > 0x20 && c < 0x7f && c != '|' && c != '`') {
        *d++ = '\\';
        *d++ = (char)c;
    } else {
        *d++ = '\\';
        *d++ = (char)('0' + c / 100);
        *d++ = (char)('0' + c / 10 % 10);
        *d++ = (char)('0' + c % 10);
    }
    return d;
}

/* The length of name[0..n) without the root's trailing dot: "www.example.com." -> 15, as ECS
 * dns.question.name and Packetbeat write names (and the JSON report's names). The root itself
 * (".") keeps its dot, and so does a final dot that is part of a label (escaped: "a\."). */
/* A name cut short ("...") is left as it is. */
size_t nt_dns_name_len_nodot(const char *name, size_t n);

#endif
