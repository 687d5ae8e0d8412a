// HTTP handlers for logs: ingest (NDJSON, OTLP/HTTP), the native JSON query API under /sl/,
// and Loki's read API under /loki/api/v1/. Documented in docs/api.md. Handlers translate
// between HTTP and the pipeline / query engine; they hold no state of their own.
#ifndef SIGHTLINE_API_LOG_API_H_
#define SIGHTLINE_API_LOG_API_H_

#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "http/server.h"
#include "pipeline/log_pipeline.h"
#include "query/log_engine.h"
#include "storage/store.h"

namespace sightline::api {

struct LogApiOptions {
  size_t max_decompressed_bytes = 256 << 20;  // 413 above, checked while inflating
  std::string default_service = "unknown";
  int64_t default_range_ns = 3600 * kNsPerSec;  // queries without start: the last hour
  size_t max_limit = 10000;
  Clock* clock = Clock::Real();
};

// Parses a time parameter: integer Unix ns (>= 1e15) or seconds (< 1e15, fractions
// allowed), or RFC 3339. Errors: InvalidArgument naming the parameter.
StatusOr<int64_t> ParseTimeParam(const std::string& name, const std::string& value);
// Parses a duration: Prometheus syntax ("5m", "1h30m", "250ms") or float seconds.
StatusOr<int64_t> ParseDurationParam(const std::string& name, const std::string& value);
// RFC 3339 with nanoseconds, UTC: 2026-11-25T09:00:00.123456789Z.
std::string FormatRfc3339Nano(int64_t ns);

class LogApi {
 public:
  // None of the pointers is owned; all must outlive the LogApi.
  LogApi(storage::LogStore* store, pipeline::LogPipeline* pipeline,
         query::LogQueryEngine* engine, LogApiOptions options);
  void Register(http::Server* server);

 private:
  void IngestNdjson(const http::Request& req, http::Response* res);
  void IngestOtlp(const http::Request& req, http::Response* res);
  void NativeQuery(const http::Request& req, http::Response* res);
  void NativeServices(const http::Request& req, http::Response* res);
  void NativeFields(const http::Request& req, http::Response* res);
  void NativeFieldValues(const http::Request& req, http::Response* res);
  void LokiQuery(const http::Request& req, http::Response* res, bool range);
  void LokiLabels(const http::Request& req, http::Response* res);
  void LokiLabelValues(const http::Request& req, http::Response* res);

  // Fills a LogQueryRequest from common parameters (query, start, end, since, limit,
  // direction, step, cursor). A missing or empty `query` becomes `default_query` when that is
  // non-empty (metadata endpoints default to all streams, "{}").
  Status ParseQueryParams(const http::Request& req, bool instant, query::LogQueryRequest* q,
                          const std::string& default_query = "");
  // Distinct values of a field with counts over [start, end), for `selector`, top `limit`.
  StatusOr<std::vector<std::pair<std::string, uint64_t>>> FieldValues(
      const std::string& field, const std::string& selector, int64_t start, int64_t end,
      size_t limit);

  storage::LogStore* store_;
  pipeline::LogPipeline* pipeline_;
  query::LogQueryEngine* engine_;
  LogApiOptions opt_;
};

}  // namespace sightline::api

#endif  // SIGHTLINE_API_LOG_API_H_
