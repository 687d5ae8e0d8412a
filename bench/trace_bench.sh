#!/usr/bin/env bash
# bench/trace_bench.sh: Sightline against ClickHouse 18.16 on the same generated distributed traces.
#
#   bench/trace_bench.sh [SIGHTLINE_BIN [SPANGEN_BIN]] [flags]
#     --sightline PATH     server binary (default build/sightline)
#     --spangen PATH       generator (default build/spangen, else build-bench/spangen)
#     --spans N            spans to generate (default 2000000)
#     --sizes "N1 N2"      run everything at each size
#     --ch "lz4 zstd"      ClickHouse compression methods to run (default both; "" for none)
#     --ch-load http|client  how ClickHouse is loaded (default http, see below)
#     --runs N             timed runs per query (default 20), after --warmup N (default 2)
#     --ids K              trace ids sampled for the trace-by-id latency (default 100)
#     --id-passes P        timed passes over the K ids (default 3: 3K samples per system)
#     --concurrency N      concurrent senders/loaders (default 2)
#     --batch N            spans per OTLP request (default 1000)
#     --ch-batch N         rows per ClickHouse INSERT (default 100000)
#     --window S           seconds of simulated time the traces cover (default 3600)
#     --seed S             generator seed (default 42)
#     --out DIR            results root (default bench/out); a run writes DIR/traces-<timestamp>/
#     --skip-sightline     only ClickHouse
#
# Builds nothing. Generates the data once per size (OTLP protobuf bodies for Sightline, the same
# spans as TabSeparated for ClickHouse), then for each system: fresh temporary data dir, start on
# a free port of 127.0.0.1, load, settle, measure, query, stop. Every wait is bounded; servers
# started here are stopped and scratch files removed on exit (BENCH_KEEP=1 keeps the scratch).
#
# Sightline: `serve --grpc-listen off --retention 0 --wal-fsync never`; `spangen send` posts the
# OTLP bodies to /v1/traces over --concurrency keep-alive connections (429/503 retried and
# counted). Settled when the span memtable is empty and the server used < 5 % of a CPU for 3
# seconds in a row, after POST /sl/admin/flush. Bytes on disk: du -sb of <data>/spans minus its wal/.
#
# ClickHouse (Jaeger-ClickHouse-like design, see ch_create_trace_tables below): one wide table
# ordered by (trace_id, start_ns) for whole-trace reads, and a materialized-view index ordered
# by (service, start_ns) for searches. Loaded with `INSERT ... FORMAT TabSeparated` over HTTP
# in --ch-batch row chunks (the server parses the text, as Sightline parses protobuf: its CPU
# is the server's; `--ch-load client` uses clickhouse-client instead, which parses on the
# client side and so understates the server's CPU). Bytes on disk: system.parts of both tables.
#
# Queries (each timed with curl's time_total, one curl process per request, as log_bench.sh):
#   trace by id        SL GET /sl/traces/<id>?logs=false     CH SELECT * FROM spans WHERE trace_id = ...
#   error search       SL GET /sl/traces/search?service=payments&error=true&limit=20&start&end
#                      CH newest 20 traces with a payments error span (index table), then their
#                         summaries (span count, errors, services, root) from the span table
#   RED                SL GET /sl/traces/red?start&end&step=60s (server spans by operation)
#                      CH count, errors, p50/p95/p99 by service, operation, minute from the index
#   service map        SL GET /sl/traces/service-map?start&end
#                      CH parent/child self-join on (trace_id, span_id) across services
# The generator knows the answers; the report's "result checks" line compares them.

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/clickhouse.sh
source "$HERE/clickhouse.sh"

SL_BIN="$ROOT/build/sightline"
SPANGEN=""
SIZES="2000000"
CH_METHODS="lz4 zstd"
CH_LOAD=http
RUNS=20
WARMUP=2
IDS=100
ID_PASSES=3
CONC=2
BATCH=1000
CH_BATCH=100000
WINDOW=3600
SEED=42
OUT_ROOT="$HERE/out"
SKIP_SL=0
END_NS=1793491200000000000   # 2026-11-01T00:00:00Z: the traces cover the --window seconds before

positional=()
while [ $# -gt 0 ]; do
  case $1 in
    --sightline) SL_BIN=$2; shift 2 ;;
    --spangen) SPANGEN=$2; shift 2 ;;
    --spans|--sizes) SIZES=$2; shift 2 ;;
    --ch) CH_METHODS=$2; shift 2 ;;
    --ch-load) CH_LOAD=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --ids) IDS=$2; shift 2 ;;
    --id-passes) ID_PASSES=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --ch-batch) CH_BATCH=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --out) OUT_ROOT=$2; shift 2 ;;
    --skip-sightline) SKIP_SL=1; shift ;;
    -h|--help) sed -n '2,50p' "$0"; exit 0 ;;
    -*) bl_die "unknown flag $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && SL_BIN=${positional[0]}
