#!/usr/bin/env bash
# Grafana's Jaeger data source against /jaeger/api: every request is made the way Grafana makes it
# (same paths, parameters, units and query-string encoding) and every response field Grafana reads
# is checked with the type Grafana decodes it into.
#
# Grafana sources (cited next to each check):
#   [P]  grafana/grafana-jaeger-datasource (standalone plugin, Grafana >= 13.2; current):
#        pkg/jaeger/client.go, pkg/jaeger/querydata.go, pkg/jaeger/jaeger.go (CheckHealth),
#        pkg/jaeger/callresource.go, pkg/jaeger/types/types.go, pkg/jaeger/utils/client_utils.go
#   [T]  grafana/grafana pkg/tsdb/jaeger/{client.go,querydata.go,jaeger.go,types/types.go,
#        utils/client_utils.go} (in-tree backend, Grafana 11.x-13.1; same wire contract as [P])
#   [F]  grafana/grafana public/app/plugins/datasource/jaeger/{datasource.ts,responseTransform.ts,
#        dependencyGraphTransform.ts,types.ts,_importedDependencies/model/transform-trace-data.tsx}
#        (older browser-side path, still used when the backend migration toggle is off)
#
# Units as sent by Grafana:
#   search          GET /api/traces  start/end = epoch MICROseconds ([P] querydata.go: TimeRange.UnixMicro();
#                   [F] datasource.ts getTime(): valueOf()*1000) + [F] lookback=custom
#   trace by id     GET /api/traces/{id}[?start&end]  backend: MILLIseconds ([P] querydata.go UnixMilli(),
#                   only if jsonData.traceIdTimeParams.enabled); frontend [F]: MICROseconds
#   dependencies    GET /api/dependencies?endTs=<ms>&lookback=<ms> ([P] client.go Dependencies, [F] datasource.ts)
# shellcheck disable=SC2016,SC2034  # jq programs use $variables in single quotes; DATA is read by lib.sh
SIGHTLINE_BIN=${1:-${SIGHTLINE_BIN:-build/sightline}}
source "$(dirname "$0")/lib.sh"

start_server --grpc-listen off
J="$BASE/jaeger"   # the URL a user types into the Grafana data source settings

# --- helpers -----------------------------------------------------------------------------------
# get URL: GET into $WORK/resp.json, prints the HTTP status (never fails the script).
get() { curl -sS -o "$WORK/resp.json" -w '%{http_code}' "$1" 2>/dev/null || echo 000; }
# jqr FILTER: jq over the last response (never fails the script).
jqr() { jq -r "$@" "$WORK/resp.json" 2>/dev/null || echo "<jq error>"; }
# raw_ints KEY: "ok" if every `"KEY":<literal>` in the last raw body is a plain JSON integer.
# Go's encoding/json refuses 1.5 or 1e15 for an int64/int field, so the literal form matters.
raw_ints() {
  local bad
  bad=$(grep -oE "\"$1\":[^,}]*" "$WORK/resp.json" | grep -cvE "^\"$1\":-?[0-9]+$" || true)
  if [ "$bad" == 0 ] && grep -q "\"$1\":" "$WORK/resp.json"; then echo ok; else echo "bad($bad)"; fi
}
# goq K V [K V ...]: query string exactly as Go's url.Values.Encode() builds it ([P] client.go):
# keys sorted, url.QueryEscape (space -> '+', '/', ':', '{', '"' percent-encoded).
goq() { python3 - "$@" <<'PY'
import sys, urllib.parse
a = sys.argv[1:]
print(urllib.parse.urlencode(sorted(zip(a[0::2], a[1::2])), quote_via=urllib.parse.quote_plus))
PY
}
# jsq K V [K V ...]: query string as Grafana's urlUtil.serializeParams builds it ([F] datasource.ts):
# insertion order, encodeURIComponent with @ : $ , ; left raw, space -> %20.
jsq() { python3 - "$@" <<'PY'
import sys, urllib.parse
a = sys.argv[1:]
print("&".join(urllib.parse.quote(k, safe="-_.!~*'()@:$,;") + "=" + urllib.parse.quote(v, safe="-_.!~*'()@:$,;")
               for k, v in zip(a[0::2], a[1::2])))
PY
}

