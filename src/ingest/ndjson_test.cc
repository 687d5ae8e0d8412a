#include "ingest/ndjson.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sightline::ingest {
namespace {

using model::AttrValue;
using model::Level;
using model::LogBatch;
using model::LogRecord;

constexpr int64_t kNow = 1'700'000'000'000'000'000;

NdjsonOptions Opts() {
  NdjsonOptions o;
  o.default_service = "default-svc";
  o.now_ns = kNow;
  return o;
}

// Decodes a body expected to hold exactly one valid line.
LogRecord One(std::string_view line) {
  LogBatch batch;
  Status st = DecodeNdjson(line, Opts(), &batch);
  EXPECT_TRUE(st.ok()) << st.ToString() << " for " << line;
  EXPECT_EQ(batch.records.size(), 1u) << line;
  EXPECT_EQ(batch.rejected, 0) << batch.reject_reason;
  if (batch.records.empty()) return LogRecord();
  return batch.records[0];
}

int64_t TsOf(std::string_view json_value) {
  return One(std::string("{\"ts\":") + std::string(json_value) + "}").ts_ns;
}

std::vector<std::string> Keys(const LogRecord& r) {
  std::vector<std::string> keys;
  for (const auto& a : r.attrs) keys.push_back(a.key);
  return keys;
}

TEST(NdjsonTest, BasicRecord) {
  LogRecord r =
      One(R"({"ts":"2024-05-01T12:34:56.789Z","level":"warn","msg":"disk almost full",)"
          R"("service":"api","env":"prod","host":"web-1","disk":"/dev/sda1","pct":93.5})");
  EXPECT_EQ(r.ts_ns, 1714566896789000000);
  EXPECT_EQ(r.observed_ns, kNow);
  EXPECT_EQ(r.level, Level::kWarn);
  EXPECT_EQ(r.severity_number, 0);
  EXPECT_EQ(r.body, "disk almost full");
  EXPECT_EQ(r.service, "api");
  EXPECT_EQ(r.env, "prod");
  EXPECT_EQ(r.host, "web-1");
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"disk", "pct"}));
  EXPECT_EQ(*r.FindAttr("disk"), AttrValue::String("/dev/sda1"));
  EXPECT_EQ(*r.FindAttr("pct"), AttrValue::Double(93.5));
}

TEST(NdjsonTest, DefaultServiceAndEmptyObject) {
  LogRecord r = One("{}");
  EXPECT_EQ(r.service, "default-svc");
  EXPECT_EQ(r.ts_ns, 0);
  EXPECT_EQ(r.level, Level::kUnknown);
  EXPECT_TRUE(r.attrs.empty());
  // An empty service string is not a service; the default applies and the value stays.
  r = One(R"({"service":""})");
  EXPECT_EQ(r.service, "default-svc");
  ASSERT_NE(r.FindAttr("service"), nullptr);
}

TEST(NdjsonTest, FlattensNestedObjectsWithTypes) {
  LogRecord r =
      One(R"({"http":{"method":"GET","status":200,"latency":0.25,"ok":true,"none":null,)"
          R"("req":{"headers":{"ua":"curl"}}},"big":18446744073709551615,"neg":-42,"e":{}})");
  EXPECT_EQ(*r.FindAttr("http.method"), AttrValue::String("GET"));
  EXPECT_EQ(*r.FindAttr("http.status"), AttrValue::Int(200));
  EXPECT_EQ(*r.FindAttr("http.latency"), AttrValue::Double(0.25));
  EXPECT_EQ(*r.FindAttr("http.ok"), AttrValue::Bool(true));
  EXPECT_EQ(r.FindAttr("http.none"), nullptr);
  EXPECT_EQ(*r.FindAttr("http.req.headers.ua"), AttrValue::String("curl"));
  EXPECT_EQ(*r.FindAttr("big"), AttrValue::Double(18446744073709551615.0));
  EXPECT_EQ(*r.FindAttr("neg"), AttrValue::Int(-42));
  EXPECT_EQ(r.FindAttr("e"), nullptr);
  EXPECT_EQ(r.attrs.size(), 7u);
}

