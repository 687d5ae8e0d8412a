// The common data model for log records. Every ingest decoder (NDJSON, OTLP, later Loki,
// Elasticsearch bulk, syslog, Sentry logs) produces LogRecords; the pipeline normalizes them
// and the Store persists them. Nothing here knows about transports or storage.
#ifndef SIGHTLINE_MODEL_LOG_RECORD_H_
#define SIGHTLINE_MODEL_LOG_RECORD_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sightline::model {

// Normalized severity. The numeric order is meaningful (kError > kWarn); kUnknown sorts first.
enum class Level : uint8_t {
  kUnknown = 0,
  kTrace = 1,
  kDebug = 2,
  kInfo = 3,
  kWarn = 4,
  kError = 5,
  kFatal = 6,
};
inline constexpr int kNumLevels = 7;

// "trace", "debug", "info", "warn", "error", "fatal" or "unknown".
std::string_view LevelName(Level level);
// Case-insensitive; accepts common spellings: "WARNING", "err", "critical", "information",
// "notice" (info), "emerg"/"alert"/"crit"/"panic" (fatal), "verbose" (trace), numeric syslog
// severities "0".."7" and bunyan/pino numbers "10".."60". Unrecognized text -> kUnknown.
Level LevelFromText(std::string_view text);
// OpenTelemetry SeverityNumber 1..24 -> Level (0 -> kUnknown).
Level LevelFromSeverityNumber(int severity_number);

// A 16-byte trace id; all zero means "none".
struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool empty() const;
  std::string Hex() const;  // 32 lowercase hex chars
  bool operator==(const TraceId&) const = default;
  auto operator<=>(const TraceId&) const = default;
};
// An 8-byte span id; all zero means "none".
struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool empty() const;
  std::string Hex() const;
  bool operator==(const SpanId&) const = default;
};

// Parses `text` as a trace id the way the brief prescribes: 32 hex chars are used as is
// (any case); 16 hex chars are left-padded with zeros (the OTel rule for 64-bit ids); any
// other non-empty value is hashed (XXH3-128) to a trace id and *hashed is set so that the
// caller keeps the original text as an attribute. Returns an empty TraceId for "".
TraceId TraceIdFromText(std::string_view text, bool* hashed);
// 16 hex chars -> span id; other non-empty text is hashed (XXH3-64), *hashed set.
SpanId SpanIdFromText(std::string_view text, bool* hashed);
// Strict hex decoding helpers: return false unless `hex` is exactly 2*N hex digits.
bool DecodeHex(std::string_view hex, uint8_t* out, size_t n);

// A typed attribute value. Strings own their bytes.
struct AttrValue {
  enum class Type : uint8_t { kString = 1, kInt = 2, kDouble = 3, kBool = 4 };
  Type type = Type::kString;
  std::string str;  // kString
  union {
    int64_t i;      // kInt
    double d;       // kDouble
    bool b;         // kBool
  };
  AttrValue() : i(0) {}
  static AttrValue String(std::string_view s) {
    AttrValue v;
    v.type = Type::kString;
    v.str.assign(s);
    return v;
  }
  static AttrValue Int(int64_t x) {
    AttrValue v;
    v.type = Type::kInt;
    v.i = x;
    return v;
  }
  static AttrValue Double(double x) {
    AttrValue v;
    v.type = Type::kDouble;
    v.d = x;
    return v;
  }
  static AttrValue Bool(bool x) {
    AttrValue v;
    v.type = Type::kBool;
    v.b = x;
    return v;
  }
  // Text form used by filters and the API: ints in decimal, doubles shortest round-trip,
  // bools "true"/"false".
  std::string ToText() const;
  bool operator==(const AttrValue& o) const;
};

struct Attribute {
  std::string key;  // dotted path for flattened nested objects, e.g. "http.status"
  AttrValue value;
};

// One log record after decoding. Well-known fields are first-class; everything else lives
// in `attrs`, in arrival order, keys unique (decoders keep the last value for a repeated key).
struct LogRecord {
  int64_t ts_ns = 0;           // event time, Unix ns; 0 = unknown (pipeline fills it)
  int64_t observed_ns = 0;     // when Sightline received it, Unix ns
  Level level = Level::kUnknown;
  uint8_t severity_number = 0;  // OTel SeverityNumber when known, else 0
  std::string service;         // service.name; "" = unknown
  std::string env;             // deployment.environment
  std::string host;            // host.name
  std::string body;            // the message text
  TraceId trace_id;
  SpanId span_id;
  std::vector<Attribute> attrs;

  // Looks up an attribute by key; nullptr if absent.
  const AttrValue* FindAttr(std::string_view key) const;
};

// Makes keys unique: for every key, keeps the value of its last occurrence at the position of
// its first (decoders use this when a source repeats a key).
void DedupeAttributes(std::vector<Attribute>* attrs);

// A batch as produced by one request. `rejected` counts records the decoder refused (with
// `reject_reason` describing the first), so the transport can report partial success.
struct LogBatch {
  std::vector<LogRecord> records;
  // Set by producers whose records were scrubbed of PII already (error events, span
  // exception events), so the log pipeline does not scan them twice.
  bool scrubbed = false;
  int64_t rejected = 0;
  std::string reject_reason;
};

}  // namespace sightline::model

#endif  // SIGHTLINE_MODEL_LOG_RECORD_H_
