# Shared helpers for integration tests: start/stop a real sightline server on a free
# loopback port with a private data directory, and small assertion helpers.
# Usage: source tests/lib.sh; SIGHTLINE_BIN must point at the binary.
set -euo pipefail

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/sightline-${TEST_NAME}-XXXXXX")
PASSED=0
FAILED=0
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -9 "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$WORK/data"

# start_server [extra args...]: starts the server and waits for /readyz.
start_server() {
  "$SIGHTLINE_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" "$@" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf "$BASE/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server exited early:"; cat "$WORK/server.log"; return 1; fi
    sleep 0.1
  done
  echo "server did not become ready"; cat "$WORK/server.log"; return 1
}

# stop_server: SIGTERM and wait (clean shutdown flushes).
stop_server() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 100); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; return 0; fi
    sleep 0.1
  done
  echo "server did not stop on SIGTERM"; return 1
}

crash_server() {
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

ok() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }

# check NAME ACTUAL EXPECTED
check() {
  if [ "$2" == "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# query LOGQL [extra curl args]: native API query over a wide time range, prints JSON.
query() {
  local q=$1; shift
  curl -sS -G "$BASE/sl/logs/query" --data-urlencode "query=$q" \
    --data-urlencode "start=${QSTART:-2020-01-01T00:00:00Z}" --data-urlencode "end=${QEND:-2030-01-01T00:00:00Z}" "$@"
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -ne 0 ]; then
    echo "--- server log (tail) ---"; tail -20 "$WORK/server.log" || true
    exit 1
  fi
}
