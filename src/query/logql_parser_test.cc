#include "query/logql_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace sightline::query {
namespace {

constexpr int64_t kSec = 1'000'000'000;

// Parses `q`, failing the test (and returning an empty log query) on error.
Expr MustParse(std::string_view q) {
  StatusOr<Expr> r = ParseLogQL(q);
  if (!r.ok()) {
    ADD_FAILURE() << "parse of `" << q << "` failed: " << r.status().ToString();
    return Expr{};
  }
  return std::move(r).value();
}

// The error message of parsing `q`, or "OK" if it parsed.
std::string ParseError(std::string_view q) {
  StatusOr<Expr> r = ParseLogQL(q);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

// Parse -> Format -> parse -> Format; both formats must agree. Returns the canonical text.
std::string Canonical(std::string_view q) {
  Expr e = MustParse(q);
  std::string f1 = FormatExpr(e);
  StatusOr<Expr> again = ParseLogQL(f1);
  if (!again.ok()) {
    ADD_FAILURE() << "canonical form `" << f1 << "` of `" << q
                  << "` does not re-parse: " << again.status().ToString();
    return f1;
  }
  EXPECT_EQ(FormatExpr(*again), f1) << "for " << q;
  return f1;
}

LogQuery MustParseLog(std::string_view q) {
  Expr e = MustParse(q);
  EXPECT_FALSE(e.is_metric()) << q;
  if (e.is_metric()) return {};
  return std::get<LogQuery>(std::move(e.v));
}

const MetricExpr& Metric(const Expr& e) {
  static const MetricExpr kEmpty;
  EXPECT_TRUE(e.is_metric());
  return e.is_metric() ? e.metric() : kEmpty;
}

template <typename T>
const T& As(const MetricExpr& m) {
  EXPECT_TRUE(std::holds_alternative<T>(m.node)) << FormatMetricExpr(m);
  static const T kEmpty{};
  const T* p = std::get_if<T>(&m.node);
  return p ? *p : kEmpty;
}

template <typename T>
const T& StageAs(const LogQuery& q, size_t i) {
  static const T kEmpty{};
  if (i >= q.stages.size()) {
    ADD_FAILURE() << "no stage " << i;
    return kEmpty;
  }
  const T* p = std::get_if<T>(&q.stages[i]);
  EXPECT_NE(p, nullptr) << "stage " << i << " has another type";
  return p ? *p : kEmpty;
}

// ---------------------------------------------------------------------------------------------
// Selectors and line filters
// ---------------------------------------------------------------------------------------------

TEST(LogQLSelectorTest, AllMatchOps) {
  LogQuery q = MustParseLog(R"({app="api", env!="dev", pod=~"api-.*", ns!~"kube.*"})");
  ASSERT_EQ(q.selector.size(), 4u);
  EXPECT_EQ(q.selector[0].name, "app");
  EXPECT_EQ(q.selector[0].op, MatchOp::kEq);
  EXPECT_EQ(q.selector[0].value, "api");
  EXPECT_EQ(q.selector[1].op, MatchOp::kNeq);
  EXPECT_EQ(q.selector[2].op, MatchOp::kRe);
  EXPECT_EQ(q.selector[2].value, "api-.*");
  EXPECT_EQ(q.selector[3].op, MatchOp::kNre);
  EXPECT_TRUE(q.stages.empty());
}

TEST(LogQLSelectorTest, DottedFieldNamesAndTrailingComma) {
  LogQuery q = MustParseLog(R"({service="orders", http.status="500",})");
  ASSERT_EQ(q.selector.size(), 2u);
  EXPECT_EQ(q.selector[1].name, "http.status");
  EXPECT_EQ(q.selector[1].value, "500");
}

TEST(LogQLSelectorTest, EmptyOrOmittedSelector) {
  EXPECT_TRUE(MustParseLog("{}").selector.empty());
  LogQuery q = MustParseLog(R"(|= "timeout")");
  EXPECT_TRUE(q.selector.empty());
  ASSERT_EQ(q.stages.size(), 1u);
  EXPECT_EQ(StageAs<LineFilter>(q, 0).values[0], "timeout");
  EXPECT_EQ(MustParseLog(R"(| json)").stages.size(), 1u);
  EXPECT_EQ(MustParseLog(R"(!= "debug")").stages.size(), 1u);
  EXPECT_EQ(Canonical(R"(|: "deadbeef")"), R"({} |: "deadbeef")");
}

TEST(LogQLSelectorTest, StringLiterals) {
  LogQuery q = MustParseLog(R"({a="q\"uo\\te\n\t\u00e9\x41\101", b=`raw\n"x"`})");
  EXPECT_EQ(q.selector[0].value,
            "q\"uo\\te\n\t\xC3\xA9"
            "AA");
  EXPECT_EQ(q.selector[1].value, "raw\\n\"x\"");
  EXPECT_EQ(Canonical(R"({b=`raw\n"x"`})"), R"({b="raw\\n\"x\""})");
}

