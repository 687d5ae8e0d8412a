#include "base/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <mutex>

#include "base/json.h"

namespace sightline {
namespace {

void Emit(const char* level, std::string_view msg, const LogFields& fields) {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  std::string line = R"({"ts":")" + std::string(ts) + R"(","level":")" + level + R"(","service":"sightline","msg":)";
  JsonQuote(msg, &line);
  for (const auto& [k, v] : fields) {
    line += ',';
    JsonQuote(k, &line);
    line += ':';
    JsonQuote(v, &line);
  }
  line += "}\n";
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  ssize_t w = ::write(2, line.data(), line.size());
  (void)w;
}

}  // namespace

void LogInfo(std::string_view msg, const LogFields& f) { Emit("info", msg, f); }
void LogWarn(std::string_view msg, const LogFields& f) { Emit("warn", msg, f); }
void LogError(std::string_view msg, const LogFields& f) { Emit("error", msg, f); }

}  // namespace sightline
