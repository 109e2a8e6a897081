#!/usr/bin/env python3
"""mock-provider — a scriptable image-generation API for imgp's tests and benchmarks.

Python 3.11 standard library only.

COMMAND LINE

    python3 tests/mock-provider.py --port-file FILE --log FILE
                                   [--latency MS] [--key KEY] [--max-seconds N]

    --port-file FILE  the server listens on 127.0.0.1, on a free port chosen by the
                      kernel; once it is listening, the port number and a newline are
                      written to FILE (atomically: a temporary file, then rename).
    --log FILE        every request is appended to FILE as one JSON line (see LOG).
    --latency MS      every API answer waits MS milliseconds first (default 0).
                      Image downloads do not wait.
    --key KEY         API requests whose Authorization header is not exactly
                      "Bearer KEY" get 401 {"error":{"code":401,"message":"No auth
                      credentials found"}}.  Image downloads never need it.
    --max-seconds N   exit after N seconds (default 600), so a lost server never
                      outlives its test.  SIGTERM and SIGINT stop it at once.
                      The exit status is 0 in all three cases.

Requests are served concurrently (one thread each), with HTTP/1.1 keep-alive and
"Expect: 100-continue".

ENDPOINTS

    POST <any prefix>/chat/completions     OpenRouter style.  The prompt is the text of
        every "text" content part (or string content) of every message, joined by
        newlines.  Success:
          {"id":"gen-…","provider":"mock","model":<model>,
           "choices":[{"finish_reason":"stop","message":{"role":"assistant",
             "content":"Here is your image.",
             "images":[{"type":"image_url","image_url":{"url":"data:image/png;base64,…"}}]}}],
           "usage":{"prompt_tokens":10,"completion_tokens":1290,"total_tokens":1300,"cost":0.039}}
    POST <any prefix>/images/generations   OpenAI style, JSON body; the prompt is "prompt".
    POST <any prefix>/images               OpenRouter's image endpoint, JSON body; the prompt
        is "prompt", reference images are "input_references".  Success:
          {"created":<unix time>,"data":[{"b64_json":"…"}],
           "usage":{"prompt_tokens":0,"completion_tokens":4175,"total_tokens":4175,"cost":0.04}}
    GET <any prefix>/models                the model list: {"data":[…]}, OpenRouter models with
        "architecture":{"input_modalities","output_modalities"} and OpenAI ones with only
        "id" and "object"; "?output_modalities=image" keeps the OpenRouter models whose
        output_modalities hold "image", as OpenRouter does.  Needs the key like the API.
    POST <any prefix>/images/edits         OpenAI style, multipart/form-data with fields
        "model", "prompt" and one or more "image[]" (or "image") file parts.
        Both OpenAI endpoints answer
          {"created":<unix time>,"data":[{"b64_json":"…"}],
           "usage":{"input_tokens":10,"output_tokens":1290,"total_tokens":1300}}
    GET /img/<name>.png        the PNG for <name> (what reply=url points at).
    GET /redirect/<name>.png   302 to http://localhost:<port>/img/<name>.png: the same
                               server under another host name; with ?to=ORIGIN, 302
                               to ORIGIN/img/<name>.png.
    anything else              404 {"error":{"code":404,"message":"mock: no route for …"}}

The image is a valid 16x16 RGB PNG of one colour.  The colour comes from a hash of
the model and the prompt (directives included), so it is deterministic and differs
between prompts.

DIRECTIVES

A prompt may contain groups "[mock KEY=VALUE ...]" that script the answer to it.
A group is split like a shell command line, so a value with spaces can be quoted:
[mock status=429 retry-after="Wed, 21 Oct 2015 07:28:00 GMT"].

Each group applies to "times=K" requests, or to every request without "times".
The groups of one prompt form a schedule, counted per prompt text (the whole text,
directives included, whatever the model, endpoint or other parameters; counters
live as long as the server): the first group answers the first K1 requests for
the prompt, the next group the K2 after those, and so on; once all the groups
are used up, requests succeed normally.  For example:

    [mock status=500 times=2] a harbour       fails twice, then succeeds
    [mock status=503 times=1][mock reply=text times=1] a harbour
                                              503, then a text-only answer, then images
    [mock delay=300] a harbour                every request 300 ms slower

Give distinct prompts to the records of one test so that their counters are apart.

Failures (tried in this order; the first that matches answers):

    fail-model=M[,M…]     requests for one of these models get fail-status
    fail-status=N         (default 400, "model not available: M").
    status-model=M:N[,M:N…]  requests for model M get status N (the model name may
                          contain ":"; the status is after the last one).
    strict=N              answer N (a 4xx, typically 400 or 422) "Invalid parameter: X"
                          when the request carries an optional parameter: on
                          chat/completions "image_config", "seed" or an "image_url"
                          content part; on images/generations any member besides
                          model, prompt, n and response_format; on images any member
                          besides model, prompt and n; images/edits always.
                          A relaxed request (text only) succeeds.
    only-image            chat/completions whose "modalities" is not exactly ["image"]
                          (absent counts as ["image","text"]) get 404 "No endpoints
                          found that support the requested output modalities: image,
                          text"; ignored by the OpenAI endpoints.
    status=N              answer N (300–599) with {"error":{"code":N,"message":…}}.
                          A 3xx also sends "Location: http://localhost:<port><same
                          path>", so a client that follows it shows in the log.
    retry-after=V         add "Retry-After: V" to the error this group answers.  V is
                          sent as written (seconds or an HTTP date), except "date+S"
                          and "date-S": the HTTP date S seconds from now.
    message=TEXT          the message of the error this group answers (status=,
                          fail-model=, status-model=, strict=, reply=error200).

Other directives:

    delay=MS              this request waits MS milliseconds more (on top of --latency).
    hold=PATH             this request waits until the file PATH exists (at most
                          60 s), then is answered: a test releases it once it has
                          seen what must happen first (an event, not a sleep).
    reply=KIND            the shape of a successful answer:
      text        200, message content only, no images (OpenAI: "data":[])
      filter      200, finish_reason "content_filter", content null, no images
                  (OpenAI: "data":[])
      error200    200 with body {"error":{"code":N,"message":"…"}}; N from code=N
                  (default 429)
      refused403  403 {"error":{"code":403,"message":"Input flagged by moderation",
                  "metadata":{"reasons":["violence"]}}}
      notimage    image declared image/png whose bytes are "hello, not an image"
      jpeg        a real 8x8 baseline JPEG declared image/png
      halfpng     the PNG cut inside its IDAT chunk, as a transfer cut short leaves it
      url         image as http://127.0.0.1:<port>/img/<name>.png (OpenAI: "url")
      redirect    image as http://127.0.0.1:<port>/redirect/<name>.png (with
                  ?to=ORIGIN under redirect-to=ORIGIN)
      b64         chat/completions answers {"data":[{"b64_json":…}]}
      images-b64  chat/completions answers {"images":[{"b64_json":…}]}
      nocost      "usage" without "cost"
      wrapped     the base64 in lines of 76 characters ending in CR LF, with spaces
      urlsafe     the base64 in the URL-safe alphabet (- and _), without padding
      content-part  chat: the image as an image_url part of "content" (a list, after
                  a text part), no "images"
      image-string  chat: images[0].image_url is the data URL itself
      images-url  chat: images[0].url is the data URL
      upper-data  chat: the data URL written "DATA:IMAGE/PNG;BASE64,…"
      nested      the image only as {"result":{"output":[{"b64_json":…}]}} (with usage)
      surrogate   chat: the image as usual, and text content holding a lone UTF-16
                  surrogate escape (\ud800)
      badb64      the image as base64 that is not ("%%% not base64 %%%"), usage with cost
      truncated   the first half of the JSON answer, with a Content-Length of that half
      huge        a 200 JSON answer padded (member "padding") to about size=BYTES
                  (default 8388608), sent with Transfer-Encoding: chunked and no
                  Content-Length
      drip        headers at once, then the body one byte a second
      reset       headers and half the body, then the connection is reset (RST)
    code=N                the error code of reply=error200.
    echo=FORM             echo the request's Authorization header back, as a hostile
                          or careless provider might: in the message content, in
                          usage.echo and as a key of usage, and in an error's
                          message.  FORM: "raw" (the key), "bearer" ("Bearer key")
                          or "escaped" (the key, every character a \\uXXXX escape
                          in the JSON body).
    image-origin=ORIGIN   reply=url points at ORIGIN/img/<name>.png (e.g. another
                          server) instead of http://127.0.0.1:<port>.
    redirect-to=ORIGIN    reply=redirect's download is redirected to ORIGIN/img/….
    size=BYTES            the size of reply=huge.

A group with an unknown directive, a bad value or unbalanced quotes gets 400
{"error":{"code":400,"message":"mock: unknown directive X"}} (or "mock: bad value …"),
so that typos in tests are loud.

IDLE

GET /mock/idle answers 200 (and is not logged) once every other connection the
mock has accepted is closed and answered, at most 60 s: after the client has
exited, the log is then complete (an event, not a sleep).

LOG

One JSON object a line, appended and flushed when the status is decided (so lines
may come out of arrival order):

    {"n":<sequence number in arrival order, from 1>,"method":"POST","path":"/v1/chat/completions",
     "headers":{<lower-cased name>:<value as received; repeated headers joined by ", ">},
     "body":<the parsed JSON body; for multipart/form-data a list of parts
             {"name","filename","content_type","bytes"} (plus "value", the text, for
             parts without a filename); else null>,
     "status":<the status sent>,"t":<arrival, unix time as a float>,
     "in_flight":<requests being answered when it arrived, itself included>}
"""

