#include "api/trace_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "api/log_api.h"
#include "base/json.h"
#include "http/decompress.h"
#include "http/status_map.h"
#include "ingest/otlp_logs.h"
#include "ingest/otlp_traces.h"
#include "ingest/zipkin.h"

namespace sightline::api {
namespace {

using model::Span;
using query::TraceSummary;

void JsonError(http::Response* res, const Status& s) {
  res->status = http::HttpStatusFor(s.code());
  res->content_type = "application/json";
  res->body = R"({"status":"error","error":)" + JsonQuoted(s.message()) + "}";
  if (res->status == 429 || res->status == 503) res->headers.emplace_back("Retry-After", "1");
}

// Jaeger's envelope for errors: {"data":null,"errors":[{"code":N,"msg":"..."}]}.
void JaegerError(http::Response* res, const Status& s) {
  res->status = http::HttpStatusFor(s.code());
  res->content_type = "application/json";
  res->body = R"({"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":)" +
              std::to_string(res->status) + R"(,"msg":)" + JsonQuoted(s.message()) + "}]}";
}

void AppendU64(uint64_t v, std::string* out) { out->append(std::to_string(v)); }
void AppendI64(int64_t v, std::string* out) { out->append(std::to_string(v)); }
void AppendNsString(int64_t v, std::string* out) {
  out->push_back('"');
  AppendI64(v, out);
  out->push_back('"');
}

// ,"p50Ms":..,"p95Ms":..,"p99Ms":.. from nanoseconds.
void AppendLatencyMs(double p50_ns, double p95_ns, double p99_ns, std::string* o) {
  o->append(R"(,"p50Ms":)");
  JsonNumber(p50_ns / 1e6, o);
  o->append(R"(,"p95Ms":)");
  JsonNumber(p95_ns / 1e6, o);
  o->append(R"(,"p99Ms":)");
  JsonNumber(p99_ns / 1e6, o);
}

void AppendAttrValue(const model::AttrValue& v, std::string* out) {
  switch (v.type) {
    case model::AttrValue::Type::kString:
      JsonQuote(v.str, out);
      break;
    case model::AttrValue::Type::kInt:
      AppendI64(v.i, out);
      break;
    case model::AttrValue::Type::kDouble:
      JsonNumber(v.d, out);
      break;
    case model::AttrValue::Type::kBool:
      out->append(v.b ? "true" : "false");
      break;
  }
}

void AppendAttrObject(const std::vector<model::Attribute>& attrs, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i) out->push_back(',');
    JsonQuote(attrs[i].key, out);
    out->push_back(':');
    AppendAttrValue(attrs[i].value, out);
  }
  out->push_back('}');
}

// Trace ids in requests: 32 hex, or 16 hex (64-bit ids, left-padded).
StatusOr<model::TraceId> ParseTraceIdParam(std::string_view text) {
  model::TraceId id;
  if (text.size() == 32 && model::DecodeHex(text, id.bytes.data(), 16)) return id;
  if (!text.empty() && text.size() < 32) {
    std::string padded(32 - text.size(), '0');  // Jaeger drops leading zeros
    padded.append(text);
    if (model::DecodeHex(padded, id.bytes.data(), 16)) return id;
  }
  return InvalidArgument("trace id must be 32 (or 16) hex digits, got '" + std::string(text) + "'");
}

void AppendSummary(const TraceSummary& s, std::string* o) {
  o->append(R"({"traceId":")");
  o->append(s.trace_id.Hex());
  o->append(R"(","rootService":)");
  JsonQuote(s.root_service, o);
  o->append(R"(,"rootName":)");
  JsonQuote(s.root_name, o);
  o->append(R"(,"startTimeUnixNano":)");
  AppendNsString(s.start_ns, o);
  o->append(R"(,"durationNs":)");
  AppendI64(s.end_ns - s.start_ns, o);
  o->append(R"(,"durationMs":)");
  JsonNumber(static_cast<double>(s.end_ns - s.start_ns) / 1e6, o);
  o->append(R"(,"spanCount":)");
  AppendU64(s.span_count, o);
  o->append(R"(,"errorCount":)");
  AppendU64(s.error_count, o);
  o->append(R"(,"services":[)");
  for (size_t i = 0; i < s.services.size(); ++i) {
    if (i) o->push_back(',');
    JsonQuote(s.services[i], o);
  }
  o->append("]}");
}

