#include "storage/embedded/span_store.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "base/coding.h"
#include "base/file.h"
#include "base/metrics.h"
#include "storage/embedded/span_codec.h"
#include "storage/embedded/util.h"

namespace sightline::storage {
namespace {

struct SpanStoreMetrics {
  Counter* flushes =
      Metrics::Global().GetCounter("sightline_span_flushes_total", "Span memtable flushes");
  Counter* flushed =
      Metrics::Global().GetCounter("sightline_span_flushed_total", "Spans written by flushes");
  Counter* merges = Metrics::Global().GetCounter("sightline_span_merges_total", "Span merges");
  Counter* merged =
      Metrics::Global().GetCounter("sightline_span_merged_total", "Spans rewritten by merges");
  Counter* errors = Metrics::Global().GetCounter("sightline_span_storage_errors_total",
                                                 "Background span storage errors");
  Counter* backpressure = Metrics::Global().GetCounter(
      "sightline_span_backpressure_waits_total",
      "Span appends that waited because buffered spans exceeded 2x the memtable size");
  Counter* rollup_overflow = Metrics::Global().GetCounter(
      "sightline_span_rollup_overflow_total",
      "Spans counted in RED under __other__ (operation or service limit reached)");
  Counter* retention_drops = Metrics::Global().GetCounter(
      "sightline_span_retention_dropped_partitions_total", "Span day partitions dropped");
};
SpanStoreMetrics& M() {
  static SpanStoreMetrics m;
  return m;
}

int64_t MinuteOf(int64_t ns) { return ns >= 0 ? ns / kNsPerMinute : (ns + 1) / kNsPerMinute - 1; }

constexpr size_t kMaxCanonicalResources = 4096;
constexpr int kFlushZstdLevel = 1;  // flushes must keep up with ingest
constexpr int kMergeZstdLevel = 3;  // merged parts are what stays on disk

bool SpanLess(const model::Span* a, const model::Span* b) {
  if (a->trace_id != b->trace_id) return a->trace_id < b->trace_id;
  if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns;
  return std::memcmp(a->span_id.bytes.data(), b->span_id.bytes.data(), 8) < 0;
}

// WAL record payload: the batch's resource table, then varint span count and the span rows.
Status DecodeWalBatch(std::string_view payload, std::vector<model::Span>* spans,
                      uint64_t* resource_bytes) {
  Reader in(payload);
  std::vector<model::SharedAttributes> table;
  if (!DecodeResourceTable(&in, &table)) return Corruption("span wal: bad resource table");
  for (const auto& r : table) {
    if (r) *resource_bytes += AttributesBytes(*r);
  }
  uint64_t n;
  if (!in.GetVarint64(&n) || n > payload.size()) return Corruption("span wal: bad count");
  spans->resize(n);
  for (auto& s : *spans) {
    if (!DecodeSpan(&in, table, &s)) return Corruption("span wal: malformed span");
  }
  return Status::OK();
}

}  // namespace

std::string EmbeddedSpanStore::PartPath(int64_t day, uint64_t id) const {
  return Root() + "/" + DayName(day) + "/" + PartFileName(id, ".sps");
}

StatusOr<std::unique_ptr<EmbeddedSpanStore>> EmbeddedSpanStore::Open(
    const EmbeddedSpanStoreOptions& options) {
  std::unique_ptr<EmbeddedSpanStore> s(new EmbeddedSpanStore(options));
  SL_RETURN_IF_ERROR(CreateDirs(s->Root()));
  SL_RETURN_IF_ERROR(s->LoadParts());
  auto replay = [p = s.get()](std::string_view payload) -> Status {
    std::vector<model::Span> spans;
    uint64_t bytes = 0;
    SL_RETURN_IF_ERROR(DecodeWalBatch(payload, &spans, &bytes));
    for (const auto& sp : spans) bytes += SpanBytes(sp);
    std::lock_guard<std::mutex> l(p->mem_mu_);
    p->InsertLocked(std::make_shared<const std::vector<model::Span>>(std::move(spans)), bytes);
    return Status::OK();
  };
  WalOptions wo;
  wo.fsync = options.wal_fsync;
  // A crash after a flush wrote its part but before it deleted the WAL segments would
  // otherwise replay those spans (and count their rollups) twice.
  wo.skip_before = s->wal_covered_;
  SL_ASSIGN_OR_RETURN(s->wal_, Wal::Open(s->Root() + "/wal", wo, replay, &s->recovery_));
  if (options.background) {
    s->bg_ = std::thread([p = s.get()] { p->BackgroundLoop(); });
    s->merge_thread_ = std::thread([p = s.get()] { p->MergeLoop(); });
  }
  return s;
}

Status EmbeddedSpanStore::LoadParts() {
  SL_ASSIGN_OR_RETURN(auto days, ListDir(Root()));
  std::map<int64_t, std::vector<PartEntry>> parts;
  std::vector<std::pair<int64_t, uint64_t>> replaced;
  for (const auto& dn : days) {
    int64_t day;
    if (!ParseDayName(dn, &day)) continue;
    SL_ASSIGN_OR_RETURN(auto files, ListDir(Root() + "/" + dn));
    for (const auto& fn : files) {
      const std::string path = Root() + "/" + dn + "/" + fn;
      if (fn.size() > 4 && fn.compare(fn.size() - 4, 4, ".tmp") == 0) {
        SL_RETURN_IF_ERROR(RemoveFile(path));
        continue;
      }
      uint64_t id;
      if (!ParsePartFileName(fn, ".sps", &id)) continue;
      auto reader_or = SpanPartReader::Open(path);
      if (!reader_or.ok()) {
        if (reader_or.status().code() != Code::kCorruption) return reader_or.status();
        // One damaged part must not keep the server down: set it aside and report it.
        SL_RETURN_IF_ERROR(RenameFile(path, path + ".corrupt"));
        recovery_.problems.push_back("span part set aside as " + fn +
                                     ".corrupt: " + reader_or.status().message());
        M().errors->Inc();
        continue;
      }
      std::shared_ptr<const SpanPartReader> reader = std::move(reader_or).value();
      for (uint64_t r : reader->meta().replaces) replaced.emplace_back(day, r);
      wal_covered_ = std::max(wal_covered_, reader->meta().wal_seq);
      parts[day].push_back({id, reader});
      next_part_id_ = std::max(next_part_id_, id + 1);
    }
  }
  for (const auto& [day, id] : replaced) {
    for (auto& [d, v] : parts) {
      if (d != day) continue;
      auto it =
          std::find_if(v.begin(), v.end(), [id = id](const PartEntry& e) { return e.id == id; });
      if (it == v.end()) continue;
      const std::string path = it->reader->path();
      v.erase(it);
      SL_RETURN_IF_ERROR(RemoveFile(path));
    }
  }
  RollupMap rollups;
  for (const auto& [day, v] : parts) {
    for (const auto& e : v) SL_RETURN_IF_ERROR(e.reader->ReadRollups(&rollups));
  }
  {
    std::lock_guard<std::mutex> l(mem_mu_);
    rollups_ = std::move(rollups);
    for (const auto& [k, series] : rollups_) {
      if (k.kind == RollupKind::kRed) cardinality_.Known(k.a, k.b);
    }
  }
  std::lock_guard<std::mutex> l(parts_mu_);
  parts_ = std::move(parts);
  return Status::OK();
}

EmbeddedSpanStore::~EmbeddedSpanStore() { Close().IgnoreError(); }

bool EmbeddedSpanStore::StopBackground() {
  if (closed_.exchange(true)) return false;
  mem_cv_.notify_all();  // appenders waiting in backpressure see closed_
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  if (merge_thread_.joinable()) merge_thread_.join();
  return true;
}

Status EmbeddedSpanStore::Close() {
  if (!StopBackground()) return Status::OK();
  Status s = Flush();
  if (wal_ && s.ok()) s = wal_->SyncNow();
  return s;
}

void EmbeddedSpanStore::CloseWithoutFlushForTesting() { (void)StopBackground(); }

bool EmbeddedSpanStore::Writable() { return !closed_.load() && wal_ && !wal_->failed(); }

void EmbeddedSpanStore::InsertLocked(Chunk chunk, uint64_t bytes) {
  auto add = [this](const RollupKey& k, int64_t minute, const RollupCell& c) {
    rollups_[k][minute].Merge(c);
    rollup_delta_[k][minute].Merge(c);
  };
  for (const auto& s : *chunk) {
    RollupCell c;
    c.count = 1;
    c.errors = s.is_error() ? 1 : 0;
    c.sum_ns = s.duration_ns();
    c.latency.Add(s.duration_ns());
    bool overflowed = false;
    auto [service, operation] = cardinality_.Map(s.service, s.name, &overflowed);
    if (overflowed) M().rollup_overflow->Inc();
    add(RollupKey{RollupKind::kRed, *service, *operation, s.kind}, MinuteOf(s.start_ns), c);
    edges_.Observe(s, add);
  }
  if (mem_.empty()) mem_since_ns_ = opt_.clock->NowNs();
  mem_bytes_ += bytes;
  mem_spans_ += chunk->size();
  mem_.push_back(std::move(chunk));
}

model::SharedAttributes EmbeddedSpanStore::Canonical(const model::SharedAttributes& r,
                                                     uint64_t* new_bytes) {
  std::string key;
  for (const auto& a : *r) {
    PutLengthPrefixed(&key, a.key);
    PutLengthPrefixed(&key, a.value.str);
    key.push_back(static_cast<char>(a.value.type));
    if (a.value.type != model::AttrValue::Type::kString) {
      PutFixed64(&key, static_cast<uint64_t>(a.value.i));
    }
  }
  std::lock_guard<std::mutex> l(resources_mu_);
  auto it = resources_.find(key);
  if (it != resources_.end()) return it->second;
  if (resources_.size() >= kMaxCanonicalResources) resources_.clear();  // bounded; sharing resumes
  *new_bytes += AttributesBytes(*r);
  resources_.emplace(std::move(key), r);
  return r;
}

Status EmbeddedSpanStore::Append(std::vector<model::Span> spans) {
  if (spans.empty()) return Status::OK();
  // Rows first (interning resources), then the record: table, count, rows.
  std::string rows;
  rows.reserve(spans.size() * 256);
  ResourceTableBuilder resources;
  uint64_t bytes = 0;
  const model::AttributeList* last = nullptr;
  model::SharedAttributes canonical;
  for (auto& s : spans) {
    if (s.resource != nullptr && s.resource.get() != last) {
      last = s.resource.get();
      canonical = Canonical(s.resource, &bytes);
    }
    if (s.resource != nullptr) s.resource = canonical;
    EncodeSpan(s, resources.Intern(s.resource), &rows);
    bytes += SpanBytes(s);
  }
  std::string payload;
  payload.reserve(rows.size() + 64 * resources.size() + 16);
  resources.Encode(&payload);
  PutVarint64(&payload, spans.size());
  payload.append(rows);
  auto chunk = std::make_shared<const std::vector<model::Span>>(std::move(spans));
  {
    std::unique_lock<std::mutex> l(mem_mu_);
    const uint64_t limit = 2 * opt_.memtable_bytes;
    if (mem_bytes_ + flushing_bytes_ >= limit) {
      M().backpressure->Inc();
      bg_cv_.notify_all();
      // Shorter than exporters' timeouts (OTel: 10 s), so a refused batch is retried by its
      // client rather than stored after the client already gave up and resent it.
      if (!mem_cv_.wait_for(l, std::chrono::seconds(3), [&] {
            return closed_.load() || mem_bytes_ + flushing_bytes_ < limit;
          })) {
        return ResourceExhausted("span ingest is faster than parts can be written; retry later");
      }
    }
  }
  bool need_flush;
  {
    std::shared_lock<WriterPriorityRwLock> al(append_mu_);
    if (closed_.load()) return Unavailable("span store is closed");
    Status ws = wal_->Append(payload);
    if (!ws.ok()) return Unavailable("span store not writable: " + ws.message());
    std::lock_guard<std::mutex> l(mem_mu_);
    InsertLocked(std::move(chunk), bytes);
    need_flush = mem_bytes_ >= opt_.memtable_bytes;
  }
  if (need_flush) bg_cv_.notify_all();
  return Status::OK();
}

Status EmbeddedSpanStore::WriteSortedPart(int64_t day, std::vector<const model::Span*> spans,
                                          const RollupMap& rollups, uint64_t wal_seq,
                                          uint64_t* id_out) {
  std::sort(spans.begin(), spans.end(), SpanLess);
  std::vector<std::string> services, names;
  {
    std::unordered_set<std::string_view> seen_s, seen_n;
    for (const auto* s : spans) {
      if (seen_s.insert(s->service).second) services.push_back(s->service);
      if (seen_n.insert(s->name).second) names.push_back(s->name);
    }
  }
  SL_RETURN_IF_ERROR(CreateDirs(Root() + "/" + DayName(day)));
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    id = next_part_id_++;
  }
  const std::string path = PartPath(day, id);
  SL_ASSIGN_OR_RETURN(
      auto w, SpanPartWriter::Create(path, std::move(services), std::move(names), kFlushZstdLevel));
  for (const auto* s : spans) {
    Status st = w->Add(*s);
    if (!st.ok()) {
      w->Abandon();
      return st;
    }
  }
  auto meta = w->Finish(rollups, {}, wal_seq);
  if (!meta.ok()) {
    w->Abandon();
    return meta.status();
  }
  auto reader = SpanPartReader::Open(path);
  if (!reader.ok()) {
    (void)RemoveFile(path);  // else it would be loaded (with its rollups) at the next start
    return reader.status();
  }
  std::lock_guard<std::mutex> l(parts_mu_);
  parts_[day].push_back({id, std::move(reader).value()});
  *id_out = id;
  return Status::OK();
}

