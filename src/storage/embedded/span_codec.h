// Row encoding of one Span, used in span WAL records and in the payload column of span parts
// (docs/formats/span_part.md).
#ifndef SIGHTLINE_STORAGE_EMBEDDED_SPAN_CODEC_H_
#define SIGHTLINE_STORAGE_EMBEDDED_SPAN_CODEC_H_

#include <string>

#include "base/coding.h"
#include "model/span.h"

namespace sightline::storage {

// Appends the row encoding of `s` to *dst.
void EncodeSpan(const model::Span& s, std::string* dst);
// Decodes one span; false on truncated or malformed input.
bool DecodeSpan(Reader* in, model::Span* s);
// Approximate heap footprint of a decoded span (memtable accounting).
uint64_t SpanBytes(const model::Span& s);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_SPAN_CODEC_H_
