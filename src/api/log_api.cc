#include "api/log_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>

#include "base/json.h"
#include "http/decompress.h"
#include "http/status_map.h"
#include "ingest/ndjson.h"
#include "ingest/otlp_logs.h"

namespace sightline::api {
namespace {

using query::Labels;
using query::QueryResult;

void JsonError(http::Response* res, const Status& s) {
  res->status = http::HttpStatusFor(s.code());
  res->content_type = "application/json";
  std::string m = s.message();
  res->body = R"({"status":"error","errorType":")" +
              std::string(res->status == 400   ? "bad_data"
                          : res->status == 413 ? "payload_too_large"
                          : res->status == 415 ? "unsupported_media_type"
                          : res->status == 429 ? "too_many_requests"
                          : res->status == 503 ? "unavailable"
                                               : "internal") +
              R"(","error":)" + JsonQuoted(m) + R"(,"message":)" + JsonQuoted(m) + "}";
  if (res->status == 429 || res->status == 503) res->headers.emplace_back("Retry-After", "1");
}

// "<prefix><name>/values" -> name.
bool NameFromValuesPath(const std::string& path, const std::string& prefix, std::string* name) {
  const std::string suffix = "/values";
  if (path.size() <= prefix.size() + suffix.size() ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  *name = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return true;
}

void NotFound(http::Response* res) {
  res->status = 404;
  res->body = R"({"status":"error","error":"not found"})";
}

bool IsBuiltin(const std::string& f) {
  return f == "service" || f == "level" || f == "env" || f == "host";
}

std::string Rfc3339Seconds(int64_t ns, int* frac_out) {
  time_t secs = static_cast<time_t>(ns >= 0 ? ns / kNsPerSec : (ns - kNsPerSec + 1) / kNsPerSec);
  *frac_out = static_cast<int>(ns - static_cast<int64_t>(secs) * kNsPerSec);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

void AppendStats(const storage::ScanStats& s, std::string* out) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"parts":%llu,"blocks_total":%llu,"blocks_pruned_time":%llu,)"
                R"("blocks_pruned_index":%llu,"blocks_pruned_bloom":%llu,"blocks_read":%llu,)"
                R"("rows_scanned":%llu,"rows_matched":%llu,"bytes_read":%llu})",
                (unsigned long long)s.parts, (unsigned long long)s.blocks_total,
                (unsigned long long)s.blocks_pruned_time, (unsigned long long)s.blocks_pruned_index,
                (unsigned long long)s.blocks_pruned_bloom, (unsigned long long)s.blocks_read,
                (unsigned long long)s.rows_scanned, (unsigned long long)s.rows_matched,
                (unsigned long long)s.bytes_read);
  out->append(buf);
}

void AppendAttrValue(const model::AttrValue& v, std::string* out) {
  switch (v.type) {
    case model::AttrValue::Type::kString: JsonQuote(v.str, out); break;
    case model::AttrValue::Type::kInt: out->append(std::to_string(v.i)); break;
    case model::AttrValue::Type::kDouble: JsonNumber(v.d, out); break;
    case model::AttrValue::Type::kBool: out->append(v.b ? "true" : "false"); break;
  }
}

void AppendLabelsObject(const Labels& l, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < l.size(); ++i) {
    if (i) out->push_back(',');
    JsonQuote(l[i].first, out);
    out->push_back(':');
    JsonQuote(l[i].second, out);
  }
  out->push_back('}');
}

std::string SampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void AppendSecs(int64_t ns, std::string* out) {
  char buf[40];
  if (ns % kNsPerSec == 0) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(ns / kNsPerSec));
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e9);
  }
  out->append(buf);
}

// Stream labels of a line as Loki presents them: base labels plus ids, attributes and
// parsed fields (Loki's structured metadata and parsed labels).
Labels LokiStreamLabels(const query::LogLine& line) {
  Labels l = query::BaseLabels(line.record);
  if (!line.record.trace_id.empty()) l.emplace_back("trace_id", line.record.trace_id.Hex());
  if (!line.record.span_id.empty()) l.emplace_back("span_id", line.record.span_id.Hex());
  for (const auto& a : line.record.attrs) l.emplace_back(a.key, a.value.ToText());
  for (const auto& kv : line.parsed) l.push_back(kv);
  std::stable_sort(l.begin(), l.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Later duplicates (parsed) win.
  Labels out;
  for (auto& kv : l) {
    if (!out.empty() && out.back().first == kv.first) out.back() = kv;
    else out.push_back(kv);
  }
  return out;
}

}  // namespace

