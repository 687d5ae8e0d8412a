#include "storage/embedded/part.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <fstream>

#include "storage/embedded/bloom.h"
#include "testing/temp_dir.h"

namespace sightline::storage {
namespace {

using model::AttrValue;
using model::Level;
using model::LogRecord;

std::vector<LogRecord> MakeRows(int n) {
  std::vector<LogRecord> rows(n);
  const char* services[] = {"orders", "payments", "api-gateway"};
  for (int i = 0; i < n; ++i) {
    auto& r = rows[i];
    r.ts_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 1'000'000;
    r.observed_ns = r.ts_ns + 5;
    r.service = services[i % 3];
    r.level = i % 10 == 0 ? Level::kError : Level::kInfo;
    r.env = "production";
    r.host = "pod-" + std::to_string(i % 4);
    r.body = "request handled path=/v1/orders/" + std::to_string(i) + " status=200";
    if (i == 777) r.body += " zq9unicorn";
    bool hashed;
    r.trace_id = model::TraceIdFromText(std::to_string(i / 5), &hashed);
    r.span_id = model::SpanIdFromText(std::to_string(i), &hashed);
    r.attrs.push_back({"http.status", AttrValue::Int(i % 7 == 0 ? 500 : 200)});
    r.attrs.push_back({"user_id", AttrValue::String("u_" + std::to_string(i % 50))});
    if (i % 2) r.attrs.push_back({"latency", AttrValue::Double(i * 0.5)});
  }
  return rows;
}

std::vector<const LogRecord*> Ptrs(const std::vector<LogRecord>& v) {
  std::vector<const LogRecord*> p;
  for (const auto& r : v) p.push_back(&r);
  return p;
}

TEST(PartTest, RoundTripsAllColumns) {
  testing::TempDir d;
  auto rows = MakeRows(5000);
  PartWriterOptions opt;
  opt.block_rows = 1000;
  auto meta = WritePart(d.path() + "/p.slp", Ptrs(rows), opt);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->blocks.size(), 5u);
  auto reader = PartReader::Open(d.path() + "/p.slp");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<LogRecord> got;
  ASSERT_TRUE((*reader)->ReadAll(&got).ok());
  ASSERT_EQ(got.size(), rows.size());
  // Rows come back sorted by (service, ts); compare as sets keyed by span id.
  std::map<std::string, const LogRecord*> by_span;
  for (const auto& r : rows) by_span[r.span_id.Hex()] = &r;
  for (const auto& g : got) {
    const LogRecord* want = by_span[g.span_id.Hex()];
    ASSERT_NE(want, nullptr);
    EXPECT_EQ(g.ts_ns, want->ts_ns);
    EXPECT_EQ(g.observed_ns, want->observed_ns);
    EXPECT_EQ(g.body, want->body);
    EXPECT_EQ(g.service, want->service);
    EXPECT_EQ(g.host, want->host);
    EXPECT_EQ(g.level, want->level);
    EXPECT_EQ(g.trace_id, want->trace_id);
    ASSERT_EQ(g.attrs.size(), want->attrs.size());
    for (const auto& a : want->attrs) {
      const AttrValue* v = g.FindAttr(a.key);
      ASSERT_NE(v, nullptr) << a.key;
      EXPECT_TRUE(*v == a.value) << a.key;
    }
  }
}

// Large rows end blocks early (bounded memory for readers and merges); the rows all come back,
// also through a merge, and word search skips the payload attribute.
TEST(PartTest, BlocksEndAtTheByteCap) {
  testing::TempDir d;
  auto rows = MakeRows(300);
  for (auto& r : rows) {
    r.attrs.push_back({"sentry_event", AttrValue::String(std::string(1000, 'x') + " zebra")});
  }
  PartWriterOptions opt;
  opt.block_rows = 1000;
  opt.block_bytes = 20000;  // ~19 rows of ~1 KB
  auto meta = WritePart(d.path() + "/p.slp", Ptrs(rows), opt);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_GE(meta->blocks.size(), 300u / 20);
  EXPECT_LE(meta->blocks.size(), 300u / 15);
  auto reader = PartReader::Open(d.path() + "/p.slp");
  ASSERT_TRUE(reader.ok());
  std::vector<LogRecord> got;
  ASSERT_TRUE((*reader)->ReadAll(&got).ok());
  EXPECT_EQ(got.size(), rows.size());
  auto merged = MergeParts(d.path() + "/m.slp", {*reader}, opt, {}, 0);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->blocks.size(), meta->blocks.size());
  EXPECT_EQ(merged->rows, rows.size());
  // "zebra" only occurs inside sentry_event, which word search does not look into.
  LogScanSpec spec;
  spec.words = {"zebra"};
  std::vector<LogRecord> hits;
  ScanStats st;
  for (uint32_t b = 0; b < meta->blocks.size(); ++b) {
    ASSERT_TRUE((*reader)->ReadBlock(b, spec, &hits, &st).ok());
  }
  EXPECT_TRUE(hits.empty());
}

