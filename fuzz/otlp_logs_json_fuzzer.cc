// libFuzzer target: DecodeOtlpLogsJson must accept any bytes without crashing; on error the
// batch must be left untouched.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/otlp_logs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  model::LogBatch batch;
  const Status st = ingest::DecodeOtlpLogsJson(body, 1, &batch);
  if (!st.ok() && (!batch.records.empty() || batch.rejected != 0)) std::abort();
  if (st.ok()) {
    (void)ingest::EncodeLogsResponseJson(batch.rejected, batch.reject_reason);
  } else {
    (void)ingest::EncodeRpcStatusJson(3, st.message());
  }
  return 0;
}
