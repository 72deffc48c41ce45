#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# scenario rcode: DNS servers that are up but answer REFUSED or SERVFAIL.
#
# One unbound (198.51.100.2 and 198.51.100.4) and one dnsmasq (198.51.100.3) in the server
# namespace; the client namespace has three addresses so that the servers' access lists can
# tell clients apart:
#   198.51.100.2   unbound: local data for yummyrecipesforme.com; `access-control: .16 refuse`,
#                  `access-control: .17 refuse_non_local` (answers only its local data to .17).
#   198.51.100.3   dnsmasq with no upstream (`--no-resolv`, no server=): REFUSED for any name
#                  outside its --address data.
#   198.51.100.4   the same unbound; `forward-zone: "."` to 192.0.2.53, an address on the
#                  server's lo where nftables drops DNS: the only upstream never answers, so
#                  unbound answers SERVFAIL (tuned with infra-cache-max-rtt 1000 and
#                  outbound-msg-retry 1 to give up within about 2 s instead of much later).
# Cases (each one capture, checked through the pcap and the tcpdump text paths):
#   refused_acl        .15 answered, .16 refused (same name), .15 answered again: dns.refused,
#                      medium, the access list first with high confidence; the incident window
#                      is bounded by .15's answers.
#   refused_local_only .17 gets the local name, and REFUSED with RA clear for another name:
#                      dns.refused, "answers only from its own zones" first (high).
#   refused_no_upstream dnsmasq: local name answered, other name REFUSED with RA set:
#                      dns.refused, "forwarder with no upstream" first (high).
#   refused_all        .16 asks two names, both refused: dns.refused, severity high.
#   servfail           three names through the dead upstream: dns.servfail, high; the time to
#                      each SERVFAIL is measured against the capture, and the upstream cause
#                      ranks first when most of them were slow.
#   servfail_partial   a local name answered (AA) and an outside name SERVFAIL: medium.
#   quiet              every server asked a name it can answer: no finding at all.
#
#   tests/scenarios/rcode.sh [--record | --replay] NETTRIAGE   (live and --record need root)
#
# Every expected figure is counted in the capture with tcpdump, never hard-coded.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

nt_scenario_args "$0" "$@"
nt_init rcode
nt_require_tools tcpdump jq awk
if nt_live; then
    nt_require_tools dig ss dnsmasq unbound nft timeout
fi

client=198.51.100.15 refused_client=198.51.100.16 local_client=198.51.100.17
acl_server=198.51.100.2 dnsmasq_server=198.51.100.3 resolver=198.51.100.4
upstream=192.0.2.53
local_name=yummyrecipesforme.com

# dig_from SOURCE SERVER NAME TYPE: one query (no retry), from SOURCE, in the client namespace.
dig_from() {
    nt_client dig -b "$1" @"$2" "$3" "$4" +tries=1 +timeout=8 >>"$NT_WORK/dig.out" 2>&1 || true
}

