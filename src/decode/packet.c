/* packet.c: packet reset, anomalies, ICMP (RFC 792/4443) and DNS (RFC 1035) names. */
#include "decode/packet.h"

#include <stdio.h>
#include <string.h>

#include "util/zero.h"

const char *dns_rr_data_text(const char *data, uint8_t addr_len, char *buf)
{
    if (addr_len == 4) {
        nt_addr_format_v4((const uint8_t *)data, buf);
        return buf;
    }
    if (addr_len == 16) {
        nt_addr_format_v6((const uint8_t *)data, buf);
        return buf;
    }
    return data;
}

const char *dns_rr_data(const struct dns_rr *rr, char *buf)
{
    return dns_rr_data_text(rr->addr_len ? (const char *)rr->addr : rr->rdata, rr->addr_len, buf);
}

void dns_msg_reset(struct dns_msg *m)
{
    /* Everything before the question is scalar; the question's name is emptied in place and
     * the record array by count, so a reset costs a few stores, not 20 KB of memset. */
    memset(m, 0, offsetof(struct dns_msg, q));
    m->q.name.text[0] = '\0';
    m->q.name.len = 0;
    m->q.qtype = 0;
    m->q.qclass = 0;
    m->has_opt = false;
    m->edns_udp_size = 0;
    m->edns_version = 0;
    m->edns_do = false;
    m->n_rr = 0;
    m->n_rr_seen = 0;
    m->complete = false;
    m->length = 0;
}

void packet_reset(struct packet *pkt)
{
    /* Everything before the DNS message is small enough to zero but the quoted question's
     * name, which is emptied in place (1 KB: two thirds of the bytes), and the tunnel layers
     * (320 bytes, half of the rest), which are read by count (n_tunnels) and written whole by
     * packet_tunnel_enter; the DNS message holds DNS_MAX_KEPT_RR records of about 1.3 KB
     * each, which are emptied by count instead. */
    memset(pkt, 0, offsetof(struct packet, tunnels));
    /* The fields between the tunnels and the quoted name (about 250 bytes), without a
     * "rep stos" (util/zero.h). */
    nt_zero_pieces((unsigned char *)pkt + offsetof(struct packet, tunnels) + sizeof pkt->tunnels,
                   offsetof(struct packet, quote.q.name.text) - offsetof(struct packet, tunnels) -
                       sizeof pkt->tunnels);
    pkt->quote.q.name.text[0] = '\0';
    memset(&pkt->quote.q.name.len, 0,
           offsetof(struct packet, dns) - offsetof(struct packet, quote.q.name.len));
    dns_msg_reset(&pkt->dns);
    memset(&pkt->anomalies, 0, sizeof *pkt - offsetof(struct packet, anomalies));
    pkt->linktype = -1;
}

void packet_add_anomaly(struct packet *pkt, enum nt_anomaly a)
{
    if (!pkt || (unsigned)a >= NT_ANOMALY_COUNT)
        return;
    if (packet_has_anomaly(pkt, a))
        return;
    if (pkt->n_anomalies >= PKT_MAX_ANOMALIES) {
        pkt->n_anomalies_dropped++;
        return;
    }
    pkt->anomalies[pkt->n_anomalies++] = (uint8_t)a;
}

bool packet_has_anomaly(const struct packet *pkt, enum nt_anomaly a)
{
    for (uint8_t i = 0; i < pkt->n_anomalies && i < PKT_MAX_ANOMALIES; i++)
        if (pkt->anomalies[i] == a)
            return true;
    return false;
}

