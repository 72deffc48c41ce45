#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario admin_prohibited: a real DNS server (dnsmasq) runs, but a firewall on the server
# rejects UDP 53.
#   1. nftables `reject with icmp type admin-prohibited` (ICMPv6: admin-prohibited): nettriage
#      must raise dns.admin_prohibited once per server, naming the server as the rejecting
#      host, and no dns.port_unreachable.
#   2. iptables/ip6tables `-j REJECT --reject-with icmp(6)-port-unreachable` (REJECT's
#      default): on the wire this is exactly what a closed port sends, so nettriage must
#      raise dns.port_unreachable (not dns.admin_prohibited) and list a firewall among the
#      causes. This documents a limitation of what a capture can tell, on purpose.
#   3. No rules: dnsmasq answers, nettriage stays quiet.
#
#   tests/scenarios/admin_prohibited.sh [--record | --replay] NETTRIAGE
#                                   (live and --record need root; exit 0 pass, 1 fail, 77 skip)
#
# Everything expected is counted independently in the capture with tcpdump and BPF filters,
# never hard-coded: dig decides how many queries it sends.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"

nt_init admin_prohibited
client4=198.51.100.15 server4=198.51.100.2
client6=2001:db8::15 server6=2001:db8::2

# server_answers_locally ADDR TYPE ANSWER: dig in the server namespace, over lo (which the
# firewall rules below leave alone; the capture on the client veth does not see it), gets
# ANSWER from dnsmasq. Proves the service is up while the rules reject remote queries.
# shellcheck disable=SC2317  # called through nt_check
server_answers_locally() {
    local out
    out=$(nt_server dig @"$1" yummyrecipesforme.com "$2" +tries=1 +timeout=2 +short 2>&1) ||
        true
    printf '%s\n' "$out" | grep -qx "$3"
}

# query_both NAME TRIES: captures (as NAME) dig's A query to the IPv4 server and AAAA query to the
# IPv6 server, from the client (dig +tries=TRIES); at least 4 packets.
query_both() {
    local name=$1 tries=$2
    nt_capture_start "$name"
    nt_client dig @"$server4" yummyrecipesforme.com A +tries="$tries" +timeout=1 +short \
        >"$NT_WORK/dig-$name-a.out" 2>&1 || true
    nt_client dig @"$server6" yummyrecipesforme.com AAAA +tries="$tries" +timeout=1 +short \
        >"$NT_WORK/dig-$name-aaaa.out" 2>&1 || true
    nt_capture_stop "$name" 4
}

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout nft iptables ip6tables
    nt_make_pair "$client4/24" "$server4/24" "$client6/64" "$server6/64"
    # The DNS service runs for the whole scenario: only the firewall changes.
    nt_start_dnsmasq "$server4" "$server6"

    # 1. nftables rejects UDP 53 from outside with "administratively prohibited".
    nt_nft "$NT_SERVER_NS" "table inet nt_fw {
        chain input {
            type filter hook input priority filter; policy accept;
            iifname \"$NT_SERVER_IF\" meta nfproto ipv4 udp dport 53 reject with icmp type admin-prohibited
            iifname \"$NT_SERVER_IF\" meta nfproto ipv6 udp dport 53 reject with icmpv6 type admin-prohibited
        }
    }" || nt_skip "cannot load an nftables ruleset in a namespace"
    nt_check "nft: dnsmasq answers A on the server itself (the service runs)" \
        server_answers_locally "$server4" A 198.51.100.7
    nt_check "nft: dnsmasq answers AAAA on the server itself (the service runs)" \
        server_answers_locally "$server6" AAAA 2001:db8::7
    query_both nft 2
    ip netns exec "$NT_SERVER_NS" nft delete table inet nt_fw

    # 2. iptables' REJECT with its default message, port unreachable.
    nt_server iptables -w 5 -A INPUT -i "$NT_SERVER_IF" -p udp --dport 53 \
        -j REJECT --reject-with icmp-port-unreachable ||
        nt_skip "cannot add an iptables rule in a namespace"
    nt_server ip6tables -w 5 -A INPUT -i "$NT_SERVER_IF" -p udp --dport 53 \
        -j REJECT --reject-with icmp6-port-unreachable ||
        nt_skip "cannot add an ip6tables rule in a namespace"
    nt_check "iptables: dnsmasq answers A on the server itself (the service runs)" \
        server_answers_locally "$server4" A 198.51.100.7
    nt_check "iptables: dnsmasq answers AAAA on the server itself (the service runs)" \
        server_answers_locally "$server6" AAAA 2001:db8::7
    query_both ipt 2
    nt_server iptables -w 5 -D INPUT -i "$NT_SERVER_IF" -p udp --dport 53 \
        -j REJECT --reject-with icmp-port-unreachable
    nt_server ip6tables -w 5 -D INPUT -i "$NT_SERVER_IF" -p udp --dport 53 \
        -j REJECT --reject-with icmp6-port-unreachable

    # 3. No rules.
    query_both quiet 1
    grep -qx 198.51.100.7 "$NT_WORK/dig-quiet-a.out" ||
        nt_die "dnsmasq did not answer the A query: $(cat "$NT_WORK/dig-quiet-a.out")"
    grep -qx 2001:db8::7 "$NT_WORK/dig-quiet-aaaa.out" ||
        nt_die "dnsmasq did not answer the AAAA query: $(cat "$NT_WORK/dig-quiet-aaaa.out")"
fi

