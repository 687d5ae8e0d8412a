#include "issues/issue_store.h"

#include <sqlite3.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "base/log.h"

// Clang thread-safety annotations (no-ops elsewhere).
#if defined(__clang__)
#define SL_TSA(x) __attribute__((x))
#else
#define SL_TSA(x)
#endif
#define SL_GUARDED_BY(x) SL_TSA(guarded_by(x))
#define SL_REQUIRES(...) SL_TSA(requires_capability(__VA_ARGS__))
#define SL_EXCLUDES(...) SL_TSA(locks_excluded(__VA_ARGS__))
#define SL_ACQUIRED_BEFORE(...) SL_TSA(acquired_before(__VA_ARGS__))

namespace sightline::issues {
namespace {

using model::ErrorEvent;

// ---------------------------------------------------------------------------------------------
// Locking

class SL_TSA(capability("mutex")) Mutex {
 public:
  void lock() SL_TSA(acquire_capability()) { mu_.lock(); }
  void unlock() SL_TSA(release_capability()) { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class SL_TSA(scoped_lockable) MutexLock {
 public:
  explicit MutexLock(Mutex* mu) SL_TSA(acquire_capability(mu)) : mu_(mu) { mu_->lock(); }
  ~MutexLock() SL_TSA(release_capability()) { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// ---------------------------------------------------------------------------------------------
// A tiny SQLite wrapper

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Maps an SQLite result code to a Status: damaged files are Corruption, constraint violations
// FailedPrecondition, everything else (I/O, locking, full disk) IOError.
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(msg);
    case SQLITE_CONSTRAINT:
      return FailedPrecondition(msg);
    default:
      return IOError(msg);
  }
}

Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, sql);
  return Status::OK();
}

// One use of a (cached) prepared statement: Bind() parameters in order, Step() or Run(), read
// columns. Resets the statement on destruction (and on Reset()) so it can be reused.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& o) noexcept : db_(o.db_), stmt_(o.stmt_), n_(o.n_), rc_(o.rc_) {
    o.stmt_ = nullptr;
  }
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() { Reset(); }

