#include "issues/issue_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "issues/grouping.h"
#include "model/error_event.h"

namespace sightline::issues {
namespace {

using model::ErrorEvent;

constexpr int64_t kHour = 3600 * kNsPerSec;
constexpr int64_t kMin = 60 * kNsPerSec;
// An hour boundary (2023-11-14 22:00:00 UTC).
constexpr int64_t kT0 = 1'699'999'200 * kNsPerSec;

// A 32-hex string derived from `n` (event ids and hashes).
std::string Hex(uint64_t n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", 0xabcdefULL,
                static_cast<unsigned long long>(n));
  return buf;
}

GroupingResult Group(const std::string& hash, std::vector<std::string> more = {},
                     std::string title = "ValueError: user not found",
                     std::string culprit = "app.views in get_user") {
  GroupingResult g;
  g.hash = hash;
  g.hashes.push_back(hash);
  for (auto& h : more) g.hashes.push_back(std::move(h));
  g.title = std::move(title);
  g.culprit = std::move(culprit);
  g.variant = "app-stacktrace";
  return g;
}

ErrorEvent Event(uint64_t id, int64_t ts, std::string release = "", std::string env = "") {
  ErrorEvent e;
  e.event_id = Hex(id);
  e.ts_ns = ts;
  e.received_ns = ts;
  e.platform = "python";
  e.level = "error";
  e.release = std::move(release);
  e.environment = std::move(env);
  model::ExceptionInfo inner, outer;
  inner.type = "KeyError";
  inner.value = "uid";
  outer.type = "ValueError";
  outer.value = "user not found";
  e.exceptions = {inner, outer};
  return e;
}

// Removes a database file and its WAL companions.
void RemoveDb(const std::string& path) {
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
}

class IssueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = "/tmp/sl_issue_store_" + std::to_string(getpid()) + "_" + info->name() + ".db";
    RemoveDb(path_);
  }
  void TearDown() override { RemoveDb(path_); }

  IssueStoreOptions Options(const std::string& path) {
    IssueStoreOptions o;
    o.path = path;
    o.flush_interval_ms = 0;
    o.clock = &clock_;
    return o;
  }
  std::unique_ptr<IssueStore> Open(const std::string& path = ":memory:") {
    auto s = IssueStore::Open(Options(path));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // A store with one project (id 1).
  std::unique_ptr<IssueStore> OpenWithProject(const std::string& path = ":memory:") {
    auto store = Open(path);
    if (store != nullptr) {
      auto p = store->CreateProject("Shop");
      EXPECT_TRUE(p.ok()) << p.status().ToString();
    }
    return store;
  }
  RecordResult Record(IssueStore* s, const GroupingResult& g, const ErrorEvent& e,
                      int64_t project = 1) {
    auto r = s->RecordEvent(project, g, e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RecordResult{};
  }
  Issue Get(IssueStore* s, int64_t id) {
    auto r = s->GetIssue(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Issue{};
  }
  std::vector<std::string> ActivityKinds(IssueStore* s) {
    std::vector<std::string> kinds;
    auto a = s->Activity(0, 1000);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    if (a.ok()) {
      for (const auto& x : *a) kinds.push_back(x.kind);
    }
    return kinds;
  }

  ManualClock clock_{kT0};
  std::string path_;
};

// ---- Projects and keys

TEST_F(IssueStoreTest, ProjectsCreateListLookup) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  auto p1 = s->CreateProject("My Shop (API)", "", "python");
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->id, 1);
  EXPECT_EQ(p1->slug, "my-shop-api");
  EXPECT_EQ(p1->platform, "python");
  EXPECT_EQ(p1->created_ns, kT0);
  auto p2 = s->CreateProject("Other", "other_2");
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->id, 2);

  EXPECT_EQ(s->CreateProject("Again", "other_2").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(s->CreateProject("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateProject("x", "Bad Slug").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateProject("x", "123").status().code(), Code::kInvalidArgument);
  auto digits = s->CreateProject("2024");  // derived slugs never look like ids
  ASSERT_TRUE(digits.ok());
  EXPECT_EQ(digits->slug, "project-2024");

  const std::vector<Project> all = s->ListProjects();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].slug, "my-shop-api");
  EXPECT_EQ(all[1].name, "Other");

  auto g = s->GetProject(2);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->slug, "other_2");
  EXPECT_EQ(s->GetProject(99).status().code(), Code::kNotFound);
  auto by_slug = s->FindProject("my-shop-api");
  ASSERT_TRUE(by_slug.ok());
  EXPECT_EQ(by_slug->id, 1);
  auto by_id = s->FindProject("2");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->slug, "other_2");
  EXPECT_EQ(s->FindProject("nope").status().code(), Code::kNotFound);
  EXPECT_EQ(s->FindProject("77").status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, KeysCreateListLookup) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->CreateProject("a").ok());
  ASSERT_TRUE(s->CreateProject("b").ok());
  auto k1 = s->CreateKey(1, "Default");
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  ASSERT_EQ(k1->public_key.size(), 32u);
  EXPECT_EQ(k1->public_key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(k1->active);
  EXPECT_EQ(k1->project_id, 1);
  EXPECT_EQ(k1->label, "Default");

  auto k2 = s->CreateKey(1, "CI", "0123456789ABCDEF0123456789ABCDEF");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(k2->public_key, "0123456789abcdef0123456789abcdef");
  auto k3 = s->CreateKey(2, "b");
  ASSERT_TRUE(k3.ok());
  EXPECT_NE(k3->public_key, k1->public_key);

  EXPECT_EQ(s->CreateKey(1, "dup", "0123456789abcdef0123456789abcdef").status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(s->CreateKey(1, "bad", "xyz").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateKey(1, "bad", std::string(32, 'g')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateKey(42, "none").status().code(), Code::kNotFound);

  const auto keys1 = s->ListKeys(1);
  ASSERT_EQ(keys1.size(), 2u);
  EXPECT_EQ(keys1[0].public_key, k1->public_key);
  EXPECT_EQ(keys1[1].public_key, k2->public_key);
  EXPECT_EQ(s->ListKeys(0).size(), 3u);
  EXPECT_EQ(s->ListKeys(2).size(), 1u);

  auto owner = s->ProjectForKey(k3->public_key);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, 2);
  EXPECT_EQ(s->ProjectForKey(Hex(5)).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, DefaultProjectIsIdempotentAcrossReopen) {
  Project project;
  ProjectKey key;
  {
    auto s = Open(path_);
    ASSERT_NE(s, nullptr);
    auto d = s->EnsureDefaultProject("");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    project = d->first;
    key = d->second;
    EXPECT_EQ(project.id, 1);
    EXPECT_EQ(project.slug, "default");
    EXPECT_EQ(key.project_id, 1);
    EXPECT_EQ(key.public_key.size(), 32u);
    auto again = s->EnsureDefaultProject("");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->second.public_key, key.public_key);
  }
  auto s = Open(path_);
  ASSERT_NE(s, nullptr);
  // A configured key applies only to a new database.
  auto d = s->EnsureDefaultProject("ffffffffffffffffffffffffffffffff");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->first.id, project.id);
  EXPECT_EQ(d->first.slug, project.slug);
  EXPECT_EQ(d->second.public_key, key.public_key);
  EXPECT_EQ(s->ListProjects().size(), 1u);
  EXPECT_EQ(s->ListKeys(0).size(), 1u);
  auto owner = s->ProjectForKey(key.public_key);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, 1);
}