void AppendSpan(const Span& s, int depth, std::string* o) {
  o->append(R"({"spanId":")");
  o->append(s.span_id.Hex());
  o->append(R"(","parentSpanId":")");
  if (!s.parent_span_id.empty()) o->append(s.parent_span_id.Hex());
  o->append(R"(","name":)");
  JsonQuote(s.name, o);
  o->append(R"(,"service":)");
  JsonQuote(s.service, o);
  o->append(R"(,"kind":")");
  o->append(model::SpanKindName(s.kind));
  o->append(R"(","startTimeUnixNano":)");
  AppendNsString(s.start_ns, o);
  o->append(R"(,"endTimeUnixNano":)");
  AppendNsString(s.end_ns, o);
  o->append(R"(,"durationNs":)");
  AppendI64(s.duration_ns(), o);
  o->append(R"(,"status":{"code":")");
  o->append(model::StatusCodeName(s.status_code));
  o->append(R"(","message":)");
  JsonQuote(s.status_message, o);
  o->append(R"(},"depth":)");
  AppendI64(depth, o);
  if (!s.trace_state.empty()) {
    o->append(R"(,"traceState":)");
    JsonQuote(s.trace_state, o);
  }
  o->append(R"(,"scope":{"name":)");
  JsonQuote(s.scope_name, o);
  o->append(R"(,"version":)");
  JsonQuote(s.scope_version, o);
  o->append(R"(},"attributes":)");
  AppendAttrObject(s.attrs, o);
  // The resource as the SDK sent it: service.name is stored as the span's service.
  o->append(R"(,"resource":{"service.name":)");
  JsonQuote(s.service, o);
  if (!s.resource_attrs().empty()) {
    o->push_back(',');
    std::string attrs;
    AppendAttrObject(s.resource_attrs(), &attrs);
    o->append(attrs, 1, attrs.size() - 1);  // without its opening brace
  } else {
    o->push_back('}');
  }
  o->append(R"(,"events":[)");
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (i) o->push_back(',');
    o->append(R"({"timeUnixNano":)");
    AppendNsString(s.events[i].time_ns, o);
    o->append(R"(,"name":)");
    JsonQuote(s.events[i].name, o);
    o->append(R"(,"attributes":)");
    AppendAttrObject(s.events[i].attrs, o);
    o->push_back('}');
  }
  o->append(R"(],"links":[)");
  for (size_t i = 0; i < s.links.size(); ++i) {
    if (i) o->push_back(',');
    o->append(R"({"traceId":")");
    o->append(s.links[i].trace_id.Hex());
    o->append(R"(","spanId":")");
    o->append(s.links[i].span_id.Hex());
    o->append(R"(","attributes":)");
    AppendAttrObject(s.links[i].attrs, o);
    o->push_back('}');
  }
  o->append("]}");
}

void AppendLog(const model::LogRecord& r, std::string* o) {
  o->append(R"({"timeUnixNano":)");
  AppendNsString(r.ts_ns, o);
  o->append(R"(,"level":")");
  o->append(model::LevelName(r.level));
  o->append(R"(","service":)");
  JsonQuote(r.service, o);
  o->append(R"(,"spanId":")");
  if (!r.span_id.empty()) o->append(r.span_id.Hex());
  o->append(R"(","body":)");
  JsonQuote(r.body, o);
  o->append(R"(,"attributes":)");
  AppendAttrObject(r.attrs, o);
  o->push_back('}');
}

// --- Jaeger UI model --------------------------------------------------------------------

void AppendJaegerTag(std::string_view key, const model::AttrValue& v, std::string* o) {
  o->append(R"({"key":)");
  JsonQuote(key, o);
  switch (v.type) {
    case model::AttrValue::Type::kString:
      o->append(R"(,"type":"string","value":)");
      break;
    case model::AttrValue::Type::kInt:
      o->append(R"(,"type":"int64","value":)");
      break;
    case model::AttrValue::Type::kDouble:
      o->append(R"(,"type":"float64","value":)");
      break;
    case model::AttrValue::Type::kBool:
      o->append(R"(,"type":"bool","value":)");
      break;
  }
  AppendAttrValue(v, o);
  o->push_back('}');
}

void AppendJaegerTags(const std::vector<model::Attribute>& attrs, std::string* o, bool* first) {
  for (const auto& a : attrs) {
    if (!*first) o->push_back(',');
    *first = false;
    AppendJaegerTag(a.key, a.value, o);
  }
}

