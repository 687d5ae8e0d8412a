#include "storage/span_rollup.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sightline::storage {

int LatencyHistogram::BucketOf(int64_t duration_ns) {
  const double us = static_cast<double>(duration_ns) / 1000.0;
  if (us < 1.0) return 0;
  const int b = 1 + static_cast<int>(std::floor(std::log2(us) * 4.0));
  return std::min(b, 255);
}

double LatencyHistogram::BucketMidNs(int bucket) {
  if (bucket <= 0) return 500.0;
  // Bucket b covers [2^((b-1)/4), 2^(b/4)) microseconds.
  return std::exp2((static_cast<double>(bucket) - 0.5) / 4.0) * 1000.0;
}

void LatencyHistogram::Add(int64_t duration_ns, uint64_t n) {
  const auto b = static_cast<uint16_t>(BucketOf(duration_ns));
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), b,
                             [](const auto& e, uint16_t v) { return e.first < v; });
  if (it != buckets_.end() && it->first == b) {
    it->second += n;
  } else {
    buckets_.insert(it, {b, n});
  }
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (const auto& [b, n] : other.buckets_) {
    auto it = std::lower_bound(buckets_.begin(), buckets_.end(), b,
                               [](const auto& e, uint16_t v) { return e.first < v; });
    if (it != buckets_.end() && it->first == b) {
      it->second += n;
    } else {
      buckets_.insert(it, {b, n});
    }
  }
}

uint64_t LatencyHistogram::count() const {
  uint64_t n = 0;
  for (const auto& e : buckets_) n += e.second;
  return n;
}

double LatencyHistogram::Quantile(double q) const {
  const uint64_t total = count();
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (const auto& [b, n] : buckets_) {
    seen += n;
    if (seen >= std::max<uint64_t>(rank, 1)) return BucketMidNs(b);
  }
  return BucketMidNs(buckets_.back().first);
}

void LatencyHistogram::Encode(std::string* dst) const {
  PutVarint64(dst, buckets_.size());
  for (const auto& [b, n] : buckets_) {
    PutVarint64(dst, b);
    PutVarint64(dst, n);
  }
}

bool LatencyHistogram::Decode(Reader* in) {
  uint64_t n;
  if (!in->GetVarint64(&n) || n > 256) return false;
  buckets_.clear();
  buckets_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t b, c;
    if (!in->GetVarint64(&b) || !in->GetVarint64(&c) || b > 255) return false;
    if (!buckets_.empty() && buckets_.back().first >= b) return false;
    buckets_.emplace_back(static_cast<uint16_t>(b), c);
  }
  return true;
}

void RollupCell::Merge(const RollupCell& o) {
  count += o.count;
  errors += o.errors;
  sum_ns += o.sum_ns;
  latency.Merge(o.latency);
}

size_t RollupKeyHash::operator()(const RollupKey& k) const {
  uint64_t h = XXH3_64bits_withSeed(k.a.data(), k.a.size(), static_cast<uint64_t>(k.kind));
  h = XXH3_64bits_withSeed(k.b.data(), k.b.size(), h);
  return static_cast<size_t>(h ^ (static_cast<uint64_t>(k.span_kind) * 0x9E3779B97F4A7C15ull));
}

size_t EdgeResolver::KeyHash::operator()(const Key& k) const {
  uint64_t a, b;
  std::memcpy(&a, k.trace.bytes.data() + 8, 8);
  std::memcpy(&b, k.span.bytes.data(), 8);
  return static_cast<size_t>(XXH3_64bits_withSeed(&b, 8, a));
}

const uint32_t* EdgeResolver::FindService(const Key& k) const {
  for (const auto& gen : seen_) {
    auto it = gen.find(k);
    if (it != gen.end()) return &it->second;
  }
  return nullptr;
}

void EdgeResolver::Remember(const Key& k, uint32_t service) {
  if (seen_[0].size() >= capacity_) {
    seen_[1] = std::move(seen_[0]);
    seen_[0].clear();
    seen_[0].reserve(capacity_);
  }
  seen_[0][k] = service;
}

