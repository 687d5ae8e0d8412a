#include "storage/embedded/part.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "base/coding.h"
#include "storage/embedded/bloom.h"
#include "storage/embedded/record_codec.h"
#include "storage/embedded/util.h"

namespace sightline::storage {
namespace {

using model::AttrValue;
using model::LogRecord;

constexpr char kPartMagic[8] = {'S', 'L', 'P', 'A', 'R', 'T', '0', '1'};
constexpr size_t kFooterSize = 32;
constexpr size_t kTraceEntry = kTraceKeyBytes + 4;
constexpr size_t kTracePageEntries = 200;

void EncodeMeta(const PartMeta& m, std::string* out) {
  PutVarint64(out, kPartFormatVersion);
  PutVarint64(out, m.rows);
  PutVarsint64(out, m.min_ts);
  PutVarsint64(out, m.max_ts);
  for (const auto* d : {&m.services, &m.envs, &m.hosts, &m.keys}) {
    PutVarint64(out, d->size());
    for (const auto& s : *d) PutLengthPrefixed(out, s);
  }
  PutVarint64(out, m.blocks.size());
  for (const auto& b : m.blocks) {
    PutVarint64(out, b.rows);
    PutVarsint64(out, b.min_ts);
    PutVarsint64(out, b.max_ts);
    out->push_back(static_cast<char>(b.level_mask));
    PutVarint64(out, b.services.size());
    for (uint32_t s : b.services) PutVarint64(out, s);
    PutVarint64(out, b.columns.size());
    for (const auto& c : b.columns) {
      PutVarint64(out, c.id);
      PutVarint64(out, c.offset);
      PutVarint64(out, c.stored_len);
      PutVarint64(out, c.raw_len);
      out->push_back(static_cast<char>(c.codec));
      PutFixed32(out, c.crc);
    }
    PutVarint64(out, b.bloom_offset);
    PutVarint64(out, b.bloom_len);
    PutVarint64(out, b.body_bloom_len);
    PutFixed32(out, b.bloom_crc);
  }
  PutVarint64(out, m.trace_pages.size());
  for (const auto& p : m.trace_pages) {
    out->append(reinterpret_cast<const char*>(p.first.data()), kTraceKeyBytes);
    PutVarint64(out, p.offset);
    PutVarint64(out, p.count);
  }
  PutVarint64(out, m.replaces.size());
  for (uint64_t id : m.replaces) PutVarint64(out, id);
  PutVarint64(out, m.wal_seq);
}

bool DecodeMeta(std::string_view in, PartMeta* m) {
  Reader r(in);
  uint64_t v, n;
  if (!r.GetVarint64(&v) || v < kOldestPartFormatVersion || v > kPartFormatVersion) return false;
  const uint64_t version = v;
  if (!r.GetVarint64(&m->rows) || !r.GetVarsint64(&m->min_ts) || !r.GetVarsint64(&m->max_ts))
    return false;
  for (auto* d : {&m->services, &m->envs, &m->hosts, &m->keys}) {
    if (!r.GetVarint64(&n) || n > r.remaining()) return false;
    d->resize(n);
    for (auto& s : *d) {
      std::string_view sv;
      if (!r.GetLengthPrefixed(&sv)) return false;
      s.assign(sv);
    }
  }
  if (!r.GetVarint64(&n) || n > r.remaining()) return false;
  m->blocks.resize(n);
  for (auto& b : m->blocks) {
    uint8_t mask;
    if (!r.GetVarint64(&v)) return false;
    b.rows = static_cast<uint32_t>(v);
    if (!r.GetVarsint64(&b.min_ts) || !r.GetVarsint64(&b.max_ts) || !r.GetByte(&mask)) return false;
    b.level_mask = mask;
    if (!r.GetVarint64(&n) || n > r.remaining()) return false;
    b.services.resize(n);
    for (auto& s : b.services) {
      if (!r.GetVarint64(&v) || v >= m->services.size()) return false;
      s = static_cast<uint32_t>(v);
    }
    if (!r.GetVarint64(&n) || n > r.remaining()) return false;
    b.columns.resize(n);
    for (auto& c : b.columns) {
      uint64_t id, off, sl, rl;
      if (!r.GetVarint64(&id) || !r.GetVarint64(&off) || !r.GetVarint64(&sl) ||
          !r.GetVarint64(&rl) || !r.GetByte(&c.codec) || !r.GetFixed32(&c.crc))
        return false;
      c.id = static_cast<uint32_t>(id);
      c.offset = off;
      c.stored_len = static_cast<uint32_t>(sl);
      c.raw_len = static_cast<uint32_t>(rl);
    }
    uint64_t bo, bl, bb;
    if (!r.GetVarint64(&bo) || !r.GetVarint64(&bl) || !r.GetVarint64(&bb) ||
        !r.GetFixed32(&b.bloom_crc) || bb > bl)
      return false;
    b.bloom_offset = bo;
    b.bloom_len = static_cast<uint32_t>(bl);
    b.body_bloom_len = static_cast<uint32_t>(bb);
  }
  if (!r.GetVarint64(&n) || n > r.remaining()) return false;
  m->trace_pages.resize(n);
  for (auto& p : m->trace_pages) {
    std::string_view id;
    uint64_t off, cnt;
    if (!r.GetBytes(kTraceKeyBytes, &id) || !r.GetVarint64(&off) || !r.GetVarint64(&cnt))
      return false;
    std::memcpy(p.first.data(), id.data(), kTraceKeyBytes);
    p.offset = off;
    p.count = static_cast<uint32_t>(cnt);
  }
  if (!r.GetVarint64(&n) || n > r.remaining()) return false;
  m->replaces.resize(n);
  for (auto& id : m->replaces)
    if (!r.GetVarint64(&id)) return false;
  m->wal_seq = 0;
  if (version >= 4 && !r.GetVarint64(&m->wal_seq)) return false;
  return r.ok() && r.empty();
}

// Encodes a per-block id column: distinct ids, then a varint index per row (0 = none).
// Ids are random bytes, so their first 8 bytes are a good hash key.
template <size_t N>
void EncodeIdColumn(const std::vector<const std::array<uint8_t, N>*>& ids, std::string* raw) {
  struct Hash {
    size_t operator()(const std::array<uint8_t, N>* a) const {
      uint64_t h;
      std::memcpy(&h, a->data(), 8);
      return static_cast<size_t>(h * 0x9E3779B97F4A7C15ull);
    }
  };
  struct Eq {
    bool operator()(const std::array<uint8_t, N>* a, const std::array<uint8_t, N>* b) const {
      return *a == *b;
    }
  };
  std::unordered_map<const std::array<uint8_t, N>*, uint32_t, Hash, Eq> dict;
  dict.reserve(ids.size());
  std::vector<uint32_t> idx(ids.size(), 0);
  std::vector<const std::array<uint8_t, N>*> order;
  static const std::array<uint8_t, N> kZero{};
  for (size_t i = 0; i < ids.size(); ++i) {
    if (*ids[i] == kZero) continue;
    if (i > 0 && *ids[i] == *ids[i - 1]) {  // runs are common (one request's lines)
      idx[i] = idx[i - 1];
      continue;
    }
    auto [it, inserted] = dict.emplace(ids[i], static_cast<uint32_t>(order.size() + 1));
    if (inserted) order.push_back(ids[i]);
    idx[i] = it->second;
  }
  PutVarint64(raw, order.size());
  for (const auto* id : order) raw->append(reinterpret_cast<const char*>(id->data()), N);
  for (uint32_t x : idx) PutVarint64(raw, x);
}

template <size_t N>
bool DecodeIdColumn(std::string_view raw, size_t rows, std::vector<std::array<uint8_t, N>>* out) {
  Reader r(raw);
  uint64_t n;
  if (!r.GetVarint64(&n) || n > r.remaining() / N) return false;
  std::vector<std::array<uint8_t, N>> dict(n + 1);
  for (uint64_t i = 1; i <= n; ++i) {
    std::string_view b;
    r.GetBytes(N, &b);
    std::memcpy(dict[i].data(), b.data(), N);
  }
  out->resize(rows);
  for (size_t i = 0; i < rows; ++i) {
    uint64_t x;
    if (!r.GetVarint64(&x) || x > n) return false;
    (*out)[i] = dict[x];
  }
  return r.ok();
}

}  // namespace

namespace {

// Distinct values of one dictionary, collected over rows then sorted.
struct DictBuilder {
  std::unordered_map<std::string_view, uint32_t> ids;
  std::vector<std::string_view> vals;
  void Add(std::string_view v) {
    if (ids.emplace(v, 0).second) vals.push_back(v);
  }
  std::vector<std::string> Sorted() {
    std::sort(vals.begin(), vals.end());
    return std::vector<std::string>(vals.begin(), vals.end());
  }
};

// Looks up dictionary ids, remembering the previous value (consecutive rows usually repeat).
class DictLookup {
 public:
  explicit DictLookup(const std::vector<std::string>& dict) {
    for (uint32_t i = 0; i < dict.size(); ++i) ids_.emplace(dict[i], i);
  }
  uint32_t Id(std::string_view v) {
    if (has_prev_ && v == prev_) return prev_id_;
    auto it = ids_.find(v);
    prev_id_ = it == ids_.end() ? 0 : it->second;  // callers guarantee presence
    prev_ = v;
    has_prev_ = true;
    return prev_id_;
  }

