#include "ingest/sentry_items.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "ingest/sentry.h"

namespace sightline::ingest {
namespace {

using model::AttrValue;
using model::Level;
using model::LogBatch;
using model::LogRecord;
using model::Span;
using model::SpanBatch;
using model::SpanKind;
using model::StatusCode;

constexpr int64_t kNow = 1'800'000'000'000'000'000;
const std::string kDefault = "svc-default";

// Fixtures: python_* from the Debian python3-sentry-sdk 1.9.10, node_* from @sentry/node
// 11.12.0 (tests/sentry/fixture_script.js), both captured by a loopback server.
std::string Fixture(std::string_view name) {
  std::string dir = __FILE__;
  dir.resize(dir.rfind('/') + 1);
  std::string body;
  const Status st = ReadFileToString(dir + "testdata/sentry/" + std::string(name), &body);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return body;
}

// The payload of the only item of type `type` in an envelope fixture. `storage` keeps the
// envelope body alive (items point into it).
std::string_view ItemPayload(std::string_view fixture, std::string_view type,
                             std::string* storage) {
  *storage = Fixture(fixture);
  SentryEnvelope env;
  const Status st = ParseSentryEnvelope(*storage, &env);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::string_view payload;
  int n = 0;
  for (const SentryEnvelopeItem& item : env.items) {
    if (item.type == type) {
      payload = item.payload;
      ++n;
    }
  }
  EXPECT_EQ(n, 1) << fixture << " has " << n << " items of type " << type;
  return payload;
}

// The text form of attribute `key` ("<absent>" if missing), with a type tag so that tests
// check typing: "s:text", "i:42", "d:1.5", "b:true".
std::string AttrOf(const AttrValue* v) {
  if (v == nullptr) return "<absent>";
  switch (v->type) {
    case AttrValue::Type::kString:
      return "s:" + v->str;
    case AttrValue::Type::kInt:
      return "i:" + v->ToText();
    case AttrValue::Type::kDouble:
      return "d:" + v->ToText();
    case AttrValue::Type::kBool:
      return "b:" + v->ToText();
  }
  return "?";
}
std::string SpanAttr(const Span& s, std::string_view key) {
  for (const auto& a : s.attrs) {
    if (a.key == key) return AttrOf(&a.value);
  }
  return "<absent>";
}
std::string ResAttr(const Span& s, std::string_view key) {
  for (const auto& a : s.resource_attrs()) {
    if (a.key == key) return AttrOf(&a.value);
  }
  return "<absent>";
}
std::string LogAttr(const LogRecord& r, std::string_view key) { return AttrOf(r.FindAttr(key)); }

SpanBatch Transaction(std::string_view json) {
  SpanBatch b;
  const Status st = DecodeSentryTransaction(json, kNow, kDefault, &b);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return b;
}
SpanBatch Spans(std::string_view json) {
  SpanBatch b;
  const Status st = DecodeSentrySpans(json, kNow, kDefault, &b);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return b;
}
LogBatch Logs(std::string_view json) {
  LogBatch b;
  const Status st = DecodeSentryLogs(json, kNow, kDefault, &b);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return b;
}

// ---------------------------------------------------------------------------------------
// Transactions.

TEST(SentryTransactionTest, PythonFixture) {
  std::string body;
  const SpanBatch b =
      Transaction(ItemPayload("python_envelope_transaction.envelope", "transaction", &body));
  EXPECT_EQ(b.rejected, 0);
  ASSERT_EQ(b.spans.size(), 1u);  // python sent "spans": []
  const Span& s = b.spans[0];
  EXPECT_EQ(s.trace_id.Hex(), "1cebe7a80d3646d0a6515c0157b79f8a");
  EXPECT_EQ(s.span_id.Hex(), "8c09fa280eb63fd7");
  EXPECT_TRUE(s.parent_span_id.empty());  // "parent_span_id": null
  EXPECT_EQ(s.name, "job");
  EXPECT_EQ(s.kind, SpanKind::kInternal);      // op "task"
  EXPECT_EQ(s.start_ns, 1795612243276348000);  // 2026-11-25T13:10:43.276348Z
  EXPECT_EQ(s.end_ns, 1795612243393637000);    // 2026-11-25T13:10:43.393637Z
  EXPECT_EQ(s.status_code, StatusCode::kUnset);
  EXPECT_EQ(s.service, kDefault);
  EXPECT_EQ(SpanAttr(s, "sentry.op"), "s:task");
  EXPECT_EQ(SpanAttr(s, "sentry.source"), "s:custom");
  EXPECT_EQ(SpanAttr(s, "sentry.description"), "<absent>");  // null
  EXPECT_EQ(SpanAttr(s, "tier"), "s:backend");
  EXPECT_EQ(SpanAttr(s, "user.id"), "s:u1");
  EXPECT_EQ(SpanAttr(s, "user.email"), "s:a@b.c");
  EXPECT_EQ(ResAttr(s, "service.version"), "s:myapp@1.0.0");
  EXPECT_EQ(ResAttr(s, "deployment.environment"), "s:staging");
  EXPECT_EQ(ResAttr(s, "host.name"), "s:testhost");
  EXPECT_EQ(ResAttr(s, "telemetry.sdk.name"), "s:sentry.python");
  EXPECT_EQ(ResAttr(s, "telemetry.sdk.version"), "s:1.9.10");
  EXPECT_EQ(s.resource_attrs().size(), 5u);
}

TEST(SentryTransactionTest, NodeStaticFixture) {
  std::string body;
  const SpanBatch b =
      Transaction(ItemPayload("node_transaction_static.envelope", "transaction", &body));
  EXPECT_EQ(b.rejected, 0);
  ASSERT_EQ(b.spans.size(), 2u);
  const Span& root = b.spans[0];
  const Span& child = b.spans[1];
  EXPECT_EQ(root.trace_id.Hex(), "69d47a0929c442dfbefc932155aa2231");
  EXPECT_EQ(root.span_id.Hex(), "9447ab301e7bf718");
  EXPECT_TRUE(root.parent_span_id.empty());
  EXPECT_EQ(root.name, "checkout");
  EXPECT_EQ(root.status_code, StatusCode::kOk);
  EXPECT_EQ(root.start_ns, 1795615565447085000);  // 1795615565.447085
  EXPECT_EQ(root.end_ns, 1795615565456470000);    // 1795615565.4564695, rounded to the µs
  EXPECT_EQ(SpanAttr(root, "sentry.origin"), "s:manual");
  EXPECT_EQ(SpanAttr(root, "sentry.sample_rate"), "i:1");  // contexts.trace.data, typed
  EXPECT_EQ(SpanAttr(root, "sentry.segment.name.source"), "s:custom");
  EXPECT_EQ(SpanAttr(root, "tier"), "s:frontend");

  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_EQ(child.span_id.Hex(), "a2b8eb9bb521f864");
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_EQ(child.name, "load cart");        // description
  EXPECT_EQ(child.kind, SpanKind::kClient);  // op db.query
  EXPECT_EQ(child.status_code, StatusCode::kOk);
  EXPECT_EQ(child.start_ns, 1795615565449729000);  // 1795615565.4497287, rounded to the µs
  EXPECT_EQ(child.end_ns, 1795615565450043000);    // 1795615565.450043
  EXPECT_EQ(SpanAttr(child, "sentry.op"), "s:db.query");
  EXPECT_EQ(SpanAttr(child, "sentry.description"), "s:load cart");
  EXPECT_EQ(SpanAttr(child, "tier"), "<absent>");  // the event's tags stay on the root
  EXPECT_EQ(child.service, kDefault);

  // One resource list, shared.
  ASSERT_NE(root.resource, nullptr);
  EXPECT_EQ(root.resource.get(), child.resource.get());
  EXPECT_EQ(ResAttr(child, "telemetry.sdk.name"), "s:sentry.javascript.node");
  EXPECT_EQ(ResAttr(child, "telemetry.sdk.version"), "s:11.12.0");
  EXPECT_EQ(ResAttr(child, "service.version"), "s:myapp@2.0.0");
  EXPECT_EQ(ResAttr(child, "host.name"), "s:testhost");
}

// A python 1.9-style transaction with child spans (the captured one had none): ISO times,
// data/tags, error statuses, a child without parent_span_id or trace_id.
TEST(SentryTransactionTest, ChildSpansMapping) {
  const SpanBatch b = Transaction(R"({
    "type":"transaction","transaction":"GET /orders",
    "contexts":{"trace":{"trace_id":"0123456789ABCDEF0123456789abcdef","span_id":"1111111111111111",
      "parent_span_id":"2222222222222222","op":"http.server","status":"internal_error",
      "description":"GET /orders","origin":"auto.http",
      "data":{"http.method":"GET","http.status_code":500,"ratio":0.25,"flag":true,
              "list":[1,"a"],"obj":{"k":null}}}},
    "tags":{"service":"orders","tier":"backend"},
    "start_timestamp":"2026-11-25T13:10:43.000001Z","timestamp":"2026-11-25T13:10:44Z",
    "release":"orders@3.1","environment":"prod","server_name":"web-1",
    "sdk":{"name":"sentry.python","version":"1.9.10"},
    "spans":[
      {"trace_id":"0123456789abcdef0123456789abcdef","span_id":"3333333333333333",
       "parent_span_id":"1111111111111111","same_process_as_parent":true,"op":"db",
       "description":"SELECT 1","start_timestamp":"2026-11-25T13:10:43.1Z",
       "timestamp":"2026-11-25T13:10:43.2Z","status":"deadline_exceeded",
       "tags":{"db.system":"postgresql"},"data":{"db.rows":3}},
      {"span_id":"4444444444444444","op":"http.client","description":"",
       "start_timestamp":1795612243.5,"status":"ok"},
      {"span_id":"5555555555555555","op":"template.render","status":"unknown",
       "data":{"service.name":"renderer"},"start_timestamp":1795612243.25,
       "timestamp":1795612243.75},
      {"span_id":"6666666666666666","op":"queue.task","status":"cancelled",
       "data":{"sentry.kind":"PRODUCER"}}
    ]})");
  EXPECT_EQ(b.rejected, 0) << b.reject_reason;
  ASSERT_EQ(b.spans.size(), 5u);
  const Span& root = b.spans[0];
  EXPECT_EQ(root.trace_id.Hex(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(root.parent_span_id.Hex(), "2222222222222222");
  EXPECT_EQ(root.name, "GET /orders");
  EXPECT_EQ(root.kind, SpanKind::kServer);
  EXPECT_EQ(root.status_code, StatusCode::kError);
  EXPECT_EQ(root.status_message, "internal_error");
  EXPECT_EQ(root.service, "orders");  // the "service" tag
  EXPECT_EQ(root.start_ns, 1795612243000001000);
  EXPECT_EQ(root.end_ns, 1795612244000000000);
  EXPECT_EQ(SpanAttr(root, "sentry.op"), "s:http.server");
  EXPECT_EQ(SpanAttr(root, "sentry.origin"), "s:auto.http");
  EXPECT_EQ(SpanAttr(root, "sentry.description"), "s:GET /orders");
  EXPECT_EQ(SpanAttr(root, "http.method"), "s:GET");
  EXPECT_EQ(SpanAttr(root, "http.status_code"), "i:500");
  EXPECT_EQ(SpanAttr(root, "ratio"), "d:0.25");
  EXPECT_EQ(SpanAttr(root, "flag"), "b:true");
  EXPECT_EQ(SpanAttr(root, "list"), R"(s:[1,"a"])");
  EXPECT_EQ(SpanAttr(root, "obj"), R"(s:{"k":null})");
  EXPECT_EQ(SpanAttr(root, "service"), "s:orders");
  EXPECT_EQ(ResAttr(root, "service.version"), "s:orders@3.1");
  EXPECT_EQ(ResAttr(root, "deployment.environment"), "s:prod");
  EXPECT_EQ(ResAttr(root, "host.name"), "s:web-1");

  const Span& db = b.spans[1];
  EXPECT_EQ(db.name, "SELECT 1");
  EXPECT_EQ(db.kind, SpanKind::kClient);
  EXPECT_EQ(db.parent_span_id, root.span_id);
  EXPECT_EQ(db.status_code, StatusCode::kError);
  EXPECT_EQ(db.status_message, "deadline_exceeded");
  EXPECT_EQ(db.start_ns, 1795612243100000000);
  EXPECT_EQ(db.end_ns, 1795612243200000000);
  EXPECT_EQ(SpanAttr(db, "db.system"), "s:postgresql");
  EXPECT_EQ(SpanAttr(db, "db.rows"), "i:3");
  EXPECT_EQ(db.service, "orders");  // inherited from the transaction

  const Span& http = b.spans[2];
  EXPECT_EQ(http.trace_id, root.trace_id);       // no trace_id: the transaction's
  EXPECT_EQ(http.parent_span_id, root.span_id);  // no parent: the transaction span
  EXPECT_EQ(http.name, "http.client");           // empty description: the op
  EXPECT_EQ(http.kind, SpanKind::kClient);
  EXPECT_EQ(http.status_code, StatusCode::kOk);
  EXPECT_EQ(http.start_ns, 1795612243500000000);
  EXPECT_EQ(http.end_ns, http.start_ns);  // no end: the start

  const Span& render = b.spans[3];
  EXPECT_EQ(render.kind, SpanKind::kInternal);
  EXPECT_EQ(render.status_code, StatusCode::kUnset);  // "unknown"
  EXPECT_EQ(render.service, "renderer");              // service.name data entry
  EXPECT_EQ(SpanAttr(render, "service.name"), "<absent>");
  EXPECT_EQ(render.start_ns, 1795612243250000000);
  EXPECT_EQ(render.end_ns, 1795612243750000000);

  const Span& task = b.spans[4];
  EXPECT_EQ(task.kind, SpanKind::kProducer);  // explicit sentry.kind beats the op
  EXPECT_EQ(task.status_code, StatusCode::kError);
  EXPECT_EQ(task.status_message, "cancelled");
  EXPECT_EQ(task.start_ns, kNow);  // no start: now
  EXPECT_EQ(task.end_ns, kNow);

  for (const Span& s : b.spans) EXPECT_EQ(s.resource.get(), root.resource.get());
}

TEST(SentryTransactionTest, ServiceNameTagWinsAndAppends) {
  SpanBatch b;
  b.spans.emplace_back();  // existing content is kept
  b.rejected = 2;
  b.reject_reason = "earlier";
  const Status st = DecodeSentryTransaction(
      R"({"transaction":"t","tags":{"service":"a","service.name":"b"},
          "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef",
                               "span_id":"1111111111111111","op":"http.client"}},
          "spans":[{"span_id":"zz"}]})",
      kNow, kDefault, &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 2u);
  EXPECT_EQ(b.spans[1].service, "b");
  EXPECT_EQ(b.spans[1].kind, SpanKind::kClient);
  EXPECT_EQ(b.spans[1].start_ns, kNow);
  EXPECT_EQ(b.spans[1].resource, nullptr);  // no release, environment, ... -> no resource
  EXPECT_EQ(b.rejected, 3);
  EXPECT_EQ(b.reject_reason, "earlier");
}

