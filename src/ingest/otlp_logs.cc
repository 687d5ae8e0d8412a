#include "ingest/otlp_logs.h"

#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "ingest/otlp_common.h"

namespace sightline::ingest {
namespace {

namespace od = simdjson::ondemand;
using model::Attribute;
using model::AttrValue;
using model::LogRecord;
using otlp_internal::AddMissing;
using otlp_internal::Any;
using otlp_internal::AnyToAttr;
using otlp_internal::AppendAnyJson;
using otlp_internal::AssignUtf8;
using otlp_internal::AttrBytes;
using otlp_internal::BatchSink;
using otlp_internal::DecodeJsonAnyValue;
using otlp_internal::DecodeJsonAttribute;
using otlp_internal::DecodeJsonId;
using otlp_internal::DecodeJsonResource;
using otlp_internal::DecodeJsonScope;
using otlp_internal::DecodeProtoAnyValue;
using otlp_internal::DecodeProtoAttribute;
using otlp_internal::DecodeProtoResource;
using otlp_internal::DecodeProtoScope;
using otlp_internal::EncodePartialSuccessJson;
using otlp_internal::EncodePartialSuccessProto;
using otlp_internal::ForEachElement;
using otlp_internal::ForEachJsonRequestElement;
using otlp_internal::ForEachMember;
using otlp_internal::GetInt64;
using otlp_internal::GetString;
using otlp_internal::GetUint64;
using otlp_internal::Is;
using otlp_internal::OtlpSignal;
using otlp_internal::ProtoField;
using otlp_internal::ProtoReader;
using otlp_internal::ScopeInfo;
using otlp_internal::SetAttr;
using otlp_internal::WalkJsonResource;
using otlp_internal::WalkProtoResource;

using Sink = BatchSink<LogRecord>;

Sink MakeSink(std::string_view body, model::LogBatch* out) {
  return Sink(
      body,
      {kMaxOtlpLogRecords, "log records", "resource/scope attributes copied onto every record"},
      &out->records, &out->rejected, &out->reject_reason);
}

// A string body is the text itself; anything else is its compact JSON text.
void AnyToBody(Any* v, std::string* body) {
  switch (v->kind) {
    case Any::Kind::kEmpty:
      body->clear();
      return;
    case Any::Kind::kString:
    case Any::Kind::kJson:
      *body = std::move(v->str);
      return;
    default:
      body->clear();
      AppendAnyJson(*v, body);
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Mapping shared by both encodings.

struct ResourceInfo {
  std::string service, env, host;
  bool env_from_name = false;    // env came from deployment.environment.name (preferred)
  std::vector<Attribute> attrs;  // the other attributes
  size_t attr_bytes = 0;

  void Add(std::string key, Any* value) {
    if (value->kind == Any::Kind::kString) {
      if (key == "service.name") {
        service = std::move(value->str);
        return;
      }
      if (key == "host.name") {
        host = std::move(value->str);
        return;
      }
      if (key == "deployment.environment.name") {
        env = std::move(value->str);
        env_from_name = true;
        return;
      }
      if (key == "deployment.environment") {
        if (!env_from_name) env = std::move(value->str);
        return;
      }
    }
    AttrValue v;
    if (AnyToAttr(value, &v)) attrs.push_back(Attribute{std::move(key), std::move(v)});
  }
  void Finish() {
    model::DedupeAttributes(&attrs);
    attr_bytes = AttrBytes(attrs);
  }
};

// Adds the scope name/version attributes to records [begin, end).
Status FinishScope(size_t begin, const ScopeInfo& scope, Sink* sink) {
  if (scope.name.empty() && scope.version.empty()) return Status::OK();
  std::vector<Attribute> attrs;
  if (!scope.name.empty()) attrs.push_back({"otel.scope.name", AttrValue::String(scope.name)});
  if (!scope.version.empty()) {
    attrs.push_back({"otel.scope.version", AttrValue::String(scope.version)});
  }
  const size_t bytes = AttrBytes(attrs);
  for (size_t i = begin; i < sink->size(); ++i) {
    SL_RETURN_IF_ERROR(sink->Charge(bytes));
    AddMissing(attrs, &sink->items()[i].attrs);
  }
  return Status::OK();
}

// Applies the resource to records [begin, end).
Status FinishResource(size_t begin, const ResourceInfo& res, Sink* sink) {
  const size_t bytes = res.attr_bytes + res.service.size() + res.env.size() + res.host.size();
  for (size_t i = begin; i < sink->size(); ++i) {
    SL_RETURN_IF_ERROR(sink->Charge(bytes));
    LogRecord& rec = sink->items()[i];
    rec.service = res.service;
    rec.env = res.env;
    rec.host = res.host;
    AddMissing(res.attrs, &rec.attrs);
  }
  return Status::OK();
}

// Fields of a LogRecord that are mapped only once the whole record has been read.
struct RecordScratch {
  uint64_t time = 0, observed = 0;
  int64_t severity_number = 0;
  std::string severity_text;
  std::string event_name;
  bool has_event_name = false;
};

// Sets time, level and event name; callers handle ids.
void FinishRecord(const RecordScratch& s, int64_t now_ns, LogRecord* rec) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  rec->ts_ns = s.time != 0 && s.time <= kMax           ? static_cast<int64_t>(s.time)
               : s.observed != 0 && s.observed <= kMax ? static_cast<int64_t>(s.observed)
                                                       : 0;
  rec->observed_ns = now_ns;
  if (s.severity_number >= 1 && s.severity_number <= 24) {
    rec->severity_number = static_cast<uint8_t>(s.severity_number);
    rec->level = model::LevelFromSeverityNumber(static_cast<int>(s.severity_number));
  } else {
    std::string_view t = s.severity_text;
    // model::LevelFromText reads past its syslog table for "8" and "9"; those are unknown.
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    const bool bad_digit = !t.empty() && (t.back() == '8' || t.back() == '9') &&
                           t.find_first_not_of('0') == t.size() - 1;
    rec->level = bad_digit ? model::Level::kUnknown : model::LevelFromText(t);
  }
  model::DedupeAttributes(&rec->attrs);
  if (s.has_event_name && !s.event_name.empty()) {
    SetAttr("event.name", AttrValue::String(s.event_name), &rec->attrs);
  }
}

// ---------------------------------------------------------------------------------------
// Protobuf.

constexpr OtlpSignal kLogs{"ScopeLogs",  "LogRecord",  "resourceLogs", "scopeLogs",
                           "scope_logs", "logRecords", "log_records",  /*scope_attrs=*/false};

class ProtoDecoder {
 public:
  ProtoDecoder(std::string_view body, int64_t now_ns, model::LogBatch* out)
      : body_(body), now_ns_(now_ns), sink_(MakeSink(body, out)) {}

  Status Run() {
    Status st = DecodeRequest(body_);
    if (!st.ok() && st.code() == Code::kInvalidArgument) st = st.Annotate("otlp protobuf");
    return sink_.Done(std::move(st));
  }

 private:
  Status DecodeRequest(std::string_view bytes) {
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 1 && f.wire_type == 2) {
        if (Status st = DecodeResourceLogs(f.bytes); !st.ok()) return st.Annotate("ResourceLogs");
      }
    }
    return Status::OK();
  }

