#!/usr/bin/env bash
# Captures from other projects' test data (../shared/corpora/outside/, SOURCES.tsv): the counts
# of nettriage's JSON summary equal tshark's on the same file. tshark's counts are stored in
# outside-tshark.tsv (made by outside_tshark.sh, which records the exact tshark command), so
# this test needs no tshark; NT_OUTSIDE_TSHARK_CHECK=1 also checks the stored table against the
# installed tshark (about a minute). What is compared is in docs/conformance.md ("Captures from
# other projects"); every difference is listed in differences.txt (source "outside") with its
# reason, or the test fails.
# Usage: outside.sh NETTRIAGE CORPORA_DIR [FIGURES_FILE]
. "$(dirname "$0")/lib.sh"
require_corpora
SOURCES=$CORPORA/outside/SOURCES.tsv
[ -f "$SOURCES" ] || skip "$SOURCES not found (the outside/ captures of ../shared/corpora; see docs/conformance.md)"
TABLE=$CONF_DIR/outside-tshark.tsv
fail=0

# Every capture SOURCES.tsv lists has a row in the table, and the file is the one the table
# was made from.
while IFS= read -r cap; do
    grep -q "^$cap	" "$TABLE" ||
        { echo "FAIL: $cap (SOURCES.tsv) has no row in $TABLE: run outside_tshark.sh CORPORA --write"; fail=1; }
done < <(tail -n +2 "$SOURCES" | cut -f1)

# Columns of the table compared, and the summary member each is compared with.
cols=(queries responses lookups answered unsolicited icmp_errors mdns llmnr syn)
members=(dns_queries dns_responses dns_lookups answered unsolicited_responses icmp_errors
    mdns_messages llmnr_messages tcp_syn_packets)
jq_members=$(printf '.%s,' "${members[@]}")
caps=0 compared=0 agreed=0 known=0 bad=0 same=0
while IFS=$'\t' read -r cap sum ref_line; do
    f=$CORPORA/outside/$cap
    if [ ! -f "$f" ]; then
        echo "FAIL: $cap is in the table but not in $CORPORA/outside"
        fail=1
        continue
    fi
    if [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$sum" ]; then
        echo "FAIL: $cap is not the file the table was made from (sha256 differs): run outside_tshark.sh CORPORA --write"
        fail=1
        continue
    fi
    caps=$((caps + 1))
    read -r -a ref <<<"$ref_line"
    nt_run "$f" json >"$WORK/out.json"
    rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        echo "FAIL: $cap: nettriage exit status $rc"
        fail=1
        continue
    fi
    read -r -a got < <(jq -r ".summary | [${jq_members%,}] | map(. // 0) | @tsv" "$WORK/out.json")
    capsame=1
    for i in "${!cols[@]}"; do
        compared=$((compared + 1))
        r=${ref[$i]} n=${got[$i]:-?}
        if [ "$r" = "$n" ]; then
            agreed=$((agreed + 1))
        elif diff_check outside "$cap" "*" "${cols[$i]}" "$r" "$n"; then
            known=$((known + 1)) capsame=0
            echo "  known   $cap ${cols[$i]}: tshark $r, nettriage $n: $(diff_reason outside "$cap" "*" "${cols[$i]}" "$r" "$n")"
        else
            bad=$((bad + 1)) capsame=0
            echo "  FAIL    $cap ${cols[$i]}: tshark $r, nettriage $n"
            printf '          add to differences.txt if accepted: outside\t%s\t*\t%s\t%s\t%s\t<reason>\n' "$cap" "${cols[$i]}" "$r" "$n"
            fail=1
        fi
    done
    [ "$capsame" = 1 ] && same=$((same + 1))
done < <(grep -v '^#' "$TABLE" | awk -F'\t' 'NF >= 11 {printf "%s\t%s\t%s %s %s %s %s %s %s %s %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11}')
echo "$same of $caps captures equal on every count; $known listed differences, $bad unlisted"
figure "tshark on outside/ (counts)" "$caps" "$compared" "$agreed" "$known" "$bad" "$same captures equal on all 9 counts; tshark's counts stored in outside-tshark.tsv"
diff_stale outside || fail=1

if [ "${NT_OUTSIDE_TSHARK_CHECK:-0}" = 1 ]; then
    bash "$CONF_DIR/outside_tshark.sh" "$CORPORA" --check
    case $? in 0) ;; 77) echo "NOTE: the stored table was not checked against tshark (above)" ;; *) fail=1 ;; esac
fi
exit $fail
