#!/usr/bin/env bash
# bounds.sh: every bound the engine keeps state under is an option (--bound NAME=N, listed by
# --bounds), and what a bound leaves out is counted in the report, never dropped silently.
#
#   tests/bounds.sh NETTRIAGE
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
caps=$here/captures
fail=0
check() { # what, condition result
    if [ "$2" = ok ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
yes_if() { if "$@"; then echo ok; else echo no; fi; }

list=$("$bin" report --bounds)
for b in correlate.lookups_per_key correlate.dns_tcp_connections correlate.hosts_seen \
    flow.frag_datagrams flow.frag_bytes flow.tcp_dns_flows flow.tcp_dns_bytes \
    detect.rcode_keys detect.server_clients detect.services detect.history_bytes \
    detect.server_clients_bytes \
    dns.nxdomain_surge.domains \
    dns.nxdomain_surge.clients dns.nxdomain_surge.names dns.nxdomain_surge.parents \
    dns.flood.servers dns.slow.servers dns.no_response.recent tcp.scan.sources; do
    check "--bounds lists $b" "$(yes_if grep -q "^  $b " <<<"$list")"
done

# Usage errors: one line, status 2.
for bad in nothing flow.tcp_dns_flows=0 flow.nope=3 dns.slow.servers=x dns.slow.servers=-1; do
    set +e
    err=$("$bin" report --bound "$bad" "$caps/flood/flood.pcap" 2>&1 >/dev/null)
    st=$?
    set -e
    check "--bound $bad refused (status $st)" "$(yes_if [ $st -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ])"
done

# Defaults leave nothing out on these captures; small bounds do, and say so in JSON and Markdown.
json=$("$bin" report --format json "$caps/flood/flood.pcap" || true)
check "no stage_limits by default" "$(yes_if [ "$(jq '.summary | has("stage_limits")' <<<"$json")" = false ])"
json=$("$bin" report --format json --bound correlate.hosts_seen=16 "$caps/flood/flood.pcap" || true)
n=$(jq '[.summary.stage_limits[] | select(.stage == "correlate" and .counter == "hosts_seen_packets_not_counted") | .count] | add // 0' <<<"$json")
check "hosts_seen=16 counts the packets of hosts past it ($n)" "$(yes_if [ "$n" -gt 0 ])"
md=$("$bin" report --bound correlate.hosts_seen=16 "$caps/flood/flood.pcap" || true)
check "Markdown names the stage bound reached" "$(yes_if grep -q 'Bound reached:\*\* the correlate stage left out' <<<"$md")"
txt=$("$bin" report --format text --bound correlate.hosts_seen=16 "$caps/flood/flood.pcap" || true)
check "text names the stage bound reached" "$(yes_if grep -q 'Bound reached: the correlate stage left out' <<<"$txt")"
html=$("$bin" report --format html --bound correlate.hosts_seen=16 "$caps/flood/flood.pcap" || true)
check "HTML names the stage bound reached" "$(yes_if grep -q 'Bound reached:</strong> the correlate stage left out' <<<"$html")"
json=$("$bin" report --format json --bound flow.tcp_dns_flows=1 "$caps/tcp_closed/arkime-tcp53-fin.pcap" || true)
n=$(jq '[.summary.stage_limits[]? | select(.counter == "tcp_dns_streams_evicted") | .count] | add // 0' <<<"$json")
check "tcp_dns_flows=1 counts the streams evicted ($n)" "$(yes_if [ "$n" -gt 0 ])"

# The detector's and dns.nxdomain_surge's tables: 40 NXDOMAIN (then SERVFAIL) answers to 5
# clients for names under 4 parents, as tcpdump prints them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 0 39); do
    c=$((i % 5 + 10)) us=$((i * 40000))
    printf '13:24:%02d.%06d IP 192.0.2.%d.%d > 198.51.100.53.53: %d+ A? x%dq%d.dom%d.example. (40)\n' \
        $((us / 1000000)) $((us % 1000000)) $c $((40000 + i)) $((1000 + i)) "$i" $c $((i % 4))
    us=$((us + 20000))
    printf '13:24:%02d.%06d IP 198.51.100.53.53 > 192.0.2.%d.%d: %d NXDomain 0/1/0 (100)\n' \
        $((us / 1000000)) $((us % 1000000)) $c $((40000 + i)) $((1000 + i))
done >"$tmp/nx.txt"
sed 's/NXDomain/ServFail/' "$tmp/nx.txt" >"$tmp/sf.txt"
limit() { # json rule counter
    jq --arg r "$2" --arg c "$3" '[.summary.rule_limits[] | select(.rule == $r and .counter == $c) | .count] | add // 0' <<<"$1"
}
json=$("$bin" report --format json "$tmp/nx.txt" || true)
check "nxdomain_surge: nothing replaced by default" "$(yes_if [ "$(jq '.summary.rule_limits | length' <<<"$json")" -eq 0 ])"
json=$("$bin" report --format json --bound dns.nxdomain_surge.domains=2 \
    --bound dns.nxdomain_surge.clients=2 --bound dns.nxdomain_surge.names=2 "$tmp/nx.txt" || true)
n=$(limit "$json" dns.nxdomain_surge domains_replaced)
check "nxdomain_surge.domains=2 counts parents replaced ($n)" "$(yes_if [ "$n" -gt 0 ])"
n=$(limit "$json" dns.nxdomain_surge clients_replaced)
check "nxdomain_surge.clients=2 counts clients replaced ($n)" "$(yes_if [ "$n" -gt 0 ])"
n=$(limit "$json" dns.nxdomain_surge entries_counted_at_least)
check "nxdomain_surge.names=2 counts entries past the exact count ($n)" "$(yes_if [ "$n" -gt 0 ])"
json=$("$bin" report --format json "$tmp/sf.txt" || true)
check "servfail: no rcode key dropped by default" "$(yes_if [ "$(limit "$json" dns.servfail rcode_keys_dropped)" -eq 0 ])"
json=$("$bin" report --format json --bound detect.rcode_keys=16 "$tmp/sf.txt" || true)
n=$(limit "$json" dns.servfail rcode_keys_dropped)
check "detect.rcode_keys=16 counts the SERVFAIL lookups of keys not kept ($n)" "$(yes_if [ "$n" -gt 0 ])"
md=$("$bin" report --bound detect.server_clients=1 "$caps/flood/flood.pcap" || true)
check "detect.server_clients=1: the flood's client count is a lower bound" \
    "$(yes_if grep -q 'the server had 1+ distinct clients' <<<"$md")"

# detect.services: 20 DNS servers answer a lookup each; then 198.51.100.21 answers one and
# refuses the next with port unreachable, and 198.51.100.22 never answers (a retransmission). With
# the bound at 16 the last six servers are not kept (seven lookups): their findings say so and
# state nothing that needs the server's figures ("answered 1 of its 2", "answered no DNS
# lookup", a window's successes); by default they state them.
for i in $(seq 1 20); do
    printf '10:00:%02d.000100 IP 192.0.2.10.%d > 198.51.100.%d.53: %d+ A? n%d.example. (30)\n' \
        "$i" $((40000 + i)) "$i" $((100 + i)) "$i"
    printf '10:00:%02d.020100 IP 198.51.100.%d.53 > 192.0.2.10.%d: %d 1/0/0 A 192.0.2.%d (46)\n' \
        "$i" "$i" $((40000 + i)) $((100 + i)) "$i"
done >"$tmp/svc.txt"
cat >>"$tmp/svc.txt" <<'EOT'
10:00:21.000100 IP 192.0.2.10.41021 > 198.51.100.21.53: 121+ A? ok.example. (30)
10:00:21.020100 IP 198.51.100.21.53 > 192.0.2.10.41021: 121 1/0/0 A 192.0.2.99 (46)
10:00:22.000100 IP 192.0.2.10.41022 > 198.51.100.21.53: 122+ A? www.example. (30)
10:00:22.000300 IP 198.51.100.21 > 192.0.2.10: ICMP 198.51.100.21 udp port 53 unreachable, length 66
10:00:23.000100 IP 192.0.2.10.41023 > 198.51.100.22.53: 123+ A? quiet.example. (32)
10:00:24.000100 IP 192.0.2.10.41023 > 198.51.100.22.53: 123+ A? quiet.example. (32)
10:00:40.000100 IP 192.0.2.10.41040 > 198.51.100.1.53: 140+ A? n1.example. (30)
10:00:40.020100 IP 198.51.100.1.53 > 192.0.2.10.41040: 140 1/0/0 A 192.0.2.1 (46)
EOT
stage() { # json counter
    jq --arg c "$2" '[.summary.stage_limits[]? | select(.stage == "detect" and .counter == $c) | .count] | add // 0' <<<"$1"
}
json=$("$bin" report --format json "$tmp/svc.txt" || true)
check "detect.services: nothing left out by default" "$(yes_if [ "$(stage "$json" services_not_kept)" -eq 0 ])"
check "detect.services: the window's successes by default" \
    "$(yes_if [ "$(jq '[.findings[] | select(.id == "dns.port_unreachable") | .window.successes_total] == [1]' <<<"$json")" = true ])"
md=$("$bin" report "$tmp/svc.txt" || true)
check "detect.services: the server's answers by default" "$(yes_if grep -q 'answered 1 of its 2 lookups' <<<"$md")"
json=$("$bin" report --format json --bound detect.services=16 "$tmp/svc.txt" || true)
n=$(stage "$json" services_not_kept) e=$(stage "$json" service_events_not_counted)
check "detect.services=16 counts 6 services not kept ($n) and their 7 lookups ($e)" \
    "$(yes_if [ "$n" -eq 6 ] && [ "$e" -eq 7 ])"
check "detect.services=16: the windows' successes are unknown (null), not 0" \
    "$(yes_if [ "$(jq '[.findings[] | .window.successes_total] | unique' -c <<<"$json")" = '[null]' ])"
md=$("$bin" report --bound detect.services=16 "$tmp/svc.txt" || true)
check "detect.services=16: Markdown names the stage bound reached" \
    "$(yes_if grep -q 'the detect stage left out 6 (services\\_not\\_kept' <<<"$md")"
check "detect.services=16: each finding says its figures were not kept" \
    "$(yes_if [ "$(grep -c 'did not keep its figures for 198.51.100.2[12] on UDP port 53' <<<"$md")" -eq 2 ])"
check "detect.services=16: no sentence states the figures not kept" \
    "$(yes_if [ "$(grep -Ec 'answered 1 of its|answered no DNS lookup|got no DNS answer|Last success before' <<<"$md")" -eq 0 ])"

# detect.history_bytes: 50 DNS servers answer a lookup every second for 60 s; 198.51.100.7's at
# 30 s draws port unreachable instead. By default its window is exact (the answers just before
# and after); under a 64 KiB budget for the histories the pool doubles their width (to 16 s
# here) and the window gives bounds, said so, and holds the true answers.
for s in $(seq 0 59); do
    for i in $(seq 1 50); do
        us=$((i * 10000)) id=$((s * 50 + i))
        printf '10:00:%02d.%06d IP 192.0.2.10.%d > 198.51.100.%d.53: %d+ A? n%d.example. (30)\n' \
            "$s" "$us" $((20000 + id)) "$i" "$id" "$i"
        if [ "$i" = 7 ] && [ "$s" = 30 ]; then
            printf '10:00:%02d.%06d IP 198.51.100.7 > 192.0.2.10: ICMP 198.51.100.7 udp port 53 unreachable, length 66\n' \
                "$s" $((us + 1000))
        else
            printf '10:00:%02d.%06d IP 198.51.100.%d.53 > 192.0.2.10.%d: %d 1/0/0 A 192.0.2.1 (46)\n' \
                "$s" $((us + 1000)) "$i" $((20000 + id)) "$id"
        fi
    done
done >"$tmp/hist.txt"
win() { jq -c '[.findings[] | select(.id == "dns.port_unreachable") | .window] | .[0]' <<<"$1"; }
json=$("$bin" report --format json "$tmp/hist.txt" || true)
check "history_bytes: the window is exact by default" \
    "$(yes_if [ "$(win "$json" | jq -r '[.last_success_before, .first_success_after, has("history_bucket_seconds")] | @tsv')" = "$(printf '10:00:29.071000\t10:00:31.071000\tfalse')" ])"
check "history_bytes: no width doubled by default" "$(yes_if [ "$(stage "$json" history_width_doublings)" -eq 0 ])"
json=$("$bin" report --format json --bound detect.history_bytes=65536 "$tmp/hist.txt" || true)
n=$(stage "$json" history_width_doublings)
check "history_bytes=65536 doubles the histories' width ($n times)" "$(yes_if [ "$n" -ge 1 ] && [ "$n" -le 8 ])"
w=$(win "$json")
check "history_bytes=65536: the window says it gives bounds ($w)" \
    "$(yes_if [ "$(jq '.last_success_before_exact == false and .first_success_after_exact == false and .history_bucket_seconds > 1' <<<"$w")" = true ])"
check "history_bytes=65536: the bounds hold the true answers" \
    "$(yes_if [ "$(jq '.last_success_before <= "10:00:29.071000" and .first_success_after >= "10:00:31.071000" and .successes_during == 0 and .successes_total == 59' <<<"$w")" = true ])"
exit $fail
