#include "storage/embedded/util.h"

#include <zstd.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <memory>

#include "base/clock.h"

namespace sightline::storage {
namespace {

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(),
                                                                      ZSTD_freeCCtx);
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(),
                                                                      ZSTD_freeDCtx);
  return ctx.get();
}

}  // namespace

uint8_t Compress(std::string_view raw, int level, std::string* stored) {
  stored->resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compressCCtx(ThreadCCtx(), stored->data(), stored->size(), raw.data(), raw.size(),
                               level);
  if (ZSTD_isError(n) || n >= raw.size()) {
    stored->assign(raw);
    return kCodecRaw;
  }
  stored->resize(n);
  return kCodecZstd;
}

std::string ZstdCompress(std::string_view raw, int level) {
  std::string stored(ZSTD_compressBound(raw.size()), '\0');
  size_t n =
      ZSTD_compressCCtx(ThreadCCtx(), stored.data(), stored.size(), raw.data(), raw.size(), level);
  stored.resize(ZSTD_isError(n) ? 0 : n);
  return stored;
}

Status Decompress(std::string_view stored, uint8_t codec, uint32_t raw_len, std::string* raw) {
  if (codec == kCodecRaw) {
    if (stored.size() != raw_len) return Corruption("raw column length mismatch");
    raw->assign(stored);
    return Status::OK();
  }
  if (codec != kCodecZstd) return Corruption("unknown column codec");
  raw->resize(raw_len);
  size_t n = ZSTD_decompressDCtx(ThreadDCtx(), raw->data(), raw_len, stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_len) return Corruption("zstd column decode failed");
  return Status::OK();
}

std::string PartFileName(uint64_t id, std::string_view ext) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020" PRIu64, id);
  return std::string(digits).append(ext);
}

bool ParsePartFileName(std::string_view name, std::string_view ext, uint64_t* id) {
  if (name.size() != 20 + ext.size() || name.substr(20) != ext) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *id = v;
  return true;
}

int64_t DayOf(int64_t ts_ns) {
  return ts_ns >= 0 ? ts_ns / kNsPerDay : -((-ts_ns + kNsPerDay - 1) / kNsPerDay);
}

std::string DayName(int64_t day) {
  time_t t = static_cast<time_t>(day * 86400);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

bool ParseDayName(const std::string& s, int64_t* day) {
  int y, m, d;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) return false;
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  *day = static_cast<int64_t>(timegm(&tm)) / 86400;
  return DayName(*day) == s;
}

}  // namespace sightline::storage
