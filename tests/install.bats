#!/usr/bin/env bats
# make install / uninstall with PREFIX and DESTDIR: tools, man pages, the
# examples and the nginx configurations; uninstall leaves nothing it made.

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

@test "make install puts the examples and both nginx configurations under share/imgp, where the man pages say" {
	local dest="$BATS_TEST_TMPDIR/dest" share f dep
	run make_imgp install DESTDIR="$dest" PREFIX=/opt/imgp
	assert_success
	share=$dest/opt/imgp/share/imgp
	for f in examples/judge.ndjson examples/lighthouse.json examples/node/server.js examples/node/package.json; do
		cmp "$ROOT/$f" "$share/$f"
	done
	cmp "$ROOT/contrib/nginx/imgp.conf" "$share/nginx/imgp.conf"
	cmp "$ROOT/contrib/nginx/imgp-plain.conf" "$share/nginx/imgp-plain.conf"
	assert_equal "$(stat -c %a "$share/nginx/imgp.conf")" 644
	# the man pages name the installed places
	grep -q 'share/imgp/examples' "$ROOT/man/imgp-enrich.1"
	grep -q 'share/imgp/nginx/imgp.conf' "$ROOT/man/imgp-url.1"
	grep -q 'share/imgp/nginx/imgp-plain.conf' "$ROOT/man/imgp-url.1"
	# the installed examples run with the installed tools
	run bash -c "'$dest/opt/imgp/bin/imgp-enrich' -p '$share/examples/lighthouse.json' '$share/examples/judge.ndjson' | wc -l"
	assert_output 10
	# the Node example's dependency resolves to the installed package
	dep=$(jq -r '.dependencies.imgp | sub("^file:"; "")' "$share/examples/node/package.json")
	for f in "$ROOT"/bindings/node/*.*; do
		cmp "$f" "$share/examples/node/$dep/${f##*/}"
	done
	run node -e 'const p = require(process.argv[1]); if (typeof p.Pipeline !== "function") process.exit(1)' \
		"$share/examples/node/$dep"
	assert_success
}

@test "make uninstall removes the directories install made and left empty, and only those" {
	local dest="$BATS_TEST_TMPDIR/dest"
	mkdir -p "$dest/opt/imgp/bin" "$dest/opt/imgp/share/man/man1"
	echo mine >"$dest/opt/imgp/share/man/man1/other.1"
	run make_imgp install DESTDIR="$dest" PREFIX=/opt/imgp
	assert_success
	run make_imgp install DESTDIR="$dest" PREFIX=/opt/imgp	# twice is fine
	assert_success
	run make_imgp uninstall DESTDIR="$dest" PREFIX=/opt/imgp
	assert_success
	# what was there before stays, empty or not; what install made goes
	assert_equal "$(cd "$dest" && find . | sort | tr '\n' ' ')" \
		". ./opt ./opt/imgp ./opt/imgp/bin ./opt/imgp/share ./opt/imgp/share/man ./opt/imgp/share/man/man1 ./opt/imgp/share/man/man1/other.1 "
	# from nothing, nothing is left
	rm -rf "$dest"
	make_imgp install DESTDIR="$dest" PREFIX=/opt/imgp
	make_imgp uninstall DESTDIR="$dest" PREFIX=/opt/imgp
	assert_equal "$(find "$dest" | wc -l)" 1
}
