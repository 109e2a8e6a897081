#!/usr/bin/env python3
"""measure.py [-i IN] [-o OUT] -- CMD ARG... — run a command, print
"<wall seconds> <peak RSS KiB>" of it (and its children) on stdout.

The benchmarks measure imgp and its baseline side by side with this, in
the same run, so that only their ratio matters on a noisy machine."""
import resource
import subprocess
import sys
import time

args = sys.argv[1:]
stdin = stdout = None
while args and args[0] in ("-i", "-o"):
    if args[0] == "-i":
        stdin = open(args[1], "rb")
    else:
        stdout = open(args[1], "wb")
    args = args[2:]
if args[:1] == ["--"]:
    args = args[1:]
start = time.monotonic()
rc = subprocess.call(args, stdin=stdin, stdout=stdout or subprocess.DEVNULL)
wall = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("%.3f %d" % (wall, rss))
sys.exit(1 if rc not in (0,) else 0)
