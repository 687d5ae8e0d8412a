#include "ingest/otlp_common.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "base/coding.h"
#include "base/json.h"

namespace sightline::ingest {
namespace otlp_internal {

// ---------------------------------------------------------------------------------------
// Text.

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

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
// Attributes.

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

size_t AttrBytes(const std::vector<Attribute>& attrs) {
  size_t bytes = 0;
  for (const Attribute& a : attrs) bytes += AttrBytes(a);
  return bytes;
}

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

// ---------------------------------------------------------------------------------------
// Protobuf.

Status ProtoReader::Next(ProtoField* f) {
  uint64_t tag = 0;
  SL_RETURN_IF_ERROR(ReadVarint(&tag));
  const uint64_t number = tag >> 3;
  if (number == 0 || number > (1u << 29) - 1) return InvalidArgument("invalid field number");
  f->number = static_cast<uint32_t>(number);
  f->wire_type = static_cast<uint8_t>(tag & 7);
  switch (f->wire_type) {
    case 0:
      return ReadVarint(&f->value);
    case 1:
      if (end_ - p_ < 8) return InvalidArgument("truncated fixed64");
      f->value = DecodeFixed64(p_);
      p_ += 8;
      return Status::OK();
    case 2: {
      uint64_t len = 0;
      SL_RETURN_IF_ERROR(ReadVarint(&len));
      if (len > static_cast<uint64_t>(end_ - p_)) return InvalidArgument("length past the end");
      f->bytes = std::string_view(p_, static_cast<size_t>(len));
      p_ += len;
      return Status::OK();
    }
    case 5:
      if (end_ - p_ < 4) return InvalidArgument("truncated fixed32");
      f->value = DecodeFixed32(p_);
      p_ += 4;
      return Status::OK();
    case 3:
    case 4:
      return InvalidArgument("groups are not supported");
    default:
      return InvalidArgument("invalid wire type " + std::to_string(f->wire_type));
  }
}

Status ProtoReader::ReadVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (p_ == end_) return InvalidArgument("truncated varint");
    const auto b = static_cast<uint8_t>(*p_++);
    if (i == 9 && b > 1) return InvalidArgument("varint longer than 64 bits");
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = result;
      return Status::OK();
    }
  }
  return InvalidArgument("varint longer than 64 bits");  // not reached
}

