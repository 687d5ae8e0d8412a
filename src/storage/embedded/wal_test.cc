#include "storage/embedded/wal.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "testing/temp_dir.h"

namespace sightline::storage {
namespace {

std::vector<std::string> Replay(const std::string& dir, WalRecoveryReport* rep,
                                std::unique_ptr<Wal>* keep = nullptr) {
  std::vector<std::string> got;
  auto w = Wal::Open(
      dir, WalOptions{},
      [&](std::string_view p) {
        got.emplace_back(p);
        return Status::OK();
      },
      rep);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  if (keep && w.ok()) *keep = std::move(w).value();
  return got;
}

TEST(WalTest, AppendAndReplayAcrossSegments) {
  testing::TempDir d;
  {
    WalRecoveryReport rep;
    std::unique_ptr<Wal> w;
    Replay(d.path(), &rep, &w);
    ASSERT_TRUE(w->Append("one").ok());
    ASSERT_TRUE(w->Rotate().ok());
    ASSERT_TRUE(w->Append("two").ok());
    ASSERT_TRUE(w->Append(std::string(100000, 'x')).ok());
  }
  WalRecoveryReport rep;
  auto got = Replay(d.path(), &rep);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "one");
  EXPECT_EQ(got[1], "two");
  EXPECT_EQ(got[2].size(), 100000u);
  EXPECT_EQ(rep.torn_tails, 0u);
}

TEST(WalTest, DropSegmentsBeforeRemovesSealedOnly) {
  testing::TempDir d;
  WalRecoveryReport rep;
  std::unique_ptr<Wal> w;
  Replay(d.path(), &rep, &w);
  ASSERT_TRUE(w->Append("a").ok());
  auto seq = w->Rotate();
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(w->Append("b").ok());
  ASSERT_TRUE(w->DropSegmentsBefore(*seq).ok());
  w.reset();
  auto got = Replay(d.path(), &rep);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "b");
}

TEST(WalTest, TornTailIsCutAndReported) {
  testing::TempDir d;
  std::string seg;
  {
    WalRecoveryReport rep;
    std::unique_ptr<Wal> w;
    Replay(d.path(), &rep, &w);
    ASSERT_TRUE(w->Append("first").ok());
    ASSERT_TRUE(w->Append("second-record").ok());
  }
  for (const auto& e : std::filesystem::directory_iterator(d.path())) seg = e.path();
  // Chop the last 4 bytes: the second record is torn.
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 4);
  WalRecoveryReport rep;
  auto got = Replay(d.path(), &rep);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "first");
  EXPECT_EQ(rep.torn_tails, 1u);
  ASSERT_EQ(rep.problems.size(), 1u);
  EXPECT_NE(rep.problems[0].find("torn WAL tail"), std::string::npos);
  // Recovery is idempotent and the WAL is usable afterwards.
  WalRecoveryReport rep2;
  std::unique_ptr<Wal> w;
  got = Replay(d.path(), &rep2, &w);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(rep2.torn_tails, 0u);
  EXPECT_TRUE(w->Append("third").ok());
}

TEST(WalTest, CorruptByteDetectedByChecksum) {
  testing::TempDir d;
  {
    WalRecoveryReport rep;
    std::unique_ptr<Wal> w;
    Replay(d.path(), &rep, &w);
    ASSERT_TRUE(w->Append("aaaaaaaaaa").ok());
    ASSERT_TRUE(w->Append("bbbbbbbbbb").ok());
  }
  std::string seg;
  for (const auto& e : std::filesystem::directory_iterator(d.path())) seg = e.path();
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('Z');
  }
  WalRecoveryReport rep;
  auto got = Replay(d.path(), &rep);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(rep.torn_tails, 1u);
  EXPECT_NE(rep.problems[0].find("checksum"), std::string::npos);
}

TEST(WalTest, ConcurrentAppendsGroupCommit) {
  testing::TempDir d;
  {
    WalRecoveryReport rep;
    std::unique_ptr<Wal> w;
    auto ww = Wal::Open(
        d.path(), WalOptions{FsyncPolicy::kAlways}, [](std::string_view) { return Status::OK(); },
        &rep);
    ASSERT_TRUE(ww.ok());
    w = std::move(ww).value();
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) EXPECT_TRUE(w->Append("t" + std::to_string(t)).ok());
      });
    for (auto& t : ts) t.join();
  }
  WalRecoveryReport rep;
  EXPECT_EQ(Replay(d.path(), &rep).size(), 200u);
}

TEST(WalTest, ParsesPolicy) {
  EXPECT_EQ(*ParseFsyncPolicy("always"), FsyncPolicy::kAlways);
  EXPECT_FALSE(ParseFsyncPolicy("sometimes").ok());
}

}  // namespace
}  // namespace sightline::storage
