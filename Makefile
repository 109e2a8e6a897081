# imgp — plain make.  `make`, `make check`, `make demo`, `make bench`,
# `make reliability`, `make install PREFIX=/usr/local`, `make SANITIZE=1 check`,
# `make DEVELOPER=1` (warnings are errors, as in CI).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/imgp

# Settings of your own (DEVELOPER=1, CC=clang, …) may go in config.mk.
-include config.mk

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
# Warnings are errors for developers and CI (.ci/run, the tests), not for
# someone building a release with a newer compiler.
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
# CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS stay the user's to set.
ALL_CPPFLAGS = -D_GNU_SOURCE -Ilib \
	$(shell pkg-config --cflags libcurl 2>/dev/null) $(CPPFLAGS)
# libjq 1.6 on Debian ships no pkg-config file.
# libcurl is not linked: lib/curlx.c loads it (dlopen) when a tool first
# needs it, for it brings some 25 more libraries (GnuTLS, LDAP, Kerberos,
# SSH…) whose loading costs a one-shot imgp-enrich or imgp-store several
# milliseconds a turn (bench/pipeline.sh), and only a store on S3 needs it.
ALL_LDLIBS = $(LDLIBS) -ljq -lonig -lcrypto -lz -lm
# Each tool loads only the libraries it calls.
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS)
# Every object records the headers it includes (build/*/**/*.d).
DEPFLAGS = -MMD -MP

ifeq ($(SANITIZE),1)
# gcc leaves float-cast-overflow out of "undefined" (clang has it).
CFLAGS = -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined,float-cast-overflow \
	-fno-sanitize-recover=undefined,float-cast-overflow