namespace {

// An ArrayValue (elements at depth + 1) as compact JSON text.
Status DecodeProtoArrayJson(std::string_view bytes, int depth, std::string* json) {
  std::string text = "[";
  bool first = true;
  ProtoReader r(bytes);
  ProtoField f;
  while (!r.done()) {
    SL_RETURN_IF_ERROR(r.Next(&f));
    if (f.number != 1 || f.wire_type != 2) continue;
    Any elem;
    SL_RETURN_IF_ERROR(DecodeProtoAnyValue(f.bytes, depth + 1, &elem));
    if (!first) text.push_back(',');
    first = false;
    AppendAnyJson(elem, &text);
  }
  text.push_back(']');
  *json = std::move(text);
  return Status::OK();
}

// A KeyValueList (values at depth + 1) as a compact JSON object.
Status DecodeProtoKvlistJson(std::string_view bytes, int depth, std::string* json) {
  std::string text = "{";
  bool first = true;
  ProtoReader r(bytes);
  ProtoField f;
  while (!r.done()) {
    SL_RETURN_IF_ERROR(r.Next(&f));
    if (f.number != 1 || f.wire_type != 2) continue;
    std::string key;
    Any elem;
    SL_RETURN_IF_ERROR(DecodeProtoKeyValue(f.bytes, depth + 1, &key, &elem));
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

}  // namespace

Status DecodeProtoKeyValue(std::string_view bytes, int depth, std::string* key, Any* value) {
  ProtoReader r(bytes);
  ProtoField f;
  while (!r.done()) {
    SL_RETURN_IF_ERROR(r.Next(&f));
    if (f.wire_type != 2) continue;
    if (f.number == 1) {
      AssignUtf8(f.bytes, key);
    } else if (f.number == 2) {
      *value = Any();
      SL_RETURN_IF_ERROR(DecodeProtoAnyValue(f.bytes, depth, value));
    }
  }
  return Status::OK();
}

Status DecodeProtoAnyValue(std::string_view bytes, int depth, Any* out) {
  if (depth > kMaxOtlpAnyValueDepth) {
    return InvalidArgument("AnyValue nesting deeper than " + std::to_string(kMaxOtlpAnyValueDepth));
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
        SL_RETURN_IF_ERROR(DecodeProtoArrayJson(f.bytes, depth, &out->str));
        out->kind = Any::Kind::kJson;
        break;
      case 6:  // KeyValueList { repeated KeyValue values = 1; }
        if (f.wire_type != 2) break;
        SL_RETURN_IF_ERROR(DecodeProtoKvlistJson(f.bytes, depth, &out->str));
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

Status DecodeProtoAttribute(std::string_view bytes, std::vector<Attribute>* attrs) {
  Attribute& a = attrs->emplace_back();
  Any value;
  SL_RETURN_IF_ERROR(DecodeProtoKeyValue(bytes, 1, &a.key, &value));
  if (!AnyToAttr(&value, &a.value)) attrs->pop_back();
  return Status::OK();
}

Status DecodeProtoScope(std::string_view bytes, bool with_attrs, ScopeInfo* scope) {
  ProtoReader r(bytes);
  ProtoField f;
  while (!r.done()) {
    SL_RETURN_IF_ERROR(r.Next(&f));
    if (f.wire_type != 2) continue;
    if (f.number == 1) {
      AssignUtf8(f.bytes, &scope->name);
    } else if (f.number == 2) {
      AssignUtf8(f.bytes, &scope->version);
    } else if (f.number == 3 && with_attrs) {
      SL_RETURN_IF_ERROR(DecodeProtoAttribute(f.bytes, &scope->attrs).Annotate("attributes"));
    }
  }
  model::DedupeAttributes(&scope->attrs);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// JSON.

Status JsonError(simdjson::error_code e, std::string_view where) {
  std::string m(where);
  m += ": ";
  m += simdjson::error_message(e);
  return InvalidArgument(m);
}

Status GetString(od::value v, std::string_view where, std::string_view* out) {
  if (auto e = v.get_string().get(*out)) return JsonError(e, where);
  return Status::OK();
}

namespace {

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

}  // namespace

Status GetInt64(od::value v, std::string_view where, int64_t* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::string) return ParseDecimalString(v, where, "an int64", out);
  if (auto e = v.get_int64().get(*out)) return JsonError(e, where);
  return Status::OK();
}

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

Status GetUint32(od::value v, std::string_view where, uint32_t* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::string) return ParseDecimalString(v, where, "a uint32", out);
  uint64_t u = 0;
  if (auto e = v.get_uint64().get(u)) return JsonError(e, where);
  if (u > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument(std::string(where) + ": not a uint32");
  }
  *out = static_cast<uint32_t>(u);
  return Status::OK();
}

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

bool DecodeJsonId(std::string_view text, uint8_t* out, size_t n) {
  if (text.empty()) return true;
  if (text.size() == 2 * n) return model::DecodeHex(text, out, n);
  return DecodeBase64Exact(text, out, n);
}

Status DecodeJsonKeyValue(od::value v, int depth, std::string* key, Any* value) {
  return ForEachMember(v, "KeyValue", [&](std::string_view k, od::value m) {
    if (k == "key") {
      std::string_view text;
      SL_RETURN_IF_ERROR(GetString(m, "key", &text));
      key->assign(text);
    } else if (k == "value") {
      *value = Any();
      return DecodeJsonAnyValue(m, depth, value);
    }
    return Status::OK();
  });
}

Status DecodeJsonAnyValue(od::value v, int depth, Any* out) {
  if (depth > kMaxOtlpAnyValueDepth) {
    return InvalidArgument("AnyValue nesting deeper than " + std::to_string(kMaxOtlpAnyValueDepth));
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
        SL_RETURN_IF_ERROR(DecodeJsonAnyValue(elem_json, depth + 1, &elem));
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
        SL_RETURN_IF_ERROR(DecodeJsonKeyValue(kv, depth + 1, &elem_key, &elem));
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

Status DecodeJsonAttribute(od::value v, std::vector<Attribute>* attrs) {
  Attribute& a = attrs->emplace_back();
  Any value;
  SL_RETURN_IF_ERROR(DecodeJsonKeyValue(v, 1, &a.key, &value));
  if (!AnyToAttr(&value, &a.value)) attrs->pop_back();
  return Status::OK();
}

Status DecodeJsonScope(od::value v, bool with_attrs, ScopeInfo* scope) {
  SL_RETURN_IF_ERROR(ForEachMember(v, "scope", [&](std::string_view key, od::value m) {
    std::string_view text;
    if (key == "name") {
      SL_RETURN_IF_ERROR(GetString(m, "scope.name", &text));
      scope->name.assign(text);
    } else if (key == "version") {
      SL_RETURN_IF_ERROR(GetString(m, "scope.version", &text));
      scope->version.assign(text);
    } else if (key == "attributes" && with_attrs) {
      return ForEachElement(m, "scope.attributes", [&](od::value kv) {
        return DecodeJsonAttribute(kv, &scope->attrs).Annotate("scope.attributes");
      });
    }
    return Status::OK();
  }));
  model::DedupeAttributes(&scope->attrs);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Responses.

namespace {
void PutTag(uint32_t field, uint32_t wire_type, std::string* out) {
  PutVarint64(out, static_cast<uint64_t>(field) << 3 | wire_type);
}
}  // namespace

std::string EncodePartialSuccessProto(int64_t rejected, std::string_view error_message) {
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

std::string EncodePartialSuccessJson(std::string_view count_key, int64_t rejected,
                                     std::string_view error_message) {
  if (rejected == 0 && error_message.empty()) return "{}";
  std::string out = "{\"partialSuccess\":{";
  if (rejected != 0) {
    JsonQuote(count_key, &out);
    out += ":\"";
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

}  // namespace otlp_internal

// Declared in otlp_logs.h; shared by every OTLP signal.

std::string EncodeRpcStatusProto(int code, std::string_view message) {
  std::string out;
  if (code != 0) {
    otlp_internal::PutTag(1, 0, &out);
    // int32: negative values are sign-extended to ten bytes.
    PutVarint64(&out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  }
  if (!message.empty()) {
    otlp_internal::PutTag(2, 2, &out);
    PutLengthPrefixed(&out, message);
  }
  return out;
}

std::string EncodeRpcStatusJson(int code, std::string_view message) {
  std::string out = "{\"code\":";
  otlp_internal::AppendInt(code, &out);
  out += ",\"message\":";
  std::string repaired;
  otlp_internal::AssignUtf8(message, &repaired);
  JsonQuote(repaired, &out);
  out += '}';
  return out;
}

}  // namespace sightline::ingest
