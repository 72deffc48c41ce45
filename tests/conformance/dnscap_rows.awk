# dnscap `-g` text (a .gold file) -> lookup rows in lib.sh's 16 columns (TSV).
# Usage: awk -v cap=FILE_NAME_IN_GOLD -f dnscap_rows.awk GOLD
#
# dnscap prints one block per DNS message:
#   [len] DATE TIME [#n FILE VLAN] \
#   	[src].sport [dst].dport  \
#   	dns OPCODE,RCODE,ID,flags \
#   	QDCOUNT question... ANCOUNT records... NSCOUNT records... ARCOUNT records...
# (records "name,CLASS,TYPE[,TTL,rdata...]", continuation lines ending in " \").
# Only the blocks of FILE == cap are read, and only its first run: a gold that holds several
# runs over the same capture (other options, use_layers=yes) repeats its first block, or goes
# back to a lower packet number, or comes back to the file after another one.
#
# Messages -> lookups, as nettriage groups them: a query opens a lookup keyed by (client,
# client port, server, server port, id, name, type), unless one with the same key is still
# unanswered (then it is a retransmission: the lookup keeps its first query's flags, its RTT
# runs from this last transmission); a response answers the unanswered lookup with the reversed
# addresses, ports and id (first response; later ones are duplicate responses, not rows); a
# response with no such lookup is an unsolicited response: not a row, counted on a first line
# "#unsolicited<TAB>N" (nettriage: summary.unsolicited_responses).
# Columns: AA TC RD RA of the response when answered, else of the query; answers as lib.sh
# says (A/AAAA address; CNAME/PTR/NS/DNAME name; MX exchange; SRV target; SOA mname); rtt =
# response time - last transmission; transport "?" (dnscap's text does not show it).
# Messages with an opcode other than QUERY are left out (nettriage analyses queries only).
function days(y, m, d) {  # days from civil (proleptic Gregorian), 1970-01-01 = 0
    y -= (m <= 2); era = int((y >= 0 ? y : y - 399) / 400); yoe = y - era * 400
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
}
function nm(s,    p, n, i, o) {  # name: lower case, no trailing dot (the root and an escaped
    # final dot stay), "\" written "\\" as jq's @tsv writes nettriage's side
    s = tolower(s)
    if (s != "." && s ~ /\.$/ && s !~ /\\\.$/) s = substr(s, 1, length(s) - 1)
    n = split(s, p, "\\"); o = p[1]
    for (i = 2; i <= n; i++) o = o "\\\\" p[i]
    return o
}
function flag(fl, f) { return (("|" fl "|") ~ ("\\|" f "\\|")) ? "T" : "F" }
function flush(    hdr, t, n, i, k, tok, ntok, qd, an, rec, f, nf, name, typ, ansl, seen, a, ip, rest) {
    if (blk == "") return
    hdr = blk; blk = ""
    if (!match(hdr, /\[#[0-9]+ [^ ]+/)) return
    t = substr(hdr, RSTART + 2, RLENGTH - 2); split(t, a, " "); pn = a[1] + 0; file = a[2]
    if (file != cap) { if (started) otherfile = 1; return }
    body = hdr; sub(/^[^\]]*\] /, "", body); sub(/\[#[^\]]*\]/, "", body)
    if (started && (otherfile || pn < lastpn || (pn == firstpn && body == firstbody))) { done = 1 }
    if (done) return
    if (!started) { started = 1; firstpn = pn; firstbody = body }
    lastpn = pn
    ntok = split(hdr, tok, " ")
    # tok: [len] DATE TIME [#n FILE ... ] [src].sport [dst].dport dns OPC,RC,ID,fl counts...
    split(tok[2], a, "-"); split(tok[3], b, ":")
    ts = days(a[1] + 0, a[2] + 0, a[3] + 0) * 86400 + b[1] * 3600 + b[2] * 60 + b[3]
    for (i = 4; i <= ntok && tok[i] !~ /\]$/; i++);
    i++
    if (i + 2 > ntok || tok[i + 2] != "dns") return
    src = tok[i]; dst = tok[i + 1]
    sip = src; sub(/^\[/, "", sip); sub(/\]\.[0-9]+$/, "", sip); sp = src; sub(/^.*\]\./, "", sp)
    dip = dst; sub(/^\[/, "", dip); sub(/\]\.[0-9]+$/, "", dip); dp = dst; sub(/^.*\]\./, "", dp)
    split(tok[i + 3], h, ","); opc = h[1]; rc = h[2]; id = h[3]; fl = h[4]
    if (opc != "QUERY") return
    i += 4
    qd = tok[i++] + 0; qn = "?"; qt = "?"
    for (k = 0; k < qd && i <= ntok; k++) {
        rec = tok[i++]; gsub(/\\,/, "\001", rec); nf = split(rec, f, ",")
        if (k == 0 && nf >= 3) { name = f[1]; gsub(/\001/, "\\,", name); qn = nm(name); qt = f[3] }
    }
    an = tok[i++] + 0; ansl = ""; split("", seen)
    for (k = 0; k < an && i <= ntok; k++) {
        rec = tok[i++]; gsub(/\\,/, "\001", rec); nf = split(rec, f, ",")
        typ = f[3]; rest = ""
        if (typ == "A" || typ == "AAAA" || typ == "CNAME" || typ == "PTR" || typ == "NS" || typ == "DNAME" || typ == "SOA") rest = f[5]
        else if (typ == "MX" || typ == "SRV") rest = f[nf]
        else continue
        gsub(/\001/, "\\,", rest); rest = nm(rest)
        if (rest ~ / / || rest !~ /[.:]/ || (rest in seen)) continue
        seen[rest] = 1; ansl = ansl (ansl == "" ? "" : "\n") rest
    }
    isresp = flag(fl, "qr") == "T"
    if (!isresp) {
        k = sip SUBSEP sp SUBSEP dip SUBSEP dp SUBSEP id SUBSEP qn SUBSEP qt
        if ((k in open) && open[k] > 0) { lastq[open[k]] = ts; return }
        n = ++nrows; open[k] = n; okey[n] = k
        row[n] = sip "\t" sp "\t" dip "\t" dp "\t" id "\t" qn "\t" qt
        fla[n] = flag(fl, "aa") "\t" flag(fl, "tc") "\t" flag(fl, "rd") "\t" flag(fl, "ra")
        rcode[n] = "-"; ans[n] = "-"; rtt[n] = "-"; answered[n] = "F"; lastq[n] = ts
        return
    }
    # a response: the unanswered lookup of the reversed 5-tuple and id (its question first)
    n = 0
    k = dip SUBSEP dp SUBSEP sip SUBSEP sp SUBSEP id SUBSEP qn SUBSEP qt
    if ((k in open) && open[k] > 0) n = open[k]
    else for (k in open) if (open[k] > 0 && index(k, dip SUBSEP dp SUBSEP sip SUBSEP sp SUBSEP id SUBSEP) == 1) { n = open[k]; break }
    if (n == 0) {
        if (dupkey[dip SUBSEP dp SUBSEP sip SUBSEP sp SUBSEP id]) return  # a duplicate response
        unsolicited++; dupkey[dip SUBSEP dp SUBSEP sip SUBSEP sp SUBSEP id] = 1; return
    }
    open[okey[n]] = 0
    dupkey[dip SUBSEP dp SUBSEP sip SUBSEP sp SUBSEP id] = 1
    fla[n] = flag(fl, "aa") "\t" flag(fl, "tc") "\t" flag(fl, "rd") "\t" flag(fl, "ra")
    rcode[n] = rc; answered[n] = "T"
    if (ansl == "") ans[n] = "-"
    else { m = split(ansl, al, "\n"); sortl(al, m); ans[n] = al[1]; for (j = 2; j <= m; j++) ans[n] = ans[n] "," al[j] }
    rtt[n] = (lastq[n] == "") ? "-" : sprintf("%.6f", ts - lastq[n])
}
function sortl(arr, m,    x, y, v) {
    for (x = 2; x <= m; x++) { v = arr[x]; for (y = x - 1; y >= 1 && arr[y] > v; y--) arr[y + 1] = arr[y]; arr[y + 1] = v }
}
BEGIN { blk = "" }
/^\[[0-9]+\] / { flush(); blk = $0; sub(/ \\$/, "", blk); cont = ($0 ~ / \\$/); next }
/^\t/ && cont { l = $0; sub(/^\t/, "", l); cont = (l ~ / \\$/); sub(/ \\$/, "", l); blk = blk " " l; next }
{ flush(); cont = 0 }
END {
    flush()
    print "#unsolicited\t" unsolicited + 0
    for (n = 1; n <= nrows; n++)
        print row[n] "\t" rcode[n] "\t" answered[n] "\t" fla[n] "\t" ans[n] "\t" rtt[n] "\t?"
}