  void Reset() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    n_ = 0;
    rc_ = SQLITE_OK;
  }
  Query& Bind(int64_t v) {
    Note(sqlite3_bind_int64(stmt_, ++n_, v));
    return *this;
  }
  Query& BindU(uint64_t v) { return Bind(static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX))); }
  Query& Bind(std::string_view v) {
    if (v.size() > static_cast<size_t>(INT_MAX)) {
      ++n_;
      Note(SQLITE_TOOBIG);
      return *this;
    }
    // A null pointer would bind NULL: an empty view binds ''.
    const char* data = v.data() != nullptr ? v.data() : "";
    Note(sqlite3_bind_text(stmt_, ++n_, data, static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Query& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Query& BindNull() {
    Note(sqlite3_bind_null(stmt_, ++n_));
    return *this;
  }
  Query& Bind(const char* v) { return Bind(std::string_view(v)); }

  // True with a row to read, false when done.
  StatusOr<bool> Step() {
    if (rc_ != SQLITE_OK) return SqliteError(db_, rc_, "bind");
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, sqlite3_sql(stmt_));
  }
  // Steps to the end, ignoring rows (for statements that write).
  Status Run() {
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, Step());
      if (!row) return Status::OK();
    }
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  uint64_t UInt(int col) const {
    const int64_t v = Int(col);
    return v < 0 ? 0 : static_cast<uint64_t>(v);
  }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return std::string();
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void Note(int rc) {
    if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int n_ = 0;
  int rc_ = SQLITE_OK;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
class Txn {
 public:
  explicit Txn(sqlite3* db) : db_(db) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() {
    if (active_ && sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  Status Begin() {
    SL_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
    active_ = true;
    return Status::OK();
  }
  Status Commit() {
    SL_RETURN_IF_ERROR(Exec(db_, "COMMIT"));
    active_ = false;
    return Status::OK();
  }

 private:
  sqlite3* db_;
  bool active_ = false;
};

// ---------------------------------------------------------------------------------------------
// Schema (docs/formats/issues_db.md)

constexpr int kSchemaVersion = 1;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  platform TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL
);
CREATE TABLE keys (
  public_key TEXT PRIMARY KEY,
  project_id INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  created_ns INTEGER NOT NULL
);
CREATE INDEX keys_by_project ON keys (project_id);
CREATE TABLE issues (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL,
  hash TEXT NOT NULL,
  title TEXT NOT NULL,
  culprit TEXT NOT NULL,
  level TEXT NOT NULL,
  platform TEXT NOT NULL,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  variant TEXT NOT NULL,
  status TEXT NOT NULL,
  substatus TEXT NOT NULL DEFAULT '',
  resolved_in_release TEXT NOT NULL DEFAULT '',
  status_changed_ns INTEGER NOT NULL,
  first_seen_ns INTEGER NOT NULL,
  last_seen_ns INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  users INTEGER NOT NULL DEFAULT 0,
  first_release TEXT NOT NULL DEFAULT '',
  last_release TEXT NOT NULL DEFAULT '',
  latest_event_id TEXT NOT NULL DEFAULT '',
  latest_event_ns INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX issues_by_project_last_seen ON issues (project_id, last_seen_ns);
CREATE TABLE issue_hashes (
  project_id INTEGER NOT NULL,
  hash TEXT NOT NULL,
  issue_id INTEGER NOT NULL,
  PRIMARY KEY (project_id, hash)
) WITHOUT ROWID;
CREATE INDEX issue_hashes_by_issue ON issue_hashes (issue_id);
CREATE TABLE issue_tags (
  issue_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (issue_id, key, value)
) WITHOUT ROWID;
CREATE TABLE issue_users (
  issue_id INTEGER NOT NULL,
  identity TEXT NOT NULL,
  PRIMARY KEY (issue_id, identity)
) WITHOUT ROWID;
CREATE TABLE issue_hourly (
  issue_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (issue_id, hour)
) WITHOUT ROWID;
CREATE TABLE issue_events (
  issue_id INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  event_id TEXT NOT NULL
);
CREATE INDEX issue_events_by_issue_ts ON issue_events (issue_id, ts_ns);
CREATE INDEX issue_events_by_event_id ON issue_events (event_id);
CREATE INDEX issue_events_by_ts ON issue_events (ts_ns);
CREATE TABLE releases (
  project_id INTEGER NOT NULL,
  version TEXT NOT NULL,
  first_seen_ns INTEGER NOT NULL,
  PRIMARY KEY (project_id, version)
) WITHOUT ROWID;
CREATE TABLE sessions (
  project_id INTEGER NOT NULL,
  release TEXT NOT NULL,
  environment TEXT NOT NULL,
  hour INTEGER NOT NULL,
  started INTEGER NOT NULL DEFAULT 0,
  exited INTEGER NOT NULL DEFAULT 0,
  errored INTEGER NOT NULL DEFAULT 0,
  crashed INTEGER NOT NULL DEFAULT 0,
  abnormal INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, release, environment, hour)
) WITHOUT ROWID;
CREATE TABLE activity (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  issue_id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
)sql";

// Migrations: kMigrations[i] upgrades schema version i + 1 to i + 2 (none yet: version 1 is
// the first). Each runs in the open transaction together with the schema_version update.
constexpr std::array<const char*, kSchemaVersion - 1> kMigrations = {};

// ---- Statements of the hot paths (cached by text, like every statement)

constexpr const char* kIssueColumns =
    "id, project_id, hash, title, culprit, level, platform, type, value, variant, status, "
    "substatus, resolved_in_release, status_changed_ns, first_seen_ns, last_seen_ns, count, "
    "users, first_release, last_release, latest_event_id, latest_event_ns";

constexpr const char* kInsertIssue =
    "INSERT INTO issues (project_id, hash, title, culprit, level, platform, type, value, "
    "variant, status, substatus, resolved_in_release, status_changed_ns, first_seen_ns, "
    "last_seen_ns, count, users, first_release, last_release, latest_event_id, "
    "latest_event_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'unresolved', '', '', ?, ?, ?, 0, 0, "
    "?, ?, ?, ?)";
constexpr const char* kInsertHash =
    "INSERT OR IGNORE INTO issue_hashes (project_id, hash, issue_id) VALUES (?, ?, ?)";
constexpr const char* kInsertActivity =
    "INSERT INTO activity (issue_id, project_id, ts_ns, kind, detail) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kSetStatus =
    "UPDATE issues SET status = ?, substatus = ?, resolved_in_release = ?, "
    "status_changed_ns = ? WHERE id = ?";
constexpr const char* kUpsertRelease =
    "INSERT INTO releases (project_id, version, first_seen_ns) VALUES (?, ?, ?) "
    "ON CONFLICT (project_id, version) DO UPDATE SET "
    "first_seen_ns = MIN(first_seen_ns, excluded.first_seen_ns)";
constexpr const char* kInsertUser =
    "INSERT OR IGNORE INTO issue_users (issue_id, identity) VALUES (?, ?)";
// ?1 count delta, ?2 first seen, ?3 last seen, ?4 latest event id, ?5 its time, ?6 first
// release of the interval, ?7 last release, ?8 users added, ?9 issue id. SET expressions see
// the row as it was before the update.
constexpr const char* kUpdateIssueCounters =
    "UPDATE issues SET count = count + ?1, first_seen_ns = MIN(first_seen_ns, ?2), "
    "last_seen_ns = MAX(last_seen_ns, ?3), "
    "latest_event_id = CASE WHEN ?4 <> '' AND ?5 >= latest_event_ns THEN ?4 "
    "ELSE latest_event_id END, "
    "latest_event_ns = CASE WHEN ?4 <> '' AND ?5 >= latest_event_ns THEN ?5 "
    "ELSE latest_event_ns END, "
    "first_release = CASE WHEN first_release = '' THEN ?6 ELSE first_release END, "
    "last_release = CASE WHEN ?7 <> '' THEN ?7 ELSE last_release END, "
    "users = users + ?8 WHERE id = ?9";
constexpr const char* kUpsertTag =
    "INSERT INTO issue_tags (issue_id, key, value, count) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (issue_id, key, value) DO UPDATE SET count = count + excluded.count";
constexpr const char* kUpsertHourly =
    "INSERT INTO issue_hourly (issue_id, hour, count) VALUES (?, ?, ?) "
    "ON CONFLICT (issue_id, hour) DO UPDATE SET count = count + excluded.count";
constexpr const char* kInsertEvent =
    "INSERT INTO issue_events (issue_id, ts_ns, event_id) VALUES (?, ?, ?)";
constexpr const char* kUpsertSessions =
    "INSERT INTO sessions (project_id, release, environment, hour, started, exited, errored, "
    "crashed, abnormal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (project_id, release, environment, hour) DO UPDATE SET "
    "started = started + excluded.started, exited = exited + excluded.exited, "
    "errored = errored + excluded.errored, crashed = crashed + excluded.crashed, "
    "abnormal = abnormal + excluded.abnormal";
constexpr const char* kDeleteOldEvents = "DELETE FROM issue_events WHERE ts_ns < ?";

// ---------------------------------------------------------------------------------------------
// Helpers

constexpr size_t kMaxTagsPerEvent = 64;
constexpr size_t kMaxTagBytes = 200;
constexpr int64_t kNsPerHour = 3600 * kNsPerSec;
constexpr int64_t kNewIssueNs = 7 * kNsPerDay;
constexpr int64_t kRetentionCheckNs = 60 * kNsPerSec;  // between retention-only flushes
constexpr size_t kMaxSeriesBuckets = 100000;
constexpr size_t kMaxSearchBytes = 1024;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Start of the hour of `ns`, in Unix seconds.
int64_t HourStartSec(int64_t ns) { return FloorDiv(ns, kNsPerHour) * 3600; }

// At most `max` bytes, cut before a UTF-8 continuation byte.
std::string_view TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool IsHex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string RandomHex32() {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int j = 0; j < 8; ++j) {
      out.push_back(kDigits[v & 0xF]);
      v >>= 4;
    }
  }
  return out;
}

bool IsSlugChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

constexpr size_t kMaxSlugBytes = 50;

// A valid slug: 1..50 characters of [a-z0-9-_], not all digits (ids and slugs share
// FindProject's namespace).
bool ValidSlug(std::string_view s) {
  return !s.empty() && s.size() <= kMaxSlugBytes && std::all_of(s.begin(), s.end(), IsSlugChar) &&
         !AllDigits(s);
}

// "My Shop (API)" -> "my-shop-api"; "" when nothing usable remains.
std::string Slugify(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (IsSlugChar(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > kMaxSlugBytes) out.resize(kMaxSlugBytes);
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (AllDigits(out)) out = "project-" + out;
  return out;
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (!AllDigits(s) || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *out = v;
  return true;
}

// '%' + text with LIKE's wildcards escaped by '\' + '%'.
std::string LikePattern(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

// ---- Semver

struct Semver {
  std::array<std::string_view, 3> core;  // numeric, leading zeros stripped ("" = 0)
  std::vector<std::string_view> pre;     // pre-release identifiers
};

bool IsAlnumDash(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

std::string_view StripZeros(std::string_view s) {
  while (!s.empty() && s.front() == '0') s.remove_prefix(1);
  return s;
}

// Dot-separated non-empty identifiers of [0-9A-Za-z-].
bool SplitIdentifiers(std::string_view s, std::vector<std::string_view>* out) {
  for (;;) {
    const size_t dot = s.find('.');
    const std::string_view id = s.substr(0, dot);
    if (id.empty() || !std::all_of(id.begin(), id.end(), IsAlnumDash)) return false;
    if (out != nullptr) out->push_back(id);
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

std::optional<Semver> ParseSemver(std::string_view s) {
  const size_t at = s.rfind('@');
  if (at != std::string_view::npos) s.remove_prefix(at + 1);
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  const size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    if (!SplitIdentifiers(s.substr(plus + 1), nullptr)) return std::nullopt;
    s = s.substr(0, plus);
  }
  Semver v;
  const size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    if (!SplitIdentifiers(s.substr(dash + 1), &v.pre)) return std::nullopt;
    s = s.substr(0, dash);
  }
  for (size_t i = 0;; ++i) {
    if (i == 3) return std::nullopt;
    const size_t dot = s.find('.');
    const std::string_view part = s.substr(0, dot);
    if (!AllDigits(part)) return std::nullopt;
    v.core[i] = StripZeros(part);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return v;
}

// Compares digit strings without leading zeros numerically.
int CompareNumeric(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int ComparePre(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  if (a.empty() || b.empty()) {
    if (a.empty() && b.empty()) return 0;
    return a.empty() ? 1 : -1;  // a release sorts after its pre-releases
  }
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const bool an = AllDigits(a[i]), bn = AllDigits(b[i]);
    int c;
    if (an && bn) {
      c = CompareNumeric(StripZeros(a[i]), StripZeros(b[i]));
    } else if (an != bn) {
      c = an ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    } else {
      const int r = a[i].compare(b[i]);
      c = r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    if (c != 0) return c;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

// ---- Event id dedupe keys: 32-hex ids as their 128 bits, other ids hashed to 128 bits.

struct EventKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const EventKey& o) const { return hi == o.hi && lo == o.lo; }
};
struct EventKeyHash {
  size_t operator()(const EventKey& k) const { return static_cast<size_t>(k.hi ^ (k.lo * 31)); }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

EventKey MakeEventKey(std::string_view id) {
  EventKey k;
  if (IsHex32(id)) {
    for (size_t i = 0; i < 16; ++i) k.hi = k.hi << 4 | static_cast<uint64_t>(HexValue(id[i]));
    for (size_t i = 16; i < 32; ++i) k.lo = k.lo << 4 | static_cast<uint64_t>(HexValue(id[i]));
    return k;
  }
  const XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  k.hi = h.high64;
  k.lo = h.low64 ^ 1;  // keeps hashed keys apart from hex ids with the same bits in theory
  return k;
}

// ---- Pending deltas (written by Flush)

struct IssueDelta {
  uint64_t count = 0;
  int64_t first_seen_ns = INT64_MAX;
  int64_t last_seen_ns = INT64_MIN;
  std::string latest_event_id;
  int64_t latest_event_ns = INT64_MIN;
  std::string first_release;  // first non-empty release of the interval
  std::string last_release;   // last non-empty release of the interval
  // char(key size) + key + value -> events (keys are at most 200 bytes).
  std::unordered_map<std::string, uint64_t> tags;
  std::unordered_set<std::string> users;
  std::unordered_map<int64_t, uint64_t> hourly;  // hour start (Unix s) -> events

  // Folds `older` (an earlier interval whose write failed) into this one.
  void MergeOlder(IssueDelta&& older) {
    count += older.count;
    first_seen_ns = std::min(first_seen_ns, older.first_seen_ns);
    last_seen_ns = std::max(last_seen_ns, older.last_seen_ns);
    if (!older.latest_event_id.empty() &&
        (latest_event_id.empty() || older.latest_event_ns > latest_event_ns)) {
      latest_event_id = std::move(older.latest_event_id);
      latest_event_ns = older.latest_event_ns;
    }
    if (!older.first_release.empty()) first_release = std::move(older.first_release);
    if (last_release.empty()) last_release = std::move(older.last_release);
    for (auto& [k, n] : older.tags) tags[k] += n;
    users.merge(older.users);
    for (const auto& [h, n] : older.hourly) hourly[h] += n;
  }
};

struct EventRow {
  int64_t issue_id = 0;
  int64_t ts_ns = 0;
  std::string event_id;
};

struct HashRow {
  int64_t project_id = 0;
  std::string hash;
  int64_t issue_id = 0;
};

using SessionKey = std::tuple<int64_t, std::string, std::string, int64_t>;  // pid, rel, env, h

struct Pending {
  std::unordered_map<int64_t, IssueDelta> issues;
  std::vector<EventRow> events;
  std::vector<HashRow> hashes;
  std::map<std::pair<int64_t, std::string>, int64_t> releases;  // -> first seen
  std::map<SessionKey, SessionCounts> sessions;

  bool empty() const {
    return issues.empty() && events.empty() && hashes.empty() && releases.empty() &&
           sessions.empty();
  }

  void MergeOlder(Pending&& older) {
    for (auto& [id, d] : older.issues) issues[id].MergeOlder(std::move(d));
    older.events.insert(older.events.end(), std::make_move_iterator(events.begin()),
                        std::make_move_iterator(events.end()));
    events = std::move(older.events);
    hashes.insert(hashes.end(), std::make_move_iterator(older.hashes.begin()),
                  std::make_move_iterator(older.hashes.end()));
    for (const auto& [k, ns] : older.releases) {
      auto [it, inserted] = releases.emplace(k, ns);
      if (!inserted) it->second = std::min(it->second, ns);
    }
    for (const auto& [k, c] : older.sessions) {
      SessionCounts& s = sessions[k];
      s.started += c.started;
      s.exited += c.exited;
      s.errored += c.errored;
      s.crashed += c.crashed;
      s.abnormal += c.abnormal;
    }
  }
};

// The part of an issue RecordEvent needs to decide regressions.
struct IssueState {
  int64_t project_id = 0;
  IssueStatus status = IssueStatus::kUnresolved;
  bool regressed = false;
  std::string resolved_in_release;
  int64_t status_changed_ns = 0;
};

bool ParseStoredStatus(std::string_view name, IssueStatus* out) {
  return name != "archived" && ParseIssueStatus(name, out);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl

struct IssueStore::Impl {
  explicit Impl(const IssueStoreOptions& o)
      : options(o), clock(o.clock != nullptr ? o.clock : Clock::Real()) {}
  ~Impl() { StopThread(); }

  Status OpenDb() SL_EXCLUDES(mu, db_mu);
  Status LoadCaches() SL_EXCLUDES(mu, db_mu);
  void StartThread();
  void StopThread();
  // Stops the thread and writes the pending counters (the destructor of an opened store).
  void Shutdown() SL_EXCLUDES(flush_mu, mu, db_mu);
  void FlushLoop();

  StatusOr<Query> Prepare(std::string_view sql) SL_REQUIRES(db_mu);

  // Projects and keys.
  StatusOr<Project> ProjectLocked(int64_t id) SL_REQUIRES(mu, db_mu);
  // Insert rows (id 0: the next); the caller caches them once committed.
  StatusOr<Project> InsertProjectLocked(int64_t id, const std::string& name,
                                        const std::string& slug, const std::string& platform)
      SL_REQUIRES(db_mu);
  StatusOr<ProjectKey> InsertKeyLocked(int64_t project_id, const std::string& label,
                                       const std::string& public_key) SL_REQUIRES(db_mu);
  static ProjectKey ReadKey(const Query& q);
  static Project ReadProject(const Query& q);

  // Ingest.
  StatusOr<RecordResult> RecordEvent(int64_t project_id, const GroupingResult& g,
                                     const ErrorEvent& e) SL_EXCLUDES(mu, db_mu);
  void NoteReleaseLocked(int64_t project_id, const std::string& release, int64_t now)
      SL_REQUIRES(mu);
  bool ShouldRegressLocked(const IssueState& st, const std::string& release) SL_REQUIRES(mu);
  StatusOr<IssueActivity> CreateIssueLocked(int64_t project_id, const GroupingResult& g,
                                            const ErrorEvent& e, int64_t ts, int64_t now)
      SL_REQUIRES(mu);
  StatusOr<IssueActivity> WriteStatusLocked(int64_t issue_id, IssueState* st, IssueStatus status,
                                            bool regressed, const std::string& resolved_in_release,
                                            const std::string& detail, int64_t now) SL_REQUIRES(mu);
  StatusOr<int64_t> InsertActivityLocked(int64_t issue_id, int64_t project_id, int64_t ts,
                                         std::string_view kind, std::string_view detail)
      SL_REQUIRES(db_mu);
  void AddDeltasLocked(int64_t issue_id, int64_t ts, const ErrorEvent& e) SL_REQUIRES(mu);
  void RememberLocked(const EventKey& key, int64_t issue_id) SL_REQUIRES(mu);

  // Flush.
  Status Flush() SL_EXCLUDES(flush_mu, mu, db_mu);
  Status WriteLocked(const Pending& p, int64_t retention_cutoff) SL_REQUIRES(db_mu);
  // Reads flush first; a failed flush is logged and the read proceeds (slightly stale).
  void FlushForRead() SL_EXCLUDES(flush_mu, mu, db_mu);

  // Reads.
  StatusOr<Issue> ReadIssueLocked(int64_t id) SL_REQUIRES(db_mu);
  Status ReadIssueRow(const Query& q, Issue* out) const;
  Status CheckIssueLocked(int64_t id) SL_REQUIRES(db_mu);

  const IssueStoreOptions options;
  Clock* const clock;

  Mutex flush_mu SL_ACQUIRED_BEFORE(mu);  // serializes flushes
  Mutex mu SL_ACQUIRED_BEFORE(db_mu);     // the in-memory state
  Mutex db_mu;                            // the connection and its statements

  DbHandle db SL_GUARDED_BY(db_mu);
  std::unordered_map<std::string, StmtHandle> stmts SL_GUARDED_BY(db_mu);
  int64_t last_retention_ns SL_GUARDED_BY(db_mu) = INT64_MIN;

  std::unordered_map<int64_t, Project> projects SL_GUARDED_BY(mu);
  std::unordered_map<std::string, ProjectKey> keys SL_GUARDED_BY(mu);
  // project -> hash -> issue.
  std::unordered_map<int64_t, std::unordered_map<std::string, int64_t>> hashes SL_GUARDED_BY(mu);
  std::unordered_map<int64_t, IssueState> issues SL_GUARDED_BY(mu);
  // project -> release -> first seen.
  std::unordered_map<int64_t, std::unordered_map<std::string, int64_t>> releases SL_GUARDED_BY(mu);
  Pending pending SL_GUARDED_BY(mu);
  std::unordered_map<EventKey, int64_t, EventKeyHash> recent SL_GUARDED_BY(mu);
  std::deque<EventKey> recent_fifo SL_GUARDED_BY(mu);
  std::string tag_scratch SL_GUARDED_BY(mu);
  std::function<void(const IssueActivity&)> listener SL_GUARDED_BY(mu);

  std::mutex thread_mu;
  std::condition_variable thread_cv;
  bool stop = false;  // guarded by thread_mu
  std::thread thread;
};

StatusOr<Query> IssueStore::Impl::Prepare(std::string_view sql) {
  auto it = stmts.find(std::string(sql));
  if (it == stmts.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtHandle stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db.get(), rc, "prepare");
    if (stmt == nullptr) return Internal("empty statement");
    it = stmts.emplace(std::string(sql), std::move(stmt)).first;
  }
  return Query(db.get(), it->second.get());
}

Status IssueStore::Impl::OpenDb() {
  MutexLock d(&db_mu);
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(options.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db.reset(raw);
  if (rc != SQLITE_OK) {
    return IOError("open " + options.path + ": " +
                   (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3* h = db.get();
  Status s = Exec(h, "PRAGMA journal_mode = WAL");
  if (s.ok()) s = Exec(h, "PRAGMA synchronous = NORMAL");
  if (!s.ok()) return s.Annotate(options.path);

  // Which tables exist: none = a new database; else it must be ours.
  auto user_tables = [&]() SL_REQUIRES(db_mu) -> StatusOr<std::vector<std::string>> {
    SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"));
    std::vector<std::string> names;
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      names.push_back(q.Text(0));
    }
    return names;
  };
  auto tables = user_tables();
  if (!tables.ok()) return tables.status().Annotate(options.path);
  if (tables->empty()) {
    // Create under the write lock, re-checking: a CLI process may be doing the same.
    Txn txn(h);
    SL_RETURN_IF_ERROR(txn.Begin());
    auto again = user_tables();
    if (!again.ok()) return again.status();
    if (again->empty()) {
      SL_RETURN_IF_ERROR(Exec(h, kSchemaV1));
      SL_RETURN_IF_ERROR(txn.Commit());
      return Status::OK();
    }
    tables = std::move(again);
  }
  if (std::find(tables->begin(), tables->end(), "meta") == tables->end()) {
    return Corruption(options.path + ": not a Sightline issue database (no meta table)");
  }
  auto read_version = [&]() SL_REQUIRES(db_mu) -> StatusOr<int64_t> {
    SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT value FROM meta WHERE key = 'schema_version'"));
    SL_ASSIGN_OR_RETURN(const bool row, q.Step());
    int64_t v = 0;
    if (!row || !ParseInt64(q.Text(0), &v) || v < 1) {
      return Corruption(options.path + ": missing or bad schema_version in meta");
    }
    return v;
  };
  SL_ASSIGN_OR_RETURN(int64_t version, read_version());
  if (version > kSchemaVersion) {
    return Corruption(options.path + ": schema version " + std::to_string(version) +
                      " is newer than this build's " + std::to_string(kSchemaVersion));
  }
  if (version < kSchemaVersion) {
    Txn txn(h);
    SL_RETURN_IF_ERROR(txn.Begin());
    SL_ASSIGN_OR_RETURN(version, read_version());  // another process may have migrated
    for (; version < kSchemaVersion; ++version) {
      SL_RETURN_IF_ERROR(Exec(h, kMigrations[static_cast<size_t>(version - 1)]));
    }
    SL_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'"));
    SL_RETURN_IF_ERROR(q.Bind(std::to_string(kSchemaVersion)).Run());
    SL_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::OK();
}

Project IssueStore::Impl::ReadProject(const Query& q) {
  Project p;
  p.id = q.Int(0);
  p.slug = q.Text(1);
  p.name = q.Text(2);
  p.platform = q.Text(3);
  p.created_ns = q.Int(4);
  return p;
}

ProjectKey IssueStore::Impl::ReadKey(const Query& q) {
  ProjectKey k;
  k.public_key = q.Text(0);
  k.project_id = q.Int(1);
  k.label = q.Text(2);
  k.active = q.Int(3) != 0;
  k.created_ns = q.Int(4);
  return k;
}

Status IssueStore::Impl::LoadCaches() {
  MutexLock l(&mu);
  MutexLock d(&db_mu);
  {
    SL_ASSIGN_OR_RETURN(Query q,
                        Prepare("SELECT id, slug, name, platform, created_ns FROM projects"));
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      Project p = ReadProject(q);
      projects[p.id] = std::move(p);
    }
  }
  {
    SL_ASSIGN_OR_RETURN(
        Query q, Prepare("SELECT public_key, project_id, label, active, created_ns FROM keys"));
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      ProjectKey k = ReadKey(q);
      keys[k.public_key] = std::move(k);
    }
  }
  {
    SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT id, project_id, status, substatus, "
                                         "resolved_in_release, status_changed_ns FROM issues"));
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      IssueState st;
      st.project_id = q.Int(1);
      if (!ParseStoredStatus(q.Text(2), &st.status)) {
        return Corruption("issue " + std::to_string(q.Int(0)) + " has unknown status '" +
                          q.Text(2) + "'");
      }
      st.regressed = q.Text(3) == "regressed";
      st.resolved_in_release = q.Text(4);
      st.status_changed_ns = q.Int(5);
      issues[q.Int(0)] = std::move(st);
    }
  }
  {
    SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT project_id, hash, issue_id FROM issue_hashes"));
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      hashes[q.Int(0)][q.Text(1)] = q.Int(2);
    }
  }
  {
    SL_ASSIGN_OR_RETURN(Query q,
                        Prepare("SELECT project_id, version, first_seen_ns FROM releases"));
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      releases[q.Int(0)][q.Text(1)] = q.Int(2);
    }
  }
  return Status::OK();
}

void IssueStore::Impl::StartThread() {
  if (options.flush_interval_ms <= 0) return;
  thread = std::thread([this] { FlushLoop(); });
}

void IssueStore::Impl::FlushLoop() {
  const auto interval = std::chrono::milliseconds(options.flush_interval_ms);
  int failures = 0;  // consecutive; logged at the first and every 60th, and at recovery
  std::unique_lock<std::mutex> l(thread_mu);
  while (!stop) {
    thread_cv.wait_for(l, interval, [this] { return stop; });
    if (stop) break;
    l.unlock();
    const Status s = Flush();
    if (!s.ok()) {
      if (failures++ % 60 == 0) {
        LogError("issue store flush failed (counters stay pending)",
                 {{"error", s.ToString()}, {"consecutive_failures", std::to_string(failures)}});
      }
    } else if (failures > 0) {
      LogInfo("issue store flush recovered", {{"failed_attempts", std::to_string(failures)}});
      failures = 0;
    }
    l.lock();
  }
}

void IssueStore::Impl::StopThread() {
  {
    std::lock_guard<std::mutex> l(thread_mu);
    stop = true;
  }
  thread_cv.notify_all();
  if (thread.joinable()) thread.join();
}

void IssueStore::Impl::Shutdown() {
  StopThread();
  const Status s = Flush();
  if (!s.ok()) LogError("issue store final flush failed", {{"error", s.ToString()}});
}

// ---- Projects and keys

StatusOr<Project> IssueStore::Impl::ProjectLocked(int64_t id) {
  auto it = projects.find(id);
  if (it != projects.end()) return it->second;
  // Created by another process (the CLI) since we loaded.
  SL_ASSIGN_OR_RETURN(
      Query q, Prepare("SELECT id, slug, name, platform, created_ns FROM projects WHERE id = ?"));
  SL_ASSIGN_OR_RETURN(const bool row, q.Bind(id).Step());
  if (!row) return NotFound("project " + std::to_string(id) + " not found");
  Project p = ReadProject(q);
  projects[id] = p;
  return p;
}

StatusOr<Project> IssueStore::Impl::InsertProjectLocked(int64_t id, const std::string& name,
                                                        const std::string& slug,
                                                        const std::string& platform) {
  {
    SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT id FROM projects WHERE slug = ?"));
    SL_ASSIGN_OR_RETURN(const bool row, q.Bind(slug).Step());
    if (row) return FailedPrecondition("project slug '" + slug + "' is taken");
  }
  Project p;
  p.slug = slug;
  p.name = name;
  p.platform = platform;
  p.created_ns = clock->NowNs();
  SL_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO projects (id, slug, name, platform, "
                                       "created_ns) VALUES (?, ?, ?, ?, ?)"));
  if (id > 0) {
    q.Bind(id);
  } else {
    q.BindNull();  // the next id
  }
  SL_RETURN_IF_ERROR(q.Bind(slug).Bind(name).Bind(platform).Bind(p.created_ns).Run());
  p.id = sqlite3_last_insert_rowid(db.get());
  return p;
}

StatusOr<ProjectKey> IssueStore::Impl::InsertKeyLocked(int64_t project_id, const std::string& label,
                                                       const std::string& public_key) {
  ProjectKey k;
  k.public_key = public_key.empty() ? RandomHex32() : LowerAscii(public_key);
  k.project_id = project_id;
  k.label = label;
  k.active = true;
  k.created_ns = clock->NowNs();
  {
    SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT 1 FROM keys WHERE public_key = ?"));
    SL_ASSIGN_OR_RETURN(const bool row, q.Bind(k.public_key).Step());
    if (row) return FailedPrecondition("key " + k.public_key + " exists");
  }
  SL_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO keys (public_key, project_id, label, "
                                       "active, created_ns) VALUES (?, ?, ?, 1, ?)"));
  SL_RETURN_IF_ERROR(q.Bind(k.public_key).Bind(project_id).Bind(label).Bind(k.created_ns).Run());
  return k;
}

// ---- Ingest

void IssueStore::Impl::NoteReleaseLocked(int64_t project_id, const std::string& release,
                                         int64_t now) {
  auto& by_version = releases[project_id];
  if (by_version.find(release) != by_version.end()) return;
  by_version.emplace(release, now);
  pending.releases.emplace(std::make_pair(project_id, release), now);
}

bool IssueStore::Impl::ShouldRegressLocked(const IssueState& st, const std::string& release) {
  switch (st.status) {
    case IssueStatus::kResolved:
      return true;
    case IssueStatus::kResolvedInNextRelease: {
      if (release.empty()) return false;
      if (const auto c = CompareReleases(release, st.resolved_in_release)) return *c > 0;
      if (release == st.resolved_in_release) return false;
      const auto p = releases.find(st.project_id);
      if (p == releases.end()) return false;
      const auto r = p->second.find(release);
      return r != p->second.end() && r->second > st.status_changed_ns;
    }
    case IssueStatus::kUnresolved:
    case IssueStatus::kIgnored:
      break;
  }
  return false;
}

StatusOr<int64_t> IssueStore::Impl::InsertActivityLocked(int64_t issue_id, int64_t project_id,
                                                         int64_t ts, std::string_view kind,
                                                         std::string_view detail) {
  SL_ASSIGN_OR_RETURN(Query q, Prepare(kInsertActivity));
  SL_RETURN_IF_ERROR(q.Bind(issue_id).Bind(project_id).Bind(ts).Bind(kind).Bind(detail).Run());
  return sqlite3_last_insert_rowid(db.get());
}

StatusOr<IssueActivity> IssueStore::Impl::CreateIssueLocked(int64_t project_id,
                                                            const GroupingResult& g,
                                                            const ErrorEvent& e, int64_t ts,
                                                            int64_t now) {
  std::vector<std::string_view> all;
  all.reserve(g.hashes.size() + 1);
  if (!g.hash.empty()) all.push_back(g.hash);
  for (const std::string& h : g.hashes) {
    if (!h.empty() && std::find(all.begin(), all.end(), h) == all.end()) all.push_back(h);
  }
  if (all.empty()) return InvalidArgument("event without a grouping hash");
  std::string_view type, value;  // of the crashing (outermost) exception
  if (!e.exceptions.empty()) {
    type = e.exceptions.back().type;
    value = e.exceptions.back().value;
  }

  IssueActivity a;
  {
    MutexLock d(&db_mu);
    Txn txn(db.get());
    SL_RETURN_IF_ERROR(txn.Begin());
    {
      SL_ASSIGN_OR_RETURN(Query q, Prepare(kInsertIssue));
      q.Bind(project_id).Bind(all.front()).Bind(g.title).Bind(g.culprit).Bind(e.level);
      q.Bind(e.platform).Bind(type).Bind(value).Bind(g.variant).Bind(now).Bind(ts).Bind(ts);
      q.Bind(e.release).Bind(e.release).Bind(e.event_id).Bind(e.event_id.empty() ? 0 : ts);
      SL_RETURN_IF_ERROR(q.Run());
    }
    a.issue_id = sqlite3_last_insert_rowid(db.get());
    {
      SL_ASSIGN_OR_RETURN(Query q, Prepare(kInsertHash));
      for (std::string_view h : all) {
        q.Reset();
        SL_RETURN_IF_ERROR(q.Bind(project_id).Bind(h).Bind(a.issue_id).Run());
      }
    }
    SL_ASSIGN_OR_RETURN(a.seq,
                        InsertActivityLocked(a.issue_id, project_id, now, "created", e.release));
    SL_RETURN_IF_ERROR(txn.Commit());
  }
  a.project_id = project_id;
  a.ts_ns = now;
  a.kind = "created";
  a.detail = e.release;
  auto& by_hash = hashes[project_id];
  for (std::string_view h : all) by_hash.emplace(std::string(h), a.issue_id);
  IssueState& st = issues[a.issue_id];
  st.project_id = project_id;
  st.status = IssueStatus::kUnresolved;
  st.regressed = false;
  st.resolved_in_release.clear();
  st.status_changed_ns = now;
  return a;
}

StatusOr<IssueActivity> IssueStore::Impl::WriteStatusLocked(int64_t issue_id, IssueState* st,
                                                            IssueStatus status, bool regressed,
                                                            const std::string& resolved_in_release,
                                                            const std::string& detail,
                                                            int64_t now) {
  IssueActivity a;
  a.issue_id = issue_id;
  a.project_id = st->project_id;
  a.ts_ns = now;
  a.kind = regressed ? "regressed" : std::string(IssueStatusName(status));
  a.detail = detail;
  {
    MutexLock d(&db_mu);
    Txn txn(db.get());
    SL_RETURN_IF_ERROR(txn.Begin());
    {
      SL_ASSIGN_OR_RETURN(Query q, Prepare(kSetStatus));
      q.Bind(IssueStatusName(status)).Bind(regressed ? "regressed" : "");
      SL_RETURN_IF_ERROR(q.Bind(resolved_in_release).Bind(now).Bind(issue_id).Run());
    }
    SL_ASSIGN_OR_RETURN(a.seq, InsertActivityLocked(issue_id, a.project_id, now, a.kind, detail));
    SL_RETURN_IF_ERROR(txn.Commit());
  }
  st->status = status;
  st->regressed = regressed;
  st->resolved_in_release = resolved_in_release;
  st->status_changed_ns = now;
  return a;
}

void IssueStore::Impl::AddDeltasLocked(int64_t issue_id, int64_t ts, const ErrorEvent& e) {
  IssueDelta& d = pending.issues[issue_id];
  ++d.count;
  d.first_seen_ns = std::min(d.first_seen_ns, ts);
  d.last_seen_ns = std::max(d.last_seen_ns, ts);
  if (!e.event_id.empty() && ts >= d.latest_event_ns) {
    d.latest_event_id = e.event_id;
    d.latest_event_ns = ts;
  }
  if (!e.release.empty()) {
    if (d.first_release.empty()) d.first_release = e.release;
    d.last_release = e.release;
  }
  const std::string user = UserIdentity(e.user);
  if (!user.empty()) d.users.insert(user);
  ++d.hourly[HourStartSec(ts)];

  std::array<std::pair<std::string_view, std::string_view>, kMaxTagsPerEvent> tags;
  size_t n = 0;
  auto add = [&](std::string_view k, std::string_view v) {
    if (n == tags.size() || k.empty() || v.empty()) return;
    k = TruncateUtf8(k, kMaxTagBytes);
    v = TruncateUtf8(v, kMaxTagBytes);
    if (k.empty() || v.empty()) return;
    for (size_t i = 0; i < n; ++i) {
      if (tags[i].first == k) return;  // one value per key and event
    }
    tags[n++] = {k, v};
  };
  add("environment", e.environment);
  add("release", e.release);
  add("level", e.level);
  add("server_name", e.server_name);
  add("user", user);
  add("transaction", e.transaction);
  for (const auto& [k, v] : e.tags) add(k, v);
  for (size_t i = 0; i < n; ++i) {
    tag_scratch.clear();
    tag_scratch.push_back(static_cast<char>(tags[i].first.size()));
    tag_scratch.append(tags[i].first);
    tag_scratch.append(tags[i].second);
    ++d.tags[tag_scratch];
  }
  if (!e.event_id.empty()) pending.events.push_back({issue_id, ts, e.event_id});
}

void IssueStore::Impl::RememberLocked(const EventKey& key, int64_t issue_id) {
  if (!recent.emplace(key, issue_id).second) return;
  recent_fifo.push_back(key);
  while (recent_fifo.size() > options.dedupe_window) {
    recent.erase(recent_fifo.front());
    recent_fifo.pop_front();
  }
}

StatusOr<RecordResult> IssueStore::Impl::RecordEvent(int64_t project_id, const GroupingResult& g,
                                                     const ErrorEvent& e) {
  const int64_t now = clock->NowNs();
  const int64_t ts = e.ts_ns > 0 ? e.ts_ns : e.received_ns > 0 ? e.received_ns : now;
  RecordResult out;
  std::optional<IssueActivity> activity;
  std::function<void(const IssueActivity&)> notify;
  {
    MutexLock l(&mu);
    if (projects.find(project_id) == projects.end()) {
      MutexLock d(&db_mu);
      SL_RETURN_IF_ERROR(ProjectLocked(project_id).status());
    }
    const bool dedupe = !e.event_id.empty() && options.dedupe_window > 0;
    EventKey key;
    if (dedupe) {
      key = MakeEventKey(e.event_id);
      const auto it = recent.find(key);
      if (it != recent.end()) {
        out.issue_id = it->second;
        out.duplicate = true;
        return out;
      }
    }
    // Before the regression check: a release new with this event is first seen now.
    if (!e.release.empty()) NoteReleaseLocked(project_id, e.release, now);

    auto& by_hash = hashes[project_id];
    int64_t issue_id = 0;
    {
      const auto it = by_hash.find(g.hash);
      if (it != by_hash.end()) issue_id = it->second;
    }
    for (size_t i = 0; issue_id == 0 && i < g.hashes.size(); ++i) {
      const auto it = by_hash.find(g.hashes[i]);
      if (it != by_hash.end()) issue_id = it->second;
    }
    if (issue_id == 0) {
      SL_ASSIGN_OR_RETURN(activity, CreateIssueLocked(project_id, g, e, ts, now));
      issue_id = activity->issue_id;
      out.created = true;
    } else {
      // Hashes of this event the issue does not own yet join it (flushed with the counters).
      auto join = [&](const std::string& h) SL_REQUIRES(mu) {
        if (!h.empty() && by_hash.emplace(h, issue_id).second) {
          pending.hashes.push_back({project_id, h, issue_id});
        }
      };
      join(g.hash);
      for (const std::string& h : g.hashes) join(h);
      const auto st = issues.find(issue_id);
      if (st == issues.end()) {
        return Corruption("issue " + std::to_string(issue_id) + " of a hash is missing");
      }
      if (ShouldRegressLocked(st->second, e.release)) {
        SL_ASSIGN_OR_RETURN(activity,
                            WriteStatusLocked(issue_id, &st->second, IssueStatus::kUnresolved,
                                              /*regressed=*/true, "", e.release, now));
        out.regressed = true;
      }
    }
    AddDeltasLocked(issue_id, ts, e);
    if (dedupe) RememberLocked(key, issue_id);
    out.issue_id = issue_id;
    if (activity) notify = listener;
  }
  if (activity && notify) notify(*activity);
  return out;
}

// ---- Flush

Status IssueStore::Impl::WriteLocked(const Pending& p, int64_t retention_cutoff) {
  sqlite3* h = db.get();
  Txn txn(h);
  SL_RETURN_IF_ERROR(txn.Begin());
  if (!p.releases.empty()) {
    SL_ASSIGN_OR_RETURN(Query q, Prepare(kUpsertRelease));
    for (const auto& [k, ns] : p.releases) {
      q.Reset();
      SL_RETURN_IF_ERROR(q.Bind(k.first).Bind(k.second).Bind(ns).Run());
    }
  }
  if (!p.hashes.empty()) {
    SL_ASSIGN_OR_RETURN(Query q, Prepare(kInsertHash));
    for (const HashRow& r : p.hashes) {
      q.Reset();
      SL_RETURN_IF_ERROR(q.Bind(r.project_id).Bind(r.hash).Bind(r.issue_id).Run());
    }
  }
  if (!p.issues.empty()) {
    SL_ASSIGN_OR_RETURN(Query user_q, Prepare(kInsertUser));
    SL_ASSIGN_OR_RETURN(Query issue_q, Prepare(kUpdateIssueCounters));
    SL_ASSIGN_OR_RETURN(Query tag_q, Prepare(kUpsertTag));
    SL_ASSIGN_OR_RETURN(Query hour_q, Prepare(kUpsertHourly));
    for (const auto& [id, d] : p.issues) {
      int64_t users_added = 0;
      for (const std::string& u : d.users) {
        user_q.Reset();
        SL_RETURN_IF_ERROR(user_q.Bind(id).Bind(u).Run());
        users_added += sqlite3_changes(h);
      }
      issue_q.Reset();
      issue_q.BindU(d.count).Bind(d.first_seen_ns).Bind(d.last_seen_ns);
      issue_q.Bind(d.latest_event_id).Bind(d.latest_event_id.empty() ? 0 : d.latest_event_ns);
      issue_q.Bind(d.first_release).Bind(d.last_release).Bind(users_added).Bind(id);
      SL_RETURN_IF_ERROR(issue_q.Run());
      for (const auto& [k, n] : d.tags) {
        const size_t key_size = static_cast<unsigned char>(k[0]);
        const std::string_view kv = std::string_view(k).substr(1);
        tag_q.Reset();
        tag_q.Bind(id).Bind(kv.substr(0, key_size)).Bind(kv.substr(key_size)).BindU(n);
        SL_RETURN_IF_ERROR(tag_q.Run());
      }
      for (const auto& [hour, n] : d.hourly) {
        hour_q.Reset();
        SL_RETURN_IF_ERROR(hour_q.Bind(id).Bind(hour).BindU(n).Run());
      }
    }
  }
  if (!p.events.empty()) {
    SL_ASSIGN_OR_RETURN(Query q, Prepare(kInsertEvent));
    for (const EventRow& r : p.events) {
      q.Reset();
      SL_RETURN_IF_ERROR(q.Bind(r.issue_id).Bind(r.ts_ns).Bind(r.event_id).Run());
    }
  }
  if (!p.sessions.empty()) {
    SL_ASSIGN_OR_RETURN(Query q, Prepare(kUpsertSessions));
    for (const auto& [k, c] : p.sessions) {
      q.Reset();
      q.Bind(std::get<0>(k)).Bind(std::get<1>(k)).Bind(std::get<2>(k)).Bind(std::get<3>(k));
      q.BindU(c.started).BindU(c.exited).BindU(c.errored).BindU(c.crashed).BindU(c.abnormal);
      SL_RETURN_IF_ERROR(q.Run());
    }
  }
  if (retention_cutoff != INT64_MIN) {
    SL_ASSIGN_OR_RETURN(Query q, Prepare(kDeleteOldEvents));
    SL_RETURN_IF_ERROR(q.Bind(retention_cutoff).Run());
  }
  return txn.Commit();
}

Status IssueStore::Impl::Flush() {
  MutexLock f(&flush_mu);
  Pending batch;
  {
    MutexLock l(&mu);
    std::swap(batch, pending);
  }
  const int64_t now = clock->NowNs();
  Status s;
  {
    MutexLock d(&db_mu);
    const bool retention_due =
        options.event_index_retention_ns > 0 && (!batch.empty() || last_retention_ns == INT64_MIN ||
                                                 now - last_retention_ns >= kRetentionCheckNs);
    if (batch.empty() && !retention_due) return Status::OK();
    const int64_t cutoff = retention_due && now > INT64_MIN + options.event_index_retention_ns
                               ? now - options.event_index_retention_ns
                               : INT64_MIN;
    s = WriteLocked(batch, cutoff);
    if (s.ok() && cutoff != INT64_MIN) last_retention_ns = now;
  }
  if (!s.ok()) {
    MutexLock l(&mu);
    pending.MergeOlder(std::move(batch));
    return s.Annotate("issue store flush");
  }
  return Status::OK();
}

void IssueStore::Impl::FlushForRead() {
  const Status s = Flush();
  if (!s.ok()) LogWarn("issue store flush before a read failed", {{"error", s.ToString()}});
}

// ---- Reads

Status IssueStore::Impl::ReadIssueRow(const Query& q, Issue* out) const {
  Issue& i = *out;
  i.id = q.Int(0);
  i.project_id = q.Int(1);
  i.hash = q.Text(2);
  i.title = q.Text(3);
  i.culprit = q.Text(4);
  i.level = q.Text(5);
  i.platform = q.Text(6);
  i.type = q.Text(7);
  i.value = q.Text(8);
  i.variant = q.Text(9);
  if (!ParseStoredStatus(q.Text(10), &i.status)) {
    return Corruption("issue " + std::to_string(i.id) + " has unknown status '" + q.Text(10) + "'");
  }
  const std::string stored_substatus = q.Text(11);
  i.resolved_in_release = q.Text(12);
  i.status_changed_ns = q.Int(13);
  i.first_seen_ns = q.Int(14);
  i.last_seen_ns = q.Int(15);
  i.count = q.UInt(16);
  i.users = q.UInt(17);
  i.first_release = q.Text(18);
  i.last_release = q.Text(19);
  i.latest_event_id = q.Text(20);
  i.latest_event_ns = q.Int(21);
  if (i.status != IssueStatus::kUnresolved) {
    i.substatus.clear();
  } else if (stored_substatus == "regressed") {
    i.substatus = "regressed";
  } else {
    i.substatus = clock->NowNs() - i.first_seen_ns < kNewIssueNs ? "new" : "ongoing";
  }
  return Status::OK();
}

StatusOr<Issue> IssueStore::Impl::ReadIssueLocked(int64_t id) {
  SL_ASSIGN_OR_RETURN(
      Query q, Prepare(std::string("SELECT ") + kIssueColumns + " FROM issues WHERE id = ?"));
  SL_ASSIGN_OR_RETURN(const bool row, q.Bind(id).Step());
  if (!row) return NotFound("issue " + std::to_string(id) + " not found");
  Issue out;
  SL_RETURN_IF_ERROR(ReadIssueRow(q, &out));
  return out;
}

Status IssueStore::Impl::CheckIssueLocked(int64_t id) {
  SL_ASSIGN_OR_RETURN(Query q, Prepare("SELECT 1 FROM issues WHERE id = ?"));
  SL_ASSIGN_OR_RETURN(const bool row, q.Bind(id).Step());
  if (!row) return NotFound("issue " + std::to_string(id) + " not found");
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Free functions

std::string_view IssueStatusName(IssueStatus s) {
  switch (s) {
    case IssueStatus::kUnresolved:
      return "unresolved";
    case IssueStatus::kResolved:
      return "resolved";
    case IssueStatus::kResolvedInNextRelease:
      return "resolvedInNextRelease";
    case IssueStatus::kIgnored:
      return "ignored";
  }
  return "unresolved";
}

bool ParseIssueStatus(std::string_view name, IssueStatus* out) {
  if (name == "unresolved") {
    *out = IssueStatus::kUnresolved;
  } else if (name == "resolved") {
    *out = IssueStatus::kResolved;
  } else if (name == "resolvedInNextRelease") {
    *out = IssueStatus::kResolvedInNextRelease;
  } else if (name == "ignored" || name == "archived") {
    *out = IssueStatus::kIgnored;
  } else {
    return false;
  }
  return true;
}

std::string UserIdentity(const model::ErrorEvent::User& u) {
  if (!u.id.empty()) return "id:" + u.id;
  if (!u.username.empty()) return "username:" + u.username;
  if (!u.email.empty()) return "email:" + u.email;
  if (!u.ip_address.empty()) return "ip:" + u.ip_address;
  return "";
}

std::optional<int> CompareReleases(std::string_view a, std::string_view b) {
  const std::optional<Semver> x = ParseSemver(a), y = ParseSemver(b);
  if (!x || !y) return std::nullopt;
  for (size_t i = 0; i < 3; ++i) {
    const int c = CompareNumeric(x->core[i], y->core[i]);
    if (c != 0) return c;
  }
  return ComparePre(x->pre, y->pre);
}

// ---------------------------------------------------------------------------------------------
// IssueStore

IssueStore::IssueStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

IssueStore::~IssueStore() {
  if (impl_ != nullptr) impl_->Shutdown();
}

StatusOr<std::unique_ptr<IssueStore>> IssueStore::Open(const IssueStoreOptions& options) {
  if (options.path.empty()) return InvalidArgument("issue store: empty path");
  auto impl = std::make_unique<Impl>(options);
  SL_RETURN_IF_ERROR(impl->OpenDb());
  SL_RETURN_IF_ERROR(impl->LoadCaches().Annotate(options.path));
  impl->StartThread();
  return std::unique_ptr<IssueStore>(new IssueStore(std::move(impl)));
}

StatusOr<Project> IssueStore::CreateProject(const std::string& name, const std::string& slug,
                                            const std::string& platform) {
  if (name.empty()) return InvalidArgument("project name is empty");
  const std::string s = slug.empty() ? Slugify(name) : slug;
  if (!ValidSlug(s)) {
    return InvalidArgument("bad project slug '" + s +
                           "': want 1-50 of [a-z0-9-_], not only digits");
  }
  Impl& m = *impl_;
  MutexLock l(&m.mu);
  MutexLock d(&m.db_mu);
  SL_ASSIGN_OR_RETURN(Project p, m.InsertProjectLocked(0, name, s, platform));
  m.projects[p.id] = p;
  return p;
}

std::vector<Project> IssueStore::ListProjects() {
  Impl& m = *impl_;
  std::vector<Project> out;
  MutexLock d(&m.db_mu);
  auto q = m.Prepare("SELECT id, slug, name, platform, created_ns FROM projects ORDER BY id");
  Status s = q.status();
  while (s.ok()) {
    auto row = q->Step();
    s = row.status();
    if (!s.ok() || !*row) break;
    out.push_back(Impl::ReadProject(*q));
  }
  if (!s.ok()) LogError("cannot list projects", {{"error", s.ToString()}});
  return out;
}

StatusOr<Project> IssueStore::GetProject(int64_t id) {
  Impl& m = *impl_;
  MutexLock l(&m.mu);
  MutexLock d(&m.db_mu);
  return m.ProjectLocked(id);
}

StatusOr<Project> IssueStore::FindProject(const std::string& id_or_slug) {
  int64_t id = 0;
  if (ParseInt64(id_or_slug, &id)) return GetProject(id);
  Impl& m = *impl_;
  MutexLock l(&m.mu);
  for (const auto& [pid, p] : m.projects) {
    if (p.slug == id_or_slug) return p;
  }
  MutexLock d(&m.db_mu);
  SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT id, slug, name, platform, created_ns FROM "
                                         "projects WHERE slug = ?"));
  SL_ASSIGN_OR_RETURN(const bool row, q.Bind(id_or_slug).Step());
  if (!row) return NotFound("project '" + id_or_slug + "' not found");
  Project p = Impl::ReadProject(q);
  m.projects[p.id] = p;
  return p;
}

StatusOr<ProjectKey> IssueStore::CreateKey(int64_t project_id, const std::string& label,
                                           const std::string& public_key) {
  if (!public_key.empty() && !IsHex32(public_key)) {
    return InvalidArgument("a public key is 32 hex digits");
  }
  Impl& m = *impl_;
  MutexLock l(&m.mu);
  MutexLock d(&m.db_mu);
  SL_RETURN_IF_ERROR(m.ProjectLocked(project_id).status());
  SL_ASSIGN_OR_RETURN(ProjectKey k, m.InsertKeyLocked(project_id, label, public_key));
  m.keys[k.public_key] = k;
  return k;
}

std::vector<ProjectKey> IssueStore::ListKeys(int64_t project_id) {
  Impl& m = *impl_;
  std::vector<ProjectKey> out;
  MutexLock d(&m.db_mu);
  auto q = m.Prepare(
      "SELECT public_key, project_id, label, active, created_ns FROM keys "
      "WHERE ?1 = 0 OR project_id = ?1 ORDER BY project_id, rowid");
  Status s = q.status();
  if (s.ok()) q->Bind(project_id);
  while (s.ok()) {
    auto row = q->Step();
    s = row.status();
    if (!s.ok() || !*row) break;
    out.push_back(Impl::ReadKey(*q));
  }
  if (!s.ok()) LogError("cannot list keys", {{"error", s.ToString()}});
  return out;
}

StatusOr<int64_t> IssueStore::ProjectForKey(const std::string& public_key) {
  Impl& m = *impl_;
  MutexLock l(&m.mu);
  auto it = m.keys.find(public_key);
  if (it == m.keys.end()) {
    // Created by another process (the CLI) since we loaded?
    MutexLock d(&m.db_mu);
    SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT public_key, project_id, label, active, "
                                           "created_ns FROM keys WHERE public_key = ?"));
    SL_ASSIGN_OR_RETURN(const bool row, q.Bind(public_key).Step());
    if (!row) return NotFound("unknown key");
    it = m.keys.emplace(public_key, Impl::ReadKey(q)).first;
  }
  if (!it->second.active) return NotFound("inactive key");
  return it->second.project_id;
}

