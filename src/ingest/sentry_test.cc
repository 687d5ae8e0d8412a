#include "ingest/sentry.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"

namespace sightline::ingest {
namespace {

using model::ErrorEvent;
using model::StackFrame;

constexpr int64_t kNow = 1'800'000'000'000'000'000;

// Fixtures captured from the Debian python3-sentry-sdk 1.9.10 (gzip already decoded) by
// pointing it at a loopback capture server: store bodies are the events of
// capture_exception / capture_message inside a transaction; the envelopes are a
// transaction and an event with an attachment (sent to /envelope/).
std::string Fixture(std::string_view name) {
  std::string dir = __FILE__;
  dir.resize(dir.rfind('/') + 1);
  std::string body;
  const Status st = ReadFileToString(dir + "testdata/sentry/" + std::string(name), &body);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return body;
}

ErrorEvent DecodeOk(std::string_view json) {
  ErrorEvent ev;
  const Status st = DecodeSentryEvent(json, kNow, &ev);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return ev;
}

std::string Get(const std::vector<std::pair<std::string, std::string>>& pairs,
                std::string_view key) {
  for (const auto& [k, v] : pairs) {
    if (k == key) return v;
  }
  return "<absent>";
}

// ---------------------------------------------------------------------------------------
// Real payloads.

TEST(SentryEventTest, PythonStoreException) {
  const ErrorEvent ev = DecodeOk(Fixture("python_store_exception.json"));
  EXPECT_EQ(ev.event_id, "18b3ae7106c3483988cfbfd3721fa10f");
  EXPECT_EQ(ev.ts_ns, 1795612243276575000);
  EXPECT_EQ(ev.received_ns, kNow);
  EXPECT_EQ(ev.platform, "python");
  EXPECT_EQ(ev.level, "error");
  EXPECT_EQ(ev.transaction, "job");
  EXPECT_EQ(ev.server_name, "testhost");
  EXPECT_EQ(ev.release, "myapp@1.0.0");
  EXPECT_EQ(ev.environment, "staging");
  EXPECT_EQ(ev.sdk_name, "sentry.python");
  EXPECT_EQ(ev.sdk_version, "1.9.10");
  EXPECT_EQ(ev.message, "");
  ASSERT_EQ(ev.exceptions.size(), 1u);
  const model::ExceptionInfo& ex = ev.exceptions[0];
  EXPECT_EQ(ex.type, "ZeroDivisionError");
  EXPECT_EQ(ex.value, "division by zero");
  EXPECT_EQ(ex.module, "");     // null
  EXPECT_EQ(ex.mechanism, "");  // null
  EXPECT_FALSE(ex.handled.has_value());
  ASSERT_EQ(ex.frames.size(), 3u);
  const char* functions[] = {"<module>", "outer", "inner"};
  const int64_t lines[] = {18, 11, 7};
  for (size_t i = 0; i < 3; ++i) {
    const StackFrame& f = ex.frames[i];
    EXPECT_EQ(f.function, functions[i]);
    EXPECT_EQ(f.lineno, lines[i]);
    EXPECT_EQ(f.module, "__main__");
    EXPECT_EQ(f.filename, "client.py");
    EXPECT_EQ(f.abs_path, "/tmp/sentrycap/client.py");
    EXPECT_EQ(f.in_app, std::optional<bool>(true));
    EXPECT_EQ(f.pre_context.size(), 5u);
    EXPECT_EQ(f.post_context.size(), 5u);
  }
  EXPECT_EQ(ex.frames[2].context_line, "    return 10 / x");
  EXPECT_EQ(ex.frames[2].pre_context.back(), "def inner(x):");
  EXPECT_EQ(ex.frames[2].post_context[1], "def outer():");
  EXPECT_EQ(ex.frames[1].context_line, "    return inner(0)");
  EXPECT_EQ(Get(ex.frames[2].vars, "x"), "0");
  EXPECT_EQ(Get(ex.frames[1].vars, "local_var"), "'hello'");
  EXPECT_EQ(Get(ex.frames[0].vars, "__annotations__"), "{}");  // non-string -> JSON text

  ASSERT_EQ(ev.breadcrumbs.size(), 1u);
  EXPECT_EQ(ev.breadcrumbs[0].category, "auth");
  EXPECT_EQ(ev.breadcrumbs[0].message, "login");
  EXPECT_EQ(ev.breadcrumbs[0].level, "info");
  EXPECT_EQ(ev.breadcrumbs[0].type, "default");
  EXPECT_EQ(ev.breadcrumbs[0].ts_ns, 1795612243276288000);

  ASSERT_EQ(ev.tags.size(), 1u);
  EXPECT_EQ(Get(ev.tags, "tier"), "backend");
  EXPECT_EQ(ev.user.id, "u1");
  EXPECT_EQ(ev.user.email, "a@b.c");
  EXPECT_EQ(ev.trace_id.Hex(), "1cebe7a80d3646d0a6515c0157b79f8a");
  EXPECT_EQ(ev.span_id.Hex(), "8c09fa280eb63fd7");
  EXPECT_EQ(
      ev.contexts_json,
      R"({"runtime":{"name":"CPython","version":"3.11.2","build":"3.11.2 (main, Apr 28 2025, )"
      R"(14:11:48) [GCC 12.2.0]"}})");
  EXPECT_EQ(ev.extra_json, R"({"sys.argv":["client.py","38123"]})");
}