std::string FormatRfc3339Nano(int64_t ns) {
  int frac;
  std::string s = Rfc3339Seconds(ns, &frac);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09dZ", frac);
  return s + buf;
}

StatusOr<int64_t> ParseTimeParam(const std::string& name, const std::string& v) {
  if (v.empty()) return InvalidArgument("empty " + name);
  bool numeric = std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-'; });
  if (numeric) {
    if (v.find('.') == std::string::npos) {
      int64_t x;
      auto r = std::from_chars(v.data(), v.data() + v.size(), x);
      if (r.ec == std::errc() && r.ptr == v.data() + v.size()) {
        // Unix time by magnitude: seconds, milliseconds, microseconds or nanoseconds.
        const int64_t a = x < 0 ? -(x + 1) : x;
        const int64_t mul = a < 100'000'000'000LL             ? kNsPerSec
                            : a < 100'000'000'000'000LL       ? 1'000'000
                            : a < 100'000'000'000'000'000LL   ? 1'000
                                                              : 1;
        int64_t ns;
        if (__builtin_mul_overflow(x, mul, &ns)) {
          return InvalidArgument(name + " '" + v + "' is out of range");
        }
        return ns;
      }
    }
    double d;
    auto r = std::from_chars(v.data(), v.data() + v.size(), d);
    if (r.ec == std::errc() && r.ptr == v.data() + v.size()) {
      if (!(std::fabs(d) < 9.2e9)) return InvalidArgument(name + " '" + v + "' is out of range");
      return static_cast<int64_t>(std::llround(d * 1e9));
    }
    return InvalidArgument("cannot parse " + name + " '" + v + "' as a time");
  }
  // RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)
  int y, mo, d, h, mi, s;
  char sep;
  int consumed = 0;
  if (std::sscanf(v.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &s, &consumed) != 7 ||
      (sep != 'T' && sep != 't' && sep != ' '))
    return InvalidArgument("cannot parse " + name + " '" + v + "': use Unix ns, seconds or RFC 3339");
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t ns = static_cast<int64_t>(timegm(&tm)) * kNsPerSec;
  size_t i = static_cast<size_t>(consumed);
  if (i < v.size() && v[i] == '.') {
    int64_t frac = 0, digits = 0;
    ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (v[i] - '0');
        ++digits;
      }
      ++i;
    }
    while (digits++ < 9) frac *= 10;
    ns += frac;
  }
  if (i < v.size() && (v[i] == 'Z' || v[i] == 'z')) {
    ++i;
  } else if (i + 5 < v.size() + 1 && i < v.size() && (v[i] == '+' || v[i] == '-')) {
    int oh, om;
    if (std::sscanf(v.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2)
      return InvalidArgument("bad time zone offset in " + name);
    int64_t off = (oh * 3600LL + om * 60LL) * kNsPerSec;
    ns += v[i] == '+' ? -off : off;
    i += 6;
  } else {
    return InvalidArgument("missing time zone in " + name + " '" + v + "'");
  }
  if (i != v.size()) return InvalidArgument("trailing characters in " + name);
  return ns;
}

StatusOr<int64_t> ParseDurationParam(const std::string& name, const std::string& v) {
  if (v.empty()) return InvalidArgument("empty " + name);
  double secs;
  auto r = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (r.ec == std::errc() && r.ptr == v.data() + v.size()) {
    if (!(std::fabs(secs) < 9.2e9)) return InvalidArgument(name + " '" + v + "' is out of range");
    return static_cast<int64_t>(secs * 1e9);
  }
  int64_t total = 0;
  std::string_view s = v;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == 0) return InvalidArgument("cannot parse " + name + " '" + v + "' as a duration");
    int64_t n;
    auto nr = std::from_chars(s.data(), s.data() + i, n);
    if (nr.ec != std::errc()) return InvalidArgument(name + " '" + v + "' is out of range");
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    std::string_view u = s.substr(0, j);
    s.remove_prefix(j);
    int64_t mul;
    if (u == "ns") mul = 1;
    else if (u == "us") mul = 1000;
    else if (u == "ms") mul = 1000000;
    else if (u == "s") mul = kNsPerSec;
    else if (u == "m") mul = 60 * kNsPerSec;
    else if (u == "h") mul = 3600 * kNsPerSec;
    else if (u == "d") mul = kNsPerDay;
    else if (u == "w") mul = 7 * kNsPerDay;
    else if (u == "y") mul = 365 * kNsPerDay;
    else return InvalidArgument("unknown unit in " + name + " '" + v + "'");
    int64_t part;
    if (__builtin_mul_overflow(n, mul, &part) || __builtin_add_overflow(total, part, &total)) {
      return InvalidArgument(name + " '" + v + "' is out of range");
    }
  }
  return total;
}