StatusOr<std::pair<Project, ProjectKey>> IssueStore::EnsureDefaultProject(
    const std::string& public_key) {
  if (!public_key.empty() && !IsHex32(public_key)) {
    return InvalidArgument("a public key is 32 hex digits");
  }
  Impl& m = *impl_;
  MutexLock l(&m.mu);
  MutexLock d(&m.db_mu);
  Txn txn(m.db.get());
  SL_RETURN_IF_ERROR(txn.Begin());
  std::optional<Project> project;
  {
    SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT id, slug, name, platform, created_ns FROM "
                                           "projects ORDER BY id LIMIT 1"));
    SL_ASSIGN_OR_RETURN(const bool row, q.Step());
    if (row) project = Impl::ReadProject(q);
  }
  if (!project) {
    SL_ASSIGN_OR_RETURN(project, m.InsertProjectLocked(1, "default", "default", ""));
  }
  std::optional<ProjectKey> key;
  {
    SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT public_key, project_id, label, active, "
                                           "created_ns FROM keys WHERE project_id = ? AND "
                                           "active = 1 ORDER BY rowid LIMIT 1"));
    SL_ASSIGN_OR_RETURN(const bool row, q.Bind(project->id).Step());
    if (row) key = Impl::ReadKey(q);
  }
  if (!key) {
    // No active key (a new database): `public_key` unless it belongs to something else.
    std::string k = LowerAscii(public_key);
    if (!k.empty()) {
      SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT 1 FROM keys WHERE public_key = ?"));
      SL_ASSIGN_OR_RETURN(const bool row, q.Bind(k).Step());
      if (row) k.clear();
    }
    SL_ASSIGN_OR_RETURN(key, m.InsertKeyLocked(project->id, "Default", k));
  }
  SL_RETURN_IF_ERROR(txn.Commit());
  m.projects[project->id] = *project;
  m.keys[key->public_key] = *key;
  return std::make_pair(*project, *key);
}

