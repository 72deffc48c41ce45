#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario watch: `nettriage watch -` on a live pcap stream from tcpdump while a real dnsmasq
# stops and starts again.
#
#   tcpdump -i VETH -U -w - | tee stream.pcap | nettriage watch --format ndjson -
#
# A client queries dnsmasq in a bounded loop; the test stops dnsmasq (the server's kernel
# answers the next queries with ICMP port unreachable), waits for the "incident-opened" alert,
# starts dnsmasq again, waits for "incident-closed", then stops watch with SIGTERM. Checks:
#   - one incident opened (dns.port_unreachable for the server) and closed as recovered; no
#     alert during the healthy start;
#   - opened not before the first failure: its first_failure is the first ICMP error after the
#     last answer before the stop (counted in the capture with tcpdump), its time is later;
#     and it came within a few seconds of the stop (wall clock, bound below);
#   - closed: the end is the first answer after the restart;
#   - the report written at SIGTERM agrees with `nettriage report` on the same packets (the
#     first N packets of the tee'd stream, N the packets the report says it read): same
#     summary, same findings;
#   - `nettriage watch` on that file gives the same alerts as the live run (packet time);
#   - SIGUSR1 during the outage writes the open incident ("incident-ongoing") and the watch
#     goes on.
#
# Standard input is read by the source in blocks (a pcap on a pipe reaches the pipeline 4 to 8
# KiB at a time: source.c's sniff and replay stream read with fread), so the client asks often
# (every 50 ms, padded queries) to keep the alerts' delay at a few seconds.
#
#   tests/scenarios/watch.sh NETTRIAGE
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_binary_arg "$0" "$@"
nt_init watch
nt_require_tools tcpdump jq dig ss dnsmasq timeout tee mkfifo

client4=198.51.100.15 server4=198.51.100.2
qname=yummyrecipesforme.com
# The wall-clock bound between the stop of dnsmasq and the opened alert: the lookups' ICMP
# outcome is final after --timeout (1 s) and the answer guard (1 s), three are needed, and
# the stream arrives in blocks (measured 3 to 5 s unloaded; the bound leaves room for load).
open_bound_s=12
W=$NT_WORK

# shellcheck disable=SC2317  # called through nt_wait_for
not_listening() { ! nt_udp_listening "$NT_SERVER_NS" "$server4" 53; }
# shellcheck disable=SC2317  # called through nt_wait_for
alert_seen() { grep -q "\"action\":\"$1\"" "$W/alerts.ndjson"; }
now() { date +%s.%N; }
# seconds_between A B: B - A, both from now(), with millisecond precision.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

nt_make_pair "$client4/24" "$server4/24"
nt_start_dnsmasq "$server4"

mkfifo "$W/cap.fifo" "$W/watch.fifo"
# watch reads the stream; --timeout 1 so that refused lookups are final within 2 s.
watch_args=(--format ndjson --timeout 1 --interval 2 --quiet-close 60 --report-format json)
"$nettriage" watch "${watch_args[@]}" -o "$W/watch.json" - <"$W/watch.fifo" \
    >"$W/alerts.ndjson" 2>"$W/watch.err" &
watch_pid=$!
NT_PIDS+=("$watch_pid")
tee "$W/stream.pcap" <"$W/cap.fifo" >"$W/watch.fifo" &
NT_PIDS+=("$!")
ip netns exec "$NT_CLIENT_NS" tcpdump -i "$NT_CLIENT_IF" -w - -U --immediate-mode -s 65535 \
    -B 65536 -Z root 'udp port 53 or icmp' >"$W/cap.fifo" 2>"$W/tcpdump.log" &
tcpdump_pid=$!
NT_PIDS+=("$tcpdump_pid")
nt_wait_for "$NT_WAIT_TENTHS" "tcpdump to listen" grep -q 'listening on' "$W/tcpdump.log"

# The client: a bounded loop (at most 1,200 lookups, about a minute), stopped by the test.
nt_bg "$NT_CLIENT_NS" "$W/dig.out" bash -c \
    "for i in \$(seq 1 1200); do dig @$server4 $qname A +tries=1 +timeout=1 +padding=468; sleep 0.05; done"