TEST(LogQLSelectorTest, CommentsAreIgnored) {
  LogQuery q = MustParseLog("{app=\"x\"} # the app\n|= \"err\" # errors only");
  EXPECT_EQ(q.selector.size(), 1u);
  EXPECT_EQ(q.stages.size(), 1u);
}

TEST(LogQLLineFilterTest, AllOpsAndOr) {
  LogQuery q = MustParseLog(
      R"({app="x"} |= "a" or "b" != "c" |~ "err(or)?" !~ "debug|trace" |: "deadbeef Cafe")");
  ASSERT_EQ(q.stages.size(), 5u);
  const LineFilter& f0 = StageAs<LineFilter>(q, 0);
  EXPECT_EQ(f0.op, LineFilterOp::kContains);
  EXPECT_EQ(f0.values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(StageAs<LineFilter>(q, 1).op, LineFilterOp::kNotContains);
  EXPECT_EQ(StageAs<LineFilter>(q, 2).op, LineFilterOp::kRegex);
  EXPECT_EQ(StageAs<LineFilter>(q, 2).values[0], "err(or)?");
  EXPECT_EQ(StageAs<LineFilter>(q, 3).op, LineFilterOp::kNotRegex);
  const LineFilter& w = StageAs<LineFilter>(q, 4);
  EXPECT_EQ(w.op, LineFilterOp::kWords);
  EXPECT_EQ(w.values[0], "deadbeef Cafe");  // stored as written
}

TEST(LogQLLineFilterTest, NotContainsWithOr) {
  LogQuery q = MustParseLog(R"({a="b"} != "x" or "y" or "z")");
  EXPECT_EQ(StageAs<LineFilter>(q, 0).values.size(), 3u);
  EXPECT_EQ(Canonical(R"({a="b"}!="x"or"y")"), R"({a="b"} != "x" or "y")");
}

// ---------------------------------------------------------------------------------------------
// Parsers and formatters
// ---------------------------------------------------------------------------------------------

TEST(LogQLParserStageTest, JsonLogfmtRegexpPatternUnpack) {
  LogQuery q = MustParseLog(
      R"({a="b"} | json | json first="servers[0]", ua="request.headers.ua", status)"
      R"( | logfmt | logfmt --strict --keep-empty level, msg="message")"
      R"q( | regexp "(?P<method>\\w+) (?P<path>\\S+)" | pattern "<ip> - <_> \"<method> <uri>\"")q"
      R"( | unpack)");
  ASSERT_EQ(q.stages.size(), 7u);
  EXPECT_EQ(StageAs<ParserStage>(q, 0).kind, ParserKind::kJson);
  EXPECT_TRUE(StageAs<ParserStage>(q, 0).params.empty());
  const ParserStage& j = StageAs<ParserStage>(q, 1);
  ASSERT_EQ(j.params.size(), 3u);
  EXPECT_EQ(j.params[0], (std::pair<std::string, std::string>("first", "servers[0]")));
  EXPECT_EQ(j.params[2], (std::pair<std::string, std::string>("status", "status")));
  EXPECT_EQ(StageAs<ParserStage>(q, 2).kind, ParserKind::kLogfmt);
  const ParserStage& l = StageAs<ParserStage>(q, 3);
  EXPECT_TRUE(l.strict);
  EXPECT_TRUE(l.keep_empty);
  EXPECT_EQ(l.params.size(), 2u);
  const ParserStage& r = StageAs<ParserStage>(q, 4);
  EXPECT_EQ(r.kind, ParserKind::kRegexp);
  EXPECT_EQ(r.arg, R"((?P<method>\w+) (?P<path>\S+))");
  const ParserStage& p = StageAs<ParserStage>(q, 5);
  EXPECT_EQ(p.kind, ParserKind::kPattern);
  EXPECT_EQ(p.arg, R"(<ip> - <_> "<method> <uri>")");
  EXPECT_EQ(StageAs<ParserStage>(q, 6).kind, ParserKind::kUnpack);
  Canonical(R"q({a="b"} | logfmt --keep-empty | json x | regexp `(?P<x>\d+)`)q");
}