Status EmbeddedSpanStore::Flush() {
  std::lock_guard<std::mutex> fl(flush_mu_);
  uint64_t new_seq;
  RollupMap delta;
  {
    std::unique_lock<WriterPriorityRwLock> al(append_mu_);
    {
      std::lock_guard<std::mutex> l(mem_mu_);
      if (mem_.empty() && flushing_.empty() && rollup_delta_.empty()) return Status::OK();
    }
    // Appends are held off (append_mu_) but queries are not (mem_mu_ is free during the I/O).
    SL_ASSIGN_OR_RETURN(new_seq, wal_->Rotate());
    std::lock_guard<std::mutex> l(mem_mu_);
    for (auto& c : mem_) flushing_.push_back(std::move(c));
    mem_.clear();
    flushing_bytes_ += mem_bytes_;
    mem_bytes_ = 0;
    mem_spans_ = 0;
    delta.swap(rollup_delta_);
  }
  std::map<int64_t, std::vector<const model::Span*>> by_day;
  uint64_t n = 0;
  for (const auto& c : flushing_) {
    for (const auto& s : *c) {
      by_day[DayOf(s.start_ns)].push_back(&s);
      ++n;
    }
  }
  // The rollup cells and the WAL position go into the last part written, which is in today's
  // partition or later (a rollup-only part if need be), so retention of old days never drops
  // current cells, and a crash between two parts of one flush replays the whole WAL and
  // counts the rollups once.
  by_day[DayOf(opt_.clock->NowNs())];
  size_t left = by_day.size();
  std::vector<std::pair<int64_t, uint64_t>> written;
  for (auto& [day, spans] : by_day) {
    const bool last = --left == 0;
    uint64_t id = 0;
    Status st =
        WriteSortedPart(day, std::move(spans), last ? delta : RollupMap{}, last ? new_seq : 0, &id);
    if (!st.ok()) {
      M().errors->Inc();
      // flushing_ stays queryable and in the WAL, and the next flush retries everything, so
      // the parts of this flush already written go (else their spans would be stored twice).
      {
        std::lock_guard<std::mutex> l(parts_mu_);
        for (const auto& [d, wid] : written) {
          auto& v = parts_[d];
          for (auto it = v.begin(); it != v.end(); ++it) {
            if (it->id != wid) continue;
            (void)RemoveFile(it->reader->path());
            v.erase(it);
            break;
          }
        }
      }
      std::lock_guard<std::mutex> l(mem_mu_);
      MergeRollups(delta, &rollup_delta_);
      return st;
    }
    written.emplace_back(day, id);
  }
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    wal_covered_ = std::max(wal_covered_, new_seq);
  }
  {
    std::lock_guard<std::mutex> l(mem_mu_);
    flushing_.clear();
    flushing_bytes_ = 0;
  }
  mem_cv_.notify_all();
  M().flushes->Inc();
  M().flushed->Inc(n);
  return wal_->DropSegmentsBefore(new_seq);
}

