#include "ingest/otlp_traces.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <initializer_list>
#include <string>
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
Pb AnyDouble(double d) { return Pb().Fixed64(4, std::bit_cast<uint64_t>(d)); }
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
Pb Scope(std::string_view name, std::string_view version, std::initializer_list<Pb> kvs = {}) {
  Pb s = Pb().Bytes(1, name).Bytes(2, version);
  for (const Pb& kv : kvs) s.Msg(3, kv);
  return s;
}
Pb ScopeSpans(const Pb& scope, std::initializer_list<Pb> spans) {
  Pb ss;
  ss.Msg(1, scope);
  for (const Pb& s : spans) ss.Msg(2, s);
  return ss;
}
Pb ResourceSpans(const Pb& resource, std::initializer_list<Pb> scope_spans) {
  Pb rs;
  rs.Msg(1, resource);
  for (const Pb& ss : scope_spans) rs.Msg(2, ss);
  return rs;
}
Pb Request(std::initializer_list<Pb> resource_spans) {
  Pb req;
  for (const Pb& rs : resource_spans) req.Msg(1, rs);
  return req;
}
std::string Hex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  EXPECT_TRUE(model::DecodeHex(hex, reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

const char kTraceHex[] = "5b8efff798038103d269b633813fc60c";
const char kSpanHex[] = "eee19b7ec3c1b174";
const char kParentHex[] = "eee19b7ec3c1b173";
const char kLinkTraceHex[] = "0af7651916cd43dd8448eb211c80319c";
const char kLinkSpanHex[] = "b7ad6b7169203331";

// A span with only the required ids and a name.
Pb MinimalSpan(std::string_view name) {
  return Pb().Bytes(1, Hex(kTraceHex)).Bytes(2, Hex(kSpanHex)).Bytes(5, name);
}

// A span with every field set.
Pb FullSpan() {
  Pb exception_event = Pb().Fixed64(1, 1544712660500000000)
                           .Bytes(2, "exception")
                           .Msg(3, Kv("exception.type", AnyStr("java.lang.IllegalStateException")))
                           .Msg(3, Kv("exception.message", AnyStr("boom")))
                           .Msg(3, Kv("exception.stacktrace", AnyStr("at x.y(Z.java:1)")))
                           .Varint(4, 2);
  Pb plain_event = Pb().Fixed64(1, 1544712660100000000).Bytes(2, "cache.miss");
  Pb link = Pb().Bytes(1, Hex(kLinkTraceHex))
                .Bytes(2, Hex(kLinkSpanHex))
                .Bytes(3, "vendor=1")
                .Msg(4, Kv("link.kind", AnyStr("follows")))
                .Varint(5, 3)
                .Fixed32(6, 0x301);
  return Pb()
      .Bytes(1, Hex(kTraceHex))
      .Bytes(2, Hex(kSpanHex))
      .Bytes(3, "congo=t61rcWkgMzE")
      .Bytes(4, Hex(kParentHex))
      .Bytes(5, "GET /checkout")
      .Varint(6, 2)
      .Fixed64(7, 1544712660000000000)
      .Fixed64(8, 1544712661000000000)
      .Msg(9, Kv("http.status_code", AnyInt(500)))
      .Msg(9, Kv("ratio", AnyDouble(0.5)))
      .Msg(9, Kv("retry", AnyBool(true)))
      .Msg(9, Kv("tags", AnyArray({AnyStr("a"), AnyInt(-2), AnyBool(false)})))
      .Msg(9, Kv("ctx", AnyKvlist({Kv("user", AnyStr("u\"1")), Kv("n", AnyDouble(1.5))})))
      .Msg(9, Kv("raw", AnyBytes(std::string("\x00\x01\xfe", 3))))
      .Varint(10, 4)
      .Msg(11, plain_event)
      .Msg(11, exception_event)
      .Varint(12, 5)
      .Msg(13, link)
      .Varint(14, 6)
      .Msg(15, Pb().Bytes(2, "upstream failed").Varint(3, 2))
      .Fixed32(16, 0x101);
}

SpanBatch DecodeProtoOk(const std::string& body) {
  SpanBatch batch;
  Status st = DecodeOtlpTracesProto(body, kNow, &batch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return batch;
}

// Decodes into a batch holding one earlier span; on failure that batch must be unchanged.
Status DecodeProtoStatus(const std::string& body) {
  SpanBatch batch;
  batch.spans.emplace_back().name = "earlier";
  Status st = DecodeOtlpTracesProto(body, kNow, &batch);
  if (!st.ok()) {
    EXPECT_EQ(batch.spans.size(), 1u);
    EXPECT_EQ(batch.rejected, 0);
    EXPECT_EQ(batch.reject_reason, "");
  }
  return st;
}

Span DecodeOneSpan(const Pb& span) {
  SpanBatch batch = DecodeProtoOk(Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {span})})}).str());
  EXPECT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.rejected, 0) << batch.reject_reason;
  return batch.spans.empty() ? Span() : batch.spans[0];
}

std::vector<std::string> Keys(const std::vector<model::Attribute>& attrs) {
  std::vector<std::string> keys;
  for (const auto& a : attrs) keys.push_back(a.key);
  return keys;
}

// Everything in a span as text, to compare decodings.
std::string Dump(const Span& s) {
  std::string out;
  auto attrs = [&](const std::vector<model::Attribute>& list) {
    out += "{";
    for (const auto& a : list) {
      out += a.key + "=" + std::to_string(static_cast<int>(a.value.type)) + ":" + a.value.ToText() +
             ";";
    }
    out += "}";
  };
  out += s.trace_id.Hex() + "/" + s.span_id.Hex() + "/" + s.parent_span_id.Hex() +
         " ts=" + s.trace_state + " flags=" + std::to_string(s.flags) + " name=" + s.name +
         " kind=" + std::string(model::SpanKindName(s.kind)) + " " + std::to_string(s.start_ns) +
         ".." + std::to_string(s.end_ns) +
         " status=" + std::string(model::StatusCodeName(s.status_code)) + ":" + s.status_message +
         " svc=" + s.service + " scope=" + s.scope_name + "@" + s.scope_version + " res=";
  attrs(s.resource_attrs());
  out += " attrs=";
  attrs(s.attrs);
  for (const auto& e : s.events) {
    out += " event(" + std::to_string(e.time_ns) + "," + e.name + "," +
           std::to_string(e.dropped_attrs) + ")";
    attrs(e.attrs);
  }
  for (const auto& l : s.links) {
    out += " link(" + l.trace_id.Hex() + "," + l.span_id.Hex() + "," + l.trace_state + "," +
           std::to_string(l.flags) + ")";
    attrs(l.attrs);
  }
  out += " dropped=" + std::to_string(s.dropped_attrs) + "/" + std::to_string(s.dropped_events) +
         "/" + std::to_string(s.dropped_links);
  return out;
}