void AppendJaegerTrace(const query::TraceView& v, std::string* o) {
  // One process per service (with the resource attributes of its first span).
  std::map<std::string, std::string> process_of;  // service -> "p<n>"
  std::vector<const Span*> process_span;
  for (const auto& s : v.spans) {
    if (process_of.count(s.service)) continue;
    process_of[s.service] = "p" + std::to_string(process_of.size() + 1);
    process_span.push_back(&s);
  }
  o->append(R"({"traceID":")");
  o->append(v.summary.trace_id.Hex());
  o->append(R"(","spans":[)");
  for (size_t i = 0; i < v.spans.size(); ++i) {
    const Span& s = v.spans[i];
    if (i) o->push_back(',');
    o->append(R"({"traceID":")");
    o->append(s.trace_id.Hex());
    o->append(R"(","spanID":")");
    o->append(s.span_id.Hex());
    o->append(R"(","flags":)");
    AppendU64(s.flags & 0xff, o);
    o->append(R"(,"operationName":)");
    JsonQuote(s.name, o);
    o->append(R"(,"references":[)");
    bool first = true;
    if (!s.parent_span_id.empty()) {
      o->append(R"({"refType":"CHILD_OF","traceID":")");
      o->append(s.trace_id.Hex());
      o->append(R"(","spanID":")");
      o->append(s.parent_span_id.Hex());
      o->append(R"("})");
      first = false;
    }
    for (const auto& l : s.links) {
      // As Jaeger's own OTLP translation does: every link is a FOLLOWS_FROM reference, after
      // the CHILD_OF parent (readers that take references[0] as the parent get the parent).
      if (!first) o->push_back(',');
      first = false;
      o->append(R"({"refType":"FOLLOWS_FROM","traceID":")");
      o->append(l.trace_id.Hex());
      o->append(R"(","spanID":")");
      o->append(l.span_id.Hex());
      o->append(R"("})");
    }
    o->append(R"(],"startTime":)");
    AppendI64(s.start_ns / 1000, o);
    o->append(R"(,"duration":)");
    AppendI64(s.duration_ns() / 1000, o);
    o->append(R"(,"tags":[)");
    first = true;
    AppendJaegerTags(s.attrs, o, &first);
    auto extra = [&](std::string_view k, const model::AttrValue& val) {
      if (!first) o->push_back(',');
      first = false;
      AppendJaegerTag(k, val, o);
    };
    if (s.kind != model::SpanKind::kUnspecified && s.kind != model::SpanKind::kInternal) {
      extra("span.kind", model::AttrValue::String(model::SpanKindName(s.kind)));
    }
    if (s.status_code != model::StatusCode::kUnset) {
      extra("otel.status_code", model::AttrValue::String(s.is_error() ? "ERROR" : "OK"));
    }
    if (s.is_error()) extra("error", model::AttrValue::Bool(true));
    if (!s.status_message.empty()) {
      extra("otel.status_description", model::AttrValue::String(s.status_message));
    }
    if (!s.scope_name.empty()) extra("otel.scope.name", model::AttrValue::String(s.scope_name));
    if (!s.scope_version.empty()) {
      extra("otel.scope.version", model::AttrValue::String(s.scope_version));
    }
    o->append(R"(],"logs":[)");
    for (size_t e = 0; e < s.events.size(); ++e) {
      if (e) o->push_back(',');
      o->append(R"({"timestamp":)");
      AppendI64(s.events[e].time_ns / 1000, o);
      o->append(R"(,"name":)");
      JsonQuote(s.events[e].name, o);
      o->append(R"(,"fields":[)");
      AppendJaegerTag("event", model::AttrValue::String(s.events[e].name), o);
      bool f = false;
      AppendJaegerTags(s.events[e].attrs, o, &f);
      o->append("]}");
    }
    o->append(R"(],"processID":")");
    o->append(process_of[s.service]);
    o->append(R"(","warnings":null})");
  }
  o->append(R"(],"processes":{)");
  for (size_t i = 0; i < process_span.size(); ++i) {
    const Span& s = *process_span[i];
    if (i) o->push_back(',');
    o->push_back('"');
    o->append(process_of[s.service]);
    o->append(R"(":{"serviceName":)");
    JsonQuote(s.service, o);
    o->append(R"(,"tags":[)");
    bool first = true;
    AppendJaegerTags(s.resource_attrs(), o, &first);
    o->append("]}");
  }
  o->append(R"(},"warnings":null})");
}

// Parses Jaeger's `tags` parameter (a JSON object of strings) or logfmt "k=v k2=v2".
Status ParseTags(const std::string& text, std::vector<std::pair<std::string, std::string>>* out) {
  if (text.empty()) return Status::OK();
  size_t i = text.find_first_not_of(" \t");
  if (i != std::string::npos && text[i] == '{') {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc)) return InvalidArgument("tags: not a JSON object");
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return InvalidArgument("tags: not a JSON object");
    for (auto [k, v] : obj) {
      std::string value;
      std::string_view sv;
      if (!v.get_string().get(sv)) {
        value.assign(sv);
      } else {
        value = simdjson::minify(v);
      }
      out->emplace_back(std::string(k), value);
    }
    return Status::OK();
  }
  // logfmt: key=value pairs separated by spaces; values may be double-quoted.
  size_t p = 0;
  while (p < text.size()) {
    while (p < text.size() && text[p] == ' ') ++p;
    if (p >= text.size()) break;
    size_t eq = text.find('=', p);
    if (eq == std::string::npos) return InvalidArgument("tags: expected key=value");
    std::string key = text.substr(p, eq - p);
    p = eq + 1;
    std::string value;
    if (p < text.size() && text[p] == '"') {
      size_t end = text.find('"', p + 1);
      if (end == std::string::npos) return InvalidArgument("tags: unterminated quote");
      value = text.substr(p + 1, end - p - 1);
      p = end + 1;
    } else {
      size_t end = text.find(' ', p);
      if (end == std::string::npos) end = text.size();
      value = text.substr(p, end - p);
      p = end;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return Status::OK();
}

StatusOr<size_t> ParseLimit(const http::Request& req, size_t def, size_t max) {
  const std::string l = req.Param("limit");
  if (l.empty()) return def;
  size_t v = 0;
  auto r = std::from_chars(l.data(), l.data() + l.size(), v);
  if (r.ec != std::errc() || r.ptr != l.data() + l.size()) {
    return InvalidArgument("limit must be a non-negative integer");
  }
  return v == 0 ? def : std::min(v, max);
}

void AppendStringList(const std::vector<std::string>& v, std::string* o) {
  o->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) o->push_back(',');
    JsonQuote(v[i], o);
  }
  o->push_back(']');
}

