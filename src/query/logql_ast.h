// The typed syntax tree of a LogQL query (Grafana Loki's query language plus the Sightline
// extensions described in docs/query-language.md).
//
// ParseLogQL (query/logql_parser.h) produces an Expr; FormatExpr turns it back into canonical
// LogQL text. The tree is plain data: no validation state, no compiled regexes. Everything the
// parser accepted has already been checked (regexes compile with RE2, durations are positive,
// unwrap is only present where allowed, ...), so an executor may rely on those invariants.
//
// Ownership: log-query parts (LogQuery and the stages in it) are copyable value types; metric
// nodes own their children through std::unique_ptr, so MetricExpr and Expr are move-only.
#ifndef SIGHTLINE_QUERY_LOGQL_AST_H_
#define SIGHTLINE_QUERY_LOGQL_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sightline::query {

// ---------------------------------------------------------------------------------------------
// Log queries: `{selector} <stage> <stage> ...`
// ---------------------------------------------------------------------------------------------

// Stream selector operator: `=`, `!=`, `=~`, `!~`. Regexes are fully anchored (Prometheus
// semantics): `{app=~"api.*"}` matches "api-gw" but not "my-api".
enum class MatchOp { kEq, kNeq, kRe, kNre };

// One matcher of the stream selector, e.g. `service="orders"` or `http.status!~"5.."`.
// Sightline extension: `name` may be any record field (dotted names allowed), not only a label.
struct LabelMatcher {
  std::string name;
  MatchOp op = MatchOp::kEq;
  std::string value;  // the literal string, or the regex text for kRe/kNre
};

// Line filter operator:
//   kContains    `|= "x"`  line contains the substring (case-sensitive)
//   kNotContains `!= "x"`  line does not contain the substring
//   kRegex       `|~ "re"` RE2 partial match (unanchored) on the line
//   kNotRegex    `!~ "re"` no partial match
//   kWords       `|: "w1 w2"` Sightline extension: every word of the value occurs in the line as
//                a whole token, case-insensitively. Tokens are maximal runs of [A-Za-z0-9_] plus
//                any byte >= 0x80; every other byte separates tokens. The value is stored as
//                written; the executor tokenizes it. The parser guarantees it holds >= 1 token.
enum class LineFilterOp { kContains, kNotContains, kRegex, kNotRegex, kWords };

// A line filter stage. `values` has one entry per alternative of `|= "a" or "b"` (never empty).
// Semantics of several values: for kContains/kRegex/kWords the line passes if ANY value matches;
// for kNotContains/kNotRegex it passes if NO value matches ("contains none").
struct LineFilter {
  LineFilterOp op = LineFilterOp::kContains;
  std::vector<std::string> values;
};

// Parser stages that extract fields from the line:
//   kJson    `| json` or `| json name="json.path", other="a.b[0]"` (params = (name, path) pairs;
//            the shorthand `| json name` is stored as (name, name))
//   kLogfmt  `| logfmt [--strict] [--keep-empty] [name="key", ...]` (params like json)
//   kRegexp  `| regexp "<re2 with (?P<name>...) groups>"` (arg = regex; >= 1 named group)
//   kPattern `| pattern "<ip> - <_> <status>"` (arg = pattern; >= 1 named capture)
//   kUnpack  `| unpack` (Promtail pack format)
enum class ParserKind { kJson, kLogfmt, kRegexp, kPattern, kUnpack };

struct ParserStage {
  ParserKind kind = ParserKind::kJson;
  std::string arg;  // kRegexp / kPattern only
  // kJson / kLogfmt extraction parameters: (output field name, expression), in query order.
  std::vector<std::pair<std::string, std::string>> params;
  bool strict = false;      // kLogfmt `--strict`
  bool keep_empty = false;  // kLogfmt `--keep-empty`
};

// Label filter comparison operator. For string values only kEq/kNeq/kRe/kNre occur; for numeric
// values (number, duration, bytes) only kEq/kNeq/kGt/kGe/kLt/kLe occur. Regexes (kRe/kNre) are
// fully anchored, like selector regexes.
enum class CmpOp { kEq, kNeq, kRe, kNre, kGt, kGe, kLt, kLe };