TEST(NdjsonTest, Int64LimitsAndHugeIntegers) {
  LogRecord r =
      One(R"({"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,)"
          R"("huge":123456789012345678901234567890})");
  EXPECT_EQ(*r.FindAttr("max"), AttrValue::Int(INT64_MAX));
  EXPECT_EQ(*r.FindAttr("min"), AttrValue::Int(INT64_MIN));
  EXPECT_EQ(*r.FindAttr("over"), AttrValue::Double(9223372036854775808.0));
  EXPECT_EQ(*r.FindAttr("huge"), AttrValue::Double(1.2345678901234568e29));
}

TEST(NdjsonTest, ArraysKeptAsCompactJson) {
  LogRecord r = One(R"({"tags": [ "a", "b\"c" , 1, 2.50, true, null, {"k" : [ ] }, [ ] ],"e":[]})");
  EXPECT_EQ(*r.FindAttr("tags"), AttrValue::String(R"(["a","b\"c",1,2.50,true,null,{"k":[]},[]])"));
  EXPECT_EQ(*r.FindAttr("e"), AttrValue::String("[]"));
}

TEST(NdjsonTest, StringsAreUnescaped) {
  LogRecord r = One(R"({"msg":"line1\nline2 \u00e9 \ud83d\ude00","k\u0041":"v"})");
  EXPECT_EQ(r.body, "line1\nline2 \xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(*r.FindAttr("kA"), AttrValue::String("v"));
}

TEST(NdjsonTest, DeepNestingKeptAsJsonText) {
  // 40 levels: levels 1..32 are flattened, the object at level 33 becomes JSON text.
  std::string line;
  for (int i = 0; i < 39; ++i) line += "{\"a\":";
  line += "{\"leaf\":1}";
  for (int i = 0; i < 39; ++i) line += "}";
  LogRecord r = One(line);
  ASSERT_EQ(r.attrs.size(), 1u);
  std::string key = "a";
  for (int i = 1; i < 32; ++i) key += ".a";
  EXPECT_EQ(r.attrs[0].key, key);
  EXPECT_EQ(r.attrs[0].value,
            AttrValue::String(R"({"a":{"a":{"a":{"a":{"a":{"a":{"a":{"leaf":1}}}}}}}})"));
}

TEST(NdjsonTest, AbsurdNestingRejected) {
  std::string line = "{\"a\":";
  for (int i = 0; i < 200; ++i) line += "[";
  for (int i = 0; i < 200; ++i) line += "]";
  line += "}";
  LogBatch batch;
  EXPECT_EQ(DecodeNdjson(line, Opts(), &batch).code(), Code::kInvalidArgument);
  EXPECT_EQ(batch.rejected, 1);
}

TEST(NdjsonTest, DuplicateKeysLastValueWins) {
  LogRecord r = One(R"({"a":1,"b":2,"a":3,"x":{"y":1},"x.y":2})");
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"a", "b", "x.y"}));
  EXPECT_EQ(*r.FindAttr("a"), AttrValue::Int(3));
  EXPECT_EQ(*r.FindAttr("x.y"), AttrValue::Int(2));
}

TEST(NdjsonTest, TimestampSpellingsAndPriority) {
  EXPECT_EQ(One(R"({"ts":1700000000})").ts_ns, 1700000000000000000);
  EXPECT_EQ(One(R"({"timestamp":1700000000})").ts_ns, 1700000000000000000);
  EXPECT_EQ(One(R"({"time":1700000000})").ts_ns, 1700000000000000000);
  EXPECT_EQ(One(R"({"@timestamp":"2023-11-14T22:13:20Z"})").ts_ns, 1700000000000000000);
  // Not time fields.
  LogRecord r = One(R"({"t":1700000000,"date":"2023-11-14T22:13:20Z"})");
  EXPECT_EQ(r.ts_ns, 0);
  EXPECT_EQ(r.attrs.size(), 2u);
  // First spelling in list order wins, wherever it appears in the line; the loser stays.
  r = One(R"({"time":1600000000,"ts":1700000000})");
  EXPECT_EQ(r.ts_ns, 1700000000000000000);
  EXPECT_EQ(*r.FindAttr("time"), AttrValue::Int(1600000000));
  EXPECT_EQ(r.FindAttr("ts"), nullptr);
}