[ ${#positional[@]} -ge 2 ] && SPANGEN=${positional[1]}
SPANGEN=$(bl_find_gen spangen "$SPANGEN") || exit 1
if [ "$SKIP_SL" = 0 ] && [ ! -x "$SL_BIN" ]; then bl_die "sightline binary not found: $SL_BIN (or --skip-sightline)"; fi
case $CH_LOAD in http|client) ;; *) bl_die "--ch-load must be http or client" ;; esac
for t in curl jq python3 split du awk; do command -v $t >/dev/null || bl_die "$t is required (scripts/install-deps.sh --test)"; done
[ "$CH_LOAD" = http ] || command -v clickhouse-client >/dev/null || bl_die "clickhouse-client is required for --ch-load client"

trap bl_cleanup EXIT
trap 'exit 130' INT TERM

RUN_ID=$(date +%Y%m%d-%H%M%S)
OUT="$OUT_ROOT/traces-$RUN_ID"
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sl-tracebench.XXXXXX")
BL_TMPDIRS+=("$WORK")
bl_log "run $RUN_ID: sizes [$SIZES], results in $OUT, scratch in $WORK"

# Query range: the whole window, with a minute of margin each side.
Q_START=$(( END_NS - (WINDOW + 60) * 1000000000 ))
Q_END=$(( END_NS + 60 * 1000000000 ))
STEP_S=60

# tb_stats FILE: "p50 p95 p99 max" (nearest rank, ms) of the numbers in FILE.
tb_stats() {
  sort -n "$1" | awk '{a[NR]=$1} function r(q,  k) { k = int(q * NR); if (k < q * NR) k++; if (k < 1) k = 1; return a[k] }
    END { if (NR == 0) { print "nan nan nan nan"; exit } printf "%.2f %.2f %.2f %.2f\n", r(0.5), r(0.95), r(0.99), a[NR] }'
}

# tb_gen_stat FILE KEY: a key=value word from spangen's stats line.
tb_gen_stat() { grep -o "\b$2=[0-9.]*" "$1" | head -1 | cut -d= -f2; }

# ------------------------------------------------------------------------------------------------
# Sightline.
SL_PID=""
SL_PORT=""

sl_start() {
  local dir=$1
  mkdir -p "$dir/data"
  SL_PORT=$(bl_free_ports 1)
  # --retention 0: the traces are dated 2026-10-31, older than the default 7 days.
  "$SL_BIN" serve --data-dir "$dir/data" --listen "127.0.0.1:$SL_PORT" --grpc-listen off \
    --wal-fsync never --retention 0 >"$dir/server.log" 2>&1 &
  SL_PID=$!
  BL_PIDS+=("$SL_PID")
  if ! bl_wait_http "http://127.0.0.1:$SL_PORT/readyz" 60 "$SL_PID"; then
    bl_log "sightline did not become ready (GET /readyz); last log lines:"
    tail -20 "$dir/server.log" >&2 || true
    bl_stop_pid "$SL_PID"; SL_PID=""
    return 1
  fi
  bl_log "sightline pid $SL_PID on 127.0.0.1:$SL_PORT, data in $dir/data"
}

sl_stop() {
  [ -n "$SL_PID" ] || return 0
  bl_stop_pid "$SL_PID"
  SL_PID=""
}

sl_metric() {  # sl_metric NAME: value of an unlabelled metric from GET /metrics ("" if absent)
  curl -s --max-time 5 "http://127.0.0.1:$SL_PORT/metrics" | awk -v n="$1" '$1 == n {print $2; exit}'
}

# sl_settle_spans TIMEOUT_S: POST /sl/admin/flush, then wait (bounded) until the span memtable is
# empty and the server used less than 5 % of a CPU during each of 3 consecutive 1 s polls
# (memtable flushes and span merges have no "running" gauge; idleness covers both).
sl_settle_spans() {
  local code deadline quiet=0 mem c0 c1 idle_ticks
  code=$(curl -sS --max-time 300 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$SL_PORT/sl/admin/flush") || code=000
  case $code in 2??) ;; *) bl_log "WARNING: POST /sl/admin/flush answered HTTP $code" ;; esac
  idle_ticks=$(( BL_CLK_TCK / 20 ))
  deadline=$(( $(date +%s) + $1 ))
  c0=$(bl_cpu_ticks "$SL_PID")
  while [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 1
    c1=$(bl_cpu_ticks "$SL_PID")
    mem=$(sl_metric sightline_span_memtable_spans); mem=${mem:-0}
    if awk -v m="$mem" 'BEGIN{exit !(m + 0 == 0)}' && [ $((c1 - c0)) -le "$idle_ticks" ]; then
      quiet=$((quiet + 1)); [ $quiet -ge 3 ] && return 0
    else
      quiet=0
    fi
    c0=$c1
  done
  bl_log "WARNING: sightline still busy (or memtable not empty) after $1 s"
}

