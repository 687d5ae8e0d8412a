#include "ingest/otlp_logs.h"

#include <simdjson.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/coding.h"

namespace sightline::ingest {
namespace {

namespace od = simdjson::ondemand;
using model::Attribute;
using model::AttrValue;
using model::LogRecord;

// ---------------------------------------------------------------------------------------
// Text helpers.


void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// proto3 JSON: finite doubles as numbers, the others as the strings "NaN", "Infinity", ...
void AppendJsonDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("\"NaN\"");
  } else if (std::isinf(d)) {
    out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    out->append(buf, r.ptr);
  }
}

void AppendBase64(std::string_view in, std::string* out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                          kAlphabet[v & 63]};
    out->append(quad, 4);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = p[i] << 16;
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    out->append(quad, 4);
  } else if (i + 2 == in.size()) {
    const uint32_t v = p[i] << 16 | p[i + 1] << 8;
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                          '='};
    out->append(quad, 4);
  }
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Decodes base64 (standard or URL alphabet, padding optional) that must yield exactly n bytes.
bool DecodeBase64Exact(std::string_view in, uint8_t* out, size_t n) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() * 6 / 8 != n || in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t w = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[w++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  return w == n;
}

// Appends `in`, replacing each byte that does not start a valid UTF-8 sequence with U+FFFD.
void AppendRepairedUtf8(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Sequence length, payload bits of the lead byte, and the smallest code point that needs
    // this length (anything below is an overlong encoding).
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
      min = 0x10000;
    }
    bool valid = len > 0 && i + len <= in.size();
    for (size_t k = 1; valid && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(in[i + k]);
      valid = (cc & 0xC0) == 0x80;
      cp = cp << 6 | (cc & 0x3F);
    }
    valid = valid && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (valid) {
      out->append(in.data() + i, len);
      i += len;
    } else {
      out->append("\xEF\xBF\xBD");
      ++i;
    }
  }
}

void AssignUtf8(std::string_view in, std::string* out) {
  if (simdjson::validate_utf8(in.data(), in.size())) {
    out->assign(in);
  } else {
    out->clear();
    AppendRepairedUtf8(in, out);
  }
}

// ---------------------------------------------------------------------------------------
// Attribute helpers.


// Appends the attributes of `src` (keys unique) whose keys `dst` lacks.
void AddMissing(const std::vector<Attribute>& src, std::vector<Attribute>* dst) {
  if (src.empty()) return;
  const size_t n = dst->size();
  if (n * src.size() <= 256) {
    for (const Attribute& a : src) {
      bool found = false;
      for (size_t i = 0; i < n && !found; ++i) found = (*dst)[i].key == a.key;
      if (!found) dst->push_back(a);
    }
    return;
  }
  dst->reserve(n + src.size());  // no reallocation below: the views stay valid
  std::unordered_set<std::string_view> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) keys.insert((*dst)[i].key);
  for (const Attribute& a : src) {
    if (!keys.count(a.key)) dst->push_back(a);
  }
}

// Sets `key` to `value`, replacing an existing attribute of that key.
void SetAttr(std::string_view key, AttrValue value, std::vector<Attribute>* attrs) {
  for (Attribute& a : *attrs) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  attrs->push_back(Attribute{std::string(key), std::move(value)});
}

size_t AttrBytes(const Attribute& a) {
  return sizeof(Attribute) + a.key.size() + a.value.str.size();
}

// ---------------------------------------------------------------------------------------
// Decoded AnyValues.

struct Any {
  enum class Kind : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kJson };
  Kind kind = Kind::kEmpty;
  std::string str;  // kString: text; kBytes: base64; kJson: compact JSON (arrays, kvlists)
  int64_t i = 0;
  double d = 0;
  bool b = false;
};