// ---------------------------------------------------------------------------------------
// Protobuf decoding.

TEST(OtlpTracesProtoTest, FullSpanMapping) {
  Pb resource = Resource({Kv("service.name", AnyStr("checkout")),
                          Kv("deployment.environment.name", AnyStr("prod")),
                          Kv("host.name", AnyStr("web-1")), Kv("shared", AnyStr("resource"))});
  Pb scope = Scope("io.lib", "1.2.3", {Kv("shared", AnyStr("scope")), Kv("lib.x", AnyInt(1))});
  SpanBatch batch =
      DecodeProtoOk(Request({ResourceSpans(resource, {ScopeSpans(scope, {FullSpan()})})}).str());
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.rejected, 0);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.trace_id.Hex(), kTraceHex);
  EXPECT_EQ(s.span_id.Hex(), kSpanHex);
  EXPECT_EQ(s.parent_span_id.Hex(), kParentHex);
  EXPECT_EQ(s.trace_state, "congo=t61rcWkgMzE");
  EXPECT_EQ(s.flags, 0x101u);
  EXPECT_EQ(s.name, "GET /checkout");
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.start_ns, 1544712660000000000);
  EXPECT_EQ(s.end_ns, 1544712661000000000);
  EXPECT_EQ(s.duration_ns(), 1000000000);
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_TRUE(s.is_error());
  EXPECT_EQ(s.status_message, "upstream failed");
  EXPECT_EQ(s.service, "checkout");
  EXPECT_EQ(s.scope_name, "io.lib");
  EXPECT_EQ(s.scope_version, "1.2.3");
  // Resource attributes first, then the scope attributes the resource lacks.
  EXPECT_EQ(Keys(s.resource_attrs()), (std::vector<std::string>{"deployment.environment.name",
                                                              "host.name", "shared", "lib.x"}));
  EXPECT_EQ(*s.FindAttr("shared"), AttrValue::String("resource"));
  EXPECT_EQ(*s.FindAttr("lib.x"), AttrValue::Int(1));
  EXPECT_EQ(s.FindAttr("service.name"), nullptr);
  EXPECT_EQ(Keys(s.attrs),
            (std::vector<std::string>{"http.status_code", "ratio", "retry", "tags", "ctx", "raw"}));
  EXPECT_EQ(*s.FindAttr("http.status_code"), AttrValue::Int(500));
  EXPECT_EQ(*s.FindAttr("ratio"), AttrValue::Double(0.5));
  EXPECT_EQ(*s.FindAttr("retry"), AttrValue::Bool(true));
  EXPECT_EQ(*s.FindAttr("tags"), AttrValue::String(R"(["a",-2,false])"));
  EXPECT_EQ(*s.FindAttr("ctx"), AttrValue::String(R"({"user":"u\"1","n":1.5})"));
  EXPECT_EQ(*s.FindAttr("raw"), AttrValue::String("AAH+"));
  EXPECT_EQ(s.dropped_attrs, 4u);
  EXPECT_EQ(s.dropped_events, 5u);
  EXPECT_EQ(s.dropped_links, 6u);

  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].name, "cache.miss");
  EXPECT_EQ(s.events[0].time_ns, 1544712660100000000);
  EXPECT_TRUE(s.events[0].attrs.empty());
  const model::SpanEvent& ex = s.events[1];
  EXPECT_EQ(ex.name, "exception");
  EXPECT_EQ(ex.time_ns, 1544712660500000000);
  EXPECT_EQ(ex.dropped_attrs, 2u);
  ASSERT_EQ(ex.attrs.size(), 3u);
  EXPECT_EQ(ex.attrs[0].key, "exception.type");
  EXPECT_EQ(ex.attrs[0].value, AttrValue::String("java.lang.IllegalStateException"));
  EXPECT_EQ(ex.attrs[1].value, AttrValue::String("boom"));
  EXPECT_EQ(ex.attrs[2].value, AttrValue::String("at x.y(Z.java:1)"));

  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].trace_id.Hex(), kLinkTraceHex);
  EXPECT_EQ(s.links[0].span_id.Hex(), kLinkSpanHex);
  EXPECT_EQ(s.links[0].trace_state, "vendor=1");
  EXPECT_EQ(s.links[0].flags, 0x301u);
  ASSERT_EQ(s.links[0].attrs.size(), 1u);
  EXPECT_EQ(s.links[0].attrs[0].value, AttrValue::String("follows"));
}

TEST(OtlpTracesProtoTest, SeveralResourcesAndScopes) {
  Pb span = MinimalSpan("x");
  Pb req = Request({
      ResourceSpans(
          Resource({Kv("service.name", AnyStr("a")), Kv("region", AnyStr("eu"))}),
          {ScopeSpans(Scope("s1", "1"), {span, span}), ScopeSpans(Scope("", ""), {span})}),
      ResourceSpans(Resource({Kv("service.name", AnyStr("b"))}),
                    {ScopeSpans(Scope("s2", "", {Kv("k", AnyBool(true))}), {span})}),
  });
  SpanBatch batch = DecodeProtoOk(req.str());
  ASSERT_EQ(batch.spans.size(), 4u);
  EXPECT_EQ(batch.spans[0].service, "a");
  EXPECT_EQ(batch.spans[0].scope_name, "s1");
  EXPECT_EQ(batch.spans[0].scope_version, "1");
  EXPECT_EQ(batch.spans[1].scope_name, "s1");
  EXPECT_EQ(batch.spans[2].scope_name, "");
  EXPECT_EQ(Keys(batch.spans[2].resource_attrs()), (std::vector<std::string>{"region"}));
  EXPECT_EQ(batch.spans[3].service, "b");
  EXPECT_EQ(batch.spans[3].scope_name, "s2");
  EXPECT_EQ(Keys(batch.spans[3].resource_attrs()), (std::vector<std::string>{"k"}));
}

