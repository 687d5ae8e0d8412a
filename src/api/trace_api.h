// HTTP handlers for traces: OTLP/HTTP trace ingest (/v1/traces), Zipkin v2 ingest
// (/api/v2/spans), the native JSON API under /sl/traces/, and the Jaeger query API that
// Grafana's Jaeger datasource calls, under /jaeger/api/. Documented in docs/api.md.
// ExportGrpc serves OTLP/gRPC TraceService/Export for the gRPC transport.
//
// Handlers hold no state of their own; thread-safe.
#ifndef SIGHTLINE_API_TRACE_API_H_
#define SIGHTLINE_API_TRACE_API_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "http/server.h"
#include "pipeline/span_pipeline.h"
#include "query/log_engine.h"
#include "query/trace_query.h"

namespace sightline::api {

struct TraceApiOptions {
  size_t max_decompressed_bytes = 256 << 20;
  int64_t default_range_ns = 3600 * kNsPerSec;  // searches without start: the last hour
  size_t default_limit = 20;
  size_t max_limit = 1000;
  size_t max_trace_logs = 1000;  // logs returned with a trace
  Clock* clock = Clock::Real();
};

class TraceApi {
 public:
  // None of the pointers is owned; all must outlive the TraceApi. `logs` may be null (traces
  // are then returned without their logs).
  TraceApi(pipeline::SpanPipeline* pipeline, query::TraceQuery* traces, query::LogQueryEngine* logs,
           TraceApiOptions options);
  void Register(http::Server* server);

  // OTLP/gRPC TraceService/Export: decodes a binary ExportTraceServiceRequest, ingests it and
  // returns the binary ExportTraceServiceResponse. Errors: InvalidArgument (malformed),
  // PayloadTooLarge, and the pipeline's (Unavailable, ResourceExhausted, IOError).
  StatusOr<std::string> ExportGrpc(std::string_view request);

 private:
  void IngestOtlp(const http::Request& req, http::Response* res);
  void IngestZipkin(const http::Request& req, http::Response* res);
  void GetTrace(const http::Request& req, http::Response* res);
  void Search(const http::Request& req, http::Response* res);
  void Services(const http::Request& req, http::Response* res);
  void ServiceMap(const http::Request& req, http::Response* res);
  void Red(const http::Request& req, http::Response* res);
  void JaegerServices(const http::Request& req, http::Response* res);
  void JaegerServicePath(const http::Request& req, http::Response* res);
  void JaegerOperations(const http::Request& req, http::Response* res);
  void JaegerTraces(const http::Request& req, http::Response* res);
  void JaegerTrace(const http::Request& req, http::Response* res);
  void JaegerDependencies(const http::Request& req, http::Response* res);

  // [start, end) from start/end/since/lookback parameters; default the last hour.
  Status ParseRange(const http::Request& req, int64_t* start, int64_t* end) const;

  pipeline::SpanPipeline* pipeline_;
  query::TraceQuery* traces_;
  query::LogQueryEngine* logs_;
  TraceApiOptions opt_;
};

// Parses a Go-style duration as Jaeger and Grafana send them: "1.5s", "100ms", "250us",
// "1m30s", or a bare number of microseconds. Errors: InvalidArgument naming `name`.
StatusOr<int64_t> ParseSpanDuration(const std::string& name, const std::string& value);

}  // namespace sightline::api

#endif  // SIGHTLINE_API_TRACE_API_H_