TEST(SentryEventTest, PythonStoreChainedException) {
  const ErrorEvent ev = DecodeOk(Fixture("python_store_chained.json"));
  ASSERT_EQ(ev.exceptions.size(), 2u);
  // Oldest first: the cause, then the exception actually raised.
  EXPECT_EQ(ev.exceptions[0].type, "KeyError");
  EXPECT_EQ(ev.exceptions[0].value, "'missing'");
  EXPECT_EQ(ev.exceptions[1].type, "ValueError");
  EXPECT_EQ(ev.exceptions[1].value, "bad value 42");
  ASSERT_EQ(ev.exceptions[1].frames.size(), 1u);
  EXPECT_EQ(ev.exceptions[1].frames[0].lineno, 26);
  EXPECT_EQ(ev.exceptions[0].frames[0].lineno, 24);
}

TEST(SentryEventTest, PythonStoreMessage) {
  const ErrorEvent ev = DecodeOk(Fixture("python_store_message.json"));
  EXPECT_EQ(ev.message, "something happened");
  EXPECT_EQ(ev.message_template, "");
  EXPECT_EQ(ev.level, "warning");
  EXPECT_TRUE(ev.exceptions.empty());
  EXPECT_EQ(ev.trace_id.Hex(), "1cebe7a80d3646d0a6515c0157b79f8a");
}

TEST(SentryEnvelopeTest, PythonEventWithAttachment) {
  const std::string body = Fixture("python_envelope_event_attachment.envelope");
  SentryEnvelope env;
  const Status st = ParseSentryEnvelope(body, &env);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(env.event_id, "0ed4f990467e4d02956cd5026c3be82c");
  EXPECT_EQ(env.sent_at, "2026-11-25T13:10:43.400019Z");
  EXPECT_EQ(env.dsn, "");
  ASSERT_EQ(env.items.size(), 2u);
  EXPECT_EQ(env.items[0].type, "event");
  EXPECT_EQ(env.items[0].content_type, "application/json");
  EXPECT_EQ(env.items[0].payload.size(), 3670u);
  EXPECT_EQ(env.items[1].type, "attachment");
  EXPECT_EQ(env.items[1].filename, "hello.txt");
  EXPECT_EQ(env.items[1].content_type, "text/plain");
  EXPECT_EQ(env.items[1].payload, "hello attachment\n");

  const ErrorEvent ev = DecodeOk(env.items[0].payload);
  EXPECT_EQ(ev.event_id, env.event_id);
  ASSERT_EQ(ev.exceptions.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].type, "ZeroDivisionError");
  ASSERT_EQ(ev.exceptions[0].frames.size(), 3u);
  EXPECT_EQ(ev.exceptions[0].frames[0].lineno, 34);
  EXPECT_EQ(ev.exceptions[0].frames[2].function, "inner");
  EXPECT_TRUE(ev.trace_id.empty());  // outside a transaction, python 1.9 sends no trace
}

