// libFuzzer target: DecodeOtlpTracesJson must accept any bytes without crashing; on error the
// batch must be left untouched, and every accepted span must have valid ids.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/otlp_traces.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  model::SpanBatch batch;
  const Status st = ingest::DecodeOtlpTracesJson(body, 1, &batch);
  if (!st.ok() && (!batch.spans.empty() || batch.rejected != 0)) std::abort();
  if (st.ok()) {
    if ((batch.rejected == 0) != batch.reject_reason.empty()) std::abort();
    for (const model::Span& s : batch.spans) {
      if (s.trace_id.empty() || s.span_id.empty()) std::abort();
      for (const model::SpanLink& l : s.links) {
        if (l.trace_id.empty() || l.span_id.empty()) std::abort();
      }
    }
    (void)ingest::EncodeTracesResponseJson(batch.rejected, batch.reject_reason);
  } else {
    (void)ingest::EncodeRpcStatusJson(3, st.message());
  }
  return 0;
}