TEST(SentryTransactionTest, RejectsSpansWithoutUsableIds) {
  const SpanBatch b = Transaction(R"({"transaction":"t","spans":[
      {"trace_id":"0123456789abcdef0123456789abcdef","span_id":"1111111111111111"},
      {"span_id":"2222222222222222"},
      {"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000000"},
      {"trace_id":"0123456789abcdef0123456789abcdef","span_id":"0000000000000000"},
      {"trace_id":"not hex","span_id":"3333333333333333"},
      {"trace_id":"0123456789abcdef0123456789abcdef","span_id":12},
      "x", null, 7]})");
  // The transaction itself (no contexts.trace) and everything but the first child.
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.spans[0].span_id.Hex(), "1111111111111111");
  EXPECT_TRUE(b.spans[0].parent_span_id.empty());  // no transaction span to hang under
  EXPECT_EQ(b.rejected, 9);
  EXPECT_EQ(b.reject_reason, "sentry transaction: transaction: no contexts.trace");

  const SpanBatch c = Transaction(
      R"({"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"x"}},
          "spans":[{"span_id":"2222222222222222"}]})");
  // The child still gets the transaction's trace id; its parent cannot be set.
  ASSERT_EQ(c.spans.size(), 1u);
  EXPECT_EQ(c.spans[0].trace_id.Hex(), "0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(c.spans[0].parent_span_id.empty());
  EXPECT_EQ(c.rejected, 1);
  EXPECT_EQ(c.reject_reason, "sentry transaction: transaction: invalid span_id");

  const SpanBatch d =
      Transaction(R"({"contexts":{"trace":{"trace_id":"00000000000000000000000000000000",
                                            "span_id":"1111111111111111"}},"spans":[{}]})");
  EXPECT_TRUE(d.spans.empty());
  EXPECT_EQ(d.rejected, 2);
  EXPECT_EQ(d.reject_reason, "sentry transaction: transaction: invalid trace_id");
}