TEST(SentryEnvelopeTest, PythonTransaction) {
  const std::string body = Fixture("python_envelope_transaction.envelope");
  SentryEnvelope env;
  const Status st = ParseSentryEnvelope(body, &env);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(env.event_id, "24a0e357cf0c4eaeb43258f872a1a560");
  EXPECT_EQ(env.trace_json,
            R"({"trace_id":"1cebe7a80d3646d0a6515c0157b79f8a","public_key":"publickey",)"
            R"("sample_rate":"1.0","release":"myapp@1.0.0","environment":"staging",)"
            R"("transaction":"job"})");
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].type, "transaction");
  EXPECT_EQ(env.items[0].payload.size(), 897u);
  EXPECT_EQ(env.items[0].payload.front(), '{');
  EXPECT_EQ(env.items[0].payload.back(), '}');
}

// ---------------------------------------------------------------------------------------
// Envelope edge cases.

SentryEnvelope ParseOk(std::string_view body) {
  SentryEnvelope env;
  const Status st = ParseSentryEnvelope(body, &env);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return env;
}

void ExpectEnvelopeError(std::string_view body, std::string_view substr) {
  SentryEnvelope env;
  const Status st = ParseSentryEnvelope(body, &env);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << body;
  EXPECT_NE(st.message().find("sentry envelope: "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(substr), std::string::npos) << st.message();
}

TEST(SentryEnvelopeTest, SpecExample) {
  const std::string body =
      "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://"
      "e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42\"}\n"
      "{\"type\":\"attachment\",\"length\":10,\"content_type\":\"text/plain\",\"filename\":"
      "\"hello.txt\"}\n"
      "\xef\xbb\xbfHello\r\n\n"
      "{\"type\":\"event\",\"length\":41,\"content_type\":\"application/json\",\"filename\":"
      "\"application.log\"}\n"
      "{\"message\":\"hello world\",\"level\":\"error\"}\n";
  const SentryEnvelope env = ParseOk(body);
  EXPECT_EQ(env.dsn, "https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42");
  ASSERT_EQ(env.items.size(), 2u);
  EXPECT_EQ(env.items[0].payload, "\xef\xbb\xbfHello\r\n");
  EXPECT_EQ(env.items[1].payload, "{\"message\":\"hello world\",\"level\":\"error\"}");
  EXPECT_NE(env.items[1].header.find("application.log"), std::string_view::npos);
  const ErrorEvent ev = DecodeOk(env.items[1].payload);
  EXPECT_EQ(ev.message, "hello world");
}

TEST(SentryEnvelopeTest, NodeStyleNoLengthNoTrailingNewline) {
  // @sentry/node: no "length", no final newline; float timestamps; sdk in the header.
  const std::string body =
      R"({"event_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","sent_at":"2026-11-25T08:29:29.424Z",)"
      R"("sdk":{"name":"sentry.javascript.node","version":"11.12.0"},)"
      R"("trace":{"trace_id":"0123456789abcdef0123456789abcdef","public_key":"k"}})"
      "\n"
      R"({"type":"event"})"
      "\n"
      R"({"event_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","timestamp":1795595369.423,)"
      R"("platform":"node","exception":{"values":[{"type":"Error","value":"boom",)"
      R"("mechanism":{"type":"onunhandledrejection","handled":false},)"
      R"("stacktrace":{"frames":[{"filename":"/app/x.js","function":"f","lineno":3,"colno":9,)"
      R"("in_app":true}]}}]}})"
      "\n"
      R"({"type":"session"})"
      "\n"
      R"({"sid":"s","init":true,"status":"ok"})";
  const SentryEnvelope env = ParseOk(body);
  EXPECT_EQ(env.sdk_name, "sentry.javascript.node");
  EXPECT_EQ(env.sdk_version, "11.12.0");
  ASSERT_EQ(env.items.size(), 2u);
  EXPECT_EQ(env.items[1].type, "session");
  EXPECT_EQ(env.items[1].payload, R"({"sid":"s","init":true,"status":"ok"})");
  const ErrorEvent ev = DecodeOk(env.items[0].payload);
  EXPECT_EQ(ev.platform, "node");
  EXPECT_NEAR(static_cast<double>(ev.ts_ns), 1795595369.423e9, 1e3);
  ASSERT_EQ(ev.exceptions.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].mechanism, "onunhandledrejection");
  EXPECT_EQ(ev.exceptions[0].handled, std::optional<bool>(false));
  ASSERT_EQ(ev.exceptions[0].frames.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].frames[0].colno, 9);
}

