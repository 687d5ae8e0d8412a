// Sentry ingest: /api/{project_id}/store/ and /api/{project_id}/envelope/. The read API is in
// sentry_read_api.cc.
#include "api/sentry_api.h"

#include <algorithm>
#include <cctype>

#include "base/base64.h"
#include "base/json.h"
#include "base/log.h"
#include "base/metrics.h"
#include "http/decompress.h"
#include "http/status_map.h"
#include "ingest/sentry.h"
#include "ingest/sentry_items.h"
#include "simdjson.h"

namespace sightline::api {
namespace {

// Sentry's error body: {"detail": "...", "causes": [...]}, plus the headers SDKs act on.
void SentryError(http::Response* res, const Status& s, std::string_view detail = "") {
  res->status = http::HttpStatusFor(s.code());
  res->content_type = "application/json";
  res->body = "{\"detail\":";
  JsonQuote(detail.empty() ? std::string_view(s.message()) : detail, &res->body);
  if (!detail.empty()) {
    res->body += ",\"causes\":[";
    JsonQuote(s.message(), &res->body);
    res->body += "]";
  }
  res->body += "}";
  if (res->status == 429) {
    // python sentry-sdk 1.9 needs integer seconds and at least three fields.
    res->headers.emplace_back("Retry-After", "1");
    res->headers.emplace_back("X-Sentry-Rate-Limits", "1::organization:overloaded");
  } else if (res->status == 503) {
    res->headers.emplace_back("Retry-After", "1");
  }
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The public key from the request's auth sources (header, Basic, query). Returns
// Unauthenticated when two sources name different keys; "" when there is none.
StatusOr<std::string> KeyFromRequest(const http::Request& req) {
  std::vector<std::string> keys;
  ingest::SentryAuth auth;
  const std::string xauth = req.Header("x-sentry-auth");
  if (!xauth.empty()) {
    if (!ingest::ParseSentryAuth(xauth, &auth)) {
      return Unauthenticated("invalid X-Sentry-Auth header: no sentry_key");
    }
    keys.push_back(auth.key);
  }
  const std::string authz_header = req.Header("authorization");
  const std::string_view authz = authz_header;
  if (authz.size() > 6 && (authz.substr(0, 6) == "Basic " || authz.substr(0, 6) == "basic ")) {
    std::string user;
    if (!DecodeBase64(authz.substr(6), &user)) user.clear();
    user.resize(std::min(user.find(':'), user.size()));
    if (user.empty()) return Unauthenticated("invalid Basic authorization");
    keys.push_back(user);
  } else if (authz.size() > 7 && ingest::ParseSentryAuth(authz, &auth)) {
    keys.push_back(auth.key);
  }
  const auto q = req.target.find('?');
  if (q != std::string::npos && req.target.find("sentry_key=", q) != std::string::npos) {
    if (!ingest::ParseSentryAuth(std::string_view(req.target).substr(q), &auth)) {
      return Unauthenticated("invalid sentry_key query parameter");
    }
    keys.push_back(auth.key);
  }
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i] != keys[0]) return Unauthenticated("multiple authorization payloads detected");
  }
  return keys.empty() ? std::string() : keys[0];
}

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Client-report categories and reasons SDKs send; anything else is counted as "other" so a
// client cannot create unbounded metric series.
std::string_view KnownOr(std::string_view v, std::initializer_list<std::string_view> known) {
  for (std::string_view k : known) {
    if (v == k) return k;
  }
  return "other";
}

void CountDiscards(const std::vector<ingest::SentryDiscard>& discards) {
  for (const auto& d : discards) {
    const std::string_view reason =
        KnownOr(d.reason, {"queue_overflow", "cache_overflow", "ratelimit_backoff",
                           "network_error", "sample_rate", "before_send", "event_processor",
                           "send_error", "internal_sdk_error", "insufficient_data", "backpressure"});
    const std::string_view category =
        KnownOr(d.category, {"default", "error", "transaction", "span", "log_item", "session",
                             "attachment", "profile", "replay", "security", "monitor"});
    Metrics::Global()
        .GetCounter("sightline_sentry_client_discarded_total{reason=\"" + std::string(reason) +
                        "\",category=\"" + std::string(category) + "\"}",
                    "Events SDKs report they dropped (client_report items)")
        ->Inc(d.quantity);
  }
}

}  // namespace