  Status DecodeResourceLogs(std::string_view bytes) {
    const size_t begin = sink_.size();
    ResourceInfo res;
    SL_RETURN_IF_ERROR(WalkProtoResource(
        bytes, kLogs, [&] { return sink_.size(); },
        [&](std::string key, Any* value) { res.Add(std::move(key), value); },
        [&](std::string_view item) { return DecodeLogRecord(item); },
        [&](size_t first, const ScopeInfo& scope) { return FinishScope(first, scope, &sink_); }));
    res.Finish();
    return FinishResource(begin, res, &sink_);
  }

  Status DecodeLogRecord(std::string_view bytes) {
    int64_t ordinal = 0;
    LogRecord* rec_ptr = nullptr;
    SL_RETURN_IF_ERROR(sink_.Next(&rec_ptr, &ordinal));
    LogRecord& rec = *rec_ptr;
    RecordScratch s;
    std::string_view trace_id, span_id;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      switch (f.number) {
        case 1:
          if (f.wire_type == 1) s.time = f.value;
          break;
        case 11:
          if (f.wire_type == 1) s.observed = f.value;
          break;
        case 2:
          // An enum is an int32: negative values arrive sign-extended to 64 bits.
          if (f.wire_type == 0) s.severity_number = static_cast<int32_t>(f.value);
          break;
        case 3:
          if (f.wire_type == 2) AssignUtf8(f.bytes, &s.severity_text);
          break;
        case 5:
          if (f.wire_type == 2) {
            Any body;
            if (Status st = DecodeProtoAnyValue(f.bytes, 1, &body); !st.ok()) {
              return st.Annotate("body");
            }
            AnyToBody(&body, &rec.body);
          }
          break;
        case 6:
          if (f.wire_type == 2) {
            if (Status st = DecodeProtoAttribute(f.bytes, &rec.attrs); !st.ok()) {
              return st.Annotate("attributes");
            }
          }
          break;
        case 9:
          if (f.wire_type == 2) trace_id = f.bytes;
          break;
        case 10:
          if (f.wire_type == 2) span_id = f.bytes;
          break;
        case 12:
          if (f.wire_type == 2) {
            AssignUtf8(f.bytes, &s.event_name);
            s.has_event_name = true;
          }
          break;
        default:
          break;
      }
    }
    if (!trace_id.empty() && trace_id.size() != 16) {
      sink_.Reject("log record " + std::to_string(ordinal) + ": trace_id is " +
                   std::to_string(trace_id.size()) + " bytes, want 16");
      return Status::OK();
    }
    if (!span_id.empty() && span_id.size() != 8) {
      sink_.Reject("log record " + std::to_string(ordinal) + ": span_id is " +
                   std::to_string(span_id.size()) + " bytes, want 8");
      return Status::OK();
    }
    if (!trace_id.empty()) std::memcpy(rec.trace_id.bytes.data(), trace_id.data(), 16);
    if (!span_id.empty()) std::memcpy(rec.span_id.bytes.data(), span_id.data(), 8);
    FinishRecord(s, now_ns_, &rec);
    return Status::OK();
  }

