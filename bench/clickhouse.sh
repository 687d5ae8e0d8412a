#!/usr/bin/env bash
# bench/clickhouse.sh: a private ClickHouse 18.16 as the peer of the log benchmark.
#
# As a program, it runs the ClickHouse half of bench/log_bench.sh on its own:
#   bench/clickhouse.sh [--loggen PATH] [--lines N] [--compression lz4|zstd] [--runs N]
#                       [--concurrency N] [--out DIR] [--seed S]
# generates N lines with loggen (NDJSON for the raw size, `--format clickhouse` for the load),
# starts a private server under a temporary directory, loads, measures, queries, stops it.
#
# Sourced (by bench/log_bench.sh), it defines:
#   common helpers  bl_*  free ports, /proc CPU and RSS readings, timing of HTTP requests,
#                         medians, chunking, parallel loading
#   ClickHouse      ch_*  ch_start DIR COMPRESSION, ch_sql SQL, ch_stop, ch_create_table,
#                         ch_bench (the whole measurement, results as key=value lines)
#
# Everything talks to 127.0.0.1 only, every wait is bounded, and servers started here are
# stopped by an EXIT trap (bl_cleanup).
#
# Table (one row per log line), see bench/README.md for why:
#   MergeTree ORDER BY (service, ts); ts DateTime + ts_ns UInt32 (18.16 has no DateTime64);
#   ids as hex String; the nested objects flattened into typed columns (http_status UInt16, ...).

set -euo pipefail

BL_CLK_TCK=$(getconf CLK_TCK)
BL_PIDS=()      # servers to stop on exit
BL_TMPDIRS=()   # temporary directories to remove on exit (unless BENCH_KEEP=1)

bl_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
bl_die() { bl_log "ERROR: $*"; exit 1; }

bl_cleanup() {
  local pid
  for pid in "${BL_PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    local d
    for d in "${BL_TMPDIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done
  fi
}

# bl_stop_pid PID: TERM, wait up to 20 s, then KILL.
bl_stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# bl_free_ports N: N currently free TCP ports on 127.0.0.1.
bl_free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# bl_find_gen NAME [PATH]: prints PATH if given, else build/NAME, else build-bench/NAME of the
# repository ($ROOT); dies unless the result is executable.
bl_find_gen() {
  local p=${2:-}
  if [ -z "$p" ]; then p="$ROOT/build/$1"; [ -x "$p" ] || p="$ROOT/build-bench/$1"; fi
  [ -x "$p" ] || bl_die "$1 not found ($p); build it: ninja -C build $1"
  echo "$p"
}

bl_now() { date +%s.%N; }
# bl_cpu_ticks PID: user+system CPU of the whole process (all threads), in clock ticks.
bl_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
bl_ticks_to_s() { awk -v t="$1" -v hz="$BL_CLK_TCK" 'BEGIN{printf "%.2f", t / hz}'; }
# bl_hwm_kb PID: peak resident set size (VmHWM) in kB.
bl_hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
bl_rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# bl_busy_pct SECONDS: how busy all CPUs were (percent) over SECONDS, from /proc/stat. Run while
# nothing of the benchmark is active, it shows whether other work disturbs the measurement.
bl_busy_pct() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; i = y[2] - x[2];
    printf "%.0f", (t > 0 ? 100 * (t - i) / t : 0)}'
}
# Ticks of busy CPU on the whole machine, and of this shell's finished descendants (loaders, curl).
bl_machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
bl_children_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
# bl_other_pct M0 C0 S0 M1 C1 S1 WALL_S: the share (percent) of all CPUs used by other processes
# during a run: machine busy minus the server's CPU minus our own loaders and clients.
bl_other_pct() {
  awk -v m="$(( $4 - $1 ))" -v c="$(( $5 - $2 ))" -v s="$(( $6 - $3 ))" -v w="$7" -v n="$(nproc)" -v hz="$BL_CLK_TCK" \
    'BEGIN{o = m - c - s; if (o < 0) o = 0; printf "%.0f", (w > 0 ? 100 * o / (w * n * hz) : 0)}'
}
bl_check_quiet() {  # bl_check_quiet LABEL: warn when other processes keep the CPUs busy
  local busy; busy=$(bl_busy_pct 2)
  echo "$busy"
  if [ "$busy" -gt 10 ]; then
    bl_log "WARNING: before $1 the CPUs were ${busy}% busy with other work; figures will be disturbed"
  fi
}
bl_calc() { awk "BEGIN{printf \"$1\", $2}"; }  # bl_calc FORMAT EXPR

