#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario no_response: DNS queries that get no answer and no ICMP error.
#   drop     nftables drops UDP 53 on the server while dnsmasq runs; dig +tries=3 +timeout=1:
#            dns.no_response (high), retries counted from the capture, a silent firewall among
#            the top causes, and the server's answers over TCP 53 (dig +tcp, sent last so the
#            capture runs past the timeout) named as proof that the host and service are up.
#   outage   dnsmasq answers a few lookups, then the drop rule is added and more lookups go
#            unanswered: dns.no_response whose window's last_success_before and first_failure
#            are the times of the last answer and of the first unanswered query in the capture.
#   gaveup   the drop rule, dig +tries=3 +timeout=1, the capture stopped right after dig gave
#            up: dns.no_response as a short observation (the client's retries are evidence).
#   cutoff   one answered lookup, then the drop rule and one query right before the capture
#            stops: no finding at all, summary.capture_ended counts the cut-off lookup.
#   quiet    dnsmasq answering: no finding at all.
# nettriage runs with --timeout 2 so that the captures stay short.
#
#   tests/scenarios/no_response.sh [--record | --replay] NETTRIAGE
#
# Expected figures are counted in the capture with tcpdump and BPF filters, never hard-coded.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init no_response
nt_require_tools tcpdump jq
if nt_live; then nt_require_tools dig ss dnsmasq timeout nft; fi

client4=198.51.100.15 server4=198.51.100.2
qname=yummyrecipesforme.com
timeout_s=2
to_server="dst host $server4 and udp dst port 53"

# drop_on / drop_off: the server's firewall silently drops UDP 53 from the client's link.
drop_on() {
    nt_nft "$NT_SERVER_NS" "table inet nt_drop {
    chain input {
        type filter hook input priority filter; policy accept;
        iifname \"$NT_SERVER_IF\" udp dport 53 drop
    }
}"
}
drop_off() { nt_server nft delete table inet nt_drop; }

# ask TRIES [dig options...]: one dig lookup from the client (output ignored).
ask() {
    local tries=$1
    shift
    nt_client dig @"$server4" "$qname" A +tries="$tries" +timeout=1 "$@" >>"$NT_WORK/dig.out" \
        2>&1 || true
}

# over_tcp: a lookup over TCP 53 (answered: the drop rule is for UDP), sent after the silent
# lookups so that the capture runs past their timeout.
over_tcp() {
    sleep 1.5
    ask 1 +tcp
}

if nt_live; then
    nt_make_pair "$client4/24" "$server4/24"
    nt_start_dnsmasq "$server4"

    nt_capture_start quiet
    ask 1
    ask 1
    nt_capture_stop quiet 4

    nt_capture_start outage
    for _ in 1 2 3; do
        ask 1
        sleep 0.2
    done
    drop_on || nt_skip "cannot load an nftables ruleset in a namespace"
    sleep 0.3
    ask 2
    ask 1
    over_tcp
    nt_capture_stop outage 8

    nt_capture_start drop
    ask 3
    over_tcp
    nt_capture_stop drop 3
    drop_off

    # gaveup: dig retries twice (its own 1 s timer) and gives up; the capture stops right
    # after, with the last retry less than the timeout before its end.
    drop_on
    nt_capture_start gaveup
    ask 3
    nt_capture_stop gaveup 3
    drop_off

    nt_capture_start cutoff
    ask 1
    drop_on
    # The query goes out and the capture stops well within the timeout.
    ask 1 +timeout=1 &
    dig_pid=$!
    nt_capture_stop cutoff 3
    wait "$dig_pid" || true
    drop_off
fi

# lookups PCAP FILTER: distinct lookups (DNS id, name, type) among the queries matching FILTER;
# a retry with the same id counts once, whatever its source port.
lookups() {
    nt_dns_lookups "$1" "$2" | awk '{ print $2, $3, $4 }' | sort -u | wc -l
}
# source_ports PCAP FILTER: distinct source ports of the queries matching FILTER.
source_ports() {
    nt_dns_lookups "$1" "$2" | awk '{ n = split($1, p, "."); print p[n] }' | sort -u | wc -l
}

