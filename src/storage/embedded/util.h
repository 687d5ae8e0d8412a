// Small helpers shared by the embedded stores (logs and spans): zstd column compression with
// per-thread contexts, and UTC day partition names.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_UTIL_H_
#define SIGHTLINE_STORAGE_EMBEDDED_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sightline::storage {

inline constexpr uint8_t kCodecRaw = 0;
inline constexpr uint8_t kCodecZstd = 1;

// Compresses `raw` into *stored at zstd `level` and returns the codec used: kCodecRaw (stored
// is a copy of raw) when compression does not make it smaller, else kCodecZstd. Thread-safe.
uint8_t Compress(std::string_view raw, int level, std::string* stored);
// Inverse of Compress. Corruption if the codec is unknown or the output is not raw_len bytes.
// Thread-safe.
Status Decompress(std::string_view stored, uint8_t codec, uint32_t raw_len, std::string* raw);
// Plain zstd of a whole buffer at `level` (always kCodecZstd framing). Thread-safe.
std::string ZstdCompress(std::string_view raw, int level);

// Part file names: the id as 20 decimal digits, then `ext` (".slp", ".sps"). Parse returns
// false for any other name.
std::string PartFileName(uint64_t id, std::string_view ext);
bool ParsePartFileName(std::string_view name, std::string_view ext, uint64_t* id);

// The UTC day number of a Unix-ns timestamp (floor division, negative before 1970).
int64_t DayOf(int64_t ts_ns);
// "YYYY-MM-DD" for a day number, and its inverse (false unless canonical).
std::string DayName(int64_t day);
bool ParseDayName(const std::string& s, int64_t* day);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_UTIL_H_
