# imgp — plain make.  `make`, `make check`, `make demo`, `make bench`,
# `make reliability`, `make install PREFIX=/usr/local`, `make SANITIZE=1 check`.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags libcurl 2>/dev/null)
# libjq 1.6 on Debian ships no pkg-config file.
LDLIBS += -ljq -lonig -lcurl -lcrypto -lz -lm
# Each tool loads only the libraries it calls: libcurl alone brings some
# 25 more (GnuTLS, LDAP, Kerberos, SSH…) whose loading costs a one-shot
# imgp-enrich or imgp-store several milliseconds a turn (bench/pipeline.sh).
LDFLAGS += -Wl,--as-needed

ifeq ($(SANITIZE),1)
# gcc leaves float-cast-overflow out of "undefined" (clang has it).
CFLAGS = -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined,float-cast-overflow \
	-fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
BUILD = build/sanitize
else
BUILD = build/default
endif

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
TOOLS = $(patsubst tools/%.c,%,$(sort $(wildcard tools/*.c)))
BINS = $(TOOLS:%=$(BUILD)/bin/%)
MAN = $(sort $(wildcard man/*.[1-9]))

all: deps $(BINS) bin

# `make` installs what is missing (scripts/install-deps is quiet and
# installs nothing when all is there).
deps:
	@scripts/install-deps

# bin/ points at the build of the last `make`, plain or sanitized.
bin: $(BINS)
	@rm -rf bin && ln -s $(BUILD)/bin bin

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c -o $@ $<

$(BUILD)/libimgp.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: tools/%.c $(BUILD)/libimgp.a $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BUILD)/libimgp.a $(LDLIBS)

check: all
	@tests/run

demo: all
	@scripts/demo

# The promises of DESIGN §1-§2 at full size (`make check` runs the same
# stress: tests short): KILLS rounds of kill -9 during imgp-store (and
# BIG_KILLS with 4 MB journal lines), a --check --repair loop beside 8
# stores of 1,500 records each, 8 stores
# and 4 pipelines writing one store, a 100 MB line through every stage;
# the fault matrix and valgrind; then every fuzz harness for
# RELIABILITY_FUZZ_SECONDS.  The ASan/UBSan suite is `make SANITIZE=1 check`.
KILLS ?= 500
BIG_KILLS ?= 200
RELIABILITY_FUZZ_SECONDS ?= 60
reliability: all
	@IMGP_KILLS=$(KILLS) IMGP_BIG_KILLS=$(BIG_KILLS) \
		IMGP_STORE_WRITERS=8 IMGP_STORE_RECORDS=500 \
		IMGP_REPAIR_RECORDS=1500 \
		IMGP_PIPELINE_ROUNDS=20 IMGP_BIG_LINE_MB=100 \
		IMGP_TEST_FILTER='^stress: ' \
		tests/run tests/store.bats tests/pipeline.bats tests/stream.bats
	@tests/run tests/faults.bats tests/valgrind.bats
	@$(MAKE) -s fuzz FUZZ_SECONDS=$(RELIABILITY_FUZZ_SECONDS)

bench: all
	@bench/run

install: deps $(BINS)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do install -m 755 $(BUILD)/bin/$$t $(DESTDIR)$(BINDIR)/; done
	for m in $(MAN); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MAN); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; done

clean:
	rm -rf build bin demo

.PHONY: all deps bin check demo reliability bench install uninstall clean

# libFuzzer harnesses (clang): `make fuzz FUZZ_SECONDS=60` runs each for
# that long on its seed corpus in fuzz/corpus/<name>/; new inputs go to
# fuzz/out/<name>/, crashes to fuzz/out/crash-<name>-*.
FUZZ_SECONDS ?= 10
FUZZ_SRC = $(sort $(wildcard fuzz/*.c))
FUZZ_BINS = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -DLARGE_VALUE=16
FUZZ_LIB_OBJ = $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)

build/fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h) | deps
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -c -o $@ $<

build/fuzz/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	clang $(CPPFLAGS) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		n=$${f##*/}; mkdir -p fuzz/out/$$n fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
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
demo-live: all
	@IMGP_DEMO_API=openrouter scripts/demo

.PHONY: demo-live