static enum icmp_kind classify_v4(uint8_t type, uint8_t code)
{
    switch (type) {
    case 0:
        return ICMP_K_ECHO_REPLY;
    case 8:
        return ICMP_K_ECHO_REQUEST;
    case 3:
        switch (code) {
        case 0:
        case 6:
        case 11:
        case 12:
            return ICMP_K_NET_UNREACH;
        case 1:
        case 7:
        case 8:
            return ICMP_K_HOST_UNREACH;
        case 2:
            return ICMP_K_PROTO_UNREACH;
        case 3:
            return ICMP_K_PORT_UNREACH;
        case 4:
            return ICMP_K_FRAG_NEEDED;
        case 9:
        case 10:
        case 13:
            return ICMP_K_ADMIN_PROHIBITED;
        default:
            return ICMP_K_UNREACH_OTHER;
        }
    case 4:
        return ICMP_K_SOURCE_QUENCH;
    case 5:
        return ICMP_K_REDIRECT;
    case 11:
        return ICMP_K_TIME_EXCEEDED;
    case 12:
        return ICMP_K_PARAM_PROBLEM;
    default:
        return ICMP_K_OTHER;
    }
}

static enum icmp_kind classify_v6(uint8_t type, uint8_t code)
{
    switch (type) {
    case 1:
        switch (code) {
        case 0:
            return ICMP_K_NET_UNREACH;
        case 1:
        case 5:
        case 6:
            return ICMP_K_ADMIN_PROHIBITED;
        case 3:
            return ICMP_K_HOST_UNREACH;
        case 4:
            return ICMP_K_PORT_UNREACH;
        default:
            return ICMP_K_UNREACH_OTHER;
        }
    case 2:
        return ICMP_K_FRAG_NEEDED;
    case 3:
        return ICMP_K_TIME_EXCEEDED;
    case 4:
        return code == 1 ? ICMP_K_PROTO_UNREACH : ICMP_K_PARAM_PROBLEM;
    case 128:
        return ICMP_K_ECHO_REQUEST;
    case 129:
        return ICMP_K_ECHO_REPLY;
    case 137:
        return ICMP_K_REDIRECT;
    default:
        return ICMP_K_OTHER;
    }
}

enum icmp_kind icmp_classify(uint8_t ip_version, uint8_t type, uint8_t code)
{
    return ip_version == 6 ? classify_v6(type, code) : classify_v4(type, code);
}

bool icmp_kind_is_error(enum icmp_kind k)
{
    /* ICMPv6 redirects are not errors (RFC 4443 2.1), and an ICMPv4 redirect quotes the
     * datagram but reports a better route, not a failure; both stay out of the error set. */
    return k >= ICMP_K_PORT_UNREACH && k <= ICMP_K_SOURCE_QUENCH;
}

const char *icmp_kind_name(enum icmp_kind k)
{
    switch (k) {
    case ICMP_K_NONE:
        return "none";
    case ICMP_K_PORT_UNREACH:
        return "port unreachable";
    case ICMP_K_PROTO_UNREACH:
        return "protocol unreachable";
    case ICMP_K_HOST_UNREACH:
        return "host unreachable";
    case ICMP_K_NET_UNREACH:
        return "network unreachable";
    case ICMP_K_ADMIN_PROHIBITED:
        return "admin prohibited";
    case ICMP_K_FRAG_NEEDED:
        return "fragmentation needed";
    case ICMP_K_UNREACH_OTHER:
        return "destination unreachable";
    case ICMP_K_TIME_EXCEEDED:
        return "time exceeded";
    case ICMP_K_PARAM_PROBLEM:
        return "parameter problem";
    case ICMP_K_SOURCE_QUENCH:
        return "source quench";
    case ICMP_K_REDIRECT:
        return "redirect";
    case ICMP_K_ECHO_REQUEST:
        return "echo request";
    case ICMP_K_ECHO_REPLY:
        return "echo reply";
    case ICMP_K_OTHER:
        return "other";
    }
    return "other";
}

