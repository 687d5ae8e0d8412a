// RED metrics and service-map edges derived from spans at ingest, kept as per-minute cells so
// that a dashboard over a month answers from memory without touching spans.
//
//   RED series   key (service, operation, kind): spans, error spans, summed duration and a
//                latency histogram per minute of span start.
//   Edge series  key (caller service, callee service): one call per child span whose parent
//                span belongs to another service; errors and latency are the child's.
//
// Edges need the parent's service. EdgeResolver remembers the service of recently seen spans
// (two generations of `capacity` entries each) and children waiting for a parent that has not
// arrived yet, so an edge is found whichever of the two spans arrives first, as long as they
// arrive within the window (spans of one trace normally arrive within seconds).
//
// Latency histograms use 4 log-scale buckets per power of two of microseconds (bucket width
// ~19%); quantiles report the bucket's geometric midpoint, so they are within ~10%.
//
// Thread-safety: none; the owner (the span store) serializes access.
#ifndef SIGHTLINE_STORAGE_SPAN_ROLLUP_H_
#define SIGHTLINE_STORAGE_SPAN_ROLLUP_H_

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "model/span.h"

namespace sightline::storage {

inline constexpr int64_t kNsPerMinute = 60'000'000'000;

// A sparse latency histogram.
class LatencyHistogram {
 public:
  void Add(int64_t duration_ns, uint64_t n = 1);
  void Merge(const LatencyHistogram& other);
  // The q-quantile (0..1) in ns; 0 for an empty histogram.
  double Quantile(double q) const;
  uint64_t count() const;
  void Encode(std::string* dst) const;
  bool Decode(Reader* in);

  static int BucketOf(int64_t duration_ns);
  static double BucketMidNs(int bucket);

 private:
  std::vector<std::pair<uint16_t, uint64_t>> buckets_;  // sorted by bucket
};

struct RollupCell {
  uint64_t count = 0;
  uint64_t errors = 0;
  int64_t sum_ns = 0;
  LatencyHistogram latency;
  void Merge(const RollupCell& o);
};

enum class RollupKind : uint8_t { kRed = 1, kEdge = 2 };

struct RollupKey {
  RollupKind kind = RollupKind::kRed;
  std::string a;  // RED: service; edge: caller service
  std::string b;  // RED: operation; edge: callee service
  model::SpanKind span_kind = model::SpanKind::kUnspecified;  // RED only
  bool operator==(const RollupKey&) const = default;
};
struct RollupKeyHash {
  size_t operator()(const RollupKey& k) const;
};

// Minute -> cell, per series.
using RollupSeries = std::map<int64_t, RollupCell>;
using RollupMap = std::unordered_map<RollupKey, RollupSeries, RollupKeyHash>;

// Serialization of a RollupMap (the rollup section of a span part; docs/formats/span_part.md).
void EncodeRollups(const RollupMap& m, std::string* dst);
bool DecodeRollups(std::string_view src, RollupMap* m);
// Adds every cell of `src` into *dst.
void MergeRollups(const RollupMap& src, RollupMap* dst);

// Finds caller -> callee edges across services (see the file comment).
class EdgeResolver {
 public:
  explicit EdgeResolver(size_t capacity = 1 << 20) : capacity_(capacity) {}
  // Records `s` and emits, through add(key, minute, cell), the edges it completes: to its
  // parent if already seen, and from the children that were waiting for it.
  template <typename AddFn>
  void Observe(const model::Span& s, AddFn&& add);

 private:
  struct Key {
    model::TraceId trace;
    model::SpanId span;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Child {
    uint32_t service;
    int64_t start_ns;
    int64_t duration_ns;
    bool error;
  };
  const uint32_t* FindService(const Key& k) const;
  void Remember(const Key& k, uint32_t service);
  uint32_t Intern(const std::string& service);

  size_t capacity_;
  // Service names by id (services are few; ids keep the maps small and allocation-free).
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
  absl::flat_hash_map<Key, uint32_t, KeyHash> seen_[2];  // [0] current generation
  absl::flat_hash_map<Key, std::vector<Child>, KeyHash> waiting_[2];
};

// Adds the RED cell of one span to *m.
void AddRedSpan(const model::Span& s, RollupMap* m);

// Bounds the number of RED series: span names that embed ids ("GET /users/8731") would
// otherwise create one series per request and exhaust memory. Each service keeps its first
// `max_operations` operation names; later new names are counted under kOtherOperation, and
// services beyond `max_services` under kOtherService. The spans themselves keep their names.
inline constexpr std::string_view kOtherOperation = "__other__";
inline constexpr std::string_view kOtherService = "__other__";
class RollupCardinality {
 public:
  RollupCardinality(size_t max_services, size_t max_operations)
      : max_services_(max_services), max_operations_(max_operations) {}
  // Registers an existing series (from stored rollups) without applying the limits.
  void Known(const std::string& service, const std::string& operation);
  // The (service, operation) a span's RED cell is counted under. *overflowed is set when a
  // limit redirected it.
  std::pair<const std::string*, const std::string*> Map(const std::string& service,
                                                        const std::string& operation,
                                                        bool* overflowed);

 private:
  size_t max_services_, max_operations_;
  std::unordered_map<std::string, std::unordered_set<std::string>> ops_;
  const std::string other_op_{kOtherOperation};
  const std::string other_svc_{kOtherService};
};

template <typename AddFn>
void EdgeResolver::Observe(const model::Span& s, AddFn&& add) {
  auto emit = [&](uint32_t caller, uint32_t callee, int64_t start, int64_t dur, bool error) {
    if (caller == callee) return;
    RollupCell c;
    c.count = 1;
    c.errors = error ? 1 : 0;
    c.sum_ns = dur;
    c.latency.Add(dur);
    RollupKey k{RollupKind::kEdge, names_[caller], names_[callee], model::SpanKind::kUnspecified};
    const int64_t minute = start >= 0 ? start / kNsPerMinute : (start + 1) / kNsPerMinute - 1;
    add(k, minute, c);
  };
  const uint32_t service = Intern(s.service);
  const Key self{s.trace_id, s.span_id};
  Remember(self, service);
  for (auto& gen : waiting_) {
    if (gen.empty()) continue;
    auto it = gen.find(self);
    if (it == gen.end()) continue;
    for (const Child& c : it->second) emit(service, c.service, c.start_ns, c.duration_ns, c.error);
    gen.erase(it);
  }
  if (s.parent_span_id.empty()) return;
  const Key parent{s.trace_id, s.parent_span_id};
  if (const uint32_t* ps = FindService(parent)) {
    emit(*ps, service, s.start_ns, s.duration_ns(), s.is_error());
    return;
  }
  if (waiting_[0].size() >= capacity_) {
    waiting_[1] = std::move(waiting_[0]);
    waiting_[0].clear();
  }
  waiting_[0][parent].push_back(Child{service, s.start_ns, s.duration_ns(), s.is_error()});
}

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_SPAN_ROLLUP_H_