# --- one trace: 3 spans, 2 services, error span with exception event, typed attributes, a link ---
TRACE=5b8efff798038103d269b633813fc60c
A=1111111111111111; B=2222222222222222; C=3333333333333333
LINK_TRACE=0af7651916cd43dd8448eb211c80319c; LINK_SPAN=b7ad6b7169203331
NOW=$(date +%s)
T0=$(( (NOW - 120) * 1000000000 + 123456789 ))          # ns, with a sub-microsecond part
ns() { echo $(( T0 + $1 * 1000000 )); }                  # T0 + N ms, in ns
cat >"$WORK/trace.json" <<JSON
{"resourceSpans":[
 {"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"frontend"}},
    {"key":"host.name","value":{"stringValue":"web-1"}},
    {"key":"deployment.environment","value":{"stringValue":"prod"}}]},
  "scopeSpans":[{"scope":{"name":"shapes-test","version":"1.0"},"spans":[
   {"traceId":"$TRACE","spanId":"$A","name":"GET /checkout","kind":2,
    "startTimeUnixNano":"$(ns 0)","endTimeUnixNano":"$(ns 250)",
    "attributes":[
      {"key":"http.method","value":{"stringValue":"GET"}},
      {"key":"http.status_code","value":{"intValue":"500"}},
      {"key":"sample.ratio","value":{"doubleValue":0.25}},
      {"key":"cache.hit","value":{"boolValue":false}}]},
   {"traceId":"$TRACE","spanId":"$B","parentSpanId":"$A","name":"POST /pay","kind":3,
    "startTimeUnixNano":"$(ns 10)","endTimeUnixNano":"$(ns 200)",
    "attributes":[{"key":"peer.service","value":{"stringValue":"payments"}}],
    "links":[{"traceId":"$LINK_TRACE","spanId":"$LINK_SPAN"}]}]}]},
 {"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"payments"}},
    {"key":"host.name","value":{"stringValue":"pay-1"}}]},
  "scopeSpans":[{"scope":{"name":"shapes-test"},"spans":[
   {"traceId":"$TRACE","spanId":"$C","parentSpanId":"$B","name":"charge","kind":2,
    "startTimeUnixNano":"$(ns 20)","endTimeUnixNano":"$(ns 180)",
    "attributes":[{"key":"payment.amount","value":{"doubleValue":12.5}},
                  {"key":"retry","value":{"intValue":"2"}}],
    "status":{"code":2,"message":"card declined"},
    "events":[{"timeUnixNano":"$(ns 150)","name":"exception","attributes":[
      {"key":"exception.type","value":{"stringValue":"CardError"}},
      {"key":"exception.message","value":{"stringValue":"card declined"}},
      {"key":"exception.escaped","value":{"boolValue":true}}]}]}]}]}]}
JSON
code=$(curl -sS -o "$WORK/ingest.json" -w '%{http_code}' -XPOST "$BASE/v1/traces" \
  -H 'Content-Type: application/json' --data-binary @"$WORK/trace.json" || echo 000)
check "OTLP/JSON trace accepted" "$code" 200

# Expected Jaeger times: epoch microseconds, truncated.
US_A=$(( T0 / 1000 )); US_B=$(( (T0 + 10000000) / 1000 )); US_C=$(( (T0 + 20000000) / 1000 ))
US_EVT=$(( (T0 + 150000000) / 1000 ))
for _ in $(seq 1 100); do
  [ "$(get "$J/api/traces/$TRACE")" == 200 ] && [ "$(jqr '.data[0].spans | length')" == 3 ] && break
  sleep 0.1
done

