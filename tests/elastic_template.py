#!/usr/bin/env python3
"""Checks docs/elasticsearch/index-template.json against what nettriage writes, offline.

Elasticsearch is not installable here, so this does what Elasticsearch would do with the
template and the NDJSON stream, for the parts that can reject an event:

1. the template is valid JSON with the composable-template structure (`PUT _index_template`):
   index_patterns holding "nettriage-*", template.mappings.properties, every field a known
   type or an object;
2. `report --format ndjson` on the examples, tests/captures and the DNS/ICMP captures of
   /work/shared/corpora (when present), the same with --redact on the examples and
   tests/captures, and `watch --format ndjson` on tests/captures: every
   leaf field path of every line is mapped in the template (or by one of its dynamic
   templates), and its values fit the mapped type as Elasticsearch parses it: ip fields parse
   as IP addresses, dates are ISO 8601 with a date, long fields are integers within the signed
   64-bit range, double fields numbers, boolean fields true/false, keyword and text fields
   strings (a keyword marked meta.mixed also takes numbers and booleans, which Elasticsearch
   indexes as their text).

Usage: elastic_template.py NETTRIAGE SOURCE_DIR [CORPORA_DIR]
"""
import fnmatch
import ipaddress
import json
import os
import re
import subprocess
import sys

KNOWN_TYPES = {"keyword", "text", "long", "double", "boolean", "ip", "date", "object"}
TEMPLATE_KEYS = {"index_patterns", "template", "composed_of", "priority", "version", "_meta",
                 "data_stream", "allow_auto_create"}
# strict_date_optional_time as nettriage writes it: a date, a time, up to 9 decimals, UTC.
ISO_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:"
                      r"[0-5]\d(\.\d{1,9})?Z$")
# DNS and ICMP captures of the corpora run through the report (bounded: the manifest's rows).
CORPUS_CATEGORIES = re.compile(r"\bDNS\b|\bICMP")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_template(path):
    try:
        with open(path, encoding="utf-8") as f:
            tpl = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: not valid JSON: %s" % (path, e))
    if not isinstance(tpl, dict):
        fail("template: not an object")
    extra = set(tpl) - TEMPLATE_KEYS
    if extra:
        fail("template: members a composable template does not have: %s" % sorted(extra))
    if "nettriage-*" not in tpl.get("index_patterns", []):
        fail("template: index_patterns lacks nettriage-*")
    mappings = tpl.get("template", {}).get("mappings")
    if not isinstance(mappings, dict) or not isinstance(mappings.get("properties"), dict):
        fail("template: no template.mappings.properties")
    fields = {}

    def walk(props, prefix):
        for name, spec in props.items():
            p = prefix + name
            if "properties" in spec:
                if spec.get("type", "object") != "object":
                    fail("template: %s has properties but type %s" % (p, spec["type"]))
                walk(spec["properties"], p + ".")
                continue
            t = spec.get("type")
            if t not in KNOWN_TYPES:
                fail("template: %s has type %r" % (p, t))
            meta = spec.get("meta", {})
            for k, v in meta.items():  # Elasticsearch's limits on field meta
                if len(k) > 20 or not isinstance(v, str) or len(v) > 50:
                    fail("template: %s: meta %r too long or not a string" % (p, k))
            fields[p] = spec

    walk(mappings["properties"], "")
    dyn = []
    for entry in mappings.get("dynamic_templates", []):
        (name, spec), = entry.items()
        if "path_match" not in spec or spec.get("mapping", {}).get("type") not in KNOWN_TYPES:
            fail("template: dynamic template %s needs path_match and a known type" % name)
        dyn.append(spec)
    return fields, dyn