# ---------------------------------------------------------------------------------------
nt_case drop --timeout "$timeout_s"
pcap=$(nt_case_pcap)
nq=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to_server" | wc -l)
nl=$(lookups "$pcap" "$to_server")
np=$(source_ports "$pcap" "$to_server")
n_udp_answers=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_RESPONSE) and src host $server4" | wc -l)
n_icmp=$(nt_pcap_select "$pcap" "$NT_BPF_ICMP_ERROR" | wc -l)
first=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to_server" | awk 'NR == 1 { print $2 }')
last=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to_server" | awk 'END { print $2 }')
nt_log "drop: $nq UDP queries, $nl lookups, $np source ports, $n_udp_answers UDP answers"
if [ "$nq" -lt 2 ] || [ "$n_udp_answers" -ne 0 ] || [ "$n_icmp" -ne 0 ]; then
    nt_die "drop: $nq queries, $n_udp_answers answers, $n_icmp ICMP errors; the drop rule did not work"
fi
sel='.findings[] | select(.id == "dns.no_response" and .server == $s)'
a=(--arg s "$server4")
nt_case_status 1
nt_case_ids '["dns.no_response"]'
nt_case_eq "one finding, UDP 53 of the server" \
    '[.findings[] | {id, server, protocol, port, service}]' \
    "[{\"id\":\"dns.no_response\",\"server\":\"$server4\",\"protocol\":\"udp\",\"port\":53,\"service\":\"DNS\"}]"
nt_case_eq "summary: unanswered lookups, none cut off" '.summary | [.unanswered, .capture_ended]' \
    "[$nl,0]"
nt_case_eq "lookups, query packets (retries included), no error packets" \
    "$sel | [.lookups, .query_packets, .error_packets]" "[$nl,$nq,0]" "${a[@]}"
nt_case_eq "severity high, no ATT&CK technique" "$sel | [.severity, .attack]" '["high",null]' \
    "${a[@]}"
nt_case_eq "clients, query names" "$sel | [.clients, .query_names]" \
    "[[\"$client4\"],[\"$qname A\"]]" "${a[@]}"
nt_case_eq "first_seen, last_seen: the first and last query" "$sel | [.first_seen, .last_seen]" \
    "[\"$first\",\"$last\"]" "${a[@]}"
nt_case_eq "window: no success before or after (UDP never answered)" \
    "$sel | .window | [.last_success_before, .first_failure, .first_success_after]" \
    "[null,\"$first\",null]" "${a[@]}"
nt_case_check "a fact counts the retries: transmissions per lookup from the capture" \
    "$sel | any(.facts[]; test(\"(was|were) retried, up to \" + (\$m | tostring) + \" transmissions per lookup\"))" \
    "${a[@]}" --argjson m "$((nq / nl))"
if [ "$np" -gt "$nl" ]; then
    nt_case_check "a fact counts the distinct source ports ($np)" \
        "$sel | any(.facts[]; contains(\"(\" + (\$p | tostring) + \" distinct source ports in all)\"))" \
        "${a[@]}" --argjson p "$np"
fi
nt_case_check "a fact says the server answered over TCP (host and service up)" \
    "$sel | any(.facts[]; test(\"answered [0-9]+ of its [0-9]+ lookups? over TCP\"))" "${a[@]}"
nt_case_check "the top cause is a firewall that drops, with high confidence" \
    "$sel | .causes[0] | (.confidence == \"high\") and (.text | test(\"firewall.*drops\"))" \
    "${a[@]}"
nt_case_check "a cause says what the capture cannot separate and what would" \
    "$sel | any(.causes[]; .reason | test(\"cannot tell these apart.*firewall counters.*logs.*inside the server's network\"))" \
    "${a[@]}"
nt_case_check "next steps: a query from inside, the firewall counters, the socket queue" \
    "$sel | [.next_steps[] | test(\"dig @$server4\"), test(\"iptables -L -v -n\"), test(\"ss -ulpn\")] | map(select(.)) | length == 3" \
    "${a[@]}"

# ---------------------------------------------------------------------------------------
nt_case outage --timeout "$timeout_s"
pcap=$(nt_case_pcap)
last_answer=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_RESPONSE) and src host $server4" |
    awk 'END { print $2 }')
answered=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_RESPONSE) and src host $server4" | wc -l)
silent=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to_server" |
    awk -v t="$last_answer" '$2 > t')