# sl_bench KEY=VALUE...: the whole Sightline measurement; results as key=value lines.
sl_bench() {
  local otlp spans otlp_bytes workdir ids results payments_err server_spans server_ops edges
  local warmup=2 runs=20 concurrency=2 id_passes=3 label=sightline
  local kv
  for kv in "$@"; do local "$kv"; done
  local busy; busy=$(bl_check_quiet "$label")
  sl_start "$workdir/server" || { { echo "system=$label"; echo "error=not ready"; } >> "$results"; return 1; }
  local base="http://127.0.0.1:$SL_PORT"

  # Ingest: server CPU (utime+stime, all threads) around the sender; the sender times first
  # request to last acknowledgement itself.
  local cpu0 cpu1 cpu2 t0 t1 t2 m0 c0
  m0=$(bl_machine_ticks); c0=$(bl_children_ticks)
  cpu0=$(bl_cpu_ticks "$SL_PID"); t0=$(bl_now)
  local send_rc=0
  "$SPANGEN" send --in "$otlp" --url "$base/v1/traces" --concurrency "$concurrency" \
    >"$workdir/send.txt" 2>"$workdir/send.err" || send_rc=$?
  t1=$(bl_now); cpu1=$(bl_cpu_ticks "$SL_PID")
  cat "$workdir/send.txt" "$workdir/send.err" >&2
  [ "$send_rc" = 0 ] || bl_log "WARNING: $label: spangen send failed (rc $send_rc)"
  local hwm_ingest; hwm_ingest=$(bl_hwm_kb "$SL_PID")
  sl_settle_spans 600
  t2=$(bl_now); cpu2=$(bl_cpu_ticks "$SL_PID")
  local hwm_settled; hwm_settled=$(bl_hwm_kb "$SL_PID")
  local stored mem; stored=$(sl_metric sightline_span_part_spans); mem=$(sl_metric sightline_span_memtable_spans)

  local total wal disk
  total=$(du -sb "$workdir/server/data/spans" 2>/dev/null | cut -f1); total=${total:-0}
  wal=0; [ -d "$workdir/server/data/spans/wal" ] && wal=$(du -sb "$workdir/server/data/spans/wal" | cut -f1)
  disk=$((total - wal))

  local qdir="$workdir/queries"; mkdir -p "$qdir"
  # Trace by id: a checking pass over the ids (span counts must match the generator's), then
  # id_passes timed passes.
  local id n got ids_ok=0 ids_n=0
  while read -r id n; do
    ids_n=$((ids_n + 1))
    got=$(curl -s --max-time 60 "$base/sl/traces/$id?logs=false" | jq '.spans | length' 2>/dev/null || echo "?")
    if [ "$got" = "$n" ]; then ids_ok=$((ids_ok + 1)); else bl_log "WARNING: $label trace $id: $got spans, expected $n"; fi
  done < "$ids"
  : > "$qdir/ids.ms"
  local _p
  for _p in $(seq 1 "$id_passes"); do
    while read -r id n; do
      curl -s --max-time 60 -o /dev/null -w '%{time_total}\n' "$base/sl/traces/$id?logs=false" | awk '{printf "%.3f\n", $1 * 1000}'
    done < "$ids" >> "$qdir/ids.ms"
  done
  local r_ids; r_ids=$(tb_stats "$qdir/ids.ms")

  local range=(--get --data-urlencode "start=$Q_START" --data-urlencode "end=$Q_END")
  bl_time_requests "$qdir/search" "$warmup" "$runs" "${range[@]}" --data-urlencode "service=payments" \
    --data-urlencode "error=true" --data-urlencode "limit=20" "$base/sl/traces/search" >/dev/null
  bl_time_requests "$qdir/red" "$warmup" "$runs" "${range[@]}" --data-urlencode "step=${STEP_S}s" \
    "$base/sl/traces/red" >/dev/null
  bl_time_requests "$qdir/map" "$warmup" "$runs" "${range[@]}" "$base/sl/traces/service-map" >/dev/null
  local r_search r_red r_map
  r_search=$(tb_stats "$qdir/search"); r_red=$(tb_stats "$qdir/red"); r_map=$(tb_stats "$qdir/map")
  local n_search n_red_series n_red_sum n_edges
  n_search=$(jq '.traces | length' "$qdir/search.body" 2>/dev/null || echo "?")
  n_red_series=$(jq '.series | length' "$qdir/red.body" 2>/dev/null || echo "?")
  n_red_sum=$(jq '[.series[].requests] | add // 0' "$qdir/red.body" 2>/dev/null || echo "?")
  n_edges=$(jq '.edges | length' "$qdir/map.body" 2>/dev/null || echo "?")
  local want_search=$(( payments_err < 20 ? payments_err : 20 ))
  [ "$n_search" = "$want_search" ] || bl_log "WARNING: $label search returned $n_search traces, expected $want_search"
  [ "$n_red_sum" = "$server_spans" ] || bl_log "WARNING: $label RED counts $n_red_sum requests, expected $server_spans"
  [ "$n_red_series" = "$server_ops" ] || bl_log "WARNING: $label RED has $n_red_series series, expected $server_ops"
  [ "$n_edges" = "$edges" ] || bl_log "WARNING: $label service map has $n_edges edges, expected $edges"
  local hwm_end; hwm_end=$(bl_hwm_kb "$SL_PID")
  local other; other=$(bl_other_pct "$m0" "$c0" "$cpu0" "$(bl_machine_ticks)" "$(bl_children_ticks)" \
    "$(bl_cpu_ticks "$SL_PID")" "$(bl_calc %.3f "$(bl_now) - $t0")")
  sl_stop

  {
    echo "system=$label"
    echo "version=sightline"
    echo "background_busy_pct=$busy"
    echo "other_cpu_pct=$other"
    echo "spans=$spans"
    echo "otlp_bytes=$otlp_bytes"
    tr ' ' '\n' < "$workdir/send.txt" | grep '=' | sed 's/^/send_/'
    echo "ingest_wall_s=$(bl_calc %.3f "$t1 - $t0")"
    echo "ingest_cpu_s=$(bl_ticks_to_s $((cpu1 - cpu0)))"
    echo "settle_wall_s=$(bl_calc %.3f "$t2 - $t1")"
    echo "settle_cpu_s=$(bl_ticks_to_s $((cpu2 - cpu1)))"
    echo "peak_rss_ingest_kb=$hwm_ingest"
    echo "peak_rss_settled_kb=$hwm_settled"
    echo "peak_rss_kb=$hwm_end"
    echo "stored_spans=$stored"
    echo "memtable_spans=$mem"
    echo "disk_bytes=$disk"
    echo "disk_wal_bytes=$wal"
    echo "q_ids=$r_ids"
    echo "q_ids_ok=$ids_ok/$ids_n"
    echo "q_search=$r_search"
    echo "q_search_hits=$n_search"
    echo "q_red=$r_red"
    echo "q_red_series=$n_red_series"
    echo "q_red_sum=$n_red_sum"
    echo "q_map=$r_map"
    echo "q_map_edges=$n_edges"
  } >> "$results"
}

