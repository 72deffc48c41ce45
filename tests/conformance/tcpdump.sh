#!/usr/bin/env bash
# tcpdump corpus:
#  1. every capture in tcpdump/ is read without crash or hang: 10 s each, exit status 0, 1 or
#     2, and for 2 a one-line message on stderr;
#  2. for every capture with DNS (manifest.tsv), the DNS facts nettriage reads from the
#     capture equal those it reads from tcpdump's text of it: each stored .out whose TESTLIST
#     flags leave the DNS text whole (none, -v, -vv, -vvv, -e) and a local `tcpdump -nn -r`.
#     Counts (queries, responses, lookups, answered, unsolicited) always; rows with ndjson.
# Usage: tcpdump.sh NETTRIAGE CORPORA_DIR [FIGURES_FILE]
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compare_rows.sh"
require_corpora

T=$CORPORA/tcpdump
fail=0

# --- 1. robustness ----------------------------------------------------------------------
ncap=0 nok=0 nbad=0
while IFS=$'\t' read -r path _ _ _ _ _ format _; do
    case $format in pcap* ) ;; *) continue ;; esac
    f=$CORPORA/$path
    [ -f "$f" ] || continue
    ncap=$((ncap + 1))
    timeout 10 "$NT" report --format json "$f" >/dev/null 2>"$WORK/err"
    rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
        nok=$((nok + 1))
    elif [ "$rc" = 2 ] && [ "$(grep -c . "$WORK/err")" = 1 ]; then
        nok=$((nok + 1))
    else
        nbad=$((nbad + 1))
        case $rc in
            124 | 137) why="hang (killed after 10 s)" ;;
            2) why="exit 2 with $(grep -c . "$WORK/err") lines on stderr" ;;
            *) why="exit status $rc (crash?)" ;;
        esac
        if diff_check tcpdump-read "$path" "*" exit "0-2" "$rc"; then
            echo "  known   $path: $why"
        else
            echo "  FAIL    $path: $why"
            fail=1
        fi
    fi
done < <(awk -F'\t' '$1 ~ /^tcpdump\//' "$CORPORA/manifest.tsv")
figure "tcpdump: read every capture" "$ncap" "$ncap" "$nok" 0 "$nbad" "no crash, no hang, status 0/1/2, one-line error"

# --- 2. DNS: capture against tcpdump's text of it ---------------------------------------
have_tcpdump=yes
command -v tcpdump >/dev/null 2>&1 || have_tcpdump=no
[ "$have_tcpdump" = no ] && echo "NOTE: tcpdump not installed: the local 'tcpdump -nn -r' texts are not compared"

