#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>

#include "api/log_api.h"
#include "model/log_record.h"

namespace sightline::server {
namespace {

StatusOr<int64_t> ParseInt(const std::string& key, const std::string& v) {
  int64_t x;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size())
    return InvalidArgument(key + ": expected an integer, got '" + v + "'");
  return x;
}

StatusOr<uint64_t> ParseBytes(const std::string& key, const std::string& v) {
  size_t i = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  if (i == 0) return InvalidArgument(key + ": expected a size such as 64MiB, got '" + v + "'");
  uint64_t n = std::stoull(v.substr(0, i));
  std::string u = v.substr(i);
  uint64_t mul = 0;
  if (u.empty() || u == "B") mul = 1;
  else if (u == "KiB" || u == "KB" || u == "K") mul = 1ull << 10;
  else if (u == "MiB" || u == "MB" || u == "M") mul = 1ull << 20;
  else if (u == "GiB" || u == "GB" || u == "G") mul = 1ull << 30;
  if (!mul) return InvalidArgument(key + ": unknown size unit '" + u + "' (use B, KiB, MiB, GiB)");
  return n * mul;
}

StatusOr<bool> ParseBool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return InvalidArgument(key + ": expected true or false, got '" + v + "'");
}

StatusOr<int64_t> ParseDur(const std::string& key, const std::string& v) {
  auto d = api::ParseDurationParam(key, v);
  if (!d.ok()) return InvalidArgument(key + ": expected a duration such as 5s or 7d, got '" + v + "'");
  return *d;
}

}  // namespace

const std::map<std::string, std::string>& ConfigKeys() {
  static const std::map<std::string, std::string> k = {
      {"listen", "HTTP listen address host:port (default 0.0.0.0:4318)"},
      {"data_dir", "data directory (default ./sightline-data)"},
      {"http.threads", "HTTP I/O threads (default 8)"},
      {"http.max_body_bytes", "largest request body on the wire (default 64MiB; 413 above)"},
      {"http.max_decompressed_bytes", "largest body after decompression (default 256MiB; 413)"},
      {"wal.fsync", "always | interval | never (default interval)"},
      {"wal.sync_interval", "fsync period for wal.fsync=interval (default 200ms)"},
      {"storage.flush_interval", "how often buffered records become parts (default 5s)"},
      {"storage.memtable_bytes", "flush earlier when buffered data reaches this (default 128MiB)"},
      {"storage.retention", "drop day partitions older than this; 0 keeps forever (default 7d)"},
      {"query.threads", "threads one query may use (default 2)"},
      {"ingest.default_service", "service of records that name none (default unknown)"},
      {"grpc.listen", "OTLP/gRPC listen address host:port; empty or off disables (default 0.0.0.0:4317)"},
      {"grpc.threads", "threads running OTLP/gRPC export calls (default 8)"},
      {"traces.memtable_bytes", "flush spans earlier when buffered spans reach this (default 64MiB)"},
      {"public_url", "base URL clients reach this server at, for DSNs and links (default http://<listen>)"},
      {"errors.organization", "organization slug of the Sentry-compatible API (default sightline)"},
      {"errors.default_key", "DSN public key (32 hex) of the default project on first start (default random)"},
      {"errors.api_tokens", "comma-separated bearer tokens required by /api/0/ (default none: open)"},
      {"levels.min_by_env", "drop logs below a level per environment: env=level,... (default production=info,prod=info)"},
      {"levels.min_by_service", "per-service minimum level, overrides the environment's: service=level,... (default none)"},
      {"scrub.enabled", "scrub PII from logs, spans and error events before storing (default true)"},
      {"scrub.action", "mask ([Filtered]) | hash (stable, correlatable) | remove (default mask)"},
      {"scrub.ips", "also scrub IPv4/IPv6 addresses (default false)"},
      {"scrub.emails", "scrub e-mail addresses (default true)"},
      {"scrub.hash_secret", "secret of scrub.action=hash (default: random, kept in data_dir/scrub.secret)"},
      {"scrub.keys", "comma-separated extra key names whose values are always scrubbed"},
      {"scrub.patterns", "extra value regexes (RE2), one per line (YAML block scalar)"},
  };
  return k;
}

