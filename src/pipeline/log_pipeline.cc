#include "pipeline/log_pipeline.h"


#include "base/metrics.h"
#include "pipeline/scrubber.h"

namespace sightline::pipeline {

LogPipeline::LogPipeline(storage::LogStore* store, LogPipelineOptions options)
    : store_(store), opt_(options) {}

Status LogPipeline::Process(const std::string& protocol, model::LogBatch* batch,
                            IngestResult* result) {
  auto& m = Metrics::Global();
  Counter* records = m.GetCounter("sightline_ingest_records_total{protocol=\"" + protocol + "\"}",
                                  "Log records accepted, by protocol");
  Counter* rejected = m.GetCounter("sightline_ingest_rejected_total{protocol=\"" + protocol + "\"}",
                                   "Log records refused by decoders, by protocol");
  Counter* clamped = m.GetCounter("sightline_ingest_clamped_timestamps_total",
                                  "Records whose implausible timestamp was replaced");
  const int64_t now = opt_.clock->NowNs();
  for (auto& r : batch->records) {
    if (r.observed_ns == 0) r.observed_ns = now;
    if (r.ts_ns == 0) {
      r.ts_ns = r.observed_ns;
    } else if (r.ts_ns < now - opt_.max_past_ns || r.ts_ns > now + opt_.max_future_ns) {
      r.attrs.push_back({"sightline.original_ts", model::AttrValue::Int(r.ts_ns)});
      r.ts_ns = r.observed_ns;
      result->clamped++;
    }
    if (r.service.empty()) r.service = opt_.default_service;
    if (r.level == model::Level::kUnknown && r.severity_number > 0)
      r.level = model::LevelFromSeverityNumber(r.severity_number);
  }
  if (!opt_.min_level_by_service.empty() || !opt_.min_level_by_env.empty()) {
    auto min_level = [this](const model::LogRecord& r) {
      for (const auto& [svc, lvl] : opt_.min_level_by_service) {
        if (svc == r.service) return lvl;
      }
      for (const auto& [env, lvl] : opt_.min_level_by_env) {
        if (env == r.env) return lvl;
      }
      return model::Level::kUnknown;  // no policy: keep everything
    };
    auto& recs = batch->records;
    size_t kept = 0;
    for (size_t i = 0; i < recs.size(); ++i) {
      const model::Level lvl = recs[i].level;
      if (lvl != model::Level::kUnknown && lvl < min_level(recs[i])) {
        Metrics::Global()
            .GetCounter("sightline_ingest_dropped_total{reason=\"level\",level=\"" +
                            std::string(model::LevelName(lvl)) + "\"}",
                        "Records not stored, by reason")
            ->Inc();
        result->dropped++;
        continue;
      }
      if (kept != i) recs[kept] = std::move(recs[i]);
      ++kept;
    }
    recs.resize(kept);
  }
  if (opt_.scrubber != nullptr && !batch->scrubbed) {
    static Counter* const scrubbed = Metrics::Global().GetCounter(
        "sightline_scrubbed_values_total{signal=\"logs\"}", "Values scrubbed of PII, by signal");
    size_t n = 0;
    for (auto& r : batch->records) n += opt_.scrubber->ScrubRecord(&r);
    scrubbed->Inc(n);
  }
  result->rejected += batch->rejected;
  rejected->Inc(static_cast<uint64_t>(batch->rejected));
  const size_t n = batch->records.size();
  if (n > 0) SL_RETURN_IF_ERROR(store_->Append(std::move(batch->records)));
  batch->records.clear();
  result->accepted += static_cast<int64_t>(n);
  records->Inc(n);
  clamped->Inc(static_cast<uint64_t>(result->clamped));
  return Status::OK();
}

}  // namespace sightline::pipeline
