#include "ingest/zipkin.h"

#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ingest/otlp_common.h"

namespace sightline::ingest {
namespace {

namespace od = simdjson::ondemand;
using model::Attribute;
using model::AttrValue;
using model::Span;
using model::SpanKind;
using model::StatusCode;
using otlp_internal::AppendRepairedUtf8;
using otlp_internal::ForEachElement;
using otlp_internal::ForEachMember;
using otlp_internal::GetString;
using otlp_internal::JsonError;
using otlp_internal::ProtoField;
using otlp_internal::ProtoReader;

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxMicros = kMaxInt64 / 1000;  // largest µs value whose ns fit int64

// ---------------------------------------------------------------------------------------
// Text helpers.

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes 1..2n hex digits into n bytes, left-padding with zeros (Zipkin's own rule).
bool DecodePaddedHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.empty() || hex.size() > 2 * n) return false;
  std::fill(out, out + n, 0);
  size_t nibble = 0;  // counted from the least significant end
  for (size_t i = hex.size(); i-- > 0; ++nibble) {
    const int v = HexDigit(hex[i]);
    if (v < 0) return false;
    out[n - 1 - nibble / 2] |= static_cast<uint8_t>(nibble % 2 ? v << 4 : v);
  }
  return true;
}

// "ERROR", "ok", "STATUS_CODE_UNSET", ... -> *code; false for anything else.
bool ParseStatusCode(std::string_view text, StatusCode* code) {
  constexpr std::string_view kPrefix = "status_code_";
  if (text.size() > kPrefix.size() && EqualsIgnoreCase(text.substr(0, kPrefix.size()), kPrefix)) {
    text.remove_prefix(kPrefix.size());
  }
  if (EqualsIgnoreCase(text, "error")) {
    *code = StatusCode::kError;
  } else if (EqualsIgnoreCase(text, "ok")) {
    *code = StatusCode::kOk;
  } else if (EqualsIgnoreCase(text, "unset")) {
    *code = StatusCode::kUnset;
  } else {
    return false;
  }
  return true;
}

bool ParseUint32(std::string_view s, uint32_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// OpenTelemetry resource attributes that SDK Zipkin exporters copy into every span's tags.
bool IsResourceKey(std::string_view key) {
  static constexpr std::string_view kPrefixes[] = {
      "service.", "telemetry.", "host.",       "os.",     "process.",   "container.",
      "k8s.",     "cloud.",     "deployment.", "device.", "webengine.", "browser.",
  };
  static constexpr std::string_view kKeys[] = {"faas.name", "faas.version", "faas.instance",
                                               "faas.max_memory"};
  for (std::string_view p : kPrefixes) {
    if (key.starts_with(p)) return true;
  }
  for (std::string_view k : kKeys) {
    if (key == k) return true;
  }
  return false;
}

// Appends key=value unless `attrs` already has `key`.
void AddIfMissing(std::string_view key, AttrValue value, std::vector<Attribute>* attrs) {
  for (const Attribute& a : *attrs) {
    if (a.key == key) return;
  }
  attrs->push_back(Attribute{std::string(key), std::move(value)});
}

// ---------------------------------------------------------------------------------------
// A span as read from either encoding, before mapping. Views point into the request body,
// the JSON parser's string buffer, or RawSpan::owned.

struct RawEndpoint {
  std::string_view service_name;
  std::string ipv4, ipv6;  // text
  int64_t port = 0;

  void Clear() {
    service_name = {};
    ipv4.clear();
    ipv6.clear();
    port = 0;
  }
  std::string_view ip() const { return ipv4.empty() ? ipv6 : ipv4; }
  bool has_port() const { return port >= 1 && port <= 65535; }
};

struct RawAnnotation {
  int64_t time_ns = 0;  // 0 = absent or out of range
  std::string_view value;
};

struct RawTag {
  std::string_view key, value;
};

struct RawSpan {
  std::string_view name;
  SpanKind kind = SpanKind::kInternal;
  int64_t timestamp_ns = 0;  // 0 = absent
  int64_t duration_ns = 0;
  bool timestamp_bad = false;  // negative or past int64 nanoseconds
  bool duration_bad = false;
  bool debug = false, shared = false;
  RawEndpoint local, remote;
  std::vector<RawAnnotation> annotations;
  std::vector<RawTag> tags;
  std::deque<std::string> owned;  // repaired strings (a deque keeps views stable)

  void Clear() {
    name = {};
    kind = SpanKind::kInternal;
    timestamp_ns = duration_ns = 0;
    timestamp_bad = duration_bad = debug = shared = false;
    local.Clear();
    remote.Clear();
    annotations.clear();
    tags.clear();
    owned.clear();
  }

  // `in` if it is valid UTF-8, else a repaired copy owned by this span.
  std::string_view Utf8(std::string_view in) {
    if (simdjson::validate_utf8(in.data(), in.size())) return in;
    std::string& s = owned.emplace_back();
    AppendRepairedUtf8(in, &s);
    return s;
  }
};

// Zipkin microseconds -> nanoseconds. 0 stays "absent"; negative or too large is bad.
void SetMicros(int64_t us, int64_t* ns, bool* bad) {
  if (us < 0 || us > kMaxMicros) {
    *bad = true;
  } else {
    *ns = us * 1000;
  }
}
void SetMicros(uint64_t us, int64_t* ns, bool* bad) {
  if (us > static_cast<uint64_t>(kMaxMicros)) {
    *bad = true;
  } else {
    *ns = static_cast<int64_t>(us) * 1000;
  }
}
// Fractional microseconds, as the OpenTelemetry JS exporter sends start timestamps.
void SetMicros(double us, int64_t* ns, bool* bad) {
  if (!(us >= 0) || us >= static_cast<double>(kMaxMicros)) {
    *bad = true;
    return;
  }
  const double whole = std::floor(us);
  *ns = static_cast<int64_t>(whole) * 1000 + std::llround((us - whole) * 1000);
}

// Maps everything but the ids onto *span. Returns false, with *why, if the span must be
// rejected.
bool BuildSpan(const RawSpan& raw, int64_t now_ns, Span* span, std::string* why) {
  if (raw.timestamp_bad) {
    *why = "timestamp out of range";
    return false;
  }
  if (raw.duration_bad) {
    *why = "duration out of range";
    return false;
  }
  int64_t start = raw.timestamp_ns;
  if (start == 0) {
    start = now_ns;
    bool found = false;
    for (const RawAnnotation& a : raw.annotations) {
      if (a.time_ns > 0 && (!found || a.time_ns < start)) start = a.time_ns, found = true;
    }
  }
  if (start > 0 && raw.duration_ns > kMaxInt64 - start) {
    *why = "timestamp + duration out of range";
    return false;
  }
  span->start_ns = start;
  span->end_ns = start + raw.duration_ns;
  span->name.assign(raw.name);
  span->kind = raw.kind;

  span->events.reserve(raw.annotations.size());
  for (const RawAnnotation& a : raw.annotations) {
    model::SpanEvent& ev = span->events.emplace_back();
    ev.time_ns = a.time_ns > 0 ? a.time_ns : start;
    ev.name.assign(a.value);
  }

  // Tags. The last occurrence of a conventional tag wins, as for plain attributes.
  const RawTag* status_code = nullptr;
  const RawTag* status_description = nullptr;
  const RawTag* error = nullptr;
  std::string_view scope_name, library_name, scope_version, library_version, service_tag;
  bool has_scope_name = false, has_scope_version = false;
  span->attrs.reserve(raw.tags.size() + 5);
  std::vector<Attribute> resource_attrs;
  for (const RawTag& t : raw.tags) {
    const std::string_view k = t.key;
    uint32_t n = 0;
    if (k.empty()) continue;
    if (k == "otel.status_code") {
      status_code = &t;
    } else if (k == "otel.status_description") {
      status_description = &t;
    } else if (k == "error") {
      error = &t;
    } else if (k == "otel.scope.name") {
      scope_name = t.value, has_scope_name = true;
    } else if (k == "otel.library.name") {
      library_name = t.value;
    } else if (k == "otel.scope.version") {
      scope_version = t.value, has_scope_version = true;
    } else if (k == "otel.library.version") {
      library_version = t.value;
    } else if (k == "w3c.tracestate") {
      span->trace_state.assign(t.value);
    } else if (k == "service.name") {
      service_tag = t.value;
    } else if (k == "otel.dropped_attributes_count" && ParseUint32(t.value, &n)) {
      span->dropped_attrs = n;
    } else if (k == "otel.dropped_events_count" && ParseUint32(t.value, &n)) {
      span->dropped_events = n;
    } else if (k == "otel.dropped_links_count" && ParseUint32(t.value, &n)) {
      span->dropped_links = n;
    } else {
      std::vector<Attribute>& dst = IsResourceKey(k) ? resource_attrs : span->attrs;
      dst.push_back(Attribute{std::string(k), AttrValue::String(t.value)});
    }
  }
  model::DedupeAttributes(&span->attrs);
  model::DedupeAttributes(&resource_attrs);
  span->scope_name.assign(has_scope_name ? scope_name : library_name);
  span->scope_version.assign(has_scope_version ? scope_version : library_version);

  StatusCode code = StatusCode::kUnset;
  std::string_view message;
  if (status_code != nullptr) ParseStatusCode(status_code->value, &code);
  if (error != nullptr && !EqualsIgnoreCase(error->value, "false")) {
    code = StatusCode::kError;
    if (!error->value.empty() && !EqualsIgnoreCase(error->value, "true")) message = error->value;
  }
  if (code == StatusCode::kError) {
    if (message.empty() && status_description != nullptr) message = status_description->value;
    span->status_message.assign(message);
  }
  span->status_code = code;

  span->service.assign(raw.local.service_name.empty() ? service_tag : raw.local.service_name);
  if (!raw.local.ip().empty()) {
    AddIfMissing("net.host.ip", AttrValue::String(raw.local.ip()), &resource_attrs);
  }
  if (raw.local.has_port()) {
    AddIfMissing("net.host.port", AttrValue::Int(raw.local.port), &resource_attrs);
  }
  if (!raw.remote.service_name.empty()) {
    AddIfMissing("peer.service", AttrValue::String(raw.remote.service_name), &span->attrs);
  }
  if (!raw.remote.ip().empty()) {
    AddIfMissing("net.peer.ip", AttrValue::String(raw.remote.ip()), &span->attrs);
  }
  if (raw.remote.has_port()) {
    AddIfMissing("net.peer.port", AttrValue::Int(raw.remote.port), &span->attrs);
  }
  if (raw.debug) AddIfMissing("zipkin.debug", AttrValue::Bool(true), &span->attrs);
  if (raw.shared) AddIfMissing("zipkin.shared", AttrValue::Bool(true), &span->attrs);
  span->SetResourceAttrs(std::move(resource_attrs));
  return true;
}

// A parent id equal to the span's own id is dropped (the OTel Collector does the same).
void FixParent(Span* span) {
  if (span->parent_span_id == span->span_id) span->parent_span_id = model::SpanId();
}

using Sink = otlp_internal::BatchSink<Span>;
constexpr Sink::Limits kSinkLimits{kMaxZipkinSpans, "spans", "spans"};

std::string RejectReason(int64_t ordinal, std::string_view why) {
  return "span " + std::to_string(ordinal) + ": " + std::string(why);
}

// ---------------------------------------------------------------------------------------
// JSON.

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A JSON integer simdjson cannot hold in 64 bits: well-formed, just out of range.
bool IsBigJsonInteger(std::string_view tok) {
  if (tok.starts_with('-')) tok.remove_prefix(1);
  return tok.size() >= 19 && tok.front() != '0' &&
         tok.find_first_not_of("0123456789") == std::string_view::npos;
}

const char* JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "?";
}

// A time in microseconds: an integer or fractional JSON number, or a decimal string.
// Values that are negative or do not fit int64 nanoseconds set *bad.
Status GetMicros(od::value v, std::string_view where, int64_t* ns, bool* bad) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::string) {
    std::string_view s;
    SL_RETURN_IF_ERROR(GetString(v, where, &s));
    int64_t i = 0;
    double d = 0;
    if (auto r = std::from_chars(s.data(), s.data() + s.size(), i);
        r.ec == std::errc() && r.ptr == s.data() + s.size()) {
      SetMicros(i, ns, bad);
    } else if (auto r2 = std::from_chars(s.data(), s.data() + s.size(), d);
               !s.empty() && r2.ptr == s.data() + s.size() &&
               (r2.ec == std::errc() || r2.ec == std::errc::result_out_of_range)) {
      SetMicros(r2.ec == std::errc() ? d : std::numeric_limits<double>::infinity(), ns, bad);
    } else {
      return InvalidArgument(std::string(where) + ": not a number of microseconds");
    }
    return Status::OK();
  }
  const std::string_view tok = TrimJsonSpace(v.raw_json_token());
  od::number num;
  if (auto e = v.get_number().get(num)) {
    if (e == simdjson::NUMBER_ERROR && IsBigJsonInteger(tok)) {
      *bad = true;
      return Status::OK();
    }
    return JsonError(e, where);
  }
  switch (num.get_number_type()) {
    case od::number_type::signed_integer:
      SetMicros(num.get_int64(), ns, bad);
      break;
    case od::number_type::unsigned_integer:
      SetMicros(num.get_uint64(), ns, bad);
      break;
    case od::number_type::floating_point_number:
      SetMicros(num.get_double(), ns, bad);
      break;
  }
  return Status::OK();
}