if nt_live; then
    nt_make_pair "$client/24" "$acl_server/24"
    ip -n "$NT_CLIENT_NS" addr add "$refused_client/24" dev "$NT_CLIENT_IF"
    ip -n "$NT_CLIENT_NS" addr add "$local_client/24" dev "$NT_CLIENT_IF"
    ip -n "$NT_SERVER_NS" addr add "$dnsmasq_server/24" dev "$NT_SERVER_IF"
    ip -n "$NT_SERVER_NS" addr add "$resolver/24" dev "$NT_SERVER_IF"
    ip -n "$NT_SERVER_NS" addr add "$upstream/32" dev lo
    # The upstream: nothing answers there (dropped, so unbound waits for it).
    nt_nft "$NT_SERVER_NS" "table inet nt_upstream {
    chain input {
        type filter hook input priority filter; policy accept;
        ip daddr $upstream udp dport 53 drop
        ip daddr $upstream tcp dport 53 drop
    }
}" || nt_skip "cannot load an nftables ruleset in a namespace"
    nt_start_unbound "$acl_server" "$resolver" -- \
        "access-control: $refused_client/32 refuse" \
        "access-control: $local_client/32 refuse_non_local" \
        'module-config: "iterator"' \
        "infra-cache-max-rtt: 1000" \
        "outbound-msg-retry: 1" \
        "forward-zone:" \
        '    name: "."' \
        "    forward-addr: $upstream"
    nt_start_dnsmasq "$dnsmasq_server"

    nt_capture_start refused_acl
    dig_from "$client" "$acl_server" "$local_name" A
    dig_from "$refused_client" "$acl_server" "$local_name" A
    dig_from "$refused_client" "$acl_server" "$local_name" AAAA
    dig_from "$client" "$acl_server" "$local_name" AAAA
    nt_capture_stop refused_acl 8

    nt_capture_start refused_local_only
    dig_from "$local_client" "$acl_server" "$local_name" A
    dig_from "$local_client" "$acl_server" www.example.com A
    nt_capture_stop refused_local_only 4

    nt_capture_start refused_no_upstream
    dig_from "$client" "$dnsmasq_server" "$local_name" A
    dig_from "$client" "$dnsmasq_server" www.example.com A
    nt_capture_stop refused_no_upstream 4

    nt_capture_start refused_all
    dig_from "$refused_client" "$acl_server" "$local_name" A
    dig_from "$refused_client" "$acl_server" www.example.org MX
    nt_capture_stop refused_all 4

    nt_capture_start servfail
    dig_from "$client" "$resolver" www.example.com A
    dig_from "$client" "$resolver" www.example.net A
    dig_from "$client" "$resolver" www.example.org AAAA
    nt_capture_stop servfail 6

    nt_capture_start servfail_partial
    dig_from "$client" "$resolver" "$local_name" A
    dig_from "$client" "$resolver" www.example.com A
    nt_capture_stop servfail_partial 4

    nt_capture_start quiet
    dig_from "$client" "$acl_server" "$local_name" A
    dig_from "$client" "$dnsmasq_server" "$local_name" A
    dig_from "$client" "$resolver" "$local_name" AAAA
    nt_capture_stop quiet 6
fi

# --- independent counts from the capture -------------------------------------------------

# bpf_resp SERVER RCODE: DNS responses over UDP/IPv4 from SERVER with that rcode.
bpf_resp() {
    printf 'ip src host %s and udp src port 53 and (udp[10] & 0x80) != 0 and (udp[11] & 0x0f) == %s' \
        "$1" "$2"
}

# rcode_lookups SERVER RCODE: the lookups SERVER answered with RCODE, one line each:
# "CLIENT PORT ID QUERIES FIRST_QUERY_EPOCH ANSWER_EPOCH NAME TYPE RD RA". RD from the query
# ("+" after the id), RA from the answer (tcpdump prints "-" after the rcode when RA is clear).
rcode_lookups() {
    local pcap
    pcap=$(nt_case_pcap)
    awk 'NR == FNR {
             dst = $5; sub(/:$/, "", dst)
             ra = ($7 ~ /-/) ? 0 : 1
             ans[dst " " $6] = $1; anra[dst " " $6] = ra
             next
         }
         {
             id = $6; rd = (id ~ /\+/) ? 1 : 0; sub(/[^0-9].*$/, "", id)
             k = $3 " " id
             if (!(k in ans)) next
             n[k]++
             if (!(k in first)) {
                 first[k] = $1; qrd[k] = rd
                 for (i = 7; i <= NF; i++) if ($i ~ /\?$/) { t = $i; sub(/\?$/, "", t); name[k] = $(i + 1); type[k] = t; break }
             }
         }
         END {
             for (k in first) {
                 split(k, p, " "); cp = p[1]; port = cp; sub(/^.*\./, "", port); sub(/\.[0-9]+$/, "", cp)
                 print cp, port, p[2], n[k], first[k], ans[k], name[k], type[k], qrd[k], anra[k]
             }
         }' \
        <(tcpdump -nn -tt -r "$pcap" "$(bpf_resp "$1" "$2")" 2>/dev/null) \
        <(tcpdump -nn -tt -r "$pcap" "($NT_BPF_DNS_QUERY) and dst host $1" 2>/dev/null) |
        sort -k5,5n
}

