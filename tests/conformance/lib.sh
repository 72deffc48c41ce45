# Shared by the conformance scripts (sourced, bash). Needs jq and awk; no python.
#
# Every script is run as: script.sh NETTRIAGE CORPORA_DIR [DOC_FIGURES_FILE]
#   NETTRIAGE        the nettriage binary under test
#   CORPORA_DIR      ../shared/corpora (MANIFEST.md describes it)
#   DOC_FIGURES_FILE optional: append this suite's figures (one TSV line per source) there
#
# Exit status: 0 all agree or every difference is listed in differences.txt, 1 a difference
# not listed (or a crash/hang), 77 skipped (corpora, jq or tcpdump absent).

set -u
export LC_ALL=C TZ=GMT0

CONF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NT=${1:?usage: $0 NETTRIAGE CORPORA_DIR [FIGURES_FILE]}
CORPORA=${2:?usage: $0 NETTRIAGE CORPORA_DIR [FIGURES_FILE]}
FIGURES=${3:-}
DIFFS_FILE=${CONF_DIFFERENCES:-$CONF_DIR/differences.txt}

skip() {
    echo "SKIP: $*"
    exit 77
}

require_corpora() {
    [ -f "$CORPORA/MANIFEST.md" ] ||
        skip "conformance corpora not found at $CORPORA (expected ../shared/corpora next to the source tree; see docs/conformance.md)"
    command -v jq >/dev/null 2>&1 || skip "jq not installed (scripts/install-deps installs it)"
    [ -x "$NT" ] || { echo "FAIL: nettriage binary $NT not found"; exit 1; }
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nt-conf.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- the nettriage side ------------------------------------------------------------------
#
# nt_has_ndjson: whether this binary knows `--format ndjson` (asked once, from --help).
nt_has_ndjson() {
    if [ -z "${NT_NDJSON:-}" ]; then
        if "$NT" report --help 2>&1 | grep -q ndjson; then NT_NDJSON=yes; else NT_NDJSON=no; fi
    fi
    [ "$NT_NDJSON" = yes ]
}

# nt_run FILE FORMAT: the report in FORMAT on stdout, bounded to 20 s; status as nettriage's.
nt_run() {
    timeout 20 "$NT" report --format "$2" "$1" 2>/dev/null
}

# nt_lookups FILE: nettriage's DNS lookups, one normalised row per lookup (the columns below).
# This is the one place that reads nettriage's per-lookup facts: from `--format ndjson` when
# the binary has it; without it nettriage has no per-lookup output and this prints nothing
# (the suites then compare the summary counts only and say so).
#
# Normalised row (TSV), shared with the reference side:
#   1 client  2 client port  3 server  4 server port  5 dns id  6 query (lower case, no
#   trailing dot)  7 qtype name  8 rcode name or -  9 answered T/F  10-13 AA TC RD RA (T/F)
#   14 answers: the set (sorted, unique, comma-separated) of addresses and dotted names in
#      the answer section, as Zeek lists them (A/AAAA address; CNAME/PTR/NS/DNAME name; MX
#      exchange; SRV target; SOA mname; other types left out on both sides)  15 rtt seconds or -
#   16 transport
NT_LOOKUP_FILTER='
  def tf(f): if ((.dns.header_flags // []) | index([f])) then "T" else "F" end;
  def nm: if . == null then "-"
          else (tostring | ascii_downcase | if . == "." then . else sub("(?<!\\\\)\\.$"; "") end) end;
  def ip(e): (e.ip // e.address // "-");
  select(.event.dataset == "nettriage.dns")
  | [ ip(.source), (.source.port // "-" | tostring), ip(.destination),
      (.destination.port // "-" | tostring), (.dns.id // "-" | tostring),
      (.dns.question.name | nm), (.dns.question.type // "-"),
      (.dns.response_code // "-"), (if .nettriage.outcome == "answered" then "T" else "F" end),
      tf("AA"), tf("TC"), tf("RD"), tf("RA"),
      ([ (.dns.answers // [])[]
         | select(.type as $t | $types | index([$t]))
         | (.data // "" | tostring | split(" ")) as $w
         | if .type == "MX" or .type == "SRV" then $w[-1]
           elif .type == "SOA" then $w[0]
           else ($w | join(" ")) end
         | nm | select(test(" ") | not) | select(test("[.:]")) ] | unique | join(",")
       | if . == "" then "-" else . end),
      (.nettriage.rtt_ms | if . == null then "-" else (. / 1000 | tostring) end),
      (.network.transport // "-") ]
  | @tsv'

# Answer types kept in column 14 (the rdata Zeek lists in dns.log's answers column).
NT_ANSWER_TYPES_ZEEK="A AAAA CNAME PTR NS MX SRV DNAME SOA"

# nt_lookups FILE [ANSWER_TYPES]: the rows of FILE (ANSWER_TYPES: space-separated, default
# NT_ANSWER_TYPES_ZEEK). nt_lookups_ndjson NDJSON_FILE [ANSWER_TYPES]: the same from a
# stored `--format ndjson` output (to filter one run several ways).
nt_lookups() {
    nt_has_ndjson || return 0
    nt_run "$1" ndjson | nt_lookups_filter "${2:-$NT_ANSWER_TYPES_ZEEK}"
}
nt_lookups_ndjson() {
    nt_lookups_filter "${2:-$NT_ANSWER_TYPES_ZEEK}" <"$1"
}
nt_lookups_filter() {
    jq -r --arg types "$1" "(\$types | split(\" \")) as \$types | $NT_LOOKUP_FILTER" 2>/dev/null
}

# nt_icmp FILE: ICMP errors with their quote, one row each:
#   type code quoted-src quoted-dst quoted-proto quoted-sport quoted-dport
# From ndjson when present (the nettriage.icmp lines: icmp.response.type/code and nettriage.icmp.quote
# {src,dst,proto,sport,dport}; "-" where the quote or a member is absent), else from the JSON report's
# evidence and unmatched examples (every ICMP error cited anywhere in the report, once).
nt_icmp() {
    if nt_has_ndjson; then
        nt_run "$1" ndjson | jq -r '
          select(.event.dataset == "nettriage.icmp")
          | (.nettriage.icmp.quote // null) as $q
          | if $q == null then [.icmp.response.type, .icmp.response.code, "-", "-", "-", "-", "-"]
            else [.icmp.response.type, .icmp.response.code, ($q.src // "-"), ($q.dst // "-"), ($q.proto // "-"),
                  ($q.sport // "-"), ($q.dport // "-")] end
          | map(tostring) | @tsv' 2>/dev/null
    else
        nt_run "$1" json | jq -r '
          [ (.findings[].evidence[]), (.unmatched_icmp_errors.examples[]) ]
          | map(select(.icmp != null and .icmp.quoted != null)) | unique_by([.input, .packet]) | .[]
          | .icmp as $i | ($i.quoted) as $q
          | [$i.type, $i.code, ($q.src // "-"), ($q.dst // "-"), ($q.protocol // "-"),
             ($q.src_port // "-"), ($q.dst_port // "-")] | map(tostring) | @tsv' 2>/dev/null
    fi
}

# nt_summary FILE: the JSON report's summary as "key<TAB>value" lines, plus "exit<TAB>N".
nt_summary() {
    local out rc
    out=$(nt_run "$1" json)
    rc=$?
    printf '%s' "$out" | jq -r '.summary | to_entries[] | "\(.key)\t\(.value)"' 2>/dev/null
    printf 'exit\t%s\n' "$rc"
}

# --- differences -------------------------------------------------------------------------
#
# differences.txt (TSV, # comments): source capture key field reference nettriage reason
# A difference is accepted only when all six first columns are equal to one line's.
# diff_check SOURCE CAPTURE KEY FIELD REF NT: 0 when listed (and marks the line used).
DIFF_USED="$WORK/diff-used"
: >"$DIFF_USED"
diff_check() {
    local line
    line=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5" "$6")
    if [ -f "$DIFFS_FILE" ] && grep -v '^#' "$DIFFS_FILE" | cut -f1-6 | grep -qxF -- "$line"; then
        printf '%s\n' "$line" >>"$DIFF_USED"
        return 0
    fi
    return 1
}

# diff_reason SOURCE CAPTURE KEY FIELD REF NT: the listed reason.
diff_reason() {
    local line
    line=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5" "$6")
    grep -v '^#' "$DIFFS_FILE" | l="$line" awk -F'\t' '{k=$1; for (i=2;i<=6;i++) k=k "\t" $i} k==ENVIRON["l"] {print $7; exit}'
}

# diff_stale SOURCE [LEVEL]: listed differences of SOURCE that were not seen in this run
# (LEVEL "count" restricts to key "*" lines, "row" to the others). Printed as warnings: the
# difference is gone (a feature landed), so the line should be removed. Fatal with
# CONFORMANCE_STRICT=1.
diff_stale() {
    local src=$1 level=${2:-all} n=0 line
    [ -f "$DIFFS_FILE" ] || return 0
    while IFS= read -r line; do
        case $level in
            count) [ "$(printf '%s' "$line" | cut -f3)" = "*" ] || continue ;;
            row) [ "$(printf '%s' "$line" | cut -f3)" != "*" ] || continue ;;
        esac
        if ! grep -qxF -- "$line" "$DIFF_USED"; then
            echo "STALE (listed, no longer seen; remove from differences.txt): $line"
            n=$((n + 1))
        fi
    done < <(grep -v '^#' "$DIFFS_FILE" | awk -F'\t' -v s="$src" '$1==s' | cut -f1-6)
    if [ "$n" -gt 0 ] && [ "${CONFORMANCE_STRICT:-0}" = 1 ]; then
        return 1
    fi
    return 0
}

# figure SOURCE CAPTURES ROWS AGREED KNOWN UNLISTED NOTE: print one table row and record it.
FIG_HEADER_DONE=
figure() {
    if [ -z "$FIG_HEADER_DONE" ]; then
        printf '\n%-34s %8s %8s %8s %8s %8s  %s\n' source captures compared agreed known unlisted note
        FIG_HEADER_DONE=1
    fi
    printf '%-34s %8s %8s %8s %8s %8s  %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
    if [ -n "$FIGURES" ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" >>"$FIGURES"
    fi
}