TEST(OtlpTracesProtoTest, FieldOrderDoesNotMatter) {
  // Scope and resource after the spans; the status code before the message.
  Pb span = Pb().Msg(15, Pb().Varint(3, 1).Bytes(2, "fine"))
                .Fixed32(16, 1)
                .Bytes(5, "late ids")
                .Bytes(2, Hex(kSpanHex))
                .Bytes(1, Hex(kTraceHex));
  Pb ss = Pb().Msg(2, span).Msg(1, Scope("late", "2"));
  Pb rs = Pb().Msg(2, ss).Msg(1, Resource({Kv("service.name", AnyStr("svc"))}));
  SpanBatch batch = DecodeProtoOk(Pb().Msg(1, rs).str());
  ASSERT_EQ(batch.spans.size(), 1u);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.service, "svc");
  EXPECT_EQ(s.scope_name, "late");
  EXPECT_EQ(s.status_code, StatusCode::kOk);
  EXPECT_EQ(s.status_message, "fine");
  EXPECT_EQ(s.flags, 1u);
  EXPECT_EQ(s.name, "late ids");
}

TEST(OtlpTracesProtoTest, NonStringServiceNameStaysResourceAttribute) {
  Pb req = Request({ResourceSpans(Resource({Kv("service.name", AnyInt(7))}),
                                  {ScopeSpans(Pb(), {MinimalSpan("x")})})});
  SpanBatch batch = DecodeProtoOk(req.str());
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.spans[0].service, "");
  EXPECT_EQ(*batch.spans[0].FindAttr("service.name"), AttrValue::Int(7));
}

TEST(OtlpTracesProtoTest, KindsAndStatusCodes) {
  for (int k = 0; k <= 5; ++k) {
    EXPECT_EQ(DecodeOneSpan(MinimalSpan("k").Varint(6, k)).kind, static_cast<SpanKind>(k));
  }
  EXPECT_EQ(DecodeOneSpan(MinimalSpan("k").Varint(6, 6)).kind, SpanKind::kUnspecified);
  EXPECT_EQ(DecodeOneSpan(MinimalSpan("k").Varint(6, static_cast<uint64_t>(-1))).kind,
            SpanKind::kUnspecified);
  EXPECT_EQ(DecodeOneSpan(MinimalSpan("k").Varint(6, 0x100000002)).kind,
            SpanKind::kServer);  // int32 truncation
  for (int c = 0; c <= 2; ++c) {
    EXPECT_EQ(DecodeOneSpan(MinimalSpan("c").Msg(15, Pb().Varint(3, c))).status_code,
              static_cast<StatusCode>(c));
  }
  EXPECT_EQ(DecodeOneSpan(MinimalSpan("c").Msg(15, Pb().Varint(3, 3))).status_code,
            StatusCode::kUnset);
  // The deprecated field 1 of Status is ignored.
  Span s = DecodeOneSpan(MinimalSpan("c").Msg(15, Pb().Varint(1, 2).Bytes(2, "m")));
  EXPECT_EQ(s.status_code, StatusCode::kUnset);
  EXPECT_EQ(s.status_message, "m");
}

TEST(OtlpTracesProtoTest, TimesAreCopiedNotDefaulted) {
  Span s = DecodeOneSpan(MinimalSpan("t"));
  EXPECT_EQ(s.start_ns, 0);
  EXPECT_EQ(s.end_ns, 0);
  s = DecodeOneSpan(MinimalSpan("t").Fixed64(7, 20).Fixed64(8, 10));  // inverted: kept
  EXPECT_EQ(s.start_ns, 20);
  EXPECT_EQ(s.end_ns, 10);
  s = DecodeOneSpan(MinimalSpan("t").Fixed64(7, UINT64_MAX).Fixed64(8, uint64_t{1} << 63));
  EXPECT_EQ(s.start_ns, 0);
  EXPECT_EQ(s.end_ns, 0);
}

TEST(OtlpTracesProtoTest, DuplicateAttributesLastWins) {
  Span s = DecodeOneSpan(MinimalSpan("d")
                             .Msg(9, Kv("a", AnyInt(1)))
                             .Msg(9, Kv("b", AnyInt(2)))
                             .Msg(9, Kv("a", AnyInt(3)))
                             .Msg(9, Kv("empty", Pb())));
  EXPECT_EQ(Keys(s.attrs), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*s.FindAttr("a"), AttrValue::Int(3));
}

