#include "ingest/zipkin.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"

namespace sightline::ingest {
namespace {

using model::AttrValue;
using model::Span;
using model::SpanBatch;
using model::SpanKind;
using model::StatusCode;

constexpr int64_t kNow = 1'800'000'000'000'000'000;

const AttrValue* Find(const std::vector<model::Attribute>& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string StrAttr(const std::vector<model::Attribute>& attrs, std::string_view key) {
  const AttrValue* v = Find(attrs, key);
  if (v == nullptr) return "<absent>";
  if (v->type != AttrValue::Type::kString) return "<not a string>";
  return v->str;
}

SpanBatch DecodeJsonOk(std::string_view body) {
  SpanBatch batch;
  const Status st = DecodeZipkinJson(body, kNow, &batch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return batch;
}

// ---------------------------------------------------------------------------------------
// JSON, as the OpenTelemetry JS exporter (@opentelemetry/exporter-zipkin 2.x) sends it: the
// three requests one BasicTracerProvider + SimpleSpanProcessor run produced, in one array.
// Its transform copies resource attributes into every span's tags, stringifies attribute
// values, adds otel.status_code / error for a status, and omits kind for internal spans.

constexpr std::string_view kOtelJsBody = R"([
{"traceId":"bdb151b31b7df1896890a59c30197e87","parentId":"060d5206623260aa","name":"SELECT cart",
 "id":"b0ee09d073eddbe6","kind":"CLIENT","timestamp":1795605916014000,"duration":179,
 "localEndpoint":{"serviceName":"checkout"},
 "tags":{"db.system":"postgresql","peer.service":"postgres","tags":"a,b","otel.status_code":"OK",
         "service.name":"checkout","service.version":"1.4.2","deployment.environment.name":"prod",
         "host.name":"web-1"},
 "annotations":[{"timestamp":1795605916014102,"value":"query.start"}]},
{"traceId":"bdb151b31b7df1896890a59c30197e87","parentId":"060d5206623260aa","name":"compute",
 "id":"e1743044b3e9fe42","timestamp":1795605916018000.25,"duration":21,
 "localEndpoint":{"serviceName":"checkout"},
 "tags":{"service.name":"checkout","service.version":"1.4.2",
         "deployment.environment.name":"prod","host.name":"web-1"}},
{"traceId":"bdb151b31b7df1896890a59c30197e87","name":"GET /cart","id":"060d5206623260aa",
 "kind":"SERVER","timestamp":1795605916014000,"duration":4806,
 "localEndpoint":{"serviceName":"checkout"},
 "tags":{"http.request.method":"GET","http.response.status_code":"500","retry":"true",
         "ratio":"0.25","otel.status_code":"ERROR","error":"cart service exploded",
         "otel.dropped_events_count":"2","service.name":"checkout","service.version":"1.4.2",
         "deployment.environment.name":"prod","host.name":"web-1"},
 "annotations":[{"timestamp":1795605916018791,"value":"exception"}]}
])";

TEST(ZipkinJson, OpenTelemetryJsExporter) {
  SpanBatch batch = DecodeJsonOk(kOtelJsBody);
  ASSERT_EQ(batch.spans.size(), 3u);
  EXPECT_EQ(batch.rejected, 0);

  const Span& client = batch.spans[0];
  EXPECT_EQ(client.trace_id.Hex(), "bdb151b31b7df1896890a59c30197e87");
  EXPECT_EQ(client.span_id.Hex(), "b0ee09d073eddbe6");
  EXPECT_EQ(client.parent_span_id.Hex(), "060d5206623260aa");
  EXPECT_EQ(client.name, "SELECT cart");
  EXPECT_EQ(client.kind, SpanKind::kClient);
  EXPECT_EQ(client.start_ns, 1795605916014000'000);
  EXPECT_EQ(client.duration_ns(), 179'000);
  EXPECT_EQ(client.service, "checkout");
  EXPECT_EQ(client.status_code, StatusCode::kOk);
  EXPECT_EQ(client.status_message, "");
  // Resource attributes the exporter copied into tags go back to the resource.
  EXPECT_EQ(StrAttr(client.resource_attrs(), "service.version"), "1.4.2");
  EXPECT_EQ(StrAttr(client.resource_attrs(), "deployment.environment.name"), "prod");
  EXPECT_EQ(StrAttr(client.resource_attrs(), "host.name"), "web-1");
  EXPECT_EQ(Find(client.resource_attrs(), "service.name"), nullptr);
  EXPECT_EQ(client.resource_attrs().size(), 3u);
  ASSERT_EQ(client.attrs.size(), 3u);
  EXPECT_EQ(client.attrs[0].key, "db.system");
  EXPECT_EQ(StrAttr(client.attrs, "db.system"), "postgresql");
  EXPECT_EQ(StrAttr(client.attrs, "peer.service"), "postgres");
  EXPECT_EQ(StrAttr(client.attrs, "tags"), "a,b");
  EXPECT_EQ(Find(client.attrs, "otel.status_code"), nullptr);
  ASSERT_EQ(client.events.size(), 1u);
  EXPECT_EQ(client.events[0].name, "query.start");
  EXPECT_EQ(client.events[0].time_ns, 1795605916014102'000);

  const Span& internal = batch.spans[1];
  EXPECT_EQ(internal.kind, SpanKind::kInternal);       // kind omitted
  EXPECT_EQ(internal.start_ns, 1795605916018000'250);  // fractional microseconds
  EXPECT_EQ(internal.end_ns, 1795605916018021'250);
  EXPECT_EQ(internal.status_code, StatusCode::kUnset);
  EXPECT_TRUE(internal.attrs.empty());

  const Span& server = batch.spans[2];
  EXPECT_TRUE(server.parent_span_id.empty());
  EXPECT_EQ(server.kind, SpanKind::kServer);
  EXPECT_TRUE(server.is_error());
  EXPECT_EQ(server.status_message, "cart service exploded");
  EXPECT_EQ(server.dropped_events, 2u);
  EXPECT_EQ(Find(server.attrs, "error"), nullptr);
  EXPECT_EQ(Find(server.attrs, "otel.dropped_events_count"), nullptr);
  EXPECT_EQ(StrAttr(server.attrs, "http.response.status_code"), "500");
  EXPECT_EQ(StrAttr(server.attrs, "retry"), "true");
  ASSERT_EQ(server.events.size(), 1u);
  EXPECT_EQ(server.events[0].name, "exception");
}

TEST(ZipkinJson, ShortTraceIdsAreLeftPadded) {
  SpanBatch batch = DecodeJsonOk(
      R"([{"traceId":"463AC35C9F6413AD","id":"a2fb4a1d1a96d312","timestamp":1,"name":"x"},
          {"traceId":"abc","id":"1","parentId":"0000000000000000","timestamp":1}])");
  ASSERT_EQ(batch.spans.size(), 2u);
  EXPECT_EQ(batch.spans[0].trace_id.Hex(), "0000000000000000463ac35c9f6413ad");
  EXPECT_EQ(batch.spans[1].trace_id.Hex(), "00000000000000000000000000000abc");
  EXPECT_EQ(batch.spans[1].span_id.Hex(), "0000000000000001");
  EXPECT_TRUE(batch.spans[1].parent_span_id.empty());  // all zeros: a root span
}

TEST(ZipkinJson, BadSpansAreRejectedIndividually) {
  SpanBatch batch = DecodeJsonOk(R"([
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":1},
    {"id":"6b221d5bc9e6496c"},
    {"traceId":"5af7183fb1d4cf5f"},
    {"traceId":"xyz","id":"6b221d5bc9e6496c"},
    {"traceId":"5af7183fb1d4cf5f5af7183fb1d4cf5f00","id":"6b221d5bc9e6496c"},
    {"traceId":"00000000000000000000000000000000","id":"6b221d5bc9e6496c"},
    {"traceId":"5af7183fb1d4cf5f","id":"0000000000000000"},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c0"},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","parentId":"nothex"},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":-5},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":1,"duration":-1},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":9300000000000000},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":123456789012345678901},
    {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":9000000000000000,
     "duration":900000000000000},
    {"traceId":"5af7183fb1d4cf5f","id":"7b221d5bc9e6496c","timestamp":2}
  ])");
  ASSERT_EQ(batch.spans.size(), 2u);
  EXPECT_EQ(batch.spans[0].span_id.Hex(), "6b221d5bc9e6496c");
  EXPECT_EQ(batch.spans[1].span_id.Hex(), "7b221d5bc9e6496c");
  EXPECT_EQ(batch.rejected, 13);
  EXPECT_EQ(batch.reject_reason, "span 2: missing traceId");

  // A reason already present is kept; counts accumulate.
  Status st = DecodeZipkinJson(R"([{"traceId":"1"}])", kNow, &batch);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(batch.rejected, 14);
  EXPECT_EQ(batch.reject_reason, "span 2: missing traceId");

  SpanBatch other;
  ASSERT_TRUE(DecodeZipkinJson(R"([{"traceId":"q","id":"1"}])", kNow, &other).ok());
  EXPECT_EQ(other.reject_reason,
            "span 1: invalid traceId \"q\" (want 16 or 32 hex digits, not all zero)");
}

TEST(ZipkinJson, MalformedBodiesLeaveTheBatchUnchanged) {
  const std::string_view kBad[] = {
      R"({"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c"})",  // a span, not a list
      R"("spans")",
      R"(42)",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c"})",  // truncated
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c"}] [])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c"}, 7])",
      R"([{"traceId":5,"id":"6b221d5bc9e6496c"}])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":true}])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","tags":[]}])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","annotations":[1]}])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","localEndpoint":"x"}])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","debug":"yes"}])",
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","duration":"1x"}])",
      "[{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"6b221d5bc9e6496c\",\"name\":\"\xff\"}]",
      // Zipkin v1.
      R"([{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get",
           "binaryAnnotations":[{"key":"http.path","value":"/"}]}])",
  };
  for (std::string_view body : kBad) {
    SpanBatch batch;
    ASSERT_TRUE(DecodeZipkinJson(R"([{"traceId":"1","id":"2"},{"id":"3"}])", kNow, &batch).ok());
    ASSERT_EQ(batch.spans.size(), 1u);
    const Status st = DecodeZipkinJson(body, kNow, &batch);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << body;
    EXPECT_TRUE(st.message().starts_with("zipkin json: ")) << st.message();
    EXPECT_EQ(batch.spans.size(), 1u) << body;
    EXPECT_EQ(batch.rejected, 1) << body;
    EXPECT_EQ(batch.reject_reason, "span 2: missing traceId");
  }

  SpanBatch batch;
  Status st = DecodeZipkinJson(R"({"traceId":"1","id":"2"})", kNow, &batch);
  EXPECT_EQ(st.message(),
            "zipkin json: body must be a JSON array of Zipkin v2 spans, found an object");
  st = DecodeZipkinJson(R"([{"traceId":"1","id":"2","binaryAnnotations":[]}])", kNow, &batch);
  EXPECT_EQ(st.message(),
            "zipkin json: span 1: binaryAnnotations is Zipkin v1; only v2 spans are accepted");
}

