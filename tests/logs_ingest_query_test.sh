#!/usr/bin/env bash
# End to end: the real server, NDJSON over curl (plain and gzip), the real OpenTelemetry JS
# logs SDK over OTLP/HTTP protobuf and JSON, the native query API and Loki's read API;
# then a clean restart and the same queries again; then bad input.
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# No level policy: this test ingests a production DEBUG line to test parsing (the default policy
# would drop it; tests/level_policy_test.sh covers the policy).
start_server --set storage.flush_interval=1s --set levels.min_by_env=

NOW=$(date +%s)
T1=$(date -u -d "@$((NOW - 60))" +%Y-%m-%dT%H:%M:%S.123456Z)
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
cat >"$WORK/a.ndjson" <<JSON
{"ts":"$T1","level":"info","service":"orders","msg":"order created id=1","trace_id":"$TRACE","user_id":42,"http":{"status":200,"method":"POST"}}
{"timestamp":$((NOW - 50)),"severity":"ERROR","app":"payments","message":"card declined: timeout talking to bank","traceId":"$TRACE","http":{"status":502}}
{"time":$((NOW - 40))123,"lvl":"warn","service.name":"orders","body":"slow query took 1500ms","X-Trace-ID":"req-abc-123","request_id":"r-9"}
{"@timestamp":"$T1","level":"debug","service":{"name":"inventory"},"msg":"cache miss","env":"production","host":"inv-1"}
JSON
resp=$(curl -sS -XPOST "$BASE/sl/ingest/ndjson" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/a.ndjson")
check "ndjson accepted" "$(echo "$resp" | jq .accepted)" 4

# gzip body with one bad line: partial acceptance, bad line reported.
printf '{"service":"gz","msg":"zipped line one"}\nnot json\n{"service":"gz","msg":"zipped line two"}\n' | gzip >"$WORK/b.gz"
resp=$(curl -sS -XPOST "$BASE/sl/ingest/ndjson" -H 'Content-Encoding: gzip' --data-binary @"$WORK/b.gz")
check "gzip ndjson accepted" "$(echo "$resp" | jq .accepted)" 2
check "gzip ndjson rejected" "$(echo "$resp" | jq .rejected)" 1

# The real OpenTelemetry SDK, both encodings.
node "$ROOT/tests/otel/send_logs.js" "$BASE" proto 300 r1
node "$ROOT/tests/otel/send_logs.js" "$BASE" json 200 r1

run_queries() {
  local phase=$1
  check "$phase: selector" "$(query '{service="orders"}' | jq '.lines | length')" 2
  check "$phase: newest first" "$(query '{service="orders"}' | jq -r '.lines[0].body')" "slow query took 1500ms"
  check "$phase: regex selector" "$(query '{service=~"orders|payments", level=~"error|warn"}' | jq '.lines | length')" 2
  check "$phase: line filter" "$(query '{} |= "timeout"' | jq -r '.lines[0].service')" payments
  check "$phase: word filter" "$(query '|: "DECLINED"' | jq '.lines | length')" 1
  check "$phase: not-contains" "$(query '{service="gz"} != "two"' | jq -r '.lines[0].body')" "zipped line one"
  check "$phase: numeric field filter" "$(query '{service=~"orders|payments"} | http.status >= 500' | jq -r '.lines[0].service')" payments
  check "$phase: trace across services" "$(query "{} | trace_id=\"$TRACE\"" | jq '[.lines[].service] | sort | join(",")' -r)" "orders,payments"
  check "$phase: hashed X-Trace-ID keeps original" "$(query '{service="orders"} |= "slow"' | jq -r '.lines[0].fields["trace_id.original"]')" req-abc-123
  check "$phase: nested service.name" "$(query '{service="inventory"}' | jq -r '.lines[0].host')" inv-1
  check "$phase: typed nested field" "$(query '{service="orders"} |= "created"' | jq '.lines[0].fields["http.status"]')" 200
  check "$phase: otel proto count" "$(QEND=$(date -u +%Y-%m-%dT%H:%M:%SZ -d @$((NOW + 60))) query 'sum(count_over_time({service="otel-proto"}[1h]))' --data-urlencode type=instant | jq -r '.series[0].points[0][1]')" 300
  check "$phase: otel json count" "$(query '{service="otel-json"}' --data-urlencode limit=1000 | jq '.lines | length')" 200
  check "$phase: otel severity" "$(query '{service="otel-proto", level="error"}' --data-urlencode limit=1000 | jq '.lines | length')" 30
  check "$phase: otel trace id" "$(query '{service="otel-json"} | trace_id="0af7651916cd43dd8448eb211c80319c"' --data-urlencode limit=1000 | jq '.lines | length')" 200
  check "$phase: otel attribute" "$(query '{service="otel-proto"} | i="7"' | jq -r '.lines[0].body')" "otel record 7 run r1"
  check "$phase: otel resource env" "$(query '{service="otel-proto", env="test"}' --data-urlencode limit=1 | jq -r '.lines[0].host')" itest-host
  local counts
  counts=$(query 'sum by (level) (count_over_time({service="otel-proto"}[1d]))' --data-urlencode step=1d | jq -c '[.series[] | {(.labels.level): .points[-1][1]}] | add')
  check "$phase: metric sum by level" "$counts" '{"error":30,"info":270}'
  # Pagination: 300 otel-proto lines in pages of 120.
  local c1 c2 c3 n1 n2 n3
  p1=$(query '{service="otel-proto"}' --data-urlencode limit=120)
  c1=$(echo "$p1" | jq -r .next_cursor)
  p2=$(query '{service="otel-proto"}' --data-urlencode limit=120 --data-urlencode "cursor=$c1")
  c2=$(echo "$p2" | jq -r .next_cursor)
  p3=$(query '{service="otel-proto"}' --data-urlencode limit=120 --data-urlencode "cursor=$c2")
  n=$( (echo "$p1"; echo "$p2"; echo "$p3") | jq -r '.lines[].body' | sort -u | wc -l)
  check "$phase: cursor pages cover all lines once" "$n" 300
  check "$phase: last page has no cursor" "$(echo "$p3" | jq -r .next_cursor)" null
  p1=$(query '{service="otel-proto"}' --data-urlencode limit=150)
  p2=$(query '{service="otel-proto"}' --data-urlencode limit=150 --data-urlencode "cursor=$(echo "$p1" | jq -r .next_cursor)")
  check "$phase: exactly full last page has no cursor" "$(echo "$p2" | jq -r '(.lines|length|tostring) + " " + (.next_cursor|tostring)')" "150 null"
  check "$phase: loki scalar" "$(curl -sS -G "$BASE/loki/api/v1/query" --data-urlencode 'query=1+1' | jq -c '.data.result[1]')" '"2"'
  check "$phase: upper-case trace id" "$(query "{} | trace_id=\"${TRACE^^}\"" | jq '.lines | length')" 2
  # Loki read API.
  local lr
  lr=$(curl -sS -G "$BASE/loki/api/v1/query_range" --data-urlencode 'query={service="payments"}' --data-urlencode "start=$(( (NOW - 3600) * 1000000000 ))" --data-urlencode "end=$(( (NOW + 60) * 1000000000 ))" --data-urlencode limit=10)
  check "$phase: loki streams" "$(echo "$lr" | jq -r '.data.resultType + ":" + .data.result[0].stream.service + ":" + .data.result[0].values[0][1]')" "streams:payments:card declined: timeout talking to bank"
  lr=$(curl -sS -G "$BASE/loki/api/v1/query" --data-urlencode 'query=vector(1)+vector(1)' --data-urlencode "time=$(( NOW * 1000000000 ))")
  check "$phase: grafana health check" "$(echo "$lr" | jq -r '.data.result[0].value[1]')" 2
  lr=$(curl -sS -G "$BASE/loki/api/v1/query_range" --data-urlencode 'query=sum by (service) (count_over_time({service=~"otel-.*"}[1h]))' --data-urlencode "start=$((NOW - 3600))" --data-urlencode "end=$((NOW + 60))" --data-urlencode step=60s)
  check "$phase: loki matrix" "$(echo "$lr" | jq -r '.data.resultType + ":" + (.data.result | length | tostring)')" "matrix:2"
  check "$phase: loki labels" "$(curl -sS "$BASE/loki/api/v1/labels?start=$((NOW - 3600))&end=$((NOW + 60))" | jq -c .data)" '["env","host","level","service"]'
  check "$phase: loki label values" "$(curl -sS "$BASE/loki/api/v1/label/service/values?start=$((NOW - 3600))&end=$((NOW + 60))" | jq -c .data)" '["gz","inventory","orders","otel-json","otel-proto","payments"]'
  check "$phase: services" "$(curl -sS "$BASE/sl/logs/services?start=$((NOW - 3600))&end=$((NOW + 60))" | jq -r '.services[0].name + "=" + (.services[0].count|tostring)')" "otel-proto=300"
  check "$phase: field values" "$(curl -sS -G "$BASE/sl/logs/fields/user_id/values" --data-urlencode "start=$((NOW - 3600))" --data-urlencode "end=$((NOW + 60))" | jq -r '.values[0].value')" 42
}

