// The path of one error event after decoding: grouping into an issue (issues::GroupEvent and
// IssueStore::RecordEvent), then the event itself into the log store as an error record that
// carries the trace and span ids, so that a trace's logs show its errors and LogQL finds them
// (`{service="checkout"} | sentry_issue_id="12"`). The record's attributes:
//   sentry.event_id, sentry.issue_id, sentry.project_id, sentry.group_variant, release,
//   transaction, culprit, exception.type, exception.message (the crashing exception), and
//   sentry.event: the event in its stored JSON form (issues/event_json.h).
// Record fields: ts = event time, level = event level, service = the event's "service" tag
// if any, else the project slug; env = environment; host = server_name; body = issue title.
#ifndef SIGHTLINE_PIPELINE_ERROR_PIPELINE_H_
#define SIGHTLINE_PIPELINE_ERROR_PIPELINE_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "issues/issue_store.h"
#include "model/error_event.h"
#include "pipeline/log_pipeline.h"

namespace sightline::pipeline {

struct ErrorIngestResult {
  std::string event_id;
  int64_t issue_id = 0;
  bool created = false;
  bool regressed = false;
  bool duplicate = false;  // seen recently: neither counted nor stored again
};

class ErrorPipeline {
 public:
  // No pointer is owned; all must outlive the pipeline. `scrubber` may be null (no PII
  // scrubbing); otherwise events are scrubbed before grouping, so no issue title, tag or
  // stored event holds what it removes.
  ErrorPipeline(issues::IssueStore* issues, LogPipeline* logs, const Scrubber* scrubber = nullptr);

  // Records `*e` (which may be modified: a missing event id is generated) for project
  // `project_id`, whose slug names the service when the event has no "service" tag.
  // The issue is updated first, then the event is appended to the log store; an error from
  // the log store is returned (the SDK may resend; the event id dedupes the issue count only
  // within the dedupe window). Errors: NotFound (project), the stores' errors.
  // Thread-safe.
  StatusOr<ErrorIngestResult> Process(int64_t project_id, const std::string& project_slug,
                                      model::ErrorEvent* e);

 private:
  issues::IssueStore* issues_;
  LogPipeline* logs_;
  const Scrubber* scrubber_;
};

}  // namespace sightline::pipeline

#endif  // SIGHTLINE_PIPELINE_ERROR_PIPELINE_H_
