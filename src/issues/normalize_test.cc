#include "issues/normalize.h"

#include <gtest/gtest.h>

#include <string>

namespace sightline::issues {
namespace {

TEST(NormalizeMessageTest, Integers) {
  EXPECT_EQ(NormalizeMessage("user 123 not found"), "user <int> not found");
  EXPECT_EQ(NormalizeMessage("user 123 not found"), NormalizeMessage("user 456 not found"));
  EXPECT_EQ(NormalizeMessage("offset -5"), "offset <int>");
  // Digits glued to letters are not numbers (word boundaries, as in Sentry).
  EXPECT_EQ(NormalizeMessage("user123 v2"), "user123 v2");
}

TEST(NormalizeMessageTest, FloatsAndHex) {
  EXPECT_EQ(NormalizeMessage("took 1.25 s"), "took <float> s");
  EXPECT_EQ(NormalizeMessage("delta -0.5"), "delta <float>");
  EXPECT_EQ(NormalizeMessage("at 0x7ffd1234 failed"), "at <hex> failed");
}

TEST(NormalizeMessageTest, Identifiers) {
  EXPECT_EQ(NormalizeMessage("order 550e8400-e29b-41d4-a716-446655440000 missing"),
            "order <uuid> missing");
  EXPECT_EQ(NormalizeMessage("md5 d41d8cd98f00b204e9800998ecf8427e"), "md5 <md5>");
  EXPECT_EQ(NormalizeMessage("commit da39a3ee5e6b4b0d3255bfef95601890afd80709"), "commit <sha1>");
  EXPECT_EQ(NormalizeMessage(
                "blob e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 gone"),
            "blob <sha256> gone");
}

TEST(NormalizeMessageTest, Addresses) {
  EXPECT_EQ(NormalizeMessage("mail to bob.smith+x@example.com failed"), "mail to <email> failed");
  EXPECT_EQ(NormalizeMessage("GET https://api.example.com/v1/users/7?x=1 returned 500"),
            "GET <url> returned <int>");
  EXPECT_EQ(NormalizeMessage("connect 10.0.0.12 refused"), "connect <ip> refused");
  EXPECT_EQ(NormalizeMessage("connect 2001:db8:85a3:0:0:8a2e:370:7334 refused"),
            "connect <ip> refused");
  EXPECT_EQ(NormalizeMessage("connect fe80::1 refused"), "connect <ip> refused");
  EXPECT_EQ(NormalizeMessage("listen ::1"), "listen <ip>");
  // The C++/Ruby scope operator is not an address.
  EXPECT_EQ(NormalizeMessage("std::string Foo::Bar"), "std::string Foo::Bar");
}

TEST(NormalizeMessageTest, Dates) {
  EXPECT_EQ(NormalizeMessage("at 2024-01-02T10:20:30.123Z done"), "at <date> done");
  EXPECT_EQ(NormalizeMessage("at 2024-01-02T10:20:30+01:00"), "at <date>");
  EXPECT_EQ(NormalizeMessage("at 2024-01-02 10:20:30"), "at <date>");
  EXPECT_EQ(NormalizeMessage("on 2024-01-02"), "on <date>");
  EXPECT_EQ(NormalizeMessage("Tue, 2 Jan 2024 10:20:30 +0100"), "<date>");
  EXPECT_EQ(NormalizeMessage("Jan 02, 1999"), "<date>");
  EXPECT_EQ(NormalizeMessage("at 10:20 pm"), "at <date>");
  EXPECT_EQ(NormalizeMessage("t=datetime.datetime(2024, 1, 2, 3, 4)"), "t=<date>");
}

TEST(NormalizeMessageTest, QuotedValues) {
  EXPECT_EQ(NormalizeMessage("where name='John Smith'"), "where name=<quoted_str>");
  EXPECT_EQ(NormalizeMessage("say 'hello'"), "say 'hello'");
}

TEST(NormalizeMessageTest, KeepsTwoNonEmptyLines) {
  EXPECT_EQ(NormalizeMessage("first\n\nsecond\nthird"), "first\nsecond...");
  EXPECT_EQ(NormalizeMessage("first\r\nsecond\r\n"), "first\nsecond");
  EXPECT_EQ(NormalizeMessage("only"), "only");
  EXPECT_EQ(NormalizeMessage(""), "");
}

TEST(NormalizeMessageTest, ArbitraryBytes) {
  const std::string bytes("\xff\xfe 12 \xc3\xa9 0x1g \x00 34", 18);
  const std::string out = NormalizeMessage(bytes);
  EXPECT_EQ(out, std::string("\xff\xfe <int> \xc3\xa9 0x1g \x00 <int>", 24));
  EXPECT_EQ(NormalizeMessage("caf\xc3\xa9 42"), "caf\xc3\xa9 <int>");
}

TEST(NormalizeMessageTest, LongInputIsLinear) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "id 1234 ";
  const std::string out = NormalizeMessage(big);
  EXPECT_EQ(out.size(), 100000u * 9);
}

}  // namespace
}  // namespace sightline::issues
