# shellcheck shell=bash disable=SC2034  # variables here are read by the scripts that source it
# tests/scenarios/lib.sh: shared helpers for scenario tests that make real traffic in network
# namespaces (source it; it does not run anything by itself).
#
# A scenario makes two namespaces joined by a veth pair, runs real servers and clients in
# them, captures with tcpdump on the client side and checks nettriage's findings with jq.
# Traffic never leaves the namespaces: they have no route to anywhere else, and the
# addresses come from the documentation ranges (198.51.100.0/24, 203.0.113.0/24,
# 2001:db8::/32).
#
#   source "$(dirname "$0")/lib.sh"
#   nt_init port_unreachable              # work dir, cleanup trap, root and tool checks
#   nt_require_tools dig tcpdump jq       # skip (exit 77) when missing, fail when CI=true
#   nt_make_pair 198.51.100.15/24 198.51.100.2/24 2001:db8::15/64 2001:db8::2/64
#   nt_capture_start cap1                 # tcpdump on the client veth -> $NT_WORK/cap1.pcap
#   nt_client dig @198.51.100.2 ...       # run a command in the client namespace
#   nt_capture_stop cap1
#   nt_json_check "exactly one finding" '.findings | length == 1' "$json"
#   nt_finish                             # exit 1 when any check failed, else 0
#
# Exit codes: 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE). With CI=true in the
# environment an environment problem (not root, namespaces unavailable, a missing tool)
# fails instead of skipping, so CI cannot go green by skipping every scenario.
#
# Environment: NT_KEEP=1 keeps the work directory; on failure it is always kept (moved to
# tests/scenarios/out/<name>.<pid>/) and its path printed.

# Bounds used by every wait loop (tenths of a second).
NT_WAIT_TENTHS=${NT_WAIT_TENTHS:-100}

NT_NAME=""
NT_WORK=""
NT_ID=""
NT_FAILS=0
NT_CHECKS=0
NT_NAMESPACES=()
NT_PIDS=()
NT_CLIENT_NS=""
NT_SERVER_NS=""
NT_CLIENT_IF=""
NT_SERVER_IF=""
NT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NT_REPO_DIR=$(cd "$NT_LIB_DIR/../.." && pwd)

nt_log() { printf '[%s] %s\n' "${NT_NAME:-scenario}" "$*" >&2; }

# nt_skip REASON: the environment cannot run this scenario. Exit 77 (skip), or 1 when CI=true.
nt_skip() {
    if [ "${CI:-}" = "true" ]; then
        nt_log "FAIL (CI=true, so no skipping): $*"
        exit 1
    fi
    nt_log "SKIP: $*"
    exit 77
}

nt_die() {
    nt_log "ERROR: $*"
    exit 1
}

# nt_binary_arg "$0" "$@": the one argument every scenario takes, the nettriage binary; sets
# $nettriage to its absolute path, or stops with usage (2) or an error (1).
nt_binary_arg() {
    local self=$1
    shift
    [ $# -eq 1 ] || { echo "usage: $self NETTRIAGE" >&2; exit 2; }
    nettriage=$(realpath "$1")
    [ -x "$nettriage" ] || { echo "$self: $1: not an executable" >&2; exit 1; }
}

# --- modes -------------------------------------------------------------------------------
# A scenario written with nt_scenario_args runs in one of three modes:
#   live (default)  makes the namespaces, captures real traffic, checks the live captures.
#   --record        the same, and keeps every capture as tests/captures/<scenario>/<case>.pcap
#                   (the golden inputs; review the diff before committing).
#   --replay        no namespaces and no root: runs the very same checks on the stored
#                   captures (CTest replay.<scenario>), so a machine that cannot make
#                   namespaces still checks every rule on real traffic.
# Traffic-making code goes under `if nt_live; then ... fi`; checks (nt_case ...) run in every
# mode and may only use what the capture and the variables at the top of the script hold.
NT_MODE=live

# nt_scenario_args "$0" "$@": [--replay | --record] NETTRIAGE; sets NT_MODE and $nettriage.
nt_scenario_args() {
    local self=$1
    shift
    case "${1:-}" in
    --replay | --record)
        NT_MODE=${1#--}
        shift
        ;;
    esac
    nt_binary_arg "$self" "$@"
}

# nt_live: true when this run makes traffic (live or --record).
nt_live() { [ "$NT_MODE" != replay ]; }

# nt_init NAME: unique id, work directory, cleanup trap; skips when not root (live modes).
nt_init() {
    NT_NAME=$1
    export TZ=UTC
    if [ "$NT_MODE" = replay ]; then
        command -v tcpdump >/dev/null 2>&1 || nt_skip "tcpdump not installed (scripts/install-deps)"
        command -v jq >/dev/null 2>&1 || nt_skip "jq not installed (scripts/install-deps)"
        trap nt_cleanup EXIT
        NT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/nt-${NT_NAME}.XXXXXX")
        nt_log "replaying the stored captures in tests/captures/$NT_NAME/"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || nt_skip "needs root (network namespaces, tcpdump)"
    command -v ip >/dev/null 2>&1 || nt_skip "ip (iproute2) not installed"
    # Names must be unique across parallel CTest runs and fit IFNAMSIZ (15 chars): the pid
    # (at most 7 digits) plus a short random suffix.
    NT_ID="$$$(printf '%02x' $((RANDOM % 256)))"
    trap nt_cleanup EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    NT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/nt-${NT_NAME}.XXXXXX")
    chmod 755 "$NT_WORK"
    nt_sweep_stale
}

# nt_sweep_stale: deletes namespaces left by an earlier scenario that was killed before its
# cleanup could run (CTest kills a test that times out). Our namespaces are named
# ntc-<pid><2 hex digits> / nts-...; one whose pid no longer runs is stale, and whatever
# still runs inside it was started by that scenario.
nt_sweep_stale() {
    local ns pid q
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
        case "$ns" in
        ntc-[0-9]*[0-9a-f][0-9a-f] | nts-[0-9]*[0-9a-f][0-9a-f]) ;;
        *) continue ;;
        esac
        pid=${ns:4}
        pid=${pid%??}
        case "$pid" in *[!0-9]* | "") continue ;; esac
        kill -0 "$pid" 2>/dev/null && continue
        for q in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$q" 2>/dev/null || true; done
        if ip netns del "$ns" 2>/dev/null; then nt_log "deleted stale namespace $ns"; fi
    done
}