# check_report NAME RULE OTHER_RULE: the report of capture NAME (both paths) holds exactly one
# RULE finding per server, none of OTHER_RULE, and summary figures equal to counts from the
# capture.
check_report() {
    local name=$1 rule=$2 other=$3
    local pcap="$NT_WORK/$name.pcap"
    local total_packets total_queries total_lookups total_errors
    nt_case "$name"
    nt_case_status 1
    total_packets=$(nt_pcap_count "$pcap")
    total_queries=$(nt_pcap_select "$pcap" "$NT_BPF_DNS_QUERY" | wc -l)
    total_lookups=$(nt_dns_lookups "$pcap" "udp" | wc -l)
    total_errors=$(nt_pcap_select "$pcap" "$NT_BPF_ICMP_ERROR" | wc -l)
    [ "$total_queries" -ge 2 ] || nt_die "$name: dig sent $total_queries queries; scenario broken"
    nt_case_eq "schema" '.schema' '"nettriage.report/2"'
    nt_case_eq "summary.packets" '.summary.packets' "$total_packets"
    nt_case_eq "summary.dns_queries (BPF count)" '.summary.dns_queries' "$total_queries"
    nt_case_eq "summary.dns_lookups (distinct port+id)" '.summary.dns_lookups' "$total_lookups"
    nt_case_eq "summary.icmp_errors (BPF count)" '.summary.icmp_errors' "$total_errors"
    nt_case_eq "summary.icmp_errors_matched" '.summary.icmp_errors_matched' "$total_errors"
    nt_case_eq "summary.answered" '.summary.answered' 0
    nt_case_eq "summary.unanswered (every lookup drew an ICMP error)" '.summary.unanswered' 0
    nt_case_eq "summary.findings == length of findings" \
        '.summary.findings == (.findings | length)' true
    nt_case_eq "$rule findings: one per server (IPv4 and IPv6)" \
        '[.findings[] | select(.id == $r) | .server] | sort' \
        "$(printf '%s\n' "$server4" "$server6" | jq -R . | jq -sc 'sort')" --arg r "$rule"
    nt_case_eq "no $other finding" '[.findings[] | select(.id == $r)] | length' 0 --arg r "$other"
    nt_case_ids "[\"$rule\"]"
}

# check_server NAME RULE SERVER CLIENT QNAME ICMP_BPF: the RULE finding for one server in the
# report of capture NAME, both paths (see nt_check_dns_finding in lib.sh).
check_server() {
    local path
    for path in pcap text; do
        nt_check_dns_finding "$1 ($path)" "$NT_WORK/$1.pcap" "$NT_WORK/$1.$path.json" "${@:2}"
    done
}

# ---------------------------------------------------------------------------------------
# 1. nftables admin-prohibited: dns.admin_prohibited naming the server as the rejecting host.
check_report nft dns.admin_prohibited dns.port_unreachable
# ICMP 3/13 (nft's admin-prohibited), ICMPv6 1/1.
check_server nft dns.admin_prohibited "$server4" "$client4" "yummyrecipesforme.com A" \
    'icmp and icmp[0] == 3 and icmp[1] == 13'
check_server nft dns.admin_prohibited "$server6" "$client6" "yummyrecipesforme.com AAAA" \
    'icmp6 and ip6[40] == 1 and ip6[41] == 1'
for s in "$server4" "$server6"; do
    # The server is named as the host that rejected: in the summary ("sent by the server
    # itself (ADDR)") and in the first-ranked cause (a firewall on the server; errors from ADDR).
    nt_case_eq "$s: summary names the server itself as the sender" \
        '[.findings[] | select(.id == "dns.admin_prohibited" and .server == $s) | .summary
          | contains("sent by the server itself (" + $s + ")")]' '[true]' --arg s "$s"
    nt_case_eq "$s: top cause is a firewall on the server, errors from the server" \
        '[.findings[] | select(.id == "dns.admin_prohibited" and .server == $s) | .causes[0]
          | (.text | test("firewall on the server"; "i")) and (.reason | contains("came from " + $s))]' \
        '[true]' --arg s "$s"
done

# ---------------------------------------------------------------------------------------
# 2. iptables REJECT's default, port unreachable: indistinguishable on the wire from a closed
# port, so dns.port_unreachable (not dns.admin_prohibited), with the firewall among its causes.
# This documents a limitation of what a capture can tell, on purpose.
check_report ipt dns.port_unreachable dns.admin_prohibited
# ICMP 3/3, ICMPv6 1/4.
check_server ipt dns.port_unreachable "$server4" "$client4" "yummyrecipesforme.com A" \
    'icmp and icmp[0] == 3 and icmp[1] == 3'
check_server ipt dns.port_unreachable "$server6" "$client6" "yummyrecipesforme.com AAAA" \
    'icmp6 and ip6[40] == 1 and ip6[41] == 4'
for s in "$server4" "$server6"; do
    nt_case_eq "$s: a cause names a firewall" \
        '[.findings[] | select(.id == "dns.port_unreachable" and .server == $s)
          | any(.causes[]; .text | test("firewall"; "i"))]' '[true]' --arg s "$s"
done

# ---------------------------------------------------------------------------------------
# 3. No rules: dnsmasq answers and nettriage stays quiet.
nt_case quiet
nt_case_status 0
qpcap="$NT_WORK/quiet.pcap"
q_lookups=$(nt_dns_lookups "$qpcap" "udp" | wc -l)
q_responses=$(nt_pcap_select "$qpcap" "$NT_BPF_DNS_RESPONSE" | wc -l)
nt_case_ids '[]'
nt_case_eq "summary.icmp_errors" '.summary.icmp_errors' 0
nt_case_eq "summary.dns_lookups" '.summary.dns_lookups' "$q_lookups"
nt_case_eq "summary.dns_responses" '.summary.dns_responses' "$q_responses"
nt_case_eq "summary.answered (every lookup)" '.summary.answered' "$q_lookups"
nt_case_eq "summary.unanswered" '.summary.unanswered' 0

nt_finish
