// libFuzzer target: DecodeSentryEvent must accept any bytes without crashing; on error the
// output must be left untouched; on success the documented caps hold and the JSON-text fields
// are valid JSON objects; the stored form (issues/event_json.h) decodes, and re-encoding what
// it decodes to gives the same bytes (the store round-trips every event).
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/sentry.h"
#include "issues/event_json.h"

namespace {

bool IsJsonObject(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  return parser.parse(simdjson::padded_string(text)).get(obj) == simdjson::SUCCESS;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  using namespace sightline::ingest;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  model::ErrorEvent ev;
  ev.project_id = "sentinel";
  const Status st = DecodeSentryEvent(json, 1, &ev);
  if (!st.ok()) {
    if (st.code() != Code::kInvalidArgument || ev.project_id != "sentinel") std::abort();
    return 0;
  }
  if (ev.received_ns != 1 || ev.ts_ns == 0) std::abort();
  if (!ev.event_id.empty() && ev.event_id.size() != 32) std::abort();
  if (ev.exceptions.size() > kMaxSentryExceptions) std::abort();
  for (const model::ExceptionInfo& ex : ev.exceptions) {
    if (ex.frames.size() > kMaxSentryFrames) std::abort();
    for (const model::StackFrame& f : ex.frames) {
      if (f.pre_context.size() > kMaxSentryContextLines) std::abort();
      if (f.post_context.size() > kMaxSentryContextLines) std::abort();
      if (f.vars.size() > kMaxSentryPairs) std::abort();
      for (const auto& [k, v] : f.vars) {
        if (v.size() > kMaxSentryValueBytes) std::abort();
      }
    }
  }
  if (ev.breadcrumbs.size() > kMaxSentryBreadcrumbs) std::abort();
  for (const model::Breadcrumb& b : ev.breadcrumbs) {
    if (b.data.size() > kMaxSentryPairs) std::abort();
  }
  if (ev.tags.size() > kMaxSentryPairs || ev.request.headers.size() > kMaxSentryPairs) {
    std::abort();
  }
  if (ev.fingerprint.size() > kMaxSentryFingerprint) std::abort();
  if (!ev.contexts_json.empty() &&
      (ev.contexts_json.size() > kMaxSentryJsonBytes + 1 || !IsJsonObject(ev.contexts_json))) {
    std::abort();
  }
  if (!ev.extra_json.empty() &&
      (ev.extra_json.size() > kMaxSentryJsonBytes || !IsJsonObject(ev.extra_json))) {
    std::abort();
  }
  std::string stored;
  issues::EncodeEventPayload(ev, &stored);
  model::ErrorEvent back;
  if (!DecodeSentryEvent(stored, 1, &back).ok()) std::abort();
  std::string again;
  issues::EncodeEventPayload(back, &again);
  model::ErrorEvent third;
  if (!DecodeSentryEvent(again, 1, &third).ok()) std::abort();
  std::string thrice;
  issues::EncodeEventPayload(third, &thrice);
  if (thrice != again) std::abort();
  return 0;
}
