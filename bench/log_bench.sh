#!/usr/bin/env bash
# bench/log_bench.sh: Sightline against ClickHouse 18.16 on the same generated microservice logs.
#
#   bench/log_bench.sh [SIGHTLINE_BIN [LOGGEN_BIN]] [flags]
#     --sightline PATH     server binary (default build/sightline)
#     --loggen PATH        generator (default build/loggen, else build-bench/loggen)
#     --lines N            lines to generate (default 2000000)
#     --sizes "N1 N2"      run everything at each size (query-time flatness; e.g. "2000000 10000000")
#     --ch "lz4 zstd"      ClickHouse compression methods to run (default both; "" for none)
#     --runs N             timed runs per query (default 20), after --warmup N (default 2)
#     --concurrency N      concurrent loaders (default 2); --batch N lines per request (default 100000)
#     --seed S             generator seed (default 42)
#     --out DIR            results root (default bench/out); a run writes DIR/<timestamp>/
#     --skip-sightline     only ClickHouse (e.g. while the server is not ready)
#     --rare-every N       a rare token every N lines (default 500000)
#
# Builds nothing. Generates the data once per size, then for each system: fresh temporary data
# dir, start, load the same data, measure, query, stop. See bench/README.md for what is measured.
# Only 127.0.0.1; every wait is bounded; servers it starts are stopped on exit.

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/clickhouse.sh
source "$HERE/clickhouse.sh"

SL_BIN="$ROOT/build/sightline"
LOGGEN=""
SIZES="2000000"
CH_METHODS="lz4 zstd"
RUNS=20
WARMUP=2
CONC=2
BATCH=100000
SEED=42
OUT_ROOT="$HERE/out"
SKIP_SL=0
RARE_EVERY=500000
TOKEN=zq9xk7unicorn
START_NS=1793491200000000000   # 2026-11-01T00:00:00Z, loggen's default
RATE=2000                      # loggen's simulated lines per second
SL_STEP=${SL_STEP:-1d}

positional=()
while [ $# -gt 0 ]; do
  case $1 in
    --sightline) SL_BIN=$2; shift 2 ;;
    --loggen) LOGGEN=$2; shift 2 ;;
    --lines) SIZES=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --ch) CH_METHODS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --out) OUT_ROOT=$2; shift 2 ;;
    --skip-sightline) SKIP_SL=1; shift ;;
    --rare-every) RARE_EVERY=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) bl_die "unknown flag $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && SL_BIN=${positional[0]}
