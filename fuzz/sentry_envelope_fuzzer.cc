// libFuzzer target: ParseSentryEnvelope (and the auth / DSN / event-id helpers) must accept
// any bytes without crashing; a parsed envelope's payloads must lie inside the body and obey
// the item cap.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/sentry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ingest::SentryEnvelope env;
  const Status st = ingest::ParseSentryEnvelope(body, &env);
  if (st.ok()) {
    if (env.items.size() > ingest::kMaxSentryEnvelopeItems) std::abort();
    const char* end = body.data() + body.size();
    for (const ingest::SentryEnvelopeItem& item : env.items) {
      if (item.payload.size() > 0 &&
          (item.payload.data() < body.data() || item.payload.data() + item.payload.size() > end)) {
        std::abort();
      }
      if (item.header.empty() || item.header.data() < body.data() ||
          item.header.data() + item.header.size() > end) {
        std::abort();
      }
    }
    ingest::SentryDsn dsn;
    if (ingest::ParseSentryDsn(env.dsn, &dsn) &&
        (dsn.public_key.empty() || dsn.project_id.empty())) {
      std::abort();
    }
    std::string id;
    if (ingest::NormalizeSentryEventId(env.event_id, &id) && id.size() != 32) std::abort();
  } else if (st.code() != Code::kInvalidArgument && st.code() != Code::kPayloadTooLarge) {
    std::abort();
  }
  ingest::SentryAuth auth;
  if (ingest::ParseSentryAuth(body, &auth) && auth.key.empty()) std::abort();
  ingest::SentryDsn dsn;
  (void)ingest::ParseSentryDsn(body, &dsn);
  return 0;
}
