#!/usr/bin/env bash
# browser.sh: the HTML report in a real browser (issue 10). Headless Chromium (Debian's
# `chromium`) opens the report from disk (file://, no network: background networking, QUIC,
# component updates and sync off; as root, in a network namespace of its own), for
# examples/port-unreachable.pcap and for a tcpdump text input whose query names carry a
# <script> that sets data-pwned on the root element, an <img/src=x/onerror=...> that would do
# the same, and the hostile names of tests/captures/hostile/names.txt. For each report:
#   - --dump-dom (the DOM after loading): the findings (<h3 id="findings">, an <article
#     class="finding ..."> naming the rule dns.port_unreachable) and the timeline (<section
#     id="timeline"> holding <svg class="timeline">); no <script> element at all; no data-pwned
#     attribute; for the hostile input, the <script> name is there as text;
#   - --screenshot at --window-size=1024,2000: a PNG of exactly 1024x2000, decoded with python3
#     alone (zlib and the PNG filters): not blank (at least 8 distinct colours, no colour on
#     more than 99% of the pixels);
#   - the browser's log (--enable-logging=stderr): no CONSOLE line at all. Chromium logs every
#     console message as INFO:CONSOLE whatever its level (console.error, an uncaught exception
#     and a Content-Security-Policy violation alike), and the report has no script of its own,
#     so any console line is an error.
# Before trusting the checks, the same check is run on a control page: the hostile report with
# its escaping of the <script> and <img> names undone and its Content-Security-Policy removed;
# the check must fail on it (the script runs, data-pwned appears, a <script> element is there),
# or this test fails.
#   tests/golden/browser.sh NETTRIAGE
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
browser=
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null; then
        browser=$b
        break
    fi
done
# A missing tool skips (77), except with CI=true, where it fails: CI installs both.
skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL (CI=true, no skipping): $* not installed (scripts/install-deps installs it)"
        exit 1
    fi
    echo "SKIP: $* not installed (scripts/install-deps installs it)"
    exit 77
}
[ -n "$browser" ] || skip "chromium (Debian's package)"
command -v python3 >/dev/null || skip python3

width=1024 height=2000
# No network: as root (CI), the browser runs in a network namespace of its own, which has no
# interface but a loopback that is down; elsewhere the flags below are all there is.
netns=()
if unshare -n true 2>/dev/null; then
    netns=(unshare -n)
fi
# Runs the browser on a file with one more option (--dump-dom or --screenshot=FILE); its
# stdout goes to $3, its log to $4. Bounded: 60 s.
chrome() { # FILE OPTION OUT LOG
    local profile st=0
    profile=$(mktemp -d "$tmp/profile.XXXXXX")
    timeout 60 "${netns[@]}" "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --user-data-dir="$profile" \
        --window-size="$width,$height" --enable-logging=stderr --v=0 \
        "$2" "file://$1" >"$3" 2>"$4" || st=$?
    rm -rf "$profile"
    return "$st"
}

