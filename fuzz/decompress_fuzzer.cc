// libFuzzer target: Decompress must never crash nor return more than the cap. The first
// byte picks the Content-Encoding (and the cap); the rest is the body.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kEncodings[] = {"",        "identity", "gzip", "x-gzip",
                                           "deflate", "zstd",     "br",   "GZIP "};
  const std::string_view encoding = kEncodings[data[0] % 8];
  const size_t max_bytes = (data[0] & 0x80) ? 1024 : 1 << 20;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto result = sightline::http::Decompress(body, encoding, max_bytes);
  if (result.ok() && result->size() > max_bytes) std::abort();
  return 0;
}