counts() { # FILE -> "queries responses lookups answered unsolicited"
    nt_summary "$1" | awk -F'\t' '{v[$1]=$2} END {print v["dns_queries"]+0, v["dns_responses"]+0, v["dns_lookups"]+0, v["answered"]+0, v["unsolicited_responses"]+0}'
}
cnames=(queries responses lookups answered unsolicited)
caps=0 compared=0 agreed=0 known=0 bad=0
while IFS=$'\t' read -r path; do
    pcap=$CORPORA/$path
    [ -f "$pcap" ] || continue
    caps=$((caps + 1))
    name=${path#tcpdump/}
    ref=($(counts "$pcap"))
    nt_has_ndjson && nt_run "$pcap" ndjson >"$WORK/pcap.ndjson"
    texts=()
    declare -A tflags=()
    # Stored .out files of this capture with flags that keep the DNS text whole.
    while read -r _test cap out flags; do
        [ "$cap" = "$name" ] || continue
        case " $flags " in
            " " | " -v " | " -vv " | " -vvv " | " -v -v " | " -v -v -v " | " -e " | " -e -v " | " -vvv -e " | " -vv -e ") ;;
            *) continue ;;
        esac
        [ -f "$T/$out" ] && texts+=("$out") && tflags[$out]=$flags
    done < <(grep -v '^#' "$T/TESTLIST" | awk 'NF >= 3 {f=""; for (i=4;i<=NF;i++) f=f (f==""?"":" ") $i; print $1, $2, $3, f}')
    if [ "$have_tcpdump" = yes ]; then
        tcpdump -nn -r "$pcap" >"$WORK/local.txt" 2>/dev/null
        texts+=("local -nn")
        tflags["local -nn"]=""
    fi
    for t in "${texts[@]}"; do
        if [ "$t" = "local -nn" ]; then txt=$WORK/local.txt; else txt=$T/$t; fi
        got=($(counts "$txt"))
        compared=$((compared + 1))
        rowdiff=0 rowbad=0
        for k in 0 1 2 3 4; do
            [ "${ref[$k]}" = "${got[$k]}" ] && continue
            rowdiff=1
            if diff_check tcpdump "$name" "$t" "${cnames[$k]}" "${ref[$k]}" "${got[$k]}"; then
                echo "  known   $name [$t] ${cnames[$k]}: capture=${ref[$k]} text=${got[$k]} ($(diff_reason tcpdump "$name" "$t" "${cnames[$k]}" "${ref[$k]}" "${got[$k]}"))"
            else
                echo "  DIFF    $name [$t] ${cnames[$k]}: capture=${ref[$k]} text=${got[$k]}"
                printf '    listing line: tcpdump\t%s\t%s\t%s\t%s\t%s\t<reason>\n' "$name" "$t" "${cnames[$k]}" "${ref[$k]}" "${got[$k]}"
                rowbad=1
            fi
        done
        if [ "$rowdiff" = 0 ]; then agreed=$((agreed + 1));
        elif [ "$rowbad" = 0 ]; then known=$((known + 1));
        else bad=$((bad + 1)); fail=1; fi
        if nt_has_ndjson; then
            # What the text shows (tcpdump's ns_print): answers' rdata of every type kept but
            # SOA without -v; header flags AA, TC, RA (and rcode) of a response, RD only of a
            # query ("+"). So the capture's row keeps SOA only for -v texts, and an answered
            # row's RD (the response's) is "?", not compared; an unanswered row's RD (the
            # query's) is.
            types="A AAAA CNAME PTR NS MX SRV DNAME"
            case " ${tflags[$t]} " in *" -v"*) types="$types SOA" ;; esac
            nt_lookups_ndjson "$WORK/pcap.ndjson" "$types" |
                awk -F"\t" -v OFS="\t" '$9 == "T" {$12 = "?"} {print}' >"$WORK/pcap-rows.tsv"
            nt_lookups "$txt" "$types" >"$WORK/text-rows.tsv"
            compare_rows tcpdump-rows "$name [$t]" "$WORK/pcap-rows.tsv" "$WORK/text-rows.tsv" capture text
        fi
    done
done < <(awk -F'\t' '$1 ~ /^tcpdump\// && ($10 > 0 || $11 > 0) {print $1}' "$CORPORA/manifest.tsv")

figure "tcpdump: DNS capture vs text (counts)" "$caps" "$compared" "$agreed" "$known" "$bad" "stored .out (flags none/-v/-vv/-vvv/-e) and local tcpdump -nn"
if nt_has_ndjson; then
    figure "tcpdump: DNS capture vs text (rows)" "$caps" "$ROWS_COMPARED" "$ROWS_AGREED" "$ROWS_KNOWN" "$ROWS_UNLISTED" "per lookup, ndjson"
    [ "$ROWS_UNLISTED" -gt 0 ] && fail=1
    diff_stale tcpdump-rows || fail=1
fi
diff_stale tcpdump || fail=1
diff_stale tcpdump-read || fail=1
[ "$fail" = 0 ] && echo "PASS: tcpdump corpus" || echo "FAIL: tcpdump corpus (see above)"
exit "$fail"
