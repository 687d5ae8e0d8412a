#include "query/log_engine.h"

#include <re2/re2.h>
#include <simdjson.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>
#include <array>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "query/logql_parser.h"
#include "storage/embedded/bloom.h"

namespace sightline::query {
namespace {

using model::LogRecord;
using storage::FieldMatcher;
using storage::LogScanSpec;

// Loki / Grafana spellings of Sightline's built-in fields.
std::string CanonicalField(std::string_view name) {
  if (name == "service_name" || name == "service.name" || name == "app") return "service";
  if (name == "detected_level" || name == "severity") return "level";
  if (name == "environment" || name == "deployment.environment") return "env";
  if (name == "hostname" || name == "host.name") return "host";
  if (name == "traceID" || name == "traceId" || name == "trace.id") return "trace_id";
  if (name == "spanID" || name == "spanId" || name == "span.id") return "span_id";
  return std::string(name);
}

// ---------------------------------------------------------------------------------------
// Number parsing for label filters and unwrap.

bool ParseDouble(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "1h30m", "250ms", "1.5s", "2us" -> seconds.
bool ParseDurationSeconds(std::string_view s, double* out) {
  double total = 0;
  bool any = false;
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return false;
    double v;
    if (std::from_chars(s.data(), s.data() + i, v).ec != std::errc()) return false;
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
                            static_cast<unsigned char>(s[j]) >= 0x80))
      ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    double mul;
    if (unit == "ns") mul = 1e-9;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mul = 1e-6;
    else if (unit == "ms") mul = 1e-3;
    else if (unit == "s" || (unit.empty() && s.empty() && !any)) mul = 1;
    else if (unit == "m") mul = 60;
    else if (unit == "h") mul = 3600;
    else if (unit == "d") mul = 86400;
    else if (unit == "w") mul = 7 * 86400;
    else if (unit == "y") mul = 365 * 86400;
    else return false;
    total += v * mul;
    any = true;
  }
  if (!any) return false;
  *out = neg ? -total : total;
  return true;
}

bool ParseBytes(std::string_view s, double* out) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-')) ++i;
  double v;
  if (i == 0 || std::from_chars(s.data(), s.data() + i, v).ec != std::errc()) return false;
  std::string unit(s.substr(i));
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},       {"B", 1},        {"KB", 1e3},           {"MB", 1e6},
      {"GB", 1e9},   {"TB", 1e12},    {"KIB", 1024.0},       {"MIB", 1048576.0},
      {"GIB", 1073741824.0}, {"TIB", 1099511627776.0}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}};
  for (const auto& [u, m] : kUnits)
    if (unit == u) {
      *out = v * m;
      return true;
    }
  return false;
}

bool ConvertNumber(std::string_view text, NumberKind kind, double* out) {
  switch (kind) {
    case NumberKind::kPlain: return ParseDouble(text, out);
    case NumberKind::kDuration: return ParseDurationSeconds(text, out);
    case NumberKind::kBytes: return ParseBytes(text, out);
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Rows flowing through the residual pipeline.

struct Row {
  LogRecord rec;
  Labels extra;  // parsed fields, later entries win

  std::string Get(const std::string& name) const {
    for (auto it = extra.rbegin(); it != extra.rend(); ++it)
      if (it->first == name) return it->second;
    return storage::FieldText(rec, name);
  }
  void Set(std::string name, std::string value) {
    for (auto& kv : extra)
      if (kv.first == name) {
        kv.second = std::move(value);
        return;
      }
    extra.emplace_back(std::move(name), std::move(value));
  }
};

void FlattenJson(simdjson::dom::element e, std::string& prefix, Row* row, int depth) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      if (depth > 32) return;
      simdjson::dom::object obj;
      if (e.get_object().get(obj)) return;
      for (auto field : obj) {
        size_t n = prefix.size();
        if (!prefix.empty()) prefix += '_';
        for (char c : field.key) prefix += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
        FlattenJson(field.value, prefix, row, depth + 1);
        prefix.resize(n);
      }
      return;
    }
    case element_type::ARRAY: row->Set(prefix, simdjson::minify(e)); return;
    case element_type::STRING: row->Set(prefix, std::string(e.get_string().value_unsafe())); return;
    case element_type::INT64: row->Set(prefix, std::to_string(e.get_int64().value_unsafe())); return;
    case element_type::UINT64: row->Set(prefix, std::to_string(e.get_uint64().value_unsafe())); return;
    case element_type::DOUBLE: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, e.get_double().value_unsafe());
      row->Set(prefix, std::string(buf, r.ptr));
      return;
    }
    case element_type::BOOL: row->Set(prefix, e.get_bool().value_unsafe() ? "true" : "false"); return;
    case element_type::NULL_VALUE: return;
  }
}

void ParseLogfmt(std::string_view s, Row* row, bool keep_empty) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t ks = i;
    while (i < s.size() && s[i] != '=' && s[i] != ' ') ++i;
    std::string key(s.substr(ks, i - ks));
    std::string val;
    if (i < s.size() && s[i] == '=') {
      ++i;
      if (i < s.size() && s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          val += s[i++];
        }
        if (i < s.size()) ++i;
      } else {
        size_t vs = i;
        while (i < s.size() && s[i] != ' ') ++i;
        val = std::string(s.substr(vs, i - vs));
      }
    }
    if (!key.empty() && (keep_empty || !val.empty())) row->Set(key, std::move(val));
  }
}

// Replaces {{.name}} / {{ .name }} in a Go template with field values.
std::string RenderTemplate(const std::string& tmpl, const Row& row) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    size_t close = tmpl.find("}}", open);
    if (close == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, open - i);
    std::string inner = tmpl.substr(open + 2, close - open - 2);
    size_t a = inner.find_first_not_of(' '), b = inner.find_last_not_of(' ');
    inner = a == std::string::npos ? "" : inner.substr(a, b - a + 1);
    if (!inner.empty() && inner[0] == '.') {
      std::string name = inner.substr(1);
      out += name == "line" || name == "__line__" ? row.rec.body : row.Get(CanonicalField(name));
    } else if (inner == "__line__") {
      out += row.rec.body;
    }
    i = close + 2;
  }
  return out;
}

// A pattern expression `<a> - <_> [<b>]` as an RE2 regex with named groups.
std::string PatternToRegex(const std::string& p) {
  std::string re = "^";
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '<') {
      size_t close = p.find('>', i);
      if (close != std::string::npos) {
        std::string name = p.substr(i + 1, close - i - 1);
        bool ident = !name.empty();
        for (char c : name) ident = ident && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
        if (ident) {
          re += name == "_" ? "(?:.*?)" : "(?P<" + name + ">.*?)";
          i = close + 1;
          continue;
        }
      }
    }
    re += RE2::QuoteMeta(std::string_view(&p[i], 1));
    ++i;
  }
  return re + "$";
}