class JsonDecoder {
 public:
  JsonDecoder(std::string_view body, int64_t now_ns, model::SpanBatch* out)
      : body_(body),
        now_ns_(now_ns),
        sink_(body, kSinkLimits, &out->spans, &out->rejected, &out->reject_reason) {}

  Status Run() {
    Status st = DecodeBody();
    if (!st.ok() && st.code() == Code::kInvalidArgument) st = st.Annotate("zipkin json");
    return sink_.Done(std::move(st));
  }

 private:
  Status DecodeBody() {
    const simdjson::padded_string padded(body_);
    od::parser parser;
    od::document doc;
    simdjson::error_code e = parser.iterate(padded).get(doc);
    if (e == simdjson::EMPTY) return Status::OK();
    if (e) return JsonError(e, "body");
    od::json_type type;
    if ((e = doc.type().get(type))) return JsonError(e, "body");
    if (type != od::json_type::array) {
      return InvalidArgument(std::string("body must be a JSON array of Zipkin v2 spans, found ") +
                             JsonTypeName(type));
    }
    od::array spans;
    if ((e = doc.get_array().get(spans))) return JsonError(e, "body");
    for (auto elem_or : spans) {
      od::value elem;
      if ((e = std::move(elem_or).get(elem))) return JsonError(e, "body");
      bool is_null = false;
      if ((e = elem.is_null().get(is_null))) return JsonError(e, "body");
      if (is_null) continue;
      Span* span = nullptr;
      int64_t ordinal = 0;
      SL_RETURN_IF_ERROR(sink_.Next(&span, &ordinal));
      if (Status st = DecodeSpan(elem, ordinal, span); !st.ok()) {
        return st.Annotate("span " + std::to_string(ordinal));
      }
    }
    const char* at = nullptr;
    if (doc.current_location().get(at) == simdjson::SUCCESS) {
      return InvalidArgument("trailing content after the array");
    }
    return Status::OK();
  }

