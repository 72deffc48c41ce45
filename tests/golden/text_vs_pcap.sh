#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq programs are single-quoted on purpose
# golden text_vs_pcap: the tcpdump-text reader must reach the same findings as the pcap
# reader on the same traffic. For each capture, prints it with tcpdump in several flag
# variants, runs `nettriage report --format json` on the pcap and on every text, and
# compares what both paths must agree on.
#
#   tests/golden/text_vs_pcap.sh NETTRIAGE [PCAP...]
#
# Default captures: examples/port-unreachable.pcap and, when present, the pcaps in
# $NT_SAMPLES_DIR (default ../shared/samples beside the repository). Exit 0 all agree, 1 a mismatch (a
# unified diff per mismatch), 77 tcpdump or jq missing (a failure when CI=true).
#
# Compared: exit status; summary dns_queries, dns_responses, dns_lookups, answered,
# icmp_errors, icmp_errors_matched, unanswered, findings; per finding (sorted by id and
# server) id, server, lookups, packets, query_packets, error_packets, clients, query_names,
# first_seen and last_seen. Times by variant:
#   -tttt, -tt (date in the text)   first_seen/last_seen compared in full
#   default, -n, -nn, -v, -e        time of day only (the text has no date)
#   -ttttt (since first packet)     microseconds since the first packet (the pcap's times
#                                   less its first packet's)
#   -ttt (since previous packet)    times not compared, everything else is: a -ttt line looks
#                                   like a -ttttt line, so a reader cannot always tell the
#                                   two apart before times stop increasing
# Mode "counts" (exit status, summary dns_queries and icmp_errors, finding ids and servers)
# is there for variants whose times cannot be related to the pcap's at all.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() {
    if [ "${CI:-}" = "true" ]; then
        echo "text_vs_pcap: FAIL (CI=true, no skipping): $*" >&2
        exit 1
    fi
    echo "text_vs_pcap: SKIP: $*" >&2
    exit 77
}