void AppendAnyJson(const Any& v, std::string* out) {
  switch (v.kind) {
    case Any::Kind::kEmpty:
      out->append("null");
      break;
    case Any::Kind::kString:
    case Any::Kind::kBytes:
      JsonQuote(v.str, out);
      break;
    case Any::Kind::kBool:
      out->append(v.b ? "true" : "false");
      break;
    case Any::Kind::kInt:
      AppendInt(v.i, out);
      break;
    case Any::Kind::kDouble:
      AppendJsonDouble(v.d, out);
      break;
    case Any::Kind::kJson:
      out->append(v.str);
      break;
  }
}

// False for an empty AnyValue (the attribute is dropped).
bool AnyToAttr(Any* v, AttrValue* out) {
  switch (v->kind) {
    case Any::Kind::kEmpty:
      return false;
    case Any::Kind::kString:
    case Any::Kind::kBytes:
    case Any::Kind::kJson:
      out->type = AttrValue::Type::kString;
      out->str = std::move(v->str);
      return true;
    case Any::Kind::kBool:
      *out = AttrValue::Bool(v->b);
      return true;
    case Any::Kind::kInt:
      *out = AttrValue::Int(v->i);
      return true;
    case Any::Kind::kDouble:
      *out = AttrValue::Double(v->d);
      return true;
  }
  return false;
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
    attr_bytes = 0;
    for (const Attribute& a : attrs) attr_bytes += AttrBytes(a);
  }
};

struct ScopeInfo {
  std::string name, version;
};

// Collects decoded records into the caller's batch and undoes everything on failure.
class Sink {
 public:
  Sink(std::string_view body, model::LogBatch* out)
      : out_(out),
        first_(out->records.size()),
        fanout_limit_(kMaxOtlpExpansion * body.size() + kOtlpExpansionSlackBytes) {}

  std::vector<LogRecord>& records() { return out_->records; }
  size_t size() const { return out_->records.size(); }
  // Numbers records 1, 2, ... in request order (rejected ones included), for messages,
  // and enforces kMaxOtlpLogRecords.
  Status NextRecord(int64_t* ordinal) {
    if (ordinal_ >= static_cast<int64_t>(kMaxOtlpLogRecords)) {
      return PayloadTooLarge("more than " + std::to_string(kMaxOtlpLogRecords) +
                             " log records in one request");
    }
    *ordinal = ++ordinal_;
    return Status::OK();
  }

  void Reject(std::string reason) {
    out_->records.pop_back();
    if (rejected_++ == 0) reason_ = std::move(reason);
  }

  // Adds the scope attributes to records [begin, end).
  Status FinishScope(size_t begin, const ScopeInfo& scope) {
    if (scope.name.empty() && scope.version.empty()) return Status::OK();
    std::vector<Attribute> attrs;
    size_t bytes = 0;
    if (!scope.name.empty()) attrs.push_back({"otel.scope.name", AttrValue::String(scope.name)});
    if (!scope.version.empty()) {
      attrs.push_back({"otel.scope.version", AttrValue::String(scope.version)});
    }
    for (const Attribute& a : attrs) bytes += AttrBytes(a);
    for (size_t i = begin; i < size(); ++i) {
      SL_RETURN_IF_ERROR(Charge(bytes));
      AddMissing(attrs, &out_->records[i].attrs);
    }
    return Status::OK();
  }

  // Applies the resource to records [begin, end).
  Status FinishResource(size_t begin, const ResourceInfo& res) {
    const size_t bytes = res.attr_bytes + res.service.size() + res.env.size() + res.host.size();
    for (size_t i = begin; i < size(); ++i) {
      SL_RETURN_IF_ERROR(Charge(bytes));
      LogRecord& rec = out_->records[i];
      rec.service = res.service;
      rec.env = res.env;
      rec.host = res.host;
      AddMissing(res.attrs, &rec.attrs);
    }
    return Status::OK();
  }

  // Publishes the counts (on success) or restores the batch (on failure).
  Status Done(Status st) {
    if (!st.ok()) {
      out_->records.erase(out_->records.begin() + static_cast<ptrdiff_t>(first_),
                          out_->records.end());
      return st;
    }
    out_->rejected += rejected_;
    if (rejected_ > 0 && out_->reject_reason.empty()) out_->reject_reason = std::move(reason_);
    return st;
  }

