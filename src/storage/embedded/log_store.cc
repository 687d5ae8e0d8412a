#include "storage/embedded/log_store.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "base/coding.h"
#include "base/file.h"
#include "base/metrics.h"
#include "storage/embedded/record_codec.h"
#include "storage/embedded/util.h"

namespace sightline::storage {
namespace {

struct StoreMetrics {
  Counter* flushes = Metrics::Global().GetCounter("sightline_flushes_total", "Memtable flushes");
  Counter* flushed_rows = Metrics::Global().GetCounter("sightline_flushed_rows_total",
                                                       "Rows written to parts by flushes");
  Counter* merges = Metrics::Global().GetCounter("sightline_merges_total", "Completed part merges");
  Counter* merged_rows =
      Metrics::Global().GetCounter("sightline_merged_rows_total", "Rows rewritten by merges");
  Gauge* merges_running =
      Metrics::Global().GetGauge("sightline_merges_running", "Merges in progress");
  Counter* wal_appends =
      Metrics::Global().GetCounter("sightline_wal_appends_total", "WAL records appended");
  Counter* wal_bytes =
      Metrics::Global().GetCounter("sightline_wal_appended_bytes_total", "WAL bytes appended");
  Counter* wal_torn = Metrics::Global().GetCounter("sightline_wal_torn_tails_total",
                                                   "Torn WAL tails cut at recovery");
  Counter* wal_corrupt = Metrics::Global().GetCounter(
      "sightline_wal_corrupt_segments_total", "WAL segments with corrupt records at recovery");
  Counter* retention_drops = Metrics::Global().GetCounter(
      "sightline_retention_dropped_partitions_total", "Day partitions dropped by retention");
  Counter* errors =
      Metrics::Global().GetCounter("sightline_storage_errors_total", "Background storage errors");
  Counter* backpressure = Metrics::Global().GetCounter(
      "sightline_ingest_backpressure_waits_total",
      "Appends that waited because buffered data exceeded 2x storage.memtable_bytes");
};
StoreMetrics& M() {
  static StoreMetrics m;
  return m;
}

uint64_t RecordBytes(const model::LogRecord& r) {
  uint64_t b = sizeof(model::LogRecord) + r.body.size() + r.service.size();
  for (const auto& a : r.attrs) b += sizeof(a) + a.key.size() + a.value.str.size();
  return b;
}

}  // namespace

std::string EmbeddedLogStore::PartitionDir(int64_t day) const {
  return opt_.dir + "/logs/" + DayName(day);
}

std::string EmbeddedLogStore::PartPath(int64_t day, uint64_t id) const {
  return PartitionDir(day) + "/" + PartFileName(id, ".slp");
}

StatusOr<std::unique_ptr<EmbeddedLogStore>> EmbeddedLogStore::Open(
    const EmbeddedStoreOptions& options) {
  M();
  std::unique_ptr<EmbeddedLogStore> s(new EmbeddedLogStore(options));
  SL_RETURN_IF_ERROR(CreateDirs(options.dir + "/logs"));
  SL_RETURN_IF_ERROR(s->LoadParts());
  // Replay the WAL into one memtable chunk per WAL record.
  auto replay = [&](std::string_view payload) -> Status {
    Reader r(payload);
    uint64_t n;
    if (!r.GetVarint64(&n) || n > payload.size()) return Corruption("bad WAL batch header");
    auto recs = std::make_shared<std::vector<model::LogRecord>>(n);
    Chunk c{nullptr, INT64_MAX, INT64_MIN, 0};
    for (auto& rec : *recs) {
      if (!DecodeLogRecord(&r, &rec)) return Corruption("bad record in WAL batch");
      c.min_ts = std::min(c.min_ts, rec.ts_ns);
      c.max_ts = std::max(c.max_ts, rec.ts_ns);
      c.bytes += RecordBytes(rec);
    }
    c.records = recs;
    s->mem_bytes_ += c.bytes;
    s->mem_rows_ += n;
    s->mem_.push_back(std::move(c));
    return Status::OK();
  };
  WalOptions wo;
  wo.fsync = options.wal_fsync;
  // Segments already folded into parts (a crash between a flush's rename and its segment
  // deletion) are deleted, not replayed: replaying them stored their records twice.
  wo.skip_before = s->wal_covered_;
  SL_ASSIGN_OR_RETURN(s->wal_, Wal::Open(options.dir + "/wal", wo, replay, &s->recovery_));
  M().wal_torn->Inc(s->recovery_.torn_tails);
  M().wal_corrupt->Inc(s->recovery_.corrupt_segments);
  if (options.background) s->bg_ = std::thread([p = s.get()] { p->BackgroundLoop(); });
  return s;
}

Status EmbeddedLogStore::LoadParts() {
  const std::string root = opt_.dir + "/logs";
  SL_ASSIGN_OR_RETURN(auto days, ListDir(root));
  std::map<int64_t, std::vector<PartEntry>> parts;
  std::vector<std::pair<int64_t, uint64_t>> replaced;
  for (const auto& dn : days) {
    int64_t day;
    if (!ParseDayName(dn, &day)) continue;
    SL_ASSIGN_OR_RETURN(auto files, ListDir(root + "/" + dn));
    for (const auto& fn : files) {
      const std::string path = root + "/" + dn + "/" + fn;
      if (fn.size() > 4 && fn.compare(fn.size() - 4, 4, ".tmp") == 0) {
        SL_RETURN_IF_ERROR(RemoveFile(path));  // an unfinished flush or merge
        continue;
      }
      uint64_t id;
      if (!ParsePartFileName(fn, ".slp", &id)) continue;
      SL_ASSIGN_OR_RETURN(auto reader, PartReader::Open(path));
      for (uint64_t r : reader->meta().replaces) replaced.emplace_back(day, r);
      wal_covered_ = std::max(wal_covered_, reader->meta().wal_seq);
      parts[day].push_back({id, reader});
      next_part_id_ = std::max(next_part_id_, id + 1);
    }
  }
  // Finish merges interrupted after the new part was renamed into place.
  for (const auto& [day, id] : replaced) {
    auto& v = parts[day];
    auto it =
        std::find_if(v.begin(), v.end(), [id = id](const PartEntry& e) { return e.id == id; });
    if (it != v.end()) {
      std::string path = it->reader->path();
      v.erase(it);
      SL_RETURN_IF_ERROR(RemoveFile(path));
    }
  }
  std::lock_guard<std::mutex> l(parts_mu_);
  parts_ = std::move(parts);
  return Status::OK();
}

EmbeddedLogStore::~EmbeddedLogStore() { Close().IgnoreError(); }

bool EmbeddedLogStore::StopBackground() {
  if (closed_.exchange(true)) return false;
  mem_cv_.notify_all();  // appenders waiting in backpressure see closed_
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  return true;
}

Status EmbeddedLogStore::Close() {
  if (!StopBackground()) return Status::OK();
  Status s = Flush();
  if (wal_ && s.ok()) s = wal_->SyncNow();
  return s;
}

void EmbeddedLogStore::CloseWithoutFlushForTesting() { (void)StopBackground(); }

bool EmbeddedLogStore::Writable() { return !closed_.load() && wal_ && !wal_->failed(); }

Status EmbeddedLogStore::Append(std::vector<model::LogRecord> records) {
  if (records.empty()) return Status::OK();
  std::string payload;
  size_t est = 16;
  for (const auto& r : records) est += r.body.size() + 64 + r.attrs.size() * 24;
  payload.reserve(est);
  PutVarint64(&payload, records.size());
  Chunk c{nullptr, INT64_MAX, INT64_MIN, 0};
  for (const auto& r : records) {
    EncodeLogRecord(r, &payload);
    c.min_ts = std::min(c.min_ts, r.ts_ns);
    c.max_ts = std::max(c.max_ts, r.ts_ns);
    c.bytes += RecordBytes(r);
  }
  const size_t n = records.size();
  c.records = std::make_shared<const std::vector<model::LogRecord>>(std::move(records));
  {
    std::unique_lock<std::mutex> l(mem_mu_);
    const uint64_t limit = 2 * opt_.memtable_bytes;
    if (mem_bytes_ + flushing_bytes_ >= limit) {
      M().backpressure->Inc();
      bg_cv_.notify_all();
      if (!mem_cv_.wait_for(l, std::chrono::seconds(30),
                            [&] { return closed_.load() || mem_bytes_ + flushing_bytes_ < limit; }))
        return ResourceExhausted("ingest is faster than the store can write parts; retry later");
    }
  }
  bool need_flush;
  {
    std::shared_lock<WriterPriorityRwLock> al(append_mu_);
    if (closed_.load()) return Unavailable("store is closed");
    Status ws = wal_->Append(payload);
    if (!ws.ok()) return Unavailable("store not writable: " + ws.message());
    M().wal_appends->Inc();
    M().wal_bytes->Inc(payload.size() + Wal::kHeaderSize);
    std::lock_guard<std::mutex> l(mem_mu_);
    mem_bytes_ += c.bytes;
    mem_rows_ += n;
    mem_.push_back(std::move(c));
    need_flush = mem_bytes_ >= opt_.memtable_bytes;
  }
  if (need_flush) bg_cv_.notify_all();
  return Status::OK();
}

Status EmbeddedLogStore::Flush() {
  std::lock_guard<std::mutex> fl(flush_mu_);
  uint64_t new_seq;
  {
    std::unique_lock<WriterPriorityRwLock> al(append_mu_);
    {
      std::lock_guard<std::mutex> l(mem_mu_);
      if (mem_.empty() && flushing_.empty()) return Status::OK();
    }
    // Appends wait (append_mu_); queries do not (mem_mu_ is free during the rotation's I/O).
    SL_ASSIGN_OR_RETURN(new_seq, wal_->Rotate());
    std::lock_guard<std::mutex> l(mem_mu_);
    // A failed earlier flush left its chunks in flushing_: they are written now, with these.
    for (auto& c : mem_) flushing_.push_back(std::move(c));
    mem_.clear();
    flushing_bytes_ += mem_bytes_;
    mem_bytes_ = 0;
    mem_rows_ = 0;
  }
  // Group rows by day partition and write one part per day.
  std::map<int64_t, std::vector<const model::LogRecord*>> by_day;
  uint64_t rows = 0;
  for (const auto& c : flushing_)
    for (const auto& r : *c.records) {
      by_day[DayOf(r.ts_ns)].push_back(&r);
      ++rows;
    }
  // The last part written records the WAL position the whole flush covers. If a part fails,
  // the ones already written go again: flushing_ stays queryable and in the WAL, and the next
  // flush writes all of it (keeping them would store their records twice).
  std::vector<std::pair<int64_t, uint64_t>> written;
  auto undo = [&](const Status& st) {
    M().errors->Inc();
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
    return st;
  };
  size_t left = by_day.size();
  for (auto& [day, recs] : by_day) {
    const bool last = --left == 0;
    if (Status st = CreateDirs(PartitionDir(day)); !st.ok()) return undo(st);
    uint64_t id;
    {
      std::lock_guard<std::mutex> l(parts_mu_);
      id = next_part_id_++;
    }
    const std::string path = PartPath(day, id);
    auto meta = WritePart(path, std::move(recs), opt_.part, {}, last ? new_seq : 0);
    if (!meta.ok()) return undo(meta.status());
    auto reader = PartReader::Open(path);
    if (!reader.ok()) {
      (void)RemoveFile(path);
      return undo(reader.status());
    }
    std::lock_guard<std::mutex> l(parts_mu_);
    parts_[day].push_back({id, std::move(reader).value()});
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
  M().flushed_rows->Inc(rows);
  return wal_->DropSegmentsBefore(new_seq);
}

Status EmbeddedLogStore::PlanScan(const LogScanSpec& spec, std::vector<BlockRef>* blocks,
                                  ScanStats* stats) {
  std::vector<std::shared_ptr<const PartReader>> parts;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    for (const auto& [day, v] : parts_) {
      int64_t day_start = day * kNsPerDay;
      if (day_start >= spec.end_ns || day_start + kNsPerDay <= spec.start_ns) {
        for (const auto& e : v) {
          stats->blocks_total += e.reader->meta().blocks.size();
          stats->blocks_pruned_time += e.reader->meta().blocks.size();
        }
        continue;
      }
      for (const auto& e : v) parts.push_back(e.reader);
    }
  }
  std::vector<uint32_t> idx;
  for (const auto& p : parts) {
    idx.clear();
    SL_RETURN_IF_ERROR(p->Plan(spec, &idx, stats));
    for (uint32_t b : idx) {
      const auto& bm = p->meta().blocks[b];
      blocks->push_back(BlockRef{bm.min_ts, bm.max_ts, bm.rows, p, b, nullptr});
    }
  }
  std::lock_guard<std::mutex> l(mem_mu_);
  for (const auto* list : {&flushing_, &mem_}) {
    for (const auto& c : *list) {
      stats->blocks_total++;
      if (c.max_ts < spec.start_ns || c.min_ts >= spec.end_ns) {
        stats->blocks_pruned_time++;
        continue;
      }
      blocks->push_back(BlockRef{c.min_ts, c.max_ts, static_cast<uint32_t>(c.records->size()),
                                 nullptr, 0, c.records});
    }
  }
  return Status::OK();
}

Status EmbeddedLogStore::ReadBlock(const BlockRef& block, const LogScanSpec& spec,
                                   std::vector<model::LogRecord>* out, ScanStats* stats) {
  if (block.part) return block.part->ReadBlock(block.block, spec, out, stats);
  if (!block.mem) return InvalidArgument("empty block reference");
  stats->blocks_read++;
  stats->rows_scanned += block.mem->size();
  for (const auto& r : *block.mem) {
    if (RecordMatches(r, spec)) {
      out->push_back(r);
      stats->rows_matched++;
    }
  }
  return Status::OK();
}

Status EmbeddedLogStore::ReadBlockKeys(const BlockRef& block, const LogScanSpec& spec,
                                       uint8_t key_mask, KeyedRows* out, ScanStats* stats) {
  if (block.part) return block.part->ReadBlockKeys(block.block, spec, key_mask, out, stats);
  if (!block.mem) return InvalidArgument("empty block reference");
  stats->blocks_read++;
  stats->rows_scanned += block.mem->size();
  KeyIndex index;
  for (uint32_t i = 0; i < out->keys.size(); ++i) index.emplace(out->keys[i], i);
  for (const auto& r : *block.mem) {
    if (!RecordMatches(r, spec)) continue;
    stats->rows_matched++;
    AppendRecordKey(r, key_mask, &index, out);
  }
  return Status::OK();
}

Status EmbeddedLogStore::MergePartition(int64_t day) {
  std::vector<PartEntry> inputs;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    auto it = parts_.find(day);
    if (it == parts_.end() || it->second.size() < opt_.merge_min_parts) return Status::OK();
    std::vector<PartEntry> v = it->second;
    std::sort(v.begin(), v.end(), [](const PartEntry& a, const PartEntry& b) {
      return a.reader->meta().rows < b.reader->meta().rows;
    });
    // Size-tiered: merge the first run of at least merge_min_parts parts of similar size
    // (largest at most 4x the smallest), smallest sizes first. Rows are then rewritten about
    // log4(total / flush size) times instead of on every merge.
    auto rows_of = [&](size_t i) { return std::max<uint64_t>(1, v[i].reader->meta().rows); };
    for (size_t first = 0; first + opt_.merge_min_parts <= v.size() && inputs.empty(); ++first) {
      size_t last = first;
      uint64_t total = 0;
      while (last < v.size() && rows_of(last) <= 4 * rows_of(first) &&
             total + rows_of(last) <= opt_.merge_max_rows)
        total += rows_of(last++);
      if (last - first >= opt_.merge_min_parts)
        inputs.assign(v.begin() + static_cast<long>(first), v.begin() + static_cast<long>(last));
    }
  }
  if (inputs.size() < 2) return Status::OK();
  M().merges_running->Add(1);
  std::vector<uint64_t> ids;
  std::vector<std::shared_ptr<const PartReader>> readers;
  uint64_t merged_rows = 0;
  for (const auto& e : inputs) {
    ids.push_back(e.id);
    readers.push_back(e.reader);
    merged_rows += e.reader->meta().rows;
  }
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    id = next_part_id_++;
  }
  std::shared_ptr<const PartReader> reader;
  uint64_t wal_seq = 0;
  for (const auto& r : readers) wal_seq = std::max(wal_seq, r->meta().wal_seq);
  Status s = MergeParts(PartPath(day, id), readers, opt_.part, ids, wal_seq).status();
  if (s.ok()) {
    auto r = PartReader::Open(PartPath(day, id));
    s = r.status();
    if (s.ok()) reader = *r;
  }
  if (s.ok()) {
    {
      std::lock_guard<std::mutex> l(parts_mu_);
      auto& v = parts_[day];
      v.erase(std::remove_if(v.begin(), v.end(),
                             [&](const PartEntry& e) {
                               return std::find(ids.begin(), ids.end(), e.id) != ids.end();
                             }),
              v.end());
      v.push_back({id, reader});
    }
    for (const auto& e : inputs) s = RemoveFile(e.reader->path());
    M().merges->Inc();
    M().merged_rows->Inc(merged_rows);
  }
  M().merges_running->Add(-1);
  return s;
}

