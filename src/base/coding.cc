#include "base/coding.h"

#include <zlib.h>

namespace sightline {

uint32_t Crc32Extend(uint32_t crc, std::string_view data) {
  // zlib's crc32 takes uInt lengths; feed large inputs in chunks.
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t n = data.size();
  uLong c = crc;
  while (n > 0) {
    uInt chunk = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

uint32_t Crc32(std::string_view data) { return Crc32Extend(0, data); }

}  // namespace sightline
