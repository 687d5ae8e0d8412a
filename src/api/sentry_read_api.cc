// Sentry's web API under /api/0/ (the part scripts and Grafana's Sentry datasource use), over
// the IssueStore and the events kept in the log store. Response shapes follow Sentry's
// serializers (GroupSerializer, EventSerializer, ProjectSerializer, ProjectKeySerializer) for
// the fields tools read; see docs/sentry.md.
#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include "api/log_api.h"
#include "api/sentry_api.h"
#include "base/json.h"
#include "http/status_map.h"
#include "issues/grouping.h"
#include "simdjson.h"

namespace sightline::api {
namespace {

void ApiError(http::Response* res, const Status& s) {
  res->status = http::HttpStatusFor(s.code());
  res->content_type = "application/json";
  res->body = "{\"detail\":" + JsonQuoted(s.message()) + "}";
}

std::string Time(int64_t ns) { return FormatRfc3339Nano(ns); }

void AppendTime(std::string* out, int64_t ns) {
  if (ns == 0) {
    *out += "null";
  } else {
    JsonQuote(Time(ns), out);
  }
}

bool ParseId(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Sentry's search syntax, the subset issue lists use: is:<status|substatus>, level:,
// environment:, release:, key:"quoted value"; other words are free text.
Status ParseIssueSearch(std::string_view q, issues::IssueQuery* out) {
  std::string text;
  size_t i = 0;
  while (i < q.size()) {
    while (i < q.size() && q[i] == ' ') ++i;
    if (i >= q.size()) break;
    std::string token;
    // The key ends at the first ':' outside quotes: `level:error`, `release:"shop 1.0"`;
    // a quoted `"error: timeout"` is free text.
    size_t colon = std::string::npos;
    bool quoted = false;
    while (i < q.size() && q[i] != ' ') {
      if (q[i] == '"') {
        const size_t close = q.find('"', i + 1);
        if (close == std::string_view::npos) return InvalidArgument("unterminated quote in query");
        token.append(q.substr(i + 1, close - i - 1));
        quoted = true;
        i = close + 1;
        continue;
      }
      if (q[i] == ':' && colon == std::string::npos && !quoted) colon = token.size();
      token.push_back(q[i++]);
    }
    if (colon == std::string::npos || colon == 0) {
      if (!text.empty()) text.push_back(' ');
      text += token;
      continue;
    }
    const std::string key = token.substr(0, colon), value = token.substr(colon + 1);
    if (key == "is") {
      issues::IssueStatus st;
      if (value == "regressed" || value == "new" || value == "ongoing") {
        out->status = issues::IssueStatus::kUnresolved;
        out->substatus = value;
      } else if (value == "unresolved" || value == "resolved" || value == "ignored" ||
                 value == "archived") {
        if (!issues::ParseIssueStatus(value, &st)) return InvalidArgument("bad status " + value);
        out->status = st;
      } else {
        return InvalidArgument("unsupported search term is:" + value);
      }
    } else if (key == "level") {
      out->level = value;
    } else if (key == "environment") {
      out->environment = value;
    } else if (key == "release") {
      out->release = value;
    } else {
      if (!text.empty()) text.push_back(' ');
      text += token;
    }
  }
  out->text = text;
  return Status::OK();
}

// "24h", "14d", "90m", "30s" -> ns. 0 for "" (no period).
StatusOr<int64_t> ParseStatsPeriod(const std::string& v) {
  if (v.empty()) return int64_t{0};
  int64_t n = 0;
  if (!ParseId(std::string_view(v).substr(0, v.size() - 1), &n) || n <= 0) {
    return InvalidArgument("invalid statsPeriod '" + v + "'");
  }
  switch (v.back()) {
    case 's': return n * kNsPerSec;
    case 'm': return n * 60 * kNsPerSec;
    case 'h': return n * 3600 * kNsPerSec;
    case 'd': return n * kNsPerDay;
    case 'w': return n * 7 * kNsPerDay;
    default: return InvalidArgument("invalid statsPeriod '" + v + "'");
  }
}

// Grafana sends start/end as "2006-01-02T15:04:05" (UTC, no zone); Sentry accepts RFC 3339.
StatusOr<int64_t> ParseApiTime(const std::string& name, std::string v) {
  if (v.size() == 19 && v[10] == 'T') v += "Z";
  return ParseTimeParam(name, v);
}

void AppendPairsArray(const std::vector<std::pair<std::string, std::string>>& kv,
                      std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->push_back('[');
    JsonQuote(kv[i].first, out);
    out->push_back(',');
    JsonQuote(kv[i].second, out);
    out->push_back(']');
  }
  out->push_back(']');
}

void AppendPairsObject(const std::vector<std::pair<std::string, std::string>>& kv,
                       std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i > 0) out->push_back(',');
    JsonQuote(kv[i].first, out);
    out->push_back(':');
    JsonQuote(kv[i].second, out);
  }
  out->push_back('}');
}

std::vector<std::pair<std::string, std::string>> SplitQuery(std::string_view qs) {
  std::multimap<std::string, std::string> m;
  http::ParseQueryString(qs, &m);
  return {m.begin(), m.end()};
}

}  // namespace