LogApi::LogApi(storage::LogStore* store, pipeline::LogPipeline* pipeline,
               query::LogQueryEngine* engine, LogApiOptions options)
    : store_(store), pipeline_(pipeline), engine_(engine), opt_(options) {}

void LogApi::Register(http::Server* s) {
  using namespace std::placeholders;
  s->Route("POST", "/sl/ingest/ndjson", [this](const auto& q, auto* r) { IngestNdjson(q, r); });
  s->Route("POST", "/v1/logs", [this](const auto& q, auto* r) { IngestOtlp(q, r); });
  s->Route("POST", "/otlp/v1/logs", [this](const auto& q, auto* r) { IngestOtlp(q, r); });
  s->Route("*", "/sl/logs/query", [this](const auto& q, auto* r) { NativeQuery(q, r); });
  s->Route("GET", "/sl/logs/services", [this](const auto& q, auto* r) { NativeServices(q, r); });
  s->Route("GET", "/sl/logs/fields", [this](const auto& q, auto* r) { NativeFields(q, r); });
  s->RoutePrefix("GET", "/sl/logs/fields/", [this](const auto& q, auto* r) { NativeFieldValues(q, r); });
  s->Route("*", "/loki/api/v1/query_range", [this](const auto& q, auto* r) { LokiQuery(q, r, true); });
  s->Route("*", "/loki/api/v1/query", [this](const auto& q, auto* r) { LokiQuery(q, r, false); });
  s->Route("*", "/loki/api/v1/labels", [this](const auto& q, auto* r) { LokiLabels(q, r); });
  s->RoutePrefix("*", "/loki/api/v1/label/", [this](const auto& q, auto* r) { LokiLabelValues(q, r); });
  s->Route("GET", "/loki/api/v1/status/buildinfo", [](const auto&, auto* r) {
    r->body = R"({"version":"2.9.0","revision":"sightline","branch":"main","goVersion":""})";
  });
}

void LogApi::IngestNdjson(const http::Request& req, http::Response* res) {
  auto body = http::Decompress(req.body, req.Header("content-encoding"), opt_.max_decompressed_bytes);
  if (!body.ok()) return JsonError(res, body.status());
  model::LogBatch batch;
  ingest::NdjsonOptions o;
  auto svc = req.query.find("service");  // never parse the body as a form here
  o.default_service = svc != req.query.end() ? svc->second : opt_.default_service;
  o.now_ns = opt_.clock->NowNs();
  Status s = ingest::DecodeNdjson(*body, o, &batch);
  if (!s.ok()) return JsonError(res, s);
  pipeline::IngestResult r;
  s = pipeline_->Process("ndjson", &batch, &r);
  if (!s.ok()) return JsonError(res, s);
  res->body = R"({"accepted":)" + std::to_string(r.accepted) + R"(,"rejected":)" +
              std::to_string(r.rejected);
  if (r.dropped > 0) res->body += R"(,"dropped_by_level":)" + std::to_string(r.dropped);
  if (!batch.reject_reason.empty()) res->body += R"(,"error":)" + JsonQuoted(batch.reject_reason);
  res->body += "}";
}

