// Error-tracking metadata on SQLite: projects and their DSN keys, issues (one per grouping
// hash) with their lifecycle, per-issue aggregates (event count, users affected, tag value
// counts, an hourly count series), the issue's event index (time and event id; the events
// themselves live in the log store), releases seen, per-release session counts, and an
// activity log of lifecycle changes (created, regressed, resolved, ...) that alerting reads.
//
// Write path: RecordEvent() decides the issue in memory (hash -> issue id map loaded at open)
// and applies the event's deltas to in-memory pending aggregates; a background thread writes
// the pending deltas in one SQLite transaction every `flush_interval_ms` (and Flush() does it
// on demand). A new issue and every status change are written at once (they need an id, and
// must survive a crash). A crash loses at most the last interval's counters, never an issue.
//
// Read path: reads call Flush() first, then query SQLite, so they see every recorded event.
//
// Schema and formats: docs/formats/issues_db.md.
//
// Thread-safety: every public method is thread-safe. One internal mutex guards the in-memory
// state (ingest holds it for microseconds), another the SQLite connection; a flush writes to
// SQLite without holding the first, so ingest only waits for SQLite to create or reopen an
// issue.
#ifndef SIGHTLINE_ISSUES_ISSUE_STORE_H_
#define SIGHTLINE_ISSUES_ISSUE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "issues/grouping.h"
#include "model/error_event.h"

namespace sightline::issues {

struct Project {
  int64_t id = 0;          // 1, 2, ... (Sentry project ids are numeric)
  std::string slug;        // unique, [a-z0-9-_]
  std::string name;
  std::string platform;    // informational ("python", "node", "")
  int64_t created_ns = 0;
};

struct ProjectKey {
  std::string public_key;  // 32 lowercase hex: the DSN user part
  int64_t project_id = 0;
  std::string label;
  bool active = true;
  int64_t created_ns = 0;
};

enum class IssueStatus { kUnresolved, kResolved, kResolvedInNextRelease, kIgnored };
// "unresolved", "resolved", "resolvedInNextRelease", "ignored" (Sentry's API spellings).
std::string_view IssueStatusName(IssueStatus s);
// Accepts the names above (and "archived" for kIgnored). False for anything else.
bool ParseIssueStatus(std::string_view name, IssueStatus* out);

struct Issue {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string hash;     // the primary grouping hash that created it
  std::string title, culprit, level, platform;
  std::string type, value;  // of the crashing exception ("" for message events)
  std::string variant;      // the grouping variant (GroupingResult::variant)
  IssueStatus status = IssueStatus::kUnresolved;
  // For unresolved issues: "new" (first seen < 7 days ago), "ongoing", "regressed"; "" else.
  std::string substatus;
  std::string resolved_in_release;  // kResolvedInNextRelease: the release current at resolve
  int64_t status_changed_ns = 0;
  int64_t first_seen_ns = 0, last_seen_ns = 0;
  uint64_t count = 0;  // events
  uint64_t users = 0;  // distinct user identities (id > username > email > ip_address)
  std::string first_release, last_release;
  std::string latest_event_id;
  int64_t latest_event_ns = 0;
};

// What RecordEvent did.
struct RecordResult {
  int64_t issue_id = 0;
  bool created = false;    // a new issue
  bool regressed = false;  // a resolved issue reopened by this event
  bool duplicate = false;  // the event id was recorded recently; nothing changed
};

// A lifecycle change, as kept in the activity log and passed to the listener.
struct IssueActivity {
  int64_t seq = 0;  // increasing; alerting resumes from the last seq it handled
  int64_t issue_id = 0;
  int64_t project_id = 0;
  int64_t ts_ns = 0;
  std::string kind;    // "created", "regressed", "resolved", "resolvedInNextRelease",
                       // "ignored", "unresolved"
  std::string detail;  // e.g. the release of the regressing event
};

struct IssueQuery {
  int64_t project_id = 0;                  // 0 = every project
  std::optional<IssueStatus> status;       // unset = any
  std::string substatus;                   // "" = any
  std::string environment, release, level;  // "" = any (environment/release: seen in)
  std::string text;                        // substring of title or culprit, case-insensitive
  int64_t last_seen_after_ns = 0;          // issues seen at or after (statsPeriod)
  std::string sort = "date";  // "date" (last seen), "new" (first seen), "freq", "user"
  size_t offset = 0;
  size_t limit = 100;
};

// Where an event of the event index lives.
struct EventRef {
  int64_t issue_id = 0, project_id = 0, ts_ns = 0;
};

struct TagValueCount {
  std::string value;
  uint64_t count = 0;
};
struct TagSummary {
  std::string key;
  uint64_t total = 0;          // events carrying the tag
  uint64_t distinct = 0;       // distinct values
  std::vector<TagValueCount> top;  // most frequent first
};

// Session outcomes added to a (project, release, environment, hour) bucket.
struct SessionCounts {
  uint64_t started = 0, exited = 0, errored = 0, crashed = 0, abnormal = 0;
};
struct ReleaseHealth {
  std::string release, environment;
  SessionCounts sessions;  // summed over the period
  double crash_free_rate = 1.0;  // 1 - crashed/started (1 when started == 0)
  int64_t first_seen_ns = 0;
};

struct IssueStoreOptions {
  std::string path;  // SQLite database file (created if missing); ":memory:" for tests
  int flush_interval_ms = 1000;  // <= 0: no background thread (tests call Flush())
  size_t dedupe_window = 1 << 16;  // recent event ids remembered for dedupe
  int64_t event_index_retention_ns = 31 * kNsPerDay;  // issue_events rows older are dropped
  Clock* clock = Clock::Real();  // not owned
};

class IssueStore {
 public:
  // Opens or creates the database and its schema (migrating older versions), loads the hash
  // map, starts the flush thread. Errors: IOError (cannot open), Corruption (not a Sightline
  // database / newer schema version).
  static StatusOr<std::unique_ptr<IssueStore>> Open(const IssueStoreOptions& options);
  // Flushes pending counters and stops the thread.
  ~IssueStore();

