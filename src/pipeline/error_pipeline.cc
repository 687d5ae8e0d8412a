#include "pipeline/error_pipeline.h"

#include <random>

#include "base/metrics.h"
#include "issues/event_json.h"
#include "issues/grouping.h"
#include "pipeline/scrubber.h"

namespace sightline::pipeline {
namespace {

std::string RandomEventId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) id[half * 16 + i] = kHex[v & 15];
  }
  return id;
}

std::string TagValue(const model::ErrorEvent& e, std::string_view key) {
  for (const auto& [k, v] : e.tags) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

ErrorPipeline::ErrorPipeline(issues::IssueStore* issues, LogPipeline* logs,
                             const Scrubber* scrubber)
    : issues_(issues), logs_(logs), scrubber_(scrubber) {}

StatusOr<ErrorIngestResult> ErrorPipeline::Process(int64_t project_id,
                                                   const std::string& project_slug,
                                                   model::ErrorEvent* e) {
  static Counter* const events = Metrics::Global().GetCounter(
      "sightline_error_events_total", "Error events accepted (Sentry SDKs)");
  static Counter* const dups = Metrics::Global().GetCounter(
      "sightline_error_events_duplicate_total", "Error events dropped as recent duplicates");
  static Counter* const created = Metrics::Global().GetCounter(
      "sightline_issues_created_total", "Issues created by new events");
  static Counter* const regressed = Metrics::Global().GetCounter(
      "sightline_issues_regressed_total", "Resolved issues reopened by a new event");

  if (e->event_id.empty()) e->event_id = RandomEventId();
  if (scrubber_ != nullptr) {
    static Counter* const scrubbed = Metrics::Global().GetCounter(
        "sightline_scrubbed_values_total{signal=\"errors\"}", "Values scrubbed of PII, by signal");
    scrubbed->Inc(scrubber_->ScrubEvent(e));
  }
  const issues::GroupingResult g = issues::GroupEvent(*e);
  auto rec = issues_->RecordEvent(project_id, g, *e);
  if (!rec.ok()) return rec.status();
  ErrorIngestResult out;
  out.event_id = e->event_id;
  out.issue_id = rec->issue_id;
  out.created = rec->created;
  out.regressed = rec->regressed;
  out.duplicate = rec->duplicate;
  if (out.duplicate) {
    dups->Inc();
    return out;
  }
  if (out.created) created->Inc();
  if (out.regressed) regressed->Inc();

  model::LogBatch batch;
  batch.scrubbed = scrubber_ != nullptr;
  model::LogRecord& r = batch.records.emplace_back();
  r.ts_ns = e->ts_ns;
  r.observed_ns = e->received_ns;
  r.level = model::LevelFromText(e->level);
  if (r.level == model::Level::kUnknown) r.level = model::Level::kError;
  r.service = TagValue(*e, "service");
  if (r.service.empty()) r.service = TagValue(*e, "service.name");
  if (r.service.empty()) r.service = project_slug;
  r.env = e->environment;
  r.host = e->server_name;
  r.body = g.title;
  r.trace_id = e->trace_id;
  r.span_id = e->span_id;
  auto add = [&r](const char* key, std::string_view v) {
    if (!v.empty()) r.attrs.push_back({key, model::AttrValue::String(v)});
  };
  add("sentry_event_id", e->event_id);
  r.attrs.push_back({"sentry_issue_id", model::AttrValue::Int(out.issue_id)});
  r.attrs.push_back({"sentry_project_id", model::AttrValue::Int(project_id)});
  add("sentry_group_variant", g.variant);
  add("release", e->release);
  add("transaction", e->transaction);
  add("culprit", g.culprit);
  if (!e->exceptions.empty()) {
    add("exception.type", e->exceptions.back().type);
    add("exception.message", e->exceptions.back().value);
  }
  std::string payload;
  issues::EncodeEventPayload(*e, &payload);
  r.attrs.push_back({"sentry_event", model::AttrValue::String(payload)});
  IngestResult ir;
  SL_RETURN_IF_ERROR(logs_->Process("sentry", &batch, &ir));
  events->Inc();
  return out;
}

}  // namespace sightline::pipeline
