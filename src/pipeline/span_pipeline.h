// The ingest pipeline for spans: every trace decoder's output (OTLP over HTTP or gRPC, Zipkin)
// passes through here before it reaches the span store.
//
//   * normalization: a span without a start time gets the receive time; an end before the
//     start becomes the start (duration 0); spans without a service get default_service;
//     implausible start times (further than max_past/max_future from now) are moved to the
//     receive time with the original kept as attribute `sightline.original_start`;
//   * exceptions: every span event named "exception" (OpenTelemetry's recordException, Zipkin
//     error annotations) also becomes an error-level log record carrying the trace and span
//     id, the service, the exception attributes and the span name, so recorded exceptions are
//     found by log queries ({level="error"}) and grouped by error tracking;
//   * then SpanStore::Append (which also feeds the RED and service-map rollups).
//
// Thread-safe: Process may be called concurrently.
#ifndef SIGHTLINE_PIPELINE_SPAN_PIPELINE_H_
#define SIGHTLINE_PIPELINE_SPAN_PIPELINE_H_

#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "model/span.h"
#include "pipeline/log_pipeline.h"
#include "storage/span_store.h"

namespace sightline::pipeline {

struct SpanPipelineOptions {
  int64_t max_past_ns = 365 * kNsPerDay;
  int64_t max_future_ns = 2 * 3600 * kNsPerSec;
  std::string default_service = "unknown";
  Clock* clock = Clock::Real();
  // PII scrubbing of span and event attributes before storage; null = none. Not owned.
  const Scrubber* scrubber = nullptr;
};

struct SpanIngestResult {
  int64_t accepted = 0;
  int64_t rejected = 0;    // refused by the decoder
  int64_t exceptions = 0;  // exception events also stored as error logs
};

class SpanPipeline {
 public:
  // Neither pointer is owned; both must outlive the pipeline. `logs` may be null (then
  // exception events are not copied to the log store).
  SpanPipeline(storage::SpanStore* store, LogPipeline* logs, SpanPipelineOptions options);
  // Normalizes `batch`, stores exception events as logs, appends the spans. `protocol` labels
  // metrics ("otlp_http_proto", "otlp_grpc", "zipkin_json", ...). On OK the spans are
  // acknowledged. Errors from the stores are returned unchanged (Unavailable,
  // ResourceExhausted, IOError). Spans are appended first; if the exception logs then fail,
  // the error is returned and a retried export stores the spans again (deduplicated by
  // readers).
  Status Process(const std::string& protocol, model::SpanBatch* batch, SpanIngestResult* result);

 private:
  storage::SpanStore* store_;
  LogPipeline* logs_;
  SpanPipelineOptions opt_;
};

}  // namespace sightline::pipeline

#endif  // SIGHTLINE_PIPELINE_SPAN_PIPELINE_H_
