# Row-by-row comparison of normalised DNS rows (sourced after lib.sh).
#
# compare_rows SOURCE CAPTURE REF_ROWS NT_ROWS [REF_LABEL NT_LABEL]
#   REF_LABEL, NT_LABEL: how the messages name the two sides (default SOURCE, nettriage).
#   REF_ROWS: the reference tool's rows (lib.sh's 16 columns, "?" = the reference does not
#   carry that column: it is neither part of the key nor compared; "?" in some rows only:
#   not compared on those rows).
#   NT_ROWS: nettriage's rows (same columns, all known).
# Rows are paired by the key made of the columns the reference carries among client, client
# port, server, server port and DNS id (the query name when it carries none of them; the row
# number when it carries no query either), then by order within the same key.
# Sets ROWS_COMPARED ROWS_AGREED ROWS_KNOWN ROWS_UNLISTED (added to), prints each unlisted
# difference as "DIFF ..." and each listed one as "known ...".
ROWS_COMPARED=0 ROWS_AGREED=0 ROWS_KNOWN=0 ROWS_UNLISTED=0 RTT_NOT_COMPARED=0

compare_rows() {
    local src=$1 cap=$2 ref=$3 ntr=$4 rl=${5:-$1} nl=${6:-nettriage} out
    out=$(awk -F'\t' -v OFS='\t' '
        function key(r,    k, i, parts) {
            split(r, parts, "\t"); k = ""
            if (mask[1] || mask[2] || mask[3] || mask[4] || mask[5]) {
                k = (mask[1] ? parts[1] : "*") (mask[2] ? ":" parts[2] : "") ">" \
                    (mask[3] ? parts[3] : "*") (mask[4] ? ":" parts[4] : "") \
                    (mask[5] ? " id=" parts[5] : "")
            } else if (mask[6]) k = "q=" parts[6]
            else k = "row"
            return k
        }
        BEGIN {
            split("client cport server sport id query qtype rcode answered AA TC RD RA answers rtt transport", fname, " ")
        }
        FILENAME == ARGV[1] {  # (not FNR == NR: wrong when the reference file is empty)
            nref++; refrow[nref] = $0
            # A column is carried when any reference row has it ("?" in every row: not at all;
            # "?" in some rows only: not compared on those rows).
            for (i = 1; i <= 16; i++) if ($i != "?") mask[i] = 1
            next
        }
        { nnt++; ntrow[nnt] = $0 }
        END {
            if (nref == 0) for (i = 1; i <= 16; i++) mask[i] = 1
            for (r = 1; r <= nnt; r++) { k = key(ntrow[r]); c = ++ntc[k]; ntk[k "/" c] = r }
            for (r = 1; r <= nref; r++) {
                k = key(refrow[r]); c = ++refc[k]; kk = (c > 1) ? k "/" c : k
                if (!((k "/" c) in ntk)) { print "ROW", kk, "row", "present", "absent"; continue }
                used[k "/" c] = 1
                split(refrow[r], a, "\t"); split(ntrow[ntk[k "/" c]], b, "\t")
                nd = 0
                for (i = 6; i <= 15; i++) {
                    if (!mask[i] || a[i] == "?") continue
                    if (i == 15) {
                        if (a[15] == "-" && a[9] == "T") { print "RTTNC", kk; continue }
                        if (a[15] != "-" && b[15] != "-") {
                            d = a[15] - b[15]; if (d < 0) d = -d
                            if (d <= 0.001) continue
                            print "FIELD", kk, "rtt", a[15], sprintf("%.6f", b[15]); nd++; continue
                        }
                    }
                    if (a[i] != b[i]) { print "FIELD", kk, fname[i], a[i], b[i]; nd++ }
                }
                if (nd == 0) print "OK", kk
                else print "DONE", kk
            }
            for (k in ntk) if (!(k in used)) {
                split(k, kp, "/"); c = kp[length(kp)]; base = substr(k, 1, length(k) - length(c) - 1)
                print "ROW", (c > 1 ? base "/" c : base), "row", "absent", "present"
            }
        }' "$ref" "$ntr")
    local kind k f rv nv
    declare -A rowbad=() rowseen=()
    while IFS=$'\t' read -r kind k f rv nv; do
        case $kind in
            OK) ROWS_COMPARED=$((ROWS_COMPARED + 1)); ROWS_AGREED=$((ROWS_AGREED + 1)) ;;
            RTTNC) RTT_NOT_COMPARED=$((RTT_NOT_COMPARED + 1)) ;;
            DONE) ROWS_COMPARED=$((ROWS_COMPARED + 1)); rowseen[$k]=1 ;;
            ROW | FIELD)
                [ "$kind" = ROW ] && { ROWS_COMPARED=$((ROWS_COMPARED + 1)); rowseen[$k]=1; }
                if diff_check "$src" "$cap" "$k" "$f" "$rv" "$nv"; then
                    echo "  known   $cap [$k] $f: $rl=$rv $nl=$nv ($(diff_reason "$src" "$cap" "$k" "$f" "$rv" "$nv"))"
                else
                    echo "  DIFF    $cap [$k] $f: $rl=$rv $nl=$nv"
                    printf '    listing line: %s\t%s\t%s\t%s\t%s\t%s\t<reason>\n' "$src" "$cap" "$k" "$f" "$rv" "$nv"
                    rowbad[$k]=1
                fi
                ;;
        esac
    done <<<"$out"
    for k in "${!rowseen[@]}"; do
        if [ -n "${rowbad[$k]:-}" ]; then ROWS_UNLISTED=$((ROWS_UNLISTED + 1)); else ROWS_KNOWN=$((ROWS_KNOWN + 1)); fi
    done
}
