# The enrichment of imgp-enrich (design.md §3) written in jq 1.6: the baseline
# of bench/enrich.sh.  Run as
#   jq -nc --slurpfile p bench/profile.json -f bench/enrich.jq
# on records that carry their seed and have no journal, it writes the same
# request, remembering the turns of each session read so far as imgp-enrich
# does.  jq cannot evaluate the profile's `when` strings, so the five
# directives of bench/profile.json are written out here, in the same order.
def ws: "[\t\n\u000b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+";
def compact($n): gsub(ws; " ") | sub("^ "; "") | sub(" $"; "") | .[0:$n];
def list($k; $n): map(compact(80) | select(. != "")) | .[0:$k] | join(", ") | .[0:$n];
def part($name; $xs; $k; $n): ($xs // []) | list($k; $n) | if . == "" then empty else "\($name)\(.)." end;
def holds(f): first(try f catch false) // false | . != false and . != null;
def directive($ds):
  if holds((.new_state.absurdity_index | numbers) >= 0.72) then $ds[0].text
  elif holds(.new_state.dominant_direction | strings | test("^\\s*carnival\\s*$"; "i")) then $ds[1].text
  elif holds(.new_state.dominant_direction | strings | test("^\\s*storm\\s*$"; "i")) then $ds[2].text
  elif holds((.new_state.tension | numbers) >= 0.5) then $ds[3].text
  else $ds[4].text end;

# enrich($earlier): the request of one record; $earlier are the session's
# turns read before it, [turn, compact(image_prompt, 64)], the last 6.
def enrich($prof; $earlier):
  . + {request: ({
    prompt: [
      (.image_prompt | compact(460)),
      part("Anchors: "; $prof.anchors; 3; 180),
      part("Style: "; $prof.style; 2; 140),
      ((.previous_hint // "") | compact(120)
       | if . != "" then "Match previous frame: \(.)."
         elif ($earlier | length) > 0 then
           "Match previous frame: \(($prof.previous_hint // "") | compact(120)
             | if . != "" then . else "same framing and camera family as previous frame" end)."
         else $prof.no_previous // "Keep continuity with the previous scene." end),
      (if has("history") then .history | if type == "array" then join(" | ") else . end
       else $earlier | map("T\(.[0]):\(.[1])") | join(" | ") end
       | compact(260)
       | if . == "" then "Evolution trail: no prior turns; establish stable baseline motifs only."
         else "Evolution trail: \(.). Treat this as cumulative context and preserve visible motif layering from earlier turns." end),
      part("Continuity: "; $prof.rules; 2; 140),
      directive($prof.directives),
      part("Avoid: "; $prof.avoid; 2; 140)
    ] | join(" "),
    seed: .seed,
    references: []
  } + $prof.image)};

# The stream memory of imgp-enrich: per session, the turns read so far.
$p[0] as $prof
| foreach inputs as $r ({};
    (.[$r.session] // []) as $seen
    | .[$r.session] = ($seen | map(select(.[0] != $r.turn))
        + [[$r.turn, ($r.image_prompt | compact(64))]] | sort_by(.[0]) | .[-6:])
    | .["\u0000out"] = ($r | enrich($prof; $seen | map(select(.[0] < $r.turn))));
    .["\u0000out"])
