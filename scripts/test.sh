#!/usr/bin/env bash
# One command from a fresh Debian machine to every test: installs dependencies (Debian
# packages and the npm packages the integration tests use), builds, and runs
#   1. unit tests and integration tests (real server, curl, OpenTelemetry SDK) with ctest;
#   2. the unit tests again under ASan+UBSan (clang);
#   3. each libFuzzer target for a short time (FUZZ_SECONDS, default 20).
# Ends with one line "N passed, N failed" over all three; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test || exit 1
(cd tests/otel && npm ci --no-audit --no-fund --loglevel=error) || exit 1
(cd tests/sentry && npm ci --no-audit --no-fund --loglevel=error) || exit 1
JOBS=${JOBS:-$(nproc)}
total_pass=0
total_fail=0

count_ctest() {  # parses "NN% tests passed, F tests failed out of T"
  local log=$1 line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then total_fail=$((total_fail + 1)); return; fi
  local f t
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  t=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/')
  total_pass=$((total_pass + t - f))
  total_fail=$((total_fail + f))
}

echo "== build (g++) and ctest: unit + integration"
if bash scripts/build.sh; then
  (cd build && ctest --output-on-failure -j "$JOBS" --timeout 900) 2>&1 | tee build/ctest.log
  count_ctest build/ctest.log
else
  echo "build failed"; total_fail=$((total_fail + 1))
fi

echo "== unit tests under ASan+UBSan (clang)"
if CC=clang CXX=clang++ BUILD_DIR=build-asan TARGETS=sightline_tests bash scripts/build.sh -DSIGHTLINE_SANITIZE=ON; then
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j "$JOBS" -LE integration) 2>&1 | tee build-asan/ctest.log
  count_ctest build-asan/ctest.log
else
  echo "sanitizer build failed"; total_fail=$((total_fail + 1))
fi

echo "== fuzz smoke (libFuzzer, ${FUZZ_SECONDS:-20}s each)"
if CC=clang CXX=clang++ BUILD_DIR=build-fuzz bash scripts/build.sh -DSIGHTLINE_FUZZ=ON -DSIGHTLINE_TESTS=OFF; then
  for f in build-fuzz/*_fuzzer; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=fuzz/corpus/${name%_fuzzer}
    mkdir -p "build-fuzz/corpus-$name"
    if "$f" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=4096 -print_final_stats=1 "build-fuzz/corpus-$name" $( [ -d "$corpus" ] && echo "$corpus") >"build-fuzz/$name.log" 2>&1; then
      echo "ok   - $name ($(grep -oE 'stat::number_of_executed_units: [0-9]+' "build-fuzz/$name.log" || tail -1 "build-fuzz/$name.log"))"
      total_pass=$((total_pass + 1))
    else
      echo "FAIL - $name"; tail -30 "build-fuzz/$name.log"; total_fail=$((total_fail + 1))
    fi
  done
else
  echo "fuzz build failed"; total_fail=$((total_fail + 1))
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
