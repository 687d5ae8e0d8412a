// libFuzzer target: NormalizeMessage and GroupEvent must never crash, hang or misbehave on
// arbitrary bytes. The input is used as a message, as an exception value and (split on the
// first NUL) as a frame function/filename, a fingerprint entry and a tag.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "issues/grouping.h"
#include "issues/normalize.h"
#include "model/error_event.h"

namespace {

bool IsHex32(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void Check(const sightline::issues::GroupingResult& r) {
  if (!IsHex32(r.hash) || r.hashes.empty() || r.hashes.front() != r.hash) std::abort();
  if (r.variant.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string normalized = sightline::issues::NormalizeMessage(input);
  // Its own output is a valid input too.
  (void)sightline::issues::NormalizeMessage(normalized);

  const size_t nul = input.find('\0');
  const std::string_view a = input.substr(0, nul);
  const std::string_view b = nul == std::string_view::npos ? a : input.substr(nul + 1);

  sightline::model::ErrorEvent message_event;
  message_event.message = std::string(input);
  const auto m = sightline::issues::GroupEvent(message_event);
  Check(m);
  if (m.variant != "message" && m.variant != "fallback") std::abort();

  sightline::model::ErrorEvent ex_event;
  ex_event.platform = size % 2 ? "node" : "python";
  ex_event.exceptions.emplace_back();
  ex_event.exceptions[0].type = std::string(a);
  ex_event.exceptions[0].value = std::string(input);
  Check(sightline::issues::GroupEvent(ex_event));

  sightline::model::StackFrame frame;
  frame.function = std::string(a);
  frame.filename = std::string(b);
  frame.module = size % 3 ? "" : std::string(b);
  frame.context_line = std::string(b);
  ex_event.exceptions[0].frames = {frame, frame};
  for (const char* platform : {"node", "python", "native", "ruby", "java", "php", ""}) {
    ex_event.platform = platform;
    Check(sightline::issues::GroupEvent(ex_event));
  }
  ex_event.fingerprint = {std::string(a), "{{ default }}", std::string(b)};
  ex_event.tags = {{std::string(b), std::string(a)}};
  const auto fp = sightline::issues::GroupEvent(ex_event);
  Check(fp);
  if (fp.variant != "custom-fingerprint") std::abort();
  return 0;
}
