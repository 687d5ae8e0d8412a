// Sentry ingestion (POST /api/{project}/envelope/ and /api/{project}/store/): splitting an
// envelope into items, decoding one error event JSON into a model::ErrorEvent, and parsing
// the authentication the SDKs send. HTTP decompression happens before these run.
//
// Formats follow develop.sentry.dev (envelopes, event payloads) and what the target SDKs were
// observed to send; see ../shared/reference/errors.md §1. Fixtures captured from the Debian
// python3-sentry-sdk 1.9.10 live in ingest/testdata/sentry/.
//
// Envelope (ParseSentryEnvelope):
//   Envelope = Header { "\n" Item } [ "\n" ];  Item = Header "\n" Payload;  Header = one line
//   of JSON object. An item whose header has "length" is read by byte count and must be
//   followed by "\n" or the end of the body (python always sets length and writes a trailing
//   "\n"); without "length" the payload runs to the next "\n" or the end (@sentry/node writes
//   no length and no final newline). A "\r" before "\n" belongs to the payload. Empty lines
//   where an item header is expected are skipped. Unknown item types are kept.
//
// Event (DecodeSentryEvent), mapping into model::ErrorEvent:
//   event_id (32 hex, or the dashed UUID form; lowercased, dashes removed; anything else is
//     ignored), timestamp (RFC 3339 string or epoch seconds number; absent/unparseable ->
//     now_ns), received_ns = now_ns, platform, level (lowercased; "warn" -> "warning",
//     "critical" -> "fatal", "log" -> "info"; unknown values keep "error"), logger,
//     transaction, server_name, release, environment, dist, sdk.name / sdk.version.
//   message: logentry (or an object-valued "message") {message, params, formatted}:
//     message = formatted, else logentry.message with params substituted (%s %d %i %f %r and
//     {} placeholders, %% -> %), else a string-valued "message". message_template =
//     logentry.message when sent.
//   exception: {"values":[...]}, a bare list, or a single exception object (legacy); each
//     {type, value, module, mechanism{type, handled}, stacktrace{frames[...]}}.
//   frames: function, module, filename, abs_path, package, platform, lineno, colno, in_app,
//     context_line, pre_context, post_context, vars (strings as is, other values as JSON).
//   fingerprint (strings; numbers/bools as their text), tags (object or list of [k, v];
//     scalar values as text), user{id, email, username, ip_address} (numeric id as text),
//     request{method, url, query_string (string, object or pairs; a leading "?" dropped),
//     headers (object or pairs)}, breadcrumbs ({"values":[...]} or a bare list;
//     {timestamp, type, category, level, message, data}).
//   contexts: trace.trace_id (32 hex) / trace.span_id (16 hex) -> trace_id / span_id; every
//     other context is kept, compact, in contexts_json ({"runtime":{...},...}; "" if none).
//   extra (an object) -> extra_json, compact. Unknown members (modules, _meta, threads...)
//     are ignored.
//   A member of an unexpected type is ignored (never an error).
//
// Caps (memory stays within a small multiple of the input):
//   kMaxSentryExceptions: the newest (last) exceptions of a chain are kept.
//   kMaxSentryFrames per stack trace: the first and last kMaxSentryFrames / 2 frames are kept
//     (the outermost calls and the crashing frames), as SDKs trim deep recursion.
//   kMaxSentryBreadcrumbs: the newest (last) are kept.
//   kMaxSentryPairs for tags, request headers, breadcrumb data and frame vars (first kept);
//   kMaxSentryContextLines per pre_context / post_context (the lines nearest the context
//   line are kept); kMaxSentryFingerprint entries; var and breadcrumb-data values are cut to
//   kMaxSentryValueBytes (at a UTF-8 boundary); contexts_json / extra_json longer than
//   kMaxSentryJsonBytes are dropped (left empty).
//
// Both decoders use the simdjson DOM parser (full validation, random access, minify for the
// JSON-text fields). Thread-safe: no shared state; concurrent calls must use distinct outputs.
#ifndef SIGHTLINE_INGEST_SENTRY_H_
#define SIGHTLINE_INGEST_SENTRY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/error_event.h"

