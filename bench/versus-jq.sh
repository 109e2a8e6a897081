# Sourced by the benchmarks that race a stage against jq 1.6 doing the
# same work: versus_jq TOOL WORKLOAD MEMBER IMGP JQ runs the command lines
# IMGP and JQ on $out/in.ndjson (and IMGP on $out/in-small.ndjson, a tenth
# of it), checks that both made the same MEMBER, and prints the rows: the
# records/s ratio (target >= 3x) and the peak RSS (flat in the length).
versus_jq() {
	tool=$1 workload=$2 member=$3 imgp=$4 jq=$5
	n=$(wc -l <"$out/in.ndjson")
	set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/imgp.ndjson" -- sh -c "exec $imgp")
	imgp_s=$1 imgp_rss=$2
	set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/jq.ndjson" -- sh -c "exec $jq")
	jq_s=$1
	set -- $(python3 bench/measure.py -i "$out/in-small.ndjson" -- sh -c "exec $imgp")
	small_rss=$2

	# Same work: the member must be identical.
	jq -c ".$member" "$out/imgp.ndjson" >"$out/a"
	jq -c ".$member" "$out/jq.ndjson" >"$out/b"
	cmp -s "$out/a" "$out/b" || { echo "$tool: imgp and jq disagree" >&2; exit 1; }

	awk -v t="$tool" -v w="$workload" -v n="$n" -v i="$imgp_s" -v j="$jq_s" \
	    -v r="$imgp_rss" -v s="$small_rss" 'BEGIN {
		ratio = j / i
		printf "%s | %d records, %s | %.0f rec/s | jq 1.6: %.0f rec/s | %.1fx | >= 3x | %s\n",
			t, n, w, n / i, n / j, ratio, (ratio >= 3 ? "PASS" : "FAIL")
		printf "%s | peak RSS %d vs %d records | %d KiB | %d KiB | %.2fx | flat (<= 1.5x) | %s\n",
			t, n, n / 10, r, s, r / s, (r / s <= 1.5 ? "PASS" : "FAIL")
	}'
}
