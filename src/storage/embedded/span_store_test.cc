#include "storage/embedded/span_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "testing/temp_dir.h"

namespace sightline::storage {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000'000'000;  // 2026-09-21
constexpr int64_t kMs = 1'000'000;

model::TraceId Tid(uint8_t n) {
  model::TraceId t;
  t.bytes[15] = n;
  t.bytes[0] = 0xab;
  return t;
}
model::SpanId Sid(uint8_t n) {
  model::SpanId s;
  s.bytes[7] = n;
  return s;
}

model::Span MakeSpan(uint8_t trace, uint8_t id, uint8_t parent, const std::string& svc,
                     const std::string& name, int64_t start, int64_t dur_ms, bool error = false) {
  model::Span s;
  s.trace_id = Tid(trace);
  s.span_id = Sid(id);
  if (parent) s.parent_span_id = Sid(parent);
  s.service = svc;
  s.name = name;
  s.kind = parent ? model::SpanKind::kServer : model::SpanKind::kServer;
  s.start_ns = start;
  s.end_ns = start + dur_ms * kMs;
  if (error) s.status_code = model::StatusCode::kError;
  s.attrs.push_back({"http.route", model::AttrValue::String("/" + name)});
  s.SetResourceAttrs({{"host.name", model::AttrValue::String("h1")}});
  model::SpanEvent ev;
  ev.time_ns = start + kMs;
  ev.name = "exception";
  ev.attrs.push_back({"exception.message", model::AttrValue::String("boom")});
  if (error) s.events.push_back(ev);
  return s;
}

// Trace n: gateway (root) -> orders -> payments, 3 spans.
std::vector<model::Span> Trace(uint8_t n, int64_t start, bool fail) {
  return {MakeSpan(n, 1, 0, "gateway", "GET /checkout", start, 30, fail),
          MakeSpan(n, 2, 1, "orders", "GET /orders", start + kMs, 20, fail),
          MakeSpan(n, 3, 2, "payments", "POST /pay", start + 2 * kMs, 10, fail)};
}

class SpanStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opt_.dir = dir_.path();
    opt_.background = false;
    opt_.clock = &clock_;
    opt_.retention_ns = 0;
  }
  std::unique_ptr<EmbeddedSpanStore> Open() {
    auto s = EmbeddedSpanStore::Open(opt_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  testing::TempDir dir_;
  ManualClock clock_{kT0};
  EmbeddedSpanStoreOptions opt_;
};

size_t TraceSize(SpanStore* s, uint8_t n) {
  std::vector<model::Span> out;
  EXPECT_TRUE(s->GetTrace(Tid(n), INT64_MIN, INT64_MAX, &out).ok());
  return out.size();
}

TEST_F(SpanStoreTest, TraceByIdFromMemtablePartsAndAfterReopen) {
  auto s = Open();
  ASSERT_TRUE(s->Append(Trace(1, kT0, false)).ok());
  ASSERT_TRUE(s->Append(Trace(2, kT0 + kMs, true)).ok());
  EXPECT_EQ(TraceSize(s.get(), 1), 3u);
  ASSERT_TRUE(s->Flush().ok());
  EXPECT_EQ(TraceSize(s.get(), 1), 3u);
  EXPECT_EQ(TraceSize(s.get(), 9), 0u);
  std::vector<model::Span> out;
  ASSERT_TRUE(s->GetTrace(Tid(2), INT64_MIN, INT64_MAX, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  for (const auto& sp : out) {
    EXPECT_TRUE(sp.is_error());
    ASSERT_EQ(sp.events.size(), 1u);
    EXPECT_EQ(sp.events[0].name, "exception");
    EXPECT_EQ(sp.events[0].time_ns, sp.start_ns + kMs);
    EXPECT_EQ(sp.FindAttr("host.name")->str, "h1");
  }
  // Retried export of the same spans: deduplicated by span id.
  ASSERT_TRUE(s->Append(Trace(1, kT0, false)).ok());
  EXPECT_EQ(TraceSize(s.get(), 1), 3u);
  ASSERT_TRUE(s->Close().ok());
  s = Open();
  EXPECT_EQ(TraceSize(s.get(), 1), 3u);
  EXPECT_EQ(TraceSize(s.get(), 2), 3u);
}

TEST_F(SpanStoreTest, WalReplayAfterCrash) {
  auto s = Open();
  ASSERT_TRUE(s->Append(Trace(1, kT0, false)).ok());
  s->CloseWithoutFlushForTesting();
  s.reset();
  s = Open();
  EXPECT_EQ(TraceSize(s.get(), 1), 3u);
  RollupMap m;
  s->ReadRollups(
      kT0 - kNsPerDay, kT0 + kNsPerDay, [](const RollupKey&) { return true; }, &m);
  EXPECT_EQ(m.size(), 5u);  // 3 RED series + 2 edges, rebuilt from the WAL
}

TEST_F(SpanStoreTest, SearchBySummaryFieldsAndAttributes) {
  auto s = Open();
  for (uint8_t i = 1; i <= 20; ++i) {
    ASSERT_TRUE(s->Append(Trace(i, kT0 + i * 1000 * kMs, i % 5 == 0)).ok());
    if (i == 10) {
      ASSERT_TRUE(s->Flush().ok());
    }
  }
  std::vector<TraceHit> hits;
  SpanFilter f;
  f.errors_only = true;
  ASSERT_TRUE(s->SearchTraces(f, 10, &hits).ok());
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].trace_id, Tid(20));  // newest first
  EXPECT_EQ(hits[3].trace_id, Tid(5));

  f = SpanFilter();
  f.service = "payments";
  f.min_duration_ns = 5 * kMs;
  ASSERT_TRUE(s->SearchTraces(f, 3, &hits).ok());
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].trace_id, Tid(20));

  f.min_duration_ns = 11 * kMs;  // payments spans take 10 ms
  ASSERT_TRUE(s->SearchTraces(f, 3, &hits).ok());
  EXPECT_TRUE(hits.empty());

  f = SpanFilter();
  f.attrs = {{"http.route", "/POST /pay"}, {"host.name", "h1"}};
  f.start_ns = kT0 + 3000 * kMs;
  f.end_ns = kT0 + 13000 * kMs;  // traces 3..12 (the flush boundary is inside)
  ASSERT_TRUE(s->SearchTraces(f, 100, &hits).ok());
  EXPECT_EQ(hits.size(), 10u);
  f.attrs = {{"http.route", "/nope"}};
  ASSERT_TRUE(s->SearchTraces(f, 100, &hits).ok());
  EXPECT_TRUE(hits.empty());
}

