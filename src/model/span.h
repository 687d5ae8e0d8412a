// The data model for trace spans. Every trace decoder (OTLP protobuf/JSON over HTTP and gRPC,
// Zipkin v2) produces Spans; the span pipeline normalizes them, derives RED metrics and
// service-map edges, and the SpanStore persists them. Nothing here knows about transports
// or storage.
#ifndef SIGHTLINE_MODEL_SPAN_H_
#define SIGHTLINE_MODEL_SPAN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/log_record.h"

namespace sightline::model {

// OpenTelemetry SpanKind numbering (Zipkin kinds map onto it).
enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};
// "unspecified", "internal", "server", "client", "producer", "consumer".
std::string_view SpanKindName(SpanKind kind);
// Inverse of SpanKindName, case-insensitive; also accepts OTel's "SPAN_KIND_SERVER" spelling.
// Returns false for anything else.
bool SpanKindFromText(std::string_view text, SpanKind* kind);

// OpenTelemetry status code.
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };
std::string_view StatusCodeName(StatusCode code);  // "unset", "ok", "error"

struct SpanEvent {
  int64_t time_ns = 0;  // Unix ns
  std::string name;     // "exception" for recorded exceptions (attrs exception.type/message/...)
  std::vector<Attribute> attrs;
  uint32_t dropped_attrs = 0;
};

struct SpanLink {
  TraceId trace_id;
  SpanId span_id;
  std::string trace_state;
  std::vector<Attribute> attrs;
  uint32_t flags = 0;
};

// Resource (and scope) attributes, shared by every span of one resource: an SDK sends ~20 of
// them with each batch, and copying them per span dominated ingest cost.
using AttributeList = std::vector<Attribute>;
using SharedAttributes = std::shared_ptr<const AttributeList>;

// One span after decoding. Well-known fields are first-class; resource attributes other than
// service.name live in `resource` (shared, immutable), span attributes in `attrs` (keys unique
// within each).
struct Span {
  TraceId trace_id;       // never empty once accepted
  SpanId span_id;         // never empty once accepted
  SpanId parent_span_id;  // empty for a root span
  std::string trace_state;
  uint32_t flags = 0;  // OTLP Span.flags (low 8 bits: W3C trace flags)
  std::string name;    // operation name
  SpanKind kind = SpanKind::kUnspecified;
  int64_t start_ns = 0;  // Unix ns
  int64_t end_ns = 0;    // Unix ns; >= start_ns after the pipeline
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  std::string service;  // resource service.name ("" = unknown; pipeline fills a default)
  std::string scope_name;
  std::string scope_version;
  SharedAttributes resource;  // may be null (no resource attributes)
  std::vector<Attribute> attrs;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
  uint32_t dropped_attrs = 0;
  uint32_t dropped_events = 0;
  uint32_t dropped_links = 0;

  int64_t duration_ns() const { return end_ns - start_ns; }
  const AttributeList& resource_attrs() const;
  void SetResourceAttrs(AttributeList attrs);
  bool is_error() const { return status_code == StatusCode::kError; }
  // Looks up a span attribute, then a resource attribute; nullptr if absent.
  const AttrValue* FindAttr(std::string_view key) const;
};

// A batch as produced by one request. `rejected` counts spans the decoder refused (with
// `reject_reason` describing the first), so the transport can report partial success.
struct SpanBatch {
  std::vector<Span> spans;
  int64_t rejected = 0;
  std::string reject_reason;
};

}  // namespace sightline::model

#endif  // SIGHTLINE_MODEL_SPAN_H_