  Status DecodeSpan(od::value v, int64_t ordinal, Span* span) {
    od::json_type type;
    if (auto e = v.type().get(type)) return JsonError(e, "span");
    if (type != od::json_type::object) {
      return InvalidArgument(std::string("want an object, found ") + JsonTypeName(type));
    }
    RawSpan& raw = raw_;
    raw.Clear();
    std::string_view trace_id, id, parent_id;
    SL_RETURN_IF_ERROR(ForEachMember(v, "span", [&](std::string_view key, od::value m) {
      if (key == "traceId") return GetString(m, key, &trace_id);
      if (key == "id") return GetString(m, key, &id);
      if (key == "parentId") return GetString(m, key, &parent_id);
      if (key == "name") return GetString(m, key, &raw.name);
      if (key == "kind") {
        std::string_view kind;
        SL_RETURN_IF_ERROR(GetString(m, key, &kind));
        if (!model::SpanKindFromText(kind, &raw.kind)) raw.kind = SpanKind::kUnspecified;
        return Status::OK();
      }
      if (key == "timestamp") return GetMicros(m, key, &raw.timestamp_ns, &raw.timestamp_bad);
      if (key == "duration") return GetMicros(m, key, &raw.duration_ns, &raw.duration_bad);
      if (key == "debug") return GetBool(m, key, &raw.debug);
      if (key == "shared") return GetBool(m, key, &raw.shared);
      if (key == "localEndpoint") return DecodeEndpoint(m, key, &raw.local);
      if (key == "remoteEndpoint") return DecodeEndpoint(m, key, &raw.remote);
      if (key == "annotations") return DecodeAnnotations(m);
      if (key == "tags") return DecodeTags(m);
      if (key == "binaryAnnotations") {
        return InvalidArgument("binaryAnnotations is Zipkin v1; only v2 spans are accepted");
      }
      return Status::OK();
    }));

    std::string why;
    if (trace_id.empty()) {
      why = "missing traceId";
    } else if (!DecodePaddedHex(trace_id, span->trace_id.bytes.data(), 16) ||
               span->trace_id.empty()) {
      why = "invalid traceId \"" + std::string(trace_id.substr(0, 64)) +
            "\" (want 16 or 32 hex digits, not all zero)";
    } else if (id.empty()) {
      why = "missing id";
    } else if (!DecodePaddedHex(id, span->span_id.bytes.data(), 8) || span->span_id.empty()) {
      why =
          "invalid id \"" + std::string(id.substr(0, 64)) + "\" (want 16 hex digits, not all zero)";
    } else if (!parent_id.empty() &&
               !DecodePaddedHex(parent_id, span->parent_span_id.bytes.data(), 8)) {
      why =
          "invalid parentId \"" + std::string(parent_id.substr(0, 64)) + "\" (want 16 hex digits)";
    }
    if (why.empty() && BuildSpan(raw, now_ns_, span, &why)) {
      FixParent(span);
    } else {
      sink_.Reject(RejectReason(ordinal, why));
    }
    return Status::OK();
  }