static const char *const unreach_v4[16] = {
    "Destination Unreachable: Net Unreachable",
    "Destination Unreachable: Host Unreachable",
    "Destination Unreachable: Protocol Unreachable",
    "Destination Unreachable: Port Unreachable",
    "Destination Unreachable: Fragmentation Needed and Don't Fragment was Set",
    "Destination Unreachable: Source Route Failed",
    "Destination Unreachable: Destination Network Unknown",
    "Destination Unreachable: Destination Host Unknown",
    "Destination Unreachable: Source Host Isolated",
    "Destination Unreachable: Communication with Destination Network is Administratively "
    "Prohibited",
    "Destination Unreachable: Communication with Destination Host is Administratively "
    "Prohibited",
    "Destination Unreachable: Destination Network Unreachable for Type of Service",
    "Destination Unreachable: Destination Host Unreachable for Type of Service",
    "Destination Unreachable: Communication Administratively Prohibited",
    "Destination Unreachable: Host Precedence Violation",
    "Destination Unreachable: Precedence cutoff in effect",
};

static const char *const unreach_v6[8] = {
    "Destination Unreachable: No route to destination",
    "Destination Unreachable: Communication with destination administratively prohibited",
    "Destination Unreachable: Beyond scope of source address",
    "Destination Unreachable: Address unreachable",
    "Destination Unreachable: Port unreachable",
    "Destination Unreachable: Source address failed ingress/egress policy",
    "Destination Unreachable: Reject route to destination",
    "Destination Unreachable: Error in Source Routing Header",
};

static const char *describe_v4(uint8_t type, uint8_t code)
{
    switch (type) {
    case 0:
        return "Echo Reply";
    case 3:
        return code < 16 ? unreach_v4[code] : "Destination Unreachable";
    case 4:
        return "Source Quench";
    case 5:
        switch (code) {
        case 0:
            return "Redirect: Redirect Datagram for the Network";
        case 1:
            return "Redirect: Redirect Datagram for the Host";
        case 2:
            return "Redirect: Redirect Datagram for the Type of Service and Network";
        case 3:
            return "Redirect: Redirect Datagram for the Type of Service and Host";
        default:
            return "Redirect";
        }
    case 8:
        return "Echo";
    case 9:
        return "Router Advertisement";
    case 10:
        return "Router Solicitation";
    case 11:
        return code == 0   ? "Time Exceeded: Time to Live exceeded in Transit"
               : code == 1 ? "Time Exceeded: Fragment Reassembly Time Exceeded"
                           : "Time Exceeded";
    case 12:
        return code == 0   ? "Parameter Problem: Pointer indicates the error"
               : code == 1 ? "Parameter Problem: Missing a Required Option"
               : code == 2 ? "Parameter Problem: Bad Length"
                           : "Parameter Problem";
    case 13:
        return "Timestamp";
    case 14:
        return "Timestamp Reply";
    case 15:
        return "Information Request";
    case 16:
        return "Information Reply";
    case 17:
        return "Address Mask Request";
    case 18:
        return "Address Mask Reply";
    default:
        return "Unknown ICMP type";
    }
}

static const char *describe_v6(uint8_t type, uint8_t code)
{
    switch (type) {
    case 1:
        return code < 8 ? unreach_v6[code] : "Destination Unreachable";
    case 2:
        return "Packet Too Big";
    case 3:
        return code == 0   ? "Time Exceeded: Hop limit exceeded in transit"
               : code == 1 ? "Time Exceeded: Fragment reassembly time exceeded"
                           : "Time Exceeded";
    case 4:
        return code == 0   ? "Parameter Problem: Erroneous header field encountered"
               : code == 1 ? "Parameter Problem: Unrecognized Next Header type encountered"
               : code == 2 ? "Parameter Problem: Unrecognized IPv6 option encountered"
               : code == 3 ? "Parameter Problem: IPv6 First Fragment has incomplete IPv6 "
                             "Header Chain"
                           : "Parameter Problem";
    case 128:
        return "Echo Request";
    case 129:
        return "Echo Reply";
    case 130:
        return "Multicast Listener Query";
    case 131:
        return "Multicast Listener Report";
    case 132:
        return "Multicast Listener Done";
    case 133:
        return "Router Solicitation";
    case 134:
        return "Router Advertisement";
    case 135:
        return "Neighbor Solicitation";
    case 136:
        return "Neighbor Advertisement";
    case 137:
        return "Redirect Message";
    case 143:
        return "Version 2 Multicast Listener Report";
    default:
        return "Unknown ICMPv6 type";
    }
}