TEST(SentryTransactionTest, WrongTypesAreIgnored) {
  const SpanBatch b = Transaction(
      R"({"transaction":5,"tags":"x","spans":{"a":1},"release":["r"],"sdk":"s",
          "start_timestamp":true,"timestamp":-5,"user":[1],
          "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef",
            "span_id":"1111111111111111","op":7,"status":false,"data":3}}})");
  EXPECT_EQ(b.rejected, 0);
  ASSERT_EQ(b.spans.size(), 1u);
  const Span& s = b.spans[0];
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.start_ns, kNow);
  EXPECT_EQ(s.end_ns, kNow);
  EXPECT_EQ(s.kind, SpanKind::kInternal);
  EXPECT_EQ(s.status_code, StatusCode::kUnset);
  EXPECT_TRUE(s.attrs.empty());
  EXPECT_EQ(s.resource, nullptr);
}

TEST(SentryTransactionTest, OutOfRangeTimesAreMissing) {
  const SpanBatch b = Transaction(
      R"({"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef",
          "span_id":"1111111111111111"}},"start_timestamp":1e300,"timestamp":"not a time",
          "spans":[{"span_id":"2222222222222222","start_timestamp":9300000000,
                    "timestamp":1795612243},
                   {"span_id":"3333333333333333","start_timestamp":0,
                    "timestamp":18446744073709551615}]})");
  ASSERT_EQ(b.spans.size(), 3u);
  EXPECT_EQ(b.spans[0].start_ns, kNow);
  EXPECT_EQ(b.spans[0].end_ns, kNow);
  EXPECT_EQ(b.spans[1].start_ns, kNow);  // past year 2262
  EXPECT_EQ(b.spans[1].end_ns, 1795612243000000000);
  EXPECT_EQ(b.spans[2].start_ns, kNow);
  EXPECT_EQ(b.spans[2].end_ns, kNow);
}

