#include "ingest/otlp_traces.h"

#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "ingest/otlp_common.h"

namespace sightline::ingest {
namespace {

namespace od = simdjson::ondemand;
using model::Attribute;
using model::AttrValue;
using model::Span;
using model::SpanEvent;
using model::SpanKind;
using model::SpanLink;
using model::StatusCode;
using otlp_internal::AddMissing;
using otlp_internal::Any;
using otlp_internal::AnyToAttr;
using otlp_internal::AssignUtf8;
using otlp_internal::AttrBytes;
using otlp_internal::BatchSink;
using otlp_internal::DecodeJsonAttribute;
using otlp_internal::DecodeJsonId;
using otlp_internal::DecodeJsonResource;
using otlp_internal::DecodeJsonScope;
using otlp_internal::DecodeProtoAttribute;
using otlp_internal::DecodeProtoResource;
using otlp_internal::DecodeProtoScope;
using otlp_internal::EncodePartialSuccessJson;
using otlp_internal::EncodePartialSuccessProto;
using otlp_internal::ForEachElement;
using otlp_internal::ForEachJsonRequestElement;
using otlp_internal::ForEachMember;
using otlp_internal::GetString;
using otlp_internal::GetUint32;
using otlp_internal::GetUint64;
using otlp_internal::Is;
using otlp_internal::OtlpSignal;
using otlp_internal::ProtoField;
using otlp_internal::ProtoReader;
using otlp_internal::ScopeInfo;
using otlp_internal::WalkJsonResource;
using otlp_internal::WalkProtoResource;

using Sink = BatchSink<Span>;

Sink MakeSink(std::string_view body, model::SpanBatch* out) {
  return Sink(body,
              {kMaxOtlpSpans, "spans",
               "decoded events and links plus resource/scope attributes copied onto every span"},
              &out->spans, &out->rejected, &out->reject_reason);
}

// ---------------------------------------------------------------------------------------
// Mapping shared by both encodings.

// fixed64 Unix ns; values an int64 cannot hold read as 0 (unknown).
int64_t TimeNs(uint64_t v) {
  return v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? static_cast<int64_t>(v)
                                                                         : 0;
}

SpanKind KindFromNumber(int64_t n) {
  return n >= 0 && n <= static_cast<int64_t>(SpanKind::kConsumer) ? static_cast<SpanKind>(n)
                                                                  : SpanKind::kUnspecified;
}

StatusCode StatusCodeFromNumber(int64_t n) {
  return n >= 0 && n <= static_cast<int64_t>(StatusCode::kError) ? static_cast<StatusCode>(n)
                                                                 : StatusCode::kUnset;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// "STATUS_CODE_ERROR", "error", ... (any case).
bool StatusCodeFromText(std::string_view text, StatusCode* code) {
  constexpr std::string_view kPrefix = "status_code_";
  if (text.size() > kPrefix.size() && EqualsIgnoreCase(text.substr(0, kPrefix.size()), kPrefix)) {
    text.remove_prefix(kPrefix.size());
  }
  for (StatusCode c : {StatusCode::kUnset, StatusCode::kOk, StatusCode::kError}) {
    if (EqualsIgnoreCase(text, model::StatusCodeName(c))) {
      *code = c;
      return true;
    }
  }
  return false;
}

uint32_t SaturatingAdd(uint32_t a, uint32_t b) {
  return a > std::numeric_limits<uint32_t>::max() - b ? std::numeric_limits<uint32_t>::max()
                                                      : a + b;
}

struct ResourceInfo {
  std::string service;
  std::vector<Attribute> attrs;  // everything but a string service.name
  size_t bytes = 0;

  void Add(std::string key, Any* value) {
    if (value->kind == Any::Kind::kString && key == "service.name") {
      service = std::move(value->str);
      return;
    }
    AttrValue v;
    if (AnyToAttr(value, &v)) attrs.push_back(Attribute{std::move(key), std::move(v)});
  }
  void Finish() {
    model::DedupeAttributes(&attrs);
    bytes = AttrBytes(attrs) + service.size();
  }
};

// Sets the scope of spans [begin, end). Runs before FinishResource, so `resource` holds the
// scope attributes only (one shared list per scope).
Status FinishScope(size_t begin, const ScopeInfo& scope, Sink* sink) {
  const size_t bytes = scope.name.size() + scope.version.size() + AttrBytes(scope.attrs);
  model::SharedAttributes attrs;
  if (!scope.attrs.empty()) attrs = std::make_shared<const model::AttributeList>(scope.attrs);
  for (size_t i = begin; i < sink->size(); ++i) {
    SL_RETURN_IF_ERROR(sink->Charge(bytes));
    Span& span = sink->items()[i];
    span.scope_name = scope.name;
    span.scope_version = scope.version;
    span.resource = attrs;
  }
  return Status::OK();
}

// Applies the resource to spans [begin, end): its attributes first, then the scope
// attributes it lacks. Spans of one resource and scope share one list.
Status FinishResource(size_t begin, const ResourceInfo& res, Sink* sink) {
  model::SharedAttributes res_attrs;
  if (!res.attrs.empty()) res_attrs = std::make_shared<const model::AttributeList>(res.attrs);
  const model::AttributeList* last_scope = nullptr;
  model::SharedAttributes last_merged;
  for (size_t i = begin; i < sink->size(); ++i) {
    SL_RETURN_IF_ERROR(sink->Charge(res.bytes));
    Span& span = sink->items()[i];
    span.service = res.service;
    if (span.resource == nullptr || span.resource->empty()) {
      span.resource = res_attrs;
    } else if (res_attrs != nullptr) {
      if (span.resource.get() != last_scope) {
        last_scope = span.resource.get();
        model::AttributeList merged = res.attrs;
        AddMissing(*span.resource, &merged);
        last_merged = std::make_shared<const model::AttributeList>(std::move(merged));
      }
      span.resource = last_merged;
    }
  }
  return Status::OK();
}

constexpr OtlpSignal kTraces{"ScopeSpans",  "Span",  "resourceSpans", "scopeSpans",
                             "scope_spans", "spans", "spans",         /*scope_attrs=*/true};

std::string SpanPrefix(int64_t ordinal) { return "span " + std::to_string(ordinal) + ": "; }

// ---------------------------------------------------------------------------------------
// Protobuf.

class ProtoDecoder {
 public:
  ProtoDecoder(std::string_view body, model::SpanBatch* out)
      : body_(body), sink_(MakeSink(body, out)) {}

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
        if (Status st = DecodeResourceSpans(f.bytes); !st.ok()) {
          return st.Annotate("ResourceSpans");
        }
      }
    }
    return Status::OK();
  }

