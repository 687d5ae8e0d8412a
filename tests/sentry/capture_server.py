#!/usr/bin/python3
"""Loopback HTTP capture server for inspecting what Sentry SDKs (and OTLP exporters) send.

usage: /usr/bin/python3 capture_server.py <port> <out-dir> [status]
       (port 0 picks a free port; the chosen port is printed as "listening <port>" on stdout)

Every request (any method, any path) is recorded in <out-dir> as two files:
  NNNN.json  {"seq", "time", "method", "path" (path+query), "headers": [[name, value], ...],
              "content_encoding", "body_len_wire", "body_len", "body_file"}
  NNNN.body  the request body exactly as received, gunzipped/inflated if Content-Encoding said
             gzip/deflate (chunked transfer encoding is de-chunked first)
The reply is 200 application/json {"id": "<event_id>"} (event_id from the envelope header or the
JSON body; "{}" when there is none); with [status] (e.g. 500 or 429) every request gets that status
instead (429 also carries Retry-After: 60) so that a client's failure detection can be tested. Stdlib only; listens on 127.0.0.1 only.
Stops on SIGTERM/SIGINT.
"""
import gzip
import json
import os
import signal
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024 * 1024


class Recorder:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.lock = threading.Lock()
        self.seq = 0
        os.makedirs(out_dir, exist_ok=True)

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq


def read_chunked(rfile):
    out = bytearray()
    while True:
        line = rfile.readline(65537)
        if not line:
            break
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            # trailers until blank line
            while True:
                t = rfile.readline(65537)
                if not t or t in (b"\r\n", b"\n"):
                    break
            break
        out += rfile.read(size)
        rfile.readline(65537)  # CRLF after chunk
        if len(out) > MAX_BODY:
            raise ValueError("body too large")
    return bytes(out)


def decode_body(raw, encoding):
    enc = (encoding or "").strip().lower()
    if enc == "gzip":
        return gzip.decompress(raw)
    if enc == "deflate":
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return zlib.decompress(raw, -15)
    return raw


def find_event_id(body):
    first = body.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
        if isinstance(obj, dict) and isinstance(obj.get("event_id"), str):
            return obj["event_id"]
    except ValueError:
        pass
    try:
        obj = json.loads(body)
        if isinstance(obj, dict) and isinstance(obj.get("event_id"), str):
            return obj["event_id"]
    except ValueError:
        pass
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "capture/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _handle(self):
        rec = self.server.recorder
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            raw = read_chunked(self.rfile)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n > 0 else b""
        ce = self.headers.get("Content-Encoding")
        try:
            body = decode_body(raw, ce)
        except Exception as e:  # keep the wire bytes if decoding fails
            body = raw
            ce = "%s (decode failed: %s)" % (ce, e)
        seq = rec.next_seq()
        base = os.path.join(rec.out_dir, "%04d" % seq)
        with open(base + ".body", "wb") as f:
            f.write(body)
        meta = {
            "seq": seq,
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "content_encoding": ce,
            "body_len_wire": len(raw),
            "body_len": len(body),
            "body_file": os.path.basename(base + ".body"),
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f, indent=1)
        eid = find_event_id(body)
        status = self.server.reply_status
        if status == 200:
            reply = json.dumps({"id": eid} if eid else {}).encode()
        else:
            reply = json.dumps({"detail": "capture_server configured to answer %d" % status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status == 429:
            self.send_header("Retry-After", "60")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_POST = _handle
    do_PUT = _handle
    do_GET = _handle
    do_HEAD = _handle


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: capture_server.py <port> <out-dir> [status]\n")
        return 2
    port = int(sys.argv[1])
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.recorder = Recorder(sys.argv[2])
    srv.reply_status = int(sys.argv[3]) if len(sys.argv) == 4 else 200

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
