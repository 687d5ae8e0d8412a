#!/usr/bin/env bash
# PII scrubbing end to end: PII of every default kind goes in through logs (NDJSON), spans
# (OTLP/JSON, attributes and events) and error events (the real python sentry-sdk and a raw
# /store/ event); then every read API (LogQL, trace by id, Sentry issues and events) and the raw
# bytes of the data directory that are not compressed (WAL segments, issues.db) are searched for
# the original values: zero hits. Then hash mode (equal values correlate) and scrubbing off.
# shellcheck disable=SC2016  # jq programs use $variables in single quotes
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
KEY=0123456789abcdef0123456789abcdef

# The secrets. Each must vanish; the "keep" values must survive.
EMAIL=ada.lovelace@example.com
CARD=4111111111111111
CARD2="5500 0000 0000 0004"
RRN=900101-1234568
PHONE="+1 415 555 0132"
JWT=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U
BEARER=tok3nX9zQ8wV7uT6sR5
AWS=AKIAIOSFODNN7EXAMPLE
PEMBODY=MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7
URLPASS=hunter2pass
PASSWORD=S3cr3tPassw0rd
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
ORDER=order-77812
SECRETS=("$EMAIL" "$CARD" "$CARD2" "$RRN" "$PHONE" "$JWT" "$BEARER" "$AWS" "$PEMBODY" "$URLPASS" "$PASSWORD")

start_server --set errors.default_key=$KEY --grpc-listen off
get() { curl -sS "$BASE$1"; }

# ---- logs: body and attributes
now=$(date +%s%N)
cat >"$WORK/logs.ndjson" <<EOF
{"ts":"$now","service":"checkout","level":"info","msg":"login by $EMAIL with card $CARD for $ORDER","trace_id":"$TRACE"}
{"ts":"$now","service":"checkout","level":"info","msg":"call with Authorization: Bearer $BEARER and key $AWS","phone":"$PHONE","rrn":"$RRN"}
{"ts":"$now","service":"checkout","level":"warn","msg":"db url postgres://app:$URLPASS@db:5432/shop","password":"$PASSWORD","jwt":"$JWT"}
{"ts":"$now","service":"checkout","level":"error","msg":"key leaked -----BEGIN PRIVATE KEY-----\n$PEMBODY\n-----END PRIVATE KEY----- card $CARD2"}
EOF
check "logs accepted" "$(curl -sS -XPOST --data-binary @"$WORK/logs.ndjson" "$BASE/sl/ingest/ndjson" | jq -r '.accepted')" 4

# ---- spans: attributes and events
S=$(( now ))
cat >"$WORK/trace.json" <<EOF
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
 "scopeSpans":[{"spans":[{"traceId":"$TRACE","spanId":"00f067aa0ba902b7","name":"POST /pay","kind":2,
  "startTimeUnixNano":"$S","endTimeUnixNano":"$((S + 1000000))",
  "attributes":[{"key":"user.email","value":{"stringValue":"$EMAIL"}},
                {"key":"http.request.header.authorization","value":{"stringValue":"Bearer $BEARER"}},
                {"key":"order.id","value":{"stringValue":"$ORDER"}}],
  "events":[{"timeUnixNano":"$((S + 500000))","name":"exception","attributes":[
    {"key":"exception.type","value":{"stringValue":"CardError"}},
    {"key":"exception.message","value":{"stringValue":"card $CARD declined for $EMAIL"}}]}]}]}]}]}
EOF
check "spans accepted" "$(curl -sS -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
  --data-binary @"$WORK/trace.json" "$BASE/v1/traces")" 200

# ---- error events: the real python SDK, PII in the message, user, tags, vars and breadcrumbs
SENTRY_DSN="http://$KEY@127.0.0.1:$PORT/1" EMAIL="$EMAIL" CARD="$CARD" PASSWORD="$PASSWORD" BEARER="$BEARER" \
  timeout 30 "$PY" - <<'PY' >"$WORK/py.out" 2>>"$WORK/py.err"
import os, sentry_sdk
sentry_sdk.init(os.environ["SENTRY_DSN"], send_default_pii=True, release="shop@1.0.0")
sentry_sdk.set_user({"id": "u-7", "email": os.environ["EMAIL"]})
sentry_sdk.set_tag("customer_email", os.environ["EMAIL"])
sentry_sdk.add_breadcrumb(message="charging card " + os.environ["CARD"], data={"password": os.environ["PASSWORD"]})
def charge(card, password):
    auth = "Bearer " + os.environ["BEARER"]
    raise ValueError("card %s declined for %s" % (card, os.environ["EMAIL"]))
try:
    charge(os.environ["CARD"], os.environ["PASSWORD"])
except ValueError as e:
    print(sentry_sdk.capture_exception(e))
sentry_sdk.flush(5)
PY
EV=$(head -1 "$WORK/py.out")
check "python event sent" "${#EV}" 32
curl -sS -XPOST -d '{"message":"reset link sent to '"$EMAIL"'","request":{"url":"https://shop.example/reset?token='"$BEARER"'","headers":{"Cookie":"session='"$BEARER"'","Authorization":"Bearer '"$BEARER"'"}}}' \
  "$BASE/api/1/store/?sentry_key=$KEY" >/dev/null