// ---------------------------------------------------------------------------------------
// Compiled residual stages.

struct CompiledStage {
  const Stage* stage = nullptr;
  std::vector<std::unique_ptr<RE2>> res;                  // line regexes / parser regex
  std::unordered_map<const Comparison*, std::unique_ptr<RE2>> cmp_res;
};

void CompileFilterRegexes(const LabelFilterExpr& e, CompiledStage* cs) {
  if (e.kind == LabelFilterExpr::Kind::kLeaf) {
    if (e.cmp.op == CmpOp::kRe || e.cmp.op == CmpOp::kNre)
      cs->cmp_res[&e.cmp] = std::make_unique<RE2>(e.cmp.value);
    return;
  }
  for (const auto& c : e.children) CompileFilterRegexes(c, cs);
}

bool EvalComparison(const Comparison& c, const Row& row, const CompiledStage& cs) {
  std::string v = row.Get(CanonicalField(c.name));
  if (!c.numeric) {
    switch (c.op) {
      case CmpOp::kEq: return v == c.value;
      case CmpOp::kNeq: return v != c.value;
      case CmpOp::kRe: return RE2::FullMatch(v, *cs.cmp_res.at(&c));
      case CmpOp::kNre: return !RE2::FullMatch(v, *cs.cmp_res.at(&c));
      default: return false;
    }
  }
  double x;
  if (!ConvertNumber(v, c.number_kind, &x)) return c.op == CmpOp::kNeq && !v.empty() ? false : false;
  switch (c.op) {
    case CmpOp::kEq: return x == c.number;
    case CmpOp::kNeq: return x != c.number;
    case CmpOp::kGt: return x > c.number;
    case CmpOp::kGe: return x >= c.number;
    case CmpOp::kLt: return x < c.number;
    case CmpOp::kLe: return x <= c.number;
    default: return false;
  }
}

bool EvalFilter(const LabelFilterExpr& e, const Row& row, const CompiledStage& cs) {
  switch (e.kind) {
    case LabelFilterExpr::Kind::kLeaf: return EvalComparison(e.cmp, row, cs);
    case LabelFilterExpr::Kind::kAnd:
      for (const auto& c : e.children)
        if (!EvalFilter(c, row, cs)) return false;
      return true;
    case LabelFilterExpr::Kind::kOr:
      for (const auto& c : e.children)
        if (EvalFilter(c, row, cs)) return true;
      return false;
  }
  return false;
}

struct Pipeline {
  LogScanSpec spec;
  std::vector<CompiledStage> stages;
  bool has_parser = false;

  // Runs the residual stages; false drops the row.
  bool Run(Row* row) const {
    for (const auto& cs : stages) {
      const Stage& st = *cs.stage;
      if (const auto* lf = std::get_if<LineFilter>(&st)) {
        const std::string& line = row->rec.body;
        bool any = false;
        for (size_t i = 0; i < lf->values.size() && !any; ++i) {
          const std::string& v = lf->values[i];
          switch (lf->op) {
            case LineFilterOp::kContains:
            case LineFilterOp::kNotContains: any = line.find(v) != std::string::npos; break;
            case LineFilterOp::kRegex:
            case LineFilterOp::kNotRegex: any = RE2::PartialMatch(line, *cs.res[i]); break;
            case LineFilterOp::kWords: {
              bool all = true;
              for (const auto& w : storage::Tokenize(v)) all = all && storage::ContainsWord(line, w);
              any = all;
              break;
            }
          }
        }
        bool negate = lf->op == LineFilterOp::kNotContains || lf->op == LineFilterOp::kNotRegex;
        if (any == negate) return false;
      } else if (const auto* ps = std::get_if<ParserStage>(&st)) {
        switch (ps->kind) {
          case ParserKind::kJson:
          case ParserKind::kUnpack: {
            thread_local simdjson::dom::parser parser;
            auto doc = parser.parse(row->rec.body);
            if (doc.error() || !doc.value_unsafe().is_object()) break;  // fields already extracted
            if (ps->params.empty()) {
              std::string prefix;
              FlattenJson(doc.value_unsafe(), prefix, row, 0);
            } else {
              Row tmp;
              std::string prefix;
              FlattenJson(doc.value_unsafe(), prefix, &tmp, 0);
              for (const auto& [name, path] : ps->params) {
                std::string key;
                for (char c : path) key += (c == '.' || c == '[') ? '_' : (c == ']' || c == '"') ? '\0' : c;
                key.erase(std::remove(key.begin(), key.end(), '\0'), key.end());
                for (const auto& kv : tmp.extra)
                  if (kv.first == key) row->Set(name, kv.second);
              }
            }
            break;
          }
          case ParserKind::kLogfmt: {
            if (ps->params.empty()) {
              ParseLogfmt(row->rec.body, row, ps->keep_empty);
            } else {
              Row tmp;
              ParseLogfmt(row->rec.body, &tmp, ps->keep_empty);
              for (const auto& [name, key] : ps->params)
                for (const auto& kv : tmp.extra)
                  if (kv.first == key) row->Set(name, kv.second);
            }
            break;
          }
          case ParserKind::kRegexp:
          case ParserKind::kPattern: {
            const RE2& re = *cs.res[0];
            int n = re.NumberOfCapturingGroups();
            std::vector<std::string> groups(n);
            std::vector<RE2::Arg> args(n);
            std::vector<RE2::Arg*> ptrs(n);
            for (int i = 0; i < n; ++i) {
              args[i] = &groups[i];
              ptrs[i] = &args[i];
            }
            if (RE2::PartialMatchN(row->rec.body, re, ptrs.data(), n)) {
              for (const auto& [name, idx] : re.NamedCapturingGroups())
                row->Set(name, std::string(groups[idx - 1]));
            }
            break;
          }
        }
      } else if (const auto* lfs = std::get_if<LabelFilterStage>(&st)) {
        if (!EvalFilter(lfs->expr, *row, cs)) return false;
      } else if (const auto* fmt = std::get_if<LineFormatStage>(&st)) {
        row->rec.body = RenderTemplate(fmt->tmpl, *row);
      } else if (const auto* lab = std::get_if<LabelFormatStage>(&st)) {
        for (const auto& it : lab->items) {
          std::string v = it.is_template ? RenderTemplate(it.src, *row) : row->Get(CanonicalField(it.src));
          row->Set(it.dst, std::move(v));
        }
      } else if (const auto* drop = std::get_if<DropStage>(&st)) {
        auto listed = [&](const std::string& k) {
          return std::find(drop->names.begin(), drop->names.end(), k) != drop->names.end();
        };
        auto keep = [&](const std::string& k) { return drop->keep ? listed(k) : !listed(k); };
        std::erase_if(row->extra, [&](const auto& kv) { return !keep(kv.first); });
        std::erase_if(row->rec.attrs, [&](const model::Attribute& a) { return !keep(a.key); });
      }
    }
    return true;
  }
};

