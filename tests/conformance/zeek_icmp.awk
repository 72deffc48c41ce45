# Zeek icmp-events/-context output -> one row per ICMP error (records with icmp_context):
#   type code quoted-src quoted-dst quoted-proto quoted-sport quoted-dport
# "-" = Zeek found no quote (addresses ::), "?" = Zeek does not know (transport unknown).
BEGIN { OFS = "\t" }
/^  icmp_info: / { match($0, /itype=[0-9]+/); t = substr($0, RSTART + 6, RLENGTH - 6)
                   match($0, /icode=[0-9]+/); c = substr($0, RSTART + 6, RLENGTH - 6) }
/^  icmp_context: / {
    s = $0
    match(s, /orig_h=[^,]+/); oh = substr(s, RSTART + 7, RLENGTH - 7)
    match(s, /orig_p=[^,]+/); op = substr(s, RSTART + 7, RLENGTH - 7)
    match(s, /resp_h=[^,]+/); rh = substr(s, RSTART + 7, RLENGTH - 7)
    match(s, /resp_p=[^,]+/); rp = substr(s, RSTART + 7, RLENGTH - 7)
    split(op, a, "/"); split(rp, b, "/")
    if (oh == "::") { print t, c, "-", "-", "-", "-", "-"; next }
    proto = a[2]; if (proto == "unknown") { print t, c, oh, rh, "?", "?", "?"; next }
    print t, c, oh, rh, proto, a[1], b[1]
}
