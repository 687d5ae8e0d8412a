#include "base/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace sightline {
namespace {

TEST(CodingTest, VarintsRoundTripAtBoundaries) {
  const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, (1ull << 35) + 7,
                             std::numeric_limits<uint64_t>::max()};
  std::string buf;
  for (uint64_t v : values) PutVarint64(&buf, v);
  Reader r(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(r.GetVarint64(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(buf.size(), 1u + 1 + 1 + 2 + 2 + 3 + 6 + 10);
}

TEST(CodingTest, ZigZagSigned) {
  const int64_t values[] = {0, -1, 1, -64, 64, std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max()};
  std::string buf;
  for (int64_t v : values) PutVarsint64(&buf, v);
  Reader r(buf);
  for (int64_t v : values) {
    int64_t got;
    ASSERT_TRUE(r.GetVarsint64(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(ZigZag(-1), 1u);
  EXPECT_EQ(ZigZag(1), 2u);
}

TEST(CodingTest, ReaderFailsOnTruncationAndStaysFailed) {
  std::string buf;
  PutVarint64(&buf, 300);
  PutLengthPrefixed(&buf, "hello");
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 42);
  for (size_t cut = 0; cut < buf.size(); ++cut) {
    Reader r(std::string_view(buf).substr(0, cut));
    uint64_t v;
    std::string_view s;
    uint32_t f32;
    uint64_t f64;
    bool ok = r.GetVarint64(&v) && r.GetLengthPrefixed(&s) && r.GetFixed32(&f32) && r.GetFixed64(&f64);
    EXPECT_FALSE(ok) << "cut " << cut;
    EXPECT_FALSE(r.ok());
  }
  Reader r(buf);
  uint64_t v, f64;
  std::string_view s;
  uint32_t f32;
  ASSERT_TRUE(r.GetVarint64(&v) && r.GetLengthPrefixed(&s) && r.GetFixed32(&f32) && r.GetFixed64(&f64));
  EXPECT_EQ(v, 300u);
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(f32, 0xdeadbeefu);
  EXPECT_EQ(f64, 42u);
}

TEST(CodingTest, OverlongVarintRejected) {
  std::string buf(11, '\xff');
  Reader r(buf);
  uint64_t v;
  EXPECT_FALSE(r.GetVarint64(&v));
}

TEST(CodingTest, LengthPrefixBeyondInputRejected) {
  std::string buf;
  PutVarint64(&buf, 1000);
  buf += "abc";
  Reader r(buf);
  std::string_view s;
  EXPECT_FALSE(r.GetLengthPrefixed(&s));
}

TEST(CodingTest, Crc32MatchesKnownValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32/IEEE check value
  EXPECT_EQ(Crc32Extend(Crc32("1234"), "56789"), 0xCBF43926u);
}

}  // namespace
}  // namespace sightline