FieldMatcher::Op ToFieldOp(MatchOp op) {
  switch (op) {
    case MatchOp::kEq: return FieldMatcher::Op::kEq;
    case MatchOp::kNeq: return FieldMatcher::Op::kNeq;
    case MatchOp::kRe: return FieldMatcher::Op::kRe;
    case MatchOp::kNre: return FieldMatcher::Op::kNre;
  }
  return FieldMatcher::Op::kEq;
}

FieldMatcher MakeMatcher(std::string field, FieldMatcher::Op op, const std::string& value) {
  FieldMatcher m;
  m.field = CanonicalField(field);
  m.op = op;
  m.value = value;
  if ((m.field == "trace_id" || m.field == "span_id") &&
      (op == FieldMatcher::Op::kEq || op == FieldMatcher::Op::kNeq)) {
    for (auto& c : m.value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (op == FieldMatcher::Op::kRe || op == FieldMatcher::Op::kNre)
    m.re = std::make_shared<RE2>(value);
  return m;
}

// Collects pushable string comparisons of an AND tree of leaves; false if not pushable.
bool CollectPushable(const LabelFilterExpr& e, std::vector<FieldMatcher>* out) {
  if (e.kind == LabelFilterExpr::Kind::kOr) return false;
  if (e.kind == LabelFilterExpr::Kind::kAnd) {
    std::vector<FieldMatcher> tmp;
    for (const auto& c : e.children)
      if (!CollectPushable(c, &tmp)) return false;
    out->insert(out->end(), tmp.begin(), tmp.end());
    return true;
  }
  const Comparison& c = e.cmp;
  if (c.numeric) return false;
  FieldMatcher::Op op;
  switch (c.op) {
    case CmpOp::kEq: op = FieldMatcher::Op::kEq; break;
    case CmpOp::kNeq: op = FieldMatcher::Op::kNeq; break;
    case CmpOp::kRe: op = FieldMatcher::Op::kRe; break;
    case CmpOp::kNre: op = FieldMatcher::Op::kNre; break;
    default: return false;
  }
  if (c.name == "__error__" || c.name == "__error_details__") return false;
  out->push_back(MakeMatcher(c.name, op, c.value));
  return true;
}

Pipeline Compile(const LogQuery& q, int64_t start_ns, int64_t end_ns) {
  Pipeline p;
  p.spec.start_ns = start_ns;
  p.spec.end_ns = end_ns;
  for (const auto& m : q.selector) p.spec.matchers.push_back(MakeMatcher(m.name, ToFieldOp(m.op), m.value));
  bool pushing = true;  // stages before any line-changing or field-producing stage
  for (const auto& st : q.stages) {
    if (pushing) {
      if (const auto* lf = std::get_if<LineFilter>(&st)) {
        if (lf->values.size() == 1 && lf->op == LineFilterOp::kContains) {
          p.spec.contains.push_back(lf->values[0]);
          continue;
        }
        if (lf->values.size() == 1 && lf->op == LineFilterOp::kWords) {
          for (const auto& w : storage::Tokenize(lf->values[0])) p.spec.words.push_back(w);
          continue;
        }
      } else if (const auto* lfs = std::get_if<LabelFilterStage>(&st)) {
        std::vector<FieldMatcher> ms;
        if (CollectPushable(lfs->expr, &ms)) {
          p.spec.matchers.insert(p.spec.matchers.end(), ms.begin(), ms.end());
          continue;
        }
      } else {
        pushing = false;
      }
    }
    CompiledStage cs;
    cs.stage = &st;
    if (const auto* lf = std::get_if<LineFilter>(&st)) {
      if (lf->op == LineFilterOp::kRegex || lf->op == LineFilterOp::kNotRegex)
        for (const auto& v : lf->values) cs.res.push_back(std::make_unique<RE2>(v));
    } else if (const auto* ps = std::get_if<ParserStage>(&st)) {
      p.has_parser = true;
      if (ps->kind == ParserKind::kRegexp) cs.res.push_back(std::make_unique<RE2>(ps->arg));
      if (ps->kind == ParserKind::kPattern) cs.res.push_back(std::make_unique<RE2>(PatternToRegex(ps->arg)));
    } else if (const auto* lfs = std::get_if<LabelFilterStage>(&st)) {
      CompileFilterRegexes(lfs->expr, &cs);
    } else {
      p.has_parser = true;  // format/drop stages change fields
    }
    p.stages.push_back(std::move(cs));
  }
  return p;
}

// Reads blocks [0, n) with up to `threads` threads; fn(i, records) is called concurrently.
// Runs work(i, stats) for i in [0, n) on up to `threads` threads; the first error wins.
Status ParallelFor(size_t n, int threads,
                   const std::function<Status(size_t, storage::ScanStats*)>& work,
                   storage::ScanStats* stats) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto worker = [&] {
    storage::ScanStats local;
    while (true) {
      size_t i = next.fetch_add(1);
      if (i >= n) break;
      Status s = work(i, &local);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first_error.ok()) first_error = s;
        break;
      }
    }
    std::lock_guard<std::mutex> l(mu);
    stats->Add(local);
  };
  int t = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::vector<std::thread> ts;
  for (int i = 1; i < t; ++i) ts.emplace_back(worker);
  worker();
  for (auto& th : ts) th.join();
  return first_error;
}

// Reads blocks in parallel; fn(i, records) is called concurrently.
Status ParallelRead(storage::LogStore* store, const std::vector<storage::BlockRef>& blocks,
                    const LogScanSpec& spec, int threads,
                    const std::function<void(size_t, std::vector<LogRecord>&&)>& fn,
                    storage::ScanStats* stats) {
  return ParallelFor(
      blocks.size(), threads,
      [&](size_t i, storage::ScanStats* st) {
        std::vector<LogRecord> out;
        SL_RETURN_IF_ERROR(store->ReadBlock(blocks[i], spec, &out, st));
        fn(i, std::move(out));
        return Status::OK();
      },
      stats);
}

uint64_t LineHash(const LogRecord& r) {
  uint64_t seed = XXH3_64bits(r.service.data(), r.service.size());
  seed ^= XXH3_64bits(r.span_id.bytes.data(), 8) * 0x9E3779B97F4A7C15ull;
  return XXH3_64bits_withSeed(r.body.data(), r.body.size(), seed);
}

struct OrderKey {
  int64_t ts;
  uint64_t h;
  bool operator<(const OrderKey& o) const { return ts != o.ts ? ts < o.ts : h < o.h; }
};

