#include "ingest/sentry.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "base/json.h"
#include "ingest/ndjson.h"
#include "ingest/sentry_json.h"
#include "model/log_record.h"

namespace sightline::ingest {
namespace {

namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;
using sentry_json::EqualsIgnoreCase;
using sentry_json::GetArr;
using sentry_json::GetObj;
using sentry_json::GetStr;
using sentry_json::Lower;
using sentry_json::SetStr;
using sentry_json::TimestampNs;

// ---------------------------------------------------------------------------------------
// Small text helpers.

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return Lower(c) - 'a' + 10;
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// ---------------------------------------------------------------------------------------
// Tolerant DOM accessors: a value of an unexpected type reads as absent.


bool IsScalar(element_type t) {
  return t == element_type::STRING || t == element_type::INT64 || t == element_type::UINT64 ||
         t == element_type::DOUBLE || t == element_type::BOOL;
}

// A string as is; numbers and booleans as their JSON text. False for null, arrays, objects.
bool ScalarText(element v, std::string* out) {
  const element_type t = v.type();
  if (t == element_type::STRING) {
    std::string_view s;
    if (!GetStr(v, &s)) return false;
    out->assign(s);
    return true;
  }
  if (!IsScalar(t)) return false;
  *out = simdjson::minify(v);
  return true;
}

// A string as is, anything else as compact JSON; cut to kMaxSentryValueBytes.
std::string ValueText(element v) {
  std::string_view s;
  if (GetStr(v, &s)) return std::string(CutUtf8(s, kMaxSentryValueBytes));
  std::string json = simdjson::minify(v);
  if (json.size() > kMaxSentryValueBytes) {
    json.resize(CutUtf8(json, kMaxSentryValueBytes).size());
  }
  return json;
}


int64_t GetIntOr0(element v) {
  int64_t i = 0;
  if (v.get_int64().get(i) == 0) return i;
  double d = 0;
  if (v.get_double().get(d) == 0 && std::isfinite(d) && std::fabs(d) < 9e18) {
    return static_cast<int64_t>(d);
  }
  return 0;
}

// RFC 3339 text or epoch seconds (number or numeric string); 0 if unusable.
// Appends key/value pairs from an object {"k": v} or a list [["k", v], ...]. With
// `json_values` every non-null value is kept as ValueText; otherwise only scalars, as text.
// At most kMaxSentryPairs pairs in *out.
void AppendPairs(element v, bool json_values,
                 std::vector<std::pair<std::string, std::string>>* out) {
  auto add = [&](std::string_view key, element value) {
    if (out->size() >= kMaxSentryPairs) return;
    std::string text;
    if (json_values) {
      if (value.is_null()) return;
      text = ValueText(value);
    } else if (!ScalarText(value, &text)) {
      return;
    }
    out->emplace_back(std::string(key), std::move(text));
  };
  dom::object obj;
  dom::array arr;
  if (GetObj(v, &obj)) {
    for (dom::key_value_pair kv : obj) add(kv.key, kv.value);
  } else if (GetArr(v, &arr)) {
    for (element pair : arr) {
      dom::array p;
      if (!GetArr(pair, &p) || p.size() != 2) continue;
      auto it = p.begin();
      std::string_view key;
      if (!GetStr(*it, &key)) continue;
      ++it;
      add(key, *it);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Event parts.

bool ValidLevel(std::string_view l) {
  return l == "fatal" || l == "error" || l == "warning" || l == "info" || l == "debug";
}

void SetLevel(element v, std::string* out) {
  std::string_view s;
  if (!GetStr(v, &s) || s.size() > 16) return;
  std::string l;
  for (char c : s) l.push_back(Lower(c));
  if (l == "warn") l = "warning";
  if (l == "critical") l = "fatal";
  if (l == "log") l = "info";
  if (ValidLevel(l)) *out = std::move(l);
}

// Python %-style and {} placeholders, filled positionally from params.
std::string FormatLogentry(std::string_view fmt, const std::vector<std::string>& params) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '%' && i + 1 < fmt.size()) {
      const char f = fmt[i + 1];
      if (f == '%') {
        out.push_back('%');
        ++i;
        continue;
      }
      if ((f == 's' || f == 'd' || f == 'i' || f == 'f' || f == 'r') && next < params.size()) {
        out += params[next++];
        ++i;
        continue;
      }
    } else if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '}' && next < params.size()) {
      out += params[next++];
      ++i;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

struct Logentry {
  bool present = false;
  std::string message, formatted;
  bool has_formatted = false;
  std::vector<std::string> params;
};

void DecodeLogentry(dom::object obj, Logentry* le) {
  le->present = true;
  for (dom::key_value_pair kv : obj) {
    if (kv.key == "message") {
      SetStr(kv.value, &le->message);
    } else if (kv.key == "formatted") {
      std::string_view s;
      if (GetStr(kv.value, &s)) {
        le->formatted.assign(s);
        le->has_formatted = true;
      }
    } else if (kv.key == "params") {
      dom::array arr;
      if (!GetArr(kv.value, &arr)) continue;
      for (element p : arr) {
        if (le->params.size() >= kMaxSentryPairs) break;
        le->params.push_back(p.is_null() ? std::string("None") : ValueText(p));
      }
    }
  }
}

void DecodeLines(element v, bool keep_last, std::vector<std::string>* out) {
  dom::array arr;
  if (!GetArr(v, &arr)) return;
  const size_t n = arr.size();
  const size_t skip = (keep_last && n > kMaxSentryContextLines) ? n - kMaxSentryContextLines : 0;
  size_t i = 0;
  for (element line : arr) {
    if (i++ < skip) continue;
    if (out->size() >= kMaxSentryContextLines) break;
    std::string_view s;
    out->emplace_back(GetStr(line, &s) ? s : std::string_view());
  }
}

void DecodeFrame(dom::object obj, model::StackFrame* f) {
  for (dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    const element v = kv.value;
    if (k == "function") {
      SetStr(v, &f->function);
    } else if (k == "module") {
      SetStr(v, &f->module);
    } else if (k == "filename") {
      SetStr(v, &f->filename);
    } else if (k == "abs_path") {
      SetStr(v, &f->abs_path);
    } else if (k == "package") {
      SetStr(v, &f->package);
    } else if (k == "platform") {
      SetStr(v, &f->platform);
    } else if (k == "lineno") {
      f->lineno = std::max<int64_t>(0, GetIntOr0(v));
    } else if (k == "colno") {
      f->colno = std::max<int64_t>(0, GetIntOr0(v));
    } else if (k == "in_app") {
      bool b = false;
      if (v.get_bool().get(b) == 0) f->in_app = b;
    } else if (k == "context_line") {
      SetStr(v, &f->context_line);
    } else if (k == "pre_context") {
      DecodeLines(v, /*keep_last=*/true, &f->pre_context);
    } else if (k == "post_context") {
      DecodeLines(v, /*keep_last=*/false, &f->post_context);
    } else if (k == "vars") {
      dom::object vars;
      if (GetObj(v, &vars)) AppendPairs(v, /*json_values=*/true, &f->vars);
    }
  }
}

void DecodeStacktrace(element v, std::vector<model::StackFrame>* frames) {
  dom::object st;
  if (!GetObj(v, &st)) return;
  element fv;
  dom::array arr;
  if (st.at_key("frames").get(fv) != 0 || !GetArr(fv, &arr)) return;
  const size_t n = arr.size();
  constexpr size_t kHalf = kMaxSentryFrames / 2;
  size_t i = 0;
  for (element fe : arr) {
    const size_t idx = i++;
    if (n > kMaxSentryFrames && idx >= kHalf && idx < n - kHalf) continue;
    dom::object fo;
    if (!GetObj(fe, &fo)) continue;
    DecodeFrame(fo, &frames->emplace_back());
  }
}

void DecodeException(dom::object obj, model::ExceptionInfo* ex) {
  for (dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    if (k == "type") {
      SetStr(kv.value, &ex->type);
    } else if (k == "value") {
      ScalarText(kv.value, &ex->value);
    } else if (k == "module") {
      SetStr(kv.value, &ex->module);
    } else if (k == "mechanism") {
      dom::object mech;
      if (!GetObj(kv.value, &mech)) continue;
      for (dom::key_value_pair m : mech) {
        if (m.key == "type") {
          SetStr(m.value, &ex->mechanism);
        } else if (m.key == "handled") {
          bool b = false;
          if (m.value.get_bool().get(b) == 0) ex->handled = b;
        }
      }
    } else if (k == "stacktrace") {
      DecodeStacktrace(kv.value, &ex->frames);
    }
  }
}

// {"values":[...]} or [...]: the array, or false.
bool ValuesArray(element v, dom::array* out) {
  if (GetArr(v, out)) return true;
  dom::object obj;
  element values;
  return GetObj(v, &obj) && obj.at_key("values").get(values) == 0 && GetArr(values, out);
}

void DecodeExceptions(element v, std::vector<model::ExceptionInfo>* out) {
  dom::array arr;
  if (!ValuesArray(v, &arr)) {
    // Legacy: a single exception object.
    dom::object obj;
    if (!GetObj(v, &obj)) return;
    element probe;
    if (obj.at_key("type").get(probe) != 0 && obj.at_key("value").get(probe) != 0 &&
        obj.at_key("stacktrace").get(probe) != 0) {
      return;
    }
    DecodeException(obj, &out->emplace_back());
    return;
  }
  const size_t n = arr.size();
  const size_t skip = n > kMaxSentryExceptions ? n - kMaxSentryExceptions : 0;
  size_t i = 0;
  for (element e : arr) {
    if (i++ < skip) continue;
    dom::object obj;
    if (!GetObj(e, &obj)) continue;
    DecodeException(obj, &out->emplace_back());
  }
}

void DecodeBreadcrumbs(element v, std::vector<model::Breadcrumb>* out) {
  dom::array arr;
  if (!ValuesArray(v, &arr)) return;
  const size_t n = arr.size();
  const size_t skip = n > kMaxSentryBreadcrumbs ? n - kMaxSentryBreadcrumbs : 0;
  size_t i = 0;
  for (element e : arr) {
    if (i++ < skip) continue;
    dom::object obj;
    if (!GetObj(e, &obj)) continue;
    model::Breadcrumb& b = out->emplace_back();
    for (dom::key_value_pair kv : obj) {
      const std::string_view k = kv.key;
      if (k == "timestamp") {
        b.ts_ns = TimestampNs(kv.value);
      } else if (k == "type") {
        SetStr(kv.value, &b.type);
      } else if (k == "category") {
        SetStr(kv.value, &b.category);
      } else if (k == "level") {
        SetStr(kv.value, &b.level);
      } else if (k == "message") {
        SetStr(kv.value, &b.message);
      } else if (k == "data") {
        dom::object data;
        if (GetObj(kv.value, &data)) AppendPairs(kv.value, /*json_values=*/true, &b.data);
      }
    }
  }
}

void DecodeUser(dom::object obj, model::ErrorEvent::User* u) {
  for (dom::key_value_pair kv : obj) {
    if (kv.key == "id") {
      ScalarText(kv.value, &u->id);
    } else if (kv.key == "email") {
      SetStr(kv.value, &u->email);
    } else if (kv.key == "username") {
      SetStr(kv.value, &u->username);
    } else if (kv.key == "ip_address") {
      SetStr(kv.value, &u->ip_address);
    }
  }
}

void DecodeRequest(dom::object obj, model::ErrorEvent::Request* r) {
  for (dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    if (k == "method") {
      SetStr(kv.value, &r->method);
    } else if (k == "url") {
      SetStr(kv.value, &r->url);
    } else if (k == "query_string") {
      std::string_view s;
      if (GetStr(kv.value, &s)) {
        if (!s.empty() && s.front() == '?') s.remove_prefix(1);
        r->query_string.assign(s);
        continue;
      }
      std::vector<std::pair<std::string, std::string>> pairs;
      AppendPairs(kv.value, /*json_values=*/false, &pairs);
      r->query_string.clear();
      for (const auto& [name, value] : pairs) {
        if (!r->query_string.empty()) r->query_string.push_back('&');
        r->query_string += name;
        r->query_string.push_back('=');
        r->query_string += value;
      }
    } else if (k == "headers") {
      AppendPairs(kv.value, /*json_values=*/false, &r->headers);
    }
  }
}

void DecodeContexts(dom::object obj, model::ErrorEvent* ev) {
  std::string json;
  bool too_big = false;
  for (dom::key_value_pair kv : obj) {
    if (kv.key == "trace") {
      dom::object trace;
      if (!GetObj(kv.value, &trace)) continue;
      std::string_view id;
      element v;
      if (trace.at_key("trace_id").get(v) == 0 && GetStr(v, &id) && id.size() == 32) {
        model::TraceId t;
        if (model::DecodeHex(id, t.bytes.data(), t.bytes.size())) ev->trace_id = t;
      }
      if (trace.at_key("span_id").get(v) == 0 && GetStr(v, &id) && id.size() == 16) {
        model::SpanId s;
        if (model::DecodeHex(id, s.bytes.data(), s.bytes.size())) ev->span_id = s;
      }
      continue;
    }
    if (too_big) continue;
    json.push_back(json.empty() ? '{' : ',');
    JsonQuote(kv.key, &json);  // the DOM key is unescaped
    json.push_back(':');
    json += simdjson::minify(kv.value);
    if (json.size() > kMaxSentryJsonBytes) too_big = true;
  }
  if (!json.empty()) json.push_back('}');
  if (!too_big) ev->contexts_json = std::move(json);
}

Status EventError(simdjson::error_code e) {
  return InvalidArgument(std::string("sentry event: ") + simdjson::error_message(e));
}

}  // namespace

bool NormalizeSentryEventId(std::string_view id, std::string* out) {
  if (id.size() == 36) {
    if (id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-') return false;
  } else if (id.size() != 32) {
    return false;
  }
  std::string hex;
  hex.reserve(32);
  for (size_t i = 0; i < id.size(); ++i) {
    if (id.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
    if (!IsHex(id[i])) return false;
    hex.push_back(Lower(id[i]));
  }
  *out = std::move(hex);
  return true;
}

Status DecodeSentryEvent(std::string_view json, int64_t now_ns, model::ErrorEvent* out) {
  // One parser per thread: its buffers are reused, and simdjson copies the input only when
  // reading past its end could cross a page (measured: 25% of the decode time otherwise).
  thread_local dom::parser parser;
  element doc;
  if (auto e = parser.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(doc)) {
    return EventError(e);
  }
  dom::object root;
  if (!GetObj(doc, &root)) return InvalidArgument("sentry event: not a JSON object");

  model::ErrorEvent ev;
  ev.received_ns = now_ns;
  Logentry logentry;
  std::string plain_message;
  for (dom::key_value_pair kv : root) {
    const std::string_view k = kv.key;
    const element v = kv.value;
    if (k == "event_id") {
      std::string_view s;
      if (GetStr(v, &s)) NormalizeSentryEventId(s, &ev.event_id);
    } else if (k == "timestamp") {
      ev.ts_ns = TimestampNs(v);
    } else if (k == "platform") {
      SetStr(v, &ev.platform);
    } else if (k == "level") {
      SetLevel(v, &ev.level);
    } else if (k == "logger") {
      SetStr(v, &ev.logger);
    } else if (k == "transaction") {
      SetStr(v, &ev.transaction);
    } else if (k == "server_name") {
      SetStr(v, &ev.server_name);
    } else if (k == "release") {
      ScalarText(v, &ev.release);
    } else if (k == "environment") {
      SetStr(v, &ev.environment);
    } else if (k == "dist") {
      ScalarText(v, &ev.dist);
    } else if (k == "message") {
      dom::object obj;
      if (GetObj(v, &obj)) {
        if (!logentry.present) DecodeLogentry(obj, &logentry);
      } else {
        SetStr(v, &plain_message);
      }
    } else if (k == "logentry" || k == "sentry.interfaces.Message") {
      dom::object obj;
      if (GetObj(v, &obj)) {
        logentry = Logentry();
        DecodeLogentry(obj, &logentry);
      }
    } else if (k == "exception" || k == "sentry.interfaces.Exception") {
      ev.exceptions.clear();
      DecodeExceptions(v, &ev.exceptions);
    } else if (k == "fingerprint") {
      dom::array arr;
      if (!GetArr(v, &arr)) continue;
      ev.fingerprint.clear();
      for (element f : arr) {
        if (ev.fingerprint.size() >= kMaxSentryFingerprint) break;
        std::string text;
        if (ScalarText(f, &text)) ev.fingerprint.push_back(std::move(text));
      }
    } else if (k == "tags") {
      ev.tags.clear();
      AppendPairs(v, /*json_values=*/false, &ev.tags);
    } else if (k == "user" || k == "sentry.interfaces.User") {
      dom::object obj;
      if (GetObj(v, &obj)) DecodeUser(obj, &ev.user);
    } else if (k == "request" || k == "sentry.interfaces.Http") {
      dom::object obj;
      if (GetObj(v, &obj)) DecodeRequest(obj, &ev.request);
    } else if (k == "breadcrumbs") {
      ev.breadcrumbs.clear();
      DecodeBreadcrumbs(v, &ev.breadcrumbs);
    } else if (k == "contexts") {
      dom::object obj;
      if (GetObj(v, &obj)) DecodeContexts(obj, &ev);
    } else if (k == "extra") {
      dom::object obj;
      if (!GetObj(v, &obj)) continue;
      std::string text = simdjson::minify(v);
      if (text.size() <= kMaxSentryJsonBytes) ev.extra_json = std::move(text);
    } else if (k == "sdk") {
      dom::object obj;
      if (!GetObj(v, &obj)) continue;
      for (dom::key_value_pair s : obj) {
        if (s.key == "name") SetStr(s.value, &ev.sdk_name);
        if (s.key == "version") SetStr(s.value, &ev.sdk_version);
      }
    }
  }
  if (logentry.present) {
    ev.message_template = logentry.message;
    if (logentry.has_formatted) {
      ev.message = std::move(logentry.formatted);
    } else if (!logentry.message.empty()) {
      ev.message = logentry.params.empty() ? logentry.message
                                           : FormatLogentry(logentry.message, logentry.params);
    } else {
      ev.message = std::move(plain_message);
    }
  } else {
    ev.message = std::move(plain_message);
  }
  if (ev.ts_ns == 0) ev.ts_ns = now_ns;
  *out = std::move(ev);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Envelopes.

namespace {

Status EnvelopeError(std::string_view what) {
  return InvalidArgument(std::string("sentry envelope: ") + std::string(what));
}

// The line starting at *pos (without its "\n"); *pos moves past the "\n" (or to the end).
std::string_view NextLine(std::string_view body, size_t* pos) {
  const size_t nl = body.find('\n', *pos);
  const size_t end = nl == std::string_view::npos ? body.size() : nl;
  std::string_view line = body.substr(*pos, end - *pos);
  *pos = nl == std::string_view::npos ? body.size() : nl + 1;
  return line;
}

}  // namespace

Status ParseSentryEnvelope(std::string_view body, SentryEnvelope* out) {
  *out = SentryEnvelope();
  if (body.empty()) return EnvelopeError("empty body");
  dom::parser parser;
  size_t pos = 0;

  const std::string_view header = NextLine(body, &pos);
  element doc;
  dom::object obj;
  if (auto e = parser.parse(simdjson::padded_string(header)).get(doc)) {
    return EnvelopeError(std::string("envelope header: ") + simdjson::error_message(e));
  }
  if (!GetObj(doc, &obj)) return EnvelopeError("envelope header: not a JSON object");
  for (dom::key_value_pair kv : obj) {
    if (kv.key == "event_id") {
      SetStr(kv.value, &out->event_id);
    } else if (kv.key == "dsn") {
      SetStr(kv.value, &out->dsn);
    } else if (kv.key == "sent_at") {
      SetStr(kv.value, &out->sent_at);
    } else if (kv.key == "trace") {
      dom::object t;
      if (GetObj(kv.value, &t)) out->trace_json = simdjson::minify(kv.value);
    } else if (kv.key == "sdk") {
      dom::object sdk;
      if (!GetObj(kv.value, &sdk)) continue;
      for (dom::key_value_pair s : sdk) {
        if (s.key == "name") SetStr(s.value, &out->sdk_name);
        if (s.key == "version") SetStr(s.value, &out->sdk_version);
      }
    }
  }

  while (pos < body.size()) {
    const size_t item_start = pos;
    const std::string_view item_header = NextLine(body, &pos);
    if (item_header.empty() || item_header == "\r") continue;  // blank line between items
    if (out->items.size() >= kMaxSentryEnvelopeItems) {
      return PayloadTooLarge("sentry envelope: more than " +
                             std::to_string(kMaxSentryEnvelopeItems) + " items");
    }
    const std::string where =
        "item " + std::to_string(out->items.size() + 1) + " at byte " + std::to_string(item_start);
    if (auto e = parser.parse(simdjson::padded_string(item_header)).get(doc)) {
      return EnvelopeError(where + ": header: " + simdjson::error_message(e));
    }
    if (!GetObj(doc, &obj)) return EnvelopeError(where + ": header is not a JSON object");
    SentryEnvelopeItem item;
    item.header = item_header;
    bool has_type = false;
    bool has_length = false;
    uint64_t length = 0;
    for (dom::key_value_pair kv : obj) {
      if (kv.key == "type") {
        std::string_view s;
        if (GetStr(kv.value, &s)) {
          item.type.assign(s);
          has_type = true;
        }
      } else if (kv.key == "length") {
        if (kv.value.is_null()) continue;
        if (kv.value.get_uint64().get(length) != 0) {
          return EnvelopeError(where + ": length is not a non-negative integer");
        }
        has_length = true;
      } else if (kv.key == "content_type") {
        SetStr(kv.value, &item.content_type);
      } else if (kv.key == "filename") {
        SetStr(kv.value, &item.filename);
      }
    }
    if (!has_type) return EnvelopeError(where + ": header has no string \"type\"");
    if (has_length) {
      if (length > body.size() - pos) {
        return EnvelopeError(where + ": payload of " + std::to_string(length) +
                             " bytes runs past the end of the body");
      }
      item.payload = body.substr(pos, length);
      pos += length;
      if (pos < body.size()) {
        if (body[pos] != '\n') {
          return EnvelopeError(where + ": payload not followed by a newline");
        }
        ++pos;
      }
    } else {
      item.payload = NextLine(body, &pos);
    }
    out->items.push_back(std::move(item));
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Auth.

namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && IsHex(s[i + 1]) && IsHex(s[i + 2])) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void SetAuthParam(std::string_view name, std::string value, SentryAuth* out) {
  if (name == "sentry_key") {
    out->key = std::move(value);
  } else if (name == "sentry_version") {
    out->version = std::move(value);
  } else if (name == "sentry_client") {
    out->client = std::move(value);
  } else if (name == "sentry_secret") {
    out->secret = std::move(value);
  }
}

}  // namespace

bool ParseSentryAuth(std::string_view s, SentryAuth* out) {
  *out = SentryAuth();
  s = Trim(s);
  constexpr std::string_view kPrefix = "sentry ";
  if (s.size() >= kPrefix.size() && EqualsIgnoreCase(s.substr(0, kPrefix.size()), kPrefix)) {
    s.remove_prefix(kPrefix.size());
    while (!s.empty()) {
      const size_t comma = s.find(',');
      std::string_view param = Trim(s.substr(0, comma));
      s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view value = Trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      SetAuthParam(Trim(param.substr(0, eq)), std::string(value), out);
    }
  } else {
    if (!s.empty() && s.front() == '?') s.remove_prefix(1);
    while (!s.empty()) {
      const size_t amp = s.find('&');
      const std::string_view param = s.substr(0, amp);
      s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      SetAuthParam(PercentDecode(param.substr(0, eq)), PercentDecode(param.substr(eq + 1)), out);
    }
  }
  return !out->key.empty();
}

bool ParseSentryDsn(std::string_view dsn, SentryDsn* out) {
  const size_t sep = dsn.find("://");
  if (sep == std::string_view::npos) return false;
  SentryDsn d;
  d.scheme.assign(dsn.substr(0, sep));
  for (char& c : d.scheme) c = Lower(c);
  if (d.scheme != "http" && d.scheme != "https") return false;
  std::string_view rest = dsn.substr(sep + 3);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string_view userinfo = authority.substr(0, at);
  const size_t colon = userinfo.find(':');
  d.public_key.assign(userinfo.substr(0, colon));
  if (colon != std::string_view::npos) d.secret_key.assign(userinfo.substr(colon + 1));
  d.host.assign(authority.substr(at + 1));
  if (d.public_key.empty() || d.host.empty()) return false;
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const size_t last = path.rfind('/');
  if (last == std::string_view::npos) return false;
  const std::string_view project = path.substr(last + 1);
  if (project.empty() ||
      !std::all_of(project.begin(), project.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  d.project_id.assign(project);
  d.path.assign(path.substr(0, last));
  *out = std::move(d);
  return true;
}

}  // namespace sightline::ingest
