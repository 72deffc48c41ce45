#!/usr/bin/env bash
# hostile.sh: hostile strings through every format (issue 10). The capture
# tests/captures/hostile/names.txt carries query names with <script>, a right-to-left override,
# '|', backticks, quotes, bytes above 0x7f (valid UTF-8 and not) and an attribute breakout; the
# input's path, --reported and --actions carry ESC sequences (ESC[31m, the title-setting
# ESC]0;...BEL), a newline, '<script>' or an <img onerror=...>, and quotes. Checks, independent
# of the wording:
#   - text (--color never, and NO_COLOR with auto): no control byte but the newline; with
#     --color always every ESC starts an SGR sequence written by nettriage, and the input's ESC
#     bytes are shown as \x1b;
#   - HTML: well-formed (python3's html.parser with every tag closed, and xmllint as XML), no
#     <script, no src=/href= to anything but a fragment of the page, no url( or @import, valid
#     UTF-8 with no control byte, the input's markup shown as entities;
#   - Markdown: no control byte, no raw <script or <img; JSON and NDJSON parse and give back
#     --reported and --actions byte for byte.
# Each check fails if the escaping it covers is removed.
#   tests/golden/hostile.sh NETTRIAGE
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
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

# A path with an ESC sequence, markup and a quote; --reported with ESC, BEL, a newline, markup.
path="$tmp/in"$'\x1b'"[31m<b>\"q'.txt"
cp "$root/tests/captures/hostile/names.txt" "$path"
reported=$'ESC\x1b[31mRED\x1b]0;owned\x07 <script>alert(9)</script> "q" \'s\' |p| `c`\nline2 \xff\xfe caf\xc3\xa9'
# --actions (what the team did): other ESC sequences and markup, so each check names its text.
actions=$'ACT\x1b[32mGREEN\x1b]2;pwn\x07 <img src=x onerror=alert(7)> "a" \'b\' |t| `d` *e* [l](http://x)\nact2 \xfe\xff na\xc3\xafve'

run() { # FORMAT OUT [options...]
    local fmt=$1 out=$2
    shift 2
    local st=0
    "$bin" report --format "$fmt" "$@" --reported "$reported" --actions "$actions" "$path" \
        >"$out" 2>"$tmp/err" || st=$?
    if [ "$st" -ge 2 ]; then
        bad "$fmt: exit status $st: $(cat "$tmp/err")"
        return 1
    fi
}

# Control bytes (C0 but the newline, DEL), counted with python3 so that NUL counts too.
controls() {
    python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
print(sum(1 for b in d if (b < 0x20 and b != 0x0a) or b == 0x7f))' "$1"
}

# --- text ---
run text "$tmp/never.txt" --color never || true
[ "$(controls "$tmp/never.txt")" = 0 ] || bad "text --color never: control bytes in the output"
grep -qF '\x1b[31mRED\x1b]0;owned\x07' "$tmp/never.txt" ||
    bad "text: the ESC sequences of --reported are not shown as \\x1b"
grep -qF 'in\x1b[31m<b>"q'"'"'.txt' "$tmp/never.txt" || bad "text: the path's ESC is not shown as \\x1b"
grep -qF 'ACT\x1b[32mGREEN\x1b]2;pwn\x07' "$tmp/never.txt" ||
    bad "text: the ESC sequences of --actions are not shown as \\x1b"
grep -qF 'naïve' "$tmp/never.txt" || bad "text: --actions's valid UTF-8 is not shown as it is"
grep -qF '\xe2\x80\xae' "$tmp/never.txt" || bad "text: the right-to-left override is not escaped"
grep -qF '\xff\xfe' "$tmp/never.txt" || bad "text: bytes that are not UTF-8 are not escaped"
grep -qF 'café' "$tmp/never.txt" || bad "text: valid UTF-8 is not shown as it is"
# Auto with NO_COLOR (any value, even empty) and piped: no colour either.
NO_COLOR='' run text "$tmp/nocolor.txt" --color auto || true
cmp -s "$tmp/never.txt" "$tmp/nocolor.txt" || bad "text: NO_COLOR or a pipe did not turn colour off"
run text "$tmp/always.txt" --color always || true
python3 - "$tmp/always.txt" <<'EOF' || bad "text --color always: an ESC that is not nettriage's SGR"
import re, sys
d = open(sys.argv[1], "rb").read()
sgr = re.compile(rb"\x1b\[[0-9;]*m")
rest = sgr.sub(b"", d)
ok = b"\x1b" not in rest and not any((b < 0x20 and b != 0x0a) or b == 0x7f for b in rest)
ok = ok and len(sgr.findall(d)) > 0 and b"\\x1b]0;owned" in d
sys.exit(0 if ok else 1)
EOF
# 80 columns (code points), except where one token is longer than a line could hold.
python3 - "$tmp/never.txt" <<'EOF' || bad "text: a line longer than 80 columns without a long token"
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if len(line) > 80 and max(len(w) for w in line.split(" ")) <= 40:
        print("text: %d columns: %s" % (len(line), line))
        sys.exit(1)
