#include "pipeline/scrubber.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sightline::pipeline {
namespace {

using model::Attribute;
using model::AttrValue;

std::unique_ptr<Scrubber> Make(ScrubberOptions options = {}) {
  auto s = Scrubber::Create(options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

std::string Scrub(const Scrubber& s, std::string text, size_t* n = nullptr) {
  const size_t count = s.ScrubText(&text);
  if (n != nullptr) *n = count;
  return text;
}

const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwia"
    "WF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const std::string kPem =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\n"
    "Z1BjP5CE/Wm/Rr500P\n-----END RSA PRIVATE KEY-----";

TEST(ScrubberTest, Emails) {
  auto s = Make();
  EXPECT_EQ(Scrub(*s, "login failed for john.doe+test@example.co.uk from web"),
            "login failed for [Filtered] from web");
  EXPECT_EQ(Scrub(*s, R"({"email":"a.b@corp.example.com","n":1})"),
            R"({"email":"[Filtered]","n":1})");
}

TEST(ScrubberTest, CardsLuhnChecked) {
  auto s = Make();
  size_t n = 0;
  EXPECT_EQ(Scrub(*s, "charge card=4111111111111111 ok", &n), "charge card=[Filtered] ok");
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(Scrub(*s, "cc 4111 1111 1111 1111 exp 12/27"), "cc [Filtered] exp 12/27");
  EXPECT_EQ(Scrub(*s, "cc 5555-5555-5555-4444."), "cc [Filtered].");
  EXPECT_EQ(Scrub(*s, "amex 378282246310005 / disc 6011111111111117"),
            "amex [Filtered] / disc [Filtered]");
  // Near misses: Luhn-invalid, non-card prefixes (ids, ms/ns timestamps), mixed separators.
  for (const char* keep : {
           "cc 4111111111111112 declined",
           "order_id=8123456789012345 shipped",
           "ts=1700000000123 and 1700000000123456789",
           "cc 4111 1111-1111 1111",
           "ratio 0.4111111111111111",
       }) {
    EXPECT_EQ(Scrub(*s, keep), keep);
  }
}

TEST(ScrubberTest, KoreanRrnDateChecked) {
  auto s = Make();
  EXPECT_EQ(Scrub(*s, "rrn 900101-1234567 registered"), "rrn [Filtered] registered");
  EXPECT_EQ(Scrub(*s, "jumin: 040229-3123456"), "jumin: [Filtered]");  // 2004 is a leap year
  EXPECT_EQ(Scrub(*s, "ref 901301-1234567"), "ref 901301-1234567");    // month 13
  EXPECT_EQ(Scrub(*s, "ref 900230-1234567"), "ref 900230-1234567");    // Feb 30
  EXPECT_EQ(Scrub(*s, "ref 050229-3123456"), "ref 050229-3123456");    // 2005 not leap
}

TEST(ScrubberTest, PhoneNumbers) {
  auto s = Make();
  EXPECT_EQ(Scrub(*s, "call +82 10-1234-5678 now"), "call [Filtered] now");
  EXPECT_EQ(Scrub(*s, "tel:+1 (415) 555-2671"), "tel:[Filtered]");
  EXPECT_EQ(Scrub(*s, "uk +44 20 7946 0958, de +4915112345678"), "uk [Filtered], de [Filtered]");
  EXPECT_EQ(Scrub(*s, "mobile 010-1234-5678"), "mobile [Filtered]");
  EXPECT_EQ(Scrub(*s, "us (415) 555-2671 or 415-555-2671"), "us [Filtered] or [Filtered]");
  for (const char* keep : {
           "request took duration=1234567890ms",
           "user id 12345678901 created at 1700000000",
           "version 10.2.3 build 20240115",
           "2024-01-15T10:20:30+09:00 started",
           "x=+3.14159265 y=+1500",
           "ORD-2024-010-1234-5678",
           "order 123-456-7890",
       }) {
    EXPECT_EQ(Scrub(*s, keep), keep);
  }
}

TEST(ScrubberTest, TokensAndKeys) {
  auto s = Make();
  EXPECT_EQ(Scrub(*s, "jwt " + kJwt + " end"), "jwt [Filtered] end");
  EXPECT_EQ(Scrub(*s, "Authorization: Bearer abc123.def456-ghi"),
            "Authorization: Bearer [Filtered]");
  EXPECT_EQ(Scrub(*s, "aws key AKIAIOSFODNN7EXAMPLE used"), "aws key [Filtered] used");
  EXPECT_EQ(Scrub(*s, "sts ASIAY34FZKBOKMUTVV7A"), "sts [Filtered]");
  EXPECT_EQ(Scrub(*s, "gcp AIza" + std::string("SyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI") + " x"),
            "gcp [Filtered] x");
  EXPECT_EQ(Scrub(*s, "gh ghp_" + std::string(36, 'a') + " and github_pat_" + std::string(30, 'B')),
            "gh [Filtered] and [Filtered]");
  EXPECT_EQ(Scrub(*s, "slack xoxb-123456789012-abcdefABCDEF"), "slack [Filtered]");
  EXPECT_EQ(Scrub(*s, "stripe sk_live_" + std::string(24, '4') + "!"), "stripe [Filtered]!");
  EXPECT_EQ(Scrub(*s, "key:\n" + kPem + "\nrest"), "key:\n[Filtered]\nrest");
  // A truncated PEM block is still scrubbed to the end.
  EXPECT_EQ(Scrub(*s, "-----BEGIN PRIVATE KEY-----\nMIIEv"), "[Filtered]");
  EXPECT_EQ(Scrub(*s, "connect postgres://app:s3cr3t@db.internal:5432/app failed"),
            "connect postgres://app:[Filtered]@db.internal:5432/app failed");
  EXPECT_EQ(Scrub(*s, "dsn https://public:secretkey@sentry.example.com/1"),
            "dsn https://public:[Filtered]@sentry.example.com/1");
}

TEST(ScrubberTest, KeyValuePairsInText) {
  auto s = Make();
  EXPECT_EQ(Scrub(*s, "GET /cb?code=1&token=abc123&x=1"), "GET /cb?code=1&token=[Filtered]&x=1");
  EXPECT_EQ(Scrub(*s, "login password=hunter2 user=bob"), "login password=[Filtered] user=bob");
  EXPECT_EQ(Scrub(*s, "X-Api-Key: 0123456789abcdef"), "X-Api-Key: [Filtered]");
  EXPECT_EQ(Scrub(*s, R"({"db_password": "p@ss w0rd", "user": "bob"})"),
            R"({"db_password": "[Filtered]", "user": "bob"})");
  EXPECT_EQ(Scrub(*s, "AUTH_TOKEN='xyz' ok"), "AUTH_TOKEN='[Filtered]' ok");
  // Unquoted JSON values become a quoted replacement, so the JSON stays valid.
  EXPECT_EQ(Scrub(*s, R"({"pin_secret":12345,"a":1})"), R"({"pin_secret":"[Filtered]","a":1})");
  // Not pairs / not sensitive.
  for (const char* keep : {
           "connecting to auth-service:8080",
           "author=alice tokens_used_count=42 token_count=7",
           "Token::parse failed",
           "if token == null",
       }) {
    EXPECT_EQ(Scrub(*s, keep), keep);
  }
}

TEST(ScrubberTest, IdsAndVersionsSurvive) {
  auto s = Make();
  for (const char* keep : {
           "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
           "span 5312345678901234 in trace 43123456789012345678901234567890",
           "request 550e8400-e29b-41d4-a716-446655440000 done",
           "v1.2.3-rc.1 on 2024-01-15 10:20:30.123 took 1.234s (1234ms)",
           "GET /api/v2/items?page=2&limit=50 200 12ms",
           "client 192.168.1.10 and 2001:db8::1",
           "mac 00:1a:2b:3c:4d:5e",
       }) {
    EXPECT_EQ(Scrub(*s, keep), keep);
  }
}

TEST(ScrubberTest, IpsOptIn) {
  ScrubberOptions o;
  o.ips = true;
  auto s = Make(o);
  EXPECT_EQ(Scrub(*s, "client 192.168.1.10 connected"), "client [Filtered] connected");
  EXPECT_EQ(Scrub(*s, "from 2001:db8::1 and ::ffff:10.0.0.1 ok"),
            "from [Filtered] and [Filtered] ok");
  EXPECT_EQ(Scrub(*s, "10:20:30 std::vector v1.2.3.4.5 mac 00:1a:2b:3c:4d:5e"),
            "10:20:30 std::vector v1.2.3.4.5 mac 00:1a:2b:3c:4d:5e");
}

TEST(ScrubberTest, SensitiveKeysTokenAware) {
  auto s = Make();
  for (const char* k : {"password",   "db_password", "AUTH_TOKEN",    "X-Api-Key",
                        "apiKey",     "api_key",     "Authorization", "http.request.header.cookie",
                        "Set-Cookie", "secret",      "clientSecret",  "accessToken",
                        "access_key", "session_id",  "credentials",   "private_key",
                        "mysql_pwd",  "PASSWD",      "auth",          "githubtoken"}) {
    EXPECT_TRUE(s->IsSensitiveKey(k)) << k;
  }
  for (const char* k :
       {"author", "tokens_used_count", "token_count", "auth_type", "passage", "keyboard", "user.id",
        "http.status_code", "cookiecutter", "monkey", "llm.token_count.prompt",
        "feature.session-gru-v2.enabled", "auth.cache.ttl", ""}) {
    EXPECT_FALSE(s->IsSensitiveKey(k)) << k;
  }
}

TEST(ScrubberTest, HashActionStableAndDistinct) {
  ScrubberOptions o;
  o.action = ScrubAction::kHash;
  o.hash_secret = "k1";
  auto s = Make(o);
  const std::string a1 = Scrub(*s, "mail bob@example.com");
  const std::string a2 = Scrub(*s, "mail bob@example.com");
  const std::string b = Scrub(*s, "mail eve@example.com");
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b);
  ASSERT_EQ(a1.size(), std::string("mail [hash:0123456789abcdef]").size()) << a1;
  EXPECT_EQ(a1.rfind("mail [hash:", 0), 0u);
  EXPECT_EQ(a1.back(), ']');
  // Another secret gives another hash.
  o.hash_secret = "k2";
  EXPECT_NE(Scrub(*Make(o), "mail bob@example.com"), a1);
  // Hash without a secret is a configuration error.
  o.hash_secret.clear();
  EXPECT_EQ(Scrubber::Create(o).status().code(), Code::kInvalidArgument);
}

TEST(ScrubberTest, RemoveAction) {
  ScrubberOptions o;
  o.action = ScrubAction::kRemove;
  auto s = Make(o);
  EXPECT_EQ(Scrub(*s, "mail bob@example.com now"), "mail  now");
  EXPECT_EQ(Scrub(*s, "password=hunter2&x=1"), "password=&x=1");
  std::vector<Attribute> attrs = {{"password", AttrValue::String("x")},
                                  {"user.email", AttrValue::String("bob@example.com")},
                                  {"n", AttrValue::Int(3)}};
  EXPECT_EQ(s->ScrubAttributes(&attrs), 2u);
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs[0].key, "n");
}

TEST(ScrubberTest, CustomRules) {
  ScrubberOptions o;
  o.hash_secret = "s";
  o.custom.push_back({"employee_id", "\\bEMP-\\d{6}\\b", {}, ScrubAction::kMask, ""});
  o.custom.push_back({"pin", "pin=(\\d{4})", {}, ScrubAction::kHash, ""});
  o.custom.push_back({"ssn_key", "", {"ssn", "card_number"}, ScrubAction::kRemove, ""});
  auto s = Make(o);
  EXPECT_EQ(Scrub(*s, "employee EMP-123456 left"), "employee [Filtered] left");
  const std::string pin = Scrub(*s, "pin=1234 ok");
  EXPECT_EQ(pin.rfind("pin=[hash:", 0), 0u) << pin;
  EXPECT_TRUE(s->IsSensitiveKey("user_ssn"));
  EXPECT_TRUE(s->IsSensitiveKey("cardNumber"));
  EXPECT_FALSE(s->IsSensitiveKey("card"));
  EXPECT_EQ(Scrub(*s, "ssn=078-05-1120 ok"), "ssn= ok");
  std::vector<Attribute> attrs = {{"payment.card_number", AttrValue::String("x")},
                                  {"password", AttrValue::String("y")}};
  EXPECT_EQ(s->ScrubAttributes(&attrs), 2u);
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs[0].value.str, "[Filtered]");
  // Defaults off: only the custom rules apply.
  o.defaults = false;
  auto only = Make(o);
  EXPECT_EQ(Scrub(*only, "bob@example.com EMP-123456"), "bob@example.com [Filtered]");
  EXPECT_FALSE(only->IsSensitiveKey("password"));
}