namespace sightline::ingest {

inline constexpr size_t kMaxSentryEnvelopeItems = 1000;
inline constexpr size_t kMaxSentryExceptions = 32;
inline constexpr size_t kMaxSentryFrames = 256;
inline constexpr size_t kMaxSentryBreadcrumbs = 100;
inline constexpr size_t kMaxSentryPairs = 200;
inline constexpr size_t kMaxSentryContextLines = 20;
inline constexpr size_t kMaxSentryFingerprint = 64;
inline constexpr size_t kMaxSentryValueBytes = 2048;
inline constexpr size_t kMaxSentryJsonBytes = 64 * 1024;

// One envelope item. `header` and `payload` point into the body given to ParseSentryEnvelope,
// which must outlive them.
struct SentryEnvelopeItem {
  std::string type;          // "event", "transaction", "attachment", "session", ...
  std::string content_type;  // "" when absent
  std::string filename;      // attachments
  std::string_view header;   // the raw item header line (unknown attributes live here)
  std::string_view payload;
};

struct SentryEnvelope {
  std::string event_id;  // as sent (see NormalizeSentryEventId)
  std::string dsn;       // self-authenticating envelopes (see ParseSentryDsn)
  std::string sdk_name, sdk_version;
  std::string sent_at;     // RFC 3339, as sent
  std::string trace_json;  // the "trace" header (dynamic sampling context), compact JSON
  std::vector<SentryEnvelopeItem> items;
};

// Splits an envelope body into its header and items (format above). Header members of an
// unexpected type are ignored.
//
// Returns InvalidArgument("sentry envelope: ...") for an empty body, a header line that is not
// a JSON object, an item header without a string "type", a "length" that is not a
// non-negative integer, a payload running past the end, or a length-delimited payload not
// followed by "\n" or the end; PayloadTooLarge for more than kMaxSentryEnvelopeItems items.
// *out is reset first and may be partially filled on error.
//
// Thread-safe (no shared state); concurrent calls must use distinct `out`.
Status ParseSentryEnvelope(std::string_view body, SentryEnvelope* out);

// Decodes one error event (an envelope "event" item payload or a /store/ body) into *out,
// replacing its contents (project_id is left for the caller). Mapping and caps above.
//
// Returns InvalidArgument("sentry event: ...") if `json` is not valid JSON (including
// invalid UTF-8 or trailing content) or not an object; *out is then left unchanged.
//
// Thread-safe (no shared state); concurrent calls must use distinct `out`.
Status DecodeSentryEvent(std::string_view json, int64_t now_ns, model::ErrorEvent* out);

// The Sentry auth parameters.
struct SentryAuth {
  std::string key;      // sentry_key: the DSN public key
  std::string version;  // sentry_version ("7")
  std::string client;   // sentry_client, e.g. "sentry.python/1.9.10"
  std::string secret;   // sentry_secret (deprecated; accept and ignore)
};

// Parses either an X-Sentry-Auth / "Authorization: Sentry" header value
//   "Sentry sentry_key=abc, sentry_version=7, sentry_client=sentry.python/1.9.10"
// (the "Sentry " prefix is case-insensitive; values may be double-quoted) or a query string
//   "?sentry_key=abc&sentry_version=7&sentry_client=sentry.javascript.node%2F11.12.0"
// (leading "?" optional; values percent-decoded, "+" -> space). Other parameters are
// ignored. Returns true iff a non-empty sentry_key was found; *out is reset first.
bool ParseSentryAuth(std::string_view header_or_query, SentryAuth* out);

// A DSN "{scheme}://{public_key}[:{secret}]@{host}[:{port}]{path}/{project_id}".
struct SentryDsn {
  std::string scheme, public_key, secret_key, host, path, project_id;
};
// Returns false unless the scheme is http or https, the public key is non-empty, and the
// project id (the last path segment; a trailing "/" is tolerated) is all digits.
bool ParseSentryDsn(std::string_view dsn, SentryDsn* out);

// 32 hex digits, or the 36-char dashed UUID form, in any case -> 32 lowercase hex digits.
// Returns false (leaving *out untouched) for anything else.
bool NormalizeSentryEventId(std::string_view id, std::string* out);

}  // namespace sightline::ingest

#endif  // SIGHTLINE_INGEST_SENTRY_H_