 private:
  std::unordered_map<std::string_view, uint32_t> ids_;
  std::string_view prev_;
  uint32_t prev_id_ = 0;
  bool has_prev_ = false;
};

}  // namespace

// Writes a part block by block. Dictionaries are fixed at creation and must contain every
// value the rows use; rows arrive in final (service, ts) order.
class PartWriter {
 public:
  static StatusOr<std::unique_ptr<PartWriter>> Create(const std::string& path, PartMeta dicts,
                                                      const PartWriterOptions& opt) {
    std::unique_ptr<PartWriter> w(new PartWriter(path, std::move(dicts), opt));
    SL_ASSIGN_OR_RETURN(w->file_, WritableFile::Open(path + ".tmp", true));
    SL_RETURN_IF_ERROR(w->file_->Append(std::string_view(kPartMagic, 8)));
    return w;
  }

  // Encodes rows[start, end) as one block.
  Status AddBlock(const std::vector<const LogRecord*>& rows, size_t start, size_t end);
  // Writes the trace index, meta and footer, syncs and renames into place.
  StatusOr<PartMeta> Finish(const std::vector<uint64_t>& replaces, uint64_t wal_seq);

 private:
  PartWriter(std::string path, PartMeta dicts, const PartWriterOptions& opt)
      : path_(std::move(path)),
        opt_(opt),
        meta(std::move(dicts)),
        svc_(meta.services),
        env_(meta.envs),
        host_(meta.hosts),
        key_(meta.keys) {
    meta.rows = 0;
    meta.min_ts = INT64_MAX;
    meta.max_ts = INT64_MIN;
  }