Status EmbeddedLogStore::MergeNow() {
  std::lock_guard<std::mutex> ml(merge_mu_);
  std::vector<int64_t> days;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    for (const auto& [day, v] : parts_)
      if (v.size() >= opt_.merge_min_parts) days.push_back(day);
  }
  for (int64_t d : days) SL_RETURN_IF_ERROR(MergePartition(d));
  return Status::OK();
}

Status EmbeddedLogStore::ApplyRetention() {
  if (opt_.retention_ns <= 0) return Status::OK();
  const int64_t cutoff = opt_.clock->NowNs() - opt_.retention_ns;
  std::vector<int64_t> drop;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    for (auto it = parts_.begin(); it != parts_.end();) {
      if ((it->first + 1) * kNsPerDay <= cutoff) {
        drop.push_back(it->first);
        it = parts_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (int64_t d : drop) {
    SL_RETURN_IF_ERROR(RemoveAll(PartitionDir(d)));
    M().retention_drops->Inc();
  }
  return Status::OK();
}

void EmbeddedLogStore::BackgroundLoop() {
  using namespace std::chrono;
  auto last_flush = steady_clock::now();
  auto last_sync = steady_clock::now();
  auto last_retention = steady_clock::now() - hours(1);
  std::unique_lock<std::mutex> l(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(l, milliseconds(100));
    if (stop_) break;
    l.unlock();
    auto now = steady_clock::now();
    bool big;
    {
      std::lock_guard<std::mutex> ml(mem_mu_);
      big = mem_bytes_ >= opt_.memtable_bytes;
    }
    if (opt_.wal_fsync == FsyncPolicy::kInterval &&
        now - last_sync >= milliseconds(opt_.wal_sync_interval_ms)) {
      if (!wal_->SyncNow().ok()) M().errors->Inc();
      last_sync = now;
    }
    if (big || now - last_flush >= milliseconds(opt_.flush_interval_ms)) {
      if (!Flush().ok()) M().errors->Inc();
      last_flush = steady_clock::now();
      if (!MergeNow().ok()) M().errors->Inc();
    }
    if (now - last_retention >= minutes(1)) {
      if (!ApplyRetention().ok()) M().errors->Inc();
      last_retention = now;
    }
    l.lock();
  }
}

StoreStats EmbeddedLogStore::GetStats() {
  StoreStats s;
  s.min_ts = INT64_MAX;
  s.max_ts = INT64_MIN;
  {
    std::lock_guard<std::mutex> l(parts_mu_);
    s.partitions = parts_.size();
    for (const auto& [day, v] : parts_) {
      for (const auto& e : v) {
        s.parts++;
        s.part_bytes += e.reader->file_size();
        s.part_rows += e.reader->meta().rows;
        s.min_ts = std::min(s.min_ts, e.reader->meta().min_ts);
        s.max_ts = std::max(s.max_ts, e.reader->meta().max_ts);
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(mem_mu_);
    s.memtable_rows = mem_rows_;
    s.memtable_bytes = mem_bytes_;
    for (const auto* list : {&flushing_, &mem_})
      for (const auto& c : *list) {
        s.min_ts = std::min(s.min_ts, c.min_ts);
        s.max_ts = std::max(s.max_ts, c.max_ts);
      }
  }
  if (s.min_ts == INT64_MAX) s.min_ts = s.max_ts = 0;
  s.wal_bytes = wal_ ? wal_->bytes() : 0;
  return s;
}

}  // namespace sightline::storage
