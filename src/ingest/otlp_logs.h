// OTLP/HTTP logs: decoding ExportLogsServiceRequest bodies (binary protobuf and OTLP/JSON)
// into model::LogRecords, and encoding the matching responses.
//
// Field numbers and JSON rules follow opentelemetry-proto (logs/v1, common/v1, resource/v1,
// collector/logs/v1); see ../shared/reference/protocols.md §1.3-1.7. The protobuf decoder is
// hand-written (no libprotobuf): unknown fields are skipped by wire type, groups and
// truncated or overlong data are errors.
//
// Mapping, identical for both encodings:
//   resource attribute service.name                     -> LogRecord::service
//   deployment.environment.name (else .environment)     -> LogRecord::env
//   host.name                                           -> LogRecord::host
//   other resource attributes and the log attributes    -> attrs (a log attribute wins over a
//                                                          resource attribute of the same key)
//   scope name / version (if non-empty)                 -> attrs "otel.scope.name" /
//                                                          "otel.scope.version"
//   event_name (if non-empty)                           -> attr "event.name"
//   body: string -> body; other AnyValues               -> body as compact JSON text
//   severity_number 1..24 -> level (else level from severity_text); stored in severity_number
//   time_unix_nano, else observed_time_unix_nano, else 0 -> ts_ns;  observed_ns = now_ns
//   trace_id (16 bytes) / span_id (8 bytes); empty means none
// Attribute values keep their type (string, int, double, bool); bytes become base64 text and
// arrays / kvlists their compact JSON text. Attributes without a value are dropped. Within
// one record the precedence on key clashes is event.name > log attributes > scope > resource.
// Protobuf strings that are not valid UTF-8 are repaired (invalid bytes -> U+FFFD).
#ifndef SIGHTLINE_INGEST_OTLP_LOGS_H_
#define SIGHTLINE_INGEST_OTLP_LOGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/log_record.h"

namespace sightline::ingest {

// Deepest AnyValue nesting (arrays / kvlists inside each other) accepted.
inline constexpr int kMaxOtlpAnyValueDepth = 32;

// Decodes a binary-protobuf ExportLogsServiceRequest and appends its records to
// out->records, with observed_ns = now_ns.
//
// A record whose trace_id is not 0 or 16 bytes, or whose span_id is not 0 or 8 bytes, is
// rejected on its own: out->rejected is incremented and out->reject_reason set if empty.
//
// Returns InvalidArgument("otlp protobuf: ...") for malformed input (truncated data, overlong
// varints, lengths past the end, groups, AnyValue nesting deeper than kMaxOtlpAnyValueDepth);
// out->records is then left as it was. Returns PayloadTooLarge (again leaving *out as it was)
// for more than kMaxOtlpLogRecords records, or if copying resource and scope attributes onto
// every record would blow the decoded size far past the body size (see kMaxOtlpExpansion).
// An empty body is a valid empty request.
//
// Thread-safe (no shared state); concurrent calls must use distinct `out`.
Status DecodeOtlpLogsProto(std::string_view body, int64_t now_ns, model::LogBatch* out);

// Decodes an OTLP/JSON ExportLogsServiceRequest with the same mapping and contract as
// DecodeOtlpLogsProto; errors read "otlp json: ...". Keys are the lowerCamelCase proto names
// (the snake_case names are accepted too, as the OpenTelemetry Collector does); 64-bit
// integers may be numbers or decimal strings; trace/span ids are hex (32/16 chars) or, as
// some gateways send them, base64 (24/12 chars); enums are integers; unknown keys and null
// values are ignored. An empty (or all-whitespace) body is a valid empty request.
Status DecodeOtlpLogsJson(std::string_view body, int64_t now_ns, model::LogBatch* out);

// Memory guards. A decoded record costs ~200 bytes even when empty, while an empty protobuf
// LogRecord is 2 bytes, and resource/scope attributes are copied onto every record of their
// ResourceLogs/ScopeLogs. Decoding fails with PayloadTooLarge beyond kMaxOtlpLogRecords
// records in one request, or when the bytes of attributes copied from resources and scopes
// exceed kMaxOtlpExpansion * body.size() + kOtlpExpansionSlackBytes.
inline constexpr size_t kMaxOtlpLogRecords = 1 << 20;
inline constexpr size_t kMaxOtlpExpansion = 32;
inline constexpr size_t kOtlpExpansionSlackBytes = 32 << 20;

// ExportLogsServiceResponse, binary protobuf. With rejected == 0 and an empty message the
// result is empty (partial_success unset: full success); otherwise partial_success carries
// rejected_log_records and error_message.
std::string EncodeLogsResponseProto(int64_t rejected, std::string_view error_message);
// The OTLP/JSON form: "{}" or
// {"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"..."}} (zero/empty members
// omitted, int64 as a string).
std::string EncodeLogsResponseJson(int64_t rejected, std::string_view error_message);

// google.rpc.Status{code = 1, message = 2} for 4xx/5xx bodies, binary protobuf (a zero code or
// empty message is omitted, as proto3 does).
std::string EncodeRpcStatusProto(int code, std::string_view message);
// The JSON form: {"code":3,"message":"..."}.
std::string EncodeRpcStatusJson(int code, std::string_view message);

}  // namespace sightline::ingest

#endif  // SIGHTLINE_INGEST_OTLP_LOGS_H_