bool ParseCursor(const std::string& c, OrderKey* k) {
  size_t dash = c.find('-', 1);
  if (dash == std::string::npos) return false;
  auto r1 = std::from_chars(c.data(), c.data() + dash, k->ts);
  auto r2 = std::from_chars(c.data() + dash + 1, c.data() + c.size(), k->h, 16);
  return r1.ec == std::errc() && r2.ec == std::errc() && r2.ptr == c.data() + c.size();
}

std::string FormatCursor(const OrderKey& k) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%lld-%llx", static_cast<long long>(k.ts),
                        static_cast<unsigned long long>(k.h));
  return std::string(buf, n);
}

StatusOr<QueryResult> RunLogQuery(storage::LogStore* store, int threads, const LogQuery& q,
                                  const LogQueryRequest& req) {
  QueryResult res;
  res.type = QueryResult::Type::kStreams;
  const bool backward = req.direction == Direction::kBackward;
  std::optional<OrderKey> cursor;
  int64_t start = req.start_ns, end = req.end_ns;
  if (!req.cursor.empty()) {
    OrderKey k;
    if (!ParseCursor(req.cursor, &k)) return InvalidArgument("malformed cursor");
    cursor = k;
    if (backward) end = std::min(end, k.ts + 1);
    else start = std::max(start, k.ts);
  }
  Pipeline p = Compile(q, start, end);
  std::vector<storage::BlockRef> blocks;
  SL_RETURN_IF_ERROR(store->PlanScan(p.spec, &blocks, &res.stats));
  std::sort(blocks.begin(), blocks.end(), [&](const auto& a, const auto& b) {
    return backward ? a.max_ts > b.max_ts : a.min_ts < b.min_ts;
  });
  const size_t limit = std::max<size_t>(1, req.limit);
  const size_t keep = limit + 1;  // one extra line tells whether another page exists
  // Best `limit` lines so far: for backward, the largest keys. Kept sorted in `top`.
  std::vector<std::pair<OrderKey, LogLine>> top;
  std::mutex mu;
  auto better = [&](const OrderKey& a, const OrderKey& b) { return backward ? b < a : a < b; };
  auto admit = [&](size_t, std::vector<LogRecord>&& recs) {
    std::vector<std::pair<OrderKey, LogLine>> mine;
    for (auto& r : recs) {
      OrderKey k{r.ts_ns, LineHash(r)};
      if (cursor && !(backward ? k < *cursor : *cursor < k)) continue;
      Row row{std::move(r), {}};
      if (!p.Run(&row)) continue;
      mine.push_back({k, LogLine{std::move(row.rec), std::move(row.extra)}});
    }
    if (mine.empty()) return;
    std::lock_guard<std::mutex> l(mu);
    for (auto& m : mine) top.push_back(std::move(m));
    std::sort(top.begin(), top.end(), [&](const auto& a, const auto& b) { return better(a.first, b.first); });
    if (top.size() > keep) top.resize(keep);
  };
  // Read in waves of blocks ordered by time; stop when no remaining block can beat the
  // current limit-th line.
  const size_t wave = static_cast<size_t>(std::max(2, threads * 2));
  for (size_t i = 0; i < blocks.size(); i += wave) {
    if (top.size() >= keep) {
      const OrderKey& worst = top.back().first;
      const auto& nb = blocks[i];
      if (backward ? nb.max_ts < worst.ts : nb.min_ts > worst.ts) break;
    }
    std::vector<storage::BlockRef> chunk(blocks.begin() + i,
                                         blocks.begin() + std::min(blocks.size(), i + wave));
    SL_RETURN_IF_ERROR(ParallelRead(store, chunk, p.spec, threads, admit, &res.stats));
  }
  if (top.size() > limit) {
    top.resize(limit);
    res.next_cursor = FormatCursor(top.back().first);
  }
  for (auto& t : top) res.lines.push_back(std::move(t.second));
  return res;
}

// ---------------------------------------------------------------------------------------
// Metric queries.

std::string LabelsKey(const Labels& l) {
  std::string k;
  for (const auto& [a, b] : l) {
    k += a;
    k += '\x01';
    k += b;
    k += '\x02';
  }
  return k;
}

Labels BaseAndParsed(const Row& row) {
  Labels l = BaseLabels(row.rec);
  for (const auto& kv : row.extra)
    if (!kv.second.empty()) l.push_back(kv);
  std::sort(l.begin(), l.end());
  l.erase(std::unique(l.begin(), l.end(), [](const auto& a, const auto& b) { return a.first == b.first; }), l.end());
  return l;
}

Labels Group(const Labels& full, const std::vector<std::string>& names, bool without) {
  Labels out;
  for (const auto& kv : full) {
    bool listed = std::find(names.begin(), names.end(), kv.first) != names.end();
    if (listed != without) out.push_back(kv);
  }
  return out;
}

struct EvalCtx {
  storage::LogStore* store;
  int threads;
  std::vector<int64_t> steps;
  storage::ScanStats* stats;
  // Field names an enclosing `by (...)` groups on: range aggregations add them to their
  // series labels, so `sum by (user_id) (count_over_time(...))` works for any field.
  std::vector<std::string> wanted;
  // Set by `sum by (names) (<range agg without grouping>)` when the range function is
  // additive: the range aggregation may group by `names` directly (same result, far fewer
  // series to build).
  const std::vector<std::string>* collapse_to = nullptr;
};

// A step-aligned value set: series with values at each step (NaN = absent).
struct Value {
  bool scalar = false;
  std::vector<Labels> labels;
  std::vector<std::vector<double>> vals;  // [series][step]
};

constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