TEST_F(IssueStoreTest, DefaultProjectUsesConfiguredKey) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  auto d = s->EnsureDefaultProject("ABCDEFABCDEFABCDEFABCDEFABCDEFAB");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->second.public_key, "abcdefabcdefabcdefabcdefabcdefab");
  EXPECT_EQ(s->EnsureDefaultProject("nothex").status().code(), Code::kInvalidArgument);
}

// ---- Ingest and grouping into issues

TEST_F(IssueStoreTest, SameHashTwiceIsOneIssue) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(100));
  const RecordResult a = Record(s.get(), g, Event(1, kT0 + kMin, "shop@1.0.0", "prod"));
  const RecordResult b = Record(s.get(), g, Event(2, kT0 + 5 * kMin, "shop@1.1.0", "prod"));
  EXPECT_TRUE(a.created);
  EXPECT_FALSE(b.created);
  EXPECT_FALSE(b.regressed);
  EXPECT_FALSE(b.duplicate);
  EXPECT_EQ(a.issue_id, b.issue_id);
  ASSERT_TRUE(s->Flush().ok());

  const Issue is = Get(s.get(), a.issue_id);
  EXPECT_EQ(is.project_id, 1);
  EXPECT_EQ(is.count, 2u);
  EXPECT_EQ(is.hash, Hex(100));
  EXPECT_EQ(is.title, "ValueError: user not found");
  EXPECT_EQ(is.culprit, "app.views in get_user");
  EXPECT_EQ(is.level, "error");
  EXPECT_EQ(is.platform, "python");
  EXPECT_EQ(is.type, "ValueError");  // the last (outermost) exception
  EXPECT_EQ(is.value, "user not found");
  EXPECT_EQ(is.variant, "app-stacktrace");
  EXPECT_EQ(is.status, IssueStatus::kUnresolved);
  EXPECT_EQ(is.substatus, "new");
  EXPECT_EQ(is.first_seen_ns, kT0 + kMin);
  EXPECT_EQ(is.last_seen_ns, kT0 + 5 * kMin);
  EXPECT_EQ(is.first_release, "shop@1.0.0");
  EXPECT_EQ(is.last_release, "shop@1.1.0");
  EXPECT_EQ(is.latest_event_id, Hex(2));
  EXPECT_EQ(is.latest_event_ns, kT0 + 5 * kMin);
  EXPECT_EQ(is.users, 0u);

  uint64_t total = 0;
  auto list = s->ListIssues(IssueQuery{}, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total, 1u);
  EXPECT_EQ(ActivityKinds(s.get()), std::vector<std::string>{"created"});
}

TEST_F(IssueStoreTest, EventWithoutTimestampUsesReceivedTime) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  ErrorEvent e = Event(1, 0);
  e.received_ns = kT0 + 7 * kMin;
  const RecordResult r = Record(s.get(), Group(Hex(1)), e);
  EXPECT_EQ(Get(s.get(), r.issue_id).last_seen_ns, kT0 + 7 * kMin);
}

TEST_F(IssueStoreTest, MessageEventHasNoExceptionType) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  ErrorEvent e = Event(1, kT0);
  e.exceptions.clear();
  e.message = "disk almost full";
  e.level = "warning";
  GroupingResult g = Group(Hex(1), {}, "disk almost full", "");
  g.variant = "message";
  const Issue is = Get(s.get(), Record(s.get(), g, e).issue_id);
  EXPECT_EQ(is.type, "");
  EXPECT_EQ(is.value, "");
  EXPECT_EQ(is.culprit, "");
  EXPECT_EQ(is.level, "warning");
  EXPECT_EQ(is.variant, "message");
  EXPECT_EQ(is.title, "disk almost full");
}

TEST_F(IssueStoreTest, SecondaryHashJoinsTheIssue) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const std::string app = Hex(1), system = Hex(2), other = Hex(3), fresh = Hex(4);
  const RecordResult a = Record(s.get(), Group(app, {system}), Event(1, kT0));
  // An event whose primary hash is the first event's system hash joins its issue...
  const RecordResult b = Record(s.get(), Group(system), Event(2, kT0 + 1));
  EXPECT_FALSE(b.created);
  EXPECT_EQ(b.issue_id, a.issue_id);
  // ... as does one that shares only a secondary hash; its own primary then joins too.
  const RecordResult c = Record(s.get(), Group(other, {system}), Event(3, kT0 + 2));
  EXPECT_EQ(c.issue_id, a.issue_id);
  const RecordResult d = Record(s.get(), Group(other), Event(4, kT0 + 3));
  EXPECT_EQ(d.issue_id, a.issue_id);
  // Nothing in common: a new issue.
  const RecordResult e = Record(s.get(), Group(fresh), Event(5, kT0 + 4));
  EXPECT_TRUE(e.created);
  EXPECT_NE(e.issue_id, a.issue_id);
  EXPECT_EQ(Get(s.get(), a.issue_id).count, 4u);
}

TEST_F(IssueStoreTest, SystemHashOfRealGroupingJoins) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  // A Python error through a library frame into app code; later an SDK marks the app frame as
  // not in-app, so only the system hash remains.
  ErrorEvent a = Event(1, kT0);
  model::StackFrame lib, app;
  lib.module = "django.core.handlers.base";
  lib.function = "_get_response";
  lib.abs_path = "/usr/lib/python3.11/site-packages/django/core/handlers/base.py";
  lib.filename = lib.abs_path;
  lib.context_line = "response = wrapped_callback(request)";
  app.module = "app.views";
  app.function = "get_user";
  app.abs_path = "/srv/app/app/views.py";
  app.filename = app.abs_path;
  app.context_line = "raise ValueError(uid)";
  a.exceptions.back().frames = {lib, app};
  ErrorEvent b = a;
  b.event_id = Hex(2);
  b.exceptions.back().frames.back().in_app = false;
  const GroupingResult ga = GroupEvent(a), gb = GroupEvent(b);
  ASSERT_EQ(ga.hashes.size(), 2u);
  ASSERT_NE(ga.hash, gb.hash);
  ASSERT_EQ(gb.hash, ga.hashes[1]);  // b's primary is a's system hash
  const RecordResult ra = Record(s.get(), ga, a);
  const RecordResult rb = Record(s.get(), gb, b);
  EXPECT_TRUE(ra.created);
  EXPECT_FALSE(rb.created);
  EXPECT_EQ(ra.issue_id, rb.issue_id);
}