ALL_LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
BUILD = build/sanitize
else
BUILD = build/default
endif

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
TOOLS = $(patsubst tools/%.c,%,$(sort $(wildcard tools/*.c)))
TOOL_OBJ = $(TOOLS:%=$(BUILD)/tools/%.o)
BINS = $(TOOLS:%=$(BUILD)/bin/%)

# `make`, `make all` and `make install` only build (and install).  The
# goals that run what they build — check, demo, bench, reliability, fuzz —
# first install what is missing with scripts/install-deps, so that on a
# fresh Debian 12 `make demo` and `make check` are all it takes.
SETUP_GOALS = check demo demo-live bench reliability fuzz
ifneq ($(filter $(SETUP_GOALS),$(MAKECMDGOALS)),)
SETUP = deps
endif

all: $(BINS) bin

deps:
	@scripts/install-deps

# bin/ points at the build of the last `make`, plain or sanitized.
bin: $(BINS)
	@rm -rf bin && ln -s $(BUILD)/bin bin

# A change of compiler or flags rebuilds everything: <build>/flags is
# rewritten only when they differ from the last build's.
BUILD_FLAGS = $(CC) $(ALL_CPPFLAGS) $(WARN) $(CFLAGS) $(ALL_LDFLAGS) \
	$(ALL_LDLIBS)
define write-flags
@mkdir -p $(@D)
@printf '%s\n' '$(1)' | cmp -s - $@ || printf '%s\n' '$(1)' >$@
endef
$(BUILD)/flags: FORCE
	$(call write-flags,$(BUILD_FLAGS))

# The headers of the libraries we compile against, checked once per
# compiler and flags so that a missing one is named, not a compiler error.
$(BUILD)/build-deps: $(BUILD)/flags | $(SETUP)
	@CC='$(CC)' CPPFLAGS='$(ALL_CPPFLAGS)' CFLAGS='$(CFLAGS)' \
		LDFLAGS='$(ALL_LDFLAGS)' scripts/check-build-deps
	@touch $@

COMPILE = $(CC) $(ALL_CPPFLAGS) $(WARN) $(CFLAGS) $(DEPFLAGS)
$(BUILD)/lib/%.o: lib/%.c $(BUILD)/flags $(BUILD)/build-deps
	@mkdir -p $(@D)
	$(COMPILE) -c -o $@ $<

$(BUILD)/tools/%.o: tools/%.c $(BUILD)/flags $(BUILD)/build-deps
	@mkdir -p $(@D)
	$(COMPILE) -c -o $@ $<

$(BUILD)/libimgp.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(BUILD)/libimgp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libimgp.a \
		$(ALL_LDLIBS)

-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d)
# Keep the objects of tools between runs.
.SECONDARY: $(TOOL_OBJ)

check: $(SETUP) all
	@tests/run

demo: $(SETUP) all
	@scripts/demo

# The promises of doc/design.md §1-§2 at full size (`make check` runs the
# same stress: tests short): KILLS rounds of kill -9 during imgp-store (and
# BIG_KILLS with 4 MB journal lines), a --check --repair loop beside 8
# stores of 1,500 records each, 8 stores and 4 pipelines writing one
# store, --gc in a loop beside 8 writers, a 100 MB line through every stage;
# the fault matrix and valgrind; then every fuzz harness for
# RELIABILITY_FUZZ_SECONDS.  The ASan/UBSan suite is `make SANITIZE=1 check`.
KILLS ?= 500
BIG_KILLS ?= 200
RELIABILITY_FUZZ_SECONDS ?= 60
reliability: $(SETUP) all
	@IMGP_KILLS=$(KILLS) IMGP_BIG_KILLS=$(BIG_KILLS) \
		IMGP_STORE_WRITERS=8 IMGP_STORE_RECORDS=500 \
		IMGP_REPAIR_RECORDS=1500 \
		IMGP_PIPELINE_ROUNDS=20 IMGP_BIG_LINE_MB=100 \
		IMGP_TEST_FILTER='^stress: ' \
		tests/run tests/store.bats tests/storegc.bats tests/pipeline.bats \
		tests/stream.bats
	@tests/run tests/faults.bats tests/valgrind.bats
	@$(MAKE) -s fuzz FUZZ_SECONDS=$(RELIABILITY_FUZZ_SECONDS)

bench: $(SETUP) all
	@bench/run

# Tools, man pages, and under $(SHAREDIR) the examples and the nginx
# configurations; uninstall also removes the directories install made.
INSTALL_ENV = DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' MANDIR='$(MANDIR)' \
	SHAREDIR='$(SHAREDIR)' BUILD='$(BUILD)'
install: $(BINS)
	@$(INSTALL_ENV) scripts/install install $(TOOLS)

uninstall:
	@$(INSTALL_ENV) scripts/install uninstall $(TOOLS)

# The include rule of doc/design.md §8 (tests/build.bats runs it too).
check-includes:
	@scripts/check-includes

clean:
	rm -rf build bin demo

.PHONY: all deps bin check check-includes demo reliability bench install \
	uninstall clean FORCE

# libFuzzer harnesses (clang): `make fuzz FUZZ_SECONDS=60` runs each for
# that long on its seed corpus in fuzz/corpus/<name>/; new inputs go to
# fuzz/out/<name>/, crashes to fuzz/out/crash-<name>-*.  Undefined
# behaviour is a crash too: UBSan would otherwise report it and go on.
FUZZ_SECONDS ?= 10
FUZZ_SRC = $(sort $(wildcard fuzz/*.c))
FUZZ_BINS = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJ = $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)
FUZZ_CFLAGS = $(ALL_CPPFLAGS) $(WARN) $(FUZZ_FLAGS) $(DEPFLAGS)

build/fuzz/flags: FORCE
	$(call write-flags,$(FUZZ_CFLAGS) $(ALL_LDLIBS))

build/fuzz/build-deps: build/fuzz/flags | $(SETUP)
	@CC=clang CPPFLAGS='$(ALL_CPPFLAGS)' scripts/check-build-deps
	@touch $@

build/fuzz/lib/%.o: lib/%.c build/fuzz/flags build/fuzz/build-deps
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/%: fuzz/%.c $(FUZZ_LIB_OBJ) build/fuzz/flags
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) \
		$(ALL_LDLIBS)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BINS:=.d)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		n=$${f##*/}; mkdir -p fuzz/out/$$n fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=fuzz/out/crash-$$n- -print_final_stats=1 \
			fuzz/out/$$n fuzz/corpus/$$n >fuzz/out/$$n.log 2>&1; \
		status=$$?; \
		grep -E '^(stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' fuzz/out/$$n.log; \
		[ $$status -eq 0 ] || exit 1; \
	done

.PHONY: fuzz
# Keep the fuzz objects between runs.
.SECONDARY: $(FUZZ_LIB_OBJ)

# The demo against a real provider: needs OPENROUTER_API_KEY (or
# IMGP_API_KEY); nothing else changes.
demo-live: $(SETUP) all
	@IMGP_DEMO_API=openrouter scripts/demo

.PHONY: demo-live
