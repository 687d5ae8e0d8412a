#!/usr/bin/env bash
# Durability: kill -9 the server at a random moment during sustained ingest from several
# concurrent clients; after restart every acknowledged record must be there. Then tear the
# WAL tail by hand: the server must report it, start, and keep everything before it.
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"

start_server --set storage.flush_interval=300ms --set storage.memtable_bytes=2MiB

# Each loader sends batches of 200 lines; a batch id is recorded only after a 200 response.
loader() {
  local id=$1 b=0
  while [ -e "$WORK/run" ]; do
    b=$((b + 1))
    local batch="L${id}B${b}"
    awk -v batch="$batch" 'BEGIN { for (i = 0; i < 200; i++) printf "{\"service\":\"crash\",\"batch\":\"%s\",\"i\":%d,\"msg\":\"crash test line %d of %s with some padding text to make it realistic\"}\n", batch, i, i, batch }' >"$WORK/batch.$id"
    if curl -sf -XPOST "$BASE/sl/ingest/ndjson" --data-binary @"$WORK/batch.$id" -o /dev/null; then
      echo "$batch" >>"$WORK/acked.$id"
    fi
  done
}
touch "$WORK/run"
for id in 1 2 3; do loader "$id" & done
sleep "$(python3 -c 'import random; print(round(random.uniform(2.0, 4.0), 2))')"
crash_server
rm -f "$WORK/run"
wait
cat "$WORK"/acked.* | sort >"$WORK/acked"
acked=$(wc -l <"$WORK/acked")
echo "acknowledged batches before kill -9: $acked"
[ "$acked" -gt 10 ] && ok "sustained ingest ran ($acked batches)" || fail "too few batches acknowledged ($acked)"

start_server
curl -sS -G "$BASE/sl/logs/query" --data-urlencode 'query=sum by (batch) (count_over_time({service="crash"}[1d]))' \
  --data-urlencode type=instant --data-urlencode "end=$(($(date +%s) + 60))" >"$WORK/counts.json"
jq -r '.series[] | "\(.labels.batch) \(.points[0][1])"' "$WORK/counts.json" | sort >"$WORK/present"
missing=$(join -v1 "$WORK/acked" "$WORK/present" | wc -l)
check "every acknowledged batch is present after kill -9" "$missing" 0
partial=$(join "$WORK/acked" "$WORK/present" | awk '$2 != 200' | wc -l)
check "acknowledged batches are complete (200 lines each)" "$partial" 0

# Tear the WAL: append a partial record to the newest segment, then crash and restart.
curl -sf -XPOST "$BASE/sl/ingest/ndjson" --data-binary '{"service":"torn","msg":"before the tear"}' >/dev/null
crash_server
seg=$(ls "$DATA"/wal/*.wal | tail -1)
printf '\x12\x34\x56\x78\xff\x00\x00\x00\x01partial' >>"$seg"
start_server
grep -q 'torn WAL tail' "$WORK/server.log" && ok "torn WAL tail reported at startup" || fail "torn tail not reported"
check "record before the tear survives" "$(query '{service="torn"}' | jq '.lines | length')" 1
check "server healthy after torn tail" "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" 200
stop_server
finish
