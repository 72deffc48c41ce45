#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario watch: `nettriage watch -i VETH -w FILE` on the client's interface while a real
# dnsmasq stops and starts again.
#
# A client queries dnsmasq in a bounded loop. Two watches capture on the client's veth from the
# start: A (`watch -i VETH -w FILE --format ndjson --report-format json -o REPORT`) and B (the
# same without -w). The test stops dnsmasq (the server's kernel answers the next queries with
# ICMP port unreachable), waits for "incident-opened", sends A SIGUSR1, starts dnsmasq again,
# waits for "incident-closed", then stops A with SIGTERM while the client still queries. Then
# it stops dnsmasq a second time, waits for B's second "incident-opened", and stops the client:
# the link goes quiet, and B must close that incident ("quiet") on the wall clock. Checks:
#   - A runs as nobody once the interface is open (uid, gid from /proc/PID/status);
#   - one incident opened (dns.port_unreachable for the server) and closed as recovered; no
#     alert while dnsmasq answered;
#   - opened not before the first failure: its first_failure is the first ICMP error after the
#     last answer before the stop (counted in the -w file with tcpdump), its time is later; and
#     it came within a few seconds of the stop (wall clock, bound below);
#   - closed: the end is the first answer after the restart;
#   - SIGUSR1: the open incident ("incident-ongoing") and the counters, the report so far (it
#     names dns.port_unreachable for the server), and the watch goes on;
#   - the report A wrote at SIGTERM agrees with `nettriage report` on the file A wrote with -w:
#     same packets, same summary (but for the kernel's counts, which show nothing dropped),
#     same findings;
#   - `nettriage watch` on that file gives the same incidents (the tracker runs on packet time);
#   - B, on the quiet link: "incident-closed" (quiet) for incident 2 within --quiet-close plus
#     the outcomes' delay plus a margin of the client's stop, though no packet comes.
#
#   tests/scenarios/watch.sh NETTRIAGE
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_binary_arg "$0" "$@"
nt_init watch
nt_require_tools tcpdump jq dig ss dnsmasq timeout getent

client4=198.51.100.15 server4=198.51.100.2
qname=yummyrecipesforme.com
nobody_uid=$(getent passwd nobody | cut -d: -f3)
nobody_gid=$(getent passwd nobody | cut -d: -f4)
[ -n "$nobody_uid" ] || nt_skip "no user nobody on this system"
# The wall-clock bound between the stop of dnsmasq and the opened alert: the lookups' ICMP
# outcome is final after --timeout (1 s) and the answer guard (1 s), and three are needed
# (measured 2 to 4 s unloaded; the bound leaves room for load).
open_bound_s=12
# --quiet-close, and the bound on B's quiet close after the client stopped: the last failure
# is final 2 s after its error (timeout and guard), then quiet_close; the rest is margin.
quiet_close_s=4
quiet_bound_s=$((quiet_close_s + 2 + 10))
W=$NT_WORK
# Started as root, nettriage runs as nobody after opening its files; nothing is created later.
chmod 755 "$W"