 private:
  Status Charge(size_t bytes) {
    fanout_bytes_ += bytes;
    if (fanout_bytes_ > fanout_limit_) {
      return PayloadTooLarge("resource/scope attributes copied onto every record exceed " +
                             std::to_string(fanout_limit_) + " bytes");
    }
    return Status::OK();
  }

  model::LogBatch* out_;
  size_t first_;
  size_t fanout_limit_;
  size_t fanout_bytes_ = 0;
  int64_t ordinal_ = 0;
  int64_t rejected_ = 0;
  std::string reason_;
};

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

struct ProtoField {
  uint32_t number = 0;
  uint8_t wire_type = 0;
  uint64_t value = 0;      // wire types 0 (varint), 1 (fixed64), 5 (fixed32)
  std::string_view bytes;  // wire type 2
};

class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool done() const { return p_ == end_; }

  Status Next(ProtoField* f) {
    uint64_t tag = 0;
    SL_RETURN_IF_ERROR(ReadVarint(&tag));
    const uint64_t number = tag >> 3;
    if (number == 0 || number > (1u << 29) - 1) return Error("invalid field number");
    f->number = static_cast<uint32_t>(number);
    f->wire_type = static_cast<uint8_t>(tag & 7);
    switch (f->wire_type) {
      case 0:
        return ReadVarint(&f->value);
      case 1:
        if (end_ - p_ < 8) return Error("truncated fixed64");
        f->value = DecodeFixed64(p_);
        p_ += 8;
        return Status::OK();
      case 2: {
        uint64_t len = 0;
        SL_RETURN_IF_ERROR(ReadVarint(&len));
        if (len > static_cast<uint64_t>(end_ - p_)) return Error("length past the end");
        f->bytes = std::string_view(p_, static_cast<size_t>(len));
        p_ += len;
        return Status::OK();
      }
      case 5:
        if (end_ - p_ < 4) return Error("truncated fixed32");
        f->value = DecodeFixed32(p_);
        p_ += 4;
        return Status::OK();
      case 3:
      case 4:
        return Error("groups are not supported");
      default:
        return Error("invalid wire type " + std::to_string(f->wire_type));
    }
  }

 private:
  static Status Error(std::string_view what) { return InvalidArgument(what); }

  Status ReadVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return Error("truncated varint");
      const auto b = static_cast<uint8_t>(*p_++);
      if (i == 9 && b > 1) return Error("varint longer than 64 bits");
      result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        *v = result;
        return Status::OK();
      }
    }
    return Error("varint longer than 64 bits");  // not reached
  }

  const char* p_;
  const char* end_;
};