TEST_F(IssueStoreTest, EventWithoutHashIsRejected) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  GroupingResult g;
  g.hashes = {""};
  EXPECT_EQ(s->RecordEvent(1, g, Event(1, kT0)).status().code(), Code::kInvalidArgument);
  uint64_t total = 0;
  ASSERT_TRUE(s->ListIssues(IssueQuery{}, &total).ok());
  EXPECT_EQ(total, 0u);
  // The primary hash defaults to the first of `hashes`.
  g.hashes = {Hex(3)};
  const RecordResult r = Record(s.get(), g, Event(2, kT0));
  EXPECT_TRUE(r.created);
  EXPECT_EQ(Get(s.get(), r.issue_id).hash, Hex(3));
}

TEST_F(IssueStoreTest, SameHashInDifferentProjectsIsDifferentIssues) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->CreateProject("Other").ok());
  const RecordResult a = Record(s.get(), Group(Hex(9)), Event(1, kT0), 1);
  const RecordResult b = Record(s.get(), Group(Hex(9)), Event(2, kT0), 2);
  EXPECT_TRUE(a.created);
  EXPECT_TRUE(b.created);
  EXPECT_NE(a.issue_id, b.issue_id);
  EXPECT_EQ(Get(s.get(), b.issue_id).project_id, 2);
  EXPECT_EQ(s->RecordEvent(3, Group(Hex(9)), Event(3, kT0)).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, UserIdentityPrefersIdThenUsernameEmailIp) {
  ErrorEvent::User u;
  EXPECT_EQ(UserIdentity(u), "");
  u.ip_address = "10.0.0.1";
  EXPECT_EQ(UserIdentity(u), "ip:10.0.0.1");
  u.email = "a@x.io";
  EXPECT_EQ(UserIdentity(u), "email:a@x.io");
  u.username = "ann";
  EXPECT_EQ(UserIdentity(u), "username:ann");
  u.id = "42";
  EXPECT_EQ(UserIdentity(u), "id:42");
}

TEST_F(IssueStoreTest, UsersAreCountedOnce) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  ErrorEvent e1 = Event(1, kT0);
  e1.user.id = "42";
  e1.user.email = "a@x.io";
  ErrorEvent e2 = Event(2, kT0);
  e2.user.id = "42";  // same user, another email: still id:42
  e2.user.email = "other@x.io";
  ErrorEvent e3 = Event(3, kT0);
  e3.user.email = "b@x.io";
  ErrorEvent e4 = Event(4, kT0);  // no user
  const int64_t id = Record(s.get(), g, e1).issue_id;
  Record(s.get(), g, e2);
  Record(s.get(), g, e3);
  Record(s.get(), g, e4);
  EXPECT_EQ(Get(s.get(), id).users, 2u);
  // Seen again in a later flush interval: still counted once.
  ErrorEvent e5 = Event(5, kT0);
  e5.user.id = "42";
  Record(s.get(), g, e5);
  const Issue is = Get(s.get(), id);
  EXPECT_EQ(is.users, 2u);
  EXPECT_EQ(is.count, 5u);
}

TEST_F(IssueStoreTest, TagCountsAndTopValues) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  int64_t id = 0;
  const char* envs[] = {"prod", "prod", "prod", "staging"};
  for (int i = 0; i < 4; ++i) {
    ErrorEvent e = Event(static_cast<uint64_t>(i + 1), kT0, "", envs[i]);
    e.server_name = "web-1";
    e.transaction = i < 2 ? "/users/{id}" : "";
    e.user.id = "7";
    e.tags = {{"browser", i % 2 == 0 ? "Chrome" : "Firefox"},
              {"empty", ""},
              {"environment", "ignored-duplicate-key"},
              {"long", std::string(300, 'v')}};
    id = Record(s.get(), g, e).issue_id;
  }
  auto tags = s->Tags(id, 1);
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  std::map<std::string, TagSummary> by_key;
  for (const auto& t : *tags) by_key[t.key] = t;
  EXPECT_EQ(by_key.count("empty"), 0u);
  EXPECT_EQ(by_key.count("release"), 0u);  // no release: no tag
  ASSERT_EQ(by_key.count("environment"), 1u);
  const TagSummary& env = by_key["environment"];
  EXPECT_EQ(env.total, 4u);
  EXPECT_EQ(env.distinct, 2u);
  ASSERT_EQ(env.top.size(), 1u);
  EXPECT_EQ(env.top[0].value, "prod");
  EXPECT_EQ(env.top[0].count, 3u);
  EXPECT_EQ(by_key["browser"].distinct, 2u);
  EXPECT_EQ(by_key["browser"].total, 4u);
  EXPECT_EQ(by_key["level"].top.at(0).value, "error");
  EXPECT_EQ(by_key["server_name"].top.at(0).value, "web-1");
  EXPECT_EQ(by_key["user"].top.at(0).value, "id:7");
  EXPECT_EQ(by_key["transaction"].total, 2u);
  EXPECT_EQ(by_key["long"].top.at(0).value, std::string(200, 'v'));
  // Ordered by total: the 2-event transaction tag comes last.
  EXPECT_EQ(tags->back().key, "transaction");

  // top_n = 0: keys only; all values when asked for more.
  auto keys_only = s->Tags(id, 0);
  ASSERT_TRUE(keys_only.ok());
  EXPECT_EQ(keys_only->size(), tags->size());
  for (const auto& t : *keys_only) EXPECT_TRUE(t.top.empty()) << t.key;
  auto all = s->Tags(id, 10);
  ASSERT_TRUE(all.ok());
  for (const auto& t : *all) {
    if (t.key == "browser") {
      EXPECT_EQ(t.top.size(), 2u);
    }
  }
  EXPECT_EQ(s->Tags(999, 1).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, TagsPerEventAreCapped) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  ErrorEvent e = Event(1, kT0, "r1", "prod");
  for (int i = 0; i < 100; ++i) {
    std::string key = "t";
    key += std::to_string(i);
    e.tags.emplace_back(std::move(key), "v");
  }
  const int64_t id = Record(s.get(), Group(Hex(1)), e).issue_id;
  auto tags = s->Tags(id, 1);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 64u);
  bool has_env = false;
  for (const auto& t : *tags) has_env |= t.key == "environment";
  EXPECT_TRUE(has_env);  // the built-in tags come first
}