void SentryApi::ReadApi(const http::Request& req, http::Response* res,
                        const std::vector<std::string>& parts_in) {
  res->content_type = "application/json";
  if (!opt_.api_tokens.empty()) {
    const std::string authz = req.Header("authorization");
    const bool ok = authz.size() > 7 && (authz.compare(0, 7, "Bearer ") == 0) &&
                    std::find(opt_.api_tokens.begin(), opt_.api_tokens.end(),
                              authz.substr(7)) != opt_.api_tokens.end();
    if (!ok) {
      return ApiError(res, Unauthenticated("Authentication credentials were not provided."));
    }
  }
  std::vector<std::string> p = parts_in;
  while (!p.empty() && p.back().empty()) p.pop_back();
  const std::string& m = req.method;
  auto not_found = [&] { ApiError(res, NotFound("The requested resource does not exist")); };
  auto org_ok = [&](const std::string& org) { return org == opt_.organization; };
  auto project_of = [&](const std::string& id_or_slug) -> StatusOr<issues::Project> {
    return issues_->FindProject(id_or_slug);
  };

  if (p.empty() || (p.size() == 1 && p[0] == "organizations")) {
    if (p.empty()) {
      res->body = R"({"version":"0","auth":null,"user":null})";
      return;
    }
    res->body = "[{\"id\":\"1\",\"slug\":" + JsonQuoted(opt_.organization) +
                ",\"name\":" + JsonQuoted(opt_.organization) +
                R"(,"dateCreated":"2026-01-01T00:00:00Z","isEarlyAdopter":false,)"
                R"("require2FA":false,"status":{"id":"active","name":"active"},)"
                R"("avatar":{"avatarType":"letter_avatar"}}])";
    return;
  }
  if (p[0] == "organizations") {
    if (!org_ok(p[1])) return not_found();
    if (p.size() == 2) {
      res->body = "{\"id\":\"1\",\"slug\":" + JsonQuoted(opt_.organization) +
                  ",\"name\":" + JsonQuoted(opt_.organization) +
                  R"(,"status":{"id":"active","name":"active"},"features":[]})";
      return;
    }
    if (p.size() == 3 && p[2] == "projects" && m == "GET") return Projects(req, res);
    if (p[2] == "issues") {
      if (p.size() == 3 && m == "GET") return ListIssues(req, res, 0);
      if (p.size() == 3 && m == "PUT") return BulkUpdateIssues(req, res, 0);
      int64_t id = 0;
      if (p.size() >= 4 && ParseId(p[3], &id)) {
        if (p.size() == 4 && m == "GET") return IssueDetail(req, res, id);
        if (p.size() == 4 && m == "PUT") return UpdateIssue(req, res, id);
        if (p.size() >= 5 && p[4] == "events" && m == "GET") {
          return IssueEvents(req, res, id, p.size() >= 6 ? p[5] : "");
        }
        if (p.size() == 5 && p[4] == "tags" && m == "GET") return IssueTags(req, res, id);
      }
    }
    return not_found();
  }
  if (p[0] == "projects") {
    if (p.size() == 1 && m == "GET") return Projects(req, res);
    if (p.size() < 3 || !org_ok(p[1])) return not_found();
    auto proj = project_of(p[2]);
    if (!proj.ok()) return ApiError(res, proj.status());
    if (p.size() == 3 && m == "GET") {
      RenderProject(*proj, &res->body);
      return;
    }
    if (p.size() == 4 && p[3] == "issues") {
      if (m == "GET") return ListIssues(req, res, proj->id);
      if (m == "PUT") return BulkUpdateIssues(req, res, proj->id);
    }
    if (p.size() == 4 && p[3] == "keys") return ProjectKeys(req, res, proj->id);
    if (p.size() == 4 && p[3] == "releases" && m == "GET") return Releases(req, res, proj->id);
    if (p.size() == 5 && p[3] == "events" && m == "GET") {
      return ProjectEvent(req, res, proj->id, p[4]);
    }
    return not_found();
  }
  if (p[0] == "teams" && p.size() == 4 && p[3] == "projects" && org_ok(p[1])) {
    if (m == "POST") return CreateProject(req, res);
    if (m == "GET") return Projects(req, res);
  }
  int64_t id = 0;
  if (p[0] == "issues" && p.size() >= 2 && ParseId(p[1], &id)) {
    if (p.size() == 2 && m == "GET") return IssueDetail(req, res, id);
    if (p.size() == 2 && m == "PUT") return UpdateIssue(req, res, id);
    if (p.size() >= 3 && p[2] == "events" && m == "GET") {
      return IssueEvents(req, res, id, p.size() >= 4 ? p[3] : "");
    }
    if (p.size() == 3 && p[2] == "tags" && m == "GET") return IssueTags(req, res, id);
  }
  not_found();
}

void SentryApi::RenderProject(const issues::Project& p, std::string* out) {
  *out += "{\"id\":\"" + std::to_string(p.id) + "\",\"slug\":" + JsonQuoted(p.slug) +
          ",\"name\":" + JsonQuoted(p.name) + ",\"platform\":";
  if (p.platform.empty()) {
    *out += "null";
  } else {
    JsonQuote(p.platform, out);
  }
  *out += ",\"dateCreated\":";
  AppendTime(out, p.created_ns);
  *out += R"(,"isBookmarked":false,"isMember":true,"hasAccess":true,"status":"active",)"
          R"("features":[],"environments":[],)"
          R"("team":{"id":"1","name":"default","slug":"default"},)"
          R"("teams":[{"id":"1","name":"default","slug":"default"}],)"
          "\"organization\":{\"id\":\"1\",\"slug\":" +
          JsonQuoted(opt_.organization) + ",\"name\":" + JsonQuoted(opt_.organization) + "}}";
}

void SentryApi::Projects(const http::Request&, http::Response* res) {
  std::string& out = res->body;
  out = "[";
  bool first = true;
  for (const auto& p : issues_->ListProjects()) {
    if (!first) out.push_back(',');
    first = false;
    RenderProject(p, &out);
  }
  out += "]";
}

