#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario truncated: DNS answers too big for UDP come back with the TC flag; the client must ask
# again over TCP. dnsmasq serves big.example.com TXT as 8 records of 200 characters (about
# 1.7 KB, more than both 512 bytes and dig's EDNS buffer of 1232).
#   noretry     dig +ignore +noedns: the truncated answer is kept, no TCP retry (dig then asks a
#               small A question more than 1 s later, so the capture does not end on the
#               truncated answer); dns.truncated_no_tcp fires, "never retried".
#   tcpblocked  nft `tcp dport 53 reject with tcp reset` on the server, plain dig: the TCP
#               retry is refused; dns.truncated_no_tcp fires ("retry failed"), and tcp.refused
#               for port 53.
#   quiet       plain dig, TCP open: the retry over TCP is answered; no finding at all.
#
#   tests/scenarios/truncated.sh [--record | --replay] NETTRIAGE   (live/--record: root)
#
# Every figure expected is counted in the capture with tcpdump and BPF filters.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init truncated
client4=198.51.100.15 server4=198.51.100.2
qname=big.example.com

# A UDP DNS query for qname TXT to the server, and a truncated UDP answer from it (TC is bit
# 0x02 of the third byte of the DNS header).
BPF_TXT_QUERY="($NT_BPF_DNS_QUERY) and dst host $server4"
BPF_TC="udp src port 53 and src host $server4 and (udp[10] & 0x80) != 0 and (udp[10] & 0x02) != 0"
BPF_SYN53="tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst) == tcp-syn and dst host $server4 and dst port 53"
BPF_RST53="tcp[tcpflags] & tcp-rst != 0 and src host $server4 and src port 53"

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout nft
    nt_make_pair "$client4/24" "$server4/24"
    txt=()
    for i in 1 2 3 4 5 6 7 8; do
        txt+=("--txt-record=$qname,record$i-$(printf 'x%.0s' $(seq 1 192))")
    done
    nt_start_dnsmasq "$server4" -- "${txt[@]}"
    # shellcheck disable=SC2317  # called through nt_wait_for
    tcp_listening() { nt_server ss -Hltn "sport = :53" | grep -q .; }
    nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq on TCP 53" tcp_listening

    # noretry
    nt_capture_start noretry
    nt_client dig @"$server4" "$qname" TXT +ignore +noedns +tries=1 +timeout=2 \
        >"$NT_WORK/dig-noretry.out" 2>&1 || true
    sleep 1.2
    nt_client dig @"$server4" yummyrecipesforme.com A +tries=1 +timeout=2 +short \
        >"$NT_WORK/dig-noretry-a.out" 2>&1 || true
    nt_capture_stop noretry 4
    grep -q 'flags:.* tc' "$NT_WORK/dig-noretry.out" ||
        nt_die "noretry: dig did not get a truncated answer: $(cat "$NT_WORK/dig-noretry.out")"

    # tcpblocked
    nt_nft "$NT_SERVER_NS" "table inet nt_trunc {
        chain input {
            type filter hook input priority filter; policy accept;
            tcp dport 53 reject with tcp reset
        }
    }" || nt_skip "cannot load an nftables ruleset in a namespace"
    nt_capture_start tcpblocked
    nt_client dig @"$server4" "$qname" TXT +tries=1 +timeout=2 \
        >"$NT_WORK/dig-tcpblocked.out" 2>&1 || true
    nt_capture_stop tcpblocked 4
    ip netns exec "$NT_SERVER_NS" nft delete table inet nt_trunc

    # quiet
    nt_capture_start quiet
    nt_client dig @"$server4" "$qname" TXT +tries=1 +timeout=2 \
        >"$NT_WORK/dig-quiet.out" 2>&1 || true
    nt_capture_stop quiet 8
    grep -q 'ANSWER: 8' "$NT_WORK/dig-quiet.out" ||
        nt_die "quiet: dig did not get the 8 records over TCP: $(cat "$NT_WORK/dig-quiet.out")"
fi

# check_trunc FIRST LAST QUERY_PACKETS ERROR_PACKETS EVIDENCE_PACKETS_JSON: the one
# dns.truncated_no_tcp finding, for server4:53.
check_trunc() {
    local first=$1 last=$2 nq=$3 ne=$4 pk=$5 tc
    tc=$(nt_pcap_select "$(nt_case_pcap)" "$BPF_TC" | wc -l)
    [ "$tc" -ge 1 ] || nt_die "$NT_CASE: no truncated answer in the capture"
    local sel='[.findings[] | select(.id == "dns.truncated_no_tcp")]'
    nt_case_eq "one dns.truncated_no_tcp finding" "$sel | length" 1
    nt_case_eq "server, protocol, port, service, severity, attack" \
        "$sel | .[0] | {server, protocol, port, service, severity, attack}" \
        "{\"server\":\"$server4\",\"protocol\":\"udp\",\"port\":53,\"service\":\"DNS\",\"severity\":\"medium\",\"attack\":null}"
    nt_case_eq "lookups (truncated answers: $tc)" "$sel | .[0].lookups" "$tc"
    nt_case_eq "clients" "$sel | .[0].clients" "[\"$client4\"]"
    nt_case_eq "query_names" "$sel | .[0].query_names" "[\"$qname TXT\"]"
    nt_case_eq "query_packets" "$sel | .[0].query_packets" "$nq"
    nt_case_eq "error_packets" "$sel | .[0].error_packets" "$ne"
    nt_case_eq "first_seen (the query)" "$sel | .[0].first_seen" "\"$first\""
    nt_case_eq "last_seen" "$sel | .[0].last_seen" "\"$last\""
    nt_case_eq "window: no truncated answer retried with success" \
        "$sel | .[0].window | [.last_success_before, .first_success_after, .successes_total]" \
        '[null,null,0]'
    nt_case_check "evidence cites only $pk" \
        "$sel | .[0] | [.evidence[].packet] | length > 0 and all(.[]; . as \$x | \$pk | index([\$x]) != null)" \
        --argjson pk "$pk"
    nt_case_check "next steps suggest dig +tcp with the name as one word" \
        "$sel | .[0].next_steps | any(.[]; contains(\"\`dig @$server4 $qname. TXT +tcp\`\"))"
}

