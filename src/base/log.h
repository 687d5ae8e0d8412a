// Sightline's own logs: one JSON object per line on stderr
// ({"ts":"...","level":"info","msg":"...", fields...}). Thread-safe.
#ifndef SIGHTLINE_BASE_LOG_H_
#define SIGHTLINE_BASE_LOG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sightline {

using LogFields = std::vector<std::pair<std::string, std::string>>;

void LogInfo(std::string_view msg, const LogFields& fields = {});
void LogWarn(std::string_view msg, const LogFields& fields = {});
void LogError(std::string_view msg, const LogFields& fields = {});

}  // namespace sightline

#endif  // SIGHTLINE_BASE_LOG_H_
