#!/usr/bin/env python3
"""Tiny test images and imgp/1 records that carry them (as imgp-gen adds
`image`), for tests/store.bats and bench/store.sh.

images.py FORMAT W H [options]   FORMAT: png jpeg webp webpx gif
images.py text FILE

Prints COUNT records, turn START.. (one per line), or with --raw the bytes
of the first image.  Every image is whole (imgp's structure checks pass:
IDAT and IEND, a scan and EOI, the RIFF size, the GIF trailer) and differs
from the others (a salt, then --pad random bytes, inside a chunk, segment
or comment the format ignores), unless --same.  `pnghead` is a PNG's
signature and IHDR alone.  --cut N keeps the first N bytes of the image
(N < 0: drops the last -N), --flip N inverts byte N (N < 0: from the end):
the half and damaged images the checks refuse.

`text` prints the text chunks (tEXt, zTXt, iTXt) of the PNG FILE, one
"TYPE KEYWORD=VALUE" a line in file order (a newline in a value as \\n),
and fails on a chunk whose CRC is wrong.
"""
import argparse
import base64
import functools
import json
import os
import struct
import sys
import zlib


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data)))


@functools.lru_cache(maxsize=None)
def black_rows(w, h):
    """The zlib stream of an 8-bit RGB w x h image, all black."""
    return zlib.compress(b"\0" * (h * (1 + 3 * w)), 9)


def png(w, h, extra=b""):       # extra goes in a private ancillary chunk
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            (chunk(b"saLt", extra) if extra else b"") +
            chunk(b"IDAT", black_rows(w, h)) + chunk(b"IEND", b""))


def pnghead(w, h, extra=b""):   # the signature and IHDR, nothing more
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + extra)


def pieces(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


def jpeg(w, h, extra=b""):      # extra goes in COM segments
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = struct.pack(">BHHB", 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sos = b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    com = b"".join(b"\xff\xfe" + struct.pack(">H", len(p) + 2) + p
                   for p in pieces(extra, 65533))
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 +
            com + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof +
            b"\xff\xda" + struct.pack(">H", len(sos) + 2) + sos +
            b"\x12\xff\x00\x34\xff\xd0\x56" + b"\xff\xd9")


def riff_chunk(fourcc, data):
    return fourcc + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)


def riff(*chunks):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def vp8l(w, h, extra):          # the header, then extra as the bitstream
    bits = (w - 1) | (h - 1) << 14
    return riff_chunk(b"VP8L", b"\x2f" + struct.pack("<I", bits) + extra)


def webp(w, h, extra=b""):      # lossless: VP8L
    return riff(vp8l(w, h, extra))


def webpx(w, h, extra=b""):     # extended: VP8X, then VP8L
    return riff(riff_chunk(b"VP8X", b"\x00\x00\x00\x00" + struct.pack("<I", w - 1)[:3] +
                           struct.pack("<I", h - 1)[:3]), vp8l(w, h, extra))


def gif(w, h, extra=b""):       # extra goes in a comment extension
    comment = (b"\x21\xfe" + b"".join(bytes([len(p)]) + p for p in pieces(extra, 255)) +
               b"\0" if extra else b"")
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0) + comment +
            b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x4c\x01\x00" + b";")


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
    p.add_argument("format", choices=["png", "pnghead", "jpeg", "webp", "webpx", "gif"])
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
    p.add_argument("--cut", type=int, help="keep the first N bytes (N < 0: drop the last -N)")
    p.add_argument("--flip", type=int, help="invert byte N (N < 0: counted from the end)")
    a = p.parse_args()
    make = globals()[a.format]
    mime = a.mime or {"png": "image/png", "pnghead": "image/png", "jpeg": "image/jpeg",
                      "gif": "image/gif"}.get(a.format, "image/webp")
    pad = os.urandom(a.pad)
    out = sys.stdout.buffer
    for i in range(a.count):
        turn = a.start + i
        salt = b"" if a.same else ("%s:%d" % (a.salt, turn)).encode()
        data = make(a.width, a.height, salt + pad)
        if a.cut is not None:
            data = data[:a.cut]
        if a.flip is not None:
            data = bytearray(data)
            data[a.flip] ^= 0xff
            data = bytes(data)
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
