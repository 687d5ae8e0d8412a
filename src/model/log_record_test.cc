#include "model/log_record.h"

#include <gtest/gtest.h>

namespace sightline::model {
namespace {

TEST(LevelTest, ParsesCommonSpellings) {
  EXPECT_EQ(LevelFromText("WARNING"), Level::kWarn);
  EXPECT_EQ(LevelFromText("err"), Level::kError);
  EXPECT_EQ(LevelFromText("Information"), Level::kInfo);
  EXPECT_EQ(LevelFromText("50"), Level::kError);
  EXPECT_EQ(LevelFromText("3"), Level::kError);  // syslog err
  EXPECT_EQ(LevelFromText("ERROR2"), Level::kError);
  EXPECT_EQ(LevelFromText("banana"), Level::kUnknown);
  EXPECT_EQ(LevelFromText("8"), Level::kUnknown);  // past the syslog range
  EXPECT_EQ(LevelFromText("9"), Level::kUnknown);
  EXPECT_EQ(LevelFromSeverityNumber(9), Level::kInfo);
  EXPECT_EQ(LevelFromSeverityNumber(17), Level::kError);
}

TEST(TraceIdTest, HexPaddedAndHashed) {
  bool hashed;
  TraceId a = TraceIdFromText("4BF92F3577B34DA6A3CE929D0E0E4736", &hashed);
  EXPECT_FALSE(hashed);
  EXPECT_EQ(a.Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  TraceId b = TraceIdFromText("a3ce929d0e0e4736", &hashed);
  EXPECT_FALSE(hashed);
  EXPECT_EQ(b.Hex(), "0000000000000000a3ce929d0e0e4736");
  TraceId c = TraceIdFromText("req-42", &hashed);
  EXPECT_TRUE(hashed);
  EXPECT_FALSE(c.empty());
  bool hashed2;
  EXPECT_EQ(TraceIdFromText("req-42", &hashed2), c);  // stable
  EXPECT_TRUE(TraceIdFromText("", &hashed).empty());
}

}  // namespace
}  // namespace sightline::model
