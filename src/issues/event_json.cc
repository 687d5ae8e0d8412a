#include "issues/event_json.h"

#include <ctime>

#include "base/json.h"

namespace sightline::issues {
namespace {

// RFC 3339 UTC with nanoseconds: what DecodeSentryEvent's timestamp parser reads back exactly.
void AppendTime(int64_t ns, std::string* out) {
  int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  const int n = snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ\"",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, static_cast<long long>(frac));
  out->append(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

// Writes `"key":` preceded by a comma unless it opens the object.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Key(std::string_view k) {
    if (!first_) out_->push_back(',');
    first_ = false;
    JsonQuote(k, out_);
    out_->push_back(':');
  }
  void Str(std::string_view k, std::string_view v) {
    if (v.empty()) return;
    Key(k);
    JsonQuote(v, out_);
  }
  void Int(std::string_view k, int64_t v) {
    if (v == 0) return;
    Key(k);
    *out_ += std::to_string(v);
  }
  void Bool(std::string_view k, bool v) {
    Key(k);
    *out_ += v ? "true" : "false";
  }
  void Raw(std::string_view k, std::string_view json) {
    if (json.empty()) return;
    Key(k);
    *out_ += json;
  }
  void Pairs(std::string_view k, const std::vector<std::pair<std::string, std::string>>& kv) {
    if (kv.empty()) return;
    Key(k);
    ObjectWriter o(out_);
    for (const auto& [key, value] : kv) {
      o.Key(key);
      JsonQuote(value, out_);
    }
    o.End();
  }
  void Strings(std::string_view k, const std::vector<std::string>& v) {
    List(k, v, [this](const std::string& s) { JsonQuote(s, out_); });
  }
  // "k":[each(v[0]),each(v[1]),...]; nothing for an empty v.
  template <typename T, typename Each>
  void List(std::string_view k, const std::vector<T>& v, Each&& each) {
    if (v.empty()) return;
    Key(k);
    out_->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out_->push_back(',');
      each(v[i]);
    }
    out_->push_back(']');
  }
  void End() { out_->push_back('}'); }
  std::string* out() { return out_; }

 private:
  std::string* out_;
  bool first_ = true;
};

void EncodeFrame(const model::StackFrame& f, std::string* out) {
  ObjectWriter o(out);
  o.Str("function", f.function);
  o.Str("module", f.module);
  o.Str("filename", f.filename);
  o.Str("abs_path", f.abs_path);
  o.Str("package", f.package);
  o.Str("platform", f.platform);
  o.Int("lineno", f.lineno);
  o.Int("colno", f.colno);
  if (f.in_app.has_value()) o.Bool("in_app", *f.in_app);
  o.Str("context_line", f.context_line);
  o.Strings("pre_context", f.pre_context);
  o.Strings("post_context", f.post_context);
  o.Pairs("vars", f.vars);
  o.End();
}

void EncodeException(const model::ExceptionInfo& x, std::string* out) {
  ObjectWriter o(out);
  o.Str("type", x.type);
  o.Str("value", x.value);
  o.Str("module", x.module);
  if (!x.mechanism.empty() || x.handled.has_value()) {
    o.Key("mechanism");
    ObjectWriter m(out);
    m.Str("type", x.mechanism);
    if (x.handled.has_value()) m.Bool("handled", *x.handled);
    m.End();
  }
  if (!x.frames.empty()) {
    o.Key("stacktrace");
    ObjectWriter st(out);
    st.List("frames", x.frames, [out](const model::StackFrame& f) { EncodeFrame(f, out); });
    st.End();
  }
  o.End();
}

}  // namespace

void EncodeEventPayload(const model::ErrorEvent& e, std::string* out) {
  ObjectWriter o(out);
  o.Str("event_id", e.event_id);
  if (e.ts_ns != 0) {
    o.Key("timestamp");
    AppendTime(e.ts_ns, out);
  }
  o.Str("platform", e.platform);
  o.Str("level", e.level);
  o.Str("logger", e.logger);
  o.Str("transaction", e.transaction);
  o.Str("server_name", e.server_name);
  o.Str("release", e.release);
  o.Str("environment", e.environment);
  o.Str("dist", e.dist);
  if (!e.message_template.empty()) {
    o.Key("logentry");
    ObjectWriter m(out);
    m.Str("message", e.message_template);
    m.Key("formatted");
    JsonQuote(e.message, out);
    m.End();
  } else {
    o.Str("message", e.message);
  }
  if (!e.exceptions.empty()) {
    o.Key("exception");
    ObjectWriter ex(out);
    ex.List("values", e.exceptions,
            [out](const model::ExceptionInfo& x) { EncodeException(x, out); });
    ex.End();
  }
  o.Strings("fingerprint", e.fingerprint);
  o.Pairs("tags", e.tags);
  if (!e.user.id.empty() || !e.user.email.empty() || !e.user.username.empty() ||
      !e.user.ip_address.empty()) {
    o.Key("user");
    ObjectWriter u(out);
    u.Str("id", e.user.id);
    u.Str("email", e.user.email);
    u.Str("username", e.user.username);
    u.Str("ip_address", e.user.ip_address);
    u.End();
  }
  const auto& rq = e.request;
  if (!rq.method.empty() || !rq.url.empty() || !rq.query_string.empty() || !rq.headers.empty()) {
    o.Key("request");
    ObjectWriter r(out);
    r.Str("method", rq.method);
    r.Str("url", rq.url);
    r.Str("query_string", rq.query_string);
    r.Pairs("headers", rq.headers);
    r.End();
  }
  if (!e.breadcrumbs.empty()) {
    o.Key("breadcrumbs");
    ObjectWriter bw(out);
    bw.List("values", e.breadcrumbs, [out](const model::Breadcrumb& b) {
      ObjectWriter c(out);
      if (b.ts_ns != 0) {
        c.Key("timestamp");
        AppendTime(b.ts_ns, out);
      }
      c.Str("type", b.type);
      c.Str("category", b.category);
      c.Str("level", b.level);
      c.Str("message", b.message);
      c.Pairs("data", b.data);
      c.End();
    });
    bw.End();
  }
  const bool has_trace = !e.trace_id.empty() || !e.span_id.empty();
  const bool has_other = e.contexts_json.size() > 2 && e.contexts_json.front() == '{';
  if (has_trace || has_other) {
    o.Key("contexts");
    out->push_back('{');
    if (has_trace) {
      *out += "\"trace\":";
      ObjectWriter t(out);
      if (!e.trace_id.empty()) t.Str("trace_id", e.trace_id.Hex());
      if (!e.span_id.empty()) t.Str("span_id", e.span_id.Hex());
      t.End();
    }
    if (has_other) {
      if (has_trace) out->push_back(',');
      out->append(e.contexts_json, 1, std::string::npos);  // members and the closing brace
    } else {
      out->push_back('}');
    }
  }
  if (e.extra_json.size() > 2) o.Raw("extra", e.extra_json);
  if (!e.sdk_name.empty() || !e.sdk_version.empty()) {
    o.Key("sdk");
    ObjectWriter s(out);
    s.Str("name", e.sdk_name);
    s.Str("version", e.sdk_version);
    s.End();
  }
  o.End();
}

}  // namespace sightline::issues
