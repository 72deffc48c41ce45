# nettriage ndjson -> PacketQ's `dns` table, one TSV line per DNS *message* (lookups are
# query + retransmissions + response + duplicate responses; docs/conformance.md, PacketQ):
#   1 qr  2 s (seconds; "?" when nettriage does not carry the message's time)  3 src  4 sport
#   5 dst  6 dport  7 protocol  8 ip version  9 qname (PacketQ form: trailing dot)  10 qtype
#   name  11 qclass name  12 rcode name or -  13 rd (0/1)  14 opcode
# A query message per transmission (the first at the lookup's start, the others "?"), a
# response message for the answer (at event.end) and per duplicate response ("?"); one line
# of "?" per unsolicited response (nettriage counts them, with no facts).
def secs: if . == null then "?" else (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601 | tostring) end;
def ip(e): (e.ip // e.address // "?");
if .event.dataset == "nettriage.dns" then
  (.dns.question.name | if . == "." then "." else . + "." end) as $qn
  | ((.dns.header_flags // []) | index(["RD"]) | if . then 1 else 0 end) as $rd
  | [ip(.source), (.source.port // "?"), ip(.destination), (.destination.port // "?"),
     (.network.transport // "?"), (if (.network.type // "") == "ipv6" then 6 else 4 end)] as $a
  | ( range(0; .nettriage.transmissions // 1) as $i
      | [0, (if $i == 0 then (."@timestamp" | secs) else "?" end), $a[0], $a[1], $a[2], $a[3],
         $a[4], $a[5], $qn, .dns.question.type, (.dns.question.class // "?"), "-", $rd, 0] ),
    ( select(.nettriage.outcome == "answered")
      | range(0; 1 + (.nettriage.duplicate_responses // 0)) as $i
      | [1, (if $i == 0 then (.event.end | secs) else "?" end), $a[2], $a[3], $a[0], $a[1],
         $a[4], $a[5], $qn, .dns.question.type, (.dns.question.class // "?"),
         (.dns.response_code // "?"), $rd, 0] )
  | map(tostring) | join("\t")
elif .event.dataset == "nettriage.summary" then
  range(0; .nettriage.summary.unsolicited_responses // 0)
  | [1, "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?"] | join("\t")
else empty end
