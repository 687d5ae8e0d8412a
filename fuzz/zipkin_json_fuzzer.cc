// libFuzzer target: DecodeZipkinJson must accept any bytes without crashing; on error the
// batch must be left untouched, on success every span must satisfy the model's invariants.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

#include "ingest/zipkin.h"

namespace {

void CheckUtf8(std::string_view s) {
  if (!simdjson::validate_utf8(s.data(), s.size())) std::abort();
}

void CheckAttrs(const std::vector<sightline::model::Attribute>& attrs) {
  std::set<std::string_view> keys;
  for (const auto& a : attrs) {
    if (a.key.empty() || !keys.insert(a.key).second) std::abort();
    CheckUtf8(a.key);
    CheckUtf8(a.value.str);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  model::SpanBatch batch;
  const Status st = ingest::DecodeZipkinJson(body, 1, &batch);
  if (!st.ok()) {
    if (!batch.spans.empty() || batch.rejected != 0) std::abort();
    return 0;
  }
  for (const model::Span& s : batch.spans) {
    if (s.trace_id.empty() || s.span_id.empty() || s.end_ns < s.start_ns) std::abort();
    CheckUtf8(s.name);
    CheckUtf8(s.service);
    CheckUtf8(s.status_message);
    CheckAttrs(s.attrs);
    CheckAttrs(s.resource_attrs);
    for (const model::SpanEvent& e : s.events) CheckUtf8(e.name);
  }
  if ((batch.rejected == 0) != batch.reject_reason.empty()) std::abort();
  return 0;
}