TEST(ZipkinJson, EmptyRequests) {
  for (std::string_view body : {"", "  \n", "[]", " [ ] ", "[null]"}) {
    SpanBatch batch;
    const Status st = DecodeZipkinJson(body, kNow, &batch);
    EXPECT_TRUE(st.ok()) << "'" << body << "': " << st.ToString();
    EXPECT_TRUE(batch.spans.empty());
    EXPECT_EQ(batch.rejected, 0);
  }
}

TEST(ZipkinJson, Endpoints) {
  SpanBatch batch = DecodeJsonOk(R"([
    {"traceId":"1","id":"2","kind":"CLIENT","timestamp":10,"duration":5,
     "localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.5","port":8080},
     "remoteEndpoint":{"serviceName":"backend","ipv6":"2001:db8::c001","port":9000},
     "tags":{"http.method":"GET"}},
    {"traceId":"1","id":"3","localEndpoint":{"ipv6":"::1","port":70000},
     "remoteEndpoint":{"ipv4":"192.168.1.1","ipv6":"::2","port":0},
     "tags":{"peer.service":"from-tag","service.name":"tagged-service"}},
    {"traceId":"1","id":"4","localEndpoint":{},"remoteEndpoint":null}
  ])");
  ASSERT_EQ(batch.spans.size(), 3u);
  const Span& a = batch.spans[0];
  EXPECT_EQ(a.service, "frontend");
  EXPECT_EQ(StrAttr(a.resource_attrs(), "net.host.ip"), "10.0.0.5");
  ASSERT_NE(Find(a.resource_attrs(), "net.host.port"), nullptr);
  EXPECT_EQ(*Find(a.resource_attrs(), "net.host.port"), AttrValue::Int(8080));
  EXPECT_EQ(StrAttr(a.attrs, "peer.service"), "backend");
  EXPECT_EQ(StrAttr(a.attrs, "net.peer.ip"), "2001:db8::c001");
  ASSERT_NE(Find(a.attrs, "net.peer.port"), nullptr);
  EXPECT_EQ(*Find(a.attrs, "net.peer.port"), AttrValue::Int(9000));
  EXPECT_EQ(a.attrs[0].key, "http.method");  // tags first, then endpoint attributes

  const Span& b = batch.spans[1];
  EXPECT_EQ(b.service, "tagged-service");  // no localEndpoint.serviceName
  EXPECT_EQ(StrAttr(b.resource_attrs(), "net.host.ip"), "::1");
  EXPECT_EQ(Find(b.resource_attrs(), "net.host.port"), nullptr);  // out of range
  EXPECT_EQ(StrAttr(b.attrs, "peer.service"), "from-tag");      // a tag wins
  EXPECT_EQ(StrAttr(b.attrs, "net.peer.ip"), "192.168.1.1");    // ipv4 preferred
  EXPECT_EQ(Find(b.attrs, "net.peer.port"), nullptr);
  EXPECT_EQ(b.start_ns, kNow);  // no timestamp, no annotations

  const Span& c = batch.spans[2];
  EXPECT_EQ(c.service, "");
  EXPECT_TRUE(c.attrs.empty());
  EXPECT_TRUE(c.resource_attrs().empty());
}

