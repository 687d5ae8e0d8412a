#!/usr/bin/env bash
# Log-level policy: by default production drops DEBUG/TRACE and keeps INFO and above, other
# environments keep everything; a per-service override wins; every drop is counted in /metrics
# and in the ingest response, never silent; a bad policy fails start-up.
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"

start_server --grpc-listen off --set levels.min_by_service=checkout=debug
resp=$(cat <<'EOF2' | curl -sS -XPOST --data-binary @- "$BASE/sl/ingest/ndjson"
{"service":"orders","env":"production","level":"debug","msg":"prod debug dropped"}
{"service":"orders","env":"production","level":"trace","msg":"prod trace dropped"}
{"service":"orders","env":"production","level":"info","msg":"prod info kept"}
{"service":"orders","env":"production","level":"error","msg":"prod error kept"}
{"service":"orders","env":"development","level":"debug","msg":"dev debug kept"}
{"service":"orders","level":"debug","msg":"no env debug kept"}
{"service":"checkout","env":"production","level":"debug","msg":"checkout override kept"}
{"service":"orders","env":"production","msg":"unknown level kept"}
EOF2
)
check "response counts accepted and dropped" "$(echo "$resp" | jq -c '[.accepted, .dropped_by_level]')" "[6,2]"
kept=$(query '{service=~"orders|checkout"}' --data-urlencode limit=100 | jq -r '[.lines[].body] | sort | join("|")')
check "kept lines" "$kept" "checkout override kept|dev debug kept|no env debug kept|prod error kept|prod info kept|unknown level kept"
metrics=$(curl -sS "$BASE/metrics")
check "drops counted by level (debug)" "$(echo "$metrics" | grep -c 'sightline_ingest_dropped_total{reason="level",level="debug"} 1')" 1
check "drops counted by level (trace)" "$(echo "$metrics" | grep -c 'sightline_ingest_dropped_total{reason="level",level="trace"} 1')" 1
stop_server

if "$SIGHTLINE_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --grpc-listen off \
    --set levels.min_by_env=production=loud >"$WORK/bad.log" 2>&1; then
  fail "a bad level policy should stop start-up"
else
  check "a bad level policy names the key" "$(grep -c 'levels.min_by_env' "$WORK/bad.log" | awk '{print ($1 > 0)}')" 1
fi
finish