// How a numeric comparison value was written, which is also how the executor must convert the
// field value before comparing: kPlain (`> 400`, field parsed as a float), kDuration (`> 250ms`,
// field parsed as a duration, compared in seconds), kBytes (`> 20MB`, field parsed as a byte
// size, compared in bytes).
enum class NumberKind { kPlain, kDuration, kBytes };

// A single label filter, e.g. `level="error"`, `status>=400`, `latency>250ms`, `size<=20MB`.
struct Comparison {
  std::string name;  // field name (dots allowed)
  CmpOp op = CmpOp::kEq;
  // String comparisons: the literal (or regex text). Numeric ones: the value as written, e.g.
  // "400", "-1.5", "250ms", "20MB" (a leading '-' is included, a leading '+' dropped).
  std::string value;
  bool numeric = false;
  NumberKind number_kind = NumberKind::kPlain;  // meaningful only if numeric
  // If numeric: the value as a double. Durations are in seconds (250ms -> 0.25), byte sizes in
  // bytes (20MB -> 2e7, 1KiB -> 1024).
  double number = 0;
};

// A boolean tree of label filters. `,` and `and` are AND (binding tighter), `or` is OR,
// parentheses group. The parser flattens chains: `a, b and c` is one kAnd node with three
// children, and a kAnd node never has a kAnd child (likewise kOr).
struct LabelFilterExpr {
  enum class Kind { kLeaf, kAnd, kOr };
  Kind kind = Kind::kLeaf;
  Comparison cmp;                         // kLeaf only
  std::vector<LabelFilterExpr> children;  // kAnd / kOr only; size() >= 2
};

// `| <label filter expression>`
struct LabelFilterStage {
  LabelFilterExpr expr;
};

// `| line_format "{{.status}} {{.msg}}"`: the Go template, stored but not interpreted.
struct LineFormatStage {
  std::string tmpl;
};

// One item of `| label_format dst=src, dst2="{{.x}}"`. If !is_template, `src` names the field
// to rename to `dst`; otherwise `src` is a Go template producing the new value.
struct LabelFormatItem {
  std::string dst;
  std::string src;
  bool is_template = false;
};

// `| label_format ...` (stored only).
struct LabelFormatStage {
  std::vector<LabelFormatItem> items;
};

// `| drop a, b` (keep == false) removes the named fields; `| keep a, b` (keep == true) removes
// all fields but the named ones.
struct DropStage {
  std::vector<std::string> names;
  bool keep = false;
};

using Stage = std::variant<LineFilter, ParserStage, LabelFilterStage, LineFormatStage,
                           LabelFormatStage, DropStage>;

// A log query: stream selector plus pipeline. An empty selector (`{}` or omitted entirely, a
// Sightline extension) selects all streams. Stages run left to right.
struct LogQuery {
  std::vector<LabelMatcher> selector;
  std::vector<Stage> stages;
};

// ---------------------------------------------------------------------------------------------
// Metric queries
// ---------------------------------------------------------------------------------------------

// Range aggregation functions, e.g. kCountOverTime is `count_over_time(...)`.
enum class RangeFn {
  kCountOverTime,
  kRate,
  kBytesOverTime,
  kBytesRate,
  kSumOverTime,
  kAvgOverTime,
  kMinOverTime,
  kMaxOverTime,
  kFirstOverTime,
  kLastOverTime,
  kStddevOverTime,
  kStdvarOverTime,
  kQuantileOverTime,
  kAbsentOverTime,
  kRateCounter,
};

// Conversion applied by `| unwrap`: kNone (`unwrap x`, the field parsed as a float),
// kDuration (`unwrap duration(x)` or `duration_seconds(x)`, parsed as a Go/Prometheus duration,
// in seconds), kBytes (`unwrap bytes(x)`, parsed as a byte size such as "12KiB", in bytes).
enum class UnwrapConv { kNone, kDuration, kBytes };