uint32_t EdgeResolver::Intern(const std::string& service) {
  auto it = ids_.find(service);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.push_back(service);
  ids_.emplace(service, id);
  return id;
}

void AddRedSpan(const model::Span& s, RollupMap* m) {
  RollupKey key{RollupKind::kRed, s.service, s.name, s.kind};
  const int64_t start = s.start_ns;
  const int64_t minute = start >= 0 ? start / kNsPerMinute : (start + 1) / kNsPerMinute - 1;
  RollupCell& c = (*m)[std::move(key)][minute];
  c.count += 1;
  c.errors += s.is_error() ? 1 : 0;
  c.sum_ns += s.duration_ns();
  c.latency.Add(s.duration_ns());
}

void RollupCardinality::Known(const std::string& service, const std::string& operation) {
  ops_[service].insert(operation);
}

std::pair<const std::string*, const std::string*> RollupCardinality::Map(
    const std::string& service, const std::string& operation, bool* overflowed) {
  auto it = ops_.find(service);
  if (it == ops_.end()) {
    if (ops_.size() >= max_services_) {
      *overflowed = true;
      return {&other_svc_, &other_op_};
    }
    it = ops_.emplace(service, std::unordered_set<std::string>{}).first;
  }
  auto& ops = it->second;
  auto op = ops.find(operation);
  if (op != ops.end()) return {&it->first, &*op};
  if (ops.size() >= max_operations_) {
    *overflowed = true;
    return {&it->first, &other_op_};
  }
  return {&it->first, &*ops.insert(operation).first};
}

void EncodeRollups(const RollupMap& m, std::string* dst) {
  PutVarint64(dst, m.size());
  for (const auto& [k, series] : m) {
    dst->push_back(static_cast<char>(k.kind));
    PutLengthPrefixed(dst, k.a);
    PutLengthPrefixed(dst, k.b);
    dst->push_back(static_cast<char>(k.span_kind));
    PutVarint64(dst, series.size());
    int64_t prev = 0;
    for (const auto& [minute, c] : series) {
      PutVarsint64(dst, minute - prev);
      prev = minute;
      PutVarint64(dst, c.count);
      PutVarint64(dst, c.errors);
      PutVarsint64(dst, c.sum_ns);
      c.latency.Encode(dst);
    }
  }
}

bool DecodeRollups(std::string_view src, RollupMap* m) {
  Reader in(src);
  uint64_t nseries;
  if (!in.GetVarint64(&nseries) || nseries > src.size()) return false;
  for (uint64_t i = 0; i < nseries; ++i) {
    RollupKey k;
    uint8_t b;
    std::string_view s;
    if (!in.GetByte(&b) || (b != 1 && b != 2)) return false;
    k.kind = static_cast<RollupKind>(b);
    if (!in.GetLengthPrefixed(&s)) return false;
    k.a.assign(s);
    if (!in.GetLengthPrefixed(&s)) return false;
    k.b.assign(s);
    if (!in.GetByte(&b) || b > 5) return false;
    k.span_kind = static_cast<model::SpanKind>(b);
    uint64_t ncells;
    if (!in.GetVarint64(&ncells) || ncells > in.remaining()) return false;
    RollupSeries& series = (*m)[k];
    int64_t minute = 0;
    for (uint64_t j = 0; j < ncells; ++j) {
      int64_t delta;
      RollupCell c;
      if (!in.GetVarsint64(&delta) || !in.GetVarint64(&c.count) || !in.GetVarint64(&c.errors) ||
          !in.GetVarsint64(&c.sum_ns) || !c.latency.Decode(&in)) {
        return false;
      }
      if (__builtin_add_overflow(minute, delta, &minute)) return false;
      series[minute].Merge(c);
    }
  }
  return in.empty();
}

void MergeRollups(const RollupMap& src, RollupMap* dst) {
  for (const auto& [k, series] : src) {
    RollupSeries& d = (*dst)[k];
    for (const auto& [minute, c] : series) d[minute].Merge(c);
  }
}

}  // namespace sightline::storage