def fits(spec, v):
    """Whether Elasticsearch would index the scalar v into a field mapped as spec."""
    if v is None:
        return True  # a null is no value
    t = spec["type"]
    if t in ("keyword", "text"):
        if isinstance(v, str):
            return True
        return t == "keyword" and "mixed" in spec.get("meta", {}) and \
            isinstance(v, (bool, int, float))
    if t == "long":
        return isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63
    if t == "double":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "ip":
        if not isinstance(v, str):
            return False
        try:
            ipaddress.ip_address(v)
            return True
        except ValueError:
            return False
    if t == "date":
        return isinstance(v, str) and ISO_DATE.match(v) is not None
    return False  # "object" takes no scalar


def leaves(o, path, out):
    if isinstance(o, dict):
        for k, v in o.items():
            leaves(v, path + [k], out)
    elif isinstance(o, list):
        for v in o:
            leaves(v, path, out)
    else:
        out.append((".".join(path), o))


def check_stream(fields, dyn, text, label, seen):
    n = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        try:
            ev = json.loads(line)
        except ValueError as e:
            fail("%s line %d: not JSON: %s" % (label, lineno, e))
        if not isinstance(ev, dict):
            fail("%s line %d: not an object" % (label, lineno))
        n += 1
        out = []
        leaves(ev, [], out)
        for path, v in out:
            spec = fields.get(path)
            if spec is None:
                for d in dyn:
                    if fnmatch.fnmatchcase(path, d["path_match"]):
                        spec = d["mapping"]
                        break
            if spec is None:
                fail("%s line %d: %s is not mapped in the template" % (label, lineno, path))
            if not fits(spec, v):
                fail("%s line %d: %s = %r does not fit type %s" %
                     (label, lineno, path, v, spec["type"]))
            seen.add(path if path in fields else "(dynamic)")
    return n


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120,
                       check=False)
    return p.stdout.decode("utf-8", "strict")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    nettriage, src = sys.argv[1], sys.argv[2]
    corpora = sys.argv[3] if len(sys.argv) > 3 else "/work/shared/corpora"
    fields, dyn = check_template(os.path.join(src, "docs/elasticsearch/index-template.json"))

    inputs = []
    for d in ("examples", "tests/captures"):
        for root, _, files in sorted(os.walk(os.path.join(src, d))):
            for f in sorted(files):
                if f.endswith((".pcap", ".pcapng", ".txt", ".gz")) and f != "README.txt":
                    inputs.append(os.path.join(root, f))
    local = len(inputs)
    manifest = os.path.join(corpora, "manifest.tsv")
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            rows = [r.rstrip("\n").split("\t") for r in f][1:]
        for r in rows:
            if len(r) >= 12 and CORPUS_CATEGORIES.search(r[11]):
                p = os.path.join(corpora, r[0])
                if os.path.exists(p):
                    inputs.append(p)
    else:
        print("note: %s absent: corpora skipped" % manifest)

    seen, events = set(), 0
    for p in inputs:
        events += check_stream(fields, dyn, run([nettriage, "report", "--format", "ndjson", p]),
                               p, seen)
    # --redact rewrites the lines' text (pseudonyms for clients): still every ip field an IP.
    for p in inputs[:local]:
        events += check_stream(fields, dyn,
                               run([nettriage, "report", "--format", "ndjson", "--redact", p]),
                               "redact " + p, seen)
    for p in inputs[:local]:
        if p.endswith((".pcap", ".pcapng")):
            events += check_stream(fields, dyn,
                                   run([nettriage, "watch", "--format", "ndjson", p]),
                                   "watch " + p, seen)
    # The check above must have had something to check: the datasets of both commands.
    for must in ("related.ip", "dns.question.name", "icmp.response.type", "nettriage.incident",
                 "nettriage.watch.failures", "nettriage.summary.dns_lookups", "rule.id"):
        if must not in seen:
            fail("no event carried %s: the inputs no longer cover it" % must)
    print("ok: %d events from %d inputs (%d from the corpora); %d of %d mapped fields seen" %
          (events, len(inputs), len(inputs) - local, len(seen - {"(dynamic)"}), len(fields)))


if __name__ == "__main__":
    main()
