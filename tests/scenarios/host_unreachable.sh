#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario host_unreachable: the server namespace is a router (IP forwarding) between the
# client and a third namespace where a real DNS server (dnsmasq) runs. DNS queries to servers
# the router cannot deliver to draw ICMP host or network unreachable from the router:
#   1. route: the router refuses at once from its routing table: `ip route add unreachable`
#      (ICMP host unreachable, ICMPv6 no route) and no route at all (ICMP network
#      unreachable, ICMPv6 no route). nettriage must raise dns.host_unreachable once per
#      server, name the router, and rank routing trouble first (the error came at once).
#   2. neighbour: the router has the server's network on a link, but nothing answers ARP /
#      neighbour discovery for the server's address: ICMP host unreachable (ICMPv6 address
#      unreachable) after about 3 s. nettriage must rank "server host down or absent" first.
#   3. healthy: the router forwards to dnsmasq, which answers every lookup: no finding at all.
#
#   tests/scenarios/host_unreachable.sh [--record | --replay] NETTRIAGE
#                                   (live and --record need root; exit 0 pass, 1 fail, 77 skip)
#
# Every expected count, time and delay is taken from the capture with tcpdump and BPF filters;
# dig decides how many queries it sends.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"

nt_init host_unreachable
client4=198.51.100.15 router4=198.51.100.2
client6=2001:db8::15 router6=2001:db8::2
# The router's second link, toward the DNS server's namespace.
link4=203.0.113.1 dns4=203.0.113.53
link6=2001:db8:1::1 dns6=2001:db8:1::53
# Unreachable route (IPv4: 192.0.2.0/25; IPv6: 2001:db8:98::/64), no route at all (192.0.2.128/25,
# 2001:db8:99::/64), and addresses on the router's link that nobody holds.
unreach4=192.0.2.53 noroute4=192.0.2.153 absent4=203.0.113.99
unreach6=2001:db8:98::53 noroute6=2001:db8:99::53 absent6=2001:db8:1::99

# dig_bg NAME SERVER TYPE: dig from the client in the background (one try), output in
# $NT_WORK/dig-NAME-SERVER.out; its pid is appended to DIG_PIDS.
DIG_PIDS=()
dig_bg() {
    nt_client dig @"$2" yummyrecipesforme.com "$3" +tries=1 +timeout=6 +short \
        >"$NT_WORK/dig-$1-$2.out" 2>&1 &
    DIG_PIDS+=("$!")
}
dig_wait() {
    local p
    for p in "${DIG_PIDS[@]}"; do wait "$p" || true; done
    DIG_PIDS=()
}