# nt_require_tools TOOL...: skip (or fail under CI=true) when one is missing.
nt_require_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || nt_skip "$t not installed (scripts/install-deps)"
    done
}

# Kills what we started, deletes our namespaces, keeps the work dir on failure.
nt_cleanup() {
    local status=$? pid ns i
    trap - EXIT
    # A second signal must not cut the cleanup short.
    trap '' HUP INT TERM
    set +e
    for pid in "${NT_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
    done
    for ns in "${NT_NAMESPACES[@]}"; do
        # Anything still running inside a namespace we made was started by this script.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    done
    for pid in "${NT_PIDS[@]}"; do
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for ns in "${NT_NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    if [ -n "$NT_WORK" ] && [ -d "$NT_WORK" ]; then
        if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
            local out="$NT_REPO_DIR/tests/scenarios/out/$NT_NAME.$$"
            if mkdir -p "$out" 2>/dev/null && cp -a "$NT_WORK/." "$out/" 2>/dev/null; then
                rm -rf "$NT_WORK"
                nt_log "artifacts kept in $out"
            else
                nt_log "artifacts kept in $NT_WORK"
            fi
        elif [ "${NT_KEEP:-0}" = "1" ]; then
            nt_log "work directory kept: $NT_WORK"
        else
            rm -rf "$NT_WORK"
        fi
    fi
    exit "$status"
}

# nt_ns_add NAME: creates a namespace (skip, or fail under CI=true, when that is impossible).
nt_ns_add() {
    if ! ip netns add "$1" 2>"$NT_WORK/netns.err"; then
        nt_skip "cannot create network namespace: $(head -n 1 "$NT_WORK/netns.err")"
    fi
    NT_NAMESPACES+=("$1")
    ip -n "$1" link set lo up
}

