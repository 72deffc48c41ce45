#!/usr/bin/env bash
# Makes the tshark reference table for ../shared/corpora/outside/ (outside-tshark.tsv, read by
# outside.sh): per capture, the counts tshark gives that nettriage's JSON summary also has.
# tshark is slow on these captures (about a minute for all of them on a loaded 2-core machine),
# so the table is stored and made again only on request:
#   outside_tshark.sh CORPORA_DIR            print the table
#   outside_tshark.sh CORPORA_DIR --write    rewrite tests/conformance/outside-tshark.tsv
#   outside_tshark.sh CORPORA_DIR --check    compare the stored table with what this tshark
#                                            says (exit 1 on a difference, 77 without tshark
#                                            or with another tshark version)
# What is counted, and why, is in docs/conformance.md ("Captures from other projects").
set -u
export LC_ALL=C TZ=GMT0
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: outside_tshark.sh CORPORA_DIR [--write|--check]}
mode=${2:-print}
table=$here/outside-tshark.tsv
sources=$corpora/outside/SOURCES.tsv

[ -f "$sources" ] || { echo "SKIP: $sources not found"; exit 77; }
command -v tshark >/dev/null 2>&1 || { echo "SKIP: tshark not installed"; exit 77; }
version=$(tshark -v 2>/dev/null | awk 'NR == 1 {print $3; exit}')

# The one tshark command (recorded in the table's header): two passes, so that a query knows
# its response (dns.response_in); every occurrence of a field, comma-joined; without the
# heuristic that finds DNS in UDP on any port (dns_udp), since nettriage recognises DNS by its
# port (53; 5353 mDNS and 5355 LLMNR counted apart).
TSHARK_FILTER='dns || mdns || llmnr || icmp || icmpv6 || (tcp.flags.syn == 1 && tcp.flags.ack == 0)'
TSHARK_FIELDS=(frame.number frame.protocols dns.flags.response dns.flags.opcode dns.response_in
    dns.response_to dns.retransmit_request_in dns.retransmit_response_in dns.unsolicited icmp.type icmpv6.type
    tcp.flags.syn tcp.flags.ack _ws.malformed)
fields=()
for f in "${TSHARK_FIELDS[@]}"; do fields+=(-e "$f"); done
command_text="tshark -n -2 --disable-heuristic dns_udp -r FILE -Y '$TSHARK_FILTER' -T fields -E occurrence=a -E aggregator=, ${fields[*]}"

make_table() {
    echo "# tshark reference counts for ../shared/corpora/outside/ (made by tests/conformance/outside_tshark.sh; docs/conformance.md)"
    echo "# tshark: TShark $version"
    echo "# command: $command_text | awk -f tests/conformance/outside_tshark.awk"
    printf '# capture\tsha256\tqueries\tresponses\tlookups\tanswered\tunsolicited\ticmp_errors\tmdns\tllmnr\tsyn\tother_opcode\tmalformed\n'
    tail -n +2 "$sources" | cut -f1 | while IFS= read -r cap; do
        f=$corpora/outside/$cap
        [ -f "$f" ] || { echo "missing: $f" >&2; continue; }
        sum=$(sha256sum "$f" | cut -d' ' -f1)
        counts=$(tshark -n -2 --disable-heuristic dns_udp -r "$f" -Y "$TSHARK_FILTER" -T fields -E occurrence=a -E aggregator=, \
            "${fields[@]}" 2>/dev/null | awk -f "$here/outside_tshark.awk")
        printf '%s\t%s\t%s\n' "$cap" "$sum" "$(printf '%s' "$counts" | tr ' ' '\t')"
    done
}

case $mode in
    print) make_table ;;
    --write)
        make_table >"$table.new" && mv "$table.new" "$table"
        echo "wrote $table"
        ;;
    --check)
        stored=$(sed -n 's/^# tshark: TShark //p' "$table")
        [ "$stored" = "$version" ] ||
            { echo "SKIP: the table was made with tshark $stored, this is $version (regenerate with --write and review the diff)"; exit 77; }
        if make_table | diff -u "$table" -; then
            echo "the stored table is what tshark $version says"
        else
            echo "FAIL: the stored table differs from tshark $version (above); regenerate with --write and review"
            exit 1
        fi
        ;;
    *) echo "usage: outside_tshark.sh CORPORA_DIR [--write|--check]"; exit 2 ;;
esac
