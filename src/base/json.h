// Minimal JSON output helpers (the API writes JSON by hand on hot paths; parsing uses
// simdjson). Strings are escaped per RFC 8259; bytes >= 0x80 pass through unchanged, and
// invalid UTF-8 is replaced by U+FFFD so that responses are always valid JSON text.
#ifndef SIGHTLINE_BASE_JSON_H_
#define SIGHTLINE_BASE_JSON_H_

#include <string>
#include <string_view>

namespace sightline {

// Appends `s` as a quoted JSON string to *out.
void JsonQuote(std::string_view s, std::string* out);
inline std::string JsonQuoted(std::string_view s) {
  std::string o;
  JsonQuote(s, &o);
  return o;
}
// Appends a number; NaN and infinities (not representable in JSON) become null.
void JsonNumber(double v, std::string* out);

}  // namespace sightline

#endif  // SIGHTLINE_BASE_JSON_H_
