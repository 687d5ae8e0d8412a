#include "storage/span_store.h"

#include <cctype>
#include <cstring>
#include <string>

namespace sightline::storage {

namespace {
bool AttrEquals(const model::Span& s, const std::string& key, const std::string& value) {
  if (key == "error") return (s.is_error() ? "true" : "false") == value;
  if (key == "status" || key == "otel.status_code") {
    std::string lower(value);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return model::StatusCodeName(s.status_code) == lower;
  }
  if (key == "span.kind") return model::SpanKindName(s.kind) == value;
  if (key == "name") return s.name == value;
  if (key == "service.name") return s.service == value;
  if (key == "status.message" || key == "otel.status_description") {
    return s.status_message == value;
  }
  const model::AttrValue* v = s.FindAttr(key);
  return v != nullptr && v->ToText() == value;
}
}  // namespace

size_t TraceIdHasher::operator()(const model::TraceId& id) const {
  uint64_t a, b;
  std::memcpy(&a, id.bytes.data(), 8);
  std::memcpy(&b, id.bytes.data() + 8, 8);
  return static_cast<size_t>(a * 0x9E3779B97F4A7C15ull ^ b);
}

bool SpanFilter::Matches(const model::Span& s) const {
  if (s.start_ns < start_ns || s.start_ns >= end_ns) return false;
  if (!service.empty() && s.service != service) return false;
  if (!operation.empty() && s.name != operation) return false;
  const int64_t d = s.duration_ns();
  if (d < min_duration_ns || d > max_duration_ns) return false;
  if (errors_only && !s.is_error()) return false;
  if (kind && s.kind != *kind) return false;
  for (const auto& [k, v] : attrs) {
    if (!AttrEquals(s, k, v)) return false;
  }
  return true;
}

}  // namespace sightline::storage