# ------------------------------------------------------------------------------------------------
# ClickHouse.
#
# Schema (a Jaeger-ClickHouse-like design for 18.16):
# - `spans`: one row per span, every field, ORDER BY (trace_id, start_ns): a trace is a
#   contiguous range found through the sparse primary index (one or two 8192-row granules), as
#   jaeger-clickhouse's jaeger_spans table is ordered by traceID. Partitioned by day (`date`).
# - `spans_by_service`: a materialized view (its own MergeTree, filled on every insert into
#   spans) with the search/aggregation columns only, ORDER BY (service, start_ns), like
#   jaeger-clickhouse's jaeger_index table (ordered by service, then time). Searches and RED
#   read it, then fetch whole traces from `spans` by trace_id. It carries no attributes, so an
#   attribute search would scan `spans`; jaeger-clickhouse copies tags into its index, which would
#   roughly add the attributes' size again: this schema is the leaner (CH-friendlier) choice.
# - 18.16 has no DateTime64: start as UInt64 nanoseconds plus `date Date` for partitioning; no
#   data-skipping indexes (a syntax error in 18.16), no Map type; LowCardinality is experimental
#   (allow_experimental_low_cardinality_type = 0 by default), so plain String as in log_bench.
# - Ids as hex String, as Jaeger-ClickHouse and the OTel collector's ClickHouse exporter store them
#   (TSV cannot carry raw FixedString(16) bytes without escaping; unhex at insert would need a
#   second table).
# - Span and resource attributes as Nested(key String, value String) (two parallel arrays, values
#   as text), the 18.16 form of the OTel exporter's Map(String, String); kind and status code as
#   UInt8; events as one JSON String (they are rare: ~1 span in 60).
ch_create_trace_tables() {
  ch_sql "CREATE TABLE spans (
    date Date,
    trace_id String, span_id String, parent_span_id String,
    service String, name String, kind UInt8,
    start_ns UInt64, duration_ns UInt64,
    status_code UInt8, status_message String,
    attributes Nested(key String, value String),
    resource Nested(key String, value String),
    scope_name String, scope_version String,
    events String
  ) ENGINE = MergeTree PARTITION BY date ORDER BY (trace_id, start_ns)" >/dev/null
  ch_sql "CREATE MATERIALIZED VIEW spans_by_service
    ENGINE = MergeTree PARTITION BY date ORDER BY (service, start_ns)
    AS SELECT date, service, name, kind, status_code, start_ns, duration_ns, trace_id FROM spans" >/dev/null
}

