// Internal building blocks shared by the OTLP decoders (otlp_logs.cc, otlp_traces.cc): the
// protobuf wire reader, AnyValue/KeyValue decoding for protobuf and OTLP/JSON, UTF-8 repair,
// base64, the simdjson iteration helpers, Resource/InstrumentationScope decoding, the batch
// sink that enforces the size guards and undoes a failed request, and the response encoders.
//
// Not a public API: include it only from src/ingest/*.cc (it pulls in simdjson). The public
// limits it enforces (kMaxOtlpAnyValueDepth, kMaxOtlpExpansion, kOtlpExpansionSlackBytes) and
// the google.rpc.Status encoders are declared in otlp_logs.h.
//
// Everything here is stateless or owned by one decoder call, so thread-safe as long as
// concurrent calls use distinct outputs. Errors are InvalidArgument without the
// "otlp protobuf: " / "otlp json: " prefix (each decoder adds it once at the top) or
// PayloadTooLarge from the guards.
#ifndef SIGHTLINE_INGEST_OTLP_COMMON_H_
#define SIGHTLINE_INGEST_OTLP_COMMON_H_

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/base64.h"
#include "base/status.h"
#include "ingest/otlp_logs.h"
#include "model/log_record.h"

namespace sightline::ingest::otlp_internal {

namespace od = simdjson::ondemand;
using model::Attribute;
using model::AttrValue;

// ---------------------------------------------------------------------------------------
// Text.

void AppendInt(int64_t v, std::string* out);
// proto3 JSON: finite doubles as numbers, the others as the strings "NaN", "Infinity", ...
void AppendJsonDouble(double d, std::string* out);
using sightline::AppendBase64;  // base/base64.h
using sightline::DecodeBase64Exact;
// Appends `in`, replacing each byte that does not start a valid UTF-8 sequence with U+FFFD.
void AppendRepairedUtf8(std::string_view in, std::string* out);
// *out = `in`, repaired as above if it is not valid UTF-8.
void AssignUtf8(std::string_view in, std::string* out);

// ---------------------------------------------------------------------------------------
// Attributes.

// Appends the attributes of `src` (keys unique) whose keys `dst` lacks.
void AddMissing(const std::vector<Attribute>& src, std::vector<Attribute>* dst);
// Sets `key` to `value`, replacing an existing attribute of that key.
void SetAttr(std::string_view key, AttrValue value, std::vector<Attribute>* attrs);
// What copying `a` costs, for the expansion guard.
size_t AttrBytes(const Attribute& a);
size_t AttrBytes(const std::vector<Attribute>& attrs);

// A decoded AnyValue.
struct Any {
  enum class Kind : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kJson };
  Kind kind = Kind::kEmpty;
  std::string str;  // kString: text; kBytes: base64; kJson: compact JSON (arrays, kvlists)
  int64_t i = 0;
  double d = 0;
  bool b = false;
};

// `v` as compact JSON text (empty -> null, bytes -> the base64 string).
void AppendAnyJson(const Any& v, std::string* out);
// Moves `v` into an attribute value: strings, bytes (base64) and arrays / kvlists (JSON text)
// become strings, the rest keeps its type. False for an empty AnyValue (drop the attribute).
bool AnyToAttr(Any* v, AttrValue* out);

// ---------------------------------------------------------------------------------------
// Protobuf.

struct ProtoField {
  uint32_t number = 0;
  uint8_t wire_type = 0;
  uint64_t value = 0;      // wire types 0 (varint), 1 (fixed64), 5 (fixed32)
  std::string_view bytes;  // wire type 2
};

// Reads the fields of one message. Groups, truncated data, overlong varints, field number 0
// and lengths past the end are errors. Views point into the input.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool done() const { return p_ == end_; }
  Status Next(ProtoField* f);

 private:
  Status ReadVarint(uint64_t* v);

  const char* p_;
  const char* end_;
};

// A KeyValue whose value is at AnyValue nesting `depth` (1 = an attribute value).
Status DecodeProtoKeyValue(std::string_view bytes, int depth, std::string* key, Any* value);
// An AnyValue at nesting `depth`; the last oneof member present wins. Fails beyond
// kMaxOtlpAnyValueDepth.
Status DecodeProtoAnyValue(std::string_view bytes, int depth, Any* out);
// Decodes a KeyValue and appends it to *attrs unless its value is empty.
Status DecodeProtoAttribute(std::string_view bytes, std::vector<Attribute>* attrs);