# --- noretry -----------------------------------------------------------------------------
nt_case noretry
pcap=$(nt_case_pcap)
nt_case_status 1
nt_case_ids '["dns.truncated_no_tcp"]'
[ "$(nt_pcap_select "$pcap" "$BPF_SYN53" | wc -l)" -eq 0 ] ||
    nt_die "noretry: the client opened TCP 53; scenario broken"
q_f="$BPF_TXT_QUERY"
tc_txt=$(tcpdump -nn -r "$pcap" "$BPF_TC" 2>/dev/null | grep -c 'TXT' || true)
[ "$tc_txt" -eq 1 ] || nt_die "noretry: $tc_txt truncated TXT answers, expected 1"
# The TXT query is the first query; the A query after it is answered whole.
first=$(nt_pcap_select "$pcap" "$q_f" | awk 'NR == 1 { print $2 }')
qnum=$(nt_pcap_select "$pcap" "$q_f" | awk 'NR == 1 { print $1 }')
last=$(nt_pcap_select "$pcap" "$BPF_TC" | awk 'END { print $2 }')
tcnum=$(nt_pcap_select "$pcap" "$BPF_TC" | awk 'END { print $1 }')
check_trunc "$first" "$last" 1 1 "[$qnum,$tcnum]"
nt_case_check "the client never retried: cause ranked first, no EDNS counted" \
    '[.findings[] | select(.id == "dns.truncated_no_tcp")][0]
     | (.causes[0].text | test("does not fall back to TCP")) and .causes[0].confidence == "high"
       and any(.facts[]; startswith("1 of the 1 truncated lookup sent their query without EDNS"))'

# --- tcpblocked --------------------------------------------------------------------------
nt_case tcpblocked
pcap=$(nt_case_pcap)
nt_case_status 1
nt_case_ids '["dns.truncated_no_tcp", "tcp.refused"]'
syns=$(nt_pcap_select "$pcap" "$BPF_SYN53" | wc -l)
rsts=$(nt_pcap_select "$pcap" "$BPF_RST53" | wc -l)
if [ "$syns" -lt 1 ] || [ "$rsts" -lt 1 ]; then
    nt_die "tcpblocked: $syns SYNs, $rsts resets on TCP 53; the retry did not happen as expected"
fi
nq=$(nt_pcap_select "$pcap" "$BPF_TXT_QUERY" | wc -l)
first=$(nt_pcap_select "$pcap" "$BPF_TXT_QUERY" | awk 'NR == 1 { print $2 }')
last=$(nt_pcap_select "$pcap" "$BPF_RST53" | awk 'NR == 1 { print $2 }')
pk=$(nt_pcap_select "$pcap" "($BPF_TXT_QUERY) or ($BPF_TC) or ($BPF_SYN53) or ($BPF_RST53)" |
    awk '{ print $1 }' | jq -sc .)
# One TCP attempt is the retry: its SYNs and its reset.
check_trunc "$first" "$last" $((nq + syns)) 2 "$pk"
nt_case_check "the failed retry is named: refused with a reset; firewall blocking TCP 53 first" \
    '[.findings[] | select(.id == "dns.truncated_no_tcp")][0]
     | any(.facts[]; contains("1 refused with a reset"))
       and (.causes[0].text | test("firewall blocks DNS over TCP")) and .causes[0].confidence == "high"
       and any(.facts[]; startswith("Every truncated lookup offered EDNS"))'
nt_case_eq "tcp.refused for $server4 port 53 (DNS over TCP)" \
    '[.findings[] | select(.id == "tcp.refused") | {server, port, service}]' \
    "[{\"server\":\"$server4\",\"port\":53,\"service\":\"DNS over TCP\"}]"

# --- quiet -------------------------------------------------------------------------------
nt_case quiet
pcap=$(nt_case_pcap)
nt_case_status 0
nt_case_ids '[]'
[ "$(nt_pcap_select "$pcap" "$BPF_TC" | wc -l)" -ge 1 ] ||
    nt_die "quiet: no truncated answer in the capture"
synack=$(nt_pcap_select "$pcap" "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) and src host $server4 and src port 53" | wc -l)
[ "$synack" -ge 1 ] || nt_die "quiet: no TCP handshake with $server4:53"
nt_case_eq "both lookups (UDP truncated, TCP whole) answered" \
    '[.summary.dns_lookups, .summary.answered]' '[2,2]'

nt_finish
