#include "storage/log_scan.h"

#include <re2/re2.h>

#include "storage/embedded/bloom.h"

namespace sightline::storage {

bool FieldMatcher::Matches(std::string_view text) const {
  switch (op) {
    case Op::kEq:
      return text == value;
    case Op::kNeq:
      return text != value;
    case Op::kRe:
      return re && RE2::FullMatch(text, *re);
    case Op::kNre:
      return !(re && RE2::FullMatch(text, *re));
  }
  return false;
}

void ScanStats::Add(const ScanStats& o) {
  parts += o.parts;
  blocks_total += o.blocks_total;
  blocks_pruned_time += o.blocks_pruned_time;
  blocks_pruned_index += o.blocks_pruned_index;
  blocks_pruned_bloom += o.blocks_pruned_bloom;
  blocks_read += o.blocks_read;
  rows_scanned += o.rows_scanned;
  rows_matched += o.rows_matched;
  bytes_read += o.bytes_read;
}

void AppendRecordKey(const model::LogRecord& r, uint8_t mask, KeyIndex* index, KeyedRows* out) {
  std::array<std::string, 4> k;
  if (mask & kKeyService) k[0] = r.service;
  if (mask & kKeyLevel) k[1] = std::string(model::LevelName(r.level));
  if (mask & kKeyEnv) k[2] = r.env;
  if (mask & kKeyHost) k[3] = r.host;
  auto [it, inserted] = index->emplace(k, static_cast<uint32_t>(out->keys.size()));
  if (inserted) out->keys.push_back(std::move(k));
  out->ts.push_back(r.ts_ns);
  out->key.push_back(it->second);
}

std::string FieldText(const model::LogRecord& r, std::string_view f) {
  if (f == "service") return r.service;
  if (f == "level") return std::string(model::LevelName(r.level));
  if (f == "env") return r.env;
  if (f == "host") return r.host;
  if (f == "trace_id") return r.trace_id.empty() ? std::string() : r.trace_id.Hex();
  if (f == "span_id") return r.span_id.empty() ? std::string() : r.span_id.Hex();
  if (f == "body" || f == "msg" || f == "message") return r.body;
  if (const auto* v = r.FindAttr(f)) return v->ToText();
  return {};
}

bool RecordMatches(const model::LogRecord& r, const LogScanSpec& spec) {
  if (r.ts_ns < spec.start_ns || r.ts_ns >= spec.end_ns) return false;
  for (const auto& m : spec.matchers)
    if (!m.Matches(FieldText(r, m.field))) return false;
  for (const auto& c : spec.contains)
    if (r.body.find(c) == std::string::npos) return false;
  for (const auto& w : spec.words) {
    bool found = ContainsWord(r.body, w);
    for (size_t i = 0; !found && i < r.attrs.size(); ++i) {
      const auto& v = r.attrs[i].value;
      if (v.type == model::AttrValue::Type::kString && IsWordSearched(r.attrs[i].key)) {
        found = ContainsWord(v.str, w);
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace sightline::storage