TEST(LogQLParserStageTest, FormattersAndDrop) {
  LogQuery q = MustParseLog(
      R"({a="b"} | line_format "{{.status}} {{.msg}}" | label_format dst=src, t="{{.x}}")"
      R"( | drop a, b.c | keep level)");
  ASSERT_EQ(q.stages.size(), 4u);
  EXPECT_EQ(StageAs<LineFormatStage>(q, 0).tmpl, "{{.status}} {{.msg}}");
  const LabelFormatStage& lf = StageAs<LabelFormatStage>(q, 1);
  ASSERT_EQ(lf.items.size(), 2u);
  EXPECT_EQ(lf.items[0].dst, "dst");
  EXPECT_EQ(lf.items[0].src, "src");
  EXPECT_FALSE(lf.items[0].is_template);
  EXPECT_TRUE(lf.items[1].is_template);
  const DropStage& d = StageAs<DropStage>(q, 2);
  EXPECT_FALSE(d.keep);
  EXPECT_EQ(d.names, (std::vector<std::string>{"a", "b.c"}));
  EXPECT_TRUE(StageAs<DropStage>(q, 3).keep);
}

// ---------------------------------------------------------------------------------------------
// Label filters
// ---------------------------------------------------------------------------------------------

Comparison LeafOf(const LogQuery& q, size_t stage) {
  const LabelFilterStage& s = StageAs<LabelFilterStage>(q, stage);
  EXPECT_EQ(s.expr.kind, LabelFilterExpr::Kind::kLeaf);
  return s.expr.cmp;
}

TEST(LogQLLabelFilterTest, StringsNumbersDurationsBytes) {
  LogQuery q =
      MustParseLog(R"({a="b"} | json | level="error" | status>=400 | status==200 | code=-1)"
                   R"( | latency > 250ms | size <= 20MB | mem < 1KiB | route=~"/api/.*" | x!="")"
                   R"( | d >= 1h30m)");
  Comparison c = LeafOf(q, 1);
  EXPECT_EQ(c.name, "level");
  EXPECT_EQ(c.op, CmpOp::kEq);
  EXPECT_FALSE(c.numeric);
  EXPECT_EQ(c.value, "error");
  c = LeafOf(q, 2);
  EXPECT_EQ(c.op, CmpOp::kGe);
  EXPECT_TRUE(c.numeric);
  EXPECT_EQ(c.number_kind, NumberKind::kPlain);
  EXPECT_EQ(c.number, 400);
  c = LeafOf(q, 3);
  EXPECT_EQ(c.op, CmpOp::kEq);
  EXPECT_TRUE(c.numeric);
  c = LeafOf(q, 4);
  EXPECT_EQ(c.number, -1);
  EXPECT_EQ(c.value, "-1");
  c = LeafOf(q, 5);
  EXPECT_EQ(c.op, CmpOp::kGt);
  EXPECT_EQ(c.number_kind, NumberKind::kDuration);
  EXPECT_DOUBLE_EQ(c.number, 0.25);
  EXPECT_EQ(c.value, "250ms");
  c = LeafOf(q, 6);
  EXPECT_EQ(c.op, CmpOp::kLe);
  EXPECT_EQ(c.number_kind, NumberKind::kBytes);
  EXPECT_EQ(c.number, 20e6);
  c = LeafOf(q, 7);
  EXPECT_EQ(c.number, 1024);
  c = LeafOf(q, 8);
  EXPECT_EQ(c.op, CmpOp::kRe);
  EXPECT_FALSE(c.numeric);
  EXPECT_EQ(LeafOf(q, 9).op, CmpOp::kNeq);
  EXPECT_EQ(LeafOf(q, 10).number, 5400);
}

TEST(LogQLLabelFilterTest, AndOrCommaParens) {
  LogQuery q = MustParseLog(R"({a="b"} | a="1", b="2" and c="3" or d="4" | (x="1" or y="2"), z>3)");
  const LabelFilterExpr& e = StageAs<LabelFilterStage>(q, 0).expr;
  ASSERT_EQ(e.kind, LabelFilterExpr::Kind::kOr);
  ASSERT_EQ(e.children.size(), 2u);
  EXPECT_EQ(e.children[0].kind, LabelFilterExpr::Kind::kAnd);
  EXPECT_EQ(e.children[0].children.size(), 3u);  // flattened
  EXPECT_EQ(e.children[1].cmp.name, "d");
  const LabelFilterExpr& g = StageAs<LabelFilterStage>(q, 1).expr;
  ASSERT_EQ(g.kind, LabelFilterExpr::Kind::kAnd);
  ASSERT_EQ(g.children.size(), 2u);
  EXPECT_EQ(g.children[0].kind, LabelFilterExpr::Kind::kOr);
  EXPECT_EQ(g.children[1].cmp.name, "z");
  EXPECT_EQ(Canonical(R"({a="b"} | (x="1" or y="2"), z>3)"),
            R"({a="b"} | (x="1" or y="2") and z>3)");
  EXPECT_EQ(Canonical(R"({a="b"} | ((a="1" and b="2")) and c="3")"),
            R"({a="b"} | a="1" and b="2" and c="3")");
}