void EmbeddedSpanStore::Snapshot(std::vector<std::shared_ptr<const SpanPartReader>>* parts,
                                 std::vector<Chunk>* chunks) {
  // Memory first: a flush publishes its parts before it drops flushing_, so this order can
  // see a span twice (deduplicated by readers) but never miss it.
  {
    std::lock_guard<std::mutex> l(mem_mu_);
    chunks->insert(chunks->end(), flushing_.begin(), flushing_.end());
    chunks->insert(chunks->end(), mem_.begin(), mem_.end());
  }
  std::lock_guard<std::mutex> l(parts_mu_);
  for (const auto& [day, v] : parts_) {
    for (const auto& e : v) parts->push_back(e.reader);
  }
}

Status EmbeddedSpanStore::GetTrace(const model::TraceId& trace_id, int64_t min_ns, int64_t max_ns,
                                   std::vector<model::Span>* out) {
  std::vector<std::shared_ptr<const SpanPartReader>> parts;
  std::vector<Chunk> chunks;
  Snapshot(&parts, &chunks);
  // Retried exports repeat a span exactly; Zipkin's shared spans (B3) give the client and
  // server halves one span id, told apart by kind.
  std::unordered_set<uint64_t> seen;
  auto keep = [&](const model::Span& s) {
    uint64_t k;
    std::memcpy(&k, s.span_id.bytes.data(), 8);
    k = k * 8 + static_cast<uint64_t>(s.kind);
    if (seen.insert(k).second) out->push_back(s);
  };
  for (const auto& p : parts) {
    const SpanPartMeta& m = p->meta();
    if (m.spans == 0 || m.max_start < min_ns || m.min_start > max_ns) continue;
    if (!p->MayContainTrace(trace_id)) continue;
    // Blocks are sorted by trace id: find those whose [first, last] range holds it.
    auto it = std::lower_bound(
        m.blocks.begin(), m.blocks.end(), trace_id,
        [](const SpanBlockMeta& b, const model::TraceId& id) { return b.last_trace < id; });
    for (; it != m.blocks.end() && !(trace_id < it->first_trace); ++it) {
      SpanPartReader::Payload payload;
      SL_RETURN_IF_ERROR(p->ReadPayload(static_cast<uint32_t>(it - m.blocks.begin()), &payload));
      blocks_read_++;
      // Rows are sorted by trace id and each starts with it: binary search, then decode
      // only the trace's own rows.
      auto row_id = [&](uint32_t r, model::TraceId* id) -> Status {
        if (!payload.TraceIdAt(r, id)) return Corruption(p->path() + ": short span row");
        return Status::OK();
      };
      uint32_t lo = 0, hi = payload.rows();
      model::TraceId at;
      while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        SL_RETURN_IF_ERROR(row_id(mid, &at));
        if (at < trace_id) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      model::Span s;
      for (uint32_t r = lo; r < payload.rows(); ++r) {
        SL_RETURN_IF_ERROR(row_id(r, &at));
        if (!(at == trace_id)) break;
        SL_RETURN_IF_ERROR(payload.Span(r, &s));
        if (s.trace_id == trace_id) keep(s);
      }
    }
  }
  for (const auto& c : chunks) {
    for (const auto& s : *c) {
      if (s.trace_id == trace_id) keep(s);
    }
  }
  return Status::OK();
}

