#include "ingest/otlp_logs.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/coding.h"

namespace sightline::ingest {
namespace {

using model::AttrValue;
using model::Level;
using model::LogBatch;
using model::LogRecord;

constexpr int64_t kNow = 1'800'000'000'000'000'000;

// ---------------------------------------------------------------------------------------
// A tiny protobuf writer for building requests by hand.

class Pb {
 public:
  Pb& Varint(uint32_t field, uint64_t v) {
    Tag(field, 0);
    PutVarint64(&s_, v);
    return *this;
  }
  Pb& Fixed64(uint32_t field, uint64_t v) {
    Tag(field, 1);
    PutFixed64(&s_, v);
    return *this;
  }
  Pb& Fixed32(uint32_t field, uint32_t v) {
    Tag(field, 5);
    PutFixed32(&s_, v);
    return *this;
  }
  Pb& Double(uint32_t field, double d) { return Fixed64(field, std::bit_cast<uint64_t>(d)); }
  Pb& Bytes(uint32_t field, std::string_view b) {
    Tag(field, 2);
    PutLengthPrefixed(&s_, b);
    return *this;
  }
  Pb& Msg(uint32_t field, const Pb& m) { return Bytes(field, m.s_); }
  Pb& Raw(std::string_view b) {
    s_.append(b);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  void Tag(uint32_t field, uint32_t wire) { PutVarint64(&s_, uint64_t{field} << 3 | wire); }
  std::string s_;
};

Pb AnyStr(std::string_view s) { return Pb().Bytes(1, s); }
Pb AnyBool(bool b) { return Pb().Varint(2, b); }
Pb AnyInt(int64_t i) { return Pb().Varint(3, static_cast<uint64_t>(i)); }
Pb AnyDouble(double d) { return Pb().Double(4, d); }
Pb AnyBytes(std::string_view b) { return Pb().Bytes(7, b); }
Pb AnyArray(std::initializer_list<Pb> values) {
  Pb arr;
  for (const Pb& v : values) arr.Msg(1, v);
  return Pb().Msg(5, arr);
}
Pb Kv(std::string_view key, const Pb& value) { return Pb().Bytes(1, key).Msg(2, value); }
Pb AnyKvlist(std::initializer_list<Pb> kvs) {
  Pb list;
  for (const Pb& kv : kvs) list.Msg(1, kv);
  return Pb().Msg(6, list);
}
Pb Resource(std::initializer_list<Pb> kvs) {
  Pb r;
  for (const Pb& kv : kvs) r.Msg(1, kv);
  return r;
}
Pb Scope(std::string_view name, std::string_view version) {
  return Pb().Bytes(1, name).Bytes(2, version);
}
Pb ScopeLogs(const Pb& scope, std::initializer_list<Pb> records) {
  Pb sl;
  sl.Msg(1, scope);
  for (const Pb& r : records) sl.Msg(2, r);
  return sl;
}
Pb ResourceLogs(const Pb& resource, std::initializer_list<Pb> scope_logs) {
  Pb rl;
  rl.Msg(1, resource);
  for (const Pb& sl : scope_logs) rl.Msg(2, sl);
  return rl;
}
Pb Request(std::initializer_list<Pb> resource_logs) {
  Pb req;
  for (const Pb& rl : resource_logs) req.Msg(1, rl);
  return req;
}
std::string Hex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  EXPECT_TRUE(model::DecodeHex(hex, reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

const char kTraceHex[] = "5b8efff798038103d269b633813fc60c";
const char kSpanHex[] = "eee19b7ec3c1b174";

// A record with every field set.
Pb FullRecord() {
  return Pb()
      .Fixed64(1, 1544712660300000000)
      .Varint(2, 17)
      .Bytes(3, "Error")
      .Msg(5, AnyStr("something failed"))
      .Msg(6, Kv("http.status", AnyInt(500)))
      .Msg(6, Kv("ratio", AnyDouble(0.5)))
      .Msg(6, Kv("retry", AnyBool(true)))
      .Msg(6, Kv("tags", AnyArray({AnyStr("a"), AnyInt(-2), AnyBool(false)})))
      .Msg(6, Kv("ctx", AnyKvlist({Kv("user", AnyStr("u\"1")), Kv("n", AnyDouble(1.5))})))
      .Msg(6, Kv("raw", AnyBytes(std::string("\x00\x01\xfe", 3))))
      .Varint(7, 0)
      .Fixed32(8, 1)
      .Bytes(9, Hex(kTraceHex))
      .Bytes(10, Hex(kSpanHex))
      .Fixed64(11, 1544712660400000000)
      .Bytes(12, "app.failure");
}

LogBatch DecodeProtoOk(const std::string& body) {
  LogBatch batch;
  Status st = DecodeOtlpLogsProto(body, kNow, &batch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return batch;
}

Status DecodeProtoStatus(const std::string& body) {
  LogBatch batch;
  batch.records.emplace_back();  // pre-existing content must survive a failure
  Status st = DecodeOtlpLogsProto(body, kNow, &batch);
  if (!st.ok()) {
    EXPECT_EQ(batch.records.size(), 1u);
    EXPECT_EQ(batch.rejected, 0);
  }
  return st;
}

// ---------------------------------------------------------------------------------------
// Protobuf decoding.

TEST(OtlpLogsProtoTest, FullRecordMapping) {
  Pb resource =
      Resource({Kv("service.name", AnyStr("checkout")),
                Kv("deployment.environment.name", AnyStr("prod")), Kv("host.name", AnyStr("web-1")),
                Kv("k8s.pod.name", AnyStr("pod-7")), Kv("ratio", AnyStr("resource-loses"))});
  LogBatch batch = DecodeProtoOk(
      Request({ResourceLogs(resource, {ScopeLogs(Scope("io.lib", "1.2.3"), {FullRecord()})})})
          .str());
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.rejected, 0);
  const LogRecord& r = batch.records[0];
  EXPECT_EQ(r.ts_ns, 1544712660300000000);
  EXPECT_EQ(r.observed_ns, kNow);
  EXPECT_EQ(r.severity_number, 17);
  EXPECT_EQ(r.level, Level::kError);
  EXPECT_EQ(r.body, "something failed");
  EXPECT_EQ(r.service, "checkout");
  EXPECT_EQ(r.env, "prod");
  EXPECT_EQ(r.host, "web-1");
  EXPECT_EQ(r.trace_id.Hex(), kTraceHex);
  EXPECT_EQ(r.span_id.Hex(), kSpanHex);
  EXPECT_EQ(*r.FindAttr("http.status"), AttrValue::Int(500));
  EXPECT_EQ(*r.FindAttr("ratio"), AttrValue::Double(0.5));  // log attribute wins
  EXPECT_EQ(*r.FindAttr("retry"), AttrValue::Bool(true));
  EXPECT_EQ(*r.FindAttr("tags"), AttrValue::String(R"(["a",-2,false])"));
  EXPECT_EQ(*r.FindAttr("ctx"), AttrValue::String(R"({"user":"u\"1","n":1.5})"));
  EXPECT_EQ(*r.FindAttr("raw"), AttrValue::String("AAH+"));
  EXPECT_EQ(*r.FindAttr("event.name"), AttrValue::String("app.failure"));
  EXPECT_EQ(*r.FindAttr("otel.scope.name"), AttrValue::String("io.lib"));
  EXPECT_EQ(*r.FindAttr("otel.scope.version"), AttrValue::String("1.2.3"));
  EXPECT_EQ(*r.FindAttr("k8s.pod.name"), AttrValue::String("pod-7"));
  EXPECT_EQ(r.FindAttr("service.name"), nullptr);
  EXPECT_EQ(r.FindAttr("host.name"), nullptr);
  EXPECT_EQ(r.FindAttr("deployment.environment.name"), nullptr);
  // Log attributes first, then event.name, scope, resource.
  std::vector<std::string> keys;
  for (const auto& a : r.attrs) keys.push_back(a.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"http.status", "ratio", "retry", "tags", "ctx", "raw",
                                            "event.name", "otel.scope.name", "otel.scope.version",
                                            "k8s.pod.name"}));
}

TEST(OtlpLogsProtoTest, SeveralResourcesAndScopes) {
  Pb rec = Pb().Msg(5, AnyStr("x"));
  Pb req = Request({
      ResourceLogs(Resource({Kv("service.name", AnyStr("a")), Kv("region", AnyStr("eu"))}),
                   {ScopeLogs(Scope("s1", ""), {rec, rec}), ScopeLogs(Scope("", ""), {rec})}),
      ResourceLogs(Resource({Kv("service.name", AnyStr("b")),
                             Kv("deployment.environment", AnyStr("staging"))}),
                   {ScopeLogs(Scope("s2", "v2"), {rec})}),
      ResourceLogs(Pb(), {ScopeLogs(Pb(), {rec})}),
  });
  LogBatch batch = DecodeProtoOk(req.str());
  ASSERT_EQ(batch.records.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(batch.records[i].service, "a");
    EXPECT_EQ(*batch.records[i].FindAttr("region"), AttrValue::String("eu"));
    EXPECT_EQ(batch.records[i].env, "");
  }
  EXPECT_EQ(*batch.records[0].FindAttr("otel.scope.name"), AttrValue::String("s1"));
  EXPECT_EQ(batch.records[0].FindAttr("otel.scope.version"), nullptr);
  EXPECT_EQ(batch.records[2].FindAttr("otel.scope.name"), nullptr);
  EXPECT_EQ(batch.records[3].service, "b");
  EXPECT_EQ(batch.records[3].env, "staging");
  EXPECT_EQ(batch.records[3].FindAttr("region"), nullptr);
  EXPECT_EQ(*batch.records[3].FindAttr("otel.scope.version"), AttrValue::String("v2"));
  EXPECT_EQ(batch.records[4].service, "");
  EXPECT_TRUE(batch.records[4].attrs.empty());
}

TEST(OtlpLogsProtoTest, FieldOrderDoesNotMatter) {
  // Scope logs before the resource, records before the scope.
  Pb scope_logs = Pb().Msg(2, Pb().Msg(5, AnyStr("x"))).Msg(1, Scope("late-scope", ""));
  Pb rl = Pb().Msg(2, scope_logs).Msg(1, Resource({Kv("service.name", AnyStr("late"))}));
  LogBatch batch = DecodeProtoOk(Pb().Msg(1, rl).str());
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].service, "late");
  EXPECT_EQ(*batch.records[0].FindAttr("otel.scope.name"), AttrValue::String("late-scope"));
}

TEST(OtlpLogsProtoTest, EnvPrefersNewKey) {
  for (bool name_first : {true, false}) {
    Pb a = Kv("deployment.environment.name", AnyStr("new"));
    Pb b = Kv("deployment.environment", AnyStr("old"));
    Pb res = name_first ? Resource({a, b}) : Resource({b, a});
    LogBatch batch = DecodeProtoOk(
        Request({ResourceLogs(res, {ScopeLogs(Pb(), {Pb().Msg(5, AnyStr("x"))})})}).str());
    ASSERT_EQ(batch.records.size(), 1u);
    EXPECT_EQ(batch.records[0].env, "new");
  }
}

TEST(OtlpLogsProtoTest, NonStringServiceNameStaysAttribute) {
  LogBatch batch = DecodeProtoOk(
      Request({ResourceLogs(Resource({Kv("service.name", AnyInt(7))}), {ScopeLogs(Pb(), {Pb()})})})
          .str());
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].service, "");
  EXPECT_EQ(*batch.records[0].FindAttr("service.name"), AttrValue::Int(7));
}

