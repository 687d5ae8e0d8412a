#include "storage/embedded/bloom.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>

namespace sightline::storage {

uint64_t TokenHash(std::string_view token) {
  char buf[kMaxTokenLen];
  size_t n = std::min(token.size(), kMaxTokenLen);
  for (size_t i = 0; i < n; ++i) {
    char c = token[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  uint64_t h = XXH3_64bits(buf, n);
  return h == 0 ? 1 : h;
}

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  ForEachToken(text, [&](size_t s, size_t len) { out.emplace_back(text.substr(s, len)); });
  return out;
}

bool ContainsWord(std::string_view text, std::string_view word) {
  if (word.empty()) return true;
  bool found = false;
  ForEachToken(text, [&](size_t s, size_t len) {
    if (found || len != word.size()) return;
    bool eq = true;
    for (size_t k = 0; k < len && eq; ++k) {
      char a = text[s + k], b = word[k];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b + 32);
      eq = a == b;
    }
    found = eq;
  });
  return found;
}

std::vector<std::string> InnerTokens(std::string_view needle) {
  std::vector<std::string> out;
  ForEachToken(needle, [&](size_t s, size_t len) {
    if (s > 0 && s + len < needle.size()) out.emplace_back(needle.substr(s, len));
  });
  return out;
}

BloomBuilder::BloomBuilder() : slots_(1024, 0) {}

void BloomBuilder::Clear() {
  std::fill(slots_.begin(), slots_.end(), 0);
  count_ = 0;
}

void BloomBuilder::Grow() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, 0);
  count_ = 0;
  for (uint64_t h : old)
    if (h) Add(h);
}

void BloomBuilder::Add(uint64_t h) {
  if (h == 0) h = 1;
  if ((count_ + 1) * 2 > slots_.size()) Grow();
  size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(h * 0x9E3779B97F4A7C15ull >> 20) & mask;
  while (true) {
    uint64_t s = slots_[i];
    if (s == h) return;
    if (s == 0) {
      slots_[i] = h;
      ++count_;
      return;
    }
    i = (i + 1) & mask;
  }
}

std::string BloomBuilder::Finish(int bits_per_key) {
  size_t bits = std::max<size_t>(64, count_ * static_cast<size_t>(bits_per_key));
  size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  int k = std::clamp(static_cast<int>(std::lround(bits_per_key * 0.69)), 1, 30);
  std::string out(1 + bytes, '\0');
  out[0] = static_cast<char>(k);
  auto* arr = reinterpret_cast<uint8_t*>(out.data() + 1);
  for (uint64_t h : slots_) {
    if (!h) continue;
    uint64_t h1 = h, h2 = (h >> 33) | (h << 31) | 1;
    for (int j = 0; j < k; ++j) {
      uint64_t bit = (h1 + static_cast<uint64_t>(j) * h2) % bits;
      arr[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
    }
  }
  return out;
}

bool BloomMayContain(std::string_view filter, uint64_t h) {
  if (filter.size() < 2) return true;
  if (h == 0) h = 1;
  int k = static_cast<uint8_t>(filter[0]);
  uint64_t bits = (filter.size() - 1) * 8;
  const auto* arr = reinterpret_cast<const uint8_t*>(filter.data() + 1);
  uint64_t h1 = h, h2 = (h >> 33) | (h << 31) | 1;
  for (int j = 0; j < k; ++j) {
    uint64_t bit = (h1 + static_cast<uint64_t>(j) * h2) % bits;
    if (!(arr[bit >> 3] & (1u << (bit & 7)))) return false;
  }
  return true;
}

}  // namespace sightline::storage