  static Status GetBool(od::value v, std::string_view where, bool* out) {
    if (auto e = v.get_bool().get(*out)) return JsonError(e, where);
    return Status::OK();
  }

  Status DecodeEndpoint(od::value v, std::string_view where, RawEndpoint* ep) {
    return ForEachMember(v, where, [&](std::string_view key, od::value m) {
      std::string_view text;
      if (key == "serviceName") return GetString(m, key, &ep->service_name);
      if (key == "ipv4" || key == "ipv6") {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        (key == "ipv4" ? ep->ipv4 : ep->ipv6).assign(text);
        return Status::OK();
      }
      if (key == "port") {
        od::number num;
        if (auto e = m.get_number().get(num)) return JsonError(e, key);
        ep->port = num.is_int64() ? num.get_int64() : 0;  // out of range: ignored
      }
      return Status::OK();
    });
  }

  Status DecodeAnnotations(od::value v) {
    return ForEachElement(v, "annotations", [&](od::value elem) {
      RawAnnotation a;
      SL_RETURN_IF_ERROR(ForEachMember(elem, "annotation", [&](std::string_view key, od::value m) {
        if (key == "value") return GetString(m, key, &a.value);
        if (key == "timestamp") {
          bool bad = false;
          SL_RETURN_IF_ERROR(GetMicros(m, key, &a.time_ns, &bad));
          if (bad) a.time_ns = 0;  // the span start is used instead
        }
        return Status::OK();
      }));
      raw_.annotations.push_back(a);
      return Status::OK();
    });
  }

