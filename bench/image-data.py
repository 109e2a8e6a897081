#!/usr/bin/env python3
"""image-data.py IN DIR — for the baselines that decode images themselves:
write each record's image.data (base64) of IN to DIR/00000, DIR/00001, …
and print the sum of their image.bytes."""
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
total = 0
for i, line in enumerate(open(src)):
    image = json.loads(line)["image"]
    with open("%s/%05d" % (out, i), "w") as f:
        f.write(image["data"])
    total += image["bytes"]
print(total)
