#!/usr/bin/env bash
# Error tracking end to end with the real Sentry SDKs (tests/sentry/): Debian's python
# sentry-sdk 1.9.10 (/store/, gzip, X-Sentry-Auth) into the default project and @sentry/node
# 11 (/envelope/, chunked, query-string auth) into a project created through the API. Checks
# grouping (same bug -> one issue with count 2, another line -> another issue, library frames
# do not split, normalized messages group, custom fingerprints override), the lifecycle
# (resolve -> regress; resolvedInNextRelease with releases), trace links (an error inside an
# OpenTelemetry- or Sentry-traced request carries that trace id, and the trace shows it), the
# Sentry read API shapes and paging, auth failures, sessions, and a restart.
# shellcheck disable=SC2016  # jq programs use $variables in single quotes
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS="$ROOT/tests/sentry"
PY=/usr/bin/python3
KEY=0123456789abcdef0123456789abcdef
ORG=sightline

start_server --set errors.default_key=$KEY --grpc-listen off
PY_DSN="http://$KEY@127.0.0.1:$PORT/1"

get() { curl -sS "$BASE$1"; }
status_of() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
# py SUBCOMMAND...: runs the python client, prints its stdout; a delivery failure fails the test.
py() {
  local out
  if ! out=$(SENTRY_DSN="$PY_DSN" timeout 30 "$PY" "$CLIENTS/py_client.py" "$@" 2>>"$WORK/clients.log"); then
    fail "python client $*: did not deliver (see clients.log)"; tail -5 "$WORK/clients.log"
  fi
  echo "$out"
}
node_client() {
  local out
  if ! out=$(SENTRY_DSN="$NODE_DSN" OTEL_EXPORTER_OTLP_ENDPOINT="$BASE" timeout 30 node "$CLIENTS/node_client.js" "$@" 2>>"$WORK/clients.log"); then
    fail "node client $*: did not deliver (see clients.log)"; tail -5 "$WORK/clients.log"
  fi
  echo "$out"
}
ids() { grep '^event_id=' | cut -d= -f2; }
field() { grep "^$1=" | head -1 | cut -d= -f2; }
# group_of PROJECT EVENT_ID: the issue id an event was grouped into.
group_of() { get "/api/0/projects/$ORG/$1/events/$2/" | jq -r '.groupID'; }
issue() { get "/api/0/issues/$1/"; }

# ---- python: grouping
out=$(py same-bug); mapfile -t e < <(echo "$out" | ids)
check "py same-bug: two events sent" "${#e[@]}" 2
g_same=$(group_of default "${e[0]}")
check "py same-bug: both events in one issue" "$(group_of default "${e[1]}")" "$g_same"
check "py same-bug: issue count 2" "$(issue "$g_same" | jq -r '.count')" 2
check "py same-bug: title" "$(issue "$g_same" | jq -r '.metadata.type')" TypeError
check "py same-bug: one user" "$(issue "$g_same" | jq -r '.userCount')" 1

out=$(py other-line)
g_other=$(group_of default "$(echo "$out" | ids | head -1)")
if [ -n "$g_other" ] && [ "$g_other" != null ] && [ "$g_other" != "$g_same" ]; then
  ok "py other-line: same exception type from another line is another issue"
else
  fail "py other-line: got issue '$g_other' (same-bug issue $g_same)"
fi

out=$(py library); mapfile -t e < <(echo "$out" | ids)
check "py library: stdlib frames between in-app frames do not split the group" \
  "$(group_of default "${e[0]}")" "$(group_of default "${e[1]}")"

g1=$(group_of default "$(py message "user 123 not found" | ids)")
g2=$(group_of default "$(py message "user 456 not found" | ids)")
check "py messages with different ids group together" "$g2" "$g1"
check "py message issue title keeps the first message" "$(issue "$g1" | jq -r '.title')" "user 123 not found"

f1=$(group_of default "$(py fingerprint checkout-fp | ids)")
f2=$(group_of default "$(py fingerprint checkout-fp b | ids)")
f3=$(group_of default "$(py fingerprint other-fp | ids)")
check "py custom fingerprint: different exceptions, same fingerprint -> one issue" "$f2" "$f1"
if [ "$f3" != "$f1" ]; then ok "py custom fingerprint: another fingerprint -> another issue"; else fail "py fingerprint: other-fp joined $f1"; fi

# ---- lifecycle: resolve then a new event regresses
check "resolve: PUT status" "$(curl -sS -X PUT -H 'Content-Type: application/json' \
  -d '{"status":"resolved"}' "$BASE/api/0/issues/$g_same/" | jq -r '.status')" resolved
