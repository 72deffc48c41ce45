#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario icmp_path: ICMP errors from routers on the path. The client's router (the server
# namespace, R1) forwards 192.0.2.0/24 and 2001:db8:2::/64 to a second router (R2) over a link
# whose MTU is 1280; R2 holds the DNS server (dnsmasq on 192.0.2.53 and 2001:db8:2::53) and its
# default route points back to R1.
#   1. loop: a query to 192.0.2.99 / 2001:db8:2::99, which R2 does not hold, goes round the
#      loop R1 -> R2 -> R1 ... until its TTL runs out. Captured twice at once: on the client's
#      link (case loop_client: the TTL 64 seen there cannot run out on a 2-hop path) and on the
#      R1-R2 link (case loop_link: the same query passes again and again with a lower TTL).
#      nettriage must raise icmp.time_exceeded (high) naming the router, and rank the loop first.
#   2. short_ttl: the client sends with TTL / hop limit 1 to the real server: R1 sends time
#      exceeded at once. icmp.time_exceeded (medium), "too small a TTL" ranked first.
#   3. frag: the client sends a 1400-byte DNS query with DF (bash /dev/udp, an EDNS padding
#      option) over IPv4 and IPv6: R1 answers fragmentation needed / packet too big with MTU
#      1280. icmp.frag_needed naming the router, the MTU and the datagram's size.
#   4. healthy: ordinary (small) queries through the same routers: answered, no finding at all.
#
#   tests/scenarios/icmp_path.sh [--record | --replay] NETTRIAGE
#                                   (live and --record need root; exit 0 pass, 1 fail, 77 skip)
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"

nt_init icmp_path
client4=198.51.100.15 r1_4=198.51.100.2
client6=2001:db8::15 r1_6=2001:db8::2
link1_4=203.0.113.1 link2_4=203.0.113.2
link1_6=2001:db8:1::1 link2_6=2001:db8:1::2
dns4=192.0.2.53 dns6=2001:db8:2::53
lost4=192.0.2.99 lost6=2001:db8:2::99


# capture_on NAME NS IF: like nt_capture_start, on interface IF of namespace NS (then
# nt_capture_stop NAME stops it and records it).
capture_on() {
    local name=$1 ns=$2 ifc=$3 pid
    local pcap="$NT_WORK/$name.pcap" err="$NT_WORK/$name.tcpdump.log"
    ip netns exec "$ns" tcpdump -i "$ifc" -w "$pcap" -U --immediate-mode -s 65535 -B 65536 -Z root \
        2>"$err" &
    pid=$!
    NT_PIDS+=("$pid")
    NT_CAPTURE_PID[$name]=$pid
    nt_wait_said "$pid" "$err" 'listening on' tcpdump
}

DIG_PIDS=()
# dig_bg NAME SERVER TYPE: dig from the client in the background (one try).
dig_bg() {
    nt_client dig @"$2" yummyrecipesforme.com "$3" +tries=1 +timeout=2 +short \
        >"$NT_WORK/dig-$1-$2.out" 2>&1 &
    DIG_PIDS+=("$!")
}
dig_wait() {
    local p
    for p in "${DIG_PIDS[@]}"; do wait "$p" || true; done
    DIG_PIDS=()
}