TEST(NdjsonTest, Rfc3339Formats) {
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20Z")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2023-11-14t22:13:20z")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2023-11-14 22:13:20Z")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20")"), 1700000000000000000);  // no zone: UTC
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20.5Z")"), 1700000000500000000);
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20.123Z")"), 1700000000123000000);
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20.123456Z")"), 1700000000123456000);
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20.123456789Z")"), 1700000000123456789);
  EXPECT_EQ(TsOf(R"("2023-11-14T22:13:20.1234567891234Z")"), 1700000000123456789);
  EXPECT_EQ(TsOf(R"("2023-11-14 22:13:20,250")"), 1700000000250000000);  // Python logging
  EXPECT_EQ(TsOf(R"("2023-11-15T00:13:20+02:00")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2023-11-14T17:13:20-05:00")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2023-11-15T03:43:20.000001+05:30")"), 1700000000000001000);
  EXPECT_EQ(TsOf(R"("2023-11-15T00:13:20+0200")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2023-11-15T00:13:20+02")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("2024-02-29T00:00:00Z")"), 1709164800000000000);  // leap day
  EXPECT_EQ(TsOf(R"("1970-01-01T00:00:00.000000001Z")"), 1);
}

TEST(NdjsonTest, EpochNumbersByMagnitude) {
  EXPECT_EQ(TsOf("1700000000"), 1700000000000000000);              // s
  EXPECT_EQ(TsOf("1700000000.25"), 1700000000250000000);           // fractional s
  EXPECT_EQ(TsOf("1700000000123"), 1700000000123000000);           // ms
  EXPECT_EQ(TsOf("1700000000123.5"), 1700000000123500000);         // fractional ms
  EXPECT_EQ(TsOf("1700000000123456"), 1700000000123456000);        // us
  EXPECT_EQ(TsOf("1700000000123456789"), 1700000000123456789);     // ns
  EXPECT_EQ(TsOf("100000000000"), 100000000000000000);             // 1e11 is ms
  EXPECT_EQ(TsOf("1e9"), 1000000000000000000);                     // exponent form
  EXPECT_EQ(TsOf("1700000000.1234567"), 1700000000123456700);      // zap: exact, not double
  EXPECT_NEAR(TsOf("1.7000000001e9"), 1700000000100000000, 1000);  // double: ~us precise
  // With duplicates the last value wins, and its own text is used.
  EXPECT_EQ(One(R"({"ts":1700000000.5,"ts":1600000000})").ts_ns, 1600000000000000000);
}

TEST(NdjsonTest, EpochNumericStrings) {
  EXPECT_EQ(TsOf(R"("1700000000")"), 1700000000000000000);
  EXPECT_EQ(TsOf(R"("1700000000.123456789")"), 1700000000123456789);  // exact, no double
  EXPECT_EQ(TsOf(R"("1700000000123")"), 1700000000123000000);
  EXPECT_EQ(TsOf(R"("1700000000123.456")"), 1700000000123456000);
  EXPECT_EQ(TsOf(R"("1700000000123456")"), 1700000000123456000);
  EXPECT_EQ(TsOf(R"("1700000000123456789")"), 1700000000123456789);
}

TEST(NdjsonTest, UnparseableTimeKeptAsAttribute) {
  for (const char* v :
       {R"("yesterday")", R"("2023-13-01T00:00:00Z")", R"("2023-02-29T00:00:00Z")",
        R"("2023-11-14T25:00:00Z")", R"("2023-11-14T22:13:20+25:00")", R"("2023-11-14T22:13:20.Z")",
        R"("2023-11-14")", R"("1700000000x")", R"("-5")", "-1700000000", "0", R"("")", "true",
        R"("1e400")", R"("1969-12-31T23:59:59Z")", R"("2263-01-01T00:00:00Z")",
        "99999999999999999999", R"("99999999999999999999")"}) {
    SCOPED_TRACE(v);
    LogRecord r = One(std::string("{\"ts\":") + v + "}");
    EXPECT_EQ(r.ts_ns, 0);
    EXPECT_NE(r.FindAttr("ts"), nullptr);
  }
  // A later spelling still supplies the time when an earlier one is unusable.
  LogRecord r = One(R"({"ts":"soon","time":1700000000})");
  EXPECT_EQ(r.ts_ns, 1700000000000000000);
  EXPECT_EQ(*r.FindAttr("ts"), AttrValue::String("soon"));
  EXPECT_EQ(r.FindAttr("time"), nullptr);
}

