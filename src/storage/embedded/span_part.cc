#include "storage/embedded/span_part.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "base/coding.h"
#include "storage/embedded/bloom.h"
#include "storage/embedded/span_codec.h"
#include "storage/embedded/util.h"

namespace sightline::storage {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'S', 'P', 'A', 'N', '0', '1'};
constexpr size_t kFooterSize = 32;
constexpr size_t kSummaryRowBytes = 16 + 8 + 8 + 8 + 8 + 4 + 4 + 1 + 1;
constexpr int kBloomBitsPerKey = 10;
constexpr uint32_t kIndexChunkEntries = 4096;
constexpr size_t kIndexEntryBytes = 16 + 8 + 8 + 4 + 4 + 2 + 1 + 1;

void PutBlob(const SpanBlockMeta::Blob& b, std::string* out) {
  PutVarint64(out, b.offset);
  PutVarint64(out, b.stored_len);
  PutVarint64(out, b.raw_len);
  PutFixed32(out, b.crc);
  out->push_back(static_cast<char>(b.codec));
}

bool GetBlob(Reader* in, SpanBlockMeta::Blob* b) {
  uint64_t off, len, raw;
  if (!in->GetVarint64(&off) || !in->GetVarint64(&len) || !in->GetVarint64(&raw) ||
      !in->GetFixed32(&b->crc) || !in->GetByte(&b->codec)) {
    return false;
  }
  if (len > UINT32_MAX || raw > UINT32_MAX) return false;
  b->offset = off;
  b->stored_len = static_cast<uint32_t>(len);
  b->raw_len = static_cast<uint32_t>(raw);
  return true;
}

void PutStrings(const std::vector<std::string>& v, std::string* out) {
  PutVarint64(out, v.size());
  for (const auto& s : v) PutLengthPrefixed(out, s);
}

bool GetStrings(Reader* in, std::vector<std::string>* v) {
  uint64_t n;
  if (!in->GetVarint64(&n) || n > in->remaining()) return false;
  v->resize(n);
  for (auto& s : *v) {
    std::string_view sv;
    if (!in->GetLengthPrefixed(&sv)) return false;
    s.assign(sv);
  }
  return true;
}

void EncodeMeta(const SpanPartMeta& m, std::string* out) {
  PutVarint64(out, kSpanPartFormatVersion);
  PutVarint64(out, m.spans);
  PutVarsint64(out, m.min_start);
  PutVarsint64(out, m.max_start);
  PutStrings(m.services, out);
  PutStrings(m.names, out);
  PutVarint64(out, m.replaces.size());
  for (uint64_t r : m.replaces) PutVarint64(out, r);
  PutVarint64(out, m.wal_seq);
  PutBlob(m.rollups, out);
  PutBlob(m.bloom, out);
  PutVarint64(out, m.index.size());
  for (const auto& c : m.index) {
    PutVarint64(out, c.service);
    PutVarsint64(out, c.max_start);
    PutVarsint64(out, c.min_start);
    PutVarint64(out, c.entries);
    PutBlob(c.blob, out);
  }
  PutVarint64(out, m.blocks.size());
  for (const auto& b : m.blocks) {
    out->append(reinterpret_cast<const char*>(b.first_trace.bytes.data()), 16);
    out->append(reinterpret_cast<const char*>(b.last_trace.bytes.data()), 16);
    PutVarsint64(out, b.min_start);
    PutVarsint64(out, b.max_start);
    PutVarint64(out, b.rows);
    PutFixed64(out, b.service_mask);
    PutBlob(b.summary, out);
    PutBlob(b.payload, out);
  }
}