# big_query ADDR: one 1400-byte IP datagram (1372 bytes of DNS: A? yummyrecipesforme.com with
# an EDNS padding option of 1318 zero bytes) from the client to ADDR port 53, in one write
# (dd) on a bash /dev/udp socket, which Linux sends with DF set (path MTU discovery).
big_query() {
    local hdr='\022\064\001\000\000\001\000\000\000\000\000\001'
    local q='\021yummyrecipesforme\003com\000\000\001\000\001'
    local opt='\000\000\051\004\320\000\000\000\000\005\052\000\014\005\046'
    nt_client bash -c 'set -o pipefail
        { printf "$1$2$3"; head -c 1318 /dev/zero; } |
            dd bs=4096 iflag=fullblock count=1 status=none >"/dev/udp/$4/53"' \
        big_query "$hdr" "$q" "$opt" "$1"
}

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout dd
    nt_make_pair "$client4/24" "$r1_4/24" "$client6/64" "$r1_6/64"
    r2="ntd-$NT_ID" r1if="ntr$NT_ID" r2if="ntd$NT_ID"
    nt_ns_add "$r2"
    ip link add "$r1if" netns "$NT_SERVER_NS" type veth peer name "$r2if" netns "$r2" ||
        nt_skip "cannot create a veth pair"
    ip netns exec "$r2" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
        net.ipv6.conf.default.router_solicitations=0 >/dev/null 2>&1 || true
    ip -n "$NT_SERVER_NS" link set "$r1if" mtu 1280
    ip -n "$r2" link set "$r2if" mtu 1280
    ip -n "$NT_SERVER_NS" addr add "$link1_4/24" dev "$r1if"
    ip -n "$NT_SERVER_NS" addr add "$link1_6/64" dev "$r1if" nodad
    ip -n "$r2" addr add "$link2_4/24" dev "$r2if"
    ip -n "$r2" addr add "$link2_6/64" dev "$r2if" nodad
    ip -n "$r2" addr add "$dns4/32" dev lo
    ip -n "$r2" addr add "$dns6/128" dev lo nodad
    ip -n "$NT_SERVER_NS" link set "$r1if" up
    ip -n "$r2" link set "$r2if" up
    # Pace the R1-R2 link (2 Mbit/s, queued, not dropped), so that tcpdump keeps up with a
    # datagram circling the loop.
    ip -n "$NT_SERVER_NS" link set "$r1if" txqueuelen 1000
    ip netns exec "$NT_SERVER_NS" tc qdisc add dev "$r1if" root tbf rate 2mbit burst 4kb limit 200kb
    ip netns exec "$r2" tc qdisc add dev "$r2if" root tbf rate 2mbit burst 4kb limit 200kb
    for ns in "$NT_SERVER_NS" "$r2"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    done
    ip -n "$NT_CLIENT_NS" route add default via "$r1_4"
    ip -n "$NT_CLIENT_NS" -6 route add default via "$r1_6"
    ip -n "$NT_SERVER_NS" route add 192.0.2.0/24 via "$link2_4"
    ip -n "$NT_SERVER_NS" -6 route add 2001:db8:2::/64 via "$link2_6"
    # R2's way back to the client, and the loop: whatever in 192.0.2.0/24 it does not hold
    # itself goes back to R1.
    ip -n "$r2" route add default via "$link1_4"
    ip -n "$r2" -6 route add default via "$link1_6"
    nt_wait_for "$((NT_WAIT_TENTHS * 3))" "the R1-R2 link to come up" \
        nt_link_ready "$NT_SERVER_NS" "$r1if" "$r2" "$r2if"
    NT_SERVER_NS=$r2 nt_start_dnsmasq "$dns4" "$dns6"

    # 1. The loop, seen from the client's link and from the R1-R2 link at once.
    nt_capture_start loop_client
    capture_on loop_link "$NT_SERVER_NS" "$r1if"
    dig_bg loop "$lost4" A
    dig_bg loop "$lost6" AAAA
    dig_wait
    nt_capture_stop loop_client 4
    nt_capture_stop loop_link 8

    # 2. TTL / hop limit 1 from the client.
    nt_client sysctl -qw net.ipv4.ip_default_ttl=1 "net.ipv6.conf.$NT_CLIENT_IF.hop_limit=1"
    nt_capture_start short_ttl
    dig_bg short "$dns4" A
    dig_bg short "$dns6" AAAA
    dig_wait
    nt_capture_stop short_ttl 4
    nt_client sysctl -qw net.ipv4.ip_default_ttl=64 "net.ipv6.conf.$NT_CLIENT_IF.hop_limit=64"

    # 3. Datagrams larger than the R1-R2 link, with DF (IPv6: never fragmented by routers).
    nt_capture_start frag
    big_query "$dns4"
    big_query "$dns6"
    nt_capture_stop frag 4

    # 4. Small queries through the same routers and link: answered.
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


