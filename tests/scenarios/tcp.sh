#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario tcp: TCP connection attempts refused or unanswered.
#   closed     nothing listens on TCP 443: the server's kernel answers each SYN with a reset;
#              tcp.refused (HTTPS) fires, "nothing listens" ranked first.
#   filtered   nft `tcp dport 443 drop` on the server: a first attempt retransmits its SYN and
#              gives up (bash /dev/tcp under `timeout 4`), a second one starts 5.5 s later and
#              is cut off by the end of the capture; tcp.no_response fires with the SYN
#              retransmissions counted from the capture. The second attempt counts too when
#              it retransmitted its SYN before the end (the client's own timer ran out: a
#              short observation); with a single SYN it is named as cut off, not failed.
#   dns_tcp    dig +tcp to a server with nothing on TCP 53: tcp.refused on port 53 (DNS over
#              TCP).
#   admin      nft `reject with icmp type admin-prohibited` on TCP 443: tcp.refused, also from
#              the text without -v (only the rejected host is printed).
#   quiet      dnsmasq listens on TCP 53 and dig +tcp is answered: no finding at all.
#
#   tests/scenarios/tcp.sh [--record | --replay] NETTRIAGE   (live/--record: root)
#
# Everything expected is counted in the capture with tcpdump and BPF filters.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init tcp
client4=198.51.100.15 server4=198.51.100.2

# A SYN (no ACK, no RST), a reset, and a SYN-ACK, to or from the server's port.
bpf_syn() { printf 'tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst) == tcp-syn and dst host %s and dst port %s' "$1" "$2"; }
bpf_rst() { printf 'tcp[tcpflags] & tcp-rst != 0 and src host %s and src port %s' "$1" "$2"; }

# syns_by_port PCAP SERVER PORT: "CLIENT_PORT COUNT" per connection attempt, in order of the
# first SYN.
syns_by_port() {
    tcpdump -nn -r "$1" "$(bpf_syn "$2" "$3")" 2>/dev/null |
        awk '{ n = split($3, p, "."); port = p[n]; if (!(port in c)) o[++k] = port; c[port]++ }
             END { for (i = 1; i <= k; i++) print o[i], c[o[i]] }'
}

# times PCAP FILTER: "NUMBER ISO_TIME" lines (nt_pcap_select).
first_time() { nt_pcap_select "$1" "$2" | awk 'NR == 1 { print $2 }'; }
last_time() { nt_pcap_select "$1" "$2" | awk 'END { print $2 }'; }