SentryApi::SentryApi(issues::IssueStore* issues, pipeline::ErrorPipeline* errors,
                     pipeline::SpanPipeline* spans, pipeline::LogPipeline* logs,
                     storage::LogStore* log_store, SentryApiOptions options)
    : issues_(issues),
      errors_(errors),
      spans_(spans),
      logs_(logs),
      log_store_(log_store),
      opt_(std::move(options)) {}

void SentryApi::Register(http::Server* server) {
  server->RoutePrefix("*", "/api/", [this](const http::Request& q, http::Response* r) {
    Dispatch(q, r);
  });
  server->Route("GET", "/sl/issues/activity", [this](const http::Request& q, http::Response* r) {
    Activity(q, r);
  });
}

void SentryApi::Activity(const http::Request& req, http::Response* res) {
  int64_t after = 0, limit = 1000;
  try {
    if (req.HasParam("after")) after = std::stoll(req.Param("after"));
    if (req.HasParam("limit")) limit = std::stoll(req.Param("limit"));
  } catch (const std::exception&) {
    return SentryError(res, InvalidArgument("after and limit must be integers"));
  }
  limit = std::clamp<int64_t>(limit, 1, 10000);
  auto rows = issues_->Activity(after, static_cast<size_t>(limit));
  if (!rows.ok()) return SentryError(res, rows.status());
  std::string& o = res->body;
  o = "{\"activity\":[";
  for (size_t i = 0; i < rows->size(); ++i) {
    const auto& a = (*rows)[i];
    if (i > 0) o.push_back(',');
    o += "{\"seq\":" + std::to_string(a.seq) + ",\"issueId\":" + std::to_string(a.issue_id) +
         ",\"projectId\":" + std::to_string(a.project_id) + ",\"timeUnixNano\":\"" +
         std::to_string(a.ts_ns) + "\",\"kind\":" + JsonQuoted(a.kind) +
         ",\"detail\":" + JsonQuoted(a.detail) + "}";
  }
  o += "],\"next\":" + std::to_string(rows->empty() ? after : rows->back().seq) + "}";
}

std::string SentryApi::Dsn(const issues::ProjectKey& key) const {
  std::string base = opt_.public_url.empty() ? "http://127.0.0.1:4318" : opt_.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const size_t scheme_end = base.find("://");
  if (scheme_end == std::string::npos) return base;
  return base.substr(0, scheme_end + 3) + key.public_key + "@" + base.substr(scheme_end + 3) +
         "/" + std::to_string(key.project_id);
}