TEST(OtlpTracesProtoTest, BadIdsRejectOnlyThatSpan) {
  const std::string trace = Hex(kTraceHex), span = Hex(kSpanHex);
  const std::string zero16(16, '\0'), zero8(8, '\0');
  Pb ok = MinimalSpan("ok");
  Pb req = Request({ResourceSpans(
      Resource({Kv("service.name", AnyStr("svc"))}),
      {ScopeSpans(Pb(), {
                            ok,
                            Pb().Bytes(1, trace.substr(0, 15)).Bytes(2, span),  // short trace_id
                            Pb().Bytes(2, span),                                // no trace_id
                            Pb().Bytes(1, zero16).Bytes(2, span),               // zero trace_id
                            Pb().Bytes(1, trace).Bytes(2, span + "x"),          // long span_id
                            Pb().Bytes(1, trace),                               // no span_id
                            Pb().Bytes(1, trace).Bytes(2, zero8),               // zero span_id
                            MinimalSpan("p").Bytes(4, "abcd"),                  // 4-byte parent
                            MinimalSpan("zero parent").Bytes(4, zero8),         // zero parent: root
                            MinimalSpan("empty parent").Bytes(4, ""),
                        })})});
  SpanBatch batch;
  ASSERT_TRUE(DecodeOtlpTracesProto(req.str(), kNow, &batch).ok());
  ASSERT_EQ(batch.spans.size(), 3u);
  EXPECT_EQ(batch.spans[0].name, "ok");
  EXPECT_EQ(batch.spans[1].name, "zero parent");
  EXPECT_TRUE(batch.spans[1].parent_span_id.empty());
  EXPECT_EQ(batch.spans[2].name, "empty parent");
  for (const Span& s : batch.spans) EXPECT_EQ(s.service, "svc");
  EXPECT_EQ(batch.rejected, 7);
  EXPECT_EQ(batch.reject_reason, "span 2: trace_id is 15 bytes, want 16");

  // Reasons of the other kinds, one at a time; an existing reason is kept.
  auto reason_of = [](const Pb& bad) {
    SpanBatch b;
    EXPECT_TRUE(DecodeOtlpTracesProto(
                    Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {bad})})}).str(), kNow, &b)
                    .ok());
    EXPECT_EQ(b.rejected, 1);
    return b.reject_reason;
  };
  EXPECT_EQ(reason_of(Pb().Bytes(1, zero16).Bytes(2, span)), "span 1: trace_id is all zeros");
  EXPECT_EQ(reason_of(Pb().Bytes(1, trace)), "span 1: span_id is 0 bytes, want 8");
  EXPECT_EQ(reason_of(Pb().Bytes(1, trace).Bytes(2, zero8)), "span 1: span_id is all zeros");
  EXPECT_EQ(reason_of(MinimalSpan("p").Bytes(4, "abcd")),
            "span 1: parent_span_id is 4 bytes, want 0 or 8");
  SpanBatch b;
  b.rejected = 2;
  b.reject_reason = "earlier";
  ASSERT_TRUE(
      DecodeOtlpTracesProto(
          Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {Pb().Bytes(2, span)})})}).str(), kNow, &b)
          .ok());
  EXPECT_EQ(b.rejected, 3);
  EXPECT_EQ(b.reject_reason, "earlier");
}

TEST(OtlpTracesProtoTest, BadLinksAreDroppedAndCounted) {
  Pb good = Pb().Bytes(1, Hex(kLinkTraceHex)).Bytes(2, Hex(kLinkSpanHex));
  Pb short_trace = Pb().Bytes(1, "abc").Bytes(2, Hex(kLinkSpanHex));
  Pb zero_span = Pb().Bytes(1, Hex(kLinkTraceHex)).Bytes(2, std::string(8, '\0'));
  // dropped_links_count before and after the links: the bad ones are added either way.
  Span s = DecodeOneSpan(
      MinimalSpan("l").Varint(14, 1).Msg(13, short_trace).Msg(13, good).Msg(13, zero_span));
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].span_id.Hex(), kLinkSpanHex);
  EXPECT_EQ(s.dropped_links, 3u);
  s = DecodeOneSpan(MinimalSpan("l").Msg(13, Pb()).Varint(14, 1));
  EXPECT_TRUE(s.links.empty());
  EXPECT_EQ(s.dropped_links, 2u);
  s = DecodeOneSpan(MinimalSpan("l").Msg(13, Pb()).Varint(14, UINT32_MAX));
  EXPECT_EQ(s.dropped_links, UINT32_MAX);
}

TEST(OtlpTracesProtoTest, UnknownFieldsAndWrongWireTypesSkipped) {
  Pb span = MinimalSpan("u")
                .Varint(99, 1)
                .Fixed64(98, 2)
                .Fixed32(97, 3)
                .Bytes(96, "junk")
                .Bytes(6, "kind as bytes")  // wrong wire type for a known field
                .Varint(7, 5)               // start time as a varint
                .Varint(16, 1)              // flags as a varint
                .Varint(5, 1);              // name as a varint
  Pb rs = ResourceSpans(Resource({Kv("service.name", AnyStr("s"))}), {ScopeSpans(Pb(), {span})})
              .Bytes(3, "https://schema")
              .Varint(1000, 1);
  SpanBatch batch = DecodeProtoOk(Pb().Msg(1, rs).Bytes(2, "unknown top-level").str());
  ASSERT_EQ(batch.spans.size(), 1u);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.name, "u");
  EXPECT_EQ(s.kind, SpanKind::kUnspecified);
  EXPECT_EQ(s.start_ns, 0);
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(s.service, "s");
}

TEST(OtlpTracesProtoTest, InvalidUtf8Repaired) {
  Span s = DecodeOneSpan(MinimalSpan("ok \xff(")
                             .Bytes(3, "ts\x80")
                             .Msg(9, Kv("k\xc3", AnyStr("v")))
                             .Msg(15, Pb().Bytes(2, "\xed\xa0\x80")));
  EXPECT_EQ(s.name, "ok \xEF\xBF\xBD(");
  EXPECT_EQ(s.trace_state, "ts\xEF\xBF\xBD");
  EXPECT_EQ(s.attrs[0].key, "k\xEF\xBF\xBD");
  EXPECT_EQ(s.status_message, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(OtlpTracesProtoTest, MalformedWireData) {
  const std::string good = Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {FullSpan()})})}).str();
  for (size_t cut = 1; cut < good.size(); ++cut) {
    SCOPED_TRACE(cut);
    Status st = DecodeProtoStatus(good.substr(0, cut));
    // Every proper prefix leaves the outer length pointing past the end.
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
  }
  for (const std::string& body : std::vector<std::string>{
           std::string("\x0b", 1),                                           // group start
           std::string("\x0c", 1),                                           // group end
           std::string("\x0f", 1),                                           // wire type 7
           std::string("\x00\x00", 2),                                       // field 0
           std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11),  // overlong
           std::string("\x0a\x10", 2),                                       // length past the end
           Pb().Msg(1, Pb().Msg(2, Pb().Msg(2, Pb().Msg(11, Pb().Raw("\x0b"))))).str(),
           Pb().Msg(1, Pb().Msg(2, Pb().Msg(2, Pb().Msg(13, Pb().Raw("\x12\x09"))))).str(),
           Pb().Msg(1, Pb().Msg(2, Pb().Msg(2, Pb().Msg(15, Pb().Raw("\x18"))))).str(),
           Pb().Msg(1, Pb().Msg(2, Pb().Msg(1, Pb().Msg(3, Pb().Raw("\x0a"))))).str(),
           Pb().Msg(1, Pb().Msg(1, Pb().Msg(1, Pb().Raw("\x12\x01")))).str(),
       }) {
    SCOPED_TRACE(testing::PrintToString(body));
    Status st = DecodeProtoStatus(body);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_EQ(st.message().rfind("otlp protobuf: ", 0), 0u) << st.message();
  }
}

