#!/usr/bin/python3
"""Runs every node_client.js / py_client.py subcommand against capture_server.py and checks that each
printed event id really arrived, and that trace ids line up. Needs `npm ci` in this directory first.

usage: /usr/bin/python3 selftest.py [-v] [capture-dir]
  -v            print a one-line summary of every captured request
  capture-dir   where to keep the captures (default: a temporary directory, removed at the end)
Ends with the line "N passed, N failed"; exit status 1 if anything failed.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = ["node", os.path.join(HERE, "node_client.js")]
PY = ["/usr/bin/python3", os.path.join(HERE, "py_client.py")]

# (name, argv, expected number of events, extra expectations)
CASES = [
    ("node same-bug", NODE + ["same-bug"], 2, {}),
    ("node other-line", NODE + ["other-line"], 1, {}),
    ("node message", NODE + ["message", "selftest message"], 1, {"message": "selftest message"}),
    ("node fingerprint", NODE + ["fingerprint", "fp-selftest"], 1, {"fingerprint": ["fp-selftest"]}),
    ("node fingerprint b", NODE + ["fingerprint", "fp-selftest", "b"], 1, {"fingerprint": ["fp-selftest"]}),
    ("node library", NODE + ["library"], 2, {"library": True}),
    ("node transaction", NODE + ["transaction"], 1, {"trace": True, "item": "span"}),
    ("node transaction static", NODE + ["transaction", "static"], 1, {"trace": True, "item": "transaction"}),
    ("node traced", NODE + ["traced"], 1, {"trace": True, "otlp": True}),
    ("py same-bug", PY + ["same-bug"], 2, {}),
    ("py other-line", PY + ["other-line"], 1, {}),
    ("py message", PY + ["message", "selftest message"], 1, {"message": "selftest message"}),
    ("py fingerprint", PY + ["fingerprint", "fp-selftest"], 1, {"fingerprint": ["fp-selftest"]}),
    ("py fingerprint b", PY + ["fingerprint", "fp-selftest", "b"], 1, {"fingerprint": ["fp-selftest"]}),
    ("py library", PY + ["library"], 2, {"library": True}),
    ("py traced", PY + ["traced"], 1, {"trace": True, "item": "transaction"}),
    ("py regress-release", PY + ["regress-release", "selftest@9.9.9"], 1, {"release": "selftest@9.9.9"}),
]


def parse_envelope(body):
    """Minimal envelope reader: items with `length` are read by size, the others up to '\\n'/EOF."""
    nl = body.find(b"\n")
    header = json.loads(body[: nl if nl >= 0 else len(body)])
    pos, items = (nl + 1 if nl >= 0 else len(body)), []
    while pos < len(body):
        nl = body.find(b"\n", pos)
        if nl < 0:
            nl = len(body)
        if nl == pos:  # blank line: tolerate
            pos += 1
            continue
        ih = json.loads(body[pos:nl])
        pos = nl + 1
        if "length" in ih:
            payload = body[pos:pos + ih["length"]]
            pos += ih["length"] + 1
        else:
            end = body.find(b"\n", pos)
            end = len(body) if end < 0 else end
            payload = body[pos:end]
            pos = end + 1
        items.append((ih, payload))
    return header, items


def load_captures(directory):
    """-> list of (meta, kind, header, [(item_header, payload_obj)])"""
    out = []
    for meta_file in sorted(glob.glob(os.path.join(directory, "*.json"))):
        meta = json.load(open(meta_file))
        body = open(meta_file[:-5] + ".body", "rb").read()
        path = meta["path"].split("?")[0]
        if path.endswith("/envelope/"):
            header, items = parse_envelope(body)
            parsed = []
            for ih, payload in items:
                try:
                    parsed.append((ih, json.loads(payload)))
                except ValueError:
                    parsed.append((ih, payload))
            out.append((meta, "envelope", header, parsed))
        elif path.endswith("/store/"):
            ev = json.loads(body)
            out.append((meta, "store", {}, [({"type": "event"}, ev)]))
        else:
            out.append((meta, "other", {}, [({"type": path}, body)]))
    return out


def summarize(captures):
    lines = []
    for meta, kind, header, items in captures:
        hdrs = {k.lower(): v for k, v in meta["headers"]}
        desc = []
        for ih, p in items:
            t = ih.get("type")
            if t == "event" and isinstance(p, dict):
                exc = (p.get("exception") or {}).get("values") or []
                desc.append("event %s %s" % (p.get("event_id", "")[:8],
                                            (exc[-1].get("type") if exc else None) or "message"))
            else:
                desc.append(str(t))
        lines.append("    %s %s enc=%s ctype=%s te=%s: %s" % (
            meta["method"], meta["path"].split("?")[0], hdrs.get("content-encoding"),
            hdrs.get("content-type"), hdrs.get("transfer-encoding"), ", ".join(desc)))
    return lines


def in_app_frames(ev):
    frames = ev["exception"]["values"][-1]["stacktrace"]["frames"]
    return [(f.get("function"), f.get("lineno")) for f in frames
            if f.get("in_app") and "/json/" not in f.get("abs_path", f.get("filename", ""))
            and "/re/" not in f.get("abs_path", f.get("filename", ""))]


def check_case(name, argv, n_events, expect, workdir, verbose):
    cap = os.path.join(workdir, re.sub(r"\W+", "_", name))
    srv = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "capture_server.py"), "0", cap],
                           stdout=subprocess.PIPE, text=True)
    errors = []
    try:
        port = int(srv.stdout.readline().split()[1])
        env = dict(os.environ, SENTRY_DSN="http://publickey@127.0.0.1:%d/42" % port,
                   OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:%d" % port)
        proc = subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True, timeout=15)
        # let the closing session update / client report land
        subprocess.run(["sleep", "0.3"])
    finally:
        srv.terminate()
        srv.wait(5)
    if proc.returncode != 0:
        errors.append("exit %d: %s" % (proc.returncode, proc.stderr.strip()[-500:]))
    out = dict()
    ids = re.findall(r"^event_id=([0-9a-f]{32})$", proc.stdout, re.M)
    for key in ("trace_id", "span_id"):
        m = re.search(r"^%s=([0-9a-f]+)$" % key, proc.stdout, re.M)
        out[key] = m.group(1) if m else None
    if len(ids) != n_events:
        errors.append("expected %d event_id lines, got %d" % (n_events, len(ids)))
    captures = load_captures(cap)
    events = {}
    item_types = set()
    for meta, kind, header, items in captures:
        for ih, p in items:
            item_types.add(ih.get("type"))
            if ih.get("type") == "event" and isinstance(p, dict):
                events[p.get("event_id")] = p
    for eid in ids:
        ev = events.get(eid)
        if ev is None:
            errors.append("event %s not captured" % eid)
            continue
        if "message" in expect:
            msg = ev.get("message")
            msg = msg.get("formatted") or msg.get("message") if isinstance(msg, dict) else msg
            if msg != expect["message"] or ev.get("level") != "error":
                errors.append("message/level: %r %r" % (msg, ev.get("level")))
        if "fingerprint" in expect and ev.get("fingerprint") != expect["fingerprint"]:
            errors.append("fingerprint: %r" % ev.get("fingerprint"))
        if "release" in expect and ev.get("release") != expect["release"]:
            errors.append("release: %r" % ev.get("release"))
        if expect.get("trace"):
            tr = (ev.get("contexts") or {}).get("trace") or {}
            if tr.get("trace_id") != out["trace_id"] or tr.get("span_id") != out["span_id"]:
                errors.append("event trace %r != printed %s/%s" % (tr, out["trace_id"], out["span_id"]))
    if expect.get("library") and len(ids) == 2 and all(i in events for i in ids):
        a, b = (events[i] for i in ids)
        if in_app_frames(a) != in_app_frames(b):
            errors.append("library: in-app frames differ: %r vs %r" % (in_app_frames(a), in_app_frames(b)))
    if "item" in expect and expect["item"] not in item_types:
        errors.append("no %s item captured (saw %s)" % (expect["item"], sorted(map(str, item_types))))
    if expect.get("otlp"):
        otlp = [p for meta, kind, h, items in captures if kind == "other" for ih, p in items
                if ih["type"] == "/v1/traces"]
        trace_ids = set()
        for body in otlp:
            for rs in json.loads(body).get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    trace_ids.update(s.get("traceId") for s in ss.get("spans", []))
        if out["trace_id"] not in trace_ids:
            errors.append("OTLP export lacks trace %s (saw %s)" % (out["trace_id"], trace_ids))
    print("%s %s (%d requests)" % ("ok  " if not errors else "FAIL", name, len(captures)))
    for e in errors:
        print("    " + e)
    if verbose:
        print("\n".join(summarize(captures)))
    return not errors


def main(args):
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    workdir = args[0] if args else tempfile.mkdtemp(prefix="sentry-selftest-")
    os.makedirs(workdir, exist_ok=True)
    passed = failed = 0
    try:
        for name, argv, n, expect in CASES:
            if check_case(name, argv, n, expect, workdir, verbose):
                passed += 1
            else:
                failed += 1
    finally:
        if not args:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
