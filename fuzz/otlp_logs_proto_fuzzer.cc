// libFuzzer target: DecodeOtlpLogsProto must accept any bytes without crashing; on error
// the batch must be left untouched.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/otlp_logs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  model::LogBatch batch;
  const Status st = ingest::DecodeOtlpLogsProto(body, 1, &batch);
  if (!st.ok() && (!batch.records.empty() || batch.rejected != 0)) std::abort();
  if (st.ok()) {
    for (const model::LogRecord& r : batch.records) {
      if (r.observed_ns != 1) std::abort();
    }
    (void)ingest::EncodeLogsResponseProto(batch.rejected, batch.reject_reason);
  }
  return 0;
}
