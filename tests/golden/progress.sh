#!/usr/bin/env bash
# progress.sh: the progress line of `report` reading files (cli/progress.c). On a terminal (a
# pseudo-terminal from Python's pty module, tests/golden/on_tty.py; standard output and error
# are the terminal) with the report in a file (-o):
#   - each input ends with its final line, "read X of X KiB (100%): N packets, R/s, in S s", N
#     being the packets the JSON report counts for it (", R/s" is left out when the input took
#     1 ms or less, too short for a rate: the example does on a fast build), then the line is erased (a carriage
#     return, spaces over the whole line, a carriage return) before anything else is written,
#     and no escape sequence is used;
#   - with several inputs the line starts with "[I/K]";
#   - standard input from a pipe has no size: "read X KiB: ...", no percentage;
#   - the report is the same bytes as off the terminal.
# Off a terminal (standard error to a file) and with --quiet nothing is written, and NDJSON
# lines going to the terminal get no progress line between them. No check depends on speed:
# the lines shown while reading (every 0.25 s) are not required, only the final one.
#   tests/golden/progress.sh NETTRIAGE
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
on_tty=$root/tests/golden/on_tty.py
export TZ=UTC LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
    echo "FAIL $*"
    fail=$((fail + 1))
}
for t in python3 jq; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/install-deps)"; exit 77; }
done

pcap=$root/examples/port-unreachable.pcap
text=$root/examples/port-unreachable.txt
# A text input of a few thousand records, made by a bounded loop (for the pipe).
for ((i = 0; i < 400; i++)); do cat "$text"; done >"$tmp/many.txt"

packets() { # packets the JSON report counts in input $2 of the run on files $1...
    local n=$1
    shift
    { "$bin" report --format json "$@" || true; } | jq -r ".inputs[$n].packets" |
        sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta' # 4800 -> 4,800, as the line writes it
}
tty_run() { # tty_run OUT CMD...: CMD on a terminal; fails the test if it did not end
    local out=$1
    shift
    python3 "$on_tty" "$out" "$@" || bad "$* did not end within 20 s on a terminal"
}
show() {
    echo "what the terminal got (first 600 bytes):"
    head -c 600 "$1" | od -c | head -30
}

# --- one file on a terminal ---
n=$(packets 0 "$pcap")
tty_run "$tmp/tty1" "$bin" report -o "$tmp/tty1.md" "$pcap"
before=$fail
final=$(tr '\r' '\n' <"$tmp/tty1" | grep -aE "^read [0-9.]+ of [0-9.]+ KiB \(100%\): $n packets(, [0-9,]+/s)?, in [0-9.]+ s *$" || true)
[[ -n $final ]] || bad "one file: no final progress line with its $n packets"
# The last thing written: a carriage return, spaces over the final line, a carriage return.
erase=$(tr '\r' '\n' <"$tmp/tty1" | tail -n 1)
[[ $(tail -c 1 "$tmp/tty1" | od -An -c | tr -d ' ') == '\r' && $erase =~ ^\ +$ &&
    ${#erase} -ge ${#final} ]] || bad "one file: the line is not erased at the end"
if grep -aq $'\x1b' "$tmp/tty1"; then bad "one file: an escape sequence on the terminal"; fi
"$bin" report -o "$tmp/plain1.md" "$pcap" 2>"$tmp/err1" || true
cmp -s "$tmp/tty1.md" "$tmp/plain1.md" || bad "one file: the report differs on a terminal"
[[ $fail -eq $before ]] || show "$tmp/tty1"

# --- off a terminal: nothing on standard error ---
[[ -s $tmp/err1 ]] && bad "off a terminal: standard error holds $(head -c 200 "$tmp/err1")"

# --- --quiet on a terminal: nothing ---
tty_run "$tmp/tty2" "$bin" report --quiet -o "$tmp/tty2.md" "$pcap"
[[ -s $tmp/tty2 ]] && { bad "--quiet on a terminal: something was written"; show "$tmp/tty2"; }

# --- several inputs ---
n0=$(packets 0 "$text" "$pcap")
n1=$(packets 1 "$text" "$pcap")
tty_run "$tmp/tty3" "$bin" report -o "$tmp/tty3.md" "$text" "$pcap"
before=$fail
grep -aqE "\[1/2\] read [0-9.]+ of [0-9.]+ KiB \(100%\): $n0 packets" "$tmp/tty3" ||
    bad "two inputs: no final line for input 1 ($n0 packets)"
grep -aqE "\[2/2\] read [0-9.]+ of [0-9.]+ KiB \(100%\): $n1 packets" "$tmp/tty3" ||
    bad "two inputs: no final line for input 2 ($n1 packets)"
[[ $fail -eq $before ]] || show "$tmp/tty3"

# --- standard input from a pipe: no size ---
n=$(packets 0 "$tmp/many.txt")
# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
tty_run "$tmp/tty4" "$(command -v bash)" -c \
    'cat "$1" | "$2" report -o "$3" -' _ "$tmp/many.txt" "$bin" "$tmp/tty4.md"
before=$fail
grep -aqE "read [0-9.]+ (KiB|MiB): $n packets(, [0-9,]+/s)?, in [0-9.]+ s" "$tmp/tty4" ||
    bad "pipe: no final line with the bytes read and its $n packets"
if grep -aq "%)" "$tmp/tty4"; then bad "pipe: a percentage without a size"; fi
"$bin" report -o "$tmp/plain4.md" - <"$tmp/many.txt" || true
cmp -s "$tmp/tty4.md" "$tmp/plain4.md" || bad "pipe: the report differs on a terminal"
[[ $fail -eq $before ]] || show "$tmp/tty4"

# --- NDJSON to the terminal: the lines, no progress between them ---
tty_run "$tmp/tty5" "$bin" report --format ndjson "$pcap"
grep -aq '"dataset":"nettriage.summary"' "$tmp/tty5" || bad "ndjson on a terminal: no summary line"
if grep -aqE "(KiB|MiB)[ :(]" "$tmp/tty5"; then
    bad "ndjson on a terminal: a progress line among the events"
fi

if [[ $fail -gt 0 ]]; then
    echo "$fail check(s) failed"
    exit 1
fi
echo "progress: all checks passed"
