#include "query/log_engine.h"

#include <gtest/gtest.h>

#include <map>

#include "storage/embedded/log_store.h"
#include "testing/temp_dir.h"

namespace sightline::query {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000'000'000;
constexpr int64_t kSec = 1'000'000'000;

class LogEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::EmbeddedStoreOptions o;
    o.dir = dir_.path();
    o.background = false;
    o.retention_ns = 0;
    store_ = std::move(storage::EmbeddedLogStore::Open(o)).value();
    std::vector<model::LogRecord> recs;
    const char* svcs[] = {"orders", "payments", "gateway"};
    for (int i = 0; i < 600; ++i) {
      model::LogRecord r;
      r.ts_ns = kT0 + i * kSec;  // one line a second for 10 minutes
      r.service = svcs[i % 3];
      r.host = "h" + std::to_string(i % 4);
      r.level = i % 5 == 0 ? model::Level::kError : model::Level::kInfo;
      r.body = i % 2 ? "{\"status\":" + std::to_string(200 + i % 7 * 50) + ",\"latency\":\"" +
                           std::to_string(i % 10) + "ms\"}"
                     : "method=GET status=" + std::to_string(200 + i % 7 * 50) + " msg=\"hello world\"";
      r.attrs.push_back({"user_id", model::AttrValue::String("u" + std::to_string(i % 6))});
      r.attrs.push_back({"n", model::AttrValue::Int(i)});
      recs.push_back(std::move(r));
    }
    ASSERT_TRUE(store_->Append(recs).ok());
    // Half flushed to a part, half in memory: both paths must agree.
    ASSERT_TRUE(store_->Flush().ok());
    std::vector<model::LogRecord> more;
    for (auto& r : recs) {
      r.ts_ns += 600 * kSec;
      more.push_back(r);
    }
    ASSERT_TRUE(store_->Append(std::move(more)).ok());
    engine_ = std::make_unique<LogQueryEngine>(store_.get(), 2);
  }

  QueryResult Run(const std::string& q, size_t limit = 100, int64_t step = 0, bool instant = false) {
    LogQueryRequest r;
    r.query = q;
    r.start_ns = kT0;
    r.end_ns = kT0 + 1200 * kSec;
    r.limit = limit;
    r.step_ns = step;
    r.instant = instant;
    auto res = engine_->Query(r);
    EXPECT_TRUE(res.ok()) << q << ": " << res.status().ToString();
    return res.ok() ? std::move(res).value() : QueryResult{};
  }

  std::map<std::string, double> Totals(const QueryResult& r, const std::string& label) {
    std::map<std::string, double> m;
    for (const auto& s : r.series) {
      std::string v;
      for (const auto& kv : s.labels)
        if (kv.first == label) v = kv.second;
      for (const auto& p : s.points) m[v] += p.second;
    }
    return m;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::EmbeddedLogStore> store_;
  std::unique_ptr<LogQueryEngine> engine_;
};

TEST_F(LogEngineTest, NewestFirstWithLimitAndCursor) {
  auto r = Run(R"({service="orders"})", 50);
  ASSERT_EQ(r.lines.size(), 50u);
  for (size_t i = 1; i < r.lines.size(); ++i) EXPECT_GT(r.lines[i - 1].record.ts_ns, r.lines[i].record.ts_ns);
  EXPECT_EQ(r.lines[0].record.ts_ns, kT0 + 1197 * kSec);
  EXPECT_FALSE(r.next_cursor.empty());
  size_t total = 0;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    LogQueryRequest q{R"({service="orders"})", kT0, kT0 + 1200 * kSec, 0, 150, Direction::kBackward, cursor, false};
    auto res = engine_->Query(q);
    ASSERT_TRUE(res.ok());
    total += res->lines.size();
    cursor = res->next_cursor;
    if (cursor.empty()) break;
  }
  EXPECT_EQ(total, 400u);
}

TEST_F(LogEngineTest, ForwardDirection) {
  LogQueryRequest q{"{}", kT0, kT0 + 1200 * kSec, 0, 3, Direction::kForward, "", false};
  auto r = engine_->Query(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->lines.size(), 3u);
  EXPECT_EQ(r->lines[0].record.ts_ns, kT0);
  EXPECT_EQ(r->lines[2].record.ts_ns, kT0 + 2 * kSec);
}