StatusOr<RecordResult> IssueStore::RecordEvent(int64_t project_id, const GroupingResult& g,
                                               const model::ErrorEvent& e) {
  return impl_->RecordEvent(project_id, g, e);
}

void IssueStore::SetActivityListener(std::function<void(const IssueActivity&)> listener) {
  MutexLock l(&impl_->mu);
  impl_->listener = std::move(listener);
}

StatusOr<std::vector<Issue>> IssueStore::ListIssues(const IssueQuery& q, uint64_t* total) {
  Impl& m = *impl_;
  const char* order = nullptr;
  if (q.sort == "date" || q.sort.empty()) {
    order = " ORDER BY last_seen_ns DESC, id DESC";
  } else if (q.sort == "new") {
    order = " ORDER BY first_seen_ns DESC, id DESC";
  } else if (q.sort == "freq") {
    order = " ORDER BY count DESC, id DESC";
  } else if (q.sort == "user") {
    order = " ORDER BY users DESC, id DESC";
  } else {
    return InvalidArgument("unknown issue sort '" + q.sort + "'");
  }
  if (q.text.size() > kMaxSearchBytes) return InvalidArgument("search text is too long");
  const int64_t now = m.clock->NowNs();
  std::string where = " WHERE 1 = 1";
  std::vector<std::variant<int64_t, std::string>> args;
  if (q.project_id != 0) {
    where += " AND project_id = ?";
    args.emplace_back(q.project_id);
  }
  if (q.status) {
    where += " AND status = ?";
    args.emplace_back(std::string(IssueStatusName(*q.status)));
  }
  if (!q.substatus.empty()) {
    if (q.substatus == "regressed") {
      where += " AND status = 'unresolved' AND substatus = 'regressed'";
    } else if (q.substatus == "new" || q.substatus == "ongoing") {
      where += " AND status = 'unresolved' AND substatus <> 'regressed' AND first_seen_ns";
      where += q.substatus == "new" ? " > ?" : " <= ?";
      args.emplace_back(now - kNewIssueNs);
    } else {
      return InvalidArgument("unknown substatus '" + q.substatus + "'");
    }
  }
  if (!q.level.empty()) {
    where += " AND level = ?";
    args.emplace_back(q.level);
  }
  if (q.last_seen_after_ns != 0) {
    where += " AND last_seen_ns >= ?";
    args.emplace_back(q.last_seen_after_ns);
  }
  for (const auto& [tag, value] :
       {std::pair<const char*, const std::string*>{"environment", &q.environment},
        {"release", &q.release}}) {
    if (value->empty()) continue;
    where += " AND EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = issues.id AND t.key = '";
    where += tag;
    where += "' AND t.value = ?)";
    args.emplace_back(std::string(TruncateUtf8(*value, kMaxTagBytes)));
  }
  if (!q.text.empty()) {
    where += " AND (title LIKE ? ESCAPE '\\' OR culprit LIKE ? ESCAPE '\\')";
    args.emplace_back(LikePattern(q.text));
    args.emplace_back(LikePattern(q.text));
  }
  auto bind_all = [&](Query* query) {
    for (const auto& a : args) {
      if (const int64_t* v = std::get_if<int64_t>(&a)) {
        query->Bind(*v);
      } else {
        query->Bind(std::get<std::string>(a));
      }
    }
  };

  m.FlushForRead();
  MutexLock d(&m.db_mu);
  if (total != nullptr) {
    SL_ASSIGN_OR_RETURN(Query c, m.Prepare("SELECT COUNT(*) FROM issues" + where));
    bind_all(&c);
    SL_ASSIGN_OR_RETURN(const bool row, c.Step());
    *total = row ? c.UInt(0) : 0;
  }
  SL_ASSIGN_OR_RETURN(Query sel, m.Prepare(std::string("SELECT ") + kIssueColumns + " FROM issues" +
                                           where + order + " LIMIT ? OFFSET ?"));
  bind_all(&sel);
  sel.BindU(q.limit).BindU(q.offset);
  std::vector<Issue> out;
  for (;;) {
    SL_ASSIGN_OR_RETURN(const bool row, sel.Step());
    if (!row) break;
    Issue is;
    SL_RETURN_IF_ERROR(m.ReadIssueRow(sel, &is));
    out.push_back(std::move(is));
  }
  return out;
}