# bl_wait_http URL TIMEOUT_S [PID]: wait until URL answers 200 (bounded); fail early if PID dies.
bl_wait_http() {
  local url=$1 timeout=$2 pid=${3:-} deadline
  deadline=$(( $(date +%s) + timeout ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

# bl_stats FILE: "median p95" (nearest rank) of the numbers in FILE, one per line.
bl_stats() {
  sort -n "$1" | awk '{a[NR]=$1} END{
    if (NR == 0) { print "nan nan"; exit }
    m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
    r = int(0.95 * NR); if (r < 0.95 * NR) r++; if (r < 1) r = 1
    printf "%.2f %.2f\n", m, a[r] }'
}

# bl_time_requests OUTFILE WARMUP RUNS CURL_ARGS...: runs the request WARMUP+RUNS times (the first
# response body is kept in OUTFILE.body for checks), writes each timed run's total time in ms to
# OUTFILE, and prints "median p95".
bl_time_requests() {
  local out=$1 warm=$2 runs=$3; shift 3
  local code
  code=$(curl -sS --max-time 120 -H 'Expect:' -o "$out.body" -w '%{http_code}' "$@") || code=000
  if [ "$code" != 200 ]; then
    bl_log "request failed with HTTP $code: $* -> $(head -c 300 "$out.body" 2>/dev/null)"
    echo "nan nan"; return 0
  fi
  for _ in $(seq 2 "$warm"); do curl -sS --max-time 120 -o /dev/null "$@" || true; done
  : > "$out"
  for _ in $(seq 1 "$runs"); do
    curl -sS --max-time 120 -H 'Expect:' -o /dev/null -w '%{time_total}\n' "$@" | awk '{printf "%.3f\n", $1 * 1000}' >> "$out"
  done
  bl_stats "$out"
}

# bl_split FILE DIR LINES: FILE into DIR/chunk-00000... of LINES lines each.
bl_split() {
  mkdir -p "$2"
  split -l "$3" -d -a 5 "$1" "$2/chunk-"
}

# bl_parallel_post DIR CONCURRENCY RESPDIR CURL_ARGS...: POSTs every chunk in DIR as the request
# body (CURL_ARGS end with the URL), CONCURRENCY requests at a time in round-robin loaders. Each
# response is kept in RESPDIR/<chunk>; returns non-zero if any status was not 2xx.
bl_parallel_post() {
  local dir=$1 conc=$2 respdir=$3; shift 3
  mkdir -p "$respdir"
  local files=("$dir"/chunk-*) pids=() k
  for ((k = 0; k < conc; k++)); do
    (
      local i f code fail=0
      for ((i = k; i < ${#files[@]}; i += conc)); do
        f=${files[$i]}
        code=$(curl -sS --max-time 600 -H 'Expect:' -o "$respdir/$(basename "$f")" -w '%{http_code}' \
               --data-binary "@$f" "$@") || code=000
        case $code in 2??) ;; *) echo "chunk $f: HTTP $code $(head -c 300 "$respdir/$(basename "$f")")" >&2; fail=1 ;; esac
      done
      exit $fail
    ) &
    pids+=($!)
  done
  local rc=0 p
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

# ------------------------------------------------------------------------------------------------
# ClickHouse.
CH_BIN=${CH_BIN:-/usr/sbin/clickhouse-server}
CH_CONF_SRC=${CH_CONF_SRC:-/etc/clickhouse-server}
CH_PID=""
CH_PORT=""
CH_DIR=""    # set by ch_start: the server's directory (for callers)

# ch_start DIR COMPRESSION(lz4|zstd): a private server whose data, logs and ports live under DIR.
ch_start() {
  local dir=$1 comp=${2:-lz4} http tcp inter
  [ -x "$CH_BIN" ] || bl_die "$CH_BIN not found (scripts/install-deps.sh --test)"
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log,conf}
  read -r http tcp inter <<<"$(bl_free_ports 3)"
  python3 - "$CH_CONF_SRC/config.xml" "$dir/conf/config.xml" "$dir" "$http" "$tcp" "$inter" "$comp" <<'EOF'
import re, sys
src, dst, d, http, tcp, inter, comp = sys.argv[1:]
x = open(src).read()
def tag(name, value):
    global x
    x, n = re.subn(r"<%s>[^<]*</%s>" % (name, name), "<%s>%s</%s>" % (name, value, name), x, count=1)
    if n != 1:
        x = x.replace("</yandex>", "    <%s>%s</%s>\n</yandex>" % (name, value, name))
tag("path", d + "/data/")
tag("tmp_path", d + "/tmp/")
tag("user_files_path", d + "/user_files/")
tag("format_schema_path", d + "/format_schemas/")
tag("log", d + "/log/clickhouse-server.log")
tag("errorlog", d + "/log/clickhouse-server.err.log")
tag("http_port", http)
tag("tcp_port", tcp)
tag("interserver_http_port", inter)
# Secure ports (commented out in the package config) stay off.
x = re.sub(r"\s*<(https_port|tcp_port_secure)>[^<]*</\1>", "", x)
# Only 127.0.0.1.
x = re.sub(r"\s*<listen_host>[^<]*</listen_host>", "", x)
x = x.replace("<yandex>", "<yandex>\n    <listen_host>127.0.0.1</listen_host>", 1)
method = {"lz4": "lz4", "zstd": "zstd"}[comp]
block = "<compression><case><method>%s</method></case></compression>" % method
x, n = re.subn(r"<compression[^>]*>.*?</compression>", block, x, count=1, flags=re.S)
if n != 1:
    x = x.replace("</yandex>", block + "\n</yandex>")
# Remove replaced parts quickly so that du of the data dir is meaningful.
x = x.replace("</yandex>", "    <merge_tree><old_parts_lifetime>5</old_parts_lifetime></merge_tree>\n</yandex>")
open(dst, "w").write(x)
EOF
  cp "$CH_CONF_SRC/users.xml" "$dir/conf/users.xml"
  # shellcheck disable=SC2034
  CH_DIR=$dir
  CH_PORT=$http
  "$CH_BIN" --config-file="$dir/conf/config.xml" >"$dir/log/stdout.log" 2>&1 &
  CH_PID=$!
  BL_PIDS+=("$CH_PID")
  local deadline=$(( $(date +%s) + 60 ))
  while :; do
    if ! kill -0 "$CH_PID" 2>/dev/null; then
      tail -20 "$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log" >&2 2>/dev/null || true
      bl_die "clickhouse-server exited during startup"
    fi
    if [ "$(curl -s --max-time 2 "http://127.0.0.1:$CH_PORT/" --data-binary 'SELECT version()' 2>/dev/null)" != "" ]; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || bl_die "clickhouse-server not ready after 60 s"
    sleep 0.1
  done
  bl_log "clickhouse $(ch_sql 'SELECT version()') ($comp) pid $CH_PID on 127.0.0.1:$CH_PORT, data in $dir"
}

# ch_sql SQL: run one statement over HTTP and print its result; fails on an error status.
ch_sql() {
  local resp code
  resp=$(mktemp)
  code=$(curl -sS --max-time 300 -o "$resp" -w '%{http_code}' "http://127.0.0.1:$CH_PORT/" --data-binary "$1") || code=000
  cat "$resp"; rm -f "$resp"
  [ "$code" = 200 ] || { echo "ClickHouse HTTP $code for: $1" >&2; return 1; }
}

ch_stop() {
  [ -n "$CH_PID" ] || return 0
  bl_stop_pid "$CH_PID"
  CH_PID=""
}

ch_create_table() {
  ch_sql "CREATE TABLE logs (
    ts DateTime, ts_ns UInt32,
    level String, service String, env String, host String,
    trace_id String, span_id String, request_id String, user_id String,
    msg String,
    http_method String, http_status UInt16, http_path String, http_duration_ms Float32,
    http_bytes UInt32, http_user_agent String,
    db_statement String, db_rows UInt32, db_duration_ms Float32,
    error_type String, error_message String
  ) ENGINE = MergeTree PARTITION BY toDate(ts) ORDER BY (service, ts)" >/dev/null
}

# ch_wait_merges TIMEOUT_S: until no merge runs for 3 consecutive polls (bounded).
ch_wait_merges() {
  local deadline=$(( $(date +%s) + $1 )) quiet=0 n
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$(ch_sql "SELECT count() FROM system.merges") || n=1
    if [ "$n" = 0 ]; then quiet=$((quiet + 1)); [ $quiet -ge 3 ] && return 0; else quiet=0; fi
    sleep 1
  done
  bl_log "warning: merges still running after $1 s"
}

# ch_bench KEY=VALUE...: the whole ClickHouse measurement. Keys:
#   data (JSONEachRow from `loggen --format clickhouse`), raw_bytes (size of the NDJSON form),
#   lines, compression, workdir, token, rare_hits, trace_id, trace_lines, warmup, runs,
#   concurrency, batch, results (file to append key=value lines to), label
ch_bench() {
  local data raw_bytes lines compression=lz4 workdir token rare_hits trace_id trace_lines
  local warmup=2 runs=20 concurrency=2 batch=100000 results label=clickhouse
  local kv
  for kv in "$@"; do local "$kv"; done
  local chunks="$workdir/chunks" input_bytes
  input_bytes=$(stat -c %s "$data")
  bl_log "$label: splitting $(basename "$data") into $batch-line chunks (not measured)"
  bl_split "$data" "$chunks" "$batch"
  local busy; busy=$(bl_check_quiet "$label")
  ch_start "$workdir/server" "$compression"
  ch_create_table

  # Ingest: server CPU (utime+stime of all threads) and wall time from the first request to the
  # last acknowledgement.
  local cpu0 cpu1 cpu2 t0 t1 t2
  local m0 c0; m0=$(bl_machine_ticks); c0=$(bl_children_ticks)
  cpu0=$(bl_cpu_ticks "$CH_PID"); t0=$(bl_now)
  bl_parallel_post "$chunks" "$concurrency" "$workdir/responses" \
    "http://127.0.0.1:$CH_PORT/?query=INSERT%20INTO%20logs%20FORMAT%20JSONEachRow" \
    || bl_die "$label: some inserts failed"
  t1=$(bl_now); cpu1=$(bl_cpu_ticks "$CH_PID")
  local hwm_ingest; hwm_ingest=$(bl_hwm_kb "$CH_PID")
  ch_wait_merges 600
  t2=$(bl_now); cpu2=$(bl_cpu_ticks "$CH_PID")
  local hwm_merge; hwm_merge=$(bl_hwm_kb "$CH_PID")
  rm -rf "$chunks"

  local count disk parts du_bytes
  count=$(ch_sql "SELECT count() FROM logs")
  [ "$count" = "$lines" ] || bl_log "WARNING: $label holds $count rows, expected $lines"
  disk=$(ch_sql "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'default' AND table = 'logs'")
  parts=$(ch_sql "SELECT count() FROM system.parts WHERE active AND database = 'default' AND table = 'logs'")
  sleep 6  # old_parts_lifetime is 5 s: let replaced parts go before du
  du_bytes=$(du -sb "$workdir/server/data/data/default/logs" | cut -f1)

  # Queries, hot: warm-up runs first, then `runs` timed runs of each (client-side total time).
  local url="http://127.0.0.1:$CH_PORT/" qdir="$workdir/queries"
  mkdir -p "$qdir"
  local sql_rare="SELECT * FROM logs WHERE position(msg, '$token') > 0 ORDER BY ts DESC, ts_ns DESC LIMIT 1000 FORMAT JSONEachRow"
  local sql_err="SELECT * FROM logs WHERE service = 'orders' AND level = 'error' ORDER BY ts DESC, ts_ns DESC LIMIT 100 FORMAT JSONEachRow"
  local sql_trace="SELECT * FROM logs WHERE trace_id = '$trace_id' ORDER BY ts, ts_ns LIMIT 1000 FORMAT JSONEachRow"
  local sql_counts="SELECT service, level, count() AS n FROM logs GROUP BY service, level ORDER BY service, level FORMAT JSONEachRow"
  local r_rare r_err r_trace r_counts
  r_rare=$(bl_time_requests "$qdir/rare" "$warmup" "$runs" "$url" --data-binary "$sql_rare")
  r_err=$(bl_time_requests "$qdir/errors" "$warmup" "$runs" "$url" --data-binary "$sql_err")
  r_trace=$(bl_time_requests "$qdir/trace" "$warmup" "$runs" "$url" --data-binary "$sql_trace")
  r_counts=$(bl_time_requests "$qdir/counts" "$warmup" "$runs" "$url" --data-binary "$sql_counts")
  local hwm_end; hwm_end=$(bl_hwm_kb "$CH_PID")
  local n_rare n_err n_trace n_counts
  n_rare=$(grep -c . "$qdir/rare.body" || true)
  n_err=$(grep -c '"level":"error"' "$qdir/errors.body" || true)
  n_trace=$(grep -c . "$qdir/trace.body" || true)
  n_counts=$(jq -s 'map(.n | tonumber) | add' "$qdir/counts.body" 2>/dev/null || echo "?")
  [ "$n_rare" = "$rare_hits" ] || bl_log "WARNING: $label rare-token query found $n_rare lines, expected $rare_hits"
  [ "$n_trace" = "$trace_lines" ] || bl_log "WARNING: $label trace query found $n_trace lines, expected $trace_lines"
  [ "$n_err" = 100 ] || bl_log "WARNING: $label errors query returned $n_err error lines, expected 100"
  [ "$n_counts" = "$lines" ] || bl_log "WARNING: $label counts sum to $n_counts, expected $lines"
  local version; version=$(ch_sql 'SELECT version()')
  local other; other=$(bl_other_pct "$m0" "$c0" "$cpu0" "$(bl_machine_ticks)" "$(bl_children_ticks)" \
    "$(bl_cpu_ticks "$CH_PID")" "$(bl_calc %.3f "$(bl_now) - $t0")")
  ch_stop

  {
    echo "system=$label"
    echo "version=clickhouse-$version-$compression"
    echo "background_busy_pct=$busy"
    echo "other_cpu_pct=$other"
    echo "lines=$lines"
    echo "raw_bytes=$raw_bytes"
    echo "input_bytes=$input_bytes"
    echo "ingest_wall_s=$(bl_calc %.3f "$t1 - $t0")"
    echo "ingest_cpu_s=$(bl_ticks_to_s $((cpu1 - cpu0)))"
    echo "settle_wall_s=$(bl_calc %.3f "$t2 - $t1")"
    echo "settle_cpu_s=$(bl_ticks_to_s $((cpu2 - cpu1)))"
    echo "peak_rss_ingest_kb=$hwm_ingest"
    echo "peak_rss_settled_kb=$hwm_merge"
    echo "peak_rss_kb=$hwm_end"
    echo "disk_bytes=$disk"
    echo "disk_du_bytes=$du_bytes"
    echo "parts=$parts"
    echo "rows=$count"
    echo "q_rare=$r_rare"
    echo "q_rare_hits=$n_rare"
    echo "q_errors=$r_err"
    echo "q_errors_hits=$n_err"
    echo "q_trace=$r_trace"
    echo "q_trace_hits=$n_trace"
    echo "q_counts=$r_counts"
    echo "q_counts_sum=$n_counts"
  } >> "$results"
}

# bl_summary RESULTS: a human-readable digest of one system's key=value results.
bl_summary() {
  awk -F= '{v[$1]=$2} END{
    cpu = v["ingest_cpu_s"] + 0; wall = v["ingest_wall_s"] + 0
    printf "%s (%s)\n", v["system"], v["version"]
    if (cpu > 0) printf "  ingest: %d lines in %.2f s wall, %.2f server CPU-s -> %.0f lines/CPU-s, %.1f MB/CPU-s; %.0f lines/s wall\n",
      v["lines"], wall, cpu, v["lines"] / cpu, v["raw_bytes"] / cpu / 1e6, v["lines"] / wall
    printf "  settle (merges after the last ack): %.2f s wall, %.2f CPU-s\n", v["settle_wall_s"], v["settle_cpu_s"]
    printf "  peak RSS: %.0f MB after ingest, %.0f MB at the end\n", v["peak_rss_ingest_kb"] / 1024, v["peak_rss_kb"] / 1024
    if (v["disk_bytes"] > 0) printf "  disk: %d bytes (%.1f MB), ratio %.2fx over %d raw NDJSON bytes\n",
      v["disk_bytes"], v["disk_bytes"] / 1e6, v["raw_bytes"] / v["disk_bytes"], v["raw_bytes"]
    n = split("q_rare q_rare_sub q_errors q_trace q_counts", qs, " ")
    for (i = 1; i <= n; i++) if (qs[i] in v) printf "  %-11s median/p95 ms: %s\n", qs[i], v[qs[i]]
    printf "  other processes used %s%% of the CPUs just before, %s%% during the run\n", v["background_busy_pct"], v["other_cpu_pct"]
  }' "$1"
}

# ------------------------------------------------------------------------------------------------
ch_main() {
  local here loggen lines=2000000 compression=lz4 runs=20 warmup=2 conc=2 out seed=42
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  loggen="$here/../build-bench/loggen"; [ -x "$loggen" ] || loggen="$here/../build/loggen"
  out="$here/out"
  while [ $# -gt 0 ]; do
    case $1 in
      --loggen) loggen=$2; shift 2 ;;
      --lines) lines=$2; shift 2 ;;
      --compression) compression=$2; shift 2 ;;
      --runs) runs=$2; shift 2 ;;
      --warmup) warmup=$2; shift 2 ;;
      --concurrency) conc=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      --seed) seed=$2; shift 2 ;;
      -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) bl_die "unknown flag $1" ;;
    esac
  done
  [ -x "$loggen" ] || bl_die "loggen not found at $loggen (ninja -C build-bench loggen)"
  trap bl_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$out"
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/sl-chbench.XXXXXX"); BL_TMPDIRS+=("$work")
  local token=zq9xk7unicorn every=500000 trace_at=$((lines / 2))
  local gen_args=(--lines "$lines" --seed "$seed" --rare-token "$token" --rare-every "$every" --print-trace-at "$trace_at")
  bl_log "generating $lines lines"
  "$loggen" "${gen_args[@]}" --out "$work/logs.ndjson" 2>"$work/gen.txt"
  "$loggen" "${gen_args[@]}" --format clickhouse --out "$work/logs.ch.json" 2>/dev/null
  cat "$work/gen.txt" >&2
  local raw_bytes rare_hits trace_id trace_lines
  raw_bytes=$(stat -c %s "$work/logs.ndjson")
  rare_hits=$(grep -o 'rare_hits=[0-9]*' "$work/gen.txt" | cut -d= -f2)
  trace_id=$(grep -o 'trace_id=[0-9a-f]*' "$work/gen.txt" | cut -d= -f2)
  trace_lines=$(grep -o 'trace_lines=[0-9]*' "$work/gen.txt" | cut -d= -f2)
  rm -f "$work/logs.ndjson"
  local results; results="$out/clickhouse-$compression-$lines-$(date +%Y%m%d-%H%M%S).txt"
  ch_bench data="$work/logs.ch.json" raw_bytes="$raw_bytes" lines="$lines" compression="$compression" \
    workdir="$work/ch" token="$token" rare_hits="$rare_hits" trace_id="$trace_id" trace_lines="$trace_lines" \
    warmup="$warmup" runs="$runs" concurrency="$conc" results="$results" label="clickhouse-$compression"
  bl_summary "$results"
  bl_log "results in $results"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ch_main "$@"
fi