TEST(SentryEnvelopeTest, MinimalAndUnknownItems) {
  EXPECT_TRUE(ParseOk("{}").items.empty());
  EXPECT_TRUE(ParseOk("{}\n").items.empty());
  // Unknown types are kept; an empty payload at EOF; blank lines between items are skipped.
  const SentryEnvelope env = ParseOk(
      "{}\n{\"type\":\"brand_new\",\"x\":1}\nabc\n\n"
      "{\"type\":\"client_report\",\"length\":0}\n\n"
      "{\"type\":\"log\"}");
  ASSERT_EQ(env.items.size(), 3u);
  EXPECT_EQ(env.items[0].type, "brand_new");
  EXPECT_EQ(env.items[0].payload, "abc");
  EXPECT_EQ(env.items[1].payload, "");
  EXPECT_EQ(env.items[2].type, "log");
  EXPECT_EQ(env.items[2].payload, "");
  // length counts bytes and may include newlines; a CRLF-terminated line keeps its \r.
  const SentryEnvelope env2 = ParseOk(
      "{}\n{\"type\":\"a\",\"length\":3}\na\nb\n"
      "{\"type\":\"b\"}\r\nxy\r\n");
  ASSERT_EQ(env2.items.size(), 2u);
  EXPECT_EQ(env2.items[0].payload, "a\nb");
  EXPECT_EQ(env2.items[1].payload, "xy\r");
}

TEST(SentryEnvelopeTest, Errors) {
  ExpectEnvelopeError("", "empty body");
  ExpectEnvelopeError("not json\n", "envelope header");
  ExpectEnvelopeError("[]\n", "not a JSON object");
  ExpectEnvelopeError("{}\n{\"length\":1}\nx", "no string \"type\"");
  ExpectEnvelopeError("{}\n{\"type\":7}\nx", "no string \"type\"");
  ExpectEnvelopeError("{}\n{\"type\":\"event\"\nx", "header");
  ExpectEnvelopeError("{}\n{\"type\":\"event\",\"length\":-1}\nx", "length");
  ExpectEnvelopeError("{}\n{\"type\":\"event\",\"length\":\"3\"}\nxyz", "length");
  ExpectEnvelopeError("{}\n{\"type\":\"event\",\"length\":1.5}\nxyz", "length");
  ExpectEnvelopeError("{}\n{\"type\":\"event\",\"length\":10}\nxyz", "runs past the end");
  ExpectEnvelopeError("{}\n{\"type\":\"event\",\"length\":1}\nxyz", "not followed by a newline");
  ExpectEnvelopeError("{}\n{\"type\":\"event\",\"length\":1}", "runs past the end");
}

TEST(SentryEnvelopeTest, TooManyItems) {
  std::string body = "{}\n";
  for (size_t i = 0; i <= kMaxSentryEnvelopeItems; ++i) body += "{\"type\":\"x\"}\n\n";
  SentryEnvelope env;
  EXPECT_EQ(ParseSentryEnvelope(body, &env).code(), Code::kPayloadTooLarge);
}

// ---------------------------------------------------------------------------------------
// Event edge cases.

TEST(SentryEventTest, Errors) {
  ErrorEvent ev;
  ev.release = "keep";
  for (std::string_view bad :
       {"", "nope", "[]", "\"x\"", "{\"a\":1} x", "{\"a\":", "null", "{\"a\":\"\xff\"}"}) {
    const Status st = DecodeSentryEvent(bad, kNow, &ev);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(st.message().rfind("sentry event: ", 0), 0u) << st.message();
    EXPECT_EQ(ev.release, "keep");
  }
}