void SentryApi::CreateProject(const http::Request& req, http::Response* res) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(req.body).get(doc) || !doc.is_object()) {
    return ApiError(res, InvalidArgument("body must be a JSON object with \"name\""));
  }
  std::string_view name, slug, platform;
  if (doc["name"].get(name) != simdjson::SUCCESS) {
    return ApiError(res, InvalidArgument("\"name\" (a string) is required"));
  }
  if (doc["slug"].get(slug) != simdjson::SUCCESS) slug = {};
  if (doc["platform"].get(platform) != simdjson::SUCCESS) platform = {};
  auto p = issues_->CreateProject(std::string(name), std::string(slug), std::string(platform));
  if (!p.ok()) {
    if (p.status().code() == Code::kFailedPrecondition) {
      res->status = 409;
      res->body = "{\"detail\":" + JsonQuoted(p.status().message()) + "}";
      return;
    }
    return ApiError(res, p.status());
  }
  auto k = issues_->CreateKey(p->id, "Default");
  if (!k.ok()) return ApiError(res, k.status());
  res->status = 201;
  res->body.clear();
  RenderProject(*p, &res->body);
}

void SentryApi::ProjectKeys(const http::Request& req, http::Response* res, int64_t project_id) {
  auto render = [this](const issues::ProjectKey& k, std::string* out) {
    const std::string dsn = Dsn(k);
    *out += "{\"id\":" + JsonQuoted(k.public_key) + ",\"name\":" + JsonQuoted(k.label) +
            ",\"label\":" + JsonQuoted(k.label) + ",\"public\":" + JsonQuoted(k.public_key) +
            ",\"secret\":\"\",\"projectId\":" + std::to_string(k.project_id) +
            ",\"isActive\":" + (k.active ? "true" : "false") + ",\"dateCreated\":";
    AppendTime(out, k.created_ns);
    *out += ",\"dsn\":{\"public\":" + JsonQuoted(dsn) + ",\"secret\":" + JsonQuoted(dsn) + "}}";
  };
  if (req.method == "POST") {
    std::string label = "Default";
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view name;
    if (!req.body.empty() && !parser.parse(req.body).get(doc) && !doc["name"].get(name)) {
      label = std::string(name);
    }
    auto k = issues_->CreateKey(project_id, label);
    if (!k.ok()) return ApiError(res, k.status());
    res->status = 201;
    render(*k, &res->body);
    return;
  }
  if (req.method != "GET") return ApiError(res, NotFound("method not allowed"));
  res->body = "[";
  bool first = true;
  for (const auto& k : issues_->ListKeys(project_id)) {
    if (!first) res->body.push_back(',');
    first = false;
    render(k, &res->body);
  }
  res->body += "]";
}

void SentryApi::RenderIssue(const issues::Issue& is, const issues::Project& p, bool detail,
                            const std::string& stats_period, std::string* out) {
  const std::string id = std::to_string(is.id);
  *out += "{\"id\":\"" + id + "\",\"shortId\":" +
          JsonQuoted(Upper(p.slug) + "-" + std::to_string(is.id)) +
          ",\"title\":" + JsonQuoted(is.title) + ",\"culprit\":" + JsonQuoted(is.culprit) +
          ",\"permalink\":" +
          JsonQuoted((opt_.public_url.empty() ? std::string() : opt_.public_url) +
                     "/issues/" + id + "/") +
          ",\"logger\":null,\"level\":" + JsonQuoted(is.level) + ",\"status\":" +
          JsonQuoted(is.status == issues::IssueStatus::kResolvedInNextRelease
                         ? "resolved"
                         : std::string(issues::IssueStatusName(is.status))) +
          ",\"statusDetails\":";
  if (is.status == issues::IssueStatus::kResolvedInNextRelease) {
    *out += "{\"inNextRelease\":true";
    if (!is.resolved_in_release.empty()) {
      *out += ",\"inRelease\":" + JsonQuoted(is.resolved_in_release);
    }
    *out += "}";
  } else {
    *out += "{}";
  }
  *out += ",\"substatus\":";
  if (is.substatus.empty()) {
    *out += "null";
  } else {
    JsonQuote(is.substatus, out);
  }
  *out += ",\"isPublic\":false,\"platform\":" + JsonQuoted(is.platform) +
          ",\"project\":{\"id\":\"" + std::to_string(p.id) + "\",\"name\":" + JsonQuoted(p.name) +
          ",\"slug\":" + JsonQuoted(p.slug) + ",\"platform\":" + JsonQuoted(p.platform) +
          "},\"type\":" + (is.type.empty() ? "\"default\"" : "\"error\"") +
          ",\"issueType\":\"error\",\"issueCategory\":\"error\",\"metadata\":{";
  if (!is.type.empty()) {
    *out += "\"type\":" + JsonQuoted(is.type) + ",\"value\":" + JsonQuoted(is.value) + ",";
  }
  *out += "\"title\":" + JsonQuoted(is.title) + "},\"numComments\":0,\"assignedTo\":null," +
          "\"isBookmarked\":false,\"isSubscribed\":false,\"subscriptionDetails\":null," +
          "\"hasSeen\":false,\"annotations\":[],\"isUnhandled\":false,\"count\":\"" +
          std::to_string(is.count) + "\",\"userCount\":" + std::to_string(is.users) +
          ",\"firstSeen\":";
  AppendTime(out, is.first_seen_ns);
  *out += ",\"lastSeen\":";
  AppendTime(out, is.last_seen_ns);
  *out += ",\"lifetime\":{\"count\":\"" + std::to_string(is.count) +
          "\",\"userCount\":" + std::to_string(is.users) + ",\"firstSeen\":";
  AppendTime(out, is.first_seen_ns);
  *out += ",\"lastSeen\":";
  AppendTime(out, is.last_seen_ns);
  *out += "},\"firstRelease\":";
  auto release = [out](const std::string& v) {
    if (v.empty()) {
      *out += "null";
    } else {
      *out += "{\"version\":" + JsonQuoted(v) + ",\"shortVersion\":" + JsonQuoted(v) + "}";
    }
  };
  release(is.first_release);
  *out += ",\"lastRelease\":";
  release(is.last_release);
  // The count series for sparklines: hourly points for periods up to two days, else daily.
  if (!stats_period.empty()) {
    auto period = ParseStatsPeriod(stats_period);
    if (period.ok() && *period > 0) {
      const int64_t step = *period <= 2 * kNsPerDay ? 3600 * kNsPerSec : kNsPerDay;
      const int64_t now = opt_.clock->NowNs();
      const int64_t end = (now / step + 1) * step;
      const int64_t start = end - (*period / step) * step;
      auto series = issues_->CountSeries(is.id, start, end, step);
      *out += ",\"stats\":{" + JsonQuoted(stats_period) + ":[";
      if (series.ok()) {
        for (size_t i = 0; i < series->size(); ++i) {
          if (i > 0) out->push_back(',');
          *out += "[" + std::to_string((start + int64_t(i) * step) / kNsPerSec) + "," +
                  std::to_string((*series)[i]) + "]";
        }
      }
      *out += "]}";
    }
  }
  if (detail) {
    *out += ",\"userReportCount\":0,\"activity\":[],\"seenBy\":[],\"participants\":[],"
            "\"pluginActions\":[],\"pluginIssues\":[],\"tags\":[";
    auto tags = issues_->Tags(is.id, 0);
    if (tags.ok()) {
      for (size_t i = 0; i < tags->size(); ++i) {
        const auto& t = (*tags)[i];
        if (i > 0) out->push_back(',');
        *out += "{\"key\":" + JsonQuoted(t.key) + ",\"name\":" + JsonQuoted(t.key) +
                ",\"totalValues\":" + std::to_string(t.total) + "}";
      }
    }
    *out += "],\"groupingVariant\":" + JsonQuoted(is.variant) + ",\"latestEventId\":" +
            JsonQuoted(is.latest_event_id);
  }
  out->push_back('}');
}