class ProtoDecoder {
 public:
  ProtoDecoder(std::string_view body, int64_t now_ns, model::LogBatch* out)
      : body_(body), now_ns_(now_ns), sink_(body, out) {}

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
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.wire_type != 2) continue;
      if (f.number == 1) {
        if (Status st = DecodeResource(f.bytes, &res); !st.ok()) return st.Annotate("Resource");
      } else if (f.number == 2) {
        if (Status st = DecodeScopeLogs(f.bytes); !st.ok()) return st.Annotate("ScopeLogs");
      }
    }
    res.Finish();
    return sink_.FinishResource(begin, res);
  }

  Status DecodeResource(std::string_view bytes, ResourceInfo* res) {
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number == 1 && f.wire_type == 2) {
        std::string key;
        Any value;
        SL_RETURN_IF_ERROR(DecodeKeyValue(f.bytes, 1, &key, &value));
        res->Add(std::move(key), &value);
      }
    }
    return Status::OK();
  }

  Status DecodeScopeLogs(std::string_view bytes) {
    const size_t begin = sink_.size();
    ScopeInfo scope;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.wire_type != 2) continue;
      if (f.number == 1) {
        if (Status st = DecodeScope(f.bytes, &scope); !st.ok()) return st.Annotate("Scope");
      } else if (f.number == 2) {
        if (Status st = DecodeLogRecord(f.bytes); !st.ok()) return st.Annotate("LogRecord");
      }
    }
    return sink_.FinishScope(begin, scope);
  }

  Status DecodeScope(std::string_view bytes, ScopeInfo* scope) {
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.wire_type != 2) continue;
      if (f.number == 1) AssignUtf8(f.bytes, &scope->name);
      if (f.number == 2) AssignUtf8(f.bytes, &scope->version);
    }
    return Status::OK();
  }

  Status DecodeLogRecord(std::string_view bytes) {
    int64_t ordinal = 0;
    SL_RETURN_IF_ERROR(sink_.NextRecord(&ordinal));
    LogRecord& rec = sink_.records().emplace_back();
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
            if (Status st = DecodeAnyValue(f.bytes, 1, &body); !st.ok()) {
              return st.Annotate("body");
            }
            AnyToBody(&body, &rec.body);
          }
          break;
        case 6:
          if (f.wire_type == 2) {
            Attribute& a = rec.attrs.emplace_back();
            Any value;
            if (Status st = DecodeKeyValue(f.bytes, 1, &a.key, &value); !st.ok()) {
              return st.Annotate("attributes");
            }
            if (!AnyToAttr(&value, &a.value)) rec.attrs.pop_back();
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

  Status DecodeKeyValue(std::string_view bytes, int depth, std::string* key, Any* value) {
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.wire_type != 2) continue;
      if (f.number == 1) {
        AssignUtf8(f.bytes, key);
      } else if (f.number == 2) {
        *value = Any();
        SL_RETURN_IF_ERROR(DecodeAnyValue(f.bytes, depth, value));
      }
    }
    return Status::OK();
  }

  // Decodes an AnyValue at nesting `depth` (1 = an attribute value or a body). For the oneof
  // the last member present wins.
  Status DecodeAnyValue(std::string_view bytes, int depth, Any* out) {
    if (depth > kMaxOtlpAnyValueDepth) {
      return InvalidArgument("AnyValue nesting deeper than " +
                             std::to_string(kMaxOtlpAnyValueDepth));
    }
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      switch (f.number) {
        case 1:
          if (f.wire_type != 2) break;
          out->kind = Any::Kind::kString;
          AssignUtf8(f.bytes, &out->str);
          break;
        case 2:
          if (f.wire_type != 0) break;
          out->kind = Any::Kind::kBool;
          out->b = f.value != 0;
          break;
        case 3:
          if (f.wire_type != 0) break;
          out->kind = Any::Kind::kInt;
          out->i = static_cast<int64_t>(f.value);
          break;
        case 4:
          if (f.wire_type != 1) break;
          out->kind = Any::Kind::kDouble;
          out->d = std::bit_cast<double>(f.value);
          break;
        case 5:  // ArrayValue { repeated AnyValue values = 1; }
          if (f.wire_type != 2) break;
          SL_RETURN_IF_ERROR(DecodeArrayJson(f.bytes, depth, &out->str));
          out->kind = Any::Kind::kJson;
          break;
        case 6:  // KeyValueList { repeated KeyValue values = 1; }
          if (f.wire_type != 2) break;
          SL_RETURN_IF_ERROR(DecodeKvlistJson(f.bytes, depth, &out->str));
          out->kind = Any::Kind::kJson;
          break;
        case 7:
          if (f.wire_type != 2) break;
          out->kind = Any::Kind::kBytes;
          out->str.clear();
          AppendBase64(f.bytes, &out->str);
          break;
        default:
          break;
      }
    }
    return Status::OK();
  }

  // An ArrayValue (elements at depth + 1) as compact JSON text.
  Status DecodeArrayJson(std::string_view bytes, int depth, std::string* json) {
    std::string text = "[";
    bool first = true;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number != 1 || f.wire_type != 2) continue;
      Any elem;
      SL_RETURN_IF_ERROR(DecodeAnyValue(f.bytes, depth + 1, &elem));
      if (!first) text.push_back(',');
      first = false;
      AppendAnyJson(elem, &text);
    }
    text.push_back(']');
    *json = std::move(text);
    return Status::OK();
  }

  // A KeyValueList (values at depth + 1) as a compact JSON object.
  Status DecodeKvlistJson(std::string_view bytes, int depth, std::string* json) {
    std::string text = "{";
    bool first = true;
    ProtoReader r(bytes);
    ProtoField f;
    while (!r.done()) {
      SL_RETURN_IF_ERROR(r.Next(&f));
      if (f.number != 1 || f.wire_type != 2) continue;
      std::string key;
      Any elem;
      SL_RETURN_IF_ERROR(DecodeKeyValue(f.bytes, depth + 1, &key, &elem));
      if (!first) text.push_back(',');
      first = false;
      JsonQuote(key, &text);
      text.push_back(':');
      AppendAnyJson(elem, &text);
    }
    text.push_back('}');
    *json = std::move(text);
    return Status::OK();
  }

  std::string_view body_;
  int64_t now_ns_;
  Sink sink_;
};

