#!/usr/bin/env bats
# imgp-store --delete-session, --prune, --gc and --report: sessions that
# end, space that comes back, what a session cost; beside live writers and
# against hostile names and links.

load helper

setup() {
	STORE="$BATS_TEST_TMPDIR/store"
	T="$BATS_TEST_TMPDIR"
}

images() {
	python3 "$ROOT/tests/images.py" "$@"
}

# put SESSION SALT N [imgp-store options] — store N images of SALT.
put() {
	images png 8 8 -n "$3" -s "$1" --salt "$2" |
		imgp-store -s "$STORE" "${@:4}" >"$T/put.out"
}

# Make every file of the store look two days old.
age_store() {
	find "$STORE" -type f -exec touch -d '2 days ago' {} +
}

objects() {
	find "$STORE" -path "$STORE/sessions" -prune -o -path "$STORE/requests" -prune \
		-o -type f -name '*.png' -print | wc -l
}

@test "--delete-session: the journal and its named images go, images another session references stay" {
	put a x 3 -N '{session}/{turn}.{ext}'
	put b y 2 -N 'shared/{turn}.{ext}'
	put a y 2 -N 'shared/{turn}.{ext}'
	put a z 1
	run imgp-store -s "$STORE" --delete-session a --dry-run
	assert_success
	assert_line "sessions/a.ndjson"
	assert_line "a/0.png"
	refute_line --partial "shared/"
	assert_line --regexp "^$STORE: 4 files would be removed \([0-9]+ bytes\)$"
	assert_file_exists "$STORE/sessions/a.ndjson"
	assert_file_exists "$STORE/a/0.png"
	run imgp-store -s "$STORE" --delete-session a
	assert_success
	assert_line --regexp "^$STORE: 4 files removed \([0-9]+ bytes\)$"
	assert_file_not_exists "$STORE/sessions/a.ndjson"
	assert_file_not_exists "$STORE/a/0.png"
	assert_file_exists "$STORE/shared/0.png"
	assert_file_exists "$STORE/shared/1.png"
	# content-addressed objects are --gc's
	assert_equal "$(find "$STORE" -path '*/??/*.png' | wc -l)" 1
	run imgp-store -s "$STORE" --check
	assert_success
}

@test "--delete-session: the session's spend ledger goes with it, one alone too; --check reads ledgers" {
	mock_start
	for s in a b; do
		jq -cn --arg s "$s" '{session:$s,turn:0,request:{prompt:"p"}}' |
			IMGP_API_KEY=sk-test imgp-gen --base-url "$MOCK_URL" -s "$STORE" --session-budget 1 >"$T/$s.ndjson"
	done
	mock_stop
	imgp-store -s "$STORE" <"$T/a.ndjson" >/dev/null
	run imgp-store -s "$STORE" --check
	assert_success
	assert_output --regexp ": 1 objects, 1 journal lines in 1 sessions, 0 temporary files removed, 0 problems$"
	echo '{"request_key":"x","cost":-1}' >>"$STORE/sessions/b.spent"
	run imgp-store -s "$STORE" --check
	assert_failure 1
	assert_line "sessions/b.spent: line 2 has no request_key"
	run imgp-store -s "$STORE" --delete-session a
	assert_success
	assert_line "sessions/a.ndjson"
	assert_line "sessions/a.spent"
	# b was paid for, never stored: its ledger is the session
	run imgp-store -s "$STORE" --delete-session b
	assert_success
	assert_line "sessions/b.spent"
	assert_equal "$(ls "$STORE/sessions")" ""
}

@test "--delete-session: an unknown session is exit 1; names that are not sessions are exit 2" {
	put a x 1
	run imgp-store -s "$STORE" --delete-session nope
	assert_failure 1
	assert_output --partial "no session nope in $STORE"
	for bad in ../a '' a/b . .. "$(printf 'a\nb')"; do
		run imgp-store -s "$STORE" --delete-session "$bad"
		assert_failure 2
	done
	assert_file_exists "$STORE/sessions/a.ndjson"
	run imgp-store -s "$T/none" --delete-session a
	assert_failure 2
	run imgp-store -s "$STORE" --delete-session a --repair
	assert_failure 2
	run imgp-store -s "$STORE" --delete-session a --gc
	assert_failure 2
	run imgp-store -s "$STORE" --delete-session a some-file
	assert_failure 2
}

