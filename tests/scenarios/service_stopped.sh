#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario service_stopped: a DNS service that answers and then stops in the middle of the
# capture.
#   stopped    dnsmasq answers a few lookups, is killed, and the next queries draw ICMP port
#              unreachable from the server's kernel: dns.port_unreachable whose window's
#              last_success_before is the last answer's time and first_failure the first refused
#              query's, with "stopped or restarted" as the top cause; no dns.no_response.
#   recovered  the same, then dnsmasq is started again and answers: first_success_after is the
#              first answer after the restart, no success during the failures.
#   quiet      a capture after the recovery: no finding at all.
#
#   tests/scenarios/service_stopped.sh [--record | --replay] NETTRIAGE
#
# Expected figures are counted in the capture with tcpdump and BPF filters, never hard-coded.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init service_stopped
nt_require_tools tcpdump jq
if nt_live; then nt_require_tools dig ss dnsmasq timeout; fi

client4=198.51.100.15 server4=198.51.100.2
qname=yummyrecipesforme.com
to_server="dst host $server4 and udp dst port 53"
bpf_port_unreach="src host $server4 and icmp and icmp[0] == 3 and icmp[1] == 3"

ask() {
    nt_client dig @"$server4" "$qname" A +tries=1 +timeout=1 >>"$NT_WORK/dig.out" 2>&1 || true
    sleep 0.1
}

# stop_dns: kills dnsmasq and waits (bounded) until nothing listens on UDP 53.
# shellcheck disable=SC2317  # called through nt_wait_for
not_listening() { ! nt_udp_listening "$NT_SERVER_NS" "$server4" 53; }
stop_dns() {
    nt_stop_pid "$NT_DNSMASQ_PID"
    nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq to stop" not_listening
}

if nt_live; then
    nt_make_pair "$client4/24" "$server4/24"
    nt_start_dnsmasq "$server4"

    nt_capture_start stopped
    ask
    ask
    ask
    stop_dns
    ask
    ask
    nt_capture_stop stopped 8

    nt_start_dnsmasq "$server4"
    nt_capture_start recovered
    ask
    ask
    stop_dns
    ask
    ask
    nt_start_dnsmasq "$server4"
    ask
    ask
    nt_capture_stop recovered 12

    nt_capture_start quiet
    ask
    ask
    nt_capture_stop quiet 4
fi

sel='.findings[] | select(.id == "dns.port_unreachable" and .server == $s)'
a=(--arg s "$server4")

# times PCAP: sets answers (count), last_ok (last answer before the first refused query),
# first_fail, last_fail (first refused query, last ICMP error), first_ok_after (first answer
# after the last error, or empty), refused (lookups refused), errors (ICMP errors).
times() {
    local pcap=$1 all_answers refused_queries error_lines
    all_answers=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_RESPONSE) and src host $server4")
    error_lines=$(nt_pcap_select "$pcap" "$bpf_port_unreach")
    errors=$(printf '%s\n' "$error_lines" | grep -c . || true)
    last_fail=$(printf '%s\n' "$error_lines" | awk 'END { print $2 }')
    local first_err
    first_err=$(printf '%s\n' "$error_lines" | awk 'NR == 1 { print $2 }')
    last_ok=$(printf '%s\n' "$all_answers" | awk -v t="$first_err" '$2 < t { x = $2 } END { print x }')
    first_ok_after=$(printf '%s\n' "$all_answers" |
        awk -v t="$last_fail" '$2 > t { print $2; exit }')
    refused_queries=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to_server" |
        awk -v a="$last_ok" -v b="$last_fail" '$2 > a && $2 <= b')
    first_fail=$(printf '%s\n' "$refused_queries" | awk 'NR == 1 { print $2 }')
    refused=$(printf '%s\n' "$refused_queries" | grep -c . || true)
    answers=$(printf '%s\n' "$all_answers" | grep -c . || true)
    nt_log "$NT_CASE: $answers answers, last before the failures at $last_ok; $refused refused" \
        "queries from $first_fail, $errors errors to $last_fail; next answer ${first_ok_after:-none}"
    if [ -z "$last_ok" ] || [ "$errors" -lt 1 ]; then
        nt_die "$NT_CASE: no answer before the errors, or no error; the scenario is broken"
    fi
}

# ---------------------------------------------------------------------------------------
nt_case stopped
times "$(nt_case_pcap)"
nt_case_status 1
nt_case_ids '["dns.port_unreachable"]'
nt_case_eq "lookups and error packets of the refusals" "$sel | [.lookups, .error_packets]" \
    "[$refused,$errors]" "${a[@]}"
nt_case_eq "window: stopped after the last answer, no recovery" \
    "$sel | .window | [.last_success_before, .first_failure, .last_failure, .first_success_after, .successes_during]" \
    "[\"$last_ok\",\"$first_fail\",\"$last_fail\",null,0]" "${a[@]}"
nt_case_check "top cause: the service stopped or restarted" \
    "$sel | .causes[0].text | test(\"stopped or restarted\")" "${a[@]}"
nt_case_check "a fact gives the number answered and the last answer's time" \
    "$sel | any(.facts[]; contains(\"answered \" + (\$n | tostring) + \" of its\") and contains(\$t))" \
    "${a[@]}" --argjson n "$answers" --arg t "$last_ok"

# ---------------------------------------------------------------------------------------
nt_case recovered
times "$(nt_case_pcap)"
[ -n "$first_ok_after" ] || nt_die "recovered: no answer after the restart; the scenario is broken"
nt_case_status 1
nt_case_ids '["dns.port_unreachable"]'
nt_case_eq "lookups and error packets of the refusals" "$sel | [.lookups, .error_packets]" \
    "[$refused,$errors]" "${a[@]}"
nt_case_eq "window: last answer before, first answer after the restart" \
    "$sel | .window | [.last_success_before, .first_failure, .last_failure, .first_success_after, .successes_during]" \
    "[\"$last_ok\",\"$first_fail\",\"$last_fail\",\"$first_ok_after\",0]" "${a[@]}"
nt_case_eq "window: successes in the whole capture" "$sel | .window.successes_total" "$answers" \
    "${a[@]}"

# ---------------------------------------------------------------------------------------
nt_case quiet
q_lookups=$(nt_dns_lookups "$(nt_case_pcap)" udp | wc -l)
nt_case_status 0
nt_case_ids '[]'
nt_case_eq "every lookup answered" '.summary | [.dns_lookups, .answered, .icmp_errors]' \
    "[$q_lookups,$q_lookups,0]"

nt_finish
