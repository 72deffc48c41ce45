# Shell-driven tests, included by tests/CMakeLists.txt: scenarios (real traffic in network
# namespaces, root only), golden comparisons, bad inputs. Each script takes the nettriage
# binary as its first argument and exits 0 (pass), 1 (fail) or 77 (skip: not root, no
# namespaces, a tool missing; with CI=true in the environment the scripts fail instead).
find_program(NT_BASH bash REQUIRED)

# --- scenarios ------------------------------------------------------------------------
# Every tests/scenarios/<name>.sh except lib.sh is a scenario test "scenario.<name>"; a new
# scenario needs no edit here. Each gets at most 120 s. They make namespaces and run servers
# whose names are their own (lib.sh: the process id in every namespace and interface name),
# so two can run at once: they mostly wait (295 s of wall time one at a time, 142 s of CPU),
# and every one passed in three runs two at a time, one of them beside a busy core (145 to
# 149 s). `make test` runs them after every other test, so that their timing-bound checks
# never share the machine with the CPU-heavy conformance runs; flood.sh, whose burst must
# arrive within one second, still runs alone (RUN_SERIAL).
file(GLOB NT_SCENARIO_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/scenarios/*.sh)
list(REMOVE_ITEM NT_SCENARIO_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/scenarios/lib.sh)
foreach(script ${NT_SCENARIO_SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME scenario.${name} COMMAND ${NT_BASH} ${script} $<TARGET_FILE:nettriage>)
  set_tests_properties(scenario.${name} PROPERTIES LABELS scenario SKIP_RETURN_CODE 77
                       TIMEOUT 120)
endforeach()
if(TEST scenario.flood)
  set_tests_properties(scenario.flood PROPERTIES RUN_SERIAL TRUE)
endif()

# Scenarios that keep their captures (tests/captures/<name>/, written by `<script> --record`)
# are also run on those stored captures as "replay.<name>": the same checks, no root and no
# namespaces, so the rules are checked on real traffic on any machine.
# (The glob makes a new stored capture re-run the configure step.)
file(GLOB NT_STORED_CAPTURES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/captures/*/*.pcap)
foreach(script ${NT_SCENARIO_SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/captures/${name})
    add_test(NAME replay.${name}
             COMMAND ${NT_BASH} ${script} --replay $<TARGET_FILE:nettriage>)
    set_tests_properties(replay.${name} PROPERTIES LABELS golden SKIP_RETURN_CODE 77
                         TIMEOUT 300 ENVIRONMENT TZ=UTC)
  endif()
endforeach()

# The example capture script itself still works (writes into the build tree only).
add_test(NAME scenario.capture_example
         COMMAND ${NT_BASH} ${CMAKE_SOURCE_DIR}/scripts/capture-example
                 --out ${CMAKE_CURRENT_BINARY_DIR}/capture-example)
set_tests_properties(scenario.capture_example PROPERTIES LABELS scenario SKIP_RETURN_CODE 77
                     TIMEOUT 60 RUN_SERIAL TRUE)

# --- golden ----------------------------------------------------------------------------
# The tcpdump-text reader against the pcap reader, on the example and the shared samples.
add_test(NAME golden.text_vs_pcap
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/text_vs_pcap.sh
                 $<TARGET_FILE:nettriage>)
set_tests_properties(golden.text_vs_pcap PROPERTIES LABELS golden SKIP_RETURN_CODE 77
                     TIMEOUT 300 ENVIRONMENT TZ=UTC)

# Reports of tcpdump -nn text (no -v) state no fact the text lacked (TTL, DNS id from a quote,
# an answer's question, IP id, quoted lengths), on every test capture and example.
add_test(NAME golden.text_facts
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/text_facts.sh
                 $<TARGET_FILE:nettriage>)
set_tests_properties(golden.text_facts PROPERTIES LABELS golden SKIP_RETURN_CODE 77
                     TIMEOUT 300 ENVIRONMENT TZ=UTC)

# Claims the evidence must support and the report's shape on a busy input (issue 8), on small
# crafted text inputs.
add_test(NAME golden.claims
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/claims.sh $<TARGET_FILE:nettriage>)
set_tests_properties(golden.claims PROPERTIES LABELS golden TIMEOUT 300 ENVIRONMENT TZ=UTC)

# Expected reports (Markdown and JSON) of the examples and ../shared/samples, compared byte
# for byte; tests/golden/run.sh BIN --regenerate rewrites them.
add_test(NAME golden.reports
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/run.sh $<TARGET_FILE:nettriage>)
set_tests_properties(golden.reports PROPERTIES LABELS golden TIMEOUT 120 ENVIRONMENT TZ=UTC)

# Hostile strings (query names, a path and --reported with markup, ESC sequences, quotes, bytes
# above 0x7f) through every format: no control byte on a terminal, well-formed HTML with no
# script or external reference, JSON that parses (issue 10).
add_test(NAME golden.hostile
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/hostile.sh $<TARGET_FILE:nettriage>)
set_tests_properties(golden.hostile PROPERTIES LABELS golden SKIP_RETURN_CODE 77 TIMEOUT 120
                     ENVIRONMENT TZ=UTC)

# The HTML report in headless Chromium from disk, no network: the DOM has the findings and the
# timeline, no <script> element and no sign that a script from a query name ran; a screenshot
# of the window's size that is not blank; no console message (issue 10). Skips only where
# chromium is absent (scripts/install-deps installs it; with CI=true it fails instead).
add_test(NAME golden.browser
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/browser.sh $<TARGET_FILE:nettriage>)
set_tests_properties(golden.browser PROPERTIES LABELS golden SKIP_RETURN_CODE 77 TIMEOUT 300
                     ENVIRONMENT TZ=UTC)

# --redact on every golden input and test capture, in every format: no client address in any
# text form, one pseudonym per client across formats, nothing else changed (issue 10).
add_test(NAME golden.redact
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/redact.sh $<TARGET_FILE:nettriage>)
set_tests_properties(golden.redact PROPERTIES LABELS golden SKIP_RETURN_CODE 77 TIMEOUT 900
                     ENVIRONMENT TZ=UTC)

# The Elasticsearch/OpenSearch index template (docs/elasticsearch/) against the NDJSON of
# report and watch on the examples, the test captures and the corpora's DNS and ICMP captures
# (when present): every field mapped, every value of the mapped type (issue 10).
find_program(NT_PYTHON3 python3)
if(NT_PYTHON3)
  add_test(NAME golden.elastic_template
           COMMAND ${NT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/elastic_template.py
                   $<TARGET_FILE:nettriage> ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/../shared/corpora)
  set_tests_properties(golden.elastic_template PROPERTIES LABELS golden TIMEOUT 300
                       ENVIRONMENT TZ=UTC)
endif()

# The progress line of report reading files, on a pseudo-terminal (Python's pty module): the
# final line of each input with its packet count, erased before the report; nothing off a
# terminal, with --quiet, or between NDJSON lines on the terminal.
add_test(NAME golden.progress
         COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/golden/progress.sh $<TARGET_FILE:nettriage>)
set_tests_properties(golden.progress PROPERTIES LABELS golden SKIP_RETURN_CODE 77 TIMEOUT 180
                     ENVIRONMENT TZ=UTC)

# --- live path without an interface ---------------------------------------------------
# Options of a live capture, --read-live against the file path on every test capture, -w,
# Ctrl-C on a replay and on a pipe, one Ctrl-D on a terminal (tests/live.sh).
add_test(NAME live.cli COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/live.sh
                               $<TARGET_FILE:nettriage>)
set_tests_properties(live.cli PROPERTIES LABELS live SKIP_RETURN_CODE 77 TIMEOUT 300
                     ENVIRONMENT TZ=UTC)

# --- the command line ------------------------------------------------------------------
# Usage errors are one line each (status 2), -r/-n/-i/-w/-c as in tcpdump, `nettriage FILE`,
# --help per command, the man page's sections and groff's warnings (tests/cli.sh).
add_test(NAME cli COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:nettriage>)
set_tests_properties(cli PROPERTIES LABELS cli SKIP_RETURN_CODE 77 TIMEOUT 300)

# --- bad input -------------------------------------------------------------------------
add_test(NAME badinput COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/badinput.sh
                               $<TARGET_FILE:nettriage>)
set_tests_properties(badinput PROPERTIES LABELS badinput SKIP_RETURN_CODE 77 TIMEOUT 300)

# Every bound is an option and what it leaves out is counted (--bound, --bounds).
add_test(NAME bounds COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/bounds.sh
                             $<TARGET_FILE:nettriage>)
set_tests_properties(bounds PROPERTIES LABELS golden TIMEOUT 120)

# What one key of the engine's tables costs stays small: 65,536 scanning sources, a DNS scan of
# 262,144 resolvers and SYNs to 262,144 services, each under its peak RSS limit
# (tests/memory.sh says why; python3 writes the captures).
add_test(NAME memory.many_keys COMMAND ${NT_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/memory.sh
                                       $<TARGET_FILE:nettriage>)
set_tests_properties(memory.many_keys PROPERTIES LABELS golden SKIP_RETURN_CODE 77 TIMEOUT 180)

# --- lint ------------------------------------------------------------------------------
# The test scripts stay shellcheck-clean when shellcheck is installed (it is optional).
find_program(NT_SHELLCHECK shellcheck)
if(NT_SHELLCHECK)
  add_test(NAME lint.shellcheck
           COMMAND ${NT_SHELLCHECK} -x ${NT_SCENARIO_SCRIPTS}
                   ${CMAKE_CURRENT_SOURCE_DIR}/scenarios/lib.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/text_vs_pcap.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/text_facts.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/claims.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/hostile.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/browser.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/redact.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/golden/progress.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/badinput.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/bounds.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/memory.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/live.sh
                   ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh
                   ${CMAKE_SOURCE_DIR}/scripts/capture-example
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(lint.shellcheck PROPERTIES LABELS lint TIMEOUT 300)
endif()
