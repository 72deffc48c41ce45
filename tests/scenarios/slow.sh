#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario slow: unbound serves yummyrecipesforme.com from local data and forwards
# corp.example to a dnsmasq upstream (127.0.0.1 port 5353 in the server namespace) behind an
# nftables rule that drops every other query to it (numgen inc mod 2), so every forwarded
# lookup waits for unbound's retry timeout (infra-cache-min-rtt: 600 ms) before it is
# answered. No netem: the slowness is a real resolver retrying a lossy upstream.
#   slow   4 fast local lookups, 10 forwarded (slow) lookups, 4 fast again: dns.slow fires
#          for the server with the window set by the fast answers around the slow ones.
#   quiet  12 lookups answered from local data: no finding.
#
#   tests/scenarios/slow.sh [--record | --replay] NETTRIAGE
#
# Answer times and the window are measured in the capture with tcpdump (queries paired with
# their responses by port and id), never hard-coded.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init slow
export TZ=UTC

client4=198.51.100.15 server4=198.51.100.2

# lookups NAME_PREFIX COUNT [fixed]: COUNT sequential lookups from the client; names
# PREFIX1..PREFIXn under corp.example, or yummyrecipesforme.com each time with "fixed".
lookups() {
    local i name
    for ((i = 1; i <= $2; i++)); do
        if [ "${3:-}" = fixed ]; then name=yummyrecipesforme.com; else name="$1$i.corp.example"; fi
        nt_client dig @"$server4" "$name" A +tries=1 +timeout=5 +short >>"$NT_WORK/dig.out" 2>&1 ||
            true
    done
}

# no_drops NAME: the capture lost nothing (tcpdump's own count; nt_capture_start sizes the
# kernel buffer for bursts on a busy machine).
no_drops() {
    if ! grep -q '^0 packets dropped by kernel' "$NT_WORK/$1.tcpdump.log"; then
        nt_die "capture $1 lost packets: $(grep dropped "$NT_WORK/$1.tcpdump.log" | tr '\n' ' ')"
    fi
}

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq unbound nft timeout
    nt_make_pair "$client4/24" "$server4/24"
    nt_bg "$NT_SERVER_NS" "$NT_WORK/upstream.log" dnsmasq --keep-in-foreground \
        --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --user=root \
        --pid-file="$NT_WORK/upstream.pid" --log-facility=- --listen-address=127.0.0.1 \
        --port=5353 --local=/corp.example/ --address=/corp.example/198.51.100.80
    nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq on 127.0.0.1:5353" \
        nt_udp_listening "$NT_SERVER_NS" 127.0.0.1 5353
    nt_start_unbound "$server4" -- "do-not-query-localhost: no" "infra-cache-min-rtt: 600" \
        "forward-zone:" "    name: \"corp.example.\"" "    forward-addr: 127.0.0.1@5353"
    # Dropped on input, silently: a drop on output would fail unbound's send at once and it
    # would retry without waiting.
    nt_nft "$NT_SERVER_NS" "table inet nt_slow {
    chain upstream {
        type filter hook input priority filter; policy accept;
        udp dport 5353 numgen inc mod 2 == 0 drop
    }
}" || nt_skip "cannot load an nftables ruleset in a namespace"

    nt_capture_start slow
    lookups fast 4 fixed
    lookups s 10
    lookups fast 4 fixed
    nt_capture_stop slow 36
    no_drops slow

    nt_capture_start quiet
    lookups fast 12 fixed
    nt_capture_stop quiet 24
    no_drops quiet
fi

# answer_times PCAP: one line per answered lookup, "QUERY_EPOCH ANSWER_EPOCH RTT_SECONDS",
# pairing each response with the latest query of the same client port and id.
answer_times() {
    tcpdump -nn -tt -r "$1" udp port 53 2>/dev/null | awk -v srv="$server4.53" '
        $5 == srv ":" { id = $6; sub(/[^0-9].*$/, "", id)
                        q[$3 "/" id] = $1; next }
        $3 == srv { cli = $5; sub(/:$/, "", cli); id = $6; sub(/[^0-9].*$/, "", id)
                    k = cli "/" id
                    if (k in q) { printf "%s %s %.6f\n", q[k], $1, $1 - q[k]; delete q[k] } }'
}

