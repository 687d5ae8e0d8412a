// The one place where Status codes become HTTP status codes.
#ifndef SIGHTLINE_HTTP_STATUS_MAP_H_
#define SIGHTLINE_HTTP_STATUS_MAP_H_

#include "base/status.h"

namespace sightline::http {

// InvalidArgument 400, NotFound 404, PayloadTooLarge 413, UnsupportedMediaType 415,
// ResourceExhausted 429, Unavailable 503, Unimplemented 501, everything else 500.
int HttpStatusFor(Code code);

}  // namespace sightline::http

#endif  // SIGHTLINE_HTTP_STATUS_MAP_H_