// `fn([param,] <log query> [| unwrap ...] [range] [offset d]) [by|without (labels)]`, e.g.
// `quantile_over_time(0.99, {app="api"} | json | unwrap latency [5m]) by (route)`.
//
// Invariants guaranteed by the parser (they follow Loki):
//  - range_ns > 0, offset_ns >= 0.
//  - unwrap is required for sum/avg/min/max/first/last/stddev/stdvar/quantile_over_time and
//    rate_counter; allowed for rate and absent_over_time; absent for count_over_time,
//    bytes_over_time and bytes_rate. `rate` with unwrap is the per-second sum of the values.
//  - grouping is only present on avg/min/max/first/last/stddev/stdvar/quantile_over_time, rate
//    and rate_counter.
struct RangeAgg {
  RangeFn fn = RangeFn::kCountOverTime;
  LogQuery query;
  int64_t range_ns = 0;
  int64_t offset_ns = 0;
  std::optional<std::string> unwrap;  // the unwrapped field name
  UnwrapConv unwrap_conv = UnwrapConv::kNone;
  // Label filters written after the unwrap, e.g. `| unwrap latency | __error__=""`; they run on
  // the record after the value was extracted.
  std::vector<LabelFilterStage> unwrap_filters;
  double param = 0;  // the quantile of quantile_over_time (not range-checked)
  std::vector<std::string> grouping;
  bool without = false;       // `without (...)` instead of `by (...)`
  bool has_grouping = false;  // distinguishes `by ()` from no grouping clause
};

struct MetricExpr;

// Vector aggregation operators, e.g. kSortDesc is `sort_desc(...)`.
enum class VecOp {
  kSum,
  kAvg,
  kMin,
  kMax,
  kCount,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kSort,
  kSortDesc,
};

// `op [by|without (labels)] ([param,] inner)`; `op([param,] inner) by (labels)` is accepted too.
// param is k of topk/bottomk (a positive integer). sort/sort_desc never have grouping. `inner`
// is never a scalar (see IsScalar in logql_parser.h) and is never null.
struct VectorAgg {
  VecOp op = VecOp::kSum;
  std::vector<std::string> grouping;
  bool without = false;
  bool has_grouping = false;
  double param = 0;
  std::unique_ptr<MetricExpr> inner;
};

// Binary operators. Precedence as in PromQL, highest first: `^` (right-associative);
// `* / %`; `+ -`; `== != > >= < <=`; `and unless`; `or`. Others are left-associative.
enum class BinOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNeq,
  kGt,
  kGe,
  kLt,
  kLe,
  kAnd,
  kOr,
  kUnless,
};

// Vector matching clause of a binary operation: `on (a, b)` / `ignoring (a)`, optionally
// followed by `group_left (c)` / `group_right (c)`.
struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany };  // -, group_left, group_right
  bool on = false;                  // true: on(labels); false: ignoring(labels)
  std::vector<std::string> labels;  // the on/ignoring list (may be empty)
  Card card = Card::kOneToOne;
  std::vector<std::string> include;  // the group_left/group_right list (may be empty)
};

// `lhs op [bool] [on/ignoring ...] rhs`. return_bool is only set for comparison operators.
// Set operators (and/or/unless) never have a scalar operand and never a group_left/right.
// Neither child is null.
struct BinaryExpr {
  BinOp op = BinOp::kAdd;
  bool return_bool = false;
  std::optional<VectorMatching> matching;
  std::unique_ptr<MetricExpr> lhs;
  std::unique_ptr<MetricExpr> rhs;
};

// A number literal, e.g. `1`, `-0.5`, `1e3`, `0x1f` (always finite). A scalar.
struct Literal {
  double value = 0;
};

// `vector(1)`: a one-element vector without labels, at every step.
struct VectorLit {
  double value = 0;
};

// A metric query node. Parenthesized sub-expressions leave no trace in the tree.
struct MetricExpr {
  std::variant<RangeAgg, VectorAgg, BinaryExpr, Literal, VectorLit> node;
};

// A whole query: either a log query (returns log lines) or a metric query (returns samples).
struct Expr {
  std::variant<LogQuery, MetricExpr> v;

  bool is_metric() const { return std::holds_alternative<MetricExpr>(v); }
  // Preconditions: !is_metric() / is_metric() respectively.
  const LogQuery& log() const { return std::get<LogQuery>(v); }
  const MetricExpr& metric() const { return std::get<MetricExpr>(v); }
};

}  // namespace sightline::query

#endif  // SIGHTLINE_QUERY_LOGQL_AST_H_