TEST(OtlpTracesProtoTest, ErrorsNameTheirPlace) {
  Status st = DecodeProtoStatus(
      Pb().Msg(1, Pb().Msg(2, Pb().Msg(2, Pb().Msg(11, Pb().Raw("\x0b"))))).str());
  EXPECT_EQ(st.message(),
            "otlp protobuf: ResourceSpans: ScopeSpans: Span: Event: groups are not supported");
}

TEST(OtlpTracesProtoTest, AnyValueNestingBound) {
  auto nested = [](int depth) {
    Pb v = AnyInt(1);
    for (int i = 1; i < depth; ++i) v = AnyArray({v});
    return Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {MinimalSpan("n").Msg(
                                                              11, Pb().Msg(3, Kv("deep", v)))})})})
        .str();
  };
  SpanBatch batch = DecodeProtoOk(nested(kMaxOtlpAnyValueDepth));
  ASSERT_EQ(batch.spans.size(), 1u);
  Status st = DecodeProtoStatus(nested(kMaxOtlpAnyValueDepth + 1));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("nesting"), std::string::npos);
}

TEST(OtlpTracesProtoTest, EmptyBodyAndEmptyMessages) {
  EXPECT_TRUE(DecodeProtoOk("").spans.empty());
  EXPECT_TRUE(
      DecodeProtoOk(Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {})})}).str()).spans.empty());
  // An empty Span has no ids: rejected, not an error.
  SpanBatch batch = DecodeProtoOk(Request({ResourceSpans(Pb(), {ScopeSpans(Pb(), {Pb()})})}).str());
  EXPECT_TRUE(batch.spans.empty());
  EXPECT_EQ(batch.rejected, 1);
}

TEST(OtlpTracesProtoTest, FanOutBombStopped) {
  // 200 KB of resource attributes copied onto 20000 spans would be 4 GB.
  Pb res = Resource({Kv("blob", AnyStr(std::string(200 << 10, 'x')))});
  Pb ss;
  for (int i = 0; i < 20000; ++i) ss.Msg(2, MinimalSpan(""));
  SpanBatch batch;
  Status st = DecodeOtlpTracesProto(Pb().Msg(1, Pb().Msg(1, res).Msg(2, ss)).str(), kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
  EXPECT_TRUE(batch.spans.empty());
  // The same through scope attributes.
  Pb scope = Scope("s", "", {Kv("blob", AnyStr(std::string(200 << 10, 'x')))});
  st = DecodeOtlpTracesProto(Pb().Msg(1, Pb().Msg(2, Pb(ss).Msg(1, scope))).str(), kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
  EXPECT_TRUE(batch.spans.empty());
}

TEST(OtlpTracesProtoTest, SpanCountCap) {
  std::string spans;
  for (size_t i = 0; i <= kMaxOtlpSpans; ++i) spans += std::string("\x12\x00", 2);
  SpanBatch batch;
  Status st = DecodeOtlpTracesProto(Pb().Msg(1, Pb().Msg(2, Pb().Raw(spans))).str(), kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
  EXPECT_NE(st.message().find("spans in one request"), std::string::npos);
  EXPECT_TRUE(batch.spans.empty());
  EXPECT_EQ(batch.rejected, 0);
}

// ---------------------------------------------------------------------------------------
// JSON decoding.

SpanBatch DecodeJsonOk(std::string_view body) {
  SpanBatch batch;
  Status st = DecodeOtlpTracesJson(body, kNow, &batch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return batch;
}

Status DecodeJsonStatus(std::string_view body) {
  SpanBatch batch;
  batch.spans.emplace_back().name = "earlier";
  Status st = DecodeOtlpTracesJson(body, kNow, &batch);
  if (!st.ok()) {
    EXPECT_EQ(batch.spans.size(), 1u);
    EXPECT_EQ(batch.rejected, 0);
  }
  return st;
}

// Wraps span objects (JSON text) into a request.
std::string JsonSpans(std::string_view spans) {
  return R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + std::string(spans) + "]}]}]}";
}

// protocols.md §1.5 (opentelemetry-proto examples/trace.json).
constexpr char kExampleTrace[] = R"({"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"my.service"}}]},
  "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0"},"spans":[
  {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
   "parentSpanId":"EEE19B7EC3C1B173","name":"I'm a server span",
   "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","kind":2,
   "attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}]}]}]}]})";

TEST(OtlpTracesJsonTest, ReferenceExample) {
  SpanBatch batch = DecodeJsonOk(kExampleTrace);
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.rejected, 0);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.trace_id.Hex(), kTraceHex);
  EXPECT_EQ(s.span_id.Hex(), kSpanHex);
  EXPECT_EQ(s.parent_span_id.Hex(), kParentHex);
  EXPECT_EQ(s.name, "I'm a server span");
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.start_ns, 1544712660000000000);
  EXPECT_EQ(s.end_ns, 1544712661000000000);
  EXPECT_EQ(s.service, "my.service");
  EXPECT_EQ(s.scope_name, "my.library");
  EXPECT_EQ(s.scope_version, "1.0.0");
  EXPECT_TRUE(s.resource_attrs().empty());
  ASSERT_EQ(s.attrs.size(), 1u);
  EXPECT_EQ(*s.FindAttr("my.span.attr"), AttrValue::String("some value"));
  EXPECT_EQ(s.status_code, StatusCode::kUnset);
  EXPECT_TRUE(s.events.empty());
  EXPECT_TRUE(s.links.empty());
}