# Grafana's time range: last hour.
FROM_S=$((NOW - 3600)); TO_S=$((NOW + 60))
FROM_US=$((FROM_S * 1000000)); TO_US=$((TO_S * 1000000))
FROM_MS=$((FROM_S * 1000)); TO_MS=$((TO_S * 1000))

# =============================== health check / services =======================================
# [P] jaeger.go CheckHealth -> client.go Services(): GET {url}/api/services; error unless 2xx and the
# body decodes into types.ServicesResponse{data []string, errors any, limit/offset/total int}.
# [F] datasource.ts testDatasource(): GET {url}/api/services; "error" unless res.data.data.length > 0.
check "services: HTTP 200" "$(get "$J/api/services")" 200
check "services: data is []string (types.go ServicesResponse.Data)" \
  "$(jqr '(.data | type) + ":" + ([.data[] | type] | unique | join(","))')" "array:string"
check "services: contains both services (datasource.ts testDatasource needs length > 0)" \
  "$(jqr '[.data[] | select(. == "frontend" or . == "payments")] | sort | join(",")')" "frontend,payments"
check "services: limit/offset/total are ints or null (types.go int fields)" \
  "$(jqr '[.limit, .offset, .total] | map(type == "number" or type == "null") | all')" true

# =============================== operations ====================================================
# [P] client.go Operations(): GET url.JoinPath({url}, "/api/services/", s, "/operations"),
# reads .data []string (types.go ServicesResponse). [F] SearchForm.tsx: services/${encodeURIComponent(s)}/operations.
check "operations: HTTP 200" "$(get "$J/api/services/frontend/operations")" 200
check "operations: data is []string of span names (types.go ServicesResponse.Data)" \
  "$(jqr '[.data[] | select(type == "string")] | sort | join("|")')" "GET /checkout|POST /pay"

# =============================== search ========================================================
# [P] querydata.go: Search(ctx, &query, From.UnixMicro(), To.UnixMicro()); client.go Search():
# GET url.JoinPath({url}, "/api/traces") ? service, operation, tags (logfmt -> JSON object of strings),
# minDuration, maxDuration (strings as typed, e.g. "100ms"), limit (if > 0), start, end (µs).
# Requires status == 200; decodes types.TracesResponse and reads data[].
Q=$(goq service frontend operation "GET /checkout" tags '{"http.status_code":"500"}' \
        minDuration 100ms maxDuration 1s limit 20 start "$FROM_US" end "$TO_US")
check "search (backend, µs): HTTP 200 (client.go Search: StatusCode != 200 is an error)" "$(get "$J/api/traces?$Q")" 200
check "search: one trace, data[0].traceID (types.go TraceResponse.TraceID string)" \
  "$(jqr '"\(.data | length) \(.data[0].traceID)"')" "1 $TRACE"
check "search: every trace has spans (client_utils.go TransformSearchResponse indexes Spans[0])" \
  "$(jqr '[.data[] | (.spans | length) > 0] | all')" true
check "search: spans[].startTime/duration are numbers (types.go Span.StartTime/Duration int64 µs)" \
  "$(jqr '[.data[0].spans[] | (.startTime | type) == "number" and (.duration | type) == "number"] | all')" true
check "search: startTime literal is a plain integer (Go int64 decode)" "$(raw_ints startTime)" ok
check "search: duration literal is a plain integer (Go int64 decode)" "$(raw_ints duration)" ok
# TransformSearchResponse: root = span with the smallest startTime; name = processes[root.processID]
# .serviceName + ": " + root.operationName; start = time.Unix(0, root.StartTime*1000); duration µs.
check "search: root span row (client_utils.go TransformSearchResponse traceName/startTime/duration)" \
  "$(jqr '.data[0] as $t | ($t.spans | min_by(.startTime)) as $r | "\($t.processes[$r.processID].serviceName): \($r.operationName) \($r.startTime) \($r.duration)"')" \
  "frontend: GET /checkout $US_A 250000"
