#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario live_capture: `nettriage report -i IFACE` captures the classic incident itself. A
# client queries a server address where nothing listens on UDP 53 (its kernel answers ICMP
# port unreachable) while nettriage captures on the client's veth with --duration, writing
# what it reads with -w, and tcpdump captures the same traffic independently. Checked:
#   - the live report raises dns.port_unreachable for each server, with the same findings and
#     counts as `nettriage report` on the -w file and on tcpdump's file;
#   - the live report carries the kernel's counts (capture_drops) and nothing was dropped;
#   - while capturing, the process runs as nobody (uid, gid and groups read from
#     /proc/PID/status), not root;
#   - with neither --duration nor -c, SIGINT ends the capture and the report is written;
#   - a copy given cap_net_raw,cap_net_admin (setcap) captures as nobody, without root, and
#     keeps no capability once the interface is open.
# Live only: what it checks is the live path itself, so it keeps no captures to replay.
#
#   tests/scenarios/live_capture.sh NETTRIAGE   (needs root; exit 0 pass, 1 fail, 77 skip)
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_binary_arg "$0" "$@"
nt_init live_capture
nt_require_tools tcpdump dig jq ss timeout getent setcap setpriv
client4=198.51.100.15 server4=198.51.100.2
client6=2001:db8::15 server6=2001:db8::2
nobody_uid=$(getent passwd nobody | cut -d: -f3)
nobody_gid=$(getent passwd nobody | cut -d: -f4)
[ -n "$nobody_uid" ] || nt_skip "no user nobody on this system"

nt_make_pair "$client4/24" "$server4/24" "$client6/64" "$server6/64"
nt_assert_nothing_on_udp53

# nt_live_start NAME ARGS...: nettriage report -i <client veth> ARGS in the client namespace,
# JSON to $NT_WORK/NAME.json, -w $NT_WORK/NAME.w.pcap; returns once it says it captures.
nt_live_start() {
    local name=$1
    shift
    nt_bg "$NT_CLIENT_NS" "$NT_WORK/$name.err" "$nettriage" report -i "$NT_CLIENT_IF" \
        --format json -o "$NT_WORK/$name.json" -w "$NT_WORK/$name.w.pcap" "$@"
    LIVE_PID=$NT_LAST_PID
    nt_wait_said "$LIVE_PID" "$NT_WORK/$name.err" 'capturing on' "nettriage report -i"
}

# nt_live_wait PID TENTHS: waits (bounded) for nettriage to end; its status in LIVE_STATUS.
nt_live_wait() {
    local pid=$1 tenths=$2 i
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && nt_die "nettriage still runs after $((tenths / 10)) s"
    LIVE_STATUS=0
    wait "$pid" || LIVE_STATUS=$?
}

# ---------------------------------------------------------------------------------------
# 1. --duration: the classic incident captured live.
nt_capture_start tcpd
nt_live_start duration --duration 6
# The process after opening the interface and its files: no longer root.
status=$(cat "/proc/$LIVE_PID/status")
ids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$status")
gids=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' <<<"$status")
sup_groups=$(awk '/^Groups:/ { $1 = ""; sub(/^ /, ""); print }' <<<"$status")
nt_expect_eq "uid (real, effective, saved, fs) while capturing" "$ids" \
    "$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
nt_expect_eq "gid (real, effective, saved, fs) while capturing" "$gids" \
    "$nobody_gid $nobody_gid $nobody_gid $nobody_gid"
nt_expect_eq "supplementary groups while capturing" "$sup_groups" "$nobody_gid"
nt_check "stderr says it runs as nobody" grep -q 'running as user nobody' "$NT_WORK/duration.err"

start=$(date +%s%N)
nt_client dig @"$server4" yummyrecipesforme.com A +tries=3 +timeout=1 \
    >"$NT_WORK/dig-a.out" 2>&1 || true
nt_client dig @"$server6" yummyrecipesforme.com AAAA +tries=2 +timeout=1 \
    >"$NT_WORK/dig-aaaa.out" 2>&1 || true
nt_live_wait "$LIVE_PID" 150
took=$((($(date +%s%N) - start) / 1000000))
nt_capture_stop tcpd 8
nt_expect_eq "exit status (findings)" "$LIVE_STATUS" 1
nt_check "--duration 6 ended the capture by itself (${took} ms after the queries began)" \
    test "$took" -lt 9000
nt_check "no progress line (standard error is not a terminal)" \
    bash -c "! grep -q \$'\\r' '$NT_WORK/duration.err'"

live=$NT_WORK/duration.json
nt_nettriage "$NT_WORK/w.json" "$nettriage" report --format json "$NT_WORK/duration.w.pcap"
nt_expect_eq "report of the -w file: exit status" "$NT_STATUS" 1
nt_nettriage "$NT_WORK/tcpd.json" "$nettriage" report --format json "$NT_WORK/tcpd.pcap"
nt_expect_eq "report of tcpdump's file: exit status" "$NT_STATUS" 1

nt_json_eq "live: kind and path" "$live" '[.inputs[] | {kind, path}]' \
    "[{\"kind\":\"live capture\",\"path\":\"$NT_CLIENT_IF\"}]"
nt_json_eq "live: dns.port_unreachable for each server" "$live" \
    '[.findings[] | select(.id == "dns.port_unreachable") | .server] | sort' \
    "$(printf '%s\n' "$server4" "$server6" | jq -R . | jq -sc 'sort')"
nt_json_check "live: the kernel's counts are there and nothing was dropped" \
    '.summary.capture_drops | .received >= 8 and .dropped == 0 and .if_dropped == 0' "$live"