void SentryApi::ListIssues(const http::Request& req, http::Response* res, int64_t project_id) {
  issues::IssueQuery q;
  // Sentry's issue endpoints default to unresolved issues when no query is given.
  Status s = ParseIssueSearch(req.HasParam("query") ? req.Param("query") : "is:unresolved", &q);
  if (!s.ok()) return ApiError(res, s);
  std::vector<int64_t> projects;
  if (project_id != 0) projects.push_back(project_id);
  for (auto [it, end] = req.query.equal_range("project"); it != end; ++it) {
    int64_t id = 0;
    if (it->second == "-1") continue;  // "all projects"
    if (!ParseId(it->second, &id)) return ApiError(res, InvalidArgument("bad project id"));
    if (project_id == 0) projects.push_back(id);
  }
  if (q.environment.empty()) q.environment = req.Param("environment");
  const std::string sort = req.Param("sort");
  q.sort = sort == "new" || sort == "freq" || sort == "user" ? sort : "date";
  const std::string stats_param = req.Param("statsPeriod");
  const int64_t now = opt_.clock->NowNs();
  if (req.HasParam("start")) {
    auto st = ParseApiTime("start", req.Param("start"));
    if (!st.ok()) return ApiError(res, st.status());
    q.last_seen_after_ns = *st;
  } else {
    auto period = ParseStatsPeriod(stats_param);
    if (!period.ok()) return ApiError(res, period.status());
    if (*period > 0) q.last_seen_after_ns = now - *period;
  }
  size_t limit = 100;
  if (req.HasParam("limit")) {
    int64_t l = 0;
    if (!ParseId(req.Param("limit"), &l) || l < 1) {
      return ApiError(res, InvalidArgument("limit must be a positive integer"));
    }
    limit = static_cast<size_t>(std::min<int64_t>(l, 10000));
  }
  // Sentry cursors: "<value>:<offset>:<is_prev>".
  size_t offset = 0;
  const std::string cursor = req.Param("cursor");
  if (!cursor.empty()) {
    const size_t a = cursor.find(':'), b = cursor.find(':', a + 1);
    int64_t off = 0;
    if (a == std::string::npos || b == std::string::npos ||
        !ParseId(std::string_view(cursor).substr(a + 1, b - a - 1), &off)) {
      return ApiError(res, InvalidArgument("invalid cursor '" + cursor + "'"));
    }
    offset = static_cast<size_t>(off);
  }
  std::vector<issues::Issue> all;
  uint64_t total = 0;
  if (projects.size() <= 1) {
    q.project_id = projects.empty() ? 0 : projects[0];
    q.offset = offset;
    q.limit = limit;
    auto r = issues_->ListIssues(q, &total);
    if (!r.ok()) return ApiError(res, r.status());
    all = std::move(r).value();
  } else {
    // Several projects: merge the per-project lists (each sorted) and page the union.
    q.offset = 0;
    q.limit = offset + limit;
    for (int64_t pid : projects) {
      q.project_id = pid;
      uint64_t t = 0;
      auto r = issues_->ListIssues(q, &t);
      if (!r.ok()) return ApiError(res, r.status());
      total += t;
      all.insert(all.end(), r->begin(), r->end());
    }
    auto key = [&q](const issues::Issue& i) -> int64_t {
      if (q.sort == "new") return i.first_seen_ns;
      if (q.sort == "freq") return static_cast<int64_t>(i.count);
      if (q.sort == "user") return static_cast<int64_t>(i.users);
      return i.last_seen_ns;
    };
    std::stable_sort(all.begin(), all.end(),
                     [&](const auto& a, const auto& b) { return key(a) > key(b); });
    if (all.size() > offset) {
      all.erase(all.begin(), all.begin() + static_cast<ptrdiff_t>(offset));
    } else {
      all.clear();
    }
    if (all.size() > limit) all.resize(limit);
  }
  std::map<int64_t, issues::Project> project_cache;
  std::string& out = res->body;
  out = "[";
  const std::string group_stats = req.HasParam("groupStatsPeriod")
                                      ? req.Param("groupStatsPeriod")
                                      : std::string("24h");
  for (size_t i = 0; i < all.size(); ++i) {
    auto it = project_cache.find(all[i].project_id);
    if (it == project_cache.end()) {
      auto p = issues_->GetProject(all[i].project_id);
      if (!p.ok()) continue;
      it = project_cache.emplace(all[i].project_id, *p).first;
    }
    if (out.size() > 1) out.push_back(',');
    RenderIssue(all[i], it->second, false, group_stats == "auto" ? "24h" : group_stats, &out);
  }
  out += "]";
  // Link header as Sentry sends it (rel previous/next with results and cursor).
  std::string base = req.path + "?";
  for (const auto& [k, v] : req.query) {
    if (k == "cursor") continue;
    base += k + "=" + v + "&";  // values as decoded; tools only read the cursor attribute
  }
  const bool has_prev = offset > 0;
  const bool has_next = offset + all.size() < total;
  const std::string prev = "0:" + std::to_string(offset > limit ? offset - limit : 0) + ":1";
  const std::string next = "0:" + std::to_string(offset + limit) + ":0";
  res->headers.emplace_back(
      "Link", "<" + base + "cursor=" + prev + ">; rel=\"previous\"; results=\"" +
                  (has_prev ? "true" : "false") + "\"; cursor=\"" + prev + "\", <" + base +
                  "cursor=" + next + ">; rel=\"next\"; results=\"" +
                  (has_next ? "true" : "false") + "\"; cursor=\"" + next + "\"");
  res->headers.emplace_back("X-Hits", std::to_string(total));
}

