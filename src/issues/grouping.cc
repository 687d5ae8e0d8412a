#include "issues/grouping.h"

#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "issues/normalize.h"

namespace sightline::issues {
namespace {

using model::ErrorEvent;
using model::ExceptionInfo;
using model::StackFrame;

constexpr size_t kTitleValueMax = 100;
constexpr size_t kCulpritMax = 200;
constexpr size_t kContextLineMax = 120;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool Contains(std::string_view s, std::string_view p) { return s.find(p) != s.npos; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence, appending "...".
std::string Truncate(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string_view FirstLine(std::string_view s) {
  s = Trim(s);
  return s.substr(0, std::min(s.find_first_of("\r\n"), s.size()));
}

// Replaces every run of digits right after `marker` by "<auto>".
std::string ReplaceDigitsAfter(std::string s, std::string_view marker) {
  size_t pos = 0;
  while ((pos = s.find(marker, pos)) != std::string::npos) {
    pos += marker.size();
    size_t end = pos;
    while (end < s.size() && IsDigit(s[end])) ++end;
    if (end > pos) s.replace(pos, end - pos, "<auto>");
  }
  return s;
}

bool IsJs(std::string_view platform) { return platform == "javascript" || platform == "node"; }
bool IsNative(std::string_view platform) {
  return platform == "native" || platform == "c" || platform == "cpp" || platform == "cocoa" ||
         platform == "objc" || platform == "rust" || platform == "swift";
}
bool UsesContextLine(std::string_view platform) {
  return platform == "javascript" || platform == "node" || platform == "python" ||
         platform == "php" || platform == "ruby";
}

std::string Slashes(std::string_view path) {
  std::string out(path);
  std::replace(out.begin(), out.end(), '\\', '/');
  return out;
}

bool IsLibraryPath(std::string_view raw) {
  if (raw.empty()) return false;
  const std::string path = Slashes(raw);
  static constexpr std::string_view kDirs[] = {"site-packages/", "dist-packages/", "node_modules/",
                                               "vendor/", "go/pkg/mod/"};
  for (std::string_view dir : kDirs) {
    if (StartsWith(path, dir)) return true;
    const size_t at = path.find(dir);
    if (at != std::string::npos && at > 0 && path[at - 1] == '/') return true;
  }
  // The Python standard library: ".../lib/python3.11/json/__init__.py" (python sentry-sdk 1.9
  // marks every frame in-app, stdlib included, unless told otherwise).
  for (size_t at = path.find("lib/python"); at != std::string::npos;
       at = path.find("lib/python", at + 1)) {
    if (at > 0 && path[at - 1] != '/') continue;
    size_t i = at + 10;
    while (i < path.size() && (std::isdigit(static_cast<unsigned char>(path[i])) || path[i] == '.'))
      ++i;
    if (i > at + 10 && i < path.size() && path[i] == '/') return true;
  }
  // Node < 16 reports its internals as relative "internal/....js" paths.
  return StartsWith(path, "node:") || (StartsWith(path, "internal/") && EndsWith(path, ".js")) ||
         StartsWith(path, "<frozen ");
}

// Frames Sentry's built-in enhancements mark "-group": they never contribute, in any variant.
bool IsExcludedFromGrouping(const StackFrame& f) {
  static constexpr std::string_view kModules[] = {"@babel/", "core-js/", "regenerator-runtime/",
                                                  "tslib/"};
  for (std::string_view m : kModules) {
    if (StartsWith(f.module, m)) return true;
  }
  static constexpr std::string_view kFunctions[] = {
      "runMicrotasks", "queueMicrotask", "processTicksAndRejections", "runNextTicks", "nextTick"};
  for (std::string_view fn : kFunctions) {
    if (f.function == fn) return true;
  }
  return false;
}

bool SameFrame(const StackFrame& a, const StackFrame& b) {
  return a.abs_path == b.abs_path && a.package == b.package && a.module == b.module &&
         a.filename == b.filename && a.function == b.function && a.lineno == b.lineno &&
         a.colno == b.colno;
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : Trim(s)) {
    if (IsSpace(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Lowercased basename without query string / fragment; "" when it does not contribute.
std::string NormalizeFilename(const StackFrame& f, std::string_view platform) {
  std::string name = Slashes(f.filename.empty() ? f.abs_path : f.filename);
  if (name.empty() || name == "<anonymous>" || name == "[native code]") return "";
  if (IsJs(platform)) {
    const size_t q = name.find_first_of("?#");
    if (q != std::string::npos) name.resize(q);
  }
  const size_t slash = name.rfind('/');
  if (slash != std::string::npos) name.erase(0, slash + 1);
  return Lower(name);
}

std::string NormalizeModule(const StackFrame& f, std::string_view platform) {
  std::string module = f.module;
  if (module.empty()) return "";
  if (IsJs(platform) && Contains(module, "/") && EndsWith(Slashes(f.abs_path), module)) return "";
  // Java/JVM generated classes.
  const size_t lambda = module.find("$$Lambda$");
  if (lambda != std::string::npos) module.resize(lambda + 9);
  module = ReplaceDigitsAfter(std::move(module), "GeneratedMethodAccessor");
  module = ReplaceDigitsAfter(std::move(module), "$$EnhancerByCGLIB$$");
  module = ReplaceDigitsAfter(std::move(module), "$fn__");
  return module;
}

// Native: drop the argument list and return type ("int foo::bar(int) const" -> "foo::bar").
std::string TrimNativeFunction(std::string_view fn) {
  // Cut at the last top-level '(' (the parameter list), ignoring template/paren nesting.
  int depth = 0;
  size_t params = std::string_view::npos;
  for (size_t i = fn.size(); i-- > 0;) {
    const char c = fn[i];
    if (c == ')' || c == '>') ++depth;
    if (c == '(' || c == '<') {
      if (depth > 0) --depth;
      if (depth == 0 && c == '(' && i > 0) {
        params = i;
        break;
      }
    }
  }
  if (params != std::string_view::npos) fn = fn.substr(0, params);
  // Drop a return type: the part before the last top-level space.
  depth = 0;
  for (size_t i = fn.size(); i-- > 0;) {
    const char c = fn[i];
    if (c == '>' || c == ')') ++depth;
    if ((c == '<' || c == '(') && depth > 0) --depth;
    if (c == ' ' && depth == 0) {
      fn = fn.substr(i + 1);
      break;
    }
  }
  return std::string(Trim(fn));
}

std::string ContextLine(const StackFrame& f, std::string_view platform) {
  if (!UsesContextLine(platform) || f.context_line.empty()) return "";
  if (f.context_line.size() > kContextLineMax) return "";
  return CollapseWhitespace(f.context_line);
}

// Accumulates grouping components: a readable list plus an unambiguous hash input.
struct Acc {
  std::vector<std::string> display;
  std::string hash_input;

  void AddField(std::string_view kind, std::string_view value) {
    hash_input += kind;
    hash_input += '\0';
    hash_input += std::to_string(value.size());
    hash_input += ':';
    hash_input += value;
  }
  void Add(std::string_view kind, std::string_view value) {
    display.push_back(std::string(kind) + "=" + std::string(value));
    AddField(kind, value);
  }
  void Append(const Acc& other) {
    display.insert(display.end(), other.display.begin(), other.display.end());
    hash_input += other.hash_input;
  }
  bool empty() const { return hash_input.empty(); }
};

std::string Hex32(const std::string& input) {
  const XXH128_hash_t h = XXH3_128bits(input.data(), input.size());
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, h);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[canon.digest[i] >> 4];
    out[2 * i + 1] = kHex[canon.digest[i] & 15];
  }
  return out;
}

// Appends one frame (as a single component) when any of its fields contributes.
bool AddFrame(const StackFrame& f, std::string_view event_platform, Acc& acc) {
  const std::string_view platform = f.platform.empty() ? event_platform : f.platform;
  std::vector<std::pair<std::string_view, std::string>> fields;
  if (std::string module = NormalizeModule(f, platform); !module.empty()) {
    fields.emplace_back("module", std::move(module));
  } else if (std::string file = NormalizeFilename(f, platform); !file.empty()) {
    fields.emplace_back("filename", std::move(file));
  }
  if (std::string fn = NormalizeFunction(f.function, std::string(platform)); !fn.empty()) {
    fields.emplace_back("function", std::move(fn));
  }
  if (std::string line = ContextLine(f, platform); !line.empty()) {
    fields.emplace_back("context-line", std::move(line));
  }
  if (fields.empty()) return false;
  std::string shown = "frame:";
  acc.hash_input += "frame";
  acc.hash_input += '\0';
  acc.hash_input += std::to_string(fields.size());
  for (const auto& [kind, value] : fields) {
    shown += ' ';
    shown += kind;
    shown += '=';
    shown += value;
    acc.AddField(kind, value);
  }
  acc.display.push_back(std::move(shown));
  return true;
}

bool IsJsJunkFrame(const StackFrame& f, std::string_view event_platform) {
  const std::string_view platform = f.platform.empty() ? event_platform : f.platform;
  if (!IsJs(platform)) return false;
  const std::string_view path = f.abs_path.empty() ? f.filename : f.abs_path;
  return f.function == "eval" || path == "[native code]" || path == "eval code" ||
         path == "<anonymous>";
}

struct DefaultGrouping {
  std::string variant;
  Acc primary;
  std::vector<Acc> all;  // primary first
};

DefaultGrouping ComputeDefault(const ErrorEvent& e) {
  DefaultGrouping out;
  Acc app, sys;
  bool app_frames = false, sys_frames = false;
  for (const ExceptionInfo& ex : e.exceptions) {
    bool ex_app = false, ex_sys = false;
    const StackFrame* prev = nullptr;
    for (const StackFrame& f : ex.frames) {
      const bool duplicate = prev != nullptr && SameFrame(*prev, f);
      prev = &f;
      if (duplicate || IsExcludedFromGrouping(f) || IsJsJunkFrame(f, e.platform)) continue;
      if (IsInApp(f)) ex_app |= AddFrame(f, e.platform, app);
      ex_sys |= AddFrame(f, e.platform, sys);
    }
    app_frames |= ex_app;
    sys_frames |= ex_sys;
    // The type always contributes; the value only when the stack trace does not.
    const std::string value = ex.value.empty() ? "" : NormalizeMessage(ex.value);
    for (auto [acc, had_frames] : {std::pair{&app, ex_app}, std::pair{&sys, ex_sys}}) {
      if (!ex.type.empty()) acc->Add("type", ex.type);
      if (!had_frames && !value.empty()) acc->Add("value", value);
    }
  }
  if (app_frames) {
    out.variant = "app-stacktrace";
    out.primary = app;
    out.all = {app, sys};
  } else if (sys_frames) {
    out.variant = "system-stacktrace";
    out.primary = sys;
    out.all = {sys};
  } else if (!sys.empty()) {
    out.variant = "exception-type-value";
    out.primary = sys;
    out.all = {sys};
  } else {
    const std::string& msg = e.message_template.empty() ? e.message : e.message_template;
    Acc message;
    if (const std::string normalized = NormalizeMessage(msg); !normalized.empty()) {
      message.Add("message", normalized);
      out.variant = "message";
    } else {
      out.variant = "fallback";
    }
    out.primary = message;
    out.all = {message};
  }
  return out;
}

// The frame Sentry calls the "crashing frame": in the last exception that has frames, the
// innermost in-app frame, else its innermost frame.
const StackFrame* CrashingFrame(const ErrorEvent& e) {
  for (auto ex = e.exceptions.rbegin(); ex != e.exceptions.rend(); ++ex) {
    if (ex->frames.empty()) continue;
    for (auto f = ex->frames.rbegin(); f != ex->frames.rend(); ++f) {
      if (IsInApp(*f)) return &*f;
    }
    return &ex->frames.back();
  }
  return nullptr;
}

// `{{ name }}` -> "name" (lowercased); "" when `entry` is not a variable.
std::string FingerprintVariable(std::string_view entry) {
  if (!StartsWith(entry, "{{") || !EndsWith(entry, "}}") || entry.size() < 4) return "";
  const std::string_view inner = Trim(entry.substr(2, entry.size() - 4));
  if (inner.empty() || std::any_of(inner.begin(), inner.end(), IsSpace)) return "";
  return Lower(inner);
}

// The value of a fingerprint variable other than "default"; `entry` itself when unknown.
std::string ResolveVariable(const ErrorEvent& e, const std::string& var, std::string_view entry) {
  const ExceptionInfo* ex = e.exceptions.empty() ? nullptr : &e.exceptions.back();
  const StackFrame* frame = CrashingFrame(e);
  auto or_missing = [](const std::string& v, const char* missing) {
    return v.empty() ? std::string(missing) : v;
  };
  static const std::string kEmpty;
  if (var == "transaction") return or_missing(e.transaction, "<no-transaction>");
  if (var == "type" || var == "error.type") return or_missing(ex ? ex->type : kEmpty, "<no-type>");
  if (var == "value" || var == "error.value") {
    return or_missing(ex ? ex->value : kEmpty, "<no-value>");
  }
  if (var == "function" || var == "stack.function") {
    return or_missing(frame ? frame->function : kEmpty, "<no-function>");
  }
  if (var == "path" || var == "stack.abs_path") {
    const std::string& p =
        frame ? (frame->abs_path.empty() ? frame->filename : frame->abs_path) : kEmpty;
    return or_missing(p, "<no-path>");
  }
  if (var == "stack.filename") return or_missing(frame ? frame->filename : kEmpty, "<no-filename>");
  if (var == "module" || var == "stack.module") {
    return or_missing(frame ? frame->module : kEmpty, "<no-module>");
  }
  if (var == "package" || var == "stack.package") {
    return or_missing(frame ? frame->package : kEmpty, "<no-package>");
  }
  if (var == "logger") return or_missing(e.logger, "<no-logger>");
  if (var == "level") return or_missing(e.level, "<no-level>");
  if (var == "message") {
    return or_missing(e.message.empty() ? e.message_template : e.message, "<no-message>");
  }
  if (StartsWith(var, "tags.") && var.size() > 5) {
    // Tag keys keep their original case: re-extract from the entry.
    const std::string_view inner = Trim(entry.substr(2, entry.size() - 4));
    const std::string_view tag = inner.substr(5);
    for (const auto& [k, v] : e.tags) {
      if (k == tag) return v;
    }
    return "<no-value-for-tag-" + std::string(tag) + ">";
  }
  return std::string(entry);
}

std::string Title(const ErrorEvent& e) {
  if (!e.exceptions.empty()) {
    const ExceptionInfo& ex = e.exceptions.back();
    const std::string value = Truncate(FirstLine(ex.value), kTitleValueMax);
    if (!ex.type.empty()) return value.empty() ? ex.type : ex.type + ": " + value;
    if (!value.empty()) return value;
  }
  const std::string& msg = e.message.empty() ? e.message_template : e.message;
  if (std::string_view line = FirstLine(msg); !line.empty()) return Truncate(line, kTitleValueMax);
  if (!e.exceptions.empty()) return "<unknown>";
  return "<unlabeled event>";
}

std::string Culprit(const ErrorEvent& e) {
  if (!e.transaction.empty()) return Truncate(e.transaction, kCulpritMax);
  const StackFrame* f = CrashingFrame(e);
  if (f == nullptr) return "";
  const std::string& where = f->module.empty() ? f->filename : f->module;
  return Truncate(Truncate(where, 100) + " in " + (f->function.empty() ? "?" : f->function),
                  kCulpritMax);
}

}  // namespace

bool IsInApp(const StackFrame& f) {
  if (IsLibraryPath(f.abs_path) || IsLibraryPath(f.filename)) return false;
  if (StartsWith(f.module, "node:") || StartsWith(f.module, "<frozen ")) return false;
  if (IsExcludedFromGrouping(f)) return false;
  return f.in_app.value_or(true);
}

std::string NormalizeFunction(const std::string& function, const std::string& platform) {
  std::string_view fn = Trim(function);
  if (fn.empty()) return "";
  if (fn == "<redacted>" || fn == "<unknown>") return "";
  if (IsJs(platform)) {
    if (StartsWith(fn, "async ")) fn.remove_prefix(6);
    if (StartsWith(fn, "new ")) fn.remove_prefix(4);
    if (const size_t as = fn.find(" [as "); as != fn.npos) fn = fn.substr(0, as);
    if (EndsWith(fn, "/<")) return "";
    fn = Trim(fn);
    if (fn == "?" || fn == "<anonymous function>" || fn == "<anonymous>" ||
        fn == "Anonymous function") {
      return "";
    }
    if (const size_t dot = fn.rfind('.'); dot != fn.npos) fn = fn.substr(dot + 1);
    if (fn.empty() || fn == "<anonymous>") return "";
    return std::string(fn);
  }
  if (platform == "ruby") {
    if (StartsWith(fn, "block ") || fn == "block") return "block";
    // ERB templates: "_app_views_x_html_erb__1234_5678" -> "_app_views_x_html_erb".
    const size_t erb = fn.find("_erb__");
    if (erb != fn.npos) return std::string(fn.substr(0, erb + 4));
    return std::string(fn);
  }
  if (platform == "php") {
    if (Contains(fn, "{closure}")) return "";
    return std::string(fn);
  }
  if (platform == "java") {
    if (StartsWith(fn, "lambda$")) return "";
    return ReplaceDigitsAfter(std::string(fn), "GeneratedMethodAccessor");
  }
  if (IsNative(platform)) return TrimNativeFunction(fn);
  return std::string(fn);
}

GroupingResult GroupEvent(const ErrorEvent& e) {
  GroupingResult r;
  r.title = Title(e);
  r.culprit = Culprit(e);
  const bool only_default =
      e.fingerprint.size() == 1 && FingerprintVariable(e.fingerprint[0]) == "default";
  DefaultGrouping def = ComputeDefault(e);
  if (!e.fingerprint.empty() && !only_default) {
    Acc custom;
    for (const std::string& entry : e.fingerprint) {
      const std::string var = FingerprintVariable(entry);
      if (var == "default") {
        custom.Append(def.primary);
      } else if (!var.empty()) {
        custom.Add("fingerprint", ResolveVariable(e, var, entry));
      } else {
        custom.Add("fingerprint", entry);
      }
    }
    r.variant = "custom-fingerprint";
    r.hash = Hex32(custom.hash_input);
    r.hashes = {r.hash};
    r.components = std::move(custom.display);
    return r;
  }
  r.variant = def.variant;
  r.hash = Hex32(def.primary.hash_input);
  for (const Acc& acc : def.all) {
    std::string h = Hex32(acc.hash_input);
    if (std::find(r.hashes.begin(), r.hashes.end(), h) == r.hashes.end()) {
      r.hashes.push_back(std::move(h));
    }
  }
  r.components = std::move(def.primary.display);
  return r;
}

}  // namespace sightline::issues
