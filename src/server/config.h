// Server configuration: defaults, then a YAML file, then SIGHTLINE_* environment variables,
// then command-line flags (each later source wins). Documented in docs/configuration.md.
#ifndef SIGHTLINE_SERVER_CONFIG_H_
#define SIGHTLINE_SERVER_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"
#include "storage/embedded/wal.h"

namespace sightline::server {

struct Config {
  std::string listen_host = "0.0.0.0";
  int listen_port = 4318;
  std::string data_dir = "./sightline-data";
  int http_threads = 8;
  uint64_t max_body_bytes = 64ull << 20;
  uint64_t max_decompressed_bytes = 256ull << 20;
  storage::FsyncPolicy wal_fsync = storage::FsyncPolicy::kInterval;
  int64_t wal_sync_interval_ns = 200'000'000;
  int64_t flush_interval_ns = 5'000'000'000;
  uint64_t memtable_bytes = 128ull << 20;
  int64_t retention_ns = 7 * 86'400'000'000'000LL;
  int query_threads = 2;
  std::string default_service = "unknown";
  std::string grpc_listen = "0.0.0.0:4317";  // OTLP/gRPC; "" disables
  int grpc_threads = 8;
  uint64_t traces_memtable_bytes = 64ull << 20;
  // Error tracking (Sentry protocol).
  std::string public_url;          // base URL for DSNs and permalinks; "" = from listen
  std::string errors_organization = "sightline";
  std::string errors_default_key;  // DSN key of the default project at first start ("" random)
  std::string errors_api_tokens;   // comma-separated bearer tokens for /api/0/ ("" = open)
  // Log-level policy: "name=level,..." (docs/configuration.md).
  std::string levels_min_by_env = "production=info,prod=info";
  std::string levels_min_by_service;
  // PII scrubbing before storage (docs/scrubbing.md).
  bool scrub_enabled = true;
  std::string scrub_action = "mask";  // mask | hash | remove
  bool scrub_ips = false;
  bool scrub_emails = true;
  std::string scrub_hash_secret;  // "" = a random secret kept in data_dir/scrub.secret
  std::string scrub_keys;         // comma-separated extra sensitive key names
  std::string scrub_patterns;     // extra value regexes, separated by newlines
};

// Applies `key` = `value` (dotted keys as in the YAML file, e.g. "wal.fsync") to *c.
// Errors: InvalidArgument naming the key and what was expected.
Status ApplySetting(const std::string& key, const std::string& value, Config* c);
// Loads a YAML file over *c. Unknown keys are errors (typos must not pass silently).
Status LoadConfigFile(const std::string& path, Config* c);
// Applies SIGHTLINE_<KEY> environment variables (dots become underscores, upper case).
Status LoadEnvironment(Config* c);
// Cross-field validation.
Status Validate(const Config& c);
// The keys ApplySetting knows, with a one-line description each.
const std::map<std::string, std::string>& ConfigKeys();

}  // namespace sightline::server

#endif  // SIGHTLINE_SERVER_CONFIG_H_
