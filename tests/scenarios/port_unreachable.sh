#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario port_unreachable: DNS queries to a server with nothing on UDP 53 draw ICMP port
# unreachable from its kernel; nettriage must raise dns.port_unreachable once per server
# with the right counts, also from a capture of the same traffic filtered to ICMP (icmp_only,
# captured at the same time), and stay quiet once a real DNS server (dnsmasq) answers.
#
#   tests/scenarios/port_unreachable.sh [--record | --replay] NETTRIAGE
#                                   (live and --record need root; exit 0 pass, 1 fail, 77 skip)
#
# Everything expected is counted independently in the capture with tcpdump and BPF
# filters, never hard-coded: dig decides how many queries it sends.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"

nt_init port_unreachable
client4=198.51.100.15 server4=198.51.100.2
client6=2001:db8::15 server6=2001:db8::2

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout
    nt_make_pair "$client4/24" "$server4/24" "$client6/64" "$server6/64"

    # 1. Nothing listens on UDP 53: every query draws ICMP port unreachable.
    nt_assert_nothing_on_udp53
    nt_capture_start unreach
    # The same traffic as an analyst filtering to ICMP sees it (`tcpdump icmp`): no query.
    nt_capture_start icmp_only 'icmp or icmp6'
    nt_client dig @"$server4" yummyrecipesforme.com A +tries=3 +timeout=1 \
        >"$NT_WORK/dig-unreach-a.out" 2>&1 || true
    nt_client dig @"$server6" yummyrecipesforme.com AAAA +tries=2 +timeout=1 \
        >"$NT_WORK/dig-unreach-aaaa.out" 2>&1 || true
    # At least one query and its error per family.
    nt_capture_stop unreach 4
    nt_capture_stop icmp_only 2

    # 2. A healthy DNS server on the same address.
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
fi

# ---------------------------------------------------------------------------------------
# 1. Nothing listening: one dns.port_unreachable per server, counts from the capture.
nt_case unreach
nt_case_status 1
pcap="$NT_WORK/unreach.pcap"
total_packets=$(nt_pcap_count "$pcap")
total_queries=$(nt_pcap_select "$pcap" "$NT_BPF_DNS_QUERY" | wc -l)
total_lookups=$(nt_dns_lookups "$pcap" "udp" | wc -l)
total_errors=$(nt_pcap_select "$pcap" "$NT_BPF_ICMP_ERROR" | wc -l)
[ "$total_queries" -ge 2 ] || nt_die "dig sent $total_queries queries; the scenario is broken"

nt_case_eq "schema" '.schema' '"nettriage.report/2"'
nt_json_eq "unreach (pcap): inputs: one pcap, all packets read, no error" \
    "$NT_WORK/unreach.pcap.json" '[.inputs[] | {kind, packets, error}]' \
    "[{\"kind\":\"pcap\",\"packets\":$total_packets,\"error\":null}]"
nt_case_eq "summary.packets" '.summary.packets' "$total_packets"
nt_case_eq "summary.dns_queries (BPF count)" '.summary.dns_queries' "$total_queries"
nt_case_eq "summary.dns_lookups (distinct port+id)" '.summary.dns_lookups' "$total_lookups"
nt_case_eq "summary.icmp_errors (BPF count)" '.summary.icmp_errors' "$total_errors"
nt_case_eq "summary.icmp_errors_matched" '.summary.icmp_errors_matched' "$total_errors"
nt_case_eq "summary.answered" '.summary.answered' 0
nt_case_eq "summary.findings == length of findings" '.summary.findings == (.findings | length)' true
nt_case_eq "dns.port_unreachable findings: one per server (IPv4 and IPv6)" \
    '[.findings[] | select(.id == "dns.port_unreachable") | .server] | sort' \
    "$(printf '%s\n' "$server4" "$server6" | jq -R . | jq -sc 'sort')"