bool DecodeMeta(std::string_view raw, SpanPartMeta* m) {
  Reader in(raw);
  uint64_t version, n;
  if (!in.GetVarint64(&version) || version != kSpanPartFormatVersion) return false;
  if (!in.GetVarint64(&m->spans) || !in.GetVarsint64(&m->min_start) ||
      !in.GetVarsint64(&m->max_start) || !GetStrings(&in, &m->services) ||
      !GetStrings(&in, &m->names) || !in.GetVarint64(&n) || n > in.remaining()) {
    return false;
  }
  m->replaces.resize(n);
  for (auto& r : m->replaces) {
    if (!in.GetVarint64(&r)) return false;
  }
  if (!in.GetVarint64(&m->wal_seq)) return false;
  if (!GetBlob(&in, &m->rollups) || !GetBlob(&in, &m->bloom)) return false;
  if (!in.GetVarint64(&n) || n > in.remaining()) return false;
  m->index.resize(n);
  uint64_t indexed = 0;
  for (auto& c : m->index) {
    uint64_t svc, entries;
    if (!in.GetVarint64(&svc) || !in.GetVarsint64(&c.max_start) || !in.GetVarsint64(&c.min_start) ||
        !in.GetVarint64(&entries) || !GetBlob(&in, &c.blob) || svc >= m->services.size() ||
        entries == 0 || entries > kIndexChunkEntries ||
        c.blob.raw_len != entries * kIndexEntryBytes) {
      return false;
    }
    c.service = static_cast<uint32_t>(svc);
    c.entries = static_cast<uint32_t>(entries);
    indexed += entries;
  }
  if (!in.GetVarint64(&n) || n > in.remaining()) return false;
  m->blocks.resize(n);
  uint64_t total = 0;
  for (auto& b : m->blocks) {
    std::string_view s;
    uint64_t rows;
    if (!in.GetBytes(16, &s)) return false;
    std::memcpy(b.first_trace.bytes.data(), s.data(), 16);
    if (!in.GetBytes(16, &s)) return false;
    std::memcpy(b.last_trace.bytes.data(), s.data(), 16);
    if (!in.GetVarsint64(&b.min_start) || !in.GetVarsint64(&b.max_start) ||
        !in.GetVarint64(&rows) || rows == 0 || rows > (1u << 20) ||
        !in.GetFixed64(&b.service_mask) || !GetBlob(&in, &b.summary) || !GetBlob(&in, &b.payload)) {
      return false;
    }
    if (b.summary.raw_len != rows * kSummaryRowBytes) return false;
    b.rows = static_cast<uint32_t>(rows);
    total += rows;
  }
  return in.empty() && total == m->spans && indexed == m->spans;
}

}  // namespace

uint64_t TraceIdHash(const model::TraceId& id) {
  return XXH3_64bits(id.bytes.data(), id.bytes.size());
}

// ---------------------------------------------------------------------------------------
// Writer.

StatusOr<std::unique_ptr<SpanPartWriter>> SpanPartWriter::Create(const std::string& path,
                                                                 std::vector<std::string> services,
                                                                 std::vector<std::string> names,
                                                                 int zstd_level) {
  std::unique_ptr<SpanPartWriter> w(new SpanPartWriter());
  w->path_ = path;
  w->zstd_level_ = zstd_level;
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  w->meta_.services = std::move(services);
  w->meta_.names = std::move(names);
  SL_ASSIGN_OR_RETURN(w->file_, WritableFile::Open(path + ".tmp", /*truncate=*/true));
  return w;
}

SpanPartWriter::~SpanPartWriter() = default;

void SpanPartWriter::Abandon() {
  if (file_) {
    (void)file_->Close();
    file_.reset();
  }
  (void)RemoveFile(path_ + ".tmp");
}

uint32_t SpanPartWriter::ServiceIndex(const std::string& s) const {
  auto it = std::lower_bound(meta_.services.begin(), meta_.services.end(), s);
  return static_cast<uint32_t>(it - meta_.services.begin());
}

uint32_t SpanPartWriter::NameIndex(const std::string& s) const {
  auto it = std::lower_bound(meta_.names.begin(), meta_.names.end(), s);
  return static_cast<uint32_t>(it - meta_.names.begin());
}

Status SpanPartWriter::Add(const model::Span& s) {
  const uint32_t svc = ServiceIndex(s.service);
  const uint32_t name = NameIndex(s.name);
  if (svc >= meta_.services.size() || meta_.services[svc] != s.service ||
      name >= meta_.names.size() || meta_.names[name] != s.name) {
    return Internal("span part writer: service or name missing from the dictionary");
  }
  rows_.push_back(SpanSummaryRow{s.trace_id, s.span_id, s.parent_span_id, s.start_ns,
                                 s.duration_ns(), svc, name, s.kind, s.status_code});
  index_.push_back(PendingEntry{
      svc, SpanIndexEntry{s.trace_id, s.start_ns, s.duration_ns(), name,
                          static_cast<uint32_t>(meta_.blocks.size()),
                          static_cast<uint16_t>(rows_.size() - 1), s.kind, s.status_code}});
  offsets_.push_back(static_cast<uint32_t>(payload_.size()));
  EncodeSpan(s, resources_.Intern(s.resource), &payload_);
  if (trace_hashes_.empty() || rows_.size() == 1 ||
      !(rows_[rows_.size() - 2].trace_id == s.trace_id)) {
    trace_hashes_.push_back(TraceIdHash(s.trace_id));
  }
  // Blocks are cut by size only; a trace may continue in the next block (GetTrace reads every
  // block whose [first_trace, last_trace] range holds the id).
  if (rows_.size() >= kBlockRows || payload_.size() >= kBlockPayloadBytes) {
    return FlushBlock();
  }
  return Status::OK();
}