  const std::string path_;
  const PartWriterOptions opt_;
  PartMeta meta;
  DictLookup svc_, env_, host_, key_;
  std::unique_ptr<WritableFile> file_;
  std::vector<std::pair<std::array<uint8_t, kTraceKeyBytes>, uint32_t>> trace_entries_;
  std::string raw, stored;
  BloomBuilder bloom_, field_bloom_;
  std::vector<uint32_t> svc_id_, env_id_, host_id_, key_off_, key_ids_;
};

Status PartWriter::AddBlock(const std::vector<const LogRecord*>& rows, size_t start, size_t end) {
  const size_t n = end - start;
  if (n == 0) return Status::OK();
  // Dictionary ids of this block's rows.
  svc_id_.resize(n);
  env_id_.resize(n);
  host_id_.resize(n);
  key_off_.assign(n + 1, 0);
  key_ids_.clear();
  for (size_t i = start; i < end; ++i) {
    const LogRecord* r = rows[i];
    svc_id_[i - start] = svc_.Id(r->service);
    env_id_[i - start] = env_.Id(r->env);
    host_id_[i - start] = host_.Id(r->host);
    const LogRecord* prev = i > start ? rows[i - 1] : nullptr;
    for (size_t j = 0; j < r->attrs.size(); ++j) {
      // Rows from one source usually carry the same keys in the same order.
      if (prev && j < prev->attrs.size() && prev->attrs[j].key == r->attrs[j].key)
        key_ids_.push_back(key_ids_[key_off_[i - 1 - start] + j]);
      else
        key_ids_.push_back(key_.Id(r->attrs[j].key));
    }
    key_off_[i + 1 - start] = static_cast<uint32_t>(key_ids_.size());
  }
  BlockMeta bm;
  bm.rows = static_cast<uint32_t>(n);
  bm.min_ts = INT64_MAX;
  bm.max_ts = INT64_MIN;
  const uint32_t block_no = static_cast<uint32_t>(meta.blocks.size());
  auto emit = [&](uint32_t id) -> Status {
    ColumnMeta c;
    c.id = id;
    c.raw_len = static_cast<uint32_t>(raw.size());
    c.codec = Compress(raw, opt_.zstd_level, &stored);
    c.stored_len = static_cast<uint32_t>(stored.size());
    c.crc = Crc32(stored);
    c.offset = file_->size();
    bm.columns.push_back(c);
    return file_->Append(stored);
  };
  // ts and observed: zigzag deltas.
  for (uint32_t col : {kColTs, kColObserved}) {
    raw.clear();
    int64_t prev = 0;
    for (size_t i = start; i < end; ++i) {
      int64_t t = col == kColTs ? rows[i]->ts_ns : rows[i]->observed_ns;
      PutVarsint64(&raw, t - prev);
      prev = t;
      if (col == kColTs) {
        bm.min_ts = std::min(bm.min_ts, t);
        bm.max_ts = std::max(bm.max_ts, t);
      }
    }
    SL_RETURN_IF_ERROR(emit(col));
  }
  raw.clear();
  for (size_t i = start; i < end; ++i) {
    raw.push_back(static_cast<char>(rows[i]->level));
    bm.level_mask |= static_cast<uint8_t>(1u << static_cast<int>(rows[i]->level));
  }
  SL_RETURN_IF_ERROR(emit(kColLevel));
  raw.clear();
  for (size_t i = start; i < end; ++i) raw.push_back(static_cast<char>(rows[i]->severity_number));
  SL_RETURN_IF_ERROR(emit(kColSeverity));
  // Dictionary-coded strings.
  {
    raw.clear();
    std::vector<uint32_t> present;
    for (size_t i = start; i < end; ++i) {
      uint32_t id = svc_id_[i - start];
      PutVarint64(&raw, id);
      if (present.empty() || present.back() != id) present.push_back(id);
    }
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    bm.services = std::move(present);
    SL_RETURN_IF_ERROR(emit(kColService));
    raw.clear();
    for (size_t i = start; i < end; ++i) PutVarint64(&raw, env_id_[i - start]);
    SL_RETURN_IF_ERROR(emit(kColEnv));
    raw.clear();
    for (size_t i = start; i < end; ++i) PutVarint64(&raw, host_id_[i - start]);
    SL_RETURN_IF_ERROR(emit(kColHost));
  }
  // Body: all lengths, then all bytes.
  bloom_.Clear();
  field_bloom_.Clear();
  raw.clear();
  size_t body_bytes = 0;
  for (size_t i = start; i < end; ++i) {
    PutVarint64(&raw, rows[i]->body.size());
    body_bytes += rows[i]->body.size();
  }
  raw.reserve(raw.size() + body_bytes);
  for (size_t i = start; i < end; ++i) {
    raw.append(rows[i]->body);
    bloom_.AddText(rows[i]->body);
  }
  SL_RETURN_IF_ERROR(emit(kColBody));
  // Trace and span ids, per-block dictionaries.
  {
    std::vector<const std::array<uint8_t, 16>*> t;
    std::vector<const std::array<uint8_t, 8>*> s;
    t.reserve(n);
    s.reserve(n);
    for (size_t i = start; i < end; ++i) {
      t.push_back(&rows[i]->trace_id.bytes);
      s.push_back(&rows[i]->span_id.bytes);
      if (!rows[i]->trace_id.empty()) {
        std::array<uint8_t, kTraceKeyBytes> key;
        std::memcpy(key.data(), rows[i]->trace_id.bytes.data(), kTraceKeyBytes);
        if (trace_entries_.empty() || trace_entries_.back().first != key ||
            trace_entries_.back().second != block_no)
          trace_entries_.emplace_back(key, block_no);
      }
    }
    raw.clear();
    EncodeIdColumn<16>(t, &raw);
    SL_RETURN_IF_ERROR(emit(kColTrace));
    raw.clear();
    EncodeIdColumn<8>(s, &raw);
    SL_RETURN_IF_ERROR(emit(kColSpan));
  }
  // Attribute columns: one per key present in the block, in key-id order.
  {
    std::map<uint32_t, std::vector<const AttrValue*>> cols;
    for (size_t i = start; i < end; ++i) {
      const uint32_t* kid = key_ids_.data() + key_off_[i - start];
      for (size_t j = 0; j < rows[i]->attrs.size(); ++j) {
        const auto& a = rows[i]->attrs[j];
        auto& v = cols[kid[j]];
        if (v.empty()) v.resize(n, nullptr);
        v[i - start] = &a.value;
        if (a.value.type == AttrValue::Type::kString && IsWordSearched(a.key)) {
          field_bloom_.AddText(a.value.str);
        }
      }
    }
    for (const auto& [key, vals] : cols) {
      raw.clear();
      for (const auto* v : vals) raw.push_back(v ? static_cast<char>(v->type) : 0);
      for (const auto* v : vals) {
        if (!v) continue;
        switch (v->type) {  // payload only: the type is in the type section
          case AttrValue::Type::kString:
            PutLengthPrefixed(&raw, v->str);
            break;
          case AttrValue::Type::kInt:
            PutVarsint64(&raw, v->i);
            break;
          case AttrValue::Type::kDouble: {
            uint64_t bits;
            std::memcpy(&bits, &v->d, 8);
            PutFixed64(&raw, bits);
            break;
          }
          case AttrValue::Type::kBool:
            raw.push_back(v->b ? 1 : 0);
            break;
        }
      }
      SL_RETURN_IF_ERROR(emit(kColAttrBase + key));
    }
  }
  std::string filter = bloom_.Finish(opt_.bloom_bits_per_key);
  bm.body_bloom_len = static_cast<uint32_t>(filter.size());
  filter += field_bloom_.Finish(opt_.bloom_bits_per_key);
  bm.bloom_offset = file_->size();
  bm.bloom_len = static_cast<uint32_t>(filter.size());
  bm.bloom_crc = Crc32(filter);
  SL_RETURN_IF_ERROR(file_->Append(filter));
  meta.min_ts = std::min(meta.min_ts, bm.min_ts);
  meta.max_ts = std::max(meta.max_ts, bm.max_ts);
  meta.rows += n;
  meta.blocks.push_back(std::move(bm));
  return Status::OK();
}

StatusOr<PartMeta> PartWriter::Finish(const std::vector<uint64_t>& replaces, uint64_t wal_seq) {
  meta.replaces = replaces;
  meta.wal_seq = wal_seq;
  if (meta.rows == 0) meta.min_ts = meta.max_ts = 0;
  auto& trace_entries = trace_entries_;
  auto& file = file_;
  // Trace index pages.
  std::sort(trace_entries.begin(), trace_entries.end());
  trace_entries.erase(std::unique(trace_entries.begin(), trace_entries.end()), trace_entries.end());
  for (size_t i = 0; i < trace_entries.size(); i += kTracePageEntries) {
    size_t e = std::min(trace_entries.size(), i + kTracePageEntries);
    std::string page;
    for (size_t j = i; j < e; ++j) {
      page.append(reinterpret_cast<const char*>(trace_entries[j].first.data()), kTraceKeyBytes);
      PutFixed32(&page, trace_entries[j].second);
    }
    TraceIndexPage p;
    p.first = trace_entries[i].first;
    p.offset = file->size();
    p.count = static_cast<uint32_t>(e - i);
    std::string crc;
    PutFixed32(&crc, Crc32(page));
    SL_RETURN_IF_ERROR(file->Append(crc));
    SL_RETURN_IF_ERROR(file->Append(page));
    meta.trace_pages.push_back(p);
  }
  // Meta and footer.
  raw.clear();
  EncodeMeta(meta, &raw);
  stored = ZstdCompress(raw, 3);  // meta is always zstd (see format doc)
  std::string footer;
  PutFixed64(&footer, file->size());
  PutFixed32(&footer, static_cast<uint32_t>(stored.size()));
  PutFixed32(&footer, static_cast<uint32_t>(raw.size()));
  PutFixed32(&footer, Crc32(stored));
  PutFixed32(&footer, kPartFormatVersion);
  footer.append(kPartMagic, 8);
  SL_RETURN_IF_ERROR(file->Append(stored));
  SL_RETURN_IF_ERROR(file->Append(footer));
  SL_RETURN_IF_ERROR(file->Sync());
  SL_RETURN_IF_ERROR(file->Close());
  SL_RETURN_IF_ERROR(RenameFile(path_ + ".tmp", path_));
  SL_RETURN_IF_ERROR(SyncDir(std::filesystem::path(path_).parent_path().string()));
  return meta;
}

// The text a row holds (body and string attributes): what block_bytes counts.
static size_t TextBytes(const LogRecord& r) {
  size_t b = r.body.size();
  for (const auto& a : r.attrs) b += a.key.size() + a.value.str.size();
  return b;
}

StatusOr<PartMeta> WritePart(const std::string& path, std::vector<const LogRecord*> rows,
                             const PartWriterOptions& opt, const std::vector<uint64_t>& replaces,
                             uint64_t wal_seq) {
  // Dictionaries: distinct values, sorted, so ids follow value order and keys can be found by
  // binary search at read time. Consecutive rows usually repeat values: skip those cheaply.
  DictBuilder svc_d, env_d, host_d, key_d;
  const LogRecord* prev = nullptr;
  for (const LogRecord* r : rows) {
    if (!prev || prev->service != r->service) svc_d.Add(r->service);
    if (!prev || prev->env != r->env) env_d.Add(r->env);
    if (!prev || prev->host != r->host) host_d.Add(r->host);
    for (size_t j = 0; j < r->attrs.size(); ++j)
      if (!prev || j >= prev->attrs.size() || prev->attrs[j].key != r->attrs[j].key)
        key_d.Add(r->attrs[j].key);
    prev = r;
  }
  PartMeta dicts;
  dicts.services = svc_d.Sorted();
  dicts.envs = env_d.Sorted();
  dicts.hosts = host_d.Sorted();
  dicts.keys = key_d.Sorted();
  // Sort by (service, ts) on integers: service ids first.
  std::vector<std::pair<uint32_t, int64_t>> sort_key(rows.size());
  {
    DictLookup svc(dicts.services);
    for (size_t i = 0; i < rows.size(); ++i)
      sort_key[i] = {svc.Id(rows[i]->service), rows[i]->ts_ns};
  }
  std::vector<uint32_t> order(rows.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return sort_key[a] < sort_key[b]; });
  std::vector<const LogRecord*> sorted(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) sorted[i] = rows[order[i]];
  SL_ASSIGN_OR_RETURN(auto w, PartWriter::Create(path, std::move(dicts), opt));
  size_t start = 0, bytes = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    bytes += TextBytes(*sorted[i]);
    if (i + 1 - start == opt.block_rows || bytes >= opt.block_bytes) {
      SL_RETURN_IF_ERROR(w->AddBlock(sorted, start, i + 1));
      start = i + 1;
      bytes = 0;
    }
  }
  if (start < sorted.size()) SL_RETURN_IF_ERROR(w->AddBlock(sorted, start, sorted.size()));
  return w->Finish(replaces, wal_seq);
}

