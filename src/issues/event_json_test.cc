#include "issues/event_json.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "ingest/sentry.h"

namespace sightline::issues {
namespace {

constexpr int64_t kNow = 1'800'000'000'000'000'000;

std::string Fixture(std::string_view name) {
  std::string dir = __FILE__;
  dir.resize(dir.rfind("/issues/") + 1);
  std::string body;
  const Status st = ReadFileToString(dir + "ingest/testdata/sentry/" + std::string(name), &body);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return body;
}

model::ErrorEvent Decode(std::string_view json) {
  model::ErrorEvent ev;
  const Status st = ingest::DecodeSentryEvent(json, kNow, &ev);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  return ev;
}

std::string Encode(const model::ErrorEvent& e) {
  std::string out;
  EncodeEventPayload(e, &out);
  return out;
}

// Decoding the stored form gives back the same event: encoding is a fixpoint after one pass,
// and the fields that matter survive it.
TEST(EventJsonTest, RoundTripsCapturedEvents) {
  for (const char* name :
       {"python_store_exception.json", "python_store_chained.json", "python_store_message.json"}) {
    SCOPED_TRACE(name);
    const model::ErrorEvent a = Decode(Fixture(name));
    const std::string once = Encode(a);
    const model::ErrorEvent b = Decode(once);
    EXPECT_EQ(Encode(b), once);
    EXPECT_EQ(b.event_id, a.event_id);
    EXPECT_EQ(b.ts_ns, a.ts_ns);
    EXPECT_EQ(b.level, a.level);
    EXPECT_EQ(b.message, a.message);
    EXPECT_EQ(b.message_template, a.message_template);
    EXPECT_EQ(b.release, a.release);
    EXPECT_EQ(b.environment, a.environment);
    EXPECT_EQ(b.transaction, a.transaction);
    EXPECT_EQ(b.trace_id, a.trace_id);
    EXPECT_EQ(b.span_id, a.span_id);
    EXPECT_EQ(b.tags, a.tags);
    EXPECT_EQ(b.user.id, a.user.id);
    EXPECT_EQ(b.user.email, a.user.email);
    EXPECT_EQ(b.contexts_json, a.contexts_json);
    EXPECT_EQ(b.extra_json, a.extra_json);
    ASSERT_EQ(b.exceptions.size(), a.exceptions.size());
    for (size_t i = 0; i < a.exceptions.size(); ++i) {
      EXPECT_EQ(b.exceptions[i].type, a.exceptions[i].type);
      EXPECT_EQ(b.exceptions[i].value, a.exceptions[i].value);
      EXPECT_EQ(b.exceptions[i].handled, a.exceptions[i].handled);
      ASSERT_EQ(b.exceptions[i].frames.size(), a.exceptions[i].frames.size());
      for (size_t j = 0; j < a.exceptions[i].frames.size(); ++j) {
        const auto& fa = a.exceptions[i].frames[j];
        const auto& fb = b.exceptions[i].frames[j];
        EXPECT_EQ(fb.function, fa.function);
        EXPECT_EQ(fb.abs_path, fa.abs_path);
        EXPECT_EQ(fb.lineno, fa.lineno);
        EXPECT_EQ(fb.in_app, fa.in_app);
        EXPECT_EQ(fb.context_line, fa.context_line);
        EXPECT_EQ(fb.pre_context, fa.pre_context);
        EXPECT_EQ(fb.vars, fa.vars);
      }
    }
    ASSERT_EQ(b.breadcrumbs.size(), a.breadcrumbs.size());
    for (size_t i = 0; i < a.breadcrumbs.size(); ++i) {
      EXPECT_EQ(b.breadcrumbs[i].ts_ns, a.breadcrumbs[i].ts_ns);
      EXPECT_EQ(b.breadcrumbs[i].message, a.breadcrumbs[i].message);
    }
    // The stored form drops what the SDK adds for its own sake (module lists, _meta).
    EXPECT_LT(once.size(), Fixture(name).size());
  }
}

TEST(EventJsonTest, EscapesAndOmitsDefaults) {
  model::ErrorEvent e;
  e.event_id = "0123456789abcdef0123456789abcdef";
  e.ts_ns = 1'795'600'000'123'456'789;
  e.message = "quote \" backslash \\ newline \n tab \t";
  e.tags = {{"k\"", "v\n"}};
  const std::string json = Encode(e);
  const model::ErrorEvent d = Decode(json);
  EXPECT_EQ(d.message, e.message);
  EXPECT_EQ(d.tags, e.tags);
  EXPECT_EQ(d.ts_ns, e.ts_ns);
  EXPECT_EQ(json.find("\"user\""), std::string::npos);
  EXPECT_EQ(json.find("\"contexts\""), std::string::npos);
  // Only the trace context: still an object with the ids.
  bool hashed = false;
  e.trace_id = model::TraceIdFromText("4bf92f3577b34da6a3ce929d0e0e4736", &hashed);
  EXPECT_EQ(Decode(Encode(e)).trace_id, e.trace_id);
}

}  // namespace
}  // namespace sightline::issues
