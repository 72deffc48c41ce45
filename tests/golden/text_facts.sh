#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq programs are single-quoted on purpose
# golden text_facts: a report made from tcpdump text printed without -v states no fact that the
# text lacked. For each capture, prints it with `tcpdump -nn -r` (no -v), runs `nettriage report
# --format json` on the text and on the pcap, and walks every sentence of every finding of the
# text's report (title, summary, facts, each cause's text and reason, next steps). A sentence
# fails when it states one of the facts below, which tcpdump prints only with -v (or -vv):
#
#   ttl         a TTL or hop limit value           (the IP header: -v)
#   dns-id      a DNS id read from an ICMP quote   (the quoted datagram: -v)
#   question    an answer "carried no question"    (an answer's question: -vv; only "[0q]"
#                                                   says none, and that is in the text)
#   ip-id       an IP identification               (-v)
#   length      the quoted datagram's total length (-v)
#   checksum    a checksum                         (-vv)
#
# The checker is proved on the pcap reports first: sentences the pcap path makes from facts the
# text lacks must be caught (it fails when they are not), so the test cannot pass by matching
# nothing.
#
#   tests/golden/text_facts.sh NETTRIAGE [PCAP...]
#
# Default captures: tests/captures/*/*.pcap and examples/*.pcap. Exit 0 clean, 1 a sentence
# states a fact the text lacked (each printed), 77 tcpdump or jq missing (a failure when
# CI=true).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() {
    if [ "${CI:-}" = "true" ]; then
        echo "text_facts: FAIL (CI=true, no skipping): $*" >&2
        exit 1
    fi
    echo "text_facts: SKIP: $*" >&2
    exit 77
}

[ $# -ge 1 ] || { echo "usage: $0 NETTRIAGE [PCAP...]" >&2; exit 2; }
nettriage=$(realpath "$1")
shift
[ -x "$nettriage" ] || { echo "text_facts: $nettriage: not an executable" >&2; exit 1; }
for t in tcpdump jq timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed (scripts/install-deps)"
done

pcaps=("$@")
if [ ${#pcaps[@]} -eq 0 ]; then
    for p in "$repo"/tests/captures/*/*.pcap "$repo"/examples/*.pcap; do
        [ -f "$p" ] && pcaps+=("$p")
    done
fi
export TZ=UTC LC_ALL=C

work=$(mktemp -d "${TMPDIR:-/tmp}/nt-text-facts.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Every sentence of every finding, one per line: "FINDING-ID<TAB>PART<TAB>SENTENCE".
sentences='
.findings[]? as $f
| ([["title", $f.title], ["summary", $f.summary]]
   + [$f.facts[]? | ["fact", .]]
   + [$f.causes[]? | (["cause", .text], ["cause reason", .reason])]
   + [$f.next_steps[]? | ["next step", .]])[]
| select(.[1] != null)
| [$f.id, .[0], (.[1] | gsub("[\t\n]"; " "))] | @tsv'

# check TEXT_FILE SENTENCES_FILE: prints "KIND<TAB>line" for each sentence stating a fact the
# text lacks.
check() {
    local text=$1 in=$2 zero_q=0
    grep -q '\[0q\]' "$text" && zero_q=1
    awk -F '\t' -v zero_q="$zero_q" '
    {
        s = $3
        kind = ""
        if (s ~ /(TTL|hop limit|Hop limit)s?( of| of only| falling from| was| is)? [0-9]/ ||
            s ~ /[0-9]+ (different|distinct) small (TTL|hop limit)/ ||
            s ~ /(TTL|hop limit) [0-9]+ down to [0-9]+/)
            kind = "ttl"
        else if (s ~ /quotes? the DNS id|ports and DNS id|DNS id each one quotes|quotes the query it answers/)
            kind = "dns-id"
        else if (s ~ /carried no question section/ && !zero_q)
            kind = "question"
        else if (s ~ /IP (id|ID|identification)|identification field/)
            kind = "ip-id"
        else if (s ~ /total length|quoted [0-9]+-byte|quoted IP header/)
            kind = "length"
        else if (s ~ /checksum/)
            kind = "checksum"
        if (kind != "")
            print kind "\t" $1 " (" $2 "): " s
    }' "$in"
}

fails=0
proved=0
n=0
for pcap in "${pcaps[@]}"; do
    base=$(basename "$(dirname "$pcap")")-$(basename "$pcap" .pcap)
    text="$work/$base.txt"
    if ! tcpdump -nn -r "$pcap" >"$text" 2>"$text.err"; then
        echo "FAIL $base: tcpdump -nn: $(cat "$text.err")" >&2
        fails=$((fails + 1))
        continue
    fi
    for kind in pcap txt; do
        in=$pcap
        [ "$kind" = txt ] && in=$text
        status=0
        timeout 60 "$nettriage" report --format json "$in" >"$work/$base.$kind.json" \
            2>"$work/$base.$kind.err" || status=$?
        # Status 2 with a report is a partial read (lines tcpdump could not decode, such as
        # "[|domain]", are counted as not read): its sentences are checked like any other.
        if [ "$status" -eq 2 ] && [ "$kind" = txt ] &&
            jq -e '.summary.unread_traffic > 0' "$work/$base.$kind.json" >/dev/null 2>&1; then
            status=0
        fi
        if [ "$status" -ge 2 ]; then
            echo "FAIL $base ($kind): nettriage exit $status: $(head -c 300 "$work/$base.$kind.err")" >&2
            fails=$((fails + 1))
            continue 2
        fi
        jq -r "$sentences" "$work/$base.$kind.json" >"$work/$base.$kind.tsv"
    done
    n=$((n + 1))
    # The pcap report may state these facts; count what the checker catches there.
    caught=$(check "$text" "$work/$base.pcap.tsv" | wc -l)
    proved=$((proved + caught))
    if check "$text" "$work/$base.txt.tsv" >"$work/$base.bad"; [ -s "$work/$base.bad" ]; then
        echo "FAIL $base: the report of tcpdump -nn text states facts the text lacks:" >&2
        sed 's/^/   /' "$work/$base.bad" >&2
        fails=$((fails + 1))
    else
        echo "   $base: $(wc -l <"$work/$base.txt.tsv") sentences of the text's report checked"
    fi
done

# The checker must see the facts where the pcap path states them (a checker that matches
# nothing would pass every text report).
if [ $# -eq 0 ] && [ "$proved" -eq 0 ]; then
    echo "FAIL: the checker caught no fact in any pcap report; it cannot be trusted" >&2
    fails=$((fails + 1))
fi
if [ "$fails" -gt 0 ]; then
    echo "text_facts: $fails failure(s) over $n capture(s)" >&2
    exit 1
fi
echo "text_facts: $n capture(s): no text report states a fact its text lacked ($proved such sentences in the pcap reports)"
