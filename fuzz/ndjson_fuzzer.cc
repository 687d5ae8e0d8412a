// libFuzzer target: DecodeNdjson must accept any bytes without crashing, and keep its
// contract (records only appended on success; no record on an error).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/ndjson.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ingest::NdjsonOptions opts;
  opts.default_service = "fuzz";
  opts.now_ns = 1;
  model::LogBatch batch;
  const Status st = ingest::DecodeNdjson(body, opts, &batch);
  if (!st.ok() && (!batch.records.empty() || batch.rejected == 0)) std::abort();
  if (st.ok() && batch.rejected > 0 && batch.reject_reason.empty()) std::abort();
  for (const model::LogRecord& r : batch.records) {
    if (r.observed_ns != 1 || r.ts_ns < 0) std::abort();
    for (size_t i = 0; i < r.attrs.size(); ++i) {
      for (size_t j = 0; j < i && r.attrs.size() <= 64; ++j) {
        if (r.attrs[i].key == r.attrs[j].key) std::abort();  // keys are unique
      }
    }
  }
  return 0;
}
