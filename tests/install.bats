#!/usr/bin/env bats
# make install / uninstall with PREFIX and DESTDIR, man pages included.

load helper

@test "make install puts every tool and man page under DESTDIR/PREFIX, uninstall removes them" {
	local dest="$BATS_TEST_TMPDIR/dest" t m
	run make_imgp install DESTDIR="$dest" PREFIX=/opt/imgp
	assert_success
	for t in "$ROOT"/tools/*.c; do
		t=${t##*/}
		assert_file_executable "$dest/opt/imgp/bin/${t%.c}"
		run "$dest/opt/imgp/bin/${t%.c}" -V
		assert_success
	done
	for m in "$ROOT"/man/*.[1-9]; do
		assert_file_exists "$dest/opt/imgp/share/man/man${m##*.}/${m##*/}"
	done
	run make_imgp uninstall DESTDIR="$dest" PREFIX=/opt/imgp
	assert_success
	assert_equal "$(find "$dest" -type f | wc -l)" 0
}