@test "links in the store are never followed nor removed: journal, named image, object directory" {
	mkdir -p "$T/outside/ab" "$T/victim"
	put a x 1
	echo keep >"$T/victim/j.ndjson"
	ln -s "$T/victim/j.ndjson" "$STORE/sessions/evil.ndjson"
	run imgp-store -s "$STORE" --delete-session evil
	assert_failure 1
	assert_file_exists "$T/victim/j.ndjson"
	assert [ -L "$STORE/sessions/evil.ndjson" ]
	rm "$STORE/sessions/evil.ndjson"
	# a journal whose named image lies behind a link to a directory
	echo precious >"$T/victim/0.png"
	ln -s "$T/victim" "$STORE/link"
	printf '{"turn":0,"sha256":"%064d","path":"link/0.png"}\n' 0 >>"$STORE/sessions/a.ndjson"
	printf '{"turn":1,"sha256":"%064d","path":"../victim/0.png"}\n' 0 >>"$STORE/sessions/a.ndjson"
	run imgp-store -s "$STORE" --delete-session a
	assert_file_exists "$T/victim/0.png"
	# an object directory that is a link, an object that is a link
	local sha; sha=$(printf 'x' | sha256sum | cut -c1-64)
	cp "$T/victim/0.png" "$T/outside/ab/ab${sha:2}.png"
	ln -s "$T/outside/ab" "$STORE/ab"
	mkdir -p "$STORE/cd"
	ln -s "$T/victim/0.png" "$STORE/cd/cd${sha:2}.png"
	find "$T/outside" -type f -exec touch -d '2 days ago' {} +
	run imgp-store -s "$STORE" --gc
	assert_success
	assert_file_exists "$T/outside/ab/ab${sha:2}.png"
	assert_file_exists "$T/victim/0.png"
	assert [ -L "$STORE/cd/cd${sha:2}.png" ]
}

@test "--gc removes nothing while a journal is a link or not a regular file: its references are unknown" {
	put a x 2
	cp "$STORE/sessions/a.ndjson" "$T/elsewhere.ndjson"
	imgp-store -s "$STORE" --delete-session a >/dev/null
	ln -s "$T/elsewhere.ndjson" "$STORE/sessions/linked.ndjson"
	age_store
	run --separate-stderr imgp-store -s "$STORE" --gc
	assert_failure 1
	assert_regex "$stderr" "1 journals are links or not regular files"
	assert_equal "$(objects)" 2
	rm "$STORE/sessions/linked.ndjson"
	mkdir "$STORE/sessions/dir.ndjson"
	run --separate-stderr imgp-store -s "$STORE" --gc
	assert_failure 1
	assert_equal "$(objects)" 2
	rmdir "$STORE/sessions/dir.ndjson"
	run imgp-store -s "$STORE" --gc
	assert_success
	assert_equal "$(objects)" 0
}

@test "--prune --older-than: sessions whose last line is older go, the others stay" {
	put old x 2
	put new y 2
	put mixed z 1
	sed -i 's/"stored_at":"[^"]*"/"stored_at":"2020-01-01T00:00:00Z"/' \
		"$STORE/sessions/old.ndjson" "$STORE/sessions/mixed.ndjson"
	put mixed w 1 	# its last line is new
	run imgp-store -s "$STORE" --prune --older-than 30d --dry-run
	assert_success
	assert_line "sessions/old.ndjson"
	refute_line "sessions/new.ndjson"
	refute_line "sessions/mixed.ndjson"
	assert_file_exists "$STORE/sessions/old.ndjson"
	run imgp-store -s "$STORE" --prune --older-than 30d
	assert_success
	assert_file_not_exists "$STORE/sessions/old.ndjson"
	assert_file_exists "$STORE/sessions/new.ndjson"
	assert_file_exists "$STORE/sessions/mixed.ndjson"
	run imgp-store -s "$STORE" --prune
	assert_failure 2
	run imgp-store -s "$STORE" --prune --older-than 0
	assert_failure 2
	run imgp-store -s "$STORE" --gc --older-than 1d
	assert_failure 2
}

