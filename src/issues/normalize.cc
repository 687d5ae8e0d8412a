#include "issues/normalize.h"

#include <re2/re2.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace sightline::issues {
namespace {

// One alternative per placeholder, tried in this order at every position (leftmost-first, as
// Sentry's single combined Python regex). Every inner group is non-capturing so that capture
// group i+1 tells which placeholder matched.
struct Placeholder {
  const char* replacement;
  const char* pattern;
};

#define SL_OCTET "(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])"
#define SL_IPV4 "(?:" SL_OCTET "\\.){3}" SL_OCTET
#define SL_H16 "[0-9a-fA-F]{1,4}"
#define SL_DAY "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
#define SL_MONTH "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
#define SL_TZNAME "(?:UT|GMT|[ECMP][SD]T|[A-IK-Z])"

constexpr std::array<Placeholder, 12> kPlaceholders = {{
    {"<email>", "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}"},
    {"<url>", "\\b(?:wss?|https?|ftp)://[^\\s/$.?#].[^\\s]*"},
    {"<ip>",
     // IPv6 with an embedded IPv4 first, then the usual IPv6 spellings, then IPv4. A bare
     // "::" (C++/Ruby scope operator) is deliberately not an address.
     "::(?:ffff(?::0{1,4})?:)?" SL_IPV4 "\\b"
     "|\\b(?:" SL_H16 ":){1,4}:" SL_IPV4 "\\b"
     "|\\b(?:" SL_H16 ":){7}" SL_H16 "\\b"
     "|\\bfe80:(?::[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]+"
     "|\\b(?:" SL_H16 ":){1,6}(?::" SL_H16 "){1,6}\\b"
     "|\\b(?:" SL_H16 ":){1,7}:"
     "|:(?::" SL_H16 "){1,7}\\b"
     "|\\b" SL_IPV4 "\\b"},
    {"<uuid>", "\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b"},
    {"<sha256>", "\\b[0-9a-fA-F]{64}\\b"},
    {"<sha1>", "\\b[0-9a-fA-F]{40}\\b"},
    {"<md5>", "\\b[0-9a-fA-F]{32}\\b"},
    {"<date>",
     // RFC 822/1123/2822: "Tue, 2 Jan 2024 10:20:30 +0100".
     SL_DAY ",\\s\\d{1,2}\\s" SL_MONTH "\\s\\d{2,4}\\s\\d{1,2}:\\d{1,2}(?::\\d{1,2})?\\s"
            "(?:[-+]\\d{2}[0-5]\\d|" SL_TZNAME ")"
            // "Mon Jan 02, 1999", "Jan 02, 1999".
            "|(?:" SL_DAY "\\s)?" SL_MONTH "\\s[0-3]\\d,\\s\\d{2,4}"
            // RFC 850.
            "|(?:Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday),\\s\\d{2}-" SL_MONTH
            "-\\d{2}\\s\\d{2}:\\d{2}:\\d{2}\\s" SL_TZNAME
            // ISO 8601 / RFC 3339 date-times (separators optional, as in Sentry).
            "|\\b\\d{4}-?[01]\\d-?[0-3]\\d\\s?T?\\s?[0-2]\\d:?[0-5]\\d:?[0-5]\\d(?:\\.\\d+)?"
            "(?:Z|[+-][0-2]\\d:?[0-5]\\d)?"
            // ISO 8601 dates.
            "|\\b\\d{4}-[01]\\d-[0-3]\\d\\b"
            // Times of day, optionally with fractions or am/pm ("Kitchen").
            "|\\b(?:[01]?\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d)?(?:\\.\\d+)?(?:\\s?[aApP][mM]\\b)?"
            // Python reprs.
            "|datetime\\.datetime\\(.*?\\)"},
    {"<hex>", "\\b0[xX][0-9a-fA-F]+\\b"},
    {"<float>", "-\\d+\\.\\d+\\b|\\b\\d+\\.\\d+\\b"},
    {"<int>", "-\\d+\\b|\\b\\d+\\b"},
    {"=<quoted_str>", "='[\\w\\s]+'"},
}};

#undef SL_OCTET
#undef SL_IPV4
#undef SL_H16
#undef SL_DAY
#undef SL_MONTH
#undef SL_TZNAME

const RE2& CombinedRegex() {
  static const RE2* const re = [] {
    std::string pattern;
    for (const Placeholder& p : kPlaceholders) {
      if (!pattern.empty()) pattern += '|';
      pattern += '(';
      pattern += p.pattern;
      pattern += ')';
    }
    RE2::Options options;
    options.set_encoding(RE2::Options::EncodingLatin1);  // byte-oriented: any input is fine
    options.set_log_errors(false);
    options.set_max_mem(64 << 20);
    return new RE2(pattern, options);
  }();
  return *re;
}

// The first two non-empty lines joined with '\n' ("..." appended when a further non-empty
// line was dropped). Lines end at "\n", "\r\n" or "\r".
std::string KeepTwoLines(std::string_view message) {
  std::string out;
  int kept = 0;
  size_t pos = 0;
  while (pos <= message.size()) {
    size_t end = message.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view line = message.substr(pos, end - pos);
    if (!line.empty()) {
      if (kept == 2) {
        out += "...";
        break;
      }
      if (kept > 0) out += '\n';
      out.append(line);
      ++kept;
    }
    if (end == message.size()) break;
    pos = end + 1;
    if (message[end] == '\r' && pos < message.size() && message[pos] == '\n') ++pos;
  }
  return out;
}

}  // namespace

std::string NormalizeMessage(std::string_view message) {
  const std::string text = KeepTwoLines(message);
  const RE2& re = CombinedRegex();
  if (!re.ok()) return text;  // cannot happen; the pattern is a constant
  constexpr int kGroups = static_cast<int>(kPlaceholders.size()) + 1;
  re2::StringPiece groups[kGroups];
  const re2::StringPiece input(text.data(), text.size());
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, groups, kGroups)) {
    const size_t start = static_cast<size_t>(groups[0].data() - text.data());
    const size_t end = start + groups[0].size();
    out.append(text, pos, start - pos);
    if (end == start) {  // no alternative matches empty, but never loop forever
      if (start < text.size()) out += text[start];
      pos = start + 1;
      continue;
    }
    for (int i = 1; i < kGroups; ++i) {
      if (groups[i].data() != nullptr) {
        out += kPlaceholders[i - 1].replacement;
        break;
      }
    }
    pos = end;
  }
  if (pos < text.size()) out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace sightline::issues