TEST(ZipkinJson, StatusConventions) {
  SpanBatch batch = DecodeJsonOk(R"([
    {"traceId":"1","id":"1","tags":{"error":""}},
    {"traceId":"1","id":"2","tags":{"error":"true","otel.status_description":"timeout"}},
    {"traceId":"1","id":"3","tags":{"error":"false"}},
    {"traceId":"1","id":"4","tags":{"otel.status_code":"STATUS_CODE_OK"}},
    {"traceId":"1","id":"5","tags":{"otel.status_code":"error","otel.status_description":"d"}},
    {"traceId":"1","id":"6","tags":{"otel.status_code":"OK","error":"boom"}},
    {"traceId":"1","id":"7","tags":{"otel.status_code":"OK","otel.status_description":"d"}},
    {"traceId":"1","id":"8","tags":{"otel.status_code":"weird"}}
  ])");
  ASSERT_EQ(batch.spans.size(), 8u);
  struct Want {
    StatusCode code;
    std::string_view message;
  };
  const Want kWant[] = {
      {StatusCode::kError, ""}, {StatusCode::kError, "timeout"}, {StatusCode::kUnset, ""},
      {StatusCode::kOk, ""},    {StatusCode::kError, "d"},       {StatusCode::kError, "boom"},
      {StatusCode::kOk, ""},    {StatusCode::kUnset, ""},
  };
  for (size_t i = 0; i < batch.spans.size(); ++i) {
    EXPECT_EQ(batch.spans[i].status_code, kWant[i].code) << i;
    EXPECT_EQ(batch.spans[i].status_message, kWant[i].message) << i;
    EXPECT_TRUE(batch.spans[i].attrs.empty()) << i;  // the conventional tags are consumed
  }
}

