#include "query/trace_query.h"

#include <gtest/gtest.h>

#include "storage/embedded/span_store.h"
#include "testing/temp_dir.h"

namespace sightline::query {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000'000'000;
constexpr int64_t kMs = 1'000'000;

model::Span MakeSpan(uint8_t id, uint8_t parent, const std::string& svc, const std::string& name,
                     model::SpanKind kind, int64_t start_ms, int64_t dur_ms, bool error = false) {
  model::Span s;
  s.trace_id.bytes[15] = 1;
  s.span_id.bytes[7] = id;
  if (parent) s.parent_span_id.bytes[7] = parent;
  s.service = svc;
  s.name = name;
  s.kind = kind;
  s.start_ns = kT0 + start_ms * kMs;
  s.end_ns = s.start_ns + dur_ms * kMs;
  if (error) s.status_code = model::StatusCode::kError;
  return s;
}

using model::SpanKind;

TEST(TraceViewTest, PreOrderTreeWithDepthsAndSummary) {
  // Shuffled input; children ordered by start time.
  std::vector<model::Span> spans = {
      MakeSpan(4, 3, "orders", "GET /orders", SpanKind::kServer, 5, 20),
      MakeSpan(2, 1, "gateway", "validate", SpanKind::kInternal, 1, 2),
      MakeSpan(1, 0, "gateway", "GET /checkout", SpanKind::kServer, 0, 40, true),
      MakeSpan(3, 1, "gateway", "GET", SpanKind::kClient, 4, 30),
      MakeSpan(5, 4, "payments", "POST /pay", SpanKind::kServer, 8, 10, true),
  };
  TraceView v = BuildTraceView(spans);
  ASSERT_EQ(v.spans.size(), 5u);
  std::vector<int> ids, depths = v.depth;
  for (const auto& s : v.spans) ids.push_back(s.span_id.bytes[7]);
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(depths, (std::vector<int>{0, 1, 1, 2, 3}));
  EXPECT_EQ(v.summary.root_service, "gateway");
  EXPECT_EQ(v.summary.root_name, "GET /checkout");
  EXPECT_EQ(v.summary.span_count, 5u);
  EXPECT_EQ(v.summary.error_count, 2u);
  EXPECT_EQ(v.summary.end_ns - v.summary.start_ns, 40 * kMs);
  EXPECT_EQ(v.summary.services, (std::vector<std::string>{"gateway", "orders", "payments"}));
}

TEST(TraceViewTest, MissingRootAndCyclesDoNotLoseSpans) {
  std::vector<model::Span> spans = {
      MakeSpan(4, 3, "orders", "GET /orders", SpanKind::kServer, 5, 20),  // parent 3 absent
      MakeSpan(5, 4, "payments", "POST /pay", SpanKind::kServer, 8, 10),
      MakeSpan(7, 8, "x", "a", SpanKind::kInternal, 9, 1),  // 7 <-> 8 cycle
      MakeSpan(8, 7, "x", "b", SpanKind::kInternal, 9, 1),
  };
  TraceView v = BuildTraceView(spans);
  EXPECT_EQ(v.spans.size(), 4u);
  EXPECT_EQ(v.summary.root_service, "orders");  // the earliest orphan stands in
  EXPECT_EQ(v.depth[0], 0);
  EXPECT_EQ(v.depth[1], 1);
}

class TraceQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::EmbeddedSpanStoreOptions o;
    o.dir = dir_.path();
    o.background = false;
    o.retention_ns = 0;
    auto s = storage::EmbeddedSpanStore::Open(o);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<storage::EmbeddedSpanStore> store_;
};

TEST_F(TraceQueryTest, ServicesServiceMapAndRed) {
  for (uint8_t t = 1; t <= 4; ++t) {
    std::vector<model::Span> spans = {
        MakeSpan(1, 0, "gateway", "GET /checkout", SpanKind::kServer, t * 1000, 40, t == 4),
        MakeSpan(2, 1, "gateway", "GET", SpanKind::kClient, t * 1000 + 1, 30, t == 4),
        MakeSpan(3, 2, "orders", "GET /orders", SpanKind::kServer, t * 1000 + 2, 20 + t, t == 4),
    };
    for (auto& s : spans) s.trace_id.bytes[15] = t;
    ASSERT_TRUE(store_->Append(spans).ok());
  }
  TraceQuery q(store_.get());
  auto services = q.Services(kT0, kT0 + 3600 * 1000 * kMs);
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].service, "gateway");
  EXPECT_EQ(services[0].operations.size(), 2u);

  auto edges = q.ServiceMap(kT0, kT0 + 3600 * 1000 * kMs);
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].parent, "gateway");
  EXPECT_EQ(edges[0].child, "orders");
  EXPECT_EQ(edges[0].calls, 4u);
  EXPECT_EQ(edges[0].errors, 1u);
  EXPECT_GT(edges[0].p50_ns, 19.0 * kMs);
  EXPECT_LT(edges[0].p99_ns, 27.0 * kMs);

  RedRequest r;
  r.start_ns = kT0;
  r.end_ns = kT0 + 3600 * 1000 * kMs;
  r.kinds = {SpanKind::kServer};
  r.step_ns = 3600 * 1000 * kMs;
  auto red = q.Red(r);
  ASSERT_EQ(red.size(), 2u);
  EXPECT_EQ(red[0].service, "gateway");
  EXPECT_EQ(red[0].operation, "GET /checkout");
  EXPECT_EQ(red[0].requests, 4u);
  EXPECT_EQ(red[0].errors, 1u);
  ASSERT_EQ(red[0].points.size(), 1u);
  r.by_operation = false;
  r.kinds.clear();
  red = q.Red(r);
  ASSERT_EQ(red.size(), 2u);
  EXPECT_EQ(red[0].requests, 8u);  // gateway: server + client spans

  storage::SpanFilter f;
  f.errors_only = true;
  auto found = q.Search(f, 10);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].error_count, 3u);
  EXPECT_EQ((*found)[0].root_name, "GET /checkout");
  auto missing = q.GetTrace(model::TraceId{});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace sightline::query