TEST(SentryEventTest, EmptyObjectDefaults) {
  const ErrorEvent ev = DecodeOk("{}");
  EXPECT_EQ(ev.ts_ns, kNow);
  EXPECT_EQ(ev.received_ns, kNow);
  EXPECT_EQ(ev.level, "error");
  EXPECT_TRUE(ev.event_id.empty());
  EXPECT_EQ(ev.contexts_json, "");
  EXPECT_EQ(ev.extra_json, "");
}

TEST(SentryEventTest, WrongTypesAreIgnored) {
  const ErrorEvent ev = DecodeOk(
      R"({"event_id":12,"timestamp":{},"platform":[],"level":3,"logger":null,"release":1.5,)"
      R"("exception":"x","tags":"t","user":[],"request":1,"breadcrumbs":{"values":7},)"
      R"("contexts":[],"extra":[1],"sdk":"s","fingerprint":{},"message":5,)"
      R"("transaction":false})");
  EXPECT_TRUE(ev.event_id.empty());
  EXPECT_EQ(ev.ts_ns, kNow);
  EXPECT_EQ(ev.platform, "");
  EXPECT_EQ(ev.level, "error");
  EXPECT_EQ(ev.release, "1.5");  // scalar releases are kept as text
  EXPECT_TRUE(ev.exceptions.empty());
  EXPECT_TRUE(ev.tags.empty());
  EXPECT_TRUE(ev.breadcrumbs.empty());
  EXPECT_EQ(ev.contexts_json, "");
  EXPECT_EQ(ev.extra_json, "");
  EXPECT_EQ(ev.message, "");
  EXPECT_EQ(ev.transaction, "");

  const ErrorEvent ev2 =
      DecodeOk(R"({"exception":{"values":[1,null,{"type":5,"value":7,"mechanism":"m",)"
               R"("stacktrace":{"frames":[1,{"lineno":"3","in_app":"yes","vars":[1],)"
               R"("pre_context":"x","post_context":[null,1,"ok"]}]}}]}})");
  ASSERT_EQ(ev2.exceptions.size(), 1u);
  EXPECT_EQ(ev2.exceptions[0].type, "");
  EXPECT_EQ(ev2.exceptions[0].value, "7");
  EXPECT_EQ(ev2.exceptions[0].mechanism, "");
  ASSERT_EQ(ev2.exceptions[0].frames.size(), 1u);
  const StackFrame& f = ev2.exceptions[0].frames[0];
  EXPECT_EQ(f.lineno, 0);
  EXPECT_FALSE(f.in_app.has_value());
  EXPECT_TRUE(f.vars.empty());
  EXPECT_TRUE(f.pre_context.empty());
  EXPECT_EQ(f.post_context, (std::vector<std::string>{"", "", "ok"}));
}