// ---------------------------------------------------------------------------------------
// JSON.

Status JsonError(simdjson::error_code e, std::string_view where) {
  std::string m(where);
  m += ": ";
  m += simdjson::error_message(e);
  return InvalidArgument(m);
}

// Calls fn(key, value) for each member of object `v` whose value is not null.
template <typename Fn>
Status ForEachMember(od::value v, std::string_view where, Fn&& fn) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return JsonError(e, where);
  for (auto field_or : obj) {
    od::field field;
    if (auto e = std::move(field_or).get(field)) return JsonError(e, where);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e, where);
    od::value value = field.value();
    bool is_null = false;
    if (auto e = value.is_null().get(is_null)) return JsonError(e, key);
    if (is_null) continue;
    SL_RETURN_IF_ERROR(fn(key, value));
  }
  return Status::OK();
}

// Calls fn(value) for each non-null element of array `v`.
template <typename Fn>
Status ForEachElement(od::value v, std::string_view where, Fn&& fn) {
  od::array arr;
  if (auto e = v.get_array().get(arr)) return JsonError(e, where);
  for (auto elem_or : arr) {
    od::value elem;
    if (auto e = std::move(elem_or).get(elem)) return JsonError(e, where);
    bool is_null = false;
    if (auto e = elem.is_null().get(is_null)) return JsonError(e, where);
    if (is_null) continue;
    SL_RETURN_IF_ERROR(fn(elem));
  }
  return Status::OK();
}

// Calls fn(value) for each element of an ArrayValue / KeyValueList: {"values":[...]}, or a
// bare [...] as some examples (opentelemetry-proto examples/events.json) write it.
template <typename Fn>
Status ForEachListValue(od::value v, std::string_view where, Fn&& fn) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::array) return ForEachElement(v, where, fn);
  return ForEachMember(v, where, [&](std::string_view key, od::value values) {
    return key == "values" ? ForEachElement(values, key, fn) : Status::OK();
  });
}

// lowerCamelCase, or the proto's snake_case spelling.
bool Is(std::string_view key, std::string_view camel, std::string_view snake) {
  return key == camel || key == snake;
}

Status GetString(od::value v, std::string_view where, std::string_view* out) {
  if (auto e = v.get_string().get(*out)) return JsonError(e, where);
  return Status::OK();
}

// A JSON string holding a whole decimal number of type T (64-bit ints are strings in OTLP/JSON).
template <typename T>
Status ParseDecimalString(od::value v, std::string_view where, std::string_view what, T* out) {
  std::string_view s;
  SL_RETURN_IF_ERROR(GetString(v, where, &s));
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty())
    return InvalidArgument(std::string(where) + ": not " + std::string(what));
  return Status::OK();
}

// An int64 as a JSON number or a decimal string.
Status GetInt64(od::value v, std::string_view where, int64_t* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::string) return ParseDecimalString(v, where, "an int64", out);
  if (auto e = v.get_int64().get(*out)) return JsonError(e, where);
  return Status::OK();
}