TEST_F(LogEngineTest, ParsersAndFieldFilters) {
  // JSON bodies: odd i. status >= 400 means i % 7 >= 4.
  int want = 0;
  for (int i = 0; i < 600; ++i) want += (i % 2 == 1 && i % 7 >= 4);
  EXPECT_EQ(Run("{} | json | status >= 400", 5000).lines.size(), 2u * want);
  // Duration comparison on a parsed field.
  want = 0;
  for (int i = 0; i < 600; ++i) want += (i % 2 == 1 && i % 10 > 5);
  EXPECT_EQ(Run("{} | json | latency > 5ms", 5000).lines.size(), 2u * want);
  // logfmt on the other half, and a stored field filter.
  want = 0;
  for (int i = 0; i < 600; ++i) want += (i % 2 == 0 && i % 7 == 0 && i % 6 == 0);
  EXPECT_EQ(Run(R"({} | logfmt | status = 200 | user_id = "u0")", 5000).lines.size(), 2u * want);
  // Regexp and line_format.
  auto r = Run(R"q({service="orders"} |~ "status=2[05]0" | regexp "status=(?P<code>\\d+)" | line_format "code {{.code}}")q", 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].record.body.rfind("code ", 0), 0u);
  // Numeric stored attribute, OR filter.
  EXPECT_EQ(Run("{} | n < 3 or n >= 598", 5000).lines.size(), 2u * 5);
}

TEST_F(LogEngineTest, MetricQueries) {
  auto r = Run(R"(sum by (service) (count_over_time({}[10m])))", 0, 600 * kSec);
  auto t = Totals(r, "service");
  // Steps at 0s, 600s, 1200s: windows (t-10m, t] hold 1, 600 and 599 lines of the 1200.
  EXPECT_DOUBLE_EQ(t["orders"] + t["payments"] + t["gateway"], 1200.0);
  // Grouping by a stored attribute works through an outer sum by.
  auto u = Totals(Run(R"(sum by (user_id) (count_over_time({}[20m])))", 0, 0, true), "user_id");
  EXPECT_EQ(u.size(), 6u);
  EXPECT_DOUBLE_EQ(u["u1"], 200.0);
  // count by level with rate.
  auto lv = Totals(Run(R"(sum by (level) (rate({}[20m])))", 0, 0, true), "level");
  // The window (end-20m, end] leaves out the first line (an error at exactly end-20m).
  EXPECT_NEAR(lv["error"], 239.0 / 1200.0, 1e-9);
  // Unwrap and quantile.
  auto q = Run(R"(max_over_time({service="orders"} | json | unwrap status [20m]))", 0, 0, true);
  ASSERT_FALSE(q.series.empty());
  double mx = 0;
  for (const auto& s : q.series) mx = std::max(mx, s.points.back().second);
  EXPECT_DOUBLE_EQ(mx, 500.0);
  // Binary operations and Grafana's health check.
  auto h = Run("vector(1)+vector(1)", 0, 0, true);
  ASSERT_EQ(h.series.size(), 1u);
  EXPECT_DOUBLE_EQ(h.series[0].points[0].second, 2.0);
  auto ratio = Run(R"(sum(count_over_time({level="error"}[20m])) / sum(count_over_time({}[20m])))", 0, 0, true);
  ASSERT_EQ(ratio.series.size(), 1u);
  EXPECT_NEAR(ratio.series[0].points[0].second, 239.0 / 1199.0, 1e-9);
  // topk keeps k series.
  auto top = Run(R"(topk(2, sum by (host) (count_over_time({}[20m]))))", 0, 0, true);
  EXPECT_EQ(top.series.size(), 2u);
}

TEST_F(LogEngineTest, Errors) {
  LogQueryRequest q{"{service=", kT0, kT0 + kSec, 0, 10, Direction::kBackward, "", false};
  auto r = engine_->Query(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  q.query = "{}";
  q.cursor = "garbage";
  EXPECT_EQ(engine_->Query(q).status().code(), Code::kInvalidArgument);
  q.cursor.clear();
  q.query = "count_over_time({}[1m])";
  q.step_ns = 1;
  q.end_ns = kT0 + 1000 * kSec;
  EXPECT_EQ(engine_->Query(q).status().code(), Code::kInvalidArgument);  // too many points
}

}  // namespace
}  // namespace sightline::query