LogRecord DecodeOneRecord(const Pb& rec) {
  LogBatch batch = DecodeProtoOk(Request({ResourceLogs(Pb(), {ScopeLogs(Pb(), {rec})})}).str());
  EXPECT_EQ(batch.records.size(), 1u);
  return batch.records.empty() ? LogRecord() : batch.records[0];
}

TEST(OtlpLogsProtoTest, BodyKinds) {
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyStr("text"))).body, "text");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyInt(-42))).body, "-42");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyBool(true))).body, "true");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyDouble(2.5))).body, "2.5");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyDouble(NAN))).body, "\"NaN\"");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyBytes("hi"))).body, "\"aGk=\"");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, Pb())).body, "");
  EXPECT_EQ(DecodeOneRecord(Pb()).body, "");
  EXPECT_EQ(DecodeOneRecord(
                Pb().Msg(5, AnyKvlist({Kv("a", AnyInt(1)), Kv("b", AnyArray({AnyStr("x"), Pb()})),
                                       Kv("c", AnyKvlist({}))})))
                .body,
            R"({"a":1,"b":["x",null],"c":{}})");
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, AnyArray({}))).body, "[]");
  // oneof: the last member present wins.
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(5, Pb().Bytes(1, "first").Varint(3, 9))).body, "9");
}

