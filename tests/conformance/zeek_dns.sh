#!/usr/bin/env bash
# Zeek dns.log: for every Zeek trace with a dns.log baseline (zeek-dnslog.tsv), nettriage's
# DNS lookups against Zeek's rows.
#  - counts (always): distinct lookups and answered lookups, from the JSON report's summary;
#  - rows (when the binary has --format ndjson): query, qtype, rcode, answered, AA/TC/RD/RA,
#    answers, RTT within 1 ms (see docs/conformance.md for the rules).
# Usage: zeek_dns.sh NETTRIAGE CORPORA_DIR [FIGURES_FILE]
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compare_rows.sh"
require_corpora

Z=$CORPORA/zeek
fail=0 traces=0 cnt_cmp=0 cnt_ok=0 cnt_known=0 cnt_bad=0

# Every dns.log-like baseline in the corpus must be in the map, so none is silently left out.
while IFS= read -r f; do
    b=${f#"$Z/Baseline/"}
    if ! grep -q "^$b	" "$CONF_DIR/zeek-dnslog.tsv"; then
        echo "FAIL: Zeek baseline $b is not in tests/conformance/zeek-dnslog.tsv (add it with its trace)"
        fail=1
    fi
done < <(find "$Z/Baseline" -name 'dns*.log*' | sort)

while IFS=$'\t' read -r base trace _cks; do
    case $base in '#'* | '') continue ;; esac
    pcap=$Z/Traces/$trace
    if [ ! -f "$Z/Baseline/$base" ] || [ ! -f "$pcap" ]; then
        echo "FAIL: $base or $trace missing from the corpus"
        fail=1
        continue
    fi
    traces=$((traces + 1))
    awk -f "$CONF_DIR/zeek_rows.awk" "$Z/Baseline/$base" >"$WORK/ref.tsv"

    # Count level: lookups = distinct (client, port, server, port, id, query) rows; answered
    # = those with an rcode. nettriage: dns_lookups (+ unsolicited responses, which Zeek logs
    # as rows of their own) and answered (+ unsolicited).
    # A cut baseline without ports or ids cannot tell retransmissions apart: count its rows.
    if awk -F"\t" "\$2==\"?\" || \$5==\"?\" {f=1} END {exit !f}" "$WORK/ref.tsv"; then
        zl=$(grep -c . "$WORK/ref.tsv")
    else
        zl=$(cut -f1-6 "$WORK/ref.tsv" | sort -u | grep -c .)
    fi
    za=$(awk -F"\t" "\$9==\"T\"" "$WORK/ref.tsv" | cut -f1-6 | sort -u | grep -c .)
    has_rcode=yes
    [ "$(head -1 "$WORK/ref.tsv" | cut -f8)" = "?" ] && has_rcode=no
    nt_summary "$pcap" >"$WORK/sum.tsv"
    sv() { awk -F'\t' -v k="$1" '$1==k {print $2}' "$WORK/sum.tsv"; }
    nl=$(($(sv dns_lookups) + $(sv unsolicited_responses)))
    na=$(($(sv answered) + $(sv unsolicited_responses)))
    pairs=("lookups $zl $nl")
    [ "$has_rcode" = yes ] && pairs+=("answered $za $na")
    for pair in "${pairs[@]}"; do
        set -- $pair
        cnt_cmp=$((cnt_cmp + 1))
        if [ "$2" = "$3" ]; then
            cnt_ok=$((cnt_ok + 1))
        elif diff_check zeek "$trace" "*" "$1" "$2" "$3"; then
            cnt_known=$((cnt_known + 1))
            echo "  known   $trace [*] $1: zeek=$2 nettriage=$3 ($(diff_reason zeek "$trace" "*" "$1" "$2" "$3"))"
        else
            cnt_bad=$((cnt_bad + 1))
            echo "  DIFF    $trace [*] $1: zeek=$2 nettriage=$3"
            printf '    listing line: zeek\t%s\t*\t%s\t%s\t%s\t<reason>\n' "$trace" "$1" "$2" "$3"
            fail=1
        fi
    done

    if nt_has_ndjson; then
        nt_lookups "$pcap" >"$WORK/nt.tsv"
        compare_rows zeek "$trace" "$WORK/ref.tsv" "$WORK/nt.tsv"
    fi
done <"$CONF_DIR/zeek-dnslog.tsv"

[ "$ROWS_UNLISTED" -gt 0 ] && fail=1
figure "Zeek dns.log (counts)" "$traces" "$cnt_cmp" "$cnt_ok" "$cnt_known" "$cnt_bad" "lookups and answered per trace, from the JSON summary"
if nt_has_ndjson; then
    figure "Zeek dns.log (rows)" "$traces" "$ROWS_COMPARED" "$ROWS_AGREED" "$ROWS_KNOWN" "$ROWS_UNLISTED" "rtt not compared on $RTT_NOT_COMPARED answered rows Zeek logs without rtt"
    diff_stale zeek row || fail=1
else
    figure "Zeek dns.log (rows)" "$traces" 0 0 0 0 "not run: this nettriage has no --format ndjson (per-lookup output)"
fi
diff_stale zeek count || fail=1
[ "$fail" = 0 ] && echo "PASS: Zeek dns.log" || echo "FAIL: Zeek dns.log (unlisted differences above)"
exit "$fail"
