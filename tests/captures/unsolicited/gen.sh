#!/usr/bin/env bash
# gen.sh: writes the tcpdump-style text inputs of the dns.unsolicited goldens (no capture of a
# real attack is redistributable here; these follow tcpdump 4.99's -nn line format exactly).
#   reflection.txt  150 large ANY answers from 25 open resolvers to one victim in 3 s, and no
#                   query from it: the shape of a reflection attack.
#   stray.txt       12 answers to a host from its own resolver, whose queries are not in the
#                   input (a capture filter that kept one direction), after a normal lookup.
set -euo pipefail
cd "$(dirname "$0")"
{
    for ((i = 0; i < 150; i++)); do
        src=$((i % 25 + 10))
        printf '10:00:%02d.%06d IP 203.0.113.%d.53 > 198.51.100.77.%d: %d 28/0/1 ANY? example.org. (3120)\n' \
            $((i / 50)) $(((i % 50) * 20000)) "$src" $((1024 + i * 7 % 60000)) $((i * 2654435761 % 65536))
    done
} >reflection.txt
{
    printf '09:00:00.000000 IP 192.0.2.10.40000 > 192.0.2.53.53: 100+ A? www.example.com. (33)\n'
    printf '09:00:00.010000 IP 192.0.2.53.53 > 192.0.2.10.40000: 100 1/0/0 A 192.0.2.80 (49)\n'
    for ((i = 0; i < 12; i++)); do
        printf '09:00:%02d.000000 IP 192.0.2.53.53 > 192.0.2.10.%d: %d 1/0/0 A 192.0.2.80 (49)\n' \
            $((10 + i * 2)) $((41000 + i)) $((200 + i))
    done
} >stray.txt