Status ApplySetting(const std::string& key, const std::string& v, Config* c) {
  if (key == "listen") {
    size_t colon = v.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("listen: expected host:port, got '" + v + "'");
    SL_ASSIGN_OR_RETURN(int64_t port, ParseInt(key, v.substr(colon + 1)));
    if (port < 0 || port > 65535) return InvalidArgument("listen: port out of range");
    std::string host = v.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    c->listen_host = host.empty() ? "0.0.0.0" : host;
    c->listen_port = static_cast<int>(port);
  } else if (key == "data_dir") {
    if (v.empty()) return InvalidArgument("data_dir must not be empty");
    c->data_dir = v;
  } else if (key == "http.threads") {
    SL_ASSIGN_OR_RETURN(int64_t n, ParseInt(key, v));
    if (n < 1 || n > 256) return InvalidArgument("http.threads must be 1..256");
    c->http_threads = static_cast<int>(n);
  } else if (key == "http.max_body_bytes") {
    SL_ASSIGN_OR_RETURN(c->max_body_bytes, ParseBytes(key, v));
  } else if (key == "http.max_decompressed_bytes") {
    SL_ASSIGN_OR_RETURN(c->max_decompressed_bytes, ParseBytes(key, v));
  } else if (key == "wal.fsync") {
    auto p = storage::ParseFsyncPolicy(v);
    if (!p.ok()) return p.status();
    c->wal_fsync = *p;
  } else if (key == "wal.sync_interval") {
    SL_ASSIGN_OR_RETURN(c->wal_sync_interval_ns, ParseDur(key, v));
  } else if (key == "storage.flush_interval") {
    SL_ASSIGN_OR_RETURN(c->flush_interval_ns, ParseDur(key, v));
  } else if (key == "storage.memtable_bytes") {
    SL_ASSIGN_OR_RETURN(c->memtable_bytes, ParseBytes(key, v));
  } else if (key == "storage.retention") {
    if (v == "0") {
      c->retention_ns = 0;
    } else {
      SL_ASSIGN_OR_RETURN(c->retention_ns, ParseDur(key, v));
    }
  } else if (key == "query.threads") {
    SL_ASSIGN_OR_RETURN(int64_t n, ParseInt(key, v));
    if (n < 1 || n > 256) return InvalidArgument("query.threads must be 1..256");
    c->query_threads = static_cast<int>(n);
  } else if (key == "ingest.default_service") {
    c->default_service = v;
  } else if (key == "grpc.listen") {
    if (v.empty() || v == "off") {
      c->grpc_listen.clear();
    } else {
      const size_t colon = v.rfind(':');
      if (colon == std::string::npos) {
        return InvalidArgument("grpc.listen: expected host:port, got '" + v + "'");
      }
      SL_ASSIGN_OR_RETURN(int64_t port, ParseInt(key, v.substr(colon + 1)));
      if (port < 0 || port > 65535) return InvalidArgument("grpc.listen: port out of range");
      c->grpc_listen = colon == 0 ? "0.0.0.0" + v : v;
    }
  } else if (key == "grpc.threads") {
    SL_ASSIGN_OR_RETURN(int64_t n, ParseInt(key, v));
    if (n < 1 || n > 256) return InvalidArgument("grpc.threads must be 1..256");
    c->grpc_threads = static_cast<int>(n);
  } else if (key == "traces.memtable_bytes") {
    SL_ASSIGN_OR_RETURN(c->traces_memtable_bytes, ParseBytes(key, v));
    if (c->traces_memtable_bytes < (1 << 20)) {
      return InvalidArgument("traces.memtable_bytes must be at least 1MiB");
    }
  } else if (key == "public_url") {
    if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
      return InvalidArgument("public_url must start with http:// or https://");
    }
    c->public_url = v;
  } else if (key == "errors.organization") {
    if (v.empty()) return InvalidArgument("errors.organization must not be empty");
    c->errors_organization = v;
  } else if (key == "errors.default_key") {
    if (!v.empty() && (v.size() != 32 || v.find_first_not_of("0123456789abcdefABCDEF") !=
                                             std::string::npos)) {
      return InvalidArgument("errors.default_key must be 32 hex digits");
    }
    c->errors_default_key = v;
  } else if (key == "errors.api_tokens") {
    c->errors_api_tokens = v;
  } else if (key == "levels.min_by_env" || key == "levels.min_by_service") {
    // Validated here so that a typo fails at start-up: "name=level" pairs, comma-separated.
    for (size_t pos = 0; pos < v.size();) {
      const size_t comma = std::min(v.find(',', pos), v.size());
      const std::string pair = v.substr(pos, comma - pos);
      const size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0 ||
          model::LevelFromText(pair.substr(eq + 1)) == model::Level::kUnknown) {
        return InvalidArgument(key + ": expected name=level pairs (levels: trace, debug, info, "
                               "warn, error, fatal), got '" + pair + "'");
      }
      pos = comma + 1;
    }
    (key == "levels.min_by_env" ? c->levels_min_by_env : c->levels_min_by_service) = v;
  } else if (key == "scrub.enabled") {
    SL_ASSIGN_OR_RETURN(c->scrub_enabled, ParseBool(key, v));
  } else if (key == "scrub.action") {
    if (v != "mask" && v != "hash" && v != "remove") {
      return InvalidArgument("scrub.action must be mask, hash or remove, got '" + v + "'");
    }
    c->scrub_action = v;
  } else if (key == "scrub.emails") {
    SL_ASSIGN_OR_RETURN(c->scrub_emails, ParseBool(key, v));
  } else if (key == "scrub.ips") {
    SL_ASSIGN_OR_RETURN(c->scrub_ips, ParseBool(key, v));
  } else if (key == "scrub.hash_secret") {
    c->scrub_hash_secret = v;
  } else if (key == "scrub.keys") {
    c->scrub_keys = v;
  } else if (key == "scrub.patterns") {
    c->scrub_patterns = v;
  } else {
    return InvalidArgument("unknown config key '" + key + "'");
  }
  return Status::OK();
}

