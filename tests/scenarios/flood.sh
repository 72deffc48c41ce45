#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317  # jq filters single-quoted; burst() runs via declare -f
# scenario flood: dnsmasq answers www.corp.example; a client asks at a steady low rate
# (dig, about 2 lookups per second for 5 s), then a burst of queries arrives within one
# second from 50 source addresses (bash /dev/udp sockets, the query bytes built here; an
# nftables SNAT rule in the client namespace gives each socket its own address through
# `numgen inc mod 50`).
#   flood   steady rate, then the burst: dns.flood fires for the server (T1499.002), peak
#           and sources as counted in the capture.
#   steady  the steady rate alone: no finding.
# The burst is BURST queries (130): enough to pass the rule's 100 lookups per second floor
# while the stored capture stays under 300 packets; a real flood would be far larger.
#
#   tests/scenarios/flood.sh [--record | --replay] NETTRIAGE
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init flood
export TZ=UTC

client4=198.51.100.15 server4=198.51.100.2
SOURCES=50 BURST=130

# steady SECONDS: about two dig lookups per second.
steady() {
    local i
    for ((i = 0; i < $1 * 2; i++)); do
        nt_client dig @"$server4" www.corp.example A +tries=1 +timeout=2 +short \
            >>"$NT_WORK/dig.out" 2>&1 || true
        sleep 0.45
    done
}

# query_bytes ID NAME: a DNS query (A, IN, RD) as a printf format string of \x escapes.
query_bytes() {
    local id=$1 name=$2 out label
    out=$(printf '\\x%02x\\x%02x\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' \
        $((id >> 8)) $((id & 255)))
    local IFS=.
    for label in $name; do
        out+=$(printf '\\x%02x' "${#label}")
        out+=$label
    done
    printf '%s\\x00\\x00\\x01\\x00\\x01' "$out"
}

# burst: (run inside the client namespace, see below) BURST queries over SOURCES sockets (each its own source address after SNAT), sent
# right after a second boundary so they fall into one second; the sockets stay open until
# the answers are in, so no port unreachable comes back.
burst() {
    local fds=() qs=() i fd n frac
    for ((i = 0; i < SOURCES; i++)); do
        exec {fd}<>"/dev/udp/$server4/53"
        fds+=("$fd")
    done
    # Every query's bytes are built before the second boundary: building them forks, and on
    # a loaded 2-core machine 130 builds inside the burst took longer than one second.
    # No byte of an id may be a newline: bash would split the datagram there.
    for ((n = 0; n < BURST; n++)); do
        qs+=("$(query_bytes $(((0x20 + n / 200) << 8 | (0x10 + n % 200))) www.corp.example)")
    done
    # Bounded wait for the first 300 ms of a second.
    for ((i = 0; i < 200; i++)); do
        frac=$(date +%N)
        [ "$((10#$frac))" -lt 300000000 ] && break
        sleep 0.01
    done
    for ((n = 0; n < BURST; n++)); do
        # shellcheck disable=SC2059  # the format string is the query's bytes
        printf "${qs[n]}" >&"${fds[n % SOURCES]}"
    done
    sleep 1
    for fd in "${fds[@]}"; do exec {fd}>&-; done
}