TEST(ScrubberTest, BadRulesRejected) {
  ScrubberOptions o;
  o.custom.push_back({"broken", "([a-z", {}, ScrubAction::kMask, ""});
  auto s = Scrubber::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("broken"), std::string::npos);
  o.custom = {{"empty", "", {}, ScrubAction::kMask, ""}};
  EXPECT_EQ(Scrubber::Create(o).status().code(), Code::kInvalidArgument);
  o.custom = {{"dash", "", {"--"}, ScrubAction::kMask, ""}};
  EXPECT_EQ(Scrubber::Create(o).status().code(), Code::kInvalidArgument);
}

TEST(ScrubberTest, ProjectSelector) {
  ScrubberOptions o;
  o.custom.push_back({"global", "GLOBAL\\d+", {}, ScrubAction::kMask, ""});
  o.custom.push_back({"p1", "ONLYP1", {}, ScrubAction::kMask, "1"});
  o.custom.push_back({"p2", "ONLYP2", {}, ScrubAction::kMask, "2"});
  const ScrubberOptions p1 = OptionsForProject(o, "1");
  ASSERT_EQ(p1.custom.size(), 2u);
  EXPECT_EQ(p1.custom[1].name, "p1");
  auto s = Make(p1);
  EXPECT_EQ(Scrub(*s, "GLOBAL1 ONLYP1 ONLYP2"), "[Filtered] [Filtered] ONLYP2");
}