TEST(SentryTransactionTest, CapsSpansPerItem) {
  std::string json =
      R"({"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef",
          "span_id":"1111111111111111"}},"spans":[)";
  for (size_t i = 0; i < kMaxSentrySpansPerItem + 1; ++i) {
    if (i > 0) json += ',';
    json += R"({"span_id":"2222222222222222","op":"x"})";
  }
  json += "]}";
  const SpanBatch b = Transaction(json);
  EXPECT_EQ(b.spans.size(), kMaxSentrySpansPerItem);  // the transaction counts
  EXPECT_EQ(b.rejected, 2);
  EXPECT_EQ(b.reject_reason, "sentry transaction: span 10000: more than 10000 spans");
}

// ---------------------------------------------------------------------------------------
// Span v2 items.

TEST(SentrySpansTest, NodeFixture) {
  std::string body;
  const SpanBatch b = Spans(ItemPayload("node_transaction_or_spans.envelope", "span", &body));
  EXPECT_EQ(b.rejected, 0);
  ASSERT_EQ(b.spans.size(), 2u);
  const Span& child = b.spans[0];
  const Span& segment = b.spans[1];
  EXPECT_EQ(child.name, "load cart");
  EXPECT_EQ(child.trace_id.Hex(), "16122fc2313d47b5b40e5bc4c4b01bbf");
  EXPECT_EQ(child.span_id.Hex(), "92f945d5f055dcfe");
  EXPECT_EQ(child.parent_span_id.Hex(), "b2488e4d3a4bcf49");
  EXPECT_EQ(child.kind, SpanKind::kClient);  // sentry.op db.query
  EXPECT_EQ(child.status_code, StatusCode::kOk);
  EXPECT_EQ(child.start_ns, 1795615563353159000);  // 1795615563.3531592
  EXPECT_EQ(child.end_ns, 1795615563353432000);    // 1795615563.3534322
  EXPECT_EQ(child.service, kDefault);
  EXPECT_EQ(SpanAttr(child, "sentry.op"), "s:db.query");
  EXPECT_EQ(SpanAttr(child, "sentry.origin"), "s:manual");
  EXPECT_EQ(SpanAttr(child, "sentry.is_localhost"), "b:false");
  EXPECT_EQ(SpanAttr(child, "sentry.is_segment"), "b:false");
  EXPECT_EQ(SpanAttr(child, "user.email"), "s:c@d.e");
  EXPECT_EQ(SpanAttr(child, "sentry.release"), "<absent>");  // moved to the resource
  EXPECT_EQ(ResAttr(child, "service.version"), "s:myapp@2.0.0");
  EXPECT_EQ(ResAttr(child, "deployment.environment"), "s:staging");
  EXPECT_EQ(ResAttr(child, "telemetry.sdk.name"), "s:sentry.javascript.node");
  EXPECT_EQ(ResAttr(child, "telemetry.sdk.version"), "s:11.12.0");
  EXPECT_EQ(child.resource_attrs().size(), 4u);

  EXPECT_EQ(segment.name, "checkout");
  EXPECT_EQ(segment.span_id.Hex(), "b2488e4d3a4bcf49");
  EXPECT_TRUE(segment.parent_span_id.empty());
  EXPECT_EQ(segment.kind, SpanKind::kInternal);  // op task
  EXPECT_EQ(SpanAttr(segment, "sentry.is_segment"), "b:true");
  EXPECT_EQ(SpanAttr(segment, "sentry.sample_rate"), "i:1");
  EXPECT_EQ(SpanAttr(segment, "device.memory_size"), "i:25276502016");
  EXPECT_EQ(SpanAttr(segment, "device.archs"), R"(s:["x64"])");
  EXPECT_TRUE(SpanAttr(segment, "sentry.sdk.integrations").starts_with(R"(s:["EventFilters",)"));
  EXPECT_EQ(segment.resource.get(), child.resource.get());  // equal lists are shared
}