# iso EPOCH: nettriage's time format for a tcpdump -tt time.
iso() {
    local s=${1%.*} f=${1#*.}
    printf '%s.%sZ\n' "$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%S)" "$f"
}

# check_rcode_finding RULE SERVER RCODE: the RULE finding for SERVER against the lookups the
# capture shows answered with RCODE: one finding, its figures, clients, names, times, evidence
# packets and incident window.
check_rcode_finding() {
    local rule=$1 server=$2 rcode=$3 pcap lk
    pcap=$(nt_case_pcap)
    lk=$(rcode_lookups "$server" "$rcode")
    [ -n "$lk" ] || nt_die "$NT_CASE: no rcode $rcode answers from $server in the capture; scenario broken"
    nt_log "$NT_CASE: rcode $rcode lookups from the capture:"
    printf '%s\n' "$lk" | sed 's/^/    /' >&2
    local lookups queries clients names first last
    lookups=$(printf '%s\n' "$lk" | wc -l)
    queries=$(printf '%s\n' "$lk" | awk '{ s += $4 } END { print s }')
    clients=$(printf '%s\n' "$lk" | awk '!seen[$1]++ { print $1 }' | jq -R . | jq -sc .)
    # query_names are written without the root's trailing dot (docs/json-schema.md)
    names=$(printf '%s\n' "$lk" | awk '{ n = $7; if (n != ".") sub(/\.$/, "", n); print n " " $8 }' |
        sort -u | jq -R . | jq -sc 'sort')
    first=$(iso "$(printf '%s\n' "$lk" | awk 'NR == 1 { print $5 }')")
    last=$(iso "$(printf '%s\n' "$lk" | sort -k6,6n | awk 'END { print $6 }')")
    local f='[.findings[] | select(.id == $r and .server == $s)]'
    local a=(--arg r "$rule" --arg s "$server")
    nt_case_eq "$server: exactly one $rule finding" "$f | length" 1 "${a[@]}"
    nt_case_eq "$server: protocol, port, service" "${f}[0] | {protocol, port, service}" \
        '{"protocol":"udp","port":53,"service":"DNS"}' "${a[@]}"
    nt_case_eq "$server: lookups ($lookups)" "${f}[0] | .lookups" "$lookups" "${a[@]}"
    nt_case_eq "$server: query_packets" "${f}[0] | .query_packets" "$queries" "${a[@]}"
    nt_case_eq "$server: error_packets (one answer per lookup)" "${f}[0] | .error_packets" \
        "$lookups" "${a[@]}"
    nt_case_eq "$server: clients" "${f}[0] | .clients" "$clients" "${a[@]}"
    nt_case_eq "$server: query names" "${f}[0] | .query_names | sort" "$names" "${a[@]}"
    nt_case_eq "$server: first_seen (first query)" "${f}[0] | .first_seen" "\"$first\"" "${a[@]}"
    nt_case_eq "$server: last_seen (last answer)" "${f}[0] | .last_seen" "\"$last\"" "${a[@]}"
    nt_case_eq "$server: title, causes and next steps present" \
        "${f}[0] | [(.title | length > 0), (.causes | length >= 3), (.next_steps | length >= 3)]" \
        '[true,true,true]' "${a[@]}"
    nt_case_eq "$server: no ATT&CK technique" "${f}[0] | .attack" null "${a[@]}"
    # Evidence: exactly the queries and answers of these lookups.
    local packets
    packets=$(tcpdump -# -nn -r "$pcap" 2>/dev/null |
        awk -v keys="$(printf '%s\n' "$lk" | awk '{ printf "%s.%s %s;", $1, $2, $3 }')" -v s="$server" '
            BEGIN { n = split(keys, k, ";"); for (i = 1; i <= n; i++) if (k[i] != "") want[k[i]] = 1 }
            {
                src = $4; dst = $6; sub(/:$/, "", dst); id = $7; sub(/[^0-9].*$/, "", id)
                if ((index(dst, s ".53") == 1 && (src " " id) in want) ||
                    (index(src, s ".53") == 1 && (dst " " id) in want)) print $1
            }' | jq -sc .)
    nt_case_eq "$server: evidence packets $packets" "${f}[0] | [.evidence[].packet]" "$packets" \
        "${a[@]}"
    # The incident window: usable answers (NOERROR, NXDOMAIN) from the same server.
    local oks before after
    oks=$(nt_pcap_select "$pcap" "($(bpf_resp "$server" 0)) or ($(bpf_resp "$server" 3))" |
        awk '{ print $2 }')
    before=$(printf '%s\n' "$oks" | awk -v t="$first" 'NF && $1 < t' | tail -n 1)
    after=$(printf '%s\n' "$oks" | awk -v t="$last" 'NF && $1 > t' | head -n 1)
    nt_case_eq "$server: window.last_success_before" "${f}[0] | .window.last_success_before" \
        "$(jq -nc --arg v "$before" 'if $v == "" then null else $v end')" "${a[@]}"
    nt_case_eq "$server: window.first_success_after" "${f}[0] | .window.first_success_after" \
        "$(jq -nc --arg v "$after" 'if $v == "" then null else $v end')" "${a[@]}"
    nt_case_eq "$server: window.first_failure/last_failure" \
        "${f}[0] | [.window.first_failure, .window.last_failure]" "[\"$first\",\"$last\"]" \
        "${a[@]}"
    RL=$lk
}

# cause_rank FILTER: jq for the rank-1 cause of the current check's finding matching a regex.
top_cause() {
    local rule=$1 server=$2 regex=$3 conf=$4
    nt_case_eq "$server: top cause matches /$regex/ with $conf confidence" \
        '[.findings[] | select(.id == $r and .server == $s) | .causes[0]
          | [(.text | test($re; "i")), .confidence]]' "[[true,\"$conf\"]]" \
        --arg r "$rule" --arg s "$server" --arg re "$regex"
}

severity() {
    nt_case_eq "$2: severity $3" '[.findings[] | select(.id == $r and .server == $s) | .severity]' \
        "[\"$3\"]" --arg r "$1" --arg s "$2"
}

# fact_has RULE SERVER TEXT: some fact of the finding contains TEXT.
fact_has() {
    nt_case_eq "$2: a fact says \"$3\"" \
        '[.findings[] | select(.id == $r and .server == $s) | any(.facts[]; contains($t))]' \
        '[true]' --arg r "$1" --arg s "$2" --arg t "$3"
}

# ra_fact SERVER: the RD/RA fact carries the counts taken from the capture ($RL).
ra_fact() {
    local rd ra_clear n noun=queries
    rd=$(printf '%s\n' "$RL" | awk '$9 == 1' | wc -l)
    ra_clear=$(printf '%s\n' "$RL" | awk '$9 == 1 && $10 == 0' | wc -l)
    n=$(printf '%s\n' "$RL" | wc -l)
    [ "$n" -eq 1 ] && noun=query
    nt_log "$NT_CASE: $1: $rd queries with RD, $ra_clear REFUSED answers to them with RA clear"
    fact_has dns.refused "$1" "$rd of the $n $noun asked for recursion (RD set); the REFUSED answers to them had recursion available (RA) clear in $ra_clear and set in $((rd - ra_clear))."
}

# --- cases ---------------------------------------------------------------------------------

nt_case refused_acl
nt_case_status 1
nt_case_ids '["dns.refused"]'
check_rcode_finding dns.refused "$acl_server" 5
severity dns.refused "$acl_server" medium
top_cause dns.refused "$acl_server" 'access list' high
ra_fact "$acl_server"
fact_has dns.refused "$acl_server" "other client ($client) that it never refused"
nt_case_eq "window has a success before and after" \
    '[.findings[0].window | (.last_success_before != null), (.first_success_after != null)]' \
    '[true,true]'

nt_case refused_local_only
nt_case_status 1
nt_case_ids '["dns.refused"]'
check_rcode_finding dns.refused "$acl_server" 5
severity dns.refused "$acl_server" medium
top_cause dns.refused "$acl_server" 'only from its own zones' high
ra_fact "$acl_server"
fact_has dns.refused "$acl_server" "1 of the refused clients also got usable answers"

nt_case refused_no_upstream
nt_case_status 1
nt_case_ids '["dns.refused"]'
check_rcode_finding dns.refused "$dnsmasq_server" 5
severity dns.refused "$dnsmasq_server" medium
top_cause dns.refused "$dnsmasq_server" 'no upstream' high
ra_fact "$dnsmasq_server"

nt_case refused_all
nt_case_status 1
nt_case_ids '["dns.refused"]'
check_rcode_finding dns.refused "$acl_server" 5
severity dns.refused "$acl_server" high
ra_fact "$acl_server"
fact_has dns.refused "$acl_server" "None of the $(printf '%s\n' "$RL" | wc -l) lookups to $acl_server on UDP port 53 got a usable answer"

# servfail_times: "MIN MAX MEDIAN SLOW FAST" of the time from each lookup's first query to its
# SERVFAIL, in microseconds, from the capture ($RL).
servfail_times() {
    printf '%s\n' "$RL" | awk '{
        split($5, q, "."); split($6, r, ".")
        print (r[1] - q[1]) * 1000000 + (r[2] - q[2])
    }' | sort -n | awk '{ v[NR] = $1; if ($1 >= 300000) s++; else f++ }
        END { print v[1], v[NR], v[int(NR / 2) + 1], s + 0, f + 0 }'
}