StatusOr<PartMeta> MergeParts(const std::string& path,
                              const std::vector<std::shared_ptr<const PartReader>>& inputs,
                              const PartWriterOptions& opt, const std::vector<uint64_t>& replaces,
                              uint64_t wal_seq) {
  // Output dictionaries: the sorted union of the inputs'.
  PartMeta dicts;
  auto unite = [&](auto member, std::vector<std::string>* out) {
    std::vector<std::string> all;
    for (const auto& in : inputs) {
      const auto& d = in->meta().*member;
      all.insert(all.end(), d.begin(), d.end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    *out = std::move(all);
  };
  unite(&PartMeta::services, &dicts.services);
  unite(&PartMeta::envs, &dicts.envs);
  unite(&PartMeta::hosts, &dicts.hosts);
  unite(&PartMeta::keys, &dicts.keys);
  SL_ASSIGN_OR_RETURN(auto w, PartWriter::Create(path, std::move(dicts), opt));
  // k-way merge of the inputs, one decoded block per input at a time.
  struct Cursor {
    const PartReader* part;
    uint32_t next_block = 0;
    std::vector<LogRecord> rows;
    size_t pos = 0;
  };
  std::vector<Cursor> cur;
  for (const auto& in : inputs) cur.push_back(Cursor{in.get(), 0, {}, 0});
  LogScanSpec all;
  all.start_ns = INT64_MIN;
  ScanStats st;
  auto refill = [&](Cursor& c) -> Status {
    while (c.pos >= c.rows.size() && c.next_block < c.part->meta().blocks.size()) {
      c.rows.clear();
      c.pos = 0;
      SL_RETURN_IF_ERROR(c.part->ReadBlock(c.next_block++, all, &c.rows, &st));
    }
    return Status::OK();
  };
  for (auto& c : cur) SL_RETURN_IF_ERROR(refill(c));
  std::vector<LogRecord> out;
  size_t out_bytes = 0;
  out.reserve(opt.block_rows);
  std::vector<const LogRecord*> ptrs;
  auto flush_out = [&]() -> Status {
    ptrs.clear();
    for (const auto& r : out) ptrs.push_back(&r);
    SL_RETURN_IF_ERROR(w->AddBlock(ptrs, 0, ptrs.size()));
    out.clear();
    return Status::OK();
  };
  while (true) {
    Cursor* best = nullptr;
    for (auto& c : cur) {
      if (c.pos >= c.rows.size()) continue;
      const LogRecord& r = c.rows[c.pos];
      if (!best) {
        best = &c;
        continue;
      }
      const LogRecord& b = best->rows[best->pos];
      int cmp = r.service.compare(b.service);
      if (cmp < 0 || (cmp == 0 && r.ts_ns < b.ts_ns)) best = &c;
    }
    if (!best) break;
    out.push_back(std::move(best->rows[best->pos++]));
    out_bytes += TextBytes(out.back());
    SL_RETURN_IF_ERROR(refill(*best));
    if (out.size() == opt.block_rows || out_bytes >= opt.block_bytes) {
      SL_RETURN_IF_ERROR(flush_out());
      out_bytes = 0;
    }
  }
  if (!out.empty()) SL_RETURN_IF_ERROR(flush_out());
  return w->Finish(replaces, wal_seq);
}

StatusOr<std::shared_ptr<PartReader>> PartReader::Open(const std::string& path) {
  SL_ASSIGN_OR_RETURN(auto f, RandomAccessFile::Open(path));
  std::shared_ptr<PartReader> r(new PartReader(std::move(f)));
  Status s = r->LoadMeta();
  if (!s.ok()) return s.Annotate("part " + path);
  return r;
}

Status PartReader::LoadMeta() {
  const uint64_t size = file_->size();
  if (size < 8 + kFooterSize) return Corruption("file too small");
  std::string head, footer;
  SL_RETURN_IF_ERROR(file_->Read(0, 8, &head));
  if (std::memcmp(head.data(), kPartMagic, 8) != 0) return Corruption("bad magic");
  SL_RETURN_IF_ERROR(file_->Read(size - kFooterSize, kFooterSize, &footer));
  if (std::memcmp(footer.data() + 24, kPartMagic, 8) != 0) return Corruption("bad footer magic");
  uint64_t meta_off = DecodeFixed64(footer.data());
  uint32_t meta_len = DecodeFixed32(footer.data() + 8);
  uint32_t meta_raw = DecodeFixed32(footer.data() + 12);
  uint32_t meta_crc = DecodeFixed32(footer.data() + 16);
  uint32_t version = DecodeFixed32(footer.data() + 20);
  if (version < kOldestPartFormatVersion || version > kPartFormatVersion)
    return Corruption("unsupported part format version " + std::to_string(version));
  if (meta_off < 8 || meta_off + meta_len != size - kFooterSize)
    return Corruption("bad meta offset");
  std::string stored, raw;
  SL_RETURN_IF_ERROR(file_->Read(meta_off, meta_len, &stored));
  if (Crc32(stored) != meta_crc) return Corruption("meta checksum mismatch");
  if (meta_raw > (1u << 30)) return Corruption("meta too large");
  SL_RETURN_IF_ERROR(Decompress(stored, kCodecZstd, meta_raw, &raw));
  if (!DecodeMeta(raw, &meta_)) return Corruption("malformed meta");
  for (const auto& b : meta_.blocks) {
    for (const auto& c : b.columns)
      if (c.offset + c.stored_len > meta_off) return Corruption("column outside data area");
    if (b.bloom_offset + b.bloom_len > meta_off) return Corruption("bloom outside data area");
  }
  return Status::OK();
}

Status PartReader::ReadColumn(const ColumnMeta& c, std::string* raw, ScanStats* stats) const {
  std::string stored;
  SL_RETURN_IF_ERROR(file_->Read(c.offset, c.stored_len, &stored));
  if (stats) stats->bytes_read += c.stored_len;
  if (Crc32(stored) != c.crc) return Corruption("column checksum mismatch in " + file_->path());
  return Decompress(stored, c.codec, c.raw_len, raw);
}

Status PartReader::LookupTrace(const model::TraceId& id, std::vector<uint32_t>* blocks) const {
  const auto& pages = meta_.trace_pages;
  std::array<uint8_t, kTraceKeyBytes> key;
  std::memcpy(key.data(), id.bytes.data(), kTraceKeyBytes);
  // Last page whose first key <= key.
  auto it = std::upper_bound(pages.begin(), pages.end(), key,
                             [](const std::array<uint8_t, kTraceKeyBytes>& v,
                                const TraceIndexPage& p) { return v < p.first; });
  if (it == pages.begin()) return Status::OK();
  // An id can straddle pages; scan from the previous page while pages may hold it.
  for (auto p = std::prev(it);; --p) {
    std::string page;
    SL_RETURN_IF_ERROR(file_->Read(p->offset, 4 + p->count * kTraceEntry, &page));
    if (Crc32(std::string_view(page).substr(4)) != DecodeFixed32(page.data()))
      return Corruption("trace index checksum mismatch in " + file_->path());
    for (uint32_t i = 0; i < p->count; ++i) {
      const char* e = page.data() + 4 + i * kTraceEntry;
      if (std::memcmp(e, key.data(), kTraceKeyBytes) == 0)
        blocks->push_back(DecodeFixed32(e + kTraceKeyBytes));
    }
    if (p == pages.begin() || p->first != key) break;
  }
  std::sort(blocks->begin(), blocks->end());
  blocks->erase(std::unique(blocks->begin(), blocks->end()), blocks->end());
  return Status::OK();
}

namespace {
bool IsNumericOrBool(std::string_view v) {
  if (v == "true" || v == "false") return true;
  if (v.empty()) return false;
  size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
  bool digit = false;
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+')
      return false;
  }
  return digit || v == "NaN" || v == "+Inf" || v == "-Inf";
}
}  // namespace

Status PartReader::ReadBlooms(const BlockMeta& bm, std::string* buf, std::string_view* body,
                              std::string_view* fields) const {
  SL_RETURN_IF_ERROR(file_->Read(bm.bloom_offset, bm.bloom_len, buf));
  if (Crc32(*buf) != bm.bloom_crc) return Corruption("bloom checksum mismatch in " + path());
  *body = std::string_view(*buf).substr(0, bm.body_bloom_len);
  *fields = std::string_view(*buf).substr(bm.body_bloom_len);
  return Status::OK();
}

Status PartReader::Plan(const LogScanSpec& spec, std::vector<uint32_t>* out,
                        ScanStats* stats) const {
  stats->parts++;
  stats->blocks_total += meta_.blocks.size();
  if (meta_.max_ts < spec.start_ns || meta_.min_ts >= spec.end_ns) {
    stats->blocks_pruned_time += meta_.blocks.size();
    return Status::OK();
  }
  // Service and level restrictions from matchers.
  std::vector<bool> svc_ok(meta_.services.size(), true);
  uint8_t level_ok = 0xff;
  std::vector<uint32_t> trace_blocks;
  bool use_trace = false;
  std::vector<uint64_t> field_hashes;  // must be in the field filter
  std::vector<uint64_t> body_hashes;   // must be in the body filter
  std::vector<uint64_t> word_hashes;   // must be in one of them
  for (const auto& m : spec.matchers) {
    if (m.field == "service") {
      for (size_t i = 0; i < svc_ok.size(); ++i)
        svc_ok[i] = svc_ok[i] && m.Matches(meta_.services[i]);
    } else if (m.field == "level") {
      uint8_t mask = 0;
      for (int l = 0; l < model::kNumLevels; ++l)
        if (m.Matches(model::LevelName(static_cast<model::Level>(l)))) mask |= 1u << l;
      level_ok &= mask;
    } else if (m.field == "trace_id" && m.op == FieldMatcher::Op::kEq) {
      model::TraceId id;
      if (!model::DecodeHex(m.value, id.bytes.data(), 16)) {
        stats->blocks_pruned_index += meta_.blocks.size();
        return Status::OK();  // no stored trace id renders to this text
      }
      std::vector<uint32_t> tb;
      SL_RETURN_IF_ERROR(LookupTrace(id, &tb));
      if (use_trace) {
        std::vector<uint32_t> both;
        std::set_intersection(trace_blocks.begin(), trace_blocks.end(), tb.begin(), tb.end(),
                              std::back_inserter(both));
        trace_blocks.swap(both);
      } else {
        trace_blocks.swap(tb);
      }
      use_trace = true;
    } else if (m.op == FieldMatcher::Op::kEq && !m.value.empty() && !IsNumericOrBool(m.value) &&
               m.field != "span_id" && m.field != "env" && m.field != "host" && m.field != "body" &&
               m.field != "msg" && m.field != "message") {
      // A string attribute equal to the value contains all its tokens.
      ForEachTokenHash(m.value, [&](uint64_t h) { field_hashes.push_back(h); });
    }
  }
  for (const auto& c : spec.contains)
    for (const auto& t : InnerTokens(c)) body_hashes.push_back(TokenHash(t));
  for (const auto& w : spec.words)
    ForEachTokenHash(w, [&](uint64_t h) { word_hashes.push_back(h); });

  auto consider = [&](uint32_t b) -> Status {
    const BlockMeta& bm = meta_.blocks[b];
    if (bm.max_ts < spec.start_ns || bm.min_ts >= spec.end_ns) {
      stats->blocks_pruned_time++;
      return Status::OK();
    }
    bool svc = false;
    for (uint32_t s : bm.services) svc = svc || svc_ok[s];
    if (!svc || !(bm.level_mask & level_ok)) {
      stats->blocks_pruned_index++;
      return Status::OK();
    }
    if (!field_hashes.empty() || !body_hashes.empty() || !word_hashes.empty()) {
      std::string buf;
      std::string_view body, fields;
      SL_RETURN_IF_ERROR(ReadBlooms(bm, &buf, &body, &fields));
      bool ok = true;
      for (uint64_t h : field_hashes) ok = ok && BloomMayContain(fields, h);
      for (uint64_t h : body_hashes) ok = ok && BloomMayContain(body, h);
      for (uint64_t h : word_hashes)
        ok = ok && (BloomMayContain(body, h) || BloomMayContain(fields, h));
      if (!ok) {
        stats->blocks_pruned_bloom++;
        return Status::OK();
      }
    }
    out->push_back(b);
    return Status::OK();
  };
  if (use_trace) {
    stats->blocks_pruned_index += meta_.blocks.size() - trace_blocks.size();
    for (uint32_t b : trace_blocks) {
      if (b >= meta_.blocks.size()) return Corruption("trace index points past last block");
      SL_RETURN_IF_ERROR(consider(b));
    }
  } else {
    for (uint32_t b = 0; b < meta_.blocks.size(); ++b) SL_RETURN_IF_ERROR(consider(b));
  }
  return Status::OK();
}

namespace {

// Decodes columns of a block into a set of records. `rec[i]` is the record for row i or
// nullptr when the row is not wanted.
class BlockDecoder {
 public:
  BlockDecoder(const PartMeta& meta, const BlockMeta& bm) : meta_(meta), bm_(bm) {}

  Status Decode(uint32_t id, std::string_view raw, const std::vector<LogRecord*>& rec) {
    const size_t n = bm_.rows;
    Reader r(raw);
    switch (id) {
      case kColTs:
      case kColObserved: {
        int64_t prev = 0;
        for (size_t i = 0; i < n; ++i) {
          int64_t d;
          if (!r.GetVarsint64(&d)) return Bad(id);
          prev += d;
          if (rec[i]) (id == kColTs ? rec[i]->ts_ns : rec[i]->observed_ns) = prev;
        }
        return Status::OK();
      }
      case kColLevel:
      case kColSeverity: {
        if (raw.size() != n) return Bad(id);
        for (size_t i = 0; i < n; ++i) {
          uint8_t v = static_cast<uint8_t>(raw[i]);
          if (!rec[i]) continue;
          if (id == kColLevel) {
            if (v >= model::kNumLevels) return Bad(id);
            rec[i]->level = static_cast<model::Level>(v);
          } else {
            rec[i]->severity_number = v;
          }
        }
        return Status::OK();
      }
      case kColService:
      case kColEnv:
      case kColHost: {
        const auto& dict = id == kColService ? meta_.services
                           : id == kColEnv   ? meta_.envs
                                             : meta_.hosts;
        for (size_t i = 0; i < n; ++i) {
          uint64_t v;
          if (!r.GetVarint64(&v) || v >= dict.size()) return Bad(id);
          if (!rec[i]) continue;
          std::string& dst = id == kColService ? rec[i]->service
                             : id == kColEnv   ? rec[i]->env
                                               : rec[i]->host;
          dst = dict[v];
        }
        return Status::OK();
      }
      case kColBody: {
        std::vector<uint64_t> lens(n);
        uint64_t total = 0;
        for (size_t i = 0; i < n; ++i) {
          if (!r.GetVarint64(&lens[i])) return Bad(id);
          total += lens[i];
        }
        if (total != r.remaining()) return Bad(id);
        const char* p = r.pos();
        for (size_t i = 0; i < n; ++i) {
          if (rec[i]) rec[i]->body.assign(p, lens[i]);
          p += lens[i];
        }
        return Status::OK();
      }
      case kColTrace: {
        std::vector<std::array<uint8_t, 16>> ids;
        if (!DecodeIdColumn<16>(raw, n, &ids)) return Bad(id);
        for (size_t i = 0; i < n; ++i)
          if (rec[i]) rec[i]->trace_id.bytes = ids[i];
        return Status::OK();
      }
      case kColSpan: {
        std::vector<std::array<uint8_t, 8>> ids;
        if (!DecodeIdColumn<8>(raw, n, &ids)) return Bad(id);
        for (size_t i = 0; i < n; ++i)
          if (rec[i]) rec[i]->span_id.bytes = ids[i];
        return Status::OK();
      }
      default:
        break;
    }
    if (id < kColAttrBase || id - kColAttrBase >= meta_.keys.size()) return Bad(id);
    const std::string& key = meta_.keys[id - kColAttrBase];
    std::string_view types;
    if (!r.GetBytes(n, &types)) return Bad(id);
    for (size_t i = 0; i < n; ++i) {
      uint8_t t = static_cast<uint8_t>(types[i]);
      if (t == 0) continue;
      switch (static_cast<model::AttrValue::Type>(t)) {
        case model::AttrValue::Type::kString: {
          std::string_view s;
          if (!r.GetLengthPrefixed(&s)) return Bad(id);
          if (rec[i]) rec[i]->attrs.push_back({key, model::AttrValue::String(s)});
          break;
        }
        case model::AttrValue::Type::kInt: {
          int64_t x;
          if (!r.GetVarsint64(&x)) return Bad(id);
          if (rec[i]) rec[i]->attrs.push_back({key, model::AttrValue::Int(x)});
          break;
        }
        case model::AttrValue::Type::kDouble: {
          uint64_t bits;
          if (!r.GetFixed64(&bits)) return Bad(id);
          double d;
          std::memcpy(&d, &bits, 8);
          if (rec[i]) rec[i]->attrs.push_back({key, model::AttrValue::Double(d)});
          break;
        }
        case model::AttrValue::Type::kBool: {
          uint8_t b;
          if (!r.GetByte(&b)) return Bad(id);
          if (rec[i]) rec[i]->attrs.push_back({key, model::AttrValue::Bool(b != 0)});
          break;
        }
        default:
          return Bad(id);
      }
    }
    return Status::OK();
  }

 private:
  Status Bad(uint32_t id) { return Corruption("malformed column " + std::to_string(id)); }
  const PartMeta& meta_;
  const BlockMeta& bm_;
};

// Views of the n bodies in a raw body column (lengths, then bytes).
bool SplitBodyColumn(std::string_view raw, size_t n, std::vector<std::string_view>* out) {
  Reader r(raw);
  std::vector<uint64_t> lens(n);
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!r.GetVarint64(&lens[i])) return false;
    total += lens[i];
  }
  if (total != r.remaining()) return false;
  const char* p = r.pos();
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    (*out)[i] = std::string_view(p, lens[i]);
    p += lens[i];
  }
  return true;
}