TEST(SentryEventTest, AlternateShapes) {
  const ErrorEvent ev = DecodeOk(
      R"({"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC","timestamp":"2024-05-01T12:00:00Z",)"
      R"("level":"WARN","logger":"app.db","dist":"42",)"
      R"("exception":[{"type":"A","value":"a"},{"type":"B","value":"b"}],)"
      R"("breadcrumbs":[{"timestamp":1714564800.5,"category":"http",)"
      R"("data":{"url":"/x","status_code":200,"nested":{"a":[1]}}}],)"
      R"("tags":[["a","1"],["b",2],["c"],[1,2],["d",true]],)"
      R"("fingerprint":["{{ default }}","db",3],)"
      R"("user":{"id":42,"username":"bob","ip_address":"{{auto}}"},)"
      R"("request":{"method":"GET","url":"http://h/p","query_string":[["q","1"],["r","2"]],)"
      R"("headers":[["Host","h"],["X-N",5]]},)"
      R"("contexts":{"os":{"name":"Linux"},"trace":{"trace_id":"0123456789ABCDEF0123456789abcdef",)"
      R"("span_id":"0123456789abcdef"},"we\"ird":1}})");
  EXPECT_EQ(ev.event_id, "9ec79c33ec9942ab8353589fcb2e04dc");
  EXPECT_EQ(ev.ts_ns, 1714564800'000000000);
  EXPECT_EQ(ev.level, "warning");
  EXPECT_EQ(ev.logger, "app.db");
  EXPECT_EQ(ev.dist, "42");
  ASSERT_EQ(ev.exceptions.size(), 2u);
  EXPECT_EQ(ev.exceptions[1].type, "B");
  ASSERT_EQ(ev.breadcrumbs.size(), 1u);
  EXPECT_EQ(ev.breadcrumbs[0].ts_ns, 1714564800'500000000);
  EXPECT_EQ(Get(ev.breadcrumbs[0].data, "url"), "/x");
  EXPECT_EQ(Get(ev.breadcrumbs[0].data, "status_code"), "200");
  EXPECT_EQ(Get(ev.breadcrumbs[0].data, "nested"), R"({"a":[1]})");
  EXPECT_EQ(ev.tags, (std::vector<std::pair<std::string, std::string>>{
                         {"a", "1"}, {"b", "2"}, {"d", "true"}}));
  EXPECT_EQ(ev.fingerprint, (std::vector<std::string>{"{{ default }}", "db", "3"}));
  EXPECT_EQ(ev.user.id, "42");
  EXPECT_EQ(ev.user.username, "bob");
  EXPECT_EQ(ev.user.ip_address, "{{auto}}");
  EXPECT_EQ(ev.request.method, "GET");
  EXPECT_EQ(ev.request.url, "http://h/p");
  EXPECT_EQ(ev.request.query_string, "q=1&r=2");
  EXPECT_EQ(Get(ev.request.headers, "Host"), "h");
  EXPECT_EQ(Get(ev.request.headers, "X-N"), "5");
  EXPECT_EQ(ev.trace_id.Hex(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(ev.span_id.Hex(), "0123456789abcdef");
  EXPECT_EQ(ev.contexts_json, R"({"os":{"name":"Linux"},"we\"ird":1})");

  // Legacy single-exception object; query string as a string with "?"; headers as object.
  const ErrorEvent ev2 =
      DecodeOk(R"({"exception":{"type":"E","value":"v","module":"m","stacktrace":{"frames":[{}]}},)"
               R"("request":{"query_string":"?a=1","headers":{"Accept":"*/*"}},)"
               R"("contexts":{"trace":{"trace_id":"nothex","span_id":"short"}}})");
  ASSERT_EQ(ev2.exceptions.size(), 1u);
  EXPECT_EQ(ev2.exceptions[0].module, "m");
  EXPECT_EQ(ev2.exceptions[0].frames.size(), 1u);
  EXPECT_EQ(ev2.request.query_string, "a=1");
  EXPECT_EQ(Get(ev2.request.headers, "Accept"), "*/*");
  EXPECT_TRUE(ev2.trace_id.empty());
  EXPECT_TRUE(ev2.span_id.empty());
  EXPECT_EQ(ev2.contexts_json, "");
}

TEST(SentryEventTest, Messages) {
  // The python logging integration: logentry with params, no formatted text.
  ErrorEvent ev = DecodeOk(
      R"j({"logentry":{"message":"user %s failed %d times (100%%)","params":["bob",3]}})j");
  EXPECT_EQ(ev.message, "user bob failed 3 times (100%)");
  EXPECT_EQ(ev.message_template, "user %s failed %d times (100%%)");
  ev = DecodeOk(R"({"message":{"message":"x {} y {}","params":[1],"formatted":"F"}})");
  EXPECT_EQ(ev.message, "F");
  EXPECT_EQ(ev.message_template, "x {} y {}");
  ev = DecodeOk(R"({"message":{"message":"x {} y {}","params":[1]}})");
  EXPECT_EQ(ev.message, "x 1 y {}");
  ev = DecodeOk(R"({"message":"plain","logentry":{"formatted":"from logentry"}})");
  EXPECT_EQ(ev.message, "from logentry");
  ev = DecodeOk(R"({"message":"plain","logentry":{"params":[]}})");
  EXPECT_EQ(ev.message, "plain");
  ev = DecodeOk(R"({"logentry":{"message":"no params %s"}})");
  EXPECT_EQ(ev.message, "no params %s");
}

TEST(SentryEventTest, Caps) {
  std::string frames;
  for (size_t i = 1; i <= kMaxSentryFrames + 10; ++i) {
    if (i > 1) frames += ",";
    frames += "{\"lineno\":" + std::to_string(i) + "}";
  }
  std::string exceptions;
  for (size_t i = 1; i <= kMaxSentryExceptions + 3; ++i) {
    if (i > 1) exceptions += ",";
    exceptions += "{\"type\":\"E" + std::to_string(i) + "\"}";
  }
  std::string crumbs;
  for (size_t i = 1; i <= kMaxSentryBreadcrumbs + 5; ++i) {
    if (i > 1) crumbs += ",";
    crumbs += "{\"message\":\"" + std::to_string(i) + "\"}";
  }
  std::string lines;
  for (size_t i = 1; i <= kMaxSentryContextLines + 2; ++i) {
    if (i > 1) lines += ",";
    lines += "\"" + std::to_string(i) + "\"";
  }
  const std::string big(kMaxSentryValueBytes + 100, 'v');
  const ErrorEvent ev =
      DecodeOk("{\"exception\":{\"values\":[" + exceptions +
               ",{\"type\":\"Last\",\"stacktrace\":{\"frames\":[" + frames + ",{\"pre_context\":[" +
               lines + "],\"post_context\":[" + lines + "],\"vars\":{\"big\":\"" + big +
               "\"}}]}}]},\"breadcrumbs\":{\"values\":[" + crumbs + "]},\"extra\":{\"x\":\"" +
               std::string(kMaxSentryJsonBytes, 'x') + "\"}}");
  ASSERT_EQ(ev.exceptions.size(), kMaxSentryExceptions);
  EXPECT_EQ(ev.exceptions.back().type, "Last");
  EXPECT_EQ(ev.exceptions.front().type, "E5");  // the oldest 4 of 36 dropped
  const auto& fr = ev.exceptions.back().frames;
  ASSERT_EQ(fr.size(), kMaxSentryFrames);
  EXPECT_EQ(fr.front().lineno, 1);
  EXPECT_EQ(fr[kMaxSentryFrames / 2 - 1].lineno, static_cast<int64_t>(kMaxSentryFrames / 2));
  EXPECT_EQ(fr[kMaxSentryFrames / 2].lineno, static_cast<int64_t>(kMaxSentryFrames / 2 + 12));
  EXPECT_EQ(fr[fr.size() - 2].lineno, static_cast<int64_t>(kMaxSentryFrames + 10));
  const StackFrame& last = fr.back();
  ASSERT_EQ(last.pre_context.size(), kMaxSentryContextLines);
  EXPECT_EQ(last.pre_context.front(), "3");  // nearest the context line kept
  ASSERT_EQ(last.post_context.size(), kMaxSentryContextLines);
  EXPECT_EQ(last.post_context.front(), "1");
  EXPECT_EQ(Get(last.vars, "big").size(), kMaxSentryValueBytes);
  ASSERT_EQ(ev.breadcrumbs.size(), kMaxSentryBreadcrumbs);
  EXPECT_EQ(ev.breadcrumbs.front().message, "6");
  EXPECT_EQ(ev.breadcrumbs.back().message, std::to_string(kMaxSentryBreadcrumbs + 5));
  EXPECT_EQ(ev.extra_json, "");  // over kMaxSentryJsonBytes: dropped
}

TEST(SentryEventTest, Utf8CutOnBoundary) {
  std::string big;
  while (big.size() < kMaxSentryValueBytes + 10) big += "\xc3\xa9";  // é
  big = "x" + big;  // odd offset: the cut falls inside a sequence
  const ErrorEvent ev = DecodeOk("{\"breadcrumbs\":[{\"data\":{\"k\":\"" + big + "\"}}]}");
  ASSERT_EQ(ev.breadcrumbs.size(), 1u);
  const std::string v = Get(ev.breadcrumbs[0].data, "k");
  EXPECT_EQ(v.size(), kMaxSentryValueBytes - 1);
  EXPECT_EQ(static_cast<unsigned char>(v.back()), 0xa9);
}

// ---------------------------------------------------------------------------------------
// Auth, DSN, event ids.

TEST(SentryAuthTest, Header) {
  SentryAuth auth;
  ASSERT_TRUE(ParseSentryAuth(
      "Sentry sentry_key=publickey, sentry_version=7, sentry_client=sentry.python/1.9.10", &auth));
  EXPECT_EQ(auth.key, "publickey");
  EXPECT_EQ(auth.version, "7");
  EXPECT_EQ(auth.client, "sentry.python/1.9.10");
  ASSERT_TRUE(
      ParseSentryAuth("sentry sentry_key=\"k\",sentry_secret=s , sentry_timestamp=1", &auth));
  EXPECT_EQ(auth.key, "k");
  EXPECT_EQ(auth.secret, "s");
  EXPECT_EQ(auth.version, "");
  EXPECT_FALSE(ParseSentryAuth("Sentry sentry_version=7", &auth));
  EXPECT_FALSE(ParseSentryAuth("Basic dXNlcjpwYXNz", &auth));
  EXPECT_FALSE(ParseSentryAuth("", &auth));
}

TEST(SentryAuthTest, Query) {
  SentryAuth auth;
  ASSERT_TRUE(ParseSentryAuth(
      "?sentry_version=7&sentry_key=abc123&sentry_client=sentry.javascript.node%2F11.12.0", &auth));
  EXPECT_EQ(auth.key, "abc123");
  EXPECT_EQ(auth.version, "7");
  EXPECT_EQ(auth.client, "sentry.javascript.node/11.12.0");
  ASSERT_TRUE(ParseSentryAuth("foo=1&sentry_key=a+b%2&x&sentry_key=c", &auth));
  EXPECT_EQ(auth.key, "c");
  EXPECT_FALSE(ParseSentryAuth("sentry_key=&sentry_version=7", &auth));
}

TEST(SentryDsnTest, Parse) {
  SentryDsn dsn;
  ASSERT_TRUE(ParseSentryDsn("http://publickey@127.0.0.1:38123/1", &dsn));
  EXPECT_EQ(dsn.scheme, "http");
  EXPECT_EQ(dsn.public_key, "publickey");
  EXPECT_EQ(dsn.secret_key, "");
  EXPECT_EQ(dsn.host, "127.0.0.1:38123");
  EXPECT_EQ(dsn.path, "");
  EXPECT_EQ(dsn.project_id, "1");
  ASSERT_TRUE(ParseSentryDsn("https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42", &dsn));
  EXPECT_EQ(dsn.public_key, "e12d836b15bb49d7bbf99e64295d995b");
  EXPECT_EQ(dsn.project_id, "42");
  ASSERT_TRUE(ParseSentryDsn("https://key:secret@host/sentry/7/", &dsn));
  EXPECT_EQ(dsn.secret_key, "secret");
  EXPECT_EQ(dsn.path, "/sentry");
  EXPECT_EQ(dsn.project_id, "7");
  EXPECT_FALSE(ParseSentryDsn("ftp://k@h/1", &dsn));
  EXPECT_FALSE(ParseSentryDsn("https://h/1", &dsn));
  EXPECT_FALSE(ParseSentryDsn("https://@h/1", &dsn));
  EXPECT_FALSE(ParseSentryDsn("https://k@h/abc", &dsn));
  EXPECT_FALSE(ParseSentryDsn("https://k@h", &dsn));
  EXPECT_FALSE(ParseSentryDsn("garbage", &dsn));
}

TEST(SentryEventIdTest, Normalize) {
  std::string id = "unchanged";
  EXPECT_TRUE(NormalizeSentryEventId("9EC79C33EC9942AB8353589FCB2E04DC", &id));
  EXPECT_EQ(id, "9ec79c33ec9942ab8353589fcb2e04dc");
  EXPECT_TRUE(NormalizeSentryEventId("9ec79c33-ec99-42ab-8353-589fcb2e04dc", &id));
  EXPECT_EQ(id, "9ec79c33ec9942ab8353589fcb2e04dc");
  id = "unchanged";
  EXPECT_FALSE(NormalizeSentryEventId("9ec79c33ec9942ab8353589fcb2e04d", &id));
  EXPECT_FALSE(NormalizeSentryEventId("9ec79c33ec9942ab8353589fcb2e04dg", &id));
  EXPECT_FALSE(NormalizeSentryEventId("9ec79c33-ec99-42ab-8353_589fcb2e04dc", &id));
  EXPECT_EQ(id, "unchanged");
}

}  // namespace
}  // namespace sightline::ingest
