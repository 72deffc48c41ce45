# Suricata-verify test.yaml -> its checks, one TSV line per match key (docs/conformance.md):
#   CHECK<TAB>COUNT<TAB>STATUS<TAB>KEY<TAB>VALUE
# plus one line "CHECK<TAB>COUNT<TAB>STATUS<TAB><TAB>" per check. CHECK counts the filters from
# 1; STATUS is "lt-version" when the check (or the whole test) requires an older Suricata
# (its eve format differs), else "-". Only the subset of YAML these files use: "- filter:",
# "requires:" with "min-version:"/"lt-version:", "count: N", "match:" and "key: value" lines
# (quotes removed).
function val(s) { sub(/^[^:]*:[ \t]*/, "", s); sub(/[ \t]+$/, "", s)
    if (s ~ /^".*"$/ || s ~ /^'.*'$/) s = substr(s, 2, length(s) - 2)
    return s }
function flush() { if (n > 0) { print n, cnt, st, "", ""; for (i = 1; i <= nk; i++) print n, cnt, st, k[i], v[i] } }
BEGIN { OFS = "\t" }
/^[ \t]*#/ || /^[ \t]*$/ { next }
/^requires:/ { top = 1; next }
/^[^ \t-]/ { top = 0 }
top && /lt-version:/ { all_lt = 1; next }
/^[ \t]*- filter:/ { flush(); n++; cnt = ""; st = all_lt ? "lt-version" : "-"; nk = 0; inm = 0; next }
n && /^[ \t]+lt-version:/ { st = "lt-version"; next }
n && /^[ \t]+count:/ { cnt = val($0); next }
n && /^[ \t]+match:/ { inm = 1; ind = match($0, /[^ \t]/); next }
n && inm && /^[ \t]+[^ \t]/ {
    if (match($0, /[^ \t]/) <= ind) { inm = 0; next }
    line = $0; sub(/^[ \t]+/, "", line); key = line; sub(/:.*/, "", key)
    k[++nk] = key; v[nk] = val(line); next }
END { flush() }
