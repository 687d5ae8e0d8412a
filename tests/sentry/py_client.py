#!/usr/bin/python3
"""Sends errors / messages / a transaction with the real Debian sentry_sdk 1.9.10 (integration tests).

usage: SENTRY_DSN=http://<key>@127.0.0.1:<port>/<project> /usr/bin/python3 py_client.py <subcommand> [args]
  same-bug               the same TypeError from the same line, captured twice (2 events)
  other-line             the same TypeError (type and message) from another function/line (1 event)
  message <text>         capture_message(<text>, level="error") (1 event)
  fingerprint <fp> [b]   capture_exception with scope.fingerprint = [<fp>]; always the same exception
                         (raised in fail_payment) unless "b" is given, then a different one (1 event)
  library                an exception raised inside an in-app callback that the stdlib calls, twice,
                         through two library call paths from the same in-app line:
                         json.loads(object_hook=cb) (json/__init__.py, json/decoder.py frames) and
                         re.sub(repl=cb) (re/__init__.py frame) -> identical in-app frames (2 events)
  traced                 sentry_sdk.start_transaction("checkout-job", op "task") with a child span
                         "load cart"; the exception is captured inside the child span (1 event on
                         /store/ + 1 transaction envelope on /envelope/)
  regress-release <rel>  capture_exception of a fixed exception with release=<rel> (1 event)

stdout: one `event_id=<32 hex>` line per captured event (the return of capture_exception /
capture_message); traced also prints `trace_id=<32 hex>` and `span_id=<16 hex>` (the span active at
capture time = the event's contexts.trace ids).
Exit status: 0 only if every printed event id (and, for traced, the transaction) was answered with
2xx by the server within sentry_sdk.flush(timeout=5); 1 = not delivered, 2 = usage. This is checked
with an HttpTransport subclass that records the HTTP status of every request (sentry-sdk 1.9 itself
only logs failures). Release/environment: $SENTRY_RELEASE / $SENTRY_ENVIRONMENT, default
sightline-itest@1.0.0 / itest (an explicit release also stops the SDK from running `git rev-parse`).
"""
import functools
import json
import os
import re
import sys
import threading

import sentry_sdk
from sentry_sdk.transport import HttpTransport

USAGE = ("usage: py_client.py <same-bug|other-line|message <text>|fingerprint <fp> [b]|library|"
         "traced|regress-release <release>>")


class TrackingTransport(HttpTransport):
    """HttpTransport that remembers which event ids the server accepted (2xx)."""

    lock = threading.Lock()
    delivered = set()  # event ids (store: payload event_id, envelope: header event_id)
    delivered_types = set()  # "store" and envelope item types answered with 2xx
    failures = []
    _current = None  # set on the single worker thread before each request

    def _send_event(self, event):
        self._current = ("store", event.get("event_id"), ["store"])
        try:
            return HttpTransport._send_event(self, event)
        finally:
            self._current = None

    def _send_envelope(self, envelope):
        types = ",".join(item.type or "?" for item in envelope.items)
        self._current = ("envelope[%s]" % types, envelope.headers.get("event_id"),
                         [item.type for item in envelope.items])
        try:
            return HttpTransport._send_envelope(self, envelope)
        finally:
            self._current = None

    def _update_rate_limits(self, response):  # called for every HTTP response
        what, event_id, types = self._current or ("?", None, [])
        with self.lock:
            if 200 <= response.status < 300:
                if event_id:
                    self.delivered.add(event_id)
                self.delivered_types.update(types)
            else:
                self.failures.append("%s %s: HTTP %s" % (what, event_id, response.status))
        return HttpTransport._update_rate_limits(self, response)

    def on_dropped_event(self, reason):
        what, event_id, _ = self._current or ("?", None, [])
        with self.lock:
            self.failures.append("%s %s dropped: %s" % (what, event_id, reason))


event_ids = []


def report(event_id):
    event_ids.append(event_id)
    print("event_id=%s" % event_id, flush=True)


# ---- the code under test: every "bug" lives on a fixed line -------------------------------------
def read_theme(config):
    return config["settings"] + 1  # same-bug: TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'


def read_profile_theme(user):
    return user["settings"] + 1  # other-line: the same TypeError from another function and line


def fail_payment(amount):
    raise RuntimeError("payment of %d declined" % amount)  # fingerprint: the default exception


