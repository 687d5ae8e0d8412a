#include "query/logql_parser.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace sightline::query {
namespace {

// ---------------------------------------------------------------------------------------------
// Character classes and literal helpers
// ---------------------------------------------------------------------------------------------

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsIdentStart(char c) { return IsAlpha(c) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '.'; }

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Appends `s` as a double-quoted LogQL string. Only `"`, `\` and control bytes are escaped;
// other bytes (including invalid UTF-8) are copied, which the lexer reads back verbatim.
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// A short, printable rendering of user text for error messages.
std::string Abbrev(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  AppendQuoted(&out, s.substr(0, kMax));
  if (s.size() > kMax) out.insert(out.size() - 1, "...");
  return out;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// [0-9]*(\.[0-9]*)? with at least one digit.
bool IsDecimalMantissa(std::string_view s) {
  bool digit = false, dot = false;
  for (char c : s) {
    if (IsDigit(c)) {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

// Decimal (`12`, `1.5`, `.5`, `5.`, `1e-3`) or hexadecimal (`0x1f`) number literal.
bool IsNumberLiteral(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    return std::all_of(s.begin() + 2, s.end(), IsHexDigit);
  }
  size_t e = s.find_first_of("eE");
  if (e == std::string_view::npos) return IsDecimalMantissa(s);
  if (!IsDecimalMantissa(s.substr(0, e))) return false;
  std::string_view exp = s.substr(e + 1);
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.remove_prefix(1);
  return !exp.empty() && std::all_of(exp.begin(), exp.end(), IsDigit);
}

// Converts a literal accepted by IsNumberLiteral. False if it is not finite.
bool ParseNumberLiteral(std::string_view s, double* out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    uint64_t v = 0;
    for (char c : s.substr(2)) {
      if (v > (UINT64_MAX >> 4)) return false;
      v = (v << 4) | static_cast<uint64_t>(HexValue(c));
    }
    *out = static_cast<double>(v);
    return true;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

constexpr int64_t kNsPerSecond = 1000 * 1000 * 1000;
constexpr int64_t kNsPerDay = 86400 * kNsPerSecond;

struct DurationUnit {
  std::string_view name;
  int64_t ns;
};
// Tried in order at each position, so "ms" must precede "m" and "s".
// clang-format off
constexpr DurationUnit kDurationUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // µs
    {"ms", 1000 * 1000},
    {"s", kNsPerSecond},
    {"m", 60 * kNsPerSecond},
    {"h", 3600 * kNsPerSecond},
    {"d", kNsPerDay},
    {"w", 7 * kNsPerDay},
    {"y", 365 * kNsPerDay},
};
// clang-format on

// Go / Prometheus style duration: one or more <number><unit>, e.g. "5m", "1h30m", "1.5h",
// "250ms", "1d", "2w", "1y". Fractions are truncated to whole nanoseconds.
bool ParseDuration(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  int64_t total = 0;
  while (!s.empty()) {
    size_t i = 0;
    bool any_digit = false;
    int64_t whole = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (__builtin_mul_overflow(whole, 10, &whole) ||
          __builtin_add_overflow(whole, s[i] - '0', &whole)) {
        return false;
      }
      any_digit = true;
      ++i;
    }
    int64_t frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && IsDigit(s[i])) {
        if (scale < 100'000'000'000'000'000) {  // keep 17 fractional digits
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
        any_digit = true;
        ++i;
      }
    }
    if (!any_digit) return false;
    s.remove_prefix(i);
    const DurationUnit* unit = nullptr;
    for (const DurationUnit& u : kDurationUnits) {
      if (s.substr(0, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return false;
    s.remove_prefix(unit->name.size());
    int64_t v;
    if (__builtin_mul_overflow(whole, unit->ns, &v)) return false;
    if (frac != 0) {
      auto part = static_cast<int64_t>(static_cast<long double>(frac) * unit->ns / scale);
      if (__builtin_add_overflow(v, part, &v)) return false;
    }
    if (__builtin_add_overflow(total, v, &total)) return false;
  }
  *out = total;
  return true;
}

// Byte sizes the way go-humanize's ParseBytes reads them: a decimal number and a
// case-insensitive unit; SI units (kB, MB, ...) are powers of 1000, IEC units (KiB, MiB, ...)
// powers of 1024. "20MB" -> 2e7, "1KiB" -> 1024, "3b" -> 3.
bool ParseBytes(std::string_view s, double* out) {
  struct Unit {
    std::string_view name;
    double mult;
  };
  // clang-format off
  static constexpr Unit kUnits[] = {
      {"b", 1},
      {"k", 1e3},     {"kb", 1e3},     {"ki", 0x1p10}, {"kib", 0x1p10},
      {"m", 1e6},     {"mb", 1e6},     {"mi", 0x1p20}, {"mib", 0x1p20},
      {"g", 1e9},     {"gb", 1e9},     {"gi", 0x1p30}, {"gib", 0x1p30},
      {"t", 1e12},    {"tb", 1e12},    {"ti", 0x1p40}, {"tib", 0x1p40},
      {"p", 1e15},    {"pb", 1e15},    {"pi", 0x1p50}, {"pib", 0x1p50},
      {"e", 1e18},    {"eb", 1e18},    {"ei", 0x1p60}, {"eib", 0x1p60},
  };
  // clang-format on
  size_t i = 0;
  while (i < s.size() && (IsDigit(s[i]) || s[i] == '.')) ++i;
  std::string_view num = s.substr(0, i);
  if (!IsDecimalMantissa(num) || i == s.size() || s.size() - i > 3) return false;
  std::string unit;
  for (char c : s.substr(i)) unit.push_back(ToLowerAscii(c));
  for (const Unit& u : kUnits) {
    if (u.name != unit) continue;
    double v;
    if (!ParseNumberLiteral(num, &v)) return false;
    v *= u.mult;
    if (!std::isfinite(v)) return false;
    *out = v;
    return true;
  }
  return false;
}

// True if `s` has at least one word token for the `|:` filter: a maximal run of
// [A-Za-z0-9_] or bytes >= 0x80.
bool HasWordToken(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
  });
}

// Checks a `| pattern` expression: literals and captures `<name>` / `<_>`; at least one named
// capture, and no two captures directly next to each other. Returns an error text or "".
std::string CheckPattern(std::string_view p) {
  size_t named = 0;
  bool prev_capture = false;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '<' && i + 1 < p.size() && IsIdentStart(p[i + 1])) {
      size_t j = i + 2;
      while (j < p.size() && (IsAlpha(p[j]) || IsDigit(p[j]) || p[j] == '_')) ++j;
      if (j < p.size() && p[j] == '>') {
        if (prev_capture) return "pattern has two consecutive captures; separate them by text";
        prev_capture = true;
        if (p.substr(i + 1, j - i - 1) != "_") ++named;
        i = j + 1;
        continue;
      }
    }
    prev_capture = false;
    ++i;
  }
  if (named == 0) return "pattern needs at least one named capture such as <status>";
  return "";
}

std::string ErrorText(std::string_view in, size_t pos, std::string_view msg) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < pos && i < in.size(); ++i) {
    if (in[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::string m = "parse error at ";
  if (line > 1) m += "line " + std::to_string(line) + ", ";
  m += "col " + std::to_string(pos - line_start + 1) + ": ";
  m += msg;
  return m;
}

Status ErrorAt(std::string_view in, size_t pos, std::string_view msg) {
  return InvalidArgument(ErrorText(in, pos, msg));
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

enum class Tok {
  kEof,
  kIdent,    // [A-Za-z_][A-Za-z0-9_.]*
  kNumber,   // 12, 1.5, 1e3, 0x1f
  kNumUnit,  // a number with a unit suffix: 5m, 1h30m, 250ms, 20MB (or garbage like 1.2.3)
  kString,   // "..." or `...`; Token::str holds the decoded value
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kAssign,     // =
  kEqEq,       // ==
  kNeq,        // !=
  kRe,         // =~
  kNre,        // !~
  kPipe,       // |
  kPipeEq,     // |=
  kPipeRe,     // |~
  kPipeWords,  // |:
  kGt,
  kGe,
  kLt,
  kLe,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
};

struct Token {
  Tok kind = Tok::kEof;
  size_t pos = 0;         // byte offset in the query
  std::string_view text;  // source text
  std::string str;        // decoded value of a kString
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEof:
      return "end of query";
    case Tok::kString:
      return "string " + Abbrev(t.str);
    case Tok::kIdent:
    case Tok::kNumber:
    case Tok::kNumUnit: {
      std::string_view text = t.text.substr(0, 40);
      return "'" + std::string(text) + (t.text.size() > 40 ? "...'" : "'");
    }
    default:
      return "'" + std::string(t.text) + "'";
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  Status Run(std::vector<Token>* out) {
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.pos = i_;
      if (i_ >= in_.size()) {
        out->push_back(std::move(t));
        return Status::OK();
      }
      char c = in_[i_];
      if (IsIdentStart(c)) {
        while (i_ < in_.size() && IsIdentChar(in_[i_])) ++i_;
        t.kind = Tok::kIdent;
      } else if (IsDigit(c) || (c == '.' && i_ + 1 < in_.size() && IsDigit(in_[i_ + 1]))) {
        LexNumber(&t);
      } else if (c == '"' || c == '`') {
        SL_RETURN_IF_ERROR(LexString(&t));
      } else {
        SL_RETURN_IF_ERROR(LexOperator(&t));
      }
      t.text = in_.substr(t.pos, i_ - t.pos);
      out->push_back(std::move(t));
    }
  }

 private:
  bool At(size_t i, char c) const { return i < in_.size() && in_[i] == c; }

  void SkipSpaceAndComments() {
    while (i_ < in_.size()) {
      char c = in_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++i_;
      } else if (c == '#') {
        while (i_ < in_.size() && in_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  // A maximal run of digits, letters, '.', "µ", and an exponent sign right after e/E.
  // Pure numbers become kNumber, anything else kNumUnit (validated by the parser).
  void LexNumber(Token* t) {
    size_t start = i_;
    while (i_ < in_.size()) {
      char c = in_[i_];
      if (IsDigit(c) || IsAlpha(c) || c == '.') {
        ++i_;
      } else if ((c == '+' || c == '-') && (in_[i_ - 1] == 'e' || in_[i_ - 1] == 'E') &&
                 i_ + 1 < in_.size() && IsDigit(in_[i_ + 1]) &&
                 IsDecimalMantissa(in_.substr(start, i_ - 1 - start))) {
        ++i_;
      } else if (static_cast<unsigned char>(c) == 0xC2 && i_ + 1 < in_.size() &&
                 static_cast<unsigned char>(in_[i_ + 1]) == 0xB5) {
        i_ += 2;  // µ
      } else {
        break;
      }
    }
    t->kind = IsNumberLiteral(in_.substr(start, i_ - start)) ? Tok::kNumber : Tok::kNumUnit;
  }

  // Reads `n` hex digits at i_.
  bool ReadHex(int n, uint32_t* v) {
    if (in_.size() - i_ < static_cast<size_t>(n)) return false;
    *v = 0;
    for (int k = 0; k < n; ++k) {
      char c = in_[i_ + k];
      if (!IsHexDigit(c)) return false;
      *v = (*v << 4) | static_cast<uint32_t>(HexValue(c));
    }
    i_ += n;
    return true;
  }

  // Double-quoted strings take Go escapes; backtick strings are raw.
  Status LexString(Token* t) {
    t->kind = Tok::kString;
    char quote = in_[i_++];
    if (quote == '`') {
      size_t end = in_.find('`', i_);
      if (end == std::string_view::npos) return ErrorAt(in_, t->pos, "unterminated raw string");
      t->str.assign(in_.substr(i_, end - i_));
      i_ = end + 1;
      return Status::OK();
    }
    std::string& s = t->str;
    while (true) {
      if (i_ >= in_.size()) return ErrorAt(in_, t->pos, "unterminated string");
      char c = in_[i_];
      if (c == '"') {
        ++i_;
        return Status::OK();
      }
      if (c == '\n') return ErrorAt(in_, t->pos, "unterminated string (newline in string)");
      if (c != '\\') {
        s.push_back(c);
        ++i_;
        continue;
      }
      size_t esc = i_++;
      if (i_ >= in_.size()) return ErrorAt(in_, t->pos, "unterminated string");
      char e = in_[i_++];
      uint32_t v = 0;
      switch (e) {
        case 'a':
          s.push_back('\a');
          break;
        case 'b':
          s.push_back('\b');
          break;
        case 'f':
          s.push_back('\f');
          break;
        case 'n':
          s.push_back('\n');
          break;
        case 'r':
          s.push_back('\r');
          break;
        case 't':
          s.push_back('\t');
          break;
        case 'v':
          s.push_back('\v');
          break;
        case '\\':
          s.push_back('\\');
          break;
        case '"':
          s.push_back('"');
          break;
        case 'x':
          if (!ReadHex(2, &v)) return ErrorAt(in_, esc, "\\x needs two hex digits");
          s.push_back(static_cast<char>(v));
          break;
        case 'u':
        case 'U':
          if (!ReadHex(e == 'u' ? 4 : 8, &v)) {
            return ErrorAt(in_, esc,
                           e == 'u' ? "\\u needs four hex digits" : "\\U needs eight hex digits");
          }
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
            return ErrorAt(in_, esc, "escape sequence is not a valid Unicode code point");
          }
          AppendUtf8(&s, v);
          break;
        default:
          if (e >= '0' && e <= '7') {
            v = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2; ++k, ++i_) {
              if (i_ >= in_.size() || in_[i_] < '0' || in_[i_] > '7') {
                return ErrorAt(in_, esc, "octal escape needs three digits");
              }
              v = v * 8 + static_cast<uint32_t>(in_[i_] - '0');
            }
            if (v > 255) return ErrorAt(in_, esc, "octal escape value > 255");
            s.push_back(static_cast<char>(v));
            break;
          }
          return ErrorAt(in_, esc, "unknown escape sequence in string");
      }
    }
  }

  Status LexOperator(Token* t) {
    char c = in_[i_];
    char n = i_ + 1 < in_.size() ? in_[i_ + 1] : '\0';
    size_t len = 1;
    switch (c) {
      case '{':
        t->kind = Tok::kLBrace;
        break;
      case '}':
        t->kind = Tok::kRBrace;
        break;
      case '(':
        t->kind = Tok::kLParen;
        break;
      case ')':
        t->kind = Tok::kRParen;
        break;
      case '[':
        t->kind = Tok::kLBracket;
        break;
      case ']':
        t->kind = Tok::kRBracket;
        break;
      case ',':
        t->kind = Tok::kComma;
        break;
      case '+':
        t->kind = Tok::kAdd;
        break;
      case '-':
        t->kind = Tok::kSub;
        break;
      case '*':
        t->kind = Tok::kMul;
        break;
      case '/':
        t->kind = Tok::kDiv;
        break;
      case '%':
        t->kind = Tok::kMod;
        break;
      case '^':
        t->kind = Tok::kPow;
        break;
      case '=':
        if (n == '~') {
          t->kind = Tok::kRe, len = 2;
        } else if (n == '=') {
          t->kind = Tok::kEqEq, len = 2;
        } else {
          t->kind = Tok::kAssign;
        }
        break;
      case '!':
        if (n == '=') {
          t->kind = Tok::kNeq, len = 2;
        } else if (n == '~') {
          t->kind = Tok::kNre, len = 2;
        } else {
          return ErrorAt(in_, i_, "unexpected '!' (expected '!=' or '!~')");
        }
        break;
      case '|':
        if (n == '=') {
          t->kind = Tok::kPipeEq, len = 2;
        } else if (n == '~') {
          t->kind = Tok::kPipeRe, len = 2;
        } else if (n == ':') {
          t->kind = Tok::kPipeWords, len = 2;
        } else {
          t->kind = Tok::kPipe;
        }
        break;
      case '>':
        if (n == '=') {
          t->kind = Tok::kGe, len = 2;
        } else {
          t->kind = Tok::kGt;
        }
        break;
      case '<':
        if (n == '=') {
          t->kind = Tok::kLe, len = 2;
        } else {
          t->kind = Tok::kLt;
        }
        break;
      default: {
        unsigned char u = static_cast<unsigned char>(c);
        char buf[48];
        if (u >= 0x21 && u < 0x7f) {
          std::snprintf(buf, sizeof(buf), "unexpected character '%c'", c);
        } else {
          std::snprintf(buf, sizeof(buf), "unexpected byte 0x%02x", u);
        }
        return ErrorAt(in_, i_, buf);
      }
    }
    i_ += len;
    return Status::OK();
  }

  std::string_view in_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

struct RangeFnInfo {
  std::string_view name;
  RangeFn fn;
  bool unwrap_allowed;
  bool unwrap_required;
  bool grouping_allowed;
};
constexpr RangeFnInfo kRangeFns[] = {
    {"count_over_time", RangeFn::kCountOverTime, false, false, false},
    {"rate", RangeFn::kRate, true, false, true},
    {"bytes_over_time", RangeFn::kBytesOverTime, false, false, false},
    {"bytes_rate", RangeFn::kBytesRate, false, false, false},
    {"sum_over_time", RangeFn::kSumOverTime, true, true, false},
    {"avg_over_time", RangeFn::kAvgOverTime, true, true, true},
    {"min_over_time", RangeFn::kMinOverTime, true, true, true},
    {"max_over_time", RangeFn::kMaxOverTime, true, true, true},
    {"first_over_time", RangeFn::kFirstOverTime, true, true, true},
    {"last_over_time", RangeFn::kLastOverTime, true, true, true},
    {"stddev_over_time", RangeFn::kStddevOverTime, true, true, true},
    {"stdvar_over_time", RangeFn::kStdvarOverTime, true, true, true},
    {"quantile_over_time", RangeFn::kQuantileOverTime, true, true, true},
    {"absent_over_time", RangeFn::kAbsentOverTime, true, false, false},
    {"rate_counter", RangeFn::kRateCounter, true, true, true},
};

const RangeFnInfo* FindRangeFn(std::string_view name) {
  for (const RangeFnInfo& f : kRangeFns) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const RangeFnInfo& RangeFnInfoOf(RangeFn fn) {
  for (const RangeFnInfo& f : kRangeFns) {
    if (f.fn == fn) return f;
  }
  return kRangeFns[0];
}

struct VecOpInfo {
  std::string_view name;
  VecOp op;
};
constexpr VecOpInfo kVecOps[] = {
    {"sum", VecOp::kSum},
    {"avg", VecOp::kAvg},
    {"min", VecOp::kMin},
    {"max", VecOp::kMax},
    {"count", VecOp::kCount},
    {"stddev", VecOp::kStddev},
    {"stdvar", VecOp::kStdvar},
    {"topk", VecOp::kTopk},
    {"bottomk", VecOp::kBottomk},
    {"sort", VecOp::kSort},
    {"sort_desc", VecOp::kSortDesc},
};

const VecOpInfo* FindVecOp(std::string_view name) {
  for (const VecOpInfo& v : kVecOps) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

// Loki functions and stages that Sightline recognizes but does not implement.
bool IsUnsupportedFunction(std::string_view name) {
  return name == "label_replace" || name == "count_values" || name == "approx_topk";
}

// Words that start a stage after `|` (anything else there is a label filter).
bool IsStageKeyword(std::string_view w) {
  return w == "json" || w == "logfmt" || w == "regexp" || w == "pattern" || w == "unpack" ||
         w == "line_format" || w == "label_format" || w == "drop" || w == "keep" || w == "unwrap" ||
         w == "decolorize";
}

bool IsLineFilterTok(Tok k) {
  return k == Tok::kPipeEq || k == Tok::kNeq || k == Tok::kPipeRe || k == Tok::kNre ||
         k == Tok::kPipeWords;
}

bool StartsLogQuery(Tok k) { return k == Tok::kLBrace || k == Tok::kPipe || IsLineFilterTok(k); }

struct BinOpInfo {
  BinOp op;
  int prec;
};

bool LookupBinOp(const Token& t, BinOpInfo* info) {
  switch (t.kind) {
    case Tok::kAdd:
      *info = {BinOp::kAdd, 4};
      return true;
    case Tok::kSub:
      *info = {BinOp::kSub, 4};
      return true;
    case Tok::kMul:
      *info = {BinOp::kMul, 5};
      return true;
    case Tok::kDiv:
      *info = {BinOp::kDiv, 5};
      return true;
    case Tok::kMod:
      *info = {BinOp::kMod, 5};
      return true;
    case Tok::kPow:
      *info = {BinOp::kPow, 6};
      return true;
    case Tok::kEqEq:
      *info = {BinOp::kEq, 3};
      return true;
    case Tok::kNeq:
      *info = {BinOp::kNeq, 3};
      return true;
    case Tok::kGt:
      *info = {BinOp::kGt, 3};
      return true;
    case Tok::kGe:
      *info = {BinOp::kGe, 3};
      return true;
    case Tok::kLt:
      *info = {BinOp::kLt, 3};
      return true;
    case Tok::kLe:
      *info = {BinOp::kLe, 3};
      return true;
    case Tok::kIdent:
      if (t.text == "or") {
        *info = {BinOp::kOr, 1};
        return true;
      }
      if (t.text == "and") {
        *info = {BinOp::kAnd, 2};
        return true;
      }
      if (t.text == "unless") {
        *info = {BinOp::kUnless, 2};
        return true;
      }
      return false;
    default:
      return false;
  }
}

int BinOpPrecedence(BinOp op) {
  switch (op) {
    case BinOp::kOr:
      return 1;
    case BinOp::kAnd:
    case BinOp::kUnless:
      return 2;
    case BinOp::kEq:
    case BinOp::kNeq:
    case BinOp::kGt:
    case BinOp::kGe:
    case BinOp::kLt:
    case BinOp::kLe:
      return 3;
    case BinOp::kAdd:
    case BinOp::kSub:
      return 4;
    case BinOp::kMul:
    case BinOp::kDiv:
    case BinOp::kMod:
      return 5;
    case BinOp::kPow:
      return 6;
  }
  return 0;
}

bool IsComparisonOp(BinOp op) { return BinOpPrecedence(op) == 3; }
bool IsSetOp(BinOp op) { return op == BinOp::kAnd || op == BinOp::kOr || op == BinOp::kUnless; }

// Merges `rhs` into `*acc` under an n-ary `kind` node, flattening nested nodes of that kind.
void Combine(LabelFilterExpr::Kind kind, LabelFilterExpr* acc, LabelFilterExpr rhs) {
  if (acc->kind != kind) {
    LabelFilterExpr node;
    node.kind = kind;
    node.children.push_back(std::move(*acc));
    *acc = std::move(node);
  }
  if (rhs.kind == kind) {
    for (LabelFilterExpr& c : rhs.children) acc->children.push_back(std::move(c));
  } else {
    acc->children.push_back(std::move(rhs));
  }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

class NestingGuard {
 public:
  explicit NestingGuard(int* depth) : depth_(depth) { ++*depth_; }
  ~NestingGuard() { --*depth_; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;

 private:
  int* depth_;
};

class Parser {
 public:
  Parser(std::string_view in, std::vector<Token> toks) : in_(in), toks_(std::move(toks)) {}

  Status ParseQuery(Expr* out) {
    if (Peek().kind == Tok::kEof) return Error(Peek(), "empty query");
    if (StartsLogQuery(Peek().kind)) {
      LogQuery q;
      SL_RETURN_IF_ERROR(ParseLogQuery(nullptr, nullptr, &q));
      const Token& t = Peek();
      if (t.kind == Tok::kLBracket) {
        return Error(t,
                     "a range such as [5m] is only allowed inside a range aggregation, "
                     "e.g. count_over_time({...}[5m])");
      }
      if (t.kind != Tok::kEof) return Error(t, "unexpected " + Describe(t) + " after log query");
      out->v = std::move(q);
      return Status::OK();
    }
    MetricExpr m;
    int height = 0;
    SL_RETURN_IF_ERROR(ParseBinary(0, &m, &height));
    if (Peek().kind != Tok::kEof) return Error(Peek(), "unexpected " + Describe(Peek()));
    out->v = std::move(m);
    return Status::OK();
  }

 private:
  // ---- token access ----
  const Token& Peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < toks_.size() ? toks_[i] : toks_.back();
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool PeekIs(Tok kind, size_t ahead = 0) const { return Peek(ahead).kind == kind; }
  bool PeekWord(std::string_view w, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kIdent && t.text == w;
  }
  Status Error(const Token& t, std::string_view msg) const { return ErrorAt(in_, t.pos, msg); }
  Status Expect(Tok kind, std::string_view what) {
    if (!PeekIs(kind)) {
      return Error(Peek(), "expected " + std::string(what) + ", got " + Describe(Peek()));
    }
    Next();
    return Status::OK();
  }
  Status CheckDepth() const {
    if (depth_ >= kMaxLogQLDepth) {
      return Error(Peek(), "query is nested too deeply (more than " +
                               std::to_string(kMaxLogQLDepth) + " levels)");
    }
    return Status::OK();
  }

  Status CheckRegex(const Token& at, const std::string& re, bool need_named_group = false) const {
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 compiled(re, opts);
    if (!compiled.ok()) return Error(at, "invalid regex: " + compiled.error());
    if (need_named_group && compiled.NamedCapturingGroups().empty()) {
      return Error(at,
                   "regexp stage needs at least one named capture group such as "
                   "(?P<name>...)");
    }
    return Status::OK();
  }

  // ---- log queries ----

  // Parses `[selector] stages`. With `range` set (inside a range aggregation), also accepts the
  // range (right after the selector or after the stages), offset and `| unwrap`.
  Status ParseLogQuery(RangeAgg* range, bool* saw_range, LogQuery* q) {
    if (PeekIs(Tok::kLBrace)) SL_RETURN_IF_ERROR(ParseSelector(&q->selector));
    if (range != nullptr && PeekIs(Tok::kLBracket)) {
      SL_RETURN_IF_ERROR(ParseRange(range));
      *saw_range = true;
    }
    while (true) {
      const Token& t = Peek();
      if (IsLineFilterTok(t.kind)) {
        LineFilter f;
        SL_RETURN_IF_ERROR(ParseLineFilter(&f));
        q->stages.emplace_back(std::move(f));
        continue;
      }
      if (t.kind != Tok::kPipe) break;
      const Token& pipe = Next();
      const Token& s = Peek();
      if (s.kind == Tok::kGt && s.pos == pipe.pos + 1) {
        return Error(pipe, "pattern line filters (|>) are not supported");
      }
      if (s.kind == Tok::kIdent && s.text == "unwrap") {
        if (range == nullptr) {
          return Error(s,
                       "unwrap is only allowed inside a range aggregation, "
                       "e.g. sum_over_time({...} | unwrap bytes [5m])");
        }
        SL_RETURN_IF_ERROR(ParseUnwrap(range));
        break;
      }
      Stage stage;
      SL_RETURN_IF_ERROR(ParseStage(&stage));
      q->stages.push_back(std::move(stage));
    }
    if (range != nullptr && PeekIs(Tok::kLBracket)) {
      if (*saw_range) return Error(Peek(), "the range is given twice");
      SL_RETURN_IF_ERROR(ParseRange(range));
      *saw_range = true;
    }
    return Status::OK();
  }

  Status ParseSelector(std::vector<LabelMatcher>* out) {
    Next();  // {
    while (!PeekIs(Tok::kRBrace)) {
      const Token& name = Peek();
      if (name.kind != Tok::kIdent) {
        return Error(name, "expected a label name or '}', got " + Describe(name));
      }
      Next();
      LabelMatcher m;
      m.name = std::string(name.text);
      const Token& op = Peek();
      switch (op.kind) {
        case Tok::kAssign:
          m.op = MatchOp::kEq;
          break;
        case Tok::kNeq:
          m.op = MatchOp::kNeq;
          break;
        case Tok::kRe:
          m.op = MatchOp::kRe;
          break;
        case Tok::kNre:
          m.op = MatchOp::kNre;
          break;
        default:
          return Error(op,
                       "expected '=', '!=', '=~' or '!~' after label name, got " + Describe(op));
      }
      Next();
      const Token& value = Peek();
      if (value.kind != Tok::kString) {
        return Error(value, "expected a quoted string value, got " + Describe(value));
      }
      if (m.op == MatchOp::kRe || m.op == MatchOp::kNre) {
        SL_RETURN_IF_ERROR(CheckRegex(value, value.str));
      }
      Next();
      m.value = value.str;
      out->push_back(std::move(m));
      if (PeekIs(Tok::kComma)) {
        Next();
      } else if (!PeekIs(Tok::kRBrace)) {
        return Error(Peek(), "expected ',' or '}', got " + Describe(Peek()));
      }
    }
    Next();  // }
    return Status::OK();
  }

  Status ParseLineFilter(LineFilter* f) {
    const Token& op = Next();
    switch (op.kind) {
      case Tok::kPipeEq:
        f->op = LineFilterOp::kContains;
        break;
      case Tok::kNeq:
        f->op = LineFilterOp::kNotContains;
        break;
      case Tok::kPipeRe:
        f->op = LineFilterOp::kRegex;
        break;
      case Tok::kNre:
        f->op = LineFilterOp::kNotRegex;
        break;
      default:
        f->op = LineFilterOp::kWords;
        break;
    }
    while (true) {
      const Token& v = Peek();
      if (v.kind == Tok::kIdent && v.text == "ip" && PeekIs(Tok::kLParen, 1)) {
        return Error(v, "ip() line filters are not supported");
      }
      if (v.kind != Tok::kString) {
        return Error(
            v, "expected a quoted string after '" + std::string(op.text) + "', got " + Describe(v));
      }
      if (f->op == LineFilterOp::kRegex || f->op == LineFilterOp::kNotRegex) {
        SL_RETURN_IF_ERROR(CheckRegex(v, v.str));
      } else if (f->op == LineFilterOp::kWords && !HasWordToken(v.str)) {
        return Error(v, "'|:' needs at least one word (letters, digits or '_')");
      }
      Next();
      f->values.push_back(v.str);
      if (!PeekWord("or")) break;
      Next();
    }
    return Status::OK();
  }

  // Parses the stage after a `|` (not unwrap).
  Status ParseStage(Stage* out) {
    const Token& t = Peek();
    if (t.kind == Tok::kIdent) {
      std::string_view w = t.text;
      if (w == "json" || w == "logfmt") return ParseJsonOrLogfmt(out);
      if (w == "regexp" || w == "pattern") {
        Next();
        const Token& s = Peek();
        if (s.kind != Tok::kString) {
          return Error(s, "expected a quoted " + std::string(w) + " after '" + std::string(w) +
                              "', got " + Describe(s));
        }
        ParserStage ps;
        if (w == "regexp") {
          SL_RETURN_IF_ERROR(CheckRegex(s, s.str, /*need_named_group=*/true));
          ps.kind = ParserKind::kRegexp;
        } else {
          std::string err = CheckPattern(s.str);
          if (!err.empty()) return Error(s, err);
          ps.kind = ParserKind::kPattern;
        }
        ps.arg = s.str;
        Next();
        *out = std::move(ps);
        return Status::OK();
      }
      if (w == "unpack") {
        Next();
        ParserStage ps;
        ps.kind = ParserKind::kUnpack;
        *out = std::move(ps);
        return Status::OK();
      }
      if (w == "line_format") {
        Next();
        const Token& s = Peek();
        if (s.kind != Tok::kString) {
          return Error(s, "expected a quoted template after 'line_format', got " + Describe(s));
        }
        Next();
        *out = LineFormatStage{s.str};
        return Status::OK();
      }
      if (w == "label_format") return ParseLabelFormat(out);
      if (w == "drop" || w == "keep") return ParseDropKeep(out);
      if (w == "decolorize") return Error(t, "the decolorize stage is not supported");
    }
    if (t.kind != Tok::kIdent && t.kind != Tok::kLParen) {
      return Error(t,
                   "expected a parser (json, logfmt, ...), a formatter or a label filter "
                   "after '|', got " +
                       Describe(t));
    }
    LabelFilterStage lf;
    SL_RETURN_IF_ERROR(ParseLabelFilterOr(&lf.expr));
    *out = std::move(lf);
    return Status::OK();
  }

  Status ParseJsonOrLogfmt(Stage* out) {
    const Token& kw = Next();
    ParserStage ps;
    ps.kind = kw.text == "json" ? ParserKind::kJson : ParserKind::kLogfmt;
    if (ps.kind == ParserKind::kLogfmt) {
      while (PeekIs(Tok::kSub)) {
        size_t start = Peek().pos;
        std::string_view rest = in_.substr(start);
        std::string_view flag;
        for (std::string_view f :
             {std::string_view("--strict"), std::string_view("--keep-empty")}) {
          if (rest.substr(0, f.size()) == f &&
              (rest.size() == f.size() || !IsIdentChar(rest[f.size()]))) {
            flag = f;
          }
        }
        if (flag.empty()) {
          return Error(Peek(), "unknown logfmt flag (expected --strict or --keep-empty)");
        }
        (flag == "--strict" ? ps.strict : ps.keep_empty) = true;
        while (!PeekIs(Tok::kEof) && Peek().pos < start + flag.size()) Next();
      }
    }
    if (PeekIs(Tok::kIdent)) {
      while (true) {
        const Token& name = Peek();
        if (name.kind != Tok::kIdent) {
          return Error(name, "expected a field name, got " + Describe(name));
        }
        Next();
        std::string expr(name.text);
        if (PeekIs(Tok::kAssign)) {
          Next();
          const Token& e = Peek();
          if (e.kind != Tok::kString) {
            return Error(e, "expected a quoted expression after '=', got " + Describe(e));
          }
          expr = e.str;
          Next();
        }
        ps.params.emplace_back(std::string(name.text), std::move(expr));
        if (!PeekIs(Tok::kComma)) break;
        Next();
      }
    }
    *out = std::move(ps);
    return Status::OK();
  }

  Status ParseLabelFormat(Stage* out) {
    Next();  // label_format
    LabelFormatStage lf;
    while (true) {
      const Token& dst = Peek();
      if (dst.kind != Tok::kIdent) {
        return Error(dst, "expected a field name, got " + Describe(dst));
      }
      Next();
      SL_RETURN_IF_ERROR(Expect(Tok::kAssign, "'=' in label_format"));
      const Token& src = Peek();
      LabelFormatItem item;
      item.dst = std::string(dst.text);
      if (src.kind == Tok::kIdent) {
        item.src = std::string(src.text);
      } else if (src.kind == Tok::kString) {
        item.src = src.str;
        item.is_template = true;
      } else {
        return Error(src, "expected a field name or a quoted template, got " + Describe(src));
      }
      Next();
      lf.items.push_back(std::move(item));
      if (!PeekIs(Tok::kComma)) break;
      Next();
    }
    *out = std::move(lf);
    return Status::OK();
  }

  Status ParseDropKeep(Stage* out) {
    DropStage d;
    d.keep = Next().text == "keep";
    while (true) {
      const Token& name = Peek();
      if (name.kind != Tok::kIdent) {
        return Error(name, "expected a field name, got " + Describe(name));
      }
      Next();
      Tok k = Peek().kind;
      if (k == Tok::kAssign || k == Tok::kNeq || k == Tok::kRe || k == Tok::kNre) {
        return Error(Peek(), "conditional drop/keep (name=\"value\") is not supported");
      }
      d.names.emplace_back(name.text);
      if (!PeekIs(Tok::kComma)) break;
      Next();
    }
    *out = std::move(d);
    return Status::OK();
  }

  Status ParseLabelFilterOr(LabelFilterExpr* out) {
    SL_RETURN_IF_ERROR(ParseLabelFilterAnd(out));
    while (PeekWord("or")) {
      Next();
      LabelFilterExpr rhs;
      SL_RETURN_IF_ERROR(ParseLabelFilterAnd(&rhs));
      Combine(LabelFilterExpr::Kind::kOr, out, std::move(rhs));
    }
    return Status::OK();
  }

  Status ParseLabelFilterAnd(LabelFilterExpr* out) {
    SL_RETURN_IF_ERROR(ParseLabelFilterPrimary(out));
    while (PeekIs(Tok::kComma) || PeekWord("and")) {
      Next();
      LabelFilterExpr rhs;
      SL_RETURN_IF_ERROR(ParseLabelFilterPrimary(&rhs));
      Combine(LabelFilterExpr::Kind::kAnd, out, std::move(rhs));
    }
    return Status::OK();
  }

  Status ParseLabelFilterPrimary(LabelFilterExpr* out) {
    const Token& t = Peek();
    if (t.kind == Tok::kLParen) {
      SL_RETURN_IF_ERROR(CheckDepth());
      NestingGuard guard(&depth_);
      Next();
      SL_RETURN_IF_ERROR(ParseLabelFilterOr(out));
      return Expect(Tok::kRParen, "')'");
    }
    if (t.kind != Tok::kIdent) {
      return Error(t, "expected a label filter such as status>=400, got " + Describe(t));
    }
    out->kind = LabelFilterExpr::Kind::kLeaf;
    return ParseComparison(&out->cmp);
  }

  Status ParseComparison(Comparison* c) {
    const Token& name = Next();
    c->name = std::string(name.text);
    const Token& op = Peek();
    bool numeric_only = false, string_only = false;
    switch (op.kind) {
      case Tok::kAssign:
        c->op = CmpOp::kEq;
        break;
      case Tok::kEqEq:
        c->op = CmpOp::kEq, numeric_only = true;
        break;
      case Tok::kNeq:
        c->op = CmpOp::kNeq;
        break;
      case Tok::kRe:
        c->op = CmpOp::kRe, string_only = true;
        break;
      case Tok::kNre:
        c->op = CmpOp::kNre, string_only = true;
        break;
      case Tok::kGt:
        c->op = CmpOp::kGt, numeric_only = true;
        break;
      case Tok::kGe:
        c->op = CmpOp::kGe, numeric_only = true;
        break;
      case Tok::kLt:
        c->op = CmpOp::kLt, numeric_only = true;
        break;
      case Tok::kLe:
        c->op = CmpOp::kLe, numeric_only = true;
        break;
      default:
        return Error(op,
                     "expected a comparison operator (=, !=, =~, !~, ==, >, >=, <, <=) "
                     "after '" +
                         c->name + "', got " + Describe(op));
    }
    Next();
    std::string op_text(op.text);
    const Token& v = Peek();
    if (v.kind == Tok::kString) {
      if (numeric_only) {
        return Error(v, "operator '" + op_text +
                            "' needs a number, duration or byte size, "
                            "not a string");
      }
      if (string_only) SL_RETURN_IF_ERROR(CheckRegex(v, v.str));
      c->value = v.str;
      Next();
      return Status::OK();
    }
    if (v.kind == Tok::kIdent && v.text == "ip" && PeekIs(Tok::kLParen, 1)) {
      return Error(v, "ip() label filters are not supported");
    }
    bool negative = false;
    const Token* num = &v;
    if ((v.kind == Tok::kSub || v.kind == Tok::kAdd) &&
        (PeekIs(Tok::kNumber, 1) || PeekIs(Tok::kNumUnit, 1))) {
      negative = v.kind == Tok::kSub;
      Next();
      num = &Peek();
    }
    if (num->kind != Tok::kNumber && num->kind != Tok::kNumUnit) {
      return Error(*num, "expected a quoted string, number, duration or byte size after '" +
                             op_text + "', got " + Describe(*num));
    }
    if (string_only) {
      return Error(*num, "operator '" + op_text + "' needs a quoted regex, not a number");
    }
    if (num->kind == Tok::kNumber) {
      if (!ParseNumberLiteral(num->text, &c->number)) return Error(*num, "number out of range");
      c->number_kind = NumberKind::kPlain;
    } else {
      int64_t ns;
      if (ParseDuration(num->text, &ns)) {
        c->number = static_cast<double>(ns) / kNsPerSecond;
        c->number_kind = NumberKind::kDuration;
      } else if (ParseBytes(num->text, &c->number)) {
        c->number_kind = NumberKind::kBytes;
      } else {
        return Error(*num, "invalid number, duration or byte size " + Describe(*num));
      }
    }
    c->numeric = true;
    c->value = (negative ? "-" : "") + std::string(num->text);
    if (negative) c->number = -c->number;
    Next();
    return Status::OK();
  }

  // At `unwrap` (the '|' is consumed). Also parses the label filters that may follow it.
  Status ParseUnwrap(RangeAgg* ra) {
    Next();  // unwrap
    const Token& t = Peek();
    if (t.kind != Tok::kIdent) {
      return Error(t, "expected a field name after unwrap, got " + Describe(t));
    }
    if ((t.text == "duration" || t.text == "duration_seconds" || t.text == "bytes") &&
        PeekIs(Tok::kLParen, 1)) {
      ra->unwrap_conv = t.text == "bytes" ? UnwrapConv::kBytes : UnwrapConv::kDuration;
      Next();
      Next();
      const Token& name = Peek();
      if (name.kind != Tok::kIdent) {
        return Error(name, "expected a field name, got " + Describe(name));
      }
      Next();
      ra->unwrap = std::string(name.text);
      SL_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
    } else {
      Next();
      ra->unwrap = std::string(t.text);
    }
    while (true) {
      const Token& n = Peek();
      if (IsLineFilterTok(n.kind)) return Error(n, "only label filters may follow unwrap");
      if (n.kind != Tok::kPipe) break;
      const Token& after = Peek(1);
      if (after.kind == Tok::kIdent && IsStageKeyword(after.text)) {
        return Error(after, "only label filters may follow unwrap");
      }
      Next();
      LabelFilterStage lf;
      SL_RETURN_IF_ERROR(ParseLabelFilterOr(&lf.expr));
      ra->unwrap_filters.push_back(std::move(lf));
    }
    return Status::OK();
  }

  // `[5m]`, optionally followed by `offset 1h`.
  Status ParseRange(RangeAgg* ra) {
    Next();  // [
    const Token& d = Peek();
    SL_RETURN_IF_ERROR(ParseDurationToken("range", &ra->range_ns));
    if (ra->range_ns <= 0) return Error(d, "the range must be greater than zero");
    SL_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']'"));
    if (PeekWord("offset")) {
      Next();
      SL_RETURN_IF_ERROR(ParseDurationToken("offset", &ra->offset_ns));
    }
    return Status::OK();
  }

  Status ParseDurationToken(std::string_view what, int64_t* ns) {
    const Token& t = Peek();
    if (t.kind == Tok::kNumber) {
      return Error(t, "the " + std::string(what) + " needs a unit, e.g. " + std::string(t.text) +
                          "s or " + std::string(t.text) + "m");
    }
    if (t.kind != Tok::kNumUnit) {
      return Error(t, "expected a duration such as 5m for the " + std::string(what) + ", got " +
                          Describe(t));
    }
    if (!ParseDuration(t.text, ns)) {
      return Error(t, "invalid duration " + Describe(t) +
                          " (units: ns, us, ms, s, m, h, d, w, y; e.g. 1h30m)");
    }
    Next();
    return Status::OK();
  }

  // ---- metric queries ----

  // Precedence climbing. `*height` receives the height of the produced tree.
  Status ParseBinary(int min_prec, MetricExpr* out, int* height) {
    SL_RETURN_IF_ERROR(CheckDepth());
    NestingGuard guard(&depth_);
    MetricExpr lhs;
    int lhs_height = 0;
    SL_RETURN_IF_ERROR(ParsePrimary(&lhs, &lhs_height));
    BinOpInfo info;
    while (LookupBinOp(Peek(), &info) && info.prec >= min_prec) {
      const Token& op_tok = Next();
      BinaryExpr b;
      b.op = info.op;
      if (PeekWord("bool")) {
        if (!IsComparisonOp(b.op)) {
          return Error(Peek(), "the bool modifier is only allowed after a comparison operator");
        }
        Next();
        b.return_bool = true;
      }
      if (PeekWord("on") || PeekWord("ignoring")) {
        VectorMatching m;
        m.on = Next().text == "on";
        SL_RETURN_IF_ERROR(ParseLabelList(&m.labels));
        if (PeekWord("group_left") || PeekWord("group_right")) {
          const Token& g = Next();
          if (IsSetOp(b.op)) {
            return Error(g, "group_left/group_right cannot be used with and, or, unless");
          }
          m.card = g.text == "group_left" ? VectorMatching::Card::kManyToOne
                                          : VectorMatching::Card::kOneToMany;
          if (PeekIs(Tok::kLParen)) SL_RETURN_IF_ERROR(ParseLabelList(&m.include));
        }
        b.matching = std::move(m);
      }
      MetricExpr rhs;
      int rhs_height = 0;
      // ^ is right-associative; everything else is left-associative.
      int next_min = b.op == BinOp::kPow ? info.prec : info.prec + 1;
      SL_RETURN_IF_ERROR(ParseBinary(next_min, &rhs, &rhs_height));
      if (IsSetOp(b.op) && (IsScalar(lhs) || IsScalar(rhs))) {
        return Error(op_tok, "operator '" + std::string(op_tok.text) +
                                 "' needs vector operands on both sides, not numbers");
      }
      lhs_height = 1 + std::max(lhs_height, rhs_height);
      if (lhs_height > kMaxLogQLTreeHeight) {
        return Error(op_tok, "expression is too complex (more than " +
                                 std::to_string(kMaxLogQLTreeHeight) + " nested operations)");
      }
      b.lhs = std::make_unique<MetricExpr>(std::move(lhs));
      b.rhs = std::make_unique<MetricExpr>(std::move(rhs));
      lhs.node = std::move(b);
    }
    *out = std::move(lhs);
    *height = lhs_height;
    return Status::OK();
  }

  Status ParsePrimary(MetricExpr* out, int* height) {
    const Token& t = Peek();
    *height = 1;
    switch (t.kind) {
      case Tok::kLParen:
        Next();
        SL_RETURN_IF_ERROR(ParseBinary(0, out, height));
        return Expect(Tok::kRParen, "')'");
      case Tok::kNumber:
      case Tok::kAdd:
      case Tok::kSub: {
        Literal lit;
        SL_RETURN_IF_ERROR(ParseSignedNumber(&lit.value));
        out->node = lit;
        return Status::OK();
      }
      case Tok::kNumUnit:
        return Error(t, "unexpected duration " + Describe(t) +
                            "; durations belong in ranges like [5m], offsets and label filters");
      case Tok::kIdent:
        return ParseFunction(out, height);
      default:
        if (StartsLogQuery(t.kind)) {
          return Error(t,
                       "a log query cannot be used here; turn it into a metric with a range "
                       "aggregation, e.g. count_over_time({...}[5m])");
        }
        return Error(t, "expected a metric expression, got " + Describe(t));
    }
  }

  // An optionally signed number literal.
  Status ParseSignedNumber(double* out) {
    bool negative = false;
    if (PeekIs(Tok::kSub) || PeekIs(Tok::kAdd)) {
      if (!PeekIs(Tok::kNumber, 1)) {
        return Error(Peek(), "unary '" + std::string(Peek().text) +
                                 "' is only supported before a number literal");
      }
      negative = PeekIs(Tok::kSub);
      Next();
    }
    const Token& t = Peek();
    if (t.kind != Tok::kNumber) return Error(t, "expected a number, got " + Describe(t));
    if (!ParseNumberLiteral(t.text, out)) return Error(t, "number out of range");
    Next();
    if (negative) *out = -*out;
    return Status::OK();
  }

  Status ParseFunction(MetricExpr* out, int* height) {
    const Token& name = Peek();
    if (const RangeFnInfo* f = FindRangeFn(name.text)) return ParseRangeAgg(*f, out);
    if (const VecOpInfo* v = FindVecOp(name.text)) return ParseVectorAgg(v->op, out, height);
    if (name.text == "vector") {
      Next();
      SL_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after vector"));
      VectorLit lit;
      SL_RETURN_IF_ERROR(ParseSignedNumber(&lit.value));
      SL_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
      out->node = lit;
      return Status::OK();
    }
    std::string quoted = "'" + std::string(name.text.substr(0, 40)) + "'";
    if (IsUnsupportedFunction(name.text)) {
      return Error(name, "function " + quoted + " is not supported");
    }
    if (PeekIs(Tok::kLParen, 1)) return Error(name, "unknown function " + quoted);
    return Error(name, "unexpected identifier " + quoted + "; expected a metric expression");
  }

  Status ParseRangeAgg(const RangeFnInfo& fn, MetricExpr* out) {
    const Token& name = Next();
    std::string fn_name(fn.name);
    SL_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after " + fn_name));
    RangeAgg ra;
    ra.fn = fn.fn;
    if (fn.fn == RangeFn::kQuantileOverTime) {
      SL_RETURN_IF_ERROR(ParseSignedNumber(&ra.param));
      SL_RETURN_IF_ERROR(Expect(Tok::kComma, "',' after the quantile"));
    }
    const Token& start = Peek();
    if (!StartsLogQuery(start.kind) && start.kind != Tok::kLBracket) {
      return Error(start, "expected a log query with a range, e.g. " + fn_name +
                              "({app=\"x\"}[5m]), got " + Describe(start));
    }
    bool saw_range = false;
    SL_RETURN_IF_ERROR(ParseLogQuery(&ra, &saw_range, &ra.query));
    if (!saw_range) {
      return Error(Peek(),
                   "expected a range such as [5m] in " + fn_name + ", got " + Describe(Peek()));
    }
    SL_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
    if (ra.unwrap && !fn.unwrap_allowed) {
      return Error(name, fn_name + " does not accept '| unwrap'");
    }
    if (!ra.unwrap && fn.unwrap_required) {
      return Error(name, fn_name +
                             " needs a value to aggregate: add '| unwrap <field>' before "
                             "the range");
    }
    if (PeekWord("by") || PeekWord("without")) {
      const Token& g = Peek();
      if (!fn.grouping_allowed) {
        return Error(g, "grouping is not allowed for " + fn_name + "; use e.g. sum by (...) (" +
                            fn_name + "(...))");
      }
      SL_RETURN_IF_ERROR(ParseGrouping(&ra.grouping, &ra.without));
      ra.has_grouping = true;
    }
    out->node = std::move(ra);
    return Status::OK();
  }

  Status ParseVectorAgg(VecOp op, MetricExpr* out, int* height) {
    const Token& name = Next();
    std::string op_name(name.text);
    VectorAgg va;
    va.op = op;
    if (PeekWord("by") || PeekWord("without")) {
      SL_RETURN_IF_ERROR(ParseGrouping(&va.grouping, &va.without));
      va.has_grouping = true;
    }
    SL_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after " + op_name));
    if (op == VecOp::kTopk || op == VecOp::kBottomk) {
      const Token& p = Peek();
      SL_RETURN_IF_ERROR(ParseSignedNumber(&va.param));
      if (!(va.param >= 1) || va.param != std::floor(va.param)) {
        return Error(p, "the first argument of " + op_name + " must be a positive integer");
      }
      SL_RETURN_IF_ERROR(Expect(Tok::kComma, "',' after the parameter of " + op_name));
    }
    const Token& inner_start = Peek();
    auto inner = std::make_unique<MetricExpr>();
    int inner_height = 0;
    SL_RETURN_IF_ERROR(ParseBinary(0, inner.get(), &inner_height));
    SL_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
    if (PeekWord("by") || PeekWord("without")) {
      if (va.has_grouping) return Error(Peek(), "by/without is given twice");
      SL_RETURN_IF_ERROR(ParseGrouping(&va.grouping, &va.without));
      va.has_grouping = true;
    }
    if ((op == VecOp::kSort || op == VecOp::kSortDesc) && va.has_grouping) {
      return Error(name, op_name + " does not accept by/without");
    }
    if (IsScalar(*inner)) {
      return Error(inner_start, op_name + " needs a vector argument, not a number");
    }
    va.inner = std::move(inner);
    out->node = std::move(va);
    *height = inner_height + 1;
    return Status::OK();
  }

  // `by (a, b)` or `without (a, b)`.
  Status ParseGrouping(std::vector<std::string>* labels, bool* without) {
    *without = Next().text == "without";
    return ParseLabelList(labels);
  }

  // `(a, b, c)`; empty lists and a trailing comma are allowed.
  Status ParseLabelList(std::vector<std::string>* labels) {
    SL_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' before the label list"));
    while (!PeekIs(Tok::kRParen)) {
      const Token& t = Peek();
      if (t.kind != Tok::kIdent) {
        return Error(t, "expected a label name or ')', got " + Describe(t));
      }
      Next();
      labels->emplace_back(t.text);
      if (PeekIs(Tok::kComma)) {
        Next();
      } else if (!PeekIs(Tok::kRParen)) {
        return Error(Peek(), "expected ',' or ')', got " + Describe(Peek()));
      }
    }
    Next();  // )
    return Status::OK();
  }

  std::string_view in_;
  std::vector<Token> toks_;  // always ends with a kEof token
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Formatter
// ---------------------------------------------------------------------------------------------

std::string FormatNumber(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

void AppendList(std::string* out, const std::vector<std::string>& names) {
  out->push_back('(');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) *out += ", ";
    *out += names[i];
  }
  out->push_back(')');
}

std::string_view CmpOpName(CmpOp op, bool numeric) {
  switch (op) {
    case CmpOp::kEq:
      return numeric ? "==" : "=";
    case CmpOp::kNeq:
      return "!=";
    case CmpOp::kRe:
      return "=~";
    case CmpOp::kNre:
      return "!~";
    case CmpOp::kGt:
      return ">";
    case CmpOp::kGe:
      return ">=";
    case CmpOp::kLt:
      return "<";
    case CmpOp::kLe:
      return "<=";
  }
  return "?";
}

void AppendLabelFilter(const LabelFilterExpr& e, std::string* out) {
  switch (e.kind) {
    case LabelFilterExpr::Kind::kLeaf:
      *out += e.cmp.name;
      *out += CmpOpName(e.cmp.op, e.cmp.numeric);
      if (e.cmp.numeric) {
        *out += e.cmp.value;
      } else {
        AppendQuoted(out, e.cmp.value);
      }
      return;
    case LabelFilterExpr::Kind::kAnd:
    case LabelFilterExpr::Kind::kOr: {
      bool is_and = e.kind == LabelFilterExpr::Kind::kAnd;
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) *out += is_and ? " and " : " or ";
        const LabelFilterExpr& c = e.children[i];
        bool paren = is_and && c.kind == LabelFilterExpr::Kind::kOr;
        if (paren) out->push_back('(');
        AppendLabelFilter(c, out);
        if (paren) out->push_back(')');
      }
      return;
    }
  }
}

// `| <filter>`; parenthesized if it would otherwise start with a stage keyword (a field named
// e.g. "json" can only be filtered as `| (json="x")`).
void AppendLabelFilterStage(const LabelFilterStage& s, std::string* out) {
  std::string f;
  AppendLabelFilter(s.expr, &f);
  size_t n = 0;
  while (n < f.size() && IsIdentChar(f[n])) ++n;
  bool paren = IsStageKeyword(std::string_view(f).substr(0, n));
  *out += "| ";
  if (paren) out->push_back('(');
  *out += f;
  if (paren) out->push_back(')');
}

void AppendParams(const ParserStage& p, std::string* out) {
  for (size_t i = 0; i < p.params.size(); ++i) {
    *out += i == 0 ? " " : ", ";
    *out += p.params[i].first;
    out->push_back('=');
    AppendQuoted(out, p.params[i].second);
  }
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void AppendStage(const Stage& stage, std::string* out) {
  std::visit(Overloaded{
                 [&](const LineFilter& f) {
                   *out += LineFilterOpName(f.op);
                   for (size_t i = 0; i < f.values.size(); ++i) {
                     *out += i == 0 ? " " : " or ";
                     AppendQuoted(out, f.values[i]);
                   }
                 },
                 [&](const ParserStage& p) {
                   switch (p.kind) {
                     case ParserKind::kJson:
                       *out += "| json";
                       AppendParams(p, out);
                       break;
                     case ParserKind::kLogfmt:
                       *out += "| logfmt";
                       if (p.strict) *out += " --strict";
                       if (p.keep_empty) *out += " --keep-empty";
                       AppendParams(p, out);
                       break;
                     case ParserKind::kRegexp:
                       *out += "| regexp ";
                       AppendQuoted(out, p.arg);
                       break;
                     case ParserKind::kPattern:
                       *out += "| pattern ";
                       AppendQuoted(out, p.arg);
                       break;
                     case ParserKind::kUnpack:
                       *out += "| unpack";
                       break;
                   }
                 },
                 [&](const LabelFilterStage& s) { AppendLabelFilterStage(s, out); },
                 [&](const LineFormatStage& s) {
                   *out += "| line_format ";
                   AppendQuoted(out, s.tmpl);
                 },
                 [&](const LabelFormatStage& s) {
                   *out += "| label_format";
                   for (size_t i = 0; i < s.items.size(); ++i) {
                     *out += i == 0 ? " " : ", ";
                     *out += s.items[i].dst;
                     out->push_back('=');
                     if (s.items[i].is_template) {
                       AppendQuoted(out, s.items[i].src);
                     } else {
                       *out += s.items[i].src;
                     }
                   }
                 },
                 [&](const DropStage& s) {
                   *out += s.keep ? "| keep" : "| drop";
                   for (size_t i = 0; i < s.names.size(); ++i) {
                     *out += i == 0 ? " " : ", ";
                     *out += s.names[i];
                   }
                 },
             },
             stage);
}

void AppendLogQuery(const LogQuery& q, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < q.selector.size(); ++i) {
    if (i > 0) *out += ", ";
    *out += q.selector[i].name;
    *out += MatchOpName(q.selector[i].op);
    AppendQuoted(out, q.selector[i].value);
  }
  out->push_back('}');
  for (const Stage& s : q.stages) {
    out->push_back(' ');
    AppendStage(s, out);
  }
}

void AppendMetric(const MetricExpr& e, std::string* out);

int MetricPrecedence(const MetricExpr& e) {
  if (const auto* b = std::get_if<BinaryExpr>(&e.node)) return BinOpPrecedence(b->op);
  return 100;  // atoms never need parentheses
}

void AppendOperand(const MetricExpr& e, bool paren, std::string* out) {
  if (paren) out->push_back('(');
  AppendMetric(e, out);
  if (paren) out->push_back(')');
}

void AppendMetric(const MetricExpr& e, std::string* out) {
  std::visit(Overloaded{
                 [&](const RangeAgg& r) {
                   *out += RangeFnName(r.fn);
                   out->push_back('(');
                   if (r.fn == RangeFn::kQuantileOverTime) {
                     *out += FormatNumber(r.param);
                     *out += ", ";
                   }
                   AppendLogQuery(r.query, out);
                   if (r.unwrap) {
                     *out += " | unwrap ";
                     switch (r.unwrap_conv) {
                       case UnwrapConv::kNone:
                         *out += *r.unwrap;
                         break;
                       case UnwrapConv::kDuration:
                         *out += "duration(" + *r.unwrap + ")";
                         break;
                       case UnwrapConv::kBytes:
                         *out += "bytes(" + *r.unwrap + ")";
                         break;
                     }
                     for (const LabelFilterStage& f : r.unwrap_filters) {
                       out->push_back(' ');
                       AppendLabelFilterStage(f, out);
                     }
                   }
                   *out += (r.query.stages.empty() && !r.unwrap) ? "[" : " [";
                   *out += FormatDuration(r.range_ns);
                   out->push_back(']');
                   if (r.offset_ns != 0) *out += " offset " + FormatDuration(r.offset_ns);
                   out->push_back(')');
                   if (r.has_grouping) {
                     *out += r.without ? " without " : " by ";
                     AppendList(out, r.grouping);
                   }
                 },
                 [&](const VectorAgg& v) {
                   *out += VecOpName(v.op);
                   if (v.has_grouping) {
                     *out += v.without ? " without " : " by ";
                     AppendList(out, v.grouping);
                     out->push_back(' ');
                   }
                   out->push_back('(');
                   if (v.op == VecOp::kTopk || v.op == VecOp::kBottomk) {
                     *out += FormatNumber(v.param);
                     *out += ", ";
                   }
                   if (v.inner) AppendMetric(*v.inner, out);
                   out->push_back(')');
                 },
                 [&](const BinaryExpr& b) {
                   int p = BinOpPrecedence(b.op);
                   bool right_assoc = b.op == BinOp::kPow;
                   int lp = MetricPrecedence(*b.lhs), rp = MetricPrecedence(*b.rhs);
                   AppendOperand(*b.lhs, right_assoc ? lp <= p : lp < p, out);
                   out->push_back(' ');
                   *out += BinOpName(b.op);
                   if (b.return_bool) *out += " bool";
                   if (b.matching) {
                     *out += b.matching->on ? " on " : " ignoring ";
                     AppendList(out, b.matching->labels);
                     if (b.matching->card != VectorMatching::Card::kOneToOne) {
                       *out += b.matching->card == VectorMatching::Card::kManyToOne
                                   ? " group_left "
                                   : " group_right ";
                       // Always print the list: `group_left (x + y)` would read as a label list.
                       AppendList(out, b.matching->include);
                     }
                   }
                   out->push_back(' ');
                   AppendOperand(*b.rhs, right_assoc ? rp < p : rp <= p, out);
                 },
                 [&](const Literal& l) { *out += FormatNumber(l.value); },
                 [&](const VectorLit& v) { *out += "vector(" + FormatNumber(v.value) + ")"; },
             },
             e.node);
}

}  // namespace

StatusOr<Expr> ParseLogQL(std::string_view query) {
  if (query.size() > kMaxLogQLBytes) {
    return InvalidArgument("query is too long (" + std::to_string(query.size()) +
                           " bytes; the limit is " + std::to_string(kMaxLogQLBytes) + ")");
  }
  std::vector<Token> toks;
  Lexer lexer(query);
  SL_RETURN_IF_ERROR(lexer.Run(&toks));
  Parser parser(query, std::move(toks));
  Expr expr;
  SL_RETURN_IF_ERROR(parser.ParseQuery(&expr));
  return expr;
}

std::string FormatExpr(const Expr& expr) {
  if (expr.is_metric()) return FormatMetricExpr(expr.metric());
  return FormatLogQuery(expr.log());
}

std::string FormatLogQuery(const LogQuery& query) {
  std::string out;
  AppendLogQuery(query, &out);
  return out;
}

std::string FormatMetricExpr(const MetricExpr& expr) {
  std::string out;
  AppendMetric(expr, &out);
  return out;
}

std::string FormatDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out.push_back('-');
    ns = ns == INT64_MIN ? INT64_MAX : -ns;  // INT64_MIN cannot occur from the parser
  }
  static constexpr DurationUnit kUnits[] = {
      {"y", 365 * kNsPerDay},
      {"w", 7 * kNsPerDay},
      {"d", kNsPerDay},
      {"h", 3600 * kNsPerSecond},
      {"m", 60 * kNsPerSecond},
      {"s", kNsPerSecond},
      {"ms", 1000 * 1000},
      {"us", 1000},
      {"ns", 1},
  };
  for (const DurationUnit& u : kUnits) {
    if (ns >= u.ns) {
      out += std::to_string(ns / u.ns);
      out += u.name;
      ns %= u.ns;
    }
  }
  return out;
}