TEST(PartTest, PrunesByTraceIndexBloomServiceAndTime) {
  testing::TempDir d;
  auto rows = MakeRows(6000);
  PartWriterOptions opt;
  opt.block_rows = 500;
  ASSERT_TRUE(WritePart(d.path() + "/p.slp", Ptrs(rows), opt).ok());
  auto reader = *PartReader::Open(d.path() + "/p.slp");

  auto run = [&](const LogScanSpec& spec, ScanStats* st) {
    std::vector<uint32_t> blocks;
    EXPECT_TRUE(reader->Plan(spec, &blocks, st).ok());
    std::vector<LogRecord> out;
    for (uint32_t b : blocks) EXPECT_TRUE(reader->ReadBlock(b, spec, &out, st).ok());
    return out;
  };
  {  // exact trace id: 5 rows, only the blocks holding them are read
    LogScanSpec spec;
    spec.matchers.push_back({"trace_id", FieldMatcher::Op::kEq, rows[100].trace_id.Hex(), nullptr});
    ScanStats st;
    auto out = run(spec, &st);
    EXPECT_EQ(out.size(), 5u);
    EXPECT_LE(st.blocks_read, 3u);
  }
  {  // rare word: bloom skips nearly every block
    LogScanSpec spec;
    spec.words = {"ZQ9UNICORN"};
    ScanStats st;
    auto out = run(spec, &st);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].body.find("zq9unicorn"), std::string::npos);
    EXPECT_LE(st.blocks_read, 2u);
    EXPECT_GT(st.blocks_pruned_bloom, 5u);
  }
  {  // words are found in string fields too, and every word must occur
    LogScanSpec spec;
    spec.words = {"U_7"};
    ScanStats st;
    EXPECT_EQ(run(spec, &st).size(), 120u);
    spec.words = {"u_7", "orders"};  // user id in a field, "orders" in the body path
    int want = 0;
    for (int i = 0; i < 6000; ++i) want += (i % 50 == 7);
    EXPECT_EQ(static_cast<int>(run(spec, &st).size()), want);
    spec.words = {"u_7", "nosuchword"};
    EXPECT_TRUE(run(spec, &st).empty());
  }
  {  // substring filter on the raw body column
    LogScanSpec spec;
    spec.contains = {"/v1/orders/77 "};
    ScanStats st;
    auto out = run(spec, &st);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].span_id, rows[77].span_id);
  }
  {  // word that is only a prefix of a token does not match
    LogScanSpec spec;
    spec.words = {"zq9"};
    ScanStats st;
    EXPECT_TRUE(run(spec, &st).empty());
  }
  {  // service + level + attribute text equality
    LogScanSpec spec;
    spec.matchers.push_back({"service", FieldMatcher::Op::kEq, "payments", nullptr});
    spec.matchers.push_back({"level", FieldMatcher::Op::kEq, "error", nullptr});
    spec.matchers.push_back({"http.status", FieldMatcher::Op::kEq, "500", nullptr});
    ScanStats st;
    auto out = run(spec, &st);
    int want = 0;
    for (int i = 0; i < 6000; ++i) want += (i % 3 == 1 && i % 10 == 0 && i % 7 == 0);
    EXPECT_EQ(static_cast<int>(out.size()), want);
    EXPECT_GT(st.blocks_pruned_index, 0u);
  }
  {  // regex matcher and time range
    LogScanSpec spec;
    spec.start_ns = rows[1000].ts_ns;
    spec.end_ns = rows[1100].ts_ns;
    spec.matchers.push_back({"service", FieldMatcher::Op::kRe, "orders|payments",
                             std::make_shared<RE2>("orders|payments")});
    ScanStats st;
    auto out = run(spec, &st);
    int want = 0;
    for (int i = 1000; i < 1100; ++i) want += (i % 3 != 2);
    EXPECT_EQ(static_cast<int>(out.size()), want);
  }
}