void SentryApi::IssueDetail(const http::Request& req, http::Response* res, int64_t issue_id) {
  auto is = issues_->GetIssue(issue_id);
  if (!is.ok()) return ApiError(res, is.status());
  auto p = issues_->GetProject(is->project_id);
  if (!p.ok()) return ApiError(res, p.status());
  res->body.clear();
  const std::string period =
      req.HasParam("statsPeriod") ? req.Param("statsPeriod") : std::string("24h");
  RenderIssue(*is, *p, true, period, &res->body);
}

namespace {

// {"status": "resolved" | "resolvedInNextRelease" | "unresolved" | "ignored",
//  "statusDetails": {"inNextRelease": true}} -> status.
StatusOr<issues::IssueStatus> StatusFromBody(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) || !doc.is_object()) {
    return InvalidArgument("body must be a JSON object with \"status\"");
  }
  std::string_view status;
  if (doc["status"].get(status)) return InvalidArgument("\"status\" is required");
  issues::IssueStatus st;
  if (!issues::ParseIssueStatus(status, &st)) {
    return InvalidArgument("unknown status '" + std::string(status) +
                           "': use resolved, resolvedInNextRelease, unresolved or ignored");
  }
  bool next = false;
  if (st == issues::IssueStatus::kResolved &&
      !doc.at_pointer("/statusDetails/inNextRelease").get(next) && next) {
    st = issues::IssueStatus::kResolvedInNextRelease;
  }
  return st;
}

}  // namespace

void SentryApi::UpdateIssue(const http::Request& req, http::Response* res, int64_t issue_id) {
  auto st = StatusFromBody(req.body);
  if (!st.ok()) return ApiError(res, st.status());
  auto is = issues_->UpdateStatus(issue_id, *st);
  if (!is.ok()) return ApiError(res, is.status());
  auto p = issues_->GetProject(is->project_id);
  if (!p.ok()) return ApiError(res, p.status());
  res->body.clear();
  RenderIssue(*is, *p, true, "24h", &res->body);
}

void SentryApi::BulkUpdateIssues(const http::Request& req, http::Response* res,
                                 int64_t project_id) {
  auto st = StatusFromBody(req.body);
  if (!st.ok()) return ApiError(res, st.status());
  std::vector<int64_t> ids;
  for (auto [it, end] = req.query.equal_range("id"); it != end; ++it) {
    int64_t id = 0;
    if (!ParseId(it->second, &id)) return ApiError(res, InvalidArgument("bad issue id"));
    ids.push_back(id);
  }
  if (ids.empty()) {
    return ApiError(res, InvalidArgument("name the issues to update with ?id=<issue id>"));
  }
  for (int64_t id : ids) {
    auto is = issues_->GetIssue(id);
    if (!is.ok()) return ApiError(res, is.status());
    if (project_id != 0 && is->project_id != project_id) {
      return ApiError(res, NotFound("issue " + std::to_string(id) + " not in this project"));
    }
  }
  for (int64_t id : ids) {
    auto is = issues_->UpdateStatus(id, *st);
    if (!is.ok()) return ApiError(res, is.status());
  }
  const bool next = *st == issues::IssueStatus::kResolvedInNextRelease;
  res->body = "{\"status\":" +
              JsonQuoted(next ? "resolved" : std::string(issues::IssueStatusName(*st))) +
              ",\"statusDetails\":" + (next ? "{\"inNextRelease\":true}" : "{}") + "}";
}

