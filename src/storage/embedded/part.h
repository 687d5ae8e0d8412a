// Immutable columnar parts: the on-disk unit of the embedded log store.
// Format (byte by byte): docs/formats/part.md.
//
// A part holds the rows of one day partition, sorted by (service, ts), cut into blocks of up
// to PartWriterOptions::block_rows rows. Each block stores each column separately
// (zstd-compressed), a token bloom filter over message text and string field values, and
// min/max time; the part has an exact trace_id index and a footer with checksums. Parts are
// written to a temporary name, fsynced and renamed into place, so a part file either exists
// complete or not at all.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_PART_H_
#define SIGHTLINE_STORAGE_EMBEDDED_PART_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/status.h"
#include "model/log_record.h"
#include "storage/log_scan.h"
#include "storage/store.h"

namespace sightline::storage {

inline constexpr uint32_t kPartFormatVersion = 4;
// Version 3 parts (no wal_seq in the meta) are still read.
inline constexpr uint32_t kOldestPartFormatVersion = 3;

enum ColumnId : uint32_t {
  kColTs = 1,
  kColObserved = 2,
  kColLevel = 3,
  kColSeverity = 4,
  kColService = 5,
  kColEnv = 6,
  kColHost = 7,
  kColBody = 8,
  kColTrace = 9,
  kColSpan = 10,
  kColAttrBase = 64,  // attribute column for key id k is kColAttrBase + k
};

struct ColumnMeta {
  uint32_t id = 0;
  uint64_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  uint8_t codec = 0;  // 0 raw, 1 zstd
  uint32_t crc = 0;   // CRC-32 of the stored bytes
};

struct BlockMeta {
  uint32_t rows = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  uint8_t level_mask = 0;           // bit L set if a row has Level L
  std::vector<uint32_t> services;   // service dictionary ids present, ascending
  std::vector<ColumnMeta> columns;  // ascending by id
  // Two filters stored back to back: tokens of the bodies (first body_bloom_len bytes), then
  // tokens of string field values. bloom_crc covers both.
  uint64_t bloom_offset = 0;
  uint32_t bloom_len = 0;
  uint32_t body_bloom_len = 0;
  uint32_t bloom_crc = 0;
};

// The trace index keys on the first 8 bytes of a trace id: enough to make a false match
// vanishingly rare (and harmless: rows are still compared in full), at 12 bytes an entry.
inline constexpr size_t kTraceKeyBytes = 8;
struct TraceIndexPage {
  std::array<uint8_t, kTraceKeyBytes> first{};
  uint64_t offset = 0;
  uint32_t count = 0;  // entries of 12 bytes (8-byte key + u32 block), after a u32 CRC
};

struct PartMeta {
  uint64_t rows = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  std::vector<std::string> services, envs, hosts, keys;  // dictionaries
  std::vector<BlockMeta> blocks;
  std::vector<TraceIndexPage> trace_pages;
  // Ids of the parts this part replaces (a merge's inputs). On open, the store deletes any
  // that still exist, which makes a merge atomic: see docs/formats/part.md.
  std::vector<uint64_t> replaces;
  // Every record of WAL segments numbered below this is in this or an earlier part (0: says
  // nothing). The store deletes such segments at open instead of replaying them twice.
  uint64_t wal_seq = 0;
};

struct PartWriterOptions {
  size_t block_rows = 16384;
  // A block also ends once its rows hold this many bytes of text (bodies and string
  // attributes): a reader and a merge decode whole blocks, so this bounds their memory when
  // rows are large (stored error events are ~7 KB each).
  size_t block_bytes = 8 << 20;
  int zstd_level = 3;
  int bloom_bits_per_key = 10;
};

// Writes `rows` (any order; sorted here) as a part at `path` (via path.tmp + rename + dir
// fsync). The pointers must stay valid during the call. Errors: IOError.
StatusOr<PartMeta> WritePart(const std::string& path, std::vector<const model::LogRecord*> rows,
                             const PartWriterOptions& options,
                             const std::vector<uint64_t>& replaces = {}, uint64_t wal_seq = 0);

class PartReader;

// Merges parts (each sorted by (service, ts)) into a new part at `path`, block by block: memory
// holds one decoded block per input plus one output block, whatever the parts' sizes.
// `replaces` is recorded in the new part (see PartMeta::replaces). Errors: IOError,
// Corruption from the inputs.
StatusOr<PartMeta> MergeParts(const std::string& path,
                              const std::vector<std::shared_ptr<const PartReader>>& inputs,
                              const PartWriterOptions& options,
                              const std::vector<uint64_t>& replaces, uint64_t wal_seq = 0);

// Read access to one part. Thread-safe after Open (all methods are const and use pread).
class PartReader {
 public:
  // Opens and validates magic, version, footer and meta checksum. Errors: IOError,
  // Corruption (with the file name and what failed).
  static StatusOr<std::shared_ptr<PartReader>> Open(const std::string& path);

  const PartMeta& meta() const { return meta_; }
  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }

  // Appends the indexes of blocks that may hold rows matching `spec`, pruning by time,
  // service, level, the trace index and bloom filters (reads blooms/index pages).
  Status Plan(const LogScanSpec& spec, std::vector<uint32_t>* blocks, ScanStats* stats) const;
  // Decodes block `b` and appends the rows matching `spec` exactly.
  Status ReadBlock(uint32_t b, const LogScanSpec& spec, std::vector<model::LogRecord>* out,
                   ScanStats* stats) const;
  // Appends (ts, group key) of the rows of block `b` matching `spec` (see LogStore::
  // ReadBlockKeys). Works on the dictionary-coded columns directly when the spec only
  // involves built-in dictionary fields; otherwise falls back to ReadBlock.
  Status ReadBlockKeys(uint32_t b, const LogScanSpec& spec, uint8_t key_mask, KeyedRows* out,
                       ScanStats* stats) const;
  // Appends every row of the part, all columns (used by merges and tests).
  Status ReadAll(std::vector<model::LogRecord>* out) const;

 private:
  explicit PartReader(std::unique_ptr<RandomAccessFile> f) : file_(std::move(f)) {}
  Status LoadMeta();
  Status ReadColumn(const ColumnMeta& c, std::string* raw, ScanStats* stats) const;
  Status LookupTrace(const model::TraceId& id, std::vector<uint32_t>* blocks) const;
  // Reads and checks block b's filters; *body and *fields view into *buf.
  Status ReadBlooms(const BlockMeta& bm, std::string* buf, std::string_view* body,
                    std::string_view* fields) const;

  std::unique_ptr<RandomAccessFile> file_;
  PartMeta meta_;
};

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_PART_H_