[ $# -ge 1 ] || { echo "usage: $0 NETTRIAGE [PCAP...]" >&2; exit 2; }
nettriage=$(realpath "$1")
shift
[ -x "$nettriage" ] || { echo "text_vs_pcap: $nettriage: not an executable" >&2; exit 1; }
for t in tcpdump jq timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed (scripts/install-deps)"
done

pcaps=("$@")
if [ ${#pcaps[@]} -eq 0 ]; then
    pcaps=("$repo/examples/port-unreachable.pcap")
    samples=${NT_SAMPLES_DIR:-$repo/../shared/samples}
    if [ -d "$samples" ]; then
        for p in "$samples"/*.pcap; do
            [ -f "$p" ] && pcaps+=("$p")
        done
    fi
fi

# Times in tcpdump's text must be the UTC times nettriage prints for the pcap.
export TZ=UTC

# Without -n tcpdump looks up a name for every address. Those lookups must not leave the
# machine: run tcpdump in an empty network namespace, where they fail at once. When no
# namespace can be made, the variants that would resolve names are left out.
isolate=()
if unshare -n true 2>/dev/null; then
    isolate=(unshare -n)
elif unshare -rn true 2>/dev/null; then
    isolate=(unshare -rn)
fi

# name | tcpdump flags | time mode (full, tod, rel, none, counts)
variants=(
    "default||tod"
    "n|-n|tod"
    "nn|-nn|tod"
    "tttt|-tttt|full"
    "tt|-tt|full"
    "v|-v|tod"
    "e|-e|tod"
    "nn-v-e-tttt|-nn -v -e -tttt|full"
    "ttttt|-ttttt|rel"
    "ttt|-ttt|none"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/nt-text-vs-pcap.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The part of a report both readers must agree on, for a time mode.
project='
# Microseconds since the epoch of an ISO time, or since the first packet of a "+S.UUUUUUs".
def usec: if startswith("+") then ltrimstr("+") | rtrimstr("s") | split(".")
                                  | (.[0] | tonumber) * 1000000 + (.[1] | tonumber)
          else (split(".") as $p
                | ($p[0] + "Z" | strptime("%Y-%m-%dT%H:%M:%SZ") | mktime) * 1000000
                  + ($p[1] | rtrimstr("Z") | tonumber)) end;
(.inputs[0].first_packet) as $first0
| def t: if . == null then null
       elif $mode == "full" then .
       elif $mode == "tod" then sub("^.*T"; "") | sub("Z$"; "")
       elif $mode == "rel" then
         (if startswith("+") then usec else usec - ($first0 | usec) end)
       else null end;
if $mode == "counts" then
  { exit: $status,
    summary: (.summary | {dns_queries, icmp_errors}),
    findings: ([.findings[]? | {id, server}] | sort_by(.id, .server)) }
else
  { exit: $status,
    summary: (.summary | {dns_queries, dns_responses, dns_lookups, answered, icmp_errors,
                          icmp_errors_matched, unanswered, findings}),
    findings: ([.findings[]? | {id, server, lookups, packets, query_packets, error_packets,
                               clients: (.clients | sort?),
                               query_names: (.query_names | sort?),
                               first_seen: (.first_seen | t), last_seen: (.last_seen | t)}]
               | sort_by(.id, .server)) }
end'

# run INPUT OUT: nettriage JSON report of INPUT into OUT; its status into $status.
run() {
    status=0
    timeout 60 "$nettriage" report --format json "$1" >"$2" 2>"$2.err" || status=$?
}

fails=0
compared=0
for pcap in "${pcaps[@]}"; do
    base=$(basename "$pcap" .pcap)
    if [ ! -r "$pcap" ]; then
        echo "FAIL $base: cannot read $pcap" >&2
        fails=$((fails + 1))
        continue
    fi
    ref="$work/$base.pcap.json"
    run "$pcap" "$ref"
    ref_status=$status
    if [ "$ref_status" -ge 2 ] || ! jq -se 'length == 1 and (.[0] | type == "object")' "$ref" >/dev/null 2>&1; then
        echo "FAIL $base: nettriage on the pcap: exit $ref_status, stderr: $(head -c 500 "$ref.err")" >&2
        fails=$((fails + 1))
        continue
    fi
    if ! jq -e '.inputs[0].kind == "pcap"' "$ref" >/dev/null; then
        echo "FAIL $base: pcap input not reported as kind \"pcap\"" >&2
        fails=$((fails + 1))
    fi
    echo "== $base: pcap: exit $ref_status, findings $(jq -c '[.findings[]?.id]' "$ref")"

    for v in "${variants[@]}"; do
        IFS='|' read -r name flags mode <<<"$v"
        read -r -a flag_array <<<"$flags"
        runner=()
        if [[ " $flags " != *" -n "* && " $flags " != *" -nn "* ]]; then
            if [ ${#isolate[@]} -eq 0 ]; then
                echo "   $name: skipped (cannot isolate tcpdump's name lookups: no unshare -n)"
                continue
            fi
            runner=("${isolate[@]}")
        fi
        text="$work/$base.$name.txt"
        if ! "${runner[@]}" tcpdump "${flag_array[@]}" -r "$pcap" >"$text" 2>"$text.tcpdump.err"; then
            echo "FAIL $base/$name: tcpdump ${flags}: $(cat "$text.tcpdump.err")" >&2
            fails=$((fails + 1))
            continue
        fi
        out="$work/$base.$name.json"
        run "$text" "$out"
        compared=$((compared + 1))
        if [ "$status" -ge 2 ] || ! jq -se 'length == 1 and (.[0] | type == "object")' "$out" >/dev/null 2>&1; then
            echo "FAIL $base/$name (tcpdump $flags): nettriage exit $status, stderr: $(head -c 500 "$out.err")" >&2
            fails=$((fails + 1))
            continue
        fi
        jq -S --arg mode "$mode" --argjson status "$ref_status" "$project" "$ref" >"$work/a.json"
        jq -S --arg mode "$mode" --argjson status "$status" "$project" "$out" >"$work/b.json"
        kind=$(jq -r '.inputs[0].kind' "$out")
        if [ "$kind" != "tcpdump text" ]; then
            echo "FAIL $base/$name: text input reported as kind \"$kind\", expected \"tcpdump text\"" >&2
            fails=$((fails + 1))
        fi
        if diff -u --label "$base.pcap" --label "$base.txt (tcpdump $flags, times: $mode)" \
            "$work/a.json" "$work/b.json" >"$work/diff"; then
            echo "   $name (tcpdump $flags): same ($mode)"
        else
            echo "FAIL $base/$name: the text reader disagrees with the pcap reader:" >&2
            cat "$work/diff" >&2
            echo "   first lines of the text:" >&2
            head -n 4 "$text" | sed 's/^/     | /' >&2
            fails=$((fails + 1))
        fi
    done
done

if [ "$fails" -gt 0 ]; then
    echo "text_vs_pcap: $fails failure(s) over ${#pcaps[@]} capture(s), $compared text variant(s)" >&2
    exit 1
fi
echo "text_vs_pcap: ${#pcaps[@]} capture(s), $compared text variant(s): all agree"
