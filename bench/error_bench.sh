#!/usr/bin/env bash
# bench/error_bench.sh: Sightline's error tracking (Sentry protocol) under SDK-shaped load.
#
#   bench/error_bench.sh [SIGHTLINE_BIN [ERRGEN_BIN]] [flags]
#     --sightline PATH     server binary (default build/sightline)
#     --errgen PATH        generator (default build/errgen, else build-bench/errgen)
#     --events N           events sent per format (default $EVENTS or 200000)
#     --connections C      sender connections (default $CONNECTIONS or 4)
#     --issues K           distinct problems in the generated events (default $ISSUES or 200)
#     --formats "F..."     errgen send formats, each on a fresh server (default $FORMATS or
#                          "store envelope"; also "sdk")
#     --gzip               gzip every request body (default off; GZIP=1)
#     --inproc-events N    events of the in-process run (default $INPROC_EVENTS or 50000; 0 skips)
#     --idle-s S           seconds of idleness before each idle RSS reading (default 5)
#     --send-timeout S     bound on one `errgen send` (default 900)
#     --seed S             generator seed (default 42)
#     --out DIR            results root (default bench/out); a run writes DIR/errors-<timestamp>/
#     SERVER_ARGS="..."    extra arguments for `sightline serve` (e.g. "--wal-fsync never")
#
# Builds nothing. For each format: a fresh server on a free port of 127.0.0.1 with a temporary
# data dir (`sightline serve --listen 127.0.0.1:PORT --data-dir D --grpc-listen off
# --set errors.default_key=<32 hex>`; the default project 1 gets that DSN key), then
#   1. RSS idle after start: VmRSS of /proc/PID/status after --idle-s seconds (and the server's
#      CPU during that time);
#   2. `errgen send --events N --connections C --format F`: events/s and request latency are the
#      sender's (first request to last answer, every answer must be 200 with the event id); the
#      server's CPU is utime+stime of /proc/PID/stat (all threads) read before and after:
#      events per server CPU-second ("per core"); VmRSS is sampled every 0.5 s meanwhile (RSS
#      under load), VmHWM at the end (peak);
#   3. POST /sl/admin/flush, then the check through the Sentry API:
#      GET /api/0/projects/sightline/default/issues/?query=&limit=10000 -> the number of issues
#      must equal the generator's issues_expected (the distinct problems among the N events;
#      all --issues of them at the default N) and the sum of their "count" must equal the
#      events acknowledged (unique event ids: nothing is deduplicated);
#   4. RSS idle after load: VmRSS after another --idle-s seconds.
# Then `errgen inproc` (decode + group + encode + IssueStore on one thread, with its simdjson
# and memcpy baselines) gives the physical-limit ratio. Every wait is bounded; servers started
# here are stopped by an EXIT trap and the scratch directories removed (BENCH_KEEP=1 keeps them).
#
# What correct grouping gives: errgen's issues are exception stacks whose innermost in-app
# frame is unique to the issue (grouped by in-app frames whatever the exception value and the
# line numbers, which change between releases), python exceptions without a traceback (by type
# and normalized value), python messages (normalized: ids, amounts, UUIDs, e-mails, IPs, URLs,
# dates become placeholders), python logging templates and Node captureMessage call sites. So
# the issue count is exactly issues_expected; more means grouping split an issue (a variable
# part not normalized), fewer means it merged two.

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/clickhouse.sh
source "$HERE/clickhouse.sh"  # the bl_* helpers (ports, /proc readings, cleanup)

SL_BIN="$ROOT/build/sightline"
ERRGEN=""
EVENTS=${EVENTS:-200000}
CONNS=${CONNECTIONS:-4}
ISSUES=${ISSUES:-200}
FORMATS=${FORMATS:-"store envelope"}
GZIP=${GZIP:-0}
INPROC_EVENTS=${INPROC_EVENTS:-50000}
IDLE_S=5
SEND_TIMEOUT=900
SEED=42
OUT_ROOT="$HERE/out"
SERVER_ARGS=${SERVER_ARGS:-}
DSN_KEY=5e1f0c0ffee0ddba11ab1e5ca1ab1e00