TEST(ScrubberTest, DisabledIsNoop) {
  ScrubberOptions o;
  o.enabled = false;
  auto s = Make(o);
  EXPECT_EQ(Scrub(*s, "password=x bob@example.com"), "password=x bob@example.com");
  model::LogRecord r;
  r.attrs = {{"password", AttrValue::String("x")}};
  EXPECT_EQ(s->ScrubRecord(&r), 0u);
  EXPECT_EQ(r.attrs[0].value.str, "x");
}

TEST(ScrubberTest, ScrubRecord) {
  auto s = Make();
  model::LogRecord r;
  r.body = "user bob@example.com paid with 4111111111111111";
  r.attrs = {{"http.url", AttrValue::String("https://x.io/cb?api_key=k123&q=1")},
             {"db_password", AttrValue::String("hunter2")},
             {"retry_token", AttrValue::Int(42)},
             {"card", AttrValue::Int(4111111111111111)},
             {"duration_ms", AttrValue::Int(1700000000123)},
             {"author", AttrValue::String("alice")}};
  EXPECT_EQ(s->ScrubRecord(&r), 6u);
  EXPECT_EQ(r.body, "user [Filtered] paid with [Filtered]");
  EXPECT_EQ(r.attrs[0].value.str, "https://x.io/cb?api_key=[Filtered]&q=1");
  EXPECT_EQ(r.attrs[1].value.str, "[Filtered]");
  EXPECT_EQ(r.attrs[2].value.type, AttrValue::Type::kString);
  EXPECT_EQ(r.attrs[2].value.str, "[Filtered]");
  EXPECT_EQ(r.attrs[3].value.str, "[Filtered]");
  EXPECT_EQ(r.attrs[4].value.type, AttrValue::Type::kInt);
  EXPECT_EQ(r.attrs[5].value.str, "alice");
}

