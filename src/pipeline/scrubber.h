// PII and secret scrubbing, applied by the ingest pipelines before anything reaches the WAL or
// the stores. One Scrubber holds the compiled rules; it scrubs free text (log bodies, exception
// values, URLs, JSON text), structured key/value data (attributes, tags, headers, frame
// variables, breadcrumb data) and whole records (LogRecord, Span, ErrorEvent).
//
// How a text is scanned: every value pattern (built-in and custom) sits in one RE2::Set, so one
// DFA pass over the bytes tells which patterns occur at all. Texts shorter than the shortest
// possible match are skipped outright; texts the Set reports clean cost that one pass. Only
// the patterns the Set reported are then run on their own to locate matches, which are
// validated (Luhn and card prefixes for cards, a calendar date for Korean RRNs, digit counts for
// phone numbers, inet_pton for IPv6, token-aware key matching for `key=value` pairs) and
// replaced. Overlapping matches are resolved by rule priority (custom rules first).
//
// Key matching is token-aware: a key is split on non-alphanumeric characters and camelCase
// boundaries ("X-Api-Key" -> x|api|key, "dbPassword" -> db|password) and matches a sensitive
// name when the name's tokens occur as a contiguous run of the key's tokens, or (for one-token
// names of 5+ letters) when a key token ends with the name ("accesstoken"). A match is ignored
// when the token right after it is a neutral word such as count, type, url or limit
// ("token_count", "auth_type"). So "author" and "tokens_used_count" are not sensitive, while
// "db_password", "AUTH_TOKEN" and "X-Api-Key" are. See docs/scrubbing.md.
//
// Thread-safety: a Scrubber is immutable after Create(); every method is const and may be
// called concurrently from any number of threads.
#ifndef SIGHTLINE_PIPELINE_SCRUBBER_H_
#define SIGHTLINE_PIPELINE_SCRUBBER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/error_event.h"
#include "model/log_record.h"
#include "model/span.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace sightline::pipeline {

// What happens to a detected value.
enum class ScrubAction {
  kMask,    // replaced by "[Filtered]"
  kHash,    // replaced by "[hash:<16 hex>]", a keyed hash: equal values give equal output
  kRemove,  // structured: the attribute / field / pair is dropped; free text: the match is cut
};

// A custom rule from the configuration. A rule has a value pattern, key names, or both.
struct ScrubRule {
  std::string name;  // for error messages and docs; "" -> "custom#<index>"
  // RE2 syntax (byte-oriented, Latin-1). Free text matching it is scrubbed. If the pattern has
  // capture groups, only group 1 is replaced (e.g. "pin=(\d{4})"). May be empty.
  std::string pattern;
  // Sensitive key names, tokenized like keys ("card_number" = card|number). Values stored
  // under a matching key are scrubbed whole; `key=value` pairs in free text too. May be empty.
  std::vector<std::string> keys;
  ScrubAction action = ScrubAction::kMask;
  // Project selector: "" applies to every project, otherwise to that project id only. The
  // Scrubber itself ignores it; see OptionsForProject().
  std::string project;
};

struct ScrubberOptions {
  bool enabled = true;   // false: every Scrub* call is a no-op returning 0
  bool defaults = true;  // the built-in rules (docs/scrubbing.md lists them)
  bool emails = true;    // the built-in e-mail rule (and ErrorEvent user.email), if defaults
  bool ips = false;      // IPv4/IPv6 addresses (and ErrorEvent user.ip_address); opt-in
  ScrubAction action = ScrubAction::kMask;  // action of the built-in rules
  // Key of the kHash action; required (non-empty) when any enabled rule hashes. Hashes are
  // XXH3-128 over (secret, 0, value): stable across restarts, not reversible without the secret.
  std::string hash_secret;
  std::vector<ScrubRule> custom;  // evaluated before the built-in rules
};

// Returns a copy of `options` whose custom rules are those for every project (project == "")
// plus those whose project equals `project`. Build one Scrubber per distinct result.
ScrubberOptions OptionsForProject(const ScrubberOptions& options, std::string_view project);

class Scrubber {
 public:
  // Compiles `options`. Errors (InvalidArgument, naming the rule): a custom pattern RE2
  // rejects, a custom rule with neither pattern nor keys, a key with no alphanumeric
  // characters, a hash action without hash_secret. The caller owns the result.
  static StatusOr<std::unique_ptr<Scrubber>> Create(const ScrubberOptions& options);
  ~Scrubber();
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

  // Scrubs free text in place: every value-rule match (and the value of every `key=value`,
  // `key: value`, `"key": "value"` pair with a sensitive key) is replaced according to its
  // rule's action. Returns the number of replacements (0: `text` is unchanged).
  size_t ScrubText(std::string* text) const;

  // True if values stored under `key` are scrubbed whole (token-aware match, see above).
  bool IsSensitiveKey(std::string_view key) const;

  // Scrubs an attribute list: attributes under sensitive keys are replaced whole (non-string
  // values become the replacement string) or dropped (kRemove); other string values are
  // scrubbed as text; integers of 13+ digits are checked for card numbers. Returns the count.
  size_t ScrubAttributes(std::vector<model::Attribute>* attrs) const;

  // Scrubs key/value string pairs (tags, headers, frame vars, breadcrumb data) the same way;
  // kRemove on a sensitive key erases the pair. Returns the count.
  size_t ScrubPairs(std::vector<std::pair<std::string, std::string>>* pairs) const;

  // Scrubs a log record: body and attributes. Returns the number of replacements.
  size_t ScrubRecord(model::LogRecord* record) const;

  // Scrubs a span: name, status message, attributes, event names and attributes, link
  // attributes and resource attributes. The shared resource list is never modified in place:
  // a scrubbed copy is installed with SetResourceAttrs() only if something changed (so a
  // clean resource stays shared). Returns the number of replacements.
  size_t ScrubSpan(model::Span* span) const;

  // Scrubs an error event: message (and template), transaction, exception values, frame
  // variables and context lines, breadcrumbs (message and data), request url, query string and
  // headers, user email (whole, if emails), ip_address (whole, if ips) and username (as text;
  // user.id is kept), tags, and extra_json / contexts_json as text (a replacement of an
  // unquoted JSON value is quoted, so the JSON stays valid for mask and hash). Returns the
  // number of replacements.
  size_t ScrubEvent(model::ErrorEvent* event) const;

  // Number of value patterns in the one-pass set (for tests and metrics).
  size_t num_patterns() const;

 private:
  struct Impl;
  explicit Scrubber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sightline::pipeline

#endif  // SIGHTLINE_PIPELINE_SCRUBBER_H_
