// sightline: one process serving ingest, queries and ops endpoints over one embedded store.
//
//   sightline serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--set key=value]...
//   sightline config-keys
//
// Threads: `http.threads` I/O threads run handlers; the store has one background thread
// (flush, WAL sync, merges, retention); the main thread waits for SIGTERM/SIGINT.
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <random>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/log_api.h"
#include "api/sentry_api.h"
#include "issues/issue_store.h"
#include "pipeline/error_pipeline.h"
#include "api/trace_api.h"
#include "grpc/grpc_server.h"
#include "ingest/otlp_logs.h"
#include "pipeline/span_pipeline.h"
#include "query/trace_query.h"
#include "storage/embedded/span_store.h"
#include "base/log.h"
#include "base/metrics.h"
#include "http/server.h"
#include "http/status_map.h"
#include "base/file.h"
#include "base/json.h"
#include "pipeline/log_pipeline.h"
#include "pipeline/scrubber.h"
#include "query/log_engine.h"
#include "server/config.h"
#include "storage/embedded/log_store.h"

namespace sightline::server {
namespace {

int Serve(const std::string& config_path, const std::vector<std::pair<std::string, std::string>>& flags) {
  Config cfg;
  Status s;
  if (!config_path.empty()) s = LoadConfigFile(config_path, &cfg);
  if (s.ok()) s = LoadEnvironment(&cfg);
  for (const auto& [k, v] : flags) {
    if (!s.ok()) break;
    s = ApplySetting(k, v, &cfg);
    if (!s.ok()) s = s.Annotate("flag");
  }
  if (s.ok()) s = Validate(cfg);
  if (!s.ok()) {
    LogError("invalid configuration", {{"error", s.message()}});
    return 2;
  }

  // Block the signals we wait for before any thread starts, so all threads inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  storage::EmbeddedStoreOptions so;
  so.dir = cfg.data_dir;
  so.wal_fsync = cfg.wal_fsync;
  so.wal_sync_interval_ms = cfg.wal_sync_interval_ns / 1'000'000;
  so.flush_interval_ms = cfg.flush_interval_ns / 1'000'000;
  so.memtable_bytes = cfg.memtable_bytes;
  so.retention_ns = cfg.retention_ns;
  auto store_or = storage::EmbeddedLogStore::Open(so);
  if (!store_or.ok()) {
    LogError("cannot open store", {{"data_dir", cfg.data_dir}, {"error", store_or.status().ToString()}});
    return 1;
  }
  std::unique_ptr<storage::EmbeddedLogStore> store = std::move(store_or).value();
  const auto& rep = store->recovery_report();
  LogInfo("store opened", {{"data_dir", cfg.data_dir},
                           {"wal_segments", std::to_string(rep.segments)},
                           {"wal_records_replayed", std::to_string(rep.records)},
                           {"parts", std::to_string(store->GetStats().parts)}});
  for (const auto& p : rep.problems) LogWarn("WAL recovery", {{"problem", p}});

  // PII scrubbing, shared by every pipeline (docs/scrubbing.md).
  pipeline::ScrubberOptions sco;
  sco.enabled = cfg.scrub_enabled;
  sco.ips = cfg.scrub_ips;
  sco.emails = cfg.scrub_emails;
  sco.action = cfg.scrub_action == "hash"     ? pipeline::ScrubAction::kHash
               : cfg.scrub_action == "remove" ? pipeline::ScrubAction::kRemove
                                              : pipeline::ScrubAction::kMask;
  sco.hash_secret = cfg.scrub_hash_secret;
  if (sco.hash_secret.empty()) {
    // A random secret made once per data directory, so hashes stay stable across restarts.
    const std::string path = cfg.data_dir + "/scrub.secret";
    if (!ReadFileToString(path, &sco.hash_secret).ok() || sco.hash_secret.size() < 16) {
      std::random_device rd;
      static constexpr char kHex[] = "0123456789abcdef";
      sco.hash_secret.clear();
      for (int i = 0; i < 64; ++i) sco.hash_secret.push_back(kHex[rd() & 15]);
      Status ws = WriteFileAtomic(path, sco.hash_secret);
      if (ws.ok()) ::chmod(path.c_str(), 0600);
      if (!ws.ok()) {
        LogError("cannot write the scrub secret", {{"path", path}, {"error", ws.ToString()}});
        return 1;
      }
    }
  }
  if (!cfg.scrub_keys.empty() || !cfg.scrub_patterns.empty()) {
    pipeline::ScrubRule keys_rule;
    keys_rule.name = "scrub.keys";
    for (size_t pos = 0; pos <= cfg.scrub_keys.size();) {
      size_t comma = std::min(cfg.scrub_keys.find(',', pos), cfg.scrub_keys.size());
      std::string k = cfg.scrub_keys.substr(pos, comma - pos);
      if (!k.empty()) keys_rule.keys.push_back(k);
      pos = comma + 1;
    }
    keys_rule.action = sco.action;
    if (!keys_rule.keys.empty()) sco.custom.push_back(keys_rule);
    size_t n = 0;
    for (size_t pos = 0; pos < cfg.scrub_patterns.size();) {
      size_t nl = std::min(cfg.scrub_patterns.find('\n', pos), cfg.scrub_patterns.size());
      std::string pat = cfg.scrub_patterns.substr(pos, nl - pos);
      if (!pat.empty()) {
        pipeline::ScrubRule r;
        r.name = "scrub.patterns#" + std::to_string(++n);
        r.pattern = pat;
        r.action = sco.action;
        sco.custom.push_back(r);
      }
      pos = nl + 1;
    }
  }
  auto scrubber_or = pipeline::Scrubber::Create(sco);
  if (!scrubber_or.ok()) {
    LogError("bad scrubbing configuration", {{"error", scrubber_or.status().ToString()}});
    return 1;
  }
  std::unique_ptr<pipeline::Scrubber> scrubber = std::move(scrubber_or).value();
  const pipeline::Scrubber* scrub = cfg.scrub_enabled ? scrubber.get() : nullptr;

  pipeline::LogPipelineOptions po;
  po.default_service = cfg.default_service;
  po.scrubber = scrub;
  auto level_pairs = [](const std::string& v) {
    std::vector<std::pair<std::string, model::Level>> out;
    for (size_t pos = 0; pos < v.size();) {
      const size_t comma = std::min(v.find(',', pos), v.size());
      const std::string pair = v.substr(pos, comma - pos);
      const size_t eq = pair.find('=');
      if (eq != std::string::npos) {
        out.emplace_back(pair.substr(0, eq), model::LevelFromText(pair.substr(eq + 1)));
      }
      pos = comma + 1;
    }
    return out;
  };
  po.min_level_by_env = level_pairs(cfg.levels_min_by_env);
  po.min_level_by_service = level_pairs(cfg.levels_min_by_service);
  pipeline::LogPipeline pipe(store.get(), po);
  query::LogQueryEngine engine(store.get(), cfg.query_threads);
  api::LogApiOptions ao;
  ao.max_decompressed_bytes = cfg.max_decompressed_bytes;
  ao.default_service = cfg.default_service;
  api::LogApi log_api(store.get(), &pipe, &engine, ao);

  storage::EmbeddedSpanStoreOptions sso;
  sso.dir = cfg.data_dir;
  sso.wal_fsync = cfg.wal_fsync;
  sso.wal_sync_interval_ms = cfg.wal_sync_interval_ns / 1'000'000;
  sso.flush_interval_ms = cfg.flush_interval_ns / 1'000'000;
  sso.memtable_bytes = cfg.traces_memtable_bytes;
  sso.retention_ns = cfg.retention_ns;
  auto spans_or = storage::EmbeddedSpanStore::Open(sso);
  if (!spans_or.ok()) {
    LogError("cannot open span store",
             {{"data_dir", cfg.data_dir}, {"error", spans_or.status().ToString()}});
    return 1;
  }
  std::unique_ptr<storage::EmbeddedSpanStore> spans = std::move(spans_or).value();
  for (const auto& p : spans->recovery_report().problems) LogWarn("span WAL recovery", {{"problem", p}});
  pipeline::SpanPipelineOptions spo;
  spo.default_service = cfg.default_service;
  spo.scrubber = scrub;
  pipeline::SpanPipeline span_pipe(spans.get(), &pipe, spo);
  query::TraceQuery trace_query(spans.get());
  api::TraceApiOptions tao;
  tao.max_decompressed_bytes = cfg.max_decompressed_bytes;
  api::TraceApi trace_api(&span_pipe, &trace_query, &engine, tao);

  // Error tracking: metadata in SQLite next to the stores, events in the log store.
  issues::IssueStoreOptions iso;
  iso.path = cfg.data_dir + "/issues.db";
  auto issues_or = issues::IssueStore::Open(iso);
  if (!issues_or.ok()) {
    LogError("cannot open the issue database",
             {{"path", iso.path}, {"error", issues_or.status().ToString()}});
    return 1;
  }
  std::unique_ptr<issues::IssueStore> issue_store = std::move(issues_or).value();
  pipeline::ErrorPipeline error_pipe(issue_store.get(), &pipe, scrub);
  api::SentryApiOptions sao;
  sao.organization = cfg.errors_organization;
  sao.public_url = cfg.public_url;
  if (sao.public_url.empty()) {
    const std::string host = cfg.listen_host == "0.0.0.0" || cfg.listen_host.empty()
                                 ? "127.0.0.1"
                                 : cfg.listen_host;
    sao.public_url = "http://" + host + ":" + std::to_string(cfg.listen_port);
  }
  for (size_t pos = 0; pos <= cfg.errors_api_tokens.size();) {
    size_t comma = cfg.errors_api_tokens.find(',', pos);
    if (comma == std::string::npos) comma = cfg.errors_api_tokens.size();
    std::string tok = cfg.errors_api_tokens.substr(pos, comma - pos);
    if (!tok.empty()) sao.api_tokens.push_back(tok);
    pos = comma + 1;
  }
  api::SentryApi sentry_api(issue_store.get(), &error_pipe, &span_pipe, &pipe, store.get(), sao);
  {
    auto def = issue_store->EnsureDefaultProject(cfg.errors_default_key);
    if (!def.ok()) {
      LogError("cannot create the default project", {{"error", def.status().ToString()}});
      return 1;
    }
    LogInfo("error tracking ready", {{"project", def->first.slug},
                                      {"project_id", std::to_string(def->first.id)},
                                      {"dsn", sentry_api.Dsn(def->second)}});
  }

  auto& m = Metrics::Global();
  storage::EmbeddedLogStore* st = store.get();
  m.AddCallbackGauge("sightline_store_parts", "Parts on disk", [st] { return double(st->GetStats().parts); });
  m.AddCallbackGauge("sightline_store_part_bytes", "Bytes of parts on disk",
                     [st] { return double(st->GetStats().part_bytes); });
  m.AddCallbackGauge("sightline_store_part_rows", "Rows in parts", [st] { return double(st->GetStats().part_rows); });
  m.AddCallbackGauge("sightline_store_memtable_rows", "Rows buffered in memory",
                     [st] { return double(st->GetStats().memtable_rows); });
  m.AddCallbackGauge("sightline_wal_bytes", "Bytes in live WAL segments",
                     [st] { return double(st->GetStats().wal_bytes); });
  storage::EmbeddedSpanStore* sp = spans.get();
  m.AddCallbackGauge("sightline_span_parts", "Span parts on disk",
                     [sp] { return double(sp->GetStats().parts); });
  m.AddCallbackGauge("sightline_span_part_bytes", "Bytes of span parts on disk",
                     [sp] { return double(sp->GetStats().part_bytes); });
  m.AddCallbackGauge("sightline_span_part_spans", "Spans in parts",
                     [sp] { return double(sp->GetStats().part_spans); });
  m.AddCallbackGauge("sightline_span_memtable_spans", "Spans buffered in memory",
                     [sp] { return double(sp->GetStats().memtable_spans); });
  m.AddCallbackGauge("sightline_up", "1 while the server runs", [] { return 1.0; });

  http::ServerOptions ho;
  ho.host = cfg.listen_host;
  ho.port = cfg.listen_port;
  ho.threads = cfg.http_threads;
  ho.max_body_bytes = cfg.max_body_bytes;
  http::Server server(ho);
  log_api.Register(&server);
  trace_api.Register(&server);
  sentry_api.Register(&server);
  // Writes everything buffered (logs and spans) to parts now: tests, benchmarks, backups.
  issues::IssueStore* is = issue_store.get();
  server.Route("POST", "/sl/admin/flush", [st, sp, is](const http::Request&, http::Response* r) {
    Status fs = st->Flush();
    if (fs.ok()) fs = sp->Flush();
    if (fs.ok()) fs = is->Flush();
    if (!fs.ok()) {
      r->status = http::HttpStatusFor(fs.code());
      r->body = R"({"status":"error","error":)" + JsonQuoted(fs.message()) + "}";
      return;
    }
    r->body = R"({"status":"success"})";
  });
  server.Route("GET", "/healthz", [](const http::Request&, http::Response* r) {
    r->content_type = "text/plain";
    r->body = "ok\n";
  });
  server.Route("GET", "/readyz", [st, sp](const http::Request&, http::Response* r) {
    r->content_type = "text/plain";
    if (st->Writable() && sp->Writable()) {
      r->body = "ready\n";
    } else {
      r->status = 503;
      r->body = "store not writable\n";
    }
  });
  server.Route("GET", "/metrics", [](const http::Request&, http::Response* r) {
    r->content_type = "text/plain; version=0.0.4";
    r->body = Metrics::Global().RenderPrometheus();
  });
  s = server.Start();
  if (!s.ok()) {
    LogError("cannot start HTTP server", {{"error", s.message()}});
    return 1;
  }
  LogInfo("listening", {{"address", cfg.listen_host + ":" + std::to_string(server.bound_port())},
                        {"wal_fsync", std::string(storage::FsyncPolicyName(cfg.wal_fsync))}});

  // OTLP/gRPC: traces and logs (metrics come with the metrics store).
  rpc::GrpcServerOptions go;
  go.handler_threads = cfg.grpc_threads;
  rpc::GrpcServer grpc_server(go);
  if (!cfg.grpc_listen.empty()) {
    grpc_server.Register("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                         [&trace_api](std::string_view req) {
                           auto r = trace_api.ExportGrpc(req);
                           if (!r.ok()) return rpc::GrpcReply{r.status(), {}};
                           return rpc::GrpcReply{Status::OK(), std::move(r).value()};
                         });
    grpc_server.Register(
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export", [&pipe](std::string_view req) {
          model::LogBatch batch;
          Status st = ingest::DecodeOtlpLogsProto(req, Clock::Real()->NowNs(), &batch);
          pipeline::IngestResult r;
          if (st.ok()) st = pipe.Process("otlp_grpc", &batch, &r);
          if (!st.ok()) return rpc::GrpcReply{st, {}};
          return rpc::GrpcReply{Status::OK(),
                                ingest::EncodeLogsResponseProto(r.rejected, batch.reject_reason)};
        });
    s = grpc_server.Start(cfg.grpc_listen, static_cast<int>(std::min<uint64_t>(
                                               cfg.max_decompressed_bytes, INT32_MAX)));
    if (!s.ok()) {
      LogError("cannot start gRPC server", {{"address", cfg.grpc_listen}, {"error", s.message()}});
      server.Stop();
      return 1;
    }
    LogInfo("listening (OTLP/gRPC)", {{"port", std::to_string(grpc_server.port())}});
  }