TEST(SentrySpansTest, HandMadeTypesStatusLinksService) {
  const SpanBatch b = Spans(R"({"version":2,"items":[
    {"name":"","span_id":"aaaaaaaaaaaaaaaa","trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
     "start_timestamp":1795615563.25,"end_timestamp":1795615563.5,"status":"error",
     "is_segment":true,"links":[
       {"trace_id":"cccccccccccccccccccccccccccccccc","span_id":"dddddddddddddddd","sampled":true,
        "attributes":{"sentry.link.type":{"value":"previous_trace","type":"string"}}},
       {"trace_id":"bad","span_id":"dddddddddddddddd"}],
     "attributes":{"sentry.op":{"value":"http.server","type":"string"},
       "service.name":{"value":"api","type":"string"},
       "sentry.release":{"value":"api@1","type":"string"},
       "d":{"value":2.5,"type":"double"},"i":{"value":-3,"type":"integer"},
       "big":{"value":18446744073709551615,"type":"integer"},
       "b":{"value":true,"type":"boolean"},"n":{"value":null,"type":"string"},
       "arr":{"value":[1,2],"type":"array"},"raw":"plain","obj":{"x":1}}},
    {"name":"second","span_id":"eeeeeeeeeeeeeeee","trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
     "parent_span_id":"aaaaaaaaaaaaaaaa","status":"resource_exhausted",
     "attributes":{"sentry.kind":{"value":"consumer","type":"string"},
                   "sentry.release":{"value":"api@2","type":"string"}}}]})");
  EXPECT_EQ(b.rejected, 0) << b.reject_reason;
  ASSERT_EQ(b.spans.size(), 2u);
  const Span& s = b.spans[0];
  EXPECT_EQ(s.name, "http.server");  // empty name: sentry.op
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.service, "api");
  EXPECT_EQ(SpanAttr(s, "service.name"), "<absent>");
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_EQ(s.status_message, "");
  EXPECT_EQ(s.start_ns, 1795615563250000000);
  EXPECT_EQ(s.end_ns, 1795615563500000000);
  EXPECT_EQ(SpanAttr(s, "d"), "d:2.5");
  EXPECT_EQ(SpanAttr(s, "i"), "i:-3");
  EXPECT_EQ(SpanAttr(s, "big"), "d:18446744073709551616");
  EXPECT_EQ(SpanAttr(s, "b"), "b:true");
  EXPECT_EQ(SpanAttr(s, "n"), "<absent>");
  EXPECT_EQ(SpanAttr(s, "arr"), "s:[1,2]");
  EXPECT_EQ(SpanAttr(s, "raw"), "s:plain");
  EXPECT_EQ(SpanAttr(s, "obj"), R"(s:{"x":1})");
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].trace_id.Hex(), "cccccccccccccccccccccccccccccccc");
  EXPECT_EQ(s.links[0].span_id.Hex(), "dddddddddddddddd");
  EXPECT_EQ(s.links[0].flags, 1u);
  ASSERT_EQ(s.links[0].attrs.size(), 1u);
  EXPECT_EQ(s.links[0].attrs[0].value.str, "previous_trace");
  EXPECT_EQ(ResAttr(s, "service.version"), "s:api@1");

  const Span& t = b.spans[1];
  EXPECT_EQ(t.kind, SpanKind::kConsumer);
  EXPECT_EQ(t.status_code, StatusCode::kError);
  EXPECT_EQ(t.status_message, "resource_exhausted");
  EXPECT_EQ(t.start_ns, kNow);
  EXPECT_EQ(t.end_ns, kNow);
  EXPECT_EQ(t.service, kDefault);
  EXPECT_EQ(ResAttr(t, "service.version"), "s:api@2");
  EXPECT_NE(t.resource.get(), s.resource.get());  // different release, different list
}

TEST(SentrySpansTest, RejectsAndIgnores) {
  const SpanBatch b = Spans(R"({"version":2,"items":[
    {"span_id":"aaaaaaaaaaaaaaaa"},
    {"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","span_id":"aaaa"},
    {"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
    [1], "s",
    {"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","span_id":"aaaaaaaaaaaaaaaa",
     "parent_span_id":"aaaaaaaaaaaaaaaa","attributes":[1,2],"links":"x","name":3}]})");
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_TRUE(b.spans[0].parent_span_id.empty());  // its own id is no parent
  EXPECT_TRUE(b.spans[0].attrs.empty());
  EXPECT_EQ(b.rejected, 5);
  EXPECT_EQ(b.reject_reason, "sentry spans: span 1: no trace_id");

  EXPECT_TRUE(Spans(R"({"version":2})").spans.empty());
  EXPECT_TRUE(Spans(R"({"items":{"a":1}})").spans.empty());
  EXPECT_TRUE(Spans(R"({"items":[]})").spans.empty());
}