std::string JaegerEnvelope(const std::string& data, size_t total) {
  return R"({"data":)" + data + R"(,"total":)" + std::to_string(total) +
         R"(,"limit":0,"offset":0,"errors":null})";
}

// The unit of a numeric Unix time as ParseTimeParam reads it (by magnitude), in ns; 1 for
// RFC 3339 and absent values.
int64_t EndUnitNs(const std::string& v) {
  int64_t x;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size()) return 1;
  const int64_t a = x < 0 ? -x : x;
  if (a < 100'000'000'000LL) return kNsPerSec;
  if (a < 100'000'000'000'000LL) return 1'000'000;
  if (a < 100'000'000'000'000'000LL) return 1'000;
  return 1;
}

}  // namespace

StatusOr<int64_t> ParseSpanDuration(const std::string& name, const std::string& value) {
  if (value.empty()) return InvalidArgument("empty " + name);
  int64_t bare;
  auto r0 = std::from_chars(value.data(), value.data() + value.size(), bare);
  if (r0.ec == std::errc() && r0.ptr == value.data() + value.size()) {  // microseconds
    if (bare < 0 || bare > INT64_MAX / 1000) return InvalidArgument(name + " out of range");
    return bare * 1000;
  }
  double total = 0;
  std::string_view s = value;
  while (!s.empty()) {
    double n;
    auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    if (r.ec != std::errc() || !(n >= 0)) {
      return InvalidArgument("cannot parse " + name + " '" + value + "' as a duration");
    }
    s.remove_prefix(static_cast<size_t>(r.ptr - s.data()));
    size_t j = 0;
    while (j < s.size() &&
           (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '\xc2' || s[j] == '\xb5')) {
      ++j;
    }
    std::string_view u = s.substr(0, j);
    s.remove_prefix(j);
    double mul;
    if (u == "ns")
      mul = 1;
    else if (u == "us" || u == "\xc2\xb5s" || u == "\xb5s")
      mul = 1e3;
    else if (u == "ms")
      mul = 1e6;
    else if (u == "s")
      mul = 1e9;
    else if (u == "m")
      mul = 60e9;
    else if (u == "h")
      mul = 3600e9;
    else
      return InvalidArgument("unknown unit in " + name + " '" + value + "'");
    total += n * mul;
  }
  if (!(total >= 0 && total < 9.2e18)) return InvalidArgument(name + " out of range");
  return static_cast<int64_t>(std::llround(total));
}

TraceApi::TraceApi(pipeline::SpanPipeline* pipeline, query::TraceQuery* traces,
                   query::LogQueryEngine* logs, TraceApiOptions options)
    : pipeline_(pipeline), traces_(traces), logs_(logs), opt_(options) {}

void TraceApi::Register(http::Server* s) {
  s->Route("POST", "/v1/traces", [this](const auto& q, auto* r) { IngestOtlp(q, r); });
  s->Route("POST", "/otlp/v1/traces", [this](const auto& q, auto* r) { IngestOtlp(q, r); });
  s->Route("POST", "/api/v2/spans", [this](const auto& q, auto* r) { IngestZipkin(q, r); });
  s->Route("POST", "/zipkin/api/v2/spans", [this](const auto& q, auto* r) { IngestZipkin(q, r); });
  s->Route("GET", "/sl/traces/search", [this](const auto& q, auto* r) { Search(q, r); });
  s->Route("GET", "/sl/traces/services", [this](const auto& q, auto* r) { Services(q, r); });
  s->Route("GET", "/sl/traces/service-map", [this](const auto& q, auto* r) { ServiceMap(q, r); });
  s->Route("GET", "/sl/traces/red", [this](const auto& q, auto* r) { Red(q, r); });
  s->RoutePrefix("GET", "/sl/traces/", [this](const auto& q, auto* r) { GetTrace(q, r); });
  s->Route("GET", "/jaeger/api/services", [this](const auto& q, auto* r) { JaegerServices(q, r); });
  s->RoutePrefix("GET", "/jaeger/api/services/",
                 [this](const auto& q, auto* r) { JaegerServicePath(q, r); });
  s->Route("GET", "/jaeger/api/operations",
           [this](const auto& q, auto* r) { JaegerOperations(q, r); });
  s->Route("GET", "/jaeger/api/traces", [this](const auto& q, auto* r) { JaegerTraces(q, r); });
  s->RoutePrefix("GET", "/jaeger/api/traces/",
                 [this](const auto& q, auto* r) { JaegerTrace(q, r); });
  // Grafana 12.1.0 searched at <host>/api/traces, dropping the datasource path (grafana#108651).
  s->Route("GET", "/api/traces", [this](const auto& q, auto* r) { JaegerTraces(q, r); });
  s->RoutePrefix("GET", "/api/traces/", [this](const auto& q, auto* r) { JaegerTrace(q, r); });
  s->Route("GET", "/jaeger/api/dependencies",
           [this](const auto& q, auto* r) { JaegerDependencies(q, r); });
}

StatusOr<std::string> TraceApi::ExportGrpc(std::string_view request) {
  model::SpanBatch batch;
  SL_RETURN_IF_ERROR(ingest::DecodeOtlpTracesProto(request, opt_.clock->NowNs(), &batch));
  pipeline::SpanIngestResult r;
  SL_RETURN_IF_ERROR(pipeline_->Process("otlp_grpc", &batch, &r));
  return ingest::EncodeTracesResponseProto(r.rejected, batch.reject_reason);
}

