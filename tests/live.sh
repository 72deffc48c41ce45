#!/usr/bin/env bash
# tests/live.sh: the live path without an interface (no namespaces; CTest "live.cli"):
#   - the options of a live capture and their errors (exit 2, a message naming the option);
#   - --read-live --speed 0 gives, on every test capture and example, the very report (JSON,
#     byte for byte, and exit status) that `nettriage report FILE` gives;
#   - -w writes what was read: the report of the written file is the report of the original;
#   - Ctrl-C (SIGINT) during --read-live and while reading a pipe on standard input stops the
#     reading promptly and the report of what was read is still written;
#   - a pasted log on a terminal (a pty) ends with one Ctrl-D, and the prompt says so;
#   - no progress line when standard error is not a terminal.
#
#   tests/live.sh NETTRIAGE          exit 0 pass, 1 fail, 77 skip (jq or python3 missing)
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 NETTRIAGE" >&2; exit 2; }
nt=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
for t in jq python3 timeout; do
    command -v "$t" >/dev/null 2>&1 || { echo "live.sh: SKIP: $t not installed (scripts/install-deps)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/nt-live.XXXXXX")
# Started as root, nettriage gives up root for nobody after opening its files: the rotated
# files it makes afterwards need a directory nobody may write to.
chmod 1777 "$work"
trap 'rm -rf "$work"' EXIT
fails=0
checks=0
ok() { checks=$((checks + 1)); }
bad() {
    checks=$((checks + 1))
    fails=$((fails + 1))
    echo "FAIL: $*" >&2
}

# expect_usage DESCRIPTION PATTERN ARGS...: exit status 2 and PATTERN on standard error.
expect_usage() {
    local what=$1 pat=$2
    shift 2
    local err rc
    err=$(timeout 10 "$nt" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq 2 ] && grep -q -- "$pat" <<<"$err"; then ok; else bad "$what: status $rc, '$err'"; fi
}

example=$repo/examples/port-unreachable.pcap
text=$repo/examples/port-unreachable.txt

# --- options --------------------------------------------------------------------------
expect_usage "-c without a live source" "is an option of a live capture" report -c 5 "$example"
expect_usage "-w without a live source" "is an option of a live capture" report -w x "$example"
expect_usage "-Z without a live source" "is an option of a live capture" report -Z nobody "$example"
expect_usage "--duration without a live source" "is an option of a live capture" \
    report --duration 1 "$example"
# -f is the capture filter now (tshark's letter); the format is --format only.
expect_usage "-f json on a file" "is an option of a live capture" report -f json "$example"
expect_usage "-i with --read-live" "cannot be used together" report -i lo --read-live "$example"
expect_usage "--speed on an interface" "paces --read-live" report -i lo --speed 2
expect_usage "-C without -w" "give -w FILE" report --read-live "$example" -C 1
expect_usage "-W without -C" "give -C MB" report --read-live "$example" -w "$work/x" -W 2
expect_usage "-f and words" "not both" report --read-live "$example" -f udp tcp
expect_usage "bad -c" "-c wants" report --read-live "$example" -c 0
expect_usage "bad --duration" "--duration wants" report --read-live "$example" --duration -1
expect_usage "bad --speed" "--speed wants" report --read-live "$example" --speed x
expect_usage "bad -C" "-C wants" report --read-live "$example" -w "$work/x" -C 0
expect_usage "bad filter" "bad filter expression" report --read-live "$example" udp port and
expect_usage "missing replay file" "No such file" report --read-live "$work/missing.pcap"
expect_usage "-Z unknown user" "no user" report --read-live "$example" -Z nt-no-such-user-x
expect_usage "no capture" "at least one CAPTURE" report
expect_usage "--format still checked" "unknown --format" report --format yaml "$example"

