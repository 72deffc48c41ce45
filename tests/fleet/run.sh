#!/usr/bin/env bash
# run.sh: the fleet store on a real ClickHouse cluster on loopback (issue 11).
#   tests/fleet/run.sh NETTRIAGE
# Starts two ClickHouse servers (each a shard of the cluster nettriage_fleet, with its own
# configuration, data folder and PID file in a temporary directory; never the system service),
# creates docs/clickhouse.sql on both, and checks:
#   - two sensors replay different captures of the same outage, one shipping with --clickhouse
#     (libcurl, spool), the other through the documented pipe into clickhouse-client; each
#     sensor's rows land on one shard (Distributed table sharded by sensor);
#   - `nettriage fleet` names the outage, its onset (the earliest sensor's) and both sensors, and
#     agrees with `nettriage report` on the union of the captures (finding, server, onset,
#     lookups, clients), in JSON, Markdown and HTML;
#   - a server killed (SIGKILL) before a batch is sent and restarted while nettriage retries:
#     every event stored, none twice; a batch sent again is stored once (ReplacingMergeTree on
#     the event id: FINAL, and OPTIMIZE ... FINAL leaves one row);
#   - a full spool: the overflow is counted and reported, exit status 2;
#   - credentials from the environment or a mode-600 file; refused on the command line.
# Everything it started is stopped by PID at the end. Exit 0 pass, 1 fail, 77 skip (ClickHouse
# not installed; with CI=true that is a failure: scripts/install-deps installs it).
set -uo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/fleet/lib.sh
. "$root/tests/fleet/lib.sh"
export TZ=UTC LC_ALL=C

for tool in clickhouse-server clickhouse-client curl jq python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ "${CI:-}" = "true" ]; then
            echo "FAIL fleet: $tool is not installed (scripts/install-deps installs it)"
            exit 1
        fi
        echo "SKIP fleet: $tool is not installed (run scripts/install-deps as root)"
        exit 77
    fi
done

tmp=$(mktemp -d /tmp/nettriage-fleet.XXXXXX)
bg=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    [ -n "$bg" ] && kill "$bg" 2>/dev/null
    # The data is thrown away: SIGKILL (a graceful stop of 18.16 takes about 9 s).
    ch_kill "$tmp/a"
    ch_kill "$tmp/b"
    rm -rf "$tmp"
}
trap cleanup EXIT