// The candidate traces of a search: trace -> start of its newest matching span. Only the
// newest `limit` can be returned, so once there are many candidates the set is cut back to
// them and spans older than the cut-off are ignored; exact, with memory O(limit).
class TopTraces {
 public:
  explicit TopTraces(size_t limit) : limit_(std::max<size_t>(limit, 1)) {}
  void Note(const model::TraceId& id, int64_t start) {
    if (start < threshold_) return;
    auto [it, inserted] = hits_.emplace(id, start);
    if (!inserted && start > it->second) it->second = start;
    if (hits_.size() > 4 * limit_ + 1024) Prune();
  }
  int64_t threshold() const { return threshold_; }
  std::unordered_map<model::TraceId, int64_t, TraceIdHasher>& hits() { return hits_; }

 private:
  void Prune() {
    std::vector<int64_t> starts;
    starts.reserve(hits_.size());
    for (const auto& [id, t] : hits_) starts.push_back(t);
    std::nth_element(starts.begin(), starts.begin() + static_cast<ptrdiff_t>(limit_ - 1),
                     starts.end(), std::greater<int64_t>());
    threshold_ = starts[limit_ - 1];
    for (auto it = hits_.begin(); it != hits_.end();) {
      it = it->second < threshold_ ? hits_.erase(it) : std::next(it);
    }
  }
  size_t limit_;
  int64_t threshold_ = INT64_MIN;
  std::unordered_map<model::TraceId, int64_t, TraceIdHasher> hits_;
};