void LogApi::IngestOtlp(const http::Request& req, http::Response* res) {
  std::string ct = req.Header("content-type");
  const bool json = ct.find("application/json") == 0;
  const bool proto = ct.find("application/x-protobuf") == 0 || ct.find("application/protobuf") == 0;
  auto fail = [&](const Status& s) {
    res->status = http::HttpStatusFor(s.code());
    res->content_type = json ? "application/json" : "application/x-protobuf";
    const int grpc_code = http::GrpcCodeFor(s.code());
    res->body = json ? ingest::EncodeRpcStatusJson(grpc_code, s.message())
                     : ingest::EncodeRpcStatusProto(grpc_code, s.message());
    if (res->status == 429 || res->status == 503) res->headers.emplace_back("Retry-After", "1");
  };
  if (!json && !proto) {
    return fail(Status(Code::kUnsupportedMediaType,
                       "unsupported Content-Type '" + ct +
                           "': use application/x-protobuf or application/json"));
  }
  auto body = http::Decompress(req.body, req.Header("content-encoding"), opt_.max_decompressed_bytes);
  if (!body.ok()) return fail(body.status());
  model::LogBatch batch;
  const int64_t now = opt_.clock->NowNs();
  Status s = json ? ingest::DecodeOtlpLogsJson(*body, now, &batch)
                  : ingest::DecodeOtlpLogsProto(*body, now, &batch);
  if (!s.ok()) return fail(s);
  pipeline::IngestResult r;
  s = pipeline_->Process(json ? "otlp_http_json" : "otlp_http_proto", &batch, &r);
  if (!s.ok()) return fail(s);
  res->content_type = json ? "application/json" : "application/x-protobuf";
  res->body = json ? ingest::EncodeLogsResponseJson(r.rejected, batch.reject_reason)
                   : ingest::EncodeLogsResponseProto(r.rejected, batch.reject_reason);
}

Status LogApi::ParseQueryParams(const http::Request& req, bool instant, query::LogQueryRequest* q,
                                const std::string& default_query) {
  q->query = req.Param("query");
  if (q->query.empty()) q->query = default_query;
  if (q->query.empty()) return InvalidArgument("missing parameter 'query'");
  const int64_t now = opt_.clock->NowNs();
  q->end_ns = now;
  if (req.HasParam("end")) {
    SL_ASSIGN_OR_RETURN(q->end_ns, ParseTimeParam("end", req.Param("end")));
  }
  if (instant && req.HasParam("time")) {
    SL_ASSIGN_OR_RETURN(q->end_ns, ParseTimeParam("time", req.Param("time")));
  }
  q->start_ns = q->end_ns - opt_.default_range_ns;
  if (req.HasParam("since")) {
    SL_ASSIGN_OR_RETURN(int64_t since, ParseDurationParam("since", req.Param("since")));
    q->start_ns = q->end_ns - since;
  }
  if (req.HasParam("start")) {
    SL_ASSIGN_OR_RETURN(q->start_ns, ParseTimeParam("start", req.Param("start")));
  }
  if (q->start_ns > q->end_ns) return InvalidArgument("start is after end");
  if (req.HasParam("limit")) {
    const std::string l = req.Param("limit");
    size_t lim = 0;
    auto r = std::from_chars(l.data(), l.data() + l.size(), lim);
    if (r.ec != std::errc() || r.ptr != l.data() + l.size())
      return InvalidArgument("limit must be a non-negative integer");
    q->limit = lim == 0 ? 100 : std::min(lim, opt_.max_limit);
  }
  const std::string dir = req.Param("direction");
  if (dir == "forward" || dir == "FORWARD") q->direction = query::Direction::kForward;
  else if (dir.empty() || dir == "backward" || dir == "BACKWARD") q->direction = query::Direction::kBackward;
  else return InvalidArgument("direction must be forward or backward");
  if (req.HasParam("step")) {
    SL_ASSIGN_OR_RETURN(q->step_ns, ParseDurationParam("step", req.Param("step")));
    if (q->step_ns <= 0) return InvalidArgument("step must be positive");
  }
  q->cursor = req.Param("cursor");
  q->instant = instant;
  // Log queries treat end as exclusive; a range query's end is meant inclusively by users.
  return Status::OK();
}

