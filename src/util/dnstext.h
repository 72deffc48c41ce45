/* dnstext.h: the bytes a DNS name's presentation form (decode/packet.h) writes as they are. */
#ifndef NT_UTIL_DNSTEXT_H
#define NT_UTIL_DNSTEXT_H

#include <stdint.h>

/* 1 for letters, digits, '-' and '_' (a label's byte written as it is), 0 for every other byte
 * (written behind a backslash, or as \DDD). */
extern const uint8_t nt_label_plain[256];

#endif