@test "--gc: unreferenced objects past the grace period go; young or referenced ones, and objects a deleted and a live session share, stay" {
	put live x 3
	put dead x 3	# the same three images
	put dead y 2	# only dead's
	imgp-store -s "$STORE" --delete-session dead >/dev/null
	run imgp-store -s "$STORE" --gc --dry-run
	assert_success
	assert_line "$STORE: 0 files would be removed (0 bytes)"
	age_store
	run imgp-store -s "$STORE" --gc --dry-run
	assert_line --regexp "^$STORE: 2 files would be removed"
	assert_equal "$(objects)" 5
	run imgp-store -s "$STORE" --gc
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(objects)" 3
	run imgp-store -s "$STORE" --check
	assert_success
	assert_line --index 0 "$STORE: 3 objects, 3 journal lines in 1 sessions, 0 temporary files removed, 0 problems"
	# the grace period: a day by default, --grace to choose
	put gone v 1
	imgp-store -s "$STORE" --delete-session gone >/dev/null
	find "$STORE" -type f -newer "$STORE/sessions/live.ndjson" -exec touch -d '2 hours ago' {} +
	run imgp-store -s "$STORE" --gc
	assert_line "$STORE: 0 files removed (0 bytes)"
	run imgp-store -s "$STORE" --gc --grace 1h
	assert_line --regexp "^$STORE: 1 file removed"
	run imgp-store -s "$STORE" --gc --grace never
	assert_failure 2
}

@test "--gc: a store object that is already there is touched when stored again, so a late journal line keeps it" {
	put a x 1
	imgp-store -s "$STORE" --delete-session a >/dev/null
	age_store
	put b x 1	# the same image: the object is fresh again
	run imgp-store -s "$STORE" --gc --grace 1h
	assert_line "$STORE: 0 files removed (0 bytes)"
	run imgp-store -s "$STORE" --check
	assert_success
}

@test "--gc: request files go with their unreferenced images, stay with referenced ones" {
	local req='{"session":"a","turn":0,"request":{"prompt":"a lighthouse","seed":1}}'
	printf '%s\n' "$req" | imgp-gen --api local --cache -s "$STORE" >"$T/gen.out"
	printf '%s\n' "$req" | sed 's/lighthouse/harbor/' |
		imgp-gen --api local --cache -s "$STORE" >>"$T/gen.out"
	head -1 "$T/gen.out" | imgp-store -s "$STORE" >/dev/null
	assert_equal "$(find "$STORE/requests" -name '*.json' | wc -l)" 2
	age_store
	run imgp-store -s "$STORE" --gc
	assert_success
	assert_equal "$(find "$STORE/requests" -name '*.json' | wc -l)" 1
	assert_equal "$(objects)" 1
	# the kept entry is still a hit
	printf '%s\n' "$req" | imgp-gen --api local --cache -s "$STORE" | jq -e '.image.cached'
	run imgp-store -s "$STORE" --check
	assert_success
}

@test "a writer waiting for a journal's lock when the journal is removed starts a new journal: its line is not lost" {
	put a x 1
	mkfifo "$T/held"
	flock "$STORE/sessions/a.ndjson" sh -c "echo locked; read _ <'$T/held'" >"$T/lock.out" &
	local holder=$!
	until [ -s "$T/lock.out" ]; do sleep 0.05; done
	images png 8 8 -n 1 -s a -t 5 --salt q >"$T/late"
	imgp-store -s "$STORE" "$T/late" >"$T/w.out" &
	local writer=$!
	# the writer has the journal open and waits for its lock: then the
	# journal is removed under it
	until ls -l "/proc/$writer/fd" 2>/dev/null | grep -q 'sessions/a.ndjson$'; do
		kill -0 "$writer" 2>/dev/null || fail "the writer did not wait"
		sleep 0.05
	done
	rm "$STORE/sessions/a.ndjson"
	echo >"$T/held"
	wait "$holder"
	wait "$writer"
	assert_equal "$(wc -l <"$STORE/sessions/a.ndjson")" 1
	assert_equal "$(jq .turn "$STORE/sessions/a.ndjson")" 5
}