# ttls PCAP FILTER: the TTLs / hop limits of the matching packets, one per line, in order.
ttls() {
    tcpdump -nn -v -r "$1" "$2" 2>/dev/null |
        sed -n -e 's/.*[(,] ttl \([0-9]*\),.*/\1/p' -e 's/^[^ ]* IP6 (.*hlim \([0-9]*\),.*/\1/p'
}

# case_eq DESCRIPTION JQ_FILTER EXPECTED_JSON [JQ_ARGS...]: nt_case_eq on the paths listed in
# CASE_PATHS only (tcpdump text does not print the datagram an ICMPv6 packet too big quotes).
CASE_PATHS="pcap text"
case_eq() {
    local what=$1 filter=$2 expected=$3 path
    shift 3
    for path in $CASE_PATHS; do
        nt_json_eq "$NT_CASE ($path): $what" "$NT_WORK/$NT_CASE.$path.json" "$filter" \
            "$expected" "$@"
    done
}

# common DST CLIENT KIND_BPF RULE: sets (for the current case) the BPF of the errors about DST,
# checks they all match KIND_BPF, and the RULE finding's identity and counts; sets ROUTER,
# QUERY_BPF and N_QUERIES for the caller.
ROUTER="" QUERY_BPF="" N_QUERIES=0
common() {
    local dst=$1 client=$2 kind_bpf=$3 rule=$4
    local pcap errs_bpf errors ne nkind lookups routers first last packets queries
    pcap=$(nt_case_pcap)
    errs_bpf="($NT_BPF_ICMP_ERROR) and $(nt_bpf_quotes_dst "$dst")"
    QUERY_BPF="($NT_BPF_DNS_QUERY) and dst host $dst"
    queries=$(nt_pcap_select "$pcap" "$QUERY_BPF")
    errors=$(nt_pcap_select "$pcap" "$errs_bpf")
    N_QUERIES=$(printf '%s\n' "$queries" | grep -c . || true)
    ne=$(printf '%s\n' "$errors" | grep -c . || true)
    nkind=$(nt_pcap_select "$pcap" "($errs_bpf) and ($kind_bpf)" | grep -c . || true)
    lookups=$(nt_dns_lookups "$pcap" "dst host $dst" | wc -l)
    routers=$(tcpdump -nn -r "$pcap" "$errs_bpf" 2>/dev/null | awk '{ print $3 }' | sort -u)
    if [ "$N_QUERIES" -lt 1 ] || [ "$ne" -ne 1 ] || [ "$nkind" -ne "$ne" ] ||
        [ "$(printf '%s\n' "$routers" | wc -l)" -ne 1 ]; then
        nt_die "$NT_CASE: $dst: $N_QUERIES queries, $ne errors ($nkind of the kind) from" \
            "'$routers'; scenario broken"
    fi
    ROUTER=$routers
    first=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $2 }' | sort | sed -n 1p)
    last=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $2 }' | sort | tail -n 1)
    # Cited: the first query and the error.
    packets=$(printf '%s\n%s\n' "$(printf '%s\n' "$queries" | sed -n 1p)" "$errors" |
        awk 'NF { print $1 }' | sort -n | jq -sc .)
    nt_log "$NT_CASE: $dst: $N_QUERIES query packets, $lookups lookups, error from $ROUTER"
    local f='[.findings[] | select(.id == $r and .server == $s)]'
    local one="$f | .[0]" a=(--arg r "$rule" --arg s "$dst")
    case_eq "$dst: exactly one $rule finding" "$f | length" 1 "${a[@]}"
    case_eq "$dst: protocol, port, service, attack" "$one | {protocol, port, service, attack}" \
        '{"protocol":"udp","port":53,"service":"DNS","attack":null}' "${a[@]}"
    case_eq "$dst: lookups" "$one | .lookups" "$lookups" "${a[@]}"
    case_eq "$dst: query_packets, error_packets" "$one | [.query_packets, .error_packets]" \
        "[$N_QUERIES,$ne]" "${a[@]}"
    case_eq "$dst: clients" "$one | .clients" "[\"$client\"]" "${a[@]}"
    case_eq "$dst: first_seen, last_seen" "$one | [.first_seen, .last_seen]" \
        "[\"$first\",\"$last\"]" "${a[@]}"
    case_eq "$dst: evidence: the first query and the error" "$one | [.evidence[].packet]" \
        "$packets" "${a[@]}"
    case_eq "$dst: the summary names the router $ROUTER" \
        "$one | .summary | contains(\"router \" + \$rt + \" sent 1 \")" true \
        "${a[@]}" --arg rt "$ROUTER"
}