TEST(OtlpLogsProtoTest, EmptyAttributeValuesDropped) {
  LogRecord r = DecodeOneRecord(Pb().Msg(6, Kv("empty", Pb())).Msg(6, Pb().Bytes(1, "novalue")));
  EXPECT_TRUE(r.attrs.empty());
}

TEST(OtlpLogsProtoTest, DuplicateAttributesLastWins) {
  LogRecord r = DecodeOneRecord(Pb().Msg(6, Kv("k", AnyInt(1))).Msg(6, Kv("k", AnyInt(2))));
  ASSERT_EQ(r.attrs.size(), 1u);
  EXPECT_EQ(r.attrs[0].value, AttrValue::Int(2));
}

TEST(OtlpLogsProtoTest, EventNameBeatsAttributeOfSameKey) {
  LogRecord r = DecodeOneRecord(Pb().Msg(6, Kv("event.name", AnyStr("attr"))).Bytes(12, "field"));
  ASSERT_EQ(r.attrs.size(), 1u);
  EXPECT_EQ(r.attrs[0].value, AttrValue::String("field"));
}

TEST(OtlpLogsProtoTest, TimeFallbacks) {
  EXPECT_EQ(DecodeOneRecord(Pb().Fixed64(1, 5).Fixed64(11, 7)).ts_ns, 5);
  EXPECT_EQ(DecodeOneRecord(Pb().Fixed64(11, 7)).ts_ns, 7);
  EXPECT_EQ(DecodeOneRecord(Pb().Fixed64(1, 0).Fixed64(11, 7)).ts_ns, 7);
  EXPECT_EQ(DecodeOneRecord(Pb()).ts_ns, 0);
  EXPECT_EQ(DecodeOneRecord(Pb().Fixed64(1, ~uint64_t{0})).ts_ns, 0);  // beyond int64
  EXPECT_EQ(DecodeOneRecord(Pb()).observed_ns, kNow);
}

TEST(OtlpLogsProtoTest, Severity) {
  LogRecord r = DecodeOneRecord(Pb().Varint(2, 9));
  EXPECT_EQ(r.level, Level::kInfo);
  EXPECT_EQ(r.severity_number, 9);
  r = DecodeOneRecord(Pb().Varint(2, 21).Bytes(3, "debug"));
  EXPECT_EQ(r.level, Level::kFatal);
  r = DecodeOneRecord(Pb().Bytes(3, "WARNING"));
  EXPECT_EQ(r.level, Level::kWarn);
  EXPECT_EQ(r.severity_number, 0);
  r = DecodeOneRecord(Pb().Varint(2, 99).Bytes(3, "error"));  // out of range: use text
  EXPECT_EQ(r.level, Level::kError);
  EXPECT_EQ(r.severity_number, 0);
  r = DecodeOneRecord(Pb().Varint(2, static_cast<uint64_t>(int64_t{-1})));
  EXPECT_EQ(r.level, Level::kUnknown);
  EXPECT_EQ(r.severity_number, 0);
  EXPECT_EQ(DecodeOneRecord(Pb().Bytes(3, "9")).level, Level::kUnknown);
  EXPECT_EQ(DecodeOneRecord(Pb().Bytes(3, "3")).level, Level::kError);
}

