// libFuzzer target: DecodeZipkinProto must accept any bytes without crashing; on error the
// batch must be left untouched, on success every span must satisfy the model's invariants
// (fuzz/zipkin_checks.h).
#include <cstdint>
#include <string_view>

#include "ingest/zipkin.h"
#include "zipkin_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  model::SpanBatch batch;
  const Status st = ingest::DecodeZipkinProto(body, 1, &batch);
  fuzz::CheckZipkinBatch(st, batch);
  return 0;
}