check "search: every processID resolves in processes (types.go TraceResponse.Processes map)" \
  "$(jqr '.data[0] as $t | [$t.spans[] | $t.processes[.processID].serviceName | type == "string"] | all')" true

# Tags as Grafana sends them: JSON object with string values; matches typed span attributes.
for tg in '{"http.status_code":"500"}' '{"sample.ratio":"0.25"}' '{"cache.hit":"false"}' '{"http.method":"GET"}'; do
  Q=$(goq service frontend tags "$tg" limit 20 start "$FROM_US" end "$TO_US")
  get "$J/api/traces?$Q" >/dev/null
  check "search: tags=$tg matches the typed attribute (client.go Search tags JSON)" "$(jqr '.data | length')" 1
done
# error=true is how users look for failed spans (tag "error" in Jaeger); service without the error: none.
Q=$(goq service payments tags '{"error":"true"}' limit 20 start "$FROM_US" end "$TO_US")
get "$J/api/traces?$Q" >/dev/null
check "search: tags={\"error\":\"true\"} finds the error span's trace" "$(jqr '.data | length')" 1
Q=$(goq service frontend tags '{"error":"true"}' limit 20 start "$FROM_US" end "$TO_US")
get "$J/api/traces?$Q" >/dev/null
check "search: tags={\"error\":\"true\"} on a service without errors finds nothing" "$(jqr '.data | length')" 0
# Process (resource) tags are searchable in Jaeger too.
Q=$(goq service payments tags '{"host.name":"pay-1"}' limit 20 start "$FROM_US" end "$TO_US")
get "$J/api/traces?$Q" >/dev/null
check "search: tags on a process (resource) attribute" "$(jqr '.data | length')" 1
# Duration filters in Go duration syntax (what users type): 300ms excludes every span (max 250ms).
Q=$(goq service frontend minDuration 300ms limit 20 start "$FROM_US" end "$TO_US")
check "search: minDuration=300ms -> HTTP 200" "$(get "$J/api/traces?$Q")" 200
check "search: empty result is data:[] not null ([F] responseTransform.ts createTableFrame maps data)" \
  "$(jqr '.data | type')" array
Q=$(goq service frontend maxDuration 1.5ms limit 20 start "$FROM_US" end "$TO_US")
get "$J/api/traces?$Q" >/dev/null
check "search: maxDuration=1.5ms (fractional Go duration) excludes all" "$(jqr '.data | length')" 0
# A time range that ends before the trace: nothing (start/end really are µs).
Q=$(goq service frontend limit 20 start "$FROM_US" end "$(( (NOW - 600) * 1000000 ))")
get "$J/api/traces?$Q" >/dev/null
check "search: µs end before the trace -> no traces" "$(jqr '.data | length')" 0
# Old browser-side path [F] datasource.ts query(): _request('/api/traces', {...jaegerQuery,
# ...getTimeRange() (µs), lookback: 'custom'}) via urlUtil.serializeParams; reads response.data.data.
Q=$(jsq service frontend operation "GET /checkout" tags '{"http.status_code":"500"}' limit 20 \
        start "$FROM_US" end "$TO_US" lookback custom)
check "search (frontend, lookback=custom): HTTP 200" "$(get "$J/api/traces?$Q")" 200
check "search (frontend): one trace" "$(jqr '"\(.data | length) \(.data[0].traceID)"')" "1 $TRACE"
# Grafana 12.1.0 (grafana/grafana#108651, fixed by PR #109045): client.go Search set
# jaegerURL.Path = "/api/traces", dropping the data source URL's path ("/jaeger"), and sent no
# start/end. With URL http://host:4318/jaeger search therefore hits http://host:4318/api/traces.
Q=$(goq service frontend limit 20)
check "search (Grafana 12.1.0 path bug): GET /api/traces without the /jaeger prefix -> 200" \
  "$(get "$BASE/api/traces?$Q")" 200
