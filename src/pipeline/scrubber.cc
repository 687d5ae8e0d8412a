#include "pipeline/scrubber.h"

#include <arpa/inet.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sightline::pipeline {
namespace {

// Built-in value rules plus the two special kinds. Validation differs per kind.
enum class Kind {
  kCustom,
  kGeneric,  // built-in without a validator
  kBearer,
  kKeyValue,
  kCard,
  kRrn,
  kPhone,
  kIpv4,
  kIpv6,
};

struct BuiltinRule {
  const char* name;
  Kind kind;
  const char* pattern;  // group 1, if present, is the replaced part
  size_t min_len;       // no match is shorter
};

// In priority order: on overlapping matches the earlier rule wins.
constexpr BuiltinRule kSecretRules[] = {
    {"pem_private_key", Kind::kGeneric,
     "-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z ]{0,40}PRIVATE KEY-----|\\z)",
     27},
    {"url_credentials", Kind::kGeneric,
     "\\b[A-Za-z][A-Za-z0-9+.\\-]{0,30}://[^\\s:@/?#\\\\\"'<>]*:([^\\s@/?#\\\\\"'<>]+)@", 7},
    {"bearer_token", Kind::kBearer, "(?i:\\bbearer)[ \\t]+([A-Za-z0-9._~+/=\\-]{8,})", 15},
    {"jwt", Kind::kGeneric, "\\beyJ[A-Za-z0-9_\\-]{5,}\\.eyJ[A-Za-z0-9_\\-]{5,}\\.[A-Za-z0-9_\\-]*",
     18},
    {"aws_access_key", Kind::kGeneric, "\\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\\b", 20},
    {"gcp_api_key", Kind::kGeneric, "\\bAIza[0-9A-Za-z_\\-]{35}", 39},
    {"github_token", Kind::kGeneric,
     "\\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})", 32},
    {"slack_token", Kind::kGeneric, "\\bxox[abposr]-[A-Za-z0-9\\-]{10,250}", 15},
    {"stripe_secret_key", Kind::kGeneric, "\\b[rs]k_live_[A-Za-z0-9]{16,247}", 24},
};
// After the key/value rule (so "token=ghp_..." is one replacement either way).
constexpr BuiltinRule kEmailRule = {
    "email", Kind::kGeneric,
    "[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,24}\\b", 6};
constexpr BuiltinRule kPiiRules[] = {
    {"credit_card", Kind::kCard, "\\b[2-6]\\d{3}(?:[ \\-]?\\d){9,15}\\b", 13},
    {"kr_rrn", Kind::kRrn, "\\b\\d{6}-\\d{7}\\b", 14},
    {"phone", Kind::kPhone,
     // International: +CC then digits with single separators (validated: 8-15 digits).
     "\\+[1-9][0-9 .\\-()]{6,22}[0-9]"
     // National: (0AA) NNN-NNNN, 0AA-NNNN-NNNN, 0AA NNNN NNNN, NXX-NXX-XXXX (separators
     // required, so plain long integers never match).
     "|\\(0?\\d{2,4}\\)[ \\-]?\\d{3,4}[ \\-.]\\d{4}\\b"
     "|\\b0\\d{1,3}[ \\-.]\\d{3,4}[ \\-.]\\d{4}\\b"
     "|\\b[2-9]\\d{2}[\\-.][2-9]\\d{2}[\\-.]\\d{4}\\b",
     10},
};
#define SL_OCTET "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
// IPv6 first: "::ffff:10.0.0.1" is one address.
constexpr BuiltinRule kIpRules[] = {
    {"ipv6", Kind::kIpv6, "[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\\.\\d{1,3}){0,3}", 3},
    {"ipv4", Kind::kIpv4, "\\b(?:" SL_OCTET "\\.){3}" SL_OCTET "\\b", 7},
};
#undef SL_OCTET

// Default sensitive key names (tokenized like keys).
constexpr const char* kDefaultKeys[] = {
    "password", "passwd",      "pwd",        "passphrase",    "secret",     "token",  "api_key",
    "apikey",   "access_key",  "accesskey",  "authorization", "auth",       "cookie", "set_cookie",
    "session",  "credentials", "credential", "private_key",   "privatekey", "bearer",
};

// A token after a sensitive name that makes the key describe the secret, not hold it.
constexpr std::string_view kNeutralNext[] = {
    "count",   "counts",   "total",   "limit",    "limits",   "type",       "kind",     "length",
    "len",     "size",     "ttl",     "expiry",   "expires",  "expiration", "usage",    "used",
    "enabled", "required", "url",     "uri",      "endpoint", "method",     "provider", "scheme",
    "policy",  "mode",     "version", "disabled", "timeout",
};

constexpr std::string_view kMask = "[Filtered]";

bool IsAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsHex(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
unsigned char Lower(unsigned char c) { return IsUpper(c) ? c + ('a' - 'A') : c; }

// Splits `key` into tokens: runs of alphanumerics, split further at camelCase boundaries
// ("dbPassword" -> db|Password, "APIKey" -> API|Key, "oauth2Token" -> oauth2|Token).
void Tokenize(std::string_view key, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  const size_t n = key.size();
  while (i < n) {
    while (i < n && !IsAlnum(key[i])) ++i;
    if (i >= n) break;
    size_t start = i++;
    while (i < n && IsAlnum(key[i])) {
      const unsigned char prev = key[i - 1], c = key[i];
      const bool split =
          IsUpper(c) &&
          (IsLower(prev) || IsDigit(prev) ||
           (IsUpper(prev) && i + 1 < n && IsLower(static_cast<unsigned char>(key[i + 1]))));
      if (split) {
        out->push_back(key.substr(start, i - start));
        start = i;
      }
      ++i;
    }
    out->push_back(key.substr(start, i - start));
  }
}

bool EqualsLower(std::string_view token, std::string_view lower) {
  if (token.size() != lower.size()) return false;
  for (size_t i = 0; i < token.size(); ++i) {
    if (Lower(token[i]) != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}
bool EndsWithLower(std::string_view token, std::string_view lower) {
  return token.size() > lower.size() &&
         EqualsLower(token.substr(token.size() - lower.size()), lower);
}

struct KeySpec {
  std::vector<std::string> tokens;  // lowercase
  ScrubAction action;
};

struct ValueRule {
  std::string name;
  Kind kind;
  ScrubAction action;
  std::unique_ptr<RE2> re;
  int groups;  // capture groups to fetch (0..5)
};

struct Hit {
  size_t end;
  ScrubAction action;
  bool quote;  // wrap the replacement in '"' (an unquoted JSON value after a quoted key)
};

RE2::Options ReOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);  // byte-oriented: any input is fine
  options.set_log_errors(false);
  options.set_max_mem(16 << 20);
  return options;
}

// Luhn checksum over the digits of `s` (other characters skipped).
bool Luhn(std::string_view digits) {
  int sum = 0;
  bool dbl = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

// Issuer prefixes in use for 13-19 digit cards (Visa, Mastercard, Amex, Discover, JCB, Diners,
// UnionPay, Maestro). Rejecting other prefixes keeps ms/ns timestamps and most ids out.
bool CardPrefixOk(std::string_view d) {
  const int p2 = (d[0] - '0') * 10 + (d[1] - '0');
  const int p4 = p2 * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  switch (d[0]) {
    case '2':
      return p4 >= 2221 && p4 <= 2720 && d.size() == 16;
    case '3':
      if (p2 == 34 || p2 == 37) return d.size() == 15;
      return p2 == 35 || p2 == 36 || p2 == 38 || p2 == 39 || (p4 >= 3000 && p4 <= 3059);
    case '4':
      return d.size() == 13 || d.size() == 16 || d.size() == 19;
    case '5':
      return p2 <= 58;
    case '6':
      return true;
    default:
      return false;
  }
}

bool ValidCard(std::string_view text, size_t b, size_t e) {
  // Not part of a decimal number or a longer dotted/dashed identifier.
  if (b > 0 && (text[b - 1] == '.' || text[b - 1] == '-' || text[b - 1] == '+')) return false;
  if (e < text.size() && (text[e] == '-' || text[e] == '_' ||
                          (text[e] == '.' && e + 1 < text.size() && IsDigit(text[e + 1])))) {
    return false;
  }
  std::string digits;
  char sep = 0;
  for (size_t i = b; i < e; ++i) {
    if (IsDigit(text[i])) {
      digits += text[i];
    } else {
      if (sep != 0 && sep != text[i]) return false;  // mixed separators
      sep = text[i];
    }
  }
  if (digits.size() < 13 || digits.size() > 19) return false;
  return CardPrefixOk(digits) && Luhn(digits);
}

// YYMMDD-GNNNNNN with a real calendar date; G picks the century (1,2,5,6: 1900s; 3,4,7,8:
// 2000s; 9,0: 1800s).
bool ValidRrn(std::string_view m) {
  const int yy = (m[0] - '0') * 10 + (m[1] - '0');
  const int mm = (m[2] - '0') * 10 + (m[3] - '0');
  const int dd = (m[4] - '0') * 10 + (m[5] - '0');
  const char g = m[7];
  int year = 1900 + yy;
  if (g == '3' || g == '4' || g == '7' || g == '8') year = 2000 + yy;
  if (g == '9' || g == '0') year = 1800 + yy;
  if (mm < 1 || mm > 12 || dd < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int days = kDays[mm - 1];
  if (mm == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) days = 29;
  return dd <= days;
}

bool ValidPhone(std::string_view text, size_t b, size_t e) {
  if (b > 0) {
    const unsigned char p = text[b - 1];
    if (IsAlnum(p) || p == '+' || p == '-' || p == '.' || p == '_' || p == '/') return false;
  }
  if (e < text.size()) {
    const unsigned char n = text[e];
    if (IsAlnum(n) || n == '-' || n == '_' ||
        (n == '.' && e + 1 < text.size() && IsDigit(text[e + 1]))) {
      return false;
    }
  }
  int digits = 0, dots = 0, open = 0, close = 0;
  char prev = 0;
  for (size_t i = b; i < e; ++i) {
    const char c = text[i];
    if (IsDigit(c)) {
      ++digits;
    } else {
      if (c == '.') ++dots;
      if (c == '(') ++open;
      if (c == ')') ++close;
      // No doubled separators except ") " / ")-".
      if ((prev == ' ' || prev == '.' || prev == '-') && c != '(') return false;
    }
    prev = c;
  }
  if (open != close || open > 1) return false;
  if (text[b] == '+') {
    if (dots == 1) return false;  // "+3.14159265" is a number
    return digits >= 8 && digits <= 15;
  }
  return digits >= 10 && digits <= 12;
}

bool ValidIpv4(std::string_view text, size_t b, size_t e) {
  if (b > 0 && (text[b - 1] == '.' || IsAlnum(text[b - 1]))) return false;
  if (e < text.size() && text[e] == '.' && e + 1 < text.size() && IsDigit(text[e + 1])) {
    return false;
  }
  return true;
}

bool ValidIpv6(std::string_view text, size_t b, size_t e) {
  if (b > 0 && (IsAlnum(text[b - 1]) || text[b - 1] == ':' || text[b - 1] == '_')) return false;
  if (e < text.size() && (IsAlnum(text[e]) || text[e] == ':' || text[e] == '_')) return false;
  const std::string_view m = text.substr(b, e - b);
  if (m.size() > 45) return false;
  bool hex = false;
  for (char c : m) hex |= IsHex(c);
  if (!hex) return false;
  const std::string s(m);
  unsigned char buf[16];
  return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

struct Scrubber::Impl {
  bool enabled = true;
  bool defaults = true;
  bool emails = true;
  bool ips = false;
  ScrubAction action = ScrubAction::kMask;
  std::string secret;
  std::vector<KeySpec> keys;  // custom first
  std::vector<ValueRule> rules;
  std::unique_ptr<RE2::Set> set;
  size_t min_len = 0;

  std::optional<ScrubAction> KeyAction(std::string_view key) const;
  std::string Render(ScrubAction a, std::string_view value) const;
  // Fills `hits` (begin -> hit) with the validated, non-overlapping matches in `text`.
  void FindHits(std::string_view text, std::map<size_t, Hit>* hits) const;
  // Applies hits; returns the count. *removed is set if a kRemove hit was applied.
  size_t Scrub(std::string* text, bool* removed) const;
  bool NeedsScrub(std::string_view text) const {
    std::map<size_t, Hit> hits;
    FindHits(text, &hits);
    return !hits.empty();
  }
  // True if ScrubAttributes would change `a`.
  bool NeedsAttrScrub(const model::Attribute& a) const;
};

std::optional<ScrubAction> Scrubber::Impl::KeyAction(std::string_view key) const {
  if (keys.empty() || key.empty()) return std::nullopt;
  thread_local std::vector<std::string_view> tokens;
  Tokenize(key, &tokens);
  for (const KeySpec& spec : keys) {
    const size_t k = spec.tokens.size();
    if (k > tokens.size()) continue;
    for (size_t i = 0; i + k <= tokens.size(); ++i) {
      bool match = true;
      for (size_t j = 0; j < k && match; ++j) {
        match = EqualsLower(tokens[i + j], spec.tokens[j]) ||
                (k == 1 && spec.tokens[0].size() >= 5 && EndsWithLower(tokens[i], spec.tokens[0]));
      }
      if (!match) continue;
      // Any later neutral token makes the key describe the secret ("session-v2.enabled",
      // "token_count"), not hold it.
      bool neutral = false;
      for (size_t t = i + k; t < tokens.size() && !neutral; ++t) {
        for (std::string_view n : kNeutralNext) neutral |= EqualsLower(tokens[t], n);
      }
      if (neutral) continue;
      return spec.action;
    }
  }
  return std::nullopt;
}

std::string Scrubber::Impl::Render(ScrubAction a, std::string_view value) const {
  switch (a) {
    case ScrubAction::kMask:
      return std::string(kMask);
    case ScrubAction::kRemove:
      return std::string();
    case ScrubAction::kHash: {
      XXH3_state_t* state = XXH3_createState();
      XXH3_128bits_reset(state);
      XXH3_128bits_update(state, secret.data(), secret.size());
      XXH3_128bits_update(state, "", 1);
      XXH3_128bits_update(state, value.data(), value.size());
      const XXH128_hash_t h = XXH3_128bits_digest(state);
      XXH3_freeState(state);
      static constexpr char kHexDigits[] = "0123456789abcdef";
      std::string out = "[hash:";
      for (int shift = 60; shift >= 0; shift -= 4) out += kHexDigits[(h.high64 >> shift) & 0xf];
      out += ']';
      return out;
    }
  }
  return std::string(kMask);
}

void Scrubber::Impl::FindHits(std::string_view text, std::map<size_t, Hit>* hits) const {
  hits->clear();
  if (!enabled || rules.empty() || text.size() < min_len) return;
  std::vector<int> found;
  RE2::Set::ErrorInfo info{};
  if (!set->Match(text, &found, &info)) {
    if (info.kind != RE2::Set::kOutOfMemory) return;
    // The DFA ran out of memory: fall back to running every rule.
    found.clear();
    for (size_t i = 0; i < rules.size(); ++i) found.push_back(static_cast<int>(i));
  }
  std::sort(found.begin(), found.end());  // rule index order == priority order
  re2::StringPiece g[6];
  const re2::StringPiece whole(text.data(), text.size());
  for (int index : found) {
    const ValueRule& rule = rules[index];
    size_t pos = 0;
    while (pos <= text.size() &&
           rule.re->Match(whole, pos, text.size(), RE2::UNANCHORED, g, 1 + rule.groups)) {
      const size_t mb = g[0].data() - text.data();
      const size_t me = mb + g[0].size();
      pos = me > mb ? me : me + 1;
      size_t b = mb, e = me;
      ScrubAction action = rule.action;
      bool quote = false, ok = true;
      switch (rule.kind) {
        case Kind::kCustom:
        case Kind::kGeneric:
        case Kind::kIpv4:
        case Kind::kIpv6:
        case Kind::kCard:
        case Kind::kRrn:
        case Kind::kPhone:
          if (rule.groups >= 1 && g[1].data() != nullptr) {
            b = g[1].data() - text.data();
            e = b + g[1].size();
          }
          break;
        case Kind::kBearer: {
          b = g[1].data() - text.data();
          e = b + g[1].size();
          bool digit = false;
          for (char c : g[1]) digit |= IsDigit(c);
          ok = digit || g[1].size() >= 20;
          break;
        }
        case Kind::kKeyValue: {
          const std::string_view key(g[1].data(), g[1].size());
          const std::string_view sep(g[2].data(), g[2].size());
          const std::optional<ScrubAction> a = KeyAction(key);
          if (!a) {
            ok = false;
            break;
          }
          action = *a;
          const bool quoted_key = !sep.empty() && (sep[0] == '"' || sep[0] == '\'');
          // "host:port" is not a pair: an unquoted key needs "=" or ": ".
          if (!quoted_key && sep.find(':') != std::string_view::npos && sep.back() != ' ' &&
              sep.back() != '\t') {
            ok = false;
            break;
          }
          int vg = 3;
          while (vg <= 5 && g[vg].data() == nullptr) ++vg;
          if (vg > 5) {
            ok = false;
            break;
          }
          b = g[vg].data() - text.data();
          e = b + g[vg].size();
          quote = vg == 5 && sep[0] == '"';
          // Don't let the value be cut from the next pair's key scan.
          pos = std::max(pos, e);
          break;
        }
      }
      if (!ok) continue;
      switch (rule.kind) {
        case Kind::kCard:
          ok = ValidCard(text, b, e);
          break;
        case Kind::kRrn:
          ok = ValidRrn(text.substr(b, e - b));
          break;
        case Kind::kPhone:
          ok = ValidPhone(text, b, e);
          break;
        case Kind::kIpv4:
          ok = ValidIpv4(text, b, e);
          break;
        case Kind::kIpv6:
          ok = ValidIpv6(text, b, e);
          break;
        default:
          break;
      }
      if (!ok || e <= b) continue;
      // Reject overlaps with already accepted (higher-priority or earlier) hits.
      auto next = hits->lower_bound(b);
      if (next != hits->end() && next->first < e) continue;
      if (next != hits->begin() && std::prev(next)->second.end > b) continue;
      hits->emplace(b, Hit{e, action, quote});
    }
  }
}

size_t Scrubber::Impl::Scrub(std::string* text, bool* removed) const {
  std::map<size_t, Hit> hits;
  FindHits(*text, &hits);
  if (hits.empty()) return 0;
  std::string out;
  out.reserve(text->size());
  size_t last = 0;
  for (const auto& [b, hit] : hits) {
    out.append(*text, last, b - last);
    if (hit.action == ScrubAction::kRemove && removed != nullptr) *removed = true;
    const std::string rep = Render(hit.action, std::string_view(*text).substr(b, hit.end - b));
    if (hit.quote) out += '"';
    out += rep;
    if (hit.quote) out += '"';
    last = hit.end;
  }
  out.append(*text, last, std::string::npos);
  *text = std::move(out);
  return hits.size();
}

bool Scrubber::Impl::NeedsAttrScrub(const model::Attribute& a) const {
  if (KeyAction(a.key)) return true;
  if (a.value.type == model::AttrValue::Type::kString) return NeedsScrub(a.value.str);
  if (a.value.type == model::AttrValue::Type::kInt && std::llabs(a.value.i) >= 1000000000000LL) {
    return NeedsScrub(std::to_string(a.value.i));
  }
  return false;
}

ScrubberOptions OptionsForProject(const ScrubberOptions& options, std::string_view project) {
  ScrubberOptions out = options;
  out.custom.clear();
  for (const ScrubRule& r : options.custom) {
    if (r.project.empty() || r.project == project) out.custom.push_back(r);
  }
  return out;
}

StatusOr<std::unique_ptr<Scrubber>> Scrubber::Create(const ScrubberOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->enabled = options.enabled;
  impl->defaults = options.defaults;
  impl->emails = options.emails;
  impl->ips = options.ips;
  impl->action = options.action;
  impl->secret = options.hash_secret;
  bool hashes = options.defaults && options.action == ScrubAction::kHash;

  struct Pending {
    std::string name;
    Kind kind;
    ScrubAction action;
    std::string pattern;
    size_t min_len;
  };
  std::vector<Pending> pending;

  for (size_t i = 0; i < options.custom.size(); ++i) {
    const ScrubRule& r = options.custom[i];
    const std::string name = r.name.empty() ? "custom#" + std::to_string(i) : r.name;
    if (r.pattern.empty() && r.keys.empty()) {
      return InvalidArgument("scrub rule '" + name + "': needs a pattern or keys");
    }
    hashes |= r.action == ScrubAction::kHash;
    if (!r.pattern.empty()) pending.push_back({name, Kind::kCustom, r.action, r.pattern, 1});
    for (const std::string& k : r.keys) {
      std::vector<std::string_view> toks;
      Tokenize(k, &toks);
      if (toks.empty()) {
        return InvalidArgument("scrub rule '" + name + "': key '" + k +
                               "' has no letters or digits");
      }
      KeySpec spec{{}, r.action};
      for (std::string_view t : toks) {
        std::string s(t);
        for (char& c : s) c = static_cast<char>(Lower(c));
        spec.tokens.push_back(std::move(s));
      }
      impl->keys.push_back(std::move(spec));
    }
  }
  if (hashes && options.hash_secret.empty()) {
    return InvalidArgument("scrubbing: the hash action needs a hash_secret");
  }

  if (options.defaults) {
    for (const char* k : kDefaultKeys) {
      std::vector<std::string_view> toks;
      Tokenize(k, &toks);
      KeySpec spec{{}, options.action};
      for (std::string_view t : toks) spec.tokens.emplace_back(t);
      impl->keys.push_back(std::move(spec));
    }
    for (const BuiltinRule& r : kSecretRules) {
      pending.push_back({r.name, r.kind, options.action, r.pattern, r.min_len});
    }
  }
  if (!impl->keys.empty()) {
    // key (group 1), separator (2), then a "double-quoted" (3), 'single-quoted' (4) or bare
    // (5) value. The key must contain the first token of some sensitive name; KeyAction then
    // applies the token-aware rule.
    std::vector<std::string> firsts;
    size_t shortest = 64;
    for (const KeySpec& s : impl->keys) {
      firsts.push_back(s.tokens[0]);
      size_t total = 0;
      for (const std::string& t : s.tokens) total += t.size();
      shortest = std::min(shortest, total);
    }
    std::sort(firsts.begin(), firsts.end());
    firsts.erase(std::unique(firsts.begin(), firsts.end()), firsts.end());
    std::string alt;
    for (const std::string& f : firsts) {
      if (!alt.empty()) alt += '|';
      alt += f;
    }
    const std::string pattern = "(?i)([A-Za-z0-9_.\\-]*(?:" + alt +
                                ")[A-Za-z0-9_.\\-]*)([\"']?[ \\t]*[:=][ \\t]*)"
                                "(?:\"((?:[^\"\\\\\\n]|\\\\.)*)\"|'([^'\\n]*)'"
                                "|((?:(?:basic|bearer|digest|token|negotiate|ntlm)[ \\t]+)?"
                                "[^\\s&,;:=\"'<>{}()\\[\\]\\\\][^\\s&,;\"'<>{}()\\[\\]\\\\]*))";
    pending.push_back(
        {"sensitive_key_value", Kind::kKeyValue, options.action, pattern, shortest + 2});
  }
  if (options.defaults) {
    if (options.emails) {
      pending.push_back({kEmailRule.name, kEmailRule.kind, options.action, kEmailRule.pattern,
                         kEmailRule.min_len});
    }
    for (const BuiltinRule& r : kPiiRules) {
      pending.push_back({r.name, r.kind, options.action, r.pattern, r.min_len});
    }
  }
  if (options.ips) {
    for (const BuiltinRule& r : kIpRules) {
      pending.push_back({r.name, r.kind, options.action, r.pattern, r.min_len});
    }
  }

  RE2::Options re_options = ReOptions();
  RE2::Options set_options = ReOptions();
  set_options.set_max_mem(64 << 20);
  impl->set = std::make_unique<RE2::Set>(set_options, RE2::UNANCHORED);
  impl->min_len = pending.empty() ? 0 : SIZE_MAX;
  for (Pending& p : pending) {
    auto re = std::make_unique<RE2>(p.pattern, re_options);
    if (!re->ok()) {
      return InvalidArgument("scrub rule '" + p.name + "': bad regex: " + re->error());
    }
    std::string error;
    if (impl->set->Add(p.pattern, &error) < 0) {
      return InvalidArgument("scrub rule '" + p.name + "': bad regex: " + error);
    }
    const int groups = std::min(re->NumberOfCapturingGroups(), 5);
    impl->min_len = std::min(impl->min_len, p.min_len);
    impl->rules.push_back({p.name, p.kind, p.action, std::move(re), groups});
  }
  if (!impl->set->Compile()) {
    return InvalidArgument("scrubbing: the rule set is too large to compile");
  }
  return std::unique_ptr<Scrubber>(new Scrubber(std::move(impl)));
}

Scrubber::Scrubber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scrubber::~Scrubber() = default;

size_t Scrubber::num_patterns() const { return impl_->rules.size(); }

size_t Scrubber::ScrubText(std::string* text) const {
  if (!impl_->enabled) return 0;
  return impl_->Scrub(text, nullptr);
}

bool Scrubber::IsSensitiveKey(std::string_view key) const {
  return impl_->enabled && impl_->KeyAction(key).has_value();
}

size_t Scrubber::ScrubAttributes(std::vector<model::Attribute>* attrs) const {
  if (!impl_->enabled) return 0;
  size_t count = 0;
  size_t out = 0;
  for (size_t i = 0; i < attrs->size(); ++i) {
    model::Attribute& a = (*attrs)[i];
    bool drop = false;
    if (const std::optional<ScrubAction> act = impl_->KeyAction(a.key)) {
      ++count;
      if (*act == ScrubAction::kRemove) {
        drop = true;
      } else {
        const std::string text =
            a.value.type == model::AttrValue::Type::kString ? a.value.str : a.value.ToText();
        a.value = model::AttrValue::String(impl_->Render(*act, text));
      }
    } else if (a.value.type == model::AttrValue::Type::kString) {
      count += impl_->Scrub(&a.value.str, &drop);
    } else if (a.value.type == model::AttrValue::Type::kInt &&
               std::llabs(a.value.i) >= 1000000000000LL) {
      std::string text = std::to_string(a.value.i);
      if (const size_t n = impl_->Scrub(&text, &drop)) {
        count += n;
        a.value = model::AttrValue::String(text);
      }
    }
    if (drop) continue;
    if (out != i) (*attrs)[out] = std::move(a);
    ++out;
  }
  attrs->resize(out);
  return count;
}

size_t Scrubber::ScrubPairs(std::vector<std::pair<std::string, std::string>>* pairs) const {
  if (!impl_->enabled) return 0;
  size_t count = 0;
  size_t out = 0;
  for (size_t i = 0; i < pairs->size(); ++i) {
    auto& [key, value] = (*pairs)[i];
    bool drop = false;
    if (const std::optional<ScrubAction> act = impl_->KeyAction(key)) {
      ++count;
      if (*act == ScrubAction::kRemove) {
        drop = true;
      } else {
        value = impl_->Render(*act, value);
      }
    } else {
      count += impl_->Scrub(&value, &drop);
    }
    if (drop) continue;
    if (out != i) (*pairs)[out] = std::move((*pairs)[i]);
    ++out;
  }
  pairs->resize(out);
  return count;
}

size_t Scrubber::ScrubRecord(model::LogRecord* record) const {
  if (!impl_->enabled) return 0;
  return impl_->Scrub(&record->body, nullptr) + ScrubAttributes(&record->attrs);
}

size_t Scrubber::ScrubSpan(model::Span* span) const {
  if (!impl_->enabled) return 0;
  size_t count = impl_->Scrub(&span->name, nullptr);
  count += impl_->Scrub(&span->status_message, nullptr);
  count += ScrubAttributes(&span->attrs);
  for (model::SpanEvent& ev : span->events) {
    count += impl_->Scrub(&ev.name, nullptr);
    count += ScrubAttributes(&ev.attrs);
  }
  for (model::SpanLink& link : span->links) count += ScrubAttributes(&link.attrs);
  if (span->resource != nullptr) {
    const model::AttributeList& shared = *span->resource;
    const bool dirty = std::any_of(shared.begin(), shared.end(), [this](const model::Attribute& a) {
      return impl_->NeedsAttrScrub(a);
    });
    if (dirty) {
      model::AttributeList copy = shared;
      count += ScrubAttributes(&copy);
      span->SetResourceAttrs(std::move(copy));
    }
  }
  return count;
}

size_t Scrubber::ScrubEvent(model::ErrorEvent* event) const {
  if (!impl_->enabled) return 0;
  const Impl& im = *impl_;
  size_t count = im.Scrub(&event->message, nullptr);
  count += im.Scrub(&event->message_template, nullptr);
  count += im.Scrub(&event->transaction, nullptr);
  for (model::ExceptionInfo& ex : event->exceptions) {
    count += im.Scrub(&ex.value, nullptr);
    for (model::StackFrame& f : ex.frames) {
      count += ScrubPairs(&f.vars);
      count += im.Scrub(&f.context_line, nullptr);
      for (std::string& line : f.pre_context) count += im.Scrub(&line, nullptr);
      for (std::string& line : f.post_context) count += im.Scrub(&line, nullptr);
    }
  }
  for (model::Breadcrumb& bc : event->breadcrumbs) {
    count += im.Scrub(&bc.message, nullptr);
    count += ScrubPairs(&bc.data);
  }
  count += im.Scrub(&event->request.url, nullptr);
  count += im.Scrub(&event->request.query_string, nullptr);
  count += ScrubPairs(&event->request.headers);
  // User: id is kept; email and ip_address are replaced whole when their rule is on.
  auto whole = [&](std::string* field) {
    if (field->empty()) return;
    *field = im.Render(im.action, *field);
    ++count;
  };
  if (im.defaults && im.emails) {
    whole(&event->user.email);
  } else {
    count += im.Scrub(&event->user.email, nullptr);
  }
  if (im.ips) {
    whole(&event->user.ip_address);
  }
  count += im.Scrub(&event->user.username, nullptr);
  count += ScrubPairs(&event->tags);
  count += im.Scrub(&event->extra_json, nullptr);
  count += im.Scrub(&event->contexts_json, nullptr);
  return count;
}

}  // namespace sightline::pipeline
