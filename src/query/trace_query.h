// Trace queries over a SpanStore: one trace assembled into a tree with its summary, trace
// search returning summaries, services and operations, the service map, and RED series. The
// HTTP layer (api/trace_api.h) renders these for the native API and the Jaeger API.
//
// Thread-safe: every method may be called concurrently (the store is).
#ifndef SIGHTLINE_QUERY_TRACE_QUERY_H_
#define SIGHTLINE_QUERY_TRACE_QUERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/span.h"
#include "storage/span_store.h"

namespace sightline::query {

struct TraceSummary {
  model::TraceId trace_id;
  std::string root_service;  // of the root span; "" when the root has not arrived
  std::string root_name;
  int64_t start_ns = 0;  // earliest span start
  int64_t end_ns = 0;    // latest span end
  size_t span_count = 0;
  size_t error_count = 0;
  std::vector<std::string> services;  // sorted, distinct
};

// A trace as a tree: spans in pre-order (roots by start time, children by start time), with
// each span's depth (0 for roots). A span whose parent is absent from the trace is a root.
struct TraceView {
  std::vector<model::Span> spans;
  std::vector<int> depth;
  TraceSummary summary;
};

// Orders `spans` (one trace) into a TraceView. Cycles in parent links are broken.
TraceView BuildTraceView(std::vector<model::Span> spans);
TraceSummary Summarize(const std::vector<model::Span>& spans);

struct ServiceOperations {
  std::string service;
  std::vector<std::pair<std::string, model::SpanKind>> operations;  // sorted by name
};

struct ServiceEdge {
  std::string parent, child;
  uint64_t calls = 0, errors = 0;
  double p50_ns = 0, p95_ns = 0, p99_ns = 0;
};

// One RED series: per step bucket (start ns), requests, errors and latency quantiles.
struct RedPoint {
  int64_t ts_ns = 0;
  uint64_t requests = 0, errors = 0;
  double p50_ns = 0, p95_ns = 0, p99_ns = 0;
};
struct RedSeries {
  std::string service, operation;     // operation "" when grouped by service only
  uint64_t requests = 0, errors = 0;  // totals over the range
  double p50_ns = 0, p95_ns = 0, p99_ns = 0;
  std::vector<RedPoint> points;
};

struct RedRequest {
  std::string service;                 // "" = all
  std::string operation;               // "" = all
  bool by_operation = true;            // group by (service, operation), else by service
  std::vector<model::SpanKind> kinds;  // empty = all kinds
  int64_t start_ns = 0, end_ns = 0, step_ns = 60'000'000'000;
};

class TraceQuery {
 public:
  // `store` is not owned and must outlive the TraceQuery.
  explicit TraceQuery(storage::SpanStore* store) : store_(store) {}

  // NotFound when no span of the trace is stored.
  StatusOr<TraceView> GetTrace(const model::TraceId& id, int64_t min_ns = INT64_MIN,
                               int64_t max_ns = INT64_MAX) const;
  // Summaries of the newest `limit` traces with a span matching `filter`.
  StatusOr<std::vector<TraceSummary>> Search(const storage::SpanFilter& filter, size_t limit) const;
  // The newest `limit` matching traces, whole (for APIs that return full traces).
  StatusOr<std::vector<TraceView>> SearchViews(const storage::SpanFilter& filter,
                                               size_t limit) const;
  // Services with their operations seen in [start_ns, end_ns), from the rollups.
  std::vector<ServiceOperations> Services(int64_t start_ns, int64_t end_ns) const;
  // Caller -> callee edges over [start_ns, end_ns), sorted by (parent, child).
  std::vector<ServiceEdge> ServiceMap(int64_t start_ns, int64_t end_ns) const;
  // RED series from the rollups (minute resolution; step is rounded up to whole minutes).
  std::vector<RedSeries> Red(const RedRequest& req) const;

 private:
  storage::SpanStore* store_;
};

}  // namespace sightline::query

#endif  // SIGHTLINE_QUERY_TRACE_QUERY_H_