client_pid=$NT_LAST_PID

# Healthy for 3 s: no alert.
sleep 3
healthy_alerts=$(grep -c . "$W/alerts.ndjson" || true)

t_stop=$(now)
nt_stop_pid "$NT_DNSMASQ_PID"
nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq to stop" not_listening
nt_wait_for $((open_bound_s * 10 + 100)) "the incident-opened alert" alert_seen incident-opened
t_opened=$(now)
open_delay=$(seconds_between "$t_stop" "$t_opened")
nt_log "opened alert $open_delay s after dnsmasq was stopped (wall clock)"
# SIGUSR1: the open incident as it stands and the tracker's counters, and the watch goes on.
kill -USR1 "$watch_pid"
nt_wait_for 100 "the incident-ongoing line after SIGUSR1" alert_seen incident-ongoing

nt_start_dnsmasq "$server4"
t_restart=$(now)
nt_wait_for 300 "the incident-closed alert" alert_seen incident-closed
close_delay=$(seconds_between "$t_restart" "$(now)")
nt_log "closed alert $close_delay s after dnsmasq was started again (wall clock)"

nt_stop_pid "$client_pid"
sleep 1
kill -TERM "$watch_pid"
for ((i = 0; i < 100; i++)); do
    kill -0 "$watch_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$watch_pid" 2>/dev/null && nt_die "watch did not stop within 10 s of SIGTERM"
watch_status=0
wait "$watch_pid" || watch_status=$?
kill -INT "$tcpdump_pid" 2>/dev/null || true
for ((i = 0; i < 50; i++)); do
    kill -0 "$tcpdump_pid" 2>/dev/null || break
    sleep 0.1
done
sed 's/^/    watch: /' "$W/watch.err" >&2

# ---------------------------------------------------------------------------------------
nt_expect_eq "no alert while dnsmasq answered" "$healthy_alerts" 0
nt_expect_eq "watch exits 1 (findings) after SIGTERM" "$watch_status" 1
nt_check "watch said it was stopped" grep -q 'watch stopped' "$W/watch.err"
nt_check "opened within $open_bound_s s of the stop" \
    awk -v d="$open_delay" -v b="$open_bound_s" 'BEGIN { exit !(d <= b) }'

packets=$(jq '.inputs[0].packets' "$W/watch.json")
nt_log "watch read $packets packets before SIGTERM"
[ "$packets" -gt 20 ] || nt_die "watch read only $packets packets; scenario broken"
tcpdump -r "$W/stream.pcap" -c "$packets" -w "$W/cut.pcap" 2>/dev/null ||
    nt_die "cannot cut the tee'd stream"
cut=$W/cut.pcap

# Times counted in the capture, independently of nettriage.
answers=$(nt_pcap_select "$cut" "($NT_BPF_DNS_RESPONSE) and src host $server4")
errors=$(nt_pcap_select "$cut" "src host $server4 and icmp and icmp[0] == 3 and icmp[1] == 3")
first_err=$(printf '%s\n' "$errors" | awk 'NR == 1 { print $2 }')
last_err=$(printf '%s\n' "$errors" | awk 'END { print $2 }')
last_ok=$(printf '%s\n' "$answers" | awk -v t="$first_err" '$2 < t { x = $2 } END { print x }')
first_ok_after=$(printf '%s\n' "$answers" | awk -v t="$last_err" '$2 > t { print $2; exit }')
nt_log "capture: last answer $last_ok, ICMP errors $first_err .. $last_err, next answer" \
    "${first_ok_after:-none}"
if [ -z "$first_err" ] || [ -z "$last_ok" ] || [ -z "$first_ok_after" ]; then
    nt_die "the capture lacks the answers or errors the scenario makes"
fi