  // Tag values should be strings; other JSON values are kept as their JSON text.
  Status DecodeTags(od::value v) {
    return ForEachMember(v, "tags", [&](std::string_view key, od::value m) {
      od::json_type type;
      if (auto e = m.type().get(type)) return JsonError(e, key);
      RawTag t{key, {}};
      if (type == od::json_type::string) {
        SL_RETURN_IF_ERROR(GetString(m, key, &t.value));
      } else if (type == od::json_type::array) {
        od::array arr;
        if (auto e = m.get_array().get(arr)) return JsonError(e, key);
        if (auto e = arr.raw_json().get(t.value)) return JsonError(e, key);
      } else if (type == od::json_type::object) {
        od::object obj;
        if (auto e = m.get_object().get(obj)) return JsonError(e, key);
        if (auto e = obj.raw_json().get(t.value)) return JsonError(e, key);
      } else {
        t.value = TrimJsonSpace(m.raw_json_token());
        if (type == od::json_type::number) {
          od::number num;  // validates the token
          if (auto e = m.get_number().get(num); e && !IsBigJsonInteger(t.value)) {
            return JsonError(e, key);
          }
        } else {
          bool b;
          if (auto e = m.get_bool().get(b)) return JsonError(e, key);
        }
      }
      raw_.tags.push_back(t);
      return Status::OK();
    });
  }

