#include "base/base64.h"

namespace sightline {

void AppendBase64(std::string_view in, std::string* out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                          kAlphabet[v & 63]};
    out->append(quad, 4);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = p[i] << 16;
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    out->append(quad, 4);
  } else if (i + 2 == in.size()) {
    const uint32_t v = p[i] << 16 | p[i + 1] << 8;
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                          '='};
    out->append(quad, 4);
  }
}

namespace {
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Decodes `in` (padding optional) calling emit(byte) per output byte. False on a character
// outside both alphabets or a length of 4n+1.
template <typename Emit>
bool DecodeBase64To(std::string_view in, Emit&& emit) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      emit(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return true;
}
}  // namespace

bool DecodeBase64(std::string_view in, std::string* out) {
  return DecodeBase64To(in, [out](uint8_t b) { out->push_back(static_cast<char>(b)); });
}

bool DecodeBase64Exact(std::string_view in, uint8_t* out, size_t n) {
  size_t stripped = in.size();
  while (stripped > 0 && in[stripped - 1] == '=') --stripped;
  if (stripped * 6 / 8 != n) return false;
  size_t w = 0;
  return DecodeBase64To(in,
                        [&](uint8_t b) {
                          if (w < n) out[w] = b;
                          ++w;
                        }) &&
         w == n;
}

}  // namespace sightline