EOF

# On a terminal (a pseudo-terminal from Python's pty module, as tests/live.sh uses; script(1)
# printed nothing on the CI machine) auto colours, and the input's ESC bytes are still shown
# as \x1b; NO_COLOR (any value) turns colour off there too.
on_tty=$(dirname "$0")/on_tty.py
pty_cmd=("$bin" report --format text --reported "$reported" "$path")
fail_before_tty=$fail
env -u NO_COLOR python3 "$on_tty" "$tmp/tty.txt" "${pty_cmd[@]}" ||
    bad "text on a terminal: the report did not end within 20 s"
grep -q $'\x1b\\[1;30;101m HIGH' "$tmp/tty.txt" || bad "text on a terminal: no colour badge"
grep -qF '\x1b]0;owned' "$tmp/tty.txt" || bad "text on a terminal: the input's ESC not escaped"
NO_COLOR=1 python3 "$on_tty" "$tmp/tty-nc.txt" "${pty_cmd[@]}" ||
    bad "text on a terminal with NO_COLOR: the report did not end within 20 s"
if grep -q $'\x1b' "$tmp/tty-nc.txt"; then bad "text on a terminal with NO_COLOR: an ESC byte"; fi
if [[ $fail -gt $fail_before_tty ]]; then
    echo "what the terminal run printed (first 400 bytes):"
    head -c 400 "$tmp/tty.txt" | od -c | head -20
fi

# --- HTML ---
run html "$tmp/r.html" || true
python3 - "$tmp/r.html" <<'EOF' || bad "html: not well-formed or unsafe (see above)"
import re, sys
from html.parser import HTMLParser
raw = open(sys.argv[1], "rb").read()
problems = []
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    problems.append("not UTF-8: %s" % e)
    text = raw.decode("utf-8", "replace")
if any((b < 0x20 and b not in (0x0a,)) or b == 0x7f for b in raw):
    problems.append("control bytes")
VOID = {"meta", "link", "br", "img", "hr", "input", "source", "wbr", "col", "area", "base",
        "embed", "param", "track"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.scripts = 0
        self.external = []
    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "formaction", "poster", "data") \
                    and not (v or "").startswith("#"):
                self.external.append("%s=%r" % (k, v))
            if k.startswith("on"):
                self.external.append("event handler %s" % k)
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            problems.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else ""))
            return
        self.stack.pop()
p = P()
p.feed(text)
p.close()
if p.stack:
    problems.append("unclosed: %s" % p.stack)
if p.scripts:
    problems.append("%d <script> elements" % p.scripts)
if p.external:
    problems.append("external references or handlers: %s" % p.external[:5])
if re.search(r"url\(|@import", text):
    problems.append("url( or @import in CSS")
for want in ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\x1b[31mRED\\x1b]0;owned\\x07",
             "\\xe2\\x80\\xae", "caf\u00e9", "\\xff\\xfe", "&quot;q&quot;", "amp\\&amp;lt",
             "title=\"x\\&quot;\\&gt;\\&lt;img", "&lt;img src=x onerror=alert(7)&gt;",
             "ACT\\x1b[32mGREEN\\x1b]2;pwn\\x07", "\\xfe\\xff na\u00efve"):
    if want not in text:
        problems.append("missing (escaped): %s" % want)
for p_ in problems:
    print("html:", p_)
sys.exit(1 if problems else 0)
EOF
if command -v xmllint >/dev/null; then
    xmllint --noout "$tmp/r.html" 2>"$tmp/xml" || bad "html: not well-formed XML: $(head -3 "$tmp/xml")"
else
    echo "SKIP html xmllint: not installed (scripts/install-deps)"
fi