check "search (Grafana 12.1.0 path bug): finds the trace with the default range" "$(jqr '.data | length' )" 1

# =============================== trace by id ===================================================
# [P] querydata.go: Trace(ctx, query.Query, From.UnixMilli(), To.UnixMilli()); client.go Trace():
# GET url.JoinPath({url}, "/api/traces", url.QueryEscape(id)) + ?start=<ms>&end=<ms> when
# jsonData.traceIdTimeParams.enabled; non-2xx -> error; decodes types.TracesResponse; uses data[0].
Q=$(goq start "$FROM_MS" end "$TO_MS")
check "trace (backend, ms params): HTTP 200" "$(get "$J/api/traces/$TRACE?$Q")" 200
check "trace: data[0].traceID and 3 spans" "$(jqr '"\(.data[0].traceID) \(.data[0].spans | length)"')" "$TRACE 3"
check "trace: span ids/trace ids are strings (types.go Span.TraceID/SpanID)" \
  "$(jqr '[.data[0].spans[] | (.traceID | type) == "string" and (.spanID | type) == "string" and .traceID == "'"$TRACE"'"] | all')" true
check "trace: operationName + processID strings (types.go Span)" \
  "$(jqr '[.data[0].spans[] | (.operationName | type) == "string" and (.processID | type) == "string"] | all')" true
check "trace: startTime per span in epoch µs (client_utils.go TransformTraceResponse: StartTime/1000 -> ms)" \
  "$(jqr '[.data[0].spans[] | .startTime] | sort | map(tostring) | join(",")')" "$US_A,$US_B,$US_C"
check "trace: durations in µs (client_utils.go: Duration/1000 -> ms)" \
  "$(jqr '[.data[0].spans[] | "\(.operationName)=\(.duration)"] | sort | join(",")')" \
  "GET /checkout=250000,POST /pay=190000,charge=160000"
check "trace: startTime literals are plain integers (types.go int64)" "$(raw_ints startTime)" ok
check "trace: duration literals are plain integers (types.go int64)" "$(raw_ints duration)" ok
check "trace: flags literal is a plain integer (types.go Span.Flags int)" "$(raw_ints flags)" ok
check "trace: logs[].timestamp literals are plain integers ([T] types.go TraceLog.Timestamp int64)" "$(raw_ints timestamp)" ok
# Parent: first reference with refType == "CHILD_OF" ([P] client_utils.go, [F] responseTransform.ts
# references.find(CHILD_OF)); the jaeger-ui tree ([F] selectors/trace.ts) takes references[0] as parent,
# so CHILD_OF must come first. Other references are passed through as links.
check "trace: B's references[0] is CHILD_OF A" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$B"'") | .references[0] | "\(.refType) \(.traceID) \(.spanID)"')" \
  "CHILD_OF $TRACE $A"
check "trace: C's parent is B" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$C"'") | [.references[] | select(.refType == "CHILD_OF") | .spanID] | join(",")')" "$B"
check "trace: root A has no CHILD_OF reference (parentSpanID nil)" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$A"'") | [.references[]? | select(.refType == "CHILD_OF")] | length')" 0
check "trace: the link is a FOLLOWS_FROM reference (types.go TraceSpanReference)" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$B"'") | [.references[] | select(.refType == "FOLLOWS_FROM") | "\(.traceID)/\(.spanID)"] | join(",")')" \
  "$LINK_TRACE/$LINK_SPAN"
check "trace: references is an array on every span ([F] transform-trace-data.tsx references.forEach)" \
  "$(jqr '[.data[0].spans[] | .references | type == "array"] | all')" true