TEST_F(IssueStoreTest, HourlyCountSeries) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0 + 10 * kMin)).issue_id;
  Record(s.get(), g, Event(2, kT0 + 20 * kMin));
  Record(s.get(), g, Event(3, kT0 + 70 * kMin));
  ASSERT_TRUE(s->Flush().ok());
  Record(s.get(), g, Event(4, kT0 + 3 * kHour + 1));  // still pending: reads flush
  auto hourly = s->CountSeries(id, kT0, kT0 + 4 * kHour, kHour);
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  EXPECT_EQ(*hourly, (std::vector<uint64_t>{2, 1, 0, 1}));
  auto two = s->CountSeries(id, kT0, kT0 + 4 * kHour, 2 * kHour);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, (std::vector<uint64_t>{3, 1}));
  // A partial last bucket; hours outside the range are left out.
  auto part = s->CountSeries(id, kT0 + kHour, kT0 + 3 * kHour + kMin, 2 * kHour);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, (std::vector<uint64_t>{1, 1}));
  auto empty = s->CountSeries(id, kT0, kT0, kHour);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(s->CountSeries(id, kT0, kT0 + kHour, kMin).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CountSeries(id, kT0 + kHour, kT0, kHour).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CountSeries(999, kT0, kT0 + kHour, kHour).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, EventsNewestFirstWithPaging) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  int64_t id = 0;
  // Recorded out of order.
  for (uint64_t i : {3, 1, 5, 2, 4}) {
    id = Record(s.get(), g, Event(i, kT0 + static_cast<int64_t>(i) * kMin)).issue_id;
  }
  auto first = s->Events(id, 0, 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0], std::make_pair(kT0 + 5 * kMin, Hex(5)));
  EXPECT_EQ((*first)[1], std::make_pair(kT0 + 4 * kMin, Hex(4)));
  auto second = s->Events(id, 2, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*second)[0].second, Hex(3));
  EXPECT_EQ((*second)[1].second, Hex(2));
  auto last = s->Events(id, 4, 10);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].second, Hex(1));
  // The latest event is the newest by time, not the last recorded.
  EXPECT_EQ(Get(s.get(), id).latest_event_id, Hex(5));
  EXPECT_EQ(Get(s.get(), id).latest_event_ns, kT0 + 5 * kMin);
  auto beyond = s->Events(id, 10, 10);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->empty());
  EXPECT_EQ(s->Events(999, 0, 10).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, FindEventByIdInAnyProject) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->CreateProject("Other").ok());
  Record(s.get(), Group(Hex(1)), Event(1, kT0 + 1), 1);
  const RecordResult b = Record(s.get(), Group(Hex(1)), Event(2, kT0 + 2), 2);
  // Not flushed yet: FindEvent flushes first.
  auto ref = s->FindEvent(Hex(2));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->issue_id, b.issue_id);
  EXPECT_EQ(ref->project_id, 2);
  EXPECT_EQ(ref->ts_ns, kT0 + 2);
  EXPECT_EQ(s->FindEvent(Hex(3)).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, EventIndexRetention) {
  IssueStoreOptions o = Options(":memory:");
  o.event_index_retention_ns = kNsPerDay;
  auto opened = IssueStore::Open(o);
  ASSERT_TRUE(opened.ok());
  auto& s = *opened;
  ASSERT_TRUE(s->CreateProject("p").ok());
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0)).issue_id;
  ASSERT_TRUE(s->Flush().ok());
  clock_.Advance(2 * kNsPerDay);
  Record(s.get(), g, Event(2, kT0 + 2 * kNsPerDay));
  ASSERT_TRUE(s->Flush().ok());
  auto evs = s->Events(id, 0, 10);
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].second, Hex(2));
  EXPECT_EQ(s->FindEvent(Hex(1)).status().code(), Code::kNotFound);
  EXPECT_EQ(Get(s.get(), id).count, 2u);  // counters are kept
}

TEST_F(IssueStoreTest, DuplicateEventIdsAreIgnored) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  const RecordResult a = Record(s.get(), g, Event(1, kT0));
  const RecordResult b = Record(s.get(), g, Event(1, kT0));
  EXPECT_FALSE(a.duplicate);
  EXPECT_TRUE(b.duplicate);
  EXPECT_EQ(b.issue_id, a.issue_id);
  // A duplicate of another issue's event is still a duplicate.
  const RecordResult c = Record(s.get(), Group(Hex(2)), Event(1, kT0));
  EXPECT_TRUE(c.duplicate);
  EXPECT_FALSE(c.created);
  const Issue is = Get(s.get(), a.issue_id);
  EXPECT_EQ(is.count, 1u);
  auto evs = s->Events(a.issue_id, 0, 10);
  ASSERT_TRUE(evs.ok());
  EXPECT_EQ(evs->size(), 1u);
  uint64_t total = 0;
  ASSERT_TRUE(s->ListIssues(IssueQuery{}, &total).ok());
  EXPECT_EQ(total, 1u);
  // Events without an id are never duplicates.
  ErrorEvent no_id = Event(0, kT0);
  no_id.event_id.clear();
  EXPECT_FALSE(Record(s.get(), g, no_id).duplicate);
  EXPECT_FALSE(Record(s.get(), g, no_id).duplicate);
  EXPECT_EQ(Get(s.get(), a.issue_id).count, 3u);
}

TEST_F(IssueStoreTest, DedupeWindowIsBounded) {
  IssueStoreOptions o = Options(":memory:");
  o.dedupe_window = 2;
  auto opened = IssueStore::Open(o);
  ASSERT_TRUE(opened.ok());
  auto& s = *opened;
  ASSERT_TRUE(s->CreateProject("p").ok());
  const GroupingResult g = Group(Hex(1));
  Record(s.get(), g, Event(1, kT0));
  Record(s.get(), g, Event(2, kT0));
  EXPECT_TRUE(Record(s.get(), g, Event(2, kT0)).duplicate);
  Record(s.get(), g, Event(3, kT0));                          // evicts 1
  EXPECT_FALSE(Record(s.get(), g, Event(1, kT0)).duplicate);  // forgotten
  EXPECT_TRUE(Record(s.get(), g, Event(3, kT0)).duplicate);
  // Non-hex event ids dedupe too.
  ErrorEvent odd = Event(0, kT0);
  odd.event_id = "not-a-hex-id";
  EXPECT_FALSE(Record(s.get(), g, odd).duplicate);
  EXPECT_TRUE(Record(s.get(), g, odd).duplicate);
}

// ---- Lifecycle

TEST_F(IssueStoreTest, ResolvedIssueRegresses) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  std::vector<IssueActivity> heard;
  s->SetActivityListener([&heard](const IssueActivity& a) { heard.push_back(a); });
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0, "shop@1.0.0")).issue_id;
  clock_.Advance(kMin);
  auto resolved = s->UpdateStatus(id, IssueStatus::kResolved);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->status, IssueStatus::kResolved);
  EXPECT_EQ(resolved->substatus, "");
  EXPECT_EQ(resolved->status_changed_ns, kT0 + kMin);
  clock_.Advance(kMin);
  const RecordResult r = Record(s.get(), g, Event(2, kT0 + 2 * kMin, "shop@1.0.0"));
  EXPECT_TRUE(r.regressed);
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.issue_id, id);
  const Issue is = Get(s.get(), id);
  EXPECT_EQ(is.status, IssueStatus::kUnresolved);
  EXPECT_EQ(is.substatus, "regressed");
  EXPECT_EQ(is.status_changed_ns, kT0 + 2 * kMin);
  EXPECT_EQ(is.count, 2u);
  // A second event does not regress it again.
  EXPECT_FALSE(Record(s.get(), g, Event(3, kT0 + 3 * kMin)).regressed);

  auto act = s->Activity(0, 100);
  ASSERT_TRUE(act.ok());
  ASSERT_EQ(act->size(), 3u);
  EXPECT_EQ((*act)[0].kind, "created");
  EXPECT_EQ((*act)[1].kind, "resolved");
  EXPECT_EQ((*act)[2].kind, "regressed");
  EXPECT_EQ((*act)[2].detail, "shop@1.0.0");
  EXPECT_EQ((*act)[2].issue_id, id);
  EXPECT_EQ((*act)[2].project_id, 1);
  EXPECT_EQ((*act)[2].ts_ns, kT0 + 2 * kMin);
  EXPECT_LT((*act)[0].seq, (*act)[1].seq);
  EXPECT_LT((*act)[1].seq, (*act)[2].seq);
  auto after = s->Activity((*act)[0].seq, 1);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].kind, "resolved");

  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0].kind, "created");
  EXPECT_EQ(heard[1].kind, "resolved");
  EXPECT_EQ(heard[2].kind, "regressed");
  EXPECT_EQ(heard[2].seq, (*act)[2].seq);

  // Regressed lasts until the status changes.
  clock_.Advance(8 * kNsPerDay);
  EXPECT_EQ(Get(s.get(), id).substatus, "regressed");
  ASSERT_TRUE(s->UpdateStatus(id, IssueStatus::kIgnored).ok());
  auto back = s->UpdateStatus(id, IssueStatus::kUnresolved);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->substatus, "ongoing");
}

