// NDJSON log decoding: one JSON object per line, any shape, into model::LogRecords.
//
// This is the "curl anything" ingest path. Each line is flattened (nested objects become
// dotted keys, e.g. {"http":{"status":200}} -> "http.status" = 200) and well-known field
// spellings are mapped onto the first-class LogRecord fields:
//
//   ts_ns      ts, timestamp, time, @timestamp
//   level      level, severity, lvl, levelname, log.level, loglevel
//   body       msg, message, body, log
//   service    service, service.name, service_name, app, application
//   env        env, environment, deployment.environment, deployment.environment.name
//   host       host, hostname, host.name
//   trace_id   trace_id, traceId, trace.id, traceid, X-Trace-ID, x-trace-id
//   span_id    span_id, spanId, span.id
//   attr "request_id"  request_id, requestId, request.id, X-Request-ID, x-request-id
//   attr "user_id"     user_id, userId, user.id
//
// Within a group the spellings are tried in the order listed (case-sensitively); the first
// one whose value is usable wins and is removed from the attributes. Spellings that lose, or
// whose value is unusable (an unparseable time, an unknown level word, a non-string service),
// stay in the attributes under their own key, so nothing the client sent is lost (they, and
// the canonical "request_id" / "user_id", follow the other attributes).
//
// Everything else is kept as a typed attribute (string, int64, double, bool) in arrival order;
// integers above INT64_MAX become doubles, nulls and empty objects are dropped, arrays are
// kept as their compact JSON text, and objects nested deeper than 32 levels are kept as
// compact JSON text under their dotted key. A repeated key keeps its last value. A trace or
// span id that is not hex is hashed (see model::TraceIdFromText) and the original text is
// kept as attribute "trace_id.original" / "span_id.original".
#ifndef SIGHTLINE_INGEST_NDJSON_H_
#define SIGHTLINE_INGEST_NDJSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/log_record.h"

namespace sightline::ingest {

struct NdjsonOptions {
  // service for records that name none.
  std::string default_service;
  // Stored as every record's observed_ns (when Sightline received the body), Unix ns.
  int64_t now_ns = 0;
  // A body with more accepted lines than this fails with PayloadTooLarge. Each record costs
  // ~200 bytes even when empty, so 64 MiB of "{}" lines would otherwise become ~4.5 GB.
  size_t max_records = 1 << 20;
};

// Longest line accepted; longer lines are rejected (counted in LogBatch::rejected).
inline constexpr size_t kMaxNdjsonLineBytes = 1 << 20;
// Objects nested deeper than this are kept as JSON text instead of being flattened.
inline constexpr int kMaxNdjsonFlattenDepth = 32;
// Lines nested deeper than this (objects or arrays) are rejected outright.
inline constexpr int kMaxNdjsonNestingDepth = 128;

// Decodes `body`, a sequence of lines separated by "\n" (a trailing "\r" is ignored), and
// appends one LogRecord per accepted line to out->records. Blank lines are skipped. Every
// non-blank line that is not a single well-formed JSON object (invalid JSON, a JSON array or
// scalar, trailing content, invalid UTF-8, a line over kMaxNdjsonLineBytes or nested deeper
// than kMaxNdjsonNestingDepth) is rejected: out->rejected is incremented and, if
// out->reject_reason is empty, it is set to e.g. "line 3: not a JSON object: ...". The
// remaining lines are still accepted.
//
// Returns OK if at least one line was accepted or if the body holds no non-blank line.
// Returns InvalidArgument if every non-blank line was rejected; out->records is then left
// unchanged (out->rejected and out->reject_reason are still updated). Returns
// PayloadTooLarge, leaving *out unchanged, if more than opts.max_records lines are valid.
//
// Records get observed_ns = opts.now_ns; ts_ns stays 0 when the line carries no usable time
// (the pipeline fills it in). `out` must be non-null; existing contents are appended to.
//
// Thread-safe: keeps no state between calls; concurrent calls must use distinct `out`.
Status DecodeNdjson(std::string_view body, const NdjsonOptions& opts, model::LogBatch* out);

// Parses a log timestamp into Unix nanoseconds. Accepts
//  * RFC 3339 / ISO 8601: "2024-05-01T12:34:56Z", "2024-05-01 12:34:56.123456789+02:00",
//    a fraction of any length after "." or "," (digits past nanoseconds are truncated), a
//    zone of "Z", "+hh:mm", "+hhmm" or "+hh", or no zone at all (taken as UTC);
//  * decimal epoch numbers, optionally with a fraction: the unit is chosen by magnitude
//    (< 1e11 seconds, < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds).
// Returns false (leaving *ns untouched) for anything else, and for times at or before the
// Unix epoch or after 2262-04-11 (outside int64 nanoseconds).
bool ParseLogTimestamp(std::string_view text, int64_t* ns);

// The numeric form of the epoch rule above, for JSON numbers.
bool EpochNumberToNanos(int64_t value, int64_t* ns);
bool EpochNumberToNanos(double value, int64_t* ns);

}  // namespace sightline::ingest

#endif  // SIGHTLINE_INGEST_NDJSON_H_
