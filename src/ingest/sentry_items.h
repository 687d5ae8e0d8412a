// Decoders for the non-error Sentry envelope items: transactions and span (v2) items become
// spans, log items become log records, session updates and aggregates become per-release
// session counts, client reports become discard counts. Error events are in ingest/sentry.h.
//
// Mapping (documented for users in docs/sentry.md):
//   transaction: one span for the transaction itself (contexts.trace: trace_id, span_id,
//     parent_span_id, op, status, origin, data; start_timestamp / timestamp; name =
//     "transaction") plus one per entry of "spans" (span_id, parent_span_id, trace_id, op,
//     description, start_timestamp, timestamp, status, origin, data, tags; name = description,
//     else op; a missing trace_id / parent_span_id is the transaction's trace / span).
//     Kind: a "sentry.kind" / "otel.kind" data entry when it names a kind, else from the op:
//     http.server* -> server, http.client* -> client, db / db.* -> client, else internal.
//     Service = a "service.name" data or tag entry (not kept as an attribute), else the
//     "service" tag, else `default_service`; resource attributes (one shared list for all
//     spans of the item): service.version (release), deployment.environment (environment),
//     host.name (server_name), telemetry.sdk.name/version (empty ones omitted). Status "ok"
//     -> StatusCode kOk; "", "unknown", "unset" -> unset; any other -> kError with the status
//     as message. Span attributes: sentry.op, sentry.description, sentry.origin, then data
//     and tags (the event's tags go on the transaction span, which also gets sentry.source
//     from transaction_info.source and user.id / user.email / user.name / user.ip_address).
//     Attribute values: strings, integers (Int), other numbers (Double), booleans; arrays
//     and objects as compact JSON text. Times are RFC 3339 strings or epoch seconds (rounded
//     to the microsecond); a missing end is the start, a missing start is `now_ns`.
//   span (v2 container, {"version":2,"items":[...]} with name, span_id, trace_id,
//     parent_span_id, start_timestamp, end_timestamp, status, is_segment, links, attributes
//     {k: {value, type}}): one span per item, same rules (the value's JSON type decides the
//     attribute type); attributes sentry.release / sentry.environment / sentry.sdk.name /
//     sentry.sdk.version become the resource attributes above and service.name the service;
//     an empty name is the sentry.op attribute; is_segment -> attribute sentry.is_segment;
//     status "error" -> kError with no message. Consecutive spans with equal resource
//     attributes share one list.
//   log ({"items":[{timestamp, level, body, trace_id, span_id?, severity_number, attributes}]}):
//     one record each; level via model::LevelFromText, else from severity_number (kept when
//     1..24); trace_id (32 hex); span_id (16 hex), else the "sentry.trace.parent_span_id"
//     attribute; every attribute kept, typed as for spans; service = attribute
//     "service.name", else `default_service`; env = "sentry.environment"; host = "host.name",
//     else "server.address" (@sentry/node's serverName); missing timestamp -> `now_ns`.
//   session ({sid, did, init, started, timestamp, status, errors, duration, attrs{release,
//     environment}}): started += init; exited/crashed/abnormal += 1 for that terminal status;
//     errored += 1 for a terminal update with errors > 0 (or status "errored"); started_ns
//     = started (RFC 3339 or epoch seconds), else timestamp, else 0.
//   sessions ({"aggregates":[{started, exited, errored, abnormal, crashed}], "attrs"}): each
//     bucket adds started = sum of its counts, and each count to its outcome; without
//     attrs.release nothing is counted.
//   client_report ({"discarded_events":[{reason, category, quantity}]}): entries need string
//     reason and category and a non-negative integer quantity.
//
// Every decoder validates JSON fully (simdjson DOM), ignores unknown members and members of
// an unexpected type, and rejects only what cannot be used (per-item rejections are counted in
// the batch with a reason; items past the caps below are rejected the same way). Output is
// appended to. Thread-safe: no shared state.
#ifndef SIGHTLINE_INGEST_SENTRY_ITEMS_H_
#define SIGHTLINE_INGEST_SENTRY_ITEMS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/log_record.h"
#include "model/span.h"

namespace sightline::ingest {

inline constexpr size_t kMaxSentrySpansPerItem = 10000;
inline constexpr size_t kMaxSentryLogsPerItem = 10000;
inline constexpr size_t kMaxSentrySessionBuckets = 100;

// Appends the spans of a transaction event to out->spans. Spans without a valid trace id or
// span id (and a transaction without contexts.trace) are rejected (counted, reason kept).
// Errors: InvalidArgument("sentry transaction: ...") when `json` is not a JSON object.
Status DecodeSentryTransaction(std::string_view json, int64_t now_ns,
                               const std::string& default_service, model::SpanBatch* out);

// Appends the spans of a span (v2) item container. Errors as above ("sentry spans: ...").
Status DecodeSentrySpans(std::string_view json, int64_t now_ns,
                         const std::string& default_service, model::SpanBatch* out);

// Appends the records of a log item container. Errors as above ("sentry logs: ...").
Status DecodeSentryLogs(std::string_view json, int64_t now_ns,
                        const std::string& default_service, model::LogBatch* out);

struct SentrySessionBucket {
  std::string release, environment;
  int64_t started_ns = 0;
  uint64_t started = 0, exited = 0, errored = 0, crashed = 0, abnormal = 0;
};

// A "session" item (one update) -> at most one bucket (none for a non-initial, non-terminal
// update). Updates without attrs.release are ignored (Sentry requires it).
// Errors: InvalidArgument("sentry session: ...") for non-object JSON.
Status DecodeSentrySession(std::string_view json, std::vector<SentrySessionBucket>* out);

// A "sessions" item (aggregates) -> one bucket per aggregate (at most
// kMaxSentrySessionBuckets). Errors: InvalidArgument("sentry sessions: ...").
Status DecodeSentrySessionAggregates(std::string_view json,
                                     std::vector<SentrySessionBucket>* out);

struct SentryDiscard {
  std::string reason, category;
  uint64_t quantity = 0;
};
// A "client_report" item. Errors: InvalidArgument("sentry client report: ...").
Status DecodeSentryClientReport(std::string_view json, std::vector<SentryDiscard>* out);

}  // namespace sightline::ingest

#endif  // SIGHTLINE_INGEST_SENTRY_ITEMS_H_
