# nettriage: the two quick-start commands (make run, make test) and the other entry points.
# The real build is CMake; this file only drives it.
BUILD ?= build
# The bench measures, and install installs, a Release build of its own (-O3, link-time and
# profile-guided optimisation: CMakeLists.txt, scripts/pgo-build; PGO=0 leaves out the profile).
BENCH_BUILD ?= $(BUILD)-release
PREFIX ?= /usr/local
CMAKE_FLAGS ?=
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
EXAMPLE ?= examples/port-unreachable.pcap

.PHONY: all build run test deps deps-build release install bench fuzz clean format

all: build

# Installs what is missing when we may (root, or NT_INSTALL_DEPS=1 with sudo), otherwise
# scripts/install-deps prints the exact command and the build stops there. `make run` needs only
# the build's packages; `make test` also the tests' (tcpdump, servers, firewalls), whose
# services install-deps never leaves enabled.
deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

deps-build:
	@scripts/install-deps --build --check >/dev/null 2>&1 || scripts/install-deps --build

# Configures once; configures again whenever CMAKE_FLAGS is given, so that flags such as
# CMAKE_FLAGS=-DNT_WERROR=ON reach an existing build directory too.
$(BUILD)/CMakeCache.txt: $(if $(strip $(CMAKE_FLAGS)),FORCE)
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

FORCE:

build: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The quick start's first command shows the report, not the build: the build's output goes to
# $(BUILD)/build.log, whose end is printed if the build fails.
run: deps-build
	@mkdir -p $(BUILD); \
	  echo "nettriage: building in $(BUILD)/ (log: $(BUILD)/build.log)" >&2; \
	  { { [ -f $(BUILD)/CMakeCache.txt ] && [ -z "$(strip $(CMAKE_FLAGS))" ] || \
	      cmake -S . -B $(BUILD) $(CMAKE_FLAGS); } && \
	    cmake --build $(BUILD) -j $(JOBS); } > $(BUILD)/build.log 2>&1 || \
	  { tail -n 30 $(BUILD)/build.log >&2; \
	    echo "nettriage: the build failed; the whole log is $(BUILD)/build.log" >&2; exit 2; }
	@$(BUILD)/nettriage report --reported "customers reported 'destination port unreachable' when loading www.yummyrecipesforme.com" $(EXAMPLE); \
	  status=$$?; [ $$status -le 1 ] || exit $$status

# Every test, the network scenarios last and by themselves (two at a time, as measured: see
# tests/CMakeLists.shell.cmake); the status fails when either part does.
test: deps build
	cd $(BUILD) && { ctest --output-on-failure -j $(JOBS) -LE scenario; first=$$?; \
	  ctest --output-on-failure -j 2 -L scenario; second=$$?; \
	  [ $$first -eq 0 ] && [ $$second -eq 0 ]; }

# The release build (scripts/pgo-build, about 2 minutes on two cores), made again only when a
# source is newer than it: `make release` as yourself, then `sudo make install` only installs.
NT_RELEASE_INPUTS := $(shell find src -type f) CMakeLists.txt bench/gen-capture.c scripts/pgo-build
release: $(BENCH_BUILD)/nettriage

$(BENCH_BUILD)/nettriage: $(NT_RELEASE_INPUTS) | deps-build
	scripts/pgo-build $(BENCH_BUILD) $(CMAKE_FLAGS)

install: release
	cmake --install $(BENCH_BUILD) --prefix $(PREFIX)

# The bench always builds afresh (CMAKE_FLAGS and PGO=0 then apply).
bench: deps-build
	scripts/pgo-build $(BENCH_BUILD) $(CMAKE_FLAGS)
	bench/run $(BENCH_BUILD)/nettriage

fuzz:
	tests/fuzz/run-fuzzers

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

clean:
	rm -rf $(BUILD) $(BENCH_BUILD)
