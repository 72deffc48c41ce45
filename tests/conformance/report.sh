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
for s in zeek_dns icmp_context tcpdump hard_cases dns_golds outside; do
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
    echo "\"compared\" counts rows (Zeek, tcpdump, dnscap rows), per-capture counts, text variants or named"
    echo "checks; \"known differences\" counts those that differ only in ways listed in"
    echo "\`tests/conformance/differences.txt\` (a row may have several listed fields)."
    echo
    echo "### Known differences by reason"
    echo
    echo "Lines of \`tests/conformance/differences.txt\` per source and kind of reason:"
    echo
    echo "| source | deliberate | not yet supported |"
    echo "|---|---:|---:|"
    grep -v '^#' "$here/differences.txt" | awk -F'\t' 'NF >= 7 {
            if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
            if ($7 ~ /^deliberate:/) d[$1]++; else if ($7 ~ /^not yet supported:/) g[$1]++; else o[$1]++ }
        END { for (i = 1; i <= n; i++) printf "| %s | %d | %d |\n", order[i], d[order[i]], g[order[i]] }'
    echo
    echo "Each group below is one reason, with the differences it covers. \"reference\" is the other"
    echo "tool's value; for \`tcpdump\` and \`tcpdump-rows\` it is nettriage's reading of the capture,"
    echo "and \"nettriage\" its reading of tcpdump's text of it."
    # Groups in the order of their first line; deliberate ones first, then the gaps.
    grep -v '^#' "$here/differences.txt" | awk -F'\t' '
        function esc(s) { gsub(/\|/, "\\|", s); return s }
        NF >= 7 {
            if (!($7 in cnt)) { order[++n] = $7 }
            cnt[$7]++
            rows[$7] = rows[$7] sprintf("| %s | %s | %s | %s | %s | %s |\n", esc($1), esc($2), esc($3), esc($4), esc($5), esc($6))
        }
        END {
            for (pass = 1; pass <= 3; pass++) {
                if (pass == 1) title = "Deliberate differences"
                else if (pass == 2) title = "Not yet supported (gaps to close)"
                else title = "Other"
                shown = 0
                for (i = 1; i <= n; i++) {
                    r = order[i]
                    k = (r ~ /^deliberate:/) ? 1 : (r ~ /^not yet supported:/) ? 2 : 3
                    if (k != pass) continue
                    if (!shown) { printf "\n#### %s\n", title; shown = 1 }
                    t = r; sub(/^(deliberate|not yet supported): /, "", t)
                    printf "\n- **%s** (%d)\n\n", esc(t), cnt[r]
                    print "  | source | capture | key | field | reference | nettriage |"
                    print "  |---|---|---|---|---|---|"
                    s = rows[r]; gsub(/\n\| /, "\n  | ", s); printf "  %s", s
                }
            }
        }'
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
