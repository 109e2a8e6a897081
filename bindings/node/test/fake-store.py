#!/usr/bin/env python3
"""A faulty imgp-store for the tests: runs the real one (its path in
$REAL_STORE) and passes its lines on, except for records whose prompt asks
otherwise: GARBAGE → a line that is not JSON, TRUNCATE → the first half of
the line, QUIT → exit 0 at once, before the record is answered."""
import os
import subprocess
import sys

real = subprocess.Popen([os.environ["REAL_STORE"], *sys.argv[1:]], stdout=subprocess.PIPE)
for line in real.stdout:
    if b"GARBAGE" in line:
        line = b"garbage!\n"
    elif b"TRUNCATE" in line:
        line = line[: len(line) // 2] + b"\n"
    elif b"QUIT" in line:
        os._exit(0)
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