TEST(SentrySpansTest, CapsSpansPerItem) {
  std::string json = R"({"items":[)";
  for (size_t i = 0; i < kMaxSentrySpansPerItem + 3; ++i) {
    if (i > 0) json += ',';
    json += R"({"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","span_id":"aaaaaaaaaaaaaaaa"})";
  }
  json += "]}";
  const SpanBatch b = Spans(json);
  EXPECT_EQ(b.spans.size(), kMaxSentrySpansPerItem);
  EXPECT_EQ(b.rejected, 3);
  EXPECT_EQ(b.reject_reason, "sentry spans: span 10001: more than 10000 spans");
}

// ---------------------------------------------------------------------------------------
// Logs.

TEST(SentryLogsTest, NodeFixture) {
  std::string body;
  const LogBatch b = Logs(ItemPayload("node_log.envelope", "log", &body));
  EXPECT_EQ(b.rejected, 0);
  ASSERT_EQ(b.records.size(), 2u);
  const LogRecord& r = b.records[0];
  EXPECT_EQ(r.ts_ns, 1795615567482420000);  // 1795615567.4824204
  EXPECT_EQ(r.observed_ns, kNow);
  EXPECT_EQ(r.level, Level::kInfo);
  EXPECT_EQ(r.severity_number, 9);
  EXPECT_EQ(r.body, "user logged in");
  EXPECT_EQ(r.trace_id.Hex(), "bdab3f8257424e7cb649490cd66d3d11");
  EXPECT_TRUE(r.span_id.empty());
  EXPECT_EQ(r.service, kDefault);
  EXPECT_EQ(r.env, "staging");
  EXPECT_EQ(r.host, "testhost");  // server.address
  EXPECT_EQ(LogAttr(r, "userId"), "s:u2");
  EXPECT_EQ(LogAttr(r, "attempt"), "i:1");
  EXPECT_EQ(LogAttr(r, "sentry.release"), "s:myapp@2.0.0");  // sentry.* kept
  EXPECT_EQ(LogAttr(r, "sentry.timestamp.sequence"), "i:0");
  EXPECT_EQ(r.attrs.size(), 10u);

  const LogRecord& w = b.records[1];
  EXPECT_EQ(w.level, Level::kWarn);
  EXPECT_EQ(w.severity_number, 13);
  EXPECT_EQ(w.body, "cache miss for cart:42");
  EXPECT_EQ(LogAttr(w, "sentry.message.template"), "s:cache miss for %s");
  EXPECT_EQ(LogAttr(w, "sentry.message.parameter.0"), "s:cart:42");
}

TEST(SentryLogsTest, HandMade) {
  LogBatch b;
  b.records.emplace_back();  // appended to
  const Status st = DecodeSentryLogs(R"({"version":2,"items":[
    {"timestamp":"2026-11-25T14:00:00.5Z","level":"bogus","severity_number":17,"body":{"a":1},
     "trace_id":"BDAB3F8257424E7CB649490CD66D3D11",
     "attributes":{"sentry.trace.parent_span_id":{"value":"1234567890abcdef","type":"string"},
                   "service.name":{"value":"worker","type":"string"},
                   "host.name":{"value":"h1","type":"string"},
                   "server.address":{"value":"h2","type":"string"},
                   "x":{"value":1.5,"type":"double"},"x":{"value":2,"type":"integer"}}},
    {"level":"fatal","body":"b","span_id":"fedcba0987654321","trace_id":"short",
     "severity_number":99,
     "attributes":{"sentry.trace.parent_span_id":{"value":"1234567890abcdef","type":"string"}}},
    {"level":"error","span_id":"bad","body":null,
     "attributes":{"sentry.trace.parent_span_id":{"value":"nothex!!nothex!!","type":"string"}}},
    3, [], null]})",
                                     kNow, kDefault, &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.records.size(), 4u);
  EXPECT_EQ(b.rejected, 3);
  EXPECT_EQ(b.reject_reason, "sentry logs: log 4: not an object");

  const LogRecord& a = b.records[1];
  EXPECT_EQ(a.ts_ns, 1795615200500000000);
  EXPECT_EQ(a.level, Level::kError);  // from severity_number 17
  EXPECT_EQ(a.severity_number, 17);
  EXPECT_EQ(a.body, R"({"a":1})");
  EXPECT_EQ(a.trace_id.Hex(), "bdab3f8257424e7cb649490cd66d3d11");
  EXPECT_EQ(a.span_id.Hex(), "1234567890abcdef");
  EXPECT_EQ(a.service, "worker");
  EXPECT_EQ(a.host, "h1");
  EXPECT_EQ(a.env, "");
  EXPECT_EQ(LogAttr(a, "x"), "i:2");                  // a repeated key keeps its last value
  EXPECT_EQ(LogAttr(a, "service.name"), "s:worker");  // nothing is dropped

  const LogRecord& f = b.records[2];
  EXPECT_EQ(f.ts_ns, kNow);
  EXPECT_EQ(f.level, Level::kFatal);
  EXPECT_EQ(f.severity_number, 0);                 // out of the OTel range
  EXPECT_TRUE(f.trace_id.empty());                 // not 32 hex
  EXPECT_EQ(f.span_id.Hex(), "fedcba0987654321");  // span_id beats the attribute

  const LogRecord& e = b.records[3];
  EXPECT_EQ(e.level, Level::kError);
  EXPECT_TRUE(e.span_id.empty());
  EXPECT_EQ(e.body, "");
}

