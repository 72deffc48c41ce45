/* format.c: a decoded packet as `tcpdump -nn` (4.99, no -v) prints it, for evidence lines;
 * tunnelled packets with each removed tunnel first, as tcpdump prints them. */
#include "decode/packet.h"
#include "decode/ports.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct fw {
    char *b;
    size_t cap, len; /* len may exceed cap - 1: it is the untruncated length */
};

static void out(struct fw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(struct fw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = w->len < w->cap ? w->cap - w->len : 0;
    int r = vsnprintf(room ? w->b + w->len : NULL, room, fmt, ap);
    va_end(ap);
    if (r > 0)
        w->len += (size_t)r;
}

static void out_addr(struct fw *w, const struct nt_addr *a)
{
    char tmp[NT_ADDR_FMT_MAX];
    nt_addr_format(a, tmp, sizeof tmp);
    /* Addresses from captures are numeric; an interned name from text could hold any byte,
     * so only printable ASCII passes. */
    for (char *p = tmp; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    out(w, "%s", tmp);
}

/* tcpdump 4.99 names types 1-48, 99-104 and 249-256 (104 as "UNSPECA") and prints
 * "Type%u" for every other number, newer mnemonics included. */
static void out_type(struct fw *w, uint16_t type)
{
    char tmp[16];
    if (type == 104)
        out(w, "UNSPECA");
    else if ((type >= 1 && type <= 48) || (type >= 99 && type <= 103) ||
             (type >= 249 && type <= 256))
        out(w, "%s", dns_type_name(type, tmp, sizeof tmp));
    else
        out(w, "Type%u", (unsigned)type);
}

static void out_class(struct fw *w, uint16_t rclass)
{
    switch (rclass) {
    case 1:
        break;
    case 3:
        out(w, " CHAOS");
        break;
    case 4:
        out(w, " HS");
        break;
    case 255:
        out(w, " ANY");
        break;
    default:
        out(w, " (Class %u)", (unsigned)rclass);
        break;
    }
}

static const char *const ns_ops[16] = {
    "",     " inv_q",   " stat",    " op3",      " notify",  " update",   " op6",      " op7",
    " op8", " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef",
};

static const char *const ns_rcodes[24] = {
    "",          " FormErr", " ServFail", " NXDomain", " NotImp",   " Refused",
    " YXDomain", " YXRRSet", " NXRRSet",  " NotAuth",  " NotZone",  " Resp11",
    " Resp12",   " Resp13",  " Resp14",   " NoChange", " BadVers",  " BadKey",
    " BadTime",  " BadMode", " BadName",  " BadAlg",   " BadTrunc", " BadCookie",
};

/* The word after an MX/SRV number in dig's order, for tcpdump's order. */
static const char *after_space(const char *s, int n)
{
    for (; n > 0 && s; n--) {
        s = strchr(s, ' ');
        if (s)
            s++;
    }
    return s;
}

static void out_rr(struct fw *w, const struct dns_rr *rr, bool mdns)
{
    /* mDNS uses the class's top bit as the cache-flush flag (RFC 6762 10.2). */
    out_class(w, mdns ? rr->rclass & 0x7fff : rr->rclass);
    if (mdns && (rr->rclass & 0x8000))
        out(w, " (Cache flush)");
    out(w, " ");
    out_type(w, rr->type);
    char addr[DNS_RR_ADDR_TEXT_MAX];
    const char *rd = dns_rr_data(rr, addr);
    if (rd[0] == '\\' && rd[1] == '#')
        return; /* the RDATA did not parse: tcpdump shows only the type */
    switch (rr->type) {
    case 1:
    case 28:
    case 2:
    case 5:
    case 12:
        out(w, " %s", rd);
        break;
    case 15: { /* dig "10 mx.example." -> tcpdump "mx.example. 10" */
        const char *name = after_space(rd, 1);
        if (name)
            out(w, " %s %.*s", name, (int)(name - rd - 1), rd);
        break;
    }
    case 33: { /* dig "prio weight port target" -> tcpdump "target:port prio weight" */
        const char *port = after_space(rd, 2), *target = after_space(rd, 3);
        if (port && target)
            out(w, " %s:%.*s %.*s", target, (int)(target - port - 1), port, (int)(port - rd - 1),
                rd);
        break;
    }
    case 16:
        out(w, " %s", rd);
        break;
    default:
        break;
    }
}

static void out_dns(struct fw *w, const struct packet *pkt)
{
    const struct dns_msg *m = &pkt->dns;
    bool mdns = pkt->sport == NT_PORT_MDNS || pkt->dport == NT_PORT_MDNS;
    if (!(pkt->layers & PKT_L_DNS)) {
        out(w, "domain [length %u < 12] (invalid)", (unsigned)m->length);
        return;
    }
    uint16_t f = m->flags;
    if (f & 0x8000) {
        unsigned rc = m->rcode;
        out(w, "%u%s", (unsigned)m->id, ns_ops[m->opcode & 15]);
        if (rc < 24)
            out(w, "%s", ns_rcodes[rc]);
        else
            out(w, " Resp%u", rc & 0xfff);
        out(w, "%s%s%s%s", (f & DNS_FLAG_AA) ? "*" : "", (f & DNS_FLAG_RA) ? "" : "-",
            (f & DNS_FLAG_TC) ? "|" : "", (f & DNS_FLAG_AD) ? "$" : "");
        if (m->qdcount != 1)
            out(w, " [%uq]", (unsigned)m->qdcount);
        /* Every question after the first is skipped with a comma; when the questions did
         * not all parse, tcpdump stops there. */
        bool all_questions = m->complete || m->n_rr_seen > 0;
        if (m->qdcount && !all_questions) {
            out(w, " [|domain]");
            return;
        }
        for (unsigned i = 1; i < m->qdcount; i++)
            out(w, ",");
        out(w, " %u/%u/%u", (unsigned)m->ancount, (unsigned)m->nscount, (unsigned)m->arcount);
        unsigned printed = 0;
        for (unsigned i = 0; i < m->n_rr && m->rr[i].section == DNS_SEC_ANSWER; i++) {
            if (printed++)
                out(w, ",");
            out_rr(w, &m->rr[i], mdns);
        }
        if (printed < m->ancount) {
            out(w, " [|domain]");
            return;
        }
    } else {
        out(w, "%u%s%s%s", (unsigned)m->id, ns_ops[m->opcode & 15], (f & DNS_FLAG_RD) ? "+" : "",
            (f & DNS_FLAG_CD) ? "%" : "");
        if (f & 0x6cf)
            out(w, " [b2&3=0x%x]", (unsigned)f);
        if (m->opcode == 1) {
            if (m->qdcount)
                out(w, " [%uq]", (unsigned)m->qdcount);
            if (m->ancount != 1)
                out(w, " [%ua]", (unsigned)m->ancount);
        } else {
            if (m->ancount)
                out(w, " [%ua]", (unsigned)m->ancount);
            if (m->qdcount != 1)
                out(w, " [%uq]", (unsigned)m->qdcount);
        }
        if (m->nscount)
            out(w, " [%un]", (unsigned)m->nscount);
        if (m->arcount)
            out(w, " [%uau]", (unsigned)m->arcount);
        if (m->qdcount) {
            if (!m->has_question) {
                out(w, " [|domain]");
                return;
            }
            out(w, " ");
            out_type(w, m->q.qtype);
            out_class(w, mdns ? m->q.qclass & 0x7fff : m->q.qclass);
            if (mdns)
                out(w, (m->q.qclass & 0x8000) ? " (QU)" : " (QM)");
            out(w, "? %s", m->q.name.text);
        }
    }
    out(w, " (%u)", (unsigned)m->length);
}

static void out_tcp_options(struct fw *w, const struct packet *pkt)
{
    const uint8_t *o = pkt->tcp_opts;
    size_t n = pkt->tcp_opts_len, i = 0;
    if (!n)
        return;
    out(w, ", options [");
    for (bool first = true; i < n; first = false) {
        if (!first)
            out(w, ",");
        uint8_t kind = o[i];
        if (kind == 0) {
            out(w, "eol");
            break;
        }
        if (kind == 1) {
            out(w, "nop");
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
            out(w, "bad opt");
            break;
        }
        uint8_t len = o[i + 1];
        const uint8_t *v = o + i + 2;
        if (kind == 2 && len == 4) {
            out(w, "mss %u", (unsigned)(v[0] << 8 | v[1]));
        } else if (kind == 3 && len == 3) {
            out(w, "wscale %u", v[0]);
        } else if (kind == 4 && len == 2) {
            out(w, "sackOK");
        } else if (kind == 8 && len == 10) {
            unsigned long val = (unsigned long)v[0] << 24 | (unsigned long)v[1] << 16 |
                                (unsigned long)v[2] << 8 | v[3];
            unsigned long ecr = (unsigned long)v[4] << 24 | (unsigned long)v[5] << 16 |
                                (unsigned long)v[6] << 8 | v[7];
            out(w, "TS val %lu ecr %lu", val, ecr);
        } else if (kind == 5 && (len - 2) % 8 == 0) {
            out(w, "sack %u ", (unsigned)(len - 2) / 8);
            for (size_t k = 0; k + 8 <= (size_t)len - 2; k += 8) {
                const uint8_t *e = v + k;
                out(w, "{%lu:%lu}",
                    (unsigned long)e[0] << 24 | (unsigned long)e[1] << 16 |
                        (unsigned long)e[2] << 8 | e[3],
                    (unsigned long)e[4] << 24 | (unsigned long)e[5] << 16 |
                        (unsigned long)e[6] << 8 | e[7]);
            }
        } else {
            out(w, "unknown-%u", kind);
        }
        i += len;
    }
    out(w, "]");
}

static void out_tcp(struct fw *w, const struct packet *pkt)
{
    char flags[9];
    size_t k = 0;
    for (int b = 0; b < 8; b++)
        if (pkt->tcp_flags & (1u << b))
            flags[k++] = TCP_FLAG_LETTERS[b];
    flags[k] = '\0';
    out(w, "Flags [%s]", k ? flags : "none");
    uint32_t len = pkt->l4_payload_len;
    if (len > 0)
        out(w, ", seq %lu:%lu", (unsigned long)pkt->tcp_seq,
            (unsigned long)(uint32_t)(pkt->tcp_seq + len));
    else if (pkt->tcp_flags & 0x07)
        out(w, ", seq %lu", (unsigned long)pkt->tcp_seq);
    if (pkt->tcp_flags & 0x10)
        out(w, ", ack %lu", (unsigned long)pkt->tcp_ack);
    out(w, ", win %u", (unsigned)pkt->tcp_win);
    out_tcp_options(w, pkt);
    out(w, ", length %lu", (unsigned long)len);
    if (pkt->layers & PKT_L_DNS) {
        out(w, " ");
        out_dns(w, pkt);
    }
}

static const char *const unreach_v4[16] = {
    "net %s unreachable",
    "host %s unreachable",
    NULL,
    NULL,
    NULL,
    "%s unreachable - source route failed",
    "net %s unreachable - unknown",
    "host %s unreachable - unknown",
    "%s unreachable - source host isolated",
    "net %s unreachable - admin prohibited",
    "host %s unreachable - admin prohibited",
    "net %s unreachable - tos prohibited",
    "host %s unreachable - tos prohibited",
    "host %s unreachable - admin prohibited filter",
    "host %s unreachable - host precedence violation",
    "host %s unreachable - precedence cutoff",
};

static void out_icmp4(struct fw *w, const struct packet *pkt)
{
    const struct icmp_quote *q = &pkt->quote;
    uint8_t t = pkt->icmp_type, c = pkt->icmp_code;
    char dst[NT_ADDR_FMT_MAX];
    nt_addr_format(&q->dst, dst, sizeof dst);
    out(w, "ICMP ");
    switch (t) {
    case 0:
    case 8:
        out(w, "echo %s, id %u, seq %u", t == 8 ? "request" : "reply",
            (unsigned)(pkt->icmp_rest >> 16), (unsigned)(pkt->icmp_rest & 0xffff));
        break;
    case 3:
        if (!q->present) {
            out(w, "[|icmp]");
            return;
        }
        if (c == 2) {
            out(w, "%s protocol %u unreachable", dst, (unsigned)q->proto);
        } else if (c == 3) {
            if (!q->has_ports) {
                out(w, "[|icmp]");
                return;
            }
            if (q->proto == 6 || q->proto == 17)
                out(w, "%s %s port %u unreachable", dst, q->proto == 6 ? "tcp" : "udp",
                    (unsigned)q->dport);
            else
                out(w, "%s protocol %u port %u unreachable", dst, (unsigned)q->proto,
                    (unsigned)q->dport);
        } else if (c == 4) {
            if (pkt->icmp_mtu)
                out(w, "%s unreachable - need to frag (mtu %u)", dst, (unsigned)pkt->icmp_mtu);
            else
                out(w, "%s unreachable - need to frag", dst);
        } else if (c < 16 && unreach_v4[c]) {
            /* The table's formats hold exactly one %s. */
            const char *f = unreach_v4[c];
            const char *s = strstr(f, "%s");
            out(w, "%.*s%s%s", (int)(s - f), f, dst, s + 2);
        } else {
            out(w, "#%u %s unreachable", (unsigned)c, dst);
        }
        break;
    case 4:
        out(w, "source quench");
        break;
    case 5: {
        static const char *const redir[4] = {"redirect %s to net %s", "redirect %s to host %s",
                                             "redirect-tos %s to net %s",
                                             "redirect-tos %s to host %s"};
        char gw[NT_ADDR_FMT_MAX];
        nt_addr_format(&pkt->icmp_addr, gw, sizeof gw);
        if (!q->present) {
            out(w, "[|icmp]");
            return;
        }
        const char *f = c < 4 ? redir[c] : NULL;
        if (f) {
            const char *s = strstr(f, "%s");
            const char *s2 = strstr(s + 2, "%s");
            out(w, "%.*s%s%.*s%s", (int)(s - f), f, dst, (int)(s2 - s - 2), s + 2, gw);
        } else {
            out(w, "redirect-#%u %s to net %s", (unsigned)c, dst, gw);
        }
        break;
    }
    case 10:
        out(w, "router solicitation");
        break;
    case 11:
        if (c == 0)
            out(w, "time exceeded in-transit");
        else if (c == 1)
            out(w, "ip reassembly time exceeded");
        else
            out(w, "time exceeded-#%u", (unsigned)c);
        break;
    case 12:
        if (c)
            out(w, "parameter problem - code %u", (unsigned)c);
        else
            out(w, "parameter problem - octet %u", (unsigned)(pkt->icmp_rest >> 24));
        break;
    case 13:
        out(w, "time stamp query id %u seq %u", (unsigned)(pkt->icmp_rest >> 16),
            (unsigned)(pkt->icmp_rest & 0xffff));
        break;
    case 15:
        out(w, "information request");
        break;
    case 16:
        out(w, "information reply");
        break;
    case 17:
        out(w, "address mask request");
        break;
    default:
        out(w, "type-#%u", (unsigned)t);
        break;
    }
    out(w, ", length %lu", (unsigned long)pkt->icmp_len);
}

static const char *icmp6_type_name(uint8_t t)
{
    switch (t) {
    case 1:
        return "destination unreachable";
    case 2:
        return "packet too big";
    case 3:
        return "time exceeded";
    case 4:
        return "parameter problem";
    case 128:
        return "echo request";
    case 129:
        return "echo reply";
    case 130:
        return "multicast listener query";
    case 131:
        return "multicast listener report";
    case 132:
        return "multicast listener done";
    case 133:
        return "router solicitation";
    case 134:
        return "router advertisement";
    case 135:
        return "neighbor solicitation";
    case 136:
        return "neighbor advertisement";
    case 137:
        return "redirect";
    case 138:
        return "router renumbering";
    case 139:
        return "node information query";
    case 140:
        return "node information reply";
    case 141:
        return "inverse neighbor solicitation";
    case 142:
        return "inverse neighbor advertisement";
    case 143:
        return "multicast listener report v2";
    default:
        return NULL;
    }
}

static void out_icmp6(struct fw *w, const struct packet *pkt)
{
    const struct icmp_quote *q = &pkt->quote;
    uint8_t t = pkt->icmp_type, c = pkt->icmp_code;
    const char *name = icmp6_type_name(t);
    if (name)
        out(w, "ICMP6, %s", name);
    else
        out(w, "ICMP6, unknown icmp6 type (%u)", (unsigned)t);
    switch (t) {
    case 1: {
        static const char *const codes[5] = {"unreachable route", "unreachable prohibited",
                                             "beyond scope", "unreachable address",
                                             "unreachable port"};
        if (c < 5)
            out(w, ", %s", codes[c]);
        else
            out(w, ", unknown unreach code (%u)", (unsigned)c);
        if (!q->present) {
            out(w, " [|icmp6]");
            return;
        }
        if (c == 0 || c == 1 || c == 3) {
            out(w, " ");
            out_addr(w, &q->dst);
        } else if (c == 2) {
            out(w, " ");
            out_addr(w, &q->dst);
            out(w, ", source address ");
            out_addr(w, &q->src);
        } else if (c == 4) {
            if (!q->has_ports) {
                out(w, " [|icmp6]");
                return;
            }
            out(w, ", ");
            out_addr(w, &q->dst);
            if (q->proto == 6 || q->proto == 17)
                out(w, " %s port %u", q->proto == 6 ? "tcp" : "udp", (unsigned)q->dport);
            else
                out(w, " protocol %u port %u unreachable", (unsigned)q->proto, (unsigned)q->dport);
        }
        break;
    }
    case 2:
        out(w, ", mtu %lu", (unsigned long)pkt->icmp_mtu);
        break;
    case 3:
        if (c == 0) {
            if (!q->present) {
                out(w, " [|icmp6]");
                return;
            }
            out(w, " in-transit for ");
            out_addr(w, &q->dst);
        } else if (c == 1) {
            out(w, " (reassembly)");
        } else {
            out(w, ", unknown code (%u)", (unsigned)c);
        }
        break;
    case 4: {
        static const char *const codes[4] = {"erroneous", "next header", "option",
                                             "incomplete header chain"};
        if (c < 4)
            out(w, ", %s - octet %lu", codes[c], (unsigned long)pkt->icmp_rest);
        else
            out(w, ", code-#%u", (unsigned)c);
        break;
    }
    case 128:
    case 129:
        out(w, ", id %u, seq %u", (unsigned)(pkt->icmp_rest >> 16),
            (unsigned)(pkt->icmp_rest & 0xffff));
        break;
    case 135:
        out(w, ", who has ");
        out_addr(w, &pkt->icmp_addr);
        break;
    case 136:
        out(w, ", tgt is ");
        out_addr(w, &pkt->icmp_addr);
        break;
    case 137:
        out(w, ", ");
        out_addr(w, &pkt->icmp_addr);
        break;
    case 143:
        out(w, ", %u group record(s)", (unsigned)(pkt->icmp_rest & 0xffff));
        break;
    default:
        break;
    }
    out(w, ", length %lu", (unsigned long)pkt->icmp_len);
}

static void out_mac(struct fw *w, const uint8_t m[6])
{
    out(w, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void out_arp(struct fw *w, const struct packet *pkt)
{
    uint32_t wire = pkt->wirelen ? pkt->wirelen : pkt->caplen;
    unsigned long len = wire > pkt->l2_len ? (unsigned long)(wire - pkt->l2_len) : 0;
    if (pkt->n_tunnels && pkt->n_tunnels <= PKT_MAX_TUNNELS) {
        /* ARP inside a tunnel came in an inner Ethernet frame */
        uint32_t in = pkt->tunnels[pkt->n_tunnels - 1].inner_len;
        len = in > 14 ? in - 14 : 0;
    }
    static const uint8_t zero[6];
    if (pkt->src.family == NT_AF_INET && pkt->arp_op == 1) {
        out(w, "ARP, Request who-has ");
        out_addr(w, &pkt->dst);
        if (memcmp(pkt->arp_tha, zero, 6) != 0) {
            out(w, " (");
            out_mac(w, pkt->arp_tha);
            out(w, ")");
        }
        out(w, " tell ");
        out_addr(w, &pkt->src);
    } else if (pkt->src.family == NT_AF_INET && pkt->arp_op == 2) {
        out(w, "ARP, Reply ");
        out_addr(w, &pkt->src);
        out(w, " is-at ");
        out_mac(w, pkt->arp_sha);
    } else {
        out(w, "ARP, op %u", (unsigned)pkt->arp_op);
    }
    out(w, ", length %lu", len);
}

static void out_ip6_ext(struct fw *w, const struct packet *pkt)
{
    for (uint8_t i = 0; i < pkt->n_ip6_ext; i++) {
        if (i)
            out(w, " ");
        switch (pkt->ip6_ext[i]) {
        case 0:
            out(w, "HBH");
            break;
        case 60:
            out(w, "DSTOPT");
            break;
        case 43:
            out(w, "srcrt");
            break;
        case 51:
            out(w, "AH");
            break;
        default: /* 44 */
            out(w, "frag (%u|%lu)", (unsigned)pkt->frag_offset, (unsigned long)pkt->ip_payload_len);
            break;
        }
    }
}

/* One removed tunnel as tcpdump -nn prints it before the packet it carries ("IP 172.27.1.66 >
 * 66.59.109.137: GREv0, length 65: "). tcpdump starts the packet inside VXLAN on a new line;
 * here (as in a record joined by the text reader) a space stands for the line break. GRE in
 * UDP is not decoded by tcpdump (it prints "UDP, length N"); it is shown like GRE. */
static void out_tunnel(struct fw *w, const struct pkt_tunnel *t)
{
    bool udp = t->kind == PKT_TUN_VXLAN || t->kind == PKT_TUN_VXLAN_GPE ||
               t->kind == PKT_TUN_GENEVE || t->kind == PKT_TUN_GRE_UDP || t->kind == PKT_TUN_GTPU;
    out(w, "%s ", t->ip_version == 6 ? "IP6" : "IP");
    out_addr(w, &t->src);
    if (udp)
        out(w, ".%u", (unsigned)t->sport);
    out(w, " > ");
    out_addr(w, &t->dst);
    if (udp)
        out(w, ".%u", (unsigned)t->dport);
    out(w, ": ");
    switch (t->kind) {
    case PKT_TUN_GRE:
    case PKT_TUN_GRE_UDP: {
        unsigned ver = t->flags & 7;
        uint32_t len = t->kind == PKT_TUN_GRE ? t->ip_payload_len : t->udp_len;
        out(w, "GREv%u", ver);
        if (ver == 1) {
            out(w, ", call %u", (unsigned)(t->key & 0xffff));
            if (t->has_seq)
                out(w, ", seq %lu", (unsigned long)t->seq);
            if (t->has_ack)
                out(w, ", ack %lu", (unsigned long)t->ack);
        } else {
            if (t->has_key)
                out(w, ", key=0x%lx", (unsigned long)t->key);
            if (t->has_seq)
                out(w, ", seq %lu", (unsigned long)t->seq);
        }
        out(w, ", length %lu: ", (unsigned long)len);
        break;
    }
    case PKT_TUN_VXLAN:
        out(w, "VXLAN, flags [%s] (0x%02x), vni %lu ", (t->flags & 0x08) ? "I" : ".",
            (unsigned)(t->flags & 0xff), (unsigned long)t->vni);
        break;
    case PKT_TUN_VXLAN_GPE:
        /* tcpdump's letters: I 0x08, P 0x04, B 0x02, O 0x01, "none" without any; the packet
         * follows after ": ", as only the next protocols decoded here are followed. */
        out(w, "VXLAN-GPE, flags [%s%s%s%s%s], vni %lu: ", (t->flags & 0x08) ? "I" : "",
            (t->flags & 0x04) ? "P" : "", (t->flags & 0x02) ? "B" : "",
            (t->flags & 0x01) ? "O" : "", (t->flags & 0x0f) ? "" : "none", (unsigned long)t->vni);
        break;
    case PKT_TUN_GENEVE: {
        bool o = (t->flags & 0x80) != 0, c = (t->flags & 0x40) != 0;
        out(w, "Geneve, Flags [%s%s%s], vni 0x%lx", o ? "O" : "", c ? "C" : "",
            o || c ? "" : "none", (unsigned long)t->vni);
        if (t->opt_len)
            out(w, ", options [%u bytes]", (unsigned)t->opt_len);
        out(w, ": ");
        break;
    }
    case PKT_TUN_GTPU:
        /* tcpdump -nn prints only "UDP, length N" for port 2152 unless told -T gtp; this is the
         * gtp printer's first words, shortened. */
        out(w, "GTPv1-U, teid %lu, length %lu: ", (unsigned long)t->vni, (unsigned long)t->udp_len);
        break;
    default: /* IP in IP: the inner header follows at once */
        break;
    }
}

size_t packet_format_line(const struct packet *pkt, char *buf, size_t n)
{
    struct fw w = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    for (uint8_t i = 0; i < pkt->n_tunnels && i < PKT_MAX_TUNNELS; i++)
        out_tunnel(&w, &pkt->tunnels[i]);
    if (pkt->layers & PKT_L_ARP) {
        out_arp(&w, pkt);
        goto done;
    }
    if (!(pkt->layers & PKT_L_IP)) {
        out(&w, "[|link] length %lu", (unsigned long)(pkt->wirelen ? pkt->wirelen : pkt->caplen));
        goto done;
    }
    bool v6 = pkt->ip_version == 6;
    bool ports = (pkt->layers & (PKT_L_UDP | PKT_L_TCP)) != 0;
    out(&w, "%s ", v6 ? "IP6" : "IP");
    /* (Only for the outermost header: what is missing of a tunnelled one is not kept.) */
    if (pkt->n_tunnels == 0 &&
        packet_has_anomaly(pkt, v6 ? ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_CAPTURE
                                   : ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE)) {
        uint32_t wire = (pkt->wirelen ? pkt->wirelen : pkt->caplen) - pkt->l2_len;
        out(&w, "truncated-ip%s - %lu bytes missing!%s", v6 ? "6" : "",
            (unsigned long)(pkt->ip_len - wire), v6 ? "" : " ");
    }
    /* tcpdump prints an IPv6 fragment's addresses before the fragment header and the ports
     * after it; everywhere else the ports follow the addresses. */
    bool split = v6 && pkt->n_ip6_ext > 0;
    out_addr(&w, &pkt->src);
    if (ports && !split)
        out(&w, ".%u", (unsigned)pkt->sport);
    out(&w, " > ");
    out_addr(&w, &pkt->dst);
    if (ports && !split)
        out(&w, ".%u", (unsigned)pkt->dport);
    out(&w, ": ");
    if (split) {
        out_ip6_ext(&w, pkt);
        if (pkt->frag_offset != 0)
            goto done;
        out(&w, " ");
    }
    if (ports && split)
        out(&w, "%u > %u: ", (unsigned)pkt->sport, (unsigned)pkt->dport);
    if (pkt->frag_offset != 0) {
        out(&w, "ip-proto-%u", (unsigned)pkt->proto);
        goto done;
    }
    if (pkt->layers & PKT_L_UDP) {
        /* tcpdump 4.99 prints LLMNR (5355) as plain UDP although we decode it. */
        bool dns_port = nt_port_printed_as_dns(pkt->sport, pkt->dport);
        if (dns_port)
            out_dns(&w, pkt);
        else
            out(&w, "UDP, length %lu", (unsigned long)pkt->l4_payload_len);
    } else if (pkt->layers & PKT_L_TCP) {
        out_tcp(&w, pkt);
    } else if (pkt->layers & PKT_L_ICMP) {
        if (v6)
            out_icmp6(&w, pkt);
        else
            out_icmp4(&w, pkt);
    } else if (pkt->proto == 17 || pkt->proto == 6 || pkt->proto == 1 || pkt->proto == 58) {
        out(&w, "[|%s]", pkt->proto == 17 ? "udp" : pkt->proto == 6 ? "tcp" : "icmp");
    } else {
        out(&w, " ip-proto-%u %lu", (unsigned)pkt->proto, (unsigned long)pkt->ip_payload_len);
    }
done:
    if (n == 0)
        return 0;
    if (w.len >= n) {
        buf[n - 1] = '\0';
        return n - 1;
    }
    return w.len;
}
