#include "query/trace_query.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace sightline::query {
namespace {

uint64_t SpanKey(const model::SpanId& id) {
  uint64_t k;
  std::memcpy(&k, id.bytes.data(), 8);
  return k;
}

bool EarlierSpan(const model::Span& a, const model::Span& b) {
  if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
  return SpanKey(a.span_id) < SpanKey(b.span_id);
}

int64_t MinuteOf(int64_t ns) {
  return ns >= 0 ? ns / storage::kNsPerMinute : (ns + 1) / storage::kNsPerMinute - 1;
}

}  // namespace

TraceSummary Summarize(const std::vector<model::Span>& spans) {
  TraceSummary s;
  if (spans.empty()) return s;
  s.trace_id = spans[0].trace_id;
  s.start_ns = INT64_MAX;
  s.end_ns = INT64_MIN;
  std::set<std::string> services;
  std::unordered_map<uint64_t, const model::Span*> by_id;
  for (const auto& sp : spans) by_id[SpanKey(sp.span_id)] = &sp;
  const model::Span* root = nullptr;
  const model::Span* orphan = nullptr;
  for (const auto& sp : spans) {
    s.start_ns = std::min(s.start_ns, sp.start_ns);
    s.end_ns = std::max(s.end_ns, sp.end_ns);
    s.span_count++;
    if (sp.is_error()) s.error_count++;
    services.insert(sp.service);
    if (sp.parent_span_id.empty()) {
      if (root == nullptr || EarlierSpan(sp, *root)) root = &sp;
    } else if (!by_id.count(SpanKey(sp.parent_span_id))) {
      if (orphan == nullptr || EarlierSpan(sp, *orphan)) orphan = &sp;
    }
  }
  // Without a true root (not arrived yet, or sampled away) the earliest orphan stands in.
  if (root == nullptr) root = orphan;
  if (root != nullptr) {
    s.root_service = root->service;
    s.root_name = root->name;
  }
  s.services.assign(services.begin(), services.end());
  return s;
}

TraceView BuildTraceView(std::vector<model::Span> spans) {
  TraceView v;
  v.summary = Summarize(spans);
  std::sort(spans.begin(), spans.end(), EarlierSpan);
  std::unordered_map<uint64_t, size_t> index;
  for (size_t i = 0; i < spans.size(); ++i) index[SpanKey(spans[i].span_id)] = i;
  std::vector<std::vector<size_t>> children(spans.size());
  std::vector<size_t> roots;
  for (size_t i = 0; i < spans.size(); ++i) {
    auto it = spans[i].parent_span_id.empty() ? index.end()
                                              : index.find(SpanKey(spans[i].parent_span_id));
    if (it == index.end() || it->second == i) {
      roots.push_back(i);
    } else {
      children[it->second].push_back(i);  // in start order, since spans are sorted
    }
  }
  std::vector<bool> visited(spans.size(), false);
  std::vector<std::pair<size_t, int>> stack;
  auto walk = [&](size_t r) {
    stack.emplace_back(r, 0);
    while (!stack.empty()) {
      auto [i, d] = stack.back();
      stack.pop_back();
      if (visited[i]) continue;
      visited[i] = true;
      v.spans.push_back(std::move(spans[i]));
      v.depth.push_back(d);
      for (auto c = children[i].rbegin(); c != children[i].rend(); ++c) {
        if (!visited[*c]) stack.emplace_back(*c, d + 1);
      }
    }
  };
  for (size_t r : roots) walk(r);
  // Spans only reachable through a cycle: list them as roots.
  for (size_t i = 0; i < visited.size(); ++i) {
    if (!visited[i]) walk(i);
  }
  return v;
}

StatusOr<TraceView> TraceQuery::GetTrace(const model::TraceId& id, int64_t min_ns,
                                         int64_t max_ns) const {
  std::vector<model::Span> spans;
  SL_RETURN_IF_ERROR(store_->GetTrace(id, min_ns, max_ns, &spans));
  if (spans.empty()) return NotFound("trace " + id.Hex() + " not found");
  return BuildTraceView(std::move(spans));
}

StatusOr<std::vector<TraceSummary>> TraceQuery::Search(const storage::SpanFilter& filter,
                                                       size_t limit) const {
  std::vector<storage::TraceHit> hits;
  SL_RETURN_IF_ERROR(store_->SearchTraces(filter, limit, &hits));
  std::vector<TraceSummary> out;
  out.reserve(hits.size());
  std::vector<model::Span> spans;
  for (const auto& h : hits) {
    spans.clear();
    SL_RETURN_IF_ERROR(store_->GetTrace(h.trace_id, INT64_MIN, INT64_MAX, &spans));
    if (!spans.empty()) out.push_back(Summarize(spans));
  }
  return out;
}