// Resource{attributes = 1}: calls add(std::string key, Any* value) for every KeyValue.
template <typename Fn>
Status DecodeProtoResource(std::string_view bytes, Fn&& add) {
  ProtoReader r(bytes);
  ProtoField f;
  while (!r.done()) {
    SL_RETURN_IF_ERROR(r.Next(&f));
    if (f.number == 1 && f.wire_type == 2) {
      std::string key;
      Any value;
      SL_RETURN_IF_ERROR(DecodeProtoKeyValue(f.bytes, 1, &key, &value));
      add(std::move(key), &value);
    }
  }
  return Status::OK();
}

// An InstrumentationScope. Attributes are decoded only on request (the logs mapping has no
// place for them).
struct ScopeInfo {
  std::string name, version;
  std::vector<Attribute> attrs;  // keys unique after DecodeProtoScope / DecodeJsonScope
};
// InstrumentationScope{name = 1, version = 2, attributes = 3}, merged into *scope (a repeated
// scope field merges as protobuf does).
Status DecodeProtoScope(std::string_view bytes, bool with_attrs, ScopeInfo* scope);

// How one signal names its Resource<X> / Scope<X> messages and their items (for the walkers
// below and their error messages).
struct OtlpSignal {
  std::string_view scope_proto;              // "ScopeSpans"
  std::string_view item_proto;               // "Span"
  std::string_view resource_json;            // "resourceSpans"
  std::string_view scope_json, scope_snake;  // "scopeSpans", "scope_spans"
  std::string_view item_json, item_snake;    // "spans", "spans"
  bool scope_attrs;                          // decode InstrumentationScope attributes
};

// Walks a protobuf Resource<X>{resource = 1, scope_x = 2} and each Scope<X>{scope = 1,
// items = 2}: the resource's attributes go to add(std::string key, Any* value), every item to
// item(std::string_view bytes), and after each Scope<X> scope_end(first, scope) runs, where
// `first` is what size() returned before its items. Errors are annotated with the message
// names.
template <typename Size, typename Add, typename Item, typename ScopeEnd>
Status WalkProtoResource(std::string_view bytes, const OtlpSignal& sig, Size&& size, Add&& add,
                         Item&& item, ScopeEnd&& scope_end) {
  ProtoReader r(bytes);
  ProtoField f;
  while (!r.done()) {
    SL_RETURN_IF_ERROR(r.Next(&f));
    if (f.wire_type != 2) continue;
    if (f.number == 1) {
      if (Status st = DecodeProtoResource(f.bytes, add); !st.ok()) return st.Annotate("Resource");
    } else if (f.number == 2) {
      const size_t first = size();
      ScopeInfo scope;
      ProtoReader sr(f.bytes);
      ProtoField sf;
      Status st;
      while (st.ok() && !sr.done()) {
        st = sr.Next(&sf);
        if (!st.ok() || sf.wire_type != 2) continue;
        if (sf.number == 1) {
          st = DecodeProtoScope(sf.bytes, sig.scope_attrs, &scope).Annotate("Scope");
        } else if (sf.number == 2) {
          st = item(sf.bytes).Annotate(sig.item_proto);
        }
      }
      if (st.ok()) st = scope_end(first, scope);
      if (!st.ok()) return st.Annotate(sig.scope_proto);
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// JSON (simdjson on-demand). Every value may be visited once.

Status JsonError(simdjson::error_code e, std::string_view where);

// Calls fn(key, value) for each member of object `v` whose value is not null.
template <typename Fn>
Status ForEachMember(od::value v, std::string_view where, Fn&& fn) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return JsonError(e, where);
  for (auto field_or : obj) {
    od::field field;
    if (auto e = std::move(field_or).get(field)) return JsonError(e, where);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e, where);
    od::value value = field.value();
    bool is_null = false;
    if (auto e = value.is_null().get(is_null)) return JsonError(e, key);
    if (is_null) continue;
    SL_RETURN_IF_ERROR(fn(key, value));
  }
  return Status::OK();
}

// Calls fn(value) for each non-null element of array `v`.
template <typename Fn>
Status ForEachElement(od::value v, std::string_view where, Fn&& fn) {
  od::array arr;
  if (auto e = v.get_array().get(arr)) return JsonError(e, where);
  for (auto elem_or : arr) {
    od::value elem;
    if (auto e = std::move(elem_or).get(elem)) return JsonError(e, where);
    bool is_null = false;
    if (auto e = elem.is_null().get(is_null)) return JsonError(e, where);
    if (is_null) continue;
    SL_RETURN_IF_ERROR(fn(elem));
  }
  return Status::OK();
}

// Calls fn(value) for each element of an ArrayValue / KeyValueList: {"values":[...]}, or a
// bare [...] as some examples (opentelemetry-proto examples/events.json) write it.
template <typename Fn>
Status ForEachListValue(od::value v, std::string_view where, Fn&& fn) {
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e, where);
  if (type == od::json_type::array) return ForEachElement(v, where, fn);
  return ForEachMember(v, where, [&](std::string_view key, od::value values) {
    return key == "values" ? ForEachElement(values, key, fn) : Status::OK();
  });
}