  Status DecodeResourceSpans(std::string_view bytes) {
    const size_t begin = sink_.size();
    ResourceInfo res;
    SL_RETURN_IF_ERROR(WalkProtoResource(
        bytes, kTraces, [&] { return sink_.size(); },
        [&](std::string key, Any* value) { res.Add(std::move(key), value); },
        [&](std::string_view item) { return DecodeSpan(item); },
        [&](size_t first, const ScopeInfo& scope) { return FinishScope(first, scope, &sink_); }));
    res.Finish();
    return FinishResource(begin, res, &sink_);
  }

  Status DecodeSpan(std::string_view bytes) {
    int64_t ordinal = 0;
    Span* span_ptr = nullptr;
    SL_RETURN_IF_ERROR(sink_.Next(&span_ptr, &ordinal));
    Span& span = *span_ptr;
    std::string_view trace_id, span_id, parent_span_id;
    uint32_t bad_links = 0;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      const bool len = f.wire_type == 2, varint = f.wire_type == 0;
      switch (f.number) {
        case 1:
          if (len) trace_id = f.bytes;
          break;
        case 2:
          if (len) span_id = f.bytes;
          break;
        case 3:
          if (len) AssignUtf8(f.bytes, &span.trace_state);
          break;
        case 4:
          if (len) parent_span_id = f.bytes;
          break;
        case 5:
          if (len) AssignUtf8(f.bytes, &span.name);
          break;
        case 6:
          // An enum is an int32: negative values arrive sign-extended to 64 bits.
          if (varint) span.kind = KindFromNumber(static_cast<int32_t>(f.value));
          break;
        case 7:
          if (f.wire_type == 1) span.start_ns = TimeNs(f.value);
          break;
        case 8:
          if (f.wire_type == 1) span.end_ns = TimeNs(f.value);
          break;
        case 9:
          if (len) {
            if (Status st = DecodeProtoAttribute(f.bytes, &span.attrs); !st.ok()) {
              return st.Annotate("attributes");
            }
          }
          break;
        case 10:
          if (varint) span.dropped_attrs = static_cast<uint32_t>(f.value);
          break;
        case 11:
          if (len) {
            if (Status st = DecodeEvent(f.bytes, &span); !st.ok()) return st.Annotate("Event");
          }
          break;
        case 12:
          if (varint) span.dropped_events = static_cast<uint32_t>(f.value);
          break;
        case 13:
          if (len) {
            if (Status st = DecodeLink(f.bytes, &span, &bad_links); !st.ok()) {
              return st.Annotate("Link");
            }
          }
          break;
        case 14:
          if (varint) span.dropped_links = static_cast<uint32_t>(f.value);
          break;
        case 15:
          if (len) {
            if (Status st = DecodeStatus(f.bytes, &span); !st.ok()) return st.Annotate("Status");
          }
          break;
        case 16:
          if (f.wire_type == 5) span.flags = static_cast<uint32_t>(f.value);
          break;
        default:
          break;
      }
    }
    std::string reason;
    if (trace_id.size() != 16) {
      reason = "trace_id is " + std::to_string(trace_id.size()) + " bytes, want 16";
    } else if (span_id.size() != 8) {
      reason = "span_id is " + std::to_string(span_id.size()) + " bytes, want 8";
    } else if (!parent_span_id.empty() && parent_span_id.size() != 8) {
      reason = "parent_span_id is " + std::to_string(parent_span_id.size()) + " bytes, want 0 or 8";
    } else {
      std::memcpy(span.trace_id.bytes.data(), trace_id.data(), 16);
      std::memcpy(span.span_id.bytes.data(), span_id.data(), 8);
      if (!parent_span_id.empty()) {
        std::memcpy(span.parent_span_id.bytes.data(), parent_span_id.data(), 8);
      }
      if (span.trace_id.empty()) {
        reason = "trace_id is all zeros";
      } else if (span.span_id.empty()) {
        reason = "span_id is all zeros";
      }
    }
    if (!reason.empty()) {
      sink_.Reject(SpanPrefix(ordinal) + reason);
      return Status::OK();
    }
    span.dropped_links = SaturatingAdd(span.dropped_links, bad_links);
    model::DedupeAttributes(&span.attrs);
    return Status::OK();
  }

  // Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3;
  //         uint32 dropped_attributes_count = 4; }
  Status DecodeEvent(std::string_view bytes, Span* span) {
    SL_RETURN_IF_ERROR(sink_.Charge(sizeof(SpanEvent)));
    SpanEvent& ev = span->events.emplace_back();
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 1 && f.wire_type == 1) {
        ev.time_ns = TimeNs(f.value);
      } else if (f.number == 2 && f.wire_type == 2) {
        AssignUtf8(f.bytes, &ev.name);
      } else if (f.number == 3 && f.wire_type == 2) {
        SL_RETURN_IF_ERROR(DecodeProtoAttribute(f.bytes, &ev.attrs).Annotate("attributes"));
      } else if (f.number == 4 && f.wire_type == 0) {
        ev.dropped_attrs = static_cast<uint32_t>(f.value);
      }
    }
    model::DedupeAttributes(&ev.attrs);
    return sink_.Charge(ev.name.size() + AttrBytes(ev.attrs));
  }

  // Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3;
  //        repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5;
  //        fixed32 flags = 6; }
  // A link with invalid ids is dropped and counted in *bad_links.
  Status DecodeLink(std::string_view bytes, Span* span, uint32_t* bad_links) {
    SL_RETURN_IF_ERROR(sink_.Charge(sizeof(SpanLink)));
    SpanLink& link = span->links.emplace_back();
    std::string_view trace_id, span_id;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 1 && f.wire_type == 2) {
        trace_id = f.bytes;
      } else if (f.number == 2 && f.wire_type == 2) {
        span_id = f.bytes;
      } else if (f.number == 3 && f.wire_type == 2) {
        AssignUtf8(f.bytes, &link.trace_state);
      } else if (f.number == 4 && f.wire_type == 2) {
        SL_RETURN_IF_ERROR(DecodeProtoAttribute(f.bytes, &link.attrs).Annotate("attributes"));
      } else if (f.number == 6 && f.wire_type == 5) {
        link.flags = static_cast<uint32_t>(f.value);
      }
    }
    if (trace_id.size() == 16 && span_id.size() == 8) {
      std::memcpy(link.trace_id.bytes.data(), trace_id.data(), 16);
      std::memcpy(link.span_id.bytes.data(), span_id.data(), 8);
    }
    if (link.trace_id.empty() || link.span_id.empty()) {
      span->links.pop_back();
      ++*bad_links;
      return Status::OK();
    }
    model::DedupeAttributes(&link.attrs);
    return sink_.Charge(link.trace_state.size() + AttrBytes(link.attrs));
  }

  // Status { reserved 1; string message = 2; StatusCode code = 3; }
  static Status DecodeStatus(std::string_view bytes, Span* span) {
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 2 && f.wire_type == 2) {
        AssignUtf8(f.bytes, &span->status_message);
      } else if (f.number == 3 && f.wire_type == 0) {
        span->status_code = StatusCodeFromNumber(static_cast<int32_t>(f.value));
      }
    }
    return Status::OK();
  }

  std::string_view body_;
  Sink sink_;
};