// Calls fn(row, value) for every string value of a raw attribute column.
template <typename F>
bool ForEachStringValue(std::string_view raw, size_t n, F&& fn) {
  Reader r(raw);
  std::string_view types;
  if (!r.GetBytes(n, &types)) return false;
  for (size_t i = 0; i < n; ++i) {
    switch (static_cast<uint8_t>(types[i])) {
      case 0:
        break;
      case 1: {
        std::string_view v;
        if (!r.GetLengthPrefixed(&v)) return false;
        fn(i, v);
        break;
      }
      case 2: {
        int64_t x;
        if (!r.GetVarsint64(&x)) return false;
        break;
      }
      case 3: {
        uint64_t x;
        if (!r.GetFixed64(&x)) return false;
        break;
      }
      case 4: {
        uint8_t b;
        if (!r.GetByte(&b)) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

bool IsBuiltinField(std::string_view f) {
  return f == "service" || f == "level" || f == "env" || f == "host" || f == "trace_id" ||
         f == "span_id" || f == "body" || f == "msg" || f == "message";
}

}  // namespace

Status PartReader::ReadBlock(uint32_t b, const LogScanSpec& spec, std::vector<LogRecord>* out,
                             ScanStats* stats) const {
  if (b >= meta_.blocks.size()) return InvalidArgument("no such block");
  const BlockMeta& bm = meta_.blocks[b];
  const size_t n = bm.rows;
  stats->blocks_read++;
  stats->rows_scanned += n;
  auto find_col = [&](uint32_t id) -> const ColumnMeta* {
    for (const auto& c : bm.columns)
      if (c.id == id) return &c;
    return nullptr;
  };
  BlockDecoder dec(meta_, bm);
  std::string raw;
  // Phase 1: time filter.
  std::vector<LogRecord> recs(n);
  std::vector<LogRecord*> ptr(n);
  for (size_t i = 0; i < n; ++i) ptr[i] = &recs[i];
  const ColumnMeta* ts = find_col(kColTs);
  if (!ts) return Corruption("block without ts column in " + path());
  SL_RETURN_IF_ERROR(ReadColumn(*ts, &raw, stats));
  SL_RETURN_IF_ERROR(dec.Decode(kColTs, raw, ptr));
  size_t alive = 0;
  for (size_t i = 0; i < n; ++i) {
    if (recs[i].ts_ns < spec.start_ns || recs[i].ts_ns >= spec.end_ns)
      ptr[i] = nullptr;
    else
      ++alive;
  }
  if (alive == 0) return Status::OK();
  LogScanSpec residual;
  const LogScanSpec* eff = &spec;
  // Phase 1b: substring and word filters straight on the raw column bytes, so that rows
  // which fail them are never materialized (a rare-token search decodes whole blocks).
  if (!spec.contains.empty() || !spec.words.empty()) {
    const ColumnMeta* body = find_col(kColBody);
    if (!body) return Corruption("block without body column in " + path());
    SL_RETURN_IF_ERROR(ReadColumn(*body, &raw, stats));
    std::vector<std::string_view> views;
    if (!SplitBodyColumn(raw, n, &views)) return Corruption("malformed body column in " + path());
    const size_t nw = std::min<size_t>(spec.words.size(), 64);
    const uint64_t all = nw == 64 ? ~0ull : (1ull << nw) - 1;
    std::vector<uint64_t> found(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!ptr[i]) continue;
      for (const auto& c : spec.contains)
        if (views[i].find(c) == std::string_view::npos) {
          ptr[i] = nullptr;
          break;
        }
      if (!ptr[i]) continue;
      for (size_t k = 0; k < nw; ++k)
        if (ContainsWord(views[i], spec.words[k])) found[i] |= 1ull << k;
    }
    // Field columns are only worth decoding if some word may be in a field value.
    bool words_in_fields = false;
    if (nw > 0) {
      std::string buf;
      std::string_view bbody, bfields;
      SL_RETURN_IF_ERROR(ReadBlooms(bm, &buf, &bbody, &bfields));
      for (size_t k = 0; k < nw && !words_in_fields; ++k)
        words_in_fields = BloomMayContain(bfields, TokenHash(spec.words[k]));
    }
    if (nw > 0 && words_in_fields) {
      std::string attr_raw;
      for (const auto& c : bm.columns) {
        if (c.id < kColAttrBase) continue;
        if (c.id - kColAttrBase < meta_.keys.size() &&
            !IsWordSearched(meta_.keys[c.id - kColAttrBase])) {
          continue;
        }
        SL_RETURN_IF_ERROR(ReadColumn(c, &attr_raw, stats));
        if (!ForEachStringValue(attr_raw, n, [&](size_t i, std::string_view v) {
              if (!ptr[i] || found[i] == all) return;
              for (size_t k = 0; k < nw; ++k)
                if (!(found[i] >> k & 1) && ContainsWord(v, spec.words[k])) found[i] |= 1ull << k;
            }))
          return Corruption("malformed attribute column in " + path());
      }
      for (size_t i = 0; i < n; ++i)
        if (ptr[i] && found[i] != all) ptr[i] = nullptr;
    }
    if (nw > 0 && !words_in_fields)
      for (size_t i = 0; i < n; ++i)
        if (ptr[i] && found[i] != all) ptr[i] = nullptr;
    alive = 0;
    for (size_t i = 0; i < n; ++i) alive += ptr[i] != nullptr;
    if (alive == 0) return Status::OK();
    // Words and substrings are now checked exactly; later phases need not see them.
    residual = spec;
    residual.words.clear();
    residual.contains.clear();
    eff = &residual;
  }
  // Phase 2: columns needed to evaluate the predicates.
  std::vector<uint32_t> filter_cols = {kColService, kColLevel};
  bool all_string_attrs = !eff->words.empty();
  if (!eff->contains.empty() || !eff->words.empty()) filter_cols.push_back(kColBody);
  for (const auto& m : eff->matchers) {
    if (m.field == "env")
      filter_cols.push_back(kColEnv);
    else if (m.field == "host")
      filter_cols.push_back(kColHost);
    else if (m.field == "trace_id")
      filter_cols.push_back(kColTrace);
    else if (m.field == "span_id")
      filter_cols.push_back(kColSpan);
    else if (m.field == "body" || m.field == "msg" || m.field == "message")
      filter_cols.push_back(kColBody);
    else if (!IsBuiltinField(m.field)) {
      auto it = std::lower_bound(meta_.keys.begin(), meta_.keys.end(), m.field);
      if (it != meta_.keys.end() && *it == m.field)
        filter_cols.push_back(kColAttrBase + static_cast<uint32_t>(it - meta_.keys.begin()));
    }
  }
  if (all_string_attrs) {
    for (const auto& c : bm.columns)
      if (c.id >= kColAttrBase) filter_cols.push_back(c.id);
  }
  std::sort(filter_cols.begin(), filter_cols.end());
  filter_cols.erase(std::unique(filter_cols.begin(), filter_cols.end()), filter_cols.end());
  for (uint32_t id : filter_cols) {
    const ColumnMeta* c = find_col(id);
    if (!c) continue;  // attribute absent in this block
    SL_RETURN_IF_ERROR(ReadColumn(*c, &raw, stats));
    SL_RETURN_IF_ERROR(dec.Decode(id, raw, ptr));
  }
  size_t matched = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!ptr[i]) continue;
    if (RecordMatches(recs[i], *eff))
      ++matched;
    else
      ptr[i] = nullptr;
  }
  if (matched == 0) return Status::OK();
  stats->rows_matched += matched;
  // Phase 3: projection of the remaining columns, for matched rows only.
  std::vector<uint32_t> proj;
  if (spec.need_meta) proj.insert(proj.end(), {kColObserved, kColSeverity, kColEnv, kColHost});
  if (spec.need_body) proj.push_back(kColBody);
  if (spec.need_ids) proj.insert(proj.end(), {kColTrace, kColSpan});
  if (spec.need_attrs)
    for (const auto& c : bm.columns)
      if (c.id >= kColAttrBase) proj.push_back(c.id);
  for (uint32_t id : proj) {
    if (std::binary_search(filter_cols.begin(), filter_cols.end(), id)) continue;
    const ColumnMeta* c = find_col(id);
    if (!c) continue;
    SL_RETURN_IF_ERROR(ReadColumn(*c, &raw, stats));
    SL_RETURN_IF_ERROR(dec.Decode(id, raw, ptr));
  }
  if (matched == n && out->empty()) {
    out->swap(recs);
    return Status::OK();
  }
  out->reserve(out->size() + matched);
  for (size_t i = 0; i < n; ++i)
    if (ptr[i]) out->push_back(std::move(recs[i]));
  return Status::OK();
}