# check_tcp_finding RULE PORT SERVICE ATTEMPTS SYNS REPLIES FIRST LAST PACKETS_JSON: the one
# finding of RULE for server4:PORT, on both paths.
check_tcp_finding() {
    local rule=$1 port=$2 service=$3 attempts=$4 syns=$5 replies=$6 first=$7 last=$8 pk=$9
    local sel='[.findings[] | select(.id == $r and .server == $s and .port == ($p | tonumber))]'
    local a=(--arg r "$rule" --arg s "$server4" --arg p "$port")
    nt_case_eq "$rule: one finding for $server4:$port" "$sel | length" 1 "${a[@]}"
    nt_case_eq "$rule: protocol, service, severity, attack" \
        "$sel | .[0] | {protocol, service, severity, attack}" \
        "{\"protocol\":\"tcp\",\"service\":\"$service\",\"severity\":\"high\",\"attack\":null}" \
        "${a[@]}"
    nt_case_eq "$rule: clients" "$sel | .[0].clients" "[\"$client4\"]" "${a[@]}"
    nt_case_eq "$rule: attempts (distinct client ports of the SYNs)" "$sel | .[0].lookups" \
        "$attempts" "${a[@]}"
    nt_case_eq "$rule: SYN packets" "$sel | .[0].query_packets" "$syns" "${a[@]}"
    nt_case_eq "$rule: reply packets" "$sel | .[0].error_packets" "$replies" "${a[@]}"
    nt_case_eq "$rule: first_seen (first SYN)" "$sel | .[0].first_seen" "\"$first\"" "${a[@]}"
    nt_case_eq "$rule: last_seen" "$sel | .[0].last_seen" "\"$last\"" "${a[@]}"
    nt_case_eq "$rule: window first/last failure" \
        "$sel | .[0].window | [.first_failure, .last_failure]" "[\"$first\",\"$last\"]" "${a[@]}"
    nt_case_eq "$rule: no success of $server4:$port in the capture" \
        "$sel | .[0].window | [.last_success_before, .first_success_after, .successes_total]" \
        '[null,null,0]' "${a[@]}"
    nt_case_check "$rule: evidence cites only the attempts' packets $pk" \
        "$sel | .[0] | [.evidence[].packet] | length > 0 and all(.[]; . as \$x | \$pk | index([\$x]) != null)" \
        "${a[@]}" --argjson pk "$pk"
    nt_case_check "$rule: summary, causes and next steps present" \
        "$sel | .[0] | (.summary | length > 0) and (.causes | length >= 2) and (.next_steps | length >= 3)" \
        "${a[@]}"
    nt_case_check "$rule: every next-step command is closed (even number of backticks)" \
        "$sel | .[0] | all(.next_steps[]; [scan(\"\`\")] | length % 2 == 0)" "${a[@]}"
}

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout nft
    nt_make_pair "$client4/24" "$server4/24"
    # shellcheck disable=SC2317  # also called through nt_wait_for
    tcp_listening() { nt_server ss -Hltn "sport = :$1" | grep -q .; }
    ! tcp_listening 443 || nt_die "something listens on TCP 443 in the server namespace"
    ! tcp_listening 53 || nt_die "something listens on TCP 53 in the server namespace"

    # closed: two attempts, each reset at once.
    nt_capture_start closed
    for _ in 1 2; do
        nt_client timeout 4 bash -c "exec 3<>/dev/tcp/$server4/443" 2>/dev/null || true
    done
    nt_capture_stop closed 4

    # filtered: the SYNs are dropped.
    nt_nft "$NT_SERVER_NS" "table inet nt_tcp {
        chain input {
            type filter hook input priority filter; policy accept;
            tcp dport 443 drop
        }
    }" || nt_skip "cannot load an nftables ruleset in a namespace"
    nt_capture_start filtered
    nt_client timeout 4 bash -c "exec 3<>/dev/tcp/$server4/443" 2>/dev/null || true
    # More than the 5 s timeout after the first attempt's last SYN (about 3 s in).
    sleep 5.5
    nt_client timeout 1.5 bash -c "exec 3<>/dev/tcp/$server4/443" 2>/dev/null || true
    nt_capture_stop filtered 5
    ip netns exec "$NT_SERVER_NS" nft delete table inet nt_tcp

    # admin: a firewall rejects the SYNs with ICMP administratively prohibited.
    nt_nft "$NT_SERVER_NS" "table inet nt_tcp_admin {
        chain input {
            type filter hook input priority filter; policy accept;
            tcp dport 443 reject with icmp type admin-prohibited
        }
    }" || nt_skip "cannot load an nftables ruleset in a namespace"
    nt_capture_start admin
    for _ in 1 2; do
        nt_client timeout 4 bash -c "exec 3<>/dev/tcp/$server4/443" 2>/dev/null || true
    done
    nt_capture_stop admin 4
    ip netns exec "$NT_SERVER_NS" nft delete table inet nt_tcp_admin

    # dns_tcp: nothing on TCP 53.
    nt_capture_start dns_tcp
    nt_client dig @"$server4" yummyrecipesforme.com A +tcp +tries=1 +timeout=2 \
        >"$NT_WORK/dig-dns_tcp.out" 2>&1 || true
    nt_capture_stop dns_tcp 2

    # quiet: dnsmasq answers over TCP.
    nt_start_dnsmasq "$server4"
    nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq on TCP 53" tcp_listening 53
    nt_capture_start quiet
    nt_client dig @"$server4" yummyrecipesforme.com A +tcp +tries=1 +timeout=2 +short \
        >"$NT_WORK/dig-quiet.out" 2>&1 || true
    nt_capture_stop quiet 6
    grep -qx 198.51.100.7 "$NT_WORK/dig-quiet.out" ||
        nt_die "dnsmasq did not answer over TCP: $(cat "$NT_WORK/dig-quiet.out")"
fi