TEST(OtlpTracesJsonTest, MatchesProtobufDecoding) {
  const char* json = R"json({"resourceSpans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"checkout"}},
      {"key":"deployment.environment.name","value":{"stringValue":"prod"}},
      {"key":"host.name","value":{"stringValue":"web-1"}},
      {"key":"shared","value":{"stringValue":"resource"}}]},
    "scopeSpans":[{"scope":{"name":"io.lib","version":"1.2.3","attributes":[
        {"key":"shared","value":{"stringValue":"scope"}},{"key":"lib.x","value":{"intValue":1}}]},
      "spans":[{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "traceState":"congo=t61rcWkgMzE","parentSpanId":"eee19b7ec3c1b173",
      "name":"GET /checkout","kind":2,
      "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
      "attributes":[
        {"key":"http.status_code","value":{"intValue":"500"}},
        {"key":"ratio","value":{"doubleValue":0.5}},
        {"key":"retry","value":{"boolValue":true}},
        {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"-2"},
                                                       {"boolValue":false}]}}},
        {"key":"ctx","value":{"kvlistValue":{"values":[
          {"key":"user","value":{"stringValue":"u\"1"}},{"key":"n","value":{"doubleValue":1.5}}]}}},
        {"key":"raw","value":{"bytesValue":"AAH+"}}],
      "droppedAttributesCount":4,
      "events":[
        {"timeUnixNano":"1544712660100000000","name":"cache.miss"},
        {"timeUnixNano":"1544712660500000000","name":"exception","attributes":[
          {"key":"exception.type","value":{"stringValue":"java.lang.IllegalStateException"}},
          {"key":"exception.message","value":{"stringValue":"boom"}},
          {"key":"exception.stacktrace","value":{"stringValue":"at x.y(Z.java:1)"}}],
         "droppedAttributesCount":2}],
      "droppedEventsCount":5,
      "links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
                "traceState":"vendor=1","attributes":[
                  {"key":"link.kind","value":{"stringValue":"follows"}}],
                "droppedAttributesCount":3,"flags":769}],
      "droppedLinksCount":"6",
      "status":{"message":"upstream failed","code":2},
      "flags":257}]}]}]})json";
  SpanBatch from_json = DecodeJsonOk(json);
  Pb resource = Resource({Kv("service.name", AnyStr("checkout")),
                          Kv("deployment.environment.name", AnyStr("prod")),
                          Kv("host.name", AnyStr("web-1")), Kv("shared", AnyStr("resource"))});
  Pb scope = Scope("io.lib", "1.2.3", {Kv("shared", AnyStr("scope")), Kv("lib.x", AnyInt(1))});
  SpanBatch from_proto =
      DecodeProtoOk(Request({ResourceSpans(resource, {ScopeSpans(scope, {FullSpan()})})}).str());
  ASSERT_EQ(from_json.spans.size(), 1u);
  ASSERT_EQ(from_proto.spans.size(), 1u);
  EXPECT_EQ(Dump(from_json.spans[0]), Dump(from_proto.spans[0]));
  EXPECT_EQ(from_json.spans[0].events.size(), 2u);
  EXPECT_EQ(from_json.spans[0].links.size(), 1u);
}

TEST(OtlpTracesJsonTest, NumbersOrStrings) {
  SpanBatch batch = DecodeJsonOk(JsonSpans(R"(
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "startTimeUnixNano":"1700000000000000001","endTimeUnixNano":1700000000000000002,
       "kind":"3","flags":"1","droppedAttributesCount":"7","droppedEventsCount":8,
       "attributes":[{"key":"a","value":{"intValue":"-9223372036854775808"}},
                     {"key":"b","value":{"intValue":9223372036854775807}},
                     {"key":"c","value":{"doubleValue":"NaN"}}],
       "events":[{"timeUnixNano":1.7e18,"name":"e"}],
       "status":{"code":"1"}},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "startTimeUnixNano":"18446744073709551615","endTimeUnixNano":-5})"));
  ASSERT_EQ(batch.spans.size(), 2u);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.start_ns, 1700000000000000001);
  EXPECT_EQ(s.end_ns, 1700000000000000002);
  EXPECT_EQ(s.kind, SpanKind::kClient);
  EXPECT_EQ(s.flags, 1u);
  EXPECT_EQ(s.dropped_attrs, 7u);
  EXPECT_EQ(s.dropped_events, 8u);
  EXPECT_EQ(*s.FindAttr("a"), AttrValue::Int(INT64_MIN));
  EXPECT_EQ(*s.FindAttr("b"), AttrValue::Int(INT64_MAX));
  EXPECT_EQ(s.FindAttr("c")->type, AttrValue::Type::kDouble);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].time_ns, 1700000000000000000);
  EXPECT_EQ(s.status_code, StatusCode::kOk);
  EXPECT_EQ(batch.spans[1].start_ns, 0);  // above INT64_MAX
  EXPECT_EQ(batch.spans[1].end_ns, 0);    // negative
}

TEST(OtlpTracesJsonTest, EnumNamesTolerated) {
  SpanBatch batch = DecodeJsonOk(JsonSpans(R"(
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "kind":"SPAN_KIND_PRODUCER","status":{"code":"STATUS_CODE_ERROR"}},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "kind":"consumer","status":{"code":"Ok"}},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "kind":"sideways","status":{"code":{"x":1}}},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "kind":1.5,"status":{"code":9}})"));
  ASSERT_EQ(batch.spans.size(), 4u);
  EXPECT_EQ(batch.spans[0].kind, SpanKind::kProducer);
  EXPECT_EQ(batch.spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(batch.spans[1].kind, SpanKind::kConsumer);
  EXPECT_EQ(batch.spans[1].status_code, StatusCode::kOk);
  EXPECT_EQ(batch.spans[2].kind, SpanKind::kUnspecified);
  EXPECT_EQ(batch.spans[2].status_code, StatusCode::kUnset);
  EXPECT_EQ(batch.spans[3].kind, SpanKind::kUnspecified);
  EXPECT_EQ(batch.spans[3].status_code, StatusCode::kUnset);
}