  // Hand memory freed after bursts (request buffers, flushed memtables, merge blocks) back to
  // the OS every 10 s: main() raises glibc's trim threshold so hot paths reuse the heap, which
  // would otherwise keep an idle server at its peak RSS.
  std::mutex trim_mu;
  std::condition_variable trim_cv;
  bool stopping = false;
  std::thread trimmer([&] {
    std::unique_lock<std::mutex> l(trim_mu);
    while (!trim_cv.wait_for(l, std::chrono::seconds(10), [&] { return stopping; })) {
      l.unlock();
      malloc_trim(0);
      l.lock();
    }
  });

  int sig = 0;
  sigwait(&sigs, &sig);
  {
    std::lock_guard<std::mutex> l(trim_mu);
    stopping = true;
  }
  trim_cv.notify_all();
  trimmer.join();
  LogInfo("shutting down", {{"signal", std::to_string(sig)}});
  server.Stop();  // stop accepting, finish in-flight requests
  grpc_server.Shutdown();
  Status span_close = spans->Close();
  if (!span_close.ok()) {
    LogError("span store shutdown flush failed; the WAL still holds the data",
             {{"error", span_close.message()}});
  }
  s = store->Close();  // flush the memtable to parts and sync the WAL
  if (!s.ok()) {
    LogError("shutdown flush failed; the WAL still holds the data", {{"error", s.message()}});
    return 1;
  }
  if (!span_close.ok()) return 1;
  LogInfo("stopped");
  return 0;
}

