#include "pipeline/span_pipeline.h"


#include <algorithm>

#include "base/metrics.h"
#include "pipeline/scrubber.h"

namespace sightline::pipeline {
namespace {

constexpr int64_t kMaxSpanDurationNs = 31 * kNsPerDay;

// The exception event of span `s` as an error log record.
model::LogRecord ExceptionLog(const model::Span& s, const model::SpanEvent& ev) {
  model::LogRecord r;
  r.ts_ns = ev.time_ns != 0 ? ev.time_ns : s.end_ns;
  r.level = model::Level::kError;
  r.severity_number = 17;
  r.service = s.service;
  r.trace_id = s.trace_id;
  r.span_id = s.span_id;
  std::string type, message;
  for (const auto& a : ev.attrs) {
    if (a.key == "exception.type") type = a.value.ToText();
    if (a.key == "exception.message") message = a.value.ToText();
  }
  r.body = type.empty() ? message : (message.empty() ? type : type + ": " + message);
  if (r.body.empty()) r.body = "exception in " + s.name;
  for (const auto* attrs : {&s.resource_attrs()}) {
    for (const auto& a : *attrs) {
      if (a.key == "deployment.environment.name" || a.key == "deployment.environment") {
        r.env = a.value.ToText();
      } else if (a.key == "host.name") {
        r.host = a.value.ToText();
      }
    }
  }
  r.attrs = ev.attrs;
  r.attrs.push_back({"span.name", model::AttrValue::String(s.name)});
  r.attrs.push_back({"event.name", model::AttrValue::String("exception")});
  model::DedupeAttributes(&r.attrs);
  return r;
}

}  // namespace

SpanPipeline::SpanPipeline(storage::SpanStore* store, LogPipeline* logs,
                           SpanPipelineOptions options)
    : store_(store), logs_(logs), opt_(std::move(options)) {}

Status SpanPipeline::Process(const std::string& protocol, model::SpanBatch* batch,
                             SpanIngestResult* result) {
  auto& m = Metrics::Global();
  Counter* spans = m.GetCounter("sightline_ingest_spans_total{protocol=\"" + protocol + "\"}",
                                "Spans accepted, by protocol");
  Counter* rejected =
      m.GetCounter("sightline_ingest_spans_rejected_total{protocol=\"" + protocol + "\"}",
                   "Spans refused by decoders, by protocol");
  const int64_t now = opt_.clock->NowNs();
  model::LogBatch exceptions;
  exceptions.scrubbed = opt_.scrubber != nullptr;  // built from scrubbed spans
  if (opt_.scrubber != nullptr) {
    static Counter* const scrubbed = Metrics::Global().GetCounter(
        "sightline_scrubbed_values_total{signal=\"spans\"}", "Values scrubbed of PII, by signal");
    size_t n = 0;
    for (auto& s : batch->spans) n += opt_.scrubber->ScrubSpan(&s);
    scrubbed->Inc(n);
  }
  for (auto& s : batch->spans) {
    if (s.start_ns == 0) {
      s.start_ns = now;
      s.end_ns = s.end_ns > now ? s.end_ns : now;
    } else if (s.start_ns < now - opt_.max_past_ns || s.start_ns > now + opt_.max_future_ns) {
      s.attrs.push_back({"sightline.original_start", model::AttrValue::Int(s.start_ns)});
      const int64_t d =
          s.end_ns > s.start_ns ? std::min(s.end_ns - s.start_ns, kMaxSpanDurationNs) : 0;
      s.start_ns = now;
      s.end_ns = now + d;
    }
    if (s.end_ns < s.start_ns) s.end_ns = s.start_ns;
    // Durations beyond this are clock bugs; capping keeps sums and now + d from overflowing.
    if (s.end_ns - s.start_ns > kMaxSpanDurationNs) s.end_ns = s.start_ns + kMaxSpanDurationNs;
    if (s.service.empty()) s.service = opt_.default_service;
    if (logs_ != nullptr) {
      for (const auto& ev : s.events) {
        if (ev.name == "exception") exceptions.records.push_back(ExceptionLog(s, ev));
      }
    }
  }
  result->rejected += batch->rejected;
  rejected->Inc(static_cast<uint64_t>(batch->rejected));
  const size_t n = batch->spans.size();
  SL_RETURN_IF_ERROR(store_->Append(std::move(batch->spans)));
  batch->spans.clear();
  result->accepted += static_cast<int64_t>(n);
  spans->Inc(n);
  if (!exceptions.records.empty()) {
    const auto n = static_cast<int64_t>(exceptions.records.size());
    IngestResult lr;
    SL_RETURN_IF_ERROR(logs_->Process(protocol, &exceptions, &lr));
    result->exceptions += n;
  }
  return Status::OK();
}

}  // namespace sightline::pipeline
