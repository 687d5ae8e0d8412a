// The ingest pipeline for log records: every decoder's output passes through here before it
// reaches the store. Today it normalizes (fills missing times, clamps implausible ones,
// defaults the service) and counts; PII scrubbing, level policy and quotas plug in here.
//
// Thread-safe: Process may be called concurrently.
#ifndef SIGHTLINE_PIPELINE_LOG_PIPELINE_H_
#define SIGHTLINE_PIPELINE_LOG_PIPELINE_H_

#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "model/log_record.h"
#include "storage/store.h"

namespace sightline::pipeline {
class Scrubber;
}

namespace sightline::pipeline {

struct LogPipelineOptions {
  // Records whose time lies further in the past / future than this are stamped with the
  // receive time instead; the original is kept in attribute `sightline.original_ts`.
  int64_t max_past_ns = 365 * kNsPerDay;
  int64_t max_future_ns = 2 * 3600 * kNsPerSec;
  // Service of records that name none (from any protocol).
  std::string default_service = "unknown";
  Clock* clock = Clock::Real();
  // PII scrubbing of bodies and attributes before the store sees them; null = none. Not
  // owned; must outlive the pipeline.
  const Scrubber* scrubber = nullptr;
  // Log-level policy: records below the minimum level of their service (first match), else
  // of their environment (record env), are dropped and counted in
  // sightline_ingest_dropped_total{reason="level",level=...}. Records of unknown level are
  // kept. Names compare exactly.
  std::vector<std::pair<std::string, model::Level>> min_level_by_service;
  std::vector<std::pair<std::string, model::Level>> min_level_by_env;
};

struct IngestResult {
  int64_t accepted = 0;
  int64_t rejected = 0;  // refused by the decoder (counted by the caller's batch)
  int64_t clamped = 0;   // timestamps replaced by the receive time
  int64_t dropped = 0;   // below the level policy's minimum (not stored, counted)
};

class LogPipeline {
 public:
  // `store` is not owned and must outlive the pipeline.
  LogPipeline(storage::LogStore* store, LogPipelineOptions options);

  // Normalizes `batch` and appends its records to the store. `protocol` labels metrics
  // ("ndjson", "otlp_http", ...). On OK the records are acknowledged. Errors from the
  // store are returned unchanged (Unavailable, IOError).
  Status Process(const std::string& protocol, model::LogBatch* batch, IngestResult* result);

 private:
  storage::LogStore* store_;
  LogPipelineOptions opt_;
};

}  // namespace sightline::pipeline

#endif  // SIGHTLINE_PIPELINE_LOG_PIPELINE_H_