# Prints what is wrong with the DOM ($1) and the log ($2) of a report; nothing when all is well.
# $3 is "hostile" for the hostile input (its <script> name must be there as text).
dom_problems() { # DOM LOG KIND
    python3 - "$1" "$2" "$3" <<'EOF'
import re, sys
from html.parser import HTMLParser
dom = open(sys.argv[1], encoding="utf-8", errors="replace").read()
log = open(sys.argv[2], encoding="utf-8", errors="replace").read()
kind = sys.argv[3]
problems = []
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = 0
        self.pwned = False
        self.findings_h = False
        self.articles = 0
        self.in_article = 0
        self.article_text = []
        self.timeline_section = False
        self.svg_in_timeline = False
        self.section = None
        self.text = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if "data-pwned" in a:
            self.pwned = True
        if tag == "section":
            self.section = a.get("id")
            if self.section == "timeline":
                self.timeline_section = True
        if tag == "h3" and a.get("id") == "findings":
            self.findings_h = True
        if tag == "article" and "finding" in (a.get("class") or "").split():
            self.articles += 1
            self.in_article += 1
        if tag == "svg" and self.section == "timeline" and \
                "timeline" in (a.get("class") or "").split():
            self.svg_in_timeline = True
    def handle_endtag(self, tag):
        if tag == "article" and self.in_article:
            self.in_article -= 1
        if tag == "section":
            self.section = None
    def handle_data(self, data):
        self.text.append(data)
        if self.in_article:
            self.article_text.append(data)
p = P()
p.feed(dom)
p.close()
if "<html" not in dom:
    problems.append("no DOM dumped")
if p.scripts:
    problems.append("%d <script> element(s) in the DOM" % p.scripts)
if p.pwned:
    problems.append("data-pwned attribute set: a script from the input ran")
if not p.findings_h:
    problems.append("no findings heading (h3#findings)")
if not p.articles:
    problems.append("no finding (article.finding)")
if "dns.port_unreachable" not in "".join(p.article_text):
    problems.append("no finding names the rule dns.port_unreachable")
if not p.timeline_section:
    problems.append("no timeline section (section#timeline)")
if not p.svg_in_timeline:
    problems.append("no svg.timeline in the timeline section")
if kind == "hostile" and \
        "<script>document.documentElement.setAttribute('data-pwned','1')</script>" \
        not in "".join(p.text):
    problems.append("the <script> query name is not shown as text")
for line in log.splitlines():
    if re.search(r":CONSOLE[(:]", line) or "Uncaught" in line:
        problems.append("console: " + line[:300])
for p_ in problems:
    print(p_)
EOF
}

# Prints what is wrong with a screenshot ($1): size, not a PNG, blank.
png_problems() { # PNG WIDTH HEIGHT
    python3 - "$@" <<'EOF'
import struct, sys, zlib
path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    data = open(path, "rb").read()
except OSError as e:
    print("no screenshot: %s" % e)
    sys.exit(0)
if data[:8] != b"\x89PNG\r\n\x1a\n":
    print("not a PNG")
    sys.exit(0)
pos, idat, ihdr = 8, [], None
while pos + 8 <= len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif typ == b"IDAT":
        idat.append(body)
    elif typ == b"IEND":
        break
    pos += 12 + n
if ihdr is None:
    print("no IHDR")
    sys.exit(0)
w, h, depth, ctype, _, _, interlace = ihdr
if (w, h) != (want_w, want_h):
    print("screenshot is %dx%d, want %dx%d" % (w, h, want_w, want_h))
channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
if depth != 8 or channels is None or interlace != 0:
    print("PNG depth %d colour type %d interlace %d: not decoded here" % (depth, ctype, interlace))
    sys.exit(0)
raw = zlib.decompress(b"".join(idat))
bpp, stride = channels, w * channels
if len(raw) != h * (stride + 1):
    print("IDAT holds %d bytes, want %d" % (len(raw), h * (stride + 1)))
    sys.exit(0)
prev = bytearray(stride)
counts = {}
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 0xff
    elif f == 2:
        for i in range(stride):
            line[i] = (line[i] + prev[i]) & 0xff
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 0xff
    elif f != 0:
        print("row %d: unknown PNG filter %d" % (y, f))
        sys.exit(0)
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + bpp])
        counts[px] = counts.get(px, 0) + 1
    prev = line
top = max(counts.values())
if len(counts) < 8:
    print("blank: %d distinct colours" % len(counts))
if top > 0.99 * w * h:
    print("blank: one colour on %.2f%% of the pixels" % (100.0 * top / (w * h)))
EOF
}

# Checks one HTML file in the browser: the DOM and its log, then a screenshot and its log.
check_page() { # NAME HTML KIND
    local name=$1 html=$2 kind=$3 out
    if ! chrome "$html" --dump-dom "$tmp/$name.dom" "$tmp/$name.dom.log"; then
        echo "$name: chromium --dump-dom failed or took over 60 s: $(tail -3 "$tmp/$name.dom.log")"
        return 1
    fi
    out=$(dom_problems "$tmp/$name.dom" "$tmp/$name.dom.log" "$kind")
    if ! chrome "$html" --screenshot="$tmp/$name.png" "$tmp/$name.png.out" "$tmp/$name.png.log"; then
        out+=$'\n'"chromium --screenshot failed or took over 60 s: $(tail -3 "$tmp/$name.png.log")"
    else
        out+=$'\n'$(png_problems "$tmp/$name.png" "$width" "$height")
        # The screenshot run's log: a console line there counts too.
        out+=$'\n'$(grep -E ':CONSOLE[(:]|Uncaught' "$tmp/$name.png.log" | cut -c1-300 |
            sed 's/^/console: /' || true)
    fi
    out=$(printf '%s\n' "$out" | sed '/^$/d')
    if [ -n "$out" ]; then
        printf '%s\n' "$out" | sed "s/^/$name: /"
        return 1
    fi
}

