# PacketQ SQL aggregates, recomputed (docs/conformance.md, PacketQ). Two sides, same output:
# one line per result group, "KEY<TAB>COUNT", KEY the group's columns joined with "|", with
# qtype and rcode as names (RFC 1035 mnemonics; TYPEn / RCODEn for others).
#   side=nt  input: packetq_messages.jq's message lines; the query q recomputed on them
#   side=ref input: the gold's result rows of query q (TSV, columns as the SQL selects them)
# q is the query's number in sql.txt (its non-# lines, from 1); "t1" is test1-4's query (also
# sql.txt query 21): groups (s, src) with dst, qtype, avg(src_port); "qname" is test8's
# `select qname from dns`; "icmperr" the ICMP error rows of `select * from icmp`.
BEGIN {
    FS = OFS = "\t"
    split("1 A 2 NS 5 CNAME 6 SOA 12 PTR 13 HINFO 15 MX 16 TXT 28 AAAA 33 SRV 35 NAPTR 38 A6 39 DNAME 41 OPT 43 DS 46 RRSIG 47 NSEC 48 DNSKEY 50 NSEC3 52 TLSA 64 SVCB 65 HTTPS 99 SPF 252 AXFR 251 IXFR 255 ANY 257 CAA", t, " ")
    for (i = 1; i < 60; i += 2) if (t[i] != "") TN[t[i]] = t[i + 1]
    split("0 NOERROR 1 FORMERR 2 SERVFAIL 3 NXDOMAIN 4 NOTIMP 5 REFUSED 6 YXDOMAIN 7 YXRRSET 8 NXRRSET 9 NOTAUTH 10 NOTZONE 16 BADVERS 23 BADCOOKIE", r, " ")
    for (i = 1; i < 30; i += 2) if (r[i] != "") RN[r[i]] = r[i + 1]
    split("1 IN 3 CH 4 HS 254 NONE 255 ANY", c, " ")
    for (i = 1; i < 10; i += 2) CN[c[i]] = c[i + 1]
}
function tname(n) { return (n in TN) ? TN[n] : "TYPE" n }
function rname(n) { return (n in RN) ? RN[n] : "RCODE" n }
# rsplit(s, i[, sep]): PacketQ's field i counted from the right, from 0
function rsplit(s, i, sep,   a, n) { n = split(s, a, sep == "" ? "." : sep); return (n - i >= 1) ? a[n - i] : "" }
function subnet(addr, v) {
    if (v == 6) return rsplit(addr, 7, ":") ":" rsplit(addr, 6, ":") ":" rsplit(addr, 5, ":") ":" rsplit(addr, 4, ":") ":" rsplit(addr, 3, ":") "::"
    return rsplit(addr, 3) "." rsplit(addr, 2) "." rsplit(addr, 1) ".0"
}
function add(k) { cnt[k]++; if (!(k in seen)) { seen[k] = 1; ord[++nk] = k } }
function addn(k, n) { cnt[k] += n; if (!(k in seen)) { seen[k] = 1; ord[++nk] = k } }
side == "nt" {
    qr = $1; s = $2; src = $3; sp = $4; dst = $5; tr = $7; v = $8; qn = $9; qt = $10; qc = $11; rc = $12; rd = $13; op = $14
    client = (qr == 1) ? dst : src
    rs = qn ~ /\.root-servers\.net$/
    if (q == 1) { if (qr == 0 && (qn == "localhost" || rs)) add(qn "|" qt) }
    else if (q == 2) { if (qr == 0 && qc == "CH") add(qt "|" qn) }
    else if (q == 3) { if (qr == 1) add(rc "|" client) }
    else if (q == 4) { if (qr == 0) add("ALL|" subnet(src, v)) }
    else if (q == 5) { if (qr == 0) add((rsplit(qn, 1) == "de" ? "ok" : "non-auth-tld") "|" subnet(src, v)) }
    else if (q == 6) { add((qr == 1 ? "sent" : "recv") "|" tr) }
    else if (q == 7) { if (qr == 0) add("IPv" v "|" qt) }
    else if (q == 10) { if (qr == 0) add("ALL|" (qn ~ /^xn--/ ? "idn" : "normal")) }
    else if (q == 11) { if (qr == 0 && qn ~ /^xn--/) add("ALL|" tolower(rsplit(qn, 1))) }
    else if (q == 12) { if (qr == 0 && (qt == "AAAA" || qt == "A6") && rs) add("ALL|" client) }
    else if (q == 13) { if (qr == 0) add("ALL|" op) }
    else if (q == 14) { if (qr == 0) add("ALL|" qt) }
    else if (q == 15) { if (qr == 0) add(qt "|" length(qn)) }
    else if (q == 16) { if (qr == 0 && qt ~ /^(A|NS|CNAME|SOA|PTR|MX|AAAA|A6|ANY)$/) add(qt "|" tolower(rsplit(qn, 1))) }
    else if (q == 17) { if (qr == 1) add("ALL|" rc) }
    else if (q == 19) { if (qr == 0) add("ALL|" rd) }
    else if (q == 20) { if (qr == 0) add(tr "|" qt) }
    else if (q == 22) { add(qt) }
    else if (q == "t1") { k = s SUBSEP src; n[k]++; d[k] = dst; y[k] = qt; ps[k] += sp; if (!(k in seen)) { seen[k] = 1; ord[++nk] = k } }
    else if (q == "qname") { add(qn) }
    next
}
side == "ref" {
    cn = $NF
    if (q == 1) addn($1 "|" tname($2), cn)
    else if (q == 2) addn(tname($1) "|" $2, cn)
    else if (q == 3) addn(rname($1) "|" $2, cn)
    else if (q == 7 || q == 20) addn($1 "|" tname($2), cn)
    else if (q == 14) addn($1 "|" tname($2), cn)
    else if (q == 15 || q == 16) addn(tname($1) "|" $2, cn)
    else if (q == 17) addn($1 "|" rname($2), cn)
    else if (q == 22) addn($1, cn)
    else if (q == "t1") addn($1 "|" $4 "|" $2 "|" tname($3) "|" $17, $7)
    else if (q == "qname") add($1)
    else if (q == "icmperr") { if ($13 ~ /^(3|4|5|11|12)$/) add($13 "|" $14 "|" $7 "|" $8 "|" $18 "|" $19) }
    else addn($1 "|" $2, cn)
    next
}
END {
    for (i = 1; i <= nk; i++) {
        k = ord[i]
        if (q == "t1" && side == "nt") {
            split(k, a, SUBSEP); m = ps[k] / n[k]
            print a[1] "|" a[2] "|" d[k] "|" y[k] "|" (m == int(m) ? m : sprintf("%g", m)), n[k]
        } else print k, cnt[k]
    }
}