TEST_F(IssueStoreTest, ListenerMayCallBackIntoTheStore) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  std::vector<std::string> titles;
  IssueStore* raw = s.get();
  s->SetActivityListener([&titles, raw](const IssueActivity& a) {
    auto is = raw->GetIssue(a.issue_id);  // would deadlock if called under the lock
    titles.push_back(is.ok() ? is->title : is.status().ToString());
  });
  Record(s.get(), Group(Hex(1)), Event(1, kT0));
  ASSERT_EQ(titles.size(), 1u);
  EXPECT_EQ(titles[0], "ValueError: user not found");
}

TEST_F(IssueStoreTest, IgnoredIssueStaysIgnored) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0)).issue_id;
  ASSERT_TRUE(s->UpdateStatus(id, IssueStatus::kIgnored).ok());
  clock_.Advance(kHour);
  const RecordResult r = Record(s.get(), g, Event(2, kT0 + kHour, "shop@9.9.9"));
  EXPECT_FALSE(r.regressed);
  const Issue is = Get(s.get(), id);
  EXPECT_EQ(is.status, IssueStatus::kIgnored);
  EXPECT_EQ(is.substatus, "");
  EXPECT_EQ(is.count, 2u);
  EXPECT_EQ(ActivityKinds(s.get()), (std::vector<std::string>{"created", "ignored"}));
}

TEST_F(IssueStoreTest, UpdateStatusUnchangedIsANoOp) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const int64_t id = Record(s.get(), Group(Hex(1)), Event(1, kT0)).issue_id;
  ASSERT_TRUE(s->UpdateStatus(id, IssueStatus::kUnresolved).ok());
  ASSERT_TRUE(s->UpdateStatus(id, IssueStatus::kResolved).ok());
  ASSERT_TRUE(s->UpdateStatus(id, IssueStatus::kResolved).ok());
  EXPECT_EQ(ActivityKinds(s.get()), (std::vector<std::string>{"created", "resolved"}));
  EXPECT_EQ(s->UpdateStatus(999, IssueStatus::kResolved).status().code(), Code::kNotFound);
}

TEST_F(IssueStoreTest, ResolvedInNextReleaseWithSemver) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0, "shop@1.2.0")).issue_id;
  clock_.Advance(kMin);
  auto st = s->UpdateStatus(id, IssueStatus::kResolvedInNextRelease);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->status, IssueStatus::kResolvedInNextRelease);
  EXPECT_EQ(st->resolved_in_release, "shop@1.2.0");
  clock_.Advance(kMin);
  EXPECT_FALSE(Record(s.get(), g, Event(2, clock_.NowNs(), "shop@1.2.0")).regressed);
  EXPECT_FALSE(Record(s.get(), g, Event(3, clock_.NowNs(), "")).regressed);
  EXPECT_FALSE(Record(s.get(), g, Event(4, clock_.NowNs(), "shop@1.1.9")).regressed);
  EXPECT_FALSE(Record(s.get(), g, Event(5, clock_.NowNs(), "shop@1.2.0-rc.3")).regressed);
  EXPECT_EQ(Get(s.get(), id).status, IssueStatus::kResolvedInNextRelease);
  const RecordResult r = Record(s.get(), g, Event(6, clock_.NowNs(), "shop@1.2.1-rc.1"));
  EXPECT_TRUE(r.regressed);
  const Issue is = Get(s.get(), id);
  EXPECT_EQ(is.status, IssueStatus::kUnresolved);
  EXPECT_EQ(is.substatus, "regressed");
  EXPECT_EQ(is.count, 6u);
  EXPECT_EQ(ActivityKinds(s.get()),
            (std::vector<std::string>{"created", "resolvedInNextRelease", "regressed"}));
}

TEST_F(IssueStoreTest, ResolvedInNextReleaseWithoutSemverUsesFirstSeen) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0, "abc1234")).issue_id;
  // Another release seen before the resolution (on another issue).
  Record(s.get(), Group(Hex(2)), Event(2, kT0, "old9999"));
  clock_.Advance(kMin);
  auto st = s->UpdateStatus(id, IssueStatus::kResolvedInNextRelease);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->resolved_in_release, "abc1234");
  clock_.Advance(kMin);
  EXPECT_FALSE(Record(s.get(), g, Event(3, clock_.NowNs(), "abc1234")).regressed);
  EXPECT_FALSE(Record(s.get(), g, Event(4, clock_.NowNs(), "old9999")).regressed);
  EXPECT_FALSE(Record(s.get(), g, Event(5, clock_.NowNs())).regressed);
  // First seen after the resolution: the next release.
  EXPECT_TRUE(Record(s.get(), g, Event(6, clock_.NowNs(), "def5678")).regressed);
  EXPECT_EQ(Get(s.get(), id).substatus, "regressed");
}

TEST_F(IssueStoreTest, ResolvedInNextReleaseFallsBackToNewestProjectRelease) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  Record(s.get(), Group(Hex(2)), Event(1, kT0, "shop@2.0.0"));
  clock_.Advance(kMin);
  Record(s.get(), Group(Hex(3)), Event(2, kT0, "shop@2.1.0"));
  const int64_t id = Record(s.get(), Group(Hex(1)), Event(3, kT0)).issue_id;  // no release
  auto st = s->UpdateStatus(id, IssueStatus::kResolvedInNextRelease);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->resolved_in_release, "shop@2.1.0");
  auto back = s->UpdateStatus(id, IssueStatus::kUnresolved);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->resolved_in_release, "");
  EXPECT_EQ(back->substatus, "new");
}

