// Row encoding of one Span, used in span WAL records and in the payload column of span parts
// (docs/formats/span_part.md).
#ifndef SIGHTLINE_STORAGE_EMBEDDED_SPAN_CODEC_H_
#define SIGHTLINE_STORAGE_EMBEDDED_SPAN_CODEC_H_

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "model/span.h"

namespace sightline::storage {

// Resource attribute lists are stored once per encoded unit (a WAL batch, a part block) in a
// resource table; span rows refer to them by index (0 = none, lists from 1).
class ResourceTableBuilder {
 public:
  // The index of `r` in the table, adding it if new (by identity first, then by content).
  uint32_t Intern(const model::SharedAttributes& r);
  // Appends the table: varint count, then each list (varint n, then key / value pairs).
  void Encode(std::string* dst) const;
  size_t size() const { return encoded_.size(); }
  void Clear();

 private:
  // Holds the lists it has seen so their addresses cannot be reused while it runs.
  std::unordered_map<const model::AttributeList*, std::pair<model::SharedAttributes, uint32_t>>
      by_ptr_;
  std::unordered_map<std::string, uint32_t> by_content_;
  std::vector<const std::string*> encoded_;
};
// Decodes a table written by ResourceTableBuilder::Encode into *table (table[0] is null).
bool DecodeResourceTable(Reader* in, std::vector<model::SharedAttributes>* table);

// Appends the row encoding of `s` to *dst; `resource` is its index in the unit's table.
void EncodeSpan(const model::Span& s, uint32_t resource, std::string* dst);
// Decodes one span, taking its resource from `table`; false on truncated or malformed input
// (including a resource index outside the table).
bool DecodeSpan(Reader* in, const std::vector<model::SharedAttributes>& table, model::Span* s);
// Approximate heap footprint of a decoded span, not counting its shared resource list.
uint64_t SpanBytes(const model::Span& s);
// Approximate heap footprint of an attribute list.
uint64_t AttributesBytes(const model::AttributeList& attrs);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_SPAN_CODEC_H_