TEST(NdjsonTest, ParseLogTimestampDirect) {
  int64_t ns = -1;
  EXPECT_TRUE(ParseLogTimestamp("2262-04-11T23:47:16.854775807Z", &ns));
  EXPECT_EQ(ns, INT64_MAX);
  EXPECT_FALSE(ParseLogTimestamp("2262-04-11T23:47:16.854775808Z", &ns));
  EXPECT_FALSE(ParseLogTimestamp("", &ns));
  EXPECT_FALSE(ParseLogTimestamp("9223372036854775808", &ns));
  EXPECT_TRUE(ParseLogTimestamp("9223372036854775807", &ns));
  EXPECT_EQ(ns, INT64_MAX);
  EXPECT_FALSE(ParseLogTimestamp("9223372037", &ns));  // seconds, overflows as ns
  EXPECT_TRUE(EpochNumberToNanos(1.5, &ns));
  EXPECT_EQ(ns, 1500000000);
  EXPECT_FALSE(EpochNumberToNanos(std::numeric_limits<double>::quiet_NaN(), &ns));
  EXPECT_FALSE(EpochNumberToNanos(1e19, &ns));
  EXPECT_FALSE(EpochNumberToNanos(int64_t{-1}, &ns));
}

TEST(NdjsonTest, LevelSpellings) {
  EXPECT_EQ(One(R"({"level":"error"})").level, Level::kError);
  EXPECT_EQ(One(R"({"severity":"WARNING"})").level, Level::kWarn);
  EXPECT_EQ(One(R"({"lvl":"dbug"})").level, Level::kDebug);
  EXPECT_EQ(One(R"({"levelname":"CRITICAL"})").level, Level::kFatal);
  EXPECT_EQ(One(R"({"log":{"level":"info"}})").level, Level::kInfo);  // ECS
  EXPECT_EQ(One(R"({"log.level":"info"})").level, Level::kInfo);
  EXPECT_EQ(One(R"({"loglevel":"trace"})").level, Level::kTrace);
  EXPECT_EQ(One(R"({"level":30})").level, Level::kInfo);  // pino
  EXPECT_EQ(One(R"({"level":50.0})").level, Level::kError);
  EXPECT_EQ(One(R"({"level":"3"})").level, Level::kError);  // syslog
  LogRecord r = One(R"({"level":"info","severity":"error"})");
  EXPECT_EQ(r.level, Level::kInfo);
  EXPECT_EQ(*r.FindAttr("severity"), AttrValue::String("error"));
  EXPECT_EQ(r.FindAttr("level"), nullptr);
  EXPECT_EQ(r.severity_number, 0);
}

TEST(NdjsonTest, UnknownLevelKeptAsAttribute) {
  for (const char* v : {R"("chatty")", "8", R"("9")", "-1", "true", "1.5", R"("")"}) {
    SCOPED_TRACE(v);
    LogRecord r = One(std::string("{\"level\":") + v + "}");
    EXPECT_EQ(r.level, Level::kUnknown);
    EXPECT_NE(r.FindAttr("level"), nullptr);
  }
  LogRecord r = One(R"({"level":"chatty","severity":"warn"})");
  EXPECT_EQ(r.level, Level::kWarn);
  EXPECT_EQ(*r.FindAttr("level"), AttrValue::String("chatty"));
}

