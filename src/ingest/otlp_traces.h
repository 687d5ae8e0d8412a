// OTLP/HTTP traces: decoding ExportTraceServiceRequest bodies (binary protobuf and OTLP/JSON)
// into model::Spans, and encoding the matching responses.
//
// Field numbers and JSON rules follow opentelemetry-proto (trace/v1, common/v1, resource/v1,
// collector/trace/v1); see ../shared/reference/protocols.md §1.5-1.7. The protobuf decoder is
// hand-written (no libprotobuf) and shares its wire reader, AnyValue decoding and guards with
// the logs decoder (otlp_common.h): unknown fields are skipped by wire type, groups and
// truncated or overlong data are errors.
//
// Mapping, identical for both encodings:
//   resource attribute service.name (a string)   -> Span::service
//   other resource attributes                    -> resource_attrs
//   scope name / version                         -> scope_name / scope_version
//   scope attributes                             -> resource_attrs, for keys the resource
//                                                   lacks (a resource attribute wins)
//   trace_id, span_id, parent_span_id (ids), trace_state, flags, name, kind,
//   start/end_time_unix_nano, attributes, dropped_*_count, status{message, code}
//                                                -> the Span fields of the same meaning
//   events {time, name, attributes, dropped}     -> events (exception events are ordinary
//                                                   events named "exception")
//   links {ids, trace_state, attributes, flags}  -> links
// Attribute values keep their type (string, int, double, bool); bytes become base64 text and
// arrays / kvlists their compact JSON text. Attributes without a value are dropped; repeated
// keys keep the last value (at the first position). Protobuf strings that are not valid
// UTF-8 are repaired (invalid bytes -> U+FFFD).
// Timestamps are copied as they are (0 stays 0; above INT64_MAX reads as 0): the span
// pipeline, not the decoder, fills or fixes missing and inverted times. An unknown kind or
// status code reads as kUnspecified / kUnset. A parent_span_id of eight zero bytes means a
// root span. A link whose trace_id is not 16 non-zero bytes or whose span_id is not 8
// non-zero bytes is dropped and counted in the span's dropped_links; a link's
// dropped_attributes_count is not kept (the model has no field for it).
#ifndef SIGHTLINE_INGEST_OTLP_TRACES_H_
#define SIGHTLINE_INGEST_OTLP_TRACES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "ingest/otlp_logs.h"  // kMaxOtlpAnyValueDepth, expansion guard, rpc Status encoders
#include "model/span.h"

namespace sightline::ingest {

// Most spans accepted in one request (rejected ones count too).
inline constexpr size_t kMaxOtlpSpans = 1 << 20;

// Decodes a binary-protobuf ExportTraceServiceRequest and appends its spans to out->spans.
//
// A span whose trace_id is not exactly 16 bytes or is all zero, whose span_id is not exactly
// 8 bytes or is all zero, or whose parent_span_id is neither empty nor 8 bytes, is rejected
// on its own: out->rejected is incremented and out->reject_reason set if empty; the rest of
// the request is kept.
//
// Returns InvalidArgument("otlp protobuf: ...") for malformed input (truncated data, overlong
// varints, lengths past the end, groups, AnyValue nesting deeper than kMaxOtlpAnyValueDepth);
// *out is then left as it was. Returns PayloadTooLarge (again leaving *out as it was) for more
// than kMaxOtlpSpans spans, or if the resource and scope attributes copied onto every span
// plus the decoded events and links (with their attributes) exceed
// kMaxOtlpExpansion * body.size() + kOtlpExpansionSlackBytes bytes. An empty body is a valid empty
// request. `now_ns` is accepted for symmetry with the logs decoder and is currently unused.
//
// Thread-safe (no shared state); concurrent calls must use distinct `out`.
Status DecodeOtlpTracesProto(std::string_view body, int64_t now_ns, model::SpanBatch* out);

// Decodes an OTLP/JSON ExportTraceServiceRequest with the same mapping and contract as
// DecodeOtlpTracesProto; errors read "otlp json: ...". Keys are the lowerCamelCase proto
// names (the snake_case names are accepted too); 64-bit integers may be numbers or decimal
// strings; trace/span ids are hex (32/16 chars, any case) or base64 (24/12 chars); enums are
// integers (kind and status code names such as "SPAN_KIND_SERVER" / "STATUS_CODE_ERROR" are
// tolerated; other non-integers are ignored); uint32 fields (flags, dropped counts) out of
// range are errors; unknown keys and null values are ignored. An empty (or all-whitespace)
// body is a valid empty request.
Status DecodeOtlpTracesJson(std::string_view body, int64_t now_ns, model::SpanBatch* out);

// ExportTraceServiceResponse, binary protobuf. With rejected == 0 and an empty message the
// result is empty (partial_success unset: full success); otherwise partial_success carries
// rejected_spans and error_message.
std::string EncodeTracesResponseProto(int64_t rejected, std::string_view error_message);
// The OTLP/JSON form: "{}" or {"partialSuccess":{"rejectedSpans":"3","errorMessage":"..."}}
// (zero/empty members omitted, int64 as a string).
std::string EncodeTracesResponseJson(int64_t rejected, std::string_view error_message);

// Failure bodies (google.rpc.Status) are shared by all signals: EncodeRpcStatusProto /
// EncodeRpcStatusJson in otlp_logs.h.

}  // namespace sightline::ingest

#endif  // SIGHTLINE_INGEST_OTLP_TRACES_H_