fail=0
ok() { echo "ok   $*"; }
bad() {
    echo "FAIL $*"
    fail=1
}
check() { # check DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}

read -r ha ta hb tb <<<"$(ch_ports 4)"
ch_config "$tmp/a" "$ha" "$ta" "$ta" "$tb"
ch_config "$tmp/b" "$hb" "$tb" "$ta" "$tb"
ch_start "$tmp/a" & pa=$!
ch_start "$tmp/b" & pb=$!
wait "$pa" || { echo "FAIL fleet: server a did not start"; exit 1; }
wait "$pb" || { echo "FAIL fleet: server b did not start"; exit 1; }
for d in a b; do
    clickhouse-client --host 127.0.0.1 --port "$(ch_tcp_port "$tmp/$d")" --multiquery \
        <"$root/docs/clickhouse.sql" || { echo "FAIL fleet: docs/clickhouse.sql on $d"; exit 1; }
done
ok "two servers up (ports $ha/$ta and $hb/$tb), schema created on both"

caps=$root/tests/captures/service_stopped
urla=http://127.0.0.1:$ha/
urlb=http://127.0.0.1:$hb/
export NETTRIAGE_HOSTNAME=fleet-test

# --- two sensors, one outage ---------------------------------------------------------------
"$bin" report -q --sensor siteA --clickhouse "$urla" --spool "$tmp/spoolA" \
    "$caps/stopped.pcap" >"$tmp/a.md" 2>"$tmp/a.err"
check "siteA ships with --clickhouse (exit 1: a finding)" "$?" 1
check "siteA's spool is empty after HTTP 200" "$(find "$tmp/spoolA" -name '*.ndjson' | wc -l)" 0
"$bin" report --format ndjson --sensor siteB "$caps/recovered.pcap" |
    clickhouse-client --host 127.0.0.1 --port "$tb" --input_format_import_nested_json=1 \
        --input_format_skip_unknown_fields=1 --insert_distributed_sync=1 \
        --query 'INSERT INTO nettriage.events FORMAT JSONEachRow'
check "siteB ships through the pipe into clickhouse-client" "${PIPESTATUS[1]}" 0

# Each sensor's rows on one shard, and both shards used.
sa=$(ch_query "$tmp/a" "SELECT groupUniqArray(sensor) FROM nettriage.lookups_local")
sb=$(ch_query "$tmp/b" "SELECT groupUniqArray(sensor) FROM nettriage.lookups_local")
check "sharded by sensor: one sensor per shard" "$(printf '%s\n' "$sa" "$sb" | sort | tr '\n' ' ')" \
    "['siteA'] ['siteB'] "

# What each sensor's report says, stored: the lookups of each (events with a date).
for s in A B; do
    cap=$caps/stopped.pcap
    [ $s = B ] && cap=$caps/recovered.pcap
    want=$("$bin" report --format ndjson --sensor "site$s" "$cap" |
        jq -s '[.[] | select(.event.dataset == "nettriage.dns" and has("@timestamp"))] | length')
    got=$(ch_query "$tmp/a" "SELECT count() FROM nettriage.lookups FINAL WHERE sensor = 'site$s'")
    check "site$s: every lookup stored ($want)" "$got" "$want"
done

# The fleet report against the report of the union of the captures.
"$bin" report --format json "$caps/stopped.pcap" "$caps/recovered.pcap" >"$tmp/union.json"
"$bin" fleet --clickhouse "$urlb" --format json >"$tmp/fleet.json"
check "fleet exits 1 (findings)" "$?" 1
check "fleet's findings are the union report's (id, server, port, onset, lookups, clients)" \
    "$(jq -c '[.findings[] | [.id, .server, .port, .first_seen, .lookups, .clients]]' "$tmp/fleet.json")" \
    "$(jq -c '[.findings[] | [.id, .server, .port, .first_seen, .lookups, (.clients | length)]]' "$tmp/union.json")"
check "the outage's sensors, the earliest first" \
    "$(jq -c '[.findings[] | select(.id == "dns.port_unreachable") | .onset_sensor, [.sensors[].sensor]]' "$tmp/fleet.json")" \
    '["siteA",["siteA","siteB"]]'
check "failing server seen from 2 sites since the earliest failure" \
    "$(jq -c '[.failing_servers[] | [.server, .sensors, .since]]' "$tmp/fleet.json")" \
    "$(jq -c '[[.findings[0].server, 2, .findings[0].first_seen]]' "$tmp/union.json")"
check "answer times per site" "$(jq -c '[.answer_times[] | .sensor]' "$tmp/fleet.json")" \
    '["siteA","siteB"]'
check "top failing name" "$(jq -c '[.failing_names[] | [.name, .sensors]]' "$tmp/fleet.json")" \
    '[["yummyrecipesforme.com",2]]'
onset=$(jq -r '.findings[0].first_seen' "$tmp/union.json")
"$bin" fleet --clickhouse "$urla" >"$tmp/fleet.md"
if grep -q "Onset:\*\* $onset, first seen by \`siteA\`" "$tmp/fleet.md" &&
    grep -q "Seen by 2 sensors:\*\* \`siteA\` from .*, \`siteB\` from" "$tmp/fleet.md"; then
    ok "Markdown names the onset and both sensors"
else
    bad "Markdown: $(grep -E 'Onset|Seen by' "$tmp/fleet.md")"
fi
"$bin" fleet --clickhouse "$urla" --format html -o "$tmp/fleet.html"
if command -v xmllint >/dev/null && xmllint --noout "$tmp/fleet.html" 2>"$tmp/xml.err" &&
    ! [ -s "$tmp/xml.err" ] && grep -q "$onset" "$tmp/fleet.html"; then
    ok "HTML is well-formed and names the onset"
else
    bad "HTML: $(head -3 "$tmp/xml.err")"
fi
"$bin" fleet --clickhouse "$urla" --format json --from 2026-11-21T22:49:31Z \
    --to 2026-11-21T22:49:40Z >"$tmp/range.json"
check "a range after siteA's lookups: only siteB's coverage" \
    "$(jq -c '[.sensors[].sensor]' "$tmp/range.json")" '["siteB"]'

# --- a server killed and restarted while shipping --------------------------------------------
ex=$root/examples/port-unreachable.pcap
want=$("$bin" report --format ndjson --sensor siteC "$ex" |
    jq -s '[.[] | select(.event.dataset == "nettriage.dns")] | length')
ch_kill "$tmp/a"
"$bin" report --sensor siteC --clickhouse "$urla" --spool "$tmp/spoolC" --clickhouse-wait 120 \
    "$ex" >/dev/null 2>"$tmp/c.err" &
bg=$!
for _ in $(seq 300); do
    grep -q 'retried' "$tmp/c.err" 2>/dev/null && break
    sleep 0.1
done
check "with the server down, the batch waits in the spool" \
    "$(find "$tmp/spoolC" -name '*.ndjson' | wc -l)" 1
ch_start "$tmp/a" || bad "server a did not restart"
wait "$bg"
check "nettriage delivered after the restart (exit 1: findings)" "$?" 1
bg=
check "the spool is empty" "$(find "$tmp/spoolC" -name '*.ndjson' | wc -l)" 0
raw=$(ch_query "$tmp/a" "SELECT count() FROM nettriage.lookups WHERE sensor = 'siteC'")
check "siteC: every lookup stored, none twice ($want)" "$raw" "$want"

# The same events sent again (an answer lost after the server stored a batch): stored once.
"$bin" report -q --sensor siteC --clickhouse "$urla" --spool "$tmp/spoolC" "$ex" >/dev/null
final=$(ch_query "$tmp/a" "SELECT count() FROM nettriage.lookups FINAL WHERE sensor = 'siteC'")
check "a batch sent twice counts once (FINAL)" "$final" "$want"
for d in a b; do
    ch_query "$tmp/$d" "OPTIMIZE TABLE nettriage.lookups_local FINAL"
done
raw=$(ch_query "$tmp/a" "SELECT count() FROM nettriage.lookups WHERE sensor = 'siteC'")
check "... and one row once parts merge" "$raw" "$want"

# --- TCP attempts, and a batch the server refuses -------------------------------------------
tcpcap=$root/tests/captures/tcp/closed.pcap
want=$("$bin" report --format ndjson --sensor siteE "$tcpcap" |
    jq -s '[.[] | select(.event.dataset == "nettriage.tcp" and has("@timestamp"))] | length')
mkdir -p "$tmp/spoolE"
echo '{"@timestamp":"2026-11-21T00:00:00Z","event":{"dataset":"nettriage.dns","duration":"x"}}' \
    >"$tmp/spoolE/00000000000000000001-0123456789abcdef0123456789abcdef.ndjson"
"$bin" report -q --sensor siteE --clickhouse "$urlb" --spool "$tmp/spoolE" "$tcpcap" \
    >/dev/null 2>"$tmp/e.err"
check "a refused batch: exit status 2" "$?" 2
if grep -q '1 events in 1 batches refused by the server' "$tmp/e.err" &&
    [ -s "$tmp/spoolE/rejected/00000000000000000001-0123456789abcdef0123456789abcdef.ndjson" ]; then
    ok "... kept in SPOOL/rejected, counted and reported"
else
    bad "refused batch: $(cat "$tmp/e.err")"
fi
got=$(ch_query "$tmp/a" "SELECT count() FROM nettriage.tcp_attempts FINAL WHERE sensor = 'siteE'")
check "the queue went on: every TCP attempt stored ($want)" "$got" "$want"

# --- a full spool ----------------------------------------------------------------------------
mkdir -p "$tmp/spoolD"
head -c 1048576 /dev/zero | tr '\0' 'x' \
    >"$tmp/spoolD/00000000000000000001-00000000000000000000000000000000.ndjson"
ch_kill "$tmp/b"
"$bin" report -q --sensor siteD --clickhouse "$urlb" --spool "$tmp/spoolD" --spool-max 1 \
    --clickhouse-wait 0 "$ex" >/dev/null 2>"$tmp/d.err"
check "spool full: exit status 2" "$?" 2
if grep -qE 'events in 1 batches overflowed the spool' "$tmp/d.err"; then
    ok "the overflow is counted and reported"
else
    bad "overflow message: $(cat "$tmp/d.err")"
fi
rm -f "$tmp/spoolD"/*.ndjson
ch_start "$tmp/b" || bad "server b did not restart"

# --- credentials -----------------------------------------------------------------------------
NETTRIAGE_CLICKHOUSE_USER=sensor NETTRIAGE_CLICKHOUSE_PASSWORD=s3cret \
    "$bin" fleet --clickhouse "$urla" --format json >/dev/null
check "credentials from the environment" "$?" 1
NETTRIAGE_CLICKHOUSE_USER=sensor NETTRIAGE_CLICKHOUSE_PASSWORD=wrong \
    "$bin" fleet --clickhouse "$urla" >/dev/null 2>"$tmp/cred.err"
check "a wrong password: exit 2" "$?" 2
if grep -q 'HTTP [45]' "$tmp/cred.err"; then
    ok "... with ClickHouse's answer"
else
    bad "wrong password message: $(cat "$tmp/cred.err")"
fi
printf 'sensor:s3cret\n' >"$tmp/cred"
chmod 644 "$tmp/cred"
NETTRIAGE_CLICKHOUSE_CREDENTIALS=$tmp/cred "$bin" fleet --clickhouse "$urla" >/dev/null 2>&1
check "a credentials file readable by others is refused" "$?" 2
chmod 600 "$tmp/cred"
NETTRIAGE_CLICKHOUSE_CREDENTIALS=$tmp/cred "$bin" fleet --clickhouse "$urla" >/dev/null
check "a mode-600 credentials file" "$?" 1
"$bin" fleet --clickhouse "http://sensor:s3cret@127.0.0.1:$ha/" >/dev/null 2>&1
check "credentials in the URL are refused" "$?" 2

[ $fail -eq 0 ] && echo "fleet: all checks passed" || echo "fleet: FAILED"
exit $fail
