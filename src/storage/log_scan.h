// The declarative part of a log query that a Store executes: time range, field matchers,
// substring and word filters, and which columns the caller needs. Query languages (query/)
// compile to this; the embedded store evaluates it with pruning (time -> part -> service ->
// trace index -> bloom -> columns) and a ClickHouse store can translate it to SQL.
#ifndef SIGHTLINE_STORAGE_LOG_SCAN_H_
#define SIGHTLINE_STORAGE_LOG_SCAN_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/log_record.h"

namespace re2 {
class RE2;
}

namespace sightline::storage {

// A predicate on one field. Field names: "service", "level", "env", "host", "trace_id",
// "span_id", "body" (the message), or any attribute key. An absent field has value "".
// Values compare as text (AttrValue::ToText); level compares by name ("error").
struct FieldMatcher {
  enum class Op { kEq, kNeq, kRe, kNre };
  std::string field;
  Op op = Op::kEq;
  std::string value;
  std::shared_ptr<const re2::RE2> re;  // set for kRe/kNre (fully anchored)

  bool Matches(std::string_view text) const;
};

struct LogScanSpec {
  int64_t start_ns = 0;                  // inclusive
  int64_t end_ns = INT64_MAX;            // exclusive
  std::vector<FieldMatcher> matchers;    // all must hold
  std::vector<std::string> contains;     // body contains each (case-sensitive substring)
  std::vector<std::string> words;        // body or a string field contains each whole word
                                         // (case-insensitive)
  // Columns to materialize in returned records. ts, service, level are always filled.
  bool need_body = true;
  bool need_attrs = true;
  bool need_ids = true;   // trace_id, span_id
  bool need_meta = true;  // env, host, severity_number, observed_ns
};

// Counters a scan fills in; returned in query stats.
struct ScanStats {
  uint64_t parts = 0;
  uint64_t blocks_total = 0;
  uint64_t blocks_pruned_time = 0;
  uint64_t blocks_pruned_index = 0;  // service/level/trace index
  uint64_t blocks_pruned_bloom = 0;
  uint64_t blocks_read = 0;
  uint64_t rows_scanned = 0;
  uint64_t rows_matched = 0;
  uint64_t bytes_read = 0;  // compressed bytes read from parts
  void Add(const ScanStats& o);
};

// Built-in fields usable as group keys by ReadBlockKeys.
enum KeyField : uint8_t { kKeyService = 1, kKeyLevel = 2, kKeyEnv = 4, kKeyHost = 8 };

// Rows of a block reduced to (time, group key): the input of count-like metric queries.
// keys[i] holds the (service, level, env, host) values of key i; fields outside the
// requested mask are "".
struct KeyedRows {
  std::vector<int64_t> ts;
  std::vector<uint32_t> key;  // index into keys, one per row
  std::vector<std::array<std::string, 4>> keys;
};

// Map from key tuple to its index in KeyedRows::keys.
using KeyIndex = std::map<std::array<std::string, 4>, uint32_t>;
// Appends (r.ts_ns, key of r over `mask`) to *out, adding the key to out->keys if new.
void AppendRecordKey(const model::LogRecord& r, uint8_t mask, KeyIndex* index, KeyedRows* out);

// Attributes that hold a whole payload rather than a searchable value (the stored Sentry
// event, "sentry_event") are left out of word search: `words` do not look into them, and the
// token blooms do not index them. Equality and regex matchers still apply.
inline bool IsWordSearched(std::string_view attribute_key) {
  return attribute_key != "sentry_event";
}

// Value of a named field of a record as text ("" if absent).
std::string FieldText(const model::LogRecord& r, std::string_view field);
// True if the record satisfies every predicate of the spec (time range included).
bool RecordMatches(const model::LogRecord& r, const LogScanSpec& spec);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_LOG_SCAN_H_
