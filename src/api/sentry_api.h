// HTTP handlers for error tracking, in Sentry's protocols so that unmodified Sentry SDKs and
// tools work against Sightline (documented in docs/sentry.md):
//
// Ingest (what SDKs call; sentry_api.cc):
//   POST /api/{project_id}/store/      one JSON event (python sentry-sdk 1.x errors)
//   POST /api/{project_id}/envelope/   envelopes: event, transaction, span, log, session(s),
//                                      client_report items; other item types are skipped
//   Auth from X-Sentry-Auth, "Authorization: Sentry ...", HTTP Basic (user = key), the
//   sentry_key query parameter, or the envelope header's dsn. Bodies may be gzip, deflate,
//   br or zstd (Content-Encoding) and chunked. Replies 200 {"id": event_id} ({} without an
//   event); errors as {"detail": "...", "causes": [...]} with 400/401/403/413/415/429/503.
//
// Read API (what scripts and Grafana's Sentry datasource call; sentry_read_api.cc), under
// Sentry's API-version prefix /api/0/ with one organization (`organization` option):
//   organizations, projects (list, get, create), project keys (list, create), issues (list
//   with query/statsPeriod/cursor paging and Link headers, get, update status, bulk update),
//   an issue's events (list, latest, by id), tags; project events by id.
//   When `api_tokens` is non-empty every /api/0/ request needs "Authorization: Bearer <t>"
//   with one of them (401 otherwise).
//
// Native: GET /sl/issues/activity?after=SEQ&limit=N: the issue activity log (created,
//   regressed, resolved, ... with increasing seq), what alert rules consume.
//
// Handlers hold no state of their own; thread-safe.
#ifndef SIGHTLINE_API_SENTRY_API_H_
#define SIGHTLINE_API_SENTRY_API_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/server.h"
#include "issues/issue_store.h"
#include "model/error_event.h"
#include "pipeline/error_pipeline.h"
#include "pipeline/log_pipeline.h"
#include "pipeline/span_pipeline.h"
#include "storage/store.h"

namespace sightline::api {

struct SentryApiOptions {
  size_t max_decompressed_bytes = 100 << 20;  // a whole envelope (Sentry's limit); 413 above
  size_t max_event_bytes = 1 << 20;           // one event/transaction item (Sentry's 1 MiB)
  std::string organization = "sightline";     // the organization slug of the read API
  std::vector<std::string> api_tokens;        // bearer tokens for /api/0/ ("" list = open)
  std::string public_url;  // base URL in permalinks and DSNs, e.g. "http://host:4318"
  Clock* clock = Clock::Real();
};

class SentryApi {
 public:
  // None of the pointers is owned; all must outlive the SentryApi.
  SentryApi(issues::IssueStore* issues, pipeline::ErrorPipeline* errors,
            pipeline::SpanPipeline* spans, pipeline::LogPipeline* logs,
            storage::LogStore* log_store, SentryApiOptions options);
  void Register(http::Server* server);

  // The DSN of a key: "{scheme}://{key}@{host}/{project_id}" from public_url.
  std::string Dsn(const issues::ProjectKey& key) const;

  // Loads a stored event (the log store's error record) by project, id and time.
  // Errors: NotFound, the store's errors.
  StatusOr<model::ErrorEvent> LoadEvent(const std::string& event_id, int64_t ts_ns);

 private:
  void Dispatch(const http::Request& req, http::Response* res);
  // GET /sl/issues/activity?after=SEQ&limit=N: lifecycle changes (created, regressed, ...).
  void Activity(const http::Request& req, http::Response* res);
  // ---- ingest (sentry_api.cc)
  void Ingest(const http::Request& req, http::Response* res, int64_t project_id, bool envelope);
  // ---- read API (sentry_read_api.cc); `parts` are the path segments after /api/0/.
  void ReadApi(const http::Request& req, http::Response* res,
               const std::vector<std::string>& parts);
  void ListIssues(const http::Request& req, http::Response* res, int64_t project_id);
  void BulkUpdateIssues(const http::Request& req, http::Response* res, int64_t project_id);
  void IssueDetail(const http::Request& req, http::Response* res, int64_t issue_id);
  void UpdateIssue(const http::Request& req, http::Response* res, int64_t issue_id);
  void IssueEvents(const http::Request& req, http::Response* res, int64_t issue_id,
                   const std::string& which);
  void IssueTags(const http::Request& req, http::Response* res, int64_t issue_id);
  void Projects(const http::Request& req, http::Response* res);
  void CreateProject(const http::Request& req, http::Response* res);
  void ProjectKeys(const http::Request& req, http::Response* res, int64_t project_id);
  void Releases(const http::Request& req, http::Response* res, int64_t project_id);
  void ProjectEvent(const http::Request& req, http::Response* res, int64_t project_id,
                    const std::string& event_id);
  // Renders issue JSON in Sentry's shape; `detail` adds tags and more.
  void RenderIssue(const issues::Issue& is, const issues::Project& p, bool detail,
                   const std::string& stats_period, std::string* out);
  void RenderEvent(const model::ErrorEvent& e, const issues::Issue& is, std::string* out);
  void RenderProject(const issues::Project& p, std::string* out);

  issues::IssueStore* issues_;
  pipeline::ErrorPipeline* errors_;
  pipeline::SpanPipeline* spans_;
  pipeline::LogPipeline* logs_;
  storage::LogStore* log_store_;
  SentryApiOptions opt_;
};

}  // namespace sightline::api

#endif  // SIGHTLINE_API_SENTRY_API_H_