TEST(SentryLogsTest, CapsRecordsPerItem) {
  std::string json = R"({"items":[)";
  for (size_t i = 0; i < kMaxSentryLogsPerItem + 1; ++i) {
    if (i > 0) json += ',';
    json += R"({"body":"x"})";
  }
  json += "]}";
  const LogBatch b = Logs(json);
  EXPECT_EQ(b.records.size(), kMaxSentryLogsPerItem);
  EXPECT_EQ(b.rejected, 1);
  EXPECT_EQ(b.reject_reason, "sentry logs: log 10001: more than 10000 records");
}

// ---------------------------------------------------------------------------------------
// Sessions.

TEST(SentrySessionTest, NodeInitThenExited) {
  std::string body1, body2;
  std::vector<SentrySessionBucket> out;
  ASSERT_TRUE(
      DecodeSentrySession(ItemPayload("node_session.envelope", "session", &body1), &out).ok());
  ASSERT_TRUE(
      DecodeSentrySession(ItemPayload("node_session_exited.envelope", "session", &body2), &out)
          .ok());
  ASSERT_EQ(out.size(), 2u);
  const SentrySessionBucket& init = out[0];
  EXPECT_EQ(init.release, "myapp@2.0.0");
  EXPECT_EQ(init.environment, "staging");
  EXPECT_EQ(init.started_ns, 1795615559109000000);  // 2026-11-25T14:05:59.109Z
  EXPECT_EQ(init.started, 1u);
  EXPECT_EQ(init.exited + init.errored + init.crashed + init.abnormal, 0u);  // status ok
  const SentrySessionBucket& done = out[1];
  EXPECT_EQ(done.started, 0u);
  EXPECT_EQ(done.exited, 1u);
  EXPECT_EQ(done.errored, 1u);  // terminal with errors: 1
  EXPECT_EQ(done.crashed, 0u);
  EXPECT_EQ(done.started_ns, 1795615559109000000);
}

TEST(SentrySessionTest, CrashedAndOtherUpdates) {
  std::vector<SentrySessionBucket> out;
  // Terminal crashed update, epoch-float "started".
  ASSERT_TRUE(DecodeSentrySession(
                  R"({"sid":"s","init":false,"started":1795615559.109,"status":"crashed",
                      "errors":1,"attrs":{"release":"r@1","environment":"prod"}})",
                  &out)
                  .ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].crashed, 1u);
  EXPECT_EQ(out[0].errored, 1u);
  EXPECT_EQ(out[0].started, 0u);
  EXPECT_EQ(out[0].started_ns, 1795615559109000000);
  EXPECT_EQ(out[0].environment, "prod");

  // An ongoing update, a release-less one, and a wrong-typed one produce nothing.
  out.clear();
  EXPECT_TRUE(
      DecodeSentrySession(R"({"init":false,"status":"ok","attrs":{"release":"r"}})", &out).ok());
  EXPECT_TRUE(DecodeSentrySession(R"({"init":true,"status":"exited","attrs":{}})", &out).ok());
  EXPECT_TRUE(DecodeSentrySession(R"({"init":true,"attrs":{"release":""}})", &out).ok());
  EXPECT_TRUE(DecodeSentrySession(R"({"init":"yes","attrs":{"release":"r"}})", &out).ok());
  EXPECT_TRUE(out.empty());

  // Init and terminal at once; abnormal without errors; "errored"; timestamp fallback.
  ASSERT_TRUE(DecodeSentrySession(
                  R"({"init":true,"status":"exited","errors":0,"timestamp":"2026-11-25T14:00:00Z",
                      "attrs":{"release":"r"}})",
                  &out)
                  .ok());
  ASSERT_TRUE(
      DecodeSentrySession(R"({"status":"abnormal","errors":0,"attrs":{"release":"r"}})", &out)
          .ok());
  ASSERT_TRUE(DecodeSentrySession(R"({"status":"errored","attrs":{"release":"r"}})", &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].started, 1u);
  EXPECT_EQ(out[0].exited, 1u);
  EXPECT_EQ(out[0].errored, 0u);
  EXPECT_EQ(out[0].started_ns, 1795615200000000000);
  EXPECT_EQ(out[1].abnormal, 1u);
  EXPECT_EQ(out[1].errored, 0u);
  EXPECT_EQ(out[1].started_ns, 0);
  EXPECT_EQ(out[2].errored, 1u);
  EXPECT_EQ(out[2].exited + out[2].crashed + out[2].abnormal + out[2].started, 0u);
}

