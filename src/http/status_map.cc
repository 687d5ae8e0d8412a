#include "http/status_map.h"

namespace sightline::http {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
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

}  // namespace sightline::http