void SentryApi::Dispatch(const http::Request& req, http::Response* res) {
  std::vector<std::string> parts;
  std::string_view p = std::string_view(req.path).substr(5);  // after "/api/"
  while (!p.empty()) {
    const size_t slash = p.find('/');
    parts.emplace_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  if (!parts.empty() && parts[0] == "0") {
    parts.erase(parts.begin());
    return ReadApi(req, res, parts);
  }
  if (parts.size() == 2 && AllDigits(parts[0]) &&
      (parts[1] == "store" || parts[1] == "envelope")) {
    // Browser SDKs preflight their POSTs.
    res->headers.emplace_back("Access-Control-Allow-Origin", "*");
    res->headers.emplace_back("Access-Control-Expose-Headers",
                              "X-Sentry-Error, X-Sentry-Rate-Limits, Retry-After");
    if (req.method == "OPTIONS") {
      res->headers.emplace_back("Access-Control-Allow-Methods", "POST");
      res->headers.emplace_back("Access-Control-Allow-Headers",
                                "Content-Type, Content-Encoding, X-Sentry-Auth, Authorization");
      res->body.clear();
      return;
    }
    if (req.method != "POST") {
      res->status = 405;
      res->body = R"({"detail":"method not allowed: use POST"})";
      return;
    }
    return Ingest(req, res, std::stoll(parts[0]), parts[1] == "envelope");
  }
  res->status = 404;
  res->body = "{\"detail\":\"no such endpoint: " + req.path + "\"}";
}

void SentryApi::Ingest(const http::Request& req, http::Response* res, int64_t project_id,
                       bool envelope) {
  static Counter* const skipped = Metrics::Global().GetCounter(
      "sightline_sentry_items_skipped_total",
      "Envelope items not stored (attachments, profiles, replays, unknown types)");
  const int64_t now = opt_.clock->NowNs();
  auto key_or = KeyFromRequest(req);
  if (!key_or.ok()) return SentryError(res, key_or.status());
  std::string key = std::move(key_or).value();

  auto body_or = http::Decompress(req.body, req.Header("content-encoding"),
                                  opt_.max_decompressed_bytes);
  if (!body_or.ok()) return SentryError(res, body_or.status(), "invalid request body");
  const std::string body = std::move(body_or).value();
  if (body.empty()) return SentryError(res, InvalidArgument("empty request body"));

  // /store/ takes a JSON event; an envelope posted there is accepted too (Relay does).
  if (!envelope) {
    const std::string ct = LowerAscii(req.Header("content-type"));
    const size_t first = body.find_first_not_of(" \t\r\n");
    if (ct.rfind("application/x-sentry-envelope", 0) == 0 ||
        (first != std::string::npos && body[first] != '{')) {
      envelope = true;
    } else if (body.size() > opt_.max_event_bytes) {
      return SentryError(res, PayloadTooLarge("event exceeds " +
                                              std::to_string(opt_.max_event_bytes) + " bytes"));
    }
  }
  ingest::SentryEnvelope env;
  if (envelope) {
    Status s = ingest::ParseSentryEnvelope(body, &env);
    if (!s.ok()) return SentryError(res, s, "invalid event envelope");
    if (key.empty() && !env.dsn.empty()) {
      ingest::SentryDsn dsn;
      if (!ingest::ParseSentryDsn(env.dsn, &dsn)) {
        return SentryError(res, Unauthenticated("invalid dsn in the envelope header"));
      }
      key = dsn.public_key;
    }
  }
  if (key.empty()) return SentryError(res, Unauthenticated("missing authorization information"));
  auto owner = issues_->ProjectForKey(LowerAscii(key));
  if (!owner.ok()) return SentryError(res, PermissionDenied("unknown or disabled public key"));
  if (*owner != project_id) {
    return SentryError(res, PermissionDenied("the public key does not belong to project " +
                                             std::to_string(project_id)));
  }
  auto project = issues_->GetProject(project_id);
  if (!project.ok()) return SentryError(res, project.status());
  const std::string& service = project->slug;

  std::string event_id;  // of the envelope's event or transaction, for the reply
  auto ingest_event = [&](std::string_view json, const std::string& envelope_event_id) {
    model::ErrorEvent ev;
    SL_RETURN_IF_ERROR(ingest::DecodeSentryEvent(json, now, &ev));
    std::string id;
    if (!envelope_event_id.empty() && ingest::NormalizeSentryEventId(envelope_event_id, &id)) {
      ev.event_id = id;  // the envelope header wins over the payload
    }
    ev.project_id = std::to_string(project_id);
    auto r = errors_->Process(project_id, service, &ev);
    if (!r.ok()) return r.status();
    event_id = r->event_id;
    return Status::OK();
  };

  if (!envelope) {
    Status s = ingest_event(body, "");
    if (!s.ok()) {
      return SentryError(res, s, s.code() == Code::kInvalidArgument ? "invalid event" : "");
    }
  } else {
    for (const auto& item : env.items) {
      const std::string& t = item.type;
      const bool big_item = t == "event" || t == "transaction" || t == "span" || t == "log";
      if (big_item && item.payload.size() > opt_.max_event_bytes) {
        return SentryError(res, PayloadTooLarge("envelope exceeded size limits for type '" + t +
                                                "' (" + std::to_string(opt_.max_event_bytes) +
                                                " bytes)"));
      }
      Status s;
      if (t == "event") {
        s = ingest_event(item.payload, env.event_id);
      } else if (t == "transaction" || t == "span") {
        model::SpanBatch batch;
        s = t == "span" ? ingest::DecodeSentrySpans(item.payload, now, service, &batch)
                        : ingest::DecodeSentryTransaction(item.payload, now, service, &batch);
        pipeline::SpanIngestResult r;
        if (s.ok() && !batch.spans.empty()) s = spans_->Process("sentry", &batch, &r);
        if (s.ok() && t == "transaction") {
          std::string id;
          if (ingest::NormalizeSentryEventId(env.event_id, &id)) event_id = id;
        }
      } else if (t == "log") {
        model::LogBatch batch;
        s = ingest::DecodeSentryLogs(item.payload, now, service, &batch);
        pipeline::IngestResult r;
        if (s.ok() && !batch.records.empty()) s = logs_->Process("sentry", &batch, &r);
      } else if (t == "session" || t == "sessions") {
        std::vector<ingest::SentrySessionBucket> buckets;
        s = t == "session" ? ingest::DecodeSentrySession(item.payload, &buckets)
                           : ingest::DecodeSentrySessionAggregates(item.payload, &buckets);
        for (const auto& b : buckets) {
          if (!s.ok()) break;
          issues::SessionCounts c;
          c.started = b.started;
          c.exited = b.exited;
          c.errored = b.errored;
          c.crashed = b.crashed;
          c.abnormal = b.abnormal;
          s = issues_->RecordSessions(project_id, b.release, b.environment, b.started_ns, c);
        }
      } else if (t == "client_report") {
        std::vector<ingest::SentryDiscard> discards;
        s = ingest::DecodeSentryClientReport(item.payload, &discards);
        if (s.ok()) CountDiscards(discards);
      } else {
        skipped->Inc();
        continue;
      }
      if (s.ok()) continue;
      // A malformed item fails the request (as Relay does) so the SDK reports the loss; items
      // before it are kept. Store errors keep their codes (429/503: the SDK backs off).
      if (s.code() == Code::kInvalidArgument) {
        return SentryError(res, s, "invalid '" + t + "' item");
      }
      LogWarn("sentry ingest failed", {{"item", t}, {"error", s.ToString()}});
      return SentryError(res, s);
    }
  }
  res->status = 200;
  res->content_type = "application/json";
  res->body = event_id.empty() ? "{}" : "{\"id\":\"" + event_id + "\"}";
}

StatusOr<model::ErrorEvent> SentryApi::LoadEvent(const std::string& event_id, int64_t ts_ns) {
  storage::LogScanSpec spec;
  spec.start_ns = ts_ns;
  spec.end_ns = ts_ns + 1;
  storage::FieldMatcher m;
  m.field = "sentry_event_id";
  m.value = event_id;
  spec.matchers.push_back(std::move(m));
  spec.words.push_back(event_id);  // lets the token blooms skip blocks
  std::vector<storage::BlockRef> blocks;
  storage::ScanStats stats;
  SL_RETURN_IF_ERROR(log_store_->PlanScan(spec, &blocks, &stats));
  std::vector<model::LogRecord> rows;
  for (const auto& b : blocks) {
    SL_RETURN_IF_ERROR(log_store_->ReadBlock(b, spec, &rows, &stats));
    if (!rows.empty()) break;
  }
  for (const auto& r : rows) {
    const model::AttrValue* v = r.FindAttr("sentry_event");
    if (v == nullptr) continue;
    model::ErrorEvent ev;
    SL_RETURN_IF_ERROR(ingest::DecodeSentryEvent(v->str, r.observed_ns, &ev));
    ev.received_ns = r.observed_ns;
    if (const auto* pid = r.FindAttr("sentry_project_id")) ev.project_id = pid->ToText();
    return ev;
  }
  return NotFound("event " + event_id + " not found");
}

}  // namespace sightline::api
