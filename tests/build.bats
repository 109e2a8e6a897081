#!/usr/bin/env bats
# The Makefile: `make` only builds, says what is missing, rebuilds what a
# change of flags or header touches; -Werror only with DEVELOPER=1.
# Each test builds single objects in a copy of the tree.

load helper

setup() {
	# make as a user runs it, not as the make that runs these tests
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES DEVELOPER SANITIZE \
		CC CFLAGS CPPFLAGS LDFLAGS LDLIBS
	SRC="$BATS_TEST_TMPDIR/src"
	mkdir -p "$SRC"
	cp -r "$ROOT"/Makefile "$ROOT"/lib "$ROOT"/tools "$ROOT"/scripts \
		"$ROOT"/man "$SRC"/
	# sources older than anything built, whatever the file system's clock
	find "$SRC" -exec touch -d '1 hour ago' {} +
	OBJ=build/default/lib/buf.o
}

# The objects a make run compiled, by file name.
compiled() {
	printf '%s\n' "$output" | sed -n 's/.* -c -o [^ ]*\/\([^ /]*\.o\) .*/\1/p' |
		sort | tr '\n' ' '
}

@test "make, make all and make install do not install packages; check and demo do" {
	cd "$SRC"
	local goal
	for goal in all install; do
		run make -n "$goal" DESTDIR="$BATS_TEST_TMPDIR/dest"
		assert_success
		refute_output --partial install-deps
	done
	run make -n
	refute_output --partial install-deps
	for goal in check demo; do
		run make -n "$goal"
		assert_success
		assert_output --partial scripts/install-deps
	done
}

@test "make names a missing library instead of failing in the compiler" {
	cd "$SRC"
	mkdir fake
	echo '#error not installed' >fake/jq.h
	run --separate-stderr make "$OBJ" CPPFLAGS=-Ifake
	assert_failure
	assert_equal "$output" ""
	[[ $stderr == *"missing:"*"libjq (header jq.h)"* ]]
	[[ $stderr != *curl* ]]
	[[ $stderr == *scripts/install-deps* ]]
	assert_file_not_exists "$OBJ"
	run make "$OBJ" CC=no-such-cc
	assert_failure
	assert_output --partial "no C compiler: no-such-cc"
}

@test "a change of CFLAGS or CC rebuilds; an included header rebuilds its includers only" {
	cd "$SRC"
	run make "$OBJ" build/default/lib/json.o
	assert_success
	assert_equal "$(compiled)" "buf.o json.o "
	run make "$OBJ" build/default/lib/json.o
	assert_success
	assert_equal "$(compiled)" ""
	run make "$OBJ" build/default/lib/json.o CFLAGS=-O1
	assert_equal "$(compiled)" "buf.o json.o "
	run make "$OBJ" build/default/lib/json.o CFLAGS=-O1 CC=gcc
	assert_equal "$(compiled)" "buf.o json.o "
	# buf.c includes buf.h, json.c includes json.h and not buf.c's
	touch -d '1 minute ago' build/default/flags build/default/build-deps \
		build/default/lib/*.o
	touch lib/json.h
	run make "$OBJ" build/default/lib/json.o CFLAGS=-O1 CC=gcc
	assert_equal "$(compiled)" "json.o "
}

@test "warnings are errors with DEVELOPER=1 only" {
	cd "$SRC"
	printf 'int imgp_warned(void);\nint\nimgp_warned(void)\n{\n\tint unused;\n\treturn 0;\n}\n' \
		>lib/warned.c
	run make build/default/lib/warned.o
	assert_success
	assert_output --partial unused
	rm build/default/lib/warned.o
	run make DEVELOPER=1 build/default/lib/warned.o
	assert_failure
	assert_output --partial Werror
}

@test "the code keeps the include rule of doc/design.md §8; a break is named" {
	run "$ROOT"/scripts/check-includes
	assert_success
	assert_output ""
	cp -r "$ROOT"/doc "$SRC"/
	cd "$SRC"
	echo '#include "store.h"' >>lib/reqcache.c
	echo '#include "gen.h"' >>lib/filter.h
	: >lib/unmapped.c
	run scripts/check-includes
	assert_failure
	assert_line "lib/reqcache.c: reqcache includes store.h of another stage (store)"
	assert_line "lib/filter.h: filter (loop) includes gen.h of the higher layer stage"
	assert_line "lib/unmapped.c: module unmapped is not in the map of doc/design.md §8"
}
