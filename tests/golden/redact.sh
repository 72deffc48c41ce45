#!/usr/bin/env bash
# redact.sh: --redact hides every client address in every format (issue 10). For each input
# of tests/golden/cases.txt and each format (md, json, ndjson, text, html):
#   - the clients are the senders of the DNS queries in the report without --redact (NDJSON
#     lookup events' source.address) and the clients its findings name (nettriage.clients: the
#     targets of unsolicited answers too) that never were a query's destination; none of their
#     text forms (IPv4, IPv6 in any case, reverse names) appears anywhere in the output;
#   - the pseudonyms are one mapping for the whole run: pairing the NDJSON events with and
#     without --redact gives each client one pseudonym and each pseudonym one client;
#   - nothing else changes: the Markdown and JSON reports without --redact, with that
#     mapping applied (and MAC addresses hidden), are the reports with --redact (but for the
#     note that says so and JSON's "redacted");
#   - servers stay visible: every query destination appears in the Markdown report.
#   tests/golden/redact.sh NETTRIAGE          exit 0 pass, 1 fail, 77 skip (python3, jq)
set -uo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
export TZ=UTC LC_ALL=C
for t in python3 jq; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/install-deps)"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
inputs=0
# The golden cases' inputs, then every test capture (tests/captures/redact: host names, MAC
# addresses, reverse names, IPv6 written in capitals and with its zeros).
list=$( (grep -v '^#' tests/golden/cases.txt | awk 'NF { print $2 }'
    find tests/captures -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.txt' -o -name '*.gz' \) | sort) |
    awk '!seen[$0]++')
while read -r input; do
    [ -e "$input" ] || continue
    name=${input#tests/captures/}
    inputs=$((inputs + 1))
    for fmt in md json ndjson text html; do
        "$bin" report --format "$fmt" --color never "$input" >"$tmp/plain.$fmt" 2>/dev/null
        st=$?
        "$bin" report --format "$fmt" --color never --redact "$input" >"$tmp/red.$fmt" 2>"$tmp/err"
        rst=$?
        if [ $rst -ne $st ]; then
            echo "FAIL $name: --redact --format $fmt: status $rst, $st without: $(head -c 300 "$tmp/err")"
            fail=$((fail + 1))
        fi
    done
    [ -s "$tmp/plain.ndjson" ] || continue # nothing read: nothing to hide
    python3 - "$tmp" "$name" <<'EOF' || fail=$((fail + 1))
import ipaddress, json, re, sys
tmp, name = sys.argv[1], sys.argv[2]
def read(f):
    return open("%s/%s" % (tmp, f), encoding="utf-8", errors="surrogateescape").read()
problems = []
plain = [json.loads(l) for l in read("plain.ndjson").splitlines()]
red = [json.loads(l) for l in read("red.ndjson").splitlines()]
if len(plain) != len(red):
    problems.append("ndjson: %d events without --redact, %d with" % (len(plain), len(red)))
askers, served = set(), set()
for ev in plain:
    if ev.get("event", {}).get("dataset") == "nettriage.dns":
        askers.add(ev.get("source", {}).get("address"))
        served.add(ev.get("destination", {}).get("address"))
    elif ev.get("event", {}).get("dataset") == "nettriage.finding":
        askers.update(ev.get("nettriage", {}).get("clients") or [])
clients = {c for c in askers - served if c}
# The mapping, from the endpoints of the paired events.
mapping, back = {}, {}
for p, r in zip(plain, red):
    for side in ("source", "destination", "client", "server"):
        pa = p.get(side, {}).get("address") if isinstance(p.get(side), dict) else None
        ra = r.get(side, {}).get("address") if isinstance(r.get(side), dict) else None
        if not pa or not ra or not ra.startswith("client-"):
            if pa in clients and ra == pa:
                problems.append("ndjson: client %s shown in %s" % (pa, side))
            continue
        if mapping.setdefault(pa, ra) != ra or back.setdefault(ra, pa) != pa:
            problems.append("ndjson: %s and %s are not one pseudonym for one client" % (pa, ra))
        if "ip" in r[side]:
            problems.append("ndjson: a pseudonym in an ip field")
    pc = (p.get("nettriage") or {}).get("clients") or []
    rc = (r.get("nettriage") or {}).get("clients") or []
    for pa, ra in zip(pc, rc):
        if pa in clients and (mapping.setdefault(pa, ra) != ra or back.setdefault(ra, pa) != pa):
            problems.append("ndjson: %s and %s are not one pseudonym for one client" % (pa, ra))
missing = clients - set(mapping)
if missing:
    problems.append("clients without a pseudonym: %s" % sorted(missing)[:5])
def as_ip(t):
    try:
        return ipaddress.ip_address(t)
    except ValueError:
        return None
def forms(a):
    ip = ipaddress.ip_address(a) if re.fullmatch(r"[0-9a-fA-F:.]+", a) and (":" in a or a.count(".") == 3) else None
    out = [a]
    if ip is not None:
        out.append(ip.reverse_pointer)
    return out
def pattern(f):
    # At the start of a word, or of a label after a name's label ("app.192.0.2.77.nip.io").
    return re.compile(r"(?:(?<![0-9A-Za-z:.])|(?<=[A-Za-z]\.))" + re.escape(f) +
                      r"(?![0-9A-Za-z]|:[0-9A-Za-z:])", re.I)
client_ips = {as_ip(c) for c in clients} - {None}
for fmt in ("md", "json", "ndjson", "text", "html"):
    text = read("red." + fmt)
    for c in clients:
        for f in forms(c):
            if pattern(f).search(text):
                problems.append("%s: client %s appears (as %s)" % (fmt, c, f))
    # Any text form: every run of address characters, with tcpdump's ".port" or ":" after it.
    for tok in set(re.findall(r"[0-9A-Fa-f:.]{7,}", text)):
        for cand in (tok, tok.rstrip(":."), tok.rsplit(".", 1)[0]):
            if as_ip(cand) in client_ips:
                problems.append("%s: client %s appears as %s" % (fmt, as_ip(cand), tok))
                break
# Nothing but the clients changes.
mac = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}(?![0-9A-Fa-f:])")
def apply(text):
    for real, pseudo in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        ip = forms(real)
        for f in ip[1:]:
            text = pattern(f).sub(pseudo + f[f.index(".in-addr") if ".in-addr" in f else f.index(".ip6"):], text)
        text = pattern(real).sub(pseudo, text)
    # IPv6 written otherwise (capitals, zeros written out).
    by_ip = {as_ip(k): v for k, v in mapping.items() if as_ip(k) is not None}
    def v6(m):
        return by_ip.get(as_ip(m.group(0)), m.group(0))
    text = re.sub(r"(?<![0-9A-Za-z:.])[0-9A-Fa-f]*:[0-9A-Fa-f:]*[0-9A-Fa-f](?![0-9A-Za-z]|:[0-9A-Za-z:])",
                  v6, text)
    return mac.sub("xx:xx:xx:xx:xx:xx", text)
md_red = re.sub(r"\nClient addresses are hidden \(--redact\)[^\n]*\n", "\n", read("red.md"), count=1)
md_red = md_red.replace("\n\n\n", "\n\n")
if apply(read("plain.md")) != md_red:
    a, b = apply(read("plain.md")).splitlines(), md_red.splitlines()
    diff = [(x, y) for x, y in zip(a, b) if x != y][:2]
    problems.append("md: more than the clients changed: %s" % diff)
jp, jr = json.loads(apply(read("plain.json"))), json.loads(read("red.json"))
jp.pop("redacted", None)
if jr.pop("redacted", None) is not True:
    problems.append("json: redacted is not true")
if jp != jr:
    problems.append("json: more than the clients changed")
for s in served - clients:
    if s and bool(pattern(s).search(read("plain.md"))) != bool(pattern(s).search(read("red.md"))):
        problems.append("md: server %s is not shown" % s)
for p in problems:
    print("FAIL %s: %s" % (name, p))
if not problems:
    print("ok   %s: %d clients hidden in 5 formats" % (name, len(clients)))
sys.exit(1 if problems else 0)
EOF
done <<<"$list"
echo "redact: $inputs inputs, $fail failed"
[ "$inputs" -gt 0 ] && [ "$fail" -eq 0 ]
