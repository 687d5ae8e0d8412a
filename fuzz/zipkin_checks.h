// Shared by the Zipkin fuzz targets: the invariants a decoded batch must satisfy whatever the
// input. On error the batch must be untouched; on success every span has ids, end >= start,
// valid UTF-8 text and unique attribute keys, and `rejected` agrees with `reject_reason`.
// Any violation aborts (libFuzzer reports it).
#ifndef SIGHTLINE_FUZZ_ZIPKIN_CHECKS_H_
#define SIGHTLINE_FUZZ_ZIPKIN_CHECKS_H_

#include <simdjson.h>

#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/span.h"

namespace sightline::fuzz {

inline void CheckUtf8(std::string_view s) {
  if (!simdjson::validate_utf8(s.data(), s.size())) std::abort();
}

inline void CheckAttrs(const std::vector<model::Attribute>& attrs) {
  std::set<std::string_view> keys;
  for (const auto& a : attrs) {
    if (a.key.empty() || !keys.insert(a.key).second) std::abort();
    CheckUtf8(a.key);
    CheckUtf8(a.value.str);
  }
}

inline void CheckZipkinBatch(const Status& st, const model::SpanBatch& batch) {
  if (!st.ok()) {
    if (!batch.spans.empty() || batch.rejected != 0) std::abort();
    return;
  }
  for (const model::Span& s : batch.spans) {
    if (s.trace_id.empty() || s.span_id.empty() || s.end_ns < s.start_ns) std::abort();
    CheckUtf8(s.name);
    CheckUtf8(s.service);
    CheckUtf8(s.status_message);
    CheckAttrs(s.attrs);
    CheckAttrs(s.resource_attrs());
    for (const model::SpanEvent& e : s.events) CheckUtf8(e.name);
  }
  if ((batch.rejected == 0) != batch.reject_reason.empty()) std::abort();
}

}  // namespace sightline::fuzz

#endif  // SIGHTLINE_FUZZ_ZIPKIN_CHECKS_H_