namespace {
Status Walk(const YAML::Node& n, const std::string& prefix, Config* c) {
  if (n.IsMap()) {
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      SL_RETURN_IF_ERROR(Walk(kv.second, prefix.empty() ? k : prefix + "." + k, c));
    }
    return Status::OK();
  }
  if (!n.IsScalar()) return InvalidArgument(prefix + ": expected a value");
  return ApplySetting(prefix, n.Scalar(), c);
}
}  // namespace

Status LoadConfigFile(const std::string& path, Config* c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) return InvalidArgument("config " + path + ": top level must be a mapping");
  Status s = Walk(root, "", c);
  return s.ok() ? s : s.Annotate("config " + path);
}

Status LoadEnvironment(Config* c) {
  for (const auto& [key, desc] : ConfigKeys()) {
    std::string env = "SIGHTLINE_";
    for (char ch : key) env += ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (const char* v = std::getenv(env.c_str())) {
      Status s = ApplySetting(key, v, c);
      if (!s.ok()) return s.Annotate("environment " + env);
    }
  }
  return Status::OK();
}

Status Validate(const Config& c) {
  if (c.max_decompressed_bytes < c.max_body_bytes)
    return InvalidArgument("http.max_decompressed_bytes must be >= http.max_body_bytes");
  if (c.flush_interval_ns < 100'000'000) return InvalidArgument("storage.flush_interval must be >= 100ms");
  if (c.wal_sync_interval_ns < 1'000'000) return InvalidArgument("wal.sync_interval must be >= 1ms");
  if (c.retention_ns != 0 && c.retention_ns < 86'400'000'000'000LL)
    return InvalidArgument("storage.retention must be 0 (forever) or at least 1d (partitions are days)");
  return Status::OK();
}

}  // namespace sightline::server