TEST(NdjsonTest, MessageSpellings) {
  EXPECT_EQ(One(R"({"msg":"a"})").body, "a");
  EXPECT_EQ(One(R"({"message":"b"})").body, "b");
  EXPECT_EQ(One(R"({"body":"c"})").body, "c");
  EXPECT_EQ(One(R"({"log":"d\n"})").body, "d\n");  // docker json-file
  EXPECT_EQ(One(R"({"msg":42})").body, "42");
  EXPECT_EQ(One(R"({"msg":1.5})").body, "1.5");
  EXPECT_EQ(One(R"({"msg":false})").body, "false");
  EXPECT_EQ(One(R"({"msg":[1, "x"]})").body, R"([1,"x"])");
  EXPECT_EQ(One(R"({"msg":""})").body, "");
  LogRecord r = One(R"({"log":"l","message":"m","msg":"first","x":1})");
  EXPECT_EQ(r.body, "first");
  // Losing spellings are appended after the other attributes, in list order.
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"x", "message", "log"}));
  // A nested object named like a message field is flattened, not used as the body.
  r = One(R"({"message":{"text":"hi"}})");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(*r.FindAttr("message.text"), AttrValue::String("hi"));
}

TEST(NdjsonTest, ServiceSpellings) {
  EXPECT_EQ(One(R"({"service":"a"})").service, "a");
  EXPECT_EQ(One(R"({"service":{"name":"b"}})").service, "b");
  EXPECT_EQ(One(R"({"service.name":"b2"})").service, "b2");
  EXPECT_EQ(One(R"({"service_name":"c"})").service, "c");
  EXPECT_EQ(One(R"({"app":"d"})").service, "d");
  EXPECT_EQ(One(R"({"application":"e"})").service, "e");
  LogRecord r = One(R"({"app":"x","service":"y"})");
  EXPECT_EQ(r.service, "y");
  EXPECT_EQ(*r.FindAttr("app"), AttrValue::String("x"));
  // Non-string values are not services; they stay attributes.
  r = One(R"({"app":true})");
  EXPECT_EQ(r.service, "default-svc");
  EXPECT_EQ(*r.FindAttr("app"), AttrValue::Bool(true));
}

TEST(NdjsonTest, EnvAndHostSpellings) {
  EXPECT_EQ(One(R"({"env":"a"})").env, "a");
  EXPECT_EQ(One(R"({"environment":"b"})").env, "b");
  EXPECT_EQ(One(R"({"deployment":{"environment":"c"}})").env, "c");
  EXPECT_EQ(One(R"({"deployment.environment.name":"d"})").env, "d");
  EXPECT_EQ(One(R"({"host":"h1"})").host, "h1");
  EXPECT_EQ(One(R"({"hostname":"h2"})").host, "h2");
  LogRecord r = One(R"({"host":{"name":"h3","ip":"10.0.0.1"}})");
  EXPECT_EQ(r.host, "h3");
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"host.ip"}));
}

TEST(NdjsonTest, TraceAndSpanIds) {
  const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  for (const char* key :
       {"trace_id", "traceId", "trace.id", "traceid", "X-Trace-ID", "x-trace-id"}) {
    SCOPED_TRACE(key);
    LogRecord r = One(std::string("{\"") + key + "\":\"" + kTrace + "\"}");
    EXPECT_EQ(r.trace_id.Hex(), kTrace);
    EXPECT_TRUE(r.attrs.empty());
  }
  for (const char* key : {"span_id", "spanId", "span.id"}) {
    SCOPED_TRACE(key);
    LogRecord r = One(std::string("{\"") + key + "\":\"00F067AA0BA902B7\"}");
    EXPECT_EQ(r.span_id.Hex(), "00f067aa0ba902b7");
    EXPECT_TRUE(r.attrs.empty());
  }
  LogRecord r = One(R"({"trace":{"id":"a3ce929d0e0e4736"}})");
  EXPECT_EQ(r.trace_id.Hex(), "0000000000000000a3ce929d0e0e4736");
  // dd.trace_id is not a trace field.
  r = One(R"({"dd":{"trace_id":"123"}})");
  EXPECT_TRUE(r.trace_id.empty());
  EXPECT_NE(r.FindAttr("dd.trace_id"), nullptr);
}

TEST(NdjsonTest, HashedIdsKeepOriginal) {
  LogRecord r = One(R"({"trace_id":"req-42","span_id":7})");
  bool hashed;
  EXPECT_EQ(r.trace_id, model::TraceIdFromText("req-42", &hashed));
  EXPECT_EQ(*r.FindAttr("trace_id.original"), AttrValue::String("req-42"));
  EXPECT_EQ(r.span_id, model::SpanIdFromText("7", &hashed));
  EXPECT_EQ(*r.FindAttr("span_id.original"), AttrValue::String("7"));
  EXPECT_EQ(r.FindAttr("trace_id"), nullptr);
  EXPECT_EQ(r.FindAttr("span_id"), nullptr);
}