Status EmbeddedSpanStore::SearchPartIndex(const SpanPartReader& p, const SpanFilter& filter,
                                          uint32_t svc, uint32_t name, size_t limit,
                                          TopTraces* top) {
  const SpanPartMeta& m = p.meta();
  std::vector<SpanIndexEntry> entries;
  std::unordered_map<uint32_t, SpanPartReader::Payload> payloads;  // attribute checks
  model::Span span;
  size_t c = 0;
  if (svc != UINT32_MAX) {
    c = static_cast<size_t>(
        std::lower_bound(m.index.begin(), m.index.end(), svc,
                         [](const SpanIndexChunkMeta& a, uint32_t s) { return a.service < s; }) -
        m.index.begin());
  }
  // Per service, entries come newest first: once `limit` distinct traces of this service
  // matched here, the rest of its entries are older than all of them and cannot make the
  // newest `limit`.
  while (c < m.index.size() && (svc == UINT32_MAX || m.index[c].service == svc)) {
    const uint32_t service = m.index[c].service;
    std::unordered_set<model::TraceId, TraceIdHasher> found;
    bool done = false;
    for (; c < m.index.size() && m.index[c].service == service; ++c) {
      if (done) continue;
      const SpanIndexChunkMeta& cm = m.index[c];
      if (cm.min_start >= filter.end_ns) continue;  // all newer than the range
      if (cm.max_start < filter.start_ns || cm.max_start < top->threshold()) {
        done = true;
        continue;
      }
      SL_RETURN_IF_ERROR(p.ReadIndexChunk(static_cast<uint32_t>(c), &entries));
      blocks_read_++;
      for (const SpanIndexEntry& e : entries) {
        if (e.start_ns >= filter.end_ns) continue;
        if (e.start_ns < filter.start_ns || e.start_ns < top->threshold()) {
          done = true;
          break;
        }
        if (name != UINT32_MAX && e.name != name) continue;
        if (e.duration_ns < filter.min_duration_ns || e.duration_ns > filter.max_duration_ns) {
          continue;
        }
        if (filter.errors_only && e.status != model::StatusCode::kError) continue;
        if (filter.kind && e.kind != *filter.kind) continue;
        if (!filter.SummaryOnly()) {
          auto it = payloads.find(e.block);
          if (it == payloads.end()) {
            if (payloads.size() >= 16) payloads.clear();  // bounded memory
            it = payloads.emplace(e.block, SpanPartReader::Payload()).first;
            SL_RETURN_IF_ERROR(p.ReadPayload(e.block, &it->second));
          }
          SL_RETURN_IF_ERROR(it->second.Span(e.row, &span));
          if (!filter.Matches(span)) continue;
        }
        top->Note(e.trace_id, e.start_ns);
        if (found.insert(e.trace_id).second && found.size() >= limit) {
          done = true;
          break;
        }
      }
    }
    if (svc != UINT32_MAX) break;
  }
  return Status::OK();
}

