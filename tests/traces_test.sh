#!/usr/bin/env bash
# End to end distributed tracing: three real Node services (gateway -> orders -> payments,
# tests/otel/trace_service.js) instrumented with the OpenTelemetry JS SDK + HTTP instrumentation
# (W3C traceparent), exporting with each of OTLP/HTTP protobuf, OTLP/HTTP JSON, OTLP/gRPC and
# Zipkin v2 JSON to a fresh server; 3 good and 1 failing checkout per exporter; then the native
# trace API (/sl/traces/...) and the Jaeger query API.
#
# Span tree of one checkout (what the SDK really emits; children in start-time order):
#   depth 0 gateway  server   "GET /checkout"   (root; http.route=/checkout, checkout.outcome=ok|fail)
#   depth 1 gateway  internal "validate cart"   (cart.items=3)
#   depth 1 gateway  client   "GET"             (url.full=.../orders?fail=..)
#   depth 2 orders   server   "GET /orders"
#   depth 3 orders   client   "GET"             (url.full=.../pay?fail=..)
#   depth 4 payments server   "GET /pay"
# Failing checkout: payments server span status error "card declined" with an "exception" event;
# the HTTP instrumentation also marks every server span with a 5xx response and every client span
# that got a 4xx/5xx as error (no message): 5 error spans, only "validate cart" is unset.
# shellcheck disable=SC2016,SC2034  # jq programs use $variables in single quotes; DATA is read by lib.sh
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OTEL="$ROOT/tests/otel"
SVC_PIDS=()

kill_services() {
  local p
  for p in "${SVC_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  SVC_PIDS=()
}
trap 'kill_services; cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_service LOGPREFIX NAME PORT DOWNSTREAM EXPORTER: waits (bounded) for "listening".
start_service() {
  local log="$WORK/$1-$2.log"
  node "$OTEL/trace_service.js" "$2" "$3" "$4" "$5" >"$log" 2>&1 &
  local pid=$!
  SVC_PIDS+=("$pid")
  for _ in $(seq 1 100); do
    if grep -q '^listening' "$log"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "service $2 exited early:"; cat "$log"; return 1; fi
    sleep 0.1
  done
  echo "service $2 did not start"; cat "$log"; return 1
}

# stop_services: SIGTERM each service (its provider.shutdown() flushes every span) and wait, bounded;
# sets STOP_CODES to the exit codes (0 = every export was accepted). Not in a subshell: it waits.
STOP_CODES=""
stop_services() {
  local p codes=() rc
  for p in "${SVC_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${SVC_PIDS[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
    rc=0; wait "$p" 2>/dev/null || rc=$?
    codes+=("$rc")
  done
  SVC_PIDS=()
  STOP_CODES="${codes[*]}"
}

# get PATH [curl args...]: GET $BASE/PATH into $WORK/resp.json, prints the HTTP status.
get() {
  local path=$1; shift
  curl -sS -o "$WORK/resp.json" -w '%{http_code}' -G "$BASE$path" "$@" || echo 000
}

# jqr FILTER: run FILTER over the last response (never fails the script).
jqr() { jq -r "$@" "$WORK/resp.json" 2>/dev/null || echo "<jq error>"; }