void SentryApi::RenderEvent(const model::ErrorEvent& e, const issues::Issue& is,
                            std::string* out) {
  const issues::GroupingResult g = issues::GroupEvent(e);
  const bool error = !e.exceptions.empty();
  *out += "{\"id\":" + JsonQuoted(e.event_id) + ",\"eventID\":" + JsonQuoted(e.event_id) +
          ",\"groupID\":\"" + std::to_string(is.id) + "\",\"projectID\":\"" +
          std::to_string(is.project_id) + "\",\"title\":" + JsonQuoted(g.title) +
          ",\"message\":" + JsonQuoted(e.message) + ",\"platform\":" + JsonQuoted(e.platform) +
          ",\"type\":" + (error ? "\"error\"" : "\"default\"") + ",\"culprit\":" +
          JsonQuoted(g.culprit) + ",\"location\":" + JsonQuoted(g.culprit) + ",\"dateCreated\":";
  AppendTime(out, e.ts_ns);
  *out += ",\"dateReceived\":";
  AppendTime(out, e.received_ns);
  // Tags as Sentry lists them: the event's, plus the promoted fields.
  std::vector<std::pair<std::string, std::string>> tags = e.tags;
  auto promote = [&tags](const char* k, const std::string& v) {
    if (v.empty()) return;
    for (const auto& [tk, tv] : tags) {
      if (tk == k) return;
    }
    tags.emplace_back(k, v);
  };
  promote("environment", e.environment);
  promote("level", e.level);
  promote("release", e.release);
  promote("server_name", e.server_name);
  promote("transaction", e.transaction);
  promote("user", issues::UserIdentity(e.user));
  if (!e.trace_id.empty()) promote("trace", e.trace_id.Hex());
  std::sort(tags.begin(), tags.end());
  *out += ",\"tags\":[";
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out->push_back(',');
    *out += "{\"key\":" + JsonQuoted(tags[i].first) + ",\"value\":" + JsonQuoted(tags[i].second) +
            "}";
  }
  *out += "],\"user\":";
  const auto& u = e.user;
  if (u.id.empty() && u.email.empty() && u.username.empty() && u.ip_address.empty()) {
    *out += "null";
  } else {
    *out += "{\"id\":" + JsonQuoted(u.id) + ",\"email\":" + JsonQuoted(u.email) +
            ",\"username\":" + JsonQuoted(u.username) + ",\"ip_address\":" +
            JsonQuoted(u.ip_address) + "}";
  }
  *out += ",\"sdk\":{\"name\":" + JsonQuoted(e.sdk_name) + ",\"version\":" +
          JsonQuoted(e.sdk_version) + "},\"release\":";
  if (e.release.empty()) {
    *out += "null";
  } else {
    *out += "{\"version\":" + JsonQuoted(e.release) + "}";
  }
  *out += ",\"dist\":" + (e.dist.empty() ? std::string("null") : JsonQuoted(e.dist)) +
          ",\"environment\":" + JsonQuoted(e.environment);
  // contexts: the trace context first (what links the error to its trace), then the rest.
  *out += ",\"contexts\":{";
  bool any_context = false;
  if (!e.trace_id.empty()) {
    *out += "\"trace\":{\"type\":\"trace\",\"trace_id\":\"" + e.trace_id.Hex() + "\"";
    if (!e.span_id.empty()) *out += ",\"span_id\":\"" + e.span_id.Hex() + "\"";
    *out += "}";
    any_context = true;
  }
  if (e.contexts_json.size() > 2) {
    if (any_context) out->push_back(',');
    out->append(e.contexts_json, 1, e.contexts_json.size() - 2);
  }
  *out += "},\"fingerprints\":[";
  for (size_t i = 0; i < g.hashes.size(); ++i) {
    if (i > 0) out->push_back(',');
    JsonQuote(g.hashes[i], out);
  }
  *out += "],\"groupingVariant\":" + JsonQuoted(g.variant) + ",\"metadata\":{\"title\":" +
          JsonQuoted(g.title) + "},\"errors\":[],\"crashFile\":null,\"size\":0";
  // Sightline's own links: the trace and the logs of the request the error happened in.
  if (!e.trace_id.empty()) {
    const std::string tid = e.trace_id.Hex();
    *out += ",\"sightline\":{\"trace\":\"/sl/traces/" + tid + "\",\"logs_query\":" +
            JsonQuoted("{trace_id=\"" + tid + "\"}") + "}";
  }
  *out += ",\"entries\":[";
  bool first_entry = true;
  auto entry = [&](const char* type) {
    if (!first_entry) out->push_back(',');
    first_entry = false;
    *out += "{\"type\":\"";
    *out += type;
    *out += "\",\"data\":";
  };
  if (error) {
    entry("exception");
    *out += "{\"values\":[";
    bool has_system = false;
    for (size_t i = 0; i < e.exceptions.size(); ++i) {
      const auto& x = e.exceptions[i];
      if (i > 0) out->push_back(',');
      *out += "{\"type\":" + JsonQuoted(x.type) + ",\"value\":" + JsonQuoted(x.value) +
              ",\"module\":" + (x.module.empty() ? std::string("null") : JsonQuoted(x.module)) +
              ",\"mechanism\":";
      if (x.mechanism.empty() && !x.handled.has_value()) {
        *out += "null";
      } else {
        *out += "{\"type\":" + JsonQuoted(x.mechanism) + ",\"handled\":" +
                (x.handled.has_value() ? (*x.handled ? "true" : "false") : "null") + "}";
      }
      *out += ",\"stacktrace\":";
      if (x.frames.empty()) {
        *out += "null";
      } else {
        *out += "{\"frames\":[";
        for (size_t j = 0; j < x.frames.size(); ++j) {
          const auto& f = x.frames[j];
          const bool in_app = issues::IsInApp(f);
          has_system = has_system || !in_app;
          if (j > 0) out->push_back(',');
          *out += "{\"filename\":" + JsonQuoted(f.filename) + ",\"absPath\":" +
                  JsonQuoted(f.abs_path) + ",\"module\":" + JsonQuoted(f.module) +
                  ",\"package\":" + (f.package.empty() ? "null" : JsonQuoted(f.package)) +
                  ",\"platform\":" + (f.platform.empty() ? "null" : JsonQuoted(f.platform)) +
                  ",\"function\":" + JsonQuoted(f.function) + ",\"lineNo\":" +
                  (f.lineno > 0 ? std::to_string(f.lineno) : "null") + ",\"colNo\":" +
                  (f.colno > 0 ? std::to_string(f.colno) : "null") + ",\"inApp\":" +
                  (in_app ? "true" : "false") + ",\"context\":[";
          // [[lineno, line], ...] around the frame's line, as Sentry renders source context.
          const int64_t base = f.lineno - static_cast<int64_t>(f.pre_context.size());
          bool first_line = true;
          auto line = [&](int64_t no, const std::string& text) {
            if (!first_line) out->push_back(',');
            first_line = false;
            *out += "[" + std::to_string(no) + ",";
            JsonQuote(text, out);
            out->push_back(']');
          };
          if (f.lineno > 0 && (!f.context_line.empty() || !f.pre_context.empty())) {
            for (size_t k = 0; k < f.pre_context.size(); ++k) {
              line(base + static_cast<int64_t>(k), f.pre_context[k]);
            }
            line(f.lineno, f.context_line);
            for (size_t k = 0; k < f.post_context.size(); ++k) {
              line(f.lineno + 1 + static_cast<int64_t>(k), f.post_context[k]);
            }
          }
          *out += "],\"vars\":";
          AppendPairsObject(f.vars, out);
          out->push_back('}');
        }
        *out += "],\"framesOmitted\":null,\"registers\":null}";
      }
      *out += ",\"rawStacktrace\":null}";
    }
    *out += "],\"hasSystemFrames\":";
    *out += has_system ? "true" : "false";
    *out += ",\"excOmitted\":null}}";
  }
  if (!e.message.empty()) {
    entry("message");
    *out += "{\"formatted\":" + JsonQuoted(e.message) + ",\"message\":" +
            JsonQuoted(e.message_template.empty() ? e.message : e.message_template) + "}}";
  }
  if (!e.breadcrumbs.empty()) {
    entry("breadcrumbs");
    *out += "{\"values\":[";
    for (size_t i = 0; i < e.breadcrumbs.size(); ++i) {
      const auto& b = e.breadcrumbs[i];
      if (i > 0) out->push_back(',');
      *out += "{\"type\":" + JsonQuoted(b.type.empty() ? "default" : b.type) +
              ",\"category\":" + JsonQuoted(b.category) + ",\"level\":" +
              JsonQuoted(b.level.empty() ? "info" : b.level) + ",\"message\":" +
              JsonQuoted(b.message) + ",\"data\":";
      AppendPairsObject(b.data, out);
      *out += ",\"timestamp\":";
      AppendTime(out, b.ts_ns);
      *out += ",\"event_id\":null}";
    }
    *out += "]}}";
  }
  const auto& rq = e.request;
  if (!rq.url.empty() || !rq.method.empty()) {
    entry("request");
    *out += "{\"method\":" + JsonQuoted(rq.method) + ",\"url\":" + JsonQuoted(rq.url) +
            ",\"query\":";
    AppendPairsArray(SplitQuery(rq.query_string), out);
    *out += ",\"headers\":";
    AppendPairsArray(rq.headers, out);
    *out += ",\"data\":null,\"env\":null,\"fragment\":null,\"cookies\":null}}";
  }
  *out += "]}";
}