import argparse
import base64
import email.parser
import email.utils
import hashlib
import json
import os
import re
import shlex
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIRECTIVE_GROUP = re.compile(r"\[mock(?:\s[^\]]*)?\]")
IMG_PATH = re.compile(r"/(img|redirect)/([A-Za-z0-9._-]+)\.png")

INT_DIRECTIVES = {"status", "fail-status", "strict", "times", "delay", "code", "size"}
TEXT_DIRECTIVES = {"fail-model", "status-model", "retry-after", "message", "reply", "hold",
                   "image-origin", "redirect-to", "echo"}
FLAG_DIRECTIVES = {"only-image"}
REPLIES = {"text", "filter", "error200", "refused403", "notimage", "jpeg", "halfpng", "url", "redirect",
           "b64", "images-b64", "nocost", "truncated", "huge", "drip", "reset", "wrapped",
           "urlsafe", "content-part", "image-string", "images-url", "upper-data",
           "nested", "surrogate", "badb64"}

MESSAGES = {
    400: "Bad request",
    401: "No auth credentials found",
    402: "Insufficient credits",
    403: "Forbidden",
    404: "Not found",
    408: "Request timed out",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Provider returned error",
    503: "Service unavailable",
    504: "Gateway timeout",
}
OPENAI_PLAIN_FIELDS = {"model", "prompt", "n", "response_format"}
CHAT_USAGE = {"prompt_tokens": 10, "completion_tokens": 1290, "total_tokens": 1300, "cost": 0.039}
OPENAI_USAGE = {"input_tokens": 10, "output_tokens": 1290, "total_tokens": 1300}
IMAGES_USAGE = {"prompt_tokens": 0, "completion_tokens": 4175, "total_tokens": 4175, "cost": 0.04}
IMAGES_PLAIN_FIELDS = {"model", "prompt", "n"}
MODELS = [
    {"id": "google/gemini-2.5-flash-image", "name": "Google: Gemini 2.5 Flash Image",
     "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["image", "text"]}},
    {"id": "anthropic/claude-sonnet-4", "name": "Anthropic: Claude Sonnet 4",
     "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["text"]}},
    {"id": "black-forest-labs/flux.2-pro", "name": "Black Forest Labs: FLUX.2 Pro",
     "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["image"]}},
    {"id": "openai/gpt-5-image", "name": "OpenAI: GPT-5 Image",
     "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["image", "text"]}},
    {"id": "gpt-image-1", "object": "model", "owned_by": "system"},
    {"id": "gpt-4o", "object": "model", "owned_by": "system"},
    {"id": "dall-e-3", "object": "model", "owned_by": "system"},
]
NOT_AN_IMAGE = b"hello, not an image"
HUGE_DEFAULT = 8 * 1024 * 1024

# An 8x8 grey baseline JPEG: SOI, SOF0 (one component), a quantisation table of ones,
# one-code Huffman tables, and a single block coded as "DC difference 0, EOB".
TINY_JPEG = b"".join([
    b"\xff\xd8",
    b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
    b"\xff\xdb\x00\x43\x00" + b"\x01" * 64,
    b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00",
    b"\xff\xc4\x00\x14\x00\x01" + b"\x00" * 15 + b"\x00",
    b"\xff\xc4\x00\x14\x10\x01" + b"\x00" * 15 + b"\x00",
    b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00",
    b"\x3f",
    b"\xff\xd9",
])


class MockError(Exception):
    """A malformed request or directive: answered 400 with this message."""


def make_png(name):
    """A 16x16 RGB PNG whose colour is derived from name."""
    colour = hashlib.sha256(name.encode()).digest()[:3]
    raw = (b"\x00" + colour * 16) * 16

    def chunk(kind, data):
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def error_body(code, message):
    return {"error": {"code": code, "message": message}}


def default_message(code):
    if code in MESSAGES:
        return MESSAGES[code]
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "mock error"


def parse_directives(prompt):
    """The [mock ...] groups of prompt, each a dict of directive → value."""
    groups = []
    for match in DIRECTIVE_GROUP.finditer(prompt):
        try:
            words = shlex.split(match.group()[len("[mock"):-1])
        except ValueError as e:
            raise MockError(f"mock: cannot split {match.group()}: {e}") from None
        group = {}
        for word in words:
            key, has_value, value = word.partition("=")
            if key in FLAG_DIRECTIVES and not has_value:
                group[key] = True
            elif key in INT_DIRECTIVES and has_value and re.fullmatch(r"\d+", value):
                group[key] = int(value)
            elif key in TEXT_DIRECTIVES and has_value and value:
                group[key] = value
            elif key in FLAG_DIRECTIVES | INT_DIRECTIVES | TEXT_DIRECTIVES:
                raise MockError(f"mock: bad value for {key}: {word}")
            else:
                raise MockError(f"mock: unknown directive {key}")
        groups.append(finish_group(group))
    return groups


def finish_group(group):
    """group with its values checked and its model lists split."""
    for key in ("status", "fail-status"):
        if key in group and not 300 <= group[key] <= 599:
            raise MockError(f"mock: bad value for {key}: {group[key]} (300-599)")
    if "strict" in group and not 400 <= group["strict"] <= 499:
        raise MockError(f"mock: bad value for strict: {group['strict']} (400-499)")
    if "code" in group and not 100 <= group["code"] <= 999:
        raise MockError(f"mock: bad value for code: {group['code']}")
    if group.get("times") == 0:
        raise MockError("mock: bad value for times: 0")
    if "reply" in group and group["reply"] not in REPLIES:
        raise MockError(f"mock: unknown reply {group['reply']}")
    if "fail-model" in group:
        group["fail-model"] = group["fail-model"].split(",")
    if "status-model" in group:
        statuses = {}
        for item in group["status-model"].split(","):
            model, _, status = item.rpartition(":")
            if not model or not status.isdigit() or not 300 <= int(status) <= 599:
                raise MockError(f"mock: bad value for status-model: {item}")
            statuses[model] = int(status)
        group["status-model"] = statuses
    return group


def pick_group(groups, n):
    """The group that answers the n-th request (from 1) for a prompt, or {}."""
    for group in groups:
        times = group.get("times")
        if times is None or n <= times:
            return group
        n -= times
    return {}


def retry_after(value):
    match = re.fullmatch(r"date([+-]\d+)", value)
    if match:
        return email.utils.formatdate(time.time() + int(match.group(1)), usegmt=True)
    return value


def parse_multipart(body, content_type_header):
    """The parts of a multipart/form-data body: dicts with headers and raw data."""
    header = email.parser.HeaderParser().parsestr(f"Content-Type: {content_type_header}\n\n")
    boundary = header.get_param("boundary")
    if not boundary:
        return []
    parts = []
    for segment in body.split(b"--" + boundary.encode())[1:]:
        if segment.startswith(b"--"):
            break
        head, _, data = segment.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        parts.append({
            "name": headers.get_param("name", header="content-disposition"),
            "filename": headers.get_filename(),
            "content_type": headers.get_content_type(),
            "data": data.removesuffix(b"\r\n"),
        })
    return parts


def part_for_log(part):
    entry = {"name": part["name"], "filename": part["filename"],
             "content_type": part["content_type"], "bytes": len(part["data"])}
    if part["filename"] is None:
        entry["value"] = part["data"].decode("utf-8", "replace")
    return entry


class Call:
    """What the directives need to know about one API request."""

    def __init__(self, endpoint, body, parts):
        self.endpoint = endpoint
        if endpoint == "edits":
            fields = {p["name"]: p["data"].decode("utf-8", "replace")
                      for p in parts if p["filename"] is None}
            self.model = fields.get("model", "")
            self.prompt = fields.get("prompt", "")
            self.modalities = None
            self.optional = ["image"] + sorted(set(fields) - OPENAI_PLAIN_FIELDS)
            return
        if not isinstance(body, dict):
            raise MockError("mock: the request body is not a JSON object")
        self.model = str(body.get("model", ""))
        if endpoint == "images":
            self.prompt = str(body.get("prompt", ""))
            self.modalities = None
            self.optional = sorted(set(body) - IMAGES_PLAIN_FIELDS)
            return
        if endpoint == "generations":
            self.prompt = str(body.get("prompt", ""))
            self.modalities = None
            self.optional = sorted(set(body) - OPENAI_PLAIN_FIELDS)
            return
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise MockError("mock: the request has no messages")
        texts, has_image = [], False
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                texts.append(content)
            for part in content if isinstance(content, list) else ():
                if isinstance(part, dict) and part.get("type") == "text":
                    texts.append(str(part.get("text", "")))
                elif isinstance(part, dict) and part.get("type") == "image_url":
                    has_image = True
        self.prompt = "\n".join(texts)
        modalities = body.get("modalities", ["image", "text"])
        self.modalities = modalities if isinstance(modalities, list) else [modalities]
        self.optional = [k for k in ("image_config", "seed") if k in body]
        self.optional += ["image_url"] if has_image else []

    @property
    def image_name(self):
        return hashlib.sha256(f"{self.model}\0{self.prompt}".encode()).hexdigest()[:16]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "imgp-mock-provider/1"
    # Headers and body go out in separate writes: with Nagle on, a reused
    # keep-alive connection waits for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.arrived = time.time()
        self.seq, self.in_flight = self.server.enter()
        try:
            self.handle_request()
        finally:
            self.server.leave()

    def handle_request(self):
        raw = self.read_body()
        body = parts = None
        if self.headers.get_content_type() == "multipart/form-data":
            parts = parse_multipart(raw, self.headers["Content-Type"])
            self.logged_body = [part_for_log(p) for p in parts]
        else:
            try:
                body = self.logged_body = json.loads(raw)
            except ValueError:
                body = self.logged_body = None
        try:
            self.route(body, parts)
        except ConnectionError:
            self.close_connection = True

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def route(self, body, parts):
        path = urllib.parse.urlsplit(self.path).path
        image = IMG_PATH.fullmatch(path)
        if self.command == "GET" and path == "/mock/idle":
            self.server.wait_idle()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.command == "POST" and path.endswith("/chat/completions"):
            self.api("chat", body, parts)
        elif self.command == "POST" and path.endswith("/images/generations"):
            self.api("generations", body, parts)
        elif self.command == "POST" and path.endswith("/images/edits"):
            self.api("edits", body, parts)
        elif self.command == "POST" and path.endswith("/images"):
            self.api("images", body, parts)
        elif self.command == "GET" and path.endswith("/models"):
            self.models()
        elif self.command == "GET" and image and image.group(1) == "img":
            self.send(200, make_png(image.group(2)), "image/png")
        elif self.command == "GET" and image:
            to = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("to")
            origin = to[0] if to else f"http://localhost:{self.server.server_port}"
            location = f"{origin}/img/{image.group(2)}.png"
            self.send(302, b"", "text/plain", {"Location": location})
        else:
            self.send_json(404, error_body(404, f"mock: no route for {self.command} {path}"))

    # Sending.  start() logs the request, then sends the status line and headers.

    def start(self, status, content_type, headers):
        self.server.log({
            "n": self.seq, "method": self.command, "path": self.path,
            "headers": self.received_headers(), "body": self.logged_body,
            "status": status, "t": self.arrived, "in_flight": self.in_flight,
        })
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def received_headers(self):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers

    def send(self, status, data, content_type, headers=None):
        self.start(status, content_type, {"Content-Length": str(len(data))} | (headers or {}))
        self.wfile.write(data)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj).encode(), "application/json", headers)

    # The API.

    def api(self, endpoint, body, parts):
        args = self.server.args
        time.sleep(args.latency / 1000)
        if args.key is not None and self.headers.get("Authorization") != f"Bearer {args.key}":
            return self.send_json(401, error_body(401, MESSAGES[401]))
        try:
            call = Call(endpoint, body, parts)
            groups = parse_directives(call.prompt)
        except MockError as e:
            return self.send_json(400, error_body(400, str(e)))
        group = pick_group(groups, self.server.count(call.prompt)) if groups else {}
        time.sleep(group.get("delay", 0) / 1000)
        if "hold" in group:
            held_until = time.monotonic() + 60
            while not os.path.exists(group["hold"]) and time.monotonic() < held_until:
                time.sleep(0.01)
        failure = self.failure(group, call)
        if failure:
            status, message = failure
            headers = {}
            if "retry-after" in group:
                headers["Retry-After"] = retry_after(group["retry-after"])
            if 300 <= status <= 399:
                headers["Location"] = f"http://localhost:{self.server.server_port}{self.path}"
            message = group.get("message", message)
            if "echo" in group:
                message = f"{message}; you sent {self.echoed(group)}"
            return self.send_json(status, error_body(status, message), headers)
        self.answer(group, call)

    def models(self):
        args = self.server.args
        if args.key is not None and self.headers.get("Authorization") != f"Bearer {args.key}":
            return self.send_json(401, error_body(401, MESSAGES[401]))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        wanted = query.get("output_modalities", [""])[0]
        models = [m for m in MODELS if not wanted or
                  wanted in m.get("architecture", {}).get("output_modalities", [])]
        self.send_json(200, {"data": models})

    def failure(self, group, call):
        """(status, message) when the group makes this request fail, else None."""
        if call.model in group.get("fail-model", ()):
            return group.get("fail-status", 400), f"model not available: {call.model}"
        if call.model in group.get("status-model", {}):
            status = group["status-model"][call.model]
            return status, default_message(status)
        if "strict" in group and call.optional:
            return group["strict"], f"Invalid parameter: {call.optional[0]}"
        if group.get("only-image") and call.endpoint == "chat" and call.modalities != ["image"]:
            wanted = ", ".join(map(str, call.modalities))
            return 404, f"No endpoints found that support the requested output modalities: {wanted}"
        if "status" in group:
            return group["status"], default_message(group["status"])
        return None

    def answer(self, group, call):
        reply = group.get("reply")
        if reply == "refused403":
            error = error_body(403, "Input flagged by moderation")
            error["error"]["metadata"] = {"reasons": ["violence"]}
            return self.send_json(403, error)
        if reply == "error200":
            code = group.get("code", 429)
            message = "rate limited upstream" if code == 429 else f"upstream: {default_message(code)}"
            return self.send_json(200, error_body(code, group.get("message", message)))
        obj = self.success(group, call)
        if reply == "huge":
            size = group.get("size", HUGE_DEFAULT)
            obj["padding"] = ""
            obj["padding"] = "x" * max(0, size - len(json.dumps(obj)))
        if "echo" in group and "choices" in obj:
            echoed = self.echoed(group)
            obj["usage"] = dict(obj["usage"], echo=echoed, **{echoed: 1})
            obj["choices"][0]["message"]["content"] = f"You sent {echoed}"
        data = json.dumps(obj).encode()
        if group.get("echo") == "escaped":
            echoed = self.echoed(group)
            data = data.replace(echoed.encode(), "".join(f"\\u{ord(c):04x}" for c in echoed).encode())
        if reply == "truncated":
            self.send(200, data[:len(data) // 2], "application/json")
            self.close_connection = True
        elif reply == "huge":
            self.start(200, "application/json", {"Transfer-Encoding": "chunked"})
            for i in range(0, len(data), 65536):
                piece = data[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif reply == "drip":
            self.start(200, "application/json", {"Content-Length": str(len(data))})
            for i in range(len(data)):
                self.wfile.write(data[i:i + 1])
                time.sleep(1)
        elif reply == "reset":
            self.start(200, "application/json", {"Content-Length": str(len(data))})
            self.wfile.write(data[:len(data) // 2])
            time.sleep(0.1)
            self.reset_connection()
        else:
            self.send(200, data, "application/json")

    def echoed(self, group):
        """The Authorization header in the form the group's echo= asks for."""
        auth = self.headers.get("Authorization", "")
        return auth if group["echo"] == "bearer" else auth.removeprefix("Bearer ")

    def success(self, group, call):
        """The JSON object of a successful answer shaped by the group's reply."""
        reply, port, name = group.get("reply"), self.server.server_port, call.image_name
        here = f"http://127.0.0.1:{port}"
        to = "?to=" + urllib.parse.quote(group["redirect-to"], safe="") if "redirect-to" in group else ""
        url = {"url": f"{group.get('image-origin', here)}/img/{name}.png",
               "redirect": f"{here}/redirect/{name}.png{to}"}.get(reply)
        image = {"notimage": NOT_AN_IMAGE, "jpeg": TINY_JPEG,
                 "halfpng": make_png(name)[:-30]}.get(reply) or make_png(name)
        b64 = base64.b64encode(image).decode()
        if reply == "wrapped":
            b64 = "\r\n ".join(b64[i:i + 76] for i in range(0, len(b64), 76))
        elif reply == "urlsafe":
            b64 = base64.urlsafe_b64encode(image).decode().rstrip("=")
        elif reply == "badb64":
            b64 = "%%% not base64 %%%"
        data_url = f"data:image/png;base64,{b64}"
        if reply == "b64":
            return {"data": [{"b64_json": b64}]}
        if reply == "images-b64":
            return {"images": [{"b64_json": b64}]}
        if reply == "nested":
            return {"result": {"output": [{"b64_json": b64}]}, "usage": CHAT_USAGE}
        if call.endpoint == "images":
            items = [] if reply in ("text", "filter") else [{"b64_json": b64}]
            return {"created": int(time.time()), "data": items, "usage": IMAGES_USAGE}
        if call.endpoint != "chat":
            item = {"url": url} if url else {"b64_json": b64}
            items = [] if reply in ("text", "filter") else [item]
            return {"created": int(time.time()), "data": items, "usage": OPENAI_USAGE}
        message = {"role": "assistant", "content": "Here is your image."}
        finish = "stop"
        if reply == "text":
            message["content"] = "I can only describe it: a quiet harbour at dusk."
        elif reply == "filter":
            message["content"] = None
            finish = "content_filter"
        elif reply == "content-part":
            message["content"] = [{"type": "text", "text": "Here it is."},
                                  {"type": "image_url", "image_url": {"url": data_url}}]
        elif reply == "image-string":
            message["images"] = [{"type": "image_url", "image_url": data_url}]
        elif reply == "images-url":
            message["images"] = [{"url": data_url}]
        elif reply == "upper-data":
            message["images"] = [{"type": "image_url", "image_url": {
                "url": f"DATA:IMAGE/PNG;BASE64,{b64}"}}]
        else:
            if reply == "surrogate":
                message["content"] = "a broken emoji: \ud83d and on"
            message["images"] = [{"type": "image_url",
                                  "image_url": {"url": url or data_url}}]
        usage = {k: v for k, v in CHAT_USAGE.items() if not (reply == "nocost" and k == "cost")}
        return {"id": f"gen-{int(self.arrived)}-{self.seq}", "provider": "mock",
                "model": call.model,
                "choices": [{"finish_reason": finish, "message": message}], "usage": usage}

    def reset_connection(self):
        """Close the socket with SO_LINGER 0, so that the peer gets an RST and no FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(self.connection.detach())  # rfile and wfile stay open but write nothing more
        self.close_connection = True


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seq = 0
        self.counters = {}
        self.in_flight = 0
        self.connections = 0
        self.idle = threading.Condition(self.lock)
        self.log_file = open(args.log, "a", encoding="utf-8")
        super().__init__(("127.0.0.1", 0), Handler)

    def server_bind(self):
        # HTTPServer.server_bind would look up the host's FQDN, which can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def enter(self):
        """A request arrives: its sequence number, and how many requests
        are being answered now, this one included."""
        with self.lock:
            self.seq += 1
            self.in_flight += 1
            return self.seq, self.in_flight

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    # Connections are counted as they are accepted, in order, by the main
    # thread, and uncounted when their thread is done with them.
    def process_request(self, request, client_address):
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self.lock:
            self.connections -= 1
            self.idle.notify_all()

    def wait_idle(self):
        """Wait until the connection asking is the only one left."""
        with self.lock:
            self.idle.wait_for(lambda: self.connections <= 1, timeout=60)

    def count(self, prompt):
        """How many requests for prompt so far, this one included."""
        with self.lock:
            self.counters[prompt] = self.counters.get(prompt, 0) + 1
            return self.counters[prompt]

    def log(self, entry):
        line = json.dumps(entry) + "\n"
        with self.lock:
            self.log_file.write(line)
            self.log_file.flush()


def write_port_file(path, port):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description="A scriptable mock image provider for imgp.")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--latency", type=float, default=0, metavar="MS")
    parser.add_argument("--key")
    parser.add_argument("--max-seconds", type=float, default=600, metavar="N")
    args = parser.parse_args()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = MockServer(args)
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.1), daemon=True).start()
    write_port_file(args.port_file, server.server_port)
    stop.wait(args.max_seconds)
    server.shutdown()
    server.server_close()
    server.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
