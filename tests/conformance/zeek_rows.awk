# Zeek dns.log (ASCII, #fields header) or zeek-cut output (first line = column names) ->
# the normalised rows of lib.sh (16 TSV columns). A column the baseline does not carry is "?".
# Names are lower-cased without a trailing dot; answers keep only addresses and names, as a
# set (sorted, duplicates removed), the form lib.sh's NT_LOOKUP_FILTER writes for nettriage.
BEGIN { FS = "\t"; OFS = "\t"; n = 0 }
/^### / { next }
/^#fields\t/ { for (i = 2; i <= NF; i++) col[$i] = i - 1; have = 1; next }
/^#/ { next }
!have { for (i = 1; i <= NF; i++) if ($i != "") col[$i] = i; have = 1; next }
function get(name) { return (name in col) ? $(col[name]) : "?" }
function nm(s) { if (s == "?" || s == "-") return s; s = tolower(s); sub(/\.$/, "", s); return s }
function answers(s,    k, t, out, i, j, a, v, m, seen) {
    if (s == "?" || s == "-" || s == "(empty)") return s == "(empty)" ? "-" : s
    k = split(s, a, ","); m = 0
    for (i = 1; i <= k; i++) {
        t = a[i]
        # Zeek renders other record types as "TYPE details" (spaces) or plain words (no dot):
        # keep IPv4/IPv6 addresses and dotted names only.
        if (t ~ / / || (t !~ /\./ && t !~ /:/)) continue
        t = nm(t)
        if (t in seen) continue
        seen[t] = 1
        # insertion sort (portable awk: no asort)
        for (j = m; j > 0 && v[j] > t; j--) v[j + 1] = v[j]
        v[j + 1] = t; m++
    }
    out = ""
    for (i = 1; i <= m; i++) out = out (i > 1 ? "," : "") v[i]
    return out == "" ? "-" : out
}
{
    # Zeek names a type it does not know "query-N"; RFC 3597 (and nettriage) "TYPEN".
    qt = get("qtype_name"); if (qt == "*") qt = "ANY"; else if (qt ~ /^query-[0-9]+$/) qt = "TYPE" substr(qt, 7)
    rc = get("rcode_name")
    ans = (rc == "?") ? "?" : (rc == "-" ? "F" : "T")
    print get("id.orig_h"), get("id.orig_p"), get("id.resp_h"), get("id.resp_p"), get("trans_id"),
          nm(get("query")), qt, rc, ans, get("AA"), get("TC"), get("RD"), get("RA"),
          answers(get("answers")), get("rtt"), get("proto")
}