A=$W/alerts.ndjson
sel='select(.event.action == $a)'
nt_json_eq "one incident opened" "$A" "[.[] | $sel] | length" 1 -s --arg a incident-opened
nt_json_eq "one incident closed" "$A" "[.[] | $sel] | length" 1 -s --arg a incident-closed
nt_json_eq "opened: server, port, transport, rule" "$A" \
    "[.[] | $sel | [.destination.ip, .destination.port, .network.transport, .rule.id, .nettriage.incident]]" \
    "[[\"$server4\",53,\"udp\",\"dns.port_unreachable\",1]]" -s --arg a incident-opened
nt_json_eq "opened: first failure is the first ICMP error" "$A" \
    "[.[] | $sel | .nettriage.first_failure]" "[\"$first_err\"]" -s --arg a incident-opened
nt_json_check "opened: not before the first failure, and after the last answer" \
    '[.[] | select(.event.action == "incident-opened") | .nettriage.time] | length == 1 and
     .[0] >= $f and .[0] > $ok' "$A" -s --arg f "$first_err" --arg ok "$last_ok"
nt_json_eq "closed: recovered at the first answer after the restart" "$A" \
    "[.[] | $sel | [.event.reason, .nettriage.end, .nettriage.incident]]" \
    "[[\"recovered\",\"$first_ok_after\",1]]" -s --arg a incident-closed
nt_json_check "closed after the last error, duration = end - first failure" \
    '[.[] | select(.event.action == "incident-closed")][0] |
     (.nettriage.time >= $le) and (.event.duration > 0)' "$A" -s --arg le "$last_err"
nt_json_eq "SIGUSR1: the open incident, once, and the counters with one incident open" "$A" \
    '[[.[] | select(.event.action == "incident-ongoing") | .nettriage.incident],
      ([.[] | select(.event.dataset == "nettriage.watch")][0].nettriage.watch.incidents_open)]' \
    '[[1],1]' -s
nt_json_check "every alert line is an ECS alert of nettriage.incident or the watch's metric" \
    'all(.[]; (.event.kind == "alert" and .event.dataset == "nettriage.incident") or
              (.event.kind == "metric" and .event.dataset == "nettriage.watch"))' "$A" -s

# The report written at SIGTERM against `nettriage report` on the same packets.
nt_nettriage "$W/report.json" "$nettriage" report --timeout 1 --format json "$cut"
nt_expect_eq "report exit status on the same packets" "$NT_STATUS" 1
for part in summary findings; do
    jq -S ".$part" "$W/watch.json" >"$W/watch.$part.json"
    jq -S ".$part" "$W/report.json" >"$W/report.$part.json"
    nt_check "watch's report and report agree: .$part" \
        diff -u "$W/watch.$part.json" "$W/report.$part.json"
done
nt_log "both reports: $(jq -c '[.summary.packets, .summary.dns_lookups, [.findings[].id]]' \
    "$W/report.json") (packets, lookups, findings)"
# (The server's kernel rate-limits its ICMP errors, so a few refused queries may go unanswered
# and make a dns.no_response finding as well: both reports must then say so.)
nt_json_eq "the report names dns.port_unreachable for the server" "$W/watch.json" \
    '[.findings[] | select(.server == $s) | .id] | index("dns.port_unreachable") != null' true \
    --arg s "$server4"

# The same alerts from the file: the tracker runs on packet time.
"$nettriage" watch "${watch_args[@]}" -o /dev/null "$cut" >"$W/replay.ndjson" 2>/dev/null || true
jq -c 'select(.event.kind == "alert")' "$W/replay.ndjson" >"$W/replay.alerts"
jq -c 'select(.event.kind == "alert" and .event.action != "incident-ongoing")' "$A" \
    >"$W/live.alerts"
nt_check "watch on the tee'd file gives the live run's alerts ($(wc -l <"$W/live.alerts") lines)" \
    diff -u "$W/live.alerts" "$W/replay.alerts"
"$nettriage" watch --timeout 1 -o /dev/null "$cut" >"$W/replay.txt" 2>/dev/null || true
nt_check "text alerts: one opened and one closed line for the server" \
    test "$(grep -c "incident 1 opened: DNS $server4 port 53/udp dns.port_unreachable" \
        "$W/replay.txt")$(grep -c "incident 1 closed: DNS $server4 port 53/udp" "$W/replay.txt")" = 11

nt_finish
