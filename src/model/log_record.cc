#include "model/log_record.h"

#include <xxhash.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace sightline::model {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ToHex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kFatal: return "fatal";
    case Level::kUnknown: break;
  }
  return "unknown";
}

Level LevelFromText(std::string_view t) {
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.empty()) return Level::kUnknown;
  if (t[0] >= '0' && t[0] <= '9') {
    int n = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), n);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) return Level::kUnknown;
    if (n >= 10) {  // bunyan / pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
      if (n < 20) return Level::kTrace;
      if (n < 30) return Level::kDebug;
      if (n < 40) return Level::kInfo;
      if (n < 50) return Level::kWarn;
      if (n < 60) return Level::kError;
      return Level::kFatal;
    }
    // syslog severity: 0 emerg .. 7 debug
    if (n > 7) return Level::kUnknown;
    static const Level kSyslog[] = {Level::kFatal, Level::kFatal, Level::kFatal, Level::kError,
                                    Level::kWarn,  Level::kInfo,  Level::kInfo,  Level::kDebug};
    return kSyslog[n];
  }
  struct Name {
    const char* text;
    Level level;
  };
  static const Name kNames[] = {
      {"trace", Level::kTrace},    {"verbose", Level::kTrace},  {"finest", Level::kTrace},
      {"debug", Level::kDebug},    {"dbug", Level::kDebug},     {"fine", Level::kDebug},
      {"info", Level::kInfo},      {"information", Level::kInfo}, {"informational", Level::kInfo},
      {"notice", Level::kInfo},    {"inf", Level::kInfo},       {"i", Level::kInfo},
      {"warn", Level::kWarn},      {"warning", Level::kWarn},   {"wrn", Level::kWarn},
      {"w", Level::kWarn},         {"error", Level::kError},    {"err", Level::kError},
      {"eror", Level::kError},     {"e", Level::kError},        {"severe", Level::kError},
      {"fatal", Level::kFatal},    {"critical", Level::kFatal}, {"crit", Level::kFatal},
      {"emerg", Level::kFatal},    {"emergency", Level::kFatal}, {"alert", Level::kFatal},
      {"panic", Level::kFatal},    {"d", Level::kDebug},        {"t", Level::kTrace},
      {"f", Level::kFatal},
  };
  for (const auto& n : kNames)
    if (IEquals(t, n.text)) return n.level;
  // OTel severity texts such as "INFO2", "ERROR3".
  if (t.size() >= 2 && t.back() >= '1' && t.back() <= '4') return LevelFromText(t.substr(0, t.size() - 1));
  return Level::kUnknown;
}

Level LevelFromSeverityNumber(int n) {
  if (n <= 0 || n > 24) return Level::kUnknown;
  if (n <= 4) return Level::kTrace;
  if (n <= 8) return Level::kDebug;
  if (n <= 12) return Level::kInfo;
  if (n <= 16) return Level::kWarn;
  if (n <= 20) return Level::kError;
  return Level::kFatal;
}

bool TraceId::empty() const {
  for (uint8_t b : bytes)
    if (b) return false;
  return true;
}
std::string TraceId::Hex() const { return ToHex(bytes.data(), bytes.size()); }
bool SpanId::empty() const {
  for (uint8_t b : bytes)
    if (b) return false;
  return true;
}
std::string SpanId::Hex() const { return ToHex(bytes.data(), bytes.size()); }

bool DecodeHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

TraceId TraceIdFromText(std::string_view text, bool* hashed) {
  TraceId id;
  *hashed = false;
  if (text.empty()) return id;
  if (DecodeHex(text, id.bytes.data(), 16) && !id.empty()) return id;
  if (DecodeHex(text, id.bytes.data() + 8, 8)) {
    std::memset(id.bytes.data(), 0, 8);
    if (!id.empty()) return id;
  }
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  std::memcpy(id.bytes.data(), c.digest, 16);
  *hashed = true;
  return id;
}

SpanId SpanIdFromText(std::string_view text, bool* hashed) {
  SpanId id;
  *hashed = false;
  if (text.empty()) return id;
  if (DecodeHex(text, id.bytes.data(), 8) && !id.empty()) return id;
  XXH64_hash_t h = XXH3_64bits(text.data(), text.size());
  XXH64_canonical_t c;
  XXH64_canonicalFromHash(&c, h);
  std::memcpy(id.bytes.data(), c.digest, 8);
  *hashed = true;
  return id;
}

std::string AttrValue::ToText() const {
  switch (type) {
    case Type::kString: return str;
    case Type::kInt: return std::to_string(i);
    case Type::kBool: return b ? "true" : "false";
    case Type::kDouble: {
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
  }
  return {};
}

bool AttrValue::operator==(const AttrValue& o) const {
  if (type != o.type) return false;
  switch (type) {
    case Type::kString: return str == o.str;
    case Type::kInt: return i == o.i;
    case Type::kDouble: return d == o.d || (std::isnan(d) && std::isnan(o.d));
    case Type::kBool: return b == o.b;
  }
  return false;
}

// Keeps, for every key, the value of its last occurrence at the position of its first.
void DedupeAttributes(std::vector<Attribute>* attrs) {
  const size_t n = attrs->size();
  if (n < 2) return;
  if (n <= 16) {
    bool dup = false;
    for (size_t i = 1; i < n && !dup; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if ((*attrs)[i].key == (*attrs)[j].key) {
          dup = true;
          break;
        }
      }
    }
    if (!dup) return;
  }
  std::unordered_map<std::string_view, size_t> first;
  first.reserve(n);
  std::vector<char> drop(n, 0);
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = first.emplace((*attrs)[i].key, i);
    if (!inserted) {
      (*attrs)[it->second].value = std::move((*attrs)[i].value);
      drop[i] = 1;
      any = true;
    }
  }
  if (!any) return;
  size_t w = 0;
  for (size_t i = 0; i < n; ++i) {
    if (drop[i]) continue;
    if (w != i) (*attrs)[w] = std::move((*attrs)[i]);
    ++w;
  }
  attrs->resize(w);
}

const AttrValue* LogRecord::FindAttr(std::string_view key) const {
  for (const auto& a : attrs)
    if (a.key == key) return &a.value;
  return nullptr;
}

}  // namespace sightline::model
