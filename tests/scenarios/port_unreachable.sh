#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario port_unreachable: DNS queries to a server with nothing on UDP 53 draw ICMP port
# unreachable from its kernel; nettriage must raise dns.port_unreachable once per server
# with the right counts, and stay quiet once a real DNS server (dnsmasq) answers.
#
#   tests/scenarios/port_unreachable.sh NETTRIAGE      (root; exit 0 pass, 1 fail, 77 skip)
#
# Everything expected is counted independently in the capture with tcpdump and BPF
# filters, never hard-coded: dig decides how many queries it sends.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_binary_arg "$0" "$@"

nt_init port_unreachable
nt_require_tools tcpdump dig jq ss dnsmasq timeout
export TZ=UTC

client4=198.51.100.15 server4=198.51.100.2
client6=2001:db8::15 server6=2001:db8::2
nt_make_pair "$client4/24" "$server4/24" "$client6/64" "$server6/64"

# ---------------------------------------------------------------------------------------
# 1. Nothing listens on UDP 53: every query draws ICMP port unreachable.
nt_assert_nothing_on_udp53
nt_capture_start unreach
nt_client dig @"$server4" yummyrecipesforme.com A +tries=3 +timeout=1 \
    >"$NT_WORK/dig-unreach-a.out" 2>&1 || true
nt_client dig @"$server6" yummyrecipesforme.com AAAA +tries=2 +timeout=1 \
    >"$NT_WORK/dig-unreach-aaaa.out" 2>&1 || true
# At least one query and its error per family.
nt_capture_stop unreach 4
pcap="$NT_WORK/unreach.pcap"
tcpdump -# -nn -tttt -r "$pcap" >"$NT_WORK/unreach.txt" 2>/dev/null
nt_log "capture: $(wc -l <"$NT_WORK/unreach.txt") packets"
sed 's/^/    /' "$NT_WORK/unreach.txt" >&2

total_packets=$(nt_pcap_count "$pcap")
total_queries=$(nt_pcap_select "$pcap" "$NT_BPF_DNS_QUERY" | wc -l)
total_lookups=$(nt_dns_lookups "$pcap" "udp" | wc -l)
total_errors=$(nt_pcap_select "$pcap" "$NT_BPF_ICMP_ERROR" | wc -l)
[ "$total_queries" -ge 2 ] || nt_die "dig sent $total_queries queries; the scenario is broken"

json="$NT_WORK/unreach.json"
nt_nettriage "$json" "$nettriage" report --format json "$pcap"
nt_expect_eq "exit status with a finding" "$NT_STATUS" 1
if ! jq -se 'length == 1 and (.[0] | type == "object")' "$json" >/dev/null 2>&1; then
    nt_check "stdout is JSON" false
    nt_finish
fi
nt_json_eq "schema" "$json" '.schema' '"nettriage.report/1"'
nt_json_eq "inputs: one pcap, all packets read, no error" "$json" \
    '[.inputs[] | {kind, packets, error}]' "[{\"kind\":\"pcap\",\"packets\":$total_packets,\"error\":null}]"
nt_json_eq "summary.packets" "$json" '.summary.packets' "$total_packets"
nt_json_eq "summary.dns_queries (BPF count)" "$json" '.summary.dns_queries' "$total_queries"
nt_json_eq "summary.dns_lookups (distinct port+id)" "$json" '.summary.dns_lookups' "$total_lookups"
nt_json_eq "summary.icmp_errors (BPF count)" "$json" '.summary.icmp_errors' "$total_errors"
nt_json_eq "summary.icmp_errors_matched" "$json" '.summary.icmp_errors_matched' "$total_errors"
nt_json_eq "summary.answered" "$json" '.summary.answered' 0
nt_json_eq "summary.findings == length of findings" "$json" \
    '.summary.findings == (.findings | length)' true
nt_json_eq "dns.port_unreachable findings: one per server (IPv4 and IPv6)" "$json" \
    '[.findings[] | select(.id == "dns.port_unreachable") | .server] | sort' \
    "$(printf '%s\n' "$server4" "$server6" | jq -R . | jq -sc 'sort')"

# check_server SERVER CLIENT QNAME: the finding for one server against the capture.
check_server() {
    nt_check_dns_finding unreach "$pcap" "$json" dns.port_unreachable "$@"
}
check_server "$server4" "$client4" "yummyrecipesforme.com. A"
check_server "$server6" "$client6" "yummyrecipesforme.com. AAAA"

# ---------------------------------------------------------------------------------------
# 2. A healthy DNS server on the same address: nettriage must stay quiet.
nt_start_dnsmasq "$server4" "$server6"
nt_capture_start healthy
nt_client dig @"$server4" yummyrecipesforme.com A +tries=1 +timeout=2 +short \
    >"$NT_WORK/dig-healthy-a.out" 2>&1 || true
nt_client dig @"$server6" yummyrecipesforme.com AAAA +tries=1 +timeout=2 +short \
    >"$NT_WORK/dig-healthy-aaaa.out" 2>&1 || true
nt_capture_stop healthy 4
grep -qx 198.51.100.7 "$NT_WORK/dig-healthy-a.out" ||
    nt_die "dnsmasq did not answer the A query: $(cat "$NT_WORK/dig-healthy-a.out")"
grep -qx 2001:db8::7 "$NT_WORK/dig-healthy-aaaa.out" ||
    nt_die "dnsmasq did not answer the AAAA query: $(cat "$NT_WORK/dig-healthy-aaaa.out")"
hpcap="$NT_WORK/healthy.pcap"
tcpdump -# -nn -tttt -r "$hpcap" >"$NT_WORK/healthy.txt" 2>/dev/null
nt_log "capture (healthy): $(wc -l <"$NT_WORK/healthy.txt") packets"
sed 's/^/    /' "$NT_WORK/healthy.txt" >&2
h_lookups=$(nt_dns_lookups "$hpcap" "udp" | wc -l)
h_responses=$(nt_pcap_select "$hpcap" "$NT_BPF_DNS_RESPONSE" | wc -l)

hjson="$NT_WORK/healthy.json"
nt_nettriage "$hjson" "$nettriage" report --format json "$hpcap"
nt_expect_eq "healthy: exit status 0 (no finding)" "$NT_STATUS" 0
nt_json_eq "healthy: no dns.port_unreachable finding" "$hjson" \
    '[.findings[]? | select(.id == "dns.port_unreachable")] | length' 0
nt_json_eq "healthy: no findings at all" "$hjson" '[.findings[]?.id]' '[]'
nt_json_eq "healthy: summary.icmp_errors" "$hjson" '.summary.icmp_errors' 0
nt_json_eq "healthy: summary.dns_lookups" "$hjson" '.summary.dns_lookups' "$h_lookups"
nt_json_eq "healthy: summary.dns_responses" "$hjson" '.summary.dns_responses' "$h_responses"
nt_json_eq "healthy: summary.answered" "$hjson" '.summary.answered' "$h_lookups"
nt_json_eq "healthy: summary.unanswered" "$hjson" '.summary.unanswered' 0

nt_finish
