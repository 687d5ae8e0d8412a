// Executes LogQL (query/logql_ast.h) over a storage::LogStore.
//
// A query is compiled into a storage::LogScanSpec (the part the store evaluates with its
// indexes: selector matchers, leading line filters and leading string field filters) plus a
// residual pipeline evaluated here (parsers, numeric filters, formatting). Log queries return
// lines newest first (or oldest first) with a limit and an opaque cursor for the next page;
// metric queries return series of (time, value) points at each step.
//
// Thread-safety: a LogQueryEngine is thread-safe; each Query call may use up to `threads`
// threads to read blocks in parallel.
#ifndef SIGHTLINE_QUERY_LOG_ENGINE_H_
#define SIGHTLINE_QUERY_LOG_ENGINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/log_record.h"
#include "storage/store.h"

namespace sightline::query {

using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by name

enum class Direction { kBackward, kForward };

struct LogQueryRequest {
  std::string query;
  int64_t start_ns = 0;  // inclusive
  int64_t end_ns = 0;    // exclusive for log queries; last step for metric queries
  int64_t step_ns = 0;   // metric queries; 0 = derive (about 250 points)
  size_t limit = 100;    // log queries
  Direction direction = Direction::kBackward;
  std::string cursor;    // from a previous result's next_cursor
  bool instant = false;  // metric query evaluated at end_ns only (Loki /query)
};

struct LogLine {
  model::LogRecord record;
  Labels parsed;  // fields added by the pipeline (| json, | logfmt, | regexp, ...)
};

struct Series {
  Labels labels;
  std::vector<std::pair<int64_t, double>> points;  // (ns, value), ascending
};

struct QueryResult {
  enum class Type { kStreams, kMatrix, kVector, kScalar };
  Type type = Type::kStreams;
  std::vector<LogLine> lines;       // kStreams, in the requested order
  std::string next_cursor;          // kStreams; empty when there is no further page
  std::vector<Series> series;       // kMatrix / kVector (one point each) / kScalar (one series)
  storage::ScanStats stats;
  int64_t step_ns = 0;
};

// Labels of a record for metric grouping and stream identity: service, level, env, host
// (non-empty ones).
Labels BaseLabels(const model::LogRecord& r);

class LogQueryEngine {
 public:
  // `store` is not owned and must outlive the engine.
  LogQueryEngine(storage::LogStore* store, int threads);

  // Parses and runs a query. Errors: InvalidArgument (syntax, bad parameters, a metric
  // query that would produce more than kMaxPoints points), ResourceExhausted (a query that
  // matches more series than kMaxSeries), Corruption/IOError from the store.
  StatusOr<QueryResult> Query(const LogQueryRequest& req) const;

  static constexpr size_t kMaxSeries = 50000;
  static constexpr int64_t kMaxPoints = 11000;  // per series, as Prometheus

 private:
  storage::LogStore* store_;
  int threads_;
};

}  // namespace sightline::query

#endif  // SIGHTLINE_QUERY_LOG_ENGINE_H_