TEST(LogQLLabelFilterTest, KeywordNamedFieldNeedsParens) {
  LogQuery q = MustParseLog(R"({a="b"} | (json="x"))");
  EXPECT_EQ(LeafOf(q, 0).name, "json");
  EXPECT_EQ(Canonical(R"({a="b"} | (json="x") | or="y")"), R"({a="b"} | (json="x") | or="y")");
}

// ---------------------------------------------------------------------------------------------
// Metric queries
// ---------------------------------------------------------------------------------------------

TEST(LogQLMetricTest, CountOverTime) {
  Expr e = MustParse(R"(count_over_time({a="b"}[5m]))");
  ASSERT_TRUE(e.is_metric());
  const RangeAgg& r = As<RangeAgg>(Metric(e));
  EXPECT_EQ(r.fn, RangeFn::kCountOverTime);
  EXPECT_EQ(r.range_ns, 300 * kSec);
  EXPECT_EQ(r.offset_ns, 0);
  EXPECT_FALSE(r.unwrap.has_value());
  EXPECT_EQ(r.query.selector.size(), 1u);
}

TEST(LogQLMetricTest, RangeAfterSelectorOrPipelineAndOffset) {
  Expr a = MustParse(R"(rate({a="b"}[1m] offset 1h |= "x"))");
  Expr b = MustParse(R"(rate({a="b"} |= "x" [1m] offset 1h))");
  EXPECT_EQ(FormatExpr(a), FormatExpr(b));
  EXPECT_EQ(FormatExpr(a), R"(rate({a="b"} |= "x" [1m] offset 1h))");
  const RangeAgg& r = As<RangeAgg>(Metric(a));
  EXPECT_EQ(r.fn, RangeFn::kRate);
  EXPECT_EQ(r.range_ns, 60 * kSec);
  EXPECT_EQ(r.offset_ns, 3600 * kSec);
  EXPECT_EQ(r.query.stages.size(), 1u);
  EXPECT_EQ(Canonical(R"(count_over_time({a="b"}[5m] offset 30s))"),
            R"(count_over_time({a="b"}[5m] offset 30s))");
}

TEST(LogQLMetricTest, Durations) {
  auto range_of = [](std::string_view d) {
    Expr e = MustParse("count_over_time({a=\"b\"}[" + std::string(d) + "])");
    return e.is_metric() ? As<RangeAgg>(Metric(e)).range_ns : -1;
  };
  EXPECT_EQ(range_of("30s"), 30 * kSec);
  EXPECT_EQ(range_of("1h30m"), 5400 * kSec);
  EXPECT_EQ(range_of("250ms"), 250'000'000);
  EXPECT_EQ(range_of("1d"), 86400 * kSec);
  EXPECT_EQ(range_of("1w"), 7 * 86400 * kSec);
  EXPECT_EQ(range_of("1y"), 365 * 86400 * kSec);
  EXPECT_EQ(range_of("1.5h"), 5400 * kSec);
  EXPECT_EQ(FormatDuration(5400 * kSec), "1h30m");
  EXPECT_EQ(FormatDuration(90 * kSec + 5'000'000), "1m30s5ms");
  EXPECT_EQ(FormatDuration(8 * 86400 * kSec), "1w1d");
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(Canonical(R"(count_over_time({a="b"}[90m]))"), R"(count_over_time({a="b"}[1h30m]))");
}