# shellcheck disable=SC2317  # called through nt_wait_for
not_listening() { ! nt_udp_listening "$NT_SERVER_NS" "$server4" 53; }
# shellcheck disable=SC2317  # called through nt_wait_for
alert_seen() { grep -q "\"action\":\"$2\"" "$1"; }
# shellcheck disable=SC2317  # called through nt_wait_for
alerts_at_least() { [ "$(grep -c "\"action\":\"$2\"" "$1" || true)" -ge "$3" ]; }
# shellcheck disable=SC2317  # called through nt_wait_for
answers_at_least() { [ "$(grep -c 'status: NOERROR' "$W/dig.out" || true)" -ge "$1" ]; }
now() { date +%s.%N; }
# seconds_between A B: B - A, both from now(), with millisecond precision.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

nt_make_pair "$client4/24" "$server4/24"
nt_start_dnsmasq "$server4"

# --timeout 1 so that refused lookups are final within 2 s.
watch_args=(--format ndjson --timeout 1 --interval 2 --quiet-close "$quiet_close_s"
    --report-format json)
# watch_start NAME ARGS...: watch -i on the client's veth in its namespace, alerts to
# NAME.ndjson, messages to NAME.err; returns once it says it watches. Its pid in WATCH_PID.
watch_start() {
    local name=$1
    shift
    ip netns exec "$NT_CLIENT_NS" "$nettriage" watch -i "$NT_CLIENT_IF" "${watch_args[@]}" \
        "$@" >"$W/$name.ndjson" 2>"$W/$name.err" &
    WATCH_PID=$!
    NT_PIDS+=("$WATCH_PID")
    nt_wait_said "$WATCH_PID" "$W/$name.err" 'watching' "watch $name"
}
watch_start a -w "$W/a.w.pcap" -o "$W/a.json"
a_pid=$WATCH_PID
a_status=$(cat "/proc/$a_pid/status")
watch_start b -o "$W/b.json"
b_pid=$WATCH_PID
A=$W/a.ndjson B=$W/b.ndjson

# The client: a bounded loop (at most 1,200 lookups, about a minute), stopped by the test.
nt_bg "$NT_CLIENT_NS" "$W/dig.out" bash -c \
    "for i in \$(seq 1 1200); do dig @$server4 $qname A +tries=1 +timeout=1; sleep 0.05; done"
client_pid=$NT_LAST_PID

# Healthy: 20 answers, and no alert.
nt_wait_for 300 "20 answers from dnsmasq" answers_at_least 20
healthy_alerts=$(grep -c . "$A" || true)

t_stop=$(now)
nt_stop_pid "$NT_DNSMASQ_PID"
nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq to stop" not_listening
nt_wait_for $((open_bound_s * 10 + 100)) "the incident-opened alert" alert_seen "$A" incident-opened
t_opened=$(now)
open_delay=$(seconds_between "$t_stop" "$t_opened")
nt_log "opened alert $open_delay s after dnsmasq was stopped (wall clock)"
# SIGUSR1: the open incident as it stands, the counters, the report so far; the watch goes on.
kill -USR1 "$a_pid"
nt_wait_for 100 "the incident-ongoing line after SIGUSR1" alert_seen "$A" incident-ongoing
nt_wait_for 100 "the report so far after SIGUSR1" grep -q 'the report so far' "$W/a.err"
cp "$W/a.json" "$W/a.sofar.json"

nt_start_dnsmasq "$server4"
t_restart=$(now)
nt_wait_for 300 "the incident-closed alert" alert_seen "$A" incident-closed
close_delay=$(seconds_between "$t_restart" "$(now)")
nt_log "closed alert $close_delay s after dnsmasq was started again (wall clock)"

# A stops while the client still queries.
kill -TERM "$a_pid"
for ((i = 0; i < 100; i++)); do
    kill -0 "$a_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$a_pid" 2>/dev/null && nt_die "watch did not stop within 10 s of SIGTERM"
a_exit=0
wait "$a_pid" || a_exit=$?
sed 's/^/    watch a: /' "$W/a.err" >&2

# B: a second outage, then the link goes quiet.
nt_wait_for 300 "B's incident-closed alert" alert_seen "$B" incident-closed
nt_stop_pid "$NT_DNSMASQ_PID"
nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq to stop" not_listening
nt_wait_for $((open_bound_s * 10 + 100)) "B's second incident-opened alert" \
    alerts_at_least "$B" incident-opened 2
nt_stop_pid "$client_pid"
t_quiet=$(now)
quiet_closed=no
for ((i = 0; i < quiet_bound_s * 10; i++)); do
    if alerts_at_least "$B" incident-closed 2; then
        quiet_closed=yes
        break
    fi
    sleep 0.1
done
quiet_delay=$(seconds_between "$t_quiet" "$(now)")
nt_log "B: second incident closed: $quiet_closed, $quiet_delay s after the client stopped"
kill -TERM "$b_pid"
for ((i = 0; i < 100; i++)); do
    kill -0 "$b_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$b_pid" 2>/dev/null && nt_die "watch B did not stop within 10 s of SIGTERM"
wait "$b_pid" || true

# ---------------------------------------------------------------------------------------
nt_expect_eq "uid (real, effective, saved, fs) once the interface is open" \
    "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$a_status")" \
    "$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
nt_expect_eq "gid (real, effective, saved, fs) once the interface is open" \
    "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' <<<"$a_status")" \
    "$nobody_gid $nobody_gid $nobody_gid $nobody_gid"
nt_check "watch says it runs as nobody" grep -q 'running as user nobody' "$W/a.err"
nt_expect_eq "no alert while dnsmasq answered" "$healthy_alerts" 0
nt_expect_eq "watch exits 1 (findings) after SIGTERM" "$a_exit" 1
nt_check "watch said it was stopped" grep -q 'watch stopped' "$W/a.err"
nt_check "opened within $open_bound_s s of the stop" \
    awk -v d="$open_delay" -v b="$open_bound_s" 'BEGIN { exit !(d <= b) }'

wfile=$W/a.w.pcap
packets=$(jq '.inputs[0].packets' "$W/a.json")
nt_log "watch read $packets packets before SIGTERM"
[ "$packets" -gt 20 ] || nt_die "watch read only $packets packets; scenario broken"