TEST(OtlpLogsProtoTest, UnknownFieldsSkipped) {
  Pb unknown = Pb().Varint(99, 12345)
                   .Fixed32(98, 7)
                   .Fixed64(97, 7)
                   .Bytes(96, "\xff\xff garbage that is not parsed")
                   .Varint(536870911, 1);  // largest field number
  Pb rec = Pb().Raw(unknown.str()).Msg(5, AnyStr("kept")).Raw(unknown.str());
  Pb any_with_unknown = Pb().Raw(unknown.str()).Bytes(1, "v").Varint(8, 3);  // 8: strindex
  Pb kv = Pb().Bytes(1, "k").Raw(unknown.str()).Msg(2, any_with_unknown).Varint(3, 1);
  rec.Msg(6, kv);
  Pb scope = Scope("s", "1").Raw(unknown.str());
  Pb sl = ScopeLogs(scope, {rec}).Bytes(3, "https://schema").Raw(unknown.str());
  Pb res = Resource({Kv("service.name", AnyStr("svc"))}).Varint(2, 3).Raw(unknown.str());
  Pb rl = ResourceLogs(res, {sl}).Bytes(3, "https://schema").Raw(unknown.str());
  Pb req = Pb().Raw(unknown.str()).Msg(1, rl).Raw(unknown.str());
  LogBatch batch = DecodeProtoOk(req.str());
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].body, "kept");
  EXPECT_EQ(batch.records[0].service, "svc");
  EXPECT_EQ(*batch.records[0].FindAttr("k"), AttrValue::String("v"));
}

TEST(OtlpLogsProtoTest, WrongWireTypeForKnownFieldIsSkipped) {
  // time_unix_nano sent as a varint, body as a varint: treated like unknown fields.
  LogRecord r = DecodeOneRecord(Pb().Varint(1, 5).Varint(5, 1).Fixed64(11, 9));
  EXPECT_EQ(r.ts_ns, 9);
  EXPECT_EQ(r.body, "");
}

TEST(OtlpLogsProtoTest, TruncatedInputIsAnError) {
  Pb req = Request({ResourceLogs(Resource({Kv("service.name", AnyStr("svc"))}),
                                 {ScopeLogs(Scope("s", "1"), {FullRecord(), FullRecord()})})});
  const std::string& full = req.str();
  ASSERT_TRUE(DecodeProtoStatus(full).ok());
  // Every proper prefix cuts the single top-level field short.
  for (size_t n = 1; n < full.size(); ++n) {
    Status st = DecodeProtoStatus(full.substr(0, n));
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << n;
    EXPECT_EQ(st.message().rfind("otlp protobuf: ", 0), 0u) << st.message();
  }
}

TEST(OtlpLogsProtoTest, MalformedWireData) {
  auto err = [](const std::string& body) {
    Status st = DecodeProtoStatus(body);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    return st.message();
  };
  EXPECT_NE(err("\x0b").find("groups"), std::string::npos);  // field 1, start group
  EXPECT_NE(err("\x0c").find("groups"), std::string::npos);  // field 1, end group
  EXPECT_NE(err("\x0e").find("wire type 6"), std::string::npos);
  EXPECT_NE(err("\x0f").find("wire type 7"), std::string::npos);
  EXPECT_NE(err(std::string("\x00\x01", 2)).find("field number"), std::string::npos);
  EXPECT_NE(err("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f").find("64 bits"),
            std::string::npos);  // 10-byte varint with too many bits
  EXPECT_NE(err("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01").find("64 bits"),
            std::string::npos);  // 11-byte varint
  EXPECT_NE(err("\x08\x80").find("truncated varint"), std::string::npos);
  EXPECT_NE(err("\x0a\x05\x01").find("length past the end"), std::string::npos);
  EXPECT_NE(err("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01").find("length past the end"),
            std::string::npos);  // 2^64-1 length
  EXPECT_NE(err("\x09\x01\x02").find("truncated fixed64"), std::string::npos);
  EXPECT_NE(err("\x0d\x01").find("truncated fixed32"), std::string::npos);
  // Errors deep inside carry their path.
  Pb bad_record = Pb().Raw("\x0b");
  std::string msg = err(Request({ResourceLogs(Pb(), {ScopeLogs(Pb(), {bad_record})})}).str());
  EXPECT_EQ(msg, "otlp protobuf: ResourceLogs: ScopeLogs: LogRecord: groups are not supported");
  // A valid 10-byte varint (negative int64) is fine.
  EXPECT_EQ(DecodeOneRecord(Pb().Msg(6, Kv("n", AnyInt(-1)))).attrs[0].value, AttrValue::Int(-1));
}

