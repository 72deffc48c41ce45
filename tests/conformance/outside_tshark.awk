# Turns the per-frame fields of one tshark run (outside_tshark.sh, TSHARK_FIELDS) into one
# line of counts, the ones nettriage's JSON summary has (docs/conformance.md, "Captures from
# other projects"). Input columns (tab-separated, occurrences joined by ","):
#   1 frame.number  2 frame.protocols  3 dns.flags.response  4 dns.flags.opcode
#   5 dns.response_in  6 dns.response_to  7 dns.retransmit_request_in
#   8 dns.retransmit_response_in  9 dns.unsolicited  10 icmp.type  11 icmpv6.type
#   12 tcp.flags.syn  13 tcp.flags.ack  14 _ws.malformed
# Output (space-separated): queries responses lookups answered unsolicited icmp_errors mdns
#   llmnr syn other_opcode malformed
function n(s) { return s == "" ? 0 : split(s, _tmp, ",") }
function first(s, a) { split(s, a, ","); return a[1] }
BEGIN { FS = "\t" }
{
    np = split($2, proto, ":")
    # Where the first ICMP layer is: what follows it is the datagram an ICMP message quotes
    # (tshark dissects it, DNS included), not a packet of its own.
    ic = 0; icv = ""
    for (i = 1; i <= np; i++)
        if (proto[i] == "icmp" || proto[i] == "icmpv6") { ic = i; icv = proto[i]; break }
    dnsat = 0; kind = ""
    for (i = 1; i <= np; i++)
        if (proto[i] == "dns" || proto[i] == "mdns" || proto[i] == "llmnr") { dnsat = i; kind = proto[i]; break }
    tcpat = 0
    for (i = 1; i <= np; i++)
        if (proto[i] == "tcp") { tcpat = i; break }

    # ICMP errors: ICMP destination unreachable, source quench, time exceeded, parameter
    # problem; ICMPv6 destination unreachable, packet too big, time exceeded, parameter
    # problem (the outer message: the first occurrence of the type).
    if (ic) {
        t = (icv == "icmp") ? first($10) : first($11)
        if (icv == "icmp" && (t == 3 || t == 4 || t == 11 || t == 12)) icmp++
        if (icv == "icmpv6" && (t >= 1 && t <= 4)) icmp++
    }
    # SYN packets: SYN without ACK, not inside an ICMP quote.
    if (tcpat && (!ic || tcpat < ic) && first($12) == 1 && first($13) == 0) syn++
    if (!dnsat || (ic && ic < dnsat)) next
    if ($14 != "") malformed++
    m = split($3, qr, ",")
    split($4, op, ",")
    if (kind == "mdns") { mdns += m; next }
    if (kind == "llmnr") { llmnr += m; next }
    # DNS proper: every message of the frame (several when one TCP segment completes several).
    # Opcodes other than QUERY are counted apart, as nettriage leaves them out.
    fq = 0; fr = 0
    for (i = 1; i <= m; i++) {
        if (op[i] != 0) { other_op++; continue }
        if (qr[i] == 1) fr++; else fq++
    }
    queries += fq; responses += fr
    # A lookup is a first query: tshark marks a repeat (same id in the same conversation,
    # within dns.retransmission_timer) with dns.retransmit_request_in.
    rq = n($7)
    lookups += fq - rq
    # Answered: first queries that tshark links to a response (dns.response_in).
    a = n($5); if (a > fq - rq) a = fq - rq
    answered += a
    # Unsolicited: responses tshark links to no query (no dns.response_to) that are not a
    # repeat of a response it did link (dns.retransmit_response_in). This includes the
    # malformed responses whose dissection stopped before tshark's matching (no
    # dns.unsolicited then either).
    u = fr - n($6) - n($8); if (u > 0) unsol += u
}
END {
    print queries + 0, responses + 0, lookups + 0, answered + 0, unsol + 0, icmp + 0, mdns + 0, llmnr + 0, syn + 0, other_op + 0, malformed + 0
}