# --- closed ------------------------------------------------------------------------------
nt_case closed
pcap=$(nt_case_pcap)
nt_case_status 1
nt_case_ids '["tcp.refused"]'
syn_f=$(bpf_syn "$server4" 443)
rst_f=$(bpf_rst "$server4" 443)
attempts=$(syns_by_port "$pcap" "$server4" 443 | wc -l)
syns=$(nt_pcap_select "$pcap" "$syn_f" | wc -l)
rsts=$(nt_pcap_select "$pcap" "$rst_f" | wc -l)
if [ "$attempts" -lt 2 ] || [ "$rsts" -ne "$attempts" ]; then
    nt_die "closed: $attempts attempts, $rsts resets in the capture; scenario broken"
fi
pk=$(nt_pcap_select "$pcap" "($syn_f) or ($rst_f)" | awk '{ print $1 }' | jq -sc .)
check_tcp_finding tcp.refused 443 HTTPS "$attempts" "$syns" "$rsts" \
    "$(first_time "$pcap" "$syn_f")" "$(last_time "$pcap" "$rst_f")" "$pk"
nt_case_check "top cause: nothing listens (high), firewall with tcp-reset second" \
    '.findings[0].causes | (.[0].text | test("Nothing listens")) and .[0].confidence == "high"
     and (.[1].text | test("firewall"; "i")) and (.[1].reason | test("cannot tell"))'
nt_case_check "summary names the reset and the server" \
    '.findings[0].summary | test("reset") and test("198\\.51\\.100\\.2")'

# --- filtered ----------------------------------------------------------------------------
nt_case filtered
pcap=$(nt_case_pcap)
nt_case_status 1
nt_case_ids '["tcp.no_response"]'
syn_f=$(bpf_syn "$server4" 443)
mapfile -t per < <(syns_by_port "$pcap" "$server4" 443)
[ "${#per[@]}" -eq 2 ] || nt_die "filtered: ${#per[@]} attempts in the capture, expected 2"
read -r port1 syns1 <<<"${per[0]}"
read -r port2 syns2 <<<"${per[1]}"
[ "$syns1" -ge 2 ] || nt_die "filtered: the first attempt sent $syns1 SYN; no retransmission"
nt_log "filtered: attempt 1 (port $port1) sent $syns1 SYNs, attempt 2 (port $port2) $syns2"
a1_f="$syn_f and src port $port1"
if [ "$syns2" -ge 2 ]; then
    # The second attempt retransmitted its SYN before the capture ended: the client's own
    # timer ran out with no answer, so it is counted (a short observation), not cut off.
    both_f="$syn_f and (src port $port1 or src port $port2)"
    pk=$(nt_pcap_select "$pcap" "$both_f" | awk '{ print $1 }' | jq -sc .)
    check_tcp_finding tcp.no_response 443 HTTPS 2 "$((syns1 + syns2))" 0 \
        "$(first_time "$pcap" "$both_f")" "$(last_time "$pcap" "$both_f")" "$pk"
    nt_case_check "the second attempt is a short observation with its $((syns2 - 1)) retransmission(s)" \
        '.findings[0].facts | any(.[]; contains("Short observation: 1 of these attempts had no answer yet when the capture ended")
         and contains("retransmitted its SYN " + $r + " time"))' --arg r "$((syns2 - 1))"
    nt_case_check "the SYN retransmissions are counted ($((syns1 + syns2 - 2)))" \
        '.findings[0].facts | any(.[]; contains("(2 connection attempts, " + $r + " retransmission"))' \
        --arg r "$((syns1 + syns2 - 2))"
else
    pk=$(nt_pcap_select "$pcap" "$a1_f" | awk '{ print $1 }' | jq -sc .)
    check_tcp_finding tcp.no_response 443 HTTPS 1 "$syns1" 0 \
        "$(first_time "$pcap" "$a1_f")" "$(last_time "$pcap" "$a1_f")" "$pk"
    nt_case_check "the SYN retransmissions are counted ($((syns1 - 1)))" \
        '.findings[0].facts | any(.[]; contains("(1 connection attempt, " + $r + " retransmission"))' \
        --arg r "$((syns1 - 1))"
    nt_case_check "the backoff is stated: $syns1 SYNs per attempt" \
        '.findings[0].facts | any(.[]; contains(": " + $n + " SYNs per attempt"))' --arg n "$syns1"
    nt_case_check "the attempt cut off by the end of the capture (one SYN) is named, not counted" \
        '.findings[0].facts | any(.[]; contains("1 further attempt to the same port (1 SYN")
         and contains("not counted as a failure"))'
