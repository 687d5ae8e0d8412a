// The stored form of an error event: a Sentry event payload (JSON) holding exactly the fields
// of model::ErrorEvent, so that DecodeSentryEvent reads it back to an equal event. Events are
// kept in the log store in this form (attribute "sentry.event" of an error record), smaller
// than what SDKs send (no modules list, no _meta, no SDK package lists) and independent of the
// SDK that sent them.
#ifndef SIGHTLINE_ISSUES_EVENT_JSON_H_
#define SIGHTLINE_ISSUES_EVENT_JSON_H_

#include <string>

#include "model/error_event.h"

namespace sightline::issues {

// Appends the payload JSON of `e` to *out. Fields at their default are omitted; timestamps are
// epoch seconds with microseconds; trace_id/span_id go to contexts.trace next to the
// remaining contexts. Thread-safe; never fails.
void EncodeEventPayload(const model::ErrorEvent& e, std::string* out);

}  // namespace sightline::issues

#endif  // SIGHTLINE_ISSUES_EVENT_JSON_H_