[ ${#positional[@]} -ge 2 ] && LOGGEN=${positional[1]}
LOGGEN=$(bl_find_gen loggen "$LOGGEN") || exit 1
if [ "$SKIP_SL" = 0 ] && [ ! -x "$SL_BIN" ]; then bl_die "sightline binary not found: $SL_BIN (or --skip-sightline)"; fi
for t in curl jq python3 split du awk; do command -v $t >/dev/null || bl_die "$t is required (scripts/install-deps.sh --test)"; done

trap bl_cleanup EXIT
trap 'exit 130' INT TERM

RUN_ID=$(date +%Y%m%d-%H%M%S)
OUT="$OUT_ROOT/$RUN_ID"
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sl-logbench.XXXXXX")
BL_TMPDIRS+=("$WORK")
bl_log "run $RUN_ID: sizes [$SIZES], results in $OUT, scratch in $WORK"

# ------------------------------------------------------------------------------------------------
# Sightline.
SL_PID=""
SL_PORT=""

sl_start() {
  local dir=$1
  mkdir -p "$dir/data"
  SL_PORT=$(bl_free_ports 1)
  # --retention 0: loggen dates its lines from 2026-11-01, older than the default 7 days.
  "$SL_BIN" serve --data-dir "$dir/data" --listen "127.0.0.1:$SL_PORT" --wal-fsync never --retention 0 \
    --set levels.min_by_env= \
    >"$dir/server.log" 2>&1 &
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

sl_metric() {  # sl_metric NAME: value of an unlabelled metric from GET /metrics
  curl -s --max-time 5 "http://127.0.0.1:$SL_PORT/metrics" | awk -v n="$1" '$1 == n {print $2; exit}'
}

# sl_settle TIMEOUT_S: POST /sl/admin/flush, then wait until sightline_merges_running is 0 on 3
# consecutive polls (bounded).
sl_settle() {
  local code deadline quiet=0 m
  code=$(curl -sS --max-time 300 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$SL_PORT/sl/admin/flush") || code=000
  case $code in 2??) ;; *) bl_log "WARNING: POST /sl/admin/flush answered HTTP $code" ;; esac
  deadline=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    m=$(sl_metric sightline_merges_running)
    if [ -z "$m" ]; then bl_log "WARNING: /metrics has no sightline_merges_running"; return 0; fi
    if awk -v m="$m" 'BEGIN{exit !(m + 0 == 0)}'; then quiet=$((quiet + 1)); [ $quiet -ge 3 ] && return 0; else quiet=0; fi
    sleep 0.5
  done
  bl_log "WARNING: merges still running after $1 s"
}

# sl_bench KEY=VALUE...: the same measurement as ch_bench, against Sightline's HTTP API.
sl_bench() {
  local data raw_bytes lines workdir token rare_hits trace_id trace_lines results end_ns
  local warmup=2 runs=20 concurrency=2 batch=100000 label=sightline
  local kv
  for kv in "$@"; do local "$kv"; done
  local chunks="$workdir/chunks"
  bl_log "$label: splitting $(basename "$data") into $batch-line chunks (not measured)"
  bl_split "$data" "$chunks" "$batch"
  local busy; busy=$(bl_check_quiet "$label")
  sl_start "$workdir/server" || { rm -rf "$chunks"; echo "system=$label" >> "$results"; echo "error=not ready" >> "$results"; return 1; }

  local cpu0 cpu1 cpu2 t0 t1 t2
  local m0 c0; m0=$(bl_machine_ticks); c0=$(bl_children_ticks)
  cpu0=$(bl_cpu_ticks "$SL_PID"); t0=$(bl_now)
  local ingest_ok=1
  bl_parallel_post "$chunks" "$concurrency" "$workdir/responses" \
    -H 'Content-Type: application/x-ndjson' "http://127.0.0.1:$SL_PORT/sl/ingest/ndjson" || ingest_ok=0
  t1=$(bl_now); cpu1=$(bl_cpu_ticks "$SL_PID")
  local hwm_ingest; hwm_ingest=$(bl_hwm_kb "$SL_PID")
  [ $ingest_ok = 1 ] || bl_log "WARNING: $label: some ingest requests failed"
  local accepted rejected
  accepted=$(cat "$workdir/responses"/* | jq -s 'map(.accepted // 0) | add' 2>/dev/null || echo "?")
  rejected=$(cat "$workdir/responses"/* | jq -s 'map(.rejected // 0) | add' 2>/dev/null || echo "?")
  [ "$accepted" = "$lines" ] || bl_log "WARNING: $label accepted $accepted of $lines lines (rejected $rejected)"
  rm -rf "$chunks"
  sl_settle 600
  t2=$(bl_now); cpu2=$(bl_cpu_ticks "$SL_PID")
  local hwm_settled; hwm_settled=$(bl_hwm_kb "$SL_PID")

  # Bytes on disk: the data dir without the write-ahead log (wal/).
  local total wal disk
  total=$(du -sb "$workdir/server/data" | cut -f1)
  wal=0; [ -d "$workdir/server/data/wal" ] && wal=$(du -sb "$workdir/server/data/wal" | cut -f1)
  disk=$((total - wal))

  local url="http://127.0.0.1:$SL_PORT/sl/logs/query" qdir="$workdir/queries"
  mkdir -p "$qdir"
  local common=(--get --data-urlencode "start=$START_NS" --data-urlencode "end=$end_ns")
  local r_rare r_sub r_err r_trace r_counts
  r_rare=$(bl_time_requests "$qdir/rare" "$warmup" "$runs" "${common[@]}" \
    --data-urlencode "query={} |: \"$token\"" --data-urlencode "limit=1000" "$url")
  r_sub=$(bl_time_requests "$qdir/rare_sub" "$warmup" "$runs" "${common[@]}" \
    --data-urlencode "query={} |= \"$token\"" --data-urlencode "limit=1000" "$url")
  r_err=$(bl_time_requests "$qdir/errors" "$warmup" "$runs" "${common[@]}" \
    --data-urlencode 'query={service="orders", level="error"}' --data-urlencode "limit=100" "$url")
  r_trace=$(bl_time_requests "$qdir/trace" "$warmup" "$runs" "${common[@]}" \
    --data-urlencode "query={} | trace_id=\"$trace_id\"" --data-urlencode "limit=1000" "$url")
  r_counts=$(bl_time_requests "$qdir/counts" "$warmup" "$runs" "${common[@]}" \
    --data-urlencode 'query=sum by (service, level) (count_over_time({}[1d]))' --data-urlencode "step=$SL_STEP" "$url")
  local hwm_end; hwm_end=$(bl_hwm_kb "$SL_PID")

  # Check the answers: hits of log queries are the entries of all streams; counts sum the last
  # point of every series.
  local n_rare n_sub n_err n_trace n_counts
  # Sightline answers {"status","type":"streams","lines":[...]} and {"type":"matrix","series":
  # [{"labels","points":[[t,v]...]}]}; the Loki shape (data.result) is accepted too.
  local entries='if .status != "success" then "error" elif .lines then (.lines | length)
    else ([.data.result[]?.values | length] | add // 0) end'
  n_rare=$(jq "$entries" "$qdir/rare.body" 2>/dev/null || echo "?")
  n_sub=$(jq "$entries" "$qdir/rare_sub.body" 2>/dev/null || echo "?")
  n_err=$(jq "$entries" "$qdir/errors.body" 2>/dev/null || echo "?")
  n_trace=$(jq "$entries" "$qdir/trace.body" 2>/dev/null || echo "?")
  n_counts=$(jq 'if .status != "success" then "error" elif .series then ([.series[] | .points[-1][1] | tonumber] | add // 0)
    else ([.data.result[]? | (.values[-1][1] // .value[1]) | tonumber] | add // 0) end' \
    "$qdir/counts.body" 2>/dev/null || echo "?")
  [ "$n_rare" = "$rare_hits" ] || bl_log "WARNING: $label |: query found $n_rare lines, expected $rare_hits"
  [ "$n_sub" = "$rare_hits" ] || bl_log "WARNING: $label |= query found $n_sub lines, expected $rare_hits"
  [ "$n_err" = 100 ] || bl_log "WARNING: $label errors query returned $n_err lines, expected 100"
  [ "$n_trace" = "$trace_lines" ] || bl_log "WARNING: $label trace query found $n_trace lines, expected $trace_lines"
  [ "$n_counts" = "$lines" ] || bl_log "WARNING: $label counts sum to $n_counts, expected $lines"
  local other; other=$(bl_other_pct "$m0" "$c0" "$cpu0" "$(bl_machine_ticks)" "$(bl_children_ticks)" \
    "$(bl_cpu_ticks "$SL_PID")" "$(bl_calc %.3f "$(bl_now) - $t0")")
  sl_stop

  {
    echo "system=$label"
    echo "version=sightline"
    echo "background_busy_pct=$busy"
    echo "other_cpu_pct=$other"
    echo "lines=$lines"
    echo "raw_bytes=$raw_bytes"
    echo "accepted=$accepted"
    echo "rejected=$rejected"
    echo "ingest_wall_s=$(bl_calc %.3f "$t1 - $t0")"
    echo "ingest_cpu_s=$(bl_ticks_to_s $((cpu1 - cpu0)))"
    echo "settle_wall_s=$(bl_calc %.3f "$t2 - $t1")"
    echo "settle_cpu_s=$(bl_ticks_to_s $((cpu2 - cpu1)))"
    echo "peak_rss_ingest_kb=$hwm_ingest"
    echo "peak_rss_settled_kb=$hwm_settled"
    echo "peak_rss_kb=$hwm_end"
    echo "disk_bytes=$disk"
    echo "disk_wal_bytes=$wal"
    echo "q_rare=$r_rare"
    echo "q_rare_hits=$n_rare"
    echo "q_rare_sub=$r_sub"
    echo "q_rare_sub_hits=$n_sub"
    echo "q_errors=$r_err"
    echo "q_errors_hits=$n_err"
    echo "q_trace=$r_trace"
    echo "q_trace_hits=$n_trace"
    echo "q_counts=$r_counts"
    echo "q_counts_sum=$n_counts"
  } >> "$results"
}

# ------------------------------------------------------------------------------------------------
# The report: one column per system, the last columns Sightline's advantage over each ClickHouse
# (x times better: throughput and ratio SL/CH; latency, RSS and bytes CH/SL).
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
def per_cpu(d, what):
    cpu = num(d, "ingest_cpu_s")
    if not cpu: return None
    return num(d, "lines") / cpu if what == "lines" else num(d, "raw_bytes") / cpu / 1e6
rows = [
    # label, getter, higher_is_better, format
    ("ingest lines per CPU-s", lambda d: per_cpu(d, "lines"), True, "{:,.0f}"),
    ("ingest MB per CPU-s", lambda d: per_cpu(d, "mb"), True, "{:.1f}"),
    ("ingest lines/s (wall, acked)", lambda d: num(d, "lines") / num(d, "ingest_wall_s") if num(d, "ingest_wall_s") else None, True, "{:,.0f}"),
    ("ingest server CPU-s", lambda d: num(d, "ingest_cpu_s"), False, "{:.2f}"),
    ("settle CPU-s (flush+merges)", lambda d: num(d, "settle_cpu_s"), False, "{:.2f}"),
    ("peak RSS MB", lambda d: num(d, "peak_rss_kb") / 1024 if num(d, "peak_rss_kb") else None, False, "{:.0f}"),
    ("bytes on disk MB", lambda d: num(d, "disk_bytes") / 1e6 if num(d, "disk_bytes") else None, False, "{:.1f}"),
    ("compression ratio", lambda d: num(d, "raw_bytes") / num(d, "disk_bytes") if num(d, "disk_bytes") else None, True, "{:.2f}x"),
]
queries = [("rare token |: (CH: position)", "q_rare"), ("rare token |= substring", "q_rare_sub"),
           ("newest 100 errors of orders", "q_errors"), ("all lines of one trace", "q_trace"),
           ("counts by service, level", "q_counts")]
for label, key in queries:
    for i, stat in ((0, "median"), (1, "p95")):
        rows.append((f"{label} {stat} ms", (lambda k, i: lambda d: num(d, k, i))(key, i), False, "{:.1f}"))
sl = next((d for d in systems if d.get("system") == "sightline"), None)
chs = [d for d in systems if d.get("system", "").startswith("clickhouse")]
cols = [d.get("system") for d in systems]
adv = [f"SL vs {d['system'].replace('clickhouse', 'CH')}" for d in chs] if sl else []
raw = num(systems[0], "raw_bytes") if systems else 0
print(f"\n== {int(size):,} lines, {raw / 1e6:.1f} MB NDJSON ({raw / int(size):.0f} B/line) ==")
if sl and sl.get("error"):
    print(f"   sightline: {sl['error']}")
w = 38
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
# The substring query has no ClickHouse twin of its own: compare it with ClickHouse's position().
if sl and num(sl, "q_rare_sub", 0):
    for c in chs:
        x = num(c, "q_rare", 0)
        if x: print(f"   |= substring vs {c['system']} position(): {x / num(sl, 'q_rare_sub', 0):.2f}x")
checks = []
for d in systems:
    checks.append(f"{d.get('system')}: rare={d.get('q_rare_hits','?')} errors={d.get('q_errors_hits','?')} "
                  f"trace={d.get('q_trace_hits','?')} counts_sum={d.get('q_counts_sum','?')}")
print("result checks: " + "; ".join(checks))
busy = [f"{d.get('system')} {d.get('background_busy_pct', '?')}% / {d.get('other_cpu_pct', '?')}%" for d in systems]
print("CPU used by other processes just before / during each system's run: " + ", ".join(busy)
      + " (over ~10% disturbs the figures)")
print("(advantage columns: x times better for Sightline: throughput and ratio SL/CH; time, RSS, bytes CH/SL)")
EOF
}

report_flatness() {
  python3 - "$@" <<'EOF'
import sys, glob
# args: size1 dir1 size2 dir2 ...
args = sys.argv[1:]
pairs = [(int(args[i]), args[i + 1]) for i in range(0, len(args), 2)]
if len(pairs) < 2: sys.exit(0)
def load(d):
    out = {}
    for f in sorted(glob.glob(d + "/*.txt")):
        kv = dict(l.rstrip("\n").split("=", 1) for l in open(f) if "=" in l)
        if "system" in kv: out[kv["system"]] = kv
    return out
(s1, d1), (s2, d2) = pairs[0], pairs[-1]
a, b = load(d1), load(d2)
print(f"\n== query time as data grows {s1:,} -> {s2:,} lines ({s2 / s1:.1f}x data): median ratio (1.0 = flat) ==")
qs = ["q_rare", "q_rare_sub", "q_errors", "q_trace", "q_counts"]
print(f"{'':18}" + "".join(f"{q:>12}" for q in qs))
for sysname in a:
    if sysname not in b: continue
    line = f"{sysname:18}"
    for q in qs:
        try:
            x = float(a[sysname][q].split()[0]); y = float(b[sysname][q].split()[0])
            line += f"{y / x:>11.2f}x" if x == x and y == y and x > 0 else f"{'n/a':>12}"
        except (KeyError, ValueError, IndexError):
            line += f"{'n/a':>12}"
    print(line)
EOF
}

# ------------------------------------------------------------------------------------------------
read -r -a size_list <<<"$SIZES"
min_size=${size_list[0]}
for s in "${size_list[@]}"; do [ "$s" -lt "$min_size" ] && min_size=$s; done
TRACE_AT=$((min_size / 2))   # the same trace at every size
flat_args=()
for size in "${size_list[@]}"; do
  sdir="$OUT/$size"; mkdir -p "$sdir"
  span_s=$(( size / RATE + 3600 )); [ $span_s -lt 86400 ] && span_s=86400
  END_NS=$(( START_NS + span_s * 1000000000 ))
  gen_args=(--lines "$size" --seed "$SEED" --start-ns "$START_NS" --rate "$RATE"
            --rare-token "$TOKEN" --rare-every "$RARE_EVERY" --print-trace-at "$TRACE_AT")
  bl_log "generating $size lines (seed $SEED)"
  "$LOGGEN" "${gen_args[@]}" --out "$WORK/logs.ndjson" 2>"$sdir/loggen.txt"
  cat "$sdir/loggen.txt" >&2
  raw_bytes=$(stat -c %s "$WORK/logs.ndjson")
  rare_hits=$(grep -o 'rare_hits=[0-9]*' "$sdir/loggen.txt" | cut -d= -f2)
  trace_id=$(grep -o 'trace_id=[0-9a-f]*' "$sdir/loggen.txt" | cut -d= -f2)
  trace_lines=$(grep -o 'trace_lines=[0-9]*' "$sdir/loggen.txt" | cut -d= -f2)
  files=()
  if [ "$SKIP_SL" = 0 ]; then
    rm -rf "$WORK/sl"
    sl_bench data="$WORK/logs.ndjson" raw_bytes="$raw_bytes" lines="$size" workdir="$WORK/sl" \
      token="$TOKEN" rare_hits="$rare_hits" trace_id="$trace_id" trace_lines="$trace_lines" end_ns="$END_NS" \
      warmup="$WARMUP" runs="$RUNS" concurrency="$CONC" batch="$BATCH" results="$sdir/sightline.txt" \
      || bl_log "sightline run failed; continuing with ClickHouse"
    sl_stop
    rm -rf "$WORK/sl"
    files+=("$sdir/sightline.txt")
  fi
  rm -f "$WORK/logs.ndjson"
  if [ -n "${CH_METHODS// /}" ]; then
    bl_log "generating the same $size records as JSONEachRow for ClickHouse (not measured)"
    "$LOGGEN" "${gen_args[@]}" --format clickhouse --out "$WORK/logs.ch.json" 2>/dev/null
    for m in $CH_METHODS; do
      rm -rf "$WORK/ch"
      ch_bench data="$WORK/logs.ch.json" raw_bytes="$raw_bytes" lines="$size" compression="$m" \
        workdir="$WORK/ch" token="$TOKEN" rare_hits="$rare_hits" trace_id="$trace_id" trace_lines="$trace_lines" \
        warmup="$WARMUP" runs="$RUNS" concurrency="$CONC" batch="$BATCH" \
        results="$sdir/clickhouse-$m.txt" label="clickhouse-$m"
      ch_stop
      rm -rf "$WORK/ch"
      files+=("$sdir/clickhouse-$m.txt")
    done
    rm -f "$WORK/logs.ch.json"
  fi
  report_size "$size" "${files[@]}" | tee "$sdir/report.txt"
  flat_args+=("$size" "$sdir")
done
{
  for size in "${size_list[@]}"; do cat "$OUT/$size/report.txt"; done
  report_flatness "${flat_args[@]}"
} > "$OUT/report.txt"
report_flatness "${flat_args[@]}"
bl_log "report: $OUT/report.txt"