nt_case servfail
nt_case_status 1
nt_case_ids '["dns.servfail"]'
check_rcode_finding dns.servfail "$resolver" 2
severity dns.servfail "$resolver" high
read -r sf_min sf_max sf_med sf_slow sf_fast <<<"$(servfail_times)"
nt_log "servfail: time to SERVFAIL min $sf_min us, max $sf_max us, median $sf_med us;" \
    "$sf_slow slow, $sf_fast fast"
fact_has dns.servfail "$resolver" "$sf_slow of the SERVFAILs came "
fact_has dns.servfail "$resolver" "and $sf_fast sooner"
if [ "$sf_slow" -gt "$sf_fast" ]; then
    top_cause dns.servfail "$resolver" 'upstream does not answer' high
else
    top_cause dns.servfail "$resolver" 'upstream does not answer' medium
fi
nt_case_eq "$resolver: a next step runs dig +cd" \
    '[.findings[0].next_steps | any(.[]; contains("`dig +cd @'"$resolver"' "))]' '[true]'

nt_case servfail_partial
nt_case_status 1
nt_case_ids '["dns.servfail"]'
check_rcode_finding dns.servfail "$resolver" 2
severity dns.servfail "$resolver" medium
fact_has dns.servfail "$resolver" "(AA set), 0 resolved"

nt_case quiet
nt_case_status 0
nt_case_ids '[]'
q_lookups=$(nt_dns_lookups "$(nt_case_pcap)" "udp" | wc -l)
nt_case_eq "every lookup answered" '[.summary.dns_lookups, .summary.answered]' \
    "[$q_lookups,$q_lookups]"

nt_finish