TEST(ZipkinJson, ScopeTraceStateFlagsAndOtherTags) {
  SpanBatch batch = DecodeJsonOk(R"([
    {"traceId":"1","id":"1","debug":true,"shared":true,
     "tags":{"otel.library.name":"io.opentelemetry.jdbc","otel.library.version":"1.2",
             "w3c.tracestate":"rojo=00f067aa0ba902b7","otel.dropped_attributes_count":"3",
             "otel.dropped_links_count":"x","telemetry.sdk.language":"java",
             "k8s.pod.name":"p-1","faas.name":"fn","faas.trigger":"http",
             "num":42,"big":123456789012345678901,"flag":false,"list":[1, 2],
             "obj":{"a":"b"},"dup":"first","":"empty key","dup":"second"}},
    {"traceId":"1","id":"2","debug":false,"shared":false,
     "tags":{"otel.scope.name":"checkout","otel.library.name":"old","otel.scope.version":"2"}}
  ])");
  ASSERT_EQ(batch.spans.size(), 2u);
  const Span& a = batch.spans[0];
  EXPECT_EQ(a.scope_name, "io.opentelemetry.jdbc");
  EXPECT_EQ(a.scope_version, "1.2");
  EXPECT_EQ(a.trace_state, "rojo=00f067aa0ba902b7");
  EXPECT_EQ(a.dropped_attrs, 3u);
  EXPECT_EQ(a.dropped_links, 0u);
  EXPECT_EQ(StrAttr(a.attrs, "otel.dropped_links_count"), "x");  // not a count: kept
  EXPECT_EQ(StrAttr(a.resource_attrs(), "telemetry.sdk.language"), "java");
  EXPECT_EQ(StrAttr(a.resource_attrs(), "k8s.pod.name"), "p-1");
  EXPECT_EQ(StrAttr(a.resource_attrs(), "faas.name"), "fn");
  EXPECT_EQ(StrAttr(a.attrs, "faas.trigger"), "http");
  EXPECT_EQ(StrAttr(a.attrs, "num"), "42");
  EXPECT_EQ(StrAttr(a.attrs, "big"), "123456789012345678901");
  EXPECT_EQ(StrAttr(a.attrs, "flag"), "false");
  EXPECT_EQ(StrAttr(a.attrs, "list"), "[1, 2]");
  EXPECT_EQ(StrAttr(a.attrs, "obj"), R"({"a":"b"})");
  EXPECT_EQ(StrAttr(a.attrs, "dup"), "second");
  EXPECT_EQ(Find(a.attrs, ""), nullptr);
  ASSERT_NE(Find(a.attrs, "zipkin.debug"), nullptr);
  EXPECT_EQ(*Find(a.attrs, "zipkin.debug"), AttrValue::Bool(true));
  EXPECT_EQ(*Find(a.attrs, "zipkin.shared"), AttrValue::Bool(true));
  EXPECT_EQ(Find(a.attrs, "otel.library.name"), nullptr);

  const Span& b = batch.spans[1];
  EXPECT_EQ(b.scope_name, "checkout");
  EXPECT_EQ(b.scope_version, "2");
  EXPECT_TRUE(b.attrs.empty());
}

