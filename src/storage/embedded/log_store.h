// The embedded log store: WAL + in-memory chunks + immutable columnar parts in day
// partitions, with background flushes, merges and retention. Layout of the data directory:
//
//   <dir>/wal/<seq>.wal                 write-ahead log segments (docs/formats/wal.md)
//   <dir>/logs/<YYYY-MM-DD>/<id>.slp    parts of one UTC day (docs/formats/part.md)
//
// Threads: callers' threads append and query; one background thread flushes (every
// flush_interval or when memory_limit is reached), syncs the WAL (kInterval), merges and
// applies retention. All public methods are thread-safe.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_LOG_STORE_H_
#define SIGHTLINE_STORAGE_EMBEDDED_LOG_STORE_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/rwlock.h"
#include "storage/embedded/part.h"
#include "storage/embedded/wal.h"
#include "storage/store.h"

namespace sightline::storage {

struct EmbeddedStoreOptions {
  std::string dir = "./sightline-data";
  FsyncPolicy wal_fsync = FsyncPolicy::kInterval;
  int64_t wal_sync_interval_ms = 200;
  int64_t flush_interval_ms = 5000;
  uint64_t memtable_bytes = 128ull << 20;  // flush earlier when buffered data reaches this
  int64_t retention_ns = 7 * kNsPerDay;    // 0 = keep forever
  size_t merge_min_parts = 4;              // merge this many parts of similar size (size-tiered)
  uint64_t merge_max_rows = 1'000'000;     // largest part a merge produces (streamed)
  PartWriterOptions part;
  bool background = true;  // false in tests that drive flush/merge by hand
  Clock* clock = Clock::Real();
};

class EmbeddedLogStore : public LogStore {
 public:
  // Opens or creates the store, validates every part, finishes interrupted merges, and
  // replays the WAL. WAL damage is reported in recovery_report(), not an error.
  // Errors: IOError, Corruption (a part failed validation: its path is named).
  static StatusOr<std::unique_ptr<EmbeddedLogStore>> Open(const EmbeddedStoreOptions& options);
  ~EmbeddedLogStore() override;  // stops the background thread and flushes

  // When records arrive faster than parts can be written, buffered data is bounded: an
  // append waits (up to 30 s) while more than 2 x memtable_bytes are buffered, then fails
  // with ResourceExhausted (HTTP 429, retry later).
  Status Append(std::vector<model::LogRecord> records) override;
  Status PlanScan(const LogScanSpec& spec, std::vector<BlockRef>* blocks,
                  ScanStats* stats) override;
  Status ReadBlock(const BlockRef& block, const LogScanSpec& spec,
                   std::vector<model::LogRecord>* out, ScanStats* stats) override;
  Status ReadBlockKeys(const BlockRef& block, const LogScanSpec& spec, uint8_t key_mask,
                       KeyedRows* out, ScanStats* stats) override;
  Status Flush() override;
  bool Writable() override;
  StoreStats GetStats() override;

  // Runs one round of merges now (per partition, the first run of merge_min_parts similar-size
  // parts). Thread-safe.
  Status MergeNow();
  // Drops partitions older than the retention period now. Thread-safe.
  Status ApplyRetention();
  // Flushes and stops background work; later Appends return Unavailable.
  Status Close();
  // Stops background work and refuses writes without flushing: leaves the data directory
  // as a crash would (WAL not yet folded into parts).
  void CloseWithoutFlushForTesting();
  const WalRecoveryReport& recovery_report() const { return recovery_; }

 private:
  struct Chunk {
    std::shared_ptr<const std::vector<model::LogRecord>> records;
    int64_t min_ts, max_ts;
    uint64_t bytes;
  };
  struct PartEntry {
    uint64_t id;
    std::shared_ptr<const PartReader> reader;
  };

  explicit EmbeddedLogStore(const EmbeddedStoreOptions& o) : opt_(o) {}
  Status LoadParts();
  std::string PartitionDir(int64_t day) const;
  std::string PartPath(int64_t day, uint64_t id) const;
  Status MergePartition(int64_t day);
  void BackgroundLoop();
  // Marks the store closed and joins its threads; false if it was already closed.
  bool StopBackground();

  const EmbeddedStoreOptions opt_;
  std::unique_ptr<Wal> wal_;
  WalRecoveryReport recovery_;

  // Appenders hold append_mu_ shared across "WAL append + memtable insert"; Flush holds it
  // exclusively while it rotates the WAL and swaps the memtable, so every record in a sealed
  // segment is in the swapped memtable.
  WriterPriorityRwLock append_mu_;
  std::mutex flush_mu_;  // one flush at a time
  std::mutex merge_mu_;  // one merge at a time

  mutable std::mutex mem_mu_;
  std::vector<Chunk> mem_;       // active, guarded by mem_mu_
  std::vector<Chunk> flushing_;  // being written to parts, still queryable
  uint64_t flushing_bytes_ = 0;
  // Appenders wait here while buffered data exceeds twice memtable_bytes (backpressure).
  std::condition_variable mem_cv_;
  uint64_t mem_bytes_ = 0;
  uint64_t mem_rows_ = 0;

  mutable std::mutex parts_mu_;
  std::map<int64_t, std::vector<PartEntry>> parts_;  // day -> parts
  uint64_t next_part_id_ = 1;
  uint64_t wal_covered_ = 0;  // highest PartMeta::wal_seq (guarded by parts_mu_)

  std::atomic<bool> closed_{false};
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
  std::thread bg_;
};

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_LOG_STORE_H_
