#!/usr/bin/env bash
# dnscap, PacketQ and Suricata-verify DNS golds against nettriage, on the fields both carry
# (docs/conformance.md, "dnscap, PacketQ and Suricata-verify", gives the mapping):
#  - dnscap (rows): the messages of each `dnscap -g` gold grouped into lookups
#    (dnscap_rows.awk), compared row by row with nettriage's ndjson lookups (compare_rows.sh);
#  - PacketQ (aggregates): per-message counts the SQL golds give, recomputed from nettriage;
#  - Suricata-verify (checks): each test.yaml check on dns events, its count recomputed from
#    the events nettriage's lookups imply.
# The golds are listed in dns-golds.tsv (a gold of the corpus missing there fails the test).
# Usage: dns_golds.sh NETTRIAGE CORPORA_DIR [FIGURES_FILE]
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compare_rows.sh"
require_corpora
nt_has_ndjson || skip "this nettriage has no --format ndjson (per-lookup output)"
[ -d "$CORPORA/other/dnscap" ] || skip "$CORPORA/other/dnscap not found"

MAP=$CONF_DIR/dns-golds.tsv
fail=0

# Every gold of the three folders must be in the map, so none is silently left out.
while IFS= read -r f; do
    r=${f#"$CORPORA/"}
    if ! awk -F'\t' -v g="$r" '$2 == g {f = 1} END {exit !f}' "$MAP"; then
        echo "FAIL: gold $r is not in tests/conformance/dns-golds.tsv"
        fail=1
    fi
done < <(find "$CORPORA/other/dnscap" "$CORPORA/other/packetq" -name '*.gold'; find "$CORPORA/other/suricata-verify" -name test.yaml)

# count_check SOURCE CAPTURE KEY FIELD REF NT: one compared count (listed differences allowed).
CNT_CMP=0 CNT_OK=0 CNT_KNOWN=0 CNT_BAD=0
count_check() {
    CNT_CMP=$((CNT_CMP + 1))
    if [ "$5" = "$6" ]; then
        CNT_OK=$((CNT_OK + 1))
    elif diff_check "$1" "$2" "$3" "$4" "$5" "$6"; then
        CNT_KNOWN=$((CNT_KNOWN + 1))
        echo "  known   $2 [$3] $4: $1=$5 nettriage=$6 ($(diff_reason "$1" "$2" "$3" "$4" "$5" "$6"))"
    else
        CNT_BAD=$((CNT_BAD + 1))
        echo "  DIFF    $2 [$3] $4: $1=$5 nettriage=$6"
        printf '    listing line: %s\t%s\t%s\t%s\t%s\t%s\t<reason>\n' "$1" "$2" "$3" "$4" "$5" "$6"
        fail=1
    fi
}

# --- dnscap ------------------------------------------------------------------------------
caps=0 notcmp=0
while IFS=$'\t' read -r src gold name cap notc; do
    [ "$src" = dnscap ] || continue
    [ "$name" = - ] && { notcmp=$((notcmp + 1)); continue; }
    if [ ! -f "$CORPORA/$gold" ] || [ ! -f "$CORPORA/$cap" ]; then
        echo "FAIL: $gold or $cap missing from the corpus"; fail=1; continue
    fi
    caps=$((caps + 1))
    label="${cap##*/} [${gold##*/}]"
    awk -v cap="$name" -f "$CONF_DIR/dnscap_rows.awk" "$CORPORA/$gold" |
        awk -F"\t" -v OFS="\t" -v nc="${notc:-}" 'nc ~ /(^|,)rtt(,|$)/ {$15 = "?"} {print}' >"$WORK/ref.tsv"
    nt_run "$CORPORA/$cap" ndjson >"$WORK/nt.ndjson"
    nt_lookups_ndjson "$WORK/nt.ndjson" >"$WORK/nt.tsv"
    # unsolicited responses: a count on both sides (nettriage has no line for them)
    count_check dnscap "$label" "*" unsolicited "$(awk -F"\t" "\$1 == \"#unsolicited\" {print \$2}" "$WORK/ref.tsv")" \
        "$(jq -r "select(.event.dataset == \"nettriage.summary\") | .nettriage.summary.unsolicited_responses" "$WORK/nt.ndjson")"
    sed -i "/^#unsolicited/d" "$WORK/ref.tsv"
    compare_rows dnscap "$label" "$WORK/ref.tsv" "$WORK/nt.tsv"
done < <(grep -v '^#' "$MAP")
[ "$ROWS_UNLISTED" -gt 0 ] && fail=1
figure "dnscap -g (rows)" "$caps" "$ROWS_COMPARED" "$ROWS_AGREED" "$ROWS_KNOWN" "$ROWS_UNLISTED" "messages grouped into lookups; $notcmp golds not comparable (selection options, ICMP)"
figure "dnscap -g (unsolicited counts)" "$caps" "$CNT_CMP" "$CNT_OK" "$CNT_KNOWN" "$CNT_BAD" "responses with no query: gold messages vs summary.unsolicited_responses"
diff_stale dnscap || fail=1

# --- PacketQ, Suricata-verify: listed in dns-golds.tsv, not compared yet -----------------
for s in packetq suricata; do
    n=$(grep -v "^#" "$MAP" | awk -F"\t" -v s="$s" "\$1 == s" | grep -c .)
    case $s in
        packetq) t="PacketQ SQL golds" ;;
        suricata) t="Suricata-verify dns checks" ;;
    esac
    figure "$t" "$n" 0 0 0 0 "not compared yet: $n golds listed in dns-golds.tsv"
done

[ "$fail" = 0 ] && echo "PASS: dnscap, PacketQ and Suricata-verify golds" || echo "FAIL: dnscap, PacketQ and Suricata-verify golds (unlisted differences above)"
exit "$fail"