Status SpanPartWriter::FlushBlock() {
  if (rows_.empty()) return Status::OK();
  const size_t n = rows_.size();
  SpanBlockMeta b;
  b.first_trace = rows_.front().trace_id;
  b.last_trace = rows_.back().trace_id;
  b.rows = static_cast<uint32_t>(n);
  b.min_start = rows_.front().start_ns;
  b.max_start = rows_.front().start_ns;
  // Columnar summary: each field for all rows, then the next field (compresses better).
  std::string raw;
  raw.reserve(n * kSummaryRowBytes);
  for (const auto& r : rows_)
    raw.append(reinterpret_cast<const char*>(r.trace_id.bytes.data()), 16);
  for (const auto& r : rows_) raw.append(reinterpret_cast<const char*>(r.span_id.bytes.data()), 8);
  for (const auto& r : rows_) {
    raw.append(reinterpret_cast<const char*>(r.parent_span_id.bytes.data()), 8);
  }
  for (const auto& r : rows_) {
    PutFixed64(&raw, static_cast<uint64_t>(r.start_ns));
    b.min_start = std::min(b.min_start, r.start_ns);
    b.max_start = std::max(b.max_start, r.start_ns);
  }
  for (const auto& r : rows_) PutFixed64(&raw, static_cast<uint64_t>(r.duration_ns));
  for (const auto& r : rows_) {
    PutFixed32(&raw, r.service);
    b.service_mask |= 1ull << std::min<uint32_t>(r.service, 63);
  }
  for (const auto& r : rows_) PutFixed32(&raw, r.name);
  for (const auto& r : rows_) raw.push_back(static_cast<char>(r.kind));
  for (const auto& r : rows_) raw.push_back(static_cast<char>(r.status));

  std::string stored;
  auto write_blob = [&](const std::string& data, SpanBlockMeta::Blob* blob) -> Status {
    blob->codec = Compress(data, zstd_level_, &stored);
    blob->offset = file_->size();
    blob->stored_len = static_cast<uint32_t>(stored.size());
    blob->raw_len = static_cast<uint32_t>(data.size());
    blob->crc = Crc32(stored);
    return file_->Append(stored);
  };
  SL_RETURN_IF_ERROR(write_blob(raw, &b.summary));
  raw.clear();
  resources_.Encode(&raw);
  for (uint32_t off : offsets_) PutFixed32(&raw, off);
  raw.append(payload_);
  SL_RETURN_IF_ERROR(write_blob(raw, &b.payload));

  if (meta_.blocks.empty()) {
    meta_.min_start = b.min_start;
    meta_.max_start = b.max_start;
  } else {
    meta_.min_start = std::min(meta_.min_start, b.min_start);
    meta_.max_start = std::max(meta_.max_start, b.max_start);
  }
  meta_.spans += n;
  meta_.blocks.push_back(b);
  rows_.clear();
  offsets_.clear();
  payload_.clear();
  resources_.Clear();
  return Status::OK();
}

