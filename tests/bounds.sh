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
exit $fail
