// Internal to the Sentry decoders (sentry.cc, sentry_items.cc): tolerant simdjson DOM
// accessors (a value of an unexpected type reads as absent) and Sentry's timestamp rule, so
// that events, transactions, spans, logs and sessions read times the same way.
#ifndef SIGHTLINE_INGEST_SENTRY_JSON_H_
#define SIGHTLINE_INGEST_SENTRY_JSON_H_

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/ndjson.h"

namespace sightline::ingest::sentry_json {

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

inline bool GetStr(simdjson::dom::element v, std::string_view* out) {
  return v.get_string().get(*out) == simdjson::SUCCESS;
}
inline bool GetObj(simdjson::dom::element v, simdjson::dom::object* out) {
  return v.get_object().get(*out) == simdjson::SUCCESS;
}
inline bool GetArr(simdjson::dom::element v, simdjson::dom::array* out) {
  return v.get_array().get(*out) == simdjson::SUCCESS;
}
inline void SetStr(simdjson::dom::element v, std::string* out) {
  std::string_view s;
  if (GetStr(v, &s)) out->assign(s);
}

// Epoch seconds -> Unix ns; 0 for non-finite, non-positive or out-of-range values. The
// fraction is rounded to microseconds: a double near 1.8e9 resolves ~240 ns, so finer digits
// are noise, and SDKs send at most microseconds (1795595369.431 -> ...431000000 exactly).
inline int64_t SecondsToNs(double sec) {
  constexpr double kMaxSeconds = 9223372035.0;  // whole seconds whose ns (+1 s) fit int64
  if (!std::isfinite(sec) || sec <= 0 || sec >= kMaxSeconds) return 0;
  const double whole = std::floor(sec);
  const int64_t us = std::llround((sec - whole) * 1e6);  // 0 .. 1'000'000
  return static_cast<int64_t>(whole) * 1'000'000'000 + us * 1000;
}

// A Sentry timestamp: RFC 3339 text (or a numeric string, see ParseLogTimestamp) or epoch
// seconds as a number; 0 if unusable.
inline int64_t TimestampNs(simdjson::dom::element v) {
  std::string_view s;
  if (GetStr(v, &s)) {
    int64_t ns = 0;
    return ParseLogTimestamp(s, &ns) ? ns : 0;
  }
  double d = 0;
  if (v.get_double().get(d) != simdjson::SUCCESS) return 0;  // also reads int64 / uint64
  return SecondsToNs(d);
}

}  // namespace sightline::ingest::sentry_json

#endif  // SIGHTLINE_INGEST_SENTRY_JSON_H_
