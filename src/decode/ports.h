/* ports.h: the ports that carry DNS-format messages, named once. The sets differ on purpose,
 * and each use names which set it means:
 *
 *   port                        decoded as DNS   UDP    TCP stream   lookups to a server
 *   53  DNS (RFC 1035)          yes              yes    yes          yes
 *   5353 mDNS (RFC 6762)        yes              yes    no (UDP only) no: counted apart
 *   5355 LLMNR (RFC 4795)       yes              yes    yes          no: counted apart
 *   137 NetBIOS name service    no (its own format): counted apart
 *
 * tcpdump 4.99 prints UDP on 53 and 5353 as DNS but LLMNR as plain UDP (nt_port_printed_as_dns),
 * which the evidence lines follow. */
#ifndef NT_DECODE_PORTS_H
#define NT_DECODE_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define NT_PORT_DNS   53
#define NT_PORT_MDNS  5353
#define NT_PORT_LLMNR 5355
#define NT_PORT_NBNS  137

/* A UDP payload to or from this port is decoded as a DNS-format message. */
static inline bool nt_port_dns_udp(uint16_t p)
{
    return p == NT_PORT_DNS || p == NT_PORT_MDNS || p == NT_PORT_LLMNR;
}

/* A TCP stream to or from this port carries length-prefixed DNS-format messages. */
static inline bool nt_port_dns_tcp(uint16_t p)
{
    return p == NT_PORT_DNS || p == NT_PORT_LLMNR;
}

/* Either end of a UDP datagram tcpdump prints as DNS. */
static inline bool nt_port_printed_as_dns(uint16_t sport, uint16_t dport)
{
    return sport == NT_PORT_DNS || dport == NT_PORT_DNS || sport == NT_PORT_MDNS ||
           dport == NT_PORT_MDNS;
}

#endif