Status EmbeddedSpanStore::SearchTraces(const SpanFilter& filter, size_t limit,
                                       std::vector<TraceHit>* out) {
  std::vector<std::shared_ptr<const SpanPartReader>> parts;
  std::vector<Chunk> chunks;
  Snapshot(&parts, &chunks);
  // Newest parts first, so the cut-off rises early and older blocks are skipped.
  std::sort(parts.begin(), parts.end(),
            [](const auto& a, const auto& b) { return a->meta().max_start > b->meta().max_start; });
  TopTraces top(limit);
  for (const auto& c : chunks) {
    for (const auto& s : *c) {
      if (filter.Matches(s)) top.Note(s.trace_id, s.start_ns);
    }
  }
  std::vector<SpanSummaryRow> rows;
  std::vector<uint32_t> candidates;
  for (const auto& p : parts) {
    const SpanPartMeta& m = p->meta();
    if (m.spans == 0 || m.max_start < filter.start_ns || m.min_start >= filter.end_ns) continue;
    uint32_t svc = UINT32_MAX, name = UINT32_MAX;
    if (!filter.service.empty()) {
      auto it = std::lower_bound(m.services.begin(), m.services.end(), filter.service);
      if (it == m.services.end() || *it != filter.service) continue;
      svc = static_cast<uint32_t>(it - m.services.begin());
    }
    if (!filter.operation.empty()) {
      auto it = std::lower_bound(m.names.begin(), m.names.end(), filter.operation);
      if (it == m.names.end() || *it != filter.operation) continue;
      name = static_cast<uint32_t>(it - m.names.begin());
    }
    if (!m.index.empty()) {
      SL_RETURN_IF_ERROR(SearchPartIndex(*p, filter, svc, name, limit, &top));
      continue;
    }
    for (uint32_t b = 0; b < m.blocks.size(); ++b) {
      const SpanBlockMeta& bm = m.blocks[b];
      if (bm.max_start < filter.start_ns || bm.min_start >= filter.end_ns) continue;
      if (bm.max_start < top.threshold()) continue;  // cannot hold one of the newest
      if (svc != UINT32_MAX && !(bm.service_mask & (1ull << std::min<uint32_t>(svc, 63)))) {
        continue;
      }
      SL_RETURN_IF_ERROR(p->ReadSummary(b, &rows));
      blocks_read_++;
      candidates.clear();
      for (uint32_t r = 0; r < rows.size(); ++r) {
        const SpanSummaryRow& row = rows[r];
        if (row.start_ns < filter.start_ns || row.start_ns >= filter.end_ns) continue;
        if (svc != UINT32_MAX && row.service != svc) continue;
        if (name != UINT32_MAX && row.name != name) continue;
        if (row.duration_ns < filter.min_duration_ns || row.duration_ns > filter.max_duration_ns) {
          continue;
        }
        if (filter.errors_only && row.status != model::StatusCode::kError) continue;
        if (filter.kind && row.kind != *filter.kind) continue;
        if (row.start_ns < top.threshold()) continue;
        if (filter.SummaryOnly()) {
          top.Note(row.trace_id, row.start_ns);
        } else {
          candidates.push_back(r);
        }
      }
      if (candidates.empty()) continue;
      SpanPartReader::Payload payload;
      SL_RETURN_IF_ERROR(p->ReadPayload(b, &payload));
      model::Span s;
      for (uint32_t r : candidates) {
        SL_RETURN_IF_ERROR(payload.Span(r, &s));
        if (filter.Matches(s)) top.Note(s.trace_id, s.start_ns);
      }
    }
  }
  out->clear();
  out->reserve(top.hits().size());
  for (const auto& [id, t] : top.hits()) out->push_back(TraceHit{id, t});
  auto newer = [](const TraceHit& a, const TraceHit& b) {
    return a.latest_ns != b.latest_ns ? a.latest_ns > b.latest_ns : a.trace_id < b.trace_id;
  };
  if (out->size() > limit) {
    std::partial_sort(out->begin(), out->begin() + static_cast<ptrdiff_t>(limit), out->end(),
                      newer);
    out->resize(limit);
  } else {
    std::sort(out->begin(), out->end(), newer);
  }
  return Status::OK();
}

void EmbeddedSpanStore::ReadRollups(int64_t start_ns, int64_t end_ns,
                                    const std::function<bool(const RollupKey&)>& want,
                                    RollupMap* out) {
  const int64_t first = MinuteOf(start_ns);
  const int64_t last = MinuteOf(end_ns - 1);
  std::lock_guard<std::mutex> l(mem_mu_);
  for (const auto& [k, series] : rollups_) {
    if (!want(k)) continue;
    auto it = series.lower_bound(first);
    if (it == series.end() || it->first > last) continue;
    RollupSeries& dst = (*out)[k];
    for (; it != series.end() && it->first <= last; ++it) dst[it->first].Merge(it->second);
  }
}

void EmbeddedSpanStore::ListRollupKeys(int64_t start_ns, int64_t end_ns,
                                       const std::function<bool(const RollupKey&)>& want,
                                       std::vector<RollupKey>* out) {
  const int64_t first = MinuteOf(start_ns);
  const int64_t last = MinuteOf(end_ns - 1);
  std::lock_guard<std::mutex> l(mem_mu_);
  for (const auto& [k, series] : rollups_) {
    if (!want(k)) continue;
    auto it = series.lower_bound(first);
    if (it != series.end() && it->first <= last) out->push_back(k);
  }
}

