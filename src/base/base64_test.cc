#include "base/base64.h"

#include <gtest/gtest.h>

namespace sightline {
namespace {

TEST(Base64Test, RoundTripsAndRejects) {
  for (std::string s :
       {"", "a", "ab", "abc", "0123456789abcdef0123456789abcdef:", "\xff\x00\x10"}) {
    std::string enc, dec;
    AppendBase64(s, &enc);
    ASSERT_TRUE(DecodeBase64(enc, &dec)) << enc;
    EXPECT_EQ(dec, s);
  }
  std::string out;
  EXPECT_TRUE(DecodeBase64("YWJj", &out));  // "abc", no padding needed
  EXPECT_EQ(out, "abc");
  out.clear();
  EXPECT_TRUE(DecodeBase64("_-8", &out));  // URL alphabet
  EXPECT_EQ(out, "\xff\xef");
  out.clear();
  EXPECT_FALSE(DecodeBase64("YW*j", &out));
  EXPECT_FALSE(DecodeBase64("YWJjZ", &out));  // 4n+1 characters cannot be base64
  uint8_t id[3];
  EXPECT_TRUE(DecodeBase64Exact("YWJj", id, 3));
  EXPECT_FALSE(DecodeBase64Exact("YWJj", id, 2));
}

}  // namespace
}  // namespace sightline