  std::string_view body_;
  int64_t now_ns_;
  Sink sink_;
  RawSpan raw_;
};

// ---------------------------------------------------------------------------------------
// Protobuf (zipkin.proto).

class ProtoDecoder {
 public:
  ProtoDecoder(std::string_view body, int64_t now_ns, model::SpanBatch* out)
      : body_(body),
        now_ns_(now_ns),
        sink_(body, kSinkLimits, &out->spans, &out->rejected, &out->reject_reason) {}

  Status Run() {
    Status st = DecodeList();
    if (!st.ok() && st.code() == Code::kInvalidArgument) st = st.Annotate("zipkin proto");
    return sink_.Done(std::move(st));
  }

 private:
  Status DecodeList() {
    ProtoReader r(body_);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number != 1 || f.wire_type != 2) continue;
      Span* span = nullptr;
      int64_t ordinal = 0;
      SL_RETURN_IF_ERROR(sink_.Next(&span, &ordinal));
      if (Status st = DecodeSpan(f.bytes, ordinal, span); !st.ok()) {
        return st.Annotate("span " + std::to_string(ordinal));
      }
    }
    return Status::OK();
  }

  Status DecodeSpan(std::string_view bytes, int64_t ordinal, Span* span) {
    RawSpan& raw = raw_;
    raw.Clear();
    std::string_view trace_id, id, parent_id;
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
          if (len) parent_id = f.bytes;
          break;
        case 3:
          if (len) id = f.bytes;
          break;
        case 4:
          if (varint) raw.kind = KindFromProto(f.value);
          break;
        case 5:
          if (len) raw.name = raw.Utf8(f.bytes);
          break;
        case 6:
          if (f.wire_type == 1) SetMicros(f.value, &raw.timestamp_ns, &raw.timestamp_bad);
          break;
        case 7:
          if (varint) SetMicros(f.value, &raw.duration_ns, &raw.duration_bad);
          break;
        case 8:
        case 9:
          if (len) {
            RawEndpoint* ep = f.number == 8 ? &raw.local : &raw.remote;
            if (Status st = DecodeEndpoint(f.bytes, ep); !st.ok()) {
              return st.Annotate(f.number == 8 ? "local_endpoint" : "remote_endpoint");
            }
          }
          break;
        case 10:
          if (len) SL_RETURN_IF_ERROR(DecodeAnnotation(f.bytes).Annotate("annotations"));
          break;
        case 11:
          if (len) SL_RETURN_IF_ERROR(DecodeTag(f.bytes).Annotate("tags"));
          break;
        case 12:
          if (varint) raw.debug = f.value != 0;
          break;
        case 13:
          if (varint) raw.shared = f.value != 0;
          break;
        default:
          break;
      }
    }

    std::string why;
    if (trace_id.empty()) {
      why = "missing trace_id";
    } else if (trace_id.size() != 16 && trace_id.size() != 8) {
      why = "trace_id is " + std::to_string(trace_id.size()) + " bytes, want 16 or 8";
    } else if (id.size() != 8) {
      why = id.empty() ? "missing id" : "id is " + std::to_string(id.size()) + " bytes, want 8";
    } else if (!parent_id.empty() && parent_id.size() != 8) {
      why = "parent_id is " + std::to_string(parent_id.size()) + " bytes, want 8";
    } else {
      std::memcpy(span->trace_id.bytes.data() + 16 - trace_id.size(), trace_id.data(),
                  trace_id.size());
      std::memcpy(span->span_id.bytes.data(), id.data(), 8);
      if (!parent_id.empty()) std::memcpy(span->parent_span_id.bytes.data(), parent_id.data(), 8);
      if (span->trace_id.empty()) {
        why = "trace_id is all zeros";
      } else if (span->span_id.empty()) {
        why = "id is all zeros";
      }
    }
    if (why.empty() && BuildSpan(raw, now_ns_, span, &why)) {
      FixParent(span);
    } else {
      sink_.Reject(RejectReason(ordinal, why));
    }
    return Status::OK();
  }

  static SpanKind KindFromProto(uint64_t v) {
    switch (v) {
      case 0:
        return SpanKind::kInternal;  // SPAN_KIND_UNSPECIFIED: a local span
      case 1:
        return SpanKind::kClient;
      case 2:
        return SpanKind::kServer;
      case 3:
        return SpanKind::kProducer;
      case 4:
        return SpanKind::kConsumer;
      default:
        return SpanKind::kUnspecified;
    }
  }

  Status DecodeEndpoint(std::string_view bytes, RawEndpoint* ep) {
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 1 && f.wire_type == 2) {
        ep->service_name = raw_.Utf8(f.bytes);
      } else if (f.number == 2 && f.wire_type == 2 && f.bytes.size() == 4) {
        const auto* b = reinterpret_cast<const uint8_t*>(f.bytes.data());
        char buf[16];
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        ep->ipv4 = buf;
      } else if (f.number == 3 && f.wire_type == 2 && f.bytes.size() == 16) {
        char buf[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, f.bytes.data(), buf, sizeof buf) != nullptr) ep->ipv6 = buf;
      } else if (f.number == 4 && f.wire_type == 0) {
        ep->port = static_cast<int32_t>(f.value);  // int32, sign-extended on the wire
      }
    }
    return Status::OK();
  }

  Status DecodeAnnotation(std::string_view bytes) {
    RawAnnotation a;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 1 && f.wire_type == 1) {
        bool bad = false;
        a.time_ns = 0;
        SetMicros(f.value, &a.time_ns, &bad);
      } else if (f.number == 2 && f.wire_type == 2) {
        a.value = raw_.Utf8(f.bytes);
      }
    }
    raw_.annotations.push_back(a);
    return Status::OK();
  }

  // A map<string, string> entry.
  Status DecodeTag(std::string_view bytes) {
    RawTag t;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.wire_type != 2) continue;
      if (f.number == 1) t.key = raw_.Utf8(f.bytes);
      if (f.number == 2) t.value = raw_.Utf8(f.bytes);
    }
    raw_.tags.push_back(t);
    return Status::OK();
  }

  std::string_view body_;
  int64_t now_ns_;
  Sink sink_;
  RawSpan raw_;
};

}  // namespace

Status DecodeZipkinJson(std::string_view body, int64_t now_ns, model::SpanBatch* out) {
  return JsonDecoder(body, now_ns, out).Run();
}

Status DecodeZipkinProto(std::string_view body, int64_t now_ns, model::SpanBatch* out) {
  return ProtoDecoder(body, now_ns, out).Run();
}

}  // namespace sightline::ingest