# The hostile input: query names that would run a script if they reached the page as markup,
# each answered by an ICMP port unreachable (a dns.port_unreachable finding), and the names
# of tests/captures/hostile/names.txt after them.
hostile=$tmp/hostile.txt
{
    printf '%s\n' \
        "13:24:00.100000 IP 192.0.2.10.41000 > 198.51.100.2.53: 2000+ A? <script>document.documentElement.setAttribute('data-pwned','1')</script>.example. (60)" \
        "13:24:00.100300 IP 198.51.100.2 > 192.0.2.10: ICMP 198.51.100.2 udp port 53 unreachable, length 76" \
        "13:24:01.100000 IP 192.0.2.10.41001 > 198.51.100.2.53: 2001+ A? x\"><img/src=x/onerror=document.documentElement.setAttribute('data-pwned','2')>.example. (60)" \
        "13:24:01.100300 IP 198.51.100.2 > 192.0.2.10: ICMP 198.51.100.2 udp port 53 unreachable, length 76"
    cat "$root/tests/captures/hostile/names.txt"
} >"$hostile"

render() { # INPUT OUT
    local st=0
    "$bin" report --format html "$1" >"$2" 2>"$tmp/err" || st=$?
    if [ "$st" -ge 2 ] || [ ! -s "$2" ]; then
        bad "report --format html $1: exit status $st: $(head -3 "$tmp/err")"
        return 1
    fi
}

# The control page first: the hostile report with the escaping of the two names undone and
# no Content-Security-Policy. The check must fail on it.
make_control() { # REPORT CONTROL
    python3 - "$1" "$2" <<'EOF'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
esc = "&lt;script&gt;document.documentElement.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt;"
raw = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
# The report may escape the quote as &#39; or &#x27; or not at all.
pattern = re.escape(esc).replace(re.escape("&#39;"), "(?:&#39;|&#x27;|&apos;|')")
t2, n = re.subn(pattern, lambda m: raw, t)
t2, n2 = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", t2)
if n == 0 or n2 != 1:
    sys.exit("control page: %d escaped script names, %d CSP metas found" % (n, n2))
open(sys.argv[2], "w", encoding="utf-8").write(t2)
EOF
}
if ! render "$hostile" "$tmp/hostile.html"; then
    : # said above
elif ! make_control "$tmp/hostile.html" "$tmp/control.html"; then
    bad "control page not made: the report does not show the <script> name escaped as expected"
elif check_page control "$tmp/control.html" hostile >"$tmp/control.out"; then
    bad "control page (escaping undone): the check passed; it cannot fail"
elif ! grep -q 'data-pwned attribute set' "$tmp/control.out" ||
    ! grep -q '<script> element' "$tmp/control.out"; then
    bad "control page: the check failed, but not on the script that ran:"
    cat "$tmp/control.out"
else
    echo "control page (escaping undone) fails as it must: $(grep -c . "$tmp/control.out") problems"
fi

for c in example hostile; do
    case $c in
    example) input=$root/examples/port-unreachable.pcap ;;
    hostile) input=$hostile ;;
    esac
    render "$input" "$tmp/$c.html" || continue
    if check_page "$c" "$tmp/$c.html" "$c"; then
        echo "ok $c: DOM, screenshot ${width}x$height and console"
    else
        bad "$c (above)"
    fi
done

if [ "$fail" -eq 0 ]; then
    echo "browser: the HTML report loads clean in $("$browser" --version 2>/dev/null | head -1)" \
        "(${netns[*]:-no network namespace})"
fi
[ "$fail" -eq 0 ]