TEST(NdjsonTest, RequestAndUserIdsCanonicalized) {
  for (const char* key :
       {"request_id", "requestId", "request.id", "X-Request-ID", "x-request-id"}) {
    SCOPED_TRACE(key);
    LogRecord r = One(std::string("{\"") + key + "\":\"abc\"}");
    EXPECT_EQ(Keys(r), (std::vector<std::string>{"request_id"}));
    EXPECT_EQ(*r.FindAttr("request_id"), AttrValue::String("abc"));
  }
  for (const char* key : {"user_id", "userId", "user.id"}) {
    SCOPED_TRACE(key);
    LogRecord r = One(std::string("{\"") + key + "\":12345}");
    EXPECT_EQ(Keys(r), (std::vector<std::string>{"user_id"}));
    EXPECT_EQ(*r.FindAttr("user_id"), AttrValue::String("12345"));
  }
  LogRecord r = One(R"({"a":1,"requestId":"x","request_id":"y","user":{"id":"u","name":"n"}})");
  EXPECT_EQ(Keys(r),
            (std::vector<std::string>{"a", "user.name", "request_id", "requestId", "user_id"}));
  EXPECT_EQ(*r.FindAttr("request_id"), AttrValue::String("y"));
  EXPECT_EQ(*r.FindAttr("requestId"), AttrValue::String("x"));
}

TEST(NdjsonTest, KeysAreCaseSensitive) {
  LogRecord r = One(R"({"MSG":"m","Level":"error","TS":1700000000})");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.level, Level::kUnknown);
  EXPECT_EQ(r.ts_ns, 0);
  EXPECT_EQ(r.attrs.size(), 3u);
}

TEST(NdjsonTest, MultipleLinesBlankLinesAndCrlf) {
  LogBatch batch;
  std::string body = "{\"msg\":\"a\"}\r\n\n   \n\t\r\n{\"msg\":\"b\"}\n{\"msg\":\"c\"}";
  ASSERT_TRUE(DecodeNdjson(body, Opts(), &batch).ok());
  ASSERT_EQ(batch.records.size(), 3u);
  EXPECT_EQ(batch.records[0].body, "a");
  EXPECT_EQ(batch.records[1].body, "b");
  EXPECT_EQ(batch.records[2].body, "c");
  EXPECT_EQ(batch.rejected, 0);
  EXPECT_EQ(batch.reject_reason, "");
}

TEST(NdjsonTest, InvalidLinesRejectedValidKept) {
  LogBatch batch;
  std::string body =
      "{\"msg\":\"ok1\"}\n"
      "\n"
      "not json\n"  // line 3
      "[1,2]\n"     // line 4
      "{\"msg\":\"ok2\"}\n"
      "{\"a\":1} {\"b\":2}\n"  // line 6: two objects
      "{\"a\":[1,,2]}\n"       // line 7
      "{\"a\":1,}\n"           // line 8
      "\"str\"\n"              // line 9
      "{\"a\":\"\xff\"}\n"     // line 10: invalid UTF-8
      "{\"a\":01}\n"           // line 11
      "{\"a\":1\n"             // line 12: truncated
      "{\"msg\":\"ok3\"}";
  ASSERT_TRUE(DecodeNdjson(body, Opts(), &batch).ok());
  ASSERT_EQ(batch.records.size(), 3u);
  EXPECT_EQ(batch.records[0].body, "ok1");
  EXPECT_EQ(batch.records[1].body, "ok2");
  EXPECT_EQ(batch.records[2].body, "ok3");
  EXPECT_EQ(batch.rejected, 9);
  EXPECT_EQ(batch.reject_reason.rfind("line 3: not a JSON object: ", 0), 0u) << batch.reject_reason;
}