void SentryApi::IssueEvents(const http::Request& req, http::Response* res, int64_t issue_id,
                            const std::string& which) {
  auto is = issues_->GetIssue(issue_id);
  if (!is.ok()) return ApiError(res, is.status());
  auto render_one = [&](const std::string& event_id, int64_t ts) {
    auto ev = LoadEvent(event_id, ts);
    if (!ev.ok()) return ApiError(res, ev.status());
    res->body.clear();
    RenderEvent(*ev, *is, &res->body);
  };
  if (which == "latest") return render_one(is->latest_event_id, is->latest_event_ns);
  if (which == "oldest") {
    // The index is newest first: page to its end.
    uint64_t offset = is->count > 0 ? is->count - 1 : 0;
    auto evs = issues_->Events(issue_id, offset, 1);
    if (!evs.ok()) return ApiError(res, evs.status());
    if (evs->empty()) return ApiError(res, NotFound("the issue has no stored events"));
    return render_one(evs->front().second, evs->front().first);
  }
  if (!which.empty()) {
    auto ref = issues_->FindEvent(which);
    if (!ref.ok() || ref->issue_id != issue_id) {
      return ApiError(res, NotFound("event " + which + " not found in issue " +
                                    std::to_string(issue_id)));
    }
    return render_one(which, ref->ts_ns);
  }
  size_t limit = 100;
  int64_t l = 0;
  if (req.HasParam("limit") && ParseId(req.Param("limit"), &l) && l > 0) {
    limit = static_cast<size_t>(std::min<int64_t>(l, 1000));
  }
  auto evs = issues_->Events(issue_id, 0, limit);
  if (!evs.ok()) return ApiError(res, evs.status());
  res->body = "[";
  bool first = true;
  for (const auto& [ts, id] : *evs) {
    auto ev = LoadEvent(id, ts);
    if (!ev.ok()) continue;  // past log retention
    if (!first) res->body.push_back(',');
    first = false;
    RenderEvent(*ev, *is, &res->body);
  }
  res->body += "]";
}