Status EmbeddedSpanStore::MergeNow() {
  std::vector<int64_t> days;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    for (const auto& [day, v] : parts_) {
      if (v.size() >= opt_.merge_min_parts) days.push_back(day);
    }
  }
  for (int64_t day : days) {
    // A few rounds per call: each merges one group; the loop runs again soon.
    for (int round = 0; round < 4; ++round) {
      bool merged = false;
      SL_RETURN_IF_ERROR(MergeDay(day, &merged));
      if (!merged || closed_.load()) break;
    }
  }
  return Status::OK();
}

std::vector<EmbeddedSpanStore::PartEntry> EmbeddedSpanStore::PickMerge(
    const std::vector<PartEntry>& day_parts) const {
  // Parts merge only with parts of the same hour (by earliest span start), so merged parts
  // keep narrow time ranges and searches over recent data stay cheap; within an hour, only
  // parts of similar size (within 4x) merge, so each span is rewritten O(log n) times.
  std::map<int64_t, std::vector<PartEntry>> by_hour;
  for (const auto& e : day_parts) {
    const SpanPartMeta& m = e.reader->meta();
    by_hour[m.spans == 0 ? -1 : m.min_start / (3600 * kNsPerSec)].push_back(e);
  }
  for (auto& [hour, v] : by_hour) {
    if (v.size() < opt_.merge_min_parts) continue;
    std::sort(v.begin(), v.end(), [](const PartEntry& a, const PartEntry& b) {
      return a.reader->meta().spans < b.reader->meta().spans;
    });
    for (size_t i = 0; i + opt_.merge_min_parts <= v.size(); ++i) {
      const uint64_t smallest = std::max<uint64_t>(v[i].reader->meta().spans, 4096);
      std::vector<PartEntry> group;
      uint64_t total = 0;
      for (size_t j = i; j < v.size() && group.size() < 4 * opt_.merge_min_parts; ++j) {
        const uint64_t n = v[j].reader->meta().spans;
        if (n > 4 * smallest || total + n > opt_.merge_max_spans) break;
        total += n;
        group.push_back(v[j]);
      }
      if (group.size() >= opt_.merge_min_parts) return group;
    }
  }
  return {};
}

Status EmbeddedSpanStore::MergeDay(int64_t day, bool* merged) {
  *merged = false;
  std::lock_guard<std::mutex> ml(merge_mu_);
  std::vector<PartEntry> inputs;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    auto it = parts_.find(day);
    if (it == parts_.end()) return Status::OK();
    inputs = PickMerge(it->second);
  }
  if (inputs.empty()) return Status::OK();

  // Streaming k-way merge by (trace_id, start): one decoded block per input at a time.
  struct Cursor {
    std::shared_ptr<const SpanPartReader> part;
    uint32_t block = 0, row = 0;
    SpanPartReader::Payload payload;
    model::Span span;
  };
  std::vector<std::unique_ptr<Cursor>> cursors;
  std::vector<std::string> services, names;
  RollupMap rollups;
  std::vector<uint64_t> replaces;
  for (const auto& e : inputs) {
    const SpanPartMeta& m = e.reader->meta();
    services.insert(services.end(), m.services.begin(), m.services.end());
    names.insert(names.end(), m.names.begin(), m.names.end());
    SL_RETURN_IF_ERROR(e.reader->ReadRollups(&rollups));
    replaces.push_back(e.id);
    auto c = std::make_unique<Cursor>();
    c->part = e.reader;
    cursors.push_back(std::move(c));
  }
  // Loads the current row of `c`; false when exhausted.
  auto load = [](Cursor* c) -> StatusOr<bool> {
    const auto& blocks = c->part->meta().blocks;
    while (c->block < blocks.size()) {
      if (c->row == 0 && c->payload.rows() == 0) {
        SL_RETURN_IF_ERROR(c->part->ReadPayload(c->block, &c->payload));
      }
      if (c->row < c->payload.rows()) {
        SL_RETURN_IF_ERROR(c->payload.Span(c->row, &c->span));
        return true;
      }
      c->block++;
      c->row = 0;
      c->payload = SpanPartReader::Payload();
    }
    return false;
  };
  auto greater = [](const Cursor* a, const Cursor* b) { return SpanLess(&b->span, &a->span); };
  std::priority_queue<Cursor*, std::vector<Cursor*>, decltype(greater)> heap(greater);
  for (auto& c : cursors) {
    SL_ASSIGN_OR_RETURN(bool has, load(c.get()));
    if (has) heap.push(c.get());
  }
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    id = next_part_id_++;
  }
  const std::string path = PartPath(day, id);
  SL_ASSIGN_OR_RETURN(
      auto w, SpanPartWriter::Create(path, std::move(services), std::move(names), kMergeZstdLevel));
  uint64_t n = 0;
  Status st;
  while (!heap.empty() && st.ok()) {
    Cursor* c = heap.top();
    heap.pop();
    st = w->Add(c->span);
    ++n;
    c->row++;
    if (!st.ok()) break;
    auto has = load(c);
    if (!has.ok()) {
      st = has.status();
    } else if (*has) {
      heap.push(c);
    }
  }
  uint64_t wal_seq = 0;
  for (const auto& e : inputs) wal_seq = std::max(wal_seq, e.reader->meta().wal_seq);
  StatusOr<SpanPartMeta> meta =
      st.ok() ? w->Finish(rollups, replaces, wal_seq) : StatusOr<SpanPartMeta>(st);
  if (!meta.ok()) {
    w->Abandon();
    M().errors->Inc();
    return meta.status();
  }
  auto reader_or = SpanPartReader::Open(path);
  if (!reader_or.ok()) {
    (void)RemoveFile(path);  // else the next start would load it next to its inputs
    M().errors->Inc();
    return reader_or.status();
  }
  std::shared_ptr<const SpanPartReader> reader = std::move(reader_or).value();
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    auto& v = parts_[day];
    for (uint64_t r : replaces) {
      v.erase(std::remove_if(v.begin(), v.end(), [r](const PartEntry& e) { return e.id == r; }),
              v.end());
    }
    v.push_back({id, reader});
  }
  for (const auto& e : inputs) SL_RETURN_IF_ERROR(RemoveFile(e.reader->path()));
  M().merges->Inc();
  M().merged->Inc(n);
  *merged = true;
  return Status::OK();
}

