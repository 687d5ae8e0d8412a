// LogQL parser and canonical formatter. The language is documented in docs/query-language.md;
// the tree it produces is described in query/logql_ast.h.
//
// Example:
//   StatusOr<Expr> e = ParseLogQL(R"(sum by (level) (count_over_time({app="x"} |= "err" [1m])))");
//   if (!e.ok()) return e.status();  // InvalidArgument "parse error at col N: ..."
//   std::string canonical = FormatExpr(*e);
#ifndef SIGHTLINE_QUERY_LOGQL_PARSER_H_
#define SIGHTLINE_QUERY_LOGQL_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "query/logql_ast.h"

namespace sightline::query {

// Queries longer than this are rejected without being parsed.
inline constexpr size_t kMaxLogQLBytes = 64 * 1024;
// Maximum nesting of parentheses / function calls / operators, and maximum height of a metric
// expression tree. Deeper queries are rejected, which keeps recursion bounded.
inline constexpr int kMaxLogQLDepth = 64;
inline constexpr int kMaxLogQLTreeHeight = 256;

// Parses a LogQL query. Never throws. On failure returns InvalidArgument with a message such
// as "parse error at col 14: expected '}'" (columns are 1-based byte offsets; for multi-line
// queries the message reads "parse error at line 2, col 5: ...").
StatusOr<Expr> ParseLogQL(std::string_view query);

// Prints `expr` as canonical LogQL: single spaces, double-quoted strings with Go escapes,
// canonical durations ("1h30m"), numbers in shortest round-trip form, `{}` for an empty
// selector, prefix grouping for vector aggregations (`sum by (a) (...)`), and only the
// parentheses that precedence requires. For every tree produced by ParseLogQL,
// ParseLogQL(FormatExpr(e)) succeeds and yields a tree that formats identically.
std::string FormatExpr(const Expr& expr);
std::string FormatLogQuery(const LogQuery& query);
std::string FormatMetricExpr(const MetricExpr& expr);

// Canonical durations: 5400s -> "1h30m", 0 -> "0s". Units y (365d), w, d, h, m, s, ms, us, ns.
std::string FormatDuration(int64_t ns);

// True if `e` evaluates to a scalar: a Literal, or a BinaryExpr of two scalars.
bool IsScalar(const MetricExpr& e);

// Names as written in LogQL, e.g. "count_over_time", "topk", "+", "and", "=~".
std::string_view RangeFnName(RangeFn fn);
std::string_view VecOpName(VecOp op);
std::string_view BinOpName(BinOp op);
std::string_view MatchOpName(MatchOp op);
std::string_view LineFilterOpName(LineFilterOp op);

}  // namespace sightline::query

#endif  // SIGHTLINE_QUERY_LOGQL_PARSER_H_
