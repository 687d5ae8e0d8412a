// Base64 (RFC 4648): encoding for OTLP/JSON bytes, decoding for OTLP/JSON ids and HTTP Basic
// credentials. Thread-safe, no state.
#ifndef SIGHTLINE_BASE_BASE64_H_
#define SIGHTLINE_BASE_BASE64_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sightline {

// Appends `in` in the standard alphabet, padded.
void AppendBase64(std::string_view in, std::string* out);
// Appends the bytes of base64 text (standard or URL alphabet, padding optional) to *out.
// False (with *out partly written) for a character outside the alphabets or a bad length.
bool DecodeBase64(std::string_view in, std::string* out);
// Decodes base64 (standard or URL alphabet, padding optional) that must yield exactly n bytes.
bool DecodeBase64Exact(std::string_view in, uint8_t* out, size_t n);

}  // namespace sightline

#endif  // SIGHTLINE_BASE_BASE64_H_
