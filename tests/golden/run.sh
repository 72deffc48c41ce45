#!/usr/bin/env bash
# run.sh: golden tests. Renders every case in cases.txt as Markdown and JSON (TZ=UTC) and
# compares byte for byte with tests/golden/expected/. With --regenerate, rewrites the expected
# files instead (read the diff before committing them).
#   tests/golden/run.sh NETTRIAGE [--regenerate]
set -euo pipefail
bin=$(realpath "$1")
regen=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export TZ=UTC LC_ALL=C
pass=0 fail=0 skip=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while read -r name input rest; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [ ! -e "$input" ]; then
        echo "SKIP $name: $input is absent (../shared not present here)"
        skip=$((skip + 1))
        continue
    fi
    eval "extra=($rest)"
    for fmt in md json; do
        out="$tmp/$name.$fmt"
        status=0
        "$bin" report --format "$fmt" "${extra[@]}" "$input" >"$out" 2>"$tmp/err" || status=$?
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
    done
done <tests/golden/cases.txt
echo "golden: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
