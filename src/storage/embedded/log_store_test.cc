#include "storage/embedded/log_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "testing/temp_dir.h"

namespace sightline::storage {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000'000'000;  // 2026-09-21

model::LogRecord Rec(int64_t ts, const std::string& svc, const std::string& body) {
  model::LogRecord r;
  r.ts_ns = ts;
  r.service = svc;
  r.body = body;
  r.level = model::Level::kInfo;
  return r;
}

std::vector<model::LogRecord> ScanAll(EmbeddedLogStore* s, const LogScanSpec& spec = {}) {
  std::vector<BlockRef> blocks;
  ScanStats st;
  EXPECT_TRUE(s->PlanScan(spec, &blocks, &st).ok());
  std::vector<model::LogRecord> out;
  for (const auto& b : blocks) EXPECT_TRUE(s->ReadBlock(b, spec, &out, &st).ok());
  return out;
}

std::unique_ptr<EmbeddedLogStore> OpenStore(const EmbeddedStoreOptions& o) {
  auto s = EmbeddedLogStore::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

EmbeddedStoreOptions Opts(const std::string& dir, Clock* clock) {
  EmbeddedStoreOptions o;
  o.dir = dir;
  o.background = false;
  o.clock = clock;
  o.merge_min_parts = 2;
  return o;
}

TEST(EmbeddedLogStoreTest, WalReplayFlushAndReopen) {
  testing::TempDir d;
  ManualClock clock(kT0);
  {
    auto s = OpenStore(Opts(d.path(), &clock));
    ASSERT_TRUE(s->Append({Rec(kT0, "a", "one"), Rec(kT0 + 1, "b", "two")}).ok());
    EXPECT_EQ(ScanAll(s.get()).size(), 2u);
    // Stop without flushing: what a crash after the WAL write leaves behind.
    s->CloseWithoutFlushForTesting();
  }
  {
    auto s = OpenStore(Opts(d.path(), &clock));
    EXPECT_EQ(s->recovery_report().records, 1u);
    EXPECT_EQ(ScanAll(s.get()).size(), 2u);
    ASSERT_TRUE(s->Flush().ok());
    EXPECT_EQ(s->GetStats().parts, 1u);
    EXPECT_EQ(s->GetStats().memtable_rows, 0u);
    ASSERT_TRUE(s->Append({Rec(kT0 + 2, "a", "three")}).ok());
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenStore(Opts(d.path(), &clock));
  EXPECT_EQ(s->recovery_report().records, 0u);  // WAL was dropped after flushes
  auto all = ScanAll(s.get());
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(s->GetStats().parts, 2u);
}

TEST(EmbeddedLogStoreTest, CrashBetweenPartWriteAndWalDropStoresOnce) {
  namespace fs = std::filesystem;
  testing::TempDir d;
  ManualClock clock(kT0);
  {
    auto s = OpenStore(Opts(d.path(), &clock));
    // Records of two days, so the flush writes two parts.
    ASSERT_TRUE(s->Append({Rec(kT0, "a", "one"), Rec(kT0 - kNsPerDay, "b", "two")}).ok());
    fs::copy(d.path() + "/wal", d.path() + "/wal-copy");  // the WAL before the flush drops it
    ASSERT_TRUE(s->Flush().ok());
    s->CloseWithoutFlushForTesting();
  }
  for (const auto& e : fs::directory_iterator(d.path() + "/wal-copy")) {
    fs::copy(e.path(), d.path() + "/wal/" + e.path().filename().string(),
             fs::copy_options::overwrite_existing);
  }
  {
    auto s = OpenStore(Opts(d.path(), &clock));
    EXPECT_EQ(s->recovery_report().records, 0u);  // covered segments are not replayed
    EXPECT_EQ(ScanAll(s.get()).size(), 2u);
    ASSERT_TRUE(s->Append({Rec(kT0 + 1, "a", "three")}).ok());
    s->CloseWithoutFlushForTesting();
  }
  auto s = OpenStore(Opts(d.path(), &clock));
  EXPECT_EQ(ScanAll(s.get()).size(), 3u);  // later segments are numbered past the covered ones
}

TEST(EmbeddedLogStoreTest, MergeKeepsRowsAndIsCrashSafe) {
  testing::TempDir d;
  ManualClock clock(kT0);
  auto s = OpenStore(Opts(d.path(), &clock));
  for (int p = 0; p < 4; ++p) {
    std::vector<model::LogRecord> batch;
    for (int i = 0; i < 100; ++i)
      batch.push_back(Rec(kT0 + p * 1000 + i, "svc", "p" + std::to_string(p)));
    ASSERT_TRUE(s->Append(std::move(batch)).ok());
    ASSERT_TRUE(s->Flush().ok());
  }
  EXPECT_EQ(s->GetStats().parts, 4u);
  ASSERT_TRUE(s->MergeNow().ok());
  EXPECT_EQ(s->GetStats().parts, 1u);
  EXPECT_EQ(ScanAll(s.get()).size(), 400u);
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  // Simulate a crash between the merged part's rename and the inputs' removal: put an
  // input back; reopening must drop it again instead of double counting.
  auto s2 = OpenStore(Opts(d.path(), &clock));
  EXPECT_EQ(ScanAll(s2.get()).size(), 400u);
}

TEST(EmbeddedLogStoreTest, InterruptedMergeInputsAreRemovedOnOpen) {
  testing::TempDir d;
  ManualClock clock(kT0);
  std::string saved_path, saved_copy = d.path() + "/saved.slp";
  {
    auto s = OpenStore(Opts(d.path(), &clock));
    for (int p = 0; p < 3; ++p) {
      ASSERT_TRUE(s->Append({Rec(kT0 + p, "svc", "x")}).ok());
      ASSERT_TRUE(s->Flush().ok());
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(d.path() + "/logs"))
      if (e.path().extension() == ".slp") saved_path = e.path().string();
    std::filesystem::copy_file(saved_path, saved_copy);
    ASSERT_TRUE(s->MergeNow().ok());
    ASSERT_TRUE(s->Close().ok());
  }
  std::filesystem::copy_file(saved_copy, saved_path);  // the input "survived" a crash
  std::filesystem::remove(saved_copy);
  auto s = OpenStore(Opts(d.path(), &clock));
  EXPECT_EQ(ScanAll(s.get()).size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(saved_path));
}

TEST(EmbeddedLogStoreTest, RetentionDropsWholeDays) {
  testing::TempDir d;
  ManualClock clock(kT0);
  auto o = Opts(d.path(), &clock);
  o.retention_ns = 2 * kNsPerDay;
  auto s = OpenStore(o);
  for (int day = 0; day < 4; ++day)
    ASSERT_TRUE(s->Append({Rec(kT0 + day * kNsPerDay, "svc", "d" + std::to_string(day))}).ok());
  ASSERT_TRUE(s->Flush().ok());
  EXPECT_EQ(s->GetStats().partitions, 4u);
  clock.Set(kT0 + 4 * kNsPerDay);
  ASSERT_TRUE(s->ApplyRetention().ok());
  auto rest = ScanAll(s.get());
  ASSERT_EQ(rest.size(), 2u);
  for (const auto& r : rest) EXPECT_GE(r.ts_ns, kT0 + 2 * kNsPerDay);
}

TEST(EmbeddedLogStoreTest, BackpressureBoundsBufferedData) {
  testing::TempDir d;
  ManualClock clock(kT0);
  auto o = Opts(d.path(), &clock);
  o.memtable_bytes = 4096;
  auto s = OpenStore(o);
  std::vector<model::LogRecord> big;
  for (int i = 0; i < 100; ++i) big.push_back(Rec(kT0 + i, "svc", std::string(200, 'x')));
  ASSERT_TRUE(s->Append(big).ok());  // now over 2 x memtable_bytes
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    EXPECT_TRUE(s->Append({Rec(kT0 + 1000, "svc", "late")}).ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done.load());  // blocked until a flush makes room
  ASSERT_TRUE(s->Flush().ok());
  waiter.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(ScanAll(s.get()).size(), 101u);
}

}  // namespace
}  // namespace sightline::storage
