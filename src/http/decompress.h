// Request-body decompression with a hard cap on the decompressed size.
//
// Every ingest body passes through here before a decoder sees it. The cap is what stops a
// decompression bomb (a few hundred KB of gzip that inflates to gigabytes): decoding streams
// into a buffer that is never allowed to grow past max_bytes + 1, and stops the moment the
// output would exceed max_bytes. Memory use is therefore bounded by max_bytes (plus, for
// zstd, a window of at most max_bytes rounded up to a power of two).
#ifndef SIGHTLINE_HTTP_DECOMPRESS_H_
#define SIGHTLINE_HTTP_DECOMPRESS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sightline::http {

// Decodes `body` according to the HTTP Content-Encoding `content_encoding` (matched
// case-insensitively, surrounding whitespace ignored):
//   "" or "identity"      the body as is
//   "gzip" or "x-gzip"    gzip (RFC 1952); concatenated members are decoded in turn; a zlib
//                         stream is accepted too
//   "deflate"             zlib (RFC 1950), or raw deflate (RFC 1951) as some clients send it
//   "zstd"                Zstandard (RFC 8878); concatenated frames are decoded in turn
//   "br"                  Brotli (RFC 7932)
// An empty body decodes to an empty string under any supported encoding.
//
// Errors:
//   PayloadTooLarge("decompressed body exceeds N bytes") when the result would be larger than
//     max_bytes (also for identity bodies);
//   UnsupportedMediaType for any other encoding (including lists such as "gzip, br");
//   InvalidArgument for corrupt, truncated or trailing-garbage data.
//
// Thread-safe; allocates per call.
StatusOr<std::string> Decompress(std::string_view body, std::string_view content_encoding,
                                 size_t max_bytes);

}  // namespace sightline::http

#endif  // SIGHTLINE_HTTP_DECOMPRESS_H_