TEST(NdjsonTest, RejectReasonsPerKind) {
  auto reason = [](std::string_view body) {
    LogBatch batch;
    Status st = DecodeNdjson(body, Opts(), &batch);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_EQ(batch.rejected, 1);
    EXPECT_TRUE(batch.records.empty());
    return batch.reject_reason;
  };
  EXPECT_EQ(reason("[1]"), "line 1: not a JSON object: found an array");
  EXPECT_EQ(reason("\n42"), "line 2: not a JSON object: found a number");
  EXPECT_EQ(reason("null"), "line 1: not a JSON object: found null");
  EXPECT_EQ(reason("{} {}"), "line 1: not a JSON object: trailing content after the object");
}

TEST(NdjsonTest, AllInvalidIsAnError) {
  LogBatch batch;
  batch.reject_reason = "";
  Status st = DecodeNdjson("nope\n{bad}\n", Opts(), &batch);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("2 rejected"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("line 1"), std::string::npos) << st.message();
  EXPECT_TRUE(batch.records.empty());
  EXPECT_EQ(batch.rejected, 2);
}

TEST(NdjsonTest, EmptyAndBlankBodiesAreOk) {
  LogBatch batch;
  EXPECT_TRUE(DecodeNdjson("", Opts(), &batch).ok());
  EXPECT_TRUE(DecodeNdjson("\n\r\n  \n", Opts(), &batch).ok());
  EXPECT_TRUE(batch.records.empty());
  EXPECT_EQ(batch.rejected, 0);
}

TEST(NdjsonTest, AppendsToExistingBatchAndKeepsFirstReason) {
  LogBatch batch;
  batch.records.emplace_back();
  batch.rejected = 2;
  batch.reject_reason = "earlier";
  ASSERT_TRUE(DecodeNdjson("{\"msg\":\"x\"}\nbad", Opts(), &batch).ok());
  EXPECT_EQ(batch.records.size(), 2u);
  EXPECT_EQ(batch.records[1].body, "x");
  EXPECT_EQ(batch.rejected, 3);
  EXPECT_EQ(batch.reject_reason, "earlier");
}

TEST(NdjsonTest, OverlongLineRejected) {
  std::string big = "{\"msg\":\"" + std::string(kMaxNdjsonLineBytes, 'x') + "\"}";
  std::string body = big + "\n{\"msg\":\"small\"}";
  LogBatch batch;
  ASSERT_TRUE(DecodeNdjson(body, Opts(), &batch).ok());
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].body, "small");
  EXPECT_EQ(batch.rejected, 1);
  EXPECT_NE(batch.reject_reason.find("line 1: not a JSON object: line longer than"),
            std::string::npos);
  // Exactly at the limit is fine.
  std::string fits = "{\"msg\":\"" + std::string(kMaxNdjsonLineBytes - 10, 'y') + "\"}";
  ASSERT_EQ(fits.size(), kMaxNdjsonLineBytes);
  LogBatch batch2;
  ASSERT_TRUE(DecodeNdjson(fits, Opts(), &batch2).ok());
  EXPECT_EQ(batch2.records[0].body.size(), kMaxNdjsonLineBytes - 10);
}

TEST(NdjsonTest, RecordCap) {
  NdjsonOptions opts = Opts();
  opts.max_records = 3;
  LogBatch batch;
  batch.records.emplace_back();
  EXPECT_TRUE(DecodeNdjson("{}\nbad\n{}\n{}", opts, &batch).ok());
  EXPECT_EQ(batch.records.size(), 4u);
  LogBatch batch2;
  batch2.records.emplace_back();
  Status st = DecodeNdjson("{}\n{}\n{}\n{}", opts, &batch2);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge);
  EXPECT_EQ(st.message(), "ndjson: more than 3 records in one request");
  EXPECT_EQ(batch2.records.size(), 1u);
  EXPECT_EQ(batch2.rejected, 0);
}

TEST(NdjsonTest, LineEndingAtBraceBoundaries) {
  // Lines that end in '}' right before more '}' bytes (simdjson issue #1834 territory).
  LogBatch batch;
  ASSERT_TRUE(DecodeNdjson("{\"a\":{\"b\":1}\n}}\n{\"c\":2}", Opts(), &batch).ok());
  EXPECT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.rejected, 2);
}

}  // namespace
}  // namespace sightline::ingest