StatusOr<std::vector<TraceView>> TraceQuery::SearchViews(const storage::SpanFilter& filter,
                                                         size_t limit) const {
  std::vector<storage::TraceHit> hits;
  SL_RETURN_IF_ERROR(store_->SearchTraces(filter, limit, &hits));
  std::vector<TraceView> out;
  out.reserve(hits.size());
  for (const auto& h : hits) {
    std::vector<model::Span> spans;
    SL_RETURN_IF_ERROR(store_->GetTrace(h.trace_id, INT64_MIN, INT64_MAX, &spans));
    if (!spans.empty()) out.push_back(BuildTraceView(std::move(spans)));
  }
  return out;
}

std::vector<ServiceOperations> TraceQuery::Services(int64_t start_ns, int64_t end_ns) const {
  std::vector<storage::RollupKey> keys;
  store_->ListRollupKeys(
      start_ns, end_ns,
      [](const storage::RollupKey& k) { return k.kind == storage::RollupKind::kRed; }, &keys);
  std::map<std::string, std::set<std::pair<std::string, model::SpanKind>>> by_service;
  for (const auto& k : keys) by_service[k.a].insert({k.b, k.span_kind});
  std::vector<ServiceOperations> out;
  for (auto& [svc, ops] : by_service) {
    out.push_back(ServiceOperations{svc, {ops.begin(), ops.end()}});
  }
  return out;
}

std::vector<ServiceEdge> TraceQuery::ServiceMap(int64_t start_ns, int64_t end_ns) const {
  storage::RollupMap m;
  store_->ReadRollups(
      start_ns, end_ns,
      [](const storage::RollupKey& k) { return k.kind == storage::RollupKind::kEdge; }, &m);
  std::vector<ServiceEdge> out;
  for (const auto& [k, series] : m) {
    storage::RollupCell total;
    for (const auto& [minute, c] : series) total.Merge(c);
    if (total.count == 0) continue;
    out.push_back(ServiceEdge{k.a, k.b, total.count, total.errors, total.latency.Quantile(0.5),
                              total.latency.Quantile(0.95), total.latency.Quantile(0.99)});
  }
  std::sort(out.begin(), out.end(), [](const ServiceEdge& a, const ServiceEdge& b) {
    return std::tie(a.parent, a.child) < std::tie(b.parent, b.child);
  });
  return out;
}

std::vector<RedSeries> TraceQuery::Red(const RedRequest& req) const {
  storage::RollupMap m;
  store_->ReadRollups(
      req.start_ns, req.end_ns,
      [&](const storage::RollupKey& k) {
        if (k.kind != storage::RollupKind::kRed) return false;
        if (!req.service.empty() && k.a != req.service) return false;
        if (!req.operation.empty() && k.b != req.operation) return false;
        return req.kinds.empty() ||
               std::find(req.kinds.begin(), req.kinds.end(), k.span_kind) != req.kinds.end();
      },
      &m);
  const int64_t step_min =
      std::max<int64_t>(1, (req.step_ns + storage::kNsPerMinute - 1) / storage::kNsPerMinute);
  const int64_t first = MinuteOf(req.start_ns);
  // (service, operation) -> bucket index -> cell
  std::map<std::pair<std::string, std::string>, std::map<int64_t, storage::RollupCell>> groups;
  for (const auto& [k, series] : m) {
    auto& g = groups[{k.a, req.by_operation ? k.b : std::string()}];
    for (const auto& [minute, c] : series) g[(minute - first) / step_min].Merge(c);
  }
  std::vector<RedSeries> out;
  for (const auto& [key, buckets] : groups) {
    RedSeries s;
    s.service = key.first;
    s.operation = key.second;
    storage::RollupCell total;
    for (const auto& [b, c] : buckets) {
      total.Merge(c);
      s.points.push_back(RedPoint{(first + b * step_min) * storage::kNsPerMinute, c.count, c.errors,
                                  c.latency.Quantile(0.5), c.latency.Quantile(0.95),
                                  c.latency.Quantile(0.99)});
    }
    s.requests = total.count;
    s.errors = total.errors;
    s.p50_ns = total.latency.Quantile(0.5);
    s.p95_ns = total.latency.Quantile(0.95);
    s.p99_ns = total.latency.Quantile(0.99);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sightline::query
