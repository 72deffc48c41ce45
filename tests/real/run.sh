#!/usr/bin/env bash
# Real-world corpus (issue 8): tcpdump text pasted in public threads while people
# troubleshot DNS and connection failures, each with the verdict the thread (or an expert
# reading it) reached. See tests/real/README.md for the metadata format.
#
#   tests/real/run.sh NETTRIAGE [--markdown]
#
# Runs `NETTRIAGE report --format json` on every case listed in tests/real/cases.tsv and
# compares its finding ids with the expected verdict:
#   PASS   the verdict holds
#   XFAIL  the verdict does not hold and the case is marked `xfail: <gap>` (a known gap)
#   FAIL   the verdict does not hold without a mark, or a marked case now passes (XPASS:
#          remove the mark), or the metadata is inconsistent
# Exit status: 0 when there is no FAIL, 1 otherwise, 77 when jq is missing (CI=true: 1).
# --markdown prints the result table in Markdown (for reports) instead of plain columns.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 NETTRIAGE [--markdown]" >&2
    exit 2
fi
bin=$1
markdown=0
if [ "${2:-}" = "--markdown" ]; then
    markdown=1
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tsv=$here/cases.tsv
casedir=$here/cases

if ! command -v jq >/dev/null 2>&1; then
    echo "real: jq is not installed" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
    exit 77
fi
if [ ! -x "$bin" ]; then
    echo "real: $bin is not an executable" >&2
    exit 1
fi
if [ ! -r "$tsv" ]; then
    echo "real: $tsv is missing" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

npass=0
nxfail=0
nfail=0
declare -A listed=()
problems=()

# has LIST ID: is ID one of the comma-separated LIST?
has() {
    case ",$1," in
    *",$2,"*) return 0 ;;
    *) return 1 ;;
    esac
}

row() { # id expected got verdict note
    if [ "$markdown" = 1 ]; then
        printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"
    else
        printf '%-5s %-7s %-34s %-34s %s\n' "$4" "$1" "$2" "$3" "$5"
    fi
}

if [ "$markdown" = 1 ]; then
    printf '| case | expected | nettriage said | result | gap (xfail) or note |\n'
    printf '|---|---|---|---|---|\n'
fi

lineno=0
while IFS=$'\t' read -r id file expect reject xfail url title diagnosis notes extra; do
    lineno=$((lineno + 1))
    case "$id" in
    '' | '#'*) continue ;;
    id) [ "$lineno" = 1 ] && continue ;;
    esac
    # Metadata checks: every field present, a real source, a known file, no stray column.
    if [ -n "${extra:-}" ] || [ -z "${notes:-}" ]; then
        problems+=("cases.tsv line $lineno ($id): expected 9 tab-separated fields")
        nfail=$((nfail + 1))
        continue
    fi
    case "$url" in
    https://* | http://*) ;;
    *)
        problems+=("cases.tsv line $lineno ($id): source URL missing")
        nfail=$((nfail + 1))
        continue
        ;;
    esac
    if [ -z "$title" ] || [ "$title" = - ] || [ -z "$diagnosis" ] || [ "$diagnosis" = - ]; then
        problems+=("cases.tsv line $lineno ($id): thread title or diagnosis missing")
        nfail=$((nfail + 1))
        continue
    fi
    if [ ! -f "$casedir/$file" ]; then
        problems+=("cases.tsv line $lineno ($id): $file not found in cases/")
        nfail=$((nfail + 1))
        continue
    fi
    if [ -n "${listed[$file]:-}" ]; then
        problems+=("cases.tsv line $lineno ($id): $file listed twice")
        nfail=$((nfail + 1))
        continue
    fi
    listed[$file]=1
    if [ "$expect" = healthy ] && [ "$reject" != - ]; then
        problems+=("cases.tsv line $lineno ($id): 'healthy' already rejects every finding")
        nfail=$((nfail + 1))
        continue
    fi

    # Run nettriage: 0 no problem, 1 problems found, 2 input error.
    "$bin" report --format json "$casedir/$file" >"$tmp/out.json" 2>"$tmp/err"
    rc=$?
    if { [ "$rc" = 0 ] || [ "$rc" = 1 ]; } && jq -e . "$tmp/out.json" >/dev/null 2>&1; then
        got=$(jq -r '[.findings[].id] | unique | join(",")' "$tmp/out.json")
        shown=${got:-healthy}
        readinfo=$(jq -r '.inputs[0] | "\(.packets) pkts, \(.unreadable_lines)/\(.lines) lines unread"' \
            "$tmp/out.json")
        ok=1
        if [ "$expect" = healthy ]; then
            [ -z "$got" ] || ok=0
        else
            IFS=, read -r -a want <<<"$expect"
            for w in "${want[@]}"; do
                has "$got" "$w" || ok=0
            done
        fi
        if [ "$reject" != - ]; then
            IFS=, read -r -a nope <<<"$reject"
            for n in "${nope[@]}"; do
                if has "$got" "$n"; then ok=0; fi
            done
            expect_shown="$expect, not $reject"
        else
            expect_shown=$expect
        fi
    else
        ok=0
        shown="error (exit $rc)"
        readinfo=$(head -n 1 "$tmp/err" | sed "s|$casedir/||")
        expect_shown=$expect
        [ "$reject" != - ] && expect_shown="$expect, not $reject"
    fi

    if [ "$xfail" = - ]; then
        if [ "$ok" = 1 ]; then
            row "$id" "$expect_shown" "$shown" PASS "$readinfo"
            npass=$((npass + 1))
        else
            row "$id" "$expect_shown" "$shown" FAIL "$readinfo"
            nfail=$((nfail + 1))
        fi
    else
        reason=${xfail#xfail: }
        if [ "$ok" = 1 ]; then
            row "$id" "$expect_shown" "$shown" FAIL "XPASS, remove the mark: $reason"
            nfail=$((nfail + 1))
        else
            row "$id" "$expect_shown" "$shown" XFAIL "$reason ($readinfo)"
            nxfail=$((nxfail + 1))
        fi
    fi
done <"$tsv"

# Every pasted case must be described.
for f in "$casedir"/*.txt; do
    [ -e "$f" ] || continue
    b=$(basename "$f")
    if [ -z "${listed[$b]:-}" ]; then
        problems+=("cases/$b has no line in cases.tsv")
        nfail=$((nfail + 1))
    fi
done

for p in "${problems[@]+"${problems[@]}"}"; do
    echo "FAIL  $p"
done
echo "real: $npass passed, $nxfail expected failures, $nfail failed"
[ "$nfail" = 0 ]
