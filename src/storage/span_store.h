// The storage interface for trace spans. The embedded implementation
// (storage/embedded/span_store.h) is the default. Query code (query/trace_query.h) depends
// only on this header.
#ifndef SIGHTLINE_STORAGE_SPAN_STORE_H_
#define SIGHTLINE_STORAGE_SPAN_STORE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/span.h"
#include "storage/span_rollup.h"

namespace sightline::storage {

// A span-level predicate. A trace matches a search when one of its spans matches.
struct SpanFilter {
  int64_t start_ns = std::numeric_limits<int64_t>::min();  // span start in [start_ns, end_ns)
  int64_t end_ns = std::numeric_limits<int64_t>::max();
  std::string service;    // "" = any
  std::string operation;  // "" = any (span name, exact)
  int64_t min_duration_ns = 0;
  int64_t max_duration_ns = std::numeric_limits<int64_t>::max();
  bool errors_only = false;
  std::optional<model::SpanKind> kind;
  // Each (key, value) must equal the text form of a span attribute or, failing that, a resource
  // attribute. Special keys: "error" ("true"/"false") and "status" (unset|ok|error),
  // "span.kind" (server|client|...), "name" (operation), "service.name".
  std::vector<std::pair<std::string, std::string>> attrs;

  // True if `s` satisfies every condition.
  bool Matches(const model::Span& s) const;
  // True if only summary fields (no attributes) are constrained.
  bool SummaryOnly() const { return attrs.empty(); }
};

struct TraceIdHasher {
  size_t operator()(const model::TraceId& id) const;
};

// A trace found by a search: its id and the start of its latest matching span.
struct TraceHit {
  model::TraceId trace_id;
  int64_t latest_ns = 0;
};

struct SpanStoreStats {
  uint64_t parts = 0;
  uint64_t part_bytes = 0;
  uint64_t part_spans = 0;
  uint64_t memtable_spans = 0;
  uint64_t memtable_bytes = 0;
  uint64_t wal_bytes = 0;
  uint64_t blocks_read = 0;  // cumulative, for tests and /metrics
};

class SpanStore {
 public:
  virtual ~SpanStore() = default;

  // Durably appends `spans` (per the WAL fsync policy), makes them visible to queries and adds
  // them to the RED and service-map rollups. On OK every span is acknowledged. Thread-safe.
  // Errors: Unavailable (closed or WAL failed), ResourceExhausted (backpressure), IOError.
  virtual Status Append(std::vector<model::Span> spans) = 0;

  // Appends every stored span of `trace_id` to *out (any order; duplicates of one span id from
  // retried exports are removed). `min_ns`/`max_ns` optionally bound the span start times
  // (pruning only). Thread-safe. Errors: Corruption (names the file), IOError.
  virtual Status GetTrace(const model::TraceId& trace_id, int64_t min_ns, int64_t max_ns,
                          std::vector<model::Span>* out) = 0;

  // Finds up to `limit` traces with a span matching `filter`, ordered by the start of their
  // latest matching span, newest first. Thread-safe. Errors as GetTrace.
  virtual Status SearchTraces(const SpanFilter& filter, size_t limit,
                              std::vector<TraceHit>* out) = 0;

  // Copies the rollup series overlapping [start_ns, end_ns) (minute cells, whole minutes) whose
  // key satisfies `want` into *out. Thread-safe.
  virtual void ReadRollups(int64_t start_ns, int64_t end_ns,
                           const std::function<bool(const RollupKey&)>& want, RollupMap* out) = 0;

  // Appends the keys of the rollup series with a cell in [start_ns, end_ns) that satisfy
  // `want` to *out, without copying cells (service and operation lists). Thread-safe.
  virtual void ListRollupKeys(int64_t start_ns, int64_t end_ns,
                              const std::function<bool(const RollupKey&)>& want,
                              std::vector<RollupKey>* out) = 0;

  // Writes buffered spans to parts now. Thread-safe.
  virtual Status Flush() = 0;
  virtual bool Writable() = 0;
  virtual SpanStoreStats GetStats() = 0;
};

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_SPAN_STORE_H_