void LogApi::NativeQuery(const http::Request& req, http::Response* res) {
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, false, &q);
  if (!s.ok()) return JsonError(res, s);
  if (req.Param("type") == "instant") {
    q.instant = true;
    if (req.HasParam("time")) {
      auto t = ParseTimeParam("time", req.Param("time"));
      if (!t.ok()) return JsonError(res, t.status());
      q.end_ns = *t;
    }
  }
  auto r = engine_->Query(q);
  if (!r.ok()) return JsonError(res, r.status());
  std::string& o = res->body;
  o.reserve(256 + r->lines.size() * 400);
  if (r->type == QueryResult::Type::kStreams) {
    o += R"({"status":"success","type":"streams","lines":[)";
    for (size_t i = 0; i < r->lines.size(); ++i) {
      const auto& l = r->lines[i];
      const auto& rec = l.record;
      if (i) o += ',';
      o += R"({"ts":")" + std::to_string(rec.ts_ns) + R"(","time":")" + FormatRfc3339Nano(rec.ts_ns) +
           R"(","service":)";
      JsonQuote(rec.service, &o);
      o += R"(,"level":")";
      o += model::LevelName(rec.level);
      o += '"';
      if (!rec.env.empty()) {
        o += R"(,"env":)";
        JsonQuote(rec.env, &o);
      }
      if (!rec.host.empty()) {
        o += R"(,"host":)";
        JsonQuote(rec.host, &o);
      }
      if (!rec.trace_id.empty()) o += R"(,"trace_id":")" + rec.trace_id.Hex() + '"';
      if (!rec.span_id.empty()) o += R"(,"span_id":")" + rec.span_id.Hex() + '"';
      o += R"(,"body":)";
      JsonQuote(rec.body, &o);
      o += R"(,"fields":{)";
      bool first = true;
      for (const auto& a : rec.attrs) {
        // A parsed field of the same name replaces the stored one (no duplicate keys).
        if (std::any_of(l.parsed.begin(), l.parsed.end(), [&](const auto& kv) { return kv.first == a.key; }))
          continue;
        if (!first) o += ',';
        first = false;
        JsonQuote(a.key, &o);
        o += ':';
        AppendAttrValue(a.value, &o);
      }
      for (const auto& kv : l.parsed) {
        if (!first) o += ',';
        first = false;
        JsonQuote(kv.first, &o);
        o += ':';
        JsonQuote(kv.second, &o);
      }
      o += "}}";
    }
    o += "]";
    o += R"(,"next_cursor":)";
    o += r->next_cursor.empty() ? "null" : JsonQuoted(r->next_cursor);
  } else {
    o += R"({"status":"success","type":")";
    o += r->type == QueryResult::Type::kMatrix ? "matrix" : r->type == QueryResult::Type::kVector ? "vector" : "scalar";
    o += R"(","step_ns":)" + std::to_string(r->step_ns) + R"(,"series":[)";
    for (size_t i = 0; i < r->series.size(); ++i) {
      if (i) o += ',';
      o += R"({"labels":)";
      AppendLabelsObject(r->series[i].labels, &o);
      o += R"(,"points":[)";
      for (size_t j = 0; j < r->series[i].points.size(); ++j) {
        if (j) o += ',';
        o += '[';
        AppendSecs(r->series[i].points[j].first, &o);
        o += ',';
        JsonNumber(r->series[i].points[j].second, &o);
        o += ']';
      }
      o += "]}";
    }
    o += "]";
  }
  o += R"(,"stats":)";
  AppendStats(r->stats, &o);
  o += "}";
}