TEST(ScrubberTest, ScrubSpanKeepsSharedResource) {
  auto s = Make();
  auto resource = std::make_shared<const model::AttributeList>(model::AttributeList{
      {"host.name", AttrValue::String("web-1")}, {"deploy.token", AttrValue::String("abc")}});
  auto clean = std::make_shared<const model::AttributeList>(
      model::AttributeList{{"host.name", AttrValue::String("web-2")}});
  model::Span span;
  span.name = "GET /login?password=x";
  span.resource = resource;
  span.attrs = {{"http.request.header.authorization", AttrValue::String("Basic dXNlcjpwYXNz")},
                {"db.statement", AttrValue::String("SELECT * FROM u WHERE email='a@b.example'")}};
  model::SpanEvent ev;
  ev.name = "exception";
  ev.attrs = {{"exception.message", AttrValue::String("bad card 5555555555554444")}};
  span.events.push_back(ev);
  EXPECT_EQ(s->ScrubSpan(&span), 5u);
  EXPECT_EQ(span.name, "GET /login?password=[Filtered]");
  EXPECT_EQ(span.attrs[0].value.str, "[Filtered]");
  EXPECT_EQ(span.attrs[1].value.str, "SELECT * FROM u WHERE email='[Filtered]'");
  EXPECT_EQ(span.events[0].attrs[0].value.str, "bad card [Filtered]");
  // The shared list is untouched; the span got its own scrubbed copy.
  EXPECT_EQ((*resource)[1].value.str, "abc");
  ASSERT_NE(span.resource, resource);
  EXPECT_EQ(span.resource_attrs()[1].value.str, "[Filtered]");
  EXPECT_EQ(span.resource_attrs()[0].value.str, "web-1");
  // A clean resource stays shared.
  model::Span other;
  other.resource = clean;
  EXPECT_EQ(s->ScrubSpan(&other), 0u);
  EXPECT_EQ(other.resource, clean);
}