StatusOr<SpanPartMeta> SpanPartWriter::Finish(const RollupMap& rollups,
                                              const std::vector<uint64_t>& replaces,
                                              uint64_t wal_seq) {
  SL_RETURN_IF_ERROR(FlushBlock());
  meta_.replaces = replaces;
  meta_.wal_seq = wal_seq;
  std::string raw, stored;
  EncodeRollups(rollups, &raw);
  meta_.rollups.codec = Compress(raw, zstd_level_, &stored);
  meta_.rollups.offset = file_->size();
  meta_.rollups.stored_len = static_cast<uint32_t>(stored.size());
  meta_.rollups.raw_len = static_cast<uint32_t>(raw.size());
  meta_.rollups.crc = Crc32(stored);
  SL_RETURN_IF_ERROR(file_->Append(stored));

  // Search index: by service, newest first, in chunks that never mix services.
  std::sort(index_.begin(), index_.end(), [](const PendingEntry& a, const PendingEntry& b) {
    if (a.service != b.service) return a.service < b.service;
    return a.e.start_ns > b.e.start_ns;
  });
  for (size_t i = 0; i < index_.size();) {
    size_t j = i;
    while (j < index_.size() && j - i < kIndexChunkEntries &&
           index_[j].service == index_[i].service) {
      ++j;
    }
    SpanIndexChunkMeta c;
    c.service = index_[i].service;
    c.max_start = index_[i].e.start_ns;
    c.min_start = index_[j - 1].e.start_ns;
    c.entries = static_cast<uint32_t>(j - i);
    raw.clear();
    for (size_t k = i; k < j; ++k) {
      const SpanIndexEntry& e = index_[k].e;
      raw.append(reinterpret_cast<const char*>(e.trace_id.bytes.data()), 16);
      PutFixed64(&raw, static_cast<uint64_t>(e.start_ns));
      PutFixed64(&raw, static_cast<uint64_t>(e.duration_ns));
      PutFixed32(&raw, e.name);
      PutFixed32(&raw, e.block);
      raw.push_back(static_cast<char>(e.row & 0xff));
      raw.push_back(static_cast<char>(e.row >> 8));
      raw.push_back(static_cast<char>(e.kind));
      raw.push_back(static_cast<char>(e.status));
    }
    c.blob.codec = Compress(raw, zstd_level_, &stored);
    c.blob.offset = file_->size();
    c.blob.stored_len = static_cast<uint32_t>(stored.size());
    c.blob.raw_len = static_cast<uint32_t>(raw.size());
    c.blob.crc = Crc32(stored);
    SL_RETURN_IF_ERROR(file_->Append(stored));
    meta_.index.push_back(c);
    i = j;
  }
  index_.clear();
  index_.shrink_to_fit();

  BloomBuilder bloom;
  for (uint64_t h : trace_hashes_) bloom.Add(h);
  const std::string filter = bloom.Finish(kBloomBitsPerKey);
  meta_.bloom.codec = kCodecRaw;
  meta_.bloom.offset = file_->size();
  meta_.bloom.stored_len = meta_.bloom.raw_len = static_cast<uint32_t>(filter.size());
  meta_.bloom.crc = Crc32(filter);
  SL_RETURN_IF_ERROR(file_->Append(filter));

  raw.clear();
  EncodeMeta(meta_, &raw);
  stored = ZstdCompress(raw, 3);
  std::string footer;
  PutFixed64(&footer, file_->size());
  PutFixed32(&footer, static_cast<uint32_t>(stored.size()));
  PutFixed32(&footer, static_cast<uint32_t>(raw.size()));
  PutFixed32(&footer, Crc32(stored));
  PutFixed32(&footer, kSpanPartFormatVersion);
  footer.append(kMagic, 8);
  SL_RETURN_IF_ERROR(file_->Append(stored));
  SL_RETURN_IF_ERROR(file_->Append(footer));
  SL_RETURN_IF_ERROR(file_->Sync());
  SL_RETURN_IF_ERROR(file_->Close());
  file_.reset();
  SL_RETURN_IF_ERROR(RenameFile(path_ + ".tmp", path_));
  SL_RETURN_IF_ERROR(SyncDir(std::filesystem::path(path_).parent_path().string()));
  return meta_;
}

// ---------------------------------------------------------------------------------------
// Reader.