// A uint64 (fixed64 timestamps) as a JSON number or a decimal string.
Status GetUint64(od::value v, std::string_view where, uint64_t* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::string) return ParseDecimalString(v, where, "a uint64", out);
  od::number num;
  if (auto e = v.get_number().get(num)) return JsonError(e, where);
  if (num.is_uint64()) {
    *out = num.get_uint64();
  } else if (num.is_int64()) {
    *out = num.get_int64() < 0 ? 0 : static_cast<uint64_t>(num.get_int64());
  } else {
    const double d = num.get_double();  // e.g. 1.7e18 from a JavaScript client
    *out = d > 0 && d < 18446744073709551616.0 ? static_cast<uint64_t>(d) : 0;
  }
  return Status::OK();
}

// A double as a number or one of the strings "NaN", "Infinity", "-Infinity" (or a number).
Status GetDouble(od::value v, std::string_view where, double* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::string) {
    std::string_view s;
    SL_RETURN_IF_ERROR(GetString(v, where, &s));
    if (s == "NaN") {
      *out = std::numeric_limits<double>::quiet_NaN();
    } else if (s == "Infinity") {
      *out = std::numeric_limits<double>::infinity();
    } else if (s == "-Infinity") {
      *out = -std::numeric_limits<double>::infinity();
    } else {
      auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) {
        return InvalidArgument(std::string(where) + ": not a double");
      }
    }
    return Status::OK();
  }
  if (auto e = v.get_double().get(*out)) return JsonError(e, where);
  return Status::OK();
}

// A trace or span id: hex of 2n chars, or base64 of n bytes; "" is none.
bool DecodeJsonId(std::string_view text, uint8_t* out, size_t n) {
  if (text.empty()) return true;
  if (text.size() == 2 * n) return model::DecodeHex(text, out, n);
  return DecodeBase64Exact(text, out, n);
}

class JsonDecoder {
 public:
  JsonDecoder(std::string_view body, int64_t now_ns, model::LogBatch* out)
      : body_(body), now_ns_(now_ns), sink_(body, out) {}

  Status Run() {
    Status st = DecodeRequest();
    if (!st.ok() && st.code() == Code::kInvalidArgument) st = st.Annotate("otlp json");
    return sink_.Done(std::move(st));
  }

 private:
  Status DecodeRequest() {
    const simdjson::padded_string padded(body_);
    od::parser parser;
    od::document doc;
    simdjson::error_code e = parser.iterate(padded).get(doc);
    if (e == simdjson::EMPTY) return Status::OK();
    if (e) return JsonError(e, "request");
    od::object root;
    if ((e = doc.get_object().get(root))) return JsonError(e, "request");
    for (auto field_or : root) {
      od::field field;
      if ((e = std::move(field_or).get(field))) return JsonError(e, "request");
      std::string_view key;
      if ((e = field.unescaped_key().get(key))) return JsonError(e, "request");
      if (!Is(key, "resourceLogs", "resource_logs")) continue;
      bool is_null = false;
      if ((e = field.value().is_null().get(is_null))) return JsonError(e, key);
      if (is_null) continue;
      SL_RETURN_IF_ERROR(ForEachElement(field.value(), key, [&](od::value rl) {
        return DecodeResourceLogs(rl).Annotate("resourceLogs");
      }));
    }
    const char* at = nullptr;
    if (doc.current_location().get(at) == simdjson::SUCCESS) {
      return InvalidArgument("request: trailing content after the object");
    }
    return Status::OK();
  }