# nt_make_pair CLIENT_V4/LEN SERVER_V4/LEN [CLIENT_V6/LEN SERVER_V6/LEN]
# Makes namespaces $NT_CLIENT_NS and $NT_SERVER_NS joined by veth $NT_CLIENT_IF <->
# $NT_SERVER_IF with those addresses (IPv6 with nodad, so it is usable at once).
nt_make_pair() {
    local c4=$1 s4=$2 c6=${3:-} s6=${4:-}
    NT_CLIENT_NS="ntc-$NT_ID"
    NT_SERVER_NS="nts-$NT_ID"
    NT_CLIENT_IF="ntc$NT_ID"
    NT_SERVER_IF="nts$NT_ID"
    nt_ns_add "$NT_CLIENT_NS"
    nt_ns_add "$NT_SERVER_NS"
    ip link add "$NT_CLIENT_IF" netns "$NT_CLIENT_NS" type veth \
        peer name "$NT_SERVER_IF" netns "$NT_SERVER_NS" ||
        nt_skip "cannot create a veth pair"
    local ns
    for ns in "$NT_CLIENT_NS" "$NT_SERVER_NS"; do
        # No router solicitations: less unrelated noise in the captures.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
            net.ipv6.conf.default.router_solicitations=0 >/dev/null 2>&1 || true
    done
    ip -n "$NT_CLIENT_NS" addr add "$c4" dev "$NT_CLIENT_IF"
    ip -n "$NT_SERVER_NS" addr add "$s4" dev "$NT_SERVER_IF"
    if [ -n "$c6" ]; then
        ip -n "$NT_CLIENT_NS" addr add "$c6" dev "$NT_CLIENT_IF" nodad
        ip -n "$NT_SERVER_NS" addr add "$s6" dev "$NT_SERVER_IF" nodad
    fi
    ip -n "$NT_CLIENT_NS" link set "$NT_CLIENT_IF" up
    ip -n "$NT_SERVER_NS" link set "$NT_SERVER_IF" up
    # Bounded wait for both ends to report carrier and for duplicate address detection of
    # the link-local addresses to finish, so that its chatter (neighbour solicitations,
    # multicast listener reports) is over before a capture starts.
    local i
    for ((i = 0; i < NT_WAIT_TENTHS * 3; i++)); do
        if ip -n "$NT_CLIENT_NS" link show "$NT_CLIENT_IF" | grep -q 'state UP' &&
            ip -n "$NT_SERVER_NS" link show "$NT_SERVER_IF" | grep -q 'state UP' &&
            [ -z "$(ip -n "$NT_CLIENT_NS" -6 addr show tentative)" ] &&
            [ -z "$(ip -n "$NT_SERVER_NS" -6 addr show tentative)" ]; then
            sleep "${NT_SETTLE:-0.5}"
            return 0
        fi
        sleep 0.1
    done
    nt_die "veth pair did not come up (or IPv6 addresses stayed tentative)"
}

# nt_client CMD...: runs CMD in the client namespace. nt_server likewise.
nt_client() { ip netns exec "$NT_CLIENT_NS" "$@"; }
nt_server() { ip netns exec "$NT_SERVER_NS" "$@"; }

# nt_bg NS LOG CMD...: starts CMD in namespace NS in the background (stdout+stderr to LOG),
# remembers its pid for cleanup and leaves it in NT_LAST_PID. `ip netns exec` execs the
# command, so the pid is the command's own.
nt_bg() {
    local ns=$1 log=$2
    shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 &
    NT_LAST_PID=$!
    NT_PIDS+=("$NT_LAST_PID")
}