# check_te DST CLIENT SEVERITY TOP_CAUSE: the icmp.time_exceeded finding for DST.
check_te() {
    local dst=$1 client=$2 sev=$3 top=$4 pcap first_ttl min_ttl
    pcap=$(nt_case_pcap)
    common "$dst" "$client" '(icmp and icmp[0] == 11 and icmp[1] == 0) or (icmp6 and ip6[40] == 3 and ip6[41] == 0)' \
        icmp.time_exceeded
    first_ttl=$(ttls "$pcap" "$QUERY_BPF" | sed -n 1p)
    min_ttl=$(ttls "$pcap" "$QUERY_BPF" | sort -n | sed -n 1p)
    nt_log "$NT_CASE: $dst: TTL $first_ttl first, $min_ttl lowest"
    local one='[.findings[] | select(.id == "icmp.time_exceeded" and .server == $s)] | .[0]'
    local a=(--arg s "$dst")
    case_eq "$dst: severity" "$one | .severity" "\"$sev\"" "${a[@]}"
    case_eq "$dst: top cause /$top/ with high confidence" \
        "$one | .causes[0] | (.confidence == \"high\") and (.text | test(\$t))" true \
        "${a[@]}" --arg t "$top"
    if [ "$first_ttl" = "$min_ttl" ]; then
        case_eq "$dst: the TTL seen ($first_ttl) is stated" \
            "$one | any(.facts[]; contains(\"when the capture first saw them: \" + \$t + \" \"))" \
            true "${a[@]}" --arg t "$first_ttl"
    else
        case_eq "$dst: the loop is shown: $N_QUERIES copies, TTL $first_ttl down to $min_ttl" \
            "$one | .summary | contains(\"passed the capture point \" + \$n + \" times, its \" + \$w + \" falling from \" + \$f + \" to \" + \$m)" \
            true "${a[@]}" --arg n "$N_QUERIES" --arg f "$first_ttl" --arg m "$min_ttl" \
            --arg w "$(case "$dst" in *:*) echo "hop limit" ;; *) echo TTL ;; esac)"
    fi
}