# --- Markdown, JSON, NDJSON ---
run md "$tmp/r.md" || true
[ "$(controls "$tmp/r.md")" = 0 ] || bad "md: control bytes in the output"
# Outside code spans (whose content CommonMark shows as it is), no markup from the input.
# shellcheck disable=SC2016 # backticks, not an expansion
if sed 's/`[^`]*`//g' "$tmp/r.md" | grep -q '<script'; then bad "md: raw <script"; fi
# shellcheck disable=SC2016 # backticks, not an expansion
if sed 's/`[^`]*`//g' "$tmp/r.md" | grep -q '<img'; then bad "md: raw <img (--actions)"; fi
grep -qF 'ACT\x1b\[32mGREEN' "$tmp/r.md" || bad "md: the ESC of --actions is not shown as \\x1b"
# shellcheck disable=SC2016 # backticks, not an expansion
grep -qF '\`d\` \*e\* \[l\](http://x)' "$tmp/r.md" || bad "md: the markup of --actions is not escaped"
run json "$tmp/r.json" || true
# --reported and --actions come back whole: each byte that is not UTF-8 as the code point of its
# value (JSON: top-level keys; NDJSON: the summary line's nettriage.reported and .actions).
back_whole() { # FILE FORMAT
    python3 - "$1" "$2" "$reported" "$actions" <<'EOF'
import json, os, sys
path, fmt = sys.argv[1], sys.argv[2]
if fmt == "json":
    obj = json.load(open(path, encoding="utf-8"))
else:
    obj = [json.loads(l) for l in open(path, encoding="utf-8")
           if '"nettriage.summary"' in l][0]["nettriage"]
def want(arg):
    raw = os.fsencode(arg)
    return "".join(chr(ord(c) - 0xdc00) if 0xdc80 <= ord(c) <= 0xdcff else c
                   for c in raw.decode("utf-8", "surrogateescape"))
sys.exit(0 if obj["reported"] == want(sys.argv[3]) and obj["actions"] == want(sys.argv[4])
         else 1)
EOF
}
back_whole "$tmp/r.json" json || bad "json: does not parse, or --reported/--actions do not come back"
[ "$(controls "$tmp/r.json")" = 0 ] || bad "json: control bytes in the output"
run ndjson "$tmp/r.ndjson" || true
jq -c . "$tmp/r.ndjson" >/dev/null || bad "ndjson: a line does not parse"
back_whole "$tmp/r.ndjson" ndjson || bad "ndjson: --reported/--actions do not come back"
[ "$(controls "$tmp/r.ndjson")" = 0 ] || bad "ndjson: control bytes in the output"

# --- explain ---
# The names through `nettriage explain`, and a line with a NUL and an ESC sequence past the
# first 4 KiB (earlier, the input would be refused as binary): no control byte but the newline,
# the same escapes as the text report, the line not understood shown and counted; readings fit
# 80 columns (the input's own lines, after "line N", are shown whole).
python3 - "$root/tests/captures/hostile/names.txt" "$tmp/nul.txt" <<'EOF'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:16]
out = lines * 4
out.append(b"13:25:30.100000 IP 192.0.2.10.40009 > 198.51.100.2.53: 1009+ A? a\x00b\x1b[31m.example. (40)")
open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
EOF
for f in "$path" "$tmp/nul.txt" "$root/tests/captures/tcp/closed.pcap"; do
    st=0
    "$bin" explain "$f" >"$tmp/x.txt" 2>"$tmp/err" || st=$?
    [ "$st" -lt 2 ] || bad "explain: exit status $st: $(cat "$tmp/err")"
    [ "$(controls "$tmp/x.txt")" = 0 ] || bad "explain: control bytes in the output"
    python3 - "$tmp/x.txt" <<'EOF' || bad "explain: a reading longer than 80 columns"
import re, sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if re.match(r"(line|packet) [0-9]+  ", line):
        continue
    if len(line) > 80 and max(len(w) for w in line.split(" ")) <= 40:
        print("explain: %d columns: %s" % (len(line), line))
        sys.exit(1)
EOF
done
"$bin" explain "$path" >"$tmp/x.txt" 2>&1 || true
grep -qF '\xe2\x80\xae' "$tmp/x.txt" || bad "explain: the right-to-left override is not escaped"
grep -qF '\xff\xfe' "$tmp/x.txt" || bad "explain: bytes that are not UTF-8 are not escaped"
grep -qF 'café' "$tmp/x.txt" || bad "explain: valid UTF-8 is not shown as it is"
grep -qF '<script>alert(1)</script>.example.' "$tmp/x.txt" || bad "explain: the name is not shown"
"$bin" explain "$tmp/nul.txt" >"$tmp/x.txt" 2>&1 || true
grep -A1 '^line 65  ' "$tmp/x.txt" | grep -q 'Not understood' ||
    bad "explain: the line with a NUL is not shown as not understood"
grep -q ', 1 not understood' "$tmp/x.txt" || bad "explain: the line with a NUL is not counted"

if [ "$fail" -eq 0 ]; then
    echo "hostile: every format escaped what it had to"
fi
[ "$fail" -eq 0 ]