# iso EPOCH.USEC: nettriage's time form.
iso() {
    printf '%s.%sZ\n' "$(date -u -d "@${1%.*}" +%Y-%m-%dT%H:%M:%S)" "${1#*.}"
}

# ---------------------------------------------------------------------------------------
nt_case slow
nt_case_status 1
nt_case_ids '["dns.slow"]'
times=$(answer_times "$(nt_case_pcap)")
n_ans=$(printf '%s\n' "$times" | grep -c . || true)
slow=$(printf '%s\n' "$times" | awk 'NF && $3 > 0.2')
n_slow=$(printf '%s\n' "$slow" | grep -c . || true)
first_slow_q=$(printf '%s\n' "$slow" | awk 'NF { print $1 }' | sort -n | sed -n 1p)
last_slow_a=$(printf '%s\n' "$slow" | awk 'NF { print $2 }' | sort -n | tail -n 1)
fast_before=$(printf '%s\n' "$times" |
    awk -v t="$first_slow_q" 'NF && $3 <= 0.2 && $2 < t { print $2 }' | sort -n | tail -n 1)
fast_after=$(printf '%s\n' "$times" |
    awk -v t="$last_slow_a" 'NF && $3 <= 0.2 && $2 > t { print $2 }' | sort -n | sed -n 1p)
max_rtt=$(printf '%s\n' "$times" | awk 'NF && $3 > m { m = $3 } END { printf "%.3f", m }')
nt_log "slow: $n_ans answers, $n_slow slower than 200 ms (slowest $max_rtt s)"
if [ "$n_slow" -lt 6 ] || [ "$n_ans" -lt 10 ]; then
    nt_die "slow: $n_slow slow answers of $n_ans; the upstream drop did not work"
fi
f='.findings[0]'
nt_case_eq "server, protocol, port, service" "$f | {server, protocol, port, service}" \
    "{\"server\":\"$server4\",\"protocol\":\"udp\",\"port\":53,\"service\":\"DNS\"}"
nt_case_eq "clients" "$f | .clients" "[\"$client4\"]"
nt_case_eq "lookups = answers slower than 200 ms" "$f | .lookups" "$n_slow"
nt_case_eq "severity, no ATT&CK technique" "$f | {severity, attack}" \
    '{"severity":"medium","attack":null}'
nt_case_eq "window: first slow query, last slow answer" \
    "$f | .window | [.first_failure, .last_failure]" \
    "[\"$(iso "$first_slow_q")\",\"$(iso "$last_slow_a")\"]"
nt_case_eq "window: last fast answer before, first fast answer after, none during" \
    "$f | .window | [.last_success_before, .first_success_after, .successes_during]" \
    "[\"$(iso "$fast_before")\",\"$(iso "$fast_after")\",0]"
nt_case_check "summary counts the answers and the slow ones" \
    "$f | .summary | contains(\"Of its $n_ans answers\") and contains(\"$n_slow answers took longer than 200 ms\")"
nt_case_check "query names: the forwarded corp.example names only" \
    "$f | .query_names | length == $n_slow and all(.[]; endswith(\".corp.example A\"))"
nt_case_check "top cause: waiting on upstream servers (answers cluster at the retry timer)" \
    "$f | .causes[0] | (.text | test(\"waits on other DNS servers\")) and .confidence != \"low\""

nt_case quiet
nt_case_status 0
nt_case_ids '[]'
q_slow=$(answer_times "$(nt_case_pcap)" | awk '$3 > 0.2' | wc -l)
nt_expect_eq "quiet: no answer slower than 200 ms in the capture" "$q_slow" 0

nt_finish
