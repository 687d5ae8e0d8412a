// libFuzzer target for the LogQL parser (query/logql_parser.h).
//
// Properties checked on arbitrary input:
//  - ParseLogQL never crashes, never throws, and terminates (ASan/UBSan catch memory errors).
//  - Errors are InvalidArgument.
//  - If the input parses, its canonical form FormatExpr(e) parses again and formats to exactly
//    the same text (the formatter is a fixed point after one step).
// Any violation aborts with a description on stderr.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "query/logql_parser.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view input, const std::string& a,
                       const std::string& b) {
  std::fprintf(stderr, "logql_fuzzer: %s\n  input:  %.*s\n  first:  %s\n  second: %s\n", what,
               static_cast<int>(input.size()), input.data(), a.c_str(), b.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sightline::query::FormatExpr;
  using sightline::query::ParseLogQL;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto first = ParseLogQL(input);
  if (!first.ok()) {
    if (first.status().code() != sightline::Code::kInvalidArgument) {
      Fail("parse error with a code other than InvalidArgument", input, first.status().ToString(),
           "");
    }
    return 0;
  }
  std::string f1 = FormatExpr(*first);
  auto second = ParseLogQL(f1);
  if (!second.ok()) Fail("canonical form does not re-parse", input, f1, second.status().ToString());
  std::string f2 = FormatExpr(*second);
  if (f1 != f2) Fail("canonical form is not stable", input, f1, f2);
  return 0;
}