# Raw bytes before the flush moves them into compressed parts: the WAL segments hold every
# record as written (the order id proves the check sees the data).
sleep 1.5  # issue counters reach issues.db within a second
raw_files() { find "$DATA" -type f \( -name '*.wal' -o -name 'issues.db*' \); }
check "positive control: the kept order id is in the raw WAL" \
  "$(raw_files | xargs grep -laF -- "$ORDER" | wc -l | awk '{print ($1 > 0)}')" 1
check "positive control: the kept user id is in issues.db" \
  "$(raw_files | xargs grep -laF -- "id:u-7" | wc -l | awk '{print ($1 > 0)}')" 1
for s in "${SECRETS[@]}"; do
  check "no '$s' in the raw WAL and issues.db bytes" "$(raw_files | xargs grep -laF -- "$s" | wc -l | tr -d ' ')" 0
done
curl -sS -XPOST "$BASE/sl/admin/flush" >/dev/null

# ---- read everything back
{
  curl -sS -G "$BASE/sl/logs/query" --data-urlencode 'query={service="checkout"}' \
    --data-urlencode start=2020-01-01T00:00:00Z --data-urlencode end=2035-01-01T00:00:00Z --data-urlencode limit=1000
  get "/sl/traces/$TRACE"
  get "/api/0/projects/sightline/default/issues/?query="
  for id in $(get "/api/0/projects/sightline/default/issues/?query=" | jq -r '.[].id'); do
    get "/api/0/issues/$id/"; get "/api/0/issues/$id/events/"; get "/api/0/issues/$id/tags/"
  done
} >"$WORK/read.json"
check "reads returned the ingested data (order id kept)" "$(grep -c "$ORDER" "$WORK/read.json" | tr -d ' ' | awk '{print ($1 > 0)}')" 1
check "reads returned the trace id" "$(grep -c "$TRACE" "$WORK/read.json" | awk '{print ($1 > 0)}')" 1
check "reads show the mask" "$(grep -c '\[Filtered\]' "$WORK/read.json" | awk '{print ($1 > 0)}')" 1
for s in "${SECRETS[@]}"; do
  check "no '$s' in any read API" "$(grep -cF -- "$s" "$WORK/read.json")" 0
done
check "python event user id kept" "$(get "/api/0/projects/sightline/default/events/$EV/" | jq -r '.user.id')" u-7

# ---- hash mode: equal values correlate, the value itself is gone
stop_server
rm -rf "$DATA"
start_server --set errors.default_key=$KEY --grpc-listen off --set scrub.action=hash
printf '{"service":"a","msg":"mail %s"}\n{"service":"b","msg":"mail %s again"}\n' "$EMAIL" "$EMAIL" |
  curl -sS -XPOST --data-binary @- "$BASE/sl/ingest/ndjson" >/dev/null
lines=$(curl -sS -G "$BASE/sl/logs/query" --data-urlencode 'query={service=~"a|b"}' \
  --data-urlencode start=2020-01-01T00:00:00Z --data-urlencode end=2035-01-01T00:00:00Z | jq -r '.. | .body? // empty')
check "hash mode: no e-mail" "$(echo "$lines" | grep -cF "$EMAIL")" 0
h1=$(echo "$lines" | grep -o '\[hash:[0-9a-f]*\]' | sort -u | wc -l | tr -d ' ')
check "hash mode: the same value hashes the same in both lines" "$h1" 1

# ---- custom keys and patterns from the configuration; e-mails can be kept
stop_server
rm -rf "$DATA"
start_server --grpc-listen off --set scrub.keys=customer_ref --set 'scrub.patterns=\bEMP-[0-9]{6}\b' --set scrub.emails=false
printf '{"service":"c","msg":"badge EMP-123456 used by %s","customer_ref":"CR-991"}\n' "$EMAIL" |
  curl -sS -XPOST --data-binary @- "$BASE/sl/ingest/ndjson" >/dev/null
out=$(curl -sS -G "$BASE/sl/logs/query" --data-urlencode 'query={service="c"}' \
  --data-urlencode start=2020-01-01T00:00:00Z --data-urlencode end=2035-01-01T00:00:00Z)
check "custom pattern scrubbed" "$(echo "$out" | grep -c 'EMP-123456')" 0
check "custom key scrubbed" "$(echo "$out" | grep -c 'CR-991')" 0
check "scrub.emails=false keeps e-mails" "$(echo "$out" | grep -cF "$EMAIL" | awk '{print ($1 > 0)}')" 1

# ---- scrubbing off keeps values (the switch works both ways)
stop_server
rm -rf "$DATA"
start_server --grpc-listen off --set scrub.enabled=false
printf '{"service":"a","msg":"mail %s"}\n' "$EMAIL" | curl -sS -XPOST --data-binary @- "$BASE/sl/ingest/ndjson" >/dev/null
check "scrub.enabled=false keeps the value" "$(curl -sS -G "$BASE/sl/logs/query" --data-urlencode 'query={service="a"}' \
  --data-urlencode start=2020-01-01T00:00:00Z --data-urlencode end=2035-01-01T00:00:00Z | grep -cF "$EMAIL" | awk '{print ($1 > 0)}')" 1

finish