TEST_F(IssueStoreTest, CompareReleases) {
  EXPECT_EQ(CompareReleases("1.2.3", "1.2.4"), -1);
  EXPECT_EQ(CompareReleases("1.2.4", "1.2.3"), 1);
  EXPECT_EQ(CompareReleases("1.2.3", "1.2.3"), 0);
  EXPECT_EQ(CompareReleases("pkg@1.10.0", "pkg@1.9.0"), 1);
  EXPECT_EQ(CompareReleases("v1.2", "1.2.0"), 0);
  EXPECT_EQ(CompareReleases("2", "1.99.99"), 1);
  EXPECT_EQ(CompareReleases("scope@pkg@3.0.0", "pkg@2.0.0"), 1);
  EXPECT_EQ(CompareReleases("1.0.0+build.5", "1.0.0"), 0);
  EXPECT_EQ(CompareReleases("1.0.0-rc.1+b2", "1.0.0-rc.1"), 0);
  EXPECT_EQ(CompareReleases("01.2.3", "1.2.3"), 0);
  EXPECT_EQ(CompareReleases("99999999999999999999.0.0", "1.0.0"), 1);
  // Semver's precedence example, each lower than the next.
  const std::vector<std::string> chain = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                          "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                          "1.0.0-rc.1",  "1.0.0",         "1.0.1"};
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    EXPECT_EQ(CompareReleases(chain[i], chain[i + 1]), -1) << chain[i] << " < " << chain[i + 1];
    EXPECT_EQ(CompareReleases(chain[i + 1], chain[i]), 1) << chain[i + 1] << " > " << chain[i];
  }
  for (const char* bad : {"", "abc", "1.2.3.4", "1.2.x", "1..2", "1.2.3-", "1.2.3-a..b", "1.2.3+",
                          "v", "pkg@", "a1b2c3d", "1.2.3-rc!"}) {
    EXPECT_EQ(CompareReleases(bad, "1.0.0"), std::nullopt) << bad;
    EXPECT_EQ(CompareReleases("1.0.0", bad), std::nullopt) << bad;
  }
}

TEST_F(IssueStoreTest, StatusNames) {
  for (IssueStatus st : {IssueStatus::kUnresolved, IssueStatus::kResolved,
                         IssueStatus::kResolvedInNextRelease, IssueStatus::kIgnored}) {
    IssueStatus parsed = IssueStatus::kUnresolved;
    ASSERT_TRUE(ParseIssueStatus(IssueStatusName(st), &parsed)) << IssueStatusName(st);
    EXPECT_EQ(parsed, st);
  }
  EXPECT_EQ(IssueStatusName(IssueStatus::kResolvedInNextRelease), "resolvedInNextRelease");
  IssueStatus st = IssueStatus::kUnresolved;
  EXPECT_TRUE(ParseIssueStatus("archived", &st));
  EXPECT_EQ(st, IssueStatus::kIgnored);
  EXPECT_FALSE(ParseIssueStatus("Resolved", &st));
  EXPECT_FALSE(ParseIssueStatus("", &st));
}

TEST_F(IssueStoreTest, SubstatusNewThenOngoing) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  const int64_t id = Record(s.get(), Group(Hex(1)), Event(1, kT0)).issue_id;
  clock_.Advance(7 * kNsPerDay - 1);
  EXPECT_EQ(Get(s.get(), id).substatus, "new");
  clock_.Advance(1);
  EXPECT_EQ(Get(s.get(), id).substatus, "ongoing");
}

// ---- Listing

class ListIssuesTest : public IssueStoreTest {
 protected:
  // Four issues in project 1 and one in project 2:
  //   a: 3 events, 1 user,  prod,     shop@1.0, error, "ValueError: 100% done", first T0
  //   b: 2 events, 2 users, staging,  shop@2.0, warning, "KeyError: a_b",       first T0+1h
  //   c: 2 events, 0 users, prod,     shop@2.0, error, "TypeError: 1000 done", first T0+2h
  //   d: 1 event,  0 users, -,        -,        fatal, "OSError",  culprit "Worker.Run", T0+3h
  //   e: project 2
  void SetUp() override {
    IssueStoreTest::SetUp();
    s_ = OpenWithProject();
    ASSERT_NE(s_, nullptr);
    ASSERT_TRUE(s_->CreateProject("Two").ok());
    uint64_t n = 0;
    auto rec = [&](const std::string& h, const std::string& title, int64_t ts,
                   const std::string& release, const std::string& env, const std::string& level,
                   const std::string& user, int64_t project = 1,
                   const std::string& culprit = "app in f") {
      ErrorEvent e = Event(++n, ts, release, env);
      e.level = level;
      e.user.id = user;
      return Record(s_.get(), Group(h, {}, title, culprit), e, project).issue_id;
    };
    a_ = rec(Hex(1), "ValueError: 100% done", kT0, "shop@1.0", "prod", "error", "u1");
    rec(Hex(1), "", kT0 + 10 * kMin, "shop@1.0", "prod", "error", "u1");
    rec(Hex(1), "", kT0 + 20 * kMin, "shop@1.0", "prod", "error", "");
    b_ = rec(Hex(2), "KeyError: a_b", kT0 + kHour, "shop@2.0", "staging", "warning", "u1");
    rec(Hex(2), "", kT0 + 4 * kHour, "shop@2.0", "staging", "warning", "u2");
    c_ = rec(Hex(3), "TypeError: 1000 done", kT0 + 2 * kHour, "shop@2.0", "prod", "error", "");
    rec(Hex(3), "", kT0 + 2 * kHour + kMin, "shop@2.0", "prod", "error", "");
    d_ = rec(Hex(4), "OSError", kT0 + 3 * kHour, "", "", "fatal", "", 1, "Worker.Run");
    e_ = rec(Hex(5), "Other project", kT0, "", "", "error", "", 2);
    clock_.Set(kT0 + 5 * kHour);
  }
  // The ids of ListIssues(q) in order (and the total).
  std::vector<int64_t> Ids(IssueQuery q, uint64_t* total = nullptr) {
    auto r = s_->ListIssues(q, total);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<int64_t> ids;
    if (r.ok()) {
      for (const auto& i : *r) ids.push_back(i.id);
    }
    return ids;
  }
  IssueQuery P1() {
    IssueQuery q;
    q.project_id = 1;
    return q;
  }

  std::unique_ptr<IssueStore> s_;
  int64_t a_ = 0, b_ = 0, c_ = 0, d_ = 0, e_ = 0;
};

TEST_F(ListIssuesTest, Sorts) {
  using V = std::vector<int64_t>;
  IssueQuery q = P1();
  // date = last seen: b (T0+4h), d (3h), c (2h+1m), a (20m).
  EXPECT_EQ(Ids(q), (V{b_, d_, c_, a_}));
  q.sort = "new";
  EXPECT_EQ(Ids(q), (V{d_, c_, b_, a_}));
  q.sort = "freq";
  EXPECT_EQ(Ids(q), (V{a_, c_, b_, d_}));  // 3, 2, 2 (ties: newer id first), 1
  q.sort = "user";
  const V by_user = Ids(q);
  ASSERT_EQ(by_user.size(), 4u);
  EXPECT_EQ(by_user[0], b_);  // 2 users
  EXPECT_EQ(by_user[1], a_);  // 1 user
  q.sort = "bogus";
  EXPECT_EQ(s_->ListIssues(q).status().code(), Code::kInvalidArgument);
  q.sort = "date";
  q.text = std::string(2000, 'x');
  EXPECT_EQ(s_->ListIssues(q).status().code(), Code::kInvalidArgument);
  // Every project.
  EXPECT_EQ(Ids(IssueQuery{}).size(), 5u);
}