if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout
    nt_make_pair "$client4/24" "$router4/24" "$client6/64" "$router6/64"
    dns_ns="ntd-$NT_ID"
    nt_ns_add "$dns_ns"
    ip link add "ntr$NT_ID" netns "$NT_SERVER_NS" type veth peer name "ntd$NT_ID" netns "$dns_ns" ||
        nt_skip "cannot create a veth pair"
    ip netns exec "$dns_ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
        net.ipv6.conf.default.router_solicitations=0 >/dev/null 2>&1 || true
    ip -n "$NT_SERVER_NS" addr add "$link4/24" dev "ntr$NT_ID"
    ip -n "$NT_SERVER_NS" addr add "$link6/64" dev "ntr$NT_ID" nodad
    ip -n "$dns_ns" addr add "$dns4/24" dev "ntd$NT_ID"
    ip -n "$dns_ns" addr add "$dns6/64" dev "ntd$NT_ID" nodad
    ip -n "$NT_SERVER_NS" link set "ntr$NT_ID" up
    ip -n "$dns_ns" link set "ntd$NT_ID" up
    nt_server sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    ip -n "$NT_CLIENT_NS" route add default via "$router4"
    ip -n "$NT_CLIENT_NS" -6 route add default via "$router6"
    ip -n "$dns_ns" route add default via "$link4"
    ip -n "$dns_ns" -6 route add default via "$link6"
    ip -n "$NT_SERVER_NS" route add unreachable 192.0.2.0/25
    ip -n "$NT_SERVER_NS" -6 route add unreachable 2001:db8:98::/64
    NT_SERVER_NS=$dns_ns nt_start_dnsmasq "$dns4" "$dns6"
    nt_wait_for "$((NT_WAIT_TENTHS * 3))" "the router's second link to come up" \
        nt_link_ready "$NT_SERVER_NS" "ntr$NT_ID" "$dns_ns" "ntd$NT_ID"

    # 1. The routing table refuses: errors at once.
    nt_capture_start route
    for s in "$unreach4" "$noroute4"; do dig_bg route "$s" A; done
    for s in "$unreach6" "$noroute6"; do dig_bg route "$s" AAAA; done
    dig_wait
    nt_capture_stop route 8

    # 2. Nobody answers ARP / neighbour discovery: errors after about 3 s.
    nt_capture_start neighbour
    dig_bg neighbour "$absent4" A
    dig_bg neighbour "$absent6" AAAA
    dig_wait
    nt_capture_stop neighbour 4

    # 3. Forwarded to dnsmasq, answered.
    nt_capture_start healthy
    dig_bg healthy "$dns4" A
    dig_bg healthy "$dns6" AAAA
    dig_wait
    nt_capture_stop healthy 4
    grep -qx 198.51.100.7 "$NT_WORK/dig-healthy-$dns4.out" ||
        nt_die "dnsmasq did not answer the A query: $(cat "$NT_WORK/dig-healthy-$dns4.out")"
    grep -qx 2001:db8::7 "$NT_WORK/dig-healthy-$dns6.out" ||
        nt_die "dnsmasq did not answer the AAAA query: $(cat "$NT_WORK/dig-healthy-$dns6.out")"
fi


# epoch PCAP FILTER: time (seconds since 1970, with microseconds) of the first matching packet.
epoch() { tcpdump -nn -tt -r "$1" "$2" 2>/dev/null | awk 'NR == 1 { print $1 }'; }

