#!/usr/bin/env python3
"""gen-records.py N — N judge records for the benchmarks, deterministic.

Each record carries its own seed (jq cannot compute SHA-256, so the jq
baseline could not derive one) and judge state that exercises every
directive of bench/profile.json."""
import json
import random
import sys

rng = random.Random(42)
words = ("harbor lighthouse storm lantern schooner carnival whale tent rain "
         "cliff keeper dawn dusk confetti beam gull net rope bell tide").split()
directions = ["calm", "storm", " Carnival ", "mystery", "carnival", "STORM"]
out = sys.stdout
for i in range(int(sys.argv[1])):
    rec = {
        "session": "bench-%d" % (i % 50),
        "turn": i // 50,
        "image_prompt": " ".join(rng.choice(words) for _ in range(rng.randint(12, 40))),
        "seed": 1000 + i % 50,
        "new_state": {
            "absurdity_index": round(rng.random(), 3),
            "dominant_direction": rng.choice(directions),
            "tension": round(rng.random(), 3),
        },
        "judge": {"model": "judge-1", "score": round(rng.random(), 4), "id": 12345678901234567890 + i},
    }
    if i % 3 == 0:
        rec["history"] = [" ".join(rng.choice(words) for _ in range(6)) for _ in range(3)]
    out.write(json.dumps(rec, separators=(",", ":")) + "\n")