TEST(LogQLMetricTest, VectorAggregationGroupingBothPositions) {
  Expr e = MustParse(R"(sum by (level) (count_over_time({service="x"} |= "err" [1m])))");
  const VectorAgg& v = As<VectorAgg>(Metric(e));
  EXPECT_EQ(v.op, VecOp::kSum);
  EXPECT_TRUE(v.has_grouping);
  EXPECT_FALSE(v.without);
  EXPECT_EQ(v.grouping, (std::vector<std::string>{"level"}));
  ASSERT_NE(v.inner, nullptr);
  const RangeAgg& r = As<RangeAgg>(*v.inner);
  EXPECT_EQ(r.range_ns, 60 * kSec);
  EXPECT_EQ(StageAs<LineFilter>(r.query, 0).values[0], "err");

  Expr s = MustParse(R"(sum(rate({a="b"}[1m])) by (a))");
  const VectorAgg& sv = As<VectorAgg>(Metric(s));
  EXPECT_TRUE(sv.has_grouping);
  EXPECT_EQ(sv.grouping, (std::vector<std::string>{"a"}));
  EXPECT_EQ(FormatExpr(s), R"(sum by (a) (rate({a="b"}[1m])))");

  Expr w = MustParse(R"(avg without (pod, service.name) (rate({a="b"}[1m])))");
  EXPECT_TRUE(As<VectorAgg>(Metric(w)).without);
  Expr none = MustParse(R"(count by () (rate({a="b"}[1m])))");
  EXPECT_TRUE(As<VectorAgg>(Metric(none)).has_grouping);
  EXPECT_TRUE(As<VectorAgg>(Metric(none)).grouping.empty());
  EXPECT_EQ(FormatExpr(none), R"(count by () (rate({a="b"}[1m])))");
  EXPECT_FALSE(As<VectorAgg>(Metric(MustParse(R"(max(rate({a="b"}[1m])))"))).has_grouping);
}

TEST(LogQLMetricTest, TopkBottomkSort) {
  Expr e = MustParse(R"(topk(3, sum by (app) (rate({a="b"}[5m]))))");
  const VectorAgg& v = As<VectorAgg>(Metric(e));
  EXPECT_EQ(v.op, VecOp::kTopk);
  EXPECT_EQ(v.param, 3);
  EXPECT_EQ(As<VectorAgg>(*v.inner).op, VecOp::kSum);
  EXPECT_EQ(Canonical(R"(bottomk(2, rate({a="b"}[5m])) by (x))"),
            R"(bottomk by (x) (2, rate({a="b"}[5m])))");
  EXPECT_EQ(As<VectorAgg>(Metric(MustParse(R"(sort_desc(rate({a="b"}[5m])))"))).op,
            VecOp::kSortDesc);
}

TEST(LogQLMetricTest, QuantileWithUnwrap) {
  Expr e =
      MustParse(R"(quantile_over_time(0.99, {a="b"} | json | unwrap latency [5m]) by (service))");
  const RangeAgg& r = As<RangeAgg>(Metric(e));
  EXPECT_EQ(r.fn, RangeFn::kQuantileOverTime);
  EXPECT_EQ(r.param, 0.99);
  ASSERT_TRUE(r.unwrap.has_value());
  EXPECT_EQ(*r.unwrap, "latency");
  EXPECT_EQ(r.unwrap_conv, UnwrapConv::kNone);
  EXPECT_EQ(r.query.stages.size(), 1u);  // the json stage; unwrap is separate
  EXPECT_TRUE(r.has_grouping);
  EXPECT_EQ(r.grouping, (std::vector<std::string>{"service"}));
  EXPECT_EQ(FormatExpr(e),
            R"(quantile_over_time(0.99, {a="b"} | json | unwrap latency [5m]) by (service))");
}

TEST(LogQLMetricTest, UnwrapConversionsAndPostFilters) {
  Expr e =
      MustParse(R"(avg_over_time({a="b"} | logfmt | unwrap duration(took) | __error__="" [1m]))");
  const RangeAgg& r = As<RangeAgg>(Metric(e));
  EXPECT_EQ(r.unwrap_conv, UnwrapConv::kDuration);
  EXPECT_EQ(*r.unwrap, "took");
  ASSERT_EQ(r.unwrap_filters.size(), 1u);
  EXPECT_EQ(r.unwrap_filters[0].expr.cmp.name, "__error__");
  Canonical(R"(sum_over_time({a="b"} | unwrap bytes(size) [1m]))");
  Canonical(R"(max_over_time({a="b"} | unwrap duration_seconds(d) [1m]))");
  Canonical(R"(rate({a="b"} | unwrap bytes [1m]))");  // a field called "bytes"
}

TEST(LogQLMetricTest, VectorLiteralHealthCheck) {
  Expr e = MustParse("vector(1)+vector(1)");
  const BinaryExpr& b = As<BinaryExpr>(Metric(e));
  EXPECT_EQ(b.op, BinOp::kAdd);
  EXPECT_EQ(As<VectorLit>(*b.lhs).value, 1);
  EXPECT_EQ(As<VectorLit>(*b.rhs).value, 1);
  EXPECT_EQ(FormatExpr(e), "vector(1) + vector(1)");
}