// Parses a whole OTLP/JSON request object and calls fn(value) for each non-null element of
// its top-level array `camel` (or `snake`); other members are ignored. An empty or
// all-whitespace body is an empty request; trailing content after the object is an error.
template <typename Fn>
Status ForEachJsonRequestElement(std::string_view body, std::string_view camel,
                                 std::string_view snake, Fn&& fn) {
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  simdjson::error_code e = parser.iterate(padded).get(doc);
  if (e == simdjson::EMPTY) return Status::OK();
  if (e) return JsonError(e, "request");
  od::object root;
  if ((e = doc.get_object().get(root))) return JsonError(e, "request");
  for (auto field_or : root) {
    od::field field;
    if ((e = std::move(field_or).get(field))) return JsonError(e, "request");
    std::string_view key;
    if ((e = field.unescaped_key().get(key))) return JsonError(e, "request");
    if (key != camel && key != snake) continue;
    bool is_null = false;
    if ((e = field.value().is_null().get(is_null))) return JsonError(e, key);
    if (is_null) continue;
    SL_RETURN_IF_ERROR(ForEachElement(field.value(), key, fn));
  }
  const char* at = nullptr;
  if (doc.current_location().get(at) == simdjson::SUCCESS) {
    return InvalidArgument("request: trailing content after the object");
  }
  return Status::OK();
}

// lowerCamelCase, or the proto's snake_case spelling.
inline bool Is(std::string_view key, std::string_view camel, std::string_view snake) {
  return key == camel || key == snake;
}

Status GetString(od::value v, std::string_view where, std::string_view* out);
// An int64 as a JSON number or a decimal string.
Status GetInt64(od::value v, std::string_view where, int64_t* out);
// A uint64 (fixed64 timestamps) as a JSON number or a decimal string; negative numbers and
// doubles out of range read as 0.
Status GetUint64(od::value v, std::string_view where, uint64_t* out);
// A uint32 / fixed32 as a JSON integer or a decimal string; out of range is an error.
Status GetUint32(od::value v, std::string_view where, uint32_t* out);
// A double as a number or one of the strings "NaN", "Infinity", "-Infinity" (or a number).
Status GetDouble(od::value v, std::string_view where, double* out);
// A trace or span id: hex of 2n chars (any case), or base64 of n bytes; "" is none (true,
// *out untouched).
bool DecodeJsonId(std::string_view text, uint8_t* out, size_t n);

Status DecodeJsonKeyValue(od::value v, int depth, std::string* key, Any* value);
Status DecodeJsonAnyValue(od::value v, int depth, Any* out);
// Decodes a KeyValue and appends it to *attrs unless its value is empty.
Status DecodeJsonAttribute(od::value v, std::vector<Attribute>* attrs);

// {"attributes":[KeyValue...]}: calls add(std::string key, Any* value) for every KeyValue.
template <typename Fn>
Status DecodeJsonResource(od::value v, Fn&& add) {
  return ForEachMember(v, "resource", [&](std::string_view key, od::value a) {
    if (key != "attributes") return Status::OK();
    return ForEachElement(a, key, [&](od::value kv) {
      std::string k;
      Any value;
      SL_RETURN_IF_ERROR(DecodeJsonKeyValue(kv, 1, &k, &value).Annotate("resource"));
      add(std::move(k), &value);
      return Status::OK();
    });
  });
}

// {"name":..., "version":..., "attributes":[...]} merged into *scope.
Status DecodeJsonScope(od::value v, bool with_attrs, ScopeInfo* scope);

// ---------------------------------------------------------------------------------------
// The batch being built by one request.

// Appends decoded items (log records, spans) to the caller's vector, numbers them, enforces
// the item cap and the expansion budget, and on failure removes everything this request
// added so that the caller's batch is left as it was.
template <typename T>
class BatchSink {
 public:
  struct Limits {
    size_t max_items;
    std::string_view items_name;   // "log records", in "more than N log records ..."
    std::string_view charge_what;  // what Charge() pays for, in the PayloadTooLarge message
  };

