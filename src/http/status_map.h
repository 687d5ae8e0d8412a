// The one place where Status codes become transport status codes: HTTP status codes for the
// HTTP server, gRPC status codes for the gRPC server. A new Code must be added to both
// switches (the compiler's -Wswitch flags a missing case).
#ifndef SIGHTLINE_HTTP_STATUS_MAP_H_
#define SIGHTLINE_HTTP_STATUS_MAP_H_

#include "base/status.h"

namespace sightline::http {

// InvalidArgument 400, NotFound 404, PayloadTooLarge 413, UnsupportedMediaType 415,
// ResourceExhausted 429, Unavailable 503, Unimplemented 501, everything else 500.
int HttpStatusFor(Code code);

// The numeric gRPC status code (grpc::StatusCode values, which are fixed by the gRPC
// protocol), chosen with OTLP's retry rules in mind: clients retry UNAVAILABLE, and retry
// RESOURCE_EXHAUSTED only when the server sends RetryInfo, which we do not.
//   Ok 0, InvalidArgument 3 INVALID_ARGUMENT, NotFound 5 NOT_FOUND,
//   PayloadTooLarge 8 RESOURCE_EXHAUSTED (retrying cannot help),
//   ResourceExhausted 14 UNAVAILABLE (backpressure: retry later), Unavailable 14,
//   FailedPrecondition 9, Unimplemented 12, UnsupportedMediaType 12 UNIMPLEMENTED
//   (an unsupported encoding, as the gRPC spec prescribes),
//   Corruption / IOError / Internal 13 INTERNAL.
int GrpcCodeFor(Code code);

}  // namespace sightline::http

#endif  // SIGHTLINE_HTTP_STATUS_MAP_H_