TEST(ZipkinJson, Times) {
  SpanBatch batch = DecodeJsonOk(R"([
    {"traceId":"1","id":"1","duration":7,
     "annotations":[{"timestamp":2000,"value":"sr"},{"timestamp":1000,"value":"cs"},
                    {"value":"no time"},{"timestamp":-4,"value":"bad time"}]},
    {"traceId":"1","id":"2","timestamp":"1500","duration":"2.5"},
    {"traceId":"1","id":"3","timestamp":0,"duration":3}
  ])");
  ASSERT_EQ(batch.spans.size(), 3u);
  const Span& a = batch.spans[0];
  EXPECT_EQ(a.start_ns, 1'000'000);  // the earliest annotation
  EXPECT_EQ(a.end_ns, 1'007'000);
  ASSERT_EQ(a.events.size(), 4u);
  EXPECT_EQ(a.events[0].time_ns, 2'000'000);
  EXPECT_EQ(a.events[0].name, "sr");
  EXPECT_EQ(a.events[2].time_ns, 1'000'000);  // absent: the span start
  EXPECT_EQ(a.events[3].time_ns, 1'000'000);
  EXPECT_EQ(batch.spans[1].start_ns, 1'500'000);
  EXPECT_EQ(batch.spans[1].duration_ns(), 2'500);
  EXPECT_EQ(batch.spans[2].start_ns, kNow);
  EXPECT_EQ(batch.spans[2].duration_ns(), 3'000);
}

TEST(ZipkinJson, ParentEqualToIdIsDropped) {
  SpanBatch batch = DecodeJsonOk(R"([{"traceId":"1","id":"2","parentId":"2"}])");
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_TRUE(batch.spans[0].parent_span_id.empty());
}

TEST(ZipkinJson, KindValues) {
  SpanBatch batch = DecodeJsonOk(R"([
    {"traceId":"1","id":"1","kind":"PRODUCER"},{"traceId":"1","id":"2","kind":"consumer"},
    {"traceId":"1","id":"3","kind":"SIDEWAYS"}])");
  ASSERT_EQ(batch.spans.size(), 3u);
  EXPECT_EQ(batch.spans[0].kind, SpanKind::kProducer);
  EXPECT_EQ(batch.spans[1].kind, SpanKind::kConsumer);
  EXPECT_EQ(batch.spans[2].kind, SpanKind::kUnspecified);
}