void TraceApi::IngestOtlp(const http::Request& req, http::Response* res) {
  const std::string ct = req.Header("content-type");
  const bool json = ct.find("application/json") == 0;
  const bool proto = ct.find("application/x-protobuf") == 0 || ct.find("application/protobuf") == 0;
  auto fail = [&](const Status& s) {
    res->status = http::HttpStatusFor(s.code());
    res->content_type = json ? "application/json" : "application/x-protobuf";
    const int code = http::GrpcCodeFor(s.code());
    res->body = json ? ingest::EncodeRpcStatusJson(code, s.message())
                     : ingest::EncodeRpcStatusProto(code, s.message());
    if (res->status == 429 || res->status == 503) res->headers.emplace_back("Retry-After", "1");
  };
  if (!json && !proto) {
    return fail(Status(
        Code::kUnsupportedMediaType,
        "unsupported Content-Type '" + ct + "': use application/x-protobuf or application/json"));
  }
  auto body =
      http::Decompress(req.body, req.Header("content-encoding"), opt_.max_decompressed_bytes);
  if (!body.ok()) return fail(body.status());
  model::SpanBatch batch;
  const int64_t now = opt_.clock->NowNs();
  Status s = json ? ingest::DecodeOtlpTracesJson(*body, now, &batch)
                  : ingest::DecodeOtlpTracesProto(*body, now, &batch);
  if (!s.ok()) return fail(s);
  pipeline::SpanIngestResult r;
  s = pipeline_->Process(json ? "otlp_http_json" : "otlp_http_proto", &batch, &r);
  if (!s.ok()) return fail(s);
  res->content_type = json ? "application/json" : "application/x-protobuf";
  res->body = json ? ingest::EncodeTracesResponseJson(r.rejected, batch.reject_reason)
                   : ingest::EncodeTracesResponseProto(r.rejected, batch.reject_reason);
}

void TraceApi::IngestZipkin(const http::Request& req, http::Response* res) {
  const std::string ct = req.Header("content-type");
  const bool proto = ct.find("application/x-protobuf") == 0 || ct.find("application/protobuf") == 0;
  if (!proto && !ct.empty() && ct.find("application/json") != 0 && ct.find("text/plain") != 0) {
    return JsonError(res, Status(Code::kUnsupportedMediaType,
                                 "unsupported Content-Type '" + ct +
                                     "': use application/json or application/x-protobuf"));
  }
  auto body =
      http::Decompress(req.body, req.Header("content-encoding"), opt_.max_decompressed_bytes);
  if (!body.ok()) return JsonError(res, body.status());
  model::SpanBatch batch;
  const int64_t now = opt_.clock->NowNs();
  Status s = proto ? ingest::DecodeZipkinProto(*body, now, &batch)
                   : ingest::DecodeZipkinJson(*body, now, &batch);
  if (!s.ok()) return JsonError(res, s);
  pipeline::SpanIngestResult r;
  s = pipeline_->Process(proto ? "zipkin_proto" : "zipkin_json", &batch, &r);
  if (!s.ok()) return JsonError(res, s);
  // Zipkin answers 202 with an empty body; rejected spans are reported in a header.
  res->status = 202;
  res->body.clear();
  if (r.rejected > 0) {
    res->headers.emplace_back("X-Sightline-Rejected", std::to_string(r.rejected));
  }
}

Status TraceApi::ParseRange(const http::Request& req, int64_t* start, int64_t* end) const {
  *end = opt_.clock->NowNs();
  if (req.HasParam("end")) {
    SL_ASSIGN_OR_RETURN(*end, ParseTimeParam("end", req.Param("end")));
  }
  int64_t range = opt_.default_range_ns;
  for (const char* p : {"since", "lookback"}) {
    const std::string v = req.Param(p);
    if (v.empty() || v == "custom") continue;
    SL_ASSIGN_OR_RETURN(range, ParseDurationParam(p, v));
  }
  *start = *end - range;
  if (req.HasParam("start")) {
    SL_ASSIGN_OR_RETURN(*start, ParseTimeParam("start", req.Param("start")));
  }
  if (*start > *end) return InvalidArgument("start is after end");
  // An end names a whole unit (Jaeger sends µs, Grafana ms): include all of it.
  *end += EndUnitNs(req.Param("end"));
  return Status::OK();
}