TEST_F(SpanStoreTest, RollupsCountRedAndEdgesAcrossFlushesAndReopen) {
  auto s = Open();
  // Children before parents, split across appends and a flush.
  auto t = Trace(1, kT0, true);
  ASSERT_TRUE(s->Append({t[2]}).ok());
  ASSERT_TRUE(s->Flush().ok());
  ASSERT_TRUE(s->Append({t[1], t[0]}).ok());
  ASSERT_TRUE(s->Append(Trace(2, kT0 + kMs, false)).ok());
  auto check = [&](SpanStore* st) {
    RollupMap m;
    st->ReadRollups(
        kT0, kT0 + 60 * kNsPerSec, [](const RollupKey&) { return true; }, &m);
    RollupKey edge{RollupKind::kEdge, "orders", "payments", model::SpanKind::kUnspecified};
    ASSERT_EQ(m.count(edge), 1u);
    RollupCell total;
    for (const auto& [minute, c] : m[edge]) total.Merge(c);
    EXPECT_EQ(total.count, 2u);
    EXPECT_EQ(total.errors, 1u);
    RollupKey red{RollupKind::kRed, "gateway", "GET /checkout", model::SpanKind::kServer};
    ASSERT_EQ(m.count(red), 1u);
    RollupCell r;
    for (const auto& [minute, c] : m[red]) r.Merge(c);
    EXPECT_EQ(r.count, 2u);
    const double p50 = r.latency.Quantile(0.5);
    EXPECT_GT(p50, 27.0 * kMs);
    EXPECT_LT(p50, 33.0 * kMs);
  };
  check(s.get());
  ASSERT_TRUE(s->Flush().ok());
  check(s.get());
  ASSERT_TRUE(s->Close().ok());
  s = Open();
  check(s.get());
}

TEST_F(SpanStoreTest, MergeKeepsEveryTraceAndRollup) {
  opt_.merge_min_parts = 3;
  auto s = Open();
  for (uint8_t i = 1; i <= 30; ++i) {
    ASSERT_TRUE(s->Append(Trace(i, kT0 + i * kMs, false)).ok());
    if (i % 10 == 0) {
      ASSERT_TRUE(s->Flush().ok());
    }
  }
  ASSERT_EQ(s->GetStats().parts, 3u);
  ASSERT_TRUE(s->MergeNow().ok());
  EXPECT_EQ(s->GetStats().parts, 1u);
  EXPECT_EQ(s->GetStats().part_spans, 90u);
  for (uint8_t i = 1; i <= 30; ++i) EXPECT_EQ(TraceSize(s.get(), i), 3u) << int(i);
  ASSERT_TRUE(s->Close().ok());
  s = Open();
  EXPECT_EQ(s->GetStats().parts, 1u);
  RollupMap m;
  s->ReadRollups(
      kT0, kT0 + 60 * kNsPerSec, [](const RollupKey& k) { return k.kind == RollupKind::kEdge; },
      &m);
  uint64_t calls = 0;
  for (const auto& [k, series] : m) {
    for (const auto& [minute, c] : series) calls += c.count;
  }
  EXPECT_EQ(calls, 60u);
}