TEST_F(ListIssuesTest, Filters) {
  using V = std::vector<int64_t>;
  IssueQuery q = P1();
  q.environment = "prod";
  EXPECT_EQ(Ids(q), (V{c_, a_}));
  q.environment = "";
  q.release = "shop@2.0";
  EXPECT_EQ(Ids(q), (V{b_, c_}));
  q.release = "";
  q.level = "fatal";
  EXPECT_EQ(Ids(q), (V{d_}));
  q.level = "";
  q.text = "0% DONE";  // case-insensitive; % is literal
  EXPECT_EQ(Ids(q), (V{a_}));
  q.text = "a_b";  // _ is literal
  EXPECT_EQ(Ids(q), (V{b_}));
  q.text = "worker.";  // matches the culprit
  EXPECT_EQ(Ids(q), (V{d_}));
  q.text = "";
  q.last_seen_after_ns = kT0 + 2 * kHour;
  EXPECT_EQ(Ids(q), (V{b_, d_, c_}));
  q.last_seen_after_ns = 0;

  ASSERT_TRUE(s_->UpdateStatus(c_, IssueStatus::kResolved).ok());
  q.status = IssueStatus::kResolved;
  EXPECT_EQ(Ids(q), (V{c_}));
  q.status = IssueStatus::kUnresolved;
  EXPECT_EQ(Ids(q), (V{b_, d_, a_}));
  q.substatus = "new";
  EXPECT_EQ(Ids(q), (V{b_, d_, a_}));
  q.substatus = "regressed";
  EXPECT_TRUE(Ids(q).empty());
  // c regresses; a week later the others are ongoing.
  clock_.Advance(8 * kNsPerDay);
  ErrorEvent e = Event(100, clock_.NowNs());
  ASSERT_TRUE(s_->RecordEvent(1, Group(Hex(3)), e).ok());
  EXPECT_EQ(Ids(q), (V{c_}));
  q.substatus = "ongoing";
  EXPECT_EQ(Ids(q), (V{b_, d_, a_}));
  q.substatus = "new";
  EXPECT_TRUE(Ids(q).empty());
  q.substatus = "bogus";
  EXPECT_EQ(s_->ListIssues(q).status().code(), Code::kInvalidArgument);
}

TEST_F(ListIssuesTest, PagingAndTotal) {
  using V = std::vector<int64_t>;
  IssueQuery q = P1();
  q.limit = 2;
  uint64_t total = 0;
  EXPECT_EQ(Ids(q, &total), (V{b_, d_}));
  EXPECT_EQ(total, 4u);
  q.offset = 2;
  EXPECT_EQ(Ids(q, &total), (V{c_, a_}));
  EXPECT_EQ(total, 4u);
  q.offset = 4;
  EXPECT_TRUE(Ids(q, &total).empty());
  EXPECT_EQ(total, 4u);
  q.offset = 0;
  q.limit = 0;
  EXPECT_TRUE(Ids(q, &total).empty());
  EXPECT_EQ(total, 4u);
  q.limit = 100;
  q.environment = "prod";
  EXPECT_EQ(Ids(q, &total).size(), 2u);
  EXPECT_EQ(total, 2u);
}

// ---- Persistence

TEST_F(IssueStoreTest, CountersSurviveReopen) {
  int64_t id = 0;
  const GroupingResult g = Group(Hex(1), {Hex(2)});
  {
    auto s = OpenWithProject(path_);
    ASSERT_NE(s, nullptr);
    ErrorEvent e = Event(1, kT0, "shop@1.0.0", "prod");
    e.user.id = "9";
    id = Record(s.get(), g, e).issue_id;
    Record(s.get(), g, Event(2, kT0 + kMin, "shop@1.0.0", "prod"));
    ASSERT_TRUE(s->RecordSessions(1, "shop@1.0.0", "prod", kT0, {5, 4, 1, 0, 0}).ok());
    ASSERT_TRUE(s->UpdateStatus(id, IssueStatus::kResolvedInNextRelease).ok());
    Record(s.get(), g, Event(3, kT0 + 2 * kMin, "shop@1.0.0", "prod"));
    // Joins through the secondary hash and registers its own primary hash with the issue.
    ASSERT_TRUE(s->Flush().ok());
    clock_.Advance(kMin);
    Record(s.get(), Group(Hex(7), {Hex(2)}), Event(5, kT0 + kMin, "shop@1.0.0", "prod"));
    // No Flush(): the destructor writes the counters.
  }
  auto s = Open(path_);
  ASSERT_NE(s, nullptr);
  const Issue is = Get(s.get(), id);
  EXPECT_EQ(is.count, 4u);
  EXPECT_EQ(is.users, 1u);
  EXPECT_EQ(is.last_seen_ns, kT0 + 2 * kMin);
  EXPECT_EQ(is.latest_event_id, Hex(3));
  EXPECT_EQ(is.status, IssueStatus::kResolvedInNextRelease);
  EXPECT_EQ(is.resolved_in_release, "shop@1.0.0");
  auto evs = s->Events(id, 0, 10);
  ASSERT_TRUE(evs.ok());
  EXPECT_EQ(evs->size(), 4u);
  auto rel = s->Releases(1, 0);
  ASSERT_TRUE(rel.ok());
  ASSERT_EQ(rel->size(), 1u);
  EXPECT_EQ((*rel)[0].sessions.started, 5u);
  // The hash map and the status were loaded: the secondary hash still finds the issue, and a
  // newer release regresses it.
  clock_.Advance(kMin);
  const RecordResult r = Record(s.get(), Group(Hex(2)), Event(4, clock_.NowNs(), "shop@1.0.1"));
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.issue_id, id);
  EXPECT_TRUE(r.regressed);
  EXPECT_EQ(ActivityKinds(s.get()),
            (std::vector<std::string>{"created", "resolvedInNextRelease", "regressed"}));
  const RecordResult joined = Record(s.get(), Group(Hex(7)), Event(6, clock_.NowNs()));
  EXPECT_FALSE(joined.created);
  EXPECT_EQ(joined.issue_id, id);
}

TEST_F(IssueStoreTest, BackgroundThreadStopsAndFlushesOnDestruction) {
  int64_t id = 0;
  {
    IssueStoreOptions o = Options(path_);
    o.flush_interval_ms = 5;
    auto opened = IssueStore::Open(o);
    ASSERT_TRUE(opened.ok());
    auto& s = *opened;
    ASSERT_TRUE(s->CreateProject("p").ok());
    for (uint64_t i = 1; i <= 50; ++i) {
      id = Record(s.get(), Group(Hex(1)), Event(i, kT0)).issue_id;
    }
  }
  auto s = Open(path_);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Get(s.get(), id).count, 50u);
}