TEST(ScrubberTest, ScrubEventEveryField) {
  auto s = Make();
  model::ErrorEvent e;
  e.message = "login failed for bob@example.com";
  e.transaction = "/reset?token=abc123";
  model::ExceptionInfo ex;
  ex.value = "invalid card 4111111111111111";
  model::StackFrame f;
  f.vars = {{"password", "'hunter2'"}, {"n", "3"}, {"phone", "'+82 10-1234-5678'"}};
  f.context_line = "    api_key = 'k-1234567'";
  ex.frames.push_back(f);
  e.exceptions.push_back(ex);
  model::Breadcrumb bc;
  bc.message = "POST https://u:pw@api.example.com/x";
  bc.data = {{"Authorization", "Bearer abcdef123456"}, {"url", "/a?secret=s&b=1"}};
  e.breadcrumbs.push_back(bc);
  e.request.url = "https://example.com/cb?session=xyz";
  e.request.query_string = "a=1&access_token=xyz123";
  e.request.headers = {{"Cookie", "sid=1"}, {"User-Agent", "curl/8"}};
  e.user = {"u42", "a@b.c", "carol@example.com", "203.0.113.9"};
  e.tags = {{"auth_token", "t"}, {"tier", "backend"}};
  e.extra_json = R"({"card":"5555 5555 5555 4444","ok":true})";
  e.contexts_json = R"({"app":{"secret":"x","rrn":"900101-1234567"}})";
  const size_t n = s->ScrubEvent(&e);
  EXPECT_EQ(e.message, "login failed for [Filtered]");
  EXPECT_EQ(e.transaction, "/reset?token=[Filtered]");
  EXPECT_EQ(e.exceptions[0].value, "invalid card [Filtered]");
  const auto& vars = e.exceptions[0].frames[0].vars;
  EXPECT_EQ(vars[0].second, "[Filtered]");
  EXPECT_EQ(vars[1].second, "3");
  EXPECT_EQ(vars[2].second, "'[Filtered]'");
  EXPECT_EQ(e.exceptions[0].frames[0].context_line, "    api_key = '[Filtered]'");
  EXPECT_EQ(e.breadcrumbs[0].message, "POST https://u:[Filtered]@api.example.com/x");
  EXPECT_EQ(e.breadcrumbs[0].data[0].second, "[Filtered]");
  EXPECT_EQ(e.breadcrumbs[0].data[1].second, "/a?secret=[Filtered]&b=1");
  EXPECT_EQ(e.request.url, "https://example.com/cb?session=[Filtered]");
  EXPECT_EQ(e.request.query_string, "a=1&access_token=[Filtered]");
  EXPECT_EQ(e.request.headers[0].second, "[Filtered]");
  EXPECT_EQ(e.request.headers[1].second, "curl/8");
  EXPECT_EQ(e.user.id, "u42");
  EXPECT_EQ(e.user.email, "[Filtered]");  // whole field, even "a@b.c"
  EXPECT_EQ(e.user.username, "[Filtered]");
  EXPECT_EQ(e.user.ip_address, "203.0.113.9");  // ips off by default
  EXPECT_EQ(e.tags[0].second, "[Filtered]");
  EXPECT_EQ(e.tags[1].second, "backend");
  EXPECT_EQ(e.extra_json, R"({"card":"[Filtered]","ok":true})");
  EXPECT_EQ(e.contexts_json, R"({"app":{"secret":"[Filtered]","rrn":"[Filtered]"}})");
  EXPECT_EQ(n, 18u);

  ScrubberOptions o;
  o.ips = true;
  model::ErrorEvent e2;
  e2.user.ip_address = "203.0.113.9";
  EXPECT_EQ(Make(o)->ScrubEvent(&e2), 1u);
  EXPECT_EQ(e2.user.ip_address, "[Filtered]");
}

TEST(ScrubberTest, ShortAndEmptyTexts) {
  auto s = Make();
  EXPECT_EQ(Scrub(*s, ""), "");
  EXPECT_EQ(Scrub(*s, "GET"), "GET");
  EXPECT_GT(s->num_patterns(), 10u);
}

}  // namespace
}  // namespace sightline::pipeline