first_failure=$(printf '%s\n' "$silent" | awk 'NR == 1 { print $2 }')
last_failure=$(printf '%s\n' "$silent" | awk 'END { print $2 }')
nq=$(printf '%s\n' "$silent" | grep -c . || true)
nl=$(lookups "$pcap" "$to_server")
nl=$((nl - answered))
nt_log "outage: $answered answers, last at $last_answer; $nq silent queries ($nl lookups)" \
    "from $first_failure to $last_failure"
if [ "$answered" -lt 1 ] || [ "$nq" -lt 1 ]; then
    nt_die "outage: $answered answers and $nq silent queries; the scenario is broken"
fi
nt_case_status 1
nt_case_ids '["dns.no_response"]'
nt_case_eq "lookups and query packets of the silence" "$sel | [.lookups, .query_packets]" \
    "[$nl,$nq]" "${a[@]}"
nt_case_eq "window: last answer, first and last unanswered query, no recovery" \
    "$sel | .window | [.last_success_before, .first_failure, .last_failure, .first_success_after, .successes_during]" \
    "[\"$last_answer\",\"$first_failure\",\"$last_failure\",null,0]" "${a[@]}"
nt_case_eq "severity high" "$sel | .severity" '"high"' "${a[@]}"
nt_case_check "a fact gives the last answer's time and the count answered" \
    "$sel | any(.facts[]; contains(\"answered \" + (\$n | tostring) + \" of its \") and contains(\$t[0:19]))" \
    "${a[@]}" --argjson n "$answered" --arg t "$last_answer"
nt_case_check "the summary calls it an outage after the last answer" \
    "$sel | .summary | test(\"then went silent: an outage\")" "${a[@]}"
nt_case_check "the top cause is a change between the last answer and the first silence" \
    "$sel | .causes[0] | (.confidence == \"high\") and (.text | test(\"^Something changed\"))" \
    "${a[@]}"

# ---------------------------------------------------------------------------------------
# The analyst stopped the capture right after dig gave up (issue 8): the client's own retries
# are the evidence of no answer, so dns.no_response fires, as a short observation.
nt_case gaveup --timeout "$timeout_s"
pcap=$(nt_case_pcap)
g_queries=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to_server" | wc -l)
g_answers=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_RESPONSE) and src host $server4" | wc -l)
if [ "$g_queries" -lt 2 ] || [ "$g_answers" -ne 0 ]; then
    nt_die "gaveup: $g_queries queries, $g_answers answers in the capture; scenario broken"
fi
nt_case_status 1
nt_case_ids '["dns.no_response"]'
nt_case_eq "the queries in the capture, retries included" '.findings[0].query_packets' "$g_queries"
nt_case_check "a short observation, the client's retries counted" \
    '.findings[0].facts | any(.[]; test("^Short observation: 1 of these lookups") and
     test("1 of them (was|were) retransmitted by the client"))'
nt_case_check "confidence reflects the short observation: no cause above medium" \
    'all(.findings[0].causes[]; .confidence != "high")'

# ---------------------------------------------------------------------------------------
nt_case cutoff --timeout "$timeout_s"
pcap=$(nt_case_pcap)
answered=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_RESPONSE) and src host $server4" | wc -l)
nl=$(lookups "$pcap" "$to_server")
cut=$((nl - answered))
nt_log "cutoff: $nl lookups, $answered answered, $cut cut off by the end of the capture"
[ "$cut" -ge 1 ] || nt_die "cutoff: no unanswered query in the capture; the scenario is broken"
nt_case_status 0
nt_case_ids '[]'
nt_case_eq "summary: the cut-off lookup is counted apart, not as unanswered" \
    '.summary | [.dns_lookups, .answered, .unanswered, .capture_ended]' \
    "[$nl,$answered,0,$cut]"

# ---------------------------------------------------------------------------------------
nt_case quiet --timeout "$timeout_s"
q_lookups=$(lookups "$(nt_case_pcap)" udp)
nt_case_status 0
nt_case_ids '[]'
nt_case_eq "every lookup answered" '.summary | [.dns_lookups, .answered, .unanswered]' \
    "[$q_lookups,$q_lookups,0]"

nt_finish