TEST(OtlpLogsProtoTest, BadIdLengthsRejectOnlyThatRecord) {
  Pb good = Pb().Msg(5, AnyStr("good")).Bytes(9, Hex(kTraceHex)).Bytes(10, Hex(kSpanHex));
  Pb bad_trace = Pb().Msg(5, AnyStr("bad")).Bytes(9, "short");
  Pb bad_span = Pb().Msg(5, AnyStr("bad")).Bytes(10, std::string(16, 'x'));
  Pb no_ids = Pb().Msg(5, AnyStr("none")).Bytes(9, "").Bytes(10, "");
  LogBatch batch;
  batch.reject_reason = "";
  ASSERT_TRUE(DecodeOtlpLogsProto(
                  Request({ResourceLogs(Resource({Kv("service.name", AnyStr("s"))}),
                                        {ScopeLogs(Scope("sc", ""),
                                                   {good, bad_trace, no_ids, bad_span, good})})})
                      .str(),
                  kNow, &batch)
                  .ok());
  ASSERT_EQ(batch.records.size(), 3u);
  EXPECT_EQ(batch.records[0].body, "good");
  EXPECT_EQ(batch.records[1].body, "none");
  EXPECT_TRUE(batch.records[1].trace_id.empty());
  EXPECT_TRUE(batch.records[1].span_id.empty());
  EXPECT_EQ(batch.records[2].body, "good");
  EXPECT_EQ(batch.records[2].service, "s");
  EXPECT_EQ(*batch.records[2].FindAttr("otel.scope.name"), AttrValue::String("sc"));
  EXPECT_EQ(batch.rejected, 2);
  EXPECT_EQ(batch.reject_reason, "log record 2: trace_id is 5 bytes, want 16");
}

Pb NestedArray(int depth) {
  Pb v = AnyInt(1);
  for (int i = 1; i < depth; ++i) v = AnyArray({v});
  return v;
}

TEST(OtlpLogsProtoTest, AnyValueNestingBound) {
  LogRecord r = DecodeOneRecord(Pb().Msg(5, NestedArray(kMaxOtlpAnyValueDepth)));
  EXPECT_EQ(r.body, std::string(kMaxOtlpAnyValueDepth - 1, '[') + "1" +
                        std::string(kMaxOtlpAnyValueDepth - 1, ']'));
  Status st = DecodeProtoStatus(
      Request({ResourceLogs(Pb(), {ScopeLogs(Pb(), {Pb().Msg(5, NestedArray(33))})})}).str());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("nesting"), std::string::npos);
  st =
      DecodeProtoStatus(Request({ResourceLogs(Resource({Kv("deep", NestedArray(40))}), {})}).str());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
}

