#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario late_answer: a DNS client that closes its socket before the answer arrives. bash's
# `printf ... >/dev/udp/ADDR/53` opens a UDP socket, sends one query and closes it, so
# dnsmasq's answer finds the port closed and the client's kernel sends ICMP port unreachable
# back to the server.
#   rejected  queries to dnsmasq over IPv4 from /dev/udp: dns.late_answer fires once (severity
#             info: the answers came within the timeout); dns.port_unreachable does not fire and
#             no finding says the server is down.
#   quiet     dig to the same server (IPv4 and IPv6): no finding at all.
# IPv6 is left out of `rejected` because tcpdump does not print the datagram an ICMPv6 error
# quotes, so the text path cannot tie the client's error to the answer (see the report).
#
#   tests/scenarios/late_answer.sh [--record | --replay] NETTRIAGE
#
# Expected figures are counted in the capture with tcpdump and BPF filters, never hard-coded.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init late_answer
nt_require_tools tcpdump jq
if nt_live; then nt_require_tools dig ss dnsmasq timeout; fi

client4=198.51.100.15 server4=198.51.100.2
client6=2001:db8::15 server6=2001:db8::2
qname=yummyrecipesforme.com
# ICMP port unreachable (ICMP 3/3) sent by the client.
bpf_client_unreach="src host $client4 and icmp and icmp[0] == 3 and icmp[1] == 3"
# dns_query_bytes ID NAME QTYPE: a DNS query (header with RD set, one question, class IN) as
# \xHH escapes for printf %b.
dns_query_bytes() {
    local id=$1 name=$2 qtype=$3 out label i
    local -a labels
    out=$(printf '\\x%02x\\x%02x' $((id >> 8)) $((id & 255)))
    out+='\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'
    IFS=. read -ra labels <<<"$name"
    for label in "${labels[@]}"; do
        [ -n "$label" ] || continue
        out+=$(printf '\\x%02x' "${#label}")
        for ((i = 0; i < ${#label}; i++)); do
            out+=$(printf '\\x%02x' "'${label:i:1}")
        done
    done
    out+='\x00'
    out+=$(printf '\\x%02x\\x%02x' $((qtype >> 8)) $((qtype & 255)))
    out+='\x00\x01'
    printf '%s' "$out"
}

# send_and_close ADDR ID QTYPE: one query from a socket that is closed right after the write.
# The sender runs as a real-time task on the CPU dnsmasq is pinned to, so dnsmasq cannot answer
# before the socket is closed (otherwise the answer sometimes wins the race and is read, then
# dropped, without an error). Without chrt/taskset rights it still runs, only racier; the
# checks count what the capture holds.
send_and_close() {
    local bytes
    bytes=$(dns_query_bytes "$2" "$qname" "$3")
    local send='exec 3>"/dev/udp/$2/53" && printf "%b" "$1" >&3 && exec 3>&-'
    if ! nt_client chrt -f 10 taskset -c 0 bash -c "$send" _ "$bytes" "$1" 2>/dev/null; then
        nt_client bash -c "$send" _ "$bytes" "$1"
    fi
}

if nt_live; then
    nt_require_tools chrt taskset
    nt_make_pair "$client4/24" "$server4/24" "$client6/64" "$server6/64"
    # No ICMP rate limit on the client, so every rejected answer draws its error.
    nt_client sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
    nt_start_dnsmasq "$server4" "$server6"
    taskset -pc 0 "$NT_DNSMASQ_PID" >/dev/null || true

    nt_capture_start rejected
    for id in 4101 4102 4103 4104; do
        send_and_close "$server4" "$id" 1
        sleep 0.2
    done
    # At least two queries, their answers and errors.
    nt_capture_stop rejected 6

    nt_capture_start quiet
    nt_client dig @"$server4" "$qname" A +tries=1 +timeout=2 +short >"$NT_WORK/dig-a.out" 2>&1 ||
        true
    nt_client dig @"$server6" "$qname" AAAA +tries=1 +timeout=2 +short >"$NT_WORK/dig-aaaa.out" \
        2>&1 || true
    nt_capture_stop quiet 4
    grep -qx 198.51.100.7 "$NT_WORK/dig-a.out" || nt_die "dnsmasq did not answer dig (A)"
    grep -qx 2001:db8::7 "$NT_WORK/dig-aaaa.out" || nt_die "dnsmasq did not answer dig (AAAA)"
fi

# ---------------------------------------------------------------------------------------
nt_case rejected
pcap=$(nt_case_pcap)
n_queries=$(nt_pcap_select "$pcap" "$NT_BPF_DNS_QUERY" | wc -l)
n_answers=$(nt_pcap_select "$pcap" "$NT_BPF_DNS_RESPONSE" | wc -l)
n_icmp=$(nt_pcap_select "$pcap" "$NT_BPF_ICMP_ERROR" | wc -l)
rejects=$(nt_pcap_select "$pcap" "$bpf_client_unreach")
n_rejects=$(printf '%s\n' "$rejects" | grep -c . || true)
if [ "$n_queries" -lt 2 ] || [ "$n_rejects" -lt 1 ]; then
    nt_die "rejected: $n_queries queries, $n_rejects client errors; the scenario is broken"
fi
# The client ports the errors name: one per rejected lookup (each query used a new socket).
mapfile -t rejected_ports < <(tcpdump -nn -r "$pcap" "$bpf_client_unreach" 2>/dev/null |
    sed -n 's/.* udp port \([0-9]*\) unreachable.*/\1/p' | sort -u)
n_rejected_lookups=${#rejected_ports[@]}
port_filter=$(printf 'src port %s or ' "${rejected_ports[@]}")
port_filter="(${port_filter% or })"
n_rejected_queries=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $port_filter" | wc -l)
first=$(nt_pcap_select "$pcap" "(($NT_BPF_DNS_QUERY) and $port_filter) or ($bpf_client_unreach)" |
    awk 'NR == 1 { print $2 }')
last=$(printf '%s\n' "$rejects" | awk 'END { print $2 }')
nt_log "rejected: $n_queries queries, $n_answers answers, $n_rejects client errors" \
    "($n_rejected_lookups lookups, ports ${rejected_ports[*]})"
nt_expect_eq "rejected: every ICMP error is the client's port unreachable" "$n_icmp" "$n_rejects"

nt_case_status 1
nt_case_ids '["dns.late_answer"]'
nt_case_eq "summary: lookups, answered, unanswered, errors, errors matched" \
    '.summary | [.dns_lookups, .answered, .unanswered, .icmp_errors, .icmp_errors_matched]' \
    "[$n_queries,$n_answers,0,$n_icmp,$n_rejects]"
sel='.findings[] | select(.id == "dns.late_answer" and .server == $s)'
a=(--arg s "$server4")
nt_case_eq "one dns.late_answer finding, for the server" \
    '[.findings[] | select(.id == "dns.late_answer") | .server]' "[\"$server4\"]"
nt_case_check "no dns.port_unreachable (the client, not the server, sent the errors)" \
    'all(.findings[]; .id != "dns.port_unreachable")'
nt_case_check "no finding says the server is down or stopped" \
    'all(.findings[]; [.summary, .causes[].text] | all(test("is down|stopped|not running|no DNS service"; "i") | not))'
nt_case_check "the summary says the server answered" \
    "$sel | .summary | contains(\"The server answered; this is not a server failure\")" "${a[@]}"
nt_case_eq "severity info (answers within the timeout), no ATT&CK technique" \
    "$sel | [.severity, .attack]" '["info",null]' "${a[@]}"
nt_case_eq "protocol, port, service" "$sel | {protocol, port, service}" \
    '{"protocol":"udp","port":53,"service":"DNS"}' "${a[@]}"
nt_case_eq "lookups, query packets, error packets (from the capture)" \
    "$sel | [.lookups, .query_packets, .error_packets]" \
    "[$n_rejected_lookups,$n_rejected_queries,$n_rejects]" "${a[@]}"
nt_case_eq "clients" "$sel | .clients" "[\"$client4\"]" "${a[@]}"
nt_case_eq "query names" "$sel | .query_names" "[\"$qname A\"]" "${a[@]}"
nt_case_eq "first_seen (first rejected lookup's query), last_seen (last error)" \
    "$sel | [.first_seen, .last_seen]" "[\"$first\",\"$last\"]" "${a[@]}"
nt_case_eq "evidence: query, answer and error of each rejected lookup" \
    "$sel | [.evidence[].role] | group_by(.) | map({(.[0]): length}) | add" \
    "{\"query\":$n_rejected_lookups,\"answer\":$n_rejected_lookups,\"icmp_error\":$n_rejects}" \
    "${a[@]}"
nt_case_check "a fact says how long the answers took and that all came within the timeout" \
    "$sel | any(.facts[]; test(\"came [0-9.]+ .s.* after the quer.*; $n_rejected_lookups of $n_rejected_lookups within the [0-9.]+ s timeout, 0 after it\"))" \
    "${a[@]}"
nt_case_check "top cause: the client does not wait (high confidence)" \
    "$sel | .causes[0] | (.confidence == \"high\") and (.text | test(\"does not wait\"))" \
    "${a[@]}"
nt_case_check "no cause blames the server's speed (answers were in time)" \
    "$sel | all(.causes[]; .text | test(\"more slowly\") | not)" "${a[@]}"

# ---------------------------------------------------------------------------------------
nt_case quiet
nt_case_status 0
nt_case_ids '[]'
q_lookups=$(nt_dns_lookups "$(nt_case_pcap)" udp | wc -l)
nt_case_eq "quiet: every lookup answered, no ICMP error" \
    '.summary | [.dns_lookups, .answered, .icmp_errors]' "[$q_lookups,$q_lookups,0]"

nt_finish