StatusOr<Value> Eval(const MetricExpr& e, const EvalCtx& ctx);

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return kAbsent;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(v.begin(), v.end());
  double rank = q * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank)), hi = static_cast<size_t>(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

bool Additive(RangeFn fn) {
  return fn == RangeFn::kCountOverTime || fn == RangeFn::kRate || fn == RangeFn::kBytesOverTime ||
         fn == RangeFn::kBytesRate || fn == RangeFn::kSumOverTime;
}

StatusOr<Value> EvalRange(const RangeAgg& ra_in, const EvalCtx& ctx) {
  const RangeAgg* rap = &ra_in;
  RangeAgg collapsed;
  if (ctx.collapse_to && !ra_in.has_grouping && Additive(ra_in.fn)) {
    collapsed.fn = ra_in.fn;
    collapsed.query = ra_in.query;
    collapsed.range_ns = ra_in.range_ns;
    collapsed.offset_ns = ra_in.offset_ns;
    collapsed.unwrap = ra_in.unwrap;
    collapsed.unwrap_conv = ra_in.unwrap_conv;
    for (const auto& f : ra_in.unwrap_filters) collapsed.unwrap_filters.push_back(f);
    collapsed.param = ra_in.param;
    collapsed.grouping = *ctx.collapse_to;
    collapsed.has_grouping = true;
    rap = &collapsed;
  }
  const RangeAgg& ra = *rap;
  const int64_t first = ctx.steps.front() - ra.offset_ns - ra.range_ns;
  const int64_t last = ctx.steps.back() - ra.offset_ns;
  Pipeline p = Compile(ra.query, first + 1, last + 1);  // windows are (t-range, t]
  std::vector<CompiledStage> unwrap_stages;
  for (const auto& uf : ra.unwrap_filters) {
    CompiledStage cs;
    cs.stage = nullptr;
    CompileFilterRegexes(uf.expr, &cs);
    unwrap_stages.push_back(std::move(cs));
  }
  bool need_rows = p.has_parser || !p.stages.empty() || ra.unwrap.has_value();
  bool group_builtin = true;
  std::vector<std::string> names = ra.grouping;
  names.insert(names.end(), ctx.wanted.begin(), ctx.wanted.end());
  for (const auto& g : names) {
    std::string c = CanonicalField(g);
    group_builtin = group_builtin && (c == "service" || c == "level" || c == "env" || c == "host");
  }
  p.spec.need_body = need_rows || ra.fn == RangeFn::kBytesOverTime || ra.fn == RangeFn::kBytesRate ||
                     !group_builtin;
  p.spec.need_attrs = need_rows || !group_builtin;
  p.spec.need_ids = need_rows || !group_builtin;
  std::vector<storage::BlockRef> blocks;
  SL_RETURN_IF_ERROR(ctx.store->PlanScan(p.spec, &blocks, ctx.stats));

  // Columnar path for counts grouped by built-in fields: the store returns (time, group key)
  // per row without materializing records, and counts per step come from a difference array
  // (each row adds 1 to the steps whose window (t-range, t] holds it).
  if (p.stages.empty() && !ra.unwrap && group_builtin && !ra.without &&
      (ra.fn == RangeFn::kCountOverTime || ra.fn == RangeFn::kRate)) {
    uint8_t mask = 0;
    if (!ra.has_grouping) {
      mask = storage::kKeyService | storage::kKeyLevel | storage::kKeyEnv | storage::kKeyHost;
    } else {
      for (const auto& g : ra.grouping) {
        std::string c = CanonicalField(g);
        mask |= c == "service" ? storage::kKeyService : c == "level" ? storage::kKeyLevel
                : c == "env"   ? storage::kKeyEnv     : storage::kKeyHost;
      }
    }
    std::vector<storage::KeyedRows> parts(blocks.size());
    SL_RETURN_IF_ERROR(ParallelFor(
        blocks.size(), ctx.threads,
        [&](size_t i, storage::ScanStats* st) {
          return ctx.store->ReadBlockKeys(blocks[i], p.spec, mask, &parts[i], st);
        },
        ctx.stats));
    const size_t nsteps = ctx.steps.size();
    const int64_t start = ctx.steps.front();
    const int64_t step = nsteps > 1 ? ctx.steps[1] - ctx.steps[0] : 1;
    std::map<std::array<std::string, 4>, std::vector<double>> diff;  // key -> nsteps+1
    for (const auto& kr : parts) {
      std::vector<std::vector<double>*> slot(kr.keys.size());
      for (size_t k = 0; k < kr.keys.size(); ++k) {
        auto& d = diff[kr.keys[k]];
        if (d.empty()) d.assign(nsteps + 1, 0.0);
        slot[k] = &d;
      }
      for (size_t r = 0; r < kr.ts.size(); ++r) {
        // Steps t_k = start + k*step with ts <= t_k - offset < ts + range.
        const int64_t lo = kr.ts[r] + ra.offset_ns - start;
        const int64_t hi = lo + ra.range_ns;  // exclusive
        int64_t k0 = lo <= 0 ? 0 : (lo + step - 1) / step;
        int64_t k1 = hi <= 0 ? -1 : (hi - 1) / step;  // last k with k*step < hi
        if (k1 >= static_cast<int64_t>(nsteps)) k1 = static_cast<int64_t>(nsteps) - 1;
        if (k0 > k1) continue;
        (*slot[kr.key[r]])[k0] += 1;
        (*slot[kr.key[r]])[k1 + 1] -= 1;
      }
    }
    Value out;
    const double range_s = static_cast<double>(ra.range_ns) / 1e9;
    for (auto& [key, d] : diff) {
      std::vector<double> vals(nsteps, kAbsent);
      double run = 0;
      bool any = false;
      for (size_t k = 0; k < nsteps; ++k) {
        run += d[k];
        if (run > 0.5) {
          vals[k] = ra.fn == RangeFn::kRate ? run / range_s : run;
          any = true;
        }
      }
      if (!any) continue;
      Labels l;
      static const char* kNames[4] = {"service", "level", "env", "host"};
      for (int f = 0; f < 4; ++f)
        if (!key[f].empty()) l.emplace_back(kNames[f], key[f]);
      std::sort(l.begin(), l.end());
      out.labels.push_back(std::move(l));
      out.vals.push_back(std::move(vals));
    }
    if (out.labels.size() > LogQueryEngine::kMaxSeries)
      return InvalidArgument("query matches more than " + std::to_string(LogQueryEngine::kMaxSeries) +
                             " series; add a grouping (sum by (...)) or narrow the selector");
    return out;
  }

  struct Acc {
    Labels labels;
    std::vector<std::pair<int64_t, double>> samples;
  };
  std::mutex mu;
  std::unordered_map<std::string, Acc> series;
  Status err;
  // Fast path: with no residual stages the series of a row depends only on its built-in
  // fields, and rows arrive sorted by service, so consecutive rows usually share a series:
  // compare with the previous row before building labels (measured: label building and
  // hashing per row was most of a count-by-service query).
  const bool builtin_only = p.stages.empty() && !ra.unwrap && group_builtin;
  // Which built-in fields decide the series: all four, or only the grouped ones.
  bool key_svc = true, key_lvl = true, key_env = true, key_host = true;
  if (ra.has_grouping && !ra.without) {
    key_svc = key_lvl = key_env = key_host = false;
    for (const auto& g : names) {
      std::string c = CanonicalField(g);
      key_svc |= c == "service";
      key_lvl |= c == "level";
      key_env |= c == "env";
      key_host |= c == "host";
    }
  }
  auto fn = [&](size_t, std::vector<LogRecord>&& recs) {
    std::unordered_map<std::string, Acc> local;
    const LogRecord* prev = nullptr;
    Acc* prev_acc = nullptr;
    for (auto& r : recs) {
      if (builtin_only && prev && (!key_lvl || prev->level == r.level) &&
          (!key_svc || prev->service == r.service) && (!key_env || prev->env == r.env) &&
          (!key_host || prev->host == r.host)) {
        double v = (ra.fn == RangeFn::kBytesOverTime || ra.fn == RangeFn::kBytesRate)
                       ? static_cast<double>(r.body.size())
                       : 1.0;
        prev_acc->samples.emplace_back(r.ts_ns, v);
        prev = &r;
        continue;
      }
      Row row{std::move(r), {}};
      if (!p.Run(&row)) continue;
      double v = 1;
      if (ra.fn == RangeFn::kBytesOverTime || ra.fn == RangeFn::kBytesRate) v = static_cast<double>(row.rec.body.size());
      if (ra.unwrap) {
        std::string text = row.Get(CanonicalField(*ra.unwrap));
        NumberKind kind = ra.unwrap_conv == UnwrapConv::kDuration ? NumberKind::kDuration
                          : ra.unwrap_conv == UnwrapConv::kBytes ? NumberKind::kBytes
                                                                 : NumberKind::kPlain;
        if (!ConvertNumber(text, kind, &v)) continue;  // Loki marks these __error__; we skip
        bool ok = true;
        for (size_t i = 0; i < unwrap_stages.size() && ok; ++i)
          ok = EvalFilter(ra.unwrap_filters[i].expr, row, unwrap_stages[i]);
        if (!ok) continue;
      }
      Labels full = BaseAndParsed(row);
      bool added = false;
      for (const auto& w : ctx.wanted) {
        if (std::any_of(full.begin(), full.end(), [&](const auto& kv) { return kv.first == w; })) continue;
        std::string v = row.Get(CanonicalField(w));
        if (!v.empty()) {
          full.emplace_back(w, std::move(v));
          added = true;
        }
      }
      if (ra.has_grouping && !ra.without) {
        for (const auto& g : ra.grouping) {
          if (std::any_of(full.begin(), full.end(), [&](const auto& kv) { return kv.first == g; })) continue;
          std::string v = row.Get(CanonicalField(g));
          if (!v.empty()) {
            full.emplace_back(g, std::move(v));
            added = true;
          }
        }
      }
      if (added) std::sort(full.begin(), full.end());
      if (ra.unwrap) std::erase_if(full, [&](const auto& kv) { return kv.first == *ra.unwrap; });
      Labels l = ra.has_grouping ? Group(full, ra.grouping, ra.without) : full;
      std::string key = LabelsKey(l);
      auto& acc = local[key];
      if (acc.samples.empty()) acc.labels = l;
      acc.samples.emplace_back(row.rec.ts_ns, v);
      if (builtin_only) {
        r = std::move(row.rec);  // keep the row for the comparison with the next one
        prev = &r;
        prev_acc = &acc;
      }
    }
    std::lock_guard<std::mutex> lk(mu);
    for (auto& [k, a] : local) {
      auto& dst = series[k];
      if (dst.samples.empty()) dst.labels = std::move(a.labels);
      dst.samples.insert(dst.samples.end(), a.samples.begin(), a.samples.end());
    }
  };
  SL_RETURN_IF_ERROR(ParallelRead(ctx.store, blocks, p.spec, ctx.threads, fn, ctx.stats));
  if (series.size() > LogQueryEngine::kMaxSeries)
    return InvalidArgument("query matches more than " + std::to_string(LogQueryEngine::kMaxSeries) +
                             " series; add a grouping (sum by (...)) or narrow the selector");
  Value out;
  const double range_s = static_cast<double>(ra.range_ns) / 1e9;
  for (auto& [k, acc] : series) {
    auto& s = acc.samples;
    std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<double> vals(ctx.steps.size(), kAbsent);
    size_t lo = 0, hi = 0;
    bool any = false;
    for (size_t i = 0; i < ctx.steps.size(); ++i) {
      const int64_t wend = ctx.steps[i] - ra.offset_ns, wstart = wend - ra.range_ns;
      while (lo < s.size() && s[lo].first <= wstart) ++lo;
      if (hi < lo) hi = lo;
      while (hi < s.size() && s[hi].first <= wend) ++hi;
      if (hi == lo) continue;
      double sum = 0, mn = INFINITY, mx = -INFINITY;
      for (size_t j = lo; j < hi; ++j) {
        sum += s[j].second;
        mn = std::min(mn, s[j].second);
        mx = std::max(mx, s[j].second);
      }
      const double n = static_cast<double>(hi - lo);
      double v = 0;
      switch (ra.fn) {
        case RangeFn::kCountOverTime: v = n; break;
        case RangeFn::kRate: v = (ra.unwrap ? sum : n) / range_s; break;
        case RangeFn::kBytesOverTime: v = sum; break;
        case RangeFn::kBytesRate: v = sum / range_s; break;
        case RangeFn::kSumOverTime: v = sum; break;
        case RangeFn::kAvgOverTime: v = sum / n; break;
        case RangeFn::kMinOverTime: v = mn; break;
        case RangeFn::kMaxOverTime: v = mx; break;
        case RangeFn::kFirstOverTime: v = s[lo].second; break;
        case RangeFn::kLastOverTime: v = s[hi - 1].second; break;
        case RangeFn::kStddevOverTime:
        case RangeFn::kStdvarOverTime: {
          double mean = sum / n, acc2 = 0;
          for (size_t j = lo; j < hi; ++j) acc2 += (s[j].second - mean) * (s[j].second - mean);
          v = acc2 / n;
          if (ra.fn == RangeFn::kStddevOverTime) v = std::sqrt(v);
          break;
        }
        case RangeFn::kQuantileOverTime: {
          std::vector<double> w;
          for (size_t j = lo; j < hi; ++j) w.push_back(s[j].second);
          v = Quantile(std::move(w), ra.param);
          break;
        }
        case RangeFn::kRateCounter: {
          double inc = 0;
          for (size_t j = lo + 1; j < hi; ++j) {
            double d = s[j].second - s[j - 1].second;
            inc += d >= 0 ? d : s[j].second;
          }
          v = inc / range_s;
          break;
        }
        case RangeFn::kAbsentOverTime: continue;
      }
      vals[i] = v;
      any = true;
    }
    if (!any) continue;
    out.labels.push_back(acc.labels);
    out.vals.push_back(std::move(vals));
  }
  if (ra.fn == RangeFn::kAbsentOverTime) {
    // 1 at steps where no series had a sample.
    std::vector<double> vals(ctx.steps.size(), 1.0);
    for (auto& [k, acc] : series) {
      for (size_t i = 0; i < ctx.steps.size(); ++i) {
        const int64_t wend = ctx.steps[i] - ra.offset_ns, wstart = wend - ra.range_ns;
        for (const auto& sm : acc.samples)
          if (sm.first > wstart && sm.first <= wend) {
            vals[i] = kAbsent;
            break;
          }
      }
    }
    Value a;
    Labels l;
    for (const auto& m : ra.query.selector)
      if (m.op == MatchOp::kEq) l.emplace_back(m.name, m.value);
    std::sort(l.begin(), l.end());
    a.labels.push_back(l);
    a.vals.push_back(std::move(vals));
    return a;
  }
  return out;
}

StatusOr<Value> EvalVectorAgg(const VectorAgg& va, const EvalCtx& outer) {
  EvalCtx ctx = outer;
  ctx.collapse_to = nullptr;
  if (va.has_grouping && !va.without)
    ctx.wanted.insert(ctx.wanted.end(), va.grouping.begin(), va.grouping.end());
  if (va.op == VecOp::kSum && va.has_grouping && !va.without &&
      std::holds_alternative<RangeAgg>(va.inner->node))
    ctx.collapse_to = &va.grouping;
  SL_ASSIGN_OR_RETURN(Value in, Eval(*va.inner, ctx));
  const size_t nsteps = ctx.steps.size();
  Value out;
  if (va.op == VecOp::kSort || va.op == VecOp::kSortDesc) return in;  // order is per step
  if (va.op == VecOp::kTopk || va.op == VecOp::kBottomk) {
    const size_t k = static_cast<size_t>(va.param);
    std::map<std::string, std::vector<size_t>> groups;
    for (size_t i = 0; i < in.labels.size(); ++i)
      groups[LabelsKey(Group(in.labels[i], va.grouping, va.without || !va.has_grouping ? va.without : false))]
          .push_back(i);
    if (!va.has_grouping) {
      groups.clear();
      for (size_t i = 0; i < in.labels.size(); ++i) groups[""].push_back(i);
    }
    std::vector<std::vector<double>> vals(in.labels.size(), std::vector<double>(nsteps, kAbsent));
    for (const auto& [g, idx] : groups) {
      for (size_t t = 0; t < nsteps; ++t) {
        std::vector<size_t> present;
        for (size_t i : idx)
          if (!std::isnan(in.vals[i][t])) present.push_back(i);
        std::sort(present.begin(), present.end(), [&](size_t a, size_t b) {
          return va.op == VecOp::kTopk ? in.vals[a][t] > in.vals[b][t] : in.vals[a][t] < in.vals[b][t];
        });
        for (size_t j = 0; j < present.size() && j < k; ++j) vals[present[j]][t] = in.vals[present[j]][t];
      }
    }
    for (size_t i = 0; i < in.labels.size(); ++i) {
      bool any = std::any_of(vals[i].begin(), vals[i].end(), [](double v) { return !std::isnan(v); });
      if (!any) continue;
      out.labels.push_back(in.labels[i]);
      out.vals.push_back(std::move(vals[i]));
    }
    return out;
  }
  std::map<std::string, size_t> index;
  std::vector<std::vector<std::vector<double>>> members;  // [group][step] -> values
  for (size_t i = 0; i < in.labels.size(); ++i) {
    Labels g = va.has_grouping ? Group(in.labels[i], va.grouping, va.without) : Labels{};
    auto [it, inserted] = index.emplace(LabelsKey(g), out.labels.size());
    if (inserted) {
      out.labels.push_back(g);
      members.emplace_back(nsteps);
    }
    for (size_t t = 0; t < nsteps; ++t)
      if (!std::isnan(in.vals[i][t])) members[it->second][t].push_back(in.vals[i][t]);
  }
  for (auto& m : members) {
    std::vector<double> vals(nsteps, kAbsent);
    for (size_t t = 0; t < nsteps; ++t) {
      const auto& v = m[t];
      if (v.empty()) continue;
      double sum = 0, mn = INFINITY, mx = -INFINITY;
      for (double x : v) {
        sum += x;
        mn = std::min(mn, x);
        mx = std::max(mx, x);
      }
      double n = static_cast<double>(v.size()), r = 0;
      switch (va.op) {
        case VecOp::kSum: r = sum; break;
        case VecOp::kAvg: r = sum / n; break;
        case VecOp::kMin: r = mn; break;
        case VecOp::kMax: r = mx; break;
        case VecOp::kCount: r = n; break;
        case VecOp::kStddev:
        case VecOp::kStdvar: {
          double mean = sum / n, a = 0;
          for (double x : v) a += (x - mean) * (x - mean);
          r = a / n;
          if (va.op == VecOp::kStddev) r = std::sqrt(r);
          break;
        }
        default: break;
      }
      vals[t] = r;
    }
    out.vals.push_back(std::move(vals));
  }
  return out;
}

double ApplyBin(BinOp op, double a, double b, bool* keep, bool return_bool) {
  *keep = true;
  auto cmp = [&](bool c) {
    if (return_bool) return c ? 1.0 : 0.0;
    *keep = c;
    return a;
  };
  switch (op) {
    case BinOp::kAdd: return a + b;
    case BinOp::kSub: return a - b;
    case BinOp::kMul: return a * b;
    case BinOp::kDiv: return a / b;
    case BinOp::kMod: return std::fmod(a, b);
    case BinOp::kPow: return std::pow(a, b);
    case BinOp::kEq: return cmp(a == b);
    case BinOp::kNeq: return cmp(a != b);
    case BinOp::kGt: return cmp(a > b);
    case BinOp::kGe: return cmp(a >= b);
    case BinOp::kLt: return cmp(a < b);
    case BinOp::kLe: return cmp(a <= b);
    default: return a;
  }
}

Labels MatchKey(const Labels& l, const std::optional<VectorMatching>& m) {
  if (!m) return l;
  return Group(l, m->labels, !m->on);
}

StatusOr<Value> EvalBinary(const BinaryExpr& be, const EvalCtx& outer) {
  EvalCtx ctx = outer;
  ctx.collapse_to = nullptr;
  SL_ASSIGN_OR_RETURN(Value a, Eval(*be.lhs, ctx));
  SL_ASSIGN_OR_RETURN(Value b, Eval(*be.rhs, ctx));
  const size_t nsteps = ctx.steps.size();
  const bool is_cmp = be.op == BinOp::kEq || be.op == BinOp::kNeq || be.op == BinOp::kGt ||
                      be.op == BinOp::kGe || be.op == BinOp::kLt || be.op == BinOp::kLe;
  Value out;
  out.scalar = a.scalar && b.scalar;
  if (be.op == BinOp::kAnd || be.op == BinOp::kOr || be.op == BinOp::kUnless) {
    std::map<std::string, size_t> bi;
    for (size_t j = 0; j < b.labels.size(); ++j) bi[LabelsKey(MatchKey(b.labels[j], be.matching))] = j;
    std::set<std::string> seen;
    for (size_t i = 0; i < a.labels.size(); ++i) {
      auto it = bi.find(LabelsKey(MatchKey(a.labels[i], be.matching)));
      std::vector<double> v(nsteps, kAbsent);
      for (size_t t = 0; t < nsteps; ++t) {
        bool other = it != bi.end() && !std::isnan(b.vals[it->second][t]);
        if (be.op == BinOp::kAnd ? other : be.op == BinOp::kUnless ? !other : true) v[t] = a.vals[i][t];
      }
      out.labels.push_back(a.labels[i]);
      out.vals.push_back(std::move(v));
      seen.insert(LabelsKey(MatchKey(a.labels[i], be.matching)));
    }
    if (be.op == BinOp::kOr) {
      for (size_t j = 0; j < b.labels.size(); ++j) {
        if (seen.count(LabelsKey(MatchKey(b.labels[j], be.matching)))) continue;
        out.labels.push_back(b.labels[j]);
        out.vals.push_back(b.vals[j]);
      }
    }
    return out;
  }
  auto combine = [&](const std::vector<double>& x, const std::vector<double>& y, bool lhs_vec,
                     std::vector<double>* r) {
    r->assign(nsteps, kAbsent);
    for (size_t t = 0; t < nsteps; ++t) {
      if (std::isnan(x[t]) || std::isnan(y[t])) continue;
      bool keep;
      double v = ApplyBin(be.op, x[t], y[t], &keep, be.return_bool || out.scalar);
      if (is_cmp && !keep) continue;
      if (is_cmp && !be.return_bool && !lhs_vec) v = y[t];  // scalar op vector keeps vector value
      (*r)[t] = v;
    }
  };
  if (a.scalar || b.scalar) {
    const Value& vec = a.scalar ? b : a;
    const Value& sc = a.scalar ? a : b;
    for (size_t i = 0; i < vec.labels.size(); ++i) {
      std::vector<double> r;
      if (a.scalar) combine(sc.vals[0], vec.vals[i], false, &r);
      else combine(vec.vals[i], sc.vals[0], true, &r);
      if (std::all_of(r.begin(), r.end(), [](double v) { return std::isnan(v); })) continue;
      Labels l = vec.labels[i];
      if (!is_cmp || be.return_bool) std::erase_if(l, [](const auto& kv) { return kv.first == "__name__"; });
      out.labels.push_back(l);
      out.vals.push_back(std::move(r));
    }
    if (out.scalar && out.labels.empty()) {
      out.labels.push_back({});
      std::vector<double> r;
      combine(a.vals[0], b.vals[0], true, &r);
      out.vals.push_back(std::move(r));
    }
    return out;
  }
  std::map<std::string, size_t> bi;
  for (size_t j = 0; j < b.labels.size(); ++j) bi[LabelsKey(MatchKey(b.labels[j], be.matching))] = j;
  for (size_t i = 0; i < a.labels.size(); ++i) {
    Labels key = MatchKey(a.labels[i], be.matching);
    auto it = bi.find(LabelsKey(key));
    if (it == bi.end()) continue;
    std::vector<double> r;
    combine(a.vals[i], b.vals[it->second], true, &r);
    if (std::all_of(r.begin(), r.end(), [](double v) { return std::isnan(v); })) continue;
    out.labels.push_back(be.matching && be.matching->card == VectorMatching::Card::kOneToOne ? key : a.labels[i]);
    out.vals.push_back(std::move(r));
  }
  return out;
}

StatusOr<Value> Eval(const MetricExpr& e, const EvalCtx& ctx) {
  if (const auto* ra = std::get_if<RangeAgg>(&e.node)) return EvalRange(*ra, ctx);
  if (const auto* va = std::get_if<VectorAgg>(&e.node)) return EvalVectorAgg(*va, ctx);
  if (const auto* be = std::get_if<BinaryExpr>(&e.node)) return EvalBinary(*be, ctx);
  Value v;
  if (const auto* lit = std::get_if<Literal>(&e.node)) {
    v.scalar = true;
    v.labels.push_back({});
    v.vals.push_back(std::vector<double>(ctx.steps.size(), lit->value));
    return v;
  }
  const auto& vl = std::get<VectorLit>(e.node);
  v.labels.push_back({});
  v.vals.push_back(std::vector<double>(ctx.steps.size(), vl.value));
  return v;
}

}  // namespace

