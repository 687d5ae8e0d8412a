#include "issues/grouping.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace sightline::issues {
namespace {

using model::ErrorEvent;
using model::ExceptionInfo;
using model::StackFrame;

StackFrame PyFrame(std::string module, std::string function, int64_t line, std::string context,
                   std::string abs_path = "", std::optional<bool> in_app = std::nullopt) {
  StackFrame f;
  f.module = std::move(module);
  f.function = std::move(function);
  f.lineno = line;
  f.context_line = std::move(context);
  f.abs_path = abs_path.empty() ? "/srv/app/" + f.module + ".py" : std::move(abs_path);
  f.filename = f.abs_path;
  f.in_app = in_app;
  return f;
}

StackFrame LibFrame(std::string module, std::string function, int64_t line) {
  return PyFrame(module, function, line, "return self.handler(request)",
                 "/usr/lib/python3.11/site-packages/" + module + ".py");
}

// A Python ValueError raised in app.views.get_user through Django library frames.
ErrorEvent PythonEvent(std::string value = "user 123 not found") {
  ErrorEvent e;
  e.platform = "python";
  ExceptionInfo ex;
  ex.type = "ValueError";
  ex.value = std::move(value);
  ex.frames = {
      LibFrame("django.core.handlers.base", "_get_response", 197),
      PyFrame("app.views", "get_user", 42, "    raise ValueError(f'user {uid} not found')"),
      PyFrame("app.models", "load", 10, "raise ValueError(msg)")};
  e.exceptions.push_back(std::move(ex));
  return e;
}

// Node: an Error thrown in user code, called from express in node_modules.
ErrorEvent NodeEvent() {
  ErrorEvent e;
  e.platform = "node";
  ExceptionInfo ex;
  ex.type = "TypeError";
  ex.value = "Cannot read properties of undefined (reading 'id')";
  StackFrame internal;
  internal.filename = "node:internal/process/task_queues";
  internal.function = "process.processTicksAndRejections";
  StackFrame lib;
  lib.abs_path = "/app/node_modules/express/lib/router/layer.js";
  lib.filename = lib.abs_path;
  lib.function = "Layer.handle [as handle_request]";
  lib.lineno = 95;
  lib.context_line = "    fn(req, res, next);";
  StackFrame user;
  user.abs_path = "/app/src/routes/users.js";
  user.filename = user.abs_path;
  user.module = "routes.users";
  user.function = "Object.getUser";
  user.lineno = 17;
  user.context_line = "  return req.user.id;";
  user.in_app = true;
  ex.frames = {internal, lib, user};
  e.exceptions.push_back(std::move(ex));
  return e;
}

TEST(GroupingTest, HashIs32Hex) {
  const GroupingResult r = GroupEvent(PythonEvent());
  ASSERT_EQ(r.hash.size(), 32u);
  EXPECT_EQ(r.hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(r.hashes.front(), r.hash);
}

TEST(GroupingTest, SameBugTwiceSameHash) {
  ErrorEvent a = PythonEvent(), b = PythonEvent();
  b.event_id = "other";
  b.ts_ns = 12345;
  b.release = "2.0";
  EXPECT_EQ(GroupEvent(a).hash, GroupEvent(b).hash);
  EXPECT_EQ(GroupEvent(a).variant, "app-stacktrace");
}

TEST(GroupingTest, SameTypeFromAnotherFunctionDiffers) {
  ErrorEvent a = PythonEvent(), b = PythonEvent();
  b.exceptions[0].frames.back() = PyFrame("app.billing", "charge", 88, "raise ValueError(msg)");
  EXPECT_NE(GroupEvent(a).hash, GroupEvent(b).hash);
}

TEST(GroupingTest, LineNumberDoesNotMatter) {
  ErrorEvent a = PythonEvent(), b = PythonEvent();
  for (StackFrame& f : b.exceptions[0].frames) f.lineno += 30;  // code moved down
  EXPECT_EQ(GroupEvent(a).hash, GroupEvent(b).hash);
}

TEST(GroupingTest, ContextLineContributes) {
  ErrorEvent a = PythonEvent(), b = PythonEvent();
  b.exceptions[0].frames.back().context_line = "raise   ValueError(other)";
  EXPECT_NE(GroupEvent(a).hash, GroupEvent(b).hash);
  // Whitespace differences don't.
  ErrorEvent c = PythonEvent();
  c.exceptions[0].frames.back().context_line = "\t  raise  ValueError(msg)  ";
  EXPECT_EQ(GroupEvent(a).hash, GroupEvent(c).hash);
  // Lines over 120 characters are ignored.
  ErrorEvent d = PythonEvent(), f = PythonEvent();
  d.exceptions[0].frames.back().context_line = std::string(121, 'x');
  f.exceptions[0].frames.back().context_line = std::string(130, 'y');
  EXPECT_EQ(GroupEvent(d).hash, GroupEvent(f).hash);
}

TEST(GroupingTest, AbsolutePathPrefixesDoNotMatter) {
  ErrorEvent a = NodeEvent(), b = NodeEvent();
  for (ErrorEvent* e : {&a, &b}) e->exceptions[0].frames.back().module.clear();
  b.exceptions[0].frames.back().abs_path = "/home/deploy/releases/v42/src/routes/Users.js";
  b.exceptions[0].frames.back().filename = "C:\\build\\src\\routes\\users.js";
  EXPECT_EQ(GroupEvent(a).hash, GroupEvent(b).hash);
}

TEST(GroupingTest, LibraryFramesDoNotChangeHash) {
  ErrorEvent a = PythonEvent(), b = PythonEvent();
  b.exceptions[0].frames.insert(b.exceptions[0].frames.begin(),
                                LibFrame("gunicorn.workers.sync", "handle", 135));
  b.exceptions[0].frames[1].lineno = 250;  // django upgrade
  b.exceptions[0].frames[1].context_line = "response = wrapped(request)";
  // Even if the SDK claims a library frame is in-app, the server rules win.
  b.exceptions[0].frames[0].in_app = true;
  EXPECT_EQ(GroupEvent(a).hash, GroupEvent(b).hash);

  ErrorEvent c = NodeEvent(), d = NodeEvent();
  d.exceptions[0].frames[1].abs_path = "/app/node_modules/express/lib/router/index.js";
  d.exceptions[0].frames[1].filename = d.exceptions[0].frames[1].abs_path;
  d.exceptions[0].frames[1].function = "next";
  d.exceptions[0].frames[0].filename = "node:internal/timers";
  EXPECT_EQ(GroupEvent(c).hash, GroupEvent(d).hash);
}

TEST(GroupingTest, InAppRules) {
  StackFrame f;
  f.abs_path = "/usr/lib/python3/dist-packages/requests/api.py";
  EXPECT_FALSE(IsInApp(f));
  f.abs_path = "C:\\Python311\\Lib\\site-packages\\x.py";
  EXPECT_FALSE(IsInApp(f));
  f.abs_path = "";
  f.filename = "node_modules/lodash/lodash.js";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "node:internal/modules/cjs/loader";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "<frozen importlib._bootstrap>";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "/srv/app/vendor/lib.php";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "internal/process/task_queues.js";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "internal/auth/token.go";  // a Go project's own internal/ package
  EXPECT_TRUE(IsInApp(f));
  f.filename = "/srv/app/views.py";
  EXPECT_TRUE(IsInApp(f));  // unset and not a library path -> in-app
  f.in_app = false;
  EXPECT_FALSE(IsInApp(f));  // the SDK may say no
  f.in_app = true;
  EXPECT_TRUE(IsInApp(f));
  f.filename = "/srv/my-site-packages-tool/x.py";  // only whole path segments match
  EXPECT_TRUE(IsInApp(f));
  // The Python standard library, even when the SDK (python 1.9) says in-app.
  f.filename = "/usr/lib/python3.11/json/__init__.py";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "/opt/venv/lib/python3.12/re/__init__.py";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "/usr/lib/python3/x.py";
  EXPECT_FALSE(IsInApp(f));
  f.filename = "/srv/app/mylib/python3x/x.py";  // not a "lib/pythonN" segment
  EXPECT_TRUE(IsInApp(f));
  f.filename = "/srv/app/lib/python_utils/x.py";
  EXPECT_TRUE(IsInApp(f));
}

TEST(GroupingTest, SystemVariantWhenNoFrameIsInApp) {
  ErrorEvent a = PythonEvent();
  for (StackFrame& f : a.exceptions[0].frames) f.in_app = false;
  const GroupingResult r = GroupEvent(a);
  EXPECT_EQ(r.variant, "system-stacktrace");
  // Frames still matter: another library function gives another hash.
  ErrorEvent b = a;
  b.exceptions[0].frames[1].function = "other";
  EXPECT_NE(GroupEvent(b).hash, r.hash);
  // The system hash of the in-app event equals it (implicit merge).
  const GroupingResult app = GroupEvent(PythonEvent());
  ASSERT_EQ(app.hashes.size(), 2u);
  EXPECT_EQ(app.hashes[1], r.hash);
}

TEST(GroupingTest, ValueIgnoredWhenStackTraceContributes) {
  EXPECT_EQ(GroupEvent(PythonEvent("user 1 not found")).hash,
            GroupEvent(PythonEvent("totally different")).hash);
}

TEST(GroupingTest, ExceptionTypeValueWithoutFrames) {
  auto event = [](std::string type, std::string value) {
    ErrorEvent e;
    e.platform = "python";
    e.exceptions.push_back({});
    e.exceptions[0].type = std::move(type);
    e.exceptions[0].value = std::move(value);
    return e;
  };
  const GroupingResult a = GroupEvent(event("KeyError", "user 123 not found"));
  EXPECT_EQ(a.variant, "exception-type-value");
  EXPECT_EQ(a.hash, GroupEvent(event("KeyError", "user 456 not found")).hash);
  EXPECT_NE(a.hash, GroupEvent(event("KeyError", "order 456 not found")).hash);
  EXPECT_NE(a.hash, GroupEvent(event("LookupError", "user 456 not found")).hash);
  EXPECT_EQ(a.components,
            (std::vector<std::string>{"type=KeyError", "value=user <int> not found"}));
}

TEST(GroupingTest, MessageEvents) {
  ErrorEvent a, b, c;
  a.message = "user 123 not found";
  b.message = "user 456 not found";
  c.message = "disk full";
  const GroupingResult ra = GroupEvent(a);
  EXPECT_EQ(ra.variant, "message");
  EXPECT_EQ(ra.hash, GroupEvent(b).hash);
  EXPECT_NE(ra.hash, GroupEvent(c).hash);
  EXPECT_EQ(ra.title, "user 123 not found");
  // The template wins over the formatted message.
  ErrorEvent d, f;
  d.message_template = "user %s not found";
  d.message = "user bob not found";
  f.message_template = "user %s not found";
  f.message = "user alice not found";
  EXPECT_EQ(GroupEvent(d).hash, GroupEvent(f).hash);
  EXPECT_EQ(GroupEvent(d).title, "user bob not found");
}

TEST(GroupingTest, Fallback) {
  ErrorEvent e;
  const GroupingResult r = GroupEvent(e);
  EXPECT_EQ(r.variant, "fallback");
  EXPECT_EQ(r.hash.size(), 32u);
  EXPECT_EQ(r.title, "<unlabeled event>");
  EXPECT_TRUE(r.components.empty());
}

TEST(GroupingTest, CustomFingerprintOverrides) {
  ErrorEvent a = PythonEvent(), b = NodeEvent();
  a.fingerprint = b.fingerprint = {"myrpc", "POST", "/foo.bar"};
  const GroupingResult r = GroupEvent(a);
  EXPECT_EQ(r.variant, "custom-fingerprint");
  EXPECT_EQ(r.hash, GroupEvent(b).hash);
  EXPECT_EQ(r.components, (std::vector<std::string>{"fingerprint=myrpc", "fingerprint=POST",
                                                    "fingerprint=/foo.bar"}));
  ErrorEvent c = PythonEvent();
  c.fingerprint = {"myrpc", "GET", "/foo.bar"};
  EXPECT_NE(r.hash, GroupEvent(c).hash);
  // Entry boundaries matter.
  ErrorEvent d = PythonEvent();
  d.fingerprint = {"myrpcPOST", "/foo.bar"};
  EXPECT_NE(r.hash, GroupEvent(d).hash);
}

TEST(GroupingTest, DefaultVariable) {
  const GroupingResult plain = GroupEvent(PythonEvent());
  for (const char* spelling : {"{{ default }}", "{{default}}", "{{  Default  }}"}) {
    ErrorEvent e = PythonEvent();
    e.fingerprint = {spelling};
    const GroupingResult r = GroupEvent(e);
    EXPECT_EQ(r.hash, plain.hash) << spelling;
    EXPECT_EQ(r.variant, "app-stacktrace");
  }
  ErrorEvent a = PythonEvent(), b = PythonEvent(), c = PythonEvent();
  a.fingerprint = {"{{ default }}", "http://example.com/my.url"};
  b.fingerprint = {"{{ default }}", "http://example.com/other.url"};
  c.fingerprint = {"{{ default }}", "http://example.com/my.url"};
  c.exceptions[0].frames.back().function = "store";
  const GroupingResult ra = GroupEvent(a);
  EXPECT_EQ(ra.variant, "custom-fingerprint");
  EXPECT_NE(ra.hash, plain.hash);
  EXPECT_NE(ra.hash, GroupEvent(b).hash);
  EXPECT_NE(ra.hash, GroupEvent(c).hash);
  EXPECT_EQ(ra.components.back(), "fingerprint=http://example.com/my.url");
  EXPECT_EQ(ra.components.size(), plain.components.size() + 1);
}

TEST(GroupingTest, FingerprintVariables) {
  ErrorEvent e = PythonEvent();
  e.transaction = "/users/{id}";
  e.logger = "app";
  e.tags = {{"Region", "eu"}};
  e.fingerprint = {"{{ type }}",    "{{ error.value }}", "{{ function }}",
                   "{{ module }}",  "{{ transaction }}", "{{ logger }}",
                   "{{ level }}",   "{{ tags.Region }}", "{{ tags.missing }}",
                   "{{ package }}", "{{ unknown.var }}", "{{ not a var }}"};
  const GroupingResult r = GroupEvent(e);
  EXPECT_EQ(r.components,
            (std::vector<std::string>{
                "fingerprint=ValueError", "fingerprint=user 123 not found", "fingerprint=load",
                "fingerprint=app.models", "fingerprint=/users/{id}", "fingerprint=app",
                "fingerprint=error", "fingerprint=eu", "fingerprint=<no-value-for-tag-missing>",
                "fingerprint=<no-package>", "fingerprint={{ unknown.var }}",
                "fingerprint={{ not a var }}"}));
  ErrorEvent m;
  m.fingerprint = {"{{ transaction }}", "{{ type }}"};
  EXPECT_EQ(GroupEvent(m).components,
            (std::vector<std::string>{"fingerprint=<no-transaction>", "fingerprint=<no-type>"}));
}

TEST(GroupingTest, ChainedExceptionsAllContribute) {
  ErrorEvent a = PythonEvent();
  ExceptionInfo outer;
  outer.type = "RuntimeError";
  outer.value = "request failed";
  outer.frames = {PyFrame("app.api", "handle", 5, "return get_user(uid)")};
  a.exceptions.push_back(outer);
  ErrorEvent b = a;
  b.exceptions[0].type = "KeyError";  // different cause
  EXPECT_NE(GroupEvent(a).hash, GroupEvent(b).hash);
  EXPECT_NE(GroupEvent(a).hash, GroupEvent(PythonEvent()).hash);
  // Title and culprit come from the outermost (last) exception.
  const GroupingResult r = GroupEvent(a);
  EXPECT_EQ(r.title, "RuntimeError: request failed");
  EXPECT_EQ(r.culprit, "app.api in handle");
}

TEST(GroupingTest, RecursionFramesCollapse) {
  ErrorEvent a = PythonEvent(), b = PythonEvent();
  const StackFrame rec = b.exceptions[0].frames[1];
  b.exceptions[0].frames.insert(b.exceptions[0].frames.begin() + 1, {rec, rec, rec});
  EXPECT_EQ(GroupEvent(a).hash, GroupEvent(b).hash);
}

TEST(GroupingTest, NodeFrames) {
  const GroupingResult r = GroupEvent(NodeEvent());
  EXPECT_EQ(r.variant, "app-stacktrace");
  ASSERT_EQ(r.components.size(), 2u);
  EXPECT_EQ(r.components[0],
            "frame: module=routes.users function=getUser context-line=return req.user.id;");
  EXPECT_EQ(r.components[1], "type=TypeError");
  EXPECT_EQ(r.title, "TypeError: Cannot read properties of undefined (reading 'id')");
  EXPECT_EQ(r.culprit, "routes.users in Object.getUser");
  // Module wins over filename; without module the lowercased basename is used.
  ErrorEvent b = NodeEvent();
  b.exceptions[0].frames.back().module.clear();
  EXPECT_EQ(GroupEvent(b).components[0],
            "frame: filename=users.js function=getUser context-line=return req.user.id;");
  // Anonymous functions do not contribute.
  ErrorEvent c = NodeEvent(), d = NodeEvent();
  c.exceptions[0].frames.back().function = "Object.<anonymous>";
  d.exceptions[0].frames.back().function = "<anonymous>";
  EXPECT_EQ(GroupEvent(c).hash, GroupEvent(d).hash);
}

TEST(GroupingTest, PythonFrames) {
  const GroupingResult r = GroupEvent(PythonEvent());
  EXPECT_EQ(r.components,
            (std::vector<std::string>{
                "frame: module=app.views function=get_user context-line=raise "
                "ValueError(f'user {uid} not found')",
                "frame: module=app.models function=load context-line=raise ValueError(msg)",
                "type=ValueError"}));
  EXPECT_EQ(r.title, "ValueError: user 123 not found");
  EXPECT_EQ(r.culprit, "app.models in load");
  ErrorEvent t = PythonEvent();
  t.transaction = "/users/<id>";
  EXPECT_EQ(GroupEvent(t).culprit, "/users/<id>");
}

TEST(GroupingTest, TitleTruncation) {
  const GroupingResult r = GroupEvent(PythonEvent(std::string(300, 'a') + "\nsecond line"));
  EXPECT_EQ(r.title, "ValueError: " + std::string(97, 'a') + "...");
}

TEST(GroupingTest, NormalizeFunctionNames) {
  EXPECT_EQ(NormalizeFunction("Foo.bar", "node"), "bar");
  EXPECT_EQ(NormalizeFunction("async Promise.all", "node"), "all");
  EXPECT_EQ(NormalizeFunction("?", "javascript"), "");
  EXPECT_EQ(NormalizeFunction("foo/<", "javascript"), "");
  EXPECT_EQ(NormalizeFunction("<lambda>", "python"), "<lambda>");
  EXPECT_EQ(NormalizeFunction("block (2 levels) in index", "ruby"), "block");
  EXPECT_EQ(NormalizeFunction("_app_views_x_html_erb__123_456", "ruby"), "_app_views_x_html_erb");
  EXPECT_EQ(NormalizeFunction("{closure}", "php"), "");
  EXPECT_EQ(NormalizeFunction("lambda$main$0", "java"), "");
  EXPECT_EQ(NormalizeFunction("int ns::Foo<int>::bar(char const*) const", "native"),
            "ns::Foo<int>::bar");
  EXPECT_EQ(NormalizeFunction("  spaced  ", "python"), "spaced");
}

}  // namespace
}  // namespace sightline::issues