TEST(OtlpLogsProtoTest, InvalidUtf8Repaired) {
  LogRecord r = DecodeOneRecord(
      Pb().Msg(5, AnyStr("ok \xff\xc3(")).Msg(6, Kv("k\x80", AnyStr("\xed\xa0\x80"))));
  EXPECT_EQ(r.body, "ok \xEF\xBF\xBD\xEF\xBF\xBD(");
  ASSERT_EQ(r.attrs.size(), 1u);
  EXPECT_EQ(r.attrs[0].key, "k\xEF\xBF\xBD");
  EXPECT_EQ(r.attrs[0].value, AttrValue::String("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
  r = DecodeOneRecord(Pb().Msg(5, AnyStr("h\xc3\xa9llo \xf0\x9f\x98\x80")));
  EXPECT_EQ(r.body, "h\xc3\xa9llo \xf0\x9f\x98\x80");
}

TEST(OtlpLogsProtoTest, EmptyBodyAndEmptyMessages) {
  LogBatch batch = DecodeProtoOk("");
  EXPECT_TRUE(batch.records.empty());
  batch = DecodeProtoOk(Request({ResourceLogs(Pb(), {})}).str());
  EXPECT_TRUE(batch.records.empty());
}

TEST(OtlpLogsProtoTest, FanOutBombStopped) {
  // 200 KB of resource attributes copied onto 20000 two-byte records would be 4 GB.
  Pb res = Resource({Kv("blob", AnyStr(std::string(200 << 10, 'x')))});
  Pb sl;
  for (int i = 0; i < 20000; ++i) sl.Msg(2, Pb());
  Pb req = Pb().Msg(1, Pb().Msg(1, res).Msg(2, sl));
  LogBatch batch;
  Status st = DecodeOtlpLogsProto(req.str(), kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
  EXPECT_TRUE(batch.records.empty());
}

TEST(OtlpLogsProtoTest, RecordCountCap) {
  std::string records;
  for (size_t i = 0; i <= kMaxOtlpLogRecords; ++i) records += std::string("\x12\x00", 2);
  Pb sl = Pb().Raw(records);
  LogBatch batch;
  Status st = DecodeOtlpLogsProto(Pb().Msg(1, Pb().Msg(2, sl)).str(), kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
  EXPECT_TRUE(batch.records.empty());
}

// ---------------------------------------------------------------------------------------
// JSON decoding.

LogBatch DecodeJsonOk(std::string_view body) {
  LogBatch batch;
  Status st = DecodeOtlpLogsJson(body, kNow, &batch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return batch;
}

Status DecodeJsonStatus(std::string_view body) {
  LogBatch batch;
  batch.records.emplace_back();
  Status st = DecodeOtlpLogsJson(body, kNow, &batch);
  if (!st.ok()) {
    EXPECT_EQ(batch.records.size(), 1u);
    EXPECT_EQ(batch.rejected, 0);
  }
  return st;
}

// opentelemetry-proto examples/logs.json, with severityNumber added.
constexpr char kExampleLogs[] = R"({
  "resourceLogs": [
    {
      "resource": {
        "attributes": [
          {"key": "service.name", "value": {"stringValue": "my.service"}}
        ]
      },
      "scopeLogs": [
        {
          "scope": {
            "name": "my.library",
            "version": "1.0.0",
            "attributes": [
              {"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}
            ]
          },
          "logRecords": [
            {
              "timeUnixNano": 1544712660300000000,
              "observedTimeUnixNano": 1544712660300000000,
              "severityNumber": 10,
              "severityText": "Information",
              "traceId": "5B8EFFF798038103D269B633813FC60C",
              "spanId": "EEE19B7EC3C1B174",
              "body": {"stringValue": "Example log record"},
              "attributes": [
                {"key": "string.attribute", "value": {"stringValue": "some string"}},
                {"key": "boolean.attribute", "value": {"boolValue": true}},
                {"key": "int.attribute", "value": {"intValue": 10}},
                {"key": "double.attribute", "value": {"doubleValue": 637.704}},
                {"key": "array.attribute",
                 "value": {"arrayValue": {"values": [{"stringValue": "many"},
                                                      {"stringValue": "values"}]}}},
                {"key": "map.attribute",
                 "value": {"kvlistValue": {"values": [
                   {"key": "some.map.key", "value": {"stringValue": "some value"}}]}}}
              ]
            }
          ]
        }
      ]
    }
  ]
})";

TEST(OtlpLogsJsonTest, ReferenceExample) {
  LogBatch batch = DecodeJsonOk(kExampleLogs);
  ASSERT_EQ(batch.records.size(), 1u);
  const LogRecord& r = batch.records[0];
  EXPECT_EQ(r.ts_ns, 1544712660300000000);
  EXPECT_EQ(r.observed_ns, kNow);
  EXPECT_EQ(r.severity_number, 10);
  EXPECT_EQ(r.level, Level::kInfo);
  EXPECT_EQ(r.body, "Example log record");
  EXPECT_EQ(r.service, "my.service");
  EXPECT_EQ(r.trace_id.Hex(), kTraceHex);
  EXPECT_EQ(r.span_id.Hex(), kSpanHex);
  EXPECT_EQ(*r.FindAttr("string.attribute"), AttrValue::String("some string"));
  EXPECT_EQ(*r.FindAttr("boolean.attribute"), AttrValue::Bool(true));
  EXPECT_EQ(*r.FindAttr("int.attribute"), AttrValue::Int(10));
  EXPECT_EQ(*r.FindAttr("double.attribute"), AttrValue::Double(637.704));
  EXPECT_EQ(*r.FindAttr("array.attribute"), AttrValue::String(R"(["many","values"])"));
  EXPECT_EQ(*r.FindAttr("map.attribute"), AttrValue::String(R"({"some.map.key":"some value"})"));
  EXPECT_EQ(*r.FindAttr("otel.scope.name"), AttrValue::String("my.library"));
  EXPECT_EQ(*r.FindAttr("otel.scope.version"), AttrValue::String("1.0.0"));
  EXPECT_EQ(r.attrs.size(), 8u);
}

TEST(OtlpLogsJsonTest, MatchesProtobufDecoding) {
  const char* json = R"({"resourceLogs":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"checkout"}},
      {"key":"deployment.environment.name","value":{"stringValue":"prod"}},
      {"key":"host.name","value":{"stringValue":"web-1"}},
      {"key":"k8s.pod.name","value":{"stringValue":"pod-7"}},
      {"key":"ratio","value":{"stringValue":"resource-loses"}}]},
    "scopeLogs":[{"scope":{"name":"io.lib","version":"1.2.3"},"logRecords":[{
      "timeUnixNano":"1544712660300000000","severityNumber":17,"severityText":"Error",
      "body":{"stringValue":"something failed"},
      "attributes":[
        {"key":"http.status","value":{"intValue":"500"}},
        {"key":"ratio","value":{"doubleValue":0.5}},
        {"key":"retry","value":{"boolValue":true}},
        {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"-2"},
                                                       {"boolValue":false}]}}},
        {"key":"ctx","value":{"kvlistValue":{"values":[
          {"key":"user","value":{"stringValue":"u\"1"}},{"key":"n","value":{"doubleValue":1.5}}]}}},
        {"key":"raw","value":{"bytesValue":"AAH+"}}],
      "droppedAttributesCount":0,"flags":1,
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "observedTimeUnixNano":"1544712660400000000","eventName":"app.failure"}]}]}]})";
  LogBatch from_json = DecodeJsonOk(json);
  Pb resource =
      Resource({Kv("service.name", AnyStr("checkout")),
                Kv("deployment.environment.name", AnyStr("prod")), Kv("host.name", AnyStr("web-1")),
                Kv("k8s.pod.name", AnyStr("pod-7")), Kv("ratio", AnyStr("resource-loses"))});
  LogBatch from_proto = DecodeProtoOk(
      Request({ResourceLogs(resource, {ScopeLogs(Scope("io.lib", "1.2.3"), {FullRecord()})})})
          .str());
  ASSERT_EQ(from_json.records.size(), 1u);
  ASSERT_EQ(from_proto.records.size(), 1u);
  const LogRecord& a = from_json.records[0];
  const LogRecord& b = from_proto.records[0];
  EXPECT_EQ(a.ts_ns, b.ts_ns);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.severity_number, b.severity_number);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.span_id, b.span_id);
  ASSERT_EQ(a.attrs.size(), b.attrs.size());
  for (size_t i = 0; i < a.attrs.size(); ++i) {
    EXPECT_EQ(a.attrs[i].key, b.attrs[i].key);
    EXPECT_EQ(a.attrs[i].value, b.attrs[i].value) << a.attrs[i].key;
  }
}

