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

# --- PacketQ: SQL aggregates per message, recomputed from nettriage's lookups -------------
# dns-golds.tsv gives, per gold, the capture of each result table in order ("capture:what",
# what = a query of packetq_groups.awk, "messages" (row count = messages), or "-" not compared).
# The gold's tables are read as PacketQ wrote them: JSON (-j), CSV, padded CSV or XML.
pq_tables() {  # GOLD: one "TABLE<TAB>row..." line per result row (TABLE from 1)
    local n
    if [ "$(head -c 1 "$1")" = "<" ]; then
        awk '/<tr><td>/ { gsub(/<\/td> *<td>/, "\t"); gsub(/<\/?t[rd]>/, ""); print "1\t" $0 }' "$1"
        return
    fi
    # JSON tables (-j) first, then CSV tables (a header line per table), as PacketQ's tests append them
    awk '/^"/ {exit} {print}' "$1" >"$WORK/pq-json"
    jq -r -s 'to_entries[] | .key as $k | .value[0].data[] | [($k + 1 | tostring)] + map(tostring) | join("\t")' "$WORK/pq-json"
    n=$(jq -s 'length' "$WORK/pq-json")
    awk -v t="$n" 'f || /^"/ {f = 1} !f {next}
        /^"(s|qname)" *(,|$)/ {t++; next}
        { gsub(/ *, */, ","); gsub(/ +$/, ""); k = split($0, a, ","); l = t
          for (i = 1; i <= k; i++) { v = a[i]; sub(/^"/, "", v); sub(/"$/, "", v); gsub(/""/, "\"", v); l = l "\t" v }
          print l }' "$1"
}
PQ_CAPS=0 PQ_TABLES=0 PQ_SKIP=0
pq_cmp() {  # LABEL QUERY REF NT: per group count, and the number of groups
    local k
    count_check packetq "$1" "$2" groups "$(grep -c . "$3")" "$(grep -c . "$4")"
    while IFS= read -r k; do
        count_check packetq "$1" "$2 $k" count "$(k="$k" awk -F'\t' '$1 == ENVIRON["k"] {print $2; f = 1} END {if (!f) print 0}' "$3")" \
            "$(k="$k" awk -F'\t' '$1 == ENVIRON["k"] {print $2; f = 1} END {if (!f) print 0}' "$4")"
    done < <(cut -f1 "$3" "$4" | sort -u)
}
CNT_CMP=0 CNT_OK=0 CNT_KNOWN=0 CNT_BAD=0
while IFS=$'\t' read -r src gold tables why; do
    [ "$src" = packetq ] || continue
    [ "$tables" = - ] && { PQ_SKIP=$((PQ_SKIP + 1)); continue; }
    [ -f "$CORPORA/$gold" ] || { echo "FAIL: $gold missing from the corpus"; fail=1; continue; }
    PQ_CAPS=$((PQ_CAPS + 1))
    pq_tables "$CORPORA/$gold" >"$WORK/pq-gold.tsv"
    t=0
    for spec in $tables; do
        t=$((t + 1))
        cap=${spec%%:*} what=${spec#*:}
        [ "$what" = - ] && continue
        PQ_TABLES=$((PQ_TABLES + 1))
        label="${cap##*/} [${gold##*/} #$t]"
        awk -F'\t' -v t="$t" -v OFS='\t' '$1 == t {sub(/^[^\t]*\t/, ""); print}' "$WORK/pq-gold.tsv" >"$WORK/pq-ref-rows.tsv"
        if [ ! -f "$WORK/pq-msg-${cap//\//_}" ]; then
            nt_run "$CORPORA/$cap" ndjson >"$WORK/pq.ndjson"
            jq -r -f "$CONF_DIR/packetq_messages.jq" "$WORK/pq.ndjson" >"$WORK/pq-msg-${cap//\//_}"
            jq -r 'select(.event.dataset == "nettriage.icmp")
                   | [.icmp.response.type, .icmp.response.code, .source.ip, .destination.ip,
                      (.nettriage.icmp.quote.src // ""), (.nettriage.icmp.quote.dst // "")]
                   | map(tostring) | join("|")' "$WORK/pq.ndjson" |
                sort | uniq -c | awk '{print $2 "\t" $1}' >"$WORK/pq-icmp-${cap//\//_}"
        fi
        msgs=$WORK/pq-msg-${cap//\//_}
        case $what in
            messages)
                count_check packetq "$label" "*" messages "$(grep -c . "$WORK/pq-ref-rows.tsv")" "$(grep -c . "$msgs")" ;;
            count)
                count_check packetq "$label" "*" messages "$(cut -f1 "$WORK/pq-ref-rows.tsv")" "$(grep -c . "$msgs")" ;;
            icmperr)
                awk -v side=ref -v q=icmperr -f "$CONF_DIR/packetq_groups.awk" "$WORK/pq-ref-rows.tsv" >"$WORK/pq-ref.tsv"
                pq_cmp "$label" "icmp-errors" "$WORK/pq-ref.tsv" "$WORK/pq-icmp-${cap//\//_}" ;;
            q*)
                q=${what#q}
                awk -v side=ref -v q="$q" -f "$CONF_DIR/packetq_groups.awk" "$WORK/pq-ref-rows.tsv" >"$WORK/pq-ref.tsv"
                awk -v side=nt -v q="$q" -f "$CONF_DIR/packetq_groups.awk" "$msgs" >"$WORK/pq-nt.tsv"
                pq_cmp "$label" "$what" "$WORK/pq-ref.tsv" "$WORK/pq-nt.tsv" ;;
        esac
    done
done < <(grep -v '^#' "$MAP")
figure "PacketQ SQL golds (aggregates)" "$PQ_CAPS" "$CNT_CMP" "$CNT_OK" "$CNT_KNOWN" "$CNT_BAD" "$PQ_TABLES result tables: per-group counts and group counts; messages = transmissions + answers + duplicate and unsolicited responses"
diff_stale packetq || fail=1

# --- Suricata-verify: each test.yaml check on dns events, counted on nettriage's events -----
# suricata_checks.awk reads the checks, suricata_events.jq turns nettriage's lookups into the
# eve dns events they imply, suricata_eval.jq counts each check's matches on the keys nettriage
# carries. Checks for older Suricata (lt-version) and on other event types are not compared.
CNT_CMP=0 CNT_OK=0 CNT_KNOWN=0 CNT_BAD=0
sv_caps=0 sv_lt=0 sv_other=0 sv_part=0
while IFS=$'\t' read -r src gold cap note; do
    [ "$src" = suricata ] || continue
    if [ ! -f "$CORPORA/$gold" ] || [ ! -f "$CORPORA/$cap" ]; then
        echo "FAIL: $gold or $cap missing from the corpus"; fail=1; continue
    fi
    sv_caps=$((sv_caps + 1))
    label=${gold#other/suricata-verify/}
    nt_run "$CORPORA/$cap" ndjson | jq -s -c -f "$CONF_DIR/suricata_events.jq" >"$WORK/sv-events.json"
    awk -f "$CONF_DIR/suricata_checks.awk" "$CORPORA/$gold" >"$WORK/sv-checks.tsv"
    while IFS=$'\t' read -r n status want got left; do
        case $status in
            skip:lt-version) sv_lt=$((sv_lt + 1)); continue ;;
            skip:*) sv_other=$((sv_other + 1)); continue ;;
        esac
        [ "$left" != - ] && sv_part=$((sv_part + 1))
        count_check suricata "$label" "check $n" count "$want" "$got"
    done < <(jq -n -r --rawfile checks "$WORK/sv-checks.tsv" --slurpfile ev "$WORK/sv-events.json" -f "$CONF_DIR/suricata_eval.jq")
done < <(grep -v '^#' "$MAP")
figure "Suricata-verify dns checks" "$sv_caps" "$CNT_CMP" "$CNT_OK" "$CNT_KNOWN" "$CNT_BAD" "checks on dns events ($sv_part with keys nettriage does not carry left out); not compared: $sv_lt for Suricata < 8 (lt-version), $sv_other on other event types (alert, flow, anomaly, stats)"
diff_stale suricata || fail=1

[ "$fail" = 0 ] && echo "PASS: dnscap, PacketQ and Suricata-verify golds" || echo "FAIL: dnscap, PacketQ and Suricata-verify golds (unlisted differences above)"
exit "$fail"