  // ---- Projects and keys
  // Creates a project. `slug` defaults to a slug of the name; errors: InvalidArgument (empty
  // name, bad slug), FailedPrecondition (slug taken).
  StatusOr<Project> CreateProject(const std::string& name, const std::string& slug = "",
                                  const std::string& platform = "");
  std::vector<Project> ListProjects();
  StatusOr<Project> GetProject(int64_t id);                  // NotFound
  StatusOr<Project> FindProject(const std::string& id_or_slug);  // NotFound
  // Creates a key; `public_key` "" = 32 random hex digits; else must be 32 hex (lowercased).
  // Errors: NotFound (project), InvalidArgument, FailedPrecondition (key exists).
  StatusOr<ProjectKey> CreateKey(int64_t project_id, const std::string& label,
                                 const std::string& public_key = "");
  std::vector<ProjectKey> ListKeys(int64_t project_id);  // 0 = all
  // The project an active key belongs to. Errors: NotFound (unknown or inactive key).
  StatusOr<int64_t> ProjectForKey(const std::string& public_key);
  // On an empty database: creates project 1 "default" and a key (`public_key` if non-empty).
  // Returns the first project and its first active key either way.
  StatusOr<std::pair<Project, ProjectKey>> EnsureDefaultProject(const std::string& public_key);

  // ---- Ingest
  // Adds one event to its issue: the issue owning any of g.hashes in this project, else a new
  // issue from g. Updates (in memory, flushed later) count, last seen, users, tags (the
  // event's tags plus environment, release, level, server_name, user, transaction), the
  // hourly series, releases, the event index; writes at once a new issue, a regression
  // (resolved -> unresolved/regressed; resolvedInNextRelease only for an event whose release
  // is newer than resolved_in_release: semver order when both parse, else the release was
  // first seen after the resolution; events without a release never regress it) and the
  // activity row. Ignored issues keep counting and stay ignored. An event id seen within the
  // dedupe window returns duplicate=true and changes nothing.
  // Errors: NotFound (project), InvalidArgument (g has no hash), IOError (SQLite).
  StatusOr<RecordResult> RecordEvent(int64_t project_id, const GroupingResult& g,
                                     const model::ErrorEvent& e);

  // Called (outside the lock, on the ingest thread) for every activity row written.
  void SetActivityListener(std::function<void(const IssueActivity&)> listener);

  // ---- Reads (each flushes pending counters first)
  // Issues matching `q` in its sort order, with the total match count in *total if non-null.
  StatusOr<std::vector<Issue>> ListIssues(const IssueQuery& q, uint64_t* total = nullptr);
  StatusOr<Issue> GetIssue(int64_t id);  // NotFound
  // Sets the status (writes an activity row; a no-op when the status is unchanged).
  // kResolvedInNextRelease records the issue's last release (or the project's newest) as
  // resolved_in_release. Errors: NotFound.
  StatusOr<Issue> UpdateStatus(int64_t id, IssueStatus status);
  // Tag keys of the issue by total desc, each with its `top_n` most frequent values.
  StatusOr<std::vector<TagSummary>> Tags(int64_t issue_id, size_t top_n);
  // Event counts per step over [start_ns, end_ns) (step >= 1 hour; buckets are hourly).
  StatusOr<std::vector<uint64_t>> CountSeries(int64_t issue_id, int64_t start_ns,
                                              int64_t end_ns, int64_t step_ns);
  // The issue's events, newest first: (ts_ns, event_id), from `offset`.
  StatusOr<std::vector<std::pair<int64_t, std::string>>> Events(int64_t issue_id,
                                                                size_t offset, size_t limit);
  // Finds an event in the event index by id (any project). Errors: NotFound.
  StatusOr<EventRef> FindEvent(const std::string& event_id);
  // Activity rows with seq > after_seq, oldest first, at most `limit`.
  StatusOr<std::vector<IssueActivity>> Activity(int64_t after_seq, size_t limit);

  // ---- Sessions (release health)
  // Adds `counts` to the hour of `started_ns` (flushed like the event counters) and registers
  // the release. Errors: NotFound (project), InvalidArgument (empty release).
  Status RecordSessions(int64_t project_id, const std::string& release,
                        const std::string& environment, int64_t started_ns,
                        const SessionCounts& counts);
  // One row per (release, environment) with sessions in hours ending after `since_ns`,
  // newest release (by first seen) first. Errors: NotFound (project).
  StatusOr<std::vector<ReleaseHealth>> Releases(int64_t project_id, int64_t since_ns);

  // Writes pending counters now. Errors: IOError (the deltas stay pending).
  Status Flush();

 private:
  struct Impl;
  explicit IssueStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sentry's user identity for "users affected": "id:…", else "username:…", else "email:…",
// else "ip:…"; "" when the event has no user.
std::string UserIdentity(const model::ErrorEvent::User& u);

// Release ordering for "resolved in next release": compares "pkg@1.2.3" / "1.2.3-rc.1" style
// versions as semver (the part after the last '@'; pre-releases sort before the release).
// Returns -1/0/1, or nullopt when either side does not parse as semver.
std::optional<int> CompareReleases(std::string_view a, std::string_view b);

}  // namespace sightline::issues

#endif  // SIGHTLINE_ISSUES_ISSUE_STORE_H_