TEST(OtlpLogsJsonTest, Int64AsStringOrNumber) {
  LogBatch batch = DecodeJsonOk(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"timeUnixNano":"1700000000000000001","attributes":[
        {"key":"a","value":{"intValue":"-9223372036854775808"}},
        {"key":"b","value":{"intValue":9223372036854775807}}]},
      {"timeUnixNano":1700000000000000002},
      {"observedTimeUnixNano":"1700000000000000003"},
      {"timeUnixNano":1.7e18},
      {"timeUnixNano":"0","observedTimeUnixNano":0}]}]}]})");
  ASSERT_EQ(batch.records.size(), 5u);
  EXPECT_EQ(batch.records[0].ts_ns, 1700000000000000001);
  EXPECT_EQ(*batch.records[0].FindAttr("a"), AttrValue::Int(INT64_MIN));
  EXPECT_EQ(*batch.records[0].FindAttr("b"), AttrValue::Int(INT64_MAX));
  EXPECT_EQ(batch.records[1].ts_ns, 1700000000000000002);
  EXPECT_EQ(batch.records[2].ts_ns, 1700000000000000003);
  EXPECT_EQ(batch.records[3].ts_ns, 1700000000000000000);
  EXPECT_EQ(batch.records[4].ts_ns, 0);
}

TEST(OtlpLogsJsonTest, DoublesIncludingSpecialStrings) {
  LogBatch batch = DecodeJsonOk(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"attributes":[{"key":"nan","value":{"doubleValue":"NaN"}},
                     {"key":"inf","value":{"doubleValue":"Infinity"}},
                     {"key":"ninf","value":{"doubleValue":"-Infinity"}},
                     {"key":"str","value":{"doubleValue":"1.25"}},
                     {"key":"int","value":{"doubleValue":3}}]}]}]}]})");
  ASSERT_EQ(batch.records.size(), 1u);
  const LogRecord& r = batch.records[0];
  EXPECT_TRUE(std::isnan(r.FindAttr("nan")->d));
  EXPECT_EQ(r.FindAttr("inf")->d, INFINITY);
  EXPECT_EQ(r.FindAttr("ninf")->d, -INFINITY);
  EXPECT_EQ(*r.FindAttr("str"), AttrValue::Double(1.25));
  EXPECT_EQ(*r.FindAttr("int"), AttrValue::Double(3));
}

TEST(OtlpLogsJsonTest, Base64Ids) {
  // 5b8efff798038103d269b633813fc60c / eee19b7ec3c1b174 in base64.
  LogBatch batch = DecodeJsonOk(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ="},
      {"traceId":"W47_95gDgQPSabYzgT_GDA","spanId":"7uGbfsPBsXQ"}]}]}]})");
  ASSERT_EQ(batch.records.size(), 2u);
  for (const LogRecord& r : batch.records) {
    EXPECT_EQ(r.trace_id.Hex(), kTraceHex);
    EXPECT_EQ(r.span_id.Hex(), kSpanHex);
  }
}

TEST(OtlpLogsJsonTest, BadIdsRejectOnlyThatRecord) {
  LogBatch batch = DecodeJsonOk(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"body":{"stringValue":"ok"},"traceId":"5b8efff798038103d269b633813fc60c"},
      {"body":{"stringValue":"bad"},"traceId":"xyz"},
      {"body":{"stringValue":"bad"},"traceId":"5b8efff798038103d269b633813fc60c",
       "spanId":"eee19b7ec3c1b17g"},
      {"body":{"stringValue":"empty ids"},"traceId":"","spanId":""}]}]}]})");
  ASSERT_EQ(batch.records.size(), 2u);
  EXPECT_EQ(batch.records[0].body, "ok");
  EXPECT_EQ(batch.records[1].body, "empty ids");
  EXPECT_EQ(batch.rejected, 2);
  EXPECT_EQ(batch.reject_reason, "log record 2: invalid traceId \"xyz\" (want 32 hex digits)");
}

TEST(OtlpLogsJsonTest, UnknownKeysAndNullsIgnored) {
  LogBatch batch = DecodeJsonOk(R"({"future":{"a":[1,{"b":[]}]},"resourceLogs":[{
      "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}],
                  "droppedAttributesCount":0,"entityRefs":[{"type":"x"}]},
      "schemaUrl":"https://x","scopeLogs":[{"scope":null,"logRecords":[
        {"body":null,"somethingNew":{"deep":[[[]]]},"attributes":null,
         "severityNumber":"SEVERITY_NUMBER_INFO","severityText":"warn","flags":0}]}]}]})");
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].service, "s");
  EXPECT_EQ(batch.records[0].level, Level::kWarn);
  EXPECT_EQ(batch.records[0].body, "");
}

TEST(OtlpLogsJsonTest, SnakeCaseKeysAccepted) {
  LogBatch batch = DecodeJsonOk(R"({"resource_logs":[{"scope_logs":[{"log_records":[
      {"time_unix_nano":"5","severity_number":13,"body":{"string_value":"x"},
       "attributes":[{"key":"k","value":{"int_value":"1"}}]}]}]}]})");
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].ts_ns, 5);
  EXPECT_EQ(batch.records[0].level, Level::kWarn);
  EXPECT_EQ(batch.records[0].body, "x");
  EXPECT_EQ(*batch.records[0].FindAttr("k"), AttrValue::Int(1));
}