  Status DecodeResourceLogs(od::value v) {
    const size_t begin = sink_.size();
    ResourceInfo res;
    SL_RETURN_IF_ERROR(ForEachMember(v, "resourceLogs", [&](std::string_view key, od::value m) {
      if (key == "resource") {
        return ForEachMember(m, key, [&](std::string_view k2, od::value a) {
          if (k2 != "attributes") return Status::OK();
          return ForEachElement(a, k2, [&](od::value kv) {
            std::string key;
            Any value;
            SL_RETURN_IF_ERROR(DecodeKeyValue(kv, 1, &key, &value).Annotate("resource"));
            res.Add(std::move(key), &value);
            return Status::OK();
          });
        });
      }
      if (Is(key, "scopeLogs", "scope_logs")) {
        return ForEachElement(
            m, key, [&](od::value sl) { return DecodeScopeLogs(sl).Annotate("scopeLogs"); });
      }
      return Status::OK();
    }));
    res.Finish();
    return sink_.FinishResource(begin, res);
  }

  Status DecodeScopeLogs(od::value v) {
    const size_t begin = sink_.size();
    ScopeInfo scope;
    SL_RETURN_IF_ERROR(ForEachMember(v, "scopeLogs", [&](std::string_view key, od::value m) {
      if (key == "scope") {
        return ForEachMember(m, key, [&](std::string_view k2, od::value s) {
          std::string_view text;
          if (k2 == "name") {
            SL_RETURN_IF_ERROR(GetString(s, "scope.name", &text));
            scope.name.assign(text);
          } else if (k2 == "version") {
            SL_RETURN_IF_ERROR(GetString(s, "scope.version", &text));
            scope.version.assign(text);
          }
          return Status::OK();
        });
      }
      if (Is(key, "logRecords", "log_records")) {
        return ForEachElement(
            m, key, [&](od::value lr) { return DecodeLogRecord(lr).Annotate("logRecords"); });
      }
      return Status::OK();
    }));
    return sink_.FinishScope(begin, scope);
  }