StatusOr<std::shared_ptr<SpanPartReader>> SpanPartReader::Open(const std::string& path) {
  std::shared_ptr<SpanPartReader> r(new SpanPartReader());
  SL_ASSIGN_OR_RETURN(r->file_, RandomAccessFile::Open(path));
  auto corrupt = [&](const char* what) { return Corruption(path + ": " + what); };
  if (r->file_->size() < kFooterSize) return corrupt("too short for a span part");
  std::string footer;
  SL_RETURN_IF_ERROR(r->file_->Read(r->file_->size() - kFooterSize, kFooterSize, &footer));
  if (std::memcmp(footer.data() + 24, kMagic, 8) != 0) return corrupt("bad span part magic");
  const uint64_t meta_off = DecodeFixed64(footer.data());
  const uint32_t meta_len = DecodeFixed32(footer.data() + 8);
  const uint32_t meta_raw = DecodeFixed32(footer.data() + 12);
  const uint32_t meta_crc = DecodeFixed32(footer.data() + 16);
  const uint32_t version = DecodeFixed32(footer.data() + 20);
  if (version != kSpanPartFormatVersion) return corrupt("unsupported span part version");
  if (meta_off + meta_len + kFooterSize != r->file_->size()) return corrupt("bad meta offset");
  std::string stored, raw;
  SL_RETURN_IF_ERROR(r->file_->Read(meta_off, meta_len, &stored));
  if (Crc32(stored) != meta_crc) return corrupt("meta checksum mismatch");
  if (!Decompress(stored, kCodecZstd, meta_raw, &raw).ok()) return corrupt("meta decode failed");
  if (!DecodeMeta(raw, &r->meta_)) return corrupt("malformed meta");
  for (const auto& b : r->meta_.blocks) {
    for (const auto* blob : {&b.summary, &b.payload}) {
      if (blob->offset + blob->stored_len > meta_off) return corrupt("block past the meta");
    }
  }
  for (const auto& c : r->meta_.index) {
    if (c.blob.offset + c.blob.stored_len > meta_off) return corrupt("index chunk past the meta");
  }
  SL_RETURN_IF_ERROR(r->ReadBlob(r->meta_.bloom, &r->bloom_));
  return r;
}

Status SpanPartReader::ReadBlob(const SpanBlockMeta::Blob& blob, std::string* raw) const {
  std::string stored;
  SL_RETURN_IF_ERROR(file_->Read(blob.offset, blob.stored_len, &stored));
  if (Crc32(stored) != blob.crc) return Corruption(path() + ": block checksum mismatch");
  Status st = Decompress(stored, blob.codec, blob.raw_len, raw);
  if (!st.ok()) return Corruption(path() + ": " + st.message());
  return Status::OK();
}

bool SpanPartReader::MayContainTrace(const model::TraceId& trace_id) const {
  return BloomMayContain(bloom_, TraceIdHash(trace_id));
}

Status SpanPartReader::ReadSummary(uint32_t b, std::vector<SpanSummaryRow>* rows) const {
  if (b >= meta_.blocks.size()) return InvalidArgument("block out of range");
  const SpanBlockMeta& bm = meta_.blocks[b];
  std::string raw;
  SL_RETURN_IF_ERROR(ReadBlob(bm.summary, &raw));
  const size_t n = bm.rows;
  rows->resize(n);
  const char* p = raw.data();
  for (size_t i = 0; i < n; ++i) std::memcpy((*rows)[i].trace_id.bytes.data(), p + 16 * i, 16);
  p += 16 * n;
  for (size_t i = 0; i < n; ++i) std::memcpy((*rows)[i].span_id.bytes.data(), p + 8 * i, 8);
  p += 8 * n;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy((*rows)[i].parent_span_id.bytes.data(), p + 8 * i, 8);
  }
  p += 8 * n;
  for (size_t i = 0; i < n; ++i) {
    (*rows)[i].start_ns = static_cast<int64_t>(DecodeFixed64(p + 8 * i));
  }
  p += 8 * n;
  for (size_t i = 0; i < n; ++i) {
    (*rows)[i].duration_ns = static_cast<int64_t>(DecodeFixed64(p + 8 * i));
  }
  p += 8 * n;
  for (size_t i = 0; i < n; ++i) {
    (*rows)[i].service = DecodeFixed32(p + 4 * i);
    if ((*rows)[i].service >= meta_.services.size()) {
      return Corruption(path() + ": service index out of range");
    }
  }
  p += 4 * n;
  for (size_t i = 0; i < n; ++i) {
    (*rows)[i].name = DecodeFixed32(p + 4 * i);
    if ((*rows)[i].name >= meta_.names.size()) return Corruption(path() + ": bad name index");
  }
  p += 4 * n;
  for (size_t i = 0; i < n; ++i) {
    const auto k = static_cast<uint8_t>(p[i]);
    const auto s = static_cast<uint8_t>(p[n + i]);
    if (k > 5 || s > 2) return Corruption(path() + ": bad kind or status");
    (*rows)[i].kind = static_cast<model::SpanKind>(k);
    (*rows)[i].status = static_cast<model::StatusCode>(s);
  }
  return Status::OK();
}