# wait_trace ID SPANS: polls (up to 10 s) until the trace has SPANS spans.
wait_trace() {
  local code
  for _ in $(seq 1 100); do
    code=$(get "/sl/traces/$1")
    if [ "$code" == 200 ] && [ "$(jqr '.summary.spanCount')" == "$2" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Pre-order signature of a /sl/traces/<id> response: one "depth:service:kind:name" per span.
SIG='[.spans[] | "\(.depth):\(.service):\(.kind):\(.name)"] | join(",")'
EXPECTED_SIG='0:gateway:server:GET /checkout,1:gateway:internal:validate cart,1:gateway:client:GET,2:orders:server:GET /orders,3:orders:client:GET,4:payments:server:GET /pay'
# Every span's parentSpanId is the spanId of the closest earlier span one level up (pre-order),
# the root's is "".
PARENTS_OK='.spans as $s | [range(0; $s | length) as $i | $s[$i] as $x |
  if $x.depth == 0 then $x.parentSpanId == "" else
    ([range(0; $i) | select($s[.].depth == $x.depth - 1)] | last) as $j |
    ($j != null and $s[$j].spanId == $x.parentSpanId) end] | all'

run_exporter() {
  local exp=$1 p
  # Fresh server (own ports and data directory) per exporter, so counts do not accumulate.
  PORT=$(free_port); BASE="http://127.0.0.1:$PORT"; DATA="$WORK/data-$exp"
  local gport; gport=$(free_port)
  start_server --grpc-listen "127.0.0.1:$gport"
  export SIGHTLINE_HTTP=$BASE SIGHTLINE_GRPC="http://127.0.0.1:$gport"
  local pg po pp
  pg=$(free_port); po=$(free_port); pp=$(free_port)
  local t0; t0=$(date +%s)
  start_service "$exp" payments "$pp" - "$exp"
  start_service "$exp" orders "$po" "http://127.0.0.1:$pp" "$exp"
  start_service "$exp" gateway "$pg" "http://127.0.0.1:$po" "$exp"
  timeout 60 node "$OTEL/trace_driver.js" "http://127.0.0.1:$pg" 3 1 >"$WORK/$exp-driver.jsonl" || true
  check "$exp: driver statuses" "$(jq -r .status "$WORK/$exp-driver.jsonl" | tr '\n' ' ')" "200 200 200 502 "
  stop_services
  check "$exp: services flushed and exited 0" "$STOP_CODES" "0 0 0"
  local fail_id ok_ids
  fail_id=$(jq -r 'select(.fail) | .traceId' "$WORK/$exp-driver.jsonl" | head -1)
  ok_ids=$(jq -r 'select(.fail | not) | .traceId' "$WORK/$exp-driver.jsonl" | tr '\n' ' ')
  check "$exp: gateway returned a trace id" "$(echo "$fail_id" | grep -cE '^[0-9a-f]{32}$')" 1
  local id all=1
  for id in $ok_ids $fail_id; do wait_trace "$id" 6 || all=0; done
  check "$exp: all 4 traces complete (6 spans each) within 10 s" "$all" 1

  # --- the failing trace, native API
  check "$exp: trace by id" "$(get "/sl/traces/$fail_id")" 200
  check "$exp: traceId" "$(jqr .traceId)" "$fail_id"
  check "$exp: summary root" "$(jqr '.summary | "\(.rootService) \(.rootName) \(.spanCount)"')" "gateway GET /checkout 6"
  check "$exp: summary services" "$(jqr '.summary.services | join(",")')" "gateway,orders,payments"
  check "$exp: summary errorCount > 0" "$(jqr '.summary.errorCount > 0')" true
  check "$exp: summary types" "$(jqr '.summary | "\(.startTimeUnixNano | type) \(.durationNs | type) \(.durationNs > 0)"')" "string number true"
  check "$exp: summary start within the run" "$(jqr --arg t0 "$t0" '(.summary.startTimeUnixNano | tonumber / 1e9) as $s | $s >= ($t0 | tonumber) - 5 and $s <= now + 5')" true
  check "$exp: span tree (pre-order, depth, service, kind, name)" "$(jqr "$SIG")" "$EXPECTED_SIG"
  check "$exp: parent links" "$(jqr "$PARENTS_OK")" true
  check "$exp: span ids" "$(jqr '[.spans[] | .spanId | test("^[0-9a-f]{16}$")] | all')" true
  check "$exp: span time types" "$(jqr '[.spans[] | (.startTimeUnixNano | type) == "string" and (.endTimeUnixNano | type) == "string" and (.durationNs | type) == "number"] | all')" true
  check "$exp: root span status error (HTTP 502)" "$(jqr '.spans[0].status.code')" error
  check "$exp: validate cart status unset" "$(jqr '.spans[] | select(.name == "validate cart") | .status.code')" unset
  check "$exp: error spans" "$(jqr '[.spans[] | select(.status.code == "error")] | length')" 5
  check "$exp: root attributes" "$(jqr '.spans[0].attributes | "\(.["http.route"]) \(.["checkout.outcome"]) \(.["http.response.status_code"] | tostring)"')" "/checkout fail 502"
  check "$exp: root resource service.name" "$(jqr '.spans[0].resource["service.name"]')" gateway
  check "$exp: client span url" "$(jqr '.spans[] | select(.service == "gateway" and .kind == "client") | .attributes["url.full"] | test("/orders\\?fail=1$")')" true
  check "$exp: payments status" "$(jqr '(.spans[] | select(.service == "payments")).status | "\(.code) \(.message)"')" "error card declined"
  check "$exp: payments exception event" "$(jqr '[(.spans[] | select(.service == "payments")).events[] | select(.name == "exception")] | length')" 1
  check "$exp: event time type" "$(jqr '(.spans[] | select(.service == "payments")).events[0].timeUnixNano | type')" string
  if [ "$exp" != zipkin ]; then
    # Zipkin annotations carry only the event name; OTLP carries the attributes and the resource.
    check "$exp: exception.message" "$(jqr '(.spans[] | select(.service == "payments")).events[] | select(.name == "exception") | .attributes["exception.message"]')" "card declined"
    check "$exp: resource attribute" "$(jqr '.spans[0].resource["deployment.environment"]')" test
  fi
  check "$exp: logs is a list" "$(jqr '.logs | type')" array

  # --- a good trace
  id=${ok_ids%% *}
  get "/sl/traces/$id" >/dev/null
  check "$exp: ok trace" "$(jqr '"\(.summary.spanCount) \(.summary.errorCount) \(.spans[0].status.code)"')" "6 0 unset"
  check "$exp: ok trace tree" "$(jqr "$SIG")" "$EXPECTED_SIG"
  check "$exp: unknown trace is 404" "$(get /sl/traces/0123456789abcdef0123456789abcdef)" 404
  check "$exp: 404 explains" "$(jqr '.error | type')" string

  # --- search
  local s_start s_end
  s_start=$(date -u -d "@$((t0 - 60))" +%Y-%m-%dT%H:%M:%SZ)
  s_end="$(( $(date +%s) + 60 ))000000000"
  local W=(--data-urlencode "start=$s_start" --data-urlencode "end=$s_end")
  get /sl/traces/search "${W[@]}" --data-urlencode error=true >/dev/null
  check "$exp: search error=true" "$(jqr '[.traces[].traceId] | join(",")')" "$fail_id"
  get /sl/traces/search "${W[@]}" --data-urlencode service=gateway --data-urlencode "operation=GET /checkout" --data-urlencode limit=10 >/dev/null
  check "$exp: search service+operation" "$(jqr '.traces | length')" 4
  check "$exp: search newest first" "$(jqr '.traces[0].traceId')" "$fail_id"
  check "$exp: search summary" "$(jqr '.traces[0] | "\(.rootService) \(.rootName) \(.spanCount) \(.errorCount > 0) \(.services | join(","))"')" "gateway GET /checkout 6 true gateway,orders,payments"
  check "$exp: search ok trace summary" "$(jqr '.traces[1].errorCount')" 0
  get /sl/traces/search "${W[@]}" --data-urlencode service=payments >/dev/null
  check "$exp: search by non-root service" "$(jqr '.traces | length')" 4
  get /sl/traces/search "${W[@]}" --data-urlencode attr=checkout.outcome=fail >/dev/null
  check "$exp: search by attribute" "$(jqr '[.traces[].traceId] | join(",")')" "$fail_id"
  get /sl/traces/search "${W[@]}" --data-urlencode attr=http.response.status_code=502 --data-urlencode service=gateway >/dev/null
  check "$exp: search by numeric attribute" "$(jqr '[.traces[].traceId] | join(",")')" "$fail_id"
  get /sl/traces/search "${W[@]}" --data-urlencode service=gateway --data-urlencode "operation=GET /checkout" --data-urlencode minDuration=1ms >/dev/null
  check "$exp: search minDuration" "$(jqr '.traces | length')" 4
  get /sl/traces/search "${W[@]}" --data-urlencode service=gateway --data-urlencode "operation=GET /checkout" --data-urlencode maxDuration=1ms >/dev/null
  check "$exp: search maxDuration" "$(jqr '.traces | length')" 0
  get /sl/traces/search "${W[@]}" --data-urlencode limit=2 >/dev/null
  check "$exp: search limit" "$(jqr '.traces | length')" 2
  get /sl/traces/search --data-urlencode start=2020-01-01T00:00:00Z --data-urlencode end=2020-01-02T00:00:00Z >/dev/null
  check "$exp: search outside time range" "$(jqr '.traces | length')" 0

  # --- services and operations
  get /sl/traces/services >/dev/null
  check "$exp: services" "$(jqr '[.services[].name] | sort | join(",")')" "gateway,orders,payments"
  check "$exp: gateway operations" "$(jqr '.services[] | select(.name == "gateway") | .operations | sort | join(",")')" "GET,GET /checkout,validate cart"
  check "$exp: payments operations" "$(jqr '.services[] | select(.name == "payments") | .operations | join(",")')" "GET /pay"

  # --- service map
  get /sl/traces/service-map "${W[@]}" >/dev/null
  check "$exp: service map edges" "$(jqr '[.edges[] | "\(.parent)->\(.child)"] | sort | join(",")')" "gateway->orders,orders->payments"
  check "$exp: gateway->orders calls/errors" "$(jqr '.edges[] | select(.parent == "gateway" and .child == "orders") | "\(.calls) \(.errors)"')" "4 1"
  check "$exp: orders->payments calls/errors" "$(jqr '.edges[] | select(.parent == "orders" and .child == "payments") | "\(.calls) \(.errors)"')" "4 1"
  check "$exp: edge latency percentiles" "$(jqr '[.edges[] | .p50Ms > 0 and .p50Ms <= .p95Ms and .p95Ms <= .p99Ms] | all')" true

  # --- Jaeger query API
  check "$exp: jaeger trace" "$(get "/jaeger/api/traces/$fail_id")" 200
  check "$exp: jaeger traceID and span count" "$(jqr '.data[0] | "\(.traceID) \(.spans | length)"')" "$fail_id 6"
  check "$exp: jaeger processes" "$(jqr '[.data[0].processes[].serviceName] | unique | join(",")')" "gateway,orders,payments"
  check "$exp: jaeger processIDs resolve" "$(jqr '.data[0] as $t | [$t.spans[] | $t.processes[.processID].serviceName != null] | all')" true
  check "$exp: jaeger CHILD_OF references" "$(jqr '[.data[0].spans[].references[]? | select(.refType == "CHILD_OF")] | length')" 5
  check "$exp: jaeger references resolve" "$(jqr '.data[0] as $t | [$t.spans[].spanID] as $ids | [$t.spans[].references[]? | .spanID as $p | any($ids[]; . == $p)] | all')" true
  check "$exp: jaeger root" "$(jqr '.data[0].spans[] | select((.references // []) | length == 0) | .operationName')" "GET /checkout"
  check "$exp: jaeger payments span has logs" "$(jqr '.data[0].spans[] | select(.operationName == "GET /pay") | (.logs | length) >= 1')" true
  check "$exp: jaeger times in microseconds" "$(jqr --arg t0 "$t0" '[.data[0].spans[] | .startTime / 1e6 > ($t0 | tonumber) - 5 and .startTime / 1e6 < now + 5 and (.duration | type) == "number"] | all')" true
  check "$exp: jaeger unknown trace is 404" "$(get /jaeger/api/traces/0123456789abcdef0123456789abcdef)" 404
  get /jaeger/api/services >/dev/null
  check "$exp: jaeger services" "$(jqr '.data | sort | join(",")')" "gateway,orders,payments"
  get /jaeger/api/dependencies --data-urlencode "endTs=$(( ($(date +%s) + 60) * 1000 ))" --data-urlencode lookback=3600000 >/dev/null
  check "$exp: jaeger dependencies" "$(jqr '[.data[] | "\(.parent)->\(.child)=\(.callCount)"] | sort | join(",")')" "gateway->orders=4,orders->payments=4"

  stop_server
}

for exp in otlp-proto otlp-json otlp-grpc zipkin; do
  echo "# exporter $exp"
  run_exporter "$exp"
done
finish