StatusOr<std::vector<std::pair<std::string, uint64_t>>> LogApi::FieldValues(
    const std::string& field, const std::string& selector, int64_t start, int64_t end, size_t limit) {
  std::vector<std::pair<std::string, uint64_t>> out;
  const std::string sel = selector.empty() ? "{}" : selector;
  if (IsBuiltin(field)) {
    query::LogQueryRequest q;
    const int64_t range_s = std::max<int64_t>(1, (end - start + kNsPerSec - 1) / kNsPerSec);
    q.query = "sum by (" + field + ") (count_over_time(" + sel + " [" + std::to_string(range_s) + "s]))";
    q.start_ns = q.end_ns = end;
    q.instant = true;
    SL_ASSIGN_OR_RETURN(auto r, engine_->Query(q));
    for (const auto& s : r.series) {
      std::string v;
      for (const auto& kv : s.labels)
        if (kv.first == field) v = kv.second;
      if (!s.points.empty()) out.emplace_back(v, static_cast<uint64_t>(s.points.back().second));
    }
  } else {
    // Other fields: a sample of the newest matching lines.
    query::LogQueryRequest q;
    q.query = sel;
    q.start_ns = start;
    q.end_ns = end;
    q.limit = 5000;
    SL_ASSIGN_OR_RETURN(auto r, engine_->Query(q));
    std::map<std::string, uint64_t> counts;
    for (const auto& l : r.lines) {
      std::string v = storage::FieldText(l.record, field);
      if (!v.empty()) counts[v]++;
    }
    out.assign(counts.begin(), counts.end());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

void LogApi::NativeServices(const http::Request& req, http::Response* res) {
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, false, &q, "{}");
  if (!s.ok()) return JsonError(res, s);
  auto v = FieldValues("service", req.Param("query"), q.start_ns, q.end_ns, 100000);
  if (!v.ok()) return JsonError(res, v.status());
  res->body = R"({"status":"success","services":[)";
  for (size_t i = 0; i < v->size(); ++i) {
    if (i) res->body += ',';
    res->body += R"({"name":)" + JsonQuoted((*v)[i].first) + R"(,"count":)" + std::to_string((*v)[i].second) + "}";
  }
  res->body += "]}";
}

void LogApi::NativeFields(const http::Request& req, http::Response* res) {
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, false, &q, "{}");
  if (!s.ok()) return JsonError(res, s);
  q.limit = 2000;
  auto r = engine_->Query(q);
  if (!r.ok()) return JsonError(res, r.status());
  std::map<std::string, std::pair<uint64_t, std::map<std::string, uint64_t>>> fields;
  for (const auto& l : r->lines) {
    for (const auto& kv : query::BaseLabels(l.record)) {
      auto& f = fields[kv.first];
      f.first++;
      f.second[kv.second]++;
    }
    if (!l.record.trace_id.empty()) fields["trace_id"].first++;
    for (const auto& a : l.record.attrs) {
      auto& f = fields[a.key];
      f.first++;
      if (f.second.size() < 1000) f.second[a.value.ToText()]++;
    }
  }
  std::string& o = res->body;
  o = R"({"status":"success","sampled_lines":)" + std::to_string(r->lines.size()) + R"(,"fields":[)";
  bool first = true;
  for (const auto& [name, f] : fields) {
    if (!first) o += ',';
    first = false;
    std::vector<std::pair<std::string, uint64_t>> top(f.second.begin(), f.second.end());
    std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (top.size() > 5) top.resize(5);
    o += R"({"name":)" + JsonQuoted(name) + R"(,"count":)" + std::to_string(f.first) + R"(,"top_values":[)";
    for (size_t i = 0; i < top.size(); ++i) {
      if (i) o += ',';
      o += R"({"value":)" + JsonQuoted(top[i].first) + R"(,"count":)" + std::to_string(top[i].second) + "}";
    }
    o += "]}";
  }
  o += "]}";
}

void LogApi::NativeFieldValues(const http::Request& req, http::Response* res) {
  // /sl/logs/fields/{name}/values
  std::string field;
  if (!NameFromValuesPath(req.path, "/sl/logs/fields/", &field)) return NotFound(res);
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, false, &q, "{}");
  if (!s.ok()) return JsonError(res, s);
  auto v = FieldValues(field, req.Param("query"), q.start_ns, q.end_ns, req.HasParam("limit") ? q.limit : 100);
  if (!v.ok()) return JsonError(res, v.status());
  res->body = R"({"status":"success","field":)" + JsonQuoted(field) + R"(,"exact":)" +
              (IsBuiltin(field) ? "true" : "false") + R"(,"values":[)";
  for (size_t i = 0; i < v->size(); ++i) {
    if (i) res->body += ',';
    res->body += R"({"value":)" + JsonQuoted((*v)[i].first) + R"(,"count":)" + std::to_string((*v)[i].second) + "}";
  }
  res->body += "]}";
}