run_queries live
curl -sS -XPOST "$BASE/sl/admin/flush" >/dev/null
run_queries flushed
stop_server
start_server --set levels.min_by_env=
run_queries restarted

# Bad input: clear errors, nothing already accepted is lost.
code=$(curl -s -o "$WORK/err.json" -w '%{http_code}' -XPOST "$BASE/sl/ingest/ndjson" --data-binary 'garbage')
check "all-bad ndjson is 400" "$code" 400
check "400 explains" "$(jq -r .error "$WORK/err.json" | grep -c 'line 1')" 1
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$BASE/v1/logs" -H 'Content-Type: text/plain' --data-binary 'x')
check "otlp wrong content type is 415" "$code" 415
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$BASE/v1/logs" -H 'Content-Type: application/x-protobuf' --data-binary $'\x0a\xff\xff\xff\xff\x0f')
check "otlp malformed protobuf is 400" "$code" 400
head -c 300000000 /dev/zero | gzip -1 >"$WORK/bomb.gz"
code=$(curl -s -o "$WORK/err.json" -w '%{http_code}' -XPOST "$BASE/sl/ingest/ndjson" -H 'Content-Encoding: gzip' --data-binary @"$WORK/bomb.gz")
check "decompression bomb is 413" "$code" 413
code=$(curl -s -o "$WORK/err.json" -w '%{http_code}' -G "$BASE/sl/logs/query" --data-urlencode 'query={service="x"')
check "bad query is 400" "$code" 400
check "bad query message has column" "$(jq -r .error "$WORK/err.json" | grep -c 'col')" 1
check "data intact after bad input" "$(query '{service="orders"}' | jq '.lines | length')" 2
curl -sS -XPOST "$BASE/sl/ingest/ndjson" --data-binary '{"msg":"one more"}' >/dev/null
curl -sS "$BASE/metrics" >"$WORK/metrics.txt"
check "metrics: ingest counter" "$(grep '^sightline_ingest_records_total{protocol="ndjson"}' "$WORK/metrics.txt" | awk '{print $2}')" 1
check "metrics: wal counter" "$(grep -c '^sightline_wal_appends_total' "$WORK/metrics.txt")" 1
check "server logs are JSON" "$(head -1 "$WORK/server.log" | jq -r .service)" sightline
stop_server
finish