# no_drops NAME: the capture lost nothing (tcpdump's own count; nt_capture_start sizes the
# kernel buffer for bursts on a busy machine).
no_drops() {
    if ! grep -q '^0 packets dropped by kernel' "$NT_WORK/$1.tcpdump.log"; then
        nt_die "capture $1 lost packets: $(grep dropped "$NT_WORK/$1.tcpdump.log" | tr '\n' ' ')"
    fi
}

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq nft timeout date
    nt_make_pair "$client4/24" "$server4/24"
    nt_start_dnsmasq "$server4" -- --address=/corp.example/198.51.100.80 --dns-forward-max=1000
    map=""
    for ((i = 0; i < SOURCES; i++)); do
        ip -n "$NT_CLIENT_NS" addr add "198.51.100.$((100 + i))/24" dev "$NT_CLIENT_IF"
        map+="${map:+, }$i : 198.51.100.$((100 + i))"
    done
    # The server knows the new addresses' link-layer address beforehand, so that no ARP
    # exchange per source fills the capture.
    mac=$(ip -n "$NT_CLIENT_NS" -o link show "$NT_CLIENT_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    for ((i = 0; i < SOURCES; i++)); do
        ip -n "$NT_SERVER_NS" neigh replace "198.51.100.$((100 + i))" lladdr "$mac" \
            dev "$NT_SERVER_IF" nud permanent
    done

    nt_capture_start steady
    steady 5
    nt_capture_stop steady 20
    no_drops steady

    nt_capture_start flood
    steady 5
    nt_nft "$NT_CLIENT_NS" "table ip nt_flood {
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        ip daddr $server4 udp dport 53 meta l4proto udp snat to numgen inc mod $SOURCES map { $map }
    }
}" || nt_skip "cannot load an nftables NAT ruleset in a namespace"
    # The sockets must be opened inside the client namespace: a bash there runs burst().
    nt_client bash -c "$(declare -f query_bytes burst)
        server4=$server4 SOURCES=$SOURCES BURST=$BURST
        burst" || nt_die "the burst could not be sent"
    nt_capture_stop flood $((BURST + 20))
    no_drops flood
fi

# ---------------------------------------------------------------------------------------
nt_case flood
nt_case_status 1
pcap=$(nt_case_pcap)
# Queries per second to the server, busiest second first: "COUNT SECOND".
per_sec=$(tcpdump -nn -tt -r "$pcap" "($NT_BPF_DNS_QUERY) and dst host $server4" 2>/dev/null |
    awk '{ split($1, t, "."); n[t[1]]++ } END { for (s in n) print n[s], s }' | sort -rn)
peak=$(printf '%s\n' "$per_sec" | awk 'NR == 1 { print $1 }')
peak_sec=$(printf '%s\n' "$per_sec" | awk 'NR == 1 { print $2 }')
sources=$(tcpdump -nn -tt -r "$pcap" "($NT_BPF_DNS_QUERY) and dst host $server4" 2>/dev/null |
    awk -v s="$peak_sec" '{ split($1, t, "."); if (t[1] == s) { a = $3; sub(/\.[0-9]+$/, "", a); print a } }' |
    sort -u | wc -l)
n_sec=$(printf '%s\n' "$per_sec" | grep -c . || true)
nt_log "flood: peak $peak queries in second $peak_sec from $sources sources; $n_sec active seconds"
if [ "$peak" -lt 100 ]; then
    nt_die "flood: the burst reached only $peak queries in one second; scenario broken"
fi
nt_case_ids '["dns.flood"]'
f='[.findings[] | select(.id == "dns.flood")] | .[0]'
nt_case_eq "one dns.flood finding" '[.findings[] | select(.id == "dns.flood")] | length' 1
nt_case_eq "server, protocol, port, service" "$f | {server, protocol, port, service}" \
    "{\"server\":\"$server4\",\"protocol\":\"udp\",\"port\":53,\"service\":\"DNS\"}"
nt_case_eq "ATT&CK T1499.002, severity medium (every lookup answered)" \
    "$f | {attack: .attack.id, severity}" '{"attack":"T1499.002","severity":"medium"}'
nt_case_check "summary: peak lookups of the busiest (flood) second" \
    "$f | .summary | contains(\": $peak lookups in its busiest flood second\")"
# Past the 16 sources it names, the rule estimates the distinct sources of a second from a
# 1024-bit sketch: within 10 % here.
nt_case_check "clients: 16 named, with the rest about $sources sources in all" \
    "$f | (.clients | length) == 16 and ((.clients | length) + .clients_omitted - $sources | fabs) <= ($sources / 10)"
nt_case_check "names: www.corp.example asked most" \
    "$f | .query_names[0] == \"www.corp.example A\""
nt_case_check "top cause: a denial-of-service flood" \
    "$f | .causes[0] | (.text | test(\"denial-of-service\")) and .confidence == \"high\""
nt_case_check "the flood's first query is in the busiest second" \
    "$f | .first_seen | startswith(\"$(date -u -d "@$peak_sec" +%Y-%m-%dT%H:%M:%S)\")"

nt_case steady
nt_case_status 0
nt_case_ids '[]'

nt_finish
