#!/usr/bin/env bash
# ICMP context: for the Zeek ICMP traces (icmp-context.tsv), the datagram quoted inside each
# ICMP error (source, destination, transport, ports) and the error's type and code against
# Zeek's icmp_context records.
# Usage: icmp_context.sh NETTRIAGE CORPORA_DIR [FIGURES_FILE]
. "$(dirname "$0")/lib.sh"
require_corpora

Z=$CORPORA/zeek
fail=0 caps=0 compared=0 agreed=0 known=0 bad=0
declare -A seen_cap=()
names=(type code quoted_src quoted_dst quoted_proto quoted_sport quoted_dport)

while IFS=$'\t' read -r base traces; do
    case $base in '#'* | '') continue ;; esac
    awk -f "$CONF_DIR/zeek_icmp.awk" "$Z/Baseline/$base" >"$WORK/ref.tsv"
    i=0
    for trace in $traces; do
        i=$((i + 1))
        ref=$(sed -n "${i}p" "$WORK/ref.tsv")
        [ -n "$ref" ] || { echo "FAIL: $base has fewer ICMP error records than traces"; fail=1; continue; }
        [ -z "${seen_cap[$trace]:-}" ] && caps=$((caps + 1)) && seen_cap[$trace]=1
        nt=$(nt_icmp "$Z/Traces/$trace" | head -1)
        compared=$((compared + 1))
        key="$base#$i"
        rowbad=0 rowdiff=0
        if [ -z "$nt" ]; then
            set -- "row" "present" "absent"
            rowdiff=1
            if diff_check zeek-icmp "$trace" "$key" row present absent; then
                echo "  known   $trace [$key] row: zeek=present nettriage=absent ($(diff_reason zeek-icmp "$trace" "$key" row present absent))"
            else
                echo "  DIFF    $trace [$key] row: zeek=present nettriage=absent"
                printf '    listing line: zeek-icmp\t%s\t%s\trow\tpresent\tabsent\t<reason>\n' "$trace" "$key"
                rowbad=1
            fi
        else
            IFS=$'\t' read -r -a r <<<"$ref"
            IFS=$'\t' read -r -a n <<<"$nt"
            for f in 0 1 2 3 4 5 6; do
                [ "${r[$f]}" = "?" ] && continue
                [ "${r[$f]}" = "${n[$f]:-}" ] && continue
                rowdiff=1
                if diff_check zeek-icmp "$trace" "$key" "${names[$f]}" "${r[$f]}" "${n[$f]:-}"; then
                    echo "  known   $trace [$key] ${names[$f]}: zeek=${r[$f]} nettriage=${n[$f]:-}"
                else
                    echo "  DIFF    $trace [$key] ${names[$f]}: zeek=${r[$f]} nettriage=${n[$f]:-}"
                    printf '    listing line: zeek-icmp\t%s\t%s\t%s\t%s\t%s\t<reason>\n' "$trace" "$key" "${names[$f]}" "${r[$f]}" "${n[$f]:-}"
                    rowbad=1
                fi
            done
        fi
        if [ "$rowdiff" = 0 ]; then agreed=$((agreed + 1));
        elif [ "$rowbad" = 0 ]; then known=$((known + 1));
        else bad=$((bad + 1)); fail=1; fi
    done
done <"$CONF_DIR/icmp-context.tsv"

src=$(nt_has_ndjson && echo "ndjson" || echo "JSON report: only errors a finding cites or unmatched DNS errors")
figure "Zeek ICMP context" "$caps" "$compared" "$agreed" "$known" "$bad" "nettriage side from $src"
diff_stale zeek-icmp || fail=1
[ "$fail" = 0 ] && echo "PASS: Zeek ICMP context" || echo "FAIL: Zeek ICMP context (unlisted differences above)"
exit "$fail"