void TraceApi::GetTrace(const http::Request& req, http::Response* res) {
  const std::string id_text = req.path.substr(std::string("/sl/traces/").size());
  auto id = ParseTraceIdParam(id_text);
  if (!id.ok()) return JsonError(res, id.status());
  auto view = traces_->GetTrace(*id);
  if (!view.ok()) return JsonError(res, view.status());
  std::string o;
  o.reserve(4096 + view->spans.size() * 512);
  o.append(R"({"traceId":")");
  o.append(id->Hex());
  o.append(R"(","summary":)");
  AppendSummary(view->summary, &o);
  o.append(R"(,"spans":[)");
  for (size_t i = 0; i < view->spans.size(); ++i) {
    if (i) o.push_back(',');
    AppendSpan(view->spans[i], view->depth[i], &o);
  }
  o.append(R"(],"logs":[)");
  if (logs_ != nullptr && req.Param("logs") != "false") {
    query::LogQueryRequest q;
    q.query = "{trace_id=\"" + id->Hex() + "\"}";
    // Logs of a request are written while it runs; allow for clock skew between hosts.
    q.start_ns = view->summary.start_ns - 5 * 60 * kNsPerSec;
    q.end_ns = view->summary.end_ns + 5 * 60 * kNsPerSec;
    q.limit = opt_.max_trace_logs;
    q.direction = query::Direction::kForward;
    auto r = logs_->Query(q);
    if (r.ok()) {
      for (size_t i = 0; i < r->lines.size(); ++i) {
        if (i) o.push_back(',');
        AppendLog(r->lines[i].record, &o);
      }
    }
  }
  o.append("]}");
  res->body = std::move(o);
}

void TraceApi::Search(const http::Request& req, http::Response* res) {
  storage::SpanFilter f;
  Status s = ParseRange(req, &f.start_ns, &f.end_ns);
  if (!s.ok()) return JsonError(res, s);
  f.service = req.Param("service");
  f.operation = req.Param("operation");
  if (req.HasParam("minDuration")) {
    auto d = ParseSpanDuration("minDuration", req.Param("minDuration"));
    if (!d.ok()) return JsonError(res, d.status());
    f.min_duration_ns = *d;
  }
  if (req.HasParam("maxDuration")) {
    auto d = ParseSpanDuration("maxDuration", req.Param("maxDuration"));
    if (!d.ok()) return JsonError(res, d.status());
    f.max_duration_ns = *d;
  }
  const std::string err = req.Param("error");
  if (err == "true" || err == "1") f.errors_only = true;
  if (req.HasParam("kind")) {
    model::SpanKind k;
    if (!model::SpanKindFromText(req.Param("kind"), &k)) {
      return JsonError(res, InvalidArgument("unknown span kind '" + req.Param("kind") + "'"));
    }
    f.kind = k;
  }
  auto [b, e] = req.query.equal_range("attr");
  for (auto it = b; it != e; ++it) {
    const size_t eq = it->second.find('=');
    if (eq == std::string::npos || eq == 0) {
      return JsonError(res, InvalidArgument("attr must be key=value, got '" + it->second + "'"));
    }
    f.attrs.emplace_back(it->second.substr(0, eq), it->second.substr(eq + 1));
  }
  s = ParseTags(req.Param("tags"), &f.attrs);
  if (!s.ok()) return JsonError(res, s);
  if (err == "false") f.attrs.emplace_back("error", "false");
  auto limit = ParseLimit(req, opt_.default_limit, opt_.max_limit);
  if (!limit.ok()) return JsonError(res, limit.status());
  auto found = traces_->Search(f, *limit);
  if (!found.ok()) return JsonError(res, found.status());
  std::string o = R"({"traces":[)";
  for (size_t i = 0; i < found->size(); ++i) {
    if (i) o.push_back(',');
    AppendSummary((*found)[i], &o);
  }
  o.append("]}");
  res->body = std::move(o);
}

void TraceApi::Services(const http::Request& req, http::Response* res) {
  int64_t start, end;
  Status s = ParseRange(req, &start, &end);
  if (!s.ok()) return JsonError(res, s);
  std::string o = R"({"services":[)";
  auto services = traces_->Services(start, end);
  for (size_t i = 0; i < services.size(); ++i) {
    if (i) o.push_back(',');
    o.append(R"({"name":)");
    JsonQuote(services[i].service, &o);
    o.append(R"(,"operations":[)");
    std::string prev;
    bool first = true;
    for (const auto& [name, kind] : services[i].operations) {
      if (!first && name == prev) continue;
      if (!first) o.push_back(',');
      first = false;
      JsonQuote(name, &o);
      prev = name;
    }
    o.append("]}");
  }
  o.append("]}");
  res->body = std::move(o);
}

void TraceApi::ServiceMap(const http::Request& req, http::Response* res) {
  int64_t start, end;
  Status s = ParseRange(req, &start, &end);
  if (!s.ok()) return JsonError(res, s);
  std::string o = R"({"edges":[)";
  auto edges = traces_->ServiceMap(start, end);
  std::vector<std::string> services;
  for (size_t i = 0; i < edges.size(); ++i) {
    const auto& e = edges[i];
    services.push_back(e.parent);
    services.push_back(e.child);
    if (i) o.push_back(',');
    o.append(R"({"parent":)");
    JsonQuote(e.parent, &o);
    o.append(R"(,"child":)");
    JsonQuote(e.child, &o);
    o.append(R"(,"calls":)");
    AppendU64(e.calls, &o);
    o.append(R"(,"errors":)");
    AppendU64(e.errors, &o);
    AppendLatencyMs(e.p50_ns, e.p95_ns, e.p99_ns, &o);
    o.push_back('}');
  }
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  o.append(R"(],"services":)");
  AppendStringList(services, &o);
  o.push_back('}');
  res->body = std::move(o);
}

