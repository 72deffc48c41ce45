#!/usr/bin/env bash
# tests/cli.sh: the command line as tcpdump and tshark users type it (CTest "cli"):
#   - every usage error of nettriage, report and watch is exactly one line on standard error,
#     "nettriage: ... (see nettriage [CMD] --help)", nothing on standard output, status 2;
#   - -r FILE reads FILE (report and watch), --reported TEXT is long only, -n is accepted and
#     changes nothing, -t and -V are not options (tcpdump gives them other meanings);
#   - `nettriage FILE`, `nettriage -` and `nettriage -r FILE` run the report;
#   - --help per command on standard output, status 0, within 80 columns; every long option
#     a command's help names is in the man page, which groff formats without a warning.
#
#   tests/cli.sh NETTRIAGE          exit 0 pass, 1 fail, 77 skip (jq missing)
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 NETTRIAGE" >&2; exit 2; }
nt=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
for t in jq timeout; do
    command -v "$t" >/dev/null 2>&1 || { echo "cli.sh: SKIP: $t not installed (scripts/install-deps)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/nt-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
checks=0
ok() { checks=$((checks + 1)); }
bad() {
    checks=$((checks + 1))
    fails=$((fails + 1))
    echo "FAIL: $*" >&2
}

pcap=$repo/examples/port-unreachable.pcap
text=$repo/examples/port-unreachable.txt

# usage_error HINT PATTERN ARGS...: status 2, nothing on standard output, exactly one line on
# standard error that starts with "nettriage: ", holds PATTERN and ends with
# "(see nettriage HINT--help)" (HINT "report ", "watch " or "").
usage_error() {
    local hint=$1 pat=$2
    shift 2
    local rc
    timeout 20 "$nt" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    local lines
    lines=$(wc -l <"$work/err")
    if [ $rc -ne 2 ]; then
        bad "nettriage $*: status $rc, not 2"
    elif [ -s "$work/out" ]; then
        bad "nettriage $*: wrote on standard output"
    elif [ "$lines" -ne 1 ]; then
        bad "nettriage $*: $lines lines on standard error, not one: $(head -c 300 "$work/err")"
    elif ! grep -q '^nettriage: ' "$work/err" ||
        ! grep -qF "(see nettriage $hint--help)" "$work/err"; then
        bad "nettriage $*: not 'nettriage: ... (see nettriage $hint--help)': $(cat "$work/err")"
    elif ! grep -qF -- "$pat" "$work/err"; then
        bad "nettriage $*: '$pat' not in: $(cat "$work/err")"
    else
        ok
    fi
}

# --- usage errors: one line each --------------------------------------------------------
usage_error "" "give a command"
usage_error "" "'frob' is neither a command" frob
usage_error "" "neither a command" "$work/no-such-file.pcap"
usage_error "" "no help on 'frob'" help frob
usage_error "" "neither a command" "$work" # a directory is not a capture
usage_error "report " "unknown option '--frob'" --frob "$pcap"
usage_error "report " "unknown option '--frob'" report --frob "$pcap"
usage_error "report " "unknown option '--frob'" report --frob=1 "$pcap"
usage_error "report " "unknown option '-z'" report -qz "$pcap"
usage_error "report " "option '--format' needs a value" report "$pcap" --format
usage_error "report " "option '-o' needs a value" report "$pcap" -o
usage_error "report " "option '-r' needs a value" report -r
usage_error "report " "option '--quiet' takes no value" report --quiet=yes "$pcap"
usage_error "report " "is ambiguous" report --max=3 "$pcap"
usage_error "report " "--timeout S" report -t 5 "$pcap"
usage_error "report " "--version" report -V
usage_error "report " "--version" -V
usage_error "report " "unknown --format 'yaml'" report --format yaml "$pcap"
usage_error "report " "--timeout wants" report --timeout 0 "$pcap"
usage_error "explain " "unknown option '--frob'" explain --frob "$pcap"
usage_error "explain " "--timeout S" explain -t 5 "$pcap"
usage_error "explain " "unknown --format 'yaml'" explain --format yaml "$pcap"
usage_error "explain " "--hold wants" explain --hold 0 "$pcap"
usage_error "explain " "explain reads one INPUT" explain "$pcap" "$pcap"
usage_error "explain " "explain reads one INPUT" explain
usage_error "report " "--color wants" report --color x "$pcap"
usage_error "report " "--max-lookups wants" report --max-lookups 0 "$pcap"
usage_error "report " "--threads wants 1 or 2, not '3'" report --threads 3 "$pcap"
usage_error "report " "--bound" report --bound nonsense "$pcap"
usage_error "report " "--bound: no bound" report --bound a.b=1 "$pcap"
usage_error "report " "at least one CAPTURE" report
usage_error "report " "at least one CAPTURE" report -q
usage_error "report " "is an option of a live capture" report -c 5 "$pcap"
usage_error "report " "cannot be used together" report -i lo --read-live "$pcap"
usage_error "report " "-r reads a file" report -r "$pcap" -i lo
usage_error "report " "'port' after -r FILE" report -r "$pcap" port 53
usage_error "report " "'port' after -r FILE" -r "$pcap" port 53
usage_error "report " "-C wants" report --read-live "$pcap" -w x -C 0
usage_error "report " "--date wants a date" report --date 2026-02-30 "$text"
usage_error "report " "--date wants a date" report --date 21/11/2026 "$text"
usage_error "report " "--timezone wants UTC, local" report --timezone CET "$pcap"
usage_error "report " "--timezone wants UTC, local" report --timezone +15:00 "$pcap"
usage_error "watch " "unknown option '--frob'" watch --frob "$pcap"
usage_error "watch " "unknown option '-q'" watch -q "$pcap"
usage_error "watch " "--timeout S" watch -t 5 "$pcap"
usage_error "watch " "option '--format' needs a value" watch "$pcap" --format
usage_error "watch " "unknown --format 'md'" watch --format md "$pcap"
usage_error "watch " "unknown --report-format" watch --report-format yaml "$pcap"
usage_error "watch " "--min-failures wants" watch --min-failures 0 "$pcap"
usage_error "watch " "--interval wants" watch --interval 0 "$pcap"
usage_error "watch " "needs one INPUT" watch
usage_error "watch " "needs one INPUT" watch "$pcap" "$text"
usage_error "watch " "give -r once" watch -r "$pcap" -r "$text"
usage_error "watch " "-r reads a file" watch -r "$pcap" --read-live "$pcap"
usage_error "watch " "after -r FILE" watch -r "$pcap" port 53
usage_error "watch " "options of -i IFACE" watch -w x "$pcap"
usage_error "watch " "cannot be used together" watch -i lo --read-live "$pcap"
# The ClickHouse options' values: the same one line as every other option (ship.c).
usage_error "report " "--spool-max wants megabytes" report --clickhouse http://127.0.0.1:9/ \
    --spool-max 0.5 "$pcap"
usage_error "watch " "--clickhouse-wait wants seconds" watch --clickhouse http://127.0.0.1:9/ \
    --clickhouse-wait -1 "$pcap"
usage_error "report " "--spool needs a directory" report --clickhouse http://127.0.0.1:9/ \
    --spool '' "$pcap"
usage_error "watch " "--speed wants a factor" watch --read-live "$pcap" --speed x "$pcap"
usage_error "explain " "--timeout wants seconds" explain --timeout 1e9 "$pcap"
usage_error "report " "--spool is an option of --clickhouse URL" report --spool "$work" "$pcap"
usage_error "watch " "--clickhouse-wait is an option of --clickhouse URL" watch \
    --clickhouse-wait 3 "$pcap"
usage_error "report " "--sensor wants a name" report --sensor $'a\tb' "$pcap"
usage_error "fleet " "unknown --format 'yaml'" fleet --clickhouse http://127.0.0.1:9/ --format yaml
usage_error "fleet " "--from wants a time" fleet --clickhouse http://127.0.0.1:9/ --from yesterday
usage_error "fleet " "--database wants letters" fleet --clickhouse http://127.0.0.1:9/ \
    --database 'a;drop'
usage_error "fleet " "--from must come before --to" fleet --clickhouse http://127.0.0.1:9/ \
    --from 2026-11-22 --to 2026-11-21

# An argument with a terminal escape is written escaped, on its one line.
usage_error "report " 'unknown --format '"'"'\x1b]0;x\x07'"'" report --format $'\e]0;x\a' "$pcap"
if grep -q $'\e' "$work/err"; then bad "an ESC byte of an argument reached standard error"; else ok; fi
usage_error "report " "--spool-max wants megabytes from 1 to 1048576, not '\x1b[2J'" report \
    --clickhouse http://127.0.0.1:9/ --spool-max $'\e[2J' "$pcap"
if grep -q $'\e' "$work/err"; then bad "an ESC byte of --spool-max reached standard error"; else ok; fi

# --- the same report, however it is asked for -------------------------------------------
# same_report DESCRIPTION ARGS...: the JSON report of ARGS is that of `report --format json
# $pcap` but for the inputs' paths, with the same status (1: findings).
"$nt" report --format json "$pcap" >"$work/ref.json" 2>/dev/null
[ $? -eq 1 ] || bad "report of $pcap: status not 1"
jq -S 'del(.inputs[].path, .generator)' "$work/ref.json" >"$work/ref.norm"
same_report() {
    local what=$1 rc
    shift
    timeout 60 "$nt" "$@" >"$work/got.json" 2>"$work/got.err"
    rc=$?
    if [ $rc -ne 1 ]; then
        bad "$what: status $rc, not 1: $(head -c 300 "$work/got.err")"
    elif ! jq -S 'del(.inputs[].path, .generator)' "$work/got.json" >"$work/got.norm" 2>/dev/null ||
        ! cmp -s "$work/ref.norm" "$work/got.norm"; then
        bad "$what: another report than 'report FILE'"
    else
        ok
    fi
}
same_report "report -r FILE" report --format json -r "$pcap"
same_report "nettriage FILE" "$pcap" --format json
same_report "nettriage -r FILE" -r "$pcap" --format json
same_report "nettriage --format json FILE" --format json "$pcap"
same_report "nettriage - (pcap on standard input)" - --format json <"$pcap"
same_report "-n changes nothing" report -n --format json "$pcap"
same_report "-nn changes nothing" -nn -r "$pcap" --format json
same_report "-r twice" report --format json -r "$pcap" -q
same_report "--threads 1" report --threads 1 --format json "$pcap"
same_report "--threads 2" report --threads 2 --format json "$pcap"
same_report "--threads 2, pcap on standard input" report --threads 2 --format json - <"$pcap"
# One thread against two, whatever the default on this machine: the same bytes in every
# format, for the captures of every rule.
for f in "$repo"/tests/captures/*/*.pcap; do
    for fmt in json ndjson md; do
        "$nt" report --threads 1 --format $fmt "$f" >"$work/t1.out" 2>/dev/null
        "$nt" report --threads 2 --format $fmt "$f" >"$work/t2.out" 2>/dev/null
        if cmp -s "$work/t1.out" "$work/t2.out"; then ok; else bad "--threads 1 and 2 differ on $f ($fmt)"; fi
    done
done
# A file named like an option's value after -r: -r takes exactly its argument.
cp "$pcap" "$work/--format"
same_report "-r takes the next argument whole" report --format json -r --format

# --reported is long only, and -r no longer swallows a text as the incident's reporter.
"$nt" report --format json --reported "users saw SERVFAIL" "$pcap" >"$work/rep.json" 2>/dev/null
if [ "$(jq -r .reported "$work/rep.json")" = "users saw SERVFAIL" ]; then ok; else bad "--reported not quoted"; fi
"$nt" report --format json -r "$pcap" >"$work/rep.json" 2>/dev/null
if [ "$(jq -r .reported "$work/rep.json")" = null ] &&
    [ "$(jq -r '.inputs | length' "$work/rep.json")" = 1 ]; then ok; else bad "-r FILE: not one input and no reporter"; fi

# --date and --timezone: a time of day has no date unless --date gives one (and then the input
# says so); with it every NDJSON event carries an ISO 8601 @timestamp with the zone's offset.
"$nt" report --format json "$repo/examples/pasted-log.txt" >"$work/nodate.json" 2>/dev/null
if [ "$(jq -r '.inputs[0].date_from, .time_span.start' "$work/nodate.json" | tr '\n' ' ')" = "null 13:24:32.192571 " ]; then ok; else bad "text without --date: a date appeared"; fi
"$nt" report --format ndjson --date 2026-11-21 --timezone +01:00 "$repo/examples/pasted-log.txt" >"$work/dated.ndjson" 2>/dev/null
if jq -e -s 'length > 3 and all(.[]; (."@timestamp" // "") | test("^2026-11-21T13:2[0-9]:[0-9.]+\\+01:00$"))' "$work/dated.ndjson" >/dev/null &&
    [ "$(jq -r 'select(.event.dataset == "nettriage.summary") | .nettriage.inputs[0].date_from' "$work/dated.ndjson")" = "--date" ]; then ok; else bad "--date/--timezone: an NDJSON event without the dated @timestamp"; fi
"$nt" report --format json --timezone -05:30 "$pcap" >"$work/tz.json" 2>/dev/null
if [ "$(jq -r '.time_span.start, .inputs[0].date_from' "$work/tz.json" | tr '\n' ' ')" = "2026-11-21T16:24:23.788387-05:30 input " ]; then ok; else bad "--timezone -05:30 on a pcap"; fi
TZ=Europe/Paris "$nt" report --format json --timezone local "$pcap" >"$work/tzl.json" 2>/dev/null
if [ "$(jq -r '.time_span.start' "$work/tzl.json")" = "2026-11-21T22:54:23.788387+01:00" ]; then ok; else bad "--timezone local (TZ=Europe/Paris)"; fi
# A pcap has its own dates: --date changes nothing there.
"$nt" report --format json --date 2020-01-01 "$pcap" >"$work/pd.json" 2>/dev/null
if [ "$(jq -r '.time_span.start' "$work/pd.json")" = "2026-11-21T21:54:23.788387Z" ]; then ok; else bad "--date changed a pcap's dates"; fi

# watch -r FILE follows FILE, as watch FILE does.
"$nt" watch "$pcap" >"$work/w1" 2>/dev/null
rc1=$?
"$nt" watch -n -r "$pcap" >"$work/w2" 2>/dev/null
rc2=$?
if [ $rc1 -eq $rc2 ] && [ -s "$work/w1" ] && cmp -s "$work/w1" "$work/w2"; then ok; else bad "watch -r FILE differs from watch FILE ($rc1/$rc2)"; fi

# watch takes report's ticket options: --timezone for the alert lines and the report, --date for
# text without dates, --reported and --actions quoted, --redact for the reports (the alert lines
# name the server only).
"$nt" watch --timezone +01:00 "$pcap" >"$work/wtz" 2>/dev/null
if [ -s "$work/wtz" ] && ! grep -qv '^2026-11-21T22:54:[0-9.]*+01:00 ' "$work/wtz" &&
    grep -q 'first failure 2026-11-21T22:54:23.788703+01:00' "$work/wtz"; then ok; else bad "watch --timezone +01:00: alert times not in the zone"; fi
"$nt" watch --format ndjson --date 2026-11-21 --timezone -05:00 "$repo/examples/pasted-log.txt" >"$work/wdate" 2>/dev/null
if jq -e -s 'length > 1 and all(.[]; (."@timestamp" // "") | test("^2026-11-21T13:2[0-9]:[0-9.]+-05:00$"))' "$work/wdate" >/dev/null; then ok; else bad "watch --date/--timezone: an alert without the dated @timestamp"; fi
"$nt" watch --report-format json --reported "users saw errors" --actions "restarted the resolver" "$pcap" >/dev/null 2>"$work/wrep.json"
if [ "$(jq -r '.reported, .actions' "$work/wrep.json" | tr '\n' '|')" = "users saw errors|restarted the resolver|" ]; then ok; else bad "watch --reported/--actions not in the report"; fi
"$nt" watch --redact --report-format json "$pcap" >"$work/wred.alerts" 2>"$work/wred.json"
"$nt" report --redact --format json "$pcap" >"$work/rred.json" 2>/dev/null
if cmp -s "$work/wred.json" "$work/rred.json" && ! grep -q '198\.51\.100\.15' "$work/wred.json" &&
    grep -q 'client-1' "$work/wred.json" && grep -q 'incident 1 opened' "$work/wred.alerts"; then ok; else bad "watch --redact: the report differs from report --redact's or names the client"; fi
usage_error "watch " "--redact and --clickhouse" watch --redact --clickhouse http://127.0.0.1:9/ "$pcap"
usage_error "watch " "--timezone wants UTC, local" watch --timezone CET "$pcap"

# --- help ----------------------------------------------------------------------------------
# help_ok NAME PATTERN ARGS...: status 0, on standard output, nothing on standard error, no
# line past 80 columns, PATTERN in it.
help_ok() {
    local name=$1 pat=$2 rc
    shift 2
    "$nt" "$@" >"$work/$name.help" 2>"$work/err"
    rc=$?
    if [ $rc -ne 0 ] || [ -s "$work/err" ]; then
        bad "nettriage $*: status $rc or standard error"
    elif awk 'length($0) > 80 { bad = 1 } END { exit !bad }' "$work/$name.help"; then
        bad "nettriage $*: a line past 80 columns"
    elif ! grep -qF -- "$pat" "$work/$name.help"; then
        bad "nettriage $*: '$pat' not in the help"
    else
        ok
    fi
}
help_ok main "watch" --help
help_ok main2 "report" help
help_ok report "--reported TEXT" report --help
help_ok report2 "--reported TEXT" help report
help_ok report3 "-n " report -h
help_ok watch "--min-failures" watch --help
help_ok watch2 "--min-failures" help watch
help_ok explain "--only-problems" explain --help
help_ok explain2 "--only-problems" help explain
if cmp -s "$work/report.help" "$work/report2.help" && cmp -s "$work/watch.help" "$work/watch2.help"; then ok; else bad "help CMD differs from CMD --help"; fi
if grep -q -- "--min-failures" "$work/report.help"; then bad "report's help shows watch's options"; else ok; fi
if grep -q -- "--bounds" "$work/watch.help"; then bad "watch's help shows report's options"; else ok; fi
if "$nt" --version | grep -q '^nettriage [0-9]'; then ok; else bad "--version"; fi

# Every long option a command's help names is in the man page, in that command's section.
man=$repo/docs/nettriage.1
for cmd in report watch explain; do
    # The man page's section of the command: from ".SH <CMD>" to the next ".SH".
    section=$(awk -v c="${cmd^^}" '/^\.SH/ { on = ($0 ~ ("^\\.SH \"?NETTRIAGE " c)) } on' "$man")
    if [ -z "$section" ]; then
        bad "docs/nettriage.1: no section .SH NETTRIAGE ${cmd^^}"
        continue
    fi
    while IFS= read -r opt; do
        # groff writes a hyphen as \- in the page source.
        if grep -qF -- "${opt//-/\\-}" <<<"$section"; then ok; else bad "docs/nettriage.1: $cmd's $opt not in its section"; fi
    done < <(grep -o -- '--[a-z][a-z-]*' "$work/$cmd.help" | sort -u)
done
if command -v groff >/dev/null 2>&1; then
    warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
    if [ -z "$warnings" ]; then ok; else bad "groff warns on docs/nettriage.1: $warnings"; fi
else
    echo "cli.sh: groff not installed (scripts/install-deps): the man page's formatting not checked"
fi

echo "cli.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