py same-bug >/dev/null
check "regression: status unresolved again" "$(issue "$g_same" | jq -r '.status')" unresolved
check "regression: substatus regressed" "$(issue "$g_same" | jq -r '.substatus')" regressed
check "regression: count 4" "$(issue "$g_same" | jq -r '.count')" 4
check "regressed issues are searchable" \
  "$(curl -sS -G "$BASE/api/0/projects/$ORG/default/issues/" --data-urlencode 'query=is:regressed' | jq -r '.[].id' | tr '\n' ' ')" "$g_same "

check "activity log: created, resolved, regressed for the issue" \
  "$(get "/sl/issues/activity?after=0" | jq -r --argjson id "$g_same" '[.activity[] | select(.issueId == $id) | .kind] | join(",")')" \
  created,resolved,regressed

check "search: quoted free text with a colon" \
  "$(curl -sS -G "$BASE/api/0/projects/$ORG/default/issues/" --data-urlencode 'query="TypeError: unsupported operand"' | jq -r --arg id "$g_same" '[.[].id] | index($id) != null')" true
check "search: level and free text" \
  "$(curl -sS -G "$BASE/api/0/projects/$ORG/default/issues/" --data-urlencode 'query=level:error "user 123"' | jq -r --arg id "$g1" '[.[].id] == [$id]')" true

# ---- resolved in next release
r1=$(group_of default "$(py regress-release shop@1.0.0 | ids)")
curl -sS -X PUT -d '{"status":"resolved","statusDetails":{"inNextRelease":true}}' "$BASE/api/0/issues/$r1/" >/dev/null
check "resolvedInNextRelease: statusDetails" "$(issue "$r1" | jq -r '.statusDetails.inNextRelease')" true
py regress-release shop@1.0.0 >/dev/null
check "resolvedInNextRelease: an event from the same release does not reopen" "$(issue "$r1" | jq -r '.status')" resolved
py regress-release shop@1.1.0 >/dev/null
check "resolvedInNextRelease: an event from a newer release reopens" "$(issue "$r1" | jq -r '.status + "/" + .substatus')" unresolved/regressed

# ---- python: an error inside a Sentry transaction carries its trace id; the spans arrive
out=$(py traced)
tid=$(echo "$out" | field trace_id)
ev=$(echo "$out" | ids | head -1)
gt=$(group_of default "$ev")
latest=$(get "/api/0/issues/$gt/events/latest/")
check "py traced: event contexts.trace.trace_id" "$(echo "$latest" | jq -r '.contexts.trace.trace_id')" "$tid"
check "py traced: event has an exception entry with in-app frames" \
  "$(echo "$latest" | jq -r '[.entries[] | select(.type=="exception") | .data.values[-1].stacktrace.frames[] | select(.inApp)] | length > 0')" true
check "py traced: frames carry source context" \
  "$(echo "$latest" | jq -r '[.entries[] | select(.type=="exception") | .data.values[-1].stacktrace.frames[-1].context | length] | .[0] > 0')" true
trace=$(get "/sl/traces/$tid")
check "py traced: transaction spans in the trace store" \
  "$(echo "$trace" | jq -r '[.spans[].name] | sort | join(",")')" "checkout-job,load cart"
check "py traced: the trace's logs include the error" \
  "$(echo "$trace" | jq -r --arg ev "$ev" '[.logs[] | select(.attributes.sentry_event_id == $ev)] | length')" 1

# ---- node: a project created through the API
created=$(curl -sS -X POST -H 'Content-Type: application/json' -d '{"name":"Node App","platform":"node"}' \
  "$BASE/api/0/teams/$ORG/default/projects/")
check "create project: slug" "$(echo "$created" | jq -r '.slug')" node-app
NODE_PID=$(echo "$created" | jq -r '.id')
NODE_DSN=$(get "/api/0/projects/$ORG/node-app/keys/" | jq -r '.[0].dsn.public')
check "project key DSN names the new project" "${NODE_DSN##*/}" "$NODE_PID"

out=$(node_client same-bug); mapfile -t e < <(echo "$out" | ids)
n_same=$(group_of node-app "${e[0]}")
check "node same-bug: one issue" "$(group_of node-app "${e[1]}")" "$n_same"
check "node same-bug: count 2" "$(issue "$n_same" | jq -r '.count')" 2
check "node same-bug: two users affected" "$(issue "$n_same" | jq -r '.userCount')" 2
check "node issue belongs to the node project" "$(issue "$n_same" | jq -r '.project.slug')" node-app
n_other=$(group_of node-app "$(node_client other-line | ids)")
if [ "$n_other" != "$n_same" ] && [ "$n_other" != null ]; then ok "node other-line: another issue"; else fail "node other-line joined $n_same"; fi
out=$(node_client library); mapfile -t e < <(echo "$out" | ids)
check "node library: node_modules frames do not split the group" "$(group_of node-app "${e[0]}")" "$(group_of node-app "${e[1]}")"
m1=$(group_of node-app "$(node_client message "order 8812 failed for user 42" | ids)")
m2=$(group_of node-app "$(node_client message "order 9977 failed for user 7" | ids)")
check "node messages with different numbers group together" "$m2" "$m1"
nf1=$(group_of node-app "$(node_client fingerprint pay-fp | ids)")
nf2=$(group_of node-app "$(node_client fingerprint pay-fp b | ids)")
check "node custom fingerprint overrides the stack" "$nf2" "$nf1"

