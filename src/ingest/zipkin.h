// Zipkin v2 spans (POST /api/v2/spans): decoding a JSON array of spans or a protobuf
// zipkin.proto ListOfSpans into model::Spans.
//
// Field names and numbers follow zipkin2-api.yaml and zipkin.proto (openzipkin/zipkin-api);
// see ../shared/reference/protocols.md §2.1. Only v2 is accepted: a JSON body that is not an
// array, or a span carrying the v1 member "binaryAnnotations", is an error. The protobuf
// decoder is hand-written: unknown fields are skipped by wire type, a known field with an
// unexpected wire type is ignored, groups and truncated data are errors.
//
// Mapping, identical for both encodings (it follows the OpenTelemetry Collector's zipkin
// receiver where that one is defined, and what the OpenTelemetry JS Zipkin exporter sends):
//   traceId: 32 hex -> trace_id; shorter hex (usually 16) is left-padded with zeros, as Zipkin
//            itself does; protobuf: 16 bytes, or 8 bytes left-padded
//   id / parentId: 16 hex (shorter is left-padded); protobuf: 8 bytes. An all-zero parentId,
//            or one equal to id, means a root span.
//   name -> name;  kind CLIENT/SERVER/PRODUCER/CONSUMER -> kClient/kServer/kProducer/kConsumer,
//            absent -> kInternal, any other value -> kUnspecified
//   timestamp (µs, JSON may carry a fraction) -> start_ns;  start_ns + duration (µs) -> end_ns.
//            Without a timestamp (absent or 0, e.g. the late half of a span) start_ns is the
//            earliest annotation time, else now_ns.
//   localEndpoint.serviceName -> service (else the tag "service.name");
//            localEndpoint.ipv4 (else ipv6) / port -> resource_attrs "net.host.ip" (string) /
//            "net.host.port" (int, only 1..65535)
//   remoteEndpoint.serviceName / ipv4 (else ipv6) / port -> attrs "peer.service" /
//            "net.peer.ip" / "net.peer.port" (int), unless a tag already has that key
//   annotations -> events {time µs -> ns (the span start if absent), name = value}
//   tags -> string attrs in arrival order (keys unique, the last value wins, "" dropped; JSON
//            numbers, booleans, arrays and objects are kept as their JSON text), except these,
//            which are consumed and not kept as attrs:
//     "otel.status_code" OK / ERROR / UNSET (any case, "STATUS_CODE_" prefix allowed)
//                                  -> status_code
//     "error": any value but "false" -> status_code = kError, and the value (unless "" or
//                                  "true") -> status_message
//     "otel.status_description"    -> status_message of an error span without an error message
//     "otel.scope.name" (else "otel.library.name") and "otel.scope.version"
//                     (else "otel.library.version")      -> scope_name / scope_version
//     "w3c.tracestate"             -> trace_state
//     "otel.dropped_attributes_count" / "_events_count" / "_links_count" (valid uint32)
//                                  -> dropped_attrs / dropped_events / dropped_links
//     "service.name"               -> service when localEndpoint has none
//   Tags named like OpenTelemetry resource attributes (prefixes service., telemetry., host.,
//   os., process., container., k8s., cloud., deployment., device., webengine., browser.,
//   and faas.name / version / instance / max_memory) -> resource_attrs: SDK exporters copy
//   the resource onto every span's tags.
//   debug / shared: true -> attrs "zipkin.debug" / "zipkin.shared" (bool); false -> nothing.
// A status message is kept only for error spans.
//
// Protobuf strings that are not valid UTF-8 are repaired (invalid bytes -> U+FFFD); simdjson
// validates JSON bodies.
#ifndef SIGHTLINE_INGEST_ZIPKIN_H_
#define SIGHTLINE_INGEST_ZIPKIN_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "model/span.h"

namespace sightline::ingest {

// Most spans (rejected ones included) accepted in one request.
inline constexpr size_t kMaxZipkinSpans = 1 << 20;

// Decodes a Zipkin v2 JSON body (an array of span objects) and appends the spans to
// out->spans.
//
// A span without traceId or id, with ids that are not hex or too long, or all zeros, or with
// a timestamp or duration that is negative or does not fit int64 nanoseconds, is rejected on
// its own: out->rejected is incremented and out->reject_reason set if empty.
//
// Returns InvalidArgument("zipkin json: ...") for malformed JSON, a body that is not an array
// (for instance a single span object, or a Zipkin v1 payload), an element that is not an
// object, or a known member of the wrong type; PayloadTooLarge for more than kMaxZipkinSpans
// spans. In both cases *out is left as it was. An empty (or all-whitespace) body and "[]"
// are valid empty requests. Unknown members and null values are ignored.
//
// Thread-safe (no shared state); concurrent calls must use distinct `out`.
Status DecodeZipkinJson(std::string_view body, int64_t now_ns, model::SpanBatch* out);

// Decodes a protobuf zipkin.proto ListOfSpans with the same mapping and contract as
// DecodeZipkinJson; errors read "zipkin proto: ...". Ids of the wrong byte length reject
// their span. An empty body is a valid empty request.
Status DecodeZipkinProto(std::string_view body, int64_t now_ns, model::SpanBatch* out);

}  // namespace sightline::ingest

#endif  // SIGHTLINE_INGEST_ZIPKIN_H_