TEST(SentrySessionTest, Aggregates) {
  std::vector<SentrySessionBucket> out;
  ASSERT_TRUE(DecodeSentrySessionAggregates(
                  R"({"aggregates":[
                        {"started":"2026-11-25T14:00:00Z","did":"u","exited":3,"errored":1},
                        {"started":1795615260,"crashed":2,"abnormal":1,"exited":-4},
                        "x",
                        {"started":"2026-11-25T14:02:00Z","exited":2.0,"errored":"9"}],
                      "attrs":{"release":"app@1","environment":"prod"}})",
                  &out)
                  .ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].release, "app@1");
  EXPECT_EQ(out[0].environment, "prod");
  EXPECT_EQ(out[0].started_ns, 1795615200000000000);
  EXPECT_EQ(out[0].exited, 3u);
  EXPECT_EQ(out[0].errored, 1u);
  EXPECT_EQ(out[0].started, 4u);
  EXPECT_EQ(out[1].started_ns, 1795615260000000000);
  EXPECT_EQ(out[1].crashed, 2u);
  EXPECT_EQ(out[1].abnormal, 1u);
  EXPECT_EQ(out[1].exited, 0u);  // negative: ignored
  EXPECT_EQ(out[1].started, 3u);
  EXPECT_EQ(out[2].exited, 2u);  // a whole double counts
  EXPECT_EQ(out[2].errored, 0u);
  EXPECT_EQ(out[2].started, 2u);

  out.clear();
  ASSERT_TRUE(DecodeSentrySessionAggregates(R"({"aggregates":[{"exited":1}]})", &out).ok());
  ASSERT_TRUE(
      DecodeSentrySessionAggregates(R"({"aggregates":{"exited":1},"attrs":{"release":"r"}})", &out)
          .ok());
  EXPECT_TRUE(out.empty());

  std::string many = R"({"attrs":{"release":"r"},"aggregates":[)";
  for (size_t i = 0; i < kMaxSentrySessionBuckets + 20; ++i) {
    if (i > 0) many += ',';
    many += R"({"exited":18446744073709551615,"crashed":5})";
  }
  many += "]}";
  ASSERT_TRUE(DecodeSentrySessionAggregates(many, &out).ok());
  ASSERT_EQ(out.size(), kMaxSentrySessionBuckets);
  EXPECT_EQ(out[0].started, UINT64_MAX);  // saturates
}

// ---------------------------------------------------------------------------------------
// Client reports.

TEST(SentryClientReportTest, Decodes) {
  std::vector<SentryDiscard> out;
  ASSERT_TRUE(DecodeSentryClientReport(
                  R"({"timestamp":"2026-11-25T14:00:00Z","discarded_events":[
                        {"reason":"queue_overflow","category":"error","quantity":3},
                        {"reason":"ratelimit_backoff","category":"transaction","quantity":0},
                        {"reason":"x","category":"error","quantity":-1},
                        {"reason":"x","category":"error","quantity":1.5},
                        {"reason":"x","quantity":1},
                        {"reason":5,"category":"error","quantity":1},
                        "junk"]})",
                  &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].reason, "queue_overflow");
  EXPECT_EQ(out[0].category, "error");
  EXPECT_EQ(out[0].quantity, 3u);
  EXPECT_EQ(out[1].category, "transaction");
  EXPECT_EQ(out[1].quantity, 0u);

  out.clear();
  ASSERT_TRUE(DecodeSentryClientReport(R"({"timestamp":1})", &out).ok());
  ASSERT_TRUE(DecodeSentryClientReport(R"({"discarded_events":{}})", &out).ok());
  EXPECT_TRUE(out.empty());
}

// ---------------------------------------------------------------------------------------
// Malformed payloads.

TEST(SentryItemsTest, NonObjectsAreErrors) {
  const std::string_view kBad[] = {"", "[]", "3", "\"s\"", "null", "{", "{} x", "{\"a\":\xff}"};
  for (std::string_view json : kBad) {
    SpanBatch sb;
    LogBatch lb;
    std::vector<SentrySessionBucket> buckets;
    std::vector<SentryDiscard> discards;
    Status st = DecodeSentryTransaction(json, kNow, kDefault, &sb);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << json;
    EXPECT_TRUE(st.message().starts_with("sentry transaction: ")) << st.message();
    st = DecodeSentrySpans(json, kNow, kDefault, &sb);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << json;
    EXPECT_TRUE(st.message().starts_with("sentry spans: ")) << st.message();
    st = DecodeSentryLogs(json, kNow, kDefault, &lb);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << json;
    EXPECT_TRUE(st.message().starts_with("sentry logs: ")) << st.message();
    st = DecodeSentrySession(json, &buckets);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << json;
    EXPECT_TRUE(st.message().starts_with("sentry session: ")) << st.message();
    st = DecodeSentrySessionAggregates(json, &buckets);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << json;
    EXPECT_TRUE(st.message().starts_with("sentry sessions: ")) << st.message();
    st = DecodeSentryClientReport(json, &discards);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << json;
    EXPECT_TRUE(st.message().starts_with("sentry client report: ")) << st.message();
    EXPECT_TRUE(sb.spans.empty());
    EXPECT_EQ(sb.rejected, 0);
    EXPECT_TRUE(lb.records.empty());
    EXPECT_TRUE(buckets.empty());
    EXPECT_TRUE(discards.empty());
  }
  SpanBatch sb;
  EXPECT_EQ(DecodeSentryTransaction("[1]", kNow, kDefault, &sb).message(),
            "sentry transaction: not a JSON object");
}

TEST(SentryItemsTest, EmptyObjects) {
  const SpanBatch t = Transaction("{}");
  EXPECT_TRUE(t.spans.empty());
  EXPECT_EQ(t.rejected, 1);  // the transaction without contexts.trace
  const SpanBatch s = Spans("{}");
  EXPECT_TRUE(s.spans.empty());
  EXPECT_EQ(s.rejected, 0);
  const LogBatch l = Logs("{}");
  EXPECT_TRUE(l.records.empty());
  EXPECT_EQ(l.rejected, 0);
  std::vector<SentrySessionBucket> buckets;
  EXPECT_TRUE(DecodeSentrySession("{}", &buckets).ok());
  EXPECT_TRUE(DecodeSentrySessionAggregates("{}", &buckets).ok());
  EXPECT_TRUE(buckets.empty());
}

}  // namespace
}  // namespace sightline::ingest
