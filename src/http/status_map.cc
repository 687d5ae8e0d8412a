#include "http/status_map.h"

namespace sightline::http {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kUnimplemented: return 501;
    case Code::kFailedPrecondition: return 400;
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal: return 500;
  }
  return 500;
}

int GrpcCodeFor(Code code) {
  // Values of grpc::StatusCode; kept numeric so that this file needs no gRPC headers.
  constexpr int kGrpcOk = 0, kGrpcInvalidArgument = 3, kGrpcNotFound = 5,
                kGrpcResourceExhausted = 8, kGrpcFailedPrecondition = 9,
                kGrpcUnimplemented = 12, kGrpcInternal = 13, kGrpcUnavailable = 14,
                kGrpcPermissionDenied = 7, kGrpcUnauthenticated = 16;
  switch (code) {
    case Code::kOk: return kGrpcOk;
    case Code::kInvalidArgument: return kGrpcInvalidArgument;
    case Code::kNotFound: return kGrpcNotFound;
    case Code::kPayloadTooLarge: return kGrpcResourceExhausted;
    case Code::kResourceExhausted:
    case Code::kUnavailable: return kGrpcUnavailable;
    case Code::kFailedPrecondition: return kGrpcFailedPrecondition;
    case Code::kUnauthenticated: return kGrpcUnauthenticated;
    case Code::kPermissionDenied: return kGrpcPermissionDenied;
    case Code::kUnimplemented:
    case Code::kUnsupportedMediaType: return kGrpcUnimplemented;
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal: return kGrpcInternal;
  }
  return kGrpcInternal;
}

}  // namespace sightline::http
