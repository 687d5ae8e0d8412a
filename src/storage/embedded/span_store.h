// The embedded span store: its own WAL, an in-memory memtable of recent spans, and immutable
// span parts (storage/embedded/span_part.h) in UTC day partitions, with background flushes,
// size-tiered merges and retention. Layout under the data directory:
//
//   <dir>/spans/wal/<seq>.wal              write-ahead log (docs/formats/wal.md; payload:
//                                          docs/formats/span_part.md "WAL record")
//   <dir>/spans/<YYYY-MM-DD>/<id>.sps      span parts of one UTC day (by span start)
//
// RED and service-map rollups are maintained in memory as spans are appended; each flush
// writes the rollup cells accumulated since the previous flush into the part it writes, so the
// rollups are rebuilt at start-up from the parts plus the WAL replay.
//
// Threads: callers' threads append and query; one background thread flushes, syncs the WAL,
// merges and applies retention. All public methods are thread-safe.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_SPAN_STORE_H_
#define SIGHTLINE_STORAGE_EMBEDDED_SPAN_STORE_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/rwlock.h"
#include "storage/embedded/span_part.h"
#include "storage/embedded/wal.h"
#include "storage/span_store.h"

namespace sightline::storage {

struct EmbeddedSpanStoreOptions {
  std::string dir = "./sightline-data";  // spans live in <dir>/spans
  FsyncPolicy wal_fsync = FsyncPolicy::kInterval;
  int64_t wal_sync_interval_ms = 200;
  int64_t flush_interval_ms = 5000;
  uint64_t memtable_bytes = 64ull << 20;
  int64_t retention_ns = 7 * kNsPerDay;  // 0 = keep forever
  size_t merge_min_parts = 4;
  uint64_t merge_max_spans = 2'000'000;
  size_t edge_window = 1 << 20;          // spans remembered for service-map edges (per generation)
  size_t max_rollup_services = 10'000;   // RED series limits (see RollupCardinality)
  size_t max_rollup_operations = 2'000;  // per service
  bool background = true;
  Clock* clock = Clock::Real();
};

class TopTraces;

class EmbeddedSpanStore : public SpanStore {
 public:
  // Opens or creates the store: validates every part, finishes interrupted merges, loads the
  // rollups and replays the WAL. Errors: IOError, Corruption (a part failed validation).
  static StatusOr<std::unique_ptr<EmbeddedSpanStore>> Open(const EmbeddedSpanStoreOptions& o);
  ~EmbeddedSpanStore() override;

  Status Append(std::vector<model::Span> spans) override;
  Status GetTrace(const model::TraceId& trace_id, int64_t min_ns, int64_t max_ns,
                  std::vector<model::Span>* out) override;
  Status SearchTraces(const SpanFilter& filter, size_t limit, std::vector<TraceHit>* out) override;
  void ReadRollups(int64_t start_ns, int64_t end_ns,
                   const std::function<bool(const RollupKey&)>& want, RollupMap* out) override;
  void ListRollupKeys(int64_t start_ns, int64_t end_ns,
                      const std::function<bool(const RollupKey&)>& want,
                      std::vector<RollupKey>* out) override;
  Status Flush() override;
  bool Writable() override;
  SpanStoreStats GetStats() override;

  // One round of merges now. Thread-safe.
  Status MergeNow();
  // Drops day partitions (and rollup minutes) older than the retention period. Thread-safe.
  Status ApplyRetention();
  // Flushes and stops background work; later Appends return Unavailable.
  Status Close();
  // Leaves the directory as a crash would (nothing flushed). For tests.
  void CloseWithoutFlushForTesting();
  const WalRecoveryReport& recovery_report() const { return recovery_; }

 private:
  using Chunk = std::shared_ptr<const std::vector<model::Span>>;
  struct PartEntry {
    uint64_t id;
    std::shared_ptr<const SpanPartReader> reader;
  };

  explicit EmbeddedSpanStore(const EmbeddedSpanStoreOptions& o)
      : opt_(o),
        edges_(o.edge_window),
        cardinality_(o.max_rollup_services, o.max_rollup_operations) {}
  Status LoadParts();
  std::string Root() const { return opt_.dir + "/spans"; }
  std::string PartPath(int64_t day, uint64_t id) const;
  // Adds spans to the memtable and the rollups. Caller holds mem_mu_.
  void InsertLocked(Chunk chunk, uint64_t bytes);
  // The canonical list equal to *r (r itself if new; its bytes are then added to *new_bytes).
  model::SharedAttributes Canonical(const model::SharedAttributes& r, uint64_t* new_bytes);
  // Merges one group of parts of `day` if there is one (*merged says whether it did).
  Status MergeDay(int64_t day, bool* merged);
  std::vector<PartEntry> PickMerge(const std::vector<PartEntry>& day_parts) const;
  void MergeLoop();
  // Writes one flushed part and publishes it; *id gets its id.
  Status WriteSortedPart(int64_t day, std::vector<const model::Span*> spans,
                         const RollupMap& rollups, uint64_t wal_seq, uint64_t* id);
  // Search through one part's search index (service `svc`, or all if UINT32_MAX; operation
  // `name` or any if UINT32_MAX).
  Status SearchPartIndex(const SpanPartReader& p, const SpanFilter& filter, uint32_t svc,
                         uint32_t name, size_t limit, TopTraces* top);
  void Snapshot(std::vector<std::shared_ptr<const SpanPartReader>>* parts,
                std::vector<Chunk>* chunks);
  void BackgroundLoop();
  // Marks the store closed and joins its threads; false if it was already closed.
  bool StopBackground();

  const EmbeddedSpanStoreOptions opt_;
  std::unique_ptr<Wal> wal_;
  WalRecoveryReport recovery_;

  WriterPriorityRwLock append_mu_;  // as in EmbeddedLogStore: shared by appends, exclusive by flush
  std::mutex flush_mu_;
  std::mutex merge_mu_;

  mutable std::mutex mem_mu_;
  std::condition_variable mem_cv_;
  std::vector<Chunk> mem_, flushing_;
  uint64_t mem_bytes_ = 0, flushing_bytes_ = 0, mem_spans_ = 0;
  int64_t mem_since_ns_ = 0;       // when the oldest unflushed span arrived
  RollupMap rollups_;              // everything queryable, guarded by mem_mu_
  RollupMap rollup_delta_;         // accumulated since the last flush, guarded by mem_mu_
  EdgeResolver edges_;             // guarded by mem_mu_
  RollupCardinality cardinality_;  // guarded by mem_mu_
  // One canonical copy of each distinct resource attribute list: spans of every request from
  // one service share it (memory, and one resource-table entry per part block).
  std::mutex resources_mu_;
  std::unordered_map<std::string, model::SharedAttributes> resources_;

  mutable std::mutex parts_mu_;
  std::map<int64_t, std::vector<PartEntry>> parts_;
  uint64_t next_part_id_ = 1;
  uint64_t wal_covered_ = 0;  // highest wal_seq recorded in a part (guarded by parts_mu_)
  std::atomic<uint64_t> blocks_read_{0};

  std::atomic<bool> closed_{false};
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
  std::thread bg_;
  std::thread merge_thread_;  // merges run apart from flushes and WAL syncs
};

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_SPAN_STORE_H_