TEST(LogQLMetricTest, Literals) {
  EXPECT_EQ(As<Literal>(Metric(MustParse("42"))).value, 42);
  EXPECT_EQ(As<Literal>(Metric(MustParse("-1.5"))).value, -1.5);
  EXPECT_EQ(As<Literal>(Metric(MustParse("1e3"))).value, 1000);
  EXPECT_EQ(As<Literal>(Metric(MustParse("0x1f"))).value, 31);
  EXPECT_EQ(As<Literal>(Metric(MustParse(".5"))).value, 0.5);
  EXPECT_EQ(Canonical("1e21"), "1e+21");
  EXPECT_EQ(Canonical("0.1"), "0.1");
}

TEST(LogQLMetricTest, BinaryPrecedence) {
  // 1 + 2 * 3 ^ 2 ^ 2 == 1 + (2 * (3 ^ (2 ^ 2)))
  Expr e = MustParse("1 + 2 * 3 ^ 2 ^ 2");
  const BinaryExpr& add = As<BinaryExpr>(Metric(e));
  EXPECT_EQ(add.op, BinOp::kAdd);
  const BinaryExpr& mul = As<BinaryExpr>(*add.rhs);
  EXPECT_EQ(mul.op, BinOp::kMul);
  const BinaryExpr& pow = As<BinaryExpr>(*mul.rhs);
  EXPECT_EQ(pow.op, BinOp::kPow);
  EXPECT_EQ(As<BinaryExpr>(*pow.rhs).op, BinOp::kPow);  // right-associative

  // Left associativity: 10 - 2 - 3 == (10 - 2) - 3
  Expr s = MustParse("10 - 2 - 3");
  EXPECT_EQ(As<BinaryExpr>(*As<BinaryExpr>(Metric(s)).lhs).op, BinOp::kSub);

  // or < and/unless < comparisons < +.
  Expr l = MustParse(
      R"(rate({a="b"}[1m]) > 1 + 1 and rate({a="c"}[1m]) or rate({a="d"}[1m]) unless vector(1))");
  const BinaryExpr& top = As<BinaryExpr>(Metric(l));
  EXPECT_EQ(top.op, BinOp::kOr);
  const BinaryExpr& land = As<BinaryExpr>(*top.lhs);
  EXPECT_EQ(land.op, BinOp::kAnd);
  const BinaryExpr& gt = As<BinaryExpr>(*land.lhs);
  EXPECT_EQ(gt.op, BinOp::kGt);
  EXPECT_EQ(As<BinaryExpr>(*gt.rhs).op, BinOp::kAdd);
  EXPECT_EQ(As<BinaryExpr>(*top.rhs).op, BinOp::kUnless);

  EXPECT_EQ(Canonical("(1 + 2) * 3"), "(1 + 2) * 3");
  EXPECT_EQ(Canonical("((1 * 2)) + 3"), "1 * 2 + 3");
  EXPECT_EQ(Canonical("2 ^ (3 ^ 2)"), "2 ^ 3 ^ 2");
  EXPECT_EQ(Canonical("(2 ^ 3) ^ 2"), "(2 ^ 3) ^ 2");
  EXPECT_EQ(Canonical("1 - (2 - 3)"), "1 - (2 - 3)");
  EXPECT_EQ(Canonical("1 - -2"), "1 - -2");
  EXPECT_EQ(Canonical("-2 ^ 2"), "-2 ^ 2");
}

TEST(LogQLMetricTest, BoolAndVectorMatching) {
  Expr e =
      MustParse(R"(sum by (app) (rate({a="b"}[1m])) > bool on (app) group_left (team) vector(0))");
  const BinaryExpr& b = As<BinaryExpr>(Metric(e));
  EXPECT_EQ(b.op, BinOp::kGt);
  EXPECT_TRUE(b.return_bool);
  ASSERT_TRUE(b.matching.has_value());
  EXPECT_TRUE(b.matching->on);
  EXPECT_EQ(b.matching->labels, (std::vector<std::string>{"app"}));
  EXPECT_EQ(b.matching->card, VectorMatching::Card::kManyToOne);
  EXPECT_EQ(b.matching->include, (std::vector<std::string>{"team"}));
  Canonical(R"(rate({a="b"}[1m]) / ignoring (x) group_right rate({a="c"}[1m]))");
  EXPECT_EQ(Canonical(R"(rate({a="b"}[1m]) * on() group_left() (vector(1) + vector(2)))"),
            R"(rate({a="b"}[1m]) * on () group_left () (vector(1) + vector(2)))");
  EXPECT_EQ(Canonical(R"(rate({a="b"}[1m]) and on(x) rate({a="c"}[1m]))"),
            R"(rate({a="b"}[1m]) and on (x) rate({a="c"}[1m]))");
}

