#!/usr/bin/env bash
# golden claims: sentences the evidence must support, and the report's shape on a busy capture,
# checked on small crafted tcpdump-text inputs (issue 8):
#
#   busy       126 clients of one server, 5 small servers, one server failing two ways:
#              the largest finding gives the title and comes first, lists are capped with a
#              count ("and 116 more"), Part 1 gives at most 3 summaries, no address twice in
#              the "Affected protocol" sentence, and the report stays short.
#   skipped    a line that is not tcpdump output: no "decoded every packet"; the skip is said.
#   quotes     text without -v: ICMP errors are not said to be matched by what they quote.
#   length     a 254-byte ICMP error for a 24-byte query (examples/pasted-log.txt): the length
#              is said not to fit the datagram, not explained as a plausible quote.
#   plurals    no "1 queries" (a count of 1 with a plural noun) in any Markdown or JSON report
#              of these inputs and of tests/captures.
#
#   tests/golden/claims.sh NETTRIAGE
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 NETTRIAGE" >&2; exit 2; }
nettriage=$(realpath "$1")
export TZ=UTC LC_ALL=C
work=$(mktemp -d "${TMPDIR:-/tmp}/nt-claims.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
fail() {
    echo "FAIL $*" >&2
    fails=$((fails + 1))
}
report() { # report FORMAT INPUT OUT
    local status=0
    "$nettriage" report --format "$1" "$2" >"$3" 2>"$3.err" || status=$?
    [ "$status" -lt 2 ] || fail "$2: nettriage exit $status: $(head -c 300 "$3.err")"
}

# A query from CLIENT to SERVER at second S (id ID), answered by port unreachable when ERR=1.
exchange() { # S CLIENT SERVER ID ERR
    printf '10:00:%02d.%06d IP %s.40000 > %s.53: %d+ A? a.example. (27)\n' \
        "$(($1 / 1000000))" "$(($1 % 1000000))" "$2" "$3" "$4"
    if [ "$5" = 1 ]; then
        printf '10:00:%02d.%06d IP %s > %s: ICMP %s udp port 53 unreachable, length 63\n' \
            "$(($1 / 1000000))" "$(($1 % 1000000 + 500))" "$3" "$2" "$3"
    fi
}

# --- busy ---------------------------------------------------------------------------------
{
    t=1000000 id=1
    # Small findings first in time: 5 servers, one lookup each (few enough that every server
    # is named in the "Affected protocol" sentence).
    for s in $(seq 1 5); do
        exchange $t 10.2.0.1 "10.9.0.$s" $id 1
        t=$((t + 1000)) id=$((id + 1))
    done
    # 10.9.0.1 also leaves a lookup unanswered: a second finding about the same server.
    exchange $t 10.2.0.1 10.9.0.1 $id 0
    t=$((t + 1000)) id=$((id + 1))
    # The largest: 126 clients of 10.0.0.53.
    for c in $(seq 1 126); do
        exchange $t "10.1.0.$c" 10.0.0.53 $id 1
        t=$((t + 1000)) id=$((id + 1))
    done
    # The capture runs on past the timeout, so the silent lookup is unanswered.
    printf '10:00:59.000000 IP 10.2.0.1.40001 > 10.0.0.99.80: Flags [S], seq 1, win 64240, length 0\n'
} >"$work/busy.txt"
report md "$work/busy.txt" "$work/busy.md"
report json "$work/busy.txt" "$work/busy.json"
lines=$(wc -l <"$work/busy.md")
[ "$lines" -le 400 ] || fail "busy: the Markdown report has $lines lines (at most 400 expected)"
big_title=$(jq -r '[.findings[] | select(.server == "10.0.0.53")][0].title' "$work/busy.json")
head -1 "$work/busy.md" | grep -qF "# Incident report: $big_title" ||
    fail "busy: the title is not the largest finding's: $(head -1 "$work/busy.md")"
grep -m1 '^#### 1\. ' "$work/busy.md" | grep -q '10\.0\.0\.53 udp/53$' ||
    fail "busy: the first finding is not the largest: $(grep -m1 '^#### 1\. ' "$work/busy.md")"
grep -q '^- Clients: .* and 116 more$' "$work/busy.md" ||
    fail "busy: the client list is not capped with a count: $(grep -m1 '^- Clients:' "$work/busy.md" | head -c 200)"
summaries=$(sed -n '/^## Part 1/,/^## Part 2/p' "$work/busy.md" | grep -c '^DNS over UDP port 53 failed' || true)
[ "$summaries" -le 3 ] || fail "busy: Part 1 gives $summaries finding summaries (at most 3)"
sed -n '/^## Part 1/,/^## Part 2/p' "$work/busy.md" | grep -q 'more findings, smaller: ' ||
    fail "busy: Part 1 does not summarise the smaller findings"
while IFS= read -r l; do
    dup=$(grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' <<<"$l" | sort | uniq -d)
    [ -z "$dup" ] || fail "busy: an address twice in one list: $dup in: $l"
done < <(grep -E '^Affected protocol|^- Clients:' "$work/busy.md")
# The JSON keeps every client.
[ "$(jq '[.findings[] | select(.server == "10.0.0.53")][0].clients | length' "$work/busy.json")" = 126 ] ||
    fail "busy: the JSON report does not list all 126 clients"

# --- skipped ------------------------------------------------------------------------------
{
    exchange 1000000 10.2.0.1 10.9.0.1 1 1
    printf '\001\002\003 not tcpdump output\n' # control bytes: a line no reader takes
    exchange 1001000 10.2.0.1 10.9.0.1 2 1
} >"$work/skipped.txt"
report md "$work/skipped.txt" "$work/skipped.md"
if grep -q 'decoded every packet' "$work/skipped.md"; then
    fail "skipped: says it decoded every packet although a line was skipped"
fi
grep -q 'decoded the 4 packets it read (1 line of text could not be read and was skipped)' \
    "$work/skipped.md" || fail "skipped: the skipped line is not said in What was done"

# --- quotes -------------------------------------------------------------------------------
if grep -q 'each one quotes\|quotes the query it answers\|ports and DNS id' "$work/skipped.md"; then
    fail "quotes: text without -v, yet errors are said to be matched by what they quote"
fi
grep -q 'no DNS id is shown' "$work/skipped.md" ||
    fail "quotes: the matching by destination, protocol and port is not said"

# --- length -------------------------------------------------------------------------------
report md "$repo/examples/pasted-log.txt" "$work/pasted.md"
# shellcheck disable=SC2016  # the backticks are a Markdown code span, not a command
grep -q '| `length 254` | The ICMP message is 254 bytes long, more than its 8-byte header plus the whole 52-byte datagram' \
    "$work/pasted.md" || fail "length: a 254-byte error for a 24-byte query is not judged inconsistent"

# --- plurals ------------------------------------------------------------------------------
nouns='queries|lookups|errors|packets|clients|answers|messages|servers|names|attempts|SYNs|datagrams|routers|responses|retransmissions|transmissions|findings|lines'
for p in "$repo"/tests/captures/*/*.pcap "$repo"/examples/*.pcap; do
    b=$(basename "$(dirname "$p")")-$(basename "$p" .pcap)
    report md "$p" "$work/p-$b.md"
    report json "$p" "$work/p-$b.json"
done
for f in "$work"/*.md "$work"/*.json; do
    if hits=$(grep -noE "(^|[^0-9.,:/-])1 ([A-Za-z]+ )?($nouns)\b" "$f"); then
        fail "plurals: $(basename "$f"): $(head -3 <<<"$hits")"
    fi
done

if [ "$fails" -gt 0 ]; then
    echo "claims: $fails failure(s)" >&2
    exit 1
fi
echo "claims: busy report $lines lines; all checks passed"
