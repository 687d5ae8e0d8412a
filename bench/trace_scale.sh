#!/usr/bin/env bash
# bench/trace_scale.sh: trace-by-id latency with a large number of stored spans (the issue's
# goal: < 20 ms with 100M spans). Sightline only; ClickHouse's side at 2M spans is in
# trace_bench.sh.
#
#   bench/trace_scale.sh [--spans-per-chunk N] [--chunks C] [--ids K] [--sightline PATH] [--spangen PATH]
#
# Generates C chunks of N spans (spangen seeds 1..C, each chunk one simulated hour, so the
# data covers C consecutive hours ending 2026-11-01T00:00Z), sends each over OTLP/HTTP
# protobuf and deletes it before generating the next (disk: one chunk at a time), waits until
# the server has flushed and merged, then times GET /sl/traces/<id>?logs=false for K ids
# sampled from every chunk (one curl per request, time_total). Prints ingest throughput,
# server CPU, peak RSS, bytes on disk per span and latency percentiles. Loopback only; the
# server and scratch directory are removed on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SL_BIN="$ROOT/build/sightline"
SPANGEN="$ROOT/build/spangen"
PER=10000000
CHUNKS=10
IDS=20
while [ $# -gt 0 ]; do
  case $1 in
    --spans-per-chunk) PER=$2; shift 2 ;;
    --chunks) CHUNKS=$2; shift 2 ;;
    --ids) IDS=$2; shift 2 ;;
    --sightline) SL_BIN=$2; shift 2 ;;
    --spangen) SPANGEN=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
END0=1793491200000000000  # 2026-11-01T00:00:00Z
SCRATCH=$(mktemp -d /tmp/sl-tracescale.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
BASE="http://127.0.0.1:$PORT"
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -9 "$PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
log() { echo "[$(date +%H:%M:%S)] $*"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

"$SL_BIN" serve --listen "127.0.0.1:$PORT" --grpc-listen off --data-dir "$SCRATCH/data" \
  --retention 0 --wal-fsync never >"$SCRATCH/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
: >"$SCRATCH/ids"
total=0
send_s=0
t0=$(cpu_ticks)
for c in $(seq 1 "$CHUNKS"); do
  end_ns=$((END0 - (CHUNKS - c) * 3600000000000))
  "$SPANGEN" otlp --spans "$PER" --seed "$c" --end-ns "$end_ns" --window 3600 \
    --out "$SCRATCH/chunk.otlp" >/dev/null
  "$SPANGEN" ids --spans "$PER" --seed "$c" --end-ns "$end_ns" --window 3600 --sample "$IDS" \
    >>"$SCRATCH/ids"
  s=$(date +%s.%N)
  "$SPANGEN" send --in "$SCRATCH/chunk.otlp" --url "$BASE/v1/traces" --concurrency 2 \
    --max-retry-s 600 | tail -1 >"$SCRATCH/send.$c"
  e=$(date +%s.%N)
  rm -f "$SCRATCH/chunk.otlp"
  total=$((total + PER))
  send_s=$(echo "$send_s + $e - $s" | bc)
  log "chunk $c/$CHUNKS: $(cat "$SCRATCH/send.$c" | grep -oE 'spans_per_s=[0-9]+') total=$total"
done
t1=$(cpu_ticks)
curl -sf -XPOST "$BASE/sl/admin/flush" >/dev/null
# Settle: wait until merges are done (CPU idle for 5 s), at most 30 min.
idle=0
for _ in $(seq 1 1800); do
  a=$(cpu_ticks); sleep 1; b=$(cpu_ticks)
  if [ $((b - a)) -lt 5 ]; then idle=$((idle + 1)); else idle=0; fi
  [ "$idle" -ge 5 ] && break
done
t2=$(cpu_ticks)
parts=$(curl -s "$BASE/metrics" | awk '/^sightline_span_parts /{print $2}')
disk=$(du -sb --exclude=wal "$SCRATCH/data/spans" | cut -f1)
rss=$(awk '/VmHWM/{print $2}' "/proc/$PID/status")
log "stored $total spans in $parts parts; $disk bytes ($(echo "scale=1; $disk / $total" | bc) B/span); peak RSS $((rss / 1024)) MiB"
log "ingest: $(echo "scale=0; $total / $send_s" | bc) spans/s wall, $(echo "scale=0; $total * 100 / ($t1 - $t0)" | bc) spans per server CPU-s while sending, $(echo "scale=0; $total * 100 / ($t2 - $t0)" | bc) including flush and merges"

# Trace-by-id latency: two passes over the ids (first cold-ish, second warm).
for pass in 1 2; do
  : >"$SCRATCH/lat.$pass"
  bad=0
  while read -r id; do
    out=$(curl -s -o "$SCRATCH/t.json" -w '%{http_code} %{time_total}' "$BASE/sl/traces/$id?logs=false")
    code=${out%% *}
    [ "$code" = 200 ] || bad=$((bad + 1))
    echo "${out##* }" >>"$SCRATCH/lat.$pass"
  done <"$SCRATCH/ids"
  sort -n "$SCRATCH/lat.$pass" | awk -v pass="$pass" -v bad="$bad" '{ v[NR] = $1 * 1000 } END {
    printf "trace by id pass %d: n=%d not_found=%d p50=%.2f ms p95=%.2f ms p99=%.2f ms max=%.2f ms\n",
      pass, NR, bad, v[int(NR * 0.5 + 0.5)], v[int(NR * 0.95 + 0.5)], v[int(NR * 0.99 + 0.5)], v[NR] }'
done
