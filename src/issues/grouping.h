// Sentry-compatible grouping of error events: turns a model::ErrorEvent into the hash that
// decides which issue it belongs to, plus the issue's title and culprit. A pure function of
// the event (no storage, no configuration). The algorithm, its order of precedence and its
// normalization rules are documented for users in docs/grouping.md.
#ifndef SIGHTLINE_ISSUES_GROUPING_H_
#define SIGHTLINE_ISSUES_GROUPING_H_

#include <string>
#include <vector>

#include "model/error_event.h"

namespace sightline::issues {

struct GroupingResult {
  // 32 lowercase hex digits: the primary grouping hash (the issue key).
  std::string hash;
  // Every hash of the event, primary first. For a stack-trace event with in-app frames this is
  // {app hash, system hash}: storing both under the issue lets events whose in-app
  // classification differs (SDK upgrade, rule change) still join it, as Sentry does.
  std::vector<std::string> hashes;
  std::string title;    // "Type: value" (value's first line, truncated) or the message
  std::string culprit;  // the transaction, else "module in function" of the crashing frame
  // "custom-fingerprint" | "app-stacktrace" | "system-stacktrace" | "exception-type-value" |
  // "message" | "fallback"
  std::string variant;
  // The values hashed, in order, in readable "kind=value" form (for docs and debugging).
  std::vector<std::string> components;
};

// Groups one event. Deterministic; thread-safe; never fails (an event with nothing usable
// gets the "fallback" variant).
GroupingResult GroupEvent(const model::ErrorEvent& e);

// Exposed for tests and for the UI ("why is this frame not in-app?"): the server-side in-app
// decision for a frame. Library paths (site-packages/, dist-packages/, node_modules/, vendor/),
// Node internals (node:*, internal/*) and Python's <frozen ...> modules are never in-app;
// otherwise the SDK's in_app flag wins; frames with in_app unset are in-app.
bool IsInApp(const model::StackFrame& frame);

// The grouping value of a function name: trimmed/normalized, or "" when the name does not
// contribute (anonymous functions, JS "?" and similar). `platform` is the frame's platform
// (or the event's).
std::string NormalizeFunction(const std::string& function, const std::string& platform);

}  // namespace sightline::issues

#endif  // SIGHTLINE_ISSUES_GROUPING_H_
