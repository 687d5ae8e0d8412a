// The data model for error events (exceptions and error messages) as Sentry SDKs send them.
// The Sentry decoder (ingest/sentry.h) produces ErrorEvents; grouping (issues/grouping.h)
// turns one into a fingerprint, title and culprit. Nothing here knows about transports or
// storage.
#ifndef SIGHTLINE_MODEL_ERROR_EVENT_H_
#define SIGHTLINE_MODEL_ERROR_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/log_record.h"

namespace sightline::model {

struct StackFrame {
  std::string function;
  std::string module;    // Python module / Java package
  std::string filename;  // as reported (relative or absolute)
  std::string abs_path;
  std::string package;   // native: the binary or library
  std::string platform;  // when it differs from the event's
  int64_t lineno = 0;    // 0 = unknown
  int64_t colno = 0;
  std::optional<bool> in_app;  // as the SDK sent it; grouping applies server-side rules
  std::string context_line;
  std::vector<std::string> pre_context, post_context;
  std::vector<std::pair<std::string, std::string>> vars;  // local variables, as text
};

// One exception of an event (chained exceptions: outermost last, as Sentry sends them).
struct ExceptionInfo {
  std::string type;
  std::string value;
  std::string module;
  std::string mechanism;       // mechanism.type, e.g. "excepthook", "onunhandledrejection"
  std::optional<bool> handled;  // mechanism.handled
  std::vector<StackFrame> frames;  // oldest call first, the crashing frame last (Sentry order)
};

struct Breadcrumb {
  int64_t ts_ns = 0;
  std::string type, category, level, message;
  std::vector<std::pair<std::string, std::string>> data;  // values as text
};

struct ErrorEvent {
  std::string event_id;  // 32 lowercase hex
  int64_t ts_ns = 0;     // event timestamp, Unix ns (0 = unknown)
  int64_t received_ns = 0;
  std::string project_id;
  std::string platform;  // "python", "node", ...
  std::string level = "error";  // fatal, error, warning, info, debug
  std::string logger;
  std::string transaction;  // the route / task being handled
  std::string server_name;
  std::string release;
  std::string environment;
  std::string dist;
  std::string message;           // formatted message (logentry.formatted or message)
  std::string message_template;  // logentry.message with its placeholders, when sent
  std::vector<ExceptionInfo> exceptions;
  std::vector<std::string> fingerprint;  // custom fingerprint; may contain "{{ default }}"
  std::vector<std::pair<std::string, std::string>> tags;
  struct User {
    std::string id, email, username, ip_address;
  } user;
  struct Request {
    std::string method, url, query_string;
    std::vector<std::pair<std::string, std::string>> headers;
  } request;
  std::vector<Breadcrumb> breadcrumbs;
  TraceId trace_id;  // contexts.trace.trace_id
  SpanId span_id;    // contexts.trace.span_id
  std::string sdk_name, sdk_version;
  std::string contexts_json;  // the remaining contexts (os, runtime, device...) as JSON text
  std::string extra_json;     // "extra" as JSON text
};

}  // namespace sightline::model

#endif  // SIGHTLINE_MODEL_ERROR_EVENT_H_