# OpenTelemetry-traced request: the Sentry event carries the OTel trace id; the trace (sent by
# the OTel exporter to /v1/traces) shows the error among its logs.
out=$(node_client traced)
tid=$(echo "$out" | field trace_id)
ev=$(echo "$out" | ids | head -1)
gn=$(group_of node-app "$ev")
check "node traced: event trace id = the OTel trace id" \
  "$(get "/api/0/issues/$gn/events/$ev/" | jq -r '.contexts.trace.trace_id')" "$tid"
trace=$(get "/sl/traces/$tid")
check "node traced: OTel spans in the trace" "$(echo "$trace" | jq -r '.spans | length > 1')" true
check "node traced: the trace's logs include the Sentry error" \
  "$(echo "$trace" | jq -r --arg ev "$ev" '[.logs[] | select(.attributes.sentry_event_id == $ev)] | length')" 1

out=$(node_client transaction)
tid=$(echo "$out" | field trace_id)
check "node span v2 item: spans in the trace store" \
  "$(get "/sl/traces/$tid" | jq -r '[.spans[].name] | index("checkout-job") != null')" true

# ---- read API shapes, paging, tags
list=$(curl -sS -D "$WORK/h" -G "$BASE/api/0/organizations/$ORG/issues/" --data-urlencode "project=$NODE_PID" \
  --data-urlencode 'query=' --data-urlencode 'limit=2' --data-urlencode 'statsPeriod=24h')
check "org issues: limit 2" "$(echo "$list" | jq 'length')" 2
check "org issues: Link next has results" "$(grep -i '^link:' "$WORK/h" | grep -c 'rel="next"; results="true"')" 1
check "org issues: count is a string, stats are 24 hourly points" \
  "$(echo "$list" | jq -r '.[0] | (.count|type) + "/" + (.stats["24h"]|length|tostring)')" string/24
next=$(grep -i '^link:' "$WORK/h" | sed -E 's/.*rel="next"; results="true"; cursor="([^"]+)".*/\1/')
page2=$(curl -sS -G "$BASE/api/0/organizations/$ORG/issues/" --data-urlencode "project=$NODE_PID" \
  --data-urlencode 'query=' --data-urlencode 'limit=2' --data-urlencode "cursor=$next")
check "org issues: the next page is different" \
  "$(jq -n --argjson a "$list" --argjson b "$page2" '[$a[].id] - [$b[].id] | length')" 2
check "Grafana-style start/end and environment filters" \
  "$(curl -sS -G "$BASE/api/0/organizations/$ORG/issues/" --data-urlencode "project=$NODE_PID" \
      --data-urlencode 'query=' --data-urlencode 'start=2020-01-01T00:00:00' --data-urlencode 'end=2035-01-01T00:00:00' \
      --data-urlencode 'environment=itest' --data-urlencode 'limit=10000' | jq 'length > 3')" true
check "issue tags: release with its value" \
  "$(get "/api/0/issues/$n_same/tags/" | jq -r '.[] | select(.key=="release") | .topValues[0].value')" sightline-itest@1.0.0
check "issue events list" "$(get "/api/0/issues/$n_same/events/" | jq 'length')" 2
check "organizations list" "$(get /api/0/organizations/ | jq -r '.[0].slug')" "$ORG"
check "projects list" "$(get "/api/0/organizations/$ORG/projects/" | jq -r '[.[].slug] | join(",")')" default,node-app