@test "--report: frames, images, cost, unpriced, paid, fallbacks and failures per session, as JSON lines" {
	put a x 3
	put b y 1
	images png 8 8 -n 1 -s a -t 1 --salt r | imgp-store -s "$STORE" >/dev/null
	# costs and fallbacks as imgp-gen writes them
	images png 8 8 -n 3 -s c --salt c |
		jq -c '.image.usage = {cost: 0.25} | if .turn == 1 then .image.fallback = "relaxed"
			elif .turn == 2 then .image.fallback = "placeholder" | .image.usage = null else . end' |
		imgp-store -s "$STORE" >/dev/null
	run imgp-store -s "$STORE" --report
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(line_jq 1 '[.session, .frames, .images, .cost, .unpriced, .fallbacks, .failures] | @csv')" '"a",3,4,0,4,0,0'
	assert_equal "$(line_jq 3 '[.session, .frames, .images, .cost, .unpriced, .fallbacks, .failures] | @csv')" '"c",3,3,0.5,1,2,1'
	line_jq 3 '.first, .last' | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'
	# paid: what imgp-gen recorded paying (two answers of 0.039), not
	# what the records said they cost
	mock_start
	for i in 1 2; do
		jq -cn --argjson t "$((10 + i))" '{session:"c",turn:$t,request:{prompt:"p \($t)"}}'
	done | IMGP_API_KEY=sk-test imgp-gen --base-url "$MOCK_URL" -s "$STORE" >/dev/null
	mock_stop
	run imgp-store -s "$STORE" --report c
	assert_success
	assert_equal "$(line_jq 1 '[.cost, .paid] | @csv')" '0.5,0.078'
	run imgp-store -s "$STORE" --report a
	assert_equal "$(line_jq 1 .paid)" 0
	run imgp-store -s "$STORE" --report b
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(line_jq 1 .session)" b
	run imgp-store -s "$STORE" --report nope
	assert_failure 1
	run imgp-store -s "$STORE" --report ../x
	assert_failure 2
	run imgp-store -s "$STORE" --report a b
	assert_failure 2
}

@test "stress: --gc and --delete-session in a loop while 8 writers store into shared sessions: no referenced object lost, --check clean" {
	local writers=${IMGP_STORE_WRITERS:-8} n=${IMGP_STORE_RECORDS:-30} p rounds=0 k
	for k in 0 1 2 3; do
		images png 8 8 -n $((2 * n)) --salt "s$k" --pad 2000 >"$T/salt$k"
	done
	for p in $(seq "$writers"); do
		# live sessions share their images with each other and with
		# the victim session; the victim also has images of its own
		{
			head -n "$n" "$T/salt$((p % 4))" | sed "s/\"session\":\"s\"/\"session\":\"live$((p % 2))\"/"
			sed 's/"session":"s"/"session":"victim"/' "$T/salt$((p % 4))"
			images png 8 8 -n "$n" -s victim --salt "v$p" --pad 2000
			tail -n "$n" "$T/salt$(((p + 1) % 4))" | sed "s/\"session\":\"s\"/\"session\":\"live$((p % 2))\"/"
		} >"$T/in$p"
	done
	# every object is in the store already, old and unreferenced: --gc
	# races each writer that stores it again
	cat "$T"/in* | sed 's/"session":"[^"]*"/"session":"seed"/' |
		imgp-store -s "$STORE" --no-fsync >/dev/null
	imgp-store -s "$STORE" --delete-session seed >/dev/null
	age_store
	(
		for p in $(seq "$writers"); do
			imgp-store -s "$STORE" --no-fsync "$T/in$p" >"$T/out$p" &
		done
		wait
		touch "$T/done"
	) &
	while :; do
		imgp-store -s "$STORE" --gc --grace 1h >>"$T/gc.out" || fail "--gc failed"
		imgp-store -s "$STORE" --delete-session victim >/dev/null 2>&1 || true
		rounds=$((rounds + 1))
		[ -e "$T/done" ] && break
	done
	wait
	echo "# $rounds rounds of --gc removed $(grep -c '^..[/]' "$T/gc.out") objects" >&3
	assert_equal "$(cat "$T"/out* | jq -r 'select(.error)' | wc -l)" 0
	run imgp-store -s "$STORE" --check
	assert_success
	# then the victim goes for good and everything is old: what the live
	# sessions reference survives, the victim's own images do not
	imgp-store -s "$STORE" --delete-session victim >/dev/null 2>&1 || true
	age_store
	imgp-store -s "$STORE" --gc >/dev/null
	run imgp-store -s "$STORE" --check
	assert_success
	assert_equal "$(objects)" "$(cat "$STORE"/sessions/*.ndjson | jq -r .sha256 | sort -u | wc -l)"
	[ "$writers" -lt 4 ] || assert_equal "$(objects)" "$((8 * n))"
}