# Tags: types.go KeyValueType{key string, type string, value any}; Grafana's trace view shows them
# as-is and finds errors by tag error == true or "true" (TraceView utils isErrorSpan).
tag() { jqr '.data[0].spans[] | select(.spanID == "'"$1"'") | .tags[] | select(.key == "'"$2"'") | "\(.type) \(.value) \(.value | type)"'; }
check "trace: string tag" "$(tag $A http.method)" "string GET string"
check "trace: int tag (type int64, JSON number)" "$(tag $A http.status_code)" "int64 500 number"
check "trace: double tag (type float64, JSON number)" "$(tag $A sample.ratio)" "float64 0.25 number"
check "trace: bool tag (type bool, JSON bool)" "$(tag $A cache.hit)" "bool false boolean"
check "trace: error span has error=true bool (isErrorSpan)" "$(tag $C error)" "bool true boolean"
check "trace: ok span has no error tag" "$(jqr '[.data[0].spans[] | select(.spanID == "'"$A"'") | .tags[] | select(.key == "error")] | length')" 0
check "trace: span.kind tag lower-case (isServerSpan/isClientSpan compare 'server'/'client')" \
  "$(tag $A span.kind) / $(tag $B span.kind)" "string server string / string client string"
check "trace: otel.status_code=ERROR and status description on the error span" \
  "$(tag $C otel.status_code) / $(tag $C otel.status_description)" "string ERROR string / string card declined string"
check "trace: every tag has key/type strings" \
  "$(jqr '[.data[0].spans[].tags[] | (.key | type) == "string" and (.type | type) == "string" and has("value")] | all')" true
# Logs: types.go TraceLog{timestamp (µs on the wire; client_utils.go divides by 1000 -> ms), fields []KeyValueType};
# [F] responseTransform.ts does span.logs.map(...) so logs must be an array, never null.
check "trace: logs is an array on every span ([F] responseTransform.ts span.logs.map)" \
  "$(jqr '[.data[0].spans[] | .logs | type == "array"] | all')" true
check "trace: exception event -> log with µs timestamp" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$C"'") | .logs[0].timestamp')" "$US_EVT"
check "trace: log fields carry the event name and exception attributes" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$C"'") | .logs[0].fields | map("\(.key)=\(.value)") | sort | join(",")')" \
  "event=exception,exception.escaped=true,exception.message=card declined,exception.type=CardError"
check "trace: log fields are typed KeyValues" \
  "$(jqr '.data[0].spans[] | select(.spanID == "'"$C"'") | .logs[0].fields[] | select(.key == "exception.escaped") | "\(.type) \(.value | type)"')" "bool boolean"
# Warnings: []string or null (types.go Span.Warnings / TraceResponse.Warnings; [F] span.warnings ?? undefined).
check "trace: span/trace warnings are array or null" \
  "$(jqr '([.data[0].spans[].warnings] + [.data[0].warnings]) | map(type == "array" or type == "null") | all')" true
# Processes: map processID -> {serviceName string, tags []KeyValueType} (serviceName + serviceTags columns).
check "trace: processes map resolves each span's service" \
  "$(jqr '.data[0] as $t | [$t.spans[] | "\(.operationName)@\($t.processes[.processID].serviceName)"] | sort | join(",")')" \
  "GET /checkout@frontend,POST /pay@frontend,charge@payments"
check "trace: process tags are typed KeyValues (serviceTags)" \
  "$(jqr '.data[0].processes[] | select(.serviceName == "payments") | .tags[] | select(.key == "host.name") | "\(.type) \(.value)"')" "string pay-1"
