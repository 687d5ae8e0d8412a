// libFuzzer target: every decoder of ingest/sentry_items.h must accept any bytes without
// crashing. On error (InvalidArgument only) the output must be left as it was; on success the
// documented invariants hold: accepted spans have ids and times, at most the per-item caps are
// appended, rejections carry a reason, attribute keys are unique, the spans of one
// transaction share one resource list, session buckets are well-formed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/sentry_items.h"

// Aborts with the failing line, so that a crash report says which invariant broke.
#define Check(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: Check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace {

using namespace sightline;
using namespace sightline::ingest;

constexpr int64_t kNow = 1;

bool UniqueKeys(const std::vector<model::Attribute>& attrs) {
  std::set<std::string_view> keys;
  for (const model::Attribute& a : attrs) {
    if (a.key.empty() || !keys.insert(a.key).second) return false;
  }
  return true;
}

// A batch holding one sentinel span, so that "appended to, never replaced" can be checked.
model::SpanBatch SpanSentinel() {
  model::SpanBatch b;
  b.spans.emplace_back().name = "sentinel";
  return b;
}

void CheckSpans(const Status& st, const model::SpanBatch& b, bool shared_resource) {
  Check(b.spans.size() >= 1 && b.spans[0].name == "sentinel");
  if (!st.ok()) {
    Check(st.code() == Code::kInvalidArgument);
    Check(b.spans.size() == 1 && b.rejected == 0 && b.reject_reason.empty());
    return;
  }
  Check(b.spans.size() - 1 <= kMaxSentrySpansPerItem);
  Check(b.rejected >= 0 && (b.rejected == 0) == b.reject_reason.empty());
  for (size_t i = 1; i < b.spans.size(); ++i) {
    const model::Span& s = b.spans[i];
    Check(!s.trace_id.empty() && !s.span_id.empty() && s.parent_span_id != s.span_id);
    Check(s.start_ns > 0 && s.end_ns > 0);
    Check(!s.service.empty());
    Check(UniqueKeys(s.attrs));
    Check(s.resource == nullptr || !s.resource->empty());
    if (shared_resource) Check(s.resource == b.spans[1].resource);
    for (const model::SpanLink& l : s.links) {
      Check(!l.trace_id.empty() && !l.span_id.empty() && UniqueKeys(l.attrs));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const std::string service = "svc";

  {
    model::SpanBatch b = SpanSentinel();
    const Status st = DecodeSentryTransaction(json, kNow, service, &b);
    CheckSpans(st, b, /*shared_resource=*/true);
  }
  {
    model::SpanBatch b = SpanSentinel();
    const Status st = DecodeSentrySpans(json, kNow, service, &b);
    CheckSpans(st, b, /*shared_resource=*/false);
  }
  {
    model::LogBatch b;
    b.records.emplace_back().body = "sentinel";
    const Status st = DecodeSentryLogs(json, kNow, service, &b);
    Check(b.records.size() >= 1 && b.records[0].body == "sentinel");
    if (!st.ok()) {
      Check(st.code() == Code::kInvalidArgument && b.records.size() == 1 && b.rejected == 0);
    } else {
      Check(b.records.size() - 1 <= kMaxSentryLogsPerItem);
      Check(b.rejected >= 0 && (b.rejected == 0) == b.reject_reason.empty());
      for (size_t i = 1; i < b.records.size(); ++i) {
        const model::LogRecord& r = b.records[i];
        Check(r.ts_ns > 0 && r.observed_ns == kNow && r.severity_number <= 24);
        Check(!r.service.empty() && UniqueKeys(r.attrs));
      }
    }
  }
  {
    std::vector<SentrySessionBucket> out(1);
    const Status st = DecodeSentrySession(json, &out);
    Check(st.ok() || st.code() == Code::kInvalidArgument);
    Check(out.size() == 1 || (st.ok() && out.size() == 2));
    if (out.size() == 2) {
      const SentrySessionBucket& b = out[1];
      Check(!b.release.empty() && b.started <= 1 && b.started_ns >= 0);
      Check(b.exited + b.crashed + b.abnormal <= 1 && b.errored <= 1);
      Check(b.started + b.exited + b.crashed + b.abnormal + b.errored > 0);
    }
  }
  {
    std::vector<SentrySessionBucket> out(1);
    const Status st = DecodeSentrySessionAggregates(json, &out);
    Check(st.ok() || (st.code() == Code::kInvalidArgument && out.size() == 1));
    Check(out.size() - 1 <= kMaxSentrySessionBuckets);
    for (size_t i = 1; i < out.size(); ++i) {
      const SentrySessionBucket& b = out[i];
      Check(!b.release.empty() && b.started_ns >= 0);
      Check(b.started >= b.exited && b.started >= b.errored && b.started >= b.crashed &&
            b.started >= b.abnormal);
    }
  }
  {
    std::vector<SentryDiscard> out(1);
    const Status st = DecodeSentryClientReport(json, &out);
    Check(st.ok() || (st.code() == Code::kInvalidArgument && out.size() == 1));
    Check(out.size() - 1 <= size);  // each entry needs more than one input byte
  }
  return 0;
}