# check_fn DST CLIENT: the icmp.frag_needed finding for DST.
check_fn() {
    local dst=$1 client=$2 pcap mtu size
    pcap=$(nt_case_pcap)
    common "$dst" "$client" '(icmp and icmp[0] == 3 and icmp[1] == 4) or (icmp6 and ip6[40] == 2)' \
        icmp.frag_needed
    mtu=$(tcpdump -nn -r "$pcap" "($NT_BPF_ICMP_ERROR) and $(nt_bpf_quotes_dst "$dst")" 2>/dev/null |
        sed -n 's/.*mtu \([0-9]*\).*/\1/p' | sed -n 1p)
    size=$(tcpdump -nn -v -r "$pcap" "$QUERY_BPF" 2>/dev/null | sed -n \
        -e 's/.*proto UDP (17), length \([0-9]*\)).*/\1/p' \
        -e 's/.*payload length: \([0-9]*\)).*/\1 40/p' | sed -n 1p | awk '{ print $1 + $2 }')
    nt_log "$NT_CASE: $dst: MTU $mtu quoted, datagram of $size bytes"
    local one='[.findings[] | select(.id == "icmp.frag_needed" and .server == $s)] | .[0]'
    local a=(--arg s "$dst")
    case_eq "$dst: severity" "$one | .severity" '"medium"' "${a[@]}"
    case_eq "$dst: summary quotes the MTU ($mtu) and the size ($size)" \
        "$one | .summary | contains(\"quoting a next-hop MTU of \" + \$m + \" bytes\") and contains(\"did not fit was \" + \$z + \" bytes\")" \
        true "${a[@]}" --arg m "$mtu" --arg z "$size"
    case_eq "$dst: causes: lower path MTU first (high), black-hole risk listed" \
        "$one | [(.causes[0] | .confidence == \"high\" and (.text | test(\"path MTU is lower\"))),
                 any(.causes[]; .text | test(\"Black-hole\"))]" '[true,true]' "${a[@]}"
    case_eq "$dst: next step measures the path MTU" \
        "$one | any(.next_steps[]; contains(\"tracepath -n \" + \$s))" true "${a[@]}"
}

TE_IDS='["icmp.time_exceeded"]'

# ---------------------------------------------------------------------------------------
# 1. A routing loop, from the client's link and from a link on the loop.
nt_case loop_client
nt_case_status 1
nt_case_ids "$TE_IDS"
check_te "$lost4" "$client4" high 'routing loop'
check_te "$lost6" "$client6" high 'routing loop'
nt_case loop_link
nt_case_status 1
nt_case_ids "$TE_IDS"
check_te "$lost4" "$client4" high 'routing loop'
check_te "$lost6" "$client6" high 'routing loop'

# ---------------------------------------------------------------------------------------
# 2. TTL 1 from the client.
nt_case short_ttl
nt_case_status 1
nt_case_ids "$TE_IDS"
check_te "$dns4" "$client4" medium 'too small a TTL'
check_te "$dns6" "$client6" medium 'too small a TTL'

# ---------------------------------------------------------------------------------------
# 3. Too big for the 1280-byte link.
nt_case frag
nt_case_status 1
nt_case_ids '["icmp.frag_needed"]'
check_fn "$dns4" "$client4"
CASE_PATHS=pcap check_fn "$dns6" "$client6"
# tcpdump prints no quote for an ICMPv6 packet too big, so from the text the destination is
# unknown: one finding without a server, still naming the router and the MTU.
nt_json_eq "frag (text): $dns6: packet too big without its quote: no server, router and MTU named" \
    "$NT_WORK/frag.text.json" \
    '[.findings[] | select(.id == "icmp.frag_needed" and .server == null) |
      (.summary | contains("router " + $r + " sent 1 ICMPv6 packet too big") and
                  contains("a next-hop MTU of 1280 bytes"))]' '[true]' --arg r "$r1_6"

# ---------------------------------------------------------------------------------------
# 4. Small queries through the same path: answered, no finding at all.
nt_case healthy
nt_case_status 0
nt_case_ids '[]'
hpcap=$(nt_case_pcap)
h_lookups=$(nt_dns_lookups "$hpcap" "udp" | wc -l)
[ "$h_lookups" -ge 2 ] || nt_die "healthy: $h_lookups lookups; scenario broken"
nt_case_eq "summary.icmp_errors" '.summary.icmp_errors' 0
nt_case_eq "summary.answered (every lookup)" '.summary | [.dns_lookups, .answered]' \
    "[$h_lookups,$h_lookups]"

nt_finish