# --- --read-live gives the file's report --------------------------------------------------
n=0
for f in "$repo"/tests/captures/*/*.pcap "$repo"/tests/captures/*/*.pcapng "$repo"/examples/*.pcap; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    "$nt" report --format json "$f" >"$work/file.json" 2>/dev/null
    r1=$?
    timeout 60 "$nt" report -q --format json --read-live "$f" --speed 0 >"$work/live.json" 2>"$work/live.err"
    r2=$?
    if [ $r1 -eq $r2 ] && cmp -s "$work/file.json" "$work/live.json"; then
        ok
    else
        bad "--read-live $f: status $r1 vs $r2, reports differ: $(diff <(jq -S . "$work/file.json") \
            <(jq -S . "$work/live.json") | head -5)"
    fi
done
[ "$n" -ge 10 ] || bad "only $n captures found under tests/captures"
if [ -s "$work/live.err" ]; then bad "--quiet still wrote: $(cat "$work/live.err")"; else ok; fi

# A filter applies to the replay: only the ICMP errors, so the lookups come from their quotes.
"$nt" report --format json --read-live "$example" --speed 0 -q icmp >"$work/icmp.json"
if [ "$(jq -c '[.summary.dns_queries, .summary.lookups_from_quotes > 0, ([.findings[].id] | unique)]' \
    "$work/icmp.json")" = '[0,true,["dns.port_unreachable"]]' ]; then ok; else
    bad "filter icmp on the replay: $(jq -c .summary "$work/icmp.json")"
fi

# --- -w: the written file gives the same report -------------------------------------------
"$nt" report -q --format json --read-live "$example" --speed 0 -w "$work/copy.pcap" >"$work/w.json"
"$nt" report --format json "$work/copy.pcap" >"$work/copy.json"
"$nt" report --format json "$example" >"$work/orig.json"
if [ -s "$work/copy.pcap" ] && cmp -s <(jq -S 'del(.inputs[].path)' "$work/orig.json") \
    <(jq -S 'del(.inputs[].path)' "$work/copy.json"); then ok; else
    bad "-w copy's report differs from the original's"
fi
# -C 1 (a million bytes) on a small capture: one file, named as given
if [ -s "$work/copy.pcap" ] && [ ! -e "$work/copy.pcap1" ]; then ok; else bad "-w made extra files"; fi

# --- Ctrl-C -------------------------------------------------------------------------------
# A replay at its recorded pace of a capture whose packets are minutes apart: SIGINT ends it
# at once, and the report covers the packets read.
slow=$repo/tests/captures/late_answer/late.pcap
[ -f "$slow" ] || slow=$example
"$nt" report --format json --read-live "$slow" --speed 0.001 >"$work/int.json" 2>"$work/int.err" &
pid=$!
sleep 1
start=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
if [ "$took" -lt 1500 ] && jq -e '.summary.packets >= 1' "$work/int.json" >/dev/null 2>&1 &&
    { [ $rc -eq 0 ] || [ $rc -eq 1 ]; }; then ok; else
    bad "SIGINT during --read-live: status $rc after $took ms, $(head -c 300 "$work/int.json")"
fi

# Standard input from a pipe that stays open (tcpdump -l | nettriage report -): SIGINT to
# nettriage ends the reading and the report of the lines read is written.
"$nt" report --format json "$text" >"$work/text.json"
exp_status=$?
mkfifo "$work/fifo"
{
    cat "$text"
    exec sleep 30
} >"$work/fifo" &
writer=$!
"$nt" report --format json - <"$work/fifo" >"$work/pipe.json" 2>"$work/pipe.err" &
pid=$!
sleep 1
kill -INT "$pid"
start=$(date +%s%N)
wait "$pid"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq $exp_status ] && [ "$took" -lt 1500 ] &&
    cmp -s <(jq -S 'del(.inputs[].path)' "$work/text.json") \
        <(jq -S 'del(.inputs[].path)' "$work/pipe.json"); then ok; else
    bad "SIGINT while reading a pipe: status $rc (expected $exp_status) after $took ms: $(cat "$work/pipe.err")"
fi
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null

# --- a terminal: one Ctrl-D ends a pasted log ---------------------------------------------
cat >"$work/ctrl_d.py" <<'EOF'
import os, pty, select, sys, time
nt, log = sys.argv[1], open(sys.argv[2], 'rb').read()
pid, fd = pty.fork()
if pid == 0:
    os.execv(nt, [nt, 'report', '--format', 'json', '-'])
out = b''
def read_for(secs):
    global out
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 65536)
            except OSError:
                return
            if not b:
                return
            out += b
read_for(0.5)
os.write(fd, log)
read_for(0.5)
os.write(fd, b'\x04')  # one Ctrl-D at the start of a line
end = time.time() + 10
status = None
while time.time() < end:
    read_for(0.2)
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print("still reading 10 s after one Ctrl-D")
    sys.exit(1)
read_for(0.3)
text = out.decode(errors='replace')
print("status", status)
print("prompt" if "press Ctrl-D" in text else "no prompt")
print("findings" if '"dns.port_unreachable"' in text else "no findings")
EOF
res=$(timeout 30 python3 "$work/ctrl_d.py" "$nt" "$text" 2>&1)
if [ "$res" = $'status 1\nprompt\nfindings' ]; then ok; else bad "pasted log on a terminal: $res"; fi

# --- a terminal: the progress line, rewritten in place, and the Ctrl-C hint -------------------
cat >"$work/progress.py" <<'EOF'
import os, pty, select, sys, time
nt, cap, out_json = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(nt, [nt, 'report', '--format', 'json', '-o', out_json, '--read-live', cap,
                  '--speed', '1', '--duration', '1.2'])
out = b''
end = time.time() + 10
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            b = os.read(fd, 65536)
        except OSError:
            break
        if not b:
            break
        out += b
_, st = os.waitpid(pid, 0)
text = out.decode(errors='replace')
print("status", os.waitstatus_to_exitcode(st))
print("hint" if "press Ctrl-C to stop" in text else "no hint")
print("progress" if "\r\x1b[K" in text and " packets, " in text and "failures so far" in text
      else "no progress: " + repr(text[-300:]))
EOF
res=$(timeout 30 python3 "$work/progress.py" "$nt" "$slow" "$work/progress.json" 2>&1)
if grep -q '^hint$' <<<"$res" && grep -q '^progress$' <<<"$res" &&
    jq -e '.summary.packets >= 1' "$work/progress.json" >/dev/null 2>&1; then ok; else
    bad "progress on a terminal: $res"
fi

# --- no progress line when standard error is not a terminal --------------------------------
"$nt" report --format json --read-live "$example" --speed 0 >/dev/null 2>"$work/err.txt"
if grep -q $'\r' "$work/err.txt" || grep -q "Ctrl-C" "$work/err.txt"; then
    bad "progress or Ctrl-C hint on a non-terminal standard error: $(cat "$work/err.txt")"
else ok; fi
if grep -q "without a filter" "$work/err.txt"; then ok; else bad "the filter used is not said: $(cat "$work/err.txt")"; fi

# --- watch through the live path: the same alerts as watch on the file ----------------------
"$nt" watch "$example" >"$work/watch-file.txt" 2>/dev/null || true
"$nt" watch --read-live "$example" --speed 0 >"$work/watch-live.txt" 2>"$work/watch-err.txt" || true
if [ -s "$work/watch-file.txt" ] && cmp -s "$work/watch-file.txt" "$work/watch-live.txt" &&
    grep -q "incident 1 opened" "$work/watch-live.txt"; then ok; else
    bad "watch --read-live alerts differ from watch FILE: $(diff "$work/watch-file.txt" "$work/watch-live.txt" | head -5)"
fi
if "$nt" watch -w "$work/x.pcap" "$example" >/dev/null 2>&1; then
    bad "watch -w without -i or --read-live accepted"
else ok; fi

# --- watch: SIGUSR1 writes the report so far, and the watch goes on --------------------------
# A replay at its recorded pace (flood.pcap: 282 packets over 5.5 s); SIGUSR1 while it runs.
# The report so far (-o, replaced) must be `nettriage report` of the packets read so far (the
# first N of the file, N the count it gives), but for the input's path; the final report must be
# the file's report, as if no snapshot had been taken. Bounded: poll for each report, at most a
# few signals until one falls strictly inside the replay.
flood=$repo/tests/captures/flood/flood.pcap
total=$(tcpdump -r "$flood" 2>/dev/null | wc -l)
snap_dir=$work/snap
mkdir -m 1777 "$snap_dir"
"$nt" watch --read-live "$flood" --speed 1 --report-format json -o "$snap_dir/watch.json" \
    >"$snap_dir/alerts.txt" 2>"$snap_dir/err.txt" &
wpid=$!
# SIGUSR1 ends a process that has not set its handler yet: wait for the banner (said after).
for _i in $(seq 200); do
    grep -q "watching" "$snap_dir/err.txt" && break
    sleep 0.1
done
taken=""
for _try in 1 2 3 4 5; do
    before=$(grep -c "the report so far" "$snap_dir/err.txt")
    kill -USR1 "$wpid" 2>/dev/null || break
    for _i in $(seq 200); do # 20 s at most
        [ "$(grep -c "the report so far" "$snap_dir/err.txt")" -gt "$before" ] && break
        sleep 0.1
    done
    n=$(grep -o 'the report so far ([0-9]* packets' "$snap_dir/err.txt" | tail -1 | grep -o '[0-9]*')
    if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$total" ]; then
        cp "$snap_dir/watch.json" "$snap_dir/snap.json"
        taken=$n
        break
    fi
done
timeout 30 tail --pid="$wpid" -f /dev/null
wait "$wpid"
if [ -z "$taken" ]; then
    bad "SIGUSR1: no report so far inside the replay: $(cat "$snap_dir/err.txt")"
else
    tcpdump -r "$flood" -c "$taken" -w "$snap_dir/prefix.pcap" 2>/dev/null
    "$nt" report --format json "$snap_dir/prefix.pcap" >"$snap_dir/prefix.json" 2>/dev/null || true
    "$nt" report --format json "$flood" >"$snap_dir/full.json" 2>/dev/null || true
    nopath='del(.inputs[].path)'
    if cmp -s <(jq -S "$nopath" "$snap_dir/snap.json") <(jq -S "$nopath" "$snap_dir/prefix.json") &&
        jq -e ".summary.packets == $taken" "$snap_dir/snap.json" >/dev/null; then ok; else
        bad "SIGUSR1 after $taken packets: the report so far is not the report of those packets: $(diff <(jq -S "$nopath" "$snap_dir/snap.json") <(jq -S "$nopath" "$snap_dir/prefix.json") | head -8)"
    fi
    if cmp -s "$snap_dir/watch.json" "$snap_dir/full.json"; then ok; else
        bad "SIGUSR1: the final report differs from the file's: $(diff "$snap_dir/watch.json" "$snap_dir/full.json" | head -8)"
    fi
    # The state lines on standard output (the counters), then the final ones: two at least.
    if [ "$(grep -c ' watch: incidents opened' "$snap_dir/alerts.txt")" -ge 2 ]; then ok; else
        bad "SIGUSR1: no state line on standard output: $(cat "$snap_dir/alerts.txt")"
    fi
fi

# --- watch -: a pcap stream on a pipe is read as it comes, not a block at a time ---------------
# unreach.pcap (2 KiB: less than a block) with its first packet again 10 s later, which makes the
# failures final: written whole to the pipe, which stays open. The "opened" alert must come
# while it is open (a reader waiting for a full block would wait for the end).
python3 - "$repo/tests/captures/port_unreachable/unreach.pcap" "$work/stretched.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
order = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
incl = struct.unpack(order + 'I', data[24 + 8:24 + 12])[0]
first = bytearray(data[24:24 + 16 + incl])
last_sec = 0
off = 24
while off + 16 <= len(data):
    sec, _, n, _ = struct.unpack(order + 'IIII', data[off:off + 16])
    last_sec = max(last_sec, sec)
    off += 16 + n
first[0:4] = struct.pack(order + 'I', last_sec + 10)
open(sys.argv[2], 'wb').write(data + bytes(first))
PY
cat >"$work/pipe.py" <<'PY'
import select, subprocess, sys, time
nt, cap = sys.argv[1], sys.argv[2]
p = subprocess.Popen([nt, 'watch', '--timeout', '1', '-'], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
p.stdin.write(open(cap, 'rb').read())
p.stdin.flush()
got, t = b'', time.time()
while time.time() - t < 20 and b' opened' not in got:
    r, _, _ = select.select([p.stdout], [], [], 0.2)
    if r:
        chunk = p.stdout.read1(4096)
        if not chunk:
            break
        got += chunk
print('opened while the pipe was open' if b' opened' in got else 'no alert while the pipe was open')
p.stdin.close()
p.wait(timeout=20)
PY
res=$(timeout 60 python3 "$work/pipe.py" "$nt" "$work/stretched.pcap" 2>&1)
if [ "$res" = "opened while the pipe was open" ]; then ok; else bad "watch - on a pipe: $res"; fi

# --- watch --report-format: every format of report, from the same renderers ------------------
for fmt in md json text html; do
    "$nt" watch --report-format "$fmt" -o "$work/w.$fmt" "$example" >/dev/null 2>&1 || true
    "$nt" report --format "$fmt" --color never -o "$work/r.$fmt" "$example" >/dev/null 2>&1 || true
    if [ -s "$work/w.$fmt" ] && cmp -s "$work/w.$fmt" "$work/r.$fmt"; then ok; else
        bad "watch --report-format $fmt differs from report --format $fmt: $(diff "$work/w.$fmt" "$work/r.$fmt" | head -5)"
    fi
done
expect_usage "watch --report-format checked" "unknown --report-format" watch --report-format yaml "$example"

echo "live.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
