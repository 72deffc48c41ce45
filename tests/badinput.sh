#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq programs are single-quoted on purpose
# badinput: nettriage on inputs that are not what it expects. Every case must end in bounded
# time, without a crash (status < 128) or sanitizer report, with exit status 2 and exactly
# one line on stderr naming the file; a capture damaged after some packets still gets a
# (partial) report on stdout plus one warning line, and still exits 2.
#
#   tests/badinput.sh NETTRIAGE        (exit 0 pass, 1 fail)
#
# Needs examples/port-unreachable.pcap and .txt (the bundled example), perl (essential on
# Debian) for fixed-seed random bytes and jq.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 NETTRIAGE" >&2; exit 2; }
nettriage=$(realpath "$1")
[ -x "$nettriage" ] || { echo "badinput: $nettriage: not an executable" >&2; exit 1; }
example="$repo/examples/port-unreachable.pcap"
example_txt="$repo/examples/port-unreachable.txt"
for f in "$example" "$example_txt"; do
    [ -r "$f" ] || { echo "badinput: $f missing (scripts/capture-example makes it)" >&2; exit 1; }
done
for t in jq perl timeout od; do
    if ! command -v "$t" >/dev/null 2>&1; then
        echo "badinput: $t not installed" >&2
        [ "${CI:-}" = "true" ] && exit 1
        exit 77
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nt-badinput.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export TZ=UTC

fails=0
checks=0
fail() {
    fails=$((fails + 1))
    echo "FAIL $case: $*" >&2
    if [ -s "$case.err" ]; then
        echo "   stderr ($(grep -c '' "$case.err") lines):" >&2
        head -n 10 "$case.err" | cut -c 1-300 | sed 's/^/     | /' >&2
    fi
}

# nt CASE TIMEOUT ARGS...: runs nettriage with ARGS (stdin from $stdin, default /dev/null);
# stdout to CASE.out, stderr to CASE.err, status in $status. Checks the status is not a
# crash or timeout and that no sanitizer spoke.
stdin=/dev/null
nt() {
    case=$1
    local limit=$2
    shift 2
    checks=$((checks + 1))
    status=0
    timeout "$limit" "$nettriage" "$@" <"$stdin" >"$case.out" 2>"$case.err" || status=$?
    stdin=/dev/null
    if [ "$status" -eq 124 ]; then
        fail "timed out after $limit s"
        return 1
    fi
    if [ "$status" -ge 128 ]; then
        fail "killed by signal $((status - 128)) (status $status)"
        return 1
    fi
    if grep -qE 'Sanitizer|runtime error:|==[0-9]+==ERROR' "$case.err"; then
        fail "sanitizer output"
        return 1
    fi
    return 0
}

# one_line_naming NAME: stderr is exactly one line and it names NAME.
one_line_naming() {
    local n
    n=$(grep -c '' "$case.err" || true)
    if [ "$n" -ne 1 ]; then
        fail "expected exactly one line on stderr, got $n"
        return 1
    fi
    if ! grep -qF -- "$1" "$case.err"; then
        fail "the stderr line does not name '$1'"
        return 1
    fi
    return 0
}

# expect_error CASE FILE [LIMIT]: nettriage report FILE fails with status 2 and one line
# naming FILE.
expect_error() {
    local c=$1 file=$2 limit=${3:-30}
    nt "$c" "$limit" report "$file" || return 0
    if [ "$status" -ne 2 ]; then
        fail "exit status $status, expected 2"
        return 0
    fi
    one_line_naming "$file" || return 0
    echo "ok   $c: exit 2, $(cut -c 1-120 "$case.err")"
}