# nt_wait_for TENTHS DESCRIPTION CMD...: polls CMD every 0.1 s until it succeeds; fails after
# TENTHS tries.
nt_wait_for() {
    local tenths=$1 what=$2 i
    shift 2
    for ((i = 0; i < tenths; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    nt_die "timed out after $((tenths / 10)) s waiting for $what"
}

# nt_wait_said PID LOG PATTERN WHAT: polls LOG every 0.1 s until it holds PATTERN (a process
# saying it has started); fails when PID exits first or after NT_WAIT_TENTHS tries.
nt_wait_said() {
    local pid=$1 log=$2 pat=$3 what=$4 i
    for ((i = 0; i < NT_WAIT_TENTHS; i++)); do
        grep -q "$pat" "$log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || nt_die "$what exited: $(cat "$log")"
        sleep 0.1
    done
    nt_die "$what did not start within $((NT_WAIT_TENTHS / 10)) s"
}

# nt_capture_start NAME [FILTER...]: tcpdump on the client veth writing $NT_WORK/NAME.pcap;
# returns once tcpdump says "listening on". Packets are written as they arrive (-U,
# --immediate-mode). -Z root: Debian's tcpdump otherwise drops to user tcpdump before it
# opens the output file.
declare -A NT_CAPTURE_PID=()
nt_capture_start() {
    local name=$1
    shift
    local pcap="$NT_WORK/$name.pcap" err="$NT_WORK/$name.tcpdump.log"
    # Bursts must not be lost on a loaded 2-core machine. In immediate mode libpcap's ring
    # holds fixed-size slots of about the snapshot length, so the default 262144-byte snapshot
    # gave an 8 MiB buffer only 32 slots, and 16 of a 282-packet burst were dropped while
    # tcpdump waited for a core. -s 65535 still holds a whole GSO segment; -B 65536 (64 MiB)
    # gives about 1,000 slots.
    ip netns exec "$NT_CLIENT_NS" tcpdump -i "$NT_CLIENT_IF" -w "$pcap" -U --immediate-mode \
        -s 65535 -B 65536 -Z root "$@" 2>"$err" &
    local pid=$!
    NT_PIDS+=("$pid")
    NT_CAPTURE_PID[$name]=$pid
    nt_wait_said "$pid" "$err" 'listening on' tcpdump
}

# nt_pcap_count FILE: number of packets in a capture (0 when unreadable).
nt_pcap_count() {
    { tcpdump -nn -r "$1" 2>/dev/null || true; } | wc -l
}

# nt_capture_stop NAME [MIN_PACKETS]: waits (bounded) until the capture holds at least
# MIN_PACKETS and has stopped growing, then stops tcpdump with SIGINT (bounded wait, then
# SIGKILL). Prints nothing; the capture is $NT_WORK/NAME.pcap.
nt_capture_stop() {
    local name=$1 min=${2:-0}
    local pid=${NT_CAPTURE_PID[$name]} pcap="$NT_WORK/$name.pcap"
    local i n last=-1 stable=0
    for ((i = 0; i < 50; i++)); do
        n=$(nt_pcap_count "$pcap")
        if [ "$n" -ge "$min" ] && [ "$n" -eq "$last" ]; then
            stable=$((stable + 1))
            [ "$stable" -ge 3 ] && break
        else
            stable=0
        fi
        last=$n
        sleep 0.1
    done
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        nt_log "tcpdump did not stop on SIGINT; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    n=$(nt_pcap_count "$pcap")
    [ "$n" -ge "$min" ] || nt_die "capture $name has $n packets, expected at least $min"
    # A capture that lost packets would make every count below wrong: stop here instead.
    local dropped
    dropped=$(sed -n 's/^\([0-9][0-9]*\) packets* dropped by kernel.*/\1/p' \
        "$NT_WORK/$name.tcpdump.log" 2>/dev/null)
    [ -z "$dropped" ] || [ "$dropped" -eq 0 ] ||
        nt_die "capture $name: tcpdump lost $dropped packets (machine overloaded?)"
    if [ "$NT_MODE" = record ]; then
        mkdir -p "$NT_REPO_DIR/tests/captures/$NT_NAME"
        cp "$pcap" "$NT_REPO_DIR/tests/captures/$NT_NAME/$name.pcap"
        nt_log "recorded tests/captures/$NT_NAME/$name.pcap ($n packets)"
    fi
}

# nt_udp_listening NS ADDR PORT: true when something in NS listens on UDP ADDR:PORT.
nt_udp_listening() {
    local ns=$1 addr=$2 port=$3
    case "$addr" in *:*) addr="[$addr]" ;; esac
    ip netns exec "$ns" ss -Hlun "src $addr:$port" | grep -q .
}

# nt_assert_nothing_on_udp53: checks that nothing listens on UDP 53 in the server namespace.
nt_assert_nothing_on_udp53() {
    if ip netns exec "$NT_SERVER_NS" ss -Hlun 'sport = :53' | grep -q .; then
        nt_die "something listens on UDP 53 in $NT_SERVER_NS"
    fi
}

# nt_start_dnsmasq ADDR... [-- EXTRA_DNSMASQ_ARGS...]: a DNS server on UDP/TCP 53 in the
# server namespace, answering yummyrecipesforme.com with 198.51.100.7 / 2001:db8::7 and
# nothing upstream. Returns once it listens on every address.
nt_start_dnsmasq() {
    local addrs=() args=() a
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        addrs+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    args=("$@")
    local listen=()
    for a in "${addrs[@]}"; do listen+=("--listen-address=$a"); done
    nt_bg "$NT_SERVER_NS" "$NT_WORK/dnsmasq.log" dnsmasq --keep-in-foreground \
        --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --user=root \
        --pid-file="$NT_WORK/dnsmasq.pid" --log-facility=- --log-queries \
        "${listen[@]}" --address=/yummyrecipesforme.com/198.51.100.7 \
        --address=/yummyrecipesforme.com/2001:db8::7 "${args[@]}"
    NT_DNSMASQ_PID=$NT_LAST_PID
    for a in "${addrs[@]}"; do
        nt_wait_for "$NT_WAIT_TENTHS" "dnsmasq on $a:53" nt_udp_listening "$NT_SERVER_NS" "$a" 53
    done
}

# nt_start_unbound ADDR... [-- CONFIG_LINE...]: unbound on port 53 in the server namespace,
# serving yummyrecipesforme.com from local data; extra lines go into its server: clause
# (later scenarios: access-control refuse, forward-zone to nowhere for SERVFAIL...). It
# cannot recurse anywhere: the namespace has no route out.
nt_start_unbound() {
    local addrs=() a
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        addrs+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    local conf="$NT_WORK/unbound.conf"
    {
        echo "server:"
        echo "    do-daemonize: no"
        echo "    use-syslog: no"
        echo "    logfile: \"\""
        echo "    verbosity: 1"
        echo "    chroot: \"\""
        echo "    username: \"\""
        echo "    directory: \"$NT_WORK\""
        echo "    pidfile: \"$NT_WORK/unbound.pid\""
        echo "    num-threads: 1"
        echo "    so-reuseport: no"
        echo "    port: 53"
        echo "    do-ip6: yes"
        for a in "${addrs[@]}"; do echo "    interface: $a"; done
        echo "    access-control: 198.51.100.0/24 allow"
        echo "    access-control: 203.0.113.0/24 allow"
        echo "    access-control: 2001:db8::/32 allow"
        echo "    local-zone: \"yummyrecipesforme.com.\" static"
        echo "    local-data: \"yummyrecipesforme.com. 300 IN A 198.51.100.7\""
        echo "    local-data: \"yummyrecipesforme.com. 300 IN AAAA 2001:db8::7\""
        for a in "$@"; do echo "    $a"; done
        echo "remote-control:"
        echo "    control-enable: no"
    } >"$conf"
    if command -v unbound-checkconf >/dev/null 2>&1; then
        unbound-checkconf "$conf" >"$NT_WORK/unbound-checkconf.log" 2>&1 ||
            nt_die "bad unbound config: $(cat "$NT_WORK/unbound-checkconf.log")"
    fi
    nt_bg "$NT_SERVER_NS" "$NT_WORK/unbound.log" unbound -d -c "$conf"
    NT_UNBOUND_PID=$NT_LAST_PID
    for a in "${addrs[@]}"; do
        nt_wait_for "$NT_WAIT_TENTHS" "unbound on $a:53" nt_udp_listening "$NT_SERVER_NS" "$a" 53
    done
}

# nt_stop_pid PID: SIGTERM, bounded wait, SIGKILL.
nt_stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# nt_nft NS RULESET: loads an nftables ruleset (text) in namespace NS.
nt_nft() {
    printf '%s\n' "$2" >"$NT_WORK/nft.$1.rules"
    ip netns exec "$1" nft -f "$NT_WORK/nft.$1.rules"
}

# nt_nettriage OUT_JSON NETTRIAGE ARGS...: runs nettriage (stdout to OUT_JSON, stderr to
# OUT_JSON.err) and leaves its exit status in NT_STATUS. Never fails by itself.
nt_nettriage() {
    local out=$1
    shift
    NT_STATUS=0
    timeout 60 "$@" >"$out" 2>"$out.err" || NT_STATUS=$?
    if [ -s "$out.err" ]; then
        nt_log "nettriage stderr:"
        sed 's/^/    /' "$out.err" >&2
    fi
}

# nt_check DESCRIPTION CMD...: records a pass when CMD succeeds, a failure otherwise.
nt_check() {
    local what=$1
    shift
    NT_CHECKS=$((NT_CHECKS + 1))
    if "$@"; then
        nt_log "ok: $what"
    else
        NT_FAILS=$((NT_FAILS + 1))
        nt_log "FAIL: $what"
    fi
}

# nt_expect_eq DESCRIPTION ACTUAL EXPECTED
nt_expect_eq() {
    NT_CHECKS=$((NT_CHECKS + 1))
    if [ "$2" = "$3" ]; then
        nt_log "ok: $1 ($2)"
    else
        NT_FAILS=$((NT_FAILS + 1))
        nt_log "FAIL: $1: got '$2', expected '$3'"
    fi
}

# nt_json_check DESCRIPTION JQ_FILTER FILE [JQ_ARGS...]: the filter must yield true
# (jq -e). JQ_ARGS (--arg/--argjson pairs) are passed before the filter. On failure the
# filter's value is printed.
nt_json_check() {
    local what=$1 filter=$2 file=$3
    shift 3
    NT_CHECKS=$((NT_CHECKS + 1))
    if jq -e "$@" "$filter" "$file" >/dev/null 2>&1; then
        nt_log "ok: $what"
    else
        NT_FAILS=$((NT_FAILS + 1))
        nt_log "FAIL: $what"
        nt_log "    filter: $filter"
        local value
        value=$(jq -c "$@" "$filter" "$file" 2>&1) || true
        nt_log "    value:  ${value:0:2000}"
    fi
}

# nt_json_eq DESCRIPTION FILE JQ_FILTER EXPECTED_JSON [JQ_ARGS...]: the filter's value
# must equal EXPECTED_JSON (compared as JSON); prints both on failure.
nt_json_eq() {
    local what=$1 file=$2 filter=$3 expected=$4 got want
    shift 4
    NT_CHECKS=$((NT_CHECKS + 1))
    got=$(jq -cS "$@" "$filter" "$file" 2>&1) || true
    got=${got:0:2000}
    want=$(jq -ncS --argjson v "$expected" '$v' 2>&1) || want="(bad expected value: $expected)"
    if [ "$got" = "$want" ]; then
        nt_log "ok: $what"
    else
        NT_FAILS=$((NT_FAILS + 1))
        nt_log "FAIL: $what"
        nt_log "    $filter"
        nt_log "    got:      $got"
        nt_log "    expected: $want"
    fi
}

# nt_json FILE JQ_FILTER [JQ_ARGS...]: prints the filter's raw value ("" when jq fails).
nt_json() {
    local file=$1 filter=$2
    shift 2
    jq -r "$@" "$filter" "$file" 2>/dev/null || true
}

# --- cases: one capture checked through both paths ---------------------------------------
# nt_case NAME [NETTRIAGE_OPTIONS...]: runs `nettriage report --format json` on capture NAME
# twice: on the pcap, and on its tcpdump text (`tcpdump -nn -vv -tttt -r`, what an analyst
# pastes). In replay mode the stored capture is used. The JSON reports are
# $NT_WORK/NAME.pcap.json and $NT_WORK/NAME.text.json; NT_CASE is NAME and NT_CASE_STATUS
# the pcap run's exit status. Both runs must exit alike (or the text run with
# NT_CASE_TEXT_STATUS when that is set, e.g. NT_CASE_TEXT_STATUS=2 nt_case NAME for lines tcpdump
# could not decode) and print one JSON object.
NT_CASE=""
NT_CASE_STATUS=0
nt_case() {
    local name=$1
    shift
    local pcap="$NT_WORK/$name.pcap" text="$NT_WORK/$name.txt" st_pcap st_text path
    if [ "$NT_MODE" = replay ]; then
        local stored="$NT_REPO_DIR/tests/captures/$NT_NAME/$name.pcap"
        [ -f "$stored" ] || nt_die "no stored capture $stored (run the scenario as root with --record)"
        cp "$stored" "$pcap"
    fi
    tcpdump -nn -vv -tttt -r "$pcap" >"$text" 2>"$text.err" ||
        nt_die "tcpdump cannot read $pcap: $(cat "$text.err")"
    nt_log "case $name: $(nt_pcap_count "$pcap") packets"
    sed -n '1,60s/^/    /p' "$text" >&2
    NT_CASE=$name
    nt_nettriage "$NT_WORK/$name.pcap.json" "$nettriage" report --format json "$@" "$pcap"
    st_pcap=$NT_STATUS
    nt_nettriage "$NT_WORK/$name.text.json" "$nettriage" report --format json "$@" "$text"
    st_text=$NT_STATUS
    NT_CASE_STATUS=$st_pcap
    if [ -n "${NT_CASE_TEXT_STATUS:-}" ]; then
        nt_expect_eq "$name: the text path's exit status" "$st_text" "$NT_CASE_TEXT_STATUS"
    else
        nt_expect_eq "$name: the text path exits like the pcap path" "$st_text" "$st_pcap"
    fi
    for path in pcap text; do
        if ! jq -se 'length == 1 and (.[0] | type == "object")' "$NT_WORK/$name.$path.json" \
            >/dev/null 2>&1; then
            nt_check "$name ($path): stdout is one JSON object" false
        fi
    done
}

# nt_case_status EXPECTED: the exit status of the current case (0 quiet, 1 findings).
nt_case_status() {
    nt_expect_eq "$NT_CASE: exit status" "$NT_CASE_STATUS" "$1"
}

# nt_case_eq DESCRIPTION JQ_FILTER EXPECTED_JSON [JQ_ARGS...]: nt_json_eq on the report of the
# current case, for the pcap path and for the text path.
nt_case_eq() {
    local what=$1 filter=$2 expected=$3 path
    shift 3
    for path in pcap text; do
        nt_json_eq "$NT_CASE ($path): $what" "$NT_WORK/$NT_CASE.$path.json" "$filter" \
            "$expected" "$@"
    done
}

# nt_case_check DESCRIPTION JQ_FILTER [JQ_ARGS...]: nt_json_check (must yield true) on both
# paths of the current case.
nt_case_check() {
    local what=$1 filter=$2 path
    shift 2
    for path in pcap text; do
        nt_json_check "$NT_CASE ($path): $what" "$filter" "$NT_WORK/$NT_CASE.$path.json" "$@"
    done
}

# nt_case_ids EXPECTED_IDS_JSON: the sorted unique finding ids of the current case, both paths
# (e.g. '["dns.refused"]', or '[]' for a quiet case).
nt_case_ids() {
    nt_case_eq "finding ids" '[.findings[].id] | unique' "$1"
}

# nt_case_pcap: the current case's capture (for independent counts with nt_pcap_select).
nt_case_pcap() { printf '%s\n' "$NT_WORK/$NT_CASE.pcap"; }

# nt_finish: summary line and exit status.
nt_finish() {
    if [ "$NT_FAILS" -gt 0 ]; then
        nt_log "$NT_FAILS of $NT_CHECKS checks failed"
        exit 1
    fi
    nt_log "all $NT_CHECKS checks passed"
    exit 0
}

# nt_link_ready NS1 IF1 NS2 IF2: both ends of a veth are up and no IPv6 address is tentative.
# shellcheck disable=SC2317  # called through nt_wait_for
nt_link_ready() {
    ip -n "$1" link show "$2" | grep -q 'state UP' &&
        ip -n "$3" link show "$4" | grep -q 'state UP' &&
        [ -z "$(ip -n "$1" -6 addr show tentative)" ] &&
        [ -z "$(ip -n "$3" -6 addr show tentative)" ]
}

# nt_bpf_quotes_dst ADDR: BPF for an ICMP/ICMPv6 error whose quoted datagram goes to ADDR (the
# quoted IPv4 header without options, the outer IPv6 header without extension headers).
nt_bpf_quotes_dst() {
    local addr=$1
    case "$addr" in
    *:*)
        local head=${addr%%::*} tail="" groups=() hg=() tg=() g n i words=""
        [[ "$addr" == *::* ]] && tail=${addr#*::}
        [ "$addr" = "$head" ] && tail=""
        IFS=: read -r -a hg <<<"$head"
        IFS=: read -r -a tg <<<"$tail"
        n=$((8 - ${#hg[@]} - ${#tg[@]}))
        for g in "${hg[@]}"; do groups+=("$g"); done
        for ((i = 0; i < n; i++)); do groups+=(0); done
        for g in "${tg[@]}"; do groups+=("$g"); done
        for i in 0 2 4 6; do
            words+=" and ip6[$((72 + i * 2)):4] == 0x$(printf '%04x%04x' "0x${groups[i]}" "0x${groups[i + 1]}")"
        done
        printf '(icmp6 and ip6[40] < 128%s)' "$words"
        ;;
    *)
        local o1 o2 o3 o4
        IFS=. read -r o1 o2 o3 o4 <<<"$addr"
        printf '(icmp and icmp[24:4] == 0x%02x%02x%02x%02x)' "$o1" "$o2" "$o3" "$o4"
        ;;
    esac
}

# nt_pcap_select PCAP FILTER: the packets of PCAP that match the BPF FILTER, one line each:
# "NUMBER ISO_TIME", NUMBER counting from 1 over the whole file (as tcpdump -# and
# Wireshark number frames) and ISO_TIME in nettriage's form (2026-11-21T20:17:30.184566Z).
nt_pcap_select() {
    local pcap=$1 filter=$2
    # Each filtered line is found in the numbered listing by its whole text (packets with the
    # same timestamp are common: an IPv4 and an IPv6 error sent together); identical lines are
    # taken in order. -tttt under TZ=UTC prints "2026-11-21 13:24:32.192571", so the ISO time
    # is two fields joined (no process per packet).
    awk 'NR == FNR { n = $1; sub(/^ *[0-9]+ +/, ""); q[$0] = q[$0] " " n; next }
         {
             split(q[$0], l, " "); num = l[1]; sub(/^ *[0-9]+/, "", q[$0])
             print num, $1 "T" $2 "Z"
         }' \
        <(TZ=UTC tcpdump -# -nn -tttt -r "$pcap" 2>/dev/null) \
        <(TZ=UTC tcpdump -nn -tttt -r "$pcap" "$filter" 2>/dev/null)
}

# BPF filters for what the scenarios count independently of nettriage.
# An ICMP error message: IPv4 types 3, 4, 5, 11, 12; ICMPv6 types below 128.
NT_BPF_ICMP_ERROR='(icmp and (icmp[0] == 3 or icmp[0] == 4 or icmp[0] == 5 or icmp[0] == 11 or icmp[0] == 12)) or (icmp6 and ip6[40] < 128)'
# A DNS query over UDP (QR bit clear), IPv4 or IPv6 without extension headers.
NT_BPF_DNS_QUERY='(udp dst port 53) and ((ip and (udp[10] & 0x80) == 0) or (ip6 and (ip6[50] & 0x80) == 0))'
# A DNS response over UDP (QR bit set).
NT_BPF_DNS_RESPONSE='(udp src port 53) and ((ip and (udp[10] & 0x80) != 0) or (ip6 and (ip6[50] & 0x80) != 0))'

# nt_dns_lookups PCAP FILTER: distinct DNS lookups among the queries matching FILTER, one
# line each "SRC.PORT ID NAME TYPE" (a retransmission with the same port and id is one).
nt_dns_lookups() {
    tcpdump -nn -r "$1" "($NT_BPF_DNS_QUERY) and ($2)" 2>/dev/null |
        awk '{
            id = $6; sub(/[^0-9].*$/, "", id)
            name = ""; type = ""
            for (i = 7; i <= NF; i++) if ($i ~ /\?$/) { type = $i; sub(/\?$/, "", type); name = $(i + 1); break }
            print $3, id, name, type
        }' | sort -u
}

# nt_check_dns_finding LABEL PCAP JSON RULE SERVER CLIENT QNAME [ICMP_BPF]: checks the RULE
# finding for one DNS server in report JSON against capture PCAP, counted independently of
# nettriage (tcpdump BPF): exactly one finding, protocol/port/service, lookups, query and error
# packets, clients, query names, first/last seen and evidence packets. ICMP_BPF, when given,
# selects the ICMP type and code every error from the server must have (checked first: if
# not, the scenario, not nettriage, is broken). LABEL prefixes every message.
nt_check_dns_finding() {
    local name=$1 pcap=$2 json=$3 rule=$4 server=$5 client=$6 qname=$7 icmp_bpf=${8:-}
    local to="dst host $server" from="src host $server"
    local queries errors lookups names
    queries=$(nt_pcap_select "$pcap" "($NT_BPF_DNS_QUERY) and $to")
    errors=$(nt_pcap_select "$pcap" "($NT_BPF_ICMP_ERROR) and $from")
    lookups=$(nt_dns_lookups "$pcap" "$to" | wc -l)
    # query_names are written without the root's trailing dot (docs/json-schema.md)
    names=$(nt_dns_lookups "$pcap" "$to" |
        awk '{ n = $3; if (n != ".") sub(/\.$/, "", n); print n " " $4 }' | sort -u |
        jq -R . | jq -sc 'sort')
    local nq ne nkind first last packets
    nq=$(printf '%s\n' "$queries" | grep -c . || true)
    ne=$(printf '%s\n' "$errors" | grep -c . || true)
    if [ -n "$icmp_bpf" ]; then
        nkind=$(nt_pcap_select "$pcap" "($icmp_bpf) and $from" | wc -l)
    else
        nkind=$ne
    fi
    first=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $2 }' | sort | sed -n 1p)
    last=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $2 }' | sort | tail -n 1)
    packets=$(printf '%s\n%s\n' "$queries" "$errors" | awk 'NF { print $1 }' | sort -n | jq -sc .)
    nt_log "$name: server $server: $nq queries, $lookups lookups, $ne ICMP errors" \
        "($nkind of the expected type), names $names"
    [ "$nq" -ge 1 ] || nt_die "$name: no queries to $server in the capture; scenario broken"
    [ "$ne" -ge 1 ] || nt_die "$name: no ICMP errors from $server in the capture; scenario broken"
    [ "$nkind" -eq "$ne" ] ||
        nt_die "$name: only $nkind of $ne ICMP errors from $server match '$icmp_bpf';" \
            "the firewall rule did not do what the scenario expects"

    # shellcheck disable=SC2016  # a jq filter, single-quoted on purpose
    local f='[.findings[] | select(.id == $r and .server == $s)]'
    local one="$f | .[0]"
    local a=(--arg r "$rule" --arg s "$server")
    nt_json_eq "$name: $server: exactly one $rule finding" "$json" "$f | length" 1 "${a[@]}"
    nt_json_eq "$name: $server: protocol, port, service" "$json" \
        "$one | {protocol, port, service}" '{"protocol":"udp","port":53,"service":"DNS"}' "${a[@]}"
    nt_json_eq "$name: $server: lookups" "$json" "$one | .lookups" "$lookups" "${a[@]}"
    nt_json_eq "$name: $server: query_packets" "$json" "$one | .query_packets" "$nq" "${a[@]}"
    nt_json_eq "$name: $server: error_packets" "$json" "$one | .error_packets" "$ne" "${a[@]}"
    nt_json_eq "$name: $server: clients" "$json" "$one | .clients" "[\"$client\"]" "${a[@]}"
    nt_json_eq "$name: $server: query_names contains \"$qname\"" "$json" \
        "$one | .query_names | index([\$q]) != null" true "${a[@]}" --arg q "$qname"
    nt_json_eq "$name: $server: query_names (from the capture)" "$json" \
        "$one | .query_names | sort?" "$names" "${a[@]}"
    nt_json_eq "$name: $server: first_seen" "$json" "$one | .first_seen" "\"$first\"" "${a[@]}"
    nt_json_eq "$name: $server: last_seen" "$json" "$one | .last_seen" "\"$last\"" "${a[@]}"
    nt_json_eq "$name: $server: severity, title, causes and next steps present" "$json" \
        "$one | [(.severity | type), (.title | length > 0), (.causes | length > 0),
                 (.next_steps | length > 0)]" '["string",true,true,true]' "${a[@]}"
    nt_json_eq "$name: $server: evidence cites only this server's packets $packets" "$json" \
        "$one | [.evidence[]?.packet] | (length > 0) and all(.[]; . as \$p | \$pk | index([\$p]) != null)" \
        true "${a[@]}" --argjson pk "$packets"
}