TEST(LogQLMetricTest, SelectorlessRangeAggregation) {
  Expr e = MustParse(R"(sum(count_over_time(|: "deadbeef" [1h])))");
  const RangeAgg& r = As<RangeAgg>(*As<VectorAgg>(Metric(e)).inner);
  EXPECT_TRUE(r.query.selector.empty());
  EXPECT_EQ(FormatExpr(e), R"(sum(count_over_time({} |: "deadbeef" [1h])))");
  EXPECT_EQ(Canonical("count_over_time([5m])"), "count_over_time({}[5m])");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

TEST(LogQLErrorTest, Messages) {
  EXPECT_EQ(ParseError(R"({app="x)"), "parse error at col 6: unterminated string");
  EXPECT_EQ(ParseError(R"({app="x" |= "y")"),
            "parse error at col 10: expected ',' or '}', got '|='");
  EXPECT_EQ(ParseError(R"({a="b"} |~ "a(")"),
            "parse error at col 12: invalid regex: missing ): a(");
  EXPECT_EQ(ParseError(R"({a=~"[z-a]"})"),
            "parse error at col 5: invalid regex: invalid character class range: z-a");
  EXPECT_EQ(ParseError(R"(count_over_time({a="b"}))"),
            "parse error at col 24: expected a range such as [5m] in count_over_time, got ')'");
  EXPECT_EQ(ParseError("foo(1)"), "parse error at col 1: unknown function 'foo'");
  EXPECT_EQ(ParseError(R"({a="b"} xyz)"), "parse error at col 9: unexpected 'xyz' after log query");
  EXPECT_EQ(ParseError(R"(rate({a="b"}[1m])))"), "parse error at col 18: unexpected ')'");
  EXPECT_EQ(ParseError(""), "parse error at col 1: empty query");
  EXPECT_EQ(ParseError("  # only a comment"), "parse error at col 19: empty query");
  EXPECT_EQ(ParseError("{a=\"b\"}\n  |= x"),
            "parse error at line 2, col 6: expected a quoted string after '|=', got 'x'");
}

TEST(LogQLErrorTest, Rejections) {
  EXPECT_NE(ParseError(R"({a="b"}[5m])"), "OK");                   // range without function
  EXPECT_NE(ParseError(R"(count_over_time({a="b"}[5]))"), "OK");   // no unit
  EXPECT_NE(ParseError(R"(count_over_time({a="b"}[0s]))"), "OK");  // zero range
  EXPECT_NE(ParseError(R"(count_over_time({a="b"}[5m][5m]))"), "OK");
  EXPECT_NE(ParseError(R"(count_over_time({a="b"}[5MB]))"), "OK");
  EXPECT_NE(ParseError(R"(sum_over_time({a="b"}[5m]))"), "OK");  // needs unwrap
  EXPECT_NE(ParseError(R"(count_over_time({a="b"} | unwrap x [5m]))"), "OK");
  EXPECT_NE(ParseError(R"(count_over_time({a="b"}[5m]) by (x))"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} | unwrap x)"), "OK");  // unwrap outside range
  EXPECT_NE(ParseError(R"(rate({a="b"} | unwrap x | json [1m]))"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} + 1)"), "OK");
  EXPECT_NE(ParseError(R"(sum({a="b"}))"), "OK");
  EXPECT_NE(ParseError("sum(1)"), "OK");
  EXPECT_NE(ParseError("1 and 2"), "OK");
  EXPECT_NE(ParseError(R"(topk(0, rate({a="b"}[1m])))"), "OK");
  EXPECT_NE(ParseError(R"(topk(1.5, rate({a="b"}[1m])))"), "OK");
  EXPECT_NE(ParseError(R"(sum by (a) (rate({a="b"}[1m])) by (b))"), "OK");
  EXPECT_NE(ParseError(R"(sort by (a) (rate({a="b"}[1m])))"), "OK");
  EXPECT_NE(ParseError(R"(1 + bool 2)"), "OK");
  EXPECT_NE(ParseError(R"(label_replace(rate({a="b"}[1m]), "a", "b", "c", "d"))"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} | status > "x")"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} | status =~ 5)"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} | latency > 5zz)"), "OK");
  EXPECT_NE(ParseError(R"q({a="b"} | regexp "(\\d+)")q"), "OK");  // no named group
  EXPECT_NE(ParseError(R"({a="b"} | pattern "<a><b>")"), "OK");   // consecutive captures
  EXPECT_NE(ParseError(R"({a="b"} | pattern "plain")"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} |: "!!")"), "OK");  // no word
  EXPECT_NE(ParseError(R"({a="b"} | logfmt --bogus)"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} | drop a="x")"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} |= "\q")"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} |= "\uD800")"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} |= "x)"
                       "\n"
                       R"(")"),
            "OK");
  EXPECT_NE(ParseError("1e999"), "OK");
  EXPECT_NE(ParseError("5m"), "OK");
  EXPECT_NE(ParseError("{a=\"b\"} \x01"), "OK");
  EXPECT_NE(ParseError(R"({a="b"} |> "x")"), "OK");
}