positional=()
while [ $# -gt 0 ]; do
  case $1 in
    --sightline) SL_BIN=$2; shift 2 ;;
    --errgen) ERRGEN=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --issues) ISSUES=$2; shift 2 ;;
    --formats) FORMATS=$2; shift 2 ;;
    --gzip) GZIP=1; shift ;;
    --inproc-events) INPROC_EVENTS=$2; shift 2 ;;
    --idle-s) IDLE_S=$2; shift 2 ;;
    --send-timeout) SEND_TIMEOUT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --out) OUT_ROOT=$2; shift 2 ;;
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    -*) bl_die "unknown flag $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && SL_BIN=${positional[0]}
[ ${#positional[@]} -ge 2 ] && ERRGEN=${positional[1]}
ERRGEN=$(bl_find_gen errgen "$ERRGEN") || exit 1
[ -z "${FORMATS// /}" ] || [ -x "$SL_BIN" ] || bl_die "sightline binary not found: $SL_BIN"
for t in curl jq python3 awk timeout; do command -v $t >/dev/null || bl_die "$t is required"; done
GZIP_FLAG=(); [ "$GZIP" = 1 ] && GZIP_FLAG=(--gzip)

trap bl_cleanup EXIT
trap 'exit 130' INT TERM

RUN_ID=$(date +%Y%m%d-%H%M%S)
OUT="$OUT_ROOT/errors-$RUN_ID"
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sl-errbench.XXXXXX")
BL_TMPDIRS+=("$WORK")
bl_log "run $RUN_ID: $EVENTS events x [$FORMATS], $ISSUES issues, $CONNS connections, gzip=$GZIP; results in $OUT"

# The events end "now" (the server's retention and the API's time filters see them as fresh).
END_NS=$(( $(date +%s) * 1000000000 ))
GEN=(--events "$EVENTS" --issues "$ISSUES" --seed "$SEED" --end-ns "$END_NS" --window 3600)

SL_PID=""
SL_PORT=""
sl_start() {
  local dir=$1
  mkdir -p "$dir/data"
  SL_PORT=$(bl_free_ports 1)
  # shellcheck disable=SC2086
  "$SL_BIN" serve --listen "127.0.0.1:$SL_PORT" --data-dir "$dir/data" --grpc-listen off \
    --set "errors.default_key=$DSN_KEY" $SERVER_ARGS >"$dir/server.log" 2>&1 &
  SL_PID=$!
  BL_PIDS+=("$SL_PID")
  if ! bl_wait_http "http://127.0.0.1:$SL_PORT/readyz" 60 "$SL_PID"; then
    bl_log "sightline did not become ready (GET /readyz); last log lines:"
    tail -20 "$dir/server.log" >&2 || true
    bl_stop_pid "$SL_PID"; SL_PID=""
    return 1
  fi
}
sl_stop() { [ -z "$SL_PID" ] || bl_stop_pid "$SL_PID"; SL_PID=""; }

# kv FILE KEY: a key=value word from errgen's output.
kv() { grep -o "\b$2=[^ ]*" "$1" | head -1 | cut -d= -f2; }

# rss_sampler PID FILE: VmRSS (kB) every 0.5 s until PID is gone or FILE.stop exists.
rss_sampler() {
  while [ ! -e "$2.stop" ] && kill -0 "$1" 2>/dev/null; do bl_rss_kb "$1" >> "$2"; sleep 0.5; done
}

run_format() {
  local fmt=$1
  local dir="$WORK/$fmt" res="$OUT/$fmt.txt"
  rm -rf "$dir"; mkdir -p "$dir"
  local busy; busy=$(bl_check_quiet "$fmt")
  if ! sl_start "$dir"; then
    { echo "format=$fmt"; echo "error=server not ready"; } > "$res"
    return 1
  fi
  local base="http://127.0.0.1:$SL_PORT"
  bl_log "$fmt: sightline pid $SL_PID on 127.0.0.1:$SL_PORT; idle ${IDLE_S}s"
  local i0 i1; i0=$(bl_cpu_ticks "$SL_PID"); sleep "$IDLE_S"; i1=$(bl_cpu_ticks "$SL_PID")
  local rss_idle; rss_idle=$(bl_rss_kb "$SL_PID")

  bl_log "$fmt: errgen send ${GZIP_FLAG[*]} --events $EVENTS --connections $CONNS"
  rm -f "$dir/rss.samples" "$dir/rss.samples.stop"
  rss_sampler "$SL_PID" "$dir/rss.samples" &
  local sampler=$!
  local m0 c0 s0 s1 t0 t1 rc=0
  m0=$(bl_machine_ticks); c0=$(bl_children_ticks); s0=$(bl_cpu_ticks "$SL_PID"); t0=$(bl_now)
  timeout --signal=TERM "$SEND_TIMEOUT" "$ERRGEN" send --url "$base" --dsn-key "$DSN_KEY" \
    --project 1 --connections "$CONNS" --format "$fmt" "${GZIP_FLAG[@]}" "${GEN[@]}" \
    >"$dir/send.txt" 2>"$dir/send.err" || rc=$?
  t1=$(bl_now); s1=$(bl_cpu_ticks "$SL_PID")
  local c1 m1; c1=$(bl_children_ticks); m1=$(bl_machine_ticks)
  touch "$dir/rss.samples.stop"; wait "$sampler" 2>/dev/null || true
  cat "$dir/send.err" "$dir/send.txt" >&2
  [ "$rc" = 0 ] || bl_log "WARNING: $fmt: errgen send failed (rc $rc; 124 = --send-timeout)"
  local rss_load_max rss_load_last hwm
  rss_load_max=$(sort -n "$dir/rss.samples" 2>/dev/null | tail -1); rss_load_max=${rss_load_max:-0}
  rss_load_last=$(bl_rss_kb "$SL_PID"); hwm=$(bl_hwm_kb "$SL_PID")
  local other; other=$(bl_other_pct "$m0" "$c0" "$s0" "$m1" "$c1" "$s1" "$(bl_calc %.3f "$t1 - $t0")")

  # Settle and check through the Sentry API.
  local code
  code=$(curl -s --max-time 120 -o /dev/null -w '%{http_code}' -X POST "$base/sl/admin/flush") || code=000
  [ "$code" = 200 ] || bl_log "WARNING: POST /sl/admin/flush answered HTTP $code"
  local q0 q1 n_issues sum_counts
  q0=$(bl_now)
  curl -s --max-time 120 -o "$dir/issues.json" \
    "$base/api/0/projects/sightline/default/issues/?query=&limit=10000" || true
  q1=$(bl_now)
  n_issues=$(jq 'length' "$dir/issues.json" 2>/dev/null || echo "?")
  sum_counts=$(jq '[.[].count | tonumber] | add // 0' "$dir/issues.json" 2>/dev/null || echo "?")
  local top; top=$(jq -r 'sort_by(-(.count | tonumber)) | .[0] | "\(.count) \(.title)"' "$dir/issues.json" 2>/dev/null | head -c 120 || true)
  bl_log "$fmt: API: $n_issues issues, counts sum $sum_counts; idle ${IDLE_S}s"
  sleep "$IDLE_S"
  local rss_after; rss_after=$(bl_rss_kb "$SL_PID")
  local hwm_end; hwm_end=$(bl_hwm_kb "$SL_PID")
  local disk; disk=$(du -sb "$dir/data" 2>/dev/null | cut -f1)
  sl_stop
  {
    echo "format=$fmt"
    echo "gzip=$GZIP"
    echo "background_busy_pct=$busy"
    echo "other_cpu_pct=$other"
    echo "idle_cpu_s=$(bl_ticks_to_s $((i1 - i0)))"
    echo "rss_idle_kb=$rss_idle"
    tr ' ' '\n' < "$dir/send.txt" | grep '=' | sed 's/^errgen_send: //; s/^/send_/'
    tr ' ' '\n' < "$dir/send.err" | grep -E '^(issues_expected|avg_bytes|python_avg_bytes|node_avg_bytes|messages)=' | sed 's/^/gen_/'
    echo "send_rc=$rc"
    echo "wall_s=$(bl_calc %.3f "$t1 - $t0")"
    echo "server_cpu_s=$(bl_ticks_to_s $((s1 - s0)))"
    echo "client_cpu_s=$(bl_ticks_to_s $((c1 - c0)))"  # errgen's whole run, generation included
    echo "rss_load_max_kb=$rss_load_max"
    echo "rss_load_end_kb=$rss_load_last"
    echo "peak_rss_ingest_kb=$hwm"
    echo "peak_rss_kb=$hwm_end"
    echo "rss_idle_after_kb=$rss_after"
    echo "api_issues=$n_issues"
    echo "api_count_sum=$sum_counts"
    echo "api_list_ms=$(bl_calc %.1f "($q1 - $q0) * 1000")"
    echo "api_top=$top"
    echo "disk_bytes=${disk:-0}"
  } > "$res"
}

files=()
for fmt in $FORMATS; do
  run_format "$fmt" || bl_log "$fmt: run failed"
  sl_stop
  files+=("$OUT/$fmt.txt")
done

if [ "$INPROC_EVENTS" != 0 ]; then
  bl_log "errgen inproc --events $INPROC_EVENTS (one thread, no HTTP)"
  timeout --signal=TERM "$SEND_TIMEOUT" "$ERRGEN" inproc --events "$INPROC_EVENTS" --issues "$ISSUES" \
    --seed "$SEED" "${GZIP_FLAG[@]}" >"$OUT/inproc.out" 2>"$OUT/inproc.err" || bl_log "WARNING: errgen inproc failed"
  cat "$OUT/inproc.err" "$OUT/inproc.out" >&2
  tr ' ' '\n' < "$OUT/inproc.out" | grep '=' | sed 's/^errgen_inproc: //' > "$OUT/inproc.txt" || true
fi

python3 - "$OUT/inproc.txt" "$EVENTS" "$ISSUES" "$CONNS" "${files[@]}" <<'EOF' | tee "$OUT/report.txt"
import os, sys
inproc_file, events, issues, conns, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
def load(path):
    d = {}
    try:
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = v
    except FileNotFoundError:
        pass
    return d
def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return None
runs = [d for d in (load(f) for f in files) if d]
ip = load(inproc_file)
cpu = "?"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except StopIteration:
    pass
print(f"\n== Sightline error ingest (Sentry protocol): {events:,} events a run, {issues} issues, {conns} connections ==")
print(f"machine: {os.cpu_count()} CPUs ({cpu}); goals: >= 20,000 events per core (CPU-s) with grouping, RSS idle < 100 MB")
rows = [
    ("events/s (wall, all answered 200)", lambda d: num(d, "send_events_per_s"), "{:,.0f}"),
    ("events per server CPU-s", lambda d: (num(d, "send_ok") or 0) / num(d, "server_cpu_s") if num(d, "server_cpu_s") else None, "{:,.0f}"),
    ("  vs goal 20,000/core", lambda d: (num(d, "send_ok") or 0) / num(d, "server_cpu_s") / 20000 if num(d, "server_cpu_s") else None, "{:.2f}x"),
    ("server CPU-s (sender CPU-s)", lambda d: f"{d.get('server_cpu_s')} ({d.get('send_cpu_s')})", "{}"),
    ("MB/s of request bodies", lambda d: num(d, "send_mb_per_s"), "{:.1f}"),
    ("request latency p50 ms", lambda d: num(d, "send_p50_ms"), "{:.2f}"),
    ("request latency p90 ms", lambda d: num(d, "send_p90_ms"), "{:.2f}"),
    ("request latency p99 ms", lambda d: num(d, "send_p99_ms"), "{:.2f}"),
    ("request latency max ms", lambda d: num(d, "send_max_ms"), "{:.2f}"),
    ("RSS idle after start MB", lambda d: num(d, "rss_idle_kb") / 1024 if num(d, "rss_idle_kb") else None, "{:.1f}"),
    ("RSS under load, max sample MB", lambda d: num(d, "rss_load_max_kb") / 1024 if num(d, "rss_load_max_kb") else None, "{:.1f}"),
    ("peak RSS (VmHWM) MB", lambda d: num(d, "peak_rss_kb") / 1024 if num(d, "peak_rss_kb") else None, "{:.1f}"),
    ("RSS idle after load MB", lambda d: num(d, "rss_idle_after_kb") / 1024 if num(d, "rss_idle_after_kb") else None, "{:.1f}"),
    ("server CPU-s during the idle wait", lambda d: num(d, "idle_cpu_s"), "{:.2f}"),
    ("issues via API / expected", lambda d: f"{d.get('api_issues')} / {d.get('send_issues_expected', d.get('gen_issues_expected'))}", "{}"),
    ("sum of counts / events acked", lambda d: f"{d.get('api_count_sum')} / {d.get('send_ok')}", "{}"),
    ("failed / wrong id / retried", lambda d: f"{d.get('send_failed')} / {d.get('send_bad_id')} / {d.get('send_retries')}", "{}"),
    ("issue list (limit=10000) ms", lambda d: num(d, "api_list_ms"), "{:.0f}"),
    ("data dir MB", lambda d: num(d, "disk_bytes") / 1e6 if num(d, "disk_bytes") is not None else None, "{:.1f}"),
    ("other processes' CPU %", lambda d: f"{d.get('background_busy_pct')} before, {d.get('other_cpu_pct')} during", "{}"),
]
w = 34
print(f"{'':{w}}" + "".join(f"{(d.get('format', '?') + (' gzip' if d.get('gzip') == '1' else '')):>26}" for d in runs))
for label, get, fmt in rows:
    line = f"{label:{w}}"
    for d in runs:
        try:
            v = get(d)
        except (TypeError, ZeroDivisionError, KeyError):
            v = None
        line += f"{(fmt.format(v) if v is not None else 'n/a'):>26}"
    print(line)
for d in runs:
    ok = d.get("api_issues") == d.get("send_issues_expected") and d.get("api_count_sum") == d.get("send_ok") and d.get("send_failed") == "0"
    print(f"check {d.get('format')}: {'OK' if ok else 'MISMATCH'} (issues {d.get('api_issues')} expected {d.get('send_issues_expected')}; "
          f"counts {d.get('api_count_sum')} of {d.get('send_ok')} acked; failed {d.get('send_failed')}); most frequent: {d.get('api_top')}")
if ip:
    f = lambda k: num(ip, k) or 0
    print(f"in-process, one thread, no HTTP ({ip.get('events')} events, format {ip.get('format')}, gzip {ip.get('gzip')}, "
          f"IssueStore {'on' if ip.get('store') == '1' else 'off'}): {f('events_per_s'):,.0f} events/s; ns/event: "
          f"unzip {f('unzip_ns'):.0f}, envelope {f('envelope_ns'):.0f}, decode {f('decode_ns'):.0f}, group {f('group_ns'):.0f}, "
          f"encode {f('encode_ns'):.0f}, record {f('record_ns'):.0f}; p50/p99 {f('p50_us'):.1f}/{f('p99_us'):.1f} us")
    print(f"physical limits on the same bytes ({f('avg_bytes'):.0f} B/event): simdjson DOM parse {f('simdjson_ns'):.0f} ns "
          f"({f('simdjson_events_per_s'):,.0f} events/s), memcpy {f('memcpy_ns'):.0f} ns ({f('memcpy_gb_s'):.1f} GB/s); "
          f"the ingest core costs {f('x_simdjson'):.1f}x a simdjson parse, {f('x_memcpy'):.0f}x a memcpy "
          f"(the decoder alone {f('decode_x_simdjson'):.1f}x)")
    print(f"grouping check in process: {ip.get('distinct_hashes')} hashes for {ip.get('issues_expected')} generated issues "
          f"(split {ip.get('bugs_split')}, merged {ip.get('bugs_merged')})")
    simd, core = f("simdjson_events_per_s"), f("events_per_s")
    for d in runs:
        cpu_s = num(d, "server_cpu_s")
        if cpu_s and simd and core:
            per = (num(d, "send_ok") or 0) / cpu_s
            print(f"server, {d.get('format')}: {per:,.0f} events per CPU-s = {per / simd:.3f} of bare simdjson parsing "
                  f"per core, {per / core:.2f}x the in-process core (the rest: HTTP, auth, log store, WAL)")
EOF
bl_log "report: $OUT/report.txt"