void LogApi::LokiQuery(const http::Request& req, http::Response* res, bool range) {
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, !range, &q);
  if (!s.ok()) return JsonError(res, s);
  if (!range && !req.HasParam("time") && req.HasParam("end") == false) q.end_ns = opt_.clock->NowNs();
  auto r = engine_->Query(q);
  if (!r.ok()) return JsonError(res, r.status());
  std::string& o = res->body;
  o = R"({"status":"success","data":{"resultType":")";
  if (r->type == QueryResult::Type::kStreams) {
    o += R"(streams","result":[)";
    // Group lines into streams by label set, keeping the requested order inside each.
    std::map<std::string, size_t> index;
    std::vector<std::pair<Labels, std::vector<const query::LogLine*>>> streams;
    for (const auto& l : r->lines) {
      Labels lab = LokiStreamLabels(l);
      std::string key;
      for (const auto& kv : lab) key += kv.first + '\x01' + kv.second + '\x02';
      auto [it, ins] = index.emplace(key, streams.size());
      if (ins) streams.push_back({std::move(lab), {}});
      streams[it->second].second.push_back(&l);
    }
    for (size_t i = 0; i < streams.size(); ++i) {
      if (i) o += ',';
      o += R"({"stream":)";
      AppendLabelsObject(streams[i].first, &o);
      o += R"(,"values":[)";
      for (size_t j = 0; j < streams[i].second.size(); ++j) {
        if (j) o += ',';
        o += "[\"" + std::to_string(streams[i].second[j]->record.ts_ns) + "\",";
        JsonQuote(streams[i].second[j]->record.body, &o);
        o += ']';
      }
      o += "]}";
    }
  } else if (r->type == QueryResult::Type::kScalar) {
    o += R"(scalar","result":)";
    const auto& p = r->series.empty() || r->series[0].points.empty() ? std::pair<int64_t, double>{q.end_ns, 0}
                                                                      : r->series[0].points[0];
    o += '[';
    AppendSecs(p.first, &o);
    o += ",\"" + SampleValue(p.second) + "\"]";
  } else {
    const bool matrix = r->type == QueryResult::Type::kMatrix;
    o += matrix ? R"(matrix","result":[)" : R"(vector","result":[)";
    for (size_t i = 0; i < r->series.size(); ++i) {
      if (i) o += ',';
      o += R"({"metric":)";
      AppendLabelsObject(r->series[i].labels, &o);
      if (matrix) {
        o += R"(,"values":[)";
        for (size_t j = 0; j < r->series[i].points.size(); ++j) {
          if (j) o += ',';
          o += '[';
          AppendSecs(r->series[i].points[j].first, &o);
          o += ",\"" + SampleValue(r->series[i].points[j].second) + "\"]";
        }
        o += "]}";
      } else {
        const auto& p = r->series[i].points.back();
        o += R"(,"value":[)";
        AppendSecs(p.first, &o);
        o += ",\"" + SampleValue(p.second) + "\"]}";
      }
    }
  }
  if (r->type != QueryResult::Type::kScalar) o += ']';
  o += R"(,"stats":{"summary":{"totalLinesProcessed":)" + std::to_string(r->stats.rows_scanned) +
       R"(,"totalBytesProcessed":)" + std::to_string(r->stats.bytes_read) + "}}}}";
}

void LogApi::LokiLabels(const http::Request& req, http::Response* res) {
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, false, &q, "{}");
  if (!s.ok()) return JsonError(res, s);
  std::vector<std::string> names;
  for (const char* f : {"env", "host", "level", "service"}) {
    auto v = FieldValues(f, q.query, q.start_ns, q.end_ns, SIZE_MAX);
    if (!v.ok()) return JsonError(res, v.status());
    if (std::any_of(v->begin(), v->end(), [](const auto& kv) { return !kv.first.empty(); }))
      names.push_back(f);
  }
  res->body = R"({"status":"success","data":[)";
  for (size_t i = 0; i < names.size(); ++i) res->body += (i ? "," : "") + JsonQuoted(names[i]);
  res->body += "]}";
}

void LogApi::LokiLabelValues(const http::Request& req, http::Response* res) {
  std::string name;
  if (!NameFromValuesPath(req.path, "/loki/api/v1/label/", &name)) return NotFound(res);
  if (name == "service_name") name = "service";
  query::LogQueryRequest q;
  Status s = ParseQueryParams(req, false, &q, "{}");
  if (!s.ok()) return JsonError(res, s);
  auto v = FieldValues(name, q.query, q.start_ns, q.end_ns, 10000);
  if (!v.ok()) return JsonError(res, v.status());
  std::vector<std::string> vals;
  for (const auto& [val, n] : *v)
    if (!val.empty()) vals.push_back(val);
  std::sort(vals.begin(), vals.end());
  res->body = R"({"status":"success","data":[)";
  for (size_t i = 0; i < vals.size(); ++i) res->body += (i ? "," : "") + JsonQuoted(vals[i]);
  res->body += "]}";
}

}  // namespace sightline::api