Status SpanPartReader::ReadPayload(uint32_t b, Payload* out) const {
  if (b >= meta_.blocks.size()) return InvalidArgument("block out of range");
  const SpanBlockMeta& bm = meta_.blocks[b];
  SL_RETURN_IF_ERROR(ReadBlob(bm.payload, &out->raw_));
  Reader in(out->raw_);
  if (!DecodeResourceTable(&in, &out->resources_)) {
    return Corruption(path() + ": malformed resource table");
  }
  const size_t base = out->raw_.size() - in.remaining();
  if (in.remaining() < 4ull * bm.rows) return Corruption(path() + ": short payload");
  out->rows_base_ = base + 4ull * bm.rows;
  out->offsets_.resize(bm.rows);
  for (uint32_t i = 0; i < bm.rows; ++i) {
    out->offsets_[i] = DecodeFixed32(out->raw_.data() + base + 4 * i);
    if (out->rows_base_ + out->offsets_[i] > out->raw_.size() ||
        (i > 0 && out->offsets_[i] < out->offsets_[i - 1])) {
      return Corruption(path() + ": bad payload offsets");
    }
  }
  out->path_ = path();
  return Status::OK();
}

Status SpanPartReader::Payload::Span(uint32_t row, model::Span* out) const {
  if (row >= offsets_.size()) return InvalidArgument("row out of range");
  const size_t begin = rows_base_ + offsets_[row];
  const size_t end = row + 1 < offsets_.size() ? rows_base_ + offsets_[row + 1] : raw_.size();
  Reader in(std::string_view(raw_).substr(begin, end - begin));
  if (!DecodeSpan(&in, resources_, out)) return Corruption(path_ + ": malformed span");
  return Status::OK();
}

bool SpanPartReader::Payload::TraceIdAt(uint32_t row, model::TraceId* id) const {
  if (row >= offsets_.size()) return false;
  const size_t begin = rows_base_ + offsets_[row];
  const size_t end = row + 1 < offsets_.size() ? rows_base_ + offsets_[row + 1] : raw_.size();
  if (end < begin + 16) return false;
  std::memcpy(id->bytes.data(), raw_.data() + begin, 16);
  return true;
}

Status SpanPartReader::ReadIndexChunk(uint32_t c, std::vector<SpanIndexEntry>* entries) const {
  if (c >= meta_.index.size()) return InvalidArgument("index chunk out of range");
  const SpanIndexChunkMeta& cm = meta_.index[c];
  std::string raw;
  SL_RETURN_IF_ERROR(ReadBlob(cm.blob, &raw));
  entries->resize(cm.entries);
  const char* p = raw.data();
  for (auto& e : *entries) {
    std::memcpy(e.trace_id.bytes.data(), p, 16);
    e.start_ns = static_cast<int64_t>(DecodeFixed64(p + 16));
    e.duration_ns = static_cast<int64_t>(DecodeFixed64(p + 24));
    e.name = DecodeFixed32(p + 32);
    e.block = DecodeFixed32(p + 36);
    e.row = static_cast<uint16_t>(static_cast<uint8_t>(p[40]) | static_cast<uint8_t>(p[41]) << 8);
    const auto k = static_cast<uint8_t>(p[42]);
    const auto st = static_cast<uint8_t>(p[43]);
    if (e.name >= meta_.names.size() || e.block >= meta_.blocks.size() ||
        e.row >= meta_.blocks[e.block].rows || k > 5 || st > 2) {
      return Corruption(path() + ": bad search index entry");
    }
    e.kind = static_cast<model::SpanKind>(k);
    e.status = static_cast<model::StatusCode>(st);
    p += kIndexEntryBytes;
  }
  return Status::OK();
}

Status SpanPartReader::ReadRollups(RollupMap* out) const {
  std::string raw;
  SL_RETURN_IF_ERROR(ReadBlob(meta_.rollups, &raw));
  if (!DecodeRollups(raw, out)) return Corruption(path() + ": malformed rollups");
  return Status::OK();
}

}  // namespace sightline::storage