void TraceApi::Red(const http::Request& req, http::Response* res) {
  query::RedRequest r;
  Status s = ParseRange(req, &r.start_ns, &r.end_ns);
  if (!s.ok()) return JsonError(res, s);
  r.service = req.Param("service");
  r.operation = req.Param("operation");
  r.by_operation = req.Param("groupBy") != "service";
  const std::string kinds = req.HasParam("kind") ? req.Param("kind") : "server,consumer";
  if (kinds != "all") {
    size_t p = 0;
    while (p <= kinds.size()) {
      size_t c = kinds.find(',', p);
      if (c == std::string::npos) c = kinds.size();
      model::SpanKind k;
      if (!model::SpanKindFromText(kinds.substr(p, c - p), &k)) {
        return JsonError(res, InvalidArgument("unknown span kind in '" + kinds + "'"));
      }
      r.kinds.push_back(k);
      p = c + 1;
    }
  }
  if (req.HasParam("step")) {
    auto st = ParseDurationParam("step", req.Param("step"));
    if (!st.ok()) return JsonError(res, st.status());
    if (*st <= 0) return JsonError(res, InvalidArgument("step must be positive"));
    r.step_ns = *st;
    if ((r.end_ns - r.start_ns) / r.step_ns > 11000) {
      return JsonError(res,
                       InvalidArgument("more than 11,000 points per series: use a larger step"));
    }
  } else {
    // About 60 points, whole minutes.
    r.step_ns = std::max<int64_t>(60 * kNsPerSec, (r.end_ns - r.start_ns) / 60);
  }
  auto series = traces_->Red(r);
  std::string o = R"({"stepSeconds":)";
  const int64_t step_min =
      std::max<int64_t>(1, (r.step_ns + 60 * kNsPerSec - 1) / (60 * kNsPerSec));
  AppendI64(step_min * 60, &o);
  o.append(R"(,"series":[)");
  const double range_s = static_cast<double>(r.end_ns - r.start_ns) / 1e9;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& se = series[i];
    if (i) o.push_back(',');
    o.append(R"({"service":)");
    JsonQuote(se.service, &o);
    o.append(R"(,"operation":)");
    JsonQuote(se.operation, &o);
    o.append(R"(,"requests":)");
    AppendU64(se.requests, &o);
    o.append(R"(,"errors":)");
    AppendU64(se.errors, &o);
    o.append(R"(,"rate":)");
    JsonNumber(range_s > 0 ? static_cast<double>(se.requests) / range_s : 0, &o);
    o.append(R"(,"errorRate":)");
    JsonNumber(se.requests ? static_cast<double>(se.errors) / static_cast<double>(se.requests) : 0,
               &o);
    AppendLatencyMs(se.p50_ns, se.p95_ns, se.p99_ns, &o);
    o.append(R"(,"points":[)");
    for (size_t j = 0; j < se.points.size(); ++j) {
      const auto& p = se.points[j];
      if (j) o.push_back(',');
      o.append(R"({"time":)");
      AppendI64(p.ts_ns / kNsPerSec, &o);
      o.append(R"(,"requests":)");
      AppendU64(p.requests, &o);
      o.append(R"(,"errors":)");
      AppendU64(p.errors, &o);
      AppendLatencyMs(p.p50_ns, p.p95_ns, p.p99_ns, &o);
      o.push_back('}');
    }
    o.append("]}");
  }
  o.append("]}");
  res->body = std::move(o);
}

void TraceApi::JaegerServices(const http::Request& req, http::Response* res) {
  int64_t start, end;
  // Jaeger lists every service it knows; use the retention window unless a range is given.
  http::Request wide = req;
  if (!req.HasParam("start") && !req.HasParam("lookback")) {
    wide.query.emplace("lookback", "365d");
  }
  Status s = ParseRange(wide, &start, &end);
  if (!s.ok()) return JaegerError(res, s);
  std::vector<std::string> names;
  for (const auto& svc : traces_->Services(start, end)) names.push_back(svc.service);
  std::string data;
  AppendStringList(names, &data);
  res->body = JaegerEnvelope(data, names.size());
}

void TraceApi::JaegerServicePath(const http::Request& req, http::Response* res) {
  // /jaeger/api/services/{service}/operations
  const std::string prefix = "/jaeger/api/services/";
  const std::string suffix = "/operations";
  const std::string& p = req.path;
  if (p.size() <= prefix.size() + suffix.size() ||
      p.compare(p.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return JaegerError(res, NotFound("not found"));
  }
  const std::string service = p.substr(prefix.size(), p.size() - prefix.size() - suffix.size());
  int64_t start, end;
  http::Request wide = req;
  wide.query.emplace("lookback", "365d");
  Status s = ParseRange(wide, &start, &end);
  if (!s.ok()) return JaegerError(res, s);
  std::vector<std::string> ops;
  for (const auto& svc : traces_->Services(start, end)) {
    if (svc.service != service) continue;
    for (const auto& [name, kind] : svc.operations) {
      if (ops.empty() || ops.back() != name) ops.push_back(name);
    }
  }
  std::string data;
  AppendStringList(ops, &data);
  res->body = JaegerEnvelope(data, ops.size());
}

void TraceApi::JaegerOperations(const http::Request& req, http::Response* res) {
  const std::string service = req.Param("service");
  const std::string kind = req.Param("spanKind");
  int64_t start, end;
  http::Request wide = req;
  wide.query.emplace("lookback", "365d");
  Status s = ParseRange(wide, &start, &end);
  if (!s.ok()) return JaegerError(res, s);
  std::string data = "[";
  size_t n = 0;
  for (const auto& svc : traces_->Services(start, end)) {
    if (!service.empty() && svc.service != service) continue;
    for (const auto& [name, k] : svc.operations) {
      if (!kind.empty() && model::SpanKindName(k) != kind) continue;
      if (n++) data.push_back(',');
      data.append(R"({"name":)");
      JsonQuote(name, &data);
      data.append(R"(,"spanKind":")");
      data.append(k == model::SpanKind::kUnspecified ? "" : model::SpanKindName(k));
      data.append(R"("})");
    }
  }
  data.push_back(']');
  res->body = JaegerEnvelope(data, n);
}