TEST(OtlpTracesJsonTest, Base64Ids) {
  // 5b8efff798038103d269b633813fc60c / eee19b7ec3c1b174 / ...173 in base64.
  SpanBatch batch = DecodeJsonOk(JsonSpans(R"(
      {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","parentSpanId":"7uGbfsPBsXM=",
       "links":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ="}]},
      {"traceId":"W47_95gDgQPSabYzgT_GDA","spanId":"7uGbfsPBsXQ"})"));
  ASSERT_EQ(batch.spans.size(), 2u);
  for (const Span& s : batch.spans) {
    EXPECT_EQ(s.trace_id.Hex(), kTraceHex);
    EXPECT_EQ(s.span_id.Hex(), kSpanHex);
  }
  EXPECT_EQ(batch.spans[0].parent_span_id.Hex(), kParentHex);
  ASSERT_EQ(batch.spans[0].links.size(), 1u);
  EXPECT_EQ(batch.spans[0].links[0].trace_id.Hex(), kTraceHex);
  EXPECT_TRUE(batch.spans[1].parent_span_id.empty());
}

TEST(OtlpTracesJsonTest, BadIdsRejectOnlyThatSpan) {
  SpanBatch batch = DecodeJsonOk(JsonSpans(R"(
      {"name":"ok","traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"},
      {"name":"bad","traceId":"xyz","spanId":"eee19b7ec3c1b174"},
      {"name":"bad","spanId":"eee19b7ec3c1b174"},
      {"name":"bad","traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b174"},
      {"name":"bad","traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b17g"},
      {"name":"bad","traceId":"5b8efff798038103d269b633813fc60c","spanId":""},
      {"name":"bad","traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000000"},
      {"name":"bad","traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "parentSpanId":"abcd"},
      {"name":"root","traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "parentSpanId":""},
      {"name":"zero parent","traceId":"5b8efff798038103d269b633813fc60c",
       "spanId":"eee19b7ec3c1b174","parentSpanId":"0000000000000000"})"));
  ASSERT_EQ(batch.spans.size(), 3u);
  EXPECT_EQ(batch.spans[0].name, "ok");
  EXPECT_EQ(batch.spans[1].name, "root");
  EXPECT_EQ(batch.spans[2].name, "zero parent");
  EXPECT_TRUE(batch.spans[2].parent_span_id.empty());
  EXPECT_EQ(batch.rejected, 7);
  EXPECT_EQ(batch.reject_reason, "span 2: invalid traceId \"xyz\" (want 32 hex digits)");

  auto reason_of = [](std::string_view span) {
    SpanBatch b = DecodeJsonOk(JsonSpans(span));
    EXPECT_EQ(b.rejected, 1);
    return b.reject_reason;
  };
  EXPECT_EQ(reason_of(R"({"spanId":"eee19b7ec3c1b174"})"), "span 1: traceId is missing");
  EXPECT_EQ(reason_of(R"({"traceId":"00000000000000000000000000000000",
                          "spanId":"eee19b7ec3c1b174"})"),
            "span 1: traceId is all zeros");
  EXPECT_EQ(reason_of(R"({"traceId":"5b8efff798038103d269b633813fc60c",
                          "spanId":"0000000000000000"})"),
            "span 1: spanId is all zeros");
  EXPECT_EQ(reason_of(R"({"traceId":"5b8efff798038103d269b633813fc60c",
                          "spanId":"eee19b7ec3c1b174","parentSpanId":"abcd"})"),
            "span 1: invalid parentSpanId \"abcd\" (want 16 hex digits)");
}

TEST(OtlpTracesJsonTest, BadLinksAreDroppedAndCounted) {
  SpanBatch batch = DecodeJsonOk(JsonSpans(R"(
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "droppedLinksCount":1,
       "links":[{"traceId":"nope","spanId":"b7ad6b7169203331"},
                {"spanId":"b7ad6b7169203331"},
                {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
                 "flags":1},
                {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"0000000000000000"}]})"));
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.rejected, 0);
  ASSERT_EQ(batch.spans[0].links.size(), 1u);
  EXPECT_EQ(batch.spans[0].links[0].flags, 1u);
  EXPECT_EQ(batch.spans[0].dropped_links, 4u);
}

TEST(OtlpTracesJsonTest, UnknownKeysAndNullsIgnored) {
  SpanBatch batch = DecodeJsonOk(R"({"future":{"a":[1,{"b":[]}]},"resourceSpans":[{
      "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}],
                  "droppedAttributesCount":0,"entityRefs":[{"type":"x"}]},
      "schemaUrl":"https://x","scopeSpans":[{"scope":null,"schemaUrl":"y","spans":[
        null,
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
         "parentSpanId":null,"name":null,"somethingNew":{"deep":[[[]]]},"attributes":null,
         "events":[null,{"name":"e","future":1}],"links":null,"status":null}]}]}]})");
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.spans[0].service, "s");
  EXPECT_TRUE(batch.spans[0].parent_span_id.empty());
  ASSERT_EQ(batch.spans[0].events.size(), 1u);
  EXPECT_EQ(batch.spans[0].events[0].name, "e");
}

TEST(OtlpTracesJsonTest, SnakeCaseKeysAccepted) {
  SpanBatch batch = DecodeJsonOk(R"({"resource_spans":[{"scope_spans":[{"spans":[
      {"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174",
       "parent_span_id":"eee19b7ec3c1b173","trace_state":"a=b",
       "start_time_unix_nano":"5","end_time_unix_nano":"6","dropped_attributes_count":1,
       "dropped_events_count":2,"dropped_links_count":3,
       "events":[{"time_unix_nano":"7","dropped_attributes_count":4}],
       "links":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331",
                 "trace_state":"c=d"}],
       "attributes":[{"key":"k","value":{"int_value":"1"}}]}]}]}]})");
  ASSERT_EQ(batch.spans.size(), 1u);
  const Span& s = batch.spans[0];
  EXPECT_EQ(s.parent_span_id.Hex(), kParentHex);
  EXPECT_EQ(s.trace_state, "a=b");
  EXPECT_EQ(s.start_ns, 5);
  EXPECT_EQ(s.end_ns, 6);
  EXPECT_EQ(s.dropped_attrs, 1u);
  EXPECT_EQ(s.dropped_events, 2u);
  EXPECT_EQ(s.dropped_links, 3u);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].time_ns, 7);
  EXPECT_EQ(s.events[0].dropped_attrs, 4u);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].trace_state, "c=d");
  EXPECT_EQ(*s.FindAttr("k"), AttrValue::Int(1));
}

