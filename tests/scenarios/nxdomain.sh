#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario nxdomain: dnsmasq is authoritative for a local test domain (corp.example) and
# answers NXDOMAIN for every name it does not hold.
#   random  a few good lookups, then one client asks for 60 random names under corp.example
#           (dig -f batch), then good lookups again: dns.nxdomain_surge fires once for
#           corp.example at that server, as random subdomains (T1499.002), with its window
#           set by the NOERROR answers before and after.
#   typos   30 good lookups with two typos among them: quiet (no finding at all).
#
#   tests/scenarios/nxdomain.sh [--record | --replay] NETTRIAGE
#
# Expected figures are counted in the capture with tcpdump and BPF filters, never hard-coded.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init nxdomain
export TZ=UTC

client4=198.51.100.15 server4=198.51.100.2
good_names=(www mail intranet wiki git)
# A DNS response with rcode NXDOMAIN (3) or NOERROR (0), over UDP/IPv4.
bpf_nx='udp src port 53 and (udp[10] & 0x80) != 0 and (udp[11] & 0x0f) == 3'
bpf_ok='udp src port 53 and (udp[10] & 0x80) != 0 and (udp[11] & 0x0f) == 0'

# good_lookups FILE N: N lookups of the good names, round robin, as dig batch lines.
good_lookups() {
    local i
    for ((i = 0; i < $2; i++)); do
        printf '%s.corp.example A\n' "${good_names[i % ${#good_names[@]}]}"
    done >>"$1"
}

# run_batch FILE: one dig process for the whole batch (one query at a time).
run_batch() {
    nt_client dig @"$server4" -f "$1" +tries=1 +timeout=2 +short >"$1.out" 2>&1 || true
}

# no_drops NAME: the capture lost nothing (tcpdump's own count; nt_capture_start sizes the
# kernel buffer for bursts on a busy machine).
no_drops() {
    if ! grep -q '^0 packets dropped by kernel' "$NT_WORK/$1.tcpdump.log"; then
        nt_die "capture $1 lost packets: $(grep dropped "$NT_WORK/$1.tcpdump.log" | tr '\n' ' ')"
    fi
}

if nt_live; then
    nt_require_tools tcpdump dig jq ss dnsmasq timeout
    nt_make_pair "$client4/24" "$server4/24"
    extra=(--local=/corp.example/)
    for n in "${good_names[@]}"; do extra+=("--address=/$n.corp.example/198.51.100.80"); done
    nt_start_dnsmasq "$server4" -- "${extra[@]}"

    # --- random: random names under corp.example between good lookups.
    : >"$NT_WORK/before.batch"
    good_lookups "$NT_WORK/before.batch" 5
    : >"$NT_WORK/random.batch"
    for ((i = 0; i < 60; i++)); do
        label=""
        for ((k = 0; k < 12; k++)); do
            label+=$(printf '%s' "abcdefghijklmnopqrstuvwxyz0123456789" | cut -c $((RANDOM % 36 + 1)))
        done
        printf '%s.corp.example A\n' "$label" >>"$NT_WORK/random.batch"
    done
    : >"$NT_WORK/after.batch"
    good_lookups "$NT_WORK/after.batch" 5
    nt_capture_start random
    run_batch "$NT_WORK/before.batch"
    run_batch "$NT_WORK/random.batch"
    run_batch "$NT_WORK/after.batch"
    nt_capture_stop random 140
    no_drops random

    # --- typos: 30 good lookups, two of them mistyped.
    : >"$NT_WORK/typos.batch"
    good_lookups "$NT_WORK/typos.batch" 15
    printf 'wwww.corp.example A\n' >>"$NT_WORK/typos.batch"
    good_lookups "$NT_WORK/typos.batch" 15
    printf 'mial.corp.example A\n' >>"$NT_WORK/typos.batch"
    nt_capture_start typos
    run_batch "$NT_WORK/typos.batch"
    nt_capture_stop typos 64
    no_drops typos
fi

# ---------------------------------------------------------------------------------------
# random: one finding for corp.example, every figure from the capture.
nt_case random
nt_case_status 1
nt_case_ids '["dns.nxdomain_surge"]'
pcap=$(nt_case_pcap)
nx=$(nt_pcap_select "$pcap" "$bpf_nx")
ok=$(nt_pcap_select "$pcap" "$bpf_ok")
n_nx=$(printf '%s\n' "$nx" | grep -c . || true)
good_re="^($(IFS='|'; echo "${good_names[*]}"))\\.corp\\.example\\.\$"
n_uniq=$(nt_dns_lookups "$pcap" "dst host $server4" | awk '{ print tolower($3) }' | sort -u |
    grep -Evc "$good_re" || true)
first_nx=$(printf '%s\n' "$nx" | awk 'NF { print $2 }' | sort | sed -n 1p)
last_nx=$(printf '%s\n' "$nx" | awk 'NF { print $2 }' | sort | tail -n 1)
ok_before=$(printf '%s\n' "$ok" | awk -v t="$first_nx" 'NF && $2 < t { print $2 }' | sort | tail -n 1)
ok_after=$(printf '%s\n' "$ok" | awk -v t="$last_nx" 'NF && $2 > t { print $2 }' | sort | sed -n 1p)
nt_log "random: $n_nx NXDOMAIN answers, $n_uniq distinct names, $first_nx .. $last_nx"
[ "$n_nx" -ge 20 ] || nt_die "random: only $n_nx NXDOMAIN answers; scenario broken"
f='.findings[0]'
nt_case_eq "one finding" '.findings | length' 1
nt_case_eq "server, protocol, port" "$f | {server, protocol, port, service}" \
    "{\"server\":\"$server4\",\"protocol\":\"udp\",\"port\":53,\"service\":\"DNS\"}"
nt_case_eq "clients" "$f | .clients" "[\"$client4\"]"
nt_case_eq "lookups = NXDOMAIN answers in the capture" "$f | .lookups" "$n_nx"
nt_case_eq "error_packets = NXDOMAIN answers" "$f | .error_packets" "$n_nx"
nt_case_eq "severity and ATT&CK (random subdomains: T1499.002)" \
    "$f | {severity, attack: .attack.id}" '{"severity":"medium","attack":"T1499.002"}'
nt_case_check "summary: random-looking names under corp.example, distinct count" \
    "$f | .summary | contains(\"under corp.example.\") and contains(\"random-looking\") and contains(\": $n_uniq distinct names\")"
nt_case_check "top cause: random-subdomain attack" \
    "$f | .causes[0].text | test(\"random-subdomain\")"
nt_case_eq "window: first and last NXDOMAIN answer" \
    "$f | .window | [.first_failure, .last_failure]" "[\"$first_nx\",\"$last_nx\"]"
nt_case_eq "window: last NOERROR before, first NOERROR after" \
    "$f | .window | [.last_success_before, .first_success_after]" \
    "[\"$ok_before\",\"$ok_after\"]"
nt_case_check "query names: all under corp.example" \
    "$f | .query_names | length > 0 and all(.[]; endswith(\".corp.example A\"))"

# typos: two mistyped names among good lookups stay quiet.
nt_case typos
nt_case_status 0
nt_case_ids '[]'
n_typo=$(nt_pcap_select "$(nt_case_pcap)" "$bpf_nx" | wc -l)
nt_expect_eq "typos: the capture holds the two NXDOMAIN answers" "$n_typo" 2

nt_finish