StatusOr<Issue> IssueStore::GetIssue(int64_t id) {
  Impl& m = *impl_;
  m.FlushForRead();
  MutexLock d(&m.db_mu);
  return m.ReadIssueLocked(id);
}

StatusOr<Issue> IssueStore::UpdateStatus(int64_t id, IssueStatus status) {
  Impl& m = *impl_;
  m.FlushForRead();
  std::optional<IssueActivity> activity;
  std::function<void(const IssueActivity&)> notify;
  {
    // No flush in progress: the pending counters and SQLite together are complete.
    MutexLock f(&m.flush_mu);
    MutexLock l(&m.mu);
    const auto it = m.issues.find(id);
    if (it == m.issues.end()) return NotFound("issue " + std::to_string(id) + " not found");
    IssueState& st = it->second;
    if (st.status != status) {
      std::string in_release;
      if (status == IssueStatus::kResolvedInNextRelease) {
        // The issue's last release (pending counters first), else the project's newest.
        const auto p = m.pending.issues.find(id);
        if (p != m.pending.issues.end()) in_release = p->second.last_release;
        if (in_release.empty()) {
          MutexLock d(&m.db_mu);
          SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT last_release FROM issues WHERE id = ?"));
          SL_ASSIGN_OR_RETURN(const bool row, q.Bind(id).Step());
          if (row) in_release = q.Text(0);
        }
        if (in_release.empty()) {
          const auto r = m.releases.find(st.project_id);
          int64_t newest = INT64_MIN;
          if (r != m.releases.end()) {
            for (const auto& [version, ns] : r->second) {
              if (ns > newest || (ns == newest && version > in_release)) {
                newest = ns;
                in_release = version;
              }
            }
          }
        }
      }
      SL_ASSIGN_OR_RETURN(activity, m.WriteStatusLocked(id, &st, status, /*regressed=*/false,
                                                        in_release, in_release, m.clock->NowNs()));
      notify = m.listener;
    }
  }
  if (activity && notify) notify(*activity);
  MutexLock d(&m.db_mu);
  return m.ReadIssueLocked(id);
}

