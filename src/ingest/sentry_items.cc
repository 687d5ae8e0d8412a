#include "ingest/sentry_items.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/ndjson.h"
#include "ingest/sentry_json.h"

namespace sightline::ingest {
namespace {

namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;
using model::Attribute;
using model::AttributeList;
using model::AttrValue;
using model::SharedAttributes;
using model::Span;
using model::SpanId;
using model::SpanKind;
using model::StatusCode;
using model::TraceId;
// A member that may be absent (a default-constructed dom::element must not be read).
using OptElement = std::optional<element>;
using sentry_json::EqualsIgnoreCase;
using sentry_json::GetArr;
using sentry_json::GetObj;
using sentry_json::GetStr;
using sentry_json::SetStr;
using sentry_json::TimestampNs;

// ---------------------------------------------------------------------------------------
// Small helpers (the DOM accessors shared with sentry.cc are in sentry_json.h).

// A string as is; numbers as their JSON text (Sentry accepts numeric releases). False for
// anything else.
bool ScalarText(element v, std::string* out) {
  std::string_view s;
  if (GetStr(v, &s)) {
    out->assign(s);
    return true;
  }
  const element_type t = v.type();
  if (t != element_type::INT64 && t != element_type::UINT64 && t != element_type::DOUBLE) {
    return false;
  }
  *out = simdjson::minify(v);
  return true;
}

// A trace id (32 hex digits) or span id (16), not all zero.
template <typename Id>
bool ParseHexId(const OptElement& v, Id* out) {
  std::string_view s;
  Id id;
  if (!v || !GetStr(*v, &s) || !model::DecodeHex(s, id.bytes.data(), id.bytes.size()) ||
      id.empty()) {
    return false;
  }
  *out = id;
  return true;
}
bool ParseTraceId(const OptElement& v, TraceId* out) { return ParseHexId(v, out); }
bool ParseSpanId(const OptElement& v, SpanId* out) { return ParseHexId(v, out); }

// A JSON value as an attribute value: strings, integers (Int; above INT64_MAX Double),
// other numbers (Double), booleans; arrays and objects as compact JSON text. False for null.
bool JsonToAttr(element v, AttrValue* out) {
  switch (v.type()) {
    case element_type::STRING: {
      std::string_view s;
      if (!GetStr(v, &s)) return false;
      *out = AttrValue::String(s);
      return true;
    }
    case element_type::INT64: {
      int64_t i = 0;
      if (v.get_int64().get(i) != 0) return false;
      *out = AttrValue::Int(i);
      return true;
    }
    case element_type::UINT64:
    case element_type::DOUBLE: {
      double d = 0;
      if (v.get_double().get(d) != 0) return false;
      *out = AttrValue::Double(d);
      return true;
    }
    case element_type::BOOL: {
      bool b = false;
      if (v.get_bool().get(b) != 0) return false;
      *out = AttrValue::Bool(b);
      return true;
    }
    case element_type::ARRAY:
    case element_type::OBJECT:
      *out = AttrValue::String(simdjson::minify(v));
      return true;
    case element_type::NULL_VALUE:
      break;
  }
  return false;
}

// A span v2 / log attribute {"value": v, "type": "..."}: the value, typed by its JSON type
// (the declared type is redundant). An object without "value" is kept as JSON text, a bare
// scalar as itself.
bool TypedAttr(element v, AttrValue* out) {
  dom::object obj;
  element value;
  if (GetObj(v, &obj) && obj.at_key("value").get(value) == 0) return JsonToAttr(value, out);
  return JsonToAttr(v, out);
}

// Calls fn(key, value) for each member of an object {"k": v} or pair of a list [["k", v]]
// (the legacy tags form).
template <typename Fn>
void ForEachPair(const OptElement& v, Fn&& fn) {
  if (!v) return;
  dom::object obj;
  dom::array arr;
  if (GetObj(*v, &obj)) {
    for (dom::key_value_pair kv : obj) fn(kv.key, kv.value);
  } else if (GetArr(*v, &arr)) {
    for (element pair : arr) {
      dom::array p;
      if (!GetArr(pair, &p) || p.size() != 2) continue;
      std::string_view key;
      if (!GetStr(p.at(0).value_unsafe(), &key)) continue;
      fn(key, p.at(1).value_unsafe());
    }
  }
}

const AttrValue* FindAttr(const std::vector<Attribute>& attrs, std::string_view key) {
  for (const Attribute& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

// The non-empty string value of attribute `key`, or "".
std::string_view StrAttr(const std::vector<Attribute>& attrs, std::string_view key) {
  const AttrValue* v = FindAttr(attrs, key);
  return v != nullptr && v->type == AttrValue::Type::kString ? std::string_view(v->str)
                                                             : std::string_view();
}

// Removes attribute `key` (keys are unique).
void TakeAttr(std::vector<Attribute>* attrs, std::string_view key) {
  for (auto it = attrs->begin(); it != attrs->end(); ++it) {
    if (it->key == key) {
      attrs->erase(it);
      return;
    }
  }
}

// Removes attribute `key` and returns its string value ("" if absent or not a string; a
// non-string value stays).
std::string TakeStrAttr(std::vector<Attribute>* attrs, std::string_view key) {
  for (auto it = attrs->begin(); it != attrs->end(); ++it) {
    if (it->key != key || it->value.type != AttrValue::Type::kString) continue;
    std::string s = std::move(it->value.str);
    attrs->erase(it);
    return s;
  }
  return "";
}

void AddResource(std::string_view key, std::string_view value, AttributeList* res) {
  if (!value.empty()) res->push_back(Attribute{std::string(key), AttrValue::String(value)});
}

// "ok" -> kOk; "", "unknown", "unset" -> unset; anything else -> kError with the status as
// message ("error", span v2's only error value, adds nothing and leaves the message empty).
void SetStatus(std::string_view status, Span* span) {
  if (status.empty() || EqualsIgnoreCase(status, "unknown") || EqualsIgnoreCase(status, "unset")) {
    return;
  }
  if (EqualsIgnoreCase(status, "ok")) {
    span->status_code = StatusCode::kOk;
    return;
  }
  span->status_code = StatusCode::kError;
  if (!EqualsIgnoreCase(status, "error")) span->status_message.assign(status);
}

// An explicit kind attribute ("sentry.kind" from @sentry/node, "otel.kind" from OTel-bridged
// SDKs), else the op: http.server* -> server, http.client* -> client, db / db.* -> client,
// anything else internal.
SpanKind KindOf(std::string_view op, const std::vector<Attribute>& attrs) {
  for (std::string_view key : {"sentry.kind", "otel.kind"}) {
    SpanKind kind;
    const std::string_view text = StrAttr(attrs, key);
    if (!text.empty() && model::SpanKindFromText(text, &kind) && kind != SpanKind::kUnspecified) {
      return kind;
    }
  }
  if (op.starts_with("http.server")) return SpanKind::kServer;
  if (op.starts_with("http.client")) return SpanKind::kClient;
  if (op == "db" || op.starts_with("db.")) return SpanKind::kClient;
  return SpanKind::kInternal;
}

// Start / end: missing end -> start, missing start -> now.
void SetTimes(int64_t start_ns, int64_t end_ns, int64_t now_ns, Span* span) {
  span->start_ns = start_ns != 0 ? start_ns : now_ns;
  span->end_ns = end_ns != 0 ? end_ns : span->start_ns;
}

// The resource list as a shared pointer (null when empty).
SharedAttributes ShareResource(AttributeList attrs) {
  if (attrs.empty()) return nullptr;
  return std::make_shared<const AttributeList>(std::move(attrs));
}

// Counts one rejected item; the first reason, "<item> <index>: <why>", is kept (and only
// then built).
void Reject(int64_t* rejected, std::string* reason, std::string_view item, size_t index,
            std::string_view why) {
  if ((*rejected)++ > 0) return;
  *reason = std::string(item) + " " + std::to_string(index) + ": " + std::string(why);
}

std::string TooMany(size_t cap, std::string_view what) {
  return "more than " + std::to_string(cap) + " " + std::string(what);
}

void RejectTransaction(int64_t* rejected, std::string* reason, std::string_view why) {
  if ((*rejected)++ > 0) return;
  *reason = "sentry transaction: transaction: " + std::string(why);
}

// Parses `json` and requires an object; errors are InvalidArgument("<what>: ...").
Status ParseObject(std::string_view json, std::string_view what, dom::parser* parser,
                   dom::object* out) {
  element doc;
  if (auto e = parser->parse(simdjson::padded_string(json)).get(doc)) {
    return InvalidArgument(std::string(what) + ": " + simdjson::error_message(e));
  }
  if (!GetObj(doc, out)) return InvalidArgument(std::string(what) + ": not a JSON object");
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Transactions.

// The members of a transaction's contexts.trace or of one entry of "spans".
struct RawSentrySpan {
  OptElement trace_id, span_id, parent_span_id;
  std::string_view op, description, status, origin;
  int64_t start_ns = 0, end_ns = 0;
  OptElement data, tags;
};

void ReadSentrySpan(dom::object obj, RawSentrySpan* raw) {
  for (dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    if (k == "trace_id") {
      raw->trace_id = kv.value;
    } else if (k == "span_id") {
      raw->span_id = kv.value;
    } else if (k == "parent_span_id") {
      raw->parent_span_id = kv.value;
    } else if (k == "op") {
      GetStr(kv.value, &raw->op);
    } else if (k == "description") {
      GetStr(kv.value, &raw->description);
    } else if (k == "status") {
      GetStr(kv.value, &raw->status);
    } else if (k == "origin") {
      GetStr(kv.value, &raw->origin);
    } else if (k == "start_timestamp") {
      raw->start_ns = TimestampNs(kv.value);
    } else if (k == "timestamp") {
      raw->end_ns = TimestampNs(kv.value);
    } else if (k == "data") {
      raw->data = kv.value;
    } else if (k == "tags") {
      raw->tags = kv.value;
    }
  }
}

// Appends data and tags as typed attributes; a "service.name" entry is taken out into
// *service_name, a string "service" tag (kept as an attribute) into *service_tag.
void AddDataAndTags(const RawSentrySpan& raw, std::vector<Attribute>* attrs,
                    std::string* service_name, std::string* service_tag) {
  auto add = [&](std::string_view key, element value, bool is_tag) {
    if (key.empty()) return;
    AttrValue v;
    if (!JsonToAttr(value, &v)) return;
    if (v.type == AttrValue::Type::kString) {
      if (key == "service.name") {
        if (!v.str.empty()) *service_name = v.str;
        return;
      }
      if (is_tag && key == "service" && !v.str.empty()) *service_tag = v.str;
    }
    attrs->push_back(Attribute{std::string(key), std::move(v)});
  };
  ForEachPair(raw.data, [&](std::string_view k, element v) { add(k, v, false); });
  ForEachPair(raw.tags, [&](std::string_view k, element v) { add(k, v, true); });
}

}  // namespace

Status DecodeSentryTransaction(std::string_view json, int64_t now_ns,
                               const std::string& default_service, model::SpanBatch* out) {
  dom::parser parser;
  dom::object root;
  SL_RETURN_IF_ERROR(ParseObject(json, "sentry transaction", &parser, &root));

  std::string name, release, environment, server_name, sdk_name, sdk_version, source;
  int64_t start_ns = 0, end_ns = 0;
  bool has_trace = false;
  dom::object trace;
  dom::array spans;
  bool has_spans = false;
  OptElement tags, user;
  for (dom::key_value_pair kv : root) {
    const std::string_view k = kv.key;
    const element v = kv.value;
    if (k == "transaction") {
      SetStr(v, &name);
    } else if (k == "start_timestamp") {
      start_ns = TimestampNs(v);
    } else if (k == "timestamp") {
      end_ns = TimestampNs(v);
    } else if (k == "contexts") {
      dom::object contexts;
      element t;
      if (GetObj(v, &contexts) && contexts.at_key("trace").get(t) == 0) {
        has_trace = GetObj(t, &trace);
      }
    } else if (k == "spans") {
      has_spans = GetArr(v, &spans);
    } else if (k == "tags") {
      tags = v;
    } else if (k == "release") {
      ScalarText(v, &release);
    } else if (k == "environment") {
      SetStr(v, &environment);
    } else if (k == "server_name") {
      SetStr(v, &server_name);
    } else if (k == "sdk") {
      dom::object sdk;
      if (!GetObj(v, &sdk)) continue;
      for (dom::key_value_pair s : sdk) {
        if (s.key == "name") SetStr(s.value, &sdk_name);
        if (s.key == "version") SetStr(s.value, &sdk_version);
      }
    } else if (k == "transaction_info") {
      dom::object info;
      element src;
      if (GetObj(v, &info) && info.at_key("source").get(src) == 0) SetStr(src, &source);
    } else if (k == "user") {
      user = v;
    }
  }

  AttributeList resource_attrs;
  AddResource("service.version", release, &resource_attrs);
  AddResource("deployment.environment", environment, &resource_attrs);
  AddResource("host.name", server_name, &resource_attrs);
  AddResource("telemetry.sdk.name", sdk_name, &resource_attrs);
  AddResource("telemetry.sdk.version", sdk_version, &resource_attrs);
  const SharedAttributes resource = ShareResource(std::move(resource_attrs));

  int64_t rejected = 0;
  std::string reason;
  size_t emitted = 0;

  // The transaction itself.
  RawSentrySpan root_raw;
  if (has_trace) ReadSentrySpan(trace, &root_raw);
  root_raw.tags = tags;  // the event's tags belong to the transaction span
  TraceId trace_id;
  SpanId root_span_id;
  const bool root_trace_ok = has_trace && ParseTraceId(root_raw.trace_id, &trace_id);
  const bool root_span_ok = has_trace && ParseSpanId(root_raw.span_id, &root_span_id);
  std::string service_name, service_tag;
  std::vector<Attribute> root_attrs;
  AddDataAndTags(root_raw, &root_attrs, &service_name, &service_tag);
  const std::string service = !service_name.empty()  ? service_name
                              : !service_tag.empty() ? service_tag
                                                     : default_service;
  if (!has_trace) {
    RejectTransaction(&rejected, &reason, "no contexts.trace");
  } else if (!root_trace_ok) {
    RejectTransaction(&rejected, &reason, "invalid trace_id");
  } else if (!root_span_ok) {
    RejectTransaction(&rejected, &reason, "invalid span_id");
  } else {
    Span& s = out->spans.emplace_back();
    ++emitted;
    s.trace_id = trace_id;
    s.span_id = root_span_id;
    ParseSpanId(root_raw.parent_span_id, &s.parent_span_id);
    if (s.parent_span_id == s.span_id) s.parent_span_id = SpanId();
    s.name = std::move(name);
    SetTimes(start_ns != 0 ? start_ns : root_raw.start_ns, end_ns != 0 ? end_ns : root_raw.end_ns,
             now_ns, &s);
    SetStatus(root_raw.status, &s);
    s.service = service;
    s.resource = resource;
    if (!root_raw.op.empty()) s.attrs.push_back({"sentry.op", AttrValue::String(root_raw.op)});
    if (!root_raw.description.empty()) {
      s.attrs.push_back({"sentry.description", AttrValue::String(root_raw.description)});
    }
    if (!root_raw.origin.empty()) {
      s.attrs.push_back({"sentry.origin", AttrValue::String(root_raw.origin)});
    }
    if (!source.empty()) s.attrs.push_back({"sentry.source", AttrValue::String(source)});
    dom::object user_obj;
    if (user && GetObj(*user, &user_obj)) {
      for (dom::key_value_pair kv : user_obj) {
        std::string_view key;
        if (kv.key == "id") {
          key = "user.id";
        } else if (kv.key == "email") {
          key = "user.email";
        } else if (kv.key == "username") {
          key = "user.name";
        } else if (kv.key == "ip_address") {
          key = "user.ip_address";
        } else {
          continue;
        }
        std::string text;
        if (ScalarText(kv.value, &text) && !text.empty()) {
          s.attrs.push_back({std::string(key), AttrValue::String(text)});
        }
      }
    }
    for (Attribute& a : root_attrs) s.attrs.push_back(std::move(a));
    model::DedupeAttributes(&s.attrs);
    s.kind = KindOf(root_raw.op, s.attrs);
  }

  // Its child spans.
  if (has_spans) {
    size_t index = 0;
    for (element child : spans) {
      ++index;
      constexpr std::string_view kItem = "sentry transaction: span";
      if (emitted >= kMaxSentrySpansPerItem) {
        Reject(&rejected, &reason, kItem, index, TooMany(kMaxSentrySpansPerItem, "spans"));
        continue;
      }
      dom::object obj;
      if (!GetObj(child, &obj)) {
        Reject(&rejected, &reason, kItem, index, "not an object");
        continue;
      }
      RawSentrySpan raw;
      ReadSentrySpan(obj, &raw);
      Span s;
      if (!raw.trace_id || raw.trace_id->is_null()) {
        if (!root_trace_ok) {
          Reject(&rejected, &reason, kItem, index, "no trace_id");
          continue;
        }
        s.trace_id = trace_id;
      } else if (!ParseTraceId(raw.trace_id, &s.trace_id)) {
        Reject(&rejected, &reason, kItem, index, "invalid trace_id");
        continue;
      }
      if (!ParseSpanId(raw.span_id, &s.span_id)) {
        Reject(&rejected, &reason, kItem, index, "invalid span_id");
        continue;
      }
      // A span of a transaction descends from its root; SDKs always send the parent.
      if (!ParseSpanId(raw.parent_span_id, &s.parent_span_id) && root_span_ok &&
          s.trace_id == trace_id) {
        s.parent_span_id = root_span_id;
      }
      if (s.parent_span_id == s.span_id) s.parent_span_id = SpanId();
      s.name.assign(!raw.description.empty() ? raw.description : raw.op);
      SetTimes(raw.start_ns, raw.end_ns, now_ns, &s);
      SetStatus(raw.status, &s);
      if (!raw.op.empty()) s.attrs.push_back({"sentry.op", AttrValue::String(raw.op)});
      if (!raw.description.empty()) {
        s.attrs.push_back({"sentry.description", AttrValue::String(raw.description)});
      }
      if (!raw.origin.empty()) s.attrs.push_back({"sentry.origin", AttrValue::String(raw.origin)});
      std::string child_name, child_tag;
      AddDataAndTags(raw, &s.attrs, &child_name, &child_tag);
      model::DedupeAttributes(&s.attrs);
      s.kind = KindOf(raw.op, s.attrs);
      s.service = !child_name.empty()  ? std::move(child_name)
                  : !child_tag.empty() ? std::move(child_tag)
                                       : service;
      s.resource = resource;
      out->spans.push_back(std::move(s));
      ++emitted;
    }
  }
  out->rejected += rejected;
  if (out->reject_reason.empty()) out->reject_reason = std::move(reason);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Span (v2) items.

namespace {

// Resource keys carried as span v2 attributes, and their resource names.
constexpr std::pair<std::string_view, std::string_view> kV2ResourceKeys[] = {
    {"sentry.release", "service.version"},
    {"sentry.environment", "deployment.environment"},
    {"sentry.sdk.name", "telemetry.sdk.name"},
    {"sentry.sdk.version", "telemetry.sdk.version"},
};

// Reads {k: {value, type}} into *attrs (typed; keys unique, the last occurrence wins).
void ReadTypedAttrs(const OptElement& v, std::vector<Attribute>* attrs) {
  dom::object obj;
  if (!v || !GetObj(*v, &obj)) return;
  for (dom::key_value_pair kv : obj) {
    if (kv.key.empty()) continue;
    AttrValue value;
    if (TypedAttr(kv.value, &value)) attrs->push_back({std::string(kv.key), std::move(value)});
  }
  model::DedupeAttributes(attrs);
}

bool SameAttrs(const AttributeList& a, const AttributeList& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || !(a[i].value == b[i].value)) return false;
  }
  return true;
}

// Decodes one span v2 item into *s. Returns false with *why when it must be rejected.
bool DecodeV2Span(dom::object obj, int64_t now_ns, const std::string& default_service, Span* s,
                  AttributeList* resource_attrs, std::string* why) {
  OptElement trace_id, span_id, parent_span_id, attributes, links;
  std::string_view name, status;
  int64_t start_ns = 0, end_ns = 0;
  bool is_segment = false, has_segment = false;
  for (dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    if (k == "trace_id") {
      trace_id = kv.value;
    } else if (k == "span_id") {
      span_id = kv.value;
    } else if (k == "parent_span_id") {
      parent_span_id = kv.value;
    } else if (k == "name") {
      GetStr(kv.value, &name);
    } else if (k == "status") {
      GetStr(kv.value, &status);
    } else if (k == "start_timestamp") {
      start_ns = TimestampNs(kv.value);
    } else if (k == "end_timestamp") {
      end_ns = TimestampNs(kv.value);
    } else if (k == "is_segment") {
      has_segment = kv.value.get_bool().get(is_segment) == 0;
    } else if (k == "attributes") {
      attributes = kv.value;
    } else if (k == "links") {
      links = kv.value;
    }
  }
  if (!ParseTraceId(trace_id, &s->trace_id)) {
    *why = !trace_id || trace_id->is_null() ? "no trace_id" : "invalid trace_id";
    return false;
  }
  if (!ParseSpanId(span_id, &s->span_id)) {
    *why = !span_id || span_id->is_null() ? "no span_id" : "invalid span_id";
    return false;
  }
  ParseSpanId(parent_span_id, &s->parent_span_id);
  if (s->parent_span_id == s->span_id) s->parent_span_id = SpanId();
  SetTimes(start_ns, end_ns, now_ns, s);
  SetStatus(status, s);

  ReadTypedAttrs(attributes, &s->attrs);
  for (const auto& [from, to] : kV2ResourceKeys) {
    AddResource(to, TakeStrAttr(&s->attrs, from), resource_attrs);
  }
  std::string service = TakeStrAttr(&s->attrs, "service.name");
  const std::string_view op = StrAttr(s->attrs, "sentry.op");
  s->name.assign(!name.empty() ? name : op);
  s->kind = KindOf(op, s->attrs);
  if (service.empty()) service = StrAttr(s->attrs, "service");
  s->service = !service.empty() ? std::move(service) : default_service;
  if (has_segment) {
    TakeAttr(&s->attrs, "sentry.is_segment");  // the member wins over an attribute
    s->attrs.push_back({"sentry.is_segment", AttrValue::Bool(is_segment)});
  }

  dom::array link_arr;
  if (links && GetArr(*links, &link_arr)) {
    for (element l : link_arr) {
      dom::object lo;
      if (!GetObj(l, &lo)) continue;
      model::SpanLink link;
      element id;
      if (lo.at_key("trace_id").get(id) != 0 || !ParseTraceId(id, &link.trace_id)) continue;
      if (lo.at_key("span_id").get(id) != 0 || !ParseSpanId(id, &link.span_id)) continue;
      element sampled, attrs;
      bool b = false;
      if (lo.at_key("sampled").get(sampled) == 0 && sampled.get_bool().get(b) == 0 && b) {
        link.flags = 1;  // W3C sampled
      }
      if (lo.at_key("attributes").get(attrs) == 0) ReadTypedAttrs(attrs, &link.attrs);
      s->links.push_back(std::move(link));
    }
  }
  return true;
}

}  // namespace

Status DecodeSentrySpans(std::string_view json, int64_t now_ns, const std::string& default_service,
                         model::SpanBatch* out) {
  dom::parser parser;
  dom::object root;
  SL_RETURN_IF_ERROR(ParseObject(json, "sentry spans", &parser, &root));
  element items_el;
  dom::array items;
  if (root.at_key("items").get(items_el) != 0 || !GetArr(items_el, &items)) return Status::OK();

  int64_t rejected = 0;
  std::string reason;
  size_t index = 0, emitted = 0;
  SharedAttributes shared;  // the previous span's resource, reused while equal
  for (element item : items) {
    ++index;
    constexpr std::string_view kItem = "sentry spans: span";
    if (emitted >= kMaxSentrySpansPerItem) {
      Reject(&rejected, &reason, kItem, index, TooMany(kMaxSentrySpansPerItem, "spans"));
      continue;
    }
    dom::object obj;
    if (!GetObj(item, &obj)) {
      Reject(&rejected, &reason, kItem, index, "not an object");
      continue;
    }
    Span s;
    AttributeList resource_attrs;
    std::string why;
    if (!DecodeV2Span(obj, now_ns, default_service, &s, &resource_attrs, &why)) {
      Reject(&rejected, &reason, kItem, index, why);
      continue;
    }
    if (resource_attrs.empty()) {
      s.resource = nullptr;
    } else if (shared != nullptr && SameAttrs(*shared, resource_attrs)) {
      s.resource = shared;
    } else {
      s.SetResourceAttrs(std::move(resource_attrs));
      shared = s.resource;
    }
    out->spans.push_back(std::move(s));
    ++emitted;
  }
  out->rejected += rejected;
  if (out->reject_reason.empty()) out->reject_reason = std::move(reason);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Logs.

Status DecodeSentryLogs(std::string_view json, int64_t now_ns, const std::string& default_service,
                        model::LogBatch* out) {
  dom::parser parser;
  dom::object root;
  SL_RETURN_IF_ERROR(ParseObject(json, "sentry logs", &parser, &root));
  element items_el;
  dom::array items;
  if (root.at_key("items").get(items_el) != 0 || !GetArr(items_el, &items)) return Status::OK();

  int64_t rejected = 0;
  std::string reason;
  size_t index = 0, emitted = 0;
  for (element item : items) {
    ++index;
    constexpr std::string_view kItem = "sentry logs: log";
    if (emitted >= kMaxSentryLogsPerItem) {
      Reject(&rejected, &reason, kItem, index, TooMany(kMaxSentryLogsPerItem, "records"));
      continue;
    }
    dom::object obj;
    if (!GetObj(item, &obj)) {
      Reject(&rejected, &reason, kItem, index, "not an object");
      continue;
    }
    model::LogRecord r;
    r.observed_ns = now_ns;
    std::string_view level;
    int64_t severity = 0;
    OptElement span_id;
    for (dom::key_value_pair kv : obj) {
      const std::string_view k = kv.key;
      if (k == "timestamp") {
        r.ts_ns = TimestampNs(kv.value);
      } else if (k == "level") {
        GetStr(kv.value, &level);
      } else if (k == "severity_number") {
        if (kv.value.get_int64().get(severity) != 0) severity = 0;
      } else if (k == "body") {
        std::string_view s;
        if (GetStr(kv.value, &s)) {
          r.body.assign(s);
        } else if (!kv.value.is_null()) {
          r.body = simdjson::minify(kv.value);
        }
      } else if (k == "trace_id") {
        ParseTraceId(kv.value, &r.trace_id);
      } else if (k == "span_id") {
        span_id = kv.value;
      } else if (k == "attributes") {
        ReadTypedAttrs(kv.value, &r.attrs);
      }
    }
    if (r.ts_ns == 0) r.ts_ns = now_ns;
    if (severity >= 1 && severity <= 24) r.severity_number = static_cast<uint8_t>(severity);
    r.level = model::LevelFromText(level);
    if (r.level == model::Level::kUnknown) r.level = model::LevelFromSeverityNumber(severity);
    if (!ParseSpanId(span_id, &r.span_id)) {
      const std::string_view parent = StrAttr(r.attrs, "sentry.trace.parent_span_id");
      if (!model::DecodeHex(parent, r.span_id.bytes.data(), r.span_id.bytes.size())) {
        r.span_id = SpanId();
      }
    }
    const std::string_view service = StrAttr(r.attrs, "service.name");
    r.service.assign(!service.empty() ? service : std::string_view(default_service));
    r.env.assign(StrAttr(r.attrs, "sentry.environment"));
    std::string_view host = StrAttr(r.attrs, "host.name");
    if (host.empty()) host = StrAttr(r.attrs, "server.address");  // @sentry/node serverName
    r.host.assign(host);
    out->records.push_back(std::move(r));
    ++emitted;
  }
  out->rejected += rejected;
  if (out->reject_reason.empty()) out->reject_reason = std::move(reason);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Sessions.

namespace {

// attrs{release, environment}; false without a non-empty release.
bool ReadSessionAttrs(element v, SentrySessionBucket* b) {
  dom::object obj;
  if (!GetObj(v, &obj)) return false;
  for (dom::key_value_pair kv : obj) {
    if (kv.key == "release") {
      ScalarText(kv.value, &b->release);
    } else if (kv.key == "environment") {
      SetStr(kv.value, &b->environment);
    }
  }
  return !b->release.empty();
}

// A non-negative integer count (a JSON integer, or a whole double); 0 for anything else.
uint64_t Count(element v) {
  uint64_t u = 0;
  if (v.get_uint64().get(u) == 0) return u;
  double d = 0;
  if (v.type() == element_type::DOUBLE && v.get_double().get(d) == 0 && d > 0 && d < 1.8e19 &&
      d == std::floor(d)) {
    return static_cast<uint64_t>(d);
  }
  return 0;
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

}  // namespace

Status DecodeSentrySession(std::string_view json, std::vector<SentrySessionBucket>* out) {
  dom::parser parser;
  dom::object root;
  SL_RETURN_IF_ERROR(ParseObject(json, "sentry session", &parser, &root));
  SentrySessionBucket b;
  bool has_release = false, init = false;
  std::string_view status = "ok";
  int64_t errors = 0, timestamp_ns = 0;
  for (dom::key_value_pair kv : root) {
    const std::string_view k = kv.key;
    if (k == "attrs") {
      has_release = ReadSessionAttrs(kv.value, &b);
    } else if (k == "init") {
      if (kv.value.get_bool().get(init) != 0) init = false;
    } else if (k == "status") {
      if (!GetStr(kv.value, &status)) status = "ok";
    } else if (k == "errors") {
      errors = Count(kv.value) > 0 ? 1 : 0;
    } else if (k == "started") {
      b.started_ns = TimestampNs(kv.value);
    } else if (k == "timestamp") {
      timestamp_ns = TimestampNs(kv.value);
    }
  }
  if (!has_release) return Status::OK();
  if (b.started_ns == 0) b.started_ns = timestamp_ns;
  b.started = init ? 1 : 0;
  bool terminal = true;
  if (status == "exited") {
    b.exited = 1;
  } else if (status == "crashed") {
    b.crashed = 1;
  } else if (status == "abnormal") {
    b.abnormal = 1;
  } else if (status == "errored") {
    b.errored = 1;
  } else {
    terminal = false;  // "ok" or unknown: the session goes on
  }
  if (terminal && errors > 0) b.errored = 1;
  if (!init && !terminal) return Status::OK();
  out->push_back(std::move(b));
  return Status::OK();
}

Status DecodeSentrySessionAggregates(std::string_view json, std::vector<SentrySessionBucket>* out) {
  dom::parser parser;
  dom::object root;
  SL_RETURN_IF_ERROR(ParseObject(json, "sentry sessions", &parser, &root));
  SentrySessionBucket proto;
  bool has_release = false;
  dom::array aggregates;
  bool has_aggregates = false;
  for (dom::key_value_pair kv : root) {
    if (kv.key == "attrs") {
      proto = SentrySessionBucket();
      has_release = ReadSessionAttrs(kv.value, &proto);
    } else if (kv.key == "aggregates") {
      has_aggregates = GetArr(kv.value, &aggregates);
    }
  }
  if (!has_release || !has_aggregates) return Status::OK();
  size_t n = 0;
  for (element a : aggregates) {
    if (n >= kMaxSentrySessionBuckets) break;
    dom::object obj;
    if (!GetObj(a, &obj)) continue;
    SentrySessionBucket b = proto;
    for (dom::key_value_pair kv : obj) {
      const std::string_view k = kv.key;
      if (k == "started") {
        b.started_ns = TimestampNs(kv.value);
      } else if (k == "exited") {
        b.exited = Count(kv.value);
      } else if (k == "errored") {
        b.errored = Count(kv.value);
      } else if (k == "crashed") {
        b.crashed = Count(kv.value);
      } else if (k == "abnormal") {
        b.abnormal = Count(kv.value);
      }
    }
    b.started =
        SaturatingAdd(SaturatingAdd(b.exited, b.errored), SaturatingAdd(b.crashed, b.abnormal));
    out->push_back(std::move(b));
    ++n;
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Client reports.

Status DecodeSentryClientReport(std::string_view json, std::vector<SentryDiscard>* out) {
  dom::parser parser;
  dom::object root;
  SL_RETURN_IF_ERROR(ParseObject(json, "sentry client report", &parser, &root));
  element events_el;
  dom::array events;
  if (root.at_key("discarded_events").get(events_el) != 0 || !GetArr(events_el, &events)) {
    return Status::OK();
  }
  for (element e : events) {
    dom::object obj;
    if (!GetObj(e, &obj)) continue;
    SentryDiscard d;
    bool has_reason = false, has_category = false, has_quantity = false;
    for (dom::key_value_pair kv : obj) {
      std::string_view s;
      if (kv.key == "reason") {
        has_reason = GetStr(kv.value, &s);
        if (has_reason) d.reason.assign(s);
      } else if (kv.key == "category") {
        has_category = GetStr(kv.value, &s);
        if (has_category) d.category.assign(s);
      } else if (kv.key == "quantity") {
        has_quantity = kv.value.get_uint64().get(d.quantity) == 0;
      }
    }
    if (has_reason && has_category && has_quantity) out->push_back(std::move(d));
  }
  return Status::OK();
}

}  // namespace sightline::ingest
