#include "model/span.h"

#include <cctype>

namespace sightline::model {

namespace {
constexpr std::string_view kKindNames[] = {"unspecified", "internal", "server",
                                           "client",      "producer", "consumer"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

std::string_view SpanKindName(SpanKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < std::size(kKindNames) ? kKindNames[i] : "unspecified";
}

bool SpanKindFromText(std::string_view text, SpanKind* kind) {
  constexpr std::string_view kPrefix = "span_kind_";
  if (text.size() > kPrefix.size() && EqualsIgnoreCase(text.substr(0, kPrefix.size()), kPrefix)) {
    text.remove_prefix(kPrefix.size());
  }
  for (size_t i = 0; i < std::size(kKindNames); ++i) {
    if (EqualsIgnoreCase(text, kKindNames[i])) {
      *kind = static_cast<SpanKind>(i);
      return true;
    }
  }
  return false;
}

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kError:
      return "error";
    default:
      return "unset";
  }
}

const AttributeList& Span::resource_attrs() const {
  static const AttributeList kEmpty;
  return resource ? *resource : kEmpty;
}

void Span::SetResourceAttrs(AttributeList attrs) {
  if (attrs.empty()) {
    resource.reset();
  } else {
    resource = std::make_shared<const AttributeList>(std::move(attrs));
  }
}

const AttrValue* Span::FindAttr(std::string_view key) const {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  for (const auto& a : resource_attrs()) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

}  // namespace sightline::model