TEST(PartTest, CorruptionIsDetected) {
  testing::TempDir d;
  auto rows = MakeRows(300);
  const std::string path = d.path() + "/p.slp";
  ASSERT_TRUE(WritePart(path, Ptrs(rows), PartWriterOptions{}).ok());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  auto reader = PartReader::Open(path);
  ASSERT_TRUE(reader.ok());  // meta is intact
  std::vector<LogRecord> out;
  Status s = (*reader)->ReadAll(&out);
  EXPECT_EQ(s.code(), Code::kCorruption);
  // A truncated file fails at open with a clear error.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  auto r2 = PartReader::Open(path);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), Code::kCorruption);
  EXPECT_NE(r2.status().message().find(path), std::string::npos);
}

TEST(PartTest, StreamingMergeKeepsEveryRowInOrder) {
  testing::TempDir d;
  auto rows = MakeRows(5000);
  std::vector<LogRecord> a(rows.begin(), rows.begin() + 2000), b(rows.begin() + 2000, rows.end());
  for (auto& r : b) r.service += "-b";  // a service the first part lacks
  PartWriterOptions opt;
  opt.block_rows = 700;
  ASSERT_TRUE(WritePart(d.path() + "/a.slp", Ptrs(a), opt).ok());
  ASSERT_TRUE(WritePart(d.path() + "/b.slp", Ptrs(b), opt).ok());
  std::vector<std::shared_ptr<const PartReader>> in = {*PartReader::Open(d.path() + "/a.slp"),
                                                       *PartReader::Open(d.path() + "/b.slp")};
  auto meta = MergeParts(d.path() + "/m.slp", in, opt, {7, 8});
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->rows, 5000u);
  EXPECT_EQ(meta->replaces, (std::vector<uint64_t>{7, 8}));
  auto merged = *PartReader::Open(d.path() + "/m.slp");
  std::vector<LogRecord> got;
  ASSERT_TRUE(merged->ReadAll(&got).ok());
  ASSERT_EQ(got.size(), 5000u);
  for (size_t i = 1; i < got.size(); ++i) {
    int c = got[i - 1].service.compare(got[i].service);
    ASSERT_TRUE(c < 0 || (c == 0 && got[i - 1].ts_ns <= got[i].ts_ns)) << i;
  }
  std::map<std::string, const LogRecord*> want;
  for (const auto& r : a) want[r.span_id.Hex()] = &r;
  for (const auto& r : b) want[r.span_id.Hex()] = &r;
  for (const auto& g : got) {
    const LogRecord* w = want[g.span_id.Hex()];
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(g.service, w->service);
    EXPECT_EQ(g.body, w->body);
    EXPECT_EQ(g.attrs.size(), w->attrs.size());
  }
  // The merged trace index still finds a trace.
  LogScanSpec spec;
  spec.matchers.push_back({"trace_id", FieldMatcher::Op::kEq, rows[4321].trace_id.Hex(), nullptr});
  std::vector<uint32_t> blocks;
  ScanStats st;
  ASSERT_TRUE(merged->Plan(spec, &blocks, &st).ok());
  std::vector<LogRecord> out;
  for (uint32_t blk : blocks) ASSERT_TRUE(merged->ReadBlock(blk, spec, &out, &st).ok());
  EXPECT_EQ(out.size(), 5u);
}

TEST(BloomTest, TokensAndInnerTokens) {
  EXPECT_EQ(Tokenize("GET /v1/orders?id=42 took 3ms"),
            (std::vector<std::string>{"GET", "v1", "orders", "id", "42", "took", "3ms"}));
  EXPECT_EQ(InnerTokens("connection refused by host"), (std::vector<std::string>{"refused", "by"}));
  EXPECT_TRUE(ContainsWord("Error: Timeout while reading", "timeout"));
  EXPECT_FALSE(ContainsWord("timeouts happen", "timeout"));
  BloomBuilder b;
  for (int i = 0; i < 1000; ++i) b.Add(TokenHash("tok" + std::to_string(i)));
  std::string f = b.Finish(10);
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(BloomMayContain(f, TokenHash("TOK" + std::to_string(i))));
  int fp = 0;
  for (int i = 0; i < 10000; ++i) fp += BloomMayContain(f, TokenHash("other" + std::to_string(i)));
  EXPECT_LT(fp, 300);  // ~1% expected at 10 bits/key
}

}  // namespace
}  // namespace sightline::storage