nt_case_ids '["dns.port_unreachable"]'
nt_case_eq "the server never answered: no success before or after" \
    '[.findings[].window | [.last_success_before, .first_success_after, .successes_total]] | unique' \
    '[[null,null,0]]'

for path in pcap text; do
    for pair in "$server4 $client4 A" "$server6 $client6 AAAA"; do
        read -r s c t <<<"$pair"
        nt_check_dns_finding "unreach ($path)" "$pcap" "$NT_WORK/unreach.$path.json" \
            dns.port_unreachable "$s" "$c" "yummyrecipesforme.com $t"
    done
done

# ---------------------------------------------------------------------------------------
# 1b. The same failure captured with an ICMP-only filter: the errors quote the queries, which
# are evidence enough (issue 8): one dns.port_unreachable per server, each lookup made from a
# quote, stated as not in the input. Read from the pcap, the -vv text, and the text without -v
# (where the quote shows only the destination, protocol and port).
nt_case icmp_only
nt_case_status 1
ipcap="$NT_WORK/icmp_only.pcap"
i_errors=$(nt_pcap_select "$ipcap" "$NT_BPF_ICMP_ERROR" | wc -l)
[ "$i_errors" -ge 2 ] || nt_die "the ICMP-only capture holds $i_errors errors; scenario broken"
nt_case_eq "summary.dns_queries: none in the capture" '.summary.dns_queries' 0
nt_case_eq "summary.icmp_errors (BPF count)" '.summary.icmp_errors' "$i_errors"
nt_case_eq "summary.icmp_errors_matched: every error" '.summary.icmp_errors_matched' "$i_errors"
nt_case_check "summary.lookups_from_quotes: at least one per server" \
    '.summary.lookups_from_quotes >= 2'
nt_case_ids '["dns.port_unreachable"]'
nt_case_eq "dns.port_unreachable findings: one per server" \
    '[.findings[] | select(.id == "dns.port_unreachable") | .server] | sort' \
    "$(printf '%s\n' "$server4" "$server6" | jq -R . | jq -sc 'sort')"
nt_case_check "every finding says its queries are not in the input" \
    'all(.findings[]; any(.facts[]; test("not in the input")))'
nt_case_eq "no error left unmatched or untaken" \
    '[.unmatched_icmp_errors.count, .icmp_errors_not_taken.count]' '[0,0]'
tcpdump -nn -r "$ipcap" >"$NT_WORK/icmp_only-nov.txt" 2>/dev/null ||
    nt_die "tcpdump cannot read $ipcap"
nt_nettriage "$NT_WORK/icmp_only-nov.json" "$nettriage" report --format json \
    "$NT_WORK/icmp_only-nov.txt"
nt_expect_eq "icmp_only (text without -v): exit status" "$NT_STATUS" 1
nt_json_eq "icmp_only (text without -v): finding ids" "$NT_WORK/icmp_only-nov.json" \
    '[.findings[].id] | unique' '["dns.port_unreachable"]'
nt_json_check "icmp_only (text without -v): the name is not stated (the text lacks it)" \
    'all(.findings[]; .query_names == ["(name not shown)"])' "$NT_WORK/icmp_only-nov.json"

# ---------------------------------------------------------------------------------------
# 2. A healthy DNS server on the same address: nettriage must stay quiet.
nt_case healthy
nt_case_status 0
hpcap="$NT_WORK/healthy.pcap"
h_lookups=$(nt_dns_lookups "$hpcap" "udp" | wc -l)
h_responses=$(nt_pcap_select "$hpcap" "$NT_BPF_DNS_RESPONSE" | wc -l)
nt_case_ids '[]'
nt_case_eq "summary.icmp_errors" '.summary.icmp_errors' 0
nt_case_eq "summary.dns_lookups" '.summary.dns_lookups' "$h_lookups"
nt_case_eq "summary.dns_responses" '.summary.dns_responses' "$h_responses"
nt_case_eq "summary.answered" '.summary.answered' "$h_lookups"
nt_case_eq "summary.unanswered" '.summary.unanswered' 0

nt_finish