void SentryApi::IssueTags(const http::Request& req, http::Response* res, int64_t issue_id) {
  int64_t top = 10;
  if (req.HasParam("limit") && !ParseId(req.Param("limit"), &top)) top = 10;
  auto tags = issues_->Tags(issue_id, static_cast<size_t>(std::clamp<int64_t>(top, 1, 1000)));
  if (!tags.ok()) return ApiError(res, tags.status());
  std::string& out = res->body;
  out = "[";
  for (size_t i = 0; i < tags->size(); ++i) {
    const auto& t = (*tags)[i];
    if (i > 0) out.push_back(',');
    out += "{\"key\":" + JsonQuoted(t.key) + ",\"name\":" + JsonQuoted(t.key) +
           ",\"totalValues\":" + std::to_string(t.total) + ",\"uniqueValues\":" +
           std::to_string(t.distinct) + ",\"topValues\":[";
    for (size_t j = 0; j < t.top.size(); ++j) {
      if (j > 0) out.push_back(',');
      out += "{\"key\":" + JsonQuoted(t.key) + ",\"name\":" + JsonQuoted(t.top[j].value) +
             ",\"value\":" + JsonQuoted(t.top[j].value) +
             ",\"count\":" + std::to_string(t.top[j].count) + "}";
    }
    out += "]}";
  }
  out += "]";
}

void SentryApi::Releases(const http::Request& req, http::Response* res, int64_t project_id) {
  int64_t since = 0;
  if (req.HasParam("statsPeriod")) {
    auto period = ParseStatsPeriod(req.Param("statsPeriod"));
    if (!period.ok()) return ApiError(res, period.status());
    if (*period > 0) since = opt_.clock->NowNs() - *period;
  }
  auto rows = issues_->Releases(project_id, since);
  if (!rows.ok()) return ApiError(res, rows.status());
  // One entry per version, its environments summed, newest first.
  struct Agg {
    issues::SessionCounts s;
    int64_t first_seen_ns = 0;
    std::vector<std::string> envs;
  };
  std::map<std::string, Agg> by_version;
  for (const auto& r : *rows) {
    Agg& a = by_version[r.release];
    a.s.started += r.sessions.started;
    a.s.exited += r.sessions.exited;
    a.s.errored += r.sessions.errored;
    a.s.crashed += r.sessions.crashed;
    a.s.abnormal += r.sessions.abnormal;
    if (a.first_seen_ns == 0 || (r.first_seen_ns != 0 && r.first_seen_ns < a.first_seen_ns)) {
      a.first_seen_ns = r.first_seen_ns;
    }
    if (!r.environment.empty()) a.envs.push_back(r.environment);
  }
  std::vector<std::pair<std::string, Agg>> sorted(by_version.begin(), by_version.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.first_seen_ns > b.second.first_seen_ns;
  });
  std::string& out = res->body;
  out = "[";
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [version, a] = sorted[i];
    if (i > 0) out.push_back(',');
    out += "{\"version\":" + JsonQuoted(version) + ",\"shortVersion\":" + JsonQuoted(version) +
           ",\"dateCreated\":";
    AppendTime(&out, a.first_seen_ns);
    const double crash_free =
        a.s.started == 0 ? 100.0
                         : 100.0 * (1.0 - static_cast<double>(a.s.crashed) /
                                              static_cast<double>(a.s.started));
    out += ",\"environments\":[";
    for (size_t j = 0; j < a.envs.size(); ++j) {
      if (j > 0) out.push_back(',');
      JsonQuote(a.envs[j], &out);
    }
    out += "],\"healthData\":{\"totalSessions\":" + std::to_string(a.s.started) +
           ",\"sessionsCrashed\":" + std::to_string(a.s.crashed) +
           ",\"sessionsErrored\":" + std::to_string(a.s.errored) +
           ",\"sessionsAbnormal\":" + std::to_string(a.s.abnormal) +
           ",\"sessionsExited\":" + std::to_string(a.s.exited) + ",\"crashFreeSessions\":";
    JsonNumber(crash_free, &out);
    out += "}}";
  }
  out += "]";
}

void SentryApi::ProjectEvent(const http::Request&, http::Response* res, int64_t project_id,
                             const std::string& event_id) {
  auto ref = issues_->FindEvent(event_id);
  if (!ref.ok() || ref->project_id != project_id) {
    return ApiError(res, NotFound("event " + event_id + " not found"));
  }
  auto is = issues_->GetIssue(ref->issue_id);
  if (!is.ok()) return ApiError(res, is.status());
  auto ev = LoadEvent(event_id, ref->ts_ns);
  if (!ev.ok()) return ApiError(res, ev.status());
  res->body.clear();
  RenderEvent(*ev, *is, &res->body);
}

}  // namespace sightline::api