TEST(ZipkinJson, TooManySpans) {
  std::string body = "[";
  for (size_t i = 0; i <= kMaxZipkinSpans; ++i) body += i == 0 ? "{}" : ",{}";
  body += "]";
  SpanBatch batch;
  const Status st = DecodeZipkinJson(body, kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge);
  EXPECT_TRUE(batch.spans.empty());
  EXPECT_EQ(batch.rejected, 0);
}

// ---------------------------------------------------------------------------------------
// Protobuf: a tiny zipkin.proto writer.

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

std::string Unhex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  EXPECT_TRUE(model::DecodeHex(hex, reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

Pb Tag(std::string_view k, std::string_view v) { return Pb().Bytes(1, k).Bytes(2, v); }

// The OTel JS payload above, as zipkin.proto.
std::string OtelJsProto() {
  const std::string trace = Unhex("bdb151b31b7df1896890a59c30197e87");
  auto resource_tags = [](Pb& span) {
    span.Msg(11, Tag("service.name", "checkout"))
        .Msg(11, Tag("service.version", "1.4.2"))
        .Msg(11, Tag("deployment.environment.name", "prod"))
        .Msg(11, Tag("host.name", "web-1"));
  };
  const Pb local = Pb().Bytes(1, "checkout");
  Pb client;
  client.Bytes(1, trace)
      .Bytes(2, Unhex("060d5206623260aa"))
      .Bytes(3, Unhex("b0ee09d073eddbe6"))
      .Varint(4, 1)
      .Bytes(5, "SELECT cart")
      .Fixed64(6, 1795605916014000)
      .Varint(7, 179)
      .Msg(8, local)
      .Msg(10, Pb().Fixed64(1, 1795605916014102).Bytes(2, "query.start"))
      .Msg(11, Tag("db.system", "postgresql"))
      .Msg(11, Tag("peer.service", "postgres"))
      .Msg(11, Tag("tags", "a,b"))
      .Msg(11, Tag("otel.status_code", "OK"));
  resource_tags(client);
  Pb internal;
  internal.Bytes(1, trace)
      .Bytes(2, Unhex("060d5206623260aa"))
      .Bytes(3, Unhex("e1743044b3e9fe42"))
      .Bytes(5, "compute")
      .Fixed64(6, 1795605916018000)
      .Varint(7, 21)
      .Msg(8, local);
  resource_tags(internal);
  Pb server;
  server.Bytes(1, trace)
      .Bytes(3, Unhex("060d5206623260aa"))
      .Varint(4, 2)
      .Bytes(5, "GET /cart")
      .Fixed64(6, 1795605916014000)
      .Varint(7, 4806)
      .Msg(8, local)
      .Msg(11, Tag("http.request.method", "GET"))
      .Msg(11, Tag("http.response.status_code", "500"))
      .Msg(11, Tag("retry", "true"))
      .Msg(11, Tag("ratio", "0.25"))
      .Msg(11, Tag("otel.status_code", "ERROR"))
      .Msg(11, Tag("error", "cart service exploded"))
      .Msg(11, Tag("otel.dropped_events_count", "2"))
      .Msg(10, Pb().Fixed64(1, 1795605916018791).Bytes(2, "exception"));
  resource_tags(server);
  return Pb().Msg(1, client).Msg(1, internal).Msg(1, server).str();
}

void ExpectSameSpan(const Span& a, const Span& b) {
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.span_id, b.span_id);
  EXPECT_EQ(a.parent_span_id, b.parent_span_id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.end_ns - a.start_ns, b.end_ns - b.start_ns);
  EXPECT_EQ(a.status_code, b.status_code);
  EXPECT_EQ(a.status_message, b.status_message);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.scope_name, b.scope_name);
  EXPECT_EQ(a.dropped_events, b.dropped_events);
  ASSERT_EQ(a.attrs.size(), b.attrs.size());
  for (size_t i = 0; i < a.attrs.size(); ++i) {
    EXPECT_EQ(a.attrs[i].key, b.attrs[i].key);
    EXPECT_EQ(a.attrs[i].value, b.attrs[i].value);
  }
  ASSERT_EQ(a.resource_attrs().size(), b.resource_attrs().size());
  for (size_t i = 0; i < a.resource_attrs().size(); ++i) {
    EXPECT_EQ(a.resource_attrs()[i].key, b.resource_attrs()[i].key);
    EXPECT_EQ(a.resource_attrs()[i].value, b.resource_attrs()[i].value);
  }
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].time_ns, b.events[i].time_ns);
    EXPECT_EQ(a.events[i].name, b.events[i].name);
  }
}

