#include "storage/embedded/span_codec.h"

#include <algorithm>
#include <cstring>

#include "storage/embedded/record_codec.h"

namespace sightline::storage {
namespace {

using model::Attribute;

void PutAttrs(const std::vector<Attribute>& attrs, std::string* dst) {
  PutVarint64(dst, attrs.size());
  for (const auto& a : attrs) {
    PutLengthPrefixed(dst, a.key);
    EncodeAttrValue(a.value, dst);
  }
}

bool GetAttrs(Reader* in, std::vector<Attribute>* attrs) {
  uint64_t n;
  if (!in->GetVarint64(&n) || n > in->remaining()) return false;
  attrs->resize(n);
  std::string_view s;
  for (auto& a : *attrs) {
    if (!in->GetLengthPrefixed(&s)) return false;
    a.key.assign(s);
    if (!DecodeAttrValue(in, &a.value)) return false;
  }
  return true;
}

template <size_t N>
void PutId(const std::array<uint8_t, N>& id, std::string* dst) {
  dst->append(reinterpret_cast<const char*>(id.data()), N);
}

template <size_t N>
bool GetId(Reader* in, std::array<uint8_t, N>* id) {
  std::string_view s;
  if (!in->GetBytes(N, &s)) return false;
  std::memcpy(id->data(), s.data(), N);
  return true;
}

bool GetString(Reader* in, std::string* out) {
  std::string_view s;
  if (!in->GetLengthPrefixed(&s)) return false;
  out->assign(s);
  return true;
}

}  // namespace

uint64_t AttributesBytes(const model::AttributeList& attrs) {
  uint64_t b = 0;
  for (const auto& a : attrs) b += sizeof(a) + a.key.size() + a.value.str.size();
  return b;
}

uint32_t ResourceTableBuilder::Intern(const model::SharedAttributes& r) {
  if (r == nullptr || r->empty()) return 0;
  auto it = by_ptr_.find(r.get());
  if (it != by_ptr_.end()) return it->second.second;
  std::string bytes;
  PutAttrs(*r, &bytes);
  auto [c, inserted] = by_content_.emplace(std::move(bytes), 0);
  if (inserted) {
    encoded_.push_back(&c->first);
    c->second = static_cast<uint32_t>(encoded_.size());
  }
  by_ptr_.emplace(r.get(), std::make_pair(r, c->second));
  return c->second;
}

void ResourceTableBuilder::Encode(std::string* dst) const {
  PutVarint64(dst, encoded_.size());
  for (const std::string* e : encoded_) dst->append(*e);
}

void ResourceTableBuilder::Clear() {
  by_ptr_.clear();
  by_content_.clear();
  encoded_.clear();
}

bool DecodeResourceTable(Reader* in, std::vector<model::SharedAttributes>* table) {
  uint64_t n;
  if (!in->GetVarint64(&n) || n > in->remaining()) return false;
  table->clear();
  table->reserve(n + 1);
  table->push_back(nullptr);
  for (uint64_t i = 0; i < n; ++i) {
    auto attrs = std::make_shared<model::AttributeList>();
    if (!GetAttrs(in, attrs.get())) return false;
    table->push_back(std::move(attrs));
  }
  return true;
}

void EncodeSpan(const model::Span& s, uint32_t resource, std::string* dst) {
  PutId(s.trace_id.bytes, dst);
  PutId(s.span_id.bytes, dst);
  PutId(s.parent_span_id.bytes, dst);
  PutLengthPrefixed(dst, s.trace_state);
  PutVarint64(dst, s.flags);
  PutLengthPrefixed(dst, s.name);
  dst->push_back(static_cast<char>(s.kind));
  PutVarsint64(dst, s.start_ns);
  PutVarsint64(dst, s.end_ns - s.start_ns);
  dst->push_back(static_cast<char>(s.status_code));
  PutLengthPrefixed(dst, s.status_message);
  PutLengthPrefixed(dst, s.service);
  PutLengthPrefixed(dst, s.scope_name);
  PutLengthPrefixed(dst, s.scope_version);
  PutVarint64(dst, resource);
  PutAttrs(s.attrs, dst);
  PutVarint64(dst, s.events.size());
  for (const auto& e : s.events) {
    PutVarsint64(dst, e.time_ns - s.start_ns);
    PutLengthPrefixed(dst, e.name);
    PutAttrs(e.attrs, dst);
    PutVarint64(dst, e.dropped_attrs);
  }
  PutVarint64(dst, s.links.size());
  for (const auto& l : s.links) {
    PutId(l.trace_id.bytes, dst);
    PutId(l.span_id.bytes, dst);
    PutLengthPrefixed(dst, l.trace_state);
    PutAttrs(l.attrs, dst);
    PutVarint64(dst, l.flags);
  }
  PutVarint64(dst, s.dropped_attrs);
  PutVarint64(dst, s.dropped_events);
  PutVarint64(dst, s.dropped_links);
}

bool DecodeSpan(Reader* in, const std::vector<model::SharedAttributes>& table, model::Span* s) {
  uint64_t u;
  uint8_t b;
  int64_t dur;
  if (!GetId(in, &s->trace_id.bytes) || !GetId(in, &s->span_id.bytes) ||
      !GetId(in, &s->parent_span_id.bytes) || !GetString(in, &s->trace_state)) {
    return false;
  }
  if (!in->GetVarint64(&u)) return false;
  s->flags = static_cast<uint32_t>(u);
  if (!GetString(in, &s->name) || !in->GetByte(&b) || b > 5) return false;
  s->kind = static_cast<model::SpanKind>(b);
  if (!in->GetVarsint64(&s->start_ns) || !in->GetVarsint64(&dur) ||
      __builtin_add_overflow(s->start_ns, dur, &s->end_ns)) {
    return false;
  }
  if (!in->GetByte(&b) || b > 2) return false;
  s->status_code = static_cast<model::StatusCode>(b);
  if (!GetString(in, &s->status_message) || !GetString(in, &s->service) ||
      !GetString(in, &s->scope_name) || !GetString(in, &s->scope_version) || !in->GetVarint64(&u) ||
      u >= std::max<size_t>(table.size(), 1) || !GetAttrs(in, &s->attrs)) {
    return false;
  }
  s->resource = u < table.size() ? table[u] : nullptr;
  if (!in->GetVarint64(&u) || u > in->remaining()) return false;
  s->events.resize(u);
  for (auto& e : s->events) {
    int64_t off;
    if (!in->GetVarsint64(&off) || !GetString(in, &e.name) || !GetAttrs(in, &e.attrs) ||
        !in->GetVarint64(&u)) {
      return false;
    }
    if (__builtin_add_overflow(s->start_ns, off, &e.time_ns)) return false;
    e.dropped_attrs = static_cast<uint32_t>(u);
  }
  if (!in->GetVarint64(&u) || u > in->remaining()) return false;
  s->links.resize(u);
  for (auto& l : s->links) {
    if (!GetId(in, &l.trace_id.bytes) || !GetId(in, &l.span_id.bytes) ||
        !GetString(in, &l.trace_state) || !GetAttrs(in, &l.attrs) || !in->GetVarint64(&u)) {
      return false;
    }
    l.flags = static_cast<uint32_t>(u);
  }
  uint64_t d1, d2, d3;
  if (!in->GetVarint64(&d1) || !in->GetVarint64(&d2) || !in->GetVarint64(&d3)) return false;
  s->dropped_attrs = static_cast<uint32_t>(d1);
  s->dropped_events = static_cast<uint32_t>(d2);
  s->dropped_links = static_cast<uint32_t>(d3);
  return true;
}

uint64_t SpanBytes(const model::Span& s) {
  uint64_t b = sizeof(model::Span) + s.name.size() + s.service.size() + s.trace_state.size() +
               s.status_message.size() + s.scope_name.size() + s.scope_version.size() +
               AttributesBytes(s.attrs);
  for (const auto& e : s.events) b += sizeof(e) + e.name.size() + AttributesBytes(e.attrs);
  for (const auto& l : s.links) b += sizeof(l) + AttributesBytes(l.attrs);
  return b;
}

}  // namespace sightline::storage