ch_tcp_port() { grep -o '<tcp_port>[0-9]*' "$CH_DIR/conf/config.xml" | head -1 | cut -d'>' -f2; }

# ch_parallel_client DIR CONCURRENCY: loads every chunk with clickhouse-client (native protocol).
ch_parallel_client() {
  local dir=$1 conc=$2 port; port=$(ch_tcp_port)
  local files=("$dir"/chunk-*) pids=() k
  for ((k = 0; k < conc; k++)); do
    (
      local i fail=0
      for ((i = k; i < ${#files[@]}; i += conc)); do
        timeout 600 clickhouse-client --host 127.0.0.1 --port "$port" \
          --query "INSERT INTO spans FORMAT TabSeparated" < "${files[$i]}" || { echo "chunk ${files[$i]} failed" >&2; fail=1; }
      done
      exit $fail
    ) &
    pids+=($!)
  done
  local rc=0 p
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

# ch_trace_bench KEY=VALUE...: the whole ClickHouse measurement.
ch_trace_bench() {
  local tsv spans otlp_bytes workdir ids results compression=lz4 payments_err server_spans server_ops edges
  local warmup=2 runs=20 concurrency=2 id_passes=3 batch=100000 load=http label=clickhouse
  local kv
  for kv in "$@"; do local "$kv"; done
  local chunks="$workdir/chunks" input_bytes
  input_bytes=$(stat -c %s "$tsv")
  bl_log "$label: splitting $(basename "$tsv") into $batch-row chunks (not measured)"
  bl_split "$tsv" "$chunks" "$batch"
  local busy; busy=$(bl_check_quiet "$label")
  ch_start "$workdir/server" "$compression"
  ch_create_trace_tables

  local cpu0 cpu1 cpu2 t0 t1 t2 m0 c0
  m0=$(bl_machine_ticks); c0=$(bl_children_ticks)
  cpu0=$(bl_cpu_ticks "$CH_PID"); t0=$(bl_now)
  if [ "$load" = client ]; then
    ch_parallel_client "$chunks" "$concurrency" || bl_die "$label: some inserts failed"
  else
    bl_parallel_post "$chunks" "$concurrency" "$workdir/responses" \
      "http://127.0.0.1:$CH_PORT/?query=INSERT%20INTO%20spans%20FORMAT%20TabSeparated" \
      || bl_die "$label: some inserts failed"
  fi
  t1=$(bl_now); cpu1=$(bl_cpu_ticks "$CH_PID")
  local hwm_ingest; hwm_ingest=$(bl_hwm_kb "$CH_PID")
  ch_wait_merges 600
  t2=$(bl_now); cpu2=$(bl_cpu_ticks "$CH_PID")
  local hwm_merge; hwm_merge=$(bl_hwm_kb "$CH_PID")
  rm -rf "$chunks"

  local count count_idx disk disk_spans disk_index parts
  count=$(ch_sql "SELECT count() FROM spans")
  count_idx=$(ch_sql "SELECT count() FROM spans_by_service")
  [ "$count" = "$spans" ] || bl_log "WARNING: $label holds $count spans, expected $spans"
  local parts_where="active AND database = 'default'"
  disk=$(ch_sql "SELECT sum(bytes_on_disk) FROM system.parts WHERE $parts_where")
  disk_spans=$(ch_sql "SELECT sum(bytes_on_disk) FROM system.parts WHERE $parts_where AND table = 'spans'")
  disk_index=$((disk - disk_spans))
  parts=$(ch_sql "SELECT count() FROM system.parts WHERE $parts_where")

  local url="http://127.0.0.1:$CH_PORT/" qdir="$workdir/queries"
  mkdir -p "$qdir"
  local id n got ids_ok=0 ids_n=0
  while read -r id n; do
    ids_n=$((ids_n + 1))
    got=$(curl -s --max-time 60 "$url" --data-binary "SELECT * FROM spans WHERE trace_id = '$id' ORDER BY start_ns FORMAT JSONEachRow" | grep -c . || true)
    if [ "$got" = "$n" ]; then ids_ok=$((ids_ok + 1)); else bl_log "WARNING: $label trace $id: $got spans, expected $n"; fi
  done < "$ids"
  : > "$qdir/ids.ms"
  local _p
  for _p in $(seq 1 "$id_passes"); do
    while read -r id n; do
      curl -s --max-time 60 -o /dev/null -w '%{time_total}\n' "$url" \
        --data-binary "SELECT * FROM spans WHERE trace_id = '$id' ORDER BY start_ns FORMAT JSONEachRow" | awk '{printf "%.3f\n", $1 * 1000}'
    done < "$ids" >> "$qdir/ids.ms"
  done
  local r_ids; r_ids=$(tb_stats "$qdir/ids.ms")

  local in_range="start_ns >= $Q_START AND start_ns < $Q_END"
  # The newest 20 traces with an error span of payments, with the summary Sightline returns.
  local sql_search="SELECT trace_id, min(start_ns) AS start, max(start_ns + duration_ns) - min(start_ns) AS duration_ns,
      count() AS span_count, countIf(status_code = 2) AS error_count, groupUniqArray(service) AS services,
      anyIf(service, parent_span_id = '') AS root_service, anyIf(name, parent_span_id = '') AS root_name
    FROM spans WHERE trace_id IN (
      SELECT trace_id FROM spans_by_service WHERE service = 'payments' AND status_code = 2 AND $in_range
      GROUP BY trace_id ORDER BY max(start_ns) DESC LIMIT 20)
    GROUP BY trace_id ORDER BY start DESC FORMAT JSONEachRow"
  # RED of server spans by service and operation, per minute (Sightline's step=60s).
  local sql_red="SELECT service, name, intDiv(start_ns, $((STEP_S * 1000000000))) * $STEP_S AS t, count() AS requests,
      countIf(status_code = 2) AS errors, quantiles(0.5, 0.95, 0.99)(duration_ns) AS q
    FROM spans_by_service WHERE kind IN (2, 5) AND $in_range
    GROUP BY service, name, t ORDER BY service, name, t FORMAT JSONEachRow"
  # Service map: calls between services = spans whose parent is in another service.
  local sql_map="SELECT parent_service, service AS child_service, count() AS calls, countIf(status_code = 2) AS errors,
      quantiles(0.5, 0.95, 0.99)(duration_ns) AS q
    FROM (SELECT trace_id, parent_span_id AS sid, service, status_code, duration_ns FROM spans
          WHERE $in_range AND parent_span_id != '')
    ALL INNER JOIN (SELECT trace_id, span_id AS sid, service AS parent_service FROM spans WHERE $in_range)
    USING (trace_id, sid)
    WHERE parent_service != child_service
    GROUP BY parent_service, child_service ORDER BY parent_service, child_service FORMAT JSONEachRow"
  bl_time_requests "$qdir/search" "$warmup" "$runs" "$url" --data-binary "$sql_search" >/dev/null
  bl_time_requests "$qdir/red" "$warmup" "$runs" "$url" --data-binary "$sql_red" >/dev/null
  bl_time_requests "$qdir/map" "$warmup" "$runs" "$url" --data-binary "$sql_map" >/dev/null
  local r_search r_red r_map
  r_search=$(tb_stats "$qdir/search"); r_red=$(tb_stats "$qdir/red"); r_map=$(tb_stats "$qdir/map")
  local n_search n_red_series n_red_sum n_edges
  n_search=$(grep -c . "$qdir/search.body" || true)
  n_red_series=$(jq -r '"\(.service) \(.name)"' "$qdir/red.body" 2>/dev/null | sort -u | grep -c . || true)
  n_red_sum=$(jq -s 'map(.requests | tonumber) | add // 0' "$qdir/red.body" 2>/dev/null || echo "?")
  n_edges=$(grep -c . "$qdir/map.body" || true)
  local want_search=$(( payments_err < 20 ? payments_err : 20 ))
  [ "$n_search" = "$want_search" ] || bl_log "WARNING: $label search returned $n_search traces, expected $want_search"
  [ "$n_red_sum" = "$server_spans" ] || bl_log "WARNING: $label RED counts $n_red_sum requests, expected $server_spans"
  [ "$n_red_series" = "$server_ops" ] || bl_log "WARNING: $label RED has $n_red_series series, expected $server_ops"
  [ "$n_edges" = "$edges" ] || bl_log "WARNING: $label service map has $n_edges edges, expected $edges"
  local hwm_end; hwm_end=$(bl_hwm_kb "$CH_PID")
  local version; version=$(ch_sql 'SELECT version()')
  local other; other=$(bl_other_pct "$m0" "$c0" "$cpu0" "$(bl_machine_ticks)" "$(bl_children_ticks)" \
    "$(bl_cpu_ticks "$CH_PID")" "$(bl_calc %.3f "$(bl_now) - $t0")")
  ch_stop

  {
    echo "system=$label"
    echo "version=clickhouse-$version-$compression"
    echo "load=$load"
    echo "background_busy_pct=$busy"
    echo "other_cpu_pct=$other"
    echo "spans=$spans"
    echo "otlp_bytes=$otlp_bytes"
    echo "input_bytes=$input_bytes"
    echo "ingest_wall_s=$(bl_calc %.3f "$t1 - $t0")"
    echo "ingest_cpu_s=$(bl_ticks_to_s $((cpu1 - cpu0)))"
    echo "settle_wall_s=$(bl_calc %.3f "$t2 - $t1")"
    echo "settle_cpu_s=$(bl_ticks_to_s $((cpu2 - cpu1)))"
    echo "peak_rss_ingest_kb=$hwm_ingest"
    echo "peak_rss_settled_kb=$hwm_merge"
    echo "peak_rss_kb=$hwm_end"
    echo "stored_spans=$count"
    echo "index_rows=$count_idx"
    echo "disk_bytes=$disk"
    echo "disk_spans_bytes=$disk_spans"
    echo "disk_index_bytes=$disk_index"
    echo "parts=$parts"
    echo "q_ids=$r_ids"
    echo "q_ids_ok=$ids_ok/$ids_n"
    echo "q_search=$r_search"
    echo "q_search_hits=$n_search"
    echo "q_red=$r_red"
    echo "q_red_series=$n_red_series"
    echo "q_red_sum=$n_red_sum"
    echo "q_map=$r_map"
    echo "q_map_edges=$n_edges"
  } >> "$results"
}

# ------------------------------------------------------------------------------------------------
# The report: one column per system, then Sightline's advantage over each ClickHouse (x times
# better: throughput SL/CH; latency, RSS and bytes CH/SL).
report_size() {
  local size=$1; shift
  python3 - "$size" "$@" <<'EOF'
import sys
size, files = sys.argv[1], sys.argv[2:]
systems = []
for f in files:
    d = {}
    try:
        for line in open(f):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = v
    except FileNotFoundError:
        continue
    if d: systems.append(d)
def num(d, k, i=None):
    v = d.get(k)
    if v is None: return None
    if i is not None:
        parts = v.split()
        if len(parts) <= i: return None
        v = parts[i]
    try:
        x = float(v)
        return None if x != x else x
    except ValueError:
        return None
def div(a, b):
    return a / b if a is not None and b else None
rows = [
    ("ingest spans per server CPU-s", lambda d: div(num(d, "spans"), num(d, "ingest_cpu_s")), True, "{:,.0f}"),
    ("ingest spans/s (wall, acked)", lambda d: num(d, "send_spans_per_s") or div(num(d, "spans"), num(d, "ingest_wall_s")), True, "{:,.0f}"),
    ("ingest server CPU-s", lambda d: num(d, "ingest_cpu_s"), False, "{:.2f}"),
    ("settle CPU-s (flush+merges)", lambda d: num(d, "settle_cpu_s"), False, "{:.2f}"),
    ("peak RSS MB", lambda d: div(num(d, "peak_rss_kb"), 1024), False, "{:.0f}"),
    ("bytes on disk MB", lambda d: div(num(d, "disk_bytes"), 1e6), False, "{:.1f}"),
    ("bytes per stored span", lambda d: div(num(d, "disk_bytes"), num(d, "spans")), False, "{:.1f}"),
    ("OTLP bytes / disk bytes", lambda d: div(num(d, "otlp_bytes"), num(d, "disk_bytes")), True, "{:.2f}x"),
]
for label, key, stats in [("trace by id", "q_ids", ((0, "p50"), (1, "p95"), (2, "p99"), (3, "max"))),
                          ("error search (payments)", "q_search", ((0, "p50"), (2, "p99"))),
                          ("RED by operation", "q_red", ((0, "p50"), (2, "p99"))),
                          ("service map", "q_map", ((0, "p50"), (2, "p99")))]:
    for i, stat in stats:
        rows.append((f"{label} {stat} ms", (lambda k, i: lambda d: num(d, k, i))(key, i), False, "{:.2f}"))
sl = next((d for d in systems if d.get("system") == "sightline"), None)
chs = [d for d in systems if d.get("system", "").startswith("clickhouse")]
cols = [d.get("system") for d in systems]
adv = [f"SL vs {d['system'].replace('clickhouse', 'CH')}" for d in chs] if sl else []
otlp = num(systems[0], "otlp_bytes") if systems else 0
print(f"\n== {int(size):,} spans, {otlp / 1e6:.1f} MB OTLP protobuf ({otlp / int(size):.0f} B/span) ==")
if sl and sl.get("error"):
    print(f"   sightline: {sl['error']}")
w = 34
print(f"{'':{w}}" + "".join(f"{c:>17}" for c in cols) + "".join(f"{a:>17}" for a in adv))
for label, get, higher, fmt in rows:
    vals = []
    for d in systems:
        try: vals.append(get(d))
        except (TypeError, ZeroDivisionError): vals.append(None)
    line = f"{label:{w}}" + "".join(f"{(fmt.format(v) if v is not None else 'n/a'):>17}" for v in vals)
    if sl:
        try: s = get(sl)
        except (TypeError, ZeroDivisionError): s = None
        for c in chs:
            try: x = get(c)
            except (TypeError, ZeroDivisionError): x = None
            r = None
            if s and x:
                r = s / x if higher else x / s
            line += f"{(f'{r:.2f}x' if r is not None else 'n/a'):>17}"
    print(line)
if sl:
    print(f"sightline sender: {sl.get('send_concurrency', '?')} connections, request p50 {sl.get('send_p50_ms', '?')} ms, "
          f"p99 {sl.get('send_p99_ms', '?')} ms, max {sl.get('send_max_ms', '?')} ms; acked {sl.get('send_acked', '?')}, "
          f"rejected {sl.get('send_rejected', '?')}, failed {sl.get('send_failed_spans', '?')}, "
          f"429/503 retries {sl.get('send_retries', '?')}, connection errors {sl.get('send_conn_errors', '?')}")
for c in chs:
    print(f"{c['system']}: loaded by {c.get('load', '?')}, {int(num(c, 'input_bytes') or 0) / 1e6:.1f} MB TSV; "
          f"disk = spans {int(num(c, 'disk_spans_bytes') or 0) / 1e6:.1f} MB + index {int(num(c, 'disk_index_bytes') or 0) / 1e6:.1f} MB, "
          f"{c.get('parts', '?')} parts")
checks = []
for d in systems:
    checks.append(f"{d.get('system')}: stored={d.get('stored_spans', '?')} ids={d.get('q_ids_ok', '?')} "
                  f"search={d.get('q_search_hits', '?')} red_sum={d.get('q_red_sum', '?')} "
                  f"red_series={d.get('q_red_series', '?')} edges={d.get('q_map_edges', '?')}")
print("result checks: " + "; ".join(checks))
busy = [f"{d.get('system')} {d.get('background_busy_pct', '?')}% / {d.get('other_cpu_pct', '?')}%" for d in systems]
print("CPU used by other processes just before / during each system's run: " + ", ".join(busy)
      + " (over ~10% disturbs the figures)")
print("(advantage columns: x times better for Sightline: throughput and ratio SL/CH; time, RSS, bytes CH/SL)")
EOF
}

# ------------------------------------------------------------------------------------------------
read -r -a size_list <<<"$SIZES"
for size in "${size_list[@]}"; do
  sdir="$OUT/$size"; mkdir -p "$sdir"
  gen=(--spans "$size" --seed "$SEED" --window "$WINDOW" --end-ns "$END_NS")
  bl_log "generating $size spans (seed $SEED): OTLP bodies of $BATCH spans, and $IDS sampled trace ids"
  "$SPANGEN" otlp "${gen[@]}" --batch "$BATCH" --out "$WORK/spans.otlp" 2>"$sdir/spangen.txt"
  "$SPANGEN" ids "${gen[@]}" --sample "$IDS" --counts --out "$sdir/ids.txt" 2>/dev/null
  cat "$sdir/spangen.txt" >&2
  otlp_bytes=$(stat -c %s "$WORK/spans.otlp")
  expect=(payments_err="$(tb_gen_stat "$sdir/spangen.txt" payments_error_traces)"
          server_spans="$(tb_gen_stat "$sdir/spangen.txt" server_spans)"
          server_ops="$(tb_gen_stat "$sdir/spangen.txt" server_ops)"
          edges="$(tb_gen_stat "$sdir/spangen.txt" edges)")
  common=(spans="$size" otlp_bytes="$otlp_bytes" ids="$sdir/ids.txt" warmup="$WARMUP" runs="$RUNS"
          concurrency="$CONC" id_passes="$ID_PASSES" "${expect[@]}")
  files=()
  if [ "$SKIP_SL" = 0 ]; then
    rm -rf "$WORK/sl"; mkdir -p "$WORK/sl"
    sl_bench otlp="$WORK/spans.otlp" workdir="$WORK/sl" results="$sdir/sightline.txt" "${common[@]}" \
      || bl_log "sightline run failed; continuing with ClickHouse"
    sl_stop
    rm -rf "$WORK/sl"
    files+=("$sdir/sightline.txt")
  fi
  rm -f "$WORK/spans.otlp"
  if [ -n "${CH_METHODS// /}" ]; then
    bl_log "generating the same $size spans as TabSeparated for ClickHouse (not measured)"
    "$SPANGEN" tsv "${gen[@]}" --out "$WORK/spans.tsv" 2>/dev/null
    for m in $CH_METHODS; do
      rm -rf "$WORK/ch"; mkdir -p "$WORK/ch"
      ch_trace_bench tsv="$WORK/spans.tsv" workdir="$WORK/ch" compression="$m" batch="$CH_BATCH" load="$CH_LOAD" \
        results="$sdir/clickhouse-$m.txt" label="clickhouse-$m" "${common[@]}"
      ch_stop
      rm -rf "$WORK/ch"
      files+=("$sdir/clickhouse-$m.txt")
    done
    rm -f "$WORK/spans.tsv"
  fi
  report_size "$size" "${files[@]}" | tee "$sdir/report.txt"
done
for size in "${size_list[@]}"; do cat "$OUT/$size/report.txt"; done > "$OUT/report.txt"
bl_log "report: $OUT/report.txt"