fi
nt_case_check "top cause: a filter dropping the SYNs, then a host down" \
    '.findings[0].causes | (.[0].text | test("drops the SYNs")) and any(.[]; .text | test("down or absent"))'

# --- admin -------------------------------------------------------------------------------
# The SYNs rejected by a firewall with ICMP admin prohibited (code 13): tcp.refused, read from
# the pcap, from the -vv text (the quoted SYN shown) and from the text without -v, which prints
# only "ICMP host 198.51.100.2 unreachable - admin prohibited filter" (issue 8: real pastes of
# this were missed).
nt_case admin
pcap=$(nt_case_pcap)
nt_case_status 1
nt_case_ids '["tcp.refused"]'
syn_f=$(bpf_syn "$server4" 443)
adm_f="icmp[icmptype] == icmp-unreach and icmp[icmpcode] == 13"
attempts=$(syns_by_port "$pcap" "$server4" 443 | wc -l)
syns=$(nt_pcap_select "$pcap" "$syn_f" | wc -l)
adms=$(nt_pcap_select "$pcap" "$adm_f" | wc -l)
if [ "$attempts" -lt 2 ] || [ "$adms" -lt "$attempts" ]; then
    nt_die "admin: $attempts attempts, $adms admin-prohibited errors in the capture; scenario broken"
fi
nt_case_eq "tcp_icmp_errors: every attempt refused by ICMP" '.summary.tcp_icmp_errors' "$attempts"
nt_case_check "the refusal is named administratively prohibited" \
    '.findings[0].facts | any(.[]; test("[0-9]+ administratively prohibited"))'
tcpdump -nn -r "$pcap" >"$NT_WORK/admin-nov.txt" 2>/dev/null || nt_die "tcpdump cannot read $pcap"
grep -q 'unreachable - admin prohibited' "$NT_WORK/admin-nov.txt" ||
    nt_die "admin: tcpdump without -v does not print the admin-prohibited line"
nt_nettriage "$NT_WORK/admin-nov.json" "$nettriage" report --format json "$NT_WORK/admin-nov.txt"
nt_expect_eq "admin (text without -v): exit status" "$NT_STATUS" 1
nt_json_eq "admin (text without -v): finding ids" "$NT_WORK/admin-nov.json" \
    '[.findings[].id] | unique' '["tcp.refused"]'
nt_json_eq "admin (text without -v): every attempt refused by ICMP" "$NT_WORK/admin-nov.json" \
    '.summary.tcp_icmp_errors' "$attempts"

# --- dns_tcp -----------------------------------------------------------------------------
nt_case dns_tcp
pcap=$(nt_case_pcap)
nt_case_status 1
nt_case_ids '["tcp.refused"]'
syn_f=$(bpf_syn "$server4" 53)
rst_f=$(bpf_rst "$server4" 53)
attempts=$(syns_by_port "$pcap" "$server4" 53 | wc -l)
syns=$(nt_pcap_select "$pcap" "$syn_f" | wc -l)
rsts=$(nt_pcap_select "$pcap" "$rst_f" | wc -l)
if [ "$attempts" -lt 1 ] || [ "$rsts" -ne "$attempts" ]; then
    nt_die "dns_tcp: $attempts attempts, $rsts resets in the capture; scenario broken"
fi
pk=$(nt_pcap_select "$pcap" "($syn_f) or ($rst_f)" | awk '{ print $1 }' | jq -sc .)
check_tcp_finding tcp.refused 53 "DNS over TCP" "$attempts" "$syns" "$rsts" \
    "$(first_time "$pcap" "$syn_f")" "$(last_time "$pcap" "$rst_f")" "$pk"

# --- quiet -------------------------------------------------------------------------------
nt_case quiet
pcap=$(nt_case_pcap)
nt_case_status 0
nt_case_ids '[]'
synack=$(nt_pcap_select "$pcap" "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) and src host $server4 and src port 53" | wc -l)
[ "$synack" -ge 1 ] || nt_die "quiet: no SYN-ACK from $server4:53 in the capture"
nt_case_eq "the DNS lookup over TCP was answered" '.summary.answered' 1

nt_finish