// ---------------------------------------------------------------------------------------
// JSON.

// Enums must be integers (numbers, or decimal strings as some encoders write them). Like the
// logs decoder this is tolerant: another string is returned in *name for a lookup by name,
// and values of other types are ignored.
void ReadJsonEnum(od::value v, std::optional<int64_t>* number, std::string_view* name) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return;
  if (type == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) return;
    int64_t n = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
      *number = n;
    } else {
      *name = s;
    }
  } else if (type == od::json_type::number) {
    int64_t n = 0;
    if (v.get_int64().get(n) == simdjson::SUCCESS) *number = n;
  }
}

// Decodes a JSON id of n bytes into `out`; the reason for a bad one is appended to *reason.
// `required` ids must be present and non-zero.
bool DecodeJsonIdChecked(std::string_view text, std::string_view what, bool required, uint8_t* out,
                         size_t n, std::string* reason) {
  if (!DecodeJsonId(text, out, n)) {
    std::string shown;
    AssignUtf8(text.substr(0, 64), &shown);
    *reason = "invalid " + std::string(what) + " \"" + shown + "\" (want " + std::to_string(2 * n) +
              " hex digits)";
    return false;
  }
  if (!required) return true;
  if (text.empty()) {
    *reason = std::string(what) + " is missing";
    return false;
  }
  bool zero = true;
  for (size_t i = 0; i < n && zero; ++i) zero = out[i] == 0;
  if (zero) {
    *reason = std::string(what) + " is all zeros";
    return false;
  }
  return true;
}

