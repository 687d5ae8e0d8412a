#include "storage/embedded/record_codec.h"

namespace sightline::storage {

using model::AttrValue;

void EncodeAttrValue(const AttrValue& v, std::string* dst) {
  dst->push_back(static_cast<char>(v.type));
  switch (v.type) {
    case AttrValue::Type::kString:
      PutLengthPrefixed(dst, v.str);
      break;
    case AttrValue::Type::kInt:
      PutVarsint64(dst, v.i);
      break;
    case AttrValue::Type::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.d, 8);
      PutFixed64(dst, bits);
      break;
    }
    case AttrValue::Type::kBool:
      dst->push_back(v.b ? 1 : 0);
      break;
  }
}

bool DecodeAttrValue(Reader* in, AttrValue* v) {
  uint8_t t;
  if (!in->GetByte(&t)) return false;
  switch (static_cast<AttrValue::Type>(t)) {
    case AttrValue::Type::kString: {
      std::string_view s;
      if (!in->GetLengthPrefixed(&s)) return false;
      *v = AttrValue::String(s);
      return true;
    }
    case AttrValue::Type::kInt: {
      int64_t x;
      if (!in->GetVarsint64(&x)) return false;
      *v = AttrValue::Int(x);
      return true;
    }
    case AttrValue::Type::kDouble: {
      uint64_t bits;
      if (!in->GetFixed64(&bits)) return false;
      double d;
      std::memcpy(&d, &bits, 8);
      *v = AttrValue::Double(d);
      return true;
    }
    case AttrValue::Type::kBool: {
      uint8_t b;
      if (!in->GetByte(&b)) return false;
      *v = AttrValue::Bool(b != 0);
      return true;
    }
  }
  return false;
}

void EncodeLogRecord(const model::LogRecord& r, std::string* dst) {
  PutVarsint64(dst, r.ts_ns);
  PutVarsint64(dst, r.observed_ns);
  dst->push_back(static_cast<char>(r.level));
  dst->push_back(static_cast<char>(r.severity_number));
  PutLengthPrefixed(dst, r.service);
  PutLengthPrefixed(dst, r.env);
  PutLengthPrefixed(dst, r.host);
  PutLengthPrefixed(dst, r.body);
  uint8_t flags = (r.trace_id.empty() ? 0 : 1) | (r.span_id.empty() ? 0 : 2);
  dst->push_back(static_cast<char>(flags));
  if (flags & 1) dst->append(reinterpret_cast<const char*>(r.trace_id.bytes.data()), 16);
  if (flags & 2) dst->append(reinterpret_cast<const char*>(r.span_id.bytes.data()), 8);
  PutVarint64(dst, r.attrs.size());
  for (const auto& a : r.attrs) {
    PutLengthPrefixed(dst, a.key);
    EncodeAttrValue(a.value, dst);
  }
}

bool DecodeLogRecord(Reader* in, model::LogRecord* r) {
  std::string_view s;
  uint8_t b;
  if (!in->GetVarsint64(&r->ts_ns) || !in->GetVarsint64(&r->observed_ns)) return false;
  if (!in->GetByte(&b) || b >= model::kNumLevels) return false;
  r->level = static_cast<model::Level>(b);
  if (!in->GetByte(&r->severity_number)) return false;
  if (!in->GetLengthPrefixed(&s)) return false;
  r->service.assign(s);
  if (!in->GetLengthPrefixed(&s)) return false;
  r->env.assign(s);
  if (!in->GetLengthPrefixed(&s)) return false;
  r->host.assign(s);
  if (!in->GetLengthPrefixed(&s)) return false;
  r->body.assign(s);
  if (!in->GetByte(&b)) return false;
  if (b & 1) {
    if (!in->GetBytes(16, &s)) return false;
    std::memcpy(r->trace_id.bytes.data(), s.data(), 16);
  }
  if (b & 2) {
    if (!in->GetBytes(8, &s)) return false;
    std::memcpy(r->span_id.bytes.data(), s.data(), 8);
  }
  uint64_t n;
  if (!in->GetVarint64(&n) || n > in->remaining()) return false;
  r->attrs.resize(n);
  for (auto& a : r->attrs) {
    if (!in->GetLengthPrefixed(&s)) return false;
    a.key.assign(s);
    if (!DecodeAttrValue(in, &a.value)) return false;
  }
  return true;
}

}  // namespace sightline::storage