  std::string_view body_;
  int64_t now_ns_;
  Sink sink_;
};

// ---------------------------------------------------------------------------------------
// JSON.

class JsonDecoder {
 public:
  JsonDecoder(std::string_view body, int64_t now_ns, model::LogBatch* out)
      : body_(body), now_ns_(now_ns), sink_(MakeSink(body, out)) {}

  Status Run() {
    Status st = ForEachJsonRequestElement(
        body_, "resourceLogs", "resource_logs",
        [&](od::value rl) { return DecodeResourceLogs(rl).Annotate("resourceLogs"); });
    if (!st.ok() && st.code() == Code::kInvalidArgument) st = st.Annotate("otlp json");
    return sink_.Done(std::move(st));
  }

 private:
  Status DecodeResourceLogs(od::value v) {
    const size_t begin = sink_.size();
    ResourceInfo res;
    SL_RETURN_IF_ERROR(WalkJsonResource(
        v, kLogs, [&] { return sink_.size(); },
        [&](std::string key, Any* value) { res.Add(std::move(key), value); },
        [&](od::value item) { return DecodeLogRecord(item); },
        [&](size_t first, const ScopeInfo& scope) { return FinishScope(first, scope, &sink_); }));
    res.Finish();
    return FinishResource(begin, res, &sink_);
  }

  Status DecodeLogRecord(od::value v) {
    int64_t ordinal = 0;
    LogRecord* rec_ptr = nullptr;
    SL_RETURN_IF_ERROR(sink_.Next(&rec_ptr, &ordinal));
    LogRecord& rec = *rec_ptr;
    RecordScratch s;
    std::string_view trace_id, span_id;
    SL_RETURN_IF_ERROR(ForEachMember(v, "logRecord", [&](std::string_view key, od::value m) {
      if (Is(key, "timeUnixNano", "time_unix_nano")) return GetUint64(m, key, &s.time);
      if (Is(key, "observedTimeUnixNano", "observed_time_unix_nano")) {
        return GetUint64(m, key, &s.observed);
      }
      if (Is(key, "severityNumber", "severity_number")) {
        int64_t n = 0;
        // Enums must be integers; a name string is tolerated and ignored.
        if (GetInt64(m, key, &n).ok()) s.severity_number = n;
        return Status::OK();
      }
      std::string_view text;
      if (Is(key, "severityText", "severity_text")) {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        s.severity_text.assign(text);
        return Status::OK();
      }
      if (Is(key, "eventName", "event_name")) {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        s.event_name.assign(text);
        s.has_event_name = true;
        return Status::OK();
      }
      if (key == "body") {
        Any body;
        SL_RETURN_IF_ERROR(DecodeJsonAnyValue(m, 1, &body).Annotate("body"));
        AnyToBody(&body, &rec.body);
        return Status::OK();
      }
      if (key == "attributes") {
        return ForEachElement(m, key, [&](od::value kv) {
          return DecodeJsonAttribute(kv, &rec.attrs).Annotate("attributes");
        });
      }
      if (Is(key, "traceId", "trace_id")) return GetString(m, key, &trace_id);
      if (Is(key, "spanId", "span_id")) return GetString(m, key, &span_id);
      return Status::OK();
    }));
    if (!DecodeJsonId(trace_id, rec.trace_id.bytes.data(), 16)) {
      sink_.Reject("log record " + std::to_string(ordinal) + ": invalid traceId \"" +
                   std::string(trace_id.substr(0, 64)) + "\" (want 32 hex digits)");
      return Status::OK();
    }
    if (!DecodeJsonId(span_id, rec.span_id.bytes.data(), 8)) {
      sink_.Reject("log record " + std::to_string(ordinal) + ": invalid spanId \"" +
                   std::string(span_id.substr(0, 64)) + "\" (want 16 hex digits)");
      return Status::OK();
    }
    FinishRecord(s, now_ns_, &rec);
    return Status::OK();
  }

  std::string_view body_;
  int64_t now_ns_;
  Sink sink_;
};

}  // namespace

Status DecodeOtlpLogsProto(std::string_view body, int64_t now_ns, model::LogBatch* out) {
  return ProtoDecoder(body, now_ns, out).Run();
}

Status DecodeOtlpLogsJson(std::string_view body, int64_t now_ns, model::LogBatch* out) {
  return JsonDecoder(body, now_ns, out).Run();
}

std::string EncodeLogsResponseProto(int64_t rejected, std::string_view error_message) {
  return EncodePartialSuccessProto(rejected, error_message);
}

std::string EncodeLogsResponseJson(int64_t rejected, std::string_view error_message) {
  return EncodePartialSuccessJson("rejectedLogRecords", rejected, error_message);
}

// EncodeRpcStatusProto / EncodeRpcStatusJson live in otlp_common.cc (shared by all signals).

}  // namespace sightline::ingest
