/* address.c: the addresses and ports of tcpdump text: "addr", "addr.port", "host.name.port",
 * IPv6 with its port after the last dot, the service names tcpdump prints for ports without
 * -nn, and MAC addresses (-e). */
#include "source/text/text_internal.h"

/* Service names tcpdump prints for ports without -nn (from /etc/services, both transports). */

struct service {
    const char *name;
    uint16_t port;
};

static const struct service services[] = {
    {"domain", 53},
    {"http", 80},
    {"https", 443},
    {"ntp", 123},
    {"bootps", 67},
    {"bootpc", 68},
    {"ssh", 22},
    {"telnet", 23},
    {"smtp", 25},
    {"ftp", 21},
    {"ftp-data", 20},
    {"tftp", 69},
    {"pop3", 110},
    {"pop3s", 995},
    {"imap2", 143},
    {"imap", 143},
    {"imaps", 993},
    {"snmp", 161},
    {"snmp-trap", 162},
    {"syslog", 514},
    {"shell", 514},
    {"ldap", 389},
    {"ldaps", 636},
    {"kerberos", 88},
    {"netbios-ns", 137},
    {"netbios-dgm", 138},
    {"netbios-ssn", 139},
    {"microsoft-ds", 445},
    {"mdns", 5353},
    {"llmnr", 5355},
    {"submission", 587},
    {"submissions", 465},
    {"domain-s", 853},
    {"isakmp", 500},
    {"ipsec-nat-t", 4500},
    {"sunrpc", 111},
    {"nfs", 2049},
    {"mysql", 3306},
    {"postgresql", 5432},
    {"ms-sql-s", 1433},
    {"ms-sql-m", 1434},
    {"ms-wbt-server", 3389},
    {"http-alt", 8080},
    {"webcache", 8080},
    {"openvpn", 1194},
    {"bgp", 179},
    {"route", 520},
    {"router", 520},
    {"radius", 1812},
    {"radius-acct", 1813},
    {"ipp", 631},
    {"sip", 5060},
    {"sip-tls", 5061},
    {"xmpp-client", 5222},
    {"xmpp-server", 5269},
    {"rsync", 873},
    {"socks", 1080},
    {"x11", 6000},
    {"ircd", 6667},
    {"time", 37},
    {"whois", 43},
    {"finger", 79},
    {"auth", 113},
    {"nntp", 119},
    {"epmap", 135},
    {"login", 513},
    {"who", 513},
    {"exec", 512},
    {"biff", 512},
    {"printer", 515},
    {"talk", 517},
    {"ntalk", 518},
    {"dhcpv6-client", 546},
    {"dhcpv6-server", 547},
    {"rtsp", 554},
    {"ldp", 646},
    {"kpasswd", 464},
    {"ptp-event", 319},
    {"ptp-general", 320},
    {"xdmcp", 177},
    {"echo", 7},
    {"discard", 9},
    {"daytime", 13},
    {"chargen", 19},
    {"gopher", 70},
    {"svrloc", 427},
    {"redis", 6379},
    {"git", 9418},
    {"hkp", 11371},
    {"amqp", 5672},
    {"nut", 3493},
    {"iscsi-target", 3260},
    {"tacacs", 49},
    {"l2f", 1701},
    {"l2tp", 1701},
    {"pptp", 1723},
    {"afs3-callback", 7001},
    {"afs3-fileserver", 7000},
    {"afs3-prserver", 7002},
    {"afs3-vlserver", 7003},
    {"afs3-kaserver", 7004},
    {"afs3-volser", 7005},
    {"afs3-bos", 7007},
    {"rip", 520},
    {"ripng", 521},
    {"hsrp", 1985},
    {"vxlan", 4789},
    {"geneve", 6081},
    {"ntske", 4460},
    {"snmptrap", 162},
};

static bool service_port(const char *s, size_t n, uint16_t *port)
{
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        if (strlen(services[i].name) == n && memcmp(services[i].name, s, n) == 0) {
            *port = services[i].port;
            return true;
        }
    }
    return false;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
    }
    return true;
}

bool text_port_from_text(const char *s, size_t n, uint16_t *port)
{
    if (all_digits(s, n)) {
        struct sc t = {s, s + n};
        return sc_u16(&t, port);
    }
    return service_port(s, n, port);
}

/* Host names tcpdump printed for addresses: letters, digits, '.', '-' and '_' only, so that
 * what is interned as an address is plain text. */
/* A host name as tcpdump prints a resolved address: any printable ASCII. A PTR record can hold
 * '`', '|' or '<' (attackers write them), and refusing such a name would make the record's
 * packet vanish from every count; the name is interned as read and escaped by the renderers. */
static bool is_host_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

/* Parses "addr", "addr.port" or "host.name.port". */
bool text_parse_endpoint(struct nt_names *names, const char *s, size_t n, int mode,
                         struct endpoint *ep)
{
    bool want_port = mode == EP_WANT;
    memset(ep, 0, sizeof *ep);
    if (n == 0 || n > 300)
        return false;
    size_t dots = 0, colons = 0, last_dot = 0;
    bool digits_dots = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            dots++;
            last_dot = i;
        } else if (s[i] == ':') {
            colons++;
        } else if (!is_digit(s[i])) {
            digits_dots = false;
        }
    }
    if (colons >= 2) {
        /* IPv6: the port follows the last dot; "::ffff:1.2.3.4" has three dots of its own */
        if (mode != EP_NOPORT && (dots == 1 || dots == 4)) {
            if (!nt_addr_parse(&ep->addr, s, last_dot))
                return false;
            const char *ps = s + last_dot + 1;
            size_t pn = n - last_dot - 1;
            ep->has_port = true;
            if (!text_port_from_text(ps, pn, &ep->port))
                ep->port_unknown = true;
            return true;
        }
        return nt_addr_parse(&ep->addr, s, n);
    }
    if (digits_dots && (dots == 3 || mode == EP_NOPORT))
        return nt_addr_parse(&ep->addr, s, n);
    if (dots >= 1 && mode != EP_NOPORT) {
        const char *ps = s + last_dot + 1;
        size_t pn = n - last_dot - 1;
        uint16_t port;
        bool known = text_port_from_text(ps, pn, &port);
        struct nt_addr a;
        bool numeric = nt_addr_parse(&a, s, last_dot);
        if (numeric || known || want_port) {
            if (numeric)
                ep->addr = a;
            else if (!is_host_name(s, last_dot) || !nt_addr_set_name(names, &ep->addr, s, last_dot))
                return false;
            ep->has_port = true;
            ep->port = known ? port : 0;
            ep->port_unknown = !known;
            return true;
        }
    }
    /* a host name tcpdump resolved */
    if (!is_host_name(s, n))
        return false;
    return nt_addr_set_name(names, &ep->addr, s, n);
}

bool text_is_mac(const char *p, const char *e)
{
    if (e - p < 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? p[i] != ':' : !is_hex(p[i]))
            return false;
    }
    return e - p == 17 || p[17] == ' ' || p[17] == ',';
}