TEST(ZipkinProto, MatchesJson) {
  SpanBatch from_json = DecodeJsonOk(kOtelJsBody);
  SpanBatch from_proto;
  const Status st = DecodeZipkinProto(OtelJsProto(), kNow, &from_proto);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(from_proto.spans.size(), 3u);
  EXPECT_EQ(from_proto.rejected, 0);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    ExpectSameSpan(from_proto.spans[i], from_json.spans[i]);
  }
  EXPECT_EQ(from_proto.spans[0].start_ns, 1795605916014000'000);
  EXPECT_EQ(from_proto.spans[1].kind, SpanKind::kInternal);
}

TEST(ZipkinProto, EndpointsIdsAndRepairs) {
  const std::string ipv6 = Unhex("20010db8000000000000000000000001");
  Pb span;
  span.Bytes(1, Unhex("463ac35c9f6413ad"))  // 8-byte trace id
      .Bytes(3, Unhex("a2fb4a1d1a96d312"))
      .Bytes(5, "caf\xc3\xa9 \xff\xfe")
      .Msg(8,
           Pb().Bytes(1, "front\x80").Bytes(2, std::string("\x0a\x00\x00\x05", 4)).Varint(4, 443))
      .Msg(9, Pb().Bytes(1, "db").Bytes(3, ipv6).Varint(4, 5432).Bytes(2, "bad"))
      .Msg(11, Tag("k\xc0", "v\xed\xa0\x80"))  // overlong lead byte, encoded surrogate
      .Varint(12, 1)
      .Varint(13, 0)
      .Varint(99, 7)         // unknown varint field
      .Bytes(98, "unknown")  // unknown bytes field
      .Fixed64(7, 5)         // duration with the wrong wire type: ignored
      .Varint(4, 9);         // unknown kind
  SpanBatch batch;
  const Status st = DecodeZipkinProto(Pb().Msg(1, span).Varint(2, 1).str(), kNow, &batch);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(batch.spans.size(), 1u);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.trace_id.Hex(), "0000000000000000463ac35c9f6413ad");
  EXPECT_EQ(s.span_id.Hex(), "a2fb4a1d1a96d312");
  EXPECT_EQ(s.name, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(s.service, "front\xef\xbf\xbd");
  EXPECT_EQ(s.kind, SpanKind::kUnspecified);
  EXPECT_EQ(s.start_ns, kNow);
  EXPECT_EQ(s.duration_ns(), 0);
  EXPECT_EQ(StrAttr(s.resource_attrs(), "net.host.ip"), "10.0.0.5");
  EXPECT_EQ(*Find(s.resource_attrs(), "net.host.port"), AttrValue::Int(443));
  EXPECT_EQ(StrAttr(s.attrs, "peer.service"), "db");
  EXPECT_EQ(StrAttr(s.attrs, "net.peer.ip"), "2001:db8::1");
  EXPECT_EQ(*Find(s.attrs, "net.peer.port"), AttrValue::Int(5432));
  EXPECT_EQ(StrAttr(s.attrs, "k\xef\xbf\xbd"), "v\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(*Find(s.attrs, "zipkin.debug"), AttrValue::Bool(true));
  EXPECT_EQ(Find(s.attrs, "zipkin.shared"), nullptr);
}

TEST(ZipkinProto, BadSpansAreRejectedIndividually) {
  const std::string trace = Unhex("5af7183fb1d4cf5f5af7183fb1d4cf5f");
  const std::string id = Unhex("6b221d5bc9e6496c");
  Pb list;
  list.Msg(1, Pb().Bytes(1, trace).Bytes(3, id).Fixed64(6, 1))
      .Msg(1, Pb())  // empty span
      .Msg(1, Pb().Bytes(1, "short").Bytes(3, id))
      .Msg(1, Pb().Bytes(1, trace))
      .Msg(1, Pb().Bytes(1, trace).Bytes(3, "1234567"))
      .Msg(1, Pb().Bytes(1, trace).Bytes(3, id).Bytes(2, "123"))
      .Msg(1, Pb().Bytes(1, std::string(16, '\0')).Bytes(3, id))
      .Msg(1, Pb().Bytes(1, trace).Bytes(3, std::string(8, '\0')))
      .Msg(1, Pb().Bytes(1, trace).Bytes(3, id).Fixed64(6, uint64_t{1} << 63))
      .Msg(1, Pb().Bytes(1, trace).Bytes(3, id).Fixed64(6, 1).Varint(7, ~uint64_t{0}))
      .Msg(1, Pb().Bytes(1, trace).Bytes(3, id).Bytes(2, std::string(8, '\0')).Fixed64(6, 2));
  SpanBatch batch;
  const Status st = DecodeZipkinProto(list.str(), kNow, &batch);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(batch.spans.size(), 2u);
  EXPECT_TRUE(batch.spans[1].parent_span_id.empty());  // all-zero parent: root
  EXPECT_EQ(batch.rejected, 9);
  EXPECT_EQ(batch.reject_reason, "span 2: missing trace_id");
}

TEST(ZipkinProto, MalformedBodiesLeaveTheBatchUnchanged) {
  const std::string good =
      Pb().Msg(1, Pb().Bytes(1, Unhex("463ac35c9f6413ad")).Bytes(3, Unhex("a2fb4a1d1a96d312")))
          .str();
  const std::string kBad[] = {
      good + "\x0a",          // truncated length
      good + "\x0a\x05\x01",  // length past the end
      good + "\x0b",          // group
      good + "\x0e",          // wire type 6
      good + "\x08",          // truncated varint
      good + std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12),  // overlong
      good + std::string("\x00\x00", 2),                                           // field number 0
      Pb().Msg(1, Pb().Bytes(1, "x").Raw("\x42\x05")).str(),      // truncated inside a span
      Pb().Msg(1, Pb().Msg(8, Pb().Raw("\x0d\x01"))).str(),       // truncated fixed32 in endpoint
      Pb().Msg(1, Pb().Msg(10, Pb().Raw("\x09\x01\x02"))).str(),  // truncated fixed64
      Pb().Msg(1, Pb().Msg(11, Pb().Raw("\x0a\x09"))).str(),      // truncated tag key
  };
  for (const std::string& body : kBad) {
    SpanBatch batch;
    ASSERT_TRUE(DecodeZipkinProto(good, kNow, &batch).ok());
    ASSERT_EQ(batch.spans.size(), 1u);
    const Status st = DecodeZipkinProto(body, kNow, &batch);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_TRUE(st.message().starts_with("zipkin proto: ")) << st.message();
    EXPECT_EQ(batch.spans.size(), 1u);
    EXPECT_EQ(batch.rejected, 0);
  }
  SpanBatch batch;
  const Status st = DecodeZipkinProto(good + "\x0b", kNow, &batch);
  EXPECT_EQ(st.message(), "zipkin proto: groups are not supported");
}

TEST(ZipkinProto, EmptyAndTooMany) {
  SpanBatch batch;
  EXPECT_TRUE(DecodeZipkinProto("", kNow, &batch).ok());
  EXPECT_TRUE(batch.spans.empty());

  std::string body;
  for (size_t i = 0; i <= kMaxZipkinSpans; ++i) body.append("\x0a\x00", 2);
  const Status st = DecodeZipkinProto(body, kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge);
  EXPECT_TRUE(batch.spans.empty());
  EXPECT_EQ(batch.rejected, 0);
}

}  // namespace
}  // namespace sightline::ingest