# check_server SERVER CLIENT QTYPE KIND_BPF DELAY_CLASS TOP_CAUSE: the dns.host_unreachable
# finding for SERVER in the current case, both paths, against counts from the capture.
# KIND_BPF: the ICMP type/code every error about SERVER must have. DELAY_CLASS: fast (< 0.5 s)
# or resolve (2 s to 4.5 s) from the first query to the first error, as the scenario intends.
# TOP_CAUSE: a regular expression the first-ranked cause must match.
check_server() {
    local server=$1 client=$2 qtype=$3 kind_bpf=$4 class=$5 top=$6
    local pcap errs_bpf queries errors lookups nkind routers first last packets t_q t_e delay
    pcap=$(nt_case_pcap)
    errs_bpf="($NT_BPF_ICMP_ERROR) and $(nt_bpf_quotes_dst "$server")"
    queries=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and dst host $server")
    errors=$(nt_pcap_select "$pcap" "$errs_bpf")
    lookups=$(nt_dns_lookups "$pcap" "dst host $server" | wc -l)
    nkind=$(nt_pcap_select "$pcap" "($errs_bpf) and ($kind_bpf)" | grep -c . || true)
    routers=$(tcpdump -nn -r "$pcap" "$errs_bpf" 2>/dev/null | awk '{ print $3 }' | sort -u |
        jq -R . | jq -sc .)
    local nq ne
    nq=$(printf '%s\n' "$queries" | grep -c . || true)
    ne=$(printf '%s\n' "$errors" | grep -c . || true)
    if [ "$nq" -lt 1 ] || [ "$ne" -lt 1 ]; then
        nt_die "$NT_CASE: $server: $nq queries, $ne errors; scenario broken"
    fi
    [ "$nkind" -eq "$ne" ] || nt_die "$NT_CASE: $server: only $nkind of $ne errors match $kind_bpf"
    t_q=$(epoch "$pcap" "($NT_BPF_DNS_QUERY) and dst host $server")
    t_e=$(epoch "$pcap" "$errs_bpf")
    delay=$(awk -v a="$t_q" -v b="$t_e" 'BEGIN { printf "%.6f", b - a }')
    case "$class" in
    fast) awk -v d="$delay" 'BEGIN { exit !(d >= 0 && d < 0.5) }' ||
        nt_die "$NT_CASE: $server: error $delay s after the query, expected at once" ;;
    resolve) awk -v d="$delay" 'BEGIN { exit !(d >= 2 && d <= 4.5) }' ||
        nt_die "$NT_CASE: $server: error $delay s after the query, expected about 3 s" ;;
    esac
    first=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $2 }' | sort | sed -n 1p)
    last=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $2 }' | sort | tail -n 1)
    packets=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $1 }' | sort -n | jq -sc .)
    nt_log "$NT_CASE: $server: $nq queries, $lookups lookups, $ne errors from $routers," \
        "first error $delay s after the first query"
    local f='[.findings[] | select(.id == "dns.host_unreachable" and .server == $s)]'
    local one="$f | .[0]" a=(--arg s "$server")
    nt_case_eq "$server: exactly one finding" "$f | length" 1 "${a[@]}"
    nt_case_eq "$server: severity, protocol, port, service, attack" \
        "$one | {severity, protocol, port, service, attack}" \
        '{"severity":"high","protocol":"udp","port":53,"service":"DNS","attack":null}' "${a[@]}"
    nt_case_eq "$server: lookups" "$one | .lookups" "$lookups" "${a[@]}"
    nt_case_eq "$server: query_packets" "$one | .query_packets" "$nq" "${a[@]}"
    nt_case_eq "$server: error_packets" "$one | .error_packets" "$ne" "${a[@]}"
    nt_case_eq "$server: clients" "$one | .clients" "[\"$client\"]" "${a[@]}"
    nt_case_eq "$server: query_names" "$one | .query_names" \
        "[\"yummyrecipesforme.com $qtype\"]" "${a[@]}"
    nt_case_eq "$server: first_seen" "$one | .first_seen" "\"$first\"" "${a[@]}"
    nt_case_eq "$server: last_seen" "$one | .last_seen" "\"$last\"" "${a[@]}"
    nt_case_eq "$server: evidence is exactly the queries and errors" \
        "$one | [.evidence[].packet]" "$packets" "${a[@]}"
    nt_case_eq "$server: window: never answered, failures from first to last seen" \
        "$one | .window | {last_success_before, first_failure, last_failure, first_success_after}" \
        "{\"last_success_before\":null,\"first_failure\":\"$first\",\"last_failure\":\"$last\",\"first_success_after\":null}" \
        "${a[@]}"
    nt_case_eq "$server: summary names the router(s) $routers, not the server, as the sender" \
        "$one | .summary | (contains(\"sent by the router \" + (\$r | join(\", \")) + \" on the path, not by the server\"))" \
        true "${a[@]}" --argjson r "$routers"
    nt_case_eq "$server: top cause matches /$top/" \
        "$one | .causes[0] | (.confidence == \"high\") and (.text | test(\$t))" true \
        "${a[@]}" --arg t "$top"
    nt_case_eq "$server: both routing and server-down causes are listed" \
        "$one | [any(.causes[]; .text | test(\"Routing trouble\")),
                 any(.causes[]; .text | test(\"server host is down\"))]" '[true,true]' "${a[@]}"
    nt_case_eq "$server: next steps ask the router about the route and the neighbour" \
        "$one | any(.next_steps[]; contains(\"ip route get \" + \$s) and contains(\"ip neigh show\"))" \
        true "${a[@]}"
}

# check_totals: summary figures of the current case against the capture.
check_totals() {
    local pcap lookups
    pcap=$(nt_case_pcap)
    lookups=$(nt_dns_lookups "$pcap" "udp" | wc -l)
    nt_case_eq "summary.packets" '.summary.packets' "$(nt_pcap_count "$pcap")"
    nt_case_eq "summary.dns_queries" '.summary.dns_queries' \
        "$(nt_pcap_select "$pcap" "$NT_BPF_DNS_QUERY" | wc -l)"
    nt_case_eq "summary.dns_lookups" '.summary.dns_lookups' "$lookups"
    nt_case_eq "summary.icmp_errors (all matched)" '.summary | [.icmp_errors, .icmp_errors_matched]' \
        "$(nt_pcap_select "$pcap" "$NT_BPF_ICMP_ERROR" | wc -l | jq -c '[., .]')"
    nt_case_eq "summary.answered" '.summary.answered' 0
}

V4_HOST='icmp[0] == 3 and (icmp[1] == 1 or icmp[1] == 7 or icmp[1] == 8)'
V4_NET='icmp[0] == 3 and (icmp[1] == 0 or icmp[1] == 6 or icmp[1] == 11 or icmp[1] == 12)'
V6_NOROUTE='ip6[40] == 1 and ip6[41] == 0'
V6_ADDR='ip6[40] == 1 and ip6[41] == 3'

# ---------------------------------------------------------------------------------------
# 1. The router's routing table refuses the destination: errors at once.
nt_case route
nt_case_status 1
nt_case_ids '["dns.host_unreachable"]'
check_totals
nt_case_eq "one finding per server" '[.findings[].server] | sort' \
    "$(printf '%s\n' "$unreach4" "$noroute4" "$unreach6" "$noroute6" | jq -R . | jq -sc 'sort')"
check_server "$unreach4" "$client4" A "$V4_HOST" fast 'Routing trouble'
check_server "$noroute4" "$client4" A "$V4_NET" fast 'Routing trouble'
check_server "$unreach6" "$client6" AAAA "$V6_NOROUTE" fast 'Routing trouble'
check_server "$noroute6" "$client6" AAAA "$V6_NOROUTE" fast 'Routing trouble'
nt_case_eq "$noroute4: network unreachable is named" \
    '[.findings[] | select(.server == $s) | .summary | contains("ICMP network unreachable")]' \
    '[true]' --arg s "$noroute4"
nt_case_eq "$unreach4: host unreachable is named" \
    '[.findings[] | select(.server == $s) | .summary | contains("ICMP host unreachable")]' \
    '[true]' --arg s "$unreach4"

# ---------------------------------------------------------------------------------------
# 2. Nobody answers ARP / neighbour discovery for the server: errors after about 3 s.
nt_case neighbour
nt_case_status 1
nt_case_ids '["dns.host_unreachable"]'
check_totals
nt_case_eq "one finding per server" '[.findings[].server] | sort' \
    "$(printf '%s\n' "$absent4" "$absent6" | jq -R . | jq -sc 'sort')"
check_server "$absent4" "$client4" A "$V4_HOST" resolve 'server host is down'
check_server "$absent6" "$client6" AAAA "$V6_ADDR" resolve 'server host is down'
nt_case_check "the summaries explain the 3 s of address resolution" \
    '[.findings[].summary | contains("ARP, or IPv6 neighbour discovery")] | all'

# ---------------------------------------------------------------------------------------
# 3. Forwarded to a real DNS server: every lookup answered, no finding at all.
nt_case healthy
nt_case_status 0
nt_case_ids '[]'
hpcap=$(nt_case_pcap)
h_lookups=$(nt_dns_lookups "$hpcap" "udp" | wc -l)
[ "$h_lookups" -ge 2 ] || nt_die "healthy: $h_lookups lookups; scenario broken"
nt_case_eq "summary.icmp_errors" '.summary.icmp_errors' 0
nt_case_eq "summary.dns_lookups" '.summary.dns_lookups' "$h_lookups"
nt_case_eq "summary.answered (every lookup)" '.summary.answered' "$h_lookups"
nt_case_eq "summary.dns_responses" '.summary.dns_responses' \
    "$(nt_pcap_select "$hpcap" "$NT_BPF_DNS_RESPONSE" | wc -l)"

nt_finish