StatusOr<std::vector<TagSummary>> IssueStore::Tags(int64_t issue_id, size_t top_n) {
  Impl& m = *impl_;
  m.FlushForRead();
  MutexLock d(&m.db_mu);
  SL_RETURN_IF_ERROR(m.CheckIssueLocked(issue_id));
  std::vector<TagSummary> out;
  {
    SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT key, SUM(count), COUNT(*) FROM issue_tags "
                                           "WHERE issue_id = ? GROUP BY key "
                                           "ORDER BY SUM(count) DESC, key"));
    q.Bind(issue_id);
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      TagSummary t;
      t.key = q.Text(0);
      t.total = q.UInt(1);
      t.distinct = q.UInt(2);
      out.push_back(std::move(t));
    }
  }
  if (top_n == 0) return out;
  SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT value, count FROM issue_tags WHERE issue_id = ? "
                                         "AND key = ? ORDER BY count DESC, value LIMIT ?"));
  for (TagSummary& t : out) {
    q.Reset();
    q.Bind(issue_id).Bind(t.key).BindU(top_n);
    for (;;) {
      SL_ASSIGN_OR_RETURN(const bool row, q.Step());
      if (!row) break;
      t.top.push_back({q.Text(0), q.UInt(1)});
    }
  }
  return out;
}