# Without time params (traceIdTimeParams disabled, the default).
check "trace (no params): HTTP 200" "$(get "$J/api/traces/$TRACE")" 200
check "trace (no params): 3 spans" "$(jqr '.data[0].spans | length')" 3
# [F] datasource.ts (browser path): ?start=${start}&end=${end} from getTimeRange() -> µs.
check "trace (frontend, µs params): HTTP 200" "$(get "$J/api/traces/$TRACE?start=$FROM_US&end=$TO_US")" 200
check "trace (frontend, µs params): 3 spans" "$(jqr '.data[0].spans | length')" 3
# Trace IDs pasted from logs may be upper case; Grafana passes them through url.QueryEscape unchanged.
check "trace: upper-case id -> 200" "$(get "$J/api/traces/${TRACE^^}")" 200
check "trace: upper-case id -> lower-case traceID" "$(jqr '.data[0].traceID')" "$TRACE"
# Not found: Grafana treats any non-2xx as an error ([P]/[T] client.go Trace: StatusCode/100 != 2);
# [T] older in-tree code indexes response.Data[0] without a length check, so a 200 with empty data would panic.
check "trace: unknown id -> 404" "$(get "$J/api/traces/0123456789abcdef0123456789abcdef?$(goq start "$FROM_MS" end "$TO_MS")")" 404
check "trace: unknown id -> Jaeger error envelope" "$(jqr '"\(.data) \(.errors[0].code) \(.errors[0].msg | type)"')" "null 404 string"

# =============================== dependency graph ==============================================
# [P] querydata.go: Dependencies(ctx, From.UnixMilli(), To.UnixMilli()); client.go Dependencies():
# GET {url}/api/dependencies?endTs=<to ms>&lookback=<to-from ms>; decodes types.DependenciesResponse
# {data []{parent string, child string, callCount int}, errors []{code int, msg string}};
# error if len(errors) > 0. [F] dependencyGraphTransform.ts: error if response.data.errors is truthy.
Q=$(goq endTs "$TO_MS" lookback "$((TO_MS - FROM_MS))")
check "dependencies: HTTP 200" "$(get "$J/api/dependencies?$Q")" 200
check "dependencies: frontend -> payments, callCount 1" \
  "$(jqr '[.data[] | "\(.parent)->\(.child)=\(.callCount)"] | join(",")')" "frontend->payments=1"
check "dependencies: parent/child strings, callCount number" \
  "$(jqr '[.data[] | (.parent | type) == "string" and (.child | type) == "string" and (.callCount | type) == "number"] | all')" true
check "dependencies: callCount literal is a plain integer (types.go CallCount int)" "$(raw_ints callCount)" ok
check "dependencies: errors is null (len(errors) > 0 / truthy errors => Grafana error)" "$(jqr '.errors | type')" null
# A window in ms that ends before the trace: no edges (endTs/lookback really are ms).
Q=$(goq endTs "$(( (NOW - 600) * 1000 ))" lookback 600000)
get "$J/api/dependencies?$Q" >/dev/null
check "dependencies: ms window before the trace -> data:[]" "$(jqr '"\(.data | type) \(.data | length)"')" "array 0"

# =============================== service names needing escapes ==================================
# [P] client.go Operations: url.JoinPath(..., s, ...) percent-encodes a space but leaves '+' as is;
# a path '+' is a literal plus, not a space.
cat >"$WORK/plus.json" <<JSON
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"c++ svc"}}]},
 "scopeSpans":[{"spans":[{"traceId":"6b8efff798038103d269b633813fc60c","spanId":"4444444444444444","name":"op+1",
  "kind":2,"startTimeUnixNano":"$(ns 0)","endTimeUnixNano":"$(ns 5)"}]}]}]}
JSON
curl -sS -o /dev/null -XPOST "$BASE/v1/traces" -H 'Content-Type: application/json' --data-binary @"$WORK/plus.json" || true
for _ in $(seq 1 100); do
  [ "$(get "$J/api/traces/6b8efff798038103d269b633813fc60c")" == 200 ] && break
  sleep 0.1
done
check "operations: service 'c++ svc' as Go url.JoinPath sends it (c++%20svc)" \
  "$(get "$J/api/services/c++%20svc/operations" >/dev/null; jqr '.data | join(",")')" "op+1"
check "operations: service 'c++ svc' as encodeURIComponent sends it (c%2B%2B%20svc)" \
  "$(get "$J/api/services/c%2B%2B%20svc/operations" >/dev/null; jqr '.data | join(",")')" "op+1"

finish