# --- inputs -----------------------------------------------------------------------------
: >empty.pcap
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' >image.png
perl -e 'srand(7); print map chr(int rand 256), 1..4096' >>image.png
# Fixed-seed random bytes: a generated stream, cut with head -c.
perl -e 'srand(42); print map chr(int rand 256), 1..1048576' >random.stream
head -c 65536 random.stream >random.bin
head -c 24 "$example" >header-only.pcap
printf 'Customer says the site is down.\nWe checked the DNS server, it looked fine.\n\nNo packets here.\n' >notes.txt
mkdir adir
head -c $((50 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >bigline.txt

# Record boundaries of the example (classic pcap: 24-byte header, 16-byte record headers,
# caplen at offset 8 of each record header, byte order from the magic).
magic=$(od -An -tx1 -N4 "$example" | tr -d ' \n')
case "$magic" in
d4c3b2a1 | 4d3cb2a1) endian=little ;;
a1b2c3d4 | a1b23c4d) endian=big ;;
*) echo "badinput: $example: not a classic pcap (magic $magic)" >&2; exit 1 ;;
esac
size=$(stat -c %s "$example")
offsets=()
off=24
for ((i = 0; i < 100000 && off + 16 <= size; i++)); do
    offsets+=("$off")
    caplen=$(od -An -tu4 --endian="$endian" -j $((off + 8)) -N4 "$example" | tr -d ' ')
    off=$((off + 16 + caplen))
