#!/usr/bin/env python3
"""session.py — what a turn costs as a session grows (issue 19).

session.py records STORE OUT N PROFILE
    write N records of session "long" (turns 0..N-1, each carrying its own
    small image, as records from imgp-gen do) to OUT.
session.py long STORE PROFILE RECORDS
    feed RECORDS one at a time through one long-lived
    imgp-enrich | imgp-store | imgp-url, waiting for each answer; print
    one latency (seconds) per turn.
session.py oneshot STORE PROFILE RECORDS
    run the same pipeline once per record, as a game server that spawns
    it per judge answer does; print one latency per turn.
"""
import json
import subprocess
import sys
import time


def pipeline(store, profile):
    return ("bin/imgp-enrich -p %s -s %s | bin/imgp-store --no-fsync -s %s "
            "| bin/imgp-url" % (profile, store, store))


def records(out, n):
    sys.path.insert(0, "tests")
    made = subprocess.run(
        ["python3", "tests/images.py", "png", "8", "8", "-n", str(n),
         "-s", "long", "--salt", "session", "--pad", "200"],
        check=True, capture_output=True).stdout.decode().splitlines()
    with open(out, "w") as f:
        for line in made:
            r = json.loads(line)
            r.pop("request", None)
            r["image_prompt"] = ("Turn %d: the lighthouse keeper climbs the "
                                 "spiral stair at dusk while the storm "
                                 "gathers over the red-sailed boats in the "
                                 "harbour below" % r["turn"])
            f.write(json.dumps(r) + "\n")


def long_lived(store, profile, path):
    p = subprocess.Popen(pipeline(store, profile), shell=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for line in open(path, "rb"):
        start = time.monotonic()
        p.stdin.write(line)
        p.stdin.flush()
        answer = p.stdout.readline()
        print("%.6f" % (time.monotonic() - start))
        if b'"url"' not in answer:
            sys.exit("session: no url in %r" % answer[:200])
    p.stdin.close()
    p.wait()


def one_shot(store, profile, path):
    for line in open(path, "rb"):
        start = time.monotonic()
        answer = subprocess.run(pipeline(store, profile), shell=True,
                                input=line, capture_output=True).stdout
        print("%.6f" % (time.monotonic() - start))
        if b'"url"' not in answer:
            sys.exit("session: no url in %r" % answer[:200])


mode, args = sys.argv[1], sys.argv[2:]
if mode == "records":
    records(args[1], int(args[2]))
elif mode == "long":
    long_lived(*args)
else:
    one_shot(*args)
