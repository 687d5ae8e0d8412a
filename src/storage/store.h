// The storage interface for log records. The embedded implementation
// (storage/embedded/log_store.h) is the default; a ClickHouse implementation executes the
// same LogScanSpec later. Query code (query/) depends only on this header.
//
// Execution model: PlanScan() prunes and returns candidate blocks, each with its time range,
// so the caller can order them (newest first), read them in parallel and stop early once a
// limit is satisfied; ReadBlock() returns the rows of one block that match the spec exactly.
#ifndef SIGHTLINE_STORAGE_STORE_H_
#define SIGHTLINE_STORAGE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/log_record.h"
#include "storage/log_scan.h"

namespace sightline::storage {

class PartReader;


// A candidate block. Holds references that keep its data alive (a merged-away part stays
// readable while a query holds its BlockRef).
struct BlockRef {
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  uint32_t rows = 0;
  std::shared_ptr<const PartReader> part;                     // on-disk block, or
  uint32_t block = 0;
  std::shared_ptr<const std::vector<model::LogRecord>> mem;   // in-memory chunk
};

struct StoreStats {
  uint64_t parts = 0;
  uint64_t partitions = 0;
  uint64_t part_bytes = 0;
  uint64_t part_rows = 0;
  uint64_t memtable_rows = 0;
  uint64_t memtable_bytes = 0;
  uint64_t wal_bytes = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
};

class LogStore {
 public:
  virtual ~LogStore() = default;

  // Durably appends `records` (per the WAL fsync policy) and makes them visible to queries.
  // On OK every record is acknowledged: it survives a crash of the process. Thread-safe.
  // Errors: Unavailable (store closed or WAL failed), IOError.
  virtual Status Append(std::vector<model::LogRecord> records) = 0;

  // Appends the candidate blocks for `spec` to *blocks (any order). Thread-safe.
  virtual Status PlanScan(const LogScanSpec& spec, std::vector<BlockRef>* blocks,
                          ScanStats* stats) = 0;
  // Appends the rows of `block` that match `spec` exactly to *out. Thread-safe.
  // Errors: Corruption (checksum failures name the file), IOError.
  virtual Status ReadBlock(const BlockRef& block, const LogScanSpec& spec,
                           std::vector<model::LogRecord>* out, ScanStats* stats) = 0;

  // Like ReadBlock, but returns only the time and the group key (over the fields in
  // `key_mask`, a KeyField bit set) of each matching row, without materializing records.
  // Thread-safe. Errors as ReadBlock.
  virtual Status ReadBlockKeys(const BlockRef& block, const LogScanSpec& spec, uint8_t key_mask,
                               KeyedRows* out, ScanStats* stats) = 0;

  // Writes everything buffered in memory to parts now. Thread-safe.
  virtual Status Flush() = 0;
  // True when the store accepts writes (open and the WAL healthy).
  virtual bool Writable() = 0;
  virtual StoreStats GetStats() = 0;
};

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_STORE_H_
