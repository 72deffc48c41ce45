#!/usr/bin/env bash
# lib.sh: a ClickHouse cluster on loopback for the fleet tests (sourced). Each server gets its
# own configuration, data folder, log and PID file under one directory; the system service is
# never used. Every wait is bounded and polls for its condition.
#
#   ch_ports N               prints N free TCP ports on 127.0.0.1
#   ch_config DIR HTTP TCP CLUSTER_TCP_PORT...   writes DIR/config.xml and DIR/users.xml
#   ch_start DIR             starts the server of DIR, waits until it answers (at most 60 s)
#   ch_stop DIR              stops it by its PID (SIGTERM, then SIGKILL after 30 s)
#   ch_kill DIR              kills it at once (SIGKILL), as a crash would
#   ch_query DIR SQL         runs SQL with clickhouse-client on that server
# The users: default (no password, loopback only) and sensor (password "s3cret", for the
# credential tests).

# Free ports: bound by the kernel, then released (a race with another program is possible but
# the servers fail loudly and the test says so).
ch_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

ch_config() {
    local dir=$1 http=$2 tcp=$3
    shift 3
    mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas"
    {
        cat <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <max_concurrent_queries>20</max_concurrent_queries>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers>
    <nettriage_fleet>
XML
        local p
        for p in "$@"; do
            printf '      <shard><replica><host>127.0.0.1</host><port>%s</port></replica></shard>\n' "$p"
        done
        cat <<XML
    </nettriage_fleet>
  </remote_servers>
</yandex>
XML
    } >"$dir/config.xml"
    cat >"$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>2000000000</max_memory_usage></default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <sensor>
      <password>s3cret</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </sensor>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
XML
}

ch_http_port() { sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$1/config.xml"; }
ch_tcp_port() { sed -n 's:.*<tcp_port>\([0-9]*\)</tcp_port>.*:\1:p' "$1/config.xml"; }

ch_start() {
    local dir=$1 port i
    port=$(ch_http_port "$dir")
    clickhouse-server --config-file="$dir/config.xml" --pid-file="$dir/pid" --daemon \
        >>"$dir/log/stdout.log" 2>&1 || {
        echo "clickhouse-server did not start ($dir): $(tail -3 "$dir/log/stdout.log")" >&2
        return 1
    }
    for i in $(seq 600); do
        [ "$(curl -s -m 2 "http://127.0.0.1:$port/ping" 2>/dev/null)" = "Ok." ] && return 0
        if [ $((i % 20)) -eq 0 ] && [ -s "$dir/pid" ] && ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            echo "clickhouse-server ($dir) exited: $(tail -5 "$dir/log/server.err.log" 2>/dev/null)" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "clickhouse-server ($dir) did not answer on port $port within 60 s" >&2
    return 1
}

# The PID of the server of DIR (empty when none).
ch_pid() { [ -s "$1/pid" ] && cat "$1/pid"; }

ch_stop() {
    local dir=$1 pid i
    pid=$(ch_pid "$dir") || return 0
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
    for i in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/pid"
}

ch_kill() {
    local dir=$1 pid i
    pid=$(ch_pid "$dir") || return 0
    kill -9 "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/pid"
}

ch_query() {
    local dir=$1
    shift
    clickhouse-client --host 127.0.0.1 --port "$(ch_tcp_port "$dir")" --query "$*"
}