  Status DecodeLogRecord(od::value v) {
    int64_t ordinal = 0;
    SL_RETURN_IF_ERROR(sink_.NextRecord(&ordinal));
    LogRecord& rec = sink_.records().emplace_back();
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
        SL_RETURN_IF_ERROR(DecodeAnyValue(m, 1, &body).Annotate("body"));
        AnyToBody(&body, &rec.body);
        return Status::OK();
      }
      if (key == "attributes") {
        return ForEachElement(m, key, [&](od::value kv) {
          Attribute& a = rec.attrs.emplace_back();
          Any value;
          SL_RETURN_IF_ERROR(DecodeKeyValue(kv, 1, &a.key, &value).Annotate("attributes"));
          if (!AnyToAttr(&value, &a.value)) rec.attrs.pop_back();
          return Status::OK();
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

  Status DecodeKeyValue(od::value v, int depth, std::string* key, Any* value) {
    return ForEachMember(v, "KeyValue", [&](std::string_view k, od::value m) {
      if (k == "key") {
        std::string_view text;
        SL_RETURN_IF_ERROR(GetString(m, "key", &text));
        key->assign(text);
      } else if (k == "value") {
        *value = Any();
        return DecodeAnyValue(m, depth, value);
      }
      return Status::OK();
    });
  }

  Status DecodeAnyValue(od::value v, int depth, Any* out) {
    if (depth > kMaxOtlpAnyValueDepth) {
      return InvalidArgument("AnyValue nesting deeper than " +
                             std::to_string(kMaxOtlpAnyValueDepth));
    }
    return ForEachMember(v, "AnyValue", [&](std::string_view key, od::value m) {
      std::string_view text;
      if (Is(key, "stringValue", "string_value")) {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        out->kind = Any::Kind::kString;
        out->str.assign(text);
      } else if (Is(key, "boolValue", "bool_value")) {
        if (auto e = m.get_bool().get(out->b)) return JsonError(e, key);
        out->kind = Any::Kind::kBool;
      } else if (Is(key, "intValue", "int_value")) {
        SL_RETURN_IF_ERROR(GetInt64(m, key, &out->i));
        out->kind = Any::Kind::kInt;
      } else if (Is(key, "doubleValue", "double_value")) {
        SL_RETURN_IF_ERROR(GetDouble(m, key, &out->d));
        out->kind = Any::Kind::kDouble;
      } else if (Is(key, "bytesValue", "bytes_value")) {
        SL_RETURN_IF_ERROR(GetString(m, key, &text));
        out->kind = Any::Kind::kBytes;
        out->str.assign(text);
      } else if (Is(key, "arrayValue", "array_value")) {
        std::string json = "[";
        bool first = true;
        SL_RETURN_IF_ERROR(ForEachListValue(m, key, [&](od::value elem_json) {
          Any elem;
          SL_RETURN_IF_ERROR(DecodeAnyValue(elem_json, depth + 1, &elem));
          if (!first) json.push_back(',');
          first = false;
          AppendAnyJson(elem, &json);
          return Status::OK();
        }));
        json.push_back(']');
        out->kind = Any::Kind::kJson;
        out->str = std::move(json);
      } else if (Is(key, "kvlistValue", "kvlist_value")) {
        std::string json = "{";
        bool first = true;
        SL_RETURN_IF_ERROR(ForEachListValue(m, key, [&](od::value kv) {
          std::string elem_key;
          Any elem;
          SL_RETURN_IF_ERROR(DecodeKeyValue(kv, depth + 1, &elem_key, &elem));
          if (!first) json.push_back(',');
          first = false;
          JsonQuote(elem_key, &json);
          json.push_back(':');
          AppendAnyJson(elem, &json);
          return Status::OK();
        }));
        json.push_back('}');
        out->kind = Any::Kind::kJson;
        out->str = std::move(json);
      }
      return Status::OK();
    });
  }

  std::string_view body_;
  int64_t now_ns_;
  Sink sink_;
};

// ---------------------------------------------------------------------------------------
// Response encoding.

void PutTag(uint32_t field, uint32_t wire_type, std::string* out) {
  PutVarint64(out, static_cast<uint64_t>(field) << 3 | wire_type);
}

}  // namespace

Status DecodeOtlpLogsProto(std::string_view body, int64_t now_ns, model::LogBatch* out) {
  return ProtoDecoder(body, now_ns, out).Run();
}

Status DecodeOtlpLogsJson(std::string_view body, int64_t now_ns, model::LogBatch* out) {
  return JsonDecoder(body, now_ns, out).Run();
}

std::string EncodeLogsResponseProto(int64_t rejected, std::string_view error_message) {
  if (rejected == 0 && error_message.empty()) return std::string();
  std::string partial;
  if (rejected != 0) {
    PutTag(1, 0, &partial);
    PutVarint64(&partial, static_cast<uint64_t>(rejected));
  }
  if (!error_message.empty()) {
    PutTag(2, 2, &partial);
    PutLengthPrefixed(&partial, error_message);
  }
  std::string out;
  PutTag(1, 2, &out);
  PutLengthPrefixed(&out, partial);
  return out;
}

std::string EncodeLogsResponseJson(int64_t rejected, std::string_view error_message) {
  if (rejected == 0 && error_message.empty()) return "{}";
  std::string out = "{\"partialSuccess\":{";
  if (rejected != 0) {
    out += "\"rejectedLogRecords\":\"";
    AppendInt(rejected, &out);
    out += '"';
  }
  if (!error_message.empty()) {
    if (rejected != 0) out += ',';
    out += "\"errorMessage\":";
    std::string repaired;
    AssignUtf8(error_message, &repaired);
    JsonQuote(repaired, &out);
  }
  out += "}}";
  return out;
}

std::string EncodeRpcStatusProto(int code, std::string_view message) {
  std::string out;
  if (code != 0) {
    PutTag(1, 0, &out);
    // int32: negative values are sign-extended to ten bytes.
    PutVarint64(&out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  }
  if (!message.empty()) {
    PutTag(2, 2, &out);
    PutLengthPrefixed(&out, message);
  }
  return out;
}

std::string EncodeRpcStatusJson(int code, std::string_view message) {
  std::string out = "{\"code\":";
  AppendInt(code, &out);
  out += ",\"message\":";
  std::string repaired;
  AssignUtf8(message, &repaired);
  JsonQuote(repaired, &out);
  out += '}';
  return out;
}

}  // namespace sightline::ingest