Status PartReader::ReadBlockKeys(uint32_t b, const LogScanSpec& spec, uint8_t key_mask,
                                 KeyedRows* out, ScanStats* stats) const {
  if (b >= meta_.blocks.size()) return InvalidArgument("no such block");
  bool fast = spec.contains.empty() && spec.words.empty() && meta_.services.size() < (1u << 20) &&
              meta_.envs.size() < (1u << 20) && meta_.hosts.size() < (1u << 20) &&
              meta_.hosts.size() < (1u << 19);
  for (const auto& m : spec.matchers)
    fast = fast &&
           (m.field == "service" || m.field == "level" || m.field == "env" || m.field == "host");
  KeyIndex index;
  for (uint32_t i = 0; i < out->keys.size(); ++i) index.emplace(out->keys[i], i);
  if (!fast) {
    LogScanSpec narrow = spec;
    narrow.need_body = narrow.need_attrs = narrow.need_ids = false;
    narrow.need_meta = (key_mask & (kKeyEnv | kKeyHost)) != 0;
    std::vector<LogRecord> rows;
    SL_RETURN_IF_ERROR(ReadBlock(b, narrow, &rows, stats));
    for (const auto& r : rows) AppendRecordKey(r, key_mask, &index, out);
    return Status::OK();
  }
  const BlockMeta& bm = meta_.blocks[b];
  const size_t n = bm.rows;
  stats->blocks_read++;
  stats->rows_scanned += n;
  // Which dictionary entries pass the matchers.
  std::vector<uint8_t> svc_ok(meta_.services.size(), 1), env_ok(meta_.envs.size(), 1),
      host_ok(meta_.hosts.size(), 1);
  uint8_t level_ok = 0xff;
  bool need_env = key_mask & kKeyEnv, need_host = key_mask & kKeyHost;
  for (const auto& m : spec.matchers) {
    if (m.field == "service") {
      for (size_t i = 0; i < svc_ok.size(); ++i) svc_ok[i] &= m.Matches(meta_.services[i]);
    } else if (m.field == "env") {
      need_env = true;
      for (size_t i = 0; i < env_ok.size(); ++i) env_ok[i] &= m.Matches(meta_.envs[i]);
    } else if (m.field == "host") {
      need_host = true;
      for (size_t i = 0; i < host_ok.size(); ++i) host_ok[i] &= m.Matches(meta_.hosts[i]);
    } else {  // level
      uint8_t mask = 0;
      for (int l = 0; l < model::kNumLevels; ++l)
        if (m.Matches(model::LevelName(static_cast<model::Level>(l)))) mask |= 1u << l;
      level_ok &= mask;
    }
  }
  auto column = [&](uint32_t id, std::string* raw) -> Status {
    for (const auto& c : bm.columns)
      if (c.id == id) return ReadColumn(c, raw, stats);
    return Corruption("block without column " + std::to_string(id) + " in " + path());
  };
  auto ids = [&](const std::string& raw, size_t dict_size, std::vector<uint32_t>* v) {
    Reader r(raw);
    v->resize(n);
    for (size_t i = 0; i < n; ++i) {
      uint64_t x;
      if (!r.GetVarint64(&x) || x >= dict_size) return false;
      (*v)[i] = static_cast<uint32_t>(x);
    }
    return true;
  };
  std::string ts_raw, svc_raw, lvl_raw, env_raw, host_raw;
  SL_RETURN_IF_ERROR(column(kColTs, &ts_raw));
  SL_RETURN_IF_ERROR(column(kColService, &svc_raw));
  SL_RETURN_IF_ERROR(column(kColLevel, &lvl_raw));
  if (need_env) SL_RETURN_IF_ERROR(column(kColEnv, &env_raw));
  if (need_host) SL_RETURN_IF_ERROR(column(kColHost, &host_raw));
  std::vector<uint32_t> svc, env, host;
  if (!ids(svc_raw, meta_.services.size(), &svc) || lvl_raw.size() != n ||
      (need_env && !ids(env_raw, meta_.envs.size(), &env)) ||
      (need_host && !ids(host_raw, meta_.hosts.size(), &host)))
    return Corruption("malformed dictionary column in " + path());
  Reader tr(ts_raw);
  int64_t ts = 0;
  uint64_t prev_code = ~0ull;
  uint32_t prev_key = 0;
  std::unordered_map<uint64_t, uint32_t> local;  // packed ids -> key index
  for (size_t i = 0; i < n; ++i) {
    int64_t d;
    if (!tr.GetVarsint64(&d)) return Corruption("malformed ts column in " + path());
    ts += d;
    const uint8_t lvl = static_cast<uint8_t>(lvl_raw[i]);
    if (lvl >= model::kNumLevels) return Corruption("bad level in " + path());
    if (ts < spec.start_ns || ts >= spec.end_ns || !svc_ok[svc[i]] || !(level_ok >> lvl & 1) ||
        (need_env && !env_ok[env[i]]) || (need_host && !host_ok[host[i]]))
      continue;
    const uint64_t code = ((key_mask & kKeyService) ? uint64_t{svc[i]} : 0) |
                          ((key_mask & kKeyLevel) ? uint64_t{lvl} << 20 : 0) |
                          ((key_mask & kKeyEnv) ? uint64_t{env[i]} << 24 : 0) |
                          ((key_mask & kKeyHost) ? uint64_t{host[i]} << 44 : 0);
    if (code != prev_code) {
      auto it = local.find(code);
      if (it == local.end()) {
        std::array<std::string, 4> k;
        if (key_mask & kKeyService) k[0] = meta_.services[svc[i]];
        if (key_mask & kKeyLevel)
          k[1] = std::string(model::LevelName(static_cast<model::Level>(lvl)));
        if (key_mask & kKeyEnv) k[2] = meta_.envs[env[i]];
        if (key_mask & kKeyHost) k[3] = meta_.hosts[host[i]];
        auto [git, inserted] = index.emplace(k, static_cast<uint32_t>(out->keys.size()));
        if (inserted) out->keys.push_back(std::move(k));
        it = local.emplace(code, git->second).first;
      }
      prev_code = code;
      prev_key = it->second;
    }
    out->ts.push_back(ts);
    out->key.push_back(prev_key);
    stats->rows_matched++;
  }
  return Status::OK();
}

Status PartReader::ReadAll(std::vector<LogRecord>* out) const {
  LogScanSpec all;
  all.start_ns = INT64_MIN;
  ScanStats st;
  for (uint32_t b = 0; b < meta_.blocks.size(); ++b)
    SL_RETURN_IF_ERROR(ReadBlock(b, all, out, &st));
  return Status::OK();
}

}  // namespace sightline::storage