// `sightline projects ...` / `sightline keys ...`: manage error-tracking projects and DSN keys
// in the data directory's issue database (safe while the server runs: SQLite locking).
int ProjectsCli(const std::string& data_dir, const std::string& public_url,
                const std::string& action, const std::string& name, const std::string& slug,
                const std::string& platform, int64_t project_id, bool keys) {
  issues::IssueStoreOptions o;
  o.path = data_dir + "/issues.db";
  o.flush_interval_ms = 0;
  auto st = issues::IssueStore::Open(o);
  if (!st.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", o.path.c_str(), st.status().ToString().c_str());
    return 1;
  }
  auto& store = **st;
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const size_t scheme = base.find("://");
  auto dsn = [&](const issues::ProjectKey& k) {
    if (scheme == std::string::npos) return std::string("(set --public-url)");
    return base.substr(0, scheme + 3) + k.public_key + "@" + base.substr(scheme + 3) + "/" +
           std::to_string(k.project_id);
  };
  if (!keys && action == "create") {
    auto p = store.CreateProject(name, slug, platform);
    if (!p.ok()) {
      std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
      return 1;
    }
    auto k = store.CreateKey(p->id, "Default");
    if (!k.ok()) {
      std::fprintf(stderr, "%s\n", k.status().ToString().c_str());
      return 1;
    }
    std::printf("%lld\t%s\t%s\n", static_cast<long long>(p->id), p->slug.c_str(),
                dsn(*k).c_str());
    return 0;
  }
  if (!keys) {
    std::printf("%-6s %-24s %-24s %s\n", "ID", "SLUG", "NAME", "DSN");
    for (const auto& p : store.ListProjects()) {
      const auto ks = store.ListKeys(p.id);
      std::printf("%-6lld %-24s %-24s %s\n", static_cast<long long>(p.id), p.slug.c_str(),
                  p.name.c_str(), ks.empty() ? "-" : dsn(ks.front()).c_str());
    }
    return 0;
  }
  if (action == "create") {
    auto k = store.CreateKey(project_id, name.empty() ? "Default" : name);
    if (!k.ok()) {
      std::fprintf(stderr, "%s\n", k.status().ToString().c_str());
      return 1;
    }
    std::printf("%s\n", dsn(*k).c_str());
    return 0;
  }
  std::printf("%-8s %-34s %-8s %-12s %s\n", "PROJECT", "PUBLIC KEY", "ACTIVE", "LABEL", "DSN");
  for (const auto& k : store.ListKeys(project_id)) {
    std::printf("%-8lld %-34s %-8s %-12s %s\n", static_cast<long long>(k.project_id),
                k.public_key.c_str(), k.active ? "yes" : "no", k.label.c_str(), dsn(k).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace sightline::server

int main(int argc, char** argv) {
  // Request bodies, WAL payloads and column buffers are tens of MB. With glibc's default
  // (dynamic) mmap threshold each such buffer is a fresh mmap whose pages the kernel must
  // fault in and zero on every request; measured at a third of ingest CPU. Keep them in
  // the heap so freed buffers are reused.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"Sightline: logs, traces, metrics, errors, alerts and health checks in one server"};
  app.require_subcommand(1);
  auto* serve = app.add_subcommand("serve", "run the server");
  std::string config;
  std::string listen, data_dir, fsync, retention;
  std::vector<std::string> sets;
  serve->add_option("-c,--config", config, "YAML configuration file")->envname("SIGHTLINE_CONFIG");
  serve->add_option("--listen", listen, "HTTP listen address host:port");
  serve->add_option("--data-dir", data_dir, "data directory");
  serve->add_option("--wal-fsync", fsync, "always | interval | never");
  serve->add_option("--retention", retention, "e.g. 7d; 0 keeps forever");
  std::string grpc_listen;
  serve->add_option("--grpc-listen", grpc_listen, "OTLP/gRPC listen address host:port, or off");
  serve->add_option("--set", sets, "any config key: --set storage.flush_interval=1s");
  auto* keys = app.add_subcommand("config-keys", "list configuration keys");
  // Error-tracking projects and DSN keys.
  std::string cli_dir = "./sightline-data", public_url = "http://127.0.0.1:4318";
  std::string p_name, p_slug, p_platform;
  int64_t p_id = 0;
  auto* projects = app.add_subcommand("projects", "list or create error-tracking projects");
  projects->require_subcommand(1);
  auto* projects_list = projects->add_subcommand("list", "list projects with their first DSN");
  auto* projects_create = projects->add_subcommand("create", "create a project and a DSN key");
  projects_create->add_option("name", p_name, "project name")->required();
  projects_create->add_option("--slug", p_slug, "URL slug (default: from the name)");
  projects_create->add_option("--platform", p_platform, "python, node, ... (informational)");
  auto* keys_cmd = app.add_subcommand("keys", "list or create DSN keys");
  keys_cmd->require_subcommand(1);
  auto* keys_list = keys_cmd->add_subcommand("list", "list keys (all projects or --project)");
  keys_list->add_option("--project", p_id, "project id");
  auto* keys_create = keys_cmd->add_subcommand("create", "create a key for a project");
  keys_create->add_option("--project", p_id, "project id")->required();
  keys_create->add_option("--label", p_name, "key label");
  for (auto* c : {projects_list, projects_create, keys_list, keys_create}) {
    c->add_option("--data-dir", cli_dir, "data directory")->envname("SIGHTLINE_DATA_DIR");
    c->add_option("--public-url", public_url, "base URL in the printed DSNs")
        ->envname("SIGHTLINE_PUBLIC_URL");
  }
  CLI11_PARSE(app, argc, argv);
  if (*projects || *keys_cmd) {
    const bool create = *projects_create || *keys_create;
    (void)projects_list;
    return sightline::server::ProjectsCli(cli_dir, public_url, create ? "create" : "list",
                                          p_name, p_slug, p_platform, p_id, keys_cmd->parsed());
  }
  if (*keys) {
    for (const auto& [k, d] : sightline::server::ConfigKeys()) std::printf("%-30s %s\n", k.c_str(), d.c_str());
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> flags;
  if (!listen.empty()) flags.emplace_back("listen", listen);
  if (!data_dir.empty()) flags.emplace_back("data_dir", data_dir);
  if (!fsync.empty()) flags.emplace_back("wal.fsync", fsync);
  if (!retention.empty()) flags.emplace_back("storage.retention", retention);
  if (!grpc_listen.empty()) flags.emplace_back("grpc.listen", grpc_listen);
  for (const auto& s : sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "--set expects key=value, got '%s'\n", s.c_str());
      return 2;
    }
    flags.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return sightline::server::Serve(config, flags);
}
