#include "ingest/ndjson.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/json.h"

namespace sightline::ingest {
namespace {

namespace od = simdjson::ondemand;
using model::Attribute;
using model::AttrValue;

constexpr int64_t kMaxSecondsInNanos = std::numeric_limits<int64_t>::max() / 1'000'000'000;

// ---------------------------------------------------------------------------------------
// Well-known field spellings.

enum Field : uint8_t {
  kTime,
  kLevel,
  kMessage,
  kService,
  kEnv,
  kHost,
  kTrace,
  kSpan,
  kRequestId,
  kUserId,
  kNumFields,
};
constexpr int kMaxSpellings = 6;

struct KnownKey {
  std::string_view name;
  Field field;
  uint8_t priority;  // position within its group; lower wins
};

constexpr KnownKey kKnownKeys[] = {
    {"ts", kTime, 0},
    {"timestamp", kTime, 1},
    {"time", kTime, 2},
    {"@timestamp", kTime, 3},
    {"level", kLevel, 0},
    {"severity", kLevel, 1},
    {"lvl", kLevel, 2},
    {"levelname", kLevel, 3},
    {"log.level", kLevel, 4},
    {"loglevel", kLevel, 5},
    {"msg", kMessage, 0},
    {"message", kMessage, 1},
    {"body", kMessage, 2},
    {"log", kMessage, 3},
    {"service", kService, 0},
    {"service.name", kService, 1},
    {"service_name", kService, 2},
    {"app", kService, 3},
    {"application", kService, 4},
    {"env", kEnv, 0},
    {"environment", kEnv, 1},
    {"deployment.environment", kEnv, 2},
    {"deployment.environment.name", kEnv, 3},
    {"host", kHost, 0},
    {"hostname", kHost, 1},
    {"host.name", kHost, 2},
    {"trace_id", kTrace, 0},
    {"traceId", kTrace, 1},
    {"trace.id", kTrace, 2},
    {"traceid", kTrace, 3},
    {"X-Trace-ID", kTrace, 4},
    {"x-trace-id", kTrace, 5},
    {"span_id", kSpan, 0},
    {"spanId", kSpan, 1},
    {"span.id", kSpan, 2},
    {"request_id", kRequestId, 0},
    {"requestId", kRequestId, 1},
    {"request.id", kRequestId, 2},
    {"X-Request-ID", kRequestId, 3},
    {"x-request-id", kRequestId, 4},
    {"user_id", kUserId, 0},
    {"userId", kUserId, 1},
    {"user.id", kUserId, 2},
};

// Finds a KnownKey by exact name: a bucket per key length keeps it to a few compares.
class KnownKeyIndex {
 public:
  KnownKeyIndex() {
    for (const KnownKey& k : kKnownKeys) ++count_[k.name.size()];
    for (size_t len = 1; len <= kMaxLen; ++len) begin_[len] = begin_[len - 1] + count_[len - 1];
    std::array<uint8_t, kMaxLen + 1> fill = begin_;
    for (const KnownKey& k : kKnownKeys) {
      sorted_[fill[k.name.size()]++] = &k;
      names_[k.field][k.priority] = k.name;
    }
  }

  std::string_view Name(int field, int priority) const { return names_[field][priority]; }

  const KnownKey* Find(std::string_view key) const {
    if (key.size() > kMaxLen) return nullptr;
    const size_t b = begin_[key.size()];
    for (size_t i = b, e = b + count_[key.size()]; i < e; ++i) {
      const std::string_view name = sorted_[i]->name;
      if (name[0] == key[0] && std::memcmp(name.data(), key.data(), key.size()) == 0) {
        return sorted_[i];
      }
    }
    return nullptr;
  }