const char *icmp_code_description(uint8_t ip_version, uint8_t type, uint8_t code)
{
    return ip_version == 6 ? describe_v6(type, code) : describe_v4(type, code);
}

struct num_name {
    uint16_t num;
    const char *name;
};

/* IANA DNS RR TYPEs with mnemonics (the subset tools print by name). */
static const struct num_name dns_types[] = {
    {1, "A"},           {2, "NS"},         {3, "MD"},        {4, "MF"},       {5, "CNAME"},
    {6, "SOA"},         {7, "MB"},         {8, "MG"},        {9, "MR"},       {10, "NULL"},
    {11, "WKS"},        {12, "PTR"},       {13, "HINFO"},    {14, "MINFO"},   {15, "MX"},
    {16, "TXT"},        {17, "RP"},        {18, "AFSDB"},    {19, "X25"},     {20, "ISDN"},
    {21, "RT"},         {22, "NSAP"},      {23, "NSAP_PTR"}, {24, "SIG"},     {25, "KEY"},
    {26, "PX"},         {27, "GPOS"},      {28, "AAAA"},     {29, "LOC"},     {30, "NXT"},
    {31, "EID"},        {32, "NIMLOC"},    {33, "SRV"},      {34, "ATMA"},    {35, "NAPTR"},
    {36, "KX"},         {37, "CERT"},      {38, "A6"},       {39, "DNAME"},   {40, "SINK"},
    {41, "OPT"},        {42, "APL"},       {43, "DS"},       {44, "SSHFP"},   {45, "IPSECKEY"},
    {46, "RRSIG"},      {47, "NSEC"},      {48, "DNSKEY"},   {49, "DHCID"},   {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},      {53, "SMIMEA"},   {55, "HIP"},     {56, "NINFO"},
    {57, "RKEY"},       {58, "TALINK"},    {59, "CDS"},      {60, "CDNSKEY"}, {61, "OPENPGPKEY"},
    {62, "CSYNC"},      {63, "ZONEMD"},    {64, "SVCB"},     {65, "HTTPS"},   {99, "SPF"},
    {100, "UINFO"},     {101, "UID"},      {102, "GID"},     {103, "UNSPEC"}, {104, "NID"},
    {105, "L32"},       {106, "L64"},      {107, "LP"},      {108, "EUI48"},  {109, "EUI64"},
    {249, "TKEY"},      {250, "TSIG"},     {251, "IXFR"},    {252, "AXFR"},   {253, "MAILB"},
    {254, "MAILA"},     {255, "ANY"},      {256, "URI"},     {257, "CAA"},    {258, "AVC"},
    {259, "DOA"},       {260, "AMTRELAY"}, {32768, "TA"},    {32769, "DLV"},
};

static const char *const rcode_names[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", NULL,      NULL,      NULL,       NULL,
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",   "BADNAME", "BADALG",  "BADTRUNC", "BADCOOKIE",
};

const char *dns_type_name(uint16_t type, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof dns_types / sizeof dns_types[0]; i++)
        if (dns_types[i].num == type)
            return dns_types[i].name;
    if (buf && n > 0) {
        snprintf(buf, n, "TYPE%u", (unsigned)type);
        return buf;
    }
    return "TYPE?";
}

const char *dns_rcode_name(uint16_t rcode, char *buf, size_t n)
{
    if (rcode < sizeof rcode_names / sizeof rcode_names[0] && rcode_names[rcode])
        return rcode_names[rcode];
    if (buf && n > 0) {
        snprintf(buf, n, "RCODE%u", (unsigned)rcode);
        return buf;
    }
    return "RCODE?";
}