# Times counted in the -w file, independently of nettriage.
answers=$(nt_pcap_select "$wfile" "($NT_BPF_DNS_RESPONSE) and src host $server4")
errors=$(nt_pcap_select "$wfile" "src host $server4 and icmp and icmp[0] == 3 and icmp[1] == 3")
first_err=$(printf '%s\n' "$errors" | awk 'NR == 1 { print $2 }')
last_err=$(printf '%s\n' "$errors" | awk 'END { print $2 }')
last_ok=$(printf '%s\n' "$answers" | awk -v t="$first_err" '$2 < t { x = $2 } END { print x }')
first_ok_after=$(printf '%s\n' "$answers" | awk -v t="$last_err" '$2 > t { print $2; exit }')
nt_log "capture: last answer $last_ok, ICMP errors $first_err .. $last_err, next answer" \
    "${first_ok_after:-none}"
if [ -z "$first_err" ] || [ -z "$last_ok" ] || [ -z "$first_ok_after" ]; then
    nt_die "the capture lacks the answers or errors the scenario makes"
fi

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
nt_json_eq "SIGUSR1: the report so far names dns.port_unreachable for the server" \
    "$W/a.sofar.json" \
    '[.findings[] | select(.server == $s) | .id] | index("dns.port_unreachable") != null' true \
    --arg s "$server4"
nt_json_check "every alert line is an ECS alert of nettriage.incident or the watch's metric" \
    'all(.[]; (.event.kind == "alert" and .event.dataset == "nettriage.incident") or
              (.event.kind == "metric" and .event.dataset == "nettriage.watch"))' "$A" -s

# The report written at SIGTERM against `nettriage report` on the file written with -w.
nt_nettriage "$W/report.json" "$nettriage" report --timeout 1 --format json "$wfile"
nt_expect_eq "report exit status on the -w file" "$NT_STATUS" 1
# (The live report has the kernel's counts too, which a file has not.)
# (received counts what the kernel's filter let through by the stop, read or not yet)
nt_json_eq "the kernel's counts: at least the packets read received, none dropped" \
    "$W/a.json" '.summary.capture_drops | [.received >= $n, .dropped, .if_dropped]' '[true,0,0]' \
    --argjson n "$packets"
for part in summary findings; do
    jq -S ".$part | if type == \"object\" then del(.capture_drops) else . end" "$W/a.json" \
        >"$W/a.$part.json"
    jq -S ".$part" "$W/report.json" >"$W/report.$part.json"
    nt_check "watch's report and the report of its -w file agree: .$part" \
        diff -u "$W/a.$part.json" "$W/report.$part.json"
done
nt_log "both reports: $(jq -c '[.summary.packets, .summary.dns_lookups, [.findings[].id]]' \
    "$W/report.json") (packets, lookups, findings)"
# (The server's kernel rate-limits its ICMP errors, so a few refused queries may go unanswered
# and make a dns.no_response finding as well: both reports must then say so.)
nt_json_eq "the report names dns.port_unreachable for the server" "$W/a.json" \
    '[.findings[] | select(.server == $s) | .id] | index("dns.port_unreachable") != null' true \
    --arg s "$server4"

# The same incidents from the file: the tracker runs on packet time. (Live, a quiet moment
# moves the clock on with the wall clock, so when an alert is said may differ; what it says
# may not.)
inc='select(.event.kind == "alert" and (.event.action == "incident-opened" or
     .event.action == "incident-closed")) | [.event.action, .event.reason, .nettriage.incident,
     .rule.id, .destination.ip, .nettriage.first_failure, .nettriage.end]'
"$nettriage" watch "${watch_args[@]}" -o /dev/null "$wfile" >"$W/replay.ndjson" 2>/dev/null || true
jq -c "$inc" "$W/replay.ndjson" >"$W/replay.incidents"
jq -c "$inc" "$A" >"$W/live.incidents"
nt_check "watch on the -w file gives the live run's incidents ($(wc -l <"$W/live.incidents") lines)" \
    diff -u "$W/live.incidents" "$W/replay.incidents"

# B on the quiet link.
nt_expect_eq "B: incident 2 closed though no packet came" "$quiet_closed" yes
nt_json_eq "B: incident 2 closed as quiet, for the server" "$B" \
    "[.[] | $sel | select(.nettriage.incident == 2) | [.event.reason, .destination.ip]]" \
    "[[\"quiet\",\"$server4\"]]" -s --arg a incident-closed
nt_check "B: closed within $quiet_bound_s s of the client's stop" \
    awk -v d="$quiet_delay" -v b="$quiet_bound_s" 'BEGIN { exit !(d <= b) }'

nt_finish