TEST_F(SpanStoreTest, ManyBlocksTraceLookup) {
  auto s = Open();
  std::vector<model::Span> batch;
  for (int i = 0; i < 20000; ++i) {
    batch.push_back(MakeSpan(static_cast<uint8_t>(i % 251), static_cast<uint8_t>(i / 251 + 1), 0,
                             "svc" + std::to_string(i % 7), "op", kT0 + i * kMs, 1));
    batch.back().trace_id.bytes[1] = static_cast<uint8_t>(i % 13);
  }
  ASSERT_TRUE(s->Append(batch).ok());
  ASSERT_TRUE(s->Flush().ok());
  model::TraceId t = Tid(7);
  t.bytes[1] = 7 % 13;
  std::vector<model::Span> out;
  ASSERT_TRUE(s->GetTrace(t, INT64_MIN, INT64_MAX, &out).ok());
  size_t want = 0;
  for (const auto& sp : batch) want += sp.trace_id == t ? 1 : 0;
  EXPECT_EQ(out.size(), want);
  EXPECT_GT(want, 0u);
}

TEST_F(SpanStoreTest, CrashBetweenPartWriteAndWalDropCountsOnce) {
  namespace fs = std::filesystem;
  auto s = Open();
  ASSERT_TRUE(s->Append(Trace(1, kT0, false)).ok());
  // Keep a copy of the WAL as it is before the flush deletes its segments.
  const fs::path wal = dir_.path() + "/spans/wal";
  const fs::path saved = dir_.path() + "/wal-copy";
  fs::copy(wal, saved);
  ASSERT_TRUE(s->Flush().ok());
  s->CloseWithoutFlushForTesting();
  s.reset();
  for (const auto& e : fs::directory_iterator(saved)) {
    fs::copy(e.path(), wal / e.path().filename(), fs::copy_options::overwrite_existing);
  }
  s = Open();
  RollupMap m;
  s->ReadRollups(
      kT0 - kNsPerDay, kT0 + kNsPerDay,
      [](const RollupKey& k) { return k.kind == RollupKind::kEdge; }, &m);
  uint64_t calls = 0;
  for (const auto& [k, series] : m) {
    for (const auto& [minute, c] : series) calls += c.count;
  }
  EXPECT_EQ(calls, 2u);
  EXPECT_EQ(s->GetStats().memtable_spans, 0u);
  // New WAL segments are numbered past the covered ones, so they are replayed next time.
  ASSERT_TRUE(s->Append(Trace(2, kT0, false)).ok());
  s->CloseWithoutFlushForTesting();
  s.reset();
  s = Open();
  EXPECT_EQ(TraceSize(s.get(), 2), 3u);
}

TEST_F(SpanStoreTest, SearchKeepsOnlyTheNewestButStaysExact) {
  auto s = Open();
  // 6000 traces of one span each, in shuffled time order, some updated by a later span.
  std::vector<model::Span> batch;
  for (int i = 0; i < 6000; ++i) {
    const int t = (i * 7919) % 6000;
    model::Span sp = MakeSpan(0, 1, 0, "svc", "op", kT0 + t * kMs, 1);
    std::memcpy(sp.trace_id.bytes.data() + 4, &t, sizeof t);
    batch.push_back(sp);
  }
  // Trace 10 gets a newer span than everything else.
  model::Span late = batch[0];
  int t10 = 10;
  std::memcpy(late.trace_id.bytes.data() + 4, &t10, sizeof t10);
  late.span_id.bytes[7] = 9;
  late.start_ns = kT0 + 7000 * kMs;
  late.end_ns = late.start_ns + kMs;
  ASSERT_TRUE(s->Append({batch.begin(), batch.begin() + 3000}).ok());
  ASSERT_TRUE(s->Flush().ok());
  ASSERT_TRUE(s->Append({batch.begin() + 3000, batch.end()}).ok());
  ASSERT_TRUE(s->Append({late}).ok());
  std::vector<TraceHit> hits;
  ASSERT_TRUE(s->SearchTraces(SpanFilter(), 3, &hits).ok());
  ASSERT_EQ(hits.size(), 3u);
  int got[3];
  for (int i = 0; i < 3; ++i) std::memcpy(&got[i], hits[i].trace_id.bytes.data() + 4, 4);
  EXPECT_EQ(got[0], 10);
  EXPECT_EQ(got[1], 5999);
  EXPECT_EQ(got[2], 5998);
  EXPECT_EQ(hits[0].latest_ns, kT0 + 7000 * kMs);
}

