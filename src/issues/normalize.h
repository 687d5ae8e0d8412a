// Message normalization for grouping: replaces the variable parts of an error message
// (ids, numbers, dates, addresses...) with placeholders such as <int> or <uuid>, the way
// Sentry's normalize_message_for_grouping does, so that "user 123 not found" and
// "user 456 not found" group together. See docs/grouping.md for the exact table.
#ifndef SIGHTLINE_ISSUES_NORMALIZE_H_
#define SIGHTLINE_ISSUES_NORMALIZE_H_

#include <string>
#include <string_view>

namespace sightline::issues {

// Keeps the first two non-empty lines (appending "..." when anything was dropped), then
// replaces, left to right in a single pass, the first matching pattern of: <email>, <url>,
// <ip>, <uuid>, <sha256>, <sha1>, <md5>, <date>, <hex>, <float>, <int>, and ='quoted words'
// (=<quoted_str>). Works on arbitrary bytes (matching is byte-oriented; non-ASCII bytes are
// never part of a placeholder match and are copied through unchanged). Thread-safe.
std::string NormalizeMessage(std::string_view message);

}  // namespace sightline::issues

#endif  // SIGHTLINE_ISSUES_NORMALIZE_H_