TEST(OtlpLogsJsonTest, BodyKindsAndBareKvlistArray) {
  LogBatch batch = DecodeJsonOk(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"body":{"kvlistValue":[{"key":"type","value":{"intValue":"0"}},
                              {"key":"url","value":{"stringValue":"https://x"}}]}},
      {"body":{"arrayValue":{"values":[{"intValue":1},{},{"kvlistValue":{}}]}}},
      {"body":{"intValue":"7"}},
      {"body":{"bytesValue":"aGk="}},
      {"body":{}}]}]}]})");
  ASSERT_EQ(batch.records.size(), 5u);
  EXPECT_EQ(batch.records[0].body, R"({"type":0,"url":"https://x"})");
  EXPECT_EQ(batch.records[1].body, R"([1,null,{}])");
  EXPECT_EQ(batch.records[2].body, "7");
  EXPECT_EQ(batch.records[3].body, "\"aGk=\"");
  EXPECT_EQ(batch.records[4].body, "");
}

TEST(OtlpLogsJsonTest, OrderIndependence) {
  LogBatch batch = DecodeJsonOk(R"({"resourceLogs":[{
      "scopeLogs":[{"logRecords":[{"attributes":[{"value":{"intValue":"1"},"key":"k"}]}],
                    "scope":{"version":"2","name":"late"}}],
      "resource":{"attributes":[{"value":{"stringValue":"svc"},"key":"service.name"}]}}]})");
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].service, "svc");
  EXPECT_EQ(*batch.records[0].FindAttr("k"), AttrValue::Int(1));
  EXPECT_EQ(*batch.records[0].FindAttr("otel.scope.name"), AttrValue::String("late"));
}

TEST(OtlpLogsJsonTest, EmptyBodies) {
  EXPECT_TRUE(DecodeJsonOk("").records.empty());
  EXPECT_TRUE(DecodeJsonOk("  \n").records.empty());
  EXPECT_TRUE(DecodeJsonOk("{}").records.empty());
  EXPECT_TRUE(DecodeJsonOk(R"({"resourceLogs":[]})").records.empty());
}

TEST(OtlpLogsJsonTest, MalformedIsAnError) {
  for (const char* body : {
           "[]",
           "nope",
           R"({"resourceLogs":{}})",
           R"({"resourceLogs":[1]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"12x"}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":true}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"1.5"}}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"boolValue":"yes"}}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":1}]}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":7}]}]}]})",
           R"({"resourceLogs":[]} {})",
           R"({"resourceLogs":[)",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{},]}]}]})",
           "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"\xff\"}]}]}]}",
       }) {
    SCOPED_TRACE(body);
    Status st = DecodeJsonStatus(body);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_EQ(st.message().rfind("otlp json: ", 0), 0u) << st.message();
  }
}

TEST(OtlpLogsJsonTest, AnyValueNestingBound) {
  auto nested = [](int depth) {
    std::string v = R"({"intValue":1})";
    for (int i = 1; i < depth; ++i) v = R"({"arrayValue":{"values":[)" + v + "]}}";
    return R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + v + "}]}]}]}";
  };
  LogBatch batch = DecodeJsonOk(nested(kMaxOtlpAnyValueDepth));
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].body.size(), 2 * (kMaxOtlpAnyValueDepth - 1) + 1u);
  Status st = DecodeJsonStatus(nested(kMaxOtlpAnyValueDepth + 1));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("nesting"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Responses.

TEST(OtlpLogsResponseTest, Proto) {
  EXPECT_EQ(EncodeLogsResponseProto(0, ""), "");
  EXPECT_EQ(EncodeLogsResponseProto(3, ""), std::string("\x0a\x02\x08\x03", 4));
  EXPECT_EQ(EncodeLogsResponseProto(0, "warn"), std::string("\x0a\x06\x12\x04warn", 8));
  EXPECT_EQ(EncodeLogsResponseProto(300, "x"), std::string("\x0a\x06\x08\xac\x02\x12\x01x", 8));
}

TEST(OtlpLogsResponseTest, Json) {
  EXPECT_EQ(EncodeLogsResponseJson(0, ""), "{}");
  EXPECT_EQ(EncodeLogsResponseJson(3, "bad \"id\""),
            R"({"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"bad \"id\""}})");
  EXPECT_EQ(EncodeLogsResponseJson(2, ""), R"({"partialSuccess":{"rejectedLogRecords":"2"}})");
  EXPECT_EQ(EncodeLogsResponseJson(0, "w"), R"({"partialSuccess":{"errorMessage":"w"}})");
}

TEST(OtlpLogsResponseTest, RpcStatus) {
  EXPECT_EQ(EncodeRpcStatusProto(3, "bad"), std::string("\x08\x03\x12\x03"
                                                        "bad",
                                                        7));
  EXPECT_EQ(EncodeRpcStatusProto(0, ""), "");
  EXPECT_EQ(EncodeRpcStatusProto(-1, ""),
            std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));
  EXPECT_EQ(EncodeRpcStatusJson(8, "slow down\n"), R"({"code":8,"message":"slow down\n"})");
}

TEST(OtlpLogsResponseTest, RoundTripThroughOwnDecoder) {
  // The partial-success message decodes with the same wire reader rules.
  std::string resp = EncodeLogsResponseProto(5, "msg");
  Reader r(resp);
  uint64_t tag = 0;
  std::string_view inner;
  ASSERT_TRUE(r.GetVarint64(&tag));
  EXPECT_EQ(tag, 0x0au);
  ASSERT_TRUE(r.GetLengthPrefixed(&inner));
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(inner, std::string_view("\x08\x05\x12\x03msg", 7));
}

}  // namespace
}  // namespace sightline::ingest
