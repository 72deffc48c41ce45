#!/usr/bin/env bash
# run.sh: golden tests. Renders every case in cases.txt as Markdown and JSON (TZ=UTC), and as
# NDJSON, terminal text (without colour) or HTML for cases whose name ends in "+ndjson", "+text"
# or "+html" (in any order, any number), as `nettriage explain` for "+explain", `explain
# --only-problems` for "+explainp" and `explain --format json` for "+explainj" (without the
# case's report options), and compares byte for byte with tests/golden/expected/. With --regenerate, rewrites the expected files instead (read the diff
# before committing them). An NDJSON case is also checked against the JSON report with jq: one
# line per DNS lookup (summary.dns_lookups), per ICMP error (summary.icmp_errors) and per
# finding, then the summary line.
#   tests/golden/run.sh NETTRIAGE [--regenerate]
set -euo pipefail
bin=$(realpath "$1")
regen=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export TZ=UTC LC_ALL=C
# NDJSON events name their sensor (observer.*, the host name by default) and carry an id derived
# from their content: a fixed host name keeps them the same on every machine.
export NETTRIAGE_HOSTNAME=golden-host
pass=0 fail=0 skip=0
# Prints what differs between a JSON report ($1) and the NDJSON stream of the same run ($2):
# nothing when every line is one JSON object and the counts agree.
ndjson_counts() {
    local lines objects got want
    lines=$(wc -l <"$2")
    objects=$(jq -c 'select(type == "object")' "$2" | wc -l) || { echo "not JSON"; return; }
    [ "$lines" -eq "$objects" ] || { echo "$lines lines but $objects objects"; return; }
    got=$(jq -sc '[(map(select(.event.dataset == "nettriage.dns")) | length),
                   (map(select(.event.dataset == "nettriage.icmp")) | length),
                   (map(select(.event.dataset == "nettriage.finding")) | length),
                   (map(select(.event.dataset == "nettriage.summary")) | length),
                   (last | .event.dataset)]' "$2")
    # A lookup event for every lookup, those known only from an ICMP quote included.
    want=$(jq -c '[.summary.dns_lookups + .summary.lookups_from_quotes, .summary.icmp_errors,
                   (.findings | length), 1,
                   "nettriage.summary"]' "$1")
    [ "$got" = "$want" ] || echo "[lookups, ICMP errors, findings, summaries, last] $got, want $want"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while read -r name input rest; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    fmts=(md json)
    # Suffixes add formats: +ndjson, +text (terminal text, --color never), +html, +explain,
    # +explainp, +explainj.
    while [[ "$name" =~ ^(.*)\+(ndjson|text|html|explainp|explainj|explain)$ ]]; do
        name=${BASH_REMATCH[1]}
        fmts+=("${BASH_REMATCH[2]}")
    done
    if [ ! -e "$input" ]; then
        echo "SKIP $name: $input is absent (../shared not present here)"
        skip=$((skip + 1))
        continue
    fi
    extra=()
    eval "extra=($rest)"
    for fmt in "${fmts[@]}"; do
        out="$tmp/$name.$fmt"
        status=0
        color=()
        [ "$fmt" = text ] && color=(--color never)
        if [ "$fmt" = explain ]; then
            "$bin" explain "$input" >"$out" 2>"$tmp/err" || status=$?
        elif [ "$fmt" = explainp ]; then
            "$bin" explain --only-problems "$input" >"$out" 2>"$tmp/err" || status=$?
        elif [ "$fmt" = explainj ]; then
            "$bin" explain --format json "$input" >"$out" 2>"$tmp/err" || status=$?
        else
            "$bin" report --format "$fmt" "${color[@]}" "${extra[@]}" "$input" >"$out" 2>"$tmp/err" ||
                status=$?
        fi
        if [ "$status" -ge 2 ]; then
            echo "FAIL $name.$fmt: exit status $status: $(cat "$tmp/err")"
            fail=$((fail + 1))
            continue
        fi
        exp="tests/golden/expected/$name.$fmt"
        if [ "$regen" = "--regenerate" ]; then
            cp "$out" "$exp"
            echo "WROTE $exp"
            continue
        fi
        if [ ! -f "$exp" ]; then
            echo "FAIL $name.$fmt: no expected file $exp (run with --regenerate)"
            fail=$((fail + 1))
        elif diff -u "$exp" "$out" >"$tmp/diff"; then
            pass=$((pass + 1))
        else
            echo "FAIL $name.$fmt: differs from $exp:"
            head -60 "$tmp/diff"
            fail=$((fail + 1))
        fi
        if [ "$fmt" = ndjson ] && [ "$regen" != "--regenerate" ]; then
            if ! command -v jq >/dev/null; then
                echo "SKIP $name.ndjson counts: jq is not installed (scripts/install-deps)"
            elif why=$(ndjson_counts "$tmp/$name.json" "$out") && [ -z "$why" ]; then
                pass=$((pass + 1))
            else
                echo "FAIL $name.ndjson: disagrees with $name.json: $why"
                fail=$((fail + 1))
            fi
        fi
    done
done <tests/golden/cases.txt
echo "golden: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