def fail_shipping():
    raise LookupError("no carrier for zone")  # fingerprint ... b: a different exception


def handle_item(item):
    raise ValueError("unsupported item kind")  # library: raised inside the callback


def process_all(call):
    return call()  # library: the in-app caller (same line for both library paths)


LIBRARY_PATHS = [
    functools.partial(json.loads, '{"kind": "gift-card"}', object_hook=handle_item),
    functools.partial(re.sub, r"gift", handle_item, "gift-card"),
]


def run_job(step):
    if step == "charge":
        raise RuntimeError("job step charge failed")  # traced


def regress():
    raise KeyError("cache entry vanished")  # regress-release


# ---- subcommands ---------------------------------------------------------------------------------
def cmd_same_bug(args):
    # One user hits the bug twice: "users affected" must count them once.
    sentry_sdk.set_user({"id": "u-42", "email": "ada@example.com"})
    for _ in range(2):
        try:
            read_theme({"settings": None})
        except TypeError as e:
            report(sentry_sdk.capture_exception(e))


def cmd_other_line(args):
    try:
        read_profile_theme({"settings": None})
    except TypeError as e:
        report(sentry_sdk.capture_exception(e))


def cmd_message(args):
    if not args:
        raise UsageError("message <text>")
    report(sentry_sdk.capture_message(args[0], level="error"))


def cmd_fingerprint(args):
    if not args or not args[0]:
        raise UsageError("fingerprint <fp> [b]")
    with sentry_sdk.push_scope() as scope:
        scope.fingerprint = [args[0]]
        try:
            if len(args) > 1 and args[1] == "b":
                fail_shipping()
            else:
                fail_payment(42)
        except Exception as e:
            report(sentry_sdk.capture_exception(e))


def cmd_library(args):
    for call in LIBRARY_PATHS:
        try:
            process_all(call)
        except ValueError as e:
            report(sentry_sdk.capture_exception(e))


def cmd_traced(args):
    with sentry_sdk.start_transaction(op="task", name="checkout-job") as txn:
        with txn.start_child(op="db.query", description="load cart") as span:
            print("trace_id=%s" % span.trace_id, flush=True)
            print("span_id=%s" % span.span_id, flush=True)
            try:
                run_job("charge")
            except RuntimeError as e:
                report(sentry_sdk.capture_exception(e))


def cmd_regress_release(args):
    try:
        regress()
    except KeyError as e:
        report(sentry_sdk.capture_exception(e))


COMMANDS = {
    "same-bug": cmd_same_bug,
    "other-line": cmd_other_line,
    "message": cmd_message,
    "fingerprint": cmd_fingerprint,
    "library": cmd_library,
    "traced": cmd_traced,
    "regress-release": cmd_regress_release,
}


class UsageError(Exception):
    pass


def main(argv):
    dsn = os.environ.get("SENTRY_DSN")
    if not dsn or len(argv) < 2 or argv[1] not in COMMANDS:
        sys.stderr.write(("SENTRY_DSN is not set\n" if not dsn else "") + USAGE + "\n")
        return 2
    cmd, args = argv[1], argv[2:]
    release = os.environ.get("SENTRY_RELEASE") or "sightline-itest@1.0.0"
    if cmd == "regress-release":
        if not args or not args[0]:
            sys.stderr.write("usage: py_client.py regress-release <release>\n")
            return 2
        release = args[0]
    sentry_sdk.init(
        dsn=dsn,
        release=release,
        environment=os.environ.get("SENTRY_ENVIRONMENT") or "itest",
        server_name="itest-host",
        transport=TrackingTransport,
        traces_sample_rate=1.0 if cmd == "traced" else None,
        shutdown_timeout=5,
    )
    try:
        COMMANDS[cmd](args)
    except UsageError as e:
        sys.stderr.write("usage: py_client.py %s\n" % e)
        return 2
    sentry_sdk.flush(timeout=5)
    failures = list(TrackingTransport.failures)
    for event_id in event_ids:
        if event_id is None or event_id not in TrackingTransport.delivered:
            failures.append("event %s was not delivered" % event_id)
    if cmd == "traced" and "transaction" not in TrackingTransport.delivered_types:
        failures.append("the transaction was not delivered")
    for f in failures:
        sys.stderr.write("py_client: %s\n" % f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
