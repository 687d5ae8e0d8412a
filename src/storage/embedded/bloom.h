// Tokenizer and per-block token bloom filters (docs/formats/part.md, "Bloom filter").
//
// A token is a maximal run of bytes that are ASCII letters, digits or '_' or any byte
// >= 0x80 (so UTF-8 words stay whole); everything else separates tokens. Tokens are
// lowercased (ASCII) and truncated to kMaxTokenLen bytes before hashing, at ingest and at
// query time alike, so a bloom answers "might this block contain the whole word W,
// case-insensitively?" with false positives but never false negatives.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_BLOOM_H_
#define SIGHTLINE_STORAGE_EMBEDDED_BLOOM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sightline::storage {

inline constexpr size_t kMaxTokenLen = 64;

inline bool IsTokenByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

// Hash of a token as stored in blooms (lowercased, truncated).
uint64_t TokenHash(std::string_view token);

// Calls fn(start, length) for every token of text, in order.
template <typename F>
void ForEachToken(std::string_view text, F&& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && !IsTokenByte(p[i])) ++i;
    size_t start = i;
    while (i < n && IsTokenByte(p[i])) ++i;
    if (i > start) fn(start, i - start);
  }
}

// Calls fn(uint64_t hash) for every token of text.
template <typename F>
void ForEachTokenHash(std::string_view text, F&& fn) {
  ForEachToken(text, [&](size_t s, size_t len) { fn(TokenHash(text.substr(s, len))); });
}

// The tokens of text (original case), in order.
std::vector<std::string> Tokenize(std::string_view text);
// True if `text` contains `word` as a whole token, ignoring ASCII case.
bool ContainsWord(std::string_view text, std::string_view word);
// Tokens of `needle` that any text containing `needle` as a substring must contain as whole
// tokens: those bounded by a non-token byte on both sides inside the needle.
std::vector<std::string> InnerTokens(std::string_view needle);

// Collects distinct token hashes, then builds a bloom filter sized for them.
class BloomBuilder {
 public:
  BloomBuilder();
  void Add(uint64_t hash);
  void AddText(std::string_view text) {
    ForEachTokenHash(text, [this](uint64_t h) { Add(h); });
  }
  size_t distinct() const { return count_; }
  // Serialized filter: 1 byte hash count k, then the bit array (little-endian bytes).
  std::string Finish(int bits_per_key);
  void Clear();

 private:
  void Grow();
  std::vector<uint64_t> slots_;  // open addressing, 0 = empty (hash 0 remapped to 1)
  size_t count_ = 0;
};

// True if the filter may contain `hash`. Malformed (empty) filters answer true.
bool BloomMayContain(std::string_view filter, uint64_t hash);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_BLOOM_H_
