# nettriage ndjson (slurped) -> the eve "dns" events its lookups imply, as flat objects keyed
# like Suricata-verify's match keys (docs/conformance.md, Suricata-verify): per lookup one
# request event per transmission (pcap_cnt only for the first, nettriage.query_packet), and
# when answered one response event (pcap_cnt nettriage.answer_packet, rcode, flags, answers)
# plus one per duplicate response (addresses, ports, id and type only: nettriage keeps no other
# fact of it). Unsolicited responses have no line in nettriage's output, so no event here.
def nm: tostring | if . == "." then . else sub("(?<!\\\\)\\.$"; "") end;
# presentation form -> the raw text Suricata writes: "\X" (X not a digit) is X; \DDD is kept,
# except "\124" and "\096", which nettriage writes for '|' and '`' (util/dnstext.h)
def raw: gsub("\\\\(?<c>[^0-9])"; .c) | gsub("\\\\124"; "|") | gsub("\\\\096"; "`");
# TXT: Suricata 8 writes one answer entry per character-string of the record
def split_txt: if .type == "TXT" then
    ([.data | tostring | scan("\"((?:[^\"\\\\]|\\\\.)*)\"") | .[0]]) as $s
    | if ($s | length) > 0 then (. as $r | $s[] | $r + {data: .}) else . end
  else . end;
def rdata(t): tostring | if t == "TXT" then .
                         elif test("^[0-9.]+$") or test(":") then . else (nm | raw) end;
[ .[] | select(.event.dataset == "nettriage.dns")
  | (.source.ip // .source.address) as $c | (.destination.ip // .destination.address) as $s
  | {"event_type": "dns", "proto": (.network.transport // "" | ascii_upcase),
     "dns.id": .dns.id, "dns.opcode": 0,
     "dns.queries[0].rrname": (.dns.question.name | if . == null then null else raw end), "dns.queries[0].rrtype": .dns.question.type,
     "dns.rrname": (.dns.question.name | if . == null then null else raw end), "dns.rrtype": .dns.question.type} as $base
  | ({"src_ip": $c, "src_port": .source.port, "dest_ip": $s, "dest_port": .destination.port}) as $q
  | ({"src_ip": $s, "src_port": .destination.port, "dest_ip": $c, "dest_port": .source.port}) as $r
  | ( range(0; .nettriage.transmissions // 1) as $i
      | $base + $q + {"dns.type": "request"}
        + (if $i == 0 and .nettriage.query_packet != null then {"pcap_cnt": .nettriage.query_packet} else {} end) ),
    ( select(.nettriage.outcome == "answered")
      | ($base + $r + {"dns.type": "response", "dns.qr": true, "dns.rcode": .dns.response_code,
                       "dns.answers.__len": ([(.dns.answers // [])[] | split_txt] | length)}
         + (if .nettriage.answer_packet != null then {"pcap_cnt": .nettriage.answer_packet} else {} end)
         + ([(.dns.header_flags // [])[] | ascii_downcase | {key: ("dns." + .), value: true}] | from_entries)
         + ([[(.dns.answers // [])[] | split_txt] | to_entries[] | .key as $n | .value
             | .type as $t | {("dns.answers[\($n)].rrname"): (.name | nm | raw), ("dns.answers[\($n)].rrtype"): .type,
                ("dns.answers[\($n)].ttl"): .ttl, ("dns.answers[\($n)].rdata"): (.data | rdata($t))}]
            | add // {}) ),
      ( range(0; .nettriage.duplicate_responses // 0)
        | {"event_type": "dns", "proto": $base.proto, "dns.id": $base["dns.id"], "dns.type": "response", "dns.qr": true} + $r ) )
  | with_entries(.value |= tostring) ]
