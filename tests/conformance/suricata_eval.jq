# Evaluates suricata_checks.awk's lines ($checks, raw text) on suricata_events.jq's events
# ($ev[0]). One TSV line per check: CHECK STATUS EXPECTED NETTRIAGE_COUNT LEFT_OUT_KEYS, where
# STATUS is "compared", "skip:lt-version" or "skip:event_type=X" (a check on events nettriage
# has no counterpart for: alert, flow, anomaly, stats, or no event_type at all). A compared
# check counts the events equal on every key nettriage carries; the keys it does not carry
# are left out (listed in the last column); "query"/"answer" (eve v2) read as
# "request"/"response" (v3).
def carried: test("^(event_type|src_ip|src_port|dest_ip|dest_port|proto|pcap_cnt|dns\\.(type|id|opcode|qr|rcode|rrname|rrtype|aa|tc|rd|ra|queries\\[0\\]\\.(rrname|rrtype)|answers\\.__len|answers\\[[0-9]+\\]\\.(rrname|rrtype|ttl|rdata)))$");
def v3: if . == "query" then "request" elif . == "answer" then "response" else . end;
$ev[0] as $events
| [ $checks | split("\n")[] | select(length > 0) | split("\t") ]
| group_by(.[0] | tonumber)[]
| .[0] as $h
| [ .[] | select(.[3] != "") | {key: .[3], value: .[4]} ] as $m
| ($m | map(select(.key == "event_type")) | .[0].value // "none") as $et
| if $h[2] == "lt-version" then [$h[0], "skip:lt-version", $h[1], "-", "-"]
  elif $et != "dns" then [$h[0], "skip:event_type=" + $et, $h[1], "-", "-"]
  else
    ($m | map(select(.key | carried)) | map(if .key == "dns.type" then .value |= v3 else . end)) as $k
    | ($m | map(select(.key | carried | not) | .key) | unique | join(",")) as $out
    | [$h[0], "compared", $h[1],
       ([ $events[] as $e | select(all($k[]; $e[.key] == .value)) ] | length | tostring),
       (if $out == "" then "-" else $out end)]
  end
| @tsv