StatusOr<std::vector<uint64_t>> IssueStore::CountSeries(int64_t issue_id, int64_t start_ns,
                                                        int64_t end_ns, int64_t step_ns) {
  if (step_ns < kNsPerHour) return InvalidArgument("series step must be at least one hour");
  if (end_ns < start_ns) return InvalidArgument("series end before start");
  const uint64_t span = static_cast<uint64_t>(end_ns) - static_cast<uint64_t>(start_ns);
  const uint64_t step = static_cast<uint64_t>(step_ns);
  const uint64_t n = span / step + (span % step != 0 ? 1 : 0);
  if (n > kMaxSeriesBuckets) return InvalidArgument("series has too many buckets");
  Impl& m = *impl_;
  m.FlushForRead();
  MutexLock d(&m.db_mu);
  SL_RETURN_IF_ERROR(m.CheckIssueLocked(issue_id));
  std::vector<uint64_t> out(static_cast<size_t>(n), 0);
  SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT hour, count FROM issue_hourly WHERE "
                                         "issue_id = ? AND hour >= ? AND hour <= ?"));
  q.Bind(issue_id).Bind(FloorDiv(start_ns, kNsPerSec)).Bind(FloorDiv(end_ns, kNsPerSec));
  for (;;) {
    SL_ASSIGN_OR_RETURN(const bool row, q.Step());
    if (!row) break;
    const int64_t hour = q.Int(0);
    if (hour > INT64_MAX / kNsPerSec || hour < INT64_MIN / kNsPerSec) continue;
    const int64_t ns = hour * kNsPerSec;
    if (ns < start_ns || ns >= end_ns) continue;
    const uint64_t i = (static_cast<uint64_t>(ns) - static_cast<uint64_t>(start_ns)) / step;
    out[static_cast<size_t>(i)] += q.UInt(1);
  }
  return out;
}