# ---- auth failures
env_body='{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}
{"type":"event"}
{"message":"hello","level":"error"}'
check "no auth: 401" "$(status_of -X POST --data-binary "$env_body" "$BASE/api/1/envelope/")" 401
check "unknown key: 403" "$(status_of -X POST --data-binary "$env_body" "$BASE/api/1/envelope/?sentry_key=ffffffffffffffffffffffffffffffff&sentry_version=7")" 403
check "key of another project: 403" "$(status_of -X POST --data-binary "$env_body" "$BASE/api/$NODE_PID/envelope/?sentry_key=$KEY&sentry_version=7")" 403
check "malformed envelope: 400" "$(status_of -X POST --data-binary 'not json' "$BASE/api/1/envelope/?sentry_key=$KEY")" 400
check "envelope header dsn authenticates" \
  "$(curl -sS -X POST --data-binary "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dd\",\"dsn\":\"$PY_DSN\"}
{\"type\":\"event\"}
{\"message\":\"via dsn\",\"level\":\"error\"}" "$BASE/api/1/envelope/" | jq -r '.id')" 9ec79c33ec9942ab8353589fcb2e04dd

b64=$(printf '%s:' "$KEY" | base64)
check "HTTP Basic auth (user = key) on /store/" \
  "$(curl -sS -X POST -H "Authorization: Basic $b64" -H 'Content-Type: application/json' \
      -d '{"event_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1","message":"basic auth"}' "$BASE/api/1/store/" | jq -r '.id')" \
  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1
check "Authorization: Sentry header" \
  "$(status_of -X POST -H "Authorization: Sentry sentry_key=$KEY, sentry_version=7" \
      -d '{"message":"sentry authz"}' "$BASE/api/1/store/")" 200
check "two auth sources naming different keys: 401" \
  "$(status_of -X POST -H "X-Sentry-Auth: Sentry sentry_key=$KEY, sentry_version=7" \
      -d '{"message":"x"}' "$BASE/api/1/store/?sentry_key=ffffffffffffffffffffffffffffffff")" 401
"$PY" -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(b"{\"event_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2\",\"message\":\"deflated\"}"))' >"$WORK/deflated"
check "deflate body" "$(curl -sS -X POST -H 'Content-Encoding: deflate' --data-binary @"$WORK/deflated" \
  "$BASE/api/1/store/?sentry_key=$KEY" | jq -r '.id')" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2
"$PY" -c 'import json; print(json.dumps({"message": "big", "extra": {"blob": "x" * (1100 * 1024)}}))' >"$WORK/big.json"
check "event over 1 MiB: 413" "$(status_of -X POST --data-binary @"$WORK/big.json" "$BASE/api/1/store/?sentry_key=$KEY")" 413
check "unknown Content-Encoding: 415" "$(status_of -X POST -H 'Content-Encoding: compress' -d '{}' "$BASE/api/1/store/?sentry_key=$KEY")" 415
check "bearer tokens not configured: API open" "$(status_of "$BASE/api/0/projects/")" 200

# ---- CLI: projects and keys in the data directory, while the server runs
cli_out=$("$SIGHTLINE_BIN" projects create "Billing Worker" --platform python --data-dir "$DATA" --public-url "$BASE")
cli_dsn=$(echo "$cli_out" | cut -f3)
check "CLI projects create: slug" "$(echo "$cli_out" | cut -f2)" billing-worker
check "CLI projects list shows every project" \
  "$("$SIGHTLINE_BIN" projects list --data-dir "$DATA" | awk 'NR>1 {print $2}' | tr '\n' ' ')" "default node-app billing-worker "
cli_key=${cli_dsn#http://}; cli_key=${cli_key%%@*}; cli_pid=${cli_dsn##*/}
check "a key created by the CLI is accepted by the running server" \
  "$(status_of -X POST -d '{"message":"from the cli project"}' "$BASE/api/$cli_pid/store/?sentry_key=$cli_key")" 200
check "CLI keys create + list" \
  "$("$SIGHTLINE_BIN" keys create --project "$cli_pid" --label ci --data-dir "$DATA" >/dev/null && "$SIGHTLINE_BIN" keys list --project "$cli_pid" --data-dir "$DATA" | awk 'NR>1' | wc -l)" 2

# ---- sessions (release health): node sends session updates with its errors
check "node sessions recorded per release" \
  "$(get "/api/0/projects/$ORG/node-app/releases/" | jq -r '.[] | select(.version=="sightline-itest@1.0.0") | .healthData.totalSessions > 0')" true

# ---- restart (now requiring API tokens): issues, counts and events survive
stop_server
start_server --set errors.default_key=$KEY --grpc-listen off --set errors.api_tokens=tok-a,tok-b
check "api tokens: no bearer -> 401" "$(status_of "$BASE/api/0/issues/$g_same/")" 401
check "api tokens: wrong bearer -> 401" "$(status_of -H 'Authorization: Bearer nope' "$BASE/api/0/issues/$g_same/")" 401
get() { curl -sS -H 'Authorization: Bearer tok-b' "$BASE$1"; }
check "after restart: count kept" "$(issue "$g_same" | jq -r '.count')" 4
check "after restart: latest event still loads" "$(get "/api/0/issues/$g_same/events/latest/" | jq -r '.groupID')" "$g_same"
check "after restart: same DSN key" "$(get "/api/0/projects/$ORG/default/keys/" | jq -r '.[0].public')" "$KEY"

finish
