#!/usr/bin/env python3
"""Tiny test images and imgp/1 records that carry them (as imgp-gen adds
`image`), for tests/store.bats and bench/store.sh.

images.py FORMAT W H [options]   FORMAT: png jpeg webp webpx gif
images.py text FILE

Prints COUNT records, turn START.. (one per line), or with --raw the bytes
of the first image.  Every record's image differs (a salt follows the
header, which is all a reader of the size needs), unless --same.

`text` prints the text chunks (tEXt, zTXt, iTXt) of the PNG FILE, one
"TYPE KEYWORD=VALUE" a line in file order (a newline in a value as \\n),
and fails on a chunk whose CRC is wrong.
"""
import argparse
import base64
import json
import os
import struct
import sys
import zlib


def png(w, h):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IEND", b""))


def jpeg(w, h):
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = struct.pack(">BHHB", 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 +
            b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9")


def riff(fourcc, data):
    body = b"WEBP" + fourcc + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp(w, h):         # lossless: VP8L
    bits = (w - 1) | (h - 1) << 14
    return riff(b"VP8L", b"\x2f" + struct.pack("<I", bits))


def webpx(w, h):        # extended: VP8X
    return riff(b"VP8X", b"\x00\x00\x00\x00" + struct.pack("<I", w - 1)[:3] +
                struct.pack("<I", h - 1)[:3])


def gif(w, h):
    return b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0) + b";"


def text_chunks(path):
    data = open(path, "rb").read()
    at = 8
    while at + 12 <= len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        crc, = struct.unpack(">I", data[at + 8 + n:at + 12 + n])
        if crc != zlib.crc32(kind + body):
            sys.exit("%s: bad CRC in a %s chunk" % (path, kind.decode()))
        key, _, rest = body.partition(b"\0")
        if kind == b"tEXt":
            value = rest
        elif kind == b"zTXt":
            value = zlib.decompress(rest[1:])
        elif kind == b"iTXt":
            compressed = rest[0]
            value = rest[2:].split(b"\0", 2)[2]     # language, translated keyword
            value = zlib.decompress(value) if compressed else value
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            print("%s %s=%s" % (kind.decode(), key.decode("latin-1"),
                                value.decode().replace("\n", "\\n")))
        at += 12 + n
        if kind == b"IEND":
            break


def main():
    if sys.argv[1:2] == ["text"]:
        return text_chunks(sys.argv[2])
    p = argparse.ArgumentParser()
    p.add_argument("format", choices=["png", "jpeg", "webp", "webpx", "gif"])
    p.add_argument("width", type=int)
    p.add_argument("height", type=int)
    p.add_argument("-n", "--count", type=int, default=1)
    p.add_argument("-t", "--start", type=int, default=0, help="first turn")
    p.add_argument("-s", "--session", default="s")
    p.add_argument("--salt", default="", help="makes the images of one call differ from another's")
    p.add_argument("--pad", type=int, default=0, help="random bytes after the header")
    p.add_argument("--same", action="store_true", help="every record carries the same image")
    p.add_argument("--mime", help="the mime imgp-gen claims (default: the real one)")
    p.add_argument("--raw", action="store_true")
    a = p.parse_args()
    head = globals()[a.format](a.width, a.height)
    mime = a.mime or {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif"}.get(a.format, "image/webp")
    pad = os.urandom(a.pad)
    out = sys.stdout.buffer
    for i in range(a.count):
        turn = a.start + i
        salt = b"" if a.same else ("%s:%d" % (a.salt, turn)).encode()
        data = head + salt + pad
        if a.raw:
            out.write(data)
            return
        rec = {"session": a.session, "turn": turn,
               "image_prompt": "prompt %d" % turn,
               "request": {"prompt": "enriched prompt %d" % turn, "seed": 7},
               "image": {"data": base64.b64encode(data).decode(), "mime": mime,
                         "bytes": len(data), "model": "test/model",
                         "provider": "local", "fallback": None}}
        out.write(json.dumps(rec, separators=(",", ":")).encode() + b"\n")


main()