const char *dns_class_name(uint16_t rclass, char *buf, size_t n)
{
    switch (rclass) {
    case 1:
        return "IN";
    case 3:
        return "CH";
    case 4:
        return "HS";
    case 254:
        return "NONE";
    case 255:
        return "ANY";
    default:
        break;
    }
    if (buf && n > 0) {
        snprintf(buf, n, "CLASS%u", (unsigned)rclass);
        return buf;
    }
    return "CLASS?";
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z')
            y = (char)(y - 'a' + 'A');
        if (x != y)
            return false;
    }
    return true;
}

int dns_type_from_name(const char *s, size_t len)
{
    if (!s || len == 0)
        return -1;
    /* The table's names are upper case: one whose first character differs cannot match (this
     * runs for many words of every tcpdump DNS line). */
    char c0 = s[0] >= 'a' && s[0] <= 'z' ? (char)(s[0] - 'a' + 'A') : s[0];
    if (len == 4 && ieq(s, len, "AAAA")) /* the table's only AAAA, far down it */
        return DNS_TYPE_AAAA;
    for (size_t i = 0; i < sizeof dns_types / sizeof dns_types[0]; i++)
        if (dns_types[i].name[0] == c0 && ieq(s, len, dns_types[i].name))
            return dns_types[i].num;
    /* tcpdump prints unknown types as "Type99", RFC 3597 as "TYPE99"; older tcpdump prints
     * "NSAP_PTR" where IANA writes "NSAP-PTR". */
    if (ieq(s, len, "NSAP-PTR"))
        return 23;
    if (len > 4 && len <= 9 && ieq(s, 4, "TYPE")) {
        unsigned v = 0;
        for (size_t i = 4; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v = v * 10 + (unsigned)(s[i] - '0');
        }
        return v <= 65535 ? (int)v : -1;
    }
    return -1;
}

#define NET_OFF offsetof(struct packet, ip_version)
#define NET_LEN (offsetof(struct packet, dns) - offsetof(struct packet, ip_version))

bool packet_tunnel_enter(struct packet *pkt, const struct pkt_tunnel *t,
                         struct pkt_outer_save *save)
{
    if (pkt->n_tunnels >= PKT_MAX_TUNNELS) {
        packet_add_anomaly(pkt, ANOM_TUNNEL_TOO_DEEP);
        return false;
    }
    struct pkt_tunnel *d = &pkt->tunnels[pkt->n_tunnels++];
    *d = *t;
    d->ip_version = pkt->ip_version;
    d->src = pkt->src;
    d->dst = pkt->dst;
    d->ip_payload_len = pkt->ip_payload_len;
    if (pkt->layers & PKT_L_UDP) {
        d->sport = pkt->sport;
        d->dport = pkt->dport;
        d->udp_len = pkt->l4_payload_len;
    }
    save->layers = pkt->layers;
    memcpy(save->net, (unsigned char *)pkt + NET_OFF, NET_LEN);
    memset((unsigned char *)pkt + NET_OFF, 0, NET_LEN);
    pkt->layers = 0;
    dns_msg_reset(&pkt->dns);
    return true;
}

bool packet_tunnel_leave(struct packet *pkt, const struct pkt_outer_save *save)
{
    if (pkt->layers & (PKT_L_IP | PKT_L_ARP))
        return true;
    memcpy((unsigned char *)pkt + NET_OFF, save->net, NET_LEN);
    pkt->layers = save->layers;
    dns_msg_reset(&pkt->dns);
    if (pkt->n_tunnels)
        pkt->n_tunnels--;
    return false;
}

const char *packet_tunnel_name(uint8_t kind)
{
    switch (kind) {
    case PKT_TUN_IPIP:
        return "IP in IP";
    case PKT_TUN_GRE:
        return "GRE";
    case PKT_TUN_GRE_UDP:
        return "GRE in UDP";
    case PKT_TUN_VXLAN:
        return "VXLAN";
    case PKT_TUN_VXLAN_GPE:
        return "VXLAN-GPE";
    case PKT_TUN_GENEVE:
        return "Geneve";
    case PKT_TUN_GTPU:
        return "GTP-U";
    default:
        return "none";
    }
}
