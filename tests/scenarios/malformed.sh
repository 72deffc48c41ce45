#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317  # jq filters single-quoted; send() runs via declare -f
# scenario malformed: malformed DNS messages sent to a real dnsmasq (decoder anomalies feeding a
# finding). The client sends queries whose question name holds a label of a reserved type
# (first bits 10: dns.bad_label_type) and queries shorter than the 12-byte DNS header
# (dns.truncated), from one socket, beside a well-formed query that dnsmasq answers.
#   crafted  12 bad-label queries and 3 short ones: dns.malformed for the server, 15 messages
#            to it from the client, the kinds counted, and the well-formed lookup answered.
#   few      3 bad-label queries: counted as anomalies in the input, but no finding (a
#            finding needs 10 malformed messages).
#
#   tests/scenarios/malformed.sh [--record | --replay] NETTRIAGE
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init malformed
export TZ=UTC
client4=198.51.100.15 server4=198.51.100.2

# send DST BAD SHORT: BAD queries with a reserved label type and SHORT 6-byte messages, then
# one well-formed A query for www.corp.example, from one UDP socket (bash /dev/udp), 50 ms
# apart; waits half a second for the answers. No byte of any message is a newline.
send() {
    local dst=$1 bad=$2 short=$3 fd i q
    exec {fd}<>"/dev/udp/$dst/53"
    for ((i = 1; i <= bad; i++)); do
        # id 0x21NN (NN from 0x11: a newline byte would split the datagram), RD, one
        # question; the name's first label byte 0x81 is a reserved label type (10xxxxxx), not
        # a length.
        q=$(printf '\\x21\\x%02x\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' $((i + 16)))
        q+='\x81www\x04corp\x07example\x00\x00\x01\x00\x01'
        # shellcheck disable=SC2059  # the format string is the message's bytes
        printf "$q" >&"$fd"
        sleep 0.05
    done
    for ((i = 1; i <= short; i++)); do
        # shellcheck disable=SC2059
        printf "$(printf '\\x22\\x%02x\\x01\\x00\\x00\\x01' $((i + 16)))" >&"$fd"
        sleep 0.05
    done
    printf '\x23\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x04corp\x07example\x00\x00\x01\x00\x01' >&"$fd"
    sleep 0.5
    exec {fd}>&-
}

if nt_live; then
    nt_require_tools tcpdump jq dnsmasq timeout
    nt_make_pair "$client4/24" "$server4/24"
    nt_start_dnsmasq "$server4" -- --address=/corp.example/198.51.100.80
    nt_capture_start crafted
    nt_client bash -c "$(declare -f send); send $server4 12 3"
    nt_capture_stop crafted 1
    nt_capture_start few
    nt_client bash -c "$(declare -f send); send $server4 3 0"
    nt_capture_stop few 1
fi

# ---------------------------------------------------------------------------------------
# tcpdump prints a message whose name it cannot decode as "8465+ [|domain]" without saying
# why (the snapshot length or the message), so the text path cannot tell malformed from cut:
# those lines are counted as not read and the text run exits 2.
NT_CASE_TEXT_STATUS=2 nt_case crafted
pcap=$(nt_case_pcap)
sent=$(nt_pcap_select "$pcap" "udp dst port 53 and dst host $server4" | wc -l)
nt_log "crafted: $sent messages to $server4"
[ "$sent" -eq 16 ] || nt_die "crafted: $sent messages to the server, expected 16; scenario broken"
nt_case_status 1
nt_json_check "crafted (text): the 12 undecoded lines are counted as not read" \
    '.inputs[0].unread_traffic == 12' "$NT_WORK/$NT_CASE.text.json"
# Only the capture itself shows what was malformed: these checks are on the pcap path.
j="$NT_WORK/$NT_CASE.pcap.json"
nt_json_check "crafted: dns.malformed is raised" '[.findings[].id] | index("dns.malformed") != null' "$j"
f='[.findings[] | select(.id == "dns.malformed")] | .[0]'
nt_json_eq "crafted: the server" "$j" "$f | .server" "\"$server4\""
nt_json_check "crafted: 15 malformed messages to the server from the client" \
    "$f | (.summary | startswith(\"15 malformed DNS messages were sent to the DNS server $server4\"))
     and (.summary | contains(\"$client4\"))" "$j"
nt_json_check "crafted: the kinds are counted" \
    "$f | .facts | any(.[]; contains(\"12 dns.bad_label_type\") and contains(\"3 dns.truncated\"))" "$j"
nt_json_check "crafted: the input's anomaly table agrees" \
    '[.inputs[0].anomalies[] | select(.id == "dns.bad_label_type" or .id == "dns.truncated")
      | .count] == [3, 12]' "$j"
nt_case_check "the well-formed query is answered" '.summary.answered >= 1'

NT_CASE_TEXT_STATUS=2 nt_case few
nt_case_status 0
nt_case_check "no dns.malformed under 10 messages" \
    '[.findings[].id] | index("dns.malformed") == null'
nt_json_check "few: the anomalies are still counted" \
    '[.inputs[0].anomalies[] | select(.id == "dns.bad_label_type") | .count] == [3]' \
    "$NT_WORK/$NT_CASE.pcap.json"

nt_finish