nt_json_check "live: every packet read was counted by the kernel" \
    '.summary.capture_drops.received >= .summary.packets' "$live"

# The findings as facts (no text, no packet numbers: tcpdump's file holds ARP and neighbour
# discovery too, which the default filter leaves out).
facts='[.findings[] | {id, server, port, protocol, lookups, query_packets, error_packets,
        clients, query_names, first_seen, last_seen}] | sort_by(.server)'
counts='.summary | {dns_queries, dns_lookups, icmp_errors, icmp_errors_matched, answered,
        unanswered}'
want_facts=$(jq -cS "$facts" "$NT_WORK/tcpd.json")
want_counts=$(jq -cS "$counts" "$NT_WORK/tcpd.json")
nt_json_eq "live findings = findings of tcpdump's capture" "$live" "$facts" "$want_facts"
nt_json_eq "live DNS counts = counts of tcpdump's capture" "$live" "$counts" "$want_counts"
nt_json_eq "-w file findings = findings of tcpdump's capture" "$NT_WORK/w.json" "$facts" \
    "$want_facts"
jq -S 'del(.inputs, .summary.capture_drops)' "$live" >"$NT_WORK/live.cmp"
jq -S 'del(.inputs, .summary.capture_drops)' "$NT_WORK/w.json" >"$NT_WORK/w.cmp"
nt_check "live report = report of its -w file (all but inputs and capture_drops)" \
    cmp "$NT_WORK/live.cmp" "$NT_WORK/w.cmp"
nt_json_eq "the -w file holds the packets the live report read" "$NT_WORK/w.json" \
    '.summary.packets' "$(jq '.summary.packets' "$live")"
nt_expect_eq "the -w file belongs to nobody (rotation may overwrite it)" \
    "$(stat -c %u "$NT_WORK/duration.w.pcap")" "$nobody_uid"

# ---------------------------------------------------------------------------------------
# 2. No limit: SIGINT (Ctrl-C) ends the capture and the report is written.
nt_live_start sigint
nt_client dig @"$server4" yummyrecipesforme.com A +tries=1 +timeout=1 \
    >"$NT_WORK/dig-int.out" 2>&1 || true
sleep 0.5
start=$(date +%s%N)
kill -INT "$LIVE_PID"
nt_live_wait "$LIVE_PID" 50
took=$((($(date +%s%N) - start) / 1000000))
nt_expect_eq "SIGINT: exit status (findings)" "$LIVE_STATUS" 1
nt_check "SIGINT: ended within 1 s (${took} ms)" test "$took" -lt 1000
nt_json_eq "SIGINT: the report names the failure" "$NT_WORK/sigint.json" \
    '[.findings[] | {id, server}]' "[{\"id\":\"dns.port_unreachable\",\"server\":\"$server4\"}]"

# ---------------------------------------------------------------------------------------
# 3. Without root: a copy of nettriage given cap_net_raw and cap_net_admin (setcap), run as
# nobody, captures the incident and gives up its capabilities once the interface is open.
capdir=$NT_WORK/cap
mkdir -m 777 "$capdir"
cp "$nettriage" "$capdir/nettriage"
chmod 755 "$capdir/nettriage"
if setcap cap_net_raw,cap_net_admin=eip "$capdir/nettriage" 2>"$NT_WORK/setcap.err"; then
    nt_bg "$NT_CLIENT_NS" "$NT_WORK/cap.err" setpriv --reuid="$nobody_uid" --regid="$nobody_gid" \
        --clear-groups "$capdir/nettriage" report -i "$NT_CLIENT_IF" --duration 4 --format json \
        --threads 2 -o "$capdir/cap.json"
    LIVE_PID=$NT_LAST_PID
    nt_wait_for "$NT_WAIT_TENTHS" "the unprivileged capture to start" \
        grep -q 'capturing on' "$NT_WORK/cap.err"
    status=$(cat "/proc/$LIVE_PID/status")
    nt_expect_eq "setcap: uid while capturing" "$(awk '/^Uid:/ { print $2, $3 }' <<<"$status")" \
        "$nobody_uid $nobody_uid"
    nt_expect_eq "setcap: no capability left once the interface is open" \
        "$(awk '/^CapEff:/ { print $2 }; /^CapPrm:/ { print $2 }' <<<"$status" | sort -u)" \
        0000000000000000
    nt_client dig @"$server4" yummyrecipesforme.com A +tries=1 +timeout=1 \
        >"$NT_WORK/dig-cap.out" 2>&1 || true
    # The refused query is the detector's first event: its thread starts then, after the
    # capabilities were given up (capset drops them for the calling thread only), and holds
    # none either.
    nt_wait_for "$NT_WAIT_TENTHS" "the detector's thread to start" \
        bash -c "[ \$(ls /proc/$LIVE_PID/task | wc -l) -ge 2 ]"
    nt_expect_eq "setcap: no capability in any thread, the detector's too" \
        "$(cat /proc/"$LIVE_PID"/task/*/status | awk '/^CapEff:/ { print $2 }; /^CapPrm:/ { print $2 }' | sort -u)" \
        0000000000000000
    nt_live_wait "$LIVE_PID" 100
    nt_expect_eq "setcap: exit status (findings)" "$LIVE_STATUS" 1
    nt_json_eq "setcap: the report names the failure" "$capdir/cap.json" \
        '[.findings[] | {id, server}]' "[{\"id\":\"dns.port_unreachable\",\"server\":\"$server4\"}]"
else
    nt_log "setcap refused here ($(cat "$NT_WORK/setcap.err")): the capability case is not run"
    [ "${CI:-}" != "true" ] || nt_die "setcap failed under CI"
fi

nt_finish