TEST(OtlpTracesJsonTest, EmptyBodies) {
  EXPECT_TRUE(DecodeJsonOk("").spans.empty());
  EXPECT_TRUE(DecodeJsonOk("  \n").spans.empty());
  EXPECT_TRUE(DecodeJsonOk("{}").spans.empty());
  EXPECT_TRUE(DecodeJsonOk(R"({"resourceSpans":[]})").spans.empty());
  EXPECT_TRUE(DecodeJsonOk(R"({"resourceSpans":null})").spans.empty());
}

TEST(OtlpTracesJsonTest, MalformedIsAnError) {
  const std::string ids =
      R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174")";
  for (const std::string& body : std::vector<std::string>{
           std::string("[]"),
           std::string("nope"),
           std::string(R"({"resourceSpans":{}})"),
           std::string(R"({"resourceSpans":[1]})"),
           std::string(R"({"resourceSpans":[]} {})"),
           std::string(R"({"resourceSpans":[)"),
           JsonSpans("{},"),
           JsonSpans("1"),
           JsonSpans(R"({"traceId":7})"),
           JsonSpans(R"({"parentSpanId":true})"),
           JsonSpans(R"({"name":5})"),
           JsonSpans(R"({"startTimeUnixNano":"12x"})"),
           JsonSpans(R"({"endTimeUnixNano":true})"),
           JsonSpans(R"({"flags":-1})"),
           JsonSpans(R"({"flags":4294967296})"),
           JsonSpans(R"({"droppedAttributesCount":"x"})"),
           JsonSpans(R"({"droppedLinksCount":1.5})"),
           JsonSpans(R"({"attributes":[{"key":1}]})"),
           JsonSpans(R"({"attributes":{}})"),
           JsonSpans(R"({"events":[{"timeUnixNano":"soon"}]})"),
           JsonSpans(R"({"events":[{"attributes":[{"value":{"intValue":"1.5"}}]}]})"),
           JsonSpans(R"({"events":{}})"),
           JsonSpans(R"({"links":[{"spanId":3}]})"),
           JsonSpans(R"({"links":[{"flags":"big"}]})"),
           JsonSpans(R"({"status":{"message":1}})"),
           JsonSpans(R"({"status":[]})"),
           JsonSpans("{" + ids + R"(,"attributes":[{"key":"k","value":{"boolValue":"yes"}}]})"),
           R"({"resourceSpans":[{"scopeSpans":[{"scope":{"attributes":[{"key":2}]}}]}]})",
           R"({"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":1}]}}]})",
           "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\xff\"}]}]}]}",
       }) {
    SCOPED_TRACE(body);
    Status st = DecodeJsonStatus(body);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_EQ(st.message().rfind("otlp json: ", 0), 0u) << st.message();
  }
}

TEST(OtlpTracesJsonTest, ErrorsNameTheirPlace) {
  Status st = DecodeJsonStatus(JsonSpans(R"({"events":[{"timeUnixNano":"soon"}]})"));
  EXPECT_EQ(st.message(),
            "otlp json: resourceSpans: scopeSpans: spans: events: timeUnixNano: not a uint64");
}

TEST(OtlpTracesJsonTest, AnyValueNestingBound) {
  auto nested = [](int depth) {
    std::string v = R"({"intValue":1})";
    for (int i = 1; i < depth; ++i) v = R"({"arrayValue":{"values":[)" + v + "]}}";
    return JsonSpans(R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
                     R"("links":[{"attributes":[{"key":"deep","value":)" +
                     v + "}]}]}");
  };
  DecodeJsonOk(nested(kMaxOtlpAnyValueDepth));
  Status st = DecodeJsonStatus(nested(kMaxOtlpAnyValueDepth + 1));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("nesting"), std::string::npos);
}

TEST(OtlpTracesJsonTest, FanOutBombStopped) {
  std::string spans;
  for (int i = 0; i < 20000; ++i) {
    if (i) spans += ',';
    spans += R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"})";
  }
  std::string body = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"blob","value":{)"
                     R"("stringValue":")" +
                     std::string(2 << 20, 'x') + R"("}}]},"scopeSpans":[{"spans":[)" + spans +
                     "]}]}]}";
  SpanBatch batch;
  Status st = DecodeOtlpTracesJson(body, kNow, &batch);
  EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
  EXPECT_TRUE(batch.spans.empty());
}

// ---------------------------------------------------------------------------------------
// Responses.

TEST(OtlpTracesResponseTest, Proto) {
  EXPECT_EQ(EncodeTracesResponseProto(0, ""), "");
  EXPECT_EQ(EncodeTracesResponseProto(3, ""), std::string("\x0a\x02\x08\x03", 4));
  EXPECT_EQ(EncodeTracesResponseProto(0, "warn"), std::string("\x0a\x06\x12\x04warn", 8));
  EXPECT_EQ(EncodeTracesResponseProto(300, "x"), std::string("\x0a\x06\x08\xac\x02\x12\x01x", 8));
}

TEST(OtlpTracesResponseTest, Json) {
  EXPECT_EQ(EncodeTracesResponseJson(0, ""), "{}");
  EXPECT_EQ(EncodeTracesResponseJson(3, "bad \"id\""),
            R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad \"id\""}})");
  EXPECT_EQ(EncodeTracesResponseJson(2, ""), R"({"partialSuccess":{"rejectedSpans":"2"}})");
  EXPECT_EQ(EncodeTracesResponseJson(0, "w\xff"),
            "{\"partialSuccess\":{\"errorMessage\":\"w\xEF\xBF\xBD\"}}");
}

TEST(OtlpTracesResponseTest, RejectionsRoundTrip) {
  SpanBatch batch = DecodeJsonOk(JsonSpans(R"({"traceId":"xyz"})"));
  EXPECT_EQ(EncodeTracesResponseJson(batch.rejected, batch.reject_reason),
            R"json({"partialSuccess":{"rejectedSpans":"1","errorMessage":)json"
            R"json("span 1: invalid traceId \"xyz\" (want 32 hex digits)"}})json");
  // The google.rpc.Status encoders are shared with logs.
  EXPECT_EQ(EncodeRpcStatusJson(3, "otlp json: x"), R"({"code":3,"message":"otlp json: x"})");
}

}  // namespace
}  // namespace sightline::ingest