TEST_F(IssueStoreTest, ConcurrentIngestAndReads) {
  IssueStoreOptions o = Options(path_);
  o.flush_interval_ms = 1;
  auto opened = IssueStore::Open(o);
  ASSERT_TRUE(opened.ok());
  auto& s = *opened;
  ASSERT_TRUE(s->CreateProject("p").ok());
  constexpr int kThreads = 4, kPerThread = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ErrorEvent e = Event(static_cast<uint64_t>(t * kPerThread + i + 1), kT0 + i);
        e.user.id = std::to_string(i % 10);
        if (!s->RecordEvent(1, Group(Hex(static_cast<uint64_t>(i % 3))), e).ok()) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) {
      if (!s->ListIssues(IssueQuery{}).ok()) ++failures;
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = s->ListIssues(IssueQuery{});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  uint64_t sum = 0;
  for (const auto& is : *list) {
    sum += is.count;
    EXPECT_EQ(is.users, 10u);
  }
  EXPECT_EQ(sum, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(IssueStoreTest, FailedFlushKeepsDeltasPending) {
  auto s = OpenWithProject(path_);
  ASSERT_NE(s, nullptr);
  const GroupingResult g = Group(Hex(1));
  const int64_t id = Record(s.get(), g, Event(1, kT0, "r1", "prod")).issue_id;
  ASSERT_TRUE(s->Flush().ok());
  ErrorEvent e = Event(2, kT0 + kMin, "r2", "prod");
  e.user.id = "u";
  Record(s.get(), g, e);
  // Another connection holds the write lock: the flush times out (busy_timeout).
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const Status failed = s->Flush();
  EXPECT_EQ(failed.code(), Code::kIOError) << failed.ToString();
  Record(s.get(), g, Event(3, kT0 + 2 * kMin, "r3", "prod"));
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE(s->Flush().ok());
  const Issue is = Get(s.get(), id);
  EXPECT_EQ(is.count, 3u);
  EXPECT_EQ(is.users, 1u);
  EXPECT_EQ(is.last_release, "r3");
  EXPECT_EQ(is.latest_event_id, Hex(3));
  auto tags = s->Tags(id, 10);
  ASSERT_TRUE(tags.ok());
  for (const auto& t : *tags) {
    if (t.key == "environment") {
      EXPECT_EQ(t.total, 3u);
    } else if (t.key == "release") {
      EXPECT_EQ(t.distinct, 3u);
    }
  }
  auto evs = s->Events(id, 0, 10);
  ASSERT_TRUE(evs.ok());
  EXPECT_EQ(evs->size(), 3u);
}

// ---- Sessions

TEST_F(IssueStoreTest, SessionsAndReleaseHealth) {
  auto s = OpenWithProject();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->RecordSessions(1, "shop@1.0", "prod", kT0 + kMin, {10, 8, 1, 1, 0}).ok());
  ASSERT_TRUE(s->RecordSessions(1, "shop@1.0", "prod", kT0 + 2 * kMin, {10, 9, 0, 1, 0}).ok());
  ASSERT_TRUE(s->RecordSessions(1, "shop@1.0", "staging", kT0, {0, 0, 0, 0, 0}).ok());
  clock_.Advance(kHour);
  ASSERT_TRUE(s->RecordSessions(1, "shop@2.0", "prod", kT0 + 3 * kHour, {4, 3, 0, 0, 1}).ok());
  EXPECT_EQ(s->RecordSessions(1, "", "prod", kT0, {1, 0, 0, 0, 0}).code(), Code::kInvalidArgument);
  EXPECT_EQ(s->RecordSessions(7, "x", "prod", kT0, {1, 0, 0, 0, 0}).code(), Code::kNotFound);

  auto rel = s->Releases(1, 0);
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  ASSERT_EQ(rel->size(), 3u);
  // Newest release first.
  EXPECT_EQ((*rel)[0].release, "shop@2.0");
  EXPECT_EQ((*rel)[0].first_seen_ns, kT0 + kHour);
  EXPECT_EQ((*rel)[0].sessions.abnormal, 1u);
  EXPECT_DOUBLE_EQ((*rel)[0].crash_free_rate, 1.0);
  EXPECT_EQ((*rel)[1].release, "shop@1.0");
  EXPECT_EQ((*rel)[1].environment, "prod");
  EXPECT_EQ((*rel)[1].first_seen_ns, kT0);
  EXPECT_EQ((*rel)[1].sessions.started, 20u);
  EXPECT_EQ((*rel)[1].sessions.exited, 17u);
  EXPECT_EQ((*rel)[1].sessions.errored, 1u);
  EXPECT_EQ((*rel)[1].sessions.crashed, 2u);
  EXPECT_DOUBLE_EQ((*rel)[1].crash_free_rate, 0.9);
  EXPECT_EQ((*rel)[2].environment, "staging");
  EXPECT_DOUBLE_EQ((*rel)[2].crash_free_rate, 1.0);  // no sessions started

  // Only hours that end after `since`.
  auto recent = s->Releases(1, kT0 + kHour);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].release, "shop@2.0");
  auto partial = s->Releases(1, kT0 + kHour - 1);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->size(), 3u);
  EXPECT_EQ(s->Releases(7, 0).status().code(), Code::kNotFound);
}

// ---- Opening

TEST_F(IssueStoreTest, FutureSchemaVersionIsCorruption) {
  { ASSERT_NE(Open(path_), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '2' WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = IssueStore::Open(Options(path_));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kCorruption) << s.status().ToString();
}

TEST_F(IssueStoreTest, ForeignFilesAreCorruption) {
  {
    std::ofstream f(path_);
    f << "this is not an SQLite database, just some text that is long enough............";
  }
  auto text = IssueStore::Open(Options(path_));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Code::kCorruption) << text.status().ToString();
  RemoveDb(path_);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE other (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto foreign = IssueStore::Open(Options(path_));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), Code::kCorruption) << foreign.status().ToString();
}

TEST_F(IssueStoreTest, UnopenablePathIsIOError) {
  auto s = IssueStore::Open(Options("/nonexistent-dir/sub/issues.db"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kIOError) << s.status().ToString();
}

TEST_F(IssueStoreTest, SchemaIsCreatedWithVersionAndWal) {
  { ASSERT_NE(Open(path_), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto one = [db](const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  };
  EXPECT_EQ(one("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  for (const char* table :
       {"projects", "keys", "issues", "issue_hashes", "issue_tags", "issue_users", "issue_hourly",
        "issue_events", "releases", "sessions", "activity"}) {
    EXPECT_EQ(one(("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = '" +
                   std::string(table) + "'")
                      .c_str()),
              table);
  }
  EXPECT_EQ(one("SELECT name FROM sqlite_schema WHERE type = 'index' AND "
                "name = 'issue_events_by_event_id'"),
            "issue_events_by_event_id");
  sqlite3_close(db);
}

}  // namespace
}  // namespace sightline::issues