class JsonDecoder {
 public:
  JsonDecoder(std::string_view body, model::SpanBatch* out)
      : body_(body), sink_(MakeSink(body, out)) {}

  Status Run() {
    Status st = ForEachJsonRequestElement(
        body_, "resourceSpans", "resource_spans",
        [&](od::value rs) { return DecodeResourceSpans(rs).Annotate("resourceSpans"); });
    if (!st.ok() && st.code() == Code::kInvalidArgument) st = st.Annotate("otlp json");
    return sink_.Done(std::move(st));
  }

 private:
  Status DecodeResourceSpans(od::value v) {
    const size_t begin = sink_.size();
    ResourceInfo res;
    SL_RETURN_IF_ERROR(WalkJsonResource(
        v, kTraces, [&] { return sink_.size(); },
        [&](std::string key, Any* value) { res.Add(std::move(key), value); },
        [&](od::value item) { return DecodeSpan(item); },
        [&](size_t first, const ScopeInfo& scope) { return FinishScope(first, scope, &sink_); }));
    res.Finish();
    return FinishResource(begin, res, &sink_);
  }

  Status DecodeSpan(od::value v) {
    int64_t ordinal = 0;
    Span* span_ptr = nullptr;
    SL_RETURN_IF_ERROR(sink_.Next(&span_ptr, &ordinal));
    Span& span = *span_ptr;
    std::string_view trace_id, span_id, parent_span_id;
    uint32_t bad_links = 0;
    SL_RETURN_IF_ERROR(ForEachMember(v, "span", [&](std::string_view key, od::value m) {
      std::string_view text;
      uint64_t u = 0;
      if (Is(key, "traceId", "trace_id")) return GetString(m, key, &trace_id);
      if (Is(key, "spanId", "span_id")) return GetString(m, key, &span_id);
      if (Is(key, "parentSpanId", "parent_span_id")) return GetString(m, key, &parent_span_id);
      if (Is(key, "traceState", "trace_state")) {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        span.trace_state.assign(text);
        return Status::OK();
      }
      if (key == "name") {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        span.name.assign(text);
        return Status::OK();
      }
      if (key == "flags") return GetUint32(m, key, &span.flags);
      if (key == "kind") {
        std::optional<int64_t> n;
        ReadJsonEnum(m, &n, &text);
        if (n) {
          span.kind = KindFromNumber(*n);
        } else if (!text.empty()) {
          model::SpanKindFromText(text, &span.kind);
        }
        return Status::OK();
      }
      if (Is(key, "startTimeUnixNano", "start_time_unix_nano")) {
        SL_RETURN_IF_ERROR(GetUint64(m, key, &u));
        span.start_ns = TimeNs(u);
        return Status::OK();
      }
      if (Is(key, "endTimeUnixNano", "end_time_unix_nano")) {
        SL_RETURN_IF_ERROR(GetUint64(m, key, &u));
        span.end_ns = TimeNs(u);
        return Status::OK();
      }
      if (key == "attributes") {
        return ForEachElement(m, key, [&](od::value kv) {
          return DecodeJsonAttribute(kv, &span.attrs).Annotate("attributes");
        });
      }
      if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return GetUint32(m, key, &span.dropped_attrs);
      }
      if (key == "events") {
        return ForEachElement(
            m, key, [&](od::value e) { return DecodeEvent(e, &span).Annotate("events"); });
      }
      if (Is(key, "droppedEventsCount", "dropped_events_count")) {
        return GetUint32(m, key, &span.dropped_events);
      }
      if (key == "links") {
        return ForEachElement(m, key, [&](od::value l) {
          return DecodeLink(l, &span, &bad_links).Annotate("links");
        });
      }
      if (Is(key, "droppedLinksCount", "dropped_links_count")) {
        return GetUint32(m, key, &span.dropped_links);
      }
      if (key == "status") return DecodeStatus(m, &span).Annotate("status");
      return Status::OK();
    }));
    std::string reason;
    if (!DecodeJsonIdChecked(trace_id, "traceId", true, span.trace_id.bytes.data(), 16, &reason) ||
        !DecodeJsonIdChecked(span_id, "spanId", true, span.span_id.bytes.data(), 8, &reason) ||
        !DecodeJsonIdChecked(parent_span_id, "parentSpanId", false,
                             span.parent_span_id.bytes.data(), 8, &reason)) {
      sink_.Reject(SpanPrefix(ordinal) + reason);
      return Status::OK();
    }
    span.dropped_links = SaturatingAdd(span.dropped_links, bad_links);
    model::DedupeAttributes(&span.attrs);
    return Status::OK();
  }

  Status DecodeEvent(od::value v, Span* span) {
    SL_RETURN_IF_ERROR(sink_.Charge(sizeof(SpanEvent)));
    SpanEvent& ev = span->events.emplace_back();
    SL_RETURN_IF_ERROR(ForEachMember(v, "event", [&](std::string_view key, od::value m) {
      if (Is(key, "timeUnixNano", "time_unix_nano")) {
        uint64_t u = 0;
        SL_RETURN_IF_ERROR(GetUint64(m, key, &u));
        ev.time_ns = TimeNs(u);
        return Status::OK();
      }
      if (key == "name") {
        std::string_view text;
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        ev.name.assign(text);
        return Status::OK();
      }
      if (key == "attributes") {
        return ForEachElement(m, key, [&](od::value kv) {
          return DecodeJsonAttribute(kv, &ev.attrs).Annotate("attributes");
        });
      }
      if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return GetUint32(m, key, &ev.dropped_attrs);
      }
      return Status::OK();
    }));
    model::DedupeAttributes(&ev.attrs);
    return sink_.Charge(ev.name.size() + AttrBytes(ev.attrs));
  }

  // A link with missing or invalid ids is dropped and counted in *bad_links.
  Status DecodeLink(od::value v, Span* span, uint32_t* bad_links) {
    SL_RETURN_IF_ERROR(sink_.Charge(sizeof(SpanLink)));
    SpanLink& link = span->links.emplace_back();
    std::string_view trace_id, span_id;
    SL_RETURN_IF_ERROR(ForEachMember(v, "link", [&](std::string_view key, od::value m) {
      if (Is(key, "traceId", "trace_id")) return GetString(m, key, &trace_id);
      if (Is(key, "spanId", "span_id")) return GetString(m, key, &span_id);
      if (Is(key, "traceState", "trace_state")) {
        std::string_view text;
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        link.trace_state.assign(text);
        return Status::OK();
      }
      if (key == "attributes") {
        return ForEachElement(m, key, [&](od::value kv) {
          return DecodeJsonAttribute(kv, &link.attrs).Annotate("attributes");
        });
      }
      if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        uint32_t ignored = 0;  // the model keeps no per-link count; still validated
        return GetUint32(m, key, &ignored);
      }
      if (key == "flags") return GetUint32(m, key, &link.flags);
      return Status::OK();
    }));
    std::string reason;
    if (!DecodeJsonIdChecked(trace_id, "traceId", true, link.trace_id.bytes.data(), 16, &reason) ||
        !DecodeJsonIdChecked(span_id, "spanId", true, link.span_id.bytes.data(), 8, &reason)) {
      span->links.pop_back();
      ++*bad_links;
      return Status::OK();
    }
    model::DedupeAttributes(&link.attrs);
    return sink_.Charge(link.trace_state.size() + AttrBytes(link.attrs));
  }

  static Status DecodeStatus(od::value v, Span* span) {
    return ForEachMember(v, "status", [&](std::string_view key, od::value m) {
      std::string_view text;
      if (key == "message") {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        span->status_message.assign(text);
      } else if (key == "code") {
        std::optional<int64_t> n;
        ReadJsonEnum(m, &n, &text);
        if (n) {
          span->status_code = StatusCodeFromNumber(*n);
        } else if (!text.empty()) {
          StatusCodeFromText(text, &span->status_code);
        }
      }
      return Status::OK();
    });
  }

  std::string_view body_;
  Sink sink_;
};

}  // namespace

Status DecodeOtlpTracesProto(std::string_view body, int64_t now_ns, model::SpanBatch* out) {
  return ProtoDecoder(body, out).Run();
}

Status DecodeOtlpTracesJson(std::string_view body, int64_t now_ns, model::SpanBatch* out) {
  return JsonDecoder(body, out).Run();
}

std::string EncodeTracesResponseProto(int64_t rejected, std::string_view error_message) {
  return EncodePartialSuccessProto(rejected, error_message);
}

std::string EncodeTracesResponseJson(int64_t rejected, std::string_view error_message) {
  return EncodePartialSuccessJson("rejectedSpans", rejected, error_message);
}

}  // namespace sightline::ingest