TEST_F(SpanStoreTest, IndexedSearchMatchesBruteForce) {
  auto s = Open();
  std::vector<model::Span> all;
  uint64_t x = 12345;
  auto rnd = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 6000; ++i) {
    model::Span sp =
        MakeSpan(0, static_cast<uint8_t>(1 + rnd() % 200), 0, "svc" + std::to_string(rnd() % 5),
                 "op" + std::to_string(rnd() % 3), kT0 + static_cast<int64_t>(i) * 997 * 1000,
                 1 + rnd() % 50, rnd() % 10 == 0);
    const uint32_t t = static_cast<uint32_t>(rnd() % 1500);  // ~4 spans per trace
    std::memcpy(sp.trace_id.bytes.data() + 4, &t, sizeof t);
    sp.span_id.bytes[0] = static_cast<uint8_t>(i);
    sp.span_id.bytes[1] = static_cast<uint8_t>(i >> 8);
    all.push_back(sp);
  }
  ASSERT_TRUE(s->Append({all.begin(), all.begin() + 2500}).ok());
  ASSERT_TRUE(s->Flush().ok());
  ASSERT_TRUE(s->Append({all.begin() + 2500, all.begin() + 5000}).ok());
  ASSERT_TRUE(s->Flush().ok());
  ASSERT_TRUE(s->Append({all.begin() + 5000, all.end()}).ok());
  std::vector<SpanFilter> filters(6);
  filters[1].service = "svc2";
  filters[2].errors_only = true;
  filters[3].service = "svc1";
  filters[3].min_duration_ns = 30 * kMs;
  filters[3].operation = "op1";
  filters[4].attrs = {{"http.route", "/op2"}};
  filters[4].end_ns = kT0 + 4000LL * 997 * 1000;
  filters[5].start_ns = kT0 + 1000LL * 997 * 1000;
  filters[5].end_ns = kT0 + 3000LL * 997 * 1000;
  filters[5].errors_only = true;
  for (size_t f = 0; f < filters.size(); ++f) {
    for (size_t limit : {1, 5, 40}) {
      std::map<model::TraceId, int64_t> latest;
      for (const auto& sp : all) {
        if (!filters[f].Matches(sp)) continue;
        auto [it, ins] = latest.emplace(sp.trace_id, sp.start_ns);
        if (!ins) it->second = std::max(it->second, sp.start_ns);
      }
      std::vector<std::pair<int64_t, model::TraceId>> want;
      for (const auto& [id, t] : latest) want.emplace_back(t, id);
      std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      if (want.size() > limit) want.resize(limit);
      std::vector<TraceHit> hits;
      ASSERT_TRUE(s->SearchTraces(filters[f], limit, &hits).ok());
      ASSERT_EQ(hits.size(), want.size()) << "filter " << f << " limit " << limit;
      for (size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(hits[i].trace_id, want[i].second) << "filter " << f << " limit " << limit;
        EXPECT_EQ(hits[i].latest_ns, want[i].first);
      }
    }
  }
}

TEST_F(SpanStoreTest, RedSeriesPerServiceAreBounded) {
  opt_.max_rollup_operations = 3;
  auto s = Open();
  std::vector<model::Span> spans;
  for (uint8_t i = 1; i <= 10; ++i) {
    spans.push_back(MakeSpan(i, 1, 0, "api", "GET /users/" + std::to_string(i), kT0, 5));
  }
  ASSERT_TRUE(s->Append(spans).ok());
  RollupMap m;
  s->ReadRollups(
      kT0, kT0 + 60 * kNsPerSec, [](const RollupKey& k) { return k.kind == RollupKind::kRed; }, &m);
  ASSERT_EQ(m.size(), 4u);  // 3 names + __other__
  uint64_t other = 0, total = 0;
  for (const auto& [k, series] : m) {
    for (const auto& [minute, c] : series) {
      total += c.count;
      if (k.b == kOtherOperation) other += c.count;
    }
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(other, 7u);
  // The spans keep their own names.
  std::vector<model::Span> out;
  ASSERT_TRUE(s->GetTrace(Tid(9), INT64_MIN, INT64_MAX, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "GET /users/9");
}

TEST_F(SpanStoreTest, CorruptPartIsAnErrorNotACrash) {
  auto s = Open();
  ASSERT_TRUE(s->Append(Trace(1, kT0, false)).ok());
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/spans")) {
    if (e.path().extension() == ".sps") {
      std::filesystem::resize_file(e.path(), std::filesystem::file_size(e.path()) - 3);
    }
  }
  // The damaged part is set aside (renamed *.corrupt) and reported; the store opens.
  auto r = EmbeddedSpanStore::Open(opt_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)->recovery_report().problems.size(), 1u);
  EXPECT_NE((*r)->recovery_report().problems[0].find(".corrupt"), std::string::npos);
  EXPECT_EQ(TraceSize(r->get(), 1), 0u);
  EXPECT_EQ((*r)->GetStats().parts, 0u);
}

}  // namespace
}  // namespace sightline::storage
