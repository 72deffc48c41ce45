#!/usr/bin/env bash
# Runs every conformance suite, prints the table per source and, with --update-doc, writes the
# same figures and the list of known differences into docs/conformance.md (between the
# figures markers). Usage: report.sh NETTRIAGE CORPORA_DIR [--update-doc]
set -u
here=$(cd "$(dirname "$0")" && pwd)
nt=${1:?usage: report.sh NETTRIAGE CORPORA_DIR [--update-doc]}
corpora=${2:?usage: report.sh NETTRIAGE CORPORA_DIR [--update-doc]}
fig=$(mktemp); trap 'rm -f "$fig" "$fig.md"' EXIT
status=0
for s in zeek_dns icmp_context tcpdump hard_cases; do
    bash "$here/$s.sh" "$nt" "$corpora" "$fig" >/dev/null 2>&1
    rc=$?
    [ "$rc" = 77 ] && { echo "skipped: corpora, jq or binary missing"; exit 77; }
    [ "$rc" = 0 ] || status=1
done
{
    echo "| source | captures | compared | agreed | known differences | unlisted | note |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$fig"
    echo
    echo "Known differences (\`tests/conformance/differences.txt\`):"
    echo
    echo "| source | capture | key | field | reference | nettriage | reason |"
    echo "|---|---|---|---|---|---|---|"
    grep -v '^#' "$here/differences.txt" | awk -F'\t' '{for (i=1;i<=7;i++) gsub(/\|/, "\\|", $i); printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}'
} >"$fig.md"
column -t -s $'\t' "$fig" 2>/dev/null || cat "$fig"
if [ "${3:-}" = --update-doc ]; then
    doc=$here/../../docs/conformance.md
    awk -v f="$fig.md" '
        /<!-- figures:begin -->/ {print; while ((getline l < f) > 0) print l; skip=1; next}
        /<!-- figures:end -->/ {skip=0}
        !skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
    echo "updated $doc"
fi
exit "$status"
