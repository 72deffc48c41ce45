#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317  # jq filters single-quoted; ask() runs via declare -f
# scenario answer_other: the answer comes back from another address than the one queried.
# The client asks 198.51.100.53; on the server a stateless nftables rule rewrites that
# destination to 198.51.100.2, where dnsmasq answers, and nothing rewrites the answer's source
# back (what broken NAT, Docker port mapping or a multi-homed server does). The client's socket
# is connected (bash /dev/udp), so its kernel rejects the answer from 198.51.100.2 with ICMP
# port unreachable.
#   other   dns.answer_other_address for 198.51.100.53, answered from 198.51.100.2, the
#           client's rejects counted; no dns.late_answer (the answers were not late).
#   direct  the client asks 198.51.100.2 itself: answered, no finding.
#
#   tests/scenarios/answer_other.sh [--record | --replay] NETTRIAGE
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init answer_other
export TZ=UTC
client4=198.51.100.15 server4=198.51.100.2 vip4=198.51.100.53

# ask DST ID: one A query for www.corp.example from a connected UDP socket (bash /dev/udp),
# kept open for a second so the answer finds the socket. Runs in the client namespace.
ask() {
    local dst=$1 id=$2 fd q
    q=$(printf '\\x%02x\\x%02x\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' $((id >> 8)) $((id & 255)))
    q+='\x03www\x04corp\x07example\x00\x00\x01\x00\x01'
    exec {fd}<>"/dev/udp/$dst/53"
    # shellcheck disable=SC2059  # the format string is the query's bytes
    printf "$q" >&"$fd"
    sleep 1
    exec {fd}>&-
}

if nt_live; then
    nt_require_tools tcpdump jq dnsmasq nft timeout
    nt_make_pair "$client4/24" "$server4/24"
    ip -n "$NT_SERVER_NS" addr add "$vip4/24" dev "$NT_SERVER_IF"
    nt_start_dnsmasq "$server4" -- --address=/corp.example/198.51.100.80
    nt_nft "$NT_SERVER_NS" "table ip nt_other {
    chain pre {
        type filter hook prerouting priority raw; policy accept;
        ip daddr $vip4 udp dport 53 notrack ip daddr set $server4
    }
}" || nt_skip "cannot load an nftables ruleset in a namespace"
    nt_capture_start other
    # Two lookups (ids 0x1101, 0x1102; no byte is a newline).
    nt_client bash -c "$(declare -f ask); ask $vip4 4353; ask $vip4 4354"
    nt_capture_stop other 6
    nt_capture_start direct
    nt_client bash -c "$(declare -f ask); ask $server4 4355"
    nt_capture_stop direct 2
fi

# ---------------------------------------------------------------------------------------
nt_case other
pcap=$(nt_case_pcap)
queries=$(nt_pcap_select "$pcap" "udp dst port 53 and dst host $vip4" | wc -l)
answers=$(nt_pcap_select "$pcap" "udp src port 53 and src host $server4" | wc -l)
rejects=$(nt_pcap_select "$pcap" "icmp[icmptype] == icmp-unreach and src host $client4" | wc -l)
nt_log "other: $queries queries to $vip4, $answers answers from $server4, $rejects rejects"
if [ "$queries" -lt 2 ] || [ "$answers" -lt 2 ] || [ "$rejects" -lt 1 ]; then
    nt_die "other: $queries queries, $answers answers, $rejects rejects; scenario broken"
fi
nt_case_status 1
nt_case_check "dns.answer_other_address is raised, and no dns.late_answer" \
    '([.findings[].id] | index("dns.answer_other_address") != null) and
     ([.findings[].id] | index("dns.late_answer") == null)'
f='[.findings[] | select(.id == "dns.answer_other_address")] | .[0]'
nt_case_eq "the server queried" "$f | .server" "\"$vip4\""
nt_case_eq "the lookups answered from the other address" "$f | .lookups" "$queries"
nt_case_check "the answering address and the rejects are stated" \
    "$f | (.summary | contains(\"came back from $server4\")) and
     (.facts | any(.[]; contains(\"ICMP port unreachable\")))"
nt_case_check "NAT ranked first" "$f | .causes[0].text | test(\"NAT\")"

nt_case direct
nt_case_status 0
nt_case_ids '[]'
nt_case_eq "answered" '.summary | [.dns_lookups, .answered]' '[1,1]'

nt_finish