StatusOr<std::vector<std::pair<int64_t, std::string>>> IssueStore::Events(int64_t issue_id,
                                                                          size_t offset,
                                                                          size_t limit) {
  Impl& m = *impl_;
  m.FlushForRead();
  MutexLock d(&m.db_mu);
  SL_RETURN_IF_ERROR(m.CheckIssueLocked(issue_id));
  SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT ts_ns, event_id FROM issue_events WHERE "
                                         "issue_id = ? ORDER BY ts_ns DESC, rowid DESC "
                                         "LIMIT ? OFFSET ?"));
  q.Bind(issue_id).BindU(limit).BindU(offset);
  std::vector<std::pair<int64_t, std::string>> out;
  for (;;) {
    SL_ASSIGN_OR_RETURN(const bool row, q.Step());
    if (!row) break;
    out.emplace_back(q.Int(0), q.Text(1));
  }
  return out;
}

StatusOr<EventRef> IssueStore::FindEvent(const std::string& event_id) {
  Impl& m = *impl_;
  m.FlushForRead();
  MutexLock d(&m.db_mu);
  SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT e.issue_id, i.project_id, e.ts_ns FROM "
                                         "issue_events e JOIN issues i ON i.id = e.issue_id "
                                         "WHERE e.event_id = ? ORDER BY e.ts_ns DESC LIMIT 1"));
  SL_ASSIGN_OR_RETURN(const bool row, q.Bind(event_id).Step());
  if (!row) return NotFound("event " + event_id + " not found");
  EventRef r;
  r.issue_id = q.Int(0);
  r.project_id = q.Int(1);
  r.ts_ns = q.Int(2);
  return r;
}

StatusOr<std::vector<IssueActivity>> IssueStore::Activity(int64_t after_seq, size_t limit) {
  Impl& m = *impl_;
  MutexLock d(&m.db_mu);
  SL_ASSIGN_OR_RETURN(Query q, m.Prepare("SELECT seq, issue_id, project_id, ts_ns, kind, detail "
                                         "FROM activity WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(after_seq).BindU(limit);
  std::vector<IssueActivity> out;
  for (;;) {
    SL_ASSIGN_OR_RETURN(const bool row, q.Step());
    if (!row) break;
    IssueActivity a;
    a.seq = q.Int(0);
    a.issue_id = q.Int(1);
    a.project_id = q.Int(2);
    a.ts_ns = q.Int(3);
    a.kind = q.Text(4);
    a.detail = q.Text(5);
    out.push_back(std::move(a));
  }
  return out;
}

Status IssueStore::RecordSessions(int64_t project_id, const std::string& release,
                                  const std::string& environment, int64_t started_ns,
                                  const SessionCounts& counts) {
  if (release.empty()) return InvalidArgument("sessions need a release");
  Impl& m = *impl_;
  const int64_t now = m.clock->NowNs();
  MutexLock l(&m.mu);
  if (m.projects.find(project_id) == m.projects.end()) {
    MutexLock d(&m.db_mu);
    SL_RETURN_IF_ERROR(m.ProjectLocked(project_id).status());
  }
  m.NoteReleaseLocked(project_id, release, now);
  SessionCounts& c = m.pending.sessions[SessionKey(
      project_id, release, environment, HourStartSec(started_ns > 0 ? started_ns : now))];
  c.started += counts.started;
  c.exited += counts.exited;
  c.errored += counts.errored;
  c.crashed += counts.crashed;
  c.abnormal += counts.abnormal;
  return Status::OK();
}

StatusOr<std::vector<ReleaseHealth>> IssueStore::Releases(int64_t project_id, int64_t since_ns) {
  Impl& m = *impl_;
  SL_RETURN_IF_ERROR(GetProject(project_id).status());
  m.FlushForRead();
  MutexLock d(&m.db_mu);
  // Hours [hour, hour + 1h) that end after since_ns.
  const int64_t since = std::max(since_ns, INT64_MIN / 2);
  const int64_t after_hour = FloorDiv(since - kNsPerHour, kNsPerSec);
  SL_ASSIGN_OR_RETURN(
      Query q, m.Prepare("SELECT s.release, s.environment, SUM(s.started), SUM(s.exited), "
                         "SUM(s.errored), SUM(s.crashed), SUM(s.abnormal), "
                         "COALESCE(MIN(r.first_seen_ns), MIN(s.hour) * 1000000000) AS first_seen "
                         "FROM sessions s LEFT JOIN releases r ON r.project_id = s.project_id AND "
                         "r.version = s.release WHERE s.project_id = ? AND s.hour > ? "
                         "GROUP BY s.release, s.environment "
                         "ORDER BY first_seen DESC, s.release, s.environment"));
  q.Bind(project_id).Bind(after_hour);
  std::vector<ReleaseHealth> out;
  for (;;) {
    SL_ASSIGN_OR_RETURN(const bool row, q.Step());
    if (!row) break;
    ReleaseHealth h;
    h.release = q.Text(0);
    h.environment = q.Text(1);
    h.sessions.started = q.UInt(2);
    h.sessions.exited = q.UInt(3);
    h.sessions.errored = q.UInt(4);
    h.sessions.crashed = q.UInt(5);
    h.sessions.abnormal = q.UInt(6);
    h.first_seen_ns = q.Int(7);
    if (h.sessions.started > 0) {
      const double crashed = static_cast<double>(std::min(h.sessions.crashed, h.sessions.started));
      h.crash_free_rate = 1.0 - crashed / static_cast<double>(h.sessions.started);
    }
    out.push_back(std::move(h));
  }
  return out;
}

Status IssueStore::Flush() { return impl_->Flush(); }

}  // namespace sightline::issues