void TraceApi::JaegerTraces(const http::Request& req, http::Response* res) {
  storage::SpanFilter f;
  Status s = ParseRange(req, &f.start_ns, &f.end_ns);
  if (!s.ok()) return JaegerError(res, s);
  f.service = req.Param("service");
  f.operation = req.Param("operation");
  if (req.HasParam("minDuration") && !req.Param("minDuration").empty()) {
    auto d = ParseSpanDuration("minDuration", req.Param("minDuration"));
    if (!d.ok()) return JaegerError(res, d.status());
    f.min_duration_ns = *d;
  }
  if (req.HasParam("maxDuration") && !req.Param("maxDuration").empty()) {
    auto d = ParseSpanDuration("maxDuration", req.Param("maxDuration"));
    if (!d.ok()) return JaegerError(res, d.status());
    f.max_duration_ns = *d;
  }
  s = ParseTags(req.Param("tags"), &f.attrs);
  if (!s.ok()) return JaegerError(res, s);
  auto [b, e] = req.query.equal_range("tag");
  for (auto it = b; it != e; ++it) {
    const size_t c = it->second.find(':');
    if (c == std::string::npos) return JaegerError(res, InvalidArgument("tag must be key:value"));
    f.attrs.emplace_back(it->second.substr(0, c), it->second.substr(c + 1));
  }
  for (auto& [k, v] : f.attrs) {
    if (k == "error" && v == "true") f.errors_only = true;
  }
  auto limit = ParseLimit(req, 100, opt_.max_limit);
  if (!limit.ok()) return JaegerError(res, limit.status());
  auto found = traces_->SearchViews(f, *limit);
  if (!found.ok()) return JaegerError(res, found.status());
  std::string data = "[";
  size_t n = 0;
  for (const auto& view : *found) {
    if (n++) data.push_back(',');
    AppendJaegerTrace(view, &data);
  }
  data.push_back(']');
  res->body = JaegerEnvelope(data, n);
}

void TraceApi::JaegerTrace(const http::Request& req, http::Response* res) {
  const std::string id_text = req.path.substr(req.path.rfind('/') + 1);
  auto id = ParseTraceIdParam(id_text);
  if (!id.ok()) return JaegerError(res, id.status());
  auto view = traces_->GetTrace(*id);
  if (!view.ok()) {
    if (view.status().code() == Code::kNotFound) {
      return JaegerError(res, NotFound("trace not found"));
    }
    return JaegerError(res, view.status());
  }
  std::string data = "[";
  AppendJaegerTrace(*view, &data);
  data.push_back(']');
  res->body = JaegerEnvelope(data, 1);
}

void TraceApi::JaegerDependencies(const http::Request& req, http::Response* res) {
  int64_t end = opt_.clock->NowNs();
  int64_t lookback = 24 * 3600 * kNsPerSec;
  if (req.HasParam("endTs")) {
    auto e = ParseTimeParam("endTs", req.Param("endTs"));
    if (!e.ok()) return JaegerError(res, e.status());
    end = *e;
  }
  if (req.HasParam("lookback")) {
    const std::string lb = req.Param("lookback");
    int64_t ms;
    auto r = std::from_chars(lb.data(), lb.data() + lb.size(), ms);
    if (r.ec == std::errc() && r.ptr == lb.data() + lb.size()) {
      if (ms < 0 || __builtin_mul_overflow(ms, 1'000'000, &lookback)) {  // Jaeger: milliseconds
        return JaegerError(res, InvalidArgument("lookback out of range"));
      }
    } else {
      auto d = ParseDurationParam("lookback", lb);
      if (!d.ok()) return JaegerError(res, d.status());
      lookback = *d;
    }
  }
  auto edges = traces_->ServiceMap(end - lookback, end + 1);
  std::string data = "[";
  for (size_t i = 0; i < edges.size(); ++i) {
    if (i) data.push_back(',');
    data.append(R"({"parent":)");
    JsonQuote(edges[i].parent, &data);
    data.append(R"(,"child":)");
    JsonQuote(edges[i].child, &data);
    data.append(R"(,"callCount":)");
    AppendU64(edges[i].calls, &data);
    data.push_back('}');
  }
  data.push_back(']');
  res->body = JaegerEnvelope(data, edges.size());
}

}  // namespace sightline::api