  BatchSink(std::string_view body, Limits limits, std::vector<T>* items, int64_t* rejected,
            std::string* reject_reason)
      : limits_(limits),
        items_(items),
        out_rejected_(rejected),
        out_reason_(reject_reason),
        first_(items->size()),
        budget_(kMaxOtlpExpansion * body.size() + kOtlpExpansionSlackBytes) {}

  std::vector<T>& items() { return *items_; }
  size_t size() const { return items_->size(); }

  // Appends a new item and numbers it 1, 2, ... in request order (rejected ones included).
  Status Next(T** item, int64_t* ordinal) {
    if (ordinal_ >= static_cast<int64_t>(limits_.max_items)) {
      return PayloadTooLarge("more than " + std::to_string(limits_.max_items) + " " +
                             std::string(limits_.items_name) + " in one request");
    }
    *ordinal = ++ordinal_;
    *item = &items_->emplace_back();
    return Status::OK();
  }

  // Drops the last item and counts it as rejected; the first reason is kept.
  void Reject(std::string reason) {
    items_->pop_back();
    if (rejected_++ == 0) reason_ = std::move(reason);
  }

  // Pays `bytes` out of the expansion budget (kMaxOtlpExpansion * body size + slack).
  Status Charge(size_t bytes) {
    spent_ += bytes;
    if (spent_ > budget_) {
      return PayloadTooLarge(std::string(limits_.charge_what) + " exceed " +
                             std::to_string(budget_) + " bytes");
    }
    return Status::OK();
  }

  // Publishes the counts (on success) or restores the batch (on failure); returns `st`.
  Status Done(Status st) {
    if (!st.ok()) {
      items_->erase(items_->begin() + static_cast<ptrdiff_t>(first_), items_->end());
      return st;
    }
    *out_rejected_ += rejected_;
    if (rejected_ > 0 && out_reason_->empty()) *out_reason_ = std::move(reason_);
    return st;
  }

 private:
  Limits limits_;
  std::vector<T>* items_;
  int64_t* out_rejected_;
  std::string* out_reason_;
  size_t first_;
  size_t budget_;
  size_t spent_ = 0;
  int64_t ordinal_ = 0;
  int64_t rejected_ = 0;
  std::string reason_;
};

// ---------------------------------------------------------------------------------------
// Responses.

// Export{Logs,Trace,Metrics}ServiceResponse: all three are
// {partial_success = 1 {int64 rejected = 1; string error_message = 2}}. Empty (full
// success) when rejected == 0 and the message is empty.
std::string EncodePartialSuccessProto(int64_t rejected, std::string_view error_message);
// {"partialSuccess":{"<count_key>":"3","errorMessage":"..."}} or "{}"; zero/empty members
// omitted, the message repaired to valid UTF-8.
std::string EncodePartialSuccessJson(std::string_view count_key, int64_t rejected,
                                     std::string_view error_message);

// The JSON form of WalkProtoResource: {"resource":{...}, "scopeX":[{"scope":{...},
// "items":[...]}]}, with the same callbacks (item takes an od::value).
template <typename Size, typename Add, typename Item, typename ScopeEnd>
Status WalkJsonResource(od::value v, const OtlpSignal& sig, Size&& size, Add&& add, Item&& item,
                        ScopeEnd&& scope_end) {
  return ForEachMember(v, sig.resource_json, [&](std::string_view key, od::value m) {
    if (key == "resource") return DecodeJsonResource(m, add);
    if (!Is(key, sig.scope_json, sig.scope_snake)) return Status::OK();
    return ForEachElement(m, key, [&](od::value sv) {
      const size_t first = size();
      ScopeInfo scope;
      Status st = ForEachMember(sv, sig.scope_json, [&](std::string_view k, od::value x) {
        if (k == "scope") return DecodeJsonScope(x, sig.scope_attrs, &scope);
        if (Is(k, sig.item_json, sig.item_snake)) {
          return ForEachElement(x, k,
                                [&](od::value it) { return item(it).Annotate(sig.item_json); });
        }
        return Status::OK();
      });
      if (st.ok()) st = scope_end(first, scope);
      return st.Annotate(sig.scope_json);
    });
  });
}

}  // namespace sightline::ingest::otlp_internal

#endif  // SIGHTLINE_INGEST_OTLP_COMMON_H_
