// libFuzzer target: the Scrubber must never crash, hang or misbehave on arbitrary bytes. The
// input is scrubbed as free text under three configurations (defaults with mask; hash with IPs
// and a custom rule; remove), and (split on the first NUL into key and value) as a log record,
// a span with a shared resource and an error event.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "model/error_event.h"
#include "model/log_record.h"
#include "model/span.h"
#include "pipeline/scrubber.h"

namespace {

using sightline::pipeline::ScrubAction;
using sightline::pipeline::Scrubber;
using sightline::pipeline::ScrubberOptions;

std::unique_ptr<Scrubber> Make(ScrubberOptions o) {
  auto s = Scrubber::Create(o);
  if (!s.ok()) std::abort();
  return std::move(s).value();
}

struct Scrubbers {
  std::unique_ptr<Scrubber> mask, hash, remove;
  Scrubbers() {
    ScrubberOptions o;
    mask = Make(o);
    o.ips = true;
    o.action = ScrubAction::kHash;
    o.hash_secret = "fuzz";
    o.custom.push_back({"custom", "ID-(\\d+)", {"pin", "cardNumber"}, ScrubAction::kMask, ""});
    hash = Make(o);
    o.action = ScrubAction::kRemove;
    remove = Make(o);
  }
};

void CheckText(const Scrubber& s, std::string_view input, bool masks) {
  std::string text(input);
  const size_t n = s.ScrubText(&text);
  if (n == 0 && text != input) std::abort();  // no replacement, no change
  if (n > 0 && masks && text.find("[Filtered]") == std::string::npos) std::abort();
  // Its own output is a valid input too.
  (void)s.ScrubText(&text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Scrubbers* const scrubbers = new Scrubbers();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckText(*scrubbers->mask, input, true);
  CheckText(*scrubbers->hash, input, false);
  CheckText(*scrubbers->remove, input, false);

  const size_t nul = input.find('\0');
  const std::string key(input.substr(0, nul));
  const std::string value(nul == std::string_view::npos ? input : input.substr(nul + 1));
  for (const Scrubber* s :
       {scrubbers->mask.get(), scrubbers->hash.get(), scrubbers->remove.get()}) {
    (void)s->IsSensitiveKey(key);
    sightline::model::LogRecord r;
    r.body = value;
    r.attrs = {{key, sightline::model::AttrValue::String(value)},
               {key, sightline::model::AttrValue::Int(static_cast<int64_t>(size) << 40)}};
    (void)s->ScrubRecord(&r);

    auto resource = std::make_shared<const sightline::model::AttributeList>(
        sightline::model::AttributeList{{key, sightline::model::AttrValue::String(value)}});
    sightline::model::Span span;
    span.name = value;
    span.resource = resource;
    span.events.emplace_back();
    span.events[0].attrs = r.attrs;
    (void)s->ScrubSpan(&span);
    if ((*resource)[0].value.str != value) std::abort();  // shared list never mutated

    sightline::model::ErrorEvent e;
    e.message = value;
    e.exceptions.emplace_back();
    e.exceptions[0].value = value;
    e.exceptions[0].frames.emplace_back();
    e.exceptions[0].frames[0].vars = {{key, value}};
    e.request.headers = {{key, value}};
    e.user.email = value;
    e.user.ip_address = key;
    e.extra_json = value;
    (void)s->ScrubEvent(&e);
  }
  return 0;
}