bool IsScalar(const MetricExpr& e) {
  if (std::holds_alternative<Literal>(e.node)) return true;
  if (const auto* b = std::get_if<BinaryExpr>(&e.node)) {
    return b->lhs && b->rhs && IsScalar(*b->lhs) && IsScalar(*b->rhs);
  }
  return false;
}

std::string_view RangeFnName(RangeFn fn) { return RangeFnInfoOf(fn).name; }

std::string_view VecOpName(VecOp op) {
  for (const VecOpInfo& v : kVecOps) {
    if (v.op == op) return v.name;
  }
  return "?";
}

std::string_view BinOpName(BinOp op) {
  switch (op) {
    case BinOp::kAdd:
      return "+";
    case BinOp::kSub:
      return "-";
    case BinOp::kMul:
      return "*";
    case BinOp::kDiv:
      return "/";
    case BinOp::kMod:
      return "%";
    case BinOp::kPow:
      return "^";
    case BinOp::kEq:
      return "==";
    case BinOp::kNeq:
      return "!=";
    case BinOp::kGt:
      return ">";
    case BinOp::kGe:
      return ">=";
    case BinOp::kLt:
      return "<";
    case BinOp::kLe:
      return "<=";
    case BinOp::kAnd:
      return "and";
    case BinOp::kOr:
      return "or";
    case BinOp::kUnless:
      return "unless";
  }
  return "?";
}

std::string_view MatchOpName(MatchOp op) {
  switch (op) {
    case MatchOp::kEq:
      return "=";
    case MatchOp::kNeq:
      return "!=";
    case MatchOp::kRe:
      return "=~";
    case MatchOp::kNre:
      return "!~";
  }
  return "?";
}

std::string_view LineFilterOpName(LineFilterOp op) {
  switch (op) {
    case LineFilterOp::kContains:
      return "|=";
    case LineFilterOp::kNotContains:
      return "!=";
    case LineFilterOp::kRegex:
      return "|~";
    case LineFilterOp::kNotRegex:
      return "!~";
    case LineFilterOp::kWords:
      return "|:";
  }
  return "?";
}

}  // namespace sightline::query