 private:
  static constexpr size_t kMaxLen = 27;  // "deployment.environment.name"
  static constexpr size_t kNumKeys = std::size(kKnownKeys);
  std::array<uint8_t, kMaxLen + 1> count_{};
  std::array<uint8_t, kMaxLen + 1> begin_{};
  std::array<const KnownKey*, kNumKeys> sorted_{};
  std::string_view names_[kNumFields][kMaxSpellings];
};

const KnownKeyIndex& KnownKeys() {
  static const KnownKeyIndex index;
  return index;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

// model::LevelFromText maps the single digits 0-7 through an 8-entry syslog table and does
// not bounds-check "8" or "9"; keep those away from it.
model::Level SafeLevelFromText(std::string_view t) {
  size_t b = t.find_first_not_of(' ');
  if (b == std::string_view::npos) return model::Level::kUnknown;
  size_t e = t.find_last_not_of(' ');
  std::string_view core = t.substr(b, e - b + 1);
  if (core[0] >= '0' && core[0] <= '9') {
    uint64_t n = 0;
    auto r = std::from_chars(core.data(), core.data() + core.size(), n);
    if (r.ec == std::errc() && r.ptr == core.data() + core.size() && (n == 8 || n == 9)) {
      return model::Level::kUnknown;
    }
  }
  return model::LevelFromText(core);
}

model::Level LevelFromInt(int64_t v) {
  if (v < 0 || v > 1'000'000) return model::Level::kUnknown;
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return SafeLevelFromText(std::string_view(buf, r.ptr - buf));
}


std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A JSON integer simdjson cannot hold in 64 bits: "-"? [1-9][0-9]{19,}.
bool IsBigJsonInteger(std::string_view tok) {
  if (!tok.empty() && tok[0] == '-') tok.remove_prefix(1);
  if (tok.size() < 20 || tok[0] == '0') return false;
  for (char c : tok) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}


// Sets `key` to `value`, replacing an existing attribute of that key.
void SetAttr(std::vector<Attribute>* attrs, std::string_view key, AttrValue value) {
  for (Attribute& a : *attrs) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  attrs->push_back(Attribute{std::string(key), std::move(value)});
}

// ---------------------------------------------------------------------------------------
// Timestamps.

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at s[*i].
bool ReadDigits(std::string_view s, size_t* i, int n, unsigned* out) {
  if (*i + n > s.size()) return false;
  unsigned v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

bool ParseRfc3339(std::string_view s, int64_t* ns) {
  size_t i = 0;
  unsigned year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!ReadDigits(s, &i, 4, &year) || !Expect(s, &i, '-') || !ReadDigits(s, &i, 2, &mon) ||
      !Expect(s, &i, '-') || !ReadDigits(s, &i, 2, &day)) {
    return false;
  }
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) return false;
  ++i;
  if (!ReadDigits(s, &i, 2, &hour) || !Expect(s, &i, ':') || !ReadDigits(s, &i, 2, &min) ||
      !Expect(s, &i, ':') || !ReadDigits(s, &i, 2, &sec)) {
    return false;
  }
  int64_t frac = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    int digits = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (digits < 9) frac = frac * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return false;
    for (int k = digits; k < 9; ++k) frac *= 10;
  }
  int64_t offset = 0;
  if (i < s.size()) {
    const char z = s[i++];
    if (z == 'Z' || z == 'z') {
      // UTC
    } else if (z == '+' || z == '-') {
      unsigned oh, om = 0;
      if (!ReadDigits(s, &i, 2, &oh)) return false;
      if (i < s.size()) {
        if (s[i] == ':') ++i;
        if (!ReadDigits(s, &i, 2, &om)) return false;
      }
      if (oh > 23 || om > 59) return false;
      offset = (z == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
    } else {
      return false;
    }
  }
  if (i != s.size()) return false;
  if (mon < 1 || mon > 12 || day < 1 || day > DaysInMonth(year, mon) || hour > 23 || min > 59 ||
      sec > 60) {
    return false;
  }
  const int64_t secs =
      DaysFromCivil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
  if (secs < 0 || secs > kMaxSecondsInNanos) return false;
  int64_t total;
  if (__builtin_mul_overflow(secs, int64_t{1'000'000'000}, &total) ||
      __builtin_add_overflow(total, frac, &total) || total <= 0) {
    return false;
  }
  *ns = total;
  return true;
}

// Unit multiplier (to ns) for an epoch number with integer part `ip`.
int64_t EpochScale(double ip) {
  if (ip < 1e11) return 1'000'000'000;
  if (ip < 1e14) return 1'000'000;
  if (ip < 1e17) return 1'000;
  return 1;
}

bool ParseEpochText(std::string_view s, int64_t* ns) {
  size_t i = 0;
  uint64_t ip = 0;
  while (i < s.size() && IsDigit(s[i])) {
    if (i >= 19) return false;  // more than int64 can hold
    ip = ip * 10 + static_cast<uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0 || ip > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  uint64_t frac = 0;
  uint64_t frac_div = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t digits = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (digits < 9) {
        frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
        frac_div *= 10;
      }
      ++digits;
      ++i;
    }
    if (digits == 0) return false;
  }
  if (i != s.size()) return false;
  const int64_t scale = EpochScale(static_cast<double>(ip));
  int64_t total;
  if (__builtin_mul_overflow(static_cast<int64_t>(ip), scale, &total)) return false;
  const int64_t frac_ns = static_cast<int64_t>(frac * static_cast<uint64_t>(scale) / frac_div);
  if (__builtin_add_overflow(total, frac_ns, &total) || total <= 0) return false;
  *ns = total;
  return true;
}

// A value found under a well-known key. Strings stay views into the parser's buffers (valid
// until the next line) so that winners are copied once and ids/times are never copied.
struct Candidate {
  bool present = false;
  bool is_view = false;  // the value is the string `view`
  std::string_view view;
  std::string_view float_token;  // JSON text of a fractional number, for exact times
  AttrValue value;               // when !is_view

  void SetView(std::string_view s) {
    present = true;
    is_view = true;
    view = s;
    float_token = {};
  }
  void SetValue(AttrValue v, std::string_view token = {}) {
    present = true;
    is_view = false;
    value = std::move(v);
    float_token = token;
  }
  AttrValue::Type type() const { return is_view ? AttrValue::Type::kString : value.type; }
  // The text of a string value ("" for other types).
  std::string_view str() const {
    if (is_view) return view;
    return value.type == AttrValue::Type::kString ? std::string_view(value.str) : "";
  }
  // Text form for fields that take any scalar (body, request id, ...).
  std::string Text() const { return is_view ? std::string(view) : value.ToText(); }
  AttrValue Take() { return is_view ? AttrValue::String(view) : std::move(value); }
};

bool TimeFromCandidate(const Candidate& c, int64_t* ns) {
  switch (c.type()) {
    case AttrValue::Type::kString:
      return ParseLogTimestamp(c.str(), ns);
    case AttrValue::Type::kInt:
      return EpochNumberToNanos(c.value.i, ns);
    case AttrValue::Type::kDouble:
      // Plain decimal text ("1700000000.1234567", zap's "ts") is parsed exactly.
      if (!c.float_token.empty() && ParseEpochText(c.float_token, ns)) return true;
      return EpochNumberToNanos(c.value.d, ns);
    case AttrValue::Type::kBool:
      return false;
  }
  return false;
}

model::Level LevelFromCandidate(const Candidate& c) {
  switch (c.type()) {
    case AttrValue::Type::kString:
      return SafeLevelFromText(c.str());
    case AttrValue::Type::kInt:
      return LevelFromInt(c.value.i);
    case AttrValue::Type::kDouble: {
      const double d = c.value.d;
      if (d >= 0 && d <= 1e6 && d == std::floor(d)) return LevelFromInt(static_cast<int64_t>(d));
      return model::Level::kUnknown;
    }
    case AttrValue::Type::kBool:
      return model::Level::kUnknown;
  }
  return model::Level::kUnknown;
}

// ---------------------------------------------------------------------------------------
// The per-line decoder.

class LineDecoder {
 public:
  explicit LineDecoder(const NdjsonOptions& opts) : opts_(opts) { key_.reserve(256); }

  simdjson::error_code Allocate(size_t capacity) { return parser_.allocate(capacity); }

  // Decodes the JSON object in line[0, len) (with `capacity` readable bytes from `line`, at
  // least len + SIMDJSON_PADDING) into *rec. On failure returns false and sets *why.
  bool Decode(const char* line, size_t len, size_t capacity, model::LogRecord* rec,
              std::string* why);

 private:
  simdjson::error_code FlattenObject(od::object obj, int depth);
  simdjson::error_code FlattenValue(od::value v, int depth);
  simdjson::error_code AppendJson(od::value v, int depth, std::string* out);
  // Adds the leaf at key_: to a candidate slot if key_ is well known, else to attrs_.
  void AddLeaf(std::string_view s);
  void AddLeaf(AttrValue v, std::string_view float_token = {});
  void MapKnownFields(model::LogRecord* rec);

  const NdjsonOptions& opts_;
  const KnownKeyIndex& known_ = KnownKeys();
  od::parser parser_;
  std::string key_;                // dotted path of the value being flattened
  std::vector<Attribute>* attrs_;  // the record's attributes while decoding
  Candidate cand_[kNumFields][kMaxSpellings];
  bool any_cand_ = false;
  size_t attrs_hint_ = 8;  // attribute count of the previous line, for reserve()
};

bool LineDecoder::Decode(const char* line, size_t len, size_t capacity, model::LogRecord* rec,
                         std::string* why) {
  od::document doc;
  simdjson::error_code err = parser_.iterate(line, len, capacity).get(doc);
  od::json_type type{};
  if (!err) err = doc.type().get(type);
  if (!err && type != od::json_type::object) {
    static const char* const kNames[] = {"?",        "an array",  "an object", "a number",
                                         "a string", "a boolean", "null"};
    why->append("found ").append(kNames[static_cast<int>(type)]);
    return false;
  }
  od::object obj;
  if (!err) err = doc.get_object().get(obj);
  key_.clear();
  if (any_cand_) {
    for (auto& group : cand_) {
      for (Candidate& c : group) c.present = false;
    }
    any_cand_ = false;
  }
  attrs_ = &rec->attrs;
  if (attrs_hint_ > 0) attrs_->reserve(attrs_hint_);
  if (!err) err = FlattenObject(obj, 1);
  if (!err) {
    // current_location() fails with OUT_OF_BOUNDS exactly when the object ended the line.
    const char* at = nullptr;
    if (doc.current_location().get(at) == simdjson::SUCCESS) {
      why->append("trailing content after the object");
      return false;
    }
  }
  if (err) {
    why->append(simdjson::error_message(err));
    return false;
  }
  rec->observed_ns = opts_.now_ns;
  model::DedupeAttributes(attrs_);
  if (any_cand_) MapKnownFields(rec);
  if (rec->service.empty()) rec->service = opts_.default_service;
  attrs_hint_ = attrs_->size();
  return true;
}

simdjson::error_code LineDecoder::FlattenObject(od::object obj, int depth) {
  for (auto field_or : obj) {
    od::field field;
    if (auto e = std::move(field_or).get(field)) return e;
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return e;
    const size_t saved = key_.size();
    if (depth > 1) key_.push_back('.');
    key_.append(key);
    simdjson::error_code e = FlattenValue(field.value(), depth);
    key_.resize(saved);
    if (e) return e;
  }
  return simdjson::SUCCESS;
}

void LineDecoder::AddLeaf(std::string_view s) {
  if (const KnownKey* k = known_.Find(key_)) {
    cand_[k->field][k->priority].SetView(s);
    any_cand_ = true;
    return;
  }
  Attribute& a = attrs_->emplace_back();
  a.key = key_;
  a.value.str.assign(s);
}

void LineDecoder::AddLeaf(AttrValue v, std::string_view float_token) {
  if (const KnownKey* k = known_.Find(key_)) {
    cand_[k->field][k->priority].SetValue(std::move(v), float_token);
    any_cand_ = true;
    return;
  }
  attrs_->push_back(Attribute{key_, std::move(v)});
}

simdjson::error_code LineDecoder::FlattenValue(od::value v, int depth) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      if (depth + 1 <= kMaxNdjsonFlattenDepth) {
        od::object obj;
        if (auto e = v.get_object().get(obj)) return e;
        return FlattenObject(obj, depth + 1);
      }
      [[fallthrough]];  // too deep: kept as JSON text, like an array
    }
    case od::json_type::array: {
      AttrValue text = AttrValue::String("");
      if (auto e = AppendJson(v, depth, &text.str)) return e;
      AddLeaf(std::move(text));
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      AddLeaf(s);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      const std::string_view tok = TrimJsonSpace(v.raw_json_token());
      od::number num;
      if (auto e = v.get_number().get(num)) {
        if (e != simdjson::NUMBER_ERROR || !IsBigJsonInteger(tok)) return e;
        double d = 0;
        std::from_chars(tok.data(), tok.data() + tok.size(), d);
        AddLeaf(AttrValue::Double(d));
        return simdjson::SUCCESS;
      }
      switch (num.get_number_type()) {
        case od::number_type::signed_integer:
          AddLeaf(AttrValue::Int(num.get_int64()));
          break;
        case od::number_type::unsigned_integer:
          AddLeaf(AttrValue::Double(static_cast<double>(num.get_uint64())));
          break;
        case od::number_type::floating_point_number:
          AddLeaf(AttrValue::Double(num.get_double()), tok);
          break;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return e;
      AddLeaf(AttrValue::Bool(b));
      return simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

// Appends the compact JSON text of `v` (at nesting `depth`) to *out, validating as it goes.
simdjson::error_code LineDecoder::AppendJson(od::value v, int depth, std::string* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      if (depth + 1 > kMaxNdjsonNestingDepth) return simdjson::DEPTH_ERROR;
      od::object obj;
      if (auto e = v.get_object().get(obj)) return e;
      out->push_back('{');
      bool first = true;
      for (auto field_or : obj) {
        od::field field;
        if (auto e = std::move(field_or).get(field)) return e;
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (!first) out->push_back(',');
        first = false;
        JsonQuote(key, out);
        out->push_back(':');
        if (auto e = AppendJson(field.value(), depth + 1, out)) return e;
      }
      out->push_back('}');
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      if (depth + 1 > kMaxNdjsonNestingDepth) return simdjson::DEPTH_ERROR;
      od::array arr;
      if (auto e = v.get_array().get(arr)) return e;
      out->push_back('[');
      bool first = true;
      for (auto elem_or : arr) {
        od::value elem;
        if (auto e = std::move(elem_or).get(elem)) return e;
        if (!first) out->push_back(',');
        first = false;
        if (auto e = AppendJson(elem, depth + 1, out)) return e;
      }
      out->push_back(']');
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      JsonQuote(s, out);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      const std::string_view tok = TrimJsonSpace(v.raw_json_token());
      od::number num;
      if (auto e = v.get_number().get(num)) {
        if (e != simdjson::NUMBER_ERROR || !IsBigJsonInteger(tok)) return e;
      }
      out->append(tok);
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return e;
      out->append(b ? "true" : "false");
      return simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null;
      if (auto e = v.is_null().get(is_null)) return e;
      if (!is_null) return simdjson::INCORRECT_TYPE;
      out->append("null");
      return simdjson::SUCCESS;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

void LineDecoder::MapKnownFields(model::LogRecord* rec) {
  std::vector<Attribute>& attrs = *attrs_;
  for (int f = 0; f < kNumFields; ++f) {
    bool done = false;
    for (int p = 0; p < kMaxSpellings; ++p) {
      Candidate& c = cand_[f][p];
      if (!c.present) continue;
      bool used = false;
      if (!done) {
        const bool is_string = c.type() == AttrValue::Type::kString;
        switch (static_cast<Field>(f)) {
          case kTime:
            used = TimeFromCandidate(c, &rec->ts_ns);
            break;
          case kLevel: {
            const model::Level level = LevelFromCandidate(c);
            used = level != model::Level::kUnknown;
            if (used) rec->level = level;
            break;
          }
          case kMessage:
            if (c.is_view) {
              rec->body.assign(c.view);
            } else if (is_string) {
              rec->body = std::move(c.value.str);
            } else {
              rec->body = c.value.ToText();
            }
            used = true;
            break;
          case kService:
          case kEnv:
          case kHost:
            if (is_string && !c.str().empty()) {
              std::string& dst = f == kService ? rec->service : f == kEnv ? rec->env : rec->host;
              dst.assign(c.str());
              used = true;
            }
            break;
          case kTrace:
          case kSpan: {
            const AttrValue::Type t = c.type();
            if (t == AttrValue::Type::kBool || t == AttrValue::Type::kDouble) break;
            if (is_string && c.str().empty()) break;
            std::string int_text;
            std::string_view text = c.str();
            if (!is_string) text = int_text = c.value.ToText();
            bool hashed = false;
            if (f == kTrace) {
              rec->trace_id = model::TraceIdFromText(text, &hashed);
            } else {
              rec->span_id = model::SpanIdFromText(text, &hashed);
            }
            if (hashed) {
              SetAttr(&attrs, f == kTrace ? "trace_id.original" : "span_id.original",
                      AttrValue::String(text));
            }
            used = true;
            break;
          }
          case kRequestId:
          case kUserId:
            // Every scalar is usable; stored under the canonical key, as a string.
            attrs.push_back(
                Attribute{f == kRequestId ? "request_id" : "user_id", AttrValue::String(c.Text())});
            used = true;
            break;
          case kNumFields:
            break;
        }
      }
      if (used) {
        done = true;
      } else {
        // A losing or unusable spelling stays an attribute under its own key.
        attrs.push_back(Attribute{std::string(known_.Name(f, p)), c.Take()});
      }
    }
  }
}

bool IsBlank(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
  }
  return true;
}

}  // namespace

bool EpochNumberToNanos(int64_t value, int64_t* ns) {
  if (value <= 0) return false;
  int64_t total;
  if (__builtin_mul_overflow(value, EpochScale(static_cast<double>(value)), &total)) {
    return false;
  }
  *ns = total;
  return true;
}

bool EpochNumberToNanos(double value, int64_t* ns) {
  if (!(value > 0) || !(value < 9223372036854775808.0)) return false;  // also rejects NaN
  // Scale the integer and fractional parts separately: value * scale as one double product
  // would round to the ~256 ns spacing of doubles near 1.7e18.
  const double whole = std::floor(value);
  const int64_t scale = EpochScale(value);
  int64_t total;
  if (__builtin_mul_overflow(static_cast<int64_t>(whole), scale, &total) ||
      __builtin_add_overflow(total, std::llround((value - whole) * static_cast<double>(scale)),
                             &total) ||
      total <= 0) {
    return false;
  }
  *ns = total;
  return true;
}

bool ParseLogTimestamp(std::string_view text, int64_t* ns) {
  if (text.size() >= 5 && IsDigit(text[0]) && text[4] == '-') return ParseRfc3339(text, ns);
  return ParseEpochText(text, ns);
}

Status DecodeNdjson(std::string_view body, const NdjsonOptions& opts, model::LogBatch* out) {
  if (body.empty()) return Status::OK();

  // Pass 1: size the work (line count for reserve, longest line for the parser capacity).
  size_t num_lines = 0, longest = 0;
  for (size_t pos = 0; pos < body.size();) {
    const void* nl = std::memchr(body.data() + pos, '\n', body.size() - pos);
    const size_t end = nl ? static_cast<const char*>(nl) - body.data() : body.size();
    longest = std::max(longest, end - pos);
    ++num_lines;
    pos = end + 1;
  }

  // simdjson needs SIMDJSON_PADDING readable bytes past each line; one padded copy gives
  // every line that (the bytes after a line are the next lines, then zeroed padding).
  const simdjson::padded_string padded(body);
  const char* data = padded.data();
  const size_t size = padded.size();

  LineDecoder decoder(opts);
  if (decoder.Allocate(std::max<size_t>(std::min(longest, kMaxNdjsonLineBytes), 64))) {
    return ResourceExhausted("ndjson: cannot allocate parser buffers");
  }

  const size_t first_record = out->records.size();
  out->records.reserve(first_record + num_lines);
  int64_t accepted = 0, rejected = 0;
  std::string first_reason;
  std::string why;
  size_t line_no = 0;
  for (size_t pos = 0; pos < size;) {
    ++line_no;
    const void* nl = std::memchr(data + pos, '\n', size - pos);
    const size_t end = nl ? static_cast<const char*>(nl) - data : size;
    size_t len = end - pos;
    const size_t start = pos;
    pos = end + 1;
    if (len > 0 && data[start + len - 1] == '\r') --len;
    if (IsBlank(data + start, len)) continue;

    why.clear();
    bool ok = false;
    if (static_cast<size_t>(accepted) >= opts.max_records) {
      out->records.resize(first_record);
      return PayloadTooLarge("ndjson: more than " + std::to_string(opts.max_records) +
                             " records in one request");
    }
    if (len > kMaxNdjsonLineBytes) {
      why = "line longer than " + std::to_string(kMaxNdjsonLineBytes) + " bytes";
    } else {
      model::LogRecord& rec = out->records.emplace_back();
      ok = decoder.Decode(data + start, len, size + simdjson::SIMDJSON_PADDING - start, &rec, &why);
      if (!ok) out->records.pop_back();
    }
    if (ok) {
      ++accepted;
    } else {
      ++rejected;
      if (first_reason.empty()) {
        first_reason = "line " + std::to_string(line_no) + ": not a JSON object: " + why;
      }
    }
  }

  out->rejected += rejected;
  if (!first_reason.empty() && out->reject_reason.empty()) out->reject_reason = first_reason;
  if (accepted == 0 && rejected > 0) {
    return InvalidArgument("ndjson: no valid line (" + std::to_string(rejected) + " rejected); " +
                           first_reason);
  }
  return Status::OK();
}

}  // namespace sightline::ingest