Status EmbeddedSpanStore::ApplyRetention() {
  if (opt_.retention_ns <= 0) return Status::OK();
  const int64_t cutoff = opt_.clock->NowNs() - opt_.retention_ns;
  const int64_t cutoff_day = DayOf(cutoff);
  std::lock_guard<std::mutex> ml(merge_mu_);  // a merge must not recreate a dropped day
  std::vector<int64_t> drop;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    for (auto it = parts_.begin(); it != parts_.end();) {
      if (it->first < cutoff_day) {
        drop.push_back(it->first);
        it = parts_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (int64_t day : drop) {
    SL_RETURN_IF_ERROR(RemoveAll(Root() + "/" + DayName(day)));
    M().retention_drops->Inc();
  }
  const int64_t cutoff_minute = cutoff_day * (kNsPerDay / kNsPerMinute);
  std::lock_guard<std::mutex> l(mem_mu_);
  for (auto it = rollups_.begin(); it != rollups_.end();) {
    auto& series = it->second;
    series.erase(series.begin(), series.lower_bound(cutoff_minute));
    it = series.empty() ? rollups_.erase(it) : std::next(it);
  }
  return Status::OK();
}

SpanStoreStats EmbeddedSpanStore::GetStats() {
  SpanStoreStats st;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    for (const auto& [day, v] : parts_) {
      for (const auto& e : v) {
        st.parts++;
        st.part_bytes += e.reader->file_size();
        st.part_spans += e.reader->meta().spans;
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(mem_mu_);
    st.memtable_spans = mem_spans_;
    for (const auto& c : flushing_) st.memtable_spans += c->size();
    st.memtable_bytes = mem_bytes_ + flushing_bytes_;
  }
  st.wal_bytes = wal_ ? wal_->bytes() : 0;
  st.blocks_read = blocks_read_.load();
  return st;
}

void EmbeddedSpanStore::MergeLoop() {
  std::unique_lock<std::mutex> l(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(l, std::chrono::milliseconds(500));
    if (stop_) break;
    l.unlock();
    if (!MergeNow().ok()) M().errors->Inc();
    l.lock();
  }
}

void EmbeddedSpanStore::BackgroundLoop() {
  int64_t last_sync = opt_.clock->NowNs();
  int64_t last_retention = 0;
  std::unique_lock<std::mutex> l(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(l, std::chrono::milliseconds(100));
    if (stop_) break;
    l.unlock();
    const int64_t now = opt_.clock->NowNs();
    if (opt_.wal_fsync == FsyncPolicy::kInterval &&
        now - last_sync >= opt_.wal_sync_interval_ms * 1'000'000) {
      if (!wal_->SyncNow().ok()) M().errors->Inc();
      last_sync = now;
    }
    bool flush;
    {
      std::lock_guard<std::mutex> ml(mem_mu_);
      flush = !flushing_.empty() ||  // an earlier flush failed: retry
              (!mem_.empty() && (mem_bytes_ >= opt_.memtable_bytes ||
                                 now - mem_since_ns_ >= opt_.flush_interval_ms * 1'000'000));
    }
    if (flush && !Flush().ok()) M().errors->Inc();
    if (now - last_retention >= 60 * kNsPerSec) {
      if (!ApplyRetention().ok()) M().errors->Inc();
      last_retention = now;
    }
    l.lock();
  }
}

}  // namespace sightline::storage