Labels BaseLabels(const model::LogRecord& r) {
  Labels l;
  if (!r.env.empty()) l.emplace_back("env", r.env);
  if (!r.host.empty()) l.emplace_back("host", r.host);
  l.emplace_back("level", std::string(model::LevelName(r.level)));
  if (!r.service.empty()) l.emplace_back("service", r.service);
  return l;
}

LogQueryEngine::LogQueryEngine(storage::LogStore* store, int threads)
    : store_(store), threads_(std::max(1, threads)) {}

StatusOr<QueryResult> LogQueryEngine::Query(const LogQueryRequest& req) const {
  SL_ASSIGN_OR_RETURN(Expr expr, ParseLogQL(req.query));
  if (req.end_ns < req.start_ns) return InvalidArgument("end is before start");
  if (!expr.is_metric()) {
    if (req.instant) {
      LogQueryRequest r = req;
      return RunLogQuery(store_, threads_, expr.log(), r);
    }
    return RunLogQuery(store_, threads_, expr.log(), req);
  }
  QueryResult res;
  EvalCtx ctx{store_, threads_, {}, &res.stats, {}};
  if (req.instant) {
    ctx.steps.push_back(req.end_ns);
    res.type = QueryResult::Type::kVector;
  } else {
    int64_t step = req.step_ns;
    if (step <= 0) step = std::max<int64_t>(1'000'000'000, (req.end_ns - req.start_ns) / 250);
    if ((req.end_ns - req.start_ns) / step + 1 > kMaxPoints)
      return InvalidArgument("exceeded maximum resolution of " + std::to_string(kMaxPoints) +
                             " points per series; use a larger step");
    for (int64_t t = req.start_ns; t <= req.end_ns; t += step) ctx.steps.push_back(t);
    res.type = QueryResult::Type::kMatrix;
    res.step_ns = step;
  }
  SL_ASSIGN_OR_RETURN(Value v, Eval(expr.metric(), ctx));
  if (v.scalar) res.type = req.instant ? QueryResult::Type::kScalar : QueryResult::Type::kMatrix;
  for (size_t i = 0; i < v.labels.size(); ++i) {
    Series s;
    s.labels = v.labels[i];
    for (size_t t = 0; t < ctx.steps.size(); ++t)
      if (!std::isnan(v.vals[i][t])) s.points.emplace_back(ctx.steps[t], v.vals[i][t]);
    if (!s.points.empty() || v.scalar) res.series.push_back(std::move(s));
  }
  std::sort(res.series.begin(), res.series.end(),
            [](const Series& a, const Series& b) { return a.labels < b.labels; });
  return res;
}

}  // namespace sightline::query