done
records=${#offsets[@]}
[ "$records" -ge 4 ] || { echo "badinput: example has only $records records" >&2; exit 1; }
keep=$((records / 2))
cut_at=${offsets[$keep]}
next=${offsets[$((keep + 1))]}
# Cut in the middle of record keep's data, and in the middle of its record header.
head -c $(((cut_at + 16 + next) / 2)) "$example" >truncated.pcap
head -c $((cut_at + 8)) "$example" >truncated-header.pcap
echo "     example: $records records; truncated copies keep $keep whole records"

# --- error cases --------------------------------------------------------------------------
expect_error empty empty.pcap
expect_error png image.png
expect_error random random.bin
expect_error header_only header-only.pcap
expect_error notes notes.txt
expect_error missing does-not-exist.pcap
expect_error directory adir
expect_error bigline bigline.txt 60

# --- damaged after some packets: partial report, one warning, exit 2 -------------------
for c in truncated truncated-header; do
    file=$c.pcap
    if nt "$c" 30 report --format json "$file"; then
        if [ "$status" -ne 2 ]; then
            fail "exit status $status, expected 2"
        elif ! jq -se 'length == 1 and (.[0] | type == "object")' "$case.out" >/dev/null 2>&1; then
            fail "no JSON report on stdout"
        elif one_line_naming "$file"; then
            got=$(jq -c '{packets: .inputs[0].packets, error: (.inputs[0].error | type),
                          summary_packets: .summary.packets}' "$case.out")
            want="{\"packets\":$keep,\"error\":\"string\",\"summary_packets\":$keep}"
            if [ "$got" = "$want" ]; then
                echo "ok   $c: exit 2, partial report of $keep packets, $(cut -c 1-100 "$case.err")"
            else
                fail "partial report: got $got, expected $want"
            fi
        fi
    fi
done
# The default (Markdown) report of a damaged capture: still a report on stdout.
if nt truncated_md 30 report truncated.pcap; then
    if [ "$status" -ne 2 ]; then
        fail "exit status $status, expected 2"
    elif [ ! -s "$case.out" ]; then
        fail "no report on stdout"
    elif one_line_naming truncated.pcap; then
        echo "ok   truncated_md: exit 2, $(wc -c <"$case.out") bytes of report"
    fi
fi

# --- gzip-compressed inputs ------------------------------------------------------------------
if command -v gzip >/dev/null 2>&1; then
    gzip -c random.bin >random.bin.gz
    printf '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage, not deflate data' >corrupt.gz
    gzip -c "$example" >example.pcap.gz
    gz_size=$(stat -c %s example.pcap.gz)
    head -c $((gz_size - 40)) example.pcap.gz >truncated.pcap.gz
    # A decompression bomb: a pcap header, then 1 GiB of zeros (1 MiB compressed). Read to
    # its end it would be 67 million empty records; the read must stop early and say why.
    { head -c 24 "$example"; head -c $((1024 * 1024 * 1024)) /dev/zero; } | gzip -1 >bomb.pcap.gz
    expect_error gzip_junk random.bin.gz
    expect_error gzip_corrupt corrupt.gz
    # The compressed example gives the same analysis as the example itself.
    if nt gzip_example 30 report --format json example.pcap.gz &&
        nt gzip_example_plain 30 report --format json "$example"; then
        a=$(jq -cS '{summary, findings}' gzip_example.out 2>/dev/null || echo invalid)
        b=$(jq -cS '{summary, findings}' gzip_example_plain.out 2>/dev/null || echo invalid)
        case=gzip_example
        if [ "$a" != "$b" ] || [ "$a" = invalid ]; then
            fail "the report of the gzip-compressed example differs from the example's"
        else
            echo "ok   gzip_example: same report as the uncompressed file"
        fi
    fi
    # Cut short: exit 2, a partial report, one line naming the file and saying gzip.
    if nt gzip_truncated 30 report --format json truncated.pcap.gz; then
        got=$(jq -r '.inputs[0].packets' "$case.out" 2>/dev/null || echo none)
        if [ "$status" -ne 2 ]; then
            fail "exit status $status, expected 2"
        elif ! [ "$got" -ge 1 ] 2>/dev/null || [ "$got" -ge "$records" ]; then
            fail "partial report: $got packets, expected 1 to $((records - 1))"
        elif one_line_naming truncated.pcap.gz && ! grep -q 'gzip' "$case.err"; then
            fail "the message does not say the gzip data is cut short"
        else
            echo "ok   gzip_truncated: exit 2, $got packets, $(cut -c 1-100 "$case.err")"
        fi
    fi
    if nt gzip_bomb 60 report --format json bomb.pcap.gz; then
        if [ "$status" -ne 2 ]; then
            fail "exit status $status, expected 2"
        elif one_line_naming bomb.pcap.gz && ! grep -q 'bomb' "$case.err"; then
            fail "the message does not name the decompression bomb"
        else
            echo "ok   gzip_bomb: exit 2, $(cut -c 1-120 "$case.err")"
        fi
    fi
fi

# --- stdin ---------------------------------------------------------------------------------
# A pcap and a tcpdump text piped in must give the same analysis as the file itself.
same_as_file() {
    local c=$1 file=$2
    nt "$c.file" 30 report --format json "$file" || return 0
    local file_status=$status
    stdin=$file
    nt "$c" 30 report --format json - || return 0
    if [ "$status" -ne "$file_status" ] || [ "$status" -ge 2 ]; then
        fail "exit status $status (from the file: $file_status)"
        return 0
    fi
    local a b
    a=$(jq -cS '{summary, findings}' "$c.file.out" 2>/dev/null || echo invalid)
    b=$(jq -cS '{summary, findings}' "$c.out" 2>/dev/null || echo invalid)
    if [ "$a" != "$b" ] || [ "$a" = invalid ]; then
        fail "report from stdin differs from the report of the file"
        diff <(jq -S '{summary, findings}' "$c.file.out" 2>&1) \
            <(jq -S '{summary, findings}' "$c.out" 2>&1) | head -n 40 >&2 || true
        return 0
    fi
    echo "ok   $c: exit $status, $(jq -r '.summary.packets' "$c.out") packets, same as the file"
}
same_as_file stdin_pcap "$example"
same_as_file stdin_text "$example_txt"

stdin=empty.pcap
if nt stdin_empty 30 report -; then
    if [ "$status" -ne 2 ]; then
        fail "exit status $status, expected 2"
    elif [ "$(grep -c '' "$case.err")" -ne 1 ]; then
        fail "expected exactly one line on stderr"
    elif ! grep -qE 'stdin|: -:' "$case.err"; then
        fail "the stderr line does not name standard input ('-' or 'stdin')"
    else
        echo "ok   stdin_empty: exit 2, $(cut -c 1-120 "$case.err")"
    fi
fi

# --- text that is not tcpdump's, named (issue 8) ----------------------------------------
printf '    1 0.000000    192.0.2.1 \xe2\x86\x92 192.0.2.2    DNS 74 Standard query 0x1234 A example.com\n' >tshark.txt
expect_error tshark_summary tshark.txt
if grep -q tshark "$case.err"; then :; else fail "the message does not name tshark"; fi
printf '#separator \\x09\n#path\tdns\n#fields\tts\tuid\tquery\trcode_name\n1.0\tC1\texample.com\tNXDOMAIN\n' >zeek-dns.log
expect_error zeek_tsv zeek-dns.log
if grep -q Zeek "$case.err"; then :; else fail "the message does not name Zeek"; fi
printf '{"ts":1.0,"uid":"C1","id.orig_h":"192.0.2.1","query":"example.com","rcode_name":"NXDOMAIN"}\n' >zeek-dns.json
expect_error zeek_json zeek-dns.json
if grep -q Zeek "$case.err"; then :; else fail "the message does not name Zeek"; fi

# --- partial reads: "no problem" only when all that looked like traffic was read ----------
# An answered lookup and a line that looks like traffic but is not read: the report is written,
# its top says so, and the status is 2 (one line naming the file); JSON says the verdict does
# not cover everything.
printf '%s\n' \
    '13:24:33.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35085+ A? example.com. (29)' \
    '13:24:33.192671 IP 203.0.113.2.53 > 192.51.100.15.52444: 35085 1/0/0 A 192.0.2.80 (45)' \
    '13:24:34.000000 eth0 Sideways IP 192.51.100.15.52446 > 203.0.113.2.53: 35086+ A? x. (19)' \
    '' 'Any idea what is wrong?' >partial.txt
nt partial_md 30 report partial.txt || true
if [ "$status" -ne 2 ]; then
    fail "partial read with no finding: exit status $status, expected 2"
elif ! head -n 3 "$case.out" | grep -q 'Not everything was read'; then
    fail "partial read: the report does not say so at its top"
elif ! head -n 1 "$case.out" | grep -q 'no problem found in what was read'; then
    fail "partial read: the title claims more than what was read: $(head -n 1 "$case.out")"
elif ! grep -q 'line 3' "$case.out"; then
    fail "partial read: the report does not give the line number"
else
    one_line_naming partial.txt && echo "ok   partial_md: exit 2, report written, $(cut -c 1-80 "$case.err")"
fi
nt partial_json 30 report --format json partial.txt || true
if [ "$status" -ne 2 ] || [ "$(jq -r '.summary.verdict_covers_all' "$case.out")" != false ] ||
    [ "$(jq -r '.inputs[0].unread_traffic' "$case.out")" != 1 ] ||
    [ "$(jq -r '.inputs[0].first_unread[0]' "$case.out")" != 3 ] ||
    [ "$(jq -r '.inputs[0].ignored_lines' "$case.out")" != 1 ]; then
    fail "partial read (JSON): status $status, $(jq -c '[.summary.verdict_covers_all, .inputs[0].unread_traffic, .inputs[0].first_unread, .inputs[0].ignored_lines]' "$case.out" 2>&1)"
else
    echo "ok   partial_json: exit 2, verdict_covers_all false, unread_traffic 1"
fi
# With a finding, the status stays 1 and the top still says what was not read.
{ cat "$example_txt"; echo '21:54:30.000000 eth0 Sideways IP 198.51.100.15.40000 > 198.51.100.2.53: 1+ A? x. (19)'; } >finding-partial.txt
nt partial_finding 30 report finding-partial.txt || true
if [ "$status" -ne 1 ]; then
    fail "partial read with findings: exit status $status, expected 1"
elif ! grep -q 'Not everything was read' "$case.out"; then
    fail "partial read with findings: the report does not say so"
else
    echo "ok   partial_finding: exit 1, the top says what was not read"
fi

# --- usage errors: status 2, something on stderr, no crash -----------------------------
usage_error() {
    local c=$1
    shift
    nt "$c" 10 "$@" || return 0
    if [ "$status" -ne 2 ]; then
        fail "nettriage $*: exit status $status, expected 2"
    elif [ ! -s "$case.err" ]; then
        fail "nettriage $*: nothing on stderr"
    else
        echo "ok   $c: exit 2, $(head -n 1 "$case.err" | cut -c 1-100)"
    fi
}
usage_error usage_no_capture report
usage_error usage_bad_format report --format xml "$example"
usage_error usage_bad_option report --no-such-option "$example"
usage_error usage_bad_command no-such-command

if [ "$fails" -gt 0 ]; then
    echo "badinput: $fails of $checks runs failed" >&2
    exit 1
fi
echo "badinput: all $checks runs behaved"