TEST(LogQLErrorTest, LimitsAreEnforced) {
  std::string deep(200, '(');
  deep += "1";
  deep += std::string(200, ')');
  EXPECT_NE(ParseError(deep).find("nested too deeply"), std::string::npos);

  std::string chain = "1";
  for (int i = 0; i < 300; ++i) chain += " + 1";
  EXPECT_NE(ParseError(chain).find("too complex"), std::string::npos);

  std::string pow = "2";
  for (int i = 0; i < 300; ++i) pow += "^2";
  EXPECT_NE(ParseError(pow), "OK");

  std::string filters = "{a=\"b\"} | ";
  for (int i = 0; i < 100; ++i) filters += "(";
  filters += "x=\"1\"";
  for (int i = 0; i < 100; ++i) filters += ")";
  EXPECT_NE(ParseError(filters).find("nested too deeply"), std::string::npos);

  std::string big = "{a=\"" + std::string(kMaxLogQLBytes, 'x') + "\"}";
  EXPECT_NE(ParseError(big).find("too long"), std::string::npos);

  // Long flat chains that flatten or loop are fine.
  std::string wide = "{a=\"b\"}";
  for (int i = 0; i < 1000; ++i) wide += " | x=\"1\" or y=\"2\"";
  EXPECT_EQ(ParseError(wide), "OK");
}

// ---------------------------------------------------------------------------------------------
// Canonical formatting
// ---------------------------------------------------------------------------------------------

TEST(LogQLFormatTest, RoundTrips) {
  const char* kQueries[] = {
      R"({app="api",env=~"prod|staging"}|="error"!="timeout"|json|status>=500)",
      (R"({app="api"} |~ `\d{3}` | logfmt | level="error" or level="fatal")"
       R"( | line_format "{{.msg}}")"),
      R"(sum by (level) (count_over_time({service="x"} |= "err" [1m])))",
      R"(sum(rate({a="b"}[1m])) by (a))",
      R"(topk(3, sum by (app) (rate({a="b"}[5m]))))",
      R"(quantile_over_time(0.99, {a="b"} | json | unwrap latency [5m]) by (service))",
      R"(vector(1)+vector(1))",
      R"(sum(rate({a="b"}[1m])) / sum(rate({a="b"}[1m])) * 100 > bool 5)",
      R"(avg_over_time({a="b"} | json | latency > 250ms and size < 20MB | unwrap latency [5m]))",
      R"({a="b"} | drop x, y | keep z | label_format new=old, t="{{.a}}" | unpack)",
      R"({a="\x00\x7f\u00ff"} |= "tab\there")",
      R"(absent_over_time({a="b"}[1m]) or vector(0))",
      R"(-1 * rate_counter({a="b"} | unwrap c [1m]) by (x))",
      R"(stdvar_over_time({a="b"} | unwrap c [1m]) without (pod))",
      R"(bytes_rate({a="b"}[1m]) - bytes_over_time({a="b"}[1m] offset 1d) % 3)",
      R"(|: "w1 w2" or "w3")",
  };
  for (const char* q : kQueries) Canonical(q);
  EXPECT_EQ(Canonical(R"({app="api",env=~"prod|staging"}|="error"!="timeout"|json|status>=500)"),
            R"({app="api", env=~"prod|staging"} |= "error" != "timeout" | json | status>=500)");
  EXPECT_EQ(Canonical(R"({a="b"} | x = 5)"), R"({a="b"} | x==5)");
  EXPECT_EQ(Canonical(R"({a="b"} | x > +5)"), R"({a="b"} | x>5)");
  EXPECT_EQ(Canonical(R"({a="b"} | json a)"), R"({a="b"} | json a="a")");
}

TEST(LogQLFormatTest, NamesOfOperators) {
  EXPECT_EQ(RangeFnName(RangeFn::kQuantileOverTime), "quantile_over_time");
  EXPECT_EQ(VecOpName(VecOp::kSortDesc), "sort_desc");
  EXPECT_EQ(BinOpName(BinOp::kUnless), "unless");
  EXPECT_EQ(MatchOpName(MatchOp::kNre), "!~");
  EXPECT_EQ(LineFilterOpName(LineFilterOp::kWords), "|:");
}

}  // namespace
}  // namespace sightline::query
